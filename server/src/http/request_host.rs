//! The host a request was addressed to: HTTP/2 names it in the URI, HTTP/1.1 in `Host`.

use axum::extract::Request;
use axum::http::header;

/// The authority (`host[:port]`) the request was addressed to.
pub(super) fn authority(request: &Request) -> Option<String> {
    match request.uri().authority() {
        Some(authority) => Some(authority.as_str().to_owned()),
        None => request.headers().get(header::HOST)?.to_str().ok().map(str::to_owned),
    }
}

/// The host the request was addressed to (a name lower-cased), if it names a valid one.
pub(super) fn host(request: &Request) -> Option<url::Host<String>> {
    let url = url::Url::parse(&format!("https://{}", authority(request)?)).ok()?;
    url.host().map(|host| host.to_owned())
}

/// Whether `host` is `localhost` or a name under it, which browsers resolve to this machine
/// themselves.
pub(super) fn is_localhost(host: &url::Host<String>) -> bool {
    matches!(host, url::Host::Domain(name) if name == "localhost" || name.ends_with(".localhost"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, host: Option<&str>) -> Request {
        let mut builder = Request::get(uri);
        if let Some(host) = host {
            builder = builder.header(header::HOST, host);
        }
        builder.body(axum::body::Body::empty()).unwrap_or_default()
    }

    #[test]
    fn the_uri_names_the_host_before_the_host_header() {
        let domain = |name: &str| Some(url::Host::Domain(name.to_owned()));
        assert_eq!(host(&request("/app", Some("Console.Bank.Example:8443"))), domain("console.bank.example"));
        assert_eq!(host(&request("https://localhost:8443/app", Some("evil.example"))), domain("localhost"));
        assert_eq!(host(&request("/app", Some("[::1]:3000"))), Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST)));
        assert_eq!(host(&request("/app", None)), None);
        assert_eq!(host(&request("/app", Some("bad host"))), None);
        assert!(is_localhost(&url::Host::Domain("console.localhost".to_owned())));
        assert!(!is_localhost(&url::Host::Domain("localhost.evil.example".to_owned())));
    }
}
