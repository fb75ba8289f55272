//! The one application state: handed to axum handlers and, through Leptos context, to server
//! functions. Nothing reads global state or the environment after startup.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::clock::Clock;
use crate::crl_client::CrlClient;
use crate::domain::ids::WorkspaceRef;
use crate::domain::urls::WorkspaceUrls;
use crate::domain::workspace::Profile;
use crate::jwks_client::JwksClient;
use crate::policy::{PolicyCache, RegoSandbox};
use crate::services::dry_run::RegistrationDryRun;
use crate::services::sandbox_tpps::SandboxTppMaker;
use crate::services::sign_in_rate::SignInRate;
use crate::services::signing_keys::SigningKeyFactory;
use crate::storage::Store;

/// Facts about this deployment that shape URLs and policies.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// Base of every issuer and endpoint URL, e.g. `https://localhost:8443`.
    pub public_url: String,
    /// Lets JWKS URIs use plain http to loopback hosts (tests and local sandboxes).
    pub allow_insecure_jwks_uris: bool,
    /// Host names besides the public URL's that browsers reach the console under
    /// (`--console-hosts`), lower-cased.
    pub console_hosts: Vec<String>,
    /// How long a console session lasts unused (`--console-idle-minutes`).
    pub console_idle: chrono::Duration,
    /// Whether every administrator must sign in in two steps (`--console-require-two-step`).
    pub console_two_step_required: bool,
    /// How long a password proven in a console session lets it make sensitive changes before
    /// it is asked for again (`--console-confirm-minutes`).
    pub console_confirm: chrono::Duration,
}

impl Deployment {
    pub fn urls(&self, workspace: &WorkspaceRef, profile: Profile) -> WorkspaceUrls {
        WorkspaceUrls::new(&self.public_url, workspace, profile)
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub jwks: Arc<JwksClient>,
    /// The revocation lists of trusted client CAs (`client_crl_uris`).
    pub crls: Arc<CrlClient>,
    pub deployment: Arc<Deployment>,
    /// What `/metrics` reports.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Makes workspace signing keys (the cryptography lives in the server).
    pub signing_key_factory: Arc<dyn SigningKeyFactory>,
    /// DCR policies, compiled once per version.
    pub policies: Arc<PolicyCache>,
    /// The processes Rego policies run in.
    pub rego: Arc<RegoSandbox>,
    /// Runs the registration pipeline without writing (the pipeline lives in the server).
    pub dry_run: Arc<dyn RegistrationDryRun>,
    /// Makes and registers the console's sandbox TPPs (keys and pipeline live in the server).
    pub sandbox_tpps: Arc<dyn SandboxTppMaker>,
    /// Seals what the console's services store and must read back (two-step secrets).
    pub sealer: Arc<dyn crate::sealing::Sealer>,
    /// How often each caller may try to sign in to the console.
    pub sign_in_rate: Arc<SignInRate>,
    pub leptos_options: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
