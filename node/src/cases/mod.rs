//! The case registry: what caseworkers do every day — find a person, register a case with
//! consent, follow services and proceedings, write the timeline, close the case.
//!
//! Every operation here, whoever calls it (pages, API, import):
//! 1. authorises the actor through `authz` (a case belongs to one organisation; only its
//!    caseworkers and coordinator read it; a national administrator reads identity only by
//!    breaking the glass with a written reason);
//! 2. checks the records with `puente_common::case` and reports every problem at once;
//! 3. seals identifying fields (names, documents, contacts, address, birth date, narrative,
//!    notes, guardian's name) bound to table, row and field, and indexes names and document
//!    numbers with keyed HMACs scoped to the organisation;
//! 4. writes the change and its audit entry (field names, never values) in one transaction.
//!
//! Reads are audited too (`case.read`, `case.list`, `person.search`).

pub mod api;
pub mod pages;
pub mod seal;
pub mod transfer;

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use puente_common::case::{
    document_token, name_tokens, CaseRecord, ConsentRecord, Issue, PersonRecord, ProceedingRecord,
    ServiceRecord,
};
use puente_common::derive;
use puente_common::vocab::codes::{CaseStatus, ClosureReason, ConsentScope};
use puente_common::vocab::Coded;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{AuditCtx, Outcome};
use crate::authz::{Action, Actor, Role};
use crate::error::{AppError, AppResult, FieldError};
use crate::store::cases::{
    CaseFilter, CaseRow, DraftRow, EntryKind, EntryRow, IndexToken, PersonRow, Registration,
    TimelineRow,
};
use crate::store::StoreError;
use seal::Sealer;

/// Rows per page of a case list.
pub const PAGE_SIZE: i64 = 50;

/// Who acts, and the audit context of the request.
#[derive(Debug, Clone, Copy)]
pub struct Who<'a> {
    pub actor: &'a Actor,
    pub audit: &'a AuditCtx,
}

/// Record problems as field errors under a prefix (`person.`, `case.`, `consents.0.`).
fn issues_to_fields(prefix: &str, issues: Vec<Issue>, out: &mut Vec<FieldError>) {
    out.extend(
        issues
            .into_iter()
            .map(|i| FieldError::new(format!("{prefix}{}", i.field), i.code)),
    );
}

pub(crate) fn today(st: &AppState) -> NaiveDate {
    st.clock.now().date_naive()
}

/// The organisation whose cases `who` works on, or `Forbidden` for `action`.
async fn own_org(st: &AppState, who: Who<'_>, action: Action, path: &str) -> AppResult<Uuid> {
    crate::admin::require(st, who.audit, who.actor, action, path).await?;
    who.actor.org_id.ok_or(AppError::Forbidden(action))
}

/// A case `who` may read (same organisation), or `NotFound` (existence is not revealed),
/// with the refusal audited.
pub(crate) async fn readable_case(
    st: &AppState,
    who: Who<'_>,
    id: Uuid,
    action: Action,
) -> AppResult<CaseRow> {
    let org = own_org(st, who, action, "case").await?;
    match st.store.case(id).await {
        // An anonymised case is kept for its coded facts only: nothing is added to it.
        Ok(c)
            if c.org_id == org
                && c.anonymised_at.is_some()
                && matches!(
                    action,
                    Action::EditCases | Action::ReassignCases | Action::SendReferral
                ) =>
        {
            Err(AppError::Invalid(vec![FieldError::new(
                "case",
                "anonymised",
            )]))
        }
        Ok(c) if c.org_id == org => Ok(c),
        Ok(_) | Err(StoreError::NotFound) => {
            crate::admin::deny(st, who.audit, "case_out_of_scope", &format!("case:{id}")).await?;
            Err(AppError::NotFound)
        }
        Err(e) => Err(e.into()),
    }
}

/// A person and their cases, as a duplicate check shows them.
#[derive(Debug, Clone, Serialize)]
pub struct PersonMatch {
    pub person_id: Uuid,
    pub given_names: String,
    pub family_names: String,
    pub birth_date: Option<NaiveDate>,
    pub cases: Vec<(String, String)>,
}

/// What a registration takes.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// A new person, or an existing one of the organisation.
    pub person: PersonChoice,
    pub case: CaseRecord,
    pub consents: Vec<ConsentRecord>,
    /// Defaults to the registering caseworker.
    pub caseworker_id: Option<Uuid>,
    /// Registering without a case-management consent needs this (and the permission).
    pub consent_override_reason: Option<String>,
}

#[derive(Debug, Clone)]
pub enum PersonChoice {
    New(Box<PersonRecord>),
    Existing(Uuid),
}

/// A stored case's number and id.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRef {
    pub id: Uuid,
    pub number: String,
}

