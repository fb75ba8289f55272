//! The token endpoint's protocol (RFC 6749 §3.2, §4.4, §5): the request, the errors, scope
//! rules, and the claims of the access tokens it issues (RFC 9068, bound to the client's
//! certificate per RFC 8705 §3).

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use app::secrets::Secret;

/// RFC 7523 §2.2: the assertion type of `private_key_jwt` and `client_secret_jwt`.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// RFC 6749 §5.2 error codes, each with the HTTP status it is sent with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("{0}")]
    InvalidRequest(String),
    /// Client authentication failed: unknown client, no or wrong credentials, wrong method.
    #[error("{0}")]
    InvalidClient(String),
    #[error("{0}")]
    UnauthorizedClient(String),
    #[error("grant_type '{0}' is not supported; this endpoint issues client_credentials tokens")]
    UnsupportedGrantType(String),
    #[error("{0}")]
    InvalidScope(String),
}

impl TokenError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient(_) => "invalid_client",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType(_) => "unsupported_grant_type",
            Self::InvalidScope(_) => "invalid_scope",
        }
    }

    /// RFC 6749 §5.2: 400, except 401 for a failed client authentication.
    pub fn status(&self) -> u16 {
        if matches!(self, Self::InvalidClient(_)) { 401 } else { 400 }
    }
}

/// How the client tried to authenticate (RFC 6749 §2.3; RFC 7523; RFC 8705 §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresentedCredentials {
    /// `Authorization: Basic` (`client_secret_basic`).
    Basic { client_id: String, secret: Secret },
    /// `client_secret` in the body (`client_secret_post`).
    Post { client_id: String, secret: Secret },
    /// A JWT assertion (`private_key_jwt`); `client_id` is optional alongside it.
    Assertion { assertion: String, client_id: Option<String> },
    /// Only a `client_id`: the client authenticates with its TLS certificate.
    Certificate { client_id: String },
}

impl PresentedCredentials {
    /// How the client authenticates, as the metrics name it (both certificate methods are one).
    pub fn method_label(&self) -> &'static str {
        match self {
            Self::Basic { .. } => "client_secret_basic",
            Self::Post { .. } => "client_secret_post",
            Self::Assertion { .. } => "private_key_jwt",
            Self::Certificate { .. } => "certificate",
        }
    }
}

/// A parsed token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub grant_type: String,
    /// `None` or empty: the client's registered scopes.
    pub scope: Option<String>,
    pub credentials: PresentedCredentials,
}

impl TokenRequest {
    /// Parses a form body and an optional `Authorization` header value.
    pub fn parse(form: &[u8], authorization: Option<&str>) -> Result<Self, TokenError> {
        let params = single_valued(form)?;
        let grant_type = param(&params, "grant_type")
            .ok_or_else(|| TokenError::InvalidRequest("grant_type is required".to_owned()))?
            .to_owned();
        let credentials = PresentedCredentials::from_params(&params, authorization)?;
        Ok(Self { grant_type, scope: param(&params, "scope").map(str::to_owned), credentials })
    }
}

/// A request that names a token: introspection (RFC 7662 §2.1) and revocation (RFC 7009 §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenReference {
    pub token: Secret,
    pub credentials: PresentedCredentials,
}

impl TokenReference {
    pub fn parse(form: &[u8], authorization: Option<&str>) -> Result<Self, TokenError> {
        let params = single_valued(form)?;
        let token = param(&params, "token").ok_or_else(|| TokenError::InvalidRequest("token is required".to_owned()))?;
        let token = Secret::from_given(token.to_owned());
        Ok(Self { token, credentials: PresentedCredentials::from_params(&params, authorization)? })
    }
}

