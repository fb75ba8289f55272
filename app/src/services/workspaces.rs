//! Creating, reading, listing and configuring workspaces.

use std::sync::Arc;

use x509_parser::prelude::{FromDer as _, X509Certificate};

use super::{ServiceError, signing_keys};
use crate::domain::audit::AuditEventType;
use crate::domain::dcr::DcrSettings;
use crate::domain::ids::{TenantId, WorkspaceId, WorkspaceRef};
use crate::domain::workspace::{
    NewWorkspace, Profile, SettingsError, Workspace, WorkspaceSettings, WorkspaceSettingsPatch, WorkspaceSummary,
};
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

/// Creates a workspace with the defaults of its profile (DCR off) and its first signing key.
pub async fn create_workspace(state: &AppState, tenant: &TenantId, new: NewWorkspace) -> Result<Workspace, ServiceError> {
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
    match create_workspace(state, tenant, new).await {
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
pub async fn update_settings(
    state: &AppState,
    at: &WorkspaceRef,
    patch: WorkspaceSettingsPatch,
    actor: &str,
) -> Result<Workspace, ServiceError> {
    let mut workspace = Arc::unwrap_or_clone(get_workspace(state, at).await?);
    let settings = workspace.settings.patched(patch)?;
    match &settings.trusted_client_ca_pem {
        Some(pem) => check_ca_bundle(pem)?,
        // As the DCR settings check it: the sandbox directory's CA counts when it is trusted.
        None if workspace.dcr.enabled && workspace.dcr.require_mtls && !workspace.dcr.trust_sandbox_directory => {
            return Err(SettingsError::new(
                "trusted_client_ca_pem",
                "registration requires mutual TLS, which needs trusted client CAs: turn off \"Require mutual TLS\" in the DCR \
                 settings first, or trust the sandbox directory there",
            )
            .into());
        }
        None => {}
    }
    let algorithm = settings.access_token_signing_alg;
    if algorithm != workspace.settings.access_token_signing_alg {
        signing_keys::ensure_signing_key(state, at, algorithm).await?;
    }
    let now = state.clock.now();
    if !state.store.update_workspace_settings(at, &settings, now).await? {
        return Err(ServiceError::NotFound("workspace"));
    }
    super::audit::record_change(state, at, AuditEventType::SettingsUpdated, actor, None).await;
    workspace.settings = settings;
    workspace.updated_at = now;
    Ok(workspace)
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
