//! The regional hub's store (`hub_releases`, migrations/hub/*/0100_hub_releases.sql), shared
//! by both backends. A release is stored, its inbox message marked processed and the audit
//! entry written in one transaction, after the history checks (version order, chain) made
//! inside that same transaction; a refused release marks its message failed with the code and
//! audits the refusal, also in one transaction. Nothing here holds a person's data.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{Schema, StoreResult};
use crate::audit::AuditEvent;

/// One stored release (one version of one period of one country).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct HubReleaseRow {
    pub id: Uuid,
    pub country: String,
    pub period: String,
    /// `month`, `quarter` or `year`.
    pub period_kind: String,
    pub version: i32,
    /// The country's releases in publication order, from 1 (set by the store).
    pub seq: i64,
    /// The `ReleaseBody` JSON as received.
    pub body: String,
    pub hash: String,
    pub prev: String,
    pub envelope_hash: String,
    pub message_id: Uuid,
    pub received_at: DateTime<Utc>,
    pub published_at: DateTime<Utc>,
    /// `reviewed` or `auto`.
    pub review: String,
    pub k: i32,
    pub rounding_base: Option<i32>,
    pub epsilon_milli: Option<i64>,
}

/// What the history checks decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubVerdict {
    /// Stored, message processed, audited.
    Stored,
    /// The version is not above the highest stored one of (country, period): nothing written.
    OldVersion,
    /// `prev` is not the hash of the country's latest stored release: nothing written.
    ChainBroken,
    /// The history check failed but an earlier envelope of the same stream is still waiting
    /// in the inbox (another replica is applying it): nothing written, try again later.
    NotYet,
}

impl HubVerdict {
    /// The refusal code, `None` for [`HubVerdict::Stored`].
    pub fn code(self) -> Option<&'static str> {
        match self {
            HubVerdict::Stored | HubVerdict::NotYet => None,
            HubVerdict::OldVersion => Some("release_old_version"),
            HubVerdict::ChainBroken => Some("release_chain_broken"),
        }
    }
}

pub(crate) const HUB_COLS: &str = "id, country, period, period_kind, version, seq, body, hash, \
    prev, envelope_hash, message_id, received_at, published_at, review, k, rounding_base, \
    epsilon_milli";

