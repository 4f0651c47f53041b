//! Tests of the exports: the CTDC columns and privacy, and the HTCDS round trip.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use puente_common::case::{
    CaseRecord, Contact, IdDocument, Identity, PersonRecord, RouteEvent, TraffickingProcess,
};
use puente_common::vocab::codes::{
    CaseStatus, ClosureReason, ControlMethod, Education, ExploitationType, Gender, IntakeChannel,
    MaritalStatus, Means, MigrantType, MigrationContext, ProtectionStatus, RecruiterRelation,
    RecruitmentMethod, RouteEventKind, SexualExploitationType, StatusDecidedBy, TraffickingAct,
    TraffickingStatus,
};
use puente_common::CountryCode;

use super::*;
use crate::import::parse_htcds_csv;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn cc(s: &str) -> CountryCode {
    s.parse().unwrap()
}

/// A person with every identifying field filled, and a case with most fields.
fn full() -> ExportRow {
    let person = PersonRecord {
        identity: Identity {
            given_names: "Zacarías Elena".into(),
            family_names: "Quixtán".into(),
            birth_date: Some(d("2001-02-03")),
            documents: vec![
                IdDocument {
                    kind: "DPI".into(),
                    number: "2345 67890 0101".into(),
                    country: Some(cc("GTM")),
                },
                IdDocument {
                    kind: "pasaporte".into(),
                    number: "PX998877".into(),
                    country: None,
                },
            ],
            contacts: vec![
                Contact {
                    kind: "email".into(),
                    value: "zq@example.org".into(),
                },
                Contact {
                    kind: "phone".into(),
                    value: "+502 5555 1234".into(),
                },
                Contact {
                    kind: "whatsapp".into(),
                    value: "+502 5555 9876".into(),
                },
            ],
            address: "Calle Secreta 9, zona 1, Quetzaltenango".into(),
        },
        gender: Some(Gender::Feminine),
        citizenship: BTreeSet::from([cc("GTM"), cc("MEX")]),
        country_of_birth: Some(cc("GTM")),
        languages: vec!["quc".into(), "spa".into(), "eng".into()],
        marital_status: Some(MaritalStatus::UnionDeHecho),
        number_of_children: Some(2),
        education: Some(Education::PrimaryEducation),
        migrant_type: Some(MigrantType::Irregular),
        protection_status: Some(ProtectionStatus::AsylumSeeker),
        migration_context: BTreeSet::from([MigrationContext::Returnee, MigrationContext::Deportee]),
    };
    let case = CaseRecord {
        intake_channel: IntakeChannel::Hotline,
        registration_date: d("2025-05-20"),
        identification_date: Some(d("2025-05-18")),
        status: CaseStatus::Closed,
        closure_reason: Some(ClosureReason::GoalsMet),
        trafficking_status: Some(TraffickingStatus::ActualVictim),
        status_decided_by: Some(StatusDecidedBy::NonPoliceGovernment),
        location: Some("GT-QZ".into()),
        process: TraffickingProcess {
            acts: BTreeSet::from([TraffickingAct::Recruitment, TraffickingAct::Retention]),
            means: BTreeSet::from([Means::Deception, Means::AbuseOfVulnerability]),
            control_methods: BTreeSet::from([
                ControlMethod::DebtBondage,
                ControlMethod::ThreatsLawEnforcement,
                ControlMethod::RestrictsMovement,
            ]),
            exploitation_types: BTreeSet::from([
                ExploitationType::SexualExploitation,
                ExploitationType::Slavery,
                ExploitationType::ForcedMarriage,
            ]),
            sexual_exploitation_types: BTreeSet::from([
                SexualExploitationType::Prostitution,
                SexualExploitationType::RemoteInteractive,
            ]),
            recruitment_methods: BTreeSet::from([
                RecruitmentMethod::ThroughOnlineSocialNetworks,
                RecruitmentMethod::Unknown,
            ]),
            recruiter_relation: Some(RecruiterRelation::IntimatePartner),
            forced_labour_industry: Some("T".into()),
            age_when_trafficked: Some(22),
            exploitation_start: Some("2023-03".parse().unwrap()),
            exploitation_end: Some("2025-04-15".parse().unwrap()),
            country_of_recruitment: Some(cc("GTM")),
            country_of_exploitation: Some(cc("MEX")),
            route: vec![
                RouteEvent {
                    kind: RouteEventKind::Recruitment,
                    country: cc("GTM"),
                    subdivision: Some("GT-QZ".into()),
                    date: Some("2023-03".parse().unwrap()),
                },
                RouteEvent {
                    kind: RouteEventKind::Exploitation,
                    country: cc("MEX"),
                    subdivision: None,
                    date: None,
                },
            ],
            perpetrators: Vec::new(),
        },
        narrative: "Relato confidencial: \"llegó\", con comas,\ny saltos de línea.".into(),
    };
    ExportRow {
        person,
        case,
        age_at_registration: Some(24),
    }
}