fn exploitation_column(case: &CaseRecord) -> String {
    let codes: Vec<&str> = case
        .process
        .exploitation_types
        .iter()
        .map(|t| t.code())
        .collect();
    format!(",{},", codes.join(","))
}

pub(crate) fn index_tokens(s: &Sealer<'_>, org: Uuid, person: &PersonRecord) -> Vec<IndexToken> {
    let id = &person.identity;
    let names = format!("{} {}", id.given_names, id.family_names);
    let mut out: Vec<IndexToken> = name_tokens(&names)
        .into_iter()
        .map(|t| IndexToken {
            kind: "name",
            token: s.blind(org, "name", &t),
        })
        .collect();
    out.extend(
        id.documents
            .iter()
            .filter_map(|d| document_token(&d.number))
            .map(|t| IndexToken {
                kind: "document",
                token: s.blind(org, "document", &t),
            }),
    );
    out
}

/// Checks the consents of a registration: each on its own, plus a case-management consent
/// (or an override).
fn check_consents(
    person: &PersonRecord,
    consents: &[ConsentRecord],
    today: NaiveDate,
    errors: &mut Vec<FieldError>,
) {
    for (i, c) in consents.iter().enumerate() {
        let age = person
            .identity
            .birth_date
            .and_then(|b| derive::age_on(b, c.given_on));
        issues_to_fields(&format!("consents.{i}."), c.check(age, today), errors);
    }
}

/// Finds persons of the actor's organisation by name words and/or a document number, before
/// registering, so that one person is not registered twice. The search text is not audited,
/// only that a search was made and how many it found.
pub async fn find_persons(
    st: &AppState,
    who: Who<'_>,
    name: &str,
    document: &str,
) -> AppResult<Vec<PersonMatch>> {
    let org = own_org(st, who, Action::ViewCases, "person_search").await?;
    let s = Sealer::new(st);
    let mut tokens: Vec<IndexToken> = name_tokens(name)
        .into_iter()
        .map(|t| IndexToken {
            kind: "name",
            token: s.blind(org, "name", &t),
        })
        .collect();
    if let Some(t) = document_token(document) {
        tokens.push(IndexToken {
            kind: "document",
            token: s.blind(org, "document", &t),
        });
    }
    let ids = st.store.persons_with_tokens(org, &tokens).await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids.iter().take(20) {
        let p = st.store.person(*id).await?;
        let identity = s.open_identity(&p)?;
        let cases = st
            .store
            .cases_of_person(*id)
            .await?
            .into_iter()
            .map(|c| (c.number, c.status))
            .collect();
        out.push(PersonMatch {
            person_id: *id,
            given_names: identity.given_names,
            family_names: identity.family_names,
            birth_date: identity.birth_date,
            cases,
        });
    }
    let by = match (name.trim().is_empty(), document.trim().is_empty()) {
        (false, false) => "name_and_document",
        (false, true) => "name",
        _ => "document",
    };
    let ev = who
        .audit
        .event("person.search", Outcome::Success)
        .detail(json!({ "by": by, "results": out.len() }));
    st.store.append_audit(&ev).await?;
    Ok(out)
}

