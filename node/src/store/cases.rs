//! Storage of the case registry: persons (with their blind index), cases (with per-organisation
//! readable numbers and optimistic versions), consents (history: withdrawal is recorded, nothing
//! is edited), services, proceedings, the append-only timeline, and form drafts.
//!
//! Rows hold what the database holds: sealed fields as sealed text, coded facts as JSON. The
//! `cases` module seals, opens, checks and authorises; this module only stores, and writes each
//! change together with its audit entry.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::StoreResult;
use crate::audit::AuditEvent;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub identity: String,
    pub profile: String,
    pub key_id: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When and why (`retention`, `erasure`) the person was anonymised.
    pub anonymised_at: Option<DateTime<Utc>>,
    pub anonymised_why: Option<String>,
}

/// A blind-index entry: `kind` is `name` or `document`, `token` a keyed HMAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexToken {
    pub kind: &'static str,
    pub token: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseRow {
    pub id: Uuid,
    pub person_id: Uuid,
    pub org_id: Uuid,
    pub number: String,
    pub year: i32,
    pub seq: i32,
    pub caseworker_id: Option<Uuid>,
    pub status: String,
    pub intake_channel: String,
    pub registration_date: NaiveDate,
    pub trafficking_status: Option<String>,
    pub exploitation: String,
    pub record: String,
    pub narrative: Option<String>,
    pub key_id: String,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Set when the case's person was anonymised (retention or erasure): the case is then
    /// read-only.
    pub anonymised_at: Option<DateTime<Utc>>,
}

/// Filters of a case listing. `None` means any.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub org_id: Option<Uuid>,
    pub status: Option<String>,
    pub trafficking_status: Option<String>,
    /// One exploitation type code.
    pub exploitation: Option<String>,
    pub caseworker_id: Option<Uuid>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Only cases of these persons (from a name or document search).
    pub person_ids: Option<Vec<Uuid>>,
}

/// Everything one registration writes, in one transaction with its siblings: a new person
/// (or none, for an existing one), the case, its consents and first timeline entries, and the
/// audit entry (its detail gets the case number).
#[derive(Debug, Clone)]
pub struct Registration {
    pub person: Option<(PersonRow, Vec<IndexToken>)>,
    pub case: CaseRow,
    /// The case number's prefix, e.g. `GTM-ASOC1`.
    pub prefix: String,
    pub consents: Vec<ConsentRow>,
    pub timeline: Vec<TimelineRow>,
    pub audit: AuditEvent,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConsentRow {
    pub id: Uuid,
    pub person_id: Uuid,
    pub case_id: Option<Uuid>,
    pub scope: String,
    pub destination_country: Option<String>,
    pub given_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub record: String,
    pub guardian_name: Option<String>,
    pub key_id: String,
    pub recorded_by: Option<Uuid>,
    pub recorded_at: DateTime<Utc>,
    pub withdrawn_on: Option<NaiveDate>,
    pub withdrawn_by: Option<Uuid>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

/// A service or a proceeding: coded record as JSON plus sealed notes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntryRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub record: String,
    pub notes: Option<String>,
    pub key_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which kind of [`EntryRow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Service,
    Proceeding,
}

impl EntryKind {
    pub fn table(self) -> &'static str {
        match self {
            EntryKind::Service => "services",
            EntryKind::Proceeding => "proceedings",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TimelineRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub at: DateTime<Utc>,
    pub author_id: Option<Uuid>,
    pub kind: String,
    pub body: Option<String>,
    pub key_id: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DraftRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub form: String,
    pub key_id: String,
    pub updated_at: DateTime<Utc>,
}

#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Replaces a person's identity, profile and index tokens.
    async fn update_person(
        &self,
        p: &PersonRow,
        index: &[IndexToken],
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    async fn person(&self, id: Uuid) -> StoreResult<PersonRow>;
    /// Persons of `org_id` that have every token in `tokens` (AND).
    async fn persons_with_tokens(
        &self,
        org_id: Uuid,
        tokens: &[IndexToken],
    ) -> StoreResult<Vec<Uuid>>;

    /// Registers cases all-or-nothing: if any fails, none is stored.
    async fn register_cases(&self, regs: &[Registration]) -> StoreResult<Vec<CaseRow>>;
    /// Writes every mutable field if the stored version is `c.version - 1`; otherwise
    /// `Conflict("version")` (someone else changed it meanwhile).
    async fn update_case(&self, c: &CaseRow, audit: &AuditEvent) -> StoreResult<()>;
    async fn case(&self, id: Uuid) -> StoreResult<CaseRow>;
    /// Cases matching `filter`, newest registration first.
    async fn cases(
        &self,
        filter: &CaseFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<CaseRow>>;
    async fn count_cases(&self, filter: &CaseFilter) -> StoreResult<i64>;
    async fn cases_of_person(&self, person_id: Uuid) -> StoreResult<Vec<CaseRow>>;

    async fn add_consent(&self, c: &ConsentRow, audit: &AuditEvent) -> StoreResult<()>;
    /// Records a withdrawal; `NotFound` if the consent is unknown or already withdrawn.
    async fn withdraw_consent(
        &self,
        id: Uuid,
        on: NaiveDate,
        by: Uuid,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    async fn consent(&self, id: Uuid) -> StoreResult<ConsentRow>;
    async fn consents(&self, person_id: Uuid) -> StoreResult<Vec<ConsentRow>>;

    async fn add_entry(&self, kind: EntryKind, e: &EntryRow, audit: &AuditEvent)
        -> StoreResult<()>;
    async fn update_entry(
        &self,
        kind: EntryKind,
        e: &EntryRow,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    async fn entry(&self, kind: EntryKind, id: Uuid) -> StoreResult<EntryRow>;
    async fn entries(&self, kind: EntryKind, case_id: Uuid) -> StoreResult<Vec<EntryRow>>;

    async fn add_timeline(&self, t: &TimelineRow, audit: &AuditEvent) -> StoreResult<()>;
    async fn timeline(&self, case_id: Uuid) -> StoreResult<Vec<TimelineRow>>;

    /// Keeps one draft per user and kind (the newest replaces the older).
    async fn save_draft(&self, d: &DraftRow) -> StoreResult<()>;
    async fn draft(&self, user_id: Uuid, kind: &str) -> StoreResult<DraftRow>;
    async fn delete_draft(&self, user_id: Uuid, kind: &str) -> StoreResult<()>;
}
