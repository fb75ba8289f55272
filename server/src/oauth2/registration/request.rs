//! The first stages of the pipeline: transport, body, software statement presence, and the
//! keys that verify the request.

use serde_json::{Map, Value};

use app::domain::dcr::{DcrSettings, JwksUri, RequestSigningKeys};
use app::domain::jwks::{PublicJwk, PublicJwks, Strictness};

use super::RegistrationError;
use crate::oauth2::jose::{CompactJws, JwsError};
use crate::oauth2::software_statement::{self, SoftwareStatement, UnverifiedSoftwareStatement};
use crate::oauth2::strict_json;

/// What the edge found out about the client certificate of the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientCertificateCheck {
    /// No certificate was presented.
    Absent,
    /// The chain leads to one of the workspace's trusted CAs and is valid now.
    Trusted { subject: String },
    /// A certificate was presented but is not acceptable.
    Untrusted { subject: Option<String>, reason: String },
}

impl ClientCertificateCheck {
    pub fn subject(&self) -> Option<&str> {
        match self {
            Self::Absent => None,
            Self::Trusted { subject } => Some(subject),
            Self::Untrusted { subject, .. } => subject.as_deref(),
        }
    }
}

/// Step 1: with `require_mtls`, a trusted client certificate.
pub fn check_transport(dcr: &DcrSettings, certificate: &ClientCertificateCheck) -> Result<(), RegistrationError> {
    if !dcr.require_mtls {
        return Ok(());
    }
    match certificate {
        ClientCertificateCheck::Trusted { .. } => Ok(()),
        ClientCertificateCheck::Absent => Err(RegistrationError::ClientCertificateMissing),
        ClientCertificateCheck::Untrusted { reason, .. } => Err(RegistrationError::ClientCertificateUntrusted(reason.clone())),
    }
}

/// A registration request body: a JWS, or (only while signed bodies are not required) JSON.
#[derive(Debug, Clone)]
pub enum RegistrationRequest {
    Signed(CompactJws),
    Plain(Map<String, Value>),
}

