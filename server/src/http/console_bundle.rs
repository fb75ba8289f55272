//! `GET /app/{tenant}/sandbox/{software_id}/bundle.zip`: a console sandbox TPP's bundle, for a
//! signed-in administrator who gave their password lately (it holds the TPP's private keys). A
//! plain download rather than a server function, so the browser saves it as a file. Being a
//! GET, the session cookie (`SameSite=Lax`) comes with it even from another site's link: a
//! request the browser says another site started (`Sec-Fetch-Site`) is refused, so no site
//! can drop the keys into an administrator's downloads, or into the activity, unasked.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use app::api::CONFIRMATION_NEEDED;
use app::api::session::current_sign_in;
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
    headers: HeaderMap,
) -> Result<Response, WireError> {
    if !started_by_the_console(&headers) {
        return Err(WireError::access_denied("start the download from the console's Sandbox TPPs page"));
    }
    let caller = caller.map(|Extension(caller)| caller.0);
    let sign_in = current_sign_in(&session, &state.app, caller).await.map_err(WireError::internal)?;
    let Some(sign_in) = sign_in.filter(|sign_in| !sign_in.must_set_up_two_step) else {
        return Err(WireError::unauthorized("Bearer realm=\"onboard\"", "sign in to the console first"));
    };
    // It holds private keys: as for a sensitive change, the password given in this session
    // lately (the page asks for it first, through `sandbox_bundle_download`).
    if !sign_in.recently_confirmed {
        return Err(WireError::access_denied(CONFIRMATION_NEEDED));
    }
    let administrator = sign_in.administrator;
    // Sandbox software ids are letters and digits; anything else names nothing (and never
    // reaches a header).
    if !app::domain::sandbox::is_software_id(&software_id) {
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

/// Whether the browser says the request was started by the console's own page, or by the
/// administrator directly (typed, a bookmark): `Sec-Fetch-Site` `same-origin` or `none`. A
/// browser that sends no such header (from before 2023) is let through; the other checks
/// still hold.
fn started_by_the_console(headers: &HeaderMap) -> bool {
    match headers.get("sec-fetch-site") {
        None => true,
        Some(site) => matches!(site.as_bytes(), b"same-origin" | b"none"),
    }
}
