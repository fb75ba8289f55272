//! Every registration rule, one case each, through the same pure stages the endpoint runs.
//! Keys are inline (`software_jwks`), so no I/O is involved.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value, json};

use app::domain::dcr::{DcrSettings, KeySource, SoftwareStatementIssuer};
use app::domain::jwks::PublicJwks;
use app::domain::oauth::TokenEndpointAuthMethod;
use app::domain::workspace::{Profile, WorkspaceSettings};

use super::*;
use crate::oauth2::jose::tests::{ec_key, jwks_of, other_rsa_key, rsa_key};
use crate::oauth2::software_statement;
use crate::tpp::keys::SigningKey;

pub(super) const NOW: i64 = 1_795_316_679;
const ISSUER: &str = "https://as.example/default/obuk";
const ORG_ID: &str = "0015800001HQQrZAAX";
const SOFTWARE_ID: &str = "oQ4KoaavpOuoE7rvQsZEOV";

fn now() -> DateTime<Utc> {
    Utc.timestamp_opt(NOW, 0).single().unwrap_or_default()
}

pub(super) fn settings() -> WorkspaceSettings {
    let mut settings = WorkspaceSettings::defaults_for(Profile::OpenbankingUk, ISSUER);
    settings.org_id = Some(ORG_ID.to_owned());
    settings
}

fn dcr() -> DcrSettings {
    DcrSettings {
        enabled: true,
        software_statement_issuers: vec![SoftwareStatementIssuer {
            issuer: "OpenBanking Ltd".to_owned(),
            keys: Some(KeySource::Jwks(directory_keys())),
        }],
        ..DcrSettings::defaults_for(Profile::OpenbankingUk)
    }
}

/// The directory signs statements with the EC key; TPPs sign requests with the RSA key.
fn directory_key() -> &'static SigningKey {
    ec_key()
}

fn directory_keys() -> PublicJwks {
    jwks_of(&[directory_key()])
}

fn ssa_claims() -> Value {
    json!({
        "iss": "OpenBanking Ltd",
        "iat": NOW - 600,
        "jti": "ba3baf3c847245fa",
        "software_id": SOFTWARE_ID,
        "software_client_id": SOFTWARE_ID,
        "software_client_name": "Example TPP",
        "software_redirect_uris": ["https://tpp.example.com/cb", "https://tpp.example.com/cb2"],
        "software_roles": ["AISP", "PISP"],
        "software_jwks": rsa_key().public_jwks(),
        "organisation_competent_authority_claims": {
            "authority_id": "OBGBR", "registration_id": "Unknown", "status": "Active",
            "authorisations": [{"member_state": "GB", "roles": ["AISP", "PISP"]}]
        },
        "org_status": "Active",
        "org_id": "0015800001HQQrZAAX",
        "org_name": "EXAMPLE TPP LIMITED"
    })
}

fn request_claims() -> Value {
    json!({
        "iss": SOFTWARE_ID,
        "aud": ORG_ID,
        "iat": NOW,
        "exp": NOW + 3600,
        "jti": "69689137-47df-4687-9d8e-5d179bed336e",
        "grant_types": ["authorization_code", "client_credentials"],
        "application_type": "web",
        "redirect_uris": ["https://tpp.example.com/cb"],
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": "PS256",
        "scope": "accounts openid",
        "request_object_signing_alg": "PS256",
        "id_token_signed_response_alg": "PS256",
        "response_types": ["code id_token", "code"]
    })
}

/// A registration as a TPP would send it, with changes to its claims and its statement's.
pub(super) struct Case {
    request: Value,
    ssa: Value,
    request_key: &'static SigningKey,
    ssa_key: &'static SigningKey,
    dcr: DcrSettings,
    settings: WorkspaceSettings,
    certificate: ClientCertificateCheck,
}

impl Case {
    pub(super) fn new() -> Self {
        Self {
            request: request_claims(),
            ssa: ssa_claims(),
            request_key: rsa_key(),
            ssa_key: directory_key(),
            dcr: dcr(),
            settings: settings(),
            certificate: ClientCertificateCheck::Trusted { subject: "CN=tpp".to_owned() },
        }
    }

    pub(super) fn claim(mut self, name: &str, value: Value) -> Self {
        set(&mut self.request, name, value);
        self
    }

    pub(super) fn ssa_claim(mut self, name: &str, value: Value) -> Self {
        set(&mut self.ssa, name, value);
        self
    }

    /// The workspace accepts software statements at most `seconds` old (the statement is 600).
    fn max_statement_age(mut self, seconds: u32) -> Self {
        self.dcr.max_software_statement_age_seconds = Some(seconds);
        self
    }

