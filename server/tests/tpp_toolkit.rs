//! `onboard tpp`: a bundle made against the sandbox directory registers at a workspace that
//! trusts it, through discovery and mutual TLS, gets a token, reads, updates and deletes its
//! registration; a statement signed with a given key works where that key is trusted; failures
//! name their step.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::os::unix::fs::PermissionsExt as _;

use serde_json::{Value, json};

use onboard::cli::{TppAlgorithm, TppCommand, TppInitArgs, TppRequestArgs, TppSsaArgs, TppTlsArgs};
use onboard::tpp::toolkit;
use support::{ADMIN_KEY, TestServer};

fn init_args(server: &TestServer, dir: &std::path::Path) -> TppInitArgs {
    TppInitArgs {
        dir: dir.to_owned(),
        software_id: "BudgetPlanner".to_owned(),
        org_id: "0015800001SANDBOX".to_owned(),
        org_name: "Budget Planner Ltd".to_owned(),
        client_name: "Budget Planner".to_owned(),
        roles: vec!["AISP".to_owned()],
        redirect_uri: vec!["https://budget.example/callback".to_owned()],
        alg: TppAlgorithm::Es256,
        // Over HTTPS, trusting the development CA besides the system's roots.
        sandbox: Some(server.https.clone()),
        tenant: "default".to_owned(),
        admin_api_key: Some(ADMIN_KEY.to_owned()),
        tls: TppTlsArgs { ca_file: Some(server.dir.path().join("tls/dev-ca.pem")) },
    }
}

const SANDBOX_DCR: fn() -> Value = || {
    json!({
        "enabled": true, "require_software_statement": true, "require_signed_request": true,
        "request_signing_keys": "software_statement", "require_mtls": true, "trust_sandbox_directory": true
    })
};

struct Toolkit {
    dir: std::path::PathBuf,
    discovery: String,
    tls: TppTlsArgs,
}

impl Toolkit {
    fn new(server: &TestServer, dir: &std::path::Path) -> Self {
        Self {
            dir: dir.to_owned(),
            discovery: format!("{}/default/obuk/.well-known/openid-configuration", server.https),
            tls: TppTlsArgs { ca_file: Some(server.dir.path().join("tls/dev-ca.pem")) },
        }
    }

    async fn register(&self, request: TppRequestArgs) -> anyhow::Result<()> {
        let command =
            TppCommand::Register { dir: self.dir.clone(), discovery: self.discovery.clone(), tls: self.tls.clone(), request };
        toolkit::run(command).await
    }

    async fn token(&self, scope: Option<&str>) -> anyhow::Result<()> {
        toolkit::run(TppCommand::Token { dir: self.dir.clone(), scope: scope.map(str::to_owned), tls: self.tls.clone() }).await
    }

    fn client(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.dir.join("client.json")).unwrap()).unwrap()
    }
}

