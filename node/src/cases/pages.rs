//! The case registry's pages: the case list (or, for a national administrator, the node's
//! index without names), registration in steps with a saved draft, the case page with its
//! forms (consents, services, proceedings, timeline, closing, reassigning), editing a case
//! and a person, and breaking the glass.
//!
//! Handlers only translate between forms and records: every read and write goes through the
//! service layer (`super`), which authorises, checks and audits. Handlers check the route's
//! action first (audited refusal) so that a refused request never reaches input parsing.
//!
//! Form fields are named after the paths of the errors the records and the service report
//! (`person.identity.given_names`, `case.process.exploitation_end`, …) so that an error
//! lands next to its field. Nothing from a form is logged.

use std::collections::BTreeSet;
use std::str::FromStr;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;
use puente_common::case::{
    CaseRecord, ConsentRecord, Contact, IdDocument, PartialDate, PersonRecord, ProceedingRecord,
    ServiceRecord,
};
use puente_common::derive;
use puente_common::vocab::codes::{
    CaseStatus, ClosureReason, ConsentGivenBy, ConsentScope, ControlMethod, Education,
    ExploitationType, Gender, IntakeChannel, MaritalStatus, Means, MigrantType, MigrationContext,
    ProceedingStage, ProtectionStatus, RecruiterRelation, RecruitmentMethod, ReferralFieldGroup,
    ServiceStatus, ServiceType, SexualExploitationType, StatusDecidedBy, TraffickingAct,
    TraffickingStatus, Verdict,
};
use puente_common::vocab::{geo, isic, languages, Coded};
use puente_common::CountryCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{CaseView, ListQuery, NewCase, PersonChoice, Who};
use crate::admin::{require, when};
use crate::app::AppState;
use crate::authz::{Action, Role};
use crate::error::{AppError, AppResult, FieldError};
use crate::web::{merge, Lang, SignedIn};

/// The routes of this module, with the action each needs (same format as `app::ROUTES`).
/// `GET /cases` needs `view_cases`, or `view_case_index` for the node-wide index.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/cases/export/{format}", "export_cases"),
    ("GET", "/cases", "view_cases"),
    ("GET", "/cases/new", "edit_cases"),
    ("POST", "/cases/new", "edit_cases"),
    ("GET", "/cases/{id}", "view_cases"),
    ("GET", "/cases/{id}/edit", "edit_cases"),
    ("POST", "/cases/{id}/edit", "edit_cases"),
    ("POST", "/cases/{id}/notes", "edit_cases"),
    ("POST", "/cases/{id}/consents", "edit_cases"),
    ("POST", "/cases/{id}/consents/withdraw", "edit_cases"),
    ("POST", "/cases/{id}/services", "edit_cases"),
    ("POST", "/cases/{id}/proceedings", "edit_cases"),
    ("POST", "/cases/{id}/close", "edit_cases"),
    ("POST", "/cases/{id}/reassign", "reassign_cases"),
    ("POST", "/cases/{id}/legal-hold", "manage_legal_hold"),
    (
        "POST",
        "/cases/{id}/legal-hold/release",
        "manage_legal_hold",
    ),
    ("GET", "/cases/{id}/erase", "erase_person"),
    ("POST", "/cases/{id}/erase", "erase_person"),
    ("GET", "/cases/{id}/break-glass", "break_glass"),
    ("POST", "/cases/{id}/break-glass", "break_glass"),
    ("GET", "/persons/{id}/edit", "edit_cases"),
    ("POST", "/persons/{id}/edit", "edit_cases"),
];

/// The pages' router (to be merged inside the web context layer).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases", get(list))
        .route("/cases/new", get(new_form).post(new_submit))
        .route("/cases/export/{format}", get(super::transfer::download))
        .route("/cases/{id}", get(show))
        .route("/cases/{id}/edit", get(edit_form).post(edit_submit))
        .route("/cases/{id}/notes", post(add_note))
        .route("/cases/{id}/consents", post(add_consent))
        .route("/cases/{id}/consents/withdraw", post(withdraw_consent))
        .route("/cases/{id}/services", post(save_service))
        .route("/cases/{id}/proceedings", post(save_proceeding))
        .route("/cases/{id}/close", post(close))
        .route("/cases/{id}/reassign", post(reassign))
        .route("/cases/{id}/legal-hold", post(place_hold))
        .route("/cases/{id}/legal-hold/release", post(release_hold))
        .route("/cases/{id}/erase", get(erase_form).post(erase_submit))
        .route(
            "/cases/{id}/break-glass",
            get(break_glass_form).post(break_glass_submit),
        )
        .route(
            "/persons/{id}/edit",
            get(person_edit_form).post(person_edit_submit),
        )
}

/// Draft kind of the registration form.
const DRAFT_KIND: &str = "new_case";
/// Document and contact rows a person form offers at most.
const SLOTS: usize = 10;

type Fields = Map<String, Value>;

/// Fields whose name repeats (checkbox groups, repeated selects): kept as lists.
const MANY: &[&str] = &[
    "person.citizenship",
    "person.languages",
    "person.migration_context",
    "case.process.acts",
    "case.process.means",
    "case.process.control_methods",
    "case.process.exploitation_types",
    "case.process.sexual_exploitation_types",
    "case.process.recruitment_methods",
    "consent.ref.field_groups",
    "consent.field_groups",
];

/// A posted form as a map name → text, or name → list for [`MANY`] names.
fn to_map(pairs: &[(String, String)]) -> Fields {
    let mut m = Map::new();
    for (k, v) in pairs {
        if k == "csrf" {
            continue;
        }
        if MANY.contains(&k.as_str()) {
            let entry = m.entry(k.clone()).or_insert_with(|| json!([]));
            if let (Value::Array(a), false) = (entry, v.trim().is_empty()) {
                a.push(Value::from(v.trim()));
            }
        } else {
            m.insert(k.clone(), Value::from(v.as_str()));
        }
    }
    m
}

fn field(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

/// Reads typed values out of a form, collecting one error per field.
struct Parse<'a> {
    f: &'a Fields,
    errors: Vec<FieldError>,
}

impl<'a> Parse<'a> {
    fn new(f: &'a Fields) -> Self {
        Parse {
            f,
            errors: Vec::new(),
        }
    }

    fn raw(&self, k: &str) -> &str {
        self.f.get(k).and_then(Value::as_str).unwrap_or("")
    }

    fn text(&self, k: &str) -> String {
        self.raw(k).trim().to_owned()
    }

    /// Multi-line text: line ends normalised, trailing space dropped.
    fn long(&self, k: &str) -> String {
        self.raw(k).replace("\r\n", "\n").trim().to_owned()
    }

    fn flag(&self, k: &str) -> bool {
        !self.text(k).is_empty()
    }

    fn list(&self, k: &str) -> Vec<String> {
        match self.f.get(k) {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            Some(Value::String(s)) if !s.trim().is_empty() => vec![s.trim().to_owned()],
            _ => Vec::new(),
        }
    }

    fn bad(&mut self, k: &str, code: &'static str) {
        if !self.errors.iter().any(|e| e.field == k) {
            self.errors.push(FieldError::new(k, code));
        }
    }

    fn need<T>(&mut self, k: &str, v: Option<T>) -> Option<T> {
        if v.is_none() {
            self.bad(k, "required");
        }
        v
    }

    fn date(&mut self, k: &str) -> Option<NaiveDate> {
        let s = self.text(k);
        if s.is_empty() {
            return None;
        }
        let d = NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok();
        if d.is_none() {
            self.bad(k, "invalid");
        }
        d
    }

    fn partial_date(&mut self, k: &str) -> Option<PartialDate> {
        let s = self.text(k);
        if s.is_empty() {
            return None;
        }
        let d = s.parse::<PartialDate>().ok();
        if d.is_none() {
            self.bad(k, "invalid");
        }
        d
    }

    fn code<T: Coded>(&mut self, k: &str) -> Option<T> {
        let s = self.text(k);
        if s.is_empty() {
            return None;
        }
        let v = T::from_code(&s);
        if v.is_none() {
            self.bad(k, "unknown_code");
        }
        v
    }

    fn codes<T: Coded + Ord>(&mut self, k: &str) -> BTreeSet<T> {
        let mut out = BTreeSet::new();
        for s in self.list(k) {
            match T::from_code(&s) {
                Some(v) => {
                    out.insert(v);
                }
                None => self.bad(k, "unknown_code"),
            }
        }
        out
    }

    fn country_of(&mut self, k: &str, s: &str) -> Option<CountryCode> {
        if s.is_empty() {
            return None;
        }
        let c = s
            .parse::<CountryCode>()
            .ok()
            .filter(|c| geo::country(*c).is_some());
        if c.is_none() {
            self.bad(k, "unknown_country");
        }
        c
    }

    fn country(&mut self, k: &str) -> Option<CountryCode> {
        let s = self.text(k);
        self.country_of(k, &s)
    }

    fn num<N: FromStr>(&mut self, k: &str) -> Option<N> {
        let s = self.text(k);
        if s.is_empty() {
            return None;
        }
        let n = s.parse::<N>().ok();
        if n.is_none() {
            self.bad(k, "invalid");
        }
        n
    }
}

// ---------------------------------------------------------------- records ⇄ forms

