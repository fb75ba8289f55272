//! Shared pieces of the full-server tests: an Onboard server on random loopback ports, a
//! directory and a TPP with their own keys, a JWKS host for both, transport certificates from a
//! test CA, and HTTPS clients with and without a client certificate.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    clippy::unused_self,
    reason = "shared by several test crates, each using a part"
)]

mod process;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use app::clock::Clock as _;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use rcgen::DnType;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};

use app::clock::SystemClock;
use app::domain::sandbox::SoftwareDetails;
use onboard::cli::{DatabaseArgs, ServeArgs};
use onboard::oauth2::jose::JwsAlgorithm;
use onboard::pki::{CertificateAuthority, IssuedCertificate};
use onboard::startup::{self, Running};
use onboard::tpp::claims as tpp_claims;
use onboard::tpp::keys::SigningKey;
pub use process::OnboardProcess;

pub const ADMIN_KEY: &str = "test-admin-key-0123456789abcdef-0123456789";
pub const ADMIN_EMAIL: &str = "admin@bank.example";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";
pub const ORG_ID: &str = "0015800001HQQrZAAX";
pub const SOFTWARE_ID: &str = "oQ4KoaavpOuoE7rvQsZEOV";
pub const DIRECTORY: &str = "OpenBanking Ltd";
pub const WORKSPACE: &str = "/default/obuk";
/// The same workspace under the admin API (`/api/admin/v1/tenants` + this).
pub const ADMIN_WORKSPACE: &str = "/default/workspaces/obuk";

/// The real time, read through the one clock the server uses too.
pub fn now() -> DateTime<Utc> {
    SystemClock.now()
}

/// An Onboard server on random ports with its own data directory.
pub struct TestServer {
    pub backend: Backend,
    pub dir: tempfile::TempDir,
    pub http: String,
    pub https: String,
    pub dev_ca_pem: String,
}

