//! Client authentication at the token endpoint: the method used must be the one registered,
//! and its proof must hold. `private_key_jwt` (OIDC Core §9, RFC 7523 §3), `tls_client_auth`
//! and `self_signed_tls_client_auth` (RFC 8705 §2); secrets are compared by the caller against
//! their stored hash.

use serde::Deserialize;
use serde_json::Value;

use app::domain::jwks::PublicJwks;
use app::domain::oauth::{GrantType, TokenEndpointAuthMethod};

use super::CLOCK_SKEW_SECONDS;
use super::jose::CompactJws;
use super::token::{PresentedCredentials, TokenError};
use app::domain::dn::DistinguishedName;

/// OBUK / FAPI: an assertion may be valid for at most 30 minutes; the conformance tool signs
/// `exp = iat + 1800` exactly.
pub const MAX_ASSERTION_LIFETIME_SECONDS: i64 = 1800;

/// What the token endpoint needs of a registered client, read from its stored registration.
#[derive(Debug, Clone, Deserialize)]
pub struct RegisteredClient {
    pub client_id: String,
    /// The software it was registered for, when a software statement or its metadata said.
    #[serde(default)]
    pub software_id: Option<String>,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    pub tls_client_auth_subject_dn: Option<String>,
    /// The algorithm its assertions must be signed with (OIDC Registration §2).
    pub token_endpoint_auth_signing_alg: Option<String>,
    pub jwks_uri: Option<String>,
    pub jwks: Option<Value>,
    #[serde(default)]
    pub grant_types: Vec<GrantType>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Its access tokens are bound to its certificate (RFC 8705 §3.4), as it registered.
    #[serde(default)]
    pub tls_client_certificate_bound_access_tokens: bool,
    /// For a client an administrator created: whether it may introspect any token of the
    /// workspace ([`app::domain::client::introspects_every_token`]).
    #[serde(default)]
    pub may_introspect: Option<bool>,
}

impl RegisteredClient {
    pub fn from_metadata(metadata: &Value) -> Result<Self, String> {
        serde_json::from_value(metadata.clone()).map_err(|e| format!("stored registration is unreadable: {e}"))
    }
}

/// The `client_id` a request names, before authentication: in the credentials, or (for an
/// assertion without a `client_id` parameter) the assertion's `iss`.
pub fn claimed_client_id(credentials: &PresentedCredentials) -> Result<String, TokenError> {
    match credentials {
        PresentedCredentials::Basic { client_id, .. }
        | PresentedCredentials::Post { client_id, .. }
        | PresentedCredentials::Certificate { client_id }
        | PresentedCredentials::Assertion { client_id: Some(client_id), .. } => Ok(client_id.clone()),
        PresentedCredentials::Assertion { assertion, client_id: None } => CompactJws::parse(assertion)
            .ok()
            .and_then(|jws| jws.unverified_claims().get("iss").and_then(Value::as_str).map(str::to_owned))
            .ok_or_else(|| TokenError::InvalidClient("the client assertion names no client (iss)".to_owned())),
    }
}

/// The method used must be the registered one (RFC 7591 §2).
pub fn check_method(credentials: &PresentedCredentials, registered: TokenEndpointAuthMethod) -> Result<(), TokenError> {
    use TokenEndpointAuthMethod as M;
    let matches = match credentials {
        PresentedCredentials::Basic { .. } => registered == M::ClientSecretBasic,
        PresentedCredentials::Post { .. } => registered == M::ClientSecretPost,
        PresentedCredentials::Assertion { .. } => registered == M::PrivateKeyJwt,
        PresentedCredentials::Certificate { .. } => matches!(registered, M::TlsClientAuth | M::SelfSignedTlsClientAuth),
    };
    if matches {
        Ok(())
    } else {
        Err(TokenError::InvalidClient(format!("the client must authenticate with {}", registered.as_str())))
    }
}

