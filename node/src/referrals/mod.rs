//! Cross-border referrals: a victim's case follows them to another country, carrying only
//! what their `REFERRAL` consent lets travel (PRIVACY.md, FEDERATION.md, docs/protocol.md 8.3).
//!
//! The sending side (this module): a caseworker refers a case to a destination country (and
//! optionally an organisation and service of the regional directory). The server picks the
//! consent, builds the payload from the field groups it lists and nothing else
//! ([`ReferralData::build`]), seals it to the destination node's key (HPKE) and signs it into
//! the `referral` stream — in the transaction that records the referral. Without a valid
//! consent it refuses, unless an organisation coordinator overrides with a written reason
//! (flagged to the national administrators). The node's policy may require a coordinator's
//! approval before anything is sent.
//!
//! The receiving side and the steps that come back are in [`inbound`]; both sides record every
//! step in the referral's history with the envelope that carried it, raise notifications,
//! and write audit entries (codes and ids, never victim data).

pub mod api;
pub mod inbound;
pub mod pages;

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use puente_common::case::{ConsentRecord, ProceedingRecord, ServiceRecord};
use puente_common::referral::{
    ConsentSummary, OfferBody, OrgRef, ReferralData, ReferralSource, StepBody, TimelineNote,
};
use puente_common::vocab::codes::{
    ConsentScope, DeclineReason, RecallReason, ReferralFieldGroup, ReferralReason,
    ReferralUpdateKind, ReferralUrgency, ServiceType,
};
use puente_common::vocab::Coded;
use puente_common::CountryCode;
use puente_federation::seal::{self, SealKeyPair, Sealed};
use puente_federation::Channel;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{AuditCtx, AuditEvent, Outcome};
use crate::authz::{Action, Role};
use crate::cases::seal::Sealer;
use crate::cases::{CaseRef, Who};
use crate::error::{AppError, AppResult, FieldError};
use crate::federation::TrustSnapshot;
use crate::store::cases::EntryKind;
use crate::store::fed_sql::Outgoing;
use crate::store::ref_sql::{NotificationRow, RefChange, RefEventRow, RefFilter, ReferralRow};
use crate::store::StoreError;

/// Rows per page of a referral list.
pub const PAGE_SIZE: i64 = 50;
/// Longest message, note or override reason.
pub const TEXT_MAX: usize = 4000;
/// The largest sealed body (the envelope, with its base64 and headers, stays under 256 KiB).
pub const PAYLOAD_MAX: usize = 160 * 1024;
/// How long an offer sent under a consent override stays open.
pub const OVERRIDE_DAYS: i64 = 30;

pub const OFFER: &str = "referral.offer";
pub const ACCEPT: &str = "referral.accept";
pub const DECLINE: &str = "referral.decline";
pub const UPDATE: &str = "referral.update";
pub const CLOSE: &str = "referral.close";
pub const RECALL: &str = "control.recall";
pub const RECALL_ACK: &str = "control.recall_ack";

/// The states of a referral (`referrals.state`).
pub mod state {
    pub const AWAITING_APPROVAL: &str = "awaiting_approval";
    pub const SENT: &str = "sent";
    pub const RECEIVED: &str = "received";
    pub const ACCEPTED: &str = "accepted";
    pub const DECLINED: &str = "declined";
    pub const EXPIRED: &str = "expired";
    pub const CLOSED: &str = "closed";
    pub const RECALLED: &str = "recalled";
    pub const CANCELLED: &str = "cancelled";
    /// Every state, in the order filters list them.
    pub const ALL: [&str; 9] = [
        AWAITING_APPROVAL,
        SENT,
        RECEIVED,
        ACCEPTED,
        DECLINED,
        EXPIRED,
        CLOSED,
        RECALLED,
        CANCELLED,
    ];
}

fn invalid(field: &str, code: &'static str) -> AppError {
    AppError::Invalid(vec![FieldError::new(field, code)])
}

fn codes<T: Coded>(set: &BTreeSet<T>) -> String {
    serde_json::to_string(&set.iter().map(|v| v.code()).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into())
}

fn parse_codes(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// Free text as entered: trimmed, at most [`TEXT_MAX`] characters, no control characters but
/// line breaks.
fn check_text(field: &str, text: &str) -> AppResult<String> {
    let t = text.trim();
    if t.chars().count() > TEXT_MAX {
        return Err(invalid(field, "too_long"));
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(invalid(field, "invalid"));
    }
    Ok(t.to_owned())
}

// ---------------------------------------------------------------- federation context

/// What a step needs of the federation: the trust state and who this node is.
pub(crate) struct Fed {
    pub me: CountryCode,
    pub trust: TrustSnapshot,
}

pub(crate) fn fed(st: &AppState) -> Option<Fed> {
    let f = st.federation.get()?;
    Some(Fed {
        me: f.me,
        trust: f.trust()?,
    })
}

/// Why `peer` cannot receive a referral now, as a stable code (`None`: it can).
pub(crate) fn referral_block(
    f: &Fed,
    peer: CountryCode,
    now: DateTime<Utc>,
) -> Option<&'static str> {
    if peer == f.me {
        return Some("own_country");
    }
    let Some(member) = f.trust.signed.manifest.member(peer) else {
        return Some("no_referral_agreement");
    };
    if !member.is_active() {
        return Some("peer_suspended");
    }
    if f.trust.local.blocked_peers.contains(&peer) {
        return Some("peer_blocked");
    }
    // Approved and covered by an approved agreement. A manifest past its grace period does not
    // stop a referral from being made: it waits in the outbox ("pending delivery") until a
    // fresh manifest resumes referral traffic.
    if !f.trust.trusts(peer) || !f.trust.effective.allows(Channel::Referral, f.me, peer) {
        return Some("no_referral_agreement");
    }
    if f.trust.signed.manifest.seal_key(peer, now).is_none() {
        return Some("no_seal_key");
    }
    None
}

/// The countries this node can refer to now.
pub(crate) fn referral_destinations(f: &Fed, now: DateTime<Utc>) -> Vec<CountryCode> {
    f.trust
        .effective
        .peers_of(f.me)
        .into_iter()
        .map(|m| m.id)
        .filter(|p| referral_block(f, *p, now).is_none())
        .collect()
}

/// The wire payload of a `referral.*` step: `body` sealed to `destination`.
pub(crate) fn sealed_payload<T: Serialize>(
    f: &Fed,
    destination: CountryCode,
    kind: &str,
    referral_id: Uuid,
    body: &T,
    now: DateTime<Utc>,
) -> AppResult<serde_json::Value> {
    let key = f
        .trust
        .signed
        .manifest
        .seal_key(destination, now)
        .ok_or_else(|| invalid("destination", "no_seal_key"))?;
    let id = referral_id.hyphenated().to_string();
    let plain = zeroize::Zeroizing::new(
        serde_json::to_vec(body).map_err(|e| AppError::internal(format!("referral body: {e}")))?,
    );
    // The envelope must stay under the federation's 256 KiB: a case with a very long
    // timeline cannot travel whole.
    if plain.len() > PAYLOAD_MAX {
        return Err(invalid("field_groups", "referral_too_large"));
    }
    let sealed = seal::seal(key, &seal::aad(f.me, destination, kind, &id), &plain)
        .map_err(|e| AppError::internal(format!("sealing a referral: {e}")))?;
    Ok(json!({ "referral_id": id, "sealed": sealed }))
}

