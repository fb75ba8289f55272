//! The SQL behind [`Store`], written once and instantiated for SQLite and PostgreSQL. Both
//! backends take the same statements (`$n` placeholders, `on conflict`, standard types); only
//! the pool type, the migration directory and the way several statements are sent as one
//! ([`one_round_trip`]) differ, so a macro stamps out the two impls. The store's state, its
//! group-commit writer and the hot writes' statements are here; each part of [`Store`] is
//! implemented, with the readers of its rows, in a file of its own by a macro `sql_store!`
//! invokes for both.

mod administrators;
mod clients;
mod console;
mod events;
mod policies;
mod sandbox;
mod workspaces;

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use serde_json::value::RawValue;
use sqlx::Row as _;
use sqlx::types::Json;

use super::group_commit::{Pending, Queue, Write, next_batch};
use super::held_connections::HeldConnections;
use super::one_round_trip;
use super::read_cache::ReadCache;
use super::stored_metadata;
use super::{
    AdministratorStore, Backend, ClientStore, ConsoleStore, DcrSettingsWrite, EventStore, NewClient, PolicyDeletion, PolicyStore,
    PrivateKeySlot, ReplayGuard, SandboxStore, Store, StoreError, WorkspaceStore,
};
use crate::domain::account::{AdminAccount, AdminUser, StoredTwoStep};
use crate::domain::activity::{AdministratorEvent, AdministratorEventFilter, NewAdministratorEvent};
use crate::domain::audit::{AuditEvent, AuditFilter, NewAuditEvent};
use crate::domain::client::{ClientDetails, ClientFilter, ClientSelection, ClientSummary, PageStart};
use crate::domain::console_session::ConsoleSignIn;
use crate::domain::dcr::DcrSettings;
use crate::domain::ids::{PolicyId, TenantId, WorkspaceId, WorkspaceRef};
use crate::domain::policy::{Policy, PolicyBody, PolicyDraft};
use crate::domain::sandbox::{SandboxDirectoryKeys, SandboxSoftware, SandboxSoftwareSummary};
use crate::domain::signing::{JwsAlgorithm, SigningKeyMaterial, WorkspaceSigningKey};
use crate::domain::token::{AccessTokenRecord, StoredCredentials};
use crate::domain::workspace::{Profile, Workspace, WorkspaceSettings, WorkspaceSummary};
use crate::secrets::SecretHash;
use administrators::administrator_store;
use clients::client_store;
use console::{console_sign_in_columns, console_store};
use events::event_store;
use policies::policy_store;
use sandbox::sandbox_store;
use workspaces::workspace_store;

/// Maps constraint violations to the errors callers act on.
fn classify(error: sqlx::Error, on_unique: StoreError) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => on_unique,
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound,
        _ => StoreError::Database(error),
    }
}

/// Maps the failure of a hot write, which may be several statements: a `jti` recorded already
/// is a replay, any other duplicate a conflict, and a client past the workspace's cap breaks
/// [`WITHIN_CAP`].
fn classify_write(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &error
        && db.kind() == sqlx::error::ErrorKind::CheckViolation
        && violated_constraint(db.as_ref()) == Some(WITHIN_CAP)
    {
        return StoreError::CapReached;
    }
    let replayed = matches!(&error, sqlx::Error::Database(db) if violated_table(db.as_ref()) == Some("replay_guard"));
    classify(error, if replayed { StoreError::Replayed } else { StoreError::Conflict })
}

/// The named constraint `error` broke. PostgreSQL says so; SQLite names it in its message
/// (`CHECK constraint failed: dynamic_clients_within_cap`).
fn violated_constraint(error: &dyn sqlx::error::DatabaseError) -> Option<&str> {
    error.constraint().or_else(|| error.message().split_once("constraint failed: ").map(|(_, name)| name))
}

/// The table whose constraint `error` broke. PostgreSQL says so; SQLite names it in its
/// message (`UNIQUE constraint failed: replay_guard.tenant_id, ...`).
fn violated_table(error: &dyn sqlx::error::DatabaseError) -> Option<&str> {
    error.table().or_else(|| {
        let (_, columns) = error.message().split_once("constraint failed: ")?;
        columns.split_once('.').map(|(table, _)| table)
    })
}

/// A query with some of its binds.
type Bound<'q, DB> = sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>;

/// Connections held for the protocol endpoints' hot reads: a SQLite read is a few microseconds
/// of a core's time, so a few serve them; PostgreSQL's reads also wait on the network.
fn hot_readers(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 4,
        Backend::Postgres => 8,
    }
}

/// What runs around the migrations. SQLite changes a column's constraints only by rebuilding
/// its table, which is done with foreign keys off, lest dropping the old table cascade to the
/// rows that reference it; that is why migrations get a connection of their own, and why every
/// reference is checked once they are done. PostgreSQL alters constraints in place and never
/// turns the checks off.
struct MigrationChecks {
    before: Option<&'static str>,
    /// Lists the rows whose reference points at nothing.
    dangling_references: Option<&'static str>,
}

