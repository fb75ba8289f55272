//! Per-workspace client certificate trust: does the presented chain lead to one of the
//! workspace's trusted CAs, is it valid now, is it meant for client authentication, and, when
//! the workspace has revocation lists, does a current list of each issuer in the chain leave it
//! out. The verifier built from a workspace's CA bundle and lists is cached, one per bundle and
//! set of list issuers, and replaced when a list changes. So is each verdict that only a new
//! list can change (a chain accepted, a certificate revoked), for the window in which every
//! certificate in the chain is valid and every list current: a keep-alive TPP pays for the
//! signature checks of its chain once, not on every request, and a revoked one does not make
//! the lists be searched again on each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use app::crl_client::{CrlFetchError, RevocationList};
use chrono::{DateTime, Utc};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;
use rustls::{CertificateError, RootCertStore};
use sha2::{Digest as _, Sha256};
use x509_parser::asn1_rs::{Any, ToDer as _};
use x509_parser::prelude::{FromDer as _, X509Certificate};

use crate::oauth2::registration::ClientCertificateCheck;
use app::domain::dn::DistinguishedName;
use app::secrets::hex;

/// More distinct CA bundles (with their lists' issuers) than this and the cache starts over.
const MAX_CACHED_BUNDLES: usize = 256;
/// More remembered verdicts than this and their cache starts over.
const MAX_REMEMBERED_VERDICTS: usize = 16_384;

/// The revocation lists of a workspace (`client_crl_uris`), or why they cannot be had. An
/// empty list checks no revocation.
pub type RevocationLists = Result<Vec<Arc<RevocationList>>, CrlFetchError>;

/// What a TPP is told when the lists cannot be had (the reason is in the log and the console).
const LISTS_UNAVAILABLE: &str = "its revocation status cannot be checked now: a revocation list of this workspace cannot be had";

/// A verdict on a chain and when it holds: while every certificate in the chain is valid and
/// every list is current (Unix seconds, inclusive).
#[derive(Clone)]
struct Remembered {
    check: ClientCertificateCheck,
    not_before: i64,
    not_after: i64,
}

type Verifier = Result<Arc<dyn ClientCertVerifier>, &'static str>;

/// A verifier, and the bundle and lists it was built from.
struct Built {
    bundle: [u8; 32],
    verifier: Verifier,
}

pub struct ClientTrust {
    provider: Arc<CryptoProvider>,
    /// Keyed by the SHA-256 of the bundle and its lists' issuers.
    verifiers: Mutex<HashMap<[u8; 32], Built>>,
    /// Keyed by the SHA-256 of the bundle, its lists and the chain.
    verdicts: Mutex<HashMap<[u8; 32], Remembered>>,
}

impl ClientTrust {
    pub fn new(provider: Arc<CryptoProvider>) -> Self {
        Self { provider, verifiers: Mutex::new(HashMap::new()), verdicts: Mutex::new(HashMap::new()) }
    }

