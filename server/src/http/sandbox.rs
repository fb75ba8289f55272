//! The sandbox directory's public face, under `/{tenant}/.sandbox/`: its key set, its CA
//! certificate and the key sets of the software it enrolled (their `software_jwks_endpoint`).
//! No credentials are needed, as for the Open Banking directory's keystore.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error::WireError;
use super::extract::TenantPath;
use crate::services::sandbox;
use crate::state::ServerState;

/// Public key sets may be cached briefly, like a workspace's own.
fn cacheable(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}

pub async fn directory_jwks(State(state): State<ServerState>, TenantPath(tenant): TenantPath) -> Result<Response, WireError> {
    let directory = sandbox::existing_directory(&state, &tenant).await?;
    Ok(cacheable(Json(directory.public_jwks()).into_response()))
}

pub async fn directory_ca(State(state): State<ServerState>, TenantPath(tenant): TenantPath) -> Result<Response, WireError> {
    let directory = sandbox::existing_directory(&state, &tenant).await?;
    let pem = directory.ca_pem().to_owned();
    Ok(cacheable(([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response()))
}

#[derive(Deserialize)]
pub struct SoftwarePath {
    software_id: String,
}

pub async fn software_jwks(
    State(state): State<ServerState>,
    TenantPath(tenant): TenantPath,
    Path(path): Path<SoftwarePath>,
) -> Result<Response, WireError> {
    let jwks = sandbox::software_jwks(&state, &tenant, &path.software_id).await?;
    Ok(cacheable(Json(jwks).into_response()))
}
