//! The federation transport on loopback: mutual TLS 1.3 with pinned keys, end to end.
//!
//! Every test generates fresh keys, starts a real listener on 127.0.0.1 port 0 and talks to
//! it with the real client (reqwest) or, to see what fails and where, raw rustls.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::{Extension, Router};
use puente_common::CountryCode;
use puente_federation::transport::{
    client_config, generate_tls_identity, serve, server_config, GeneratedTlsIdentity, PeerClient,
    PeerIdentity, PinSet, Timeouts, TlsIdentity,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{AlertDescription, CertificateError, ClientConfig, DigitallySignedStruct};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;

fn cc(s: &str) -> CountryCode {
    s.parse().unwrap()
}

/// A member with a fresh TLS identity.
struct Member {
    id: CountryCode,
    tls: TlsIdentity,
    generated: GeneratedTlsIdentity,
}

fn member(id: &str) -> Member {
    let id = cc(id);
    let generated = generate_tls_identity(id, &["127.0.0.1".to_owned()]).unwrap();
    Member {
        id,
        tls: generated.identity().unwrap(),
        generated,
    }
}

fn pins_of(members: &[&Member]) -> PinSet {
    PinSet::from_members(members.iter().map(|m| (m.id, [m.tls.pin().to_owned()]))).unwrap()
}

/// A running federation listener: `/whoami` answers `"<member> <pin>"` of the peer, `/slow`
/// answers after 300 ms; `calls` counts handler runs.
struct Server {
    addr: SocketAddr,
    calls: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Server {
    async fn start(me: &Member, pins: PinSet) -> Server {
        let calls = Arc::new(AtomicUsize::new(0));
        let (c1, c2) = (calls.clone(), calls.clone());
        let router = Router::new()
            .route(
                "/whoami",
                get(move |Extension(peer): Extension<PeerIdentity>| async move {
                    c1.fetch_add(1, Ordering::SeqCst);
                    format!("{} {}", peer.member, peer.pin)
                }),
            )
            .route(
                "/slow",
                get(move || async move {
                    c2.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    "done"
                }),
            );
        let tls = server_config(&me.tls, pins).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, tls, router, async {
            let _ = stopped.await;
        }));
        Server {
            addr,
            calls,
            stop: Some(stop),
            task,
        }
    }

    fn endpoint(&self) -> String {
        format!("https://{}", self.addr)
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).unwrap();
        }
        tokio::time::timeout(Duration::from_secs(15), self.task)
            .await
            .expect("serve returns after shutdown")
            .unwrap();
    }
}

fn peer_client(me: &Member, peer: CountryCode, server: &Server, pins: PinSet) -> PeerClient {
    PeerClient::new(peer, &server.endpoint(), &me.tls, pins, Timeouts::default()).unwrap()
}

/// One HTTP/1.1 request over raw rustls, to see exactly where and how a handshake fails.
async fn raw_get(config: ClientConfig, addr: SocketAddr) -> std::io::Result<String> {
    let connector = TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await?;
    let mut tls = connector
        .connect(ServerName::IpAddress(addr.ip().into()), tcp)
        .await?;
    tls.write_all(b"GET /whoami HTTP/1.1\r\nhost: peer\r\nconnection: close\r\n\r\n")
        .await?;
    let mut out = Vec::new();
    tls.read_to_end(&mut out).await?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn tls_error(result: &std::io::Result<String>) -> rustls::Error {
    let e = result.as_ref().expect_err("the connection must fail");
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .unwrap_or_else(|| panic!("not a TLS error: {e:?}"))
        .clone()
}

/// Accepts any server certificate (with a valid TLS 1.3 signature): for the tests where the
/// server's check is what is being tested.
#[derive(Debug)]
struct AnyServer;

impl ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &algorithms())
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &algorithms())
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        algorithms().supported_schemes()
    }
}

fn algorithms() -> rustls::crypto::WebPkiSupportedAlgorithms {
    rustls::crypto::ring::default_provider().signature_verification_algorithms
}

fn any_server_config(
    version: &'static rustls::SupportedProtocolVersion,
) -> rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert> {
    ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[version])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyServer))
}

#[tokio::test]
async fn a_pinned_client_reaches_the_server_and_the_handler_sees_its_identity() {
    let (gtm, hnd) = (member("GTM"), member("HND"));
    let pins = pins_of(&[&gtm, &hnd]);
    let server = Server::start(&gtm, pins.clone()).await;

    let client = peer_client(&hnd, gtm.id, &server, pins.clone());
    let response = client.get("/whoami").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        format!("HND {}", hnd.tls.pin())
    );

    // The same over raw rustls: the client configuration is TLS 1.3 and works on its own.
    let raw = raw_get(client_config(&hnd.tls, gtm.id, pins).unwrap(), server.addr)
        .await
        .unwrap();
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(raw.ends_with(&format!("HND {}", hnd.tls.pin())), "{raw}");
    assert_eq!(server.calls(), 2);
    server.shutdown().await;
}

