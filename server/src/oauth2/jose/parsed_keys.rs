//! Public keys parsed once for verification. Built from a JWK's components on every call (as
//! jsonwebtoken does), an RSA key is set up again each time, its Montgomery constants included;
//! parsed once by aws-lc-rs, it keeps them. The same few keys (a directory's, a TPP's) verify
//! request after request, so parsed keys are kept by their components, at most [`CAPACITY`].
//!
//! A PS256 signature is checked with the salt RFC 7518 §3.5 sets (as long as the hash, 32
//! bytes) and, failing that, with the longest salt the key allows: what Go's `crypto/rsa`
//! makes with `PSSSaltLengthAuto`, as jwt-go before v3.2.1 signs PS256 (and so the OBUK
//! conformance tool, built on jwt-go v3.2.0, signs its requests and assertions). The salt's
//! length is no part of PSS's security; the signature must still be the key's, over the same
//! input.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ParsedPublicKey, RSA_PSS_2048_8192_SHA256, RsaParameters, RsaPssSaltLength};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use app::domain::jwks::PublicKeyMaterial;

/// Keys kept by the process; past it the cache starts over. Keys come from configuration and
/// registered clients, so a full cache means unusual churn, and parsing again is only slower.
const CAPACITY: usize = 1_024;

/// PS256 with the longest salt the key allows (`emLen - hLen - 2` bytes).
static RSA_PSS_MAX_SALT_SHA256: RsaParameters = RSA_PSS_2048_8192_SHA256.with_pss_salt_length(RsaPssSaltLength::Max);

static PARSED: LazyLock<ParsedKeys> = LazyLock::new(|| ParsedKeys::with_capacity(CAPACITY));

/// The key for `material`, bound to the one algorithm Onboard verifies with it (PS256 for RSA,
/// ES256 for P-256); `None` when the components are not a usable key of that kind.
pub(super) fn parsed(material: &PublicKeyMaterial) -> Option<Arc<VerifyingKey>> {
    PARSED.get(material)
}

/// A public key ready to verify signatures of its one algorithm.
pub(super) enum VerifyingKey {
    /// PS256: the salt as long as the hash, or the longest (see the module's note).
    Rsa { hash_long_salt: ParsedPublicKey, longest_salt: ParsedPublicKey },
    /// ES256.
    EcP256(ParsedPublicKey),
}

impl VerifyingKey {
    /// Whether `signature` is this key's over `signing_input`.
    pub(super) fn verifies(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Rsa { hash_long_salt, longest_salt } => {
                hash_long_salt.verify_sig(signing_input, signature).is_ok()
                    || longest_salt.verify_sig(signing_input, signature).is_ok()
            }
            Self::EcP256(key) => key.verify_sig(signing_input, signature).is_ok(),
        }
    }
}

struct ParsedKeys {
    keys: RwLock<HashMap<PublicKeyMaterial, Arc<VerifyingKey>>>,
    capacity: usize,
}

impl ParsedKeys {
    fn with_capacity(capacity: usize) -> Self {
        Self { keys: RwLock::default(), capacity }
    }