fn s(v: impl ToString) -> Value {
    Value::from(v.to_string())
}

fn opt(v: Option<impl ToString>) -> Value {
    v.map_or_else(|| Value::from(""), s)
}

fn codes_list<T: Coded>(set: impl IntoIterator<Item = T>) -> Value {
    Value::Array(set.into_iter().map(|c| Value::from(c.code())).collect())
}

fn person_to_form(p: &PersonRecord) -> Fields {
    let mut m = Map::new();
    let id = &p.identity;
    m.insert("person.identity.given_names".into(), s(&id.given_names));
    m.insert("person.identity.family_names".into(), s(&id.family_names));
    m.insert("person.identity.birth_date".into(), opt(id.birth_date));
    m.insert("person.identity.address".into(), s(&id.address));
    for (i, d) in id.documents.iter().enumerate() {
        let k = format!("person.identity.documents.{i}");
        m.insert(format!("{k}.kind"), s(&d.kind));
        m.insert(format!("{k}.number"), s(&d.number));
        m.insert(format!("{k}.country"), opt(d.country));
    }
    for (i, c) in id.contacts.iter().enumerate() {
        let k = format!("person.identity.contacts.{i}");
        m.insert(format!("{k}.kind"), s(&c.kind));
        m.insert(format!("{k}.value"), s(&c.value));
    }
    m.insert("person.gender".into(), opt(p.gender));
    m.insert(
        "person.citizenship".into(),
        Value::Array(p.citizenship.iter().map(s).collect()),
    );
    m.insert("person.country_of_birth".into(), opt(p.country_of_birth));
    m.insert(
        "person.languages".into(),
        Value::Array(p.languages.iter().map(s).collect()),
    );
    m.insert("person.marital_status".into(), opt(p.marital_status));
    m.insert(
        "person.number_of_children".into(),
        opt(p.number_of_children),
    );
    m.insert("person.education".into(), opt(p.education));
    m.insert("person.migrant_type".into(), opt(p.migrant_type));
    m.insert("person.protection_status".into(), opt(p.protection_status));
    m.insert(
        "person.migration_context".into(),
        codes_list(p.migration_context.iter().copied()),
    );
    m
}

/// The person on a form; `base` keeps what the form does not show.
fn person_from(f: &Fields, mut p: PersonRecord) -> (PersonRecord, Vec<FieldError>) {
    let mut x = Parse::new(f);
    p.identity.given_names = x.text("person.identity.given_names");
    p.identity.family_names = x.text("person.identity.family_names");
    p.identity.birth_date = x.date("person.identity.birth_date");
    p.identity.address = x.long("person.identity.address");
    let mut documents = Vec::new();
    let mut contacts = Vec::new();
    for i in 0..SLOTS {
        let k = format!("person.identity.documents.{i}");
        let (kind, number, country) = (
            x.text(&format!("{k}.kind")),
            x.text(&format!("{k}.number")),
            x.text(&format!("{k}.country")),
        );
        if !(kind.is_empty() && number.is_empty() && country.is_empty()) {
            let country = x.country_of(&format!("{k}.country"), &country);
            documents.push(IdDocument {
                kind,
                number,
                country,
            });
        }
        let k = format!("person.identity.contacts.{i}");
        let value = x.text(&format!("{k}.value"));
        if !value.is_empty() {
            let kind = match x.text(&format!("{k}.kind")) {
                k if k.is_empty() => "other".to_owned(),
                k => k,
            };
            contacts.push(Contact { kind, value });
        }
    }
    p.identity.documents = documents;
    p.identity.contacts = contacts;
    p.gender = x.code("person.gender");
    p.citizenship = x
        .list("person.citizenship")
        .iter()
        .filter_map(|c| x.country_of("person.citizenship", c))
        .collect::<Vec<_>>()
        .into_iter()
        .collect();
    p.country_of_birth = x.country("person.country_of_birth");
    let mut langs = Vec::new();
    for l in x.list("person.languages") {
        if !langs.contains(&l) {
            langs.push(l);
        }
    }
    p.languages = langs;
    p.marital_status = x.code("person.marital_status");
    p.number_of_children = x.num("person.number_of_children");
    p.education = x.code("person.education");
    p.migrant_type = x.code("person.migrant_type");
    p.protection_status = x.code("person.protection_status");
    p.migration_context = x.codes("person.migration_context");
    (p, x.errors)
}

fn case_to_form(c: &CaseRecord) -> Fields {
    let mut m = Map::new();
    m.insert("case.intake_channel".into(), s(c.intake_channel));
    m.insert("case.registration_date".into(), s(c.registration_date));
    m.insert(
        "case.identification_date".into(),
        opt(c.identification_date),
    );
    m.insert("case.status".into(), s(c.status));
    m.insert("case.closure_reason".into(), opt(c.closure_reason));
    m.insert("case.trafficking_status".into(), opt(c.trafficking_status));
    m.insert("case.status_decided_by".into(), opt(c.status_decided_by));
    m.insert("case.location".into(), opt(c.location.as_ref()));
    m.insert("case.narrative".into(), s(&c.narrative));
    let p = &c.process;
    m.insert(
        "case.process.acts".into(),
        codes_list(p.acts.iter().copied()),
    );
    m.insert(
        "case.process.means".into(),
        codes_list(p.means.iter().copied()),
    );
    m.insert(
        "case.process.control_methods".into(),
        codes_list(p.control_methods.iter().copied()),
    );
    m.insert(
        "case.process.exploitation_types".into(),
        codes_list(p.exploitation_types.iter().copied()),
    );
    m.insert(
        "case.process.sexual_exploitation_types".into(),
        codes_list(p.sexual_exploitation_types.iter().copied()),
    );
    m.insert(
        "case.process.recruitment_methods".into(),
        codes_list(p.recruitment_methods.iter().copied()),
    );
    m.insert(
        "case.process.recruiter_relation".into(),
        opt(p.recruiter_relation),
    );
    m.insert(
        "case.process.forced_labour_industry".into(),
        opt(p.forced_labour_industry.as_ref()),
    );
    m.insert(
        "case.process.age_when_trafficked".into(),
        opt(p.age_when_trafficked),
    );
    m.insert(
        "case.process.exploitation_start".into(),
        opt(p.exploitation_start),
    );
    m.insert(
        "case.process.exploitation_end".into(),
        opt(p.exploitation_end),
    );
    m.insert(
        "case.process.country_of_recruitment".into(),
        opt(p.country_of_recruitment),
    );
    m.insert(
        "case.process.country_of_exploitation".into(),
        opt(p.country_of_exploitation),
    );
    m
}

/// The case and process on a form; `base` keeps what the form does not show (route,
/// perpetrators). `None` when a required field is missing or unreadable.
fn case_from(f: &Fields, base: Option<&CaseRecord>) -> (Option<CaseRecord>, Vec<FieldError>) {
    let mut x = Parse::new(f);
    let intake_channel = x.code::<IntakeChannel>("case.intake_channel");
    let intake_channel = x.need("case.intake_channel", intake_channel);
    let registration_date = x.date("case.registration_date");
    let registration_date = x.need("case.registration_date", registration_date);
    let status = x.code::<CaseStatus>("case.status");
    let status = x.need("case.status", status);
    let identification_date = x.date("case.identification_date");
    let closure_reason = x.code("case.closure_reason");
    let trafficking_status = x.code("case.trafficking_status");
    let status_decided_by = x.code("case.status_decided_by");
    let location = match x.text("case.location") {
        l if l.is_empty() => None,
        l => Some(geo::subdivision(&l).map_or(l, |s| s.code.to_owned())),
    };
    let narrative = x.long("case.narrative");
    let mut p = base.map(|b| b.process.clone()).unwrap_or_default();
    p.acts = x.codes::<TraffickingAct>("case.process.acts");
    p.means = x.codes::<Means>("case.process.means");
    p.control_methods = x.codes::<ControlMethod>("case.process.control_methods");
    p.exploitation_types = x.codes::<ExploitationType>("case.process.exploitation_types");
    p.sexual_exploitation_types =
        x.codes::<SexualExploitationType>("case.process.sexual_exploitation_types");
    p.recruitment_methods = x.codes::<RecruitmentMethod>("case.process.recruitment_methods");
    p.recruiter_relation = x.code::<RecruiterRelation>("case.process.recruiter_relation");
    p.forced_labour_industry = match x.text("case.process.forced_labour_industry") {
        c if c.is_empty() => None,
        c => Some(isic::normalize_isic(&c).unwrap_or(c)),
    };
    p.age_when_trafficked = x.num("case.process.age_when_trafficked");
    p.exploitation_start = x.partial_date("case.process.exploitation_start");
    p.exploitation_end = x.partial_date("case.process.exploitation_end");
    p.country_of_recruitment = x.country("case.process.country_of_recruitment");
    p.country_of_exploitation = x.country("case.process.country_of_exploitation");
    let record = match (intake_channel, registration_date, status) {
        (Some(intake_channel), Some(registration_date), Some(status)) => Some(CaseRecord {
            intake_channel,
            registration_date,
            identification_date,
            status,
            closure_reason,
            trafficking_status,
            status_decided_by,
            location,
            process: p,
            narrative,
        }),
        _ => None,
    };
    (record, x.errors)
}