impl MigrationChecks {
    fn of(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                Self { before: Some("pragma foreign_keys = off"), dangling_references: Some("pragma foreign_key_check") }
            }
            Backend::Postgres => Self { before: None, dangling_references: None },
        }
    }
}

/// `last_token_at`: when client `c` last got a token, the later of its newest stored token
/// (found through `access_token_by_client`) and the newest of its tokens purged once expired
/// (kept on its row, migration 13).
macro_rules! last_token_at_of_c {
    () => {
        "(select max(issued) from (select max(a.issued_at) as issued from access_token a where a.client_id = c.client_id \
         union all select c.purged_token_at) as known) as last_token_at"
    };
}

/// A client with its secret hashes, found by its unique key and then checked against the
/// workspace (`$1`, `$2`). Asked for all three at once, PostgreSQL without fresh statistics (a
/// table that grew since autovacuum last analyzed it) walks the workspace's index and filters
/// every client in it: 5 ms a lookup at 14k clients, measured after a burst of registrations.
pub(super) const SELECT_CLIENT_WITH_CREDENTIALS: &str = concat!(
    "with c as materialized (select * from client where client_id = $3) \
     select c.client_id, c.name, c.dynamically_registered, c.software_id, c.org_id, c.org_name, \
     c.token_endpoint_auth_method, c.metadata, c.software_statement, c.created_at, c.updated_at, \
     c.client_secret_hash, c.registration_access_token_hash, c.registration_access_token_subject, ",
    last_token_at_of_c!(),
    " from c where c.tenant_id = $1 and c.workspace_id = $2"
);

/// The newest issue time among each client's tokens in a batch to purge.
fn newest_issue_per_client(batch: &[(String, String, DateTime<Utc>, i64)]) -> BTreeMap<&str, DateTime<Utc>> {
    let mut newest = BTreeMap::new();
    for (_, client_id, issued_at, _) in batch {
        newest.entry(client_id.as_str()).and_modify(|at: &mut DateTime<Utc>| *at = (*at).max(*issued_at)).or_insert(*issued_at);
    }
    newest
}

/// Whether a key a caller named (a client id from a path or a form) could be stored at all: one
/// holding U+0000 cannot (PostgreSQL refuses it), so it names nothing, on either backend,
/// rather than failing the query.
fn storable(key: &str) -> bool {
    !key.contains('\0')
}

/// Deletes a client of the workspace, found by its key first as in
/// [`SELECT_CLIENT_WITH_CREDENTIALS`] (so does the update in `update_client`).
/// `$4`, when set: only a client registered by then with no token issued since (abandoned),
/// stored or purged, checked by the statement that deletes it.
pub(super) const DELETE_CLIENT: &str = "delete from client where client_id = (with c as materialized \
     (select client_id, tenant_id, workspace_id from client where client_id = $3) \
     select client_id from c where tenant_id = $1 and workspace_id = $2) \
     and ($4 is null or (created_at <= $4 and (purged_token_at is null or purged_token_at <= $4) and not exists \
     (select 1 from access_token a where a.client_id = client.client_id and a.issued_at > $4))) \
     returning dynamically_registered";

/// Signing keys, the private half only while the key holds it (an erased key's column is
/// empty, and `retired_at` says when it was erased).
const SELECT_SIGNING_KEYS: &str = "select tenant_id, workspace_id, kid, algorithm, \
     case when retired_at is null then private_key_pem end as private_key_pem, public_jwk, created_at, \
     coalesce(signs_from, created_at) as signs_from from signing_key";

/// The rows the hot paths write, one statement each; [`CombinedWrites`] sends several at once.
const INSERT_REPLAY_GUARD: &str =
    "insert into replay_guard (tenant_id, workspace_id, issuer, jti, expires_at) values ($1, $2, $3, $4, $5)";
const INSERT_CLIENT: &str = "insert into client (client_id, tenant_id, workspace_id, name, dynamically_registered, software_id, \
     org_id, org_name, token_endpoint_auth_method, metadata, software_statement, client_secret_hash, \
     registration_access_token_hash, registration_access_token_subject, created_at, updated_at) \
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)";
const INSERT_ACCESS_TOKEN: &str = "insert into access_token (jti, token_hash, tenant_id, workspace_id, client_id, scope, \
     certificate_thumbprint, issued_at, expires_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
/// Counts a dynamically registered client in its workspace's `dynamic_client_count` row
/// (migration 10), checked against the cap in force (`$3`, 0 for none): past it, the row breaks
/// [`WITHIN_CAP`].
const COUNT_DYNAMIC_CLIENT: &str = "insert into dynamic_client_count (tenant_id, workspace_id, clients, checked_cap) \
     values ($1, $2, 1, $3) on conflict (tenant_id, workspace_id) \
     do update set clients = dynamic_client_count.clients + 1, checked_cap = excluded.checked_cap";
