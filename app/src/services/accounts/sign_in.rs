//! Signing in. Five failed sign-ins in a row as one e-mail address lock it for a quarter of an
//! hour, whether or not an administrator has it; an unknown address costs the same work as a
//! wrong password, so neither the answers nor their timing reveal which accounts exist. A
//! browser that has signed in as an address before (a device cookie, OWASP's defence against
//! lockout) counts its failures on its own instead, so an outsider who keeps the address locked
//! does not lock its administrator out.

use std::net::IpAddr;

use chrono::Duration;

use super::hashing::{HASHING, hash_holding, verify_holding};
use super::{password_mark, two_step};
use crate::domain::account::{AdminUser, Administrator, MAX_PASSWORD_BYTES, is_email, normalise_email};
use crate::domain::activity::{AdministratorEventType, NewAdministratorEvent};
use crate::secrets::Secret;
use crate::services::activity;
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
/// session keeps, whether a code from the administrator's authenticator app was part of it, and
/// the token the browser is trusted by from now on (the one it brought, or a new one), for
/// [`DEVICE_TRUST`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub administrator: Administrator,
    pub password_mark: String,
    /// A code (from the app, or a recovery code) was given. A sign-in without one gets a
    /// session only if two-step sign-in is still off once the session is recorded
    /// ([`super::open_session`]): it may have been turned on since it was checked.
    pub passed_two_step: bool,
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

/// What a sign-in asks of an administrator who has two-step sign-in on, past the password.
#[derive(Debug, Clone, Copy)]
pub enum SecondStep<'a> {
    /// A code from their authenticator app; none typed yet (the answer then asks for it).
    Code(Option<&'a str>),
    /// Nothing more: a signed-in administrator proving it is still them, while turning two-step
    /// sign-in on (which it is not yet), or before a sensitive change (their session was made
    /// with the code).
    NotAsked,
}

/// What a password is checked for: a sign-in, or a signed-in administrator proving it is still
/// them. A refusal's activity event says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    SignIn,
    PasswordChange,
    TwoStepChange,
    /// Before a sensitive change in the console ([`super::confirm_password`]).
    Confirmation,
}

