//! `GET /app/{tenant}/sandbox/{software_id}/bundle.zip`: a console sandbox TPP's bundle, for a
//! signed-in administrator only (it holds the TPP's private keys). A plain download rather than
//! a server function, so the browser saves it as a file.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use app::api::session::signed_in_administrator;
use app::caller_address::CallerAddress;
use app::domain::activity::Actor;

use super::error::WireError;
use super::extract::TenantPath;
use crate::services::sandbox_tpps;
use crate::state::ServerState;

pub async fn download(
    State(state): State<ServerState>,
    caller: Option<Extension<CallerAddress>>,
    session: Session,
    TenantPath(tenant): TenantPath,
    Path((_, software_id)): Path<(String, String)>,
) -> Result<Response, WireError> {
    let caller = caller.map(|Extension(caller)| caller.0);
    let administrator = signed_in_administrator(&session, &state.app, caller).await.map_err(WireError::internal)?;
    let Some(administrator) = administrator else {
        return Err(WireError::unauthorized("Bearer realm=\"onboard\"", "sign in to the console first"));
    };
    // Sandbox software ids are letters and digits; anything else names nothing (and never
    // reaches a header).
    if software_id.is_empty() || !software_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(WireError::not_found("sandbox TPP bundle"));
    }
    let by = Actor::Administrator { email: administrator.email.clone(), address: caller };
    let bundle = sandbox_tpps::download_bundle(&state, &tenant, &software_id, &by).await?;
    let zip = bundle.zip().map_err(|e| WireError::internal(format!("{e:#}")))?;
    tracing::info!(%tenant, %software_id, administrator = %administrator.email, "sandbox TPP bundle downloaded");
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{software_id}-bundle.zip\"")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        zip,
    )
        .into_response())
}
