//! Starting Onboard: the embedded default on first start, what a restart reuses, and the same
//! registration on PostgreSQL.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::os::unix::fs::PermissionsExt as _;
use std::sync::Arc;

use axum::http::StatusCode;
use reqwest::Method;
use serde_json::json;

use app::clock::SystemClock;
use app::services::accounts;
use onboard::oauth2::jose::JwsAlgorithm;
use onboard::startup;
use support::{ADMIN_WORKSPACE, Ecosystem, TestServer, serve_args};

#[tokio::test]
async fn the_first_start_creates_the_embedded_default_and_a_restart_reuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = serve_args(dir.path().to_owned());
    args.admin_api_key = None;
    (args.admin_email, args.admin_password) = (None, None);

    let first = startup::start(&args, Arc::new(SystemClock)).await.unwrap();
    let ca_path = first.dev_ca.clone().unwrap();
    assert_eq!(ca_path, dir.path().join("tls/dev-ca.pem"));
    let ca = std::fs::read_to_string(&ca_path).unwrap();
    let server_cert = std::fs::read_to_string(dir.path().join("tls/server.pem")).unwrap();
    let key_file = dir.path().join("admin-api-key");
    let key = std::fs::read_to_string(&key_file).unwrap().trim().to_owned();
    assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(dir.path().join("tls/server-key.pem")).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(dir.path().join("onboard.db").exists(), "SQLite in the data directory by default");

    // Nobody can sign in to a console without an administrator: the first start makes one.
    let admin_file = dir.path().join("console-admin");
    assert_eq!(std::fs::metadata(&admin_file).unwrap().permissions().mode() & 0o777, 0o600);
    let credentials = std::fs::read_to_string(&admin_file).unwrap();
    let password = credentials.lines().find_map(|line| line.strip_prefix("password: ")).unwrap().to_owned();
    assert!(credentials.contains("email: admin@onboard.localhost"), "{credentials}");
    assert!(
        accounts::sign_in(&first.state.app, &accounts::SignInFrom::default(), "admin@onboard.localhost", &password, None)
            .await
            .is_ok()
    );

    let workspace = reqwest::Client::new()
        .get(format!("http://{}/api/admin/v1/tenants{ADMIN_WORKSPACE}", first.http_addr))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(workspace.status().as_u16(), 200);
    let workspace: serde_json::Value = workspace.json().await.unwrap();
    assert_eq!((workspace["profile"].as_str(), workspace["dcr"]["enabled"].as_bool()), (Some("openbanking_uk"), Some(false)));

    // The HTTPS listener presents the development certificate, trusted through dev-ca.pem.
    let discovery = support::tls_client(&ca, None)
        .get(format!("https://{}/default/obuk/.well-known/openid-configuration", first.https_addr))
        .send()
        .await
        .unwrap();
    assert_eq!(discovery.status().as_u16(), 200);
    first.stop().await;

    let second = startup::start(&args, Arc::new(SystemClock)).await.unwrap();
    assert_eq!(std::fs::read_to_string(&ca_path).unwrap(), ca, "the CA is reused");
    assert_eq!(std::fs::read_to_string(dir.path().join("tls/server.pem")).unwrap(), server_cert);
    assert_eq!(std::fs::read_to_string(&key_file).unwrap().trim(), key, "the admin key is kept");
    assert_eq!(std::fs::read_to_string(&admin_file).unwrap(), credentials, "no second administrator");
    let status = reqwest::Client::new()
        .get(format!("http://{}/api/admin/v1/tenants/default/workspaces", second.http_addr))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 200);
    let filter = app::domain::activity::AdministratorEventFilter {
        event_type: Some(app::domain::activity::AdministratorEventType::AdminApiKeyChanged),
        ..Default::default()
    };
    let changes = second.state.app.store.administrator_events(&filter).await.unwrap();
    let details: Vec<_> = changes.iter().map(|change| change.event.detail.clone().unwrap_or_default()).collect();
    assert_eq!(details, [format!("generated into {}", key_file.display())], "recorded once, not at the restart");
    second.stop().await;
}