/// This node's seal keys: the current signing key's and the next one's.
pub(crate) fn own_seal_keys(st: &AppState) -> Vec<SealKeyPair> {
    let mut keys = vec![SealKeyPair::derive(&st.identity)];
    if let (Some(path), Some(id)) = (
        &st.config.keys.next_signing_key,
        &st.config.keys.next_signing_key_id,
    ) {
        if let Ok(pem) = std::fs::read_to_string(path).map(zeroize::Zeroizing::new) {
            if let Ok(next) = puente_federation::SigningIdentity::from_pkcs8_pem(id.clone(), &pem) {
                keys.push(SealKeyPair::derive(&next));
            }
        }
    }
    keys
}

/// Opens a sealed step sent to this node by `origin`.
pub(crate) fn open_sealed(
    st: &AppState,
    origin: CountryCode,
    kind: &str,
    referral_id: &str,
    sealed: &Sealed,
) -> Result<zeroize::Zeroizing<Vec<u8>>, seal::SealError> {
    let aad = seal::aad(origin, st.config.country, kind, referral_id);
    let keys = own_seal_keys(st);
    let key = keys
        .iter()
        .find(|k| k.id() == &sealed.key_id)
        .ok_or(seal::SealError::WrongKey)?;
    key.open(sealed, &aad).map(zeroize::Zeroizing::new)
}

#[allow(clippy::too_many_arguments)] // every part of an envelope or history entry, named
pub(crate) fn outgoing<'a>(
    st: &'a AppState,
    f: &Fed,
    id: Uuid,
    destination: CountryCode,
    channel: Channel,
    kind: &'a str,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> Outgoing<'a> {
    Outgoing {
        id,
        origin: f.me,
        destination,
        channel,
        kind,
        payload,
        manifest_version: f.trust.version(),
        signer: &st.identity,
        now,
    }
}

// ---------------------------------------------------------------- history, notices, audit

/// A history entry. `note` is sealed here.
#[allow(clippy::too_many_arguments)] // every part of an envelope or history entry, named
pub(crate) fn event(
    s: &Sealer<'_>,
    referral_id: Uuid,
    at: DateTime<Utc>,
    kind: &str,
    message_id: Option<Uuid>,
    actor_id: Option<Uuid>,
    detail: serde_json::Value,
    note: &str,
) -> RefEventRow {
    let id = Uuid::now_v7();
    RefEventRow {
        id,
        referral_id,
        at,
        kind: kind.to_owned(),
        message_id,
        actor_id,
        detail: detail.to_string(),
        // Bound to the referral (as the key rotation reads it: `store::keys_sql`).
        note: s.seal_text("referral_events", referral_id, "note", note),
        key_id: s.key_id(),
    }
}

/// One notification of `kind` per user of `org` with one of `roles` (`org` `None`: users of
/// no organisation, i.e. national administrators with `roles = ["node_admin"]`).
pub(crate) async fn notify(
    st: &AppState,
    org: Option<Uuid>,
    roles: &[&str],
    kind: &str,
    referral_id: Uuid,
    at: DateTime<Utc>,
    out: &mut Vec<NotificationRow>,
) -> AppResult<()> {
    for user_id in st.store.ref_recipients(org, roles).await? {
        if out
            .iter()
            .any(|n| n.user_id == user_id && n.kind == kind && n.referral_id == Some(referral_id))
        {
            continue;
        }
        out.push(NotificationRow {
            id: Uuid::now_v7(),
            user_id,
            kind: kind.to_owned(),
            referral_id: Some(referral_id),
            created_at: at,
            read_at: None,
        });
    }
    Ok(())
}

/// The sender's people to tell about an answer: who made the referral and the organisation's
/// coordinators.
pub(crate) async fn notify_sender(
    st: &AppState,
    r: &ReferralRow,
    kind: &str,
    at: DateTime<Utc>,
    out: &mut Vec<NotificationRow>,
) -> AppResult<()> {
    if let Some(creator) = r.created_by {
        out.push(NotificationRow {
            id: Uuid::now_v7(),
            user_id: creator,
            kind: kind.to_owned(),
            referral_id: Some(r.id),
            created_at: at,
            read_at: None,
        });
    }
    notify(st, r.org_id, &["org_admin"], kind, r.id, at, out).await
}

/// The receiver's people: the routed organisation's caseworkers and coordinators, or the
/// national administrators for a referral still in the national queue.
pub(crate) async fn notify_receiver(
    st: &AppState,
    r: &ReferralRow,
    kind: &str,
    at: DateTime<Utc>,
    out: &mut Vec<NotificationRow>,
) -> AppResult<()> {
    match r.org_id {
        Some(org) => {
            notify(
                st,
                Some(org),
                &["caseworker", "org_admin"],
                kind,
                r.id,
                at,
                out,
            )
            .await
        }
        None => notify(st, None, &["node_admin"], kind, r.id, at, out).await,
    }
}

pub(crate) fn audit_event(
    ctx: &AuditCtx,
    action: &str,
    r: &ReferralRow,
    detail: serde_json::Value,
) -> AuditEvent {
    let mut d = json!({ "direction": r.direction, "peer": r.peer, "state": r.state });
    if let (serde_json::Value::Object(m), serde_json::Value::Object(extra)) = (&mut d, detail) {
        m.extend(extra);
    }
    ctx.event(action, Outcome::Success)
        .target("referral", r.id)
        .org(r.org_id)
        .detail(d)
}

/// The next version of `r`, changed at `at`.
pub(crate) fn next(r: &ReferralRow, at: DateTime<Utc>) -> ReferralRow {
    ReferralRow {
        version: r.version + 1,
        updated_at: at,
        ..r.clone()
    }
}

// ---------------------------------------------------------------- sending

/// One consent a case's person gave for referrals, as the form offers it.
#[derive(Debug, Clone, Serialize)]
pub struct ConsentChoice {
    pub id: Uuid,
    pub destination: Option<CountryCode>,
    pub destination_org: String,
    pub field_groups: Vec<String>,
    pub given_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub withdrawn: bool,
    /// Usable now: in force and not withdrawn.
    pub valid: bool,
}

