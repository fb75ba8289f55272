//! The [`Store`] contract, written once and run against SQLite and PostgreSQL.
//!
//! PostgreSQL runs when `ONBOARD_TEST_POSTGRES_URL` names a server where the tests may create
//! databases (`make test` starts a throwaway one). With `ONBOARD_REQUIRE_POSTGRES=1` (also set
//! by `make test`) a missing URL fails the tests instead of skipping the backend.

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

fn client(ws: &WorkspaceRef, id: &str, dynamic: bool, second: i64) -> NewClient {
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

fn guard(ws: &WorkspaceRef, jti: &str, expires_at: i64) -> ReplayGuard {
    ReplayGuard { scope: ReplayScope::Workspace(ws.clone()), issuer: "sw1".to_owned(), jti: jti.to_owned(), expires_at }
}

/// A store of each backend under test, freshly migrated and empty.
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

/// A lookup (or delete) by client id stays on that unique key in a PostgreSQL table
/// that grew since it was last analyzed: without statistics, a query naming the workspace too
/// walked the workspace's index and filtered every client in it.
#[tokio::test]
async fn hot_client_lookups_use_their_unique_key_before_statistics_exist() {
    let Some(url) = fresh_postgres_url().await else { return };
    let store = connect(&url).await.unwrap_or_else(|e| panic!("{e}"));
    ok(store.migrate().await);
    ok(store.ensure_tenant(&tenant(), "Default", at(0)).await);
    let obuk = workspace("obuk", Profile::OpenbankingUk);
    ok(store.insert_workspace(&obuk).await);
    let mut connection = sqlx::PgConnection::connect(&url).await.unwrap_or_else(|e| panic!("{e}"));
    sqlx::query(
        "insert into client (client_id, tenant_id, workspace_id, dynamically_registered, token_endpoint_auth_method, \
         metadata, registration_access_token_hash, created_at, updated_at) \
         select 'client-' || n, $1, $2, true, 'private_key_jwt', '{}', 'hash-' || n, now(), now() \
         from generate_series(1, 5000) as n",
    )
    .bind(obuk.tenant.as_str())
    .bind(obuk.id.as_str())
    .execute(&mut connection)
    .await
    .unwrap_or_else(|e| panic!("{e}"));

    // DELETE_CLIENT's `$4` (abandoned since) is unset here, as for an ordinary deletion.
    for (query, key, index, parameters) in [
        (super::sql::SELECT_CLIENT_WITH_CREDENTIALS, "client-42", "client_pkey", 3),
        (super::sql::DELETE_CLIENT, "client-42", "client_pkey", 4),
    ] {
        let explain = format!("explain (format json) {query}");
        let statement = sqlx::query_scalar(&explain).bind(obuk.tenant.as_str()).bind(obuk.id.as_str()).bind(key);
        let statement = if parameters == 4 { statement.bind(None::<DateTime<Utc>>) } else { statement };
        let plan: serde_json::Value = statement.fetch_one(&mut connection).await.unwrap_or_else(|e| panic!("{e}"));
        let plan = plan.to_string();
        assert!(plan.contains(index) && !plan.contains("client_by_workspace"), "{query}\n{plan}");
    }
}

/// Applies the backend's migrations up to `version` only, as a database made by an older release.
async fn migrate_until(url: &str, version: i64) {
    let keep = |migrator: &mut sqlx::migrate::Migrator| {
        migrator.migrations = migrator.migrations.iter().filter(|m| m.version <= version).cloned().collect::<Vec<_>>().into();
    };
    let applied = if url.starts_with("sqlite:") {
        let mut migrator = sqlx::migrate!("../migrations/sqlite");
        keep(&mut migrator);
        let options = url.parse::<sqlx::sqlite::SqliteConnectOptions>().map(|o| o.create_if_missing(true));
        let mut connection = sqlx::SqliteConnection::connect_with(&options.unwrap_or_else(|e| panic!("{e}"))).await;
        migrator.run_direct(connection.as_mut().unwrap_or_else(|e| panic!("{e}"))).await
    } else {
        let mut migrator = sqlx::migrate!("../migrations/postgres");
        keep(&mut migrator);
        let mut connection = sqlx::PgConnection::connect(url).await.unwrap_or_else(|e| panic!("{e}"));
        migrator.run_direct(&mut connection).await
    };
    applied.unwrap_or_else(|e| panic!("{url}: {e}"));
}

/// This release's store writes audit events with `actor` and `detail` (migration 11), and
/// clients with `registration_access_token_subject` (migration 12). A test
/// that writes rows with it into an older schema lends the schema those columns first, and
/// takes them back before migrating, so the migration meets the schema it was written for.
async fn lend_later_columns(url: &str) {
    for (table, column) in LENT_COLUMNS {
        execute(url, &format!("alter table {table} add column {column} text")).await;
    }
}

async fn take_back_later_columns(url: &str) {
    for (table, column) in LENT_COLUMNS {
        execute(url, &format!("alter table {table} drop column {column}")).await;
    }
}

/// The columns later migrations (11, 12) add that this release's store writes.
const LENT_COLUMNS: [(&str, &str); 3] =
    [("audit_event", "actor"), ("audit_event", "detail"), ("client", "registration_access_token_subject")];

/// Migrations 8 and 9 drop the unique indexes of registration and access token hashes; on
/// SQLite that rebuilds the client and access token tables. Clients, their tokens and the
/// cascade from one to the other survive it.
#[tokio::test]
async fn the_table_rebuilds_keep_clients_their_tokens_and_the_cascade() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut urls = vec![format!("sqlite://{}/older.db", dir.path().display())];
    urls.extend(fresh_postgres_url().await);
    for url in urls {
        migrate_until(&url, 7).await;
        lend_later_columns(&url).await;
        let store = connect(&url).await.unwrap_or_else(|e| panic!("{e}"));
        let at_ws = workspace_ref("obuk");
        ok(store.ensure_tenant(&tenant(), "Default", at(0)).await);
        ok(store.insert_workspace(&workspace("obuk", Profile::OpenbankingUk)).await);
        let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 1);
        // A manual client: the store's registration of a dynamic one counts it (migration 10).
        ok(store.register_client(client(&at_ws, "c1", false, 1), None, None, 0, &created).await);
        let token = token_record(&at_ws, "t1", "c1");
        ok(store.insert_access_token(&token, "token-hash-1", None).await);
        take_back_later_columns(&url).await;

        ok(store.migrate().await);
        let (_, credentials) = ok(store.client_with_credentials(&at_ws, "c1").await).unwrap_or_else(|| panic!("{url}: c1"));
        assert_eq!(credentials.registration_access_token_hash.as_deref(), Some("hash-c1"), "{url}");
        assert_eq!(ok(store.access_token("t1").await), Some((token, hashed("token-hash-1"))), "{url}");
        let same_hash = NewClient { registration_access_token_hash: Some("hash-c1".to_owned()), ..client(&at_ws, "c2", true, 3) };
        ok(store.register_client(same_hash, None, None, 0, &created).await);
        assert!(ok(store.delete_client(&at_ws, "c1", &created).await));
        assert_eq!(ok(store.access_token("t1").await), None, "{url}: deleting a client still ends its tokens");
        assert!(ok(store.client(&at_ws, "c2").await).is_some(), "{url}");
    }
}

/// Migration 10 counts the dynamically registered clients each workspace already holds, so the
/// cap holds from the first registration after the upgrade.
#[tokio::test]
async fn the_count_of_dynamic_clients_starts_from_those_held_before_the_upgrade() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut urls = vec![format!("sqlite://{}/older.db", dir.path().display())];
    urls.extend(fresh_postgres_url().await);
    for url in urls {
        migrate_until(&url, 9).await;
        lend_later_columns(&url).await;
        let store = connect(&url).await.unwrap_or_else(|e| panic!("{e}"));
        ok(store.ensure_tenant(&tenant(), "Default", at(0)).await);
        let (at_ws, other) = (workspace_ref("obuk"), workspace_ref("other"));
        for id in ["obuk", "other"] {
            ok(store.insert_workspace(&workspace(id, Profile::OpenbankingUk)).await);
        }
        let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 1);
        // Stored as manual clients (the store's registration of a dynamic one would count it
        // in a table this schema lacks), then made dynamic as an older release stored them.
        for (ws, id) in [(&at_ws, "d1"), (&at_ws, "d2"), (&other, "d3"), (&at_ws, "manual")] {
            ok(store.register_client(client(ws, id, false, 1), None, None, 0, &created).await);
        }
        execute(&url, "update client set dynamically_registered = true where client_id in ('d1', 'd2', 'd3')").await;
        take_back_later_columns(&url).await;

        ok(store.migrate().await);
        assert_eq!(ok(store.dynamic_client_count(&at_ws).await), 2, "{url}");
        assert_eq!(ok(store.dynamic_client_count(&other).await), 1, "{url}");
        ok(store.register_client(client(&at_ws, "d4", true, 2), None, None, 3, &created).await);
        let past_cap = store.register_client(client(&at_ws, "d5", true, 2), None, None, 3, &created).await;
        assert!(matches!(past_cap, Err(StoreError::CapReached)), "{url}: {past_cap:?}");
    }
}

