//! The register use case: the pipeline of `oauth2::registration` with the I/O its stages need
//! in between (client certificate trust, key fetching, storage), and an audit event for every
//! attempt.

use std::collections::BTreeMap;

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use serde_json::Value;
use serde_json::value::RawValue;

use app::domain::audit::{AuditEventType, NewAuditEvent, Outcome, storable, storable_id};
use app::domain::client::ClientSummary;
use app::domain::dry_run::{CheckOutcome, Stage, Trace};
use app::domain::ids::PolicyId;
use app::domain::workspace::Workspace;
use app::secrets::{self, Secret};
use app::storage::{NewClient, ReplayGuard, ReplayScope, StoreError};

use super::rate_limits::{Rule, Throttled};
use super::{keys, policy_check, token};
use crate::listener::Connection;
use crate::oauth2::bearer::bearer_token;
use crate::oauth2::error_description;
use crate::oauth2::registration::{
    self as pipeline, ClientCertificateCheck, IssuedCredentials, RegistrationError, RegistrationPolicy, RegistrationRequest,
    RegistrationResponse, ValidatedRegistration,
};
use crate::oauth2::software_statement;
use crate::oauth2::token::certificate_thumbprint;
use crate::state::ServerState;
use crate::tls::client_trust;

/// A registration request as it arrived.
pub struct Incoming {
    /// The `Authorization` header, for workspaces that protect registration with a token.
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: Bytes,
    pub connection: Connection,
    /// The headers a DCR policy may read ([`policy_check::POLICY_HEADERS`]).
    pub headers: BTreeMap<String, String>,
}

/// Why no client was registered.
#[derive(Debug)]
pub enum Failure {
    /// DCR is switched off for the workspace.
    Disabled,
    /// The workspace requires a `dcr_register` access token, and the request's fell short.
    Token(TokenProblem),
    /// The request broke a rule; the TPP can fix it.
    Rejected(RegistrationError),
    /// Keys the workspace depends on could not be fetched; retrying later may work.
    Unavailable(String),
    /// Over one of the workspace's rate limits.
    Throttled(Throttled),
    /// The workspace holds as many dynamically registered clients as it may.
    CapReached(u32),
    /// Something unexpected; the detail is for the log only.
    Internal(String),
}

impl From<RegistrationError> for Failure {
    fn from(error: RegistrationError) -> Self {
        Self::Rejected(error)
    }
}

impl Failure {
    /// "code: description", as the audit log and a dry run show it.
    pub(crate) fn detail(&self) -> String {
        let (code, description) = self.audit_code();
        format!("{code}: {description}")
    }

    /// The HTTP status the register endpoint answers with.
    pub(crate) fn status(&self) -> u16 {
        match self {
            Self::Disabled | Self::CapReached(_) | Self::Token(TokenProblem::InsufficientScope) => 403,
            Self::Token(_) => 401,
            Self::Rejected(_) => 400,
            Self::Unavailable(_) => 503,
            Self::Throttled(_) => 429,
            Self::Internal(_) => 500,
        }
    }

    /// The wire error code and description the client is given (and the audit log and a dry
    /// run show): printable ASCII, as RFC 7591 §3.2.2 asks, though it echoes the request.
    pub(crate) fn audit_code(&self) -> (&'static str, String) {
        let (code, description) = self.unsanitised_code();
        (code, error_description::registration(&description))
    }

    fn unsanitised_code(&self) -> (&'static str, String) {
        match self {
            Self::Disabled => ("access_denied", DCR_DISABLED.to_owned()),
            Self::Token(TokenProblem::InsufficientScope) => ("insufficient_scope", INSUFFICIENT_SCOPE.to_owned()),
            Self::Token(_) => ("invalid_token", TOKEN_REQUIRED.to_owned()),
            Self::Rejected(error) => (error.code().as_str(), error.description()),
            Self::Unavailable(detail) => ("temporarily_unavailable", detail.clone()),
            Self::Throttled(throttled) => ("temporarily_unavailable", throttled.rule.description().to_owned()),
            Self::CapReached(cap) => {
                ("access_denied", format!("this workspace holds its limit of {cap} dynamically registered clients"))
            }
            Self::Internal(_) => ("server_error", "the server could not complete the request".to_owned()),
        }
    }
}

/// What was wrong with the bearer token of a registration the workspace protects by access
/// token (RFC 6750 §3.1 answers each differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// No bearer token at all.
    Missing,
    /// Unknown, expired, revoked, used, of another workspace or client kind, or presented
    /// without the certificate it is bound to.
    Invalid,
    /// A valid token that does not carry the `dcr_register` scope.
    InsufficientScope,
}