/// Takes a deleted dynamically registered client out of its workspace's count.
const UNCOUNT_DYNAMIC_CLIENT: &str =
    "update dynamic_client_count set clients = clients - 1, checked_cap = 0 where tenant_id = $1 and workspace_id = $2";
/// The constraint a registration past its workspace's cap breaks.
const WITHIN_CAP: &str = "dynamic_clients_within_cap";
const INSERT_AUDIT_EVENT: &str = "insert into audit_event (tenant_id, workspace_id, event_type, outcome, client_id, error, \
     error_description, software_id, org_id, client_cert_subject, remote_addr, actor, detail, created_at) \
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
/// An event that names no actor and no detail ([`NewAuditEvent::is_attributed`] false: a
/// protocol request's, but an issued token's), without the two columns it leaves empty: the batches of reads' events bind two values a row fewer (binding
/// costs the square of a statement's binds on SQLite, see [`AUDIT_EVENTS_PER_STATEMENT`]).
const INSERT_UNATTRIBUTED_AUDIT_EVENT: &str = "insert into audit_event (tenant_id, workspace_id, event_type, outcome, \
     client_id, error, error_description, software_id, org_id, client_cert_subject, remote_addr, created_at) \
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

/// The most audit events one statement inserts. More is slower on SQLite: sqlx finds each
/// `$n` by name (`sqlite3_bind_parameter_name` walks a list), so binding a statement costs the
/// square of its binds, and at 64 rows that was a quarter of the writer's time. 8 rows did
/// better than 16 in the GET benchmark.
const AUDIT_EVENTS_PER_STATEMENT: usize = 8;

/// The group commit writer's writes of several rows, each one query (see [`one_round_trip`]).
struct CombinedWrites {
    /// Unattributed audit events, many rows at once: the `n`th inserts `2^n` rows (see
    /// [`one_round_trip::power_of_two_sizes`]).
    audit_events: Vec<String>,
    /// A client's registration: its replay record if it has a `jti`, its count if it is
    /// dynamically registered, the client, the audit event; see [`Self::registration`].
    registrations: [[String; 2]; 2],
    /// An access token and its audit event, after the replay record of its client assertion
    /// if it has one: see [`Self::token`].
    tokens: [String; 2],
}

impl CombinedWrites {
    fn new(backend: Backend) -> Self {
        let registration = |guarded: bool, counted: bool| {
            let statements = [
                guarded.then_some(INSERT_REPLAY_GUARD),
                counted.then_some(COUNT_DYNAMIC_CLIENT),
                Some(INSERT_CLIENT),
                Some(INSERT_AUDIT_EVENT),
            ];
            one_round_trip::combine(backend, &statements.into_iter().flatten().collect::<Vec<_>>())
        };
        let audit_events = (0..=AUDIT_EVENTS_PER_STATEMENT.trailing_zeros())
            .map(|power| one_round_trip::rows(INSERT_UNATTRIBUTED_AUDIT_EVENT, 1 << power))
            .collect();
        Self {
            audit_events,
            registrations: [false, true].map(|guarded| [false, true].map(|counted| registration(guarded, counted))),
            tokens: [false, true].map(|guarded| {
                let statements = [guarded.then_some(INSERT_REPLAY_GUARD), Some(INSERT_ACCESS_TOKEN), Some(INSERT_AUDIT_EVENT)];
                one_round_trip::combine(backend, &statements.into_iter().flatten().collect::<Vec<_>>())
            }),
        }
    }

    /// The access token that records its client assertion's `jti` or not.
    fn token(&self, guarded: bool) -> &str {
        &self.tokens[usize::from(guarded)]
    }

    /// The insert of `rows` unattributed audit events, a power of two up to
    /// [`AUDIT_EVENTS_PER_STATEMENT`].
    fn audit_events(&self, rows: usize) -> &str {
        self.audit_events.get(rows.trailing_zeros() as usize).map_or(INSERT_UNATTRIBUTED_AUDIT_EVENT, String::as_str)
    }

    /// The registration that records a `jti` or not, and counts the client or not.
    fn registration(&self, guarded: bool, counted: bool) -> &str {
        &self.registrations[usize::from(guarded)][usize::from(counted)]
    }
}

fn corrupt(what: &str) -> impl FnOnce(String) -> StoreError + '_ {
    move |detail| StoreError::Corrupt(format!("{what}: {detail}"))
}

fn parse_profile(text: &str) -> Result<Profile, StoreError> {
    serde_json::from_value(Value::String(text.to_owned())).map_err(|e| corrupt("workspace.profile")(e.to_string()))
}

fn parse_tenant(text: String) -> Result<TenantId, StoreError> {
    TenantId::parse(text).map_err(|e| corrupt("tenant id")(e.to_string()))
}

fn parse_workspace_id(text: String) -> Result<WorkspaceId, StoreError> {
    WorkspaceId::parse(text).map_err(|e| corrupt("workspace id")(e.to_string()))
}