/// Builds the rows of one registration without writing them (shared by [`register`] and
/// the importer, which writes many at once).
pub async fn prepare(st: &AppState, who: Who<'_>, input: NewCase) -> AppResult<Registration> {
    let org_id = own_org(st, who, Action::EditCases, "case_register").await?;
    let org = st.store.org(org_id).await?;
    let now = who.audit.at;
    let today = now.date_naive();
    let mut errors = Vec::new();
    let (person_id, person_rows, person) = match input.person {
        PersonChoice::New(p) => {
            issues_to_fields("person.", p.check(today), &mut errors);
            (Uuid::now_v7(), true, *p)
        }
        PersonChoice::Existing(id) => match st.store.person(id).await {
            Ok(row) if row.org_id == org_id => {
                let s = Sealer::new(st);
                (id, false, s.open_person(&row)?)
            }
            Ok(_) | Err(StoreError::NotFound) => {
                errors.push(FieldError::new("person_id", "invalid"));
                (id, false, PersonRecord::default())
            }
            Err(e) => return Err(e.into()),
        },
    };
    issues_to_fields("case.", input.case.check(today), &mut errors);
    check_consents(&person, &input.consents, today, &mut errors);
    let has_case_consent = input
        .consents
        .iter()
        .any(|c| c.scope == ConsentScope::CaseManagement);
    let override_reason = input
        .consent_override_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if !has_case_consent {
        match override_reason {
            None => errors.push(FieldError::new(
                "consents",
                "case_management_consent_required",
            )),
            Some(r) if r.chars().count() < 20 => errors.push(FieldError::new(
                "consent_override_reason",
                "reason_too_short",
            )),
            Some(_) if !who.actor.can(Action::OverrideConsent) => {
                errors.push(FieldError::new("consent_override_reason", "not_permitted"))
            }
            Some(_) => {}
        }
    }
    let caseworker_id = match input.caseworker_id {
        Some(id) => match st.store.user(id).await {
            Ok(u)
                if u.org_id == Some(org_id)
                    && !u.disabled
                    && matches!(u.role, Role::Caseworker | Role::OrgAdmin) =>
            {
                Some(id)
            }
            Ok(_) | Err(StoreError::NotFound) => {
                errors.push(FieldError::new("caseworker_id", "invalid"));
                None
            }
            Err(e) => return Err(e.into()),
        },
        None => Some(who.actor.user_id),
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let s = Sealer::new(st);
    let case_id = Uuid::now_v7();
    let person_row = person_rows.then(|| {
        let row = PersonRow {
            id: person_id,
            org_id,
            identity: s.seal_identity(person_id, &person.identity),
            profile: seal::profile_json(&person),
            key_id: s.key_id(),
            created_by: Some(who.actor.user_id),
            created_at: now,
            updated_at: now,
            anonymised_at: None,
            anonymised_why: None,
        };
        (row, index_tokens(&s, org_id, &person))
    });
    let closed = matches!(
        input.case.status,
        CaseStatus::Closed | CaseStatus::ClosedReferred
    );
    let case = CaseRow {
        id: case_id,
        person_id,
        org_id,
        number: String::new(),
        year: input.case.registration_date.year(),
        seq: 0,
        caseworker_id,
        status: input.case.status.code().into(),
        intake_channel: input.case.intake_channel.code().into(),
        registration_date: input.case.registration_date,
        trafficking_status: input.case.trafficking_status.map(|t| t.code().to_owned()),
        exploitation: exploitation_column(&input.case),
        narrative: s.seal_text("cases", case_id, "narrative", &input.case.narrative),
        record: seal::record_json(&input.case),
        key_id: s.key_id(),
        version: 1,
        created_by: Some(who.actor.user_id),
        created_at: now,
        updated_at: now,
        closed_at: closed.then_some(now),
        anonymised_at: None,
    };
    let consents = input
        .consents
        .iter()
        .map(|c| s.consent_row(c, person_id, Some(case_id), who.actor.user_id, now))
        .collect();
    let mut timeline = vec![TimelineRow {
        id: Uuid::now_v7(),
        case_id,
        at: now,
        author_id: Some(who.actor.user_id),
        kind: "case.registered".into(),
        body: None,
        key_id: s.key_id(),
    }];
    if let (false, Some(reason)) = (has_case_consent, override_reason) {
        timeline.push(TimelineRow {
            id: Uuid::now_v7(),
            case_id,
            at: now,
            author_id: Some(who.actor.user_id),
            kind: "consent.override".into(),
            body: s.seal_text("timeline", case_id, "body", reason),
            key_id: s.key_id(),
        });
    }
    let audit = who
        .audit
        .event(
            if has_case_consent {
                "case.create"
            } else {
                "case.create_consent_override"
            },
            Outcome::Success,
        )
        .target("case", case_id)
        .org(Some(org_id))
        .detail(json!({
            "person": if person_rows { "new" } else { "existing" },
            "person_id": person_id,
            "consents": input.consents.iter().map(|c| c.scope.code()).collect::<Vec<_>>(),
        }));
    Ok(Registration {
        person: person_row,
        case,
        prefix: format!("{}-{}", st.config.country, org.code),
        consents,
        timeline,
        audit,
    })
}

/// Registers a case (and a new person, and their consents) all at once.
pub async fn register(st: &AppState, who: Who<'_>, input: NewCase) -> AppResult<CaseRef> {
    let reg = prepare(st, who, input).await?;
    let mut rows = st.store.register_cases(std::slice::from_ref(&reg)).await?;
    let row = rows
        .pop()
        .ok_or_else(|| AppError::internal("registration returned no case"))?;
    Ok(CaseRef {
        id: row.id,
        number: row.number,
    })
}

/// One consent as shown on the case page.
#[derive(Debug, Clone, Serialize)]
pub struct ConsentView {
    pub id: Uuid,
    pub record: ConsentRecord,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    pub withdrawn_on: Option<NaiveDate>,
    pub in_force: bool,
}

/// A service or proceeding with its id.
#[derive(Debug, Clone, Serialize)]
pub struct EntryView<T> {
    pub id: Uuid,
    pub record: T,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// A timeline entry.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineView {
    pub at: chrono::DateTime<chrono::Utc>,
    pub author: Option<String>,
    pub kind: String,
    pub body: String,
}

/// Everything about a case, identity included.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub id: Uuid,
    pub number: String,
    pub version: i32,
    pub org_id: Uuid,
    pub person_id: Uuid,
    pub person: PersonRecord,
    pub case: CaseRecord,
    pub caseworker_id: Option<Uuid>,
    pub caseworker: Option<String>,
    pub age_at_registration: Option<u32>,
    pub minor_at_registration: Option<bool>,
    pub palermo_elements_met: bool,
    pub consents: Vec<ConsentView>,
    pub services: Vec<EntryView<ServiceRecord>>,
    pub proceedings: Vec<EntryView<ProceedingRecord>>,
    pub timeline: Vec<TimelineView>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When the person was anonymised, and why (`retention`, `erasure`): the case is then
    /// read-only.
    pub anonymised_at: Option<chrono::DateTime<chrono::Utc>>,
    pub anonymised_why: Option<String>,
}

