//! What a change of a workspace's general settings changed, in words, for the audit log: which
//! CAs' client certificates became trusted, which scopes a role may ask for, and the rest.

use std::collections::BTreeSet;

use super::event_log::quoted;
use super::oauth::{GrantType, TokenEndpointAuthMethod};
use super::workspace::WorkspaceSettings;

/// A CA certificate of a trusted bundle, as the audit log names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaCertificate {
    pub subject: String,
    /// SHA-256 of the certificate's DER, in hex: what tells two CAs of one subject apart.
    pub sha256: String,
}

/// Each general setting that changed from `before` to `after`, in the order of the General
/// settings tab, e.g. `trusted client CA added: 'CN=Bank TPP CA, O=Bank' (SHA-256 …); scopes
/// added: payments`; `no change` for none. `certificates` reads the certificates of a PEM
/// bundle, so a security team sees which CAs came and went, not that a text changed.
pub fn describe_settings_change(
    before: &WorkspaceSettings,
    after: &WorkspaceSettings,
    certificates: &dyn Fn(&str) -> Vec<CaCertificate>,
) -> String {
    let (was, is) = (before, after);
    let mut changes = Vec::new();
    if was.org_id != is.org_id {
        changes.push(
            is.org_id.as_ref().map_or_else(|| "no organisation id".to_owned(), |id| format!("organisation id {}", quoted(id))),
        );
    }
    let audiences = |audiences: &[String]| audiences.iter().map(|audience| quoted(audience)).collect::<Vec<_>>();
    changes.extend(added_and_removed(
        "accepted audiences",
        &audiences(&was.accepted_audiences),
        &audiences(&is.accepted_audiences),
    ));
    if was.trusted_client_ca_pem != is.trusted_client_ca_pem {
        let bundle = |pem: &Option<String>| pem.as_deref().map(certificates).unwrap_or_default();
        let (was_cas, is_cas) = (bundle(&was.trusted_client_ca_pem), bundle(&is.trusted_client_ca_pem));
        let named = |cas: &[CaCertificate]| {
            cas.iter().map(|ca| format!("{} (SHA-256 {})", quoted(&ca.subject), ca.sha256)).collect::<Vec<_>>()
        };
        changes.extend(added_and_removed("trusted client CAs", &named(&was_cas), &named(&is_cas)));
    }
    let lists = |uris: &[String]| uris.iter().map(|uri| quoted(uri)).collect::<Vec<_>>();
    changes.extend(added_and_removed("revocation lists", &lists(&was.client_crl_uris), &lists(&is.client_crl_uris)));
    changes.extend(added_and_removed(
        "token endpoint auth methods",
        &names(&was.token_endpoint_auth_methods, TokenEndpointAuthMethod::as_str),
        &names(&is.token_endpoint_auth_methods, TokenEndpointAuthMethod::as_str),
    ));
    changes.extend(added_and_removed(
        "grant types",
        &names(&was.grant_types, GrantType::as_str),
        &names(&is.grant_types, GrantType::as_str),
    ));
    changes.extend(added_and_removed("scopes", &was.scopes, &is.scopes));
    let roles: BTreeSet<&String> = was.role_scopes.keys().chain(is.role_scopes.keys()).collect();
    for role in roles {
        let (was_scopes, is_scopes) = (was.role_scopes.get(role), is.role_scopes.get(role));
        if was_scopes != is_scopes {
            changes.push(match is_scopes.filter(|scopes| !scopes.is_empty()) {
                Some(scopes) => format!("role {} may request: {}", quoted(role), scopes.join(" ")),
                None => format!("role {} may request no scopes", quoted(role)),
            });
        }
    }
    if was.access_token_ttl_seconds != is.access_token_ttl_seconds {
        changes.push(format!("access tokens last {} seconds", is.access_token_ttl_seconds));
    }
    if was.access_token_signing_alg != is.access_token_signing_alg {
        changes.push(format!("access tokens signed with {}", is.access_token_signing_alg));
    }
    let limits: Vec<String> = was
        .limits
        .members()
        .into_iter()
        .zip(is.limits.members())
        .filter(|((_, before), (_, after))| before != after)
        .map(|((name, _), (_, after))| format!("{name} {after}"))
        .collect();
    if !limits.is_empty() {
        changes.push(format!("limits: {}", limits.join(", ")));
    }
    if changes.is_empty() { "no change".to_owned() } else { changes.join("; ") }
}

fn names<T: Copy>(items: &[T], name: fn(T) -> &'static str) -> Vec<String> {
    items.iter().map(|item| name(*item).to_owned()).collect()
}

