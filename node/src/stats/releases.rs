//! Statistics releases (PRIVACY.md "Aggregate releases", rules 7, 9 and 10): the node's
//! national tables of one closed period, prepared as a draft, reviewed by a national
//! administrator (or published by the node's policy), then signed, chained and sent to the
//! regional hubs of the federation's `stats` agreement.
//!
//! ```text
//! prepare(period) ──▶ draft (tables as computed; DP: ε recorded in the ledger)
//!      │                 ├── discard ──▶ discarded
//!      │                 └── publish ──▶ published (ReleaseBody, hash, prev) + one signed
//!      │                                  `stats.release` envelope per hub, one transaction
//! ```
//!
//! # Decisions
//! - **A draft is never recomputed.** Its stored tables are exactly what the preview shows and
//!   what publishing signs. A second draft of a period is refused (`draft_exists`): the
//!   administrator publishes or discards the one there is first.
//! - **Versions.** A draft takes the last published version of its period + 1 (a correction
//!   when > 1). A discarded draft frees its version. (period, version) is unique among rows
//!   that are not discarded, and a period has at most one draft (partial unique indexes):
//!   two replicas preparing at once write one draft, the other gets a harmless conflict.
//! - **Chain.** `prev` is the hash of this node's latest published release of any period
//!   (the zero hash for its first); the store checks it against the head in the publishing
//!   transaction (under the chain lock), so two concurrent publications cannot fork it.
//! - **Differential privacy** (`[stats] dp_epsilon_milli`): the ε of one whole release is split
//!   evenly over its [`TABLES`] tables (the withheld ones too: they were computed and noised).
//!   Each person is in one cell of a single-valued table (bound 1). T04 is multi-valued: a
//!   person counts once in every (exploitation flag, means of control) pair that applies to
//!   them, so one person can touch every cell; its bound is its number of cells (flags ×
//!   means), not 1 and not only the number of means (a person with two flags and every means
//!   touches twice that). T08 counts referrals, not persons: bound 1 protects one referral,
//!   not one person (stated in docs/operations.md). Preparing spends ε (the administrator
//!   sees noisy values): the spend is recorded in the same transaction as the draft, and a
//!   spend past the yearly cap is refused (`epsilon_budget_exceeded`) with nothing written.
//! - **The daily job** prepares the last closed period of the federation's kind when no row of
//!   that period exists (a draft, a published release, or a draft an administrator discarded:
//!   a discard is a decision the job does not override, nor spend ε again on); under
//!   `auto_publish` it publishes the drafts it (or the CLI) prepared, `review = auto`.

use chrono::{DateTime, SecondsFormat, Utc};
use puente_common::stats::release::{PeriodKind, ReleaseBody, ReleaseReview, RELEASE_FORMAT};
use puente_common::stats::{
    protect, ComplementaryCheck, DpMethod, DpParams, Mechanism, Method, Period, ProtectedTable,
    Protection, Table,
};
use puente_common::CountryCode;
use puente_federation::{Channel, SignedManifest};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{AuditCtx, Outcome};
use crate::error::{AppError, AppResult, FieldError};
use crate::store::fed_sql::{ApprovalKind, Outgoing};
use crate::store::release_sql::{EpsilonSpend, ReleasePublish, ReleaseRow};
use crate::store::StoreError;

/// The number of tables a release computes (the ε of a release is split over them).
pub const TABLES: u32 = super::TABLE_IDS.len() as u32;

/// States of a release.
pub mod state {
    pub const DRAFT: &str = "draft";
    pub const PUBLISHED: &str = "published";
    pub const DISCARDED: &str = "discarded";
}

/// What a draft stores: the tables as computed, so that publishing signs what was previewed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftBody {
    pub method: Method,
    pub withheld: Vec<String>,
    pub tables: Vec<ProtectedTable>,
}

/// What a stored release holds, whatever its state.
#[derive(Debug, Clone)]
pub struct Content {
    pub method: Method,
    pub withheld: Vec<String>,
    pub tables: Vec<ProtectedTable>,
    /// The published body (published releases only).
    pub body: Option<ReleaseBody>,
}

