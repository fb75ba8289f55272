//! Who attempted a registration operation, and the audit events of their attempts.

use chrono::{DateTime, Utc};

use app::domain::audit::{AuditEventType, NewAuditEvent, storable_id};
use app::domain::client::ClientDetails;
use app::domain::event_log::{Outcome, storable};
use app::domain::workspace::Workspace;

use super::Failure;
use crate::listener::Connection;
use crate::oauth2::registration::ClientCertificateCheck;
use crate::state::ServerState;

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

    /// Names the software and organisation of the client the caller was authorised for.
    pub(crate) fn names_software_of(&mut self, client: &ClientDetails) {
        self.software_id.clone_from(&client.summary.software_id);
        self.org_id.clone_from(&client.summary.org_id);
    }

    /// The audit event of this attempt, refused with the wire `error` code and `description`.
    pub(crate) fn failure_event(
        &self,
        workspace: &Workspace,
        event_type: AuditEventType,
        error: &str,
        description: &str,
        now: DateTime<Utc>,
    ) -> NewAuditEvent {
        NewAuditEvent {
            outcome: Outcome::Failure,
            error: Some(error.to_owned()),
            error_description: Some(storable(description)),
            ..self.event(workspace, event_type, now)
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
/// wire error code and description the client was given (for a token that proved nothing, with
/// the reason its answer leaves out).
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
    let event = attempt.failure_event(workspace, event_type, error, &description, now);
    if let Err(error) = state.app.store.record_audit_event(&event).await {
        tracing::error!(%error, "could not record the audit event of a refused operation");
    }
}