    fn signed_body(&self) -> String {
        let ssa = self.ssa_key.sign(&self.ssa).unwrap_or_else(|e| panic!("{e}"));
        let mut request = self.request.clone();
        request["software_statement"] = Value::String(ssa);
        self.request_key.sign(&request).unwrap_or_else(|e| panic!("{e}"))
    }

    pub(super) fn run(&self) -> Result<ValidatedRegistration, RegistrationError> {
        self.run_body("application/jose", self.signed_body().as_bytes())
    }

    fn run_body(&self, content_type: &str, body: &[u8]) -> Result<ValidatedRegistration, RegistrationError> {
        check_transport(&self.dcr, &self.certificate)?;
        let request = RegistrationRequest::parse(Some(content_type), body, &self.dcr)?;
        let ssa = match inspect_software_statement(&request, &self.dcr)? {
            Some(unverified) => {
                let trusted = self.dcr.software_statement_issuer(unverified.issuer());
                let Some(KeySource::Jwks(keys)) = trusted.and_then(|t| t.keys.as_ref()) else { panic!("test uses inline keys") };
                Some(software_statement::verify(unverified, keys, now(), self.dcr.max_software_statement_age_seconds)?)
            }
            None => None,
        };
        let claims: Map<String, Value> = match &request {
            RegistrationRequest::Signed(jws) => {
                let RequestKeySource::Keys(keys) = request_key_source(&self.dcr, ssa.as_ref())? else { panic!("inline keys") };
                verify_request(jws, &keys)?.clone()
            }
            RegistrationRequest::Plain(claims) => claims.clone(),
        };
        let policy = RegistrationPolicy { profile: Profile::OpenbankingUk, settings: &self.settings };
        validate(&claims, matches!(request, RegistrationRequest::Signed(_)), ssa, &policy, now())
    }

    /// Runs with the software statement's header `typ` set to `typ`, or without one.
    fn error_with_ssa_typ(&self, typ: Option<&str>) -> RegistrationError {
        let mut header = json!({"alg": "ES256", "kid": self.ssa_key.kid()});
        if let Some(typ) = typ {
            header["typ"] = json!(typ);
        }
        let ssa = self.ssa_key.sign_with_header(&header, &self.ssa).unwrap_or_else(|e| panic!("{e}"));
        let mut request = self.request.clone();
        request["software_statement"] = Value::String(ssa);
        let body = self.request_key.sign(&request).unwrap_or_else(|e| panic!("{e}"));
        self.run_body("application/jose", body.as_bytes()).err().unwrap_or_else(|| panic!("accepted"))
    }

    fn error(&self) -> RegistrationError {
        match self.run() {
            Ok(_) => panic!("the registration was accepted"),
            Err(error) => error,
        }
    }
}

fn set(target: &mut Value, name: &str, value: Value) {
    if value.is_null() {
        target.as_object_mut().map(|m| m.remove(name));
    } else {
        target[name] = value;
    }
}

#[test]
fn a_conformance_tool_request_is_accepted() {
    let registered = Case::new().run().unwrap_or_else(|e| panic!("{e}"));
    let metadata = &registered.metadata;
    assert_eq!(metadata.token_endpoint_auth_method, TokenEndpointAuthMethod::PrivateKeyJwt);
    assert_eq!(metadata.scopes, ["accounts", "openid"]);
    assert_eq!(metadata.redirect_uris, ["https://tpp.example.com/cb"]);
    assert_eq!(metadata.response_types, ["code id_token", "code"]);
    assert_eq!(metadata.software_id.as_deref(), Some(SOFTWARE_ID));
    assert_eq!(metadata.client_name.as_deref(), Some("Example TPP"));
    assert!(metadata.jwks.is_some(), "keys come from the statement");
    assert!(metadata.tls_client_certificate_bound_access_tokens);
    let replay = registered.replay.unwrap_or_else(|| panic!("signed requests are replay-guarded"));
    assert_eq!((replay.issuer.as_str(), replay.keep_until), (SOFTWARE_ID, NOW + 3600 + 60));
}

#[test]
fn tls_client_auth_and_es256_are_accepted() {
    let case = Case { request_key: ec_key(), ..Case::new() }
        .ssa_claim("software_jwks", ec_key().public_jwks())
        .claim("token_endpoint_auth_method", json!("tls_client_auth"))
        .claim("token_endpoint_auth_signing_alg", Value::Null)
        .claim("tls_client_auth_subject_dn", json!("CN=oQ4KoaavpOuoE7rvQsZEOV,OU=0015800001HQQrZAAX,O=OpenBanking,C=GB"))
        .claim("id_token_signed_response_alg", json!("ES256"));
    let registered = case.run().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(registered.metadata.token_endpoint_auth_method, TokenEndpointAuthMethod::TlsClientAuth);
    assert_eq!(registered.metadata.id_token_signed_response_alg, Some("ES256"));
}

