//! `onboard tpp`: a TPP's bundle on disk, and the calls a TPP makes. Every failure names the
//! step that failed and, when a server answered, its `error` and `error_description`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, anyhow, bail};
use rcgen::DnType;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use app::clock::{Clock as _, SystemClock};
use app::domain::sandbox::SoftwareDetails;

use super::claims::{self, RegistrationAsk};
use super::keys::{SigningKey, transport_jwk};
use crate::cli::{TppAlgorithm, TppCommand, TppInitArgs};
use crate::oauth2::jose::JwsAlgorithm;
use crate::pki;

const SOFTWARE_FILE: &str = "software.json";
const SIGNING_KEY_FILE: &str = "signing-key.pem";
const TRANSPORT_KEY_FILE: &str = "transport-key.pem";
const TRANSPORT_CERT_FILE: &str = "transport.pem";
const JWKS_FILE: &str = "jwks.json";
const SSA_FILE: &str = "ssa.jwt";
const DIRECTORY_CA_FILE: &str = "directory-ca.pem";
const CLIENT_FILE: &str = "client.json";

/// What the bundle says about its software, besides the key files.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Software {
    #[serde(flatten)]
    details: SoftwareDetails,
    /// `PS256` or `ES256`.
    algorithm: String,
    signing_kid: String,
    transport_subject_dn: String,
}

/// A registered client, as `register` keeps it for `token`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Registered {
    client_id: String,
    token_endpoint: String,
    scope: Option<String>,
    registration_client_uri: Option<String>,
}

pub async fn run(command: TppCommand) -> anyhow::Result<()> {
    match command {
        TppCommand::Init(args) => init(&args).await,
        TppCommand::Request { dir, audience } => {
            println!("{}", signed_request(&dir, &audience)?);
            Ok(())
        }
        TppCommand::Register { dir, discovery, ca_file } => register(&dir, &discovery, ca_file.as_deref()).await,
        TppCommand::Token { dir, scope, ca_file } => token(&dir, scope.as_deref(), ca_file.as_deref()).await,
    }
}

async fn init(args: &TppInitArgs) -> anyhow::Result<()> {
    let details = SoftwareDetails {
        software_id: args.software_id.clone(),
        org_id: args.org_id.clone(),
        client_name: args.client_name.clone(),
        roles: args.roles.iter().map(|role| role.trim().to_ascii_uppercase()).collect(),
        redirect_uris: args.redirect_uri.clone(),
    };
    details.check().map_err(|e| anyhow!("--{}: {}", e.field.replace('_', "-"), e.message))?;
    let algorithm = match args.alg {
        TppAlgorithm::Ps256 => JwsAlgorithm::Ps256,
        TppAlgorithm::Es256 => JwsAlgorithm::Es256,
    };
    let signing_kid = format!("{}-sig", details.software_id);
    let signing = SigningKey::generate(algorithm, &signing_kid).context("making the signing key")?;
    let subject = [(DnType::CommonName, details.software_id.as_str()), (DnType::OrganizationalUnitName, details.org_id.as_str())];
    let (transport_key, csr) = pki::transport_key_and_request(&subject).context("making the transport key")?;
    std::fs::create_dir_all(&args.dir).with_context(|| format!("creating {}", args.dir.display()))?;

    let (certificate, subject_dn) = if let Some(server) = &args.sandbox {
        let enrolment = enrol(args, server, &details, &signing, &csr).await?;
        let field = |name: &str| enrolment[name].as_str().map(str::to_owned).ok_or_else(|| anyhow!("the enrolment lacks {name}"));
        write(&args.dir, SSA_FILE, &field("software_statement")?, false)?;
        write(&args.dir, DIRECTORY_CA_FILE, &field("directory_ca_pem")?, false)?;
        (field("transport_certificate_pem")?, field("transport_subject_dn")?)
    } else {
        let certificate = pki::self_signed_for_key(&transport_key, &subject, SystemClock.now()).context("self-signing")?;
        (certificate, format!("CN={},OU={}", details.software_id, details.org_id))
    };
    let tls = transport_jwk(&certificate, &format!("{}-tls", details.software_id)).map_err(|e| anyhow!(e))?;
    let jwks = json!({"keys": [signing.public_jwk(), tls]});
    write(&args.dir, SIGNING_KEY_FILE, signing.private_pem(), true)?;
    write(&args.dir, TRANSPORT_KEY_FILE, &transport_key, true)?;
    write(&args.dir, TRANSPORT_CERT_FILE, &certificate, false)?;
    write(&args.dir, JWKS_FILE, &serde_json::to_string_pretty(&jwks)?, false)?;
    let software = Software { details, algorithm: algorithm.as_str().to_owned(), signing_kid, transport_subject_dn: subject_dn };
    write(&args.dir, SOFTWARE_FILE, &serde_json::to_string_pretty(&software)?, false)?;
    println!("TPP bundle written to {}", args.dir.display());
    if args.sandbox.is_none() {
        println!("The transport certificate is self-signed, and there is no software statement: enrol with --sandbox for both.");
    }
    Ok(())
}

/// Asks the sandbox directory of `server` to enrol the software.
async fn enrol(
    args: &TppInitArgs,
    server: &str,
    details: &SoftwareDetails,
    signing: &SigningKey,
    csr: &str,
) -> anyhow::Result<Value> {
    let key =
        args.admin_api_key.as_deref().ok_or_else(|| anyhow!("--sandbox needs --admin-api-key (or ONBOARD_ADMIN_API_KEY)"))?;
    let mut request = serde_json::to_value(details)?;
    request["signing_jwks"] = signing.public_jwks();
    request["transport_csr_pem"] = json!(csr);
    let url = format!("{}/api/admin/v1/tenants/{}/sandbox/software", server.trim_end_matches('/'), args.tenant);
    let response = reqwest::Client::new().post(&url).bearer_auth(key).json(&request).send().await;
    answer("enrolling with the sandbox directory", response).await
}

