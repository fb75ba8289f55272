//! Workspaces, their settings and signing keys, and private keys at rest.

use super::*;

#[tokio::test]
async fn workspaces_are_created_read_listed_and_updated() {
    for (store, _dir) in stores().await {
        let obuk = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&obuk).await);
        assert!(matches!(store.insert_workspace(&obuk).await, Err(StoreError::Conflict)));

        let mut orphan = workspace("orphan", Profile::Generic);
        orphan.tenant = TenantId::parse("nobody").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(store.insert_workspace(&orphan).await, Err(StoreError::NotFound)));

        assert_eq!(ok(store.workspace(&obuk.reference()).await).as_deref(), Some(&obuk));
        assert_eq!(ok(store.workspace(&workspace_ref("missing")).await), None);
        assert!(ok(store.tenant_exists(&tenant()).await));

        let mut dcr = obuk.dcr.clone();
        dcr.enabled = true;
        assert_eq!(ok(save_dcr(&store, &obuk.reference(), &dcr, at(5)).await), DcrSettingsWrite::Saved);
        let stale = ok(store.update_dcr_settings(&obuk.reference(), &obuk.dcr, at(1), at(6)).await);
        assert_eq!(stale, DcrSettingsWrite::NotAsRead, "a write based on an older read changes nothing");
        let mut settings = obuk.settings.clone();
        settings.org_id = Some("0015800001HQQrZAAX".to_owned());
        let read_at = ok(store.workspace(&obuk.reference()).await).map(|w| w.updated_at).unwrap_or_default();
        let mut meanwhile = obuk.settings.clone();
        meanwhile.scopes.push("changed-meanwhile".to_owned());
        assert!(
            !ok(store.update_workspace_settings(&obuk.reference(), &meanwhile, at(4), at(6)).await),
            "a write based on an older read changes nothing"
        );
        assert!(ok(store.update_workspace_settings(&obuk.reference(), &settings, read_at, at(6)).await));
        assert!(!ok(store.update_workspace_settings(&obuk.reference(), &meanwhile, read_at, at(7)).await), "nor a second one");
        assert_eq!(ok(save_dcr(&store, &workspace_ref("missing"), &dcr, at(6)).await), DcrSettingsWrite::NotAsRead);

        let read = ok(store.workspace(&obuk.reference()).await).unwrap_or_else(|| panic!("workspace vanished"));
        assert_eq!((&read.dcr, &read.settings, read.updated_at), (&dcr, &settings, at(6)));

        let generic = Workspace { created_at: at(1), ..workspace("generic", Profile::Generic) };
        ok(store.insert_workspace(&generic).await);
        ok(store
            .register_client(
                client(&obuk.reference(), "c1", true, 7),
                None,
                None,
                0,
                &audit(&obuk.reference(), AuditEventType::DcrCreated, Outcome::Success, 7),
            )
            .await);
        let listed = ok(store.workspaces(&tenant()).await);
        let summary: Vec<_> = listed.iter().map(|w| (w.id.as_str(), w.dcr_enabled, w.client_count)).collect();
        assert_eq!(summary, vec![("obuk", true, 1), ("generic", false, 0)]);
    }
}

#[tokio::test]
async fn signing_keys_belong_to_their_workspace_newest_first() {
    use crate::domain::signing::{JwsAlgorithm, SigningKeyMaterial, WorkspaceSigningKey};
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let key = |kid: &str, second: i64| WorkspaceSigningKey {
            workspace: ws.reference(),
            material: SigningKeyMaterial {
                kid: kid.to_owned(),
                algorithm: JwsAlgorithm::Ps256,
                sealed_private_key: Some(format!("sealed:v1:0011223344556677:{kid}")),
                public_jwk: json!({"kid": kid, "kty": "RSA"}),
            },
            created_at: at(second),
            signs_from: at(second),
        };
        ok(store.insert_signing_key(&key("old", 1)).await);
        ok(store.insert_signing_key(&key("new", 2)).await);
        assert!(matches!(store.insert_signing_key(&key("new", 3)).await, Err(StoreError::Conflict)));
        let kids: Vec<_> = ok(store.signing_keys(&ws.reference()).await).iter().map(|k| k.material.kid.clone()).collect();
        assert_eq!(kids, ["new", "old"]);
        let stored = ok(store.signing_keys(&ws.reference()).await)[0].clone();
        assert_eq!((stored.material.public_jwk, stored.created_at), (json!({"kid": "new", "kty": "RSA"}), at(2)));
        assert!(ok(store.signing_keys(&workspace_ref("other")).await).is_empty());
    }
}

