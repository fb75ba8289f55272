//! The registration endpoints: POST registers; GET, PUT and DELETE manage a registration
//! (RFC 7592). Each profile has its own path, `openbankinguk/dcr/v3.2/register` (OBUK DCR v3.2)
//! and `oauth2/register` (plain RFC 7591), served by the same handlers and the same pipeline.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use app::domain::workspace::{Profile, Workspace};

use super::error::WireError;
use super::extract::{BodyError, ClientIdPath, WorkspacePath, content_type, read_body};
use crate::listener::Connection;
use crate::oauth2::registration::RegistrationError;
use crate::services::management::{self, Refusal};
use crate::services::policy_check;
use crate::services::registration::{self, Failure, Incoming, TokenProblem};
use crate::state::ServerState;

/// Registration requests are small; 64 KiB leaves room for a large software statement.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A registration endpoint, by the profile of the workspaces it serves.
pub trait Endpoint: Send + Sync + 'static {
    const PROFILE: Profile;
    const NAME: &'static str;
}

/// `/{tenant}/{workspace}/openbankinguk/dcr/v3.2/register`.
pub struct Obuk;
impl Endpoint for Obuk {
    const PROFILE: Profile = Profile::OpenbankingUk;
    const NAME: &'static str = "Open Banking UK workspace";
}

/// `/{tenant}/{workspace}/oauth2/register`.
pub struct Rfc7591;
impl Endpoint for Rfc7591 {
    const PROFILE: Profile = Profile::Generic;
    const NAME: &'static str = "generic workspace";
}

