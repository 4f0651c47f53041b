//! Acks: the receiver's signed statement of what it stored.
//!
//! ```text
//! { "v": 1, "from": "HND", "to": "GTM", "channel": "directory", "epoch": 1,
//!   "acked_through_seq": 7, "head_hash": "<64 hex>",
//!   "results": [ {"id": "<uuid>", "seq": 6, "result": "stored"},
//!                {"id": "<uuid>", "seq": 7, "result": "rejected", "reason": "kind_not_allowed"} ],
//!   "created_at": "2026-11-30T16:30:01.000000Z", "key_id": "HND-2026a", "sig": "<base64>" }
//! ```
//!
//! `from` is the receiver (the signer), `to` the sender of the envelopes. The signature is
//! Ed25519 over `"puente/1 ack\n"` followed by the RFC 8785 canonical JSON of the ack without
//! its `sig` member.

use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use puente_common::CountryCode;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use uuid::Uuid;

use crate::canonical::{
    canonical_json, is_hash, parse_strict, sha256_hex, timestamp, to_canonical, ZERO_HASH,
};
use crate::envelope::{
    check_counter, check_sig, Channel, EnvelopeError, MAX_ENVELOPE_BYTES, PROTOCOL_VERSION,
};
use crate::identity::{verify_with, KeyId, SignatureContext, SigningIdentity};
use crate::reason::Reason;

/// The largest ack, in bytes (the same limit as an envelope).
pub const MAX_ACK_BYTES: usize = MAX_ENVELOPE_BYTES;

/// What became of one envelope of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckOutcome {
    /// Now in the receiver's inbox, durably.
    Stored,
    /// Was already in the receiver's inbox (same position and hash, or same message id).
    Duplicate,
    /// Authentic but not acceptable: consumed, the stream advanced; final, never resent.
    Rejected,
    /// Not stored, the stream did not advance: the sender keeps it pending and retries.
    Refused,
}

impl AckOutcome {
    /// Whether a result of this kind carries a `reason` (rejected and refused do).
    pub fn needs_reason(self) -> bool {
        matches!(self, AckOutcome::Rejected | AckOutcome::Refused)
    }
}

/// One envelope's result. `reason` is present exactly for `rejected` and `refused` (a
/// [`Reason`] code; any snake_case code is accepted on parsing, so that a newer peer's codes
/// do not make the whole ack unreadable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AckResult {
    pub id: Uuid,
    pub seq: u64,
    pub result: AckOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl AckResult {
    /// A `stored` or `duplicate` result (no reason).
    pub fn ok(id: Uuid, seq: u64, result: AckOutcome) -> AckResult {
        AckResult {
            id,
            seq,
            result,
            reason: None,
        }
    }

    /// A `rejected` or `refused` result with its reason.
    pub fn with_reason(id: Uuid, seq: u64, result: AckOutcome, reason: Reason) -> AckResult {
        AckResult {
            id,
            seq,
            result,
            reason: Some(reason.code().to_owned()),
        }
    }

    /// The reason as a known [`Reason`], if it is one.
    pub fn reason_code(&self) -> Option<Reason> {
        self.reason.as_deref().and_then(Reason::from_code)
    }
}

/// An ack before signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedAck {
    pub from: CountryCode,
    pub to: CountryCode,
    pub channel: Channel,
    pub epoch: u64,
    pub acked_through_seq: u64,
    pub head_hash: String,
    pub results: Vec<AckResult>,
    pub created_at: DateTime<Utc>,
}

/// A signed ack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub from: CountryCode,
    pub to: CountryCode,
    pub channel: Channel,
    pub epoch: u64,
    pub acked_through_seq: u64,
    pub head_hash: String,
    pub results: Vec<AckResult>,
    pub created_at: DateTime<Utc>,
    pub key_id: KeyId,
    pub sig: String,
}

#[derive(Serialize)]
struct WireRef<'a> {
    v: u64,
    from: CountryCode,
    to: CountryCode,
    channel: Channel,
    epoch: u64,
    acked_through_seq: u64,
    head_hash: &'a str,
    results: &'a [AckResult],
    created_at: String,
    key_id: &'a KeyId,
    #[serde(skip_serializing_if = "Option::is_none")]
    sig: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    v: u64,
    from: CountryCode,
    to: CountryCode,
    channel: Channel,
    epoch: u64,
    acked_through_seq: u64,
    head_hash: String,
    results: Vec<AckResult>,
    #[serde(with = "timestamp")]
    created_at: DateTime<Utc>,
    key_id: KeyId,
    sig: String,
}

