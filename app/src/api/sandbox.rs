//! The Sandbox TPPs page's server functions: the tenant's sandbox software, making a test TPP
//! whose keys the server holds, registering it at a workspace, and deleting it. The bundle
//! download is a plain GET route of the server (`/app/{tenant}/sandbox/{id}/bundle.zip`).

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::domain::sandbox::{NewSandboxTpp, SandboxRegistration, SandboxSoftwareSummary};

/// Where a sandbox TPP's bundle downloads from.
pub fn bundle_href(tenant: &str, software_id: &str) -> String {
    format!("/app/{tenant}/sandbox/{software_id}/bundle.zip")
}

/// Where a sandbox TPP's bundle downloads from, once the administrator may download it: it
/// holds the TPP's private keys, so, as a sensitive change does, it needs the password given
/// in this session lately (the download itself checks the same).
#[server(prefix = "/app/fn", endpoint = "sandbox_bundle_download")]
pub async fn sandbox_bundle_download(tenant: String, software_id: String) -> Result<String, ServerFnError> {
    use crate::api::errors::refused;
    use crate::api::session::require_confirmed_administrator;
    require_confirmed_administrator().await?;
    let tenant = crate::api::workspaces::tenant_id(&tenant)?;
    if !crate::domain::sandbox::is_software_id(&software_id) {
        return Err(refused(axum::http::StatusCode::NOT_FOUND, "sandbox TPP not found"));
    }
    Ok(bundle_href(tenant.as_str(), &software_id))
}

#[server(prefix = "/app/fn", endpoint = "list_sandbox_tpps")]
pub async fn list_sandbox_tpps(tenant: String) -> Result<Vec<SandboxSoftwareSummary>, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_administrator};
    require_administrator().await?;
    let tenant = crate::api::workspaces::tenant_id(&tenant)?;
    crate::services::sandbox_tpps::list(&app_state()?, &tenant).await.map_err(user_error)
}

#[server(prefix = "/app/fn", endpoint = "create_sandbox_tpp", input = Json)]
pub async fn create_sandbox_tpp(tenant: String, new: NewSandboxTpp) -> Result<SandboxSoftwareSummary, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, confirmed_acting_administrator};
    let by = confirmed_acting_administrator().await?;
    let tenant = crate::api::workspaces::tenant_id(&tenant)?;
    crate::services::sandbox_tpps::create(&app_state()?, &tenant, new, &by).await.map_err(user_error)
}

#[server(prefix = "/app/fn", endpoint = "register_sandbox_tpp")]
pub async fn register_sandbox_tpp(
    tenant: String,
    workspace: String,
    software_id: String,
) -> Result<SandboxRegistration, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_confirmed_administrator};
    require_confirmed_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let state = app_state()?;
    state.sandbox_tpps.register(&state, &at, &software_id).await.map_err(user_error)
}

#[server(prefix = "/app/fn", endpoint = "delete_sandbox_tpp")]
pub async fn delete_sandbox_tpp(tenant: String, software_id: String) -> Result<(), ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, confirmed_acting_administrator};
    let by = confirmed_acting_administrator().await?;
    let tenant = crate::api::workspaces::tenant_id(&tenant)?;
    crate::services::sandbox_tpps::delete(&app_state()?, &tenant, &software_id, &by).await.map_err(user_error)
}
