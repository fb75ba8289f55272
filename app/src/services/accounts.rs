//! Console administrators: creating them, and signing in. Passwords are argon2id hashes made
//! and checked off the async runtime. Five failed sign-ins in a row as one e-mail address lock
//! it for a quarter of an hour, whether or not an administrator has it; an unknown address
//! costs the same work as a wrong password, so neither the answers nor their timing reveal
//! which accounts exist. A browser that has signed in as an address before (a device cookie,
//! OWASP's defence against lockout) counts its failures on its own instead, so an outsider
//! who keeps the address locked does not lock its administrator out. Each sign-in, refusal, lock, new administrator and new password is
//! recorded in the administrators' activity ([`super::activity`]).

use std::net::IpAddr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use chrono::Duration;
use tokio::sync::SemaphorePermit;

use super::ServiceError;
use crate::clock::Clock;
use crate::domain::account::{AdminUser, Administrator, MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, is_email, normalise_email};
use crate::domain::activity::{AdministratorEventType, COMMAND_LINE_ACTOR, NewAdministratorEvent, SERVER_START_ACTOR};
use crate::domain::workspace::SettingsError;
use crate::secrets::{self, Secret};
use crate::state::AppState;
use crate::storage::{Store, StoreError};

const MAX_FAILED_SIGN_INS: i32 = 5;
const LOCK_DURATION: Duration = Duration::minutes(15);
/// How long failed sign-ins are counted after the last attempt.
const ATTEMPTS_REMEMBERED: Duration = Duration::days(1);

/// How long a device stays trusted after its last successful sign-in.
pub const DEVICE_TRUST: Duration = Duration::days(30);

/// Where a sign-in comes from: the caller's address (for its rate), and the device tokens its
/// browser holds from earlier sign-ins (one, unless a cookie was planted beside it).
#[derive(Debug, Clone, Default)]
pub struct SignInFrom {
    pub address: Option<IpAddr>,
    pub devices: Vec<Secret>,
}

/// A successful sign-in: who, the mark of the password used ([`password_mark`]), which the
/// session keeps, and the token the browser is trusted by from now on (the one it brought, or
/// a new one), for [`DEVICE_TRUST`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub administrator: Administrator,
    pub password_mark: String,
    pub device: Secret,
}

/// What a sign-in's attempts are counted against: the e-mail address, or a device trusted for
/// it (with its lock, if it ever had one).
enum Counter<'a> {
    Address(&'a str),
    Device { token: Secret, token_hash: String, locked_until: Option<i64> },
}

impl Counter<'_> {
    /// The first device `from` brings that is trusted for `email` at `now`; else the address.
    async fn of<'a>(store: &dyn Store, from: &SignInFrom, email: &'a str, now: i64) -> Result<Counter<'a>, StoreError> {
        for token in &from.devices {
            let token_hash = token.hash().as_str().to_owned();
            let used_since = now - DEVICE_TRUST.num_seconds();
            if let Some(locked_until) = store.trusted_device(&token_hash, email, used_since).await? {
                return Ok(Counter::Device { token: token.clone(), token_hash, locked_until });
            }
        }
        Ok(Counter::Address(email))
    }

    async fn locked_until(&self, store: &dyn Store, now: i64) -> Result<Option<i64>, StoreError> {
        match self {
            Self::Address(email) => store.sign_in_locked_until(email, now).await,
            Self::Device { locked_until, .. } => Ok(locked_until.filter(|until| *until > now)),
        }
    }

    /// Counts an attempt; `None` while locked.
    async fn count(&self, store: &dyn Store, now: i64) -> Result<Option<i32>, StoreError> {
        match self {
            Self::Address(email) => store.count_sign_in_attempt(email, now).await,
            Self::Device { token_hash, .. } => store.count_device_attempt(token_hash, now).await,
        }
    }

    async fn lock(&self, store: &dyn Store, until: i64) -> Result<(), StoreError> {
        match self {
            Self::Address(email) => store.lock_sign_in(email, until).await,
            Self::Device { token_hash, .. } => store.lock_device(token_hash, until).await,
        }
    }

    /// After `user`'s right password: the count forgotten, and the device trusted from now on
    /// (the address's own count is forgotten too).
    async fn succeeded(&self, store: &dyn Store, user: &AdminUser, now: i64) -> Result<Secret, StoreError> {
        store.clear_sign_in_attempts(&user.email).await?;
        if let Self::Device { token, token_hash, .. } = self {
            store.clear_device_attempts(token_hash, now).await?;
            return Ok(token.clone());
        }
        let device = Secret::generate();
        // Not trusted if the password changed meanwhile: the cookie is then one more token
        // that counts for nothing.
        store.trust_device(device.hash().as_str(), &user.email, &user.password_hash, now).await?;
        Ok(device)
    }

    /// What the activity calls a lock of this counter.
    fn lock_event(&self) -> AdministratorEventType {
        match self {
            Self::Address(_) => AdministratorEventType::SignInLocked,
            Self::Device { .. } => AdministratorEventType::BrowserLocked,
        }
    }

    fn what(&self) -> &'static str {
        match self {
            Self::Address(_) => "the address",
            Self::Device { .. } => "a browser trusted by an earlier sign-in",
        }
    }
}

