//! The token, introspection and revocation endpoints' form bodies with any `Authorization`
//! header: the first line of the input is the header, the rest the body.

#![no_main]

use libfuzzer_sys::fuzz_target;

use onboard::oauth2::token::{TokenReference, TokenRequest};

fuzz_target!(|input: &[u8]| {
    let (authorization, form) = match input.iter().position(|&b| b == b'\n') {
        Some(end) => (std::str::from_utf8(&input[..end]).ok(), &input[end + 1..]),
        None => (None, input),
    };
    if let Err(error) = TokenRequest::parse(form, authorization) {
        let _ = (error.code(), error.status(), error.to_string());
    }
    let _ = TokenReference::parse(form, authorization);
});
