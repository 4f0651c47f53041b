//! The `/federation/v1` routes, served only on the mutual-TLS federation listener: every
//! request carries the peer the TLS handshake authenticated ([`PeerIdentity`]), and no route
//! here is reachable from the web listener.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use puente_common::CountryCode;
use puente_federation::transport::PeerIdentity;
use puente_federation::{Ack, Channel, Envelope, Reason, MAX_BATCH, MAX_ENVELOPE_BYTES};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::federation::accept::{accept_batch, Refusal};
use crate::federation::Federation;

/// Largest request body: a full batch of the largest envelopes would exceed it, so a sender
/// sizes its batches by bytes as well as by count.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The federation routes with their purpose, for docs/protocol.md and the tests.
pub const ROUTES: &[(&str, &str, &str)] = &[
    (
        "POST",
        "/federation/v1/inbox",
        "a batch of envelopes of one stream → signed ack",
    ),
    (
        "GET",
        "/federation/v1/pull/{channel}",
        "envelopes for the requesting peer (one-way reachability)",
    ),
    (
        "POST",
        "/federation/v1/acks",
        "a signed ack for pulled envelopes",
    ),
    (
        "GET",
        "/federation/v1/manifest",
        "the latest signed manifest held",
    ),
    (
        "GET",
        "/federation/v1/heads",
        "the heads of the requesting peer's streams here",
    ),
];

#[derive(Clone)]
struct FedState {
    node: AppState,
    fed: Arc<Federation>,
}

/// The router of the federation listener.
pub fn router(node: AppState, fed: Arc<Federation>) -> Router {
    Router::new()
        .route("/federation/v1/inbox", post(inbox))
        .route("/federation/v1/pull/{channel}", get(pull))
        .route("/federation/v1/acks", post(acks))
        .route("/federation/v1/manifest", get(manifest))
        .route("/federation/v1/heads", get(heads))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "not_found") })
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(FedState { node, fed })
}

fn error(status: StatusCode, code: &str) -> Response {
    (status, axum::Json(json!({ "error": code }))).into_response()
}

fn refusal(r: Refusal) -> Response {
    (r.status, axum::Json(r.body)).into_response()
}

fn json_bytes(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

/// Parses `{"envelopes": [...]}`: each envelope checked for size and schema.
pub fn parse_batch(body: &[u8]) -> Result<Vec<Envelope>, Reason> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Batch {
        envelopes: Vec<serde_json::Value>,
    }
    let batch: Batch = serde_json::from_slice(body).map_err(|_| Reason::Malformed)?;
    if batch.envelopes.len() > MAX_BATCH {
        return Err(Reason::TooLarge);
    }
    batch
        .envelopes
        .into_iter()
        .map(|v| {
            let env = Envelope::from_value(v)?;
            if env.canonical_bytes().len() > MAX_ENVELOPE_BYTES {
                return Err(Reason::TooLarge);
            }
            Ok(env)
        })
        .collect()
}

/// The request body, up to [`MAX_BODY_BYTES`]; larger ones are refused with `too_large`.
async fn read_body(body: axum::body::Body) -> Result<Bytes, Response> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| refusal(Refusal::for_reason(&Reason::TooLarge)))
}

/// Any authenticated request of an approved peer resets our backoff towards it.
async fn touch(s: &FedState, peer: CountryCode) {
    if let Err(e) = s.node.store.fed_touch_peer(peer, s.node.clock.now()).await {
        tracing::warn!(error = %e, "cannot record contact with peer");
    }
    s.fed.outbox.notify_waiters();
}

async fn inbox(
    State(s): State<FedState>,
    Extension(peer): Extension<PeerIdentity>,
    body: axum::body::Body,
) -> Response {
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let envelopes = match parse_batch(&body) {
        Ok(e) => e,
        Err(reason) => {
            tracing::warn!(peer = %peer.member, reason = reason.code(), "federation: batch refused");
            return refusal(Refusal::for_reason(&reason));
        }
    };
    match accept_batch(&s.node, &s.fed, peer.member, envelopes).await {
        Ok(ack) => json_bytes(ack.canonical_bytes()),
        Err(r) => refusal(r),
    }
}

#[derive(Deserialize)]
struct PullQuery {
    epoch: u64,
    after: u64,
    #[serde(default)]
    limit: Option<i64>,
}

