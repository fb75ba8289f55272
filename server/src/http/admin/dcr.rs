//! `/tenants/{tenant}/workspaces/{workspace}/dcr`: a workspace's DCR settings.

use app::domain::audit::ADMIN_API_ACTOR;
use axum::Json;
use axum::extract::State;

use app::domain::dcr::DcrSettings;
use app::domain::dry_run::{DryRunReport, DryRunRequest};
use app::services::dcr_settings;

use super::AdminCaller;
use crate::http::error::WireError;
use crate::http::extract::{AdminJson, WorkspacePath};
use crate::state::ServerState;

pub async fn get(
    _: AdminCaller,
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
) -> Result<Json<DcrSettings>, WireError> {
    Ok(Json(dcr_settings::get_dcr_settings(&state.app, &at).await?))
}

/// Replaces the settings. Keys are validated while the body is parsed (a malformed JWKS, a
/// private key, an unknown field: 400 naming the field), then the rules across fields; nothing
/// is saved unless everything passes.
pub async fn put(
    _: AdminCaller,
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    AdminJson(settings): AdminJson<DcrSettings>,
) -> Result<Json<DcrSettings>, WireError> {
    Ok(Json(dcr_settings::update_dcr_settings(&state.app, &at, settings, ADMIN_API_ACTOR).await?))
}

/// Runs a registration request through the whole pipeline without writing anything, and
/// reports every check with the answer the register endpoint would give.
pub async fn dry_run(
    _: AdminCaller,
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    AdminJson(request): AdminJson<DryRunRequest>,
) -> Result<Json<DryRunReport>, WireError> {
    Ok(Json(crate::services::dry_run::run(&state, &at, request).await?))
}
