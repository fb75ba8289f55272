//! `GET /administrators`: everyone who can sign in to the console, as the console's
//! Administrators page lists them, for an access review to collect.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use app::services::accounts;

use super::AdminCaller;
use crate::http::error::WireError;
use crate::state::ServerState;

pub async fn list(_: AdminCaller, State(state): State<ServerState>) -> Result<Json<Value>, WireError> {
    let administrators = accounts::administrators(&state.app, None).await?;
    Ok(Json(json!({ "administrators": administrators })))
}
