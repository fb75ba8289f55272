//! The console pages' Content Security Policy. Scripts run only from the console's own origin
//! or inline with this response's nonce (Leptos puts it on the hydration and resource scripts
//! it writes); the WebAssembly module may be compiled; styles, images, fonts and fetches come
//! from the console itself (the icon is a `data:` image); nothing may frame a page, change its
//! base URL, or send a form elsewhere.

/// The policy for a page whose inline scripts carry `nonce`.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
}

/// Sends the policy with the page being rendered, with the nonce Leptos made for it. Without
/// one the page gets none from here, and the server's stricter default (no scripts) applies.
pub fn send_content_security_policy() {
    use axum::http::{HeaderValue, header};
    use leptos::prelude::use_context;

    let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) else {
        return;
    };
    if let Ok(policy) = HeaderValue::from_str(&content_security_policy(&nonce)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, policy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_nonced_inline_scripts_run_and_nothing_frames_a_page() {
        let policy = content_security_policy("abc123");
        let directive =
            |name: &str| policy.split(';').map(str::trim).find(|d| d.split(' ').next() == Some(name)).map(str::to_owned);
        assert_eq!(directive("script-src").as_deref(), Some("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"));
        assert_eq!(directive("frame-ancestors").as_deref(), Some("frame-ancestors 'none'"));
        assert_eq!(directive("default-src").as_deref(), Some("default-src 'none'"));
        assert!(!policy.contains("unsafe-inline") && !policy.contains("'unsafe-eval'"));
    }
}