/// Reads a stored release's body.
pub fn content(row: &ReleaseRow) -> AppResult<Content> {
    if row.state == state::PUBLISHED {
        let b: ReleaseBody = serde_json::from_str(&row.body)
            .map_err(|e| AppError::internal(format!("stored release {}: {e}", row.id)))?;
        Ok(Content {
            method: b.method.clone(),
            withheld: b.withheld.clone(),
            tables: b.tables.clone(),
            body: Some(b),
        })
    } else {
        let d: DraftBody = serde_json::from_str(&row.body)
            .map_err(|e| AppError::internal(format!("stored draft {}: {e}", row.id)))?;
        Ok(Content {
            method: d.method,
            withheld: d.withheld,
            tables: d.tables,
            body: None,
        })
    }
}

fn refuse(field: &str, code: &'static str) -> AppError {
    AppError::Invalid(vec![FieldError::new(field, code)])
}

/// What the federation says about this node's statistics: who it is, the manifest version,
/// and the hubs it publishes to with their period kind (approved `stats` agreements only).
#[derive(Debug, Clone)]
pub struct StatsFed {
    pub me: CountryCode,
    pub manifest_version: u64,
    pub hubs: Vec<(CountryCode, PeriodKind)>,
}

impl StatsFed {
    /// The federation's period kind (the first agreement's; a node publishes every period
    /// kind its agreements ask for).
    pub fn kind(&self) -> PeriodKind {
        self.hubs.first().map_or(PeriodKind::Quarter, |h| h.1)
    }

    /// The hubs that collect periods of `kind`.
    pub fn hubs_of(&self, kind: PeriodKind) -> Vec<CountryCode> {
        self.hubs
            .iter()
            .filter(|h| h.1 == kind)
            .map(|h| h.0)
            .collect()
    }
}

/// The node's statistics federation, read from the stored manifest and local approvals.
/// `None` when the node is in no federation or under no approved `stats` agreement.
pub async fn stats_fed(st: &AppState) -> AppResult<Option<StatsFed>> {
    if st.config.federation.is_none() {
        return Ok(None);
    }
    let Some(row) = st.store.fed_manifest().await? else {
        return Ok(None);
    };
    let signed = SignedManifest::parse(row.body.as_bytes())
        .map_err(|e| AppError::internal(format!("the stored manifest does not parse: {e}")))?;
    let approved: Vec<String> = st
        .store
        .fed_approvals()
        .await?
        .into_iter()
        .filter(|a| a.kind == ApprovalKind::Agreement)
        .map(|a| a.subject)
        .collect();
    let mut m = signed.manifest.clone();
    m.agreements.retain(|a| approved.contains(&a.id));
    let me = st.config.country;
    let hubs = m.stats_hubs(me);
    if hubs.is_empty() {
        return Ok(None);
    }
    Ok(Some(StatsFed {
        me,
        manifest_version: signed.manifest.version,
        hubs,
    }))
}

/// The protection of one table: the node's k and rounding, and in DP mode its share of the
/// release's ε with its per-person contribution bound.
pub fn table_protection(st: &AppState, table: &Table) -> Protection {
    let mut p = st.config.stats.protection();
    if let Some(total) = st.config.stats.dp_epsilon_milli {
        p.dp = Some(DpParams {
            epsilon_milli: total / TABLES,
            contribution_bound: contribution_bound(table),
        });
    }
    p
}

/// The most one person adds to a table's cells (see the module's decisions).
pub fn contribution_bound(table: &Table) -> u32 {
    if table.id == "T04" {
        let cells: usize = table
            .dimensions
            .iter()
            .map(|d| d.categories.len())
            .product();
        u32::try_from(cells).unwrap_or(u32::MAX).max(1)
    } else {
        1
    }
}

