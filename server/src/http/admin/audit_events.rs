//! `/tenants/{tenant}/workspaces/{workspace}/audit-events`: the audit log, newest first.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use app::domain::audit::{AuditEventType, AuditFilter, Outcome};
use app::services::audit;

use super::{AdminCaller, query};
use crate::http::error::WireError;
use crate::http::extract::WorkspacePath;
use crate::state::ServerState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    #[serde(rename = "type")]
    event_type: Option<AuditEventType>,
    outcome: Option<Outcome>,
    /// Only events older than this id, for paging.
    before: Option<i64>,
    limit: Option<u32>,
}

pub async fn list(
    _: AdminCaller,
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    parsed: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<Value>, WireError> {
    let q = query(parsed)?;
    let filter = AuditFilter { event_type: q.event_type, outcome: q.outcome, before_id: q.before, limit: q.limit.unwrap_or(0) };
    let events = audit::list_audit_events(&state.app, &at, &filter).await?;
    Ok(Json(json!({ "audit_events": events })))
}
