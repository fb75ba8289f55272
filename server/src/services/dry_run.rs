//! A dry run of a registration: the request goes through the same pipeline as a real one
//! (`registration::validate_traced`), and the report shows every check with the answer the
//! endpoint would give. Nothing is written: no client, no replay record, no audit event.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Bytes;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use app::domain::dry_run::{DryRunBody, DryRunReport, DryRunRequest, Stage, Trace};
use app::domain::ids::WorkspaceRef;
use app::domain::workspace::SettingsError;
use app::services::ServiceError;
use app::services::dry_run::RegistrationDryRun;
use app::services::workspaces::get_workspace;
use app::state::AppState;

use super::registration::{self, Attempt, Failure, Incoming};
use crate::listener::Connection;
use crate::oauth2::registration::RegistrationError;
use crate::state::ServerState;
use crate::tls::client_trust::ClientTrust;

/// The most certificates a dry run's chain may hold.
const MAX_CHAIN: usize = 8;

pub async fn run(state: &ServerState, at: &WorkspaceRef, request: DryRunRequest) -> Result<DryRunReport, ServiceError> {
    let workspace = get_workspace(&state.app, at).await?;
    let now = state.app.clock.now();
    let chain = request.client_certificate_pem.as_deref().map(certificate_chain).transpose()?;
    let (content_type, body) = body(request.request, request.software_statement)?;
    let incoming = Incoming {
        authorization: None,
        content_type: Some(content_type.to_owned()),
        body,
        connection: Connection { remote_addr: None, client_chain: chain.map(Arc::from) },
        headers: BTreeMap::new(),
    };

    let mut trace = Trace::default();
    // Admission comes first at the endpoint; here its failures are noted and the pipeline still
    // runs, so an administrator sees what would follow once registration is switched on.
    let admitted = admission(&workspace.dcr, &mut trace);
    let certificate = state.client_trust.check(
        incoming.connection.client_chain.as_deref(),
        workspace.settings.trusted_client_ca_pem.as_deref(),
        now,
    );
    let mut attempt = Attempt::new(&incoming.connection, &certificate);
    let validated = registration::validate_traced(
        state,
        &workspace,
        &incoming,
        &certificate,
        now,
        &mut attempt,
        &mut trace,
        request.policy_id.as_ref(),
    )
    .await;
    let replay = match &validated {
        Ok(validated) => not_replayed(state, registration::replay_guard(&workspace, validated), &mut trace).await,
        Err(_) => Ok(()),
    };
    let outcome = admitted.and(validated.map(drop)).and(replay);
    Ok(report(outcome, trace))
}

/// DCR must be on; a `dcr_register` token cannot be presented in a dry run.
fn admission(dcr: &app::domain::dcr::DcrSettings, trace: &mut Trace) -> Result<(), Failure> {
    let enabled = if dcr.enabled { Ok(()) } else { Err(Failure::Disabled) };
    let enabled = trace
        .check(Stage::Admission, "dynamic client registration is enabled", enabled.map_err(Detailed))
        .map_err(|Detailed(failure)| failure);
    if dcr.protect_by_access_token {
        trace.skip(
            Stage::Admission,
            "a dcr_register access token",
            "the endpoint requires one; a dry run presents none, so this check is left out",
        );
    }
    enabled
}

/// A failure shown as "code: description".
struct Detailed(Failure);

impl std::fmt::Display for Detailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.detail())
    }
}

/// The replay check a real registration makes when it stores the client, made read-only.
async fn not_replayed(state: &ServerState, guard: Option<app::storage::ReplayGuard>, trace: &mut Trace) -> Result<(), Failure> {
    let Some(guard) = guard else { return Ok(()) };
    let seen = state.app.store.replay_guard_exists(&guard).await.map_err(|e| Failure::Internal(e.to_string()))?;
    let result = if seen { Err(Detailed(Failure::Rejected(RegistrationError::Replayed))) } else { Ok(()) };
    trace.check(Stage::Claims, "jti was not used before", result).map_err(|Detailed(failure)| failure)
}

