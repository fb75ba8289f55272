//! What a change of a workspace's general settings changed, in words, for the audit log: which
//! CAs' client certificates became trusted, which scopes a role may ask for, and the rest.

use std::collections::BTreeSet;

use super::oauth::{GrantType, TokenEndpointAuthMethod};
use super::workspace::WorkspaceSettings;

/// Each general setting that changed from `before` to `after`, in the order of the General
/// settings tab, e.g. `trusted client CAs: 'CN=Bank TPP CA, O=Bank'; scopes added: payments`;
/// `no change` for none. `certificates` names the certificates of a PEM bundle (by subject),
/// so a security team sees which CAs were trusted, not that a text changed.
pub fn describe_settings_change(
    before: &WorkspaceSettings,
    after: &WorkspaceSettings,
    certificates: &dyn Fn(&str) -> Vec<String>,
) -> String {
    let (was, is) = (before, after);
    let mut changes = Vec::new();
    if was.org_id != is.org_id {
        changes.push(is.org_id.as_ref().map_or_else(|| "no organisation id".to_owned(), |id| format!("organisation id {id}")));
    }
    changes.extend(added_and_removed("accepted audiences", &was.accepted_audiences, &is.accepted_audiences));
    if was.trusted_client_ca_pem != is.trusted_client_ca_pem {
        changes.push(match &is.trusted_client_ca_pem {
            None => "no trusted client CAs".to_owned(),
            Some(pem) => {
                let named: Vec<String> = certificates(pem).into_iter().map(|subject| format!("'{subject}'")).collect();
                format!("trusted client CAs: {}", named.join(", "))
            }
        });
    }
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
        match (was.role_scopes.get(role), is.role_scopes.get(role)) {
            (was_scopes, Some(scopes)) if was_scopes != Some(scopes) => {
                changes.push(format!("role {role} may request: {}", scopes.join(" ")));
            }
            (Some(_), None) => changes.push(format!("role {role} may request no scopes")),
            _ => {}
        }
    }
    if was.access_token_ttl_seconds != is.access_token_ttl_seconds {
        changes.push(format!("access tokens last {} seconds", is.access_token_ttl_seconds));
    }
    if was.access_token_signing_alg != is.access_token_signing_alg {
        changes.push(format!("access tokens signed with {}", is.access_token_signing_alg));
    }
    if was.limits != is.limits {
        changes.push(format!("limits: {}", serde_json::to_string(&is.limits).unwrap_or_default()));
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

    fn subjects(pem: &str) -> Vec<String> {
        pem.lines().map(|line| format!("CN={line}")).collect()
    }

    #[test]
    fn a_save_that_changes_nothing_says_so() {
        assert_eq!(describe_settings_change(&obuk(), &obuk(), &subjects), "no change");
    }

    #[test]
    fn trusted_cas_are_named_by_subject_and_lists_by_what_came_and_went() {
        let mut after = obuk();
        after.org_id = Some("0015800001HQQrZAAX".to_owned());
        after.trusted_client_ca_pem = Some("Bank TPP CA\nDirectory CA".to_owned());
        after.scopes.push("fundsconfirmations2".to_owned());
        after.scopes.retain(|scope| scope != "payments");
        after.token_endpoint_auth_methods = vec![TokenEndpointAuthMethod::PrivateKeyJwt];
        after.role_scopes.insert("PISP".to_owned(), vec!["payments".to_owned()]);
        after.role_scopes.remove("CBPII");
        after.access_token_ttl_seconds = 600;
        assert_eq!(
            describe_settings_change(&obuk(), &after, &subjects),
            "organisation id 0015800001HQQrZAAX; trusted client CAs: 'CN=Bank TPP CA', 'CN=Directory CA'; \
             token endpoint auth methods removed: tls_client_auth; scopes added: fundsconfirmations2; \
             scopes removed: payments; role CBPII may request no scopes; role PISP may request: payments; \
             access tokens last 600 seconds"
        );
        let back = describe_settings_change(&after, &obuk(), &subjects);
        assert!(back.starts_with("no organisation id; no trusted client CAs; "), "{back}");
    }
}
