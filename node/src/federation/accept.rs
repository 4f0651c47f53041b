//! Accepting a batch of envelopes from a peer: the checks of docs/protocol.md in their order,
//! then one transaction that stores the batch in the inbox and advances the stream, then the
//! signed ack. Pushed batches (`POST /federation/v1/inbox`) and pulled ones share this code.

use std::collections::HashMap;

use axum::http::StatusCode;
use puente_common::CountryCode;
use puente_federation::accept::{
    check_message, check_request, check_stream, MessageVerdict, StreamHead, StreamVerdict,
};
use puente_federation::{
    Ack, AckOutcome, AckResult, Envelope, Reason, UnsignedAck, MAX_BATCH, ZERO_HASH,
};
use serde_json::json;

use crate::app::Node;
use crate::federation::Federation;
use crate::store::fed_sql::{EvidenceDirection, EvidenceEvent, InboundRow};

/// A batch refused as a whole: the HTTP status and the JSON body (`{"error": code, …}`).
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub body: serde_json::Value,
}

impl Refusal {
    fn new(status: StatusCode, reason: &Reason) -> Self {
        Refusal {
            status,
            body: json!({ "error": reason.code() }),
        }
    }

    fn with(status: StatusCode, body: serde_json::Value) -> Self {
        Refusal { status, body }
    }

    /// The status a reason earns when it refuses a whole request.
    pub fn for_reason(reason: &Reason) -> Self {
        let status = StatusCode::from_u16(reason.http_status()).unwrap_or(StatusCode::FORBIDDEN);
        Refusal::new(status, reason)
    }
}

