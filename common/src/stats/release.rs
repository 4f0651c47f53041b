//! The body of a signed statistics release (`stats.release`, docs/protocol.md 8.6): what a
//! node publishes for one closed period and what the hub checks before storing it.
//!
//! A release is one version of one period of one country: the protected tables, the method
//! that protected them, and the hash of the node's previous published release (rule 10: every
//! release is signed, by the envelope that carries it, and chained). A correction of a period
//! is the same period with a higher version; the hub keeps every version and shows the latest.
//! The hash of a release is computed by the caller over the canonical JSON of the body (the
//! federation crate's encoding), so this crate stays free of I/O and of the wire format.

use serde::{Deserialize, Serialize};

use super::{Method, Period, ProtectedTable, StatsError};
use crate::CountryCode;

/// The envelope kind that carries a [`ReleaseBody`], on the `stats` channel.
pub const RELEASE_KIND: &str = "stats.release";
/// The release format version.
pub const RELEASE_FORMAT: u32 = 1;
/// The table ids a release may hold, in publication order (PRIVACY.md's T01–T08, with T03's
/// flow reach as `T03F`).
pub const RELEASE_TABLES: [&str; 9] = [
    "T01", "T02", "T03", "T03F", "T04", "T05", "T06", "T07", "T08",
];

/// How often the federation's releases are cut: one value per federation (the `stats`
/// agreement's `period`), so that every country publishes the same, non-overlapping periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// Calendar months (`2025-07`).
    Month,
    /// Calendar quarters (`2025-Q2`), the default.
    Quarter,
    /// Calendar years (`2025`).
    Year,
}

impl PeriodKind {
    /// The kind of a period.
    pub fn of(p: Period) -> Self {
        match p {
            Period::Month(..) => PeriodKind::Month,
            Period::Quarter(..) => PeriodKind::Quarter,
            Period::Year(_) => PeriodKind::Year,
        }
    }

    /// `month`, `quarter` or `year`.
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
            PeriodKind::Year => "year",
        }
    }
}

impl std::str::FromStr for PeriodKind {
    type Err = StatsError;
    fn from_str(s: &str) -> Result<Self, StatsError> {
        match s {
            "month" => Ok(PeriodKind::Month),
            "quarter" => Ok(PeriodKind::Quarter),
            "year" => Ok(PeriodKind::Year),
            _ => Err(StatsError::Period(s.to_owned())),
        }
    }
}

/// The payload of a `stats.release` envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseBody {
    /// [`RELEASE_FORMAT`].
    pub v: u32,
    /// The publishing country; equal to the envelope's origin.
    pub country: CountryCode,
    /// The closed period.
    pub period: Period,
    /// 1 for the first release of the period; a correction is the next version.
    pub version: u32,
    /// The hash of this node's previous published release (any period), or the zero hash for
    /// its first.
    pub prev: String,
    /// When the tables were computed and protected (RFC 3339).
    pub prepared_at: String,
    /// When a national administrator (or the node's auto-publish policy) published it.
    pub published_at: String,
    /// `review` (published by a national administrator after review) or `auto` (by the
    /// node's policy, without review).
    pub review: ReleaseReview,
    /// The protection every table was published under (each table also states its own).
    pub method: Method,
    /// Tables withheld for the period because, with the others, they would give a suppressed
    /// value away.
    pub withheld: Vec<String>,
    /// The protected tables, in [`RELEASE_TABLES`] order, without the withheld ones.
    pub tables: Vec<ProtectedTable>,
}

/// Whether a person reviewed the release before it was published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseReview {
    /// Reviewed and published by a national administrator.
    Reviewed,
    /// Published by the node's policy without review.
    Auto,
}

/// Why a receiver refuses a release body (the stable code is what the hub records).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseRefusal {
    /// Not a release of this format, or an impossible field.
    #[error("malformed release: {0}")]
    Malformed(String),
    /// `country` is not the envelope's origin.
    #[error("the release's country is not the sender")]
    WrongCountry,
    /// The period is not of the federation's kind.
    #[error("the period is not a {0}")]
    WrongPeriodKind(&'static str),
    /// A table publishes a count under its k, has a recoverable suppressed value, or states
    /// another method than the release.
    #[error("unsafe release: {0}")]
    Unsafe(String),
}

impl ReleaseRefusal {
    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            ReleaseRefusal::Malformed(_) => "release_malformed",
            ReleaseRefusal::WrongCountry => "release_wrong_country",
            ReleaseRefusal::WrongPeriodKind(_) => "release_wrong_period",
            ReleaseRefusal::Unsafe(_) => "release_unsafe",
        }
    }
}

impl ReleaseBody {
    /// The receiver's checks that need nothing but the body: format, sender, period kind,
    /// known and unique table ids in order, every table's method equal to the release's, k at
    /// least 5, and every table passing [`ProtectedTable::check`] (no published count under
    /// k, no suppressed value recoverable from what is published). Version order and the
    /// chain need the receiver's history and are checked there.
    pub fn check(&self, origin: CountryCode, kind: PeriodKind) -> Result<(), ReleaseRefusal> {
        if self.v != RELEASE_FORMAT {
            return Err(ReleaseRefusal::Malformed(format!("format {}", self.v)));
        }
        if self.country != origin {
            return Err(ReleaseRefusal::WrongCountry);
        }
        if PeriodKind::of(self.period) != kind {
            return Err(ReleaseRefusal::WrongPeriodKind(kind.as_str()));
        }
        if self.version == 0 {
            return Err(ReleaseRefusal::Malformed("version 0".into()));
        }
        let is_hash =
            |s: &str| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !is_hash(&self.prev) {
            return Err(ReleaseRefusal::Malformed("prev is not a hash".into()));
        }
        for t in [&self.prepared_at, &self.published_at] {
            if chrono::DateTime::parse_from_rfc3339(t).is_err() {
                return Err(ReleaseRefusal::Malformed(format!("bad time {t:?}")));
            }
        }
        // Ids: known, unique, in order, and together with the withheld ones no table twice.
        let mut last = None;
        for id in self
            .tables
            .iter()
            .map(|t| t.id.as_str())
            .chain(self.withheld.iter().map(String::as_str))
        {
            if !RELEASE_TABLES.contains(&id) {
                return Err(ReleaseRefusal::Malformed(format!("unknown table {id:?}")));
            }
        }
        for t in &self.tables {
            let pos = RELEASE_TABLES.iter().position(|x| *x == t.id);
            if pos <= last || self.withheld.contains(&t.id) {
                return Err(ReleaseRefusal::Malformed(format!(
                    "table {} repeated or out of order",
                    t.id
                )));
            }
            last = pos;
        }
        if self.method.k < super::MIN_K {
            return Err(ReleaseRefusal::Unsafe(format!("k = {}", self.method.k)));
        }
        for t in &self.tables {
            if t.method.k != self.method.k || t.method.rounding_base != self.method.rounding_base {
                return Err(ReleaseRefusal::Unsafe(format!(
                    "table {} states another method",
                    t.id
                )));
            }
            t.check()
                .map_err(|e| ReleaseRefusal::Unsafe(format!("table {}: {e}", t.id)))?;
        }
        Ok(())
    }

    /// A table by id.
    pub fn table(&self, id: &str) -> Option<&ProtectedTable> {
        self.tables.iter().find(|t| t.id == id)
    }
}
