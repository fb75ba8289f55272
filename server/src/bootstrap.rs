//! What a start sets up and checks: tenant `default` with the Open Banking UK workspace `obuk`
//! (DCR off), the admin API key, the first console administrator, and private keys sealed
//! under this server's key encryption key; and, when asked, a `sandbox` workspace that trusts
//! the tenant's sandbox directory.

use std::path::Path;

use anyhow::{Context as _, bail};

use app::domain::activity::{Actor, AdministratorEventType, SERVER_START_ACTOR};
use app::domain::dcr::DcrSettings;
use app::domain::ids::WorkspaceRef;
use app::domain::ids::{TenantId, WorkspaceId};
use app::domain::workspace::{NewWorkspace, Profile};
use app::secrets::Secret;
use app::services::{ServiceError, accounts, dcr_settings, workspaces};
use app::state::AppState;
use app::storage::PrivateKeySlot;
use app::storage::Store;

/// The audit log's actor for what Onboard sets up on its own at start (`--sandbox-workspace`).
const BOOTSTRAP_ACTOR: &str = "onboard at start";

use crate::sealing::{self, KeyEncryptionKey};

pub const DEFAULT_TENANT: &str = "default";
pub const DEFAULT_WORKSPACE: &str = "obuk";
pub const SANDBOX_WORKSPACE: &str = "sandbox";
pub const ADMIN_API_KEY_FILE: &str = "admin-api-key";
pub const CONSOLE_ADMIN_FILE: &str = "console-admin";
pub const KEY_ENCRYPTION_KEY_FILE: &str = "key-encryption-key";
pub const FIRST_ADMIN_EMAIL: &str = "admin@onboard.localhost";
/// The fewest characters of a bearer secret an operator chooses (the admin API key, the
/// metrics token): long enough that guessing it is hopeless.
pub const MIN_OPERATOR_SECRET_LEN: usize = 32;

/// Checks that `kek` opens every stored private key, and seals any stored before keys were
/// sealed. Refuses to start with a different KEK than the database's, rather than fail on the
/// first token.
pub async fn seal_private_keys(store: &dyn Store, kek: &KeyEncryptionKey) -> anyhow::Result<()> {
    let sealed = seal_under(store, kek, None).await?;
    if sealed > 0 {
        tracing::info!(keys = sealed, kek = kek.id(), "sealed private keys stored in plaintext by an earlier version");
    }
    Ok(())
}

/// Seals every stored private key under `target`: those in plaintext, and those sealed under
/// `previous` (the KEK being replaced); those already under `target` stay as they are, so an
/// interrupted run can be repeated. A key sealed under any other KEK stops it. Returns how
/// many keys it sealed.
pub async fn seal_under(
    store: &dyn Store,
    target: &KeyEncryptionKey,
    previous: Option<&KeyEncryptionKey>,
) -> anyhow::Result<usize> {
    let mut sealed = 0;
    for (slot, stored) in store.stored_private_keys().await? {
        let context = slot.sealing_context();
        let plaintext = match sealing::sealed_with(&stored) {
            Some(id) if id == target.id() => continue,
            // No version stored these unsealed: one in plaintext was written by hand, and
            // sealing it would make a secret someone chose a valid one.
            None if matches!(slot, PrivateKeySlot::AdministratorTwoStepSecret { .. }) => bail!(
                "{slot:?} is stored unsealed, which Onboard never does: turn that administrator's two-step sign-in \
                 off with onboard admin reset-two-step"
            ),
            None => stored,
            Some(id) => match previous {
                Some(previous) if id == previous.id() => {
                    previous.open(&stored, &context).map_err(|e| anyhow::anyhow!("opening {slot:?}: it {e}"))?
                }
                _ => bail!(
                    "the private keys in the database are sealed with key encryption key {id}, and this server has {}: \
                     give every server sharing the database the same --key-encryption-key-file",
                    target.id()
                ),
            },
        };
        let resealed = target.seal(&plaintext, &context).map_err(|e| anyhow::anyhow!("sealing {slot:?}: {e}"))?;
        store.replace_private_key(&slot, &resealed).await?;
        sealed += 1;
    }
    Ok(sealed)
}

/// Creates the default tenant and workspace unless they exist.
pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    let tenant = TenantId::parse(DEFAULT_TENANT)?;
    state.store.ensure_tenant(&tenant, "Default", state.clock.now()).await?;
    let workspace = WorkspaceId::parse(DEFAULT_WORKSPACE)?;
    workspaces::ensure_workspace(state, &tenant, &workspace, "Open Banking UK", Profile::OpenbankingUk)
        .await
        .context("creating the default workspace")?;
    Ok(())
}