/// Migration 14 moves the sign-in lock and count from the account to its address: an account
/// locked before the upgrade stays locked after it, and a count of failures goes on.
#[tokio::test]
async fn sign_in_locks_and_counts_survive_their_move_to_addresses() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut urls = vec![format!("sqlite://{}/older.db", dir.path().display())];
    urls.extend(fresh_postgres_url().await);
    for url in urls {
        migrate_until(&url, 13).await;
        execute(
            &url,
            "insert into admin_user (id, email, password_hash, failed_logins, locked_until, created_at) values \
             ('u1', 'locked@bank.example', 'h', 0, 4000000000, '2026-01-01T00:00:00Z'), \
             ('u2', 'counted@bank.example', 'h', 3, null, '2026-01-01T00:00:00Z'), \
             ('u3', 'clean@bank.example', 'h', 0, null, '2026-01-01T00:00:00Z')",
        )
        .await;
        let store = connect(&url).await.unwrap_or_else(|e| panic!("{e}"));
        ok(store.migrate().await);
        assert_eq!(ok(store.sign_in_locked_until("locked@bank.example", 100).await), Some(4_000_000_000), "{url}");
        assert_eq!(ok(store.count_sign_in_attempt("counted@bank.example", 100).await), Some(4), "{url}");
        assert_eq!(ok(store.count_sign_in_attempt("clean@bank.example", 100).await), Some(1), "{url}");
        assert!(ok(store.admin_user_by_email("locked@bank.example").await).is_some(), "{url}: the account itself is kept");
    }
}

/// Runs one statement outside the store, as another program (or an older release) would.
async fn execute(url: &str, statement: &str) {
    let done = if url.starts_with("sqlite:") {
        let mut connection = sqlx::SqliteConnection::connect(url).await.unwrap_or_else(|e| panic!("{e}"));
        sqlx::raw_sql(statement).execute(&mut connection).await.map(drop)
    } else {
        let mut connection = sqlx::PgConnection::connect(url).await.unwrap_or_else(|e| panic!("{e}"));
        sqlx::raw_sql(statement).execute(&mut connection).await.map(drop)
    };
    done.unwrap_or_else(|e| panic!("{statement}: {e}"));
}

#[tokio::test]
async fn workspaces_are_created_read_listed_and_updated() {
    for (store, _dir) in stores().await {
        let obuk = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&obuk).await);
        assert!(matches!(store.insert_workspace(&obuk).await, Err(StoreError::Conflict)));

        let mut orphan = workspace("orphan", Profile::Generic);
        orphan.tenant = TenantId::parse("nobody").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(store.insert_workspace(&orphan).await, Err(StoreError::NotFound)));

        assert_eq!(ok(store.workspace(&obuk.reference()).await).as_deref(), Some(&obuk));
        assert_eq!(ok(store.workspace(&workspace_ref("missing")).await), None);
        assert!(ok(store.tenant_exists(&tenant()).await));

        let mut dcr = obuk.dcr.clone();
        dcr.enabled = true;
        assert_eq!(ok(save_dcr(&store, &obuk.reference(), &dcr, at(5)).await), DcrSettingsWrite::Saved);
        let stale = ok(store.update_dcr_settings(&obuk.reference(), &obuk.dcr, at(1), at(6)).await);
        assert_eq!(stale, DcrSettingsWrite::NotAsRead, "a write based on an older read changes nothing");
        let mut settings = obuk.settings.clone();
        settings.org_id = Some("0015800001HQQrZAAX".to_owned());
        let read_at = ok(store.workspace(&obuk.reference()).await).map(|w| w.updated_at).unwrap_or_default();
        let mut meanwhile = obuk.settings.clone();
        meanwhile.scopes.push("changed-meanwhile".to_owned());
        assert!(
            !ok(store.update_workspace_settings(&obuk.reference(), &meanwhile, at(4), at(6)).await),
            "a write based on an older read changes nothing"
        );
        assert!(ok(store.update_workspace_settings(&obuk.reference(), &settings, read_at, at(6)).await));
        assert!(!ok(store.update_workspace_settings(&obuk.reference(), &meanwhile, read_at, at(7)).await), "nor a second one");
        assert_eq!(ok(save_dcr(&store, &workspace_ref("missing"), &dcr, at(6)).await), DcrSettingsWrite::NotAsRead);

        let read = ok(store.workspace(&obuk.reference()).await).unwrap_or_else(|| panic!("workspace vanished"));
        assert_eq!((&read.dcr, &read.settings, read.updated_at), (&dcr, &settings, at(6)));

        let generic = Workspace { created_at: at(1), ..workspace("generic", Profile::Generic) };
        ok(store.insert_workspace(&generic).await);
        ok(store
            .register_client(
                client(&obuk.reference(), "c1", true, 7),
                None,
                None,
                0,
                &audit(&obuk.reference(), AuditEventType::DcrCreated, Outcome::Success, 7),
            )
            .await);
        let listed = ok(store.workspaces(&tenant()).await);
        let summary: Vec<_> = listed.iter().map(|w| (w.id.as_str(), w.dcr_enabled, w.client_count)).collect();
        assert_eq!(summary, vec![("obuk", true, 1), ("generic", false, 0)]);
    }
}

#[tokio::test]
async fn registration_writes_client_guard_and_audit_together() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();

        let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 1);
        ok(store.register_client(client(&at_ws, "c1", true, 1), Some(&guard(&at_ws, "j1", 100)), None, 0, &created).await);

        assert!(ok(store.replay_guard_exists(&guard(&at_ws, "j1", 100)).await));
        assert!(!ok(store.replay_guard_exists(&guard(&at_ws, "j2", 100)).await));
        assert!(!ok(store.replay_guard_exists(&guard(&workspace_ref("other"), "j1", 100)).await));

        // A replayed jti writes nothing: no client, no audit event.
        let replay =
            store.register_client(client(&at_ws, "c2", true, 2), Some(&guard(&at_ws, "j1", 100)), None, 0, &created).await;
        assert!(matches!(replay, Err(StoreError::Replayed)), "{replay:?}");
        assert_eq!(ok(store.client(&at_ws, "c2").await), None);
        assert_eq!(ok(store.audit_events(&at_ws, &AuditFilter::default()).await).len(), 1);

        // A client id taken already is a conflict, and its fresh jti is not spent: the replay
        // record written in the same query is undone with the client.
        let taken =
            store.register_client(client(&at_ws, "c1", true, 2), Some(&guard(&at_ws, "j5", 100)), None, 0, &created).await;
        assert!(matches!(taken, Err(StoreError::Conflict)), "{taken:?}");
        assert!(!ok(store.replay_guard_exists(&guard(&at_ws, "j5", 100)).await));
        assert_eq!(ok(store.audit_events(&at_ws, &AuditFilter::default()).await).len(), 1);

        // The same jti from another workspace is another request.
        ok(store.insert_workspace(&workspace("other", Profile::OpenbankingUk)).await);
        let other = workspace_ref("other");
        ok(store
            .register_client(
                client(&other, "c3", true, 3),
                Some(&guard(&other, "j1", 100)),
                None,
                0,
                &audit(&other, AuditEventType::DcrCreated, Outcome::Success, 3),
            )
            .await);

        let details = ok(store.client(&at_ws, "c1").await).unwrap_or_else(|| panic!("client missing"));
        assert_eq!(details.metadata, client(&at_ws, "c1", true, 1).metadata, "the metadata reads back as written");
        assert_eq!(details.software_statement.as_deref(), Some("a.b.c"));
        assert!(details.summary.dynamically_registered);
        let (_, credentials) = ok(store.client_with_credentials(&at_ws, "c1").await).unwrap_or_else(|| panic!("c1"));
        assert_eq!(credentials.registration_access_token_subject.as_deref(), Some("CN=tpp"));
        assert_eq!(ok(store.client(&other, "c1").await), None, "clients are scoped to their workspace");

        ok(store.insert_replay_guard(&guard(&at_ws, "assertion-1", 100)).await);
        assert!(matches!(store.insert_replay_guard(&guard(&at_ws, "assertion-1", 100)).await, Err(StoreError::Replayed)));
        // A tenant-wide record is its own: beside the workspace's, and spent once.
        let tenant_wide = ReplayGuard { scope: ReplayScope::Tenant(tenant()), ..guard(&at_ws, "assertion-1", 100) };
        ok(store.insert_replay_guard(&tenant_wide).await);
        assert!(matches!(store.insert_replay_guard(&tenant_wide).await, Err(StoreError::Replayed)));
        assert!(ok(store.replay_guard_exists(&tenant_wide).await));
        assert_eq!(ok(store.purge_expired_replay_guards(99, 1000).await), 0);
        ok(store.insert_replay_guard(&guard(&at_ws, "assertion-2", 90)).await);
        assert_eq!(ok(store.purge_expired_replay_guards(101, 1).await), 1, "a batch of one: the earliest");
        assert!(!ok(store.replay_guard_exists(&guard(&at_ws, "assertion-2", 90)).await));
        assert_eq!(ok(store.purge_expired_replay_guards(101, 3).await), 3, "a batch holds no more, though more share its expiry");
        assert_eq!(ok(store.purge_expired_replay_guards(101, 1000).await), 1);
        assert_eq!(ok(store.purge_expired_replay_guards(101, 1000).await), 0);
        ok(store.register_client(client(&at_ws, "c4", true, 4), Some(&guard(&at_ws, "j1", 200)), None, 0, &created).await);
    }
}

