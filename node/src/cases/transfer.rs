//! Bringing cases in from files and taking them out: the database side of `import` and
//! `export` (which only read and write formats).
//!
//! An import is all-or-nothing: every row is prepared and checked like a registration from a
//! page, and then all of them are written in one transaction; a file with problems imports
//! nothing, unless the caller asks to skip the bad rows, which are then listed. A dry run
//! checks everything and writes nothing. Exports are audited; CTDC never carries identity.

use chrono::NaiveDate;
use puente_common::case::ConsentRecord;
use puente_common::vocab::codes::{ConsentGivenBy, ConsentScope};
use serde::Serialize;
use serde_json::json;

use super::{prepare, NewCase, PersonChoice, Who};
use crate::app::AppState;
use crate::audit::Outcome;
use crate::authz::Action;
use crate::error::{AppError, AppResult};
use crate::export::{self, ExportRow};
use crate::import::{self, FileError, Parsed, RowProblem};
use crate::store::cases::CaseFilter;

/// The file formats Puente reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportFormat {
    HtcdsCsv,
    HtcdsXlsx,
    CtdcCsv,
}

impl ImportFormat {
    /// By name (`htcds-csv`, `htcds-xlsx`, `ctdc-csv`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "htcds-csv" => Some(ImportFormat::HtcdsCsv),
            "htcds-xlsx" => Some(ImportFormat::HtcdsXlsx),
            "ctdc-csv" => Some(ImportFormat::CtdcCsv),
            _ => None,
        }
    }

    /// Guessed from a file name: `.xlsx` is the IOM template; a CSV whose name mentions CTDC
    /// is CTDC; any other CSV is HTCDS.
    pub fn guess(file_name: &str) -> Option<Self> {
        let lower = file_name.to_lowercase();
        if lower.ends_with(".xlsx") {
            Some(ImportFormat::HtcdsXlsx)
        } else if lower.ends_with(".csv") {
            Some(if lower.contains("ctdc") {
                ImportFormat::CtdcCsv
            } else {
                ImportFormat::HtcdsCsv
            })
        } else {
            None
        }
    }

    /// Reads `bytes` in this format.
    pub fn read(self, bytes: &[u8], today: NaiveDate) -> Result<Parsed, FileError> {
        match self {
            ImportFormat::HtcdsCsv => import::parse_htcds_csv(bytes, today),
            ImportFormat::HtcdsXlsx => import::parse_htcds_xlsx(bytes, today),
            ImportFormat::CtdcCsv => import::parse_ctdc_csv(bytes, today),
        }
    }
}

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Check everything, write nothing.
    pub dry_run: bool,
    /// Import the good rows of a file that has bad ones (which are listed).
    pub skip_bad_rows: bool,
    /// For rows without a case-management consent: the reference of the legal basis under
    /// which the organisation holds its earlier records (recorded as a `LEGAL_BASIS` consent).
    pub legal_basis_ref: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub dry_run: bool,
    pub rows_read: usize,
    pub imported: usize,
    /// Lines of rows not imported.
    pub skipped_lines: Vec<usize>,
    pub problems: Vec<Problem>,
    /// Case numbers given, in file order.
    pub numbers: Vec<String>,
}

/// A problem of a row, by line and column (a file column, or a record field path for
/// problems found when preparing the registration).
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub line: usize,
    pub column: String,
    pub code: &'static str,
    /// Only for coded, date and number cells; never identity or free text.
    pub value: Option<String>,
}

impl From<&RowProblem> for Problem {
    fn from(p: &RowProblem) -> Self {
        Problem {
            line: p.line,
            column: p.column.clone(),
            code: p.code,
            value: p.value.clone(),
        }
    }
}

