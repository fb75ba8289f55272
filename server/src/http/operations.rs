//! Operations endpoints: liveness and readiness.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::state::ServerState;

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers.
pub async fn readyz(State(state): State<ServerState>) -> (StatusCode, Json<Value>) {
    match state.app.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready", "database": state.app.store.backend().as_str() }))),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": state.app.store.backend().as_str() })),
            )
        }
    }
}
