//! Administrators' console sessions. Each signed-in session has a sign-in record
//! ([`ConsoleSignIn`]): the session holds only its id, so the administrator can list their
//! sessions (browser, address, last use) and end any of them. A session is signed in while its
//! record exists and counts ([`Window::counts`]): younger than [`SIGN_IN_LIFETIME`], used within
//! the deployment's idle time (`--console-idle-minutes`), and carrying the mark of the
//! administrator's current password (a new password ends every session of the old one).

use std::net::IpAddr;

use chrono::Duration;

use super::password_mark;
use super::sign_in::{Purpose, SecondStep, SignInError, SignInFrom, SignedIn, checked_sign_in};
use crate::clock::Clock;
use crate::domain::account::{AdminUser, Administrator, normalise_email};
use crate::domain::activity::{Actor, AdministratorEventType, COMMAND_LINE_ACTOR, NewAdministratorEvent};
use crate::domain::console_session::{
    ConsoleSignIn, LAST_SEEN_GRANULARITY_SECONDS, OwnSession, SIGN_IN_LIFETIME_HOURS, SessionTimeLeft, browser_summary,
    kept_user_agent,
};
use crate::secrets;
use crate::services::{ServiceError, activity};
use crate::state::AppState;
use crate::storage::{Store, StoreError};

/// The longest a sign-in lasts, however busy its session.
pub const SIGN_IN_LIFETIME: Duration = Duration::hours(SIGN_IN_LIFETIME_HOURS);

/// The most sessions an account page lists.
const LISTED_AT_MOST: u32 = 100;

/// The sign-ins that count at one moment.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    /// Epoch seconds of the earliest sign-in that counts.
    signed_in_since: i64,
    /// Epoch seconds of the earliest noted last use that counts: the idle time ago, and the
    /// minute within which a use may not have been noted.
    seen_since: i64,
}

impl Window {
    /// At `now` (epoch seconds), for sessions that end after `idle` unused.
    fn at(now: i64, idle: Duration) -> Self {
        Self {
            signed_in_since: now - SIGN_IN_LIFETIME.num_seconds(),
            seen_since: now - idle.num_seconds() - LAST_SEEN_GRANULARITY_SECONDS,
        }
    }

    /// Now, under the deployment's idle time.
    pub(super) fn now(state: &AppState) -> Self {
        Self::at(state.clock.now().timestamp(), state.deployment.console_idle)
    }

    /// Whether `sign_in` counts, for an administrator whose password has `mark`.
    fn counts(self, sign_in: &ConsoleSignIn, mark: &str) -> bool {
        sign_in.signed_in_at >= self.signed_in_since && sign_in.last_seen_at >= self.seen_since && sign_in.password_mark == mark
    }
}

/// How long `sign_in`, counting at `now` (epoch seconds), has left unless used, for sessions
/// that end after `idle` unused: until the first second in which [`Window::counts`] no longer
/// holds, by its idle time (its last use, noted to within a minute) or by its lifetime,
/// whichever comes first.
fn time_left(sign_in: &ConsoleSignIn, now: i64, idle: Duration) -> SessionTimeLeft {
    let idle_ends = sign_in.last_seen_at + idle.num_seconds() + LAST_SEEN_GRANULARITY_SECONDS + 1;
    let lifetime_ends = sign_in.signed_in_at + SIGN_IN_LIFETIME.num_seconds() + 1;
    SessionTimeLeft {
        seconds: u64::try_from(idle_ends.min(lifetime_ends) - now).unwrap_or(0),
        renewable: idle_ends < lifetime_ends,
        idle_minutes: u32::try_from(idle.num_minutes()).unwrap_or(u32::MAX),
    }
}

/// Where a session is used from: the caller's address, and its browser's `User-Agent`.
#[derive(Debug, Clone, Default)]
pub struct SessionClient {
    pub address: Option<IpAddr>,
    pub user_agent: String,
}

