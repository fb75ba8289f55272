//! What a valid registration issues (a client id, secrets) and stores with it.

use chrono::{DateTime, Utc};
use serde_json::Value;
use serde_json::value::RawValue;

use app::domain::audit::AuditEventType;
use app::domain::client::ClientSummary;
use app::domain::workspace::Workspace;
use app::secrets::{self, Secret};
use app::storage::{NewClient, ReplayGuard, ReplayScope, StoreError};

use super::{Attempt, Failure, TokenProblem};
use crate::oauth2::registration::{
    self as pipeline, IssuedCredentials, RegistrationError, RegistrationResponse, ValidatedRegistration,
};
use crate::state::ServerState;

/// Stores the client a valid registration issues (consuming its access token, if any, and
/// keeping its replay record), and returns the 201 body with its secrets.
pub(super) async fn store(
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
