//! Clients: registration with its replay guard and audit event, group commit, lists, the cap,
//! access tokens.

use super::*;

#[tokio::test]
async fn registration_writes_client_guard_and_audit_together() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();

        let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 1);
        ok(store.register_client(client(&at_ws, "c1", true, 1), Some(&guard(&at_ws, "j1", 100)), None, 0, &created).await);

        assert!(ok(store.replay_guard_exists(&guard(&at_ws, "j1", 100)).await));
        assert!(!ok(store.replay_guard_exists(&guard(&at_ws, "j2", 100)).await));
        assert!(!ok(store.replay_guard_exists(&guard(&workspace_ref("other"), "j1", 100)).await));

        // A replayed jti writes nothing: no client, no audit event.
        let replay =
            store.register_client(client(&at_ws, "c2", true, 2), Some(&guard(&at_ws, "j1", 100)), None, 0, &created).await;
        assert!(matches!(replay, Err(StoreError::Replayed)), "{replay:?}");
        assert_eq!(ok(store.client(&at_ws, "c2").await), None);
        assert_eq!(ok(store.audit_events(&at_ws, &AuditFilter::default()).await).len(), 1);

        // A client id taken already is a conflict, and its fresh jti is not spent: the replay
        // record written in the same query is undone with the client.
        let taken =
            store.register_client(client(&at_ws, "c1", true, 2), Some(&guard(&at_ws, "j5", 100)), None, 0, &created).await;
        assert!(matches!(taken, Err(StoreError::Conflict)), "{taken:?}");
        assert!(!ok(store.replay_guard_exists(&guard(&at_ws, "j5", 100)).await));
        assert_eq!(ok(store.audit_events(&at_ws, &AuditFilter::default()).await).len(), 1);

        // The same jti from another workspace is another request.
        ok(store.insert_workspace(&workspace("other", Profile::OpenbankingUk)).await);
        let other = workspace_ref("other");
        ok(store
            .register_client(
                client(&other, "c3", true, 3),
                Some(&guard(&other, "j1", 100)),
                None,
                0,
                &audit(&other, AuditEventType::DcrCreated, Outcome::Success, 3),
            )
            .await);

        let details = ok(store.client(&at_ws, "c1").await).unwrap_or_else(|| panic!("client missing"));
        assert_eq!(details.metadata, client(&at_ws, "c1", true, 1).metadata, "the metadata reads back as written");
        assert_eq!(details.software_statement.as_deref(), Some("a.b.c"));
        assert!(details.summary.dynamically_registered);
        let (_, credentials) = ok(store.client_with_credentials(&at_ws, "c1").await).unwrap_or_else(|| panic!("c1"));
        assert_eq!(credentials.registration_access_token_subject.as_deref(), Some("CN=tpp"));
        assert_eq!(ok(store.client(&other, "c1").await), None, "clients are scoped to their workspace");

        ok(store.insert_replay_guard(&guard(&at_ws, "assertion-1", 100)).await);
        assert!(matches!(store.insert_replay_guard(&guard(&at_ws, "assertion-1", 100)).await, Err(StoreError::Replayed)));
        // A tenant-wide record is its own: beside the workspace's, and spent once.
        let tenant_wide = ReplayGuard { scope: ReplayScope::Tenant(tenant()), ..guard(&at_ws, "assertion-1", 100) };
        ok(store.insert_replay_guard(&tenant_wide).await);
        assert!(matches!(store.insert_replay_guard(&tenant_wide).await, Err(StoreError::Replayed)));
        assert!(ok(store.replay_guard_exists(&tenant_wide).await));
        assert_eq!(ok(store.purge_expired_replay_guards(99, 1000).await), 0);
        ok(store.insert_replay_guard(&guard(&at_ws, "assertion-2", 90)).await);
        assert_eq!(ok(store.purge_expired_replay_guards(101, 1).await), 1, "a batch of one: the earliest");
        assert!(!ok(store.replay_guard_exists(&guard(&at_ws, "assertion-2", 90)).await));
        assert_eq!(ok(store.purge_expired_replay_guards(101, 3).await), 3, "a batch holds no more, though more share its expiry");
        assert_eq!(ok(store.purge_expired_replay_guards(101, 1000).await), 1);
        assert_eq!(ok(store.purge_expired_replay_guards(101, 1000).await), 0);
        ok(store.register_client(client(&at_ws, "c4", true, 4), Some(&guard(&at_ws, "j1", 200)), None, 0, &created).await);
    }
}