/// Group commit: writes that arrive together share a transaction, yet each keeps its own
/// outcome. A `jti` used twice in one batch registers once; the rest all commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_each_keep_their_outcome() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        let attempts = (0..200).map(|i| {
            let (store, at_ws) = (store.clone(), at_ws.clone());
            // Requests 0 and 1 carry the same jti; so do 2 and 3.
            let jti = format!("j{}", if i < 4 { i / 2 } else { i });
            tokio::spawn(async move {
                let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 1);
                store
                    .register_client(
                        client(&at_ws, &format!("c{i}"), true, 1),
                        Some(&guard(&at_ws, &jti, 100)),
                        None,
                        0,
                        &created,
                    )
                    .await
            })
        });
        let outcomes: Vec<Result<(), StoreError>> = futures_util::future::join_all(attempts)
            .await
            .into_iter()
            .map(|joined| joined.unwrap_or_else(|e| panic!("{e}")))
            .collect();
        let replayed = outcomes.iter().filter(|o| matches!(o, Err(StoreError::Replayed))).count();
        assert_eq!(replayed, 2, "{outcomes:?}");
        assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 198);
        let listed = ok(store.clients(&at_ws, &only(ClientFilter::All)).await);
        assert_eq!(listed.len(), 198, "each registration that succeeded is there, and no other");
        let every_event = AuditFilter { limit: 500, ..AuditFilter::default() };
        assert_eq!(ok(store.audit_events(&at_ws, &every_event).await).len(), 198);
        let assertions = (0..50).map(|i| {
            let (store, at_ws) = (store.clone(), at_ws.clone());
            tokio::spawn(async move { store.insert_replay_guard(&guard(&at_ws, &format!("a{}", i % 25), 100)).await })
        });
        let outcomes: Vec<_> = futures_util::future::join_all(assertions).await.into_iter().flatten().collect();
        assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 25);
        assert_eq!(outcomes.iter().filter(|o| matches!(o, Err(StoreError::Replayed))).count(), 25);
    }
}

#[tokio::test]
async fn clients_are_listed_filtered_and_deleted() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 0);
        ok(store.register_client(client(&at_ws, "old", true, 1), None, None, 0, &created).await);
        ok(store.register_client(client(&at_ws, "manual", false, 2), None, None, 0, &created).await);
        ok(store.register_client(client(&at_ws, "new", true, 3), None, None, 0, &created).await);

        let ids = |list: Vec<ClientSummary>| list.into_iter().map(|c| c.client_id).collect::<Vec<_>>();
        assert_eq!(ids(ok(store.clients(&at_ws, &only(ClientFilter::All)).await)), ["new", "manual", "old"]);
        assert_eq!(ids(ok(store.clients(&at_ws, &only(ClientFilter::Dynamic)).await)), ["new", "old"]);
        assert_eq!(ids(ok(store.clients(&at_ws, &only(ClientFilter::Manual)).await)), ["manual"]);
        assert_eq!(ok(store.dynamic_client_count(&at_ws).await), 2);

        let deleted = audit(&at_ws, AuditEventType::ClientDeleted, Outcome::Success, 9);
        assert!(ok(store.delete_client(&at_ws, "old", &deleted).await));
        assert!(!ok(store.delete_client(&at_ws, "old", &deleted).await));
        assert_eq!(ids(ok(store.clients(&at_ws, &only(ClientFilter::Dynamic)).await)), ["new"]);
        assert_eq!(ok(store.dynamic_client_count(&at_ws).await), 1);
        let events = ok(store
            .audit_events(&at_ws, &AuditFilter { event_type: Some(AuditEventType::ClientDeleted), ..AuditFilter::default() })
            .await);
        assert_eq!(events.len(), 1, "one audit event per actual deletion");

        // An abandoned client's deletion holds only while it is abandoned: registered by the
        // cut-off and given no token since.
        ok(store.register_client(client(&at_ws, "idle", true, 1), None, None, 0, &created).await);
        let token = AccessTokenRecord { issued_at: at(5), ..token_record(&at_ws, "t-idle", "idle") };
        ok(store.insert_access_token(&token, "hash-idle", None).await);
        assert!(!ok(store.delete_unused_client(&at_ws, "idle", at(4), &deleted).await), "a token since the cut-off");
        assert!(!ok(store.delete_unused_client(&at_ws, "new", at(2), &deleted).await), "registered after the cut-off");
        assert!(ok(store.delete_unused_client(&at_ws, "idle", at(5), &deleted).await));
        assert_eq!(ids(ok(store.clients(&at_ws, &only(ClientFilter::Dynamic)).await)), ["new"]);
    }
}

#[tokio::test]
async fn clients_are_searched_paged_and_counted_by_the_database() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 0);
        // c00..c24, one a second (c24 newest); every fifth named "Payments 100%_x".
        for n in 0..25 {
            let mut new = client(&at_ws, &format!("c{n:02}"), true, n);
            if n % 5 == 0 {
                new.summary.name = Some(format!("Payments 100%_x {n}"));
            }
            ok(store.register_client(new, None, None, 0, &created).await);
        }
        ok(store.register_client(client(&at_ws, "other", true, 30), None, None, 0, &created).await);
        let ids = |list: Vec<ClientSummary>| list.into_iter().map(|c| c.client_id).collect::<Vec<_>>();
        let select = |search: &str, offset: u64, limit: Option<u64>| ClientSelection {
            search: search.to_owned(),
            start: PageStart::Offset(offset),
            limit,
            ..ClientSelection::default()
        };

        assert_eq!(ok(store.count_clients(&at_ws, &select("", 0, None)).await), 26);
        assert_eq!(ids(ok(store.clients(&at_ws, &select("", 0, Some(3))).await)), ["other", "c24", "c23"], "newest first");
        assert_eq!(ids(ok(store.clients(&at_ws, &select("", 24, Some(3))).await)), ["c01", "c00"], "the last page");
        assert_eq!(ok(store.count_clients(&at_ws, &select("", 24, Some(3))).await), 26, "a count ignores the page");

        let payments = select(" PAYMENTS ", 0, None);
        assert_eq!(ids(ok(store.clients(&at_ws, &payments).await)), ["c20", "c15", "c10", "c05", "c00"], "by name, any case");
        assert_eq!(ok(store.count_clients(&at_ws, &payments).await), 5);
        assert_eq!(ids(ok(store.clients(&at_ws, &select("C2", 0, None)).await)), ["c24", "c23", "c22", "c21", "c20"], "by id");
        assert_eq!(ok(store.count_clients(&at_ws, &select("100%_", 0, None)).await), 5, "% and _ as typed");
        assert_eq!(ok(store.count_clients(&at_ws, &select("0%x", 0, None)).await), 0, "% is not a wildcard");
        assert_eq!(ok(store.count_clients(&at_ws, &select("0__x", 0, None)).await), 0, "nor is _");
        assert_eq!(ok(store.count_clients(&at_ws, &select("c\0", 0, None)).await), 0, "a name cannot hold U+0000");
        assert!(ok(store.clients(&at_ws, &select("c\0", 0, None)).await).is_empty());
    }
}

/// A walk through a list by cursors sees every client that was there when it began exactly
/// once, in order, though clients share a registration instant, the cursor's own client is
/// deleted and newer ones arrive on the way.
#[tokio::test]
async fn a_walk_by_cursor_neither_repeats_nor_misses_a_client() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 0);
        // Microseconds, which both databases keep; b, c and d share theirs.
        let instant = |n: i64| at(n) + chrono::Duration::microseconds(123_456);
        let register = |id: &str, second: i64| NewClient {
            summary: ClientSummary { created_at: instant(second), ..client(&at_ws, id, true, 0).summary },
            ..client(&at_ws, id, true, 0)
        };
        for (id, second) in [("a", 1), ("b", 2), ("c", 2), ("d", 2), ("e", 3), ("f", 4), ("g", 5)] {
            ok(store.register_client(register(id, second), None, None, 0, &created).await);
        }
        let page = |start: PageStart| ClientSelection { start, limit: Some(2), ..ClientSelection::default() };
        let mut seen = Vec::new();
        let mut start = PageStart::default();
        loop {
            let clients = ok(store.clients(&at_ws, &page(start)).await);
            seen.extend(clients.iter().map(|c| c.client_id.clone()));
            let Some(last) = clients.last() else { break };
            let cursor = ClientCursor::after(last);
            if last.client_id == "b" {
                let deleted = audit(&at_ws, AuditEventType::ClientDeleted, Outcome::Success, 9);
                assert!(ok(store.delete_client(&at_ws, "b", &deleted).await), "the cursor's own client goes");
                ok(store.register_client(register("newer", 9), None, None, 0, &created).await);
            }
            // Through its text, as callers hold it.
            start = PageStart::After(ClientCursor::parse(&cursor.encode()).unwrap_or_else(|e| panic!("{e:?}")));
        }
        assert_eq!(seen, ["g", "f", "e", "b", "c", "d", "a"], "newest first, ties by id");
    }
}

