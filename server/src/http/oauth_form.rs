//! What the form-encoded OAuth endpoints (token, introspection, revocation) share: the
//! [`OAuthForm`] extractor (workspace, form body, `Authorization` header) and their successful
//! answers, never cached. Their errors are [`WireError`]s.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use app::domain::workspace::Workspace;
use app::services::workspaces;

use super::error::WireError;
use super::extract::{WorkspacePath, read_body};
use crate::oauth2::token::TokenError;
use crate::state::ServerState;

const BODY_LIMIT: usize = 16 * 1024;

/// A form-encoded OAuth request to a workspace: its workspace, its body, and its
/// `Authorization` header. A refusal is already a response in the protocol's format.
pub(super) struct OAuthForm {
    pub workspace: Arc<Workspace>,
    pub form: Bytes,
    pub authorization: Option<String>,
}

impl FromRequest<ServerState> for OAuthForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &ServerState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let WorkspacePath(at) =
            WorkspacePath::from_request_parts(&mut parts, state).await.map_err(IntoResponse::into_response)?;
        let workspace = workspaces::get_workspace(&state.app, &at).await.map_err(|e| WireError::from(e).into_response())?;
        let workspace =
            crate::services::sandbox::trusting(state, workspace).await.map_err(|e| WireError::internal(e).into_response())?;
        let (form, authorization) =
            read_form(&parts.headers, Body::new(body)).await.map_err(|e| WireError::from(e).into_response())?;
        Ok(Self { workspace, form, authorization })
    }
}

/// The `application/x-www-form-urlencoded` body (at most 16 KiB) and the `Authorization` header.
async fn read_form(headers: &HeaderMap, body: Body) -> Result<(Bytes, Option<String>), TokenError> {
    let is_form = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
        ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
    });
    if !is_form {
        return Err(TokenError::InvalidRequest("the body must be application/x-www-form-urlencoded".to_owned()));
    }
    let form = read_body(body, BODY_LIMIT)
        .await
        .map_err(|_| TokenError::InvalidRequest("the body is unreadable or larger than 16 KiB".to_owned()))?;
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    Ok((form, authorization))
}

/// A successful JSON answer, never cached (RFC 6749 §5.1).
pub(super) fn success(body: &impl Serialize) -> Response {
    let mut response = (StatusCode::OK, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