/// Group commit: writes that arrive together share a transaction, yet each keeps its own
/// outcome. A `jti` used twice in one batch registers once; the rest all commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_each_keep_their_outcome() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        let attempts = (0..200).map(|i| {
            let (store, at_ws) = (store.clone(), at_ws.clone());
            // Requests 0 and 1 carry the same jti; so do 2 and 3.
            let jti = format!("j{}", if i < 4 { i / 2 } else { i });
            tokio::spawn(async move {
                let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 1);
                store
                    .register_client(
                        client(&at_ws, &format!("c{i}"), true, 1),
                        Some(&guard(&at_ws, &jti, 100)),
                        None,
                        0,
                        &created,
                    )
                    .await
            })
        });
        let outcomes: Vec<Result<(), StoreError>> = futures_util::future::join_all(attempts)
            .await
            .into_iter()
            .map(|joined| joined.unwrap_or_else(|e| panic!("{e}")))
            .collect();
        let replayed = outcomes.iter().filter(|o| matches!(o, Err(StoreError::Replayed))).count();
        assert_eq!(replayed, 2, "{outcomes:?}");
        assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 198);
        let listed = ok(store.clients(&at_ws, &only(ClientFilter::All)).await);
        assert_eq!(listed.len(), 198, "each registration that succeeded is there, and no other");
        let every_event = AuditFilter { limit: 500, ..AuditFilter::default() };
        assert_eq!(ok(store.audit_events(&at_ws, &every_event).await).len(), 198);
        let assertions = (0..50).map(|i| {
            let (store, at_ws) = (store.clone(), at_ws.clone());
            tokio::spawn(async move { store.insert_replay_guard(&guard(&at_ws, &format!("a{}", i % 25), 100)).await })
        });
        let outcomes: Vec<_> = futures_util::future::join_all(assertions).await.into_iter().flatten().collect();
        assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 25);
        assert_eq!(outcomes.iter().filter(|o| matches!(o, Err(StoreError::Replayed))).count(), 25);
    }
}

#[tokio::test]
async fn clients_are_listed_filtered_and_deleted() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 0);
        ok(store.register_client(client(&at_ws, "old", true, 1), None, None, 0, &created).await);
        ok(store.register_client(client(&at_ws, "manual", false, 2), None, None, 0, &created).await);
        ok(store.register_client(client(&at_ws, "new", true, 3), None, None, 0, &created).await);

        let ids = |list: Vec<ClientSummary>| list.into_iter().map(|c| c.client_id).collect::<Vec<_>>();
        assert_eq!(ids(ok(store.clients(&at_ws, &only(ClientFilter::All)).await)), ["new", "manual", "old"]);
        assert_eq!(ids(ok(store.clients(&at_ws, &only(ClientFilter::Dynamic)).await)), ["new", "old"]);
        assert_eq!(ids(ok(store.clients(&at_ws, &only(ClientFilter::Manual)).await)), ["manual"]);
        assert_eq!(ok(store.dynamic_client_count(&at_ws).await), 2);

        let deleted = audit(&at_ws, AuditEventType::ClientDeleted, Outcome::Success, 9);
        assert!(ok(store.delete_client(&at_ws, "old", &deleted).await));
        assert!(!ok(store.delete_client(&at_ws, "old", &deleted).await));
        assert_eq!(ids(ok(store.clients(&at_ws, &only(ClientFilter::Dynamic)).await)), ["new"]);
        assert_eq!(ok(store.dynamic_client_count(&at_ws).await), 1);
        let events = ok(store
            .audit_events(&at_ws, &AuditFilter { event_type: Some(AuditEventType::ClientDeleted), ..AuditFilter::default() })
            .await);
        assert_eq!(events.len(), 1, "one audit event per actual deletion");

        // An abandoned client's deletion holds only while it is abandoned: registered by the
        // cut-off and given no token since.
        ok(store.register_client(client(&at_ws, "idle", true, 1), None, None, 0, &created).await);
        let token = AccessTokenRecord { issued_at: at(5), ..token_record(&at_ws, "t-idle", "idle") };
        ok(store.insert_access_token(&token, "hash-idle", None, &issued(&token)).await);
        assert!(!ok(store.delete_unused_client(&at_ws, "idle", at(4), &deleted).await), "a token since the cut-off");
        assert!(!ok(store.delete_unused_client(&at_ws, "new", at(2), &deleted).await), "registered after the cut-off");
        assert!(ok(store.delete_unused_client(&at_ws, "idle", at(5), &deleted).await));
        assert_eq!(ids(ok(store.clients(&at_ws, &only(ClientFilter::Dynamic)).await)), ["new"]);
    }
}

