//! The one place that turns errors into HTTP responses. Every error body is JSON
//! `{"error", "error_description"}` with `Cache-Control: no-store` and `Pragma: no-cache` (RFC
//! 6749 §5.1); internal details are logged once and never sent.

use std::fmt::Display;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use app::services::ServiceError;

use crate::oauth2::error_description;
use crate::oauth2::token::TokenError;
use crate::services::rate_limits::Throttled;
use crate::services::token::TokenFailure;

/// RFC 6749 §5.2: a failed client authentication names the scheme clients authenticate with
/// over HTTP (certificates and assertions have none of their own).
const CLIENT_CHALLENGE: &str = "Basic realm=\"onboard\"";

#[derive(Debug)]
pub struct WireError {
    status: StatusCode,
    error: &'static str,
    description: String,
    /// `WWW-Authenticate` challenge for 401s (RFC 6750 §3).
    challenge: Option<&'static str>,
    /// `Retry-After` seconds for 429s (RFC 6585 §4).
    retry_after: Option<u64>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl WireError {
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self { status, error, description: description.into(), challenge: None, retry_after: None }
    }

    /// A caller over a rate limit: 429, told when to try again.
    pub fn throttled(throttled: &Throttled) -> Self {
        let seconds = throttled.retry_after_seconds();
        let description = format!("{}; retry after {seconds} s", throttled.rule.description());
        Self { retry_after: Some(seconds), ..Self::new(StatusCode::TOO_MANY_REQUESTS, "temporarily_unavailable", description) }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub fn access_denied(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "access_denied", description)
    }

    pub fn unauthorized(realm_challenge: &'static str, description: impl Into<String>) -> Self {
        Self { challenge: Some(realm_challenge), ..Self::new(StatusCode::UNAUTHORIZED, "invalid_token", description) }
    }

    /// RFC 6750 §3.1: a valid token without the scope the request needs (403).
    pub fn insufficient_scope(challenge: &'static str, description: impl Into<String>) -> Self {
        Self { challenge: Some(challenge), ..Self::new(StatusCode::FORBIDDEN, "insufficient_scope", description) }
    }

    pub fn unavailable(description: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", description)
    }

    /// The database cannot be reached: 503, to be retried in a few seconds.
    pub fn database_unavailable() -> Self {
        Self { retry_after: Some(5), ..Self::unavailable("the service cannot reach its database; retry in a few seconds") }
    }

    /// An unexpected failure: logged with its detail, answered generically.
    pub fn internal(detail: impl Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the server could not complete the request")
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `error` code of the body.
    pub fn code(&self) -> &'static str {
        self.error
    }
}

impl IntoResponse for WireError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: self.error, error_description: &self.description };
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if let Some(challenge) = self.challenge {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// RFC 6749 §5.2 errors of the token, introspection and revocation endpoints: 400, or 401 with
/// a challenge for a failed client authentication.
impl From<TokenError> for WireError {
    fn from(error: TokenError) -> Self {
        let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let challenge = matches!(error, TokenError::InvalidClient(_)).then_some(CLIENT_CHALLENGE);
        Self { challenge, ..Self::new(status, error.code(), error_description::oauth2(&error.to_string())) }
    }
}

impl From<TokenFailure> for WireError {
    fn from(failure: TokenFailure) -> Self {
        match failure {
            TokenFailure::Rejected(error) => error.into(),
            TokenFailure::Throttled(throttled) => Self::throttled(&throttled),
            TokenFailure::Internal(detail) => Self::internal(detail),
        }
    }
}

/// Console and admin service errors.
impl From<ServiceError> for WireError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::NotFound(what) => Self::not_found(what),
            ServiceError::Invalid(invalid) => Self::invalid_request(invalid.to_string()),
            ServiceError::Conflict(message) => Self::new(StatusCode::CONFLICT, "conflict", message),
            ServiceError::Store(store) => Self::internal(store),
            ServiceError::Internal(detail) => Self::internal(detail),
        }
    }
}
