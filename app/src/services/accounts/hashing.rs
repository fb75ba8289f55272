//! argon2id hashing and checking of passwords, off the async runtime and a few at a time.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use tokio::sync::SemaphorePermit;

use crate::secrets;

/// At most this many argon2 computations at once (each takes 19 MiB): a flood of sign-ins
/// waits instead of exhausting memory.
pub(super) static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

pub(super) async fn hash(password: String) -> Result<String, String> {
    let permit = HASHING.acquire().await.map_err(|e| e.to_string())?;
    hash_holding(permit, password).await
}

/// Hashes a password, releasing the [`HASHING`] permit when the hash is done (on its thread,
/// so not before, even if the caller stops waiting).
pub(super) async fn hash_holding(permit: SemaphorePermit<'static>, password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let salt = SaltString::encode_b64(&secrets::random_salt()).map_err(|e| e.to_string())?;
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|hash| hash.to_string()).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Checks a password against its stored hash, releasing the [`HASHING`] permit when done. A
/// check that could not run (its thread panicked) fails closed, and says so in the log.
pub(super) async fn verify_holding(permit: SemaphorePermit<'static>, password: String, stored: String) -> bool {
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        PasswordHash::new(&stored).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .unwrap_or_else(|error| {
        tracing::error!(%error, "a password check could not run; the sign-in is refused");
        false
    })
}
