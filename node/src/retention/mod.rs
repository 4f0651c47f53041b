//! Retention: how long a node keeps what identifies a victim, and the person's right to have
//! it erased.
//!
//! - **The rule** (`[retention] anonymise_closed_after_years`): a person is anonymised once
//!   every case of theirs has been closed for that many years and none is under a legal hold.
//!   A person with one case still open, or closed too recently, keeps everything.
//! - **Anonymisation** clears what identifies the person and every free text about them: the
//!   identity (names, documents, contacts, address, birth date) is replaced by an empty one,
//!   the blind-index tokens are deleted (the person can no longer be found by name or
//!   document), and narratives, notes of services, proceedings and the timeline, guardians'
//!   names, the authority's file numbers, consent-form references, legal-hold reasons, and the
//!   referrals' payloads, notes and received message bodies are cleared. Coded facts stay
//!   (sex, citizenship, age band, forms of exploitation, dates), and so does the audit trail
//!   (which never held victim data): the statistics of past periods do not change. The case
//!   becomes read-only.
//! - **Legal hold**: a coordinator places one on a case, with a reason (sealed), for as long as
//!   proceedings or an authority may need the file; while it holds, the rule skips the person
//!   and erasure is refused.
//! - **Erasure on request**: a coordinator erases a person when they ask. In one transaction:
//!   every consent of theirs still in force is withdrawn today (so they drop out of every
//!   statistics period that ends from today on; releases already published are aggregates and
//!   stay), every referral sent from their cases is recalled (the destination erases what it
//!   received and acknowledges, as for a consent withdrawal), and the person is anonymised.
//!
//! The daily job (03:40 UTC, and after start) anonymises due persons one transaction each,
//! audited as `retention.anonymise`. A person already anonymised is skipped, so an interrupted
//! run resumes where it stopped and two replicas never do the same person twice.

pub mod cli;
pub mod pages;

use chrono::{DateTime, Months, Utc};
use puente_common::case::Identity;
use puente_common::vocab::codes::RecallReason;
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{AuditCtx, AuditEvent, Outcome};
use crate::authz::Action;
use crate::cases::seal::Sealer;
use crate::cases::{readable_case, today, Who};
use crate::error::{AppError, AppResult, FieldError};
use crate::store::cases::{EntryKind, TimelineRow};
use crate::store::ref_sql::RefChange;
use crate::store::retention_sql::{Anonymisation, LegalHoldRow, WHY_ERASURE, WHY_RETENTION};
use crate::store::StoreError;

/// Persons read per query by the job.
const BATCH: i64 = 100;
/// The longest legal-hold reason, in characters.
const REASON_MAX: usize = 2_000;

fn invalid(field: &str, code: &'static str) -> AppError {
    AppError::Invalid(vec![FieldError::new(field, code)])
}

/// Cases closed at or before this instant are old enough under a rule of `years`.
pub fn cutoff(now: DateTime<Utc>, years: u32) -> Option<DateTime<Utc>> {
    now.checked_sub_months(Months::new(years.saturating_mul(12)))
}

/// The rule's cut-off now, or `None` when the node has no rule.
pub fn current_cutoff(st: &AppState) -> Option<DateTime<Utc>> {
    st.config
        .retention
        .anonymise_closed_after_years
        .and_then(|y| cutoff(st.clock.now(), y))
}

/// `record` (a JSON object) with the string member `field` emptied; `None` when it had
/// nothing to clear.
fn without_text(record: &str, field: &str) -> AppResult<Option<String>> {
    let mut v: Value = serde_json::from_str(record).map_err(AppError::internal)?;
    match v.get_mut(field) {
        Some(Value::String(s)) if !s.is_empty() => {
            s.clear();
            Ok(Some(v.to_string()))
        }
        _ => Ok(None),
    }
}