/// The consents of the registration form: one signature (who, when, evidence) for the
/// scopes ticked.
fn consents_from(f: &Fields) -> (Vec<ConsentRecord>, Vec<FieldError>) {
    let mut x = Parse::new(f);
    let scopes: Vec<ConsentScope> = [
        (ConsentScope::CaseManagement, "consent.cm"),
        (ConsentScope::StatisticalUse, "consent.stat"),
        (ConsentScope::Referral, "consent.ref"),
    ]
    .into_iter()
    .filter(|(_, k)| x.flag(k))
    .map(|(s, _)| s)
    .collect();
    if scopes.is_empty() {
        return (Vec::new(), x.errors);
    }
    let given_by = x.code::<ConsentGivenBy>("consent.given_by");
    let given_by = x.need("consent.given_by", given_by);
    let given_on = x.date("consent.given_on");
    let given_on = x.need("consent.given_on", given_on);
    let guardian_name = x.text("consent.guardian_name");
    let evidence_ref = x.text("consent.evidence_ref");
    let referral = scopes.contains(&ConsentScope::Referral);
    let (destination_country, destination_org, field_groups, expires_on) = if referral {
        (
            x.country("consent.ref.destination_country"),
            x.text("consent.ref.destination_org"),
            x.codes::<ReferralFieldGroup>("consent.ref.field_groups"),
            x.date("consent.ref.expires_on"),
        )
    } else {
        Default::default()
    };
    let (Some(given_by), Some(given_on)) = (given_by, given_on) else {
        return (Vec::new(), x.errors);
    };
    let out = scopes
        .into_iter()
        .map(|scope| {
            let r = scope == ConsentScope::Referral;
            ConsentRecord {
                scope,
                given_by,
                guardian_name: guardian_name.clone(),
                given_on,
                expires_on: if r { expires_on } else { None },
                destination_country: if r { destination_country } else { None },
                destination_org: if r {
                    destination_org.clone()
                } else {
                    String::new()
                },
                field_groups: if r {
                    field_groups.clone()
                } else {
                    BTreeSet::new()
                },
                evidence_ref: evidence_ref.clone(),
            }
        })
        .collect();
    (out, x.errors)
}

/// One consent added on the case page (`consent.*` fields).
fn consent_from(f: &Fields) -> (Option<ConsentRecord>, Vec<FieldError>) {
    let mut x = Parse::new(f);
    let scope = x.code::<ConsentScope>("consent.scope");
    let scope = x.need("consent.scope", scope);
    let given_by = x.code::<ConsentGivenBy>("consent.given_by");
    let given_by = x.need("consent.given_by", given_by);
    let given_on = x.date("consent.given_on");
    let given_on = x.need("consent.given_on", given_on);
    let r = ConsentRecord {
        scope: scope.unwrap_or(ConsentScope::CaseManagement),
        given_by: given_by.unwrap_or(ConsentGivenBy::Person),
        guardian_name: x.text("consent.guardian_name"),
        given_on: given_on.unwrap_or_default(),
        expires_on: x.date("consent.expires_on"),
        destination_country: x.country("consent.destination_country"),
        destination_org: x.text("consent.destination_org"),
        field_groups: x.codes("consent.field_groups"),
        evidence_ref: x.text("consent.evidence_ref"),
    };
    let ok = scope.is_some() && given_by.is_some() && given_on.is_some();
    (ok.then_some(r), x.errors)
}

fn service_to_form(r: &ServiceRecord) -> Fields {
    let mut m = Map::new();
    m.insert("service.service_type".into(), s(r.service_type));
    m.insert("service.provider".into(), s(&r.provider));
    m.insert("service.status".into(), s(r.status));
    m.insert("service.start_date".into(), opt(r.start_date));
    m.insert("service.end_date".into(), opt(r.end_date));
    m.insert("service.notes".into(), s(&r.notes));
    m
}

fn service_from(f: &Fields) -> (Option<ServiceRecord>, Vec<FieldError>) {
    let mut x = Parse::new(f);
    let service_type = x.code::<ServiceType>("service.service_type");
    let service_type = x.need("service.service_type", service_type);
    let status = x.code::<ServiceStatus>("service.status");
    let status = x.need("service.status", status);
    let provider = x.text("service.provider");
    let start_date = x.date("service.start_date");
    let end_date = x.date("service.end_date");
    let notes = x.long("service.notes");
    let r = match (service_type, status) {
        (Some(service_type), Some(status)) => Some(ServiceRecord {
            service_type,
            provider,
            status,
            start_date,
            end_date,
            notes,
        }),
        _ => None,
    };
    (r, x.errors)
}

fn proceeding_to_form(r: &ProceedingRecord) -> Fields {
    let mut m = Map::new();
    m.insert("proceeding.stage".into(), s(r.stage));
    m.insert("proceeding.date".into(), opt(r.date));
    m.insert("proceeding.authority".into(), s(&r.authority));
    m.insert("proceeding.reference".into(), s(&r.reference));
    m.insert("proceeding.verdict".into(), opt(r.verdict));
    for (k, v) in [
        ("proceeding.victim_witness", r.victim_witness),
        ("proceeding.protection_measures", r.protection_measures),
        ("proceeding.reparation_ordered", r.reparation_ordered),
    ] {
        m.insert(k.into(), Value::from(if v { "on" } else { "" }));
    }
    m.insert("proceeding.notes".into(), s(&r.notes));
    m
}

fn proceeding_from(f: &Fields) -> (Option<ProceedingRecord>, Vec<FieldError>) {
    let mut x = Parse::new(f);
    let stage = x.code::<ProceedingStage>("proceeding.stage");
    let stage = x.need("proceeding.stage", stage);
    let r = ProceedingRecord {
        stage: stage.unwrap_or(ProceedingStage::Complaint),
        date: x.date("proceeding.date"),
        authority: x.text("proceeding.authority"),
        reference: x.text("proceeding.reference"),
        verdict: x.code::<Verdict>("proceeding.verdict"),
        victim_witness: x.flag("proceeding.victim_witness"),
        protection_measures: x.flag("proceeding.protection_measures"),
        reparation_ordered: x.flag("proceeding.reparation_ordered"),
        notes: x.long("proceeding.notes"),
    };
    (stage.map(|_| r), x.errors)
}

// ---------------------------------------------------------------- choices for forms

fn code_options<T: Coded>(st: &AppState, lang: Lang) -> Value {
    Value::Array(
        T::ALL
            .iter()
            .map(|c| {
                let def = format!("def-{}-{}", T::FIELD, c.code());
                json!({ "code": c.code(), "def": st.web.i18n.has(lang, &def) })
            })
            .collect(),
    )
}

/// The countries first offered in pick lists: the region and its main destinations.
const REGION: [&str; 12] = [
    "GTM", "HND", "SLV", "MEX", "NIC", "CRI", "PAN", "BLZ", "USA", "CAN", "COL", "ESP",
];

fn country_name(c: &geo::Country, lang: Lang) -> &'static str {
    match lang {
        Lang::Es => c.name_es,
        Lang::En => c.name_en,
    }
}

/// Everything the case forms offer: coded fields (with whether a definition exists),
/// countries, languages, subdivisions and industries.
fn choices(st: &AppState, lang: Lang) -> Value {
    let mut region: Vec<Value> = Vec::new();
    for code in REGION {
        if let Some(c) = code.parse().ok().and_then(geo::country) {
            region.push(json!({ "code": c.alpha3, "name": country_name(c, lang) }));
        }
    }
    let mut others: Vec<(String, &geo::Country)> = geo::COUNTRIES
        .iter()
        .filter(|c| !REGION.contains(&c.alpha3))
        .map(|c| (geo::fold(country_name(c, lang)), c))
        .collect();
    others.sort_by(|a, b| a.0.cmp(&b.0));
    let others: Vec<Value> = others
        .into_iter()
        .map(|(_, c)| json!({ "code": c.alpha3, "name": country_name(c, lang) }))
        .collect();
    let langs: Vec<Value> = languages::LANGUAGES
        .iter()
        .map(|l| {
            json!({ "code": l.code, "name": match lang { Lang::Es => l.name_es, Lang::En => l.name_en } })
        })
        .collect();
    let home = st.config.country;
    let mut order: Vec<&str> = vec![home.as_str()];
    for c in ["GTM", "HND", "SLV", "MEX"] {
        if !order.contains(&c) {
            order.push(c);
        }
    }
    let subdivisions: Vec<Value> = order
        .iter()
        .filter_map(|c| {
            let code: CountryCode = c.parse().ok()?;
            let items: Vec<Value> = geo::subdivisions_of(code)
                .map(|s| json!({ "code": s.code, "name": s.name }))
                .collect();
            (!items.is_empty()).then(|| {
                json!({ "country": c, "name": geo::country(code).map_or(*c, |k| country_name(k, lang)), "items": items })
            })
        })
        .collect();
    let industries: Vec<Value> = isic::ISIC_SECTIONS
        .iter()
        .map(|s| json!({ "code": s.code.to_string(), "name": match lang { Lang::Es => s.name_es, Lang::En => s.name_en } }))
        .collect();
    json!({
        "intake_channel": code_options::<IntakeChannel>(st, lang),
        "case_status": code_options::<CaseStatus>(st, lang),
        "closure_reason": code_options::<ClosureReason>(st, lang),
        "trafficking_status": code_options::<TraffickingStatus>(st, lang),
        "status_decided_by": code_options::<StatusDecidedBy>(st, lang),
        "gender": code_options::<Gender>(st, lang),
        "marital_status": code_options::<MaritalStatus>(st, lang),
        "education": code_options::<Education>(st, lang),
        "migrant_type": code_options::<MigrantType>(st, lang),
        "protection_status": code_options::<ProtectionStatus>(st, lang),
        "migration_context": code_options::<MigrationContext>(st, lang),
        "act": code_options::<TraffickingAct>(st, lang),
        "means": code_options::<Means>(st, lang),
        "control_method": code_options::<ControlMethod>(st, lang),
        "exploitation_type": code_options::<ExploitationType>(st, lang),
        "sexual_exploitation_type": code_options::<SexualExploitationType>(st, lang),
        "recruitment_method": code_options::<RecruitmentMethod>(st, lang),
        "recruiter_relation": code_options::<RecruiterRelation>(st, lang),
        "service_type": code_options::<ServiceType>(st, lang),
        "service_status": code_options::<ServiceStatus>(st, lang),
        "proceeding_stage": code_options::<ProceedingStage>(st, lang),
        "verdict": code_options::<Verdict>(st, lang),
        "consent_scope": code_options::<ConsentScope>(st, lang),
        "consent_given_by": code_options::<ConsentGivenBy>(st, lang),
        "referral_field_group": code_options::<ReferralFieldGroup>(st, lang),
        "countries_region": region,
        "countries_other": others,
        "languages": langs,
        "subdivisions": subdivisions,
        "industries": industries,
        "contact_kinds": ["phone", "whatsapp", "email", "other"],
    })
}

