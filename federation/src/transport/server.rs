//! The federation listener: mutual TLS with pinned client keys, then HTTP/1.1 into an axum
//! router, every request carrying the peer's [`PeerIdentity`].

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::CertificateDer;
use rustls::server::NoServerSessionStorage;
use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::cert::TlsIdentity;
use super::pin::{spki_pin, PinSet};
use super::verify::PinnedClientVerifier;
use super::{PeerIdentity, TransportError, DRAIN_TIMEOUT, HANDSHAKE_TIMEOUT};

/// Time a client has to send the request head once a request has begun.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The server side of the transport: the rustls configuration and the pin set it checks
/// client keys against (the same set [`serve`] names peers from).
#[derive(Debug, Clone)]
pub struct ServerTls {
    config: Arc<ServerConfig>,
    pins: PinSet,
}

impl ServerTls {
    pub fn config(&self) -> Arc<ServerConfig> {
        self.config.clone()
    }

    pub fn pins(&self) -> &PinSet {
        &self.pins
    }
}

/// A TLS 1.3-only server configuration (rustls, ring) presenting `identity`, requiring a client
/// certificate whose key is in `pins`. No 0-RTT, no session resumption (every connection
/// passes the pin check against the set as it is then), ALPN `http/1.1`.
pub fn server_config(identity: &TlsIdentity, pins: PinSet) -> Result<ServerTls, TransportError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(PinnedClientVerifier::new(
        pins.clone(),
        provider.signature_verification_algorithms,
    ));
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(identity.cert_chain().to_vec(), identity.key())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.max_early_data_size = 0;
    config.send_half_rtt_data = false;
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(ServerTls {
        config: Arc::new(config),
        pins,
    })
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting, lets the
/// requests in flight finish (up to [`DRAIN_TIMEOUT`]) and returns.
///
/// Each connection must complete its TLS handshake within [`HANDSHAKE_TIMEOUT`]; a client whose
/// key is not pinned fails the handshake. Every request then carries, in its extensions, the
/// [`PeerIdentity`] of the connection and `ConnectInfo<SocketAddr>`. Failures of single
/// connections are logged at debug level and never stop the loop.
pub async fn serve<F>(listener: TcpListener, tls: ServerTls, router: Router, shutdown: F)
where
    F: Future<Output = ()> + Send,
{
    let acceptor = TlsAcceptor::from(tls.config.clone());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(done) = connections.join_next(), if !connections.is_empty() => {
                if let Err(e) = done {
                    tracing::warn!(error = %e, "federation connection task failed");
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((tcp, addr)) => {
                    connections.spawn(connection(
                        tcp,
                        addr,
                        acceptor.clone(),
                        tls.pins.clone(),
                        router.clone(),
                        stop_rx.clone(),
                    ));
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait a little instead of spinning.
                    tracing::debug!(error = %e, "federation listener: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    drop(listener);
    // Ignored error: no connection is left to tell.
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::debug!(
            open = connections.len(),
            "federation listener: closing connections still open after the drain timeout"
        );
        connections.shutdown().await;
    }
}

/// The peer of an established connection: the member whose pin its leaf certificate has, looked
/// up again now (the set may have changed since the handshake verified it).
fn identify(certs: Option<&[CertificateDer<'static>]>, pins: &PinSet) -> Option<PeerIdentity> {
    let leaf = certs?.first()?;
    let pin = spki_pin(leaf).ok()?;
    let member = pins.member_of(&pin)?;
    Some(PeerIdentity { member, pin })
}

async fn connection(
    tcp: TcpStream,
    addr: SocketAddr,
    acceptor: TlsAcceptor,
    pins: PinSet,
    router: Router,
    mut stop: watch::Receiver<bool>,
) {
    // Best effort: batches are small request/response exchanges.
    let _ = tcp.set_nodelay(true);
    let stream = tokio::select! {
        handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)) => match handshake {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                tracing::debug!(%addr, error = %e, "federation TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%addr, "federation TLS handshake timed out");
                return;
            }
        },
        _ = stop.changed() => return,
    };
    let Some(peer) = identify(stream.get_ref().1.peer_certificates(), &pins) else {
        tracing::debug!(%addr, "federation peer key no longer pinned; connection closed");
        return;
    };
    tracing::debug!(%addr, peer = %peer.member, "federation connection established");
    let service = tower::ServiceBuilder::new()
        .map_request(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(peer.clone());
            req.extensions_mut().insert(ConnectInfo(addr));
            req
        })
        .service(router);
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%addr, error = %e, "federation connection ended with an error");
    }
}
