//! TLS for the protocol listener: rustls with TLS 1.3, and TLS 1.2 only with the ECDHE-RSA
//! AES-GCM suites FAPI 1 allows (Part 2 §8.5); a client certificate is asked for but never
//! required. Which certificates a workspace accepts is decided per request ([`client_trust`]).

pub mod client_trust;
pub mod dev_certificates;
mod verifier;

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{CipherSuite, ServerConfig, SupportedCipherSuite};

/// TLS 1.2 suites FAPI 1 Part 1 §7.1 permits that rustls implements.
const FAPI_TLS12_SUITES: [CipherSuite; 2] =
    [CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384];

/// The process's crypto provider, limited to the FAPI cipher suites.
pub fn provider() -> Arc<CryptoProvider> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.cipher_suites.retain(|suite| match suite {
        SupportedCipherSuite::Tls13(_) => true,
        SupportedCipherSuite::Tls12(suite) => FAPI_TLS12_SUITES.contains(&suite.common.suite),
    });
    Arc::new(provider)
}

/// The listener's configuration: the given certificate chain and key, a client certificate
/// asked for and proven (the handshake signature is checked) but not judged here.
pub fn server_config(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<ServerConfig, rustls::Error> {
    let provider = provider();
    let verifier = Arc::new(verifier::AskForClientCertificate::new(provider.clone()));
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
