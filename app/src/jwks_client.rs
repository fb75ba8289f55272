//! Fetches JSON Web Key Sets from URIs (a directory's keys, a TPP's `software_jwks_endpoint`).
//!
//! Bounded and cached as DESIGN.md asks: https only (plain http to loopback only when the
//! deployment allows it), public addresses only unless the deployment lists more networks
//! ([`crate::outbound`]), no redirects, no proxy, a 3 s timeout, a 256 KiB limit; cached for the
//! response's `max-age` (5 minutes without one), fetched again when an unknown `kid` arrives
//! but at most once a minute, and the last good set is served while the host is down. A URI
//! whose fetch failed is not fetched again for [`RETRY_AFTER_FAILURE`], and while one request
//! refreshes a stale set the others use it: callers naming made-up `kid`s, or a dead URI,
//! cannot turn each of their requests into an outbound fetch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::domain::dcr::JwksUri;
use crate::domain::jwks::{JwksError, PublicJwks, Strictness};
use crate::metrics::{JwksLookup, Metrics};
use crate::outbound::{FetchFailure, Fetcher};

const MAX_BODY_BYTES: usize = 256 * 1024;
const DEFAULT_TTL: chrono::Duration = chrono::Duration::minutes(5);
const MIN_TTL: chrono::Duration = chrono::Duration::seconds(30);
const MAX_TTL: chrono::Duration = chrono::Duration::hours(24);
const UNKNOWN_KID_REFETCH_INTERVAL: chrono::Duration = chrono::Duration::minutes(1);
/// How long past its freshness a set may still be served when the host cannot be reached: long
/// enough to ride out an outage, short enough that a key withdrawn from the set stops working.
const STALE_GRACE: chrono::Duration = chrono::Duration::hours(1);
/// How long after a fetch of a URI fails (or after a refresh of its stale set began) it is not
/// fetched again: the stale set, or the failure, is the answer meanwhile.
const RETRY_AFTER_FAILURE: chrono::Duration = chrono::Duration::seconds(30);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksFetchError {
    #[error("JWKS URI {uri} is not allowed: {reason}")]
    NotAllowed { uri: String, reason: String },
    #[error("JWKS URI {uri} could not be fetched: {reason}")]
    Unreachable { uri: String, reason: String },
    #[error("JWKS URI {uri} answered HTTP {status}")]
    Status { uri: String, status: u16 },
    #[error("JWKS URI {uri} returned more than {MAX_BODY_BYTES} bytes")]
    TooLarge { uri: String },
    #[error("JWKS URI {uri} did not return a usable key set: {error}")]
    Invalid { uri: String, error: JwksError },
}

struct CacheEntry {
    keys: Arc<PublicJwks>,
    fresh_until: DateTime<Utc>,
    /// When an unknown `kid` last caused a fetch; such fetches happen at most once a minute.
    last_unknown_kid_fetch: Option<DateTime<Utc>>,
    /// When a refresh of the set, past its freshness, last began.
    last_stale_refresh: Option<DateTime<Utc>>,
}

pub struct JwksClient {
    fetcher: Arc<Fetcher>,
    clock: Arc<dyn Clock>,
    allow_insecure_loopback: bool,
    cache: Mutex<HashMap<String, CacheEntry>>,
    /// The last failed fetch of each URI with no set cached, and why; only those within
    /// [`RETRY_AFTER_FAILURE`] are kept.
    failures: Mutex<HashMap<String, (DateTime<Utc>, JwksFetchError)>>,
    metrics: Arc<Metrics>,
}

impl JwksClient {
    /// `allow_insecure_loopback` lets plain http reach loopback hosts (the fetcher's policy
    /// must then allow loopback addresses too).
    pub fn new(clock: Arc<dyn Clock>, allow_insecure_loopback: bool, fetcher: Arc<Fetcher>, metrics: Arc<Metrics>) -> Self {
        Self {
            fetcher,
            clock,
            allow_insecure_loopback,
            cache: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            metrics,
        }
    }

