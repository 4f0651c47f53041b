//! Key pins and the live set of pinned keys.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use puente_common::CountryCode;
use rustls::pki_types::CertificateDer;
use sha2::{Digest, Sha256};

use super::TransportError;

/// The pin of a certificate's key: standard base64 (with padding) of the SHA-256 of the
/// certificate's SubjectPublicKeyInfo DER, outer SEQUENCE included (the HPKP / `openssl
/// x509 -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`
/// value).
pub fn spki_pin(cert_der: &[u8]) -> Result<String, TransportError> {
    let der = CertificateDer::from(cert_der);
    let cert = webpki::EndEntityCert::try_from(&der)
        .map_err(|e| TransportError::InvalidCertificate(e.to_string()))?;
    let spki = cert.subject_public_key_info();
    Ok(B64.encode(Sha256::digest(spki.as_ref())))
}

/// Checks that `pin` has the form of a pin: standard base64 of exactly 32 bytes.
pub fn check_pin(pin: &str) -> Result<(), TransportError> {
    match B64.decode(pin) {
        Ok(digest) if digest.len() == 32 => Ok(()),
        _ => Err(TransportError::InvalidPin(pin.to_owned())),
    }
}

/// The pinned TLS keys of the federation: pin → member. Cheap to clone; all clones share one
/// map, so the server's client-certificate check, [`serve`](super::serve) and every
/// [`PeerClient`](super::PeerClient) see a [`replace`](PinSet::replace) at once, for every
/// new connection, without a restart. Fill it with the pins of the members you will talk to
/// (active ones); a member absent from the set can neither connect nor be connected to.
#[derive(Debug, Clone, Default)]
pub struct PinSet {
    inner: Arc<RwLock<HashMap<String, CountryCode>>>,
}

impl PinSet {
    /// An empty set: nobody is accepted.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set from `(member, pins)` pairs, e.g. the manifest's members and their `tls_pins`.
    pub fn from_members<I, P, S>(members: I) -> Result<Self, TransportError>
    where
        I: IntoIterator<Item = (CountryCode, P)>,
        P: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let set = Self::new();
        set.replace(members)?;
        Ok(set)
    }

    /// Replaces the whole set, e.g. when a new manifest is installed. On error (a malformed pin,
    /// or one pin listed for two members, which would make the peer ambiguous) the set is left
    /// as it was. Connections already established are not touched.
    pub fn replace<I, P, S>(&self, members: I) -> Result<(), TransportError>
    where
        I: IntoIterator<Item = (CountryCode, P)>,
        P: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut map = HashMap::new();
        for (member, pins) in members {
            for pin in pins {
                let pin = pin.as_ref();
                check_pin(pin)?;
                if let Some(first) = map.insert(pin.to_owned(), member) {
                    if first != member {
                        return Err(TransportError::PinConflict {
                            pin: pin.to_owned(),
                            first,
                            second: member,
                        });
                    }
                }
            }
        }
        // A writer that panicked cannot have left a half-written map: the map is swapped whole.
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        *guard = map;
        Ok(())
    }

    /// The member whose key has this pin.
    pub fn member_of(&self, pin: &str) -> Option<CountryCode> {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(pin)
            .copied()
    }

    /// The pins of one member, sorted.
    pub fn pins_of(&self, member: CountryCode) -> Vec<String> {
        let mut pins: Vec<String> = self
            .inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(_, m)| **m == member)
            .map(|(pin, _)| pin.clone())
            .collect();
        pins.sort();
        pins
    }

    /// Number of pins in the set.
    pub fn len(&self) -> usize {
        self.inner.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cc(s: &str) -> CountryCode {
        s.parse().unwrap()
    }

    const PIN_A: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    const PIN_B: &str = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";

    #[test]
    fn replace_swaps_the_whole_set() {
        let set = PinSet::from_members([(cc("GTM"), [PIN_A])]).unwrap();
        let view = set.clone();
        assert_eq!(view.member_of(PIN_A), Some(cc("GTM")));
        set.replace([(cc("HND"), [PIN_B])]).unwrap();
        assert_eq!(view.member_of(PIN_A), None);
        assert_eq!(view.member_of(PIN_B), Some(cc("HND")));
        assert_eq!(view.pins_of(cc("HND")), vec![PIN_B.to_owned()]);
    }

    #[test]
    fn a_pin_of_two_members_is_refused_and_the_set_is_kept() {
        let set = PinSet::from_members([(cc("GTM"), [PIN_A])]).unwrap();
        let err = set
            .replace([(cc("HND"), [PIN_B]), (cc("SLV"), [PIN_B])])
            .unwrap_err();
        assert!(matches!(err, TransportError::PinConflict { .. }));
        assert_eq!(set.member_of(PIN_A), Some(cc("GTM")));
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn malformed_pins_are_refused() {
        for bad in [
            "",
            "abc",
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
            "AAAA",
        ] {
            assert!(check_pin(bad).is_err(), "{bad:?}");
        }
        assert!(check_pin(PIN_A).is_ok());
    }
}