/// What the referral form of a case offers.
#[derive(Debug, Clone, Serialize)]
pub struct ReferralOptions {
    pub case_id: Uuid,
    pub case_number: String,
    /// Countries with an approved referral agreement that can receive now.
    pub destinations: Vec<CountryCode>,
    pub consents: Vec<ConsentChoice>,
    pub can_override: bool,
    /// The node's policy: a caseworker's referral waits for a coordinator's approval.
    pub requires_approval: bool,
    /// Referrals already made from or linked to this case.
    pub referrals: Vec<ReferralSummary>,
}

/// What a caseworker asks to send.
#[derive(Debug, Clone)]
pub struct NewReferral {
    pub destination: CountryCode,
    /// Code of an organisation of the destination's directory.
    pub dest_org: Option<String>,
    /// Id of a service of the destination's directory.
    pub dest_service: Option<Uuid>,
    pub reason: ReferralReason,
    pub urgency: ReferralUrgency,
    pub needs: BTreeSet<ServiceType>,
    pub message: String,
    /// The consent to send under (`None`: the valid one for the destination).
    pub consent_id: Option<Uuid>,
    /// The groups to send (`None`: every group the consent lists).
    pub field_groups: Option<BTreeSet<ReferralFieldGroup>>,
    /// Send without a valid consent (life-threatening emergency): needs `override_consent`.
    pub override_reason: Option<String>,
}

async fn consent_choices(
    st: &AppState,
    person_id: Uuid,
    today: NaiveDate,
) -> AppResult<Vec<(ConsentChoice, ConsentRecord)>> {
    let s = Sealer::new(st);
    let mut out = Vec::new();
    for row in st.store.consents(person_id).await? {
        if row.scope != ConsentScope::Referral.code() {
            continue;
        }
        let rec = s.open_consent(&row)?;
        let withdrawn = row.withdrawn_at.is_some();
        out.push((
            ConsentChoice {
                id: row.id,
                destination: rec.destination_country,
                destination_org: rec.destination_org.clone(),
                field_groups: rec
                    .field_groups
                    .iter()
                    .map(|g| g.code().to_owned())
                    .collect(),
                given_on: rec.given_on,
                expires_on: rec.expires_on,
                withdrawn,
                valid: !withdrawn && rec.in_force_on(today),
            },
            rec,
        ));
    }
    Ok(out)
}

pub async fn options(st: &AppState, who: Who<'_>, case_id: Uuid) -> AppResult<ReferralOptions> {
    crate::admin::require(
        st,
        who.audit,
        who.actor,
        Action::SendReferral,
        "referral_form",
    )
    .await?;
    let case = crate::cases::readable_case(st, who, case_id, Action::SendReferral).await?;
    let now = st.clock.now();
    let destinations = fed(st)
        .map(|f| referral_destinations(&f, now))
        .unwrap_or_default();
    let consents = consent_choices(st, case.person_id, now.date_naive())
        .await?
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    let mut referrals = Vec::new();
    for r in st.store.ref_by_case(case_id).await? {
        referrals.push(summary(st, &r, None).await?);
    }
    Ok(ReferralOptions {
        case_id,
        case_number: case.number,
        destinations,
        consents,
        can_override: who.actor.can(Action::OverrideConsent),
        requires_approval: st.config.referrals.require_approval && who.actor.role != Role::OrgAdmin,
        referrals,
    })
}

