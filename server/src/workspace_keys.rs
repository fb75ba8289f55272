//! A workspace's signing keys: made (RSA-2048 for PS256 or P-256 for ES256, identified by
//! their RFC 7638 JWK thumbprint) and sealed at once under the key encryption key, then opened
//! and parsed once to sign access tokens.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PSS_SHA256, RsaKeyPair};
use rustls::pki_types::PrivatePkcs8KeyDer;
use rustls::pki_types::pem::PemObject as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use app::domain::signing::{JwsAlgorithm, SigningKeyMaterial};
use app::services::signing_keys::SigningKeyFactory;

use crate::sealing::KeyEncryptionKey;
use crate::tpp::keys::SigningKey;

/// Makes workspace keys, sealing each private half before it leaves the factory.
pub struct WorkspaceKeyFactory {
    pub kek: Arc<KeyEncryptionKey>,
}

impl SigningKeyFactory for WorkspaceKeyFactory {
    fn generate(&self, algorithm: JwsAlgorithm) -> Result<SigningKeyMaterial, String> {
        let draft = SigningKey::generate(algorithm, "pending").map_err(|e| e.to_string())?;
        let kid = thumbprint(draft.public_jwk()).ok_or("the new key has no public parameters")?;
        let key = SigningKey::from_pem(algorithm, kid.clone(), draft.private_pem()).map_err(|e| e.to_string())?;
        let sealed_private_key = self.kek.seal(key.private_pem(), &kid).map_err(|e| format!("the new key {e}"))?;
        Ok(SigningKeyMaterial {
            kid,
            algorithm,
            sealed_private_key: Some(sealed_private_key),
            public_jwk: key.public_jwk().clone(),
        })
    }
}

/// Workspace signing keys opened and parsed once and kept by `kid`. A key's `kid` is its
/// thumbprint, so an entry never goes stale; parsing a PEM for every token would triple its
/// signing cost.
pub struct TokenSigners {
    kek: Arc<KeyEncryptionKey>,
    parsed: RwLock<HashMap<String, Arc<ParsedKey>>>,
    rng: SystemRandom,
}

enum ParsedKey {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// More keys than any deployment holds: past it the cache starts again rather than grow.
const MAX_PARSED_KEYS: usize = 4096;

impl TokenSigners {
    pub fn new(kek: Arc<KeyEncryptionKey>) -> Self {
        Self { kek, parsed: RwLock::default(), rng: SystemRandom::new() }
    }

    /// Signs `claims` with a workspace key: header `{"alg", "kid", "typ": "at+jwt"}` (RFC 9068
    /// §2.1).
    pub fn sign_access_token(&self, key: &SigningKeyMaterial, claims: &impl serde::Serialize) -> Result<String, String> {
        let parsed = self.parsed(key)?;
        let header = json!({"alg": key.algorithm.as_str(), "kid": key.kid, "typ": "at+jwt"});
        let claims = serde_json::to_vec(claims).map_err(|e| format!("the claims cannot be serialised: {e}"))?;
        let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims));
        let failed = |e: aws_lc_rs::error::Unspecified| format!("signing failed: {e}");
        let signature = match parsed.as_ref() {
            ParsedKey::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PSS_SHA256, &self.rng, input.as_bytes(), &mut signature).map_err(failed)?;
                signature
            }
            ParsedKey::Ec(pair) => pair.sign(&self.rng, input.as_bytes()).map_err(failed)?.as_ref().to_vec(),
        };
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    /// Lets go of a key's parsed private half (its key has retired and been erased).
    pub fn forget(&self, kid: &str) {
        if let Ok(mut cache) = self.parsed.write() {
            cache.remove(kid);
        }
    }

    fn parsed(&self, key: &SigningKeyMaterial) -> Result<Arc<ParsedKey>, String> {
        if let Some(parsed) = self.parsed.read().map_err(|_| "the key cache is poisoned")?.get(&key.kid) {
            return Ok(parsed.clone());
        }
        let unusable = |e: String| format!("the workspace key {} is unusable: {e}", key.kid);
        let sealed = key
            .sealed_private_key
            .as_deref()
            .ok_or_else(|| unusable("it has retired and its private half is erased".to_owned()))?;
        let pem = self.kek.open(sealed, &key.kid).map_err(|e| unusable(format!("its sealed private key {e}")))?;
        let der = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes()).map_err(|e| unusable(e.to_string()))?;
        let parsed = Arc::new(match key.algorithm {
            JwsAlgorithm::Ps256 => {
                ParsedKey::Rsa(RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).map_err(|e| unusable(e.to_string()))?)
            }
            JwsAlgorithm::Es256 => ParsedKey::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der.secret_pkcs8_der())
                    .map_err(|e| unusable(e.to_string()))?,
            ),
        });
        let mut cache = self.parsed.write().map_err(|_| "the key cache is poisoned")?;
        if cache.len() >= MAX_PARSED_KEYS {
            cache.clear();
        }
        cache.insert(key.kid.clone(), parsed.clone());
        Ok(parsed)
    }
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

    fn factory() -> WorkspaceKeyFactory {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let kek = KeyEncryptionKey::load_or_generate(&dir.path().join("kek"), true).unwrap_or_else(|e| panic!("{e}"));
        WorkspaceKeyFactory { kek: Arc::new(kek) }
    }

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
    fn access_tokens_verify_with_the_published_key() {
        use app::domain::jwks::{PublicJwks, Strictness};
        let factory = factory();
        let signers = TokenSigners::new(factory.kek.clone());
        for algorithm in [JwsAlgorithm::Ps256, JwsAlgorithm::Es256] {
            let key = factory.generate(algorithm).unwrap_or_else(|e| panic!("{e}"));
            let keys =
                PublicJwks::parse(&json!({"keys": [key.public_jwk]}), Strictness::Strict).unwrap_or_else(|e| panic!("{e}"));
            for _ in 0..2 {
                let token = signers.sign_access_token(&key, &json!({"sub": "c1"})).unwrap_or_else(|e| panic!("{e}"));
                let jws = crate::oauth2::jose::CompactJws::parse(&token).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!((jws.kid(), jws.typ()), (Some(key.kid.as_str()), Some("at+jwt")));
                assert_eq!(jws.verify(&keys).map(|claims| claims["sub"].clone()), Ok(json!("c1")));
            }
        }
    }

    #[test]
    fn new_keys_are_named_by_their_thumbprint_sealed_and_publish_no_private_part() {
        let factory = factory();
        for algorithm in [JwsAlgorithm::Ps256, JwsAlgorithm::Es256] {
            let key = factory.generate(algorithm).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(Some(key.kid.clone()), thumbprint(&key.public_jwk));
            assert_eq!(key.public_jwk["kid"], key.kid.as_str());
            assert_eq!(key.public_jwk["alg"], algorithm.as_str());
            assert_eq!(key.public_jwk["use"], "sig");
            assert!(key.public_jwk.get("d").is_none());
            let sealed = key.sealed_private_key.clone().unwrap_or_default();
            assert!(!sealed.contains("PRIVATE KEY"), "sealed before it is stored");
            let opened = factory.kek.open(&sealed, &key.kid).unwrap_or_default();
            assert!(opened.starts_with("-----BEGIN PRIVATE KEY-----"));
        }
    }
}
