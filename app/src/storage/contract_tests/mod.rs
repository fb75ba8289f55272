//! The [`Store`] contract, written once and run against SQLite and PostgreSQL: a file per part
//! of the store, and `upgrades` for what each migration keeps.
//!
//! PostgreSQL runs when `ONBOARD_TEST_POSTGRES_URL` names a server where the tests may create
//! databases (`make test` starts a throwaway one). With `ONBOARD_REQUIRE_POSTGRES=1` (also set
//! by `make test`) a missing URL fails the tests instead of skipping the backend.

mod administrators;
mod clients;
mod console;
mod events;
mod policies;
mod sandbox;
mod upgrades;
mod workspaces;

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use sqlx::Connection as _;

use super::*;
use crate::domain::audit::AuditEventType;
use crate::domain::client::{ClientCursor, ClientFilter, PageStart};
use crate::domain::dcr::DcrSettings;
use crate::domain::event_log::Outcome;
use crate::domain::ids::WorkspaceId;
use crate::domain::oauth::TokenEndpointAuthMethod;
use crate::domain::workspace::Profile;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_790_000_000 + seconds, 0).single().unwrap_or_default()
}

fn tenant() -> TenantId {
    TenantId::parse("default").unwrap_or_else(|e| panic!("{e}"))
}

pub(super) fn workspace_ref(id: &str) -> WorkspaceRef {
    WorkspaceRef { tenant: tenant(), workspace: WorkspaceId::parse(id).unwrap_or_else(|e| panic!("{e}")) }
}

fn workspace(id: &str, profile: Profile) -> Workspace {
    let reference = workspace_ref(id);
    Workspace {
        tenant: reference.tenant,
        id: reference.workspace,
        name: format!("Workspace {id}"),
        profile,
        settings: WorkspaceSettings::defaults_for(profile, "https://as.example/default/x"),
        dcr: DcrSettings::defaults_for(profile),
        created_at: at(0),
        updated_at: at(0),
    }
}

pub(super) fn audit(ws: &WorkspaceRef, event_type: AuditEventType, outcome: Outcome, second: i64) -> NewAuditEvent {
    NewAuditEvent {
        workspace: ws.clone(),
        event_type,
        outcome,
        client_id: None,
        error: (outcome == Outcome::Failure).then(|| "invalid_client_metadata".to_owned()),
        error_description: None,
        software_id: Some("sw1".to_owned()),
        org_id: Some("org1".to_owned()),
        client_cert_subject: Some("CN=tpp".to_owned()),
        remote_addr: Some("127.0.0.1:5000".to_owned()),
        actor: None,
        detail: None,
        created_at: at(second),
    }
}

/// Every client the filter lets through, on one page.
fn only(filter: ClientFilter) -> ClientSelection {
    ClientSelection { filter, ..ClientSelection::default() }
}

pub(super) fn client(ws: &WorkspaceRef, id: &str, dynamic: bool, second: i64) -> NewClient {
    NewClient {
        workspace: ws.clone(),
        summary: ClientSummary {
            client_id: id.to_owned(),
            name: Some(format!("Client {id}")),
            dynamically_registered: dynamic,
            software_id: Some("sw1".to_owned()),
            org_id: Some("org1".to_owned()),
            org_name: Some("TPP Ltd".to_owned()),
            token_endpoint_auth_method: TokenEndpointAuthMethod::PrivateKeyJwt,
            created_at: at(second),
            last_token_at: None,
        },
        // As a registration stores them: the statement it presented is in the metadata too.
        metadata: json!({"client_id": id, "scope": "accounts", "software_statement": "a.b.c"}),
        software_statement: Some("a.b.c".to_owned()),
        client_secret_hash: None,
        registration_access_token_hash: Some(format!("hash-{id}")),
        registration_access_token_subject: dynamic.then(|| "CN=tpp".to_owned()),
    }
}

fn token_record(ws: &WorkspaceRef, jti: &str, client_id: &str) -> AccessTokenRecord {
    AccessTokenRecord {
        jti: jti.to_owned(),
        workspace: ws.clone(),
        client_id: client_id.to_owned(),
        scope: "accounts openid".to_owned(),
        certificate_thumbprint: Some("thumb".to_owned()),
        issued_at: at(2),
        expires_at: 1_790_003_602,
        revoked: false,
    }
}

/// The audit event stored with `token`.
fn issued(token: &AccessTokenRecord) -> NewAuditEvent {
    NewAuditEvent {
        client_id: Some(token.client_id.clone()),
        detail: Some(format!("scope {}", token.scope)),
        ..audit(&token.workspace, AuditEventType::TokenIssued, Outcome::Success, 2)
    }
}

fn guard(ws: &WorkspaceRef, jti: &str, expires_at: i64) -> ReplayGuard {
    ReplayGuard { scope: ReplayScope::Workspace(ws.clone()), issuer: "sw1".to_owned(), jti: jti.to_owned(), expires_at }
}

/// Writes DCR settings over the workspace as it is now, as the service does after reading it.
async fn save_dcr(
    store: &Arc<dyn Store>,
    at: &WorkspaceRef,
    dcr: &DcrSettings,
    now: DateTime<Utc>,
) -> Result<DcrSettingsWrite, StoreError> {
    let read_at = store.workspace(at).await?.map_or(now, |workspace| workspace.updated_at);
    store.update_dcr_settings(at, dcr, read_at, now).await
}

/// A store of each backend under test, freshly migrated and empty.
async fn stores() -> Vec<(Arc<dyn Store>, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let url = format!("sqlite://{}/contract.db", dir.path().display());
    let sqlite = connect(&url).await.unwrap_or_else(|e| panic!("sqlite: {e}"));
    let mut stores = vec![(sqlite, Some(dir))];
    if let Some(postgres) = fresh_postgres().await {
        stores.push((postgres, None));
    }
    for (store, _) in &stores {
        store.migrate().await.unwrap_or_else(|e| panic!("{}: {e}", store.backend().as_str()));
        store.ensure_tenant(&tenant(), "Default", at(0)).await.unwrap_or_else(|e| panic!("{e}"));
    }
    stores
}

async fn fresh_postgres() -> Option<Arc<dyn Store>> {
    let url = fresh_postgres_url().await?;
    Some(connect(&url).await.unwrap_or_else(|e| panic!("{e}")))
}

/// A new, empty database on the test PostgreSQL server.
pub(super) async fn fresh_postgres_url() -> Option<String> {
    let Ok(server) = std::env::var("ONBOARD_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("ONBOARD_REQUIRE_POSTGRES").is_err(),
            "ONBOARD_REQUIRE_POSTGRES is set but ONBOARD_TEST_POSTGRES_URL is not"
        );
        return None;
    };
    let name = format!("contract_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&server).await.unwrap_or_else(|e| panic!("postgres: {e}"));
    sqlx::query(&format!("create database {name}")).execute(&mut admin).await.unwrap_or_else(|e| panic!("{e}"));
    let base = server.rsplit_once('/').map_or(server.as_str(), |(base, _)| base);
    Some(format!("{base}/{name}"))
}

fn hashed(stored: &str) -> crate::secrets::SecretHash {
    crate::secrets::SecretHash::from_stored(stored.to_owned())
}

fn ok<T>(result: Result<T, StoreError>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}
