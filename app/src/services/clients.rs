//! Listing, reading and deleting a workspace's clients.

use super::ServiceError;
use super::workspaces::get_workspace;
use crate::domain::audit::{AuditEventType, NewAuditEvent, Outcome};
use crate::domain::client::{ClientDetails, ClientFilter, ClientSummary};
use crate::domain::ids::WorkspaceRef;
use crate::state::AppState;

pub async fn list_clients(state: &AppState, at: &WorkspaceRef, filter: ClientFilter) -> Result<Vec<ClientSummary>, ServiceError> {
    get_workspace(state, at).await?;
    Ok(state.store.clients(at, filter).await?)
}

pub async fn get_client(state: &AppState, at: &WorkspaceRef, client_id: &str) -> Result<ClientDetails, ServiceError> {
    state.store.client(at, client_id).await?.ok_or(ServiceError::NotFound("client"))
}

/// Deletes a client as an administrator; recorded in the audit log.
pub async fn delete_client(state: &AppState, at: &WorkspaceRef, client_id: &str) -> Result<(), ServiceError> {
    let client = get_client(state, at, client_id).await?;
    let event = NewAuditEvent {
        workspace: at.clone(),
        event_type: AuditEventType::ClientDeleted,
        outcome: Outcome::Success,
        client_id: Some(client_id.to_owned()),
        error: None,
        error_description: None,
        software_id: client.summary.software_id,
        org_id: client.summary.org_id,
        client_cert_subject: None,
        remote_addr: None,
        created_at: state.clock.now(),
    };
    if state.store.delete_client(at, client_id, &event).await? { Ok(()) } else { Err(ServiceError::NotFound("client")) }
}