#[tokio::test]
async fn a_short_admin_api_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = serve_args(dir.path().to_owned());
    args.admin_api_key = Some("too-short".to_owned());
    let error = startup::start(&args, Arc::new(SystemClock)).await.err().unwrap();
    assert!(error.to_string().contains("at least 32 characters"), "{error}");
}

#[tokio::test]
async fn a_given_admin_api_key_replaces_the_generated_one() {
    let server = TestServer::start().await;
    let (status, _) = server.admin(Method::GET, "/default/workspaces", None).await;
    assert_eq!(status, StatusCode::OK);
    let stale = reqwest::Client::new()
        .get(format!("{}/api/admin/v1/tenants/default/workspaces", server.http))
        .bearer_auth("another-key-another-key-another-key-1")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status().as_u16(), 401);
    assert!(stale.headers().get("www-authenticate").is_some());
    assert_eq!(
        server.administrator_events(&["admin_api_key_changed"]).await,
        ["admin_api_key_changed | server start | set from --admin-api-key"]
    );
}

/// The same registration, with PostgreSQL as the store (run when `make test` provides one).
#[tokio::test]
async fn registration_works_on_postgresql() {
    let Some(url) = support::fresh_postgres_database("startup").await else { return };
    let server = TestServer::start_with(|args| args.database.database_url = Some(url)).await;
    let tpp = Ecosystem::new(JwsAlgorithm::Ps256).await;
    tpp.configure(&server).await;
    let client = server.client(Some(&tpp.transport));
    let request = tpp.request();
    let (status, body) = server.register(&client, "application/jose", request.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = server.register(&client, "application/jose", request).await;
    assert_eq!((status, body["error"].clone()), (StatusCode::BAD_REQUEST, json!("invalid_client_metadata")));
    let events = server.audit_events("").await;
    let kinds: Vec<&str> = events.iter().filter_map(|event| event["event_type"].as_str()).collect();
    assert_eq!(kinds, ["dcr_rejected", "dcr_created", "dcr_settings_updated", "settings_updated"], "newest first");
}

/// A client that connects and never starts its TLS handshake must not hold up anyone else
/// (the handshake runs in the connection's own task; its timeout is 10 s).
#[tokio::test]
async fn a_silent_client_does_not_hold_up_the_tls_listener() {
    let server = TestServer::start().await;
    let _silent = tokio::net::TcpStream::connect(server.running().https_addr).await.unwrap();
    let url = format!("{}/default/obuk/.well-known/openid-configuration", server.https);
    let answered = tokio::time::timeout(std::time::Duration::from_secs(8), server.client(None).get(url).send()).await;
    assert!(answered.is_ok_and(|response| response.is_ok_and(|r| r.status().is_success())));
}

/// TLS 1.3, or TLS 1.2 with only the ECDHE-RSA AES-GCM suites FAPI 1 permits.
#[tokio::test]
async fn the_https_listener_offers_only_fapi_protocols_and_suites() {
    use rustls::crypto::aws_lc_rs::cipher_suite;
    use rustls::pki_types::pem::PemObject as _;
    let server = TestServer::start().await;
    let url = format!("{}/healthz", server.https);
    let connect = |suite: rustls::SupportedCipherSuite, version: &'static rustls::SupportedProtocolVersion| {
        let mut provider = rustls::crypto::aws_lc_rs::default_provider();
        provider.cipher_suites = vec![suite];
        let mut roots = rustls::RootCertStore::empty();
        roots.add_parsable_certificates(
            rustls::pki_types::CertificateDer::pem_slice_iter(server.dev_ca_pem.as_bytes()).filter_map(Result::ok),
        );
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[version])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let client = reqwest::Client::builder().tls_backend_preconfigured(config).build().unwrap();
        let url = url.clone();
        async move { client.get(url).send().await.is_ok_and(|r| r.status().is_success()) }
    };
    assert!(connect(cipher_suite::TLS13_AES_128_GCM_SHA256, &rustls::version::TLS13).await);
    assert!(connect(cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, &rustls::version::TLS12).await);
    assert!(connect(cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, &rustls::version::TLS12).await);
    assert!(!connect(cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, &rustls::version::TLS12).await);
}

