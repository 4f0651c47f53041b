//! Background work of a federated node, each loop safe with several replicas on one database:
//!
//! - **delivery**: one loop per (peer, channel). It takes the pair's lease in the database (so
//!   one replica sends at a time), sends the oldest pending envelopes as one batch — the exact
//!   bytes stored when they were signed — and records the signed ack, or the failure with a
//!   persisted exponential backoff with jitter.
//! - **processing**: applies stored inbox envelopes (the directory today).
//! - **sync**: asks peers for a newer manifest, and pulls envelopes addressed to us from peers,
//!   for links that only work one way.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use puente_common::CountryCode;
use puente_federation::manifest::SignedManifest;
use puente_federation::{Ack, AckOutcome, Channel, Envelope, Reason};
use rand::Rng;
use reqwest::StatusCode;
use tokio::sync::watch;

use crate::app::{AppState, Node};
use crate::audit::{AuditCtx, Outcome};
use crate::federation::{Federation, CHANNELS};

/// Starts every loop; they stop when `stop` turns true.
pub fn start(node: AppState, fed: Arc<Federation>, stop: watch::Receiver<bool>) {
    let n = node.clone();
    let f = fed.clone();
    let s = stop.clone();
    tokio::spawn(async move { supervise_delivery(n, f, s).await });
    let n = node.clone();
    let f = fed.clone();
    let s = stop.clone();
    tokio::spawn(async move { process_inbox(n, f, s).await });
    tokio::spawn(async move { sync(node, fed, stop).await });
}

/// Starts a delivery loop for every (peer, channel) the manifest allows, as they appear.
async fn supervise_delivery(node: AppState, fed: Arc<Federation>, stop: watch::Receiver<bool>) {
    let mut running = std::collections::HashSet::new();
    let mut stop_rx = stop.clone();
    // The directory catch-up runs when the trust state changes (a peer newly approved or
    // unblocked, a new manifest), and again after a failed attempt.
    let mut catch_up = true;
    loop {
        // Approvals and blocks made with the CLI (or by another replica) take effect here.
        match fed.refresh(node.store.as_ref()).await {
            Ok(changed) => catch_up |= changed,
            Err(e) => tracing::error!(error = %e, "cannot refresh the federation trust state"),
        }
        if catch_up {
            catch_up = !catch_up_directory(&node, &fed).await;
        }
        if let Some(trust) = fed.trust() {
            for m in trust
                .signed
                .manifest
                .members
                .iter()
                .filter(|m| m.id != fed.me)
            {
                for channel in CHANNELS {
                    if running.insert((m.id, channel)) {
                        let (n, f, s) = (node.clone(), fed.clone(), stop.clone());
                        let peer = m.id;
                        tokio::spawn(async move { deliver(n, f, peer, channel, s).await });
                    }
                }
            }
        }
        tokio::select! {
            _ = stop_rx.changed() => return,
            () = tokio::time::sleep(Duration::from_millis(fed.config.delivery.poll_millis.max(10))) => {}
        }
    }
}

