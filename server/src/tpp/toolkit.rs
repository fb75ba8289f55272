//! `onboard tpp`: the calls a TPP makes with its bundle. Every failure names the step that
//! failed and, when a server answered, its `error` and `error_description`.

use std::path::Path;

use anyhow::{Context as _, anyhow, bail};
use reqwest::header::CONTENT_TYPE;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use app::clock::{Clock as _, SystemClock};
use app::domain::sandbox::{Enrolment, EnrolmentRequest, IssuedStatement, SoftwareDetails};

use super::bundle::{self, Bundle, NewKeys, RequestOptions, SSA_FILE};
use super::claims;
use super::keys::SigningKey;
use crate::cli::{TppCommand, TppInitArgs, TppRequestArgs, TppSsaArgs, TppTlsArgs};

const CLIENT_FILE: &str = "client.json";
const JOSE: &str = "application/jose";
const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// How long a token request's client assertion is valid for.
const ASSERTION_LIFETIME_SECONDS: i64 = 60;

/// `client.json`: a registered client, as `register` keeps it for the commands that follow.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Registered {
    client_id: String,
    issuer: String,
    token_endpoint: String,
    token_endpoint_auth_method: String,
    scope: Option<String>,
    registration_client_uri: Option<String>,
    registration_access_token: Option<String>,
}

impl Registered {
    fn read(dir: &Path) -> anyhow::Result<Self> {
        let text = bundle::read_file(dir, CLIENT_FILE).context("register first: the bundle has no client")?;
        serde_json::from_str(&text).with_context(|| format!("reading {CLIENT_FILE}"))
    }

    /// Keeps it, owner-readable only: it holds the registration access token.
    fn write(&self, dir: &Path) -> anyhow::Result<()> {
        bundle::write_file(dir, CLIENT_FILE, &serde_json::to_string_pretty(self)?, true)
    }

    /// Takes what a registration (or its update) answered.
    fn absorb(&mut self, answer: &Value) {
        let text = |name: &str| answer[name].as_str().map(str::to_owned);
        self.scope = text("scope").or(self.scope.take());
        if let Some(method) = text("token_endpoint_auth_method") {
            self.token_endpoint_auth_method = method;
        }
        self.registration_client_uri = text("registration_client_uri").or(self.registration_client_uri.take());
        self.registration_access_token = text("registration_access_token").or(self.registration_access_token.take());
    }

    fn management_uri(&self) -> anyhow::Result<&str> {
        self.registration_client_uri.as_deref().ok_or_else(|| anyhow!("the registration answer named no registration_client_uri"))
    }
}

pub async fn run(command: TppCommand) -> anyhow::Result<()> {
    match command {
        TppCommand::Init(args) => init(&args).await,
        TppCommand::Ssa(args) => ssa(&args).await,
        TppCommand::Request { dir, audience, request } => {
            let options = request_options(&request)?;
            println!("{}", Bundle::read(&dir)?.registration_request(&audience, &options, SystemClock.now())?);
            Ok(())
        }
        TppCommand::Register { dir, discovery, tls, request } => register(&dir, &discovery, &tls, &request).await,
        TppCommand::Token { dir, scope, tls } => {
            print(&token(&dir, scope.as_deref(), &tls).await?);
            Ok(())
        }
        TppCommand::Get { dir, tls } => manage(&dir, &tls, Management::Get).await,
        TppCommand::Update { dir, tls, request } => manage(&dir, &tls, Management::Update(request_options(&request)?)).await,
        TppCommand::Delete { dir, tls } => manage(&dir, &tls, Management::Delete).await,
    }
}

async fn init(args: &TppInitArgs) -> anyhow::Result<()> {
    let details = SoftwareDetails {
        software_id: args.software_id.clone(),
        org_id: args.org_id.clone(),
        org_name: Some(args.org_name.clone()),
        client_name: args.client_name.clone(),
        roles: args.roles.iter().map(|role| role.trim().to_ascii_uppercase()).collect(),
        redirect_uris: args.redirect_uri.clone(),
    };
    details.check().map_err(|e| anyhow!("--{}: {}", e.field.replace('_', "-"), e.message))?;
    let algorithm = args.alg.jws();
    let keys = tokio::task::spawn_blocking(move || NewKeys::generate(details, algorithm)).await??;
    let bundle = match &args.sandbox {
        Some(server) => {
            let key = admin_key(args.admin_api_key.as_deref())?;
            let enrolment: Enrolment = enrol(server, &args.tenant, key, &keys.enrolment_request(), &args.tls).await?;
            keys.enrolled(enrolment)?
        }
        None => keys.self_signed(SystemClock.now())?,
    };
    bundle.write(&args.dir)?;
    println!("TPP bundle written to {}", args.dir.display());
    if args.sandbox.is_none() {
        println!(
            "The transport certificate is self-signed and there is no software statement: enrol with --sandbox for both, or sign one with `onboard tpp ssa --key`."
        );
    }
    Ok(())
}