/// What anonymising `person_id` writes, built from what is stored now.
async fn anonymisation(
    st: &AppState,
    person_id: Uuid,
    why: &'static str,
    at: DateTime<Utc>,
    closed_before: Option<DateTime<Utc>>,
) -> AppResult<Anonymisation> {
    let s = Sealer::new(st);
    let mut proceedings = Vec::new();
    for c in st.store.cases_of_person(person_id).await? {
        for e in st.store.entries(EntryKind::Proceeding, c.id).await? {
            if let Some(r) = without_text(&e.record, "reference")? {
                proceedings.push((e.id, r));
            }
        }
    }
    let mut consents = Vec::new();
    for c in st.store.consents(person_id).await? {
        if let Some(r) = without_text(&c.record, "evidence_ref")? {
            consents.push((c.id, r));
        }
    }
    Ok(Anonymisation {
        person_id,
        why,
        at,
        closed_before,
        identity: s.seal_identity(person_id, &Identity::default()),
        key_id: s.key_id(),
        proceedings,
        consents,
    })
}

/// Best effort after anonymisations (a failure leaves the cleared values in free space until
/// the next checkpoint; it is logged, not fatal).
async fn purge(st: &AppState) {
    if let Err(e) = st.store.purge_freed().await {
        tracing::warn!(error = %e, "could not purge freed database space after anonymisation");
    }
}

// ---------------------------------------------------------------- the rule's job

/// What one run of the job did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RunOutcome {
    /// The node has a rule.
    pub enabled: bool,
    pub anonymised: u64,
    /// Due when listed, but no longer when written (anonymised by another replica meanwhile,
    /// a case reopened, a hold placed).
    pub skipped: u64,
    /// Could not be anonymised (an unreadable stored value, a database error): logged with
    /// the person's id, left as they were, tried again at the next run. The others go on.
    pub failed: u64,
}

/// Anonymises every person the rule makes due now, one transaction each (see the module's
/// documentation).
pub async fn run_job(st: &AppState) -> AppResult<RunOutcome> {
    let Some(cutoff) = current_cutoff(st) else {
        return Ok(RunOutcome::default());
    };
    let mut out = RunOutcome {
        enabled: true,
        ..RunOutcome::default()
    };
    let mut after = None;
    loop {
        let due = st.store.retention_due(cutoff, after, BATCH).await?;
        for &person in &due {
            after = Some(person);
            match anonymise_due(st, person, cutoff).await {
                Ok(true) => out.anonymised += 1,
                Ok(false) => out.skipped += 1,
                Err(e) => {
                    // One person's failure does not hold back the others.
                    tracing::error!(%person, error = %e, "retention: could not anonymise a person");
                    out.failed += 1;
                }
            }
        }
        if (due.len() as i64) < BATCH {
            if out.anonymised > 0 {
                purge(st).await;
            }
            return Ok(out);
        }
    }
}

