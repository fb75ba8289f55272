//! Resolving the keys a registration is verified with: inline key sets as configured, or key
//! sets fetched (and cached) from JWKS URIs.

use std::sync::Arc;

use app::domain::dcr::{DcrSettings, KeySource};
use app::domain::jwks::PublicJwks;
use app::jwks_client::{JwksClient, JwksFetchError};

use super::registration::Failure;
use crate::oauth2::registration::{RegistrationError, RequestKeySource};

/// The directory keys that verify software statements.
pub async fn software_statement_keys(
    jwks: &JwksClient,
    dcr: &DcrSettings,
    kid: Option<&str>,
) -> Result<Arc<PublicJwks>, Failure> {
    match &dcr.software_statement_keys {
        Some(KeySource::Jwks(keys)) => Ok(Arc::new(keys.clone())),
        Some(KeySource::JwksUri(uri)) => jwks.get(uri, kid).await.map_err(|error| unavailable("software statement", &error)),
        None => Err(Failure::Rejected(RegistrationError::SoftwareStatementSignatureInvalid(
            "this workspace has no software statement keys configured".to_owned(),
        ))),
    }
}

/// The keys that verify the request's own signature.
pub async fn request_keys(jwks: &JwksClient, source: RequestKeySource, kid: Option<&str>) -> Result<Arc<PublicJwks>, Failure> {
    match source {
        RequestKeySource::Keys(keys) => Ok(Arc::new(keys)),
        RequestKeySource::ConfiguredUri(uri) => jwks.get(&uri, kid).await.map_err(|error| unavailable("request signing", &error)),
        RequestKeySource::SoftwareStatementUri(uri) => jwks.get(&uri, kid).await.map_err(|error| {
            Failure::Rejected(match error {
                JwksFetchError::NotAllowed { .. } => RegistrationError::SoftwareJwksEndpointInvalid(uri.to_string()),
                other => RegistrationError::RequestKeysUnavailable(other.to_string()),
            })
        }),
    }
}

/// Keys the workspace itself depends on are unreachable: the operator gets the detail in the
/// log, the TPP a generic answer that does not reveal the workspace's configuration.
fn unavailable(which: &str, error: &JwksFetchError) -> Failure {
    tracing::warn!(%error, "the workspace's {which} keys could not be fetched");
    Failure::Unavailable(format!("the workspace's {which} keys are unavailable; try again later"))
}
