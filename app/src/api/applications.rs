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
    /// May introspect the tokens of other clients of the workspace.
    pub introspects_every_token: bool,
    /// A manual client's registration as the form that changes it shows it; none for a
    /// dynamically registered client, which changes itself.
    pub manual: Option<ManualClientForm>,
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
    Ok(detail_of(client))
}

#[cfg(feature = "ssr")]
fn detail_of(client: crate::domain::client::ClientDetails) -> ApplicationDetail {
    use crate::domain::client::introspects_every_token;
    let may_introspect = client.metadata.get("may_introspect").and_then(serde_json::Value::as_bool);
    let dynamically_registered = client.summary.dynamically_registered;
    ApplicationDetail {
        metadata: serde_json::to_string_pretty(&client.metadata).unwrap_or_default(),
        software_statement_claims: client.software_statement.as_deref().and_then(decode_claims),
        introspects_every_token: introspects_every_token(dynamically_registered, may_introspect),
        manual: (!dynamically_registered).then(|| ManualClientForm::of(&client)),
        summary: client.summary,
    }
}

#[cfg(feature = "ssr")]
impl ManualClientForm {
    /// The form showing a manual client's registration as it is.
    fn of(client: &crate::domain::client::ClientDetails) -> Self {
        let metadata = &client.metadata;
        let text = |member: &str| metadata.get(member).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
        Self {
            name: client.summary.name.clone().unwrap_or_default(),
            scopes: text("scope"),
            token_endpoint_auth_method: client.summary.token_endpoint_auth_method.as_str().to_owned(),
            tls_client_auth_subject_dn: text("tls_client_auth_subject_dn"),
            jwks: metadata.get("jwks").and_then(|jwks| serde_json::to_string_pretty(jwks).ok()).unwrap_or_default(),
            jwks_uri: text("jwks_uri"),
            may_introspect: metadata.get("may_introspect").and_then(serde_json::Value::as_bool).unwrap_or(false),
        }
    }

    /// The client the form describes; a field that cannot be read is refused by name.
    fn parse(self) -> Result<crate::domain::client::NewManualClient, ServerFnError> {
        use crate::domain::dcr::JwksUri;
        use crate::domain::jwks::{PublicJwks, Strictness};
        let invalid = |field: &str, message: String| crate::api::errors::invalid(format!("{field}: {message}"));
        let method =
            self.token_endpoint_auth_method.parse().map_err(|e| invalid("token_endpoint_auth_method", format!("{e}")))?;
        let text = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
        Ok(crate::domain::client::NewManualClient {
            scopes: self.scopes.split_whitespace().map(str::to_owned).collect(),
            token_endpoint_auth_method: method,
            jwks: text(&self.jwks)
                .map(|j| PublicJwks::parse_str(&j, Strictness::Strict))
                .transpose()
                .map_err(|e| invalid("jwks", e.to_string()))?,
            jwks_uri: text(&self.jwks_uri).map(|u| JwksUri::parse(&u)).transpose().map_err(|e| invalid("jwks_uri", e))?,
            tls_client_auth_subject_dn: text(&self.tls_client_auth_subject_dn),
            may_introspect: self.may_introspect,
            name: self.name,
        })
    }
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
    let administrator = require_confirmed_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let new = form.parse()?;
    let (client, secret) = crate::services::clients::create_manual_client(&app_state()?, &at, new, &administrator.email)
        .await
        .map_err(user_error)?;
    tracing::info!(workspace = %at, client_id = %client.summary.client_id, administrator = %administrator.email, "manual client created in the console");
    Ok(CreatedClient { client_id: client.summary.client_id, client_secret: secret.map(|s| s.expose().to_owned()) })
}

/// Changes a manual client; answers with its page's detail as it now is.
#[server(prefix = "/app/fn", endpoint = "update_manual_client", input = Json)]
pub async fn update_manual_client(
    tenant: String,
    workspace: String,
    client_id: String,
    form: ManualClientForm,
) -> Result<ApplicationDetail, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_confirmed_administrator};
    let administrator = require_confirmed_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let change = form.parse()?;
    let client = crate::services::clients::update_manual_client(&app_state()?, &at, &client_id, change, &administrator.email)
        .await
        .map_err(user_error)?;
    tracing::info!(workspace = %at, %client_id, administrator = %administrator.email, "manual client changed in the console");
    Ok(detail_of(client))
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