/// Anonymises one due person; `false` when they were no longer due at the write.
async fn anonymise_due(st: &AppState, person: Uuid, cutoff: DateTime<Utc>) -> AppResult<bool> {
    let now = st.clock.now();
    let row = match st.store.person(person).await {
        Ok(p) => p,
        Err(StoreError::NotFound) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    let cases: Vec<Uuid> = st
        .store
        .cases_of_person(person)
        .await?
        .iter()
        .map(|c| c.id)
        .collect();
    let a = anonymisation(st, person, WHY_RETENTION, now, Some(cutoff)).await?;
    let audit = AuditCtx::system(now)
        .event("retention.anonymise", Outcome::Success)
        .target("person", person)
        .org(Some(row.org_id))
        .detail(json!({
            "cases": cases,
            "closed_before": cutoff,
            "years": st.config.retention.anonymise_closed_after_years,
        }));
    let change = RefChange {
        anonymise: Some(a),
        audits: vec![audit],
        ..RefChange::default()
    };
    match st.store.ref_apply(change).await {
        Ok(()) => Ok(true),
        Err(StoreError::NotFound) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The rule and how many persons it touches now, for the retention page, the CLI and the
/// API.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Status {
    /// `[retention] anonymise_closed_after_years`; absent: no rule.
    pub years: Option<u32>,
    /// Cases closed at or before this instant are old enough.
    pub closed_before: Option<DateTime<Utc>>,
    /// Persons due now (every case closed long enough, none held).
    pub due: i64,
    /// Persons who would be due but a case of theirs is under a legal hold.
    pub held: i64,
    /// Persons anonymised by the rule so far.
    pub anonymised: i64,
    /// Persons erased on request so far.
    pub erased: i64,
}

pub async fn status(st: &AppState) -> AppResult<Status> {
    let cutoff = current_cutoff(st);
    // Without a rule nobody is due; the counts of anonymised and erased persons still matter.
    let counts = st.store.retention_counts(cutoff).await?;
    Ok(Status {
        years: st.config.retention.anonymise_closed_after_years,
        closed_before: cutoff,
        due: counts.due,
        held: counts.held,
        anonymised: counts.anonymised_retention,
        erased: counts.erased,
    })
}

// ---------------------------------------------------------------- legal holds

/// A legal hold as the case page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct HoldView {
    pub placed_at: DateTime<Utc>,
    pub placed_by: Option<String>,
    pub reason: String,
    pub released_at: Option<DateTime<Utc>>,
    pub released_by: Option<String>,
}

async fn username(st: &AppState, id: Option<Uuid>) -> AppResult<Option<String>> {
    let Some(id) = id else { return Ok(None) };
    match st.store.user(id).await {
        Ok(u) => Ok(Some(u.username)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The holds of a case `who` may read, newest first (the first is active when it has no
/// release).
pub async fn holds(st: &AppState, who: Who<'_>, case_id: Uuid) -> AppResult<Vec<HoldView>> {
    readable_case(st, who, case_id, Action::ViewCases).await?;
    holds_of(st, case_id).await
}

pub(crate) async fn holds_of(st: &AppState, case_id: Uuid) -> AppResult<Vec<HoldView>> {
    let s = Sealer::new(st);
    let mut out = Vec::new();
    for h in st.store.legal_holds(case_id).await? {
        let reason = match &h.reason {
            Some(r) => s.open_text("legal_holds", h.id, "reason", r)?,
            None => String::new(),
        };
        out.push(HoldView {
            placed_at: h.placed_at,
            placed_by: username(st, h.placed_by).await?,
            reason,
            released_at: h.released_at,
            released_by: username(st, h.released_by).await?,
        });
    }
    Ok(out)
}

fn hold_timeline(case_id: Uuid, kind: &str, who: Who<'_>, key_id: String) -> TimelineRow {
    TimelineRow {
        id: Uuid::now_v7(),
        case_id,
        at: who.audit.at,
        author_id: Some(who.actor.user_id),
        kind: kind.to_owned(),
        body: None,
        key_id,
    }
}

/// Places a legal hold on a case of the coordinator's organisation, with a reason.
pub async fn place_hold(st: &AppState, who: Who<'_>, case_id: Uuid, reason: &str) -> AppResult<()> {
    let case = readable_case(st, who, case_id, Action::ManageLegalHold).await?;
    if case.anonymised_at.is_some() {
        return Err(invalid("case", "anonymised"));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(invalid("reason", "required"));
    }
    if reason.chars().count() > REASON_MAX {
        return Err(invalid("reason", "too_long"));
    }
    let s = Sealer::new(st);
    let id = Uuid::now_v7();
    let hold = LegalHoldRow {
        id,
        case_id,
        reason: s.seal_text("legal_holds", id, "reason", reason),
        key_id: s.key_id(),
        placed_by: Some(who.actor.user_id),
        placed_at: who.audit.at,
        released_by: None,
        released_at: None,
    };
    let t = hold_timeline(case_id, "legal_hold.placed", who, s.key_id());
    let ev = who
        .audit
        .event("case.legal_hold_place", Outcome::Success)
        .target("case", case_id)
        .org(Some(case.org_id));
    match st.store.place_hold(&hold, &t, &ev).await {
        Err(StoreError::Conflict(_)) => Err(invalid("legal_hold", "already_held")),
        other => Ok(other?),
    }
}

/// Releases the active legal hold of a case of the coordinator's organisation.
pub async fn release_hold(st: &AppState, who: Who<'_>, case_id: Uuid) -> AppResult<()> {
    let case = readable_case(st, who, case_id, Action::ManageLegalHold).await?;
    let s = Sealer::new(st);
    let t = hold_timeline(case_id, "legal_hold.released", who, s.key_id());
    let ev = who
        .audit
        .event("case.legal_hold_release", Outcome::Success)
        .target("case", case_id)
        .org(Some(case.org_id));
    match st.store.release_hold(who.actor.user_id, &t, &ev).await {
        Err(StoreError::NotFound) => Err(invalid("legal_hold", "not_held")),
        other => Ok(other?),
    }
}

// ---------------------------------------------------------------- erasure on request

/// What an erasure did.
#[derive(Debug, Clone, Serialize)]
pub struct Erasure {
    pub person_id: Uuid,
    /// The person's case numbers (all anonymised).
    pub cases: Vec<String>,
    pub consents_withdrawn: usize,
    /// Referrals recalled (a recall each, sent to the destination) or cancelled (still
    /// awaiting approval, never sent).
    pub referrals_recalled: usize,
}

/// Erases the person of `case_id` on their request. `confirm` must repeat the case's number.
/// Refused when a case of theirs is under a legal hold, or when they are already erased.
pub async fn erase(
    st: &AppState,
    who: Who<'_>,
    case_id: Uuid,
    confirm: &str,
) -> AppResult<Erasure> {
    let case = readable_case(st, who, case_id, Action::ErasePerson).await?;
    if confirm.trim() != case.number {
        return Err(invalid("confirm", "mismatch"));
    }
    let person = st.store.person(case.person_id).await?;
    if person.anonymised_why.as_deref() == Some(WHY_ERASURE) {
        return Err(invalid("person", "already_erased"));
    }
    if st.store.person_held(person.id).await? {
        return Err(invalid("legal_hold", "held"));
    }
    let now = who.audit.at;
    let on = today(st);
    let mut audits: Vec<AuditEvent> = Vec::new();
    let mut withdraw = Vec::new();
    for c in st.store.consents(person.id).await? {
        if c.withdrawn_at.is_some() {
            continue;
        }
        withdraw.push(crate::store::ref_sql::ConsentWithdrawal {
            id: c.id,
            // A consent given today (or dated later by mistake) is withdrawn the day given.
            on: on.max(c.given_on),
            by: who.actor.user_id,
            at: now,
        });
        audits.push(
            who.audit
                .event("consent.withdraw", Outcome::Success)
                .target("consent", c.id)
                .org(Some(person.org_id))
                .detail(json!({ "case_id": c.case_id, "scope": c.scope, "reason": "erasure" })),
        );
    }
    let cases = st.store.cases_of_person(person.id).await?;
    let mut sent = Vec::new();
    for c in &cases {
        sent.extend(
            st.store
                .ref_by_case(c.id)
                .await?
                .into_iter()
                .filter(|r| r.direction == "out"),
        );
    }
    let recalls = crate::referrals::recalls(st, who, &sent, RecallReason::ConsentWithdrawn)?;
    audits.extend(recalls.audits);
    let numbers: Vec<String> = cases.iter().map(|c| c.number.clone()).collect();
    let out = Erasure {
        person_id: person.id,
        cases: numbers.clone(),
        consents_withdrawn: withdraw.len(),
        referrals_recalled: recalls.rows.len(),
    };
    audits.push(
        who.audit
            .event("person.erase", Outcome::Success)
            .target("person", person.id)
            .org(Some(person.org_id))
            .detail(json!({
                "cases": numbers,
                "consents_withdrawn": out.consents_withdrawn,
                "referrals_recalled": out.referrals_recalled,
            })),
    );
    let mut change = RefChange {
        withdraw,
        events: recalls.events,
        outgoing: recalls.outgoing,
        audits,
        anonymise: Some(anonymisation(st, person.id, WHY_ERASURE, now, None).await?),
        ..RefChange::default()
    };
    change.referrals = recalls.rows.iter().collect();
    match st.store.ref_apply(change).await {
        // A consent withdrawn or the person erased meanwhile: nothing was written.
        Err(StoreError::NotFound) => Err(invalid("person", "changed_meanwhile")),
        Err(StoreError::Conflict(_)) => Err(invalid("person", "changed_meanwhile")),
        other => {
            other?;
            purge(st).await;
            Ok(out)
        }
    }
}
