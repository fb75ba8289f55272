//! The HTTP surface: per-workspace protocol endpoints, the admin REST API, operations
//! endpoints and the console, on one router per listener ([`Surface`] says which parts).

pub mod admin;
mod browser_headers;
mod console;
mod console_bundle;
mod discovery;
pub mod error;
pub mod extract;
mod introspection;
mod jwks;
mod oauth_form;
mod operations;
mod registration;
mod request_host;
mod revocation;
mod sandbox;
mod token;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use app::domain::urls::{GENERIC_REGISTRATION_PATH, OBUK_REGISTRATION_PATH};

use self::error::WireError;
use self::registration::{Endpoint, Obuk, Rfc7591};
use crate::listener::Connection;
use crate::state::ServerState;

pub use registration::BODY_LIMIT as REGISTRATION_BODY_LIMIT;

/// How callers reach a listener.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Transport {
    /// Plain HTTP, straight from the callers (on loopback, where it is allowed alone).
    #[default]
    Plain,
    /// Plain HTTP from a proxy that terminates TLS (`--behind-tls-proxy`).
    BehindTlsProxy,
    /// TLS of its own: the HTTPS listener.
    Tls,
}

/// What one listener serves.
#[derive(Debug, Clone, Copy, Default)]
pub struct Surface {
    pub transport: Transport,
    /// The protocol endpoints and health checks only: no console, admin API or metrics
    /// (`--https-protocol-only`, for the listener TPPs reach).
    pub protocol_only: bool,
}

impl Surface {
    /// Browsers reach it over HTTPS (its own TLS, or a proxy's): the console's cookie is
    /// `Secure` and its origin `https`.
    pub fn browser_https(self) -> bool {
        self.transport != Transport::Plain
    }

    /// Its connections come from a proxy, not from the callers: a connection's address says
    /// nothing of who calls, so requests are served without it ([`forget_proxy_address`]):
    /// nothing is counted, recorded or trusted by it.
    pub fn behind_proxy(self) -> bool {
        self.transport == Transport::BehindTlsProxy
    }

    /// A caller from a loopback address is on this host: only on the plain listener. Over
    /// TLS it proves nothing: a proxy on this host passing TLS through (as mutual TLS needs)
    /// makes every caller loopback.
    pub fn loopback_is_local(self) -> bool {
        self.transport == Transport::Plain
    }
}

/// The router of one listener.
pub fn router(state: ServerState, surface: Surface) -> Router {
    let mut api = Router::new()
        .route("/{tenant}/{workspace}/.well-known/openid-configuration", get(discovery::get))
        .route("/.well-known/oauth-authorization-server/{tenant}/{workspace}", get(discovery::get))
        .route("/{tenant}/{workspace}/.well-known/jwks.json", get(jwks::get))
        .merge(registration_routes::<Obuk>(OBUK_REGISTRATION_PATH))
        .merge(registration_routes::<Rfc7591>(GENERIC_REGISTRATION_PATH))
        .route("/{tenant}/{workspace}/oauth2/token", post(token::post))
        .route("/{tenant}/{workspace}/oauth2/introspect", post(introspection::post))
        .route("/{tenant}/{workspace}/oauth2/revoke", post(revocation::post))
        .route("/{tenant}/.sandbox/directory/jwks.json", get(sandbox::directory_jwks))
        .route("/{tenant}/.sandbox/directory/ca.pem", get(sandbox::directory_ca))
        .route("/{tenant}/.sandbox/software/{software_id}/jwks.json", get(sandbox::software_jwks))
        .route("/healthz", get(operations::healthz))
        .route("/readyz", get(operations::readyz));
    if !surface.protocol_only {
        let loopback_is_local = surface.loopback_is_local();
        let metrics = move |State(state): State<ServerState>, connection: Connection, headers: axum::http::HeaderMap| async move {
            operations::metrics(&state, &connection, &headers, loopback_is_local)
        };
        api = api.merge(admin::router()).route("/metrics", get(metrics));
    }
    let api = api
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), operations::measure))
        .layer(axum::middleware::from_fn_with_state(state.clone(), operations::outage_is_unavailable))
        // Protocol and admin responses carry client data and are never cached.
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    let router = Router::new().merge(api);
    let router = if surface.protocol_only {
        router.fallback(|| async { WireError::not_found("resource").into_response() })
    } else {
        let browser_https = surface.browser_https();
        router
            .merge(console::router(&state, surface))
            .fallback(move |State(state): State<ServerState>, request: Request| not_found(state, browser_https, request))
    };
    let router = if surface.behind_proxy() { router.layer(axum::middleware::from_fn(forget_proxy_address)) } else { router };
    router
        // No response of any kind is to be read as another type than it says.
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Behind a proxy every connection is the proxy's: its address is no caller's. Counted, one
/// outsider would use up every caller's allowance (registrations, tokens, console sign-ins);
/// recorded, it would name the proxy as every caller. So the request goes on without one, as
/// a request made inside the server does, and the proxy is the place for per-caller limits.
async fn forget_proxy_address(mut request: Request, next: axum::middleware::Next) -> Response {
    if let Some(connection) = request.extensions_mut().get_mut::<Connection>() {
        connection.remote_addr = None;
    }
    next.run(request).await
}

/// POST `{path}`, and GET, PUT, DELETE `{path}/{client_id}`, under every workspace.
fn registration_routes<E: Endpoint>(path: &str) -> Router<ServerState> {
    Router::new().route(&format!("/{{tenant}}/{{workspace}}/{path}"), post(registration::post::<E>)).route(
        &format!("/{{tenant}}/{{workspace}}/{path}/{{client_id}}"),
        get(registration::get::<E>).put(registration::put::<E>).delete(registration::delete::<E>),
    )
}

/// Nothing here: under `/app` the console's not-found page, elsewhere a JSON 404.
async fn not_found(state: ServerState, browser_https: bool, request: Request) -> Response {
    if request.uri().path().starts_with("/app/") {
        return console::not_found_page(state, browser_https, request).await;
    }
    WireError::not_found("resource").into_response()
}

async fn method_not_allowed() -> WireError {
    WireError::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, "invalid_request", "this method is not allowed here")
}