#[test]
fn validity_windows_allow_the_clock_skew() {
    // The statement is 600 s old: a 540 s limit with 60 s of skew still takes it.
    assert!(Case::new().max_statement_age(540).run().is_ok());
    let at_the_skew = Case::new().claim("nbf", json!(NOW + 60)).ssa_claim("nbf", json!(NOW + 60)).run();
    assert!(at_the_skew.is_ok(), "{at_the_skew:?}");
}

#[test]
fn defaults_come_from_the_software_statement() {
    let registered = Case::new().claim("redirect_uris", Value::Null).claim("scope", Value::Null).run();
    let metadata = registered.unwrap_or_else(|e| panic!("{e}")).metadata;
    assert_eq!(metadata.redirect_uris, ["https://tpp.example.com/cb", "https://tpp.example.com/cb2"]);
    assert_eq!(metadata.scopes, ["accounts", "openid", "payments"]);
}

#[test]
fn response_types_are_token_sets_and_empty_means_the_default() {
    let reordered = Case::new().claim("response_types", json!(["id_token code", "code"])).run();
    assert_eq!(reordered.map(|r| r.metadata.response_types).ok(), Some(vec!["code id_token".to_owned(), "code".to_owned()]));
    let empty = Case::new().claim("response_types", json!([])).run();
    assert_eq!(empty.map(|r| r.metadata.response_types).ok(), Some(vec!["code id_token".to_owned()]));
}

#[test]
fn roles_compare_case_insensitively_and_defaults_keep_to_authorised_roles() {
    let lowercase = Case::new().ssa_claim("software_roles", json!(["aisp", "pisp"])).run();
    assert!(lowercase.is_ok(), "{lowercase:?}");
    let only_pisp_authorised = Case::new()
        .claim("scope", Value::Null)
        .ssa_claim(
            "organisation_competent_authority_claims",
            json!({"status": "Active", "authorisations": [{"member_state": "GB", "roles": ["PISP"]}]}),
        )
        .run();
    assert_eq!(only_pisp_authorised.map(|r| r.metadata.scopes).ok(), Some(vec!["openid".to_owned(), "payments".to_owned()]));
}

/// OBUK's `scope` is String(256): scopes the workspace offers and the roles allow, but more than
/// 256 characters together, are refused (requested, or taken from the roles by default).
#[test]
fn an_open_banking_scope_is_at_most_256_characters() {
    let long: Vec<String> = (0..8).map(|n| format!("accounts-{n}-{}", "x".repeat(20))).collect();
    let requested = format!("accounts {}", long.join(" "));
    assert_eq!(requested.len(), 8 + 8 * 32, "too long by one scope");
    let with_long_scopes = |case: Case| {
        let mut case = case;
        case.settings.scopes.extend(long.iter().cloned());
        case.settings.role_scopes.entry("AISP".to_owned()).or_default().extend(long.iter().cloned());
        case
    };
    let problem = |error: RegistrationError| match error {
        RegistrationError::ClaimInvalid { claim, problem } if claim == "scope" => problem,
        other => panic!("expected the scope refused, got {other:?}"),
    };
    let refused = with_long_scopes(Case::new().claim("scope", json!(requested))).error();
    assert_eq!(problem(refused), "is 264 characters; Open Banking UK allows at most 256");
    let by_default = with_long_scopes(Case::new().claim("scope", Value::Null)).error();
    assert!(problem(by_default).starts_with("is "), "the roles' default is held to it too");
    let seven = format!("accounts {}", long[..7].join(" "));
    assert!(with_long_scopes(Case::new().claim("scope", json!(seven))).run().is_ok(), "232 characters are fine");
}

/// OBUK DCR (FAPI 1 Advanced) admits no `client_secret_*` method, even where the workspace
/// allows one for its manually created clients.
#[test]
fn secret_methods_are_never_registered_on_an_open_banking_workspace() {
    let mut case = Case::new()
        .claim("token_endpoint_auth_method", json!("client_secret_post"))
        .claim("token_endpoint_auth_signing_alg", Value::Null);
    case.settings
        .token_endpoint_auth_methods
        .extend([TokenEndpointAuthMethod::ClientSecretBasic, TokenEndpointAuthMethod::ClientSecretPost]);
    assert_eq!(case.error(), RegistrationError::AuthMethodNotAllowed { allowed: "tls_client_auth, private_key_jwt".into() });
}

