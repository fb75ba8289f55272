//! Creating, reading, listing and configuring workspaces.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use sha2::{Digest as _, Sha256};
use x509_parser::prelude::{FromDer as _, X509Certificate};

use super::{ServiceError, signing_keys};
use crate::domain::activity::{Actor, AdministratorEventType, SERVER_START_ACTOR};
use crate::domain::audit::AuditEventType;
use crate::domain::dcr::DcrSettings;
use crate::domain::ids::{TenantId, WorkspaceId, WorkspaceRef};
use crate::domain::revocation::CrlUri;
use crate::domain::workspace::{
    NewWorkspace, Profile, SettingsError, Workspace, WorkspaceSettings, WorkspaceSettingsPatch, WorkspaceSummary,
};
use crate::domain::workspace_change::{CaCertificate, describe_settings_change};
use crate::state::AppState;
use crate::storage::StoreError;

const MAX_CA_BUNDLE_BYTES: usize = 1024 * 1024;

/// The workspace at `at`, or [`ServiceError::NotFound`].
pub async fn get_workspace(state: &AppState, at: &WorkspaceRef) -> Result<Arc<Workspace>, ServiceError> {
    state.store.workspace(at).await?.ok_or(ServiceError::NotFound("workspace"))
}

pub async fn list_workspaces(state: &AppState, tenant: &TenantId) -> Result<Vec<WorkspaceSummary>, ServiceError> {
    if !state.store.tenant_exists(tenant).await? {
        return Err(ServiceError::NotFound("tenant"));
    }
    Ok(state.store.workspaces(tenant).await?)
}

/// Creates a workspace with the defaults of its profile (DCR off) and its first signing key;
/// the administrators' activity records who did.
pub async fn create_workspace(
    state: &AppState,
    tenant: &TenantId,
    new: NewWorkspace,
    by: &Actor,
) -> Result<Workspace, ServiceError> {
    new.validate()?;
    let now = state.clock.now();
    let at = WorkspaceRef { tenant: tenant.clone(), workspace: new.id.clone() };
    let issuer = state.deployment.urls(&at, new.profile).issuer;
    let workspace = Workspace {
        tenant: tenant.clone(),
        id: new.id,
        name: new.name.trim().to_owned(),
        profile: new.profile,
        settings: WorkspaceSettings::defaults_for(new.profile, &issuer),
        dcr: DcrSettings::defaults_for(new.profile),
        created_at: now,
        updated_at: now,
    };
    match state.store.insert_workspace(&workspace).await {
        Ok(()) => {
            let detail = format!("workspace {at} ({})", workspace.profile.label());
            super::activity::record(state.store.as_ref(), &by.did(AdministratorEventType::WorkspaceCreated, &detail, now)).await;
            signing_keys::create_signing_key(state, &at, workspace.settings.access_token_signing_alg).await?;
            Ok(workspace)
        }
        Err(StoreError::Conflict) => Err(ServiceError::Conflict(format!("workspace '{}' already exists", at.workspace))),
        Err(StoreError::NotFound) => Err(ServiceError::NotFound("tenant")),
        Err(other) => Err(other.into()),
    }
}

/// Creates the workspace unless it exists; used to seed the embedded default on first start.
pub async fn ensure_workspace(
    state: &AppState,
    tenant: &TenantId,
    id: &WorkspaceId,
    name: &str,
    profile: Profile,
) -> Result<(), ServiceError> {
    let new = NewWorkspace { id: id.clone(), name: name.to_owned(), profile };
    match create_workspace(state, tenant, new, &Actor::Named(SERVER_START_ACTOR)).await {
        Ok(_) => Ok(()),
        Err(ServiceError::Conflict(_)) => {
            let at = WorkspaceRef { tenant: tenant.clone(), workspace: id.clone() };
            let algorithm = get_workspace(state, &at).await?.settings.access_token_signing_alg;
            signing_keys::ensure_signing_key(state, &at, algorithm).await
        }
        Err(other) => Err(other),
    }
}

/// Applies a partial update to the general settings; nothing is saved unless all of it is valid.
/// The patch is applied to the settings as they are when written: a change saved meanwhile (by
/// another administrator, or another instance) is read again and kept, never overwritten.
pub async fn update_settings(
    state: &AppState,
    at: &WorkspaceRef,
    patch: WorkspaceSettingsPatch,
    actor: &str,
) -> Result<Workspace, ServiceError> {
    for _ in 0..SETTINGS_WRITE_ATTEMPTS {
        let mut workspace = Arc::unwrap_or_clone(get_workspace(state, at).await?);
        let settings = checked_settings(state, at, &workspace, patch.clone()).await?;
        let now = next_write_time(state.clock.now(), workspace.updated_at);
        if state.store.update_workspace_settings(at, &settings, workspace.updated_at, now).await? {
            let detail = describe_settings_change(&workspace.settings, &settings, &ca_certificates);
            super::audit::record_change(state, at, AuditEventType::SettingsUpdated, actor, Some(detail)).await;
            workspace.settings = settings;
            workspace.updated_at = now;
            return Ok(workspace);
        }
    }
    Err(ServiceError::Conflict("the settings kept changing while this change was saved; try again".to_owned()))
}

/// How many times a settings change is applied again to settings changed meanwhile (each
/// round, one of the changes racing for the row is saved).
pub(super) const SETTINGS_WRITE_ATTEMPTS: usize = 10;

