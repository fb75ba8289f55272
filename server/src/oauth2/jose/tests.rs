use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::*;
use crate::tpp::keys::SigningKey;
use app::domain::jwks::Strictness;

/// Keys are generated once per test binary: RSA generation is the slow part.
pub(crate) fn rsa_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate(JwsAlgorithm::Ps256, "rsa-1").unwrap_or_else(|e| panic!("{e}")))
}

pub(crate) fn other_rsa_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate(JwsAlgorithm::Ps256, "rsa-1").unwrap_or_else(|e| panic!("{e}")))
}

pub(crate) fn ec_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate(JwsAlgorithm::Es256, "ec-1").unwrap_or_else(|e| panic!("{e}")))
}

pub(crate) fn jwks_of(keys: &[&SigningKey]) -> PublicJwks {
    let json = json!({ "keys": keys.iter().map(|k| k.public_jwk().clone()).collect::<Vec<_>>() });
    PublicJwks::parse(&json, Strictness::Strict).unwrap_or_else(|e| panic!("{e}"))
}

fn claims() -> Value {
    json!({"iss": "tpp", "n": 1})
}

fn verify(token: &str, keys: &PublicJwks) -> Result<Map<String, Value>, JwsError> {
    CompactJws::parse(token)?.verify(keys).cloned()
}

