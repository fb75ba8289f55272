//! Console sign-ins.

use super::*;

#[tokio::test]
async fn console_sign_ins_are_listed_ended_and_forgotten_per_administrator() {
    use crate::domain::account::AdminUser;
    use crate::domain::console_session::ConsoleSignIn;
    for (store, _dir) in stores().await {
        for (id, email) in [("u1", "admin@bank.example"), ("u2", "other@bank.example")] {
            let user =
                AdminUser { id: id.to_owned(), email: email.to_owned(), password_hash: "h1".to_owned(), created_at: at(0) };
            ok(store.insert_admin_user(&user).await);
        }
        let sign_in = |id: &str, administrator: &str, at: i64| ConsoleSignIn {
            id: id.to_owned(),
            administrator_id: administrator.to_owned(),
            password_mark: "m1".to_owned(),
            signed_in_at: at,
            last_seen_at: at,
            confirmed_at: at,
            address: Some("192.0.2.7".to_owned()),
            user_agent: "Firefox/133.0".to_owned(),
        };
        for (id, administrator, at) in [("s1", "u1", 100), ("s2", "u1", 200), ("s3", "u1", 300), ("s4", "u2", 300)] {
            ok(store.insert_console_sign_in(&sign_in(id, administrator, at)).await);
        }
        assert!(matches!(store.insert_console_sign_in(&sign_in("s1", "u2", 400)).await, Err(StoreError::Conflict)));
        assert!(store.insert_console_sign_in(&sign_in("s5", "nobody", 400)).await.is_err(), "only of an administrator");

        let (found, user) = ok(store.console_sign_in("s2").await).unwrap_or_else(|| panic!("s2 is there"));
        assert_eq!(found, sign_in("s2", "u1", 200));
        assert_eq!(user.email, "admin@bank.example");
        assert_eq!(ok(store.console_sign_in("nothing").await), None);

        // A confirmation counts only for a sign-in made with the password just proven.
        assert!(!ok(store.confirm_console_sign_in("s2", "m0", 260).await), "made with another password");
        assert!(!ok(store.confirm_console_sign_in("nothing", "m1", 260).await));
        assert!(ok(store.confirm_console_sign_in("s2", "m1", 260).await));
        let (found, _) = ok(store.console_sign_in("s2").await).unwrap_or_else(|| panic!("s2 is there"));
        assert_eq!(found, ConsoleSignIn { confirmed_at: 260, ..sign_in("s2", "u1", 200) });

        ok(store.touch_console_sign_in("s1", 400, Some("198.51.100.1")).await);
        ok(store.touch_console_sign_in("s2", 350, None).await);
        let listed = ok(store.console_sign_ins("u1", "m1", 0, 0, 10).await);
        let ids: Vec<_> = listed.iter().map(|sign_in| sign_in.id.as_str()).collect();
        assert_eq!(ids, ["s1", "s2", "s3"], "the most recently used first, the other administrator's not");
        assert_eq!((listed[0].last_seen_at, listed[0].address.as_deref()), (400, Some("198.51.100.1")));
        assert_eq!((listed[1].last_seen_at, listed[1].address.as_deref()), (350, Some("192.0.2.7")), "address kept");
        assert_eq!(ok(store.count_console_sign_ins("u1", "m1", 0, 0).await), 3);
        assert_eq!(ok(store.count_console_sign_ins("u1", "m0", 0, 0).await), 0, "made with another password");
        assert_eq!(ok(store.count_console_sign_ins("u1", "m1", 150, 320).await), 1);
        let recent = ok(store.console_sign_ins("u1", "m1", 150, 320, 10).await);
        let ids: Vec<_> = recent.iter().map(|sign_in| sign_in.id.as_str()).collect();
        assert_eq!(ids, ["s2"], "s1 was signed in before 150, s3 not used since 320");
        assert_eq!(ok(store.console_sign_ins("u1", "m1", 0, 0, 2).await).len(), 2, "at most the limit");
        assert!(ok(store.console_sign_ins("u1", "m0", 0, 0, 10).await).is_empty(), "made with another password");

        assert!(!ok(store.end_console_sign_in("u2", "s1").await), "only one's own");
        assert!(ok(store.end_console_sign_in("u1", "s1").await));
        assert!(!ok(store.end_console_sign_in("u1", "s1").await), "once");
        assert_eq!(ok(store.console_sign_in("s1").await), None);
        ok(store.insert_console_sign_in(&sign_in("s6", "u1", 500)).await);
        assert_eq!(ok(store.end_console_sign_ins("u1", Some("s6")).await), 2, "s2 and s3");
        assert_eq!(ok(store.console_sign_ins("u1", "m1", 0, 0, 10).await), [sign_in("s6", "u1", 500)]);
        assert_eq!(ok(store.end_console_sign_ins("u2", None).await), 1);
        assert!(ok(store.console_sign_ins("u2", "m1", 0, 0, 10).await).is_empty());

        for (id, at) in [("s7", 100), ("s8", 600)] {
            ok(store.insert_console_sign_in(&sign_in(id, "u2", at)).await);
        }
        ok(store.touch_console_sign_in("s7", 900, None).await);
        assert_eq!(ok(store.purge_console_sign_ins(150, 550, 10).await), 2, "s7 signed in too long ago, s6 unused since");
        let left = ok(store.console_sign_ins("u2", "m1", 0, 0, 10).await);
        assert_eq!(left.iter().map(|sign_in| sign_in.id.as_str()).collect::<Vec<_>>(), ["s8"]);
    }
}
