//! The audit trail: append-only, each entry chained to the previous by SHA-256, and sealed by
//! signed checkpoints.
//!
//! - [`AuditEvent`] is what a change or access says about itself; the store turns it into an
//!   [`AuditEntry`] (sequence number, id, previous hash, hash) inside the same transaction as
//!   the change.
//! - [`Verifier`] walks the whole trail and names the first entry that was altered, removed or
//!   reordered; [`verify_store`] runs it with the checkpoints.
//! - [`checkpoint`] signs the current head with the node key (daily job and CLI).
//! - `routes` is the audit page for auditors and node administrators.

pub mod routes;

use chrono::{DateTime, SecondsFormat, Utc};
use puente_federation::identity::verify;
use puente_federation::{SignatureContext, SigningIdentity};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::store::{Store, StoreError, StoreResult};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How an audited attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    /// Refused by authorization or policy.
    Denied,
    /// Failed (wrong password, wrong code, bad input).
    Failure,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Success, Outcome::Denied, Outcome::Failure];
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Denied => "denied",
            Outcome::Failure => "failure",
        }
    }
}

/// What happened, by whom, to what. Never a victim's data, a password or a secret: `detail`
/// holds codes, field names and ids only.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    /// Username, `cli:<os user>`, `system`, or `anonymous`.
    pub actor: String,
    pub org_id: Option<Uuid>,
    /// Dotted code, e.g. `auth.login`, `user.create`.
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub outcome: Outcome,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub detail: serde_json::Value,
}

/// Who acts and from where; turns into events.
#[derive(Debug, Clone)]
pub struct AuditCtx {
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor: String,
    pub org_id: Option<Uuid>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

impl AuditCtx {
    /// The node itself acting (scheduled work, federation delivery).
    pub fn system(at: DateTime<Utc>) -> Self {
        AuditCtx {
            at,
            actor_id: None,
            actor: "system".into(),
            org_id: None,
            ip: None,
            request_id: None,
        }
    }

    pub fn event(&self, action: &str, outcome: Outcome) -> AuditEvent {
        AuditEvent {
            at: self.at,
            actor_id: self.actor_id,
            actor: self.actor.clone(),
            org_id: self.org_id,
            action: action.to_owned(),
            target_kind: None,
            target_id: None,
            outcome,
            ip: self.ip.clone(),
            request_id: self.request_id.clone(),
            detail: serde_json::Value::Object(Default::default()),
        }
    }
}

impl AuditEvent {
    pub fn target(mut self, kind: &str, id: impl ToString) -> Self {
        self.target_kind = Some(kind.to_owned());
        self.target_id = Some(id.to_string());
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }

    pub fn org(mut self, org: Option<Uuid>) -> Self {
        self.org_id = org;
        self
    }

    /// Seals this event as entry `seq` after `prev_hash`.
    pub fn seal(&self, seq: i64, id: Uuid, prev_hash: &str) -> AuditEntry {
        let mut e = AuditEntry {
            seq,
            id,
            at: self.at,
            actor_id: self.actor_id,
            actor: self.actor.clone(),
            org_id: self.org_id,
            action: self.action.clone(),
            target_kind: self.target_kind.clone(),
            target_id: self.target_id.clone(),
            outcome: self.outcome.code().to_owned(),
            ip: self.ip.clone(),
            request_id: self.request_id.clone(),
            // serde_json writes object keys in sorted order (no preserve_order feature), so
            // this text is canonical.
            detail: self.detail.to_string(),
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        e
    }
}

/// One stored entry of the trail.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    pub seq: i64,
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor: String,
    pub org_id: Option<Uuid>,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// SHA-256 over the JSON array of every field but `hash`, in a fixed order.
    pub fn compute_hash(&self) -> String {
        let opt = |v: &Option<String>| v.clone().map_or(serde_json::Value::Null, Into::into);
        let fields = serde_json::json!([
            self.seq,
            self.id.to_string(),
            self.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            self.actor_id.map(|u| u.to_string()),
            self.actor,
            self.org_id.map(|u| u.to_string()),
            self.action,
            opt(&self.target_kind),
            opt(&self.target_id),
            self.outcome,
            opt(&self.ip),
            opt(&self.request_id),
            self.detail,
            self.prev_hash,
        ]);
        hex::encode(Sha256::digest(fields.to_string().as_bytes()))
    }
}

/// Filters of the audit page. Empty strings mean "any".
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// A prefix of the action code (`auth.` finds every log-in event).
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// A signed statement that the trail had `head_hash` at entry `seq`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Checkpoint {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub head_hash: String,
    pub key_id: String,
    pub public_key: String,
    pub signature: String,
}