#[tokio::test]
async fn clients_are_searched_paged_and_counted_by_the_database() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 0);
        // c00..c24, one a second (c24 newest); every fifth named "Payments 100%_x".
        for n in 0..25 {
            let mut new = client(&at_ws, &format!("c{n:02}"), true, n);
            if n % 5 == 0 {
                new.summary.name = Some(format!("Payments 100%_x {n}"));
            }
            ok(store.register_client(new, None, None, 0, &created).await);
        }
        ok(store.register_client(client(&at_ws, "other", true, 30), None, None, 0, &created).await);
        let ids = |list: Vec<ClientSummary>| list.into_iter().map(|c| c.client_id).collect::<Vec<_>>();
        let select = |search: &str, offset: u64, limit: Option<u64>| ClientSelection {
            search: search.to_owned(),
            start: PageStart::Offset(offset),
            limit,
            ..ClientSelection::default()
        };

        assert_eq!(ok(store.count_clients(&at_ws, &select("", 0, None)).await), 26);
        assert_eq!(ids(ok(store.clients(&at_ws, &select("", 0, Some(3))).await)), ["other", "c24", "c23"], "newest first");
        assert_eq!(ids(ok(store.clients(&at_ws, &select("", 24, Some(3))).await)), ["c01", "c00"], "the last page");
        assert_eq!(ok(store.count_clients(&at_ws, &select("", 24, Some(3))).await), 26, "a count ignores the page");

        let payments = select(" PAYMENTS ", 0, None);
        assert_eq!(ids(ok(store.clients(&at_ws, &payments).await)), ["c20", "c15", "c10", "c05", "c00"], "by name, any case");
        assert_eq!(ok(store.count_clients(&at_ws, &payments).await), 5);
        assert_eq!(ids(ok(store.clients(&at_ws, &select("C2", 0, None)).await)), ["c24", "c23", "c22", "c21", "c20"], "by id");
        assert_eq!(ok(store.count_clients(&at_ws, &select("100%_", 0, None)).await), 5, "% and _ as typed");
        assert_eq!(ok(store.count_clients(&at_ws, &select("0%x", 0, None)).await), 0, "% is not a wildcard");
        assert_eq!(ok(store.count_clients(&at_ws, &select("0__x", 0, None)).await), 0, "nor is _");
        assert_eq!(ok(store.count_clients(&at_ws, &select("c\0", 0, None)).await), 0, "a name cannot hold U+0000");
        assert!(ok(store.clients(&at_ws, &select("c\0", 0, None)).await).is_empty());
    }
}