async fn view(st: &AppState, row: CaseRow) -> AppResult<CaseView> {
    let s = Sealer::new(st);
    let person_row = st.store.person(row.person_id).await?;
    let person = s.open_person(&person_row)?;
    let case = s.open_case(&row)?;
    let today = today(st);
    let consents = st
        .store
        .consents(row.person_id)
        .await?
        .iter()
        .map(|c| {
            let record = s.open_consent(c)?;
            let in_force = c.withdrawn_on.is_none() && record.in_force_on(today);
            Ok(ConsentView {
                id: c.id,
                record,
                recorded_at: c.recorded_at,
                withdrawn_on: c.withdrawn_on,
                in_force,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let services = st
        .store
        .entries(EntryKind::Service, row.id)
        .await?
        .iter()
        .map(|e| {
            Ok(EntryView {
                id: e.id,
                record: s.open_entry::<ServiceRecord>(EntryKind::Service, e)?,
                updated_at: e.updated_at,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let proceedings = st
        .store
        .entries(EntryKind::Proceeding, row.id)
        .await?
        .iter()
        .map(|e| {
            Ok(EntryView {
                id: e.id,
                record: s.open_entry::<ProceedingRecord>(EntryKind::Proceeding, e)?,
                updated_at: e.updated_at,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let mut names = std::collections::HashMap::new();
    let mut timeline = Vec::new();
    for t in st.store.timeline(row.id).await? {
        let author = match t.author_id {
            Some(id) => {
                if let std::collections::hash_map::Entry::Vacant(v) = names.entry(id) {
                    v.insert(st.store.user(id).await.ok().map(|u| u.display_name));
                }
                names.get(&id).cloned().flatten()
            }
            None => None,
        };
        let body = match &t.body {
            Some(b) => s.open_text("timeline", t.case_id, "body", b)?,
            None => String::new(),
        };
        timeline.push(TimelineView {
            at: t.at,
            author,
            kind: t.kind,
            body,
        });
    }
    let caseworker = match row.caseworker_id {
        Some(id) => st.store.user(id).await.ok().map(|u| u.display_name),
        None => None,
    };
    let age = person.age_on(case.registration_date);
    let minor = age
        .map(derive::is_minor)
        .or(case.process.age_when_trafficked.map(derive::is_minor));
    let palermo = derive::palermo_elements_met(
        &case.process.acts,
        &case.process.means,
        &case.process.exploitation_types,
        minor.unwrap_or(false),
    );
    Ok(CaseView {
        id: row.id,
        number: row.number,
        version: row.version,
        org_id: row.org_id,
        person_id: row.person_id,
        person,
        case,
        caseworker_id: row.caseworker_id,
        caseworker,
        age_at_registration: age,
        minor_at_registration: age.map(derive::is_minor),
        palermo_elements_met: palermo,
        consents,
        services,
        proceedings,
        timeline,
        created_at: row.created_at,
        updated_at: row.updated_at,
        closed_at: row.closed_at,
        anonymised_at: person_row.anonymised_at,
        anonymised_why: person_row.anonymised_why.clone(),
    })
}

/// Reads a whole case (audited).
pub async fn read(st: &AppState, who: Who<'_>, id: Uuid) -> AppResult<CaseView> {
    let row = readable_case(st, who, id, Action::ViewCases).await?;
    let ev = who
        .audit
        .event("case.read", Outcome::Success)
        .target("case", id)
        .org(Some(row.org_id));
    st.store.append_audit(&ev).await?;
    view(st, row).await
}

/// A national administrator opens a case of any organisation, giving a reason (audited as
/// `case.break_glass`, with the reason, for the other administrators and auditors to see).
pub async fn break_glass(
    st: &AppState,
    who: Who<'_>,
    id: Uuid,
    reason: &str,
) -> AppResult<CaseView> {
    crate::admin::require(
        st,
        who.audit,
        who.actor,
        Action::BreakGlass,
        "case_break_glass",
    )
    .await?;
    let reason = reason.trim();
    if reason.chars().count() < 20 {
        return Err(AppError::Invalid(vec![FieldError::new(
            "reason",
            "reason_too_short",
        )]));
    }
    let row = st.store.case(id).await?;
    let ev = who
        .audit
        .event("case.break_glass", Outcome::Success)
        .target("case", id)
        .org(Some(row.org_id))
        .detail(json!({ "reason": reason }));
    st.store.append_audit(&ev).await?;
    view(st, row).await
}

/// A row of the case list.
#[derive(Debug, Clone, Serialize)]
pub struct CaseSummary {
    pub id: Uuid,
    pub number: String,
    /// Only for readers of the organisation's cases; never on the national index.
    pub person_name: Option<String>,
    pub status: String,
    pub registration_date: NaiveDate,
    pub trafficking_status: Option<String>,
    pub exploitation: Vec<String>,
    pub caseworker_id: Option<Uuid>,
}

/// What a case list may be filtered by. Empty strings mean any.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub status: Option<String>,
    pub trafficking_status: Option<String>,
    pub exploitation: Option<String>,
    pub caseworker_id: Option<Uuid>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Words of a name, or a document number.
    pub search: Option<String>,
    /// 1-based.
    pub page: i64,
}

/// A page of cases.
#[derive(Debug, Clone, Serialize)]
pub struct CaseList {
    pub items: Vec<CaseSummary>,
    pub page: i64,
    pub total: i64,
}

/// Lists the organisation's cases (a national administrator: the node's index, without
/// names). Audited with the ids shown.
pub async fn list(st: &AppState, who: Who<'_>, q: &ListQuery) -> AppResult<CaseList> {
    let node_index = !who.actor.can(Action::ViewCases) && who.actor.can(Action::ViewCaseIndex);
    let org = if node_index {
        None
    } else {
        Some(own_org(st, who, Action::ViewCases, "case_list").await?)
    };
    let s = Sealer::new(st);
    let person_ids = match (
        q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()),
        org,
    ) {
        (Some(text), Some(org)) => {
            let mut tokens: Vec<IndexToken> = name_tokens(text)
                .into_iter()
                .map(|t| IndexToken {
                    kind: "name",
                    token: s.blind(org, "name", &t),
                })
                .collect();
            let by_name = st.store.persons_with_tokens(org, &tokens).await?;
            tokens.clear();
            let by_doc = match document_token(text) {
                Some(t) => {
                    st.store
                        .persons_with_tokens(
                            org,
                            &[IndexToken {
                                kind: "document",
                                token: s.blind(org, "document", &t),
                            }],
                        )
                        .await?
                }
                None => Vec::new(),
            };
            let all: BTreeSet<Uuid> = by_name.into_iter().chain(by_doc).collect();
            Some(all.into_iter().collect())
        }
        (Some(_), None) => Some(Vec::new()),
        _ => None,
    };
    let filter = CaseFilter {
        org_id: org,
        status: q.status.clone(),
        trafficking_status: q.trafficking_status.clone(),
        exploitation: q.exploitation.clone(),
        caseworker_id: q.caseworker_id,
        from: q.from,
        to: q.to,
        person_ids,
    };
    let page = q.page.max(1);
    let rows = st
        .store
        .cases(&filter, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        .await?;
    let total = st.store.count_cases(&filter).await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        let person_name = if node_index {
            None
        } else {
            let p = st.store.person(r.person_id).await?;
            let id = s.open_identity(&p)?;
            Some(
                format!("{} {}", id.given_names, id.family_names)
                    .trim()
                    .to_owned(),
            )
        };
        items.push(CaseSummary {
            id: r.id,
            number: r.number,
            person_name,
            status: r.status,
            registration_date: r.registration_date,
            trafficking_status: r.trafficking_status,
            exploitation: r
                .exploitation
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            caseworker_id: r.caseworker_id,
        });
    }
    let ev = who
        .audit
        .event("case.list", Outcome::Success)
        .org(org)
        .detail(json!({
            "page": page,
            "total": total,
            "searched": q.search.as_deref().is_some_and(|s| !s.trim().is_empty()),
            "cases": items.iter().map(|i| i.id).collect::<Vec<_>>(),
        }));
    st.store.append_audit(&ev).await?;
    Ok(CaseList { items, page, total })
}

/// The names of the top-level and `process.` fields that differ between two records.
fn changed_fields(before: &serde_json::Value, after: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(b), Some(a)) = (before.as_object(), after.as_object()) {
        let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
        for k in keys {
            let (bv, av) = (b.get(k), a.get(k));
            if bv == av {
                continue;
            }
            match (bv, av) {
                (
                    Some(bo @ serde_json::Value::Object(_)),
                    Some(ao @ serde_json::Value::Object(_)),
                ) => {
                    out.extend(
                        changed_fields(bo, ao)
                            .into_iter()
                            .map(|f| format!("{k}.{f}")),
                    );
                }
                _ => out.push(k.clone()),
            }
        }
    }
    out
}

/// Saves a changed case record; `version` is the one the editor saw (`Conflict("version")`
/// when someone saved in between). Audited with the names of the changed fields.
pub async fn update(
    st: &AppState,
    who: Who<'_>,
    id: Uuid,
    version: i32,
    record: CaseRecord,
) -> AppResult<()> {
    let mut row = readable_case(st, who, id, Action::EditCases).await?;
    if row.version != version {
        return Err(AppError::Conflict("version"));
    }
    let issues = record.check(today(st));
    if !issues.is_empty() {
        let mut errors = Vec::new();
        issues_to_fields("case.", issues, &mut errors);
        return Err(AppError::Invalid(errors));
    }
    let s = Sealer::new(st);
    let before = s.open_case(&row)?;
    let fields = changed_fields(
        &serde_json::to_value(&before).map_err(AppError::internal)?,
        &serde_json::to_value(&record).map_err(AppError::internal)?,
    );
    if fields.is_empty() {
        return Ok(());
    }
    let now = who.audit.at;
    let closing = matches!(
        record.status,
        CaseStatus::Closed | CaseStatus::ClosedReferred
    );
    row.status = record.status.code().into();
    row.intake_channel = record.intake_channel.code().into();
    row.registration_date = record.registration_date;
    row.trafficking_status = record.trafficking_status.map(|t| t.code().to_owned());
    row.exploitation = exploitation_column(&record);
    row.narrative = s.seal_text("cases", id, "narrative", &record.narrative);
    row.record = seal::record_json(&record);
    row.version += 1;
    row.updated_at = now;
    row.closed_at = match (closing, row.closed_at) {
        (true, Some(t)) => Some(t),
        (true, None) => Some(now),
        (false, _) => None,
    };
    let ev = who
        .audit
        .event("case.update", Outcome::Success)
        .target("case", id)
        .org(Some(row.org_id))
        .detail(json!({ "fields": fields, "version": row.version }));
    st.store.update_case(&row, &ev).await?;
    Ok(())
}

/// Updates the person of a case of the actor's organisation (audited with field names).
pub async fn update_person(
    st: &AppState,
    who: Who<'_>,
    person_id: Uuid,
    record: PersonRecord,
) -> AppResult<()> {
    let org = own_org(st, who, Action::EditCases, "person_update").await?;
    let mut row = match st.store.person(person_id).await {
        Ok(p) if p.org_id == org && p.anonymised_at.is_some() => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "person",
                "anonymised",
            )]))
        }
        Ok(p) if p.org_id == org => p,
        Ok(_) | Err(StoreError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let issues = record.check(today(st));
    if !issues.is_empty() {
        let mut errors = Vec::new();
        issues_to_fields("person.", issues, &mut errors);
        return Err(AppError::Invalid(errors));
    }
    let s = Sealer::new(st);
    let before = s.open_person(&row)?;
    let fields = changed_fields(
        &serde_json::to_value(&before).map_err(AppError::internal)?,
        &serde_json::to_value(&record).map_err(AppError::internal)?,
    );
    if fields.is_empty() {
        return Ok(());
    }
    row.identity = s.seal_identity(person_id, &record.identity);
    row.profile = seal::profile_json(&record);
    row.updated_at = who.audit.at;
    let ev = who
        .audit
        .event("person.update", Outcome::Success)
        .target("person", person_id)
        .org(Some(org))
        .detail(json!({ "fields": fields }));
    st.store
        .update_person(&row, &index_tokens(&s, org, &record), &ev)
        .await?;
    Ok(())
}

/// Closes a case with a reason and an optional closing note.
pub async fn close(
    st: &AppState,
    who: Who<'_>,
    id: Uuid,
    version: i32,
    referred: bool,
    reason: ClosureReason,
    note: &str,
) -> AppResult<()> {
    let row = readable_case(st, who, id, Action::EditCases).await?;
    let mut record = Sealer::new(st).open_case(&row)?;
    record.status = if referred {
        CaseStatus::ClosedReferred
    } else {
        CaseStatus::Closed
    };
    record.closure_reason = Some(reason);
    update(st, who, id, version, record).await?;
    add_timeline(st, who, id, "case.closed", note).await
}

/// Gives the case to another caseworker of the organisation (coordinators only).
pub async fn reassign(st: &AppState, who: Who<'_>, id: Uuid, caseworker_id: Uuid) -> AppResult<()> {
    let mut row = readable_case(st, who, id, Action::ReassignCases).await?;
    match st.store.user(caseworker_id).await {
        Ok(u)
            if u.org_id == Some(row.org_id)
                && !u.disabled
                && matches!(u.role, Role::Caseworker | Role::OrgAdmin) => {}
        Ok(_) | Err(StoreError::NotFound) => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "caseworker_id",
                "invalid",
            )]))
        }
        Err(e) => return Err(e.into()),
    }
    row.caseworker_id = Some(caseworker_id);
    row.version += 1;
    row.updated_at = who.audit.at;
    let ev = who
        .audit
        .event("case.reassign", Outcome::Success)
        .target("case", id)
        .org(Some(row.org_id))
        .detail(json!({ "caseworker_id": caseworker_id }));
    st.store.update_case(&row, &ev).await?;
    Ok(())
}

async fn add_timeline(
    st: &AppState,
    who: Who<'_>,
    case_id: Uuid,
    kind: &str,
    body: &str,
) -> AppResult<()> {
    let s = Sealer::new(st);
    let t = TimelineRow {
        id: Uuid::now_v7(),
        case_id,
        at: who.audit.at,
        author_id: Some(who.actor.user_id),
        kind: kind.to_owned(),
        body: s.seal_text("timeline", case_id, "body", body),
        key_id: s.key_id(),
    };
    let ev = who
        .audit
        .event("case.timeline_add", Outcome::Success)
        .target("case", case_id)
        .detail(json!({ "kind": kind }));
    st.store.add_timeline(&t, &ev).await?;
    Ok(())
}

/// Adds a note to the case's timeline (append-only).
pub async fn add_note(st: &AppState, who: Who<'_>, case_id: Uuid, text: &str) -> AppResult<()> {
    readable_case(st, who, case_id, Action::EditCases).await?;
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::Invalid(vec![FieldError::new("note", "required")]));
    }
    if text.chars().count() > 20_000 {
        return Err(AppError::Invalid(vec![FieldError::new("note", "too_long")]));
    }
    add_timeline(st, who, case_id, "note", text).await
}