/// The method a release states: the node's k and rounding; in DP mode the ε of the whole
/// release, split evenly over its tables (`measurements` = tables; each table states its own
/// share, bound and noise scale).
pub fn release_method(st: &AppState) -> Method {
    let c = &st.config.stats;
    Method {
        k: c.k,
        rounding_base: c.rounding_base,
        dp: c.dp_epsilon_milli.map(|total| DpMethod {
            mechanism: Mechanism::DiscreteLaplace,
            epsilon_milli: total,
            delta: 0,
            contribution_bound: 1,
            measurements: TABLES,
            scale_num: 1000 * u64::from(TABLES),
            scale_den: u64::from(total.max(1)),
        }),
        complementary: ComplementaryCheck::ExactRowspace,
    }
}

/// Computes and protects the tables of `period` for the whole node.
async fn compute_draft(st: &AppState, period: Period) -> AppResult<DraftBody> {
    let t = super::compute(st.store.as_ref(), period, None, st.config.stats.k).await?;
    let mut tables = Vec::with_capacity(t.tables.len());
    for table in &t.tables {
        let p = table_protection(st, table);
        tables.push(
            protect(table, &p, &mut rand::rngs::OsRng)
                .map_err(|e| AppError::internal(format!("protecting {}: {e}", table.id)))?,
        );
    }
    let withheld = super::linked::secure(&mut tables)?;
    tables.retain(|t| !withheld.contains(&t.id));
    Ok(DraftBody {
        method: release_method(st),
        withheld,
        tables,
    })
}

/// Prepares the draft release of `period` (see the module's decisions). Refusals, each
/// changing nothing: `no_stats_agreement`, `period_open`, `wrong_period_kind`,
/// `draft_exists`, `epsilon_budget_exceeded` (field `period`).
pub async fn prepare(st: &AppState, period: Period, ctx: &AuditCtx) -> AppResult<ReleaseRow> {
    prepare_with(st, period, ctx, false).await
}

