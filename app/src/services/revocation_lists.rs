//! What a workspace's revocation lists say now, for the console: each list's issuer, size and
//! next update (or why it cannot be had), and the trusted CAs no list is of.

use x509_parser::prelude::{FromDer as _, X509Certificate};

use super::ServiceError;
use super::workspaces::get_workspace;
use crate::domain::ids::WorkspaceRef;
use crate::domain::revocation::{RevocationListFacts, RevocationListReport, RevocationReport};
use crate::state::AppState;

pub async fn report(state: &AppState, at: &WorkspaceRef) -> Result<RevocationReport, ServiceError> {
    let workspace = get_workspace(state, at).await?;
    let uris = &workspace.settings.client_crl_uris;
    let pem = workspace.settings.trusted_client_ca_pem.as_deref().unwrap_or_default();
    let now = state.clock.now();
    let mut lists = Vec::with_capacity(uris.len());
    let mut issuers = Vec::with_capacity(uris.len());
    for uri in uris {
        let fetched = state.crls.list_at(uri, Some(pem)).await;
        let facts = fetched
            .map(|list| {
                issuers.push(list.issuer_der().to_vec());
                RevocationListFacts {
                    issuer: list.issuer().to_owned(),
                    next_update: list.next_update().format("%Y-%m-%d %H:%M UTC").to_string(),
                    revoked: list.revoked(),
                    stale: list.next_update() <= now,
                }
            })
            .map_err(|error| error.to_string());
        lists.push(RevocationListReport { uri: uri.clone(), state: facts });
    }
    let uncovered_cas = if uris.is_empty() { Vec::new() } else { uncovered_cas(pem, &issuers) };
    Ok(RevocationReport { lists, uncovered_cas, sandbox_uncovered: !uris.is_empty() && workspace.dcr.trust_sandbox_directory })
}

/// The subjects of the CA certificates in `pem` whose name no list's issuer is, byte for byte
/// as rustls-webpki compares them.
fn uncovered_cas(pem: &str, list_issuers: &[Vec<u8>]) -> Vec<String> {
    x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes())
        .filter_map(Result::ok)
        .filter_map(|block| {
            let (_, certificate) = X509Certificate::from_der(&block.contents).ok()?;
            let subject = certificate.subject();
            (!list_issuers.iter().any(|issuer| issuer.as_slice() == subject.as_raw())).then(|| subject.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

    use super::*;

    fn ca(name: &str) -> (String, Vec<u8>) {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap_or_else(|e| panic!("{e}"));
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let certificate = params.self_signed(&key).unwrap_or_else(|e| panic!("{e}"));
        let (_, parsed) = X509Certificate::from_der(certificate.der()).unwrap_or_else(|e| panic!("{e}"));
        (certificate.pem(), parsed.subject().as_raw().to_vec())
    }

    #[test]
    fn a_trusted_ca_is_uncovered_until_a_list_of_its_name_is_had() {
        let (issuing, issuing_name) = ca("Issuing CA");
        let (root, _) = ca("Root CA");
        let bundle = format!("{issuing}{root}");
        assert_eq!(uncovered_cas(&bundle, &[]), ["CN=Issuing CA", "CN=Root CA"]);
        assert_eq!(uncovered_cas(&bundle, &[issuing_name]), ["CN=Root CA"]);
        assert!(uncovered_cas("", &[]).is_empty());
    }
}