/// A walk through a list by cursors sees every client that was there when it began exactly
/// once, in order, though clients share a registration instant, the cursor's own client is
/// deleted and newer ones arrive on the way.
#[tokio::test]
async fn a_walk_by_cursor_neither_repeats_nor_misses_a_client() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 0);
        // Microseconds, which both databases keep; b, c and d share theirs.
        let instant = |n: i64| at(n) + chrono::Duration::microseconds(123_456);
        let register = |id: &str, second: i64| NewClient {
            summary: ClientSummary { created_at: instant(second), ..client(&at_ws, id, true, 0).summary },
            ..client(&at_ws, id, true, 0)
        };
        for (id, second) in [("a", 1), ("b", 2), ("c", 2), ("d", 2), ("e", 3), ("f", 4), ("g", 5)] {
            ok(store.register_client(register(id, second), None, None, 0, &created).await);
        }
        let page = |start: PageStart| ClientSelection { start, limit: Some(2), ..ClientSelection::default() };
        let mut seen = Vec::new();
        let mut start = PageStart::default();
        loop {
            let clients = ok(store.clients(&at_ws, &page(start)).await);
            seen.extend(clients.iter().map(|c| c.client_id.clone()));
            let Some(last) = clients.last() else { break };
            let cursor = ClientCursor::after(last);
            if last.client_id == "b" {
                let deleted = audit(&at_ws, AuditEventType::ClientDeleted, Outcome::Success, 9);
                assert!(ok(store.delete_client(&at_ws, "b", &deleted).await), "the cursor's own client goes");
                ok(store.register_client(register("newer", 9), None, None, 0, &created).await);
            }
            // Through its text, as callers hold it.
            start = PageStart::After(ClientCursor::parse(&cursor.encode()).unwrap_or_else(|e| panic!("{e:?}")));
        }
        assert_eq!(seen, ["g", "f", "e", "b", "c", "d", "a"], "newest first, ties by id");
    }
}

/// The abandoned rule, at its edges: registered by the cut-off, and no token after it.
#[tokio::test]
async fn abandoned_clients_are_those_without_a_token_since_the_cut_off() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 0);
        let day = |n: i64| at(n * 86_400);
        let register = |id: &str, dynamic: bool, registered: i64| NewClient {
            summary: ClientSummary { created_at: day(registered), ..client(&at_ws, id, dynamic, 0).summary },
            ..client(&at_ws, id, dynamic, 0)
        };
        for (id, dynamic, registered) in [("unused", true, 0), ("young", true, 1), ("used", true, 0), ("manual", false, 0)] {
            ok(store.register_client(register(id, dynamic, registered), None, None, 0, &created).await);
        }
        let token = AccessTokenRecord { issued_at: day(50), ..token_record(&at_ws, "t-used", "used") };
        ok(store.insert_access_token(&token, "hash", None, &issued(&token)).await);
        let (store, at_ws) = (&store, &at_ws);
        let abandoned = |now: i64| async move {
            let selection = ClientSelection::abandoned(day(now), 90);
            let mut listed: Vec<_> = ok(store.clients(at_ws, &selection).await).into_iter().map(|c| c.client_id).collect();
            listed.sort();
            listed
        };
        assert!(abandoned(89).await.is_empty(), "registered 89 days ago, never used: not yet");
        assert_eq!(abandoned(90).await, ["unused"]);
        assert_eq!(abandoned(91).await, ["unused", "young"]);
        assert_eq!(abandoned(139).await, ["unused", "young"], "a token 89 days ago");
        assert_eq!(abandoned(140).await, ["unused", "used", "young"], "the bank's own clients are never abandoned");
    }
}

