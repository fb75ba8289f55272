//! `/tenants/{tenant}/workspaces[/{workspace}]`: list, create, read, and update general settings.

use std::sync::Arc;

use app::domain::activity::Actor;
use app::domain::audit::ADMIN_API_ACTOR;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use app::domain::dcr::DcrSettings;
use app::domain::ids::{TenantId, WorkspaceId};
use app::domain::urls::WorkspaceUrls;
use app::domain::workspace::{NewWorkspace, Profile, Workspace, WorkspaceSettings, WorkspaceSettingsPatch};
use app::services::workspaces;

use super::AdminCaller;
use crate::http::error::WireError;
use crate::http::extract::{AdminJson, TenantPath, WorkspacePath};
use crate::state::ServerState;

/// A workspace with the URLs a TPP needs.
#[derive(Serialize)]
pub struct WorkspaceView {
    tenant: TenantId,
    id: WorkspaceId,
    name: String,
    profile: Profile,
    settings: WorkspaceSettings,
    dcr: DcrSettings,
    endpoints: WorkspaceUrls,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl WorkspaceView {
    fn new(state: &ServerState, workspace: Workspace) -> Self {
        let endpoints = state.app.deployment.urls(&workspace.reference(), workspace.profile);
        Self {
            tenant: workspace.tenant,
            id: workspace.id,
            name: workspace.name,
            profile: workspace.profile,
            settings: workspace.settings,
            dcr: workspace.dcr,
            endpoints,
            created_at: workspace.created_at,
            updated_at: workspace.updated_at,
        }
    }
}

pub async fn list(
    _: AdminCaller,
    State(state): State<ServerState>,
    TenantPath(tenant): TenantPath,
) -> Result<Json<Value>, WireError> {
    let list = workspaces::list_workspaces(&state.app, &tenant).await?;
    Ok(Json(json!({ "workspaces": list })))
}

pub async fn create(
    _: AdminCaller,
    State(state): State<ServerState>,
    TenantPath(tenant): TenantPath,
    AdminJson(new): AdminJson<NewWorkspace>,
) -> Result<(StatusCode, Json<WorkspaceView>), WireError> {
    let workspace = workspaces::create_workspace(&state.app, &tenant, new, &Actor::Named(ADMIN_API_ACTOR)).await?;
    Ok((StatusCode::CREATED, Json(WorkspaceView::new(&state, workspace))))
}

pub async fn get(
    _: AdminCaller,
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
) -> Result<Json<WorkspaceView>, WireError> {
    let workspace = workspaces::get_workspace(&state.app, &at).await?;
    Ok(Json(WorkspaceView::new(&state, Arc::unwrap_or_clone(workspace))))
}

pub async fn update(
    _: AdminCaller,
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    AdminJson(patch): AdminJson<WorkspaceSettingsPatch>,
) -> Result<Json<WorkspaceView>, WireError> {
    let workspace = workspaces::update_settings(&state.app, &at, patch, ADMIN_API_ACTOR).await?;
    Ok(Json(WorkspaceView::new(&state, workspace)))
}