/// The abandoned rule, at its edges: registered by the cut-off, and no token after it.
#[tokio::test]
async fn abandoned_clients_are_those_without_a_token_since_the_cut_off() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 0);
        let day = |n: i64| at(n * 86_400);
        let register = |id: &str, dynamic: bool, registered: i64| NewClient {
            summary: ClientSummary { created_at: day(registered), ..client(&at_ws, id, dynamic, 0).summary },
            ..client(&at_ws, id, dynamic, 0)
        };
        for (id, dynamic, registered) in [("unused", true, 0), ("young", true, 1), ("used", true, 0), ("manual", false, 0)] {
            ok(store.register_client(register(id, dynamic, registered), None, None, 0, &created).await);
        }
        let token = AccessTokenRecord { issued_at: day(50), ..token_record(&at_ws, "t-used", "used") };
        ok(store.insert_access_token(&token, "hash", None).await);
        let (store, at_ws) = (&store, &at_ws);
        let abandoned = |now: i64| async move {
            let selection = ClientSelection::abandoned(day(now), 90);
            let mut listed: Vec<_> = ok(store.clients(at_ws, &selection).await).into_iter().map(|c| c.client_id).collect();
            listed.sort();
            listed
        };
        assert!(abandoned(89).await.is_empty(), "registered 89 days ago, never used: not yet");
        assert_eq!(abandoned(90).await, ["unused"]);
        assert_eq!(abandoned(91).await, ["unused", "young"]);
        assert_eq!(abandoned(139).await, ["unused", "young"], "a token 89 days ago");
        assert_eq!(abandoned(140).await, ["unused", "used", "young"], "the bank's own clients are never abandoned");
    }
}

#[tokio::test]
async fn expired_access_tokens_are_purged_and_when_a_client_last_got_one_is_kept() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 0);
        ok(store.register_client(client(&at_ws, "busy", true, 1), None, None, 0, &created).await);
        ok(store.register_client(client(&at_ws, "quiet", true, 1), None, None, 0, &created).await);
        // `busy`: 30 expired tokens, issued at 10..=39; 25 of them expire together, at 150,
        // and one issued last, at 40, that a long lifetime keeps past the purge. `quiet`: one
        // expired token, issued at 20.
        let token = |jti: String, client_id: &str, issued: i64, expires_at: i64| AccessTokenRecord {
            issued_at: at(issued),
            expires_at,
            ..token_record(&at_ws, &jti, client_id)
        };
        let expired: Vec<_> = (10..40)
            .map(|issued| token(format!("b{issued:02}"), "busy", issued, if issued < 15 { 100 + issued } else { 150 }))
            .collect();
        let inserts = expired.iter().map(|record| store.insert_access_token(record, "hash", None));
        futures_util::future::join_all(inserts).await.into_iter().for_each(ok);
        ok(store.insert_access_token(&token("b-live".to_owned(), "busy", 40, 5000), "hash", None).await);
        ok(store.insert_access_token(&token("q".to_owned(), "quiet", 20, 500), "hash", None).await);

        assert_eq!(ok(store.purge_expired_access_tokens(110, 10).await), 0, "nothing had expired before 110");
        let batches: Vec<u64> = {
            let mut batches = Vec::new();
            loop {
                match ok(store.purge_expired_access_tokens(1500, 10).await) {
                    0 => break batches,
                    purged => batches.push(purged),
                }
            }
        };
        assert_eq!(batches, [10, 10, 10, 1], "batches of ten, through tokens sharing an expiry, then the last");
        assert!(ok(store.access_token("b39").await).is_none(), "an expired token is gone");
        assert!(ok(store.access_token("b-live").await).is_some(), "a live one stays");

        let last_token = |list: Vec<ClientSummary>| list.into_iter().map(|c| (c.client_id, c.last_token_at)).collect::<Vec<_>>();
        let listed = last_token(ok(store.clients(&at_ws, &only(ClientFilter::All)).await));
        assert!(listed.contains(&("busy".to_owned(), Some(at(40)))), "the live token is the newest: {listed:?}");
        assert!(listed.contains(&("quiet".to_owned(), Some(at(20)))), "kept on the row once its tokens are gone: {listed:?}");
        let (quiet, _) = ok(store.client_with_credentials(&at_ws, "quiet").await).unwrap_or_else(|| panic!("quiet"));
        assert_eq!(quiet.summary.last_token_at, Some(at(20)), "read with its credentials too");

        // Abandonment counts a purged token: `quiet` got one at 20.
        let abandoned_since = |cut_off: i64| ClientSelection { unused_since: Some(at(cut_off)), ..only(ClientFilter::Dynamic) };
        assert!(ok(store.clients(&at_ws, &abandoned_since(19)).await).is_empty(), "a purged token since the cut-off");
        assert_eq!(ok(store.count_clients(&at_ws, &abandoned_since(20)).await), 1);
        let deleted = audit(&at_ws, AuditEventType::ClientDeleted, Outcome::Success, 9);
        assert!(!ok(store.delete_unused_client(&at_ws, "quiet", at(19), &deleted).await), "a purged token since the cut-off");
        assert!(ok(store.delete_unused_client(&at_ws, "quiet", at(20), &deleted).await));
    }
}

/// The cap on dynamically registered clients is kept by the registration's own write: past it,
/// nothing of the registration is stored (client, replay record, audit event); manual clients
/// do not count; a deletion frees a place, even when a lowered cap left the workspace above it.
#[tokio::test]
async fn the_cap_on_dynamic_clients_is_kept_by_the_write() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 0);
        let register = |id: &str, cap: u32| {
            let (store, at_ws, created) = (store.clone(), at_ws.clone(), created.clone());
            let (client, guard) = (client(&at_ws, id, true, 1), guard(&at_ws, &format!("jti-{id}"), 100));
            async move { store.register_client(client, Some(&guard), None, cap, &created).await }
        };
        ok(register("c1", 2).await);
        ok(register("c2", 2).await);
        ok(store.register_client(client(&at_ws, "manual", false, 1), None, None, 2, &created).await);
        assert_eq!(ok(store.dynamic_client_count(&at_ws).await), 2);

        assert!(matches!(register("c3", 2).await, Err(StoreError::CapReached)));
        assert_eq!(ok(store.client(&at_ws, "c3").await), None);
        assert!(!ok(store.replay_guard_exists(&guard(&at_ws, "jti-c3", 100)).await), "the refused request's jti is not spent");
        assert_eq!(ok(store.audit_events(&at_ws, &AuditFilter::default()).await).len(), 3, "nothing audited by the store");
        ok(register("c3", 3).await);
        ok(register("unlimited", 0).await);

        // The cap lowered below what the workspace holds: deletions bring it back under.
        let deleted = audit(&at_ws, AuditEventType::ClientDeleted, Outcome::Success, 9);
        assert!(matches!(register("c5", 2).await, Err(StoreError::CapReached)));
        assert!(ok(store.delete_client(&at_ws, "c1", &deleted).await));
        assert!(ok(store.delete_client(&at_ws, "manual", &deleted).await));
        assert_eq!(ok(store.dynamic_client_count(&at_ws).await), 3, "a manual client's deletion counts nothing");
        assert!(ok(store.delete_client(&at_ws, "c2", &deleted).await));
        assert!(matches!(register("c5", 2).await, Err(StoreError::CapReached)));
        assert!(ok(store.delete_client(&at_ws, "c3", &deleted).await));
        ok(register("c5", 2).await);
        assert_eq!(ok(store.dynamic_client_count(&at_ws).await), 2);
    }
}

/// Registrations racing for the last places are group-committed together, and exactly as many
/// as there are places get one.
#[tokio::test]
async fn registrations_racing_for_the_last_places_never_pass_the_cap() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 0);
        ok(store.register_client(client(&at_ws, "first", true, 1), None, None, 5, &created).await);
        let racing = (0..16).map(|i| {
            let (store, client, created) = (store.clone(), client(&at_ws, &format!("c{i}"), true, 1), created.clone());
            tokio::spawn(async move { store.register_client(client, None, None, 5, &created).await })
        });
        let outcomes = futures_util::future::join_all(racing).await;
        let admitted = outcomes.iter().filter(|o| matches!(o, Ok(Ok(())))).count();
        let refused = outcomes.iter().filter(|o| matches!(o, Ok(Err(StoreError::CapReached)))).count();
        assert_eq!((admitted, refused), (4, 12), "{outcomes:?}");
        assert_eq!(ok(store.clients(&at_ws, &only(ClientFilter::Dynamic)).await).len(), 5);
        assert_eq!(ok(store.dynamic_client_count(&at_ws).await), 5);
    }
}

#[tokio::test]
async fn audit_events_are_newest_first_and_filterable() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        for second in 0..5 {
            let outcome = if second % 2 == 0 { Outcome::Failure } else { Outcome::Success };
            let kind = if outcome == Outcome::Failure { AuditEventType::DcrRejected } else { AuditEventType::DcrCreated };
            ok(store.record_audit_event(&audit(&at_ws, kind, outcome, second)).await);
        }
        let all = ok(store.audit_events(&at_ws, &AuditFilter::default()).await);
        let seconds: Vec<_> = all.iter().map(|e| e.event.created_at).collect();
        assert_eq!(seconds, (0..5).rev().map(at).collect::<Vec<_>>());
        assert_eq!(all[0].event, audit(&at_ws, AuditEventType::DcrRejected, Outcome::Failure, 4));

        let rejected = ok(store
            .audit_events(&at_ws, &AuditFilter { event_type: Some(AuditEventType::DcrRejected), ..AuditFilter::default() })
            .await);
        assert_eq!(rejected.len(), 3);
        let successes =
            ok(store.audit_events(&at_ws, &AuditFilter { outcome: Some(Outcome::Success), ..AuditFilter::default() }).await);
        assert_eq!(successes.len(), 2);
        let page =
            ok(store.audit_events(&at_ws, &AuditFilter { before_id: Some(all[1].id), limit: 2, ..AuditFilter::default() }).await);
        assert_eq!(page.iter().map(|e| e.id).collect::<Vec<_>>(), vec![all[2].id, all[3].id]);
        assert!(ok(store.audit_events(&workspace_ref("elsewhere"), &AuditFilter::default()).await).is_empty());
    }
}

