//! Cross-border referrals: what travels from the referring organisation to the receiving one,
//! inside the sealed body of the `referral.*` envelopes (docs/protocol.md, PRIVACY.md).
//!
//! What travels about the person is a [`ReferralData`]: the minimum dataset (gender, age
//! band, citizenship, languages) always, and each other group of fields only when the
//! person's `REFERRAL` consent lists it ([`ReferralFieldGroup`]). [`ReferralData::build`] is
//! the only way the node makes one, and it never copies a field of a group that was not asked
//! for. Some things are in no group and never travel: the case narrative, the notes of
//! services and proceedings, the authority holding a proceeding and its file number, the case
//! location and the other administrative fields of the case.
//!
//! The receiving node checks every body with [`OfferBody::check`] / [`StepBody::check`]
//! before it keeps anything: every problem at once, each as a field path and a stable
//! snake_case code, like the case records' checks. A body with problems is refused whole.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::case::{
    issue, known_country, text, CaseRecord, Contact, IdDocument, Identity, Issue, PersonRecord,
    ProceedingRecord, ServiceRecord, TraffickingProcess,
};
use crate::derive;
use crate::directory::is_wire_uuid;
use crate::vocab::codes::{
    ConsentGivenBy, CtdcAgeBand, DeclineReason, Education, Gender, MaritalStatus, MigrantType,
    MigrationContext, ProceedingStage, ProtectionStatus, ReferralFieldGroup, ReferralReason,
    ReferralUpdateKind, ReferralUrgency, ServiceStatus, ServiceType, TraffickingStatus, Verdict,
};
use crate::vocab::{geo, isic, languages};
use crate::CountryCode;

/// Length of a name (a person's names, an organisation's name, a provider), in characters.
pub const NAME_MAX: usize = 200;
/// Length of an address, in characters.
pub const ADDRESS_MAX: usize = 1000;
/// Length of a note (a timeline note, the note of a step), in characters.
pub const NOTE_MAX: usize = 4000;
/// Length of the offer's message, in characters.
pub const MESSAGE_MAX: usize = 4000;
/// Length of the sender's case reference, in characters.
pub const REFERENCE_MAX: usize = 100;
/// Length of an identity document's kind or number, of a contact's kind, in characters.
const SHORT_MAX: usize = 100;
/// Length of a contact's value, in characters (as the case record allows).
const CONTACT_VALUE_MAX: usize = 300;
/// Identity documents, at most.
pub const MAX_DOCUMENTS: usize = 20;
/// Contacts, at most.
pub const MAX_CONTACTS: usize = 20;
/// Assistance items, at most.
pub const MAX_ASSISTANCE: usize = 200;
/// Proceeding steps, at most.
pub const MAX_PROCEEDINGS: usize = 200;
/// Timeline notes, at most.
pub const MAX_TIMELINE: usize = 500;

/// A dated note of the case's timeline (the `TIMELINE` group).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineNote {
    pub date: NaiveDate,
    pub text: String,
}

/// Everything a referral may be built from: the sender's records of the person and the case,
/// and the day the referral is made (for the age band).
#[derive(Debug, Clone, Copy)]
pub struct ReferralSource<'a> {
    pub person: &'a PersonRecord,
    pub case: &'a CaseRecord,
    pub services: &'a [ServiceRecord],
    pub proceedings: &'a [ProceedingRecord],
    pub notes: &'a [TimelineNote],
    pub today: NaiveDate,
}

/// `IDENTITY`: who the person is.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdentityGroup {
    pub given_names: String,
    pub family_names: String,
    pub birth_date: Option<NaiveDate>,
    pub documents: Vec<IdDocument>,
}

/// `CONTACT`: how to reach the person.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactGroup {
    pub contacts: Vec<Contact>,
    pub address: String,
}

/// `DEMOGRAPHICS`: the coded facts about the person beyond the minimum dataset.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DemographicsGroup {
    pub country_of_birth: Option<CountryCode>,
    pub marital_status: Option<MaritalStatus>,
    pub number_of_children: Option<u16>,
    pub education: Option<Education>,
    pub migrant_type: Option<MigrantType>,
    pub protection_status: Option<ProtectionStatus>,
    pub migration_context: BTreeSet<MigrationContext>,
}

/// `TRAFFICKING_PROCESS`: the trafficking status and the coded process (Palermo elements,
/// route, perpetrators as coded; no names, no narrative).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TraffickingGroup {
    pub trafficking_status: Option<TraffickingStatus>,
    pub identification_date: Option<NaiveDate>,
    pub process: TraffickingProcess,
}

/// One service of the support plan (`ASSISTANCE`), without its notes.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssistanceItem {
    pub service_type: ServiceType,
    pub provider: String,
    pub status: ServiceStatus,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

/// One step of the legal proceedings (`LEGAL_PROCEEDINGS`), without the authority, its file
/// number or the notes.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProceedingItem {
    pub stage: ProceedingStage,
    pub date: Option<NaiveDate>,
    pub verdict: Option<Verdict>,
    pub victim_witness: bool,
    pub protection_measures: bool,
    pub reparation_ordered: bool,
}

/// What travels about the person: the minimum dataset, and each group the consent lists.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReferralData {
    // The minimum dataset, always.
    pub gender: Option<Gender>,
    /// From the birth date, on the day the referral was made.
    pub age_band: Option<CtdcAgeBand>,
    pub citizenship: BTreeSet<CountryCode>,
    /// ISO 639-3 codes, first the primary language.
    pub languages: Vec<String>,
    // Each group only if listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityGroup>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactGroup>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demographics: Option<DemographicsGroup>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trafficking: Option<TraffickingGroup>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assistance: Option<Vec<AssistanceItem>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proceedings: Option<Vec<ProceedingItem>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<TimelineNote>>,
}

