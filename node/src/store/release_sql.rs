//! Storage of the node's statistics releases (`crate::stats::releases`) and of the persistent
//! ε ledger, shared by both backends like `ref_sql.rs`. Every write is one transaction with
//! its audit entry; publishing also signs and queues the `stats.release` envelopes
//! (`fed_enqueue_in`) in that transaction, so a release is sent exactly when it is published.
//! Rows hold protected tables only, never victim-level data.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::fed_sql::Outgoing;
use super::StoreResult;
use crate::audit::AuditEvent;

pub(super) const RELEASE_COLS: &str =
    "r.id, r.period, r.version, r.state, r.body, r.hash, r.prev, \
    r.chain_seq, r.prepared_at, r.prepared_by, r.published_at, r.published_by, r.review, \
    r.discarded_at, r.discarded_by, r.epsilon_milli, r.outbox_ids";

/// One version of one period's release, as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReleaseRow {
    pub id: Uuid,
    /// `2025-Q2`, `2025-07`, `2025`.
    pub period: String,
    /// 1, or the correction's number; chosen by the store when the draft is written.
    pub version: i32,
    /// `draft`, `published` or `discarded`.
    pub state: String,
    /// Draft: the `DraftBody` JSON; published: the `ReleaseBody` JSON.
    pub body: String,
    pub hash: Option<String>,
    pub prev: Option<String>,
    /// Order of publication (the chain follows it).
    pub chain_seq: Option<i64>,
    pub prepared_at: DateTime<Utc>,
    /// `None`: the scheduled job or the CLI.
    pub prepared_by: Option<Uuid>,
    pub published_at: Option<DateTime<Utc>>,
    pub published_by: Option<Uuid>,
    /// `reviewed` or `auto`, once published.
    pub review: Option<String>,
    pub discarded_at: Option<DateTime<Utc>>,
    pub discarded_by: Option<Uuid>,
    /// ε of the whole release (DP mode), thousandths.
    pub epsilon_milli: Option<i32>,
    /// JSON array of the `fed_outbox` ids that carry the published release.
    pub outbox_ids: Option<String>,
}

/// A release with the names of who prepared and published it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReleaseListed {
    #[sqlx(flatten)]
    pub release: ReleaseRow,
    pub prepared_by_name: Option<String>,
    pub published_by_name: Option<String>,
}

/// An ε spend recorded with a draft, refused past the yearly cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpsilonSpend {
    pub year: u16,
    pub epsilon_milli: u32,
    pub yearly_cap_milli: u32,
}

/// What publishing writes, in one transaction.
#[derive(Debug)]
pub struct ReleasePublish<'a> {
    pub id: Uuid,
    /// The canonical `ReleaseBody` JSON.
    pub body: String,
    pub hash: String,
    /// Must equal the hash of the latest published release (or the zero hash for the first):
    /// otherwise `Conflict("chain")` and nothing is written.
    pub prev: String,
    pub published_at: DateTime<Utc>,
    pub published_by: Option<Uuid>,
    pub review: &'a str,
    /// One `stats.release` envelope per hub.
    pub outgoing: Vec<Outgoing<'a>>,
    pub audit: AuditEvent,
}

