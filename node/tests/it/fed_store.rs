//! The federation store (`FedStore`) on the backend under test (SQLite, or PostgreSQL with
//! TEST_DATABASE_URL): every function, concurrent writers, leases, and all-or-nothing inbound
//! batches.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, SubsecRound, Utc};
use puente_common::CountryCode;
use puente_federation::{
    AckOutcome, AckResult, Channel, Envelope, SigningIdentity, UnsignedAck, UnsignedEnvelope,
    ZERO_HASH,
};
use puente_node::audit::{AuditCtx, AuditFilter, Outcome};
use puente_node::store::fed_sql::{
    Approval, ApprovalKind, Block, BlockKind, EvidenceDirection, EvidenceEntry, EvidenceEvent,
    EvidenceSeal, InboundRow, InboxStatus, ManifestRow, OutboxStatus, Outgoing,
};
use puente_node::store::{self, SharedStore, StoreError};
use sha2::{Digest, Sha256};
use sqlx::Executor;
use tempfile::TempDir;
use uuid::Uuid;

use crate::helpers::fresh_database;

struct Db {
    _dir: TempDir,
    url: String,
    s: SharedStore,
}

async fn db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(dir.path()).await;
    let s = store::connect(&url).await.unwrap();
    s.migrate().await.unwrap();
    Db { _dir: dir, url, s }
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 123_456_000)
        .unwrap()
        .trunc_subsecs(6)
}

fn ctx(at: DateTime<Utc>) -> AuditCtx {
    AuditCtx {
        at,
        actor_id: None,
        actor: "fed-test".into(),
        org_id: None,
        ip: None,
        request_id: None,
    }
}

fn cc(s: &str) -> CountryCode {
    s.parse().unwrap()
}

fn identity(id: &str) -> SigningIdentity {
    SigningIdentity::generate(id.parse().unwrap())
}

fn outgoing<'a>(
    to: &str,
    channel: Channel,
    kind: &'a str,
    signer: &'a SigningIdentity,
    now: DateTime<Utc>,
) -> Outgoing<'a> {
    Outgoing {
        id: Uuid::now_v7(),
        origin: cc("GTM"),
        destination: cc(to),
        channel,
        kind,
        payload: serde_json::json!({ "revision": 1, "name": "Oficina" }),
        manifest_version: 3,
        signer,
        now,
    }
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Checks the whole evidence log: numbering, links, hashes. Returns the entries.
async fn evidence(s: &SharedStore) -> Vec<EvidenceEntry> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let chunk = s.fed_evidence_chunk(after, 50).await.unwrap();
        if chunk.is_empty() {
            break;
        }
        after = chunk.last().unwrap().seq;
        all.extend(chunk);
    }
    let mut prev = ZERO_HASH.to_owned();
    for (i, e) in all.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1, "evidence numbered without gaps");
        assert_eq!(
            e.prev_hash, prev,
            "entry {} links to its predecessor",
            e.seq
        );
        assert_eq!(e.compute_hash(), e.hash, "entry {} hash", e.seq);
        prev = e.hash.clone();
    }
    let head = s.fed_evidence_head().await.unwrap();
    assert_eq!(head, all.last().map(|e| (e.seq, e.hash.clone())));
    all
}

/// An envelope from `origin` to GTM, signed, with its position.
fn inbound(
    signer: &SigningIdentity,
    origin: &str,
    epoch: u64,
    seq: u64,
    prev: &str,
    now: DateTime<Utc>,
) -> Envelope {
    UnsignedEnvelope {
        id: Uuid::now_v7(),
        origin: cc(origin),
        destination: cc("GTM"),
        channel: Channel::Directory,
        epoch,
        seq,
        prev: prev.to_owned(),
        kind: "directory.publish".into(),
        created_at: now,
        manifest_version: 3,
        payload: serde_json::json!({ "revision": seq }),
    }
    .sign(signer)
    .unwrap()
    .envelope
}