#[tokio::test]
async fn expired_access_tokens_are_purged_and_when_a_client_last_got_one_is_kept() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 0);
        ok(store.register_client(client(&at_ws, "busy", true, 1), None, None, 0, &created).await);
        ok(store.register_client(client(&at_ws, "quiet", true, 1), None, None, 0, &created).await);
        // `busy`: 30 expired tokens, issued at 10..=39; 25 of them expire together, at 150,
        // and one issued last, at 40, that a long lifetime keeps past the purge. `quiet`: one
        // expired token, issued at 20.
        let token = |jti: String, client_id: &str, issued: i64, expires_at: i64| AccessTokenRecord {
            issued_at: at(issued),
            expires_at,
            ..token_record(&at_ws, &jti, client_id)
        };
        let expired: Vec<_> = (10..40)
            .map(|issued| token(format!("b{issued:02}"), "busy", issued, if issued < 15 { 100 + issued } else { 150 }))
            .collect();
        let events: Vec<_> = expired.iter().map(issued).collect();
        let inserts = expired.iter().zip(&events).map(|(record, event)| store.insert_access_token(record, "hash", None, event));
        futures_util::future::join_all(inserts).await.into_iter().for_each(ok);
        let live = token("b-live".to_owned(), "busy", 40, 5000);
        ok(store.insert_access_token(&live, "hash", None, &issued(&live)).await);
        let quiet = token("q".to_owned(), "quiet", 20, 500);
        ok(store.insert_access_token(&quiet, "hash", None, &issued(&quiet)).await);

        assert_eq!(ok(store.purge_expired_access_tokens(110, 10).await), 0, "nothing had expired before 110");
        let batches: Vec<u64> = {
            let mut batches = Vec::new();
            loop {
                match ok(store.purge_expired_access_tokens(1500, 10).await) {
                    0 => break batches,
                    purged => batches.push(purged),
                }
            }
        };
        assert_eq!(batches, [10, 10, 10, 1], "batches of ten, through tokens sharing an expiry, then the last");
        assert!(ok(store.access_token("b39").await).is_none(), "an expired token is gone");
        assert!(ok(store.access_token("b-live").await).is_some(), "a live one stays");

        let last_token = |list: Vec<ClientSummary>| list.into_iter().map(|c| (c.client_id, c.last_token_at)).collect::<Vec<_>>();
        let listed = last_token(ok(store.clients(&at_ws, &only(ClientFilter::All)).await));
        assert!(listed.contains(&("busy".to_owned(), Some(at(40)))), "the live token is the newest: {listed:?}");
        assert!(listed.contains(&("quiet".to_owned(), Some(at(20)))), "kept on the row once its tokens are gone: {listed:?}");
        let (quiet, _) = ok(store.client_with_credentials(&at_ws, "quiet").await).unwrap_or_else(|| panic!("quiet"));
        assert_eq!(quiet.summary.last_token_at, Some(at(20)), "read with its credentials too");

        // Abandonment counts a purged token: `quiet` got one at 20.
        let abandoned_since = |cut_off: i64| ClientSelection { unused_since: Some(at(cut_off)), ..only(ClientFilter::Dynamic) };
        assert!(ok(store.clients(&at_ws, &abandoned_since(19)).await).is_empty(), "a purged token since the cut-off");
        assert_eq!(ok(store.count_clients(&at_ws, &abandoned_since(20)).await), 1);
        let deleted = audit(&at_ws, AuditEventType::ClientDeleted, Outcome::Success, 9);
        assert!(!ok(store.delete_unused_client(&at_ws, "quiet", at(19), &deleted).await), "a purged token since the cut-off");
        assert!(ok(store.delete_unused_client(&at_ws, "quiet", at(20), &deleted).await));
    }
}

