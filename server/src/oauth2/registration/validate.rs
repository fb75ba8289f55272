//! Steps 5 and 6 of the pipeline: the request's claims and metadata, checked against the
//! workspace's settings and the verified software statement. Pure: `now` is an argument.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use url::Url;

use app::domain::dn::DistinguishedName;
use app::domain::dry_run::{Stage, Trace};
use app::domain::jwks::{PublicJwks, Strictness};
use app::domain::oauth::{GrantType, TokenEndpointAuthMethod, is_scope_token};
use app::domain::workspace::{Profile, WorkspaceSettings};

use super::RegistrationError;
use super::claims::RequestClaims;
use super::request::{RequestKeySource, software_statement_keys};
use crate::oauth2::CLOCK_SKEW_SECONDS;
use crate::oauth2::jose::JwsAlgorithm;
use crate::oauth2::software_statement::{SoftwareStatement, is_base62_id};

/// The longest a registration request may be valid: the conformance tool signs `exp = iat + 1h`.
pub const MAX_REQUEST_LIFETIME_SECONDS: i64 = 3600;
const MAX_REDIRECT_URI_LEN: usize = 256;
/// OBUK's `scope`: String(256), the scopes joined by spaces.
const MAX_SCOPE_LEN_OBUK: usize = 256;
/// `tls_client_auth_subject_dn`: String(128) in OBUK DCR v3.2 (the conformance tool checks the
/// GET response against it); 512 elsewhere, as OBUK v3.4 later allowed.
const MAX_SUBJECT_DN_LEN_OBUK: usize = 128;
const MAX_SUBJECT_DN_LEN: usize = 512;
const MAX_JTI_LEN: usize = 128;

/// What of the workspace the rules read.
#[derive(Debug, Clone, Copy)]
pub struct RegistrationPolicy<'a> {
    pub profile: Profile,
    pub settings: &'a WorkspaceSettings,
}

/// `application_type` (OIDC Registration §2; OBUK allows `web` and `mobile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationType {
    Web,
    Mobile,
}

/// A `jti` to record so the request is never accepted again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayKey {
    pub issuer: String,
    pub jti: String,
    /// Epoch seconds until which a replay could still pass the `exp` check.
    pub keep_until: i64,
}

/// The client metadata Onboard registers, after every rule passed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientMetadata {
    pub redirect_uris: Vec<String>,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_subject_dn: Option<String>,
    pub grant_types: Vec<GrantType>,
    pub response_types: Vec<String>,
    /// `scope` is the space-separated string of RFC 7591; `scopes` the same as an array.
    #[serde(skip)]
    pub scopes: Vec<String>,
    pub application_type: ApplicationType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_object_signing_alg: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<String>,
    /// Where the client's public keys are (for `private_key_jwt` and `self_signed_tls_client_auth`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    /// FAPI 1 Part 2 §5.2.2-5: every token is bound to the client certificate.
    pub tls_client_certificate_bound_access_tokens: bool,
}

#[derive(Debug, Clone)]
pub struct ValidatedRegistration {
    pub metadata: ClientMetadata,
    pub software_statement: Option<SoftwareStatement>,
    /// Present for signed requests.
    pub replay: Option<ReplayKey>,
}

/// Checks every claim. `signed` says whether `claims` came from a verified JWS (then the JWT
/// claims `iss`, `iat`, `exp`, `aud` and `jti` are required).
pub fn validate(
    claims: &Map<String, Value>,
    signed: bool,
    software_statement: Option<SoftwareStatement>,
    policy: &RegistrationPolicy<'_>,
    now: DateTime<Utc>,
) -> Result<ValidatedRegistration, RegistrationError> {
    validate_traced(claims, signed, software_statement, policy, now, &mut Trace::default())
}

