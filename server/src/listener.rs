//! Accept loops for the two listeners. Each connection's facts (remote address and, over TLS,
//! the client certificate chain) are attached to every request as a [`Connection`] extension.
//! On shutdown the loops stop accepting and open connections are drained.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// What a handler may know about the connection its request came on.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    pub remote_addr: Option<SocketAddr>,
    /// The client certificate chain, leaf first; `None` without TLS or without a certificate.
    pub client_chain: Option<Arc<[CertificateDer<'static>]>>,
}

/// Serves `router` on `listener`, over TLS when `tls` is given, until `shutdown` fires.
pub async fn serve(listener: TcpListener, tls: Option<Arc<ServerConfig>>, router: Router, mut shutdown: watch::Receiver<bool>) {
    let acceptor = tls.map(TlsAcceptor::from);
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, remote_addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let watcher = graceful.watcher();
        match &acceptor {
            None => {
                let connection = Connection { remote_addr: Some(remote_addr), client_chain: None };
                tokio::spawn(serve_connection(watcher, stream, connection, router));
            }
            // The handshake runs in the connection's own task, so a slow or silent client never
            // holds up the accept loop.
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let client_chain = tls
                                .get_ref()
                                .1
                                .peer_certificates()
                                .map(|chain| chain.iter().map(|c| c.clone().into_owned()).collect::<Vec<_>>().into());
                            let connection = Connection { remote_addr: Some(remote_addr), client_chain };
                            serve_connection(watcher, tls, connection, router).await;
                        }
                        Ok(Err(error)) => tracing::debug!(%error, %remote_addr, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%remote_addr, "TLS handshake timed out"),
                    }
                });
            }
        }
    }
    // Closed before draining: new connections are refused at once (a load balancer moves on)
    // instead of waiting in the backlog for a server that will never accept them.
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open after {DRAIN_TIMEOUT:?}; closing them");
    }
}

async fn serve_connection<S>(watcher: Watcher, stream: S, connection: Connection, router: Router)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = router.map_request(move |mut request: Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(connection.clone());
        request
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let serving = builder.serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service));
    if let Err(error) = watcher.watch(serving.into_owned()).await {
        tracing::debug!(%error, "connection ended with an error");
    }
}
