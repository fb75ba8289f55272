//! The Policies pages: the workspace's DCR policies, and the editor for one (validator rules
//! with a rule editor, or a Rego module).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::{HeaderResource, use_workspace_path};
use crate::api::policies::{DeletePolicy, PolicyForm, RuleForm, describe_value, get_policy_form, list_policies, save_policy};
use crate::domain::policy::{Comparator, INPUT_FIELDS, PolicyErrorCode};
use crate::ui::components::{
    Badge, DoneNotice, FieldMessage, FormMessage, SaveToast, error_message, focus_follows_confirmation, minute,
};
use crate::ui::password_confirmation::retried_after_confirmation;
use crate::ui::saving::{FormSave, SavedOrder, UnsavedNote};

#[component]
pub fn PoliciesPage() -> impl IntoView {
    let path = use_workspace_path();
    let header = expect_context::<HeaderResource>();
    let policies = Resource::new(move || path.get(), |p| list_policies(p.tenant, p.workspace));
    view! {
        <Title text="Policies" />
        <div class="page-header">
            <div>
                <h1>"Policies"</h1>
                <p class="lead">
                    "Rules every registration must also pass, after the built-in ones. Attach one in the Dynamic client registration tab."
                </p>
            </div>
            <A href=move || path.get().href("policies/new") attr:class="button">
                "New policy"
            </A>
        </div>
        <DoneNotice param="deleted" text=|id| format!("Policy {id} deleted.") />
        <Transition fallback=|| view! { <p class="muted">"Loading policies…"</p> }>
            {move || {
                let attached = header.get().and_then(Result::ok).and_then(|header| header.policy_id);
                policies
                    .get()
                    .map(|result| match result {
                        Ok(list) if list.is_empty() => {
                            view! {
                                <div class="empty">
                                    "No policies yet. A policy can allow only some software roles, keep redirect URIs on the TPP's own domain, or require tls_client_auth."
                                </div>
                            }
                                .into_any()
                        }
                        Ok(list) => {
                            let path = path.get();
                            view! {
                                <div class="table-wrap">
                                    <table class="table" id="policies">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Name"</th>
                                                <th scope="col">"ID"</th>
                                                <th scope="col">"Language"</th>
                                                <th scope="col">"Size"</th>
                                                <th scope="col">"Updated (UTC)"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {list
                                                .into_iter()
                                                .map(|policy| {
                                                    let href = path.href(&format!("policies/{}/edit", policy.id));
                                                    let in_use = attached.as_deref() == Some(policy.id.as_str());
                                                    let size = match (policy.language.as_str(), policy.size) {
                                                        ("validators", 1) => "1 rule".to_owned(),
                                                        ("validators", n) => format!("{n} rules"),
                                                        (_, n) => format!("{n} lines"),
                                                    };
                                                    view! {
                                                        <tr>
                                                            <td>
                                                                <A href=href>{policy.name}</A>
                                                                {in_use.then(|| view! { " " <Badge text="Attached" tone="ok" /> })}
                                                            </td>
                                                            <td class="mono small">{policy.id}</td>
                                                            <td>
                                                                <Badge text=policy.language tone="neutral" />
                                                            </td>
                                                            <td class="nowrap">{size}</td>
                                                            <td class="nowrap">{minute(policy.updated_at)}</td>
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
                        Err(error) => view! { <div class="alert error">{error_message(&error)}</div> }.into_any(),
                    })
            }}
        </Transition>
    }
}

/// `policies/new`: an empty validator policy with one rule to fill in.
#[component]
pub fn NewPolicyPage() -> impl IntoView {
    let initial = PolicyForm { language: "validators".to_owned(), rules: vec![blank_rule()], ..PolicyForm::default() };
    view! {
        <Title text="New policy" />
        <PolicyEditor initial create=true />
    }
}

/// `policies/:policy_id/edit`.
#[component]
pub fn EditPolicyPage() -> impl IntoView {
    let path = use_workspace_path();
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("policy_id").unwrap_or_default());
    let form = Resource::new(move || (path.get(), id.get()), |(p, id)| get_policy_form(p.tenant, p.workspace, id));
    view! {
        <Title text="Policy" />
        <DoneNotice
            param="created"
            text=|id| format!("Policy {id} created. It applies once chosen in the Dynamic client registration tab.")
        />
        <Transition fallback=|| view! { <p class="muted">"Loading the policy…"</p> }>
            {move || {
                form.get()
                    .map(|result| match result {
                        Ok(initial) => view! { <PolicyEditor initial create=false /> }.into_any(),
                        Err(error) => view! { <div class="alert error">{error_message(&error)}</div> }.into_any(),
                    })
            }}
        </Transition>
    }
}

fn blank_rule() -> RuleForm {
    RuleForm {
        comparator: Comparator::Equals.as_str().to_owned(),
        error_code: PolicyErrorCode::InvalidClientMetadata.as_str().to_owned(),
        ..RuleForm::default()
    }
}

/// One rule in the editor: each part a signal, and a key that survives reordering.
#[derive(Debug, Clone, Copy)]
struct RuleRow {
    key: u64,
    field: RwSignal<String>,
    comparator: RwSignal<String>,
    value: RwSignal<String>,
    error_code: RwSignal<String>,
    error_description: RwSignal<String>,
}

impl RuleRow {
    fn new(key: u64, rule: RuleForm) -> Self {
        Self {
            key,
            field: RwSignal::new(rule.field),
            comparator: RwSignal::new(rule.comparator),
            value: RwSignal::new(rule.value),
            error_code: RwSignal::new(rule.error_code),
            error_description: RwSignal::new(rule.error_description),
        }
    }

    fn form(self) -> RuleForm {
        RuleForm {
            field: self.field.get(),
            comparator: self.comparator.get(),
            value: self.value.get(),
            error_code: self.error_code.get(),
            error_description: self.error_description.get(),
        }
    }
}

const STARTER_REGO: &str = "package onboard\n\ndefault allow := false\n\n# Allow account information providers only.\nallow if {\n    every role in input.software_statement.software_roles {\n        role == \"AISP\"\n    }\n}\n\n# Each message refuses the registration and is returned as its description.\ndeny contains msg if {\n    input.request.token_endpoint_auth_method != \"tls_client_auth\"\n    msg := \"only tls_client_auth is accepted\"\n}\n";

#[component]
fn PolicyEditor(initial: PolicyForm, create: bool) -> impl IntoView {
    let path = use_workspace_path();
    let navigate = use_navigate();
    let id = RwSignal::new(initial.id.clone());
    let name = RwSignal::new(initial.name.clone());
    let language = RwSignal::new(initial.language.clone());
    let rego = RwSignal::new(if initial.rego.is_empty() { STARTER_REGO.to_owned() } else { initial.rego.clone() });
    let next_key = StoredValue::new(initial.rules.len() as u64);
    let rules = RwSignal::new(
        initial.rules.iter().cloned().enumerate().map(|(i, rule)| RuleRow::new(i as u64, rule)).collect::<Vec<_>>(),
    );

    let save = Action::new(move |form: &PolicyForm| {
        let form = form.clone();
        let path = path.get_untracked();
        async move { save_policy(path.tenant, path.workspace, create, form).await }
    });
    // A new policy, once saved, is edited at its own address.
    Effect::new(move |_| {
        if create && let Some(Ok(saved)) = save.value().get() {
            navigate(
                &path.get_untracked().href(&format!("policies/{}/edit?created={}", saved.id, saved.id)),
                leptos_router::NavigateOptions::default(),
            );
        }
    });
    let current = move || PolicyForm {
        id: id.get(),
        name: name.get(),
        language: language.get(),
        rules: rules.get().into_iter().map(RuleRow::form).collect(),
        rego: rego.get(),
    };
    let saving = FormSave::new(save, "save this policy", current);
    let (error, outcome) = (saving.error, saving.outcome);
    let save_form = saving.submit(current);
    // A rule's problems stay with it while rules are moved, added or removed after the save.
    let saved = SavedOrder::new(rules.with_untracked(|rows| rows.iter().map(|row| row.key).collect()));
    Effect::new(move |_| {
        if outcome.get().is_some() {
            saved.answered();
        }
    });
    let submit = move |event| {
        saved.submitting(rules.with_untracked(|rows| rows.iter().map(|row| row.key).collect()));
        save_form(event);
    };
    let add_rule = move |_| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        rules.update(|rows| rows.push(RuleRow::new(key, blank_rule())));
    };
    let heading = if create { "New policy".to_owned() } else { initial.name.clone() };
    let language_radio = move |value: &'static str, label: &'static str| {
        let radio_id = format!("language-{value}");
        let label_for = radio_id.clone();
        view! {
            <label class="radio" for=label_for>
                <input
                    type="radio"
                    id=radio_id
                    name="language"
                    value=value
                    checked=language.get_untracked() == value
                    prop:checked=move || language.get() == value
                    on:change=move |_| language.set(value.to_owned())
                />
                {label}
            </label>
        }
    };
    view! {
        <p>
            <a href=move || path.get().href("policies")>"← Policies"</a>
        </p>
        <div class="page-header">
            <div>
                <h1>{heading}</h1>
                <p class="lead">"Checked after the built-in rules; the first failing rule refuses the registration with its error."</p>
            </div>
        </div>
        <datalist id="input-fields">{INPUT_FIELDS.iter().map(|field| view! { <option value=*field></option> }).collect_view()}</datalist>
        <form class="settings" on:submit=submit novalidate>
            <section class="card">
                <div class="form-grid">
                    <div class="field">
                        <label for="policy-name">"Name"</label>
                        <input id="policy-name" value=name.get_untracked() bind:value=name placeholder="e.g. AISP and PISP only" />
                        <FieldMessage field="name" error />
                    </div>
                    <div class="field">
                        <label for="policy-id">"ID"</label>
                        <input
                            id="policy-id"
                            class="mono"
                            value=id.get_untracked()
                            bind:value=id
                            readonly=!create
                            placeholder="e.g. aisp-pisp-only"
                        />
                        <p class="hint">"Lowercase letters, digits and '-'; the DCR settings name the policy by it."</p>
                        <FieldMessage field="id" error />
                    </div>
                </div>
                <fieldset class="field">
                    <legend>"Language"</legend>
                    <div class="radios">
                        {language_radio("validators", "Validator rules")} {language_radio("rego", "Rego")}
                    </div>
                </fieldset>
            </section>

            <section class="card" class:hidden=move || language.get() != "validators" aria-labelledby="rules-title">
                <div class="card-header">
                    <h2 id="rules-title">"Rules"</h2>
                    <button type="button" class="button secondary small" on:click=add_rule>
                        "Add rule"
                    </button>
                </div>
                <p class="hint spaced">
                    "A rule reads a field of the input document (request, registration, software_statement, client_certificate, headers, workspace). A field the document lacks fails every comparator but absent, not_equals and not_in."
                </p>
                <FieldMessage field="rules" error />
                <ol class="rules">
                    <For each=move || rules.get().into_iter().enumerate() key=|(_, row)| row.key let:item>
                        <RuleEditor index=item.0 row=item.1 rules saved error />
                    </For>
                </ol>
            </section>

            <section class="card" class:hidden=move || language.get() != "rego">
                <div class="field">
                    <label for="policy-rego">"Rego module"</label>
                    <textarea id="policy-rego" class="mono code-input" rows="18" spellcheck="false" bind:value=rego>
                        {rego.get_untracked()}
                    </textarea>
                    <p class="hint">
                        "Define allow (a boolean) and, if you like, deny (a set of messages returned as the error description). Rejections use invalid_client_metadata; an evaluation error or one over 100 ms refuses the registration."
                    </p>
                    <FieldMessage field="rego" error />
                </div>
            </section>

            <FormMessage error fields=&["id", "name", "language", "rules", "rego"] />
            <div class="form-actions sticky">
                <UnsavedNote dirty=saving.unsaved.dirty />
                {(!create).then(|| view! { <A href=move || path.get().href("dry-run") attr:class="button secondary">"Try in the dry run"</A> })}
                <button type="submit" class="button" id="save-policy" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save policy" }}
                </button>
            </div>
            <SaveToast outcome=outcome saved="Policy saved" />
        </form>
        {(!create).then(|| view! { <DeletePolicySection id=initial.id.clone() /> })}
    }
}

#[component]
fn RuleEditor(
    index: usize,
    row: RuleRow,
    rules: RwSignal<Vec<RuleRow>>,
    /// The rules of the save last answered, which place its problems.
    saved: SavedOrder<u64>,
    error: Signal<Option<(Option<String>, String)>>,
) -> impl IntoView {
    let count = move || rules.with(Vec::len);
    let position = move || rules.with(|rows| rows.iter().position(|r| r.key == row.key).unwrap_or(index));
    let shift = move |by: isize| {
        rules.update(|rows| {
            if let Some(from) = rows.iter().position(|r| r.key == row.key) {
                let to = from.saturating_add_signed(by).min(rows.len() - 1);
                rows.swap(from, to);
            }
        });
    };
    let remove = move |_| rules.update(|rows| rows.retain(|r| r.key != row.key));
    let takes_value = move || Comparator::parse(&row.comparator.get()).is_none_or(Comparator::takes_value);
    let value_hint = move || match Comparator::parse(&row.comparator.get()) {
        Some(Comparator::In | Comparator::NotIn | Comparator::ContainsAll) => {
            "Items separated by commas or lines; json:[…] for items holding commas."
        }
        Some(Comparator::Matches) => "A wildcard pattern: * is any characters, \\* a star, \\\\ a backslash.",
        Some(Comparator::Regex) => "A regular expression, e.g. ^0015800001[A-Za-z0-9]{8}$",
        _ => "Text, compared exactly; json:42 or json:true for a number or a boolean.",
    };
    let compared_with = move || {
        let comparator = Comparator::parse(&row.comparator.get()).unwrap_or(Comparator::Equals);
        row.value.with(|text| describe_value(comparator, text))
    };
    let prefix = format!("rule-{}", row.key);
    let ids = move |part: &str| format!("{prefix}-{part}");
    // A rule not saved yet has no problems to show.
    let field_at = move |part: &'static str| {
        move || match saved.position(&row.key) {
            Some(saved_at) => format!("rules[{saved_at}].{part}"),
            None => format!("rules[unsaved].{part}"),
        }
    };
    view! {
        <li class="rule">
            <div class="rule-head">
                <span class="rule-number">{move || format!("Rule {}", position() + 1)}</span>
                <div class="rule-tools">
                    <button type="button" class="button ghost small" on:click=move |_| shift(-1) disabled=move || position() == 0 aria-label="Move up">
                        "↑"
                    </button>
                    <button
                        type="button"
                        class="button ghost small"
                        on:click=move |_| shift(1)
                        disabled=move || position() + 1 == count()
                        aria-label="Move down"
                    >
                        "↓"
                    </button>
                    <button type="button" class="button ghost small" on:click=remove aria-label="Remove rule">
                        "Remove"
                    </button>
                </div>
            </div>
            <div class="rule-grid">
                <div class="field">
                    <label for=ids("field")>"Field"</label>
                    <input
                        id=ids("field")
                        class="mono"
                        list="input-fields"
                        value=row.field.get_untracked()
                        bind:value=row.field
                        placeholder="software_statement.software_roles"
                    />
                    <FieldMessage field=Signal::derive(field_at("field")) error />
                </div>
                <div class="field">
                    <label for=ids("comparator")>"Comparator"</label>
                    <select id=ids("comparator") on:change=move |ev| row.comparator.set(event_target_value(&ev)) prop:value=row.comparator>
                        {Comparator::ALL
                            .into_iter()
                            .map(|comparator| {
                                let name = comparator.as_str();
                                view! { <option value=name selected=row.comparator.get_untracked() == name>{name}</option> }
                            })
                            .collect_view()}
                    </select>
                </div>
                <div class="field" class:hidden=move || !takes_value()>
                    <label for=ids("value")>"Value"</label>
                    <input id=ids("value") class="mono" value=row.value.get_untracked() bind:value=row.value />
                    <p class="hint">{value_hint}</p>
                    <p class="hint value-preview" aria-live="polite">{compared_with}</p>
                    <FieldMessage field=Signal::derive(field_at("value")) error />
                </div>
                <div class="field">
                    <label for=ids("code")>"Error code"</label>
                    <select id=ids("code") on:change=move |ev| row.error_code.set(event_target_value(&ev)) prop:value=row.error_code>
                        {PolicyErrorCode::ALL
                            .into_iter()
                            .map(|code| {
                                let name = code.as_str();
                                view! { <option value=name selected=row.error_code.get_untracked() == name>{name}</option> }
                            })
                            .collect_view()}
                    </select>
                </div>
                <div class="field rule-description">
                    <label for=ids("description")>"Error description"</label>
                    <input
                        id=ids("description")
                        value=row.error_description.get_untracked()
                        bind:value=row.error_description
                        placeholder="What the TPP is told, e.g. only AISP and PISP software may register"
                    />
                    <FieldMessage field=Signal::derive(field_at("error_description")) error />
                </div>
            </div>
        </li>
    }
}

#[component]
fn DeletePolicySection(id: String) -> impl IntoView {
    let path = use_workspace_path();
    // The one the register endpoint uses cannot go: said before it is tried.
    let header = use_context::<HeaderResource>();
    let attached = {
        let id = id.clone();
        Signal::derive(move || {
            header.and_then(|header| header.get()).and_then(Result::ok).and_then(|header| header.policy_id).as_deref()
                == Some(id.as_str())
        })
    };
    let confirming = RwSignal::new(false);
    let (question, trigger) = (NodeRef::new(), NodeRef::new());
    focus_follows_confirmation(confirming, question, trigger);
    let delete = ServerAction::<DeletePolicy>::new();
    retried_after_confirmation(*delete, "delete this policy");
    view! {
        <section class="card danger">
            <h2>"Delete"</h2>
            <p class="hint spaced">
                {move || {
                    if attached.get() {
                        view! {
                            "This policy protects the register endpoint, so it cannot be deleted: choose another, or none, in "
                            <A href=move || path.get().href("dcr")>"DCR settings"</A>
                            " first."
                        }
                            .into_any()
                    } else {
                        "A policy attached to the register endpoint cannot be deleted; this one is not.".into_any()
                    }
                }}
            </p>
            <button
                type="button"
                class="button danger"
                node_ref=trigger
                class:hidden=move || confirming.get()
                disabled=move || attached.get()
                on:click=move |_| confirming.set(true)
            >
                "Delete policy"
            </button>
            <div class="confirm" node_ref=question class:hidden=move || !confirming.get() role="alertdialog" aria-labelledby="confirm-delete-policy">
                <p id="confirm-delete-policy">"Delete this policy? This cannot be undone."</p>
                <ActionForm action=delete attr:class="inline">
                    <input type="hidden" name="tenant" value=move || path.get().tenant />
                    <input type="hidden" name="workspace" value=move || path.get().workspace />
                    <input type="hidden" name="id" value=id.clone() />
                    <button type="submit" class="button danger" disabled=move || delete.pending().get()>
                        {move || if delete.pending().get() { "Deleting…" } else { "Yes, delete" }}
                    </button>
                </ActionForm>
                <button type="button" class="button secondary" on:click=move |_| confirming.set(false)>
                    "Cancel"
                </button>
            </div>
            {move || delete.value().get().and_then(Result::err).map(|e| view! { <div class="alert error" role="alert">{error_message(&e)}</div> })}
        </section>
    }
}