pub const TOKEN_REQUIRED: &str = "registration requires a valid, unused dcr_register access token";
/// What a request to a workspace with registration switched off is told.
pub const DCR_DISABLED: &str = "dynamic client registration is disabled for this workspace";

pub const INSUFFICIENT_SCOPE: &str = "registration requires an access token with the dcr_register scope";

pub use app::services::clients::DCR_REGISTER_SCOPE;

/// Who attempted the registration, as far as is known; recorded in the audit log.
#[derive(Debug, Default)]
pub(crate) struct Attempt {
    /// The client concerned, when the operation names one.
    pub client_id: Option<String>,
    pub software_id: Option<String>,
    pub org_id: Option<String>,
    pub client_cert_subject: Option<String>,
    /// The subject of the client certificate, when a trusted CA issued it.
    pub trusted_certificate_subject: Option<String>,
    pub remote_addr: Option<String>,
}

impl Attempt {
    pub(crate) fn new(connection: &Connection, certificate: &ClientCertificateCheck) -> Self {
        Self {
            client_cert_subject: certificate.subject().map(str::to_owned),
            trusted_certificate_subject: match certificate {
                ClientCertificateCheck::Trusted { subject } => Some(subject.clone()),
                _ => None,
            },
            remote_addr: connection.remote_addr.map(|a| a.to_string()),
            ..Self::default()
        }
    }

    /// The audit event of this attempt.
    pub(crate) fn event(&self, workspace: &Workspace, event_type: AuditEventType, now: DateTime<Utc>) -> NewAuditEvent {
        NewAuditEvent {
            workspace: workspace.reference(),
            event_type,
            outcome: Outcome::Success,
            client_id: self.client_id.as_deref().map(storable_id),
            error: None,
            error_description: None,
            software_id: self.software_id.as_deref().map(storable_id),
            org_id: self.org_id.as_deref().map(storable_id),
            client_cert_subject: self.client_cert_subject.as_deref().map(storable),
            remote_addr: self.remote_addr.clone(),
            actor: None,
            detail: None,
            created_at: now,
        }
    }
}

/// Runs a registration; returns the 201 body.
pub async fn register(state: &ServerState, workspace: &Workspace, incoming: Incoming) -> Result<Box<RawValue>, Failure> {
    let now = state.app.clock.now();
    let certificate = state.protocol.client_trust.check(
        incoming.connection.client_chain.as_deref(),
        workspace.settings.trusted_client_ca_pem.as_deref(),
        now,
    );
    // Before any work, and never audited: a flood must not become a flood of writes.
    let address = incoming.connection.remote_addr.map(|a| a.ip());
    state.protocol.rate_limits.check_address(workspace, Rule::RegistrationsPerIp, address).map_err(throttled(workspace))?;
    let mut attempt = Attempt::new(&incoming.connection, &certificate);
    let outcome = match admit(state, workspace, &incoming, now).await {
        Ok(consumed_token) => match validate(state, workspace, &incoming, &certificate, now, &mut attempt).await {
            Ok(validated) => match within_software_rate(state, workspace, &validated) {
                Ok(()) => store(state, workspace, &validated, consumed_token.as_deref(), now, &attempt).await,
                Err(failure) => Err(failure),
            },
            Err(failure) => Err(failure),
        },
        Err(failure) => Err(failure),
    };
    if let Err(Failure::Throttled(_)) = &outcome {
        return outcome;
    }
    if let Err(failure) = &outcome {
        record_rejection(state, workspace, failure, &attempt, now).await;
    }
    outcome
}

/// The rate a valid registration must still keep: its software's, when a verified software
/// statement names it (a software id the request merely claims is not counted, so nobody spends
/// another TPP's allowance; the address's rate still holds). The workspace's cap on dynamically
/// registered clients is kept by the write itself.
fn within_software_rate(state: &ServerState, workspace: &Workspace, validated: &ValidatedRegistration) -> Result<(), Failure> {
    if let Some(statement) = &validated.software_statement {
        state
            .protocol
            .rate_limits
            .check(workspace, Rule::RegistrationsPerSoftware, &statement.software_id)
            .map_err(throttled(workspace))?;
    }
    Ok(())
}

/// Logs a throttled request (without its credentials) and makes it the failure.
pub(crate) fn throttled(workspace: &Workspace) -> impl Fn(Throttled) -> Failure + '_ {
    move |throttled| {
        tracing::info!(workspace = %workspace.reference(), rule = ?throttled.rule, "registration request throttled");
        Failure::Throttled(throttled)
    }
}