    /// Judges the chain a client presented (leaf first) against a workspace's CA bundle and
    /// revocation lists.
    pub fn check(
        &self,
        chain: Option<&[CertificateDer<'static>]>,
        trusted_ca_pem: Option<&str>,
        revocation: &RevocationLists,
        now: DateTime<Utc>,
    ) -> ClientCertificateCheck {
        let Some(chain) = chain.filter(|chain| !chain.is_empty()) else {
            return ClientCertificateCheck::Absent;
        };
        let untrusted =
            |reason: &str| ClientCertificateCheck::Untrusted { subject: subject_dn(&chain[0]), reason: reason.to_owned() };
        let Ok(lists) = revocation else {
            return untrusted(LISTS_UNAVAILABLE);
        };
        let Some(pem) = trusted_ca_pem else {
            return untrusted("this workspace trusts no client certificate authorities (trusted_client_ca_pem is not set)");
        };
        let bundle = bundle_key(pem, lists);
        let key = chain_key(&bundle, chain);
        if let Some(check) = self.remembered(&key, now) {
            return check;
        }
        let (check, lasting) = self.verify(chain, pem, lists, bundle, now);
        if lasting && let Some((not_before, certificates_until)) = validity_window(chain) {
            // A list is out of date at its nextUpdate itself.
            let lists_until = lists.iter().map(|list| list.next_update().timestamp() - 1).min().unwrap_or(i64::MAX);
            let not_after = certificates_until.min(lists_until);
            self.remember(key, Remembered { check: check.clone(), not_before, not_after });
        }
        check
    }

    /// A verdict remembered for this chain, if `now` is within its window.
    fn remembered(&self, key: &[u8; 32], now: DateTime<Utc>) -> Option<ClientCertificateCheck> {
        let verdicts = self.verdicts.lock().unwrap_or_else(PoisonError::into_inner);
        let verdict = verdicts.get(key)?;
        (verdict.not_before..=verdict.not_after).contains(&now.timestamp()).then(|| verdict.check.clone())
    }

    fn remember(&self, key: [u8; 32], verdict: Remembered) {
        let mut verdicts = self.verdicts.lock().unwrap_or_else(PoisonError::into_inner);
        if verdicts.len() >= MAX_REMEMBERED_VERDICTS {
            verdicts.clear();
        }
        verdicts.insert(key, verdict);
    }

    /// The full check: the chain's signatures, validity, purpose, path to the bundle, and
    /// revocation. Also whether the verdict holds for as long as the chain and the lists do
    /// (accepted, or revoked), so that it may be remembered.
    fn verify(
        &self,
        chain: &[CertificateDer<'static>],
        pem: &str,
        lists: &[Arc<RevocationList>],
        bundle: [u8; 32],
        now: DateTime<Utc>,
    ) -> (ClientCertificateCheck, bool) {
        let Some((leaf, intermediates)) = chain.split_first() else {
            return (ClientCertificateCheck::Absent, false);
        };
        let subject = subject_dn(leaf);
        let untrusted = |reason: &str| ClientCertificateCheck::Untrusted { subject: subject.clone(), reason: reason.to_owned() };
        let verifier = match self.verifier(pem, lists, bundle) {
            Ok(verifier) => verifier,
            Err(reason) => return (untrusted(reason), false),
        };
        let seconds = u64::try_from(now.timestamp()).unwrap_or_default();
        match verifier.verify_client_cert(leaf, intermediates, UnixTime::since_unix_epoch(Duration::from_secs(seconds))) {
            Ok(_) => (ClientCertificateCheck::Trusted { subject: subject.clone().unwrap_or_default() }, true),
            Err(rustls::Error::InvalidCertificate(CertificateError::Revoked)) => {
                (untrusted(&describe(&CertificateError::Revoked)), true)
            }
            Err(rustls::Error::InvalidCertificate(error)) => (untrusted(&describe(&error)), false),
            Err(rustls::Error::InvalidCertRevocationList(error)) => {
                tracing::warn!(?error, "a revocation list of a workspace cannot be used");
                (
                    untrusted("the revocation list of its issuer cannot be used (its signature or contents are not acceptable)"),
                    false,
                )
            }
            Err(_) => (untrusted("the certificate could not be verified"), false),
        }
    }

    /// The verifier for `pem` with `lists`: cached, or built (outside the cache's lock: lists
    /// can be large) and cached in place of one built from older lists.
    fn verifier(&self, pem: &str, lists: &[Arc<RevocationList>], bundle: [u8; 32]) -> Verifier {
        let slot = slot_key(pem, lists);
        {
            let cache = self.verifiers.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(built) = cache.get(&slot).filter(|built| built.bundle == bundle) {
                return built.verifier.clone();
            }
        }
        let verifier = self.build(pem, lists);
        let mut cache = self.verifiers.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= MAX_CACHED_BUNDLES && !cache.contains_key(&slot) {
            cache.clear();
        }
        cache.insert(slot, Built { bundle, verifier: verifier.clone() });
        verifier
    }

    /// A verifier for the bundle. With lists, every certificate of the chain below the trusted
    /// CA must be left out by a current list of its issuer: one a list names is revoked, one no
    /// list covers (or only a list past its `nextUpdate`) has an unknown status, and both are
    /// refused. A trusted CA itself is not looked up.
    fn build(&self, pem: &str, lists: &[Arc<RevocationList>]) -> Verifier {
        let mut roots = RootCertStore::empty();
        let certificates = CertificateDer::pem_slice_iter(pem.as_bytes()).filter_map(Result::ok);
        let (added, _) = roots.add_parsable_certificates(certificates);
        if added == 0 {
            return Err("this workspace's trusted_client_ca_pem holds no usable CA certificate");
        }
        let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), self.provider.clone());
        let builder = if lists.is_empty() {
            builder
        } else {
            builder
                .with_crls(lists.iter().map(|list| CertificateRevocationListDer::from(list.der().to_vec())))
                .enforce_revocation_expiration()
        };
        builder.build().map_err(|error| {
            tracing::warn!(?error, "a client certificate verifier could not be built");
            "this workspace's trusted CAs or revocation lists cannot be used"
        })
    }
}

