//! How server functions refuse: the HTTP status a request gets, and the message the console
//! shows (for input problems "field: problem", which the form puts at that field).

#![cfg(feature = "ssr")]

use axum::http::StatusCode;
use leptos::prelude::*;

use crate::services::ServiceError;

/// A request the console refuses (bad input, a conflict): answered with `status`, and the
/// message shown at the form.
pub fn refused(status: StatusCode, message: impl Into<String>) -> ServerFnError {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
    ServerFnError::new(message.into())
}

/// Input the console refuses: 400 with the message (often "field: problem").
pub fn invalid(message: impl Into<String>) -> ServerFnError {
    refused(StatusCode::BAD_REQUEST, message)
}

/// A failure that is not the administrator's doing: 500 with a generic message, the detail
/// in the log.
pub fn internal(detail: impl std::fmt::Display) -> ServerFnError {
    tracing::error!(error = %detail, "console request failed");
    refused(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on the server; the details are in its log.")
}

/// The database cannot be reached: 503, and a message that says so (the detail in the log).
pub fn database_unreachable(detail: impl std::fmt::Display) -> ServerFnError {
    tracing::error!(error = %detail, "console request failed: the database cannot be reached");
    refused(
        StatusCode::SERVICE_UNAVAILABLE,
        "The database cannot be reached right now. Nothing was changed; try again in a moment.",
    )
}

/// Maps a service error to what the console shows: field problems and conflicts verbatim,
/// anything else generically.
pub fn user_error(error: ServiceError) -> ServerFnError {
    match error {
        ServiceError::Invalid(problem) => invalid(problem.to_string()),
        ServiceError::Conflict(message) => refused(StatusCode::CONFLICT, message),
        ServiceError::NotFound(what) => refused(StatusCode::NOT_FOUND, format!("{what} not found")),
        ServiceError::Store(store) if store.is_unreachable() => database_unreachable(store),
        other => internal(other),
    }
}