/// Whether starting failed because a listener's port was taken.
fn is_address_in_use(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::AddrInUse))
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A server whose public URL is its own HTTPS listener, so the URLs its discovery document
    /// names can be called. A free port is picked first; as another test's listener may take it
    /// before the server binds it, a port found taken is given up for another.
    pub async fn start_public() -> Self {
        let mut attempts = 0;
        loop {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let started = Self::try_start_with(|args| {
                args.https_addr = format!("127.0.0.1:{port}").parse().unwrap();
                args.public_url = format!("https://localhost:{port}");
            })
            .await;
            attempts += 1;
            match started {
                Err(error) if attempts < 5 && is_address_in_use(&error) => {}
                started => return started.unwrap(),
            }
        }
    }

    pub async fn start_with(change: impl FnOnce(&mut ServeArgs)) -> Self {
        Self::try_start_with(change).await.unwrap()
    }

    /// [`Self::start_with`], on `clock`: a test moves time on where the server keeps it.
    pub async fn start_on_clock(clock: Arc<dyn app::clock::Clock>, change: impl FnOnce(&mut ServeArgs)) -> Self {
        Self::try_start_on(clock, change).await.unwrap()
    }

    async fn try_start_with(change: impl FnOnce(&mut ServeArgs)) -> anyhow::Result<Self> {
        Self::try_start_on(Arc::new(SystemClock), change).await
    }

    async fn try_start_on(clock: Arc<dyn app::clock::Clock>, change: impl FnOnce(&mut ServeArgs)) -> anyhow::Result<Self> {
        // Server logs go to the test's captured output, shown when a test fails.
        let _ = tracing_subscriber::fmt().with_env_filter("info").with_test_writer().try_init();
        let dir = tempfile::tempdir().unwrap();
        let mut args = serve_args(dir.path().to_owned());
        change(&mut args);
        let running = startup::start(&args, clock).await?;
        let dev_ca_pem = std::fs::read_to_string(running.dev_ca.as_ref().unwrap()).unwrap();
        Ok(Self {
            http: format!("http://{}", running.http_addr),
            https: format!("https://{}", running.https_addr),
            backend: Backend::InProcess(Box::new(running)),
            dir,
            dev_ca_pem,
        })
    }

    /// The same server as a separate `onboard` process, logging to `<dir>/onboard.log`.
    pub async fn spawn_with(change: impl FnOnce(&mut ServeArgs)) -> Self {
        Self::spawn_in(tempfile::tempdir().unwrap(), "onboard.log", change).await
    }

    /// An `onboard` process on the data in `dir` (a server's, once it has stopped), logging to
    /// `<dir>/<log>`.
    pub async fn spawn_in(dir: tempfile::TempDir, log: &str, change: impl FnOnce(&mut ServeArgs)) -> Self {
        let mut args = serve_args(dir.path().to_owned());
        change(&mut args);
        let process = OnboardProcess::spawn(&args, dir.path().join(log)).await;
        let dev_ca_pem = std::fs::read_to_string(dir.path().join("tls/dev-ca.pem")).unwrap();
        Self {
            http: format!("http://{}", process.http_addr),
            https: format!("https://{}", process.https_addr),
            backend: Backend::Process(process),
            dir,
            dev_ca_pem,
        }
    }

    /// The server's state, for tests that look inside an in-process server.
    pub fn running(&self) -> &Running {
        match &self.backend {
            Backend::InProcess(running) => running,
            Backend::Process(_) => panic!("a server in another process has no state to look at"),
        }
    }

    pub fn args(&self) -> ServeArgs {
        serve_args(self.dir.path().to_owned())
    }

    /// Administrators' activity of the types named, oldest first, each as
    /// `type | email or actor | detail`.
    pub async fn administrator_events(&self, types: &[&str]) -> Vec<String> {
        let url = format!("{}/api/admin/v1/administrator-events?limit=500", self.http);
        let (status, body) = decode(reqwest::Client::new().get(url).bearer_auth(ADMIN_KEY).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let text = |value: &Value| value.as_str().unwrap_or("-").to_owned();
        let mut events: Vec<String> = body["administrator_events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|event| types.contains(&event["event_type"].as_str().unwrap_or_default()))
            .map(|event| {
                let who = if event["email"].is_string() { &event["email"] } else { &event["actor"] };
                format!("{} | {} | {}", text(&event["event_type"]), text(who), text(&event["detail"]))
            })
            .collect();
        events.reverse();
        events
    }

    /// The admin API, over the plain listener.
    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request =
            reqwest::Client::new().request(method, format!("{}/api/admin/v1/tenants{path}", self.http)).bearer_auth(ADMIN_KEY);
        if let Some(body) = body {
            request = request.json(&body);
        }
        decode(request.send().await.unwrap()).await
    }

    pub async fn put_dcr(&self, settings: Value) {
        let (status, body) = self.admin(reqwest::Method::PUT, &format!("{ADMIN_WORKSPACE}/dcr"), Some(settings)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Creates workspace `id` (generic profile) with DCR switched on; returns its register URL.
    pub async fn generic_workspace_with_dcr(&self, id: &str) -> String {
        let (status, body) = self
            .admin(reqwest::Method::POST, "/default/workspaces", Some(json!({"id": id, "name": id, "profile": "generic"})))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (_, mut dcr) = self.admin(reqwest::Method::GET, &format!("/default/workspaces/{id}/dcr"), None).await;
        dcr["enabled"] = json!(true);
        let (status, body) = self.admin(reqwest::Method::PUT, &format!("/default/workspaces/{id}/dcr"), Some(dcr)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        format!("{}/default/{id}/oauth2/register", self.https)
    }

    pub async fn patch_workspace(&self, patch: Value) {
        self.patch_workspace_at(ADMIN_WORKSPACE, patch).await;
    }

    pub async fn patch_workspace_at(&self, admin_path: &str, patch: Value) {
        let (status, body) = self.admin(reqwest::Method::PATCH, admin_path, Some(patch)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// An HTTPS client that trusts the development CA, presenting `identity` if given.
    pub fn client(&self, identity: Option<&IssuedCertificate>) -> reqwest::Client {
        tls_client(&self.dev_ca_pem, identity)
    }

    pub fn register_url(&self) -> String {
        format!("{}{WORKSPACE}/openbankinguk/dcr/v3.2/register", self.https)
    }

    /// POSTs a registration body with a content type; returns status and JSON body.
    pub async fn register(
        &self,
        client: &reqwest::Client,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let response = client.post(self.register_url()).header("content-type", content_type).body(body).send().await.unwrap();
        decode(response).await
    }

    pub async fn audit_events(&self, query: &str) -> Vec<Value> {
        let (status, body) = self.admin(reqwest::Method::GET, &format!("{ADMIN_WORKSPACE}/audit-events{query}"), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["audit_events"].as_array().cloned().unwrap()
    }
}

/// Where a test server runs.
pub enum Backend {
    /// In the test's own process, on its runtime.
    InProcess(Box<Running>),
    /// As the `onboard` binary.
    Process(OnboardProcess),
}

pub fn serve_args(data_dir: PathBuf) -> ServeArgs {
    ServeArgs {
        database: DatabaseArgs { data_dir, database_url: None },
        http_addr: "127.0.0.1:0".parse().unwrap(),
        https_addr: "127.0.0.1:0".parse().unwrap(),
        public_url: "https://localhost:8443".to_owned(),
        tls_cert: None,
        tls_key: None,
        admin_api_key: Some(ADMIN_KEY.to_owned()),
        admin_email: Some(ADMIN_EMAIL.to_owned()),
        admin_password: Some(ADMIN_PASSWORD.to_owned()),
        allow_insecure_jwks_uris: true,
        listeners: onboard::cli::ListenerArgs::default(),
        jwks_allowed_networks: Vec::new(),
        console_hosts: Vec::new(),
        console_idle_minutes: 30,
        console_confirm_minutes: 15,
        console_require_two_step: false,
        metrics_token: None,
        key_encryption_key_file: None,
        sandbox_workspace: false,
        audit_retention_days: None,
        site_root: "target/site".to_owned(),
        // The tests serve from their own process: Rego policies run in the real binary.
        policy_worker_program: Some(PathBuf::from(env!("CARGO_BIN_EXE_onboard"))),
    }
}

/// A new, empty database on the PostgreSQL server of `ONBOARD_TEST_POSTGRES_URL` (as `make
/// test` starts one); `None` where there is none, unless `ONBOARD_REQUIRE_POSTGRES` is set.
pub async fn fresh_postgres_database(prefix: &str) -> Option<String> {
    use sqlx::Connection as _;
    let Ok(server) = std::env::var("ONBOARD_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("ONBOARD_REQUIRE_POSTGRES").is_err(),
            "ONBOARD_REQUIRE_POSTGRES is set but ONBOARD_TEST_POSTGRES_URL is not"
        );
        return None;
    };
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
    sqlx::query(&format!("create database {name}")).execute(&mut admin).await.unwrap();
    let base = server.rsplit_once('/').map_or(server.as_str(), |(base, _)| base);
    Some(format!("{base}/{name}"))
}

/// A server whose OBUK workspace trusts a new TPP ecosystem signing with `algorithm`.
#[allow(dead_code, reason = "each test crate uses its own part of the support module")]
pub async fn configured(algorithm: JwsAlgorithm) -> (TestServer, Ecosystem) {
    let server = TestServer::start().await;
    let ecosystem = Ecosystem::new(algorithm).await;
    ecosystem.configure(&server).await;
    (server, ecosystem)
}

pub async fn decode(response: reqwest::Response) -> (StatusCode, Value) {
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, body)
}

pub fn tls_client(ca_pem: &str, identity: Option<&IssuedCertificate>) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(certificate.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match identity {
        Some(identity) => {
            let chain = CertificateDer::pem_slice_iter(identity.cert_pem.as_bytes()).collect::<Result<Vec<_>, _>>().unwrap();
            let key = PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes()).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    reqwest::Client::builder().tls_backend_preconfigured(config).build().unwrap()
}

/// What the JWKS host serves, and how often each set was fetched.
#[derive(Default)]
pub struct Published {
    pub directory: Value,
    pub tpp: Value,
    pub tpp_fetches: usize,
    pub down: bool,
    /// How long the host takes to answer each request.
    pub delay: std::time::Duration,
}

/// The software of the conformance tool's examples.
fn software() -> SoftwareDetails {
    SoftwareDetails {
        software_id: SOFTWARE_ID.to_owned(),
        org_id: ORG_ID.to_owned(),
        org_name: Some("Budget Planner Ltd".to_owned()),
        client_name: "Example TPP (Sandbox)".to_owned(),
        roles: ["AISP", "PISP", "CBPII"].map(str::to_owned).to_vec(),
        redirect_uris: vec!["https://tpp.example.com/callback".to_owned()],
    }
}

/// A directory, a TPP and the plain-http loopback host publishing their key sets.
pub struct Ecosystem {
    pub directory_key: SigningKey,
    pub tpp_key: SigningKey,
    pub transport_ca: CertificateAuthority,
    pub transport: IssuedCertificate,
    pub published: Arc<Mutex<Published>>,
    pub jwks_host: SocketAddr,
}

impl Ecosystem {
    pub async fn new(tpp_algorithm: JwsAlgorithm) -> Self {
        let directory_key = SigningKey::generate(JwsAlgorithm::Ps256, "directory-1").unwrap();
        let tpp_key = SigningKey::generate(tpp_algorithm, "tpp-sig-1").unwrap();
        let transport_ca = CertificateAuthority::generate("Test Transport CA", now()).unwrap();
        let transport = transport_ca
            .issue_client(
                &[
                    (DnType::CommonName, SOFTWARE_ID),
                    (DnType::OrganizationalUnitName, ORG_ID),
                    (DnType::OrganizationName, "OpenBanking"),
                    (DnType::CountryName, "GB"),
                ],
                now(),
            )
            .unwrap();
        let published = Arc::new(Mutex::new(Published {
            directory: directory_key.public_jwks(),
            tpp: tpp_key.public_jwks(),
            ..Published::default()
        }));
        let jwks_host = serve_jwks(published.clone()).await;
        Self { directory_key, tpp_key, transport_ca, transport, published, jwks_host }
    }

    pub fn directory_jwks_uri(&self) -> String {
        format!("http://{}/directory.jwks", self.jwks_host)
    }

    pub fn tpp_jwks_uri(&self) -> String {
        format!("http://{}/tpp/{SOFTWARE_ID}.jwks", self.jwks_host)
    }

    /// The DCR settings of a fully protected Open Banking UK workspace trusting this directory.
    pub fn dcr_settings(&self) -> Value {
        json!({
            "enabled": true,
            "require_software_statement": true,
            "software_statement_issuers": [{"issuer": DIRECTORY, "keys": {"jwks_uri": self.directory_jwks_uri()}}],
            "require_signed_request": true,
            "request_signing_keys": "software_statement",
            "require_mtls": true
        })
    }

    /// General settings: the bank's org id and the TPP transport CA.
    pub fn workspace_settings(&self) -> Value {
        json!({"org_id": ORG_ID, "trusted_client_ca_pem": self.transport_ca.cert_pem()})
    }

    /// The statement the conformance tool's directory signs: the built-in TPP toolkit's claims
    /// for this software, with that directory's names.
    pub fn ssa_claims(&self) -> Value {
        let issued = now() - chrono::Duration::seconds(60);
        let mut claims = tpp_claims::software_statement(&software(), DIRECTORY, Some(&self.tpp_jwks_uri()), issued);
        let directory_names = json!({
            "org_name": "EXAMPLE TPP LIMITED",
            "organisation_competent_authority_claims": {
                "authority_id": "OBGBR", "registration_id": "Unknown0015800001HQQrZAAX", "status": "Active",
                "authorisations": [{"member_state": "GB", "roles": ["PISP", "AISP", "CBPII"]}]
            }
        });
        tpp_claims::apply_overrides(&mut claims, directory_names.as_object().unwrap());
        claims
    }

    pub fn ssa(&self) -> String {
        self.directory_key.sign(&self.ssa_claims()).unwrap()
    }

    /// The claims the conformance tool sends for `tls_client_auth` (OBUK-DCR.md §3.4): the
    /// toolkit's request, with the tool's lifetime, grant types and response types.
    pub fn request_claims(&self, ssa: &str) -> Value {
        let subject_dn = format!("CN={SOFTWARE_ID},OU={ORG_ID},O=OpenBanking,C=GB");
        let ask = tpp_claims::RegistrationAsk {
            audience: ORG_ID,
            token_endpoint_auth_method: "tls_client_auth",
            subject_dn: &subject_dn,
            algorithm: "PS256",
            scope: "accounts openid",
        };
        let mut claims = tpp_claims::registration_request(&software(), ssa, &ask, now());
        let tool = json!({
            "exp": now().timestamp() + 3600,
            "grant_types": ["authorization_code", "client_credentials"],
            "response_types": ["code id_token", "code"]
        });
        tpp_claims::apply_overrides(&mut claims, tool.as_object().unwrap());
        claims
    }

    /// A signed registration request with `change` applied to the tool's claims.
    pub fn request_with(&self, change: impl FnOnce(&mut Value)) -> String {
        let mut claims = self.request_claims(&self.ssa());
        change(&mut claims);
        self.tpp_key.sign(&claims).unwrap()
    }

    pub fn request(&self) -> String {
        self.request_with(|_| {})
    }

    /// Configures `server`'s default workspace to trust this ecosystem, with DCR on.
    pub async fn configure(&self, server: &TestServer) {
        server.patch_workspace(self.workspace_settings()).await;
        server.put_dcr(self.dcr_settings()).await;
    }

    pub fn tpp_fetches(&self) -> usize {
        self.published.lock().unwrap().tpp_fetches
    }
}

async fn serve_jwks(published: Arc<Mutex<Published>>) -> SocketAddr {
    async fn directory(State(published): State<Arc<Mutex<Published>>>) -> impl IntoResponse {
        let delay = published.lock().unwrap().delay;
        tokio::time::sleep(delay).await;
        let published = published.lock().unwrap();
        if published.down {
            return (StatusCode::SERVICE_UNAVAILABLE, Json(Value::Null));
        }
        (StatusCode::OK, Json(published.directory.clone()))
    }
    async fn tpp(State(published): State<Arc<Mutex<Published>>>, Path(_): Path<String>) -> impl IntoResponse {
        let delay = published.lock().unwrap().delay;
        tokio::time::sleep(delay).await;
        let mut published = published.lock().unwrap();
        if published.down {
            return (StatusCode::SERVICE_UNAVAILABLE, Json(Value::Null));
        }
        published.tpp_fetches += 1;
        (StatusCode::OK, Json(published.tpp.clone()))
    }
    let router = axum::Router::new()
        .route("/directory.jwks", axum::routing::get(directory))
        .route("/tpp/{file}", axum::routing::get(tpp))
        .with_state(published);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// Asserts an RFC 7591 error body: exactly `error` and `error_description` (the conformance
/// tool's fork decodes it with unknown fields forbidden).
pub fn assert_registration_error(status: StatusCode, body: &Value, expected_status: StatusCode, expected_error: &str) {
    assert_eq!(status, expected_status, "{body}");
    let object = body.as_object().unwrap_or_else(|| panic!("not a JSON object: {body}"));
    let mut members: Vec<&str> = object.keys().map(String::as_str).collect();
    members.sort_unstable();
    assert_eq!(members, ["error", "error_description"], "{body}");
    assert_eq!(body["error"], expected_error, "{body}");
}

impl Ecosystem {
    /// Registers the tool's `tls_client_auth` client (with `change` applied); returns the 201 body.
    pub async fn register(&self, server: &TestServer, change: impl FnOnce(&mut Value)) -> Value {
        let client = server.client(Some(&self.transport));
        let (status, body) = server.register(&client, "application/jose", self.request_with(change)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// A `private_key_jwt` assertion as the conformance tool signs it: no `kid`, `aud` = the
    /// token endpoint, `exp` = `iat` + 30 minutes.
    pub fn client_assertion(&self, client_id: &str, audience: &str) -> String {
        let now = now().timestamp();
        let claims = json!({"iss": client_id, "sub": client_id, "aud": audience, "iat": now, "exp": now + 1800, "jti": uuid::Uuid::new_v4().to_string()});
        let alg = self.tpp_key.algorithm().as_str();
        self.tpp_key.sign_with_header(&json!({"alg": alg, "typ": "JWT"}), &claims).unwrap()
    }
}

impl TestServer {
    pub fn token_url(&self) -> String {
        format!("{}{WORKSPACE}/oauth2/token", self.https)
    }

    /// POSTs a token request form; returns status, body and the response headers.
    pub async fn token(
        &self,
        client: &reqwest::Client,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let mut request = client.post(self.token_url()).form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        let response = request.send().await.unwrap();
        let headers = response.headers().clone();
        let (status, body) = decode(response).await;
        (status, body, headers)
    }
}

/// The claims of a JWT, without verifying it (the tests verify separately where it matters).
pub fn jwt_claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// A signed-in console administrator, calling server functions as the browser does.
pub struct ConsoleSession {
    pub base: String,
    pub client: reqwest::Client,
    pub cookie: String,
}

impl ConsoleSession {
    pub async fn sign_in(server: &TestServer) -> Self {
        Self::sign_in_with(server, None).await
    }

    /// Signs in with a `code` from the administrator's authenticator app too (two-step
    /// sign-in on).
    pub async fn sign_in_with_code(server: &TestServer, code: &str) -> Self {
        Self::sign_in_with(server, Some(code)).await
    }

    async fn sign_in_with(server: &TestServer, code: Option<&str>) -> Self {
        let base = server.http.clone();
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut form = vec![("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)];
        form.extend(code.map(|code| ("code", code)));
        let response = client
            .post(format!("{base}/app/fn/sign_in"))
            .header(reqwest::header::ORIGIN, &base)
            .header("accept", "application/json")
            .form(&form)
            .send()
            .await
            .unwrap();
        let cookie = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.starts_with("onboard_session=").then(|| v.split(';').next().unwrap().to_owned()))
            .expect("a session cookie");
        Self { base, client, cookie }
    }

    /// A server function with form-encoded arguments.
    pub async fn call(&self, function: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let request = self.post(function).form(form);
        decode(request.send().await.unwrap()).await
    }

    /// A server function with JSON arguments (`input = Json`).
    pub async fn call_json(&self, function: &str, arguments: &Value) -> (StatusCode, Value) {
        decode(self.post(function).json(arguments).send().await.unwrap()).await
    }

    fn post(&self, function: &str) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}/app/fn/{function}", self.base))
            .header(reqwest::header::ORIGIN, &self.base)
            .header(reqwest::header::COOKIE, &self.cookie)
    }

    /// A GET of a console address with the session.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).header(reqwest::header::COOKIE, &self.cookie).send().await.unwrap()
    }
}
