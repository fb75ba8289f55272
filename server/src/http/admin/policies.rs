//! `/tenants/{tenant}/workspaces/{workspace}/policies[/{policy_id}]`: a workspace's DCR
//! policies. A body that does not compile (a bad pattern, a Rego syntax error with its line
//! and column) is a 400 naming the field, and nothing is saved.

use app::domain::audit::ADMIN_API_ACTOR;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use app::domain::ids::PolicyId;
use app::domain::policy::{NewPolicy, Policy, PolicyDraft};
use app::services::policies;

use super::AdminCaller;
use crate::http::error::WireError;
use crate::http::extract::{AdminJson, WorkspacePath, admin_value, only_members};
use crate::state::ServerState;

#[derive(Deserialize)]
pub struct PolicyPath {
    policy_id: String,
}

impl PolicyPath {
    fn id(&self) -> Result<PolicyId, WireError> {
        PolicyId::parse(self.policy_id.clone()).map_err(|_| WireError::not_found("policy"))
    }
}

pub async fn list(
    _: AdminCaller,
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
) -> Result<Json<Value>, WireError> {
    Ok(Json(json!({ "policies": policies::list_policies(&state.app, &at).await? })))
}

pub async fn create(
    _: AdminCaller,
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    AdminJson(body): AdminJson<Map<String, Value>>,
) -> Result<(StatusCode, Json<Policy>), WireError> {
    only_members(&body, &["id", "name", "language", "body"])?;
    let new: NewPolicy = admin_value(body)?;
    Ok((StatusCode::CREATED, Json(policies::create_policy(&state.app, &at, new, ADMIN_API_ACTOR).await?)))
}

pub async fn get(
    _: AdminCaller,
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    Path(path): Path<PolicyPath>,
) -> Result<Json<Policy>, WireError> {
    Ok(Json(policies::get_policy(&state.app, &at, &path.id()?).await?))
}

pub async fn put(
    _: AdminCaller,
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    Path(path): Path<PolicyPath>,
    AdminJson(body): AdminJson<Map<String, Value>>,
) -> Result<Json<Policy>, WireError> {
    // The id is the path's: a body naming one (even another) is refused, not ignored.
    only_members(&body, &["name", "language", "body"])?;
    let draft: PolicyDraft = admin_value(body)?;
    Ok(Json(policies::update_policy(&state.app, &at, &path.id()?, draft, ADMIN_API_ACTOR).await?))
}

pub async fn delete(
    _: AdminCaller,
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    Path(path): Path<PolicyPath>,
) -> Result<StatusCode, WireError> {
    policies::delete_policy(&state.app, &at, &path.id()?, ADMIN_API_ACTOR).await?;
    Ok(StatusCode::NO_CONTENT)
}
