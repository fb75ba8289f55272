//! The `onboard` binary as a process: what its logs hold, how `SIGTERM` ends it, and what a
//! `kill -9` in the middle of registrations leaves behind.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

const ADMIN_KEY: &str = "log-test-admin-key-0123456789abcdef-XYZ";
const ADMIN_PASSWORD: &str = "log-test-password-correct-horse";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The binary on free loopback ports with its data in `<dir>/data`, logging JSON at debug level
/// to `<dir>/<log>`; returns once it is ready.
async fn start_onboard(dir: &std::path::Path, log: &str) -> (std::process::Child, u16, u16) {
    let (http_port, https_port) = (free_port(), free_port());
    let log_path = dir.join(log);
    let mut child = Command::new(env!("CARGO_BIN_EXE_onboard"))
        .arg("serve")
        .env("ONBOARD_DATA_DIR", dir.join("data"))
        .env("ONBOARD_HTTP_ADDR", format!("127.0.0.1:{http_port}"))
        .env("ONBOARD_HTTPS_ADDR", format!("127.0.0.1:{https_port}"))
        .env("ONBOARD_PUBLIC_URL", format!("https://localhost:{https_port}"))
        .env("ONBOARD_ADMIN_API_KEY", ADMIN_KEY)
        .env("ONBOARD_ADMIN_EMAIL", "admin@bank.example")
        .env("ONBOARD_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("ONBOARD_LOG_FORMAT", "json")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let plain = reqwest::Client::new();
    for _ in 0..100 {
        if plain.get(format!("http://127.0.0.1:{http_port}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return (child, http_port, https_port);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start: {}", std::fs::read_to_string(&log_path).unwrap_or_default());
}

/// A call of the admin API, which must succeed; returns its JSON body.
async fn admin(http: &str, method: Method, path: &str, body: Option<Value>) -> Value {
    let request = reqwest::Client::new().request(method, format!("{http}/api/admin/v1/tenants{path}")).bearer_auth(ADMIN_KEY);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{path}: {}", response.status());
    response.json::<Value>().await.unwrap_or(Value::Null)
}

/// Workspace `apps` (generic profile) with DCR on, and `limits` if given.
async fn generic_workspace(http: &str, limits: Option<Value>) {
    admin(http, Method::POST, "/default/workspaces", Some(json!({"id": "apps", "name": "Apps", "profile": "generic"}))).await;
    let mut dcr = admin(http, Method::GET, "/default/workspaces/apps/dcr", None).await;
    dcr["enabled"] = json!(true);
    admin(http, Method::PUT, "/default/workspaces/apps/dcr", Some(dcr)).await;
    if let Some(limits) = limits {
        admin(http, Method::PATCH, "/default/workspaces/apps", Some(json!({ "limits": limits }))).await;
    }
}

/// A console sign-in, with the password on the wire; returns the session id.
async fn sign_in(plain: &reqwest::Client, http: &str) -> String {
    let signed_in = plain
        .post(format!("{http}/app/fn/sign_in"))
        .header("origin", http)
        .header("accept", "application/json")
        .form(&[("email", "admin@bank.example"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(signed_in.status().is_success() || signed_in.status().is_redirection(), "{}", signed_in.status());
    signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("onboard_session=").map(|rest| rest.split(';').next().unwrap_or_default().to_owned()))
        .expect("a session cookie")
}

/// `SIGTERM`: the server drains and exits with success within 10 s; returns its log.
async fn terminate(child: &mut std::process::Child, log_path: &std::path::Path) -> String {
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let mut exited = None;
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = std::fs::read_to_string(log_path).unwrap();
    let status = exited.unwrap_or_else(|| {
        let _ = child.kill();
        let _ = child.wait();
        panic!("still running 10 s after SIGTERM:\n{log}")
    });
    assert!(status.success(), "{status}:\n{log}");
    log
}

#[tokio::test]
async fn a_full_session_logs_no_secret_and_sigterm_ends_it_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, http_port, https_port) = start_onboard(dir.path(), "onboard.log").await;
    let http = format!("http://127.0.0.1:{http_port}");
    let plain = reqwest::Client::new();
    generic_workspace(&http, None).await;

    let session_cookie = sign_in(&plain, &http).await;

    let ca = std::fs::read_to_string(dir.path().join("data/tls/dev-ca.pem")).unwrap();
    let tls = support::tls_client(&ca, None);
    let base = format!("https://127.0.0.1:{https_port}/default/apps");
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

    let log = terminate(&mut child, &dir.path().join("onboard.log")).await;
    assert!(log.lines().count() > 20, "debug logging was on:\n{log}");
    assert!(log.lines().all(|line| serde_json::from_str::<Value>(line).is_ok()), "every line is JSON");
    assert!(log.contains(client_id), "the log does name the client, so the search below looks at real lines");
    let kek = std::fs::read_to_string(dir.path().join("data/key-encryption-key")).unwrap();
    for (what, secret) in [
        ("key encryption key", kek.trim()),
        ("admin API key", ADMIN_KEY),
        ("administrator password", ADMIN_PASSWORD),
        ("session id", session_cookie.as_str()),
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
    let dir = tempfile::tempdir().unwrap();
    let (mut child, http_port, https_port) = start_onboard(dir.path(), "first.log").await;
    let http = format!("http://127.0.0.1:{http_port}");
    generic_workspace(&http, Some(serde_json::to_value(app::domain::limits::Limits::off()).unwrap())).await;
    let ca = std::fs::read_to_string(dir.path().join("data/tls/dev-ca.pem")).unwrap();
    let register = format!("https://127.0.0.1:{https_port}/default/apps/oauth2/register");

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
    child.kill().unwrap(); // SIGKILL, with registrations in flight
    child.wait().unwrap();
    for sender in senders {
        sender.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let (mut restarted, http_port, https_port) = start_onboard(dir.path(), "second.log").await;
    let http = format!("http://127.0.0.1:{http_port}");
    let clients = admin(&http, Method::GET, "/default/workspaces/apps/clients", None).await;
    let stored: std::collections::HashSet<&str> =
        clients["clients"].as_array().unwrap().iter().map(|c| c["client_id"].as_str().unwrap()).collect();
    assert!(stored.len() < 500, "{} clients: more than one page of audit events", stored.len());
    for (id, _) in &acknowledged {
        assert!(stored.contains(id.as_str()), "client {id} got a 201 and is gone");
    }
    let tls = support::tls_client(&ca, None);
    let register = format!("https://127.0.0.1:{https_port}/default/apps/oauth2/register");
    for (id, token) in &acknowledged {
        let read = tls.get(format!("{register}/{id}")).bearer_auth(token).send().await.unwrap();
        assert_eq!(read.status().as_u16(), 200, "client {id}'s registration access token");
    }
    let audit = admin(&http, Method::GET, "/default/workspaces/apps/audit-events?type=dcr_created&limit=500", None).await;
    let audited: std::collections::HashSet<&str> =
        audit["audit_events"].as_array().unwrap().iter().filter_map(|e| e["client_id"].as_str()).collect();
    assert_eq!(audited, stored, "each stored client has its audit event, and no event lacks its client");
    terminate(&mut restarted, &dir.path().join("second.log")).await;
}