/// What identifies a bundle with its lists, each part length-prefixed.
fn bundle_key(pem: &str, lists: &[Arc<RevocationList>]) -> [u8; 32] {
    let mut digest = Sha256::new();
    digest.update((pem.len() as u64).to_be_bytes());
    digest.update(pem.as_bytes());
    for list in lists {
        digest.update(list.sha256());
    }
    digest.finalize().into()
}

/// What identifies a bundle with the issuers of its lists: the same from one version of the
/// lists to the next, so a new version takes the old one's place in the cache.
fn slot_key(pem: &str, lists: &[Arc<RevocationList>]) -> [u8; 32] {
    let mut digest = Sha256::new();
    for part in std::iter::once(pem.as_bytes()).chain(lists.iter().map(|list| list.issuer_der())) {
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part);
    }
    digest.finalize().into()
}

/// What identifies a verdict: the bundle (with its lists) and the chain, each certificate
/// length-prefixed.
fn chain_key(bundle: &[u8; 32], chain: &[CertificateDer<'_>]) -> [u8; 32] {
    let mut digest = Sha256::new();
    digest.update(bundle);
    for part in chain.iter().map(AsRef::as_ref) {
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part);
    }
    digest.finalize().into()
}

/// The latest `notBefore` and the earliest `notAfter` of the chain's certificates.
fn validity_window(chain: &[CertificateDer<'_>]) -> Option<(i64, i64)> {
    chain.iter().try_fold((i64::MIN, i64::MAX), |(from, until), der| {
        let (_, certificate) = X509Certificate::from_der(der).ok()?;
        let validity = certificate.validity();
        Some((from.max(validity.not_before.timestamp()), until.min(validity.not_after.timestamp())))
    })
}

fn describe(error: &CertificateError) -> String {
    match error {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => "the certificate has expired".to_owned(),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "the certificate is not valid yet".to_owned()
        }
        CertificateError::UnknownIssuer => "the certificate is not issued by a CA this workspace trusts".to_owned(),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "the certificate is not meant for TLS client authentication".to_owned()
        }
        CertificateError::Revoked => "the certificate is revoked (named by its issuer's revocation list)".to_owned(),
        CertificateError::UnknownRevocationStatus => {
            "its revocation status is unknown: no revocation list of this workspace is its issuer's".to_owned()
        }
        CertificateError::ExpiredRevocationList | CertificateError::ExpiredRevocationListContext { .. } => {
            "the revocation list of its issuer is past its next update, and no newer one could be fetched".to_owned()
        }
        other => format!("the certificate is not acceptable ({other:?})"),
    }
}

