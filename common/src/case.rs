//! The case record (DATA-STANDARD.md): a person, their cases, the trafficking process coded by
//! the Palermo Protocol, and consent. Plain data with serde, plus the checks that every
//! record must pass before it is stored, whoever sends it (page, API or import). Checks
//! report every problem at once, each as a field path and a stable snake_case code.
//!
//! Which fields identify the person (and are sealed at rest by the node) is decided here,
//! in [`Identity`]: everything in it, and the case narrative, is sealed; nothing else is.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::derive;
use crate::vocab::codes::{
    CaseStatus, ClosureReason, ConsentGivenBy, ConsentScope, ControlMethod, Education,
    ExploitationType, Gender, IntakeChannel, MaritalStatus, Means, MigrantType, MigrationContext,
    PerpetratorRole, PerpetratorSex, ProceedingStage, ProtectionStatus, RecruiterRelation,
    RecruitmentMethod, ReferralFieldGroup, RouteEventKind, ServiceStatus, ServiceType,
    SexualExploitationType, StatusDecidedBy, TraffickingAct, TraffickingStatus, Verdict,
};
use crate::vocab::{geo, isic, languages};
use crate::CountryCode;

/// One problem with a record: where (a dotted path such as `process.exploitation_end`) and
/// what (`required`, `end_before_start`, `in_future`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub field: String,
    pub code: &'static str,
}

pub(crate) fn issue(issues: &mut Vec<Issue>, field: impl Into<String>, code: &'static str) {
    issues.push(Issue {
        field: field.into(),
        code,
    });
}

/// A date that may lack its day or month (`2024`, `2024-05`, `2024-05-17`), as victims often
/// remember when something began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartialDate {
    pub year: i32,
    pub month: Option<u32>,
    pub day: Option<u32>,
}

/// Why a text is not a partial date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a date (YYYY, YYYY-MM or YYYY-MM-DD): {0:?}")]
pub struct InvalidPartialDate(pub String);

impl PartialDate {
    /// The earliest day it can mean.
    pub fn first_day(self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year, self.month.unwrap_or(1), self.day.unwrap_or(1))
    }

    fn parts(self) -> (i32, u32, Option<u32>) {
        (self.year, self.month.unwrap_or(1), self.day)
    }
}

impl FromStr for PartialDate {
    type Err = InvalidPartialDate;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidPartialDate(s.to_owned());
        let mut it = s.trim().split('-');
        let year: i32 = it
            .next()
            .filter(|y| y.len() == 4)
            .and_then(|y| y.parse().ok())
            .ok_or_else(bad)?;
        let month = it
            .next()
            .map(|m| m.parse::<u32>().map_err(|_| bad()))
            .transpose()?;
        let day = it
            .next()
            .map(|d| d.parse::<u32>().map_err(|_| bad()))
            .transpose()?;
        if it.next().is_some() || (day.is_some() && month.is_none()) {
            return Err(bad());
        }
        let date = PartialDate { year, month, day };
        if !(1900..=2200).contains(&year)
            || month.is_some_and(|m| !(1..=12).contains(&m))
            || date.first_day().is_none()
        {
            return Err(bad());
        }
        Ok(date)
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.month, self.day) {
            (Some(m), Some(d)) => write!(f, "{:04}-{m:02}-{d:02}", self.year),
            (Some(m), None) => write!(f, "{:04}-{m:02}", self.year),
            _ => write!(f, "{:04}", self.year),
        }
    }
}

impl Serialize for PartialDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PartialDate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// OpenAPI: `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (the form it is always written in).
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for PartialDate {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "A date that may lack its day or month: `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (years 1900-2200).",
            ))
            .pattern(Some("^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"))
            .examples(["2024-05"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for PartialDate {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("PartialDate")
    }
}

/// An identity document. Sealed at rest; searchable only through a blind index of its number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdDocument {
    /// Free text: `DPI`, `pasaporte`, `DUI`, `CURP` …
    pub kind: String,
    pub number: String,
    pub country: Option<CountryCode>,
}