impl ReferralData {
    /// What travels of `src` when `groups` are listed: the minimum dataset, and exactly the
    /// listed groups (an empty list travels as an empty list: the group is still present).
    ///
    /// The source records are destructured field by field, so that a field added to them
    /// later does not compile until someone decides here whether it travels.
    pub fn build(src: &ReferralSource<'_>, groups: &BTreeSet<ReferralFieldGroup>) -> ReferralData {
        let listed = |g: ReferralFieldGroup| groups.contains(&g);
        let PersonRecord {
            identity,
            gender,
            citizenship,
            country_of_birth,
            languages,
            marital_status,
            number_of_children,
            education,
            migrant_type,
            protection_status,
            migration_context,
        } = src.person;
        let Identity {
            given_names,
            family_names,
            birth_date,
            documents,
            contacts,
            address,
        } = identity;
        let CaseRecord {
            intake_channel: _,
            registration_date: _,
            identification_date,
            status: _,
            closure_reason: _,
            trafficking_status,
            status_decided_by: _,
            location: _,
            process,
            narrative: _,
        } = src.case;

        ReferralData {
            gender: *gender,
            age_band: birth_date
                .and_then(|b| derive::age_on(b, src.today))
                .map(derive::ctdc_age_band),
            citizenship: citizenship.clone(),
            languages: languages.clone(),
            identity: listed(ReferralFieldGroup::Identity).then(|| IdentityGroup {
                given_names: given_names.clone(),
                family_names: family_names.clone(),
                birth_date: *birth_date,
                documents: documents.clone(),
            }),
            contact: listed(ReferralFieldGroup::Contact).then(|| ContactGroup {
                contacts: contacts.clone(),
                address: address.clone(),
            }),
            demographics: listed(ReferralFieldGroup::Demographics).then(|| DemographicsGroup {
                country_of_birth: *country_of_birth,
                marital_status: *marital_status,
                number_of_children: *number_of_children,
                education: *education,
                migrant_type: *migrant_type,
                protection_status: *protection_status,
                migration_context: migration_context.clone(),
            }),
            trafficking: listed(ReferralFieldGroup::TraffickingProcess).then(|| TraffickingGroup {
                trafficking_status: *trafficking_status,
                identification_date: *identification_date,
                process: process.clone(),
            }),
            assistance: listed(ReferralFieldGroup::Assistance)
                .then(|| src.services.iter().map(assistance_item).collect()),
            proceedings: listed(ReferralFieldGroup::LegalProceedings)
                .then(|| src.proceedings.iter().map(proceeding_item).collect()),
            timeline: listed(ReferralFieldGroup::Timeline).then(|| src.notes.to_vec()),
        }
    }

    /// The groups this data carries (present, even if empty).
    pub fn groups_present(&self) -> BTreeSet<ReferralFieldGroup> {
        [
            (self.identity.is_some(), ReferralFieldGroup::Identity),
            (self.contact.is_some(), ReferralFieldGroup::Contact),
            (
                self.demographics.is_some(),
                ReferralFieldGroup::Demographics,
            ),
            (
                self.trafficking.is_some(),
                ReferralFieldGroup::TraffickingProcess,
            ),
            (self.assistance.is_some(), ReferralFieldGroup::Assistance),
            (
                self.proceedings.is_some(),
                ReferralFieldGroup::LegalProceedings,
            ),
            (self.timeline.is_some(), ReferralFieldGroup::Timeline),
        ]
        .into_iter()
        .filter_map(|(present, g)| present.then_some(g))
        .collect()
    }

    /// Every problem a receiver finds with this data: texts too long or with control
    /// characters, too many items, unknown countries, languages, subdivisions or industries.
    /// Fields are named from the data (`identity.documents.2.number`, `timeline.7.text`).
    pub fn check(&self) -> Vec<Issue> {
        let mut v = Vec::new();
        for c in &self.citizenship {
            known_country(&mut v, "citizenship", Some(*c));
        }
        for l in &self.languages {
            if languages::language(l).is_none() {
                issue(&mut v, "languages", "unknown_language");
            }
        }
        if let Some(id) = &self.identity {
            text(&mut v, "identity.given_names", &id.given_names, NAME_MAX);
            text(&mut v, "identity.family_names", &id.family_names, NAME_MAX);
            count(
                &mut v,
                "identity.documents",
                id.documents.len(),
                MAX_DOCUMENTS,
            );
            for (i, d) in id.documents.iter().enumerate() {
                let f = format!("identity.documents.{i}");
                text(&mut v, &format!("{f}.kind"), &d.kind, SHORT_MAX);
                text(&mut v, &format!("{f}.number"), &d.number, SHORT_MAX);
                known_country(&mut v, &format!("{f}.country"), d.country);
            }
        }
        if let Some(c) = &self.contact {
            count(&mut v, "contact.contacts", c.contacts.len(), MAX_CONTACTS);
            for (i, x) in c.contacts.iter().enumerate() {
                let f = format!("contact.contacts.{i}");
                text(&mut v, &format!("{f}.kind"), &x.kind, SHORT_MAX);
                text(&mut v, &format!("{f}.value"), &x.value, CONTACT_VALUE_MAX);
            }
            text(&mut v, "contact.address", &c.address, ADDRESS_MAX);
        }
        if let Some(d) = &self.demographics {
            known_country(&mut v, "demographics.country_of_birth", d.country_of_birth);
            if d.number_of_children.is_some_and(|n| n > 30) {
                issue(&mut v, "demographics.number_of_children", "implausible");
            }
        }
        if let Some(t) = &self.trafficking {
            check_process(&mut v, &t.process);
        }
        if let Some(items) = &self.assistance {
            count(&mut v, "assistance", items.len(), MAX_ASSISTANCE);
            for (i, a) in items.iter().enumerate() {
                text(
                    &mut v,
                    &format!("assistance.{i}.provider"),
                    &a.provider,
                    NAME_MAX,
                );
            }
        }
        if let Some(items) = &self.proceedings {
            count(&mut v, "proceedings", items.len(), MAX_PROCEEDINGS);
        }
        if let Some(notes) = &self.timeline {
            count(&mut v, "timeline", notes.len(), MAX_TIMELINE);
            for (i, n) in notes.iter().enumerate() {
                text(&mut v, &format!("timeline.{i}.text"), &n.text, NOTE_MAX);
            }
        }
        v
    }

    /// The person as the destination pre-fills the linked case: the minimum dataset and the
    /// person's groups that travelled; everything else empty. (The age band has no place in
    /// the person record; the case-level groups are the caller's to use.)
    pub fn into_person(self) -> PersonRecord {
        let mut person = PersonRecord {
            gender: self.gender,
            citizenship: self.citizenship,
            languages: self.languages,
            ..PersonRecord::default()
        };
        if let Some(id) = self.identity {
            person.identity.given_names = id.given_names;
            person.identity.family_names = id.family_names;
            person.identity.birth_date = id.birth_date;
            person.identity.documents = id.documents;
        }
        if let Some(c) = self.contact {
            person.identity.contacts = c.contacts;
            person.identity.address = c.address;
        }
        if let Some(d) = self.demographics {
            person.country_of_birth = d.country_of_birth;
            person.marital_status = d.marital_status;
            person.number_of_children = d.number_of_children;
            person.education = d.education;
            person.migrant_type = d.migrant_type;
            person.protection_status = d.protection_status;
            person.migration_context = d.migration_context;
        }
        person
    }
}

fn assistance_item(s: &ServiceRecord) -> AssistanceItem {
    let ServiceRecord {
        service_type,
        provider,
        status,
        start_date,
        end_date,
        notes: _,
    } = s;
    AssistanceItem {
        service_type: *service_type,
        provider: provider.clone(),
        status: *status,
        start_date: *start_date,
        end_date: *end_date,
    }
}

