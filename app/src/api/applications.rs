//! Server functions of a workspace's Applications view.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::domain::client::ClientSummary;

/// Clients shown per page.
pub const PAGE_SIZE: usize = 20;

/// One page of the Applications table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationsPage {
    pub rows: Vec<ClientSummary>,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
}

/// Where a requested page falls among `total` rows, [`PAGE_SIZE`] to a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageWindow {
    /// The page shown, from 1: an out-of-range request shows the nearest page.
    pub page: usize,
    pub pages: usize,
    /// How many rows come before it.
    pub offset: u64,
}

impl PageWindow {
    pub fn of(total: u64, requested: usize) -> Self {
        let size = PAGE_SIZE as u64;
        let pages = usize::try_from(total.div_ceil(size).max(1)).unwrap_or(usize::MAX);
        let page = requested.clamp(1, pages);
        Self { page, pages, offset: (page as u64 - 1) * size }
    }
}

/// One application with everything it registered, for the detail page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationDetail {
    pub summary: ClientSummary,
    /// The registration, pretty-printed JSON.
    pub metadata: String,
    /// The software statement's claims, decoded and pretty-printed.
    pub software_statement_claims: Option<String>,
}

/// What creating a manual client returns: the client, and its secret (shown once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedClient {
    pub client_id: String,
    pub client_secret: Option<String>,
}

/// The manual client form.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ManualClientForm {
    pub name: String,
    /// Space-separated.
    pub scopes: String,
    pub token_endpoint_auth_method: String,
    pub tls_client_auth_subject_dn: String,
    pub jwks: String,
    pub jwks_uri: String,
    /// May introspect any token of the workspace (a resource server).
    #[serde(default)]
    pub may_introspect: bool,
}

#[server(prefix = "/app/fn", endpoint = "list_applications")]
pub async fn list_applications(
    tenant: String,
    workspace: String,
    filter: String,
    search: String,
    page: usize,
) -> Result<ApplicationsPage, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_administrator};
    use crate::domain::client::{ClientFilter, ClientSelection, PageStart};
    use crate::services::clients;
    require_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let state = app_state()?;
    let mut selection = match filter.as_str() {
        "abandoned" => clients::abandoned_selection(&state, &at).await.map_err(user_error)?,
        "dcr" => ClientSelection { filter: ClientFilter::Dynamic, ..ClientSelection::default() },
        "manual" => ClientSelection { filter: ClientFilter::Manual, ..ClientSelection::default() },
        _ => ClientSelection::default(),
    };
    selection.search = search;
    let total = clients::count_clients(&state, &at, &selection).await.map_err(user_error)?;
    let window = PageWindow::of(total, page);
    selection.start = PageStart::Offset(window.offset);
    selection.limit = Some(PAGE_SIZE as u64);
    let rows = clients::list_clients(&state, &at, &selection).await.map_err(user_error)?;
    Ok(ApplicationsPage { rows, total: usize::try_from(total).unwrap_or(usize::MAX), page: window.page, pages: window.pages })
}

/// Deletes every abandoned client of the workspace; returns how many went.
#[server(prefix = "/app/fn", endpoint = "delete_abandoned_applications")]
pub async fn delete_abandoned_applications(tenant: String, workspace: String) -> Result<usize, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_confirmed_administrator};
    let administrator = require_confirmed_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let deleted =
        crate::services::clients::delete_abandoned_clients(&app_state()?, &at, &administrator.email).await.map_err(user_error)?;
    tracing::info!(workspace = %at, deleted, administrator = %administrator.email, "abandoned clients deleted in the console");
    Ok(deleted)
}

#[server(prefix = "/app/fn", endpoint = "get_application")]
pub async fn get_application(tenant: String, workspace: String, client_id: String) -> Result<ApplicationDetail, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_administrator};
    require_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let client = crate::services::clients::get_client(&app_state()?, &at, &client_id).await.map_err(user_error)?;
    let software_statement_claims = client.software_statement.as_deref().and_then(decode_claims);
    Ok(ApplicationDetail {
        metadata: serde_json::to_string_pretty(&client.metadata).unwrap_or_default(),
        summary: client.summary,
        software_statement_claims,
    })
}