/// [`prepare`]; with `first_only`, refused with `Conflict("exists")` when the period has any
/// release row at all, checked in the writing transaction (the daily job).
async fn prepare_with(
    st: &AppState,
    period: Period,
    ctx: &AuditCtx,
    first_only: bool,
) -> AppResult<ReleaseRow> {
    let fed = stats_fed(st)
        .await?
        .ok_or_else(|| refuse("period", "no_stats_agreement"))?;
    let now = st.clock.now();
    if !super::is_closed(period, now.date_naive()) {
        return Err(refuse("period", "period_open"));
    }
    if fed.hubs_of(PeriodKind::of(period)).is_empty() {
        return Err(refuse("period", "wrong_period_kind"));
    }
    if st
        .store
        .releases(Some(&period.to_string()))
        .await?
        .iter()
        .any(|r| r.release.state == state::DRAFT)
    {
        return Err(refuse("period", "draft_exists"));
    }
    let draft = compute_draft(st, period).await?;
    let spend = st.config.stats.dp_epsilon_milli.map(|e| EpsilonSpend {
        year: period.year(),
        epsilon_milli: e,
        yearly_cap_milli: st.config.stats.dp_yearly_cap_milli,
    });
    let row = ReleaseRow {
        id: Uuid::now_v7(),
        period: period.to_string(),
        version: 0,
        state: state::DRAFT.into(),
        body: serde_json::to_string(&draft)
            .map_err(|e| AppError::internal(format!("encoding a draft: {e}")))?,
        hash: None,
        prev: None,
        chain_seq: None,
        prepared_at: now,
        prepared_by: ctx.actor_id,
        published_at: None,
        published_by: None,
        review: None,
        discarded_at: None,
        discarded_by: None,
        epsilon_milli: spend.map(|s| i32::try_from(s.epsilon_milli).unwrap_or(i32::MAX)),
        outbox_ids: None,
    };
    let audit = AuditCtx {
        at: now,
        ..ctx.clone()
    }
    .event("stats.release_prepare", Outcome::Success)
    .target("stats_release", row.id)
    .detail(json!({
        "period": row.period,
        "withheld": draft.withheld,
        "epsilon_milli": spend.map(|s| s.epsilon_milli),
    }));
    match st
        .store
        .release_prepare(&row, spend, first_only, &audit)
        .await
    {
        Ok(r) => Ok(r),
        Err(StoreError::Conflict("draft")) => Err(refuse("period", "draft_exists")),
        Err(StoreError::Conflict("epsilon_budget")) => {
            Err(refuse("period", "epsilon_budget_exceeded"))
        }
        Err(e) => Err(e.into()),
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Publishes draft `id`: builds and checks the [`ReleaseBody`], hashes it, and in one
/// transaction marks it published and queues one signed `stats.release` envelope to each hub.
/// Refusals: `not_found`, `not_a_draft` (field `state`), `no_stats_agreement`,
/// `wrong_period_kind`, and the receiver's own codes (`release_unsafe`, …; field `release`).
pub async fn publish(
    st: &AppState,
    id: Uuid,
    ctx: &AuditCtx,
    review: ReleaseReview,
) -> AppResult<ReleaseRow> {
    let row = st.store.release(id).await?.release;
    if row.state != state::DRAFT {
        return Err(refuse("state", "not_a_draft"));
    }
    let fed = stats_fed(st)
        .await?
        .ok_or_else(|| refuse("period", "no_stats_agreement"))?;
    let period: Period = row
        .period
        .parse()
        .map_err(|_| AppError::internal("stored release period"))?;
    let kind = PeriodKind::of(period);
    let hubs = fed.hubs_of(kind);
    if hubs.is_empty() {
        return Err(refuse("period", "wrong_period_kind"));
    }
    let draft = content(&row)?;
    let version = u32::try_from(row.version).map_err(|_| AppError::internal("version"))?;
    // The chain head can move between reading it and writing (another publication): retry.
    for _ in 0..3 {
        let now = st.clock.now();
        let prev = st
            .store
            .release_chain_head()
            .await?
            .unwrap_or_else(|| puente_federation::ZERO_HASH.to_owned());
        let body = ReleaseBody {
            v: RELEASE_FORMAT,
            country: fed.me,
            period,
            version,
            prev: prev.clone(),
            prepared_at: rfc3339(row.prepared_at),
            published_at: rfc3339(now),
            review,
            method: draft.method.clone(),
            withheld: draft.withheld.clone(),
            tables: draft.tables.clone(),
        };
        // Never publish what the hub would refuse.
        body.check(fed.me, kind)
            .map_err(|r| refuse("release", r.code()))?;
        let hash = super::release_hash(&body)?;
        let payload = serde_json::to_value(&body)
            .map_err(|e| AppError::internal(format!("encoding a release: {e}")))?;
        let outgoing: Vec<Outgoing<'_>> = hubs
            .iter()
            .map(|hub| Outgoing {
                id: Uuid::now_v7(),
                origin: fed.me,
                destination: *hub,
                channel: Channel::Stats,
                kind: puente_common::stats::release::RELEASE_KIND,
                payload: payload.clone(),
                manifest_version: fed.manifest_version,
                signer: &st.identity,
                now,
            })
            .collect();
        let review_code = match review {
            ReleaseReview::Reviewed => "reviewed",
            ReleaseReview::Auto => "auto",
        };
        let audit = AuditCtx {
            at: now,
            ..ctx.clone()
        }
        .event("stats.release_publish", Outcome::Success)
        .target("stats_release", row.id)
        .detail(json!({
            "period": row.period,
            "version": version,
            "hash": hash,
            "prev": prev,
            "review": review_code,
            "hubs": hubs.iter().map(|h| h.as_str()).collect::<Vec<_>>(),
        }));
        let p = ReleasePublish {
            id,
            body: serde_json::to_string(&body)
                .map_err(|e| AppError::internal(format!("encoding a release: {e}")))?,
            hash,
            prev,
            published_at: now,
            published_by: ctx.actor_id,
            review: review_code,
            outgoing,
            audit,
        };
        match st.store.release_publish(p).await {
            Ok(r) => {
                if let Some(f) = st.federation.get() {
                    f.outbox.notify_one();
                }
                return Ok(r);
            }
            Err(StoreError::Conflict("chain")) => continue,
            Err(StoreError::Conflict("state")) => return Err(refuse("state", "not_a_draft")),
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Conflict("chain"))
}

/// Discards draft `id`. Refusals: `not_found`, `not_a_draft` (field `state`).
pub async fn discard(st: &AppState, id: Uuid, ctx: &AuditCtx) -> AppResult<()> {
    let row = st.store.release(id).await?.release;
    if row.state != state::DRAFT {
        return Err(refuse("state", "not_a_draft"));
    }
    let now = st.clock.now();
    let audit = AuditCtx {
        at: now,
        ..ctx.clone()
    }
    .event("stats.release_discard", Outcome::Success)
    .target("stats_release", row.id)
    .detail(json!({ "period": row.period, "version": row.version }));
    match st
        .store
        .release_discard(id, now, ctx.actor_id, &audit)
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict("state")) => Err(refuse("state", "not_a_draft")),
        Err(e) => Err(e.into()),
    }
}

/// ε spent in `year` (thousandths), from the persistent ledger.
pub async fn epsilon_spent(st: &AppState, year: u16) -> AppResult<u64> {
    Ok(st
        .store
        .epsilon_entries(year)
        .await?
        .iter()
        .map(|(_, e)| u64::try_from(*e).unwrap_or(0))
        .sum())
}

/// The delivery state of a published release: `pending` until every hub acknowledged it,
/// then `delivered` (`rejected` if a hub rejected it); `None` for a draft.
pub async fn delivery(st: &AppState, row: &ReleaseRow) -> AppResult<Option<&'static str>> {
    let Some(ids) = &row.outbox_ids else {
        return Ok(None);
    };
    let ids: Vec<Uuid> = serde_json::from_str(ids).unwrap_or_default();
    let status = st.store.release_outbox_status(&ids).await?;
    Ok(Some(if status.iter().any(|(_, s)| s == "rejected") {
        "rejected"
    } else if status.len() == ids.len() && status.iter().all(|(_, s)| s == "acked") {
        "delivered"
    } else {
        "pending"
    }))
}

