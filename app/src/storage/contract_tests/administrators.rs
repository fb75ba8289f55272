//! Administrators, console sessions, failed sign-ins, trusted browsers and the admin API key.

use super::*;

#[tokio::test]
async fn administrators_and_sessions_are_kept() {
    use crate::domain::account::AdminUser;
    for (store, _dir) in stores().await {
        let user = AdminUser {
            id: "u1".to_owned(),
            email: "admin@bank.example".to_owned(),
            password_hash: "$argon2id$...".to_owned(),
            created_at: at(0),
        };
        assert_eq!(ok(store.admin_user_count().await), 0);
        ok(store.insert_admin_user(&user).await);
        assert_eq!(ok(store.admin_user_count().await), 1);
        assert!(matches!(
            store.insert_admin_user(&AdminUser { id: "u2".to_owned(), ..user.clone() }).await,
            Err(StoreError::Conflict)
        ));
        assert_eq!(ok(store.admin_user_by_email("admin@bank.example").await).as_ref(), Some(&user));
        assert_eq!(ok(store.admin_user_by_id("u1").await).as_ref(), Some(&user));
        // A new password replaces only the one named, when one is.
        assert!(matches!(store.set_admin_password("admin@bank.example", "h2", Some("another")).await, Err(StoreError::NotFound)));
        ok(store.set_admin_password("admin@bank.example", "h2", Some(&user.password_hash)).await);
        ok(store.set_admin_password("admin@bank.example", &user.password_hash, None).await);
        assert!(matches!(store.set_admin_password("nobody@bank.example", "h2", None).await, Err(StoreError::NotFound)));
        assert_eq!(ok(store.admin_user_by_id("u1").await).as_ref(), Some(&user));
        let other = AdminUser { id: "u0".to_owned(), email: "a-first@bank.example".to_owned(), ..user.clone() };
        ok(store.insert_admin_user(&other).await);
        ok(store.note_admin_sign_in("u1", at(40)).await);
        let recovery_codes = ["r1", "r2"].map(|name| crate::secrets::SecretHash::from_stored(name.to_owned()));
        ok(store.enable_admin_two_step("u1", "sealed", 40, 7, &recovery_codes).await);
        let accounts: Vec<_> = ok(store.admin_accounts().await)
            .into_iter()
            .map(|account| (account.user, account.last_signed_in_at, account.two_step_wrong_codes, account.recovery_codes_left))
            .collect();
        assert_eq!(
            accounts,
            [(other, None, None, 0), (user.clone(), Some(at(40)), Some(0), 2)],
            "by address, with the last sign-in, whether two-step sign-in is on and its recovery codes left"
        );
        ok(store.disable_admin_two_step("u1").await);

        // Sign-in attempts are counted by address, an administrator's or not.
        for email in ["admin@bank.example", "nobody@bank.example"] {
            assert_eq!(ok(store.count_sign_in_attempt(email, 100).await), Some(1));
            assert_eq!(ok(store.count_sign_in_attempt(email, 100).await), Some(2));
            assert_eq!(ok(store.sign_in_locked_until(email, 100).await), None);
            ok(store.lock_sign_in(email, 500).await);
            assert_eq!(ok(store.sign_in_locked_until(email, 499).await), Some(500));
            assert_eq!(ok(store.count_sign_in_attempt(email, 499).await), None, "locked: not counted");
            assert_eq!(ok(store.sign_in_locked_until(email, 500).await), None, "the lock has run out");
            assert_eq!(ok(store.count_sign_in_attempt(email, 500).await), Some(1), "counted afresh");
        }
        ok(store.clear_sign_in_attempts("admin@bank.example").await);
        assert_eq!(ok(store.count_sign_in_attempt("admin@bank.example", 600).await), Some(1), "forgotten after a success");
        ok(store.lock_sign_in("admin@bank.example", 2000).await);
        assert_eq!(ok(store.purge_sign_in_attempts(1000, 550, 1000).await), 1, "the other's last attempt was at 500");
        assert_eq!(ok(store.purge_sign_in_attempts(1000, 700, 1000).await), 0, "a lock in force is kept");
        assert_eq!(ok(store.sign_in_locked_until("admin@bank.example", 1000).await), Some(2000));
        assert_eq!(ok(store.count_sign_in_attempt("nobody@bank.example", 1000).await), Some(1), "forgotten");

        let data = json!({"administrator": {"id": "u1"}});
        ok(store.insert_session("s1", &data, 1000).await);
        assert!(matches!(store.insert_session("s1", &data, 1000).await, Err(StoreError::Conflict)));
        assert_eq!(ok(store.load_session("s1", 999).await), Some((data.clone(), 1000)));
        assert_eq!(ok(store.load_session("s1", 1000).await), None, "expired");
        ok(store.update_session("s1", &json!({}), 2000).await);
        assert_eq!(ok(store.load_session("s1", 1500).await), Some((json!({}), 2000)));
        for (id, expires_at) in [("s2", 10), ("s3", 10), ("s4", 20)] {
            ok(store.insert_session(id, &data, expires_at).await);
        }
        assert_eq!(ok(store.purge_expired_sessions(100, 2).await), 2, "a batch of two: the earliest");
        assert_eq!(ok(store.purge_expired_sessions(100, 2).await), 1);
        ok(store.delete_session("s1").await);
        assert_eq!(ok(store.load_session("s1", 0).await), None);
        ok(store.update_session("s1", &data, 3000).await);
        assert_eq!(ok(store.load_session("s1", 0).await), None, "a session signed out stays signed out");
    }
}

