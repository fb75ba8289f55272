//! The register use case: the pipeline of `oauth2::registration` with the I/O its stages need
//! in between (client certificate trust, key fetching, storage), and an audit event for every
//! attempt.

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use app::domain::audit::{AuditEventType, NewAuditEvent, Outcome};
use app::domain::client::ClientSummary;
use app::domain::workspace::Workspace;
use app::secrets::{self, Secret};
use app::storage::{NewClient, ReplayGuard, StoreError};

use super::keys;
use crate::listener::Connection;
use crate::oauth2::registration::{
    self as pipeline, ClientCertificateCheck, IssuedCredentials, RegistrationError, RegistrationPolicy, RegistrationRequest,
    ValidatedRegistration,
};
use crate::oauth2::software_statement;
use crate::state::ServerState;

/// A registration request as it arrived.
pub struct Incoming {
    pub content_type: Option<String>,
    pub body: Bytes,
    pub connection: Connection,
}

/// Why no client was registered.
#[derive(Debug)]
pub enum Failure {
    /// DCR is switched off for the workspace.
    Disabled,
    /// The workspace requires a `dcr_register` access token and none was valid.
    TokenRequired,
    /// The request broke a rule; the TPP can fix it.
    Rejected(RegistrationError),
    /// Keys the workspace depends on could not be fetched; retrying later may work.
    Unavailable(String),
    /// Something unexpected; the detail is for the log only.
    Internal(String),
}

impl From<RegistrationError> for Failure {
    fn from(error: RegistrationError) -> Self {
        Self::Rejected(error)
    }
}

impl Failure {
    fn audit_code(&self) -> (&'static str, String) {
        match self {
            Self::Disabled => ("access_denied", "dynamic client registration is disabled for this workspace".to_owned()),
            Self::TokenRequired => ("invalid_token", TOKEN_REQUIRED.to_owned()),
            Self::Rejected(error) => (error.code().as_str(), error.description()),
            Self::Unavailable(detail) => ("temporarily_unavailable", detail.clone()),
            Self::Internal(_) => ("server_error", "the server could not complete the request".to_owned()),
        }
    }
}

pub const TOKEN_REQUIRED: &str = "this workspace requires a dcr_register access token for registration";

/// Who attempted the registration, as far as is known; recorded in the audit log.
#[derive(Debug, Default)]
struct Attempt {
    software_id: Option<String>,
    org_id: Option<String>,
    client_cert_subject: Option<String>,
    remote_addr: Option<String>,
}

/// Runs a registration; returns the 201 body.
pub async fn register(state: &ServerState, workspace: &Workspace, incoming: Incoming) -> Result<Map<String, Value>, Failure> {
    let now = state.app.clock.now();
    let certificate = state.client_trust.check(
        incoming.connection.client_chain.as_deref(),
        workspace.settings.trusted_client_ca_pem.as_deref(),
        now,
    );
    let mut attempt = Attempt {
        client_cert_subject: certificate.subject().map(str::to_owned),
        remote_addr: incoming.connection.remote_addr.map(|a| a.to_string()),
        ..Attempt::default()
    };
    let outcome = match validate(state, workspace, &incoming, &certificate, now, &mut attempt).await {
        Ok(validated) => store(state, workspace, &validated, now, &attempt).await,
        Err(failure) => Err(failure),
    };
    if let Err(failure) = &outcome {
        record_rejection(state, workspace, failure, &attempt, now).await;
    }
    outcome
}

/// Records a refused attempt that never reached the pipeline (e.g. an oversized body).
pub async fn record_refusal(state: &ServerState, workspace: &Workspace, error: RegistrationError, connection: &Connection) {
    let attempt = Attempt { remote_addr: connection.remote_addr.map(|a| a.to_string()), ..Attempt::default() };
    record_rejection(state, workspace, &Failure::Rejected(error), &attempt, state.app.clock.now()).await;
}

async fn validate(
    state: &ServerState,
    workspace: &Workspace,
    incoming: &Incoming,
    certificate: &ClientCertificateCheck,
    now: DateTime<Utc>,
    attempt: &mut Attempt,
) -> Result<ValidatedRegistration, Failure> {
    let dcr = &workspace.dcr;
    if !dcr.enabled {
        return Err(Failure::Disabled);
    }
    if dcr.protect_by_access_token {
        // `dcr_register` tokens come from the token endpoint, which this release does not
        // serve yet: with the setting on, no request can be authorised.
        return Err(Failure::TokenRequired);
    }
    pipeline::check_transport(dcr, certificate)?;
    let request = RegistrationRequest::parse(incoming.content_type.as_deref(), &incoming.body, dcr)?;
    let ssa = match pipeline::inspect_software_statement(&request, dcr)? {
        Some(unverified) => {
            attempt.software_id = unverified.claimed("software_id");
            attempt.org_id = unverified.claimed("org_id");
            let keys = keys::software_statement_keys(&state.app.jwks, dcr, unverified.kid()).await?;
            Some(software_statement::verify(unverified, &keys, now)?)
        }
        None => None,
    };
    let claims = match &request {
        RegistrationRequest::Signed(jws) => {
            let source = pipeline::request_key_source(dcr, ssa.as_ref())?;
            let keys = keys::request_keys(&state.app.jwks, source, jws.kid()).await?;
            pipeline::verify_request(jws, &keys)?.clone()
        }
        RegistrationRequest::Plain(claims) => claims.clone(),
    };
    let policy = RegistrationPolicy { profile: workspace.profile, settings: &workspace.settings };
    let signed = matches!(request, RegistrationRequest::Signed(_));
    Ok(pipeline::validate(&claims, signed, ssa.as_ref(), &policy, now)?)
}

