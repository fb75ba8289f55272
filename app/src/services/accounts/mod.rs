//! Console administrators: creating them, signing in (`sign_in`), their sessions (`sessions`),
//! their passwords (`passwords`) and the list of them (`roster`). Passwords are argon2id hashes made and checked off the
//! async runtime (`hashing`). Each sign-in, refusal, lock, new administrator and new password is recorded
//! in the administrators' activity ([`super::activity`]).

mod hashing;
mod passwords;
mod roster;
mod sessions;
mod sign_in;
mod two_step;

use super::ServiceError;
use crate::clock::Clock;
use crate::domain::account::{AdminUser, Administrator, is_email, normalise_email};
use crate::domain::activity::{AdministratorEventType, NewAdministratorEvent, SERVER_START_ACTOR};
use crate::domain::workspace::SettingsError;
use crate::secrets::{self, Secret};
use crate::state::AppState;
use crate::storage::{Store, StoreError};

pub use passwords::{PasswordChangeError, change_own_password, set_password};
pub use roster::administrators;
pub use sessions::{
    ConfirmedPassword, OpenSessionError, SIGN_IN_LIFETIME, SessionClient, SessionSignIn, confirm_password, end_other_sessions,
    end_session, forget_ended_sessions, forget_sign_in, open_session, own_sessions, session_administrator, session_time_left,
    sign_out_everywhere, signed_out,
};
pub use sign_in::{
    DEVICE_TRUST, SignInError, SignInFrom, SignedIn, forget_old_sign_in_attempts, forget_untrusted_devices, sign_in,
};
pub use two_step::{
    PendingTwoStep, TwoStepChangeError, disable_two_step, enable_two_step, must_set_up_two_step, new_two_step_setup,
    replace_recovery_codes, reset_two_step, two_step_status,
};

use passwords::acceptable_password_hash;

/// Creates an administrator, made by `actor`
/// ([`COMMAND_LINE_ACTOR`](crate::domain::activity::COMMAND_LINE_ACTOR), [`SERVER_START_ACTOR`]).
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

/// Creates the administrator unless one with this e-mail exists (for `--admin-email`).
pub async fn ensure_administrator(state: &AppState, email: &str, password: &str) -> Result<(), ServiceError> {
    match create_administrator(state.store.as_ref(), state.clock.as_ref(), SERVER_START_ACTOR, email, password).await {
        Ok(_) | Err(ServiceError::Conflict(_)) => Ok(()),
        Err(other) => Err(other),
    }
}

/// A mark of an administrator's current password, kept in their sessions: a new password
/// changes it, and a session whose mark is not the current one is signed out. It is a hash of
/// the password's argon2 hash, so a session holds nothing a guessed password can be checked
/// against.
fn password_mark(password_hash: &str) -> String {
    Secret::from_given(password_hash.to_owned()).hash().as_str().to_owned()
}
