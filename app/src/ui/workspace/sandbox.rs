//! The Sandbox TPPs page: test TPPs of the tenant's sandbox directory. Onboard makes a TPP's
//! keys, certificate and statement; its bundle downloads for `onboard tpp`, and one click
//! registers it at this workspace, showing the endpoint's answer.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::{HeaderResource, use_workspace_path};
use crate::api::sandbox::{
    create_sandbox_tpp, delete_sandbox_tpp, list_sandbox_tpps, register_sandbox_tpp, sandbox_bundle_download,
};
use crate::domain::sandbox::{NewSandboxTpp, SANDBOX_ROLES, SandboxRegistration, SandboxSoftwareSummary, SoftwareDetails};
use crate::domain::workspace::Profile;
use crate::ui::components::{FieldMessage, FormMessage, error_message, field_error, minute};
use crate::ui::password_confirmation::{Answer as _, asks_for_password, retried_after_confirmation};

/// The outcome shown under the list: which TPP was tried, and what the endpoint said.
type Tried = (String, Result<SandboxRegistration, ServerFnError>);

#[component]
pub fn SandboxTppsPage() -> impl IntoView {
    let path = use_workspace_path();
    let changed = RwSignal::new(0_u32);
    let tpps = Resource::new(move || (path.get().tenant, changed.get()), |(tenant, _)| list_sandbox_tpps(tenant));
    let tried = RwSignal::new(None::<Tried>);
    view! {
        <Title text="Sandbox TPPs" />
        <div class="page-header">
            <div>
                <h1>"Sandbox TPPs"</h1>
                <p class="lead">
                    "Test TPPs of this tenant's sandbox directory. Onboard makes their keys, transport certificate and software statement: download a bundle for "
                    <code>"onboard tpp"</code> ", or register one at this workspace in one click."
                </p>
            </div>
        </div>
        <TrustNotice />
        <Transition fallback=|| view! { <p class="muted">"Loading sandbox TPPs…"</p> }>
            {move || {
                tpps.get()
                    .map(|result| match result {
                        Ok(rows) => view! { <SandboxTable rows tried changed /> }.into_any(),
                        Err(error) => view! { <div class="alert error">{error_message(&error)}</div> }.into_any(),
                    })
            }}
        </Transition>
        {move || tried.get().map(|(software_id, outcome)| view! { <Outcome software_id outcome /> })}
        <NewSandboxTppForm changed />
    }
}

/// Says when a registration from here cannot succeed, and where to change that.
#[component]
fn TrustNotice() -> impl IntoView {
    let header = expect_context::<HeaderResource>();
    let path = use_workspace_path();
    view! {
        <Transition fallback=|| ()>
            {move || {
                header.get().and_then(Result::ok).and_then(|header| {
                    let dcr = path.get().href("dcr");
                    let text = if header.profile != Profile::OpenbankingUk {
                        "Sandbox TPPs register at Open Banking UK workspaces; this one is generic."
                    } else if !header.dcr_enabled {
                        "Dynamic client registration is off for this workspace: registrations will be refused (403)."
                    } else if !header.trusts_sandbox_directory {
                        "This workspace does not trust the sandbox directory: its software's registrations will be refused, their statements and certificates not trusted here. Switch it on for test workspaces only."
                    } else {
                        return None;
                    };
                    Some(view! {
                        <div class="alert warning" id="sandbox-trust">
                            {text} " " <A href=dcr>"Dynamic client registration settings"</A>
                        </div>
                    })
                })
            }}
        </Transition>
    }
}