#[tokio::test]
async fn enqueue_signs_chains_and_records_evidence() {
    let d = db().await;
    let s = &d.s;
    let gtm = identity("GTM-2026a");
    let now = t0();
    assert_eq!(s.fed_epoch().await.unwrap(), 1);

    let rows = s
        .fed_enqueue(&[
            outgoing("HND", Channel::Directory, "directory.publish", &gtm, now),
            outgoing("HND", Channel::Directory, "directory.publish", &gtm, now),
            outgoing("SLV", Channel::Directory, "directory.publish", &gtm, now),
            outgoing("HND", Channel::Control, "control.epoch", &gtm, now),
        ])
        .await
        .unwrap();
    let positions: Vec<_> = rows
        .iter()
        .map(|r| (r.destination.as_str(), r.channel, r.epoch, r.seq))
        .collect();
    assert_eq!(
        positions,
        vec![
            ("HND", Channel::Directory, 1, 1),
            ("HND", Channel::Directory, 1, 2),
            ("SLV", Channel::Directory, 1, 1),
            ("HND", Channel::Control, 1, 1),
        ]
    );
    for r in &rows {
        assert_eq!(r.hash, sha(r.body.as_bytes()), "hash of the exact bytes");
        let env = Envelope::parse(r.body.as_bytes()).unwrap();
        env.verify(&gtm.verifying_key()).unwrap();
        assert_eq!((env.id, env.seq, env.epoch), (r.id, r.seq, r.epoch));
        assert_eq!(env.created_at, now);
        assert_eq!(r.status, OutboxStatus::Pending);
    }
    let first = Envelope::parse(rows[0].body.as_bytes()).unwrap();
    let second = Envelope::parse(rows[1].body.as_bytes()).unwrap();
    assert_eq!(first.prev, ZERO_HASH);
    assert_eq!(second.prev, rows[0].hash);

    // Stored exactly: what comes back is what was signed.
    let pending = s
        .fed_pending(cc("HND"), Channel::Directory, 10)
        .await
        .unwrap();
    assert_eq!(pending, rows[..2].to_vec());
    let after = s
        .fed_outbox_after(cc("HND"), Channel::Directory, 1, 1, 10)
        .await
        .unwrap();
    assert_eq!(after, rows[1..2].to_vec());
    assert!(s
        .fed_outbox_after(cc("HND"), Channel::Directory, 2, 0, 10)
        .await
        .unwrap()
        .is_empty());

    // A delivery row per destination and channel, due now, with its backlog.
    let states = s.fed_delivery_states().await.unwrap();
    let summary: Vec<_> = states
        .iter()
        .map(|d| (d.peer.as_str(), d.channel, d.backlog, d.next_attempt_at))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("HND", Channel::Control, 1, now),
            ("HND", Channel::Directory, 2, now),
            ("SLV", Channel::Directory, 1, now),
        ],
        "by peer, then channel code"
    );

    // One `sent` entry per envelope, in order.
    let ev = evidence(s).await;
    assert_eq!(ev.len(), 4);
    for (e, r) in ev.iter().zip(&rows) {
        assert_eq!(e.direction, EvidenceDirection::Sent);
        assert_eq!(
            (e.peer, e.channel, e.epoch, e.stream_seq, e.message_id),
            (r.destination, r.channel, r.epoch, r.seq, Some(r.id))
        );
        assert_eq!(e.object_hash, r.hash);
        assert_eq!(e.at, now);
    }

    let streams: Vec<_> = s
        .fed_streams_out_all()
        .await
        .unwrap()
        .into_iter()
        .map(|o| {
            (
                o.destination.as_str().to_owned(),
                o.channel,
                o.last_seq,
                o.consumed_seq,
            )
        })
        .collect();
    assert_eq!(
        streams,
        vec![
            ("HND".to_owned(), Channel::Control, 1, 0),
            ("HND".to_owned(), Channel::Directory, 2, 0),
            ("SLV".to_owned(), Channel::Directory, 1, 0),
        ]
    );

    // A message id is used once.
    let mut dup = outgoing("HND", Channel::Directory, "directory.publish", &gtm, now);
    dup.id = rows[0].id;
    assert!(matches!(
        s.fed_enqueue(&[dup]).await,
        Err(StoreError::Conflict(_))
    ));
    // A payload that is not canonical JSON (a float) is refused, and nothing is kept.
    let mut float = outgoing("HND", Channel::Directory, "directory.publish", &gtm, now);
    float.payload = serde_json::json!({ "x": 1.5 });
    assert!(s.fed_enqueue(&[float]).await.is_err());
    assert_eq!(evidence(s).await.len(), 4);
    let next = s
        .fed_enqueue(&[outgoing(
            "HND",
            Channel::Directory,
            "directory.publish",
            &gtm,
            now,
        )])
        .await
        .unwrap();
    assert_eq!(next[0].seq, 3, "failed enqueues left no gap");
}

#[tokio::test]
async fn concurrent_enqueues_are_gapless_and_chained() {
    let d = db().await;
    let gtm = Arc::new(identity("GTM-2026a"));
    let now = t0();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let s = d.s.clone();
        let gtm = gtm.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..10 {
                s.fed_enqueue(&[outgoing(
                    "HND",
                    Channel::Directory,
                    "directory.publish",
                    &gtm,
                    now,
                )])
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let rows =
        d.s.fed_outbox_after(cc("HND"), Channel::Directory, 1, 0, 1000)
            .await
            .unwrap();
    assert_eq!(rows.len(), 200);
    let mut prev = ZERO_HASH.to_owned();
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.seq, i as u64 + 1, "gapless");
        let env = Envelope::parse(r.body.as_bytes()).unwrap();
        assert_eq!(env.seq, r.seq);
        assert_eq!(
            env.prev, prev,
            "envelope {} chained to its predecessor",
            r.seq
        );
        assert_eq!(r.hash, sha(r.body.as_bytes()));
        prev = r.hash.clone();
    }
    let ev = evidence(&d.s).await;
    assert_eq!(ev.len(), 200);
    let mut seqs: Vec<u64> = ev.iter().map(|e| e.stream_seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=200).collect::<Vec<u64>>());
}

