//! The regional hub (`puente serve` with `[federation] role = "hub"`): it receives the signed
//! statistics releases of the member countries (`stats.release`, docs/protocol.md 8.6),
//! checks them, keeps every version, and shows the federation's figures on a dashboard.
//!
//! - Its database has its own schema ([`crate::store::Schema::Hub`]): accounts, audit,
//!   federation and `hub_releases`; no table that could hold a case.
//! - The inbox takes only `stats.release` (and `control.epoch`): anything else is rejected
//!   before its body is stored ([`inbox_refusal`], code `not_accepted_by_hub`).
//! - [`apply`] (called by the federation worker) checks a release ([`ReleaseBody::check`]
//!   against the origin and the agreement's period kind, then the history: version order and
//!   chain) and stores it, or records the refusal with its code; both audited.
//! - [`dashboard_data`] aggregates the latest version of each (country, period): published
//!   cells only are added (rule 7), suppressed ones are counted apart; [`pages`] renders it
//!   with inline SVG charts ([`svg`]) and [`export`] writes CSV, HXL and GLOTIP files.

pub mod api;
pub mod bench;
pub mod export;
pub mod pages;
pub mod svg;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use puente_common::stats::release::{PeriodKind, ReleaseBody, RELEASE_KIND};
use puente_common::stats::{Cell, Period, ProtectedTable};
use puente_common::CountryCode;
use puente_federation::{AgreementKind, Channel, Envelope};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::app::Node;
use crate::audit::{AuditCtx, Outcome};
use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::store::fed_sql::InboxRow;
use crate::store::hub_sql::{HubReleaseRow, HubVerdict};
use crate::store::{Schema, Store};

/// Audit action of a stored release.
pub const AUDIT_STORED: &str = "hub.release_stored";
/// Audit action of a refused release.
pub const AUDIT_REFUSED: &str = "hub.release_refused";
/// The code an envelope that a hub does not take is rejected with.
pub const NOT_ACCEPTED: &str = "not_accepted_by_hub";

/// Whether `config` makes this process a hub.
pub fn is_hub(config: &Config) -> bool {
    Schema::of(config) == Schema::Hub
}

/// On a hub, the code an envelope is rejected with before its body is stored: everything but
/// `stats.release` on the `stats` channel and `control.epoch` on `control`. `None` on a
/// country node and for what a hub takes.
pub fn inbox_refusal(config: &Config, env: &Envelope) -> Option<&'static str> {
    if !is_hub(config) {
        return None;
    }
    let taken = match env.channel {
        Channel::Stats => env.kind == RELEASE_KIND,
        Channel::Control => env.kind == "control.epoch",
        _ => false,
    };
    if taken {
        None
    } else {
        tracing::warn!(origin = %env.origin, channel = %env.channel, kind = %env.kind, reason = NOT_ACCEPTED, "hub inbox: envelope rejected");
        Some(NOT_ACCEPTED)
    }
}

/// The period kind of this hub's `stats` agreement (approved agreements only).
fn hub_period(node: &Node) -> Option<PeriodKind> {
    let trust = node.federation.get()?.trust()?;
    trust.effective.hub_period(node.config.country)
}

/// The members of this hub's `stats` agreement (as governance signed it), without the hub.
pub fn stats_members(node: &Node) -> Vec<CountryCode> {
    let Some(trust) = node.federation.get().and_then(|f| f.trust()) else {
        return Vec::new();
    };
    let me = node.config.country;
    let mut out: BTreeSet<CountryCode> = BTreeSet::new();
    for a in trust
        .signed
        .manifest
        .agreements
        .iter()
        .filter(|a| a.kind == AgreementKind::Stats && a.hub == Some(me))
    {
        out.extend(a.members.iter().copied().filter(|m| *m != me));
    }
    out.into_iter().collect()
}