#[component]
fn SandboxTable(rows: Vec<SandboxSoftwareSummary>, tried: RwSignal<Option<Tried>>, changed: RwSignal<u32>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <div class="empty">"No sandbox TPPs yet: make one below, or enrol one with onboard tpp init --sandbox."</div> }
            .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table" id="sandbox-tpps">
                <thead>
                    <tr>
                        <th scope="col">"Software ID"</th>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Organisation"</th>
                        <th scope="col">"Roles"</th>
                        <th scope="col">"Created (UTC)"</th>
                        <th scope="col">
                            <span class="sr-only">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>{rows.into_iter().map(|tpp| view! { <SandboxRow tpp tried changed /> }).collect_view()}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn SandboxRow(tpp: SandboxSoftwareSummary, tried: RwSignal<Option<Tried>>, changed: RwSignal<u32>) -> impl IntoView {
    let path = use_workspace_path();
    let software_id = tpp.details.software_id.clone();
    let register = Action::new(move |software_id: &String| {
        let (path, software_id) = (path.get_untracked(), software_id.clone());
        async move { (software_id.clone(), register_sandbox_tpp(path.tenant, path.workspace, software_id).await) }
    });
    retried_after_confirmation(register, "register this sandbox TPP");
    Effect::new(move |_| {
        if let Some(outcome) = register.value().get().filter(|outcome| !outcome.asks_for_password()) {
            tried.set(Some(outcome));
        }
    });
    let delete = Action::new(move |software_id: &String| {
        let (tenant, software_id) = (path.get_untracked().tenant, software_id.clone());
        async move { delete_sandbox_tpp(tenant, software_id).await }
    });
    retried_after_confirmation(delete, "delete this sandbox TPP");
    // The bundle holds private keys: the server may ask for the password before it is handed
    // over; once allowed, the browser downloads it.
    let download = Action::new(move |software_id: &String| {
        let (tenant, software_id) = (path.get_untracked().tenant, software_id.clone());
        async move { sandbox_bundle_download(tenant, software_id).await }
    });
    retried_after_confirmation(download, "download this sandbox TPP's keys");
    Effect::new(move |_| {
        if let Some(Ok(href)) = download.value().get() {
            start_download(&href);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            changed.update(|n| *n += 1);
        }
    });
    let confirming = RwSignal::new(false);
    let actions = if tpp.held {
        let (for_register, for_delete) = (software_id.clone(), software_id.clone());
        let for_download = software_id.clone();
        view! {
            <div class="row-actions">
                <button
                    type="button"
                    class="button small"
                    data-register=software_id.clone()
                    disabled=move || register.pending().get()
                    on:click=move |_| {
                        register.dispatch(for_register.clone());
                    }
                >
                    {move || if register.pending().get() { "Registering…" } else { "Register here" }}
                </button>
                <button
                    type="button"
                    class="button secondary small"
                    disabled=move || download.pending().get()
                    on:click=move |_| {
                        download.dispatch(for_download.clone());
                    }
                >
                    "Download bundle"
                </button>
                {move || {
                    let for_delete = for_delete.clone();
                    if confirming.get() {
                        view! {
                            <span class="confirm">
                                <button type="button" class="button danger small" on:click=move |_| {
                                    delete.dispatch(for_delete.clone());
                                }>"Delete"</button>
                                <button type="button" class="button secondary small" on:click=move |_| confirming.set(false)>
                                    "Keep"
                                </button>
                            </span>
                        }
                            .into_any()
                    } else {
                        view! {
                            <button type="button" class="button secondary small" on:click=move |_| confirming.set(true)>
                                "Delete…"
                            </button>
                        }
                            .into_any()
                    }
                }}
            </div>
        }
        .into_any()
    } else {
        view! { <span class="muted small">"Keys held by the TPP (enrolled with onboard tpp)"</span> }.into_any()
    };
    let row_error = move || {
        let failed = delete.value().get().and_then(Result::err).or_else(|| download.value().get().and_then(Result::err));
        failed.filter(|error| !asks_for_password(error)).map(|e| view! { <p class="field-error">{error_message(&e)}</p> })
    };
    view! {
        <tr>
            <td class="mono small">{software_id.clone()}</td>
            <td>{tpp.details.client_name.clone()}</td>
            <td>{format!("{} ({})", tpp.details.organisation_name(), tpp.details.org_id)}</td>
            <td>{tpp.details.roles.join(", ")}</td>
            <td class="nowrap">{minute(tpp.created_at)}</td>
            <td>{actions} {row_error}</td>
        </tr>
    }
}

/// The registration endpoint's answer to a sandbox TPP.
#[component]
fn Outcome(software_id: String, outcome: Result<SandboxRegistration, ServerFnError>) -> impl IntoView {
    let path = use_workspace_path();
    let body = match outcome {
        Err(error) => view! { <div class="alert error">{error_message(&error)}</div> }.into_any(),
        Ok(registration) => {
            let verdict = if let Some(client_id) = registration.client_id.clone() {
                let href = path.get_untracked().href(&format!("applications/{client_id}"));
                view! {
                    <div class="verdict accepted" role="status">
                        <strong>"Registered (201)"</strong>
                        <span>"client"</span>
                        <A href=href attr:class="mono">{client_id}</A>
                    </div>
                }
                .into_any()
            } else {
                // Why, in the protocol's words, above the whole answer.
                let why = serde_json::from_str::<serde_json::Value>(&registration.answer)
                    .ok()
                    .and_then(|answer| answer.get("error_description").and_then(|d| d.as_str()).map(str::to_owned));
                view! {
                    <div class="verdict refused" role="status">
                        <strong>{format!("Refused ({})", registration.status)}</strong>
                        {why.map(|why| view! { <span>{why}</span> })}
                    </div>
                }
                .into_any()
            };
            view! {
                {verdict}
                <pre class="code" id="sandbox-answer">{registration.answer}</pre>
            }
            .into_any()
        }
    };
    view! {
        <section class="card" aria-labelledby="sandbox-outcome" id="sandbox-outcome-card">
            <h2 id="sandbox-outcome">{format!("Registering {software_id}")}</h2>
            {body}
        </section>
    }
}