#[tokio::test]
async fn administrator_events_are_newest_first_and_filterable() {
    use crate::domain::activity::{
        Actor, AdministratorEventFilter as Filter, AdministratorEventType as Kind, NewAdministratorEvent,
    };
    for (store, _dir) in stores().await {
        let kinds = [Kind::AdministratorCreated, Kind::SignInRefused, Kind::SignedIn, Kind::SignInRefused, Kind::SignedOut];
        let events: Vec<_> = kinds
            .into_iter()
            .zip(0..)
            .map(|(kind, second)| {
                NewAdministratorEvent::new(kind, Some("admin@bank.example"), at(second))
                    .from_address(Some(std::net::IpAddr::from([192, 0, 2, 7])))
            })
            .collect();
        for event in &events {
            ok(store.record_administrator_event(event).await);
        }
        let all = ok(store.administrator_events(&Filter::default()).await);
        assert_eq!(all.iter().map(|e| e.event.clone()).collect::<Vec<_>>(), events.iter().rev().cloned().collect::<Vec<_>>());

        let refused =
            ok(store.administrator_events(&Filter { event_type: Some(Kind::SignInRefused), ..Filter::default() }).await);
        assert_eq!(refused.iter().map(|e| e.event.created_at).collect::<Vec<_>>(), [at(3), at(1)]);
        let failures = ok(store.administrator_events(&Filter { outcome: Some(Outcome::Failure), ..Filter::default() }).await);
        assert_eq!(failures, refused);
        let page = ok(store.administrator_events(&Filter { before_id: Some(all[1].id), limit: 2, ..Filter::default() }).await);
        assert_eq!(page.iter().map(|e| e.id).collect::<Vec<_>>(), [all[2].id, all[3].id]);

        let by_api = Actor::Named("admin API key").did(Kind::SandboxSoftwareDeleted, "tenant default, software sw1", at(9));
        ok(store.record_administrator_event(&by_api).await);
        let newest = ok(store.administrator_events(&Filter { limit: 1, ..Filter::default() }).await);
        assert_eq!(newest.iter().map(|e| &e.event).collect::<Vec<_>>(), [&by_api]);
    }
}

#[tokio::test]
async fn old_audit_events_and_activity_are_purged_oldest_first_in_batches() {
    use crate::domain::activity::{AdministratorEventFilter, AdministratorEventType, NewAdministratorEvent};
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        for second in 0..5 {
            ok(store.record_audit_event(&audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, second * 10)).await);
            let event = NewAdministratorEvent::new(AdministratorEventType::SignedIn, Some("admin@bank.example"), at(second * 10));
            ok(store.record_administrator_event(&event).await);
        }
        // Before 35 s: the events at 0, 10, 20 and 30 s, two a batch.
        assert_eq!(ok(store.purge_audit_events(at(35), 2).await), 2);
        assert_eq!(ok(store.purge_audit_events(at(35), 2).await), 2);
        assert_eq!(ok(store.purge_audit_events(at(35), 2).await), 0, "the one left is at 40 s");
        let left = ok(store.audit_events(&at_ws, &AuditFilter::default()).await);
        assert_eq!(left.iter().map(|e| e.event.created_at).collect::<Vec<_>>(), [at(40)]);

        assert_eq!(ok(store.purge_administrator_events(at(20), 10).await), 2, "0 and 10 s; 20 s is not before 20 s");
        let left = ok(store.administrator_events(&AdministratorEventFilter::default()).await);
        assert_eq!(left.iter().map(|e| e.event.created_at).collect::<Vec<_>>(), [at(40), at(30), at(20)]);
    }
}

/// Reads' audit events reach the writer faster than it commits, and a batch inserts them many
/// rows to a statement (8, 4, 2 and 1 rows): every event is stored once, as it was queued, also
/// when a write beside them fails and the batch runs again one write at a time.
#[tokio::test]
async fn queued_audit_events_are_stored_many_to_a_statement() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        ok(store.insert_replay_guard(&guard(&at_ws, "used", 100)).await);
        // Every other one an administrator's change, so both kinds go through the batches.
        let event = |n: i64| NewAuditEvent {
            remote_addr: Some(format!("192.0.2.{n}")),
            actor: (n % 2 == 0).then(|| "admin@bank.example".to_owned()),
            detail: (n % 2 == 0).then(|| format!("change {n}")),
            ..audit(&at_ws, AuditEventType::DcrRead, Outcome::Success, n)
        };
        let replayed = {
            let (store, guard) = (store.clone(), guard(&at_ws, "used", 100));
            tokio::spawn(async move { store.insert_replay_guard(&guard).await })
        };
        for n in 0..150 {
            store.queue_audit_event(event(n)).await;
        }
        assert!(matches!(replayed.await, Ok(Err(StoreError::Replayed))));
        // Committed after (or with) every event queued before it.
        ok(store.record_audit_event(&event(150)).await);

        let filter = AuditFilter { limit: AuditFilter::MAX_LIMIT, ..AuditFilter::default() };
        let mut stored: Vec<NewAuditEvent> = ok(store.audit_events(&at_ws, &filter).await).into_iter().map(|e| e.event).collect();
        stored.sort_by_key(|e| e.created_at);
        assert_eq!(stored, (0..=150).map(event).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn signing_keys_belong_to_their_workspace_newest_first() {
    use crate::domain::signing::{JwsAlgorithm, SigningKeyMaterial, WorkspaceSigningKey};
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let key = |kid: &str, second: i64| WorkspaceSigningKey {
            workspace: ws.reference(),
            material: SigningKeyMaterial {
                kid: kid.to_owned(),
                algorithm: JwsAlgorithm::Ps256,
                sealed_private_key: Some(format!("sealed:v1:0011223344556677:{kid}")),
                public_jwk: json!({"kid": kid, "kty": "RSA"}),
            },
            created_at: at(second),
        };
        ok(store.insert_signing_key(&key("old", 1)).await);
        ok(store.insert_signing_key(&key("new", 2)).await);
        assert!(matches!(store.insert_signing_key(&key("new", 3)).await, Err(StoreError::Conflict)));
        let kids: Vec<_> = ok(store.signing_keys(&ws.reference()).await).iter().map(|k| k.material.kid.clone()).collect();
        assert_eq!(kids, ["new", "old"]);
        let stored = ok(store.signing_keys(&ws.reference()).await)[0].clone();
        assert_eq!((stored.material.public_jwk, stored.created_at), (json!({"kid": "new", "kty": "RSA"}), at(2)));
        assert!(ok(store.signing_keys(&workspace_ref("other")).await).is_empty());
    }
}

