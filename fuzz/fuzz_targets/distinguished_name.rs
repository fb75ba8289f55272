//! RFC 4514 distinguished names as registered (`tls_client_auth_subject_dn`) and certificate
//! subjects as presented over mutual TLS: parsing either must not fail any way but an answer,
//! and a subject must match the name Onboard prints for it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rustls::pki_types::CertificateDer;

use app::domain::dn::DistinguishedName;
use onboard::tls::client_trust;

fuzz_target!(|input: &[u8]| {
    if let Ok(text) = std::str::from_utf8(input) {
        let _ = DistinguishedName::parse(text);
    }
    let certificate = CertificateDer::from(input);
    if let (Some(printed), Some(subject)) = (client_trust::subject_dn(&certificate), client_trust::subject_name(&certificate))
        && let Ok(parsed) = DistinguishedName::parse(&printed)
    {
        assert_eq!(parsed, subject, "the printed subject {printed} names another subject");
    }
    let _ = client_trust::certificate_facts(&certificate);
});
