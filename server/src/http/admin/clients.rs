//! `/tenants/{tenant}/workspaces/{workspace}/clients[/{client_id}]`: list, create, read, change
//! (a manual client), delete.

use app::domain::audit::ADMIN_API_ACTOR;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use app::domain::client::{ClientCursor, ClientDetails, ClientFilter, ClientSelection, NewManualClient, PageStart};
use app::services::ServiceError;
use app::services::clients;

use super::{AdminCaller, query};
use crate::http::error::WireError;
use crate::http::extract::{AdminJson, ClientIdPath, WorkspacePath, admin_value};
use crate::state::ServerState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientQuery {
    /// `true`: only dynamically registered clients; `false`: only manual ones.
    dcr: Option<bool>,
    /// Only clients whose id or name holds it, ignoring case.
    search: Option<String>,
    /// The page: `limit` clients (100 unless given), newest first, from the start or `after`
    /// the place a previous page's `next` names.
    limit: Option<u64>,
    after: Option<String>,
}

/// Clients a page of the list holds unless the caller says otherwise.
const DEFAULT_PAGE: u64 = 100;

pub async fn list(
    _: AdminCaller,
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    parsed: Result<Query<ClientQuery>, QueryRejection>,
) -> Result<Json<Value>, WireError> {
    let q = query(parsed)?;
    let start = match q.after.as_deref() {
        Some(cursor) => PageStart::After(ClientCursor::parse(cursor).map_err(ServiceError::from)?),
        None => PageStart::default(),
    };
    let selection = ClientSelection {
        filter: ClientFilter::from_dcr_flag(q.dcr),
        unused_since: None,
        search: q.search.unwrap_or_default(),
        start,
        limit: Some(q.limit.unwrap_or(DEFAULT_PAGE)),
    };
    let total = clients::count_clients(&state.app, &at, &selection).await?;
    let page = clients::client_page(&state.app, &at, &selection).await?;
    let mut body = json!({ "clients": page.clients, "total": total });
    if let Some(next) = page.next {
        body["next"] = json!(next.encode());
    }
    Ok(Json(body))
}

/// Creates a manual client; a generated secret appears in this response only.
pub async fn create(
    _: AdminCaller,
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    AdminJson(new): AdminJson<NewManualClient>,
) -> Result<(StatusCode, Json<Value>), WireError> {
    let (client, secret) = clients::create_manual_client(&state.app, &at, new, ADMIN_API_ACTOR).await?;
    let mut body = serde_json::to_value(&client).map_err(WireError::internal)?;
    if let Some(secret) = secret {
        body["client_secret"] = json!(secret.expose());
    }
    Ok((StatusCode::CREATED, Json(body)))
}

pub async fn get(
    _: AdminCaller,
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    ClientIdPath(client_id): ClientIdPath,
) -> Result<Json<ClientDetails>, WireError> {
    Ok(Json(clients::get_client(&state.app, &at, &client_id).await?))
}

/// Changes a manual client: the body is the one that created it, its authentication method
/// unchanged, and `may_introspect` said (a body written for a scope change must not withdraw
/// a resource server's permission by leaving it out); answers with the client as it now is.
pub async fn put(
    _: AdminCaller,
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    ClientIdPath(client_id): ClientIdPath,
    AdminJson(body): AdminJson<Map<String, Value>>,
) -> Result<Json<ClientDetails>, WireError> {
    if !body.contains_key("may_introspect") {
        return Err(WireError::invalid_request(
            "may_introspect: is required when changing a client (false withdraws the permission to introspect any token)",
        ));
    }
    let change: NewManualClient = admin_value(body)?;
    Ok(Json(clients::update_manual_client(&state.app, &at, &client_id, change, ADMIN_API_ACTOR).await?))
}

pub async fn delete(
    _: AdminCaller,
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    ClientIdPath(client_id): ClientIdPath,
) -> Result<StatusCode, WireError> {
    clients::delete_client(&state.app, &at, &client_id, ADMIN_API_ACTOR).await?;
    Ok(StatusCode::NO_CONTENT)
}
