//! Signing keys for JWS (PS256 or ES256): generated or loaded from PEM, published as a public
//! JWK, and used to sign compact JWS.

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{EncodingKey, Header};
use serde::Serialize;
use serde_json::Value;

use crate::oauth2::jose::JwsAlgorithm;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("key is not usable for {algorithm}: {source}")]
    Unusable { algorithm: JwsAlgorithm, source: jsonwebtoken::errors::Error },
    #[error("signing failed: {0}")]
    Sign(jsonwebtoken::errors::Error),
}

/// A private signing key with its key id.
pub struct SigningKey {
    algorithm: JwsAlgorithm,
    kid: String,
    encoding: EncodingKey,
    private_pem: String,
    public_jwk: Value,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("algorithm", &self.algorithm).field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random key: RSA-2048 for PS256, P-256 for ES256.
    pub fn generate(algorithm: JwsAlgorithm, kid: impl Into<String>) -> Result<Self, KeyError> {
        let pair = match algorithm {
            JwsAlgorithm::Ps256 => rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)?,
            JwsAlgorithm::Es256 => rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?,
        };
        Self::from_pem(algorithm, kid, &pair.serialize_pem())
    }

    /// A key from a PKCS#8 (or PKCS#1 / SEC1) PEM.
    pub fn from_pem(algorithm: JwsAlgorithm, kid: impl Into<String>, pem: &str) -> Result<Self, KeyError> {
        let unusable = |source| KeyError::Unusable { algorithm, source };
        let encoding = match algorithm {
            JwsAlgorithm::Ps256 => EncodingKey::from_rsa_pem(pem.as_bytes()),
            JwsAlgorithm::Es256 => EncodingKey::from_ec_pem(pem.as_bytes()),
        }
        .map_err(unusable)?;
        let kid = kid.into();
        let mut jwk = Jwk::from_encoding_key(&encoding, backend(algorithm)).map_err(unusable)?;
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(jsonwebtoken::jwk::PublicKeyUse::Signature);
        let public_jwk = serde_json::to_value(&jwk).unwrap_or(Value::Null);
        Ok(Self { algorithm, kid, encoding, private_pem: pem.to_owned(), public_jwk })
    }

    pub fn algorithm(&self) -> JwsAlgorithm {
        self.algorithm
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK (`kty`, `kid`, `use: sig`, `alg`, key parameters).
    pub fn public_jwk(&self) -> &Value {
        &self.public_jwk
    }

    /// A JWKS holding just this key's public part.
    pub fn public_jwks(&self) -> Value {
        serde_json::json!({ "keys": [self.public_jwk] })
    }

    pub fn private_pem(&self) -> &str {
        &self.private_pem
    }

    /// Signs `claims` as a compact JWS with header `{"alg", "kid", "typ": "JWT"}`.
    pub fn sign(&self, claims: &impl Serialize) -> Result<String, KeyError> {
        let mut header = Header::new(backend(self.algorithm));
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(KeyError::Sign)
    }
}

impl SigningKey {
    /// Signs `claims` under an arbitrary JOSE `header`; its `alg` may be any RSA algorithm
    /// (RS256, PS256) for an RSA key or ES256 for a P-256 key. For building negative test
    /// cases, such as the conformance tool's RS256 request.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> Result<String, KeyError> {
        let alg = header.get("alg").and_then(Value::as_str).unwrap_or_default();
        let backend_alg: jsonwebtoken::Algorithm = alg.parse().map_err(KeyError::Sign)?;
        self.sign_compact(header, claims, backend_alg)
    }

    /// Signs `claims` under `header` exactly as given, with this key's own algorithm whatever
    /// the header's `alg` says: a token whose header lies about how it was signed.
    pub fn sign_under_header(&self, header: &Value, claims: &Value) -> Result<String, KeyError> {
        self.sign_compact(header, claims, backend(self.algorithm))
    }

    fn sign_compact(&self, header: &Value, claims: &Value, algorithm: jsonwebtoken::Algorithm) -> Result<String, KeyError> {
        use base64::Engine as _;
        let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let signing_input = format!("{}.{}", b64(header), b64(claims));
        let signature =
            jsonwebtoken::crypto::sign(signing_input.as_bytes(), &self.encoding, algorithm).map_err(KeyError::Sign)?;
        Ok(format!("{signing_input}.{signature}"))
    }
}

fn backend(algorithm: JwsAlgorithm) -> jsonwebtoken::Algorithm {
    match algorithm {
        JwsAlgorithm::Ps256 => jsonwebtoken::Algorithm::PS256,
        JwsAlgorithm::Es256 => jsonwebtoken::Algorithm::ES256,
    }
}

/// A transport certificate's public key as a JWK with `use: tls` and the certificate in `x5c`,
/// as a directory publishes it in the TPP's key set. EC P-256 and RSA keys.
pub fn transport_jwk(cert_pem: &str, kid: &str) -> Result<Value, String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    use x509_parser::public_key::PublicKey;

    let der = CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|e| format!("not a PEM certificate: {e}"))?;
    let (_, certificate) = x509_parser::parse_x509_certificate(&der).map_err(|e| format!("not a certificate: {e}"))?;
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    let mut jwk = match certificate.public_key().parsed().map_err(|e| format!("unreadable public key: {e}"))? {
        PublicKey::EC(point) if point.data().len() == 65 && point.data().first() == Some(&4) => {
            let (x, y) = point.data()[1..].split_at(32);
            serde_json::json!({"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y)})
        }
        PublicKey::RSA(rsa) => {
            let unsigned = |bytes: &[u8]| b64(bytes.strip_prefix(&[0]).unwrap_or(bytes));
            serde_json::json!({"kty": "RSA", "n": unsigned(rsa.modulus), "e": unsigned(rsa.exponent)})
        }
        _ => return Err("only P-256 and RSA transport keys are supported".to_owned()),
    };
    jwk["kid"] = Value::String(kid.to_owned());
    jwk["use"] = Value::String("tls".to_owned());
    jwk["x5c"] = serde_json::json!([STANDARD.encode(der.as_ref())]);
    Ok(jwk)
}