    fn get(&self, material: &PublicKeyMaterial) -> Option<Arc<VerifyingKey>> {
        if let Some(key) = self.keys.read().unwrap_or_else(PoisonError::into_inner).get(material) {
            return Some(Arc::clone(key));
        }
        let key = Arc::new(parse(material)?);
        let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        if keys.len() >= self.capacity {
            keys.clear();
        }
        keys.insert(material.clone(), Arc::clone(&key));
        Some(key)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.keys.read().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// RSA as a PKCS#1 `RSAPublicKey` (RFC 8017 A.1.1) for RSASSA-PSS with SHA-256, 2048 to 8192
/// bits; P-256 as an uncompressed point (SEC 1 §2.3.3), whose coordinates must be 32 bytes
/// each (RFC 7518 §6.2.1.2).
fn parse(material: &PublicKeyMaterial) -> Option<VerifyingKey> {
    let decode = |component: &str| URL_SAFE_NO_PAD.decode(component).ok();
    match material {
        PublicKeyMaterial::Rsa { n, e } => {
            let (n, e) = (decode(n)?, decode(e)?);
            let der = yasna::construct_der(|writer| {
                writer.write_sequence(|sequence| {
                    sequence.next().write_bigint_bytes(&n, true);
                    sequence.next().write_bigint_bytes(&e, true);
                });
            });
            Some(VerifyingKey::Rsa {
                hash_long_salt: ParsedPublicKey::new(&RSA_PSS_2048_8192_SHA256, &der).ok()?,
                longest_salt: ParsedPublicKey::new(&RSA_PSS_MAX_SALT_SHA256, der).ok()?,
            })
        }
        PublicKeyMaterial::EcP256 { x, y } => {
            let (x, y) = (decode(x)?, decode(y)?);
            if x.len() != 32 || y.len() != 32 {
                return None;
            }
            ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, [&[0x04][..], &x, &y].concat()).ok().map(VerifyingKey::EcP256)
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};

    use super::*;
    use crate::oauth2::jose::tests::{jwks_of, rsa_key};

    fn encode(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn ec_material() -> PublicKeyMaterial {
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let point = pair.public_key().as_ref();
        PublicKeyMaterial::EcP256 { x: encode(&point[1..33]), y: encode(&point[33..]) }
    }

    fn rsa_material() -> PublicKeyMaterial {
        jwks_of(&[rsa_key()]).keys()[0].material.clone()
    }

    /// A JWS signed with PS256 by a 1024-bit RSA key, and that key's modulus, made for this test
    /// with `openssl genrsa 1024` and `openssl dgst -sha256 -sigopt rsa_padding_mode:pss
    /// -sigopt rsa_pss_saltlen:32` (which verifies it).
    const SIGNED_BY_RSA_1024: &str = "eyJhbGciOiJQUzI1NiIsImtpZCI6InNtYWxsIn0.eyJpc3MiOiJ0cHAifQ.B_95VJdGgrCFwPartYu6MrkG05ftgY_66I3Hg\
        SlZvt1c3vSQGfIKVhupHBC5boMRs3cvNHIVNGI0Hu7WJaPly8F02cOcWmRNQBkD_yAtE7wfQm_-pWh-ok3zSmp3aokl0yMF6ItJGA89YbWv63NxxrqZY1B7QMxq0\
        FoDkoi-x9o";
    const RSA_1024_N: &str = "wAyPQx5IeWaDLpEGhCXj2gAAVtdnzo43RWKHseUucMjnQUnib7YO_GuKgD-GtNqT7SPgqjKhDU5fr0HGlR94BivOSbTL2c6Jzy\
        rLem7I0Cxwzk9leSBpIqv4R3GOlj1ClHWlb4ZOg1Iw7Swgib11oojES1kYP5_mmifhKRRSz2s";

    #[test]
    fn a_key_is_parsed_once_and_kept() {
        let cache = ParsedKeys::with_capacity(4);
        let material = ec_material();
        let first = cache.get(&material).unwrap();
        assert!(Arc::ptr_eq(&first, &cache.get(&material).unwrap()));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn the_cache_keeps_at_most_its_capacity() {
        let cache = ParsedKeys::with_capacity(3);
        for _ in 0..7 {
            cache.get(&ec_material()).unwrap();
            assert!(cache.len() <= 3);
        }
    }

    #[test]
    fn an_rsa_key_under_2048_bits_verifies_nothing() {
        let cache = ParsedKeys::with_capacity(8);
        let key = cache.get(&PublicKeyMaterial::Rsa { n: RSA_1024_N.to_owned(), e: "AQAB".to_owned() }).unwrap();
        let (signing_input, signature) = SIGNED_BY_RSA_1024.rsplit_once('.').unwrap();
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        assert!(!key.verifies(signing_input.as_bytes(), &signature));
    }

    #[test]
    fn malformed_components_are_not_keys() {
        let cache = ParsedKeys::with_capacity(8);
        let PublicKeyMaterial::EcP256 { x, y } = ec_material() else { unreachable!() };
        let short = PublicKeyMaterial::EcP256 { x: x[1..].to_owned(), y: y.clone() };
        assert!(cache.get(&short).is_none(), "a 31-byte coordinate");
        let not_base64 = PublicKeyMaterial::EcP256 { x: format!("{}*", &x[1..]), y: y.clone() };
        assert!(cache.get(&not_base64).is_none());
        let off_curve = PublicKeyMaterial::EcP256 { x: y.clone(), y: x };
        assert!(cache.get(&off_curve).is_none(), "a point not on the curve");
        let PublicKeyMaterial::Rsa { n, .. } = rsa_material() else { unreachable!() };
        assert!(cache.get(&PublicKeyMaterial::Rsa { n, e: String::new() }).is_none(), "no exponent");
        assert_eq!(cache.len(), 0, "what is not a key is not kept");
    }
}
