//! Faults: the database going away under a running server, and coming back; a server stopping
//! (as on `SIGTERM`) with a request in flight.
//!
//! The outage test runs its own PostgreSQL (the shared one of `make test` must not be stopped), so it
//! needs the server binaries (`initdb`, `pg_ctl`); without them it is skipped, unless
//! `ONBOARD_REQUIRE_POSTGRES` is set, as `make test` sets it.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use axum::http::StatusCode;
use onboard::oauth2::jose::JwsAlgorithm;
use reqwest::Method;
use serde_json::json;
use support::{Ecosystem, TestServer};

/// A throwaway PostgreSQL cluster listening on a Unix socket in its own directory (no TCP port
/// another test could take between its stop and start), stopped (and deleted) on drop.
struct Postgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    /// PostgreSQL refuses to run as root; as root it runs as this user.
    user: Option<&'static str>,
}

impl Postgres {
    fn find_bin() -> Option<PathBuf> {
        let on_path = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).map(|dir| dir.join("initdb")).filter(|p| p.exists()).collect::<Vec<_>>())
            .unwrap_or_default();
        let mut packaged: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|dirs| dirs.filter_map(Result::ok).map(|d| d.path().join("bin/initdb")).filter(|p| p.exists()).collect())
            .unwrap_or_default();
        packaged.sort();
        on_path.into_iter().chain(packaged.into_iter().rev()).next().and_then(|initdb| initdb.parent().map(Path::to_path_buf))
    }

    fn init() -> Option<Self> {
        let Some(bin) = Self::find_bin() else {
            assert!(std::env::var("ONBOARD_REQUIRE_POSTGRES").is_err(), "PostgreSQL server binaries are required");
            eprintln!("skipped: PostgreSQL server binaries not found");
            return None;
        };
        let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let user = root.then(|| {
            let exists = |name: &str| Command::new("id").arg(name).output().is_ok_and(|o| o.status.success());
            if exists("postgres") {
                "postgres"
            } else {
                if !exists("onboard-pg") {
                    Command::new("useradd").args(["--system", "--no-create-home", "onboard-pg"]).status().unwrap();
                }
                "onboard-pg"
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let postgres = Self { bin, dir, user };
        if let Some(user) = user {
            assert!(Command::new("chown").args(["-R", user]).arg(postgres.dir.path()).status().unwrap().success());
        }
        let data = postgres.dir.path().join("data");
        postgres.run("initdb", &["-D", data.to_str().unwrap(), "-A", "trust", "-U", "postgres", "--no-sync"]);
        Some(postgres)
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let mut command = match self.user {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(program);
                command
            }
            None => Command::new(program),
        };
        let output = command.args(args).output().unwrap();
        assert!(output.status.success(), "{tool}: {}", String::from_utf8_lossy(&output.stderr));
    }

    fn start(&self) {
        let data = self.dir.path().join("data");
        let log = self.dir.path().join("postgres.log");
        let options = format!("-k {} -c listen_addresses='' -c fsync=off", self.dir.path().display());
        self.run("pg_ctl", &["-D", data.to_str().unwrap(), "-l", log.to_str().unwrap(), "-w", "-o", &options, "start"]);
    }

    fn stop(&self) {
        let data = self.dir.path().join("data");
        self.run("pg_ctl", &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@localhost/postgres?host={}", self.dir.path().display())
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = Command::new(self.bin.join("pg_ctl"))
            .args(["-D", data.to_str().unwrap_or_default(), "-m", "immediate", "stop"])
            .output();
        if let Some(user) = self.user {
            let _ = Command::new("runuser")
                .args(["-u", user, "--"])
                .arg(self.bin.join("pg_ctl"))
                .args(["-D", data.to_str().unwrap_or_default(), "-m", "immediate", "stop"])
                .output();
        }
    }
}

#[tokio::test]
async fn a_database_outage_answers_503_and_service_resumes_when_it_is_back() {
    let Some(postgres) = Postgres::init() else { return };
    postgres.start();
    let url = postgres.url();
    let server = TestServer::start_with(|args| args.database.database_url = Some(url)).await;
    let register = server.generic_workspace_with_dcr("apps").await;
    let client = server.client(None);
    let metadata = json!({"client_name": "Budget app", "grant_types": ["client_credentials"]});
    let status = |response: reqwest::Response| response.status().as_u16();
    assert_eq!(status(client.post(&register).json(&metadata).send().await.unwrap()), 201);
    let console = support::ConsoleSession::sign_in(&server).await;

    postgres.stop();
    // Past the per-second workspace cache, so the request needs the database.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let refused = client.post(&register).json(&metadata).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 503);
    assert_eq!(refused.headers()["retry-after"], "5");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    assert_eq!(status(client.get(format!("{}/readyz", server.http)).send().await.unwrap()), 503);
    assert_eq!(status(client.get(format!("{}/healthz", server.http)).send().await.unwrap()), 200, "alive, not ready");
    let form = [("tenant", "default"), ("workspace", "apps"), ("filter", "all"), ("search", ""), ("page", "1")];
    let (console_status, said) = console.call("list_applications", &form).await;
    assert_eq!(console_status, StatusCode::SERVICE_UNAVAILABLE, "{said}");
    assert!(said.to_string().contains("The database cannot be reached right now"), "{said}");

    postgres.start();
    let mut ready = false;
    for _ in 0..40 {
        if status(client.get(format!("{}/readyz", server.http)).send().await.unwrap()) == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(ready, "ready again without a restart");
    assert_eq!(status(client.post(&register).json(&metadata).send().await.unwrap()), 201);
    let (_, clients) = server.admin(Method::GET, "/default/workspaces/apps/clients", None).await;
    assert_eq!(clients["clients"].as_array().unwrap().len(), 2, "the refused request stored nothing");
}

/// Stopping (what `SIGTERM` does) refuses new connections at once and lets a request already in
/// flight finish: a registration waiting on a slow JWKS host still gets its 201.
#[tokio::test]
async fn stopping_drains_requests_in_flight_and_refuses_new_connections() {
    let TestServer { backend: support::Backend::InProcess(running), dir: _dir, https, dev_ca_pem, .. } =
        TestServer::start().await
    else {
        unreachable!("started in process")
    };
    let tpp = Ecosystem::new(JwsAlgorithm::Es256).await;
    let admin = |method: Method, path: &str, body: serde_json::Value| {
        reqwest::Client::new()
            .request(method, format!("http://{}/api/admin/v1/tenants{path}", running.http_addr))
            .bearer_auth(support::ADMIN_KEY)
            .json(&body)
            .send()
    };
    assert!(admin(Method::PATCH, support::ADMIN_WORKSPACE, tpp.workspace_settings()).await.unwrap().status().is_success());
    let dcr = admin(Method::PUT, &format!("{}/dcr", support::ADMIN_WORKSPACE), tpp.dcr_settings()).await.unwrap();
    assert!(dcr.status().is_success());
    tpp.published.lock().unwrap().delay = Duration::from_millis(800);

    let client = support::tls_client(&dev_ca_pem, Some(&tpp.transport));
    let register = format!("{https}{}/openbankinguk/dcr/v3.2/register", support::WORKSPACE);
    let in_flight = tokio::spawn(client.post(register).header("content-type", "application/jose").body(tpp.request()).send());
    // The request now waits on the JWKS host (two fetches, 800 ms each).
    tokio::time::sleep(Duration::from_millis(400)).await;
    let https_addr = running.https_addr;
    let stopping = tokio::spawn((*running).stop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(tokio::net::TcpStream::connect(https_addr).await.is_err(), "a stopping server accepts no connection");
    assert!(!stopping.is_finished(), "the server waits for the request in flight");

    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status().as_u16(), 201, "{:?}", response.text().await);
    tokio::time::timeout(Duration::from_secs(5), stopping).await.unwrap().unwrap();
}
