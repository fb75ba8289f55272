//! Server functions of a workspace's audit log.

use leptos::prelude::*;

use crate::domain::audit::AuditEvent;

/// Events newest first, filtered by `outcome` (`success`, `failure` or empty) and `event_type`
/// (a type name or empty); `before` pages back from an event id.
#[server(prefix = "/app/fn", endpoint = "list_audit_events")]
pub async fn list_audit_events(
    tenant: String,
    workspace: String,
    outcome: String,
    event_type: String,
    before: Option<i64>,
) -> Result<Vec<AuditEvent>, ServerFnError> {
    use crate::api::session::{app_state, require_administrator, user_error};
    use crate::domain::audit::AuditFilter;
    require_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let filter = AuditFilter { event_type: event_type.parse().ok(), outcome: outcome.parse().ok(), before_id: before, limit: 50 };
    crate::services::audit::list_audit_events(&app_state()?, &at, &filter).await.map_err(user_error)
}
