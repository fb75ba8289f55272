//! Public JSON Web Key Sets (RFC 7517) as Onboard accepts them: the keys that verify software
//! statements and signed registration requests. Parsing here is structural and pure (no crypto
//! library), so the console can run it too; the server turns keys into verifiers.
//!
//! Rules (FAPI 1 Part 1 §5.2.2-5/6 and Part 2 §8.6): RSA keys of 2048 to 4096 bits, EC keys on
//! P-256 (the curve of ES256). Private or symmetric key material is never accepted.

use std::collections::HashSet;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Members that only private (or symmetric) keys carry; RFC 7518 §6.2.2, §6.3.2, §6.4.1.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const MIN_RSA_MODULUS_BITS: usize = 2048;
/// Longer keys make every verification slower for no security a bank needs (a 4096-bit check
/// is four times a 2048-bit one; 8192 bits, sixteen).
const MAX_RSA_MODULUS_BITS: usize = 4096;
const MAX_KEYS: usize = 100;

/// Why a key set was refused. The index names the offending entry of `keys`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    #[error("must be a JSON object with a \"keys\" array")]
    NotAKeySet,
    #[error("\"keys\" must hold at least one key")]
    Empty,
    #[error("\"keys\" may hold at most {MAX_KEYS} keys")]
    TooManyKeys,
    #[error("keys[{index}] must be a JSON object")]
    NotAnObject { index: usize },
    #[error("keys[{index}] contains private key material (\"{member}\"); publish public keys only")]
    PrivateMaterial { index: usize, member: &'static str },
    #[error("keys[{index}]: key type \"{kty}\" is not supported; use RSA (2048 to 4096 bits) or EC P-256")]
    UnsupportedKeyType { index: usize, kty: String },
    #[error("keys[{index}]: curve \"{crv}\" is not supported; use P-256")]
    UnsupportedCurve { index: usize, crv: String },
    #[error("keys[{index}]: \"{member}\" is missing or not a string")]
    MissingMember { index: usize, member: &'static str },
    #[error("keys[{index}]: \"{member}\" is not valid base64url")]
    BadEncoding { index: usize, member: &'static str },
    #[error("keys[{index}]: RSA modulus is {bits} bits; at least {MIN_RSA_MODULUS_BITS} are required")]
    RsaKeyTooShort { index: usize, bits: usize },
    #[error("keys[{index}]: RSA modulus is {bits} bits; at most {MAX_RSA_MODULUS_BITS} are accepted")]
    RsaKeyTooLong { index: usize, bits: usize },
    #[error("keys[{index}]: EC coordinate \"{member}\" must be 32 bytes for P-256")]
    BadCoordinateLength { index: usize, member: &'static str },
    #[error("keys[{index}]: \"x5c\" must be an array of base64 DER certificates")]
    BadCertificateChain { index: usize },
    #[error("keys[{index}]: \"{member}\" must be a string")]
    NotAString { index: usize, member: &'static str },
    #[error("kid \"{kid}\" appears more than once")]
    DuplicateKid { kid: String },
}

/// How strictly to treat keys Onboard cannot use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// Keys an administrator enters: anything unusable is an error to fix.
    Strict,
    /// Keys fetched from a TPP or directory: unusable key types are skipped, but private key
    /// material still refuses the whole set (it means the publisher leaked a secret).
    SkipUnsupported,
}

/// The public part of a key, in the form the verifier needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PublicKeyMaterial {
    /// RSA modulus and exponent, base64url as in the JWK.
    Rsa { n: String, e: String },
    /// P-256 coordinates, base64url as in the JWK.
    EcP256 { x: String, y: String },
}

/// One usable public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicJwk {
    pub kid: Option<String>,
    /// `use`: `sig`, `tls`, `enc`, or absent.
    pub key_use: Option<String>,
    /// `alg`, when the publisher pinned one.
    pub alg: Option<String>,
    /// `x5c`: DER certificates (leaf first), decoded from base64.
    pub x5c: Vec<Vec<u8>>,
    pub material: PublicKeyMaterial,
}

impl PublicJwk {
    /// Whether the key may verify signatures: `use` absent or `sig` (RFC 7517 §4.2).
    pub fn is_for_signing(&self) -> bool {
        self.key_use.as_deref().is_none_or(|u| u == "sig")
    }
}

/// A validated public key set. Keeps the JSON it came from, so what is stored and shown is
/// exactly what the administrator entered.
#[derive(Clone, PartialEq)]
pub struct PublicJwks {
    keys: Vec<PublicJwk>,
    json: Value,
}

impl fmt::Debug for PublicJwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<_> = self.keys.iter().map(|k| k.kid.as_deref().unwrap_or("-")).collect();
        f.debug_struct("PublicJwks").field("kids", &kids).finish_non_exhaustive()
    }
}

