//! What every server function starts with: the application state and the signed-in
//! administrator. A session keeps only the id of its sign-in ([`accounts::open_session`]); it
//! is signed in while that sign-in counts ([`accounts::session_administrator`]): at most
//! [`accounts::SIGN_IN_LIFETIME`], while the account has the password it was made with, and
//! until the administrator ends it. Without one a server function answers 401.

#![cfg(feature = "ssr")]

use std::net::IpAddr;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::errors::{database_unreachable, internal, refused};
use crate::domain::account::Administrator;
use crate::domain::console_session::SessionTimeLeft;
use crate::services::accounts;
use crate::state::AppState;

/// The session key of the sign-in. (Sessions of before sign-ins were kept apart held theirs
/// under `sign_in`, which nothing reads: they are asked to sign in again.)
const SIGN_IN: &str = "console_sign_in";

/// Why a session's sign-in could not be read or written: the session's own row, or the
/// sign-in records, both in the database.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("the session store failed: {0}")]
    Session(#[from] tower_sessions::session::Error),
    #[error(transparent)]
    Store(#[from] crate::storage::StoreError),
    /// The sign-in being recorded was checked without a code, and two-step sign-in has been
    /// turned on since: it has no session.
    #[error("{}", accounts::OpenSessionError::TwoStepTurnedOn)]
    TwoStepTurnedOn,
}

impl From<accounts::OpenSessionError> for SessionError {
    fn from(error: accounts::OpenSessionError) -> Self {
        match error {
            accounts::OpenSessionError::TwoStepTurnedOn => Self::TwoStepTurnedOn,
            accounts::OpenSessionError::Store(error) => Self::Store(error),
        }
    }
}

/// What a session keeps about its sign-in.
#[derive(Debug, Serialize, Deserialize)]
struct SignInRecord {
    id: String,
}

/// The application state, provided to server functions by the server.
pub fn app_state() -> Result<AppState, ServerFnError> {
    use_context::<AppState>().ok_or_else(|| internal("the application state is missing"))
}

/// The address the request came from, as the server saw it ([`crate::caller_address`]).
pub fn caller() -> Option<IpAddr> {
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<crate::caller_address::CallerAddress>().map(|caller| caller.0))
}

/// Whether browsers reach the console over HTTPS ([`super::device_cookie::BrowserHttps`]).
fn browser_https() -> bool {
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<super::device_cookie::BrowserHttps>().copied())
        .is_some_and(|super::device_cookie::BrowserHttps(https)| https)
}

/// Where a sign-in comes from: [`caller`], and the device tokens the browser brought.
pub fn sign_in_from() -> accounts::SignInFrom {
    let devices = use_context::<axum::http::request::Parts>()
        .map(|parts| super::device_cookie::presented(&parts.headers, browser_https()))
        .unwrap_or_default();
    accounts::SignInFrom { address: caller(), devices }
}

/// Keeps the browser trusted by `device` ([`super::device_cookie`]).
pub fn trust_browser(device: &crate::secrets::Secret) {
    let cookie = super::device_cookie::set_cookie(device, browser_https());
    if let (Some(response), Some(cookie)) = (use_context::<leptos_axum::ResponseOptions>(), cookie) {
        response.append_header(axum::http::header::SET_COOKIE, cookie);
    }
}

pub async fn session() -> Result<Session, ServerFnError> {
    leptos_axum::extract::<Session>().await.map_err(|e| internal(format!("no session: {e}")))
}

/// Where the request came from: [`caller`], and the browser's `User-Agent`.
pub fn session_client() -> accounts::SessionClient {
    let user_agent = use_context::<axum::http::request::Parts>()
        .and_then(|parts| {
            parts.headers.get(axum::http::header::USER_AGENT).map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        })
        .unwrap_or_default();
    accounts::SessionClient { address: caller(), user_agent }
}

/// Records a sign-in in `session`, under a new session id, so a session id planted before
/// gains nothing. Whatever the session held before is dropped, and the sign-in it carried (a
/// sign-in again in the same browser, or the one a password was just changed in) ends.
pub async fn record_sign_in(
    state: &AppState,
    session: &Session,
    signed_in: &accounts::SignedIn,
    client: &accounts::SessionClient,
) -> Result<(), SessionError> {
    // One that cannot be read is dropped all the same; it does not stand in the way.
    let replaced = session.get::<SignInRecord>(SIGN_IN).await.ok().flatten();
    session.clear().await;
    session.cycle_id().await?;
    let opened = accounts::open_session(state, signed_in, client).await;
    if let Some(SignInRecord { id }) = replaced {
        accounts::forget_sign_in(state, &id).await;
    }
    session.insert(SIGN_IN, SignInRecord { id: opened? }).await?;
    Ok(())
}

/// A session's sign-in that counts: whose, and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentSignIn {
    pub administrator: Administrator,
    pub id: String,
    /// The deployment requires two-step sign-in (`--console-require-two-step`) and this
    /// administrator has not set it up: setting it up is all the session may do.
    pub must_set_up_two_step: bool,
    /// The administrator gave their password in this session within
    /// `--console-confirm-minutes`: it may make sensitive changes.
    pub recently_confirmed: bool,
}

