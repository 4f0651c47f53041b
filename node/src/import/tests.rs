//! Tests of the importers against the committed fixtures (node/tests/fixtures/).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use puente_common::vocab::codes::{
    CaseStatus, ClosureReason, ConsentGivenBy, ControlMethod, CtdcAgeBand, DurationBand,
    ExploitationType, Gender, IntakeChannel, RecruiterRelation, SexualExploitationType,
    TraffickingStatus,
};
use puente_common::CountryCode;

use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn cc(s: &str) -> CountryCode {
    s.parse().unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn problems(p: &Parsed) -> Vec<(usize, &str, &str, Option<&str>)> {
    p.problems
        .iter()
        .map(|x| (x.line, x.column.as_str(), x.code, x.value.as_deref()))
        .collect()
}

#[test]
fn htcds_csv_in_mixed_spellings_imports_every_row() {
    let p = parse_htcds_csv(&fixture("htcds_good.csv")[..], today()).unwrap();
    assert!(p.problems.is_empty(), "{:?}", problems(&p));
    assert_eq!(p.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3, 4]);

    let minor = &p.rows[0];
    assert_eq!(minor.person.identity.given_names, "Ana");
    assert_eq!(minor.person.identity.birth_date, Some(d("2010-03-14")));
    assert_eq!(minor.person.languages, ["quc"]);
    assert_eq!(minor.consents.len(), 1);
    assert_eq!(minor.consents[0].given_by, ConsentGivenBy::Guardian);
    assert_eq!(minor.consents[0].given_on, d("2026-02-10"));
    assert_eq!(
        minor.case.process.sexual_exploitation_types,
        BTreeSet::from([SexualExploitationType::Prostitution])
    );
    assert_eq!(minor.case.intake_channel, IntakeChannel::CaseManagement);

    let multi = &p.rows[1];
    assert_eq!(multi.person.gender, Some(Gender::Masculine));
    assert_eq!(multi.person.identity.birth_date, Some(d("1990-05-17")));
    assert_eq!(multi.person.citizenship, BTreeSet::from([cc("HND")]));
    assert_eq!(multi.person.languages, ["spa"]);
    assert_eq!(multi.case.registration_date, d("2026-01-06"));
    assert_eq!(multi.case.status, CaseStatus::FollowUp);
    assert_eq!(
        multi.case.trafficking_status,
        Some(TraffickingStatus::ActualVictim)
    );
    assert_eq!(
        multi.case.process.exploitation_types,
        BTreeSet::from([
            ExploitationType::ForcedLabour,
            ExploitationType::ForcedBegging
        ])
    );
    assert_eq!(
        multi.case.process.control_methods,
        BTreeSet::from([
            ControlMethod::DebtBondage,
            ControlMethod::WithholdsDocuments,
            ControlMethod::FalsePromises
        ])
    );
    assert_eq!(multi.case.process.country_of_exploitation, Some(cc("MEX")));
    assert_eq!(multi.consents[0].given_by, ConsentGivenBy::Person);

    let names = &p.rows[2];
    assert_eq!(names.person.gender, Some(Gender::Feminine)); // "Femenino"
    assert_eq!(
        names.person.citizenship,
        BTreeSet::from([cc("SLV"), cc("GTM")])
    );
    assert!(names.consents.is_empty());
}

