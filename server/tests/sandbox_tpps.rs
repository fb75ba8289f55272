//! The console's sandbox TPPs over the wire: made with server-held keys, registered at a
//! workspace in one call (the endpoint's answer or refusal, never the registration access
//! token), downloaded as a bundle that `onboard tpp` uses as it is, and deleted.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::io::Read as _;

use reqwest::StatusCode;
use serde_json::{Value, json};

use onboard::cli::{TppCommand, TppRequestArgs, TppTlsArgs};
use onboard::tpp::toolkit;
use support::{ADMIN_EMAIL, ConsoleSession, TestServer};

fn new_tpp(software_id: &str) -> Value {
    json!({
        "tenant": "default",
        "new": {
            "software_id": software_id, "org_id": "0015800001SANDBOX", "client_name": "Budget Planner",
            "roles": ["AISP"], "redirect_uris": ["https://budget.example/callback"], "algorithm": "ES256"
        }
    })
}

async fn register(console: &ConsoleSession, workspace: &str, software_id: &str) -> Value {
    let (status, outcome) = console
        .call("register_sandbox_tpp", &[("tenant", "default"), ("workspace", workspace), ("software_id", software_id)])
        .await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    outcome
}

fn answer(outcome: &Value) -> Value {
    serde_json::from_str(outcome["answer"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn a_console_sandbox_tpp_registers_in_one_call_and_its_bundle_works_with_the_toolkit() {
    let server = TestServer::start_public().await;
    let console = ConsoleSession::sign_in(&server).await;

    let (status, made) = console.call_json("create_sandbox_tpp", &new_tpp("BudgetPlanner")).await;
    assert_eq!(status, StatusCode::OK, "{made}");
    assert_eq!((made["software_id"].as_str(), made["held"].as_bool()), (Some("BudgetPlanner"), Some(true)));
    // The same id again is refused by field, and bad details change nothing.
    let (status, refused) = console.call_json("create_sandbox_tpp", &new_tpp("BudgetPlanner")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(refused.to_string().contains("software_id"), "{refused}");
    let (status, _) = console.call_json("create_sandbox_tpp", &new_tpp("not/an id")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, listed) = console.call("list_sandbox_tpps", &[("tenant", "default")]).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");

    // DCR off: the endpoint's refusal comes back as the endpoint gives it.
    let outcome = register(&console, "obuk", "BudgetPlanner").await;
    assert_eq!((outcome["status"].as_u64(), &outcome["client_id"]), (Some(403), &Value::Null), "{outcome}");
    assert_eq!(answer(&outcome)["error"], "access_denied");

    // On, but without trusting the sandbox directory: its statement is unapproved.
    let directory = onboard::tpp::keys::SigningKey::generate(onboard::oauth2::jose::JwsAlgorithm::Es256, "ob").unwrap();
    let own = json!({
        "enabled": true, "require_software_statement": true, "require_signed_request": true,
        "software_statement_issuers": [{"issuer": "OpenBanking Ltd", "keys": {"jwks": directory.public_jwks()}}],
        "request_signing_keys": "software_statement", "require_mtls": false
    });
    server.put_dcr(own).await;
    let outcome = register(&console, "obuk", "BudgetPlanner").await;
    assert_eq!(outcome["status"].as_u64(), Some(400), "{outcome}");
    assert_eq!(answer(&outcome)["error"], "unapproved_software_statement");

    server
        .put_dcr(json!({
            "enabled": true, "require_software_statement": true, "require_signed_request": true,
            "request_signing_keys": "software_statement", "require_mtls": true, "trust_sandbox_directory": true
        }))
        .await;
    let outcome = register(&console, "obuk", "BudgetPlanner").await;
    assert_eq!(outcome["status"].as_u64(), Some(201), "{outcome}");
    let registered = answer(&outcome);
    let client_id = outcome["client_id"].as_str().unwrap();
    assert_eq!(registered["client_id"], client_id);
    assert_eq!(registered["software_id"], "BudgetPlanner");
    assert_eq!(registered["registration_access_token"], "(issued; not shown in the console)");
    let (status, _) = server.admin(reqwest::Method::GET, &format!("/default/workspaces/obuk/clients/{client_id}"), None).await;
    assert_eq!(status, StatusCode::OK, "the client exists");

    // The bundle: only with a session, a zip of the toolkit's files, usable as it is.
    let anonymous = console.client.get(format!("{}/app/default/sandbox/BudgetPlanner/bundle.zip", console.base)).send().await;
    assert!(anonymous.unwrap().status().is_redirection(), "no session, no keys");
    let download = console.get("/app/default/sandbox/BudgetPlanner/bundle.zip").await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "application/zip");
    assert_eq!(download.headers()["cache-control"], "no-store");
    let zip = download.bytes().await.unwrap();
    let unpacked = tempfile::tempdir().unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).unwrap();
        let name = file.enclosed_name().unwrap();
        let mut contents = String::new();
        file.read_to_string(&mut contents).unwrap();
        let path = unpacked.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    let dir = unpacked.path().join("BudgetPlanner");
    for file in
        ["software.json", "signing-key.pem", "transport-key.pem", "transport.pem", "jwks.json", "ssa.jwt", "directory-ca.pem"]
    {
        assert!(dir.join(file).exists(), "{file}");
    }
    let tls = TppTlsArgs { ca_file: Some(server.dir.path().join("tls/dev-ca.pem")) };
    let discovery = format!("{}/default/obuk/.well-known/openid-configuration", server.https);
    let command = TppCommand::Register { dir: dir.clone(), discovery, tls: tls.clone(), request: TppRequestArgs::default() };
    toolkit::run(command).await.unwrap();
    toolkit::run(TppCommand::Token { dir, scope: None, tls }).await.unwrap();

    // Deleted: gone from the list, its key set no longer published, its bundle gone.
    let (status, _) = console.call("delete_sandbox_tpp", &[("tenant", "default"), ("software_id", "BudgetPlanner")]).await;
    assert_eq!(status, StatusCode::OK);
    let (_, listed) = console.call("list_sandbox_tpps", &[("tenant", "default")]).await;
    assert_eq!(listed, json!([]));
    let jwks = reqwest::get(format!("{}/default/.sandbox/software/BudgetPlanner/jwks.json", server.http)).await.unwrap();
    assert_eq!(jwks.status(), StatusCode::NOT_FOUND);
    assert_eq!(console.get("/app/default/sandbox/BudgetPlanner/bundle.zip").await.status(), StatusCode::NOT_FOUND);

    // Who made it, took its keys and deleted it is in the administrators' activity; the refused
    // attempts are not, as nothing was done.
    let kinds = ["sandbox_software_enrolled", "sandbox_bundle_downloaded", "sandbox_software_deleted"];
    let software = "tenant default, software BudgetPlanner";
    assert_eq!(
        server.administrator_events(&kinds).await,
        [
            format!("sandbox_software_enrolled | {ADMIN_EMAIL} | {software} (made in the console, keys held)"),
            format!("sandbox_bundle_downloaded | {ADMIN_EMAIL} | {software}"),
            format!("sandbox_software_deleted | {ADMIN_EMAIL} | {software}"),
        ]
    );
}

#[tokio::test]
async fn software_enrolled_by_the_toolkit_has_no_bundle_to_give() {
    let server = TestServer::start().await;
    let console = ConsoleSession::sign_in(&server).await;
    let bundle = tempfile::tempdir().unwrap();
    let init = onboard::cli::TppInitArgs {
        dir: bundle.path().to_owned(),
        software_id: "HeldElsewhere".to_owned(),
        org_id: "org1".to_owned(),
        org_name: "Sandbox TPP Ltd".to_owned(),
        client_name: "Elsewhere".to_owned(),
        roles: vec!["AISP".to_owned()],
        redirect_uri: vec!["https://elsewhere.example/cb".to_owned()],
        alg: onboard::cli::TppAlgorithm::Es256,
        sandbox: Some(server.http.clone()),
        tenant: "default".to_owned(),
        admin_api_key: Some(support::ADMIN_KEY.to_owned()),
        tls: onboard::cli::TppTlsArgs::default(),
    };
    toolkit::run(TppCommand::Init(init)).await.unwrap();
    let (_, listed) = console.call("list_sandbox_tpps", &[("tenant", "default")]).await;
    assert_eq!((listed[0]["software_id"].as_str(), listed[0]["held"].as_bool()), (Some("HeldElsewhere"), Some(false)));
    assert_eq!(console.get("/app/default/sandbox/HeldElsewhere/bundle.zip").await.status(), StatusCode::NOT_FOUND);
    let (status, _) = console
        .call("register_sandbox_tpp", &[("tenant", "default"), ("workspace", "obuk"), ("software_id", "HeldElsewhere")])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A path that is no software id never reaches the store or a header.
    assert_eq!(console.get("/app/default/sandbox/..%2Fx/bundle.zip").await.status(), StatusCode::NOT_FOUND);
}

/// The sandbox directory's signing and CA keys and a held bundle are sealed in the database
/// under the key encryption key, each bound to its place; values an earlier version stored in
/// plaintext are sealed on the next start, and the sandbox TPP still registers.
#[tokio::test]
async fn sandbox_keys_and_held_bundles_are_sealed_at_rest_and_plaintext_ones_on_start() {
    use sqlx::Connection as _;
    let first = TestServer::start().await;
    let console = ConsoleSession::sign_in(&first).await;
    let (status, made) = console.call_json("create_sandbox_tpp", &new_tpp("SealedPlanner")).await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let TestServer { backend: support::Backend::InProcess(running), dir, .. } = first else { unreachable!() };
    (*running).stop().await;

    let kek = onboard::sealing::KeyEncryptionKey::load_or_generate(&dir.path().join("key-encryption-key"), false).unwrap();
    let url = format!("sqlite:{}", dir.path().join("onboard.db").display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let places = [
        ("sandbox_directory", "signing_key_pem", "sandbox-directory/default/signing-key", "tenant_id = 'default'"),
        ("sandbox_directory", "ca_key_pem", "sandbox-directory/default/ca-key", "tenant_id = 'default'"),
        ("sandbox_software", "held_bundle", "sandbox-bundle/default/SealedPlanner", "software_id = 'SealedPlanner'"),
    ];
    for (table, column, context, row) in places {
        let (stored,): (String,) =
            sqlx::query_as(&format!("select {column} from {table} where {row}")).fetch_one(&mut db).await.unwrap();
        assert!(!stored.contains("PRIVATE KEY"), "{column} is sealed at rest: {stored}");
        assert_eq!(onboard::sealing::sealed_with(&stored), Some(kek.id()));
        let plaintext = kek.open(&stored, context).unwrap();
        assert!(plaintext.contains("PRIVATE KEY"), "{column} holds a private key");
        // As an earlier version stored it.
        sqlx::query(&format!("update {table} set {column} = $1 where {row}")).bind(plaintext).execute(&mut db).await.unwrap();
    }

    let server = TestServer::start_with(|again| *again = support::serve_args(dir.path().to_owned())).await;
    for (table, column, _, row) in places {
        let (stored,): (String,) =
            sqlx::query_as(&format!("select {column} from {table} where {row}")).fetch_one(&mut db).await.unwrap();
        assert_eq!(onboard::sealing::sealed_with(&stored), Some(kek.id()), "{column} is sealed on start");
    }
    server
        .put_dcr(json!({
            "enabled": true, "require_software_statement": true, "require_signed_request": true,
            "request_signing_keys": "software_statement", "require_mtls": true, "trust_sandbox_directory": true
        }))
        .await;
    let console = ConsoleSession::sign_in(&server).await;
    let outcome = register(&console, "obuk", "SealedPlanner").await;
    assert_eq!(outcome["status"].as_u64(), Some(201), "{outcome}");
    assert_eq!(console.get("/app/default/sandbox/SealedPlanner/bundle.zip").await.status(), StatusCode::OK);
}