#[tokio::test]
async fn a_new_epoch_restarts_every_stream() {
    let d = db().await;
    let s = &d.s;
    let gtm = identity("GTM-2026a");
    let now = t0();
    s.fed_enqueue(&[
        outgoing("HND", Channel::Directory, "directory.publish", &gtm, now),
        outgoing("HND", Channel::Directory, "directory.publish", &gtm, now),
    ])
    .await
    .unwrap();
    let epoch = s
        .fed_start_epoch(&ctx(now).event("federation.epoch", Outcome::Success))
        .await
        .unwrap();
    assert_eq!(epoch, 2);
    assert_eq!(s.fed_epoch().await.unwrap(), 2);
    let rows = s
        .fed_enqueue(&[outgoing(
            "HND",
            Channel::Directory,
            "directory.publish",
            &gtm,
            now,
        )])
        .await
        .unwrap();
    assert_eq!((rows[0].epoch, rows[0].seq), (2, 1));
    let env = Envelope::parse(rows[0].body.as_bytes()).unwrap();
    assert_eq!(env.prev, ZERO_HASH);
    let pending = s
        .fed_pending(cc("HND"), Channel::Directory, 10)
        .await
        .unwrap();
    let order: Vec<_> = pending.iter().map(|r| (r.epoch, r.seq)).collect();
    assert_eq!(order, vec![(1, 1), (1, 2), (2, 1)], "by epoch, then seq");
    let audit = s
        .audit_entries(
            &AuditFilter {
                action: Some("federation.epoch".into()),
                ..AuditFilter::default()
            },
            10,
            0,
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
}

#[tokio::test]
async fn only_one_claimer_holds_a_lease_until_it_expires() {
    let d = db().await;
    let s = &d.s;
    let now = t0();
    let lease = Duration::seconds(30);
    let hnd = cc("HND");

    // Concurrent claimers: exactly one wins.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.fed_claim(hnd, Channel::Directory, &format!("replica-{i}"), now, lease)
                .await
                .unwrap()
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        if let Some(state) = t.await.unwrap() {
            winners.push(state);
        }
    }
    assert_eq!(winners.len(), 1, "one lease holder");
    let owner = winners[0].lease_owner.clone().unwrap();
    assert_eq!(winners[0].lease_until, Some(now + lease));
    assert_eq!(winners[0].backlog, 0);

    // The holder renews; another owner cannot take it before it expires.
    let later = now + Duration::seconds(10);
    assert!(s
        .fed_claim(hnd, Channel::Directory, &owner, later, lease)
        .await
        .unwrap()
        .is_some());
    assert!(s
        .fed_claim(hnd, Channel::Directory, "other", later, lease)
        .await
        .unwrap()
        .is_none());
    // Another channel is another lease.
    assert!(s
        .fed_claim(hnd, Channel::Control, "other", later, lease)
        .await
        .unwrap()
        .is_some());

    // Expired: handed over.
    let expired = later + lease + Duration::seconds(1);
    let taken = s
        .fed_claim(hnd, Channel::Directory, "other", expired, lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.lease_owner.as_deref(), Some("other"));
    assert!(s
        .fed_claim(hnd, Channel::Directory, &owner, expired, lease)
        .await
        .unwrap()
        .is_none());

    // Release: only by the holder.
    s.fed_release(hnd, Channel::Directory, &owner)
        .await
        .unwrap();
    assert!(s
        .fed_claim(hnd, Channel::Directory, "third", expired, lease)
        .await
        .unwrap()
        .is_none());
    s.fed_release(hnd, Channel::Directory, "other")
        .await
        .unwrap();
    let states = s.fed_delivery_states().await.unwrap();
    let dir = states
        .iter()
        .find(|d| d.channel == Channel::Directory)
        .unwrap();
    assert_eq!((dir.lease_owner.as_deref(), dir.lease_until), (None, None));
    assert!(s
        .fed_claim(hnd, Channel::Directory, "third", expired, lease)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn failures_back_off_and_contact_or_success_resets() {
    let d = db().await;
    let s = &d.s;
    let gtm = identity("GTM-2026a");
    let hnd_id = identity("HND-2026a");
    let now = t0();
    let hnd = cc("HND");
    let lease = Duration::seconds(30);
    let rows = s
        .fed_enqueue(&[outgoing(
            "HND",
            Channel::Directory,
            "directory.publish",
            &gtm,
            now,
        )])
        .await
        .unwrap();

    let retry_at = now + Duration::seconds(8);
    s.fed_record_failure(hnd, Channel::Directory, "connect refused", retry_at, 8, now)
        .await
        .unwrap();
    let st = s.fed_delivery_states().await.unwrap().remove(0);
    assert_eq!(
        (st.failures, st.backoff_seconds, st.next_attempt_at),
        (1, 8, retry_at)
    );
    assert_eq!(st.last_error.as_deref(), Some("connect refused"));
    assert_eq!(st.last_attempt_at, Some(now));
    assert_eq!(st.backlog, 1);
    // Not due yet: nobody gets the lease.
    assert!(s
        .fed_claim(
            hnd,
            Channel::Directory,
            "w",
            now + Duration::seconds(1),
            lease
        )
        .await
        .unwrap()
        .is_none());
    // Due: claimed.
    assert!(s
        .fed_claim(hnd, Channel::Directory, "w", retry_at, lease)
        .await
        .unwrap()
        .is_some());
    let again = retry_at + Duration::seconds(16);
    s.fed_record_failure(hnd, Channel::Directory, "timeout", again, 16, retry_at)
        .await
        .unwrap();
    let st = s.fed_delivery_states().await.unwrap().remove(0);
    assert_eq!((st.failures, st.backoff_seconds), (2, 16));

    // The peer reaches us: due at once, no backoff (failures kept for the record).
    let contact = retry_at + Duration::seconds(2);
    s.fed_touch_peer(hnd, contact).await.unwrap();
    let st = s.fed_delivery_states().await.unwrap().remove(0);
    assert_eq!(
        (st.backoff_seconds, st.next_attempt_at, st.last_contact_at),
        (0, contact, Some(contact))
    );

    // An ack: success resets everything.
    let ack = UnsignedAck {
        from: hnd,
        to: cc("GTM"),
        channel: Channel::Directory,
        epoch: 1,
        acked_through_seq: 1,
        head_hash: rows[0].hash.clone(),
        results: vec![AckResult {
            id: rows[0].id,
            seq: 1,
            result: AckOutcome::Stored,
            reason: None,
        }],
        created_at: contact,
    }
    .sign(&hnd_id)
    .unwrap();
    let done = contact + Duration::seconds(1);
    s.fed_record_ack(hnd, Channel::Directory, &ack, &ack.hash(), done)
        .await
        .unwrap();
    let st = s.fed_delivery_states().await.unwrap().remove(0);
    assert_eq!(
        (
            st.failures,
            st.backoff_seconds,
            st.last_error.as_deref(),
            st.last_success_at,
            st.backlog
        ),
        (0, 0, None, Some(done), 0)
    );
    // Failure recorded for a channel never used before creates its row.
    s.fed_record_failure(cc("SLV"), Channel::Stats, "dns", now, 1, now)
        .await
        .unwrap();
    assert_eq!(s.fed_delivery_states().await.unwrap().len(), 2);
}

#[tokio::test]
async fn acks_settle_the_outbox() {
    let d = db().await;
    let s = &d.s;
    let gtm = identity("GTM-2026a");
    let hnd_id = identity("HND-2026a");
    let now = t0();
    let hnd = cc("HND");
    let rows = s
        .fed_enqueue(&[
            outgoing("HND", Channel::Directory, "directory.publish", &gtm, now),
            outgoing("HND", Channel::Directory, "directory.publish", &gtm, now),
            outgoing("HND", Channel::Directory, "directory.publish", &gtm, now),
            outgoing("HND", Channel::Directory, "directory.publish", &gtm, now),
        ])
        .await
        .unwrap();
    let ack = |through: u64, results: Vec<AckResult>| {
        UnsignedAck {
            from: hnd,
            to: cc("GTM"),
            channel: Channel::Directory,
            epoch: 1,
            acked_through_seq: through,
            head_hash: rows[through as usize - 1].hash.clone(),
            results,
            created_at: now,
        }
        .sign(&hnd_id)
        .unwrap()
    };
    let r = |i: usize, result: AckOutcome, reason: Option<&str>| AckResult {
        id: rows[i].id,
        seq: rows[i].seq,
        result,
        reason: reason.map(str::to_owned),
    };
    let first = ack(
        3,
        vec![
            r(0, AckOutcome::Stored, None),
            r(1, AckOutcome::Rejected, Some("kind_not_allowed")),
            r(2, AckOutcome::Duplicate, None),
            r(3, AckOutcome::Refused, Some("bad_signature")),
        ],
    );
    let at = now + Duration::seconds(5);
    s.fed_record_ack(hnd, Channel::Directory, &first, &first.hash(), at)
        .await
        .unwrap();
    let all = s
        .fed_outbox_after(hnd, Channel::Directory, 1, 0, 10)
        .await
        .unwrap();
    let states: Vec<_> = all
        .iter()
        .map(|o| (o.status, o.last_result, o.reason.as_deref(), o.acked_at))
        .collect();
    assert_eq!(
        states,
        vec![
            (
                OutboxStatus::Acked,
                Some(AckOutcome::Stored),
                None,
                Some(at)
            ),
            (
                OutboxStatus::Rejected,
                Some(AckOutcome::Rejected),
                Some("kind_not_allowed"),
                Some(at)
            ),
            (
                OutboxStatus::Acked,
                Some(AckOutcome::Duplicate),
                None,
                Some(at)
            ),
            (
                OutboxStatus::Pending,
                Some(AckOutcome::Refused),
                Some("bad_signature"),
                None
            ),
        ]
    );
    let pending = s.fed_pending(hnd, Channel::Directory, 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, rows[3].id);
    let problems: Vec<Uuid> = s
        .fed_outbox_problems(10)
        .await
        .unwrap()
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(problems, vec![rows[3].id, rows[1].id], "newest first");
    let out = s.fed_streams_out_all().await.unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(
        (
            out[0].destination,
            out[0].channel,
            out[0].epoch,
            out[0].last_seq,
            out[0].consumed_seq
        ),
        (hnd, Channel::Directory, 1, 4, 3)
    );
    assert_eq!(out[0].last_hash, rows[3].hash);

    // The next ack covers the refused one: stored, no longer a problem. Acks never undo.
    let second = ack(4, vec![]);
    let later = at + Duration::seconds(5);
    s.fed_record_ack(hnd, Channel::Directory, &second, &second.hash(), later)
        .await
        .unwrap();
    let last = s
        .fed_outbox_after(hnd, Channel::Directory, 1, 3, 10)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (last.status, last.last_result, last.reason, last.acked_at),
        (
            OutboxStatus::Acked,
            Some(AckOutcome::Stored),
            None,
            Some(later)
        )
    );
    s.fed_record_ack(hnd, Channel::Directory, &first, &first.hash(), later)
        .await
        .unwrap();
    let problems: Vec<Uuid> = s
        .fed_outbox_problems(10)
        .await
        .unwrap()
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(problems, vec![rows[1].id]);
    assert!(s
        .fed_pending(hnd, Channel::Directory, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(s.fed_streams_out_all().await.unwrap()[0].consumed_seq, 4);

    // Evidence: four `sent`, then one `ack_received` per ack, with the ack's hash.
    let ev = evidence(s).await;
    let acks: Vec<_> = ev
        .iter()
        .filter(|e| e.direction == EvidenceDirection::AckReceived)
        .map(|e| (e.stream_seq, e.message_id, e.object_hash.clone()))
        .collect();
    assert_eq!(
        acks,
        vec![
            (3, None, first.hash()),
            (4, None, second.hash()),
            (3, None, first.hash())
        ]
    );
}

#[tokio::test]
async fn inbound_envelopes_are_stored_once_and_advance_the_stream() {
    let d = db().await;
    let s = &d.s;
    let hnd_id = identity("HND-2026a");
    let now = t0();
    let hnd = cc("HND");
    assert!(s
        .fed_stream_head(hnd, Channel::Directory)
        .await
        .unwrap()
        .is_none());

    let e1 = inbound(&hnd_id, "HND", 1, 1, ZERO_HASH, now);
    let e2 = inbound(&hnd_id, "HND", 1, 2, &e1.hash(), now);
    let rows = vec![
        InboundRow::stored(&e1),
        InboundRow::rejected(&e2, "kind_not_allowed"),
    ];
    assert_eq!(rows[0].hash, e1.hash());
    assert!(rows[1].body.is_none());
    s.fed_store_inbound(&rows, now).await.unwrap();

    let head = s
        .fed_stream_head(hnd, Channel::Directory)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (head.epoch, head.seq, head.hash.as_str()),
        (1, 2, e2.hash().as_str())
    );
    let heads = s.fed_stream_heads(hnd).await.unwrap();
    assert_eq!(heads.len(), 1);
    assert_eq!(heads[0].0, Channel::Directory);
    assert!(s.fed_stream_heads(cc("SLV")).await.unwrap().is_empty());
    let all_in = s.fed_streams_in_all().await.unwrap();
    assert_eq!(all_in.len(), 1);
    assert_eq!(
        (
            all_in[0].origin,
            all_in[0].channel,
            all_in[0].head.epoch,
            all_in[0].head.seq,
            all_in[0].head.hash.clone()
        ),
        (hnd, Channel::Directory, 1, 2, e2.hash())
    );
    assert_eq!(
        s.fed_inbox_hash(hnd, Channel::Directory, 1, 1)
            .await
            .unwrap(),
        Some(e1.hash())
    );
    assert_eq!(
        s.fed_inbox_hash(hnd, Channel::Directory, 1, 3)
            .await
            .unwrap(),
        None
    );
    assert!(s.fed_inbox_has(e1.id).await.unwrap());
    assert!(s.fed_inbox_has(e2.id).await.unwrap());
    assert!(!s.fed_inbox_has(Uuid::now_v7()).await.unwrap());

    // Only the stored one waits for processing; its body is the canonical envelope.
    let todo = s.fed_unprocessed(10).await.unwrap();
    assert_eq!(todo.len(), 1);
    assert_eq!(todo[0].id, e1.id);
    assert_eq!(todo[0].status, InboxStatus::Stored);
    assert_eq!(todo[0].received_at, now);
    let back = Envelope::parse(todo[0].body.as_ref().unwrap().as_bytes()).unwrap();
    assert_eq!(back, e1);
    back.verify(&hnd_id.verifying_key()).unwrap();

    // Dedupe: the same position again, or the same message id elsewhere, is refused whole.
    assert!(matches!(
        s.fed_store_inbound(&[InboundRow::stored(&e2)], now).await,
        Err(StoreError::Conflict(_))
    ));
    let e3 = inbound(&hnd_id, "HND", 1, 3, &e2.hash(), now);
    let mut same_id = InboundRow::stored(&e3);
    same_id.id = e1.id;
    assert!(matches!(
        s.fed_store_inbound(&[same_id], now).await,
        Err(StoreError::Conflict(_))
    ));
    // A gap is refused too.
    let e5 = inbound(&hnd_id, "HND", 1, 5, ZERO_HASH, now);
    assert!(matches!(
        s.fed_store_inbound(&[InboundRow::stored(&e5)], now).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        s.fed_stream_head(hnd, Channel::Directory)
            .await
            .unwrap()
            .unwrap()
            .seq,
        2
    );

    // Processing.
    let later = now + Duration::seconds(1);
    s.fed_mark_processed(e1.id, true, None, later)
        .await
        .unwrap();
    assert!(s.fed_unprocessed(10).await.unwrap().is_empty());
    assert!(matches!(
        s.fed_mark_processed(e2.id, true, None, later).await,
        Err(StoreError::NotFound)
    ));
    s.fed_store_inbound(&[InboundRow::stored(&e3)], later)
        .await
        .unwrap();
    s.fed_mark_processed(e3.id, false, Some("unknown_org"), later)
        .await
        .unwrap();
    let problems = s.fed_inbox_problems(10).await.unwrap();
    let summary: Vec<_> = problems
        .iter()
        .map(|p| (p.seq, p.status, p.reason.as_deref()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (3, InboxStatus::Failed, Some("unknown_org")),
            (2, InboxStatus::Rejected, Some("kind_not_allowed")),
        ]
    );
    assert_eq!(problems[0].processed_at, Some(later));

    // A new epoch starts at 1 with the zero hash.
    let n1 = inbound(&hnd_id, "HND", 2, 1, ZERO_HASH, later);
    s.fed_store_inbound(&[InboundRow::stored(&n1)], later)
        .await
        .unwrap();
    let head = s
        .fed_stream_head(hnd, Channel::Directory)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((head.epoch, head.seq), (2, 1));
    // An older epoch is refused.
    let old = inbound(&hnd_id, "HND", 1, 4, &e3.hash(), later);
    assert!(s
        .fed_store_inbound(&[InboundRow::stored(&old)], later)
        .await
        .is_err());

    // One `received` entry per stored or rejected envelope.
    let ev = evidence(s).await;
    let received: Vec<_> = ev
        .iter()
        .map(|e| (e.direction, e.stream_seq, e.message_id))
        .collect();
    assert_eq!(
        received,
        vec![
            (EvidenceDirection::Received, 1, Some(e1.id)),
            (EvidenceDirection::Received, 2, Some(e2.id)),
            (EvidenceDirection::Received, 3, Some(e3.id)),
            (EvidenceDirection::Received, 1, Some(n1.id)),
        ]
    );
}

#[tokio::test]
async fn a_failing_inbound_batch_leaves_nothing() {
    let d = db().await;
    let s = &d.s;
    let hnd_id = identity("HND-2026a");
    let now = t0();
    let hnd = cc("HND");
    let e1 = inbound(&hnd_id, "HND", 1, 1, ZERO_HASH, now);
    let e2 = inbound(&hnd_id, "HND", 1, 2, &e1.hash(), now);
    let e2b = inbound(&hnd_id, "HND", 1, 2, &e1.hash(), now);
    let batch = [
        InboundRow::stored(&e1),
        InboundRow::stored(&e2),
        InboundRow::stored(&e2b), // the same position twice
    ];
    assert!(s.fed_store_inbound(&batch, now).await.is_err());
    assert!(s
        .fed_stream_head(hnd, Channel::Directory)
        .await
        .unwrap()
        .is_none());
    assert!(!s.fed_inbox_has(e1.id).await.unwrap());
    assert!(!s.fed_inbox_has(e2.id).await.unwrap());
    assert!(s.fed_unprocessed(10).await.unwrap().is_empty());
    assert_eq!(s.fed_evidence_head().await.unwrap(), None);
    // The same batch without the bad row goes through.
    s.fed_store_inbound(&batch[..2], now).await.unwrap();
    assert_eq!(s.fed_unprocessed(10).await.unwrap().len(), 2);
    assert_eq!(evidence(s).await.len(), 2);
}

#[tokio::test]
async fn evidence_is_chained_append_only_and_sealed() {
    let d = db().await;
    let s = &d.s;
    let now = t0();
    let mut expected = Vec::new();
    for (i, direction) in EvidenceDirection::ALL.iter().enumerate() {
        let event = EvidenceEvent {
            // Nanoseconds are cut to the stored microseconds.
            at: now + Duration::nanoseconds(i as i64 * 1_000_001),
            direction: *direction,
            peer: cc("SLV"),
            channel: Channel::Control,
            epoch: 1,
            stream_seq: i as u64 + 1,
            message_id: (i % 2 == 0).then(Uuid::now_v7),
            object_hash: sha(format!("object {i}").as_bytes()),
        };
        let entry = s.fed_evidence_append(&event).await.unwrap();
        assert_eq!(entry.seq, i as i64 + 1);
        assert_eq!(entry.at, event.at.trunc_subsecs(6));
        expected.push(entry);
    }
    let all = evidence(s).await;
    assert_eq!(all, expected, "read back exactly as appended");
    let partial = s.fed_evidence_chunk(2, 2).await.unwrap();
    assert_eq!(
        partial.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![3, 4]
    );

    // The database refuses to change or remove entries.
    let update = "UPDATE fed_evidence SET peer = 'XXX' WHERE seq = 1";
    let delete = "DELETE FROM fed_evidence WHERE seq = 1";
    if d.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&d.url).await.unwrap();
        assert!(pool.execute(update).await.is_err());
        assert!(pool.execute(delete).await.is_err());
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&d.url).await.unwrap();
        assert!(pool.execute(update).await.is_err());
        assert!(pool.execute(delete).await.is_err());
        assert!(pool.execute("TRUNCATE fed_evidence").await.is_err());
        pool.close().await;
    }
    assert_eq!(evidence(s).await.len(), expected.len());

    // Seals: one per day, a second one for the same day ignored.
    let head = s.fed_evidence_head().await.unwrap().unwrap();
    let seal = EvidenceSeal {
        day: NaiveDate::from_ymd_opt(2027, 1, 15).unwrap(),
        through_seq: head.0,
        root: head.1.clone(),
        key_id: "GTM-2026a".parse().unwrap(),
        sig: "c2ln".into(),
        created_at: now,
    };
    s.fed_insert_seal(&seal).await.unwrap();
    s.fed_insert_seal(&EvidenceSeal {
        through_seq: 1,
        ..seal.clone()
    })
    .await
    .unwrap();
    let next = EvidenceSeal {
        day: NaiveDate::from_ymd_opt(2027, 1, 16).unwrap(),
        created_at: now + Duration::days(1),
        ..seal.clone()
    };
    s.fed_insert_seal(&next).await.unwrap();
    assert_eq!(s.fed_seals().await.unwrap(), vec![seal, next]);
}

