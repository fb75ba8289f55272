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

use super::client_certificate;
use super::policy_check::{CONTENT_TYPE, POLICY_HEADERS, select_headers};
use super::registration::{self, Attempt, Failure, Incoming};
use crate::listener::Connection;
use crate::oauth2::registration::RegistrationError;
use crate::state::{ProtocolParts, ServerState};

/// The most certificates a dry run's chain may hold.
const MAX_CHAIN: usize = 8;

pub async fn run(state: &ServerState, at: &WorkspaceRef, request: DryRunRequest) -> Result<DryRunReport, ServiceError> {
    let workspace = super::sandbox::trusting(state, get_workspace(&state.app, at).await?).await?;
    if let Some(id) = &request.policy_id {
        state
            .app
            .store
            .policy(at, id)
            .await?
            .ok_or_else(|| SettingsError::new("policy_id", "no such policy in this workspace"))?;
    }
    let now = state.app.clock.now();
    let chain = request.client_certificate_pem.as_deref().map(certificate_chain).transpose()?;
    let (content_type, body) = body(request.request, request.software_statement)?;
    let incoming = Incoming {
        authorization: None,
        content_type: Some(content_type.to_owned()),
        body,
        connection: Connection { remote_addr: None, client_chain: chain.map(Arc::from) },
        headers: headers(&request.headers, content_type)?,
    };

    let mut trace = Trace::default();
    // Admission comes first at the endpoint; here its failures are noted and the pipeline still
    // runs, so an administrator sees what would follow once registration is switched on.
    let admitted = trace.record(
        Stage::Admission,
        "dynamic client registration is enabled",
        if workspace.dcr.enabled { Ok(()) } else { Err(Failure::Disabled) },
        Failure::detail,
    );
    let mut warnings = Vec::new();
    if workspace.dcr.protect_by_access_token {
        trace.skip(Stage::Admission, "a dcr_register access token", "a dry run presents no token");
        warnings.push(TOKEN_WARNING.to_owned());
    }
    let certificate = client_certificate::check(state, &workspace, &incoming.connection, now).await;
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
    trace.mark_unreached();
    Ok(DryRunReport { warnings, ..report(outcome, trace) })
}

/// Why a dry run's verdict is not the whole answer when the endpoint takes `dcr_register` tokens.
const TOKEN_WARNING: &str = "The register endpoint also requires a dcr_register access token, which a dry run does not \
     present: a real request needs a valid, unused one (401 invalid_token), with the dcr_register scope (403 insufficient_scope).";

/// The headers a policy would read: those given, which must be ones a policy reads, and the
/// content type the body is sent with (as the real endpoint sees it).
fn headers(given: &BTreeMap<String, String>, content_type: &str) -> Result<BTreeMap<String, String>, ServiceError> {
    let settable: Vec<&str> = POLICY_HEADERS.into_iter().filter(|name| *name != CONTENT_TYPE).collect();
    let mut named = BTreeMap::new();
    for (name, value) in given {
        let name = name.trim().to_ascii_lowercase();
        if !settable.contains(&name.as_str()) {
            let problem = format!("'{name}' is not a header a policy reads; give any of: {}", settable.join(", "));
            return Err(SettingsError::new("headers", problem).into());
        }
        named.insert(name, value.trim().to_owned());
    }
    let mut headers = select_headers(|name| named.get(name).map(String::as_str));
    headers.insert(CONTENT_TYPE.to_owned(), content_type.to_owned());
    Ok(headers)
}

/// The replay check a real registration makes when it stores the client, made read-only.
async fn not_replayed(state: &ServerState, guard: Option<app::storage::ReplayGuard>, trace: &mut Trace) -> Result<(), Failure> {
    let Some(guard) = guard else { return Ok(()) };
    let seen = state.app.store.replay_guard_exists(&guard).await.map_err(|e| Failure::Internal(e.to_string()))?;
    let result = if seen { Err(Failure::Rejected(RegistrationError::Replayed)) } else { Ok(()) };
    trace.record(Stage::Claims, "jti was not used before", result, Failure::detail)
}

fn report(outcome: Result<(), Failure>, trace: Trace) -> DryRunReport {
    match outcome {
        Ok(()) => DryRunReport {
            accepted: true,
            status: 201,
            error: None,
            error_description: None,
            checks: trace.checks,
            warnings: Vec::new(),
        },
        Err(failure) => {
            let (error, description) = failure.audit_code();
            DryRunReport {
                accepted: false,
                status: failure.status(),
                error: Some(error.to_owned()),
                error_description: Some(description),
                checks: trace.checks,
                warnings: Vec::new(),
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
    pub protocol: ProtocolParts,
}

#[async_trait]
impl RegistrationDryRun for PipelineDryRun {
    async fn dry_run(&self, state: &AppState, at: &WorkspaceRef, request: DryRunRequest) -> Result<DryRunReport, ServiceError> {
        let server = ServerState::new(state.clone(), self.protocol.clone());
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
    fn headers_are_those_a_policy_reads_and_the_bodys_content_type() {
        let given = BTreeMap::from([("User-Agent".to_owned(), " tpp/1.0 ".to_owned())]);
        assert_eq!(
            headers(&given, "application/jose").unwrap_or_default(),
            BTreeMap::from([
                ("content-type".to_owned(), "application/jose".to_owned()),
                ("user-agent".to_owned(), "tpp/1.0".to_owned())
            ])
        );
        for refused in ["authorization", "content-type", "x-other"] {
            let given = BTreeMap::from([(refused.to_owned(), "x".to_owned())]);
            assert!(matches!(headers(&given, "application/json"), Err(ServiceError::Invalid(_))), "{refused}");
        }
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