/// A mark of an administrator's current password, kept in their sessions: a new password
/// changes it, and a session whose mark is not the current one is signed out. It is a hash of
/// the password's argon2 hash, so a session holds nothing a guessed password can be checked
/// against.
fn password_mark(password_hash: &str) -> String {
    Secret::from_given(password_hash.to_owned()).hash().as_str().to_owned()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    #[error("the e-mail address or password is not right")]
    Invalid,
    #[error("too many failed sign-ins: try again in {minutes} minute(s)")]
    Locked { minutes: i64 },
    #[error("too many sign-ins from this address: try again in {seconds} second(s)")]
    TooFrequent { seconds: u64 },
    #[error("sign-in is unavailable: {0}")]
    Internal(String),
}

/// Creates an administrator, made by `actor` ([`COMMAND_LINE_ACTOR`], [`SERVER_START_ACTOR`]).
/// Needs only the database (and a clock), so `onboard admin create-user` does not depend on what
/// a server needs to start.
pub async fn create_administrator(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &str,
    email: &str,
    password: &str,
) -> Result<Administrator, ServiceError> {
    if !is_email(email) {
        return Err(SettingsError::new("email", "is not an e-mail address").into());
    }
    let password_hash = acceptable_password_hash("password", password).await?;
    let now = clock.now();
    let user = AdminUser { id: secrets::new_time_ordered_id(now), email: normalise_email(email), password_hash, created_at: now };
    match store.insert_admin_user(&user).await {
        Ok(()) => {
            let created = NewAdministratorEvent::new(AdministratorEventType::AdministratorCreated, Some(&user.email), now);
            super::activity::record(store, &created.by(actor)).await;
            Ok(Administrator { id: user.id, email: user.email })
        }
        Err(StoreError::Conflict) => Err(ServiceError::Conflict(format!("an administrator {} exists already", user.email))),
        Err(other) => Err(other.into()),
    }
}

/// Gives the administrator with `email` a new password (`onboard admin set-password`): every
/// session signed in with the old one ends at its next request, the address's failed sign-ins
/// and lock are forgotten, and so are the browsers trusted by sign-ins with the old one.
pub async fn set_password(store: &dyn Store, clock: &dyn Clock, email: &str, password: &str) -> Result<(), ServiceError> {
    let email = normalise_email(email);
    let password_hash = acceptable_password_hash("password", password).await?;
    let changed = NewAdministratorEvent::new(AdministratorEventType::PasswordChanged, Some(&email), clock.now());
    match store.set_admin_password(&email, &password_hash, None).await {
        Ok(()) => {
            after_new_password(store, &email, &changed.by(COMMAND_LINE_ACTOR)).await;
            Ok(())
        }
        Err(StoreError::NotFound) => Err(ServiceError::NotFound("administrator")),
        Err(other) => Err(other.into()),
    }
}