/// [`validate`], recording each rule in `trace` as it passes or fails.
pub fn validate_traced(
    claims: &Map<String, Value>,
    signed: bool,
    software_statement: Option<SoftwareStatement>,
    policy: &RegistrationPolicy<'_>,
    now: DateTime<Utc>,
    trace: &mut Trace,
) -> Result<ValidatedRegistration, RegistrationError> {
    let ssa = software_statement.as_ref();
    let claims: RequestClaims = trace_rule(
        trace,
        "the claims have the registration's types",
        serde_path_to_error::deserialize(claims)
            .map_err(|e| RegistrationError::ClaimInvalid { claim: e.path().to_string(), problem: e.inner().to_string() }),
    )?;
    let obuk = policy.profile == Profile::OpenbankingUk;

    let replay = if signed {
        Some(trace_rule(
            trace,
            "exp, iat, aud, jti and iss of the signed request",
            check_jwt_claims(&claims, ssa, policy, now.timestamp()),
        )?)
    } else {
        None
    };
    let software_id = trace_rule(trace, "software_id", check_software_id(claims.software_id.as_deref(), ssa, obuk))?;

    let method = trace_rule(
        trace,
        "token_endpoint_auth_method is allowed",
        check_auth_method(claims.token_endpoint_auth_method.as_deref(), policy.settings, obuk),
    )?;
    let tls_client_auth_subject_dn = trace_rule(
        trace,
        "tls_client_auth_subject_dn",
        check_subject_dn(claims.tls_client_auth_subject_dn.as_deref(), method, obuk),
    )?;
    let token_endpoint_auth_signing_alg = trace_rule(
        trace,
        "token_endpoint_auth_signing_alg",
        check_assertion_alg(claims.token_endpoint_auth_signing_alg.as_deref(), method),
    )?;
    let id_token_signed_response_alg = trace_rule(
        trace,
        "id_token_signed_response_alg",
        check_alg("id_token_signed_response_alg", claims.id_token_signed_response_alg.as_deref(), obuk),
    )?;
    let request_object_signing_alg = trace_rule(
        trace,
        "request_object_signing_alg",
        check_alg("request_object_signing_alg", claims.request_object_signing_alg.as_deref(), obuk),
    )?;

    let grant_types =
        trace_rule(trace, "grant_types are allowed", check_grant_types(claims.grant_types.as_deref(), policy.settings, obuk))?;
    let authorization_code = grant_types.contains(&GrantType::AuthorizationCode);
    let response_types =
        trace_rule(trace, "response_types", check_response_types(claims.response_types.as_deref(), authorization_code, obuk))?;
    let redirect_uris = trace_rule(
        trace,
        "redirect_uris",
        check_redirect_uris(claims.redirect_uris.as_deref(), ssa, policy.profile, authorization_code),
    )?;
    let scopes = trace_rule(trace, "scope is allowed", check_scopes(claims.scope.as_deref(), ssa, policy))?;
    let application_type =
        trace_rule(trace, "application_type", check_application_type(claims.application_type.as_deref(), obuk))?;
    let (jwks_uri, jwks) = trace_rule(trace, "the client's keys", client_keys(&claims, ssa, method))?;
    let bound_tokens_asked = claims.tls_client_certificate_bound_access_tokens == Some(true);
    let descriptive = trace_rule(trace, "client_name, URIs and contacts", descriptive_metadata(claims, ssa))?;

    let metadata = ClientMetadata {
        redirect_uris,
        token_endpoint_auth_method: method,
        token_endpoint_auth_signing_alg,
        tls_client_auth_subject_dn,
        grant_types,
        response_types,
        scopes,
        application_type,
        id_token_signed_response_alg,
        request_object_signing_alg,
        software_id,
        client_name: descriptive.client_name,
        client_uri: descriptive.client_uri,
        logo_uri: descriptive.logo_uri,
        policy_uri: descriptive.policy_uri,
        tos_uri: descriptive.tos_uri,
        contacts: descriptive.contacts,
        jwks_uri,
        jwks,
        // RFC 8705 §3.4, as the client asks; always in OBUK, whose tokens are all bound (FAPI).
        tls_client_certificate_bound_access_tokens: obuk || bound_tokens_asked,
    };
    Ok(ValidatedRegistration { metadata, software_statement, replay })
}

