//! The console's pages and components.

mod status_page;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::path;

use status_page::StatusPage;

/// The console's icon (the brand mark), inline so it costs no request.
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%230f1b2d'/%3E%3Cpath d='M8 3l5 5-5 5-5-5z' fill='%236ea0ff'/%3E%3C/svg%3E";

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
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
    view! {
        <Stylesheet id="leptos" href="/pkg/console.css" />
        <Title text="Onboard" />
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/app") view=StatusPage />
                <Route path=path!("/app/*any") view=NotFound />
                <Route path=path!("/") view=|| view! { <Redirect path="/app" /> } />
            </Routes>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <TopBar />
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
