//! `POST /{tenant}/{workspace}/oauth2/token` (RFC 6749 §3.2): form-encoded, answered with
//! `Cache-Control: no-store`; errors per §5.2.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error::WireError;
use super::extract::{BodyError, WorkspacePath, read_body};
use crate::listener::Connection;
use crate::oauth2::token::TokenError;
use crate::services::token::{self, TokenFailure};
use crate::state::ServerState;

const BODY_LIMIT: usize = 16 * 1024;

pub async fn post(
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    connection: Connection,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, WireError> {
    let workspace = app::services::workspaces::get_workspace(&state.app, &at).await?;
    let is_form = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
        ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
    });
    if !is_form {
        return Ok(token_error(
            &TokenError::InvalidRequest("the body must be application/x-www-form-urlencoded".to_owned()),
            false,
        ));
    }
    let form = match read_body(body, BODY_LIMIT).await {
        Ok(form) => form,
        Err(BodyError::TooLarge { .. } | BodyError::Unreadable) => {
            return Ok(token_error(
                &TokenError::InvalidRequest("the body is unreadable or larger than 16 KiB".to_owned()),
                false,
            ));
        }
    };
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    match token::issue(&state, &workspace, &form, authorization, &connection).await {
        Ok(issued) => {
            let mut response = (StatusCode::OK, Json(issued)).into_response();
            no_store(&mut response);
            Ok(response)
        }
        Err(TokenFailure::Rejected(error)) => Ok(token_error(&error, authorization.is_some())),
        Err(TokenFailure::Internal(detail)) => Err(WireError::internal(detail)),
    }
}

/// An RFC 6749 §5.2 error. A failed client authentication is a 401 with a challenge for the
/// scheme the client used (Basic when it sent one).
fn token_error(error: &TokenError, used_basic: bool) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = (status, Json(json!({"error": error.code(), "error_description": error.to_string()}))).into_response();
    no_store(&mut response);
    if matches!(error, TokenError::InvalidClient(_)) {
        let challenge = if used_basic { "Basic realm=\"onboard\"" } else { "Bearer realm=\"onboard\"" };
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    }
    response
}

fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}