impl RegistrationRequest {
    /// Step 2: the media type decides the form; a JWS must have an allowed algorithm.
    pub fn parse(content_type: Option<&str>, body: &[u8], dcr: &DcrSettings) -> Result<Self, RegistrationError> {
        let media_type = content_type.map(|value| value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
        match media_type.as_deref() {
            Some("application/jose" | "application/jwt") => {
                let text = std::str::from_utf8(body).map_err(|_| RegistrationError::MalformedRequestJwt(JwsError::NotCompact))?;
                let jws = CompactJws::parse(text).map_err(RegistrationError::MalformedRequestJwt)?;
                jws.check_header().map_err(RegistrationError::MalformedRequestJwt)?;
                Ok(Self::Signed(jws))
            }
            Some("application/json") if dcr.require_signed_request => Err(RegistrationError::SignedRequestRequired),
            Some("application/json") => strict_json::parse_object(body)
                .map(Self::Plain)
                .map_err(|e| RegistrationError::MalformedJson(format!("the JSON body {e}"))),
            Some(other) => Err(RegistrationError::UnsupportedContentType(other.to_owned())),
            None => Err(RegistrationError::UnsupportedContentType("(none)".to_owned())),
        }
    }

    /// The claims as sent; for a JWS, not yet verified.
    fn presented_claims(&self) -> &Map<String, Value> {
        match self {
            Self::Signed(jws) => jws.unverified_claims(),
            Self::Plain(claims) => claims,
        }
    }

    pub fn kid(&self) -> Option<&str> {
        match self {
            Self::Signed(jws) => jws.kid(),
            Self::Plain(_) => None,
        }
    }
}

/// Step 3a: the software statement is present when required, and comes from a trusted issuer.
pub fn inspect_software_statement(
    request: &RegistrationRequest,
    dcr: &DcrSettings,
) -> Result<Option<UnverifiedSoftwareStatement>, RegistrationError> {
    match request.presented_claims().get("software_statement") {
        None | Some(Value::Null) if dcr.require_software_statement => Err(RegistrationError::SoftwareStatementMissing),
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => software_statement::inspect(text, &dcr.software_statement_issuers).map(Some),
        Some(_) => Err(RegistrationError::SoftwareStatementNotJwt),
    }
}

/// Where the keys that verify a signed request come from. A URI the workspace configured is
/// the bank's responsibility when it fails; one the software statement names is the TPP's.
#[derive(Debug, Clone)]
pub enum RequestKeySource {
    Keys(PublicJwks),
    ConfiguredUri(JwksUri),
    SoftwareStatementUri(JwksUri),
}

/// Step 4a: the keys for the request signature, per the workspace's `request_signing_keys`.
pub fn request_key_source(dcr: &DcrSettings, ssa: Option<&SoftwareStatement>) -> Result<RequestKeySource, RegistrationError> {
    match &dcr.request_signing_keys {
        RequestSigningKeys::Jwks(keys) => Ok(RequestKeySource::Keys(keys.clone())),
        RequestSigningKeys::JwksUri(uri) => Ok(RequestKeySource::ConfiguredUri(uri.clone())),
        RequestSigningKeys::SoftwareStatement => software_key_source(ssa),
    }
}

/// The TPP keys a software statement names: its `software_jwks_endpoint`, or an inline
/// `software_jwks` (as sandbox directories issue).
pub(super) fn software_statement_keys(ssa: &SoftwareStatement) -> Result<Option<RequestKeySource>, RegistrationError> {
    if let Some(endpoint) = &ssa.jwks_endpoint {
        let uri = JwksUri::parse(endpoint).map_err(|_| RegistrationError::SoftwareJwksEndpointInvalid(endpoint.clone()))?;
        return Ok(Some(RequestKeySource::SoftwareStatementUri(uri)));
    }
    if let Some(inline) = &ssa.inline_jwks {
        let keys = PublicJwks::parse(inline, Strictness::SkipUnsupported).map_err(|e| {
            RegistrationError::SoftwareStatementClaimInvalid { claim: "software_jwks".to_owned(), problem: e.to_string() }
        })?;
        return Ok(Some(RequestKeySource::Keys(keys)));
    }
    Ok(None)
}

/// The TPP key set a software statement names, wherever the workspace takes the request's
/// signing keys from: what the transport certificate is bound to.
pub fn software_key_source(ssa: Option<&SoftwareStatement>) -> Result<RequestKeySource, RegistrationError> {
    let ssa = ssa.ok_or(RegistrationError::SoftwareStatementMissing)?;
    software_statement_keys(ssa)?.ok_or(RegistrationError::SoftwareStatementNamesNoKeys)
}

/// Step 7: the client certificate (`leaf`, DER) is one of the software's transport
/// certificates, a `use: tls` key of its key set with that certificate as `x5c[0]`.
pub fn check_transport_binding(software_keys: &PublicJwks, leaf: Option<&[u8]>) -> Result<(), RegistrationError> {
    let leaf = leaf.ok_or(RegistrationError::ClientCertificateMissing)?;
    let is_transport_key =
        |key: &PublicJwk| key.key_use.as_deref() == Some("tls") && key.x5c.first().is_some_and(|der| der == leaf);
    if software_keys.keys().iter().any(is_transport_key) {
        Ok(())
    } else {
        Err(RegistrationError::TransportCertificateNotInSoftwareJwks)
    }
}

/// Step 4b: the request's signature, with the keys of step 4a. Returns the trusted claims.
pub fn verify_request<'a>(jws: &'a CompactJws, keys: &PublicJwks) -> Result<&'a Map<String, Value>, RegistrationError> {
    jws.verify(keys).map_err(|e| RegistrationError::RequestSignatureInvalid(format!("the request {e}")))
}
