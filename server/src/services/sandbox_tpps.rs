//! The console's sandbox TPPs, server side: their keys are made here, enrolled with the
//! tenant's sandbox directory, and held as a bundle (the same files `onboard tpp init` writes),
//! which the console offers as a zip. Registering one builds the TPP's signed request and runs
//! it through the registration pipeline with its transport certificate as the connection's,
//! exactly as the endpoint would take it over mutual TLS.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use serde_json::{Map, Value};

use app::domain::activity::{Actor, AdministratorEventType, sandbox_software};
use app::domain::ids::{TenantId, WorkspaceRef};
use app::domain::sandbox::{NewSandboxTpp, SandboxRegistration, SandboxSoftwareSummary};
use app::domain::workspace::{Profile, SettingsError};
use app::services::sandbox_tpps::SandboxTppMaker;
use app::services::workspaces::get_workspace;
use app::services::{ServiceError, activity};
use app::state::AppState;
use app::storage::PrivateKeySlot;

use super::registration::{self, Failure, Incoming};
use super::sandbox;
use crate::listener::Connection;
use crate::oauth2::jose::JwsAlgorithm;
use crate::state::{ProtocolParts, ServerState};
use crate::tpp::bundle::{Bundle, NewKeys, RequestOptions};

/// What the registration answer shows instead of the registration access token: the console
/// is not the TPP, and the token is a credential.
const WITHHELD: &str = "(issued; not shown in the console)";

pub struct ConsoleSandboxTpps {
    pub protocol: ProtocolParts,
}

impl ConsoleSandboxTpps {
    fn server(&self, state: &AppState) -> ServerState {
        ServerState::new(state.clone(), self.protocol.clone())
    }
}

#[async_trait]
impl SandboxTppMaker for ConsoleSandboxTpps {
    async fn create(
        &self,
        state: &AppState,
        tenant: &TenantId,
        new: NewSandboxTpp,
    ) -> Result<SandboxSoftwareSummary, ServiceError> {
        create(&self.server(state), tenant, new).await
    }

    async fn register(
        &self,
        state: &AppState,
        at: &WorkspaceRef,
        software_id: &str,
    ) -> Result<SandboxRegistration, ServiceError> {
        register(&self.server(state), at, software_id).await
    }
}

pub async fn create(state: &ServerState, tenant: &TenantId, new: NewSandboxTpp) -> Result<SandboxSoftwareSummary, ServiceError> {
    new.details.check()?;
    let algorithm =
        JwsAlgorithm::parse(&new.algorithm).ok_or_else(|| SettingsError::new("algorithm", "choose PS256 or ES256"))?;
    if !state.app.store.tenant_exists(tenant).await? {
        return Err(ServiceError::NotFound("tenant"));
    }
    let software_id = new.details.software_id.clone();
    if state.app.store.sandbox_software(tenant, &software_id).await?.is_some() {
        return Err(
            SettingsError::new("software_id", "sandbox software with this id exists; choose another id or delete it").into()
        );
    }
    let details = new.details;
    let keys = tokio::task::spawn_blocking(move || NewKeys::generate(details, algorithm))
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?
        .map_err(|e| ServiceError::Internal(format!("making the sandbox TPP's keys: {e:#}")))?;
    let (software, enrolment) = sandbox::certify(state, tenant, keys.enrolment_request()).await?;
    let bundle = keys.enrolled(enrolment).map_err(|e| ServiceError::Internal(format!("{e:#}")))?;
    let held = serde_json::to_string(&bundle).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let slot = PrivateKeySlot::SandboxHeldBundle { tenant: tenant.clone(), software_id: software_id.clone() };
    let sealed =
        state.protocol.kek.seal(&held, &slot.sealing_context()).map_err(|e| ServiceError::Internal(format!("the bundle {e}")))?;
    state.app.store.put_sandbox_software(tenant, &software, Some(&sealed)).await?;
    tracing::info!(%tenant, %software_id, "sandbox TPP created in the console");
    Ok(SandboxSoftwareSummary { details: software.details, created_at: software.created_at, held: true })
}