#[test]
fn a_jti_in_upper_case_hex_is_a_uuid_too() {
    assert!(Case::new().claim("jti", json!("69689137-47DF-4687-9D8E-5D179BED336E")).run().is_ok());
}

#[test]
fn a_request_valid_for_exactly_one_hour_is_accepted_and_one_second_more_is_not() {
    assert!(Case::new().claim("exp", json!(NOW + 3600)).run().is_ok());
    let error = Case::new().claim("exp", json!(NOW + 3601)).error();
    assert_eq!(error, RegistrationError::LifetimeTooLong { seconds: 3601, max: 3600 });
}

/// (case, expected error, expected wire code)
#[expect(clippy::too_many_lines, reason = "one line per rule reads best as a single table")]
fn table() -> Vec<(&'static str, Case, RegistrationError, ErrorCode)> {
    use ErrorCode::{
        InvalidClientMetadata as Metadata, InvalidRedirectUri as Redirect, InvalidSoftwareStatement as Ssa,
        UnapprovedSoftwareStatement as Unapproved,
    };
    use RegistrationError as E;
    let untrusted = ClientCertificateCheck::Untrusted { subject: None, reason: "not issued by a trusted CA".to_owned() };
    vec![
        (
            "no client certificate",
            Case { certificate: ClientCertificateCheck::Absent, ..Case::new() },
            E::ClientCertificateMissing,
            Metadata,
        ),
        (
            "untrusted certificate",
            Case { certificate: untrusted, ..Case::new() },
            E::ClientCertificateUntrusted("not issued by a trusted CA".into()),
            Metadata,
        ),
        ("expired (DCR-004)", Case::new().claim("iat", json!(NOW - 7200)).claim("exp", json!(NOW - 3600)), E::Expired, Metadata),
        (
            "issued in the future",
            Case::new().claim("iat", json!(NOW + 120)).claim("exp", json!(NOW + 600)),
            E::IssuedInTheFuture,
            Metadata,
        ),
        ("not valid yet", Case::new().claim("nbf", json!(NOW + 120)), E::NotYetValid, Metadata),
        (
            "subject DN over OBUK v3.2's 128 characters",
            Case::new()
                .claim("token_endpoint_auth_method", json!("tls_client_auth"))
                .claim("token_endpoint_auth_signing_alg", Value::Null)
                .claim("tls_client_auth_subject_dn", json!(format!("CN={},C=GB", "a".repeat(122)))),
            E::ClaimInvalid {
                claim: "tls_client_auth_subject_dn".into(),
                problem: "must be a distinguished name of 1 to 128 characters".into(),
            },
            Metadata,
        ),
        (
            "exp before iat",
            Case::new().claim("exp", json!(NOW - 1)),
            E::ClaimInvalid { claim: "exp".into(), problem: "must be later than iat".into() },
            Metadata,
        ),
        ("no exp", Case::new().claim("exp", Value::Null), E::ClaimMissing("exp"), Metadata),
        ("no iat", Case::new().claim("iat", Value::Null), E::ClaimMissing("iat"), Metadata),
        (
            "iat of the wrong type",
            Case::new().claim("iat", json!("yesterday")),
            E::ClaimInvalid { claim: "iat".into(), problem: "invalid type: string \"yesterday\", expected i64".into() },
            Metadata,
        ),
        ("no aud", Case::new().claim("aud", Value::Null), E::ClaimMissing("aud"), Metadata),
        ("foreign aud", Case::new().claim("aud", json!("someone-else")), E::AudienceNotAccepted("someone-else".into()), Metadata),
        ("no jti", Case::new().claim("jti", Value::Null), E::ClaimMissing("jti"), Metadata),
        (
            "jti not a UUIDv4",
            Case::new().claim("jti", json!("69689137-47df-1687-9d8e-5d179bed336e")),
            E::ClaimInvalid {
                claim: "jti".into(),
                problem: "must be a UUIDv4 (36 characters, hex digits in either case)".into(),
            },
            Metadata,
        ),
        (
            "jti not hyphenated",
            Case::new().claim("jti", json!("6968913747df46879d8e5d179bed336e")),
            E::ClaimInvalid {
                claim: "jti".into(),
                problem: "must be a UUIDv4 (36 characters, hex digits in either case)".into(),
            },
            Metadata,
        ),
        ("no iss", Case::new().claim("iss", Value::Null), E::ClaimMissing("iss"), Metadata),
        (
            "iss not the software_id",
            Case::new().claim("iss", json!("SomeOtherSoftware1")),
            E::IssuerNotSoftwareId { expected: SOFTWARE_ID.into() },
            Metadata,
        ),
        (
            "software_id mismatch",
            Case::new().claim("software_id", json!("Different")),
            E::SoftwareIdMismatch { expected: SOFTWARE_ID.into() },
            Metadata,
        ),
        (
            "redirect not in statement (fork DCR-004)",
            Case::new().claim("redirect_uris", json!(["https://abc.com"])),
            E::RedirectUriNotInSoftwareStatement("https://abc.com".into()),
            Redirect,
        ),
        (
            "redirect over http",
            Case::new().claim("redirect_uris", json!(["http://tpp.example.com/cb"])),
            E::RedirectUriInvalid { uri: "http://tpp.example.com/cb".into(), problem: "must use https" },
            Redirect,
        ),
        (
            "redirect to localhost",
            Case::new().claim("redirect_uris", json!(["https://localhost/cb"])),
            E::RedirectUriInvalid { uri: "https://localhost/cb".into(), problem: "must not point at localhost" },
            Redirect,
        ),
        (
            "redirect with fragment",
            Case::new().claim("redirect_uris", json!(["https://tpp.example.com/cb#x"])),
            E::RedirectUriInvalid { uri: "https://tpp.example.com/cb#x".into(), problem: "must not contain a fragment" },
            Redirect,
        ),
        (
            "no auth method",
            Case::new().claim("token_endpoint_auth_method", Value::Null),
            E::ClaimMissing("token_endpoint_auth_method"),
            Metadata,
        ),
        (
            "auth method not allowed",
            Case::new()
                .claim("token_endpoint_auth_method", json!("client_secret_basic"))
                .claim("token_endpoint_auth_signing_alg", Value::Null),
            E::AuthMethodNotAllowed { allowed: "tls_client_auth, private_key_jwt".into() },
            Metadata,
        ),
        (
            "unknown auth method",
            Case::new().claim("token_endpoint_auth_method", json!("magic")),
            E::AuthMethodNotAllowed { allowed: "tls_client_auth, private_key_jwt".into() },
            Metadata,
        ),
        (
            "tls_client_auth without DN",
            Case::new()
                .claim("token_endpoint_auth_method", json!("tls_client_auth"))
                .claim("token_endpoint_auth_signing_alg", Value::Null),
            E::SubjectDnRequired,
            Metadata,
        ),
        (
            "DN without tls_client_auth",
            Case::new().claim("tls_client_auth_subject_dn", json!("CN=x")),
            E::SubjectDnNotAllowed,
            Metadata,
        ),
        (
            "private_key_jwt without alg",
            Case::new().claim("token_endpoint_auth_signing_alg", Value::Null),
            E::SigningAlgRequired("private_key_jwt".into()),
            Metadata,
        ),
        (
            "assertion alg with tls_client_auth",
            Case::new()
                .claim("token_endpoint_auth_method", json!("tls_client_auth"))
                .claim("tls_client_auth_subject_dn", json!("CN=x")),
            E::SigningAlgNotAllowed,
            Metadata,
        ),
        (
            "RS256 id token (DCR-004)",
            Case::new().claim("id_token_signed_response_alg", json!("RS256")),
            E::AlgorithmNotAllowed { claim: "id_token_signed_response_alg", alg: "RS256".into() },
            Metadata,
        ),
        (
            "request object alg none",
            Case::new().claim("request_object_signing_alg", json!("none")),
            E::AlgorithmNotAllowed { claim: "request_object_signing_alg", alg: "none".into() },
            Metadata,
        ),
        (
            "no id token alg",
            Case::new().claim("id_token_signed_response_alg", Value::Null),
            E::ClaimMissing("id_token_signed_response_alg"),
            Metadata,
        ),
        (
            "HS256 assertion alg",
            Case::new().claim("token_endpoint_auth_signing_alg", json!("HS256")),
            E::AlgorithmNotAllowed { claim: "token_endpoint_auth_signing_alg", alg: "HS256".into() },
            Metadata,
        ),
        (
            "implicit response types (DCR-011)",
            Case::new().claim("response_types", json!(["id_token", "token"])),
            E::ResponseTypeNotAllowed("id_token".into()),
            Metadata,
        ),
        (
            "code without authorization_code",
            Case::new().claim("grant_types", json!(["client_credentials"])).claim("response_types", json!(["code"])),
            E::ResponseTypeNeedsAuthorizationCode("code".into()),
            Metadata,
        ),
        (
            "unknown grant type",
            Case::new().claim("grant_types", json!(["implicit"])),
            E::GrantTypeNotAllowed("implicit".into()),
            Metadata,
        ),
        ("no grant types", Case::new().claim("grant_types", Value::Null), E::ClaimMissing("grant_types"), Metadata),
        ("scope not offered", Case::new().claim("scope", json!("accounts admin")), E::ScopeNotOffered("admin".into()), Metadata),
        (
            "scope beyond the roles",
            Case::new().claim("scope", json!("fundsconfirmations")),
            E::ScopeNotAllowedByRoles { scope: "fundsconfirmations".into(), roles: "CBPII".into() },
            Metadata,
        ),
        (
            "mobile is allowed, native is not",
            Case::new().claim("application_type", json!("native")),
            E::ApplicationTypeInvalid("native".into()),
            Metadata,
        ),
        (
            "no application type",
            Case::new().claim("application_type", Value::Null),
            E::ClaimMissing("application_type"),
            Metadata,
        ),
        (
            "redirect to localhost with a dot",
            Case::new().claim("redirect_uris", json!(["https://LOCALHOST./cb"])),
            E::RedirectUriInvalid { uri: "https://LOCALHOST./cb".into(), problem: "must not point at localhost" },
            Redirect,
        ),
        (
            "redirect to mapped loopback",
            Case::new().claim("redirect_uris", json!(["https://[::ffff:127.0.0.1]/cb"])),
            E::RedirectUriInvalid { uri: "https://[::ffff:127.0.0.1]/cb".into(), problem: "must not point at localhost" },
            Redirect,
        ),
        (
            "statement typed as something else",
            Case::new(),
            E::SoftwareStatementClaimInvalid {
                claim: "typ (header)".into(),
                problem: "is 'JOSE+JSON'; a software statement is a JWT".into(),
            },
            Ssa,
        ),
        (
            "statement without a type",
            Case::new(),
            E::SoftwareStatementClaimInvalid { claim: "typ (header)".into(), problem: "is required and must be 'JWT'".into() },
            Ssa,
        ),
        (
            "exp near i64::MAX",
            Case::new().claim("iat", json!(i64::MIN)).claim("exp", json!(i64::MAX)),
            E::LifetimeTooLong { seconds: i64::MAX, max: 3600 },
            Metadata,
        ),
        (
            "request signed with another key (fork DCR-012)",
            Case { request_key: other_rsa_key(), ..Case::new() },
            E::RequestSignatureInvalid("the request has a signature that no key verifies".into()),
            Metadata,
        ),
        (
            "statement signed with another key (fork DCR-013)",
            Case { ssa_key: rsa_key(), ..Case::new() },
            E::SoftwareStatementSignatureInvalid(
                "the software statement names kid \"rsa-1\", which is not among the signing keys".into(),
            ),
            Ssa,
        ),
        (
            "statement from an untrusted issuer",
            Case::new().ssa_claim("iss", json!("Rogue Directory")),
            E::SoftwareStatementIssuerNotTrusted("Rogue Directory".into()),
            Unapproved,
        ),
        ("statement without iss", Case::new().ssa_claim("iss", Value::Null), E::SoftwareStatementIssuerMissing, Ssa),
        (
            "revoked organisation",
            Case::new().ssa_claim("org_status", json!("Revoked")),
            E::OrganisationNotActive("Revoked".into()),
            Unapproved,
        ),
        (
            "organisation status absent",
            Case::new().ssa_claim("org_status", Value::Null),
            E::OrganisationNotActive("absent".into()),
            Unapproved,
        ),
        (
            "withdrawn authorisation",
            Case::new()
                .ssa_claim("organisation_competent_authority_claims", json!({"status": "Withdrawn", "authorisations": []})),
            E::CompetentAuthorityNotActive("Withdrawn".into()),
            Unapproved,
        ),
        (
            "role not authorised",
            Case::new().ssa_claim(
                "organisation_competent_authority_claims",
                json!({"status": "Active", "authorisations": [{"member_state": "GB", "roles": ["PISP"]}]}),
            ),
            E::RoleNotAuthorised { role: "AISP".into(), scope: "accounts".into() },
            Unapproved,
        ),
        (
            "statement without software_id",
            Case::new().ssa_claim("software_id", Value::Null),
            E::SoftwareStatementClaimInvalid { claim: "software_id".into(), problem: "is required".into() },
            Ssa,
        ),
        ("statement expired", Case::new().ssa_claim("exp", json!(NOW - 3600)), E::SoftwareStatementExpired, Ssa),
        ("statement not valid yet", Case::new().ssa_claim("nbf", json!(NOW + 120)), E::SoftwareStatementNotYetValid, Ssa),
        (
            "statement older than the workspace accepts",
            Case::new().max_statement_age(539),
            E::SoftwareStatementTooOld { age_seconds: 600, max_seconds: 539 },
            Ssa,
        ),
        (
            "statement without iat where its age is limited",
            Case::new().max_statement_age(3600).ssa_claim("iat", Value::Null),
            E::SoftwareStatementClaimInvalid {
                claim: "iat".into(),
                problem: "is required: this workspace limits how old a software statement may be".into(),
            },
            Ssa,
        ),
        ("statement naming no keys", Case::new().ssa_claim("software_jwks", Value::Null), E::SoftwareStatementNamesNoKeys, Ssa),
        (
            "statement with a bad roles claim",
            Case::new().ssa_claim("software_roles", json!("AISP")),
            E::SoftwareStatementClaimInvalid {
                claim: "software_roles".into(),
                problem: "invalid type: string \"AISP\", expected a sequence".into(),
            },
            Ssa,
        ),
    ]
}

