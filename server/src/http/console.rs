//! The admin console: Leptos routes (server-rendered, then hydrated), its server functions, and
//! the compiled assets under `/pkg`. Every page needs a signed-in administrator (others are sent
//! to `/app/login`); server functions check the session themselves and answer 401. Sessions are
//! cookies (`HttpOnly`, `SameSite=Lax`, `Secure` over HTTPS) naming a record in the database, and
//! state-changing requests must come from the console's own origin.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes as _, generate_route_list};
use tower_http::services::ServeDir;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use app::api::device_cookie::BrowserHttps;
use app::api::session::current_sign_in;
use app::caller_address::CallerAddress;
use app::console_sessions::ConsoleSessionStore;
use app::state::AppState;

use super::browser_headers::BrowserHeaders;
use super::error::WireError;
use super::request_host;
use crate::listener::Connection;
use crate::state::ServerState;

/// The session cookie over plain HTTP (loopback, for development).
const SESSION_COOKIE: &str = "onboard_session";
/// The session cookie over HTTPS. Browsers take a `__Host-` cookie only from a secure origin,
/// for the whole host (`Path=/`, no `Domain`): no sibling host of the bank's, nor anything on
/// plain HTTP, can plant one beside it, for the whole console or for a path of it.
const HOST_SESSION_COOKIE: &str = "__Host-onboard_session";

/// The console's routes on a listener `surface` describes: whether browsers reach it over
/// HTTPS (its own TLS, or a proxy's in front of the plain listener: `--behind-tls-proxy`), and
/// whether its connections are the callers' own.
pub(super) fn router(state: &ServerState, surface: super::Surface) -> Router<ServerState> {
    let browser_https = surface.browser_https();
    let options = state.app.leptos_options.clone();
    let assets = format!("{}/{}", options.site_root, options.site_pkg_dir);
    let app_state = state.app.clone();
    let sessions = SessionManagerLayer::new(ConsoleSessionStore::new(state.app.store.clone(), state.app.clock.clone()))
        .with_name(if browser_https { HOST_SESSION_COOKIE } else { SESSION_COOKIE })
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(browser_https)
        .with_path("/")
        // Ends after `--console-idle-minutes` without use (the sign-in record is held to it too).
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(state.app.deployment.console_idle.num_seconds())))
        // Saved on every signed-in request (an unchanged one included), so the idle expiry
        // counts from the last use, not from the sign-in.
        .with_always_save(true);
    Router::new()
        .route("/app/{tenant}/sandbox/{software_id}/bundle.zip", axum::routing::get(super::console_bundle::download))
        .leptos_routes_with_context(state, generate_route_list(app::App), move || provide_context(app_state.clone()), {
            let options = options.clone();
            move || app::shell(options.clone())
        })
        .layer(middleware::from_fn_with_state(state.app.clone(), require_sign_in))
        .layer(middleware::from_fn(tell_caller_address))
        .layer(axum::Extension(BrowserHttps(browser_https)))
        .layer(middleware::from_fn_with_state(ConsoleOrigin::new(browser_https, &state.app.deployment.public_url), same_origin))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(ConsoleHosts::new(&state.app.deployment), known_host))
        .layer(middleware::from_fn_with_state(browser_https, super::browser_headers::add))
        .nest_service(&format!("/{}", options.site_pkg_dir), assets_service(&assets))
}

/// The console's compiled assets. A release build (`make release`) leaves a Brotli and a gzip
/// copy beside each file; a browser that accepts one gets it (the release wasm bundle is 2.3 MB,
/// 634 KB as Brotli), and one that accepts neither, or a build without them, the file itself.
fn assets_service(assets: &str) -> ServeDir {
    ServeDir::new(assets).precompressed_br().precompressed_gzip()
}

/// An unknown console address: the console's own not-found page (404), so a mistyped link
/// still offers a way back.
pub(super) async fn not_found_page(state: ServerState, browser_https: bool, request: Request) -> Response {
    let headers = BrowserHeaders::for_request(browser_https, &request);
    let options = state.app.leptos_options.clone();
    let app_state = state.app.clone();
    let render = leptos_axum::render_app_to_stream_with_context(
        move || provide_context(app_state.clone()),
        move || app::shell(options.clone()),
    );
    let mut response = render(request).await.into_response();
    headers.apply(response.headers_mut());
    response
}

