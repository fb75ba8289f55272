//! Why a registration was refused: one variant per rule, each with its RFC 7591 §3.2.2 error
//! code and a description that names the claim and the rule (OBUK-DCR.md §1.3). Where the
//! conformance tool's fork checks a wording, the description carries it.

use app::domain::policy::PolicyErrorCode;

use crate::oauth2::jose::JwsError;

/// The `error` codes of RFC 7591 §3.2.2 that OBUK DCR v3.2 uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// "The value of one or more redirection URIs is invalid."
    InvalidRedirectUri,
    /// "The value of one of the client metadata fields is invalid and the server has rejected
    /// this request."
    InvalidClientMetadata,
    /// "The software statement presented is invalid."
    InvalidSoftwareStatement,
    /// "The software statement presented is not approved for use by this authorization server."
    UnapprovedSoftwareStatement,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRedirectUri => "invalid_redirect_uri",
            Self::InvalidClientMetadata => "invalid_client_metadata",
            Self::InvalidSoftwareStatement => "invalid_software_statement",
            Self::UnapprovedSoftwareStatement => "unapproved_software_statement",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    // Transport (OBUK-DCR.md §2.4 step 1).
    #[error("client certificate: mutual TLS with a client certificate is required (MTLS client certificate is missing)")]
    ClientCertificateMissing,
    #[error("client certificate: {0}")]
    ClientCertificateUntrusted(String),

    // Body (step 2).
    #[error("request body: Content-Type {0} is not accepted; send a signed JWT as application/jose or application/jwt")]
    UnsupportedContentType(String),
    #[error("request body: this workspace requires a signed registration request (application/jose or application/jwt)")]
    SignedRequestRequired,
    #[error("request body: {0}")]
    MalformedJson(String),
    #[error("request body: larger than {limit_kib} KiB")]
    BodyTooLarge { limit_kib: usize },
    #[error("request body: could not be read (the connection ended or its framing was broken)")]
    BodyUnreadable,
    #[error("Registration Request JWT is invalid: the request {0}")]
    MalformedRequestJwt(JwsError),

    // Software statement (step 3).
    #[error("software_statement: required by this workspace")]
    SoftwareStatementMissing,
    #[error("software_statement: required to update a client that registered with one")]
    SoftwareStatementRequiredForUpdate,
    #[error("Registration Request contains an invalid software_statement, software_statement claim is not an encoded JWT")]
    SoftwareStatementNotJwt,
    #[error("Registration Request contains an invalid software_statement: the software statement {0}")]
    SoftwareStatementMalformed(JwsError),
    #[error("software_statement: has no iss claim")]
    SoftwareStatementIssuerMissing,
    #[error("The issuer of the software statement is unrecognised: '{0}' is not a trusted issuer of this workspace")]
    SoftwareStatementIssuerNotTrusted(String),
    #[error("Registration Request contains an invalid software_statement, Expected JWT to have a valid signature ({0})")]
    SoftwareStatementSignatureInvalid(String),
    #[error("software_statement: claim {claim} {problem}")]
    SoftwareStatementClaimInvalid { claim: String, problem: String },
    #[error("software_statement: has expired (exp)")]
    SoftwareStatementExpired,
    #[error("software_statement: is issued in the future (iat)")]
    SoftwareStatementFromTheFuture,
    #[error("software_statement: is not valid yet (nbf)")]
    SoftwareStatementNotYetValid,
    #[error(
        "software_statement: was issued {age_seconds} seconds ago (iat); this workspace accepts statements at most {max_seconds} seconds old"
    )]
    SoftwareStatementTooOld { age_seconds: i64, max_seconds: u32 },
    #[error("software_statement: org_status is '{0}'; only Active organisations may register")]
    OrganisationNotActive(String),
    #[error("software_statement: organisation_competent_authority_claims status is '{0}'; it must be Active")]
    CompetentAuthorityNotActive(String),
    #[error(
        "software_statement: organisation_competent_authority_claims hold no authorisation for role {role}, which scope '{scope}' needs"
    )]
    RoleNotAuthorised { role: String, scope: String },
    #[error(
        "software_statement: names neither software_jwks_endpoint nor software_jwks, so the request signature cannot be verified"
    )]
    SoftwareStatementNamesNoKeys,
    #[error("software_statement: software_jwks_endpoint '{0}' is not an https URL")]
    SoftwareJwksEndpointInvalid(String),
    #[error(
        "tls transport cert does not match any certs registered in jwks for software statement (no use \"tls\" key has it as its x5c[0])"
    )]
    TransportCertificateNotInSoftwareJwks,

    // Request signature (step 4).
    #[error("Registration Request JWT is invalid: Expected JWT to have a valid signature ({0})")]
    RequestSignatureInvalid(String),
    #[error("Registration Request JWT could not be verified: {0}")]
    RequestKeysUnavailable(String),

    // Claims (step 5).
    #[error("{0}: required")]
    ClaimMissing(&'static str),
    #[error("{claim}: {problem}")]
    ClaimInvalid { claim: String, problem: String },
    #[error("exp: registration request jwt has expired")]
    Expired,
    #[error("iat: the registration request is issued in the future")]
    IssuedInTheFuture,
    #[error("nbf: the registration request is not valid yet")]
    NotYetValid,
    #[error("exp: the registration request may be valid for at most {max} seconds after iat, not {seconds}")]
    LifetimeTooLong { seconds: i64, max: i64 },
    #[error("aud: '{0}' is not an audience this workspace accepts")]
    AudienceNotAccepted(String),
    #[error("iss: invalid issuer claim; it must be the software statement's software_id '{expected}'")]
    IssuerNotSoftwareId { expected: String },
    #[error("software_id: must equal the software statement's software_id '{expected}'")]
    SoftwareIdMismatch { expected: String },
    #[error("jti: Rejected the replayed jti in the registration request")]
    Replayed,

    // Metadata (step 6).
    #[error("redirect_uris: '{uri}' {problem}")]
    RedirectUriInvalid { uri: String, problem: &'static str },
    #[error(
        "invalid registration request redirect_uris value, must match or be a subset of the software_redirect_uris ('{0}' is not listed)"
    )]
    RedirectUriNotInSoftwareStatement(String),
    #[error("redirect_uris: at least one is required with the authorization_code grant type")]
    RedirectUrisRequired,
    #[error("token_endpoint_auth_method not supported, must be one of: [{allowed}]")]
    AuthMethodNotAllowed { allowed: String },
    #[error("tls_client_auth_subject_dn must be provided to use tls_client_auth")]
    SubjectDnRequired,
    #[error("tls_client_auth_subject_dn: may be given only with token_endpoint_auth_method tls_client_auth")]
    SubjectDnNotAllowed,
    #[error("token_endpoint_auth_signing_alg: required with token_endpoint_auth_method {0}")]
    SigningAlgRequired(String),
    #[error("token_endpoint_auth_signing_alg: may be given only with private_key_jwt or client_secret_jwt")]
    SigningAlgNotAllowed,
    #[error("request object field: {claim}, must be one of: [PS256, ES256] (got '{alg}')")]
    AlgorithmNotAllowed { claim: &'static str, alg: String },
    #[error("Invalid response_types value: {0}, must be one of: \"code\" or \"code id_token\"")]
    ResponseTypeNotAllowed(String),
    #[error("response_types: '{0}' needs the authorization_code grant type")]
    ResponseTypeNeedsAuthorizationCode(String),
    #[error("grant_types: '{0}' is not allowed by this workspace")]
    GrantTypeNotAllowed(String),
    #[error("scope: '{0}' is not offered by this workspace")]
    ScopeNotOffered(String),
    #[error(
        "registration request contains scopes not allowed for the presented software statement ('{scope}' needs one of the roles: {roles})"
    )]
    ScopeNotAllowedByRoles { scope: String, roles: String },
    #[error("application_type: must be web or mobile, not '{0}'")]
    ApplicationTypeInvalid(String),
    #[error(
        "token_endpoint_auth_method private_key_jwt: the client's keys are unknown; the software statement must name software_jwks_endpoint or software_jwks"
    )]
    ClientKeysRequired,

    // The workspace's DCR policy (after the built-in rules).
    #[error("{description}")]
    RefusedByPolicy { code: PolicyErrorCode, description: String },
}

