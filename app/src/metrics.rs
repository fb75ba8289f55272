//! What `/metrics` reports, in the Prometheus text format: registrations and token requests by
//! workspace and outcome, console sign-ins by outcome, request latency by route, JWKS
//! fetches and cache hits, and revocation list fetches. Each
//! server has its own registry (no process-wide state), so several can run in one process.

use prometheus::{Encoder as _, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder};

use crate::domain::ids::WorkspaceRef;

pub struct Metrics {
    registry: Registry,
    registrations: IntCounterVec,
    token_requests: IntCounterVec,
    console_sign_ins: IntCounterVec,
    console_password_changes: IntCounterVec,
    console_password_confirmations: IntCounterVec,
    request_duration: HistogramVec,
    jwks_fetches: IntCounterVec,
    jwks_cache_hits: IntCounterVec,
    crl_fetches: IntCounterVec,
}

/// How a fetch of a certificate revocation list ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrlFetch {
    /// Fetched, and the list was usable.
    Fetched,
    /// The refresh failed, and the list kept was used.
    KeptUsed,
    /// The fetch failed, with no list kept: client certificates are refused.
    Failed,
}

/// How a JWKS lookup was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwksLookup {
    /// From the cache, without a fetch.
    CacheHit,
    /// Fetched, and the set was usable.
    Fetched,
    /// The fetch failed, and the last good set was served.
    ServedStale,
    /// The fetch failed, with nothing to fall back on.
    Failed,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("onboard".to_owned()), None)?;
        let counter = |name: &str, help: &str, labels: &[&str]| -> Result<IntCounterVec, prometheus::Error> {
            let counter = IntCounterVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(counter.clone()))?;
            Ok(counter)
        };
        let registrations = counter(
            "registrations_total",
            "Registration requests (POST) by workspace, outcome (accepted, rejected) and error code.",
            &["workspace", "outcome", "error"],
        )?;
        let token_requests = counter(
            "token_requests_total",
            "Token requests by workspace, authentication method, outcome (issued, refused) and error code.",
            &["workspace", "method", "outcome", "error"],
        )?;
        let console_sign_ins = counter(
            "console_sign_ins_total",
            "Console sign-ins by outcome (signed_in, refused, locked, throttled, error).",
            &["outcome"],
        )?;
        let console_password_changes = counter(
            "console_password_changes_total",
            "Administrators' own password changes by outcome (changed, refused, locked, throttled, rejected, error).",
            &["outcome"],
        )?;
        let console_password_confirmations = counter(
            "console_password_confirmations_total",
            "Passwords given again in a signed-in console session before a sensitive change, by outcome (confirmed, refused, locked, throttled, ended, error).",
            &["outcome"],
        )?;
        let jwks_fetches =
            counter("jwks_fetches_total", "JWKS fetches by outcome (fetched, served_stale, failed).", &["outcome"])?;
        let jwks_cache_hits = counter("jwks_cache_hits_total", "JWKS lookups answered from the cache.", &[])?;
        let crl_fetches = counter(
            "crl_fetches_total",
            "Certificate revocation list fetches by outcome (fetched, kept_used, failed).",
            &["outcome"],
        )?;
        let request_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Request latency by route, method and status class.")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            &["route", "method", "status"],
        )?;
        registry.register(Box::new(request_duration.clone()))?;
        Ok(Self {
            registry,
            registrations,
            token_requests,
            console_sign_ins,
            console_password_changes,
            console_password_confirmations,
            request_duration,
            jwks_fetches,
            jwks_cache_hits,
            crl_fetches,
        })
    }

    /// A registration request answered: `error` is its wire error code, `None` when accepted.
    pub fn registration(&self, at: &WorkspaceRef, error: Option<&str>) {
        let outcome = if error.is_some() { "rejected" } else { "accepted" };
        self.registrations.with_label_values(&[at.to_string().as_str(), outcome, error.unwrap_or("")]).inc();
    }

    /// A token request answered, by how the client authenticated (or tried to).
    pub fn token_request(&self, at: &WorkspaceRef, method: &str, error: Option<&str>) {
        let outcome = if error.is_some() { "refused" } else { "issued" };
        self.token_requests.with_label_values(&[at.to_string().as_str(), method, outcome, error.unwrap_or("")]).inc();
    }

    /// A console sign-in answered: `outcome` is `signed_in`, `refused` (a wrong address or
    /// password), `locked`, `throttled` (the caller's rate) or `error`.
    pub fn console_sign_in(&self, outcome: &'static str) {
        self.console_sign_ins.with_label_values(&[outcome]).inc();
    }

    /// An administrator's own password change answered: `outcome` is `changed`, `refused` (a
    /// wrong current password), `locked`, `throttled`, `rejected` (the new one not acceptable,
    /// or changed elsewhere meanwhile) or `error`.
    pub fn console_password_change(&self, outcome: &'static str) {
        self.console_password_changes.with_label_values(&[outcome]).inc();
    }

    /// A password given again before a sensitive change answered: `outcome` is `confirmed`,
    /// `refused` (a wrong password), `locked` (the session then ends), `throttled`, `ended`
    /// (the session had ended meanwhile) or `error`.
    pub fn console_password_confirmation(&self, outcome: &'static str) {
        self.console_password_confirmations.with_label_values(&[outcome]).inc();
    }

    /// One request's latency; `route` is the matched route pattern, never the raw path.
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.request_duration.with_label_values(&[route, method, class]).observe(seconds);
    }

    pub fn jwks(&self, lookup: JwksLookup) {
        match lookup {
            JwksLookup::CacheHit => self.jwks_cache_hits.with_label_values(&[] as &[&str]).inc(),
            JwksLookup::Fetched => self.jwks_fetches.with_label_values(&["fetched"]).inc(),
            JwksLookup::ServedStale => self.jwks_fetches.with_label_values(&["served_stale"]).inc(),
            JwksLookup::Failed => self.jwks_fetches.with_label_values(&["failed"]).inc(),
        }
    }

    pub fn crl_fetch(&self, fetch: CrlFetch) {
        let outcome = match fetch {
            CrlFetch::Fetched => "fetched",
            CrlFetch::KeptUsed => "kept_used",
            CrlFetch::Failed => "failed",
        };
        self.crl_fetches.with_label_values(&[outcome]).inc();
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut text) {
            tracing::warn!(%error, "metrics could not be encoded");
        }
        String::from_utf8(text).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{TenantId, WorkspaceId};

    #[test]
    fn counts_are_rendered_with_their_labels() {
        let metrics = Metrics::new().unwrap_or_else(|e| panic!("{e}"));
        let at = WorkspaceRef {
            tenant: TenantId::parse("default").unwrap_or_else(|e| panic!("{e}")),
            workspace: WorkspaceId::parse("obuk").unwrap_or_else(|e| panic!("{e}")),
        };
        metrics.registration(&at, None);
        metrics.registration(&at, Some("invalid_software_statement"));
        metrics.token_request(&at, "private_key_jwt", None);
        metrics.request("/{tenant}/{workspace}/oauth2/token", "POST", 200, 0.004);
        metrics.jwks(JwksLookup::CacheHit);
        metrics.jwks(JwksLookup::Fetched);
        metrics.console_sign_in("refused");
        let text = metrics.render();
        for line in [
            r#"onboard_registrations_total{error="",outcome="accepted",workspace="default/obuk"} 1"#,
            r#"onboard_registrations_total{error="invalid_software_statement",outcome="rejected",workspace="default/obuk"} 1"#,
            r#"onboard_token_requests_total{error="",method="private_key_jwt",outcome="issued",workspace="default/obuk"} 1"#,
            r#"onboard_http_request_duration_seconds_bucket{method="POST",route="/{tenant}/{workspace}/oauth2/token",status="2xx",le="0.005"} 1"#,
            "onboard_jwks_cache_hits_total 1",
            r#"onboard_jwks_fetches_total{outcome="fetched"} 1"#,
            r#"onboard_console_sign_ins_total{outcome="refused"} 1"#,
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}
