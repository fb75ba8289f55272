//! The audit log and the administrators' activity.

use super::*;

#[tokio::test]
async fn audit_events_are_newest_first_and_filterable() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        for second in 0..5 {
            let outcome = if second % 2 == 0 { Outcome::Failure } else { Outcome::Success };
            let kind = if outcome == Outcome::Failure { AuditEventType::DcrRejected } else { AuditEventType::DcrCreated };
            ok(store.record_audit_event(&audit(&at_ws, kind, outcome, second)).await);
        }
        let all = ok(store.audit_events(&at_ws, &AuditFilter::default()).await);
        let seconds: Vec<_> = all.iter().map(|e| e.event.created_at).collect();
        assert_eq!(seconds, (0..5).rev().map(at).collect::<Vec<_>>());
        assert_eq!(all[0].event, audit(&at_ws, AuditEventType::DcrRejected, Outcome::Failure, 4));

        let rejected = ok(store
            .audit_events(&at_ws, &AuditFilter { event_type: Some(AuditEventType::DcrRejected), ..AuditFilter::default() })
            .await);
        assert_eq!(rejected.len(), 3);
        let successes =
            ok(store.audit_events(&at_ws, &AuditFilter { outcome: Some(Outcome::Success), ..AuditFilter::default() }).await);
        assert_eq!(successes.len(), 2);
        let page =
            ok(store.audit_events(&at_ws, &AuditFilter { before_id: Some(all[1].id), limit: 2, ..AuditFilter::default() }).await);
        assert_eq!(page.iter().map(|e| e.id).collect::<Vec<_>>(), vec![all[2].id, all[3].id]);
        assert!(ok(store.audit_events(&workspace_ref("elsewhere"), &AuditFilter::default()).await).is_empty());
    }
}

#[tokio::test]
async fn administrator_events_are_newest_first_and_filterable() {
    use crate::domain::activity::{
        Actor, AdministratorEventFilter as Filter, AdministratorEventType as Kind, NewAdministratorEvent,
    };
    for (store, _dir) in stores().await {
        let kinds = [Kind::AdministratorCreated, Kind::SignInRefused, Kind::SignedIn, Kind::SignInRefused, Kind::SignedOut];
        let events: Vec<_> = kinds
            .into_iter()
            .zip(0..)
            .map(|(kind, second)| {
                NewAdministratorEvent::new(kind, Some("admin@bank.example"), at(second))
                    .from_address(Some(std::net::IpAddr::from([192, 0, 2, 7])))
            })
            .collect();
        for event in &events {
            ok(store.record_administrator_event(event).await);
        }
        let all = ok(store.administrator_events(&Filter::default()).await);
        assert_eq!(all.iter().map(|e| e.event.clone()).collect::<Vec<_>>(), events.iter().rev().cloned().collect::<Vec<_>>());

        let refused =
            ok(store.administrator_events(&Filter { event_type: Some(Kind::SignInRefused), ..Filter::default() }).await);
        assert_eq!(refused.iter().map(|e| e.event.created_at).collect::<Vec<_>>(), [at(3), at(1)]);
        let failures = ok(store.administrator_events(&Filter { outcome: Some(Outcome::Failure), ..Filter::default() }).await);
        assert_eq!(failures, refused);
        let page = ok(store.administrator_events(&Filter { before_id: Some(all[1].id), limit: 2, ..Filter::default() }).await);
        assert_eq!(page.iter().map(|e| e.id).collect::<Vec<_>>(), [all[2].id, all[3].id]);

        let by_api = Actor::Named("admin API key").did(Kind::SandboxSoftwareDeleted, "tenant default, software sw1", at(9));
        ok(store.record_administrator_event(&by_api).await);
        let newest = ok(store.administrator_events(&Filter { limit: 1, ..Filter::default() }).await);
        assert_eq!(newest.iter().map(|e| &e.event).collect::<Vec<_>>(), [&by_api]);
    }
}

#[tokio::test]
async fn old_audit_events_and_activity_are_purged_oldest_first_in_batches() {
    use crate::domain::activity::{AdministratorEventFilter, AdministratorEventType, NewAdministratorEvent};
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        for second in 0..5 {
            ok(store.record_audit_event(&audit(&at_ws, AuditEventType::DcrCreated, Outcome::Success, second * 10)).await);
            let event = NewAdministratorEvent::new(AdministratorEventType::SignedIn, Some("admin@bank.example"), at(second * 10));
            ok(store.record_administrator_event(&event).await);
        }
        // Before 35 s: the events at 0, 10, 20 and 30 s, two a batch.
        assert_eq!(ok(store.purge_audit_events(at(35), 2).await), 2);
        assert_eq!(ok(store.purge_audit_events(at(35), 2).await), 2);
        assert_eq!(ok(store.purge_audit_events(at(35), 2).await), 0, "the one left is at 40 s");
        let left = ok(store.audit_events(&at_ws, &AuditFilter::default()).await);
        assert_eq!(left.iter().map(|e| e.event.created_at).collect::<Vec<_>>(), [at(40)]);

        assert_eq!(ok(store.purge_administrator_events(at(20), 10).await), 2, "0 and 10 s; 20 s is not before 20 s");
        let left = ok(store.administrator_events(&AdministratorEventFilter::default()).await);
        assert_eq!(left.iter().map(|e| e.event.created_at).collect::<Vec<_>>(), [at(40), at(30), at(20)]);
    }
}

/// Reads' audit events reach the writer faster than it commits, and a batch inserts them many
/// rows to a statement (8, 4, 2 and 1 rows): every event is stored once, as it was queued, also
/// when a write beside them fails and the batch runs again one write at a time.
#[tokio::test]
async fn queued_audit_events_are_stored_many_to_a_statement() {
    for (store, _dir) in stores().await {
        let ws = workspace("obuk", Profile::OpenbankingUk);
        ok(store.insert_workspace(&ws).await);
        let at_ws = ws.reference();
        ok(store.insert_replay_guard(&guard(&at_ws, "used", 100)).await);
        // Every other one an administrator's change, so both kinds go through the batches.
        let event = |n: i64| NewAuditEvent {
            remote_addr: Some(format!("192.0.2.{n}")),
            actor: (n % 2 == 0).then(|| "admin@bank.example".to_owned()),
            detail: (n % 2 == 0).then(|| format!("change {n}")),
            ..audit(&at_ws, AuditEventType::DcrRead, Outcome::Success, n)
        };
        let replayed = {
            let (store, guard) = (store.clone(), guard(&at_ws, "used", 100));
            tokio::spawn(async move { store.insert_replay_guard(&guard).await })
        };
        for n in 0..150 {
            store.queue_audit_event(event(n)).await;
        }
        assert!(matches!(replayed.await, Ok(Err(StoreError::Replayed))));
        // Committed after (or with) every event queued before it.
        ok(store.record_audit_event(&event(150)).await);
        // As a flush (at shutdown) is.
        for n in 151..=160 {
            store.queue_audit_event(event(n)).await;
        }
        ok(store.flush().await);

        let filter = AuditFilter { limit: AuditFilter::MAX_LIMIT, ..AuditFilter::default() };
        let mut stored: Vec<NewAuditEvent> = ok(store.audit_events(&at_ws, &filter).await).into_iter().map(|e| e.event).collect();
        stored.sort_by_key(|e| e.created_at);
        assert_eq!(stored, (0..=160).map(event).collect::<Vec<_>>());
    }
}
