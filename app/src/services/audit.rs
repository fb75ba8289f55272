//! Reading a workspace's audit log.

use super::ServiceError;
use super::workspaces::get_workspace;
use crate::domain::audit::{AuditEvent, AuditFilter};
use crate::domain::ids::WorkspaceRef;
use crate::state::AppState;

pub async fn list_audit_events(
    state: &AppState,
    at: &WorkspaceRef,
    filter: &AuditFilter,
) -> Result<Vec<AuditEvent>, ServiceError> {
    get_workspace(state, at).await?;
    Ok(state.store.audit_events(at, filter).await?)
}
