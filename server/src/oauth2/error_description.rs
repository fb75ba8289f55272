//! The characters an `error_description` may carry. Descriptions echo what a request sent (a
//! grant type, a parameter name, a scope, a redirect URI), so that part is made to fit rather
//! than sent as it came.

/// RFC 6749 §5.2 (token, introspection and revocation errors): "Values for the
/// `error_description` parameter MUST NOT include characters outside the set %x20-21 / %x23-5B
/// / %x5D-7E", printable ASCII without `"` and `\`. A `"` becomes `'`, a `\` a `/`, anything
/// else outside the set a `?`.
pub fn oauth2(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            ' ' => ' ',
            c if c.is_ascii_graphic() => c,
            _ => '?',
        })
        .collect()
}

/// RFC 7591 §3.2.2 (registration errors): "Human-readable ASCII text". Anything but printable
/// ASCII becomes a `?`.
pub fn registration(text: &str) -> String {
    text.chars().map(|c| if c == ' ' || c.is_ascii_graphic() { c } else { '?' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_errors_keep_to_the_rfc_6749_set() {
        let echoed = oauth2("grant_type '\"x\\é\u{7f}\n' is not supported");
        assert_eq!(echoed, "grant_type ''x/???' is not supported");
        assert!(echoed.bytes().all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5b | 0x5d..=0x7e)));
        let plain = "scope 'accounts' is not registered for this client";
        assert_eq!(oauth2(plain), plain);
    }

    #[test]
    fn registration_errors_are_printable_ascii() {
        assert_eq!(
            registration("redirect_uri 'https://bänk.example/cb\t' is \"invalid\""),
            "redirect_uri 'https://b?nk.example/cb?' is \"invalid\""
        );
    }
}
