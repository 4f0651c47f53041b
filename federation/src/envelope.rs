//! Envelopes: every message between nodes.
//!
//! An envelope is one JSON object; all members are required and no others are allowed:
//!
//! ```text
//! { "v": 1, "id": "<uuid, lowercase hyphenated>", "origin": "GTM", "destination": "HND",
//!   "channel": "directory", "epoch": 1, "seq": 1, "prev": "<64 hex>",
//!   "kind": "directory.publish", "created_at": "2026-11-30T16:30:00.123456Z",
//!   "manifest_version": 3, "payload": { … }, "key_id": "GTM-2026a", "sig": "<base64>" }
//! ```
//!
//! The signature is Ed25519 over `"puente/1 envelope\n"` followed by the RFC 8785 canonical
//! JSON of the envelope without its `sig` member ([`Envelope::signing_input`]). The wire form
//! is the canonical JSON of the whole envelope ([`Envelope::canonical_bytes`]) and the
//! envelope's hash, which chains the stream through `prev`, is the SHA-256 of those bytes.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use puente_common::CountryCode;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use uuid::Uuid;

use crate::canonical::{
    self, canonical_json, is_hash, parse_strict, sha256_hex, timestamp, to_canonical,
    MAX_SAFE_INTEGER, ZERO_HASH,
};
use crate::identity::{verify_with, KeyId, SignatureContext, SigningIdentity};
use crate::reason::Reason;

/// The largest envelope, in bytes of its canonical form (and of the request text it came in).
pub const MAX_ENVELOPE_BYTES: usize = 256 * 1024;
/// The most envelopes in one inbox request.
pub const MAX_BATCH: usize = 100;
/// The largest inbox request body.
pub const MAX_BATCH_BYTES: usize = 2 * 1024 * 1024;
/// The protocol version, the `v` member of every envelope, ack and manifest.
pub const PROTOCOL_VERSION: u64 = 1;
/// The longest `kind`.
pub const MAX_KIND_LEN: usize = 64;

/// A message channel. Each (origin, destination, channel, epoch) is one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Directory,
    Referral,
    Stats,
    Control,
}

/// Why a string is not a channel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel {0:?} (directory, referral, stats, control)")]
pub struct InvalidChannel(pub String);

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::Directory,
        Channel::Referral,
        Channel::Stats,
        Channel::Control,
    ];

    /// The wire name: `directory`, `referral`, `stats`, `control`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Directory => "directory",
            Channel::Referral => "referral",
            Channel::Stats => "stats",
            Channel::Control => "control",
        }
    }
}

impl FromStr for Channel {
    type Err = InvalidChannel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| InvalidChannel(s.to_owned()))
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An envelope before signing. [`UnsignedEnvelope::sign`] checks it, truncates `created_at`
/// to the microsecond (the wire precision) and signs it.
#[derive(Debug, Clone, PartialEq)]
pub struct UnsignedEnvelope {
    pub id: Uuid,
    pub origin: CountryCode,
    pub destination: CountryCode,
    pub channel: Channel,
    pub epoch: u64,
    pub seq: u64,
    pub prev: String,
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub manifest_version: u64,
    pub payload: Value,
}

/// A signed envelope, as parsed from or sent on the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub id: Uuid,
    pub origin: CountryCode,
    pub destination: CountryCode,
    pub channel: Channel,
    pub epoch: u64,
    pub seq: u64,
    pub prev: String,
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub manifest_version: u64,
    pub payload: Value,
    pub key_id: KeyId,
    pub sig: String,
}

/// An envelope with its wire bytes (canonical JSON) and hash: what the outbox stores and sends.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedEnvelope {
    pub envelope: Envelope,
    pub bytes: Vec<u8>,
    pub hash: String,
}

/// Why an envelope or ack could not be built and signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// A field breaks the schema (the message says which).
    #[error("invalid {object}: {detail}")]
    Invalid {
        object: &'static str,
        detail: String,
    },
    /// The signer's key id names another owner than the origin / sender.
    #[error("key {key_id} does not belong to {owner}")]
    KeyNotOwner { key_id: KeyId, owner: CountryCode },
    /// The signed object is over the size limit.
    #[error("signed object is {size} bytes, over the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
}