/// A plain second row: few fields, an active case, a division of ISIC.
fn plain() -> ExportRow {
    let mut person = PersonRecord::default();
    person.identity.given_names = "Luis".into();
    person.gender = Some(Gender::Masculine);
    ExportRow {
        person,
        case: CaseRecord {
            intake_channel: IntakeChannel::CaseManagement,
            registration_date: d("2026-01-02"),
            identification_date: None,
            status: CaseStatus::Active,
            closure_reason: None,
            trafficking_status: None,
            status_decided_by: None,
            location: None,
            process: TraffickingProcess {
                exploitation_types: BTreeSet::from([ExploitationType::ForcedLabour]),
                forced_labour_industry: Some("A01".into()),
                recruiter_relation: Some(RecruiterRelation::Stranger),
                ..TraffickingProcess::default()
            },
            narrative: String::new(),
        },
        age_at_registration: Some(16),
    }
}

fn ctdc_of(rows: &[ExportRow]) -> String {
    let mut out = Vec::new();
    ctdc_csv(rows, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn ctdc_header_is_the_27_codebook_columns() {
    let out = ctdc_of(&[full()]);
    let header: Vec<&str> = out.lines().next().unwrap().split(',').collect();
    assert_eq!(header, CTDC_COLUMNS);
    assert_eq!(header.len(), 27);
}

#[test]
fn ctdc_export_never_carries_identifying_data() {
    let row = full();
    let out = ctdc_of(&[row.clone(), plain()]);
    let id = &row.person.identity;
    let mut secrets: Vec<String> = vec![
        id.given_names.clone(),
        "Zacarías".into(),
        "Quixtán".into(),
        id.address.clone(),
        "Calle Secreta".into(),
        "2001-02-03".into(),
        "2001".into(),
        "GT-QZ".into(),
        "Relato".into(),
        row.case.narrative.clone(),
        "DPI".into(),
        "pasaporte".into(),
    ];
    for doc in &id.documents {
        secrets.push(doc.number.clone());
    }
    for c in &id.contacts {
        secrets.push(c.value.clone());
        secrets.push(c.kind.clone());
    }
    for s in &secrets {
        assert!(!out.contains(s.as_str()), "{s:?} in the CTDC export");
    }
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(rows.iter().all(|r| r.len() == 27));
    let cell = |r: &csv::StringRecord, col: &str| {
        let i = CTDC_COLUMNS.iter().position(|c| *c == col).unwrap();
        r.get(i).unwrap().to_owned()
    };
    let full = &rows[0];
    assert_eq!(cell(full, "yearOfRegistration"), "2025");
    assert_eq!(cell(full, "gender"), "Woman");
    assert_eq!(cell(full, "ageBroad"), "24--26");
    assert_eq!(cell(full, "citizenship"), "GTM");
    assert_eq!(cell(full, "CountryOfExploitation"), "MEX");
    assert_eq!(cell(full, "traffickMonths"), "25+ (2+ yrs)");
    assert_eq!(cell(full, "meansDebtBondageEarnings"), "1");
    assert_eq!(cell(full, "meansThreats"), "1");
    assert_eq!(cell(full, "meansDenyBasicNeeds"), "1");
    assert_eq!(cell(full, "meansFalsePromises"), "");
    assert_eq!(cell(full, "isForcedLabour"), "1"); // slavery
    assert_eq!(cell(full, "isSexualExploit"), "1");
    assert_eq!(cell(full, "isOtherExploit"), "1"); // forced marriage
    assert_eq!(cell(full, "typeOfLabourDomesticWork"), "1");
    assert_eq!(cell(full, "typeOfSexProstitution"), "1");
    assert_eq!(cell(full, "typeOfSexPornography"), "");
    assert_eq!(cell(full, "recruiterRelationIntimatePartner"), "1");
    let plain = &rows[1];
    assert_eq!(cell(plain, "ageBroad"), "9--17");
    assert_eq!(cell(plain, "typeOfLabourAgriculture"), "1");
    assert_eq!(cell(plain, "recruiterRelationOther"), "1");
    assert_eq!(cell(plain, "traffickMonths"), "");
    assert_eq!(cell(plain, "citizenship"), "");
}

#[test]
fn htcds_export_then_import_gives_the_same_records() {
    let today = d("2026-06-30");
    let rows = [full(), plain()];
    for r in &rows {
        assert!(
            r.person.check(today).is_empty(),
            "{:?}",
            r.person.check(today)
        );
        assert!(r.case.check(today).is_empty(), "{:?}", r.case.check(today));
    }
    let mut out = Vec::new();
    htcds_csv(&rows, &mut out).unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(text.starts_with("prs_FirstName,prs_SecondName,prs_Birthdate,prs_Gender,"));
    // HTCDS value names where HTCDS has them, Puente codes where it does not.
    assert!(text.contains("SLAVERY"));
    assert!(text.contains("ActualVictimOfTrafficking"));
    assert!(text.contains("T_ActivitiesOfHouseholdsAsEmployers"));

    let parsed = parse_htcds_csv(&out[..], today).unwrap();
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    assert_eq!(parsed.rows.len(), 2);
    for (got, want) in parsed.rows.iter().zip(&rows) {
        assert_eq!(got.person, want.person);
        assert_eq!(got.case, want.case);
        assert!(got.consents.is_empty());
    }
}
