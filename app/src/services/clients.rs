//! Listing, reading and deleting a workspace's clients; creating and changing manual ones.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::ServiceError;
use super::workspaces::get_workspace;
use crate::domain::audit::{AuditEventType, NewAuditEvent};
use crate::domain::client::{
    ClientCursor, ClientDetails, ClientSelection, ClientSummary, NewManualClient, PageStart, abandoned_cut_off,
    manual_client_changes,
};
use crate::domain::dn::DistinguishedName;
use crate::domain::ids::WorkspaceRef;
use crate::domain::oauth::{TokenEndpointAuthMethod, is_scope_token};
use crate::domain::workspace::{SettingsError, Workspace};
use crate::secrets::{self, Secret};
use crate::state::AppState;
use crate::storage::NewClient;

/// The scope of the single-use tokens that authorise a dynamic registration; only manual
/// clients may hold it.
pub const DCR_REGISTER_SCOPE: &str = "dcr_register";

/// The workspace's clients a selection holds, newest first.
pub async fn list_clients(
    state: &AppState,
    at: &WorkspaceRef,
    selection: &ClientSelection,
) -> Result<Vec<ClientSummary>, ServiceError> {
    selection.validate()?;
    get_workspace(state, at).await?;
    Ok(state.store.clients(at, selection).await?)
}

/// How many clients the selection holds, its page aside.
pub async fn count_clients(state: &AppState, at: &WorkspaceRef, selection: &ClientSelection) -> Result<u64, ServiceError> {
    selection.validate()?;
    get_workspace(state, at).await?;
    Ok(state.store.count_clients(at, selection).await?)
}

/// The selection of the workspace's abandoned clients: dynamically registered, with no token
/// for its `limits.abandoned_after_days`.
pub async fn abandoned_selection(state: &AppState, at: &WorkspaceRef) -> Result<ClientSelection, ServiceError> {
    let days = get_workspace(state, at).await?.settings.limits.abandoned_after_days;
    Ok(ClientSelection::abandoned(state.clock.now(), days))
}

pub async fn get_client(state: &AppState, at: &WorkspaceRef, client_id: &str) -> Result<ClientDetails, ServiceError> {
    state.store.client(at, client_id).await?.ok_or(ServiceError::NotFound("client"))
}

/// Deletes every abandoned client, each audited as an administrator's deletion; returns how
/// many. Each goes only if it is still abandoned when its deletion runs (checked by the
/// statement that deletes it), so one that got a token meanwhile stays.
pub async fn delete_abandoned_clients(state: &AppState, at: &WorkspaceRef, actor: &str) -> Result<usize, ServiceError> {
    let days = get_workspace(state, at).await?.settings.limits.abandoned_after_days;
    let mut deleted = 0;
    let mut selection = ClientSelection { limit: Some(ABANDONED_BATCH), ..ClientSelection::abandoned(state.clock.now(), days) };
    loop {
        let batch = state.store.clients(at, &selection).await?;
        for candidate in &batch {
            // Recomputed for each: a long run must not delete one that has stopped being abandoned.
            let unused_since = abandoned_cut_off(state.clock.now(), days);
            let event = deletion_event(state, at, candidate, actor);
            if state.store.delete_unused_client(at, &candidate.client_id, unused_since, &event).await? {
                deleted += 1;
            }
        }
        match batch.last() {
            Some(last) if batch.len() as u64 == ABANDONED_BATCH => selection.start = PageStart::After(ClientCursor::after(last)),
            _ => return Ok(deleted),
        }
    }
}

/// How many abandoned clients [`delete_abandoned_clients`] reads at a time.
const ABANDONED_BATCH: u64 = 500;

/// A page of a client list and, when more follow, where the next starts.
#[derive(Debug)]
pub struct ClientPage {
    pub clients: Vec<ClientSummary>,
    pub next: Option<ClientCursor>,
}

/// A page of the workspace's clients (the selection's `limit` is required), with the cursor of
/// the next page when more follow: one more client is read to know.
pub async fn client_page(state: &AppState, at: &WorkspaceRef, selection: &ClientSelection) -> Result<ClientPage, ServiceError> {
    selection.validate()?;
    let limit = selection.limit.ok_or_else(|| SettingsError::new("limit", "is required for a page"))?;
    get_workspace(state, at).await?;
    let mut clients = state.store.clients(at, &ClientSelection { limit: Some(limit + 1), ..selection.clone() }).await?;
    let more = clients.len() as u64 > limit;
    clients.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = if more { clients.last().map(ClientCursor::after) } else { None };
    Ok(ClientPage { clients, next })
}