fn proceeding_item(p: &ProceedingRecord) -> ProceedingItem {
    let ProceedingRecord {
        stage,
        date,
        authority: _,
        reference: _,
        verdict,
        victim_witness,
        protection_measures,
        reparation_ordered,
        notes: _,
    } = p;
    ProceedingItem {
        stage: *stage,
        date: *date,
        verdict: *verdict,
        victim_witness: *victim_witness,
        protection_measures: *protection_measures,
        reparation_ordered: *reparation_ordered,
    }
}

fn count(v: &mut Vec<Issue>, field: &str, n: usize, max: usize) {
    if n > max {
        issue(v, field, "too_many");
    }
}

/// The codes of a received trafficking process: countries, subdivisions, industry.
fn check_process(v: &mut Vec<Issue>, p: &TraffickingProcess) {
    const F: &str = "trafficking.process";
    if p.forced_labour_industry
        .as_deref()
        .is_some_and(|c| !isic::valid_isic(c))
    {
        issue(v, format!("{F}.forced_labour_industry"), "invalid");
    }
    if p.age_when_trafficked.is_some_and(|a| a > 120) {
        issue(v, format!("{F}.age_when_trafficked"), "implausible");
    }
    known_country(
        v,
        &format!("{F}.country_of_recruitment"),
        p.country_of_recruitment,
    );
    known_country(
        v,
        &format!("{F}.country_of_exploitation"),
        p.country_of_exploitation,
    );
    for (i, e) in p.route.iter().enumerate() {
        known_country(v, &format!("{F}.route.{i}.country"), Some(e.country));
        if let Some(sub) = &e.subdivision {
            match geo::subdivision(sub) {
                Some(s) if s.country == e.country.as_str() => {}
                Some(_) => issue(v, format!("{F}.route.{i}.subdivision"), "not_in_country"),
                None => issue(v, format!("{F}.route.{i}.subdivision"), "invalid"),
            }
        }
    }
    for (i, x) in p.perpetrators.iter().enumerate() {
        known_country(
            v,
            &format!("{F}.perpetrators.{i}.citizenship"),
            x.citizenship,
        );
        if x.approximate_age.is_some_and(|a| a > 120) {
            issue(
                v,
                format!("{F}.perpetrators.{i}.approximate_age"),
                "implausible",
            );
        }
    }
}

/// Organisation codes: 2–12 capitals and digits (as the node makes them; the same rule as
/// the directory's).
fn is_org_code(s: &str) -> bool {
    (2..=12).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// An organisation as the other side sees it: its code on its node and its name.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgRef {
    /// 2–12 capitals and digits, e.g. `ASOC1`.
    pub code: String,
    pub name: String,
}

impl OrgRef {
    fn check(&self, v: &mut Vec<Issue>, field: &str) {
        if !is_org_code(&self.code) {
            issue(v, format!("{field}.code"), "invalid");
        }
        if self.name.trim().is_empty() {
            issue(v, format!("{field}.name"), "required");
        }
        text(v, &format!("{field}.name"), &self.name, NAME_MAX);
    }
}

/// The consent a referral was sent under, as the destination needs to know it (no guardian
/// name, no evidence reference).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentSummary {
    pub given_by: ConsentGivenBy,
    pub given_on: NaiveDate,
    pub expires_on: NaiveDate,
    pub field_groups: BTreeSet<ReferralFieldGroup>,
}

/// The sealed body of `referral.offer`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfferBody {
    /// A UUID, lowercase and hyphenated; the same as the envelope payload's.
    pub referral_id: String,
    pub sender_org: OrgRef,
    /// The sender's case number, to quote in correspondence.
    pub sender_reference: String,
    /// The code of the organisation asked for, if one was chosen.
    pub dest_org: Option<String>,
    /// The id (a UUID) of the directory service asked for, if one was chosen.
    pub dest_service: Option<String>,
    pub reason: ReferralReason,
    pub urgency: ReferralUrgency,
    pub needs: BTreeSet<ServiceType>,
    pub message: String,
    /// `None`: sent without consent, under an override.
    pub consent: Option<ConsentSummary>,
    /// The day the offer lapses if not answered.
    pub expires_on: NaiveDate,
    pub data: ReferralData,
}

impl OfferBody {
    /// Every problem a receiver finds with this offer; empty means it may be kept.
    pub fn check(&self) -> Vec<Issue> {
        let mut v = Vec::new();
        if !is_wire_uuid(&self.referral_id) {
            issue(&mut v, "referral_id", "invalid");
        }
        self.sender_org.check(&mut v, "sender_org");
        text(
            &mut v,
            "sender_reference",
            &self.sender_reference,
            REFERENCE_MAX,
        );
        if self.dest_org.as_deref().is_some_and(|c| !is_org_code(c)) {
            issue(&mut v, "dest_org", "invalid");
        }
        if self
            .dest_service
            .as_deref()
            .is_some_and(|s| !is_wire_uuid(s))
        {
            issue(&mut v, "dest_service", "invalid");
        }
        text(&mut v, "message", &self.message, MESSAGE_MAX);
        if let Some(c) = &self.consent {
            if c.expires_on <= c.given_on {
                issue(&mut v, "consent.expires_on", "end_before_start");
            }
            if self.expires_on <= c.given_on {
                issue(&mut v, "expires_on", "end_before_start");
            }
            if !self.data.groups_present().is_subset(&c.field_groups) {
                issue(&mut v, "data", "exceeds_consent");
            }
        }
        for x in self.data.check() {
            issue(&mut v, format!("data.{}", x.field), x.code);
        }
        v
    }
}

/// The sealed body of `referral.accept`, `referral.decline`, `referral.update` and
/// `referral.close`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepBody {
    pub referral_id: String,
    /// The organisation that took the step (on accept: the one that took the case).
    pub org: Option<OrgRef>,
    /// `referral.decline` only.
    pub decline_reason: Option<DeclineReason>,
    /// `referral.update` only.
    pub update: Option<ReferralUpdateKind>,
    pub note: String,
}