    /// The key set at `uri`, from the cache when fresh and (if `kid` is given) holding it.
    pub async fn get(&self, uri: &JwksUri, kid: Option<&str>) -> Result<Arc<PublicJwks>, JwksFetchError> {
        self.check_allowed(uri)?;
        let now = self.clock.now();
        let cached = self.cached(uri, kid, now);
        let last_unknown_kid_fetch = match &cached {
            Some(Lookup::Use(keys)) => {
                self.metrics.jwks(JwksLookup::CacheHit);
                return Ok(keys.clone());
            }
            Some(Lookup::UnknownKid(_)) => Some(now),
            _ => None,
        };
        // Not a fetch, so not counted as one.
        if cached.is_none()
            && let Some(error) = self.recent_failure(uri, now)
        {
            return Err(error);
        }
        match self.fetch(uri).await {
            Ok((keys, ttl)) => {
                self.metrics.jwks(JwksLookup::Fetched);
                let keys = Arc::new(keys);
                let entry =
                    CacheEntry { keys: keys.clone(), fresh_until: now + ttl, last_unknown_kid_fetch, last_stale_refresh: None };
                self.lock().insert(uri.as_str().to_owned(), entry);
                self.failed().remove(uri.as_str());
                Ok(keys)
            }
            Err(error) => {
                if cached.is_none() {
                    let mut failures = self.failed();
                    failures.retain(|_, (at, _)| now - *at < RETRY_AFTER_FAILURE);
                    failures.insert(uri.as_str().to_owned(), (now, error.clone()));
                }
                if let Some(Lookup::Stale(keys) | Lookup::UnknownKid(keys)) = cached {
                    self.metrics.jwks(JwksLookup::ServedStale);
                    tracing::warn!(%error, "serving the last good key set while its host fails");
                    return Ok(keys);
                }
                self.metrics.jwks(JwksLookup::Failed);
                Err(error)
            }
        }
    }

    /// Fetches `uri` now, bypassing the cache; for testing a URI from the console.
    pub async fn probe(&self, uri: &JwksUri) -> Result<PublicJwks, JwksFetchError> {
        self.check_allowed(uri)?;
        self.fetch(uri).await.map(|(keys, _)| keys)
    }

    fn check_allowed(&self, uri: &JwksUri) -> Result<(), JwksFetchError> {
        let refuse = |reason: String| JwksFetchError::NotAllowed { uri: uri.to_string(), reason };
        uri.check_transport(self.allow_insecure_loopback).map_err(refuse)?;
        self.check_address(uri).map_err(refuse)
    }

    /// An address written in the URI must be one fetches may reach (see [`Fetcher::check_address`]).
    pub fn check_address(&self, uri: &JwksUri) -> Result<(), String> {
        self.fetcher.check_address(uri.url())
    }

    /// What the cache holds for `uri`. A refresh it calls for is claimed here, under the lock,
    /// so the requests meanwhile (and, if it fails, for a while after) use the set instead.
    fn cached(&self, uri: &JwksUri, kid: Option<&str>, now: DateTime<Utc>) -> Option<Lookup> {
        let mut cache = self.lock();
        let entry = cache.get_mut(uri.as_str())?;
        let has_kid = kid.is_none_or(|kid| entry.keys.find(kid).is_some());
        if now < entry.fresh_until {
            let refetched_recently = entry.last_unknown_kid_fetch.is_some_and(|at| now - at < UNKNOWN_KID_REFETCH_INTERVAL);
            if has_kid || refetched_recently {
                return Some(Lookup::Use(entry.keys.clone()));
            }
            entry.last_unknown_kid_fetch = Some(now);
            return Some(Lookup::UnknownKid(entry.keys.clone()));
        }
        if now >= entry.fresh_until + STALE_GRACE {
            return None;
        }
        // Served from the cache without a fetch (counted as a cache hit).
        if entry.last_stale_refresh.is_some_and(|at| now - at < RETRY_AFTER_FAILURE) {
            return Some(Lookup::Use(entry.keys.clone()));
        }
        entry.last_stale_refresh = Some(now);
        Some(Lookup::Stale(entry.keys.clone()))
    }

    /// Why `uri` last failed, if that was within [`RETRY_AFTER_FAILURE`].
    fn recent_failure(&self, uri: &JwksUri, now: DateTime<Utc>) -> Option<JwksFetchError> {
        let failures = self.failed();
        failures.get(uri.as_str()).filter(|(at, _)| now - *at < RETRY_AFTER_FAILURE).map(|(_, error)| error.clone())
    }

