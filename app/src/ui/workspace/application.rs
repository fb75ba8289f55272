//! One application: everything it registered, its software statement's claims, and deletion.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::use_workspace_path;
use crate::api::applications::{ApplicationDetail, DeleteApplication, get_application};
use crate::ui::components::{RegistrationBadge, error_message, focus_follows_confirmation, or_dash, second_utc};
use crate::ui::password_confirmation::retried_after_confirmation;

#[component]
pub fn ApplicationPage() -> impl IntoView {
    let path = use_workspace_path();
    let params = use_params_map();
    let client_id = Memo::new(move |_| params.read().get("client_id").unwrap_or_default());
    let detail =
        Resource::new(move || (path.get(), client_id.get()), |(path, id)| get_application(path.tenant, path.workspace, id));
    view! {
        <Title text="Application" />
        <p>
            <a href=move || path.get().href("applications")>"← Applications"</a>
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                detail
                    .get()
                    .map(|result| match result {
                        Ok(detail) => view! { <Detail detail /> }.into_any(),
                        Err(error) => view! { <div class="alert error">{error_message(&error)}</div> }.into_any(),
                    })
            }}
        </Transition>
    }
}

#[component]
fn Detail(detail: ApplicationDetail) -> impl IntoView {
    let path = use_workspace_path();
    let summary = detail.summary;
    let confirming = RwSignal::new(false);
    let (question, trigger) = (NodeRef::new(), NodeRef::new());
    focus_follows_confirmation(confirming, question, trigger);
    let delete = ServerAction::<DeleteApplication>::new();
    retried_after_confirmation(*delete, "delete this application");
    let name = summary.name.clone().unwrap_or_else(|| "(unnamed)".to_owned());
    view! {
        <div class="page-header">
            <div>
                <h1 class="with-badge">
                    {name}
                    <RegistrationBadge dynamically_registered=summary.dynamically_registered />
                </h1>
                <p class="mono muted">{summary.client_id.clone()}</p>
            </div>
        </div>
        <section class="card">
            <dl class="facts">
                <dt>"Authentication"</dt>
                <dd>{summary.token_endpoint_auth_method.as_str()}</dd>
                <dt>"Software ID"</dt>
                <dd>{or_dash(summary.software_id.clone())}</dd>
                <dt>"Organisation"</dt>
                <dd>{organisation(&summary)}</dd>
                <dt>"Created"</dt>
                <dd>{second_utc(summary.created_at)}</dd>
                <dt>"Last token"</dt>
                <dd>{summary.last_token_at.map_or_else(|| "never".to_owned(), second_utc)}</dd>
            </dl>
        </section>
        <section class="card">
            <h2>"Registered metadata"</h2>
            <pre class="code" id="metadata">{detail.metadata}</pre>
        </section>
        {detail.software_statement_claims.map(|claims| {
            view! {
                <section class="card">
                    <h2>"Software statement"</h2>
                    <pre class="code" id="software-statement">{claims}</pre>
                </section>
            }
        })}
        <section class="card danger">
            <h2>"Delete"</h2>
            <p class="hint spaced">"The client and every token issued to it stop working at once."</p>
            <button type="button" class="button danger" node_ref=trigger class:hidden=move || confirming.get() on:click=move |_| confirming.set(true)>
                "Delete application"
            </button>
            <div class="confirm" node_ref=question class:hidden=move || !confirming.get() role="alertdialog" aria-labelledby="confirm-delete">
                <p id="confirm-delete">"Delete this application? This cannot be undone."</p>
                <ActionForm action=delete attr:class="inline">
                    <input type="hidden" name="tenant" value=move || path.get().tenant />
                    <input type="hidden" name="workspace" value=move || path.get().workspace />
                    <input type="hidden" name="client_id" value=summary.client_id.clone() />
                    <button type="submit" class="button danger" id="confirm-delete-button" disabled=move || delete.pending().get()>
                        {move || if delete.pending().get() { "Deleting…" } else { "Yes, delete" }}
                    </button>
                </ActionForm>
                <button type="button" class="button secondary" on:click=move |_| confirming.set(false)>
                    "Cancel"
                </button>
            </div>
            {move || delete.value().get().and_then(Result::err).map(|e| view! { <div class="alert error">{error_message(&e)}</div> })}
        </section>
    }
}

/// "Name (id)", or whichever of the two the client has.
fn organisation(summary: &crate::domain::client::ClientSummary) -> String {
    match (&summary.org_name, &summary.org_id) {
        (Some(name), Some(id)) => format!("{name} ({id})"),
        (name, id) => or_dash(name.clone().or_else(|| id.clone())),
    }
}
