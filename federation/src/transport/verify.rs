//! Certificate verifiers that trust a key by its pin, not by a certificate authority.
//!
//! The pin is checked against the same end-entity certificate whose key then verifies the
//! TLS 1.3 handshake signature (CertificateVerify), so a peer passes only by holding the private
//! key of a pinned public key. Names, dates and chains are deliberately ignored.

use puente_common::CountryCode;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error, PeerIncompatible,
    SignatureScheme,
};

use super::pin::{spki_pin, PinSet};

fn pin_of(cert: &CertificateDer<'_>) -> Result<String, Error> {
    spki_pin(cert).map_err(|_| Error::InvalidCertificate(CertificateError::BadEncoding))
}

fn not_pinned() -> Error {
    Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure)
}

/// Server side: a client certificate is required and accepted only if its key is in the set.
#[derive(Debug)]
pub(crate) struct PinnedClientVerifier {
    pins: PinSet,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedClientVerifier {
    pub(crate) fn new(pins: PinSet, algorithms: WebPkiSupportedAlgorithms) -> Self {
        Self { pins, algorithms }
    }
}

impl ClientCertVerifier for PinnedClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let pin = pin_of(end_entity)?;
        if self.pins.member_of(&pin).is_some() {
            Ok(ClientCertVerified::assertion())
        } else {
            tracing::debug!(%pin, "federation client certificate refused: key not pinned");
            Err(not_pinned())
        }
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        // The configuration offers TLS 1.3 only; this is never reached.
        Err(Error::PeerIncompatible(
            PeerIncompatible::SupportedVersionsExtensionRequired,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Client side: the server certificate is accepted only if its key is pinned for the member
/// being contacted; a key pinned for another member is refused like an unknown one.
#[derive(Debug)]
pub(crate) struct PinnedServerVerifier {
    member: CountryCode,
    pins: PinSet,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedServerVerifier {
    pub(crate) fn new(
        member: CountryCode,
        pins: PinSet,
        algorithms: WebPkiSupportedAlgorithms,
    ) -> Self {
        Self {
            member,
            pins,
            algorithms,
        }
    }
}

impl ServerCertVerifier for PinnedServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let pin = pin_of(end_entity)?;
        if self.pins.member_of(&pin) == Some(self.member) {
            Ok(ServerCertVerified::assertion())
        } else {
            tracing::debug!(peer = %self.member, %pin, "federation server certificate refused: key not pinned for this peer");
            Err(not_pinned())
        }
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        // The configuration offers TLS 1.3 only; this is never reached.
        Err(Error::PeerIncompatible(
            PeerIncompatible::SupportedVersionsExtensionRequired,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
