//! `POST /{tenant}/{workspace}/openbankinguk/dcr/v3.2/register` (OBUK DCR v3.2 §Register).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use app::domain::workspace::{Profile, Workspace};

use super::error::WireError;
use super::extract::{BodyError, WorkspacePath, content_type, read_body};
use crate::listener::Connection;
use crate::oauth2::registration::RegistrationError;
use crate::services::registration::{self, Failure, Incoming};
use crate::state::ServerState;

/// Registration requests are small; 64 KiB leaves room for a large software statement.
pub const BODY_LIMIT: usize = 64 * 1024;

pub async fn post(
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    connection: Connection,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, WireError> {
    let workspace = obuk_workspace(&state, &at).await?;
    let body = match read_body(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge { limit }) => {
            let error = RegistrationError::BodyTooLarge { limit_kib: limit / 1024 };
            let wire = WireError::new(StatusCode::PAYLOAD_TOO_LARGE, error.code().as_str(), error.description());
            registration::record_refusal(&state, &workspace, error, &connection).await;
            return Err(wire);
        }
        Err(BodyError::Unreadable) => return Err(WireError::invalid_request("the request body could not be read")),
    };
    let incoming = Incoming { content_type: content_type(&headers), body, connection };
    match registration::register(&state, &workspace, incoming).await {
        Ok(registered) => {
            Ok((StatusCode::CREATED, [(axum::http::header::CACHE_CONTROL, "no-store")], Json(registered)).into_response())
        }
        Err(Failure::Disabled) => Err(WireError::access_denied("dynamic client registration is disabled for this workspace")),
        Err(Failure::TokenRequired) => {
            Err(WireError::unauthorized("Bearer error=\"invalid_token\"", registration::TOKEN_REQUIRED))
        }
        Err(Failure::Rejected(error)) => Err(error.into()),
        Err(Failure::Unavailable(detail)) => Err(WireError::unavailable(detail)),
        Err(Failure::Internal(detail)) => Err(WireError::internal(detail)),
    }
}

/// The workspace at `at`, if it exists and follows the Open Banking UK profile.
async fn obuk_workspace(state: &ServerState, at: &app::domain::ids::WorkspaceRef) -> Result<Workspace, WireError> {
    let workspace = state.app.store.workspace(at).await.map_err(WireError::internal)?;
    workspace.filter(|w| w.profile == Profile::OpenbankingUk).ok_or_else(|| WireError::not_found("Open Banking UK workspace"))
}
