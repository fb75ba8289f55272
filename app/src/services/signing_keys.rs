//! A workspace's own signing keys: made when the workspace is created, published at its
//! `.well-known/jwks.json`. Key generation is cryptography, which the server provides through
//! [`SigningKeyFactory`]; it runs off the async runtime.

use std::sync::Arc;

use serde_json::{Value, json};

use super::ServiceError;
use crate::domain::ids::WorkspaceRef;
use crate::domain::signing::{SigningAlgorithm, SigningKeyMaterial, WorkspaceSigningKey};
use crate::state::AppState;

/// Makes new key pairs.
pub trait SigningKeyFactory: Send + Sync + 'static {
    fn generate(&self, algorithm: SigningAlgorithm) -> Result<SigningKeyMaterial, String>;
}

/// Makes and stores a new signing key for the workspace.
pub async fn create_signing_key(state: &AppState, at: &WorkspaceRef, algorithm: SigningAlgorithm) -> Result<(), ServiceError> {
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
pub async fn ensure_signing_key(state: &AppState, at: &WorkspaceRef, algorithm: SigningAlgorithm) -> Result<(), ServiceError> {
    if !state.store.signing_keys(at).await?.iter().any(|key| key.material.algorithm == algorithm) {
        create_signing_key(state, at, algorithm).await?;
    }
    Ok(())
}

/// The workspace's public keys as a JWKS (RFC 7517 §5).
pub async fn public_jwks(state: &AppState, at: &WorkspaceRef) -> Result<Value, ServiceError> {
    let keys: Vec<Value> = state.store.signing_keys(at).await?.into_iter().map(|key| key.material.public_jwk).collect();
    Ok(json!({ "keys": keys }))
}
