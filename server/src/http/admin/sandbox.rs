//! `/tenants/{tenant}/sandbox/software`: enrols software with the tenant's sandbox directory,
//! as `onboard tpp init --sandbox` does: a software statement, and a transport certificate for
//! the TPP's own key (sent as a certificate signing request). No private key leaves the TPP.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::AdminCaller;
use crate::http::error::WireError;
use crate::http::extract::{AdminJson, TenantPath};
use crate::services::sandbox::{self, Enrolment, EnrolmentRequest};
use crate::state::ServerState;

pub async fn enrol(
    _: AdminCaller,
    State(state): State<ServerState>,
    TenantPath(tenant): TenantPath,
    AdminJson(request): AdminJson<EnrolmentRequest>,
) -> Result<(StatusCode, Json<Enrolment>), WireError> {
    Ok((StatusCode::CREATED, Json(sandbox::enrol(&state, &tenant, request).await?)))
}
