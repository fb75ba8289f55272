//! What the fuzz targets share: an OBUK workspace that trusts one directory, a TPP whose keys
//! its software statement carries inline, and the pure stages of the register endpoint run in
//! the order the endpoint runs them. No I/O: every key is inline.
//!
//! A target's only failure is a panic (or an abort, a timeout or running out of memory); every
//! `Err` the code under test returns is an answer, which is what hostile input should get.

#![allow(clippy::expect_used, reason = "a fuzzing fixture either builds or there is nothing to fuzz")]

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use app::domain::dcr::{DcrSettings, KeySource, SoftwareStatementIssuer};
use app::domain::jwks::{PublicJwks, Strictness};
use app::domain::sandbox::SoftwareDetails;
use app::domain::workspace::{Profile, WorkspaceSettings};
use onboard::oauth2::jose::JwsAlgorithm;
use onboard::oauth2::registration::{
    self, ClientCertificateCheck, RegistrationError, RegistrationPolicy, RegistrationRequest, RequestKeySource,
    ValidatedRegistration,
};
use onboard::oauth2::software_statement;
use onboard::tpp::claims::{self, RegistrationAsk};
use onboard::tpp::keys::SigningKey;

pub const ISSUER: &str = "https://as.example/default/obuk";
pub const ORG_ID: &str = "0015800001HQQrZAAX";
pub const DIRECTORY: &str = "OpenBanking Ltd";

/// The media types a fuzz input's first byte chooses between.
pub const CONTENT_TYPES: [&str; 5] =
    ["application/jose", "application/json", "application/jwt", "application/jose; charset=utf-8", "text/plain"];

/// A fixed instant, so a run is reproducible from its input alone.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_316_679, 0).expect("a valid timestamp")
}

/// The keys, statement and settings every input is checked against; built once per process.
pub struct Fixture {
    pub directory_key: SigningKey,
    pub tpp_key: SigningKey,
    pub directory_keys: PublicJwks,
    pub tpp_keys: PublicJwks,
    pub software: SoftwareDetails,
    pub dcr: DcrSettings,
    pub settings: WorkspaceSettings,
}

pub static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    // ES256 for both: signing inside the loop must be cheap for the fuzzer to get anywhere.
    let directory_key = SigningKey::generate(JwsAlgorithm::Es256, "directory-1").expect("an EC key");
    let tpp_key = SigningKey::generate(JwsAlgorithm::Es256, "tpp-1").expect("an EC key");
    let directory_keys = PublicJwks::parse(&directory_key.public_jwks(), Strictness::Strict).expect("a JWKS");
    let tpp_keys = PublicJwks::parse(&tpp_key.public_jwks(), Strictness::Strict).expect("a JWKS");
    let mut settings = WorkspaceSettings::defaults_for(Profile::OpenbankingUk, ISSUER);
    settings.org_id = Some(ORG_ID.to_owned());
    let dcr = DcrSettings {
        enabled: true,
        require_signed_request: false,
        software_statement_issuers: vec![SoftwareStatementIssuer {
            issuer: DIRECTORY.to_owned(),
            keys: Some(KeySource::Jwks(directory_keys.clone())),
        }],
        ..DcrSettings::defaults_for(Profile::OpenbankingUk)
    };
    let software = SoftwareDetails {
        software_id: "oQ4KoaavpOuoE7rvQsZEOV".to_owned(),
        org_id: "0015800001HQQrZAAX".to_owned(),
        org_name: Some("Budget Planner Ltd".to_owned()),
        client_name: "Fuzz TPP".to_owned(),
        roles: vec!["AISP".to_owned(), "PISP".to_owned()],
        redirect_uris: vec!["https://tpp.example.com/cb".to_owned()],
    };
    Fixture { directory_key, tpp_key, directory_keys, tpp_keys, software, dcr, settings }
});

impl Fixture {
    /// A software statement the workspace accepts, with `overrides` applied to its claims.
    pub fn software_statement(&self, overrides: &Map<String, Value>) -> String {
        let mut statement = claims::software_statement(&self.software, DIRECTORY, None, now());
        statement["software_jwks"] = self.tpp_key.public_jwks();
        claims::apply_overrides(&mut statement, overrides);
        self.directory_key.sign(&statement).expect("signing")
    }

