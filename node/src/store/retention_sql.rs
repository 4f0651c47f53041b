//! Retention's SQL, shared by both backends like `sql.rs`: which persons the node's rule makes
//! due for anonymisation, legal holds, and the anonymisation itself (written inside
//! `ref_apply`'s transaction, so that an erasure's consent withdrawals, recalls and
//! anonymisation are one change).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::cases::TimelineRow;
use super::StoreResult;
use crate::audit::AuditEvent;

/// Why a person was anonymised (`persons.anonymised_why`).
pub const WHY_RETENTION: &str = "retention";
pub const WHY_ERASURE: &str = "erasure";

/// Everything an anonymisation writes besides clearing columns: the values that must be
/// rebuilt in Rust (sealed values are bound to their row; coded JSON records lose their free
/// text).
#[derive(Debug, Clone)]
pub struct Anonymisation {
    pub person_id: Uuid,
    /// [`WHY_RETENTION`] or [`WHY_ERASURE`].
    pub why: &'static str,
    pub at: DateTime<Utc>,
    /// The retention rule's cut-off: the write checks, in its transaction, that every case of
    /// the person is still closed at or before it.
    pub closed_before: Option<DateTime<Utc>>,
    /// An empty identity, sealed for the person's row.
    pub identity: String,
    pub key_id: String,
    /// Proceedings' records without the authority's file number.
    pub proceedings: Vec<(Uuid, String)>,
    /// Consents' records without the reference to where the signed form is kept.
    pub consents: Vec<(Uuid, String)>,
}

/// A legal hold on a case; `reason` is sealed (cleared when the case is anonymised).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LegalHoldRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub reason: Option<String>,
    pub key_id: String,
    pub placed_by: Option<Uuid>,
    pub placed_at: DateTime<Utc>,
    pub released_by: Option<Uuid>,
    pub released_at: Option<DateTime<Utc>>,
}

/// A case under an active hold, for the national administrator's retention page (no names).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HeldCase {
    pub case_id: Uuid,
    pub number: String,
    pub org_id: Uuid,
    pub placed_at: DateTime<Utc>,
}

/// How many persons the rule touches now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionCounts {
    /// Due: every case closed long enough, none held, not anonymised yet.
    pub due: i64,
    /// Would be due but a case of theirs is under a legal hold.
    pub held: i64,
    pub anonymised_retention: i64,
    pub erased: i64,
}

