//! Starting Onboard: open and migrate the store, seed the embedded default, prepare TLS, bind
//! both listeners and serve until stopped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use leptos::config::{Env, LeptosOptions};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use url::Url;

use app::clock::Clock;
use app::crl_client::CrlClient;
use app::domain::activity::{Actor, AdministratorEventType, COMMAND_LINE_ACTOR};
use app::jwks_client::JwksClient;
use app::state::{AppState, Deployment};

use crate::cli::{DatabaseArgs, RekeyArgs, ServeArgs};
use crate::sealing::KeyEncryptionKey;
use crate::services::dry_run::PipelineDryRun;
use crate::services::rate_limits::RateLimiters;
use crate::services::sandbox_tpps::ConsoleSandboxTpps;
use crate::state::{ProtocolParts, ServerState};
use crate::tls::client_trust::ClientTrust;
use crate::tls::dev_certificates;
use crate::workspace_keys::{TokenSigners, WorkspaceKeyFactory};
use crate::{bootstrap, housekeeping, http, listener, tls};

/// How long shutdown waits for the database to commit what was queued.
const SHUTDOWN_FLUSH_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A started server.
pub struct Running {
    pub http_addr: SocketAddr,
    pub https_addr: SocketAddr,
    /// The development CA clients should trust, when no certificate was given.
    pub dev_ca: Option<PathBuf>,
    pub state: ServerState,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, drains open connections, waits for the listeners to finish, and then
    /// for the database writer to commit what they queued.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        // Bounded: a database that does not answer must not keep the process from ending.
        match tokio::time::timeout(SHUTDOWN_FLUSH_LIMIT, self.state.app.store.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "writes queued before shutdown may be lost"),
            Err(_) => tracing::error!("the database did not take the writes queued before shutdown in time; they may be lost"),
        }
    }
}

/// Builds the state: opens and migrates the store and seeds the embedded default. Nothing is
/// bound yet, so tests can drive the router in-process.
pub async fn prepare(args: &ServeArgs, clock: Arc<dyn Clock>) -> anyhow::Result<ServerState> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let outbound_addresses = app::outbound::OutboundPolicy::parse_networks(&args.jwks_allowed_networks)
        .map(app::outbound::OutboundPolicy::allowing)
        .map_err(anyhow::Error::msg)
        .context("--jwks-allowed-networks")?;
    // Plain http to loopback key sets needs loopback reachable too.
    let outbound_addresses = if args.allow_insecure_jwks_uris { outbound_addresses.with_loopback() } else { outbound_addresses };
    let fetcher = Arc::new(app::outbound::Fetcher::new(outbound_addresses)?);
    let data_dir = &args.database.data_dir;
    // Readable by the owner only: it holds the development keys, the admin API key's file, the
    // key encryption key by default, and the SQLite database.
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    crate::sealing::warn_if_others_can_read(data_dir, "the data directory");

    let store = app::storage::connect(&args.database.url()).await.context("opening the database")?;
    store.migrate().await.context("migrating the database")?;
    let kek = Arc::new(key_encryption_key(&args.database, args.key_encryption_key_file.as_deref())?);
    bootstrap::seal_private_keys(store.as_ref(), &kek).await?;
    let public_url = public_url(&args.public_url)?;
    let leptos_options = LeptosOptions::builder()
        .output_name("console")
        .site_root(args.site_root.as_str())
        .site_pkg_dir("pkg")
        .env(Env::PROD)
        .site_addr(args.http_addr)
        .build();
    let metrics = Arc::new(app::metrics::Metrics::new().context("registering the metrics")?);
    let protocol = ProtocolParts {
        client_trust: Arc::new(ClientTrust::new(tls::provider())),
        token_signers: Arc::new(TokenSigners::new(kek.clone())),
        rate_limits: Arc::new(RateLimiters::default()),
        kek: kek.clone(),
        metrics_token: args.metrics_token.clone().map(|token| Arc::new(app::secrets::Secret::from_given(token).hash())),
    };
    let app = AppState {
        store,
        clock: clock.clone(),
        jwks: Arc::new(JwksClient::new(clock.clone(), args.allow_insecure_jwks_uris, fetcher.clone(), metrics.clone())),
        crls: Arc::new(CrlClient::new(fetcher, clock.clone(), metrics.clone())),
        metrics,
        deployment: Arc::new(Deployment {
            public_url: public_url.clone(),
            allow_insecure_jwks_uris: args.allow_insecure_jwks_uris,
            console_hosts: args.console_hosts.iter().map(|name| name.trim().to_ascii_lowercase()).collect(),
            console_idle: chrono::Duration::minutes(args.console_idle_minutes.into()),
            console_two_step_required: args.console_require_two_step,
            console_confirm: chrono::Duration::minutes(args.console_confirm_minutes.into()),
        }),
        signing_key_factory: Arc::new(WorkspaceKeyFactory { kek: kek.clone() }),
        policies: Arc::new(app::policy::PolicyCache::default()),
        rego: Arc::new(app::policy::RegoSandbox::new(policy_worker_program(args)?, policy_workers())),
        dry_run: Arc::new(PipelineDryRun { protocol: protocol.clone() }),
        sandbox_tpps: Arc::new(ConsoleSandboxTpps { protocol: protocol.clone() }),
        sign_in_rate: Arc::default(),
        sealer: kek.clone(),
        leptos_options,
    };
    bootstrap::seed(&app).await?;
    if args.sandbox_workspace {
        bootstrap::sandbox_workspace(&app).await?;
    }
    bootstrap::admin_api_key(&app, args.admin_api_key.as_deref(), data_dir).await?;
    bootstrap::administrator(&app, args.admin_email.as_deref(), args.admin_password.as_deref()).await?;
    Ok(ServerState::new(app, protocol))
}