/// A way to reach the person. Sealed at rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    /// `phone`, `email`, `whatsapp`, `other`.
    pub kind: String,
    pub value: String,
}

/// Everything that identifies the person: sealed at rest, never logged, never in statistics,
/// and out of the node only inside a referral whose consent lists the `IDENTITY` or
/// `CONTACT` group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Identity {
    pub given_names: String,
    pub family_names: String,
    pub birth_date: Option<NaiveDate>,
    pub documents: Vec<IdDocument>,
    pub contacts: Vec<Contact>,
    pub address: String,
}

/// The person: identity plus the coded facts about them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonRecord {
    pub identity: Identity,
    pub gender: Option<Gender>,
    pub citizenship: BTreeSet<CountryCode>,
    pub country_of_birth: Option<CountryCode>,
    /// ISO 639-3 codes, first the primary language.
    pub languages: Vec<String>,
    pub marital_status: Option<MaritalStatus>,
    pub number_of_children: Option<u16>,
    pub education: Option<Education>,
    pub migrant_type: Option<MigrantType>,
    pub protection_status: Option<ProtectionStatus>,
    pub migration_context: BTreeSet<MigrationContext>,
}

/// A step of the route: where and when the person was recruited, moved or exploited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RouteEvent {
    pub kind: RouteEventKind,
    pub country: CountryCode,
    /// ISO 3166-2 code of the country's subdivision.
    pub subdivision: Option<String>,
    pub date: Option<PartialDate>,
}

/// Someone who took part in the trafficking, as far as the victim can say. Coded only: no
/// names (those belong to the prosecution's file, not to a victim-assistance record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Perpetrator {
    pub role: PerpetratorRole,
    #[serde(default)]
    pub sex: Option<PerpetratorSex>,
    #[serde(default)]
    pub approximate_age: Option<u32>,
    #[serde(default)]
    pub citizenship: Option<CountryCode>,
}

/// The trafficking process, coded by the Palermo Protocol, art. 3.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TraffickingProcess {
    pub acts: BTreeSet<TraffickingAct>,
    pub means: BTreeSet<Means>,
    pub control_methods: BTreeSet<ControlMethod>,
    pub exploitation_types: BTreeSet<ExploitationType>,
    pub sexual_exploitation_types: BTreeSet<SexualExploitationType>,
    pub recruitment_methods: BTreeSet<RecruitmentMethod>,
    pub recruiter_relation: Option<RecruiterRelation>,
    /// ISIC Rev.4 section (`A`) or division (`A01`) of forced labour.
    pub forced_labour_industry: Option<String>,
    pub age_when_trafficked: Option<u32>,
    pub exploitation_start: Option<PartialDate>,
    pub exploitation_end: Option<PartialDate>,
    pub country_of_recruitment: Option<CountryCode>,
    pub country_of_exploitation: Option<CountryCode>,
    pub route: Vec<RouteEvent>,
    pub perpetrators: Vec<Perpetrator>,
}

/// A case: one intake of a person by an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseRecord {
    pub intake_channel: IntakeChannel,
    pub registration_date: NaiveDate,
    #[serde(default)]
    pub identification_date: Option<NaiveDate>,
    pub status: CaseStatus,
    #[serde(default)]
    pub closure_reason: Option<ClosureReason>,
    #[serde(default)]
    pub trafficking_status: Option<TraffickingStatus>,
    #[serde(default)]
    pub status_decided_by: Option<StatusDecidedBy>,
    /// ISO 3166-2 subdivision where the case is located.
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub process: TraffickingProcess,
    /// Free-text account. Sealed at rest.
    #[serde(default)]
    pub narrative: String,
}

/// An assistance service of the case's support plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceRecord {
    pub service_type: ServiceType,
    /// Who provides it (an organisation's name).
    #[serde(default)]
    pub provider: String,
    pub status: ServiceStatus,
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    #[serde(default)]
    pub end_date: Option<NaiveDate>,
    /// Free text. Sealed at rest.
    #[serde(default)]
    pub notes: String,
}