#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Persons not anonymised yet, with at least one case, every case closed at or before
    /// `closed_before`, none under an active legal hold; by id, after `after`, at most `limit`.
    async fn retention_due(
        &self,
        closed_before: DateTime<Utc>,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<Uuid>>;
    /// The counts; `due` and `held` are 0 without a rule (`closed_before` `None`).
    async fn retention_counts(
        &self,
        closed_before: Option<DateTime<Utc>>,
    ) -> StoreResult<RetentionCounts>;
    /// The holds of a case, newest first.
    async fn legal_holds(&self, case_id: Uuid) -> StoreResult<Vec<LegalHoldRow>>;
    /// Whether a case of `person_id` is under an active hold.
    async fn person_held(&self, person_id: Uuid) -> StoreResult<bool>;
    /// Every case under an active hold, oldest hold first.
    async fn held_cases(&self) -> StoreResult<Vec<HeldCase>>;
    /// Places `hold` with its timeline entry and audit entry, in one transaction;
    /// `Conflict("legal_hold")` when the case already has an active one.
    async fn place_hold(
        &self,
        hold: &LegalHoldRow,
        timeline: &TimelineRow,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// Releases the active hold of `timeline.case_id`, with the timeline and audit entries, in
    /// one transaction; `NotFound` when there is none.
    async fn release_hold(
        &self,
        by: Uuid,
        timeline: &TimelineRow,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// After anonymisations: makes sure the database files no longer hold what was cleared
    /// (SQLite: checkpoint and empty the write-ahead log).
    async fn purge_freed(&self) -> StoreResult<()>;
}

/// The persons due: the SQL shared by the listing and the count (`$1` = closed before).
pub(crate) const DUE_WHERE: &str = "p.anonymised_at IS NULL \
     AND EXISTS (SELECT 1 FROM cases c WHERE c.person_id = p.id) \
     AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.person_id = p.id AND (c.closed_at IS NULL OR c.closed_at > $1))";
pub(crate) const HELD: &str =
    "EXISTS (SELECT 1 FROM cases c JOIN legal_holds h ON h.case_id = c.id \
     WHERE c.person_id = p.id AND h.released_at IS NULL)";

macro_rules! impl_retention_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Anonymises a person inside `tx`: identity emptied, blind index dropped, every
            /// free text of their cases cleared (narratives, notes, timeline bodies, hold
            /// reasons, referral payloads, notes and received bodies), coded facts kept.
            /// `NotFound`, writing nothing, when the person is already anonymised (for
            /// retention: at all; for erasure: erased), when a case of theirs is under a legal
            /// hold, or (with `closed_before`) when a case is open or closed after it. The
            /// retention job then skips them: a second run does nothing twice.
            pub(crate) async fn anonymise_in(
                tx: &mut sqlx::Transaction<'_, $db>,
                a: &$crate::store::retention_sql::Anonymisation,
            ) -> $crate::store::StoreResult<()> {
                let mut guard = if a.why == $crate::store::retention_sql::WHY_ERASURE {
                    "(anonymised_why IS NULL OR anonymised_why <> 'erasure')".to_owned()
                } else {
                    "anonymised_at IS NULL".to_owned()
                };
                guard += " AND NOT ";
                guard += &$crate::store::retention_sql::HELD.replace("p.id", "persons.id");
                if a.closed_before.is_some() {
                    guard += " AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.person_id = persons.id \
                               AND (c.closed_at IS NULL OR c.closed_at > $6))";
                }
                let sql = format!(
                    "UPDATE persons SET identity = $2, key_id = $3, anonymised_at = $4, anonymised_why = $5, updated_at = $4 \
                     WHERE id = $1 AND {guard}"
                );
                let mut q = sqlx::query(&sql)
                .bind(a.person_id)
                .bind(&a.identity)
                .bind(&a.key_id)
                .bind(a.at)
                .bind(a.why);
                if let Some(c) = a.closed_before {
                    q = q.bind(c);
                }
                let done = q.execute(&mut **tx).await?;
                if done.rows_affected() == 0 {
                    return Err($crate::store::StoreError::NotFound);
                }
                const OF_PERSON: &str = "SELECT id FROM cases WHERE person_id = $1";
                let statements = [
                    "DELETE FROM person_index WHERE person_id = $1".to_owned(),
                    format!("UPDATE services SET notes = NULL WHERE case_id IN ({OF_PERSON})"),
                    format!("UPDATE proceedings SET notes = NULL WHERE case_id IN ({OF_PERSON})"),
                    "UPDATE consents SET guardian_name = NULL WHERE person_id = $1".to_owned(),
                    format!("UPDATE timeline SET body = NULL WHERE body IS NOT NULL AND case_id IN ({OF_PERSON})"),
                    format!("UPDATE legal_holds SET reason = NULL WHERE case_id IN ({OF_PERSON})"),
                    format!(
                        "UPDATE fed_inbox SET body = NULL WHERE id IN (SELECT e.message_id FROM referral_events e \
                         JOIN referrals r ON r.id = e.referral_id WHERE r.case_id IN ({OF_PERSON}))"
                    ),
                    format!(
                        "UPDATE referral_events SET note = NULL WHERE referral_id IN \
                         (SELECT id FROM referrals WHERE case_id IN ({OF_PERSON}))"
                    ),
                    format!("UPDATE referrals SET payload = NULL, override_reason = NULL WHERE case_id IN ({OF_PERSON})"),
                ];
                for sql in &statements {
                    sqlx::query(sql).bind(a.person_id).execute(&mut **tx).await?;
                }
                sqlx::query(
                    "UPDATE cases SET narrative = NULL, anonymised_at = $2, updated_at = $2, version = version + 1 \
                     WHERE person_id = $1",
                )
                .bind(a.person_id)
                .bind(a.at)
                .execute(&mut **tx)
                .await?;
                for (id, record) in &a.proceedings {
                    sqlx::query("UPDATE proceedings SET record = $2 WHERE id = $1")
                        .bind(*id)
                        .bind(record)
                        .execute(&mut **tx)
                        .await?;
                }
                for (id, record) in &a.consents {
                    sqlx::query("UPDATE consents SET record = $2 WHERE id = $1 AND person_id = $3")
                        .bind(*id)
                        .bind(record)
                        .bind(a.person_id)
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::retention_sql::RetentionStore for $store {
            async fn retention_due(
                &self,
                closed_before: chrono::DateTime<chrono::Utc>,
                after: Option<uuid::Uuid>,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<uuid::Uuid>> {
                let rows: Vec<(uuid::Uuid,)> = sqlx::query_as(&format!(
                    "SELECT p.id FROM persons p WHERE {} AND NOT {} AND p.id > $2 ORDER BY p.id LIMIT $3",
                    $crate::store::retention_sql::DUE_WHERE,
                    $crate::store::retention_sql::HELD,
                ))
                .bind(closed_before)
                .bind(after.unwrap_or(uuid::Uuid::nil()))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|r| r.0).collect())
            }

            async fn retention_counts(
                &self,
                closed_before: Option<chrono::DateTime<chrono::Utc>>,
            ) -> $crate::store::StoreResult<$crate::store::retention_sql::RetentionCounts> {
                let (due, held): (i64, i64) = match closed_before {
                    None => (0, 0),
                    Some(closed_before) => sqlx::query_as(&format!(
                    "SELECT COALESCE(SUM(CASE WHEN {held} THEN 0 ELSE 1 END), 0), \
                            COALESCE(SUM(CASE WHEN {held} THEN 1 ELSE 0 END), 0) \
                     FROM persons p WHERE {due}",
                    held = $crate::store::retention_sql::HELD,
                    due = $crate::store::retention_sql::DUE_WHERE,
                ))
                .bind(closed_before)
                .fetch_one(&self.pool)
                .await?,
                };
                let by_why: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT anonymised_why, COUNT(*) FROM persons WHERE anonymised_why IS NOT NULL GROUP BY anonymised_why",
                )
                .fetch_all(&self.pool)
                .await?;
                let count = |w: &str| by_why.iter().find(|(k, _)| k == w).map_or(0, |(_, n)| *n);
                Ok($crate::store::retention_sql::RetentionCounts {
                    due,
                    held,
                    anonymised_retention: count($crate::store::retention_sql::WHY_RETENTION),
                    erased: count($crate::store::retention_sql::WHY_ERASURE),
                })
            }

            async fn legal_holds(
                &self,
                case_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::store::retention_sql::LegalHoldRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, case_id, reason, key_id, placed_by, placed_at, released_by, released_at \
                     FROM legal_holds WHERE case_id = $1 ORDER BY placed_at DESC, id DESC",
                )
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn person_held(&self, person_id: uuid::Uuid) -> $crate::store::StoreResult<bool> {
                let (n,): (i64,) = sqlx::query_as(&format!(
                    "SELECT COUNT(*) FROM persons p WHERE p.id = $1 AND {}",
                    $crate::store::retention_sql::HELD
                ))
                .bind(person_id)
                .fetch_one(&self.pool)
                .await?;
                Ok(n > 0)
            }

            async fn held_cases(
                &self,
            ) -> $crate::store::StoreResult<Vec<$crate::store::retention_sql::HeldCase>> {
                Ok(sqlx::query_as(
                    "SELECT c.id AS case_id, c.number, c.org_id, h.placed_at FROM legal_holds h \
                     JOIN cases c ON c.id = h.case_id WHERE h.released_at IS NULL ORDER BY h.placed_at, c.number",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn place_hold(
                &self,
                hold: &$crate::store::retention_sql::LegalHoldRow,
                timeline: &$crate::store::cases::TimelineRow,
                audit: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let active: Option<(uuid::Uuid,)> = sqlx::query_as(
                    "SELECT id FROM legal_holds WHERE case_id = $1 AND released_at IS NULL",
                )
                .bind(hold.case_id)
                .fetch_optional(&mut *tx)
                .await?;
                if active.is_some() {
                    return Err($crate::store::StoreError::Conflict("legal_hold"));
                }
                sqlx::query(
                    "INSERT INTO legal_holds (id, case_id, reason, key_id, placed_by, placed_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(hold.id)
                .bind(hold.case_id)
                .bind(&hold.reason)
                .bind(&hold.key_id)
                .bind(hold.placed_by)
                .bind(hold.placed_at)
                .execute(&mut *tx)
                .await?;
                Self::insert_timeline_tx(&mut tx, timeline).await?;
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn purge_freed(&self) -> $crate::store::StoreResult<()> {
                self.purge_freed_space().await
            }

            async fn release_hold(
                &self,
                by: uuid::Uuid,
                timeline: &$crate::store::cases::TimelineRow,
                audit: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE legal_holds SET released_by = $2, released_at = $3 WHERE case_id = $1 AND released_at IS NULL",
                )
                .bind(timeline.case_id)
                .bind(by)
                .bind(timeline.at)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::store::StoreError::NotFound);
                }
                Self::insert_timeline_tx(&mut tx, timeline).await?;
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_retention_store;