fn signed(key: &SigningKey, header: &Value) -> String {
    key.sign_with_header(header, &claims()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn verifies_ps256_and_es256_by_kid() {
    let keys = jwks_of(&[rsa_key(), ec_key()]);
    for key in [rsa_key(), ec_key()] {
        let token = key.sign(&claims()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(verify(&token, &keys).map(|c| c["iss"].clone()), Ok(json!("tpp")));
    }
}

#[test]
fn without_kid_tries_each_fitting_key() {
    let keys = jwks_of(&[ec_key(), rsa_key()]);
    let token = signed(rsa_key(), &json!({"alg": "PS256"}));
    assert!(verify(&token, &keys).is_ok());
}

#[test]
fn without_kid_at_most_a_few_keys_are_tried() {
    let set = |count: usize| {
        let keys: Vec<Value> = (0..count)
            .map(|i| {
                let mut jwk = rsa_key().public_jwk().clone();
                jwk["kid"] = json!(format!("rsa-{i}"));
                jwk
            })
            .collect();
        PublicJwks::parse(&json!({ "keys": keys }), Strictness::Strict).unwrap_or_else(|e| panic!("{e}"))
    };
    let token = signed(rsa_key(), &json!({"alg": "PS256"}));
    assert!(verify(&token, &set(MAX_KIDLESS_CANDIDATES)).is_ok());
    assert_eq!(verify(&token, &set(MAX_KIDLESS_CANDIDATES + 1)), Err(JwsError::TooManyCandidateKeys(MAX_KIDLESS_CANDIDATES + 1)));
    let named = rsa_key().sign_with_header(&json!({"alg": "PS256", "kid": "rsa-8"}), &claims()).unwrap_or_else(|e| panic!("{e}"));
    assert!(verify(&named, &set(MAX_KIDLESS_CANDIDATES + 1)).is_ok());
}

#[test]
fn a_different_key_with_the_same_kid_fails() {
    let token = other_rsa_key().sign(&claims()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(verify(&token, &jwks_of(&[rsa_key()])), Err(JwsError::BadSignature));
}

#[test]
fn unknown_kid_and_missing_keys_are_reported() {
    let token = ec_key().sign(&claims()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(verify(&token, &jwks_of(&[rsa_key()])), Err(JwsError::UnknownKid("ec-1".into())));
    let no_kid = signed(ec_key(), &json!({"alg": "ES256"}));
    assert_eq!(verify(&no_kid, &jwks_of(&[rsa_key()])), Err(JwsError::NoCandidateKey));
}

#[test]
fn only_fapi_algorithms_are_accepted() {
    let keys = jwks_of(&[rsa_key()]);
    let rs256 = signed(rsa_key(), &json!({"alg": "RS256", "kid": "rsa-1"}));
    assert_eq!(verify(&rs256, &keys), Err(JwsError::AlgorithmNotAllowed("RS256".into())));

    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let none = format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&claims()));
    assert_eq!(CompactJws::parse(&none).err(), Some(JwsError::NotCompact));
    let none_signed = format!("{}.{}.AAAA", b64(&json!({"alg": "none"})), b64(&claims()));
    assert_eq!(verify(&none_signed, &keys), Err(JwsError::AlgorithmNotAllowed("none".into())));
    let hs256 = format!("{}.{}.AAAA", b64(&json!({"alg": "HS256", "kid": "rsa-1"})), b64(&claims()));
    assert_eq!(verify(&hs256, &keys), Err(JwsError::AlgorithmNotAllowed("HS256".into())));
    let no_alg = format!("{}.{}.AAAA", b64(&json!({"kid": "rsa-1"})), b64(&claims()));
    assert_eq!(verify(&no_alg, &keys), Err(JwsError::MissingAlgorithm));
}

#[test]
fn a_key_pinned_to_another_alg_is_not_used() {
    let mut jwk = rsa_key().public_jwk().clone();
    jwk["alg"] = json!("RS256");
    let keys = PublicJwks::parse(&json!({"keys": [jwk]}), Strictness::Strict).unwrap_or_else(|e| panic!("{e}"));
    let token = rsa_key().sign(&claims()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(verify(&token, &keys), Err(JwsError::BadSignature));
}

#[test]
fn keys_carried_in_the_header_are_ignored() {
    // An attacker signs with their own key and offers it in `jwk`; only configured keys count.
    let header = json!({"alg": "PS256", "kid": "rsa-1", "jwk": other_rsa_key().public_jwk()});
    let token = other_rsa_key().sign_with_header(&header, &claims()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(verify(&token, &jwks_of(&[rsa_key()])), Err(JwsError::BadSignature));
}

#[test]
fn critical_headers_are_refused() {
    let token = signed(rsa_key(), &json!({"alg": "PS256", "kid": "rsa-1", "crit": ["exp"], "exp": 1}));
    assert_eq!(verify(&token, &jwks_of(&[rsa_key()])), Err(JwsError::CriticalHeader));
}

#[test]
fn malformed_structures_are_refused() {
    let b64 = |s: &str| URL_SAFE_NO_PAD.encode(s);
    let cases = [
        String::new(),
        "a.b".to_owned(),
        "a.b.c.d".to_owned(),
        format!("{}.{}.***", b64("{}"), b64("{}")),
        format!("{}.{}.AAAA", b64("not json"), b64("{}")),
        format!("{}.{}.AAAA", b64(r#"{"alg":"PS256"}"#), b64("[1]")),
        format!("{}.{}.AAAA", b64(r#"{"alg":"PS256","alg":"none"}"#), b64("{}")),
        format!("{}.{}.AAAA", b64(r#"{"alg":"PS256"}"#), b64(r#"{"iss":"a","iss":"b"}"#)),
    ];
    for case in cases {
        assert!(CompactJws::parse(&case).is_err(), "{case}");
    }
}

#[test]
fn a_tampered_payload_fails() {
    let token = rsa_key().sign(&claims()).unwrap_or_else(|e| panic!("{e}"));
    let mut parts: Vec<&str> = token.split('.').collect();
    let forged = URL_SAFE_NO_PAD.encode(json!({"iss": "attacker", "n": 1}).to_string());
    parts[1] = &forged;
    assert_eq!(verify(&parts.join("."), &jwks_of(&[rsa_key()])), Err(JwsError::BadSignature));
}

/// `claims` signed PS256 by `key` with a PSS salt of `salt` bytes, `kid` in the header.
fn signed_with_salt(key: &SigningKey, salt: aws_lc_rs::signature::RsaPssSaltLength) -> String {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{RSA_PSS_SHA256, RsaKeyPair};
    use rustls::pki_types::PrivatePkcs8KeyDer;
    use rustls::pki_types::pem::PemObject as _;

    let der = PrivatePkcs8KeyDer::from_pem_slice(key.private_pem().as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let pair = RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).unwrap_or_else(|e| panic!("{e}"));
    let encoding = Box::leak(Box::new(RSA_PSS_SHA256.with_pss_salt_length(salt)));
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let input = format!("{}.{}", b64(&json!({"alg": "PS256", "kid": key.kid()})), b64(&claims()));
    let mut signature = vec![0; pair.public_modulus_len()];
    pair.sign(encoding, &SystemRandom::new(), input.as_bytes(), &mut signature).unwrap_or_else(|e| panic!("{e}"));
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// RFC 7518 §3.5 sets a salt as long as the hash; jwt-go before v3.2.1 (so the OBUK
/// conformance tool) signs PS256 with the longest salt the key allows. Both verify; any other
/// length, or the longest salt under another key, does not.
#[test]
fn ps256_verifies_with_the_hash_long_salt_or_the_longest() {
    use aws_lc_rs::signature::RsaPssSaltLength;
    let keys = jwks_of(&[rsa_key()]);
    for salt in [RsaPssSaltLength::Digest, RsaPssSaltLength::Custom(32), RsaPssSaltLength::Max, RsaPssSaltLength::Custom(222)] {
        assert!(verify(&signed_with_salt(rsa_key(), salt), &keys).is_ok(), "{salt:?}");
    }
    for salt in [RsaPssSaltLength::Custom(0), RsaPssSaltLength::Custom(20), RsaPssSaltLength::Custom(221)] {
        assert_eq!(verify(&signed_with_salt(rsa_key(), salt), &keys), Err(JwsError::BadSignature), "{salt:?}");
    }
    let other = signed_with_salt(other_rsa_key(), RsaPssSaltLength::Max);
    assert_eq!(verify(&other, &keys), Err(JwsError::BadSignature));
}
