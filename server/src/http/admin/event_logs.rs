//! The event logs, newest first: `/tenants/{tenant}/workspaces/{workspace}/audit-events` (a
//! workspace's audit log) and `/administrator-events` (administrators' activity). Both filter
//! by `type` and `outcome` and page back with `before` (an event id) and `limit`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use app::domain::activity::AdministratorEventType;
use app::domain::audit::AuditEventType;
use app::domain::event_log::{EventFilter, Outcome};
use app::services::{activity, audit};

use super::{AdminCaller, query};
use crate::http::error::WireError;
use crate::http::extract::WorkspacePath;
use crate::state::ServerState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventQuery<Kind> {
    #[serde(rename = "type")]
    event_type: Option<Kind>,
    outcome: Option<Outcome>,
    /// Only events older than this id, for paging.
    before: Option<i64>,
    limit: Option<u32>,
}

impl<Kind> EventQuery<Kind> {
    fn filter(self) -> EventFilter<Kind> {
        EventFilter { event_type: self.event_type, outcome: self.outcome, before_id: self.before, limit: self.limit.unwrap_or(0) }
    }
}

pub async fn list_audit_events(
    _: AdminCaller,
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    parsed: Result<Query<EventQuery<AuditEventType>>, QueryRejection>,
) -> Result<Json<Value>, WireError> {
    let events = audit::list_audit_events(&state.app, &at, &query(parsed)?.filter()).await?;
    Ok(Json(json!({ "audit_events": events })))
}

pub async fn list_administrator_events(
    _: AdminCaller,
    State(state): State<ServerState>,
    parsed: Result<Query<EventQuery<AdministratorEventType>>, QueryRejection>,
) -> Result<Json<Value>, WireError> {
    let events = activity::list_administrator_events(&state.app, &query(parsed)?.filter()).await?;
    Ok(Json(json!({ "administrator_events": events })))
}
