//! `/app/{tenant}/workspaces`: the workspace directory, and creating a workspace.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::components::{Badge, DcrBadge, FieldMessage, FormMessage, application_count, error_message, field_error};
use super::layout::TopBar;
use crate::api::workspaces::{CreateWorkspace, list_workspaces};
use crate::domain::workspace::WorkspaceSummary;

#[component]
pub fn WorkspaceDirectory() -> impl IntoView {
    let params = use_params_map();
    let tenant = move || params.read().get("tenant").unwrap_or_default();
    let workspaces = Resource::new(tenant, list_workspaces);
    let create = ServerAction::<CreateWorkspace>::new();
    let error = Signal::derive(move || create.value().get().and_then(Result::err).map(|e| field_error(&e)));
    let pending = create.pending();
    view! {
        <Title text="Workspaces" />
        <TopBar />
        <main class="page">
            <div class="page-header">
                <div>
                    <h1>"Workspaces"</h1>
                    <p class="lead">"Each workspace is an authorization server with its own registration rules, keys and clients."</p>
                </div>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading workspaces…"</p> }>
                {move || {
                    workspaces
                        .get()
                        .map(|result| match result {
                            Ok(list) => view! { <WorkspaceCards tenant=tenant() workspaces=list /> }.into_any(),
                            Err(e) => view! { <div class="alert error">{error_message(&e)}</div> }.into_any(),
                        })
                }}
            </Transition>
            <section class="card" aria-labelledby="new-workspace">
                <h2 id="new-workspace">"New workspace"</h2>
                <ActionForm action=create attr:class="form-grid">
                    <input type="hidden" name="tenant" value=tenant />
                    <div class="field">
                        <label for="ws-id">"ID"</label>
                        <input
                            id="ws-id"
                            name="id"
                            required
                            pattern="[a-z0-9][a-z0-9\\-]*"
                            title="Lowercase letters, digits and '-', starting with a letter or digit"
                            maxlength="63"
                            placeholder="e.g. sandbox"
                        />
                        <p class="hint">"Lowercase letters, digits and '-'; it appears in every endpoint URL."</p>
                        <FieldMessage field="id" error />
                    </div>
                    <div class="field">
                        <label for="ws-name">"Name"</label>
                        <input id="ws-name" name="name" required maxlength="80" placeholder="e.g. Sandbox" />
                        <FieldMessage field="name" error />
                    </div>
                    <div class="field">
                        <label for="ws-profile">"Profile"</label>
                        <select id="ws-profile" name="profile">
                            <option value="openbanking_uk">"Open Banking UK (DCR v3.2)"</option>
                            <option value="generic">"Generic OAuth 2.0 (RFC 7591)"</option>
                        </select>
                        <p class="hint">"Open Banking UK: FAPI rules, signed requests, software statements and mutual TLS."</p>
                        <FieldMessage field="profile" error />
                    </div>
                    <FormMessage error fields=&["id", "name", "profile"] />
                    <div class="form-actions">
                        <button type="submit" class="button" disabled=pending>
                            {move || if pending.get() { "Creating…" } else { "Create workspace" }}
                        </button>
                    </div>
                </ActionForm>
            </section>
        </main>
    }
}

#[component]
fn WorkspaceCards(tenant: String, workspaces: Vec<WorkspaceSummary>) -> impl IntoView {
    if workspaces.is_empty() {
        return view! { <p class="muted">"No workspaces yet: create the first one below."</p> }.into_any();
    }
    view! {
        <ul class="cards" id="workspace-cards">
            {workspaces
                .into_iter()
                .map(|workspace| {
                    let href = format!("/app/{tenant}/workspaces/{}/dcr", workspace.id);
                    let count = application_count(workspace.client_count);
                    view! {
                        <li class="card workspace-card">
                            <a href=href class="card-link">
                                <span class="card-title">{workspace.name}</span>
                                <span class="mono muted">{workspace.id.to_string()}</span>
                            </a>
                            <div class="card-meta">
                                <Badge text=workspace.profile.label() tone="info" />
                                <DcrBadge enabled=workspace.dcr_enabled />
                                <span class="muted">{count}</span>
                            </div>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
