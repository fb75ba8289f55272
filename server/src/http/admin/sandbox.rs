//! `/tenants/{tenant}/sandbox/software`: enrols software with the tenant's sandbox directory,
//! as `onboard tpp init --sandbox` does: a software statement, and a transport certificate for
//! the TPP's own key (sent as a certificate signing request). No private key leaves the TPP.
//! `/tenants/{tenant}/sandbox/software/{software_id}/statements`: a fresh statement for it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::AdminCaller;
use crate::http::error::WireError;
use crate::http::extract::{AdminJson, TenantPath};
use app::domain::activity::Actor;
use app::domain::audit::ADMIN_API_ACTOR;
use app::domain::sandbox::{Enrolment, EnrolmentRequest, IssuedStatement};

use crate::services::sandbox;
use crate::state::ServerState;

pub async fn enrol(
    _: AdminCaller,
    State(state): State<ServerState>,
    TenantPath(tenant): TenantPath,
    AdminJson(request): AdminJson<EnrolmentRequest>,
) -> Result<(StatusCode, Json<Enrolment>), WireError> {
    Ok((StatusCode::CREATED, Json(sandbox::enrol(&state, &tenant, request, &Actor::Named(ADMIN_API_ACTOR)).await?)))
}

pub async fn issue_statement(
    _: AdminCaller,
    State(state): State<ServerState>,
    TenantPath(tenant): TenantPath,
    Path((_, software_id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<IssuedStatement>), WireError> {
    let by = Actor::Named(ADMIN_API_ACTOR);
    Ok((StatusCode::CREATED, Json(sandbox::issue_requested_statement(&state, &tenant, &software_id, &by).await?)))
}
