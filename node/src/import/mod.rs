//! Importing cases from files NGOs already have: HTCDS 2.0 as CSV or as IOM's two Excel
//! templates, and the CTDC global dataset's 27 columns. Pure functions over what the caller
//! passes in; no database, no clock (`today` is a parameter), nothing logged.
//!
//! Every parser reads the whole file and reports every problem of every row (a dry run shows
//! all of them at once); a row with a problem is left out of [`Parsed::rows`]. Whether a file
//! with problems is imported at all (DATA-STANDARD.md: nothing, unless asked to skip bad rows)
//! is the caller's decision.
//!
//! A [`RowProblem`] names the line as the user sees it (the CSV line, the spreadsheet row), the
//! column as the file spells its header, and a stable code: `unknown_column`,
//! `duplicate_column`, `unknown_code`, `unknown_country`, `unknown_language`, `invalid_date`,
//! `invalid_number`, `invalid_flag`, `required`, `end_before_start`, or an [`Issue`] code of
//! the record checks. It repeats the cell's value only for coded, date and number cells, never
//! for a name, document, contact, address or free text.
//!
//! [`Issue`]: puente_common::case::Issue

mod ctdc;
mod htcds;
mod values;
mod xlsx;

use std::io::Read;

use chrono::NaiveDate;
use puente_common::case::{CaseRecord, ConsentRecord, PersonRecord};
use puente_common::vocab::codes::{CtdcAgeBand, DurationBand};

pub use ctdc::parse_ctdc_csv;
pub(crate) use values::industry_htcds;
pub use xlsx::parse_htcds_xlsx;

/// One good row: a person, their case, and the consents the row records.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    /// 1-based line (CSV) or row (spreadsheet) as the user sees it.
    pub line: usize,
    pub person: PersonRecord,
    pub case: CaseRecord,
    pub consents: Vec<ConsentRecord>,
    /// CTDC rows only: the bands CTDC gives instead of a birth date and exploitation dates,
    /// which the case record cannot hold without inventing dates.
    pub ctdc: Option<CtdcBands>,
}

/// What a CTDC row says about age and duration, as bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CtdcBands {
    /// `ageBroad`: age at registration.
    pub age_band: Option<CtdcAgeBand>,
    /// `traffickMonths`: time in exploitation.
    pub duration_band: Option<DurationBand>,
}

/// A problem with one cell, a row, or the header (line of the header row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub line: usize,
    /// The column header as in the file (its canonical name if the file lacks the column).
    pub column: String,
    pub code: &'static str,
    /// The offending value, only for coded, date and number cells.
    pub value: Option<String>,
}

/// The result of reading a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// Rows without problems, in file order.
    pub rows: Vec<ImportRow>,
    /// Every problem of every row, by line.
    pub problems: Vec<RowProblem>,
}

/// Why a file could not be read at all. Messages never quote the file's content.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("the file could not be read")]
    Io(#[from] std::io::Error),
    #[error("the file is not valid CSV near line {line}")]
    Malformed { line: u64 },
    #[error("the file is not an Excel workbook (.xlsx)")]
    NotAWorkbook,
    #[error("no header row with known column names was found")]
    NoHeader,
    #[error("the file is empty")]
    Empty,
}

/// Reads an HTCDS CSV file: the header holds HTCDS field names with their prefixes
/// (`prs_Gender`, `vic_TypeOfExploitation`, `cas_Status` …), their labels (`Gender`), or
/// Puente's `pte_` extension columns (the full list is `htcds::COLUMNS`). A file
/// without a registration date column (`cas_CreatedDate`, `registration_date` or
/// `yearOfRegistration`) takes it from `cas_IncomingReferralDate`, else the row is refused
/// (`required`); the intake channel defaults to `REFERRAL_IN` when the row names a referring
/// organisation or referral date, else `CASE_MANAGEMENT`; the status defaults to `ACTIVE`.
/// A ticked `con_Consent` (or `vic_AgreementToManagePersonalData`) is a `CASE_MANAGEMENT`
/// consent given on the registration date, by the person unless `pte_ConsentGivenBy` says
/// otherwise.
///
/// Accepted: UTF-8 (with or without BOM) or Latin-1; `,`, `;` or tab as delimiter (sniffed
/// from the header line); multi-select cells separated by `;`, `,` or `|`; values as HTCDS
/// value names, IOM's labels, Puente's Spanish or English labels, or Puente codes, ignoring
/// case and spaces; countries as alpha-2, alpha-3 or names; dates ISO or `dd/mm/yyyy`.
pub fn parse_htcds_csv(r: impl Read, today: NaiveDate) -> Result<Parsed, FileError> {
    let grid = read_csv(r)?;
    Ok(finish(htcds::parse_grid(&grid, today)))
}

fn finish(mut parsed: Parsed) -> Parsed {
    parsed.problems.sort_by_key(|p| p.line);
    parsed
}

/// Decodes one CSV cell: UTF-8, or Latin-1 as Excel's "CSV" save writes on Windows.
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// The delimiter of the header line: the most frequent of `,`, `;` and tab (Excel in Spanish
/// locales saves CSV with `;`).
fn sniff_delimiter(bytes: &[u8]) -> u8 {
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let count = |d: u8| first.iter().filter(|&&b| b == d).count();
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|&d| (count(d), d == b','))
        .unwrap_or(b',')
}

/// Reads a CSV file into a grid: the first record is the header.
pub(crate) fn read_csv(mut r: impl Read) -> Result<htcds::Grid, FileError> {
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes)?;
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(FileError::Empty);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sniff_delimiter(body))
        .from_reader(body);
    let mut header: Option<(usize, Vec<String>)> = None;
    let mut rows = Vec::new();
    for record in reader.byte_records() {
        let record = record.map_err(|e| FileError::Malformed {
            line: e.position().map_or(0, csv::Position::line),
        })?;
        let line = record
            .position()
            .map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
        let cells: Vec<String> = record.iter().map(decode).collect();
        if header.is_none() {
            header = Some((line, cells));
        } else {
            rows.push((line, cells));
        }
    }
    let (header_line, headers) = header.ok_or(FileError::Empty)?;
    Ok(htcds::Grid {
        header_line,
        headers,
        rows,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
