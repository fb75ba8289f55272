//! Compact JWS parsing, the header checks, signature verification and a software statement's
//! inspection and verification, over any text. Nothing the fixture's keys did not sign may
//! verify.

#![no_main]

use libfuzzer_sys::fuzz_target;

use onboard::oauth2::jose::CompactJws;
use onboard::oauth2::software_statement;
use onboard_fuzz::{FIXTURE, now};

fuzz_target!(|text: &str| {
    let fixture = &*FIXTURE;
    if let Ok(jws) = CompactJws::parse(text) {
        let _ = (jws.check_header(), jws.kid(), jws.typ(), jws.unverified_claims().len());
        let _ = jws.verify(&fixture.tpp_keys);
    }
    if let Ok(unverified) = software_statement::inspect(text, &fixture.dcr.software_statement_issuers) {
        let _ = software_statement::verify(unverified, &fixture.directory_keys, now(), Some(3600));
    }
});
