//! The DCR tab: switch registration on and choose how the register endpoint is protected.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::{HeaderResource, refresh_header_when_saved, use_workspace_path};
use crate::api::dcr::{DcrForm, IssuerForm, get_dcr_form, save_dcr_settings, test_jwks_uri};
use crate::api::policies::{PolicySummary, list_policies};
use crate::domain::workspace::Profile;
use crate::ui::components::{CopyField, FieldMessage, FormMessage, SaveToast, error_concerns, error_message};
use crate::ui::saving::{FormSave, SavedOrder, UnsavedNote};

const FIELDS: &[&str] = &[
    "enabled",
    "protect_by_access_token",
    "require_software_statement",
    "ssa_issuers",
    "max_software_statement_age_seconds",
    "require_signed_request",
    "request_keys_kind",
    "request_jwks",
    "request_jwks_uri",
    "require_mtls",
    "bind_transport_certificate",
    "trust_sandbox_directory",
    "policy_id",
];

/// The fields of the software statement section.
const STATEMENT_FIELDS: [&str; 2] = ["ssa_issuers", "max_software_statement_age_seconds"];
/// The fields of the signed request body section.
const REQUEST_KEY_FIELDS: [&str; 3] = ["request_keys_kind", "request_jwks", "request_jwks_uri"];

/// Over a section shown though its switch is off (a field of it has a problem): why it matters,
/// and `remedy`, how to save.
#[component]
fn SwitchedOffNote(on: RwSignal<bool>, remedy: &'static str) -> impl IntoView {
    view! {
        <p class="alert warning small" class:hidden=move || on.get()>
            "Switched off, but kept: these settings still verify what a registration sends anyway. "
            {remedy}
        </p>
    }
}

#[component]
pub fn DcrSettingsPage() -> impl IntoView {
    let path = use_workspace_path();
    let form = Resource::new(move || path.get(), |p| get_dcr_form(p.tenant, p.workspace));
    let policies = Resource::new(move || path.get(), |p| list_policies(p.tenant, p.workspace));
    view! {
        <Title text="Dynamic client registration" />
        <div class="page-header">
            <div>
                <h1>"Dynamic client registration"</h1>
                <p class="lead">"How third-party providers register with this workspace, and what protects the register endpoint."</p>
            </div>
        </div>
        <Endpoints />
        <Transition fallback=|| view! { <p class="muted">"Loading settings…"</p> }>
            {move || {
                form.get().zip(policies.get()).map(|loaded| match loaded {
                    (Ok(initial), Ok(policies)) => view! { <DcrEditor initial policies /> }.into_any(),
                    (Err(error), _) | (_, Err(error)) => view! { <div class="alert error">{error_message(&error)}</div> }.into_any(),
                })
            }}
        </Transition>
    }
}

