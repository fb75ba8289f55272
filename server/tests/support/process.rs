//! The `onboard` binary as a child process, configured from the same [`ServeArgs`] the
//! in-process servers use, logging JSON at debug level to a file.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use onboard::cli::ServeArgs;

/// A running `onboard serve`; killed (`SIGKILL`) if dropped before [`OnboardProcess::terminate`].
pub struct OnboardProcess {
    child: Child,
    pub log: PathBuf,
    pub http_addr: SocketAddr,
    pub https_addr: SocketAddr,
}

impl OnboardProcess {
    /// Starts the binary with `args`, logging to `log`; returns once `/readyz` answers. A port 0
    /// is left for the process to pick, and the addresses it bound are read from its log: a port
    /// picked here and handed over could be taken by another test's listener in between.
    pub async fn spawn(args: &ServeArgs, log: PathBuf) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_onboard"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(environment(args))
            .env("ONBOARD_LOG_FORMAT", "json")
            .env("RUST_LOG", "debug")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut process = Self { child, log, http_addr: args.http_addr, https_addr: args.https_addr };
        let plain = reqwest::Client::new();
        for _ in 0..150 {
            if let Some((http_addr, https_addr)) = serving_addresses(&process.read_log()) {
                (process.http_addr, process.https_addr) = (http_addr, https_addr);
                let ready = format!("http://{http_addr}/readyz");
                if plain.get(&ready).send().await.is_ok_and(|r| r.status().is_success()) {
                    return process;
                }
            }
            if let Some(status) = process.child.try_wait().unwrap() {
                panic!("the server exited with {status}:\n{}", process.read_log());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        process.kill();
        panic!("the server did not get ready:\n{}", process.read_log());
    }

    pub fn read_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `SIGKILL`: no drain, no cleanup.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// `SIGTERM`: the server drains and exits with success within 10 s; returns its log.
    pub async fn terminate(mut self) -> String {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                let log = self.read_log();
                assert!(status.success(), "{status}:\n{log}");
                return log;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.kill();
        panic!("still running 10 s after SIGTERM:\n{}", self.read_log())
    }
}

impl Drop for OnboardProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The HTTP and HTTPS addresses from the log's "Onboard is serving" line, once it is written.
fn serving_addresses(log: &str) -> Option<(SocketAddr, SocketAddr)> {
    log.lines().filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok()).find_map(|line| {
        let fields = line.get("fields").filter(|fields| fields["message"] == "Onboard is serving")?;
        let address = |name: &str| fields[name].as_str()?.parse().ok();
        Some((address("http_addr")?, address("https_addr")?))
    })
}

/// `args` as the `ONBOARD_*` environment the binary reads them from.
fn environment(args: &ServeArgs) -> Vec<(&'static str, OsString)> {
    let mut env: Vec<(&'static str, OsString)> = vec![
        ("ONBOARD_DATA_DIR", args.database.data_dir.clone().into()),
        ("ONBOARD_HTTP_ADDR", args.http_addr.to_string().into()),
        ("ONBOARD_HTTPS_ADDR", args.https_addr.to_string().into()),
        ("ONBOARD_PUBLIC_URL", args.public_url.clone().into()),
        ("ONBOARD_SITE_ROOT", args.site_root.clone().into()),
    ];
    let optional = [
        ("ONBOARD_DATABASE_URL", args.database.database_url.clone().map(OsString::from)),
        ("ONBOARD_TLS_CERT", args.tls_cert.as_deref().map(path)),
        ("ONBOARD_TLS_KEY", args.tls_key.as_deref().map(path)),
        ("ONBOARD_ADMIN_API_KEY", args.admin_api_key.clone().map(OsString::from)),
        ("ONBOARD_ADMIN_EMAIL", args.admin_email.clone().map(OsString::from)),
        ("ONBOARD_ADMIN_PASSWORD", args.admin_password.clone().map(OsString::from)),
        ("ONBOARD_METRICS_TOKEN", args.metrics_token.clone().map(OsString::from)),
        ("ONBOARD_KEY_ENCRYPTION_KEY_FILE", args.key_encryption_key_file.as_deref().map(path)),
        (
            "ONBOARD_JWKS_ALLOWED_NETWORKS",
            (!args.jwks_allowed_networks.is_empty()).then(|| args.jwks_allowed_networks.join(",").into()),
        ),
        ("ONBOARD_SANDBOX_WORKSPACE", args.sandbox_workspace.then(|| "true".into())),
        ("ONBOARD_ALLOW_INSECURE_JWKS_URIS", args.allow_insecure_jwks_uris.then(|| "true".into())),
    ];
    env.extend(optional.into_iter().filter_map(|(name, value)| value.map(|value| (name, value))));
    env
}

fn path(path: &Path) -> OsString {
    path.as_os_str().to_owned()
}
