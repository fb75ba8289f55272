//! A workspace's own signing keys: made when the workspace is created, rotated at once or
//! published ahead of a planned rotation, published at its `.well-known/jwks.json`. Key generation is cryptography, which the server provides through
//! [`SigningKeyFactory`]; it runs off the async runtime.

use std::sync::Arc;

use serde_json::{Value, json};

use super::ServiceError;
use crate::domain::audit::AuditEventType;
use crate::domain::ids::WorkspaceRef;
use crate::domain::signing::{
    JwsAlgorithm, KeyState, MAX_PUBLISHED_AHEAD_HOURS, SigningKeyMaterial, SigningKeyView, WITHDRAWAL_CLOSES_SECONDS_BEFORE,
    WorkspaceSigningKey, key_states, keys_to_erase, signing_key,
};
use crate::domain::workspace::SettingsError;
use crate::services::workspaces::get_workspace;
use crate::state::AppState;

/// Makes new key pairs.
pub trait SigningKeyFactory: Send + Sync + 'static {
    fn generate(&self, algorithm: JwsAlgorithm) -> Result<SigningKeyMaterial, String>;
}

/// Makes and stores a new signing key for the workspace, signing at once; returns its `kid`.
pub async fn create_signing_key(state: &AppState, at: &WorkspaceRef, algorithm: JwsAlgorithm) -> Result<String, ServiceError> {
    make_signing_key(state, at, algorithm, 0).await
}

/// Makes and stores a new key that signs once it has been published for `hours`.
async fn make_signing_key(
    state: &AppState,
    at: &WorkspaceRef,
    algorithm: JwsAlgorithm,
    hours: u32,
) -> Result<String, ServiceError> {
    let factory: Arc<dyn SigningKeyFactory> = state.signing_key_factory.clone();
    let material = tokio::task::spawn_blocking(move || factory.generate(algorithm))
        .await
        .map_err(|e| ServiceError::Internal(format!("key generation stopped: {e}")))?
        .map_err(|e| ServiceError::Internal(format!("key generation failed: {e}")))?;
    let now = state.clock.now();
    let signs_from = now + chrono::Duration::hours(i64::from(hours));
    let key = WorkspaceSigningKey { workspace: at.clone(), material, created_at: now, signs_from };
    if hours == 0 {
        state.store.insert_signing_key(&key).await?;
    } else if !state.store.insert_planned_signing_key(&key, now).await? {
        return Err(ServiceError::Conflict(format!(
            "another {} key was planned meanwhile: look at the keys again",
            algorithm.as_str()
        )));
    }
    tracing::info!(workspace = %at, kid = %key.material.kid, %signs_from, "made a signing key");
    Ok(key.material.kid)
}

/// Makes a signing key for `algorithm` unless the workspace has one.
pub async fn ensure_signing_key(state: &AppState, at: &WorkspaceRef, algorithm: JwsAlgorithm) -> Result<(), ServiceError> {
    if !state.store.signing_keys(at).await?.iter().any(|key| key.material.algorithm == algorithm) {
        create_signing_key(state, at, algorithm).await?;
    }
    Ok(())
}

/// A rotation done: the key that signs, or will, and whether it was made by it (rather than
/// planned before and started now).
#[derive(Debug)]
pub struct Rotated {
    pub key: SigningKeyView,
    pub made: bool,
}