impl StepBody {
    /// Every problem a receiver finds with this step; empty means it may be kept.
    pub fn check(&self) -> Vec<Issue> {
        let mut v = Vec::new();
        if !is_wire_uuid(&self.referral_id) {
            issue(&mut v, "referral_id", "invalid");
        }
        if let Some(o) = &self.org {
            o.check(&mut v, "org");
        }
        text(&mut v, "note", &self.note, NOTE_MAX);
        v
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::*;
    use crate::case::{PartialDate, Perpetrator, RouteEvent};
    use crate::vocab::codes::{
        CaseStatus, ClosureReason, ControlMethod, ExploitationType, IntakeChannel, Means,
        PerpetratorRole, PerpetratorSex, RecruiterRelation, RecruitmentMethod, RouteEventKind,
        SexualExploitationType, StatusDecidedBy, TraffickingAct,
    };
    use crate::vocab::Coded;

    use ReferralFieldGroup as G;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn c(s: &str) -> CountryCode {
        s.parse().unwrap()
    }

    const TODAY: &str = "2026-11-30";

    fn person() -> PersonRecord {
        PersonRecord {
            identity: Identity {
                given_names: "María José".into(),
                family_names: "Pérez López".into(),
                birth_date: Some(d("2009-05-01")),
                documents: vec![IdDocument {
                    kind: "DPI".into(),
                    number: "1234 56789 0101".into(),
                    country: Some(c("GTM")),
                }],
                contacts: vec![Contact {
                    kind: "phone".into(),
                    value: "+502 5555 0000".into(),
                }],
                address: "Zona 1, Quetzaltenango".into(),
            },
            gender: Some(Gender::Feminine),
            citizenship: BTreeSet::from([c("GTM")]),
            country_of_birth: Some(c("GTM")),
            languages: vec!["quc".into(), "spa".into()],
            marital_status: Some(MaritalStatus::Single),
            number_of_children: Some(1),
            education: Some(Education::PrimaryEducation),
            migrant_type: Some(MigrantType::Irregular),
            protection_status: Some(ProtectionStatus::AsylumSeeker),
            migration_context: BTreeSet::from([MigrationContext::SeparatedOrUnaccompaniedChild]),
        }
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
            process: TraffickingProcess {
                acts: BTreeSet::from([TraffickingAct::Recruitment]),
                exploitation_types: BTreeSet::from([ExploitationType::ForcedLabour]),
                forced_labour_industry: Some("A01".into()),
                country_of_recruitment: Some(c("GTM")),
                country_of_exploitation: Some(c("MEX")),
                route: vec![RouteEvent {
                    kind: RouteEventKind::Exploitation,
                    country: c("MEX"),
                    subdivision: Some("MX-CHP".into()),
                    date: Some("2025-06".parse().unwrap()),
                }],
                ..TraffickingProcess::default()
            },
            narrative: "Relato confidencial de la entrevista".into(),
        }
    }

    fn services() -> Vec<ServiceRecord> {
        vec![ServiceRecord {
            service_type: ServiceType::Shelter,
            provider: "Casa Refugio".into(),
            status: ServiceStatus::InProgress,
            start_date: Some(d("2026-03-02")),
            end_date: None,
            notes: "Nota confidencial del albergue".into(),
        }]
    }

    fn proceedings() -> Vec<ProceedingRecord> {
        vec![ProceedingRecord {
            stage: ProceedingStage::Complaint,
            date: Some(d("2026-03-05")),
            authority: "Fiscalía contra la Trata".into(),
            reference: "MP-2026-00123".into(),
            verdict: None,
            victim_witness: true,
            protection_measures: true,
            reparation_ordered: false,
            notes: "Nota procesal confidencial".into(),
        }]
    }

    fn notes() -> Vec<TimelineNote> {
        vec![TimelineNote {
            date: d("2026-03-01"),
            text: "Primera entrevista".into(),
        }]
    }

    #[derive(Debug)]
    struct Records {
        person: PersonRecord,
        case: CaseRecord,
        services: Vec<ServiceRecord>,
        proceedings: Vec<ProceedingRecord>,
        notes: Vec<TimelineNote>,
        today: NaiveDate,
    }

    impl Records {
        fn sample() -> Records {
            Records {
                person: person(),
                case: case(),
                services: services(),
                proceedings: proceedings(),
                notes: notes(),
                today: d(TODAY),
            }
        }

        fn src(&self) -> ReferralSource<'_> {
            ReferralSource {
                person: &self.person,
                case: &self.case,
                services: &self.services,
                proceedings: &self.proceedings,
                notes: &self.notes,
                today: self.today,
            }
        }

