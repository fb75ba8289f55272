//! Token revocation (RFC 7009): a client ends one of its own access tokens at once. Unknown
//! tokens are not an error (§2.2); another client's token is refused (§2.1).

use app::domain::workspace::Workspace;

use super::rate_limits::Rule;
use super::token::{TokenFailure, authenticate, internal, presented_access_token, throttled};
use crate::listener::Connection;
use crate::oauth2::token::{TokenError, TokenReference};
use crate::state::ServerState;

pub async fn revoke(
    state: &ServerState,
    workspace: &Workspace,
    form: &[u8],
    authorization: Option<&str>,
    connection: &Connection,
) -> Result<(), TokenFailure> {
    let address = connection.remote_addr.map(|a| a.ip());
    let limits = &state.protocol.rate_limits;
    limits.check_address(workspace, Rule::IntrospectionRequestsPerIp, address).map_err(throttled(workspace))?;
    let request = TokenReference::parse(form, authorization)?;
    let caller = authenticate(state, workspace, &request.credentials, connection).await?;
    let Some(record) = presented_access_token(state, request.token.expose()).await.map_err(internal)? else {
        return Ok(());
    };
    if record.workspace != workspace.reference() {
        return Ok(());
    }
    if record.client_id != caller.client.client_id {
        return Err(TokenError::UnauthorizedClient("the token was issued to another client".to_owned()).into());
    }
    if state.app.store.revoke_access_token(&record.jti, state.app.clock.now()).await.map_err(internal)? {
        tracing::info!(workspace = %workspace.reference(), client_id = %record.client_id, jti = %record.jti, "access token revoked");
    }
    Ok(())
}
