//! Reading a workspace's audit log, and recording administrators' changes to it.

use super::ServiceError;
use super::workspaces::get_workspace;
use crate::domain::audit::{AuditEvent, AuditEventType, AuditFilter, NewAuditEvent};
use crate::domain::event_log::recordable_detail;
use crate::domain::ids::WorkspaceRef;
use crate::state::AppState;

/// Records a change `actor` has made (and that is saved by now). The change stands whatever
/// happens here, so a failure to record it is logged, not returned as the change's failure.
pub async fn record_change(state: &AppState, at: &WorkspaceRef, event_type: AuditEventType, actor: &str, detail: Option<String>) {
    let detail = detail.as_deref().map(recordable_detail);
    let event = NewAuditEvent::administration(at.clone(), event_type, actor, detail, state.clock.now());
    if let Err(error) = state.store.record_audit_event(&event).await {
        tracing::error!(workspace = %at, %error, event = %event_type, "could not record an administrator's change in the audit log");
    }
}

pub async fn list_audit_events(
    state: &AppState,
    at: &WorkspaceRef,
    filter: &AuditFilter,
) -> Result<Vec<AuditEvent>, ServiceError> {
    get_workspace(state, at).await?;
    Ok(state.store.audit_events(at, filter).await?)
}