/// Creates the `sandbox` workspace of tenant `default` unless it exists: OBUK DCR switched on,
/// with a software statement, a signed request and mutual TLS required, and the sandbox
/// directory trusted, so TPPs enrolled there register at once. Settings an administrator has
/// changed since are left alone.
pub async fn sandbox_workspace(state: &AppState) -> anyhow::Result<()> {
    let at = WorkspaceRef { tenant: TenantId::parse(DEFAULT_TENANT)?, workspace: WorkspaceId::parse(SANDBOX_WORKSPACE)? };
    let new = NewWorkspace { id: at.workspace.clone(), name: "Sandbox".to_owned(), profile: Profile::OpenbankingUk };
    match workspaces::create_workspace(state, &at.tenant, new, &Actor::Named(SERVER_START_ACTOR)).await {
        Ok(_) => {}
        Err(ServiceError::Conflict(_)) => return Ok(()),
        Err(other) => return Err(other).context("creating the sandbox workspace"),
    }
    let settings =
        DcrSettings { enabled: true, trust_sandbox_directory: true, ..DcrSettings::defaults_for(Profile::OpenbankingUk) };
    dcr_settings::update_dcr_settings(state, &at, settings, BOOTSTRAP_ACTOR)
        .await
        .context("configuring the sandbox workspace")?;
    tracing::info!(workspace = %at, "created the sandbox workspace, which trusts the sandbox directory");
    Ok(())
}

/// Creates the console administrator named on the command line, unless it exists.
pub async fn administrator(state: &AppState, email: Option<&str>, password: Option<&str>) -> anyhow::Result<()> {
    if let (Some(email), Some(password)) = (email, password) {
        accounts::ensure_administrator(state, email, password).await.context("creating the console administrator")?;
    }
    Ok(())
}

/// On a server's first start with no administrator at all, creates [`FIRST_ADMIN_EMAIL`] with a
/// generated password and writes both (owner-readable only) to `<data-dir>/console-admin`, so
/// the console of a fresh `make run` can be signed in to.
pub async fn first_administrator(state: &AppState, data_dir: &Path) -> anyhow::Result<()> {
    if state.store.admin_user_count().await? > 0 {
        return Ok(());
    }
    // The password is written down before the account exists, so it cannot be lost.
    let password = Secret::generate();
    let path = data_dir.join(CONSOLE_ADMIN_FILE);
    let contents = format!("email: {FIRST_ADMIN_EMAIL}\npassword: {}\n", password.expose());
    crate::tls::dev_certificates::write(&path, &contents, true)?;
    match accounts::create_administrator(
        state.store.as_ref(),
        state.clock.as_ref(),
        SERVER_START_ACTOR,
        FIRST_ADMIN_EMAIL,
        password.expose(),
    )
    .await
    {
        Ok(_) => {}
        // Another instance sharing the database won the race; its file has the password.
        Err(ServiceError::Conflict(_)) => {
            let _ = std::fs::remove_file(&path);
            return Ok(());
        }
        Err(other) => {
            let _ = std::fs::remove_file(&path);
            return Err(other).context("creating the first console administrator");
        }
    }
    tracing::info!(path = %path.display(), email = FIRST_ADMIN_EMAIL, "created the first console administrator");
    Ok(())
}

/// Makes `given` the admin API key; without one, keeps the stored key, or on first start
/// generates one and writes it (owner-readable only) to `<data-dir>/admin-api-key`.
pub async fn admin_api_key(state: &AppState, given: Option<&str>, data_dir: &Path) -> anyhow::Result<()> {
    let now = state.clock.now();
    let held = state.store.admin_api_key_hashes().await?;
    if let Some(key) = given {
        if key.len() < MIN_OPERATOR_SECRET_LEN {
            bail!("--admin-api-key must be at least {MIN_OPERATOR_SECRET_LEN} characters");
        }
        let hash = Secret::from_given(key.to_owned()).hash();
        if held.iter().any(|held| held == hash.as_str()) {
            return Ok(());
        }
        state.store.replace_admin_api_key(hash.as_str(), now).await?;
        admin_api_key_changed(state, "set from --admin-api-key").await;
        return Ok(());
    }
    if !held.is_empty() {
        return Ok(());
    }
    let key = Secret::generate();
    let path = data_dir.join(ADMIN_API_KEY_FILE);
    crate::tls::dev_certificates::write(&path, &format!("{}\n", key.expose()), true)?;
    state.store.replace_admin_api_key(key.hash().as_str(), now).await?;
    tracing::info!(path = %path.display(), "generated an admin API key");
    admin_api_key_changed(state, &format!("generated into {}", path.display())).await;
    Ok(())
}

/// Records in the administrators' activity that the admin API key is a new one.
async fn admin_api_key_changed(state: &AppState, how: &str) {
    let event = Actor::Named(SERVER_START_ACTOR).did(AdministratorEventType::AdminApiKeyChanged, how, state.clock.now());
    app::services::activity::record(state.store.as_ref(), &event).await;
}