/// Records one rule's result as a claims check (the detail carries the wire error code).
fn trace_rule<T>(trace: &mut Trace, name: &str, result: Result<T, RegistrationError>) -> Result<T, RegistrationError> {
    trace.record(Stage::Claims, name, result, RegistrationError::detail)
}

/// The metadata that only describes the client.
struct Descriptive {
    client_name: Option<String>,
    client_uri: Option<String>,
    logo_uri: Option<String>,
    policy_uri: Option<String>,
    tos_uri: Option<String>,
    contacts: Vec<String>,
}

fn descriptive_metadata(claims: RequestClaims, ssa: Option<&SoftwareStatement>) -> Result<Descriptive, RegistrationError> {
    Ok(Descriptive {
        client_name: check_text("client_name", claims.client_name, 255)?.or_else(|| ssa.and_then(|s| s.client_name.clone())),
        client_uri: check_https_uri("client_uri", claims.client_uri)?,
        logo_uri: check_https_uri("logo_uri", claims.logo_uri)?,
        policy_uri: check_https_uri("policy_uri", claims.policy_uri)?,
        tos_uri: check_https_uri("tos_uri", claims.tos_uri)?,
        contacts: check_contacts(claims.contacts)?,
    })
}

/// `exp`, `iat`, `nbf`, `aud`, `jti` and `iss` of a signed request (RFC 7519 §4.1; OBUK §2.4 step 5).
fn check_jwt_claims(
    claims: &RequestClaims,
    ssa: Option<&SoftwareStatement>,
    policy: &RegistrationPolicy<'_>,
    now: i64,
) -> Result<ReplayKey, RegistrationError> {
    let exp = claims.exp.ok_or(RegistrationError::ClaimMissing("exp"))?;
    let iat = claims.iat.ok_or(RegistrationError::ClaimMissing("iat"))?;
    // Widened so hostile values near i64::MIN/MAX cannot wrap around a comparison.
    let (now_wide, exp_wide, iat_wide, skew) =
        (i128::from(now), i128::from(exp), i128::from(iat), i128::from(CLOCK_SKEW_SECONDS));
    if now_wide > exp_wide + skew {
        return Err(RegistrationError::Expired);
    }
    if iat_wide > now_wide + skew {
        return Err(RegistrationError::IssuedInTheFuture);
    }
    if claims.nbf.is_some_and(|nbf| i128::from(nbf) > now_wide + skew) {
        return Err(RegistrationError::NotYetValid);
    }
    if exp_wide <= iat_wide {
        return Err(RegistrationError::ClaimInvalid { claim: "exp".to_owned(), problem: "must be later than iat".to_owned() });
    }
    if exp_wide - iat_wide > i128::from(MAX_REQUEST_LIFETIME_SECONDS) {
        let seconds = i64::try_from(exp_wide - iat_wide).unwrap_or(i64::MAX);
        return Err(RegistrationError::LifetimeTooLong { seconds, max: MAX_REQUEST_LIFETIME_SECONDS });
    }

    let audiences = claims.aud.as_ref().ok_or(RegistrationError::ClaimMissing("aud"))?.values();
    if !audiences.iter().any(|aud| policy.settings.audiences().any(|accepted| accepted == *aud)) {
        let shown = audiences.first().copied().unwrap_or_default();
        return Err(RegistrationError::AudienceNotAccepted(shown.to_owned()));
    }

    let jti = claims.jti.as_deref().ok_or(RegistrationError::ClaimMissing("jti"))?;
    if jti.is_empty() || jti.len() > MAX_JTI_LEN || !jti.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(RegistrationError::ClaimInvalid {
            claim: "jti".to_owned(),
            problem: format!("must be 1 to {MAX_JTI_LEN} printable characters"),
        });
    }
    if policy.profile == Profile::OpenbankingUk && !is_uuid_v4(jti) {
        return Err(RegistrationError::ClaimInvalid {
            claim: "jti".to_owned(),
            problem: "must be a UUIDv4 (36 characters, hex digits in either case)".to_owned(),
        });
    }

    let iss = claims.iss.as_deref().ok_or(RegistrationError::ClaimMissing("iss"))?;
    if policy.profile == Profile::OpenbankingUk && !is_base62_id(iss) {
        return Err(RegistrationError::ClaimInvalid {
            claim: "iss".to_owned(),
            problem: "invalid issuer claim; it must be the software_id: 1 to 22 letters or digits".to_owned(),
        });
    }
    if let Some(ssa) = ssa
        && iss != ssa.software_id
    {
        return Err(RegistrationError::IssuerNotSoftwareId { expected: ssa.software_id.clone() });
    }
    Ok(ReplayKey { issuer: iss.to_owned(), jti: jti.to_owned(), keep_until: exp.saturating_add(CLOCK_SKEW_SECONDS) })
}

