//! A node's signing identity and domain-separated Ed25519 signatures.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use puente_common::CountryCode;
use serde::{Deserialize, Serialize};

/// What a signature is for. The prefix is signed before the message, so a signature over an
/// audit checkpoint can never be replayed as an envelope, an ack or a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureContext {
    Envelope,
    Ack,
    Manifest,
    KeyDocument,
    AuditCheckpoint,
    /// The daily seal of the federation evidence log (signed root: head hash + through seq).
    EvidenceSeal,
}

impl SignatureContext {
    /// The context prefix, as specified in docs/protocol.md.
    pub fn prefix(self) -> &'static [u8] {
        match self {
            SignatureContext::Envelope => b"puente/1 envelope\n",
            SignatureContext::Ack => b"puente/1 ack\n",
            SignatureContext::Manifest => b"puente/1 manifest\n",
            SignatureContext::KeyDocument => b"puente/1 key\n",
            SignatureContext::AuditCheckpoint => b"puente/1 audit-checkpoint\n",
            SignatureContext::EvidenceSeal => b"puente/1 evidence-seal\n",
        }
    }

    /// The exact bytes that are signed: the prefix followed by `message`.
    pub fn input(self, message: &[u8]) -> Vec<u8> {
        let mut input = Vec::with_capacity(self.prefix().len() + message.len());
        input.extend_from_slice(self.prefix());
        input.extend_from_slice(message);
        input
    }
}

/// A key id such as `GTM-2026a`: the owner, the year the key was made, and a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

/// Why a string is not a key id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key id must look like GTM-2026a, got {0:?}")]
pub struct InvalidKeyId(pub String);

impl KeyId {
    /// The first key id of a node for a year: `GTM-2026a`.
    pub fn first(owner: CountryCode, year: i32) -> Self {
        KeyId(format!("{owner}-{year:04}a"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the key id names `owner` before its `-` (`GTM-2026a` is owned by `GTM`).
    pub fn is_owned_by(&self, owner: CountryCode) -> bool {
        self.0.split_once('-').map(|(o, _)| o) == Some(owner.as_str())
    }
}

impl FromStr for KeyId {
    type Err = InvalidKeyId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidKeyId(s.to_owned());
        let (owner, rest) = s.split_once('-').ok_or_else(bad)?;
        owner.parse::<CountryCode>().map_err(|_| bad())?;
        let ok = rest.len() == 5
            && rest.as_bytes()[..4].iter().all(u8::is_ascii_digit)
            && rest.as_bytes()[4].is_ascii_lowercase();
        if ok {
            Ok(KeyId(s.to_owned()))
        } else {
            Err(bad())
        }
    }
}

impl TryFrom<String> for KeyId {
    type Error = InvalidKeyId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<KeyId> for String {
    fn from(k: KeyId) -> Self {
        k.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a signature or key was refused.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("signature is not valid base64 of 64 bytes")]
    MalformedSignature,
    #[error("public key is not valid base64 of 32 bytes")]
    MalformedKey,
    #[error("signature does not verify")]
    BadSignature,
    #[error("private key file is not a PKCS#8 Ed25519 key")]
    MalformedPrivateKey,
}

/// A node's signing key and its id. `Debug` never shows the key.
pub struct SigningIdentity {
    key_id: KeyId,
    key: SigningKey,
}

impl fmt::Debug for SigningIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningIdentity")
            .field("key_id", &self.key_id)
            .field("public_key", &self.public_key_b64())
            .finish_non_exhaustive()
    }
}

impl SigningIdentity {
    /// A fresh key from the operating system's random source.
    pub fn generate(key_id: KeyId) -> Self {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        SigningIdentity { key_id, key }
    }

    /// A key from its 32-byte Ed25519 seed (RFC 8032 "secret key"). Meant for test vectors and
    /// tests with fixed keys; real keys come from [`SigningIdentity::generate`].
    pub fn from_seed(key_id: KeyId, seed: &[u8; 32]) -> Self {
        SigningIdentity {
            key_id,
            key: SigningKey::from_bytes(seed),
        }
    }

    /// Reads a PKCS#8 PEM private key.
    pub fn from_pkcs8_pem(key_id: KeyId, pem: &str) -> Result<Self, VerifyError> {
        let key = SigningKey::from_pkcs8_pem(pem).map_err(|_| VerifyError::MalformedPrivateKey)?;
        Ok(SigningIdentity { key_id, key })
    }