/// Why a sign-in got no session.
#[derive(Debug, thiserror::Error)]
pub enum OpenSessionError {
    /// Two-step sign-in was turned on after the sign-in, made without a code, was checked.
    #[error("two-step sign-in was turned on meanwhile: sign in again with a code from your authenticator app")]
    TwoStepTurnedOn,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Records the sign-in a new session carries; returns its id, which the session keeps.
///
/// A sign-in made without a code is recorded first and then checked against two-step sign-in,
/// so it cannot slip past its being turned on: turned on before that check, the record is
/// taken back (and the activity, which recorded the sign-in, says so); after it, turning it on
/// ends every session but its own, this one among them.
pub async fn open_session(state: &AppState, signed_in: &SignedIn, client: &SessionClient) -> Result<String, OpenSessionError> {
    let now = state.clock.now();
    let sign_in = ConsoleSignIn {
        id: secrets::new_time_ordered_id(now),
        administrator_id: signed_in.administrator.id.clone(),
        password_mark: signed_in.password_mark.clone(),
        signed_in_at: now.timestamp(),
        last_seen_at: now.timestamp(),
        confirmed_at: now.timestamp(),
        address: client.address.map(|address| address.to_string()),
        user_agent: kept_user_agent(&client.user_agent),
    };
    state.store.insert_console_sign_in(&sign_in).await?;
    if !signed_in.passed_two_step && state.store.admin_two_step(&sign_in.administrator_id).await?.is_some() {
        state.store.end_console_sign_in(&sign_in.administrator_id, &sign_in.id).await?;
        let mut taken_back =
            NewAdministratorEvent::new(AdministratorEventType::SignInRefused, Some(&signed_in.administrator.email), now);
        taken_back.detail = Some("the sign-in just recorded was taken back: two-step sign-in was turned on while the password was checked, so a code is asked for".to_owned());
        activity::record(state.store.as_ref(), &taken_back.from_address(client.address)).await;
        return Err(OpenSessionError::TwoStepTurnedOn);
    }
    Ok(sign_in.id)
}

/// A session's sign-in that counts: whose it is, and whether they proved their password in it
/// recently enough to make a sensitive change (`--console-confirm-minutes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSignIn {
    pub administrator: Administrator,
    pub recently_confirmed: bool,
}

/// The administrator a session's sign-in `sign_in_id` is of, while it counts: none once it was
/// ended, has outlived [`SIGN_IN_LIFETIME`], has gone unused for the idle time, or was made with
/// a password that is not theirs any more (or the account is gone). Its last use is noted, from
/// `address` if known, at most once a minute.
pub async fn session_administrator(
    state: &AppState,
    sign_in_id: &str,
    address: Option<IpAddr>,
) -> Result<Option<SessionSignIn>, StoreError> {
    let now = state.clock.now().timestamp();
    let Some((sign_in, user)) = state.store.console_sign_in(sign_in_id).await? else {
        return Ok(None);
    };
    if !Window::now(state).counts(&sign_in, &password_mark(&user.password_hash)) {
        return Ok(None);
    }
    if now - sign_in.last_seen_at >= LAST_SEEN_GRANULARITY_SECONDS {
        let address = address.map(|address| address.to_string());
        if let Err(error) = state.store.touch_console_sign_in(sign_in_id, now, address.as_deref()).await {
            // Only the account page's "last used" is behind; the session itself stands.
            tracing::warn!(%error, "could not note a console session's last use");
        }
    }
    Ok(Some(SessionSignIn {
        administrator: Administrator { id: user.id, email: user.email },
        recently_confirmed: sign_in.confirmed_within(now, state.deployment.console_confirm),
    }))
}

/// The administrator of sign-in `sign_in_id` gives their `password` again, as the console asks
/// before a sensitive change once `--console-confirm-minutes` have passed since they last did.
/// It is checked as at sign-in (counted against the same limits, refusals recorded alike), but
/// without the two-step code: the session was made with it, and what this guards against (a
/// session taken over, a browser left signed in) has no password. Guesses that lock the
/// address end this sign-in too: whoever holds the session is not the one who knows the
/// password. Whether the sign-in still counts, now confirmed; false once it has ended, or was
/// made with another password. Every answer is counted in `/metrics` by its outcome.
pub async fn confirm_password(
    state: &AppState,
    sign_in_id: &str,
    administrator: &Administrator,
    from: &SignInFrom,
    password: &str,
) -> Result<ConfirmedPassword, SignInError> {
    let answer = checked_confirmation(state, sign_in_id, administrator, from, password).await;
    state.metrics.console_password_confirmation(match &answer {
        Ok(ConfirmedPassword { still_signed_in: true, .. }) => "confirmed",
        Ok(ConfirmedPassword { still_signed_in: false, .. }) => "ended",
        Err(SignInError::Locked { .. } | SignInError::TwoStepBlocked) => "locked",
        Err(SignInError::TooFrequent { .. }) => "throttled",
        Err(SignInError::Internal(_)) => "error",
        Err(SignInError::Invalid | SignInError::CodeNeeded | SignInError::WrongCode) => "refused",
    });
    answer
}