/// What one run of the daily job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    /// No approved `stats` agreement: nothing to do.
    NoAgreement,
    /// The period already has its release (or another replica prepared it).
    AlreadyDone,
    /// A draft was prepared for review.
    Prepared,
    /// A draft was prepared (or found) and published under `auto_publish`.
    Published,
}

/// The daily job: prepares the last closed period's release when the period has none, and
/// under `auto_publish` publishes the drafts prepared without a person (job or CLI).
/// Idempotent, and safe with two replicas (the losing insert or publication is "already
/// done").
pub async fn run_job(st: &AppState) -> AppResult<JobOutcome> {
    let Some(fed) = stats_fed(st).await? else {
        return Ok(JobOutcome::NoAgreement);
    };
    let now = st.clock.now();
    let period = super::last_closed(fed.kind().as_str(), now.date_naive());
    let ctx = AuditCtx::system(now);
    let rows = st.store.releases(Some(&period.to_string())).await?;
    let mut outcome = JobOutcome::AlreadyDone;
    let mut to_publish = rows
        .iter()
        .find(|r| r.release.state == state::DRAFT && r.release.prepared_by.is_none())
        .map(|r| r.release.id);
    if rows.is_empty() {
        match prepare_with(st, period, &ctx, true).await {
            Ok(r) => {
                outcome = JobOutcome::Prepared;
                to_publish = Some(r.id);
            }
            Err(AppError::Conflict(_)) => return Ok(JobOutcome::AlreadyDone),
            Err(AppError::Invalid(f))
                if f.iter()
                    .any(|e| e.code == "draft_exists" || e.code == "period_open") =>
            {
                return Ok(JobOutcome::AlreadyDone)
            }
            Err(e) => return Err(e),
        }
    }
    if st.config.stats.auto_publish {
        if let Some(id) = to_publish {
            match publish(st, id, &ctx, ReleaseReview::Auto).await {
                Ok(_) => outcome = JobOutcome::Published,
                Err(AppError::Invalid(f)) if f.iter().any(|e| e.code == "not_a_draft") => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(outcome)
}