/// Why an administrator's own password was not changed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordChangeError {
    /// The current password was not right, or could not be checked now (held off by a lock or
    /// the caller's rate).
    #[error(transparent)]
    Current(#[from] SignInError),
    /// The new one is not acceptable (the field says why), the password was changed elsewhere
    /// meanwhile (a conflict), or saving it failed.
    #[error(transparent)]
    New(#[from] ServiceError),
}

/// The signed-in `administrator` replaces their own password, proving it with the `current`
/// one. That proof is a sign-in attempt like any other (counted, locked, held off by the
/// caller's rate, a trusted browser counted on its own), so a stolen session cannot guess the
/// password here faster than at the sign-in page; nothing is hashed before it passes. The new
/// password replaces only the one just checked: a change made meanwhile (`onboard admin
/// set-password`, another tab) is not overwritten. Then as [`set_password`]: every session of
/// the old password ends, and the browsers it trusted are forgotten; this browser is trusted
/// afresh, and the returned sign-in (with the new password's mark) keeps this session. Every
/// answer is counted in `/metrics` by its outcome.
pub async fn change_own_password(
    state: &AppState,
    administrator: &Administrator,
    from: &SignInFrom,
    current: &str,
    new: &str,
) -> Result<SignedIn, PasswordChangeError> {
    let answer = checked_password_change(state, administrator, from, current, new).await;
    state.metrics.console_password_change(match &answer {
        Ok(_) => "changed",
        Err(PasswordChangeError::Current(SignInError::Invalid)) => "refused",
        Err(PasswordChangeError::Current(SignInError::Locked { .. })) => "locked",
        Err(PasswordChangeError::Current(SignInError::TooFrequent { .. })) => "throttled",
        Err(PasswordChangeError::New(ServiceError::Invalid(_) | ServiceError::Conflict(_))) => "rejected",
        Err(_) => "error",
    });
    answer
}

/// [`change_own_password`], uncounted.
async fn checked_password_change(
    state: &AppState,
    administrator: &Administrator,
    from: &SignInFrom,
    current: &str,
    new: &str,
) -> Result<SignedIn, PasswordChangeError> {
    if new == current {
        return Err(ServiceError::from(SettingsError::new("new_password", "is the current password; choose another")).into());
    }
    acceptable_password("new_password", new).map_err(ServiceError::from)?;
    let checked = checked_sign_in(state, from, &administrator.email, current).await?;
    let password_hash = hash(new.to_owned()).await.map_err(ServiceError::Internal)?;
    let (store, now) = (state.store.as_ref(), state.clock.now());
    match store.set_admin_password(&administrator.email, &password_hash, Some(&checked.password_hash)).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => {
            return Err(ServiceError::Conflict("your password was changed meanwhile; sign in again".to_owned()).into());
        }
        Err(other) => return Err(ServiceError::from(other).into()),
    }
    let changed = NewAdministratorEvent::new(AdministratorEventType::PasswordChanged, Some(&administrator.email), now);
    after_new_password(store, &administrator.email, &changed.from_address(from.address)).await;
    let device = Secret::generate();
    if let Err(error) = store.trust_device(device.hash().as_str(), &administrator.email, &password_hash, now.timestamp()).await {
        tracing::warn!(%error, "a new password was set, but the browser it was set from could not be trusted");
    }
    Ok(SignedIn { administrator: administrator.clone(), password_mark: password_mark(&password_hash), device })
}

/// What follows a new password of `email`, once it is stored: `changed` recorded, the address's
/// failed sign-ins and trusted browsers forgotten. The password stands whatever happens here,
/// so a failure is logged, not returned as the change's.
async fn after_new_password(store: &dyn Store, email: &str, changed: &NewAdministratorEvent) {
    super::activity::record(store, changed).await;
    if let Err(error) = store.forget_devices(email).await {
        tracing::error!(%error, %email, "a new password was set, but the browsers the old one trusted could not be forgotten");
    }
    if let Err(error) = store.clear_sign_in_attempts(email).await {
        tracing::warn!(%error, %email, "a new password was set, but the address's failed sign-ins could not be forgotten");
    }
}

/// Refuses a new password too short (or absurdly long); `field` names it in the refusal.
fn acceptable_password(field: &str, password: &str) -> Result<(), SettingsError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(SettingsError::new(field, format!("must be at least {MIN_PASSWORD_CHARS} characters")));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(SettingsError::new(field, format!("must be at most {MAX_PASSWORD_BYTES} bytes")));
    }
    Ok(())
}