/// The payload of a compact JWS, pretty-printed (it was verified when it was registered).
#[cfg(feature = "ssr")]
fn decode_claims(compact: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = compact.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    serde_json::to_string_pretty(&value).ok()
}

#[server(prefix = "/app/fn", endpoint = "delete_application")]
pub async fn delete_application(tenant: String, workspace: String, client_id: String) -> Result<(), ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_confirmed_administrator};
    let administrator = require_confirmed_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    crate::services::clients::delete_client(&app_state()?, &at, &client_id, &administrator.email).await.map_err(user_error)?;
    tracing::info!(workspace = %at, %client_id, administrator = %administrator.email, "client deleted in the console");
    let deleted: String = url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect();
    leptos_axum::redirect(&format!("/app/{tenant}/workspaces/{workspace}/applications?deleted={deleted}"));
    Ok(())
}

#[server(prefix = "/app/fn", endpoint = "create_manual_client", input = Json)]
pub async fn create_manual_client(
    tenant: String,
    workspace: String,
    form: ManualClientForm,
) -> Result<CreatedClient, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_confirmed_administrator};
    use crate::domain::client::NewManualClient;
    use crate::domain::dcr::JwksUri;
    use crate::domain::jwks::{PublicJwks, Strictness};
    let administrator = require_confirmed_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let invalid = |field: &str, message: String| crate::api::errors::invalid(format!("{field}: {message}"));
    let method = form.token_endpoint_auth_method.parse().map_err(|e| invalid("token_endpoint_auth_method", format!("{e}")))?;
    let text = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
    let new = NewManualClient {
        name: form.name,
        scopes: form.scopes.split_whitespace().map(str::to_owned).collect(),
        token_endpoint_auth_method: method,
        jwks: text(&form.jwks)
            .map(|j| PublicJwks::parse_str(&j, Strictness::Strict))
            .transpose()
            .map_err(|e| invalid("jwks", e.to_string()))?,
        jwks_uri: text(&form.jwks_uri).map(|u| JwksUri::parse(&u)).transpose().map_err(|e| invalid("jwks_uri", e))?,
        tls_client_auth_subject_dn: text(&form.tls_client_auth_subject_dn),
        may_introspect: form.may_introspect,
    };
    let (client, secret) = crate::services::clients::create_manual_client(&app_state()?, &at, new, &administrator.email)
        .await
        .map_err(user_error)?;
    tracing::info!(workspace = %at, client_id = %client.summary.client_id, administrator = %administrator.email, "manual client created in the console");
    Ok(CreatedClient { client_id: client.summary.client_id, client_secret: secret.map(|s| s.expose().to_owned()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "ssr")]
    #[test]
    fn software_statement_claims_are_decoded_for_display() {
        use base64::Engine as _;
        let encode = |json: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        let compact = format!("{}.{}.c2ln", encode(r#"{"alg":"PS256"}"#), encode(r#"{"software_id":"abc","org_name":"TPP"}"#));
        let claims = decode_claims(&compact).unwrap_or_default();
        assert!(claims.contains("\"software_id\": \"abc\""), "{claims}");
        assert_eq!(decode_claims("not a jws"), None);
        assert_eq!(decode_claims(&format!("{}.bm90IGpzb24.c2ln", encode("{}"))), None);
    }

    #[test]
    fn a_requested_page_is_clamped_to_those_there_are() {
        assert_eq!(PageWindow::of(45, 1), PageWindow { page: 1, pages: 3, offset: 0 });
        assert_eq!(PageWindow::of(45, 3), PageWindow { page: 3, pages: 3, offset: 40 });
        assert_eq!(PageWindow::of(45, 9), PageWindow { page: 3, pages: 3, offset: 40 }, "past the end: the last page");
        assert_eq!(PageWindow::of(40, 0), PageWindow { page: 1, pages: 2, offset: 0 });
        assert_eq!(PageWindow::of(0, 5), PageWindow { page: 1, pages: 1, offset: 0 }, "no rows: one empty page");
    }
}
