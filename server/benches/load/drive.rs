//! The server under test, its workspace, and the closed-loop runs: `conc` connections each
//! sending its next request as soon as the last one is answered, for `secs` seconds.

use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use app::clock::{Clock as _, SystemClock};
use axum::body::Bytes;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::Serialize;
use serde_json::{Value, json};

use super::Args;
use super::fixtures::{Fixtures, presign};
use super::wire::{Connection, Endpoint, Shape};

const ADMIN_KEY: &str = "bench-admin-key-0123456789abcdef-0123456789";
const WORKSPACE: &str = "bench";
const CLIENT_ASSERTION_TYPE: &str = "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer";
/// A guess at the rate before a scenario's first run at a concurrency, to size its pool.
const FIRST_GUESS_PER_SECOND: f64 = 4000.0;
const WARM_UP: Duration = Duration::from_secs(2);

/// One measured run.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub scenario: &'static str,
    pub conc: usize,
    pub run: usize,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: usize,
    pub errors: usize,
    /// The pool of pre-signed requests ran out before the time did.
    pub exhausted: bool,
    pub server_cpu_cores: f64,
    pub loadgen_cpu_cores: f64,
    pub peak_rss_mb: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Registration,
    TokenPrivateKeyJwt,
    TokenTlsClientAuth,
    GetRegistration,
}

impl Scenario {
    pub const ALL: [Self; 4] = [Self::Registration, Self::TokenPrivateKeyJwt, Self::TokenTlsClientAuth, Self::GetRegistration];