/// The checks that need only the envelope and the manifest; the row to store.
fn check_release(
    node: &Node,
    row: &InboxRow,
    env: &Envelope,
) -> Result<(HubReleaseRow, ReleaseBody), (&'static str, Option<ReleaseBody>)> {
    let body: ReleaseBody =
        serde_json::from_value(env.payload.clone()).map_err(|_| ("release_malformed", None))?;
    let Some(kind) = hub_period(node) else {
        return Err(("no_stats_agreement", Some(body)));
    };
    if let Err(r) = body.check(env.origin, kind) {
        return Err((r.code(), Some(body)));
    }
    if DateTime::parse_from_rfc3339(&body.published_at).is_err()
        || i32::try_from(body.version).is_err()
    {
        return Err(("release_malformed", Some(body)));
    }
    let Ok(stored) = StoredRelease::from_body(body.clone(), row.received_at) else {
        return Err(("release_malformed", Some(body)));
    };
    let hub_row = HubReleaseRow {
        envelope_hash: row.hash.clone(),
        message_id: row.id,
        ..stored.row
    };
    Ok((hub_row, body))
}

/// Applies a `stats.release` stored in a hub's inbox: checks it and stores it (message
/// processed, audited `hub.release_stored`), or records the refusal on the message with its
/// code and audits `hub.release_refused`. Returns false when the message stays to be tried
/// again (the worker's contract): the store failed, or an earlier envelope of the same stream
/// is still being applied (by another replica), so the history check cannot decide yet.
pub async fn apply(node: &Node, row: &InboxRow, env: &Envelope) -> bool {
    let now = node.clock.now();
    let audit = AuditCtx::system(now);
    let store = node.store.as_ref();
    let refuse = |code: &'static str, body: Option<ReleaseBody>| {
        let audit = &audit;
        async move {
            tracing::warn!(origin = %env.origin, reason = code, "hub: release refused");
            let detail = match &body {
                Some(b) => json!({
                    "country": env.origin.as_str(), "period": b.period.to_string(),
                    "version": b.version, "code": code,
                }),
                None => json!({ "country": env.origin.as_str(), "code": code }),
            };
            let ev = audit
                .event(AUDIT_REFUSED, Outcome::Denied)
                .target("message", row.id)
                .detail(detail);
            match store.hub_refuse(row.id, code, now, &ev).await {
                Ok(()) => true,
                Err(e) => {
                    tracing::error!(error = %e, "hub: cannot record a refusal");
                    false
                }
            }
        }
    };
    let (hub_row, body) = match check_release(node, row, env) {
        Ok(x) => x,
        Err((code, body)) => return refuse(code, body).await,
    };
    let ev = audit
        .event(AUDIT_STORED, Outcome::Success)
        .target("release", hub_row.id)
        .detail(json!({
            "country": hub_row.country, "period": hub_row.period,
            "version": hub_row.version, "hash": hub_row.hash,
        }));
    match store.hub_store_release(&hub_row, &ev).await {
        Ok(HubVerdict::Stored) => {
            tracing::info!(country = %hub_row.country, period = %hub_row.period, version = hub_row.version, "hub: release stored");
            true
        }
        Ok(HubVerdict::NotYet) => {
            // An earlier envelope of the stream is being applied (by another replica): the
            // worker tries this one again after it.
            tracing::debug!(country = %hub_row.country, "hub: release waits for an earlier one");
            false
        }
        Ok(v) => refuse(v.code().unwrap_or("release_refused"), Some(body)).await,
        Err(e) => {
            tracing::error!(error = %e, "hub: cannot store a release");
            false
        }
    }
}

// ------------------------------------------------------------------ reading and aggregating

/// A stored release with its parsed body.
#[derive(Debug, Clone)]
pub struct StoredRelease {
    pub row: HubReleaseRow,
    pub body: ReleaseBody,
}

