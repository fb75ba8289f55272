//! The register endpoint's pure stages. The first byte chooses how the rest is used:
//! - as the body itself, under one of five media types (parsers, strict JSON, JWS framing);
//! - as claim overrides of a validly signed request, or of its validly signed software
//!   statement, so inputs reach every validation rule behind the signatures;
//! - as header overrides of a request validly signed with ES256 (`alg` confusion, `kid` tricks,
//!   `jku`/`x5u`/`jwk`/`crit`), which must never be accepted under any header but the right one.
//!
//! Every accepted registration is checked against the workspace's policy.

#![no_main]
#![allow(clippy::expect_used, reason = "a fuzz target reports a broken invariant by panicking")]

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

use onboard_fuzz::{CONTENT_TYPES, FIXTURE, overrides};

fuzz_target!(|input: &[u8]| {
    let Some((&selector, rest)) = input.split_first() else { return };
    let fixture = &*FIXTURE;
    match selector % 8 {
        raw @ 0..=4 => {
            let _ = fixture.register(CONTENT_TYPES[usize::from(raw)], rest);
        }
        5 => {
            let statement = fixture.software_statement(&Map::new());
            let claims = fixture.request_claims(&statement, &overrides(rest));
            let body = fixture.tpp_key.sign(&claims).expect("signing");
            if let Ok(Some(registration)) = fixture.register("application/jose", body.as_bytes()) {
                fixture.assert_within_policy(&registration);
            }
        }
        6 => {
            let statement = fixture.software_statement(&overrides(rest));
            let claims = fixture.request_claims(&statement, &Map::new());
            let body = fixture.tpp_key.sign(&claims).expect("signing");
            if let Ok(Some(registration)) = fixture.register("application/jose", body.as_bytes()) {
                fixture.assert_within_policy(&registration);
            }
        }
        _ => {
            let mut header = json!({"alg": "ES256", "kid": fixture.tpp_key.kid(), "typ": "JWT"});
            onboard::tpp::claims::apply_overrides(&mut header, &overrides(rest));
            let statement = fixture.software_statement(&Map::new());
            let claims = fixture.request_claims(&statement, &Map::new());
            let body = fixture.tpp_key.sign_under_header(&header, &claims).expect("signing");
            if let Ok(Some(registration)) = fixture.register("application/jose", body.as_bytes()) {
                assert_eq!(header.get("alg"), Some(&Value::from("ES256")), "accepted under {header}");
                fixture.assert_within_policy(&registration);
            }
        }
    }
});
