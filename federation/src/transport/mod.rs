//! The federation transport: HTTPS between nodes over mutual TLS, identities by key pin.
//!
//! Every node has a TLS key and a (normally self-signed) certificate, separate from its signing
//! key. The manifest lists, per member, the **pins** of the TLS keys it may use: the standard
//! base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo DER ([`spki_pin`]). There is
//! no certificate authority: a peer is who its key says it is, and a key is only known through
//! the signed manifest. Certificate names and validity dates are not checked; a key leaves
//! the federation when the manifest drops its pin.
//!
//! In reading order:
//!
//! - [`pin`]: [`spki_pin`] and the [`PinSet`], the shared map pin → member that a new
//!   manifest replaces at run time;
//! - [`cert`]: [`TlsIdentity`] (a node's certificate chain and key) and
//!   [`generate_tls_identity`] for `puente init` and the demo;
//! - [`server`]: [`server_config`] (client certificate required, accepted only if pinned) and
//!   [`serve`], the accept loop that hands every request a [`PeerIdentity`];
//! - [`client`]: [`PeerClient`], one HTTP client per peer that accepts only the server keys
//!   pinned for that peer.
//!
//! Everything is rustls with the ring provider, TLS 1.3 only, no 0-RTT and no session
//! resumption (so a pin dropped from the [`PinSet`] stops every new connection at once), HTTP/1.1.

pub mod cert;
pub mod client;
pub mod pin;
pub mod server;
mod verify;

use std::time::Duration;

use puente_common::CountryCode;

pub use cert::{generate_tls_identity, GeneratedTlsIdentity, TlsIdentity};
pub use client::{client, client_config, PeerClient, Timeouts};
pub use pin::{check_pin, spki_pin, PinSet};
pub use server::{serve, server_config, ServerTls};

/// How long a peer has to complete the TLS handshake after connecting.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long [`serve`] waits for requests in flight after shutdown before closing connections.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time to establish a connection (TCP + TLS) to a peer.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time for a whole request to a peer, response body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The authenticated peer of a federation request, put into every request's extensions by
/// [`serve`]: handlers take `axum::Extension<PeerIdentity>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PeerIdentity {
    /// The member whose pinned key the peer's certificate holds.
    pub member: CountryCode,
    /// The pin of that key.
    pub pin: String,
}

/// What can go wrong setting up the transport. Errors of single connections are not here:
/// [`serve`] logs them and goes on; requests fail with `reqwest::Error`.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("not a usable X.509 certificate: {0}")]
    InvalidCertificate(String),
    #[error("no certificate found in the PEM input")]
    NoCertificate,
    #[error("cannot read the TLS private key: {0}")]
    InvalidKey(String),
    #[error("the TLS private key does not belong to the certificate")]
    KeyMismatch,
    #[error("not a TLS pin (standard base64 of a SHA-256 digest): {0:?}")]
    InvalidPin(String),
    #[error("TLS pin {pin} is listed for both {first} and {second}")]
    PinConflict {
        pin: String,
        first: CountryCode,
        second: CountryCode,
    },
    #[error("not a usable federation endpoint (https://host[:port][/path]): {0:?}")]
    InvalidEndpoint(String),
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("certificate generation: {0}")]
    Generate(#[from] rcgen::Error),
}