/// OBUK DCR's data dictionary: `jti` is a `String(36)` `UUIDv4`. The swagger's pattern allows hex
/// digits in either case, and the conformance tool sends lower case.
fn is_uuid_v4(jti: &str) -> bool {
    jti.len() == 36
        && uuid::Uuid::try_parse(jti)
            .is_ok_and(|id| id.get_version() == Some(uuid::Version::Random) && id.get_variant() == uuid::Variant::RFC4122)
}

fn check_software_id(
    software_id: Option<&str>,
    ssa: Option<&SoftwareStatement>,
    obuk: bool,
) -> Result<Option<String>, RegistrationError> {
    match (software_id, ssa) {
        (Some(given), Some(ssa)) if given != ssa.software_id => {
            Err(RegistrationError::SoftwareIdMismatch { expected: ssa.software_id.clone() })
        }
        (_, Some(ssa)) => Ok(Some(ssa.software_id.clone())),
        (Some(given), None) if obuk && !is_base62_id(given) => Err(RegistrationError::ClaimInvalid {
            claim: "software_id".to_owned(),
            problem: "must be 1 to 22 letters or digits".to_owned(),
        }),
        (given, None) => Ok(given.map(str::to_owned)),
    }
}

/// The workspace's methods a registration may choose. On an Open Banking UK workspace (FAPI 1
/// Advanced) that leaves out the `client_secret_*` methods whatever the settings list: OBUK
/// DCR admits only `tls_client_auth`, `self_signed_tls_client_auth` and `private_key_jwt`, and
/// a secret method the workspace allows serves its manually created clients only.
fn check_auth_method(
    method: Option<&str>,
    settings: &WorkspaceSettings,
    obuk: bool,
) -> Result<TokenEndpointAuthMethod, RegistrationError> {
    let registrable = |method: &TokenEndpointAuthMethod| !(obuk && method.uses_client_secret());
    let allowed = || {
        let names: Vec<_> = settings.token_endpoint_auth_methods.iter().filter(|m| registrable(m)).map(|m| m.as_str()).collect();
        RegistrationError::AuthMethodNotAllowed { allowed: names.join(", ") }
    };
    let method = match method {
        Some(name) => name.parse::<TokenEndpointAuthMethod>().map_err(|_| allowed())?,
        None if obuk => return Err(RegistrationError::ClaimMissing("token_endpoint_auth_method")),
        // RFC 7591 §2: the default is client_secret_basic.
        None => TokenEndpointAuthMethod::ClientSecretBasic,
    };
    if registrable(&method) && settings.token_endpoint_auth_methods.contains(&method) { Ok(method) } else { Err(allowed()) }
}

