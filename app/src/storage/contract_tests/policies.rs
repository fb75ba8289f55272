//! DCR policies.

use super::*;

#[tokio::test]
async fn policies_are_kept_per_workspace() {
    use crate::domain::policy::{PolicyBody, PolicyDraft};
    for (store, _dir) in stores().await {
        let obuk = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&obuk).await);
        let at_obuk = obuk.reference();
        let id = PolicyId::parse("roles").unwrap_or_else(|e| panic!("{e}"));
        let rules = serde_json::from_value(json!([{
            "field": "software_statement.software_roles", "comparator": "in", "value": ["AISP"],
            "error_code": "unapproved_software_statement", "error_description": "AISP only"
        }]))
        .unwrap_or_else(|e| panic!("{e}"));
        let policy = Policy {
            id: id.clone(),
            name: "Roles".to_owned(),
            body: PolicyBody::Validators(rules),
            created_at: at(1),
            updated_at: at(1),
        };
        ok(store.insert_policy(&at_obuk, &policy).await);
        assert!(matches!(store.insert_policy(&at_obuk, &policy).await, Err(StoreError::Conflict)));
        assert!(matches!(store.insert_policy(&workspace_ref("missing"), &policy).await, Err(StoreError::NotFound)));
        assert_eq!(ok(store.policy(&at_obuk, &id).await).as_ref(), Some(&policy));
        assert_eq!(ok(store.policies(&workspace_ref("missing")).await), vec![]);

        let draft = PolicyDraft { name: "Rego roles".to_owned(), body: PolicyBody::Rego("package onboard".to_owned()) };
        assert!(ok(store.update_policy(&at_obuk, &id, &draft, at(2)).await));
        let updated = ok(store.policy(&at_obuk, &id).await).unwrap_or_else(|| panic!("policy vanished"));
        assert_eq!(
            (updated.name.as_str(), &updated.body, updated.created_at, updated.updated_at),
            ("Rego roles", &draft.body, at(1), at(2))
        );
        let other = PolicyId::parse("other").unwrap_or_else(|e| panic!("{e}"));
        assert!(!ok(store.update_policy(&at_obuk, &other, &draft, at(2)).await));

        ok(store.insert_policy(&at_obuk, &Policy { id: other.clone(), name: "A first".to_owned(), ..policy.clone() }).await);
        let names: Vec<String> = ok(store.policies(&at_obuk).await).into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["A first", "Rego roles"]);

        // Settings can name only a policy the workspace has, and a named policy stays.
        let mut dcr = obuk.dcr.clone();
        dcr.policy_id = Some(PolicyId::parse("nowhere").unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(ok(save_dcr(&store, &at_obuk, &dcr, at(3)).await), DcrSettingsWrite::NoPolicy);
        assert_eq!(ok(store.workspace(&at_obuk).await).map(|w| w.dcr.clone()), Some(obuk.dcr.clone()), "nothing written");
        dcr.policy_id = Some(id.clone());
        assert_eq!(ok(save_dcr(&store, &at_obuk, &dcr, at(3)).await), DcrSettingsWrite::Saved);
        assert_eq!(ok(store.delete_policy(&at_obuk, &id).await), PolicyDeletion::Attached);
        assert_eq!(ok(store.delete_policy(&at_obuk, &other).await), PolicyDeletion::Deleted);
        dcr.policy_id = None;
        assert_eq!(ok(save_dcr(&store, &at_obuk, &dcr, at(4)).await), DcrSettingsWrite::Saved);
        assert_eq!(ok(store.delete_policy(&at_obuk, &id).await), PolicyDeletion::Deleted);
        assert_eq!(ok(store.delete_policy(&at_obuk, &id).await), PolicyDeletion::NotFound);
        assert_eq!(ok(store.policy(&at_obuk, &id).await), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attaching_and_deleting_a_policy_at_once_cannot_both_win() {
    use crate::domain::policy::PolicyBody;
    for (store, _dir) in stores().await {
        let obuk = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&obuk).await);
        let at_obuk = obuk.reference();
        for round in 0..20 {
            let id = PolicyId::parse(format!("race-{round}")).unwrap_or_else(|e| panic!("{e}"));
            let policy = Policy {
                id: id.clone(),
                name: "Race".to_owned(),
                body: PolicyBody::Rego("package onboard".to_owned()),
                created_at: at(1),
                updated_at: at(1),
            };
            ok(store.insert_policy(&at_obuk, &policy).await);
            let mut dcr = obuk.dcr.clone();
            dcr.policy_id = Some(id.clone());
            let (attach, delete) = {
                let (store_a, store_d, at_a, at_d, id_d) =
                    (store.clone(), store.clone(), at_obuk.clone(), at_obuk.clone(), id.clone());
                tokio::join!(
                    tokio::spawn(async move { save_dcr(&store_a, &at_a, &dcr, at(2)).await }),
                    tokio::spawn(async move { store_d.delete_policy(&at_d, &id_d).await })
                )
            };
            let attach = ok(attach.unwrap_or_else(|e| panic!("{e}")));
            let delete = ok(delete.unwrap_or_else(|e| panic!("{e}")));
            let outcome = (attach, delete);
            assert!(
                outcome == (DcrSettingsWrite::Saved, PolicyDeletion::Attached)
                    || outcome == (DcrSettingsWrite::NoPolicy, PolicyDeletion::Deleted),
                "{}: round {round}: {outcome:?}",
                store.backend().as_str()
            );
            let named = ok(store.workspace(&at_obuk).await).and_then(|w| w.dcr.policy_id.clone());
            if let Some(named) = named {
                assert!(ok(store.policy(&at_obuk, &named).await).is_some(), "settings name a deleted policy");
            }
            let mut detached = obuk.dcr.clone();
            detached.policy_id = None;
            ok(save_dcr(&store, &at_obuk, &detached, at(3)).await);
        }
    }
}