impl UnsignedAck {
    /// Checks the ack against the schema and signs it with `signer`, whose key id must be
    /// owned by `from`. `created_at` is truncated to the microsecond.
    pub fn sign(self, signer: &SigningIdentity) -> Result<Ack, EnvelopeError> {
        if !signer.key_id().is_owned_by(self.from) {
            return Err(EnvelopeError::KeyNotOwner {
                key_id: signer.key_id().clone(),
                owner: self.from,
            });
        }
        let mut ack = Ack {
            from: self.from,
            to: self.to,
            channel: self.channel,
            epoch: self.epoch,
            acked_through_seq: self.acked_through_seq,
            head_hash: self.head_hash,
            results: self.results,
            created_at: timestamp::truncate(self.created_at),
            key_id: signer.key_id().clone(),
            sig: String::new(),
        };
        ack.check_fields()
            .map_err(|detail| EnvelopeError::Invalid {
                object: "ack",
                detail,
            })?;
        ack.sig = signer.sign(SignatureContext::Ack, &to_canonical(&ack.wire(false)));
        let size = ack.canonical_bytes().len();
        if size > MAX_ACK_BYTES {
            return Err(EnvelopeError::TooLarge {
                size,
                limit: MAX_ACK_BYTES,
            });
        }
        Ok(ack)
    }
}

impl Ack {
    /// Parses the wire text of an ack: [`Reason::TooLarge`] over [`MAX_ACK_BYTES`], else the
    /// checks of [`Ack::from_value`].
    pub fn parse(bytes: &[u8]) -> Result<Ack, Reason> {
        if bytes.len() > MAX_ACK_BYTES {
            return Err(Reason::TooLarge);
        }
        let value = parse_strict(bytes).map_err(|_| Reason::Malformed)?;
        Ack::from_value(value)
    }

    /// Schema check of an ack already parsed as JSON. [`Reason::Malformed`] unless: all
    /// members present, none other (in results too); `v` = 1; `from` ≠ `to`; `epoch` ≥ 1;
    /// `acked_through_seq` ≥ 0 and `head_hash` 64 lowercase hex, the zero hash when
    /// `acked_through_seq` = 0; each result's `seq` ≥ 1 and `reason` (snake_case, at most 64
    /// bytes) present exactly for `rejected` and `refused`; `key_id` like `HND-2026a`; `sig`
    /// base64 of 64 bytes; and the value re-serialises to the same canonical JSON.
    pub fn from_value(value: Value) -> Result<Ack, Reason> {
        let canonical = canonical_json(&value).map_err(|_| Reason::Malformed)?;
        if canonical.len() > MAX_ACK_BYTES {
            return Err(Reason::TooLarge);
        }
        let w: Wire = serde_json::from_value(value).map_err(|_| Reason::Malformed)?;
        if w.v != PROTOCOL_VERSION {
            return Err(Reason::Malformed);
        }
        let ack = Ack {
            from: w.from,
            to: w.to,
            channel: w.channel,
            epoch: w.epoch,
            acked_through_seq: w.acked_through_seq,
            head_hash: w.head_hash,
            results: w.results,
            created_at: w.created_at,
            key_id: w.key_id,
            sig: w.sig,
        };
        ack.check_fields().map_err(|_| Reason::Malformed)?;
        if ack.canonical_bytes() != canonical {
            return Err(Reason::Malformed);
        }
        Ok(ack)
    }