fn check_subject_dn(dn: Option<&str>, method: TokenEndpointAuthMethod, obuk: bool) -> Result<Option<String>, RegistrationError> {
    match (dn, method) {
        (None, TokenEndpointAuthMethod::TlsClientAuth) => Err(RegistrationError::SubjectDnRequired),
        (Some(dn), TokenEndpointAuthMethod::TlsClientAuth) => {
            let invalid =
                |problem: String| RegistrationError::ClaimInvalid { claim: "tls_client_auth_subject_dn".to_owned(), problem };
            let max = if obuk { MAX_SUBJECT_DN_LEN_OBUK } else { MAX_SUBJECT_DN_LEN };
            if dn.trim().is_empty() || dn.chars().count() > max || dn.chars().any(char::is_control) {
                return Err(invalid(format!("must be a distinguished name of 1 to {max} characters")));
            }
            // A name that cannot be parsed could never match a certificate.
            DistinguishedName::parse(dn).map_err(|e| invalid(format!("is not an RFC 4514 distinguished name: it {e}")))?;
            Ok(Some(dn.to_owned()))
        }
        (Some(_), _) => Err(RegistrationError::SubjectDnNotAllowed),
        (None, _) => Ok(None),
    }
}

fn check_assertion_alg(alg: Option<&str>, method: TokenEndpointAuthMethod) -> Result<Option<&'static str>, RegistrationError> {
    match (alg, method.uses_signed_assertion()) {
        (None, true) => Err(RegistrationError::SigningAlgRequired(method.as_str().to_owned())),
        (Some(_), false) => Err(RegistrationError::SigningAlgNotAllowed),
        (Some(alg), true) => parse_alg("token_endpoint_auth_signing_alg", alg).map(Some),
        (None, false) => Ok(None),
    }
}