fn manifest(version: u64, at: DateTime<Utc>) -> ManifestRow {
    ManifestRow {
        version,
        body: format!("{{\"manifest\":{{\"version\":{version}}},\"signatures\":[]}}"),
        installed_at: at,
        source: "cli".into(),
    }
}

#[tokio::test]
async fn manifests_only_move_forward() {
    let d = db().await;
    let s = &d.s;
    let now = t0();
    let ev = || ctx(now).event("federation.manifest.install", Outcome::Success);
    assert_eq!(s.fed_manifest().await.unwrap(), None);
    assert_eq!(s.fed_anchor().await.unwrap(), None);

    s.fed_install_manifest(&manifest(3, now), "{\"threshold\":2}", "fp3", &ev())
        .await
        .unwrap();
    assert_eq!(s.fed_manifest().await.unwrap(), Some(manifest(3, now)));
    assert_eq!(
        s.fed_anchor().await.unwrap().as_deref(),
        Some("{\"threshold\":2}")
    );
    // Rollback and replay refused; the anchor stays.
    for v in [2, 3] {
        assert!(matches!(
            s.fed_install_manifest(&manifest(v, now), "{\"rogue\":1}", "fpx", &ev())
                .await,
            Err(StoreError::Conflict("manifest version"))
        ));
    }
    assert_eq!(
        s.fed_anchor().await.unwrap().as_deref(),
        Some("{\"threshold\":2}")
    );
    let later = now + Duration::hours(1);
    s.fed_install_manifest(&manifest(5, later), "{\"threshold\":3}", "fp5", &ev())
        .await
        .unwrap();
    assert_eq!(s.fed_manifest().await.unwrap(), Some(manifest(5, later)));
    assert!(s
        .fed_install_manifest(&manifest(4, later), "{}", "fp4", &ev())
        .await
        .is_err());
    assert_eq!(
        s.fed_anchor().await.unwrap().as_deref(),
        Some("{\"threshold\":3}")
    );
    let audit = s
        .audit_entries(
            &AuditFilter {
                action: Some("federation.manifest".into()),
                ..AuditFilter::default()
            },
            10,
            0,
        )
        .await
        .unwrap();
    assert_eq!(
        audit.len(),
        2,
        "one audit entry per install, none for refusals"
    );
}