/// Makes a referral of `case_id`: checks, builds the consented payload, and either sends it
/// (sealed and signed in the same transaction) or leaves it for a coordinator's approval.
pub async fn create(
    st: &AppState,
    who: Who<'_>,
    case_id: Uuid,
    input: NewReferral,
) -> AppResult<Uuid> {
    let case = crate::cases::readable_case(st, who, case_id, Action::SendReferral).await?;
    let now = who.audit.at;
    let today = now.date_naive();
    let s = Sealer::new(st);
    let message = check_text("message", &input.message)?;
    let f = fed(st).ok_or_else(|| invalid("destination", "no_referral_agreement"))?;
    if let Some(code) = referral_block(&f, input.destination, now) {
        return Err(invalid("destination", code));
    }
    if let Some(code) = &input.dest_org {
        if !(2..=12).contains(&code.len())
            || !code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(invalid("dest_org", "invalid"));
        }
    }
    if input.needs.is_empty() {
        return Err(invalid("needs", "required"));
    }
    // A named service must be in the destination's directory; it names its organisation.
    let mut input = input;
    if let Some(svc) = input.dest_service {
        let q = crate::directory::DirectoryQuery {
            country: Some(input.destination),
            ..crate::directory::DirectoryQuery::default()
        };
        let view = crate::directory::directory(st, who, &q).await?;
        let id = svc.hyphenated().to_string();
        match view.entries.iter().find(|e| e.service.id == id) {
            None => return Err(invalid("dest_service", "invalid")),
            Some(e) => match &input.dest_org {
                Some(o) if *o != e.org_code => {
                    return Err(invalid("dest_service", "service_other_org"))
                }
                Some(_) => {}
                None => input.dest_org = Some(e.org_code.clone()),
            },
        }
    }

    // The consent: the one named, or the valid one for the destination.
    let choices = consent_choices(st, case.person_id, today).await?;
    let for_dest: Vec<&(ConsentChoice, ConsentRecord)> = choices
        .iter()
        .filter(|(c, _)| c.destination == Some(input.destination))
        .collect();
    let chosen = match input.consent_id {
        Some(id) => {
            let Some(c) = choices.iter().find(|(c, _)| c.id == id) else {
                return Err(invalid("consent_id", "invalid"));
            };
            Some(c)
        }
        None => for_dest
            .iter()
            .filter(|(c, _)| c.valid)
            .max_by_key(|(c, _)| (c.given_on, c.id))
            .copied(),
    };
    let override_reason = input
        .override_reason
        .as_deref()
        .map(|r| check_text("override_reason", r))
        .transpose()?
        .filter(|r| !r.is_empty());
    let consent_problem = match chosen {
        None if for_dest.iter().any(|(c, _)| c.withdrawn) => Some("consent_withdrawn"),
        None if !for_dest.is_empty() => Some("consent_expired"),
        None => Some("consent_required"),
        Some((c, _)) if c.withdrawn => Some("consent_withdrawn"),
        Some((c, _)) if c.destination != Some(input.destination) => {
            Some("consent_other_destination")
        }
        Some((c, _)) if !c.valid => Some("consent_expired"),
        Some((_, rec))
            if !rec.destination_org.is_empty()
                && input.dest_org.as_deref() != Some(rec.destination_org.as_str()) =>
        {
            Some("consent_other_organisation")
        }
        Some(_) => None,
    };
    let overridden = match (consent_problem, &override_reason) {
        (None, _) => false,
        (Some(_), Some(_)) if who.actor.can(Action::OverrideConsent) => true,
        (Some(code), Some(_)) => {
            crate::admin::deny(st, who.audit, "override_consent", "referral").await?;
            return Err(invalid("consent_id", code));
        }
        (Some(code), None) => return Err(invalid("consent_id", code)),
    };
    let consent = if overridden {
        None
    } else {
        chosen.map(|(_, rec)| rec)
    };
    let consent_id = if overridden {
        None
    } else {
        chosen.map(|(c, _)| c.id)
    };

    // The groups: within the consent (an override may name any).
    let allowed: BTreeSet<ReferralFieldGroup> =
        consent.map(|c| c.field_groups.clone()).unwrap_or_default();
    let groups = match input.field_groups {
        Some(g) => g,
        None => allowed.clone(),
    };
    if consent.is_some() && !groups.is_subset(&allowed) {
        return Err(invalid("field_groups", "exceeds_consent"));
    }
    let expires_on = consent
        .and_then(|c| c.expires_on)
        .unwrap_or_else(|| today + Duration::days(OVERRIDE_DAYS));

    // The payload, from the consented groups only.
    let person = s.open_person(&st.store.person(case.person_id).await?)?;
    let record = s.open_case(&case)?;
    let services: Vec<ServiceRecord> = st
        .store
        .entries(EntryKind::Service, case.id)
        .await?
        .iter()
        .map(|e| s.open_entry(EntryKind::Service, e))
        .collect::<AppResult<_>>()?;
    let proceedings: Vec<ProceedingRecord> = st
        .store
        .entries(EntryKind::Proceeding, case.id)
        .await?
        .iter()
        .map(|e| s.open_entry(EntryKind::Proceeding, e))
        .collect::<AppResult<_>>()?;
    let mut notes = Vec::new();
    if groups.contains(&ReferralFieldGroup::Timeline) {
        for t in st.store.timeline(case.id).await? {
            if t.kind != "note" {
                continue;
            }
            if let Some(b) = &t.body {
                notes.push(TimelineNote {
                    date: t.at.date_naive(),
                    text: s.open_text("timeline", t.case_id, "body", b)?,
                });
            }
        }
    }
    let data = ReferralData::build(
        &ReferralSource {
            person: &person,
            case: &record,
            services: &services,
            proceedings: &proceedings,
            notes: &notes,
            today,
        },
        &groups,
    );
    // Defence in depth: what was built must be within what was asked (and consented).
    if !data.groups_present().is_subset(&groups) {
        return Err(invalid("field_groups", "exceeds_consent"));
    }
    let org = st.store.org(case.org_id).await?;
    let id = Uuid::now_v7();
    let body = OfferBody {
        referral_id: id.hyphenated().to_string(),
        sender_org: OrgRef {
            code: org.code.clone(),
            name: org.name.clone(),
        },
        sender_reference: case.number.clone(),
        dest_org: input.dest_org.clone(),
        dest_service: input.dest_service.map(|u| u.hyphenated().to_string()),
        reason: input.reason,
        urgency: input.urgency,
        needs: input.needs.clone(),
        message,
        consent: consent.map(|c| ConsentSummary {
            given_by: c.given_by,
            given_on: c.given_on,
            expires_on,
            field_groups: c.field_groups.clone(),
        }),
        expires_on,
        data,
    };
    let problems = body.check();
    if let Some(p) = problems.first() {
        return Err(invalid(&p.field, p.code));
    }
    let awaiting = st.config.referrals.require_approval && who.actor.role != Role::OrgAdmin;
    let row = ReferralRow {
        id,
        direction: "out".into(),
        peer: input.destination.to_string(),
        org_id: Some(case.org_id),
        case_id: Some(case.id),
        consent_id,
        sender_org: org.code.clone(),
        sender_org_name: org.name.clone(),
        sender_reference: case.number.clone(),
        dest_org: input.dest_org.clone(),
        dest_service: body.dest_service.clone(),
        reason: input.reason.code().to_owned(),
        urgency: input.urgency.code().to_owned(),
        needs: codes(&input.needs),
        field_groups: codes(&groups),
        state: if awaiting {
            state::AWAITING_APPROVAL
        } else {
            state::SENT
        }
        .into(),
        recall_state: None,
        recall_reason: None,
        expires_on: Some(expires_on),
        payload: Some(s.seal_json("referrals", id, "payload", &body)),
        override_reason: override_reason
            .as_deref()
            .filter(|_| overridden)
            .and_then(|r| s.seal_text("referrals", id, "override_reason", r)),
        key_id: s.key_id(),
        created_by: Some(who.actor.user_id),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let detail = json!({
        "destination": row.peer, "field_groups": parse_codes(&row.field_groups),
        "reason": row.reason, "urgency": row.urgency, "override": overridden,
    });
    let mut change = RefChange::default();
    change.events.push(event(
        &s,
        id,
        now,
        "created",
        None,
        Some(who.actor.user_id),
        detail.clone(),
        "",
    ));
    let mut audits = vec![audit_event(
        who.audit,
        if overridden {
            "referral.create_consent_override"
        } else {
            "referral.create"
        },
        &row,
        detail,
    )];
    let mut notices = Vec::new();
    if overridden {
        notify(
            st,
            None,
            &["node_admin"],
            "consent_override",
            id,
            now,
            &mut notices,
        )
        .await?;
    }
    let payload;
    let message_id = Uuid::now_v7();
    if awaiting {
        notify(
            st,
            row.org_id,
            &["org_admin"],
            "awaiting_approval",
            id,
            now,
            &mut notices,
        )
        .await?;
    } else {
        payload = sealed_payload(&f, input.destination, OFFER, id, &body, now)?;
        change.outgoing.push(outgoing(
            st,
            &f,
            message_id,
            input.destination,
            Channel::Referral,
            OFFER,
            payload,
            now,
        ));
        change.events.push(event(
            &s,
            id,
            now,
            "offer_sent",
            Some(message_id),
            Some(who.actor.user_id),
            json!({}),
            "",
        ));
        audits.push(audit_event(
            who.audit,
            "referral.send",
            &row,
            json!({ "message_id": message_id }),
        ));
    }
    change.referrals.push(&row);
    change.notify = notices;
    change.audits = audits;
    st.store.ref_apply(change).await?;
    Ok(id)
}

/// A referral of the actor's organisation (or, for national administrators, any), with the
/// refusal audited and the existence of others' referrals not revealed.
pub(crate) async fn visible(
    st: &AppState,
    who: Who<'_>,
    id: Uuid,
    action: Action,
) -> AppResult<ReferralRow> {
    crate::admin::require(st, who.audit, who.actor, action, "referral").await?;
    match st.store.referral(id).await {
        Ok(r)
            if who.actor.role == Role::NodeAdmin
                || (r.org_id.is_some() && r.org_id == who.actor.org_id) =>
        {
            Ok(r)
        }
        Ok(_) | Err(StoreError::NotFound) => {
            crate::admin::deny(
                st,
                who.audit,
                "referral_out_of_scope",
                &format!("referral:{id}"),
            )
            .await?;
            Err(AppError::NotFound)
        }
        Err(e) => Err(e.into()),
    }
}