impl Checkpoint {
    fn message(seq: i64, head_hash: &str, at: DateTime<Utc>) -> Vec<u8> {
        format!(
            "{seq}\n{head_hash}\n{}",
            at.to_rfc3339_opts(SecondsFormat::Micros, true)
        )
        .into_bytes()
    }
}

/// The first thing wrong with a trail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    #[error("entry {expected} is missing (next entry found is {found}): entries were removed")]
    Missing { expected: i64, found: i64 },
    #[error("entry {seq} does not follow entry {prev}: entries were removed or reordered")]
    Unlinked { seq: i64, prev: i64 },
    #[error("entry {seq} was altered: its content does not match its hash")]
    Altered { seq: i64 },
    #[error("the trail ends at entry {last} but checkpoint {checkpoint} sealed more: entries were removed from the end")]
    Truncated { last: i64, checkpoint: i64 },
    #[error(
        "checkpoint at entry {seq} does not match the trail (entry altered or checkpoint forged)"
    )]
    CheckpointMismatch { seq: i64 },
    #[error("checkpoint at entry {seq} has an invalid signature or an unknown key")]
    CheckpointSignature { seq: i64 },
}

/// Checks entries one by one, in sequence order.
#[derive(Debug)]
pub struct Verifier {
    next_seq: i64,
    prev_hash: String,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            next_seq: 1,
            prev_hash: GENESIS.to_owned(),
        }
    }
}

impl Verifier {
    pub fn push(&mut self, e: &AuditEntry) -> Result<(), Broken> {
        if e.seq != self.next_seq {
            return Err(Broken::Missing {
                expected: self.next_seq,
                found: e.seq,
            });
        }
        if e.compute_hash() != e.hash {
            return Err(Broken::Altered { seq: e.seq });
        }
        if e.prev_hash != self.prev_hash {
            return Err(Broken::Unlinked {
                seq: e.seq,
                prev: e.seq - 1,
            });
        }
        self.next_seq += 1;
        self.prev_hash.clone_from(&e.hash);
        Ok(())
    }

    /// Entries checked so far.
    pub fn count(&self) -> i64 {
        self.next_seq - 1
    }
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub entries: i64,
    pub checkpoints: usize,
}

/// Verifies the whole trail and every checkpoint against `trusted_keys` (base64 public keys
/// of this node's signing keys).
pub async fn verify_store(
    store: &dyn Store,
    trusted_keys: &[String],
) -> StoreResult<Result<VerifyReport, Broken>> {
    let checkpoints = store.checkpoints().await?;
    let mut by_seq: std::collections::HashMap<i64, &Checkpoint> =
        checkpoints.iter().map(|c| (c.seq, c)).collect();
    let mut v = Verifier::default();
    let mut after = 0;
    loop {
        let chunk = store.audit_chunk(after, 1000).await?;
        if chunk.is_empty() {
            break;
        }
        for e in &chunk {
            if let Err(b) = v.push(e) {
                return Ok(Err(b));
            }
            if let Some(cp) = by_seq.remove(&e.seq) {
                if cp.head_hash != e.hash {
                    return Ok(Err(Broken::CheckpointMismatch { seq: cp.seq }));
                }
                if !checkpoint_signature_ok(cp, trusted_keys) {
                    return Ok(Err(Broken::CheckpointSignature { seq: cp.seq }));
                }
            }
            after = e.seq;
        }
    }
    if let Some(max) = by_seq.keys().max() {
        return Ok(Err(Broken::Truncated {
            last: v.count(),
            checkpoint: *max,
        }));
    }
    Ok(Ok(VerifyReport {
        entries: v.count(),
        checkpoints: checkpoints.len(),
    }))
}