fn signed_request(dir: &Path, audience: &str) -> anyhow::Result<String> {
    let software = read_software(dir)?;
    let statement = read(dir, SSA_FILE).context("the bundle has no software statement: make it with `init --sandbox`")?;
    let algorithm = JwsAlgorithm::parse(&software.algorithm).ok_or_else(|| anyhow!("{SOFTWARE_FILE}: unknown algorithm"))?;
    let signing = SigningKey::from_pem(algorithm, &software.signing_kid, &read(dir, SIGNING_KEY_FILE)?)?;
    let scope = claims::scope_for_roles(&software.details.roles);
    let ask = RegistrationAsk {
        audience,
        token_endpoint_auth_method: "tls_client_auth",
        subject_dn: &software.transport_subject_dn,
        algorithm: algorithm.as_str(),
        scope: &scope,
    };
    let request = claims::registration_request(&software.details, statement.trim(), &ask, SystemClock.now());
    Ok(signing.sign(&request)?)
}

async fn register(dir: &Path, discovery_url: &str, ca_file: Option<&Path>) -> anyhow::Result<()> {
    let client = mtls_client(dir, ca_file)?;
    let discovery = answer("reading the discovery document", client.get(discovery_url).send().await).await?;
    let endpoint = |name: &str| {
        discovery[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("reading the discovery document: it names no {name} (is dynamic client registration on?)"))
    };
    let (registration_endpoint, token_endpoint, issuer) =
        (endpoint("registration_endpoint")?, endpoint("token_endpoint")?, endpoint("issuer")?);
    let request = signed_request(dir, &issuer)?;
    let response =
        client.post(&registration_endpoint).header(reqwest::header::CONTENT_TYPE, "application/jose").body(request).send().await;
    let registered = answer("registering", response).await?;
    println!("{}", serde_json::to_string_pretty(&registered)?);
    let client_id = registered["client_id"].as_str().ok_or_else(|| anyhow!("the registration answer has no client_id"))?;
    let kept = Registered {
        client_id: client_id.to_owned(),
        token_endpoint,
        scope: registered["scope"].as_str().map(str::to_owned),
        registration_client_uri: registered["registration_client_uri"].as_str().map(str::to_owned),
    };
    write(dir, CLIENT_FILE, &serde_json::to_string_pretty(&kept)?, true)?;
    Ok(())
}

async fn token(dir: &Path, scope: Option<&str>, ca_file: Option<&Path>) -> anyhow::Result<()> {
    let registered: Registered =
        serde_json::from_str(&read(dir, CLIENT_FILE).context("register first: no client in the bundle")?)?;
    let client = mtls_client(dir, ca_file)?;
    let mut form = vec![("grant_type", "client_credentials"), ("client_id", registered.client_id.as_str())];
    if let Some(scope) = scope.or(registered.scope.as_deref()) {
        form.push(("scope", scope));
    }
    let response = client.post(&registered.token_endpoint).form(&form).send().await;
    let token = answer("getting a token", response).await?;
    println!("{}", serde_json::to_string_pretty(&token)?);
    Ok(())
}

/// An HTTPS client presenting the bundle's transport certificate, trusting the system's roots
/// and `ca_file`.
fn mtls_client(dir: &Path, ca_file: Option<&Path>) -> anyhow::Result<reqwest::Client> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca_file) = ca_file {
        let pem = std::fs::read(ca_file).with_context(|| format!("reading {}", ca_file.display()))?;
        for certificate in CertificateDer::pem_slice_iter(&pem) {
            roots.add(certificate.context("reading the CA file")?)?;
        }
    }
    let chain = CertificateDer::pem_slice_iter(read(dir, TRANSPORT_CERT_FILE)?.as_bytes()).collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_slice(read(dir, TRANSPORT_KEY_FILE)?.as_bytes())?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)?;
    Ok(reqwest::Client::builder().tls_backend_preconfigured(config).build()?)
}

/// The JSON a server answered with, or an error naming `step` and the server's own words.
async fn answer(step: &str, response: reqwest::Result<reqwest::Response>) -> anyhow::Result<Value> {
    let response = response.with_context(|| format!("{step}: the request failed"))?;
    let status = response.status();
    let text = response.text().await.with_context(|| format!("{step}: the answer could not be read"))?;
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if status.is_success() {
        return Ok(body);
    }
    match (body["error"].as_str(), body["error_description"].as_str()) {
        (Some(error), description) => bail!("{step}: {status}: {error}: {}", description.unwrap_or("")),
        _ => bail!("{step}: {status}: {body}"),
    }
}

fn read_software(dir: &Path) -> anyhow::Result<Software> {
    Ok(serde_json::from_str(&read(dir, SOFTWARE_FILE)?)?)
}

fn read(dir: &Path, name: &str) -> anyhow::Result<String> {
    let path = dir.join(name);
    std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
}

/// Writes a bundle file; private keys and credentials readable by the owner only.
fn write(dir: &Path, name: &str, contents: &str, private: bool) -> anyhow::Result<PathBuf> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = dir.join(name);
    let mode = if private { 0o600 } else { 0o644 };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(path)
}
