//! Token introspection (RFC 7662): what an access token is, for an authenticated client. A
//! client may introspect its own tokens; a client an administrator created as a resource
//! server (`may_introspect`, RFC 7662 §4) may introspect any token of the workspace. Anything
//! else is inactive. A dynamically registered client never sees another's tokens, whatever
//! its registration carried.

use serde_json::{Value, json};

use app::domain::client::introspects_every_token;
use app::domain::workspace::Workspace;

use super::rate_limits::Rule;
use super::token::{TokenFailure, authenticate, internal, presented_access_token, throttled};
use crate::listener::Connection;
use crate::oauth2::token::TokenReference;
use crate::state::ServerState;

pub async fn introspect(
    state: &ServerState,
    workspace: &Workspace,
    form: &[u8],
    authorization: Option<&str>,
    connection: &Connection,
) -> Result<Value, TokenFailure> {
    let address = connection.remote_addr.map(|a| a.ip());
    let limits = &state.protocol.rate_limits;
    limits.check_address(workspace, Rule::IntrospectionRequestsPerIp, address).map_err(throttled(workspace))?;
    let request = TokenReference::parse(form, authorization)?;
    let caller = authenticate(state, workspace, &request.credentials, connection).await?;
    let record = presented_access_token(state, request.token.expose()).await.map_err(internal)?;
    let now = state.app.clock.now();
    let every_token = introspects_every_token(caller.dynamically_registered, caller.client.may_introspect);
    let visible = |client_id: &str| every_token || client_id == caller.client.client_id;
    let Some(record) = record.filter(|r| r.workspace == workspace.reference() && r.is_active(now) && visible(&r.client_id))
    else {
        return Ok(json!({ "active": false }));
    };
    let issuer = state.app.deployment.urls(&workspace.reference(), workspace.profile).issuer;
    let mut response = json!({
        "active": true,
        "scope": record.scope,
        "client_id": record.client_id,
        "token_type": "Bearer",
        "exp": record.expires_at,
        "iat": record.issued_at.timestamp(),
        "sub": record.client_id,
        "aud": issuer,
        "iss": issuer,
        "jti": record.jti,
    });
    if let Some(thumbprint) = record.certificate_thumbprint {
        response["cnf"] = json!({ "x5t#S256": thumbprint });
    }
    Ok(response)
}
