//! The workspace's authorization server metadata (RFC 8414 §2), with the fields the OBUK
//! conformance tool reads (OBUK-DCR.md §6.3): at `GET /{tenant}/{workspace}/.well-known/
//! openid-configuration` (OpenID Connect Discovery 1.0 §4, where FAPI clients look) and at
//! `GET /.well-known/oauth-authorization-server/{tenant}/{workspace}` (RFC 8414 §3.1).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::error::WireError;
use super::extract::WorkspacePath;
use crate::oauth2::jose::JwsAlgorithm;
use crate::state::ServerState;

pub async fn get(State(state): State<ServerState>, WorkspacePath(at): WorkspacePath) -> Result<Json<Value>, WireError> {
    let workspace =
        state.app.store.workspace(&at).await.map_err(WireError::internal)?.ok_or_else(|| WireError::not_found("workspace"))?;
    let urls = state.app.deployment.urls(&at, workspace.profile);
    let settings = &workspace.settings;
    // PS256 first: the conformance tool signs with the first one listed.
    let algorithms: Vec<&str> = JwsAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
    let mut document = json!({
        "issuer": urls.issuer,
        "token_endpoint": urls.token,
        "jwks_uri": urls.jwks,
        "introspection_endpoint": urls.introspection,
        "revocation_endpoint": urls.revocation,
        "token_endpoint_auth_methods_supported": settings.token_endpoint_auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": algorithms,
        // Introspection and revocation authenticate clients as the token endpoint does; left
        // out, RFC 8414 §2 would have clients assume client_secret_basic.
        "introspection_endpoint_auth_methods_supported": settings.token_endpoint_auth_methods,
        "introspection_endpoint_auth_signing_alg_values_supported": algorithms,
        "revocation_endpoint_auth_methods_supported": settings.token_endpoint_auth_methods,
        "revocation_endpoint_auth_signing_alg_values_supported": algorithms,
        "subject_types_supported": ["public"],
        "request_object_signing_alg_values_supported": algorithms,
        "id_token_signing_alg_values_supported": algorithms,
        "response_types_supported": ["code", "code id_token"],
        "grant_types_supported": settings.grant_types,
        "scopes_supported": settings.scopes,
        "tls_client_certificate_bound_access_tokens": true,
    });
    let mut aliases = json!({
        "token_endpoint": urls.token,
        "introspection_endpoint": urls.introspection,
        "revocation_endpoint": urls.revocation,
    });
    // An endpoint that is switched off is not advertised (DESIGN.md, DCR settings).
    if workspace.dcr.enabled {
        document["registration_endpoint"] = json!(urls.registration);
        aliases["registration_endpoint"] = json!(urls.registration);
    }
    document["mtls_endpoint_aliases"] = aliases;
    Ok(Json(document))
}
