//! Two-step sign-in: an administrator who turns it on signs in with their password and a code
//! from an authenticator app (TOTP, [`crate::totp`]). The app's secret is stored sealed under
//! the key encryption key (re-sealed by `onboard rekey` with the private keys); each time
//! step's code is accepted once. Turning it on or off takes the password (a sign-in attempt,
//! counted as any) and a code: on, from the app being set up; off, from the app in use.
//! Turning it on gives [`recovery_codes`], each signing in once in place of the app's code, so
//! an administrator who lost their phone signs in with one and sets up a new app; one who lost
//! both has it turned off on the command line (`onboard admin reset-two-step`).

use super::sign_in::{Purpose, SecondStep, SignInError, SignInFrom, checked_sign_in};
use crate::clock::Clock;
use crate::domain::account::{AdminUser, Administrator, StoredTwoStep, TwoStepSetup, TwoStepStatus, normalise_email};
use crate::domain::activity::{Actor, AdministratorEventType, COMMAND_LINE_ACTOR, NewAdministratorEvent};
use crate::services::{ServiceError, activity};
use crate::state::AppState;
use crate::storage::{PrivateKeySlot, Store, StoreError};
use crate::{recovery_codes, totp};

/// Wrong codes in a row (the password right each time) after which two-step sign-in is
/// blocked until an operator resets it (`onboard admin reset-two-step`). The password's own lock
/// holds guessing to five tries a quarter of an hour, forgotten at each right password; this
/// holds it for good: whoever gives wrong codes knows the password.
pub const WRONG_CODES_BLOCKING: i32 = 10;

/// What a sign-in's second step found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    /// The administrator signs in with the password alone.
    Off,
    /// A code is needed and none was given.
    Needed,
    /// The code was right, and its time step is now used.
    Passed,
    /// A recovery code was given in place of the app's, and is now used; `left` remain.
    PassedWithRecoveryCode { left: i64 },
    /// The code was not right, or its time step was used already.
    Refused,
    /// As refused, and the wrong codes have now reached [`WRONG_CODES_BLOCKING`].
    NowBlocked,
    /// Too many wrong codes were given: no code is checked until an operator resets it.
    Blocked,
}

impl Outcome {
    /// Whether a code was given and accepted.
    pub(super) fn passed(self) -> bool {
        matches!(self, Self::Passed | Self::PassedWithRecoveryCode { .. })
    }

    /// How many recovery codes are left, when one was given.
    pub(super) fn recovery_codes_left(self) -> Option<i64> {
        match self {
            Self::PassedWithRecoveryCode { left } => Some(left),
            _ => None,
        }
    }
}