/// The wire object, borrowed; `sig: None` gives the signing form.
#[derive(Serialize)]
struct WireRef<'a> {
    v: u64,
    id: &'a Uuid,
    origin: CountryCode,
    destination: CountryCode,
    channel: Channel,
    epoch: u64,
    seq: u64,
    prev: &'a str,
    kind: &'a str,
    created_at: String,
    manifest_version: u64,
    payload: &'a Value,
    key_id: &'a KeyId,
    #[serde(skip_serializing_if = "Option::is_none")]
    sig: Option<&'a str>,
}

/// The wire object, owned, for parsing.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    v: u64,
    id: Uuid,
    origin: CountryCode,
    destination: CountryCode,
    channel: Channel,
    epoch: u64,
    seq: u64,
    prev: String,
    kind: String,
    #[serde(with = "timestamp")]
    created_at: DateTime<Utc>,
    manifest_version: u64,
    payload: Value,
    key_id: KeyId,
    sig: String,
}

impl UnsignedEnvelope {
    /// Checks the envelope against the schema and signs it with `signer`, whose key id must be
    /// owned by `origin` (`GTM-…` for `GTM`); `destination` must differ from `origin`. The result carries the wire bytes and the hash.
    pub fn sign(self, signer: &SigningIdentity) -> Result<SignedEnvelope, EnvelopeError> {
        if !signer.key_id().is_owned_by(self.origin) {
            return Err(EnvelopeError::KeyNotOwner {
                key_id: signer.key_id().clone(),
                owner: self.origin,
            });
        }
        if self.origin == self.destination {
            return Err(EnvelopeError::Invalid {
                object: "envelope",
                detail: "origin and destination are the same".into(),
            });
        }
        let mut envelope = Envelope {
            id: self.id,
            origin: self.origin,
            destination: self.destination,
            channel: self.channel,
            epoch: self.epoch,
            seq: self.seq,
            prev: self.prev,
            kind: self.kind,
            created_at: timestamp::truncate(self.created_at),
            manifest_version: self.manifest_version,
            payload: self.payload,
            key_id: signer.key_id().clone(),
            sig: String::new(),
        };
        envelope
            .check_fields()
            .map_err(|detail| EnvelopeError::Invalid {
                object: "envelope",
                detail,
            })?;
        let unsigned = to_canonical(&envelope.wire(false));
        envelope.sig = signer.sign(SignatureContext::Envelope, &unsigned);
        let bytes = envelope.canonical_bytes();
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(EnvelopeError::TooLarge {
                size: bytes.len(),
                limit: MAX_ENVELOPE_BYTES,
            });
        }
        Ok(SignedEnvelope {
            hash: sha256_hex(&bytes),
            bytes,
            envelope,
        })
    }
}

