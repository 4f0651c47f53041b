//! Referral steps received from peers (`referral.*` and `control.recall*` from the inbox),
//! and the expiry of unanswered offers.
//!
//! Each received step is applied in one transaction with the inbox message marked processed:
//! a step that cannot be applied for good (unsealable, malformed, unknown referral) marks the
//! message `failed` with a stable reason, shown to administrators; a store failure leaves it
//! to be tried again.
//!
//! Recall: the receiver erases what it received — the offer's data and the bodies of the
//! envelopes that carried it — and, if it accepted, redacts from the linked case's person
//! whatever still holds the value the referral brought (what it learned since stays, under
//! its own consent). Then it sends a signed `control.recall_ack`. A recall that arrives
//! before its offer leaves a tombstone, so the offer is erased on arrival.

use chrono::{DateTime, NaiveDate, Utc};
use puente_common::case::{CaseRecord, ConsentRecord, PersonRecord};
use puente_common::referral::{OfferBody, StepBody};
use puente_common::vocab::codes::{
    CaseStatus, ConsentGivenBy, ConsentScope, IntakeChannel, RecallReason,
};
use puente_common::vocab::Coded;
use puente_common::CountryCode;
use puente_federation::seal::Sealed;
use puente_federation::{Channel, Envelope};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    audit_event, event, fed, next, notify_receiver, notify_sender, open_offer, open_sealed,
    outgoing, state, RECALL, RECALL_ACK,
};
use crate::app::AppState;
use crate::audit::AuditCtx;
use crate::cases::seal::{profile_json, Sealer};
use crate::cases::{NewCase, PersonChoice};
use crate::store::fed_sql::InboxRow;
use crate::store::ref_sql::{RefChange, ReferralRow};
use crate::store::{StoreError, StoreResult};