fn require_state(r: &ReferralRow, direction: &str, states: &[&str]) -> AppResult<()> {
    if r.direction != direction || !states.contains(&r.state.as_str()) {
        return Err(invalid("state", "invalid_state"));
    }
    Ok(())
}

fn peer_of(r: &ReferralRow) -> AppResult<CountryCode> {
    r.peer
        .parse()
        .map_err(|_| AppError::internal(format!("referral {} has a bad peer", r.id)))
}

/// A coordinator approves a caseworker's referral: the consent is checked again, and the
/// referral is sealed, signed and sent as it was made.
pub async fn approve(st: &AppState, who: Who<'_>, id: Uuid) -> AppResult<()> {
    let r = visible(st, who, id, Action::ApproveReferral).await?;
    require_state(&r, "out", &[state::AWAITING_APPROVAL])?;
    let now = who.audit.at;
    let s = Sealer::new(st);
    let f = fed(st).ok_or_else(|| invalid("destination", "no_referral_agreement"))?;
    let dest = peer_of(&r)?;
    if let Some(code) = referral_block(&f, dest, now) {
        return Err(invalid("destination", code));
    }
    if let Some(cid) = r.consent_id {
        let c = st.store.consent(cid).await?;
        let rec = s.open_consent(&c)?;
        if c.withdrawn_at.is_some() {
            return Err(invalid("consent_id", "consent_withdrawn"));
        }
        if !rec.in_force_on(now.date_naive()) {
            return Err(invalid("consent_id", "consent_expired"));
        }
    }
    let body: OfferBody = s.open_json(
        "referrals",
        r.id,
        "payload",
        r.payload.as_deref().unwrap_or_default(),
    )?;
    let payload = sealed_payload(&f, dest, OFFER, r.id, &body, now)?;
    let message_id = Uuid::now_v7();
    let mut row = next(&r, now);
    row.state = state::SENT.into();
    let mut change = RefChange::default();
    change.outgoing.push(outgoing(
        st,
        &f,
        message_id,
        dest,
        Channel::Referral,
        OFFER,
        payload,
        now,
    ));
    change.events.push(event(
        &s,
        r.id,
        now,
        "approved",
        None,
        Some(who.actor.user_id),
        json!({}),
        "",
    ));
    change.events.push(event(
        &s,
        r.id,
        now,
        "offer_sent",
        Some(message_id),
        Some(who.actor.user_id),
        json!({}),
        "",
    ));
    change.audits.push(audit_event(
        who.audit,
        "referral.approve",
        &row,
        json!({ "message_id": message_id }),
    ));
    notify_sender(st, &row, "approved", now, &mut change.notify).await?;
    change.notify.retain(|n| n.user_id != who.actor.user_id);
    change.referrals.push(&row);
    st.store.ref_apply(change).await?;
    Ok(())
}

/// The sender revokes a referral: a signed recall goes to the destination, which erases what
/// it received and acknowledges. Before approval, the referral is simply cancelled.
pub async fn recall(st: &AppState, who: Who<'_>, id: Uuid, note: &str) -> AppResult<()> {
    let r = visible(st, who, id, Action::SendReferral).await?;
    if r.direction != "out" || matches!(r.state.as_str(), state::RECALLED | state::CANCELLED) {
        return Err(invalid("state", "invalid_state"));
    }
    let note = check_text("note", note)?;
    let now = who.audit.at;
    let s = Sealer::new(st);
    let f = fed(st);
    let (row, outgoing_step) = recall_row(st, f.as_ref(), &r, RecallReason::RevokedBySender, now)?;
    let mut change = RefChange::default();
    let kind = if row.state == state::CANCELLED {
        "cancelled"
    } else {
        "recall_sent"
    };
    change.events.push(event(
        &s,
        r.id,
        now,
        kind,
        outgoing_step.as_ref().map(|o| o.id),
        Some(who.actor.user_id),
        json!({ "reason": RecallReason::RevokedBySender.code() }),
        &note,
    ));
    change.audits.push(audit_event(
        who.audit,
        "referral.recall",
        &row,
        json!({ "reason": RecallReason::RevokedBySender.code() }),
    ));
    change.outgoing.extend(outgoing_step);
    change.referrals.push(&row);
    st.store.ref_apply(change).await?;
    Ok(())
}

/// The recalled (or cancelled) row, and the `control.recall` to send (none for a referral
/// never sent).
pub(crate) fn recall_row<'a>(
    st: &'a AppState,
    f: Option<&Fed>,
    r: &ReferralRow,
    reason: RecallReason,
    now: DateTime<Utc>,
) -> AppResult<(ReferralRow, Option<Outgoing<'a>>)> {
    let mut row = next(r, now);
    row.recall_reason = Some(reason.code().into());
    if r.state == state::AWAITING_APPROVAL {
        row.state = state::CANCELLED.into();
        return Ok((row, None));
    }
    let f = f.ok_or_else(|| AppError::internal("recall without a federation"))?;
    row.state = state::RECALLED.into();
    row.recall_state = Some("pending".into());
    let dest = peer_of(r)?;
    let payload = json!({ "referral_id": r.id.hyphenated().to_string(), "reason": reason.code() });
    Ok((
        row,
        Some(outgoing(
            st,
            f,
            Uuid::now_v7(),
            dest,
            Channel::Control,
            RECALL,
            payload,
            now,
        )),
    ))
}

/// The recalls of `refs` (those not already recalled or cancelled), as parts of a change:
/// the referral rows, their signed recalls, history events and audit entries.
pub(crate) struct Recalls<'a> {
    pub rows: Vec<ReferralRow>,
    pub outgoing: Vec<Outgoing<'a>>,
    pub events: Vec<RefEventRow>,
    pub audits: Vec<AuditEvent>,
}

pub(crate) fn recalls<'a>(
    st: &'a AppState,
    who: Who<'_>,
    refs: &[ReferralRow],
    reason: RecallReason,
) -> AppResult<Recalls<'a>> {
    let now = who.audit.at;
    let s = Sealer::new(st);
    let f = fed(st);
    let mut out = Recalls {
        rows: Vec::new(),
        outgoing: Vec::new(),
        events: Vec::new(),
        audits: Vec::new(),
    };
    for r in refs {
        if matches!(r.state.as_str(), state::RECALLED | state::CANCELLED) {
            continue;
        }
        let (row, msg) = recall_row(st, f.as_ref(), r, reason, now)?;
        let kind = if row.state == state::CANCELLED {
            "cancelled"
        } else {
            "recall_sent"
        };
        out.events.push(event(
            &s,
            r.id,
            now,
            kind,
            msg.as_ref().map(|o| o.id),
            Some(who.actor.user_id),
            json!({ "reason": reason.code() }),
            "",
        ));
        out.audits.push(audit_event(
            who.audit,
            "referral.recall",
            &row,
            json!({ "reason": reason.code() }),
        ));
        out.outgoing.extend(msg);
        out.rows.push(row);
    }
    Ok(out)
}

