//! Compact JWS (RFC 7515 §7.1): parsing, the algorithm allow-list of FAPI 1 Part 2 §8.6 (PS256
//! and ES256 only: never `none`, HS*, or RS256), and signature verification with a public key
//! set. Headers that try to bring their own keys (`jwk`, `jku`, `x5u`, `x5c`) are ignored: keys
//! come only from the workspace's configuration or the software statement.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use app::domain::jwks::{PublicJwk, PublicJwks, PublicKeyMaterial};

use super::strict_json;

/// The most keys a JWS without a `kid` is tried against. Each try is a signature check (up to
/// about 80 µs for a 4096-bit RSA key), so an unbounded key set would let one request cost
/// milliseconds; a publisher with more keys of one type names them.
pub const MAX_KIDLESS_CANDIDATES: usize = 8;

pub use app::domain::signing::JwsAlgorithm;

/// Whether a key of `material`'s type can make or check signatures of `algorithm`.
fn fits(algorithm: JwsAlgorithm, material: &PublicKeyMaterial) -> bool {
    matches!(
        (algorithm, material),
        (JwsAlgorithm::Ps256, PublicKeyMaterial::Rsa { .. }) | (JwsAlgorithm::Es256, PublicKeyMaterial::EcP256 { .. })
    )
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    #[error("is not a compact JWS (three base64url segments)")]
    NotCompact,
    #[error("has a JOSE header that is not a base64url JSON object ({0})")]
    BadHeader(String),
    #[error("has a payload that is not a base64url JSON object ({0})")]
    BadPayload(String),
    #[error("has no \"alg\" header")]
    MissingAlgorithm,
    #[error("uses alg \"{0}\", which is not allowed; use PS256 or ES256")]
    AlgorithmNotAllowed(String),
    #[error("has a \"crit\" header naming extensions Onboard does not support")]
    CriticalHeader,
    #[error("names kid \"{0}\", which is not among the signing keys")]
    UnknownKid(String),
    #[error("has no kid and no signing key fits its algorithm")]
    NoCandidateKey,
    #[error(
        "has no kid, and {0} signing keys fit its algorithm; name the key with kid (at most {MAX_KIDLESS_CANDIDATES} are tried)"
    )]
    TooManyCandidateKeys(usize),
    #[error("has a signature that no key verifies")]
    BadSignature,
}

/// A parsed, not yet verified, compact JWS whose payload is a JSON object.
#[derive(Clone)]
pub struct CompactJws {
    header: Map<String, Value>,
    claims: Map<String, Value>,
    signing_input_len: usize,
    signature: Vec<u8>,
    text: String,
}

impl fmt::Debug for CompactJws {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompactJws").field("header", &self.header).finish_non_exhaustive()
    }
}

impl CompactJws {
    /// Parses the structure: three base64url segments, a JSON object header and payload.
    pub fn parse(text: &str) -> Result<Self, JwsError> {
        let text = text.trim();
        let mut segments = text.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (segments.next(), segments.next(), segments.next(), segments.next())
        else {
            return Err(JwsError::NotCompact);
        };
        if header.is_empty() || payload.is_empty() || signature.is_empty() {
            return Err(JwsError::NotCompact);
        }
        let header = decode_object(header).map_err(JwsError::BadHeader)?;
        let claims = decode_object(payload).map_err(JwsError::BadPayload)?;
        let signing_input_len = text.len() - signature.len() - 1;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| JwsError::NotCompact)?;
        Ok(Self { header, claims, signing_input_len, signature, text: text.to_owned() })
    }

    /// The `alg` header, if it is one Onboard accepts.
    pub fn algorithm(&self) -> Result<JwsAlgorithm, JwsError> {
        let name = self.header.get("alg").and_then(Value::as_str).ok_or(JwsError::MissingAlgorithm)?;
        JwsAlgorithm::parse(name).ok_or_else(|| JwsError::AlgorithmNotAllowed(name.to_owned()))
    }

    /// Checks the header can be processed: an allowed `alg` and no `crit` (RFC 7515 §4.1.11).
    pub fn check_header(&self) -> Result<JwsAlgorithm, JwsError> {
        let algorithm = self.algorithm()?;
        if self.header.contains_key("crit") {
            return Err(JwsError::CriticalHeader);
        }
        Ok(algorithm)
    }

    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    pub fn typ(&self) -> Option<&str> {
        self.header.get("typ").and_then(Value::as_str)
    }

    /// The claims, unverified. Use only to find the keys that verify them.
    pub fn unverified_claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The compact text and the claims, without copying them (after [`Self::verify`]).
    pub fn into_text_and_claims(self) -> (String, Map<String, Value>) {
        (self.text, self.claims)
    }

    /// Verifies the signature with the key named by `kid`, or (without a `kid`) with each
    /// signing key that fits the algorithm. Returns the now trusted claims.
    pub fn verify(&self, keys: &PublicJwks) -> Result<&Map<String, Value>, JwsError> {
        let algorithm = self.check_header()?;
        let candidates: Vec<&PublicJwk> = match self.kid() {
            Some(kid) => {
                let key = keys.find(kid).filter(|k| k.is_for_signing()).ok_or_else(|| JwsError::UnknownKid(kid.to_owned()))?;
                vec![key]
            }
            None => keys.keys().iter().filter(|k| k.is_for_signing() && fits(algorithm, &k.material)).collect(),
        };
        match candidates.len() {
            0 => return Err(JwsError::NoCandidateKey),
            n if n > MAX_KIDLESS_CANDIDATES => return Err(JwsError::TooManyCandidateKeys(n)),
            _ => {}
        }
        let signing_input = &self.text.as_bytes()[..self.signing_input_len];
        for key in candidates {
            if verifies(key, algorithm, signing_input, &self.signature) {
                return Ok(&self.claims);
            }
        }
        Err(JwsError::BadSignature)
    }
}

fn verifies(key: &PublicJwk, algorithm: JwsAlgorithm, signing_input: &[u8], signature: &[u8]) -> bool {
    if !fits(algorithm, &key.material) || key.alg.as_deref().is_some_and(|alg| alg != algorithm.as_str()) {
        return false;
    }
    parsed_keys::parsed(&key.material).is_some_and(|key| key.verifies(signing_input, signature))
}

fn decode_object(segment: &str) -> Result<Map<String, Value>, String> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).map_err(|_| "not base64url".to_owned())?;
    strict_json::parse_object(&bytes).map_err(|e| e.to_string())
}

mod parsed_keys;
#[cfg(test)]
pub(crate) mod tests;