/// The hash of an acceptable new password ([`acceptable_password`]).
async fn acceptable_password_hash(field: &str, password: &str) -> Result<String, ServiceError> {
    acceptable_password(field, password)?;
    hash(password.to_owned()).await.map_err(ServiceError::Internal)
}

/// Creates the administrator unless one with this e-mail exists (for `--admin-email`).
pub async fn ensure_administrator(state: &AppState, email: &str, password: &str) -> Result<(), ServiceError> {
    match create_administrator(state.store.as_ref(), state.clock.as_ref(), SERVER_START_ACTOR, email, password).await {
        Ok(_) | Err(ServiceError::Conflict(_)) => Ok(()),
        Err(other) => Err(other),
    }
}

/// Checks an e-mail address and password. Each attempt is counted before the password is
/// checked, so parallel guesses cannot get past the limit, and counted against the address as
/// typed whether or not an administrator has it: an unknown address is locked after as many
/// failures as a known one, so neither the answer nor its timing says which addresses exist.
/// Before all that, the `caller`'s own rate ([`crate::services::sign_in_rate`]). Every answer
/// is counted in `/metrics` by its outcome. The administrators' activity records each sign-in,
/// and each refusal and lock of an administrator's address or trusted browser; not those of
/// addresses no administrator has, nor attempts held off by a lock or by the caller's rate,
/// which anyone could send without end.
pub async fn sign_in(state: &AppState, from: &SignInFrom, email: &str, password: &str) -> Result<SignedIn, SignInError> {
    let answer = checked_sign_in(state, from, email, password).await.map(|checked| checked.signed_in);
    if let Ok(signed_in) = &answer {
        let event =
            NewAdministratorEvent::new(AdministratorEventType::SignedIn, Some(&signed_in.administrator.email), state.clock.now());
        super::activity::record(state.store.as_ref(), &event.from_address(from.address)).await;
    }
    state.metrics.console_sign_in(match &answer {
        Ok(_) => "signed_in",
        Err(SignInError::Invalid) => "refused",
        Err(SignInError::Locked { .. }) => "locked",
        Err(SignInError::TooFrequent { .. }) => "throttled",
        Err(SignInError::Internal(_)) => "error",
    });
    answer
}

/// A password checked: the sign-in it makes, and the hash it was checked against.
struct Checked {
    signed_in: SignedIn,
    password_hash: String,
}

/// [`sign_in`], uncounted.
async fn checked_sign_in(state: &AppState, from: &SignInFrom, email: &str, password: &str) -> Result<Checked, SignInError> {
    let internal = |e: StoreError| SignInError::Internal(e.to_string());
    if let Some(Err(wait)) = from.address.map(|address| state.sign_in_rate.check(address)) {
        return Err(SignInError::TooFrequent { seconds: wait.as_secs() + u64::from(wait.subsec_nanos() > 0) });
    }
    let email = normalise_email(email);
    if password.len() > MAX_PASSWORD_BYTES || !is_email(&email) {
        // No administrator can have it (they are made with an e-mail address): nothing to count.
        return Err(SignInError::Invalid);
    }
    // Held from before anything is written (a flood of sign-ins waits here, so it writes no
    // faster than passwords are checked) until the password's hash is done, however the request
    // ends meanwhile.
    let permit = HASHING.acquire().await.map_err(|e| SignInError::Internal(e.to_string()))?;
    let (store, now) = (state.store.as_ref(), state.clock.now().timestamp());
    let counter = Counter::of(store, from, &email, now).await.map_err(internal)?;
    if let Some(until) = counter.locked_until(store, now).await.map_err(internal)? {
        return Err(SignInError::Locked { minutes: (until - now + 59) / 60 });
    }
    let Some(attempt) = counter.count(store, now).await.map_err(internal)? else {
        // Locked by a parallel guess since the lock was looked up.
        return Err(SignInError::Locked { minutes: LOCK_DURATION.num_minutes() });
    };
    let lock = || async {
        counter.lock(store, now + LOCK_DURATION.num_seconds()).await.map_err(internal)?;
        tracing::warn!(%email, caller = ?from.address, what = counter.what(), "console sign-in locked after repeated failures");
        Err(SignInError::Locked { minutes: LOCK_DURATION.num_minutes() })
    };
    if attempt > MAX_FAILED_SIGN_INS {
        // Counted by a parallel guess before another locked it: locked again, not recorded again.
        return lock().await;
    }
    let user = store.admin_user_by_email(&email).await.map_err(internal)?;
    let an_administrators = user.is_some();
    let signed_in = if let Some(user) = user {
        verify_holding(permit, password.to_owned(), user.password_hash.clone()).await.then_some(user)
    } else {
        // The same work as a wrong password, so the answer's timing says nothing.
        let _ = hash_holding(permit, password.to_owned()).await;
        None
    };
    if let Some(user) = signed_in {
        let device = counter.succeeded(store, &user, now).await.map_err(internal)?;
        let password_mark = password_mark(&user.password_hash);
        let signed_in = SignedIn { administrator: Administrator { id: user.id, email: user.email }, password_mark, device };
        return Ok(Checked { signed_in, password_hash: user.password_hash });
    }
    if an_administrators {
        let refusal = if attempt == MAX_FAILED_SIGN_INS { counter.lock_event() } else { AdministratorEventType::SignInRefused };
        let event = NewAdministratorEvent::new(refusal, Some(&email), state.clock.now()).from_address(from.address);
        record_off_the_request(state, event);
    }
    if attempt == MAX_FAILED_SIGN_INS {
        return lock().await;
    }
    // Only an address that is one (a password typed in its place is never logged).
    tracing::info!(%email, caller = ?from.address, attempt, "console sign-in refused: wrong e-mail address or password");
    Err(SignInError::Invalid)
}