/// A planned key keeps when it signs; it starts early or is deleted only while it is still
/// planned, and only in its workspace.
#[tokio::test]
async fn a_planned_key_starts_early_or_goes_only_while_it_is_planned() {
    use crate::domain::signing::{JwsAlgorithm, SigningKeyMaterial, WorkspaceSigningKey};
    for (store, _dir) in stores().await {
        let (ws, other) = (workspace("obuk", Profile::OpenbankingUk), workspace_ref("other"));
        ok(store.insert_workspace(&ws).await);
        ok(store.insert_workspace(&workspace("other", Profile::Generic)).await);
        let key = |kid: &str, made: i64, signs: i64| WorkspaceSigningKey {
            workspace: ws.reference(),
            material: SigningKeyMaterial {
                kid: kid.to_owned(),
                algorithm: JwsAlgorithm::Ps256,
                sealed_private_key: Some(format!("sealed {kid}")),
                public_jwk: json!({"kid": kid}),
            },
            created_at: at(made),
            signs_from: at(signs),
        };
        for new in [key("current", 1, 1), key("planned", 2, 100), key("later", 3, 200)] {
            ok(store.insert_signing_key(&new).await);
        }
        let signs_from = async |kid: &str| {
            let keys = ok(store.signing_keys(&ws.reference()).await);
            keys.iter().find(|k| k.material.kid == kid).map(|k| k.signs_from)
        };
        assert_eq!(signs_from("planned").await, Some(at(100)));

        assert!(!ok(store.start_signing(&other, "planned", at(50)).await), "not that workspace's key");
        assert!(!ok(store.start_signing(&ws.reference(), "current", at(50)).await), "signing already");
        assert!(ok(store.start_signing(&ws.reference(), "planned", at(50)).await));
        assert_eq!(signs_from("planned").await, Some(at(50)), "read again at once");
        assert!(!ok(store.start_signing(&ws.reference(), "planned", at(60)).await), "once");

        assert!(!ok(store.delete_planned_signing_key(&ws.reference(), "planned", at(60)).await), "it has started");
        assert!(!ok(store.delete_planned_signing_key(&other, "later", at(60)).await));
        assert!(!ok(store.delete_planned_signing_key(&ws.reference(), "later", at(200)).await), "its hour has come");
        assert!(ok(store.delete_planned_signing_key(&ws.reference(), "later", at(199)).await));
        assert_eq!(signs_from("later").await, None);

        // One planned key per algorithm, checked as the key is stored.
        assert!(ok(store.insert_planned_signing_key(&key("planned-again", 70, 300), at(70)).await), "none planned at 70");
        assert!(!ok(store.insert_planned_signing_key(&key("twin", 71, 400), at(71)).await), "one is planned");
        assert_eq!(signs_from("twin").await, None);
        let es = WorkspaceSigningKey {
            material: SigningKeyMaterial { algorithm: JwsAlgorithm::Es256, ..key("es", 72, 400).material },
            ..key("es", 72, 400)
        };
        assert!(ok(store.insert_planned_signing_key(&es, at(72)).await), "another algorithm's");
    }
}