impl Envelope {
    /// Parses the wire text of one envelope: [`Reason::TooLarge`] over
    /// [`MAX_ENVELOPE_BYTES`], else the checks of [`Envelope::from_value`].
    pub fn parse(bytes: &[u8]) -> Result<Envelope, Reason> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(Reason::TooLarge);
        }
        let value = parse_strict(bytes).map_err(|_| Reason::Malformed)?;
        Envelope::from_value(value)
    }

    /// Schema check of one envelope already parsed as JSON (e.g. from a batch parsed with
    /// [`canonical::parse_strict`]). [`Reason::Malformed`] unless:
    /// - all members present, none other; `v` = 1; numbers are integers in ±(2^53-1);
    /// - `id` a UUID; `origin`, `destination` three capitals; `channel` known;
    ///   `epoch` and `seq` ≥ 1; `prev` 64 lowercase hex, the zero hash when `seq` = 1;
    ///   `kind` = `<channel>.<name>` (`a-z 0-9 _ .`, at most 64 bytes); `created_at` a UTC
    ///   timestamp; `payload` an object; `key_id` like `GTM-2026a` (whether it is the
    ///   origin's is step 5, `unknown_key`); `sig` base64 of 64 bytes;
    /// - the value is already in its single wire form: re-serialising the parsed envelope
    ///   gives the same canonical JSON (so an uppercase UUID, a timestamp with another offset
    ///   or precision, … are refused rather than silently changed).
    ///
    /// [`Reason::TooLarge`] if the canonical form is over [`MAX_ENVELOPE_BYTES`].
    pub fn from_value(value: Value) -> Result<Envelope, Reason> {
        let canonical = canonical_json(&value).map_err(|_| Reason::Malformed)?;
        if canonical.len() > MAX_ENVELOPE_BYTES {
            return Err(Reason::TooLarge);
        }
        let w: Wire = serde_json::from_value(value).map_err(|_| Reason::Malformed)?;
        if w.v != PROTOCOL_VERSION {
            return Err(Reason::Malformed);
        }
        let envelope = Envelope {
            id: w.id,
            origin: w.origin,
            destination: w.destination,
            channel: w.channel,
            epoch: w.epoch,
            seq: w.seq,
            prev: w.prev,
            kind: w.kind,
            created_at: w.created_at,
            manifest_version: w.manifest_version,
            payload: w.payload,
            key_id: w.key_id,
            sig: w.sig,
        };
        envelope.check_fields().map_err(|_| Reason::Malformed)?;
        if envelope.canonical_bytes() != canonical {
            return Err(Reason::Malformed);
        }
        Ok(envelope)
    }

    /// The wire form: RFC 8785 canonical JSON of the whole envelope, `sig` included.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        to_canonical(&self.wire(true))
    }

    /// The envelope hash: lowercase hex SHA-256 of [`Envelope::canonical_bytes`]. The next
    /// envelope of the stream carries it as `prev`.
    pub fn hash(&self) -> String {
        sha256_hex(&self.canonical_bytes())
    }

    /// The bytes the signature is over: `"puente/1 envelope\n"` followed by the RFC 8785
    /// canonical JSON of the envelope without its `sig` member (`key_id` included).
    pub fn signing_input(&self) -> Vec<u8> {
        SignatureContext::Envelope.input(&to_canonical(&self.wire(false)))
    }

    /// Verifies `sig` over [`Envelope::signing_input`] with `verify_strict` under `key`;
    /// [`Reason::BadSignature`] if it does not verify or is not base64 of 64 bytes.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), Reason> {
        verify_with(
            key,
            SignatureContext::Envelope,
            &to_canonical(&self.wire(false)),
            &self.sig,
        )
        .map_err(|_| Reason::BadSignature)
    }

    /// The envelope with its wire bytes and hash.
    pub fn into_signed(self) -> SignedEnvelope {
        let bytes = self.canonical_bytes();
        SignedEnvelope {
            hash: sha256_hex(&bytes),
            bytes,
            envelope: self,
        }
    }

    fn wire(&self, with_sig: bool) -> WireRef<'_> {
        WireRef {
            v: PROTOCOL_VERSION,
            id: &self.id,
            origin: self.origin,
            destination: self.destination,
            channel: self.channel,
            epoch: self.epoch,
            seq: self.seq,
            prev: &self.prev,
            kind: &self.kind,
            created_at: timestamp::format(&self.created_at),
            manifest_version: self.manifest_version,
            payload: &self.payload,
            key_id: &self.key_id,
            sig: with_sig.then_some(self.sig.as_str()),
        }
    }

    /// The schema rules on field values (everything but the JSON shape). The signature's form
    /// is checked only once there is one.
    fn check_fields(&self) -> Result<(), String> {
        check_counter("epoch", self.epoch, 1)?;
        check_counter("seq", self.seq, 1)?;
        check_counter("manifest_version", self.manifest_version, 0)?;
        if !is_hash(&self.prev) {
            return Err("prev is not 64 lowercase hex characters".into());
        }
        if self.seq == 1 && self.prev != ZERO_HASH {
            return Err("prev must be the zero hash when seq is 1".into());
        }
        check_kind(&self.kind, self.channel)?;
        if !self.payload.is_object() {
            return Err("payload is not an object".into());
        }
        canonical::check_numbers(&self.payload).map_err(|e| format!("payload: {e}"))?;
        if !self.sig.is_empty() {
            check_sig(&self.sig)?;
        }
        Ok(())
    }
}

/// A counter on the wire: an integer in `[min, 2^53-1]`.
pub(crate) fn check_counter(name: &str, value: u64, min: u64) -> Result<(), String> {
    if value < min || value > MAX_SAFE_INTEGER {
        return Err(format!("{name} must be in [{min}, 2^53-1]"));
    }
    Ok(())
}