    /// The private key as PKCS#8 PEM, for the key file (zeroised when dropped).
    pub fn to_pkcs8_pem(&self) -> Result<zeroize::Zeroizing<String>, VerifyError> {
        self.key
            .to_pkcs8_pem(Default::default())
            .map_err(|_| VerifyError::MalformedPrivateKey)
    }

    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// The 32-byte Ed25519 seed, from which [`crate::seal::SealKeyPair::derive`] derives this
    /// key's seal key. Never leaves the crate.
    pub(crate) fn seed(&self) -> &[u8; 32] {
        self.key.as_bytes()
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The public key, standard base64 of its 32 bytes.
    pub fn public_key_b64(&self) -> String {
        B64.encode(self.key.verifying_key().as_bytes())
    }

    /// Signs `message` under `context`; the signature is standard base64 of 64 bytes.
    pub fn sign(&self, context: SignatureContext, message: &[u8]) -> String {
        B64.encode(self.key.sign(&context.input(message)).to_bytes())
    }
}

/// Decodes a public key: standard base64 of its 32 bytes, a valid Ed25519 point.
pub fn decode_public_key(public_key_b64: &str) -> Result<VerifyingKey, VerifyError> {
    let key_bytes: [u8; 32] = B64
        .decode(public_key_b64)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(VerifyError::MalformedKey)?;
    VerifyingKey::from_bytes(&key_bytes).map_err(|_| VerifyError::MalformedKey)
}

/// Decodes a signature: standard base64 of its 64 bytes.
pub fn decode_signature(signature_b64: &str) -> Result<Signature, VerifyError> {
    let sig_bytes: [u8; 64] = B64
        .decode(signature_b64)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(VerifyError::MalformedSignature)?;
    Ok(Signature::from_bytes(&sig_bytes))
}

/// Verifies a base64 signature over `context` prefix || `message` with `verify_strict`.
pub fn verify_with(
    key: &VerifyingKey,
    context: SignatureContext,
    message: &[u8],
    signature_b64: &str,
) -> Result<(), VerifyError> {
    let sig = decode_signature(signature_b64)?;
    key.verify_strict(&context.input(message), &sig)
        .map_err(|_| VerifyError::BadSignature)
}

/// Verifies a base64 signature made by [`SigningIdentity::sign`] with `verify_strict`.
pub fn verify(
    public_key_b64: &str,
    context: SignatureContext,
    message: &[u8],
    signature_b64: &str,
) -> Result<(), VerifyError> {
    let key = decode_public_key(public_key_b64)?;
    verify_with(&key, context, message, signature_b64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> SigningIdentity {
        SigningIdentity::generate("GTM-2026a".parse().unwrap())
    }

    #[test]
    fn signature_verifies_under_its_own_context_only() {
        let id = identity();
        let sig = id.sign(SignatureContext::AuditCheckpoint, b"head");
        let pk = id.public_key_b64();
        verify(&pk, SignatureContext::AuditCheckpoint, b"head", &sig).unwrap();
        assert!(verify(&pk, SignatureContext::Envelope, b"head", &sig).is_err());
        assert!(verify(&pk, SignatureContext::AuditCheckpoint, b"heae", &sig).is_err());
    }

    #[test]
    fn any_flipped_bit_of_the_signature_fails() {
        let id = identity();
        let sig = B64.decode(id.sign(SignatureContext::Ack, b"m")).unwrap();
        for i in 0..sig.len() * 8 {
            let mut s = sig.clone();
            s[i / 8] ^= 1 << (i % 8);
            let r = verify(
                &id.public_key_b64(),
                SignatureContext::Ack,
                b"m",
                &B64.encode(&s),
            );
            assert!(r.is_err(), "bit {i} flipped still verifies");
        }
    }

    #[test]
    fn pem_round_trip_keeps_the_key() {
        let id = identity();
        let pem = id.to_pkcs8_pem().unwrap();
        let back = SigningIdentity::from_pkcs8_pem(id.key_id().clone(), &pem).unwrap();
        assert_eq!(back.public_key_b64(), id.public_key_b64());
        assert!(!format!("{back:?}").contains(pem.as_str()));
    }

    #[test]
    fn key_ids_parse() {
        assert!("GTM-2026a".parse::<KeyId>().is_ok());
        assert_eq!(
            KeyId::first("HND".parse().unwrap(), 2026).as_str(),
            "HND-2026a"
        );
        for bad in ["GTM2026a", "gtm-2026a", "GTM-26a", "GTM-2026", "GTM-2026A"] {
            assert!(bad.parse::<KeyId>().is_err(), "{bad}");
        }
    }
}