/// A step of the legal proceedings: complaint, investigation, prosecution, trial, verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProceedingRecord {
    pub stage: ProceedingStage,
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// The authority (prosecutor's office, court) that holds it.
    #[serde(default)]
    pub authority: String,
    /// The authority's file number.
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub verdict: Option<Verdict>,
    #[serde(default)]
    pub victim_witness: bool,
    #[serde(default)]
    pub protection_measures: bool,
    #[serde(default)]
    pub reparation_ordered: bool,
    /// Free text. Sealed at rest.
    #[serde(default)]
    pub notes: String,
}

/// A consent, as given; withdrawal is recorded against it later, never by editing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentRecord {
    pub scope: ConsentScope,
    pub given_by: ConsentGivenBy,
    /// The guardian's name when a guardian consented (sealed at rest).
    #[serde(default)]
    pub guardian_name: String,
    pub given_on: NaiveDate,
    #[serde(default)]
    pub expires_on: Option<NaiveDate>,
    /// REFERRAL only: the country the data may go to.
    #[serde(default)]
    pub destination_country: Option<CountryCode>,
    /// REFERRAL only, optional: the organisation there.
    #[serde(default)]
    pub destination_org: String,
    /// REFERRAL only: which groups of fields may travel.
    #[serde(default)]
    pub field_groups: BTreeSet<ReferralFieldGroup>,
    /// Where the signed form is kept (a reference, not the document).
    #[serde(default)]
    pub evidence_ref: String,
}

const NAME_MAX: usize = 200;
const TEXT_MAX: usize = 20_000;

pub(crate) fn text(issues: &mut Vec<Issue>, field: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        issue(issues, field, "too_long");
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        issue(issues, field, "invalid");
    }
}

pub(crate) fn known_country(issues: &mut Vec<Issue>, field: &str, c: Option<CountryCode>) {
    if c.is_some_and(|c| geo::country(c).is_none()) {
        issue(issues, field, "unknown_country");
    }
}

fn not_after(issues: &mut Vec<Issue>, field: &str, d: Option<NaiveDate>, today: NaiveDate) {
    if d.is_some_and(|d| d > today) {
        issue(issues, field, "in_future");
    }
}

impl PersonRecord {
    /// Every problem with this person, as of `today`. A person may be registered without a
    /// name (an anonymous hotline call, a statistical import): nothing identifying is required.
    pub fn check(&self, today: NaiveDate) -> Vec<Issue> {
        let mut v = Vec::new();
        let id = &self.identity;
        text(&mut v, "identity.given_names", &id.given_names, NAME_MAX);
        text(&mut v, "identity.family_names", &id.family_names, NAME_MAX);
        text(&mut v, "identity.address", &id.address, 1000);
        not_after(&mut v, "identity.birth_date", id.birth_date, today);
        if id
            .birth_date
            .and_then(|b| derive::age_on(b, today))
            .is_some_and(|a| a > 120)
        {
            issue(&mut v, "identity.birth_date", "implausible");
        }
        for (i, d) in id.documents.iter().enumerate() {
            if d.number.trim().is_empty() {
                issue(&mut v, format!("identity.documents.{i}.number"), "required");
            }
            text(
                &mut v,
                &format!("identity.documents.{i}.number"),
                &d.number,
                100,
            );
            text(
                &mut v,
                &format!("identity.documents.{i}.kind"),
                &d.kind,
                100,
            );
            known_country(
                &mut v,
                &format!("identity.documents.{i}.country"),
                d.country,
            );
        }
        for (i, c) in id.contacts.iter().enumerate() {
            if c.value.trim().is_empty() {
                issue(&mut v, format!("identity.contacts.{i}.value"), "required");
            }
            text(
                &mut v,
                &format!("identity.contacts.{i}.value"),
                &c.value,
                300,
            );
        }
        for c in &self.citizenship {
            known_country(&mut v, "citizenship", Some(*c));
        }
        known_country(&mut v, "country_of_birth", self.country_of_birth);
        for l in &self.languages {
            if languages::language(l).is_none() {
                issue(&mut v, "languages", "unknown_language");
            }
        }
        if self.number_of_children.is_some_and(|n| n > 30) {
            issue(&mut v, "number_of_children", "implausible");
        }
        v
    }

