//! Whether a new registration may start at all: DCR switched on and, where the workspace asks
//! for one, a valid `dcr_register` access token.

use chrono::{DateTime, Utc};

use app::domain::workspace::Workspace;
use app::storage::StoreError;

use super::super::token;
use super::{DCR_REGISTER_SCOPE, Failure, Incoming, TokenProblem};
use crate::oauth2::bearer::bearer_token;
use crate::oauth2::token::certificate_thumbprint;
use crate::state::ServerState;

/// New registrations need DCR switched on and, where the workspace protects registration with
/// a token, a `dcr_register` access token issued by `client_credentials` to one of its manually
/// created clients, presented with the certificate it is bound to. Returns the token's jti, to
/// be consumed with the registration.
pub(super) async fn admit(
    state: &ServerState,
    workspace: &Workspace,
    incoming: &Incoming,
    now: DateTime<Utc>,
) -> Result<Option<String>, Failure> {
    if !workspace.dcr.enabled {
        return Err(Failure::Disabled);
    }
    if !workspace.dcr.protect_by_access_token {
        return Ok(None);
    }
    let internal = |e: StoreError| Failure::Internal(e.to_string());
    let token = bearer_token(incoming.authorization.as_deref()).ok_or(Failure::Token(TokenProblem::Missing))?;
    let invalid = Failure::Token(TokenProblem::Invalid);
    let record = token::presented_access_token(state, token).await.map_err(internal)?.ok_or(invalid)?;
    let presented =
        incoming.connection.client_chain.as_ref().and_then(|chain| chain.first()).map(|der| certificate_thumbprint(der));
    let bound_ok = record.certificate_thumbprint.as_ref().is_none_or(|bound| presented.as_ref() == Some(bound));
    if record.workspace != workspace.reference() || !record.is_active(now) || !bound_ok {
        return Err(Failure::Token(TokenProblem::Invalid));
    }
    let issuer = state.app.store.client(&workspace.reference(), &record.client_id).await.map_err(internal)?;
    if issuer.is_none_or(|client| client.summary.dynamically_registered) {
        return Err(Failure::Token(TokenProblem::Invalid));
    }
    if !record.has_scope(DCR_REGISTER_SCOPE) {
        return Err(Failure::Token(TokenProblem::InsufficientScope));
    }
    Ok(Some(record.jti))
}
