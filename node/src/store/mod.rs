//! Storage: the [`Store`] trait and its two implementations, SQLite (the embedded default) and
//! PostgreSQL, picked at run time from the database URL ([`connect`]).
//!
//! Both implementations run the same SQL (written once, in `sql.rs`, in the dialect both
//! accept) and differ only in how a write transaction starts and how the audit chain is
//! serialised between writers. Every change that must be audited takes its [`AuditEvent`] and
//! writes it in the same transaction, so a change and its audit entry exist together or not at
//! all. The conformance suite (`tests/it/store.rs`) runs every function against both backends.

pub mod cases;
mod cases_sql;
pub mod dir_sql;
pub mod fed_sql;
pub mod hub_sql;
pub mod keys_sql;
mod postgres;
pub mod ref_sql;
pub mod release_sql;
pub mod retention_sql;
mod sql;
mod sqlite;
pub mod stats_sql;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::audit::{AuditEntry, AuditEvent, AuditFilter, Checkpoint};
use crate::authz::Role;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Store failures. None carries a field's value.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("database unreachable or failing: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migrations failed: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("stored value is corrupt: {0}")]
    Corrupt(String),
    #[error("unsupported database URL (use sqlite:// or postgres://)")]
    UnsupportedUrl,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::ColumnDecode { index, source } => {
                StoreError::Corrupt(format!("column {index}: {source}"))
            }
            other => StoreError::Database(other),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Org {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub org_type: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An organisation with the number of its users, for listings.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OrgSummary {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub org: Org,
    pub user_count: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub org_id: Option<Uuid>,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub password_hash: String,
    pub must_change_password: bool,
    /// Sealed with the data key (`users`, id, `totp_secret`).
    pub totp_secret: Option<String>,
    pub disabled: bool,
    pub failed_logins: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub language: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// The time step (unix time / 30) of the last accepted TOTP code: a code is accepted
    /// once only.
    pub totp_last_step: Option<i64>,
}

impl User {
    pub fn is_locked(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }
}

/// A user with their organisation's name, for listings. No secrets.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserSummary {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub org_id: Option<Uuid>,
    pub org_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub disabled: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub totp_enabled: bool,
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// Where a session is in the log-in sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStage {
    /// Password accepted; the second factor is still due.
    TotpPending,
    /// Password accepted; the role needs a second factor that is not enrolled yet.
    TotpEnrolRequired,
    /// Signed in, but the password must be changed first.
    PasswordChangeRequired,
    /// Fully signed in.
    Full,
}

impl SessionStage {
    pub fn code(self) -> &'static str {
        match self {
            SessionStage::TotpPending => "totp_pending",
            SessionStage::TotpEnrolRequired => "totp_enrol_required",
            SessionStage::PasswordChangeRequired => "password_change_required",
            SessionStage::Full => "full",
        }
    }
}