/// Checks and stores `envelopes` received from `peer` (authenticated by mutual TLS), and
/// returns the signed ack. Nothing is stored unless the batch passes the request checks;
/// within the batch, storing stops at the first refused envelope.
pub async fn accept_batch(
    node: &Node,
    fed: &Federation,
    peer: CountryCode,
    envelopes: Vec<Envelope>,
) -> Result<Ack, Refusal> {
    let now = node.clock.now();
    let store = node.store.as_ref();
    let internal = |e: crate::store::StoreError| {
        tracing::error!(error = %e, "federation inbox: store failed");
        Refusal::with(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": "unavailable" }),
        )
    };
    let Some(first) = envelopes.first() else {
        return Err(Refusal::for_reason(&Reason::Malformed));
    };
    if envelopes.len() > MAX_BATCH {
        return Err(Refusal::for_reason(&Reason::TooLarge));
    }
    let (origin, channel, epoch) = (first.origin, first.channel, first.epoch);
    let one_stream = envelopes.windows(2).all(|w| {
        w[1].origin == origin
            && w[1].destination == w[0].destination
            && w[1].channel == channel
            && w[1].epoch == epoch
            && w[1].seq == w[0].seq + 1
    });
    if !one_stream {
        return Err(Refusal::for_reason(&Reason::Malformed));
    }
    let Some(trust) = fed.trust() else {
        return Err(Refusal::with(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": "no_manifest" }),
        ));
    };
    for env in &envelopes {
        if let Err(reason) = check_request(&trust.effective, &trust.local, peer, env) {
            refused(node, peer, env, &reason).await;
            return Err(Refusal::for_reason(&reason));
        }
    }
    // An authenticated, authorised peer: retry it at once if we owe it anything.
    if let Err(e) = store.fed_touch_peer(peer, now).await {
        tracing::warn!(error = %e, "cannot record contact with peer");
    }
    fed.outbox.notify_waiters();

    let mut head = store
        .fed_stream_head(origin, channel)
        .await
        .map_err(internal)?;
    let stored_head_seq = head
        .as_ref()
        .filter(|h| h.epoch == epoch)
        .map_or(0, |h| h.seq);
    // Hashes already stored at the positions the batch repeats, for duplicate detection.
    let mut stored: HashMap<u64, String> = HashMap::new();
    if let Some(h) = &head {
        if h.epoch == epoch {
            for env in envelopes.iter().filter(|e| e.seq <= h.seq) {
                if let Some(hash) = store
                    .fed_inbox_hash(origin, channel, epoch, env.seq)
                    .await
                    .map_err(internal)?
                {
                    stored.insert(env.seq, hash);
                }
            }
        }
    }

    let mut rows = Vec::new();
    let mut results = Vec::new();
    for env in &envelopes {
        let hash = env.hash();
        let verdict = check_message(&trust.effective, &trust.local, env, now);
        let rejection = match verdict {
            MessageVerdict::Refuse(reason) => {
                refused(node, peer, env, &reason).await;
                results.push(result(env, AckOutcome::Refused, Some(&reason)));
                break;
            }
            // The governance agreed to this kind but our administrator has not approved the
            // agreement yet: keep it queued at the sender (refused), never lose it.
            MessageVerdict::Reject(Reason::KindNotAllowed)
                if trust
                    .signed
                    .manifest
                    .allows(env.channel, env.origin, fed.me) =>
            {
                refused(node, peer, env, &Reason::KindNotAllowed).await;
                results.push(result(
                    env,
                    AckOutcome::Refused,
                    Some(&Reason::KindNotAllowed),
                ));
                break;
            }
            MessageVerdict::Reject(reason) => Some(reason),
            MessageVerdict::Accept => None,
        };
        // A regional hub takes statistics releases (and epoch notices) only: anything else
        // is rejected before its body is stored.
        let hub_refusal = if rejection.is_none() {
            crate::hub::inbox_refusal(&node.config, env)
        } else {
            None
        };
        match check_stream(head.as_ref(), env, &hash, |seq| stored.get(&seq).cloned()) {
            StreamVerdict::Append | StreamVerdict::NewEpoch => {
                if store.fed_inbox_has(env.id).await.map_err(internal)?
                    || rows.iter().any(|r: &InboundRow| r.id == env.id)
                {
                    // The id is held at another position: applying it again is refused, and
                    // so is consuming the position (only a faulty peer reuses ids).
                    refused(node, peer, env, &Reason::DuplicateId).await;
                    results.push(result(env, AckOutcome::Refused, Some(&Reason::DuplicateId)));
                    break;
                }
                let outcome = if rejection.is_some() || hub_refusal.is_some() {
                    AckOutcome::Rejected
                } else {
                    AckOutcome::Stored
                };
                rows.push(match (&rejection, hub_refusal) {
                    (Some(r), _) => InboundRow::rejected(env, r.code()),
                    (None, Some(code)) => InboundRow::rejected(env, code),
                    (None, None) => InboundRow::stored(env),
                });
                results.push(match hub_refusal {
                    Some(code) => AckResult {
                        id: env.id,
                        seq: env.seq,
                        result: outcome,
                        reason: Some(code.to_owned()),
                    },
                    None => result(env, outcome, rejection.as_ref()),
                });
                head = Some(StreamHead {
                    epoch,
                    seq: env.seq,
                    hash,
                });
            }
            StreamVerdict::Duplicate => {
                results.push(result(env, AckOutcome::Duplicate, None));
            }
            StreamVerdict::Gap { expected } => {
                if rows.is_empty() && results.is_empty() {
                    return Err(Refusal::with(
                        StatusCode::CONFLICT,
                        json!({ "error": "gap", "expected_seq": expected }),
                    ));
                }
                results.push(result(env, AckOutcome::Refused, Some(&Reason::Gap)));
                break;
            }
            StreamVerdict::Fork { .. } => {
                // A fork refuses the whole batch: the peer's view of its own stream differs
                // from ours (a restore from backup, or worse). Nothing of the batch is stored.
                tracing::error!(peer = %peer, channel = %channel, epoch, seq = env.seq, "stream fork: a peer sent a different envelope at a position already stored");
                refused(node, peer, env, &Reason::Fork).await;
                return Err(Refusal::with(
                    StatusCode::CONFLICT,
                    json!({ "error": "fork", "head_seq": stored_head_seq }),
                ));
            }
            StreamVerdict::StaleEpoch => {
                refused(node, peer, env, &Reason::StaleEpoch).await;
                results.push(result(env, AckOutcome::Refused, Some(&Reason::StaleEpoch)));
                break;
            }
        }
    }
    if !rows.is_empty() {
        store
            .fed_store_inbound(&rows, now)
            .await
            .map_err(internal)?;
        fed.inbox.notify_waiters();
    }
    // The ack reports the stream as it now stands here: the batch's epoch, or the newer one
    // the batch was stale against.
    let (epoch, through, head_hash) = match &head {
        Some(h) if h.epoch >= epoch => (h.epoch, h.seq, h.hash.clone()),
        _ => (epoch, 0, ZERO_HASH.to_owned()),
    };
    let ack = UnsignedAck {
        from: fed.me,
        to: peer,
        channel,
        epoch,
        acked_through_seq: through,
        head_hash,
        results,
        created_at: now,
    }
    .sign(&node.identity)
    .map_err(|e| {
        tracing::error!(error = %e, "cannot sign an ack");
        Refusal::with(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": "unavailable" }),
        )
    })?;
    let event = EvidenceEvent {
        at: now,
        direction: EvidenceDirection::AckSent,
        peer,
        channel,
        epoch,
        stream_seq: through,
        message_id: None,
        object_hash: ack.hash(),
    };
    if let Err(e) = store.fed_evidence_append(&event).await {
        tracing::error!(error = %e, "cannot append an ack to the evidence log");
    }
    Ok(ack)
}

fn result(env: &Envelope, outcome: AckOutcome, reason: Option<&Reason>) -> AckResult {
    AckResult {
        id: env.id,
        seq: env.seq,
        result: outcome,
        reason: reason.map(|r| r.code().to_owned()),
    }
}

/// Logs a refused envelope (never its payload) and keeps it in the evidence log.
async fn refused(node: &Node, peer: CountryCode, env: &Envelope, reason: &Reason) {
    tracing::warn!(
        peer = %peer, origin = %env.origin, channel = %env.channel, epoch = env.epoch, seq = env.seq,
        kind = %env.kind, reason = reason.code(), "federation: envelope refused"
    );
    let event = EvidenceEvent {
        at: node.clock.now(),
        direction: EvidenceDirection::RefusedIn,
        peer,
        channel: env.channel,
        epoch: env.epoch,
        stream_seq: env.seq,
        message_id: Some(env.id),
        object_hash: env.hash(),
    };
    if let Err(e) = node.store.fed_evidence_append(&event).await {
        tracing::error!(error = %e, "cannot append a refusal to the evidence log");
    }
}
