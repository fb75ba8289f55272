//! What every server function starts with: the application state and the signed-in
//! administrator. Without a session a server function answers 401.

#[cfg(feature = "ssr")]
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::domain::account::Administrator;
#[cfg(feature = "ssr")]
use crate::state::AppState;

/// The session key under which the signed-in administrator is kept.
pub const ADMINISTRATOR: &str = "administrator";

/// The application state, provided to server functions by the server.
#[cfg(feature = "ssr")]
pub fn app_state() -> Result<AppState, ServerFnError> {
    use_context::<AppState>().ok_or_else(|| ServerFnError::new("the application state is missing"))
}

#[cfg(feature = "ssr")]
pub async fn session() -> Result<tower_sessions::Session, ServerFnError> {
    leptos_axum::extract::<tower_sessions::Session>().await.map_err(|e| ServerFnError::new(format!("no session: {e}")))
}

/// The signed-in administrator, or a 401.
#[cfg(feature = "ssr")]
pub async fn require_administrator() -> Result<Administrator, ServerFnError> {
    let signed_in = session().await?.get::<Administrator>(ADMINISTRATOR).await.ok().flatten();
    signed_in.ok_or_else(|| {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::UNAUTHORIZED);
        }
        ServerFnError::new("Your session has ended. Sign in again.")
    })
}

/// A request the console refuses (bad input, a conflict): answered with `status`, and the
/// message shown at the form.
#[cfg(feature = "ssr")]
pub fn refused(status: axum::http::StatusCode, message: impl Into<String>) -> ServerFnError {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
    ServerFnError::new(message.into())
}

/// Input the console refuses: 400 with the message (often "field: problem").
#[cfg(feature = "ssr")]
pub fn invalid(message: impl Into<String>) -> ServerFnError {
    refused(axum::http::StatusCode::BAD_REQUEST, message)
}

/// Maps a service error to what the console shows: field problems and conflicts verbatim,
/// anything else generically (the detail goes to the log).
#[cfg(feature = "ssr")]
pub fn user_error(error: crate::services::ServiceError) -> ServerFnError {
    use crate::services::ServiceError;
    use axum::http::StatusCode;
    match error {
        ServiceError::Invalid(problem) => invalid(problem.to_string()),
        ServiceError::Conflict(message) => refused(StatusCode::CONFLICT, message),
        ServiceError::NotFound(what) => refused(StatusCode::NOT_FOUND, format!("{what} not found")),
        other => {
            tracing::error!(error = %other, "console request failed");
            ServerFnError::new("Something went wrong on the server; the details are in its log.")
        }
    }
}