/// A `*_alg` metadata claim: required in OBUK (1..1 in the data dictionary), PS256 or ES256.
fn check_alg(claim: &'static str, alg: Option<&str>, required: bool) -> Result<Option<&'static str>, RegistrationError> {
    match alg {
        Some(alg) => parse_alg(claim, alg).map(Some),
        None if required => Err(RegistrationError::ClaimMissing(claim)),
        None => Ok(None),
    }
}

fn parse_alg(claim: &'static str, alg: &str) -> Result<&'static str, RegistrationError> {
    JwsAlgorithm::parse(alg)
        .map(JwsAlgorithm::as_str)
        .ok_or_else(|| RegistrationError::AlgorithmNotAllowed { claim, alg: alg.to_owned() })
}

fn check_grant_types(
    requested: Option<&[String]>,
    settings: &WorkspaceSettings,
    obuk: bool,
) -> Result<Vec<GrantType>, RegistrationError> {
    let requested: Vec<&str> = match requested {
        Some(list) if !list.is_empty() => list.iter().map(String::as_str).collect(),
        Some(_) => {
            return Err(RegistrationError::ClaimInvalid {
                claim: "grant_types".to_owned(),
                problem: "must not be empty".to_owned(),
            });
        }
        None if obuk => return Err(RegistrationError::ClaimMissing("grant_types")),
        // RFC 7591 §2: the default is authorization_code.
        None => vec!["authorization_code"],
    };
    let mut grants = Vec::new();
    for name in requested {
        let grant = name
            .parse::<GrantType>()
            .ok()
            .filter(|g| settings.grant_types.contains(g))
            .ok_or_else(|| RegistrationError::GrantTypeNotAllowed(name.to_owned()))?;
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    }
    Ok(grants)
}

/// FAPI 1 Part 2 §5.2.2-2: `code id_token`, or `code` (with JARM); OBUK allows only these. A
/// response type is a set of tokens (OAuth 2.0 Multiple Response Types §2), so `id_token code`
/// is `code id_token`.
fn check_response_types(
    requested: Option<&[String]>,
    authorization_code: bool,
    obuk: bool,
) -> Result<Vec<String>, RegistrationError> {
    let requested = match requested {
        Some(list) if !list.is_empty() => list.to_vec(),
        _ if !authorization_code => Vec::new(),
        // OBUK DCR v3.2: the default is "code id_token"; RFC 7591 §2: "code".
        _ if obuk => vec!["code id_token".to_owned()],
        _ => vec!["code".to_owned()],
    };
    let mut types: Vec<String> = Vec::new();
    for value in requested {
        let mut tokens: Vec<&str> = value.split(' ').filter(|t| !t.is_empty()).collect();
        tokens.sort_unstable();
        let normalised = match tokens.as_slice() {
            ["code"] => "code",
            ["code", "id_token"] => "code id_token",
            _ => return Err(RegistrationError::ResponseTypeNotAllowed(value)),
        };
        if !authorization_code {
            return Err(RegistrationError::ResponseTypeNeedsAuthorizationCode(value));
        }
        if !types.iter().any(|t| t == normalised) {
            types.push(normalised.to_owned());
        }
    }
    Ok(types)
}

/// FAPI 1 Part 1 §5.2.2 and OBUK: https, no localhost, exact strings within the statement's
/// `software_redirect_uris` (which are the default when none are requested).
fn check_redirect_uris(
    requested: Option<&[String]>,
    ssa: Option<&SoftwareStatement>,
    profile: Profile,
    authorization_code: bool,
) -> Result<Vec<String>, RegistrationError> {
    let uris = match (requested, ssa) {
        (Some(list), _) if !list.is_empty() => list.to_vec(),
        (_, Some(ssa)) => ssa.redirect_uris.clone(),
        (_, None) => Vec::new(),
    };
    let mut unique: Vec<String> = Vec::new();
    for uri in uris {
        check_redirect_uri(&uri, profile)?;
        if let Some(ssa) = ssa
            && !ssa.redirect_uris.contains(&uri)
        {
            return Err(RegistrationError::RedirectUriNotInSoftwareStatement(uri));
        }
        if !unique.contains(&uri) {
            unique.push(uri);
        }
    }
    if authorization_code && unique.is_empty() {
        return Err(RegistrationError::RedirectUrisRequired);
    }
    Ok(unique)
}

fn check_redirect_uri(uri: &str, profile: Profile) -> Result<(), RegistrationError> {
    let invalid = |problem| RegistrationError::RedirectUriInvalid { uri: uri.to_owned(), problem };
    if uri.is_empty() || uri.len() > MAX_REDIRECT_URI_LEN {
        return Err(invalid("must be 1 to 256 characters"));
    }
    let url = Url::parse(uri).map_err(|_| invalid("is not an absolute URL"))?;
    if url.fragment().is_some() {
        return Err(invalid("must not contain a fragment"));
    }
    if profile == Profile::OpenbankingUk {
        if url.scheme() != "https" {
            return Err(invalid("must use https"));
        }
        if is_local_host(&url) {
            return Err(invalid("must not point at localhost"));
        }
    } else if url.scheme() == "http" && !is_local_host(&url) {
        return Err(invalid("may use plain http only for a loopback address"));
    } else if BROWSER_LOCAL_SCHEMES.contains(&url.scheme()) {
        return Err(invalid("must not use a scheme the browser runs or reads locally (javascript, data, file, ...)"));
    }
    Ok(())
}

/// Schemes whose URLs a browser executes or reads from its own machine instead of fetching:
/// never where an authorization response may be sent. (A native app's private-use scheme, RFC
/// 8252 §7.1, is fine.)
const BROWSER_LOCAL_SCHEMES: [&str; 7] = ["javascript", "vbscript", "data", "file", "blob", "filesystem", "about"];

/// `localhost` in any spelling (`LOCALHOST`, `localhost.`, `x.localhost`), loopback and
/// unspecified addresses, and their IPv4-mapped IPv6 forms.
fn is_local_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            domain == "localhost" || domain.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_unspecified(),
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback()
                || ip.is_unspecified()
                || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback() || v4.is_unspecified())
        }
        None => true,
    }
}

