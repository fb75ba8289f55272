//! The abuse controls of a workspace's endpoints: rate limits per client address, per software
//! and per client (429 with `Retry-After`, nothing stored, not audited) and the cap on
//! dynamically registered clients (403, audited).

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use axum::http::StatusCode;
use reqwest::Method;
use serde_json::{Value, json};
use support::{ADMIN_WORKSPACE, Ecosystem, TestServer, assert_registration_error};

/// A 429 in the protocol's error format, with a `Retry-After` in whole seconds.
async fn assert_throttled(response: reqwest::Response, description: &str) {
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    let said = body["error_description"].as_str().unwrap();
    assert!(said.starts_with(description) && said.ends_with(&format!("retry after {retry_after} s")), "{said}");
}

async fn limit(server: &TestServer, admin_workspace: &str, limits: Value) {
    server.patch_workspace_at(admin_workspace, json!({ "limits": limits })).await;
}

async fn client_count(server: &TestServer, admin_workspace: &str) -> usize {
    let (status, body) = server.admin(Method::GET, &format!("{admin_workspace}/clients"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["clients"].as_array().unwrap().len()
}

#[tokio::test]
async fn registrations_are_limited_per_address_and_capped_per_workspace() {
    let server = TestServer::start().await;
    let (status, body) = server
        .admin(Method::POST, "/default/workspaces", Some(json!({"id": "apps", "name": "Apps", "profile": "generic"})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, mut dcr) = server.admin(Method::GET, "/default/workspaces/apps/dcr", None).await;
    dcr["enabled"] = json!(true);
    assert_eq!(server.admin(Method::PUT, "/default/workspaces/apps/dcr", Some(dcr)).await.0, StatusCode::OK);
    limit(&server, "/default/workspaces/apps", json!({"registrations_per_ip_per_minute": 3, "max_dynamic_clients": 2})).await;

    let register = format!("{}/default/apps/oauth2/register", server.https);
    let client = server.client(None);
    let metadata = json!({"client_name": "Budget app", "grant_types": ["client_credentials"]});
    for _ in 0..2 {
        assert_eq!(client.post(&register).json(&metadata).send().await.unwrap().status().as_u16(), 201);
    }
    let full = client.post(&register).json(&metadata).send().await.unwrap();
    let (status, body) = support::decode(full).await;
    assert_registration_error(status, &body, StatusCode::FORBIDDEN, "access_denied");
    assert_eq!(body["error_description"], "this workspace holds its limit of 2 dynamically registered clients");

    assert_throttled(
        client.post(&register).json(&metadata).send().await.unwrap(),
        "too many registration requests from this address",
    )
    .await;
    assert_eq!(client_count(&server, "/default/workspaces/apps").await, 2, "nothing stored past the cap or the rate");
    let (_, audit) = server.admin(Method::GET, "/default/workspaces/apps/audit-events?type=dcr_rejected", None).await;
    let refusals: Vec<&str> =
        audit["audit_events"].as_array().unwrap().iter().map(|e| e["error"].as_str().unwrap_or_default()).collect();
    assert_eq!(refusals, ["access_denied"], "the cap is audited; a throttled request is not written anywhere");

    // Another workspace keeps its own allowance; 0 switches a limit off.
    limit(&server, "/default/workspaces/apps", json!({"registrations_per_ip_per_minute": 0, "max_dynamic_clients": 3})).await;
    assert_eq!(client.post(&register).json(&metadata).send().await.unwrap().status().as_u16(), 201);
}

#[tokio::test]
async fn a_software_id_is_limited_once_its_statement_is_verified() {
    let server = TestServer::start().await;
    let tpp = Ecosystem::new(onboard::oauth2::jose::JwsAlgorithm::Ps256).await;
    tpp.configure(&server).await;
    limit(&server, ADMIN_WORKSPACE, json!({"registrations_per_software_per_minute": 1})).await;
    tpp.register(&server, |_| {}).await;

    // A request whose statement does not verify spends nothing: it is refused for what it is.
    let mtls = server.client(Some(&tpp.transport));
    let forged = tpp.request_with(|claims| claims["software_statement"] = json!("eyJhbGciOiJQUzI1NiJ9.e30.c2ln"));
    let (status, body) = server.register(&mtls, "application/jose", forged).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let again =
        mtls.post(server.register_url()).header("content-type", "application/jose").body(tpp.request()).send().await.unwrap();
    assert_throttled(again, "too many registrations of this software").await;
    assert_eq!(client_count(&server, ADMIN_WORKSPACE).await, 1);
}

#[tokio::test]
async fn token_requests_are_limited_per_client_and_per_address() {
    let server = TestServer::start().await;
    let tpp = Ecosystem::new(onboard::oauth2::jose::JwsAlgorithm::Ps256).await;
    tpp.configure(&server).await;
    let client_id = tpp.register(&server, |_| {}).await["client_id"].as_str().unwrap().to_owned();
    let mtls = server.client(Some(&tpp.transport));
    let form = [("client_id", client_id.as_str()), ("grant_type", "client_credentials")];

    limit(&server, ADMIN_WORKSPACE, json!({"token_requests_per_client_per_minute": 2})).await;
    for _ in 0..2 {
        assert_eq!(server.token(&mtls, &form, None).await.0, StatusCode::OK);
    }
    let over = mtls.post(server.token_url()).form(&form).send().await.unwrap();
    assert_throttled(over, "too many token requests from this client").await;
    // Another client's name does not spend this one's allowance: it is counted after
    // authentication, and an unknown client fails that first.
    let stranger = [("client_id", "someone-else"), ("grant_type", "client_credentials")];
    assert_eq!(server.token(&mtls, &stranger, None).await.0, StatusCode::UNAUTHORIZED);

    limit(&server, ADMIN_WORKSPACE, json!({"token_requests_per_ip_per_minute": 1, "token_requests_per_client_per_minute": 0}))
        .await;
    assert_eq!(server.token(&mtls, &form, None).await.0, StatusCode::OK);
    // Over the address's rate, even a request that would fail anyway is refused before any work.
    let over = mtls.post(server.token_url()).form(&stranger).send().await.unwrap();
    assert_throttled(over, "too many token requests from this address").await;
}

#[tokio::test]
async fn limits_are_checked_when_saved() {
    let server = TestServer::start().await;
    let (status, body) = server.admin(Method::PATCH, ADMIN_WORKSPACE, Some(json!({"limits": {"abandoned_after_days": 0}}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error_description"].as_str().unwrap().contains("limits.abandoned_after_days"), "{body}");
    let (status, body) = server.admin(Method::PATCH, ADMIN_WORKSPACE, Some(json!({"limits": {"per_hour": 5}}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, workspace) = server.admin(Method::GET, ADMIN_WORKSPACE, None).await;
    assert_eq!(workspace["settings"]["limits"]["registrations_per_ip_per_minute"], 60, "defaults, unchanged: {workspace}");
}
