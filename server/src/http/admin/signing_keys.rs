//! `/tenants/{tenant}/workspaces/{workspace}/signing-keys`: the keys a workspace signs its
//! access tokens with. POST rotates one algorithm's key: the new key signs from then on, and
//! the replaced one stays published until every token it signed has expired.

use app::domain::audit::ADMIN_API_ACTOR;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use app::domain::signing::{JwsAlgorithm, SigningKeyView};
use app::services::signing_keys;

use super::AdminCaller;
use crate::http::error::WireError;
use crate::http::extract::{AdminJson, WorkspacePath};
use crate::state::ServerState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    algorithm: JwsAlgorithm,
}

pub async fn list(
    _: AdminCaller,
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
) -> Result<Json<Value>, WireError> {
    Ok(Json(json!({ "signing_keys": signing_keys::list_signing_keys(&state.app, &at).await? })))
}

pub async fn rotate(
    _: AdminCaller,
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    AdminJson(rotation): AdminJson<Rotation>,
) -> Result<(StatusCode, Json<SigningKeyView>), WireError> {
    Ok((StatusCode::CREATED, Json(signing_keys::rotate_signing_key(&state.app, &at, rotation.algorithm, ADMIN_API_ACTOR).await?)))
}
