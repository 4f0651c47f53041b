//! The national administrator's federation pages: `/federation` (the manifest this node
//! holds, the members and agreements with this node's decisions about them, delivery per peer
//! and channel, problems, stream heads) and `/federation/evidence` (the evidence log with its
//! seals and its verification). Plain forms, no script.
//!
//! Viewing needs `view_federation` (node administrators and auditors); approving, blocking
//! and unblocking need `manage_federation` (node administrators). The decisions themselves
//! are made by [`super::admin`] (validated and audited in the same transaction as the
//! change); after each one the running federation's trust is rebuilt
//! ([`super::Federation::refresh`]) so that it applies at once. Nothing here shows a payload:
//! only ids, positions, hashes and reason codes.

use std::collections::HashSet;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, Utc};
use puente_common::CountryCode;
use puente_federation::manifest::Manifest;
use puente_federation::KeyId;
use serde::Deserialize;
use serde_json::{json, Value};

use super::admin;
use super::evidence::{self, EvidenceBroken};
use crate::admin::{require, text, when, when_opt};
use crate::app::AppState;
use crate::authz::Action;
use crate::error::{AppError, AppResult, FieldError};
use crate::store::fed_sql::{Approval, ApprovalKind, Block, BlockKind, EvidenceEntry};
use crate::store::StoreError;
use crate::web::{Lang, SignedIn};

/// The routes of this module, with the action each needs (same format as `app::ROUTES`).
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/federation", "view_federation"),
    ("POST", "/federation/approve", "manage_federation"),
    ("POST", "/federation/block", "manage_federation"),
    ("POST", "/federation/unblock", "manage_federation"),
    ("GET", "/federation/evidence", "view_federation"),
];

/// The templates of these pages (registered by `web::Web::load`).
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "federation/overview.html",
        include_str!("../../templates/federation/overview.html"),
    ),
    (
        "federation/evidence.html",
        include_str!("../../templates/federation/evidence.html"),
    ),
];

/// The pages' router (to be merged inside the web context layer).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/federation", get(overview))
        .route("/federation/approve", post(approve))
        .route("/federation/block", post(block))
        .route("/federation/unblock", post(unblock))
        .route("/federation/evidence", get(evidence_log))
}

/// Problems (rejected, refused, failed envelopes) listed per direction.
const PROBLEMS: i64 = 50;
/// Evidence entries per page.
const EVIDENCE_PAGE: i64 = 50;
/// Seals listed (newest first).
const SEALS: usize = 60;
/// Hex characters shown of a hash (the whole value is in the element's title).
const SHORT_HASH: usize = 12;

// ---------------------------------------------------------------- shared helpers

/// The snake_case code of a protocol enum (role, status, agreement kind).
fn code_of<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn short(hash: &str) -> String {
    hash.chars().take(SHORT_HASH).collect()
}

/// A timestamp to the second, for logs.
fn when_exact(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A reason code (protocol refusal, delivery error, processing failure) in `lang`; unknown
/// codes get a generic label (the page shows the code next to it).
pub fn reason_label(st: &AppState, lang: Lang, code: &str) -> String {
    let i18n = &st.web.i18n;
    if let Some(status) = code.strip_prefix("http_") {
        return i18n.tr(lang, "fed-reason-http", &[("status", status.to_owned())]);
    }
    let key = format!("fed-reason-{code}");
    if i18n.has(lang, &key) {
        i18n.tr(lang, &key, &[])
    } else {
        i18n.tr(lang, "fed-reason-other", &[])
    }
}

fn reason_json(st: &AppState, lang: Lang, code: Option<&str>) -> Value {
    match code {
        Some(c) => json!({ "code": c, "label": reason_label(st, lang, c) }),
        None => Value::Null,
    }
}

/// Rebuilds the running federation's trust after a local decision, so it applies at once.
async fn refresh(st: &AppState) -> AppResult<()> {
    if let Some(fed) = st.federation.get() {
        fed.refresh(st.store.as_ref())
            .await
            .map_err(|e| AppError::internal(format!("federation trust refresh: {e:#}")))?;
    }
    Ok(())
}

// ---------------------------------------------------------------- GET /federation

/// `GET /federation`
async fn overview(State(st): State<AppState>, s: SignedIn) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ViewFederation, &s.ctx.path).await?;
    overview_page(&st, &s, StatusCode::OK, json!({})).await
}

