//! Resolving the keys a registration is verified with: inline key sets as configured, or key
//! sets fetched (and cached) from JWKS URIs.

use std::sync::Arc;

use app::domain::dcr::KeySource;
use app::domain::jwks::PublicJwks;
use app::domain::sandbox::SANDBOX_ISSUER;
use app::domain::workspace::Workspace;
use app::jwks_client::JwksFetchError;
use app::services::ServiceError;

use super::registration::Failure;
use super::sandbox;
use crate::oauth2::registration::{RegistrationError, RequestKeySource};
use crate::state::ServerState;

/// The keys that verify a software statement from `issuer`, and only that issuer's: the
/// sandbox directory's when the workspace trusts it and the statement claims to be its, else
/// the keys configured for that issuer. One directory's keys never verify another's statement.
pub async fn software_statement_keys(
    state: &ServerState,
    workspace: &Workspace,
    issuer: &str,
    kid: Option<&str>,
) -> Result<Arc<PublicJwks>, Failure> {
    if issuer == SANDBOX_ISSUER {
        // Only the directory's own keys, whatever settings saved before the rule against it
        // may list under its name.
        return match sandbox::statement_keys(state, workspace, issuer).await.map_err(|e| Failure::Internal(e.to_string()))? {
            Some(keys) => Ok(keys),
            None => Err(Failure::Rejected(RegistrationError::SoftwareStatementIssuerNotTrusted(issuer.to_owned()))),
        };
    }
    match workspace.dcr.software_statement_issuer(issuer).and_then(|trusted| trusted.keys.as_ref()) {
        Some(KeySource::Jwks(keys)) => Ok(Arc::new(keys.clone())),
        Some(KeySource::JwksUri(uri)) => {
            state.app.jwks.get(uri, kid).await.map_err(|error| unavailable("software statement", &error))
        }
        None => Err(Failure::Rejected(RegistrationError::SoftwareStatementSignatureInvalid(format!(
            "this workspace has no keys configured for the issuer '{issuer}'"
        )))),
    }
}

/// The keys that verify the request's own signature. A `software_jwks_endpoint` of the
/// trusted sandbox directory is read from the store, not fetched.
pub async fn request_keys(
    state: &ServerState,
    workspace: &Workspace,
    source: RequestKeySource,
    kid: Option<&str>,
) -> Result<Arc<PublicJwks>, Failure> {
    let jwks = &state.app.jwks;
    match source {
        RequestKeySource::Keys(keys) => Ok(Arc::new(keys)),
        RequestKeySource::ConfiguredUri(uri) => jwks.get(&uri, kid).await.map_err(|error| unavailable("request signing", &error)),
        RequestKeySource::SoftwareStatementUri(uri) => {
            match sandbox::local_software_jwks(state, workspace, &uri.to_string()).await {
                Ok(Some(keys)) => return Ok(keys),
                Ok(None) => {}
                Err(missing @ ServiceError::NotFound(_)) => {
                    return Err(Failure::Rejected(RegistrationError::RequestKeysUnavailable(missing.to_string())));
                }
                // The store failed, not the TPP: a 500 whose detail goes to the log only.
                Err(error) => return Err(Failure::Internal(error.to_string())),
            }
            jwks.get(&uri, kid).await.map_err(|error| {
                Failure::Rejected(match error {
                    JwksFetchError::NotAllowed { .. } => RegistrationError::SoftwareJwksEndpointInvalid(uri.to_string()),
                    other => RegistrationError::RequestKeysUnavailable(other.to_string()),
                })
            })
        }
    }
}

/// Keys the workspace itself depends on are unreachable: the operator gets the detail in the
/// log, the TPP a generic answer that does not reveal the workspace's configuration.
fn unavailable(which: &str, error: &JwksFetchError) -> Failure {
    tracing::warn!(%error, "the workspace's {which} keys could not be fetched");
    Failure::Unavailable(format!("the workspace's {which} keys are unavailable; try again later"))
}
