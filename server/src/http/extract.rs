//! Extractors that own their rejections: every refusal is a [`WireError`] in the protocol's
//! JSON format, never axum's plain-text default.

use std::collections::HashMap;
use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Path, Request};
use axum::http::header;
use axum::http::request::Parts;
use http_body_util::{BodyExt as _, Limited};
use percent_encoding::percent_decode_str;
use serde::de::DeserializeOwned;

use app::domain::ids::{TenantId, WorkspaceId, WorkspaceRef};

use super::error::WireError;
use crate::listener::Connection;
use crate::oauth2::strict_json;

impl<S: Send + Sync> FromRequestParts<S> for Connection {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(parts.extensions.get::<Self>().cloned().unwrap_or_default())
    }
}

/// The path's parameters, percent-decoded. One whose bytes are not UTF-8 (`%FF`), for which
/// axum's `Path` refuses the whole path, is decoded lossily instead (U+FFFD for each bad
/// sequence): it names no tenant, workspace or client, so the request gets the answer an
/// unknown one gets (a 404 for a workspace, a 401 for a client at the register endpoint), and
/// its other parameters still count.
async fn path_params<S: Send + Sync>(parts: &mut Parts, state: &S) -> HashMap<String, String> {
    match Path::<HashMap<String, String>>::from_request_parts(parts, state).await {
        Ok(Path(params)) => params,
        Err(_) => lossy_path_params(parts),
    }
}

/// The parameters of the route's pattern, matched segment by segment against the raw path.
fn lossy_path_params(parts: &Parts) -> HashMap<String, String> {
    let Some(pattern) = parts.extensions.get::<MatchedPath>() else { return HashMap::new() };
    pattern
        .as_str()
        .split('/')
        .zip(parts.uri.path().split('/'))
        .filter_map(|(segment, raw)| {
            let name = segment.strip_prefix('{')?.strip_suffix('}')?;
            Some((name.to_owned(), percent_decode_str(raw).decode_utf8_lossy().into_owned()))
        })
        .collect()
}

/// The `{client_id}` of a path (decoded lossily, see [`path_params`]); absent, a 404.
pub struct ClientIdPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIdPath {
    type Rejection = WireError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, WireError> {
        path_params(parts, state).await.remove("client_id").map(Self).ok_or_else(|| WireError::not_found("client"))
    }
}

/// The `{tenant}` of a path; an invalid or absent one is a 404.
pub struct TenantPath(pub TenantId);

impl<S: Send + Sync> FromRequestParts<S> for TenantPath {
    type Rejection = WireError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, WireError> {
        let params = path_params(parts, state).await;
        let tenant =
            params.get("tenant").and_then(|t| TenantId::parse(t.as_str()).ok()).ok_or_else(|| WireError::not_found("tenant"))?;
        Ok(Self(tenant))
    }
}

/// The `{tenant}/{workspace}` of a path; an invalid or absent one is a 404.
pub struct WorkspacePath(pub WorkspaceRef);

impl<S: Send + Sync> FromRequestParts<S> for WorkspacePath {
    type Rejection = WireError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, WireError> {
        let params = path_params(parts, state).await;
        let parse = |name: &str| params.get(name).map(String::as_str);
        let tenant = parse("tenant").and_then(|t| TenantId::parse(t).ok());
        let workspace = parse("workspace").and_then(|w| WorkspaceId::parse(w).ok());
        match (tenant, workspace) {
            (Some(tenant), Some(workspace)) => Ok(Self(WorkspaceRef { tenant, workspace })),
            _ => Err(WireError::not_found("workspace")),
        }
    }
}

#[derive(Debug)]
pub enum BodyError {
    TooLarge { limit: usize },
    Unreadable,
}

/// Reads a request body of at most `limit` bytes.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge { limit }),
        Err(_) => Err(BodyError::Unreadable),
    }
}

/// The request's `Content-Type`, if it is readable text.
pub fn content_type(parts_or_headers: &axum::http::HeaderMap) -> Option<String> {
    parts_or_headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

const ADMIN_BODY_LIMIT: usize = 1024 * 1024;

/// A JSON request body for the admin API: `application/json`, at most 1 MiB, no duplicate
/// members, and every deserialization error named by its path.
pub struct AdminJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AdminJson<T> {
    type Rejection = WireError;

    async fn from_request(request: Request, _: &S) -> Result<Self, WireError> {
        let is_json = content_type(request.headers())
            .is_some_and(|ct| ct.split(';').next().is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json")));
        if !is_json {
            return Err(WireError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid_request",
                "the request body must be application/json",
            ));
        }
        let bytes = read_body(request.into_body(), ADMIN_BODY_LIMIT).await.map_err(|error| match error {
            BodyError::TooLarge { .. } => WireError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                "the request body is larger than 1 MiB",
            ),
            BodyError::Unreadable => WireError::invalid_request("the request body could not be read"),
        })?;
        let object =
            strict_json::parse_object(&bytes).map_err(|e| WireError::invalid_request(format!("the request body {e}")))?;
        admin_value(object).map(Self)
    }
}

/// An admin request body as `T`, each deserialization error named by its path.
pub fn admin_value<T: DeserializeOwned>(object: serde_json::Map<String, serde_json::Value>) -> Result<T, WireError> {
    serde_path_to_error::deserialize(serde_json::Value::Object(object)).map_err(|error| {
        let path = error.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        WireError::invalid_request(format!("{field}: {}", error.inner()))
    })
}

/// Refuses members of an admin request body other than `known`, for types whose flattened
/// members serde would otherwise drop without a word.
pub fn only_members(object: &serde_json::Map<String, serde_json::Value>, known: &[&str]) -> Result<(), WireError> {
    match object.keys().find(|member| !known.contains(&member.as_str())) {
        Some(unknown) => {
            Err(WireError::invalid_request(format!("{unknown}: unknown field, expected one of {}", known.join(", "))))
        }
        None => Ok(()),
    }
}
