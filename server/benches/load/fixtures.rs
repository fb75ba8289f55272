//! The benchmark's directory, TPP and transport certificate, the workspace settings that trust
//! them, and the signed requests and client assertions each run consumes (made in parallel
//! before the run, each with its own `jti`).

use anyhow::{Context as _, anyhow};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PSS_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rcgen::DnType;
use rustls::pki_types::PrivatePkcs8KeyDer;
use rustls::pki_types::pem::PemObject as _;
use serde_json::{Value, json};

use app::domain::sandbox::SoftwareDetails;
use onboard::oauth2::jose::JwsAlgorithm;
use onboard::pki::{CertificateAuthority, IssuedCertificate};
use onboard::tpp::claims::{self, RegistrationAsk};
use onboard::tpp::keys::SigningKey;

pub const DIRECTORY: &str = "Bench Directory Ltd";
pub const ORG_ID: &str = "0015800001BENCH";
const SOFTWARE_ID: &str = "BenchSoftware0001";
/// How long a pre-signed request or assertion stays valid: longer than any run.
const LIFETIME_SECONDS: i64 = 1800;

/// A PS256 key held by aws-lc-rs directly: parsed once, as a TPP's signer would keep it.
pub struct Signer {
    key: RsaKeyPair,
    kid: String,
    rng: SystemRandom,
}

impl Signer {
    fn from_pem(pem: &str, kid: &str) -> anyhow::Result<Self> {
        let der = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes()).context("reading the TPP key")?;
        let key = RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).map_err(|e| anyhow!("the TPP key: {e}"))?;
        Ok(Self { key, kid: kid.to_owned(), rng: SystemRandom::new() })
    }

    /// A compact JWS of `claims` with header `{"alg":"PS256","kid":...,"typ":"JWT"}`.
    pub fn sign(&self, claims: &Value) -> anyhow::Result<String> {
        let header = json!({"alg": "PS256", "kid": self.kid, "typ": "JWT"});
        let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key.sign(&RSA_PSS_SHA256, &self.rng, input.as_bytes(), &mut signature).map_err(|e| anyhow!("signing: {e}"))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

pub struct Fixtures {
    directory: SigningKey,
    pub tpp: Signer,
    pub ca: CertificateAuthority,
    pub transport: IssuedCertificate,
    subject_dn: String,
    details: SoftwareDetails,
    pub statement: String,
}

impl Fixtures {
    pub fn new(now: DateTime<Utc>) -> anyhow::Result<Self> {
        let directory = SigningKey::generate(JwsAlgorithm::Ps256, "directory-1")?;
        let tpp_key = SigningKey::generate(JwsAlgorithm::Ps256, "tpp-1")?;
        let tpp = Signer::from_pem(tpp_key.private_pem(), "tpp-1")?;
        let ca = CertificateAuthority::generate("Bench Transport CA", now)?;
        let subject = [
            (DnType::CommonName, SOFTWARE_ID),
            (DnType::OrganizationalUnitName, ORG_ID),
            (DnType::OrganizationName, "Bench TPP"),
            (DnType::CountryName, "GB"),
        ];
        let transport = ca.issue_client(&subject, now)?;
        let details = SoftwareDetails {
            software_id: SOFTWARE_ID.to_owned(),
            org_id: ORG_ID.to_owned(),
            org_name: Some("Bench TPP Ltd".to_owned()),
            client_name: "Bench TPP Payments App".to_owned(),
            roles: vec!["AISP".to_owned(), "PISP".to_owned()],
            redirect_uris: vec!["https://tpp.example.com/cb".to_owned()],
        };
        let mut statement_claims = claims::software_statement(&details, DIRECTORY, None, now);
        statement_claims["software_jwks"] = tpp_key.public_jwks();
        let statement = directory.sign(&statement_claims)?;
        Ok(Self {
            directory,
            tpp,
            ca,
            transport,
            subject_dn: format!("CN={SOFTWARE_ID},OU={ORG_ID},O=Bench TPP,C=GB"),
            details,
            statement,
        })
    }

    /// General settings: the bank's organisation id and the TPPs' transport CA. One load
    /// generator on one address is the point here, so the rate limits and the cap on
    /// dynamically registered clients are set past what the server can do (still counted and
    /// checked, so their cost is measured).
    pub fn workspace_settings(&self) -> Value {
        let rate = 1_000_000;
        let limits = app::domain::limits::Limits {
            registrations_per_ip_per_minute: rate,
            registrations_per_software_per_minute: rate,
            token_requests_per_ip_per_minute: rate,
            token_requests_per_client_per_minute: rate,
            introspection_requests_per_ip_per_minute: rate,
            max_dynamic_clients: rate,
            ..app::domain::limits::Limits::default()
        };
        json!({"org_id": ORG_ID, "trusted_client_ca_pem": self.ca.cert_pem(), "limits": limits})
    }

    /// Every check on: statement from a trusted directory, signed request verified with the
    /// keys the statement carries, mutual TLS.
    pub fn dcr_settings(&self) -> Value {
        json!({
            "enabled": true,
            "require_software_statement": true,
            "software_statement_issuers": [{"issuer": DIRECTORY, "keys": {"jwks": self.directory.public_jwks()}}],
            "require_signed_request": true,
            "request_signing_keys": "software_statement",
            "require_mtls": true,
        })
    }

    /// A signed registration request for `issuer`, with a fresh `jti`.
    pub fn registration(&self, issuer: &str, private_key_jwt: bool, now: DateTime<Utc>) -> anyhow::Result<String> {
        let scope = claims::scope_for_roles(&self.details.roles);
        let ask = RegistrationAsk {
            audience: issuer,
            token_endpoint_auth_method: if private_key_jwt { "private_key_jwt" } else { "tls_client_auth" },
            subject_dn: &self.subject_dn,
            algorithm: "PS256",
            scope: &scope,
        };
        let mut request = claims::registration_request(&self.details, &self.statement, &ask, now);
        request["exp"] = json!(now.timestamp() + LIFETIME_SECONDS);
        self.tpp.sign(&request)
    }

    /// A `private_key_jwt` client assertion for `client_id` at `token_endpoint`.
    pub fn assertion(&self, client_id: &str, token_endpoint: &str, now: DateTime<Utc>) -> anyhow::Result<String> {
        self.tpp.sign(&json!({
            "iss": client_id, "sub": client_id, "aud": token_endpoint,
            "iat": now.timestamp(), "exp": now.timestamp() + LIFETIME_SECONDS,
            "jti": uuid::Uuid::new_v4().to_string(),
        }))
    }
}

/// `count` items made by `make`, on every core.
pub fn presign(count: usize, make: impl Fn() -> anyhow::Result<String> + Sync) -> anyhow::Result<Vec<String>> {
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let per_thread = count.div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| scope.spawn(|| (0..per_thread).map(|_| make()).collect::<anyhow::Result<Vec<String>>>()))
            .collect();
        let mut all = Vec::with_capacity(count);
        for worker in workers {
            all.extend(worker.join().map_err(|_| anyhow!("a signing thread panicked"))??);
        }
        all.truncate(count);
        Ok(all)
    })
}
