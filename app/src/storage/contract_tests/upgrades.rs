//! Upgrades: each migration keeps what was stored before it, and PostgreSQL's plans for the hot
//! lookups.

use super::*;

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
        ok(store.insert_access_token(&token, "token-hash-1", None, &issued(&token)).await);
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

/// Migration 22 gives each trusted software statement issuer the key set that verified them
/// all: what was trusted stays trusted, in order, and keys with no issuer (which verified
/// nothing) are dropped.
#[tokio::test]
async fn each_trusted_issuer_keeps_the_keys_it_was_verified_with() {
    use crate::domain::dcr::{JwksUri, KeySource};
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut urls = vec![format!("sqlite://{}/older.db", dir.path().display())];
    urls.extend(fresh_postgres_url().await);
    let older = |issuers: &str, keys: &str| {
        format!(
            r#"{{"enabled": true, "require_software_statement": true, "software_statement_keys": {keys},
                "trusted_ssa_issuers": {issuers}, "require_signed_request": true,
                "request_signing_keys": "software_statement", "require_mtls": true}}"#
        )
    };
    let shared = r#"{"jwks_uri": "https://keystore.directory.example/jwks"}"#;
    for url in urls {
        migrate_until(&url, 21).await;
        let store = connect(&url).await.unwrap_or_else(|e| panic!("{e}"));
        ok(store.ensure_tenant(&tenant(), "Default", at(0)).await);
        let cases = [
            ("two", older(r#"["OpenBanking Ltd", "Another Directory"]"#, shared)),
            ("no-keys", older(r#"["OpenBanking Ltd"]"#, "null")),
            ("no-issuers", older("[]", shared)),
        ];
        for (id, dcr) in &cases {
            ok(store.insert_workspace(&workspace(id, Profile::OpenbankingUk)).await);
            execute(&url, &format!("update workspace set dcr_settings = '{dcr}' where id = '{id}'")).await;
        }

        ok(store.migrate().await);
        let read = async |id: &str| {
            let found = ok(store.workspace(&workspace_ref(id)).await).unwrap_or_else(|| panic!("{url}: {id}"));
            found.dcr.software_statement_issuers.iter().map(|i| (i.issuer.clone(), i.keys.clone())).collect::<Vec<_>>()
        };
        let uri = JwksUri::parse("https://keystore.directory.example/jwks").unwrap_or_else(|e| panic!("{e}"));
        let keys = Some(KeySource::JwksUri(uri));
        assert_eq!(
            read("two").await,
            [("OpenBanking Ltd".to_owned(), keys.clone()), ("Another Directory".to_owned(), keys)],
            "{url}"
        );
        assert_eq!(read("no-keys").await, [("OpenBanking Ltd".to_owned(), None)], "{url}");
        assert_eq!(read("no-issuers").await, [], "{url}");
        let kept = ok(store.workspace(&workspace_ref("two")).await).unwrap_or_else(|| panic!("{url}"));
        assert!(kept.dcr.enabled && kept.dcr.require_mtls, "{url}: the other settings are kept");
    }
}

/// Migration 24 writes `may_introspect: true` into every manual client made before the choice
/// existed (as then each could introspect any token), and leaves alone the manual clients that
/// say, and dynamically registered ones.
#[tokio::test]
async fn manual_clients_made_before_the_choice_keep_their_introspection_in_writing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut urls = vec![format!("sqlite://{}/older.db", dir.path().display())];
    urls.extend(fresh_postgres_url().await);
    for url in urls {
        migrate_until(&url, 23).await;
        let store = connect(&url).await.unwrap_or_else(|e| panic!("{e}"));
        let at_ws = workspace_ref("obuk");
        ok(store.ensure_tenant(&tenant(), "Default", at(0)).await);
        ok(store.insert_workspace(&workspace("obuk", Profile::OpenbankingUk)).await);
        let created = audit(&at_ws, AuditEventType::ClientCreated, Outcome::Success, 1);
        let said = |id: &str, may: bool| {
            let mut new = client(&at_ws, id, false, 1);
            new.metadata["may_introspect"] = may.into();
            new
        };
        for new in [client(&at_ws, "legacy", false, 1), said("said-no", false), said("said-yes", true)] {
            ok(store.register_client(new, None, None, 0, &created).await);
        }
        ok(store.register_client(client(&at_ws, "tpp", true, 1), None, None, 0, &created).await);

        ok(store.migrate().await);
        let may = async |id: &str| {
            let found = ok(store.client(&at_ws, id).await).unwrap_or_else(|| panic!("{url}: {id}"));
            assert_eq!(found.metadata["scope"], "accounts", "{url}: {id} keeps the rest");
            found.metadata.get("may_introspect").cloned()
        };
        assert_eq!(may("legacy").await, Some(true.into()), "{url}");
        assert_eq!(may("said-no").await, Some(false.into()), "{url}");
        assert_eq!(may("said-yes").await, Some(true.into()), "{url}");
        assert_eq!(may("tpp").await, None, "{url}: a TPP's registration is not touched");
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