#[tokio::test]
async fn an_unpinned_client_certificate_is_refused_at_the_handshake() {
    let (gtm, hnd, intruder) = (member("GTM"), member("HND"), member("SLV"));
    let server = Server::start(&gtm, pins_of(&[&gtm, &hnd])).await;
    // The intruder knows the server's pin; the server does not know the intruder's.
    let intruder_pins = pins_of(&[&gtm]);

    let client = peer_client(&intruder, gtm.id, &server, intruder_pins.clone());
    assert!(client.get("/whoami").send().await.is_err());

    let raw = raw_get(
        client_config(&intruder.tls, gtm.id, intruder_pins).unwrap(),
        server.addr,
    )
    .await;
    assert_eq!(
        tls_error(&raw),
        rustls::Error::AlertReceived(AlertDescription::AccessDenied)
    );
    assert_eq!(server.calls(), 0);
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_without_a_certificate_is_refused() {
    let (gtm, hnd) = (member("GTM"), member("HND"));
    let server = Server::start(&gtm, pins_of(&[&gtm, &hnd])).await;

    let config = any_server_config(&rustls::version::TLS13).with_no_client_auth();
    let raw = raw_get(config, server.addr).await;
    assert_eq!(
        tls_error(&raw),
        rustls::Error::AlertReceived(AlertDescription::CertificateRequired)
    );
    assert_eq!(server.calls(), 0);
    server.shutdown().await;
}

#[tokio::test]
async fn a_tls12_only_client_is_refused() {
    let (gtm, hnd) = (member("GTM"), member("HND"));
    let server = Server::start(&gtm, pins_of(&[&gtm, &hnd])).await;

    // A pinned key, but TLS 1.2 only.
    let key = PrivateKeyDer::from_pem_slice(hnd.generated.key_pem.as_bytes()).unwrap();
    let config = any_server_config(&rustls::version::TLS12)
        .with_client_auth_cert(hnd.tls.cert_chain().to_vec(), key)
        .unwrap();
    let raw = raw_get(config, server.addr).await;
    assert_eq!(
        tls_error(&raw),
        rustls::Error::AlertReceived(AlertDescription::ProtocolVersion)
    );
    assert_eq!(server.calls(), 0);
    server.shutdown().await;
}

#[tokio::test]
async fn a_server_whose_key_is_not_pinned_for_the_peer_is_refused_by_the_client() {
    let (gtm, hnd, slv) = (member("GTM"), member("HND"), member("SLV"));
    let server = Server::start(&gtm, pins_of(&[&gtm, &hnd, &slv])).await;

    // HND expects another key for GTM (say, an impostor took GTM's address).
    let other_gtm = member("GTM");
    let wrong_pins = pins_of(&[&other_gtm, &hnd]);
    let client = peer_client(&hnd, gtm.id, &server, wrong_pins.clone());
    assert!(client.get("/whoami").send().await.is_err());
    let raw = raw_get(
        client_config(&hnd.tls, gtm.id, wrong_pins).unwrap(),
        server.addr,
    )
    .await;
    assert_eq!(
        tls_error(&raw),
        rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure)
    );

    // The server's key is pinned, but for GTM: HND contacting "SLV" at that address refuses it.
    let pins = pins_of(&[&gtm, &hnd, &slv]);
    let client = peer_client(&hnd, slv.id, &server, pins.clone());
    assert!(client.get("/whoami").send().await.is_err());
    let raw = raw_get(client_config(&hnd.tls, slv.id, pins).unwrap(), server.addr).await;
    assert_eq!(
        tls_error(&raw),
        rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure)
    );

    assert_eq!(server.calls(), 0);
    server.shutdown().await;
}

#[tokio::test]
async fn a_pin_set_replacement_applies_to_new_connections_without_a_restart() {
    let (gtm, hnd) = (member("GTM"), member("HND"));
    let pins = pins_of(&[&gtm, &hnd]);
    let server = Server::start(&gtm, pins.clone()).await;
    let get = |client: PeerClient| async move {
        client
            .get("/whoami")
            .send()
            .await
            .and_then(|r| r.error_for_status())
    };

    assert!(get(peer_client(&hnd, gtm.id, &server, pins.clone()))
        .await
        .is_ok());

    // A new manifest drops HND: its next connection is refused.
    pins.replace([(gtm.id, [gtm.tls.pin().to_owned()])])
        .unwrap();
    assert!(get(peer_client(&hnd, gtm.id, &server, pins.clone()))
        .await
        .is_err());

    // HND comes back with a rotated key: the new key works, the old one does not.
    let hnd2 = member("HND");
    pins.replace([
        (gtm.id, [gtm.tls.pin().to_owned()]),
        (hnd.id, [hnd2.tls.pin().to_owned()]),
    ])
    .unwrap();
    let response = get(peer_client(&hnd2, gtm.id, &server, pins.clone()))
        .await
        .unwrap();
    assert_eq!(
        response.text().await.unwrap(),
        format!("HND {}", hnd2.tls.pin())
    );
    assert!(get(peer_client(&hnd, gtm.id, &server, pins.clone()))
        .await
        .is_err());

    // The client side reads the same set: GTM's key rotated, the old key is no longer trusted.
    let gtm2 = member("GTM");
    pins.replace([
        (gtm.id, [gtm2.tls.pin().to_owned()]),
        (hnd.id, [hnd2.tls.pin().to_owned()]),
    ])
    .unwrap();
    assert!(get(peer_client(&hnd2, gtm.id, &server, pins.clone()))
        .await
        .is_err());

    assert_eq!(server.calls(), 2);
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_lets_a_request_in_flight_finish() {
    let (gtm, hnd) = (member("GTM"), member("HND"));
    let pins = pins_of(&[&gtm, &hnd]);
    let server = Server::start(&gtm, pins.clone()).await;
    let client = peer_client(&hnd, gtm.id, &server, pins);

    let in_flight = tokio::spawn(async move { client.get("/slow").send().await });
    while server.calls() == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.shutdown().await;
    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "done");
}