/// Refuses an attempt that never reached the pipeline (an oversized body). It counts against
/// its address's registration rate like any other, and is audited only within that rate: a
/// flood of large bodies must not become a flood of writes either.
pub async fn refuse_unread(
    state: &ServerState,
    workspace: &Workspace,
    error: RegistrationError,
    connection: &Connection,
) -> Result<(), Failure> {
    let address = connection.remote_addr.map(|a| a.ip());
    state.protocol.rate_limits.check_address(workspace, Rule::RegistrationsPerIp, address).map_err(throttled(workspace))?;
    let attempt = Attempt { remote_addr: connection.remote_addr.map(|a| a.to_string()), ..Attempt::default() };
    record_rejection(state, workspace, &Failure::Rejected(error), &attempt, state.app.clock.now()).await;
    Ok(())
}

/// New registrations need DCR switched on and, where the workspace protects registration with
/// a token, a `dcr_register` access token issued by `client_credentials` to one of its manually
/// created clients, presented with the certificate it is bound to. Returns the token's jti, to
/// be consumed with the registration.
async fn admit(
    state: &ServerState,
    workspace: &Workspace,
    incoming: &Incoming,
    now: DateTime<Utc>,
) -> Result<Option<String>, Failure> {
    if !workspace.dcr.enabled {
        return Err(Failure::Disabled);
    }
    if !workspace.dcr.protect_by_access_token {
        return Ok(None);
    }
    let internal = |e: StoreError| Failure::Internal(e.to_string());
    let token = bearer_token(incoming.authorization.as_deref()).ok_or(Failure::Token(TokenProblem::Missing))?;
    let invalid = Failure::Token(TokenProblem::Invalid);
    let record = token::presented_access_token(state, token).await.map_err(internal)?.ok_or(invalid)?;
    let presented =
        incoming.connection.client_chain.as_ref().and_then(|chain| chain.first()).map(|der| certificate_thumbprint(der));
    let bound_ok = record.certificate_thumbprint.as_ref().is_none_or(|bound| presented.as_ref() == Some(bound));
    if record.workspace != workspace.reference() || !record.is_active(now) || !bound_ok {
        return Err(Failure::Token(TokenProblem::Invalid));
    }
    let issuer = state.app.store.client(&workspace.reference(), &record.client_id).await.map_err(internal)?;
    if issuer.is_none_or(|client| client.summary.dynamically_registered) {
        return Err(Failure::Token(TokenProblem::Invalid));
    }
    if !record.has_scope(DCR_REGISTER_SCOPE) {
        return Err(Failure::Token(TokenProblem::InsufficientScope));
    }
    Ok(Some(record.jti))
}

/// The whole validation pipeline of a registration request (POST and PUT alike).
pub(crate) async fn validate(
    state: &ServerState,
    workspace: &Workspace,
    incoming: &Incoming,
    certificate: &ClientCertificateCheck,
    now: DateTime<Utc>,
    attempt: &mut Attempt,
) -> Result<ValidatedRegistration, Failure> {
    validate_traced(state, workspace, incoming, certificate, now, attempt, &mut Trace::default(), None).await
}