/// Recalls of every referral sent under a `REFERRAL` consent being withdrawn, written with the
/// withdrawal (see `cases::withdraw_consent`).
pub(crate) async fn withdraw_with_recalls(
    st: &AppState,
    who: Who<'_>,
    consent_id: Uuid,
    on: NaiveDate,
    withdrawal_audit: AuditEvent,
) -> AppResult<()> {
    let refs = st.store.ref_by_consent(consent_id).await?;
    let r = recalls(st, who, &refs, RecallReason::ConsentWithdrawn)?;
    let mut audits = vec![withdrawal_audit];
    audits.extend(r.audits);
    // One transaction: the withdrawal and every recall, or nothing.
    let mut change = RefChange {
        withdraw: vec![crate::store::ref_sql::ConsentWithdrawal {
            id: consent_id,
            on,
            by: who.actor.user_id,
            at: who.audit.at,
        }],
        events: r.events,
        outgoing: r.outgoing,
        audits,
        ..RefChange::default()
    };
    change.referrals = r.rows.iter().collect();
    match st.store.ref_apply(change).await {
        Err(StoreError::NotFound) => Err(invalid("consent", "already_withdrawn")),
        other => Ok(other?),
    }
}

// ---------------------------------------------------------------- answering (receiver)

/// A national administrator routes a referral from the national queue (or from one
/// organisation to another) to an organisation of this node.
pub async fn assign(st: &AppState, who: Who<'_>, id: Uuid, org_id: Uuid) -> AppResult<()> {
    let r = visible(st, who, id, Action::AssignReferral).await?;
    require_state(&r, "in", &[state::RECEIVED])?;
    let org = match st.store.org(org_id).await {
        Ok(o) if o.active => o,
        Ok(_) | Err(StoreError::NotFound) => return Err(invalid("org_id", "invalid")),
        Err(e) => return Err(e.into()),
    };
    let now = who.audit.at;
    let s = Sealer::new(st);
    let mut row = next(&r, now);
    row.org_id = Some(org.id);
    let mut change = RefChange::default();
    change.events.push(event(
        &s,
        r.id,
        now,
        "assigned",
        None,
        Some(who.actor.user_id),
        json!({ "org": org.code }),
        "",
    ));
    change.audits.push(audit_event(
        who.audit,
        "referral.assign",
        &row,
        json!({ "org": org.code }),
    ));
    notify_receiver(st, &row, "received", now, &mut change.notify).await?;
    change.referrals.push(&row);
    st.store.ref_apply(change).await?;
    Ok(())
}

/// The offer as received, opened.
pub(crate) fn open_offer(st: &AppState, r: &ReferralRow) -> AppResult<Option<OfferBody>> {
    match &r.payload {
        Some(p) => Ok(Some(Sealer::new(st).open_json(
            "referrals",
            r.id,
            "payload",
            p,
        )?)),
        None => Ok(None),
    }
}

/// A step answered to the origin: sealed, signed, recorded, in one transaction with `row`.
#[allow(clippy::too_many_arguments)] // every part of an envelope or history entry, named
async fn answer(
    st: &AppState,
    who: Who<'_>,
    r: &ReferralRow,
    mut row: ReferralRow,
    kind: &'static str,
    event_kind: &str,
    step: StepBody,
    detail: serde_json::Value,
    registration: Option<&crate::store::cases::Registration>,
) -> AppResult<()> {
    let now = who.audit.at;
    let s = Sealer::new(st);
    let f = fed(st).ok_or_else(|| invalid("state", "no_referral_agreement"))?;
    let origin = peer_of(r)?;
    let payload = sealed_payload(&f, origin, kind, r.id, &step, now)?;
    let message_id = Uuid::now_v7();
    if let Some(reg) = registration {
        row.case_id = Some(reg.case.id);
    }
    let mut change = RefChange::default();
    change.outgoing.push(outgoing(
        st,
        &f,
        message_id,
        origin,
        Channel::Referral,
        kind,
        payload,
        now,
    ));
    change.events.push(event(
        &s,
        r.id,
        now,
        event_kind,
        Some(message_id),
        Some(who.actor.user_id),
        detail.clone(),
        &step.note,
    ));
    change.audits.push(audit_event(
        who.audit,
        &format!("referral.{event_kind}"),
        &row,
        detail,
    ));
    // A step that erases the offer (decline) erases the received envelopes that carried it
    // too, as recall and expiry do: the sealed offer in the inbox would still open here.
    if row.payload.is_none() && r.payload.is_some() {
        for e in st.store.ref_events(r.id).await? {
            if let (Some(m), None) = (e.event.message_id, &e.out_status) {
                change.purge_inbox.push(m);
            }
        }
    }
    change.registration = registration;
    change.referrals.push(&row);
    st.store.ref_apply(change).await?;
    Ok(())
}

async fn own_org_ref(st: &AppState, who: Who<'_>) -> AppResult<Option<OrgRef>> {
    Ok(match who.actor.org_id {
        Some(o) => {
            let org = st.store.org(o).await?;
            Some(OrgRef {
                code: org.code,
                name: org.name,
            })
        }
        None => None,
    })
}

/// The receiving organisation accepts: a linked case opens in this node, pre-filled from the
/// referral, and a signed `referral.accept` goes back.
pub async fn accept(st: &AppState, who: Who<'_>, id: Uuid) -> AppResult<CaseRef> {
    let r = visible(st, who, id, Action::AnswerReferral).await?;
    require_state(&r, "in", &[state::RECEIVED])?;
    let today = who.audit.at.date_naive();
    if r.expires_on.is_some_and(|e| e <= today) {
        return Err(invalid("state", "expired"));
    }
    let offer = open_offer(st, &r)?.ok_or_else(|| invalid("state", "invalid_state"))?;
    let new_case = inbound::linked_case(&offer, &r, today);
    let reg = crate::cases::prepare(st, who, new_case).await?;
    let number_hint = reg.case.id;
    let mut row = next(&r, who.audit.at);
    row.state = state::ACCEPTED.into();
    let step = StepBody {
        referral_id: r.id.hyphenated().to_string(),
        org: own_org_ref(st, who).await?,
        decline_reason: None,
        update: None,
        note: String::new(),
    };
    answer(
        st,
        who,
        &r,
        row,
        ACCEPT,
        "accepted",
        step,
        json!({}),
        Some(&reg),
    )
    .await?;
    let case = st.store.case(number_hint).await?;
    Ok(CaseRef {
        id: case.id,
        number: case.number,
    })
}

