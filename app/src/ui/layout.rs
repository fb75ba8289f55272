//! The frame around signed-in pages: the top bar with the administrator and sign-out (and the
//! warning before the session ends, and the request for the password before a sensitive
//! change), and (on workspace pages) the sidebar.

use leptos::prelude::*;
use leptos_router::components::A;

use super::password_confirmation::PasswordConfirmationDialog;
use super::session_timeout::SessionTimeout;
use crate::api::auth::{SignOut, current_administrator};

#[component]
pub fn TopBar() -> impl IntoView {
    let administrator = Resource::new(|| (), |()| current_administrator());
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <header class="topbar">
            <a class="brand" href="/app">
                <span class="brand-mark" aria-hidden="true">
                    "◆"
                </span>
                "Onboard"
            </a>
            <span class="topbar-note">"Dynamic client registration for Open Banking"</span>
            <div class="topbar-user">
                <A href=super::administrators::ADMINISTRATORS_PATH attr:class="topbar-link">
                    "Administrators"
                </A>
                <A href=super::activity::ACTIVITY_PATH attr:class="topbar-link">
                    "Activity"
                </A>
                <A href="/app/status" attr:class="topbar-link">
                    "Status"
                </A>
                <Transition fallback=|| ()>
                    {move || {
                        administrator
                            .get()
                            .and_then(Result::ok)
                            .map(|admin| {
                                view! {
                                    <A href=super::account::ACCOUNT_PATH attr:class="topbar-link who" attr:title="Your account">
                                        {admin.email}
                                    </A>
                                }
                            })
                    }}
                </Transition>
                <ActionForm action=sign_out>
                    <button type="submit" class="button ghost small">
                        "Sign out"
                    </button>
                </ActionForm>
            </div>
        </header>
        <SessionTimeout />
        <PasswordConfirmationDialog email=Signal::derive(move || administrator.get().and_then(Result::ok).map(|admin| admin.email)) />
    }
}
