//! The protocol server's state: the application state shared with the console, plus what only
//! the protocol endpoints need.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use app::state::AppState;

use crate::tls::client_trust::ClientTrust;

#[derive(Clone)]
pub struct ServerState {
    pub app: AppState,
    pub client_trust: Arc<ClientTrust>,
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