/// The registration endpoint and discovery URLs, ready to copy.
#[component]
fn Endpoints() -> impl IntoView {
    let header = expect_context::<HeaderResource>();
    view! {
        <section class="card" aria-labelledby="endpoints">
            <h2 id="endpoints">"Endpoints"</h2>
            <Transition fallback=|| ()>
                {move || {
                    header.get().and_then(Result::ok).map(|header| {
                        view! {
                            <div class="copy-grid">
                                <CopyField label="Registration endpoint" value=header.urls.registration id="registration-endpoint" />
                                <CopyField label="Discovery document" value=header.urls.discovery id="discovery-url" />
                            </div>
                        }
                    })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn DcrEditor(initial: DcrForm, policies: Vec<PolicySummary>) -> impl IntoView {
    let path = use_workspace_path();
    let enabled = RwSignal::new(initial.enabled);
    let protect_by_access_token = RwSignal::new(initial.protect_by_access_token);
    let require_software_statement = RwSignal::new(initial.require_software_statement);
    let issuers = IssuerRows::new(&initial.ssa_issuers);
    let max_ssa_age = RwSignal::new(initial.max_software_statement_age_seconds.clone());
    let require_signed_request = RwSignal::new(initial.require_signed_request);
    let request_keys_kind = RwSignal::new(initial.request_keys_kind.clone());
    let request_jwks = RwSignal::new(initial.request_jwks.clone());
    let request_jwks_uri = RwSignal::new(initial.request_jwks_uri.clone());
    let require_mtls = RwSignal::new(initial.require_mtls);
    let bind_transport_certificate = RwSignal::new(initial.bind_transport_certificate);
    let trust_sandbox_directory = RwSignal::new(initial.trust_sandbox_directory);
    let policy_id = RwSignal::new(initial.policy_id.clone());
    // Settings naming a policy that is gone refuse every registration; say so rather than hide it.
    let missing_policy =
        Some(initial.policy_id.clone()).filter(|id| !id.is_empty() && !policies.iter().any(|policy| policy.id == *id));

    // While the missing policy is the one chosen (until another is picked), say what it means.
    let missing_policy_chosen = {
        let missing = missing_policy.clone();
        move || missing.as_deref().is_some_and(|id| policy_id.with(|chosen| chosen == id))
    };
    let no_policies = policies.is_empty();
    let current = move || DcrForm {
        enabled: enabled.get(),
        protect_by_access_token: protect_by_access_token.get(),
        require_software_statement: require_software_statement.get(),
        ssa_issuers: issuers.forms(),
        max_software_statement_age_seconds: max_ssa_age.get(),
        require_signed_request: require_signed_request.get(),
        request_keys_kind: request_keys_kind.get(),
        request_jwks: request_jwks.get(),
        request_jwks_uri: request_jwks_uri.get(),
        require_mtls: require_mtls.get(),
        // The binding needs both a certificate and a statement: with either off, so is it.
        bind_transport_certificate: bind_transport_certificate.get() && require_mtls.get() && require_software_statement.get(),
        trust_sandbox_directory: trust_sandbox_directory.get(),
        policy_id: policy_id.get(),
    };
    let save = Action::new(move |form: &DcrForm| {
        let form = form.clone();
        let path = path.get_untracked();
        async move { save_dcr_settings(path.tenant, path.workspace, form).await }
    });
    let saving = FormSave::new(save, "save the DCR settings", current);
    let error = saving.error;
    // A section switched off still verifies what is sent anyway (a statement, a signed body):
    // its fields are kept, and one with a problem shows itself so it can be put right.
    let statement_section_shown = Signal::derive(move || {
        require_software_statement.get() || error.with(|e| e.as_ref().is_some_and(|e| error_concerns(e, &STATEMENT_FIELDS)))
    });
    let request_section_shown = Signal::derive(move || {
        require_signed_request.get() || error.with(|e| e.as_ref().is_some_and(|e| error_concerns(e, &REQUEST_KEY_FIELDS)))
    });
    // Fields out of sight: a problem with one is told with the form's message.
    let hidden_fields = Signal::derive(move || {
        let mut hidden = Vec::new();
        if !statement_section_shown.get() {
            hidden.extend(STATEMENT_FIELDS);
        }
        if !request_section_shown.get() {
            hidden.extend(REQUEST_KEY_FIELDS);
        }
        if !(require_mtls.get() && require_software_statement.get()) {
            hidden.push("bind_transport_certificate");
        }
        hidden
    });
    // In an Open Banking UK workspace, what the settings on screen leave out of the profile.
    let header = expect_context::<HeaderResource>();
    let open_banking = move || header.get().and_then(Result::ok).is_some_and(|header| header.profile == Profile::OpenbankingUk);
    let departures = move || if open_banking() { current().open_banking_departures() } else { Vec::new() };
    let outcome = saving.outcome;
    refresh_header_when_saved(outcome);
    let save_form = saving.submit(current);
    Effect::new(move |_| {
        if outcome.get().is_some() {
            issuers.answered();
        }
    });
    let submit = move |event| {
        issuers.submitting();
        save_form(event);
    };
    view! {
        <form class="settings" on:submit=submit novalidate>
            <section class="card">
                <Switch id="dcr-enabled" label="Enable dynamic client registration" checked=enabled>
                    "When off, the register endpoint is not advertised in discovery and refuses new registrations."
                </Switch>
                <div class="field">
                    <label for="dcr-policy">"Dynamic client registration policy"</label>
                    <select
                        id="dcr-policy"
                        disabled=policies.is_empty() && initial.policy_id.is_empty()
                        on:change=move |ev| policy_id.set(event_target_value(&ev))
                        prop:value=policy_id
                    >
                        <option value="" selected=initial.policy_id.is_empty()>
                            "No policy: the built-in rules only"
                        </option>
                        {policies
                            .iter()
                            .map(|policy| {
                                let selected = policy.id == initial.policy_id;
                                let label = format!("{} ({})", policy.name, policy.language);
                                view! { <option value=policy.id.clone() selected=selected>{label}</option> }
                            })
                            .collect_view()}
                        {missing_policy.clone().map(|id| {
                            view! { <option value=id.clone() selected=true>{format!("Missing: {id}")}</option> }
                        })}
                    </select>
                    <p class="hint">
                        {move || if missing_policy_chosen() {
                            "The policy these settings name does not exist, so every registration is refused: choose another, or none."
                                .into_any()
                        } else if no_policies {
                            view! {
                                "This workspace has no policies yet: create one under "
                                <A href=move || path.get().href("policies")>"Policies"</A>
                                ". Every registration is checked by the built-in rules."
                            }
                                .into_any()
                        } else {
                            "Checked after the built-in rules on every registration; its first failing rule refuses the registration."
                                .into_any()
                        }}
                    </p>
                    <FieldMessage field="policy_id" error />
                </div>
            </section>

            <section class="card">
                <Switch id="dcr-protect-token" label="Protect by access token" checked=protect_by_access_token>
                    "Registration needs a single-use token with the dcr_register scope, issued to one of this workspace's manual clients."
                </Switch>
            </section>

            <section class="card">
                <Switch id="dcr-ssa" label="Protected by software statement" checked=require_software_statement>
                    "Registration needs a software statement signed by a trusted directory."
                </Switch>
                <div class="nested" class:hidden=move || !statement_section_shown.get()>
                    <SwitchedOffNote on=require_software_statement remedy="Correct or clear the field below to save." />
                    <TrustedIssuers rows=issuers error sharing=move || current().issuers_sharing_keys() />
                    <div class="form-grid">
                        <div class="field">
                            <label for="ssa-max-age">"Maximum statement age (seconds)"</label>
                            <input id="ssa-max-age" type="number" inputmode="numeric" min="60" max="31536000" step="1" value=max_ssa_age.get_untracked() bind:value=max_ssa_age placeholder="No limit" />
                            <p class="hint">"Counted from the statement's iat; empty for no limit. The OB directory suggests 60 for statements fetched to register. With a limit, a statement without iat is refused."</p>
                            <FieldMessage field="max_software_statement_age_seconds" error />
                        </div>
                    </div>
                </div>
            </section>

            <section class="card">
                <Switch id="dcr-signed" label="Signed request body" checked=require_signed_request>
                    "The request must be a JWS (application/jose or application/jwt)."
                </Switch>
                <div class="nested" class:hidden=move || !request_section_shown.get()>
                    <SwitchedOffNote on=require_signed_request remedy="Correct the keys below, or take them from the software statement, to save." />
                    <KeysInput
                        id_prefix="request"
                        label="Request signing keys"
                        fields=KeyFields::named(|member| format!("request_{member}"))
                        kind=request_keys_kind
                        jwks=request_jwks
                        jwks_uri=request_jwks_uri
                        from_statement=true
                        error
                    />
                </div>
            </section>

            <section class="card">
                <Switch id="dcr-mtls" label="Require mutual TLS" checked=require_mtls>
                    "A client certificate issued by one of the trusted CAs of the "
                    <A href=move || path.get().href("general")>"General settings"</A>
                    "."
                </Switch>
                <FieldMessage field="require_mtls" error />
                <div class="nested" class:hidden=move || !(require_mtls.get() && require_software_statement.get())>
                    <Switch id="dcr-bind-certificate" label="Bind the certificate to the software statement" checked=bind_transport_certificate>
                        "The client certificate must be one of the software's transport certificates: a use \"tls\" key, with the certificate in its x5c, in the key set the software statement names. Another TPP cannot then register with a copy of this software's signed request."
                    </Switch>
                    <FieldMessage field="bind_transport_certificate" error />
                </div>
            </section>

            <section class="card">
                <Switch id="dcr-sandbox" label="Trust the sandbox directory" checked=trust_sandbox_directory>
                    "For test workspaces: software statements, transport certificates and key sets from this tenant's sandbox directory are accepted besides the ones configured above. Never on a production workspace."
                </Switch>
                <FieldMessage field="trust_sandbox_directory" error />
            </section>

            {move || {
                let departures = departures();
                (!departures.is_empty()).then(|| {
                    view! {
                        <div class="alert warning" role="note" id="open-banking-departures">
                            <p class="alert-title">"Outside the Open Banking UK profile"</p>
                            <ul>{departures.into_iter().map(|departure| view! { <li>{departure}</li> }).collect_view()}</ul>
                        </div>
                    }
                })
            }}
            <FormMessage error fields=FIELDS hidden=hidden_fields />
            <div class="form-actions sticky">
                <UnsavedNote dirty=saving.unsaved.dirty />
                <button type="submit" class="button" id="save-dcr" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save changes" }}
                </button>
            </div>
            <SaveToast outcome=outcome saved="DCR settings saved" />
        </form>
    }
}

/// A labelled switch (a checkbox styled as one) with a description.
#[component]
fn Switch(id: &'static str, label: &'static str, checked: RwSignal<bool>, children: Children) -> impl IntoView {
    // A screen reader reads what the switch does with its name.
    let hint = format!("{id}-hint");
    view! {
        <div class="switch-row">
            <label class="switch" for=id>
                <input
                    type="checkbox"
                    role="switch"
                    id=id
                    aria-describedby=hint.clone()
                    checked=checked.get_untracked()
                    bind:checked=checked
                />
                <span class="switch-track" aria-hidden="true"></span>
                <span class="switch-label">{label}</span>
            </label>
            <p class="hint" id=hint>
                {children()}
            </p>
        </div>
    }
}

/// Where keys come from: a JWKS pasted in, a JWKS URI (testable from the page), or (for request
/// signatures) the TPP's keys named by its software statement.
#[component]
fn KeysInput(
    /// Starts the ids of its inputs, unique on the page.
    #[prop(into)]
    id_prefix: String,
    /// Names the set; a row's follows the row's number as rows come and go.
    #[prop(into)]
    label: Signal<String>,
    fields: KeyFields,
    kind: RwSignal<String>,
    jwks: RwSignal<String>,
    jwks_uri: RwSignal<String>,
    from_statement: bool,
    error: Signal<Option<(Option<String>, String)>>,
) -> impl IntoView {
    let prefix = id_prefix;
    let radio = |value: &'static str, text: &'static str| {
        let id = format!("{prefix}-keys-{value}");
        let label_for = id.clone();
        view! {
            <label class="radio" for=label_for>
                <input type="radio" id=id name=format!("{prefix}_keys_kind") value=value checked=kind.get_untracked() == value prop:checked=move || kind.get() == value on:change=move |_| kind.set(value.to_owned()) />
                {text}
            </label>
        }
    };
    let probe = Action::new(|uri: &String| test_jwks_uri(uri.clone()));
    // A result speaks of the URI tested: once the URI is edited, it is no longer shown.
    let tested = RwSignal::new(None::<String>);
    let test = move |_| {
        tested.set(Some(jwks_uri.get()));
        probe.dispatch(jwks_uri.get());
    };
    let KeyFields { kind: kind_field, jwks: jwks_field, jwks_uri: uri_field } = fields;
    view! {
        <fieldset class="field">
            <legend>{label}</legend>
            <div class="radios">
                {from_statement.then(|| radio("software_statement", "From the software statement (software_jwks_endpoint)"))}
                {radio("jwks", "JWKS")}
                {radio("jwks_uri", "JWKS URI")}
            </div>
            <FieldMessage field=kind_field error />
            <div class:hidden=move || kind.get() != "jwks">
                <label for=format!("{prefix}-jwks") class="sr-only">{move || format!("{} (JWKS)", label.get())}</label>
                <textarea id=format!("{prefix}-jwks") class="mono" rows="6" bind:value=jwks placeholder="{\"keys\": [ ... ]}">{jwks.get_untracked()}</textarea>
                <FieldMessage field=jwks_field error />
            </div>
            <div class:hidden=move || kind.get() != "jwks_uri">
                <label for=format!("{prefix}-jwks-uri") class="sr-only">{move || format!("{} (JWKS URI)", label.get())}</label>
                <div class="copy-row">
                    <input id=format!("{prefix}-jwks-uri") type="url" value=jwks_uri.get_untracked() bind:value=jwks_uri placeholder="https://keystore.example/jwks.json" />
                    <button type="button" class="button secondary small" on:click=test disabled=move || probe.pending().get()>
                        {move || if probe.pending().get() { "Testing…" } else { "Test" }}
                    </button>
                </div>
                <FieldMessage field=uri_field error />
                {move || {
                    let current = tested.get().is_some_and(|uri| jwks_uri.with(|typed| *typed == uri));
                    probe.value().get().filter(|_| current).map(|result| match result {
                        Ok(kids) => view! { <p class="probe ok" role="status">{keys_found(&kids)}</p> }.into_any(),
                        Err(e) => view! { <p class="probe error" role="alert">{error_message(&e)}</p> }.into_any(),
                    })
                }}
            </div>
        </fieldset>
    }
}

/// The form fields a [`KeysInput`] reports problems of: where keys come from, the JWKS and the
/// JWKS URI.
struct KeyFields {
    kind: Signal<String>,
    jwks: Signal<String>,
    jwks_uri: Signal<String>,
}

impl KeyFields {
    /// Each field named by `name` of its member (`keys_kind`, `jwks`, `jwks_uri`); a name that
    /// reads signals follows them.
    fn named(name: impl Fn(&'static str) -> String + Copy + Send + Sync + 'static) -> Self {
        let field = move |member: &'static str| Signal::derive(move || name(member));
        Self { kind: field("keys_kind"), jwks: field("jwks"), jwks_uri: field("jwks_uri") }
    }
}

/// The trusted issuers as the tab edits them: a row each, with the signals of its fields. A
/// row left blank is no issuer: it is not part of the form, so adding one changes nothing.
#[derive(Clone, Copy)]
struct IssuerRows {
    rows: RwSignal<Vec<IssuerRow>>,
    /// The key the next row gets: rows keep theirs while others are added and removed.
    next_key: StoredValue<usize>,
    /// The rows of the save last answered, which place the problems it found.
    saved: SavedOrder<usize>,
}

#[derive(Clone, Copy)]
struct IssuerRow {
    key: usize,
    issuer: RwSignal<String>,
    kind: RwSignal<String>,
    jwks: RwSignal<String>,
    jwks_uri: RwSignal<String>,
}

impl IssuerRow {
    fn form(self) -> IssuerForm {
        IssuerForm { issuer: self.issuer.get(), keys_kind: self.kind.get(), jwks: self.jwks.get(), jwks_uri: self.jwks_uri.get() }
    }
}

impl IssuerRows {
    /// The rows of `issuers`, or one empty row to start from.
    fn new(issuers: &[IssuerForm]) -> Self {
        let this = Self { rows: RwSignal::new(Vec::new()), next_key: StoredValue::new(0), saved: SavedOrder::new(Vec::new()) };
        if issuers.is_empty() {
            this.add(&IssuerForm::default());
        }
        for issuer in issuers {
            this.add(issuer);
        }
        this.submitting();
        this.answered();
        this
    }

    fn add(self, form: &IssuerForm) {
        let key = self.next_key.get_value();
        self.next_key.set_value(key + 1);
        let row = IssuerRow {
            key,
            issuer: RwSignal::new(form.issuer.clone()),
            kind: RwSignal::new(form.keys_kind.clone()),
            jwks: RwSignal::new(form.jwks.clone()),
            jwks_uri: RwSignal::new(form.jwks_uri.clone()),
        };
        self.rows.update(|rows| rows.push(row));
    }

    /// Takes row `key` out; the last row left is emptied instead, so there is always one to
    /// name an issuer in.
    fn remove(self, key: usize) {
        self.rows.update(|rows| rows.retain(|row| row.key != key));
        if self.rows.with(Vec::is_empty) {
            self.add(&IssuerForm::default());
        }
    }

    /// The rows not left blank, with their keys.
    fn filled(self) -> Vec<(usize, IssuerForm)> {
        self.rows.with(|rows| rows.iter().map(|row| (row.key, row.form())).filter(|(_, form)| !form.is_blank()).collect())
    }

    fn forms(self) -> Vec<IssuerForm> {
        self.filled().into_iter().map(|(_, form)| form).collect()
    }

    /// Notes which rows are being saved (the blank ones are not), to place the problems the
    /// server finds in them.
    fn submitting(self) {
        self.saved.submitting(untrack(|| self.filled()).into_iter().map(|(key, _)| key).collect());
    }

    fn answered(self) {
        self.saved.answered();
    }

    /// The position the server names row `key` by, if it was submitted. The first row on
    /// screen also takes position 0 when no issuer was submitted: "name at least one issuer"
    /// is shown where the first name goes.
    fn submitted_position(self, key: usize, shown_first: bool) -> Option<usize> {
        self.saved.position(&key).or((self.saved.none_saved() && shown_first).then_some(0))
    }

    /// Where row `key` is on screen, counted from 0; none once it is taken out.
    fn shown_position(self, key: usize) -> Option<usize> {
        self.rows.with(|rows| rows.iter().position(|row| row.key == key))
    }
}

/// The directories whose software statements are trusted, each with its own keys; and a
/// warning while two are given the same keys.
#[component]
fn TrustedIssuers(
    rows: IssuerRows,
    error: Signal<Option<(Option<String>, String)>>,
    sharing: impl Fn() -> Vec<(String, String)> + Send + Sync + 'static,
) -> impl IntoView {
    // A row keeps its elements while others come and go (focus stays, a Test result too):
    // its ids follow its key, its number and the names of its problems its place.
    let row_view = move |row: IssuerRow| {
        // A row being taken out keeps its last place until it is gone.
        let position =
            Memo::new(move |before: Option<&usize>| rows.shown_position(row.key).or(before.copied()).unwrap_or_default());
        let number = move || position.get() + 1;
        let prefix = format!("ssa-{}", row.key);
        let id = format!("{prefix}-issuer");
        let heading = format!("{prefix}-heading");
        let labelled_by = heading.clone();
        // A row not submitted has no problems to show yet.
        let field = Signal::derive(move || match rows.submitted_position(row.key, position.get() == 0) {
            Some(position) => format!("ssa_issuers[{position}]"),
            None => "ssa_issuers[unsaved]".to_owned(),
        });
        view! {
            <div class="issuer-row" role="group" aria-labelledby=labelled_by>
                <div class="issuer-row-head">
                    <h3 id=heading>{move || format!("Issuer {}", number())}</h3>
                    <button
                        type="button"
                        class="button secondary small"
                        on:click=move |_| {
                            rows.remove(row.key);
                            // The button pressed is gone: the focus goes on from the list's end.
                            focus_element("add-ssa-issuer");
                        }
                    >
                        {move || format!("Remove issuer {}", number())}
                    </button>
                </div>
                <div class="field">
                    <label for=id.clone()>"Name (iss)"</label>
                    <input id=id type="text" value=row.issuer.get_untracked() bind:value=row.issuer placeholder="e.g. OpenBanking Ltd" />
                    <p class="hint">"The software statement's iss, exactly as the directory writes it."</p>
                    <FieldMessage field=Signal::derive(move || format!("{}.issuer", field.get())) error />
                </div>
                <KeysInput
                    id_prefix=prefix
                    label=Signal::derive(move || format!("Keys of issuer {}", number()))
                    fields=KeyFields::named(move |member| format!("{}.{member}", field.get()))
                    kind=row.kind
                    jwks=row.jwks
                    jwks_uri=row.jwks_uri
                    from_statement=false
                    error
                />
            </div>
        }
    };
    view! {
        <fieldset class="field">
            <legend>"Trusted issuers"</legend>
            <p class="hint">"Each directory's statements are verified with its keys only: one directory cannot sign in another's name."</p>
            <For each=move || rows.rows.get() key=|row| row.key children=row_view />
            <button type="button" class="button secondary small issuer-add" id="add-ssa-issuer" on:click=move |_| rows.add(&IssuerForm::default())>
                "Add an issuer"
            </button>
            {move || {
                sharing()
                    .into_iter()
                    .map(|(first, second)| {
                        view! {
                            <p class="alert warning small" role="note">
                                {format!("{first} and {second} are given the same keys: whoever holds them can sign statements in either's name. Give each issuer its own directory's keys.")}
                            </p>
                        }
                    })
                    .collect_view()
            }}
        </fieldset>
    }
}

/// What a JWKS URI test found, e.g. "Found 2 keys: a, b".
fn keys_found(kids: &[String]) -> String {
    match kids {
        [] => "The key set is empty.".to_owned(),
        [kid] => format!("Found 1 key: {kid}"),
        kids => format!("Found {} keys: {}", kids.len(), kids.join(", ")),
    }
}

/// Moves the focus to the element with `id`, if the page has one.
fn focus_element(id: &str) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast as _;
        let element = document().get_element_by_id(id).and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(element) = element {
            let _ = element.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}
