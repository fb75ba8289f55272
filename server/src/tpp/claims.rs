//! The claims a directory signs into a software statement and a TPP into its registration
//! request, shaped as the OBUK DCR v3.2 conformance tool sends them.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use app::domain::sandbox::SoftwareDetails;

/// How long a registration request is valid for.
const REQUEST_LIFETIME_SECONDS: i64 = 300;

/// A software statement's claims for `software`, issued by `issuer` now; without a
/// `jwks_endpoint`, registration requests must be verified with keys the workspace holds.
pub fn software_statement(software: &SoftwareDetails, issuer: &str, jwks_endpoint: Option<&str>, now: DateTime<Utc>) -> Value {
    let mut claims = json!({
        "iss": issuer,
        "iat": now.timestamp(),
        "jti": uuid::Uuid::new_v4().to_string(),
        "software_environment": "sandbox",
        "software_mode": "Test",
        "software_id": software.software_id,
        "software_client_id": software.software_id,
        "software_client_name": software.client_name,
        "software_redirect_uris": software.redirect_uris,
        "software_roles": software.roles,
        "organisation_competent_authority_claims": {
            "authority_id": "OBGBR",
            "registration_id": format!("Sandbox{}", software.org_id),
            "status": "Active",
            "authorisations": [{"member_state": "GB", "roles": software.roles}]
        },
        "org_status": "Active",
        "org_id": software.org_id,
        "org_name": software.organisation_name(),
    });
    if let Some(endpoint) = jwks_endpoint {
        claims["software_jwks_endpoint"] = json!(endpoint);
    }
    claims
}

/// What a registration request asks for beyond the software statement.
#[derive(Debug, Clone)]
pub struct RegistrationAsk<'a> {
    /// The bank's organisation id or the workspace's issuer URL.
    pub audience: &'a str,
    /// `tls_client_auth` (with `subject_dn`) or `private_key_jwt`.
    pub token_endpoint_auth_method: &'a str,
    /// The transport certificate's subject, for `tls_client_auth`.
    pub subject_dn: &'a str,
    /// The request signing algorithm (`PS256` or `ES256`).
    pub algorithm: &'a str,
    pub scope: &'a str,
}

/// A registration request's claims for `software`, carrying `software_statement`.
pub fn registration_request(
    software: &SoftwareDetails,
    software_statement: &str,
    ask: &RegistrationAsk<'_>,
    now: DateTime<Utc>,
) -> Value {
    let mut claims = json!({
        "iss": software.software_id,
        "aud": ask.audience,
        "iat": now.timestamp(),
        "exp": now.timestamp() + REQUEST_LIFETIME_SECONDS,
        "jti": uuid::Uuid::new_v4().to_string(),
        "grant_types": ["authorization_code", "client_credentials", "refresh_token"],
        "application_type": "web",
        "redirect_uris": software.redirect_uris,
        "token_endpoint_auth_method": ask.token_endpoint_auth_method,
        "software_statement": software_statement,
        "scope": ask.scope,
        "request_object_signing_alg": ask.algorithm,
        "id_token_signed_response_alg": ask.algorithm,
        "response_types": ["code id_token"],
    });
    if ask.token_endpoint_auth_method == "tls_client_auth" {
        claims["tls_client_auth_subject_dn"] = json!(ask.subject_dn);
    } else {
        claims["token_endpoint_auth_signing_alg"] = json!(ask.algorithm);
    }
    claims
}

/// Replaces members of `claims` with those of `overrides`; a `null` removes the member. This is
/// how a TPP tries requests the defaults would not make (another `aud`, no `exp`, ...).
pub fn apply_overrides(claims: &mut Value, overrides: &serde_json::Map<String, Value>) {
    let Some(members) = claims.as_object_mut() else { return };
    for (name, value) in overrides {
        if value.is_null() {
            members.remove(name);
        } else {
            members.insert(name.clone(), value.clone());
        }
    }
}

/// The scopes the roles grant (AISP: accounts, PISP: payments, CBPII: fundsconfirmations),
/// with `openid`.
pub fn scope_for_roles(roles: &[String]) -> String {
    let mut scopes = vec!["openid"];
    for role in roles {
        match role.as_str() {
            "AISP" => scopes.push("accounts"),
            "PISP" => scopes.push("payments"),
            "CBPII" => scopes.push("fundsconfirmations"),
            _ => {}
        }
    }
    scopes.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_and_remove_members() {
        let mut claims = json!({"aud": "bank", "exp": 1, "scope": "openid"});
        let overrides = json!({"aud": "other", "exp": null, "extra": true});
        apply_overrides(&mut claims, overrides.as_object().unwrap_or_else(|| unreachable!()));
        assert_eq!(claims, json!({"aud": "other", "scope": "openid", "extra": true}));
    }

    #[test]
    fn scopes_follow_roles() {
        assert_eq!(scope_for_roles(&["AISP".to_owned(), "PISP".to_owned()]), "openid accounts payments");
    }
}
