//! `onboard tpp`: a bundle made against the sandbox directory registers at a workspace that
//! trusts it, through discovery and mutual TLS, and gets a token; failures name their step.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::os::unix::fs::PermissionsExt as _;

use serde_json::{Value, json};

use onboard::cli::{TppAlgorithm, TppCommand, TppInitArgs};
use onboard::tpp::toolkit;
use support::{ADMIN_KEY, TestServer};

fn init_args(server: &TestServer, dir: &std::path::Path) -> TppInitArgs {
    TppInitArgs {
        dir: dir.to_owned(),
        software_id: "BudgetPlanner".to_owned(),
        org_id: "0015800001SANDBOX".to_owned(),
        client_name: "Budget Planner".to_owned(),
        roles: vec!["AISP".to_owned()],
        redirect_uri: vec!["https://budget.example/callback".to_owned()],
        alg: TppAlgorithm::Es256,
        sandbox: Some(server.http.clone()),
        tenant: "default".to_owned(),
        admin_api_key: Some(ADMIN_KEY.to_owned()),
    }
}

#[tokio::test]
async fn a_sandbox_bundle_registers_and_gets_a_token() {
    let server = TestServer::start_public().await;
    let bundle = tempfile::tempdir().unwrap();
    let dir = bundle.path().to_owned();
    toolkit::run(TppCommand::Init(init_args(&server, &dir))).await.unwrap();
    for file in ["software.json", "signing-key.pem", "transport-key.pem", "transport.pem", "jwks.json", "ssa.jwt"] {
        assert!(dir.join(file).exists(), "{file}");
    }
    assert_eq!(std::fs::metadata(dir.join("signing-key.pem")).unwrap().permissions().mode() & 0o777, 0o600);
    let jwks: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("jwks.json")).unwrap()).unwrap();
    assert_eq!((jwks["keys"][0]["use"].as_str(), jwks["keys"][1]["use"].as_str()), (Some("sig"), Some("tls")));

    let ca_file = Some(server.dir.path().join("tls/dev-ca.pem"));
    let discovery = format!("{}/default/obuk/.well-known/openid-configuration", server.https);
    let register = || TppCommand::Register { dir: dir.clone(), discovery: discovery.clone(), ca_file: ca_file.clone() };

    // DCR is off: the step and the server's words come back.
    let error = toolkit::run(register()).await.unwrap_err().to_string();
    assert!(error.starts_with("reading the discovery document") || error.starts_with("registering"), "{error}");

    server
        .put_dcr(json!({
            "enabled": true, "require_software_statement": true, "require_signed_request": true,
            "request_signing_keys": "software_statement", "require_mtls": true, "trust_sandbox_directory": true
        }))
        .await;
    toolkit::run(register()).await.unwrap();
    let client: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("client.json")).unwrap()).unwrap();
    assert!(client["client_id"].is_string());

    toolkit::run(TppCommand::Token { dir: dir.clone(), scope: Some("accounts".to_owned()), ca_file: ca_file.clone() })
        .await
        .unwrap();
    let error = toolkit::run(TppCommand::Token { dir, scope: Some("payments".to_owned()), ca_file }).await.unwrap_err();
    assert!(error.to_string().starts_with("getting a token: 400 Bad Request: invalid_scope"), "{error}");
}
