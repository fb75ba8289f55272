//! A TPP's bundle: its signing key, transport key and certificate, key set, and (once a
//! directory has enrolled it) its software statement. `onboard tpp init` writes one to a
//! directory; the console's sandbox TPPs keep one on the server and offer it as a zip. Both have
//! the same files, so a downloaded bundle works with `onboard tpp`.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Utc};
use rcgen::DnType;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use app::domain::sandbox::{Enrolment, EnrolmentRequest, SoftwareDetails};

use super::claims::{self, RegistrationAsk};
use super::keys::{SigningKey, transport_jwk};
use crate::oauth2::jose::JwsAlgorithm;
use crate::pki;

pub const SOFTWARE_FILE: &str = "software.json";
pub const SIGNING_KEY_FILE: &str = "signing-key.pem";
pub const TRANSPORT_KEY_FILE: &str = "transport-key.pem";
pub const TRANSPORT_CERT_FILE: &str = "transport.pem";
pub const JWKS_FILE: &str = "jwks.json";
pub const SSA_FILE: &str = "ssa.jwt";
pub const DIRECTORY_CA_FILE: &str = "directory-ca.pem";

/// `software.json`: what the bundle says about its software, besides the key files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Software {
    #[serde(flatten)]
    pub details: SoftwareDetails,
    /// `PS256` or `ES256`.
    pub algorithm: String,
    pub signing_kid: String,
    pub transport_subject_dn: String,
}

/// A TPP's whole bundle, in memory.
#[derive(Clone, Serialize, Deserialize)]
pub struct Bundle {
    pub software: Software,
    pub signing_key_pem: String,
    pub transport_key_pem: String,
    pub transport_certificate_pem: String,
    pub jwks: Value,
    pub software_statement: Option<String>,
    pub directory_ca_pem: Option<String>,
}

impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundle").field("software", &self.software).finish_non_exhaustive()
    }
}

/// One file of a bundle; private ones are readable by their owner only.
pub struct BundleFile {
    pub name: &'static str,
    pub contents: String,
    pub private: bool,
}

/// What the request a bundle signs asks for, beyond what the bundle itself says.
#[derive(Debug, Clone, Default)]
pub struct RequestOptions {
    /// The scopes [default: from the roles].
    pub scope: Option<String>,
    /// `tls_client_auth` [default] or `private_key_jwt`.
    pub private_key_jwt: bool,
    /// Members that replace the built claims (`null` removes one).
    pub overrides: Option<serde_json::Map<String, Value>>,
}

/// The fresh keys of new software, waiting for a transport certificate.
pub struct NewKeys {
    details: SoftwareDetails,
    signing: SigningKey,
    transport_key_pem: String,
    csr_pem: String,
}

impl NewKeys {
    /// A signing key for `algorithm` and a P-256 transport key with a certificate request for
    /// `CN=<software id>, OU=<org id>`. Slow for RSA: call off the async runtime.
    pub fn generate(details: SoftwareDetails, algorithm: JwsAlgorithm) -> anyhow::Result<Self> {
        details.check().map_err(|e| anyhow!("{}: {}", e.field, e.message))?;
        let signing =
            SigningKey::generate(algorithm, format!("{}-sig", details.software_id)).context("making the signing key")?;
        let (transport_key_pem, csr_pem) =
            pki::transport_key_and_request(&subject(&details)).context("making the transport key")?;
        Ok(Self { details, signing, transport_key_pem, csr_pem })
    }

    /// What to send the directory to enrol the software.
    pub fn enrolment_request(&self) -> EnrolmentRequest {
        EnrolmentRequest {
            details: self.details.clone(),
            signing_jwks: self.signing.public_jwks(),
            transport_csr_pem: self.csr_pem.clone(),
        }
    }

    /// The bundle, with the certificate and statement the directory issued.
    pub fn enrolled(self, enrolment: Enrolment) -> anyhow::Result<Bundle> {
        self.bundle(
            enrolment.transport_certificate_pem,
            enrolment.transport_subject_dn,
            Some(enrolment.software_statement),
            Some(enrolment.directory_ca_pem),
        )
    }

