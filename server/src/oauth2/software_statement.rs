//! Software statement assertions (OBUK-DCR.md §3): a JWS from a directory the workspace
//! trusts, describing the TPP's software. Checked in two steps because the keys that verify it
//! are fetched in between: [`inspect`] (structure, algorithm, trusted issuer), then
//! [`verify`] (signature, validity window, organisation status).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

use app::domain::dcr::SoftwareStatementIssuer;
use app::domain::jwks::PublicJwks;

use super::CLOCK_SKEW_SECONDS;
use super::jose::{CompactJws, JwsError};
use super::registration::RegistrationError;

/// SSA claims that are copied into the registration response as top-level members (OBUK DCR
/// v3.2 §Data Mapping: "each of these is flattened out"), limited to the OB-documented ones.
pub const FLATTENED_CLAIMS: [&str; 23] = [
    "software_id",
    "software_client_id",
    "software_client_name",
    "software_client_description",
    "software_client_uri",
    "software_version",
    "software_environment",
    "software_mode",
    "software_redirect_uris",
    "software_roles",
    "software_jwks_endpoint",
    "software_jwks_revoked_endpoint",
    "software_logo_uri",
    "software_policy_uri",
    "software_tos_uri",
    "software_on_behalf_of_org",
    "organisation_competent_authority_claims",
    "org_status",
    "org_id",
    "org_name",
    "org_contacts",
    "org_jwks_endpoint",
    "org_jwks_revoked_endpoint",
];

/// A software statement whose issuer is trusted, awaiting signature verification.
#[derive(Debug, Clone)]
pub struct UnverifiedSoftwareStatement {
    jws: CompactJws,
    issuer: String,
}

