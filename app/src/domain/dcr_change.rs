//! What a change of DCR settings changed, in words, for the audit log: a security team reads
//! there who trusted which directory with which keys, and when a protection was switched off.

use super::dcr::{DcrSettings, JwksUri, KeySource, RequestSigningKeys, SoftwareStatementIssuer};
use super::event_log::quoted;
use super::jwks::PublicJwks;

/// The change from `before` to `after`: whether registration is (or was switched) on, then
/// each setting that changed, e.g. `registration on: issuer 'Other' trusted, verified with the
/// JWKS at https://…; mutual TLS no longer required`.
pub fn describe_change(before: &DcrSettings, after: &DcrSettings) -> String {
    let state = match (before.enabled, after.enabled) {
        (false, true) => "registration switched on",
        (true, false) => "registration switched off",
        (_, true) => "registration on",
        (_, false) => "registration off",
    };
    let changes = changes(before, after);
    if changes.is_empty() { state.to_owned() } else { format!("{state}: {}", changes.join("; ")) }
}

/// Each setting but `enabled` that changed: the protections in the order of the DCR tab, then
/// the policy.
fn changes(before: &DcrSettings, after: &DcrSettings) -> Vec<String> {
    let (was, is) = (before, after);
    let mut changes: Vec<String> = Vec::new();
    changes.extend(switched(
        (was.protect_by_access_token, is.protect_by_access_token),
        "protected by access token",
        "no longer protected by access token",
    ));
    changes.extend(switched(
        (was.require_software_statement, is.require_software_statement),
        "software statements required",
        "software statements no longer required",
    ));
    changes.extend(issuer_changes(&was.software_statement_issuers, &is.software_statement_issuers));
    if was.max_software_statement_age_seconds != is.max_software_statement_age_seconds {
        changes.push(match is.max_software_statement_age_seconds {
            Some(seconds) => format!("software statements at most {seconds} seconds old"),
            None => "software statements of any age".to_owned(),
        });
    }
    changes.extend(switched(
        (was.require_signed_request, is.require_signed_request),
        "signed request bodies required",
        "signed request bodies no longer required",
    ));
    if was.request_signing_keys != is.request_signing_keys {
        let (before, after) = (request_keys(&was.request_signing_keys), request_keys(&is.request_signing_keys));
        changes.push(format!("requests verified with {after}{}", same_words(&before, &after)));
    }
    changes.extend(switched((was.require_mtls, is.require_mtls), "mutual TLS required", "mutual TLS no longer required"));
    changes.extend(switched(
        (was.bind_transport_certificate, is.bind_transport_certificate),
        "client certificate bound to the software statement",
        "client certificate no longer bound to the software statement",
    ));
    changes.extend(switched(
        (was.trust_sandbox_directory, is.trust_sandbox_directory),
        "sandbox directory trusted",
        "sandbox directory no longer trusted",
    ));
    if was.policy_id != is.policy_id {
        changes.push(match &is.policy_id {
            Some(id) => format!("policy {} chosen", quoted(id.as_str())),
            None => "no policy".to_owned(),
        });
    }
    changes
}

/// `on` or `off` for a switch that moved, nothing for one that did not.
fn switched((was, is): (bool, bool), on: &str, off: &str) -> Option<String> {
    (was != is).then(|| if is { on } else { off }.to_owned())
}

/// Issuers trusted, no longer trusted, or given other keys.
fn issuer_changes(before: &[SoftwareStatementIssuer], after: &[SoftwareStatementIssuer]) -> Vec<String> {
    let mut changes = Vec::new();
    for issuer in after {
        let name = quoted(&issuer.issuer);
        match before.iter().find(|earlier| earlier.issuer == issuer.issuer) {
            None => changes.push(format!("issuer {name} trusted, {}", verified_with(issuer.keys.as_ref()))),
            Some(earlier) if earlier.keys != issuer.keys => {
                let (was, is) = (verified_with(earlier.keys.as_ref()), verified_with(issuer.keys.as_ref()));
                changes.push(format!("issuer {name} now {is}{}", same_words(&was, &is)));
            }
            Some(_) => {}
        }
    }
    for gone in before.iter().filter(|earlier| !after.iter().any(|issuer| issuer.issuer == earlier.issuer)) {
        changes.push(format!("issuer {} no longer trusted", quoted(&gone.issuer)));
    }
    changes
}

fn verified_with(keys: Option<&KeySource>) -> String {
    match keys {
        None => "with no keys yet".to_owned(),
        Some(KeySource::Jwks(jwks)) => format!("verified with {}", pasted(jwks)),
        Some(KeySource::JwksUri(uri)) => format!("verified with {}", fetched(uri)),
    }
}

fn request_keys(keys: &RequestSigningKeys) -> String {
    match keys {
        RequestSigningKeys::SoftwareStatement => "the keys the software statement names".to_owned(),
        RequestSigningKeys::Jwks(jwks) => pasted(jwks),
        RequestSigningKeys::JwksUri(uri) => fetched(uri),
    }
}

/// Keys that changed but read the same (a key replaced under its old `kid`): said so, or the
/// log would show a change of nothing.
fn same_words(before: &str, after: &str) -> &'static str {
    if before == after { " (other key material under the same key ids)" } else { "" }
}