/// [`validate`], recording every check in `trace`; a dry run may name a policy to check
/// `instead` of the attached one.
#[expect(clippy::too_many_arguments, reason = "the pipeline's inputs, each distinct; a struct would only rename them")]
pub(crate) async fn validate_traced(
    state: &ServerState,
    workspace: &Workspace,
    incoming: &Incoming,
    certificate: &ClientCertificateCheck,
    now: DateTime<Utc>,
    attempt: &mut Attempt,
    trace: &mut Trace,
    instead: Option<&PolicyId>,
) -> Result<ValidatedRegistration, Failure> {
    let dcr = &workspace.dcr;
    step(trace, Stage::Transport, "client certificate", pipeline::check_transport(dcr, certificate))?;
    let request = step(
        trace,
        Stage::Body,
        "content type and shape",
        RegistrationRequest::parse(incoming.content_type.as_deref(), &incoming.body, dcr),
    )?;
    let inspected = pipeline::inspect_software_statement(&request, dcr).map_err(Failure::from);
    let ssa = match inspected {
        Err(failure) => {
            trace.push(
                Stage::SoftwareStatement,
                "present, well-formed, from a trusted issuer",
                CheckOutcome::Failed,
                Some(failure.detail()),
            );
            return Err(failure);
        }
        Ok(None) => {
            trace.skip(Stage::SoftwareStatement, "software statement", "none was sent, and this workspace does not require one");
            None
        }
        Ok(Some(unverified)) => {
            trace.pass(Stage::SoftwareStatement, "present, well-formed, from a trusted issuer");
            attempt.software_id = unverified.claimed("software_id");
            attempt.org_id = unverified.claimed("org_id");
            let keys = step(
                trace,
                Stage::SoftwareStatement,
                "the issuer's keys are available",
                keys::software_statement_keys(state, workspace, unverified.claimed("iss").as_deref(), unverified.kid()).await,
            )?;
            Some(step(
                trace,
                Stage::SoftwareStatement,
                "signature, validity and organisation",
                software_statement::verify(unverified, &keys, now, dcr.max_software_statement_age_seconds),
            )?)
        }
    };
    let claims = match &request {
        RegistrationRequest::Signed(jws) => {
            let source = step(
                trace,
                Stage::Signature,
                "the request's signing keys are known",
                pipeline::request_key_source(dcr, ssa.as_ref()),
            )?;
            let keys = step(
                trace,
                Stage::Signature,
                "the signing keys are available",
                keys::request_keys(state, workspace, source, jws.kid()).await,
            )?;
            step(trace, Stage::Signature, "the request's signature", pipeline::verify_request(jws, &keys))?
        }
        RegistrationRequest::Plain(claims) => {
            trace.skip(
                Stage::Signature,
                "the request's signature",
                "the request is not signed, and this workspace does not require it",
            );
            claims
        }
    };
    if dcr.bind_transport_certificate {
        let source = step(trace, Stage::Transport, "the software's key set", pipeline::software_key_source(ssa.as_ref()))?;
        let software_keys = step(
            trace,
            Stage::Transport,
            "the software's key set is available",
            keys::request_keys(state, workspace, source, None).await,
        )?;
        let leaf = incoming.connection.client_chain.as_ref().and_then(|chain| chain.first()).map(AsRef::as_ref);
        step(
            trace,
            Stage::Transport,
            "the client certificate is one of the software's transport certificates",
            pipeline::check_transport_binding(&software_keys, leaf),
        )?;
    }
    let policy = RegistrationPolicy { profile: workspace.profile, settings: &workspace.settings };
    let signed = matches!(request, RegistrationRequest::Signed(_));
    let validated = pipeline::validate_traced(claims, signed, ssa, &policy, now, trace)?;
    let input = || {
        // A policy sees a certificate only once it is trusted: a self-signed one proves nothing.
        let leaf = incoming.connection.client_chain.as_ref().and_then(|chain| chain.first());
        let facts = match certificate {
            ClientCertificateCheck::Trusted { .. } => leaf.and_then(client_trust::certificate_facts),
            _ => None,
        };
        policy_check::policy_input(workspace, claims, &validated, facts.as_ref(), &incoming.headers)
    };
    policy_check::check_policy(state, workspace, input, instead, trace).await?;
    Ok(validated)
}

/// Records one step's result in `trace` (a failure with its wire code) and hands it back.
fn step<T, E: Into<Failure>>(trace: &mut Trace, stage: Stage, name: &str, result: Result<T, E>) -> Result<T, Failure> {
    trace.record(stage, name, result.map_err(Into::into), Failure::detail)
}

async fn store(
    state: &ServerState,
    workspace: &Workspace,
    validated: &ValidatedRegistration,
    consumed_token: Option<&str>,
    now: DateTime<Utc>,
    attempt: &Attempt,
) -> Result<Box<RawValue>, Failure> {
    let method = validated.metadata.token_endpoint_auth_method;
    let client_secret = method.uses_client_secret().then(Secret::generate_client_secret);
    let client_id = secrets::new_time_ordered_id(now);
    let registration_access_token = secrets::new_registration_access_token(&client_id);
    let issue = Issue { client_id, issued_at: now, has_client_secret: client_secret.is_some() };
    let mut client = registered_client(state, workspace, validated, &issue);
    // Serialized before the client goes to the store, which takes its metadata over.
    let body = serde_json::value::to_raw_value(&RegistrationResponse {
        metadata: &client.metadata,
        client_secret: client_secret.as_ref().map(Secret::expose),
        registration_access_token: Some(registration_access_token.expose()),
    })
    .map_err(|e| Failure::Internal(format!("the registration response: {e}")))?;
    client.client_secret_hash = client_secret.as_ref().map(|s| s.hash().as_str().to_owned());
    client.registration_access_token_hash = Some(registration_access_token.hash().as_str().to_owned());
    client.registration_access_token_subject.clone_from(&attempt.trusted_certificate_subject);
    let replay = replay_guard(workspace, validated);
    let mut event = attempt.event(workspace, AuditEventType::DcrCreated, now);
    event.client_id = Some(issue.client_id.clone());
    event.software_id.clone_from(&client.summary.software_id);
    event.org_id.clone_from(&client.summary.org_id);
    let cap = workspace.settings.limits.max_dynamic_clients;
    match state.app.store.register_client(client, replay.as_ref(), consumed_token, cap, &event).await {
        Ok(()) => {
            tracing::info!(workspace = %workspace.reference(), client_id = %issue.client_id, software_id = ?event.software_id, "client registered");
            Ok(body)
        }
        Err(StoreError::Replayed) => Err(Failure::Rejected(RegistrationError::Replayed)),
        Err(StoreError::TokenUsed) => Err(Failure::Token(TokenProblem::Invalid)),
        Err(StoreError::CapReached) => Err(Failure::CapReached(cap)),
        Err(other) => Err(Failure::Internal(other.to_string())),
    }
}