async fn overview_page(
    st: &AppState,
    s: &SignedIn,
    status: StatusCode,
    extra: Value,
) -> AppResult<Response> {
    let data = crate::web::merge(overview_data(st, s).await?, extra);
    Ok(st
        .web
        .render_status(&s.ctx, status, "federation/overview.html", data))
}

async fn overview_data(st: &AppState, s: &SignedIn) -> AppResult<Value> {
    let now = st.clock.now();
    let lang = s.ctx.lang;
    let me = st.config.country;
    let store = st.store.as_ref();
    let fed = st.federation.get();
    let node = json!({
        "me": me.as_str(),
        "configured": fed.is_some(),
        "endpoint": fed.map(|f| f.config.endpoint.clone()),
        "listen": fed.map(|f| f.config.listen.to_string()),
    });
    let can_manage = s.actor.can(Action::ManageFederation);
    let Some(signed) = admin::held(store).await.map_err(AppError::internal)? else {
        return Ok(json!({ "joined": false, "node": node, "can_manage": can_manage }));
    };
    let m = &signed.manifest;
    let row = store.fed_manifest().await?;
    let anchor = admin::anchor(store).await.map_err(AppError::internal)?;
    let approvals = store.fed_approvals().await?;
    let blocks = store.fed_blocks().await?;
    let delivery = store.fed_delivery_states().await?;

    let approved = |kind: ApprovalKind, subject: &str| -> Value {
        approvals
            .iter()
            .find(|a| a.kind == kind && a.subject == subject)
            .map_or(
                Value::Null,
                |a| json!({ "by": a.approved_by, "at": when(a.approved_at) }),
            )
    };
    let blocked = |kind: BlockKind, subject: &str| -> Value {
        blocks
            .iter()
            .find(|b| b.kind == kind && b.subject == subject)
            .map_or(Value::Null, block_json)
    };

    // --- the manifest
    let freshness = admin::freshness_label(m, now);
    let expires_soon = freshness == "fresh" && m.expires_at - now < chrono::Duration::days(7);
    let manifest = json!({
        "federation": m.federation,
        "version": m.version,
        "issued_at": when(m.issued_at),
        "expires_at": when(m.expires_at),
        "grace_until": when_opt(m.grace_until()),
        "grace_days": m.grace_seconds / 86_400,
        "freshness": freshness,
        "expires_soon": expires_soon,
        "threshold": m.governance.threshold,
        "governance_keys": m.governance.keys.iter()
            .map(|k| json!({ "id": k.id.as_str(), "holder": k.holder.as_str() }))
            .collect::<Vec<_>>(),
        "signatures": signed.signatures.len(),
        "anchor_fingerprint": anchor.as_ref().map(|g| g.fingerprint()),
        "installed_at": row.as_ref().map(|r| when(r.installed_at)),
        "source": row.as_ref().map(|r| r.source.clone()),
    });

    // --- members, their keys, and this node's decisions about them
    let members: Vec<Value> = m
        .members
        .iter()
        .map(|x| {
            let id = x.id.as_str();
            let last_contact = delivery
                .iter()
                .filter(|d| d.peer == x.id)
                .filter_map(|d| d.last_contact_at)
                .max();
            json!({
                "id": id,
                "name": x.name,
                "role": code_of(&x.role),
                "status": code_of(&x.status),
                "endpoint": x.endpoint,
                "me": x.id == me,
                "approved": approved(ApprovalKind::Peer, id),
                "blocked": blocked(BlockKind::Peer, id),
                "last_contact": when_opt(last_contact),
            })
        })
        .collect();
    let mut keys: Vec<Value> = Vec::new();
    for x in &m.members {
        for k in &x.signing_keys {
            keys.push(json!({
                "member": x.id.as_str(),
                "id": k.id.as_str(),
                "valid_from": when(k.valid_from),
                "valid_until": when_opt(k.valid_until),
                "valid_now": k.valid_at(now),
                "revoked": x.revoked_keys.contains(&k.id),
                "mine": x.id == me,
                "blocked": blocked(BlockKind::Key, k.id.as_str()),
            }));
        }
        for k in x
            .revoked_keys
            .iter()
            .filter(|k| !x.signing_keys.iter().any(|s| s.id == **k))
        {
            keys.push(json!({
                "member": x.id.as_str(),
                "id": k.as_str(),
                "valid_from": Value::Null,
                "valid_until": Value::Null,
                "valid_now": false,
                "revoked": true,
                "mine": x.id == me,
                "blocked": blocked(BlockKind::Key, k.as_str()),
            }));
        }
    }
    let agreements: Vec<Value> = m
        .agreements
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "kind": code_of(&a.kind),
                "members": a.members.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                "hub": a.hub.map(|h| h.as_str().to_owned()),
                "involves_me": a.members.contains(&me),
                "approved": approved(ApprovalKind::Agreement, &a.id),
            })
        })
        .collect();
    let unapproved_peers = m
        .peers_of(me)
        .iter()
        .filter(|p| approved(ApprovalKind::Peer, p.id.as_str()).is_null())
        .count();
    let unapproved_agreements = m
        .agreements
        .iter()
        .filter(|a| a.members.contains(&me) && approved(ApprovalKind::Agreement, &a.id).is_null())
        .count();

    // --- delivery, problems, streams
    let delivery_rows: Vec<Value> = delivery
        .iter()
        .map(|d| {
            let next = if d.next_attempt_at > now {
                Some(when(d.next_attempt_at))
            } else {
                None
            };
            json!({
                "peer": d.peer.as_str(),
                "channel": d.channel.as_str(),
                "backlog": d.backlog,
                "failures": d.failures,
                "last_error": reason_json(st, lang, d.last_error.as_deref()),
                "last_attempt": when_opt(d.last_attempt_at),
                "last_success": when_opt(d.last_success_at),
                "last_contact": when_opt(d.last_contact_at),
                "next_attempt": next,
                "due": d.backlog > 0 && d.next_attempt_at <= now,
            })
        })
        .collect();
    let outbox_problems: Vec<Value> = store
        .fed_outbox_problems(PROBLEMS)
        .await?
        .iter()
        .map(|o| {
            json!({
                "id": o.id.to_string(),
                "peer": o.destination.as_str(),
                "channel": o.channel.as_str(),
                "epoch": o.epoch,
                "seq": o.seq,
                "kind": o.kind,
                "status": o.status.as_str(),
                "result": o.last_result.as_ref().map(crate::store::fed_sql::outcome_code),
                "reason": reason_json(st, lang, o.reason.as_deref()),
                "at": when(o.created_at),
            })
        })
        .collect();
    let inbox_problems: Vec<Value> = store
        .fed_inbox_problems(PROBLEMS)
        .await?
        .iter()
        .map(|i| {
            json!({
                "id": i.id.to_string(),
                "peer": i.origin.as_str(),
                "channel": i.channel.as_str(),
                "epoch": i.epoch,
                "seq": i.seq,
                "kind": i.kind,
                "status": i.status.as_str(),
                "reason": reason_json(st, lang, i.reason.as_deref()),
                "at": when(i.received_at),
            })
        })
        .collect();
    let streams_in: Vec<Value> = store
        .fed_streams_in_all()
        .await?
        .iter()
        .map(|x| {
            json!({
                "peer": x.origin.as_str(),
                "channel": x.channel.as_str(),
                "epoch": x.head.epoch,
                "seq": x.head.seq,
                "hash": x.head.hash,
                "hash_short": short(&x.head.hash),
            })
        })
        .collect();
    let streams_out: Vec<Value> = store
        .fed_streams_out_all()
        .await?
        .iter()
        .map(|x| {
            json!({
                "peer": x.destination.as_str(),
                "channel": x.channel.as_str(),
                "epoch": x.epoch,
                "last_seq": x.last_seq,
                "consumed_seq": x.consumed_seq,
                "outstanding": x.last_seq.saturating_sub(x.consumed_seq),
                "hash": x.last_hash,
                "hash_short": short(&x.last_hash),
            })
        })
        .collect();

    // Subjects a block can name, for the free-form block's suggestions.
    let mut subjects: Vec<String> = m
        .members
        .iter()
        .filter(|x| x.id != me)
        .map(|x| x.id.as_str().to_owned())
        .collect();
    subjects.extend(
        m.members
            .iter()
            .filter(|x| x.id != me)
            .flat_map(|x| x.signing_keys.iter().map(|k| k.id.as_str().to_owned())),
    );

    Ok(json!({
        "joined": true,
        "node": node,
        "can_manage": can_manage,
        "manifest": manifest,
        "members": members,
        "keys": keys,
        "blocks": blocks.iter().map(block_json).collect::<Vec<_>>(),
        "agreements": agreements,
        "unapproved_peers": unapproved_peers,
        "unapproved_agreements": unapproved_agreements,
        "not_in_effect": not_in_effect(st, m, &approvals, &blocks),
        "delivery": delivery_rows,
        "outbox_problems": outbox_problems,
        "inbox_problems": inbox_problems,
        "streams_in": streams_in,
        "streams_out": streams_out,
        "subjects": subjects,
    }))
}