/// Envelopes of our stream to the requesting peer, after its head: for a peer that can reach
/// us when we cannot reach it.
async fn pull(
    State(s): State<FedState>,
    Extension(peer): Extension<PeerIdentity>,
    Path(channel): Path<String>,
    Query(q): Query<PullQuery>,
) -> Response {
    let Ok(channel) = channel.parse::<Channel>() else {
        return error(StatusCode::BAD_REQUEST, "malformed");
    };
    if !authorised(&s, peer.member) {
        return error(StatusCode::FORBIDDEN, "peer_not_approved");
    }
    touch(&s, peer.member).await;
    let store = s.node.store.as_ref();
    let limit = q
        .limit
        .unwrap_or(MAX_BATCH as i64)
        .clamp(1, MAX_BATCH as i64);
    match pull_rows(store, peer.member, channel, q.epoch, q.after, limit).await {
        Ok(rows) => json_bytes(crate::federation::worker::batch_body(&rows)),
        Err(e) => {
            tracing::error!(error = %e, "federation pull: store failed");
            error(StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
    }
}

/// Our envelopes to `peer` after (epoch, after); when that epoch has nothing more, the start
/// of the next epoch we have (after a restore from backup the stream continues there).
async fn pull_rows(
    store: &dyn crate::store::Store,
    peer: CountryCode,
    channel: Channel,
    epoch: u64,
    after: u64,
    limit: i64,
) -> crate::store::StoreResult<Vec<crate::store::fed_sql::OutboxRow>> {
    let rows = store
        .fed_outbox_after(peer, channel, epoch, after, limit)
        .await?;
    if !rows.is_empty() {
        return Ok(rows);
    }
    let current = store.fed_epoch().await?;
    for next in epoch.saturating_add(1)..=current {
        let rows = store
            .fed_outbox_after(peer, channel, next, 0, limit)
            .await?;
        if !rows.is_empty() {
            return Ok(rows);
        }
    }
    Ok(Vec::new())
}

/// Whether the peer is active in the manifest, approved here and not blocked.
fn authorised(s: &FedState, peer: CountryCode) -> bool {
    s.fed.trust().is_some_and(|t| {
        t.effective
            .member(peer)
            .is_some_and(|m| m.status == puente_federation::manifest::MemberStatus::Active)
            && t.trusts(peer)
    })
}

/// A signed ack for envelopes the peer pulled from us.
async fn acks(
    State(s): State<FedState>,
    Extension(peer): Extension<PeerIdentity>,
    body: axum::body::Body,
) -> Response {
    if !authorised(&s, peer.member) {
        return error(StatusCode::FORBIDDEN, "peer_not_approved");
    }
    touch(&s, peer.member).await;
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let ack = match Ack::parse(&body) {
        Ok(a) => a,
        Err(r) => return refusal(Refusal::for_reason(&r)),
    };
    match crate::federation::worker::record_ack(&s.node, &s.fed, peer.member, &ack).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(reason) => refusal(Refusal::for_reason(&reason)),
    }
}

async fn manifest(
    State(s): State<FedState>,
    Extension(_peer): Extension<PeerIdentity>,
) -> Response {
    match s.node.store.fed_manifest().await {
        Ok(Some(m)) => json_bytes(m.body.into_bytes()),
        Ok(None) => error(StatusCode::NOT_FOUND, "no_manifest"),
        Err(e) => {
            tracing::error!(error = %e, "federation manifest: store failed");
            error(StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
    }
}

async fn heads(State(s): State<FedState>, Extension(peer): Extension<PeerIdentity>) -> Response {
    if !authorised(&s, peer.member) {
        return error(StatusCode::FORBIDDEN, "peer_not_approved");
    }
    touch(&s, peer.member).await;
    match s.node.store.fed_stream_heads(peer.member).await {
        Ok(heads) => {
            let streams: Vec<_> = heads
                .into_iter()
                .map(|(channel, h)| {
                    json!({ "channel": channel.as_str(), "epoch": h.epoch, "head_seq": h.seq, "head_hash": h.hash })
                })
                .collect();
            axum::Json(json!({ "streams": streams })).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "federation heads: store failed");
            error(StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
    }
}
