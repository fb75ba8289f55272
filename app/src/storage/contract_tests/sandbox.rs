//! The sandbox directory.

use super::*;

#[tokio::test]
async fn a_tenant_has_one_sandbox_directory_and_its_software() {
    use crate::domain::sandbox::{SandboxDirectoryKeys, SandboxSoftware, SoftwareDetails};
    for (store, _dir) in stores().await {
        assert_eq!(ok(store.sandbox_directory(&tenant()).await), None);
        let keys = |tag: &str| SandboxDirectoryKeys {
            signing_key_pem: format!("signing {tag}"),
            ca_cert_pem: format!("ca {tag}"),
            ca_key_pem: format!("ca key {tag}"),
            created_at: at(1),
        };
        assert_eq!(ok(store.ensure_sandbox_directory(&tenant(), &keys("first")).await), keys("first"));
        assert_eq!(ok(store.ensure_sandbox_directory(&tenant(), &keys("second")).await), keys("first"), "the first one stays");
        assert_eq!(ok(store.sandbox_directory(&tenant()).await), Some(keys("first")));

        let software = |name: &str| SandboxSoftware {
            details: SoftwareDetails {
                software_id: "BudgetPlanner".to_owned(),
                org_id: "org-1".to_owned(),
                org_name: Some("Org One Ltd".to_owned()),
                client_name: name.to_owned(),
                roles: vec!["AISP".to_owned()],
                redirect_uris: vec!["https://tpp.example/cb".to_owned()],
            },
            jwks: json!({"keys": []}),
            created_at: at(2),
        };
        ok(store.put_sandbox_software(&tenant(), &software("First"), Some("{\"bundle\": 1}")).await);
        assert_eq!(ok(store.sandbox_held_bundle(&tenant(), "BudgetPlanner").await).as_deref(), Some("{\"bundle\": 1}"));
        // Enrolling again (as `onboard tpp init` does) replaces it, and the held bundle goes.
        ok(store.put_sandbox_software(&tenant(), &software("Second"), None).await);
        assert_eq!(ok(store.sandbox_software(&tenant(), "BudgetPlanner").await), Some(software("Second")));
        assert_eq!(ok(store.sandbox_held_bundle(&tenant(), "BudgetPlanner").await), None);
        assert_eq!(ok(store.sandbox_software(&tenant(), "other").await), None);

        let mut newer = software("Newer");
        newer.details.software_id = "Newer".to_owned();
        newer.created_at = at(3);
        ok(store.put_sandbox_software(&tenant(), &newer, Some("{}")).await);
        let listed: Vec<(String, bool)> =
            ok(store.sandbox_software_list(&tenant()).await).into_iter().map(|s| (s.details.software_id, s.held)).collect();
        assert_eq!(listed, [("Newer".to_owned(), true), ("BudgetPlanner".to_owned(), false)]);

        assert!(ok(store.delete_sandbox_software(&tenant(), "Newer").await));
        assert!(!ok(store.delete_sandbox_software(&tenant(), "Newer").await));
        assert_eq!(ok(store.sandbox_software_list(&tenant()).await).len(), 1);
    }
}