/// Why two-step sign-in was not turned on or off.
#[derive(Debug, thiserror::Error)]
pub enum TwoStepChangeError {
    /// The password was not right, or could not be checked now (a lock, the caller's rate).
    #[error(transparent)]
    Password(#[from] SignInError),
    /// The code was not the app's, nor a recovery code not used yet.
    #[error("{}", SignInError::WrongCode)]
    WrongCode,
    /// Turning it on: the code was not the app's being set up.
    #[error("the code is not right: enter the one your authenticator app shows now")]
    WrongSetupCode,
    /// No secret is being set up in this session, or it was shown too long ago.
    #[error("set up your authenticator app again: the key shown has expired")]
    SetupExpired,
    /// Too many wrong codes were given: only an operator can turn it off now.
    #[error("{}", SignInError::TwoStepBlocked)]
    Blocked,
    /// It was on already (turning on), or off already (turning off).
    #[error("{0}")]
    Already(&'static str),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for TwoStepChangeError {
    fn from(error: StoreError) -> Self {
        Self::Service(error.into())
    }
}

fn slot(administrator_id: &str) -> PrivateKeySlot {
    PrivateKeySlot::AdministratorTwoStepSecret { administrator_id: administrator_id.to_owned() }
}

/// Checks a sign-in's `code` for `user`, whose password was right, at `now` (epoch seconds).
pub(super) async fn second_step(
    state: &AppState,
    user: &AdminUser,
    code: Option<&str>,
    now: i64,
) -> Result<Outcome, ServiceError> {
    let Some(stored) = state.store.admin_two_step(&user.id).await? else {
        return Ok(Outcome::Off);
    };
    if stored.failed_codes >= WRONG_CODES_BLOCKING {
        return Ok(Outcome::Blocked);
    }
    let Some(code) = code.filter(|code| !code.trim().is_empty()) else {
        return Ok(Outcome::Needed);
    };
    let passed = if let Some(recovery_code) = recovery_codes::normalised(code) {
        let code_hash = recovery_codes::stored_hash(&recovery_code);
        let used = state.store.use_recovery_code(&user.id, &code_hash, WRONG_CODES_BLOCKING).await?;
        used.map(|left| Outcome::PassedWithRecoveryCode { left })
    } else {
        used_app_code(state, user, &stored, code, now).await?.then_some(Outcome::Passed)
    };
    if let Some(passed) = passed {
        return Ok(passed);
    }
    Ok(match state.store.count_wrong_two_step_code(&user.id).await? {
        Some(wrong) if wrong >= WRONG_CODES_BLOCKING => Outcome::NowBlocked,
        _ => Outcome::Refused,
    })
}

/// Whether `code` is the app's (of `stored`) at `now`, in a time step not used yet; the step is
/// used if so. Used once: a code seen over a shoulder, or replayed, is refused in its own step
/// too.
async fn used_app_code(
    state: &AppState,
    user: &AdminUser,
    stored: &StoredTwoStep,
    code: &str,
    now: i64,
) -> Result<bool, ServiceError> {
    let secret = state
        .sealer
        .open(&stored.secret_sealed, &slot(&user.id).sealing_context())
        .map_err(|e| ServiceError::Internal(format!("an administrator's two-step secret {e}")))?;
    match totp::matching_step(&secret, code, now).and_then(|step| i64::try_from(step).ok()) {
        Some(step) => Ok(state.store.use_admin_two_step(&user.id, step, WRONG_CODES_BLOCKING).await?),
        None => Ok(false),
    }
}

/// Whether the administrator signs in in two steps, and since when; and whether the deployment
/// requires it.
pub async fn two_step_status(state: &AppState, administrator: &Administrator) -> Result<TwoStepStatus, ServiceError> {
    let stored = state.store.admin_two_step(&administrator.id).await?;
    Ok(TwoStepStatus {
        recovery_codes_left: stored.as_ref().map_or(0, |stored| u32::try_from(stored.recovery_codes_left).unwrap_or(u32::MAX)),
        enabled_at: stored.and_then(|stored| chrono::DateTime::from_timestamp(stored.enabled_at, 0)),
        required: state.deployment.console_two_step_required,
    })
}

/// Whether `administrator` must set up two-step sign-in before anything else: the deployment
/// requires it (`--console-require-two-step`) and they have not.
pub async fn must_set_up_two_step(state: &AppState, administrator: &Administrator) -> Result<bool, StoreError> {
    Ok(state.deployment.console_two_step_required && state.store.admin_two_step(&administrator.id).await?.is_none())
}

/// How long a secret shown for setting up an app waits for a code from it.
const SETUP_MINUTES: i64 = 15;

/// A secret being set up, as the administrator's session keeps it until a code from it turns
/// two-step sign-in on: the server's own (never one the browser sends back), sealed (the
/// session's row is in the database) and bound to the administrator, with when it was made.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PendingTwoStep {
    sealed_secret: String,
    made_at: i64,
}

fn setup_context(administrator_id: &str) -> String {
    format!("administrator/{administrator_id}/two-step-setup")
}

/// A fresh secret for `administrator` to add to their authenticator app: as text, as the
/// `otpauth://` address and as that address's QR code, to show; and as the session keeps it
/// for [`enable_two_step`]. Nothing is stored until a code from it is given.
pub fn new_two_step_setup(
    state: &AppState,
    administrator: &Administrator,
) -> Result<(TwoStepSetup, PendingTwoStep), ServiceError> {
    use base64::Engine as _;
    let secret = totp::new_secret();
    let sealed_secret = state
        .sealer
        .seal(&secret, &setup_context(&administrator.id))
        .map_err(|e| ServiceError::Internal(format!("sealing a two-step secret being set up: {e}")))?;
    let pending = PendingTwoStep { sealed_secret, made_at: state.clock.now().timestamp() };
    let uri = totp::enrolment_uri(&secret, &administrator.email)
        .ok_or_else(|| ServiceError::Internal("a new two-step secret makes no address".to_owned()))?;
    let qr = qrcode::QrCode::new(uri.as_bytes()).map_err(|e| ServiceError::Internal(format!("the QR code: {e}")))?;
    let svg = qr.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).build();
    let qr_code = format!("data:image/svg+xml;base64,{}", base64::engine::general_purpose::STANDARD.encode(svg));
    Ok((TwoStepSetup { secret: grouped(&secret), uri, qr_code }, pending))
}