/// The program policy workers run: the one `args` name, else this one. On Linux that is
/// `/proc/self/exe`, this very binary even once an upgrade has replaced its file (a worker of
/// the new release might not speak this one's protocol).
fn policy_worker_program(args: &ServeArgs) -> anyhow::Result<PathBuf> {
    let this = Path::new("/proc/self/exe");
    match &args.policy_worker_program {
        Some(program) => Ok(program.clone()),
        None if this.exists() => Ok(this.to_owned()),
        None => std::env::current_exe().context("finding this program, to run Rego policies in"),
    }
}

/// How many policy workers may run at once: one a core (an evaluation is CPU work).
fn policy_workers() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

/// The KEK `--key-encryption-key-file` names, or the data directory's (made on first start).
fn key_encryption_key(database: &DatabaseArgs, file: Option<&Path>) -> anyhow::Result<KeyEncryptionKey> {
    match file {
        Some(path) => KeyEncryptionKey::load_or_generate(path, false).context("--key-encryption-key-file"),
        None => KeyEncryptionKey::load_or_generate(&database.data_dir.join(bootstrap::KEY_ENCRYPTION_KEY_FILE), true),
    }
}

/// `onboard rekey`: every private key in the database sealed under the new KEK, recorded in the
/// administrators' activity when there were any. Returns how many keys it sealed.
pub async fn rekey(args: &RekeyArgs, clock: &dyn Clock) -> anyhow::Result<usize> {
    let store = app::storage::connect(&args.database.url()).await.context("opening the database")?;
    store.migrate().await.context("migrating the database")?;
    let current = key_encryption_key(&args.database, args.key_encryption_key_file.as_deref())?;
    let new =
        KeyEncryptionKey::load_or_generate(&args.new_key_encryption_key_file, true).context("--new-key-encryption-key-file")?;
    let sealed = bootstrap::seal_under(store.as_ref(), &new, Some(&current)).await?;
    if sealed > 0 {
        let detail = format!("{sealed} private keys sealed under key {} (was {})", new.id(), current.id());
        let rotated = Actor::Named(COMMAND_LINE_ACTOR).did(AdministratorEventType::KeyEncryptionKeyRotated, &detail, clock.now());
        app::services::activity::record(store.as_ref(), &rotated).await;
    }
    tracing::info!(
        keys = sealed,
        from = current.id(),
        to = new.id(),
        "private keys sealed under the new key encryption key; start every server with --key-encryption-key-file {}",
        args.new_key_encryption_key_file.display()
    );
    Ok(sealed)
}

/// Prepares the state, then binds both listeners and serves in the background.
pub async fn start(args: &ServeArgs, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    if let Some(refusal) = plain_listener_refusal(args.http_addr, args.listeners.behind_tls_proxy) {
        anyhow::bail!(refusal);
    }
    if let Some(refusal) = development_certificate_refusal(args.https_addr, args.tls_cert.is_some()) {
        anyhow::bail!(refusal);
    }
    let state = prepare(args, clock.clone()).await?;
    bootstrap::first_administrator(&state.app, &args.database.data_dir).await?;
    let public_url = state.app.deployment.public_url.clone();
    // An IPv6 host without its URL brackets, as certificates name it.
    let host = Url::parse(&public_url).ok().and_then(|u| {
        u.host().map(|host| match host {
            url::Host::Ipv6(ip) => ip.to_string(),
            other => other.to_string(),
        })
    });
    let (tls_config, dev_ca) = tls_config(args, host.as_deref(), clock.as_ref())?;
    let http_listener = TcpListener::bind(args.http_addr).await.with_context(|| format!("binding {}", args.http_addr))?;
    let https_listener = TcpListener::bind(args.https_addr).await.with_context(|| format!("binding {}", args.https_addr))?;
    let http_addr = http_listener.local_addr()?;
    let https_addr = https_listener.local_addr()?;

    let plain_transport = if args.listeners.behind_tls_proxy { http::Transport::BehindTlsProxy } else { http::Transport::Plain };
    let plain = http::Surface { transport: plain_transport, protocol_only: false };
    let https = http::Surface { transport: http::Transport::Tls, protocol_only: args.listeners.https_protocol_only };
    let (shutdown, stopped) = watch::channel(false);
    let tasks = vec![
        tokio::spawn(listener::serve(http_listener, None, http::router(state.clone(), plain), stopped.clone())),
        tokio::spawn(listener::serve(https_listener, Some(tls_config), http::router(state.clone(), https), stopped.clone())),
        tokio::spawn(housekeeping::run(state.clone(), housekeeping::Retention::of(args), stopped)),
    ];
    tracing::info!(%http_addr, %https_addr, %public_url, database = state.app.store.backend().as_str(), "Onboard is serving");
    Ok(Running { http_addr, https_addr, dev_ca, state, shutdown, tasks })
}