/// Deletes a client as an administrator; recorded in the audit log.
pub async fn delete_client(state: &AppState, at: &WorkspaceRef, client_id: &str, actor: &str) -> Result<(), ServiceError> {
    let client = get_client(state, at, client_id).await?;
    let event = deletion_event(state, at, &client.summary, actor);
    if state.store.delete_client(at, client_id, &event).await? { Ok(()) } else { Err(ServiceError::NotFound("client")) }
}

/// The audit event of an administrator's deletion of `client`.
fn deletion_event(state: &AppState, at: &WorkspaceRef, client: &ClientSummary, actor: &str) -> NewAuditEvent {
    NewAuditEvent {
        client_id: Some(client.client_id.clone()),
        software_id: client.software_id.clone(),
        org_id: client.org_id.clone(),
        ..NewAuditEvent::administration(at.clone(), AuditEventType::ClientDeleted, actor, None, state.clock.now())
    }
}

/// Creates a client as an administrator. A generated secret (for `client_secret_basic`) is
/// returned once; only its hash is kept.
pub async fn create_manual_client(
    state: &AppState,
    at: &WorkspaceRef,
    new: NewManualClient,
    actor: &str,
) -> Result<(ClientDetails, Option<Secret>), ServiceError> {
    let workspace = get_workspace(state, at).await?;
    check_method_allowed(&workspace, new.token_endpoint_auth_method)?;
    check_manual_client(&workspace, &new, state.deployment.allow_insecure_jwks_uris)?;
    if let Some(uri) = &new.jwks_uri {
        state.jwks.check_address(uri).map_err(|message| SettingsError::new("jwks_uri", message))?;
    }
    let now = state.clock.now();
    let client_id = secrets::new_time_ordered_id(now);
    let secret =
        (new.token_endpoint_auth_method == TokenEndpointAuthMethod::ClientSecretBasic).then(Secret::generate_client_secret);
    let name = new.name.trim().to_owned();
    let metadata = manual_metadata(&client_id, now, &new);
    let summary = ClientSummary {
        client_id: client_id.clone(),
        name: Some(name),
        dynamically_registered: false,
        software_id: None,
        org_id: None,
        org_name: None,
        token_endpoint_auth_method: new.token_endpoint_auth_method,
        created_at: now,
        last_token_at: None,
    };
    let client = NewClient {
        workspace: at.clone(),
        summary: summary.clone(),
        metadata: metadata.clone(),
        software_statement: None,
        client_secret_hash: secret.as_ref().map(|s| s.hash().as_str().to_owned()),
        registration_access_token_hash: None,
        registration_access_token_subject: None,
    };
    let event = NewAuditEvent {
        client_id: Some(client_id),
        ..NewAuditEvent::administration(at.clone(), AuditEventType::ClientCreated, actor, None, now)
    };
    // A manual client does not count towards the cap on dynamically registered ones.
    state.store.register_client(client, None, None, 0, &event).await?;
    Ok((ClientDetails { summary, metadata, software_statement: None, updated_at: now }, secret))
}

/// Changes a client an administrator created: its name, scopes, keys or subject DN, and whether
/// it may introspect any token. Its authentication method, and so its secret, stays: another
/// method is another client. Its tokens already issued keep their scope until they expire.
/// Recorded in the audit log with what changed; a change that changes nothing writes nothing.
pub async fn update_manual_client(
    state: &AppState,
    at: &WorkspaceRef,
    client_id: &str,
    change: NewManualClient,
    actor: &str,
) -> Result<ClientDetails, ServiceError> {
    let workspace = get_workspace(state, at).await?;
    let (current, credentials) =
        state.store.client_with_credentials(at, client_id).await?.ok_or(ServiceError::NotFound("client"))?;
    if current.summary.dynamically_registered {
        return Err(ServiceError::Conflict(
            "a dynamically registered client changes its own registration (RFC 7592 PUT)".to_owned(),
        ));
    }
    if change.token_endpoint_auth_method != current.summary.token_endpoint_auth_method {
        return Err(SettingsError::new(
            "token_endpoint_auth_method",
            format!("stays {}: for another method, create a new client", current.summary.token_endpoint_auth_method.as_str()),
        )
        .into());
    }
    check_manual_client(&workspace, &change, state.deployment.allow_insecure_jwks_uris)?;
    if let Some(uri) = &change.jwks_uri {
        state.jwks.check_address(uri).map_err(|message| SettingsError::new("jwks_uri", message))?;
    }
    let metadata = manual_metadata(client_id, current.summary.created_at, &change);
    let Some(detail) = manual_client_changes(&current.metadata, &metadata) else {
        return Ok(current);
    };
    let now = state.clock.now();
    let summary = ClientSummary { name: Some(change.name.trim().to_owned()), ..current.summary };
    let client = NewClient {
        workspace: at.clone(),
        summary: summary.clone(),
        metadata: metadata.clone(),
        software_statement: None,
        client_secret_hash: credentials.client_secret_hash,
        registration_access_token_hash: None,
        registration_access_token_subject: None,
    };
    let event = NewAuditEvent {
        client_id: Some(client_id.to_owned()),
        ..NewAuditEvent::administration(at.clone(), AuditEventType::ClientUpdated, actor, Some(detail), now)
    };
    if !state.store.update_client(&client, None, &event).await? {
        return Err(ServiceError::NotFound("client"));
    }
    Ok(ClientDetails { summary, metadata, software_statement: None, updated_at: now })
}

