//! Sealed payloads: HPKE (RFC 9180) to a member's seal key.
//!
//! Suite: base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305, single shot,
//! `info` = [`INFO`]. The sender seals to the destination's current seal key as the manifest
//! lists it ([`crate::Manifest::seal_key`]); the `aad` ([`aad`]) binds the sealed payload to its
//! origin, destination, message kind and referral, so a payload lifted into another envelope
//! does not open.
//!
//! A member's seal key is derived from its Ed25519 signing key, so it needs no key file of its
//! own and rotates with it (same key id, same validity): the X25519 key pair is HPKE
//! `DeriveKeyPair(ikm)` with `ikm = HMAC-SHA256(key = Ed25519 seed, msg = "puente/1 seal key")`
//! ([`SealKeyPair::derive`]).

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use puente_common::CountryCode;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::identity::{KeyId, SigningIdentity};
use crate::manifest::MemberKey;

type Kem = X25519HkdfSha256;
type PrivateKey = <Kem as hpke::Kem>::PrivateKey;
type PublicKey = <Kem as hpke::Kem>::PublicKey;
type EncappedKey = <Kem as hpke::Kem>::EncappedKey;

/// The HPKE `info` of every sealed payload.
pub const INFO: &[u8] = b"puente/1 referral";

/// The HMAC message that derives a seal key from a signing key's seed.
const DERIVATION_LABEL: &[u8] = b"puente/1 seal key";

/// The length of the ChaCha20-Poly1305 tag: a `ct` shorter than this cannot be a ciphertext.
const TAG_LEN: usize = 16;

/// Why a payload could not be sealed or opened. The messages carry no data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The recipient's public key is not standard base64 of 32 bytes, or is a point HPKE
    /// refuses (the shared secret would be all zeros).
    #[error("seal key is not a usable X25519 public key")]
    BadKey,
    /// The payload was sealed to another key than this one.
    #[error("sealed to another key")]
    WrongKey,
    /// `enc` or `ct` is not standard base64 of the right length.
    #[error("sealed payload is malformed")]
    Malformed,
    /// Decryption failed: another key, another `aad`, or a modified `enc` or `ct`.
    #[error("sealed payload does not open")]
    Open,
}

/// A sealed payload: the encapsulated key and the ciphertext (with its tag), standard base64,
/// and the id of the recipient's seal key it was sealed to.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Sealed {
    pub key_id: KeyId,
    /// The HPKE encapsulated key (32 bytes).
    pub enc: String,
    /// The ciphertext followed by the 16-byte tag.
    pub ct: String,
}

/// A node's seal key pair (X25519), derived from one of its signing keys and named by that
/// key's id. `Debug` shows the id and the public key, never the secret.
pub struct SealKeyPair {
    id: KeyId,
    secret: PrivateKey,
    public: PublicKey,
}

impl fmt::Debug for SealKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealKeyPair")
            .field("id", &self.id)
            .field("public_key", &self.public_key_b64())
            .finish_non_exhaustive()
    }
}

impl SealKeyPair {
    /// The seal key pair of `identity`: HPKE `DeriveKeyPair(ikm)` of DHKEM(X25519, HKDF-SHA256)
    /// with `ikm = HMAC-SHA256(key = the Ed25519 seed, msg = "puente/1 seal key")`; its id is
    /// the signing key's id. Deterministic: the same signing key always gives the same seal key.
    pub fn derive(identity: &SigningIdentity) -> SealKeyPair {
        let ikm = seal_ikm(identity.seed());
        let (secret, public) = Kem::derive_keypair(&ikm[..]);
        SealKeyPair {
            id: identity.key_id().clone(),
            secret,
            public,
        }
    }

    /// The key id (that of the signing key it was derived from).
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// The public key, standard base64 of its 32 bytes (what the manifest lists).
    pub fn public_key_b64(&self) -> String {
        B64.encode(self.public.to_bytes())
    }

