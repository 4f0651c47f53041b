//! The client side: one HTTP client per peer, trusting only that peer's pinned keys.

use std::sync::Arc;
use std::time::Duration;

use puente_common::CountryCode;
use reqwest::{RequestBuilder, Url};
use rustls::client::Resumption;
use rustls::ClientConfig;

use super::cert::TlsIdentity;
use super::pin::PinSet;
use super::verify::PinnedServerVerifier;
use super::{TransportError, CONNECT_TIMEOUT, REQUEST_TIMEOUT};

/// Idle keep-alive connections are closed after this long, so a pin dropped from the set
/// soon stops being used by old connections too.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Client timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect plus TLS handshake.
    pub connect: Duration,
    /// The whole request, until the response body is read.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: CONNECT_TIMEOUT,
            request: REQUEST_TIMEOUT,
        }
    }
}

/// A TLS 1.3-only client configuration (rustls, ring) presenting `identity`, accepting only a
/// server whose key is pinned in `pins` for `member`. No 0-RTT, no resumption, ALPN `http/1.1`.
pub fn client_config(
    identity: &TlsIdentity,
    member: CountryCode,
    pins: PinSet,
) -> Result<ClientConfig, TransportError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(PinnedServerVerifier::new(
        member,
        pins,
        provider.signature_verification_algorithms,
    ));
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(identity.cert_chain().to_vec(), identity.key())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.resumption = Resumption::disabled();
    config.enable_early_data = false;
    Ok(config)
}

/// An HTTP client for talking to `member` only: [`client_config`], HTTPS only, HTTP/1.1, no
/// redirects, no proxy (environment variables are ignored), the given timeouts.
pub fn client(
    identity: &TlsIdentity,
    member: CountryCode,
    pins: PinSet,
    timeouts: Timeouts,
) -> Result<reqwest::Client, TransportError> {
    let tls = client_config(identity, member, pins)?;
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .https_only(true)
        .http1_only()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .referer(false)
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.request)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .user_agent(concat!("puente/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// A peer as the delivery code sees it: its id, its endpoint and a client that reaches it.
///
/// The client checks server keys against the shared [`PinSet`] at every new connection, so a
/// new manifest that changes the peer's pins needs only [`PinSet::replace`]; build a new
/// `PeerClient` when the peer's endpoint changes.
#[derive(Debug, Clone)]
pub struct PeerClient {
    pub member: CountryCode,
    /// The endpoint from the manifest, e.g. `https://127.0.0.2:7443`.
    pub base_url: Url,
    pub client: reqwest::Client,
}

impl PeerClient {
    pub fn new(
        member: CountryCode,
        endpoint: &str,
        identity: &TlsIdentity,
        pins: PinSet,
        timeouts: Timeouts,
    ) -> Result<Self, TransportError> {
        Ok(Self {
            member,
            base_url: parse_endpoint(endpoint)?,
            client: client(identity, member, pins, timeouts)?,
        })
    }

    /// The URL of `path` (e.g. `/federation/v1/inbox`, no query) under the endpoint; a path
    /// prefix in the endpoint is kept.
    pub fn url(&self, path: &str) -> Url {
        let mut url = self.base_url.clone();
        let joined = format!(
            "{}/{}",
            url.path().trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        url.set_path(&joined);
        url
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path))
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.url(path))
    }
}

/// An endpoint is `https://host[:port][/path]`: no credentials, query or fragment.
fn parse_endpoint(endpoint: &str) -> Result<Url, TransportError> {
    let bad = || TransportError::InvalidEndpoint(endpoint.to_owned());
    let url = Url::parse(endpoint).map_err(|_| bad())?;
    let ok = url.scheme() == "https"
        && url.host().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none();
    if ok {
        Ok(url)
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn endpoints_must_be_plain_https() {
        assert!(parse_endpoint("https://127.0.0.2:7443").is_ok());
        assert!(parse_endpoint("https://gtm.example/puente/").is_ok());
        for bad in [
            "http://127.0.0.2:7443",
            "https://user:pw@gtm.example",
            "https://gtm.example/?a=1",
            "https://gtm.example/#x",
            "gtm.example",
        ] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_keep_the_endpoint_path_prefix() {
        let member: CountryCode = "HND".parse().unwrap();
        let g = crate::transport::generate_tls_identity(member, &[]).unwrap();
        let id = g.identity().unwrap();
        let plain = PeerClient::new(
            member,
            "https://127.0.0.2:7443",
            &id,
            PinSet::new(),
            Timeouts::default(),
        )
        .unwrap();
        assert_eq!(
            plain.url("/federation/v1/inbox").as_str(),
            "https://127.0.0.2:7443/federation/v1/inbox"
        );
        let prefixed = PeerClient::new(
            member,
            "https://hnd.example/puente/",
            &id,
            PinSet::new(),
            Timeouts::default(),
        )
        .unwrap();
        assert_eq!(
            prefixed.url("/federation/v1/heads").as_str(),
            "https://hnd.example/puente/federation/v1/heads"
        );
    }
}
