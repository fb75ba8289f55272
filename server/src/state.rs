//! The protocol server's state: the application state shared with the console, plus what only
//! the protocol endpoints need.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use app::state::AppState;

use crate::sealing::KeyEncryptionKey;
use crate::services::rate_limits::RateLimiters;
use crate::tls::client_trust::ClientTrust;
use crate::workspace_keys::TokenSigners;

/// Cloned for every request (axum hands each handler and middleware its own copy), so it is one
/// shared pointer to [`ServerParts`].
#[derive(Clone)]
pub struct ServerState(Arc<ServerParts>);

pub struct ServerParts {
    pub app: AppState,
    pub protocol: ProtocolParts,
}

/// What only the protocol endpoints need besides the application state; the console's
/// services that run the protocol (dry run, sandbox TPPs) hold a copy.
#[derive(Clone)]
pub struct ProtocolParts {
    pub client_trust: Arc<ClientTrust>,
    pub token_signers: Arc<TokenSigners>,
    pub rate_limits: Arc<RateLimiters>,
    /// Seals the private keys the sandbox directory and sandbox TPPs keep in the database.
    pub kek: Arc<KeyEncryptionKey>,
    /// What non-loopback callers of `/metrics` must present (`--metrics-token`), hashed.
    pub metrics_token: Option<Arc<app::secrets::SecretHash>>,
}

impl ServerState {
    pub fn new(app: AppState, protocol: ProtocolParts) -> Self {
        Self(Arc::new(ServerParts { app, protocol }))
    }
}

impl std::ops::Deref for ServerState {
    type Target = ServerParts;

    fn deref(&self) -> &ServerParts {
        &self.0
    }
}

impl FromRef<ServerState> for AppState {
    fn from_ref(state: &ServerState) -> Self {
        state.app.clone()
    }
}

impl FromRef<ServerState> for LeptosOptions {
    fn from_ref(state: &ServerState) -> Self {
        state.app.leptos_options.clone()
    }
}
