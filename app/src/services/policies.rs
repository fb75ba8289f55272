//! A workspace's DCR policies: created, read, replaced and deleted. Every write compiles the
//! policy first, so what is stored always evaluates; a policy attached to the register endpoint
//! cannot be deleted.

use super::ServiceError;
use super::audit::record_change;
use super::workspaces::get_workspace;
use crate::domain::audit::AuditEventType;
use crate::domain::ids::{PolicyId, WorkspaceRef};
use crate::domain::policy::{NewPolicy, Policy, PolicyDraft};
use crate::policy;
use crate::state::AppState;
use crate::storage::{PolicyDeletion, StoreError};

pub async fn list_policies(state: &AppState, at: &WorkspaceRef) -> Result<Vec<Policy>, ServiceError> {
    get_workspace(state, at).await?;
    Ok(state.store.policies(at).await?)
}

pub async fn get_policy(state: &AppState, at: &WorkspaceRef, id: &PolicyId) -> Result<Policy, ServiceError> {
    state.store.policy(at, id).await?.ok_or(ServiceError::NotFound("policy"))
}

pub async fn create_policy(state: &AppState, at: &WorkspaceRef, new: NewPolicy, actor: &str) -> Result<Policy, ServiceError> {
    let draft = checked(state, new.draft).await?;
    let now = state.clock.now();
    let policy = Policy { id: new.id, name: draft.name, body: draft.body, created_at: now, updated_at: now };
    match state.store.insert_policy(at, &policy).await {
        Ok(()) => {
            record_change(state, at, AuditEventType::PolicySaved, actor, Some(format!("policy {} created", policy.id))).await;
            Ok(policy)
        }
        Err(StoreError::Conflict) => Err(ServiceError::Conflict(format!("a policy '{}' exists already", policy.id))),
        Err(StoreError::NotFound) => Err(ServiceError::NotFound("workspace")),
        Err(other) => Err(other.into()),
    }
}

/// Replaces a policy's name and body; the next registration uses the new version.
pub async fn update_policy(
    state: &AppState,
    at: &WorkspaceRef,
    id: &PolicyId,
    draft: PolicyDraft,
    actor: &str,
) -> Result<Policy, ServiceError> {
    let draft = checked(state, draft).await?;
    if !state.store.update_policy(at, id, &draft, state.clock.now()).await? {
        return Err(ServiceError::NotFound("policy"));
    }
    record_change(state, at, AuditEventType::PolicySaved, actor, Some(format!("policy {id} changed"))).await;
    get_policy(state, at, id).await
}

pub async fn delete_policy(state: &AppState, at: &WorkspaceRef, id: &PolicyId, actor: &str) -> Result<(), ServiceError> {
    get_workspace(state, at).await?;
    match state.store.delete_policy(at, id).await? {
        PolicyDeletion::Deleted => {
            state.policies.forget(at, id);
            record_change(state, at, AuditEventType::PolicyDeleted, actor, Some(format!("policy {id} deleted"))).await;
            Ok(())
        }
        PolicyDeletion::NotFound => Err(ServiceError::NotFound("policy")),
        PolicyDeletion::Attached => Err(ServiceError::Conflict(format!(
            "policy '{id}' protects the register endpoint: choose another policy or none in the DCR settings first"
        ))),
    }
}

/// A draft with its name trimmed, after its shape checks and compilation pass (a Rego module
/// is compiled and evaluated once by a policy worker).
async fn checked(state: &AppState, mut draft: PolicyDraft) -> Result<PolicyDraft, ServiceError> {
    draft.name = draft.name.trim().to_owned();
    draft.check()?;
    policy::check(&draft.body, &state.rego).await?;
    Ok(draft)
}