#[tokio::test]
async fn approvals_and_blocks_round_trip_with_audit_entries() {
    let d = db().await;
    let s = &d.s;
    let now = t0();
    let ev = |action: &str| ctx(now).event(action, Outcome::Success);
    assert!(s.fed_approvals().await.unwrap().is_empty());
    assert!(s.fed_blocks().await.unwrap().is_empty());

    let peer = Approval {
        kind: ApprovalKind::Peer,
        subject: "HND".into(),
        approved_by: "ana".into(),
        approved_at: now,
    };
    let agreement = Approval {
        kind: ApprovalKind::Agreement,
        subject: "ref-GTM-HND".into(),
        approved_by: "ana".into(),
        approved_at: now,
    };
    s.fed_approve(&peer, &ev("federation.peer.approve"))
        .await
        .unwrap();
    s.fed_approve(&agreement, &ev("federation.agreement.approve"))
        .await
        .unwrap();
    // Approving again replaces who and when.
    let again = Approval {
        approved_by: "beto".into(),
        approved_at: now + Duration::minutes(1),
        ..peer.clone()
    };
    s.fed_approve(&again, &ev("federation.peer.approve"))
        .await
        .unwrap();
    assert_eq!(
        s.fed_approvals().await.unwrap(),
        vec![agreement.clone(), again.clone()]
    );
    s.fed_revoke_approval(ApprovalKind::Peer, "HND", &ev("federation.peer.revoke"))
        .await
        .unwrap();
    assert!(matches!(
        s.fed_revoke_approval(ApprovalKind::Peer, "HND", &ev("federation.peer.revoke"))
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.fed_approvals().await.unwrap(), vec![agreement]);

    let key = Block {
        kind: BlockKind::Key,
        subject: "HND-2025a".into(),
        reason: Some("compromised".into()),
        blocked_by: "ana".into(),
        blocked_at: now,
    };
    let peer_block = Block {
        kind: BlockKind::Peer,
        subject: "SLV".into(),
        reason: None,
        blocked_by: "ana".into(),
        blocked_at: now,
    };
    s.fed_block(&key, &ev("federation.key.block"))
        .await
        .unwrap();
    s.fed_block(&peer_block, &ev("federation.peer.block"))
        .await
        .unwrap();
    assert_eq!(
        s.fed_blocks().await.unwrap(),
        vec![key.clone(), peer_block.clone()]
    );
    s.fed_unblock(BlockKind::Peer, "SLV", &ev("federation.peer.unblock"))
        .await
        .unwrap();
    assert!(matches!(
        s.fed_unblock(BlockKind::Peer, "SLV", &ev("federation.peer.unblock"))
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.fed_blocks().await.unwrap(), vec![key]);

    // Every change that happened left an audit entry; refused ones none.
    let audit = s
        .audit_entries(
            &AuditFilter {
                action: Some("federation.".into()),
                ..AuditFilter::default()
            },
            50,
            0,
        )
        .await
        .unwrap();
    let mut actions: Vec<_> = audit.iter().map(|a| a.action.as_str()).collect();
    actions.reverse();
    assert_eq!(
        actions,
        vec![
            "federation.peer.approve",
            "federation.agreement.approve",
            "federation.peer.approve",
            "federation.peer.revoke",
            "federation.key.block",
            "federation.peer.block",
            "federation.peer.unblock",
        ]
    );
}

#[tokio::test]
async fn concurrent_stores_of_one_position_store_it_once() {
    let d = db().await;
    let hnd_id = identity("HND-2026a");
    let now = t0();
    let first = inbound(&hnd_id, "HND", 1, 1, ZERO_HASH, now);
    d.s.fed_store_inbound(&[InboundRow::stored(&first)], now)
        .await
        .unwrap();
    // Eight replicas receive a different envelope for position 2 at once (and log alongside).
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = d.s.clone();
        let env = inbound(&hnd_id, "HND", 1, 2, &first.hash(), now);
        tasks.push(tokio::spawn(async move {
            let stored = s.fed_store_inbound(&[InboundRow::stored(&env)], now).await;
            s.fed_evidence_append(&EvidenceEvent {
                at: now,
                direction: EvidenceDirection::AckSent,
                peer: cc("HND"),
                channel: Channel::Directory,
                epoch: 1,
                stream_seq: i,
                message_id: None,
                object_hash: sha(b"ack"),
            })
            .await
            .unwrap();
            stored
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(ok, 1, "one replica stored position 2");
    let head =
        d.s.fed_stream_head(cc("HND"), Channel::Directory)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(head.seq, 2);
    assert_eq!(d.s.fed_unprocessed(10).await.unwrap().len(), 2);
    assert_eq!(evidence(&d.s).await.len(), 2 + 8);
}

#[tokio::test]
async fn a_new_epoch_after_a_restore_reissues_pending_envelopes_and_announces_itself() {
    let d = db().await;
    let s = &d.s;
    let gtm = identity("GTM-2026a");
    let hnd_id = identity("HND-2026a");
    let now = t0();
    let hnd = cc("HND");
    let old = s
        .fed_enqueue(&[
            outgoing("HND", Channel::Directory, "directory.publish", &gtm, now),
            outgoing("HND", Channel::Directory, "directory.publish", &gtm, now),
        ])
        .await
        .unwrap();
    let ack = UnsignedAck {
        from: hnd,
        to: cc("GTM"),
        channel: Channel::Directory,
        epoch: 1,
        acked_through_seq: 1,
        head_hash: old[0].hash.clone(),
        results: vec![],
        created_at: now,
    }
    .sign(&hnd_id)
    .unwrap();
    s.fed_record_ack(hnd, Channel::Directory, &ack, &ack.hash(), now)
        .await
        .unwrap();

    let later = now + Duration::minutes(1);
    let epoch = s
        .fed_new_epoch(
            &ctx(later).event("federation.epoch_started", Outcome::Success),
            &gtm,
            cc("GTM"),
            4,
            &[hnd, cc("SLV")],
            later,
        )
        .await
        .unwrap();
    assert_eq!(epoch, 2);
    assert_eq!(s.fed_epoch().await.unwrap(), 2);

    // The still-pending envelope is issued again at seq 1 of the new epoch, same kind and
    // payload; the old row is never sent again.
    let pending = s.fed_pending(hnd, Channel::Directory, 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].epoch, pending[0].seq), (2, 1));
    let again = Envelope::parse(pending[0].body.as_bytes()).unwrap();
    let before = Envelope::parse(old[1].body.as_bytes()).unwrap();
    assert_eq!(
        (again.kind.as_str(), &again.payload, again.prev.as_str()),
        (before.kind.as_str(), &before.payload, ZERO_HASH)
    );
    assert_ne!(again.id, before.id);
    let superseded = s
        .fed_outbox_after(hnd, Channel::Directory, 1, 1, 10)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (superseded.status, superseded.reason.as_deref()),
        (OutboxStatus::Rejected, Some("superseded"))
    );
    // Every peer told, on the control channel of the new epoch.
    for peer in [hnd, cc("SLV")] {
        let control = s.fed_pending(peer, Channel::Control, 10).await.unwrap();
        assert_eq!(control.len(), 1);
        let env = Envelope::parse(control[0].body.as_bytes()).unwrap();
        assert_eq!(
            (env.epoch, env.seq, env.kind.as_str()),
            (2, 1, "control.epoch")
        );
        assert_eq!(env.payload["epoch"], 2);
        env.verify(&gtm.verifying_key()).unwrap();
    }
    let audit = s
        .audit_entries(
            &AuditFilter {
                action: Some("federation.epoch_started".into()),
                ..AuditFilter::default()
            },
            10,
            0,
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    // 2 sent + 1 ack + 2 control + 1 re-issued.
    assert_eq!(evidence(s).await.len(), 6);
}
