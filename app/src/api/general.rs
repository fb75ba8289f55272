//! Server functions of a workspace's General tab.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// The general settings as the tab edits them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneralForm {
    /// One audience per line.
    pub accepted_audiences: String,
    pub org_id: String,
    pub trusted_client_ca_pem: String,
    pub token_endpoint_auth_methods: Vec<String>,
    pub grant_types: Vec<String>,
    /// Space-separated.
    pub scopes: String,
    /// One role per line: `ROLE: scope scope`.
    pub role_scopes: String,
    pub access_token_ttl_seconds: u32,
    pub access_token_signing_alg: String,
    pub limits: crate::domain::limits::Limits,
}

#[cfg(feature = "ssr")]
impl GeneralForm {
    fn from_settings(settings: &crate::domain::workspace::WorkspaceSettings) -> Self {
        Self {
            accepted_audiences: settings.accepted_audiences.join("\n"),
            org_id: settings.org_id.clone().unwrap_or_default(),
            trusted_client_ca_pem: settings.trusted_client_ca_pem.clone().unwrap_or_default(),
            token_endpoint_auth_methods: settings.token_endpoint_auth_methods.iter().map(|m| m.as_str().to_owned()).collect(),
            grant_types: settings.grant_types.iter().map(|g| g.as_str().to_owned()).collect(),
            scopes: settings.scopes.join(" "),
            role_scopes: settings
                .role_scopes
                .iter()
                .map(|(role, scopes)| format!("{role}: {}", scopes.join(" ")))
                .collect::<Vec<_>>()
                .join("\n"),
            access_token_ttl_seconds: settings.access_token_ttl_seconds,
            access_token_signing_alg: settings.access_token_signing_alg.as_str().to_owned(),
            limits: settings.limits,
        }
    }

    fn to_patch(&self) -> Result<crate::domain::workspace::WorkspaceSettingsPatch, ServerFnError> {
        use crate::domain::workspace::WorkspaceSettingsPatch;
        let invalid = |field: &str, message: String| crate::api::errors::invalid(format!("{field}: {message}"));
        let lines = |text: &str| text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect::<Vec<_>>();
        let optional = |text: &str| Some(Some(text.trim().to_owned()).filter(|t| !t.is_empty()));
        let methods = self
            .token_endpoint_auth_methods
            .iter()
            .map(|m| m.parse())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("token_endpoint_auth_methods", format!("{e}")))?;
        let grants = self
            .grant_types
            .iter()
            .map(|g| g.parse())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("grant_types", format!("{e}")))?;
        let mut role_scopes = std::collections::BTreeMap::new();
        for line in lines(&self.role_scopes) {
            let (role, scopes) =
                line.split_once(':').ok_or_else(|| invalid("role_scopes", format!("'{line}' is not 'ROLE: scope scope'")))?;
            role_scopes.insert(role.trim().to_owned(), scopes.split_whitespace().map(str::to_owned).collect());
        }
        let algorithm = crate::domain::signing::SigningAlgorithm::parse(&self.access_token_signing_alg)
            .ok_or_else(|| invalid("access_token_signing_alg", "choose PS256 or ES256".to_owned()))?;
        Ok(WorkspaceSettingsPatch {
            accepted_audiences: Some(lines(&self.accepted_audiences)),
            org_id: optional(&self.org_id),
            trusted_client_ca_pem: optional(&self.trusted_client_ca_pem),
            token_endpoint_auth_methods: Some(methods),
            grant_types: Some(grants),
            scopes: Some(self.scopes.split_whitespace().map(str::to_owned).collect()),
            role_scopes: Some(role_scopes),
            access_token_ttl_seconds: Some(self.access_token_ttl_seconds),
            access_token_signing_alg: Some(algorithm),
            limits: Some(self.limits),
        })
    }
}

#[server(prefix = "/app/fn", endpoint = "get_general_form")]
pub async fn get_general_form(tenant: String, workspace: String) -> Result<GeneralForm, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_administrator};
    require_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let workspace = crate::services::workspaces::get_workspace(&app_state()?, &at).await.map_err(user_error)?;
    Ok(GeneralForm::from_settings(&workspace.settings))
}

#[server(prefix = "/app/fn", endpoint = "save_general_settings", input = Json)]
pub async fn save_general_settings(tenant: String, workspace: String, form: GeneralForm) -> Result<GeneralForm, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_administrator};
    let administrator = require_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let saved = crate::services::workspaces::update_settings(&app_state()?, &at, form.to_patch()?).await.map_err(user_error)?;
    tracing::info!(workspace = %at, administrator = %administrator.email, "general settings saved in the console");
    Ok(GeneralForm::from_settings(&saved.settings))
}
