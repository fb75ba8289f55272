//! The Applications view: the workspace's clients, with a DCR label on those registered
//! dynamically; filter, search, pages; and creating a manual client.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

use super::manual_client_form::{MANUAL_CLIENT_FIELD_NAMES, ManualClientFields, ManualClientInputs};
use super::{HeaderResource, use_workspace_path};
use crate::api::applications::{
    CreatedClient, ManualClientForm, create_manual_client, delete_abandoned_applications, list_applications,
};
use crate::domain::client::{ClientSummary, MAX_CLIENT_SEARCH_CHARS};
use crate::ui::components::{
    CopyField, DoneNotice, FieldMessage, FormMessage, RegistrationBadge, application_count, error_message, field_error,
    focus_follows_confirmation, minute, or_dash, with_query,
};
use crate::ui::password_confirmation::retried_after_confirmation;

#[component]
pub fn ApplicationsPage() -> impl IntoView {
    let path = use_workspace_path();
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        query
            .read()
            .get("filter")
            .filter(|f| ["dcr", "manual", "abandoned"].contains(&f.as_str()))
            .unwrap_or_else(|| "all".to_owned())
    });
    let search = Memo::new(move |_| query.read().get("q").unwrap_or_default());
    let page = Memo::new(move |_| query.read().get("page").and_then(|p| p.parse().ok()).unwrap_or(1_usize));
    let header = expect_context::<HeaderResource>();
    let created = RwSignal::new(None::<CreatedClient>);
    // How many abandoned clients the last bulk deletion removed.
    let cleaned = RwSignal::new(None::<usize>);
    let applications = Resource::new(
        move || (path.get(), filter.get(), search.get(), page.get(), created.get().map(|c| c.client_id), cleaned.get()),
        |(path, filter, search, page, _, _)| list_applications(path.tenant, path.workspace, filter, search, page),
    );
    let tab = move |value: &'static str, label: &'static str| {
        let href = move || with_query(&path.get().href("applications"), &[("filter", value), ("q", &search.get())]);
        view! {
            <A href=href attr:class=move || if filter.get() == value { "tab active" } else { "tab" } attr:aria-current=move || (filter.get() == value).then_some("page")>
                {label}
            </A>
        }
    };
    view! {
        <Title text="Applications" />
        <div class="page-header">
            <div>
                <h1>"Applications"</h1>
                <p class="lead">"Clients of this workspace: registered by TPPs through DCR, or created here."</p>
            </div>
        </div>
        <DoneNotice param="deleted" text=|client_id| format!("Application {client_id} deleted.") />
        <div class="toolbar">
            <nav class="tabs" aria-label="Filter applications">
                {tab("all", "All")}
                {tab("dcr", "DCR")}
                {tab("manual", "Manual")}
                {tab("abandoned", "Abandoned")}
            </nav>
            <Form method="GET" action="" attr:class="search" attr:role="search">
                <input type="hidden" name="filter" value=move || filter.get() />
                <label for="app-search" class="sr-only">"Search by name or client ID"</label>
                <input id="app-search" type="search" name="q" maxlength=MAX_CLIENT_SEARCH_CHARS placeholder="Search by name or client ID" value=move || search.get() />
                <button type="submit" class="button secondary">"Search"</button>
            </Form>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading applications…"</p> }>
            {move || {
                applications
                    .get()
                    .map(|result| match result {
                        Ok(listing) => {
                            let path = path.get();
                            let pager = (listing.pages > 1).then(|| {
                                let at = |p: usize| {
                                    with_query(&path.href("applications"), &[("filter", &filter.get()), ("q", &search.get()), ("page", &p.to_string())])
                                };
                                view! {
                                    <nav class="pager" aria-label="Pages">
                                        {(listing.page > 1).then(|| view! { <A href=at(listing.page - 1)>"← Previous"</A> })}
                                        <span>{format!("Page {} of {}", listing.page, listing.pages)}</span>
                                        {(listing.page < listing.pages).then(|| view! { <A href=at(listing.page + 1)>"Next →"</A> })}
                                    </nav>
                                }
                            });
                            let cleanup = (filter.get() == "abandoned" && listing.total > 0)
                                .then(|| view! { <AbandonedCleanup count=listing.total cleaned /> });
                            view! {
                                {move || cleaned.get().map(|n| view! { <div class="alert ok" role="status">{format!("Deleted {}.", application_count(n))}</div> })}
                                <p class="muted">{application_count(listing.total)}</p>
                                {cleanup}
                                <ApplicationsTable
                                    rows=listing.rows
                                    base=path.href("applications")
                                    filtered=filter.get() != "all" || !search.get().is_empty()
                                />
                                {pager}
                            }
                                .into_any()
                        }
                        Err(error) => view! { <div class="alert error">{error_message(&error)}</div> }.into_any(),
                    })
            }}
        </Transition>
        <Transition fallback=|| ()>
            {move || {
                header.get().and_then(Result::ok).map(|header| {
                    view! { <NewManualClient created allowed_methods=header.token_endpoint_auth_methods /> }
                })
            }}
        </Transition>
    }
}

