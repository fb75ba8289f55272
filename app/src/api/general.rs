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
    /// One URL per line.
    pub client_crl_uris: String,
    pub token_endpoint_auth_methods: Vec<String>,
    pub grant_types: Vec<String>,
    /// Space-separated.
    pub scopes: String,
    /// One role per line: `ROLE: scope scope`.
    pub role_scopes: String,
    pub access_token_ttl_seconds: u32,
    pub access_token_signing_alg: String,
    pub limits: LimitsForm,
}

/// The limits as typed: a text each, so that what is not a whole number is refused with its
/// own message at its field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitsForm {
    pub registrations_per_ip_per_minute: String,
    pub registrations_per_software_per_minute: String,
    pub token_requests_per_ip_per_minute: String,
    pub token_requests_per_client_per_minute: String,
    pub introspection_requests_per_ip_per_minute: String,
    pub max_dynamic_clients: String,
    pub abandoned_after_days: String,
}

impl LimitsForm {
    pub fn from_limits(limits: &crate::domain::limits::Limits) -> Self {
        Self {
            registrations_per_ip_per_minute: limits.registrations_per_ip_per_minute.to_string(),
            registrations_per_software_per_minute: limits.registrations_per_software_per_minute.to_string(),
            token_requests_per_ip_per_minute: limits.token_requests_per_ip_per_minute.to_string(),
            token_requests_per_client_per_minute: limits.token_requests_per_client_per_minute.to_string(),
            introspection_requests_per_ip_per_minute: limits.introspection_requests_per_ip_per_minute.to_string(),
            max_dynamic_clients: limits.max_dynamic_clients.to_string(),
            abandoned_after_days: limits.abandoned_after_days.to_string(),
        }
    }

    /// The limits, or every field that is not a whole number (as "limits.field: problem").
    pub fn to_limits(&self) -> Result<crate::domain::limits::Limits, Vec<String>> {
        let mut problems = Vec::new();
        let mut number = |field: &str, text: &str| {
            text.trim().parse::<u32>().unwrap_or_else(|_| {
                problems.push(format!("limits.{field}: must be a whole number, 0 or more"));
                0
            })
        };
        let limits = crate::domain::limits::Limits {
            registrations_per_ip_per_minute: number("registrations_per_ip_per_minute", &self.registrations_per_ip_per_minute),
            registrations_per_software_per_minute: number(
                "registrations_per_software_per_minute",
                &self.registrations_per_software_per_minute,
            ),
            token_requests_per_ip_per_minute: number("token_requests_per_ip_per_minute", &self.token_requests_per_ip_per_minute),
            token_requests_per_client_per_minute: number(
                "token_requests_per_client_per_minute",
                &self.token_requests_per_client_per_minute,
            ),
            introspection_requests_per_ip_per_minute: number(
                "introspection_requests_per_ip_per_minute",
                &self.introspection_requests_per_ip_per_minute,
            ),
            max_dynamic_clients: number("max_dynamic_clients", &self.max_dynamic_clients),
            abandoned_after_days: number("abandoned_after_days", &self.abandoned_after_days),
        };
        if problems.is_empty() { Ok(limits) } else { Err(problems) }
    }
}

#[cfg(feature = "ssr")]
impl GeneralForm {
    fn from_settings(settings: &crate::domain::workspace::WorkspaceSettings) -> Self {
        Self {
            accepted_audiences: settings.accepted_audiences.join("\n"),
            org_id: settings.org_id.clone().unwrap_or_default(),
            trusted_client_ca_pem: settings.trusted_client_ca_pem.clone().unwrap_or_default(),
            client_crl_uris: settings.client_crl_uris.join("\n"),
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
            limits: LimitsForm::from_limits(&settings.limits),
        }
    }