/// A peer that became a destination of the directory (newly approved, or new in the
/// manifest) gets the current directory, not only the next change.
async fn catch_up_directory(node: &AppState, fed: &Federation) -> bool {
    let now = node.clock.now();
    let Some(trust) = fed.trust() else {
        return true;
    };
    let destinations = trust.destinations(fed.me, Channel::Directory, now);
    // A regional hub has no directory (its schema holds none).
    if destinations.is_empty() || crate::hub::is_hub(&node.config) {
        return true;
    }
    // Nothing to show yet (the hub, a node without services): the first save publishes.
    match node.store.dir_revision().await {
        Ok(0) => return true,
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, "directory catch-up: store failed");
            return false;
        }
    }
    let streams = match node.store.fed_streams_out_all().await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "directory catch-up: store failed");
            return false;
        }
    };
    let missing: Vec<CountryCode> = destinations
        .into_iter()
        .filter(|d| {
            !streams
                .iter()
                .any(|s| s.destination == *d && s.channel == Channel::Directory)
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    let publication = crate::store::dir_sql::Publication {
        destinations: missing.clone(),
        origin: fed.me,
        manifest_version: trust.version(),
        signer: &node.identity,
        now,
    };
    let audit = AuditCtx::system(now);
    match crate::directory::publish_now(node, &audit, Some(&publication)).await {
        Ok(revision) => {
            let peers: Vec<&str> = missing.iter().map(CountryCode::as_str).collect();
            tracing::info!(revision, peers = %peers.join(","), "directory sent to new peers");
            fed.outbox.notify_waiters();
            true
        }
        Err(e) => {
            tracing::error!(error = %e, "directory catch-up failed");
            false
        }
    }
}

/// How a delivery attempt ended.
enum Sent {
    /// Nothing pending (or not allowed now): wait for new work.
    Idle,
    /// A batch went through; more may be pending.
    Progress,
    /// The attempt failed; the failure and its backoff are recorded.
    Failed,
}

async fn deliver(
    node: AppState,
    fed: Arc<Federation>,
    peer: CountryCode,
    channel: Channel,
    mut stop: watch::Receiver<bool>,
) {
    let poll = Duration::from_millis(fed.config.delivery.poll_millis.max(10));
    loop {
        let outcome = match deliver_once(&node, &fed, peer, channel).await {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(peer = %peer, channel = %channel, error = %e, "delivery: store failed");
                Sent::Failed
            }
        };
        if matches!(outcome, Sent::Progress) {
            continue;
        }
        tokio::select! {
            _ = stop.changed() => return,
            () = fed.outbox.notified() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}

/// One attempt: claim the lease, send the next batch, record the outcome, release.
async fn deliver_once(
    node: &Node,
    fed: &Federation,
    peer: CountryCode,
    channel: Channel,
) -> anyhow::Result<Sent> {
    let store = node.store.as_ref();
    let now = node.clock.now();
    let Some(trust) = fed.trust() else {
        return Ok(Sent::Idle);
    };
    if !trust.destinations(fed.me, channel, now).contains(&peer) {
        return Ok(Sent::Idle);
    }
    let lease = chrono::Duration::seconds(fed.config.delivery.lease_seconds.max(1) as i64);
    let Some(state) = store
        .fed_claim(peer, channel, &fed.replica, now, lease)
        .await?
    else {
        return Ok(Sent::Idle);
    };
    let pending = store
        .fed_pending(peer, channel, fed.config.delivery.batch_size.max(1) as i64)
        .await?;
    let outcome = if pending.is_empty() {
        Sent::Idle
    } else {
        // One stream per batch (the oldest epoch first), within the receiver's body limit.
        let epoch = pending[0].epoch;
        let mut size = 64;
        let batch: Vec<_> = pending
            .into_iter()
            .filter(|r| r.epoch == epoch)
            .take_while(|r| {
                size += r.body.len() + 1;
                size <= BATCH_BYTES
            })
            .collect();
        send(node, fed, peer, channel, batch, i64::from(state.failures)).await?
    };
    store.fed_release(peer, channel, &fed.replica).await?;
    Ok(outcome)
}

/// Bytes of envelopes per batch: under the receiver's 2 MiB limit with room to spare (one
/// envelope is at most 256 KiB).
const BATCH_BYTES: usize = 1536 * 1024;

/// Sends a request and reads the whole answer.
async fn call(
    request: reqwest::RequestBuilder,
) -> Result<(StatusCode, axum::body::Bytes), reqwest::Error> {
    let response = request.send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    Ok((status, body))
}

/// The body of a batch: the envelopes' stored bytes, unchanged.
pub fn batch_body(rows: &[crate::store::fed_sql::OutboxRow]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.iter().map(|r| r.body.len() + 1).sum::<usize>() + 16);
    out.extend_from_slice(b"{\"envelopes\":[");
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(r.body.as_bytes());
    }
    out.extend_from_slice(b"]}");
    out
}

