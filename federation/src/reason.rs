//! The stable codes for why a request, message, ack or manifest was refused or rejected.
//!
//! Codes are snake_case, appear on the wire (HTTP error bodies `{"error": "<code>"}`, the
//! `reason` of ack results) and in the evidence log, and never change meaning.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Every refusal or rejection code of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// An envelope over 256 KiB, a batch over 100 envelopes or 2 MiB (HTTP 413).
    TooLarge,
    /// Not valid JSON, a member missing or unknown, a value of the wrong form (HTTP 400).
    Malformed,
    /// The envelope is addressed to another node (HTTP 403, whole request).
    WrongDestination,
    /// The origin is not a member in the manifest (HTTP 403, whole request).
    UnknownOrigin,
    /// The origin is a member but suspended or revoked (HTTP 403, whole request).
    OriginNotActive,
    /// The origin is not the peer authenticated by mutual TLS (HTTP 403, whole request).
    OriginMismatch,
    /// The origin is blocked by this node's administrator (HTTP 403, whole request).
    PeerBlocked,
    /// This node's administrator has not approved the origin yet (HTTP 403, whole request).
    PeerNotApproved,
    /// No agreement allows this channel from the origin to this node (ack result `rejected`).
    KindNotAllowed,
    /// The key id is not among the origin's keys in the manifest (ack result `refused`).
    UnknownKey,
    /// `created_at` is outside the key's validity window (ack result `refused`).
    KeyNotValid,
    /// The manifest lists the key as revoked (ack result `refused`).
    KeyRevoked,
    /// This node's administrator blocked the key (ack result `refused`).
    KeyBlocked,
    /// `created_at` is more than the allowed skew (5 minutes) ahead (ack result `refused`).
    FutureDated,
    /// The signature does not verify (ack result `refused`).
    BadSignature,
    /// The envelope's epoch is older than the stream's current one (ack result `refused`).
    StaleEpoch,
    /// The message id is already held at another position of the stream (ack result
    /// `refused`): only a faulty peer reuses ids.
    DuplicateId,
    /// A sequence number was skipped (HTTP 409 `{"error":"gap","expected_seq":N}`).
    Gap,
    /// A different envelope at a position already held, or a broken hash chain (HTTP 409
    /// `{"error":"fork","head_seq":N}`).
    Fork,
    /// A manifest whose version is not above the one held.
    ManifestRollback,
    /// A manifest with the version held but different content.
    ManifestConflict,
    /// The manifest held is expired beyond its grace period.
    ManifestExpired,
    /// A manifest without the threshold of valid signatures by trusted governance keys.
    ManifestSignatures,
    /// A manifest of another federation than the one held.
    WrongFederation,
}

impl Reason {
    /// Every code, in declaration order.
    pub const ALL: [Reason; 24] = [
        Reason::TooLarge,
        Reason::Malformed,
        Reason::WrongDestination,
        Reason::UnknownOrigin,
        Reason::OriginNotActive,
        Reason::OriginMismatch,
        Reason::PeerBlocked,
        Reason::PeerNotApproved,
        Reason::KindNotAllowed,
        Reason::UnknownKey,
        Reason::KeyNotValid,
        Reason::KeyRevoked,
        Reason::KeyBlocked,
        Reason::FutureDated,
        Reason::BadSignature,
        Reason::StaleEpoch,
        Reason::DuplicateId,
        Reason::Gap,
        Reason::Fork,
        Reason::ManifestRollback,
        Reason::ManifestConflict,
        Reason::ManifestExpired,
        Reason::ManifestSignatures,
        Reason::WrongFederation,
    ];

    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::TooLarge => "too_large",
            Reason::Malformed => "malformed",
            Reason::WrongDestination => "wrong_destination",
            Reason::UnknownOrigin => "unknown_origin",
            Reason::OriginNotActive => "origin_not_active",
            Reason::OriginMismatch => "origin_mismatch",
            Reason::PeerBlocked => "peer_blocked",
            Reason::PeerNotApproved => "peer_not_approved",
            Reason::KindNotAllowed => "kind_not_allowed",
            Reason::UnknownKey => "unknown_key",
            Reason::KeyNotValid => "key_not_valid",
            Reason::KeyRevoked => "key_revoked",
            Reason::KeyBlocked => "key_blocked",
            Reason::FutureDated => "future_dated",
            Reason::BadSignature => "bad_signature",
            Reason::StaleEpoch => "stale_epoch",
            Reason::DuplicateId => "duplicate_id",
            Reason::Gap => "gap",
            Reason::Fork => "fork",
            Reason::ManifestRollback => "manifest_rollback",
            Reason::ManifestConflict => "manifest_conflict",
            Reason::ManifestExpired => "manifest_expired",
            Reason::ManifestSignatures => "manifest_signatures",
            Reason::WrongFederation => "wrong_federation",
        }
    }

    /// The reason with this code, if any.
    pub fn from_code(code: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The HTTP status a federation endpoint answers with when this reason refuses a whole
    /// request: 413 too large, 400 malformed, 409 gap/fork, 403 otherwise.
    pub fn http_status(&self) -> u16 {
        match self {
            Reason::TooLarge => 413,
            Reason::Malformed => 400,
            Reason::Gap | Reason::Fork => 409,
            _ => 403,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::error::Error for Reason {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_match_serde() {
        let mut seen = std::collections::HashSet::new();
        for r in Reason::ALL {
            assert!(seen.insert(r.code()), "duplicate code {}", r.code());
            assert_eq!(Reason::from_code(r.code()), Some(r));
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.code())
            );
            assert!(r
                .code()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
        assert_eq!(Reason::from_code("nope"), None);
    }
}