/// The cap on dynamically registered clients is kept by the registration's own write: past it,
/// nothing of the registration is stored (client, replay record, audit event); manual clients
/// do not count; a deletion frees a place, even when a lowered cap left the workspace above it.
#[tokio::test]
async fn the_cap_on_dynamic_clients_is_kept_by_the_write() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 0);
        let register = |id: &str, cap: u32| {
            let (store, at_ws, created) = (store.clone(), at_ws.clone(), created.clone());
            let (client, guard) = (client(&at_ws, id, true, 1), guard(&at_ws, &format!("jti-{id}"), 100));
            async move { store.register_client(client, Some(&guard), None, cap, &created).await }
        };
        ok(register("c1", 2).await);
        ok(register("c2", 2).await);
        ok(store.register_client(client(&at_ws, "manual", false, 1), None, None, 2, &created).await);
        assert_eq!(ok(store.dynamic_client_count(&at_ws).await), 2);

        assert!(matches!(register("c3", 2).await, Err(StoreError::CapReached)));
        assert_eq!(ok(store.client(&at_ws, "c3").await), None);
        assert!(!ok(store.replay_guard_exists(&guard(&at_ws, "jti-c3", 100)).await), "the refused request's jti is not spent");
        assert_eq!(ok(store.audit_events(&at_ws, &AuditFilter::default()).await).len(), 3, "nothing audited by the store");
        ok(register("c3", 3).await);
        ok(register("unlimited", 0).await);

        // The cap lowered below what the workspace holds: deletions bring it back under.
        let deleted = audit(&at_ws, AuditEventType::ClientDeleted, Outcome::Success, 9);
        assert!(matches!(register("c5", 2).await, Err(StoreError::CapReached)));
        assert!(ok(store.delete_client(&at_ws, "c1", &deleted).await));
        assert!(ok(store.delete_client(&at_ws, "manual", &deleted).await));
        assert_eq!(ok(store.dynamic_client_count(&at_ws).await), 3, "a manual client's deletion counts nothing");
        assert!(ok(store.delete_client(&at_ws, "c2", &deleted).await));
        assert!(matches!(register("c5", 2).await, Err(StoreError::CapReached)));
        assert!(ok(store.delete_client(&at_ws, "c3", &deleted).await));
        ok(register("c5", 2).await);
        assert_eq!(ok(store.dynamic_client_count(&at_ws).await), 2);
    }
}

/// Registrations racing for the last places are group-committed together, and exactly as many
/// as there are places get one.
#[tokio::test]
async fn registrations_racing_for_the_last_places_never_pass_the_cap() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 0);
        ok(store.register_client(client(&at_ws, "first", true, 1), None, None, 5, &created).await);
        let racing = (0..16).map(|i| {
            let (store, client, created) = (store.clone(), client(&at_ws, &format!("c{i}"), true, 1), created.clone());
            tokio::spawn(async move { store.register_client(client, None, None, 5, &created).await })
        });
        let outcomes = futures_util::future::join_all(racing).await;
        let admitted = outcomes.iter().filter(|o| matches!(o, Ok(Ok(())))).count();
        let refused = outcomes.iter().filter(|o| matches!(o, Ok(Err(StoreError::CapReached)))).count();
        assert_eq!((admitted, refused), (4, 12), "{outcomes:?}");
        assert_eq!(ok(store.clients(&at_ws, &only(ClientFilter::Dynamic)).await).len(), 5);
        assert_eq!(ok(store.dynamic_client_count(&at_ws).await), 5);
    }
}