    /// Opens a payload sealed to this key under `aad`. [`SealError::WrongKey`] if it names
    /// another key, [`SealError::Malformed`] if `enc` or `ct` do not decode,
    /// [`SealError::Open`] if it does not authenticate.
    pub fn open(&self, sealed: &Sealed, aad: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.key_id != self.id {
            return Err(SealError::WrongKey);
        }
        let enc = B64
            .decode(&sealed.enc)
            .ok()
            .and_then(|b| EncappedKey::from_bytes(&b).ok())
            .ok_or(SealError::Malformed)?;
        let ct = B64.decode(&sealed.ct).map_err(|_| SealError::Malformed)?;
        if ct.len() < TAG_LEN {
            return Err(SealError::Malformed);
        }
        hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
            &OpModeR::Base,
            &self.secret,
            &enc,
            INFO,
            &ct,
            aad,
        )
        .map_err(|_| SealError::Open)
    }
}

/// `HMAC-SHA256(key = seed, msg = "puente/1 seal key")`.
fn seal_ikm(seed: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    // HMAC pads a key shorter than the hash's 64-byte block with zeros; padding it here lets
    // the infallible `Mac::new` take it (same result as `new_from_slice(seed)`, tested below).
    let mut block = Zeroizing::new([0u8; 64]);
    block[..32].copy_from_slice(seed);
    let mut mac = <Hmac<Sha256>>::new((&*block).into());
    mac.update(DERIVATION_LABEL);
    let mut ikm = Zeroizing::new([0u8; 32]);
    ikm.copy_from_slice(&mac.finalize().into_bytes());
    ikm
}

/// Seals `plaintext` to the seal key `key` (a member's entry in the manifest) under `aad`,
/// with a fresh ephemeral key from the operating system's random source.
/// [`SealError::BadKey`] if the key is not usable.
pub fn seal(key: &MemberKey, aad: &[u8], plaintext: &[u8]) -> Result<Sealed, SealError> {
    let public = B64
        .decode(&key.public_key)
        .ok()
        .and_then(|b| PublicKey::from_bytes(&b).ok())
        .ok_or(SealError::BadKey)?;
    // Encapsulation fails only for a low-order public key (all-zero shared secret); sealing
    // itself cannot fail for a first message of a fresh context.
    let (enc, ct) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Kem, _>(
        &OpModeS::Base,
        &public,
        INFO,
        plaintext,
        aad,
        &mut rand::rngs::OsRng,
    )
    .map_err(|_| SealError::BadKey)?;
    Ok(Sealed {
        key_id: key.id.clone(),
        enc: B64.encode(enc.to_bytes()),
        ct: B64.encode(ct),
    })
}

