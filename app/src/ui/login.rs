//! `/app/login`: the administrator signs in.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::components::error_message;
use crate::api::auth::SignIn;

#[component]
pub fn LoginPage() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let error = move || sign_in.value().get().and_then(Result::err).map(|e| error_message(&e));
    let pending = sign_in.pending();
    view! {
        <Title text="Sign in" />
        <main class="auth">
            <div class="auth-card">
                <div class="auth-brand">
                    <span class="brand-mark" aria-hidden="true">
                        "◆"
                    </span>
                    "Onboard"
                </div>
                <h1>"Sign in to the console"</h1>
                <ActionForm action=sign_in attr:class="stack">
                    <input type="hidden" name="next" value=next />
                    <div class="field">
                        <label for="email">"E-mail address"</label>
                        <input id="email" name="email" type="email" autocomplete="username" required autofocus />
                    </div>
                    <div class="field">
                        <label for="password">"Password"</label>
                        <input id="password" name="password" type="password" autocomplete="current-password" required />
                    </div>
                    {move || error().map(|message| view! { <div class="alert error" role="alert" id="sign-in-error">{message}</div> })}
                    <button type="submit" class="button wide" disabled=pending>
                        {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}