#[tokio::test]
async fn a_sandbox_bundle_goes_through_the_whole_lifecycle() {
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
    let ssa = onboard::oauth2::jose::CompactJws::parse(std::fs::read_to_string(dir.join("ssa.jwt")).unwrap().trim()).unwrap();
    let names = |claim: &str| ssa.unverified_claims()[claim].as_str().map(str::to_owned);
    assert_eq!(
        (names("org_name"), names("software_client_name")),
        (Some("Budget Planner Ltd".to_owned()), Some("Budget Planner".to_owned()))
    );
    let tpp = Toolkit::new(&server, &dir);

    // DCR is off: the step and the server's words come back.
    let error = tpp.register(TppRequestArgs::default()).await.unwrap_err().to_string();
    assert!(error.starts_with("reading the discovery document") || error.starts_with("registering"), "{error}");

    server.put_dcr(SANDBOX_DCR()).await;
    // A claim the TPP overrides is what the server judges.
    let overrides = dir.join("overrides.json");
    std::fs::write(&overrides, r#"{"aud": "another bank"}"#).unwrap();
    let error = tpp.register(TppRequestArgs { claims: Some(overrides), ..Default::default() }).await.unwrap_err();
    assert!(error.to_string().starts_with("registering: 400 Bad Request: invalid_client_metadata"), "{error}");

    // A fresh statement from the directory, then registration, a token, and a scope too far.
    let ssa_before = std::fs::read_to_string(dir.join("ssa.jwt")).unwrap();
    toolkit::run(TppCommand::Ssa(TppSsaArgs {
        dir: dir.clone(),
        sandbox: Some(server.http.clone()),
        tenant: "default".to_owned(),
        admin_api_key: Some(ADMIN_KEY.to_owned()),
        tls: TppTlsArgs::default(),
        key: None,
        alg: TppAlgorithm::Ps256,
        kid: "directory".to_owned(),
        issuer: None,
        jwks_endpoint: None,
        claims: None,
    }))
    .await
    .unwrap();
    assert_ne!(std::fs::read_to_string(dir.join("ssa.jwt")).unwrap(), ssa_before);
    tpp.register(TppRequestArgs::default()).await.unwrap();
    let client = tpp.client();
    assert!(client["client_id"].is_string() && client["registration_access_token"].is_string(), "{client}");
    assert_eq!(std::fs::metadata(dir.join("client.json")).unwrap().permissions().mode() & 0o777, 0o600);
    tpp.token(Some("accounts")).await.unwrap();
    let error = tpp.token(Some("payments")).await.unwrap_err();
    assert!(error.to_string().starts_with("getting a token: 400 Bad Request: invalid_scope"), "{error}");

    // Read, update to private_key_jwt (the token then needs a client assertion), delete.
    let get = || TppCommand::Get { dir: dir.clone(), tls: tpp.tls.clone() };
    toolkit::run(get()).await.unwrap();
    let update = TppRequestArgs { private_key_jwt: true, ..Default::default() };
    toolkit::run(TppCommand::Update { dir: dir.clone(), tls: tpp.tls.clone(), request: update }).await.unwrap();
    assert_eq!(tpp.client()["token_endpoint_auth_method"], "private_key_jwt");
    tpp.token(None).await.unwrap();
    let client_id = tpp.client()["client_id"].as_str().unwrap().to_owned();
    toolkit::run(TppCommand::Delete { dir: dir.clone(), tls: tpp.tls.clone() }).await.unwrap();
    assert!(!dir.join("client.json").exists());
    let (status, _) = server.admin(reqwest::Method::GET, &format!("/workspaces/obuk/clients/{client_id}"), None).await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_statement_signed_with_a_given_key_registers_where_that_key_is_trusted() {
    let server = TestServer::start_public().await;
    let bundle = tempfile::tempdir().unwrap();
    let dir = bundle.path().to_owned();
    let mut args = init_args(&server, &dir);
    args.sandbox = None;
    toolkit::run(TppCommand::Init(args)).await.unwrap();
    assert!(!dir.join("ssa.jwt").exists());

    let directory = onboard::tpp::keys::SigningKey::generate(onboard::oauth2::jose::JwsAlgorithm::Es256, "bank-dir").unwrap();
    let key_file = dir.join("directory-key.pem");
    std::fs::write(&key_file, directory.private_pem()).unwrap();
    toolkit::run(TppCommand::Ssa(TppSsaArgs {
        dir: dir.clone(),
        sandbox: None,
        tenant: "default".to_owned(),
        admin_api_key: None,
        tls: TppTlsArgs::default(),
        key: Some(key_file),
        alg: TppAlgorithm::Es256,
        kid: "bank-dir".to_owned(),
        issuer: Some("Bank Test Directory".to_owned()),
        jwks_endpoint: None,
        claims: None,
    }))
    .await
    .unwrap();

    // The workspace trusts that key and issuer; the statement carries the TPP's key set
    // inline. A self-signed certificate chains to no CA, so the client authenticates with
    // signed assertions.
    server
        .put_dcr(json!({
            "enabled": true, "require_software_statement": true, "require_signed_request": true,
            "software_statement_issuers": [{"issuer": "Bank Test Directory", "keys": {"jwks": directory.public_jwks()}}],
            "request_signing_keys": "software_statement", "require_mtls": false
        }))
        .await;
    let tpp = Toolkit::new(&server, &dir);
    tpp.register(TppRequestArgs { private_key_jwt: true, ..Default::default() }).await.unwrap();
    tpp.token(None).await.unwrap();
}