/// Imports parsed rows into the actor's organisation. `progress` is told how many rows
/// have been prepared so far.
pub async fn import(
    st: &AppState,
    who: Who<'_>,
    parsed: Parsed,
    opts: &ImportOptions,
    progress: &(dyn Fn(usize) + Sync),
) -> AppResult<ImportReport> {
    crate::admin::require(st, who.audit, who.actor, Action::ImportCases, "case_import").await?;
    let rows_read = parsed.rows.len() + {
        let mut bad: Vec<usize> = parsed.problems.iter().map(|p| p.line).collect();
        bad.sort_unstable();
        bad.dedup();
        bad.iter()
            .filter(|l| !parsed.rows.iter().any(|r| r.line == **l))
            .count()
    };
    let mut problems: Vec<Problem> = parsed.problems.iter().map(Problem::from).collect();
    let mut skipped: Vec<usize> = problems.iter().map(|p| p.line).collect();
    let mut regs = Vec::with_capacity(parsed.rows.len());
    for (i, row) in parsed.rows.into_iter().enumerate() {
        let mut consents = row.consents;
        if !consents
            .iter()
            .any(|c| c.scope == ConsentScope::CaseManagement)
        {
            if let Some(basis) = opts
                .legal_basis_ref
                .as_deref()
                .filter(|b| !b.trim().is_empty())
            {
                consents.push(ConsentRecord {
                    scope: ConsentScope::CaseManagement,
                    given_by: ConsentGivenBy::LegalBasis,
                    guardian_name: String::new(),
                    given_on: row.case.registration_date,
                    expires_on: None,
                    destination_country: None,
                    destination_org: String::new(),
                    field_groups: Default::default(),
                    evidence_ref: basis.trim().to_owned(),
                });
            }
        }
        let input = NewCase {
            person: PersonChoice::New(Box::new(row.person)),
            case: row.case,
            consents,
            caseworker_id: None,
            consent_override_reason: None,
        };
        match prepare(st, who, input).await {
            Ok(r) => {
                regs.push(r);
            }
            Err(AppError::Invalid(fields)) => {
                skipped.push(row.line);
                problems.extend(fields.into_iter().map(|f| Problem {
                    line: row.line,
                    column: f.field,
                    code: f.code,
                    value: None,
                }));
            }
            Err(e) => return Err(e),
        }
        if i % 100 == 0 {
            progress(i + 1);
        }
    }
    progress(regs.len() + skipped.len());
    skipped.sort_unstable();
    skipped.dedup();
    problems.sort_by_key(|p| p.line);
    let refuse = !problems.is_empty() && !opts.skip_bad_rows;
    let mut report = ImportReport {
        dry_run: opts.dry_run,
        rows_read,
        imported: 0,
        skipped_lines: skipped,
        problems,
        numbers: Vec::new(),
    };
    if opts.dry_run || refuse {
        let ev = who
            .audit
            .event(
                "case.import_checked",
                if refuse {
                    Outcome::Failure
                } else {
                    Outcome::Success
                },
            )
            .detail(json!({
                "rows": report.rows_read,
                "good_rows": regs.len(),
                "problems": report.problems.len(),
                "dry_run": opts.dry_run,
            }));
        st.store.append_audit(&ev).await?;
        return Ok(report);
    }
    let stored = st.store.register_cases(&regs).await?;
    report.imported = stored.len();
    report.numbers = stored.into_iter().map(|c| c.number).collect();
    let ev = who
        .audit
        .event("case.import", Outcome::Success)
        .detail(json!({
            "rows": report.rows_read,
            "imported": report.imported,
            "skipped_lines": report.skipped_lines,
        }));
    st.store.append_audit(&ev).await?;
    Ok(report)
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// HTCDS CSV, identity included.
    Htcds,
    /// CTDC CSV: the 27 columns, never identity.
    Ctdc,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "htcds" | "htcds-csv" => Some(ExportFormat::Htcds),
            "ctdc" | "ctdc-csv" => Some(ExportFormat::Ctdc),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            ExportFormat::Htcds => "htcds",
            ExportFormat::Ctdc => "ctdc",
        }
    }
}

/// Writes every case of the actor's organisation in `format` to `w` (audited). Returns the
/// number of cases written.
pub async fn export(
    st: &AppState,
    who: Who<'_>,
    format: ExportFormat,
    w: impl std::io::Write,
) -> AppResult<usize> {
    crate::admin::require(st, who.audit, who.actor, Action::ExportCases, "case_export").await?;
    let org = who
        .actor
        .org_id
        .ok_or(AppError::Forbidden(Action::ExportCases))?;
    let s = super::seal::Sealer::new(st);
    let filter = CaseFilter {
        org_id: Some(org),
        ..Default::default()
    };
    let mut rows = Vec::new();
    let mut offset = 0;
    loop {
        let page = st.store.cases(&filter, 1000, offset).await?;
        if page.is_empty() {
            break;
        }
        offset += i64::try_from(page.len()).unwrap_or(i64::MAX);
        for c in page {
            let person = s.open_person(&st.store.person(c.person_id).await?)?;
            let case = s.open_case(&c)?;
            let age = person.age_on(case.registration_date);
            let person = match format {
                ExportFormat::Htcds => person,
                // Identity never reaches the CTDC writer, not even to be dropped there.
                ExportFormat::Ctdc => puente_common::case::PersonRecord {
                    identity: Default::default(),
                    ..person
                },
            };
            let case = match format {
                ExportFormat::Htcds => case,
                ExportFormat::Ctdc => puente_common::case::CaseRecord {
                    narrative: String::new(),
                    ..case
                },
            };
            rows.push(ExportRow {
                person,
                case,
                age_at_registration: age,
            });
        }
    }
    let result = match format {
        ExportFormat::Htcds => export::htcds_csv(&rows, w),
        ExportFormat::Ctdc => export::ctdc_csv(&rows, w),
    };
    result.map_err(AppError::internal)?;
    let ev = who
        .audit
        .event("case.export", Outcome::Success)
        .org(Some(org))
        .detail(json!({ "format": format.code(), "cases": rows.len() }));
    st.store.append_audit(&ev).await?;
    Ok(rows.len())
}

/// `GET /cases/export/{format}`: the organisation's cases as a CSV download (`ctdc` or
/// `htcds`), for coordinators (audited).
pub async fn download(
    axum::extract::State(st): axum::extract::State<AppState>,
    s: crate::web::SignedIn,
    axum::extract::Path(format): axum::extract::Path<String>,
) -> AppResult<axum::response::Response> {
    let now = st.clock.now();
    let audit = s.ctx.audit(now);
    let who = Who {
        actor: &s.actor,
        audit: &audit,
    };
    crate::admin::require(&st, &audit, &s.actor, Action::ExportCases, &s.ctx.path).await?;
    let format = ExportFormat::parse(&format).ok_or(AppError::NotFound)?;
    let mut body = Vec::new();
    export(&st, who, format, &mut body).await?;
    let name = format!(
        "casos-{}-{}-{}.csv",
        st.config.country,
        now.format("%Y%m%d"),
        format.code()
    );
    Ok(crate::web::csv_download(&name, body))
}