/// [`confirm_password`], uncounted.
async fn checked_confirmation(
    state: &AppState,
    sign_in_id: &str,
    administrator: &Administrator,
    from: &SignInFrom,
    password: &str,
) -> Result<ConfirmedPassword, SignInError> {
    let checked =
        match checked_sign_in(state, from, &administrator.email, password, SecondStep::NotAsked, Purpose::Confirmation).await {
            Ok(checked) => checked,
            Err(locked @ SignInError::Locked { .. }) => {
                if let Err(error) = state.store.end_console_sign_in(&administrator.id, sign_in_id).await {
                    tracing::warn!(%error, "could not end a session whose password confirmations locked its address");
                }
                return Err(locked);
            }
            Err(other) => return Err(other),
        };
    let SignedIn { password_mark, device, .. } = checked.signed_in;
    let now = state.clock.now().timestamp();
    let confirmed = state
        .store
        .confirm_console_sign_in(sign_in_id, &password_mark, now)
        .await
        .map_err(|error| SignInError::Internal(error.to_string()))?;
    Ok(ConfirmedPassword { still_signed_in: confirmed, device })
}

/// A password given again ([`confirm_password`]): whether the session's sign-in still counts,
/// and the token the browser is trusted by from now on, as after a sign-in.
#[derive(Debug)]
pub struct ConfirmedPassword {
    pub still_signed_in: bool,
    pub device: secrets::Secret,
}

/// How long the session with sign-in `sign_in_id` has left unless used, while it counts (none
/// once it does not: see [`session_administrator`]). Asking is no use of it: nothing is noted,
/// so a page can ask without keeping its session signed in.
pub async fn session_time_left(state: &AppState, sign_in_id: &str) -> Result<Option<SessionTimeLeft>, StoreError> {
    let Some((sign_in, user)) = state.store.console_sign_in(sign_in_id).await? else {
        return Ok(None);
    };
    let (now, idle) = (state.clock.now().timestamp(), state.deployment.console_idle);
    if !Window::at(now, idle).counts(&sign_in, &password_mark(&user.password_hash)) {
        return Ok(None);
    }
    Ok(Some(time_left(&sign_in, now, idle)))
}

/// The `administrator`'s sessions that are signed in, the most recently used first; the one
/// with sign-in `current` is marked (at most [`LISTED_AT_MOST`]): exactly those
/// [`session_administrator`] lets in.
pub async fn own_sessions(
    state: &AppState,
    administrator: &Administrator,
    current: &str,
) -> Result<Vec<OwnSession>, ServiceError> {
    let Some(user) = state.store.admin_user_by_id(&administrator.id).await? else {
        return Ok(Vec::new());
    };
    let sign_ins = signed_in(state.store.as_ref(), &user, Window::now(state)).await?;
    Ok(sign_ins.into_iter().map(|sign_in| own_session(sign_in, current)).collect())
}

/// The sign-ins of `user` that count in `window`, the most recently used first (at most
/// [`LISTED_AT_MOST`]).
async fn signed_in(store: &dyn Store, user: &AdminUser, window: Window) -> Result<Vec<ConsoleSignIn>, StoreError> {
    let Window { signed_in_since, seen_since } = window;
    let mark = password_mark(&user.password_hash);
    store.console_sign_ins(&user.id, &mark, signed_in_since, seen_since, LISTED_AT_MOST).await
}

/// How many sign-ins of `user` count in `window`.
pub(super) async fn signed_in_count(store: &dyn Store, user: &AdminUser, window: Window) -> Result<u64, StoreError> {
    let Window { signed_in_since, seen_since } = window;
    store.count_console_sign_ins(&user.id, &password_mark(&user.password_hash), signed_in_since, seen_since).await
}

