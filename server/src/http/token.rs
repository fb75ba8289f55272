//! `POST /{tenant}/{workspace}/oauth2/token` (RFC 6749 §3.2, §4.4).

use axum::extract::State;
use axum::response::Response;

use super::error::WireError;
use super::oauth_form::{OAuthForm, success};
use crate::listener::Connection;
use crate::services::token;
use crate::state::ServerState;

pub async fn post(State(state): State<ServerState>, connection: Connection, form: OAuthForm) -> Result<Response, WireError> {
    match token::issue(&state, &form.workspace, &form.form, form.authorization.as_deref(), &connection).await {
        Ok(issued) => Ok(success(&issued)),
        Err(failure) => Err(failure.into()),
    }
}