#[tokio::test]
async fn an_erased_private_key_is_gone_for_good_and_its_key_stays_listed() {
    use crate::domain::signing::{JwsAlgorithm, SigningKeyMaterial, WorkspaceSigningKey};
    use crate::storage::PrivateKeySlot;
    for (store, _dir) in stores().await {
        let (obuk, other) = (workspace("obuk", Profile::OpenbankingUk), workspace("other", Profile::Generic));
        ok(store.insert_workspace(&obuk).await);
        ok(store.insert_workspace(&other).await);
        for (ws, kid, second) in [(&obuk, "old", 1), (&obuk, "new", 2), (&other, "theirs", 3)] {
            let material = SigningKeyMaterial {
                kid: kid.to_owned(),
                algorithm: JwsAlgorithm::Ps256,
                sealed_private_key: Some(format!("sealed {kid}")),
                public_jwk: json!({"kid": kid}),
            };
            ok(store
                .insert_signing_key(&WorkspaceSigningKey { workspace: ws.reference(), material, created_at: at(second) })
                .await);
        }
        let every = |keys: &[WorkspaceSigningKey]| {
            keys.iter()
                .map(|key| {
                    (key.workspace.workspace.to_string(), key.material.kid.clone(), key.material.sealed_private_key.clone())
                })
                .collect::<Vec<_>>()
        };
        let sealed = |kid: &str| Some(format!("sealed {kid}"));
        let (obuk_name, other_name) = (obuk.id.to_string(), other.id.to_string());
        assert_eq!(
            every(&ok(store.every_signing_key().await)),
            [
                (obuk_name.clone(), "new".to_owned(), sealed("new")),
                (obuk_name.clone(), "old".to_owned(), sealed("old")),
                (other_name.clone(), "theirs".to_owned(), sealed("theirs"))
            ],
            "each workspace's keys together, newest first"
        );

        assert!(!ok(store.erase_private_key(&other.reference(), "old", at(9)).await), "not that workspace's key");
        assert!(ok(store.erase_private_key(&obuk.reference(), "old", at(9)).await));
        assert!(!ok(store.erase_private_key(&obuk.reference(), "old", at(10)).await), "once");
        let listed = every(&ok(store.signing_keys(&obuk.reference()).await));
        assert_eq!(
            listed,
            [(obuk_name.clone(), "new".to_owned(), sealed("new")), (obuk_name, "old".to_owned(), None)],
            "still listed, without it"
        );
        let slots: Vec<_> = ok(store.stored_private_keys().await)
            .into_iter()
            .map(|(slot, _)| match slot {
                PrivateKeySlot::WorkspaceSigningKey { kid, .. } => kid,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(slots, ["new", "theirs"], "nothing left to re-seal");
    }
}

#[tokio::test]
async fn access_tokens_are_found_by_jti_revoked_once_and_end_with_their_client() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 0);
        // A manual client: the store's registration of a dynamic one counts it (migration 10).
        ok(store.register_client(client(&at_ws, "c1", false, 1), None, None, 0, &created).await);
        let token = token_record(&at_ws, "t1", "c1");
        ok(store.insert_access_token(&token, "hash-1", None).await);
        assert_eq!(ok(store.access_token("t1").await), Some((token.clone(), hashed("hash-1"))), "found by jti, with its hash");
        let listed = ok(store.clients(&at_ws, &only(ClientFilter::All)).await);
        assert_eq!(listed[0].last_token_at, Some(at(2)), "the list shows when a client last got a token");
        assert_eq!(ok(store.access_token("t2").await), None);
        assert!(ok(store.revoke_access_token("t1", at(3)).await));
        assert!(!ok(store.revoke_access_token("t1", at(4)).await), "revoking twice changes nothing");
        assert!(ok(store.access_token("t1").await).is_some_and(|(t, _)| t.revoked));

        let (details, credentials) = ok(store.client_with_credentials(&at_ws, "c1").await).unwrap_or_else(|| panic!("c1"));
        assert_eq!(credentials.registration_access_token_hash.as_deref(), Some("hash-c1"));
        assert_eq!(Some(details), ok(store.client(&at_ws, "c1").await), "the same client as read alone");
        assert_eq!(ok(store.client_with_credentials(&workspace_ref("other"), "c1").await), None);

        let with_secret = NewClient { client_secret_hash: Some("secret-c2".to_owned()), ..client(&at_ws, "c2", false, 1) };
        ok(store.register_client(with_secret.clone(), None, None, 0, &created).await);
        let updated = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 5);
        assert!(ok(store.update_client(&NewClient { client_secret_hash: None, ..with_secret }, None, &updated).await));
        let (_, credentials) = ok(store.client_with_credentials(&at_ws, "c2").await).unwrap_or_else(|| panic!("c2"));
        assert_eq!(credentials.client_secret_hash, None, "an update without a secret forgets it");
        assert_eq!(credentials.registration_access_token_hash.as_deref(), Some("hash-c2"), "and keeps the registration token");

        let mut renewed = client(&at_ws, "c1", true, 1);
        renewed.metadata = json!({"client_id": "c1", "scope": "payments", "software_statement": "d.e.f"});
        renewed.software_statement = Some("d.e.f".to_owned());
        assert!(ok(store.update_client(&renewed, Some(&guard(&at_ws, "j9", 100)), &updated).await));
        assert_eq!(
            ok(store.client(&at_ws, "c1").await).map(|c| (c.metadata, c.software_statement, c.updated_at)),
            Some((renewed.metadata.clone(), Some("d.e.f".to_owned()), at(5)))
        );
        assert!(matches!(
            store.update_client(&renewed, Some(&guard(&at_ws, "j9", 100)), &updated).await,
            Err(StoreError::Replayed)
        ));
        assert!(!ok(store.update_client(&client(&at_ws, "ghost", true, 1), None, &updated).await));

        ok(store.insert_access_token(&AccessTokenRecord { jti: "t2".to_owned(), ..token.clone() }, "hash-2", None).await);
        // A token issued for a client assertion whose jti was used before is not kept.
        let assertion = guard(&at_ws, "assertion-t3", 100);
        ok(store
            .insert_access_token(&AccessTokenRecord { jti: "t3".to_owned(), ..token.clone() }, "hash-3", Some(&assertion))
            .await);
        let again =
            store.insert_access_token(&AccessTokenRecord { jti: "t4".to_owned(), ..token }, "hash-4", Some(&assertion)).await;
        assert!(matches!(again, Err(StoreError::Replayed)), "{again:?}");
        assert_eq!(ok(store.access_token("t4").await), None);
        assert!(ok(store.delete_client(&at_ws, "c1", &updated).await));
        assert_eq!(ok(store.access_token("t2").await), None, "deleting the client ends its tokens");
    }
}

#[tokio::test]
async fn administrators_and_sessions_are_kept() {
    use crate::domain::account::AdminUser;
    for (store, _dir) in stores().await {
        let user = AdminUser {
            id: "u1".to_owned(),
            email: "admin@bank.example".to_owned(),
            password_hash: "$argon2id$...".to_owned(),
            created_at: at(0),
        };
        assert_eq!(ok(store.admin_user_count().await), 0);
        ok(store.insert_admin_user(&user).await);
        assert_eq!(ok(store.admin_user_count().await), 1);
        assert!(matches!(
            store.insert_admin_user(&AdminUser { id: "u2".to_owned(), ..user.clone() }).await,
            Err(StoreError::Conflict)
        ));
        assert_eq!(ok(store.admin_user_by_email("admin@bank.example").await).as_ref(), Some(&user));
        assert_eq!(ok(store.admin_user_by_id("u1").await).as_ref(), Some(&user));
        // A new password replaces only the one named, when one is.
        assert!(matches!(store.set_admin_password("admin@bank.example", "h2", Some("another")).await, Err(StoreError::NotFound)));
        ok(store.set_admin_password("admin@bank.example", "h2", Some(&user.password_hash)).await);
        ok(store.set_admin_password("admin@bank.example", &user.password_hash, None).await);
        assert!(matches!(store.set_admin_password("nobody@bank.example", "h2", None).await, Err(StoreError::NotFound)));
        assert_eq!(ok(store.admin_user_by_id("u1").await).as_ref(), Some(&user));
        let other = AdminUser { id: "u0".to_owned(), email: "a-first@bank.example".to_owned(), ..user.clone() };
        ok(store.insert_admin_user(&other).await);
        ok(store.note_admin_sign_in("u1", at(40)).await);
        let accounts: Vec<_> =
            ok(store.admin_accounts().await).into_iter().map(|account| (account.user, account.last_signed_in_at)).collect();
        assert_eq!(accounts, [(other, None), (user.clone(), Some(at(40)))], "by address, with the last sign-in");

        // Sign-in attempts are counted by address, an administrator's or not.
        for email in ["admin@bank.example", "nobody@bank.example"] {
            assert_eq!(ok(store.count_sign_in_attempt(email, 100).await), Some(1));
            assert_eq!(ok(store.count_sign_in_attempt(email, 100).await), Some(2));
            assert_eq!(ok(store.sign_in_locked_until(email, 100).await), None);
            ok(store.lock_sign_in(email, 500).await);
            assert_eq!(ok(store.sign_in_locked_until(email, 499).await), Some(500));
            assert_eq!(ok(store.count_sign_in_attempt(email, 499).await), None, "locked: not counted");
            assert_eq!(ok(store.sign_in_locked_until(email, 500).await), None, "the lock has run out");
            assert_eq!(ok(store.count_sign_in_attempt(email, 500).await), Some(1), "counted afresh");
        }
        ok(store.clear_sign_in_attempts("admin@bank.example").await);
        assert_eq!(ok(store.count_sign_in_attempt("admin@bank.example", 600).await), Some(1), "forgotten after a success");
        ok(store.lock_sign_in("admin@bank.example", 2000).await);
        assert_eq!(ok(store.purge_sign_in_attempts(1000, 550, 1000).await), 1, "the other's last attempt was at 500");
        assert_eq!(ok(store.purge_sign_in_attempts(1000, 700, 1000).await), 0, "a lock in force is kept");
        assert_eq!(ok(store.sign_in_locked_until("admin@bank.example", 1000).await), Some(2000));
        assert_eq!(ok(store.count_sign_in_attempt("nobody@bank.example", 1000).await), Some(1), "forgotten");

        let data = json!({"administrator": {"id": "u1"}});
        ok(store.insert_session("s1", &data, 1000).await);
        assert!(matches!(store.insert_session("s1", &data, 1000).await, Err(StoreError::Conflict)));
        assert_eq!(ok(store.load_session("s1", 999).await), Some((data.clone(), 1000)));
        assert_eq!(ok(store.load_session("s1", 1000).await), None, "expired");
        ok(store.update_session("s1", &json!({}), 2000).await);
        assert_eq!(ok(store.load_session("s1", 1500).await), Some((json!({}), 2000)));
        for (id, expires_at) in [("s2", 10), ("s3", 10), ("s4", 20)] {
            ok(store.insert_session(id, &data, expires_at).await);
        }
        assert_eq!(ok(store.purge_expired_sessions(100, 2).await), 2, "a batch of two: the earliest");
        assert_eq!(ok(store.purge_expired_sessions(100, 2).await), 1);
        ok(store.delete_session("s1").await);
        assert_eq!(ok(store.load_session("s1", 0).await), None);
        ok(store.update_session("s1", &data, 3000).await);
        assert_eq!(ok(store.load_session("s1", 0).await), None, "a session signed out stays signed out");
    }
}

