//! Administrators' passwords: replaced on the command line (`onboard admin set-password`) or by
//! the administrator themselves, who proves the current one first.

use super::hashing::hash;
use super::password_mark;
use super::sign_in::{Purpose, SecondStep, SignInError, SignInFrom, SignedIn, checked_sign_in};
use crate::clock::Clock;
use crate::domain::account::{Administrator, MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, normalise_email};
use crate::domain::activity::{AdministratorEventType, COMMAND_LINE_ACTOR, NewAdministratorEvent};
use crate::domain::workspace::SettingsError;
use crate::secrets::Secret;
use crate::services::{ServiceError, activity};
use crate::state::AppState;
use crate::storage::{Store, StoreError};

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
    /// The current password (or, with two-step sign-in on, the code) was not right, or could
    /// not be checked now (held off by a lock or the caller's rate).
    #[error(transparent)]
    Current(#[from] SignInError),
    /// The new one is not acceptable (the field says why), the password was changed elsewhere
    /// meanwhile (a conflict), or saving it failed.
    #[error(transparent)]
    New(#[from] ServiceError),
}

/// The signed-in `administrator` replaces their own password, proving it with the `current`
/// one and, if they sign in in two steps, a `code` (from their app, or a recovery code). That
/// proof is a sign-in attempt like any other (counted, locked, held off by the caller's rate,
/// a trusted browser counted on its own), so a stolen session cannot guess the password here
/// faster than at the sign-in page, nor change it without the second step; nothing is hashed
/// before it passes. The new
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
    code: Option<&str>,
    new: &str,
) -> Result<SignedIn, PasswordChangeError> {
    let answer = checked_password_change(state, administrator, from, current, code, new).await;
    state.metrics.console_password_change(match &answer {
        Ok(_) => "changed",
        Err(PasswordChangeError::Current(SignInError::Invalid | SignInError::CodeNeeded | SignInError::WrongCode)) => "refused",
        Err(PasswordChangeError::Current(SignInError::TwoStepBlocked | SignInError::Locked { .. })) => "locked",
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
    code: Option<&str>,
    new: &str,
) -> Result<SignedIn, PasswordChangeError> {
    if new == current {
        return Err(ServiceError::from(SettingsError::new("new_password", "is the current password; choose another")).into());
    }
    acceptable_password("new_password", new).map_err(ServiceError::from)?;
    // The code is checked now, not taken from the session's sign-in: one made with the password
    // alone just before two-step sign-in was turned on gets no session by a new password.
    let checked =
        checked_sign_in(state, from, &administrator.email, current, SecondStep::Code(code), Purpose::PasswordChange).await?;
    let passed_two_step = checked.signed_in.passed_two_step;
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
    Ok(SignedIn { administrator: administrator.clone(), password_mark: password_mark(&password_hash), passed_two_step, device })
}

/// What follows a new password of `email`, once it is stored: `changed` recorded, the address's
/// failed sign-ins and trusted browsers forgotten. The password stands whatever happens here,
/// so a failure is logged, not returned as the change's.
async fn after_new_password(store: &dyn Store, email: &str, changed: &NewAdministratorEvent) {
    activity::record(store, changed).await;
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
pub(super) async fn acceptable_password_hash(field: &str, password: &str) -> Result<String, ServiceError> {
    acceptable_password(field, password)?;
    hash(password.to_owned()).await.map_err(ServiceError::Internal)
}
