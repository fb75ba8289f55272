//! The check of a connection's client certificate against its workspace's trusted CAs and
//! revocation lists, made the same way by registration, management and the token endpoint.

use chrono::{DateTime, Utc};

use app::domain::workspace::Workspace;

use crate::listener::Connection;
use crate::oauth2::registration::ClientCertificateCheck;
use crate::state::ServerState;

/// The verdict on the connection's certificate chain. The workspace's revocation lists are
/// fetched (or taken from those kept) only when a certificate was presented.
pub async fn check(
    state: &ServerState,
    workspace: &Workspace,
    connection: &Connection,
    now: DateTime<Utc>,
) -> ClientCertificateCheck {
    let chain = connection.client_chain.as_deref().filter(|chain| !chain.is_empty());
    let trusted = workspace.settings.trusted_client_ca_pem.as_deref();
    let revocation = match chain {
        Some(_) => state.app.crls.lists(&workspace.settings.client_crl_uris, trusted).await,
        None => Ok(Vec::new()),
    };
    state.protocol.client_trust.check(chain, trusted, &revocation, now)
}