    /// A registration request the workspace accepts, with `overrides` applied to its claims.
    pub fn request_claims(&self, software_statement: &str, overrides: &Map<String, Value>) -> Value {
        let ask = RegistrationAsk {
            audience: ORG_ID,
            token_endpoint_auth_method: "private_key_jwt",
            subject_dn: "",
            algorithm: "ES256",
            scope: "openid accounts payments",
        };
        let mut request = claims::registration_request(&self.software, software_statement, &ask, now());
        claims::apply_overrides(&mut request, overrides);
        request
    }

    /// The register endpoint's pure stages over a body, as the endpoint runs them with inline
    /// keys. Every error is also rendered, as the endpoint would answer it.
    /// `Ok(None)`: the request names keys by URI, and the stages stop where the endpoint fetches.
    pub fn register(&self, content_type: &str, body: &[u8]) -> Result<Option<ValidatedRegistration>, RegistrationError> {
        let outcome = self.run_stages(content_type, body);
        if let Err(error) = &outcome {
            let _ = (error.code().as_str(), error.description(), error.detail());
        }
        outcome
    }

    fn run_stages(&self, content_type: &str, body: &[u8]) -> Result<Option<ValidatedRegistration>, RegistrationError> {
        let certificate = ClientCertificateCheck::Trusted { subject: "CN=tpp".to_owned() };
        registration::check_transport(&self.dcr, &certificate)?;
        let request = RegistrationRequest::parse(Some(content_type), body, &self.dcr)?;
        let ssa = registration::inspect_software_statement(&request, &self.dcr)?
            .map(|unverified| software_statement::verify(unverified, &self.directory_keys, now(), None))
            .transpose()?;
        let claims = match &request {
            RegistrationRequest::Signed(jws) => match registration::request_key_source(&self.dcr, ssa.as_ref())? {
                RequestKeySource::Keys(keys) => registration::verify_request(jws, &keys)?.clone(),
                RequestKeySource::ConfiguredUri(_) | RequestKeySource::SoftwareStatementUri(_) => return Ok(None),
            },
            RegistrationRequest::Plain(claims) => claims.clone(),
        };
        let policy = RegistrationPolicy { profile: Profile::OpenbankingUk, settings: &self.settings };
        registration::validate(&claims, matches!(request, RegistrationRequest::Signed(_)), ssa, &policy, now()).map(Some)
    }

    /// What every accepted registration must satisfy, whatever its input.
    pub fn assert_within_policy(&self, registration: &ValidatedRegistration) {
        let metadata = &registration.metadata;
        assert!(self.settings.token_endpoint_auth_methods.contains(&metadata.token_endpoint_auth_method), "{metadata:?}");
        assert!(metadata.grant_types.iter().all(|grant| self.settings.grant_types.contains(grant)), "{metadata:?}");
        assert!(metadata.scopes.iter().all(|scope| self.settings.scopes.contains(scope)), "{metadata:?}");
        let statement = registration.software_statement.as_ref().expect("OBUK requires a software statement");
        let held = |role: &String| statement.roles.iter().any(|r| r.eq_ignore_ascii_case(role));
        for scope in &metadata.scopes {
            let granted = self.settings.role_scopes.iter().any(|(role, scopes)| scopes.contains(scope) && held(role));
            assert!(granted, "scope {scope} granted by no role of {:?}", statement.roles);
        }
        assert!(metadata.redirect_uris.iter().all(|uri| statement.redirect_uris.contains(uri)), "{metadata:?}");
        assert_eq!(metadata.software_id.as_deref(), Some(statement.software_id.as_str()));
        assert!(metadata.tls_client_certificate_bound_access_tokens);
    }
}

/// Reads a fuzz input as a JSON object of claim overrides; anything else is no overrides.
pub fn overrides(bytes: &[u8]) -> Map<String, Value> {
    serde_json::from_slice::<Map<String, Value>>(bytes).unwrap_or_default()
}
