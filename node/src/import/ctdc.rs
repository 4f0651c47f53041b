//! The CTDC global dataset's 27 columns ([`CTDC_COLUMNS`]).
//!
//! CTDC rows are statistical-only: they carry no identity, so the imported person's identity
//! is empty (the record check's "a person needs a name" is not applied here) and the caller
//! decides what to do with such rows. The bands CTDC gives instead of dates (`ageBroad`,
//! `traffickMonths`) are returned in [`ImportRow::ctdc`]; the registration date is 1 January
//! of `yearOfRegistration`. Grouped flags become one representative code each (CTDC cannot
//! say which member of a group it was): `meansThreats` → `PHYSICAL_THREATS`,
//! `meansAbusePsyPhySex` → `PSYCHOLOGICAL_ABUSE`, `meansDenyBasicNeeds` →
//! `WITHHOLDS_NECESSITIES`, `meansDebtBondageEarnings` → `DEBT_BONDAGE`, `isOtherExploit` →
//! `OTHER`, `recruiterRelationOther` → `OTHER_KNOWN`; so an export of an import gives the same
//! flags back. When several labour sectors or relations are flagged, the first is kept.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;

use chrono::NaiveDate;
use puente_common::case::{CaseRecord, PersonRecord, TraffickingProcess};
use puente_common::vocab::codes::{
    CaseStatus, CtdcAgeBand, DurationBand, ExploitationType, Gender, IntakeChannel,
};
use puente_common::vocab::{squash, Coded};

use super::{finish, read_csv, values, CtdcBands, FileError, ImportRow, Parsed, RowProblem};
use crate::export::ctdc::{
    age_label, duration_label, CTDC_ALIASES, CTDC_COLUMNS, LABOUR_SECTORS, MEANS_GROUPS, RELATIONS,
    SEX_TYPES,
};

/// Reads a CSV file in the CTDC format (any subset of the 27 columns, in any order;
/// `yearOfRegistration` is required). Flags are `1` (also `1.0`, `true`) or empty (also `0`,
/// `NULL`, `NA`, `-99`); gender `Woman`/`Man`/`Trans/Transgender/NonConforming` (or any
/// Puente gender value); ages and durations in CTDC's spelling (`18--20`, `48+`,
/// `0--12 (0-1 yr)`) or as Puente's band codes; countries as alpha-3, alpha-2 or names.
pub fn parse_ctdc_csv(r: impl Read, today: NaiveDate) -> Result<Parsed, FileError> {
    let grid = read_csv(r)?;
    let mut parsed = Parsed::default();
    let mut cols: HashMap<&'static str, (usize, String)> = HashMap::new();
    for (i, h) in grid.headers.iter().enumerate() {
        let q = squash(h);
        if q.is_empty() {
            continue;
        }
        let known = CTDC_COLUMNS
            .iter()
            .copied()
            .find(|c| squash(c) == q)
            .or_else(|| {
                CTDC_ALIASES
                    .iter()
                    .find(|(a, _)| squash(a) == q)
                    .map(|(_, c)| *c)
            });
        let problem = match known {
            None => Some("unknown_column"),
            Some(c) => cols.insert(c, (i, h.clone())).map(|_| "duplicate_column"),
        };
        if let Some(code) = problem {
            parsed.problems.push(RowProblem {
                line: grid.header_line,
                column: h.clone(),
                code,
                value: None,
            });
        }
    }
    for (line, cells) in &grid.rows {
        let mut row = CtdcRow {
            line: *line,
            cells,
            cols: &cols,
            problems: Vec::new(),
        };
        if cols
            .values()
            .all(|(i, _)| cells.get(*i).is_none_or(|c| c.trim().is_empty()))
        {
            continue;
        }
        let built = row.build(today);
        if row.problems.is_empty() {
            if let Some(r) = built {
                parsed.rows.push(r);
            }
        } else {
            parsed.problems.append(&mut row.problems);
        }
    }
    Ok(finish(parsed))
}

struct CtdcRow<'a> {
    line: usize,
    cells: &'a [String],
    cols: &'a HashMap<&'static str, (usize, String)>,
    problems: Vec<RowProblem>,
}

/// Missing-value spellings in CTDC files.
fn missing(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "" | "null" | "na" | "n/a" | "nan" | "-99" | "-99.0" | "unknown"
    )
}