async fn store(
    state: &ServerState,
    workspace: &Workspace,
    validated: &ValidatedRegistration,
    now: DateTime<Utc>,
    attempt: &Attempt,
) -> Result<Map<String, Value>, Failure> {
    let at = workspace.reference();
    let metadata = &validated.metadata;
    let ssa = validated.software_statement.as_ref();
    let client_id = secrets::new_client_id();
    let client_secret = metadata.token_endpoint_auth_method.uses_client_secret().then(Secret::generate_client_secret);
    let registration_access_token = Secret::generate();
    let registration_client_uri = state.app.deployment.urls(&at, workspace.profile).client_configuration(&client_id);
    let body = pipeline::response(
        validated,
        &IssuedCredentials {
            client_id: &client_id,
            issued_at: now.timestamp(),
            client_secret: client_secret.as_ref().map(Secret::expose),
            registration_access_token: registration_access_token.expose(),
            registration_client_uri: &registration_client_uri,
        },
    );
    let client = NewClient {
        workspace: at.clone(),
        summary: ClientSummary {
            client_id: client_id.clone(),
            name: metadata.client_name.clone(),
            dynamically_registered: true,
            software_id: metadata.software_id.clone(),
            org_id: ssa.and_then(|s| s.org_id.clone()),
            org_name: ssa.and_then(|s| s.org_name.clone()),
            token_endpoint_auth_method: metadata.token_endpoint_auth_method,
            created_at: now,
        },
        metadata: pipeline::stored_metadata(&body),
        software_statement: ssa.map(|s| s.compact.clone()),
        client_secret_hash: client_secret.as_ref().map(|s| s.hash().as_str().to_owned()),
        registration_access_token_hash: Some(registration_access_token.hash().as_str().to_owned()),
    };
    let replay = validated.replay.as_ref().map(|key| ReplayGuard {
        workspace: at.clone(),
        issuer: key.issuer.clone(),
        jti: key.jti.clone(),
        expires_at: key.keep_until,
    });
    let event = NewAuditEvent {
        workspace: at.clone(),
        event_type: AuditEventType::DcrCreated,
        outcome: Outcome::Success,
        client_id: Some(client_id.clone()),
        error: None,
        error_description: None,
        software_id: client.summary.software_id.clone(),
        org_id: client.summary.org_id.clone(),
        client_cert_subject: attempt.client_cert_subject.clone(),
        remote_addr: attempt.remote_addr.clone(),
        created_at: now,
    };
    match state.app.store.register_client(&client, replay.as_ref(), &event).await {
        Ok(()) => {
            tracing::info!(workspace = %at, %client_id, software_id = ?client.summary.software_id, "client registered");
            Ok(body)
        }
        Err(StoreError::Replayed) => Err(Failure::Rejected(RegistrationError::Replayed)),
        Err(other) => Err(Failure::Internal(other.to_string())),
    }
}

async fn record_rejection(state: &ServerState, workspace: &Workspace, failure: &Failure, attempt: &Attempt, now: DateTime<Utc>) {
    let (error, description) = failure.audit_code();
    if let Failure::Internal(detail) = failure {
        tracing::error!(workspace = %workspace.reference(), %detail, "registration failed");
    } else {
        tracing::info!(workspace = %workspace.reference(), error, %description, "registration refused");
    }
    let event = NewAuditEvent {
        workspace: workspace.reference(),
        event_type: AuditEventType::DcrRejected,
        outcome: Outcome::Failure,
        client_id: None,
        error: Some(error.to_owned()),
        error_description: Some(description),
        software_id: attempt.software_id.clone(),
        org_id: attempt.org_id.clone(),
        client_cert_subject: attempt.client_cert_subject.clone(),
        remote_addr: attempt.remote_addr.clone(),
        created_at: now,
    };
    if let Err(error) = state.app.store.record_audit_event(&event).await {
        tracing::error!(%error, "could not record the audit event of a refused registration");
    }
}