/// Rotates the workspace's `algorithm` key. With `published_ahead_hours` 0 a key signs its
/// tokens from now on (for a key that may be compromised): a new one, or the key a planned
/// rotation published, started early. Otherwise a new key is published now and signs once
/// that many hours have passed, so verifiers that cache the key set have it before they meet
/// it; one planned rotation at a time. Either way the key it replaces stays published until
/// every token it signed has expired.
pub async fn rotate_signing_key(
    state: &AppState,
    at: &WorkspaceRef,
    algorithm: JwsAlgorithm,
    published_ahead_hours: u32,
    actor: &str,
) -> Result<Rotated, ServiceError> {
    get_workspace(state, at).await?;
    if published_ahead_hours > MAX_PUBLISHED_AHEAD_HOURS {
        return Err(SettingsError::new(
            "published_ahead_hours",
            format!("must be between 0 (at once) and {MAX_PUBLISHED_AHEAD_HOURS}"),
        )
        .into());
    }
    let now = state.clock.now();
    let keys = state.store.signing_keys(at).await?;
    let planned = keys.iter().zip(key_states(&keys, now)).find_map(|(key, state)| match state {
        KeyState::Next { signs_from } if key.material.algorithm == algorithm => Some((key.material.kid.clone(), signs_from)),
        _ => None,
    });
    let alg = algorithm.as_str();
    let (kid, made, detail) = match (planned, published_ahead_hours) {
        (Some((kid, _)), 0) => {
            if !state.store.start_signing(at, &kid, now).await? {
                return Err(ServiceError::Conflict(format!(
                    "the planned {alg} key {kid} has started signing or was withdrawn meanwhile: look at the keys again"
                )));
            }
            let detail = format!("planned {alg} key {kid} signs from now");
            (kid, false, detail)
        }
        (Some((kid, signs_from)), _) => {
            return Err(ServiceError::Conflict(format!(
                "the {alg} key {kid} is already planned to sign from {}: make it sign now, or withdraw it first",
                signs_from.format("%Y-%m-%d %H:%M UTC")
            )));
        }
        (None, 0) => {
            let kid = create_signing_key(state, at, algorithm).await?;
            let detail = format!("new {alg} key {kid}");
            (kid, true, detail)
        }
        (None, hours) => {
            if signing_key(&keys, algorithm, now).is_none() {
                return Err(ServiceError::Conflict(format!("no {alg} key signs yet: make one that signs at once")));
            }
            let kid = make_signing_key(state, at, algorithm, hours).await?;
            let detail = format!("new {alg} key {kid}, published now, signs in {hours} h");
            (kid, true, detail)
        }
    };
    let key = key_views(state, at)
        .await?
        .into_iter()
        .find(|key| key.kid == kid)
        .ok_or_else(|| ServiceError::Internal(format!("the {alg} key {kid} of {at} is not stored")))?;
    super::audit::record_change(state, at, AuditEventType::SigningKeyRotated, actor, Some(detail)).await;
    Ok(Rotated { key, made })
}

/// Withdraws a key a planned rotation published, before it signs anything (until
/// [`WITHDRAWAL_CLOSES_SECONDS_BEFORE`] its hour): it leaves the published set, and the key
/// signing now goes on.
pub async fn withdraw_planned_key(state: &AppState, at: &WorkspaceRef, kid: &str, actor: &str) -> Result<(), ServiceError> {
    get_workspace(state, at).await?;
    let not_before = state.clock.now() + chrono::Duration::seconds(WITHDRAWAL_CLOSES_SECONDS_BEFORE);
    if !state.store.delete_planned_signing_key(at, kid, not_before).await? {
        let exists = state.store.signing_keys(at).await?.iter().any(|key| key.material.kid == kid);
        return Err(if exists {
            ServiceError::Conflict(format!(
                "the key {kid} signs, or is about to (a planned key can be withdrawn until 5 minutes before its hour): rotate to replace it"
            ))
        } else {
            ServiceError::NotFound("signing key")
        });
    }
    let detail = format!("planned key {kid}");
    super::audit::record_change(state, at, AuditEventType::SigningKeyWithdrawn, actor, Some(detail)).await;
    Ok(())
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

/// The workspace's published keys as a JWKS (RFC 7517 §5): those signing, those a planned
/// rotation published ahead, and those replaced whose tokens may still be valid.
pub async fn public_jwks(state: &AppState, at: &WorkspaceRef) -> Result<Value, ServiceError> {
    let keys = state.store.signing_keys(at).await?;
    let states = key_states(&keys, state.clock.now());
    let published: Vec<&Value> =
        keys.iter().zip(states).filter(|(_, state)| state.is_published()).map(|(key, _)| &key.material.public_jwk).collect();
    Ok(json!({ "keys": published }))
}
