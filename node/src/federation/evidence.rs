//! The evidence log's daily seal and its verification.
//!
//! Every envelope and ack this node sends or receives is appended to the hash-chained evidence
//! log (`store::fed_sql`, where the entry hash is defined). Once a day the node signs the head:
//! a seal is the signature, with context `puente/1 evidence-seal\n`, over the RFC 8785 JSON
//! `{"day": "YYYY-MM-DD", "member": "GTM", "root": "<hash of entry through_seq>",
//! "through_seq": N}`. `puente audit verify` recomputes every entry's hash, checks the links and
//! the numbering, and checks every seal against the node's keys.

use chrono::{DateTime, NaiveDate, Utc};
use puente_common::CountryCode;
use puente_federation::{SignatureContext, SigningIdentity};

use crate::store::fed_sql::{EvidenceEntry, EvidenceSeal};
use crate::store::{Store, StoreResult};

/// The signed bytes of a seal (after the context prefix).
pub fn seal_message(member: CountryCode, day: NaiveDate, through_seq: i64, root: &str) -> Vec<u8> {
    let value = serde_json::json!({
        "day": day.format("%Y-%m-%d").to_string(),
        "member": member.as_str(),
        "root": root,
        "through_seq": through_seq,
    });
    // Integers and ASCII strings only: canonicalisation cannot fail.
    puente_federation::canonical_json(&value).unwrap_or_default()
}

/// Seals the evidence log's head for `now`'s day, unless it is empty, already sealed up to the
/// head, or today's seal exists (one a day; the next day's covers the rest). Safe on several
/// replicas: the day is the seal's key, so a second insert fails and is ignored.
pub async fn seal(
    store: &dyn Store,
    member: CountryCode,
    identity: &SigningIdentity,
    now: DateTime<Utc>,
) -> StoreResult<Option<i64>> {
    let Some((through_seq, root)) = store.fed_evidence_head().await? else {
        return Ok(None);
    };
    let day = now.date_naive();
    let seals = store.fed_seals().await?;
    if seals
        .iter()
        .any(|s| s.day == day || s.through_seq >= through_seq)
    {
        return Ok(None);
    }
    let sig = identity.sign(
        SignatureContext::EvidenceSeal,
        &seal_message(member, day, through_seq, &root),
    );
    let seal = EvidenceSeal {
        day,
        through_seq,
        root,
        key_id: identity.key_id().clone(),
        sig,
        created_at: now,
    };
    match store.fed_insert_seal(&seal).await {
        Ok(()) => Ok(Some(through_seq)),
        Err(crate::store::StoreError::Conflict(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What is wrong with the evidence log, naming the first bad entry or seal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceBroken {
    #[error("evidence entry {expected} is missing (found {found})")]
    Missing { expected: i64, found: i64 },
    #[error("evidence entry {seq} is not linked to the entry before it")]
    Unlinked { seq: i64 },
    #[error("evidence entry {seq} was altered (its hash does not match its contents)")]
    Altered { seq: i64 },
    #[error(
        "the evidence seal of {day} covers entry {seq}, which does not exist or has another hash"
    )]
    SealMismatch { day: NaiveDate, seq: i64 },
    #[error("the evidence seal of {day} is not signed by this node's key")]
    SealSignature { day: NaiveDate },
}

/// A verified evidence log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvidenceReport {
    pub entries: i64,
    pub seals: usize,
}

/// Checks the whole evidence log and its seals against `trusted_keys` (base64 public keys of
/// this node's signing keys).
pub async fn verify(
    store: &dyn Store,
    member: CountryCode,
    trusted_keys: &[String],
) -> StoreResult<Result<EvidenceReport, EvidenceBroken>> {
    let seals = store.fed_seals().await?;
    let mut hashes_at_seals = std::collections::HashMap::new();
    let mut prev = puente_federation::ZERO_HASH.to_owned();
    let mut next = 1i64;
    let mut after = 0;
    loop {
        let chunk: Vec<EvidenceEntry> = store.fed_evidence_chunk(after, 1000).await?;
        if chunk.is_empty() {
            break;
        }
        for e in &chunk {
            if e.seq != next {
                return Ok(Err(EvidenceBroken::Missing {
                    expected: next,
                    found: e.seq,
                }));
            }
            if e.prev_hash != prev {
                return Ok(Err(EvidenceBroken::Unlinked { seq: e.seq }));
            }
            if e.compute_hash() != e.hash {
                return Ok(Err(EvidenceBroken::Altered { seq: e.seq }));
            }
            if seals.iter().any(|s| s.through_seq == e.seq) {
                hashes_at_seals.insert(e.seq, e.hash.clone());
            }
            prev = e.hash.clone();
            next += 1;
            after = e.seq;
        }
    }
    for s in &seals {
        if hashes_at_seals.get(&s.through_seq) != Some(&s.root) {
            return Ok(Err(EvidenceBroken::SealMismatch {
                day: s.day,
                seq: s.through_seq,
            }));
        }
        let message = seal_message(member, s.day, s.through_seq, &s.root);
        let ok = trusted_keys.iter().any(|k| {
            puente_federation::identity::verify(k, SignatureContext::EvidenceSeal, &message, &s.sig)
                .is_ok()
        });
        if !ok {
            return Ok(Err(EvidenceBroken::SealSignature { day: s.day }));
        }
    }
    Ok(Ok(EvidenceReport {
        entries: next - 1,
        seals: seals.len(),
    }))
}
