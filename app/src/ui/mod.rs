//! The console's pages and components.

mod status_page;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::path;

use status_page::StatusPage;

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
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
    view! {
        <Stylesheet id="leptos" href="/pkg/console.css" />
        <Title text="Onboard" />
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/app") view=StatusPage />
                <Route path=path!("/") view=|| view! { <Redirect path="/app" /> } />
            </Routes>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <main class="page narrow">
            <h1>"Page not found"</h1>
            <p>
                "There is nothing at this address. "
                <a href="/app">"Go to the console"</a>
            </p>
        </main>
    }
}

/// The bar across the top of every page.
#[component]
pub fn TopBar() -> impl IntoView {
    view! {
        <header class="topbar">
            <a class="brand" href="/app">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                "Onboard"
            </a>
            <span class="topbar-note">"Dynamic client registration for Open Banking"</span>
        </header>
    }
}