impl PresentedCredentials {
    /// The client authentication of a request (RFC 6749 §2.3): exactly one method.
    fn from_params(params: &HashMap<String, String>, authorization: Option<&str>) -> Result<Self, TokenError> {
        let get = |name: &str| param(params, name);
        let basic = authorization.map(parse_basic).transpose()?;
        let methods = [basic.is_some(), get("client_secret").is_some(), get("client_assertion").is_some()];
        if methods.iter().filter(|used| **used).count() > 1 {
            // RFC 6749 §2.3: "The client MUST NOT use more than one authentication method".
            return Err(TokenError::InvalidRequest("more than one client authentication method was used".to_owned()));
        }
        let form_client_id = get("client_id").map(str::to_owned);
        if let Some((client_id, secret)) = basic {
            if form_client_id.as_ref().is_some_and(|id| *id != client_id) {
                return Err(TokenError::InvalidRequest("client_id differs from the authenticated client".to_owned()));
            }
            return Ok(Self::Basic { client_id, secret: Secret::from_given(secret) });
        }
        if let Some(secret) = get("client_secret") {
            let client_id =
                form_client_id.ok_or_else(|| TokenError::InvalidClient("client_id is required with client_secret".to_owned()))?;
            return Ok(Self::Post { client_id, secret: Secret::from_given(secret.to_owned()) });
        }
        if let Some(assertion) = get("client_assertion") {
            match get("client_assertion_type") {
                Some(JWT_BEARER_ASSERTION) => {}
                None => {
                    return Err(TokenError::InvalidRequest(format!("client_assertion_type {JWT_BEARER_ASSERTION} is required")));
                }
                // RFC 6749 §5.2: an unsupported authentication method is `invalid_client`.
                Some(_) => {
                    return Err(TokenError::InvalidClient(format!("client_assertion_type must be {JWT_BEARER_ASSERTION}")));
                }
            }
            return Ok(Self::Assertion { assertion: assertion.to_owned(), client_id: form_client_id });
        }
        form_client_id
            .map(|client_id| Self::Certificate { client_id })
            .ok_or_else(|| TokenError::InvalidClient("client authentication is required".to_owned()))
    }
}

/// A parameter's value; empty counts as absent.
fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

/// RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once."
/// Every name and value must be UTF-8 once decoded (RFC 6749 Appendix B).
fn single_valued(form: &[u8]) -> Result<HashMap<String, String>, TokenError> {
    let mut params = HashMap::new();
    for pair in form.split(|&byte| byte == b'&').filter(|pair| !pair.is_empty()) {
        let (name, value) = match pair.iter().position(|&byte| byte == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &[][..]),
        };
        let not_utf8 = || TokenError::InvalidRequest("a form parameter is not UTF-8 once percent-decoded".to_owned());
        let name = form_decode(name).ok_or_else(not_utf8)?;
        let value = form_decode(value).ok_or_else(not_utf8)?;
        if params.contains_key(&name) {
            return Err(TokenError::InvalidRequest(format!("parameter '{name}' is repeated")));
        }
        params.insert(name, value);
    }
    Ok(params)
}

/// One `application/x-www-form-urlencoded` name or value decoded (`+` is a space), or `None`
/// when the bytes it stands for are not UTF-8. (`url::form_urlencoded::parse` would put
/// U+FFFD in their place and carry on.)
fn form_decode(encoded: &[u8]) -> Option<String> {
    let spaced: Vec<u8> = encoded.iter().map(|&byte| if byte == b'+' { b' ' } else { byte }).collect();
    String::from_utf8(percent_encoding::percent_decode(&spaced).collect()).ok()
}

/// RFC 6749 §2.3.1: Basic credentials are the form-urlencoded client id and secret.
fn parse_basic(header: &str) -> Result<(String, String), TokenError> {
    let malformed = || TokenError::InvalidClient("the Authorization header is not valid Basic credentials".to_owned());
    let (scheme, encoded) = header.split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    match (form_decode(id.as_bytes()), form_decode(secret.as_bytes())) {
        (Some(id), Some(secret)) if !id.is_empty() => Ok((id, secret)),
        _ => Err(malformed()),
    }
}