/// `{what} added: …` and `{what} removed: …`, for the members of a list that came and went.
fn added_and_removed(what: &str, before: &[String], after: &[String]) -> Vec<String> {
    let added: Vec<&str> = after.iter().filter(|item| !before.contains(item)).map(String::as_str).collect();
    let removed: Vec<&str> = before.iter().filter(|item| !after.contains(item)).map(String::as_str).collect();
    let mut changes = Vec::new();
    if !added.is_empty() {
        changes.push(format!("{what} added: {}", added.join(", ")));
    }
    if !removed.is_empty() {
        changes.push(format!("{what} removed: {}", removed.join(", ")));
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workspace::Profile;

    fn obuk() -> WorkspaceSettings {
        WorkspaceSettings::defaults_for(Profile::OpenbankingUk, "https://bank.example/default/obuk")
    }

    /// Reads a "bundle" of lines `subject|sha256`.
    fn certificates(pem: &str) -> Vec<CaCertificate> {
        pem.lines()
            .filter_map(|line| line.split_once('|'))
            .map(|(subject, sha256)| CaCertificate { subject: subject.to_owned(), sha256: sha256.to_owned() })
            .collect()
    }

    #[test]
    fn a_save_that_changes_nothing_says_so() {
        assert_eq!(describe_settings_change(&obuk(), &obuk(), &certificates), "no change");
    }

    #[test]
    fn cas_are_named_by_subject_and_fingerprint_and_lists_by_what_came_and_went() {
        let mut after = obuk();
        after.org_id = Some("0015800001HQQrZAAX".to_owned());
        after.trusted_client_ca_pem = Some("CN=Bank TPP CA|aa11\nCN=Directory CA|bb22".to_owned());
        after.client_crl_uris = vec!["http://crl.directory.example/issuing.crl".to_owned()];
        after.scopes.push("fundsconfirmations2".to_owned());
        after.scopes.retain(|scope| scope != "payments");
        after.token_endpoint_auth_methods = vec![TokenEndpointAuthMethod::PrivateKeyJwt];
        after.role_scopes.insert("PISP".to_owned(), vec!["payments".to_owned()]);
        after.role_scopes.remove("CBPII");
        after.access_token_ttl_seconds = 600;
        assert_eq!(
            describe_settings_change(&obuk(), &after, &certificates),
            "organisation id '0015800001HQQrZAAX'; trusted client CAs added: 'CN=Bank TPP CA' (SHA-256 aa11), \
             'CN=Directory CA' (SHA-256 bb22); revocation lists added: \
             'http://crl.directory.example/issuing.crl'; token endpoint auth methods removed: tls_client_auth; \
             scopes added: fundsconfirmations2; scopes removed: payments; role 'CBPII' may request no scopes; \
             role 'PISP' may request: payments; access tokens last 600 seconds"
        );

        // A CA swapped for another of the same subject is told apart by its fingerprint.
        let mut swapped = after.clone();
        swapped.trusted_client_ca_pem = Some("CN=Bank TPP CA|cc33\nCN=Directory CA|bb22".to_owned());
        assert_eq!(
            describe_settings_change(&after, &swapped, &certificates),
            "trusted client CAs added: 'CN=Bank TPP CA' (SHA-256 cc33); trusted client CAs removed: 'CN=Bank TPP CA' (SHA-256 aa11)"
        );
        let back = describe_settings_change(&after, &obuk(), &certificates);
        assert!(back.starts_with("no organisation id; trusted client CAs removed: "), "{back}");
    }

    #[test]
    fn limits_are_named_one_by_one_with_what_they_became() {
        let mut before = obuk();
        before.limits.introspection_requests_per_ip_per_minute = 60;
        let mut after = obuk();
        after.limits.token_requests_per_ip_per_minute = 30;
        assert_eq!(
            describe_settings_change(&before, &after, &certificates),
            "limits: token_requests_per_ip_per_minute 30, introspection_requests_per_ip_per_minute 6000",
            "a rate set back to its default is named too, though it is not stored"
        );
    }

    #[test]
    fn typed_values_are_quoted_so_none_reads_as_a_change_of_its_own() {
        let mut after = obuk();
        after.role_scopes.insert("x; access tokens last 60 seconds".to_owned(), Vec::new());
        after.accepted_audiences.push("it's".to_owned());
        assert_eq!(
            describe_settings_change(&obuk(), &after, &certificates),
            "accepted audiences added: 'it\\'s'; role 'x; access tokens last 60 seconds' may request no scopes"
        );
    }
}