#[test]
fn each_rule_rejects_with_its_error_and_code() {
    for (name, case, expected, code) in table() {
        let error = match name {
            "statement typed as something else" => case.error_with_ssa_typ(Some("JOSE+JSON")),
            "statement without a type" => case.error_with_ssa_typ(None),
            _ => case.error(),
        };
        assert_eq!(error, expected, "{name}");
        assert_eq!(error.code(), code, "{name}");
        assert!(!error.description().is_empty() && error.description().len() <= 500, "{name}");
    }
}

#[test]
fn the_conformance_tools_invalid_issuers_are_rejected() {
    for iss in ["foo.is/invalid", "", "123456789012345678901234567890"] {
        let error = Case::new().claim("iss", json!(iss)).error();
        assert!(matches!(&error, RegistrationError::ClaimInvalid { claim, .. } if claim == "iss"), "{iss}: {error:?}");
        assert_eq!(error.code(), ErrorCode::InvalidClientMetadata);
    }
}

#[test]
fn body_forms_are_checked_before_anything_else() {
    let case = Case::new();
    let signed = case.signed_body();
    assert_eq!(
        case.run_body("text/plain", signed.as_bytes()).err(),
        Some(RegistrationError::UnsupportedContentType("text/plain".into()))
    );
    assert!(case.run_body("application/jwt", signed.as_bytes()).is_ok());
    assert!(case.run_body("Application/JOSE; charset=utf-8", signed.as_bytes()).is_ok());
    assert_eq!(case.run_body("application/json", b"{}").err(), Some(RegistrationError::SignedRequestRequired));
    assert!(matches!(case.run_body("application/jose", b"not a jws"), Err(RegistrationError::MalformedRequestJwt(_))));

    let rs256 =
        rsa_key().sign_with_header(&json!({"alg": "RS256", "kid": "rsa-1"}), &case.request).unwrap_or_else(|e| panic!("{e}"));
    let error = case.run_body("application/jose", rs256.as_bytes()).err();
    assert!(matches!(&error, Some(RegistrationError::MalformedRequestJwt(_))), "{error:?}");
    assert!(error.is_some_and(|e| e.description().contains("RS256")));
}

