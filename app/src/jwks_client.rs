//! Fetches JSON Web Key Sets from URIs (a directory's keys, a TPP's `software_jwks_endpoint`).
//!
//! Bounded and cached as DESIGN.md asks: https only (plain http to loopback only when the
//! deployment allows it), no redirects, a 3 s timeout, a 256 KiB limit; cached for the
//! response's `max-age` (5 minutes without one), fetched again when an unknown `kid` arrives
//! but at most once a minute, and the last good set is served while the host is down.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::domain::dcr::JwksUri;
use crate::domain::jwks::{JwksError, PublicJwks, Strictness};

const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
const MAX_BODY_BYTES: usize = 256 * 1024;
const DEFAULT_TTL: chrono::Duration = chrono::Duration::minutes(5);
const MIN_TTL: chrono::Duration = chrono::Duration::seconds(30);
const MAX_TTL: chrono::Duration = chrono::Duration::hours(24);
const UNKNOWN_KID_REFETCH_INTERVAL: chrono::Duration = chrono::Duration::minutes(1);
/// How long past its freshness a set may still be served when the host cannot be reached.
const STALE_GRACE: chrono::Duration = chrono::Duration::hours(24);

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
    last_fetch: DateTime<Utc>,
}

pub struct JwksClient {
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    allow_insecure_loopback: bool,
    cache: Mutex<HashMap<String, CacheEntry>>,
}

impl JwksClient {
    pub fn new(clock: Arc<dyn Clock>, allow_insecure_loopback: bool) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("onboard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, clock, allow_insecure_loopback, cache: Mutex::new(HashMap::new()) })
    }

    /// The key set at `uri`, from the cache when fresh and (if `kid` is given) holding it.
    pub async fn get(&self, uri: &JwksUri, kid: Option<&str>) -> Result<Arc<PublicJwks>, JwksFetchError> {
        self.check_allowed(uri)?;
        let now = self.clock.now();
        let cached = self.cached(uri, kid, now);
        if let Some(Lookup::Use(keys)) = cached {
            return Ok(keys);
        }
        match self.fetch(uri).await {
            Ok((keys, ttl)) => {
                let keys = Arc::new(keys);
                let entry = CacheEntry { keys: keys.clone(), fresh_until: now + ttl, last_fetch: now };
                self.lock().insert(uri.as_str().to_owned(), entry);
                Ok(keys)
            }
            Err(error) => match cached {
                Some(Lookup::Stale(keys)) => {
                    tracing::warn!(%error, "serving the last good key set while its host fails");
                    Ok(keys)
                }
                _ => Err(error),
            },
        }
    }

    /// Fetches `uri` now, bypassing the cache; for testing a URI from the console.
    pub async fn probe(&self, uri: &JwksUri) -> Result<PublicJwks, JwksFetchError> {
        self.check_allowed(uri)?;
        self.fetch(uri).await.map(|(keys, _)| keys)
    }

    fn check_allowed(&self, uri: &JwksUri) -> Result<(), JwksFetchError> {
        uri.check_transport(self.allow_insecure_loopback)
            .map_err(|reason| JwksFetchError::NotAllowed { uri: uri.to_string(), reason })
    }

    fn cached(&self, uri: &JwksUri, kid: Option<&str>, now: DateTime<Utc>) -> Option<Lookup> {
        let mut cache = self.lock();
        let entry = cache.get_mut(uri.as_str())?;
        let has_kid = kid.is_none_or(|kid| entry.keys.find(kid).is_some());
        if now < entry.fresh_until {
            if has_kid || now - entry.last_fetch < UNKNOWN_KID_REFETCH_INTERVAL {
                return Some(Lookup::Use(entry.keys.clone()));
            }
            return Some(Lookup::Stale(entry.keys.clone()));
        }
        (now < entry.fresh_until + STALE_GRACE).then(|| Lookup::Stale(entry.keys.clone()))
    }

    async fn fetch(&self, uri: &JwksUri) -> Result<(PublicJwks, chrono::Duration), JwksFetchError> {
        let name = || uri.to_string();
        let unreachable = |e: reqwest::Error| JwksFetchError::Unreachable { uri: name(), reason: describe(&e) };
        let mut response = self
            .http
            .get(uri.url().clone())
            .header(reqwest::header::ACCEPT, "application/jwk-set+json, application/json")
            .send()
            .await
            .map_err(unreachable)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(JwksFetchError::Status { uri: name(), status: response.status().as_u16() });
        }
        if response.content_length().is_some_and(|len| len > MAX_BODY_BYTES as u64) {
            return Err(JwksFetchError::TooLarge { uri: name() });
        }
        let ttl = cache_ttl(response.headers().get(reqwest::header::CACHE_CONTROL));
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(JwksFetchError::TooLarge { uri: name() });
            }
            body.extend_from_slice(&chunk);
        }
        let json: serde_json::Value = serde_json::from_slice(&body)
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
    /// Worth refreshing; usable if the refresh fails.
    Stale(Arc<PublicJwks>),
}

/// The cache lifetime a `Cache-Control` header asks for, kept within sane bounds.
fn cache_ttl(header: Option<&reqwest::header::HeaderValue>) -> chrono::Duration {
    let Some(value) = header.and_then(|h| h.to_str().ok()) else { return DEFAULT_TTL };
    let directives = value.split(',').map(str::trim);
    if directives.clone().any(|d| d.eq_ignore_ascii_case("no-store") || d.eq_ignore_ascii_case("no-cache")) {
        return MIN_TTL;
    }
    directives
        .filter_map(|d| d.strip_prefix("max-age="))
        .find_map(|seconds| seconds.parse::<i64>().ok())
        .map_or(DEFAULT_TTL, |seconds| chrono::Duration::seconds(seconds).clamp(MIN_TTL, MAX_TTL))
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "connection failed".to_owned()
    } else if error.is_redirect() || error.status().is_some_and(|s| s.is_redirection()) {
        "redirects are not followed".to_owned()
    } else {
        "request failed".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn ttl_follows_max_age_within_bounds() {
        let ttl = |v: &'static str| cache_ttl(Some(&HeaderValue::from_static(v)));
        assert_eq!(cache_ttl(None), DEFAULT_TTL);
        assert_eq!(ttl("public, max-age=600"), chrono::Duration::seconds(600));
        assert_eq!(ttl("max-age=1"), MIN_TTL);
        assert_eq!(ttl("max-age=99999999"), MAX_TTL);
        assert_eq!(ttl("no-store"), MIN_TTL);
        assert_eq!(ttl("private"), DEFAULT_TTL);
    }
}
