//! Server functions of the General tab's signing keys: listing them and rotating one.

use leptos::prelude::*;

use crate::domain::signing::SigningKeyView;

/// The workspace's signing keys, newest first, with where each is in its life.
#[server(prefix = "/app/fn", endpoint = "list_signing_keys")]
pub async fn list_signing_keys(tenant: String, workspace: String) -> Result<Vec<SigningKeyView>, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_administrator};
    require_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    crate::services::signing_keys::list_signing_keys(&app_state()?, &at).await.map_err(user_error)
}

/// Makes a new key for `algorithm`, which signs the workspace's tokens from then on; returns it.
#[server(prefix = "/app/fn", endpoint = "rotate_signing_key")]
pub async fn rotate_signing_key(tenant: String, workspace: String, algorithm: String) -> Result<SigningKeyView, ServerFnError> {
    use crate::api::errors::{invalid, user_error};
    use crate::api::session::{app_state, require_confirmed_administrator};
    use crate::domain::signing::JwsAlgorithm;
    let administrator = require_confirmed_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let algorithm = JwsAlgorithm::parse(&algorithm).ok_or_else(|| invalid("algorithm: choose PS256 or ES256"))?;
    let key = crate::services::signing_keys::rotate_signing_key(&app_state()?, &at, algorithm, &administrator.email)
        .await
        .map_err(user_error)?;
    tracing::info!(workspace = %at, kid = %key.kid, administrator = %administrator.email, "signing key rotated in the console");
    Ok(key)
}
