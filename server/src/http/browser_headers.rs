//! The headers that protect the console's responses in a browser: none may be framed (no
//! clickjacking of Delete or Rotate), have its type guessed, leak its address to another site
//! or be kept in a cache (pages embed client metadata); a page runs scripts only under the
//! Content Security Policy it sent with its nonce (`app::ui::content_policy`), and any other
//! response gets one that allows nothing; over HTTPS at a public host name, the browser is told
//! to use nothing but HTTPS there for a year.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::Response;

/// A response that set no policy of its own (server functions, the bundle, an error) runs
/// nothing and frames nothing.
const DEFAULT_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const ONE_YEAR_HTTPS: &str = "max-age=31536000";

/// Which of the headers a listener's console responses carry.
#[derive(Debug, Clone, Copy)]
pub(super) struct BrowserHeaders {
    strict_transport: bool,
}

impl BrowserHeaders {
    /// For a console browsers reach over HTTPS (`browser_https`) or not, at `public_url`.
    /// `Strict-Transport-Security` only over HTTPS at a host name other than `localhost`: a
    /// browser keeps it for the host whatever the port, and would refuse the plain listener a
    /// developer reaches at `http://localhost:3000`.
    pub(super) fn new(browser_https: bool, public_url: &str) -> Self {
        let public_name = url::Url::parse(public_url).ok().and_then(|url| match url.host() {
            Some(url::Host::Domain(name)) => Some(name.to_ascii_lowercase()),
            _ => None,
        });
        let named = public_name.is_some_and(|name| name != "localhost" && !name.ends_with(".localhost"));
        Self { strict_transport: browser_https && named }
    }

    /// Adds the headers `headers` lacks (a page's own policy and a download's cache rule stay).
    pub(super) fn apply(self, headers: &mut HeaderMap) {
        let mut set = |name: HeaderName, value: &'static str| {
            headers.entry(name).or_insert(HeaderValue::from_static(value));
        };
        set(header::CONTENT_SECURITY_POLICY, DEFAULT_POLICY);
        set(header::X_FRAME_OPTIONS, "DENY");
        set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
        set(header::REFERRER_POLICY, "same-origin");
        set(header::CACHE_CONTROL, "no-store");
        if self.strict_transport {
            set(header::STRICT_TRANSPORT_SECURITY, ONE_YEAR_HTTPS);
        }
    }
}

/// [`BrowserHeaders::apply`] as a response mapper for a router's layer.
pub(super) async fn add(State(headers): State<BrowserHeaders>, mut response: Response) -> Response {
    headers.apply(response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(browser_https: bool, public_url: &str, before: &[(HeaderName, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in before {
            headers.insert(name, HeaderValue::from_static(value));
        }
        BrowserHeaders::new(browser_https, public_url).apply(&mut headers);
        headers
    }

    #[test]
    fn a_response_is_never_framed_sniffed_or_cached_and_a_pages_own_policy_stays() {
        let headers = applied(false, "http://127.0.0.1:3000", &[]);
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::REFERRER_POLICY], "same-origin");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        assert_eq!(headers[header::CONTENT_SECURITY_POLICY], DEFAULT_POLICY);

        let page = applied(false, "http://127.0.0.1:3000", &[(header::CONTENT_SECURITY_POLICY, "script-src 'nonce-n'")]);
        assert_eq!(page[header::CONTENT_SECURITY_POLICY], "script-src 'nonce-n'");
    }

    #[test]
    fn https_only_is_asked_for_a_public_host_name_over_https() {
        let hsts = |https, url| applied(https, url, &[]).contains_key(header::STRICT_TRANSPORT_SECURITY);
        assert!(hsts(true, "https://onboard.bank.example"));
        assert!(!hsts(false, "https://onboard.bank.example"), "the plain listener");
        assert!(!hsts(true, "https://localhost:8443"), "it would hold for http://localhost:3000 too");
        assert!(!hsts(true, "https://console.localhost"));
        assert!(!hsts(true, "https://127.0.0.1:8443"), "browsers ignore it for addresses");
    }
}
