//! Server functions of the workspace directory and the workspace header.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::urls::WorkspaceUrls;
use crate::domain::workspace::{Profile, WorkspaceSummary};

/// What the workspace pages show in their header and sidebar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceHeader {
    pub tenant: String,
    pub id: String,
    pub name: String,
    pub profile: Profile,
    pub dcr_enabled: bool,
    /// Its DCR settings trust the tenant's sandbox directory.
    pub trusts_sandbox_directory: bool,
    /// The policy attached to the register endpoint, if any.
    pub policy_id: Option<String>,
    /// The client authentication methods the workspace allows (`tls_client_auth`, ...).
    pub token_endpoint_auth_methods: Vec<String>,
    pub urls: WorkspaceUrls,
}

#[server(prefix = "/app/fn", endpoint = "list_workspaces")]
pub async fn list_workspaces(tenant: String) -> Result<Vec<WorkspaceSummary>, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_administrator};
    require_administrator().await?;
    let tenant = tenant_id(&tenant)?;
    crate::services::workspaces::list_workspaces(&app_state()?, &tenant).await.map_err(user_error)
}

#[server(prefix = "/app/fn", endpoint = "create_workspace")]
pub async fn create_workspace(tenant: String, id: String, name: String, profile: String) -> Result<(), ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{acting_administrator, app_state};
    use crate::domain::ids::WorkspaceId;
    use crate::domain::workspace::NewWorkspace;
    let by = acting_administrator().await?;
    let tenant = tenant_id(&tenant)?;
    let id = WorkspaceId::parse(id.trim()).map_err(|e| crate::api::errors::invalid(format!("id: {e}")))?;
    let profile =
        Profile::parse(&profile).ok_or_else(|| crate::api::errors::invalid("profile: choose Open Banking UK or generic"))?;
    let workspace =
        crate::services::workspaces::create_workspace(&app_state()?, &tenant, NewWorkspace { id, name, profile }, &by)
            .await
            .map_err(|e| match e {
                crate::services::ServiceError::Conflict(message) => {
                    crate::api::errors::refused(axum::http::StatusCode::CONFLICT, format!("id: {message}"))
                }
                other => user_error(other),
            })?;
    leptos_axum::redirect(&format!("/app/{}/workspaces/{}/dcr", workspace.tenant, workspace.id));
    Ok(())
}

#[server(prefix = "/app/fn", endpoint = "workspace_overview")]
pub async fn workspace_overview(tenant: String, workspace: String) -> Result<WorkspaceHeader, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_administrator};
    require_administrator().await?;
    let state = app_state()?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let workspace = crate::services::workspaces::get_workspace(&state, &at).await.map_err(user_error)?;
    Ok(WorkspaceHeader {
        tenant: workspace.tenant.to_string(),
        id: workspace.id.to_string(),
        name: workspace.name.clone(),
        profile: workspace.profile,
        dcr_enabled: workspace.dcr.enabled,
        trusts_sandbox_directory: workspace.dcr.trust_sandbox_directory,
        policy_id: workspace.dcr.policy_id.as_ref().map(ToString::to_string),
        token_endpoint_auth_methods: workspace
            .settings
            .token_endpoint_auth_methods
            .iter()
            .map(|method| method.as_str().to_owned())
            .collect(),
        urls: state.deployment.urls(&at, workspace.profile),
    })
}

/// The tenant a page's path names; an invalid one is not found.
#[cfg(feature = "ssr")]
pub fn tenant_id(tenant: &str) -> Result<crate::domain::ids::TenantId, ServerFnError> {
    crate::domain::ids::TenantId::parse(tenant)
        .map_err(|_| crate::api::errors::refused(axum::http::StatusCode::NOT_FOUND, "tenant not found"))
}

/// The workspace a page's path names.
#[cfg(feature = "ssr")]
pub fn workspace_ref(tenant: &str, workspace: &str) -> Result<crate::domain::ids::WorkspaceRef, ServerFnError> {
    use crate::domain::ids::{TenantId, WorkspaceId, WorkspaceRef};
    match (TenantId::parse(tenant), WorkspaceId::parse(workspace)) {
        (Ok(tenant), Ok(workspace)) => Ok(WorkspaceRef { tenant, workspace }),
        _ => Err(crate::api::errors::refused(axum::http::StatusCode::NOT_FOUND, "workspace not found")),
    }
}
