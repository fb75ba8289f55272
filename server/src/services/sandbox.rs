//! A tenant's sandbox directory: made on first use, it enrols sandbox software (a software
//! statement signed by its key, a transport certificate issued by its CA for the TPP's own key)
//! and publishes key sets. A workspace whose DCR settings trust it sees its issuer, keys and CA
//! added to its own ([`trusting`]).

use std::sync::Arc;

use rcgen::DnType;
use serde_json::{Value, json};

use app::domain::activity::{Actor, AdministratorEventType, sandbox_software};
use app::domain::dcr::SoftwareStatementIssuer;
use app::domain::ids::TenantId;
use app::domain::jwks::{PublicJwks, Strictness};
use app::domain::sandbox::{
    Enrolment, EnrolmentRequest, IssuedStatement, SANDBOX_ISSUER, SandboxDirectoryKeys, SandboxSoftware, SandboxUrls,
    SoftwareDetails,
};
use app::domain::workspace::{SettingsError, Workspace};
use app::services::{ServiceError, activity};
use app::storage::{PrivateKeySlot, StoreError};

use crate::oauth2::jose::JwsAlgorithm;
use crate::pki::CertificateAuthority;
use crate::sealing::KeyEncryptionKey;
use crate::state::ServerState;
use crate::tpp::claims;
use crate::tpp::keys::{SigningKey, transport_jwk};

/// The key id of a sandbox directory's signing key.
const DIRECTORY_KID: &str = "sandbox-directory";

/// A tenant's sandbox directory, ready to sign and issue.
pub struct SandboxDirectory {
    signing: SigningKey,
    authority: CertificateAuthority,
    urls: SandboxUrls,
}

impl SandboxDirectory {
    /// The directory from its stored keys, opened with the key encryption key.
    fn open(
        kek: &KeyEncryptionKey,
        tenant: &TenantId,
        keys: &SandboxDirectoryKeys,
        urls: SandboxUrls,
    ) -> Result<Self, ServiceError> {
        let broken = |e: String| ServiceError::Internal(format!("the sandbox directory's keys are unusable: {e}"));
        let signing_slot = PrivateKeySlot::SandboxDirectorySigningKey { tenant: tenant.clone() };
        let signing_key_pem = kek
            .open(&keys.signing_key_pem, &signing_slot.sealing_context())
            .map_err(|e| broken(format!("its signing key {e}")))?;
        let ca_slot = PrivateKeySlot::SandboxDirectoryCaKey { tenant: tenant.clone() };
        let ca_key_pem = kek.open(&keys.ca_key_pem, &ca_slot.sealing_context()).map_err(|e| broken(format!("its CA key {e}")))?;
        Ok(Self {
            signing: SigningKey::from_pem(JwsAlgorithm::Ps256, DIRECTORY_KID, &signing_key_pem)
                .map_err(|e| broken(e.to_string()))?,
            authority: CertificateAuthority::from_pem(&keys.ca_cert_pem, &ca_key_pem).map_err(|e| broken(e.to_string()))?,
            urls,
        })
    }

    /// The key set software statements are verified with.
    pub fn public_jwks(&self) -> Value {
        self.signing.public_jwks()
    }

    pub fn ca_pem(&self) -> &str {
        self.authority.cert_pem()
    }

    /// A software statement for `details`, signed now.
    fn statement(&self, details: &SoftwareDetails, now: chrono::DateTime<chrono::Utc>) -> Result<String, ServiceError> {
        let jwks_endpoint = self.urls.software_jwks(&details.software_id);
        let claims = claims::software_statement(details, SANDBOX_ISSUER, Some(&jwks_endpoint), now);
        self.signing.sign(&claims).map_err(|e| ServiceError::Internal(e.to_string()))
    }
}

/// The tenant's sandbox directory if it has been made: what its public endpoints show, so an
/// anonymous request never makes one.
pub async fn existing_directory(state: &ServerState, tenant: &TenantId) -> Result<SandboxDirectory, ServiceError> {
    let keys = state.app.store.sandbox_directory(tenant).await?.ok_or(ServiceError::NotFound("sandbox directory"))?;
    SandboxDirectory::open(&state.protocol.kek, tenant, &keys, SandboxUrls::new(&state.app.deployment.public_url, tenant))
}