impl PublicJwks {
    /// Parses and validates a key set.
    pub fn parse(json: &Value, strictness: Strictness) -> Result<Self, JwksError> {
        let keys = json.as_object().and_then(|set| set.get("keys")).and_then(Value::as_array).ok_or(JwksError::NotAKeySet)?;
        if keys.len() > MAX_KEYS {
            return Err(JwksError::TooManyKeys);
        }
        let mut parsed = Vec::with_capacity(keys.len());
        let mut kids = HashSet::new();
        for (index, key) in keys.iter().enumerate() {
            let key = key.as_object().ok_or(JwksError::NotAnObject { index })?;
            match parse_key(index, key) {
                Ok(jwk) => {
                    if let Some(kid) = &jwk.kid
                        && !kids.insert(kid.clone())
                    {
                        return Err(JwksError::DuplicateKid { kid: kid.clone() });
                    }
                    parsed.push(jwk);
                }
                Err(
                    JwksError::UnsupportedKeyType { .. }
                    | JwksError::UnsupportedCurve { .. }
                    | JwksError::RsaKeyTooShort { .. }
                    | JwksError::RsaKeyTooLong { .. },
                ) if strictness == Strictness::SkipUnsupported => {}
                Err(error) => return Err(error),
            }
        }
        if parsed.is_empty() {
            return Err(JwksError::Empty);
        }
        Ok(Self { keys: parsed, json: json.clone() })
    }

    /// Parses key set text, as pasted into the console or sent to the admin API.
    pub fn parse_str(text: &str, strictness: Strictness) -> Result<Self, JwksError> {
        let json: Value = serde_json::from_str(text).map_err(|_| JwksError::NotAKeySet)?;
        Self::parse(&json, strictness)
    }

    pub fn keys(&self) -> &[PublicJwk] {
        &self.keys
    }

    pub fn key_ids(&self) -> Vec<&str> {
        self.keys.iter().filter_map(|k| k.kid.as_deref()).collect()
    }

    pub fn find(&self, kid: &str) -> Option<&PublicJwk> {
        self.keys.iter().find(|k| k.kid.as_deref() == Some(kid))
    }

    pub fn as_json(&self) -> &Value {
        &self.json
    }
}

impl Serialize for PublicJwks {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PublicJwks {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = Value::deserialize(deserializer)?;
        Self::parse(&json, Strictness::Strict).map_err(serde::de::Error::custom)
    }
}

