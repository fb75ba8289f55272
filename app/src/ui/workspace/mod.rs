//! The pages of one workspace, inside a layout with the workspace's sidebar.

mod application;
mod applications;
mod audit;
mod dcr;
mod dry_run;
mod general;
mod policies;
mod sandbox;
mod signing_keys;

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::use_params_map;

use super::components::{Badge, DcrBadge, error_message};
use super::layout::TopBar;
use crate::api::workspaces::{WorkspaceHeader, workspace_overview};

pub use application::ApplicationPage;
pub use applications::ApplicationsPage;
pub use audit::AuditLogPage;
pub use dcr::DcrSettingsPage;
pub use dry_run::DryRunPage;
pub use general::GeneralSettingsPage;
pub use policies::{EditPolicyPage, NewPolicyPage, PoliciesPage};
pub use sandbox::SandboxTppsPage;

/// The tenant and workspace a page's path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspacePath {
    pub tenant: String,
    pub workspace: String,
}

impl WorkspacePath {
    pub fn href(&self, page: &str) -> String {
        format!("/app/{}/workspaces/{}/{page}", self.tenant, self.workspace)
    }
}

/// The path's workspace, as a signal for resources to follow.
pub fn use_workspace_path() -> Memo<WorkspacePath> {
    let params = use_params_map();
    Memo::new(move |_| {
        let params = params.read();
        WorkspacePath { tenant: params.get("tenant").unwrap_or_default(), workspace: params.get("workspace").unwrap_or_default() }
    })
}

/// The workspace's header data, loaded once by the layout for every page.
pub type HeaderResource = Resource<Result<WorkspaceHeader, ServerFnError>>;

/// Loads the workspace's header again after each successful save of settings it shows (DCR
/// on or off, the authentication methods the other tabs offer).
pub fn refresh_header_when_saved(saved: Signal<Option<bool>>) {
    let header = expect_context::<HeaderResource>();
    Effect::new(move |_| {
        if saved.get() == Some(true) {
            header.refetch();
        }
    });
}

#[component]
pub fn WorkspaceLayout() -> impl IntoView {
    let path = use_workspace_path();
    let header: HeaderResource = Resource::new(move || path.get(), |p| workspace_overview(p.tenant, p.workspace));
    provide_context(header);
    let link = move |page: &'static str| move || path.get().href(page);
    view! {
        <TopBar />
        <div class="console">
            <nav class="sidebar" aria-label="Workspace">
                <a class="sidebar-back" href=move || format!("/app/{}/workspaces", path.get().tenant)>
                    "← All workspaces"
                </a>
                <Transition fallback=|| view! { <div class="sidebar-title muted">"…"</div> }>
                    {move || {
                        header
                            .get()
                            .map(|result| match result {
                                Ok(header) => {
                                    view! {
                                        <div class="sidebar-title">{header.name}</div>
                                        <div class="sidebar-meta">
                                            <Badge text=header.profile.label() tone="info" />
                                            <DcrBadge enabled=header.dcr_enabled />
                                        </div>
                                    }
                                        .into_any()
                                }
                                Err(error) => view! { <div class="alert error">{error_message(&error)}</div> }.into_any(),
                            })
                    }}
                </Transition>
                <ul class="sidebar-links">
                    <li>
                        <A href=link("dcr")>"Dynamic client registration"</A>
                    </li>
                    <li>
                        <A href=link("policies")>"Policies"</A>
                    </li>
                    <li>
                        <A href=link("dry-run")>"Dry run"</A>
                    </li>
                    <li>
                        <A href=link("sandbox-tpps")>"Sandbox TPPs"</A>
                    </li>
                    <li>
                        <A href=link("applications")>"Applications"</A>
                    </li>
                    <li>
                        <A href=link("audit")>"Audit log"</A>
                    </li>
                    <li>
                        <A href=link("general")>"General settings"</A>
                    </li>
                </ul>
            </nav>
            <main class="page wide">
                <Outlet />
            </main>
        </div>
    }
}
