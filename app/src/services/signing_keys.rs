//! A workspace's own signing keys: made when the workspace is created, published at its
//! `.well-known/jwks.json`. Key generation is cryptography, which the server provides through
//! [`SigningKeyFactory`]; it runs off the async runtime.

use std::sync::Arc;

use serde_json::{Value, json};

use super::ServiceError;
use crate::domain::audit::AuditEventType;
use crate::domain::ids::WorkspaceRef;
use crate::domain::signing::{
    JwsAlgorithm, KeyState, SigningKeyMaterial, SigningKeyView, WorkspaceSigningKey, key_states, keys_to_erase,
};
use crate::services::workspaces::get_workspace;
use crate::state::AppState;

/// Makes new key pairs.
pub trait SigningKeyFactory: Send + Sync + 'static {
    fn generate(&self, algorithm: JwsAlgorithm) -> Result<SigningKeyMaterial, String>;
}

/// Makes and stores a new signing key for the workspace.
pub async fn create_signing_key(state: &AppState, at: &WorkspaceRef, algorithm: JwsAlgorithm) -> Result<(), ServiceError> {
    let factory: Arc<dyn SigningKeyFactory> = state.signing_key_factory.clone();
    let material = tokio::task::spawn_blocking(move || factory.generate(algorithm))
        .await
        .map_err(|e| ServiceError::Internal(format!("key generation stopped: {e}")))?
        .map_err(|e| ServiceError::Internal(format!("key generation failed: {e}")))?;
    let key = WorkspaceSigningKey { workspace: at.clone(), material, created_at: state.clock.now() };
    state.store.insert_signing_key(&key).await?;
    tracing::info!(workspace = %at, kid = %key.material.kid, "made a signing key");
    Ok(())
}

/// Makes a signing key for `algorithm` unless the workspace has one.
pub async fn ensure_signing_key(state: &AppState, at: &WorkspaceRef, algorithm: JwsAlgorithm) -> Result<(), ServiceError> {
    if !state.store.signing_keys(at).await?.iter().any(|key| key.material.algorithm == algorithm) {
        create_signing_key(state, at, algorithm).await?;
    }
    Ok(())
}

/// Rotates the workspace's `algorithm` key: a new key signs its tokens from now on, and the one
/// it replaces stays published until every token that key signed has expired.
pub async fn rotate_signing_key(
    state: &AppState,
    at: &WorkspaceRef,
    algorithm: JwsAlgorithm,
    actor: &str,
) -> Result<SigningKeyView, ServiceError> {
    get_workspace(state, at).await?;
    create_signing_key(state, at, algorithm).await?;
    let signing = key_views(state, at)
        .await?
        .into_iter()
        .find(|key| key.algorithm == algorithm && key.state == KeyState::Signing)
        .ok_or_else(|| ServiceError::Internal(format!("the new {} key of {at} is not stored", algorithm.as_str())))?;
    let detail = format!("new {} key {}", algorithm.as_str(), signing.kid);
    super::audit::record_change(state, at, AuditEventType::SigningKeyRotated, actor, Some(detail)).await;
    Ok(signing)
}

/// The workspace's keys, newest first, with their states.
pub async fn list_signing_keys(state: &AppState, at: &WorkspaceRef) -> Result<Vec<SigningKeyView>, ServiceError> {
    key_views(state, at).await
}

/// The workspace's keys (not found if the workspace is not) with their states.
async fn key_views(state: &AppState, at: &WorkspaceRef) -> Result<Vec<SigningKeyView>, ServiceError> {
    let in_use = get_workspace(state, at).await?.settings.access_token_signing_alg;
    let keys = state.store.signing_keys(at).await?;
    let states = key_states(&keys, state.clock.now());
    Ok(keys
        .iter()
        .zip(states)
        .map(|(key, state)| SigningKeyView {
            kid: key.material.kid.clone(),
            algorithm: key.material.algorithm,
            created_at: key.created_at,
            state,
            private_key_erased: key.material.sealed_private_key.is_none(),
            signs_tokens: state == KeyState::Signing && key.material.algorithm == in_use,
            public_jwk: key.material.public_jwk.clone(),
        })
        .collect())
}

/// Erases the private half of every key that has retired (it signs nothing, no token it signed
/// is still valid, and it is no longer published): a private key kept past its use is only a
/// liability. The key stays listed, as retired, with its public half. Returns the keys erased.
pub async fn erase_retired_private_keys(state: &AppState) -> Result<Vec<WorkspaceSigningKey>, ServiceError> {
    let keys = state.store.every_signing_key().await?;
    let now = state.clock.now();
    let mut erased = Vec::new();
    for key in keys_to_erase(&keys, now) {
        if state.store.erase_private_key(&key.workspace, &key.material.kid, now).await? {
            tracing::info!(workspace = %key.workspace, kid = %key.material.kid, "erased the private half of a retired signing key");
            erased.push(key.clone());
        }
    }
    Ok(erased)
}

/// The workspace's published keys as a JWKS (RFC 7517 §5): those signing, and those replaced
/// whose tokens may still be valid.
pub async fn public_jwks(state: &AppState, at: &WorkspaceRef) -> Result<Value, ServiceError> {
    let keys = state.store.signing_keys(at).await?;
    let states = key_states(&keys, state.clock.now());
    let published: Vec<&Value> =
        keys.iter().zip(states).filter(|(_, state)| state.is_published()).map(|(key, _)| &key.material.public_jwk).collect();
    Ok(json!({ "keys": published }))
}
