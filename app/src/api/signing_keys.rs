//! Server functions of the General tab's signing keys: listing them, rotating one at once or
//! planning a rotation, and withdrawing a planned key.

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

/// Rotates `algorithm`'s key: at once (`published_ahead_hours` absent or 0), or by publishing a
/// new key that signs once that many hours have passed. Returns the key that signs, or will.
#[server(prefix = "/app/fn", endpoint = "rotate_signing_key")]
pub async fn rotate_signing_key(
    tenant: String,
    workspace: String,
    algorithm: String,
    published_ahead_hours: Option<u32>,
) -> Result<SigningKeyView, ServerFnError> {
    use crate::api::errors::{invalid, user_error};
    use crate::api::session::{app_state, require_confirmed_administrator};
    use crate::domain::signing::JwsAlgorithm;
    let administrator = require_confirmed_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let algorithm = JwsAlgorithm::parse(&algorithm).ok_or_else(|| invalid("algorithm: choose PS256 or ES256"))?;
    let hours = published_ahead_hours.unwrap_or(0);
    let rotated = crate::services::signing_keys::rotate_signing_key(&app_state()?, &at, algorithm, hours, &administrator.email)
        .await
        .map_err(user_error)?;
    tracing::info!(workspace = %at, kid = %rotated.key.kid, hours, administrator = %administrator.email, "signing key rotated in the console");
    Ok(rotated.key)
}

/// Withdraws a key a planned rotation published, before it signs.
#[server(prefix = "/app/fn", endpoint = "withdraw_planned_key")]
pub async fn withdraw_planned_key(tenant: String, workspace: String, kid: String) -> Result<(), ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_confirmed_administrator};
    let administrator = require_confirmed_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    crate::services::signing_keys::withdraw_planned_key(&app_state()?, &at, &kid, &administrator.email)
        .await
        .map_err(user_error)?;
    tracing::info!(workspace = %at, %kid, administrator = %administrator.email, "planned signing key withdrawn in the console");
    Ok(())
}