fn block_json(b: &Block) -> Value {
    json!({
        "kind": b.kind.as_str(),
        "subject": b.subject,
        "reason": b.reason,
        "by": b.blocked_by,
        "at": when(b.blocked_at),
    })
}

/// Whether the running federation acts on something else than what is stored (a decision
/// made with the command line while this server runs, for instance): the manifest version
/// or the local decisions differ from its trust snapshot. Never when the node is not
/// configured for a federation (nothing runs).
fn not_in_effect(st: &AppState, m: &Manifest, approvals: &[Approval], blocks: &[Block]) -> bool {
    let Some(fed) = st.federation.get() else {
        return false;
    };
    let Some(trust) = fed.trust() else {
        return true;
    };
    let approved_peers: HashSet<CountryCode> = approvals
        .iter()
        .filter(|a| a.kind == ApprovalKind::Peer)
        .filter_map(|a| a.subject.parse().ok())
        .collect();
    let blocked_peers: HashSet<CountryCode> = blocks
        .iter()
        .filter(|b| b.kind == BlockKind::Peer)
        .filter_map(|b| b.subject.parse().ok())
        .collect();
    let blocked_keys: HashSet<KeyId> = blocks
        .iter()
        .filter(|b| b.kind == BlockKind::Key)
        .filter_map(|b| b.subject.parse().ok())
        .collect();
    let approved_agreements: HashSet<&str> = approvals
        .iter()
        .filter(|a| a.kind == ApprovalKind::Agreement)
        .map(|a| a.subject.as_str())
        .filter(|id| m.agreements.iter().any(|g| g.id == *id))
        .collect();
    let effective_agreements: HashSet<&str> = trust
        .effective
        .agreements
        .iter()
        .map(|g| g.id.as_str())
        .collect();
    trust.version() != m.version
        || trust.local.approved_peers != approved_peers
        || trust.local.blocked_peers != blocked_peers
        || trust.local.blocked_keys != blocked_keys
        || effective_agreements != approved_agreements
}

