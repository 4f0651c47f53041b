//! PostgreSQL: for large nodes and several replicas behind a load balancer. Appends to the
//! audit chain take a transaction-scoped advisory lock, so replicas never fork the chain.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};

use super::cases_sql::impl_case_store;
use super::sql::impl_store;
use super::StoreResult;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");
/// The regional hub's schema: accounts, audit, federation and `hub_releases` only.
static HUB_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/hub/postgres");

/// Advisory lock key of the audit chain ("PUENTE" in ASCII, trimmed to fit an i64).
const AUDIT_CHAIN_LOCK: i64 = 0x5055_454E_5445;

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    schema: super::Schema,
}

impl PgStore {
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_schema(url, super::Schema::Node).await
    }

    /// Opens the database with the migrations of `schema`.
    pub async fn connect_schema(url: &str, schema: super::Schema) -> StoreResult<Self> {
        let opts: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(PgStore { pool, schema })
    }

    /// Nothing to do at once: PostgreSQL's dead row versions are not readable through SQL and
    /// are reclaimed by autovacuum (docs/operations.md, "Retention").
    async fn purge_freed_space(&self) -> StoreResult<()> {
        Ok(())
    }

    async fn begin_write(&self) -> StoreResult<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.schema {
            super::Schema::Node => &MIGRATOR,
            super::Schema::Hub => &HUB_MIGRATOR,
        }
    }

    async fn lock_audit_chain(tx: &mut Transaction<'_, Postgres>) -> StoreResult<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(AUDIT_CHAIN_LOCK)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// The pool, for tests that must reach under the store (tamper tests).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl_store!(PgStore, Postgres);
impl_case_store!(PgStore, Postgres);
super::keys_sql::impl_key_store!(PgStore, Postgres, postgres);
super::dir_sql::impl_directory_store!(PgStore, Postgres);
super::fed_sql::impl_fed_store!(PgStore, Postgres);
super::ref_sql::impl_referral_store!(PgStore, Postgres);
super::stats_sql::impl_stats_store!(PgStore, Postgres);
super::hub_sql::impl_hub_store!(PgStore, Postgres);
super::release_sql::impl_release_store!(PgStore, Postgres);
super::retention_sql::impl_retention_store!(PgStore, Postgres);