/// Records a consent given for the case's person.
pub async fn add_consent(
    st: &AppState,
    who: Who<'_>,
    case_id: Uuid,
    record: ConsentRecord,
) -> AppResult<Uuid> {
    let row = readable_case(st, who, case_id, Action::EditCases).await?;
    let s = Sealer::new(st);
    let person = s.open_person(&st.store.person(row.person_id).await?)?;
    let mut errors = Vec::new();
    check_consents(
        &person,
        std::slice::from_ref(&record),
        today(st),
        &mut errors,
    );
    if !errors.is_empty() {
        let errors = errors
            .into_iter()
            .map(|e| FieldError::new(e.field.trim_start_matches("consents.0."), e.code))
            .collect();
        return Err(AppError::Invalid(errors));
    }
    let c = s.consent_row(
        &record,
        row.person_id,
        Some(case_id),
        who.actor.user_id,
        who.audit.at,
    );
    let ev = who
        .audit
        .event("consent.add", Outcome::Success)
        .target("consent", c.id)
        .org(Some(row.org_id))
        .detail(json!({ "case_id": case_id, "scope": record.scope.code(), "destination": record.destination_country }));
    st.store.add_consent(&c, &ev).await?;
    Ok(c.id)
}

/// Records that a consent was withdrawn on `on`. The consent itself is kept, as history.
pub async fn withdraw_consent(
    st: &AppState,
    who: Who<'_>,
    case_id: Uuid,
    consent_id: Uuid,
    on: NaiveDate,
) -> AppResult<()> {
    let row = readable_case(st, who, case_id, Action::EditCases).await?;
    let c = st.store.consent(consent_id).await?;
    if c.person_id != row.person_id {
        return Err(AppError::NotFound);
    }
    if on > today(st) || on < c.given_on {
        return Err(AppError::Invalid(vec![FieldError::new(
            "withdrawn_on",
            "invalid",
        )]));
    }
    let ev = who
        .audit
        .event("consent.withdraw", Outcome::Success)
        .target("consent", consent_id)
        .org(Some(row.org_id))
        .detail(json!({ "case_id": case_id, "scope": c.scope }));
    // Withdrawal travels: every referral sent under a referral consent is recalled in the
    // same transaction as the withdrawal.
    if c.scope == ConsentScope::Referral.code() {
        return crate::referrals::withdraw_with_recalls(st, who, consent_id, on, ev).await;
    }
    match st
        .store
        .withdraw_consent(consent_id, on, who.actor.user_id, who.audit.at, &ev)
        .await
    {
        Err(StoreError::NotFound) => Err(AppError::Invalid(vec![FieldError::new(
            "consent",
            "already_withdrawn",
        )])),
        other => Ok(other?),
    }
}