/// Display names of every country, language, subdivision and industry code.
pub(crate) fn names(lang: Lang) -> Value {
    let mut m = Map::new();
    for c in geo::COUNTRIES {
        m.insert(c.alpha3.into(), Value::from(country_name(c, lang)));
    }
    for l in languages::LANGUAGES {
        m.insert(
            l.code.into(),
            Value::from(match lang {
                Lang::Es => l.name_es,
                Lang::En => l.name_en,
            }),
        );
    }
    for s in geo::SUBDIVISIONS {
        m.insert(s.code.into(), Value::from(s.name));
    }
    for s in isic::ISIC_SECTIONS {
        m.insert(
            s.code.to_string(),
            Value::from(match lang {
                Lang::Es => s.name_es,
                Lang::En => s.name_en,
            }),
        );
    }
    Value::Object(m)
}

/// How many document and contact rows a person form shows: the filled ones and one more.
fn slots(f: &Fields, what: &str) -> usize {
    let used = (0..SLOTS)
        .filter(|i| {
            let k = format!("person.identity.{what}.{i}.");
            f.iter()
                .any(|(name, v)| name.starts_with(&k) && v.as_str().is_some_and(|v| !v.is_empty()))
        })
        .max()
        .map_or(0, |i| i + 1);
    (used + 1).clamp(2, SLOTS)
}

fn errors_json(st: &AppState, lang: Lang, errors: &[FieldError]) -> Value {
    st.web.field_errors(lang, errors)
}

fn with_prefix(prefix: &str, errors: Vec<FieldError>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| {
            if e.field.starts_with(prefix) {
                e
            } else {
                FieldError::new(format!("{prefix}{}", e.field), e.code)
            }
        })
        .collect()
}

fn redirect(to: String) -> Response {
    Redirect::to(&to).into_response()
}

fn is_closed(status: CaseStatus) -> bool {
    matches!(status, CaseStatus::Closed | CaseStatus::ClosedReferred)
}

// ---------------------------------------------------------------- list

/// `GET /cases` filters; empty means any.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct ListParams {
    pub status: String,
    pub trafficking_status: String,
    pub exploitation: String,
    pub caseworker: String,
    pub from: String,
    pub to: String,
    pub q: String,
    pub page: String,
}

/// The organisation's caseworkers and coordinators (active): who may hold a case.
async fn case_holders(st: &AppState, org: Option<Uuid>) -> AppResult<Vec<Value>> {
    let Some(org) = org else {
        return Ok(Vec::new());
    };
    Ok(st
        .store
        .users(Some(org))
        .await?
        .into_iter()
        .filter(|u| !u.disabled && matches!(u.role, Role::Caseworker | Role::OrgAdmin))
        .map(|u| json!({ "id": u.id, "name": if u.display_name.is_empty() { u.username } else { u.display_name } }))
        .collect())
}

/// `GET /cases`
async fn list(
    State(st): State<AppState>,
    s: SignedIn,
    Query(p): Query<ListParams>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    let who = Who {
        actor: &s.actor,
        audit: &audit,
    };
    let index = !s.actor.can(Action::ViewCases) && s.actor.can(Action::ViewCaseIndex);
    let mut errors = Vec::new();
    let dates: Fields = [("from", &p.from), ("to", &p.to)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::from(v.as_str())))
        .collect();
    let mut x = Parse::new(&dates);
    let checked = |v: &str, ok: bool, field: &'static str, errors: &mut Vec<FieldError>| {
        let v = v.trim();
        if v.is_empty() {
            None
        } else if ok {
            Some(v.to_owned())
        } else {
            errors.push(FieldError::new(field, "unknown_code"));
            None
        }
    };
    let q = ListQuery {
        status: checked(
            &p.status,
            CaseStatus::from_code(p.status.trim()).is_some(),
            "status",
            &mut errors,
        ),
        trafficking_status: checked(
            &p.trafficking_status,
            TraffickingStatus::from_code(p.trafficking_status.trim()).is_some(),
            "trafficking_status",
            &mut errors,
        ),
        exploitation: checked(
            &p.exploitation,
            ExploitationType::from_code(p.exploitation.trim()).is_some(),
            "exploitation",
            &mut errors,
        ),
        caseworker_id: match p.caseworker.trim() {
            "" => None,
            c => match c.parse() {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.push(FieldError::new("caseworker", "invalid"));
                    None
                }
            },
        },
        from: x.date("from"),
        to: x.date("to"),
        search: Some(p.q.trim().to_owned()).filter(|s| !s.is_empty() && !index),
        page: p.page.trim().parse::<i64>().unwrap_or(1).max(1),
    };
    errors.extend(x.errors);
    let result = super::list(&st, who, &q).await?;
    let holders = if index {
        Vec::new()
    } else {
        case_holders(&st, s.actor.org_id).await?
    };
    let items: Vec<Value> = result
        .items
        .iter()
        .map(|c| {
            let holder = c.caseworker_id.and_then(|id| {
                holders
                    .iter()
                    .find(|h| h["id"] == json!(id))
                    .map(|h| h["name"].clone())
            });
            merge(
                serde_json::to_value(c).unwrap_or(Value::Null),
                json!({ "caseworker": holder }),
            )
        })
        .collect();
    let pages = (result.total + super::PAGE_SIZE - 1) / super::PAGE_SIZE;
    let data = json!({
        "index": index,
        "can_register": s.actor.can(Action::EditCases),
        "can_export": s.actor.can(Action::ExportCases),
        "items": items,
        "total": result.total,
        "page": result.page,
        "pages": pages.max(1),
        "has_next": result.page < pages,
        "filter": p,
        "caseworkers": holders,
        "opts": {
            "case_status": code_options::<CaseStatus>(&st, s.ctx.lang),
            "trafficking_status": code_options::<TraffickingStatus>(&st, s.ctx.lang),
            "exploitation_type": code_options::<ExploitationType>(&st, s.ctx.lang),
        },
        "errors": errors_json(&st, s.ctx.lang, &errors),
    });
    Ok(st.web.render(&s.ctx, "cases/list.html", data))
}

// ---------------------------------------------------------------- registration

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Search,
    Person,
    Case,
    Process,
    Consent,
    Review,
}

impl Step {
    fn code(self) -> &'static str {
        match self {
            Step::Search => "search",
            Step::Person => "person",
            Step::Case => "case",
            Step::Process => "process",
            Step::Consent => "consent",
            Step::Review => "review",
        }
    }

    fn parse(s: &str) -> Option<Step> {
        [
            Step::Search,
            Step::Person,
            Step::Case,
            Step::Process,
            Step::Consent,
            Step::Review,
        ]
        .into_iter()
        .find(|x| x.code() == s)
    }

    fn next(self, existing: bool) -> Step {
        match self {
            Step::Search if existing => Step::Case,
            Step::Search => Step::Person,
            Step::Person => Step::Case,
            Step::Case => Step::Process,
            Step::Process => Step::Consent,
            Step::Consent | Step::Review => Step::Review,
        }
    }

    fn prev(self, existing: bool) -> Step {
        match self {
            Step::Search | Step::Person => Step::Search,
            Step::Case if existing => Step::Search,
            Step::Case => Step::Person,
            Step::Process => Step::Case,
            Step::Consent => Step::Process,
            Step::Review => Step::Consent,
        }
    }

    /// Whether a form field belongs to this step's form.
    fn owns(self, name: &str) -> bool {
        match self {
            Step::Person => name.starts_with("person."),
            Step::Case => name.starts_with("case.") && !name.starts_with("case.process."),
            Step::Process => name.starts_with("case.process."),
            Step::Consent => name.starts_with("consent.") || name == "consent_override_reason",
            Step::Search | Step::Review => false,
        }
    }

    /// The step whose form holds the field of an error.
    fn of_field(name: &str) -> Step {
        if name == "person_id" {
            Step::Search
        } else if name.starts_with("person.") {
            Step::Person
        } else if name.starts_with("case.process.") {
            Step::Process
        } else if name.starts_with("case.") || name == "caseworker_id" {
            Step::Case
        } else {
            Step::Consent
        }
    }
}

