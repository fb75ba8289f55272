//! The TPP's end of the wire during a measured run: each worker keeps one HTTP/1.1 connection
//! over mutual TLS and sends its requests on it, one after another, as `wrk` does for the peer.
//! Made with hyper directly: on a 2-core machine every cycle the generator spends is one the
//! server under test does not get, and a pooled client's per-request work (URL parsing, the
//! pool's locks, its header handling) is not part of what is measured.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use axum::body::Bytes;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use axum::http::{HeaderValue, Method, Request};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

/// The server's HTTPS listener (on 127.0.0.1, named `localhost` in its certificate), and the
/// TPP's TLS configuration with its client certificate.
#[derive(Clone)]
pub struct Endpoint {
    tls: TlsConnector,
    port: u16,
    host: HeaderValue,
}

impl Endpoint {
    pub fn new(tls: rustls::ClientConfig, port: u16) -> anyhow::Result<Self> {
        let host = HeaderValue::try_from(format!("localhost:{port}"))?;
        Ok(Self { tls: TlsConnector::from(Arc::new(tls)), port, host })
    }
}

/// A request of a run: the body (if any) is the only part that changes.
#[derive(Clone)]
pub enum Shape {
    /// POST the next body of a pool (each used once).
    Post { path: String, content_type: &'static str },
    /// GET with a bearer token: `authorization` is the whole header, made once for the run.
    Get { path: String, authorization: HeaderValue },
}

/// One kept-alive connection.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    pub async fn open(endpoint: &Endpoint) -> anyhow::Result<Self> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", endpoint.port)).await?;
        tcp.set_nodelay(true)?;
        let tls = endpoint.tls.connect(ServerName::try_from("localhost")?, tcp).await.context("TLS handshake")?;
        let (sender, connection) = http1::handshake(TokioIo::new(tls)).await?;
        tokio::spawn(connection);
        Ok(Self { sender })
    }

    /// Sends one request of `shape` (with `body` for a POST) and reads the whole answer;
    /// whether it was a success.
    pub async fn send(&mut self, endpoint: &Endpoint, shape: &Shape, body: Option<Bytes>) -> anyhow::Result<bool> {
        let host = endpoint.host.clone();
        let request = match shape {
            Shape::Post { path, content_type } => Request::builder()
                .method(Method::POST)
                .uri(path.as_str())
                .header(HOST, host)
                .header(CONTENT_TYPE, *content_type)
                .body(Full::new(body.unwrap_or_default()))?,
            Shape::Get { path, authorization } => Request::builder()
                .method(Method::GET)
                .uri(path.as_str())
                .header(HOST, host)
                .header(AUTHORIZATION, authorization.clone())
                .body(Full::new(Bytes::new()))?,
        };
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let answered = response.into_body().collect().await;
        if answered.is_err() {
            bail!("the answer's body broke off");
        }
        Ok(status.is_success())
    }
}