/// The tenant's sandbox directory, made (keys generated off the async runtime) on first use.
pub async fn directory(state: &ServerState, tenant: &TenantId) -> Result<SandboxDirectory, ServiceError> {
    let urls = SandboxUrls::new(&state.app.deployment.public_url, tenant);
    if let Some(keys) = state.app.store.sandbox_directory(tenant).await? {
        return SandboxDirectory::open(&state.protocol.kek, tenant, &keys, urls);
    }
    if !state.app.store.tenant_exists(tenant).await? {
        return Err(ServiceError::NotFound("tenant"));
    }
    let now = state.app.clock.now();
    let (kek, owner) = (state.protocol.kek.clone(), tenant.clone());
    let made = tokio::task::spawn_blocking(move || -> Result<SandboxDirectoryKeys, String> {
        let signing = SigningKey::generate(JwsAlgorithm::Ps256, DIRECTORY_KID).map_err(|e| e.to_string())?;
        let authority = CertificateAuthority::generate("Onboard Sandbox Transport CA", now).map_err(|e| e.to_string())?;
        let seal = |pem: &str, slot: PrivateKeySlot| kek.seal(pem, &slot.sealing_context()).map_err(|e| format!("a new key {e}"));
        Ok(SandboxDirectoryKeys {
            signing_key_pem: seal(signing.private_pem(), PrivateKeySlot::SandboxDirectorySigningKey { tenant: owner.clone() })?,
            ca_cert_pem: authority.cert_pem().to_owned(),
            ca_key_pem: seal(authority.key_pem(), PrivateKeySlot::SandboxDirectoryCaKey { tenant: owner })?,
            created_at: now,
        })
    })
    .await
    .map_err(|e| ServiceError::Internal(e.to_string()))?
    .map_err(ServiceError::Internal)?;
    let kept = state.app.store.ensure_sandbox_directory(tenant, &made).await?;
    tracing::info!(%tenant, "sandbox directory created");
    SandboxDirectory::open(&state.protocol.kek, tenant, &kept, urls)
}

/// Enrols (or re-enrols) software a TPP holds the keys of: checks the request, issues its
/// transport certificate, publishes its key set and signs its software statement. The
/// administrators' activity records who did.
pub async fn enrol(
    state: &ServerState,
    tenant: &TenantId,
    request: EnrolmentRequest,
    by: &Actor,
) -> Result<Enrolment, ServiceError> {
    let (software, enrolment) = certify(state, tenant, request).await?;
    state.app.store.put_sandbox_software(tenant, &software, None).await?;
    let software_id = &software.details.software_id;
    tracing::info!(%tenant, %software_id, org_id = %software.details.org_id, "sandbox software enrolled");
    let event =
        by.did(AdministratorEventType::SandboxSoftwareEnrolled, &sandbox_software(tenant, software_id), state.app.clock.now());
    activity::record(state.app.store.as_ref(), &event).await;
    Ok(enrolment)
}

/// What enrolling `request` comes to, written nowhere yet: the software as the directory keeps
/// it, and what the directory hands back.
pub async fn certify(
    state: &ServerState,
    tenant: &TenantId,
    request: EnrolmentRequest,
) -> Result<(SandboxSoftware, Enrolment), ServiceError> {
    request.details.check()?;
    let signing = PublicJwks::parse(&request.signing_jwks, Strictness::Strict)
        .map_err(|e| SettingsError::new("signing_jwks", e.to_string()))?;
    if signing.keys().is_empty() {
        return Err(SettingsError::new("signing_jwks", "give at least one public signing key").into());
    }
    let directory = directory(state, tenant).await?;
    let now = state.app.clock.now();
    let details = request.details;
    let subject = [
        (DnType::CommonName, details.software_id.as_str()),
        (DnType::OrganizationalUnitName, details.org_id.as_str()),
        (DnType::OrganizationName, "Onboard Sandbox"),
        (DnType::CountryName, "GB"),
    ];
    let certificate = directory
        .authority
        .issue_client_for_request(&request.transport_csr_pem, &subject, now)
        .map_err(|e| SettingsError::new("transport_csr_pem", e.to_string()))?;
    let tls = transport_jwk(&certificate, &format!("{}-tls", details.software_id)).map_err(ServiceError::Internal)?;
    let mut keys = signing.as_json()["keys"].as_array().cloned().unwrap_or_default();
    keys.push(tls);
    let enrolment = Enrolment {
        software_statement: directory.statement(&details, now)?,
        transport_certificate_pem: certificate,
        transport_subject_dn: subject_dn(&subject),
        directory_ca_pem: directory.ca_pem().to_owned(),
        software_jwks_endpoint: directory.urls.software_jwks(&details.software_id),
        directory_jwks_uri: directory.urls.directory_jwks(),
        issuer: SANDBOX_ISSUER.to_owned(),
    };
    Ok((SandboxSoftware { details, jwks: json!({ "keys": keys }), created_at: now }, enrolment))
}

/// A fresh software statement for software the directory has enrolled (a statement's `iat`
/// ages; registration refuses old ones when a workspace bounds their age).
pub async fn issue_statement(state: &ServerState, tenant: &TenantId, software_id: &str) -> Result<IssuedStatement, ServiceError> {
    let software = state.app.store.sandbox_software(tenant, software_id).await?.ok_or(ServiceError::NotFound("software"))?;
    let directory = existing_directory(state, tenant).await?;
    let software_statement = directory.statement(&software.details, state.app.clock.now())?;
    tracing::info!(%tenant, %software_id, "sandbox software statement issued");
    Ok(IssuedStatement { software_statement })
}

