//! What every server function starts with: the application state and the signed-in
//! administrator. A sign-in lasts while the session is used (the cookie's idle expiry) but at
//! most [`SIGN_IN_LIFETIME`], and only while the account exists; without one a server function
//! answers 401.

#![cfg(feature = "ssr")]

use chrono::Duration;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::errors::{database_unreachable, internal, refused};
use crate::domain::account::Administrator;
use crate::services::accounts;
use crate::state::AppState;

/// The longest a sign-in lasts, however busy its session.
pub const SIGN_IN_LIFETIME: Duration = Duration::hours(12);

/// The session key of the sign-in.
const SIGN_IN: &str = "sign_in";

/// What a session keeps about its sign-in.
#[derive(Debug, Serialize, Deserialize)]
struct SignInRecord {
    administrator: Administrator,
    /// Seconds since the epoch.
    at: i64,
    /// The mark of the password signed in with ([`accounts::SignedIn`]); a session of before
    /// it was kept has none, and is signed out.
    #[serde(default)]
    password_mark: String,
}

/// The application state, provided to server functions by the server.
pub fn app_state() -> Result<AppState, ServerFnError> {
    use_context::<AppState>().ok_or_else(|| internal("the application state is missing"))
}

/// The address the request came from, as the server saw it ([`crate::caller_address`]).
pub fn caller() -> Option<std::net::IpAddr> {
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

/// Records a sign-in under a new session id, so a session id planted before gains nothing.
pub async fn record_sign_in(
    session: &Session,
    signed_in: accounts::SignedIn,
    now: i64,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    let accounts::SignedIn { administrator, password_mark, .. } = signed_in;
    session.insert(SIGN_IN, SignInRecord { administrator, at: now, password_mark }).await
}

/// The administrator `session` is signed in as: none when it never was, when the sign-in is
/// older than [`SIGN_IN_LIFETIME`] (the session is then ended), or when the account is gone or
/// has a new password.
/// An error is the session store or the database failing.
pub async fn signed_in_administrator(session: &Session, state: &AppState) -> Result<Option<Administrator>, String> {
    let Some(record) = session.get::<SignInRecord>(SIGN_IN).await.map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    if state.clock.now().timestamp() - record.at > SIGN_IN_LIFETIME.num_seconds() {
        session.flush().await.map_err(|e| e.to_string())?;
        return Ok(None);
    }
    accounts::administrator(state, &record.administrator.id, &record.password_mark).await.map_err(|e| e.to_string())
}

/// The signed-in administrator, or a 401.
pub async fn require_administrator() -> Result<Administrator, ServerFnError> {
    let state = app_state()?;
    match signed_in_administrator(&session().await?, &state).await {
        Ok(Some(administrator)) => Ok(administrator),
        Ok(None) => Err(refused(axum::http::StatusCode::UNAUTHORIZED, super::SESSION_ENDED)),
        // The session store's errors are text; whether the database is the cause is asked of it.
        Err(detail) if !database_reachable(&state).await => Err(database_unreachable(detail)),
        Err(detail) => Err(internal(detail)),
    }
}

/// The signed-in administrator as the one acting, from where their request came; or a 401.
pub async fn acting_administrator() -> Result<crate::domain::activity::Actor, ServerFnError> {
    let Administrator { email, .. } = require_administrator().await?;
    Ok(crate::domain::activity::Actor::Administrator { email, address: caller() })
}

/// Whether the database answers within two seconds.
async fn database_reachable(state: &AppState) -> bool {
    tokio::time::timeout(std::time::Duration::from_secs(2), state.store.ping()).await.is_ok_and(|ping| ping.is_ok())
}
