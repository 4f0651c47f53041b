//! Federation storage, shared by both backends like `sql.rs`: the [`FedStore`] trait, its row
//! types, and `impl_fed_store!`, which expands to the implementation for one backend. The
//! backend supplies `begin_write` and `lock_audit_chain`; `append_in` (from `impl_store!`)
//! writes an administrative change's audit entry in the same transaction.
//!
//! # Locking
//!
//! Every federation write that appends to the evidence log or the audit trail first takes the
//! audit chain lock (`lock_audit_chain`: the write lock itself on SQLite, whose writes start with
//! `BEGIN IMMEDIATE`; a transaction-scoped advisory lock on PostgreSQL, re-entrant within one
//! transaction). Taking it *first*, before any row lock, gives every such transaction the same
//! lock order, so replicas sharing one PostgreSQL database queue instead of deadlocking; the row
//! locks taken after it (`UPDATE … RETURNING` on a stream's head) serialise writers of one stream
//! on their own as well. Delivery leases (`fed_claim`) need no chain lock: one conditional
//! `UPDATE` decides who holds a lease.
//!
//! # Evidence hash
//!
//! Each evidence entry is chained to the previous one like the audit trail:
//!
//! `hash = lowercase hex SHA-256 of the UTF-8 bytes of the JSON array`
//! `[seq, at, direction, peer, channel, epoch, stream_seq, message_id, object_hash, prev_hash]`
//!
//! written without any whitespace, where `seq`, `epoch` and `stream_seq` are JSON integers;
//! `at` is the string `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, exactly six fraction digits); `direction`
//! is one of `sent`, `received`, `ack_sent`, `ack_received`, `refused_in`, `refused_out`; `peer` is
//! the other member's id (`HND`); `channel` is the channel code; `message_id` is the envelope's
//! id as a lowercase hyphenated UUID string, or `null` for an ack; `object_hash` is the SHA-256
//! (lowercase hex) of the exact bytes of the envelope or ack; `prev_hash` is the previous entry's
//! `hash`, or 64 `0` characters for entry 1. Every value is ASCII and needs no escaping, so this
//! text is also the array's RFC 8785 canonical form. Entries are numbered from 1 without gaps.

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, SecondsFormat, SubsecRound, Utc};
use puente_common::CountryCode;
use puente_federation::accept::StreamHead;
use puente_federation::{Ack, AckOutcome, Channel, Envelope, KeyId, SigningIdentity};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{StoreError, StoreResult};
use crate::audit::AuditEvent;

pub(super) const OUTBOX_COLS: &str = "id, destination, channel, epoch, seq, hash, kind, body, \
    created_at, status, last_result, reason, acked_at";
pub(super) const INBOX_COLS: &str = "id, origin, channel, epoch, seq, hash, kind, body, \
    received_at, status, reason, processed_at";
pub(super) const EVIDENCE_COLS: &str = "seq, at, direction, peer, channel, epoch, stream_seq, \
    message_id, object_hash, prev_hash, hash";
/// Delivery rows with their backlog (pending envelopes for that peer and channel).
pub(super) const DELIVERY_SELECT: &str = "SELECT d.peer, d.channel, d.next_attempt_at, \
    d.backoff_seconds, d.failures, d.last_error, d.last_attempt_at, d.last_success_at, \
    d.last_contact_at, d.lease_owner, d.lease_until, \
    (SELECT COUNT(*) FROM fed_outbox o WHERE o.destination = d.peer AND o.channel = d.channel \
     AND o.status = 'pending') AS backlog FROM fed_delivery d";

/// Declares a closed set of codes stored as text: `as_str`, `FromStr`, `Display`.
macro_rules! codes {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }
        }

        impl FromStr for $name {
            type Err = StoreError;
            fn from_str(s: &str) -> Result<Self, StoreError> {
                match s {
                    $($code => Ok($name::$variant),)+
                    other => Err(StoreError::Corrupt(format!(
                        concat!("unknown ", stringify!($name), " {:?}"),
                        other
                    ))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

codes!(
    /// Where an outgoing envelope stands.
    OutboxStatus {
        /// Not yet acknowledged as stored (or refused: see `last_result`); will be (re)sent.
        Pending => "pending",
        /// The destination stored it (`stored` or `duplicate`).
        Acked => "acked",
        /// The destination rejected it, finally (authentic but not acceptable).
        Rejected => "rejected",
    }
);

codes!(
    /// Where an incoming envelope stands.
    InboxStatus {
        /// Stored, waiting to be processed.
        Stored => "stored",
        /// Authentic but not acceptable: consumed, never processed, no body kept.
        Rejected => "rejected",
        Processed => "processed",
        /// Processing failed (see `reason`).
        Failed => "failed",
    }
);

codes!(
    /// What an evidence entry records.
    EvidenceDirection {
        /// An envelope this node signed and queued for a peer.
        Sent => "sent",
        /// An envelope from a peer, stored (or rejected) into its stream.
        Received => "received",
        /// An ack this node signed for a peer.
        AckSent => "ack_sent",
        /// A peer's signed ack of envelopes this node sent.
        AckReceived => "ack_received",
        /// An envelope from a peer that this node refused.
        RefusedIn => "refused_in",
        /// An envelope of this node that a peer refused.
        RefusedOut => "refused_out",
    }
);

codes!(
    /// What a local approval is for.
    ApprovalKind {
        /// A member id: this node acts on that peer.
        Peer => "peer",
        /// An agreement id of the manifest.
        Agreement => "agreement",
    }
);

codes!(
    /// What a local block is for.
    BlockKind {
        /// A member id.
        Peer => "peer",
        /// A signing key id.
        Key => "key",
    }
);

/// The stored code of an ack result.
pub fn outcome_code(o: &AckOutcome) -> &'static str {
    match o {
        AckOutcome::Stored => "stored",
        AckOutcome::Duplicate => "duplicate",
        AckOutcome::Rejected => "rejected",
        AckOutcome::Refused => "refused",
    }
}

fn parse_outcome(s: &str) -> StoreResult<AckOutcome> {
    match s {
        "stored" => Ok(AckOutcome::Stored),
        "duplicate" => Ok(AckOutcome::Duplicate),
        "rejected" => Ok(AckOutcome::Rejected),
        "refused" => Ok(AckOutcome::Refused),
        other => Err(StoreError::Corrupt(format!("unknown ack result {other:?}"))),
    }
}

/// A `u64` of the protocol (epoch, sequence number, version) as the database's `bigint`.
pub(crate) fn int(v: u64) -> StoreResult<i64> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{v} is out of range")))
}

pub(crate) fn uint(v: i64, what: &str) -> StoreResult<u64> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} is negative")))
}

fn member(s: &str) -> StoreResult<CountryCode> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("bad member id {s:?}")))
}

fn channel(s: &str) -> StoreResult<Channel> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("bad channel {s:?}")))
}

/// An envelope to sign and queue: [`FedStore::fed_enqueue`], or `fed_enqueue_in` inside another
/// store function's transaction. The epoch, sequence number and previous hash come from the
/// store.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub id: Uuid,
    pub origin: CountryCode,
    pub destination: CountryCode,
    pub channel: Channel,
    pub kind: &'a str,
    pub payload: serde_json::Value,
    pub manifest_version: u64,
    pub signer: &'a SigningIdentity,
    pub now: DateTime<Utc>,
}

/// A signed envelope in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub id: Uuid,
    pub destination: CountryCode,
    pub channel: Channel,
    pub epoch: u64,
    pub seq: u64,
    /// SHA-256 (hex) of `body`.
    pub hash: String,
    pub kind: String,
    /// The envelope's canonical JSON: the exact bytes sent, every time.
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub status: OutboxStatus,
    /// The latest result a peer gave for it (`refused` keeps it pending).
    pub last_result: Option<AckOutcome>,
    /// The reason code of a rejection or refusal.
    pub reason: Option<String>,
    pub acked_at: Option<DateTime<Utc>>,
}

#[doc(hidden)]
#[derive(sqlx::FromRow)]
pub struct RawOutbox {
    id: Uuid,
    destination: String,
    channel: String,
    epoch: i64,
    seq: i64,
    hash: String,
    kind: String,
    body: String,
    created_at: DateTime<Utc>,
    status: String,
    last_result: Option<String>,
    reason: Option<String>,
    acked_at: Option<DateTime<Utc>>,
}