// ---------------------------------------------------------------- the decisions

/// `POST /federation/approve`: `kind` = `peer` | `agreement`, `subject` = its id.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ApproveForm {
    pub kind: String,
    pub subject: String,
}

/// `POST /federation/block`: `subject` = a member id or a key id, with a required reason.
/// `place` says which form was used (`row`: the one in a member's or key's row), to show an
/// error next to it.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct BlockForm {
    pub subject: String,
    pub reason: String,
    pub place: String,
}

/// `POST /federation/unblock`
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct UnblockForm {
    pub subject: String,
}

/// The page again with the errors of a refused decision: field errors translated (next to
/// their field and listed at the top), the form's values kept. Nothing was changed.
async fn refused(
    st: &AppState,
    s: &SignedIn,
    status: StatusCode,
    form: Value,
    errors: &[FieldError],
) -> AppResult<Response> {
    let lang = s.ctx.lang;
    let row = form.get("place").and_then(Value::as_str) == Some("row");
    let subject = form
        .get("subject")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_owned();
    let block_form = form.get("action").and_then(Value::as_str) == Some("block");
    let list: Vec<Value> = errors
        .iter()
        .map(|e| {
            // A link to the field, where the form that failed has one.
            let href = match e.field.as_str() {
                "reason" if block_form && row => Some(format!("f-reason-{subject}")),
                "reason" | "subject" if block_form && !row => Some(format!("f-{}", e.field)),
                _ => None,
            };
            json!({
                "field": st.web.tr(lang, &format!("fed-field-{}", e.field)),
                "message": st.web.tr(lang, &format!("msg-field-{}", e.code)),
                "href": href,
            })
        })
        .collect();
    let extra = json!({
        "errors": st.web.field_errors(lang, errors),
        "error_list": list,
        "form": form,
    });
    overview_page(st, s, status, extra).await
}

