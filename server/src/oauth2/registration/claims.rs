//! The claims of a registration request as sent (OBUK DCR v3.2 data dictionary, RFC 7591 §2),
//! before validation. Unknown claims are ignored, as the specification allows.

use serde::Deserialize;
use serde_json::Value;

/// `aud`: one string or several (RFC 7519 §4.1.3).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub(super) fn values(&self) -> Vec<&str> {
        match self {
            Self::One(one) => vec![one.as_str()],
            Self::Many(many) => many.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct RequestClaims {
    pub iss: Option<String>,
    pub iat: Option<i64>,
    pub exp: Option<i64>,
    pub nbf: Option<i64>,
    pub aud: Option<Audience>,
    pub jti: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub software_id: Option<String>,
    pub scope: Option<String>,
    pub application_type: Option<String>,
    pub id_token_signed_response_alg: Option<String>,
    pub request_object_signing_alg: Option<String>,
    pub token_endpoint_auth_signing_alg: Option<String>,
    pub tls_client_auth_subject_dn: Option<String>,
    pub client_name: Option<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub contacts: Option<Vec<String>>,
    pub jwks_uri: Option<String>,
    pub jwks: Option<Value>,
    pub tls_client_certificate_bound_access_tokens: Option<bool>,
}