/// Workspace private keys are sealed in the database under the data directory's key encryption
/// key; a key an earlier version stored in plaintext is sealed on the next start, and still signs.
#[tokio::test]
async fn private_keys_are_sealed_at_rest_and_plaintext_ones_are_sealed_on_start() {
    use sqlx::Connection as _;
    let dir = tempfile::tempdir().unwrap();
    let args = serve_args(dir.path().to_owned());
    let first = startup::start(&args, Arc::new(SystemClock)).await.unwrap();
    first.stop().await;
    let kek_file = dir.path().join("key-encryption-key");
    assert_eq!(std::fs::metadata(&kek_file).unwrap().permissions().mode() & 0o777, 0o600);
    let kek = onboard::sealing::KeyEncryptionKey::load_or_generate(&kek_file, false).unwrap();

    let url = format!("sqlite:{}", dir.path().join("onboard.db").display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let stored: Vec<(String, String)> =
        sqlx::query_as("select kid, private_key_pem from signing_key").fetch_all(&mut db).await.unwrap();
    assert!(!stored.is_empty());
    for (kid, value) in &stored {
        assert!(!value.contains("PRIVATE KEY"), "sealed at rest: {value}");
        assert_eq!(onboard::sealing::sealed_with(value), Some(kek.id()));
        // As an earlier version stored it.
        let plaintext = kek.open(value, kid).unwrap();
        sqlx::query("update signing_key set private_key_pem = $1 where kid = $2")
            .bind(plaintext)
            .bind(kid)
            .execute(&mut db)
            .await
            .unwrap();
    }

    let server = TestServer::start_with(|again| *again = serve_args(dir.path().to_owned())).await;
    let resealed: Vec<(String, String)> =
        sqlx::query_as("select kid, private_key_pem from signing_key").fetch_all(&mut db).await.unwrap();
    assert!(resealed.iter().all(|(_, value)| onboard::sealing::sealed_with(value) == Some(kek.id())), "sealed on start");
    let tpp = Ecosystem::new(JwsAlgorithm::Ps256).await;
    tpp.configure(&server).await;
    let client_id = tpp.register(&server, |_| {}).await["client_id"].as_str().unwrap().to_owned();
    let mtls = server.client(Some(&tpp.transport));
    let (status, body, _) = server.token(&mtls, &[("client_id", &client_id), ("grant_type", "client_credentials")], None).await;
    assert_eq!(status, StatusCode::OK, "the resealed key signs: {body}");
}

/// `onboard rekey` seals every private key (workspace keys, the sandbox directory's, held
/// bundles, administrators' two-step secrets) under a new key encryption key; a second run has nothing left to do; the old key no
/// longer starts a server, and the new one does, with every key usable.
#[tokio::test]
async fn rekeying_moves_every_private_key_to_the_new_key_encryption_key() {
    let first = TestServer::start().await;
    let console = support::ConsoleSession::sign_in(&first).await;
    let sandbox_tpp = json!({"tenant": "default", "new": {
        "software_id": "RekeyedPlanner", "org_id": "0015800001SANDBOX", "client_name": "Rekeyed",
        "roles": ["AISP"], "redirect_uris": ["https://rekeyed.example/cb"], "algorithm": "PS256"
    }});
    assert_eq!(console.call_json("create_sandbox_tpp", &sandbox_tpp).await.0, StatusCode::OK);
    // And an administrator's two-step secret.
    let (_, setup) = console.call("new_two_step_setup", &[]).await;
    let secret = setup["secret"].as_str().unwrap().replace(' ', "");
    let step = u64::try_from(support::now().timestamp()).unwrap() / app::totp::STEP_SECONDS;
    let code = |step: u64| app::totp::code_at(&secret, step).unwrap();
    let form = [("password", support::ADMIN_PASSWORD), ("code", &code(step))];
    assert_eq!(console.call("enable_two_step", &form).await.0, StatusCode::OK);
    let support::TestServer { backend: support::Backend::InProcess(running), dir, .. } = first else { unreachable!() };
    (*running).stop().await;

    let keys_dir = tempfile::tempdir().unwrap();
    let rekey = onboard::cli::RekeyArgs {
        database: onboard::cli::DatabaseArgs { data_dir: dir.path().to_owned(), database_url: None },
        key_encryption_key_file: None,
        new_key_encryption_key_file: keys_dir.path().join("new-kek"),
    };
    let sealed = startup::rekey(&rekey, &SystemClock).await.unwrap();
    assert!(sealed >= 5, "the workspace keys, the directory's two, the held bundle and the two-step secret: {sealed}");
    assert_eq!(startup::rekey(&rekey, &SystemClock).await.unwrap(), 0, "a second run has nothing left to do");
    let new = onboard::sealing::KeyEncryptionKey::load_or_generate(&rekey.new_key_encryption_key_file, false).unwrap();
    let store = app::storage::connect(&rekey.database.url()).await.unwrap();
    for (slot, stored) in store.stored_private_keys().await.unwrap() {
        assert_eq!(onboard::sealing::sealed_with(&stored), Some(new.id()), "{slot:?}");
    }

    let old = serve_args(dir.path().to_owned());
    let refused = startup::prepare(&old, Arc::new(SystemClock)).await.err().unwrap();
    assert!(format!("{refused:#}").contains("sealed with key encryption key"), "{refused:#}");
    let server = TestServer::start_with(|args| {
        *args = serve_args(dir.path().to_owned());
        args.key_encryption_key_file = Some(rekey.new_key_encryption_key_file.clone());
    })
    .await;
    let tpp = Ecosystem::new(JwsAlgorithm::Ps256).await;
    tpp.configure(&server).await;
    let client_id = tpp.register(&server, |_| {}).await["client_id"].as_str().unwrap().to_owned();
    let mtls = server.client(Some(&tpp.transport));
    let (status, body, _) = server.token(&mtls, &[("client_id", &client_id), ("grant_type", "client_credentials")], None).await;
    assert_eq!(status, StatusCode::OK, "the workspace key opens under the new KEK: {body}");
    // The next step's code: the two-step secret opens under the new KEK.
    let console = support::ConsoleSession::sign_in_with_code(&server, &code(step + 1)).await;
    let bundle = console.get("/app/default/sandbox/RekeyedPlanner/bundle.zip").await;
    assert_eq!(bundle.status(), StatusCode::OK, "the held bundle opens under the new KEK");
    let directory = reqwest::get(format!("{}/default/.sandbox/directory/jwks.json", server.http)).await.unwrap();
    assert_eq!(directory.status(), StatusCode::OK, "the sandbox directory's keys open under the new KEK");
    let rotations = server.administrator_events(&["key_encryption_key_rotated"]).await;
    let expected = format!("key_encryption_key_rotated | command line | {sealed} private keys sealed under key {}", new.id());
    assert!(
        rotations.len() == 1 && rotations[0].starts_with(&expected),
        "the second run, which sealed nothing, is not recorded: {rotations:?}"
    );
}

/// A two-step secret in plaintext was never written by Onboard: a server refuses to start on
/// one (sealing it would make a secret someone chose valid), and the reset the message names
/// lets it start.
#[tokio::test]
async fn a_two_step_secret_stored_unsealed_stops_the_server_until_it_is_reset() {
    let dir = tempfile::tempdir().unwrap();
    let args = serve_args(dir.path().to_owned());
    let store = startup::prepare(&args, Arc::new(SystemClock)).await.unwrap().app.store.clone();
    let admin = store.admin_user_by_email(support::ADMIN_EMAIL).await.unwrap().unwrap();
    store.enable_admin_two_step(&admin.id, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 0, 0, &[]).await.unwrap();
    let refused = startup::prepare(&args, Arc::new(SystemClock)).await.err().unwrap();
    assert!(format!("{refused:#}").contains("reset-two-step"), "{refused:#}");
    assert!(accounts::reset_two_step(store.as_ref(), &SystemClock, support::ADMIN_EMAIL).await.unwrap());
    assert!(startup::prepare(&args, Arc::new(SystemClock)).await.is_ok());
}
