//! The General tab: audiences, organisation id, trusted client CAs and their revocation lists,
//! authentication methods, grant types, scopes, the role→scope map, access token lifetime and
//! algorithm, limits, and the signing keys.

use leptos::prelude::*;
use leptos_meta::Title;

use super::signing_keys::SigningKeysCard;
use super::{HeaderResource, refresh_header_when_saved, use_workspace_path};
use crate::api::general::{GeneralForm, LimitsForm, get_general_form, revocation_list_status, save_general_settings};
use crate::domain::oauth::{GrantType, TokenEndpointAuthMethod};
use crate::domain::revocation::RevocationListReport;
use crate::domain::workspace::Profile;
use crate::ui::components::{FieldMessage, FormMessage, SaveToast, error_message, sentence_case};
use crate::ui::saving::{FormSave, UnsavedNote};

const FIELDS: &[&str] = &[
    "accepted_audiences",
    "org_id",
    "trusted_client_ca_pem",
    "client_crl_uris",
    "token_endpoint_auth_methods",
    "grant_types",
    "scopes",
    "role_scopes",
    "access_token_ttl_seconds",
    "access_token_signing_alg",
    "limits.registrations_per_ip_per_minute",
    "limits.registrations_per_software_per_minute",
    "limits.token_requests_per_ip_per_minute",
    "limits.token_requests_per_client_per_minute",
    "limits.introspection_requests_per_ip_per_minute",
    "limits.max_dynamic_clients",
    "limits.abandoned_after_days",
];

#[component]
pub fn GeneralSettingsPage() -> impl IntoView {
    let path = use_workspace_path();
    let form = Resource::new(move || path.get(), |p| get_general_form(p.tenant, p.workspace));
    view! {
        <Title text="General settings" />
        <div class="page-header">
            <div>
                <h1>"General settings"</h1>
                <p class="lead">"What this workspace accepts from clients, and how it issues tokens."</p>
            </div>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading settings…"</p> }>
            {move || {
                form.get()
                    .map(|result| match result {
                        Ok(initial) => view! { <GeneralEditor initial /> }.into_any(),
                        Err(error) => view! { <div class="alert error">{error_message(&error)}</div> }.into_any(),
                    })
            }}
        </Transition>
        <SigningKeysCard />
    }
}

