//! IOM's two HTCDS Excel templates ("HTCDS Excel Spreadsheet v2.0.xlsx" and "… single select
//! with validation v2.0.xlsx") as NGOs fill them. What the templates do, and what this reader
//! does about it:
//!
//! - Row 1 holds field names, row 2 their labels, data starts on row 3. The header row is
//!   found, not assumed: the row (among the first 30 of the sheet) whose cells name the most
//!   known columns, by field name or label; an adjacent row that also names many is the
//!   second header row. Title rows above, a deleted names row or a deleted labels row all work.
//! - Field names win over labels; a column without a field name is read by its label (the
//!   templates leave `cas_ReasonForOutgoingReferral` out of row 1) and misspelt names are
//!   known (`vic_TraffickinStatusDecisionMakingOrg`). The templates' field names and labels
//!   disagree for the mailing-address columns (N–R); all of them go into the one address.
//! - Column A numbers the rows 1…1000 and has no header: columns without a header are not
//!   read, so the 1000 numbered but otherwise empty rows are skipped like any blank row.
//! - The variant with validation has three sheets (`Case Sheet`, `about`, `validation`): the
//!   sheet with the best header row is read. Its drop-downs give IOM's labels
//!   (`Forced labour`, `Follow up`, country names such as `Korea, Republic of`), all accepted.
//! - Cells may be numbers (`3.0` is 3), booleans, or real dates (Excel serials, both epochs).
//! - Merged cells keep their value in the top-left cell only; the others read as empty.

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use chrono::NaiveDate;

use super::htcds::{self, Grid};
use super::{finish, FileError, Parsed};

/// How many rows from the top of a sheet may hold the header.
const HEADER_SEARCH_ROWS: usize = 30;
/// The fewest known columns a header row must name.
const MIN_HEADER_SCORE: usize = 3;

/// Reads an HTCDS workbook (either IOM template, or any sheet whose header row names HTCDS
/// fields or labels). Lines in problems are spreadsheet row numbers.
pub fn parse_htcds_xlsx(bytes: &[u8], today: NaiveDate) -> Result<Parsed, FileError> {
    let mut book: Xlsx<_> =
        open_workbook_from_rs(Cursor::new(bytes)).map_err(|_| FileError::NotAWorkbook)?;
    let mut best: Option<(usize, Grid)> = None;
    for name in book.sheet_names() {
        let Ok(range) = book.worksheet_range(&name) else {
            continue;
        };
        let (row0, col0) = range.start().unwrap_or((0, 0));
        let row0 = usize::try_from(row0).unwrap_or(0);
        let col0 = usize::try_from(col0).unwrap_or(0);
        let rows: Vec<(usize, Vec<String>)> = range
            .rows()
            .enumerate()
            .map(|(i, cells)| {
                let mut out = vec![String::new(); col0];
                out.extend(cells.iter().map(cell_text));
                (row0 + i + 1, out)
            })
            .collect();
        if let Some((score, grid)) = find_header(rows) {
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, grid));
            }
        }
    }
    let (_, grid) = best.ok_or(FileError::NoHeader)?;
    Ok(finish(htcds::parse_grid(&grid, today)))
}

fn score(cells: &[String]) -> usize {
    cells.iter().filter(|c| htcds::resolve(c).is_some()).count()
}

fn name_score(row: Option<&(usize, Vec<String>)>) -> usize {
    row.map_or(0, |(_, cells)| {
        cells
            .iter()
            .filter(|c| c.contains('_') && htcds::resolve(c).is_some())
            .count()
    })
}

/// Finds the header row (and a second header row beside it), and returns its score and the
/// grid of the rows below.
fn find_header(rows: Vec<(usize, Vec<String>)>) -> Option<(usize, Grid)> {
    let scores: Vec<usize> = rows
        .iter()
        .take(HEADER_SEARCH_ROWS)
        .map(|(_, c)| score(c))
        .collect();
    let (b, &best) = scores
        .iter()
        .enumerate()
        .max_by_key(|(i, s)| (**s, std::cmp::Reverse(*i)))?;
    if best < MIN_HEADER_SCORE {
        return None;
    }
    let enough = |i: usize| {
        scores
            .get(i)
            .is_some_and(|&s| s >= MIN_HEADER_SCORE.max(best / 2))
    };
    let second = if enough(b + 1) {
        Some(b + 1)
    } else if b > 0 && enough(b - 1) {
        Some(b - 1)
    } else {
        None
    };
    // Of two header rows, the one with field names (they have a prefix: `prs_Gender`) comes
    // first, whichever names more columns.
    let (first, other) = match second {
        Some(s) if name_score(rows.get(s)) > name_score(rows.get(b)) => (s, Some(b)),
        _ => (b, second),
    };
    let primary = rows.get(first).map(|(_, c)| c.clone()).unwrap_or_default();
    let secondary = other
        .and_then(|s| rows.get(s))
        .map(|(_, c)| c.clone())
        .unwrap_or_default();
    let width = primary.len().max(secondary.len());
    let headers = (0..width)
        .map(|i| {
            let p = primary.get(i).map(|s| s.trim()).unwrap_or_default();
            let s = secondary.get(i).map(|s| s.trim()).unwrap_or_default();
            if htcds::resolve(p).is_some() || s.is_empty() {
                p.to_owned()
            } else {
                s.to_owned()
            }
        })
        .collect();
    let header_line = rows.get(first).map_or(1, |(l, _)| *l);
    let data_from = second.map_or(b, |s| s.max(b)) + 1;
    let data = rows.into_iter().skip(data_from).collect();
    Some((
        best,
        Grid {
            header_line,
            headers,
            rows: data,
        },
    ))
}

/// A cell as text: whole numbers without `.0`, booleans as `TRUE`/`FALSE`, dates as
/// `YYYY-MM-DD`.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.replace('\u{a0}', " "),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{f:.0}")
            } else {
                f.to_string()
            }
        }
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{d:02}")
        }
        Data::DateTime(dt) => dt.as_f64().to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(_) => "#ERROR".to_owned(),
    }
}