/// The scopes to grant: the registered ones still `offered` when none are asked for, else the
/// requested ones, each of which must be registered and still offered (RFC 6749 §3.3). A scope
/// the workspace has stopped offering is granted to no client, whatever it registered.
pub fn granted_scopes(
    requested: Option<&str>,
    registered: &[String],
    offered: impl Fn(&str) -> bool,
) -> Result<Vec<String>, TokenError> {
    let Some(requested) = requested.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(registered.iter().filter(|scope| offered(scope)).cloned().collect());
    };
    let mut granted: Vec<String> = Vec::new();
    for scope in requested.split(' ').filter(|s| !s.is_empty()) {
        if !registered.iter().any(|r| r == scope) {
            return Err(TokenError::InvalidScope(format!("scope '{scope}' is not registered for this client")));
        }
        if !offered(scope) {
            return Err(TokenError::InvalidScope(format!("scope '{scope}' is no longer offered by this workspace")));
        }
        if !granted.iter().any(|g| g == scope) {
            granted.push(scope.to_owned());
        }
    }
    Ok(granted)
}

/// RFC 8705 §3.1: the base64url SHA-256 of the certificate's DER.
pub fn certificate_thumbprint(der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(der))
}

/// `cnf` (RFC 7800 §3.1) with the certificate thumbprint (RFC 8705 §3.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Confirmation {
    #[serde(rename = "x5t#S256")]
    pub x5t_s256: String,
}