/// A service or proceeding record with its notes sealed.
pub trait Entry: Serialize + serde::de::DeserializeOwned + Clone {
    const KIND: EntryKind;
    fn check(&self, today: NaiveDate) -> Vec<Issue>;
    fn notes(&self) -> &str;
    fn without_notes(&self) -> Self;
    fn with_notes(self, notes: String) -> Self;
}

impl Entry for ServiceRecord {
    const KIND: EntryKind = EntryKind::Service;
    fn check(&self, today: NaiveDate) -> Vec<Issue> {
        ServiceRecord::check(self, today)
    }
    fn notes(&self) -> &str {
        &self.notes
    }
    fn without_notes(&self) -> Self {
        ServiceRecord {
            notes: String::new(),
            ..self.clone()
        }
    }
    fn with_notes(self, notes: String) -> Self {
        ServiceRecord { notes, ..self }
    }
}

impl Entry for ProceedingRecord {
    const KIND: EntryKind = EntryKind::Proceeding;
    fn check(&self, today: NaiveDate) -> Vec<Issue> {
        ProceedingRecord::check(self, today)
    }
    fn notes(&self) -> &str {
        &self.notes
    }
    fn without_notes(&self) -> Self {
        ProceedingRecord {
            notes: String::new(),
            ..self.clone()
        }
    }
    fn with_notes(self, notes: String) -> Self {
        ProceedingRecord { notes, ..self }
    }
}

