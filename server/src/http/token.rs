//! `POST /{tenant}/{workspace}/oauth2/token` (RFC 6749 §3.2, §4.4).

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::error::WireError;
use super::extract::WorkspacePath;
use super::oauth_form::{error_response, failure, read_form, success};
use crate::listener::Connection;
use crate::services::token;
use crate::state::ServerState;

pub async fn post(
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    connection: Connection,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, WireError> {
    let workspace = app::services::workspaces::get_workspace(&state.app, &at).await?;
    let (form, authorization) = match read_form(&headers, body).await {
        Ok(read) => read,
        Err(error) => return Ok(error_response(&error, false)),
    };
    match token::issue(&state, &workspace, &form, authorization.as_deref(), &connection).await {
        Ok(issued) => Ok(success(&issued)),
        Err(error) => failure(error, authorization.is_some()),
    }
}