    /// The change this form describes, and what of it could not be read ("field: problem"
    /// each). A field that could not be read is left out of the change, so the settings' own
    /// rules still check every other one: the form shows every problem at once.
    fn to_patch(&self) -> (crate::domain::workspace::WorkspaceSettingsPatch, Vec<String>) {
        use crate::domain::oauth::{GrantType, TokenEndpointAuthMethod};
        use crate::domain::workspace::WorkspaceSettingsPatch;
        /// A field's value, or its problem noted in `problems`.
        fn read<T>(problems: &mut Vec<String>, field: &str, result: Result<T, String>) -> Option<T> {
            result.map_err(|message| problems.push(format!("{field}: {message}"))).ok()
        }
        let mut problems = Vec::new();
        let lines = |text: &str| text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect::<Vec<_>>();
        let optional = |text: &str| Some(Some(text.trim().to_owned()).filter(|t| !t.is_empty()));
        let methods = read(
            &mut problems,
            "token_endpoint_auth_methods",
            self.token_endpoint_auth_methods
                .iter()
                .map(|m| m.parse())
                .collect::<Result<Vec<TokenEndpointAuthMethod>, _>>()
                .map_err(|e| e.to_string()),
        );
        let grants = read(
            &mut problems,
            "grant_types",
            self.grant_types.iter().map(|g| g.parse()).collect::<Result<Vec<GrantType>, _>>().map_err(|e| e.to_string()),
        );
        let role_scopes = read(
            &mut problems,
            "role_scopes",
            lines(&self.role_scopes)
                .into_iter()
                .map(|line| {
                    let (role, scopes) = line.split_once(':').ok_or_else(|| format!("'{line}' is not 'ROLE: scope scope'"))?;
                    Ok((role.trim().to_owned(), scopes.split_whitespace().map(str::to_owned).collect()))
                })
                .collect(),
        );
        let algorithm = read(
            &mut problems,
            "access_token_signing_alg",
            crate::domain::signing::JwsAlgorithm::parse(&self.access_token_signing_alg)
                .ok_or_else(|| "choose PS256 or ES256".to_owned()),
        );
        let limits = self.limits.to_limits().map_err(|unread| problems.extend(unread)).ok();
        let patch = WorkspaceSettingsPatch {
            accepted_audiences: Some(lines(&self.accepted_audiences)),
            org_id: optional(&self.org_id),
            trusted_client_ca_pem: optional(&self.trusted_client_ca_pem),
            client_crl_uris: Some(lines(&self.client_crl_uris)),
            token_endpoint_auth_methods: methods,
            grant_types: grants,
            scopes: Some(self.scopes.split_whitespace().map(str::to_owned).collect()),
            role_scopes,
            access_token_ttl_seconds: Some(self.access_token_ttl_seconds),
            access_token_signing_alg: algorithm,
            limits,
        };
        (patch, problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::limits::Limits;

    #[test]
    fn limits_round_trip_and_refuse_what_is_not_a_whole_number() {
        let form = LimitsForm::from_limits(&Limits::default());
        assert_eq!(form.to_limits(), Ok(Limits::default()));
        for typed in ["-5", "1.5", "", "ten"] {
            let bad = LimitsForm { max_dynamic_clients: typed.to_owned(), ..form.clone() };
            assert_eq!(
                bad.to_limits(),
                Err(vec!["limits.max_dynamic_clients: must be a whole number, 0 or more".to_owned()]),
                "{typed}"
            );
        }
        let two = LimitsForm { max_dynamic_clients: "x".to_owned(), abandoned_after_days: "-1".to_owned(), ..form.clone() };
        assert_eq!(two.to_limits().map_err(|problems| problems.len()), Err(2), "every field is read");
        let padded = LimitsForm { abandoned_after_days: " 30 ".to_owned(), ..form };
        assert_eq!(padded.to_limits().map(|l| l.abandoned_after_days), Ok(30));
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

/// What the saved revocation lists of a workspace say now (each fetched if none is kept).
#[server(prefix = "/app/fn", endpoint = "revocation_list_status")]
pub async fn revocation_list_status(
    tenant: String,
    workspace: String,
) -> Result<crate::domain::revocation::RevocationReport, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_administrator};
    require_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    crate::services::revocation_lists::report(&app_state()?, &at).await.map_err(user_error)
}

#[server(prefix = "/app/fn", endpoint = "save_general_settings", input = Json)]
pub async fn save_general_settings(tenant: String, workspace: String, form: GeneralForm) -> Result<GeneralForm, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_confirmed_administrator};
    let administrator = require_confirmed_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let state = app_state()?;
    let (patch, unread) = form.to_patch();
    let problems = crate::services::workspaces::settings_problems(&state, &at, patch.clone()).await.map_err(user_error)?;
    // Each problem names its form field: the form shows them all at once.
    let each: Vec<String> =
        unread.into_iter().chain(problems.iter().map(|problem| format!("{}: {}", problem.field, problem.message))).collect();
    if !each.is_empty() {
        return Err(crate::api::errors::invalid(each.join(&crate::api::PROBLEM_SEPARATOR.to_string())));
    }
    let saved =
        crate::services::workspaces::update_settings(&state, &at, patch, &administrator.email).await.map_err(user_error)?;
    tracing::info!(workspace = %at, administrator = %administrator.email, "general settings saved in the console");
    Ok(GeneralForm::from_settings(&saved.settings))
}