/// The receiving organisation declines, with a reason; what was received is erased.
pub async fn decline(
    st: &AppState,
    who: Who<'_>,
    id: Uuid,
    reason: DeclineReason,
    note: &str,
) -> AppResult<()> {
    let r = visible(st, who, id, Action::AnswerReferral).await?;
    require_state(&r, "in", &[state::RECEIVED])?;
    let note = check_text("note", note)?;
    let mut row = next(&r, who.audit.at);
    row.state = state::DECLINED.into();
    row.payload = None;
    // The sender's case number leads back to the person: it goes with the data.
    row.sender_reference = String::new();
    let step = StepBody {
        referral_id: r.id.hyphenated().to_string(),
        org: own_org_ref(st, who).await?,
        decline_reason: Some(reason),
        update: None,
        note,
    };
    answer(
        st,
        who,
        &r,
        row,
        DECLINE,
        "declined",
        step,
        json!({ "reason": reason.code() }),
        None,
    )
    .await
}

/// A follow-up update to the origin (arrival confirmed, services started …), while the
/// person's referral consent is in force.
pub async fn update(
    st: &AppState,
    who: Who<'_>,
    id: Uuid,
    kind: ReferralUpdateKind,
    note: &str,
) -> AppResult<()> {
    let r = visible(st, who, id, Action::AnswerReferral).await?;
    require_state(&r, "in", &[state::ACCEPTED])?;
    consent_allows_follow_up(st, &r, who.audit.at.date_naive())?;
    let note = check_text("note", note)?;
    let row = next(&r, who.audit.at);
    let step = StepBody {
        referral_id: r.id.hyphenated().to_string(),
        org: own_org_ref(st, who).await?,
        decline_reason: None,
        update: Some(kind),
        note,
    };
    answer(
        st,
        who,
        &r,
        row,
        UPDATE,
        "update_sent",
        step,
        json!({ "update": kind.code() }),
        None,
    )
    .await
}

/// Follow-up flows back only while the consent the referral was made under is in force.
fn consent_allows_follow_up(st: &AppState, r: &ReferralRow, today: NaiveDate) -> AppResult<()> {
    let offer = open_offer(st, r)?;
    match offer.and_then(|o| o.consent) {
        Some(c) if today < c.expires_on => Ok(()),
        _ => Err(invalid("state", "consent_expired")),
    }
}

/// The receiving organisation closes the referral (its own case goes on).
pub async fn close(st: &AppState, who: Who<'_>, id: Uuid, note: &str) -> AppResult<()> {
    let r = visible(st, who, id, Action::AnswerReferral).await?;
    require_state(&r, "in", &[state::ACCEPTED])?;
    let note = check_text("note", note)?;
    let mut row = next(&r, who.audit.at);
    row.state = state::CLOSED.into();
    let step = StepBody {
        referral_id: r.id.hyphenated().to_string(),
        org: own_org_ref(st, who).await?,
        decline_reason: None,
        update: None,
        note,
    };
    answer(st, who, &r, row, CLOSE, "closed", step, json!({}), None).await
}

// ---------------------------------------------------------------- reading