/// Two-step sign-in is on while its row exists, and each time step's code is used once.
#[tokio::test]
async fn two_step_sign_in_is_turned_on_and_off_and_each_codes_step_used_once() {
    use crate::domain::account::{AdminUser, StoredTwoStep};
    for (store, _dir) in stores().await {
        let user = AdminUser {
            id: "u1".to_owned(),
            email: "admin@bank.example".to_owned(),
            password_hash: "h".to_owned(),
            created_at: at(0),
        };
        ok(store.insert_admin_user(&user).await);
        assert_eq!(ok(store.admin_two_step("u1").await), None);
        assert!(!ok(store.use_admin_two_step("u1", 10, 5).await), "off: no code is used");
        assert_eq!(ok(store.count_wrong_two_step_code("u1").await), None);
        ok(store.enable_admin_two_step("u1", "sealed", 300, 10, &[]).await);
        assert!(matches!(store.enable_admin_two_step("u1", "other", 301, 11, &[]).await, Err(StoreError::Conflict)));
        let on = StoredTwoStep {
            secret_sealed: "sealed".to_owned(),
            enabled_at: 300,
            last_used_step: 10,
            failed_codes: 0,
            recovery_codes_left: 0,
        };
        assert_eq!(ok(store.admin_two_step("u1").await), Some(on.clone()));
        assert!(!ok(store.use_admin_two_step("u1", 10, 5).await), "the enabling code's step is used");
        assert_eq!(ok(store.count_wrong_two_step_code("u1").await), Some(1));
        assert_eq!(ok(store.count_wrong_two_step_code("u1").await), Some(2));
        assert_eq!(ok(store.admin_two_step("u1").await).map(|stored| stored.failed_codes), Some(2));
        assert!(!ok(store.use_admin_two_step("u1", 12, 2).await), "blocked at two wrong codes");
        assert!(ok(store.use_admin_two_step("u1", 12, 5).await));
        assert!(!ok(store.use_admin_two_step("u1", 12, 5).await), "once");
        assert!(!ok(store.use_admin_two_step("u1", 11, 5).await), "nor an earlier step after it");
        assert_eq!(
            ok(store.admin_two_step("u1").await),
            Some(StoredTwoStep { last_used_step: 12, ..on }),
            "the wrong codes forgotten once a right one is given"
        );
        assert!(ok(store.disable_admin_two_step("u1").await));
        assert!(!ok(store.disable_admin_two_step("u1").await), "off already");
        assert_eq!(ok(store.admin_two_step("u1").await), None);
    }
}

/// Recovery codes come with two-step sign-in, each is used once (by one of parallel uses),
/// a use forgets the wrong codes given, a replacement takes all the earlier ones away, and
/// they go when two-step sign-in is turned off.
#[tokio::test]
async fn recovery_codes_are_used_once_replaced_whole_and_go_with_two_step_sign_in() {
    use crate::domain::account::AdminUser;
    use crate::secrets::SecretHash;
    async fn left(store: &dyn Store) -> Option<i64> {
        ok(store.admin_two_step("u1").await).map(|stored| stored.recovery_codes_left)
    }
    let hashes = |names: &[&str]| names.iter().map(|name| SecretHash::from_stored((*name).to_owned())).collect::<Vec<_>>();
    for (store, _dir) in stores().await {
        for (id, email) in [("u1", "admin@bank.example"), ("u2", "other@bank.example")] {
            let user = AdminUser { id: id.to_owned(), email: email.to_owned(), password_hash: "h".to_owned(), created_at: at(0) };
            ok(store.insert_admin_user(&user).await);
        }
        let first = hashes(&["a", "b", "c"]);
        assert!(!ok(store.replace_recovery_codes("u1", &first).await), "off: no codes");
        assert_eq!(ok(store.use_recovery_code("u1", &first[0], 10).await), None);
        ok(store.enable_admin_two_step("u1", "sealed", 300, 10, &first).await);
        ok(store.enable_admin_two_step("u2", "sealed", 300, 10, &hashes(&["a", "z"])).await);
        assert_eq!(left(store.as_ref()).await, Some(3));

        assert_eq!(ok(store.count_wrong_two_step_code("u1").await), Some(1));
        let uses = futures_util::future::join_all((0..4).map(|_| store.use_recovery_code("u1", &first[1], 10))).await;
        let uses: Vec<_> = uses.into_iter().map(ok).collect();
        assert_eq!(uses.iter().filter(|used| **used == Some(2)).count(), 1, "one of parallel uses: {uses:?}");
        assert_eq!(uses.iter().filter(|used| used.is_none()).count(), 3, "{uses:?}");
        assert_eq!(ok(store.admin_two_step("u1").await).map(|stored| stored.failed_codes), Some(0), "wrong codes forgotten");
        assert_eq!(ok(store.use_recovery_code("u1", &hashes(&["z"])[0], 10).await), None, "another administrator's");
        ok(store.count_wrong_two_step_code("u1").await);
        assert_eq!(ok(store.use_recovery_code("u1", &first[0], 1).await), None, "blocked at one wrong code");

        assert!(ok(store.replace_recovery_codes("u1", &hashes(&["d", "e"])).await));
        assert_eq!(left(store.as_ref()).await, Some(2));
        assert_eq!(ok(store.use_recovery_code("u1", &first[0], 10).await), None, "replaced");
        assert_eq!(ok(store.use_recovery_code("u1", &hashes(&["e"])[0], 10).await), Some(1));
        assert_eq!(ok(store.use_recovery_code("u2", &hashes(&["a"])[0], 10).await), Some(1), "their own codes stand");

        assert!(ok(store.disable_admin_two_step("u1").await));
        ok(store.enable_admin_two_step("u1", "sealed", 400, 12, &[]).await);
        assert_eq!(left(store.as_ref()).await, Some(0), "gone with two-step sign-in");
        assert_eq!(ok(store.use_recovery_code("u1", &hashes(&["d"])[0], 10).await), None);
    }
}