fn parse_key(index: usize, key: &Map<String, Value>) -> Result<PublicJwk, JwksError> {
    if let Some(member) = PRIVATE_MEMBERS.into_iter().find(|m| key.contains_key(*m)) {
        return Err(JwksError::PrivateMaterial { index, member });
    }
    let kty = required_string(index, key, "kty")?;
    let material = match kty {
        "RSA" => {
            let n = required_string(index, key, "n")?;
            let e = required_string(index, key, "e")?;
            let modulus = decode_b64url(index, "n", n)?;
            decode_b64url(index, "e", e)?;
            let bits = modulus_bits(&modulus);
            if bits < MIN_RSA_MODULUS_BITS {
                return Err(JwksError::RsaKeyTooShort { index, bits });
            }
            if bits > MAX_RSA_MODULUS_BITS {
                return Err(JwksError::RsaKeyTooLong { index, bits });
            }
            PublicKeyMaterial::Rsa { n: n.to_owned(), e: e.to_owned() }
        }
        "EC" => {
            let crv = required_string(index, key, "crv")?;
            if crv != "P-256" {
                return Err(JwksError::UnsupportedCurve { index, crv: crv.to_owned() });
            }
            let x = required_string(index, key, "x")?;
            let y = required_string(index, key, "y")?;
            for (member, value) in [("x", x), ("y", y)] {
                if decode_b64url(index, member, value)?.len() != 32 {
                    return Err(JwksError::BadCoordinateLength { index, member });
                }
            }
            PublicKeyMaterial::EcP256 { x: x.to_owned(), y: y.to_owned() }
        }
        other => return Err(JwksError::UnsupportedKeyType { index, kty: other.to_owned() }),
    };
    Ok(PublicJwk {
        kid: optional_string(index, key, "kid")?,
        key_use: optional_string(index, key, "use")?,
        alg: optional_string(index, key, "alg")?,
        x5c: certificate_chain(index, key)?,
        material,
    })
}

fn required_string<'a>(index: usize, key: &'a Map<String, Value>, member: &'static str) -> Result<&'a str, JwksError> {
    key.get(member).and_then(Value::as_str).ok_or(JwksError::MissingMember { index, member })
}

fn optional_string(index: usize, key: &Map<String, Value>, member: &'static str) -> Result<Option<String>, JwksError> {
    match key.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(JwksError::NotAString { index, member }),
    }
}

fn certificate_chain(index: usize, key: &Map<String, Value>) -> Result<Vec<Vec<u8>>, JwksError> {
    let Some(chain) = key.get("x5c") else { return Ok(Vec::new()) };
    let entries = chain.as_array().ok_or(JwksError::BadCertificateChain { index })?;
    entries
        .iter()
        .map(|entry| {
            // RFC 7517 §4.7: base64 (not base64url) DER.
            let text = entry.as_str().ok_or(JwksError::BadCertificateChain { index })?;
            STANDARD.decode(text).map_err(|_| JwksError::BadCertificateChain { index })
        })
        .collect()
}

fn decode_b64url(index: usize, member: &'static str, value: &str) -> Result<Vec<u8>, JwksError> {
    URL_SAFE_NO_PAD.decode(value).map_err(|_| JwksError::BadEncoding { index, member })
}