/// The clients of workspace `$1`, `$2` a [`ClientSelection`] holds: `$3` dynamically
/// registered or not (null: both); `$4`, registered by then with no token since, stored or
/// purged (null: any); `$5`, a [`containing`] pattern their id or name matches, ignoring case
/// (null: any).
macro_rules! selected_clients {
    () => {
        "from client c where c.tenant_id = $1 and c.workspace_id = $2 and ($3 is null or c.dynamically_registered = $3) \
         and ($4 is null or (c.created_at <= $4 and (c.purged_token_at is null or c.purged_token_at <= $4) \
         and not exists (select 1 from access_token a where a.client_id = c.client_id and a.issued_at > $4))) \
         and ($5 is null or lower(c.client_id) like lower($5) escape '\\' or lower(c.name) like lower($5) escape '\\')"
    };
}

/// A `like` pattern (escaping with `\`) for values containing `search`, trimmed; `None` when
/// it is blank.
fn containing(search: &str) -> Option<String> {
    let search = search.trim();
    (!search.is_empty()).then(|| format!("%{}%", search.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")))
}

fn saturating_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn filter_flag(filter: ClientFilter) -> Option<bool> {
    match filter {
        ClientFilter::All => None,
        ClientFilter::Dynamic => Some(true),
        ClientFilter::Manual => Some(false),
    }
}

macro_rules! sql_store {
    ($(#[$doc:meta])* $name:ident, $db:ty, $backend:expr, $migrations:literal) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name {
            pool: sqlx::Pool<$db>,
            /// The hot paths' reads, on connections lent without the pool's ping on return.
            readers: std::sync::Arc<HeldConnections<<$db as sqlx::Database>::Connection>>,
            /// The hot paths' writes, group-committed by one writer task.
            writes: Queue,
            /// Workspaces and their signing keys read in the last second.
            workspaces: std::sync::Arc<ReadCache<std::sync::Arc<Workspace>>>,
            signing_keys: std::sync::Arc<ReadCache<std::sync::Arc<[WorkspaceSigningKey]>>>,
        }

        impl $name {
            /// The store over `pool`, with its writer task (spawned on the current runtime).
            pub fn new(pool: sqlx::Pool<$db>) -> Self {
                let (writes, receiver) = Queue::new();
                tokio::spawn(Self::writer(HeldConnections::new(pool.connect_options(), 1), receiver));
                let readers = std::sync::Arc::new(HeldConnections::new(pool.connect_options(), hot_readers($backend)));
                Self { pool, readers, writes, workspaces: std::sync::Arc::default(), signing_keys: std::sync::Arc::default() }
            }

            /// Commits batches of writes until every queue handle is gone, on a connection of its
            /// own: its page cache stays warm from one batch to the next (SQLite empties a
            /// connection's cache when another connection has written), and no batch waits to
            /// borrow one. A batch that fails outright closes the connection; the next batch
            /// opens a fresh one.
            async fn writer(
                connection: HeldConnections<<$db as sqlx::Database>::Connection>,
                mut receiver: tokio::sync::mpsc::Receiver<Pending>,
            ) {
                use futures_util::FutureExt as _;
                while let Some(batch) = next_batch(&mut receiver).await {
                    let committed = async {
                        let mut lent = connection.lend().await?;
                        let outcome = Self::commit_batch(&mut lent, &batch).await;
                        if outcome.is_ok() {
                            lent.give_back();
                        }
                        outcome
                    };
                    // A panic fails its batch, not every write after it: the writer goes on
                    // (with a fresh connection, the lent one dropped unreturned).
                    let outcome = std::panic::AssertUnwindSafe(committed).catch_unwind().await.unwrap_or_else(|_| {
                        Err(sqlx::Error::Protocol("the database writer failed on this batch".to_owned()))
                    });
                    Self::answer(batch, outcome);
                }
            }

            /// One transaction for the batch. Most batches hold no failing write, so they run
            /// straight through: one query per write, one commit. When a write fails (a replayed
            /// `jti`, a used token), that attempt is rolled back whole and the batch runs again
            /// with a savepoint around each write, so only the failing ones are undone.
            async fn commit_batch(
                connection: &mut <$db as sqlx::Database>::Connection,
                batch: &[Pending],
            ) -> Result<Vec<Result<(), StoreError>>, sqlx::Error> {
                match Self::run_batch(connection, batch, false).await? {
                    Some(outcomes) => Ok(outcomes),
                    None => Self::run_batch(connection, batch, true).await.map(Option::unwrap_or_default),
                }
            }

            /// Tells every caller its write's outcome, which is only ever after the commit.
            fn answer(batch: Vec<Pending>, outcome: Result<Vec<Result<(), StoreError>>, sqlx::Error>) {
                match outcome {
                    Ok(outcomes) => {
                        for (pending, outcome) in batch.into_iter().zip(outcomes) {
                            pending.answer(outcome);
                        }
                    }
                    Err(error) => {
                        let detail = error.to_string();
                        tracing::error!(error = %detail, writes = batch.len(), "a batch of writes was not committed");
                        for pending in batch {
                            pending.answer(Err(StoreError::NotCommitted(detail.clone())));
                        }
                    }
                }
            }

            /// Runs the batch in one transaction and commits it. Without savepoints, the first
            /// failing write rolls everything back and answers `None` (run it again with them).
            async fn run_batch(
                connection: &mut <$db as sqlx::Database>::Connection,
                batch: &[Pending],
                savepoints: bool,
            ) -> Result<Option<Vec<Result<(), StoreError>>>, sqlx::Error> {
                let mut tx = sqlx::Connection::begin(connection).await?;
                if !savepoints {
                    return match Self::apply_all(&mut tx, batch.iter().map(|pending| &pending.write)).await {
                        Ok(()) => {
                            tx.commit().await?;
                            Ok(Some(batch.iter().map(|_| Ok(())).collect()))
                        }
                        Err(_) => {
                            tx.rollback().await?;
                            Ok(None)
                        }
                    };
                }
                let mut outcomes = Vec::with_capacity(batch.len());
                for pending in batch {
                    let mut savepoint = sqlx::Acquire::begin(&mut tx).await?;
                    match Self::apply(&mut savepoint, &pending.write).await {
                        Ok(()) => {
                            savepoint.commit().await?;
                            outcomes.push(Ok(()));
                        }
                        Err(error) => {
                            savepoint.rollback().await?;
                            outcomes.push(Err(error));
                        }
                    }
                }
                tx.commit().await?;
                Ok(Some(outcomes))
            }

            /// Every write of the batch, the audit events (the reads' ones, most of a batch
            /// under read load) many rows to a statement.
            async fn apply_all<'w>(
                tx: &mut sqlx::Transaction<'_, $db>,
                writes: impl Iterator<Item = &'w Write> + Send,
            ) -> Result<(), StoreError> {
                let mut events = Vec::new();
                for write in writes {
                    match write {
                        Write::AuditEvent(event) if !event.is_attributed() => events.push(&**event),
                        write => Self::apply(tx, write).await?,
                    }
                }
                let mut rest = events.as_slice();
                for rows in one_round_trip::power_of_two_sizes(events.len(), AUDIT_EVENTS_PER_STATEMENT) {
                    let (these, after) = rest.split_at(rows);
                    let statement = sqlx::query(Self::combined().audit_events(rows));
                    let query = these.iter().fold(statement, |query, event| Self::bind_unattributed_audit_event(query, event));
                    query.execute(&mut **tx).await?;
                    rest = after;
                }
                Ok(())
            }

            async fn apply(tx: &mut sqlx::Transaction<'_, $db>, write: &Write) -> Result<(), StoreError> {
                match write {
                    Write::Registration { client, metadata, replay, consumed_token, max_dynamic_clients, audit } => {
                        let (replay, consumed_token) = (replay.as_ref(), consumed_token.as_deref());
                        Self::insert_registration(tx, client, metadata, replay, consumed_token, *max_dynamic_clients, audit).await
                    }
                    Write::ReplayGuard(guard) => Self::insert_guard(&mut **tx, guard).await,
                    Write::AccessToken { record, token_hash, replay, audit } => {
                        Self::insert_token(&mut **tx, record, token_hash, replay.as_ref(), audit).await
                    }
                    Write::AuditEvent(event) => Self::insert_audit_event(&mut **tx, event).await,
                    Write::Barrier => Ok(()),
                }
            }

            /// The hot writes' combined statements for this backend, made once.
            fn combined() -> &'static CombinedWrites {
                static STATEMENTS: std::sync::OnceLock<CombinedWrites> = std::sync::OnceLock::new();
                STATEMENTS.get_or_init(|| CombinedWrites::new($backend))
            }

            /// A registration's rows, all or nothing: the consumed `dcr_register` token (a
            /// statement of its own, as it must change exactly one row), then the replay record,
            /// the workspace's count of dynamically registered clients, the client and its audit
            /// event in one query.
            async fn insert_registration(
                tx: &mut sqlx::Transaction<'_, $db>,
                client: &NewClient,
                metadata: &RawValue,
                replay: Option<&ReplayGuard>,
                consumed_token: Option<&str>,
                max_dynamic_clients: u32,
                audit: &NewAuditEvent,
            ) -> Result<(), StoreError> {
                if let Some(jti) = consumed_token {
                    let done = sqlx::query("update access_token set revoked_at = $1 where jti = $2 and revoked_at is null")
                        .bind(audit.created_at)
                        .bind(jti)
                        .execute(&mut **tx)
                        .await?;
                    if done.rows_affected() != 1 {
                        return Err(StoreError::TokenUsed);
                    }
                }
                let counted = client.summary.dynamically_registered;
                let mut query = sqlx::query(Self::combined().registration(replay.is_some(), counted));
                if let Some(guard) = replay {
                    query = Self::bind_guard(query, guard);
                }
                if counted {
                    query = Self::bind_count(query, &client.workspace, max_dynamic_clients);
                }
                Self::bind_audit_event(Self::bind_client(query, client, metadata), audit).execute(&mut **tx).await.map_err(classify_write)?;
                Ok(())
            }

            /// An access token, and in the same query the replay record of the assertion it was
            /// issued for and its audit event.
            async fn insert_token<'e, E>(
                executor: E,
                token: &AccessTokenRecord,
                token_hash: &str,
                replay: Option<&ReplayGuard>,
                audit: &NewAuditEvent,
            ) -> Result<(), StoreError>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                let mut query = sqlx::query(Self::combined().token(replay.is_some()));
                if let Some(guard) = replay {
                    query = Self::bind_guard(query, guard);
                }
                Self::bind_audit_event(Self::bind_token(query, token, token_hash), audit)
                    .execute(executor)
                    .await
                    .map_err(classify_write)?;
                Ok(())
            }

            /// Records a used `jti`; [`StoreError::Replayed`] if it is there already.
            async fn insert_guard<'e, E>(executor: E, guard: &ReplayGuard) -> Result<(), StoreError>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                Self::bind_guard(sqlx::query(INSERT_REPLAY_GUARD), guard).execute(executor).await.map_err(classify_write)?;
                Ok(())
            }

            /// Deletes the client (with `unused_since`, only if it is abandoned: [`DELETE_CLIENT`])
            /// and records the audit event; false if no client was deleted.
            async fn delete_client_if(
                &self,
                at: &WorkspaceRef,
                client_id: &str,
                unused_since: Option<DateTime<Utc>>,
                audit: &NewAuditEvent,
            ) -> Result<bool, StoreError> {
                if !storable(client_id) {
                    return Ok(false);
                }
                let mut tx = self.pool.begin().await?;
                let deleted: Option<bool> = sqlx::query_scalar(DELETE_CLIENT)
                    .bind(at.tenant.as_str())
                    .bind(at.workspace.as_str())
                    .bind(client_id)
                    .bind(unused_since)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(dynamically_registered) = deleted else { return Ok(false) };
                if dynamically_registered {
                    sqlx::query(UNCOUNT_DYNAMIC_CLIENT).bind(at.tenant.as_str()).bind(at.workspace.as_str()).execute(&mut *tx).await?;
                }
                Self::insert_audit_event(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn insert_audit_event<'e, E>(executor: E, event: &NewAuditEvent) -> Result<(), StoreError>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                Self::bind_audit_event(sqlx::query(INSERT_AUDIT_EVENT), event).execute(executor).await?;
                Ok(())
            }

            /// The binds of [`INSERT_REPLAY_GUARD`], after those `query` has.
            fn bind_guard<'q>(query: Bound<'q, $db>, guard: &'q ReplayGuard) -> Bound<'q, $db> {
                query
                    .bind(guard.scope.tenant().as_str())
                    .bind(guard.scope.workspace_column())
                    .bind(&guard.issuer)
                    .bind(&guard.jti)
                    .bind(guard.expires_at)
            }

            /// The binds of [`COUNT_DYNAMIC_CLIENT`], after those `query` has.
            fn bind_count<'q>(query: Bound<'q, $db>, at: &'q WorkspaceRef, max_dynamic_clients: u32) -> Bound<'q, $db> {
                query.bind(at.tenant.as_str()).bind(at.workspace.as_str()).bind(i64::from(max_dynamic_clients))
            }

            /// The binds of [`INSERT_CLIENT`], after those `query` has.
            /// `metadata`: the client's, serialized for storage.
            fn bind_client<'q>(query: Bound<'q, $db>, client: &'q NewClient, metadata: &'q RawValue) -> Bound<'q, $db> {
                let summary = &client.summary;
                query
                    .bind(&summary.client_id)
                    .bind(client.workspace.tenant.as_str())
                    .bind(client.workspace.workspace.as_str())
                    .bind(summary.name.as_deref())
                    .bind(summary.dynamically_registered)
                    .bind(summary.software_id.as_deref())
                    .bind(summary.org_id.as_deref())
                    .bind(summary.org_name.as_deref())
                    .bind(summary.token_endpoint_auth_method.as_str())
                    .bind(Json(metadata))
                    .bind(client.software_statement.as_deref())
                    .bind(client.client_secret_hash.as_deref())
                    .bind(client.registration_access_token_hash.as_deref())
                    .bind(client.registration_access_token_subject.as_deref())
                    .bind(summary.created_at)
            }

            /// The binds of [`INSERT_ACCESS_TOKEN`], after those `query` has.
            fn bind_token<'q>(query: Bound<'q, $db>, token: &'q AccessTokenRecord, token_hash: &'q str) -> Bound<'q, $db> {
                query
                    .bind(&token.jti)
                    .bind(token_hash)
                    .bind(token.workspace.tenant.as_str())
                    .bind(token.workspace.workspace.as_str())
                    .bind(&token.client_id)
                    .bind(&token.scope)
                    .bind(token.certificate_thumbprint.as_deref())
                    .bind(token.issued_at)
                    .bind(token.expires_at)
            }

            /// The binds of [`INSERT_AUDIT_EVENT`], after those `query` has.
            fn bind_audit_event<'q>(query: Bound<'q, $db>, event: &'q NewAuditEvent) -> Bound<'q, $db> {
                Self::bind_event_columns(query, event)
                    .bind(event.actor.as_deref())
                    .bind(event.detail.as_deref())
                    .bind(event.created_at)
            }

            /// The binds of [`INSERT_UNATTRIBUTED_AUDIT_EVENT`], after those `query` has.
            fn bind_unattributed_audit_event<'q>(query: Bound<'q, $db>, event: &'q NewAuditEvent) -> Bound<'q, $db> {
                Self::bind_event_columns(query, event).bind(event.created_at)
            }

            /// The columns both audit inserts begin with, up to `remote_addr`.
            fn bind_event_columns<'q>(query: Bound<'q, $db>, event: &'q NewAuditEvent) -> Bound<'q, $db> {
                query
                    .bind(event.workspace.tenant.as_str())
                    .bind(event.workspace.workspace.as_str())
                    .bind(event.event_type.as_str())
                    .bind(event.outcome.as_str())
                    .bind(event.client_id.as_deref())
                    .bind(event.error.as_deref())
                    .bind(event.error_description.as_deref())
                    .bind(event.software_id.as_deref())
                    .bind(event.org_id.as_deref())
                    .bind(event.client_cert_subject.as_deref())
                    .bind(event.remote_addr.as_deref())
            }
        }

        #[async_trait]
        impl Store for $name {
            fn backend(&self) -> Backend {
                $backend
            }

            /// On a connection of its own, never lent out: see [`MigrationChecks`].
            async fn migrate(&self) -> Result<(), StoreError> {
                let checks = MigrationChecks::of($backend);
                let mut connection =
                    <<$db as sqlx::Database>::Connection as sqlx::Connection>::connect_with(&*self.pool.connect_options()).await?;
                if let Some(before) = checks.before {
                    sqlx::query(before).execute(&mut connection).await?;
                }
                sqlx::migrate!($migrations).run_direct(&mut connection).await?;
                if let Some(dangling) = checks.dangling_references {
                    if let Some(row) = sqlx::query(dangling).fetch_optional(&mut connection).await? {
                        let table: String = row.try_get(0)?;
                        return Err(StoreError::Corrupt(format!("a migration left a dangling reference in table {table}")));
                    }
                }
                sqlx::Connection::close(connection).await?;
                Ok(())
            }

            async fn ping(&self) -> Result<(), StoreError> {
                if self.writes.writer_gone() {
                    return Err(StoreError::WriterGone);
                }
                sqlx::query("select 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn flush(&self) -> Result<(), StoreError> {
                self.writes.flush().await
            }

            async fn stored_private_keys(&self) -> Result<Vec<(PrivateKeySlot, String)>, StoreError> {
                let mut stored = Vec::new();
                for row in sqlx::query(
                    "select tenant_id, workspace_id, kid, private_key_pem from signing_key where retired_at is null order by kid",
                )
                    .fetch_all(&self.pool)
                    .await?
                {
                    let at = WorkspaceRef {
                        tenant: parse_tenant(row.try_get("tenant_id")?)?,
                        workspace: parse_workspace_id(row.try_get("workspace_id")?)?,
                    };
                    stored.push((PrivateKeySlot::WorkspaceSigningKey { at, kid: row.try_get("kid")? }, row.try_get("private_key_pem")?));
                }
                for row in sqlx::query("select tenant_id, signing_key_pem, ca_key_pem from sandbox_directory order by tenant_id")
                    .fetch_all(&self.pool)
                    .await?
                {
                    let tenant = parse_tenant(row.try_get("tenant_id")?)?;
                    stored.push((PrivateKeySlot::SandboxDirectorySigningKey { tenant: tenant.clone() }, row.try_get("signing_key_pem")?));
                    stored.push((PrivateKeySlot::SandboxDirectoryCaKey { tenant }, row.try_get("ca_key_pem")?));
                }
                for row in sqlx::query(
                    "select tenant_id, software_id, held_bundle from sandbox_software where held_bundle is not null \
                     order by tenant_id, software_id",
                )
                .fetch_all(&self.pool)
                .await?
                {
                    let slot = PrivateKeySlot::SandboxHeldBundle {
                        tenant: parse_tenant(row.try_get("tenant_id")?)?,
                        software_id: row.try_get("software_id")?,
                    };
                    stored.push((slot, row.try_get("held_bundle")?));
                }
                for row in sqlx::query("select administrator_id, secret_sealed from admin_two_step order by administrator_id")
                    .fetch_all(&self.pool)
                    .await?
                {
                    let slot = PrivateKeySlot::AdministratorTwoStepSecret { administrator_id: row.try_get("administrator_id")? };
                    stored.push((slot, row.try_get("secret_sealed")?));
                }
                Ok(stored)
            }

            async fn replace_private_key(&self, slot: &PrivateKeySlot, sealed: &str) -> Result<(), StoreError> {
                let query = match slot {
                    PrivateKeySlot::WorkspaceSigningKey { kid, .. } => {
                        sqlx::query("update signing_key set private_key_pem = $1 where kid = $2").bind(sealed).bind(kid)
                    }
                    PrivateKeySlot::SandboxDirectorySigningKey { tenant } => {
                        sqlx::query("update sandbox_directory set signing_key_pem = $1 where tenant_id = $2")
                            .bind(sealed)
                            .bind(tenant.as_str())
                    }
                    PrivateKeySlot::SandboxDirectoryCaKey { tenant } => {
                        sqlx::query("update sandbox_directory set ca_key_pem = $1 where tenant_id = $2")
                            .bind(sealed)
                            .bind(tenant.as_str())
                    }
                    PrivateKeySlot::SandboxHeldBundle { tenant, software_id } => {
                        sqlx::query("update sandbox_software set held_bundle = $1 where tenant_id = $2 and software_id = $3")
                            .bind(sealed)
                            .bind(tenant.as_str())
                            .bind(software_id)
                    }
                    PrivateKeySlot::AdministratorTwoStepSecret { administrator_id } => {
                        sqlx::query("update admin_two_step set secret_sealed = $1 where administrator_id = $2")
                            .bind(sealed)
                            .bind(administrator_id)
                    }
                };
                let done = query.execute(&self.pool).await;
                if let PrivateKeySlot::WorkspaceSigningKey { at, .. } = slot {
                    self.signing_keys.forget(at);
                }
                done?;
                Ok(())
            }
        }

        workspace_store!($name, $db);
        client_store!($name, $db);
        event_store!($name, $db);
        policy_store!($name, $db);
        sandbox_store!($name, $db);
        administrator_store!($name, $db);
        console_store!($name, $db);
    };
}