/// What a registration issues (or an update keeps), its secrets aside: they go only into the
/// 201 ([`RegistrationResponse`]).
pub(crate) struct Issue {
    pub client_id: String,
    pub issued_at: DateTime<Utc>,
    /// Whether a client secret is issued with it (OBUK: then `client_secret_expires_at` is 0).
    pub has_client_secret: bool,
}

/// The stored client of a validated registration, its metadata what GET will answer (secret
/// hashes left for the caller, which knows whether they are new or kept).
pub(crate) fn registered_client(
    state: &ServerState,
    workspace: &Workspace,
    validated: &ValidatedRegistration,
    issue: &Issue,
) -> NewClient {
    let at = workspace.reference();
    let metadata = &validated.metadata;
    let ssa = validated.software_statement.as_ref();
    let registration_client_uri = state.app.deployment.urls(&at, workspace.profile).client_configuration(&issue.client_id);
    let registered = pipeline::registered_metadata(
        validated,
        &IssuedCredentials {
            client_id: &issue.client_id,
            issued_at: issue.issued_at.timestamp(),
            has_client_secret: issue.has_client_secret,
            registration_client_uri: &registration_client_uri,
        },
    );
    NewClient {
        workspace: at,
        summary: ClientSummary {
            client_id: issue.client_id.clone(),
            name: metadata.client_name.clone(),
            dynamically_registered: true,
            software_id: metadata.software_id.clone(),
            org_id: ssa.and_then(|s| s.org_id.clone()),
            org_name: ssa.and_then(|s| s.org_name.clone()),
            token_endpoint_auth_method: metadata.token_endpoint_auth_method,
            created_at: issue.issued_at,
            last_token_at: None,
        },
        metadata: Value::Object(registered),
        software_statement: ssa.map(|s| s.compact.clone()),
        client_secret_hash: None,
        registration_access_token_hash: None,
        registration_access_token_subject: None,
    }
}

/// The replay record of a signed request: its `jti` is spent in every workspace of the tenant
/// (see [`ReplayScope::Tenant`]).
pub(crate) fn replay_guard(workspace: &Workspace, validated: &ValidatedRegistration) -> Option<ReplayGuard> {
    validated.replay.as_ref().map(|key| ReplayGuard {
        scope: ReplayScope::Tenant(workspace.tenant.clone()),
        issuer: key.issuer.clone(),
        jti: key.jti.clone(),
        expires_at: key.keep_until,
    })
}

pub(crate) async fn record_rejection(
    state: &ServerState,
    workspace: &Workspace,
    failure: &Failure,
    attempt: &Attempt,
    now: DateTime<Utc>,
) {
    if let Failure::Internal(detail) = failure {
        tracing::error!(workspace = %workspace.reference(), %detail, "registration failed");
    }
    let (error, description) = failure.audit_code();
    record_failure(state, workspace, AuditEventType::DcrRejected, error, description, attempt, now).await;
}

/// Logs a refused operation and records it as a failed audit event of `event_type`, with the
/// wire error code and description the client was given.
pub(crate) async fn record_failure(
    state: &ServerState,
    workspace: &Workspace,
    event_type: AuditEventType,
    error: &str,
    description: String,
    attempt: &Attempt,
    now: DateTime<Utc>,
) {
    tracing::info!(workspace = %workspace.reference(), error, %description, operation = event_type.as_str(), "registration operation refused");
    let mut event = attempt.event(workspace, event_type, now);
    event.outcome = Outcome::Failure;
    event.error = Some(error.to_owned());
    event.error_description = Some(storable(&description));
    if let Err(error) = state.app.store.record_audit_event(&event).await {
        tracing::error!(%error, "could not record the audit event of a refused operation");
    }
}
