//! The acceptance checks a receiver runs on every envelope, cheapest first, as pure functions.
//!
//! 1. size and schema ([`Envelope::parse`] / [`Envelope::from_value`]): `too_large`,
//!    `malformed` — the whole request is refused (HTTP 413 / 400).
//! 2. and 3. [`check_request`]: the destination is this node, the origin is an active member,
//!    is the mutual-TLS peer, is not blocked and is approved here — the whole request is
//!    refused (HTTP 403).
//! 4. to 6. [`check_message`]: agreement, key, clock, signature — per message; a failed
//!    agreement check makes the message `rejected` (final) only once it is known authentic.
//! 7. [`check_stream`]: position in the stream against the receiver's head.

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use puente_common::CountryCode;

use crate::canonical::ZERO_HASH;
use crate::envelope::Envelope;
use crate::identity::KeyId;
use crate::manifest::Manifest;
use crate::reason::Reason;

/// How far in the future `created_at` may be: 5 minutes.
pub const DEFAULT_MAX_SKEW: TimeDelta = TimeDelta::minutes(5);

/// This node's own trust decisions, on top of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalTrust {
    /// This node's member id.
    pub me: CountryCode,
    /// Peers the local administrator approved (nothing is accepted from others).
    pub approved_peers: HashSet<CountryCode>,
    /// Peers the local administrator blocked (applies at once, whatever the manifest says).
    pub blocked_peers: HashSet<CountryCode>,
    /// Signing keys the local administrator blocked.
    pub blocked_keys: HashSet<KeyId>,
    /// How far in the future `created_at` may be ([`DEFAULT_MAX_SKEW`]).
    pub max_skew: chrono::Duration,
}

impl LocalTrust {
    /// Trust for node `me`: nobody approved or blocked, the default skew.
    pub fn new(me: CountryCode) -> LocalTrust {
        LocalTrust {
            me,
            approved_peers: HashSet::new(),
            blocked_peers: HashSet::new(),
            blocked_keys: HashSet::new(),
            max_skew: DEFAULT_MAX_SKEW,
        }
    }
}

/// Steps 2 and 3, for each envelope of a request (any failure refuses the whole request with
/// HTTP 403), in this order:
/// `destination` ≠ this node → `wrong_destination`; `origin` not in the manifest →
/// `unknown_origin`; not active → `origin_not_active`; ≠ the mutual-TLS peer →
/// `origin_mismatch`; blocked locally → `peer_blocked`; not approved locally →
/// `peer_not_approved`.
pub fn check_request(
    m: &Manifest,
    t: &LocalTrust,
    mtls_peer: CountryCode,
    env: &Envelope,
) -> Result<(), Reason> {
    if env.destination != t.me {
        return Err(Reason::WrongDestination);
    }
    let origin = m.member(env.origin).ok_or(Reason::UnknownOrigin)?;
    if !origin.is_active() {
        return Err(Reason::OriginNotActive);
    }
    if env.origin != mtls_peer {
        return Err(Reason::OriginMismatch);
    }
    if t.blocked_peers.contains(&env.origin) {
        return Err(Reason::PeerBlocked);
    }
    if !t.approved_peers.contains(&env.origin) {
        return Err(Reason::PeerNotApproved);
    }
    Ok(())
}

/// The verdict on one envelope after steps 4–6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageVerdict {
    /// Authentic and allowed: go on to the stream checks.
    Accept,
    /// Authentic (the signature verified) but not acceptable: recorded as consumed, the stream
    /// advances, ack result `rejected` — final.
    Reject(Reason),
    /// Not stored, the stream does not advance, ack result `refused`; processing of the batch
    /// stops here.
    Refuse(Reason),
}