fn modulus_bits(modulus: &[u8]) -> usize {
    let significant = modulus.iter().skip_while(|b| **b == 0).collect::<Vec<_>>();
    match significant.first() {
        None => 0,
        Some(first) => (significant.len() - 1) * 8 + (8 - first.leading_zeros() as usize),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rsa_modulus(bits: usize) -> String {
        let mut bytes = vec![0xC5_u8; bits / 8];
        bytes[0] |= 0x80;
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn ec_key(kid: &str) -> Value {
        let coordinate = URL_SAFE_NO_PAD.encode([7_u8; 32]);
        json!({"kty": "EC", "crv": "P-256", "kid": kid, "x": coordinate, "y": coordinate})
    }

    fn rsa_key(kid: &str, bits: usize) -> Value {
        json!({"kty": "RSA", "kid": kid, "use": "sig", "n": rsa_modulus(bits), "e": "AQAB"})
    }

    fn parse(keys: &Value) -> Result<PublicJwks, JwksError> {
        PublicJwks::parse(&json!({ "keys": keys }), Strictness::Strict)
    }

    #[test]
    fn accepts_rsa_and_p256_keys() {
        let set = parse(&json!([rsa_key("r1", 2048), ec_key("e1"), rsa_key("r2", 4096)])).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(set.key_ids(), vec!["r1", "e1", "r2"]);
        assert!(set.find("r1").is_some_and(PublicJwk::is_for_signing));
        assert!(matches!(set.find("e1").map(|k| &k.material), Some(PublicKeyMaterial::EcP256 { .. })));
    }

    #[test]
    fn rejects_each_malformed_shape() {
        let cases: Vec<(Value, JwksError)> = vec![
            (
                json!({"kty": "RSA", "n": rsa_modulus(2048), "e": "AQAB", "d": "x"}),
                JwksError::PrivateMaterial { index: 0, member: "d" },
            ),
            (json!({"kty": "oct", "k": "c2VjcmV0"}), JwksError::PrivateMaterial { index: 0, member: "k" }),
            (json!({"kty": "OKP", "crv": "Ed25519", "x": "AA"}), JwksError::UnsupportedKeyType { index: 0, kty: "OKP".into() }),
            (
                json!({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}),
                JwksError::UnsupportedCurve { index: 0, crv: "P-384".into() },
            ),
            (json!({"kty": "RSA", "e": "AQAB"}), JwksError::MissingMember { index: 0, member: "n" }),
            (json!({"kty": "RSA", "n": "***", "e": "AQAB"}), JwksError::BadEncoding { index: 0, member: "n" }),
            (rsa_key("short", 1024), JwksError::RsaKeyTooShort { index: 0, bits: 1024 }),
            (rsa_key("long", 8192), JwksError::RsaKeyTooLong { index: 0, bits: 8192 }),
            (
                json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}),
                JwksError::BadCoordinateLength { index: 0, member: "x" },
            ),
            (
                json!({"kty": "RSA", "n": rsa_modulus(2048), "e": "AQAB", "x5c": "nope"}),
                JwksError::BadCertificateChain { index: 0 },
            ),
            (
                json!({"kty": "RSA", "n": rsa_modulus(2048), "e": "AQAB", "kid": 7}),
                JwksError::NotAString { index: 0, member: "kid" },
            ),
            (json!("a string"), JwksError::NotAnObject { index: 0 }),
        ];
        for (key, expected) in cases {
            assert_eq!(parse(&json!([key])), Err(expected));
        }
    }

    #[test]
    fn rejects_set_level_problems() {
        assert_eq!(PublicJwks::parse(&json!([]), Strictness::Strict), Err(JwksError::NotAKeySet));
        assert_eq!(parse(&json!([])), Err(JwksError::Empty));
        assert_eq!(parse(&json!([ec_key("a"), ec_key("a")])), Err(JwksError::DuplicateKid { kid: "a".into() }));
        let many: Vec<Value> = (0..=MAX_KEYS).map(|i| ec_key(&i.to_string())).collect();
        assert_eq!(parse(&Value::Array(many)), Err(JwksError::TooManyKeys));
    }

    #[test]
    fn lenient_parsing_skips_unusable_keys_but_never_private_ones() {
        let fetched = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AA"}, ec_key("ok")]});
        let set = PublicJwks::parse(&fetched, Strictness::SkipUnsupported).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(set.key_ids(), vec!["ok"]);
        let leaked = json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "d": "AA"}]});
        assert!(matches!(PublicJwks::parse(&leaked, Strictness::SkipUnsupported), Err(JwksError::PrivateMaterial { .. })));
    }

    #[test]
    fn keeps_the_original_json() {
        let original = json!({"keys": [ec_key("e")], "extra": true});
        let set = PublicJwks::parse(&original, Strictness::Strict).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(serde_json::to_value(&set).ok(), Some(original));
    }

    #[test]
    fn counts_modulus_bits_exactly() {
        assert_eq!(modulus_bits(&[0x00, 0x01]), 1);
        assert_eq!(modulus_bits(&[0x80, 0x00]), 16);
        assert_eq!(modulus_bits(&[]), 0);
    }
}