impl StoredRelease {
    /// A release as the hub would store it, made from a body (for benchmarks and tests that
    /// aggregate without a database): hash and version from the body, `seq` 0.
    pub fn from_body(body: ReleaseBody, received_at: DateTime<Utc>) -> AppResult<StoredRelease> {
        let hash = crate::stats::release_hash(&body)?;
        let published_at = DateTime::parse_from_rfc3339(&body.published_at)
            .map_or(received_at, |t| t.with_timezone(&Utc));
        let row = HubReleaseRow {
            id: Uuid::now_v7(),
            country: body.country.as_str().to_owned(),
            period: body.period.to_string(),
            period_kind: PeriodKind::of(body.period).as_str().to_owned(),
            version: i32::try_from(body.version).unwrap_or(i32::MAX),
            seq: 0,
            body: serde_json::to_string(&body).map_err(AppError::internal)?,
            hash,
            prev: body.prev.clone(),
            envelope_hash: String::new(),
            message_id: Uuid::nil(),
            received_at,
            published_at,
            review: match body.review {
                puente_common::stats::release::ReleaseReview::Reviewed => "reviewed",
                puente_common::stats::release::ReleaseReview::Auto => "auto",
            }
            .to_owned(),
            k: i32::try_from(body.method.k).unwrap_or(i32::MAX),
            rounding_base: body
                .method
                .rounding_base
                .map(|b| i32::try_from(b).unwrap_or(i32::MAX)),
            epsilon_milli: body.method.dp.map(|d| i64::from(d.epsilon_milli)),
        };
        Ok(StoredRelease { row, body })
    }
}

/// What the dashboard, the release list and the exports show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HubFilter {
    /// First period shown (inclusive).
    pub from: Option<Period>,
    /// Last period shown (inclusive).
    pub to: Option<Period>,
    pub country: Option<CountryCode>,
}

impl HubFilter {
    /// Whether `p` is within the range.
    pub fn has_period(&self, p: Period) -> bool {
        self.from.is_none_or(|f| p >= f) && self.to.is_none_or(|t| p <= t)
    }

    /// From query-string text: empty or unreadable values are ignored.
    pub fn parse(from: &str, to: &str, country: &str) -> HubFilter {
        HubFilter {
            from: from.trim().parse().ok(),
            to: to.trim().parse().ok(),
            country: country.trim().to_uppercase().parse().ok(),
        }
    }
}

/// Every stored version matching `filter` (country and period range), by country, period
/// and version.
pub async fn releases(store: &dyn Store, filter: &HubFilter) -> AppResult<Vec<StoredRelease>> {
    let rows = store
        .hub_releases(filter.country.as_ref().map(CountryCode::as_str))
        .await?;
    parse_rows(rows, filter)
}

/// The rows of `filter`'s periods, parsed (a row's period is read before its body, so rows
/// outside the range cost no parsing).
fn parse_rows(rows: Vec<HubReleaseRow>, filter: &HubFilter) -> AppResult<Vec<StoredRelease>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let in_range = row
            .period
            .parse::<Period>()
            .map_or(true, |p| filter.has_period(p));
        if !in_range {
            continue;
        }
        let body: ReleaseBody = serde_json::from_str(&row.body)
            .map_err(|e| AppError::internal(format!("stored release {}: {e}", row.id)))?;
        if filter.has_period(body.period) {
            out.push(StoredRelease { row, body });
        }
    }
    out.sort_by(|a, b| {
        (a.body.country, a.body.period, a.body.version).cmp(&(
            b.body.country,
            b.body.period,
            b.body.version,
        ))
    });
    Ok(out)
}

/// The latest version of each (country, period) among `all` (sorted as [`releases`] sorts).
pub fn latest(all: &[StoredRelease]) -> Vec<&StoredRelease> {
    latest_by_key(all.iter()).into_values().collect()
}