/// Tells the console's server functions who is calling: the connection's peer address. Behind
/// a proxy a request has none ([`super::forget_proxy_address`]): nothing is told, and sign-in
/// relies on the lock of each e-mail address and the bound on password hashing.
async fn tell_caller_address(connection: Connection, mut request: Request, next: Next) -> Response {
    if let Some(address) = connection.remote_addr {
        request.extensions_mut().insert(CallerAddress(address.ip()));
    }
    next.run(request).await
}

/// Pages need a signed-in administrator; the sign-in page and server functions (which answer
/// 401 themselves) do not. One who must set up two-step sign-in first is sent to their
/// account page, where they do.
async fn require_sign_in(State(app): State<AppState>, session: Session, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == "/app/login" || path.starts_with("/app/fn/") || request.method() != Method::GET {
        return next.run(request).await;
    }
    let caller = request.extensions().get::<app::caller_address::CallerAddress>().map(|caller| caller.0);
    match current_sign_in(&session, &app, caller).await {
        Ok(Some(sign_in)) if sign_in.must_set_up_two_step && path != ACCOUNT_PAGE => Redirect::to(ACCOUNT_PAGE).into_response(),
        Ok(Some(_)) => next.run(request).await,
        Ok(None) => {
            let target = request.uri().path_and_query().map_or("/app", |p| p.as_str());
            let next_param: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
            Redirect::to(&format!("/app/login?next={next_param}")).into_response()
        }
        Err(detail) => {
            tracing::error!(error = %detail, "console sessions are unavailable");
            WireError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the console cannot check sign-ins right now",
            )
            .into_response()
        }
    }
}

/// Where an administrator sets up two-step sign-in.
const ACCOUNT_PAGE: &str = "/app/account";

/// The host names browsers may reach the console under: the public URL's, those named with
/// `--console-hosts`, `localhost` and any address. A name resolves to whatever its owner says,
/// so a page at a name of an attacker's that resolves to this server is, to the browser, of
/// the same origin as the console there: were any name accepted, such a page could sign in
/// and guess passwords from the administrator's own machine.
#[derive(Debug, Clone)]
struct ConsoleHosts {
    names: std::sync::Arc<[String]>,
}

impl ConsoleHosts {
    fn new(deployment: &app::state::Deployment) -> Self {
        let public = url::Url::parse(&deployment.public_url).ok().and_then(|url| url.host_str().map(str::to_ascii_lowercase));
        Self { names: public.into_iter().chain(deployment.console_hosts.iter().cloned()).collect() }
    }

    fn allows(&self, host: &url::Host<String>) -> bool {
        match host {
            url::Host::Domain(name) => request_host::is_localhost(host) || self.names.contains(name),
            url::Host::Ipv4(_) | url::Host::Ipv6(_) => true,
        }
    }
}

/// Refuses a console request addressed to a host name the console is not served under
/// (421 Misdirected Request).
async fn known_host(State(hosts): State<ConsoleHosts>, request: Request, next: Next) -> Response {
    if request_host::host(&request).is_some_and(|host| hosts.allows(&host)) {
        return next.run(request).await;
    }
    tracing::info!(host = ?request_host::authority(&request), "console request to an unknown host name refused");
    WireError::new(StatusCode::MISDIRECTED_REQUEST, "invalid_request", "the console is not served under this host name")
        .into_response()
}

/// Where the console is served from, as browsers name it in `Origin`: the listener's own
/// scheme with the authority the request was sent to, or the public URL (for a proxy in front).
#[derive(Debug, Clone)]
struct ConsoleOrigin {
    scheme: &'static str,
    public: Option<String>,
}

impl ConsoleOrigin {
    fn new(https: bool, public_url: &str) -> Self {
        Self { scheme: if https { "https" } else { "http" }, public: origin_of(public_url) }
    }

    /// The origin `request` was addressed to: HTTP/2 names the authority in the URI, HTTP/1.1
    /// in `Host`.
    fn of_request(&self, request: &Request) -> Option<String> {
        origin_of(&format!("{}://{}", self.scheme, request_host::authority(request)?))
    }