fn report(outcome: Result<(), Failure>, trace: Trace) -> DryRunReport {
    match outcome {
        Ok(()) => DryRunReport { accepted: true, status: 201, error: None, error_description: None, checks: trace.checks },
        Err(failure) => {
            let (error, description) = failure.audit_code();
            DryRunReport {
                accepted: false,
                status: failure.status(),
                error: Some(error.to_owned()),
                error_description: Some(description),
                checks: trace.checks,
            }
        }
    }
}

/// The body a TPP would send: a JWS as `application/jose`, claims as `application/json` with
/// the software statement put in.
fn body(request: DryRunBody, software_statement: Option<String>) -> Result<(&'static str, Bytes), ServiceError> {
    match (request, software_statement) {
        (DryRunBody::Jws(_), Some(_)) => Err(SettingsError::new(
            "software_statement",
            "a signed request carries its own software statement; give claims to add one",
        )
        .into()),
        (DryRunBody::Jws(compact), None) => Ok(("application/jose", Bytes::from(compact.trim().to_owned()))),
        (DryRunBody::Claims(mut claims), ssa) => {
            if let Some(ssa) = ssa.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
                claims.insert("software_statement".to_owned(), ssa.into());
            }
            let json = serde_json::to_vec(&claims).map_err(|e| ServiceError::Internal(e.to_string()))?;
            Ok(("application/json", Bytes::from(json)))
        }
    }
}

fn certificate_chain(pem: &str) -> Result<Vec<CertificateDer<'static>>, ServiceError> {
    let invalid = |message: &str| ServiceError::from(SettingsError::new("client_certificate_pem", message));
    let chain: Vec<_> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|_| invalid("is not PEM: paste the certificate, -----BEGIN CERTIFICATE----- included"))?;
    match chain.len() {
        0 => Err(invalid("holds no certificate")),
        n if n > MAX_CHAIN => Err(invalid("holds too many certificates")),
        _ => Ok(chain),
    }
}

/// The console's way in: the same dry run, reached through the application state.
pub struct PipelineDryRun {
    pub client_trust: Arc<ClientTrust>,
}

#[async_trait]
impl RegistrationDryRun for PipelineDryRun {
    async fn dry_run(&self, state: &AppState, at: &WorkspaceRef, request: DryRunRequest) -> Result<DryRunReport, ServiceError> {
        let server = ServerState { app: state.clone(), client_trust: self.client_trust.clone() };
        run(&server, at, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_carries_the_endpoints_answer() {
        let mut trace = Trace::default();
        trace.pass(Stage::Transport, "client certificate");
        let accepted = report(Ok(()), trace.clone());
        assert_eq!((accepted.accepted, accepted.status, accepted.checks.len()), (true, 201, 1));
        let refused = report(Err(Failure::Rejected(RegistrationError::Expired)), trace);
        assert_eq!((refused.accepted, refused.status, refused.error.as_deref()), (false, 400, Some("invalid_client_metadata")));
        assert_eq!(report(Err(Failure::Disabled), Trace::default()).status, 403);
        assert!(matches!(body(DryRunBody::Jws("a.b.c".to_owned()), Some("s".to_owned())), Err(ServiceError::Invalid(_))));
        assert!(matches!(certificate_chain("not pem"), Err(ServiceError::Invalid(_))));
    }

    #[test]
    fn claims_are_sent_as_json_with_the_statement() {
        let claims = serde_json::from_str(r#"{"client_name": "x"}"#).unwrap_or_default();
        let (content_type, body) =
            body(DryRunBody::Claims(claims), Some(" a.b.c ".to_owned())).unwrap_or_else(|_| panic!("refused"));
        assert_eq!(content_type, "application/json");
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&body).ok(),
            Some(serde_json::json!({"client_name": "x", "software_statement": "a.b.c"}))
        );
    }
}