/// The claims of an access token (RFC 9068 §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(form: &str) -> Result<TokenRequest, TokenError> {
        TokenRequest::parse(form.as_bytes(), None)
    }

    #[test]
    fn reads_each_way_of_authenticating() {
        let certificate = parse("grant_type=client_credentials&scope=&client_id=c1").map(|r| r.credentials);
        assert_eq!(certificate, Ok(PresentedCredentials::Certificate { client_id: "c1".into() }));

        let assertion = parse(&format!(
            "grant_type=client_credentials&scope=openid&client_assertion_type={}&client_assertion=a.b.c",
            JWT_BEARER_ASSERTION.replace(':', "%3A")
        ));
        assert_eq!(assertion.as_ref().map(|r| r.scope.clone()), Ok(Some("openid".into())));
        assert_eq!(
            assertion.map(|r| r.credentials),
            Ok(PresentedCredentials::Assertion { assertion: "a.b.c".into(), client_id: None })
        );

        let post = parse("grant_type=client_credentials&client_id=c1&client_secret=s%2B1").map(|r| r.credentials);
        assert_eq!(post, Ok(PresentedCredentials::Post { client_id: "c1".into(), secret: Secret::from_given("s+1".into()) }));

        let header = format!("Basic {}", STANDARD.encode("c%3A1:p%40ss"));
        let basic = TokenRequest::parse(b"grant_type=client_credentials", Some(&header)).map(|r| r.credentials);
        assert_eq!(basic, Ok(PresentedCredentials::Basic { client_id: "c:1".into(), secret: Secret::from_given("p@ss".into()) }));
    }

    #[test]
    fn decodes_the_form_strictly() {
        let request = parse("grant_type=client_credentials&&scope=a+b%20c&client_id=%C3%A9t%C3%A9").unwrap();
        assert_eq!(request.scope.as_deref(), Some("a b c"));
        assert_eq!(request.credentials, PresentedCredentials::Certificate { client_id: "été".into() });
        assert_eq!(parse("grant_type=client_credentials&client_id").map(|_| ()).map_err(|e| e.code()), Err("invalid_client"));
        for not_utf8 in ["client_id=%FF", "client_%C3=c1", "client_id=%C3"] {
            let refused = parse(&format!("grant_type=client_credentials&{not_utf8}"));
            assert_eq!(
                refused.map(|_| ()),
                Err(TokenError::InvalidRequest("a form parameter is not UTF-8 once percent-decoded".into()))
            );
        }
        let header = format!("Basic {}", STANDARD.encode("c1:%FF"));
        let basic = TokenRequest::parse(b"grant_type=client_credentials", Some(&header));
        assert_eq!(basic.map(|_| ()).map_err(|e| e.code()), Err("invalid_client"));
    }

    #[test]
    fn refuses_ambiguous_or_missing_authentication() {
        let header = format!("Basic {}", STANDARD.encode("c1:s"));
        let two = TokenRequest::parse(b"grant_type=client_credentials&client_id=c1&client_secret=s", Some(&header));
        assert_eq!(two.map(|_| ()).map_err(|e| e.code()), Err("invalid_request"));
        assert_eq!(parse("grant_type=client_credentials").map(|_| ()).map_err(|e| e.code()), Err("invalid_client"));
        assert_eq!(parse("scope=x").map(|_| ()).map_err(|e| e.code()), Err("invalid_request"));
        assert_eq!(parse("grant_type=a&grant_type=b&client_id=c").map(|_| ()).map_err(|e| e.code()), Err("invalid_request"));
        let wrong_type = parse("grant_type=client_credentials&client_assertion=a.b.c&client_assertion_type=saml");
        assert_eq!(
            wrong_type.map(|_| ()).map_err(|e| (e.code(), e.status())),
            Err(("invalid_client", 401)),
            "an unsupported method"
        );
        let no_type = parse("grant_type=client_credentials&client_assertion=a.b.c");
        assert_eq!(no_type.map(|_| ()).map_err(|e| e.code()), Err("invalid_request"), "a missing parameter");
        let not_basic = TokenRequest::parse(b"grant_type=client_credentials", Some("Bearer abc"));
        assert_eq!(not_basic.map(|_| ()).map_err(|e| e.status()), Err(401));
    }

    #[test]
    fn presented_secrets_stay_out_of_debug_output() {
        let request = parse("grant_type=client_credentials&client_id=c1&client_secret=hunter2-secret");
        let reference = TokenReference::parse(b"token=the-access-token&client_id=c1&client_secret=hunter2-secret", None);
        assert!(request.is_ok() && reference.is_ok(), "parsed, secrets and all");
        let printed = format!("{request:?} {reference:?}");
        assert!(!printed.contains("hunter2") && !printed.contains("the-access-token"), "{printed}");
    }

    #[test]
    fn token_references_need_a_token_and_credentials() {
        let reference = TokenReference::parse(b"token=abc&client_id=c1", None);
        assert_eq!(reference.map(|r| r.token.expose().to_owned()), Ok("abc".to_owned()));
        assert_eq!(TokenReference::parse(b"client_id=c1", None).map(|_| ()).map_err(|e| e.code()), Err("invalid_request"));
        assert_eq!(TokenReference::parse(b"token=abc", None).map(|_| ()).map_err(|e| e.code()), Err("invalid_client"));
    }

    #[test]
    fn scopes_default_to_the_registration_and_never_exceed_it() {
        let registered = vec!["accounts".to_owned(), "openid".to_owned()];
        let all = |_: &str| true;
        assert_eq!(granted_scopes(None, &registered, all), Ok(registered.clone()));
        assert_eq!(granted_scopes(Some(" "), &registered, all), Ok(registered.clone()));
        assert_eq!(granted_scopes(Some("openid openid"), &registered, all), Ok(vec!["openid".to_owned()]));
        assert_eq!(granted_scopes(Some("payments"), &registered, all).map_err(|e| e.code()), Err("invalid_scope"));
    }

    #[test]
    fn scopes_the_workspace_stopped_offering_are_not_granted() {
        let registered = vec!["accounts".to_owned(), "openid".to_owned()];
        let offered = |scope: &str| scope == "openid";
        assert_eq!(granted_scopes(None, &registered, offered), Ok(vec!["openid".to_owned()]));
        assert_eq!(granted_scopes(Some("openid"), &registered, offered), Ok(vec!["openid".to_owned()]));
        let withdrawn = granted_scopes(Some("accounts openid"), &registered, offered);
        assert_eq!(
            withdrawn,
            Err(TokenError::InvalidScope("scope 'accounts' is no longer offered by this workspace".to_owned()))
        );
    }

    #[test]
    fn thumbprints_are_base64url_sha256() {
        assert_eq!(certificate_thumbprint(b""), "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
    }
}