    /// Age on `date`, if the birth date is known.
    pub fn age_on(&self, date: NaiveDate) -> Option<u32> {
        self.identity
            .birth_date
            .and_then(|b| derive::age_on(b, date))
    }
}

impl TraffickingProcess {
    fn check(&self, v: &mut Vec<Issue>, today: NaiveDate) {
        if let (Some(s), Some(e)) = (self.exploitation_start, self.exploitation_end) {
            if e.parts() < s.parts() {
                issue(v, "process.exploitation_end", "end_before_start");
            }
        }
        for (field, d) in [
            ("process.exploitation_start", self.exploitation_start),
            ("process.exploitation_end", self.exploitation_end),
        ] {
            if d.and_then(PartialDate::first_day)
                .is_some_and(|d| d > today)
            {
                issue(v, field, "in_future");
            }
        }
        if self
            .forced_labour_industry
            .as_deref()
            .is_some_and(|c| !isic::valid_isic(c))
        {
            issue(v, "process.forced_labour_industry", "invalid");
        }
        if !self.sexual_exploitation_types.is_empty()
            && !self
                .exploitation_types
                .contains(&ExploitationType::SexualExploitation)
        {
            issue(
                v,
                "process.sexual_exploitation_types",
                "needs_sexual_exploitation",
            );
        }
        if self.age_when_trafficked.is_some_and(|a| a > 120) {
            issue(v, "process.age_when_trafficked", "implausible");
        }
        known_country(
            v,
            "process.country_of_recruitment",
            self.country_of_recruitment,
        );
        known_country(
            v,
            "process.country_of_exploitation",
            self.country_of_exploitation,
        );
        for (i, e) in self.route.iter().enumerate() {
            known_country(v, &format!("process.route.{i}.country"), Some(e.country));
            if let Some(sub) = &e.subdivision {
                match geo::subdivision(sub) {
                    Some(s) if s.country == e.country.as_str() => {}
                    Some(_) => issue(
                        v,
                        format!("process.route.{i}.subdivision"),
                        "not_in_country",
                    ),
                    None => issue(v, format!("process.route.{i}.subdivision"), "invalid"),
                }
            }
            if e.date
                .and_then(PartialDate::first_day)
                .is_some_and(|d| d > today)
            {
                issue(v, format!("process.route.{i}.date"), "in_future");
            }
        }
    }
}

impl CaseRecord {
    /// Every problem with this case, as of `today`.
    pub fn check(&self, today: NaiveDate) -> Vec<Issue> {
        let mut v = Vec::new();
        not_after(
            &mut v,
            "registration_date",
            Some(self.registration_date),
            today,
        );
        not_after(
            &mut v,
            "identification_date",
            self.identification_date,
            today,
        );
        let closed = matches!(self.status, CaseStatus::Closed | CaseStatus::ClosedReferred);
        match (closed, self.closure_reason.is_some()) {
            (true, false) => issue(&mut v, "closure_reason", "required"),
            (false, true) => issue(&mut v, "closure_reason", "only_when_closed"),
            _ => {}
        }
        if self.status_decided_by.is_some() && self.trafficking_status.is_none() {
            issue(&mut v, "trafficking_status", "required");
        }
        if let Some(loc) = &self.location {
            if geo::subdivision(loc).is_none() {
                issue(&mut v, "location", "invalid");
            }
        }
        text(&mut v, "narrative", &self.narrative, TEXT_MAX);
        self.process.check(&mut v, today);
        v
    }
}

impl ServiceRecord {
    /// Every problem with this service, as of `today`.
    pub fn check(&self, today: NaiveDate) -> Vec<Issue> {
        let mut v = Vec::new();
        text(&mut v, "provider", &self.provider, NAME_MAX);
        text(&mut v, "notes", &self.notes, TEXT_MAX);
        not_after(&mut v, "start_date", self.start_date, today);
        if let (Some(s), Some(e)) = (self.start_date, self.end_date) {
            if e < s {
                issue(&mut v, "end_date", "end_before_start");
            }
        }
        if self.status == ServiceStatus::Completed && self.end_date.is_none() {
            issue(&mut v, "end_date", "required");
        }
        v
    }
}