        fn build(&self, groups: &[G]) -> ReferralData {
            ReferralData::build(&self.src(), &groups.iter().copied().collect())
        }
    }

    fn build(groups: &[G]) -> ReferralData {
        Records::sample().build(groups)
    }

    /// The data's JSON, and a check that only `groups` are present.
    fn json_of(data: &ReferralData, groups: &[G]) -> String {
        assert_eq!(data.groups_present(), groups.iter().copied().collect());
        serde_json::to_string(data).unwrap()
    }

    fn codes_of(issues: &[Issue]) -> Vec<(String, &'static str)> {
        issues.iter().map(|i| (i.field.clone(), i.code)).collect()
    }

    /// The free texts that are in no group.
    const NEVER: [&str; 6] = [
        "Relato confidencial",
        "Nota confidencial del albergue",
        "Nota procesal",
        "Fiscalía",
        "MP-2026-00123",
        "GT-QZ",
    ];

    #[test]
    fn without_groups_only_the_minimum_dataset_travels() {
        let data = build(&[]);
        let v = serde_json::to_value(&data).unwrap();
        assert_eq!(
            v,
            json!({
                "gender": "FEMININE",
                "age_band": "9_17",
                "citizenship": ["GTM"],
                "languages": ["quc", "spa"],
            })
        );
        assert!(data.groups_present().is_empty());
        assert!(data.check().is_empty(), "{:?}", data.check());
    }

    #[test]
    fn the_age_band_comes_from_the_birth_date_on_the_day() {
        let mut r = Records::sample();
        r.today = d("2027-05-01");
        assert_eq!(r.build(&[]).age_band, Some(CtdcAgeBand::Age18To20));
        r.today = d("2027-04-30");
        assert_eq!(r.build(&[]).age_band, Some(CtdcAgeBand::Age9To17));
        r.person.identity.birth_date = None;
        r.case.process.age_when_trafficked = Some(15);
        assert_eq!(r.build(&[]).age_band, None, "never the age when trafficked");
    }

    #[test]
    fn identity_group() {
        let data = build(&[G::Identity]);
        let json = json_of(&data, &[G::Identity]);
        assert_eq!(
            data.identity,
            Some(IdentityGroup {
                given_names: "María José".into(),
                family_names: "Pérez López".into(),
                birth_date: Some(d("2009-05-01")),
                documents: person().identity.documents,
            })
        );
        assert!(!json.contains("+502") && !json.contains("Zona 1"), "{json}");
    }

    #[test]
    fn contact_group() {
        let data = build(&[G::Contact]);
        let json = json_of(&data, &[G::Contact]);
        assert_eq!(
            data.contact,
            Some(ContactGroup {
                contacts: person().identity.contacts,
                address: "Zona 1, Quetzaltenango".into(),
            })
        );
        for absent in ["María", "Pérez", "1234 56789", "2009-05-01"] {
            assert!(!json.contains(absent), "{absent} in {json}");
        }
    }

    #[test]
    fn demographics_group() {
        let data = build(&[G::Demographics]);
        let json = json_of(&data, &[G::Demographics]);
        assert_eq!(
            data.demographics,
            Some(DemographicsGroup {
                country_of_birth: Some(c("GTM")),
                marital_status: Some(MaritalStatus::Single),
                number_of_children: Some(1),
                education: Some(Education::PrimaryEducation),
                migrant_type: Some(MigrantType::Irregular),
                protection_status: Some(ProtectionStatus::AsylumSeeker),
                migration_context: BTreeSet::from([
                    MigrationContext::SeparatedOrUnaccompaniedChild
                ]),
            })
        );
        assert!(!json.contains("María"), "{json}");
    }

    #[test]
    fn trafficking_group() {
        let data = build(&[G::TraffickingProcess]);
        let json = json_of(&data, &[G::TraffickingProcess]);
        assert_eq!(
            data.trafficking,
            Some(TraffickingGroup {
                trafficking_status: Some(TraffickingStatus::PossibleVictim),
                identification_date: Some(d("2026-02-27")),
                process: case().process,
            })
        );
        for never in NEVER {
            assert!(!json.contains(never), "{never} in {json}");
        }
        assert!(!json.contains("HOTLINE") && !json.contains("NGO"), "{json}");
    }

    #[test]
    fn assistance_group_leaves_the_notes_behind() {
        let data = build(&[G::Assistance]);
        let json = json_of(&data, &[G::Assistance]);
        assert_eq!(
            data.assistance,
            Some(vec![AssistanceItem {
                service_type: ServiceType::Shelter,
                provider: "Casa Refugio".into(),
                status: ServiceStatus::InProgress,
                start_date: Some(d("2026-03-02")),
                end_date: None,
            }])
        );
        assert!(
            !json.contains("notes") && !json.contains("albergue"),
            "{json}"
        );
    }

    #[test]
    fn proceedings_group_leaves_authority_reference_and_notes_behind() {
        let data = build(&[G::LegalProceedings]);
        let json = json_of(&data, &[G::LegalProceedings]);
        assert_eq!(
            data.proceedings,
            Some(vec![ProceedingItem {
                stage: ProceedingStage::Complaint,
                date: Some(d("2026-03-05")),
                verdict: None,
                victim_witness: true,
                protection_measures: true,
                reparation_ordered: false,
            }])
        );
        for never in NEVER {
            assert!(!json.contains(never), "{never} in {json}");
        }
        assert!(!json.contains("authority") && !json.contains("reference"));
    }

    #[test]
    fn timeline_group() {
        let data = build(&[G::Timeline]);
        json_of(&data, &[G::Timeline]);
        assert_eq!(data.timeline, Some(notes()));
    }

    #[test]
    fn every_group_at_once_still_leaves_the_free_texts_behind() {
        let data = build(G::ALL);
        let json = json_of(&data, G::ALL);
        for never in NEVER {
            assert!(!json.contains(never), "{never} in {json}");
        }
        assert!(data.check().is_empty(), "{:?}", data.check());
    }

    #[test]
    fn a_listed_group_with_nothing_in_it_is_present_and_empty() {
        let mut r = Records::sample();
        r.services.clear();
        r.notes.clear();
        let data = r.build(&[G::Assistance, G::Timeline]);
        let v = serde_json::to_value(&data).unwrap();
        assert_eq!(v["assistance"], json!([]));
        assert_eq!(v["timeline"], json!([]));
        assert_eq!(
            data.groups_present(),
            BTreeSet::from([G::Assistance, G::Timeline])
        );
    }

    #[test]
    fn into_person_prefills_what_travelled() {
        assert_eq!(build(G::ALL).into_person(), person());
        let p = build(&[]).into_person();
        assert_eq!(
            p,
            PersonRecord {
                gender: Some(Gender::Feminine),
                citizenship: BTreeSet::from([c("GTM")]),
                languages: vec!["quc".into(), "spa".into()],
                ..PersonRecord::default()
            }
        );
        let p = build(&[G::Contact]).into_person();
        assert_eq!(p.identity.contacts, person().identity.contacts);
        assert_eq!(p.identity.given_names, "");
        assert_eq!(p.identity.birth_date, None);
    }

    #[test]
    fn data_check_names_lengths_counts_and_unknown_codes() {
        let mut data = build(G::ALL);
        data.languages.push("xx".into());
        data.citizenship.insert(c("ZZZ"));
        let id = data.identity.as_mut().unwrap();
        id.given_names = "x".repeat(NAME_MAX + 1);
        id.documents = vec![id.documents[0].clone(); MAX_DOCUMENTS + 1];
        id.documents[3].country = Some(c("QQQ"));
        let ct = data.contact.as_mut().unwrap();
        ct.address = "x".repeat(ADDRESS_MAX + 1);
        ct.contacts = vec![ct.contacts[0].clone(); MAX_CONTACTS + 1];
        ct.contacts[0].value = "tel\u{0}".into();
        data.demographics.as_mut().unwrap().country_of_birth = Some(c("ZZZ"));
        let p = &mut data.trafficking.as_mut().unwrap().process;
        p.forced_labour_industry = Some("Z99".into());
        p.route[0].subdivision = Some("GT-QZ".into());
        p.perpetrators.push(Perpetrator {
            role: PerpetratorRole::Exploiter,
            sex: None,
            approximate_age: None,
            citizenship: Some(c("ZZZ")),
        });
        let a = data.assistance.as_mut().unwrap();
        a[0].provider = "x".repeat(NAME_MAX + 1);
        *a = vec![a[0].clone(); MAX_ASSISTANCE + 1];
        let pr = data.proceedings.as_mut().unwrap();
        *pr = vec![pr[0].clone(); MAX_PROCEEDINGS + 1];
        let t = data.timeline.as_mut().unwrap();
        t[0].text = "x".repeat(NOTE_MAX + 1);
        t.resize(MAX_TIMELINE + 1, notes()[0].clone());
        let got = codes_of(&data.check());
        for (field, code) in [
            ("languages", "unknown_language"),
            ("citizenship", "unknown_country"),
            ("identity.given_names", "too_long"),
            ("identity.documents", "too_many"),
            ("identity.documents.3.country", "unknown_country"),
            ("contact.address", "too_long"),
            ("contact.contacts", "too_many"),
            ("contact.contacts.0.value", "invalid"),
            ("demographics.country_of_birth", "unknown_country"),
            ("trafficking.process.forced_labour_industry", "invalid"),
            ("trafficking.process.route.0.subdivision", "not_in_country"),
            (
                "trafficking.process.perpetrators.0.citizenship",
                "unknown_country",
            ),
            ("assistance", "too_many"),
            ("assistance.0.provider", "too_long"),
            ("assistance.200.provider", "too_long"),
            ("proceedings", "too_many"),
            ("timeline", "too_many"),
            ("timeline.0.text", "too_long"),
        ] {
            assert!(
                got.contains(&(field.to_owned(), code)),
                "{field} {code} missing from {got:?}"
            );
        }
        // At the limits, nothing.
        let mut ok = build(G::ALL);
        ok.identity.as_mut().unwrap().given_names = "x".repeat(NAME_MAX);
        ok.timeline = Some(vec![
            TimelineNote {
                date: d("2026-03-01"),
                text: "x".repeat(NOTE_MAX),
            };
            MAX_TIMELINE
        ]);
        assert!(ok.check().is_empty(), "{:?}", ok.check());
    }

    fn consent() -> ConsentSummary {
        ConsentSummary {
            given_by: ConsentGivenBy::Guardian,
            given_on: d("2026-11-01"),
            expires_on: d("2027-05-01"),
            field_groups: BTreeSet::from([G::Identity, G::Contact, G::Assistance]),
        }
    }

    fn offer() -> OfferBody {
        OfferBody {
            referral_id: "01890a5d-ac96-774b-bcce-b302099a8057".into(),
            sender_org: OrgRef {
                code: "ASOC1".into(),
                name: "Asociación Refugio".into(),
            },
            sender_reference: "GTM-2026-0042".into(),
            dest_org: Some("CASAHN".into()),
            dest_service: Some("01890a5d-ac96-774b-bcce-b302099a8058".into()),
            reason: ReferralReason::MigrationOrChangeOfLocation,
            urgency: ReferralUrgency::Priority,
            needs: BTreeSet::from([ServiceType::Shelter, ServiceType::Legal]),
            message: "La joven viaja a San Pedro Sula.\nNecesita albergue.".into(),
            consent: Some(consent()),
            expires_on: d("2026-12-15"),
            data: build(&[G::Identity, G::Assistance]),
        }
    }

    fn step() -> StepBody {
        StepBody {
            referral_id: "01890a5d-ac96-774b-bcce-b302099a8057".into(),
            org: Some(OrgRef {
                code: "CASAHN".into(),
                name: "Casa Alianza Honduras".into(),
            }),
            decline_reason: Some(DeclineReason::NoCapacity),
            update: None,
            note: "Sin cupo este mes.".into(),
        }
    }

    #[test]
    fn a_sound_offer_passes_and_round_trips_through_json() {
        let o = offer();
        assert!(o.check().is_empty(), "{:?}", o.check());
        let json = serde_json::to_string(&o).unwrap();
        assert_eq!(serde_json::from_str::<OfferBody>(&json).unwrap(), o);
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["reason"], "MIGRATION_OR_CHANGE_OF_LOCATION");
        assert_eq!(v["urgency"], "PRIORITY");
        assert_eq!(
            v["consent"]["field_groups"],
            json!(["IDENTITY", "CONTACT", "ASSISTANCE"])
        );
        // Without consent (an override) and without a chosen destination.
        let mut o = offer();
        o.consent = None;
        o.dest_org = None;
        o.dest_service = None;
        o.data = build(G::ALL);
        assert!(o.check().is_empty(), "{:?}", o.check());
        let json = serde_json::to_string(&o).unwrap();
        assert!(json.contains("\"consent\":null"), "{json}");
        assert_eq!(serde_json::from_str::<OfferBody>(&json).unwrap(), o);
    }

    #[test]
    fn offer_check_names_every_problem() {
        let mut o = offer();
        o.referral_id = "01890A5D-AC96-774B-BCCE-B302099A8057".into();
        o.sender_org.code = "asoc-1".into();
        o.sender_org.name = " ".into();
        o.sender_reference = "x".repeat(REFERENCE_MAX + 1);
        o.dest_org = Some("A".into());
        o.dest_service = Some("not-a-uuid".into());
        o.message = "x".repeat(MESSAGE_MAX + 1);
        o.expires_on = d("2026-11-01");
        o.data = build(&[G::Identity, G::Timeline]);
        o.data.languages.push("xx".into());
        let got = codes_of(&o.check());
        for (field, code) in [
            ("referral_id", "invalid"),
            ("sender_org.code", "invalid"),
            ("sender_org.name", "required"),
            ("sender_reference", "too_long"),
            ("dest_org", "invalid"),
            ("dest_service", "invalid"),
            ("message", "too_long"),
            ("expires_on", "end_before_start"),
            ("data", "exceeds_consent"),
            ("data.languages", "unknown_language"),
        ] {
            assert!(
                got.contains(&(field.to_owned(), code)),
                "{field} {code} missing from {got:?}"
            );
        }
        let mut o = offer();
        o.consent.as_mut().unwrap().expires_on = d("2026-11-01");
        assert_eq!(
            codes_of(&o.check()),
            vec![("consent.expires_on".to_owned(), "end_before_start")]
        );
        o.sender_org.code = "ABCDEFGHIJKLM".into();
        assert!(codes_of(&o.check()).contains(&("sender_org.code".into(), "invalid")));
    }

    #[test]
    fn the_consent_bounds_the_groups() {
        let mut o = offer();
        o.data = build(&[G::Identity, G::Contact, G::Assistance]);
        assert!(o.check().is_empty(), "{:?}", o.check());
        o.data = build(&[]);
        assert!(o.check().is_empty(), "fewer groups than consented is fine");
        o.data = build(&[G::Demographics]);
        assert_eq!(
            codes_of(&o.check()),
            vec![("data".to_owned(), "exceeds_consent")]
        );
        o.consent = None;
        assert!(
            o.check().is_empty(),
            "an override carries no consent to exceed"
        );
    }

    #[test]
    fn step_check_and_round_trip() {
        let s = step();
        assert!(s.check().is_empty(), "{:?}", s.check());
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<StepBody>(&json).unwrap(), s);
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["decline_reason"], "NO_CAPACITY");
        assert_eq!(v["update"], Value::Null);
        let update = StepBody {
            org: None,
            decline_reason: None,
            update: Some(ReferralUpdateKind::ArrivalConfirmed),
            note: String::new(),
            ..step()
        };
        assert!(update.check().is_empty());
        let json = serde_json::to_string(&update).unwrap();
        assert_eq!(serde_json::from_str::<StepBody>(&json).unwrap(), update);

        let mut bad = step();
        bad.referral_id = "01890a5dac96774bbcceb302099a8057".into();
        bad.org.as_mut().unwrap().code = "casahn".into();
        bad.note = "x".repeat(NOTE_MAX + 1);
        let got = codes_of(&bad.check());
        for (field, code) in [
            ("referral_id", "invalid"),
            ("org.code", "invalid"),
            ("note", "too_long"),
        ] {
            assert!(got.contains(&(field.to_owned(), code)), "{got:?}");
        }
        bad.note = "línea\u{7}".into();
        assert!(codes_of(&bad.check()).contains(&("note".into(), "invalid")));
    }

    #[test]
    fn bodies_refuse_unknown_members_at_every_level() {
        let offer = serde_json::to_value(offer()).unwrap();
        for path in [
            &[][..],
            &["sender_org"][..],
            &["consent"][..],
            &["data"][..],
            &["data", "identity"][..],
            &["data", "identity", "documents", "0"][..],
        ] {
            let mut v = offer.clone();
            let mut at = &mut v;
            for p in path {
                at = match p.parse::<usize>() {
                    Ok(i) => &mut at[i],
                    Err(_) => &mut at[*p],
                };
            }
            at["narrative"] = json!("x");
            let e = serde_json::from_value::<OfferBody>(v)
                .unwrap_err()
                .to_string();
            assert!(e.contains("narrative"), "{path:?}: {e}");
        }
        // Unknown groups and unknown codes are refused too.
        let mut v = offer.clone();
        v["data"]["contact_history"] = json!([]);
        assert!(serde_json::from_value::<OfferBody>(v).is_err());
        let mut v = offer.clone();
        v["urgency"] = json!("WHENEVER");
        assert!(serde_json::from_value::<OfferBody>(v).is_err());
        let mut v = serde_json::to_value(step()).unwrap();
        v["extra"] = json!(1);
        assert!(serde_json::from_value::<StepBody>(v).is_err());
        let mut v = serde_json::to_value(step()).unwrap();
        v["org"]["country"] = json!("HND");
        assert!(serde_json::from_value::<StepBody>(v).is_err());
    }

    // ----- property: what travels is exactly what the groups allow -----

    /// Markers of the texts that travel with a group.
    const TRAVELS: [(G, &str); 10] = [
        (G::Identity, "@given@"),
        (G::Identity, "@family@"),
        (G::Identity, "@doc-kind@"),
        (G::Identity, "@doc-number@"),
        (G::Contact, "@contact-kind@"),
        (G::Contact, "@contact-value@"),
        (G::Contact, "@address@"),
        (G::TraffickingProcess, "@industry@"),
        (G::Assistance, "@provider@"),
        (G::Timeline, "@timeline@"),
    ];
    /// Markers of the texts that never travel.
    const NARRATIVE: &str = "@narrative@";
    const SERVICE_NOTES: &str = "@service-notes@";
    const PROCEEDING_NOTES: &str = "@proceeding-notes@";
    const AUTHORITY: &str = "@authority@";
    const REFERENCE: &str = "@reference@";
    /// The case's location is in no group either.
    const LOCATION: &str = "@location@";
    const NEVER_MARKERS: [&str; 6] = [
        NARRATIVE,
        SERVICE_NOTES,
        PROCEEDING_NOTES,
        AUTHORITY,
        REFERENCE,
        LOCATION,
    ];

    fn marker(group: Option<G>, n: usize) -> &'static str {
        match group {
            Some(g) => TRAVELS.iter().filter(|(x, _)| *x == g).nth(n).unwrap().1,
            None => NEVER_MARKERS[n],
        }
    }

    /// The top-level member of each group.
    fn member(g: G) -> &'static str {
        match g {
            G::Identity => "identity",
            G::Contact => "contact",
            G::Demographics => "demographics",
            G::TraffickingProcess => "trafficking",
            G::Assistance => "assistance",
            G::LegalProceedings => "proceedings",
            G::Timeline => "timeline",
        }
    }

    const MINIMUM: [&str; 4] = ["gender", "age_band", "citizenship", "languages"];

    /// Any text around the marker (controls and astral characters included).
    fn marked(m: &'static str) -> impl Strategy<Value = String> {
        let noise = || prop::collection::vec(any::<char>(), 0..4).prop_map(String::from_iter);
        (noise(), noise()).prop_map(move |(a, b)| format!("{a}{m}{b}"))
    }

    fn pick<T: Coded>() -> impl Strategy<Value = T> {
        prop::sample::select(T::ALL)
    }

    fn some_of<T: Coded + Ord>() -> impl Strategy<Value = BTreeSet<T>> {
        prop::sample::subsequence(T::ALL, 1..=T::ALL.len()).prop_map(BTreeSet::from_iter)
    }

    fn date() -> impl Strategy<Value = NaiveDate> {
        (0u64..30_000).prop_map(|n| d("1950-01-01") + chrono::Days::new(n))
    }

    fn partial_date() -> impl Strategy<Value = PartialDate> {
        (1990i32..2030, 1u32..=12).prop_map(|(year, month)| PartialDate {
            year,
            month: Some(month),
            day: None,
        })
    }

    fn country() -> impl Strategy<Value = CountryCode> {
        prop::sample::select(vec!["GTM", "HND", "SLV", "MEX", "NIC", "CRI", "USA"]).prop_map(c)
    }

    fn person_strategy() -> impl Strategy<Value = PersonRecord> {
        let document = (
            marked(marker(Some(G::Identity), 2)),
            marked(marker(Some(G::Identity), 3)),
            country(),
        )
            .prop_map(|(kind, number, country)| IdDocument {
                kind,
                number,
                country: Some(country),
            });
        let contact = (
            marked(marker(Some(G::Contact), 0)),
            marked(marker(Some(G::Contact), 1)),
        )
            .prop_map(|(kind, value)| Contact { kind, value });
        let identity = (
            marked(marker(Some(G::Identity), 0)),
            marked(marker(Some(G::Identity), 1)),
            date(),
            prop::collection::vec(document, 1..4),
            prop::collection::vec(contact, 1..4),
            marked(marker(Some(G::Contact), 2)),
        )
            .prop_map(
                |(given_names, family_names, birth, documents, contacts, address)| Identity {
                    given_names,
                    family_names,
                    birth_date: Some(birth),
                    documents,
                    contacts,
                    address,
                },
            );
        let languages = prop::sample::subsequence(vec!["spa", "quc", "mam", "eng", "hat"], 1..=3)
            .prop_map(|ls| ls.into_iter().map(String::from).collect::<Vec<_>>());
        (
            identity,
            pick::<Gender>(),
            prop::collection::btree_set(country(), 1..3),
            country(),
            languages,
            pick::<MaritalStatus>(),
            0u16..40,
            pick::<Education>(),
            pick::<MigrantType>(),
            pick::<ProtectionStatus>(),
            some_of::<MigrationContext>(),
        )
            .prop_map(
                |(
                    identity,
                    gender,
                    citizenship,
                    birth_country,
                    languages,
                    ms,
                    children,
                    ed,
                    mt,
                    ps,
                    mc,
                )| {
                    PersonRecord {
                        identity,
                        gender: Some(gender),
                        citizenship,
                        country_of_birth: Some(birth_country),
                        languages,
                        marital_status: Some(ms),
                        number_of_children: Some(children),
                        education: Some(ed),
                        migrant_type: Some(mt),
                        protection_status: Some(ps),
                        migration_context: mc,
                    }
                },
            )
    }

    fn process_strategy() -> impl Strategy<Value = TraffickingProcess> {
        let route = (pick::<RouteEventKind>(), country(), partial_date()).prop_map(
            |(kind, country, date)| RouteEvent {
                kind,
                country,
                subdivision: Some("GT-QZ".into()),
                date: Some(date),
            },
        );
        let perpetrator = (
            pick::<PerpetratorRole>(),
            pick::<PerpetratorSex>(),
            14u32..90,
            country(),
        )
            .prop_map(|(role, sex, age, citizenship)| Perpetrator {
                role,
                sex: Some(sex),
                approximate_age: Some(age),
                citizenship: Some(citizenship),
            });
        let sets = (
            some_of::<TraffickingAct>(),
            some_of::<Means>(),
            some_of::<ControlMethod>(),
            some_of::<ExploitationType>(),
            some_of::<SexualExploitationType>(),
            some_of::<RecruitmentMethod>(),
        );
        let rest = (
            pick::<RecruiterRelation>(),
            marked(marker(Some(G::TraffickingProcess), 0)),
            0u32..100,
            partial_date(),
            partial_date(),
            country(),
            country(),
            prop::collection::vec(route, 1..4),
            prop::collection::vec(perpetrator, 1..4),
        );
        (sets, rest).prop_map(
            |(
                (acts, means, control, expl, sexual, recruit),
                (rel, ind, age, s, e, cr, ce, route, perps),
            )| {
                TraffickingProcess {
                    acts,
                    means,
                    control_methods: control,
                    exploitation_types: expl,
                    sexual_exploitation_types: sexual,
                    recruitment_methods: recruit,
                    recruiter_relation: Some(rel),
                    forced_labour_industry: Some(ind),
                    age_when_trafficked: Some(age),
                    exploitation_start: Some(s),
                    exploitation_end: Some(e),
                    country_of_recruitment: Some(cr),
                    country_of_exploitation: Some(ce),
                    route,
                    perpetrators: perps,
                }
            },
        )
    }

    fn case_strategy() -> impl Strategy<Value = CaseRecord> {
        (
            pick::<IntakeChannel>(),
            date(),
            date(),
            pick::<CaseStatus>(),
            pick::<ClosureReason>(),
            pick::<TraffickingStatus>(),
            pick::<StatusDecidedBy>(),
            marked(LOCATION),
            process_strategy(),
            marked(NARRATIVE),
        )
            .prop_map(
                |(channel, reg, ident, status, closure, ts, by, location, process, narrative)| {
                    CaseRecord {
                        intake_channel: channel,
                        registration_date: reg,
                        identification_date: Some(ident),
                        status,
                        closure_reason: Some(closure),
                        trafficking_status: Some(ts),
                        status_decided_by: Some(by),
                        location: Some(location),
                        process,
                        narrative,
                    }
                },
            )
    }

    fn service_strategy() -> impl Strategy<Value = ServiceRecord> {
        (
            pick::<ServiceType>(),
            marked(marker(Some(G::Assistance), 0)),
            pick::<ServiceStatus>(),
            date(),
            date(),
            marked(SERVICE_NOTES),
        )
            .prop_map(
                |(service_type, provider, status, s, e, notes)| ServiceRecord {
                    service_type,
                    provider,
                    status,
                    start_date: Some(s),
                    end_date: Some(e),
                    notes,
                },
            )
    }

    fn proceeding_strategy() -> impl Strategy<Value = ProceedingRecord> {
        (
            pick::<ProceedingStage>(),
            date(),
            marked(AUTHORITY),
            marked(REFERENCE),
            pick::<Verdict>(),
            any::<(bool, bool, bool)>(),
            marked(PROCEEDING_NOTES),
        )
            .prop_map(
                |(stage, date, authority, reference, verdict, (w, p, r), notes)| ProceedingRecord {
                    stage,
                    date: Some(date),
                    authority,
                    reference,
                    verdict: Some(verdict),
                    victim_witness: w,
                    protection_measures: p,
                    reparation_ordered: r,
                    notes,
                },
            )
    }

    fn records_strategy() -> impl Strategy<Value = Records> {
        let note = (date(), marked(marker(Some(G::Timeline), 0)))
            .prop_map(|(date, text)| TimelineNote { date, text });
        (
            person_strategy(),
            case_strategy(),
            prop::collection::vec(service_strategy(), 1..4),
            prop::collection::vec(proceeding_strategy(), 1..4),
            prop::collection::vec(note, 1..4),
            date(),
        )
            .prop_map(
                |(person, case, services, proceedings, notes, today)| Records {
                    person,
                    case,
                    services,
                    proceedings,
                    notes,
                    today,
                },
            )
    }

    fn groups_strategy() -> impl Strategy<Value = BTreeSet<G>> {
        prop::sample::subsequence(G::ALL, 0..=G::ALL.len()).prop_map(BTreeSet::from_iter)
    }

    /// Every object member name anywhere in `v`.
    fn keys(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    out.insert(k.clone());
                    keys(x, out);
                }
            }
            Value::Array(xs) => xs.iter().for_each(|x| keys(x, out)),
            _ => {}
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn only_the_listed_groups_travel(r in records_strategy(), groups in groups_strategy()) {
            let data = ReferralData::build(&r.src(), &groups);
            let json = serde_json::to_string(&data).unwrap();
            let value: Value = serde_json::from_str(&json).unwrap();

            // (a) no group that was not listed (and, built, exactly the listed ones).
            prop_assert!(data.groups_present().is_subset(&groups));
            prop_assert_eq!(data.groups_present(), groups.clone());

            // (b) no member of an unlisted group, at the top or anywhere below.
            let top: BTreeSet<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
            let want: BTreeSet<&str> = MINIMUM
                .into_iter()
                .chain(groups.iter().map(|g| member(*g)))
                .collect();
            prop_assert_eq!(&top, &want);
            let full = serde_json::to_value(ReferralData::build(&r.src(), &G::ALL.iter().copied().collect())).unwrap();
            let mut found = BTreeSet::new();
            keys(&value, &mut found);
            for &g in G::ALL {
                let mut own = BTreeSet::new();
                keys(&full[member(g)], &mut own);
                own.insert(member(g).to_owned());
                let mut others: BTreeSet<String> = MINIMUM.iter().map(|k| (*k).to_owned()).collect();
                for &h in G::ALL.iter().filter(|h| **h != g) {
                    keys(&full[member(h)], &mut others);
                }
                let exclusive: Vec<&String> = own.difference(&others).collect();
                prop_assert!(!exclusive.is_empty(), "{:?} has no member of its own", g);
                if !groups.contains(&g) {
                    for k in exclusive {
                        prop_assert!(!found.contains(k), "{} of unlisted {:?} in {}", k, g, json);
                    }
                }
            }

            // (c) the free texts that are in no group never travel; those of a group travel
            // exactly when it is listed.
            for m in NEVER_MARKERS {
                prop_assert!(!json.contains(m), "{} in {}", m, json);
            }
            for (g, m) in TRAVELS {
                prop_assert_eq!(json.contains(m), groups.contains(&g), "{} / {:?} in {}", m, g, json);
            }

            // (d) what is received is what was sent.
            let back: ReferralData = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&back, &data);
            prop_assert_eq!(back.groups_present(), groups);
        }
    }
}