/// Scopes: offered by the workspace and, with a software statement, granted by one of its
/// `software_roles` (through the workspace's role→scope map) that the competent authority has
/// authorised. Absent: every scope the statement's roles allow; without a statement, required
/// in OBUK and the workspace's scopes elsewhere (RFC 7591 §2 lets the server choose a default).
fn check_scopes(
    requested: Option<&str>,
    ssa: Option<&SoftwareStatement>,
    policy: &RegistrationPolicy<'_>,
) -> Result<Vec<String>, RegistrationError> {
    let settings = policy.settings;
    let scopes: BTreeSet<String> = match (requested, ssa) {
        (Some(scope), _) if !scope.trim().is_empty() => scope.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        (_, Some(ssa)) => settings
            .role_scopes
            .iter()
            .filter(|(role, _)| holds_authorised_role(ssa, role))
            .flat_map(|(_, scopes)| scopes)
            .filter(|scope| settings.scopes.contains(scope))
            .cloned()
            .collect(),
        (_, None) if policy.profile == Profile::OpenbankingUk => return Err(RegistrationError::ClaimMissing("scope")),
        (_, None) => settings.scopes.iter().cloned().collect(),
    };
    for scope in &scopes {
        if !is_scope_token(scope) {
            return Err(RegistrationError::ClaimInvalid {
                claim: "scope".to_owned(),
                problem: format!("'{scope}' is not a scope token"),
            });
        }
        if !settings.scopes.contains(scope) {
            return Err(RegistrationError::ScopeNotOffered(scope.clone()));
        }
        if let Some(ssa) = ssa {
            check_scope_roles(scope, ssa, settings)?;
        }
    }
    if scopes.is_empty() {
        return Err(RegistrationError::ClaimInvalid {
            claim: "scope".to_owned(),
            problem: "no scope is left: the software statement's roles allow none of the workspace's scopes".to_owned(),
        });
    }
    // OBUK's `scope` is String(256), requested or taken from the roles (what GET answers).
    let length = scopes.iter().map(String::len).sum::<usize>() + scopes.len() - 1;
    if policy.profile == Profile::OpenbankingUk && length > MAX_SCOPE_LEN_OBUK {
        return Err(RegistrationError::ClaimInvalid {
            claim: "scope".to_owned(),
            problem: format!("is {length} characters; Open Banking UK allows at most {MAX_SCOPE_LEN_OBUK}"),
        });
    }
    Ok(scopes.into_iter().collect())
}

fn check_scope_roles(scope: &str, ssa: &SoftwareStatement, settings: &WorkspaceSettings) -> Result<(), RegistrationError> {
    let granting: Vec<&String> =
        settings.role_scopes.iter().filter(|(_, scopes)| scopes.iter().any(|s| s == scope)).map(|(role, _)| role).collect();
    let held: Vec<&String> = granting.iter().copied().filter(|role| holds_role(ssa, role)).collect();
    if held.is_empty() {
        let roles = if granting.is_empty() {
            "none".to_owned()
        } else {
            granting.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
        };
        return Err(RegistrationError::ScopeNotAllowedByRoles { scope: scope.to_owned(), roles });
    }
    if !held.iter().any(|role| holds_authorised_role(ssa, role)) {
        return Err(RegistrationError::RoleNotAuthorised { role: held[0].clone(), scope: scope.to_owned() });
    }
    Ok(())
}

/// Whether the statement's `software_roles` include `role` (case varies between directories).
fn holds_role(ssa: &SoftwareStatement, role: &str) -> bool {
    ssa.roles.iter().any(|held| held.eq_ignore_ascii_case(role))
}

/// Whether the statement holds `role` and, when it carries competent authority claims, they
/// authorise it.
fn holds_authorised_role(ssa: &SoftwareStatement, role: &str) -> bool {
    holds_role(ssa, role) && ssa.competent_authority.as_ref().is_none_or(|authority| authority.authorises(role))
}