fn public_url(text: &str) -> anyhow::Result<String> {
    let url = Url::parse(text).with_context(|| format!("--public-url {text} is not an absolute URL"))?;
    if !matches!(url.scheme(), "https" | "http") || url.query().is_some() || url.fragment().is_some() {
        bail!("--public-url must be an http(s) URL without query or fragment");
    }
    if url.scheme() == "http" {
        tracing::warn!("--public-url uses plain http; TPPs need https with mutual TLS");
    }
    Ok(text.trim_end_matches('/').to_owned())
}

fn tls_config(
    args: &ServeArgs,
    public_host: Option<&str>,
    clock: &dyn Clock,
) -> anyhow::Result<(Arc<ServerConfig>, Option<PathBuf>)> {
    let (cert, key, dev_ca) = if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        (cert.clone(), key.clone(), None)
    } else {
        let dev = dev_certificates::ensure(&args.database.data_dir.join("tls"), public_host, clock.now())?;
        (dev.cert, dev.key, Some(dev.ca))
    };
    let chain = CertificateDer::pem_file_iter(&cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .with_context(|| format!("reading the certificate chain {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(&key).with_context(|| format!("reading the private key {}", key.display()))?;
    let config = tls::server_config(chain, key).context("building the TLS configuration")?;
    Ok((Arc::new(config), dev_ca))
}

/// Why the plain-HTTP listener may not listen on `addr`: it serves the console (its session
/// cookie), the admin API (its key) and the protocol endpoints (client secrets, tokens) without
/// TLS, so off a loopback address it must sit behind a proxy that terminates TLS, which
/// `--behind-tls-proxy` says. Failing to start is safer than a warning in a log nobody reads.
fn plain_listener_refusal(addr: std::net::SocketAddr, behind_tls_proxy: bool) -> Option<String> {
    (!addr.ip().is_loopback() && !behind_tls_proxy).then(|| {
        format!(
            "--http-addr {addr} would serve the console, the admin API and the protocol endpoints without TLS off this \
             host: bind it to a loopback address, or put it behind a proxy that terminates TLS and pass --behind-tls-proxy"
        )
    })
}

/// Why the HTTPS listener may not listen on `addr` with the development certificate made in
/// the data directory: its CA is one Onboard invented (its key is in that directory), which no
/// TPP should trust, so a listener others reach needs a real certificate (`--tls-cert`,
/// `--tls-key`). Without this, a deployment that forgot them would come up on a certificate
/// nobody can check, with a line in the log.
fn development_certificate_refusal(addr: std::net::SocketAddr, certificate_given: bool) -> Option<String> {
    (!addr.ip().is_loopback() && !certificate_given).then(|| {
        format!(
            "--https-addr {addr} is off this host, and no server certificate was given: pass --tls-cert and --tls-key \
             (the development certificate Onboard makes is for loopback addresses only)"
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_development_certificate_serves_loopback_only() {
        let addr = |text: &str| text.parse::<std::net::SocketAddr>().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(super::development_certificate_refusal(addr("127.0.0.1:8443"), false), None);
        assert_eq!(super::development_certificate_refusal(addr("[::1]:8443"), false), None);
        assert!(
            super::development_certificate_refusal(addr("0.0.0.0:8443"), false).is_some_and(|why| why.contains("--tls-cert"))
        );
        assert_eq!(super::development_certificate_refusal(addr("10.1.2.3:8443"), true), None);
    }

    #[test]
    fn the_plain_listener_stays_on_loopback_unless_a_tls_proxy_fronts_it() {
        let addr = |text: &str| text.parse::<std::net::SocketAddr>().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(super::plain_listener_refusal(addr("127.0.0.1:3000"), false), None);
        assert_eq!(super::plain_listener_refusal(addr("[::1]:3000"), false), None);
        assert!(super::plain_listener_refusal(addr("0.0.0.0:3000"), false).is_some_and(|why| why.contains("--behind-tls-proxy")));
        assert!(super::plain_listener_refusal(addr("10.1.2.3:3000"), false).is_some());
        assert_eq!(super::plain_listener_refusal(addr("0.0.0.0:3000"), true), None);
    }
}