/// The latest version of each (country, period), by key.
fn latest_by_key<'a>(
    all: impl Iterator<Item = &'a StoredRelease>,
) -> BTreeMap<(CountryCode, Period), &'a StoredRelease> {
    let mut by: BTreeMap<(CountryCode, Period), &StoredRelease> = BTreeMap::new();
    for r in all {
        let e = by.entry((r.body.country, r.body.period)).or_insert(r);
        if r.body.version > e.body.version {
            *e = r;
        }
    }
    by
}

/// A sum of published values, with the suppressed ones counted apart (rule 7: a suppressed
/// value is never added, and never shown as 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Agg {
    /// Sum of the published values.
    pub sum: u64,
    /// How many published values were added.
    pub published: u32,
    /// How many values were suppressed (not added).
    pub suppressed: u32,
    /// The largest k of the suppressed values (for "<k").
    pub k: u32,
}

impl Agg {
    /// Adds one published or suppressed value.
    pub fn add(&mut self, c: &Cell, k: u32) {
        match c {
            Cell::Count(n) => {
                self.sum += n;
                self.published += 1;
            }
            Cell::Suppressed(_) => {
                self.suppressed += 1;
                self.k = self.k.max(k);
            }
        }
    }

    /// Only suppressed values: nothing can be shown but "<k".
    pub fn all_suppressed(&self) -> bool {
        self.published == 0 && self.suppressed > 0
    }
}

/// An aggregated table: sums by category codes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AggTable {
    pub id: String,
    /// Dimension names.
    pub dims: Vec<String>,
    /// Category codes → sum.
    pub cells: BTreeMap<Vec<String>, Agg>,
    /// Releases that contributed (that held the table).
    pub releases: u32,
}

impl AggTable {
    fn new(id: &str, dims: &[&str]) -> Self {
        AggTable {
            id: id.to_owned(),
            dims: dims.iter().map(|d| (*d).to_owned()).collect(),
            ..AggTable::default()
        }
    }

    fn add(&mut self, key: Vec<String>, c: &Cell, k: u32) {
        self.cells.entry(key).or_default().add(c, k);
    }

    /// The distinct codes of dimension `d`, in order.
    pub fn codes(&self, d: usize) -> Vec<String> {
        let mut s: Vec<String> = self
            .cells
            .keys()
            .filter_map(|k| k.get(d).cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        // UNKNOWN and OTHER last, as the node's tables order them.
        s.sort_by_key(|c| {
            (
                c == crate::stats::UNKNOWN || c == crate::stats::OTHER,
                c.clone(),
            )
        });
        s
    }
}

/// The codes of each cell of `t` (row-major), by dimension.
fn cell_codes(t: &ProtectedTable) -> Vec<Vec<String>> {
    let sizes: Vec<usize> = t.dimensions.iter().map(|d| d.categories.len()).collect();
    (0..t.cells.len())
        .map(|i| {
            let mut rem = i;
            let mut idx = vec![0; sizes.len()];
            for d in (0..sizes.len()).rev() {
                let n = sizes[d].max(1);
                idx[d] = rem % n;
                rem /= n;
            }
            idx.iter()
                .enumerate()
                .map(|(d, x)| {
                    t.dimensions[d]
                        .categories
                        .get(*x)
                        .cloned()
                        .unwrap_or_default()
                })
                .collect()
        })
        .collect()
}

/// One country's state for one period on the publication grid.
#[derive(Debug, Clone, Serialize)]
pub struct StatusCell {
    pub version: u32,
    /// More than one version: the latest is a correction.
    pub correction: bool,
    pub versions: usize,
    pub published_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub k: u32,
    pub rounding_base: Option<u32>,
    pub epsilon_milli: Option<u32>,
    pub hash: String,
}

/// One country's T01 grand total in one period (`None`: nothing received).
#[derive(Debug, Clone, Serialize)]
pub struct CountryTotal {
    pub country: CountryCode,
    pub total: Option<Cell>,
    pub k: u32,
}

/// The federation's T01 totals for one period.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodTotals {
    pub period: Period,
    pub by_country: Vec<CountryTotal>,
    pub sum: Agg,
    /// Members with no release of the period.
    pub missing: u32,
}