/// The subject of a DER certificate as an RFC 4514 string (most specific RDN first).
pub fn subject_dn(der: &CertificateDer<'_>) -> Option<String> {
    let (_, certificate) = X509Certificate::from_der(der).ok()?;
    Some(rfc4514(certificate.subject()))
}

/// What a DCR policy may read about the client certificate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertificateFacts {
    pub subject_dn: String,
    pub issuer_dn: String,
    /// Lowercase hex.
    pub serial: String,
    /// RFC 3339.
    pub not_after: String,
    /// The base64url SHA-256 of the DER certificate (the `x5t#S256` tokens are bound to).
    pub sha256: String,
}

pub fn certificate_facts(der: &CertificateDer<'_>) -> Option<CertificateFacts> {
    let (_, certificate) = X509Certificate::from_der(der).ok()?;
    let not_after = chrono::DateTime::from_timestamp(certificate.validity().not_after.timestamp(), 0)?;
    Some(CertificateFacts {
        subject_dn: rfc4514(certificate.subject()),
        issuer_dn: rfc4514(certificate.issuer()),
        serial: hex(certificate.raw_serial()),
        not_after: not_after.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        sha256: crate::oauth2::token::certificate_thumbprint(der),
    })
}

fn rfc4514(name: &x509_parser::x509::X509Name<'_>) -> String {
    let registry = x509_parser::objects::oid_registry();
    let mut rdns: Vec<_> = name.iter().collect();
    rdns.reverse();
    let rdns: Vec<String> = rdns
        .into_iter()
        .map(|rdn| {
            rdn.iter()
                .map(|attribute| {
                    let oid = attribute.attr_type();
                    let name = x509_parser::objects::oid2abbrev(oid, registry).map_or_else(|_| oid.to_id_string(), str::to_owned);
                    let value = attribute.as_str().map_or_else(|_| hex_encoded(attribute.attr_value()), escape_rfc4514);
                    format!("{name}={value}")
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.join(",")
}

/// The subject of a DER certificate as attributes, for comparing with a registered DN. `None`
/// if any attribute's value cannot be read: dropping it would let a longer name pass as a
/// shorter one.
pub fn subject_name(der: &CertificateDer<'_>) -> Option<DistinguishedName> {
    let (_, certificate) = X509Certificate::from_der(der).ok()?;
    let attributes: Vec<(String, String)> = certificate
        .subject()
        .iter_attributes()
        .map(|attribute| Some((attribute.attr_type().to_id_string(), attribute.as_str().ok()?.to_owned())))
        .collect::<Option<_>>()?;
    Some(DistinguishedName::from_attributes(attributes.iter().map(|(oid, value)| (oid.clone(), value.as_str()))))
}

/// RFC 4514 §2.4: a value with no string form here (a `BMPString`, say) is written as `#` and
/// the hex of its BER encoding, so that two different values never print alike (a subject
/// string binds registration access tokens).
fn hex_encoded(value: &Any<'_>) -> String {
    let der = value.to_der_vec().unwrap_or_else(|_| value.as_bytes().to_vec());
    format!("#{}", hex(&der))
}

/// RFC 4514 §2.4 escaping of an attribute value.
fn escape_rfc4514(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (index, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (index == 0 && (c == '#' || c == ' '))
            || (index == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use rcgen::DnType;

    use super::*;
    use crate::pki::CertificateAuthority;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_316_679, 0).unwrap_or_default()
    }

    fn chain(der: &CertificateDer<'static>) -> Vec<CertificateDer<'static>> {
        vec![der.clone()]
    }

    /// No revocation lists.
    const NONE: RevocationLists = Ok(Vec::new());

    /// Lists as fetched, each signed by a CA of `bundle`.
    fn lists(bundle: &str, ders: &[&[u8]]) -> Vec<Arc<RevocationList>> {
        ders.iter().map(|der| Arc::new(RevocationList::parse(der, bundle).unwrap_or_else(|e| panic!("{e}")))).collect()
    }

    fn reason(check: ClientCertificateCheck) -> String {
        match check {
            ClientCertificateCheck::Untrusted { reason, .. } => reason,
            other => panic!("expected untrusted, got {other:?}"),
        }
    }

    /// A certificate its issuer's list names is refused, and remembered as such; one it does
    /// not name passes. With lists, one whose issuer has none is refused (its status is
    /// unknown), a list past its next update refuses what it covers, a list with a bad
    /// signature refuses too, and lists that cannot be had refuse every certificate.
    #[test]
    fn revocation_lists_refuse_what_they_name_and_fail_closed() {
        let ca = CertificateAuthority::generate("Issuing CA", now()).unwrap_or_else(|e| panic!("{e}"));
        let other = CertificateAuthority::generate("Other CA", now()).unwrap_or_else(|e| panic!("{e}"));
        let subject = |cn| [(DnType::CommonName, cn), (DnType::CountryName, "GB")];
        let revoked = ca.issue_client(&subject("revoked tpp"), now()).unwrap_or_else(|e| panic!("{e}"));
        let kept = ca.issue_client(&subject("good tpp"), now()).unwrap_or_else(|e| panic!("{e}"));
        let elsewhere = other.issue_client(&subject("other tpp"), now()).unwrap_or_else(|e| panic!("{e}"));
        let bundle = format!("{}{}", ca.cert_pem(), other.cert_pem());
        let list_of = |authority: &CertificateAuthority, revoked: &[&CertificateDer<'_>]| {
            authority
                .revocation_list(revoked, now() - Duration::days(1), now() + Duration::days(2))
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let current = Ok(lists(&bundle, &[&list_of(&ca, &[&revoked.der])]));
        let trust = ClientTrust::new(crate::tls::provider());
        let check = |issued: &crate::pki::IssuedCertificate, lists: &RevocationLists, at| {
            trust.check(Some(&chain(&issued.der)), Some(&bundle), lists, at)
        };

        assert!(matches!(check(&revoked, &NONE, now()), ClientCertificateCheck::Trusted { .. }), "no lists, no check");
        assert!(reason(check(&revoked, &current, now())).contains("the certificate is revoked"));
        assert_eq!(trust.verdicts.lock().map(|v| v.len()).unwrap_or_default(), 2, "the revocation is remembered too");
        assert!(reason(check(&revoked, &current, now())).contains("the certificate is revoked"));
        assert!(matches!(check(&kept, &current, now()), ClientCertificateCheck::Trusted { .. }));
        let unknown = reason(check(&elsewhere, &current, now()));
        assert_eq!(unknown, "its revocation status is unknown: no revocation list of this workspace is its issuer's");

        let both = Ok(lists(&bundle, &[&list_of(&ca, &[&revoked.der]), &list_of(&other, &[])]));
        assert!(matches!(check(&elsewhere, &both, now()), ClientCertificateCheck::Trusted { .. }), "each issuer its list");
        // Remembered while the lists are current, and judged again at the first next update.
        assert!(matches!(check(&kept, &both, now()), ClientCertificateCheck::Trusted { .. }));
        let next_update = both.as_ref().map(|lists| lists[0].next_update()).unwrap_or_default();
        assert!(matches!(check(&kept, &both, next_update - Duration::seconds(1)), ClientCertificateCheck::Trusted { .. }));
        assert!(reason(check(&kept, &both, next_update)).contains("past its next update"), "not remembered at it");
        assert!(reason(check(&elsewhere, &both, next_update)).contains("past its next update"));

        let unavailable: RevocationLists =
            Err(CrlFetchError::Status { uri: "http://crl.example/ca.crl".to_owned(), status: 503 });
        assert_eq!(reason(check(&kept, &unavailable, now())), LISTS_UNAVAILABLE, "the list's address is not told");
    }

    /// A new version of a workspace's lists takes the place of the old one in the cache.
    #[test]
    fn a_new_version_of_the_lists_replaces_the_verifier_built_from_the_old() {
        let ca = CertificateAuthority::generate("Issuing CA", now()).unwrap_or_else(|e| panic!("{e}"));
        let issued = ca.issue_client(&[(DnType::CommonName, "tpp")], now()).unwrap_or_else(|e| panic!("{e}"));
        let trust = ClientTrust::new(crate::tls::provider());
        for day in 0..3 {
            let list = ca.revocation_list(&[], now() - Duration::days(1) + Duration::days(day), now() + Duration::days(5));
            let lists = Ok(lists(ca.cert_pem(), &[&list.unwrap_or_else(|e| panic!("{e}"))]));
            assert!(matches!(
                trust.check(Some(&chain(&issued.der)), Some(ca.cert_pem()), &lists, now()),
                ClientCertificateCheck::Trusted { .. }
            ));
        }
        assert_eq!(trust.verifiers.lock().map(|v| v.len()).unwrap_or_default(), 1);
    }

    #[test]
    fn judges_chains_against_the_workspace_bundle() {
        let ca = CertificateAuthority::generate("Test CA", now()).unwrap_or_else(|e| panic!("{e}"));
        let other = CertificateAuthority::generate("Other CA", now()).unwrap_or_else(|e| panic!("{e}"));
        let subject = [(DnType::CommonName, "tpp, ltd"), (DnType::OrganizationName, "OpenBanking"), (DnType::CountryName, "GB")];
        let good = ca.issue_client(&subject, now()).unwrap_or_else(|e| panic!("{e}"));
        let foreign = other.issue_client(&subject, now()).unwrap_or_else(|e| panic!("{e}"));
        let expired = ca
            .issue_client_valid(&subject, now() - Duration::days(30), now() - Duration::days(2))
            .unwrap_or_else(|e| panic!("{e}"));
        let trust = ClientTrust::new(crate::tls::provider());

        assert_eq!(trust.check(None, Some(ca.cert_pem()), &NONE, now()), ClientCertificateCheck::Absent);
        assert_eq!(
            trust.check(Some(&chain(&good.der)), Some(ca.cert_pem()), &NONE, now()),
            ClientCertificateCheck::Trusted { subject: "C=GB,O=OpenBanking,CN=tpp\\, ltd".to_owned() }
        );
        assert!(
            reason(trust.check(Some(&chain(&foreign.der)), Some(ca.cert_pem()), &NONE, now())).contains("not issued by a CA")
        );
        assert!(reason(trust.check(Some(&chain(&expired.der)), Some(ca.cert_pem()), &NONE, now())).contains("expired"));
        assert!(reason(trust.check(Some(&chain(&good.der)), None, &NONE, now())).contains("trusts no client"));
        assert!(reason(trust.check(Some(&chain(&good.der)), Some("garbage"), &NONE, now())).contains("no usable CA"));
        assert_eq!(subject_name(&good.der), DistinguishedName::parse("CN=tpp\\, ltd,O=OpenBanking,C=GB").ok());
        let both = format!("{}{}", other.cert_pem(), ca.cert_pem());
        assert!(matches!(
            trust.check(Some(&chain(&good.der)), Some(&both), &NONE, now()),
            ClientCertificateCheck::Trusted { .. }
        ));
    }

    /// An accepted chain is taken from memory only while every certificate in it is valid, and
    /// only for the bundle that accepted it.
    #[test]
    fn a_remembered_chain_is_judged_again_outside_its_validity_or_under_another_bundle() {
        let ca = CertificateAuthority::generate("Test CA", now()).unwrap_or_else(|e| panic!("{e}"));
        let other = CertificateAuthority::generate("Other CA", now()).unwrap_or_else(|e| panic!("{e}"));
        let subject = [(DnType::CommonName, "tpp"), (DnType::CountryName, "GB")];
        let until = now() + Duration::days(1);
        let issued = ca.issue_client_valid(&subject, now() - Duration::days(1), until).unwrap_or_else(|e| panic!("{e}"));
        let trust = ClientTrust::new(crate::tls::provider());
        let presented = chain(&issued.der);
        let check = |pem: &str, at: DateTime<Utc>| trust.check(Some(&presented), Some(pem), &NONE, at);

        assert!(matches!(check(ca.cert_pem(), now()), ClientCertificateCheck::Trusted { .. }));
        assert_eq!(trust.verdicts.lock().map(|a| a.len()).unwrap_or_default(), 1, "remembered");
        assert!(matches!(check(ca.cert_pem(), now() + Duration::hours(1)), ClientCertificateCheck::Trusted { .. }));
        let expired = check(ca.cert_pem(), until + Duration::seconds(1));
        assert!(
            matches!(&expired, ClientCertificateCheck::Untrusted { reason, .. } if reason.contains("expired")),
            "{expired:?}"
        );
        let early = check(ca.cert_pem(), now() - Duration::days(2));
        assert!(
            matches!(&early, ClientCertificateCheck::Untrusted { reason, .. } if reason.contains("not valid yet")),
            "{early:?}"
        );
        let foreign = check(other.cert_pem(), now());
        assert!(matches!(&foreign, ClientCertificateCheck::Untrusted { reason, .. } if reason.contains("not issued by a CA")));
        assert_eq!(trust.verdicts.lock().map(|a| a.len()).unwrap_or_default(), 1, "refusals are not remembered");
    }

    /// Values x509-parser has no string for print as RFC 4514 hex of their encoding: two
    /// `BMPString` names differ, as the names do.
    #[test]
    fn values_without_a_string_form_print_as_their_encoding() {
        let subject = |cn: &str| {
            let mut params = rcgen::CertificateParams::default();
            let bmp = rcgen::string::BmpString::try_from(cn).unwrap_or_else(|e| panic!("{e}"));
            params.distinguished_name.push(DnType::CommonName, rcgen::DnValue::BmpString(bmp));
            let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap_or_else(|e| panic!("{e}"));
            let certificate = params.self_signed(&key).unwrap_or_else(|e| panic!("{e}"));
            subject_dn(certificate.der()).unwrap_or_default()
        };
        assert_eq!(subject("al"), "CN=#1e040061006c");
        assert_ne!(subject("alice"), subject("mallory"));
    }

    #[test]
    fn escapes_rfc4514_specials() {
        assert_eq!(escape_rfc4514("a,b+c"), "a\\,b\\+c");
        assert_eq!(escape_rfc4514(" lead"), "\\ lead");
        assert_eq!(escape_rfc4514("#x"), "\\#x");
    }

    mod properties {
        use std::sync::OnceLock;

        use proptest::prelude::*;

        use super::*;

        fn ca() -> &'static CertificateAuthority {
            static CA: OnceLock<CertificateAuthority> = OnceLock::new();
            CA.get_or_init(|| CertificateAuthority::generate("Property CA", now()).unwrap_or_else(|e| panic!("{e}")))
        }

        /// Attribute values with every character RFC 4514 escapes, spaces at either end and
        /// non-ASCII letters.
        fn value() -> impl Strategy<Value = String> {
            "[ a-zA-Z0-9,+\"\\\\<>;#=éß€]{1,16}"
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

            /// The subject Onboard prints for a certificate (in the console, the audit log and
            /// errors) is one an administrator can register as `tls_client_auth_subject_dn`:
            /// parsed, it names exactly the certificate's subject.
            #[test]
            fn a_printed_subject_names_the_certificate(common in value(), organisation in value(), unit in value()) {
                let subject = [(DnType::CommonName, common.as_str()), (DnType::OrganizationName, organisation.as_str()), (DnType::OrganizationalUnitName, unit.as_str())];
                let issued = ca().issue_client(&subject, now()).unwrap_or_else(|e| panic!("{e}"));
                let printed = subject_dn(&issued.der).unwrap_or_default();
                let parsed = DistinguishedName::parse(&printed);
                prop_assert_eq!(parsed.ok(), subject_name(&issued.der), "printed as {}", printed);
            }
        }
    }
}
