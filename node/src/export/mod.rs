//! Exporting cases: HTCDS 2.0 CSV (identity included; the caller checks the permission) and
//! the CTDC format (27 banded, coded columns; never anything that identifies). Pure functions
//! over the rows and a writer.
//!
//! The HTCDS CSV carries HTCDS field names and value names, plus Puente extension columns
//! (prefix `pte_`, and `cas_CreatedDate`, Salesforce's standard case field, for the
//! registration date) for what HTCDS does not hold, so that [`crate::import::parse_htcds_csv`]
//! reads an export back to the same records. Not exported: perpetrators, and values HTCDS has
//! no name for are written as Puente codes (`SLAVERY`, `UNION_DE_HECHO`).

pub mod ctdc;

use std::io::Write;

use chrono::Datelike;
use puente_common::case::{CaseRecord, PersonRecord};
use puente_common::derive;
use puente_common::vocab::codes::RecruiterRelation;
use puente_common::vocab::Coded;

pub use ctdc::CTDC_COLUMNS;

/// One case to export, with its person and the person's age on the registration date (the
/// caller derives it from the birth date, which the CTDC export must not see).
#[derive(Debug, Clone)]
pub struct ExportRow {
    pub person: PersonRecord,
    pub case: CaseRecord,
    pub age_at_registration: Option<u32>,
}

/// Why an export failed (the writer failed). Messages never quote the data.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("writing the export failed")]
    Io(#[from] std::io::Error),
    #[error("writing the CSV failed")]
    Csv(#[from] csv::Error),
}

/// The HTCDS CSV header, in the order written.
pub const HTCDS_COLUMNS: &[&str] = &[
    "prs_FirstName",
    "prs_SecondName",
    "prs_Birthdate",
    "prs_Gender",
    "prs_Citizenship",
    "pte_CountryOfBirth",
    "prs_PrimaryLanguage",
    "prs_SecondaryLanguage",
    "prs_MaritalStatus",
    "prs_NumberOfChildren",
    "prs_HighestLevelOfEducation",
    "pte_MigrantType",
    "pte_ProtectionStatus",
    "pte_MigrationContext",
    "prs_IdentityNumber",
    "pte_IdentityDocumentType",
    "pte_IdentityDocumentCountry",
    "prs_Email",
    "prs_MobilePhone",
    "pte_OtherContact",
    "prs_MailingStreet",
    "vic_TraffickingStatus",
    "vic_TraffickingStatusDecisionMakingOrg",
    "vic_RelationshipToTrafficker",
    "pte_RecruiterRelation",
    "vic_AgeWhenTrafficked",
    "vic_MethodOfRecruitment",
    "vic_LocationOfRecruitment",
    "vic_MethodsOfControl",
    "vic_TypeOfExploitation",
    "vic_ForcedLabourIndustry",
    "vic_TypeOfSexExploitation",
    "vic_LocationOfExploitation",
    "pte_Acts",
    "pte_Means",
    "pte_ExploitationStart",
    "pte_ExploitationEnd",
    "cas_CreatedDate",
    "pte_IntakeChannel",
    "pte_IdentificationDate",
    "cas_Status",
    "cas_ReasonForCaseClosure",
    "pte_Location",
    "cco_CaseComment",
    "hte_Type",
    "hte_Country",
    "hte_State",
    "hte_Date",
];

/// The HTCDS value name, or the Puente code where HTCDS has none.
fn name<T: Coded>(v: T) -> &'static str {
    v.htcds().unwrap_or_else(|| v.code())
}

fn opt<T: Coded>(v: Option<T>) -> String {
    v.map(name).unwrap_or_default().to_owned()
}

fn many<T: Coded>(vs: impl IntoIterator<Item = T>) -> String {
    vs.into_iter().map(name).collect::<Vec<_>>().join("; ")
}

fn join<I: IntoIterator<Item = S>, S: AsRef<str>>(items: I) -> String {
    items
        .into_iter()
        .map(|s| s.as_ref().to_owned())
        .collect::<Vec<_>>()
        .join("; ")
}