#[test]
fn a_statement_that_is_not_a_jwt_is_reported_as_such() {
    // The fork's DCR-013: the statement re-serialised as `header.payload` with alg none.
    let mut case = Case::new();
    let none_ssa = {
        use base64::Engine as _;
        let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}", b64(&json!({"alg": "none"})), b64(&case.ssa))
    };
    case.request["software_statement"] = json!(none_ssa);
    let body = case.request_key.sign(&case.request).unwrap_or_else(|e| panic!("{e}"));
    let error = case.run_body("application/jose", body.as_bytes()).err();
    assert_eq!(error, Some(RegistrationError::SoftwareStatementNotJwt));
    assert!(RegistrationError::SoftwareStatementNotJwt.description().contains("software_statement claim is not an encoded JWT"));
}

#[test]
fn a_missing_statement_is_refused_only_where_required() {
    let mut case = Case::new();
    case.request.as_object_mut().map(|m| m.remove("software_statement"));
    let body = case.request_key.sign(&case.request).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(case.run_body("application/jose", body.as_bytes()).err(), Some(RegistrationError::SoftwareStatementMissing));
}

#[test]
fn without_mtls_required_no_certificate_is_needed() {
    let mut case = Case { certificate: ClientCertificateCheck::Absent, ..Case::new() };
    case.dcr.require_mtls = false;
    assert!(case.run().is_ok());
}

