//! `POST /{tenant}/{workspace}/oauth2/revoke` (RFC 7009): 200 with an empty body on success.

use axum::extract::State;
use axum::response::Response;
use serde_json::json;

use super::error::WireError;
use super::oauth_form::{OAuthForm, success};
use crate::listener::Connection;
use crate::services::revocation;
use crate::state::ServerState;

pub async fn post(State(state): State<ServerState>, connection: Connection, form: OAuthForm) -> Result<Response, WireError> {
    match revocation::revoke(&state, &form.workspace, &form.form, form.authorization.as_deref(), &connection).await {
        Ok(()) => Ok(success(&json!({}))),
        Err(failure) => Err(failure.into()),
    }
}
