//! Property tests of the registration rules: for generated claims, the pipeline accepts exactly
//! what each rule's plain statement allows, and nothing it accepts leaves the workspace's
//! policy. The rules' one-case-each tests are in `tests.rs`; these cover the spaces between.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::sample::subsequence;
use serde_json::{Value, json};

use super::tests::{Case, NOW, settings};
use super::{ErrorCode, MAX_REQUEST_LIFETIME_SECONDS};
use crate::oauth2::CLOCK_SKEW_SECONDS;

/// Each case signs a statement and a request; a few dozen cases per property keep this quick.
fn config() -> ProptestConfig {
    ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() }
}

/// Scope names around the workspace's: offered ones, one no role grants, and non-tokens.
const SCOPE_NAMES: [&str; 7] = ["openid", "accounts", "payments", "fundsconfirmations", "unknown", "a\"b", "x\\y"];
const ROLES: [&str; 3] = ["AISP", "PISP", "CBPII"];
const GRANT_TYPES: [&str; 5] = ["client_credentials", "authorization_code", "refresh_token", "implicit", "password"];
const REDIRECTS: [&str; 4] =
    ["https://tpp.example.com/cb", "https://tpp.example.com/cb2", "https://tpp.example.com/other", "http://tpp.example.com/cb"];

proptest! {
    #![proptest_config(config())]

    /// `iat` and `exp` anywhere around now: accepted exactly when the request is not expired
    /// (with the clock skew), not issued in the future (with the skew), and valid for more than
    /// nothing and at most an hour.
    #[test]
    fn the_time_window_is_exactly_the_rule(iat_offset in -8_000i64..8_000, lifetime in -200i64..7_400) {
        let (iat, exp) = (NOW + iat_offset, NOW + iat_offset + lifetime);
        let outcome = Case::new().claim("iat", json!(iat)).claim("exp", json!(exp)).run();
        let allowed = NOW <= exp + CLOCK_SKEW_SECONDS
            && iat <= NOW + CLOCK_SKEW_SECONDS
            && lifetime > 0
            && lifetime <= MAX_REQUEST_LIFETIME_SECONDS;
        prop_assert_eq!(outcome.is_ok(), allowed, "iat {} exp {}: {:?}", iat, exp, outcome.err());
    }

    /// A requested scope set is granted as asked when every scope is a token the workspace
    /// offers and a role the statement holds allows; otherwise nothing is registered.
    #[test]
    fn scopes_are_granted_only_through_held_roles(
        requested in subsequence(SCOPE_NAMES.to_vec(), 1..=SCOPE_NAMES.len()),
        roles in subsequence(ROLES.to_vec(), 1..=ROLES.len()),
    ) {
        let outcome = Case::new()
            .claim("scope", json!(requested.join(" ")))
            .ssa_claim("software_roles", json!(roles))
            .ssa_claim("organisation_competent_authority_claims", Value::Null)
            .run();
        let settings = settings();
        let allowed = requested.iter().all(|scope| {
            settings.role_scopes.iter().any(|(role, scopes)| roles.contains(&role.as_str()) && scopes.iter().any(|s| s == scope))
        });
        match outcome {
            Ok(registration) => {
                prop_assert!(allowed, "granted {:?} to roles {:?}", requested, roles);
                let granted: BTreeSet<&str> = registration.metadata.scopes.iter().map(String::as_str).collect();
                prop_assert_eq!(granted, requested.iter().copied().collect::<BTreeSet<_>>());
            }
            Err(error) => {
                prop_assert!(!allowed, "refused {:?} to roles {:?}: {}", requested, roles, error.detail());
                prop_assert_eq!(error.code(), ErrorCode::InvalidClientMetadata);
            }
        }
    }

    /// Grant types: accepted exactly when each is one the workspace supports (OBUK: client
    /// credentials, authorization code, refresh token), and response types come only with
    /// `authorization_code`; never anything else.
    #[test]
    fn only_supported_grant_types_are_registered(
        requested in subsequence(GRANT_TYPES.to_vec(), 1..=GRANT_TYPES.len()),
        with_response_types in any::<bool>(),
    ) {
        let mut case = Case::new().claim("grant_types", json!(requested));
        if !with_response_types {
            case = case.claim("response_types", Value::Null);
        }
        let outcome = case.run();
        let supported: Vec<&str> = settings().grant_types.iter().map(|grant| grant.as_str()).collect();
        let allowed = requested.iter().all(|grant| supported.contains(grant))
            && (!with_response_types || requested.contains(&"authorization_code"));
        match outcome {
            Ok(registration) => {
                prop_assert!(allowed, "registered {:?}", requested);
                let registered: Vec<&str> = registration.metadata.grant_types.iter().map(|grant| grant.as_str()).collect();
                prop_assert_eq!(registered.iter().copied().collect::<BTreeSet<_>>(), requested.iter().copied().collect::<BTreeSet<_>>());
            }
            Err(error) => prop_assert!(!allowed, "refused {:?}: {}", requested, error.detail()),
        }
    }

    /// Redirect URIs: registered exactly when each is one the software statement lists.
    #[test]
    fn redirect_uris_come_only_from_the_software_statement(requested in subsequence(REDIRECTS.to_vec(), 1..=REDIRECTS.len())) {
        let outcome = Case::new().claim("redirect_uris", json!(requested)).run();
        let in_statement = ["https://tpp.example.com/cb", "https://tpp.example.com/cb2"];
        let allowed = requested.iter().all(|uri| in_statement.contains(uri));
        match outcome {
            Ok(registration) => {
                prop_assert!(allowed, "registered {:?}", requested);
                prop_assert_eq!(&registration.metadata.redirect_uris, &requested.iter().map(|uri| (*uri).to_owned()).collect::<Vec<_>>());
            }
            Err(error) => {
                prop_assert!(!allowed, "refused {:?}: {}", requested, error.detail());
                prop_assert_eq!(error.code(), ErrorCode::InvalidRedirectUri);
            }
        }
    }

    /// Whatever the request's `iss` is, it is accepted only as the statement's `software_id`.
    #[test]
    fn the_issuer_must_be_the_software(issuer in "[0-9A-Za-z]{0,24}|oQ4KoaavpOuoE7rvQsZEOV") {
        let outcome = Case::new().claim("iss", json!(issuer)).run();
        prop_assert_eq!(outcome.is_ok(), issuer == "oQ4KoaavpOuoE7rvQsZEOV", "iss {}", issuer);
    }
}