/// When to say a row last written at `previous` is written now: `now` to the microsecond (what
/// PostgreSQL keeps), but always later than `previous`, so every write moves `updated_at` on
/// and a write based on an older read is always seen as one.
pub(super) fn next_write_time(now: DateTime<Utc>, previous: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound as _;
    let now = now.trunc_subsecs(6);
    if now > previous { now } else { previous + chrono::Duration::microseconds(1) }
}

/// `workspace`'s settings with `patch` applied, if they are valid with its DCR settings; a new
/// signing algorithm gets its key.
async fn checked_settings(
    state: &AppState,
    at: &WorkspaceRef,
    workspace: &Workspace,
    patch: WorkspaceSettingsPatch,
) -> Result<WorkspaceSettings, ServiceError> {
    let settings = workspace.settings.with_patch(patch);
    if let Some(problem) = problems_of(state, workspace, &settings).into_iter().next() {
        return Err(problem.into());
    }
    let algorithm = settings.access_token_signing_alg;
    if algorithm != workspace.settings.access_token_signing_alg {
        signing_keys::ensure_signing_key(state, at, algorithm).await?;
    }
    Ok(settings)
}

/// Every problem of the workspace's settings with `patch` applied, each with its field: what a
/// form shows at once, before anything is saved.
pub async fn settings_problems(
    state: &AppState,
    at: &WorkspaceRef,
    patch: WorkspaceSettingsPatch,
) -> Result<Vec<SettingsError>, ServiceError> {
    let workspace = get_workspace(state, at).await?;
    Ok(problems_of(state, &workspace, &workspace.settings.with_patch(patch)))
}

/// The settings' own rules, the CA bundle's, the deployment's outbound policy for revocation
/// lists, and the rule the DCR settings add: mutual TLS needs CAs (the sandbox directory's
/// count when it is trusted).
fn problems_of(state: &AppState, workspace: &Workspace, settings: &WorkspaceSettings) -> Vec<SettingsError> {
    let mut problems = settings.problems();
    if !problems.iter().any(|problem| problem.field == "client_crl_uris") {
        let unreachable = settings
            .client_crl_uris
            .iter()
            .filter_map(|uri| CrlUri::parse(uri).ok())
            .find_map(|uri| state.crls.check_address(&uri).err().map(|message| format!("'{uri}': {message}")));
        problems.extend(unreachable.map(|message| SettingsError::new("client_crl_uris", message)));
    }
    match &settings.trusted_client_ca_pem {
        Some(pem) => problems.extend(check_ca_bundle(pem).err()),
        None if workspace.dcr.enabled && workspace.dcr.require_mtls && !workspace.dcr.trust_sandbox_directory => {
            problems.push(SettingsError::new(
                "trusted_client_ca_pem",
                "registration requires mutual TLS, which needs trusted client CAs: turn off \"Require mutual TLS\" in the DCR \
                 settings first, or trust the sandbox directory there",
            ));
        }
        None => {}
    }
    problems
}

/// A CA bundle must hold at least one certificate, each a parsable CA certificate.
pub fn check_ca_bundle(pem: &str) -> Result<(), SettingsError> {
    let field = "trusted_client_ca_pem";
    if pem.len() > MAX_CA_BUNDLE_BYTES {
        return Err(SettingsError::new(field, "must be at most 1 MiB"));
    }
    let mut count = 0;
    for (index, block) in x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes()).enumerate() {
        let position = index + 1;
        let block = block.map_err(|_| SettingsError::new(field, format!("PEM block {position} is malformed")))?;
        if block.label != "CERTIFICATE" {
            return Err(SettingsError::new(field, format!("PEM block {position} is a {}, not a CERTIFICATE", block.label)));
        }
        let (_, certificate) = X509Certificate::from_der(&block.contents)
            .map_err(|_| SettingsError::new(field, format!("certificate {position} cannot be parsed")))?;
        if !certificate.is_ca() {
            return Err(SettingsError::new(
                field,
                format!("certificate {position} ({}) is not a CA certificate", certificate.subject()),
            ));
        }
        count += 1;
    }
    if count == 0 {
        return Err(SettingsError::new(field, "no PEM certificates found"));
    }
    Ok(())
}

/// The certificates of a CA bundle, in order, by subject and SHA-256 fingerprint; a block that
/// cannot be read is left out (a bundle is checked before it is saved, so none should be).
fn ca_certificates(pem: &str) -> Vec<CaCertificate> {
    x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes())
        .filter_map(Result::ok)
        .filter_map(|block| {
            let (_, certificate) = X509Certificate::from_der(&block.contents).ok()?;
            let sha256 = crate::secrets::hex(&Sha256::digest(&block.contents));
            Some(CaCertificate { subject: certificate.subject().to_string(), sha256 })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_write_moves_updated_at_on_by_at_least_a_microsecond() {
        let at = |micros: u32, nanos: u32| DateTime::from_timestamp(1_795_316_679, micros * 1000 + nanos).unwrap_or_default();
        assert_eq!(next_write_time(at(500, 0), at(100, 0)), at(500, 0));
        assert_eq!(next_write_time(at(500, 999), at(100, 0)), at(500, 0), "to the microsecond");
        assert_eq!(next_write_time(at(100, 0), at(100, 0)), at(101, 0), "a clock that stands still");
        assert_eq!(next_write_time(at(100, 400), at(100, 0)), at(101, 0), "within the same microsecond");
        assert_eq!(next_write_time(at(50, 0), at(100, 0)), at(101, 0), "a clock set back");
    }
}