/// A JWKS URI by where it points: scheme, host and path, without a query, which may carry
/// a credential.
fn fetched(uri: &JwksUri) -> String {
    let url = uri.url();
    let query = if url.query().is_some() { "?…" } else { "" };
    format!("the JWKS at {}", quoted(&format!("{}://{}{}{query}", url.scheme(), url.host_str().unwrap_or_default(), url.path())))
}

/// A key set given inline, by its key ids: what an investigation can match against a
/// directory's published keys.
fn pasted(jwks: &PublicJwks) -> String {
    let kids: Vec<String> =
        jwks.keys().iter().map(|key| key.kid.as_deref().map_or_else(|| "no kid".to_owned(), quoted)).collect();
    match kids.as_slice() {
        [] => "an empty pasted JWKS".to_owned(),
        [kid] => format!("a pasted JWKS (key {kid})"),
        kids => format!("a pasted JWKS (keys {})", kids.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::workspace::Profile;

    fn jwks(kid: &str) -> KeySource {
        let c = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc";
        let value = json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": kid, "x": c, "y": c}]});
        KeySource::Jwks(serde_json::from_value(value).unwrap_or_else(|e| panic!("{e}")))
    }

    /// A key set of one other EC key, under `kid`.
    fn other_key(kid: &str) -> KeySource {
        let c = "CAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg";
        let value = json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": kid, "x": c, "y": c}]});
        KeySource::Jwks(serde_json::from_value(value).unwrap_or_else(|e| panic!("{e}")))
    }

    fn issuer(name: &str, keys: Option<KeySource>) -> SoftwareStatementIssuer {
        SoftwareStatementIssuer { issuer: name.to_owned(), keys }
    }

    fn obuk() -> DcrSettings {
        DcrSettings {
            enabled: true,
            software_statement_issuers: vec![issuer("OpenBanking Ltd", Some(jwks("ob-1")))],
            ..DcrSettings::defaults_for(Profile::OpenbankingUk)
        }
    }

    #[test]
    fn an_unchanged_save_says_only_whether_registration_is_on() {
        assert_eq!(describe_change(&obuk(), &obuk()), "registration on");
        let off = DcrSettings { enabled: false, ..obuk() };
        assert_eq!(describe_change(&off, &off), "registration off");
        assert_eq!(describe_change(&off, &obuk()), "registration switched on");
        assert_eq!(describe_change(&obuk(), &off), "registration switched off");
    }

    #[test]
    fn issuers_trusted_dropped_and_rekeyed_are_named_with_their_keys() {
        let uri = crate::domain::dcr::JwksUri::parse("https://keys.other.example/jwks").unwrap_or_else(|e| panic!("{e}"));
        let mut after = obuk();
        after.software_statement_issuers = vec![
            issuer("OpenBanking Ltd", Some(jwks("ob-2"))),
            issuer("Other Directory", Some(KeySource::JwksUri(uri))),
            issuer("Third", None),
        ];
        assert_eq!(
            describe_change(&obuk(), &after),
            "registration on: issuer 'OpenBanking Ltd' now verified with a pasted JWKS (key 'ob-2'); \
             issuer 'Other Directory' trusted, verified with the JWKS at 'https://keys.other.example/jwks'; \
             issuer 'Third' trusted, with no keys yet"
        );
        assert_eq!(describe_change(&after, &obuk()).matches("no longer trusted").count(), 2);
    }

    #[test]
    fn values_are_quoted_keys_replaced_under_their_kid_are_said_and_queries_left_out() {
        let mut after = obuk();
        after.software_statement_issuers = vec![issuer("OpenBanking Ltd", Some(other_key("ob-1")))];
        after.software_statement_issuers.push(issuer("it's; mutual TLS required", None));
        let uri = crate::domain::dcr::JwksUri::parse("https://tpp.example/jwks?token=secret").unwrap_or_else(|e| panic!("{e}"));
        after.request_signing_keys = RequestSigningKeys::JwksUri(uri);
        assert_eq!(
            describe_change(&obuk(), &after),
            "registration on: issuer 'OpenBanking Ltd' now verified with a pasted JWKS (key 'ob-1') \
             (other key material under the same key ids); issuer 'it\\'s; mutual TLS required' trusted, with no keys \
             yet; requests verified with the JWKS at 'https://tpp.example/jwks?…'"
        );
    }

    #[test]
    fn each_protection_switched_is_named() {
        let weaker = DcrSettings {
            require_software_statement: false,
            require_signed_request: false,
            request_signing_keys: RequestSigningKeys::JwksUri(
                crate::domain::dcr::JwksUri::parse("https://tpp.example/jwks").unwrap_or_else(|e| panic!("{e}")),
            ),
            require_mtls: false,
            bind_transport_certificate: false,
            trust_sandbox_directory: true,
            protect_by_access_token: true,
            max_software_statement_age_seconds: Some(60),
            ..obuk()
        };
        assert_eq!(
            describe_change(&obuk(), &weaker),
            "registration on: protected by access token; software statements no longer required; \
             software statements at most 60 seconds old; signed request bodies no longer required; \
             requests verified with the JWKS at 'https://tpp.example/jwks'; mutual TLS no longer required; \
             client certificate no longer bound to the software statement; sandbox directory trusted"
        );
        let back = describe_change(&weaker, &obuk());
        assert!(back.contains("mutual TLS required") && back.contains("the keys the software statement names"), "{back}");
        assert!(back.contains("software statements of any age"), "{back}");
    }
}
