//! Bearer tokens in the `Authorization` header (RFC 6750 §2.1): the one reading of them for
//! every endpoint that takes one.

/// The token of an `Authorization: Bearer <token>` header: the scheme in any case (RFC 9110
/// §11.1), the token trimmed; `None` for another scheme or an empty token.
pub fn bearer_token(authorization: Option<&str>) -> Option<&str> {
    let (scheme, token) = authorization?.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_token_of_a_bearer_header_and_nothing_else() {
        assert_eq!(bearer_token(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(Some("bearer  abc ")), Some("abc"), "any case, spaces trimmed");
        assert_eq!(bearer_token(Some("BEARER abc")), Some("abc"));
        for refused in [None, Some("Bearer "), Some("Bearer"), Some("Basic abc"), Some("Bearerabc"), Some("")] {
            assert_eq!(bearer_token(refused), None, "{refused:?}");
        }
    }
}
