//! The logs of a whole session carry no secret: the real `onboard` binary at debug level, with
//! JSON logs, goes through an administrator's sign-in, workspace set-up, a registration, a
//! token, management with the registration access token, a refused token request and
//! revocation; then `SIGTERM` ends it cleanly, and its log is searched for every secret used.

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

/// The binary on free loopback ports, logging JSON at debug level to `<dir>/onboard.log`;
/// returns once it is ready.
async fn start_onboard(dir: &std::path::Path) -> (std::process::Child, u16, u16) {
    let (http_port, https_port) = (free_port(), free_port());
    let log_path = dir.join("onboard.log");
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
    let (mut child, http_port, https_port) = start_onboard(dir.path()).await;
    let http = format!("http://127.0.0.1:{http_port}");
    let plain = reqwest::Client::new();
    let admin = |method: Method, path: &str, body: Option<Value>| {
        let request = plain.request(method, format!("{http}/api/admin/v1/tenants{path}")).bearer_auth(ADMIN_KEY);
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        let path = path.to_owned();
        async move {
            let response = request.send().await.unwrap();
            assert!(response.status().is_success(), "{path}: {}", response.status());
            response.json::<Value>().await.unwrap_or(Value::Null)
        }
    };
    admin(Method::POST, "/default/workspaces", Some(json!({"id": "apps", "name": "Apps", "profile": "generic"}))).await;
    let mut dcr = admin(Method::GET, "/default/workspaces/apps/dcr", None).await;
    dcr["enabled"] = json!(true);
    admin(Method::PUT, "/default/workspaces/apps/dcr", Some(dcr)).await;

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
    for (what, secret) in [
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