/// The additional authenticated data of a sealed payload: the bytes of
/// `"puente/1 seal\n{origin}\n{destination}\n{kind}\n{referral_id}"`.
pub fn aad(
    origin: CountryCode,
    destination: CountryCode,
    kind: &str,
    referral_id: &str,
) -> Vec<u8> {
    format!("puente/1 seal\n{origin}\n{destination}\n{kind}\n{referral_id}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    use chrono::{DateTime, Utc};

    fn identity(id: &str, byte: u8) -> SigningIdentity {
        SigningIdentity::from_seed(id.parse().unwrap(), &[byte; 32])
    }

    fn member_key(pair: &SealKeyPair) -> MemberKey {
        MemberKey {
            id: pair.id().clone(),
            public_key: pair.public_key_b64(),
            valid_from: "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap(),
            valid_until: None,
        }
    }

    fn aad_of(kind: &str) -> Vec<u8> {
        aad(
            "GTM".parse().unwrap(),
            "HND".parse().unwrap(),
            kind,
            "01937a2b-c000-7000-8000-000000000001",
        )
    }

    fn flip(b64: &str, bit: usize) -> String {
        let mut bytes = B64.decode(b64).unwrap();
        bytes[bit / 8] ^= 1 << (bit % 8);
        B64.encode(bytes)
    }

    #[test]
    fn round_trip() {
        let hnd = SealKeyPair::derive(&identity("HND-2026a", 2));
        let aad = aad_of("referral.offer");
        for plaintext in [&b""[..], b"{\"a\":1}", &[7u8; 5000][..]] {
            let sealed = seal(&member_key(&hnd), &aad, plaintext).unwrap();
            assert_eq!(sealed.key_id, *hnd.id());
            assert_eq!(B64.decode(&sealed.enc).unwrap().len(), 32);
            assert_eq!(
                B64.decode(&sealed.ct).unwrap().len(),
                plaintext.len() + TAG_LEN
            );
            assert_eq!(hnd.open(&sealed, &aad).unwrap(), plaintext);
        }
        // A fresh ephemeral key each time.
        let a = seal(&member_key(&hnd), &aad, b"x").unwrap();
        let b = seal(&member_key(&hnd), &aad, b"x").unwrap();
        assert_ne!(a.enc, b.enc);
    }

    #[test]
    fn the_sealed_form_on_the_wire() {
        let hnd = SealKeyPair::derive(&identity("HND-2026a", 2));
        let sealed = seal(&member_key(&hnd), b"", b"x").unwrap();
        let json = serde_json::to_value(&sealed).unwrap();
        assert_eq!(json["key_id"], "HND-2026a");
        let back: Sealed = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, sealed);
        let mut extra = json;
        extra["more"] = serde_json::json!(1);
        assert!(serde_json::from_value::<Sealed>(extra).is_err());
    }

    #[test]
    fn another_nodes_key_does_not_open() {
        let hnd = SealKeyPair::derive(&identity("HND-2026a", 2));
        let slv = SealKeyPair::derive(&identity("SLV-2026a", 3));
        let aad = aad_of("referral.offer");
        let sealed = seal(&member_key(&hnd), &aad, b"secret").unwrap();
        // Named for HND: SLV's key refuses it by id.
        assert_eq!(slv.open(&sealed, &aad), Err(SealError::WrongKey));
        // Even relabelled for SLV, it does not authenticate under SLV's key.
        let relabelled = Sealed {
            key_id: slv.id().clone(),
            ..sealed
        };
        assert_eq!(slv.open(&relabelled, &aad), Err(SealError::Open));
    }

    #[test]
    fn key_id_mismatch_is_wrong_key() {
        let current = identity("HND-2026a", 2);
        let next = identity("HND-2026b", 2); // same seed, other id
        let hnd_a = SealKeyPair::derive(&current);
        let hnd_b = SealKeyPair::derive(&next);
        let sealed = seal(&member_key(&hnd_a), b"aad", b"x").unwrap();
        assert_eq!(hnd_b.open(&sealed, b"aad"), Err(SealError::WrongKey));
        assert_eq!(hnd_a.open(&sealed, b"aad").unwrap(), b"x");
    }

    #[test]
    fn another_aad_does_not_open() {
        let hnd = SealKeyPair::derive(&identity("HND-2026a", 2));
        let sealed = seal(&member_key(&hnd), &aad_of("referral.offer"), b"x").unwrap();
        assert_eq!(
            hnd.open(&sealed, &aad_of("referral.accept")),
            Err(SealError::Open)
        );
        let swapped = aad(
            "HND".parse().unwrap(),
            "GTM".parse().unwrap(),
            "referral.offer",
            "01937a2b-c000-7000-8000-000000000001",
        );
        assert_eq!(hnd.open(&sealed, &swapped), Err(SealError::Open));
        assert_eq!(hnd.open(&sealed, b""), Err(SealError::Open));
    }

    #[test]
    fn any_flipped_bit_of_enc_or_ct_fails() {
        let hnd = SealKeyPair::derive(&identity("HND-2026a", 2));
        let aad = aad_of("referral.update");
        let sealed = seal(&member_key(&hnd), &aad, b"payload").unwrap();
        let ct_bits = B64.decode(&sealed.ct).unwrap().len() * 8;
        for bit in 0..ct_bits {
            let bad = Sealed {
                ct: flip(&sealed.ct, bit),
                ..sealed.clone()
            };
            assert_eq!(hnd.open(&bad, &aad), Err(SealError::Open), "ct bit {bit}");
        }
        for bit in 0..32 * 8 {
            let bad = Sealed {
                enc: flip(&sealed.enc, bit),
                ..sealed.clone()
            };
            assert_eq!(hnd.open(&bad, &aad), Err(SealError::Open), "enc bit {bit}");
        }
    }

    #[test]
    fn malformed_enc_or_ct_and_bad_keys_are_refused() {
        let hnd = SealKeyPair::derive(&identity("HND-2026a", 2));
        let sealed = seal(&member_key(&hnd), b"", b"x").unwrap();
        for (enc, ct) in [
            ("not base64!", sealed.ct.as_str()),
            (&B64.encode([1u8; 31]), sealed.ct.as_str()),
            (sealed.enc.as_str(), "not base64!"),
            (sealed.enc.as_str(), &B64.encode([1u8; 15])),
        ] {
            let bad = Sealed {
                key_id: sealed.key_id.clone(),
                enc: enc.to_owned(),
                ct: ct.to_owned(),
            };
            assert_eq!(hnd.open(&bad, b""), Err(SealError::Malformed));
        }
        for public_key in [
            "",
            "not base64!",
            &B64.encode([9u8; 31]),
            &B64.encode([0u8; 32]),
        ] {
            let key = MemberKey {
                public_key: public_key.to_owned(),
                ..member_key(&hnd)
            };
            assert_eq!(
                seal(&key, b"", b"x"),
                Err(SealError::BadKey),
                "{public_key}"
            );
        }
    }

    #[test]
    fn derivation_is_deterministic_and_differs_per_identity() {
        let a1 = SealKeyPair::derive(&identity("GTM-2026a", 1));
        let a2 = SealKeyPair::derive(&identity("GTM-2026a", 1));
        let b = SealKeyPair::derive(&identity("GTM-2026b", 4));
        assert_eq!(a1.public_key_b64(), a2.public_key_b64());
        assert_eq!(a1.id().as_str(), "GTM-2026a");
        assert_ne!(a1.public_key_b64(), b.public_key_b64());
        // Not the Ed25519 public key.
        assert_ne!(
            a1.public_key_b64(),
            identity("GTM-2026a", 1).public_key_b64()
        );
        // A payload sealed to a1's public key opens with a2 (the same key, derived again).
        let sealed = seal(&member_key(&a1), b"", b"x").unwrap();
        assert_eq!(a2.open(&sealed, b"").unwrap(), b"x");
    }

    #[test]
    fn derivation_known_answer() {
        // Pins the derivation: a seal key the manifest lists must never change under a node
        // whose signing key did not.
        let ikm = seal_ikm(&[1u8; 32]);
        let mut mac = <Hmac<Sha256> as hmac::Mac>::new_from_slice(&[1u8; 32]).unwrap();
        mac.update(b"puente/1 seal key");
        assert_eq!(ikm[..], mac.finalize().into_bytes()[..]);
        let pair = SealKeyPair::derive(&identity("GTM-2026a", 1));
        assert_eq!(pair.public_key_b64(), KNOWN_PUBLIC_KEY);
    }

    #[test]
    fn the_kem_is_rfc_9180_dhkem_x25519_hkdf_sha256() {
        // RFC 9180 A.1.1: DeriveKeyPair(ikmR) of DHKEM(X25519, HKDF-SHA256).
        let ikm_r = hex::decode("6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037")
            .unwrap();
        let (sk, pk) = Kem::derive_keypair(&ikm_r);
        assert_eq!(
            hex::encode(sk.to_bytes()),
            "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8"
        );
        assert_eq!(
            hex::encode(pk.to_bytes()),
            "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d"
        );
    }

    /// The seal key of the Ed25519 seed `[1; 32]`, computed by an independent implementation
    /// of RFC 9180 `DeriveKeyPair` and RFC 7748 X25519 (checked against RFC 9180 A.1.1).
    const KNOWN_PUBLIC_KEY: &str = "M6dEyY7iCm+KkLJ2chSoVvmc+ygXaqo8fJ+0WrIDETY=";

    #[test]
    fn debug_shows_no_secret() {
        let pair = SealKeyPair::derive(&identity("GTM-2026a", 1));
        let debug = format!("{pair:?}");
        let secret = pair.secret.to_bytes();
        assert!(debug.contains("GTM-2026a"));
        assert!(!debug.contains(&B64.encode(secret)));
        assert!(!debug.contains(&hex::encode(secret)));
        assert!(!debug.contains(&format!("{:?}", &secret[..])));
        let seed = [1u8; 32];
        assert!(!debug.contains(&B64.encode(seed)));
        assert!(!debug.contains(&hex::encode(seed)));
    }

    #[test]
    fn aad_is_the_documented_string() {
        assert_eq!(
            aad_of("referral.offer"),
            b"puente/1 seal\nGTM\nHND\nreferral.offer\n01937a2b-c000-7000-8000-000000000001"
        );
    }
}
