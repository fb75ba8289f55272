//! The pages of one workspace, inside a layout with the workspace's sidebar.

mod application;
mod applications;
mod audit;
mod dcr;
mod dry_run;
mod general;
mod manual_client_form;
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
    let all_workspaces = move || format!("/app/{}/workspaces", path.get().tenant);
    // A workspace that cannot be read (an unknown id in the address) has no pages to show. The
    // panel that says so is rendered in a Transition; the pages and links are hidden once the
    // browser knows, by an effect (the server renders them, as before the header is read).
    let unavailable = move || header.get().and_then(Result::err).map(|error| error_message(&error));
    let hide_pages = RwSignal::new(false);
    Effect::new(move |_| {
        let unavailable = unavailable();
        // A page kept by the browser's history after signing out: to the sign-in, and back here.
        if unavailable.as_deref() == Some(crate::api::SESSION_ENDED) {
            super::session_timeout::sign_in_again();
        }
        hide_pages.set(unavailable.is_some());
    });
    view! {
        <TopBar />
        <div class="console">
            <nav class="sidebar" aria-label="Workspace">
                <a class="sidebar-back" href=all_workspaces>
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
                                Err(_) => ().into_any(),
                            })
                    }}
                </Transition>
                <ul class="sidebar-links" class:hidden=hide_pages>
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
                <Transition fallback=|| ()>
                    {move || {
                        unavailable()
                            .map(|message| {
                                view! {
                                    <div class="unavailable" id="workspace-unavailable">
                                        <h1>"This workspace cannot be shown"</h1>
                                        <p class="lead">{if message.ends_with('.') { message } else { format!("{message}.") }}</p>
                                        <a class="button secondary" href=all_workspaces>
                                            "All workspaces"
                                        </a>
                                    </div>
                                }
                            })
                    }}
                </Transition>
                <div class:hidden=hide_pages>
                    <Outlet />
                </div>
            </main>
        </div>
    }
}