/// What the saved revocation lists say now, or why one cannot be had, and which trusted CAs no
/// list is of; read again after a save.
#[component]
fn RevocationListStatuses(saved: Signal<Option<bool>>) -> impl IntoView {
    let path = use_workspace_path();
    let report = Resource::new(move || (path.get(), saved.get()), |(p, _)| revocation_list_status(p.tenant, p.workspace));
    view! {
        <Transition fallback=|| ()>
            {move || {
                report.get().and_then(Result::ok).filter(|report| !report.lists.is_empty()).map(|report| {
                    let uncovered = report.uncovered_cas.into_iter().map(|subject| {
                        format!("No list here is of {subject}: a certificate it issues, unless a CA trusted here, has no known revocation status and is refused.")
                    });
                    let sandbox = report.sandbox_uncovered.then(|| {
                        "The sandbox directory publishes no revocation list: its certificates are refused while lists are set.".to_owned()
                    });
                    view! {
                        <ul class="crl-statuses" aria-label="Revocation lists now">
                            {report.lists.into_iter().map(|status| view! { <RevocationListLine status /> }).collect_view()}
                            {uncovered.chain(sandbox).map(|text| view! { <li class="probe warning">{text}</li> }).collect_view()}
                        </ul>
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn RevocationListLine(status: RevocationListReport) -> impl IntoView {
    let (class, text) = match status.state {
        Ok(list) if list.stale => (
            "probe error",
            format!(
                "{}: past its next update ({}), so certificates of {} are refused until a newer list is fetched.",
                status.uri, list.next_update, list.issuer
            ),
        ),
        Ok(list) => {
            ("probe ok", format!("{}: {}, {} revoked, next update {}", status.uri, list.issuer, list.revoked, list.next_update))
        }
        Err(error) => {
            ("probe error", format!("{}. Client certificates are refused until a usable list is fetched.", sentence_case(&error)))
        }
    };
    view! { <li class=class>{text}</li> }
}

/// On an Open Banking UK workspace, a client secret method serves manually created clients
/// only: its dynamic registrations keep to FAPI 1 Advanced's methods.
#[component]
fn SecretMethodsNote() -> impl IntoView {
    let header = expect_context::<HeaderResource>();
    view! {
        <Transition fallback=|| ()>
            {move || {
                header.get().and_then(Result::ok).filter(|header| header.profile == Profile::OpenbankingUk).map(|_| {
                    view! {
                        <p class="hint" id="secret-methods-note">
                            "Dynamic registrations here use tls_client_auth, self_signed_tls_client_auth or private_key_jwt only (FAPI 1 Advanced); a client secret method serves manually created clients."
                        </p>
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn GeneralEditor(initial: GeneralForm) -> impl IntoView {
    let path = use_workspace_path();
    let accepted_audiences = RwSignal::new(initial.accepted_audiences.clone());
    let org_id = RwSignal::new(initial.org_id.clone());
    let trusted_client_ca_pem = RwSignal::new(initial.trusted_client_ca_pem.clone());
    let client_crl_uris = RwSignal::new(initial.client_crl_uris.clone());
    let methods = RwSignal::new(initial.token_endpoint_auth_methods.clone());
    let grants = RwSignal::new(initial.grant_types.clone());
    let scopes = RwSignal::new(initial.scopes.clone());
    let role_scopes = RwSignal::new(initial.role_scopes.clone());
    let ttl = RwSignal::new(initial.access_token_ttl_seconds.to_string());
    let algorithm = RwSignal::new(initial.access_token_signing_alg.clone());
    let limits = LimitFields::new(&initial.limits);
    let save = Action::new(move |form: &GeneralForm| {
        let form = form.clone();
        let path = path.get_untracked();
        async move { save_general_settings(path.tenant, path.workspace, form).await }
    });
    let current = move || GeneralForm {
        accepted_audiences: accepted_audiences.get(),
        org_id: org_id.get(),
        trusted_client_ca_pem: trusted_client_ca_pem.get(),
        client_crl_uris: client_crl_uris.get(),
        token_endpoint_auth_methods: methods.get(),
        grant_types: grants.get(),
        scopes: scopes.get(),
        role_scopes: role_scopes.get(),
        access_token_ttl_seconds: ttl.get().trim().parse().unwrap_or(0),
        access_token_signing_alg: algorithm.get(),
        limits: limits.current(),
    };
    let saving = FormSave::new(save, "save the general settings", current);
    let (error, outcome) = (saving.error, saving.outcome);
    refresh_header_when_saved(outcome);
    let submit = saving.submit(current);
    view! {
        <form class="settings" on:submit=submit novalidate>
            <section class="card">
                <h2>"Registration requests"</h2>
                <div class="field">
                    <label for="audiences">"Accepted audiences"</label>
                    <textarea id="audiences" rows="2" bind:value=accepted_audiences>{accepted_audiences.get_untracked()}</textarea>
                    <p class="hint">"Values a registration request's aud may take, one per line (the organisation id below is accepted too)."</p>
                    <FieldMessage field="accepted_audiences" error />
                </div>
                <div class="field">
                    <label for="org-id">"Organisation ID"</label>
                    <input id="org-id" value=org_id.get_untracked() bind:value=org_id placeholder="e.g. 0015800001HQQrZAAX" />
                    <FieldMessage field="org_id" error />
                </div>
                <div class="field">
                    <label for="trusted-cas">"Trusted client CAs"</label>
                    <textarea id="trusted-cas" class="mono" rows="6" bind:value=trusted_client_ca_pem placeholder="-----BEGIN CERTIFICATE-----">{trusted_client_ca_pem.get_untracked()}</textarea>
                    <p class="hint">"PEM certificates of the CAs that issue TPP transport certificates."</p>
                    <FieldMessage field="trusted_client_ca_pem" error />
                </div>
                <div class="field">
                    <label for="crl-uris">"Certificate revocation lists"</label>
                    <textarea id="crl-uris" class="mono" rows="2" bind:value=client_crl_uris placeholder="http://crl.directory.example/issuing-ca.crl">{client_crl_uris.get_untracked()}</textarea>
                    <p class="hint">"URLs of the revocation lists of the CAs that issue client certificates, one per line, fetched and kept fresh. With lists set, a certificate is accepted only if a current list of its issuer leaves it out."</p>
                    <FieldMessage field="client_crl_uris" error />
                    <RevocationListStatuses saved=outcome />
                </div>
            </section>
            <section class="card">
                <h2>"Clients"</h2>
                <fieldset class="field">
                    <legend>"Token endpoint authentication methods"</legend>
                    <div class="checks">
                        {TokenEndpointAuthMethod::ALL
                            .into_iter()
                            .filter(|m| *m != TokenEndpointAuthMethod::ClientSecretJwt)
                            .map(|method| view! { <CheckboxInList list=methods value=method.as_str() /> })
                            .collect_view()}
                    </div>
                    <SecretMethodsNote />
                    <FieldMessage field="token_endpoint_auth_methods" error />
                </fieldset>
                <fieldset class="field">
                    <legend>"Grant types"</legend>
                    <div class="checks">
                        {GrantType::ALL.into_iter().map(|grant| view! { <CheckboxInList list=grants value=grant.as_str() /> }).collect_view()}
                    </div>
                    <FieldMessage field="grant_types" error />
                </fieldset>
                <div class="field">
                    <label for="scopes">"Scopes"</label>
                    <input id="scopes" value=scopes.get_untracked() bind:value=scopes />
                    <p class="hint">"Space-separated."</p>
                    <FieldMessage field="scopes" error />
                </div>
                <div class="field">
                    <label for="role-scopes">"Scopes by software role"</label>
                    <textarea id="role-scopes" class="mono" rows="4" bind:value=role_scopes>{role_scopes.get_untracked()}</textarea>
                    <p class="hint">"One role per line, e.g. AISP: accounts openid."</p>
                    <FieldMessage field="role_scopes" error />
                </div>
            </section>
            <section class="card">
                <h2>"Access tokens"</h2>
                <div class="form-grid">
                    <div class="field">
                        <label for="ttl">"Lifetime (seconds)"</label>
                        <input id="ttl" type="number" min="60" max="86400" value=ttl.get_untracked() bind:value=ttl />
                        <FieldMessage field="access_token_ttl_seconds" error />
                    </div>
                    <div class="field">
                        <label for="algorithm">"Signing algorithm"</label>
                        <select id="algorithm" on:change=move |ev| algorithm.set(event_target_value(&ev)) prop:value=algorithm>
                            {["PS256", "ES256"]
                                .into_iter()
                                .map(|alg| view! { <option value=alg selected=algorithm.get_untracked() == alg>{alg}</option> })
                                .collect_view()}
                        </select>
                        <FieldMessage field="access_token_signing_alg" error />
                    </div>
                </div>
            </section>
            <section class="card">
                <h2>"Limits"</h2>
                <p class="hint spaced">"Rates are per minute, with a burst of a minute's worth; 0 switches a limit off. Callers over a rate get 429 with Retry-After."</p>
                <div class="form-grid">
                    <LimitField id="limit-reg-ip" label="Registrations per IP address" value=limits.registrations_per_ip field="registrations_per_ip_per_minute" error />
                    <LimitField id="limit-reg-software" label="Registrations per software_id" value=limits.registrations_per_software field="registrations_per_software_per_minute" error />
                    <LimitField id="limit-token-ip" label="Token requests per IP address" value=limits.token_requests_per_ip field="token_requests_per_ip_per_minute" error />
                    <LimitField id="limit-token-client" label="Token requests per client" value=limits.token_requests_per_client field="token_requests_per_client_per_minute" error />
                    <LimitField id="limit-introspection-ip" label="Introspect and revoke per IP address" value=limits.introspection_requests_per_ip field="introspection_requests_per_ip_per_minute" error />
                    <LimitField id="limit-max-clients" label="Dynamically registered clients at most" value=limits.max_dynamic_clients field="max_dynamic_clients" error />
                    <LimitField id="limit-abandoned" label="Abandoned after days without a token" value=limits.abandoned_after_days field="abandoned_after_days" error />
                </div>
            </section>
            <FormMessage error fields=FIELDS />
            <div class="form-actions sticky">
                <UnsavedNote dirty=saving.unsaved.dirty />
                <button type="submit" class="button" id="save-general" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save changes" }}
                </button>
            </div>
            <SaveToast outcome=outcome saved="General settings saved" />
        </form>
    }
}

/// The limits as typed, one text per field.
#[derive(Clone, Copy)]
struct LimitFields {
    registrations_per_ip: RwSignal<String>,
    registrations_per_software: RwSignal<String>,
    token_requests_per_ip: RwSignal<String>,
    token_requests_per_client: RwSignal<String>,
    introspection_requests_per_ip: RwSignal<String>,
    max_dynamic_clients: RwSignal<String>,
    abandoned_after_days: RwSignal<String>,
}

impl LimitFields {
    fn new(limits: &LimitsForm) -> Self {
        let field = |value: &String| RwSignal::new(value.clone());
        Self {
            registrations_per_ip: field(&limits.registrations_per_ip_per_minute),
            registrations_per_software: field(&limits.registrations_per_software_per_minute),
            token_requests_per_ip: field(&limits.token_requests_per_ip_per_minute),
            token_requests_per_client: field(&limits.token_requests_per_client_per_minute),
            introspection_requests_per_ip: field(&limits.introspection_requests_per_ip_per_minute),
            max_dynamic_clients: field(&limits.max_dynamic_clients),
            abandoned_after_days: field(&limits.abandoned_after_days),
        }
    }

    /// As typed: the server says what is not a whole number, at its field.
    fn current(self) -> LimitsForm {
        LimitsForm {
            registrations_per_ip_per_minute: self.registrations_per_ip.get(),
            registrations_per_software_per_minute: self.registrations_per_software.get(),
            token_requests_per_ip_per_minute: self.token_requests_per_ip.get(),
            token_requests_per_client_per_minute: self.token_requests_per_client.get(),
            introspection_requests_per_ip_per_minute: self.introspection_requests_per_ip.get(),
            max_dynamic_clients: self.max_dynamic_clients.get(),
            abandoned_after_days: self.abandoned_after_days.get(),
        }
    }
}

#[component]
fn LimitField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    field: &'static str,
    error: Signal<Option<(Option<String>, String)>>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id type="number" min="0" value=value.get_untracked() bind:value=value />
            <FieldMessage field=format!("limits.{field}") error />
        </div>
    }
}

/// A checkbox that adds `value` to, or removes it from, `list`.
#[component]
fn CheckboxInList(list: RwSignal<Vec<String>>, value: &'static str) -> impl IntoView {
    let id = format!("check-{value}");
    let toggle = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        list.update(|items| {
            items.retain(|item| item != value);
            if on {
                items.push(value.to_owned());
            }
        });
    };
    let label_for = id.clone();
    view! {
        <label class="check" for=label_for>
            <input
                type="checkbox"
                id=id
                checked=list.get_untracked().iter().any(|item| item == value)
                prop:checked=move || list.get().iter().any(|item| item == value)
                on:change=toggle
            />
            <span class="mono">{value}</span>
        </label>
    }
}