    fn failed(&self) -> std::sync::MutexGuard<'_, HashMap<String, (DateTime<Utc>, JwksFetchError)>> {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn fetch(&self, uri: &JwksUri) -> Result<(PublicJwks, chrono::Duration), JwksFetchError> {
        let name = || uri.to_string();
        let fetched = self.fetcher.get(uri.url(), "application/jwk-set+json, application/json", MAX_BODY_BYTES).await.map_err(
            |failure| match failure {
                FetchFailure::Unreachable(reason) => JwksFetchError::Unreachable { uri: name(), reason },
                FetchFailure::Status(status) => JwksFetchError::Status { uri: name(), status },
                FetchFailure::TooLarge => JwksFetchError::TooLarge { uri: name() },
            },
        )?;
        let ttl = cache_ttl(fetched.cache_control.as_ref());
        let json: serde_json::Value = serde_json::from_slice(&fetched.body)
            .map_err(|_| JwksFetchError::Invalid { uri: name(), error: JwksError::NotAKeySet })?;
        let keys = PublicJwks::parse(&json, Strictness::SkipUnsupported)
            .map_err(|error| JwksFetchError::Invalid { uri: name(), error })?;
        Ok((keys, ttl))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CacheEntry>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

enum Lookup {
    /// Fresh enough to use without fetching.
    Use(Arc<PublicJwks>),
    /// Past its freshness: refresh, but usable if the refresh fails.
    Stale(Arc<PublicJwks>),
    /// Fresh, but without the `kid` asked for: refresh (rate-limited), else use as is.
    UnknownKid(Arc<PublicJwks>),
}

/// The cache lifetime a `Cache-Control` header asks for, kept within sane bounds.
fn cache_ttl(header: Option<&reqwest::header::HeaderValue>) -> chrono::Duration {
    crate::outbound::cache_lifetime(header, DEFAULT_TTL, MIN_TTL..=MAX_TTL)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use reqwest::header::HeaderValue;
    use serde_json::json;

    use super::*;
    use crate::clock::FixedClock;
    use crate::outbound::OutboundPolicy;

    /// A key host whose answer the test controls; counts fetches.
    #[derive(Clone, Default)]
    struct Host {
        fetches: Arc<AtomicUsize>,
        kids: Arc<Mutex<Vec<&'static str>>>,
        status: Arc<Mutex<u16>>,
        padding: Arc<Mutex<usize>>,
    }

    fn key(kid: &str) -> serde_json::Value {
        let c = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc";
        json!({"kty": "EC", "crv": "P-256", "kid": kid, "x": c, "y": c})
    }

    async fn serve(host: Host) -> String {
        async fn jwks(axum::extract::State(host): axum::extract::State<Host>) -> axum::response::Response {
            host.fetches.fetch_add(1, Ordering::SeqCst);
            let status = *host.status.lock().unwrap_or_else(PoisonError::into_inner);
            let kids = host.kids.lock().unwrap_or_else(PoisonError::into_inner).clone();
            let padding = "x".repeat(*host.padding.lock().unwrap_or_else(PoisonError::into_inner));
            let body = json!({"keys": kids.iter().map(|k| key(k)).collect::<Vec<_>>(), "padding": padding});
            (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), [("cache-control", "max-age=600")], axum::Json(body))
                .into_response()
        }
        *host.status.lock().unwrap_or_else(PoisonError::into_inner) = 200;
        let router = axum::Router::new().route("/jwks", axum::routing::get(jwks)).with_state(host);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{addr}/jwks")
    }

    fn metrics() -> Arc<Metrics> {
        Arc::new(Metrics::new().unwrap_or_else(|e| panic!("{e}")))
    }

    /// A client as `onboard serve` makes one: loopback reachable when plain http to it is.
    fn jwks_client(clock: Arc<FixedClock>, allow_insecure_loopback: bool, policy: OutboundPolicy) -> JwksClient {
        let policy = if allow_insecure_loopback { policy.with_loopback() } else { policy };
        let fetcher = Fetcher::new(policy).unwrap_or_else(|e| panic!("{e}"));
        JwksClient::new(clock, allow_insecure_loopback, Arc::new(fetcher), metrics())
    }