#[async_trait]
pub trait HubStore: Send + Sync {
    /// The schema this store was opened with.
    fn schema(&self) -> Schema;
    /// Checks `row` against the country's stored history and, if it passes, stores it (its
    /// `seq` is assigned here), marks inbox message `row.message_id` processed and appends
    /// `audit`, in one transaction. On a refusal nothing is written.
    async fn hub_store_release(
        &self,
        row: &HubReleaseRow,
        audit: &AuditEvent,
    ) -> StoreResult<HubVerdict>;
    /// Marks inbox message `message_id` failed with `code` and appends `audit`, in one
    /// transaction.
    async fn hub_refuse(
        &self,
        message_id: Uuid,
        code: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// Every stored version (of `country`, if given), by country, period and version.
    async fn hub_releases(&self, country: Option<&str>) -> StoreResult<Vec<HubReleaseRow>>;
    /// Every stored version of one (country, period), by version.
    async fn hub_release_versions(
        &self,
        country: &str,
        period: &str,
    ) -> StoreResult<Vec<HubReleaseRow>>;
}

macro_rules! impl_hub_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::hub_sql::HubStore for $store {
            fn schema(&self) -> $crate::store::Schema {
                self.schema
            }

            async fn hub_store_release(
                &self,
                row: &$crate::store::hub_sql::HubReleaseRow,
                audit: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<$crate::store::hub_sql::HubVerdict> {
                use $crate::store::hub_sql::HubVerdict;
                let mut tx = self.begin_write().await?;
                // One release store at a time (PostgreSQL replicas: the audit chain's
                // advisory lock, taken again when the entry is appended; SQLite: the write
                // lock already held).
                Self::lock_audit_chain(&mut tx).await?;
                // Whether an earlier envelope of this message's stream is still unapplied:
                // then a failed history check is only "not yet".
                let earlier: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM fed_inbox o JOIN fed_inbox m ON m.id = $1 \
                     WHERE o.origin = m.origin AND o.channel = m.channel \
                     AND o.status = 'stored' \
                     AND (o.epoch < m.epoch OR (o.epoch = m.epoch AND o.seq < m.seq))",
                )
                .bind(row.message_id)
                .fetch_one(&mut *tx)
                .await?;
                let refuse = |v: HubVerdict| {
                    if earlier > 0 {
                        HubVerdict::NotYet
                    } else {
                        v
                    }
                };
                let highest: Option<(i32,)> = sqlx::query_as(
                    "SELECT version FROM hub_releases WHERE country = $1 AND period = $2 \
                     ORDER BY version DESC LIMIT 1",
                )
                .bind(&row.country)
                .bind(&row.period)
                .fetch_optional(&mut *tx)
                .await?;
                if highest.is_some_and(|(v,)| v >= row.version) {
                    return Ok(refuse(HubVerdict::OldVersion));
                }
                let latest: Option<(i64, String)> = sqlx::query_as(
                    "SELECT seq, hash FROM hub_releases WHERE country = $1 \
                     ORDER BY seq DESC LIMIT 1",
                )
                .bind(&row.country)
                .fetch_optional(&mut *tx)
                .await?;
                let (seq, expected) =
                    latest.unwrap_or((0, puente_federation::ZERO_HASH.to_owned()));
                if row.prev != expected {
                    return Ok(refuse(HubVerdict::ChainBroken));
                }
                sqlx::query(&format!(
                    "INSERT INTO hub_releases ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                     $10, $11, $12, $13, $14, $15, $16, $17)",
                    $crate::store::hub_sql::HUB_COLS
                ))
                .bind(row.id)
                .bind(&row.country)
                .bind(&row.period)
                .bind(&row.period_kind)
                .bind(row.version)
                .bind(seq + 1)
                .bind(&row.body)
                .bind(&row.hash)
                .bind(&row.prev)
                .bind(&row.envelope_hash)
                .bind(row.message_id)
                .bind(row.received_at)
                .bind(row.published_at)
                .bind(&row.review)
                .bind(row.k)
                .bind(row.rounding_base)
                .bind(row.epsilon_milli)
                .execute(&mut *tx)
                .await
                .map_err(|e| match &e {
                    sqlx::Error::Database(db) if db.is_unique_violation() => {
                        $crate::store::StoreError::Conflict("release")
                    }
                    _ => $crate::store::StoreError::from(e),
                })?;
                sqlx::query(
                    "UPDATE fed_inbox SET status = 'processed', reason = NULL, processed_at = $1 \
                     WHERE id = $2",
                )
                .bind(audit.at)
                .bind(row.message_id)
                .execute(&mut *tx)
                .await?;
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(HubVerdict::Stored)
            }

            async fn hub_refuse(
                &self,
                message_id: uuid::Uuid,
                code: &str,
                now: chrono::DateTime<chrono::Utc>,
                audit: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "UPDATE fed_inbox SET status = 'failed', reason = $2, processed_at = $3 \
                     WHERE id = $1 AND status IN ('stored', 'failed')",
                )
                .bind(message_id)
                .bind(code)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn hub_releases(
                &self,
                country: Option<&str>,
            ) -> $crate::store::StoreResult<Vec<$crate::store::hub_sql::HubReleaseRow>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(format!(
                    "SELECT {} FROM hub_releases",
                    $crate::store::hub_sql::HUB_COLS
                ));
                if let Some(c) = country {
                    q.push(" WHERE country = ").push_bind(c.to_owned());
                }
                q.push(" ORDER BY country, period, version");
                Ok(q.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn hub_release_versions(
                &self,
                country: &str,
                period: &str,
            ) -> $crate::store::StoreResult<Vec<$crate::store::hub_sql::HubReleaseRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {} FROM hub_releases WHERE country = $1 AND period = $2 \
                     ORDER BY version",
                    $crate::store::hub_sql::HUB_COLS
                ))
                .bind(country)
                .bind(period)
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}
pub(super) use impl_hub_store;
