//! `GET /{tenant}/{workspace}/.well-known/jwks.json`: the workspace's public signing keys
//! (RFC 7517 §5), the `jwks_uri` of its discovery document.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use app::services::{signing_keys, workspaces};

use super::error::WireError;
use super::extract::WorkspacePath;
use crate::state::ServerState;

pub async fn get(State(state): State<ServerState>, WorkspacePath(at): WorkspacePath) -> Result<Response, WireError> {
    workspaces::get_workspace(&state.app, &at).await?;
    let jwks = signing_keys::public_jwks(&state.app, &at).await?;
    let mut response = Json(jwks).into_response();
    // Public, and cached for a minute at most: a rotation made at once signs with the new key
    // at once (a key suspected of compromise must stop signing then), so a verifier that meets
    // its `kid` fetches the set again and must not be handed one cached from before the
    // rotation for long. A planned rotation publishes its key hours ahead. The replaced key
    // stays in the set for as long as its tokens live.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    Ok(response)
}