/// The methods a manual client may authenticate with, as the form offers them.
const MANUAL_CLIENT_METHODS: [(&str, &str); 3] = [
    ("tls_client_auth", "tls_client_auth (certificate)"),
    ("private_key_jwt", "private_key_jwt (signed assertion)"),
    ("client_secret_basic", "client_secret_basic (secret)"),
];

/// Deletes every abandoned client at once, after a confirmation.
#[component]
fn AbandonedCleanup(count: usize, cleaned: RwSignal<Option<usize>>) -> impl IntoView {
    let path = use_workspace_path();
    let confirming = RwSignal::new(false);
    let (question, trigger) = (NodeRef::new(), NodeRef::new());
    focus_follows_confirmation(confirming, question, trigger);
    let delete = Action::new(move |(): &()| {
        let path = path.get_untracked();
        async move { delete_abandoned_applications(path.tenant, path.workspace).await }
    });
    retried_after_confirmation(delete, "delete the abandoned applications");
    Effect::new(move |_| {
        if let Some(Ok(deleted)) = delete.value().get() {
            confirming.set(false);
            cleaned.set(Some(deleted));
        }
    });
    view! {
        <section class="card danger" aria-labelledby="abandoned-heading">
            <h2 id="abandoned-heading">"Abandoned clients"</h2>
            <p class="hint spaced">
                {format!("{} registered through DCR had no token for the days set under Limits in General settings.", application_count(count))}
            </p>
            <button type="button" class="button danger" node_ref=trigger class:hidden=move || confirming.get() on:click=move |_| confirming.set(true)>
                "Delete all abandoned"
            </button>
            <div class="confirm" node_ref=question class:hidden=move || !confirming.get() role="alertdialog" aria-labelledby="confirm-abandoned">
                <p id="confirm-abandoned">{format!("Delete {}? Their tokens stop working at once; this cannot be undone.", application_count(count))}</p>
                <button type="button" class="button danger" id="confirm-abandoned-button" disabled=move || delete.pending().get() on:click=move |_| {
                    delete.dispatch(());
                }>
                    {move || if delete.pending().get() { "Deleting…" } else { "Yes, delete them" }}
                </button>
                <button type="button" class="button secondary" on:click=move |_| confirming.set(false)>
                    "Cancel"
                </button>
            </div>
            {move || delete.value().get().and_then(Result::err).map(|e| view! { <div class="alert error">{error_message(&e)}</div> })}
        </section>
    }
}

