//! SQLite: the embedded default. WAL, a busy timeout, foreign keys on; write transactions
//! start with `BEGIN IMMEDIATE` so that two writers queue instead of failing on upgrade.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use super::cases_sql::impl_case_store;
use super::sql::impl_store;
use super::StoreResult;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
/// The regional hub's schema: accounts, audit, federation and `hub_releases` only.
static HUB_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/hub/sqlite");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    schema: super::Schema,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_schema(url, super::Schema::Node).await
    }

    /// Opens the database with the migrations of `schema`.
    pub async fn connect_schema(url: &str, schema: super::Schema) -> StoreResult<Self> {
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Deleted and overwritten content is zeroed in the file, so that what
            // anonymisation or erasure clears does not linger in free space.
            .pragma("secure_delete", "ON")
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(SqliteStore { pool, schema })
    }

    async fn begin_write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.schema {
            super::Schema::Node => &MIGRATOR,
            super::Schema::Hub => &HUB_MIGRATOR,
        }
    }

    /// `BEGIN IMMEDIATE` already holds the database's single write lock.
    async fn lock_audit_chain(_tx: &mut Transaction<'_, Sqlite>) -> StoreResult<()> {
        Ok(())
    }

    /// Copies the write-ahead log into the database file and empties it: the log still holds
    /// the pages as they were before an anonymisation.
    async fn purge_freed_space(&self) -> StoreResult<()> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The pool, for tests that must reach under the store (tamper tests).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

impl_store!(SqliteStore, Sqlite);
impl_case_store!(SqliteStore, Sqlite);
super::keys_sql::impl_key_store!(SqliteStore, Sqlite, sqlite);
super::dir_sql::impl_directory_store!(SqliteStore, Sqlite);
super::fed_sql::impl_fed_store!(SqliteStore, Sqlite);
super::ref_sql::impl_referral_store!(SqliteStore, Sqlite);
super::stats_sql::impl_stats_store!(SqliteStore, Sqlite);
super::hub_sql::impl_hub_store!(SqliteStore, Sqlite);
super::release_sql::impl_release_store!(SqliteStore, Sqlite);
super::retention_sql::impl_retention_store!(SqliteStore, Sqlite);
