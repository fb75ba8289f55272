//! `POST /{tenant}/{workspace}/oauth2/introspect` (RFC 7662).

use axum::extract::State;
use axum::response::Response;

use super::error::WireError;
use super::oauth_form::{OAuthForm, success};
use crate::listener::Connection;
use crate::services::introspection;
use crate::state::ServerState;

pub async fn post(State(state): State<ServerState>, connection: Connection, form: OAuthForm) -> Result<Response, WireError> {
    match introspection::introspect(&state, &form.workspace, &form.form, form.authorization.as_deref(), &connection).await {
        Ok(answer) => Ok(success(&answer)),
        Err(failure) => Err(failure.into()),
    }
}