/// A referral in a list.
#[derive(Debug, Clone, Serialize)]
pub struct ReferralSummary {
    pub id: Uuid,
    pub direction: String,
    pub peer: String,
    pub state: String,
    /// What the list shows: the state, or for a sent offer `pending_delivery` until the
    /// destination acknowledged it and `delivered` after; `recall_pending` until a recall is
    /// acknowledged.
    pub display_state: String,
    pub recall_state: Option<String>,
    pub reason: String,
    pub urgency: String,
    pub needs: Vec<String>,
    pub field_groups: Vec<String>,
    pub sender_org: String,
    pub sender_org_name: String,
    pub sender_reference: String,
    pub dest_org: Option<String>,
    pub dest_service: Option<String>,
    pub org_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub overridden: bool,
    pub expires_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) async fn summary(
    st: &AppState,
    r: &ReferralRow,
    offer_status: Option<&str>,
) -> AppResult<ReferralSummary> {
    let offer_status = match offer_status {
        Some(s) => Some(s.to_owned()),
        None if r.direction == "out" && r.state == state::SENT => st
            .store
            .ref_events(r.id)
            .await?
            .into_iter()
            .find(|e| e.event.kind == "offer_sent")
            .and_then(|e| e.out_status),
        None => None,
    };
    let display_state = if r.recall_state.as_deref() == Some("pending") {
        "recall_pending".to_owned()
    } else if r.direction == "out" && r.state == state::SENT {
        match offer_status.as_deref() {
            Some("acked") => "delivered".to_owned(),
            _ => "pending_delivery".to_owned(),
        }
    } else {
        r.state.clone()
    };
    Ok(ReferralSummary {
        id: r.id,
        direction: r.direction.clone(),
        peer: r.peer.clone(),
        state: r.state.clone(),
        display_state,
        recall_state: r.recall_state.clone(),
        reason: r.reason.clone(),
        urgency: r.urgency.clone(),
        needs: parse_codes(&r.needs),
        field_groups: parse_codes(&r.field_groups),
        sender_org: r.sender_org.clone(),
        sender_org_name: r.sender_org_name.clone(),
        sender_reference: r.sender_reference.clone(),
        dest_org: r.dest_org.clone(),
        dest_service: r.dest_service.clone(),
        org_id: r.org_id,
        case_id: r.case_id,
        overridden: r.override_reason.is_some(),
        expires_on: r.expires_on,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

/// Filters of a referral list.
#[derive(Debug, Clone, Default)]
pub struct ReferralQuery {
    /// `in` or `out`.
    pub direction: Option<String>,
    /// A state of [`state::ALL`].
    pub state: Option<String>,
    pub peer: Option<CountryCode>,
    /// Received referrals waiting in the national queue.
    pub unassigned: bool,
    /// From 1.
    pub page: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReferralList {
    pub items: Vec<ReferralSummary>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

pub async fn list(st: &AppState, who: Who<'_>, q: &ReferralQuery) -> AppResult<ReferralList> {
    crate::admin::require(st, who.audit, who.actor, Action::ViewReferrals, "referrals").await?;
    let mut errors = Vec::new();
    if q.direction
        .as_deref()
        .is_some_and(|d| d != "in" && d != "out")
    {
        errors.push(FieldError::new("direction", "invalid"));
    }
    if q.state.as_deref().is_some_and(|s| !state::ALL.contains(&s)) {
        errors.push(FieldError::new("state", "invalid"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let filter = RefFilter {
        direction: q.direction.clone(),
        org_id: if who.actor.role == Role::NodeAdmin {
            None
        } else {
            Some(
                who.actor
                    .org_id
                    .ok_or(AppError::Forbidden(Action::ViewReferrals))?,
            )
        },
        unassigned: q.unassigned,
        states: q.state.clone().map(|s| vec![s]),
        peer: q.peer.map(|p| p.to_string()),
    };
    let total = st.store.count_referrals(&filter).await?;
    let page = q.page.max(1);
    let rows = st
        .store
        .referrals(&filter, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push(
            summary(
                st,
                &r.referral,
                Some(r.offer_status.as_deref().unwrap_or("none")),
            )
            .await?,
        );
    }
    let ev = who
        .audit
        .event("referral.list", Outcome::Success)
        .detail(json!({ "count": items.len(), "direction": q.direction, "state": q.state }));
    st.store.append_audit(&ev).await?;
    Ok(ReferralList {
        items,
        total,
        page,
        pages: ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
    })
}

/// A step of the history as shown.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryItem {
    pub at: DateTime<Utc>,
    pub kind: String,
    pub actor: Option<String>,
    pub message_id: Option<Uuid>,
    pub envelope_hash: Option<String>,
    /// Sent envelopes: `pending`, `acked`, `rejected`.
    pub delivery: Option<String>,
    pub acked_at: Option<DateTime<Utc>>,
    pub detail: serde_json::Value,
    /// Free text, only for the organisation's users.
    pub note: Option<String>,
}

/// A referral page.
#[derive(Debug, Clone, Serialize)]
pub struct ReferralView {
    pub summary: ReferralSummary,
    pub case_number: Option<String>,
    /// The offer with its data, for the organisation's users (not for national
    /// administrators, who route by the summary); `None` once erased.
    pub offer: Option<OfferBody>,
    /// Whether the offer's data was erased (declined, expired, recalled).
    pub erased: bool,
    pub override_reason: Option<String>,
    pub history: Vec<HistoryItem>,
    /// What the reader may do now: `approve`, `recall`, `accept`, `decline`, `update`,
    /// `close`, `assign`.
    pub actions: Vec<&'static str>,
    /// Organisations to assign to (national administrators).
    pub orgs: Vec<OrgRefId>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrgRefId {
    pub id: Uuid,
    pub code: String,
    pub name: String,
}

pub async fn read(st: &AppState, who: Who<'_>, id: Uuid) -> AppResult<ReferralView> {
    let r = visible(st, who, id, Action::ViewReferrals).await?;
    let s = Sealer::new(st);
    let org_user = r.org_id.is_some() && r.org_id == who.actor.org_id;
    let offer = if org_user { open_offer(st, &r)? } else { None };
    let override_reason = match (
        &r.override_reason,
        org_user || who.actor.role == Role::NodeAdmin,
    ) {
        (Some(o), true) => Some(s.open_text("referrals", r.id, "override_reason", o)?),
        _ => None,
    };
    let mut history = Vec::new();
    for e in st.store.ref_events(r.id).await? {
        let note = match (&e.event.note, org_user) {
            (Some(n), true) => {
                Some(s.open_text("referral_events", e.event.referral_id, "note", n)?)
            }
            _ => None,
        };
        history.push(HistoryItem {
            at: e.event.at,
            kind: e.event.kind.clone(),
            actor: e.actor_name.clone(),
            message_id: e.event.message_id,
            envelope_hash: e.envelope_hash.clone(),
            delivery: e.out_status.clone(),
            acked_at: e.out_acked_at,
            detail: serde_json::from_str(&e.event.detail).unwrap_or(serde_json::Value::Null),
            note,
        });
    }
    let case_number = match (r.case_id, org_user) {
        (Some(c), true) => Some(st.store.case(c).await?.number),
        _ => None,
    };
    let a = who.actor;
    let mut actions = Vec::new();
    let today = who.audit.at.date_naive();
    let live = r.expires_on.is_none_or(|e| today < e);
    match (r.direction.as_str(), r.state.as_str()) {
        ("out", state::AWAITING_APPROVAL) if org_user && a.can(Action::ApproveReferral) => {
            actions.push("approve");
        }
        _ => {}
    }
    if r.direction == "out"
        && org_user
        && a.can(Action::SendReferral)
        && !matches!(r.state.as_str(), state::RECALLED | state::CANCELLED)
    {
        actions.push("recall");
    }
    if r.direction == "in" && org_user && a.can(Action::AnswerReferral) {
        match r.state.as_str() {
            state::RECEIVED if live => actions.extend(["accept", "decline"]),
            state::ACCEPTED => {
                if offer
                    .as_ref()
                    .and_then(|o| o.consent.as_ref())
                    .is_some_and(|c| today < c.expires_on)
                {
                    actions.push("update");
                }
                actions.push("close");
            }
            _ => {}
        }
    }
    let mut orgs = Vec::new();
    if r.direction == "in" && r.state == state::RECEIVED && a.can(Action::AssignReferral) {
        actions.push("assign");
        for o in st.store.orgs().await? {
            if o.org.active {
                orgs.push(OrgRefId {
                    id: o.org.id,
                    code: o.org.code.clone(),
                    name: o.org.name.clone(),
                });
            }
        }
    }
    // Reading a referral answers its notifications.
    for n in st.store.notifications(who.actor.user_id, 100).await? {
        if n.referral_id == Some(r.id) && n.read_at.is_none() {
            st.store
                .mark_notifications_read(who.actor.user_id, Some(n.id), who.audit.at)
                .await?;
        }
    }
    let ev = audit_event(
        who.audit,
        "referral.read",
        &r,
        json!({ "with_data": offer.is_some() }),
    );
    st.store.append_audit(&ev).await?;
    Ok(ReferralView {
        summary: summary(st, &r, None).await?,
        case_number,
        erased: r.payload.is_none(),
        offer,
        override_reason,
        history,
        actions,
        orgs,
    })
}

// ---------------------------------------------------------------- notifications

#[derive(Debug, Clone, Serialize)]
pub struct NotificationView {
    pub id: Uuid,
    pub kind: String,
    pub referral_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

/// The latest notifications of the signed-in user (their own; nothing to authorise beyond
/// being signed in).
pub async fn notifications(st: &AppState, who: Who<'_>) -> AppResult<Vec<NotificationView>> {
    Ok(st
        .store
        .notifications(who.actor.user_id, 100)
        .await?
        .into_iter()
        .map(|n| NotificationView {
            id: n.id,
            kind: n.kind,
            referral_id: n.referral_id,
            created_at: n.created_at,
            read: n.read_at.is_some(),
        })
        .collect())
}

pub async fn unread_count(st: &AppState, user_id: Uuid) -> AppResult<i64> {
    Ok(st.store.unread_notifications(user_id).await?)
}

/// Marks one notification (or all) of the signed-in user read.
pub async fn mark_read(st: &AppState, who: Who<'_>, id: Option<Uuid>) -> AppResult<()> {
    Ok(st
        .store
        .mark_notifications_read(who.actor.user_id, id, who.audit.at)
        .await?)
}
