//! The admin REST API (`/api/admin/v1`): the same services as the console, for automation.
//! Every request needs `Authorization: Bearer <admin API key>`.

mod administrators;
mod clients;
mod dcr;
mod event_logs;
mod policies;
mod sandbox;
mod signing_keys;
mod workspaces;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::extract::rejection::QueryRejection;
use axum::http::header;
use axum::http::request::Parts;
use axum::routing::{delete, get, post};

use app::secrets::SecretHash;

use super::error::WireError;
use crate::oauth2::bearer::bearer_token;
use crate::state::ServerState;

const CHALLENGE: &str = "Bearer realm=\"onboard-admin\"";

pub fn router() -> Router<ServerState> {
    let workspace = "/api/admin/v1/tenants/{tenant}/workspaces/{workspace}";
    Router::new()
        .route("/api/admin/v1/administrators", get(administrators::list))
        .route("/api/admin/v1/administrator-events", get(event_logs::list_administrator_events))
        .route("/api/admin/v1/tenants/{tenant}/workspaces", get(workspaces::list).post(workspaces::create))
        .route(workspace, get(workspaces::get).patch(workspaces::update))
        .route(&format!("{workspace}/dcr"), get(dcr::get).put(dcr::put))
        .route(&format!("{workspace}/dcr/dry-run"), post(dcr::dry_run))
        .route(&format!("{workspace}/clients"), get(clients::list).post(clients::create))
        .route(&format!("{workspace}/clients/{{client_id}}"), get(clients::get).put(clients::put).delete(clients::delete))
        .route(&format!("{workspace}/policies"), get(policies::list).post(policies::create))
        .route(&format!("{workspace}/policies/{{policy_id}}"), get(policies::get).put(policies::put).delete(policies::delete))
        .route(&format!("{workspace}/audit-events"), get(event_logs::list_audit_events))
        .route(&format!("{workspace}/signing-keys"), get(signing_keys::list).post(signing_keys::rotate))
        .route(&format!("{workspace}/signing-keys/{{kid}}"), delete(signing_keys::withdraw))
        .route("/api/admin/v1/tenants/{tenant}/sandbox/software", post(sandbox::enrol))
        .route("/api/admin/v1/tenants/{tenant}/sandbox/software/{software_id}/statements", post(sandbox::issue_statement))
}

/// Proof that the request carries the admin API key.
pub struct AdminCaller;

impl FromRequestParts<ServerState> for AdminCaller {
    type Rejection = WireError;

    async fn from_request_parts(parts: &mut Parts, state: &ServerState) -> Result<Self, WireError> {
        let authorization = parts.headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok());
        let presented = bearer_token(authorization)
            .ok_or_else(|| WireError::unauthorized(CHALLENGE, "an admin API key is required (Authorization: Bearer ...)"))?;
        let hashes = state.app.store.admin_api_key_hashes().await.map_err(WireError::internal)?;
        if hashes.into_iter().any(|hash| SecretHash::from_stored(hash).matches(presented)) {
            Ok(Self)
        } else {
            Err(WireError::unauthorized(CHALLENGE, "the admin API key is not valid"))
        }
    }
}

/// Query strings are parsed by serde; a bad one is a JSON 400, not axum's plain text.
fn query<T>(parsed: Result<axum::extract::Query<T>, QueryRejection>) -> Result<T, WireError> {
    parsed
        .map(|axum::extract::Query(q)| q)
        .map_err(|rejection| WireError::invalid_request(format!("query: {}", rejection.body_text())))
}
