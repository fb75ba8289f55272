//! Scale-out: two `onboard` processes on one PostgreSQL database, as behind a load balancer with
//! no sticky routing. Each has its own data directory, caches, rate limiters and TLS certificate;
//! all they share is the database and the key encryption key. Runs where `make test` provides
//! PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;

use axum::http::StatusCode;
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use support::{ConsoleSession, Ecosystem, TestServer, WORKSPACE, tls_client};

use app::domain::limits::Limits;
use onboard::cli::ServeArgs;
use onboard::oauth2::jose::JwsAlgorithm;

/// A key encryption key file, as a deployment gives every server.
fn shared_kek() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kek");
    onboard::sealing::KeyEncryptionKey::load_or_generate(&path, true).unwrap();
    (dir, path)
}

/// Two server processes on one fresh database with one key encryption key, started at the same time
/// (both race to set it up), with the default workspace trusting `tpp`'s ecosystem. `None`
/// without PostgreSQL.
async fn pair(tpp: &Ecosystem) -> Option<(TestServer, TestServer)> {
    let url = support::fresh_postgres_database("scale_out").await?;
    let (_kek_dir, kek) = shared_kek();
    let configure = |args: &mut ServeArgs| {
        args.database.database_url = Some(url.clone());
        args.key_encryption_key_file = Some(kek.clone());
    };
    let (a, b) = tokio::join!(TestServer::spawn_with(configure), TestServer::spawn_with(configure));
    tpp.configure(&a).await;
    // Generous limits: the concurrency test comes from one address.
    a.patch_workspace(json!({ "limits": Limits::off() })).await;
    // B reads workspace settings through its own cache, which holds them for up to a second.
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    Some((a, b))
}

/// An HTTPS client trusting both servers' development CAs, presenting the TPP's certificate.
fn tpp_client(a: &TestServer, b: &TestServer, tpp: &Ecosystem) -> reqwest::Client {
    tls_client(&format!("{}{}", a.dev_ca_pem, b.dev_ca_pem), Some(&tpp.transport))
}

async fn register(server: &TestServer, client: &reqwest::Client, request: String) -> (StatusCode, Value) {
    server.register(client, "application/jose", request).await
}

