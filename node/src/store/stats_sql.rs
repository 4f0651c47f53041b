//! The rows the national statistics read (`crate::stats`), shared by both backends: plain
//! SELECTs of coded JSON and dates, never a sealed column. Counting happens in Rust.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::StoreResult;

/// A `STATISTICAL_USE` consent, as far as the statistics need it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatsConsentRow {
    pub person_id: Uuid,
    pub given_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub withdrawn_on: Option<NaiveDate>,
}

/// A referral, as far as the statistics need it (no sealed column).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatsReferralRow {
    pub direction: String,
    pub peer: String,
    pub state: String,
    pub created_at: DateTime<Utc>,
}

#[async_trait]
pub trait StatsStore: Send + Sync {
    /// `(id, person_id, cases.record)` of the cases (of `org`, if given) whose id is after
    /// `after`, by id, at most `limit` (read page by page: memory stays bounded).
    async fn stats_cases(
        &self,
        org: Option<Uuid>,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<(Uuid, Uuid, String)>>;
    /// `STATISTICAL_USE` consents of the persons (of `org`, if given).
    async fn stats_consents(&self, org: Option<Uuid>) -> StoreResult<Vec<StatsConsentRow>>;
    /// `(id, persons.profile)` of the persons (of `org`, if given) whose id is after `after`,
    /// by id, at most `limit`: coded facts only.
    async fn stats_profiles(
        &self,
        org: Option<Uuid>,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<(Uuid, String)>>;
    /// Referrals (sent by, or routed to, `org` if given).
    async fn stats_referrals(&self, org: Option<Uuid>) -> StoreResult<Vec<StatsReferralRow>>;
}

macro_rules! impl_stats_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::stats_sql::StatsStore for $store {
            async fn stats_cases(
                &self,
                org: Option<uuid::Uuid>,
                after: Option<uuid::Uuid>,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<(uuid::Uuid, uuid::Uuid, String)>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT id, person_id, record FROM cases WHERE 1 = 1",
                );
                if let Some(o) = org {
                    q.push(" AND org_id = ").push_bind(o);
                }
                if let Some(a) = after {
                    q.push(" AND id > ").push_bind(a);
                }
                q.push(" ORDER BY id LIMIT ").push_bind(limit);
                Ok(q.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn stats_consents(
                &self,
                org: Option<uuid::Uuid>,
            ) -> $crate::store::StoreResult<Vec<$crate::store::stats_sql::StatsConsentRow>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT c.person_id, c.given_on, c.expires_on, c.withdrawn_on FROM consents c \
                     JOIN persons p ON p.id = c.person_id WHERE c.scope = ",
                );
                q.push_bind("STATISTICAL_USE");
                if let Some(o) = org {
                    q.push(" AND p.org_id = ").push_bind(o);
                }
                Ok(q.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn stats_profiles(
                &self,
                org: Option<uuid::Uuid>,
                after: Option<uuid::Uuid>,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<(uuid::Uuid, String)>> {
                let mut q =
                    sqlx::QueryBuilder::<$db>::new("SELECT id, profile FROM persons WHERE 1 = 1");
                if let Some(o) = org {
                    q.push(" AND org_id = ").push_bind(o);
                }
                if let Some(a) = after {
                    q.push(" AND id > ").push_bind(a);
                }
                q.push(" ORDER BY id LIMIT ").push_bind(limit);
                Ok(q.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn stats_referrals(
                &self,
                org: Option<uuid::Uuid>,
            ) -> $crate::store::StoreResult<Vec<$crate::store::stats_sql::StatsReferralRow>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT direction, peer, state, created_at FROM referrals",
                );
                if let Some(o) = org {
                    q.push(" WHERE org_id = ").push_bind(o);
                }
                Ok(q.build_query_as().fetch_all(&self.pool).await?)
            }
        }
    };
}
pub(super) use impl_stats_store;