fn htcds_record(p: &PersonRecord, c: &CaseRecord) -> Vec<String> {
    let id = &p.identity;
    let pr = &c.process;
    let contacts = |kind: &str| {
        join(
            id.contacts
                .iter()
                .filter(|x| x.kind == kind)
                .map(|x| x.value.as_str()),
        )
    };
    let other_contacts = join(
        id.contacts
            .iter()
            .filter(|x| x.kind != "email" && x.kind != "phone")
            .map(|x| format!("{}:{}", x.kind, x.value)),
    );
    // HTCDS is coarser: intimate partners and friends are "Acquainted"; the exact relation
    // travels in pte_RecruiterRelation.
    let htcds_relation = pr.recruiter_relation.and_then(|r| match r {
        RecruiterRelation::IntimatePartner | RecruiterRelation::Friend => {
            RecruiterRelation::OtherKnown.htcds()
        }
        other => other.htcds(),
    });
    let industry = pr.forced_labour_industry.as_deref().map(|code| {
        crate::import::industry_htcds(code)
            .unwrap_or(code)
            .to_owned()
    });
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    vec![
        id.given_names.clone(),
        id.family_names.clone(),
        date(id.birth_date),
        opt(p.gender),
        join(p.citizenship.iter().map(|c| c.as_str())),
        p.country_of_birth.map(String::from).unwrap_or_default(),
        p.languages.first().cloned().unwrap_or_default(),
        join(p.languages.iter().skip(1)),
        opt(p.marital_status),
        p.number_of_children
            .map(|n| n.to_string())
            .unwrap_or_default(),
        opt(p.education),
        opt(p.migrant_type),
        opt(p.protection_status),
        many(p.migration_context.iter().copied()),
        join(id.documents.iter().map(|d| d.number.as_str())),
        join(id.documents.iter().map(|d| d.kind.as_str())),
        join(
            id.documents
                .iter()
                .map(|d| d.country.map(String::from).unwrap_or_default()),
        ),
        contacts("email"),
        contacts("phone"),
        other_contacts,
        id.address.clone(),
        opt(c.trafficking_status),
        opt(c.status_decided_by),
        htcds_relation.unwrap_or_default().to_owned(),
        pr.recruiter_relation
            .map(|r| r.code())
            .unwrap_or_default()
            .to_owned(),
        pr.age_when_trafficked
            .map(|a| a.to_string())
            .unwrap_or_default(),
        many(pr.recruitment_methods.iter().copied()),
        pr.country_of_recruitment
            .map(String::from)
            .unwrap_or_default(),
        many(pr.control_methods.iter().copied()),
        many(pr.exploitation_types.iter().copied()),
        industry.unwrap_or_default(),
        many(pr.sexual_exploitation_types.iter().copied()),
        pr.country_of_exploitation
            .map(String::from)
            .unwrap_or_default(),
        many(pr.acts.iter().copied()),
        many(pr.means.iter().copied()),
        pr.exploitation_start
            .map(|d| d.to_string())
            .unwrap_or_default(),
        pr.exploitation_end
            .map(|d| d.to_string())
            .unwrap_or_default(),
        c.registration_date.to_string(),
        c.intake_channel.code().to_owned(),
        date(c.identification_date),
        name(c.status).to_owned(),
        c.closure_reason
            .map(|r| r.code())
            .unwrap_or_default()
            .to_owned(),
        c.location.clone().unwrap_or_default(),
        c.narrative.clone(),
        many(pr.route.iter().map(|e| e.kind)),
        join(pr.route.iter().map(|e| e.country.as_str())),
        join(
            pr.route
                .iter()
                .map(|e| e.subdivision.clone().unwrap_or_default()),
        ),
        join(
            pr.route
                .iter()
                .map(|e| e.date.map(|d| d.to_string()).unwrap_or_default()),
        ),
    ]
}

/// Writes the rows as HTCDS CSV ([`HTCDS_COLUMNS`]), identity included.
pub fn htcds_csv(rows: &[ExportRow], w: impl Write) -> Result<(), ExportError> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(HTCDS_COLUMNS)?;
    for r in rows {
        out.write_record(htcds_record(&r.person, &r.case))?;
    }
    out.flush()?;
    Ok(())
}

fn flag(b: bool) -> &'static str {
    if b {
        "1"
    } else {
        ""
    }
}

/// The 27 CTDC cells of a row. Reads only coded fields: never a name, document, contact,
/// address, birth date, narrative or subdivision.
fn ctdc_record(r: &ExportRow) -> Vec<String> {
    let p = &r.person;
    let pr = &r.case.process;
    let mut cells: Vec<String> = vec![
        r.case.registration_date.year().to_string(),
        ctdc::gender_label(p.gender).to_owned(),
        r.age_at_registration
            .map(|a| ctdc::age_label(derive::ctdc_age_band(a)))
            .unwrap_or_default()
            .to_owned(),
        // CTDC has one citizenship: the first, in code order.
        p.citizenship
            .iter()
            .next()
            .map(|c| c.to_string())
            .unwrap_or_default(),
        pr.country_of_exploitation
            .map(String::from)
            .unwrap_or_default(),
        match (pr.exploitation_start, pr.exploitation_end) {
            (Some(s), Some(e)) => {
                let part =
                    |d: puente_common::case::PartialDate| (d.year, d.month.unwrap_or(1), d.day);
                derive::months_between(part(s), part(e))
                    .map(|m| ctdc::duration_label(derive::duration_band(m)))
                    .unwrap_or_default()
                    .to_owned()
            }
            _ => String::new(),
        },
    ];
    for (_, group) in ctdc::MEANS_GROUPS {
        let on = group.iter().any(|m| pr.control_methods.contains(m));
        cells.push(flag(on).to_owned());
    }
    let (labour, sexual, other) = derive::ctdc_flags(&pr.exploitation_types);
    for b in [labour, sexual, other] {
        cells.push(flag(b).to_owned());
    }
    let section = pr
        .forced_labour_industry
        .as_deref()
        .and_then(|c| c.get(..1));
    for (_, s) in ctdc::LABOUR_SECTORS {
        cells.push(flag(section == Some(*s)).to_owned());
    }
    for (_, t) in ctdc::SEX_TYPES {
        cells.push(flag(pr.sexual_exploitation_types.contains(t)).to_owned());
    }
    for (_, relations) in ctdc::RELATIONS {
        let on = pr
            .recruiter_relation
            .is_some_and(|x| relations.contains(&x));
        cells.push(flag(on).to_owned());
    }
    cells
}

/// Writes the rows in the CTDC format: exactly [`CTDC_COLUMNS`], derived codes, flags `1` or
/// empty, nothing that identifies a person.
pub fn ctdc_csv(rows: &[ExportRow], w: impl Write) -> Result<(), ExportError> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(CTDC_COLUMNS)?;
    for r in rows {
        out.write_record(ctdc_record(r))?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
