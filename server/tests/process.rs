//! The `onboard` binary as a process: what its logs hold, how `SIGTERM` ends it, and what a
//! `kill -9` in the middle of registrations leaves behind.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use support::{ADMIN_KEY, ADMIN_PASSWORD, Backend, ConsoleSession, TestServer};

#[tokio::test]
async fn a_full_session_logs_no_secret_and_sigterm_ends_it_cleanly() {
    let server = TestServer::spawn_with(|_| {}).await;
    server.generic_workspace_with_dcr("apps").await;

    let console = ConsoleSession::sign_in(&server).await;
    let session_id = console.cookie.strip_prefix("onboard_session=").unwrap();

    let tls = server.client(None);
    let base = format!("{}/default/apps", server.https);
    let registered: Value = tls
        .post(format!("{base}/oauth2/register"))
        .json(&json!({"client_name": "Budget app", "grant_types": ["client_credentials"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_id = registered["client_id"].as_str().unwrap();
    let client_secret = registered["client_secret"].as_str().unwrap();
    let registration_token = registered["registration_access_token"].as_str().unwrap();
    let token: Value = tls
        .post(format!("{base}/oauth2/token"))
        .basic_auth(client_id, Some(client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access_token = token["access_token"].as_str().unwrap();
    let read = tls.get(format!("{base}/oauth2/register/{client_id}")).bearer_auth(registration_token).send().await.unwrap();
    assert!(read.status().is_success());
    let wrong_secret = "not-the-secret-but-still-secret-0123";
    let refused = tls
        .post(format!("{base}/oauth2/token"))
        .basic_auth(client_id, Some(wrong_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    let revoked = tls
        .post(format!("{base}/oauth2/revoke"))
        .basic_auth(client_id, Some(client_secret))
        .form(&[("token", access_token)])
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success(), "{}", revoked.status());

    let Backend::Process(process) = server.backend else { unreachable!() };
    let log = process.terminate().await;
    assert!(log.lines().count() > 20, "debug logging was on:\n{log}");
    assert!(log.lines().all(|line| serde_json::from_str::<Value>(line).is_ok()), "every line is JSON");
    assert!(log.contains(client_id), "the log does name the client, so the search below looks at real lines");
    let kek = std::fs::read_to_string(server.dir.path().join("key-encryption-key")).unwrap();
    for (what, secret) in [
        ("key encryption key", kek.trim()),
        ("admin API key", ADMIN_KEY),
        ("administrator password", ADMIN_PASSWORD),
        ("session id", session_id),
        ("client secret", client_secret),
        ("registration access token", registration_token),
        ("access token", access_token),
        ("a wrong secret presented", wrong_secret),
    ] {
        assert!(!log.contains(secret), "the {what} is in the log");
    }
    // An access token's signature alone is unique to it; its claims are logged by jti only.
    let signature = access_token.rsplit('.').next().unwrap();
    assert!(!log.contains(signature), "part of the access token is in the log");
}

/// Every registration that got its 201 survives a `kill -9` in the middle of a registration
/// load (SQLite, synchronous=FULL), whole: its client, its registration access token and its
/// audit event, committed together; and nothing is half-written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_registrations_loses_no_acknowledged_client() {
    kill_9_during_registrations(None).await;
}

/// The same on PostgreSQL (run where `make test` provides it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_registrations_on_postgresql_loses_no_acknowledged_client() {
    let Some(url) = support::fresh_postgres_database("kill_9").await else { return };
    kill_9_during_registrations(Some(&url)).await;
}

async fn kill_9_during_registrations(database_url: Option<&str>) {
    let configure = |args: &mut onboard::cli::ServeArgs| args.database.database_url = database_url.map(str::to_owned);
    let first = TestServer::spawn_in(tempfile::tempdir().unwrap(), "first.log", configure).await;
    let register = first.generic_workspace_with_dcr("apps").await;
    first.patch_workspace_at("/default/workspaces/apps", json!({ "limits": app::domain::limits::Limits::off() })).await;
    let ca = first.dev_ca_pem.clone();

    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    let senders: Vec<_> = (0..8)
        .map(|_| {
            let (tls, register, acknowledged) = (support::tls_client(&ca, None), register.clone(), acknowledged.clone());
            tokio::spawn(async move {
                let metadata = json!({"client_name": "Load", "grant_types": ["client_credentials"]});
                // Until the server dies: a refused connection or a cut response ends the loop.
                while let Ok(response) = tls.post(&register).json(&metadata).send().await {
                    if response.status().as_u16() != 201 {
                        continue;
                    }
                    let Ok(body) = response.json::<Value>().await else { break };
                    let id = body["client_id"].as_str().unwrap().to_owned();
                    let token = body["registration_access_token"].as_str().unwrap().to_owned();
                    acknowledged.lock().unwrap().push((id, token));
                }
            })
        })
        .collect();
    while acknowledged.lock().unwrap().len() < 150 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let TestServer { backend: Backend::Process(mut process), dir, .. } = first else { unreachable!() };
    process.kill(); // SIGKILL, with registrations in flight
    for sender in senders {
        sender.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let restarted = TestServer::spawn_in(dir, "second.log", configure).await;
    let (status, clients) = restarted.admin(Method::GET, "/default/workspaces/apps/clients?limit=1000", None).await;
    assert!(status.is_success(), "{clients}");
    assert!(clients["total"].as_u64().is_some_and(|total| total < 1000), "one page holds them all: {}", clients["total"]);
    let stored: std::collections::HashSet<&str> =
        clients["clients"].as_array().unwrap().iter().map(|c| c["client_id"].as_str().unwrap()).collect();
    assert!(stored.len() < 500, "{} clients: more than one page of audit events", stored.len());
    for (id, _) in &acknowledged {
        assert!(stored.contains(id.as_str()), "client {id} got a 201 and is gone");
    }
    let tls = support::tls_client(&ca, None);
    let register = format!("{}/default/apps/oauth2/register", restarted.https);
    for (id, token) in &acknowledged {
        let read = tls.get(format!("{register}/{id}")).bearer_auth(token).send().await.unwrap();
        assert_eq!(read.status().as_u16(), 200, "client {id}'s registration access token");
    }
    let (status, audit) =
        restarted.admin(Method::GET, "/default/workspaces/apps/audit-events?type=dcr_created&limit=500", None).await;
    assert!(status.is_success(), "{audit}");
    let audited: std::collections::HashSet<&str> =
        audit["audit_events"].as_array().unwrap().iter().filter_map(|e| e["client_id"].as_str()).collect();
    assert_eq!(audited, stored, "each stored client has its audit event, and no event lacks its client");
    let Backend::Process(process) = restarted.backend else { unreachable!() };
    process.terminate().await;
}
