//! Fetches the certificate revocation lists a workspace names (`client_crl_uris`) and keeps
//! them for the client certificate checks.
//!
//! Bounded as key set fetches are ([`crate::outbound`]): public addresses only unless the
//! deployment lists more networks, no redirects, no proxy, a 3 s timeout, and at most 8 MiB. A
//! list is fetched again after the response's `max-age` (10 minutes without one, kept between 1
//! minute and 1 hour) and at its `nextUpdate` at the latest. What is fetched is kept only if
//! rustls-webpki can use it, it is signed by the trusted CA whose name it carries as its issuer,
//! its `thisUpdate` is not in the future, and it is not older (by `thisUpdate` and `cRLNumber`)
//! than the list kept: a signed list stays valid until its `nextUpdate`, so an old one replayed
//! over plain http would otherwise hide a revocation, and an unsigned one could pose as the
//! newest. While a refresh fails the list kept is used, and once past its `nextUpdate` the
//! certificate check refuses what it covers. With no list kept, one request fetches while the
//! others for the same URL wait for it, and a failure is the answer for 30 s before the URL is
//! tried again: clients' requests cannot each become a fetch.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};
use x509_parser::prelude::{CertificateRevocationList, FromDer as _, X509Certificate};

use crate::clock::Clock;
use crate::domain::revocation::CrlUri;
use crate::metrics::{CrlFetch, Metrics};
use crate::outbound::{FetchFailure, Fetcher};

const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
const DEFAULT_REFRESH: chrono::Duration = chrono::Duration::minutes(10);
const MIN_REFRESH: chrono::Duration = chrono::Duration::minutes(1);
const MAX_REFRESH: chrono::Duration = chrono::Duration::hours(1);
/// How long a failed fetch of a URL with no list kept is the answer, and how long a refresh
/// claimed by one request spares the others from fetching too.
const RETRY_AFTER_FAILURE: chrono::Duration = chrono::Duration::seconds(30);
/// A list no check has asked for this long (its URL left the settings) is no longer kept.
const FORGET_UNUSED: chrono::Duration = chrono::Duration::days(1);
/// How far in the future a list's `thisUpdate` may be (the CA's clock may run ahead of ours).
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// A certificate revocation list as fetched (DER), with what the checks need to know of it.
#[derive(Debug, PartialEq, Eq)]
pub struct RevocationList {
    der: Vec<u8>,
    sha256: [u8; 32],
    /// The issuer's name as the list encodes it (DER): rustls-webpki matches it byte for byte
    /// with a certificate's issuer.
    issuer_der: Vec<u8>,
    issuer: String,
    this_update: DateTime<Utc>,
    next_update: DateTime<Utc>,
    /// The `cRLNumber`, big-endian without leading zeros.
    number: Option<Vec<u8>>,
    revoked: usize,
}

