//! Making a workspace's signing keys: RSA-2048 for PS256 or P-256 for ES256, identified by
//! their RFC 7638 JWK thumbprint.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use app::domain::signing::{SigningAlgorithm, SigningKeyMaterial};
use app::services::signing_keys::SigningKeyFactory;

use crate::oauth2::jose::JwsAlgorithm;
use crate::tpp::keys::SigningKey;

pub struct WorkspaceKeyFactory;

impl SigningKeyFactory for WorkspaceKeyFactory {
    fn generate(&self, algorithm: SigningAlgorithm) -> Result<SigningKeyMaterial, String> {
        let jws_algorithm = match algorithm {
            SigningAlgorithm::Ps256 => JwsAlgorithm::Ps256,
            SigningAlgorithm::Es256 => JwsAlgorithm::Es256,
        };
        let draft = SigningKey::generate(jws_algorithm, "pending").map_err(|e| e.to_string())?;
        let kid = thumbprint(draft.public_jwk()).ok_or("the new key has no public parameters")?;
        let key = SigningKey::from_pem(jws_algorithm, kid.clone(), draft.private_pem()).map_err(|e| e.to_string())?;
        Ok(SigningKeyMaterial {
            kid,
            algorithm,
            private_key_pem: key.private_pem().to_owned(),
            public_jwk: key.public_jwk().clone(),
        })
    }
}

/// Signs `claims` with a workspace key: header `{"alg", "kid", "typ": "at+jwt"}` (RFC 9068 §2.1).
pub fn sign_access_token(key: &SigningKeyMaterial, claims: &impl serde::Serialize) -> Result<String, String> {
    let (algorithm, encoding) = match key.algorithm {
        SigningAlgorithm::Ps256 => (jsonwebtoken::Algorithm::PS256, EncodingKey::from_rsa_pem(key.private_key_pem.as_bytes())),
        SigningAlgorithm::Es256 => (jsonwebtoken::Algorithm::ES256, EncodingKey::from_ec_pem(key.private_key_pem.as_bytes())),
    };
    let encoding = encoding.map_err(|e| format!("the workspace key {} is unusable: {e}", key.kid))?;
    let mut header = Header::new(algorithm);
    header.kid = Some(key.kid.clone());
    header.typ = Some("at+jwt".to_owned());
    jsonwebtoken::encode(&header, claims, &encoding).map_err(|e| format!("signing failed: {e}"))
}

/// RFC 7638 §3: SHA-256 over the key's required members in lexicographic order, base64url.
pub fn thumbprint(jwk: &Value) -> Option<String> {
    let member = |name: &str| jwk.get(name).and_then(Value::as_str);
    let canonical = match member("kty")? {
        "RSA" => json!({"e": member("e")?, "kty": "RSA", "n": member("n")?}),
        "EC" => json!({"crv": member("crv")?, "kty": "EC", "x": member("x")?, "y": member("y")?}),
        _ => return None,
    };
    // serde_json writes object members sorted and without whitespace: RFC 7638's form.
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.to_string().as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_rfc7638_for_ec_keys() {
        // RFC 7638 has an RSA example; this EC key's thumbprint is computed from its canonical
        // form by hand: {"crv":"P-256","kty":"EC","x":"...","y":"..."}.
        let jwk = json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "BBBB", "kid": "ignored", "use": "sig"});
        let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(br#"{"crv":"P-256","kty":"EC","x":"AAAA","y":"BBBB"}"#));
        assert_eq!(thumbprint(&jwk), Some(expected));
        assert_eq!(thumbprint(&json!({"kty": "oct", "k": "x"})), None);
    }

    #[test]
    fn new_keys_are_named_by_their_thumbprint_and_publish_no_private_part() {
        for algorithm in [SigningAlgorithm::Ps256, SigningAlgorithm::Es256] {
            let key = WorkspaceKeyFactory.generate(algorithm).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(Some(key.kid.clone()), thumbprint(&key.public_jwk));
            assert_eq!(key.public_jwk["kid"], key.kid.as_str());
            assert_eq!(key.public_jwk["alg"], algorithm.as_str());
            assert_eq!(key.public_jwk["use"], "sig");
            assert!(key.public_jwk.get("d").is_none());
            assert!(key.private_key_pem.contains("PRIVATE KEY"));
        }
    }
}