    /// The wire form: RFC 8785 canonical JSON of the whole ack, `sig` included.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        to_canonical(&self.wire(true))
    }

    /// Lowercase hex SHA-256 of [`Ack::canonical_bytes`] (recorded in the evidence log).
    pub fn hash(&self) -> String {
        sha256_hex(&self.canonical_bytes())
    }

    /// The bytes the signature is over: `"puente/1 ack\n"` followed by the RFC 8785
    /// canonical JSON of the ack without its `sig` member (`key_id` included).
    pub fn signing_input(&self) -> Vec<u8> {
        SignatureContext::Ack.input(&to_canonical(&self.wire(false)))
    }

    /// Verifies `sig` with `verify_strict` under `key`; [`Reason::BadSignature`] otherwise.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), Reason> {
        verify_with(
            key,
            SignatureContext::Ack,
            &to_canonical(&self.wire(false)),
            &self.sig,
        )
        .map_err(|_| Reason::BadSignature)
    }

    fn wire(&self, with_sig: bool) -> WireRef<'_> {
        WireRef {
            v: PROTOCOL_VERSION,
            from: self.from,
            to: self.to,
            channel: self.channel,
            epoch: self.epoch,
            acked_through_seq: self.acked_through_seq,
            head_hash: &self.head_hash,
            results: &self.results,
            created_at: timestamp::format(&self.created_at),
            key_id: &self.key_id,
            sig: with_sig.then_some(self.sig.as_str()),
        }
    }

    fn check_fields(&self) -> Result<(), String> {
        if self.from == self.to {
            return Err("from and to are the same".into());
        }
        check_counter("epoch", self.epoch, 1)?;
        check_counter("acked_through_seq", self.acked_through_seq, 0)?;
        if !is_hash(&self.head_hash) {
            return Err("head_hash is not 64 lowercase hex characters".into());
        }
        if self.acked_through_seq == 0 && self.head_hash != ZERO_HASH {
            return Err("head_hash must be the zero hash when acked_through_seq is 0".into());
        }
        for r in &self.results {
            check_counter("results[].seq", r.seq, 1)?;
            match (&r.reason, r.result.needs_reason()) {
                (Some(code), true) if is_code(code) => {}
                (None, false) => {}
                _ => return Err(
                    "results[].reason must be a snake_case code exactly for rejected and refused"
                        .into(),
                ),
            }
        }
        if !self.sig.is_empty() {
            check_sig(&self.sig)?;
        }
        Ok(())
    }
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Serialize for Ack {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.wire(true).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Ack {
    /// All the checks of [`Ack::from_value`].
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Ack::from_value(value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack() -> UnsignedAck {
        UnsignedAck {
            from: "HND".parse().unwrap(),
            to: "GTM".parse().unwrap(),
            channel: Channel::Directory,
            epoch: 1,
            acked_through_seq: 2,
            head_hash: "ab".repeat(32),
            results: vec![
                AckResult::ok(Uuid::from_u128(1), 1, AckOutcome::Stored),
                AckResult::with_reason(
                    Uuid::from_u128(2),
                    2,
                    AckOutcome::Rejected,
                    Reason::KindNotAllowed,
                ),
            ],
            created_at: timestamp::parse("2026-11-30T16:30:01Z").unwrap(),
        }
    }

    fn signer() -> SigningIdentity {
        SigningIdentity::from_seed("HND-2026a".parse().unwrap(), &[9; 32])
    }

    #[test]
    fn sign_parse_verify() {
        let a = ack().sign(&signer()).unwrap();
        let back = Ack::parse(&a.canonical_bytes()).unwrap();
        assert_eq!(back, a);
        back.verify(&signer().verifying_key()).unwrap();
        assert_eq!(back.results[1].reason_code(), Some(Reason::KindNotAllowed));
    }

    #[test]
    fn reasons_only_where_they_belong() {
        let mut u = ack();
        u.results[0].reason = Some("malformed".into());
        assert!(u.sign(&signer()).is_err());
        let mut u = ack();
        u.results[1].reason = None;
        assert!(u.sign(&signer()).is_err());
        let mut u = ack();
        u.results[1].reason = Some("Not A Code".into());
        assert!(u.sign(&signer()).is_err());
        let mut u = ack();
        u.acked_through_seq = 0;
        assert!(u.sign(&signer()).is_err());
        let mut u = ack();
        u.acked_through_seq = 0;
        u.head_hash = ZERO_HASH.into();
        assert!(u.sign(&signer()).is_ok());
    }

    #[test]
    fn null_reason_is_not_the_wire_form() {
        let a = ack().sign(&signer()).unwrap();
        let mut v: Value = serde_json::from_slice(&a.canonical_bytes()).unwrap();
        v["results"][0]["reason"] = Value::Null;
        assert_eq!(Ack::from_value(v), Err(Reason::Malformed));
    }
}