fn admin_key(given: Option<&str>) -> anyhow::Result<&str> {
    given.ok_or_else(|| anyhow!("--sandbox needs --admin-api-key (or ONBOARD_ADMIN_API_KEY)"))
}

/// Asks the sandbox directory of `server` to enrol the software.
async fn enrol(server: &str, tenant: &str, key: &str, request: &EnrolmentRequest, tls: &TppTlsArgs) -> anyhow::Result<Enrolment> {
    let url = format!("{}/api/admin/v1/tenants/{tenant}/sandbox/software", server.trim_end_matches('/'));
    let response = sandbox_client(tls)?.post(&url).bearer_auth(key).json(request).send().await;
    let answer = answer("enrolling with the sandbox directory", response).await?;
    serde_json::from_value(answer).context("enrolling with the sandbox directory: an unexpected answer")
}

async fn ssa(args: &TppSsaArgs) -> anyhow::Result<()> {
    let mut bundle = Bundle::read(&args.dir)?;
    let statement = match (&args.sandbox, &args.key) {
        (Some(server), _) => {
            let key = admin_key(args.admin_api_key.as_deref())?;
            let url = format!(
                "{}/api/admin/v1/tenants/{}/sandbox/software/{}/statements",
                server.trim_end_matches('/'),
                args.tenant,
                bundle.software.details.software_id
            );
            let response = sandbox_client(&args.tls)?.post(&url).bearer_auth(key).send().await;
            let issued: IssuedStatement = serde_json::from_value(answer("asking the sandbox directory", response).await?)
                .context("asking the sandbox directory: an unexpected answer")?;
            issued.software_statement
        }
        (None, Some(key_file)) => {
            let pem = std::fs::read_to_string(key_file).with_context(|| format!("reading {}", key_file.display()))?;
            let key = SigningKey::from_pem(args.alg.jws(), &args.kid, &pem)?;
            let issuer = args.issuer.as_deref().ok_or_else(|| anyhow!("--key needs --issuer"))?;
            let mut statement =
                claims::software_statement(&bundle.software.details, issuer, args.jwks_endpoint.as_deref(), SystemClock.now());
            if args.jwks_endpoint.is_none() {
                statement["software_jwks"] = bundle.jwks.clone();
            }
            if let Some(overrides) = args.claims.as_deref().map(read_overrides).transpose()? {
                claims::apply_overrides(&mut statement, &overrides);
            }
            key.sign(&statement)?
        }
        (None, None) => bail!("give --sandbox or --key"),
    };
    bundle::write_file(&args.dir, SSA_FILE, &statement, false)?;
    bundle.software_statement = Some(statement);
    println!("{}", bundle.software_statement.unwrap_or_default());
    Ok(())
}

fn request_options(args: &TppRequestArgs) -> anyhow::Result<RequestOptions> {
    Ok(RequestOptions {
        scope: args.scope.clone(),
        private_key_jwt: args.private_key_jwt,
        overrides: args.claims.as_deref().map(read_overrides).transpose()?,
    })
}

fn read_overrides(path: &Path) -> anyhow::Result<Map<String, Value>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    match serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))? {
        Value::Object(members) => Ok(members),
        _ => bail!("{}: give a JSON object", path.display()),
    }
}

async fn register(dir: &Path, discovery_url: &str, tls: &TppTlsArgs, request: &TppRequestArgs) -> anyhow::Result<()> {
    let bundle = Bundle::read(dir)?;
    let client = mtls_client(&bundle, tls)?;
    let discovery = answer("reading the discovery document", client.get(discovery_url).send().await).await?;
    let endpoint = |name: &str| {
        discovery[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("reading the discovery document: it names no {name} (is dynamic client registration on?)"))
    };
    let (registration_endpoint, token_endpoint, issuer) =
        (endpoint("registration_endpoint")?, endpoint("token_endpoint")?, endpoint("issuer")?);
    let signed = bundle.registration_request(&issuer, &request_options(request)?, SystemClock.now())?;
    let response = client.post(&registration_endpoint).header(CONTENT_TYPE, JOSE).body(signed).send().await;
    let registered = answer("registering", response).await?;
    print(&registered);
    let client_id = registered["client_id"].as_str().ok_or_else(|| anyhow!("registering: the answer has no client_id"))?;
    let mut kept = Registered {
        client_id: client_id.to_owned(),
        issuer,
        token_endpoint,
        token_endpoint_auth_method: "tls_client_auth".to_owned(),
        scope: None,
        registration_client_uri: None,
        registration_access_token: None,
    };
    kept.absorb(&registered);
    kept.write(dir)
}