impl TryFrom<String> for SessionStage {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        [
            SessionStage::TotpPending,
            SessionStage::TotpEnrolRequired,
            SessionStage::PasswordChangeRequired,
            SessionStage::Full,
        ]
        .into_iter()
        .find(|st| st.code() == s)
        .ok_or(s)
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    /// SHA-256 of the cookie value; the value itself is never stored.
    pub id_hash: String,
    pub user_id: Uuid,
    #[sqlx(try_from = "String")]
    pub stage: SessionStage,
    pub csrf_token: String,
    pub pending_totp: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// The first characters of the token, to recognise it in lists.
    pub prefix: String,
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A token with its owner, for listings.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenSummary {
    #[sqlx(flatten)]
    pub token: ApiToken,
    pub username: String,
    pub org_id: Option<Uuid>,
}

/// Which tokens a listing shows.
#[derive(Debug, Clone, Copy)]
pub enum TokenScope {
    User(Uuid),
    Org(Uuid),
    All,
}

#[async_trait]
pub trait Store:
    cases::CaseStore
    + keys_sql::KeyStore
    + dir_sql::DirectoryStore
    + fed_sql::FedStore
    + ref_sql::ReferralStore
    + stats_sql::StatsStore
    + hub_sql::HubStore
    + release_sql::ReleaseStore
    + retention_sql::RetentionStore
    + Send
    + Sync
    + std::fmt::Debug
{
    // --- operations
    /// Applies the embedded migrations.
    async fn migrate(&self) -> StoreResult<()>;
    /// The database answers and every embedded migration is applied.
    async fn ready(&self) -> StoreResult<bool>;
    /// Closes the pool.
    async fn close(&self);
    /// The connection pool's size and idle connections now (for the metrics).
    fn pool_stats(&self) -> PoolStats;

    // --- organisations
    async fn create_org(&self, org: &Org, audit: &AuditEvent) -> StoreResult<()>;
    async fn update_org(&self, org: &Org, audit: &AuditEvent) -> StoreResult<()>;
    async fn org(&self, id: Uuid) -> StoreResult<Org>;
    async fn org_by_code(&self, code: &str) -> StoreResult<Org>;
    async fn orgs(&self) -> StoreResult<Vec<OrgSummary>>;

    // --- users
    async fn create_user(&self, user: &User, audit: &AuditEvent) -> StoreResult<()>;
    /// Writes every mutable field of `user`.
    async fn update_user(&self, user: &User, audit: &AuditEvent) -> StoreResult<()>;
    async fn user(&self, id: Uuid) -> StoreResult<User>;
    async fn user_by_username(&self, username: &str) -> StoreResult<User>;
    /// Users of `org`, or all users when `None`.
    async fn users(&self, org: Option<Uuid>) -> StoreResult<Vec<UserSummary>>;
    /// Replaces the user's second factor and recovery codes (hashes) in one step.
    async fn set_totp(
        &self,
        user_id: Uuid,
        sealed_secret: Option<&str>,
        recovery_code_hashes: &[String],
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// Marks an unused recovery code used; false when there is no such unused code.
    async fn use_recovery_code(
        &self,
        user_id: Uuid,
        code_hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    async fn recovery_codes_left(&self, user_id: Uuid) -> StoreResult<i64>;

    // --- sessions
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    async fn session(&self, id_hash: &str) -> StoreResult<Session>;
    /// Writes stage, csrf, pending secret and times.
    async fn update_session(&self, session: &Session) -> StoreResult<()>;
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()>;
    async fn delete_user_sessions(&self, user_id: Uuid) -> StoreResult<u64>;
    /// Removes sessions past their absolute expiry or idle since before `idle_cutoff`.
    async fn purge_sessions(
        &self,
        now: DateTime<Utc>,
        idle_cutoff: DateTime<Utc>,
    ) -> StoreResult<u64>;

    // --- API tokens
    async fn create_token(&self, token: &ApiToken, audit: &AuditEvent) -> StoreResult<()>;
    async fn token_by_hash(&self, token_hash: &str) -> StoreResult<ApiToken>;
    async fn token(&self, id: Uuid) -> StoreResult<TokenSummary>;
    async fn tokens(&self, scope: TokenScope) -> StoreResult<Vec<TokenSummary>>;
    async fn touch_token(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()>;
    async fn revoke_token(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()>;

    // --- audit trail
    /// Appends one entry, chained to the current head.
    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<AuditEntry>;
    /// Entries matching `filter`, newest first.
    async fn audit_entries(
        &self,
        filter: &AuditFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<AuditEntry>>;
    /// Entries with `seq > after`, oldest first, at most `limit` (for verification).
    async fn audit_chunk(&self, after: i64, limit: i64) -> StoreResult<Vec<AuditEntry>>;
    async fn audit_head(&self) -> StoreResult<Option<(i64, String)>>;
    /// Stores a checkpoint; a second one for the same entry is ignored.
    async fn insert_checkpoint(&self, cp: &Checkpoint) -> StoreResult<()>;
    async fn checkpoints(&self) -> StoreResult<Vec<Checkpoint>>;
}

pub type SharedStore = Arc<dyn Store>;

/// A snapshot of the connection pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections, idle or in use.
    pub size: u32,
    pub idle: usize,
}

/// Opens the database named by `url`: `sqlite://PATH` (created if missing) or
/// `postgres://…`. Does not migrate.
pub async fn connect(url: &str) -> StoreResult<SharedStore> {
    connect_schema(url, Schema::Node).await
}

/// Which schema a database holds: a country node's, or the regional hub's (accounts, audit,
/// federation and the received statistics releases only: no table that could hold a case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    Node,
    Hub,
}

impl Schema {
    /// The schema of a configuration: `[federation] role = "hub"` is a hub.
    pub fn of(config: &crate::config::Config) -> Schema {
        if config.federation.as_ref().is_some_and(|f| f.role == "hub") {
            Schema::Hub
        } else {
            Schema::Node
        }
    }
}

/// Opens the database named by `url` with the migrations of `schema`. Does not migrate.
pub async fn connect_schema(url: &str, schema: Schema) -> StoreResult<SharedStore> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect_schema(url, schema).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(PgStore::connect_schema(url, schema).await?))
    } else {
        Err(StoreError::UnsupportedUrl)
    }
}

/// Opens the database of `config` with the schema its federation role asks for.
pub async fn connect_config(config: &crate::config::Config) -> StoreResult<SharedStore> {
    connect_schema(config.database_url.expose(), Schema::of(config)).await
}

/// Maps a unique-constraint violation to a [`StoreError::Conflict`] on `field`.
pub(crate) trait OnConflict<T> {
    fn on_unique(self, field: &'static str) -> StoreResult<T>;
}

impl<T> OnConflict<T> for Result<T, sqlx::Error> {
    fn on_unique(self, field: &'static str) -> StoreResult<T> {
        self.map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(field),
            _ => StoreError::from(e),
        })
    }
}
