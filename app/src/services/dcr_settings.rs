//! Reading and replacing a workspace's DCR settings.

use super::ServiceError;
use super::audit::record_change;
use super::workspaces::{SETTINGS_WRITE_ATTEMPTS, get_workspace, next_write_time};
use crate::domain::audit::AuditEventType;
use crate::domain::dcr::DcrSettings;
use crate::domain::dcr_change::describe_change;
use crate::domain::ids::WorkspaceRef;
use crate::domain::workspace::SettingsError;
use crate::state::AppState;
use crate::storage::DcrSettingsWrite;

pub async fn get_dcr_settings(state: &AppState, at: &WorkspaceRef) -> Result<DcrSettings, ServiceError> {
    Ok(get_workspace(state, at).await?.dcr.clone())
}

/// Replaces the DCR settings. Keys were validated when `settings` was parsed; the rules across
/// fields (some against the general settings) are checked here, and nothing is saved unless
/// all pass. The write holds only over the workspace the rules were checked against: after a
/// change meanwhile, they are checked again.
pub async fn update_dcr_settings(
    state: &AppState,
    at: &WorkspaceRef,
    settings: DcrSettings,
    actor: &str,
) -> Result<DcrSettings, ServiceError> {
    for _ in 0..SETTINGS_WRITE_ATTEMPTS {
        let current = get_workspace(state, at).await?;
        let read_at = current.updated_at;
        if let Some(problem) = dcr_settings_problems(state, at, &settings).await?.into_iter().next() {
            return Err(problem.into());
        }
        let now = next_write_time(state.clock.now(), read_at);
        match state.store.update_dcr_settings(at, &settings, read_at, now).await? {
            DcrSettingsWrite::Saved => {
                let detail = describe_change(&current.dcr, &settings);
                record_change(state, at, AuditEventType::DcrSettingsUpdated, actor, Some(detail)).await;
                return Ok(settings);
            }
            DcrSettingsWrite::NotAsRead => {}
            DcrSettingsWrite::NoPolicy => {
                let id = settings.policy_id.as_ref().map(ToString::to_string).unwrap_or_default();
                return Err(SettingsError::new("policy_id", format!("this workspace has no policy '{id}'")).into());
            }
        }
    }
    Err(ServiceError::Conflict("the workspace kept changing while these settings were saved; try again".to_owned()))
}

/// Every rule `settings` would break in the workspace at `at`, in the order of the console's
/// form; the console shows them all at once, so that switching registration on is one round
/// of fixes, not one a save.
pub async fn dcr_settings_problems(
    state: &AppState,
    at: &WorkspaceRef,
    settings: &DcrSettings,
) -> Result<Vec<SettingsError>, ServiceError> {
    let rules = settings.problems(state.deployment.allow_insecure_jwks_uris);
    // A URI the rules already refuse (plain http) is not looked at again.
    let mut problems: Vec<SettingsError> = settings
        .jwks_uris()
        .into_iter()
        .filter(|(field, _)| !rules.iter().any(|problem| problem.field == *field))
        .filter_map(|(field, uri)| state.jwks.check_address(uri).err().map(|message| SettingsError::new(field, message)))
        .collect();
    problems.extend(rules);
    let workspace = get_workspace(state, at).await?;
    let trusts_a_ca = workspace.settings.trusted_client_ca_pem.is_some() || settings.trust_sandbox_directory;
    if settings.enabled && settings.require_mtls && !trusts_a_ca {
        let mtls = SettingsError::new(
            "require_mtls",
            "no client certificate can be trusted yet: add trusted client CAs in the workspace's General settings, \
             or trust the sandbox directory",
        );
        // Before the certificate binding, as the form shows them.
        let at_binding = problems.iter().position(|p| p.field == "bind_transport_certificate").unwrap_or(problems.len());
        problems.insert(at_binding, mtls);
    }
    Ok(problems)
}