/// A client-credentials token, over mutual TLS; with `private_key_jwt`, a signed assertion
/// authenticates the client.
async fn token(dir: &Path, scope: Option<&str>, tls: &TppTlsArgs) -> anyhow::Result<Value> {
    let registered = Registered::read(dir)?;
    let bundle = Bundle::read(dir)?;
    let client = mtls_client(&bundle, tls)?;
    let mut form = vec![("grant_type", "client_credentials".to_owned()), ("client_id", registered.client_id.clone())];
    if let Some(scope) = scope.or(registered.scope.as_deref()) {
        form.push(("scope", scope.to_owned()));
    }
    if registered.token_endpoint_auth_method == "private_key_jwt" {
        let now = SystemClock.now().timestamp();
        let assertion = bundle.signing_key()?.sign(&json!({
            "iss": registered.client_id, "sub": registered.client_id, "aud": registered.token_endpoint,
            "iat": now, "exp": now + ASSERTION_LIFETIME_SECONDS, "jti": uuid::Uuid::new_v4().to_string(),
        }))?;
        form.push(("client_assertion_type", CLIENT_ASSERTION_TYPE.to_owned()));
        form.push(("client_assertion", assertion));
    }
    let response = client.post(&registered.token_endpoint).form(&form).send().await;
    answer("getting a token", response).await
}

enum Management {
    Get,
    Update(RequestOptions),
    Delete,
}

/// GET, PUT or DELETE at the client's `registration_client_uri`, with its registration access
/// token (or, when it has none, a client-credentials token).
async fn manage(dir: &Path, tls: &TppTlsArgs, operation: Management) -> anyhow::Result<()> {
    let mut registered = Registered::read(dir)?;
    let bundle = Bundle::read(dir)?;
    let client = mtls_client(&bundle, tls)?;
    let uri = registered.management_uri()?.to_owned();
    let bearer = match &registered.registration_access_token {
        Some(token) => token.clone(),
        None => token(dir, None, tls).await?["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("getting a token: the answer has no access_token"))?,
    };
    match operation {
        Management::Get => print(&answer("reading the registration", client.get(&uri).bearer_auth(&bearer).send().await).await?),
        Management::Update(options) => {
            let signed = bundle.registration_request(&registered.issuer, &options, SystemClock.now())?;
            let response = client.put(&uri).bearer_auth(&bearer).header(CONTENT_TYPE, JOSE).body(signed).send().await;
            let updated = answer("updating the registration", response).await?;
            print(&updated);
            registered.absorb(&updated);
            registered.write(dir)?;
        }
        Management::Delete => {
            answer("deleting the registration", client.delete(&uri).bearer_auth(&bearer).send().await).await?;
            std::fs::remove_file(dir.join(CLIENT_FILE)).with_context(|| format!("removing {CLIENT_FILE}"))?;
            println!("Deleted client {}", registered.client_id);
        }
    }
    Ok(())
}

/// An HTTPS client presenting the bundle's transport certificate, trusting the system's roots
/// and the `--ca-file`.
fn mtls_client(bundle: &Bundle, tls: &TppTlsArgs) -> anyhow::Result<reqwest::Client> {
    let identity = format!("{}\n{}", bundle.transport_key_pem, bundle.transport_certificate_pem);
    let identity = reqwest::Identity::from_pem(identity.as_bytes()).context("reading the transport certificate and key")?;
    Ok(trusting(tls)?.identity(identity).build()?)
}

/// A client of the sandbox directory's admin API (no client certificate), trusting the
/// system's roots and the `--ca-file`.
fn sandbox_client(tls: &TppTlsArgs) -> anyhow::Result<reqwest::Client> {
    Ok(trusting(tls)?.build()?)
}

/// A client builder that trusts the system's roots and, besides them, the CA certificates of
/// `--ca-file` (such as a development server's own CA).
fn trusting(tls: &TppTlsArgs) -> anyhow::Result<reqwest::ClientBuilder> {
    let mut extra_roots = Vec::new();
    if let Some(ca_file) = &tls.ca_file {
        let pem = std::fs::read(ca_file).with_context(|| format!("reading {}", ca_file.display()))?;
        extra_roots = reqwest::Certificate::from_pem_bundle(&pem).context("reading the CA file")?;
    }
    Ok(reqwest::Client::builder().tls_certs_merge(extra_roots))
}

/// The JSON a server answered with (`null` for an empty answer), or an error naming `step` and
/// the server's own words.
async fn answer(step: &str, response: reqwest::Result<reqwest::Response>) -> anyhow::Result<Value> {
    let response = response.with_context(|| format!("{step}: the request failed"))?;
    let status = response.status();
    let text = response.text().await.with_context(|| format!("{step}: the answer could not be read"))?;
    let body: Value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    if status.is_success() {
        return Ok(body);
    }
    match (body["error"].as_str(), body["error_description"].as_str()) {
        (Some(error), description) => bail!("{step}: {status}: {error}: {}", description.unwrap_or("")),
        _ if body.is_null() => bail!("{step}: {status}"),
        _ => bail!("{step}: {status}: {body}"),
    }
}

fn print(answer: &Value) {
    println!("{}", serde_json::to_string_pretty(answer).unwrap_or_default());
}