#[async_trait]
pub trait ReleaseStore: Send + Sync {
    /// Writes a draft: `row.version` is replaced by the last published version of the period
    /// + 1. `Conflict("draft")` when the period already has a draft, `Conflict("release")`
    /// when another writer took the version meanwhile, `Conflict("epsilon_budget")` when
    /// `spend` passes the yearly cap (with `spend`, the ledger row is written in the same
    /// transaction). With `first_only`, `Conflict("exists")` when the period has any row at
    /// all (the daily job: checked under the lock, so two replicas prepare it once). Returns
    /// the row written.
    async fn release_prepare(
        &self,
        row: &ReleaseRow,
        spend: Option<EpsilonSpend>,
        first_only: bool,
        audit: &AuditEvent,
    ) -> StoreResult<ReleaseRow>;
    /// Publishes a draft (see [`ReleasePublish`]). `NotFound`, `Conflict("state")` for a row
    /// that is not a draft, `Conflict("chain")` when `prev` is not the chain's head.
    async fn release_publish(&self, p: ReleasePublish<'_>) -> StoreResult<ReleaseRow>;
    /// Discards a draft. `NotFound`, `Conflict("state")` for a row that is not a draft.
    async fn release_discard(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        by: Option<Uuid>,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    async fn release(&self, id: Uuid) -> StoreResult<ReleaseListed>;
    /// Every release (of `period`, if given), newest period and version first.
    async fn releases(&self, period: Option<&str>) -> StoreResult<Vec<ReleaseListed>>;
    /// The hash of the latest published release, if any.
    async fn release_chain_head(&self) -> StoreResult<Option<String>>;
    /// `(period, epsilon_milli)` of every ε spend recorded in `year`.
    async fn epsilon_entries(&self, year: u16) -> StoreResult<Vec<(String, i32)>>;
    /// `(id, status)` of these outbox envelopes.
    async fn release_outbox_status(&self, ids: &[Uuid]) -> StoreResult<Vec<(Uuid, String)>>;
}

macro_rules! impl_release_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::release_sql::ReleaseStore for $store {
            async fn release_prepare(
                &self,
                row: &$crate::store::release_sql::ReleaseRow,
                spend: Option<$crate::store::release_sql::EpsilonSpend>,
                first_only: bool,
                audit: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<$crate::store::release_sql::ReleaseRow> {
                use $crate::store::OnConflict as _;
                use $crate::store::StoreError;
                let mut tx = self.begin_write().await?;
                // The ledger and the chain are read and written under the chain lock.
                Self::lock_audit_chain(&mut tx).await?;
                if first_only {
                    let any: Option<(uuid::Uuid,)> = sqlx::query_as(
                        "SELECT id FROM stats_releases WHERE period = $1 LIMIT 1",
                    )
                    .bind(&row.period)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if any.is_some() {
                        return Err(StoreError::Conflict("exists"));
                    }
                }
                let draft: Option<(uuid::Uuid,)> = sqlx::query_as(
                    "SELECT id FROM stats_releases WHERE period = $1 AND state = 'draft'",
                )
                .bind(&row.period)
                .fetch_optional(&mut *tx)
                .await?;
                if draft.is_some() {
                    return Err(StoreError::Conflict("draft"));
                }
                let (last,): (Option<i32>,) = sqlx::query_as(
                    "SELECT MAX(version) FROM stats_releases WHERE period = $1 AND state = 'published'",
                )
                .bind(&row.period)
                .fetch_one(&mut *tx)
                .await?;
                let mut row = row.clone();
                row.version = last.unwrap_or(0) + 1;
                if let Some(s) = spend {
                    let rows: Vec<(String, i32)> = sqlx::query_as(
                        "SELECT period, epsilon_milli FROM stats_epsilon WHERE year = $1 ORDER BY recorded_at, id",
                    )
                    .bind(i32::from(s.year))
                    .fetch_all(&mut *tx)
                    .await?;
                    let mut ledger = puente_common::stats::EpsilonLedger::new(s.yearly_cap_milli);
                    for (p, e) in rows {
                        let period = p
                            .parse()
                            .map_err(|_| StoreError::Corrupt("stats_epsilon.period".into()))?;
                        ledger.entries.push(puente_common::stats::LedgerEntry {
                            period,
                            epsilon_milli: u32::try_from(e).unwrap_or(u32::MAX),
                        });
                    }
                    if ledger.check(s.year, s.epsilon_milli).is_err() {
                        return Err(StoreError::Conflict("epsilon_budget"));
                    }
                }
                sqlx::query(
                    "INSERT INTO stats_releases (id, period, version, state, body, hash, prev, chain_seq, \
                     prepared_at, prepared_by, published_at, published_by, review, discarded_at, discarded_by, \
                     epsilon_milli, outbox_ids) \
                     VALUES ($1, $2, $3, 'draft', $4, NULL, NULL, NULL, $5, $6, NULL, NULL, NULL, NULL, NULL, $7, NULL)",
                )
                .bind(row.id)
                .bind(&row.period)
                .bind(row.version)
                .bind(&row.body)
                .bind(row.prepared_at)
                .bind(row.prepared_by)
                .bind(row.epsilon_milli)
                .execute(&mut *tx)
                .await
                .on_unique("release")?;
                if let Some(s) = spend {
                    sqlx::query(
                        "INSERT INTO stats_epsilon (id, period, release_id, year, epsilon_milli, recorded_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(uuid::Uuid::now_v7())
                    .bind(&row.period)
                    .bind(row.id)
                    .bind(i32::from(s.year))
                    .bind(i32::try_from(s.epsilon_milli).unwrap_or(i32::MAX))
                    .bind(row.prepared_at)
                    .execute(&mut *tx)
                    .await?;
                }
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                row.state = "draft".into();
                Ok(row)
            }

            async fn release_publish(
                &self,
                p: $crate::store::release_sql::ReleasePublish<'_>,
            ) -> $crate::store::StoreResult<$crate::store::release_sql::ReleaseRow> {
                use $crate::store::StoreError;
                let mut tx = self.begin_write().await?;
                Self::lock_audit_chain(&mut tx).await?;
                let state: Option<(String,)> =
                    sqlx::query_as("SELECT state FROM stats_releases WHERE id = $1")
                        .bind(p.id)
                        .fetch_optional(&mut *tx)
                        .await?;
                match state {
                    None => return Err(StoreError::NotFound),
                    Some((s,)) if s != "draft" => return Err(StoreError::Conflict("state")),
                    Some(_) => {}
                }
                let head: Option<(i64, Option<String>)> = sqlx::query_as(
                    "SELECT chain_seq, hash FROM stats_releases WHERE state = 'published' \
                     ORDER BY chain_seq DESC LIMIT 1",
                )
                .fetch_optional(&mut *tx)
                .await?;
                let (seq, head_hash) = match head {
                    Some((s, h)) => (s, h.unwrap_or_default()),
                    None => (0, puente_federation::ZERO_HASH.to_owned()),
                };
                if head_hash != p.prev {
                    return Err(StoreError::Conflict("chain"));
                }
                let mut ids = Vec::new();
                for out in &p.outgoing {
                    ids.push(Self::fed_enqueue_in(&mut tx, out).await?.id);
                }
                let ids_json = serde_json::to_string(&ids)
                    .map_err(|e| StoreError::Corrupt(format!("outbox ids: {e}")))?;
                let done = sqlx::query(
                    "UPDATE stats_releases SET state = 'published', body = $2, hash = $3, prev = $4, \
                     chain_seq = $5, published_at = $6, published_by = $7, review = $8, outbox_ids = $9 \
                     WHERE id = $1 AND state = 'draft'",
                )
                .bind(p.id)
                .bind(&p.body)
                .bind(&p.hash)
                .bind(&p.prev)
                .bind(seq + 1)
                .bind(p.published_at)
                .bind(p.published_by)
                .bind(p.review)
                .bind(&ids_json)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Conflict("state"));
                }
                Self::append_in(&mut tx, &p.audit).await?;
                let row: $crate::store::release_sql::ReleaseRow = sqlx::query_as(&format!(
                    "SELECT {} FROM stats_releases r WHERE r.id = $1",
                    $crate::store::release_sql::RELEASE_COLS
                ))
                .bind(p.id)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(row)
            }

            async fn release_discard(
                &self,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
                by: Option<uuid::Uuid>,
                audit: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<()> {
                use $crate::store::StoreError;
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE stats_releases SET state = 'discarded', discarded_at = $2, discarded_by = $3 \
                     WHERE id = $1 AND state = 'draft'",
                )
                .bind(id)
                .bind(at)
                .bind(by)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    let exists: Option<(String,)> =
                        sqlx::query_as("SELECT state FROM stats_releases WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await?;
                    return Err(match exists {
                        Some(_) => StoreError::Conflict("state"),
                        None => StoreError::NotFound,
                    });
                }
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn release(
                &self,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<$crate::store::release_sql::ReleaseListed> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {}, pu.username AS prepared_by_name, bu.username AS published_by_name \
                     FROM stats_releases r LEFT JOIN users pu ON pu.id = r.prepared_by \
                     LEFT JOIN users bu ON bu.id = r.published_by WHERE r.id = $1",
                    $crate::store::release_sql::RELEASE_COLS
                ))
                .bind(id)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn releases(
                &self,
                period: Option<&str>,
            ) -> $crate::store::StoreResult<Vec<$crate::store::release_sql::ReleaseListed>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(format!(
                    "SELECT {}, pu.username AS prepared_by_name, bu.username AS published_by_name \
                     FROM stats_releases r LEFT JOIN users pu ON pu.id = r.prepared_by \
                     LEFT JOIN users bu ON bu.id = r.published_by",
                    $crate::store::release_sql::RELEASE_COLS
                ));
                if let Some(p) = period {
                    q.push(" WHERE r.period = ").push_bind(p.to_owned());
                }
                q.push(" ORDER BY r.period DESC, r.version DESC, r.prepared_at DESC");
                Ok(q.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn release_chain_head(&self) -> $crate::store::StoreResult<Option<String>> {
                let head: Option<(Option<String>,)> = sqlx::query_as(
                    "SELECT hash FROM stats_releases WHERE state = 'published' ORDER BY chain_seq DESC LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await?;
                Ok(head.and_then(|h| h.0))
            }

            async fn epsilon_entries(
                &self,
                year: u16,
            ) -> $crate::store::StoreResult<Vec<(String, i32)>> {
                Ok(sqlx::query_as(
                    "SELECT period, epsilon_milli FROM stats_epsilon WHERE year = $1 ORDER BY recorded_at, id",
                )
                .bind(i32::from(year))
                .fetch_all(&self.pool)
                .await?)
            }

            async fn release_outbox_status(
                &self,
                ids: &[uuid::Uuid],
            ) -> $crate::store::StoreResult<Vec<(uuid::Uuid, String)>> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT id, status FROM fed_outbox WHERE id IN (");
                let mut sep = q.separated(", ");
                for id in ids {
                    sep.push_bind(*id);
                }
                q.push(")");
                Ok(q.build_query_as().fetch_all(&self.pool).await?)
            }
        }
    };
}
pub(super) use impl_release_store;