/// The registration form as kept between steps (sealed by the service as a draft).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct Draft {
    step: String,
    existing: Option<Uuid>,
    person_label: String,
    fields: Fields,
}

/// Where the service and record checks name a registration field, as the form names it.
fn form_field(name: &str) -> String {
    if name == "consents" {
        return "consent.cm".into();
    }
    match name
        .strip_prefix("consents.")
        .and_then(|r| r.split_once('.'))
    {
        Some((_, sub @ ("given_by" | "guardian_name" | "given_on" | "evidence_ref"))) => {
            format!("consent.{sub}")
        }
        Some((_, "scope")) => "consent.ref".into(),
        Some((_, sub)) => format!("consent.ref.{sub}"),
        None => name.to_owned(),
    }
}

fn prefixed(prefix: &str, issues: Vec<puente_common::case::Issue>) -> Vec<FieldError> {
    issues
        .into_iter()
        .map(|i| FieldError::new(format!("{prefix}{}", i.field), i.code))
        .collect()
}

/// The problems of one step's fields (reading and record checks), as the form names them.
fn check_step(step: Step, d: &Draft, today: NaiveDate, can_override: bool) -> Vec<FieldError> {
    let f = &d.fields;
    let mut errors = match step {
        Step::Person => {
            let (p, mut e) = person_from(f, PersonRecord::default());
            e.extend(prefixed("person.", p.check(today)));
            e
        }
        Step::Case | Step::Process => {
            let (c, mut e) = case_from(f, None);
            if let Some(c) = c {
                e.extend(prefixed("case.", c.check(today)));
            }
            e
        }
        Step::Consent => {
            let (consents, mut e) = consents_from(f);
            let age_on = |on: NaiveDate| {
                Parse::new(f)
                    .date("person.identity.birth_date")
                    .filter(|_| d.existing.is_none())
                    .and_then(|b| derive::age_on(b, on))
            };
            for (i, c) in consents.iter().enumerate() {
                e.extend(prefixed(
                    &format!("consents.{i}."),
                    c.check(age_on(c.given_on), today),
                ));
            }
            let reason = Parse::new(f).text("consent_override_reason");
            if !consents
                .iter()
                .any(|c| c.scope == ConsentScope::CaseManagement)
            {
                if reason.is_empty() || !can_override {
                    e.push(FieldError::new(
                        "consents",
                        "case_management_consent_required",
                    ));
                } else if reason.chars().count() < 20 {
                    e.push(FieldError::new(
                        "consent_override_reason",
                        "reason_too_short",
                    ));
                }
            }
            e
        }
        Step::Search | Step::Review => Vec::new(),
    };
    errors.retain(|e| Step::of_field(&e.field) == step || step == Step::Consent);
    errors
        .into_iter()
        .map(|e| FieldError::new(form_field(&e.field), e.code))
        .collect()
}

/// The registration as the service takes it, or the problems of reading the form.
fn build(d: &Draft) -> Result<NewCase, Vec<FieldError>> {
    let mut errors = Vec::new();
    let person = match d.existing {
        Some(id) => PersonChoice::Existing(id),
        None => {
            let (p, e) = person_from(&d.fields, PersonRecord::default());
            errors.extend(e);
            PersonChoice::New(Box::new(p))
        }
    };
    let (case, e) = case_from(&d.fields, None);
    errors.extend(e);
    let (consents, e) = consents_from(&d.fields);
    errors.extend(e);
    let reason = Parse::new(&d.fields).text("consent_override_reason");
    match case {
        Some(case) if errors.is_empty() => Ok(NewCase {
            person,
            case,
            consents,
            caseworker_id: None,
            consent_override_reason: Some(reason).filter(|r| !r.is_empty()),
        }),
        _ => Err(errors),
    }
}

/// Renders a registration step.
async fn render_step(
    st: &AppState,
    s: &SignedIn,
    status: StatusCode,
    step: Step,
    d: &Draft,
    extra: Value,
) -> AppResult<Response> {
    let today = st.clock.now().date_naive();
    let mut form = d.fields.clone();
    for (k, v) in [
        ("case.registration_date", today.to_string()),
        ("case.status", "ACTIVE".to_owned()),
        ("consent.given_on", today.to_string()),
    ] {
        form.entry(k).or_insert_with(|| Value::from(v));
    }
    let existing = d.existing.is_some();
    let steps: Vec<&str> = [
        Step::Person,
        Step::Case,
        Step::Process,
        Step::Consent,
        Step::Review,
    ]
    .into_iter()
    .filter(|x| !(existing && *x == Step::Person))
    .map(Step::code)
    .collect();
    let review = if step == Step::Review {
        match build(d) {
            Ok(nc) => {
                let person = match &nc.person {
                    PersonChoice::New(p) => serde_json::to_value(p.as_ref()).ok(),
                    PersonChoice::Existing(_) => None,
                };
                json!({
                    "person": person,
                    "case": nc.case,
                    "consents": nc.consents,
                    "override": nc.consent_override_reason,
                })
            }
            Err(_) => Value::Null,
        }
    } else {
        Value::Null
    };
    let data = merge(
        json!({
            "step": step.code(),
            "steps": steps,
            "existing": existing,
            "person_label": d.person_label,
            "form": form,
            "doc_slots": slots(&d.fields, "documents"),
            "contact_slots": slots(&d.fields, "contacts"),
            "opts": choices(st, s.ctx.lang),
            "names": if step == Step::Review { names(s.ctx.lang) } else { json!({}) },
            "can_override": s.actor.can(Action::OverrideConsent),
            "review": review,
            "matches": [],
            "search": { "name": "", "document": "" },
            "resume": null,
        }),
        extra,
    );
    Ok(st.web.render_status(&s.ctx, status, "cases/new.html", data))
}

/// `GET /cases/new`: the duplicate search, or the offer to continue a saved draft.
async fn new_form(State(st): State<AppState>, s: SignedIn) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::EditCases, &s.ctx.path).await?;
    let who = Who {
        actor: &s.actor,
        audit: &audit,
    };
    let resume = match super::draft(&st, who, DRAFT_KIND).await? {
        Some(v) => serde_json::from_value::<Draft>(v).ok().map(|d| {
            json!({
                "step": Step::parse(&d.step).unwrap_or(Step::Search).code(),
                "person_label": d.person_label,
                "given_names": Parse::new(&d.fields).text("person.identity.given_names"),
                "family_names": Parse::new(&d.fields).text("person.identity.family_names"),
            })
        }),
        None => None,
    };
    render_step(
        &st,
        &s,
        StatusCode::OK,
        Step::Search,
        &Draft::default(),
        json!({ "resume": resume }),
    )
    .await
}

