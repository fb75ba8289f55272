//! `/app/login`: the administrator signs in.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::components::error_message;
use super::two_step::CodeInput;
use crate::api::auth::SignIn;

#[component]
pub fn LoginPage() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let error = move || sign_in.value().get().and_then(Result::err).map(|e| error_message(&e));
    // Once the password was right for an administrator who signs in in two steps, the code is
    // asked for; the address and password stay as typed and are sent again with it.
    let asks_code = RwSignal::new(false);
    // A recovery code in place of the app's (a lost phone).
    let recovery = RwSignal::new(false);
    Effect::new(move |_| {
        if error().as_deref() == Some(crate::api::CODE_NEEDED) {
            asks_code.set(true);
            request_animation_frame(focus_code);
        }
    });
    let problem = move || error().filter(|message| message != crate::api::CODE_NEEDED);
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
                    <Show when=move || asks_code.get()>
                        <div class="field">
                            {move || {
                                if recovery.get() {
                                    view! {
                                        <label for="code">"Recovery code"</label>
                                        <CodeInput id="code" recovery=true />
                                        <p class="hint">"One of the codes you saved when you turned two-step sign-in on; each works once."</p>
                                    }
                                        .into_any()
                                } else {
                                    view! {
                                        <label for="code">"Code from your authenticator app"</label>
                                        <CodeInput id="code" />
                                        <p class="hint">"Two-step sign-in is on for this account: the six digits your app shows for Onboard now."</p>
                                    }
                                        .into_any()
                                }
                            }}
                            <button
                                type="button"
                                class="link-button"
                                on:click=move |_| {
                                    recovery.update(|recovery| *recovery = !*recovery);
                                    request_animation_frame(focus_code);
                                }
                            >
                                {move || if recovery.get() { "Use a code from the app instead" } else { "Lost your phone? Use a recovery code" }}
                            </button>
                        </div>
                    </Show>
                    {move || problem().map(|message| view! { <div class="alert error" role="alert" id="sign-in-error">{message}</div> })}
                    <button type="submit" class="button wide" disabled=pending>
                        {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}

/// Moves the keyboard to the code field once it is shown.
fn focus_code() {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast as _;
        let field = document().get_element_by_id("code").and_then(|field| field.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(field) = field {
            let _ = field.focus();
        }
    }
}