fn checkpoint_signature_ok(cp: &Checkpoint, trusted_keys: &[String]) -> bool {
    trusted_keys.contains(&cp.public_key)
        && verify(
            &cp.public_key,
            SignatureContext::AuditCheckpoint,
            &Checkpoint::message(cp.seq, &cp.head_hash, cp.at),
            &cp.signature,
        )
        .is_ok()
}

/// Signs the current head, unless it is already sealed. Safe to run on several replicas at
/// once (a second checkpoint of the same entry is ignored). Returns the sealed sequence number.
pub async fn checkpoint(
    store: &dyn Store,
    identity: &SigningIdentity,
    at: DateTime<Utc>,
) -> StoreResult<Option<i64>> {
    let Some((seq, head_hash)) = store.audit_head().await? else {
        return Ok(None);
    };
    let cp = Checkpoint {
        seq,
        at,
        signature: identity.sign(
            SignatureContext::AuditCheckpoint,
            &Checkpoint::message(seq, &head_hash, at),
        ),
        head_hash,
        key_id: identity.key_id().to_string(),
        public_key: identity.public_key_b64(),
    };
    store.insert_checkpoint(&cp).await?;
    Ok(Some(seq))
}

/// The newest checkpoint, if any.
pub async fn latest_checkpoint(store: &dyn Store) -> Result<Option<Checkpoint>, StoreError> {
    Ok(store.checkpoints().await?.into_iter().max_by_key(|c| c.seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let ctx = AuditCtx {
            at: DateTime::from_timestamp(1_790_000_000, 123_456_000).unwrap(),
            actor_id: None,
            actor: "system".into(),
            org_id: None,
            ip: None,
            request_id: None,
        };
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let e = ctx
                    .event("test.event", Outcome::Success)
                    .seal(seq, Uuid::now_v7(), &prev);
                prev.clone_from(&e.hash);
                e
            })
            .collect()
    }

    fn check(entries: &[AuditEntry]) -> Result<(), Broken> {
        let mut v = Verifier::default();
        entries.iter().try_for_each(|e| v.push(e))
    }

    #[test]
    fn untouched_chain_verifies() {
        check(&chain(5)).unwrap();
    }

    #[test]
    fn altering_any_field_names_the_entry() {
        let mut c = chain(5);
        c[2].actor = "mallory".into();
        assert_eq!(check(&c), Err(Broken::Altered { seq: 3 }));
        let mut c = chain(5);
        c[3].detail = "{\"x\":1}".into();
        assert_eq!(check(&c), Err(Broken::Altered { seq: 4 }));
    }

    #[test]
    fn removing_an_entry_names_the_gap() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(
            check(&c),
            Err(Broken::Missing {
                expected: 2,
                found: 3
            })
        );
    }

    #[test]
    fn reordering_is_detected() {
        let mut c = chain(5);
        c.swap(1, 2);
        assert!(check(&c).is_err());
        // Renumbering swapped rows keeps seq contiguous but breaks the hashes.
        let mut c = chain(5);
        let (a, b) = (c[1].seq, c[2].seq);
        c.swap(1, 2);
        c[1].seq = a;
        c[2].seq = b;
        assert_eq!(check(&c), Err(Broken::Altered { seq: 2 }));
    }

    #[test]
    fn rehashing_an_altered_entry_breaks_the_link_to_the_next() {
        let mut c = chain(4);
        c[1].actor = "mallory".into();
        c[1].hash = c[1].compute_hash();
        assert_eq!(check(&c), Err(Broken::Unlinked { seq: 3, prev: 2 }));
    }
}
