//! The one module that talks SQL: the [`Store`] trait (made of one trait per part of what is
//! kept) and its SQLite and PostgreSQL implementations, chosen by the database URL's scheme at
//! startup.

mod group_commit;
mod held_connections;
mod one_round_trip;
mod read_cache;
mod sql;
mod stored_metadata;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::account::{AdminAccount, AdminUser, StoredTwoStep};
use crate::domain::activity::{AdministratorEvent, AdministratorEventFilter, NewAdministratorEvent};
use crate::domain::audit::{AuditEvent, AuditFilter, NewAuditEvent};
use crate::domain::client::{ClientDetails, ClientSelection, ClientSummary};
use crate::domain::console_session::ConsoleSignIn;
use crate::domain::dcr::DcrSettings;
use crate::domain::ids::{PolicyId, TenantId, WorkspaceRef};
use crate::domain::policy::{Policy, PolicyDraft};
use crate::domain::sandbox::{SandboxDirectoryKeys, SandboxSoftware, SandboxSoftwareSummary};
use crate::domain::signing::WorkspaceSigningKey;
use crate::domain::token::{AccessTokenRecord, StoredCredentials};
use crate::domain::workspace::{Workspace, WorkspaceSettings, WorkspaceSummary};
use crate::secrets::SecretHash;

pub use sql::{PostgresStore, SqliteStore};

/// Which database a store writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Where a private key lives in the database: each such value is stored sealed under the key
/// encryption key, bound to its slot's [`sealing_context`](Self::sealing_context).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivateKeySlot {
    /// A workspace's token signing key.
    WorkspaceSigningKey { at: WorkspaceRef, kid: String },
    /// The key a tenant's sandbox directory signs software statements with.
    SandboxDirectorySigningKey { tenant: TenantId },
    /// The key of a tenant's sandbox transport CA.
    SandboxDirectoryCaKey { tenant: TenantId },
    /// The bundle (keys included) the server holds for a console-made sandbox TPP.
    SandboxHeldBundle { tenant: TenantId, software_id: String },
    /// The secret an administrator's authenticator app shares for two-step sign-in.
    AdministratorTwoStepSecret { administrator_id: String },
}

impl PrivateKeySlot {
    /// What a sealed value is bound to, so it cannot be moved to another slot. A workspace key's
    /// is its `kid` (unique across workspaces, being a thumbprint).
    pub fn sealing_context(&self) -> String {
        match self {
            Self::WorkspaceSigningKey { kid, .. } => kid.clone(),
            Self::SandboxDirectorySigningKey { tenant } => format!("sandbox-directory/{tenant}/signing-key"),
            Self::SandboxDirectoryCaKey { tenant } => format!("sandbox-directory/{tenant}/ca-key"),
            Self::SandboxHeldBundle { tenant, software_id } => format!("sandbox-bundle/{tenant}/{software_id}"),
            Self::AdministratorTwoStepSecret { administrator_id } => format!("administrator/{administrator_id}/two-step"),
        }
    }
}

/// What became of a DCR settings write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DcrSettingsWrite {
    Saved,
    /// The workspace is gone, or changed since it was read; nothing was written.
    NotAsRead,
    /// The settings name a policy the workspace does not have; nothing was written.
    NoPolicy,
}

/// What became of a policy deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyDeletion {
    Deleted,
    NotFound,
    /// The DCR settings name the policy; nothing was deleted.
    Attached,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a row with this key already exists")]
    Conflict,
    #[error("the request's jti has been used before")]
    Replayed,
    #[error("the access token was already used or revoked")]
    TokenUsed,
    #[error("the workspace holds as many dynamically registered clients as its cap allows")]
    CapReached,
    #[error("the tenant or workspace does not exist")]
    NotFound,
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    #[error("unsupported database URL (use sqlite:... or postgres://...)")]
    UnsupportedUrl,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The transaction that held the write could not begin or commit; nothing of it was kept.
    #[error("database error: the write was not committed: {0}")]
    NotCommitted(String),
    #[error("the database writer has stopped")]
    WriterGone,
}