#[tokio::test]
async fn trusted_devices_count_their_own_attempts_and_are_forgotten() {
    use crate::domain::account::AdminUser;
    for (store, _dir) in stores().await {
        let email = "admin@bank.example";
        for (id, address) in [("u1", email), ("u2", "other@bank.example")] {
            let user =
                AdminUser { id: id.to_owned(), email: address.to_owned(), password_hash: "h1".to_owned(), created_at: at(0) };
            ok(store.insert_admin_user(&user).await);
        }
        assert!(ok(store.trust_device("d1", email, "h1", 100).await));
        assert!(ok(store.trust_device("d2", email, "h1", 100).await));
        assert!(ok(store.trust_device("d3", "other@bank.example", "h1", 100).await));
        assert!(matches!(store.trust_device("d1", email, "h1", 100).await, Err(StoreError::Conflict)));
        assert!(!ok(store.trust_device("d4", email, "h0", 100).await), "the password checked is no longer the one");
        assert!(!ok(store.trust_device("d4", "nobody@bank.example", "h1", 100).await), "no such administrator");
        assert_eq!(ok(store.trusted_device("d4", email, 0).await), None);
        assert_eq!(ok(store.trusted_device("d1", email, 100).await), Some(None));
        assert_eq!(ok(store.trusted_device("d1", "other@bank.example", 0).await), None, "trusted for its own address only");
        assert_eq!(ok(store.trusted_device("d1", email, 101).await), None, "not signed in from since");
        assert_eq!(ok(store.trusted_device("unknown", email, 0).await), None);

        assert_eq!(ok(store.count_device_attempt("d1", 200).await), Some(1));
        assert_eq!(ok(store.count_device_attempt("d1", 200).await), Some(2));
        ok(store.lock_device("d1", 500).await);
        assert_eq!(ok(store.trusted_device("d1", email, 0).await), Some(Some(500)));
        assert_eq!(ok(store.count_device_attempt("d1", 499).await), None, "locked: not counted");
        assert_eq!(ok(store.count_device_attempt("d1", 500).await), Some(1), "counted afresh once the lock ends");
        assert_eq!(ok(store.count_device_attempt("d2", 200).await), Some(1), "each device its own count");
        ok(store.clear_device_attempts("d1", 600).await);
        assert_eq!(ok(store.trusted_device("d1", email, 600).await), Some(None), "trust renewed, lock gone");
        assert_eq!(ok(store.count_device_attempt("d1", 600).await), Some(1));

        ok(store.lock_device("d2", 5000).await);
        assert_eq!(ok(store.purge_unused_devices(1000, 550, 10).await), 1, "d3; d1 was used at 600, d2 is locked");
        assert_eq!(ok(store.trusted_device("d3", "other@bank.example", 0).await), None);
        ok(store.forget_devices(email).await);
        assert_eq!(ok(store.trusted_device("d1", email, 0).await), None);
        assert_eq!(ok(store.trusted_device("d2", email, 0).await), None);
    }
}

#[tokio::test]
async fn console_sign_ins_are_listed_ended_and_forgotten_per_administrator() {
    use crate::domain::account::AdminUser;
    use crate::domain::console_session::ConsoleSignIn;
    for (store, _dir) in stores().await {
        for (id, email) in [("u1", "admin@bank.example"), ("u2", "other@bank.example")] {
            let user =
                AdminUser { id: id.to_owned(), email: email.to_owned(), password_hash: "h1".to_owned(), created_at: at(0) };
            ok(store.insert_admin_user(&user).await);
        }
        let sign_in = |id: &str, administrator: &str, at: i64| ConsoleSignIn {
            id: id.to_owned(),
            administrator_id: administrator.to_owned(),
            password_mark: "m1".to_owned(),
            signed_in_at: at,
            last_seen_at: at,
            address: Some("192.0.2.7".to_owned()),
            user_agent: "Firefox/133.0".to_owned(),
        };
        for (id, administrator, at) in [("s1", "u1", 100), ("s2", "u1", 200), ("s3", "u1", 300), ("s4", "u2", 300)] {
            ok(store.insert_console_sign_in(&sign_in(id, administrator, at)).await);
        }
        assert!(matches!(store.insert_console_sign_in(&sign_in("s1", "u2", 400)).await, Err(StoreError::Conflict)));
        assert!(store.insert_console_sign_in(&sign_in("s5", "nobody", 400)).await.is_err(), "only of an administrator");

        let (found, user) = ok(store.console_sign_in("s2").await).unwrap_or_else(|| panic!("s2 is there"));
        assert_eq!(found, sign_in("s2", "u1", 200));
        assert_eq!(user.email, "admin@bank.example");
        assert_eq!(ok(store.console_sign_in("nothing").await), None);

        ok(store.touch_console_sign_in("s1", 400, Some("198.51.100.1")).await);
        ok(store.touch_console_sign_in("s2", 350, None).await);
        let listed = ok(store.console_sign_ins("u1", "m1", 0, 0, 10).await);
        let ids: Vec<_> = listed.iter().map(|sign_in| sign_in.id.as_str()).collect();
        assert_eq!(ids, ["s1", "s2", "s3"], "the most recently used first, the other administrator's not");
        assert_eq!((listed[0].last_seen_at, listed[0].address.as_deref()), (400, Some("198.51.100.1")));
        assert_eq!((listed[1].last_seen_at, listed[1].address.as_deref()), (350, Some("192.0.2.7")), "address kept");
        let recent = ok(store.console_sign_ins("u1", "m1", 150, 320, 10).await);
        let ids: Vec<_> = recent.iter().map(|sign_in| sign_in.id.as_str()).collect();
        assert_eq!(ids, ["s2"], "s1 was signed in before 150, s3 not used since 320");
        assert_eq!(ok(store.console_sign_ins("u1", "m1", 0, 0, 2).await).len(), 2, "at most the limit");
        assert!(ok(store.console_sign_ins("u1", "m0", 0, 0, 10).await).is_empty(), "made with another password");

        assert!(!ok(store.end_console_sign_in("u2", "s1").await), "only one's own");
        assert!(ok(store.end_console_sign_in("u1", "s1").await));
        assert!(!ok(store.end_console_sign_in("u1", "s1").await), "once");
        assert_eq!(ok(store.console_sign_in("s1").await), None);
        ok(store.insert_console_sign_in(&sign_in("s6", "u1", 500)).await);
        assert_eq!(ok(store.end_console_sign_ins("u1", Some("s6")).await), 2, "s2 and s3");
        assert_eq!(ok(store.console_sign_ins("u1", "m1", 0, 0, 10).await), [sign_in("s6", "u1", 500)]);
        assert_eq!(ok(store.end_console_sign_ins("u2", None).await), 1);
        assert!(ok(store.console_sign_ins("u2", "m1", 0, 0, 10).await).is_empty());

        for (id, at) in [("s7", 100), ("s8", 600)] {
            ok(store.insert_console_sign_in(&sign_in(id, "u2", at)).await);
        }
        ok(store.touch_console_sign_in("s7", 900, None).await);
        assert_eq!(ok(store.purge_console_sign_ins(150, 550, 10).await), 2, "s7 signed in too long ago, s6 unused since");
        let left = ok(store.console_sign_ins("u2", "m1", 0, 0, 10).await);
        assert_eq!(left.iter().map(|sign_in| sign_in.id.as_str()).collect::<Vec<_>>(), ["s8"]);
    }
}

#[tokio::test]
async fn the_admin_api_key_is_replaced_not_added() {
    for (store, _dir) in stores().await {
        assert!(ok(store.admin_api_key_hashes().await).is_empty());
        ok(store.replace_admin_api_key("h1", at(0)).await);
        ok(store.replace_admin_api_key("h2", at(1)).await);
        assert_eq!(ok(store.admin_api_key_hashes().await), vec!["h2".to_owned()]);
        ok(store.ping().await);
    }
}