fn own_session(sign_in: ConsoleSignIn, current: &str) -> OwnSession {
    let at = |epoch: i64| chrono::DateTime::from_timestamp(epoch, 0).unwrap_or_default();
    OwnSession {
        current: sign_in.id == current,
        browser: browser_summary(&sign_in.user_agent),
        signed_in_at: at(sign_in.signed_in_at),
        last_seen_at: at(sign_in.last_seen_at),
        id: sign_in.id,
        user_agent: sign_in.user_agent,
        address: sign_in.address,
    }
}

/// The `administrator` ends another session of theirs, `sign_in_id`, from their session with
/// sign-in `current` (which they end by signing out); it is signed out at its next request.
/// Recorded in the activity with the browser and address it was last used from.
pub async fn end_session(
    state: &AppState,
    administrator: &Administrator,
    current: &str,
    sign_in_id: &str,
    address: Option<IpAddr>,
) -> Result<(), ServiceError> {
    if sign_in_id == current {
        return Err(ServiceError::Conflict("this is the session you are using: sign out instead".to_owned()));
    }
    let ended = match state.store.console_sign_in(sign_in_id).await? {
        Some((sign_in, user))
            if sign_in.administrator_id == administrator.id
                && Window::now(state).counts(&sign_in, &password_mark(&user.password_hash)) =>
        {
            sign_in
        }
        // Another administrator's session is, to this one, none at all; one that has ended
        // already is not ended again.
        _ => return Err(ServiceError::NotFound("session")),
    };
    if !state.store.end_console_sign_in(&administrator.id, sign_in_id).await? {
        return Err(ServiceError::NotFound("session"));
    }
    let detail = match &ended.address {
        Some(last_address) => format!("{}, last used from {last_address}", browser_summary(&ended.user_agent)),
        None => browser_summary(&ended.user_agent),
    };
    record_ended(state, administrator, address, &detail).await;
    Ok(())
}

/// The `administrator` ends every session of theirs but the one with sign-in `current`;
/// returns how many there were.
pub async fn end_other_sessions(
    state: &AppState,
    administrator: &Administrator,
    current: &str,
    address: Option<IpAddr>,
) -> Result<u64, ServiceError> {
    let Some(user) = state.store.admin_user_by_id(&administrator.id).await? else {
        return Err(ServiceError::NotFound("administrator"));
    };
    // Those that count but this one, for the activity's count; every other record goes.
    let ended = signed_in_count(state.store.as_ref(), &user, Window::now(state)).await?.saturating_sub(1);
    state.store.end_console_sign_ins(&administrator.id, Some(current)).await?;
    if ended > 0 {
        let detail = format!("every other session ({ended})");
        record_ended(state, administrator, address, &detail).await;
    }
    Ok(ended)
}

/// Ends every session of the administrator with `email` (`onboard admin sign-out`); returns
/// how many there were. Needs only the database, as the other account commands.
pub async fn sign_out_everywhere(store: &dyn Store, clock: &dyn Clock, email: &str) -> Result<u64, ServiceError> {
    let email = normalise_email(email);
    let Some(user) = store.admin_user_by_email(&email).await? else {
        return Err(ServiceError::NotFound("administrator"));
    };
    // The server's idle time is not known here: every session that may still be signed in.
    let ended = signed_in_count(store, &user, Window::at(clock.now().timestamp(), SIGN_IN_LIFETIME)).await?;
    store.end_console_sign_ins(&user.id, None).await?;
    let by = Actor::Named(COMMAND_LINE_ACTOR);
    let event = by.did(AdministratorEventType::SessionsEnded, &format!("every session ({ended})"), clock.now());
    activity::record(store, &NewAdministratorEvent { email: Some(email), ..event }).await;
    Ok(ended)
}

