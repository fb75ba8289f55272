//! `/app/account`: the signed-in administrator's own account, and changing their password.

use leptos::prelude::*;
use leptos_meta::Title;

use super::components::{FieldMessage, FormMessage, field_error};
use super::layout::TopBar;
use crate::api::account::ChangePassword;
use crate::api::auth::current_administrator;
use crate::domain::account::{MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS};

/// The path of this page.
pub const ACCOUNT_PATH: &str = "/app/account";

#[component]
pub fn AccountPage() -> impl IntoView {
    let administrator = Resource::new(|| (), |()| current_administrator());
    let change = ServerAction::<ChangePassword>::new();
    let error = Signal::derive(move || change.value().get().and_then(Result::err).map(|e| field_error(&e)));
    let changed = Signal::derive(move || change.value().get().is_some_and(|result| result.is_ok()));
    let pending = change.pending();
    // A successful change empties the form, so no password stays in the page; after a refusal
    // what was typed stays, to be corrected.
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if change.value().with(|value| matches!(value, Some(Ok(()))))
            && let Some(form) = form.get()
        {
            form.reset();
        }
    });
    let minimum = MIN_PASSWORD_CHARS.to_string();
    view! {
        <Title text="Your account" />
        <TopBar />
        <main class="page">
            <div class="page-header">
                <div>
                    <h1>"Your account"</h1>
                    <p class="lead">"The administrator you are signed in as, and your password."</p>
                </div>
            </div>
            <section class="card" aria-labelledby="account-title">
                <h2 id="account-title">"Signed in as"</h2>
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || {
                        administrator.get().and_then(Result::ok).map(|admin| view! { <p class="mono" id="account-email">{admin.email}</p> })
                    }}
                </Transition>
            </section>
            <section class="card" aria-labelledby="password-title">
                <h2 id="password-title">"Change your password"</h2>
                <p class="muted">
                    "Your other sessions end, and browsers trusted by earlier sign-ins are forgotten; this one stays signed in."
                </p>
                <ActionForm action=change node_ref=form attr:class="form-grid">
                    // For password managers: whose password this is.
                    <input
                        type="email"
                        class="hidden"
                        autocomplete="username"
                        readonly
                        tabindex="-1"
                        aria-hidden="true"
                        prop:value=move || administrator.get().and_then(Result::ok).map(|admin| admin.email).unwrap_or_default()
                    />
                    <div class="field">
                        <label for="current-password">"Current password"</label>
                        <input
                            id="current-password"
                            name="current_password"
                            type="password"
                            autocomplete="current-password"
                            maxlength=MAX_PASSWORD_BYTES
                            required
                        />
                        <FieldMessage field="current_password" error />
                    </div>
                    <div class="field">
                        <label for="new-password">"New password"</label>
                        <input
                            id="new-password"
                            name="new_password"
                            type="password"
                            autocomplete="new-password"
                            minlength=minimum.clone()
                            maxlength=MAX_PASSWORD_BYTES
                            required
                        />
                        <p class="hint">{format!("At least {MIN_PASSWORD_CHARS} characters.")}</p>
                        <FieldMessage field="new_password" error />
                    </div>
                    <div class="field">
                        <label for="confirm-password">"New password again"</label>
                        <input
                            id="confirm-password"
                            name="confirm_password"
                            type="password"
                            autocomplete="new-password"
                            minlength=minimum
                            maxlength=MAX_PASSWORD_BYTES
                            required
                        />
                        <FieldMessage field="confirm_password" error />
                    </div>
                    <FormMessage error fields=&["current_password", "new_password", "confirm_password"] />
                    <div class="form-actions">
                        <button type="submit" class="button" disabled=pending>
                            {move || if pending.get() { "Changing…" } else { "Change password" }}
                        </button>
                        <span class="muted" role="status" id="password-changed">
                            {move || (changed.get() && !pending.get()).then_some("Password changed. Your other sessions are signed out.")}
                        </span>
                    </div>
                </ActionForm>
            </section>
        </main>
    }
}
