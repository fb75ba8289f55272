//! Small X.509 authority: the development CA and server certificate made on first start, and
//! the transport certificates the test suites and the TPP toolkit issue to TPPs.

use chrono::{DateTime, Datelike, Duration, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::CertificateDer;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("'{0}' is neither a DNS name nor an IP address")]
    BadHost(String),
    #[error("not a usable certificate signing request: {0}")]
    BadRequest(rcgen::Error),
}

/// A certificate and its private key, as PEM.
#[derive(Clone)]
pub struct IssuedCertificate {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: CertificateDer<'static>,
}

impl std::fmt::Debug for IssuedCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCertificate").finish_non_exhaustive()
    }
}

/// A certificate authority that can issue server and client certificates.
pub struct CertificateAuthority {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
    key_pem: String,
}

impl CertificateAuthority {
    /// A new CA (ECDSA P-256), valid for ten years from `now`.
    pub fn generate(common_name: &str, now: DateTime<Utc>) -> Result<Self, PkiError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = name(&[(DnType::CommonName, common_name), (DnType::OrganizationName, "Onboard")]);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        set_validity(&mut params, now, Duration::days(3650));
        let certificate = params.self_signed(&key)?;
        let cert_pem = certificate.pem();
        let key_pem = key.serialize_pem();
        Ok(Self { issuer: Issuer::new(params, key), cert_pem, key_pem })
    }

    /// A CA from its certificate and key PEM.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, PkiError> {
        let key = KeyPair::from_pem(key_pem)?;
        let issuer = Issuer::from_ca_cert_pem(cert_pem, key)?;
        Ok(Self { issuer, cert_pem: cert_pem.to_owned(), key_pem: key_pem.to_owned() })
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// A TLS server certificate (RSA-2048, so TLS 1.2 can use the FAPI ECDHE-RSA suites) for
    /// the given DNS names and IP addresses, valid for 825 days.
    pub fn issue_server(&self, hosts: &[&str], now: DateTime<Utc>) -> Result<IssuedCertificate, PkiError> {
        let key = KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = name(&[(DnType::CommonName, hosts.first().copied().unwrap_or("localhost"))]);
        params.subject_alt_names = hosts.iter().map(|host| san(host)).collect::<Result<_, _>>()?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        set_validity(&mut params, now, Duration::days(825));
        self.sign(&params, &key)
    }

    /// A TLS client (transport) certificate with the given subject, valid for a year.
    pub fn issue_client(&self, subject: &[(DnType, &str)], now: DateTime<Utc>) -> Result<IssuedCertificate, PkiError> {
        self.issue_client_valid(subject, now - Duration::days(1), now + Duration::days(365))
    }

    /// A client certificate with an explicit validity window (for expired-certificate tests).
    pub fn issue_client_valid(
        &self,
        subject: &[(DnType, &str)],
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
    ) -> Result<IssuedCertificate, PkiError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = client_params(subject);
        params.not_before = offset(not_before);
        params.not_after = offset(not_after);
        self.sign(&params, &key)
    }

    fn sign(&self, params: &CertificateParams, key: &KeyPair) -> Result<IssuedCertificate, PkiError> {
        let certificate = params.signed_by(key, &self.issuer)?;
        Ok(IssuedCertificate { cert_pem: certificate.pem(), key_pem: key.serialize_pem(), der: certificate.der().clone() })
    }

    /// A transport certificate for the key of `csr_pem`, whose signature proves the requester
    /// holds that key. The subject and lifetime are the authority's to set (a year); whatever
    /// else the request asks for is ignored. Returns the certificate's PEM.
    pub fn issue_client_for_request(
        &self,
        csr_pem: &str,
        subject: &[(DnType, &str)],
        now: DateTime<Utc>,
    ) -> Result<String, PkiError> {
        let mut request = rcgen::CertificateSigningRequestParams::from_pem(csr_pem).map_err(PkiError::BadRequest)?;
        request.params = client_params(subject);
        set_validity(&mut request.params, now, Duration::days(365));
        Ok(request.signed_by(&self.issuer)?.pem())
    }

    /// A revocation list (DER) naming `revoked`, certificates this authority issued, current
    /// from `this_update` to `next_update` (whole days, as the certificates' validity is): for
    /// the test suites' checks of revocation.
    pub fn revocation_list(
        &self,
        revoked: &[&CertificateDer<'_>],
        this_update: DateTime<Utc>,
        next_update: DateTime<Utc>,
    ) -> Result<Vec<u8>, PkiError> {
        use x509_parser::prelude::{FromDer as _, X509Certificate};
        let revoked_certs = revoked
            .iter()
            .map(|der| {
                let (_, certificate) = X509Certificate::from_der(der).map_err(|_| rcgen::Error::CouldNotParseCertificate)?;
                Ok(rcgen::RevokedCertParams {
                    serial_number: rcgen::SerialNumber::from_slice(certificate.raw_serial()),
                    revocation_time: offset(this_update),
                    reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
            })
            .collect::<Result<Vec<_>, rcgen::Error>>()?;
        let params = rcgen::CertificateRevocationListParams {
            this_update: offset(this_update),
            next_update: offset(next_update),
            crl_number: rcgen::SerialNumber::from(u64::try_from(this_update.timestamp()).unwrap_or_default()),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        };
        Ok(params.signed_by(&self.issuer)?.der().to_vec())
    }
}

/// A self-signed TLS client certificate (for `self_signed_tls_client_auth`), valid for a year.
pub fn self_signed_client(subject: &[(DnType, &str)], now: DateTime<Utc>) -> Result<IssuedCertificate, PkiError> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = client_params(subject);
    set_validity(&mut params, now, Duration::days(365));
    let certificate = params.self_signed(&key)?;
    Ok(IssuedCertificate { cert_pem: certificate.pem(), key_pem: key.serialize_pem(), der: certificate.der().clone() })
}

/// A new transport key (P-256) and a certificate signing request for it with `subject`, both
/// PEM: what a TPP sends a directory to be issued a transport certificate.
pub fn transport_key_and_request(subject: &[(DnType, &str)]) -> Result<(String, String), PkiError> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let request = client_params(subject).serialize_request(&key)?;
    Ok((key.serialize_pem(), request.pem()?))
}

/// A self-signed transport certificate for an existing key (PEM), valid for a year.
pub fn self_signed_for_key(key_pem: &str, subject: &[(DnType, &str)], now: DateTime<Utc>) -> Result<String, PkiError> {
    let key = KeyPair::from_pem(key_pem)?;
    let mut params = client_params(subject);
    set_validity(&mut params, now, Duration::days(365));
    Ok(params.self_signed(&key)?.pem())
}

fn client_params(subject: &[(DnType, &str)]) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = name(subject);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params
}

fn name(parts: &[(DnType, &str)]) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    for (kind, value) in parts {
        name.push(kind.clone(), *value);
    }
    name
}

fn san(host: &str) -> Result<SanType, PkiError> {
    if let Ok(ip) = host.parse() {
        return Ok(SanType::IpAddress(ip));
    }
    host.to_owned().try_into().map(SanType::DnsName).map_err(|_| PkiError::BadHost(host.to_owned()))
}

fn set_validity(params: &mut CertificateParams, now: DateTime<Utc>, lifetime: Duration) {
    params.not_before = offset(now - Duration::days(1));
    params.not_after = offset(now + lifetime);
}

fn offset(at: DateTime<Utc>) -> time::OffsetDateTime {
    let month = u8::try_from(at.month()).unwrap_or(1);
    let day = u8::try_from(at.day()).unwrap_or(1);
    rcgen::date_time_ymd(at.year(), month, day)
}