impl ProceedingRecord {
    /// Every problem with this step, as of `today`.
    pub fn check(&self, today: NaiveDate) -> Vec<Issue> {
        let mut v = Vec::new();
        text(&mut v, "authority", &self.authority, NAME_MAX);
        text(&mut v, "reference", &self.reference, 100);
        text(&mut v, "notes", &self.notes, TEXT_MAX);
        not_after(&mut v, "date", self.date, today);
        let decided = matches!(
            self.stage,
            ProceedingStage::Verdict | ProceedingStage::Appeal
        );
        if self.verdict.is_some() && !decided {
            issue(&mut v, "verdict", "only_for_verdict");
        }
        if self.stage == ProceedingStage::Verdict && self.verdict.is_none() {
            issue(&mut v, "verdict", "required");
        }
        v
    }
}

impl ConsentRecord {
    /// Every problem with this consent, given the person's age when it was given (if known),
    /// as of `today`.
    pub fn check(&self, age_when_given: Option<u32>, today: NaiveDate) -> Vec<Issue> {
        let mut v = Vec::new();
        not_after(&mut v, "given_on", Some(self.given_on), today);
        if self.expires_on.is_some_and(|e| e <= self.given_on) {
            issue(&mut v, "expires_on", "end_before_start");
        }
        if age_when_given.is_some_and(derive::is_minor) && self.given_by == ConsentGivenBy::Person {
            issue(&mut v, "given_by", "minor_needs_guardian");
        }
        if self.given_by == ConsentGivenBy::Guardian && self.guardian_name.trim().is_empty() {
            issue(&mut v, "guardian_name", "required");
        }
        text(&mut v, "guardian_name", &self.guardian_name, NAME_MAX);
        text(&mut v, "evidence_ref", &self.evidence_ref, 200);
        text(&mut v, "destination_org", &self.destination_org, NAME_MAX);
        if self.scope == ConsentScope::Referral {
            if self.destination_country.is_none() {
                issue(&mut v, "destination_country", "required");
            }
            known_country(&mut v, "destination_country", self.destination_country);
            if self.field_groups.is_empty() {
                issue(&mut v, "field_groups", "required");
            }
            if self.expires_on.is_none() {
                issue(&mut v, "expires_on", "required");
            }
        } else if self.destination_country.is_some()
            || !self.field_groups.is_empty()
            || !self.destination_org.is_empty()
        {
            issue(&mut v, "scope", "referral_fields_on_other_scope");
        }
        v
    }

    /// Whether it is in force on `date` (given, not expired; withdrawal is checked by the
    /// node against its history).
    pub fn in_force_on(&self, date: NaiveDate) -> bool {
        self.given_on <= date && self.expires_on.is_none_or(|e| date < e)
    }
}

/// The blind-index tokens of a person's names: each word, accent- and case-folded, of at
/// least two characters (`"María José  Pérez-López"` → `maria`, `jose`, `perez`, `lopez`).
pub fn name_tokens(names: &str) -> BTreeSet<String> {
    names
        .split(|c: char| c.is_whitespace() || matches!(c, '-' | ',' | '.' | '\'' | '’'))
        .map(geo::fold)
        .filter(|t| t.chars().count() >= 2)
        .collect()
}