impl RevocationList {
    /// A CRL in DER or PEM (`X509 CRL`) that rustls-webpki can use (no delta or indirect lists,
    /// no unknown critical extension), signed by the CA of `trusted_ca_pem` whose name it
    /// carries as its issuer. It must say when its successor is due (`nextUpdate`, which RFC 5280
    /// §5.1.2.5 requires): without it, a list could be used forever.
    pub fn parse(body: &[u8], trusted_ca_pem: &str) -> Result<Self, String> {
        let der = if body.starts_with(b"-----BEGIN") {
            let (_, pem) = x509_parser::pem::parse_x509_pem(body).map_err(|_| "is not a PEM document".to_owned())?;
            if pem.label != "X509 CRL" {
                return Err(format!("is a PEM {}, not an X509 CRL", pem.label));
            }
            pem.contents
        } else {
            body.to_vec()
        };
        let (rest, list) =
            CertificateRevocationList::from_der(&der).map_err(|_| "is not a certificate revocation list".to_owned())?;
        if !rest.is_empty() {
            return Err("has data after the certificate revocation list".to_owned());
        }
        webpki::OwnedCertRevocationList::from_der(&der)
            .map_err(|error| format!("is a revocation list the certificate check cannot use ({error})"))?;
        let issuer = x509_parser::pem::Pem::iter_from_buffer(trusted_ca_pem.as_bytes())
            .filter_map(Result::ok)
            .find(|block| {
                X509Certificate::from_der(&block.contents).is_ok_and(|(_, ca)| ca.subject().as_raw() == list.issuer().as_raw())
            })
            .ok_or_else(|| format!("is issued by {}, which is not one of the workspace's trusted client CAs", list.issuer()))?;
        let (_, issuer) = X509Certificate::from_der(&issuer.contents).map_err(|_| "names an unreadable issuer".to_owned())?;
        list.verify_signature(issuer.public_key())
            .map_err(|_| format!("is not signed by {}, the trusted CA it names as its issuer", list.issuer()))?;
        let time = |at: x509_parser::time::ASN1Time| DateTime::from_timestamp(at.timestamp(), 0);
        let next_update = list
            .next_update()
            .and_then(time)
            .ok_or_else(|| "has no nextUpdate, so it cannot tell when it is out of date".to_owned())?;
        let this_update = time(list.last_update()).ok_or_else(|| "has an unreadable thisUpdate".to_owned())?;
        Ok(Self {
            sha256: Sha256::digest(&der).into(),
            issuer_der: list.issuer().as_raw().to_vec(),
            issuer: list.issuer().to_string(),
            this_update,
            next_update,
            number: list.crl_number().map(|number| number.to_bytes_be().into_iter().skip_while(|b| *b == 0).collect()),
            revoked: list.iter_revoked_certificates().count(),
            der,
        })
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// SHA-256 of the DER: what tells two lists apart.
    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    /// The issuer's name as the list encodes it (DER).
    pub fn issuer_der(&self) -> &[u8] {
        &self.issuer_der
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn next_update(&self) -> DateTime<Utc> {
        self.next_update
    }

    /// How many certificates the list names.
    pub fn revoked(&self) -> usize {
        self.revoked
    }

    /// Whether this list was issued before `other`: an earlier `thisUpdate`, or a lower
    /// `cRLNumber` when both have one.
    fn is_older_than(&self, other: &Self) -> bool {
        let by_number = match (&self.number, &other.number) {
            (Some(mine), Some(theirs)) => mine.len().cmp(&theirs.len()).then_with(|| mine.cmp(theirs)),
            _ => Ordering::Equal,
        };
        self.this_update < other.this_update || by_number == Ordering::Less
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrlFetchError {
    #[error("the revocation list URL {uri} is not usable: {reason}")]
    NotAllowed { uri: String, reason: String },
    #[error("the revocation list at {uri} could not be fetched: {reason}")]
    Unreachable { uri: String, reason: String },
    #[error("the revocation list at {uri} answered HTTP {status}")]
    Status { uri: String, status: u16 },
    #[error("the revocation list at {uri} is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge { uri: String },
    #[error("the document at {uri} {reason}")]
    Invalid { uri: String, reason: String },
}

struct Kept {
    list: Arc<RevocationList>,
    refresh_at: DateTime<Utc>,
    /// When a request took on the refresh; the others use the list meanwhile.
    refresh_claimed: Option<DateTime<Utc>>,
    last_used: DateTime<Utc>,
}

enum Lookup {
    Use(Arc<RevocationList>),
    /// Due for a refresh, which this request has claimed; usable if the refresh fails.
    Refresh(Arc<RevocationList>),
    Missing,
}

pub struct CrlClient {
    fetcher: Arc<Fetcher>,
    clock: Arc<dyn Clock>,
    kept: Mutex<HashMap<CrlUri, Kept>>,
    failures: Mutex<HashMap<CrlUri, (DateTime<Utc>, CrlFetchError)>>,
    /// One lock per URL with no list kept: its first fetch is made once, not by every request.
    first_fetches: Mutex<HashMap<CrlUri, Arc<tokio::sync::Mutex<()>>>>,
    metrics: Arc<Metrics>,
}

impl CrlClient {
    pub fn new(fetcher: Arc<Fetcher>, clock: Arc<dyn Clock>, metrics: Arc<Metrics>) -> Self {
        Self {
            fetcher,
            clock,
            kept: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            first_fetches: Mutex::new(HashMap::new()),
            metrics,
        }
    }

    /// The lists at `uris`, in order, each checked against `trusted_ca_pem` when fetched; the
    /// first that cannot be had is the error. Lists not kept are fetched together.
    pub async fn lists(&self, uris: &[String], trusted_ca_pem: Option<&str>) -> Result<Vec<Arc<RevocationList>>, CrlFetchError> {
        futures_util::future::join_all(uris.iter().map(|uri| self.list_at(uri, trusted_ca_pem))).await.into_iter().collect()
    }

    /// The list at `uri`: kept, or fetched and checked against `trusted_ca_pem`.
    pub async fn list_at(&self, uri: &str, trusted_ca_pem: Option<&str>) -> Result<Arc<RevocationList>, CrlFetchError> {
        let uri = CrlUri::parse(uri).map_err(|reason| CrlFetchError::NotAllowed { uri: uri.to_owned(), reason })?;
        self.check_address(&uri).map_err(|reason| CrlFetchError::NotAllowed { uri: uri.to_string(), reason })?;
        let trusted = trusted_ca_pem.unwrap_or_default();
        match self.lookup(&uri, self.clock.now()) {
            Lookup::Use(list) => Ok(list),
            Lookup::Refresh(kept) => Ok(self.refresh(&uri, kept, trusted).await),
            Lookup::Missing => self.first_fetch(&uri, trusted).await,
        }
    }

    /// An address written in the URL must be one fetches may reach; settings check this on save.
    pub fn check_address(&self, uri: &CrlUri) -> Result<(), String> {
        self.fetcher.check_address(uri.url())
    }

    /// A fetch of a list not kept, made by one request while the others wait for its outcome.
    async fn first_fetch(&self, uri: &CrlUri, trusted: &str) -> Result<Arc<RevocationList>, CrlFetchError> {
        let gate = lock(&self.first_fetches).entry(uri.clone()).or_default().clone();
        let _turn = gate.lock().await;
        let now = self.clock.now();
        let outcome = match self.lookup(uri, now) {
            Lookup::Use(list) => Ok(list),
            Lookup::Refresh(kept) => Ok(self.refresh(uri, kept, trusted).await),
            Lookup::Missing => match self.recent_failure(uri, now) {
                Some(error) => Err(error),
                None => match self.fetch(uri, trusted).await {
                    Ok((list, lifetime)) => Ok(self.keep(uri, list, lifetime, now)),
                    Err(error) => {
                        self.metrics.crl_fetch(CrlFetch::Failed);
                        tracing::warn!(%error, "a revocation list could not be had: client certificates are refused");
                        let mut failures = lock(&self.failures);
                        failures.retain(|_, (at, _)| now - *at < RETRY_AFTER_FAILURE);
                        failures.insert(uri.clone(), (now, error.clone()));
                        Err(error)
                    }
                },
            },
        };
        lock(&self.first_fetches).remove(uri);
        outcome
    }

    /// A refresh of the list kept, which stays in use if the fetch fails.
    async fn refresh(&self, uri: &CrlUri, kept: Arc<RevocationList>, trusted: &str) -> Arc<RevocationList> {
        let now = self.clock.now();
        match self.fetch(uri, trusted).await {
            Ok((list, lifetime)) => self.keep(uri, list, lifetime, now),
            Err(error) => {
                self.metrics.crl_fetch(CrlFetch::KeptUsed);
                tracing::warn!(%error, next_update = %kept.next_update, "using the revocation list kept while its refresh fails");
                kept
            }
        }
    }

    /// Keeps `list`, unless the list kept meanwhile is newer: an older list, replayed, does not
    /// replace it (decided under the lock, so that two fetches cannot undo each other).
    fn keep(&self, uri: &CrlUri, list: RevocationList, lifetime: chrono::Duration, now: DateTime<Utc>) -> Arc<RevocationList> {
        let refresh_at = (now + lifetime).min(list.next_update).max(now + MIN_REFRESH);
        let mut kept = lock(&self.kept);
        kept.retain(|_, entry| now - entry.last_used < FORGET_UNUSED);
        if let Some(entry) = kept.get_mut(uri)
            && list.is_older_than(&entry.list)
        {
            self.metrics.crl_fetch(CrlFetch::KeptUsed);
            tracing::warn!(uri = %uri, this_update = %list.this_update, "a revocation list older than the one kept was fetched, and not used");
            entry.refresh_at = refresh_at;
            return entry.list.clone();
        }
        self.metrics.crl_fetch(CrlFetch::Fetched);
        let list = Arc::new(list);
        kept.insert(uri.clone(), Kept { list: list.clone(), refresh_at, refresh_claimed: None, last_used: now });
        drop(kept);
        lock(&self.failures).remove(uri);
        list
    }

    /// What is kept for `uri`. A refresh it calls for is claimed here, under the lock.
    fn lookup(&self, uri: &CrlUri, now: DateTime<Utc>) -> Lookup {
        let mut kept = lock(&self.kept);
        let Some(entry) = kept.get_mut(uri) else { return Lookup::Missing };
        entry.last_used = now;
        let claimed_recently = entry.refresh_claimed.is_some_and(|at| now - at < RETRY_AFTER_FAILURE);
        if now < entry.refresh_at || claimed_recently {
            return Lookup::Use(entry.list.clone());
        }
        entry.refresh_claimed = Some(now);
        Lookup::Refresh(entry.list.clone())
    }

    fn recent_failure(&self, uri: &CrlUri, now: DateTime<Utc>) -> Option<CrlFetchError> {
        let failures = lock(&self.failures);
        failures.get(uri).filter(|(at, _)| now - *at < RETRY_AFTER_FAILURE).map(|(_, error)| error.clone())
    }

    async fn fetch(&self, uri: &CrlUri, trusted: &str) -> Result<(RevocationList, chrono::Duration), CrlFetchError> {
        let name = || uri.to_string();
        let fetched = self
            .fetcher
            .get(uri.url(), "application/pkix-crl, application/x-pkcs7-crl;q=0.5, */*;q=0.1", MAX_BODY_BYTES)
            .await
            .map_err(|failure| match failure {
                FetchFailure::Unreachable(reason) => CrlFetchError::Unreachable { uri: name(), reason },
                FetchFailure::Status(status) => CrlFetchError::Status { uri: name(), status },
                FetchFailure::TooLarge => CrlFetchError::TooLarge { uri: name() },
            })?;
        let lifetime =
            crate::outbound::cache_lifetime(fetched.cache_control.as_ref(), DEFAULT_REFRESH, MIN_REFRESH..=MAX_REFRESH);
        let invalid = |reason: String| CrlFetchError::Invalid { uri: name(), reason };
        let list = RevocationList::parse(&fetched.body, trusted).map_err(invalid)?;
        if list.this_update > self.clock.now() + CLOCK_SKEW {
            return Err(invalid(format!("was issued in the future (thisUpdate {})", list.this_update)));
        }
        Ok((list, lifetime))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};

    use super::*;
    use crate::clock::FixedClock;
    use crate::outbound::OutboundPolicy;

    /// A CRL host whose answer the test controls; counts fetches.
    #[derive(Clone, Default)]
    struct Host {
        fetches: Arc<AtomicUsize>,
        body: Arc<Mutex<Vec<u8>>>,
        status: Arc<Mutex<u16>>,
        cache_control: Arc<Mutex<&'static str>>,
    }

    impl Host {
        fn answer(&self, status: u16, body: Vec<u8>) {
            *self.status.lock().unwrap_or_else(PoisonError::into_inner) = status;
            *self.body.lock().unwrap_or_else(PoisonError::into_inner) = body;
        }

        fn fetches(&self) -> usize {
            self.fetches.load(Ordering::SeqCst)
        }
    }

    async fn serve(host: Host) -> String {
        async fn crl(axum::extract::State(host): axum::extract::State<Host>) -> axum::response::Response {
            host.fetches.fetch_add(1, Ordering::SeqCst);
            let status = *host.status.lock().unwrap_or_else(PoisonError::into_inner);
            let body = host.body.lock().unwrap_or_else(PoisonError::into_inner).clone();
            let cache_control = *host.cache_control.lock().unwrap_or_else(PoisonError::into_inner);
            (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), [("cache-control", cache_control)], body).into_response()
        }
        *host.cache_control.lock().unwrap_or_else(PoisonError::into_inner) = "max-age=600";
        let router = axum::Router::new().route("/ca.crl", axum::routing::get(crl)).with_state(host);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{addr}/ca.crl")
    }

    fn start() -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_316_679, 0).unwrap_or_default()
    }

    fn date(at: DateTime<Utc>) -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp(at.timestamp()).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A CA whose lists the tests sign.
    struct TestCa {
        issuer: Issuer<'static, KeyPair>,
        pem: String,
    }

    impl TestCa {
        fn new(name: &str) -> Self {
            let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap_or_else(|e| panic!("{e}"));
            let mut params = CertificateParams::default();
            params.distinguished_name.push(rcgen::DnType::CommonName, name);
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            let pem = params.self_signed(&key).unwrap_or_else(|e| panic!("{e}")).pem();
            Self { issuer: Issuer::new(params, key), pem }
        }

        /// Its list number `number`, issued `hours` after `start()` and current for `days`, as DER.
        fn crl(&self, number: u64, hours: i64, days: i64) -> Vec<u8> {
            let issued = start() + chrono::Duration::hours(hours);
            let params = rcgen::CertificateRevocationListParams {
                this_update: date(issued),
                next_update: date(issued + chrono::Duration::days(days)),
                crl_number: rcgen::SerialNumber::from(number),
                issuing_distribution_point: None,
                revoked_certs: Vec::new(),
                key_identifier_method: rcgen::KeyIdMethod::Sha256,
            };
            params.signed_by(&self.issuer).unwrap_or_else(|e| panic!("{e}")).der().to_vec()
        }
    }

    fn client(clock: Arc<FixedClock>) -> CrlClient {
        let fetcher = Fetcher::new(OutboundPolicy::default().with_loopback()).unwrap_or_else(|e| panic!("{e}"));
        CrlClient::new(Arc::new(fetcher), clock, Arc::new(Metrics::new().unwrap_or_else(|e| panic!("{e}"))))
    }

    #[test]
    fn lists_parse_from_der_or_pem_signed_by_the_trusted_ca_they_name() {
        let ca = TestCa::new("Issuing CA");
        let der = ca.crl(1, 0, 2);
        let parse = |body: &[u8]| RevocationList::parse(body, &ca.pem);
        let parsed = parse(&der).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.next_update(), start() + chrono::Duration::days(2));
        assert_eq!(parsed.issuer(), "CN=Issuing CA");
        let pem = format!("-----BEGIN X509 CRL-----\n{}\n-----END X509 CRL-----\n", base64(&der));
        assert_eq!(parse(pem.as_bytes()).map(|list| list.sha256), Ok(parsed.sha256));
        let certificate = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
        assert_eq!(parse(certificate.as_bytes()), Err("is a PEM CERTIFICATE, not an X509 CRL".to_owned()));
        assert_eq!(parse(b"<html>"), Err("is not a certificate revocation list".to_owned()));
        let mut trailing = der.clone();
        trailing.push(0);
        assert_eq!(parse(&trailing), Err("has data after the certificate revocation list".to_owned()));

        // Not signed by the trusted CA it names: a forgery, or another CA of the same name.
        let impostor = TestCa::new("Issuing CA");
        assert_eq!(
            parse(&impostor.crl(9, 0, 2)),
            Err("is not signed by CN=Issuing CA, the trusted CA it names as its issuer".to_owned())
        );
        let mut forged = der;
        let last = forged.len() - 1;
        forged[last] ^= 1;
        assert!(parse(&forged).is_err_and(|e| e.starts_with("is not signed by")));
        let stranger = TestCa::new("Other CA");
        assert_eq!(
            parse(&stranger.crl(1, 0, 2)),
            Err("is issued by CN=Other CA, which is not one of the workspace's trusted client CAs".to_owned())
        );
    }

