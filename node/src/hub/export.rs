//! The hub's exports of the latest version of each (country, period): CSV (one row per
//! country, period, table, categories and value or `<k`), HXL-tagged CSV (the same with a
//! second row of hashtags, for HDX) and the GLOTIP-shaped table (sex × age × form per country
//! and period, `<k` for small cells). UTF-8 with a byte-order mark, so that a spreadsheet
//! opens the accents right. Built with the node's own writers
//! ([`crate::stats::pages::to_csv`], [`crate::stats::pages::to_glotip`]) from a
//! [`Release`] made of each received body; their output for the node's page is unchanged.

use puente_common::stats::Protection;

use super::StoredRelease;
use crate::app::AppState;
use crate::error::AppResult;
use crate::stats::pages::{to_csv, to_glotip};
use crate::stats::Release;
use crate::web::Lang;

/// The byte-order mark that tells a spreadsheet the file is UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Hxl,
    Glotip,
}

impl Format {
    /// `csv` (default), `hxl` or `glotip`.
    pub fn parse(s: &str) -> Format {
        match s {
            "hxl" => Format::Hxl,
            "glotip" => Format::Glotip,
            _ => Format::Csv,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Hxl => "hxl",
            Format::Glotip => "glotip",
        }
    }
}

/// A received release as the node's writers take it (no organisation; the release's
/// threshold and rounding; DP is stated in the body, not needed to write).
pub fn as_release(r: &StoredRelease) -> Release {
    let b = &r.body;
    Release {
        period: b.period,
        org: None,
        persons: b.table("T01").and_then(|t| t.total.count()),
        withheld: b.withheld.clone(),
        tables: b.tables.clone(),
        protection: Protection {
            k: b.method.k,
            rounding_base: b.method.rounding_base,
            dp: None,
        },
    }
}

/// Appends `part` (one release's file) to `out`, dropping its `skip` heading lines unless it
/// is the first part.
fn append(out: &mut Vec<u8>, part: &[u8], skip: usize, first: bool) {
    if first {
        out.extend_from_slice(part);
        return;
    }
    let mut rest = part;
    for _ in 0..skip {
        match rest.iter().position(|b| *b == b'\n') {
            Some(i) => rest = &rest[i + 1..],
            None => rest = &[],
        }
    }
    out.extend_from_slice(rest);
}

/// The file of `releases` (each the latest of its country and period) in `format`, with the
/// BOM. Releases without T01 add nothing to the GLOTIP table.
pub fn export(
    st: &AppState,
    lang: Lang,
    releases: &[&StoredRelease],
    format: Format,
) -> AppResult<Vec<u8>> {
    let mut out = BOM.to_vec();
    let mut first = true;
    for r in releases {
        let rel = as_release(r);
        let country = r.body.country.as_str();
        let (part, skip) = match format {
            Format::Csv => (to_csv(&rel, country, "", false)?, 1),
            Format::Hxl => (to_csv(&rel, country, "", true)?, 2),
            Format::Glotip => {
                if r.body.table("T01").is_none() {
                    continue;
                }
                (to_glotip(st, lang, &rel, country)?, 1)
            }
        };
        append(&mut out, &part, skip, first);
        first = false;
    }
    if first {
        // Nothing received: the heading lines only, from an empty release.
        let empty = Release {
            period: puente_common::stats::Period::Year(1970),
            org: None,
            persons: None,
            withheld: Vec::new(),
            tables: Vec::new(),
            protection: Protection {
                k: puente_common::stats::MIN_K,
                rounding_base: None,
                dp: None,
            },
        };
        match format {
            Format::Csv => out.extend(to_csv(&empty, "", "", false)?),
            Format::Hxl => out.extend(to_csv(&empty, "", "", true)?),
            Format::Glotip => out.extend_from_slice(
                b"country,period,sex,sex_code,age,age_code,form,form_code,detected_victims\n",
            ),
        }
    }
    Ok(out)
}
