//! The admin console: Leptos routes (server-rendered, then hydrated), its server functions, and
//! the compiled assets under `/pkg`. Every page needs a signed-in administrator (others are sent
//! to `/app/login`); server functions check the session themselves and answer 401. Sessions are
//! cookies (`HttpOnly`, `SameSite=Lax`, `Secure` over HTTPS) naming a record in the database, and
//! state-changing requests must come from the console's own origin.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes as _, generate_route_list};
use tower_http::services::ServeDir;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use app::api::session::ADMINISTRATOR;
use app::console_sessions::ConsoleSessionStore;
use app::domain::account::Administrator;

use super::error::WireError;
use crate::state::ServerState;

/// A console session ends after eight hours without use.
const SESSION_IDLE: time::Duration = time::Duration::hours(8);

/// The console's routes. `secure_cookies` is true on the HTTPS listener.
pub(super) fn router(state: &ServerState, secure_cookies: bool) -> Router<ServerState> {
    let options = state.app.leptos_options.clone();
    let assets = format!("{}/{}", options.site_root, options.site_pkg_dir);
    let app_state = state.app.clone();
    let sessions = SessionManagerLayer::new(ConsoleSessionStore::new(state.app.store.clone(), state.app.clock.clone()))
        .with_name("onboard_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure_cookies)
        .with_path("/app")
        .with_expiry(Expiry::OnInactivity(SESSION_IDLE));
    Router::new()
        .leptos_routes_with_context(state, generate_route_list(app::App), move || provide_context(app_state.clone()), {
            let options = options.clone();
            move || app::shell(options.clone())
        })
        .layer(middleware::from_fn(require_sign_in))
        .layer(middleware::from_fn(same_origin))
        .layer(sessions)
        .nest_service(&format!("/{}", options.site_pkg_dir), ServeDir::new(assets))
}

/// An unknown console address: the console's own not-found page (404), so a mistyped link
/// still offers a way back.
pub(super) async fn not_found_page(state: ServerState, request: Request) -> Response {
    let options = state.app.leptos_options.clone();
    let app_state = state.app.clone();
    let render = leptos_axum::render_app_to_stream_with_context(
        move || provide_context(app_state.clone()),
        move || app::shell(options.clone()),
    );
    render(request).await.into_response()
}

/// Pages need a signed-in administrator; the sign-in page and server functions (which answer
/// 401 themselves) do not.
async fn require_sign_in(session: Session, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let open = path == "/app/login" || path.starts_with("/app/fn/") || request.method() != Method::GET;
    if open || session.get::<Administrator>(ADMINISTRATOR).await.ok().flatten().is_some() {
        return next.run(request).await;
    }
    let target = request.uri().path_and_query().map_or("/app", |p| p.as_str());
    let next_param: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
    Redirect::to(&format!("/app/login?next={next_param}")).into_response()
}

/// Refuses cross-site state changes: a non-GET request must carry an `Origin` (or `Referer`)
/// of the host it was sent to.
async fn same_origin(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) || is_same_origin(request.headers()) {
        return next.run(request).await;
    }
    WireError::new(StatusCode::FORBIDDEN, "access_denied", "cross-site requests are refused").into_response()
}

fn is_same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else { return false };
    let source = headers.get(header::ORIGIN).or_else(|| headers.get(header::REFERER)).and_then(|v| v.to_str().ok());
    source.and_then(|s| url::Url::parse(s).ok()).is_some_and(|url| {
        let authority = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        authority.eq_ignore_ascii_case(host)
    })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(host: &str, origin: Option<&str>, referer: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).unwrap_or(HeaderValue::from_static("x")));
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap_or(HeaderValue::from_static("x")));
        }
        if let Some(referer) = referer {
            headers.insert(header::REFERER, HeaderValue::from_str(referer).unwrap_or(HeaderValue::from_static("x")));
        }
        headers
    }

    #[test]
    fn only_the_consoles_own_origin_may_change_state() {
        assert!(is_same_origin(&headers("127.0.0.1:3000", Some("http://127.0.0.1:3000"), None)));
        assert!(is_same_origin(&headers("bank.example", Some("https://bank.example"), None)));
        assert!(is_same_origin(&headers("127.0.0.1:3000", None, Some("http://127.0.0.1:3000/app/login"))));
        assert!(!is_same_origin(&headers("127.0.0.1:3000", Some("http://evil.example"), None)));
        assert!(!is_same_origin(&headers("127.0.0.1:3000", Some("http://127.0.0.1:3001"), None)));
        assert!(!is_same_origin(&headers("127.0.0.1:3000", None, None)));
        assert!(!is_same_origin(&headers("127.0.0.1:3000", Some("null"), None)));
    }
}
