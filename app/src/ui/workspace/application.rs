//! One application: everything it registered, its software statement's claims, changing a
//! manual one, and deletion.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::manual_client_form::{MANUAL_CLIENT_FIELD_NAMES, ManualClientFields, ManualClientInputs};
use super::use_workspace_path;
use crate::api::applications::{ApplicationDetail, DeleteApplication, ManualClientForm, get_application, update_manual_client};
use crate::ui::components::{
    FormMessage, RegistrationBadge, SaveToast, error_message, focus_follows_confirmation, or_dash, second_utc,
};
use crate::ui::password_confirmation::retried_after_confirmation;
use crate::ui::saving::{FormSave, UnsavedNote};

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
    let summary = detail.summary.clone();
    let manual = detail.manual.clone();
    // As last saved: a change answers with the application as it now is.
    let current = RwSignal::new(detail);
    let confirming = RwSignal::new(false);
    let (question, trigger) = (NodeRef::new(), NodeRef::new());
    focus_follows_confirmation(confirming, question, trigger);
    let delete = ServerAction::<DeleteApplication>::new();
    retried_after_confirmation(*delete, "delete this application");
    let name = move || current.with(|d| d.summary.name.clone()).unwrap_or_else(|| "(unnamed)".to_owned());
    let introspection = move || {
        if current.with(|d| d.introspects_every_token) { "Any token of this workspace" } else { "Its own tokens only" }
    };
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
                <dt>"Introspection"</dt>
                <dd id="introspection">{introspection}</dd>
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
        {manual.map(|form| view! { <ChangeManualClient client_id=summary.client_id.clone() form current /> })}
        <section class="card">
            <h2>"Registered metadata"</h2>
            <pre class="code" id="metadata">{move || current.with(|d| d.metadata.clone())}</pre>
        </section>
        {current.with_untracked(|d| d.software_statement_claims.clone()).map(|claims| {
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

/// Changes a manual client: everything but its authentication method, which another client
/// would have.
#[component]
fn ChangeManualClient(client_id: String, form: ManualClientForm, current: RwSignal<ApplicationDetail>) -> impl IntoView {
    let path = use_workspace_path();
    let method = form.token_endpoint_auth_method.clone();
    let fields = ManualClientFields::new(&form);
    let save = Action::new(move |form: &ManualClientForm| {
        let (form, client_id, path) = (form.clone(), client_id.clone(), path.get_untracked());
        async move { update_manual_client(path.tenant, path.workspace, client_id, form).await }
    });
    let read = move || fields.form();
    let saving = FormSave::new(save, "change this application", read);
    let (error, outcome) = (saving.error, saving.outcome);
    Effect::new(move |_| {
        if let Some(Ok(detail)) = save.value().get() {
            current.set(detail);
        }
    });
    view! {
        <section class="card" aria-labelledby="change-client">
            <h2 id="change-client">"Change"</h2>
            <p class="hint spaced">"Tokens already issued keep their scope until they expire. The authentication method stays: for another, create a new client."</p>
            <form class="form-grid" on:submit=saving.submit(read) novalidate>
                <ManualClientInputs fields error>
                    <div class="field">
                        <label for="mc-method">"Authentication"</label>
                        <input id="mc-method" class="mono" value=method readonly />
                    </div>
                </ManualClientInputs>
                <FormMessage error fields=MANUAL_CLIENT_FIELD_NAMES />
                <div class="form-actions">
                    <UnsavedNote dirty=saving.unsaved.dirty />
                    <button type="submit" class="button" id="save-client" disabled=move || save.pending().get()>
                        {move || if save.pending().get() { "Saving…" } else { "Save changes" }}
                    </button>
                </div>
                <SaveToast outcome saved="Application saved" />
            </form>
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
