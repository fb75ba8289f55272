//! Operations endpoints: liveness and readiness; and the outage rule of the protocol and
//! admin endpoints: a failure while the database cannot be reached is a 503, not a 500.

use std::time::Duration;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::WireError;
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