/// Everything the dashboard shows, computed from the stored releases only.
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub filter_from: Option<Period>,
    pub filter_to: Option<Period>,
    pub filter_country: Option<CountryCode>,
    /// Countries shown: the members of the stats agreement and any that published.
    pub countries: Vec<CountryCode>,
    /// Periods shown, oldest first.
    pub periods: Vec<Period>,
    /// `status[country][period]`: `None` is "not yet received" (never a zero).
    pub status: Vec<(CountryCode, Vec<Option<StatusCell>>)>,
    /// T01 totals per period (also the trend lines).
    pub totals: Vec<PeriodTotals>,
    /// T01 (sex × age × form) summed over the latest releases shown.
    pub t01: AggTable,
    /// T01's margin by form of exploitation, summed (for the bar chart).
    pub t01_form: AggTable,
    /// T02 (CTDC gender × age) summed.
    pub t02: AggTable,
    /// T03 (citizenship → country of exploitation) summed.
    pub t03: AggTable,
    /// T08 (reporting country × flow × partner country).
    pub t08: AggTable,
    /// Latest releases counted.
    pub releases: usize,
}

/// Aggregates `all` (every stored version, sorted as [`releases`] returns them) for the
/// members `members` of the stats agreement: the latest version of each (country, period)
/// counts; published values are added, suppressed ones counted apart. Pure: the benchmark
/// times it without a database.
pub fn aggregate(all: &[StoredRelease], members: &[CountryCode], filter: &HubFilter) -> Dashboard {
    let all: Vec<&StoredRelease> = all
        .iter()
        .filter(|r| filter.has_period(r.body.period))
        .filter(|r| filter.country.is_none_or(|c| c == r.body.country))
        .collect();
    let by_key = latest_by_key(all.iter().copied());
    let latest: Vec<&StoredRelease> = by_key.values().copied().collect();
    let mut countries: BTreeSet<CountryCode> = members
        .iter()
        .copied()
        .filter(|c| filter.country.is_none_or(|f| f == *c))
        .collect();
    countries.extend(latest.iter().map(|r| r.body.country));
    let countries: Vec<CountryCode> = countries.into_iter().collect();
    let periods: Vec<Period> = latest
        .iter()
        .map(|r| r.body.period)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let find = |c: CountryCode, p: Period| by_key.get(&(c, p)).copied();
    let mut counts: BTreeMap<(CountryCode, Period), usize> = BTreeMap::new();
    for r in &all {
        *counts.entry((r.body.country, r.body.period)).or_default() += 1;
    }
    let versions = |c: CountryCode, p: Period| counts.get(&(c, p)).copied().unwrap_or(0);
    let status = countries
        .iter()
        .map(|c| {
            let cells = periods
                .iter()
                .map(|p| {
                    find(*c, *p).map(|r| StatusCell {
                        version: r.body.version,
                        correction: r.body.version > 1,
                        versions: versions(*c, *p),
                        published_at: r.row.published_at,
                        received_at: r.row.received_at,
                        k: r.body.method.k,
                        rounding_base: r.body.method.rounding_base,
                        epsilon_milli: r.body.method.dp.map(|d| d.epsilon_milli),
                        hash: r.row.hash.clone(),
                    })
                })
                .collect();
            (*c, cells)
        })
        .collect();
    let totals = periods
        .iter()
        .map(|p| {
            let mut sum = Agg::default();
            let mut missing = 0;
            let by_country = countries
                .iter()
                .map(|c| {
                    let r = find(*c, *p);
                    let k = r.map_or(0, |r| r.body.method.k);
                    let total = r.and_then(|r| r.body.table("T01")).map(|t| t.total);
                    match &total {
                        Some(t) => sum.add(t, k),
                        None => missing += 1,
                    }
                    CountryTotal {
                        country: *c,
                        total,
                        k,
                    }
                })
                .collect();
            PeriodTotals {
                period: *p,
                by_country,
                sum,
                missing,
            }
        })
        .collect();
    let mut t01 = AggTable::new("T01", &["glotip_sex", "glotip_age_band", "glotip_form"]);
    let mut t01_form = AggTable::new("T01", &["glotip_form"]);
    let mut t02 = AggTable::new("T02", &["glotip_sex", "ctdc_age_band"]);
    let mut t03 = AggTable::new("T03", &["citizenship", "country_of_exploitation"]);
    let mut t08 = AggTable::new(
        "T08",
        &["reporting_country", "referral_flow", "partner_country"],
    );
    for r in &latest {
        let k = r.body.method.k;
        for (agg, id) in [(&mut t01, "T01"), (&mut t02, "T02"), (&mut t03, "T03")] {
            if let Some(t) = r.body.table(id) {
                agg.releases += 1;
                for (codes, c) in cell_codes(t).into_iter().zip(&t.cells) {
                    agg.add(codes, c, k);
                }
            }
        }
        if let Some(t) = r.body.table("T01") {
            // The margin by form: dimension 2 of a 3-D table.
            if let (Some(m), Some(d)) = (t.margins.get(2), t.dimensions.get(2)) {
                t01_form.releases += 1;
                for (code, c) in d.categories.iter().zip(m) {
                    t01_form.add(vec![code.clone()], c, k);
                }
            }
        }
        if let Some(t) = r.body.table("T08") {
            t08.releases += 1;
            for (codes, c) in cell_codes(t).into_iter().zip(&t.cells) {
                let mut key = vec![r.body.country.as_str().to_owned()];
                key.extend(codes);
                t08.add(key, c, k);
            }
        }
    }
    Dashboard {
        filter_from: filter.from,
        filter_to: filter.to,
        filter_country: filter.country,
        countries,
        periods,
        status,
        totals,
        t01,
        t01_form,
        t02,
        t03,
        t08,
        releases: latest.len(),
    }
}