async fn send(
    node: &Node,
    fed: &Federation,
    peer: CountryCode,
    channel: Channel,
    batch: Vec<crate::store::fed_sql::OutboxRow>,
    failures: i64,
) -> anyhow::Result<Sent> {
    let Some(client) = fed.client(peer) else {
        fail(node, fed, peer, channel, "no_endpoint", failures).await?;
        return Ok(Sent::Failed);
    };
    let mut rows = batch;
    // At most one resend from the peer's head after a `gap` answer.
    let mut resent = false;
    loop {
        let Some(first) = rows.first() else {
            return Ok(Sent::Idle);
        };
        let (first_epoch, first_seq) = (first.epoch, first.seq);
        let response = call(
            client
                .post("/federation/v1/inbox")
                .header("content-type", "application/json")
                .body(batch_body(&rows)),
        )
        .await;
        let (status, body) = match response {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(peer = %peer, channel = %channel, error = %e, "delivery: peer unreachable");
                fail(node, fed, peer, channel, "unreachable", failures).await?;
                return Ok(Sent::Failed);
            }
        };
        if status == StatusCode::OK {
            let ack = match Ack::parse(&body) {
                Ok(a) => a,
                Err(_) => {
                    fail(node, fed, peer, channel, "bad_ack", failures).await?;
                    return Ok(Sent::Failed);
                }
            };
            if ack.channel != channel {
                fail(node, fed, peer, channel, "ack_mismatch", failures).await?;
                return Ok(Sent::Failed);
            }
            if let Err(reason) = record_ack(node, fed, peer, &ack).await {
                fail(node, fed, peer, channel, reason.code(), failures).await?;
                return Ok(Sent::Failed);
            }
            let refused = ack.results.iter().find(|r| r.result == AckOutcome::Refused);
            if let Some(r) = refused {
                let code = r.reason.clone().unwrap_or_else(|| "refused".into());
                if code == Reason::StaleEpoch.code() && ack.epoch >= first_epoch {
                    // The peer holds a newer epoch of our stream than we do: this node was
                    // restored from a backup older than one of its own epoch changes. Move
                    // past the peer's epoch instead of resending what it refuses.
                    tracing::error!(peer = %peer, channel = %channel, peer_epoch = ack.epoch, "the peer holds a newer epoch of our stream: starting a new epoch");
                    while node.store.fed_epoch().await? <= ack.epoch {
                        start_new_epoch(node, fed).await?;
                    }
                    return Ok(Sent::Progress);
                }
                fail(node, fed, peer, channel, &code, failures).await?;
                return Ok(Sent::Failed);
            }
            return Ok(Sent::Progress);
        }
        let code = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or_else(|| format!("http_{}", status.as_u16()));
        if status == StatusCode::CONFLICT {
            let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            if code == "gap" && !resent {
                // The peer has less of the stream than we thought (it was restored from a
                // backup): send again from where it is.
                let expected = value
                    .get("expected_seq")
                    .and_then(|v| v.as_u64())
                    .unwrap_or(1);
                let again = node
                    .store
                    .fed_outbox_after(
                        peer,
                        channel,
                        first_epoch,
                        expected.saturating_sub(1),
                        fed.config.delivery.batch_size.max(1) as i64,
                    )
                    .await?;
                if again.first().is_some_and(|r| r.seq == expected) {
                    tracing::warn!(peer = %peer, channel = %channel, expected, "peer is behind our stream; resending from its head");
                    rows = again;
                    resent = true;
                    continue;
                }
            } else if code == "fork" {
                let head_seq = value.get("head_seq").and_then(|v| v.as_u64()).unwrap_or(0);
                if head_seq >= first_seq {
                    // The peer has seen more of this stream than we have: this node was restored
                    // from an old backup. Start a new epoch instead of reusing sequence numbers.
                    tracing::error!(peer = %peer, channel = %channel, head_seq, "the peer has seen more of our stream than we hold: starting a new epoch");
                    start_new_epoch(node, fed).await?;
                    return Ok(Sent::Progress);
                }
            }
        }
        tracing::warn!(peer = %peer, channel = %channel, status = status.as_u16(), code = %code, "delivery refused by peer");
        fail(node, fed, peer, channel, &code, failures).await?;
        return Ok(Sent::Failed);
    }
}

/// Records a failed attempt and when to try again: exponential from the configured minimum,
/// capped, with jitter so that many nodes do not retry in step.
async fn fail(
    node: &Node,
    fed: &Federation,
    peer: CountryCode,
    channel: Channel,
    code: &str,
    failures: i64,
) -> anyhow::Result<()> {
    let now = node.clock.now();
    let delay = backoff(
        fed.config.delivery.min_backoff_millis,
        fed.config.delivery.max_backoff_seconds,
        failures + 1,
    );
    let next: DateTime<Utc> = now + delay;
    node.store
        .fed_record_failure(peer, channel, code, next, delay.num_seconds(), now)
        .await?;
    Ok(())
}