/// The page with a banner: this node has not joined a federation, so there is nothing to
/// approve.
async fn not_joined(st: &AppState, s: &SignedIn) -> AppResult<Response> {
    let extra = json!({ "error": st.web.tr(s.ctx.lang, "fed-error-not-joined") });
    overview_page(st, s, StatusCode::CONFLICT, extra).await
}

/// An error of [`admin`] that is about the input (a subject that is not a member, agreement
/// or key id; a block that does not exist), as a field error; `Err` for anything else.
fn input_error(e: anyhow::Error, field: &'static str, code: &'static str) -> AppResult<FieldError> {
    match e.downcast_ref::<StoreError>() {
        Some(StoreError::NotFound) => Ok(FieldError::new(field, "fed_not_blocked")),
        Some(_) => Err(AppError::internal(format!("{e:#}"))),
        None => Ok(FieldError::new(field, code)),
    }
}

fn required(field: &'static str, value: &str, errors: &mut Vec<FieldError>) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.push(FieldError::new(field, "required"));
    } else if v.len() > 100 || v.chars().any(char::is_control) {
        errors.push(FieldError::new(field, "invalid"));
    }
    v.to_owned()
}

/// `POST /federation/approve`
async fn approve(
    State(st): State<AppState>,
    s: SignedIn,
    Form(f): Form<ApproveForm>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ManageFederation, &s.ctx.path).await?;
    let form = json!({ "action": "approve", "kind": f.kind, "subject": f.subject });
    let mut errors = Vec::new();
    let kind = match f.kind.trim() {
        "" => {
            errors.push(FieldError::new("kind", "required"));
            None
        }
        k => match k.parse::<ApprovalKind>() {
            Ok(k) => Some(k),
            Err(_) => {
                errors.push(FieldError::new("kind", "invalid"));
                None
            }
        },
    };
    let subject = required("subject", &f.subject, &mut errors);
    let Some(kind) = kind.filter(|_| errors.is_empty()) else {
        return refused(&st, &s, StatusCode::UNPROCESSABLE_ENTITY, form, &errors).await;
    };
    if st.store.fed_manifest().await?.is_none() {
        return not_joined(&st, &s).await;
    }
    match admin::approve(st.store.as_ref(), &audit, kind, &subject).await {
        Ok(()) => {
            refresh(&st).await?;
            let notice = match kind {
                ApprovalKind::Peer => "federation_peer_approved",
                ApprovalKind::Agreement => "federation_agreement_approved",
            };
            Ok(Redirect::to(&format!("/federation?notice={notice}")).into_response())
        }
        Err(e) => {
            let code = match kind {
                ApprovalKind::Peer => "fed_not_member",
                ApprovalKind::Agreement => "fed_not_agreement",
            };
            let err = input_error(e, "subject", code)?;
            refused(&st, &s, StatusCode::UNPROCESSABLE_ENTITY, form, &[err]).await
        }
    }
}