    /// The bundle with a self-signed transport certificate and no statement.
    pub fn self_signed(self, now: DateTime<Utc>) -> anyhow::Result<Bundle> {
        let certificate = pki::self_signed_for_key(&self.transport_key_pem, &subject(&self.details), now)
            .context("self-signing the transport certificate")?;
        let subject_dn = format!("CN={},OU={}", self.details.software_id, self.details.org_id);
        self.bundle(certificate, subject_dn, None, None)
    }

    fn bundle(
        self,
        certificate: String,
        subject_dn: String,
        software_statement: Option<String>,
        directory_ca_pem: Option<String>,
    ) -> anyhow::Result<Bundle> {
        let tls = transport_jwk(&certificate, &format!("{}-tls", self.details.software_id)).map_err(|e| anyhow!(e))?;
        Ok(Bundle {
            jwks: json!({"keys": [self.signing.public_jwk(), tls]}),
            software: Software {
                details: self.details,
                algorithm: self.signing.algorithm().as_str().to_owned(),
                signing_kid: self.signing.kid().to_owned(),
                transport_subject_dn: subject_dn,
            },
            signing_key_pem: self.signing.private_pem().to_owned(),
            transport_key_pem: self.transport_key_pem,
            transport_certificate_pem: certificate,
            software_statement,
            directory_ca_pem,
        })
    }
}

fn subject(details: &SoftwareDetails) -> [(DnType, &str); 2] {
    [(DnType::CommonName, details.software_id.as_str()), (DnType::OrganizationalUnitName, details.org_id.as_str())]
}

impl Bundle {
    /// Its files, in the order a listing shows them.
    pub fn files(&self) -> anyhow::Result<Vec<BundleFile>> {
        let file = |name, contents: &str, private| BundleFile { name, contents: contents.to_owned(), private };
        let mut files = vec![
            file(SOFTWARE_FILE, &serde_json::to_string_pretty(&self.software)?, false),
            file(SIGNING_KEY_FILE, &self.signing_key_pem, true),
            file(TRANSPORT_KEY_FILE, &self.transport_key_pem, true),
            file(TRANSPORT_CERT_FILE, &self.transport_certificate_pem, false),
            file(JWKS_FILE, &serde_json::to_string_pretty(&self.jwks)?, false),
        ];
        if let Some(statement) = &self.software_statement {
            files.push(file(SSA_FILE, statement, false));
        }
        if let Some(ca) = &self.directory_ca_pem {
            files.push(file(DIRECTORY_CA_FILE, ca, false));
        }
        Ok(files)
    }

