//! `/tenants/{tenant}/workspaces/{workspace}/signing-keys[/{kid}]`: the keys a workspace signs
//! its access tokens with. POST rotates one algorithm's key: a key signs from then on, or, with
//! `published_ahead_hours`, a new key is published now and signs once they have passed; the
//! replaced one stays published until every token it signed has expired. DELETE withdraws a
//! planned key before it signs.

use app::domain::audit::ADMIN_API_ACTOR;
use axum::Json;
use axum::extract::{Path, State};
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
    #[serde(default)]
    published_ahead_hours: u32,
}

#[derive(Deserialize)]
pub struct KeyPath {
    kid: String,
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
    let rotated =
        signing_keys::rotate_signing_key(&state.app, &at, rotation.algorithm, rotation.published_ahead_hours, ADMIN_API_ACTOR)
            .await?;
    Ok((if rotated.made { StatusCode::CREATED } else { StatusCode::OK }, Json(rotated.key)))
}

pub async fn withdraw(
    _: AdminCaller,
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    Path(path): Path<KeyPath>,
) -> Result<StatusCode, WireError> {
    signing_keys::withdraw_planned_key(&state.app, &at, &path.kid, ADMIN_API_ACTOR).await?;
    Ok(StatusCode::NO_CONTENT)
}