/// `POST /federation/block`
async fn block(
    State(st): State<AppState>,
    s: SignedIn,
    Form(f): Form<BlockForm>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ManageFederation, &s.ctx.path).await?;
    let form =
        json!({ "action": "block", "subject": f.subject, "reason": f.reason, "place": f.place });
    let mut errors = Vec::new();
    let subject = required("subject", &f.subject, &mut errors);
    let reason = text("reason", &f.reason, 500, &mut errors);
    if !errors.is_empty() {
        return refused(&st, &s, StatusCode::UNPROCESSABLE_ENTITY, form, &errors).await;
    }
    match admin::block(st.store.as_ref(), &audit, &subject, &reason).await {
        Ok(()) => {
            refresh(&st).await?;
            Ok(Redirect::to("/federation?notice=federation_blocked").into_response())
        }
        Err(e) => {
            let err = input_error(e, "subject", "fed_not_subject")?;
            refused(&st, &s, StatusCode::UNPROCESSABLE_ENTITY, form, &[err]).await
        }
    }
}

/// `POST /federation/unblock`
async fn unblock(
    State(st): State<AppState>,
    s: SignedIn,
    Form(f): Form<UnblockForm>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ManageFederation, &s.ctx.path).await?;
    let form = json!({ "action": "unblock", "subject": f.subject });
    let mut errors = Vec::new();
    let subject = required("subject", &f.subject, &mut errors);
    if !errors.is_empty() {
        return refused(&st, &s, StatusCode::UNPROCESSABLE_ENTITY, form, &errors).await;
    }
    match admin::unblock(st.store.as_ref(), &audit, &subject).await {
        Ok(()) => {
            refresh(&st).await?;
            Ok(Redirect::to("/federation?notice=federation_unblocked").into_response())
        }
        Err(e) => {
            let err = input_error(e, "subject", "fed_not_subject")?;
            refused(&st, &s, StatusCode::UNPROCESSABLE_ENTITY, form, &[err]).await
        }
    }
}

// ---------------------------------------------------------------- GET /federation/evidence

/// `GET /federation/evidence`: newest first, `?before=N` for the entries before N, or
/// `?after=N` for the entries after N, oldest first.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EvidenceParams {
    before: String,
    after: String,
}

fn evidence_json(st: &AppState, lang: Lang, e: &EvidenceEntry) -> Value {
    json!({
        "seq": e.seq,
        "at": when_exact(e.at),
        "direction": e.direction.as_str(),
        "peer": e.peer.as_str(),
        "channel": e.channel.as_str(),
        "epoch": e.epoch,
        "stream_seq": e.stream_seq,
        "message_id": e.message_id.map(|u| u.to_string()),
        "object_hash": e.object_hash,
        "object_hash_short": short(&e.object_hash),
        "direction_label": st.web.tr(lang, &format!("fed-direction-{}", e.direction.as_str())),
    })
}