/// A signature on the wire: standard base64 (with padding) of 64 bytes.
pub(crate) fn check_sig(sig: &str) -> Result<(), String> {
    match B64.decode(sig) {
        Ok(b) if b.len() == 64 => Ok(()),
        _ => Err("sig is not base64 of 64 bytes".into()),
    }
}

fn check_kind(kind: &str, channel: Channel) -> Result<(), String> {
    let name = kind
        .strip_prefix(channel.as_str())
        .and_then(|rest| rest.strip_prefix('.'))
        .ok_or_else(|| format!("kind must start with \"{channel}.\""))?;
    let ok = kind.len() <= MAX_KIND_LEN
        && !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err("kind must be <channel>.<name>, name of a-z 0-9 _ . (64 bytes at most)".into())
    }
}

impl Serialize for Envelope {
    /// The wire object (members in any order; use [`Envelope::canonical_bytes`] for the wire
    /// bytes).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.wire(true).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Envelope {
    /// All the checks of [`Envelope::from_value`].
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Envelope::from_value(value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cc(s: &str) -> CountryCode {
        s.parse().unwrap()
    }

    fn signer() -> SigningIdentity {
        SigningIdentity::from_seed("GTM-2026a".parse().unwrap(), &[7; 32])
    }

    fn unsigned() -> UnsignedEnvelope {
        UnsignedEnvelope {
            id: Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001),
            origin: cc("GTM"),
            destination: cc("HND"),
            channel: Channel::Directory,
            epoch: 1,
            seq: 1,
            prev: ZERO_HASH.into(),
            kind: "directory.publish".into(),
            created_at: timestamp::parse("2026-11-30T16:30:00.123456789Z").unwrap(),
            manifest_version: 3,
            payload: json!({"revision": 1}),
        }
    }

    #[test]
    fn channels_parse_and_print() {
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>().unwrap(), c);
            assert_eq!(serde_json::to_value(c).unwrap(), json!(c.to_string()));
        }
        assert!("Directory".parse::<Channel>().is_err());
    }

    #[test]
    fn sign_truncates_time_and_round_trips() {
        let signed = unsigned().sign(&signer()).unwrap();
        assert_eq!(
            timestamp::format(&signed.envelope.created_at),
            "2026-11-30T16:30:00.123456Z"
        );
        let back = Envelope::parse(&signed.bytes).unwrap();
        assert_eq!(back, signed.envelope);
        assert_eq!(back.hash(), signed.hash);
        back.verify(&signer().verifying_key()).unwrap();
        let via_serde: Envelope = serde_json::from_slice(&signed.bytes).unwrap();
        assert_eq!(via_serde, back);
    }

    type Edit = Box<dyn Fn(&mut UnsignedEnvelope)>;

    #[test]
    fn sign_refuses_bad_fields() {
        let bad: Vec<Edit> = vec![
            Box::new(|u| u.epoch = 0),
            Box::new(|u| u.seq = 0),
            Box::new(|u| u.seq = MAX_SAFE_INTEGER + 1),
            Box::new(|u| u.prev = "ab".into()),
            Box::new(|u| u.prev = "1".repeat(64)),
            Box::new(|u| u.kind = "referral.offer".into()),
            Box::new(|u| u.kind = "directory.".into()),
            Box::new(|u| u.kind = "directory.Publish".into()),
            Box::new(|u| u.payload = json!([1])),
            Box::new(|u| u.payload = json!({"x": 0.5})),
            Box::new(|u| u.destination = cc("GTM")),
        ];
        for (i, f) in bad.iter().enumerate() {
            let mut u = unsigned();
            f(&mut u);
            assert!(
                matches!(u.sign(&signer()), Err(EnvelopeError::Invalid { .. })),
                "case {i}"
            );
        }
        let mut u = unsigned();
        u.origin = cc("SLV");
        assert!(matches!(
            u.sign(&signer()),
            Err(EnvelopeError::KeyNotOwner { .. })
        ));
        let mut u = unsigned();
        u.payload = json!({"blob": "x".repeat(MAX_ENVELOPE_BYTES)});
        assert!(matches!(
            u.sign(&signer()),
            Err(EnvelopeError::TooLarge { .. })
        ));
    }
}