    fn base64(der: &[u8]) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(der)
    }

    #[tokio::test]
    async fn keeps_lists_refreshes_them_and_fails_closed_only_with_none_kept() {
        let host = Host::default();
        let uri = serve(host.clone()).await;
        let clock = Arc::new(FixedClock::new(start()));
        let client = client(clock.clone());
        let ca = TestCa::new("Issuing CA");
        let lists = || client.lists(std::slice::from_ref(&uri), Some(&ca.pem));
        let number = |lists: Vec<Arc<RevocationList>>| lists.first().map(|list| list.sha256);

        host.answer(503, Vec::new());
        assert_eq!(lists().await, Err(CrlFetchError::Status { uri: uri.clone(), status: 503 }));
        host.answer(200, ca.crl(1, 0, 2));
        assert!(lists().await.is_err() && host.fetches() == 1, "a failure is the answer for 30 s");
        clock.advance(chrono::Duration::seconds(31));
        let first = lists().await.map(number);
        assert!(first.as_ref().is_ok_and(Option::is_some), "{first:?}");
        assert_eq!(host.fetches(), 2);

        host.answer(200, ca.crl(2, 0, 2));
        assert_eq!(lists().await.map(number), first, "kept for max-age=600");
        clock.advance(chrono::Duration::seconds(601));
        let second = lists().await.map(number);
        assert!(second.is_ok() && second != first, "refreshed");
        assert_eq!(host.fetches(), 3);

        host.answer(500, Vec::new());
        clock.advance(chrono::Duration::seconds(601));
        assert_eq!(lists().await.map(number), second, "the list kept is used while its refresh fails");
        assert_eq!(lists().await.map(number), second);
        assert_eq!(host.fetches(), 4, "and the others wait for the retry");

        host.answer(200, b"not a list".to_vec());
        clock.advance(chrono::Duration::seconds(31));
        assert_eq!(lists().await.map(number), second, "an unusable answer is a failed refresh");
        assert_eq!(host.fetches(), 5);

        // An older list, replayed, does not replace the newer one kept; nor does one from the
        // future, nor one the trusted CA did not sign.
        host.answer(200, ca.crl(1, 0, 2));
        clock.advance(chrono::Duration::seconds(31));
        assert_eq!(lists().await.map(number), second, "a lower cRLNumber");
        host.answer(200, ca.crl(3, 1, 2));
        clock.advance(chrono::Duration::minutes(11));
        assert_eq!(lists().await.map(number), second, "thisUpdate an hour ahead");
        host.answer(200, TestCa::new("Issuing CA").crl(4, 0, 2));
        clock.advance(chrono::Duration::minutes(11));
        assert_eq!(lists().await.map(number), second, "signed by another key");
        assert_eq!(host.fetches(), 8);
        host.answer(200, ca.crl(5, 0, 2));
        clock.advance(chrono::Duration::minutes(11));
        let fifth = lists().await.map(number);
        assert!(fifth.is_ok() && fifth != second, "a newer list signed by the CA");

        let refused = client.lists(&["http://10.0.0.1/ca.crl".to_owned()], Some(&ca.pem)).await;
        assert!(
            matches!(&refused, Err(CrlFetchError::NotAllowed { reason, .. }) if reason.contains("not an address")),
            "{refused:?}"
        );
        let refused = client.lists(&["ftp://crl.example/ca.crl".to_owned()], Some(&ca.pem)).await;
        assert!(matches!(refused, Err(CrlFetchError::NotAllowed { .. })));
    }

    /// Requests for a list not kept wait for one fetch instead of each making their own.
    #[tokio::test]
    async fn the_first_fetch_of_a_list_is_made_once() {
        let host = Host::default();
        let uri = serve(host.clone()).await;
        let ca = TestCa::new("Issuing CA");
        host.answer(200, ca.crl(1, 0, 2));
        let client = client(Arc::new(FixedClock::new(start())));
        let uris = [uri];
        let all = futures_util::future::join_all((0..8).map(|_| client.lists(&uris, Some(&ca.pem)))).await;
        assert!(all.iter().all(Result::is_ok), "{all:?}");
        assert_eq!(host.fetches(), 1);
    }

    #[test]
    fn an_older_list_is_told_by_this_update_or_number() {
        let list = |this_update: i64, number: Option<&[u8]>| RevocationList {
            der: Vec::new(),
            sha256: [0; 32],
            issuer_der: Vec::new(),
            issuer: String::new(),
            this_update: start() + chrono::Duration::hours(this_update),
            next_update: start() + chrono::Duration::days(7),
            number: number.map(<[u8]>::to_vec),
            revoked: 0,
        };
        assert!(list(0, None).is_older_than(&list(1, None)));
        assert!(!list(1, None).is_older_than(&list(0, None)));
        assert!(list(1, Some(&[0x02])).is_older_than(&list(1, Some(&[0x01, 0x00]))), "compared as numbers");
        assert!(!list(1, Some(&[0x01, 0x00])).is_older_than(&list(1, Some(&[0x02]))));
        assert!(!list(1, Some(&[7])).is_older_than(&list(1, None)), "a number alone decides nothing");
    }

    /// A list is fetched again at its `nextUpdate` even when `max-age` says later.
    #[tokio::test]
    async fn a_list_is_refreshed_by_its_next_update_at_the_latest() {
        let host = Host::default();
        let uri = serve(host.clone()).await;
        *host.cache_control.lock().unwrap_or_else(PoisonError::into_inner) = "max-age=3600";
        let clock = Arc::new(FixedClock::new(start()));
        let client = client(clock.clone());
        // Its next update is within the hour.
        clock.set(start() + chrono::Duration::days(1) - chrono::Duration::minutes(5));
        let ca = TestCa::new("Issuing CA");
        host.answer(200, ca.crl(1, 0, 1));
        assert!(client.lists(std::slice::from_ref(&uri), Some(&ca.pem)).await.is_ok());
        clock.advance(chrono::Duration::minutes(5));
        assert!(client.lists(std::slice::from_ref(&uri), Some(&ca.pem)).await.is_ok());
        assert_eq!(host.fetches(), 2);
    }
}