fn check_template_rows(p: &Parsed) {
    assert!(p.problems.is_empty(), "{:?}", problems(p));
    assert_eq!(p.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [3, 4, 5]);

    let minor = &p.rows[0];
    assert_eq!(minor.person.identity.given_names, "Ana Lucía");
    assert_eq!(minor.person.identity.family_names, "Pérez López");
    assert_eq!(minor.person.age_on(minor.case.registration_date), Some(15));
    assert_eq!(minor.case.registration_date, d("2026-02-10"));
    assert_eq!(
        minor.case.trafficking_status,
        Some(TraffickingStatus::PossibleVictim)
    );
    assert!(minor.consents.is_empty());

    let multi = &p.rows[1];
    assert_eq!(multi.person.identity.birth_date, Some(d("1990-05-17")));
    assert_eq!(
        multi.case.process.exploitation_types,
        BTreeSet::from([
            ExploitationType::ForcedLabour,
            ExploitationType::ForcedBegging
        ])
    );
    assert_eq!(
        multi.case.process.control_methods,
        BTreeSet::from([
            ControlMethod::DebtBondage,
            ControlMethod::WithholdsDocuments
        ])
    );
    assert_eq!(
        multi.case.process.forced_labour_industry.as_deref(),
        Some("A")
    );
    assert_eq!(multi.case.intake_channel, IntakeChannel::ReferralIn);
    assert_eq!(multi.case.status, CaseStatus::FollowUp);
    assert_eq!(multi.consents.len(), 1);

    let names = &p.rows[2];
    assert_eq!(names.person.citizenship, BTreeSet::from([cc("SLV")]));
    assert_eq!(names.case.process.country_of_recruitment, Some(cc("GTM")));
    assert_eq!(names.case.process.country_of_exploitation, Some(cc("MEX")));
    assert_eq!(names.case.registration_date, d("2025-09-03"));
    assert_eq!(names.case.status, CaseStatus::Closed);
    assert_eq!(names.case.closure_reason, Some(ClosureReason::GoalsMet));
    assert_eq!(names.person.identity.contacts.len(), 2);
    assert!(names.person.identity.address.contains("Calle 1"));
    assert!(names.person.identity.address.contains("San Salvador"));
}

#[test]
fn iom_v2_template_filled_by_an_ngo_imports_every_row() {
    let p = parse_htcds_xlsx(&fixture("htcds_v2_good.xlsx"), today()).unwrap();
    check_template_rows(&p);
}

#[test]
fn iom_validation_template_filled_by_an_ngo_imports_every_row() {
    let p = parse_htcds_xlsx(&fixture("htcds_validation_good.xlsx"), today()).unwrap();
    check_template_rows(&p);
    // Labels or value names, the same records.
    let q = parse_htcds_xlsx(&fixture("htcds_v2_good.xlsx"), today()).unwrap();
    assert_eq!(p.rows, q.rows);
}

#[test]
fn bad_template_rows_are_reported_by_row_and_column_and_not_imported() {
    let p = parse_htcds_xlsx(&fixture("htcds_v2_bad.xlsx"), today()).unwrap();
    let got = problems(&p);
    // A title row was added above the header: data starts on row 4.
    assert_eq!(p.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [4]);
    for want in [
        (5, "prs_Gender", "unknown_code", Some("Alien")),
        (5, "prs_Citizenship", "unknown_country", Some("Atlantis")),
        (
            6,
            "cas_OutgoingReferralDate",
            "end_before_start",
            Some("2026-02-01"),
        ),
    ] {
        assert!(got.contains(&want), "{want:?} missing from {got:?}");
    }
    assert_eq!(got.len(), 3, "{got:?}");
    // Names are never repeated in a report.
    assert!(p
        .problems
        .iter()
        .all(|x| x.value.as_deref() != Some("Pedro")));
}

#[test]
fn unknown_columns_are_a_problem_of_the_header() {
    let p = parse_htcds_csv(&fixture("htcds_unknown_column.csv")[..], today()).unwrap();
    assert_eq!(
        problems(&p),
        [(1, "prs_FavouriteColour", "unknown_column", None)]
    );
}

#[test]
fn semicolon_latin1_csv_with_labels_as_headers() {
    let p = parse_htcds_csv(&fixture("htcds_semicolon_latin1.csv")[..], today()).unwrap();
    assert!(p.problems.is_empty(), "{:?}", problems(&p));
    let r = &p.rows[0];
    assert_eq!(r.person.identity.given_names, "Lucía");
    assert_eq!(r.person.citizenship, BTreeSet::from([cc("GTM")]));
    assert_eq!(r.case.process.exploitation_types.len(), 2);
    assert_eq!(r.case.registration_date, d("2026-02-10"));
}

#[test]
fn missing_registration_date_and_record_checks_map_to_columns() {
    let csv = "prs_FirstName,prs_Birthdate,con_Consent,cas_Status,prs_IdentityNumber\n\
               Ana,2012-01-01,TRUE,Closed,12345\n\
               Eva,2012-01-01,TRUE,Closed,12345\n";
    let p = parse_htcds_csv(csv.as_bytes(), today()).unwrap();
    let got = problems(&p);
    assert!(
        got.contains(&(2, "cas_CreatedDate", "required", None)),
        "{got:?}"
    );
    assert!(p.rows.is_empty());

    let csv = "prs_FirstName,prs_Birthdate,con_Consent,cas_Status,cas_CreatedDate,pte_ExploitationStart,pte_ExploitationEnd\n\
               Ana,2012-01-01,TRUE,Closed,2026-01-01,2025-06,2025-02\n";
    let p = parse_htcds_csv(csv.as_bytes(), today()).unwrap();
    let got = problems(&p);
    for want in [
        (2, "con_Consent", "minor_needs_guardian", Some("TRUE")),
        (2, "cas_ReasonForCaseClosure", "required", None),
        (
            2,
            "pte_ExploitationEnd",
            "end_before_start",
            Some("2025-02"),
        ),
    ] {
        assert!(got.contains(&want), "{want:?} missing from {got:?}");
    }
}