/// [`issue_statement`] at someone's request (through the admin API), recorded in the
/// administrators' activity.
pub async fn issue_requested_statement(
    state: &ServerState,
    tenant: &TenantId,
    software_id: &str,
    by: &Actor,
) -> Result<IssuedStatement, ServiceError> {
    let issued = issue_statement(state, tenant, software_id).await?;
    let event =
        by.did(AdministratorEventType::SandboxStatementIssued, &sandbox_software(tenant, software_id), state.app.clock.now());
    activity::record(state.app.store.as_ref(), &event).await;
    Ok(issued)
}

/// `CN=...,OU=...,O=...,C=...`, as `tls_client_auth_subject_dn` names the certificate (the
/// values are identifiers and fixed words, so none needs escaping).
fn subject_dn(subject: &[(DnType, &str)]) -> String {
    let label = |kind: &DnType| match kind {
        DnType::CommonName => "CN",
        DnType::OrganizationalUnitName => "OU",
        DnType::OrganizationName => "O",
        _ => "C",
    };
    subject.iter().map(|(kind, value)| format!("{}={value}", label(kind))).collect::<Vec<_>>().join(",")
}

/// A sandbox software's published key set.
pub async fn software_jwks(state: &ServerState, tenant: &TenantId, software_id: &str) -> Result<Value, ServiceError> {
    let software = state.app.store.sandbox_software(tenant, software_id).await?.ok_or(ServiceError::NotFound("software"))?;
    Ok(software.jwks)
}

/// The workspace as its protocol endpoints see it: when its DCR settings trust the sandbox
/// directory, the directory's issuer joins the trusted issuers and its CA the trusted client
/// CAs. Software statement keys are chosen by issuer ([`statement_keys`]).
pub async fn trusting(state: &ServerState, workspace: Arc<Workspace>) -> Result<Arc<Workspace>, StoreError> {
    if !workspace.dcr.trust_sandbox_directory {
        return Ok(workspace);
    }
    let Some(keys) = state.app.store.sandbox_directory(&workspace.tenant).await? else {
        return Ok(workspace);
    };
    // The stored workspace is shared (the store keeps it for a second): this view is a copy.
    let mut workspace = Arc::unwrap_or_clone(workspace);
    // Its keys are the directory's, read when a statement claims to be its (`statement_keys`).
    let issuers = &mut workspace.dcr.software_statement_issuers;
    issuers.retain(|trusted| trusted.issuer != SANDBOX_ISSUER);
    issuers.push(SoftwareStatementIssuer { issuer: SANDBOX_ISSUER.to_owned(), keys: None });
    let bundle = match workspace.settings.trusted_client_ca_pem.take() {
        Some(own) => format!("{}\n{}", own.trim_end(), keys.ca_cert_pem),
        None => keys.ca_cert_pem,
    };
    workspace.settings.trusted_client_ca_pem = Some(bundle);
    Ok(Arc::new(workspace))
}

/// The sandbox directory's keys, for a software statement its issuer claims to be from, when
/// `workspace` trusts it; `None` sends the caller to the workspace's own keys.
pub async fn statement_keys(
    state: &ServerState,
    workspace: &Workspace,
    issuer: &str,
) -> Result<Option<Arc<PublicJwks>>, ServiceError> {
    if !workspace.dcr.trust_sandbox_directory || issuer != SANDBOX_ISSUER {
        return Ok(None);
    }
    let keys = match existing_directory(state, &workspace.tenant).await {
        Ok(directory) => directory.public_jwks(),
        // No directory yet: nothing it signed can be genuine, and no keys of the workspace's verify it.
        Err(ServiceError::NotFound(_)) => return Ok(None),
        Err(other) => return Err(other),
    };
    let parsed = PublicJwks::parse(&keys, Strictness::SkipUnsupported).map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(Some(Arc::new(parsed)))
}

/// The key set at a sandbox `software_jwks_endpoint` of the workspace's tenant, read from the
/// store rather than fetched; `None` when `uri` is not one.
pub async fn local_software_jwks(
    state: &ServerState,
    workspace: &Workspace,
    uri: &str,
) -> Result<Option<Arc<PublicJwks>>, ServiceError> {
    if !workspace.dcr.trust_sandbox_directory {
        return Ok(None);
    }
    let urls = SandboxUrls::new(&state.app.deployment.public_url, &workspace.tenant);
    let Some(software_id) = urls.software_id_of(uri) else { return Ok(None) };
    let jwks = software_jwks(state, &workspace.tenant, &software_id).await?;
    let parsed = PublicJwks::parse(&jwks, Strictness::SkipUnsupported).map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(Some(Arc::new(parsed)))
}