fn entry_action(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Service => "service",
        EntryKind::Proceeding => "proceeding",
    }
}

/// Adds a service or proceeding step to a case (or, with `entry_id`, replaces one).
pub async fn save_entry<T: Entry>(
    st: &AppState,
    who: Who<'_>,
    case_id: Uuid,
    entry_id: Option<Uuid>,
    record: T,
) -> AppResult<Uuid> {
    let row = readable_case(st, who, case_id, Action::EditCases).await?;
    let issues = record.check(today(st));
    if !issues.is_empty() {
        let mut errors = Vec::new();
        issues_to_fields("", issues, &mut errors);
        return Err(AppError::Invalid(errors));
    }
    let s = Sealer::new(st);
    let now = who.audit.at;
    let id = entry_id.unwrap_or_else(Uuid::now_v7);
    let e = EntryRow {
        id,
        case_id,
        record: serde_json::to_string(&record.without_notes()).map_err(AppError::internal)?,
        notes: s.seal_text(T::KIND.table(), id, "notes", record.notes()),
        key_id: s.key_id(),
        created_at: now,
        updated_at: now,
    };
    let verb = if entry_id.is_some() { "update" } else { "add" };
    let ev = who
        .audit
        .event(
            &format!("{}.{verb}", entry_action(T::KIND)),
            Outcome::Success,
        )
        .target(entry_action(T::KIND), id)
        .org(Some(row.org_id))
        .detail(json!({ "case_id": case_id }));
    match entry_id {
        Some(eid) => {
            let old = st.store.entry(T::KIND, eid).await?;
            if old.case_id != case_id {
                return Err(AppError::NotFound);
            }
            st.store
                .update_entry(
                    T::KIND,
                    &EntryRow {
                        created_at: old.created_at,
                        ..e
                    },
                    &ev,
                )
                .await?;
        }
        None => st.store.add_entry(T::KIND, &e, &ev).await?,
    }
    Ok(id)
}