/// A verified assertion's `jti`, to record so it is never accepted again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionUse {
    pub jti: String,
    /// Epoch seconds until which a replay could still pass the `exp` check.
    pub keep_until: i64,
}

#[derive(Debug, Deserialize)]
struct AssertionClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Value>,
    exp: Option<i64>,
    iat: Option<i64>,
    nbf: Option<i64>,
    jti: Option<String>,
}

/// Checks a `private_key_jwt` assertion: signed with the registered algorithm by the client's
/// keys (by `kid`, or each key when there is none), `iss` = `sub` = the client, `aud` the token
/// endpoint or the issuer (one audience), within its `exp`, `nbf` and `iat`, at most 30 minutes long, with a
/// `jti`.
pub fn check_assertion(
    assertion: &str,
    keys: &PublicJwks,
    client: &RegisteredClient,
    audiences: &[&str],
    now: i64,
) -> Result<AssertionUse, TokenError> {
    let client_id = client.client_id.as_str();
    let invalid = |why: &str| TokenError::InvalidClient(format!("client assertion: {why}"));
    let jws = CompactJws::parse(assertion).map_err(|e| invalid(&format!("the JWT {e}")))?;
    if let Some(registered) = &client.token_endpoint_auth_signing_alg {
        let used = jws.algorithm().map_err(|e| invalid(&format!("the JWT {e}")))?;
        if used.as_str() != registered {
            return Err(invalid(&format!("it is signed with {used}; the client registered {registered}")));
        }
    }
    let claims = jws.verify(keys).map_err(|e| invalid(&format!("the JWT {e}")))?;
    let claims: AssertionClaims = serde_json::from_value(Value::Object(claims.clone())).map_err(|e| invalid(&e.to_string()))?;
    if claims.iss.as_deref() != Some(client_id) || claims.sub.as_deref() != Some(client_id) {
        return Err(invalid("iss and sub must both be the client_id"));
    }
    // One audience only (the OpenID Foundation's 2025 advisory on audience injection, and
    // RFC 7523's revision): an assertion naming several servers could be replayed at each.
    let audience = match &claims.aud {
        Some(Value::String(aud)) => Some(aud.as_str()),
        Some(Value::Array(list)) if list.len() == 1 => list[0].as_str(),
        _ => None,
    };
    if !audience.is_some_and(|aud| audiences.contains(&aud)) {
        return Err(invalid("aud must be the token endpoint or the issuer, and nothing else"));
    }
    let (now_wide, skew) = (i128::from(now), i128::from(CLOCK_SKEW_SECONDS));
    let exp = claims.exp.ok_or_else(|| invalid("exp is required"))?;
    if now_wide > i128::from(exp) + skew {
        return Err(invalid("it has expired"));
    }
    if claims.nbf.is_some_and(|nbf| i128::from(nbf) > now_wide + skew) {
        return Err(invalid("it is not valid yet (nbf)"));
    }
    let start = match claims.iat {
        Some(iat) if i128::from(iat) > now_wide + skew => return Err(invalid("iat is in the future")),
        Some(iat) => i128::from(iat),
        None => now_wide,
    };
    if i128::from(exp) - start > i128::from(MAX_ASSERTION_LIFETIME_SECONDS) {
        return Err(invalid("exp may be at most 30 minutes after iat"));
    }
    let jti = claims.jti.filter(|j| !j.is_empty() && j.len() <= 128).ok_or_else(|| invalid("jti is required"))?;
    Ok(AssertionUse { jti, keep_until: exp.saturating_add(CLOCK_SKEW_SECONDS) })
}

/// `tls_client_auth`: the certificate's subject is the registered DN.
pub fn check_subject_dn(registered: Option<&str>, subject: &DistinguishedName) -> Result<(), TokenError> {
    let registered =
        registered.ok_or_else(|| TokenError::InvalidClient("no tls_client_auth_subject_dn is registered".to_owned()))?;
    let registered = DistinguishedName::parse(registered)
        .map_err(|e| TokenError::InvalidClient(format!("the registered tls_client_auth_subject_dn {e}")))?;
    if &registered == subject {
        Ok(())
    } else {
        Err(TokenError::InvalidClient(
            "the client certificate's subject is not the registered tls_client_auth_subject_dn".to_owned(),
        ))
    }
}