/// Reads the stored releases and aggregates them ([`aggregate`]) for `members`.
pub async fn dashboard_data(
    store: &dyn Store,
    members: &[CountryCode],
    filter: &HubFilter,
) -> AppResult<Dashboard> {
    let rows = store
        .hub_releases(filter.country.as_ref().map(CountryCode::as_str))
        .await?;
    // Without a range, the latest DEFAULT_PERIODS periods: a light page on a slow connection
    // however many years the hub holds; the form shows the range, to widen it.
    let mut filter = filter.clone();
    if filter.from.is_none() && filter.to.is_none() {
        let periods: BTreeSet<Period> = rows.iter().filter_map(|r| r.period.parse().ok()).collect();
        filter.from = periods.iter().rev().nth(DEFAULT_PERIODS - 1).copied();
    }
    let all = parse_rows(rows, &filter)?;
    Ok(aggregate(&all, members, &filter))
}

/// Periods the dashboard shows when no range is asked for.
pub const DEFAULT_PERIODS: usize = 12;

/// The latest stored version of each (country, period) as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiRelease {
    pub country: String,
    pub period: String,
    pub version: u32,
    pub hash: String,
    pub prev: String,
    pub received_at: DateTime<Utc>,
    /// The `ReleaseBody` as received.
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
}

