//! Development TLS material: when no `--tls-cert`/`--tls-key` is given, a CA and a server
//! certificate for localhost, 127.0.0.1 and the public URL's host are made in
//! `<data-dir>/tls/` on first start and reused afterwards. Clients trust `dev-ca.pem`.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::pki::{CertificateAuthority, PkiError};

pub const CA_FILE: &str = "dev-ca.pem";
const CA_KEY_FILE: &str = "dev-ca-key.pem";
const CERT_FILE: &str = "server.pem";
const KEY_FILE: &str = "server-key.pem";

#[derive(Debug, thiserror::Error)]
pub enum DevCertificateError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Pki(#[from] PkiError),
}

/// Paths of the server certificate and key to use.
#[derive(Debug, Clone)]
pub struct DevCertificates {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Makes the development CA and server certificate unless they exist; returns their paths.
pub fn ensure(dir: &Path, extra_host: Option<&str>, now: DateTime<Utc>) -> Result<DevCertificates, DevCertificateError> {
    let paths = DevCertificates { ca: dir.join(CA_FILE), cert: dir.join(CERT_FILE), key: dir.join(KEY_FILE) };
    if paths.ca.exists() && paths.cert.exists() && paths.key.exists() {
        return Ok(paths);
    }
    fs::create_dir_all(dir).map_err(|source| DevCertificateError::Io { path: dir.to_owned(), source })?;
    let ca_key = dir.join(CA_KEY_FILE);
    let ca = if paths.ca.exists() && ca_key.exists() {
        CertificateAuthority::from_pem(&read(&paths.ca)?, &read(&ca_key)?)?
    } else {
        let ca = CertificateAuthority::generate("Onboard development CA", now)?;
        write(&paths.ca, ca.cert_pem(), false)?;
        write(&ca_key, ca.key_pem(), true)?;
        ca
    };
    let mut hosts = vec!["localhost", "127.0.0.1", "::1"];
    if let Some(host) = extra_host.filter(|h| !hosts.contains(h)) {
        hosts.push(host);
    }
    let server = ca.issue_server(&hosts, now)?;
    write(&paths.cert, &server.cert_pem, false)?;
    write(&paths.key, &server.key_pem, true)?;
    Ok(paths)
}

fn read(path: &Path) -> Result<String, DevCertificateError> {
    fs::read_to_string(path).map_err(|source| DevCertificateError::Io { path: path.to_owned(), source })
}

/// Writes a file; private keys are readable by the owner only.
pub fn write(path: &Path, contents: &str, private: bool) -> Result<(), DevCertificateError> {
    let io = |source| DevCertificateError::Io { path: path.to_owned(), source };
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io)?;
    if private {
        // The mode above applies only to a new file; an existing one is narrowed too.
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    file.write_all(contents.as_bytes()).map_err(io)
}