impl UnverifiedSoftwareStatement {
    pub fn kid(&self) -> Option<&str> {
        self.jws.kid()
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// A claim as the statement asserts it, before verification; for audit records only.
    pub fn claimed(&self, name: &str) -> Option<String> {
        let value = self.jws.unverified_claims().get(name)?.as_str()?;
        Some(value.chars().take(128).collect())
    }
}

/// `organisation_competent_authority_claims`: the TPP's authorisation by its national
/// competent authority, and the roles it covers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CompetentAuthorityClaims {
    pub authority_id: Option<String>,
    pub registration_id: Option<String>,
    pub status: Option<String>,
    #[serde(default)]
    pub authorisations: Vec<Authorisation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Authorisation {
    pub member_state: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
}

impl CompetentAuthorityClaims {
    /// Whether any authorisation covers `role` (the directory specification notes that case
    /// varies between statements, so roles compare case-insensitively).
    pub fn authorises(&self, role: &str) -> bool {
        self.authorisations.iter().any(|a| a.roles.iter().any(|r| r.eq_ignore_ascii_case(role)))
    }
}

/// The typed claims Onboard reads; the rest are kept in `claims` for the response.
#[derive(Debug, Deserialize)]
#[expect(clippy::struct_field_names, reason = "the names are the OB claim names")]
struct Claims {
    software_id: Option<String>,
    iat: Option<i64>,
    exp: Option<i64>,
    nbf: Option<i64>,
    org_status: Option<String>,
    org_id: Option<String>,
    org_name: Option<String>,
    software_client_name: Option<String>,
    #[serde(default)]
    software_roles: Vec<String>,
    #[serde(default)]
    software_redirect_uris: Vec<String>,
    software_jwks_endpoint: Option<String>,
    software_jwks: Option<Value>,
    organisation_competent_authority_claims: Option<CompetentAuthorityClaims>,
}

/// A verified software statement.
#[derive(Debug, Clone)]
pub struct SoftwareStatement {
    /// The compact JWS as presented, echoed in the registration response.
    pub compact: String,
    pub issuer: String,
    pub software_id: String,
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    pub client_name: Option<String>,
    pub roles: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub jwks_endpoint: Option<String>,
    pub inline_jwks: Option<Value>,
    pub competent_authority: Option<CompetentAuthorityClaims>,
    /// Every claim, for flattening into the response.
    pub claims: Map<String, Value>,
}

impl SoftwareStatement {
    /// The claims of [`FLATTENED_CLAIMS`] present in this statement.
    pub fn flattened_claims(&self) -> impl Iterator<Item = (&str, &Value)> {
        FLATTENED_CLAIMS.into_iter().filter_map(|name| self.claims.get(name).map(|value| (name, value)))
    }
}

/// Step one: the statement is a JWS with an allowed algorithm, from a trusted issuer.
pub fn inspect(
    text: &str,
    trusted_issuers: &[SoftwareStatementIssuer],
) -> Result<UnverifiedSoftwareStatement, RegistrationError> {
    let jws = CompactJws::parse(text).map_err(|error| match error {
        JwsError::NotCompact => RegistrationError::SoftwareStatementNotJwt,
        other => RegistrationError::SoftwareStatementMalformed(other),
    })?;
    jws.check_header().map_err(RegistrationError::SoftwareStatementMalformed)?;
    // OB directory specification: the SSA header's `typ` MUST be JWT.
    let typ_problem = match jws.typ() {
        Some(typ) if typ.eq_ignore_ascii_case("JWT") => None,
        Some(typ) => Some(format!("is '{typ}'; a software statement is a JWT")),
        None => Some("is required and must be 'JWT'".to_owned()),
    };
    if let Some(problem) = typ_problem {
        return Err(RegistrationError::SoftwareStatementClaimInvalid { claim: "typ (header)".to_owned(), problem });
    }
    let issuer = jws
        .unverified_claims()
        .get("iss")
        .and_then(Value::as_str)
        .filter(|iss| !iss.is_empty())
        .ok_or(RegistrationError::SoftwareStatementIssuerMissing)?
        .to_owned();
    if !trusted_issuers.iter().any(|trusted| trusted.issuer == issuer) {
        return Err(RegistrationError::SoftwareStatementIssuerNotTrusted(issuer));
    }
    Ok(UnverifiedSoftwareStatement { jws, issuer })
}

/// Step two: the signature verifies with the issuer's keys, the validity window holds (and,
/// with `max_age_seconds`, the statement's `iat` is no older than that) and the organisation is
/// active.
pub fn verify(
    unverified: UnverifiedSoftwareStatement,
    keys: &PublicJwks,
    now: DateTime<Utc>,
    max_age_seconds: Option<u32>,
) -> Result<SoftwareStatement, RegistrationError> {
    let claims_map = unverified
        .jws
        .verify(keys)
        .map_err(|e| RegistrationError::SoftwareStatementSignatureInvalid(format!("the software statement {e}")))?;
    let claims: Claims = serde_path_to_error::deserialize(claims_map).map_err(|e| {
        RegistrationError::SoftwareStatementClaimInvalid { claim: e.path().to_string(), problem: e.inner().to_string() }
    })?;
    check_validity_window(&claims, now.timestamp(), max_age_seconds)?;
    let software_id = claims.software_id.ok_or_else(|| RegistrationError::SoftwareStatementClaimInvalid {
        claim: "software_id".to_owned(),
        problem: "is required".to_owned(),
    })?;
    if !is_base62_id(&software_id) {
        return Err(RegistrationError::SoftwareStatementClaimInvalid {
            claim: "software_id".to_owned(),
            problem: "must be 1 to 22 letters or digits".to_owned(),
        });
    }
    match claims.org_status.as_deref() {
        Some(status) if status.eq_ignore_ascii_case("active") => {}
        Some(status) => return Err(RegistrationError::OrganisationNotActive(status.to_owned())),
        None => return Err(RegistrationError::OrganisationNotActive("absent".to_owned())),
    }
    if let Some(authority) = &claims.organisation_competent_authority_claims {
        match authority.status.as_deref() {
            Some(status) if status.eq_ignore_ascii_case("active") => {}
            other => return Err(RegistrationError::CompetentAuthorityNotActive(other.unwrap_or("absent").to_owned())),
        }
    }
    let (compact, claims_map) = unverified.jws.into_text_and_claims();
    Ok(SoftwareStatement {
        compact,
        issuer: unverified.issuer,
        software_id,
        org_id: claims.org_id,
        org_name: claims.org_name,
        client_name: claims.software_client_name,
        roles: claims.software_roles,
        redirect_uris: claims.software_redirect_uris,
        jwks_endpoint: claims.software_jwks_endpoint,
        inline_jwks: claims.software_jwks,
        competent_authority: claims.organisation_competent_authority_claims,
        claims: claims_map,
    })
}

/// `exp`, `nbf` and `iat` (RFC 7519 §4.1.4-6), each with the clock skew allowed, and the
/// workspace's maximum age, if it sets one.
fn check_validity_window(claims: &Claims, now: i64, max_age_seconds: Option<u32>) -> Result<(), RegistrationError> {
    if claims.exp.is_some_and(|exp| now > exp.saturating_add(CLOCK_SKEW_SECONDS)) {
        return Err(RegistrationError::SoftwareStatementExpired);
    }
    if claims.nbf.is_some_and(|nbf| nbf > now.saturating_add(CLOCK_SKEW_SECONDS)) {
        return Err(RegistrationError::SoftwareStatementNotYetValid);
    }
    if claims.iat.is_some_and(|iat| iat > now.saturating_add(CLOCK_SKEW_SECONDS)) {
        return Err(RegistrationError::SoftwareStatementFromTheFuture);
    }
    if let Some(max) = max_age_seconds {
        let iat = claims.iat.ok_or_else(|| RegistrationError::SoftwareStatementClaimInvalid {
            claim: "iat".to_owned(),
            problem: "is required: this workspace limits how old a software statement may be".to_owned(),
        })?;
        let age = now.saturating_sub(iat);
        if age > i64::from(max).saturating_add(CLOCK_SKEW_SECONDS) {
            return Err(RegistrationError::SoftwareStatementTooOld { age_seconds: age, max_seconds: max });
        }
    }
    Ok(())
}

/// OB identifiers such as `software_id` and the request `iss`: `^[0-9a-zA-Z]{1,22}$`.
pub fn is_base62_id(value: &str) -> bool {
    (1..=22).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric())
}
