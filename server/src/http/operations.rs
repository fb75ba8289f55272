//! Operations endpoints: liveness, readiness and metrics; the latency measurement of every
//! route; and the outage rule of the protocol and admin endpoints: a failure while the
//! database cannot be reached is a 503, not a 500.

use std::net::IpAddr;
use std::time::Duration;

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use app::secrets::SecretHash;

use super::error::WireError;
use crate::listener::Connection;
use crate::oauth2::bearer::bearer_token;
use crate::state::ServerState;

/// How long a database check may take before the database counts as unreachable.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether the database answers, within [`PING_TIMEOUT`].
async fn database_reachable(state: &ServerState) -> bool {
    match tokio::time::timeout(PING_TIMEOUT, state.app.store.ping()).await {
        Ok(Ok(())) => true,
        Ok(Err(error)) => {
            tracing::warn!(%error, "the database cannot be reached");
            false
        }
        Err(_) => {
            tracing::warn!("the database did not answer in time");
            false
        }
    }
}

/// A 500 while the database is unreachable becomes a 503 with `Retry-After`: the caller did
/// nothing wrong and may simply retry (the store's pool reconnects by itself once the database
/// is back). Only failures pay for the check.
pub async fn outage_is_unavailable(State(state): State<ServerState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR || database_reachable(&state).await {
        return response;
    }
    WireError::database_unavailable().into_response()
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers.
pub async fn readyz(State(state): State<ServerState>) -> (StatusCode, Json<Value>) {
    let database = state.app.store.backend().as_str();
    if database_reachable(&state).await {
        (StatusCode::OK, Json(json!({ "status": "ready", "database": database })))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable", "database": database })))
    }
}

/// `GET /metrics`, in the Prometheus text format: to loopback callers where they are on this
/// host (`loopback_is_local`: a scraper beside the server, on the plain listener), and to
/// others only with `Authorization: Bearer <--metrics-token>`.
pub fn metrics(state: &ServerState, connection: &Connection, headers: &HeaderMap, loopback_is_local: bool) -> Response {
    let presented = bearer_token(headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()));
    let trusted = trusted_loopback(connection.remote_addr.map(|addr| addr.ip()), loopback_is_local);
    if !may_read_metrics(trusted, state.protocol.metrics_token.as_deref(), presented) {
        return WireError::unauthorized("Bearer realm=\"onboard-metrics\"", "metrics need the metrics token").into_response();
    }
    let mut response = state.app.metrics.render().into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    response
}

/// Whether the caller is on this host and may be taken at its word: not where a proxy on this
/// host may make every caller look like one ([`super::Surface::loopback_is_local`]).
fn trusted_loopback(caller: Option<IpAddr>, loopback_is_local: bool) -> bool {
    loopback_is_local && caller.is_some_and(|ip| ip.to_canonical().is_loopback())
}

/// A trusted loopback caller may; others only with the configured token (none configured:
/// nobody).
fn may_read_metrics(trusted_loopback: bool, expected: Option<&SecretHash>, presented: Option<&str>) -> bool {
    trusted_loopback || matches!((expected, presented), (Some(expected), Some(presented)) if expected.matches(presented))
}

/// Measures each routed request's latency, labelled by its route pattern (never the raw path,
/// which would make a label per client id).
pub async fn measure(State(state): State<ServerState>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = match *request.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    state.app.metrics.request(&route, method, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_for_trusted_loopback_callers_and_holders_of_the_token() {
        let token = app::secrets::Secret::from_given("scrape-me-0123456789".to_owned()).hash();
        assert!(may_read_metrics(true, None, None));
        assert!(!may_read_metrics(false, None, Some("anything")), "no token configured: loopback only");
        assert!(!may_read_metrics(false, Some(&token), None));
        assert!(!may_read_metrics(false, Some(&token), Some("scrape-me-wrong")));
        assert!(may_read_metrics(false, Some(&token), Some("scrape-me-0123456789")));

        let remote = Some(IpAddr::from([203, 0, 113, 9]));
        let loopback = Some(IpAddr::from([127, 0, 0, 1]));
        let mapped_loopback = Some("::ffff:127.0.0.1".parse().unwrap_or_else(|e| panic!("{e}")));
        assert!(trusted_loopback(loopback, true) && trusted_loopback(mapped_loopback, true));
        assert!(!trusted_loopback(remote, true) && !trusted_loopback(None, true));
        assert!(!trusted_loopback(loopback, false), "behind a proxy on this host, loopback is everyone");
    }
}