/// The blind-index token of a document number: letters and digits only, upper-case
/// (`"1234 56789-0101"` and `"1234567890101"` match).
pub fn document_token(number: &str) -> Option<String> {
    let t: String = number
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (t.len() >= 3).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn case() -> CaseRecord {
        CaseRecord {
            intake_channel: IntakeChannel::Hotline,
            registration_date: d("2026-03-01"),
            identification_date: Some(d("2026-02-27")),
            status: CaseStatus::Active,
            closure_reason: None,
            trafficking_status: Some(TraffickingStatus::PossibleVictim),
            status_decided_by: Some(StatusDecidedBy::Ngo),
            location: Some("GT-QZ".into()),
            process: TraffickingProcess::default(),
            narrative: String::new(),
        }
    }

    fn consent(scope: ConsentScope) -> ConsentRecord {
        ConsentRecord {
            scope,
            given_by: ConsentGivenBy::Person,
            guardian_name: String::new(),
            given_on: d("2026-03-01"),
            expires_on: None,
            destination_country: None,
            destination_org: String::new(),
            field_groups: BTreeSet::new(),
            evidence_ref: "F-12".into(),
        }
    }

    const TODAY: &str = "2026-11-30";

    fn codes(issues: &[Issue]) -> Vec<(String, &'static str)> {
        issues.iter().map(|i| (i.field.clone(), i.code)).collect()
    }

    fn has(got: &[(String, &'static str)], field: &str, code: &str) -> bool {
        got.iter().any(|(f, c)| f == field && *c == code)
    }

    #[test]
    fn partial_dates_parse_print_and_refuse() {
        for ok in ["2024", "2024-05", "2024-05-17"] {
            assert_eq!(ok.parse::<PartialDate>().unwrap().to_string(), ok);
        }
        for bad in [
            "24",
            "2024-13",
            "2024-02-30",
            "2024--01",
            "2024-01-01-01",
            "abcd",
            "1800",
        ] {
            assert!(bad.parse::<PartialDate>().is_err(), "{bad}");
        }
        let j: PartialDate = serde_json::from_str("\"2025-07\"").unwrap();
        assert_eq!(serde_json::to_string(&j).unwrap(), "\"2025-07\"");
    }

    #[test]
    fn a_sound_case_passes() {
        assert!(
            case().check(d(TODAY)).is_empty(),
            "{:?}",
            case().check(d(TODAY))
        );
    }

    #[test]
    fn impossible_combinations_are_named() {
        let mut c = case();
        c.status = CaseStatus::Closed;
        c.registration_date = d("2027-01-01");
        c.location = Some("XX-YY".into());
        c.process.exploitation_start = Some("2025-06".parse().unwrap());
        c.process.exploitation_end = Some("2025-02".parse().unwrap());
        c.process
            .sexual_exploitation_types
            .insert(SexualExploitationType::Prostitution);
        c.process.forced_labour_industry = Some("Z9".into());
        c.process.route.push(RouteEvent {
            kind: RouteEventKind::Transit,
            country: "MEX".parse().unwrap(),
            subdivision: Some("GT-QZ".into()),
            date: None,
        });
        let got = codes(&c.check(d(TODAY)));
        for want in [
            ("registration_date", "in_future"),
            ("closure_reason", "required"),
            ("location", "invalid"),
            ("process.exploitation_end", "end_before_start"),
            (
                "process.sexual_exploitation_types",
                "needs_sexual_exploitation",
            ),
            ("process.forced_labour_industry", "invalid"),
            ("process.route.0.subdivision", "not_in_country"),
        ] {
            assert!(has(&got, want.0, want.1), "{want:?} missing from {got:?}");
        }
    }

    #[test]
    fn a_person_needs_a_plausible_birth_date_and_known_codes() {
        let mut p = PersonRecord::default();
        assert!(
            p.check(d(TODAY)).is_empty(),
            "an anonymous person is allowed"
        );
        p.identity.birth_date = Some(d("2030-01-01"));
        p.languages.push("xx".into());
        p.citizenship.insert("ZZZ".parse().unwrap());
        let got = codes(&p.check(d(TODAY)));
        assert!(has(&got, "identity.birth_date", "in_future"));
        assert!(has(&got, "languages", "unknown_language"));
        assert!(has(&got, "citizenship", "unknown_country"));
        p.identity.given_names = "María".into();
        p.identity.birth_date = Some(d("2009-05-01"));
        p.languages = vec!["quc".into(), "spa".into()];
        p.citizenship = BTreeSet::from(["GTM".parse().unwrap()]);
        assert!(p.check(d(TODAY)).is_empty());
        assert_eq!(p.age_on(d(TODAY)), Some(17));
    }

    #[test]
    fn a_minor_cannot_consent_alone() {
        let c = consent(ConsentScope::CaseManagement);
        assert_eq!(
            codes(&c.check(Some(16), d(TODAY))),
            vec![("given_by".to_owned(), "minor_needs_guardian")]
        );
        assert!(c.check(Some(18), d(TODAY)).is_empty());
        let mut g = c.clone();
        g.given_by = ConsentGivenBy::Guardian;
        assert_eq!(
            codes(&g.check(Some(16), d(TODAY))),
            vec![("guardian_name".to_owned(), "required")]
        );
        g.guardian_name = "Ana (madre)".into();
        assert!(g.check(Some(16), d(TODAY)).is_empty());
    }

    #[test]
    fn referral_consent_is_scoped_and_expires() {
        let mut r = consent(ConsentScope::Referral);
        let got = codes(&r.check(None, d(TODAY)));
        assert!(has(&got, "destination_country", "required"));
        assert!(has(&got, "field_groups", "required"));
        assert!(has(&got, "expires_on", "required"));
        r.destination_country = Some("HND".parse().unwrap());
        r.field_groups.insert(ReferralFieldGroup::Identity);
        r.expires_on = Some(d("2026-02-01"));
        assert_eq!(
            codes(&r.check(None, d(TODAY))),
            vec![("expires_on".to_owned(), "end_before_start")]
        );
        r.expires_on = Some(d("2027-03-01"));
        assert!(r.check(None, d(TODAY)).is_empty());
        assert!(r.in_force_on(d(TODAY)));
        assert!(!r.in_force_on(d("2027-03-01")));
        let mut s = consent(ConsentScope::StatisticalUse);
        s.destination_country = Some("HND".parse().unwrap());
        assert_eq!(
            codes(&s.check(None, d(TODAY))),
            vec![("scope".to_owned(), "referral_fields_on_other_scope")]
        );
    }

    #[test]
    fn name_and_document_tokens_normalise() {
        let t = name_tokens("María José  Pérez-López O'Neill");
        assert_eq!(
            t,
            ["jose", "lopez", "maria", "neill", "perez"]
                .into_iter()
                .map(String::from)
                .collect()
        );
        assert_eq!(name_tokens("MARIA"), name_tokens("maría"));
        assert_eq!(
            document_token("1234 56789-0101"),
            Some("1234567890101".into())
        );
        assert_eq!(document_token("ab-c"), Some("ABC".into()));
        assert_eq!(document_token("1-"), None);
    }

    #[test]
    fn services_and_proceedings_are_checked() {
        let s = ServiceRecord {
            service_type: ServiceType::Shelter,
            provider: "Casa".into(),
            status: ServiceStatus::Completed,
            start_date: Some(d("2026-05-01")),
            end_date: Some(d("2026-04-01")),
            notes: String::new(),
        };
        assert_eq!(
            codes(&s.check(d(TODAY))),
            vec![("end_date".to_owned(), "end_before_start")]
        );
        let p = ProceedingRecord {
            stage: ProceedingStage::Complaint,
            date: Some(d("2026-05-01")),
            authority: "MP".into(),
            reference: String::new(),
            verdict: Some(Verdict::Conviction),
            victim_witness: false,
            protection_measures: false,
            reparation_ordered: false,
            notes: String::new(),
        };
        assert_eq!(
            codes(&p.check(d(TODAY))),
            vec![("verdict".to_owned(), "only_for_verdict")]
        );
    }

    #[test]
    fn records_refuse_unknown_json_fields() {
        let bad = r#"{"intake_channel":"HOTLINE","registration_date":"2026-01-01","status":"ACTIVE","colour":"red"}"#;
        let e = serde_json::from_str::<CaseRecord>(bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("colour"), "{e}");
        let ok =
            r#"{"intake_channel":"HOTLINE","registration_date":"2026-01-01","status":"ACTIVE"}"#;
        assert!(serde_json::from_str::<CaseRecord>(ok).is_ok());
    }
}