#[tokio::test]
async fn registrations_replays_tokens_and_sessions_work_across_two_servers() {
    let tpp = Ecosystem::new(JwsAlgorithm::Ps256).await;
    let Some((a, b)) = pair(&tpp).await else { return };
    let client = tpp_client(&a, &b, &tpp);

    // Registrations on both; each server manages the other's client.
    let (status, on_a) = register(&a, &client, tpp.request()).await;
    assert_eq!(status, StatusCode::CREATED, "{on_a}");
    let (status, on_b) = register(&b, &client, tpp.request()).await;
    assert_eq!(status, StatusCode::CREATED, "{on_b}");
    assert_ne!(on_a["client_id"], on_b["client_id"]);
    let read = |server: &TestServer, registered: &Value| {
        let request =
            client.get(registered["registration_client_uri"].as_str().unwrap().replace("https://localhost:8443", &server.https));
        request.bearer_auth(registered["registration_access_token"].as_str().unwrap()).send()
    };
    assert_eq!(read(&b, &on_a).await.unwrap().status(), StatusCode::OK, "B manages A's client");
    assert_eq!(read(&a, &on_b).await.unwrap().status(), StatusCode::OK, "A manages B's client");

    // One signed request, replayed on the other server.
    let request = tpp.request();
    assert_eq!(register(&a, &client, request.clone()).await.0, StatusCode::CREATED);
    let (status, replayed) = register(&b, &client, request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{replayed}");
    assert!(replayed["error_description"].as_str().unwrap().contains("jti"), "{replayed}");

    // A token issued by A is active at B, revoked at B, and then inactive at A.
    let client_id = on_a["client_id"].as_str().unwrap();
    let (status, issued, _) = a.token(&client, &[("client_id", client_id), ("grant_type", "client_credentials")], None).await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let token = issued["access_token"].as_str().unwrap();
    let call = |server: &TestServer, endpoint: &str| {
        client
            .post(format!("{}{WORKSPACE}/oauth2/{endpoint}", server.https))
            .form(&[("client_id", client_id), ("token", token)])
            .send()
    };
    let active =
        |response: reqwest::Response| async move { response.json::<Value>().await.unwrap()["active"].as_bool().unwrap() };
    assert!(active(call(&b, "introspect").await.unwrap()).await, "B accepts A's token");
    assert_eq!(call(&b, "revoke").await.unwrap().status(), StatusCode::OK);
    assert!(!active(call(&a, "introspect").await.unwrap()).await, "A sees B's revocation at once");

    // A console session made on A works on B, and signing out on B ends it on A.
    let on_first = ConsoleSession::sign_in(&a).await;
    let on_second = ConsoleSession { base: b.http.clone(), client: on_first.client.clone(), cookie: on_first.cookie.clone() };
    assert_eq!(on_second.call("list_workspaces", &[("tenant", "default")]).await.0, StatusCode::OK);
    assert_eq!(on_second.call("sign_out", &[]).await.0, StatusCode::OK);
    assert_eq!(on_first.call("list_workspaces", &[("tenant", "default")]).await.0, StatusCode::UNAUTHORIZED);
}

/// 200 registrations at once, alternating between the servers: 200 distinct clients, each
/// stored once, and not one 5xx.
#[tokio::test]
async fn two_hundred_concurrent_registrations_make_two_hundred_clients() {
    const REGISTRATIONS: usize = 200;
    let tpp = Ecosystem::new(JwsAlgorithm::Es256).await;
    let Some((a, b)) = pair(&tpp).await else { return };
    let client = tpp_client(&a, &b, &tpp);
    let requests: Vec<String> = (0..REGISTRATIONS).map(|_| tpp.request()).collect();
    let outcomes = join_all(requests.into_iter().enumerate().map(|(i, request)| {
        let server = if i % 2 == 0 { &a } else { &b };
        register(server, &client, request)
    }))
    .await;

    let failures: Vec<_> = outcomes.iter().filter(|(status, _)| *status != StatusCode::CREATED).collect();
    assert!(failures.is_empty(), "{} of {REGISTRATIONS} failed, first: {:?}", failures.len(), failures.first());
    let ids: BTreeSet<&str> = outcomes.iter().map(|(_, body)| body["client_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), REGISTRATIONS, "distinct client ids");

    let (status, listed) = b.admin(Method::GET, &format!("{}/clients?limit=1000", support::ADMIN_WORKSPACE), None).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let stored: BTreeSet<&str> = listed["clients"].as_array().unwrap().iter().filter_map(|c| c["client_id"].as_str()).collect();
    assert!(ids.is_subset(&stored), "every acknowledged client is stored");
}

/// A server given another key encryption key than the database's keys are sealed with refuses
/// to start, naming both, instead of failing on its first token.
#[tokio::test]
async fn a_server_with_another_key_encryption_key_refuses_to_start() {
    let Some(url) = support::fresh_postgres_database("scale_out").await else { return };
    let (_first_dir, first) = shared_kek();
    let (_second_dir, second) = shared_kek();
    let dir = tempfile::tempdir().unwrap();
    let mut args = support::serve_args(dir.path().to_owned());
    args.database.database_url = Some(url);
    args.key_encryption_key_file = Some(first);
    onboard::startup::prepare(&args, std::sync::Arc::new(app::clock::SystemClock)).await.unwrap();
    args.key_encryption_key_file = Some(second);
    let refused = onboard::startup::prepare(&args, std::sync::Arc::new(app::clock::SystemClock)).await.err().unwrap();
    assert!(format!("{refused:#}").contains("sealed with key encryption key"), "{refused:#}");
}