/// What [`evidence::verify`] found wrong, in `lang`.
fn broken_message(st: &AppState, lang: Lang, b: &EvidenceBroken) -> String {
    let i18n = &st.web.i18n;
    match b {
        EvidenceBroken::Missing { expected, found } => i18n.tr(
            lang,
            "fed-evidence-broken-missing",
            &[
                ("expected", expected.to_string()),
                ("found", found.to_string()),
            ],
        ),
        EvidenceBroken::Unlinked { seq } => i18n.tr(
            lang,
            "fed-evidence-broken-unlinked",
            &[("seq", seq.to_string())],
        ),
        EvidenceBroken::Altered { seq } => i18n.tr(
            lang,
            "fed-evidence-broken-altered",
            &[("seq", seq.to_string())],
        ),
        EvidenceBroken::SealMismatch { day, seq } => i18n.tr(
            lang,
            "fed-evidence-broken-seal-mismatch",
            &[("day", day.to_string()), ("seq", seq.to_string())],
        ),
        EvidenceBroken::SealSignature { day } => i18n.tr(
            lang,
            "fed-evidence-broken-seal-signature",
            &[("day", day.to_string())],
        ),
    }
}

/// This node's signing keys, for checking seals: the one in use and every key the held
/// manifest lists for this node (earlier keys signed earlier seals).
/// A non-negative number from a query parameter.
fn param(raw: &str) -> Option<i64> {
    raw.trim().parse::<i64>().ok().filter(|n| *n >= 0)
}