/// A base32 secret in groups of four, as people type it.
fn grouped(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars.chunks(4).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join(" ")
}

/// The signed-in `administrator` turns two-step sign-in on with the secret their session keeps
/// from [`new_two_step_setup`] (`pending`) and a `code` their app made from it, proving it is
/// them with their `password`. Their sessions but `current_sign_in` (signed in with the password alone) end.
/// Recorded in the activity. Returns their [`recovery_codes`], to show them once.
pub async fn enable_two_step(
    state: &AppState,
    administrator: &Administrator,
    current_sign_in: &str,
    from: &SignInFrom,
    password: &str,
    pending: Option<PendingTwoStep>,
    code: &str,
) -> Result<Vec<String>, TwoStepChangeError> {
    // Before the password is checked, whose success would forget the failures counted so far.
    if state.store.admin_two_step(&administrator.id).await?.is_some() {
        return Err(TwoStepChangeError::Already("two-step sign-in is on already"));
    }
    let now = state.clock.now();
    let pending = pending
        .filter(|pending| now.timestamp() - pending.made_at <= SETUP_MINUTES * 60)
        .ok_or(TwoStepChangeError::SetupExpired)?;
    let secret = state
        .sealer
        .open(&pending.sealed_secret, &setup_context(&administrator.id))
        .map_err(|e| ServiceError::Internal(format!("a two-step secret being set up {e}")))?;
    checked_sign_in(state, from, &administrator.email, password, SecondStep::NotAsked, Purpose::TwoStepChange).await?;
    let step = totp::matching_step(&secret, code, now.timestamp())
        .and_then(|step| i64::try_from(step).ok())
        .ok_or(TwoStepChangeError::WrongSetupCode)?;
    let sealed = state
        .sealer
        .seal(&secret, &slot(&administrator.id).sealing_context())
        .map_err(|e| ServiceError::Internal(format!("sealing a two-step secret: {e}")))?;
    let recovery_codes = NewRecoveryCodes::made();
    match state.store.enable_admin_two_step(&administrator.id, &sealed, now.timestamp(), step, &recovery_codes.hashes).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Err(TwoStepChangeError::Already("two-step sign-in is on already")),
        Err(other) => return Err(other.into()),
    }
    // Sessions signed in with the password alone (a stolen password's among them, perhaps the
    // reason for turning it on) end; this one, which proved the app's code, goes on.
    state.store.end_console_sign_ins(&administrator.id, Some(current_sign_in)).await?;
    let by = Actor::Administrator { email: administrator.email.clone(), address: from.address };
    let detail = "authenticator app; other sessions signed out";
    activity::record(state.store.as_ref(), &by.did(AdministratorEventType::TwoStepEnabled, detail, now)).await;
    Ok(recovery_codes.shown)
}

/// Fresh recovery codes: as shown, once, and as stored.
struct NewRecoveryCodes {
    shown: Vec<String>,
    hashes: Vec<crate::secrets::SecretHash>,
}