/// The sign-in of `session`, used from `address`: none when it never was signed in or its
/// sign-in no longer counts (the session is then ended).
/// An error is the session store or the database failing.
pub async fn current_sign_in(
    session: &Session,
    state: &AppState,
    address: Option<IpAddr>,
) -> Result<Option<CurrentSignIn>, SessionError> {
    let Some(id) = carried_sign_in(session).await? else {
        return Ok(None);
    };
    let Some(accounts::SessionSignIn { administrator, recently_confirmed }) =
        ended_unless(session, accounts::session_administrator(state, &id, address).await?).await?
    else {
        return Ok(None);
    };
    let must_set_up_two_step = accounts::must_set_up_two_step(state, &administrator).await?;
    Ok(Some(CurrentSignIn { administrator, id, must_set_up_two_step, recently_confirmed }))
}

/// The administrator `session` is signed in as ([`current_sign_in`]), free to use the
/// console: none while they must set up two-step sign-in first.
pub async fn signed_in_administrator(
    session: &Session,
    state: &AppState,
    address: Option<IpAddr>,
) -> Result<Option<Administrator>, SessionError> {
    let sign_in = current_sign_in(session, state, address).await?;
    Ok(sign_in.filter(|sign_in| !sign_in.must_set_up_two_step).map(|sign_in| sign_in.administrator))
}

/// How long `session` has left unless used ([`accounts::session_time_left`]); asking is no
/// use of it. None when it is not signed in (the session is then ended).
pub async fn time_left(session: &Session, state: &AppState) -> Result<Option<SessionTimeLeft>, SessionError> {
    let Some(id) = carried_sign_in(session).await? else {
        return Ok(None);
    };
    ended_unless(session, accounts::session_time_left(state, &id).await?).await
}

/// The id of the sign-in `session` carries, if any.
async fn carried_sign_in(session: &Session) -> Result<Option<String>, SessionError> {
    Ok(session.get::<SignInRecord>(SIGN_IN).await?.map(|SignInRecord { id }| id))
}

/// What was `found` of a session's sign-in; when nothing (it no longer counts), the session
/// is ended too.
async fn ended_unless<T>(session: &Session, found: Option<T>) -> Result<Option<T>, SessionError> {
    if found.is_none() {
        session.flush().await?;
    }
    Ok(found)
}

/// The request's sign-in, or a 401; a 403 while the administrator must set up two-step
/// sign-in first ([`require_sign_in_to_set_up`] is for what that takes).
pub async fn require_sign_in() -> Result<CurrentSignIn, ServerFnError> {
    let sign_in = require_sign_in_to_set_up().await?;
    if sign_in.must_set_up_two_step {
        return Err(refused(axum::http::StatusCode::FORBIDDEN, super::TWO_STEP_REQUIRED));
    }
    Ok(sign_in)
}

/// The request's sign-in, or a 401, even while the administrator must set up two-step
/// sign-in first: only for what their account page needs to set it up (and to sign out).
pub async fn require_sign_in_to_set_up() -> Result<CurrentSignIn, ServerFnError> {
    let state = app_state()?;
    signed_in_or_refused(&state, current_sign_in(&session().await?, &state, caller()).await).await
}

/// How long the request's session has left unless used ([`time_left`]), or a 401.
pub async fn require_time_left() -> Result<SessionTimeLeft, ServerFnError> {
    let state = app_state()?;
    signed_in_or_refused(&state, time_left(&session().await?, &state).await).await
}

/// What a session is found to be: its sign-in's, a 401 when it is not signed in, or the
/// failure of the session store or the database.
async fn signed_in_or_refused<T>(state: &AppState, found: Result<Option<T>, SessionError>) -> Result<T, ServerFnError> {
    match found {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(refused(axum::http::StatusCode::UNAUTHORIZED, super::SESSION_ENDED)),
        // The session store's errors are text: whether the database is the cause is asked of it.
        Err(detail) if !database_reachable(state).await => Err(database_unreachable(detail)),
        Err(detail) => Err(internal(detail)),
    }
}

/// The signed-in administrator, or a 401.
pub async fn require_administrator() -> Result<Administrator, ServerFnError> {
    Ok(require_sign_in().await?.administrator)
}

/// The signed-in administrator as the one acting, from where their request came; or a 401.
pub async fn acting_administrator() -> Result<crate::domain::activity::Actor, ServerFnError> {
    let Administrator { email, .. } = require_administrator().await?;
    Ok(crate::domain::activity::Actor::Administrator { email, address: caller() })
}

/// The signed-in administrator, for a sensitive change (a workspace's trust settings and
/// policies, its manual clients, deleting clients, rotating its signing key, sandbox TPPs and
/// their keys): a 401 as [`require_sign_in`], or a 403 [`super::CONFIRMATION_NEEDED`] once
/// they last gave their password in this session longer ago than `--console-confirm-minutes`.
/// A session taken over, or a browser left signed in, cannot make such a change without the
/// password.
pub async fn require_confirmed_administrator() -> Result<Administrator, ServerFnError> {
    let sign_in = require_sign_in().await?;
    if !sign_in.recently_confirmed {
        return Err(refused(axum::http::StatusCode::FORBIDDEN, super::CONFIRMATION_NEEDED));
    }
    Ok(sign_in.administrator)
}

/// [`require_confirmed_administrator`] as the one acting, from where their request came.
pub async fn confirmed_acting_administrator() -> Result<crate::domain::activity::Actor, ServerFnError> {
    let Administrator { email, .. } = require_confirmed_administrator().await?;
    Ok(crate::domain::activity::Actor::Administrator { email, address: caller() })
}

/// Whether the database answers within two seconds.
async fn database_reachable(state: &AppState) -> bool {
    tokio::time::timeout(std::time::Duration::from_secs(2), state.store.ping()).await.is_ok_and(|ping| ping.is_ok())
}