/// `GET /federation/evidence`
async fn evidence_log(
    State(st): State<AppState>,
    s: SignedIn,
    Query(p): Query<EvidenceParams>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ViewFederation, &s.ctx.path).await?;
    let lang = s.ctx.lang;
    let store = st.store.as_ref();
    let head = store.fed_evidence_head().await?.map_or(0, |(seq, _)| seq);

    let (entries, ascending) = match param(&p.after) {
        Some(after) => (store.fed_evidence_chunk(after, EVIDENCE_PAGE).await?, true),
        None => {
            // Entries before `before` (exclusive), newest first; seq numbers have no gaps.
            let before = param(&p.before).map_or(head + 1, |b| b.min(head + 1));
            let lower = (before - 1 - EVIDENCE_PAGE).max(0);
            let mut v: Vec<EvidenceEntry> = store
                .fed_evidence_chunk(lower, EVIDENCE_PAGE)
                .await?
                .into_iter()
                .filter(|e| e.seq < before)
                .collect();
            v.reverse();
            (v, false)
        }
    };
    let lowest = entries.iter().map(|e| e.seq).min();
    let highest = entries.iter().map(|e| e.seq).max();
    // Links to the neighbouring pages, in the same order as this one.
    let (older, newer) = if ascending {
        let older = lowest
            .filter(|l| *l > 1)
            .map(|l| format!("?after={}", (l - 1 - EVIDENCE_PAGE).max(0)));
        let newer = highest.filter(|h| *h < head).map(|h| format!("?after={h}"));
        (older, newer)
    } else {
        let older = lowest.filter(|l| *l > 1).map(|l| format!("?before={l}"));
        let newer = highest.filter(|h| *h < head).map(|h| {
            let b = h + EVIDENCE_PAGE + 1;
            if b > head {
                String::new()
            } else {
                format!("?before={b}")
            }
        });
        (older, newer)
    };

    let held = admin::held(store).await.map_err(AppError::internal)?;
    let verified = evidence::verify(
        store,
        st.config.country,
        &crate::federation::keys::own_keys_in(
            held.as_ref().map(|h| &h.manifest),
            st.config.country,
            &st.identity,
        ),
    )
    .await?;
    let verification = match verified {
        Ok(r) => json!({ "ok": true, "entries": r.entries, "seals": r.seals }),
        Err(b) => json!({ "ok": false, "message": broken_message(&st, lang, &b) }),
    };
    let mut seals = store.fed_seals().await?;
    let seal_count = seals.len();
    seals.reverse();
    seals.truncate(SEALS);
    let seals: Vec<Value> = seals
        .iter()
        .map(|x| {
            json!({
                "day": x.day.to_string(),
                "through_seq": x.through_seq,
                "root": x.root,
                "root_short": short(&x.root),
                "key_id": x.key_id.as_str(),
                "created_at": when_exact(x.created_at),
            })
        })
        .collect();
    let data = json!({
        "entries": entries.iter().map(|e| evidence_json(&st, lang, e)).collect::<Vec<_>>(),
        "ascending": ascending,
        "head": head,
        "older": older,
        "newer": newer,
        "verification": verification,
        "seals": seals,
        "seal_count": seal_count,
        "joined": held.is_some(),
    });
    Ok(st.web.render(&s.ctx, "federation/evidence.html", data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fed_sql::{EvidenceDirection, InboxStatus, OutboxStatus};
    use crate::web::I18n;

    /// Every code the pages translate by building a key has its label in both languages.
    #[test]
    fn every_translated_code_has_a_label() {
        let i18n = I18n::load().unwrap();
        let mut keys: Vec<String> = Vec::new();
        for r in puente_federation::Reason::ALL {
            keys.push(format!("fed-reason-{}", r.code()));
        }
        for code in [
            "unreachable",
            "no_endpoint",
            "bad_ack",
            "ack_mismatch",
            "payload_malformed",
            "payload_invalid",
            "payload_too_large",
            "own_origin",
            "refused",
            "superseded",
            "no_body",
            "invalid_payload",
            "unknown_kind",
            "http",
            "other",
        ] {
            keys.push(format!("fed-reason-{code}"));
        }
        for d in EvidenceDirection::ALL {
            keys.push(format!("fed-direction-{}", d.as_str()));
        }
        for c in super::super::CHANNELS {
            keys.push(format!("fed-channel-{}", c.as_str()));
        }
        for s in OutboxStatus::ALL {
            keys.push(format!("fed-outbox-status-{}", s.as_str()));
        }
        for s in InboxStatus::ALL {
            keys.push(format!("fed-inbox-status-{}", s.as_str()));
        }
        for r in ["node", "hub"] {
            keys.push(format!("fed-role-{r}"));
        }
        for s in ["active", "suspended", "revoked"] {
            keys.push(format!("fed-member-status-{s}"));
        }
        for k in ["directory", "referral", "stats"] {
            keys.push(format!("fed-agreement-kind-{k}"));
        }
        for f in ["fresh", "grace", "expired"] {
            keys.push(format!("fed-freshness-{f}"));
        }
        for k in BlockKind::ALL {
            keys.push(format!("fed-block-kind-{}", k.as_str()));
        }
        for f in ["kind", "subject", "reason"] {
            keys.push(format!("fed-field-{f}"));
        }
        for c in [
            "fed_not_member",
            "fed_not_agreement",
            "fed_not_subject",
            "fed_not_blocked",
        ] {
            keys.push(format!("msg-field-{c}"));
        }
        for n in [
            "federation_peer_approved",
            "federation_agreement_approved",
            "federation_blocked",
            "federation_unblocked",
        ] {
            keys.push(format!("msg-notice-{n}"));
        }
        for k in [
            "fed-evidence-broken-missing",
            "fed-evidence-broken-unlinked",
            "fed-evidence-broken-altered",
            "fed-evidence-broken-seal-mismatch",
            "fed-evidence-broken-seal-signature",
            "fed-error-not-joined",
            "action-view_federation",
            "action-manage_federation",
        ] {
            keys.push(k.to_owned());
        }
        let missing: Vec<_> = keys
            .iter()
            .filter(|k| !i18n.has(Lang::Es, k) || !i18n.has(Lang::En, k))
            .collect();
        assert!(missing.is_empty(), "missing translations: {missing:?}");
    }
}