/// The delay before attempt `failures + 1`: min · 2^(failures−1), capped at max, times a
/// random factor in [0.5, 1].
pub fn backoff(min_millis: u64, max_seconds: u64, failures: i64) -> chrono::Duration {
    let exp = u32::try_from(failures.clamp(1, 40) - 1).unwrap_or(0);
    let raw = min_millis.max(1).saturating_mul(2u64.saturating_pow(exp));
    let capped = raw.min(max_seconds.max(1).saturating_mul(1000));
    let jitter: f64 = rand::thread_rng().gen_range(0.5..=1.0);
    // Millisecond precision is plenty; the cast cannot overflow after the cap.
    let millis = ((capped as f64) * jitter) as i64;
    chrono::Duration::milliseconds(millis.max(1))
}

/// Checks a peer's signed ack (signature, sender, addressee) and records it.
pub async fn record_ack(
    node: &Node,
    fed: &Federation,
    peer: CountryCode,
    ack: &Ack,
) -> Result<(), Reason> {
    let Some(trust) = fed.trust() else {
        return Err(Reason::UnknownOrigin);
    };
    if ack.from != peer {
        return Err(Reason::OriginMismatch);
    }
    if ack.to != fed.me {
        return Err(Reason::WrongDestination);
    }
    if trust.local.blocked_keys.contains(&ack.key_id) {
        return Err(Reason::KeyBlocked);
    }
    let key = trust
        .signed
        .manifest
        .key(peer, &ack.key_id, ack.created_at)?;
    ack.verify(&key)?;
    let now = node.clock.now();
    node.store
        .fed_record_ack(peer, ack.channel, ack, &ack.hash(), now)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "cannot record an ack");
            Reason::Malformed
        })?;
    Ok(())
}

/// A new epoch: pending envelopes are issued again in it (new positions, same payloads) and
/// every peer is told by a signed `control.epoch`.
async fn start_new_epoch(node: &Node, fed: &Federation) -> anyhow::Result<()> {
    let now = node.clock.now();
    let audit = AuditCtx::system(now).event("federation.epoch_started", Outcome::Success);
    let Some(trust) = fed.trust() else {
        return Ok(());
    };
    let peers: Vec<CountryCode> = trust.destinations(fed.me, Channel::Control, now);
    let epoch = node
        .store
        .fed_new_epoch(&audit, &node.identity, fed.me, trust.version(), &peers, now)
        .await?;
    tracing::warn!(epoch, "federation: new epoch started");
    fed.outbox.notify_waiters();
    Ok(())
}

/// Applies stored inbox envelopes, oldest first.
async fn process_inbox(node: AppState, fed: Arc<Federation>, mut stop: watch::Receiver<bool>) {
    let poll = Duration::from_millis(fed.config.delivery.poll_millis.max(10));
    loop {
        let mut worked = false;
        match node.store.fed_unprocessed(50).await {
            Ok(rows) => {
                for row in rows {
                    // A store failure leaves the row for later: wait before trying again.
                    worked |= apply(&node, &row).await;
                }
            }
            Err(e) => tracing::error!(error = %e, "inbox: store failed"),
        }
        if worked {
            continue;
        }
        tokio::select! {
            _ = stop.changed() => return,
            () = fed.inbox.notified() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}

/// Applies one inbox envelope; a failure is recorded on the row and shown to administrators.
/// Returns false when the store failed and the row stays to be tried again.
pub async fn apply(node: &AppState, row: &crate::store::fed_sql::InboxRow) -> bool {
    let now = node.clock.now();
    let store = node.store.as_ref();
    let failed = |code: &'static str| async move {
        tracing::warn!(origin = %row.origin, kind = %row.kind, reason = code, "inbox: envelope not applied");
        match store
            .fed_mark_processed(row.id, false, Some(code), now)
            .await
        {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, "inbox: cannot record the failure");
                false
            }
        }
    };
    let Some(body) = row.body.as_deref() else {
        return failed("no_body").await;
    };
    let Ok(env) = Envelope::parse(body.as_bytes()) else {
        return failed("malformed").await;
    };
    match env.kind.as_str() {
        "directory.publish" => {
            match crate::directory::apply_remote(node, env.origin, &env.payload, row.id).await {
                Ok(_) => true,
                Err(crate::directory::ApplyError::Refused { reason, .. }) => failed(reason).await,
                // The store failed: the envelope stays in the inbox and is tried again.
                Err(e) => {
                    tracing::error!(error = %e, "inbox: cannot apply a directory");
                    false
                }
            }
        }
        kind if kind.starts_with("referral.")
            || kind == "control.recall"
            || kind == "control.recall_ack" =>
        {
            match crate::referrals::inbound::apply_remote(node, row, &env).await {
                Ok(true) => true,
                Ok(false) => failed("unknown_kind").await,
                Err(crate::referrals::inbound::ApplyError::Refused(reason)) => failed(reason).await,
                // The store failed: the envelope stays in the inbox and is tried again.
                Err(e) => {
                    tracing::error!(error = %e, "inbox: cannot apply a referral step");
                    false
                }
            }
        }
        // Only a regional hub takes statistics releases; a country node refuses them below.
        puente_common::stats::release::RELEASE_KIND if crate::hub::is_hub(&node.config) => {
            crate::hub::apply(node, row, &env).await
        }
        "control.epoch" => match store.fed_mark_processed(row.id, true, None, now).await {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, "inbox: cannot mark processed");
                false
            }
        },
        _ => failed("unknown_kind").await,
    }
}