impl RegistrationError {
    pub fn code(&self) -> ErrorCode {
        use RegistrationError as E;
        match self {
            E::RedirectUriInvalid { .. } | E::RedirectUriNotInSoftwareStatement(_) | E::RedirectUrisRequired => {
                ErrorCode::InvalidRedirectUri
            }
            E::SoftwareStatementMissing
            | E::SoftwareStatementRequiredForUpdate
            | E::SoftwareStatementNotJwt
            | E::SoftwareStatementMalformed(_)
            | E::SoftwareStatementIssuerMissing
            | E::SoftwareStatementSignatureInvalid(_)
            | E::SoftwareStatementClaimInvalid { .. }
            | E::SoftwareStatementExpired
            | E::SoftwareStatementFromTheFuture
            | E::SoftwareStatementNotYetValid
            | E::SoftwareStatementTooOld { .. }
            | E::SoftwareStatementNamesNoKeys
            | E::SoftwareJwksEndpointInvalid(_)
            | E::TransportCertificateNotInSoftwareJwks => ErrorCode::InvalidSoftwareStatement,
            E::SoftwareStatementIssuerNotTrusted(_)
            | E::OrganisationNotActive(_)
            | E::CompetentAuthorityNotActive(_)
            | E::RoleNotAuthorised { .. } => ErrorCode::UnapprovedSoftwareStatement,
            E::RefusedByPolicy { code, .. } => match code {
                PolicyErrorCode::UnapprovedSoftwareStatement => ErrorCode::UnapprovedSoftwareStatement,
                PolicyErrorCode::InvalidRedirectUri => ErrorCode::InvalidRedirectUri,
                PolicyErrorCode::InvalidClientMetadata => ErrorCode::InvalidClientMetadata,
            },
            _ => ErrorCode::InvalidClientMetadata,
        }
    }

    /// "code: description", as a dry run shows a failed check.
    pub fn detail(&self) -> String {
        format!("{}: {}", self.code().as_str(), self.description())
    }

    /// The `error_description`: within the 500 characters the OB swagger allows, and with
    /// control characters from echoed input replaced, so it is safe in logs and audit records.
    pub fn description(&self) -> String {
        let mut text: String = self.to_string().chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        if text.len() > 500 {
            let mut end = 497;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text.push_str("...");
        }
        text
    }
}