impl NewRecoveryCodes {
    fn made() -> Self {
        let symbols = recovery_codes::new_codes();
        Self {
            shown: symbols.iter().map(|code| recovery_codes::shown(code)).collect(),
            hashes: symbols.iter().map(|code| recovery_codes::stored_hash(code)).collect(),
        }
    }
}

/// The signed-in `administrator` proves it is them with their `password` and a `code` (from
/// their app, or a recovery code), checked as at sign-in: counted, and used up.
async fn proven_with_code(
    state: &AppState,
    administrator: &Administrator,
    from: &SignInFrom,
    password: &str,
    code: &str,
) -> Result<(), TwoStepChangeError> {
    // The code is checked as at sign-in, so a wrong one counts towards the lock.
    match checked_sign_in(state, from, &administrator.email, password, SecondStep::Code(Some(code)), Purpose::TwoStepChange).await
    {
        Ok(_) => Ok(()),
        Err(SignInError::WrongCode | SignInError::CodeNeeded) => Err(TwoStepChangeError::WrongCode),
        Err(SignInError::TwoStepBlocked) => Err(TwoStepChangeError::Blocked),
        Err(other) => Err(other.into()),
    }
}

/// The signed-in `administrator` replaces their recovery codes (used up, or seen by someone),
/// with their `password` and a `code`; the earlier ones no longer work. Recorded in the
/// activity. Returns the new codes, to show them once.
pub async fn replace_recovery_codes(
    state: &AppState,
    administrator: &Administrator,
    from: &SignInFrom,
    password: &str,
    code: &str,
) -> Result<Vec<String>, TwoStepChangeError> {
    proven_with_code(state, administrator, from, password, code).await?;
    let recovery_codes = NewRecoveryCodes::made();
    if !state.store.replace_recovery_codes(&administrator.id, &recovery_codes.hashes).await? {
        return Err(TwoStepChangeError::Already("two-step sign-in is off"));
    }
    let by = Actor::Administrator { email: administrator.email.clone(), address: from.address };
    let detail = "the earlier ones no longer work";
    activity::record(state.store.as_ref(), &by.did(AdministratorEventType::RecoveryCodesReplaced, detail, state.clock.now()))
        .await;
    Ok(recovery_codes.shown)
}

/// The signed-in `administrator` turns two-step sign-in off, with their `password` and a
/// `code` ([`proven_with_code`]); their recovery codes go with it. Recorded in the activity.
pub async fn disable_two_step(
    state: &AppState,
    administrator: &Administrator,
    from: &SignInFrom,
    password: &str,
    code: &str,
) -> Result<(), TwoStepChangeError> {
    proven_with_code(state, administrator, from, password, code).await?;
    let now = state.clock.now();
    if !state.store.disable_admin_two_step(&administrator.id).await? {
        return Err(TwoStepChangeError::Already("two-step sign-in is off already"));
    }
    let by = Actor::Administrator { email: administrator.email.clone(), address: from.address };
    activity::record(state.store.as_ref(), &by.did(AdministratorEventType::TwoStepDisabled, "from their account page", now))
        .await;
    Ok(())
}

/// Turns two-step sign-in off for the administrator with `email` (`onboard admin
/// reset-two-step`: they lost their authenticator app); whether it was on. Needs only the
/// database, as the other account commands.
pub async fn reset_two_step(store: &dyn Store, clock: &dyn Clock, email: &str) -> Result<bool, ServiceError> {
    let email = normalise_email(email);
    let Some(user) = store.admin_user_by_email(&email).await? else {
        return Err(ServiceError::NotFound("administrator"));
    };
    let was_on = store.disable_admin_two_step(&user.id).await?;
    if was_on {
        let by = Actor::Named(COMMAND_LINE_ACTOR);
        let event = by.did(AdministratorEventType::TwoStepDisabled, "reset on the command line", clock.now());
        activity::record(store, &NewAdministratorEvent { email: Some(email), ..event }).await;
    }
    Ok(was_on)
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn a_secret_is_shown_in_groups_of_four() {
        assert_eq!(grouped("ABCDEFGHIJ"), "ABCD EFGH IJ");
    }
}