    /// Writes every file into `dir` (made if missing).
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for file in self.files()? {
            write_file(dir, file.name, &file.contents, file.private)?;
        }
        Ok(())
    }

    /// The bundle as a zip of one folder named after the software, with owner-only modes on
    /// the private files.
    pub fn zip(&self) -> anyhow::Result<Vec<u8>> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for file in self.files()? {
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .unix_permissions(if file.private { 0o600 } else { 0o644 });
            zip.start_file(format!("{}/{}", self.software.details.software_id, file.name), options)?;
            zip.write_all(file.contents.as_bytes())?;
        }
        Ok(zip.finish()?.into_inner())
    }

    /// Reads the bundle in `dir`; the statement and directory CA may be absent.
    pub fn read(dir: &Path) -> anyhow::Result<Self> {
        let optional = |name| read_file(dir, name).ok();
        Ok(Self {
            software: serde_json::from_str(&read_file(dir, SOFTWARE_FILE)?)
                .with_context(|| format!("reading {SOFTWARE_FILE}"))?,
            signing_key_pem: read_file(dir, SIGNING_KEY_FILE)?,
            transport_key_pem: read_file(dir, TRANSPORT_KEY_FILE)?,
            transport_certificate_pem: read_file(dir, TRANSPORT_CERT_FILE)?,
            jwks: serde_json::from_str(&read_file(dir, JWKS_FILE)?).with_context(|| format!("reading {JWKS_FILE}"))?,
            software_statement: optional(SSA_FILE).map(|s| s.trim().to_owned()),
            directory_ca_pem: optional(DIRECTORY_CA_FILE),
        })
    }

    pub fn algorithm(&self) -> anyhow::Result<JwsAlgorithm> {
        JwsAlgorithm::parse(&self.software.algorithm).ok_or_else(|| anyhow!("{SOFTWARE_FILE}: unknown algorithm"))
    }

    pub fn signing_key(&self) -> anyhow::Result<SigningKey> {
        Ok(SigningKey::from_pem(self.algorithm()?, &self.software.signing_kid, &self.signing_key_pem)?)
    }

    /// A signed registration request for `audience`, carrying the bundle's statement.
    pub fn registration_request(&self, audience: &str, options: &RequestOptions, now: DateTime<Utc>) -> anyhow::Result<String> {
        let statement =
            self.software_statement.as_deref().ok_or_else(|| anyhow!("the bundle has no software statement ({SSA_FILE})"))?;
        let signing = self.signing_key()?;
        let scope = options.scope.clone().unwrap_or_else(|| claims::scope_for_roles(&self.software.details.roles));
        let ask = RegistrationAsk {
            audience,
            token_endpoint_auth_method: if options.private_key_jwt { "private_key_jwt" } else { "tls_client_auth" },
            subject_dn: &self.software.transport_subject_dn,
            algorithm: signing.algorithm().as_str(),
            scope: &scope,
        };
        let mut request = claims::registration_request(&self.software.details, statement, &ask, now);
        if let Some(overrides) = &options.overrides {
            claims::apply_overrides(&mut request, overrides);
        }
        Ok(signing.sign(&request)?)
    }
}

pub fn read_file(dir: &Path, name: &str) -> anyhow::Result<String> {
    let path = dir.join(name);
    std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
}

/// Writes a file of `dir`; private ones (keys, credentials) readable by the owner only.
pub fn write_file(dir: &Path, name: &str, contents: &str, private: bool) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let path = dir.join(name);
    let mode = if private { 0o600 } else { 0o644 };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    // An existing file keeps its mode on open: set it, so a key never stays world-readable.
    file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn details() -> SoftwareDetails {
        SoftwareDetails {
            software_id: "Budget".to_owned(),
            org_id: "org1".to_owned(),
            org_name: Some("Budget Ltd".to_owned()),
            client_name: "Budget".to_owned(),
            roles: vec!["AISP".to_owned()],
            redirect_uris: vec!["https://budget.example/cb".to_owned()],
        }
    }

    #[test]
    fn a_bundle_survives_a_round_trip_through_a_directory() {
        let bundle = NewKeys::generate(details(), JwsAlgorithm::Es256).unwrap().self_signed(now()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        bundle.write(dir.path()).unwrap();
        let read = Bundle::read(dir.path()).unwrap();
        assert_eq!(read.software, bundle.software);
        assert_eq!(read.jwks, bundle.jwks);
        assert_eq!(read.software_statement, None);
        let mode = |name| std::fs::metadata(dir.path().join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(SIGNING_KEY_FILE), mode(TRANSPORT_KEY_FILE), mode(JWKS_FILE)), (0o600, 0o600, 0o644));
    }

    #[test]
    fn the_zip_holds_the_same_files_in_one_folder() {
        let bundle = NewKeys::generate(details(), JwsAlgorithm::Es256).unwrap().self_signed(now()).unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bundle.zip().unwrap())).unwrap();
        let names: Vec<String> = archive.file_names().map(|name| name.unwrap().into_owned()).collect();
        assert_eq!(names.len(), 5);
        assert!(names.iter().all(|name| name.starts_with("Budget/")), "{names:?}");
        let key = archive.by_name("Budget/signing-key.pem").unwrap();
        assert_eq!(key.unix_mode().map(|m| m & 0o777), Some(0o600));
    }

    #[test]
    fn a_request_needs_a_statement() {
        let bundle = NewKeys::generate(details(), JwsAlgorithm::Es256).unwrap().self_signed(now()).unwrap();
        let error = bundle.registration_request("bank", &RequestOptions::default(), now()).unwrap_err();
        assert!(error.to_string().contains("no software statement"), "{error}");
    }
}
