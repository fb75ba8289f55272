//! What operators read: `/metrics` in the Prometheus text format, counting registrations and
//! token requests by workspace and outcome, latency by route, and JWKS lookups.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use serde_json::json;
use support::TestServer;

#[tokio::test]
async fn metrics_count_registrations_tokens_and_latency_by_route() {
    let server = TestServer::start().await;
    let register = server.generic_workspace_with_dcr("apps").await;

    let client = server.client(None);
    let metadata = json!({"client_name": "Budget app", "grant_types": ["client_credentials"]});
    let registered: serde_json::Value = client.post(&register).json(&metadata).send().await.unwrap().json().await.unwrap();
    let refused = client.post(&register).json(&json!({"redirect_uris": ["http://app.example/cb"]})).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 400);
    let token_url = format!("{}/default/apps/oauth2/token", server.https);
    let client_id = registered["client_id"].as_str().unwrap();
    let issued = client
        .post(&token_url)
        .basic_auth(client_id, registered["client_secret"].as_str())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(issued.status().as_u16(), 200);
    let wrong = client.post(&token_url).basic_auth(client_id, Some("wrong")).form(&[("grant_type", "client_credentials")]);
    assert_eq!(wrong.send().await.unwrap().status().as_u16(), 401);

    let over_tls = client.get(format!("{}/metrics", server.https)).send().await.unwrap();
    assert_eq!(over_tls.status().as_u16(), 401, "over TLS, loopback may be a proxy on this host passing every caller");
    let response = client.get(format!("{}/metrics", server.http)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "a loopback scraper of the plain listener needs no token");
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    for line in [
        r#"onboard_registrations_total{error="",outcome="accepted",workspace="default/apps"} 1"#,
        r#"onboard_registrations_total{error="invalid_redirect_uri",outcome="rejected",workspace="default/apps"} 1"#,
        r#"onboard_token_requests_total{error="",method="client_secret_basic",outcome="issued",workspace="default/apps"} 1"#,
        r#"onboard_token_requests_total{error="invalid_client",method="client_secret_basic",outcome="refused",workspace="default/apps"} 1"#,
        r#"onboard_http_request_duration_seconds_count{method="POST",route="/{tenant}/{workspace}/oauth2/token",status="2xx"} 1"#,
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    assert!(!text.contains(client_id), "labels are routes and codes, never client ids");
}