    /// Whether the request's `Origin` (or, without one, its `Referer`) is the console's own.
    fn allows(&self, request: &Request) -> bool {
        let headers = request.headers();
        let source = headers.get(header::ORIGIN).or_else(|| headers.get(header::REFERER)).and_then(|v| v.to_str().ok());
        let Some(source) = source.and_then(origin_of) else { return false };
        self.of_request(request).is_some_and(|own| own == source) || self.public.as_ref().is_some_and(|public| *public == source)
    }
}

/// The serialised origin of a URL (scheme, host, port; default ports left out), if it has one.
fn origin_of(url: &str) -> Option<String> {
    let origin = url::Url::parse(url).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// Refuses cross-site state changes: a request other than GET, HEAD or OPTIONS must come from
/// the console's own origin.
async fn same_origin(State(origin): State<ConsoleOrigin>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) || origin.allows(&request) {
        return next.run(request).await;
    }
    WireError::new(StatusCode::FORBIDDEN, "access_denied", "cross-site requests are refused").into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;

    use super::*;

    fn request(uri: &str, host: Option<&str>, origin: Option<&str>, referer: Option<&str>) -> Request {
        let mut builder = Request::post(uri);
        for (name, value) in [(header::HOST, host), (header::ORIGIN, origin), (header::REFERER, referer)] {
            if let Some(value) = value {
                builder = builder.header(name, value);
            }
        }
        builder.body(Body::empty()).unwrap_or_default()
    }

    #[test]
    fn the_console_answers_under_its_own_names_only() {
        let deployment = app::state::Deployment {
            public_url: "https://Onboard.Bank.Example".to_owned(),
            allow_insecure_jwks_uris: false,
            console_hosts: vec!["onboard-admin.bank.internal".to_owned()],
            console_idle: chrono::Duration::minutes(30),
            console_two_step_required: false,
            console_confirm: chrono::Duration::minutes(15),
        };
        let hosts = ConsoleHosts::new(&deployment);
        let allowed = |host: &str| url::Host::parse(host).is_ok_and(|host| hosts.allows(&host));
        for host in ["onboard.bank.example", "onboard-admin.bank.internal", "localhost", "127.0.0.1", "[::1]", "10.0.0.7"] {
            assert!(allowed(host), "{host}");
        }
        for host in ["evil.example", "bank.example", "onboard.bank.example.evil.example", "localhost.evil.example"] {
            assert!(!allowed(host), "{host}");
        }
    }

    #[test]
    fn only_the_consoles_own_origin_may_change_state() {
        let plain = ConsoleOrigin::new(false, "https://bank.example");
        let tls = ConsoleOrigin::new(true, "https://bank.example");
        let allowed = |origin: &ConsoleOrigin, request: Request| origin.allows(&request);
        // HTTP/1.1: the authority is in Host.
        assert!(allowed(&plain, request("/app/fn/x", Some("127.0.0.1:3000"), Some("http://127.0.0.1:3000"), None)));
        assert!(allowed(&plain, request("/app/fn/x", Some("127.0.0.1:3000"), None, Some("http://127.0.0.1:3000/app/login"))));
        // HTTP/2: the authority is in the URI and there is no Host.
        assert!(allowed(&tls, request("https://localhost:8443/app/fn/x", None, Some("https://localhost:8443"), None)));
        assert!(allowed(&tls, request("https://bank.example/app/fn/x", None, Some("https://bank.example:443"), None)));
        // The public URL, for a proxy that rewrites Host.
        assert!(allowed(&plain, request("/app/fn/x", Some("10.0.0.7:3000"), Some("https://bank.example"), None)));

        assert!(!allowed(&tls, request("https://localhost:8443/app/fn/x", None, Some("http://localhost:8443"), None)), "scheme");
        assert!(!allowed(&plain, request("/app/fn/x", Some("127.0.0.1:3000"), Some("http://evil.example"), None)));
        assert!(!allowed(&plain, request("/app/fn/x", Some("127.0.0.1:3000"), Some("http://127.0.0.1:3001"), None)));
        assert!(!allowed(&plain, request("/app/fn/x", Some("127.0.0.1:3000"), Some("null"), None)));
        assert!(!allowed(&plain, request("/app/fn/x", Some("127.0.0.1:3000"), None, None)));
        assert!(!allowed(&plain, request("/app/fn/x", None, Some("http://127.0.0.1:3000"), None)), "no authority at all");
    }
}
