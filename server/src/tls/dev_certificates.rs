//! Development TLS material: when no `--tls-cert`/`--tls-key` is given, a CA and a server
//! certificate for localhost, 127.0.0.1 and the public URL's host are made in
//! `<data-dir>/tls/` on first start and reused afterwards; the server certificate is issued
//! again (by the same CA) when the public URL names another host or it has expired. Clients
//! trust `dev-ca.pem`.

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

/// Makes the development CA and server certificate unless they exist and the certificate
/// still serves (names every host, unexpired); returns their paths.
pub fn ensure(dir: &Path, extra_host: Option<&str>, now: DateTime<Utc>) -> Result<DevCertificates, DevCertificateError> {
    let paths = DevCertificates { ca: dir.join(CA_FILE), cert: dir.join(CERT_FILE), key: dir.join(KEY_FILE) };
    let mut hosts = vec!["localhost", "127.0.0.1", "::1"];
    if let Some(host) = extra_host.filter(|h| !hosts.contains(h)) {
        hosts.push(host);
    }
    if paths.ca.exists() && paths.key.exists() && paths.cert.exists() && still_serves(&read(&paths.cert)?, &hosts, now) {
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
    let server = ca.issue_server(&hosts, now)?;
    write(&paths.cert, &server.cert_pem, false)?;
    write(&paths.key, &server.key_pem, true)?;
    Ok(paths)
}

/// Whether the server certificate `pem` names each of `hosts` (as a DNS name or an IP address)
/// and is valid at `now`. An unreadable one does not.
fn still_serves(pem: &str, hosts: &[&str], now: DateTime<Utc>) -> bool {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    use x509_parser::extensions::GeneralName;
    let Ok(der) = CertificateDer::from_pem_slice(pem.as_bytes()) else { return false };
    let Ok((_, certificate)) = x509_parser::parse_x509_certificate(&der) else { return false };
    let validity = certificate.validity();
    if now.timestamp() < validity.not_before.timestamp() || now.timestamp() >= validity.not_after.timestamp() {
        return false;
    }
    let Ok(Some(names)) = certificate.subject_alternative_name() else { return false };
    let named = |host: &str| {
        names.value.general_names.iter().any(|name| match (name, host.parse::<std::net::IpAddr>()) {
            (GeneralName::DNSName(dns), Err(_)) => dns.eq_ignore_ascii_case(host),
            (GeneralName::IPAddress(bytes), Ok(ip)) => match ip {
                std::net::IpAddr::V4(v4) => *bytes == v4.octets(),
                std::net::IpAddr::V6(v6) => *bytes == v6.octets(),
            },
            _ => false,
        })
    };
    hosts.iter().all(|host| named(host))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_certificate_is_issued_again_for_a_new_public_host_or_once_expired() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let now = app::clock::Clock::now(&app::clock::SystemClock);
        let text = |path: &Path| fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}"));
        let first = ensure(dir.path(), Some("bank.example"), now).unwrap_or_else(|e| panic!("{e}"));
        let (ca, cert) = (text(&first.ca), text(&first.cert));

        ensure(dir.path(), Some("bank.example"), now).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(text(&first.cert), cert, "kept while it still serves");
        ensure(dir.path(), Some("onboard.bank.example"), now).unwrap_or_else(|e| panic!("{e}"));
        let renamed = text(&first.cert);
        assert_ne!(renamed, cert, "issued again for the new host");
        assert!(still_serves(&renamed, &["localhost", "127.0.0.1", "::1", "onboard.bank.example"], now));
        assert!(!still_serves(&renamed, &["bank.example"], now));
        assert_eq!(text(&first.ca), ca, "by the same CA, which clients already trust");

        let later = now + chrono::Duration::days(900);
        ensure(dir.path(), Some("onboard.bank.example"), later).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(text(&first.cert), renamed, "issued again once expired");
    }
}
