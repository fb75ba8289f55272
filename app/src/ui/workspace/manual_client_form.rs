//! The fields of a manual client, shared by the form that creates one (Applications) and the
//! form that changes one (its page).

use leptos::prelude::*;

use crate::api::applications::ManualClientForm;
use crate::ui::components::FieldMessage;

/// The form's values, a signal each.
#[derive(Debug, Clone, Copy)]
pub struct ManualClientFields {
    pub name: RwSignal<String>,
    pub scopes: RwSignal<String>,
    pub method: RwSignal<String>,
    pub dn: RwSignal<String>,
    pub jwks: RwSignal<String>,
    pub jwks_uri: RwSignal<String>,
    pub may_introspect: RwSignal<bool>,
}

impl ManualClientFields {
    pub fn new(form: &ManualClientForm) -> Self {
        Self {
            name: RwSignal::new(form.name.clone()),
            scopes: RwSignal::new(form.scopes.clone()),
            method: RwSignal::new(form.token_endpoint_auth_method.clone()),
            dn: RwSignal::new(form.tls_client_auth_subject_dn.clone()),
            jwks: RwSignal::new(form.jwks.clone()),
            jwks_uri: RwSignal::new(form.jwks_uri.clone()),
            may_introspect: RwSignal::new(form.may_introspect),
        }
    }

    /// Shows `form`, the method aside (a create form keeps the one chosen).
    pub fn show(&self, form: &ManualClientForm) {
        self.name.set(form.name.clone());
        self.scopes.set(form.scopes.clone());
        self.dn.set(form.tls_client_auth_subject_dn.clone());
        self.jwks.set(form.jwks.clone());
        self.jwks_uri.set(form.jwks_uri.clone());
        self.may_introspect.set(form.may_introspect);
    }

    /// What the form sends: only what the chosen method uses, since a subject or keys typed
    /// for another method and then hidden by a change of method would be refused, out of sight.
    pub fn form(&self) -> ManualClientForm {
        let method = self.method.get();
        let for_method = |wanted: &str, value: RwSignal<String>| if method == wanted { value.get() } else { String::new() };
        ManualClientForm {
            name: self.name.get(),
            scopes: self.scopes.get(),
            tls_client_auth_subject_dn: for_method("tls_client_auth", self.dn),
            jwks: for_method("private_key_jwt", self.jwks),
            jwks_uri: for_method("private_key_jwt", self.jwks_uri),
            may_introspect: self.may_introspect.get(),
            token_endpoint_auth_method: method,
        }
    }
}

/// Every field a form-level message may name.
pub const MANUAL_CLIENT_FIELD_NAMES: &[&str] =
    &["name", "scopes", "token_endpoint_auth_method", "tls_client_auth_subject_dn", "jwks", "jwks_uri"];

/// The inputs: name and scopes, then `children` (how the authentication method is chosen, or
/// the method shown), then what the method needs, then the introspection permission.
#[component]
pub fn ManualClientInputs(
    fields: ManualClientFields,
    error: Signal<Option<(Option<String>, String)>>,
    children: Children,
) -> impl IntoView {
    let ManualClientFields { name, scopes, method: chosen, dn, jwks, jwks_uri, may_introspect } = fields;
    view! {
        <div class="field">
            <label for="mc-name">"Name"</label>
            <input id="mc-name" value=name.get_untracked() bind:value=name required />
            <FieldMessage field="name" error />
        </div>
        <div class="field">
            <label for="mc-scopes">"Scopes"</label>
            <input id="mc-scopes" value=scopes.get_untracked() bind:value=scopes />
            <FieldMessage field="scopes" error />
        </div>
        {children()}
        <div class="field" class:hidden=move || chosen.get() != "tls_client_auth">
            <label for="mc-dn">"Certificate subject DN"</label>
            <input id="mc-dn" class="mono" value=dn.get_untracked() bind:value=dn placeholder="CN=onboarding-portal,O=Bank" />
            <FieldMessage field="tls_client_auth_subject_dn" error />
        </div>
        <div class="field span-2" class:hidden=move || chosen.get() != "private_key_jwt">
            <label for="mc-jwks">"JWKS"</label>
            <textarea id="mc-jwks" class="mono" rows="4" bind:value=jwks>{jwks.get_untracked()}</textarea>
            <FieldMessage field="jwks" error />
            <label for="mc-jwks-uri">"or JWKS URI"</label>
            <input id="mc-jwks-uri" type="url" value=jwks_uri.get_untracked() bind:value=jwks_uri />
            <FieldMessage field="jwks_uri" error />
        </div>
        <div class="field span-2">
            <label class="check" for="mc-introspect">
                <input
                    type="checkbox"
                    id="mc-introspect"
                    checked=may_introspect.get_untracked()
                    prop:checked=may_introspect
                    on:change=move |ev| may_introspect.set(event_target_checked(&ev))
                />
                "May introspect any token of this workspace"
            </label>
            <p class="hint">"For a resource server that checks the tokens presented to it. Without it, the client may introspect its own tokens only."</p>
        </div>
    }
}
