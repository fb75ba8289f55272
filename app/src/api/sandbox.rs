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
    use crate::api::session::{acting_administrator, app_state};
    let by = acting_administrator().await?;
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
    use crate::api::session::{app_state, require_administrator};
    require_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let state = app_state()?;
    state.sandbox_tpps.register(&state, &at, &software_id).await.map_err(user_error)
}

#[server(prefix = "/app/fn", endpoint = "delete_sandbox_tpp")]
pub async fn delete_sandbox_tpp(tenant: String, software_id: String) -> Result<(), ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{acting_administrator, app_state};
    let by = acting_administrator().await?;
    let tenant = crate::api::workspaces::tenant_id(&tenant)?;
    crate::services::sandbox_tpps::delete(&app_state()?, &tenant, &software_id, &by).await.map_err(user_error)
}