#[component]
fn NewSandboxTppForm(changed: RwSignal<u32>) -> impl IntoView {
    let path = use_workspace_path();
    let software_id = RwSignal::new(String::new());
    let org_id = RwSignal::new(String::new());
    let org_name = RwSignal::new(String::new());
    let client_name = RwSignal::new(String::new());
    let redirect_uris = RwSignal::new(String::new());
    let roles = RwSignal::new(vec!["AISP".to_owned()]);
    let algorithm = RwSignal::new("PS256".to_owned());
    let create = Action::new(move |new: &NewSandboxTpp| {
        let (tenant, new) = (path.get_untracked().tenant, new.clone());
        async move { create_sandbox_tpp(tenant, new).await }
    });
    retried_after_confirmation(create, "create a sandbox TPP");
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            changed.update(|n| *n += 1);
            // The organisation stays for its next software; what describes this one starts over.
            for field in [software_id, client_name, redirect_uris] {
                field.set(String::new());
            }
            roles.set(vec!["AISP".to_owned()]);
            algorithm.set("PS256".to_owned());
        }
    });
    let error = Signal::derive(move || create.value().get().and_then(Result::err).map(|e| field_error(&e)));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(NewSandboxTpp {
            details: SoftwareDetails {
                software_id: software_id.get().trim().to_owned(),
                org_id: org_id.get().trim().to_owned(),
                org_name: Some(org_name.get().trim().to_owned()),
                client_name: client_name.get().trim().to_owned(),
                roles: roles.get(),
                redirect_uris: redirect_uris.get().split_whitespace().map(str::to_owned).collect(),
            },
            algorithm: algorithm.get(),
        });
    };
    let role = move |name: &'static str| {
        let id = format!("st-role-{}", name.to_lowercase());
        let label_for = id.clone();
        view! {
            <label class="radio" for=label_for>
                <input
                    id=id
                    type="checkbox"
                    prop:checked=move || roles.get().iter().any(|r| r == name)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        roles.update(|roles| {
                            roles.retain(|r| r != name);
                            if on {
                                roles.push(name.to_owned());
                            }
                        });
                    }
                />
                {name}
            </label>
        }
    };
    view! {
        <section class="card" aria-labelledby="new-sandbox-tpp">
            <div class="card-header">
                <h2 id="new-sandbox-tpp">"New sandbox TPP"</h2>
            </div>
            <p class="hint spaced">
                "The directory issues its transport certificate and software statement; its private keys stay on this server, for the bundle download. Test material only."
            </p>
            {move || {
                create.value().get().and_then(Result::ok).map(|made| {
                    view! {
                        <div class="alert ok" role="status" id="sandbox-created">
                            {format!("Made sandbox TPP {}. Register it above, or download its bundle.", made.details.software_id)}
                        </div>
                    }
                })
            }}
            <form class="form-grid" on:submit=submit novalidate>
                <div class="field">
                    <label for="st-software-id">"Software ID"</label>
                    <input id="st-software-id" class="mono" placeholder="e.g. BudgetPlanner" bind:value=software_id required />
                    <p class="hint">"1 to 22 letters or digits."</p>
                    <FieldMessage field="software_id" error />
                </div>
                <div class="field">
                    <label for="st-org-id">"Organisation ID"</label>
                    <input id="st-org-id" class="mono" placeholder="e.g. 0015800001SANDBOX" bind:value=org_id required />
                    <FieldMessage field="org_id" error />
                </div>
                <div class="field">
                    <label for="st-org-name">"Organisation name"</label>
                    <input id="st-org-name" placeholder="e.g. Budget Planner Ltd" bind:value=org_name required />
                    <FieldMessage field="org_name" error />
                </div>
                <div class="field">
                    <label for="st-name">"Client name"</label>
                    <input id="st-name" placeholder="e.g. Budget Planner" bind:value=client_name required />
                    <FieldMessage field="client_name" error />
                </div>
                <div class="field">
                    <label for="st-alg">"Signing algorithm"</label>
                    <select id="st-alg" on:change=move |ev| algorithm.set(event_target_value(&ev)) prop:value=algorithm>
                        <option value="PS256">"PS256 (RSA)"</option>
                        <option value="ES256">"ES256 (P-256)"</option>
                    </select>
                    <FieldMessage field="algorithm" error />
                </div>
                <fieldset class="field">
                    <legend>"Roles"</legend>
                    <div class="radios">{SANDBOX_ROLES.map(role).collect_view()}</div>
                    <FieldMessage field="roles" error />
                </fieldset>
                <div class="field">
                    <label for="st-redirect">"Redirect URIs"</label>
                    <textarea id="st-redirect" class="mono" rows="2" placeholder="e.g. https://budget.example/callback" bind:value=redirect_uris></textarea>
                    <p class="hint">"One per line, https."</p>
                    <FieldMessage field="redirect_uris" error />
                </div>
                <FormMessage error fields=&["software_id", "org_id", "org_name", "client_name", "algorithm", "roles", "redirect_uris"] />
                <div class="form-actions">
                    <button type="submit" class="button" disabled=move || create.pending().get()>
                        {move || if create.pending().get() { "Making keys…" } else { "Make sandbox TPP" }}
                    </button>
                </div>
            </form>
        </section>
    }
}

/// Has the browser download `href` (an attachment: the page stays).
fn start_download(href: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().assign(href);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = href;
}
