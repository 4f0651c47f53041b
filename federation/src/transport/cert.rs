//! A node's TLS identity: certificate chain and private key.

use std::fmt;

use puente_common::CountryCode;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use zeroize::Zeroizing;

use super::pin::spki_pin;
use super::TransportError;

/// The certificate chain (leaf first; normally one self-signed certificate) and private key a
/// node presents on both sides of mutual TLS. The key is checked to belong to the certificate.
pub struct TlsIdentity {
    cert_chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    pin: String,
}

impl TlsIdentity {
    pub fn new(
        cert_chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, TransportError> {
        let leaf = cert_chain.first().ok_or(TransportError::NoCertificate)?;
        let pin = spki_pin(leaf)?;
        let provider = rustls::crypto::ring::default_provider();
        rustls::sign::CertifiedKey::from_der(cert_chain.clone(), key.clone_key(), &provider)
            .map_err(|e| match e {
                rustls::Error::InconsistentKeys(_) => TransportError::KeyMismatch,
                other => TransportError::InvalidKey(other.to_string()),
            })?;
        Ok(Self {
            cert_chain,
            key,
            pin,
        })
    }

    /// From PEM text: one or more `CERTIFICATE` blocks (leaf first) and one private key
    /// (PKCS#8, SEC1 or PKCS#1).
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, TransportError> {
        let cert_chain = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TransportError::InvalidCertificate(e.to_string()))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|e| TransportError::InvalidKey(e.to_string()))?;
        Self::new(cert_chain, key)
    }

    /// The chain, leaf first.
    pub fn cert_chain(&self) -> &[CertificateDer<'static>] {
        &self.cert_chain
    }

    /// The pin of this identity's key, as the manifest lists it.
    pub fn pin(&self) -> &str {
        &self.pin
    }

    pub(crate) fn key(&self) -> PrivateKeyDer<'static> {
        self.key.clone_key()
    }
}

impl Clone for TlsIdentity {
    fn clone(&self) -> Self {
        Self {
            cert_chain: self.cert_chain.clone(),
            key: self.key.clone_key(),
            pin: self.pin.clone(),
        }
    }
}

impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("pin", &self.pin)
            .field("chain_len", &self.cert_chain.len())
            .finish_non_exhaustive()
    }
}

/// A freshly generated TLS identity, as PEM text ready to be written to files.
pub struct GeneratedTlsIdentity {
    pub cert_pem: String,
    /// PKCS#8 PEM of the private key; write it with owner-only permissions.
    pub key_pem: Zeroizing<String>,
    /// The pin to publish in the manifest.
    pub pin: String,
}

impl GeneratedTlsIdentity {
    /// The identity, ready for [`server_config`](super::server_config) and
    /// [`PeerClient::new`](super::PeerClient::new).
    pub fn identity(&self) -> Result<TlsIdentity, TransportError> {
        TlsIdentity::from_pem(&self.cert_pem, &self.key_pem)
    }
}

impl fmt::Debug for GeneratedTlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedTlsIdentity")
            .field("pin", &self.pin)
            .finish_non_exhaustive()
    }
}

/// Generates a self-signed ECDSA P-256 certificate for `member`'s federation listener and
/// client, with `names` (host names or IP addresses, e.g. `127.0.0.2`) as subject alternative
/// names. Peers trust the key through its pin, not through names or dates, so the certificate
/// is valid from 2000-01-01 to 9999-12-31 (RFC 5280's "no well-defined expiration"); the key is
/// replaced by rotation in the manifest.
pub fn generate_tls_identity(
    member: CountryCode,
    names: &[String],
) -> Result<GeneratedTlsIdentity, TransportError> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(names.to_vec())?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::OrganizationName, "Puente");
    dn.push(
        rcgen::DnType::CommonName,
        format!("Puente federation node {member}"),
    );
    params.distinguished_name = dn;
    params.not_before = rcgen::date_time_ymd(2000, 1, 1);
    params.not_after = rcgen::date_time_ymd(9999, 12, 31);
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let cert = params.self_signed(&key)?;
    let pin = spki_pin(cert.der())?;
    Ok(GeneratedTlsIdentity {
        cert_pem: cert.pem(),
        key_pem: Zeroizing::new(key.serialize_pem()),
        pin,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine as _;
    use sha2::{Digest, Sha256};

    #[test]
    fn the_pin_is_the_sha256_of_the_key_spki() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let expected = B64.encode(Sha256::digest(key.public_key_der()));
        assert_eq!(spki_pin(cert.der()).unwrap(), expected);
    }

    #[test]
    fn a_generated_identity_loads_and_keeps_its_pin() {
        let member = "GTM".parse().unwrap();
        let generated =
            generate_tls_identity(member, &["127.0.0.2".to_owned(), "gtm.example".to_owned()])
                .unwrap();
        let identity = generated.identity().unwrap();
        assert_eq!(identity.pin(), generated.pin);
        assert!(!format!("{generated:?}").contains("PRIVATE"));
    }

    #[test]
    fn a_key_of_another_certificate_is_refused() {
        let member = "GTM".parse().unwrap();
        let a = generate_tls_identity(member, &[]).unwrap();
        let b = generate_tls_identity(member, &[]).unwrap();
        assert!(matches!(
            TlsIdentity::from_pem(&a.cert_pem, &b.key_pem),
            Err(TransportError::KeyMismatch)
        ));
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(spki_pin(b"not a certificate").is_err());
    }
}