/// Records `event` (a refusal of an administrator's address) in the background, so the answer
/// takes no longer for an address with an account than for one without, which records nothing.
fn record_off_the_request(state: &AppState, event: NewAdministratorEvent) {
    let store = state.store.clone();
    tokio::spawn(async move { super::activity::record(store.as_ref(), &event).await });
}

/// Forgets the sign-in attempts of about `batch` addresses with none for a day (and no lock in
/// force); returns how many.
pub async fn forget_old_sign_in_attempts(state: &AppState, batch: u64) -> Result<u64, StoreError> {
    let now = state.clock.now().timestamp();
    state.store.purge_sign_in_attempts(now, now - ATTEMPTS_REMEMBERED.num_seconds(), batch).await
}

/// Forgets about `batch` devices not signed in from for [`DEVICE_TRUST`] (and not locked);
/// returns how many.
pub async fn forget_untrusted_devices(state: &AppState, batch: u64) -> Result<u64, StoreError> {
    let now = state.clock.now().timestamp();
    state.store.purge_unused_devices(now, now - DEVICE_TRUST.num_seconds(), batch).await
}

/// Records that `administrator` signed out of the console, from `caller`.
pub async fn signed_out(state: &AppState, administrator: &Administrator, caller: Option<IpAddr>) {
    let event = NewAdministratorEvent::new(AdministratorEventType::SignedOut, Some(&administrator.email), state.clock.now());
    super::activity::record(state.store.as_ref(), &event.from_address(caller)).await;
}

/// The administrator a session names, if the account still exists and its password is still
/// the one the session was signed in with.
pub async fn administrator(state: &AppState, id: &str, signed_in_with: &str) -> Result<Option<Administrator>, ServiceError> {
    let user = state.store.admin_user_by_id(id).await?.filter(|user| password_mark(&user.password_hash) == signed_in_with);
    Ok(user.map(|user| Administrator { id: user.id, email: user.email }))
}

/// At most this many argon2 computations at once (each takes 19 MiB): a flood of sign-ins
/// waits instead of exhausting memory.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

async fn hash(password: String) -> Result<String, String> {
    let permit = HASHING.acquire().await.map_err(|e| e.to_string())?;
    hash_holding(permit, password).await
}

/// Hashes a password, releasing the [`HASHING`] permit when the hash is done (on its thread,
/// so not before, even if the caller stops waiting).
async fn hash_holding(permit: SemaphorePermit<'static>, password: String) -> Result<String, String> {
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
async fn verify_holding(permit: SemaphorePermit<'static>, password: String, stored: String) -> bool {
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