#[tokio::test]
async fn an_erased_private_key_is_gone_for_good_and_its_key_stays_listed() {
    use crate::domain::signing::{JwsAlgorithm, SigningKeyMaterial, WorkspaceSigningKey};
    use crate::storage::PrivateKeySlot;
    for (store, _dir) in stores().await {
        let (obuk, other) = (workspace("obuk", Profile::OpenbankingUk), workspace("other", Profile::Generic));
        ok(store.insert_workspace(&obuk).await);
        ok(store.insert_workspace(&other).await);
        for (ws, kid, second) in [(&obuk, "old", 1), (&obuk, "new", 2), (&other, "theirs", 3)] {
            let material = SigningKeyMaterial {
                kid: kid.to_owned(),
                algorithm: JwsAlgorithm::Ps256,
                sealed_private_key: Some(format!("sealed {kid}")),
                public_jwk: json!({"kid": kid}),
            };
            ok(store
                .insert_signing_key(&WorkspaceSigningKey {
                    workspace: ws.reference(),
                    material,
                    created_at: at(second),
                    signs_from: at(second),
                })
                .await);
        }
        let every = |keys: &[WorkspaceSigningKey]| {
            keys.iter()
                .map(|key| {
                    (key.workspace.workspace.to_string(), key.material.kid.clone(), key.material.sealed_private_key.clone())
                })
                .collect::<Vec<_>>()
        };
        let sealed = |kid: &str| Some(format!("sealed {kid}"));
        let (obuk_name, other_name) = (obuk.id.to_string(), other.id.to_string());
        assert_eq!(
            every(&ok(store.every_signing_key().await)),
            [
                (obuk_name.clone(), "new".to_owned(), sealed("new")),
                (obuk_name.clone(), "old".to_owned(), sealed("old")),
                (other_name.clone(), "theirs".to_owned(), sealed("theirs"))
            ],
            "each workspace's keys together, newest first"
        );

        assert!(!ok(store.erase_private_key(&other.reference(), "old", at(9)).await), "not that workspace's key");
        assert!(ok(store.erase_private_key(&obuk.reference(), "old", at(9)).await));
        assert!(!ok(store.erase_private_key(&obuk.reference(), "old", at(10)).await), "once");
        let listed = every(&ok(store.signing_keys(&obuk.reference()).await));
        assert_eq!(
            listed,
            [(obuk_name.clone(), "new".to_owned(), sealed("new")), (obuk_name, "old".to_owned(), None)],
            "still listed, without it"
        );
        let slots: Vec<_> = ok(store.stored_private_keys().await)
            .into_iter()
            .map(|(slot, _)| match slot {
                PrivateKeySlot::WorkspaceSigningKey { kid, .. } => kid,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(slots, ["new", "theirs"], "nothing left to re-seal");
    }
}

#[tokio::test]
async fn every_stored_private_key_is_listed_by_its_slot_and_replaced_in_place() {
    use crate::domain::sandbox::{SandboxDirectoryKeys, SandboxSoftware, SoftwareDetails};
    use crate::domain::signing::{JwsAlgorithm, SigningKeyMaterial, WorkspaceSigningKey};
    use crate::storage::PrivateKeySlot;
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let material = SigningKeyMaterial {
            kid: "kid-1".to_owned(),
            algorithm: JwsAlgorithm::Ps256,
            sealed_private_key: Some("workspace key".to_owned()),
            public_jwk: json!({"kid": "kid-1", "kty": "RSA"}),
        };
        ok(store
            .insert_signing_key(&WorkspaceSigningKey {
                workspace: ws.reference(),
                material,
                created_at: at(1),
                signs_from: at(1),
            })
            .await);
        let keys = SandboxDirectoryKeys {
            signing_key_pem: "directory signing key".to_owned(),
            ca_cert_pem: "ca certificate".to_owned(),
            ca_key_pem: "ca key".to_owned(),
            created_at: at(1),
        };
        ok(store.ensure_sandbox_directory(&tenant(), &keys).await);
        let software = |id: &str| SandboxSoftware {
            details: SoftwareDetails {
                software_id: id.to_owned(),
                org_id: "org-1".to_owned(),
                org_name: None,
                client_name: id.to_owned(),
                roles: vec!["AISP".to_owned()],
                redirect_uris: vec!["https://tpp.example/cb".to_owned()],
            },
            jwks: json!({"keys": []}),
            created_at: at(2),
        };
        ok(store.put_sandbox_software(&tenant(), &software("Held"), Some("held bundle")).await);
        ok(store.put_sandbox_software(&tenant(), &software("Elsewhere"), None).await);
        let administrator = crate::domain::account::AdminUser {
            id: "u1".to_owned(),
            email: "admin@bank.example".to_owned(),
            password_hash: "$argon2id$...".to_owned(),
            created_at: at(0),
        };
        ok(store.insert_admin_user(&administrator).await);
        ok(store.enable_admin_two_step("u1", "two-step secret", 5, 1, &[]).await);

        let slots = [
            (PrivateKeySlot::WorkspaceSigningKey { at: ws.reference(), kid: "kid-1".to_owned() }, "workspace key"),
            (PrivateKeySlot::SandboxDirectorySigningKey { tenant: tenant() }, "directory signing key"),
            (PrivateKeySlot::SandboxDirectoryCaKey { tenant: tenant() }, "ca key"),
            (PrivateKeySlot::SandboxHeldBundle { tenant: tenant(), software_id: "Held".to_owned() }, "held bundle"),
            (PrivateKeySlot::AdministratorTwoStepSecret { administrator_id: "u1".to_owned() }, "two-step secret"),
        ];
        let expected: Vec<_> = slots.iter().map(|(slot, value)| (slot.clone(), (*value).to_owned())).collect();
        assert_eq!(ok(store.stored_private_keys().await), expected, "software without a held bundle has no slot");
        for (slot, value) in &slots {
            ok(store.replace_private_key(slot, &format!("sealed {value}")).await);
        }
        let replaced: Vec<_> = slots.iter().map(|(slot, value)| (slot.clone(), format!("sealed {value}"))).collect();
        assert_eq!(ok(store.stored_private_keys().await), replaced);
        assert_eq!(
            ok(store.signing_keys(&ws.reference()).await)[0].material.sealed_private_key.as_deref(),
            Some("sealed workspace key")
        );
        let directory = ok(store.sandbox_directory(&tenant()).await).unwrap_or_else(|| panic!("the directory"));
        assert_eq!(
            (directory.signing_key_pem.as_str(), directory.ca_cert_pem.as_str()),
            ("sealed directory signing key", "ca certificate")
        );
        assert_eq!(ok(store.sandbox_held_bundle(&tenant(), "Held").await).as_deref(), Some("sealed held bundle"));
        let two_step = ok(store.admin_two_step("u1").await).unwrap_or_else(|| panic!("two-step sign-in"));
        assert_eq!(two_step.secret_sealed, "sealed two-step secret");
    }
}
