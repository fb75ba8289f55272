//! The headers that protect the console's responses in a browser: none may be framed (no
//! clickjacking of Delete or Rotate), leak its address to another site or be kept in a cache
//! (pages embed client metadata); a page runs scripts only under the Content Security Policy it
//! sent with its nonce (`app::ui::content_policy`), and any other response gets one that allows
//! nothing; over HTTPS at a host name, the browser is told to use nothing but HTTPS there for a
//! year. (`nosniff` is on every response of every listener: [`super::router`].)

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use super::request_host;

/// A response that set no policy of its own (server functions, the bundle, an error) runs
/// nothing and frames nothing.
const DEFAULT_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const ONE_YEAR_HTTPS: &str = "max-age=31536000";

/// The console's browser headers for one request.
#[derive(Debug, Clone, Copy)]
pub(super) struct BrowserHeaders {
    strict_transport: bool,
}

impl BrowserHeaders {
    /// For `request`, on a listener browsers reach over HTTPS (its own TLS, or a proxy's) or
    /// not.
    pub(super) fn for_request(browser_https: bool, request: &Request) -> Self {
        Self { strict_transport: browser_https && named_host(request) }
    }

    /// Adds the headers `headers` lacks (a page's own policy and a download's cache rule stay).
    pub(super) fn apply(self, headers: &mut HeaderMap) {
        let mut set = |name: HeaderName, value: &'static str| {
            headers.entry(name).or_insert(HeaderValue::from_static(value));
        };
        set(header::CONTENT_SECURITY_POLICY, DEFAULT_POLICY);
        set(header::X_FRAME_OPTIONS, "DENY");
        set(header::REFERRER_POLICY, "same-origin");
        set(header::CACHE_CONTROL, "no-store");
        if self.strict_transport {
            set(header::STRICT_TRANSPORT_SECURITY, ONE_YEAR_HTTPS);
        }
    }
}

/// Whether the browser reached the console at a host name it would keep HTTPS-only: not an
/// address (browsers ignore it there) and not `localhost`, where it would hold for every port,
/// the plain listener's at `http://localhost:3000` included.
fn named_host(request: &Request) -> bool {
    request_host::host(request).is_some_and(|host| matches!(host, url::Host::Domain(_)) && !request_host::is_localhost(&host))
}

/// [`BrowserHeaders`] as a router's middleware, on a listener browsers reach over HTTPS or not.
pub(super) async fn add(State(browser_https): State<bool>, request: Request, next: Next) -> Response {
    let headers = BrowserHeaders::for_request(browser_https, &request);
    let mut response = next.run(request).await;
    headers.apply(response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(browser_https: bool, uri: &str, host: &str, before: &[(HeaderName, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in before {
            headers.insert(name, HeaderValue::from_static(value));
        }
        let request = Request::get(uri).header(header::HOST, host).body(axum::body::Body::empty()).unwrap_or_default();
        BrowserHeaders::for_request(browser_https, &request).apply(&mut headers);
        headers
    }

    #[test]
    fn a_response_is_never_framed_or_cached_and_a_pages_own_policy_stays() {
        let headers = applied(false, "/app/login", "127.0.0.1:3000", &[]);
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(headers[header::REFERRER_POLICY], "same-origin");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        assert_eq!(headers[header::CONTENT_SECURITY_POLICY], DEFAULT_POLICY);

        let page = applied(false, "/app/login", "127.0.0.1:3000", &[(header::CONTENT_SECURITY_POLICY, "script-src 'nonce-n'")]);
        assert_eq!(page[header::CONTENT_SECURITY_POLICY], "script-src 'nonce-n'");
    }

    #[test]
    fn https_only_is_asked_for_over_https_at_a_host_name() {
        let hsts = |https, uri, host| applied(https, uri, host, &[]).contains_key(header::STRICT_TRANSPORT_SECURITY);
        assert!(hsts(true, "/app/login", "onboard.bank.example"));
        assert!(hsts(true, "https://onboard.bank.example/app/login", ""), "HTTP/2: the URI's authority");
        assert!(!hsts(false, "/app/login", "onboard.bank.example"), "the plain listener");
        assert!(!hsts(true, "/app/login", "localhost:8443"), "it would hold for http://localhost:3000 too");
        assert!(!hsts(true, "https://localhost:8443/app/login", "onboard.bank.example"), "the URI's authority wins");
        assert!(!hsts(true, "/app/login", "console.localhost"));
        assert!(!hsts(true, "/app/login", "127.0.0.1:8443"), "browsers ignore it for addresses");
        assert!(!hsts(true, "/app/login", "[::1]:8443"));
    }
}