#[test]
fn ctdc_rows_are_statistical_and_bad_cells_are_named() {
    let p = parse_ctdc_csv(&fixture("ctdc_sample.csv")[..], today()).unwrap();
    assert_eq!(p.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3, 4]);
    let got = problems(&p);
    assert_eq!(
        got,
        [
            (5, "gender", "unknown_code", Some("Robot")),
            (5, "citizenship", "unknown_country", Some("XYZ")),
            (5, "isForcedLabour", "invalid_flag", Some("yes please")),
        ]
    );
    let girl = &p.rows[0];
    assert_eq!(girl.person.identity, Default::default());
    assert_eq!(girl.person.gender, Some(Gender::Feminine));
    assert_eq!(girl.case.registration_date, d("2021-01-01"));
    assert_eq!(
        girl.ctdc,
        Some(CtdcBands {
            age_band: Some(CtdcAgeBand::Age9To17),
            duration_band: Some(DurationBand::M0To12),
        })
    );
    assert_eq!(
        girl.case.process.control_methods,
        BTreeSet::from([
            ControlMethod::PhysicalThreats,
            ControlMethod::PsychologicalAbuse
        ])
    );
    assert_eq!(
        girl.case.process.recruiter_relation,
        Some(RecruiterRelation::IntimatePartner)
    );
    let man = &p.rows[1];
    assert_eq!(
        man.case.process.forced_labour_industry.as_deref(),
        Some("A")
    );
    assert_eq!(
        man.case.process.recruiter_relation,
        Some(RecruiterRelation::OtherKnown)
    );
    assert_eq!(
        man.ctdc.and_then(|b| b.duration_band),
        Some(DurationBand::M25Plus)
    );
}

#[test]
fn ctdc_import_then_export_gives_the_same_flags() {
    let input = String::from_utf8(fixture("ctdc_sample.csv")).unwrap();
    let p = parse_ctdc_csv(input.as_bytes(), today()).unwrap();
    let rows: Vec<crate::export::ExportRow> = p
        .rows
        .iter()
        .map(|r| crate::export::ExportRow {
            person: r.person.clone(),
            case: r.case.clone(),
            age_at_registration: None,
        })
        .collect();
    let mut out = Vec::new();
    crate::export::ctdc_csv(&rows, &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    // Same cells except ageBroad and traffickMonths (bands, not dates; the caller's part).
    let cells = |s: &str| -> Vec<Vec<String>> {
        s.lines()
            .take(4)
            .map(|l| {
                l.split(',')
                    .enumerate()
                    .filter(|(i, _)| *i != 2 && *i != 5)
                    .map(|(_, c)| c.to_owned())
                    .collect()
            })
            .collect()
    };
    assert_eq!(cells(&out), cells(&input));
}

#[test]
fn every_country_of_the_iom_drop_down_is_known() {
    use calamine::{open_workbook_from_rs, Reader, Xlsx};
    let bytes = fixture("htcds_validation_good.xlsx");
    let mut book: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let range = book.worksheet_range("validation").unwrap();
    let mut unknown = Vec::new();
    let mut n = 0;
    for row in range.rows().skip(3) {
        let (Some(code), Some(name)) = (row.get(3), row.get(4)) else {
            continue;
        };
        let (code, name) = (code.to_string(), name.to_string());
        if name.trim().is_empty() {
            continue;
        }
        n += 1;
        let by_code = values::country(&code);
        let by_name = values::country(&name);
        if by_name.is_none() || by_name != by_code {
            unknown.push(format!("{code} {name} → {by_code:?} {by_name:?}"));
        }
    }
    assert!(n > 240, "{n}");
    assert!(unknown.is_empty(), "{unknown:#?}");
}