impl TryFrom<RawOutbox> for OutboxRow {
    type Error = StoreError;
    fn try_from(r: RawOutbox) -> StoreResult<Self> {
        Ok(OutboxRow {
            id: r.id,
            destination: member(&r.destination)?,
            channel: channel(&r.channel)?,
            epoch: uint(r.epoch, "epoch")?,
            seq: uint(r.seq, "seq")?,
            hash: r.hash,
            kind: r.kind,
            body: r.body,
            created_at: r.created_at,
            status: r.status.parse()?,
            last_result: r.last_result.as_deref().map(parse_outcome).transpose()?,
            reason: r.reason,
            acked_at: r.acked_at,
        })
    }
}

/// Delivery to one peer on one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryState {
    pub peer: CountryCode,
    pub channel: Channel,
    pub next_attempt_at: DateTime<Utc>,
    pub backoff_seconds: i64,
    /// Consecutive failures since the last success.
    pub failures: i32,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// The peer's last authenticated request to this node.
    pub last_contact_at: Option<DateTime<Utc>>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    /// Envelopes pending for this peer and channel.
    pub backlog: i64,
}

#[doc(hidden)]
#[derive(sqlx::FromRow)]
pub struct RawDelivery {
    peer: String,
    channel: String,
    next_attempt_at: DateTime<Utc>,
    backoff_seconds: i64,
    failures: i32,
    last_error: Option<String>,
    last_attempt_at: Option<DateTime<Utc>>,
    last_success_at: Option<DateTime<Utc>>,
    last_contact_at: Option<DateTime<Utc>>,
    lease_owner: Option<String>,
    lease_until: Option<DateTime<Utc>>,
    backlog: i64,
}

impl TryFrom<RawDelivery> for DeliveryState {
    type Error = StoreError;
    fn try_from(r: RawDelivery) -> StoreResult<Self> {
        Ok(DeliveryState {
            peer: member(&r.peer)?,
            channel: channel(&r.channel)?,
            next_attempt_at: r.next_attempt_at,
            backoff_seconds: r.backoff_seconds,
            failures: r.failures,
            last_error: r.last_error,
            last_attempt_at: r.last_attempt_at,
            last_success_at: r.last_success_at,
            last_contact_at: r.last_contact_at,
            lease_owner: r.lease_owner,
            lease_until: r.lease_until,
            backlog: r.backlog,
        })
    }
}

/// An accepted envelope to store in the inbox ([`FedStore::fed_store_inbound`]).
#[derive(Debug, Clone, PartialEq)]
pub struct InboundRow {
    pub id: Uuid,
    pub origin: CountryCode,
    pub channel: Channel,
    pub epoch: u64,
    pub seq: u64,
    pub hash: String,
    pub kind: String,
    /// The envelope's canonical JSON; `None` for a rejected one.
    pub body: Option<String>,
    /// The reason code when the envelope is rejected (authentic but not acceptable): it is
    /// recorded as consumed (status `rejected`), without its body.
    pub rejected: Option<String>,
}

impl InboundRow {
    /// A verified envelope, to be stored whole.
    pub fn stored(env: &Envelope) -> Self {
        Self::from_envelope(env, None)
    }

    /// A verified envelope that is not acceptable: recorded as consumed, body not kept.
    pub fn rejected(env: &Envelope, reason: &str) -> Self {
        Self::from_envelope(env, Some(reason.to_owned()))
    }

    fn from_envelope(env: &Envelope, rejected: Option<String>) -> Self {
        let bytes = env.canonical_bytes();
        InboundRow {
            id: env.id,
            origin: env.origin,
            channel: env.channel,
            epoch: env.epoch,
            seq: env.seq,
            hash: hex::encode(Sha256::digest(&bytes)),
            kind: env.kind.clone(),
            body: rejected
                .is_none()
                .then(|| String::from_utf8_lossy(&bytes).into_owned()),
            rejected,
        }
    }
}

/// An envelope in the inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxRow {
    pub id: Uuid,
    pub origin: CountryCode,
    pub channel: Channel,
    pub epoch: u64,
    pub seq: u64,
    pub hash: String,
    pub kind: String,
    /// `None` for rejected envelopes.
    pub body: Option<String>,
    pub received_at: DateTime<Utc>,
    pub status: InboxStatus,
    pub reason: Option<String>,
    pub processed_at: Option<DateTime<Utc>>,
}

#[doc(hidden)]
#[derive(sqlx::FromRow)]
pub struct RawInbox {
    id: Uuid,
    origin: String,
    channel: String,
    epoch: i64,
    seq: i64,
    hash: String,
    kind: String,
    body: Option<String>,
    received_at: DateTime<Utc>,
    status: String,
    reason: Option<String>,
    processed_at: Option<DateTime<Utc>>,
}

impl TryFrom<RawInbox> for InboxRow {
    type Error = StoreError;
    fn try_from(r: RawInbox) -> StoreResult<Self> {
        Ok(InboxRow {
            id: r.id,
            origin: member(&r.origin)?,
            channel: channel(&r.channel)?,
            epoch: uint(r.epoch, "epoch")?,
            seq: uint(r.seq, "seq")?,
            hash: r.hash,
            kind: r.kind,
            body: r.body,
            received_at: r.received_at,
            status: r.status.parse()?,
            reason: r.reason,
            processed_at: r.processed_at,
        })
    }
}

/// Something to record in the evidence log.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceEvent {
    pub at: DateTime<Utc>,
    pub direction: EvidenceDirection,
    /// The other member.
    pub peer: CountryCode,
    pub channel: Channel,
    pub epoch: u64,
    /// The envelope's sequence number; for an ack, its `acked_through_seq`.
    pub stream_seq: u64,
    /// The envelope's id; `None` for an ack.
    pub message_id: Option<Uuid>,
    /// SHA-256 (hex) of the exact bytes of the envelope or ack.
    pub object_hash: String,
}

/// One entry of the evidence log. See the module documentation for `hash`.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub direction: EvidenceDirection,
    pub peer: CountryCode,
    pub channel: Channel,
    pub epoch: u64,
    pub stream_seq: u64,
    pub message_id: Option<Uuid>,
    pub object_hash: String,
    pub prev_hash: String,
    pub hash: String,
}

impl EvidenceEntry {
    /// The entry `seq` for `event`, chained to `prev_hash` (its time cut to microseconds, as
    /// stored).
    pub fn seal(event: &EvidenceEvent, seq: i64, prev_hash: &str) -> Self {
        let mut e = EvidenceEntry {
            seq,
            at: event.at.trunc_subsecs(6),
            direction: event.direction,
            peer: event.peer,
            channel: event.channel,
            epoch: event.epoch,
            stream_seq: event.stream_seq,
            message_id: event.message_id,
            object_hash: event.object_hash.clone(),
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        e
    }

    /// The input of [`EvidenceEntry::compute_hash`]: see the module documentation.
    pub fn hash_input(&self) -> String {
        serde_json::json!([
            self.seq,
            self.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            self.direction.as_str(),
            self.peer.as_str(),
            self.channel.as_str(),
            self.epoch,
            self.stream_seq,
            self.message_id.map(|u| u.to_string()),
            self.object_hash,
            self.prev_hash,
        ])
        .to_string()
    }

    /// Lowercase hex SHA-256 of [`EvidenceEntry::hash_input`].
    pub fn compute_hash(&self) -> String {
        hex::encode(Sha256::digest(self.hash_input().as_bytes()))
    }
}

#[doc(hidden)]
#[derive(sqlx::FromRow)]
pub struct RawEvidence {
    seq: i64,
    at: DateTime<Utc>,
    direction: String,
    peer: String,
    channel: String,
    epoch: i64,
    stream_seq: i64,
    message_id: Option<Uuid>,
    object_hash: String,
    prev_hash: String,
    hash: String,
}

impl TryFrom<RawEvidence> for EvidenceEntry {
    type Error = StoreError;
    fn try_from(r: RawEvidence) -> StoreResult<Self> {
        Ok(EvidenceEntry {
            seq: r.seq,
            at: r.at,
            direction: r.direction.parse()?,
            peer: member(&r.peer)?,
            channel: channel(&r.channel)?,
            epoch: uint(r.epoch, "epoch")?,
            stream_seq: uint(r.stream_seq, "stream_seq")?,
            message_id: r.message_id,
            object_hash: r.object_hash,
            prev_hash: r.prev_hash,
            hash: r.hash,
        })
    }
}

/// A daily seal of the evidence log: `root` is the hash of entry `through_seq`, signed with
/// `key_id` (context `puente/1 evidence-seal\n`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EvidenceSeal {
    /// The UTC day sealed.
    pub day: NaiveDate,
    pub through_seq: i64,
    pub root: String,
    #[sqlx(try_from = "String")]
    pub key_id: KeyId,
    pub sig: String,
    pub created_at: DateTime<Utc>,
}