/// The API's list: the latest version per (country, period) matching `filter`.
pub async fn api_releases(store: &dyn Store, filter: &HubFilter) -> AppResult<Vec<ApiRelease>> {
    let all = releases(store, filter).await?;
    latest(&all)
        .into_iter()
        .map(|r| {
            Ok(ApiRelease {
                country: r.row.country.clone(),
                period: r.row.period.clone(),
                version: r.body.version,
                hash: r.row.hash.clone(),
                prev: r.row.prev.clone(),
                received_at: r.row.received_at,
                body: serde_json::to_value(&r.body).map_err(AppError::internal)?,
            })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use puente_common::stats::release::{ReleaseReview, RELEASE_FORMAT};
    use puente_common::stats::{protect, Dimension, Protection, Table};

    use super::*;

    fn body(country: &str, period: &str, version: u32, counts: Vec<u64>) -> ReleaseBody {
        let dims = vec![
            Dimension {
                name: "glotip_sex".into(),
                categories: vec!["FEMALE".into(), "MALE".into()],
            },
            Dimension {
                name: "glotip_age_band".into(),
                categories: vec!["ADULT".into(), "CHILD".into()],
            },
            Dimension {
                name: "glotip_form".into(),
                categories: vec!["FORCED_LABOUR".into(), "SEXUAL_EXPLOITATION".into()],
            },
        ];
        let p = Protection {
            k: 5,
            rounding_base: None,
            dp: None,
        };
        let t01 = protect(
            &Table::new("T01", dims, counts).unwrap(),
            &p,
            &mut rand::rngs::OsRng,
        )
        .unwrap();
        ReleaseBody {
            v: RELEASE_FORMAT,
            country: country.parse().unwrap(),
            period: period.parse().unwrap(),
            version,
            prev: puente_federation::ZERO_HASH.into(),
            prepared_at: "2025-07-01T00:00:00Z".into(),
            published_at: "2025-07-02T00:00:00Z".into(),
            review: ReleaseReview::Reviewed,
            method: t01.method.clone(),
            withheld: vec![],
            tables: vec![t01],
        }
    }

    fn stored(b: ReleaseBody) -> StoredRelease {
        StoredRelease::from_body(b, DateTime::<Utc>::MIN_UTC).unwrap()
    }

    #[test]
    fn only_latest_versions_and_published_values_are_added() {
        let gtm_v1 = body("GTM", "2025-Q1", 1, vec![10, 10, 10, 10, 10, 10, 10, 10]);
        let gtm_v2 = body("GTM", "2025-Q1", 2, vec![20, 20, 20, 20, 20, 20, 20, 20]);
        let hnd = body("HND", "2025-Q1", 1, vec![30, 12, 3, 10, 25, 9, 6, 20]);
        let all = vec![stored(gtm_v1), stored(gtm_v2), stored(hnd.clone())];
        let members: Vec<CountryCode> = ["GTM", "HND", "SLV"]
            .iter()
            .map(|c| c.parse().unwrap())
            .collect();
        let d = aggregate(&all, &members, &HubFilter::default());
        assert_eq!(d.releases, 2);
        assert_eq!(d.countries, members);
        assert_eq!(d.periods, vec!["2025-Q1".parse::<Period>().unwrap()]);
        // SLV: not received, never a zero.
        assert!(d.status[2].1[0].is_none());
        let gtm = d.status[0].1[0].as_ref().unwrap();
        assert!(gtm.correction && gtm.version == 2 && gtm.versions == 2);
        let t = &d.totals[0];
        assert_eq!(t.missing, 1);
        assert_eq!(t.by_country[0].total, Some(Cell::Count(160)));
        let hnd_total = hnd.tables[0].total.count().unwrap();
        assert_eq!(t.sum.sum, 160 + hnd_total);
        // HND's small cell is suppressed and counted apart, never added.
        let key: Vec<String> = ["FEMALE", "CHILD", "FORCED_LABOUR"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let a = d.t01.cells[&key];
        assert_eq!((a.sum, a.published, a.suppressed, a.k), (20, 1, 1, 5));
        // A filter by country keeps its members only.
        let only = aggregate(
            &all,
            &members,
            &HubFilter {
                country: Some("HND".parse().unwrap()),
                ..HubFilter::default()
            },
        );
        assert_eq!(only.countries, vec!["HND".parse::<CountryCode>().unwrap()]);
        assert_eq!(only.releases, 1);
    }
}