pub async fn post<E: Endpoint>(
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    connection: Connection,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, WireError> {
    let workspace = workspace::<E>(&state, &at).await?;
    let metrics = &state.app.metrics;
    let outcome = match incoming(&headers, body, connection.clone()).await {
        Ok(incoming) => registration::register(&state, &workspace, incoming).await,
        Err(error) => Err(registration::refuse_unread(&state, &workspace, error, &connection).await),
    };
    match outcome {
        Ok(registered) => {
            metrics.registration(&at, None);
            Ok((StatusCode::CREATED, Json(registered)).into_response())
        }
        Err(failure) => {
            metrics.registration(&at, Some(failure.audit_code().0));
            Err(failure_to_wire(failure))
        }
    }
}

/// GET `/register/{client_id}`.
pub async fn get<E: Endpoint>(
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    ClientIdPath(client_id): ClientIdPath,
    connection: Connection,
    headers: HeaderMap,
) -> Result<Response, WireError> {
    let workspace = workspace::<E>(&state, &at).await?;
    match management::read(&state, &workspace, &client_id, authorization(&headers), &connection).await {
        Ok(registration) => Ok(Json(registration).into_response()),
        Err(refusal) => Err(refusal_to_wire(refusal)),
    }
}

/// PUT `/register/{client_id}`: a complete, signed registration request.
pub async fn put<E: Endpoint>(
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    ClientIdPath(client_id): ClientIdPath,
    connection: Connection,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, WireError> {
    let workspace = workspace::<E>(&state, &at).await?;
    let grant = management::authorize_update(&state, &workspace, &client_id, authorization(&headers), &connection)
        .await
        .map_err(refusal_to_wire)?;
    let outcome = match incoming(&headers, body, connection.clone()).await {
        Ok(incoming) => management::update(&state, &workspace, grant, incoming).await,
        Err(error) => Err(management::refuse_unread(&state, &workspace, grant, error, &connection).await),
    };
    match outcome {
        Ok(registration) => Ok(Json(registration).into_response()),
        Err(refusal) => Err(refusal_to_wire(refusal)),
    }
}

/// DELETE `/register/{client_id}`: 204, and the client's tokens stop working at once.
pub async fn delete<E: Endpoint>(
    State(state): State<ServerState>,
    WorkspacePath(at): WorkspacePath,
    ClientIdPath(client_id): ClientIdPath,
    connection: Connection,
    headers: HeaderMap,
) -> Result<StatusCode, WireError> {
    let workspace = workspace::<E>(&state, &at).await?;
    match management::delete(&state, &workspace, &client_id, authorization(&headers), &connection).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(refusal) => Err(refusal_to_wire(refusal)),
    }
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
}

/// Reads a registration body (at most 64 KiB); the handler refuses and audits one it could
/// not take.
async fn incoming(headers: &HeaderMap, body: Body, connection: Connection) -> Result<Incoming, RegistrationError> {
    match read_body(body, BODY_LIMIT).await {
        Ok(body) => Ok(Incoming {
            authorization: authorization(headers).map(str::to_owned),
            content_type: content_type(headers),
            body,
            connection,
            headers: policy_check::policy_headers(headers),
        }),
        Err(BodyError::TooLarge { limit }) => Err(RegistrationError::BodyTooLarge { limit_kib: limit / 1024 }),
        Err(BodyError::Unreadable) => Err(RegistrationError::BodyUnreadable),
    }
}

fn failure_to_wire(failure: Failure) -> WireError {
    match failure {
        Failure::Token(TokenProblem::Missing) => WireError::unauthorized(REALM_CHALLENGE, registration::TOKEN_REQUIRED),
        Failure::Token(TokenProblem::Invalid) => WireError::unauthorized(INVALID_TOKEN_CHALLENGE, registration::TOKEN_REQUIRED),
        Failure::Token(TokenProblem::InsufficientScope) => WireError::insufficient_scope(
            "Bearer error=\"insufficient_scope\", scope=\"dcr_register\"",
            registration::INSUFFICIENT_SCOPE,
        ),
        Failure::Internal(detail) => WireError::internal(detail),
        Failure::Throttled(throttled) => WireError::throttled(&throttled),
        Failure::Rejected(error @ RegistrationError::BodyTooLarge { .. }) => {
            WireError::new(StatusCode::PAYLOAD_TOO_LARGE, error.code().as_str(), error.description())
        }
        other => {
            let status = StatusCode::from_u16(other.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let (error, description) = other.audit_code();
            WireError::new(status, error, description)
        }
    }
}

/// OBUK swagger: 401 carries `WWW-Authenticate: Bearer ...`; 403 is a token of another client.
fn refusal_to_wire(refusal: Refusal) -> WireError {
    match refusal {
        Refusal::TokenMissing => WireError::unauthorized(REALM_CHALLENGE, Refusal::TOKEN_MISSING),
        Refusal::Unauthorized(why) => WireError::unauthorized(INVALID_TOKEN_CHALLENGE, why),
        Refusal::TokenNotValid(_) => WireError::unauthorized(INVALID_TOKEN_CHALLENGE, Refusal::TOKEN_NOT_VALID),
        Refusal::Forbidden => WireError::access_denied(Refusal::FORBIDDEN),
        Refusal::Disabled => WireError::access_denied(registration::DCR_DISABLED),
        Refusal::Registration(failure) => failure_to_wire(failure),
    }
}

const INVALID_TOKEN_CHALLENGE: &str = "Bearer error=\"invalid_token\"";
/// RFC 6750 §3.1: a request without a token gets no error code in the challenge.
const REALM_CHALLENGE: &str = "Bearer realm=\"onboard\"";

/// The workspace at `at`, if it exists and follows the endpoint's profile, with the sandbox
/// directory's trust added when its settings ask for it.
async fn workspace<E: Endpoint>(state: &ServerState, at: &app::domain::ids::WorkspaceRef) -> Result<Arc<Workspace>, WireError> {
    let workspace = state.app.store.workspace(at).await.map_err(WireError::internal)?;
    let workspace = workspace.filter(|w| w.profile == E::PROFILE).ok_or_else(|| WireError::not_found(E::NAME))?;
    crate::services::sandbox::trusting(state, workspace).await.map_err(WireError::internal)
}