impl StoreError {
    /// The database could not be reached (down, restarting, the network between): a retry
    /// later may succeed, and nothing was written.
    pub fn is_unreachable(&self) -> bool {
        match self {
            Self::Database(error) => is_connection_error(error),
            _ => false,
        }
    }
}

fn is_connection_error(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception), 57P01-57P03 (the server shutting down or
        // starting up).
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|code| code.starts_with("08") || ["57P01", "57P02", "57P03"].contains(&code.as_ref()))
        }
        _ => false,
    }
}

/// A client to insert, with what only the store may see: hashes of its secrets.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub workspace: WorkspaceRef,
    pub summary: ClientSummary,
    pub metadata: Value,
    pub software_statement: Option<String>,
    pub client_secret_hash: Option<String>,
    pub registration_access_token_hash: Option<String>,
    /// The subject of the trusted client certificate the client registered over, if any: its
    /// registration access token works only over a certificate with that subject.
    pub registration_access_token_subject: Option<String>,
}

/// Where a recorded `jti` may not be used again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayScope {
    /// One workspace: a client assertion, whose `aud` names that workspace's token endpoint or
    /// issuer.
    Workspace(WorkspaceRef),
    /// Every workspace of the tenant: a registration request, whose `aud` may be the bank's
    /// `org_id`, which each of the bank's workspaces accepts. A request one of them took is
    /// then refused by the others too, rather than registering the TPP a second time on behalf
    /// of whoever copied it.
    Tenant(TenantId),
}

impl ReplayScope {
    pub fn tenant(&self) -> &TenantId {
        match self {
            Self::Workspace(at) => &at.tenant,
            Self::Tenant(tenant) => tenant,
        }
    }

    /// The `replay_guard.workspace_id` it is stored under: empty for the whole tenant (no
    /// workspace id is empty).
    pub fn workspace_column(&self) -> &str {
        match self {
            Self::Workspace(at) => at.workspace.as_str(),
            Self::Tenant(_) => "",
        }
    }
}

/// A `jti` (of a registration request or a client assertion), recorded so it is never accepted
/// twice within its scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayGuard {
    pub scope: ReplayScope,
    pub issuer: String,
    pub jti: String,
    /// Epoch seconds after which the record may be purged (the request has expired by then).
    pub expires_at: i64,
}

/// Everything Onboard keeps, in one database (SQLite or PostgreSQL). Each part is a trait of
/// its own, below, and implemented in a file of its own (`sql/`); this one adds the database
/// itself: which backend, its migrations, whether it answers, and the private keys sealed at
/// rest in any part. Code holds an `Arc<dyn Store>`
/// and calls any part's methods on it.
#[async_trait]
pub trait Store:
    WorkspaceStore + ClientStore + EventStore + PolicyStore + SandboxStore + AdministratorStore + ConsoleStore + Send + Sync + 'static
{
    fn backend(&self) -> Backend;
    /// Applies the backend's migrations.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Checks the database answers, and its writer runs.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Waits until every write handed to the store before this call is committed: at
    /// shutdown, the audit events queued without waiting (reads') are not lost.
    async fn flush(&self) -> Result<(), StoreError>;
    /// Every stored private key (workspace signing keys not erased, sandbox directory keys,
    /// held sandbox bundles, administrators' two-step secrets) as stored, whichever part keeps it: what startup checks (and seals,
    /// for values stored before sealing) before serving, and `onboard rekey` seals anew.
    async fn stored_private_keys(&self) -> Result<Vec<(PrivateKeySlot, String)>, StoreError>;
    /// Replaces what a slot holds with the same value, sealed.
    async fn replace_private_key(&self, slot: &PrivateKeySlot, sealed: &str) -> Result<(), StoreError>;
}