/// A signed manifest as installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestRow {
    pub version: u64,
    /// The signed manifest's canonical JSON.
    pub body: String,
    pub installed_at: DateTime<Utc>,
    /// Where it came from: `bootstrap`, `cli`, or the member id of the peer that served it.
    pub source: String,
}

#[doc(hidden)]
#[derive(sqlx::FromRow)]
pub struct RawManifest {
    version: i64,
    body: String,
    installed_at: DateTime<Utc>,
    source: String,
}

impl TryFrom<RawManifest> for ManifestRow {
    type Error = StoreError;
    fn try_from(r: RawManifest) -> StoreResult<Self> {
        Ok(ManifestRow {
            version: uint(r.version, "manifest version")?,
            body: r.body,
            installed_at: r.installed_at,
            source: r.source,
        })
    }
}

/// An incoming stream's head.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamIn {
    pub origin: CountryCode,
    pub channel: Channel,
    pub head: StreamHead,
}

/// An outgoing stream: the last sequence number assigned and the last one the peer consumed
/// (acked or rejected).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamOut {
    pub destination: CountryCode,
    pub channel: Channel,
    pub epoch: u64,
    pub last_seq: u64,
    pub last_hash: String,
    pub consumed_seq: u64,
}

/// A local administrator's approval of a peer or an agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub kind: ApprovalKind,
    /// A member id (`HND`) or an agreement id (`ref-GTM-HND`).
    pub subject: String,
    /// Who approved (username or `cli:<os user>`).
    pub approved_by: String,
    pub approved_at: DateTime<Utc>,
}

#[doc(hidden)]
#[derive(sqlx::FromRow)]
pub struct RawApproval {
    kind: String,
    subject: String,
    approved_by: String,
    approved_at: DateTime<Utc>,
}

impl TryFrom<RawApproval> for Approval {
    type Error = StoreError;
    fn try_from(r: RawApproval) -> StoreResult<Self> {
        Ok(Approval {
            kind: r.kind.parse()?,
            subject: r.subject,
            approved_by: r.approved_by,
            approved_at: r.approved_at,
        })
    }
}

/// A local administrator's block of a peer or a signing key (applies at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub kind: BlockKind,
    /// A member id (`HND`) or a key id (`HND-2026a`).
    pub subject: String,
    pub reason: Option<String>,
    pub blocked_by: String,
    pub blocked_at: DateTime<Utc>,
}

#[doc(hidden)]
#[derive(sqlx::FromRow)]
pub struct RawBlock {
    kind: String,
    subject: String,
    reason: Option<String>,
    blocked_by: String,
    blocked_at: DateTime<Utc>,
}

impl TryFrom<RawBlock> for Block {
    type Error = StoreError;
    fn try_from(r: RawBlock) -> StoreResult<Self> {
        Ok(Block {
            kind: r.kind.parse()?,
            subject: r.subject,
            reason: r.reason,
            blocked_by: r.blocked_by,
            blocked_at: r.blocked_at,
        })
    }
}

/// Converts fetched raw rows.
pub(crate) fn rows<R, T: TryFrom<R, Error = StoreError>>(raw: Vec<R>) -> StoreResult<Vec<T>> {
    raw.into_iter().map(T::try_from).collect()
}

/// `(epoch, head_seq, head_hash)` of an incoming stream as a [`StreamHead`].
pub(crate) fn head(epoch: i64, seq: i64, hash: String) -> StoreResult<StreamHead> {
    Ok(StreamHead {
        epoch: uint(epoch, "epoch")?,
        seq: uint(seq, "head_seq")?,
        hash,
    })
}

/// The federation's storage: outgoing streams and their outbox, delivery state, incoming
/// streams and the inbox, the evidence log, the manifest and the local trust decisions.
///
/// Besides these, each backend has the inherent
/// `async fn fed_enqueue_in(tx: &mut sqlx::Transaction<'_, DB>, out: &Outgoing<'_>) ->
/// StoreResult<OutboxRow>`, for store functions that queue an envelope in the same transaction
/// as the business change that causes it (the transaction must come from `begin_write`).
#[async_trait]
pub trait FedStore: Send + Sync {
    // --- epoch
    /// The epoch of this node's outgoing streams (starts at 1).
    async fn fed_epoch(&self) -> StoreResult<u64>;
    /// Starts a new epoch (the current one + 1) and returns it; later envelopes start new
    /// streams at seq 1.
    async fn fed_start_epoch(&self, audit: &AuditEvent) -> StoreResult<u64>;