#[tokio::test]
async fn access_tokens_are_found_by_jti_revoked_once_and_end_with_their_client() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        let created = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 0);
        // A manual client: the store's registration of a dynamic one counts it (migration 10).
        ok(store.register_client(client(&at_ws, "c1", false, 1), None, None, 0, &created).await);
        let token = token_record(&at_ws, "t1", "c1");
        ok(store.insert_access_token(&token, "hash-1", None, &issued(&token)).await);
        assert_eq!(ok(store.access_token("t1").await), Some((token.clone(), hashed("hash-1"))), "found by jti, with its hash");
        let listed = ok(store.clients(&at_ws, &only(ClientFilter::All)).await);
        assert_eq!(listed[0].last_token_at, Some(at(2)), "the list shows when a client last got a token");
        assert_eq!(ok(store.access_token("t2").await), None);
        assert!(ok(store.revoke_access_token("t1", at(3)).await));
        assert!(!ok(store.revoke_access_token("t1", at(4)).await), "revoking twice changes nothing");
        assert!(ok(store.access_token("t1").await).is_some_and(|(t, _)| t.revoked));

        let (details, credentials) = ok(store.client_with_credentials(&at_ws, "c1").await).unwrap_or_else(|| panic!("c1"));
        assert_eq!(credentials.registration_access_token_hash.as_deref(), Some("hash-c1"));
        assert_eq!(Some(details), ok(store.client(&at_ws, "c1").await), "the same client as read alone");
        assert_eq!(ok(store.client_with_credentials(&workspace_ref("other"), "c1").await), None);

        let with_secret = NewClient { client_secret_hash: Some("secret-c2".to_owned()), ..client(&at_ws, "c2", false, 1) };
        ok(store.register_client(with_secret.clone(), None, None, 0, &created).await);
        let updated = audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, 5);
        assert!(ok(store.update_client(&NewClient { client_secret_hash: None, ..with_secret }, None, &updated).await));
        let (_, credentials) = ok(store.client_with_credentials(&at_ws, "c2").await).unwrap_or_else(|| panic!("c2"));
        assert_eq!(credentials.client_secret_hash, None, "an update without a secret forgets it");
        assert_eq!(credentials.registration_access_token_hash.as_deref(), Some("hash-c2"), "and keeps the registration token");

        let mut renewed = client(&at_ws, "c1", true, 1);
        renewed.metadata = json!({"client_id": "c1", "scope": "payments", "software_statement": "d.e.f"});
        renewed.software_statement = Some("d.e.f".to_owned());
        assert!(ok(store.update_client(&renewed, Some(&guard(&at_ws, "j9", 100)), &updated).await));
        assert_eq!(
            ok(store.client(&at_ws, "c1").await).map(|c| (c.metadata, c.software_statement, c.updated_at)),
            Some((renewed.metadata.clone(), Some("d.e.f".to_owned()), at(5)))
        );
        assert!(matches!(
            store.update_client(&renewed, Some(&guard(&at_ws, "j9", 100)), &updated).await,
            Err(StoreError::Replayed)
        ));
        assert!(!ok(store.update_client(&client(&at_ws, "ghost", true, 1), None, &updated).await));

        let second = AccessTokenRecord { jti: "t2".to_owned(), ..token.clone() };
        ok(store.insert_access_token(&second, "hash-2", None, &issued(&second)).await);
        // A token issued for a client assertion whose jti was used before is not kept, nor is
        // its audit event.
        let assertion = guard(&at_ws, "assertion-t3", 100);
        let third = AccessTokenRecord { jti: "t3".to_owned(), ..token.clone() };
        ok(store.insert_access_token(&third, "hash-3", Some(&assertion), &issued(&third)).await);
        let fourth = AccessTokenRecord { jti: "t4".to_owned(), scope: "fourth".to_owned(), ..token.clone() };
        let again = store.insert_access_token(&fourth, "hash-4", Some(&assertion), &issued(&fourth)).await;
        assert!(matches!(again, Err(StoreError::Replayed)), "{again:?}");
        assert_eq!(ok(store.access_token("t4").await), None);
        assert!(ok(store.delete_client(&at_ws, "c1", &updated).await));
        assert_eq!(ok(store.access_token("t2").await), None, "deleting the client ends its tokens");
        let gone = token_record(&at_ws, "t5", "c1");
        let for_the_deleted = store.insert_access_token(&gone, "hash-5", None, &issued(&gone)).await;
        assert!(matches!(for_the_deleted, Err(StoreError::NotFound)), "no token outlives its client: {for_the_deleted:?}");
        assert_eq!(ok(store.access_token("t5").await), None);
        let tokens_issued = AuditFilter { event_type: Some(AuditEventType::TokenIssued), ..AuditFilter::default() };
        let recorded = ok(store.audit_events(&at_ws, &tokens_issued).await);
        let recorded: Vec<_> = recorded.iter().map(|e| (e.event.client_id.as_deref(), e.event.detail.as_deref())).collect();
        assert_eq!(recorded, [(Some("c1"), Some("scope accounts openid")); 3], "one event a token kept, in its commit");
    }
}