/// Keeps a half-filled form for its user (sealed: it may hold a name).
pub async fn save_draft(
    st: &AppState,
    who: Who<'_>,
    kind: &str,
    form: &serde_json::Value,
) -> AppResult<()> {
    let s = Sealer::new(st);
    let id = Uuid::now_v7();
    let d = DraftRow {
        id,
        user_id: who.actor.user_id,
        kind: kind.to_owned(),
        form: s.seal_json("drafts", who.actor.user_id, kind, form),
        key_id: s.key_id(),
        updated_at: who.audit.at,
    };
    st.store.save_draft(&d).await?;
    Ok(())
}

/// The user's half-filled form of `kind`, if any.
pub async fn draft(
    st: &AppState,
    who: Who<'_>,
    kind: &str,
) -> AppResult<Option<serde_json::Value>> {
    match st.store.draft(who.actor.user_id, kind).await {
        Ok(d) => Ok(Some(Sealer::new(st).open_json(
            "drafts",
            who.actor.user_id,
            kind,
            &d.form,
        )?)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Discards the user's draft of `kind`.
pub async fn discard_draft(st: &AppState, who: Who<'_>, kind: &str) -> AppResult<()> {
    st.store.delete_draft(who.actor.user_id, kind).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::changed_fields;
    use serde_json::json;

    #[test]
    fn changed_fields_names_nested_process_fields() {
        let a = json!({ "status": "ACTIVE", "process": { "means": ["FRAUD"], "acts": [] }, "narrative": "x" });
        let b = json!({ "status": "CLOSED", "process": { "means": ["FRAUD", "DECEPTION"], "acts": [] }, "narrative": "x" });
        assert_eq!(
            changed_fields(&a, &b),
            vec!["process.means".to_owned(), "status".to_owned()]
        );
        assert!(changed_fields(&a, &a).is_empty());
    }
}