/// Every `sync_seconds`: newer manifests from peers, and envelopes pulled from peers.
async fn sync(node: AppState, fed: Arc<Federation>, mut stop: watch::Receiver<bool>) {
    let every = Duration::from_secs(fed.config.delivery.sync_seconds.max(1));
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(every) => {}
        }
        if let Some(trust) = fed.trust() {
            for m in trust.effective.peers_of(fed.me) {
                let peer = m.id;
                if !trust.trusts(peer) {
                    continue;
                }
                fetch_manifest(&node, &fed, peer).await;
                for channel in CHANNELS {
                    if trust.effective.allows(channel, peer, fed.me) {
                        pull(&node, &fed, peer, channel).await;
                    }
                }
            }
        }
    }
}

/// Installs a peer's manifest when it is newer and properly signed.
async fn fetch_manifest(node: &Node, fed: &Federation, peer: CountryCode) {
    let Some(client) = fed.client(peer) else {
        return;
    };
    let Ok((status, body)) = call(client.get("/federation/v1/manifest")).await else {
        return;
    };
    if status != StatusCode::OK {
        return;
    }
    let Ok(signed) = SignedManifest::parse(&body) else {
        tracing::warn!(peer = %peer, "a peer served a manifest that does not parse");
        return;
    };
    let held = fed.trust().map_or(0, |t| t.version());
    if signed.manifest.version <= held {
        return;
    }
    match crate::federation::admin::install_manifest(
        node,
        &signed,
        &format!("peer:{peer}"),
        "federation-sync",
    )
    .await
    {
        Ok(()) => {
            tracing::info!(peer = %peer, version = signed.manifest.version, "installed a newer manifest from a peer");
            if let Err(e) = fed.refresh(node.store.as_ref()).await {
                tracing::error!(error = %e, "cannot refresh federation trust");
            }
        }
        Err(e) => tracing::warn!(peer = %peer, error = %e, "a peer's newer manifest was refused"),
    }
}

/// Pulls our stream from `peer` on `channel` and acks what was stored.
async fn pull(node: &Node, fed: &Federation, peer: CountryCode, channel: Channel) {
    let Some(client) = fed.client(peer) else {
        return;
    };
    let head = match node.store.fed_stream_head(peer, channel).await {
        Ok(h) => h,
        Err(_) => return,
    };
    let (epoch, after) = head.map_or((1, 0), |h| (h.epoch, h.seq));
    let path = format!("/federation/v1/pull/{}", channel.as_str());
    let request = client
        .get(&path)
        .query(&[("epoch", epoch), ("after", after)]);
    let Ok((status, body)) = call(request).await else {
        return;
    };
    if status != StatusCode::OK {
        return;
    }
    let envelopes = match crate::federation::server::parse_batch(&body) {
        Ok(e) if !e.is_empty() => e,
        _ => return,
    };
    match crate::federation::accept::accept_batch(node, fed, peer, envelopes).await {
        Ok(ack) => {
            let request = client
                .post("/federation/v1/acks")
                .header("content-type", "application/json")
                .body(ack.canonical_bytes());
            if let Ok((s, _)) = call(request).await {
                if s != StatusCode::NO_CONTENT {
                    tracing::warn!(peer = %peer, status = s.as_u16(), "a peer refused our ack for pulled envelopes");
                }
            }
        }
        Err(r) => tracing::warn!(peer = %peer, error = %r.body, "pulled envelopes refused"),
    }
}