/// `POST /cases/new`: every button of every step (`go`), from the step in `step`.
async fn new_submit(
    State(st): State<AppState>,
    s: SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let now = st.clock.now();
    let audit = s.ctx.audit(now);
    require(&st, &audit, &s.actor, Action::EditCases, &s.ctx.path).await?;
    let who = Who {
        actor: &s.actor,
        audit: &audit,
    };
    let go = field(&pairs, "go");
    let step = Step::parse(&field(&pairs, "step")).unwrap_or(Step::Search);
    let stored = super::draft(&st, who, DRAFT_KIND)
        .await?
        .and_then(|v| serde_json::from_value::<Draft>(v).ok());
    let mut d = stored.clone().unwrap_or_default();
    let ok = StatusCode::OK;
    match go.as_str() {
        "discard" => {
            super::discard_draft(&st, who, DRAFT_KIND).await?;
            return Ok(redirect("/cases/new?notice=draft_discarded".into()));
        }
        "continue" => {
            let at = Step::parse(&d.step).unwrap_or(Step::Search);
            return render_step(&st, &s, ok, at, &d, json!({})).await;
        }
        "existing" => {
            let Ok(id) = field(&pairs, "person_id").parse::<Uuid>() else {
                return render_step(&st, &s, ok, Step::Search, &d, json!({})).await;
            };
            d.existing = Some(id);
            d.person_label = field(&pairs, "person_label");
            d.fields.retain(|k, _| !k.starts_with("person."));
            d.step = Step::Case.code().into();
            super::save_draft(&st, who, DRAFT_KIND, &json!(d)).await?;
            return render_step(&st, &s, ok, Step::Case, &d, json!({})).await;
        }
        "new_person" => {
            if stored.is_none() {
                d = Draft::default();
            }
            d.existing = None;
            d.person_label.clear();
            d.step = Step::Person.code().into();
            super::save_draft(&st, who, DRAFT_KIND, &json!(d)).await?;
            return render_step(&st, &s, ok, Step::Person, &d, json!({})).await;
        }
        "back" | "next" | "register" => {}
        _ => {
            // The duplicate search (also the default for an empty post).
            let name = field(&pairs, "search_name");
            let document = field(&pairs, "search_document");
            let search = json!({ "name": name, "document": document });
            if name.is_empty() && document.is_empty() {
                let errors = if go == "search" {
                    errors_json(
                        &st,
                        s.ctx.lang,
                        &[FieldError::new("search_name", "required")],
                    )
                } else {
                    json!({})
                };
                return render_step(
                    &st,
                    &s,
                    ok,
                    Step::Search,
                    &d,
                    json!({ "search": search, "errors": errors }),
                )
                .await;
            }
            let found = super::find_persons(&st, who, &name, &document).await?;
            let matches: Vec<Value> = found
                .iter()
                .map(|m| {
                    json!({
                        "person_id": m.person_id,
                        "name": format!("{} {}", m.given_names, m.family_names).trim(),
                        "birth_date": m.birth_date,
                        "cases": m.cases.iter().map(|(n, st)| json!({ "number": n, "status": st })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            return render_step(
                &st,
                &s,
                ok,
                Step::Search,
                &d,
                json!({ "search": search, "matches": matches, "searched": true }),
            )
            .await;
        }
    }
    if stored.is_none() && step != Step::Search {
        // The draft is gone (discarded in another tab): keep what this step sent.
        d.step = step.code().into();
    }
    let existing = d.existing.is_some();
    // Keep what this step's form sent (checkbox groups left empty included).
    if step != Step::Review && step != Step::Search {
        d.fields.retain(|k, _| !step.owns(k));
        for (k, v) in to_map(&pairs) {
            if step.owns(&k) {
                d.fields.insert(k, v);
            }
        }
        for name in MANY {
            if step.owns(name) && !d.fields.contains_key(*name) {
                d.fields.insert((*name).to_owned(), json!([]));
            }
        }
    }
    let today = now.date_naive();
    let can_override = s.actor.can(Action::OverrideConsent);
    match go.as_str() {
        "back" => {
            let to = step.prev(existing);
            d.step = to.code().into();
            super::save_draft(&st, who, DRAFT_KIND, &json!(d)).await?;
            render_step(&st, &s, ok, to, &d, json!({})).await
        }
        "next" => {
            let errors = check_step(step, &d, today, can_override);
            let to = if errors.is_empty() {
                step.next(existing)
            } else {
                step
            };
            d.step = to.code().into();
            super::save_draft(&st, who, DRAFT_KIND, &json!(d)).await?;
            if errors.is_empty() {
                render_step(&st, &s, ok, to, &d, json!({})).await
            } else {
                let errors = errors_json(&st, s.ctx.lang, &errors);
                render_step(
                    &st,
                    &s,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    to,
                    &d,
                    json!({ "errors": errors }),
                )
                .await
            }
        }
        _ => {
            // register
            let result = match build(&d) {
                Ok(input) => super::register(&st, who, input).await,
                Err(errors) => Err(AppError::Invalid(errors)),
            };
            match result {
                Ok(case) => {
                    super::discard_draft(&st, who, DRAFT_KIND).await?;
                    Ok(redirect(format!(
                        "/cases/{}?notice=case_registered",
                        case.id
                    )))
                }
                Err(AppError::Invalid(errors)) => {
                    let errors: Vec<FieldError> = errors
                        .into_iter()
                        .map(|e| FieldError::new(form_field(&e.field), e.code))
                        .collect();
                    let to = errors
                        .iter()
                        .map(|e| Step::of_field(&e.field))
                        .filter(|x| !(existing && *x == Step::Person))
                        .min()
                        .unwrap_or(Step::Review);
                    d.step = to.code().into();
                    super::save_draft(&st, who, DRAFT_KIND, &json!(d)).await?;
                    let errors = errors_json(&st, s.ctx.lang, &errors);
                    render_step(
                        &st,
                        &s,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        to,
                        &d,
                        json!({ "errors": errors }),
                    )
                    .await
                }
                Err(e) => Err(e),
            }
        }
    }
}

// ---------------------------------------------------------------- case page

fn timeline_label(st: &AppState, lang: Lang, kind: &str) -> String {
    let key = format!("cases-timeline-{}", kind.replace(['.', '_'], "-"));
    if st.web.i18n.has(lang, &key) {
        st.web.tr(lang, &key)
    } else {
        kind.to_owned()
    }
}

/// The case as the templates show it: the view, with dates formatted and each entry's form.
fn case_json(st: &AppState, lang: Lang, v: &CaseView) -> Value {
    let mut c = serde_json::to_value(v).unwrap_or(Value::Null);
    c["created_at"] = Value::from(when(v.created_at));
    c["updated_at"] = Value::from(when(v.updated_at));
    c["closed_at"] = v.closed_at.map_or(Value::Null, |t| Value::from(when(t)));
    c["closed"] = Value::from(is_closed(v.case.status));
    for (i, t) in v.timeline.iter().enumerate() {
        c["timeline"][i]["at"] = Value::from(when(t.at));
        c["timeline"][i]["label"] = Value::from(timeline_label(st, lang, &t.kind));
    }
    for (i, k) in v.consents.iter().enumerate() {
        c["consents"][i]["recorded_at"] = Value::from(when(k.recorded_at));
    }
    for (i, e) in v.services.iter().enumerate() {
        c["services"][i]["updated_at"] = Value::from(when(e.updated_at));
        c["services"][i]["form"] = Value::Object(service_to_form(&e.record));
    }
    for (i, e) in v.proceedings.iter().enumerate() {
        c["proceedings"][i]["updated_at"] = Value::from(when(e.updated_at));
        c["proceedings"][i]["form"] = Value::Object(proceeding_to_form(&e.record));
    }
    c
}

async fn render_case(
    st: &AppState,
    s: &SignedIn,
    v: &CaseView,
    status: StatusCode,
    readonly: bool,
    extra: Value,
) -> AppResult<Response> {
    let glass = readonly;
    // An anonymised case is kept for its coded facts only.
    let readonly = readonly || v.anonymised_at.is_some();
    let can_edit = !readonly && s.actor.can(Action::EditCases);
    let can_reassign = !readonly && s.actor.can(Action::ReassignCases);
    let holds: Vec<Value> = crate::retention::holds_of(st, v.id)
        .await?
        .into_iter()
        .map(|h| {
            json!({
                "placed_at": when(h.placed_at),
                "placed_by": h.placed_by,
                "reason": h.reason,
                "released_at": h.released_at.map(when),
                "released_by": h.released_by,
            })
        })
        .collect();
    let held =
        v.anonymised_at.is_none() && holds.first().is_some_and(|h| h["released_at"].is_null());
    let holders = if can_reassign {
        case_holders(st, Some(v.org_id)).await?
    } else {
        Vec::new()
    };
    let today = st.clock.now().date_naive().to_string();
    let referrals = crate::referrals::pages::case_referrals(st, s, v.id).await?;
    let data = merge(
        json!({
            "c": case_json(st, s.ctx.lang, v),
            "referrals": referrals,
            "can_refer": !readonly && s.actor.can(Action::SendReferral),
            "readonly": readonly,
            "can_edit": can_edit,
            "can_reassign": can_reassign,
            "caseworkers": holders,
            "holds": holds,
            "held": held,
            "can_hold": !readonly && s.actor.can(Action::ManageLegalHold),
            "can_erase": !glass
                && s.actor.can(Action::ErasePerson)
                && v.anonymised_why.as_deref() != Some(crate::store::retention_sql::WHY_ERASURE),
            "anonymised_at": v.anonymised_at.map(when),
            "opts": choices(st, s.ctx.lang),
            "names": names(s.ctx.lang),
            "today": today,
            "form": {
                "consent.given_on": today,
                "withdraw.withdrawn_on": today,
                "service.entry_id": "",
                "proceeding.entry_id": "",
            },
        }),
        extra,
    );
    Ok(st
        .web
        .render_status(&s.ctx, status, "cases/show.html", data))
}

/// Reads the case (authorised and audited by the service) and renders its page.
async fn case_page(
    st: &AppState,
    s: &SignedIn,
    id: Uuid,
    status: StatusCode,
    extra: Value,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    let who = Who {
        actor: &s.actor,
        audit: &audit,
    };
    let v = super::read(st, who, id).await?;
    render_case(st, s, &v, status, false, extra).await
}

/// `GET /cases/{id}`
async fn show(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    case_page(&st, &s, id, StatusCode::OK, json!({})).await
}

/// A failed case-page form: its field errors next to it (field names under `prefix`), or a
/// page error for a version conflict; other errors as they are.
async fn case_form_failed(
    st: &AppState,
    s: &SignedIn,
    id: Uuid,
    e: AppError,
    prefix: &str,
    form: Fields,
) -> AppResult<Response> {
    let lang = s.ctx.lang;
    match e {
        AppError::Invalid(errors) => {
            let errors = with_prefix(prefix, errors);
            let mut form = form;
            for (k, v) in [
                ("service.entry_id", ""),
                ("proceeding.entry_id", ""),
                ("withdraw.consent_id", ""),
            ] {
                form.entry(k).or_insert_with(|| Value::from(v));
            }
            case_page(
                st,
                s,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "errors": errors_json(st, lang, &errors), "form": form, "failed": prefix.trim_end_matches('.') }),
            )
            .await
        }
        AppError::Conflict("version") => {
            case_page(
                st,
                s,
                id,
                StatusCode::CONFLICT,
                json!({ "error": st.web.tr(lang, "cases-error-version") }),
            )
            .await
        }
        other => Err(other),
    }
}

macro_rules! who {
    ($st:expr, $s:expr, $audit:ident, $who:ident, $action:expr) => {
        let $audit = $s.ctx.audit($st.clock.now());
        require(&$st, &$audit, &$s.actor, $action, &$s.ctx.path).await?;
        let $who = Who {
            actor: &$s.actor,
            audit: &$audit,
        };
    };
}

/// `POST /cases/{id}/notes`: `note`
async fn add_note(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    who!(st, s, audit, who, Action::EditCases);
    let f = to_map(&pairs);
    let note = Parse::new(&f).long("note");
    match super::add_note(&st, who, id, &note).await {
        Ok(()) => Ok(redirect(format!("/cases/{id}?notice=note_added#timeline"))),
        Err(e) => case_form_failed(&st, &s, id, e, "", f).await,
    }
}

/// `POST /cases/{id}/consents`: `consent.*`
async fn add_consent(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    who!(st, s, audit, who, Action::EditCases);
    let f = to_map(&pairs);
    let (record, errors) = consent_from(&f);
    let result = match record {
        Some(r) if errors.is_empty() => super::add_consent(&st, who, id, r).await.map(|_| ()),
        _ => Err(AppError::Invalid(errors)),
    };
    match result {
        Ok(()) => Ok(redirect(format!(
            "/cases/{id}?notice=consent_added#consents"
        ))),
        Err(e) => case_form_failed(&st, &s, id, e, "consent.", f).await,
    }
}

/// `POST /cases/{id}/consents/withdraw`: `withdraw.consent_id`, `withdraw.withdrawn_on`
async fn withdraw_consent(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    who!(st, s, audit, who, Action::EditCases);
    let f = to_map(&pairs);
    let mut x = Parse::new(&f);
    let consent = x.text("withdraw.consent_id").parse::<Uuid>().ok();
    let on = x.date("withdraw.withdrawn_on");
    let on = x.need("withdraw.withdrawn_on", on);
    let result = match (consent, on) {
        (Some(c), Some(on)) => super::withdraw_consent(&st, who, id, c, on).await,
        (None, _) => {
            x.bad("withdraw.consent", "invalid");
            Err(AppError::Invalid(x.errors))
        }
        _ => Err(AppError::Invalid(x.errors)),
    };
    match result {
        Ok(()) => Ok(redirect(format!(
            "/cases/{id}?notice=consent_withdrawn#consents"
        ))),
        Err(e) => case_form_failed(&st, &s, id, e, "withdraw.", f).await,
    }
}

fn entry_id(f: &Fields, k: &str) -> Result<Option<Uuid>, AppError> {
    match Parse::new(f).text(k) {
        e if e.is_empty() => Ok(None),
        e => e.parse().map(Some).map_err(|_| AppError::NotFound),
    }
}

/// Saves a service or proceeding from the case page's form (`<prefix>*` fields;
/// `<prefix>entry_id` empty adds one), then back to its section with a notice.
async fn save_entry_form<T: super::Entry>(
    st: &AppState,
    s: &SignedIn,
    id: Uuid,
    pairs: &[(String, String)],
    prefix: &str,
    parse: fn(&Fields) -> (Option<T>, Vec<FieldError>),
    notice_and_anchor: &str,
) -> AppResult<Response> {
    who!(st, s, audit, who, Action::EditCases);
    let f = to_map(pairs);
    let entry = entry_id(&f, &format!("{prefix}entry_id"))?;
    let (record, errors) = parse(&f);
    let result = match record {
        Some(r) if errors.is_empty() => super::save_entry(st, who, id, entry, r).await.map(|_| ()),
        _ => Err(AppError::Invalid(errors)),
    };
    match result {
        Ok(()) => Ok(redirect(format!("/cases/{id}?notice={notice_and_anchor}"))),
        Err(e) => case_form_failed(st, s, id, e, prefix, f).await,
    }
}

/// `POST /cases/{id}/services`: `service.*`; `service.entry_id` empty adds one.
async fn save_service(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    save_entry_form(
        &st,
        &s,
        id,
        &pairs,
        "service.",
        service_from,
        "service_saved#services",
    )
    .await
}

/// `POST /cases/{id}/proceedings`: `proceeding.*`; `proceeding.entry_id` empty adds one.
async fn save_proceeding(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    save_entry_form(
        &st,
        &s,
        id,
        &pairs,
        "proceeding.",
        proceeding_from,
        "proceeding_saved#proceedings",
    )
    .await
}

/// `POST /cases/{id}/close`: `version`, `close.status`, `close.closure_reason`, `close.note`
async fn close(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    who!(st, s, audit, who, Action::EditCases);
    let f = to_map(&pairs);
    let mut x = Parse::new(&f);
    let version = x.num::<i32>("version");
    let referred = x.text("close.status") == CaseStatus::ClosedReferred.code();
    let reason = x.code::<ClosureReason>("close.closure_reason");
    let reason = x.need("close.closure_reason", reason);
    let note = x.long("close.note");
    if note.chars().count() > 20_000 {
        x.bad("close.note", "too_long");
    }
    let result = match (version, reason) {
        (Some(v), Some(r)) if x.errors.is_empty() => {
            super::close(&st, who, id, v, referred, r, &note).await
        }
        _ => Err(AppError::Invalid(x.errors)),
    };
    match result {
        Ok(()) => Ok(redirect(format!("/cases/{id}?notice=case_closed"))),
        Err(AppError::Invalid(errors)) => {
            let errors = errors
                .into_iter()
                .map(|e| match e.field.strip_prefix("case.") {
                    Some(rest) => FieldError::new(format!("close.{rest}"), e.code),
                    None => e,
                })
                .collect();
            case_form_failed(&st, &s, id, AppError::Invalid(errors), "", f).await
        }
        Err(e) => case_form_failed(&st, &s, id, e, "close.", f).await,
    }
}

/// `POST /cases/{id}/reassign`: `caseworker_id`
async fn reassign(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    who!(st, s, audit, who, Action::ReassignCases);
    let f = to_map(&pairs);
    let result = match Parse::new(&f).text("caseworker_id").parse::<Uuid>() {
        Ok(u) => super::reassign(&st, who, id, u).await,
        Err(_) => Err(AppError::Invalid(vec![FieldError::new(
            "caseworker_id",
            "required",
        )])),
    };
    match result {
        Ok(()) => Ok(redirect(format!("/cases/{id}?notice=case_reassigned"))),
        Err(e) => case_form_failed(&st, &s, id, e, "", f).await,
    }
}

// ---------------------------------------------------------------- retention

/// `POST /cases/{id}/legal-hold`: `hold.reason`
async fn place_hold(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    who!(st, s, audit, who, Action::ManageLegalHold);
    let f = to_map(&pairs);
    let reason = Parse::new(&f).long("hold.reason");
    match crate::retention::place_hold(&st, who, id, &reason).await {
        Ok(()) => Ok(redirect(format!(
            "/cases/{id}?notice=legal_hold_placed#retention"
        ))),
        Err(e) => case_form_failed(&st, &s, id, e, "hold.", f).await,
    }
}

/// `POST /cases/{id}/legal-hold/release`
async fn release_hold(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    who!(st, s, audit, who, Action::ManageLegalHold);
    match crate::retention::release_hold(&st, who, id).await {
        Ok(()) => Ok(redirect(format!(
            "/cases/{id}?notice=legal_hold_released#retention"
        ))),
        Err(e) => case_form_failed(&st, &s, id, e, "hold.", to_map(&pairs)).await,
    }
}

/// What the erasure page shows before the coordinator confirms: the person's cases and the
/// referrals that will be recalled (numbers and countries only).
async fn erase_page(
    st: &AppState,
    s: &SignedIn,
    id: Uuid,
    status: StatusCode,
    extra: Value,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    let who = Who {
        actor: &s.actor,
        audit: &audit,
    };
    let v = super::read(st, who, id).await?;
    let mut cases = Vec::new();
    let mut recalls = Vec::new();
    for c in st.store.cases_of_person(v.person_id).await? {
        for r in st.store.ref_by_case(c.id).await? {
            if r.direction == "out"
                && !matches!(
                    r.state.as_str(),
                    crate::referrals::state::RECALLED | crate::referrals::state::CANCELLED
                )
            {
                recalls.push(json!({
                    "case": c.number,
                    "country": crate::referrals::pages::country_name(&r.peer, s.ctx.lang),
                }));
            }
        }
        cases.push(c.number);
    }
    let held = st.store.person_held(v.person_id).await?;
    Ok(st.web.render_status(
        &s.ctx,
        status,
        "cases/erase.html",
        merge(
            json!({ "case_id": id, "number": v.number, "cases": cases, "recalls": recalls, "held": held,
                    "erased": v.anonymised_why.as_deref() == Some(crate::store::retention_sql::WHY_ERASURE) }),
            extra,
        ),
    ))
}

/// `GET /cases/{id}/erase`: what erasing the person does, and the confirmation form.
async fn erase_form(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    who!(st, s, audit, _who, Action::ErasePerson);
    erase_page(&st, &s, id, StatusCode::OK, json!({})).await
}

/// `POST /cases/{id}/erase`: `confirm` (the case's number, typed again).
async fn erase_submit(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    who!(st, s, audit, who, Action::ErasePerson);
    let f = to_map(&pairs);
    let confirm = Parse::new(&f).text("confirm");
    match crate::retention::erase(&st, who, id, &confirm).await {
        Ok(_) => Ok(redirect(format!("/cases/{id}?notice=person_erased"))),
        Err(AppError::Invalid(errors)) => {
            let errors = errors_json(&st, s.ctx.lang, &errors);
            erase_page(
                &st,
                &s,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "errors": errors, "form": f }),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------- edit case, edit person

async fn render_edit(
    st: &AppState,
    s: &SignedIn,
    v: &CaseView,
    status: StatusCode,
    form: Fields,
    extra: Value,
) -> AppResult<Response> {
    let data = merge(
        json!({
            "c": { "id": v.id, "number": v.number, "version": v.version },
            "form": form,
            "opts": choices(st, s.ctx.lang),
        }),
        extra,
    );
    Ok(st
        .web
        .render_status(&s.ctx, status, "cases/edit.html", data))
}

/// `GET /cases/{id}/edit`
async fn edit_form(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    who!(st, s, audit, who, Action::EditCases);
    let v = super::read(&st, who, id).await?;
    let mut form = case_to_form(&v.case);
    form.insert("version".into(), Value::from(v.version.to_string()));
    render_edit(&st, &s, &v, StatusCode::OK, form, json!({})).await
}

/// `POST /cases/{id}/edit`: `version` and the `case.*` fields.
async fn edit_submit(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    who!(st, s, audit, who, Action::EditCases);
    let v = super::read(&st, who, id).await?;
    let mut f = to_map(&pairs);
    for name in MANY {
        if name.starts_with("case.") {
            f.entry(*name).or_insert_with(|| json!([]));
        }
    }
    let version = Parse::new(&f).num::<i32>("version").unwrap_or(0);
    let (record, errors) = case_from(&f, Some(&v.case));
    let result = match record {
        Some(r) if errors.is_empty() => super::update(&st, who, id, version, r).await,
        _ => Err(AppError::Invalid(errors)),
    };
    match result {
        Ok(()) => Ok(redirect(format!("/cases/{id}?notice=case_updated"))),
        Err(AppError::Invalid(errors)) => {
            let errors = errors_json(&st, s.ctx.lang, &errors);
            render_edit(
                &st,
                &s,
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                f,
                json!({ "errors": errors }),
            )
            .await
        }
        Err(AppError::Conflict("version")) => {
            let error = st.web.tr(s.ctx.lang, "cases-error-version");
            render_edit(
                &st,
                &s,
                &v,
                StatusCode::CONFLICT,
                f,
                json!({ "error": error, "conflict": true }),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// The first case of a person that the actor may read (authorised and audited by the
/// service), to show and change the person through it.
async fn case_of_person(st: &AppState, who: Who<'_>, person: Uuid) -> AppResult<CaseView> {
    let first = st
        .store
        .cases_of_person(person)
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    let v = super::read(st, who, first.id).await?;
    if v.person_id != person {
        return Err(AppError::NotFound);
    }
    Ok(v)
}

async fn render_person_edit(
    st: &AppState,
    s: &SignedIn,
    v: &CaseView,
    status: StatusCode,
    form: Fields,
    extra: Value,
) -> AppResult<Response> {
    let data = merge(
        json!({
            "c": { "id": v.id, "number": v.number },
            "person_id": v.person_id,
            "doc_slots": slots(&form, "documents"),
            "contact_slots": slots(&form, "contacts"),
            "form": form,
            "opts": choices(st, s.ctx.lang),
        }),
        extra,
    );
    Ok(st
        .web
        .render_status(&s.ctx, status, "cases/person_edit.html", data))
}

/// `GET /persons/{id}/edit`
async fn person_edit_form(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    who!(st, s, audit, who, Action::EditCases);
    let v = case_of_person(&st, who, id).await?;
    let form = person_to_form(&v.person);
    render_person_edit(&st, &s, &v, StatusCode::OK, form, json!({})).await
}

/// `POST /persons/{id}/edit`: the `person.*` fields.
async fn person_edit_submit(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    who!(st, s, audit, who, Action::EditCases);
    let v = case_of_person(&st, who, id).await?;
    let mut f = to_map(&pairs);
    for name in MANY {
        if name.starts_with("person.") {
            f.entry(*name).or_insert_with(|| json!([]));
        }
    }
    let (record, errors) = person_from(&f, v.person.clone());
    let result = if errors.is_empty() {
        super::update_person(&st, who, id, record).await
    } else {
        Err(AppError::Invalid(errors))
    };
    match result {
        Ok(()) => Ok(redirect(format!("/cases/{}?notice=person_updated", v.id))),
        Err(AppError::Invalid(errors)) => {
            let errors = errors_json(&st, s.ctx.lang, &errors);
            render_person_edit(
                &st,
                &s,
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                f,
                json!({ "errors": errors }),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------- break the glass

/// `GET /cases/{id}/break-glass`: the form asking why.
async fn break_glass_form(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    who!(st, s, audit, _who, Action::BreakGlass);
    Ok(st
        .web
        .render(&s.ctx, "cases/break_glass.html", json!({ "case_id": id })))
}

/// `POST /cases/{id}/break-glass`: `reason` (at least 20 characters); shows the case
/// read-only with a banner saying the access was recorded.
async fn break_glass_submit(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    who!(st, s, audit, who, Action::BreakGlass);
    let f = to_map(&pairs);
    let reason = Parse::new(&f).long("reason");
    match super::break_glass(&st, who, id, &reason).await {
        Ok(v) => render_case(&st, &s, &v, StatusCode::OK, true, json!({ "glass": true })).await,
        Err(AppError::Invalid(errors)) => {
            let errors = errors_json(&st, s.ctx.lang, &errors);
            Ok(st.web.render_status(
                &s.ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                "cases/break_glass.html",
                json!({ "case_id": id, "errors": errors, "form": f }),
            ))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Fields {
        to_map(
            &pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn repeated_names_become_lists_and_records_round_trip() {
        let f = form(&[
            ("case.intake_channel", "HOTLINE"),
            ("case.registration_date", "2026-03-01"),
            ("case.status", "ACTIVE"),
            ("case.process.means", "FRAUD"),
            ("case.process.means", "DECEPTION"),
            ("case.process.exploitation_start", "2025-06"),
            ("case.location", "gt-qz"),
        ]);
        let (c, e) = case_from(&f, None);
        assert!(e.is_empty(), "{e:?}");
        let c = c.unwrap();
        assert_eq!(c.process.means.len(), 2);
        assert_eq!(c.location.as_deref(), Some("GT-QZ"));
        let back = case_from(&case_to_form(&c), None).0.unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn unreadable_values_are_named_by_field() {
        let f = form(&[
            ("case.intake_channel", "NOPE"),
            ("case.registration_date", "01/03/2026"),
            ("case.process.exploitation_end", "2025-13"),
            ("case.process.country_of_exploitation", "XXX"),
        ]);
        let (c, e) = case_from(&f, None);
        assert!(c.is_none());
        let got: Vec<_> = e.iter().map(|e| (e.field.as_str(), e.code)).collect();
        for want in [
            ("case.intake_channel", "unknown_code"),
            ("case.registration_date", "invalid"),
            ("case.status", "required"),
            ("case.process.exploitation_end", "invalid"),
            ("case.process.country_of_exploitation", "unknown_country"),
        ] {
            assert!(got.contains(&want), "{want:?} not in {got:?}");
        }
    }

    #[test]
    fn consent_errors_land_on_the_registration_form() {
        assert_eq!(form_field("consents.0.given_by"), "consent.given_by");
        assert_eq!(
            form_field("consents.2.destination_country"),
            "consent.ref.destination_country"
        );
        assert_eq!(form_field("consents"), "consent.cm");
        assert_eq!(
            form_field("case.process.exploitation_end"),
            "case.process.exploitation_end"
        );
        assert_eq!(
            Step::of_field("case.process.exploitation_end"),
            Step::Process
        );
        assert_eq!(Step::of_field("person.identity.given_names"), Step::Person);
        assert_eq!(Step::of_field("consent.ref.expires_on"), Step::Consent);
        assert_eq!(Step::of_field("case.location"), Step::Case);
    }

    #[test]
    fn person_forms_round_trip() {
        let f = form(&[
            ("person.identity.given_names", "María José"),
            ("person.identity.documents.0.kind", "DPI"),
            ("person.identity.documents.0.number", "1234 56789 0101"),
            ("person.identity.documents.0.country", "GTM"),
            ("person.citizenship", "GTM"),
            ("person.citizenship", ""),
            ("person.languages", "quc"),
            ("person.languages", "spa"),
            ("person.migration_context", "RETURNEE"),
        ]);
        let (p, e) = person_from(&f, PersonRecord::default());
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(p.identity.documents.len(), 1);
        assert_eq!(p.languages, vec!["quc".to_owned(), "spa".to_owned()]);
        let back = person_from(&person_to_form(&p), PersonRecord::default()).0;
        assert_eq!(back, p);
    }
}
