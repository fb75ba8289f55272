//! The console's pages and components.

mod account;
mod activity;
mod administrators;
mod components;
#[cfg(feature = "ssr")]
mod content_policy;
mod directory;
mod event_log;
mod layout;
mod login;
mod password_confirmation;
mod saving;
mod session_timeout;
mod status_page;
mod two_step;
mod workspace;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::path;

use account::AccountPage;
use activity::ActivityPage;
use administrators::AdministratorsPage;
use directory::WorkspaceDirectory;
use login::LoginPage;
use status_page::StatusPage;
use workspace::{
    ApplicationPage, ApplicationsPage, AuditLogPage, DcrSettingsPage, DryRunPage, EditPolicyPage, GeneralSettingsPage,
    NewPolicyPage, PoliciesPage, SandboxTppsPage, WorkspaceLayout,
};

/// The console's icon (the brand mark), inline so it costs no request.
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%230f1b2d'/%3E%3Cpath d='M8 3l5 5-5 5-5-5z' fill='%236ea0ff'/%3E%3C/svg%3E";

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_policy::send_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href=FAVICON />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    password_confirmation::PasswordConfirmation::provide();
    // Effects run only in the browser, once the page is hydrated: mark the page so scripts
    // (and the end-to-end tests) know its forms are live.
    Effect::new(|| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/console.css" />
        <Title formatter=|text: String| if text.is_empty() { "Onboard".to_owned() } else { format!("{text} · Onboard") } />
        <Router>
            <FocusOnNavigate />
            <Routes fallback=NotFound>
                <Route path=path!("/") view=|| view! { <Redirect path="/app" /> } />
                <Route path=path!("/app") view=|| view! { <Redirect path="/app/default/workspaces" /> } />
                <Route path=path!("/app/login") view=LoginPage />
                <Route path=path!("/app/status") view=StatusPage />
                <Route path=path!("/app/activity") view=ActivityPage />
                <Route path=path!("/app/account") view=AccountPage />
                <Route path=path!("/app/administrators") view=AdministratorsPage />
                <Route path=path!("/app/:tenant/workspaces") view=WorkspaceDirectory />
                <ParentRoute path=path!("/app/:tenant/workspaces/:workspace") view=WorkspaceLayout>
                    <Route path=path!("") view=|| view! { <Redirect path="dcr" /> } />
                    <Route path=path!("dcr") view=DcrSettingsPage />
                    <Route path=path!("general") view=GeneralSettingsPage />
                    <Route path=path!("policies") view=PoliciesPage />
                    <Route path=path!("policies/new") view=NewPolicyPage />
                    <Route path=path!("policies/:policy_id/edit") view=EditPolicyPage />
                    <Route path=path!("dry-run") view=DryRunPage />
                    <Route path=path!("sandbox-tpps") view=SandboxTppsPage />
                    <Route path=path!("applications") view=ApplicationsPage />
                    <Route path=path!("applications/:client_id") view=ApplicationPage />
                    <Route path=path!("audit") view=AuditLogPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// After a navigation inside the console, moves the keyboard focus to the new page's `main`, so
/// keyboard and screen reader users go on from the page's content instead of from an element
/// that is gone.
#[component]
fn FocusOnNavigate() -> impl IntoView {
    let location = use_location();
    Effect::new(move |previous: Option<String>| {
        let path = location.pathname.get();
        if previous.is_some_and(|previous| previous != path) {
            request_animation_frame(focus_main);
        }
        path
    });
}

fn focus_main() {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast as _;
        let main = document().query_selector("main").ok().flatten().and_then(|main| main.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(main) = main {
            let _ = main.set_attribute("tabindex", "-1");
            let _ = main.focus();
        }
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <main class="auth">
            <div class="auth-card">
                <h1>"Page not found"</h1>
                <p class="muted">"There is nothing at this address."</p>
                <a class="button" href="/app">
                    "Go to the console"
                </a>
            </div>
        </main>
    }
}