/// OBUK: required (1..1); elsewhere OIDC Registration's default `web` applies.
fn check_application_type(value: Option<&str>, required: bool) -> Result<ApplicationType, RegistrationError> {
    match value {
        None if required => Err(RegistrationError::ClaimMissing("application_type")),
        None | Some("web") => Ok(ApplicationType::Web),
        Some("mobile") => Ok(ApplicationType::Mobile),
        Some(other) => Err(RegistrationError::ApplicationTypeInvalid(other.to_owned())),
    }
}

fn check_text(claim: &'static str, value: Option<String>, max: usize) -> Result<Option<String>, RegistrationError> {
    match value {
        Some(text) if text.chars().count() > max || text.chars().any(char::is_control) => Err(RegistrationError::ClaimInvalid {
            claim: claim.to_owned(),
            problem: format!("must be at most {max} printable characters"),
        }),
        other => Ok(other),
    }
}

fn check_https_uri(claim: &'static str, value: Option<String>) -> Result<Option<String>, RegistrationError> {
    let Some(uri) = value else { return Ok(None) };
    let ok = uri.len() <= 2048 && Url::parse(&uri).is_ok_and(|url| url.scheme() == "https");
    if ok {
        Ok(Some(uri))
    } else {
        Err(RegistrationError::ClaimInvalid { claim: claim.to_owned(), problem: "must be an https URL".to_owned() })
    }
}

fn check_contacts(contacts: Option<Vec<String>>) -> Result<Vec<String>, RegistrationError> {
    let contacts = contacts.unwrap_or_default();
    if contacts.len() > 20 || contacts.iter().any(|c| c.is_empty() || c.len() > 256) {
        return Err(RegistrationError::ClaimInvalid {
            claim: "contacts".to_owned(),
            problem: "must hold at most 20 entries of 1 to 256 characters".to_owned(),
        });
    }
    Ok(contacts)
}

/// The client's public keys: those its software statement names, or (without one) those it
/// registers itself. `private_key_jwt` and `self_signed_tls_client_auth` need some.
fn client_keys(
    claims: &RequestClaims,
    ssa: Option<&SoftwareStatement>,
    method: TokenEndpointAuthMethod,
) -> Result<(Option<String>, Option<Value>), RegistrationError> {
    let keys = match ssa.map(software_statement_keys).transpose()?.flatten() {
        Some(RequestKeySource::SoftwareStatementUri(uri) | RequestKeySource::ConfiguredUri(uri)) => {
            (Some(uri.as_str().to_owned()), None)
        }
        Some(RequestKeySource::Keys(keys)) => (None, Some(keys.as_json().clone())),
        None if ssa.is_some() => (None, None),
        None => registered_keys(claims)?,
    };
    let needs_keys = matches!(method, TokenEndpointAuthMethod::PrivateKeyJwt | TokenEndpointAuthMethod::SelfSignedTlsClientAuth);
    if needs_keys && keys.0.is_none() && keys.1.is_none() {
        return Err(RegistrationError::ClientKeysRequired);
    }
    Ok(keys)
}

/// `jwks_uri` or `jwks` from the request itself (RFC 7591 §2: never both).
fn registered_keys(claims: &RequestClaims) -> Result<(Option<String>, Option<Value>), RegistrationError> {
    let jwks_uri = check_https_uri("jwks_uri", claims.jwks_uri.clone())?;
    let jwks = claims
        .jwks
        .as_ref()
        .map(|json| PublicJwks::parse(json, Strictness::Strict).map(|keys| keys.as_json().clone()))
        .transpose()
        .map_err(|e| RegistrationError::ClaimInvalid { claim: "jwks".to_owned(), problem: e.to_string() })?;
    if jwks_uri.is_some() && jwks.is_some() {
        return Err(RegistrationError::ClaimInvalid {
            claim: "jwks".to_owned(),
            problem: "may not be given with jwks_uri".to_owned(),
        });
    }
    Ok((jwks_uri, jwks))
}
