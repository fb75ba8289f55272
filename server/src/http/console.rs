//! The admin console: Leptos routes (server-rendered, then hydrated), its server functions, and
//! the compiled assets under `/pkg`.

use axum::Router;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes as _, generate_route_list};
use tower_http::services::ServeDir;

use crate::state::ServerState;

pub(super) fn router(state: &ServerState) -> Router<ServerState> {
    let options = state.app.leptos_options.clone();
    let assets = format!("{}/{}", options.site_root, options.site_pkg_dir);
    let app_state = state.app.clone();
    Router::new()
        .leptos_routes_with_context(state, generate_route_list(app::App), move || provide_context(app_state.clone()), {
            let options = options.clone();
            move || app::shell(options.clone())
        })
        .nest_service(&format!("/{}", options.site_pkg_dir), ServeDir::new(assets))
}