impl<'a> CtdcRow<'a> {
    fn get(&self, col: &str) -> Option<&'a str> {
        let (i, _) = self.cols.get(col)?;
        let cells: &'a [String] = self.cells;
        let v = cells.get(*i)?.trim();
        (!missing(v)).then_some(v)
    }

    fn problem(&mut self, col: &str, code: &'static str, value: Option<&str>) {
        let column = self
            .cols
            .get(col)
            .map_or_else(|| col.to_owned(), |(_, h)| h.clone());
        let p = RowProblem {
            line: self.line,
            column,
            code,
            // Every CTDC column is coded: values may be repeated.
            value: value.map(str::to_owned),
        };
        if !self.problems.contains(&p) {
            self.problems.push(p);
        }
    }

    fn flag(&mut self, col: &str) -> bool {
        let Some(v) = self.get(col) else {
            return false;
        };
        let got = values::flag(v);
        if got.is_none() {
            let v = v.to_owned();
            self.problem(col, "invalid_flag", Some(&v));
        }
        got.unwrap_or(false)
    }

    fn country(&mut self, col: &str) -> Option<puente_common::CountryCode> {
        let v = self.get(col)?;
        let got = values::country(v);
        if got.is_none() {
            let v = v.to_owned();
            self.problem(col, "unknown_country", Some(&v));
        }
        got
    }

    fn gender(&mut self) -> Option<Gender> {
        let v = self.get("gender")?;
        let got = match squash(v).as_str() {
            "woman" | "female" | "f" => Some(Gender::Feminine),
            "man" | "male" | "m" => Some(Gender::Masculine),
            "transtransgendernonconforming" | "transgendernonconforming" => {
                Some(Gender::NonConforming)
            }
            _ => values::coded::<Gender>(v),
        };
        if got.is_none() {
            let v = v.to_owned();
            self.problem("gender", "unknown_code", Some(&v));
        }
        got
    }

    fn band<T: Coded>(&mut self, col: &str, label: fn(T) -> &'static str) -> Option<T> {
        let v = self.get(col)?;
        // "09--17" is "9--17"; "0--12 (0-1 yr)" may come without its gloss.
        let bare = |s: &str| squash(s.split('(').next().unwrap_or(s));
        let q = bare(v);
        let got = T::ALL
            .iter()
            .copied()
            .find(|b| {
                let l = bare(label(*b));
                q == l || q.trim_start_matches('0') == l || squash(v) == squash(b.code())
            })
            .or_else(|| T::from_code(v));
        if got.is_none() {
            let v = v.to_owned();
            self.problem(col, "unknown_code", Some(&v));
        }
        got
    }

    fn build(&mut self, today: NaiveDate) -> Option<ImportRow> {
        let registration = match self.get("yearOfRegistration") {
            Some(v) => {
                let got = values::date_or_year(v);
                if got.is_none() {
                    let v = v.to_owned();
                    self.problem("yearOfRegistration", "invalid_date", Some(&v));
                }
                got
            }
            None => {
                self.problem("yearOfRegistration", "required", None);
                None
            }
        };
        let mut person = PersonRecord {
            gender: self.gender(),
            ..PersonRecord::default()
        };
        if let Some(c) = self.country("citizenship") {
            person.citizenship.insert(c);
        }
        let bands = CtdcBands {
            age_band: self.band::<CtdcAgeBand>("ageBroad", age_label),
            duration_band: self.band::<DurationBand>("traffickMonths", duration_label),
        };
        let mut process = TraffickingProcess {
            country_of_exploitation: self.country("CountryOfExploitation"),
            ..TraffickingProcess::default()
        };
        for (col, group) in MEANS_GROUPS {
            if self.flag(col) {
                if let Some(m) = group.first() {
                    process.control_methods.insert(*m);
                }
            }
        }
        for (col, t) in [
            ("isForcedLabour", ExploitationType::ForcedLabour),
            ("isSexualExploit", ExploitationType::SexualExploitation),
            ("isOtherExploit", ExploitationType::Other),
        ] {
            if self.flag(col) {
                process.exploitation_types.insert(t);
            }
        }
        for (col, section) in LABOUR_SECTORS {
            if self.flag(col) && process.forced_labour_industry.is_none() {
                process.forced_labour_industry = Some((*section).to_owned());
            }
        }
        process.sexual_exploitation_types = SEX_TYPES
            .iter()
            .filter(|(col, _)| self.flag(col))
            .map(|(_, t)| *t)
            .collect::<BTreeSet<_>>();
        for (col, relations) in RELATIONS {
            if self.flag(col) && process.recruiter_relation.is_none() {
                process.recruiter_relation = relations.first().copied();
            }
        }
        let case = CaseRecord {
            intake_channel: IntakeChannel::CaseManagement,
            registration_date: registration.unwrap_or(today),
            identification_date: None,
            status: CaseStatus::Active,
            closure_reason: None,
            trafficking_status: None,
            status_decided_by: None,
            location: None,
            process,
            narrative: String::new(),
        };
        for issue in person.check(today) {
            if issue.field == "identity.given_names" && issue.code == "required" {
                continue; // statistical-only rows carry no identity
            }
            let col = match issue.field.as_str() {
                "citizenship" => "citizenship",
                _ => "gender",
            };
            let v = self.get(col).map(str::to_owned);
            self.problem(col, issue.code, v.as_deref());
        }
        for issue in case.check(today) {
            let col = match issue.field.as_str() {
                "registration_date" => "yearOfRegistration",
                "process.country_of_exploitation" => "CountryOfExploitation",
                "process.sexual_exploitation_types" => "typeOfSexProstitution",
                "process.forced_labour_industry" => "typeOfLabourAgriculture",
                _ => "isOtherExploit",
            };
            let v = self.get(col).map(str::to_owned);
            self.problem(col, issue.code, v.as_deref());
        }
        registration?;
        Some(ImportRow {
            line: self.line,
            person,
            case,
            consents: Vec::new(),
            ctdc: Some(bands),
        })
    }
}