/// Tenants, workspaces with their settings, and workspaces' signing keys.
#[async_trait]
pub trait WorkspaceStore: Send + Sync {
    /// Creates the tenant if it does not exist.
    async fn ensure_tenant(&self, id: &TenantId, name: &str, now: DateTime<Utc>) -> Result<(), StoreError>;
    async fn tenant_exists(&self, id: &TenantId) -> Result<bool, StoreError>;
    /// Inserts a workspace; [`StoreError::Conflict`] if its id is taken, [`StoreError::NotFound`]
    /// if its tenant does not exist.
    async fn insert_workspace(&self, workspace: &Workspace) -> Result<(), StoreError>;
    /// The workspace at `at`, shared with the store's one-second read cache (a protocol request
    /// reads it without copying it; whoever changes it works on a copy).
    async fn workspace(&self, at: &WorkspaceRef) -> Result<Option<Arc<Workspace>>, StoreError>;
    async fn workspaces(&self, tenant: &TenantId) -> Result<Vec<WorkspaceSummary>, StoreError>;
    /// Saves the settings if the workspace is as it was when read (its `updated_at` is still
    /// `read_at`), so a change made meanwhile is never overwritten; returns false if the
    /// workspace changed since or does not exist (the read cache then forgets it).
    async fn update_workspace_settings(
        &self,
        at: &WorkspaceRef,
        settings: &WorkspaceSettings,
        read_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Saves the settings if the workspace is as it was when read (its `updated_at` is still
    /// `read_at`, as for [`Self::update_workspace_settings`]) and they name no policy it lacks,
    /// checked in the transaction that writes them (see [`PolicyStore::delete_policy`]).
    async fn update_dcr_settings(
        &self,
        at: &WorkspaceRef,
        dcr: &DcrSettings,
        read_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<DcrSettingsWrite, StoreError>;
    async fn insert_signing_key(&self, key: &WorkspaceSigningKey) -> Result<(), StoreError>;
    /// The workspace's keys, newest first, the retired ones whose private half was erased
    /// included (without it). Shared, not copied: every access token looks them up.
    async fn signing_keys(&self, at: &WorkspaceRef) -> Result<Arc<[WorkspaceSigningKey]>, StoreError>;
    /// Every workspace's keys, each workspace's together and newest first: what housekeeping
    /// looks through for keys to erase.
    async fn every_signing_key(&self) -> Result<Vec<WorkspaceSigningKey>, StoreError>;
    /// Erases a key's private half for good and records when; `false` if it was erased
    /// already (or there is no such key).
    async fn erase_private_key(&self, at: &WorkspaceRef, kid: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Makes a planned key sign from `now`; `false` if it is not planned (any more) to start
    /// later, or there is no such key.
    async fn start_signing(&self, at: &WorkspaceRef, kid: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Deletes a planned key that signs only after `not_before` (so it signed nothing); `false`
    /// if it signs sooner, or there is no such key.
    async fn delete_planned_signing_key(
        &self,
        at: &WorkspaceRef,
        kid: &str,
        not_before: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Stores a key a planned rotation makes, unless its workspace holds a key of its algorithm
    /// still planned at `now` (checked by the statement that inserts it); `false` then.
    async fn insert_planned_signing_key(&self, key: &WorkspaceSigningKey, now: DateTime<Utc>) -> Result<bool, StoreError>;
}

/// Clients, the access tokens issued to them, and the replay guards of requests' and
/// assertions' `jti`s.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Records the replay guard, the client and the audit event in one transaction, revoking
    /// `consumed_token` (the jti of a single-use registration token) in the same transaction. A
    /// dynamically registered client counts towards the workspace's `max_dynamic_clients` (0:
    /// no cap), checked in that transaction, so registrations racing for the last places never
    /// pass it. [`StoreError::Replayed`] if the guard exists, [`StoreError::TokenUsed`] if the
    /// token was already revoked, [`StoreError::CapReached`] if the workspace holds its cap;
    /// then nothing is written.
    async fn register_client(
        &self,
        client: NewClient,
        replay: Option<&ReplayGuard>,
        consumed_token: Option<&str>,
        max_dynamic_clients: u32,
        audit: &NewAuditEvent,
    ) -> Result<(), StoreError>;
    /// The workspace's clients a selection holds, newest first.
    async fn clients(&self, at: &WorkspaceRef, selection: &ClientSelection) -> Result<Vec<ClientSummary>, StoreError>;
    /// How many clients the selection holds, its page aside.
    async fn count_clients(&self, at: &WorkspaceRef, selection: &ClientSelection) -> Result<u64, StoreError>;
    /// How many dynamically registered clients the workspace holds (a counter the writes keep,
    /// not a count of its clients). Registrations check it inside their write; only the tests
    /// read it.
    #[cfg(test)]
    async fn dynamic_client_count(&self, at: &WorkspaceRef) -> Result<u64, StoreError>;
    async fn client(&self, at: &WorkspaceRef, client_id: &str) -> Result<Option<ClientDetails>, StoreError> {
        Ok(self.client_with_credentials(at, client_id).await?.map(|(details, _)| details))
    }
    /// The client with the hashes of its secrets, read together.
    async fn client_with_credentials(
        &self,
        at: &WorkspaceRef,
        client_id: &str,
    ) -> Result<Option<(ClientDetails, StoredCredentials)>, StoreError>;
    /// Deletes the client and records the audit event; false if there was no such client.
    async fn delete_client(&self, at: &WorkspaceRef, client_id: &str, audit: &NewAuditEvent) -> Result<bool, StoreError>;
    /// [`Self::delete_client`], but only if the client is abandoned: registered by
    /// `unused_since` and given no token since, checked by the statement that deletes it (so a
    /// client that gets a token meanwhile stays); false otherwise.
    async fn delete_unused_client(
        &self,
        at: &WorkspaceRef,
        client_id: &str,
        unused_since: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> Result<bool, StoreError>;
    /// Replaces a client's registration (RFC 7592 PUT), its client secret hash included (none
    /// forgets it), and records the replay guard and audit event in one transaction; false if
    /// there is no such client. The registration access token hash is kept.
    async fn update_client(
        &self,
        client: &NewClient,
        replay: Option<&ReplayGuard>,
        audit: &NewAuditEvent,
    ) -> Result<bool, StoreError>;
    /// Records a used `jti`; [`StoreError::Replayed`] if it was used before.
    async fn insert_replay_guard(&self, guard: &ReplayGuard) -> Result<(), StoreError>;
    /// Stores an access token (its hash) with the replay record of the client assertion it was
    /// issued for and its audit event, in one commit: [`StoreError::Replayed`] if that
    /// assertion was used before, [`StoreError::NotFound`] if the client is gone (deleted while
    /// the token was made).
    async fn insert_access_token(
        &self,
        token: &AccessTokenRecord,
        token_hash: &str,
        replay: Option<&ReplayGuard>,
        audit: &NewAuditEvent,
    ) -> Result<(), StoreError>;
    /// The access token with this `jti`, and the hash of the token as it was issued.
    async fn access_token(&self, jti: &str) -> Result<Option<(AccessTokenRecord, SecretHash)>, StoreError>;
    /// Returns false if the token was unknown or already revoked.
    async fn revoke_access_token(&self, jti: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Whether this `jti` is recorded (the check a dry run makes without writing).
    async fn replay_guard_exists(&self, guard: &ReplayGuard) -> Result<bool, StoreError>;
    /// Deletes up to `batch` access tokens that expired before `now_epoch`, the earliest first,
    /// keeping the newest issue time among each client's on its row (so when it last got a
    /// token is not lost); returns how many.
    async fn purge_expired_access_tokens(&self, now_epoch: i64, batch: u64) -> Result<u64, StoreError>;
    /// Deletes at most `batch` replay guards whose request expired before `now_epoch`, the
    /// earliest first; returns how many.
    async fn purge_expired_replay_guards(&self, now_epoch: i64, batch: u64) -> Result<u64, StoreError>;
}

/// Each workspace's audit log and the administrators' activity.
#[async_trait]
pub trait EventStore: Send + Sync {
    async fn record_audit_event(&self, event: &NewAuditEvent) -> Result<(), StoreError>;
    /// Records an audit event with the next batch of writes, without waiting for its commit:
    /// for reads, whose answer does not depend on it. Waits only while the writer's queue is
    /// full, so a writer that falls behind slows the reads rather than piling events up in
    /// memory. A failure is logged.
    async fn queue_audit_event(&self, event: NewAuditEvent);
    async fn audit_events(&self, at: &WorkspaceRef, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError>;
    /// Deletes the oldest of at most `batch` audit events (of every workspace) that happened
    /// before `cut_off`; returns how many. Events are taken in the order they were recorded, so
    /// a batch reads only its own rows (no index on time is kept up by every registration); an
    /// event recorded with a later time than the next one keeps it until it is old enough too.
    async fn purge_audit_events(&self, cut_off: DateTime<Utc>, batch: u64) -> Result<u64, StoreError>;
    async fn record_administrator_event(&self, event: &NewAdministratorEvent) -> Result<(), StoreError>;
    /// [`purge_audit_events`](Self::purge_audit_events), of administrators' activity.
    async fn purge_administrator_events(&self, cut_off: DateTime<Utc>, batch: u64) -> Result<u64, StoreError>;
    /// Administrators' activity, newest first.
    async fn administrator_events(&self, filter: &AdministratorEventFilter) -> Result<Vec<AdministratorEvent>, StoreError>;
}

/// Workspaces' DCR policies.
#[async_trait]
pub trait PolicyStore: Send + Sync {
    /// Inserts a policy; [`StoreError::Conflict`] if the id is taken in the workspace,
    /// [`StoreError::NotFound`] if the workspace does not exist.
    async fn insert_policy(&self, at: &WorkspaceRef, policy: &Policy) -> Result<(), StoreError>;
    /// The workspace's policies, by name.
    async fn policies(&self, at: &WorkspaceRef) -> Result<Vec<Policy>, StoreError>;
    async fn policy(&self, at: &WorkspaceRef, id: &PolicyId) -> Result<Option<Policy>, StoreError>;
    /// Replaces a policy's name and body; false if it does not exist.
    async fn update_policy(
        &self,
        at: &WorkspaceRef,
        id: &PolicyId,
        draft: &PolicyDraft,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Deletes the policy unless the workspace's DCR settings name it. The check and the delete
    /// hold the workspace row, as a settings write does, so neither can slip past the other.
    async fn delete_policy(&self, at: &WorkspaceRef, id: &PolicyId) -> Result<PolicyDeletion, StoreError>;
}

/// Each tenant's sandbox directory and its software.
#[async_trait]
pub trait SandboxStore: Send + Sync {
    /// The tenant's sandbox directory, if it has been made.
    async fn sandbox_directory(&self, tenant: &TenantId) -> Result<Option<SandboxDirectoryKeys>, StoreError>;
    /// Stores the tenant's sandbox directory unless one exists; either way returns the one
    /// stored, so instances racing to make it agree on one.
    async fn ensure_sandbox_directory(
        &self,
        tenant: &TenantId,
        keys: &SandboxDirectoryKeys,
    ) -> Result<SandboxDirectoryKeys, StoreError>;
    /// Stores sandbox software, replacing any with the same software id, with the bundle the
    /// server holds for it (console-made sandbox TPPs) or none.
    async fn put_sandbox_software(
        &self,
        tenant: &TenantId,
        software: &SandboxSoftware,
        held_bundle: Option<&str>,
    ) -> Result<(), StoreError>;
    async fn sandbox_software(&self, tenant: &TenantId, software_id: &str) -> Result<Option<SandboxSoftware>, StoreError>;
    /// The tenant's sandbox software, newest first.
    async fn sandbox_software_list(&self, tenant: &TenantId) -> Result<Vec<SandboxSoftwareSummary>, StoreError>;
    /// The bundle the server holds for sandbox software, if it holds one.
    async fn sandbox_held_bundle(&self, tenant: &TenantId, software_id: &str) -> Result<Option<String>, StoreError>;
    /// Deletes sandbox software (its key set stops being published); false if there was none.
    async fn delete_sandbox_software(&self, tenant: &TenantId, software_id: &str) -> Result<bool, StoreError>;
}

/// Console administrators, their failed sign-ins and trusted browsers, and the admin API key.
#[async_trait]
pub trait AdministratorStore: Send + Sync {
    /// Makes `key_hash` the (single) admin API key.
    async fn replace_admin_api_key(&self, key_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError>;
    async fn admin_api_key_hashes(&self) -> Result<Vec<String>, StoreError>;
    /// Inserts an administrator; [`StoreError::Conflict`] if the e-mail address is taken.
    async fn insert_admin_user(&self, user: &AdminUser) -> Result<(), StoreError>;
    async fn admin_user_by_email(&self, email: &str) -> Result<Option<AdminUser>, StoreError>;
    async fn admin_user_by_id(&self, id: &str) -> Result<Option<AdminUser>, StoreError>;
    /// Replaces the password hash of the administrator with `email`, if it is still `replacing`
    /// when one is given; [`StoreError::NotFound`] if there is no such administrator (or their
    /// password is another by now).
    async fn set_admin_password(&self, email: &str, password_hash: &str, replacing: Option<&str>) -> Result<(), StoreError>;
    async fn admin_user_count(&self) -> Result<i64, StoreError>;
    /// Every administrator, by e-mail address, with when they last signed in.
    async fn admin_accounts(&self) -> Result<Vec<AdminAccount>, StoreError>;
    /// Notes that the administrator `id` signed in at `at`.
    async fn note_admin_sign_in(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError>;
    /// The administrator's two-step sign-in, while it is on.
    async fn admin_two_step(&self, administrator_id: &str) -> Result<Option<StoredTwoStep>, StoreError>;
    /// Turns two-step sign-in on for the administrator, the code that proved the app's
    /// `used_step` counting as used, with recovery codes of `recovery_code_hashes`;
    /// [`StoreError::Conflict`] if it is on already.
    async fn enable_admin_two_step(
        &self,
        administrator_id: &str,
        secret_sealed: &str,
        at: i64,
        used_step: i64,
        recovery_code_hashes: &[SecretHash],
    ) -> Result<(), StoreError>;
    /// Replaces the administrator's recovery codes with those of `recovery_code_hashes`, all at
    /// once; false (nothing changed) while two-step sign-in is off.
    async fn replace_recovery_codes(
        &self,
        administrator_id: &str,
        recovery_code_hashes: &[SecretHash],
    ) -> Result<bool, StoreError>;
    /// Uses the recovery code of `code_hash`, atomically, and forgets the wrong codes given;
    /// returns how many codes are left, or none (nothing changed) when it is not one of theirs
    /// (or was used already), `blocked_at` wrong codes have been given, or two-step sign-in is
    /// off.
    async fn use_recovery_code(
        &self,
        administrator_id: &str,
        code_hash: &SecretHash,
        blocked_at: i32,
    ) -> Result<Option<i64>, StoreError>;
    /// Turns two-step sign-in off; whether it was on.
    async fn disable_admin_two_step(&self, administrator_id: &str) -> Result<bool, StoreError>;
    /// Uses the code of time step `step`, atomically, and forgets the wrong codes given: false
    /// (nothing changed) when a code of that step or a later one was used already, `blocked_at`
    /// wrong codes have been given, or two-step sign-in is off.
    async fn use_admin_two_step(&self, administrator_id: &str, step: i64, blocked_at: i32) -> Result<bool, StoreError>;
    /// Counts a wrong code, atomically; returns how many have been given since the last right
    /// one (none while two-step sign-in is off).
    async fn count_wrong_two_step_code(&self, administrator_id: &str) -> Result<Option<i32>, StoreError>;
    /// Epoch seconds until which sign-in as `email` is locked, if it is at `now_epoch`.
    async fn sign_in_locked_until(&self, email: &str, now_epoch: i64) -> Result<Option<i64>, StoreError>;
    /// Counts a sign-in attempt as `email` (an administrator's or not) before its password is
    /// checked, atomically, so parallel guesses each count; returns the count since the last
    /// success, or `None` without counting while sign-in as `email` is locked at `now_epoch`
    /// (a guess that found it unlocked before a parallel guess locked it is refused all the same).
    async fn count_sign_in_attempt(&self, email: &str, now_epoch: i64) -> Result<Option<i32>, StoreError>;
    /// Locks sign-in as `email` until `until_epoch`; the count starts afresh once it ends.
    async fn lock_sign_in(&self, email: &str, until_epoch: i64) -> Result<(), StoreError>;
    /// Forgets the attempts counted for `email` (after a successful sign-in).
    async fn clear_sign_in_attempts(&self, email: &str) -> Result<(), StoreError>;
    /// Forgets the attempts of at most `batch` addresses whose last was before `before_epoch`
    /// and whose lock, if any, has ended by `now_epoch`, the oldest first; returns how many.
    async fn purge_sign_in_attempts(&self, now_epoch: i64, before_epoch: i64, batch: u64) -> Result<u64, StoreError>;
    /// Trusts the browser whose device token hashes to `token_hash` for sign-ins as `email`,
    /// from `now_epoch` (its last successful sign-in), if the administrator's password is still
    /// `password_hash` (the one the sign-in checked: a new password forgets devices, and a
    /// sign-in that raced it must not trust one afterwards). False if it was not.
    async fn trust_device(&self, token_hash: &str, email: &str, password_hash: &str, now_epoch: i64) -> Result<bool, StoreError>;
    /// The device with `token_hash`, if it is trusted for `email` and signed in since
    /// `used_since_epoch`: `Some(locked_until)` (epoch seconds, if a lock was ever set).
    async fn trusted_device(
        &self,
        token_hash: &str,
        email: &str,
        used_since_epoch: i64,
    ) -> Result<Option<Option<i64>>, StoreError>;
    /// [`count_sign_in_attempt`](Self::count_sign_in_attempt), of a trusted device: `None`
    /// without counting while it is locked at `now_epoch`, or if it is not trusted any more.
    async fn count_device_attempt(&self, token_hash: &str, now_epoch: i64) -> Result<Option<i32>, StoreError>;
    /// Locks sign-in from the device until `until_epoch`; the count starts afresh once it ends.
    async fn lock_device(&self, token_hash: &str, until_epoch: i64) -> Result<(), StoreError>;
    /// After a successful sign-in from the device: its count forgotten, its trust renewed from
    /// `now_epoch`.
    async fn clear_device_attempts(&self, token_hash: &str, now_epoch: i64) -> Result<(), StoreError>;
    /// Stops trusting every device for `email` (its password changed).
    async fn forget_devices(&self, email: &str) -> Result<(), StoreError>;
    /// Forgets at most `batch` devices not signed in from since `before_epoch` and not locked
    /// at `now_epoch`, the longest unused first; returns how many.
    async fn purge_unused_devices(&self, now_epoch: i64, before_epoch: i64, batch: u64) -> Result<u64, StoreError>;
}

/// Console sessions (tower-sessions records) and the sign-ins they carry.
#[async_trait]
pub trait ConsoleStore: Send + Sync {
    /// Records a console sign-in ([`ConsoleSignIn`]).
    async fn insert_console_sign_in(&self, sign_in: &ConsoleSignIn) -> Result<(), StoreError>;
    /// The console sign-in with `id`, and its administrator; none if either is gone.
    async fn console_sign_in(&self, id: &str) -> Result<Option<(ConsoleSignIn, AdminUser)>, StoreError>;
    /// Notes that the administrator of sign-in `id` proved their password at `at` (epoch
    /// seconds): only while the sign-in was made with that password (`password_mark`); whether
    /// it was.
    async fn confirm_console_sign_in(&self, id: &str, password_mark: &str, at: i64) -> Result<bool, StoreError>;
    /// Notes that the sign-in's session was used at `now_epoch`, from `address` if known.
    async fn touch_console_sign_in(&self, id: &str, now_epoch: i64, address: Option<&str>) -> Result<(), StoreError>;
    /// An administrator's sign-ins made with the password of `password_mark`, signed in since
    /// `signed_in_since` and used since `seen_since` (epoch seconds), the most recently used
    /// first, at most `limit`.
    async fn console_sign_ins(
        &self,
        administrator_id: &str,
        password_mark: &str,
        signed_in_since: i64,
        seen_since: i64,
        limit: u32,
    ) -> Result<Vec<ConsoleSignIn>, StoreError>;
    /// How many of the administrator's sign-ins [`console_sign_ins`](Self::console_sign_ins) would
    /// list, without a limit.
    async fn count_console_sign_ins(
        &self,
        administrator_id: &str,
        password_mark: &str,
        signed_in_since: i64,
        seen_since: i64,
    ) -> Result<u64, StoreError>;
    /// Ends the administrator's sign-in `id`; false if they have none by that id.
    async fn end_console_sign_in(&self, administrator_id: &str, id: &str) -> Result<bool, StoreError>;
    /// Ends every sign-in of the administrator but `except`; returns how many.
    async fn end_console_sign_ins(&self, administrator_id: &str, except: Option<&str>) -> Result<u64, StoreError>;
    /// Forgets at most `batch` sign-ins made before `signed_in_before` or unused since
    /// `seen_before` (their sessions have ended by then), the earliest first; returns how many.
    async fn purge_console_sign_ins(&self, signed_in_before: i64, seen_before: i64, batch: u64) -> Result<u64, StoreError>;
    /// Inserts a session; [`StoreError::Conflict`] if the id is taken.
    async fn insert_session(&self, id: &str, data: &Value, expires_at: i64) -> Result<(), StoreError>;
    /// Updates a session that still exists. One deleted meanwhile stays deleted: a request
    /// that loaded a session before its administrator signed out does not bring it back.
    async fn update_session(&self, id: &str, data: &Value, expires_at: i64) -> Result<(), StoreError>;
    /// The session's data, if it exists and has not expired at `now_epoch`.
    async fn load_session(&self, id: &str, now_epoch: i64) -> Result<Option<(Value, i64)>, StoreError>;
    async fn delete_session(&self, id: &str) -> Result<(), StoreError>;
    /// Deletes at most `batch` sessions expired at `now_epoch`, the earliest first (a caller
    /// repeats while a batch comes back full, so each statement stays short); returns how many.
    async fn purge_expired_sessions(&self, now_epoch: i64, batch: u64) -> Result<u64, StoreError>;
}

/// Opens the store a database URL names: `sqlite:` (file created if missing, WAL mode) or
/// `postgres://`.
pub async fn connect(database_url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        let options = sqlx::postgres::PgConnectOptions::from_str(database_url)?;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        Ok(Arc::new(PostgresStore::new(pool)))
    } else if database_url.starts_with("sqlite:") {
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(database_url)?
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            // FULL: a registration that got its 201 survives a power loss, not just a crash.
            .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(8)
            // A connection is a file handle in this process: it cannot go stale, so the ping
            // sqlx sends before lending it out is a wasted round trip to its thread.
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        Ok(Arc::new(SqliteStore::new(pool)))
    } else {
        Err(StoreError::UnsupportedUrl)
    }
}

#[cfg(test)]
mod contract_tests;
