//! JWKS documents as a workspace setting or a fetched `jwks_uri` brings them, in both
//! strictness modes, and JWKS URIs as typed into the console.

#![no_main]
#![allow(clippy::expect_used, reason = "a fuzz target reports a broken invariant by panicking")]

use libfuzzer_sys::fuzz_target;

use app::domain::dcr::JwksUri;
use app::domain::jwks::{PublicJwks, Strictness};

fuzz_target!(|text: &str| {
    for strictness in [Strictness::Strict, Strictness::SkipUnsupported] {
        if let Ok(keys) = PublicJwks::parse_str(text, strictness) {
            for key in keys.keys() {
                let _ = key.is_for_signing();
            }
            for kid in keys.key_ids() {
                assert!(keys.find(kid).is_some(), "kid {kid} listed but not found");
            }
            // What is stored is what was parsed: it parses again to the same keys.
            let again = PublicJwks::parse(keys.as_json(), strictness).expect("a parsed JWKS parses again");
            assert_eq!(again.key_ids(), keys.key_ids());
        }
    }
    if let Ok(uri) = JwksUri::parse(text) {
        let _ = (uri.check_transport(false), uri.check_transport(true), uri.as_str());
    }
});