    pub fn name(self) -> &'static str {
        match self {
            Self::Registration => "reg-obuk",
            Self::TokenPrivateKeyJwt => "token-pkjwt",
            Self::TokenTlsClientAuth => "token-tls",
            Self::GetRegistration => "get-client",
        }
    }

    /// What the table calls it.
    pub fn title(self) -> &'static str {
        match self {
            Self::Registration => "OBUK registration (PS256 request + PS256 SSA, mTLS, durable)",
            Self::TokenPrivateKeyJwt => "token, client_credentials, private_key_jwt (PS256), PS256 JWT",
            Self::TokenTlsClientAuth => "token, client_credentials, tls_client_auth, PS256 JWT",
            Self::GetRegistration => "GET registration (registration access token)",
        }
    }

    /// The peer's scenario this one is measured against.
    pub fn peer(self) -> Option<&'static str> {
        match self {
            Self::Registration => Some("reg-ob-jws"),
            Self::TokenPrivateKeyJwt => Some("token-pkjwt-jwt"),
            Self::TokenTlsClientAuth => None,
            Self::GetRegistration => Some("get-client"),
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The server under test, stopped when dropped.
struct Server {
    child: Child,
    data: std::path::PathBuf,
    http: String,
    https_port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Server {
    fn start(args: &Args) -> anyhow::Result<Self> {
        let data = args.work_dir.join("onboard-data");
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data)?;
        let (http_port, https_port) = (free_port()?, free_port()?);
        let log = std::fs::File::create(args.work_dir.join("onboard.log"))?;
        let mut command = Command::new(&args.server_bin);
        command
            .arg("serve")
            .arg("--data-dir")
            .arg(&data)
            .args(["--http-addr", &format!("127.0.0.1:{http_port}")])
            .args(["--https-addr", &format!("127.0.0.1:{https_port}")])
            .args(["--public-url", &format!("https://localhost:{https_port}")])
            .args(["--admin-api-key", ADMIN_KEY])
            .arg("--site-root")
            .arg(data.join("site"))
            .stdout(log.try_clone()?)
            .stderr(log);
        if let Some(url) = &args.database_url {
            command.args(["--database-url", url]);
        }
        let child = command.spawn().with_context(|| format!("starting {}", args.server_bin.display()))?;
        let server = Self { child, data, http: format!("http://127.0.0.1:{http_port}"), https_port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", https_port)).is_err() {
            if Instant::now() > deadline {
                bail!("the server did not start; see onboard.log");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn origin(&self) -> String {
        format!("https://localhost:{}", self.https_port)
    }

    async fn admin(&self, method: reqwest::Method, path: &str, body: &Value) -> anyhow::Result<Value> {
        let url = format!("{}/api/admin/v1/tenants/default{path}", self.http);
        let response = reqwest::Client::new().request(method, &url).bearer_auth(ADMIN_KEY).json(body).send().await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{path}: {status}: {body}");
        }
        Ok(body)
    }
}

/// Seconds of CPU a process has used (user and system), from `/proc`.
fn cpu_seconds(pid: &str) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default().split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Ok((ticks(11) + ticks(12)) / 100.0)
}

/// The most memory the process has held, in MB (`VmHWM`).
fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// What the runs need besides the server: the TPP's HTTPS client and the clients registered
/// for the token and GET scenarios.
struct Setup {
    fixtures: Fixtures,
    origin: String,
    issuer: String,
    token_path: String,
    register_path: String,
    pkjwt_client: String,
    tls_client: String,
    tls_client_path: String,
    registration_access_token: String,
}

impl Setup {
    async fn new(server: &Server) -> anyhow::Result<Self> {
        let fixtures = tokio::task::spawn_blocking(|| Fixtures::new(SystemClock.now())).await??;
        server
            .admin(reqwest::Method::POST, "/workspaces", &json!({"id": WORKSPACE, "name": "Bench", "profile": "openbanking_uk"}))
            .await?;
        let at = format!("/workspaces/{WORKSPACE}");
        server.admin(reqwest::Method::PATCH, &at, &fixtures.workspace_settings()).await?;
        server.admin(reqwest::Method::PUT, &format!("{at}/dcr"), &fixtures.dcr_settings()).await?;
        let origin = server.origin();
        let base = format!("/default/{WORKSPACE}");
        let mut setup = Self {
            issuer: format!("{origin}{base}"),
            token_path: format!("{base}/oauth2/token"),
            register_path: format!("{base}/openbankinguk/dcr/v3.2/register"),
            origin,
            fixtures,
            pkjwt_client: String::new(),
            tls_client: String::new(),
            tls_client_path: String::new(),
            registration_access_token: String::new(),
        };
        let tls = setup.tls_config(server)?;
        let localhost = std::net::SocketAddr::from(([127, 0, 0, 1], server.https_port));
        let client = reqwest::Client::builder().tls_backend_preconfigured(tls).resolve("localhost", localhost).build()?;
        let pkjwt = setup.register_one(&client, true).await?;
        let tls = setup.register_one(&client, false).await?;
        let text =
            |value: &Value, name: &str| value[name].as_str().map(str::to_owned).ok_or_else(|| anyhow!("no {name} in {value}"));
        setup.pkjwt_client = text(&pkjwt, "client_id")?;
        setup.tls_client = text(&tls, "client_id")?;
        let uri = text(&tls, "registration_client_uri")?;
        setup.tls_client_path = uri.strip_prefix(&setup.origin).ok_or_else(|| anyhow!("{uri} is not on the server"))?.to_owned();
        setup.registration_access_token = text(&tls, "registration_access_token")?;
        Ok(setup)
    }

    /// The TPP's TLS configuration: the server's development CA, and the TPP's transport
    /// certificate as its client certificate.
    fn tls_config(&self, server: &Server) -> anyhow::Result<rustls::ClientConfig> {
        let dev_ca = std::fs::read(server.data.join("tls/dev-ca.pem"))?;
        let mut roots = rustls::RootCertStore::empty();
        for certificate in CertificateDer::pem_slice_iter(&dev_ca) {
            roots.add(certificate?)?;
        }
        let chain = CertificateDer::pem_slice_iter(self.fixtures.transport.cert_pem.as_bytes()).collect::<Result<Vec<_>, _>>()?;
        let key = PrivateKeyDer::from_pem_slice(self.fixtures.transport.key_pem.as_bytes())?;
        Ok(rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)?)
    }

    /// Where the measured requests go, over the TPP's mutual TLS.
    fn endpoint(&self, server: &Server) -> anyhow::Result<Endpoint> {
        Endpoint::new(self.tls_config(server)?, server.https_port)
    }

    async fn register_one(&self, client: &reqwest::Client, private_key_jwt: bool) -> anyhow::Result<Value> {
        let body = self.fixtures.registration(&self.issuer, private_key_jwt, SystemClock.now())?;
        let url = format!("{}{}", self.origin, self.register_path);
        let response = client.post(&url).header(CONTENT_TYPE, "application/jose").body(body).send().await?;
        let status = response.status();
        let answer: Value = response.json().await?;
        if status.as_u16() != 201 {
            bail!("setting up: registration answered {status}: {answer}");
        }
        Ok(answer)
    }

    /// How `scenario`'s requests look, and (for those that need one each) a pool of `count`.
    fn work(&self, scenario: Scenario, count: usize) -> anyhow::Result<(Shape, Vec<String>)> {
        let now = SystemClock.now();
        Ok(match scenario {
            Scenario::Registration => {
                let (fixtures, issuer) = (&self.fixtures, self.issuer.as_str());
                let pool = presign(count, || fixtures.registration(issuer, false, now))?;
                (Shape::Post { path: self.register_path.clone(), content_type: "application/jose" }, pool)
            }
            Scenario::TokenPrivateKeyJwt => {
                let (fixtures, client) = (&self.fixtures, self.pkjwt_client.as_str());
                let audience = format!("{}{}", self.origin, self.token_path);
                let pool = presign(count, || {
                    let assertion = fixtures.assertion(client, &audience, now)?;
                    Ok(format!(
                        "grant_type=client_credentials&client_assertion_type={CLIENT_ASSERTION_TYPE}&client_assertion={assertion}"
                    ))
                })?;
                (Shape::Post { path: self.token_path.clone(), content_type: "application/x-www-form-urlencoded" }, pool)
            }
            Scenario::TokenTlsClientAuth => (
                Shape::Post { path: self.token_path.clone(), content_type: "application/x-www-form-urlencoded" },
                vec![format!("grant_type=client_credentials&client_id={}", self.tls_client)],
            ),
            Scenario::GetRegistration => {
                let authorization = HeaderValue::try_from(format!("Bearer {}", self.registration_access_token))?;
                (Shape::Get { path: self.tls_client_path.clone(), authorization }, Vec::new())
            }
        })
    }
}

pub async fn run(args: &Args) -> anyhow::Result<Vec<Row>> {
    std::fs::create_dir_all(&args.work_dir)?;
    let scenarios = if args.scenarios.is_empty() {
        Scenario::ALL.to_vec()
    } else {
        args.scenarios
            .iter()
            .map(|name| Scenario::parse(name).ok_or_else(|| anyhow!("no scenario {name}")))
            .collect::<Result<_, _>>()?
    };
    let server = Server::start(args)?;
    let setup = Setup::new(&server).await?;
    let mut rows = Vec::new();
    for scenario in scenarios {
        let mut rate = std::collections::HashMap::new();
        warm_up(&server, &setup, scenario).await?;
        for &conc in &args.conc {
            let endpoint = setup.endpoint(&server)?;
            let mut run = 1;
            while run <= args.runs {
                let guess = rate.get(&conc).copied().unwrap_or(FIRST_GUESS_PER_SECOND);
                let count = (guess * 1.5 * args.secs as f64) as usize + conc;
                let (shape, pool) = tokio::task::block_in_place(|| setup.work(scenario, count))?;
                let mut row = measure(&endpoint, &shape, pool, conc, Duration::from_secs(args.secs), server.pid()).await?;
                row.scenario = scenario.name();
                row.run = run;
                // A run that used up a pool sized by a guess is shorter than the others: it is
                // run again with a pool sized by the rate it measured.
                let guessed = !rate.contains_key(&conc);
                rate.insert(conc, row.rps.max(1.0));
                if row.exhausted && guessed {
                    eprintln!("{} c={conc} run {run}: the first guess of the rate was low; running it again", row.scenario);
                    continue;
                }
                eprintln!(
                    "{} c={conc} run {run}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, errors {}, server CPU {:.2} cores, loadgen {:.2}, peak RSS {:.0} MB{}",
                    row.scenario,
                    row.rps,
                    row.p50_ms,
                    row.p99_ms,
                    row.errors,
                    row.server_cpu_cores,
                    row.loadgen_cpu_cores,
                    row.peak_rss_mb,
                    if row.exhausted { " (pool ran out)" } else { "" }
                );
                rows.push(row);
                run += 1;
            }
        }
    }
    Ok(rows)
}

async fn warm_up(server: &Server, setup: &Setup, scenario: Scenario) -> anyhow::Result<()> {
    let endpoint = setup.endpoint(server)?;
    let (shape, pool) = tokio::task::block_in_place(|| setup.work(scenario, 4000))?;
    measure(&endpoint, &shape, pool, 16, WARM_UP, server.pid()).await?;
    Ok(())
}

/// One closed-loop run: `conc` workers, each on a connection of its own opened before the
/// clock starts, share the pool (each body used once; a pool of one is the same body every
/// time) until `length` has passed or the pool is used up.
async fn measure(
    endpoint: &Endpoint,
    shape: &Shape,
    pool: Vec<String>,
    conc: usize,
    length: Duration,
    server_pid: u32,
) -> anyhow::Result<Row> {
    let pool: Arc<Vec<Bytes>> = Arc::new(pool.into_iter().map(Bytes::from).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let mut connections = Vec::with_capacity(conc);
    for _ in 0..conc {
        connections.push(Connection::open(endpoint).await?);
    }
    let (server_cpu, own_cpu) = (cpu_seconds(&server_pid.to_string())?, cpu_seconds("self")?);
    let started = Instant::now();
    let workers: Vec<_> = connections
        .into_iter()
        .map(|connection| {
            let (endpoint, shape, pool, next) = (endpoint.clone(), shape.clone(), pool.clone(), next.clone());
            tokio::spawn(async move { worker(connection, &endpoint, &shape, &pool, &next, started + length).await })
        })
        .collect();
    let mut latencies = Vec::new();
    let (mut errors, mut exhausted) = (0, false);
    for worker in workers {
        let outcome = worker.await?;
        latencies.extend(outcome.latencies);
        errors += outcome.errors;
        exhausted |= outcome.exhausted;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (server_cpu, own_cpu) = (cpu_seconds(&server_pid.to_string())? - server_cpu, cpu_seconds("self")? - own_cpu);
    latencies.sort_unstable();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1);
        latencies.get(index).map_or(0.0, |us| f64::from(*us) / 1000.0)
    };
    Ok(Row {
        scenario: "",
        conc,
        run: 0,
        rps: latencies.len() as f64 / elapsed,
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        requests: latencies.len(),
        errors,
        exhausted,
        server_cpu_cores: server_cpu / elapsed,
        loadgen_cpu_cores: own_cpu / elapsed,
        peak_rss_mb: peak_rss_mb(server_pid),
    })
}

struct Outcome {
    latencies: Vec<u32>,
    errors: usize,
    exhausted: bool,
}

/// Sends requests on `connection` until `until`; a connection that breaks counts as an error
/// and is opened again.
async fn worker(
    connection: Connection,
    endpoint: &Endpoint,
    shape: &Shape,
    pool: &[Bytes],
    next: &AtomicUsize,
    until: Instant,
) -> Outcome {
    let mut outcome = Outcome { latencies: Vec::new(), errors: 0, exhausted: false };
    let mut connection = Some(connection);
    while Instant::now() < until {
        let body = match (shape, pool) {
            (Shape::Get { .. }, _) => None,
            (Shape::Post { .. }, [only]) => Some(only.clone()),
            (Shape::Post { .. }, _) => {
                let Some(body) = pool.get(next.fetch_add(1, Ordering::Relaxed)) else {
                    outcome.exhausted = true;
                    break;
                };
                Some(body.clone())
            }
        };
        let sent = Instant::now();
        let answered = match connection.as_mut() {
            Some(open) => open.send(endpoint, shape, body).await,
            None => match Connection::open(endpoint).await {
                Ok(open) => connection.insert(open).send(endpoint, shape, body).await,
                Err(error) => Err(error),
            },
        };
        let micros = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX);
        match answered {
            Ok(true) => outcome.latencies.push(micros),
            Ok(false) => outcome.errors += 1,
            Err(_) => {
                outcome.errors += 1;
                connection = None;
            }
        }
    }
    outcome
}