impl Purpose {
    /// What a refusal's activity event adds to say so; a sign-in's needs nothing.
    fn detail(self) -> Option<&'static str> {
        match self {
            Self::SignIn => None,
            Self::PasswordChange => Some("in a signed-in session, changing their password"),
            Self::TwoStepChange => Some("in a signed-in session, changing two-step sign-in"),
            Self::Confirmation => Some("in a signed-in session, confirming their password before a sensitive change"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    #[error("the e-mail address or password is not right")]
    Invalid,
    /// The password was right; the administrator signs in in two steps and gave no code.
    #[error("enter the code from your authenticator app")]
    CodeNeeded,
    /// The password was right and the code was not (or was used already).
    #[error("the code is not right: enter the one your authenticator app shows now, or a recovery code not used yet")]
    WrongCode,
    /// Too many wrong codes were given: an operator must reset two-step sign-in.
    #[error("two-step sign-in is blocked after too many wrong codes: ask an operator to reset it, and change your password")]
    TwoStepBlocked,
    #[error("too many failed sign-ins: try again in {minutes} minute(s)")]
    Locked { minutes: i64 },
    #[error("too many sign-ins from this address: try again in {seconds} second(s)")]
    TooFrequent { seconds: u64 },
    #[error("sign-in is unavailable: {0}")]
    Internal(String),
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
pub async fn sign_in(
    state: &AppState,
    from: &SignInFrom,
    email: &str,
    password: &str,
    code: Option<&str>,
) -> Result<SignedIn, SignInError> {
    let checked = checked_sign_in(state, from, email, password, SecondStep::Code(code), Purpose::SignIn).await;
    if let Ok(Checked { signed_in, recovery_codes_left, .. }) = &checked {
        let now = state.clock.now();
        let mut event = NewAdministratorEvent::new(AdministratorEventType::SignedIn, Some(&signed_in.administrator.email), now);
        if let Some(left) = recovery_codes_left {
            tracing::warn!(administrator = %signed_in.administrator.email, left, "signed in with a two-step recovery code");
            event.detail = Some(format!("with a recovery code in place of the app's; {left} left"));
        }
        activity::record(state.store.as_ref(), &event.from_address(from.address)).await;
        if let Err(error) = state.store.note_admin_sign_in(&signed_in.administrator.id, now).await {
            tracing::warn!(%error, "could not note when an administrator last signed in");
        }
    }
    let answer = checked.map(|checked| checked.signed_in);
    state.metrics.console_sign_in(match &answer {
        Ok(_) => "signed_in",
        Err(SignInError::Invalid) => "refused",
        Err(SignInError::CodeNeeded) => "code_needed",
        Err(SignInError::WrongCode) => "code_refused",
        Err(SignInError::TwoStepBlocked) => "code_blocked",
        Err(SignInError::Locked { .. }) => "locked",
        Err(SignInError::TooFrequent { .. }) => "throttled",
        Err(SignInError::Internal(_)) => "error",
    });
    answer
}

/// A password checked: the sign-in it makes, the hash it was checked against, and, when a
/// recovery code was given in place of the app's code, how many are left.
pub(super) struct Checked {
    pub signed_in: SignedIn,
    pub password_hash: String,
    pub recovery_codes_left: Option<i64>,
}

/// [`sign_in`], uncounted.
pub(super) async fn checked_sign_in(
    state: &AppState,
    from: &SignInFrom,
    email: &str,
    password: &str,
    second_step: SecondStep<'_>,
    purpose: Purpose,
) -> Result<Checked, SignInError> {
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
    let mut refusal = SignInError::Invalid;
    if let Some(user) = signed_in {
        let second = match second_step {
            SecondStep::Code(code) => {
                Some(two_step::second_step(state, &user, code, now).await.map_err(|e| SignInError::Internal(e.to_string()))?)
            }
            SecondStep::NotAsked => None,
        };
        match second {
            // The attempt stays counted until the code comes, so the password cannot be tried
            // here any faster than where no code is asked; the last one before the lock locks.
            Some(two_step::Outcome::Needed) if attempt < MAX_FAILED_SIGN_INS => return Err(SignInError::CodeNeeded),
            Some(two_step::Outcome::Needed) => refusal = SignInError::CodeNeeded,
            Some(two_step::Outcome::Refused) => refusal = SignInError::WrongCode,
            Some(two_step::Outcome::NowBlocked) => refusal = SignInError::TwoStepBlocked,
            Some(two_step::Outcome::Blocked) => return Err(SignInError::TwoStepBlocked),
            None
            | Some(two_step::Outcome::Off | two_step::Outcome::Passed | two_step::Outcome::PassedWithRecoveryCode { .. }) => {
                let device = counter.succeeded(store, &user, now).await.map_err(internal)?;
                let signed_in = SignedIn {
                    administrator: Administrator { id: user.id, email: user.email },
                    password_mark: password_mark(&user.password_hash),
                    passed_two_step: second.is_some_and(two_step::Outcome::passed),
                    device,
                };
                let recovery_codes_left = second.and_then(two_step::Outcome::recovery_codes_left);
                return Ok(Checked { signed_in, password_hash: user.password_hash, recovery_codes_left });
            }
        }
    }
    if an_administrators {
        let event_type = match refusal {
            SignInError::TwoStepBlocked => AdministratorEventType::SignInLocked,
            _ if attempt == MAX_FAILED_SIGN_INS => counter.lock_event(),
            _ => AdministratorEventType::SignInRefused,
        };
        let mut event = NewAdministratorEvent::new(event_type, Some(&email), state.clock.now()).from_address(from.address);
        event.detail = match refusal {
            SignInError::WrongCode => Some("the password was right, the two-step code was not".to_owned()),
            SignInError::TwoStepBlocked => Some(format!(
                "two-step sign-in blocked after {} wrong codes in a row: the password is known; \
                 reset both (onboard admin set-password, reset-two-step)",
                two_step::WRONG_CODES_BLOCKING
            )),
            _ => purpose.detail().map(str::to_owned),
        };
        record_off_the_request(state, event);
    }
    if refusal == SignInError::TwoStepBlocked {
        tracing::warn!(%email, caller = ?from.address, "two-step sign-in blocked after repeated wrong codes");
        // The address's lock too, when this was its last try, as for any failure.
        if attempt == MAX_FAILED_SIGN_INS
            && let Err(SignInError::Internal(detail)) = lock().await
        {
            return Err(SignInError::Internal(detail));
        }
        return Err(refusal);
    }
    if attempt == MAX_FAILED_SIGN_INS {
        return lock().await;
    }
    // Only an address that is one (a password typed in its place is never logged).
    tracing::info!(%email, caller = ?from.address, attempt, "console sign-in refused: {refusal}");
    Err(refusal)
}

/// Records `event` (a refusal of an administrator's address) in the background, so the answer
/// takes no longer for an address with an account than for one without, which records nothing.
fn record_off_the_request(state: &AppState, event: NewAdministratorEvent) {
    let store = state.store.clone();
    tokio::spawn(async move { activity::record(store.as_ref(), &event).await });
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
