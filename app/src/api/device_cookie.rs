//! The `onboard_device` cookie: the token a browser is trusted by after a successful sign-in
//! ([`crate::services::accounts::SignInFrom`]). Sent only to the console's server functions
//! (signing in, and checking the current password before a new one), never readable by
//! scripts, never sent by another site's request; it lasts as long as the trust.
//! Over HTTPS it is `__Secure-onboard_device`, which browsers take only from a secure origin,
//! so a cookie planted over plain HTTP cannot pass for it.

#![cfg(feature = "ssr")]

use axum::http::{HeaderMap, HeaderValue, header};

use crate::secrets::Secret;
use crate::services::accounts::DEVICE_TRUST;

const DEVICE_COOKIE: &str = "onboard_device";
const SECURE_DEVICE_COOKIE: &str = "__Secure-onboard_device";
/// The only path the cookie is sent under.
const SERVER_FUNCTIONS_PATH: &str = "/app/fn/";
/// Longer than any token Onboard makes (43 characters); a longer value is not one.
const MAX_TOKEN_LEN: usize = 64;
/// The most tokens of one request looked at (a planted cookie of the same name and path may
/// sit beside the browser's own).
const MAX_TOKENS: usize = 4;

/// Whether browsers reach the console over HTTPS (its own, or a TLS proxy's in front), put into
/// each console request's extensions by the server: the cookie then says `Secure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrowserHttps(pub bool);

fn cookie_name(https: bool) -> &'static str {
    if https { SECURE_DEVICE_COOKIE } else { DEVICE_COOKIE }
}

/// The device tokens a request's cookies carry: each value that plausibly is one, at most
/// [`MAX_TOKENS`].
pub fn presented(headers: &HeaderMap, https: bool) -> Vec<Secret> {
    let name = cookie_name(https);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|cookie| cookie.trim().split_once('='))
        .filter(|(cookie, _)| *cookie == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty() && value.len() <= MAX_TOKEN_LEN)
        .filter(|value| value.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'))
        .take(MAX_TOKENS)
        .map(|value| Secret::from_given(value.to_owned()))
        .collect()
}

/// The `Set-Cookie` value that keeps `token` in the browser for as long as it is trusted.
pub fn set_cookie(token: &Secret, https: bool) -> Option<HeaderValue> {
    let (name, secure) = (cookie_name(https), if https { "; Secure" } else { "" });
    let max_age = DEVICE_TRUST.num_seconds();
    let value =
        format!("{name}={}; Path={SERVER_FUNCTIONS_PATH}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}", token.expose());
    HeaderValue::from_str(&value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookies: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for cookie in cookies {
            headers.append(header::COOKIE, HeaderValue::from_str(cookie).unwrap_or(HeaderValue::from_static("")));
        }
        headers
    }

    #[test]
    fn the_tokens_are_found_among_other_cookies_and_nothing_else_passes_for_one() {
        let (token, planted) = (Secret::generate(), Secret::generate());
        let cookies = format!("a=1; onboard_device={}; b=2; onboard_device={}", planted.expose(), token.expose());
        assert_eq!(presented(&headers(&["onboard_session=abc", &cookies]), false), [planted, token.clone()]);
        for junk in ["onboard_device=", "onboard_device=a b", "x_onboard_device=abc", "onboard_device=%00"] {
            assert_eq!(presented(&headers(&[junk]), false), [], "{junk}");
        }
        assert_eq!(presented(&headers(&[&format!("onboard_device={}", "a".repeat(65))]), false), [], "too long to be one");
        let many = ["onboard_device=abc"; 10].join("; ");
        assert_eq!(presented(&headers(&[&many]), false).len(), MAX_TOKENS);
        // Over HTTPS only the prefixed cookie counts, which a plain-HTTP page cannot set.
        let secure = format!("onboard_device=abc; __Secure-onboard_device={}", token.expose());
        assert_eq!(presented(&headers(&[&secure]), true), [token]);
    }

    #[test]
    fn the_cookie_goes_only_to_server_functions_and_is_secure_over_https() {
        let token = Secret::from_given("token".to_owned());
        let plain = set_cookie(&token, false).unwrap_or(HeaderValue::from_static(""));
        assert_eq!(plain, "onboard_device=token; Path=/app/fn/; Max-Age=2592000; HttpOnly; SameSite=Strict");
        let secure = set_cookie(&token, true).unwrap_or(HeaderValue::from_static(""));
        assert!(
            secure.to_str().is_ok_and(|value| value.starts_with("__Secure-onboard_device=token;") && value.ends_with("; Secure"))
        );
    }
}
