//! The console's sandbox TPPs: test software whose keys the server makes and holds, so an
//! administrator can try a workspace's registration endpoint without assembling anything.
//! Making keys and registering need the server crate's cryptography and pipeline, which
//! implements [`SandboxTppMaker`]; listing and deleting are plain store calls.

use async_trait::async_trait;

use super::ServiceError;
use crate::domain::activity::{Actor, AdministratorEventType, sandbox_software};
use crate::domain::ids::{TenantId, WorkspaceRef};
use crate::domain::sandbox::{NewSandboxTpp, SandboxRegistration, SandboxSoftwareSummary};
use crate::state::AppState;

#[async_trait]
pub trait SandboxTppMaker: Send + Sync {
    /// Makes the TPP's keys, enrols it with the tenant's sandbox directory, and holds its
    /// bundle. An existing software id is refused, so nothing enrolled elsewhere is replaced.
    async fn create(
        &self,
        state: &AppState,
        tenant: &TenantId,
        new: NewSandboxTpp,
    ) -> Result<SandboxSoftwareSummary, ServiceError>;
    /// Registers the TPP at the workspace through the registration pipeline, as its own
    /// request over mutual TLS would, and reports the endpoint's answer.
    async fn register(&self, state: &AppState, at: &WorkspaceRef, software_id: &str)
    -> Result<SandboxRegistration, ServiceError>;
}

/// Makes a sandbox TPP ([`SandboxTppMaker::create`]); the administrators' activity records who
/// did.
pub async fn create(
    state: &AppState,
    tenant: &TenantId,
    new: NewSandboxTpp,
    by: &Actor,
) -> Result<SandboxSoftwareSummary, ServiceError> {
    let made = state.sandbox_tpps.create(state, tenant, new).await?;
    let detail = format!("{} (made in the console, keys held)", sandbox_software(tenant, &made.details.software_id));
    let event = by.did(AdministratorEventType::SandboxSoftwareEnrolled, &detail, state.clock.now());
    super::activity::record(state.store.as_ref(), &event).await;
    Ok(made)
}

pub async fn list(state: &AppState, tenant: &TenantId) -> Result<Vec<SandboxSoftwareSummary>, ServiceError> {
    if !state.store.tenant_exists(tenant).await? {
        return Err(ServiceError::NotFound("tenant"));
    }
    Ok(state.store.sandbox_software_list(tenant).await?)
}

/// Deletes sandbox software: the directory stops publishing its key set, so clients it
/// registered can no longer prove themselves with it. The administrators' activity records
/// who did.
pub async fn delete(state: &AppState, tenant: &TenantId, software_id: &str, by: &Actor) -> Result<(), ServiceError> {
    if state.store.delete_sandbox_software(tenant, software_id).await? {
        tracing::info!(%tenant, %software_id, "sandbox software deleted");
        let event =
            by.did(AdministratorEventType::SandboxSoftwareDeleted, &sandbox_software(tenant, software_id), state.clock.now());
        super::activity::record(state.store.as_ref(), &event).await;
        Ok(())
    } else {
        Err(ServiceError::NotFound("sandbox software"))
    }
}