/// Steps 4–6 for one envelope that passed [`check_request`]:
/// 4. the manifest allows the envelope's channel from its origin to this node
///    ([`Manifest::allows`]) — if not, `kind_not_allowed`, reported only once 5 and 6 pass;
/// 5. the key ([`Manifest::key`] at `created_at`): `unknown_key`, `key_not_valid`,
///    `key_revoked`; then blocked locally → `key_blocked`; then `created_at` more than
///    `max_skew` after `now` → `future_dated`;
/// 6. `verify_strict` → `bad_signature`.
///
/// Failures in 5 and 6 refuse; a failure in 4 alone rejects.
pub fn check_message(
    m: &Manifest,
    t: &LocalTrust,
    env: &Envelope,
    now: DateTime<Utc>,
) -> MessageVerdict {
    let allowed = m.allows(env.channel, env.origin, t.me);
    let key = match m.key(env.origin, &env.key_id, env.created_at) {
        Ok(key) => key,
        Err(reason) => return MessageVerdict::Refuse(reason),
    };
    if t.blocked_keys.contains(&env.key_id) {
        return MessageVerdict::Refuse(Reason::KeyBlocked);
    }
    let future = now
        .checked_add_signed(t.max_skew)
        .is_some_and(|limit| env.created_at > limit);
    if future {
        return MessageVerdict::Refuse(Reason::FutureDated);
    }
    if let Err(reason) = env.verify(&key) {
        return MessageVerdict::Refuse(reason);
    }
    if allowed {
        MessageVerdict::Accept
    } else {
        MessageVerdict::Reject(Reason::KindNotAllowed)
    }
}

/// The receiver's head of one incoming stream (origin, channel): the epoch, the highest
/// sequence number stored in it and that envelope's hash (the zero hash for seq 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHead {
    pub epoch: u64,
    pub seq: u64,
    pub hash: String,
}

/// Where an envelope stands against the receiver's stream head (step 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamVerdict {
    /// The next envelope of the current epoch (or the first of a stream never seen): store it,
    /// advance the head.
    Append,
    /// The first envelope of a newer epoch (seq 1, zero `prev`): store it, the head moves to
    /// the new epoch.
    NewEpoch,
    /// Already stored at that position with the same hash: ack as `duplicate`, store nothing.
    Duplicate,
    /// A sequence number was skipped: HTTP 409 `{"error":"gap","expected_seq":expected}`.
    Gap { expected: u64 },
    /// Another envelope at a position already held, or `prev` not the head's hash: HTTP 409
    /// `{"error":"fork","head_seq":head_seq}`, alert.
    Fork { head_seq: u64 },
    /// An epoch older than the head's: ack result `refused`, reason `stale_epoch`.
    StaleEpoch,
}

/// Step 7. `stored_hash(seq)` = the hash the receiver stored at `seq` of the head's epoch.
///
/// With no head (stream never seen): seq 1 → `Append`; seq > 1 → `Gap { expected: 1 }`.
/// With a head:
/// - epoch below the head's → `StaleEpoch`;
/// - epoch above: seq 1 and `prev` the zero hash → `NewEpoch`, else `Gap { expected: 1 }`;
/// - same epoch, seq ≤ head seq: same hash as stored there → `Duplicate`, else
///   `Fork { head_seq }`;
/// - seq > head seq + 1 → `Gap { expected: head seq + 1 }`;
/// - seq = head seq + 1: `prev` = head hash → `Append`, else `Fork { head_seq }`.
///
/// (A message id already in the inbox at another position is also a duplicate; that needs the
/// inbox and is the caller's check.)
pub fn check_stream(
    head: Option<&StreamHead>,
    env: &Envelope,
    env_hash: &str,
    stored_hash: impl Fn(u64) -> Option<String>,
) -> StreamVerdict {
    let Some(head) = head else {
        return match env.seq {
            1 if env.prev == ZERO_HASH => StreamVerdict::Append,
            1 => StreamVerdict::Fork { head_seq: 0 },
            _ => StreamVerdict::Gap { expected: 1 },
        };
    };
    if env.epoch < head.epoch {
        return StreamVerdict::StaleEpoch;
    }
    if env.epoch > head.epoch {
        return if env.seq == 1 && env.prev == ZERO_HASH {
            StreamVerdict::NewEpoch
        } else {
            StreamVerdict::Gap { expected: 1 }
        };
    }
    let fork = StreamVerdict::Fork { head_seq: head.seq };
    if env.seq <= head.seq {
        let stored = if env.seq == head.seq {
            Some(head.hash.clone())
        } else {
            stored_hash(env.seq)
        };
        return if stored.as_deref() == Some(env_hash) {
            StreamVerdict::Duplicate
        } else {
            fork
        };
    }
    if env.seq > head.seq.saturating_add(1) {
        return StreamVerdict::Gap {
            expected: head.seq + 1,
        };
    }
    if env.prev == head.hash {
        StreamVerdict::Append
    } else {
        fork
    }
}