#[tokio::test]
async fn policies_are_kept_per_workspace() {
    use crate::domain::policy::{PolicyBody, PolicyDraft};
    for (store, _dir) in stores().await {
        let obuk = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&obuk).await);
        let at_obuk = obuk.reference();
        let id = PolicyId::parse("roles").unwrap_or_else(|e| panic!("{e}"));
        let rules = serde_json::from_value(json!([{
            "field": "software_statement.software_roles", "comparator": "in", "value": ["AISP"],
            "error_code": "unapproved_software_statement", "error_description": "AISP only"
        }]))
        .unwrap_or_else(|e| panic!("{e}"));
        let policy = Policy {
            id: id.clone(),
            name: "Roles".to_owned(),
            body: PolicyBody::Validators(rules),
            created_at: at(1),
            updated_at: at(1),
        };
        ok(store.insert_policy(&at_obuk, &policy).await);
        assert!(matches!(store.insert_policy(&at_obuk, &policy).await, Err(StoreError::Conflict)));
        assert!(matches!(store.insert_policy(&workspace_ref("missing"), &policy).await, Err(StoreError::NotFound)));
        assert_eq!(ok(store.policy(&at_obuk, &id).await).as_ref(), Some(&policy));
        assert_eq!(ok(store.policies(&workspace_ref("missing")).await), vec![]);

        let draft = PolicyDraft { name: "Rego roles".to_owned(), body: PolicyBody::Rego("package onboard".to_owned()) };
        assert!(ok(store.update_policy(&at_obuk, &id, &draft, at(2)).await));
        let updated = ok(store.policy(&at_obuk, &id).await).unwrap_or_else(|| panic!("policy vanished"));
        assert_eq!(
            (updated.name.as_str(), &updated.body, updated.created_at, updated.updated_at),
            ("Rego roles", &draft.body, at(1), at(2))
        );
        let other = PolicyId::parse("other").unwrap_or_else(|e| panic!("{e}"));
        assert!(!ok(store.update_policy(&at_obuk, &other, &draft, at(2)).await));

        ok(store.insert_policy(&at_obuk, &Policy { id: other.clone(), name: "A first".to_owned(), ..policy.clone() }).await);
        let names: Vec<String> = ok(store.policies(&at_obuk).await).into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["A first", "Rego roles"]);

        // Settings can name only a policy the workspace has, and a named policy stays.
        let mut dcr = obuk.dcr.clone();
        dcr.policy_id = Some(PolicyId::parse("nowhere").unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(ok(save_dcr(&store, &at_obuk, &dcr, at(3)).await), DcrSettingsWrite::NoPolicy);
        assert_eq!(ok(store.workspace(&at_obuk).await).map(|w| w.dcr.clone()), Some(obuk.dcr.clone()), "nothing written");
        dcr.policy_id = Some(id.clone());
        assert_eq!(ok(save_dcr(&store, &at_obuk, &dcr, at(3)).await), DcrSettingsWrite::Saved);
        assert_eq!(ok(store.delete_policy(&at_obuk, &id).await), PolicyDeletion::Attached);
        assert_eq!(ok(store.delete_policy(&at_obuk, &other).await), PolicyDeletion::Deleted);
        dcr.policy_id = None;
        assert_eq!(ok(save_dcr(&store, &at_obuk, &dcr, at(4)).await), DcrSettingsWrite::Saved);
        assert_eq!(ok(store.delete_policy(&at_obuk, &id).await), PolicyDeletion::Deleted);
        assert_eq!(ok(store.delete_policy(&at_obuk, &id).await), PolicyDeletion::NotFound);
        assert_eq!(ok(store.policy(&at_obuk, &id).await), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attaching_and_deleting_a_policy_at_once_cannot_both_win() {
    use crate::domain::policy::PolicyBody;
    for (store, _dir) in stores().await {
        let obuk = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&obuk).await);
        let at_obuk = obuk.reference();
        for round in 0..20 {
            let id = PolicyId::parse(format!("race-{round}")).unwrap_or_else(|e| panic!("{e}"));
            let policy = Policy {
                id: id.clone(),
                name: "Race".to_owned(),
                body: PolicyBody::Rego("package onboard".to_owned()),
                created_at: at(1),
                updated_at: at(1),
            };
            ok(store.insert_policy(&at_obuk, &policy).await);
            let mut dcr = obuk.dcr.clone();
            dcr.policy_id = Some(id.clone());
            let (attach, delete) = {
                let (store_a, store_d, at_a, at_d, id_d) =
                    (store.clone(), store.clone(), at_obuk.clone(), at_obuk.clone(), id.clone());
                tokio::join!(
                    tokio::spawn(async move { save_dcr(&store_a, &at_a, &dcr, at(2)).await }),
                    tokio::spawn(async move { store_d.delete_policy(&at_d, &id_d).await })
                )
            };
            let attach = ok(attach.unwrap_or_else(|e| panic!("{e}")));
            let delete = ok(delete.unwrap_or_else(|e| panic!("{e}")));
            let outcome = (attach, delete);
            assert!(
                outcome == (DcrSettingsWrite::Saved, PolicyDeletion::Attached)
                    || outcome == (DcrSettingsWrite::NoPolicy, PolicyDeletion::Deleted),
                "{}: round {round}: {outcome:?}",
                store.backend().as_str()
            );
            let named = ok(store.workspace(&at_obuk).await).and_then(|w| w.dcr.policy_id.clone());
            if let Some(named) = named {
                assert!(ok(store.policy(&at_obuk, &named).await).is_some(), "settings name a deleted policy");
            }
            let mut detached = obuk.dcr.clone();
            detached.policy_id = None;
            ok(save_dcr(&store, &at_obuk, &detached, at(3)).await);
        }
    }
}

#[tokio::test]
async fn a_tenant_has_one_sandbox_directory_and_its_software() {
    use crate::domain::sandbox::{SandboxDirectoryKeys, SandboxSoftware, SoftwareDetails};
    for (store, _dir) in stores().await {
        assert_eq!(ok(store.sandbox_directory(&tenant()).await), None);
        let keys = |tag: &str| SandboxDirectoryKeys {
            signing_key_pem: format!("signing {tag}"),
            ca_cert_pem: format!("ca {tag}"),
            ca_key_pem: format!("ca key {tag}"),
            created_at: at(1),
        };
        assert_eq!(ok(store.ensure_sandbox_directory(&tenant(), &keys("first")).await), keys("first"));
        assert_eq!(ok(store.ensure_sandbox_directory(&tenant(), &keys("second")).await), keys("first"), "the first one stays");
        assert_eq!(ok(store.sandbox_directory(&tenant()).await), Some(keys("first")));

        let software = |name: &str| SandboxSoftware {
            details: SoftwareDetails {
                software_id: "BudgetPlanner".to_owned(),
                org_id: "org-1".to_owned(),
                org_name: Some("Org One Ltd".to_owned()),
                client_name: name.to_owned(),
                roles: vec!["AISP".to_owned()],
                redirect_uris: vec!["https://tpp.example/cb".to_owned()],
            },
            jwks: json!({"keys": []}),
            created_at: at(2),
        };
        ok(store.put_sandbox_software(&tenant(), &software("First"), Some("{\"bundle\": 1}")).await);
        assert_eq!(ok(store.sandbox_held_bundle(&tenant(), "BudgetPlanner").await).as_deref(), Some("{\"bundle\": 1}"));
        // Enrolling again (as `onboard tpp init` does) replaces it, and the held bundle goes.
        ok(store.put_sandbox_software(&tenant(), &software("Second"), None).await);
        assert_eq!(ok(store.sandbox_software(&tenant(), "BudgetPlanner").await), Some(software("Second")));
        assert_eq!(ok(store.sandbox_held_bundle(&tenant(), "BudgetPlanner").await), None);
        assert_eq!(ok(store.sandbox_software(&tenant(), "other").await), None);

        let mut newer = software("Newer");
        newer.details.software_id = "Newer".to_owned();
        newer.created_at = at(3);
        ok(store.put_sandbox_software(&tenant(), &newer, Some("{}")).await);
        let listed: Vec<(String, bool)> =
            ok(store.sandbox_software_list(&tenant()).await).into_iter().map(|s| (s.details.software_id, s.held)).collect();
        assert_eq!(listed, [("Newer".to_owned(), true), ("BudgetPlanner".to_owned(), false)]);

        assert!(ok(store.delete_sandbox_software(&tenant(), "Newer").await));
        assert!(!ok(store.delete_sandbox_software(&tenant(), "Newer").await));
        assert_eq!(ok(store.sandbox_software_list(&tenant()).await).len(), 1);
    }
}

#[tokio::test]
async fn every_stored_private_key_is_listed_by_its_slot_and_replaced_in_place() {
    use crate::domain::sandbox::{SandboxDirectoryKeys, SandboxSoftware, SoftwareDetails};
    use crate::domain::signing::{JwsAlgorithm, SigningKeyMaterial, WorkspaceSigningKey};
    use crate::storage::PrivateKeySlot;
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let material = SigningKeyMaterial {
            kid: "kid-1".to_owned(),
            algorithm: JwsAlgorithm::Ps256,
            sealed_private_key: Some("workspace key".to_owned()),
            public_jwk: json!({"kid": "kid-1", "kty": "RSA"}),
        };
        ok(store.insert_signing_key(&WorkspaceSigningKey { workspace: ws.reference(), material, created_at: at(1) }).await);
        let keys = SandboxDirectoryKeys {
            signing_key_pem: "directory signing key".to_owned(),
            ca_cert_pem: "ca certificate".to_owned(),
            ca_key_pem: "ca key".to_owned(),
            created_at: at(1),
        };
        ok(store.ensure_sandbox_directory(&tenant(), &keys).await);
        let software = |id: &str| SandboxSoftware {
            details: SoftwareDetails {
                software_id: id.to_owned(),
                org_id: "org-1".to_owned(),
                org_name: None,
                client_name: id.to_owned(),
                roles: vec!["AISP".to_owned()],
                redirect_uris: vec!["https://tpp.example/cb".to_owned()],
            },
            jwks: json!({"keys": []}),
            created_at: at(2),
        };
        ok(store.put_sandbox_software(&tenant(), &software("Held"), Some("held bundle")).await);
        ok(store.put_sandbox_software(&tenant(), &software("Elsewhere"), None).await);

        let slots = [
            (PrivateKeySlot::WorkspaceSigningKey { at: ws.reference(), kid: "kid-1".to_owned() }, "workspace key"),
            (PrivateKeySlot::SandboxDirectorySigningKey { tenant: tenant() }, "directory signing key"),
            (PrivateKeySlot::SandboxDirectoryCaKey { tenant: tenant() }, "ca key"),
            (PrivateKeySlot::SandboxHeldBundle { tenant: tenant(), software_id: "Held".to_owned() }, "held bundle"),
        ];
        let expected: Vec<_> = slots.iter().map(|(slot, value)| (slot.clone(), (*value).to_owned())).collect();
        assert_eq!(ok(store.stored_private_keys().await), expected, "software without a held bundle has no slot");
        for (slot, value) in &slots {
            ok(store.replace_private_key(slot, &format!("sealed {value}")).await);
        }
        let replaced: Vec<_> = slots.iter().map(|(slot, value)| (slot.clone(), format!("sealed {value}"))).collect();
        assert_eq!(ok(store.stored_private_keys().await), replaced);
        assert_eq!(
            ok(store.signing_keys(&ws.reference()).await)[0].material.sealed_private_key.as_deref(),
            Some("sealed workspace key")
        );
        let directory = ok(store.sandbox_directory(&tenant()).await).unwrap_or_else(|| panic!("the directory"));
        assert_eq!(
            (directory.signing_key_pem.as_str(), directory.ca_cert_pem.as_str()),
            ("sealed directory signing key", "ca certificate")
        );
        assert_eq!(ok(store.sandbox_held_bundle(&tenant(), "Held").await).as_deref(), Some("sealed held bundle"));
    }
}