/// The registration of a manual client, as stored and shown.
fn manual_metadata(client_id: &str, issued_at: DateTime<Utc>, new: &NewManualClient) -> serde_json::Value {
    let mut metadata = json!({
        "client_id": client_id,
        "client_id_issued_at": issued_at.timestamp(),
        "client_name": new.name.trim(),
        "token_endpoint_auth_method": new.token_endpoint_auth_method,
        "grant_types": ["client_credentials"],
        "scope": new.scopes.join(" "),
        "scopes": new.scopes,
        "may_introspect": new.may_introspect,
    });
    if let Some(jwks) = &new.jwks {
        metadata["jwks"] = jwks.as_json().clone();
    }
    if let Some(uri) = &new.jwks_uri {
        metadata["jwks_uri"] = json!(uri.as_str());
    }
    if let Some(dn) = &new.tls_client_auth_subject_dn {
        metadata["tls_client_auth_subject_dn"] = json!(dn);
    }
    metadata
}

/// A new client's method must be one the workspace allows: with another it could never get a
/// token. (A change keeps the client's method, allowed or not since, so that an administrator
/// can still narrow what the client may do.)
fn check_method_allowed(workspace: &Workspace, method: TokenEndpointAuthMethod) -> Result<(), SettingsError> {
    if workspace.settings.token_endpoint_auth_methods.contains(&method) {
        Ok(())
    } else {
        Err(SettingsError::new(
            "token_endpoint_auth_method",
            format!("{} is not allowed by this workspace's token_endpoint_auth_methods", method.as_str()),
        ))
    }
}

fn check_manual_client(
    workspace: &Workspace,
    new: &NewManualClient,
    allow_insecure_jwks_uris: bool,
) -> Result<(), SettingsError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(SettingsError::new("name", "must be 1 to 80 characters"));
    }
    if new.scopes.is_empty() {
        return Err(SettingsError::new("scopes", "at least one scope is required"));
    }
    if let Some(bad) =
        new.scopes.iter().find(|s| !is_scope_token(s) || (*s != DCR_REGISTER_SCOPE && !workspace.settings.scopes.contains(s)))
    {
        return Err(SettingsError::new("scopes", format!("'{bad}' is neither dcr_register nor one of the workspace's scopes")));
    }
    let method = new.token_endpoint_auth_method;
    if !matches!(
        method,
        TokenEndpointAuthMethod::ClientSecretBasic
            | TokenEndpointAuthMethod::PrivateKeyJwt
            | TokenEndpointAuthMethod::TlsClientAuth
    ) {
        return Err(SettingsError::new(
            "token_endpoint_auth_method",
            "must be client_secret_basic, private_key_jwt or tls_client_auth",
        ));
    }
    let keys = usize::from(new.jwks.is_some()) + usize::from(new.jwks_uri.is_some());
    match method {
        TokenEndpointAuthMethod::PrivateKeyJwt if keys != 1 => {
            Err(SettingsError::new("jwks", "give exactly one of jwks and jwks_uri"))
        }
        TokenEndpointAuthMethod::PrivateKeyJwt => match &new.jwks_uri {
            Some(uri) => uri.check_transport(allow_insecure_jwks_uris).map_err(|m| SettingsError::new("jwks_uri", m)),
            None => Ok(()),
        },
        _ if keys != 0 => Err(SettingsError::new("jwks", "keys are only for private_key_jwt")),
        TokenEndpointAuthMethod::TlsClientAuth => {
            let dn = new.tls_client_auth_subject_dn.as_deref().unwrap_or_default();
            if dn.trim().is_empty() {
                return Err(SettingsError::new(
                    "tls_client_auth_subject_dn",
                    "is required for tls_client_auth: the subject of the client's certificate",
                ));
            }
            DistinguishedName::parse(dn)
                .map(|_| ())
                .map_err(|e| SettingsError::new("tls_client_auth_subject_dn", format!("the subject DN {e}")))
        }
        _ if new.tls_client_auth_subject_dn.is_some() => {
            Err(SettingsError::new("tls_client_auth_subject_dn", "is only for tls_client_auth"))
        }
        _ => Ok(()),
    }
}