    fn start() -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_316_679, 0).unwrap_or_default()
    }

    #[tokio::test]
    async fn caches_refetches_for_unknown_kids_once_a_minute_and_serves_stale_keys_when_down() {
        let host = Host::default();
        host.kids.lock().unwrap_or_else(PoisonError::into_inner).push("k1");
        let uri = JwksUri::parse(&serve(host.clone()).await).unwrap_or_else(|e| panic!("{e}"));
        let clock = Arc::new(FixedClock::new(start()));
        let client = jwks_client(clock.clone(), true, OutboundPolicy::default());
        let fetches = || host.fetches.load(Ordering::SeqCst);
        let get = |kid: &'static str| {
            let client = &client;
            let uri = &uri;
            async move {
                client.get(uri, Some(kid)).await.map(|keys| keys.key_ids().iter().map(|k| (*k).to_owned()).collect::<Vec<_>>())
            }
        };

        assert_eq!(get("k1").await, Ok(vec!["k1".to_owned()]));
        assert_eq!(get("k1").await.map(|_| fetches()), Ok(1), "served from the cache");

        host.kids.lock().unwrap_or_else(PoisonError::into_inner).push("k2");
        assert_eq!(get("k2").await.map(|k| k.len()), Ok(2), "an unknown kid fetches again");
        assert_eq!(fetches(), 2);
        assert!(get("k3").await.is_ok());
        assert_eq!(fetches(), 2, "at most one unknown-kid fetch a minute");
        clock.advance(chrono::Duration::seconds(61));
        assert!(get("k3").await.is_ok());
        assert_eq!(fetches(), 3);

        clock.advance(chrono::Duration::seconds(600));
        assert!(get("k1").await.is_ok());
        assert_eq!(fetches(), 4, "max-age=600 has passed");

        *host.status.lock().unwrap_or_else(PoisonError::into_inner) = 500;
        clock.advance(chrono::Duration::seconds(601));
        assert!(get("k1").await.is_ok(), "the last good set is served while the host fails");
        assert_eq!(fetches(), 5);
        assert!(get("k1").await.is_ok() && get("k9").await.is_ok());
        assert_eq!(fetches(), 5, "after a failed refresh, the stale set is the answer for a while");
        clock.advance(chrono::Duration::seconds(31));
        assert!(get("k1").await.is_ok());
        assert_eq!(fetches(), 6, "then the host is tried again");
        clock.advance(chrono::Duration::minutes(61));
        let failed = Err(JwksFetchError::Status { uri: uri.to_string(), status: 500 });
        assert_eq!(get("k1").await, failed);
        assert_eq!(get("k2").await, failed);
        assert_eq!(fetches(), 7, "a failure is remembered: no fetch per request");
        *host.status.lock().unwrap_or_else(PoisonError::into_inner) = 200;
        clock.advance(chrono::Duration::seconds(31));
        assert!(get("k1").await.is_ok());
        assert_eq!(fetches(), 8);
    }

    #[tokio::test]
    async fn refuses_oversized_sets_and_disallowed_uris() {
        let host = Host::default();
        host.kids.lock().unwrap_or_else(PoisonError::into_inner).push("k1");
        *host.padding.lock().unwrap_or_else(PoisonError::into_inner) = MAX_BODY_BYTES;
        let uri = JwksUri::parse(&serve(host).await).unwrap_or_else(|e| panic!("{e}"));
        let clock = Arc::new(FixedClock::new(start()));
        let client = jwks_client(clock.clone(), true, OutboundPolicy::default());
        assert!(matches!(client.get(&uri, None).await, Err(JwksFetchError::TooLarge { .. })));

        let strict = jwks_client(clock.clone(), false, OutboundPolicy::default());
        assert!(matches!(strict.get(&uri, None).await, Err(JwksFetchError::NotAllowed { .. })));
        let remote = JwksUri::parse("http://keys.example/jwks").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(client.get(&remote, None).await, Err(JwksFetchError::NotAllowed { .. })));
    }

    #[tokio::test]
    async fn reaches_only_public_addresses_unless_networks_are_listed() {
        let clock = Arc::new(FixedClock::new(start()));
        let strict = jwks_client(clock.clone(), false, OutboundPolicy::default());
        let uri = |s: &str| JwksUri::parse(s).unwrap_or_else(|e| panic!("{e}"));
        for literal in ["https://127.0.0.1/jwks", "https://169.254.169.254/latest", "https://[::ffff:10.0.0.1]/jwks"] {
            let refused = strict.get(&uri(literal), None).await;
            assert!(
                matches!(&refused, Err(JwksFetchError::NotAllowed { reason, .. }) if reason.contains("not an address outbound fetches may reach")),
                "{literal}: {refused:?}"
            );
        }
        // A name is judged by what it resolves to, before any connection is made.
        let refused = strict.get(&uri("https://localhost:9/jwks"), None).await;
        assert_eq!(
            refused.err(),
            Some(JwksFetchError::Unreachable {
                uri: "https://localhost:9/jwks".to_owned(),
                reason: "localhost resolves only to addresses outbound fetches may not reach".to_owned()
            })
        );
        // Listed, the same address is tried (and here found closed).
        let networks = OutboundPolicy::parse_networks(&["127.0.0.0/8".to_owned()]).unwrap_or_else(|e| panic!("{e}"));
        let listed = jwks_client(clock, false, OutboundPolicy::allowing(networks));
        let tried = listed.get(&uri("https://127.0.0.1:9/jwks"), None).await;
        assert!(matches!(&tried, Err(JwksFetchError::Unreachable { reason, .. }) if reason == "connection failed"), "{tried:?}");
    }

    #[test]
    fn ttl_follows_max_age_within_bounds() {
        let ttl = |v: &'static str| cache_ttl(Some(&HeaderValue::from_static(v)));
        assert_eq!(cache_ttl(None), DEFAULT_TTL);
        assert_eq!(ttl("public, max-age=600"), chrono::Duration::seconds(600));
        assert_eq!(ttl("max-age=1"), MIN_TTL);
        assert_eq!(ttl("max-age=99999999"), MAX_TTL);
        assert_eq!(ttl("no-store"), MIN_TTL);
        assert_eq!(ttl("private"), DEFAULT_TTL);
        assert_eq!(ttl("max-age=99999999999999999999"), DEFAULT_TTL, "unparsable: ignored");
        assert_eq!(ttl("max-age=9999999999999999"), MAX_TTL, "huge: clamped, never a panic");
    }
}