/// Forgets the sign-in `sign_in_id` of a session that no longer carries it (signed in anew);
/// a failure is logged, the record then lasting until housekeeping ends it.
pub async fn forget_sign_in(state: &AppState, sign_in_id: &str) {
    let forgotten = match state.store.console_sign_in(sign_in_id).await {
        Ok(Some((sign_in, _))) => state.store.end_console_sign_in(&sign_in.administrator_id, sign_in_id).await.map(drop),
        Ok(None) => Ok(()),
        Err(error) => Err(error),
    };
    if let Err(error) = forgotten {
        tracing::warn!(%error, "a session was signed in anew, but its earlier sign-in could not be forgotten");
    }
}

/// The `administrator` signs out of their session with sign-in `sign_in_id`, from `address`:
/// the sign-in ends (the caller then deletes the session itself) and the sign-out is recorded.
pub async fn signed_out(state: &AppState, administrator: &Administrator, sign_in_id: &str, address: Option<IpAddr>) {
    if let Err(error) = state.store.end_console_sign_in(&administrator.id, sign_in_id).await {
        tracing::warn!(%error, "a session was signed out, but its sign-in could not be ended");
    }
    let event = NewAdministratorEvent::new(AdministratorEventType::SignedOut, Some(&administrator.email), state.clock.now());
    activity::record(state.store.as_ref(), &event.from_address(address)).await;
}

async fn record_ended(state: &AppState, administrator: &Administrator, address: Option<IpAddr>, detail: &str) {
    let by = Actor::Administrator { email: administrator.email.clone(), address };
    activity::record(state.store.as_ref(), &by.did(AdministratorEventType::SessionsEnded, detail, state.clock.now())).await;
}

/// Forgets about `batch` sign-ins whose sessions have ended by now (outlived
/// [`SIGN_IN_LIFETIME`] or unused for the idle time); returns how many.
pub async fn forget_ended_sessions(state: &AppState, batch: u64) -> Result<u64, StoreError> {
    let Window { signed_in_since, seen_since } = Window::now(state);
    state.store.purge_console_sign_ins(signed_in_since, seen_since, batch).await
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNED_IN_AT: i64 = 1_800_000_000;

    fn sign_in(last_seen_at: i64) -> ConsoleSignIn {
        ConsoleSignIn {
            id: "s".to_owned(),
            administrator_id: "a".to_owned(),
            password_mark: "m".to_owned(),
            signed_in_at: SIGNED_IN_AT,
            last_seen_at,
            confirmed_at: SIGNED_IN_AT,
            address: None,
            user_agent: String::new(),
        }
    }

    /// The time left runs out exactly when the window stops counting the sign-in.
    fn ends_when_it_stops_counting(sign_in: &ConsoleSignIn, now: i64, idle: Duration) {
        let left = time_left(sign_in, now, idle);
        let last = now + i64::try_from(left.seconds).unwrap_or(i64::MAX) - 1;
        assert!(Window::at(last, idle).counts(sign_in, "m"), "counts in its last second");
        assert!(!Window::at(last + 1, idle).counts(sign_in, "m"), "ends when the time left has passed");
    }

    #[test]
    fn a_session_has_the_idle_time_left_from_its_last_noted_use() {
        let idle = Duration::minutes(30);
        let fresh = sign_in(SIGNED_IN_AT);
        let left = time_left(&fresh, SIGNED_IN_AT, idle);
        // The minute within which a use may not have been noted, and the last second, included.
        assert_eq!(left, SessionTimeLeft { seconds: 30 * 60 + 61, renewable: true, idle_minutes: 30 });
        ends_when_it_stops_counting(&fresh, SIGNED_IN_AT, idle);
        let later = SIGNED_IN_AT + 25 * 60;
        assert_eq!(time_left(&fresh, later, idle).seconds, 5 * 60 + 61);
        ends_when_it_stops_counting(&fresh, later, idle);
    }

    #[test]
    fn near_its_lifetime_a_session_has_what_is_left_of_it_and_use_gives_no_more() {
        let idle = Duration::minutes(30);
        let lifetime_ends = SIGNED_IN_AT + SIGN_IN_LIFETIME.num_seconds();
        let busy = sign_in(lifetime_ends - 10 * 60);
        let now = lifetime_ends - 5 * 60;
        let left = time_left(&busy, now, idle);
        assert_eq!(left, SessionTimeLeft { seconds: 5 * 60 + 1, renewable: false, idle_minutes: 30 });
        ends_when_it_stops_counting(&busy, now, idle);
    }
}