#[test]
fn plain_json_is_accepted_when_signed_bodies_are_off() {
    let mut case = Case::new();
    case.dcr.require_signed_request = false;
    let ssa = case.ssa_key.sign(&case.ssa).unwrap_or_else(|e| panic!("{e}"));
    let mut body = request_claims();
    for jwt_claim in ["iss", "iat", "exp", "aud", "jti"] {
        body.as_object_mut().map(|m| m.remove(jwt_claim));
    }
    body["software_statement"] = json!(ssa);
    let registered = case.run_body("application/json", body.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    assert!(registered.replay.is_none());
    assert_eq!(
        case.run_body("application/json", br#"{"scope": "a", "scope": "b"}"#).err().map(|e| e.code()),
        Some(ErrorCode::InvalidClientMetadata)
    );
}

#[test]
fn the_response_flattens_the_statement_and_only_the_201_holds_secrets() {
    let registered = Case::new().run().unwrap_or_else(|e| panic!("{e}"));
    let issued = IssuedCredentials {
        client_id: "6fd9aca5-50d2-45db-9c6e-072d70584ab8",
        issued_at: NOW,
        has_client_secret: true,
        registration_client_uri: "https://as.example/default/obuk/openbankinguk/dcr/v3.2/register/6fd9aca5",
    };
    let stored = Value::Object(registered_metadata(&registered, &issued));
    assert_eq!(stored["scope"], "accounts openid");
    assert_eq!(stored["scopes"], json!(["accounts", "openid"]));
    assert_eq!(stored["org_id"], ORG_ID);
    assert_eq!(stored["software_roles"], json!(["AISP", "PISP"]));
    assert_eq!(stored["client_secret_expires_at"], 0);
    assert!(stored["software_statement"].as_str().is_some_and(|s| s.split('.').count() == 3));
    assert!(stored.get("iss").is_none() && stored.get("jti").is_none(), "request-only claims are not echoed");
    assert!(stored.get("client_secret").is_none() && stored.get("registration_access_token").is_none());

    let response =
        RegistrationResponse { metadata: &stored, client_secret: Some("s3cret"), registration_access_token: Some("rat") };
    let body = serde_json::to_value(&response).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((&body["client_secret"], &body["registration_access_token"]), (&json!("s3cret"), &json!("rat")));
    let mut without_secrets = body.clone();
    if let Some(members) = without_secrets.as_object_mut() {
        members.retain(|name, _| name != "client_secret" && name != "registration_access_token");
    }
    assert_eq!(without_secrets, stored, "the 201 is the stored metadata and the secrets, nothing else");
    let no_secret = RegistrationResponse { metadata: &stored, client_secret: None, registration_access_token: None };
    assert_eq!(serde_json::to_value(&no_secret).unwrap_or_else(|e| panic!("{e}")), stored);
}

#[test]
fn the_transport_binding_needs_the_certificate_as_x5c_of_a_tls_key() {
    use base64::Engine as _;
    let (ours, theirs) = (b"our transport certificate".as_slice(), b"another certificate".as_slice());
    let with_x5c = |key_use: &str, der: &[u8]| {
        let mut jwk = rsa_key().public_jwks()["keys"][0].clone();
        jwk["kid"] = json!(format!("{key_use}-{}", der.len()));
        jwk["use"] = json!(key_use);
        jwk["x5c"] = json!([base64::engine::general_purpose::STANDARD.encode(der)]);
        jwk
    };
    let keys = |jwks: Vec<Value>| PublicJwks::parse(&json!({"keys": jwks}), app::domain::jwks::Strictness::Strict).unwrap();
    let tls = keys(vec![with_x5c("sig", theirs), with_x5c("tls", ours)]);
    assert!(check_transport_binding(&tls, Some(ours)).is_ok());
    assert!(matches!(check_transport_binding(&tls, Some(theirs)), Err(RegistrationError::TransportCertificateNotInSoftwareJwks)));
    assert!(matches!(check_transport_binding(&tls, None), Err(RegistrationError::ClientCertificateMissing)));
    let signing_only = keys(vec![with_x5c("sig", ours)]);
    assert!(
        matches!(
            check_transport_binding(&signing_only, Some(ours)),
            Err(RegistrationError::TransportCertificateNotInSoftwareJwks)
        ),
        "a signing key's certificate is not a transport certificate"
    );
    assert_eq!(RegistrationError::TransportCertificateNotInSoftwareJwks.code(), ErrorCode::InvalidSoftwareStatement);
}