sql_store!(
    /// The embedded default: a SQLite file in WAL mode.
    SqliteStore,
    sqlx::Sqlite,
    Backend::Sqlite,
    "../migrations/sqlite"
);

sql_store!(
    /// The scale-out store: one PostgreSQL shared by every instance.
    PostgresStore,
    sqlx::Postgres,
    Backend::Postgres,
    "../migrations/postgres"
);

#[cfg(test)]
mod tests {
    use super::super::contract_tests;
    use super::*;
    use crate::domain::audit::AuditEventType;
    use crate::domain::event_log::Outcome;

    fn event(n: i64) -> Write {
        let event = contract_tests::audit(&contract_tests::workspace_ref("obuk"), AuditEventType::DcrRead, Outcome::Success, n);
        Write::AuditEvent(Box::new(NewAuditEvent { client_id: Some(format!("client-{n}")), ..event }))
    }

    /// The writer's straight run inserts a batch's audit events many rows to a statement. A
    /// statement that failed there would go unnoticed from outside (the batch runs again one
    /// write at a time), so this checks the run itself on both backends.
    #[tokio::test]
    async fn a_batch_of_audit_events_is_inserted_many_rows_to_a_statement() {
        let writes: Vec<Write> = (0..150).map(event).collect();
        let count = "select count(distinct client_id) from audit_event";

        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let url = format!("sqlite://{}/batch.db", dir.path().display());
        let options = url.parse::<sqlx::sqlite::SqliteConnectOptions>().map(|o| o.create_if_missing(true));
        let pool =
            sqlx::SqlitePool::connect_with(options.unwrap_or_else(|e| panic!("{e}"))).await.unwrap_or_else(|e| panic!("{e}"));
        SqliteStore::new(pool.clone()).migrate().await.unwrap_or_else(|e| panic!("{e}"));
        let mut tx = pool.begin().await.unwrap_or_else(|e| panic!("{e}"));
        SqliteStore::apply_all(&mut tx, writes.iter()).await.unwrap_or_else(|e| panic!("sqlite: {e}"));
        let stored: i64 = sqlx::query_scalar(count).fetch_one(&mut *tx).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stored, 150);

        if let Some(url) = contract_tests::fresh_postgres_url().await {
            let pool = sqlx::PgPool::connect(&url).await.unwrap_or_else(|e| panic!("{e}"));
            PostgresStore::new(pool.clone()).migrate().await.unwrap_or_else(|e| panic!("{e}"));
            let mut tx = pool.begin().await.unwrap_or_else(|e| panic!("{e}"));
            PostgresStore::apply_all(&mut tx, writes.iter()).await.unwrap_or_else(|e| panic!("postgres: {e}"));
            let stored: i64 = sqlx::query_scalar(count).fetch_one(&mut *tx).await.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(stored, 150);
        }
    }
}
