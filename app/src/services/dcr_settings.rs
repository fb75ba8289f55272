//! Reading and replacing a workspace's DCR settings.

use super::ServiceError;
use super::workspaces::get_workspace;
use crate::domain::dcr::DcrSettings;
use crate::domain::ids::WorkspaceRef;
use crate::domain::workspace::SettingsError;
use crate::state::AppState;
use crate::storage::DcrSettingsWrite;

pub async fn get_dcr_settings(state: &AppState, at: &WorkspaceRef) -> Result<DcrSettings, ServiceError> {
    Ok(get_workspace(state, at).await?.dcr)
}

/// Replaces the DCR settings. Keys were validated when `settings` was parsed; the rules across
/// fields are checked here, and nothing is saved unless all pass.
pub async fn update_dcr_settings(
    state: &AppState,
    at: &WorkspaceRef,
    settings: DcrSettings,
) -> Result<DcrSettings, ServiceError> {
    settings.validate(state.deployment.allow_insecure_jwks_uris)?;
    let workspace = get_workspace(state, at).await?;
    let trusts_a_ca = workspace.settings.trusted_client_ca_pem.is_some() || settings.trust_sandbox_directory;
    if settings.enabled && settings.require_mtls && !trusts_a_ca {
        return Err(SettingsError::new(
            "require_mtls",
            "no client certificate can be trusted yet: add trusted client CAs in the workspace's General settings, \
             or trust the sandbox directory",
        )
        .into());
    }
    match state.store.update_dcr_settings(at, &settings, state.clock.now()).await? {
        DcrSettingsWrite::Saved => {}
        DcrSettingsWrite::NoWorkspace => return Err(ServiceError::NotFound("workspace")),
        DcrSettingsWrite::NoPolicy => {
            let id = settings.policy_id.as_ref().map(ToString::to_string).unwrap_or_default();
            return Err(SettingsError::new("policy_id", format!("this workspace has no policy '{id}'")).into());
        }
    }
    Ok(settings)
}