#[component]
fn ApplicationsTable(rows: Vec<ClientSummary>, base: String, filtered: bool) -> impl IntoView {
    if rows.is_empty() {
        let said = if filtered {
            "No applications match."
        } else {
            "No applications yet. Clients created here, and those TPPs register once dynamic client registration is on, appear here."
        };
        return view! { <div class="empty">{said}</div> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table" id="applications">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Client ID"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Software ID"</th>
                        <th scope="col">"Organisation"</th>
                        <th scope="col">"Authentication"</th>
                        <th scope="col">"Created (UTC)"</th>
                        <th scope="col">"Last token (UTC)"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|client| {
                            let href = format!("{base}/{}", client.client_id);
                            let name = client.name.clone().unwrap_or_else(|| "(unnamed)".to_owned());
                            view! {
                                <tr>
                                    <td>
                                        <A href=href>{name}</A>
                                    </td>
                                    <td class="mono small">{client.client_id.clone()}</td>
                                    <td>
                                        <RegistrationBadge dynamically_registered=client.dynamically_registered />
                                    </td>
                                    <td class="mono small">{or_dash(client.software_id.clone())}</td>
                                    <td>{or_dash(client.org_name.clone().or(client.org_id.clone()))}</td>
                                    <td class="mono small">{client.token_endpoint_auth_method.as_str()}</td>
                                    <td class="nowrap">{minute(client.created_at)}</td>
                                    <td class="nowrap">{client.last_token_at.map_or_else(|| "never".to_owned(), minute)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// A client created by an administrator (such as the portal that obtains `dcr_register` tokens).
#[component]
fn NewManualClient(created: RwSignal<Option<CreatedClient>>, allowed_methods: Vec<String>) -> impl IntoView {
    let path = use_workspace_path();
    let open = RwSignal::new(false);
    // Only what the workspace allows is offered: a client with another method could never get
    // a token.
    let offered: Vec<(&'static str, &'static str)> =
        MANUAL_CLIENT_METHODS.into_iter().filter(|(method, _)| allowed_methods.iter().any(|m| m == method)).collect();
    let none_offered = offered.is_empty();
    let fields = ManualClientFields::new(&ManualClientForm {
        scopes: "dcr_register".to_owned(),
        token_endpoint_auth_method: offered.first().map(|(method, _)| (*method).to_owned()).unwrap_or_default(),
        ..ManualClientForm::default()
    });
    let create = Action::new(move |form: &ManualClientForm| {
        let form = form.clone();
        let path = path.get_untracked();
        async move { create_manual_client(path.tenant, path.workspace, form).await }
    });
    retried_after_confirmation(create, "create an application");
    Effect::new(move |_| {
        if let Some(Ok(client)) = create.value().get() {
            created.set(Some(client));
            // Done: a second click must not make a twin.
            open.set(false);
            fields.show(&ManualClientForm { scopes: "dcr_register".to_owned(), ..ManualClientForm::default() });
        }
    });
    let error = Signal::derive(move || create.value().get().and_then(Result::err).map(|e| field_error(&e)));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(fields.form());
    };
    let method = fields.method;
    view! {
        <section class="card manual-clients" aria-labelledby="manual-client">
            <div class="card-header">
                <h2 id="manual-client">"Manual clients"</h2>
                <button type="button" class="button secondary small" on:click=move |_| open.update(|o| *o = !*o) aria-expanded=move || open.get().to_string()>
                    {move || if open.get() { "Close" } else { "New manual client" }}
                </button>
            </div>
            <p class="hint">"For the bank's own software: the onboarding portal that obtains dcr_register tokens, or a resource server that introspects tokens."</p>
            {move || {
                created.get().map(|client| {
                    view! {
                        <div class="alert ok" role="status" id="created-client">
                            <p>
                                {if client.client_secret.is_some() {
                                    "Client created. Copy its credentials now: the secret is not shown again."
                                } else {
                                    "Client created."
                                }}
                            </p>
                            <CopyField label="Client ID" value=client.client_id.clone() id="created-client-id" />
                            {client.client_secret.clone().map(|secret| view! { <CopyField label="Client secret" value=secret id="created-client-secret" /> })}
                        </div>
                    }
                })
            }}
            <form class="form-grid" class:hidden=move || !open.get() on:submit=submit novalidate>
                <ManualClientInputs fields error>
                    <div class="field">
                        <label for="mc-method">"Authentication"</label>
                        <select id="mc-method" on:change=move |ev| method.set(event_target_value(&ev)) prop:value=method disabled=none_offered>
                            {offered.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
                        </select>
                        {none_offered.then(|| view! {
                            <p class="hint">"This workspace allows none of tls_client_auth, private_key_jwt and client_secret_basic: allow one in General settings first."</p>
                        })}
                        <FieldMessage field="token_endpoint_auth_method" error />
                    </div>
                </ManualClientInputs>
                <FormMessage error fields=MANUAL_CLIENT_FIELD_NAMES />
                <div class="form-actions">
                    <button type="submit" class="button" disabled=move || none_offered || create.pending().get()>
                        {move || if create.pending().get() { "Creating…" } else { "Create client" }}
                    </button>
                </div>
            </form>
        </section>
    }
}