#[tokio::test]
async fn trusted_devices_count_their_own_attempts_and_are_forgotten() {
    use crate::domain::account::AdminUser;
    for (store, _dir) in stores().await {
        let email = "admin@bank.example";
        for (id, address) in [("u1", email), ("u2", "other@bank.example")] {
            let user =
                AdminUser { id: id.to_owned(), email: address.to_owned(), password_hash: "h1".to_owned(), created_at: at(0) };
            ok(store.insert_admin_user(&user).await);
        }
        assert!(ok(store.trust_device("d1", email, "h1", 100).await));
        assert!(ok(store.trust_device("d2", email, "h1", 100).await));
        assert!(ok(store.trust_device("d3", "other@bank.example", "h1", 100).await));
        assert!(matches!(store.trust_device("d1", email, "h1", 100).await, Err(StoreError::Conflict)));
        assert!(!ok(store.trust_device("d4", email, "h0", 100).await), "the password checked is no longer the one");
        assert!(!ok(store.trust_device("d4", "nobody@bank.example", "h1", 100).await), "no such administrator");
        assert_eq!(ok(store.trusted_device("d4", email, 0).await), None);
        assert_eq!(ok(store.trusted_device("d1", email, 100).await), Some(None));
        assert_eq!(ok(store.trusted_device("d1", "other@bank.example", 0).await), None, "trusted for its own address only");
        assert_eq!(ok(store.trusted_device("d1", email, 101).await), None, "not signed in from since");
        assert_eq!(ok(store.trusted_device("unknown", email, 0).await), None);

        assert_eq!(ok(store.count_device_attempt("d1", 200).await), Some(1));
        assert_eq!(ok(store.count_device_attempt("d1", 200).await), Some(2));
        ok(store.lock_device("d1", 500).await);
        assert_eq!(ok(store.trusted_device("d1", email, 0).await), Some(Some(500)));
        assert_eq!(ok(store.count_device_attempt("d1", 499).await), None, "locked: not counted");
        assert_eq!(ok(store.count_device_attempt("d1", 500).await), Some(1), "counted afresh once the lock ends");
        assert_eq!(ok(store.count_device_attempt("d2", 200).await), Some(1), "each device its own count");
        ok(store.clear_device_attempts("d1", 600).await);
        assert_eq!(ok(store.trusted_device("d1", email, 600).await), Some(None), "trust renewed, lock gone");
        assert_eq!(ok(store.count_device_attempt("d1", 600).await), Some(1));

        ok(store.lock_device("d2", 5000).await);
        assert_eq!(ok(store.purge_unused_devices(1000, 550, 10).await), 1, "d3; d1 was used at 600, d2 is locked");
        assert_eq!(ok(store.trusted_device("d3", "other@bank.example", 0).await), None);
        ok(store.forget_devices(email).await);
        assert_eq!(ok(store.trusted_device("d1", email, 0).await), None);
        assert_eq!(ok(store.trusted_device("d2", email, 0).await), None);
    }
}

#[tokio::test]
async fn the_admin_api_key_is_replaced_not_added() {
    for (store, _dir) in stores().await {
        assert!(ok(store.admin_api_key_hashes().await).is_empty());
        ok(store.replace_admin_api_key("h1", at(0)).await);
        ok(store.replace_admin_api_key("h2", at(1)).await);
        assert_eq!(ok(store.admin_api_key_hashes().await), vec!["h2".to_owned()]);
        ok(store.ping().await);
    }
}