/// The held bundle of a sandbox TPP.
async fn held_bundle(state: &ServerState, tenant: &TenantId, software_id: &str) -> Result<Bundle, ServiceError> {
    let sealed =
        state.app.store.sandbox_held_bundle(tenant, software_id).await?.ok_or(ServiceError::NotFound("sandbox TPP bundle"))?;
    let slot = PrivateKeySlot::SandboxHeldBundle { tenant: tenant.clone(), software_id: software_id.to_owned() };
    let held = state
        .protocol
        .kek
        .open(&sealed, &slot.sealing_context())
        .map_err(|e| ServiceError::Internal(format!("the held bundle {e}")))?;
    serde_json::from_str(&held).map_err(|e| ServiceError::Internal(format!("the held bundle is unreadable: {e}")))
}

/// The held bundle of a sandbox TPP, to hand to `by`; the administrators' activity records
/// who took its private keys.
pub async fn download_bundle(
    state: &ServerState,
    tenant: &TenantId,
    software_id: &str,
    by: &Actor,
) -> Result<Bundle, ServiceError> {
    let bundle = held_bundle(state, tenant, software_id).await?;
    let event =
        by.did(AdministratorEventType::SandboxBundleDownloaded, &sandbox_software(tenant, software_id), state.app.clock.now());
    activity::record(state.app.store.as_ref(), &event).await;
    Ok(bundle)
}

pub async fn register(state: &ServerState, at: &WorkspaceRef, software_id: &str) -> Result<SandboxRegistration, ServiceError> {
    let workspace = get_workspace(&state.app, at).await?;
    if workspace.profile != Profile::OpenbankingUk {
        return Err(SettingsError::new("workspace", "sandbox TPPs register at Open Banking UK workspaces").into());
    }
    let workspace = sandbox::trusting(state, workspace).await?;
    let mut bundle = held_bundle(state, &at.tenant, software_id).await?;
    // A fresh statement, so a workspace that bounds a statement's age takes it.
    bundle.software_statement = Some(sandbox::issue_statement(state, &at.tenant, software_id).await?.software_statement);
    let issuer = state.app.deployment.urls(at, workspace.profile).issuer;
    let now = state.app.clock.now();
    let request = bundle
        .registration_request(&issuer, &RequestOptions::default(), now)
        .map_err(|e| ServiceError::Internal(format!("signing the registration request: {e:#}")))?;
    let chain = CertificateDer::pem_slice_iter(bundle.transport_certificate_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ServiceError::Internal(format!("the held transport certificate is unreadable: {e}")))?;
    let incoming = Incoming {
        authorization: None,
        content_type: Some("application/jose".to_owned()),
        body: request.into(),
        connection: Connection { remote_addr: None, client_chain: Some(Arc::from(chain)) },
        headers: BTreeMap::new(),
    };
    let outcome = match registration::register(state, &workspace, incoming).await {
        Ok(answer) => {
            let mut registered: Map<String, Value> = serde_json::from_str(answer.get())
                .map_err(|e| ServiceError::Internal(format!("the registration's answer: {e}")))?;
            if registered.contains_key("registration_access_token") {
                registered.insert("registration_access_token".to_owned(), Value::from(WITHHELD));
            }
            let client_id = registered.get("client_id").and_then(Value::as_str).map(str::to_owned);
            SandboxRegistration { status: 201, client_id, answer: pretty(&Value::Object(registered)) }
        }
        Err(Failure::Internal(detail)) => return Err(ServiceError::Internal(detail)),
        Err(failure) => {
            let (error, description) = failure.audit_code();
            let answer = serde_json::json!({ "error": error, "error_description": description });
            SandboxRegistration { status: failure.status(), client_id: None, answer: pretty(&answer) }
        }
    };
    tracing::info!(workspace = %at, %software_id, status = outcome.status, "sandbox TPP registration tried from the console");
    Ok(outcome)
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}