/// `self_signed_tls_client_auth`: the certificate is one the client registered (`x5c[0]`).
pub fn check_self_signed(certificate_der: &[u8], keys: &PublicJwks) -> Result<(), TokenError> {
    if keys.keys().iter().any(|key| key.x5c.first().is_some_and(|der| der.as_slice() == certificate_der)) {
        Ok(())
    } else {
        Err(TokenError::InvalidClient("the client certificate is not among the client's registered certificates".to_owned()))
    }
}

/// The client registered the `client_credentials` grant and the workspace still offers it (RFC
/// 6749 §5.2 `unauthorized_client`).
pub fn check_grant(client: &RegisteredClient, offered: &[GrantType]) -> Result<(), TokenError> {
    if !client.grant_types.contains(&GrantType::ClientCredentials) {
        return Err(TokenError::UnauthorizedClient("this client is not registered for the client_credentials grant".to_owned()));
    }
    if !offered.contains(&GrantType::ClientCredentials) {
        return Err(TokenError::UnauthorizedClient("this workspace no longer offers the client_credentials grant".to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::oauth2::jose::tests::{ec_key, jwks_of, other_rsa_key, rsa_key};

    const NOW: i64 = 1_795_316_679;
    const TOKEN: &str = "https://as.example/default/obuk/oauth2/token";
    const ISSUER: &str = "https://as.example/default/obuk";

    fn assertion(change: impl FnOnce(&mut Value)) -> String {
        let mut claims = json!({"iss": "c1", "sub": "c1", "aud": TOKEN, "iat": NOW, "exp": NOW + 1800, "jti": "j1"});
        change(&mut claims);
        // The conformance tool signs without a kid.
        rsa_key().sign_with_header(&json!({"alg": "PS256", "typ": "JWT"}), &claims).unwrap_or_else(|e| panic!("{e}"))
    }

    fn client(alg: Option<&str>) -> RegisteredClient {
        RegisteredClient {
            client_id: "c1".to_owned(),
            software_id: None,
            token_endpoint_auth_method: TokenEndpointAuthMethod::PrivateKeyJwt,
            tls_client_auth_subject_dn: None,
            token_endpoint_auth_signing_alg: alg.map(str::to_owned),
            jwks_uri: None,
            jwks: None,
            grant_types: vec![GrantType::ClientCredentials],
            scopes: vec![],
            tls_client_certificate_bound_access_tokens: false,
            may_introspect: None,
        }
    }

    fn check(token: &str) -> Result<AssertionUse, TokenError> {
        check_assertion(token, &jwks_of(&[ec_key(), rsa_key()]), &client(Some("PS256")), &[TOKEN, ISSUER], NOW)
    }

    #[test]
    fn accepts_the_tools_assertion_and_the_issuer_as_audience() {
        assert_eq!(check(&assertion(|_| {})), Ok(AssertionUse { jti: "j1".into(), keep_until: NOW + 1800 + 60 }));
        assert!(check(&assertion(|c| c["aud"] = json!(ISSUER))).is_ok());
        assert!(check(&assertion(|c| c["aud"] = json!([ISSUER]))).is_ok());
        assert!(check(&assertion(|c| c["nbf"] = json!(NOW + 60))).is_ok());
        assert!(
            check(&assertion(|c| {
                c.as_object_mut().map(|m| m.remove("iat"));
            }))
            .is_ok()
        );
    }

    #[test]
    fn refuses_each_broken_assertion() {
        let cases: Vec<(&str, String)> = vec![
            (
                "wrong key",
                other_rsa_key()
                    .sign(&json!({"iss": "c1", "sub": "c1", "aud": TOKEN, "exp": NOW + 60, "jti": "x"}))
                    .unwrap_or_default(),
            ),
            ("iss not the client", assertion(|c| c["iss"] = json!("c2"))),
            ("sub not the client", assertion(|c| c["sub"] = json!("c2"))),
            ("foreign audience", assertion(|c| c["aud"] = json!("https://elsewhere"))),
            ("another audience besides", assertion(|c| c["aud"] = json!([ISSUER, "https://elsewhere"]))),
            ("no audience", assertion(|c| c["aud"] = json!([]))),
            (
                "expired",
                assertion(|c| {
                    c["iat"] = json!(NOW - 4000);
                    c["exp"] = json!(NOW - 3000);
                }),
            ),
            ("too long", assertion(|c| c["exp"] = json!(NOW + 1801))),
            ("not valid yet", assertion(|c| c["nbf"] = json!(NOW + 61))),
            (
                "from the future",
                assertion(|c| {
                    c["iat"] = json!(NOW + 600);
                    c["exp"] = json!(NOW + 700);
                }),
            ),
            (
                "no jti",
                assertion(|c| {
                    c.as_object_mut().map(|m| m.remove("jti"));
                }),
            ),
            (
                "no exp",
                assertion(|c| {
                    c.as_object_mut().map(|m| m.remove("exp"));
                }),
            ),
            ("not a JWT", "abc".to_owned()),
        ];
        for (name, token) in cases {
            let error = check(&token).err().unwrap_or_else(|| panic!("{name}: accepted"));
            assert_eq!((error.code(), error.status()), ("invalid_client", 401), "{name}");
        }
    }

    #[test]
    fn the_registered_signing_algorithm_is_enforced() {
        let es256 =
            ec_key().sign(&json!({"iss": "c1", "sub": "c1", "aud": TOKEN, "exp": NOW + 60, "jti": "x"})).unwrap_or_default();
        let keys = jwks_of(&[ec_key(), rsa_key()]);
        assert!(check_assertion(&es256, &keys, &client(Some("PS256")), &[TOKEN], NOW).is_err());
        assert!(check_assertion(&es256, &keys, &client(Some("ES256")), &[TOKEN], NOW).is_ok());
        assert!(check_assertion(&es256, &keys, &client(None), &[TOKEN], NOW).is_ok());
    }

    #[test]
    fn the_method_must_be_the_registered_one() {
        let certificate = PresentedCredentials::Certificate { client_id: "c1".into() };
        assert!(check_method(&certificate, TokenEndpointAuthMethod::TlsClientAuth).is_ok());
        assert!(check_method(&certificate, TokenEndpointAuthMethod::SelfSignedTlsClientAuth).is_ok());
        assert!(check_method(&certificate, TokenEndpointAuthMethod::PrivateKeyJwt).is_err());
        let basic = PresentedCredentials::Basic { client_id: "c1".into(), secret: app::secrets::Secret::from_given("s".into()) };
        assert!(check_method(&basic, TokenEndpointAuthMethod::ClientSecretPost).is_err());
    }

    #[test]
    fn the_client_is_found_from_the_assertion_when_not_named() {
        let credentials = PresentedCredentials::Assertion { assertion: assertion(|_| {}), client_id: None };
        assert_eq!(claimed_client_id(&credentials), Ok("c1".to_owned()));
    }

    #[test]
    fn the_subject_dn_is_compared_as_a_set() {
        let subject = DistinguishedName::parse("C=GB,O=OpenBanking,CN=tpp").unwrap_or_else(|e| panic!("{e}"));
        assert!(check_subject_dn(Some("CN=tpp,O=OpenBanking,C=GB"), &subject).is_ok());
        assert!(check_subject_dn(Some("CN=other,O=OpenBanking,C=GB"), &subject).is_err());
        assert!(check_subject_dn(None, &subject).is_err());
    }
}