    // --- outbox and delivery
    /// Signs and queues `out`, in order, in one transaction (see `fed_enqueue_in`).
    async fn fed_enqueue(&self, out: &[Outgoing<'_>]) -> StoreResult<Vec<OutboxRow>>;
    /// Takes (or renews) the delivery lease of `peer` and `channel` for `owner` until
    /// `now + lease`, if no other owner holds an unexpired lease and the next attempt is due
    /// (`next_attempt_at <= now`). `Some` (the state, backlog included) when `owner` holds it.
    async fn fed_claim(
        &self,
        peer: CountryCode,
        channel: Channel,
        owner: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> StoreResult<Option<DeliveryState>>;
    /// Up to `limit` pending envelopes for `peer` on `channel`, by epoch and seq.
    async fn fed_pending(
        &self,
        peer: CountryCode,
        channel: Channel,
        limit: i64,
    ) -> StoreResult<Vec<OutboxRow>>;
    /// Applies a peer's verified ack (the caller checked its signature, sender and channel) in
    /// one transaction: each result's status (`stored`/`duplicate` → acked, `rejected` →
    /// rejected, `refused` → stays pending with the reason), every pending envelope of the
    /// ack's epoch up to `acked_through_seq` → acked, an `ack_received` evidence entry, and a
    /// delivery success (failures and backoff reset). A worker that sees a `refused` result
    /// records a failure afterwards, to retry with backoff.
    async fn fed_record_ack(
        &self,
        peer: CountryCode,
        channel: Channel,
        ack: &Ack,
        ack_bytes_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// A failed attempt: failures + 1, the error, and when to try next.
    async fn fed_record_failure(
        &self,
        peer: CountryCode,
        channel: Channel,
        error: &str,
        next_attempt_at: DateTime<Utc>,
        backoff_seconds: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// An authenticated request from `peer`: contact time, and every channel to it due now with
    /// no backoff.
    async fn fed_touch_peer(&self, peer: CountryCode, now: DateTime<Utc>) -> StoreResult<()>;
    /// Gives the lease up, if `owner` holds it.
    async fn fed_release(
        &self,
        peer: CountryCode,
        channel: Channel,
        owner: &str,
    ) -> StoreResult<()>;
    /// Every delivery row with its backlog, by peer and channel.
    async fn fed_delivery_states(&self) -> StoreResult<Vec<DeliveryState>>;
    /// Up to `limit` envelopes of the stream (`peer`, `channel`, `epoch`) after seq `after`,
    /// whatever their status, by seq (the pull endpoint).
    async fn fed_outbox_after(
        &self,
        peer: CountryCode,
        channel: Channel,
        epoch: u64,
        after: u64,
        limit: i64,
    ) -> StoreResult<Vec<OutboxRow>>;
    /// Envelopes a peer rejected, or refused and still pending, newest first.
    async fn fed_outbox_problems(&self, limit: i64) -> StoreResult<Vec<OutboxRow>>;

    // --- inbox
    /// The head of what this node has stored from `origin` on `channel`.
    async fn fed_stream_head(
        &self,
        origin: CountryCode,
        channel: Channel,
    ) -> StoreResult<Option<StreamHead>>;
    /// Every stream head from `origin`, by channel.
    async fn fed_stream_heads(
        &self,
        origin: CountryCode,
    ) -> StoreResult<Vec<(Channel, StreamHead)>>;
    /// The hash stored at a position of an incoming stream.
    async fn fed_inbox_hash(
        &self,
        origin: CountryCode,
        channel: Channel,
        epoch: u64,
        seq: u64,
    ) -> StoreResult<Option<String>>;
    /// A message with this id is in the inbox (under any position).
    async fn fed_inbox_has(&self, id: Uuid) -> StoreResult<bool>;
    /// In one transaction: the rows into the inbox (received at `now`), each stream's head
    /// advanced to its last row, and a `received` evidence entry per row. Each row must
    /// continue its stream (seq = head + 1 in the head's epoch, or seq 1 of a later epoch);
    /// otherwise, or when a position or id is already taken, nothing is written and the error
    /// is `Conflict`.
    async fn fed_store_inbound(&self, rows: &[InboundRow], now: DateTime<Utc>) -> StoreResult<()>;
    /// Up to `limit` stored, unprocessed envelopes, in the order received.
    async fn fed_unprocessed(&self, limit: i64) -> StoreResult<Vec<InboxRow>>;
    /// Marks a stored (or failed) envelope processed, or failed with `reason`.
    async fn fed_mark_processed(
        &self,
        id: Uuid,
        ok: bool,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Rejected or failed envelopes, newest first.
    async fn fed_inbox_problems(&self, limit: i64) -> StoreResult<Vec<InboxRow>>;

    // --- evidence
    /// Appends one entry, chained to the current head.
    async fn fed_evidence_append(&self, e: &EvidenceEvent) -> StoreResult<EvidenceEntry>;
    /// Entries with `seq > after`, oldest first, at most `limit` (for verification).
    async fn fed_evidence_chunk(&self, after: i64, limit: i64) -> StoreResult<Vec<EvidenceEntry>>;
    async fn fed_evidence_head(&self) -> StoreResult<Option<(i64, String)>>;
    /// Stores a seal; a second one for the same day is ignored.
    async fn fed_insert_seal(&self, s: &EvidenceSeal) -> StoreResult<()>;
    /// Every seal, by day.
    async fn fed_seals(&self) -> StoreResult<Vec<EvidenceSeal>>;

    // --- manifest and anchor
    /// The installed manifest with the highest version.
    async fn fed_manifest(&self) -> StoreResult<Option<ManifestRow>>;
    /// The trusted governance section (JSON).
    async fn fed_anchor(&self) -> StoreResult<Option<String>>;
    /// Installs a manifest (already verified by the caller) and the governance to trust from
    /// now on. `Conflict("manifest version")` when `row.version` is not greater than the
    /// highest version held.
    async fn fed_install_manifest(
        &self,
        row: &ManifestRow,
        anchor_json: &str,
        anchor_fp: &str,
        audit: &AuditEvent,
    ) -> StoreResult<()>;

    // --- local trust decisions
    async fn fed_approvals(&self) -> StoreResult<Vec<Approval>>;
    /// Approves (again: who and when are replaced).
    async fn fed_approve(&self, a: &Approval, audit: &AuditEvent) -> StoreResult<()>;
    /// `NotFound` when there is no such approval.
    async fn fed_revoke_approval(
        &self,
        kind: ApprovalKind,
        subject: &str,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    async fn fed_blocks(&self) -> StoreResult<Vec<Block>>;
    /// Blocks (again: reason, who and when are replaced).
    async fn fed_block(&self, b: &Block, audit: &AuditEvent) -> StoreResult<()>;
    /// Starts a new epoch after this node was found restored from an old backup, in one
    /// transaction: the node epoch + 1; every pending envelope of an older epoch issued again
    /// in the new one (same kind and payload, new id and position; the old row becomes
    /// `rejected` with reason `superseded`, never sent again); a `control.epoch` envelope to
    /// each of `notify`; the audit entry. Returns the new epoch.
    async fn fed_new_epoch(
        &self,
        audit: &AuditEvent,
        signer: &SigningIdentity,
        origin: CountryCode,
        manifest_version: u64,
        notify: &[CountryCode],
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// Every incoming stream's head, for status pages and the black-box tests.
    async fn fed_streams_in_all(&self) -> StoreResult<Vec<StreamIn>>;
    /// Every outgoing stream with its last assigned and last consumed (acked or rejected)
    /// sequence numbers.
    async fn fed_streams_out_all(&self) -> StoreResult<Vec<StreamOut>>;
    /// `NotFound` when there is no such block.
    async fn fed_unblock(
        &self,
        kind: BlockKind,
        subject: &str,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
}

macro_rules! impl_fed_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// A write transaction holding the audit chain lock (see the locking rule in
            /// `fed_sql.rs`).
            async fn fed_begin(&self) -> $crate::store::StoreResult<sqlx::Transaction<'static, $db>> {
                let mut tx = self.begin_write().await?;
                Self::lock_audit_chain(&mut tx).await?;
                Ok(tx)
            }

            /// Appends an evidence entry in `tx`, chained to the current head.
            async fn fed_evidence_in(
                tx: &mut sqlx::Transaction<'_, $db>,
                event: &$crate::store::fed_sql::EvidenceEvent,
            ) -> $crate::store::StoreResult<$crate::store::fed_sql::EvidenceEntry> {
                use $crate::store::fed_sql::int;
                Self::lock_audit_chain(tx).await?;
                let head: Option<(i64, String)> =
                    sqlx::query_as("SELECT seq, hash FROM fed_evidence ORDER BY seq DESC LIMIT 1")
                        .fetch_optional(&mut **tx)
                        .await?;
                let (seq, prev) = head.unwrap_or((0, puente_federation::ZERO_HASH.to_owned()));
                let e = $crate::store::fed_sql::EvidenceEntry::seal(event, seq + 1, &prev);
                sqlx::query(&format!(
                    "INSERT INTO fed_evidence ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    $crate::store::fed_sql::EVIDENCE_COLS
                ))
                .bind(e.seq)
                .bind(e.at)
                .bind(e.direction.as_str())
                .bind(e.peer.as_str())
                .bind(e.channel.as_str())
                .bind(int(e.epoch)?)
                .bind(int(e.stream_seq)?)
                .bind(e.message_id)
                .bind(&e.object_hash)
                .bind(&e.prev_hash)
                .bind(&e.hash)
                .execute(&mut **tx)
                .await?;
                Ok(e)
            }

            /// Signs `out` as the next envelope of its stream and queues it, in `tx` (which must
            /// come from `begin_write`): the node's epoch from `fed_state`; the stream's head
            /// advanced under its row lock (`UPDATE … RETURNING`); the envelope built with
            /// `prev` = the head's hash (the zero hash at seq 1) and signed by `out.signer`; its
            /// exact bytes and hash stored; the head's hash updated; the delivery row created if
            /// missing; and a `sent` evidence entry.
            async fn fed_enqueue_in(
                tx: &mut sqlx::Transaction<'_, $db>,
                out: &$crate::store::fed_sql::Outgoing<'_>,
            ) -> $crate::store::StoreResult<$crate::store::fed_sql::OutboxRow> {
                use chrono::SubsecRound as _;
                use $crate::store::fed_sql::{EvidenceDirection, EvidenceEvent, OutboxRow, OutboxStatus};
                use $crate::store::StoreError;
                // First, as every federation write: the chain lock (see the locking rule).
                Self::lock_audit_chain(tx).await?;
                let (epoch,): (i64,) = sqlx::query_as("SELECT epoch FROM fed_state WHERE id = 1")
                    .fetch_one(&mut **tx)
                    .await?;
                let destination = out.destination.as_str();
                let channel = out.channel.as_str();
                sqlx::query(
                    "INSERT INTO fed_streams_out (destination, channel, epoch, last_seq, last_hash) \
                     VALUES ($1, $2, $3, 0, $4) ON CONFLICT (destination, channel, epoch) DO NOTHING",
                )
                .bind(destination)
                .bind(channel)
                .bind(epoch)
                .bind(puente_federation::ZERO_HASH)
                .execute(&mut **tx)
                .await?;
                let (seq, prev): (i64, String) = sqlx::query_as(
                    "UPDATE fed_streams_out SET last_seq = last_seq + 1 \
                     WHERE destination = $1 AND channel = $2 AND epoch = $3 RETURNING last_seq, last_hash",
                )
                .bind(destination)
                .bind(channel)
                .bind(epoch)
                .fetch_one(&mut **tx)
                .await?;
                let now = out.now.trunc_subsecs(6);
                let unsigned = puente_federation::UnsignedEnvelope {
                    id: out.id,
                    origin: out.origin,
                    destination: out.destination,
                    channel: out.channel,
                    epoch: u64::try_from(epoch).map_err(|_| StoreError::Corrupt("epoch is negative".into()))?,
                    seq: u64::try_from(seq).map_err(|_| StoreError::Corrupt("last_seq is negative".into()))?,
                    prev,
                    kind: out.kind.to_owned(),
                    created_at: now,
                    manifest_version: out.manifest_version,
                    payload: out.payload.clone(),
                };
                let signed = unsigned
                    .sign(out.signer)
                    .map_err(|e| StoreError::Corrupt(format!("the envelope cannot be signed: {e}")))?;
                let body = String::from_utf8(signed.bytes)
                    .map_err(|_| StoreError::Corrupt("the envelope is not UTF-8".into()))?;
                let row = OutboxRow {
                    id: out.id,
                    destination: out.destination,
                    channel: out.channel,
                    epoch: signed.envelope.epoch,
                    seq: signed.envelope.seq,
                    hash: signed.hash,
                    kind: out.kind.to_owned(),
                    body,
                    created_at: now,
                    status: OutboxStatus::Pending,
                    last_result: None,
                    reason: None,
                    acked_at: None,
                };
                {
                    use $crate::store::OnConflict as _;
                    sqlx::query(&format!(
                        "INSERT INTO fed_outbox ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, NULL)",
                        $crate::store::fed_sql::OUTBOX_COLS
                    ))
                    .bind(row.id)
                    .bind(destination)
                    .bind(channel)
                    .bind(epoch)
                    .bind(seq)
                    .bind(&row.hash)
                    .bind(&row.kind)
                    .bind(&row.body)
                    .bind(row.created_at)
                    .bind(row.status.as_str())
                    .execute(&mut **tx)
                    .await
                    .on_unique("message id")?;
                }
                sqlx::query(
                    "UPDATE fed_streams_out SET last_hash = $4 WHERE destination = $1 AND channel = $2 AND epoch = $3",
                )
                .bind(destination)
                .bind(channel)
                .bind(epoch)
                .bind(&row.hash)
                .execute(&mut **tx)
                .await?;
                sqlx::query(
                    "INSERT INTO fed_delivery (peer, channel, next_attempt_at, backoff_seconds, failures) \
                     VALUES ($1, $2, $3, 0, 0) ON CONFLICT (peer, channel) DO NOTHING",
                )
                .bind(destination)
                .bind(channel)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                Self::fed_evidence_in(
                    tx,
                    &EvidenceEvent {
                        at: now,
                        direction: EvidenceDirection::Sent,
                        peer: out.destination,
                        channel: out.channel,
                        epoch: row.epoch,
                        stream_seq: row.seq,
                        message_id: Some(row.id),
                        object_hash: row.hash.clone(),
                    },
                )
                .await?;
                Ok(row)
            }

            async fn fed_delivery_state(
                &self,
                peer: puente_common::CountryCode,
                channel: puente_federation::Channel,
            ) -> $crate::store::StoreResult<Option<$crate::store::fed_sql::DeliveryState>> {
                let raw: Option<$crate::store::fed_sql::RawDelivery> = sqlx::query_as(&format!(
                    "{} WHERE d.peer = $1 AND d.channel = $2",
                    $crate::store::fed_sql::DELIVERY_SELECT
                ))
                .bind(peer.as_str())
                .bind(channel.as_str())
                .fetch_optional(&self.pool)
                .await?;
                raw.map($crate::store::fed_sql::DeliveryState::try_from).transpose()
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::fed_sql::FedStore for $store {
            async fn fed_epoch(&self) -> $crate::store::StoreResult<u64> {
                let (epoch,): (i64,) = sqlx::query_as("SELECT epoch FROM fed_state WHERE id = 1")
                    .fetch_one(&self.pool)
                    .await?;
                u64::try_from(epoch).map_err(|_| $crate::store::StoreError::Corrupt("epoch is negative".into()))
            }

            async fn fed_start_epoch(&self, audit: &$crate::audit::AuditEvent) -> $crate::store::StoreResult<u64> {
                let mut tx = self.fed_begin().await?;
                let (epoch,): (i64,) = sqlx::query_as("UPDATE fed_state SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch")
                    .fetch_one(&mut *tx)
                    .await?;
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                u64::try_from(epoch).map_err(|_| $crate::store::StoreError::Corrupt("epoch is negative".into()))
            }

            async fn fed_enqueue(
                &self,
                out: &[$crate::store::fed_sql::Outgoing<'_>],
            ) -> $crate::store::StoreResult<Vec<$crate::store::fed_sql::OutboxRow>> {
                if out.is_empty() {
                    return Ok(Vec::new());
                }
                let mut tx = self.fed_begin().await?;
                let mut rows = Vec::with_capacity(out.len());
                for o in out {
                    rows.push(Self::fed_enqueue_in(&mut tx, o).await?);
                }
                tx.commit().await?;
                Ok(rows)
            }

            async fn fed_claim(
                &self,
                peer: puente_common::CountryCode,
                channel: puente_federation::Channel,
                owner: &str,
                now: chrono::DateTime<chrono::Utc>,
                lease: chrono::Duration,
            ) -> $crate::store::StoreResult<Option<$crate::store::fed_sql::DeliveryState>> {
                sqlx::query(
                    "INSERT INTO fed_delivery (peer, channel, next_attempt_at, backoff_seconds, failures) \
                     VALUES ($1, $2, $3, 0, 0) ON CONFLICT (peer, channel) DO NOTHING",
                )
                .bind(peer.as_str())
                .bind(channel.as_str())
                .bind(now)
                .execute(&self.pool)
                .await?;
                let done = sqlx::query(
                    "UPDATE fed_delivery SET lease_owner = $3, lease_until = $4 \
                     WHERE peer = $1 AND channel = $2 \
                     AND (lease_owner IS NULL OR lease_until < $5 OR lease_owner = $3) \
                     AND next_attempt_at <= $5",
                )
                .bind(peer.as_str())
                .bind(channel.as_str())
                .bind(owner)
                .bind(now + lease)
                .bind(now)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 {
                    return Ok(None);
                }
                self.fed_delivery_state(peer, channel).await
            }

            async fn fed_pending(
                &self,
                peer: puente_common::CountryCode,
                channel: puente_federation::Channel,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::fed_sql::OutboxRow>> {
                let raw: Vec<$crate::store::fed_sql::RawOutbox> = sqlx::query_as(&format!(
                    "SELECT {} FROM fed_outbox WHERE destination = $1 AND channel = $2 AND status = 'pending' \
                     ORDER BY epoch, seq LIMIT $3",
                    $crate::store::fed_sql::OUTBOX_COLS
                ))
                .bind(peer.as_str())
                .bind(channel.as_str())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                $crate::store::fed_sql::rows(raw)
            }

            async fn fed_record_ack(
                &self,
                peer: puente_common::CountryCode,
                channel: puente_federation::Channel,
                ack: &puente_federation::Ack,
                ack_bytes_hash: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                use puente_federation::AckOutcome;
                use $crate::store::fed_sql::{int, outcome_code, EvidenceDirection, EvidenceEvent};
                let mut tx = self.fed_begin().await?;
                for r in &ack.results {
                    let status = match r.result {
                        AckOutcome::Stored | AckOutcome::Duplicate => Some("acked"),
                        AckOutcome::Rejected => Some("rejected"),
                        AckOutcome::Refused => None,
                    };
                    sqlx::query(
                        "UPDATE fed_outbox SET status = COALESCE($4, status), last_result = $5, reason = $6, \
                         acked_at = CASE WHEN $4 IS NULL THEN acked_at ELSE $7 END \
                         WHERE id = $1 AND destination = $2 AND channel = $3 AND status = 'pending'",
                    )
                    .bind(r.id)
                    .bind(peer.as_str())
                    .bind(channel.as_str())
                    .bind(status)
                    .bind(outcome_code(&r.result))
                    .bind(&r.reason)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query(
                    "UPDATE fed_outbox SET status = 'acked', last_result = 'stored', reason = NULL, acked_at = $5 \
                     WHERE destination = $1 AND channel = $2 AND epoch = $3 AND seq <= $4 AND status = 'pending'",
                )
                .bind(peer.as_str())
                .bind(channel.as_str())
                .bind(int(ack.epoch)?)
                .bind(int(ack.acked_through_seq)?)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                Self::fed_evidence_in(
                    &mut tx,
                    &EvidenceEvent {
                        at: now,
                        direction: EvidenceDirection::AckReceived,
                        peer,
                        channel,
                        epoch: ack.epoch,
                        stream_seq: ack.acked_through_seq,
                        message_id: None,
                        object_hash: ack_bytes_hash.to_owned(),
                    },
                )
                .await?;
                sqlx::query(
                    "INSERT INTO fed_delivery (peer, channel, next_attempt_at, backoff_seconds, failures, \
                     last_attempt_at, last_success_at, last_contact_at) VALUES ($1, $2, $3, 0, 0, $3, $3, $3) \
                     ON CONFLICT (peer, channel) DO UPDATE SET next_attempt_at = $3, backoff_seconds = 0, \
                     failures = 0, last_error = NULL, last_attempt_at = $3, last_success_at = $3, last_contact_at = $3",
                )
                .bind(peer.as_str())
                .bind(channel.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn fed_record_failure(
                &self,
                peer: puente_common::CountryCode,
                channel: puente_federation::Channel,
                error: &str,
                next_attempt_at: chrono::DateTime<chrono::Utc>,
                backoff_seconds: i64,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO fed_delivery (peer, channel, next_attempt_at, backoff_seconds, failures, last_error, \
                     last_attempt_at) VALUES ($1, $2, $3, $4, 1, $5, $6) \
                     ON CONFLICT (peer, channel) DO UPDATE SET next_attempt_at = $3, backoff_seconds = $4, \
                     failures = fed_delivery.failures + 1, last_error = $5, last_attempt_at = $6",
                )
                .bind(peer.as_str())
                .bind(channel.as_str())
                .bind(next_attempt_at)
                .bind(backoff_seconds)
                .bind(error)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn fed_touch_peer(
                &self,
                peer: puente_common::CountryCode,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE fed_delivery SET last_contact_at = $2, next_attempt_at = $2, backoff_seconds = 0 WHERE peer = $1",
                )
                .bind(peer.as_str())
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn fed_release(
                &self,
                peer: puente_common::CountryCode,
                channel: puente_federation::Channel,
                owner: &str,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE fed_delivery SET lease_owner = NULL, lease_until = NULL \
                     WHERE peer = $1 AND channel = $2 AND lease_owner = $3",
                )
                .bind(peer.as_str())
                .bind(channel.as_str())
                .bind(owner)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn fed_delivery_states(&self) -> $crate::store::StoreResult<Vec<$crate::store::fed_sql::DeliveryState>> {
                let raw: Vec<$crate::store::fed_sql::RawDelivery> = sqlx::query_as(&format!(
                    "{} ORDER BY d.peer, d.channel",
                    $crate::store::fed_sql::DELIVERY_SELECT
                ))
                .fetch_all(&self.pool)
                .await?;
                $crate::store::fed_sql::rows(raw)
            }

            async fn fed_outbox_after(
                &self,
                peer: puente_common::CountryCode,
                channel: puente_federation::Channel,
                epoch: u64,
                after: u64,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::fed_sql::OutboxRow>> {
                use $crate::store::fed_sql::int;
                let raw: Vec<$crate::store::fed_sql::RawOutbox> = sqlx::query_as(&format!(
                    "SELECT {} FROM fed_outbox WHERE destination = $1 AND channel = $2 AND epoch = $3 AND seq > $4 \
                     ORDER BY seq LIMIT $5",
                    $crate::store::fed_sql::OUTBOX_COLS
                ))
                .bind(peer.as_str())
                .bind(channel.as_str())
                .bind(int(epoch)?)
                .bind(int(after)?)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                $crate::store::fed_sql::rows(raw)
            }

            async fn fed_outbox_problems(&self, limit: i64) -> $crate::store::StoreResult<Vec<$crate::store::fed_sql::OutboxRow>> {
                let raw: Vec<$crate::store::fed_sql::RawOutbox> = sqlx::query_as(&format!(
                    "SELECT {} FROM fed_outbox WHERE status = 'rejected' OR (status = 'pending' AND last_result = 'refused') \
                     ORDER BY created_at DESC, seq DESC LIMIT $1",
                    $crate::store::fed_sql::OUTBOX_COLS
                ))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                $crate::store::fed_sql::rows(raw)
            }

            async fn fed_stream_head(
                &self,
                origin: puente_common::CountryCode,
                channel: puente_federation::Channel,
            ) -> $crate::store::StoreResult<Option<puente_federation::accept::StreamHead>> {
                let raw: Option<(i64, i64, String)> = sqlx::query_as(
                    "SELECT epoch, head_seq, head_hash FROM fed_streams_in WHERE origin = $1 AND channel = $2",
                )
                .bind(origin.as_str())
                .bind(channel.as_str())
                .fetch_optional(&self.pool)
                .await?;
                raw.map(|(e, s, h)| $crate::store::fed_sql::head(e, s, h)).transpose()
            }

            async fn fed_stream_heads(
                &self,
                origin: puente_common::CountryCode,
            ) -> $crate::store::StoreResult<Vec<(puente_federation::Channel, puente_federation::accept::StreamHead)>> {
                let raw: Vec<(String, i64, i64, String)> = sqlx::query_as(
                    "SELECT channel, epoch, head_seq, head_hash FROM fed_streams_in WHERE origin = $1 ORDER BY channel",
                )
                .bind(origin.as_str())
                .fetch_all(&self.pool)
                .await?;
                raw.into_iter()
                    .map(|(c, e, s, h)| {
                        let channel = c
                            .parse()
                            .map_err(|_| $crate::store::StoreError::Corrupt(format!("bad channel {c:?}")))?;
                        Ok((channel, $crate::store::fed_sql::head(e, s, h)?))
                    })
                    .collect()
            }

            async fn fed_inbox_hash(
                &self,
                origin: puente_common::CountryCode,
                channel: puente_federation::Channel,
                epoch: u64,
                seq: u64,
            ) -> $crate::store::StoreResult<Option<String>> {
                use $crate::store::fed_sql::int;
                let raw: Option<(String,)> = sqlx::query_as(
                    "SELECT hash FROM fed_inbox WHERE origin = $1 AND channel = $2 AND epoch = $3 AND seq = $4",
                )
                .bind(origin.as_str())
                .bind(channel.as_str())
                .bind(int(epoch)?)
                .bind(int(seq)?)
                .fetch_optional(&self.pool)
                .await?;
                Ok(raw.map(|r| r.0))
            }

            async fn fed_inbox_has(&self, id: uuid::Uuid) -> $crate::store::StoreResult<bool> {
                let raw: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM fed_inbox WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(raw.is_some())
            }

            async fn fed_store_inbound(
                &self,
                rows: &[$crate::store::fed_sql::InboundRow],
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                use $crate::store::fed_sql::{int, EvidenceDirection, EvidenceEvent, InboxStatus};
                use $crate::store::{OnConflict as _, StoreError};
                if rows.is_empty() {
                    return Ok(());
                }
                let mut tx = self.fed_begin().await?;
                // (origin, channel) → (epoch, seq, hash) as advanced so far in this batch;
                // epoch 0 stands for "nothing received yet".
                let mut heads: std::collections::BTreeMap<(String, String), (i64, i64, String)> =
                    std::collections::BTreeMap::new();
                for r in rows {
                    let key = (r.origin.as_str().to_owned(), r.channel.as_str().to_owned());
                    if !heads.contains_key(&key) {
                        sqlx::query(
                            "INSERT INTO fed_streams_in (origin, channel, epoch, head_seq, head_hash) \
                             VALUES ($1, $2, 0, 0, $3) ON CONFLICT (origin, channel) DO NOTHING",
                        )
                        .bind(&key.0)
                        .bind(&key.1)
                        .bind(puente_federation::ZERO_HASH)
                        .execute(&mut *tx)
                        .await?;
                        // A no-op update: the row lock serialises writers of this stream.
                        let h: (i64, i64, String) = sqlx::query_as(
                            "UPDATE fed_streams_in SET head_seq = head_seq WHERE origin = $1 AND channel = $2 \
                             RETURNING epoch, head_seq, head_hash",
                        )
                        .bind(&key.0)
                        .bind(&key.1)
                        .fetch_one(&mut *tx)
                        .await?;
                        heads.insert(key.clone(), h);
                    }
                    let (epoch, seq) = (int(r.epoch)?, int(r.seq)?);
                    let continues = match heads.get(&key) {
                        Some((he, hs, _)) => (epoch == *he && seq == hs + 1) || (epoch > *he && seq == 1),
                        None => false,
                    };
                    if !continues {
                        return Err(StoreError::Conflict("stream position"));
                    }
                    let status = if r.rejected.is_some() { InboxStatus::Rejected } else { InboxStatus::Stored };
                    let body = if r.rejected.is_some() { None } else { r.body.as_deref() };
                    sqlx::query(&format!(
                        "INSERT INTO fed_inbox ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL)",
                        $crate::store::fed_sql::INBOX_COLS
                    ))
                    .bind(r.id)
                    .bind(&key.0)
                    .bind(&key.1)
                    .bind(epoch)
                    .bind(seq)
                    .bind(&r.hash)
                    .bind(&r.kind)
                    .bind(body)
                    .bind(now)
                    .bind(status.as_str())
                    .bind(&r.rejected)
                    .execute(&mut *tx)
                    .await
                    .on_unique("inbox message")?;
                    Self::fed_evidence_in(
                        &mut tx,
                        &EvidenceEvent {
                            at: now,
                            direction: EvidenceDirection::Received,
                            peer: r.origin,
                            channel: r.channel,
                            epoch: r.epoch,
                            stream_seq: r.seq,
                            message_id: Some(r.id),
                            object_hash: r.hash.clone(),
                        },
                    )
                    .await?;
                    heads.insert(key, (epoch, seq, r.hash.clone()));
                }
                for ((origin, channel), (epoch, seq, hash)) in &heads {
                    sqlx::query(
                        "UPDATE fed_streams_in SET epoch = $3, head_seq = $4, head_hash = $5 WHERE origin = $1 AND channel = $2",
                    )
                    .bind(origin)
                    .bind(channel)
                    .bind(epoch)
                    .bind(seq)
                    .bind(hash)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn fed_unprocessed(&self, limit: i64) -> $crate::store::StoreResult<Vec<$crate::store::fed_sql::InboxRow>> {
                let raw: Vec<$crate::store::fed_sql::RawInbox> = sqlx::query_as(&format!(
                    "SELECT {} FROM fed_inbox WHERE status = 'stored' \
                     ORDER BY received_at, origin, channel, epoch, seq LIMIT $1",
                    $crate::store::fed_sql::INBOX_COLS
                ))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                $crate::store::fed_sql::rows(raw)
            }

            async fn fed_mark_processed(
                &self,
                id: uuid::Uuid,
                ok: bool,
                reason: Option<&str>,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                use $crate::store::fed_sql::InboxStatus;
                let status = if ok { InboxStatus::Processed } else { InboxStatus::Failed };
                let done = sqlx::query(
                    "UPDATE fed_inbox SET status = $2, reason = $3, processed_at = $4 \
                     WHERE id = $1 AND status IN ('stored', 'failed')",
                )
                .bind(id)
                .bind(status.as_str())
                .bind(reason)
                .bind(now)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::store::StoreError::NotFound);
                }
                Ok(())
            }

            async fn fed_inbox_problems(&self, limit: i64) -> $crate::store::StoreResult<Vec<$crate::store::fed_sql::InboxRow>> {
                let raw: Vec<$crate::store::fed_sql::RawInbox> = sqlx::query_as(&format!(
                    "SELECT {} FROM fed_inbox WHERE status IN ('rejected', 'failed') \
                     ORDER BY received_at DESC, seq DESC LIMIT $1",
                    $crate::store::fed_sql::INBOX_COLS
                ))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                $crate::store::fed_sql::rows(raw)
            }

            async fn fed_evidence_append(
                &self,
                e: &$crate::store::fed_sql::EvidenceEvent,
            ) -> $crate::store::StoreResult<$crate::store::fed_sql::EvidenceEntry> {
                let mut tx = self.fed_begin().await?;
                let entry = Self::fed_evidence_in(&mut tx, e).await?;
                tx.commit().await?;
                Ok(entry)
            }

            async fn fed_evidence_chunk(
                &self,
                after: i64,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::fed_sql::EvidenceEntry>> {
                let raw: Vec<$crate::store::fed_sql::RawEvidence> = sqlx::query_as(&format!(
                    "SELECT {} FROM fed_evidence WHERE seq > $1 ORDER BY seq LIMIT $2",
                    $crate::store::fed_sql::EVIDENCE_COLS
                ))
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                $crate::store::fed_sql::rows(raw)
            }

            async fn fed_evidence_head(&self) -> $crate::store::StoreResult<Option<(i64, String)>> {
                Ok(sqlx::query_as("SELECT seq, hash FROM fed_evidence ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn fed_insert_seal(&self, s: &$crate::store::fed_sql::EvidenceSeal) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO fed_evidence_seals (day, through_seq, root, key_id, sig, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (day) DO NOTHING",
                )
                .bind(s.day)
                .bind(s.through_seq)
                .bind(&s.root)
                .bind(s.key_id.as_str())
                .bind(&s.sig)
                .bind(s.created_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn fed_seals(&self) -> $crate::store::StoreResult<Vec<$crate::store::fed_sql::EvidenceSeal>> {
                Ok(sqlx::query_as(
                    "SELECT day, through_seq, root, key_id, sig, created_at FROM fed_evidence_seals ORDER BY day",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn fed_manifest(&self) -> $crate::store::StoreResult<Option<$crate::store::fed_sql::ManifestRow>> {
                let raw: Option<$crate::store::fed_sql::RawManifest> = sqlx::query_as(
                    "SELECT version, body, installed_at, source FROM fed_manifests ORDER BY version DESC LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await?;
                raw.map($crate::store::fed_sql::ManifestRow::try_from).transpose()
            }

            async fn fed_anchor(&self) -> $crate::store::StoreResult<Option<String>> {
                let (anchor,): (Option<String>,) = sqlx::query_as("SELECT anchor FROM fed_state WHERE id = 1")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(anchor)
            }

            async fn fed_install_manifest(
                &self,
                row: &$crate::store::fed_sql::ManifestRow,
                anchor_json: &str,
                anchor_fp: &str,
                audit: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<()> {
                use $crate::store::OnConflict as _;
                let version = $crate::store::fed_sql::int(row.version)?;
                let mut tx = self.fed_begin().await?;
                // The state row's lock, then the check: two concurrent installs queue here.
                sqlx::query("UPDATE fed_state SET anchor = $1, anchor_fingerprint = $2 WHERE id = 1")
                    .bind(anchor_json)
                    .bind(anchor_fp)
                    .execute(&mut *tx)
                    .await?;
                let (held,): (Option<i64>,) = sqlx::query_as("SELECT MAX(version) FROM fed_manifests")
                    .fetch_one(&mut *tx)
                    .await?;
                if held.is_some_and(|h| version <= h) {
                    return Err($crate::store::StoreError::Conflict("manifest version"));
                }
                sqlx::query("INSERT INTO fed_manifests (version, body, installed_at, source) VALUES ($1, $2, $3, $4)")
                    .bind(version)
                    .bind(&row.body)
                    .bind(row.installed_at)
                    .bind(&row.source)
                    .execute(&mut *tx)
                    .await
                    .on_unique("manifest version")?;
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn fed_approvals(&self) -> $crate::store::StoreResult<Vec<$crate::store::fed_sql::Approval>> {
                let raw: Vec<$crate::store::fed_sql::RawApproval> = sqlx::query_as(
                    "SELECT kind, subject, approved_by, approved_at FROM fed_approvals ORDER BY kind, subject",
                )
                .fetch_all(&self.pool)
                .await?;
                $crate::store::fed_sql::rows(raw)
            }

            async fn fed_approve(
                &self,
                a: &$crate::store::fed_sql::Approval,
                audit: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.fed_begin().await?;
                sqlx::query(
                    "INSERT INTO fed_approvals (kind, subject, approved_by, approved_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (kind, subject) DO UPDATE SET approved_by = $3, approved_at = $4",
                )
                .bind(a.kind.as_str())
                .bind(&a.subject)
                .bind(&a.approved_by)
                .bind(a.approved_at)
                .execute(&mut *tx)
                .await?;
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn fed_revoke_approval(
                &self,
                kind: $crate::store::fed_sql::ApprovalKind,
                subject: &str,
                audit: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.fed_begin().await?;
                let done = sqlx::query("DELETE FROM fed_approvals WHERE kind = $1 AND subject = $2")
                    .bind(kind.as_str())
                    .bind(subject)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::store::StoreError::NotFound);
                }
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn fed_blocks(&self) -> $crate::store::StoreResult<Vec<$crate::store::fed_sql::Block>> {
                let raw: Vec<$crate::store::fed_sql::RawBlock> = sqlx::query_as(
                    "SELECT kind, subject, reason, blocked_by, blocked_at FROM fed_blocks ORDER BY kind, subject",
                )
                .fetch_all(&self.pool)
                .await?;
                $crate::store::fed_sql::rows(raw)
            }

            async fn fed_block(
                &self,
                b: &$crate::store::fed_sql::Block,
                audit: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.fed_begin().await?;
                sqlx::query(
                    "INSERT INTO fed_blocks (kind, subject, reason, blocked_by, blocked_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (kind, subject) DO UPDATE SET reason = $3, blocked_by = $4, blocked_at = $5",
                )
                .bind(b.kind.as_str())
                .bind(&b.subject)
                .bind(&b.reason)
                .bind(&b.blocked_by)
                .bind(b.blocked_at)
                .execute(&mut *tx)
                .await?;
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn fed_new_epoch(
                &self,
                audit: &$crate::audit::AuditEvent,
                signer: &puente_federation::SigningIdentity,
                origin: puente_common::CountryCode,
                manifest_version: u64,
                notify: &[puente_common::CountryCode],
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<u64> {
                let mut tx = self.fed_begin().await?;
                Self::append_in(&mut tx, audit).await?;
                let (epoch,): (i64,) = sqlx::query_as("UPDATE fed_state SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch")
                    .fetch_one(&mut *tx)
                    .await?;
                let epoch = $crate::store::fed_sql::uint(epoch, "epoch")?;
                let raw: Vec<$crate::store::fed_sql::RawOutbox> = sqlx::query_as(&format!(
                    "SELECT {} FROM fed_outbox WHERE status = 'pending' AND epoch < $1 ORDER BY epoch, created_at, seq",
                    $crate::store::fed_sql::OUTBOX_COLS
                ))
                .bind(i64::try_from(epoch).unwrap_or(i64::MAX))
                .fetch_all(&mut *tx)
                .await?;
                let old: Vec<$crate::store::fed_sql::OutboxRow> = $crate::store::fed_sql::rows(raw)?;
                for dest in notify {
                    let out = $crate::store::fed_sql::Outgoing {
                        id: uuid::Uuid::now_v7(),
                        origin,
                        destination: *dest,
                        channel: puente_federation::Channel::Control,
                        kind: "control.epoch",
                        payload: serde_json::json!({ "epoch": epoch, "reason": "restored_from_backup" }),
                        manifest_version,
                        signer,
                        now,
                    };
                    Self::fed_enqueue_in(&mut tx, &out).await?;
                }
                for row in &old {
                    let env = puente_federation::Envelope::parse(row.body.as_bytes())
                        .map_err(|r| $crate::store::StoreError::Corrupt(format!("outbox envelope {}: {}", row.id, r.code())))?;
                    let out = $crate::store::fed_sql::Outgoing {
                        id: uuid::Uuid::now_v7(),
                        origin,
                        destination: row.destination,
                        channel: row.channel,
                        kind: &env.kind,
                        payload: env.payload.clone(),
                        manifest_version,
                        signer,
                        now,
                    };
                    Self::fed_enqueue_in(&mut tx, &out).await?;
                    sqlx::query("UPDATE fed_outbox SET status = 'rejected', reason = 'superseded' WHERE id = $1")
                        .bind(row.id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(epoch)
            }

            async fn fed_streams_in_all(&self) -> $crate::store::StoreResult<Vec<$crate::store::fed_sql::StreamIn>> {
                let raw: Vec<(String, String, i64, i64, String)> = sqlx::query_as(
                    "SELECT origin, channel, epoch, head_seq, head_hash FROM fed_streams_in ORDER BY origin, channel",
                )
                .fetch_all(&self.pool)
                .await?;
                raw.into_iter()
                    .map(|(o, c, e, s, h)| {
                        Ok($crate::store::fed_sql::StreamIn {
                            origin: o.parse().map_err(|_| $crate::store::StoreError::Corrupt(format!("bad origin {o:?}")))?,
                            channel: c.parse().map_err(|_| $crate::store::StoreError::Corrupt(format!("bad channel {c:?}")))?,
                            head: $crate::store::fed_sql::head(e, s, h)?,
                        })
                    })
                    .collect()
            }

            async fn fed_streams_out_all(&self) -> $crate::store::StoreResult<Vec<$crate::store::fed_sql::StreamOut>> {
                let raw: Vec<(String, String, i64, i64, String, i64)> = sqlx::query_as(
                    "SELECT s.destination, s.channel, s.epoch, s.last_seq, s.last_hash, \
                     COALESCE((SELECT MAX(o.seq) FROM fed_outbox o WHERE o.destination = s.destination \
                       AND o.channel = s.channel AND o.epoch = s.epoch AND o.status <> 'pending'), 0) \
                     FROM fed_streams_out s ORDER BY s.destination, s.channel, s.epoch",
                )
                .fetch_all(&self.pool)
                .await?;
                raw.into_iter()
                    .map(|(d, c, e, last, h, acked)| {
                        Ok($crate::store::fed_sql::StreamOut {
                            destination: d.parse().map_err(|_| $crate::store::StoreError::Corrupt(format!("bad destination {d:?}")))?,
                            channel: c.parse().map_err(|_| $crate::store::StoreError::Corrupt(format!("bad channel {c:?}")))?,
                            epoch: $crate::store::fed_sql::uint(e, "epoch")?,
                            last_seq: $crate::store::fed_sql::uint(last, "seq")?,
                            last_hash: h,
                            consumed_seq: $crate::store::fed_sql::uint(acked, "seq")?,
                        })
                    })
                    .collect()
            }

            async fn fed_unblock(
                &self,
                kind: $crate::store::fed_sql::BlockKind,
                subject: &str,
                audit: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.fed_begin().await?;
                let done = sqlx::query("DELETE FROM fed_blocks WHERE kind = $1 AND subject = $2")
                    .bind(kind.as_str())
                    .bind(subject)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::store::StoreError::NotFound);
                }
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(super) use impl_fed_store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for d in EvidenceDirection::ALL {
            assert_eq!(d.as_str().parse::<EvidenceDirection>().unwrap(), *d);
        }
        for s in InboxStatus::ALL {
            assert_eq!(s.as_str().parse::<InboxStatus>().unwrap(), *s);
        }
        assert!("nope".parse::<OutboxStatus>().is_err());
    }

    #[test]
    fn evidence_hash_input_is_the_documented_array() {
        let at = DateTime::from_timestamp(1_800_000_000, 123_456_789).unwrap();
        let id = Uuid::parse_str("0192f0e4-7c1a-7b3e-9d2a-3f4b5c6d7e8f").unwrap();
        let e = EvidenceEntry::seal(
            &EvidenceEvent {
                at,
                direction: EvidenceDirection::AckSent,
                peer: "HND".parse().unwrap(),
                channel: Channel::Directory,
                epoch: 1,
                stream_seq: 7,
                message_id: Some(id),
                object_hash: "ab".repeat(32),
            },
            3,
            &"0".repeat(64),
        );
        assert_eq!(
            e.hash_input(),
            format!(
                "[3,\"2027-01-15T08:00:00.123456Z\",\"ack_sent\",\"HND\",\"directory\",1,7,\
                 \"0192f0e4-7c1a-7b3e-9d2a-3f4b5c6d7e8f\",\"{}\",\"{}\"]",
                "ab".repeat(32),
                "0".repeat(64)
            )
        );
        assert_eq!(
            e.hash,
            hex::encode(Sha256::digest(e.hash_input().as_bytes()))
        );
        assert_eq!(e.at.timestamp_subsec_nanos(), 123_456_000);
    }
}