/// Why a received step was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Final: the inbox message becomes `failed` with this reason.
    #[error("referral step refused: {0}")]
    Refused(&'static str),
    /// The store failed: try again later.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<crate::error::AppError> for ApplyError {
    fn from(e: crate::error::AppError) -> Self {
        match e {
            crate::error::AppError::Invalid(_) => ApplyError::Refused("payload_invalid"),
            other => ApplyError::Store(StoreError::Corrupt(other.to_string())),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedPayload {
    referral_id: Uuid,
    sealed: Sealed,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecallPayload {
    referral_id: Uuid,
    reason: RecallReason,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecallAckPayload {
    referral_id: Uuid,
    held: bool,
}

/// Applies one received envelope of a referral kind. `Ok(false)` for kinds that are not
/// referral kinds.
pub async fn apply_remote(
    st: &AppState,
    row: &InboxRow,
    env: &Envelope,
) -> Result<bool, ApplyError> {
    if env.origin == st.config.country {
        return Err(ApplyError::Refused("own_origin"));
    }
    let ctx = AuditCtx::system(st.clock.now());
    match env.kind.as_str() {
        super::OFFER => offer(st, &ctx, row, env).await?,
        super::ACCEPT | super::DECLINE | super::UPDATE | super::CLOSE => {
            step(st, &ctx, row, env).await?
        }
        RECALL => recall_received(st, &ctx, row, env).await?,
        RECALL_ACK => recall_ack(st, &ctx, row, env).await?,
        _ => return Ok(false),
    }
    Ok(true)
}

fn parse<T: for<'de> Deserialize<'de>>(env: &Envelope) -> Result<T, ApplyError> {
    serde_json::from_value(env.payload.clone())
        .map_err(|_| ApplyError::Refused("payload_malformed"))
}

fn opened<T: for<'de> Deserialize<'de>>(
    st: &AppState,
    env: &Envelope,
) -> Result<(Uuid, T), ApplyError> {
    let p: SealedPayload = parse(env)?;
    let id = p.referral_id.hyphenated().to_string();
    let plain = open_sealed(st, env.origin, &env.kind, &id, &p.sealed)
        .map_err(|_| ApplyError::Refused("unsealable"))?;
    let body: T =
        serde_json::from_slice(&plain).map_err(|_| ApplyError::Refused("payload_malformed"))?;
    Ok((p.referral_id, body))
}

async fn existing(st: &AppState, id: Uuid) -> StoreResult<Option<ReferralRow>> {
    match st.store.referral(id).await {
        Ok(r) => Ok(Some(r)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Records a step that changes nothing (a late or repeated message), so the history shows it.
async fn note_only(
    st: &AppState,
    r: &ReferralRow,
    row: &InboxRow,
    kind: &str,
    purge: bool,
    now: DateTime<Utc>,
) -> Result<(), ApplyError> {
    let s = Sealer::new(st);
    let mut change = RefChange::default();
    change.events.push(event(
        &s,
        r.id,
        now,
        kind,
        Some(row.id),
        None,
        json!({ "kind": row.kind }),
        "",
    ));
    if purge {
        change.purge_inbox.push(row.id);
    }
    change.inbox_done = Some((row.id, now));
    st.store.ref_apply(change).await?;
    Ok(())
}

async fn offer(
    st: &AppState,
    ctx: &AuditCtx,
    row: &InboxRow,
    env: &Envelope,
) -> Result<(), ApplyError> {
    let now = ctx.at;
    // A recall may have overtaken the offer: then the offer is never opened, only erased.
    let outer: SealedPayload = parse(env)?;
    if let Some(r) = existing(st, outer.referral_id).await? {
        if r.direction != "in" || r.peer != env.origin.as_str() {
            return Err(ApplyError::Refused("duplicate_id"));
        }
        let kind = if r.state == state::RECALLED {
            "offer_after_recall"
        } else {
            "offer_repeated"
        };
        return note_only(st, &r, row, kind, true, now).await;
    }
    let (id, body): (Uuid, OfferBody) = opened(st, env)?;
    if body.referral_id != id.hyphenated().to_string() || !body.check().is_empty() {
        return Err(ApplyError::Refused("payload_invalid"));
    }
    let s = Sealer::new(st);
    // Routed to the named organisation when it is one of this node's, active; otherwise to the
    // national administrators' queue.
    let org_id = match &body.dest_org {
        Some(code) => match st.store.org_by_code(code).await {
            Ok(o) if o.active => Some(o.id),
            Ok(_) | Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let r = ReferralRow {
        id,
        direction: "in".into(),
        peer: env.origin.to_string(),
        org_id,
        case_id: None,
        consent_id: None,
        sender_org: body.sender_org.code.clone(),
        sender_org_name: body.sender_org.name.clone(),
        sender_reference: body.sender_reference.clone(),
        dest_org: body.dest_org.clone(),
        dest_service: body.dest_service.clone(),
        reason: body.reason.code().to_owned(),
        urgency: body.urgency.code().to_owned(),
        needs: super::codes(&body.needs),
        field_groups: super::codes(&body.data.groups_present()),
        state: state::RECEIVED.into(),
        recall_state: None,
        recall_reason: None,
        expires_on: Some(body.expires_on),
        payload: Some(s.seal_json("referrals", id, "payload", &body)),
        override_reason: None,
        key_id: s.key_id(),
        created_by: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let mut change = RefChange::default();
    let detail = json!({ "field_groups": super::parse_codes(&r.field_groups), "routed": org_id.is_some(), "override": body.consent.is_none() });
    change.events.push(event(
        &s,
        id,
        now,
        "offer_received",
        Some(row.id),
        None,
        detail.clone(),
        "",
    ));
    change
        .audits
        .push(audit_event(ctx, "referral.receive", &r, detail));
    notify_receiver(st, &r, "received", now, &mut change.notify).await?;
    change.referrals.push(&r);
    change.inbox_done = Some((row.id, now));
    st.store.ref_apply(change).await?;
    Ok(())
}

/// `referral.accept|decline|update|close` from the destination of one of our referrals.
async fn step(
    st: &AppState,
    ctx: &AuditCtx,
    row: &InboxRow,
    env: &Envelope,
) -> Result<(), ApplyError> {
    let now = ctx.at;
    let (id, body): (Uuid, StepBody) = opened(st, env)?;
    if body.referral_id != id.hyphenated().to_string() || !body.check().is_empty() {
        return Err(ApplyError::Refused("payload_invalid"));
    }
    let Some(r) = existing(st, id).await? else {
        return Err(ApplyError::Refused("unknown_referral"));
    };
    if r.direction != "out" || r.peer != env.origin.as_str() {
        return Err(ApplyError::Refused("unknown_referral"));
    }
    let kind = env.kind.as_str();
    // The destination's answer, in its own words, arrived after the offer expired here: an
    // accept signed before the expiry still counts.
    let accepted_in_time = r.state == state::EXPIRED
        && kind == super::ACCEPT
        && r.expires_on
            .is_some_and(|e| env.created_at.date_naive() < e);
    let new_state = match (kind, r.state.as_str()) {
        (super::ACCEPT, state::SENT) => Some(state::ACCEPTED),
        (super::ACCEPT, state::EXPIRED) if accepted_in_time => Some(state::ACCEPTED),
        (super::DECLINE, state::SENT) => Some(state::DECLINED),
        (super::UPDATE, state::ACCEPTED) => Some(state::ACCEPTED),
        (super::CLOSE, state::ACCEPTED) => Some(state::CLOSED),
        _ => None,
    };
    let event_kind = match kind {
        super::ACCEPT => "accepted",
        super::DECLINE => "declined",
        super::UPDATE => "update_received",
        _ => "closed",
    };
    let Some(new_state) = new_state else {
        // Late (after a recall) or out of turn: recorded, nothing changes.
        return note_only(st, &r, row, &format!("{event_kind}_ignored"), false, now).await;
    };
    let s = Sealer::new(st);
    let mut next_row = next(&r, now);
    next_row.state = new_state.into();
    let mut detail = json!({});
    if let Some(d) = body.decline_reason {
        detail["reason"] = d.code().into();
    }
    if let Some(u) = body.update {
        detail["update"] = u.code().into();
    }
    if let Some(o) = &body.org {
        detail["org"] = o.code.clone().into();
    }
    let mut change = RefChange::default();
    change.events.push(event(
        &s,
        r.id,
        now,
        event_kind,
        Some(row.id),
        None,
        detail.clone(),
        &body.note,
    ));
    change.audits.push(audit_event(
        ctx,
        &format!("referral.{event_kind}"),
        &next_row,
        detail,
    ));
    notify_sender(st, &next_row, event_kind, now, &mut change.notify).await?;
    change.referrals.push(&next_row);
    change.inbox_done = Some((row.id, now));
    st.store.ref_apply(change).await?;
    Ok(())
}

/// The origin recalls: erase, redact, acknowledge.
async fn recall_received(
    st: &AppState,
    ctx: &AuditCtx,
    row: &InboxRow,
    env: &Envelope,
) -> Result<(), ApplyError> {
    let now = ctx.at;
    let p: RecallPayload = parse(env)?;
    let s = Sealer::new(st);
    let f = fed(st).ok_or(ApplyError::Refused("no_federation"))?;
    let origin: CountryCode = env.origin;
    let existing_row = existing(st, p.referral_id).await?;
    if let Some(r) = &existing_row {
        if r.direction != "in" || r.peer != origin.as_str() {
            return Err(ApplyError::Refused("unknown_referral"));
        }
        if r.state == state::RECALLED {
            return note_only(st, r, row, "recall_repeated", false, now).await;
        }
    }
    let held = existing_row.as_ref().is_some_and(|r| r.payload.is_some());
    let ack_id = Uuid::now_v7();
    let ack = outgoing(
        st,
        &f,
        ack_id,
        origin,
        Channel::Control,
        RECALL_ACK,
        json!({ "referral_id": p.referral_id.hyphenated().to_string(), "held": held }),
        now,
    );
    let mut change = RefChange::default();
    let new_row;
    let mut person_update = None;
    match &existing_row {
        Some(r) => {
            // Every received envelope of this referral loses its body.
            for e in st.store.ref_events(r.id).await? {
                if let (Some(m), None) = (e.event.message_id, &e.out_status) {
                    change.purge_inbox.push(m);
                }
            }
            if let (Some(case_id), Some(offer)) = (r.case_id, open_offer(st, r)?) {
                person_update = redact_linked(st, case_id, &offer, now).await?;
            }
            let mut n = next(r, now);
            n.state = state::RECALLED.into();
            n.recall_reason = Some(p.reason.code().into());
            n.payload = None;
            // The sender's case number leads back to the person: it goes with the data.
            n.sender_reference = String::new();
            new_row = n;
        }
        None => {
            // The recall overtook the offer: a tombstone, so the offer is erased on arrival.
            new_row = ReferralRow {
                id: p.referral_id,
                direction: "in".into(),
                peer: origin.to_string(),
                org_id: None,
                case_id: None,
                consent_id: None,
                sender_org: String::new(),
                sender_org_name: String::new(),
                sender_reference: String::new(),
                dest_org: None,
                dest_service: None,
                reason: String::new(),
                urgency: String::new(),
                needs: "[]".into(),
                field_groups: "[]".into(),
                state: state::RECALLED.into(),
                recall_state: None,
                recall_reason: Some(p.reason.code().into()),
                expires_on: None,
                payload: None,
                override_reason: None,
                key_id: s.key_id(),
                created_by: None,
                created_at: now,
                updated_at: now,
                version: 1,
            };
        }
    }
    let detail = json!({ "reason": p.reason.code(), "held": held, "linked_case_redacted": person_update.is_some() });
    change.events.push(event(
        &s,
        new_row.id,
        now,
        "recall_received",
        Some(row.id),
        None,
        detail.clone(),
        "",
    ));
    change.events.push(event(
        &s,
        new_row.id,
        now,
        "recall_acknowledged",
        Some(ack_id),
        None,
        json!({ "held": held }),
        "",
    ));
    change.audits.push(audit_event(
        ctx,
        "referral.recall_received",
        &new_row,
        detail,
    ));
    if existing_row.is_some() {
        notify_receiver(st, &new_row, "recalled", now, &mut change.notify).await?;
    }
    change.outgoing.push(ack);
    let person_ref;
    if let Some((p, tokens)) = &person_update {
        person_ref = (p, tokens.as_slice());
        change.person = Some(person_ref);
    }
    change.referrals.push(&new_row);
    change.inbox_done = Some((row.id, now));
    st.store.ref_apply(change).await?;
    Ok(())
}

/// The linked case's person with every value that still equals what the referral brought
/// removed, and their new blind-index tokens; `None` when nothing is left to remove.
async fn redact_linked(
    st: &AppState,
    case_id: Uuid,
    offer: &OfferBody,
    now: DateTime<Utc>,
) -> Result<
    Option<(
        crate::store::cases::PersonRow,
        Vec<crate::store::cases::IndexToken>,
    )>,
    ApplyError,
> {
    let s = Sealer::new(st);
    let case = match st.store.case(case_id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let row = st.store.person(case.person_id).await?;
    let person = s.open_person(&row)?;
    let brought = offer.data.clone().into_person();
    let redacted = redact(&person, &brought);
    if redacted == person {
        return Ok(None);
    }
    let mut new_row = row.clone();
    new_row.identity = s.seal_identity(row.id, &redacted.identity);
    new_row.profile = profile_json(&redacted);
    new_row.key_id = s.key_id();
    new_row.updated_at = now;
    let tokens = crate::cases::index_tokens(&s, row.org_id, &redacted);
    Ok(Some((new_row, tokens)))
}

/// `person` without the values it shares with `brought`.
pub(crate) fn redact(person: &PersonRecord, brought: &PersonRecord) -> PersonRecord {
    let mut p = person.clone();
    let (id, b) = (&mut p.identity, &brought.identity);
    if !b.given_names.is_empty() && id.given_names == b.given_names {
        id.given_names.clear();
    }
    if !b.family_names.is_empty() && id.family_names == b.family_names {
        id.family_names.clear();
    }
    if b.birth_date.is_some() && id.birth_date == b.birth_date {
        id.birth_date = None;
    }
    id.documents.retain(|d| !b.documents.contains(d));
    id.contacts.retain(|c| !b.contacts.contains(c));
    if !b.address.is_empty() && id.address == b.address {
        id.address.clear();
    }
    if brought.gender.is_some() && p.gender == brought.gender {
        p.gender = None;
    }
    p.citizenship.retain(|c| !brought.citizenship.contains(c));
    p.languages.retain(|l| !brought.languages.contains(l));
    macro_rules! same_opt {
        ($($f:ident),+) => {$(
            if brought.$f.is_some() && p.$f == brought.$f {
                p.$f = None;
            }
        )+};
    }
    same_opt!(
        country_of_birth,
        marital_status,
        number_of_children,
        education,
        migrant_type,
        protection_status
    );
    p.migration_context
        .retain(|m| !brought.migration_context.contains(m));
    p
}

/// The destination acknowledged our recall.
async fn recall_ack(
    st: &AppState,
    ctx: &AuditCtx,
    row: &InboxRow,
    env: &Envelope,
) -> Result<(), ApplyError> {
    let now = ctx.at;
    let p: RecallAckPayload = parse(env)?;
    let Some(r) = existing(st, p.referral_id).await? else {
        return Err(ApplyError::Refused("unknown_referral"));
    };
    if r.direction != "out" || r.peer != env.origin.as_str() {
        return Err(ApplyError::Refused("unknown_referral"));
    }
    if r.recall_state.as_deref() != Some("pending") {
        return note_only(st, &r, row, "recall_ack_repeated", false, now).await;
    }
    let s = Sealer::new(st);
    let mut n = next(&r, now);
    n.recall_state = Some("acknowledged".into());
    let detail = json!({ "held": p.held });
    let mut change = RefChange::default();
    change.events.push(event(
        &s,
        r.id,
        now,
        "recall_confirmed",
        Some(row.id),
        None,
        detail.clone(),
        "",
    ));
    change
        .audits
        .push(audit_event(ctx, "referral.recall_confirmed", &n, detail));
    notify_sender(st, &n, "recall_confirmed", now, &mut change.notify).await?;
    change.referrals.push(&n);
    change.inbox_done = Some((row.id, now));
    st.store.ref_apply(change).await?;
    Ok(())
}

/// What the linked case of an accepted referral starts with: the person as the referral
/// describes them, the trafficking facts if they travelled, intake `REFERRAL_IN`, and a
/// case-management consent on the legal basis of the person's referral consent.
pub(crate) fn linked_case(offer: &OfferBody, r: &ReferralRow, today: NaiveDate) -> NewCase {
    let person = offer.data.clone().into_person();
    let mut case = CaseRecord {
        intake_channel: IntakeChannel::ReferralIn,
        registration_date: today,
        identification_date: None,
        status: CaseStatus::Active,
        closure_reason: None,
        trafficking_status: None,
        status_decided_by: None,
        location: None,
        process: Default::default(),
        narrative: String::new(),
    };
    if let Some(t) = &offer.data.trafficking {
        case.trafficking_status = t.trafficking_status;
        case.identification_date = t.identification_date.filter(|d| *d <= today);
        case.process = t.process.clone();
    }
    let consent = ConsentRecord {
        scope: ConsentScope::CaseManagement,
        given_by: ConsentGivenBy::LegalBasis,
        guardian_name: String::new(),
        given_on: today,
        expires_on: None,
        destination_country: None,
        destination_org: String::new(),
        field_groups: Default::default(),
        evidence_ref: format!("referral {} ({})", r.id, r.peer),
    };
    NewCase {
        person: PersonChoice::New(Box::new(person)),
        case,
        consents: vec![consent],
        caseworker_id: None,
        consent_override_reason: None,
    }
}

/// Offers unanswered when their consent expires expire on both sides, each by its own clock:
/// the sender stops waiting; the receiver erases what it received. Returns how many expired.
pub async fn expire_due(st: &AppState) -> anyhow::Result<usize> {
    let now = st.clock.now();
    let ctx = AuditCtx::system(now);
    let s = Sealer::new(st);
    let mut done = 0;
    for r in st.store.ref_due_expiry(now.date_naive()).await? {
        let mut n = next(&r, now);
        n.state = state::EXPIRED.into();
        let mut change = RefChange::default();
        if r.direction == "in" {
            n.payload = None;
            n.sender_reference = String::new();
            for e in st.store.ref_events(r.id).await? {
                if let (Some(m), None) = (e.event.message_id, &e.out_status) {
                    change.purge_inbox.push(m);
                }
            }
            notify_receiver(st, &n, "expired", now, &mut change.notify).await?;
        } else {
            notify_sender(st, &n, "expired", now, &mut change.notify).await?;
        }
        change
            .events
            .push(event(&s, r.id, now, "expired", None, None, json!({}), ""));
        change
            .audits
            .push(audit_event(&ctx, "referral.expire", &n, json!({})));
        change.referrals.push(&n);
        match st.store.ref_apply(change).await {
            Ok(()) => done += 1,
            // Changed meanwhile (answered): the next run sees its new state.
            Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(done)
}
