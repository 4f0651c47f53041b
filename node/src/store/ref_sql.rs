//! Storage of cross-border referrals, shared by both backends like `sql.rs`: one row per
//! referral on this node (sent or received), its history of steps, and the notifications it
//! raises, with their e-mail state and the staff's addresses for e-mail notices.
//!
//! Every change is one [`RefChange`], written in one transaction: the referral row, its new
//! history entries, the envelopes it sends (signed in the same transaction by
//! `fed_enqueue_in`, so a step is sent exactly when it is stored), the notifications, the
//! audit entries, and what else the step changes — a linked case registered (accept), a
//! consent withdrawn (with its recalls), a person redacted (recall), received envelope bodies
//! erased, the inbox message marked processed. A failure anywhere leaves everything as it was.
//!
//! Rows hold sealed text where they hold victim data; the `referrals` module seals and opens.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::cases::{IndexToken, PersonRow, Registration};
use super::fed_sql::Outgoing;
use super::StoreResult;
use crate::audit::AuditEvent;

/// Bumped after a transaction wrote notifications, so the e-mail sender
/// (`crate::mail`) runs soon rather than at its next minute. Process-wide: with several nodes
/// in one process (the demo, tests) a sender may run once more for nothing.
static NOTIFICATIONS_WRITTEN: std::sync::LazyLock<tokio::sync::watch::Sender<u64>> =
    std::sync::LazyLock::new(|| tokio::sync::watch::Sender::new(0));

/// Tells the e-mail sender that notifications were written.
pub fn signal_notifications() {
    NOTIFICATIONS_WRITTEN.send_modify(|n| *n = n.wrapping_add(1));
}

/// Changes when notifications were written (see [`signal_notifications`]).
pub fn notifications_written() -> tokio::sync::watch::Receiver<u64> {
    NOTIFICATIONS_WRITTEN.subscribe()
}

pub(super) const REFERRAL_COLS: &str = "r.id, r.direction, r.peer, r.org_id, r.case_id, r.consent_id, \
    r.sender_org, r.sender_org_name, r.sender_reference, r.dest_org, r.dest_service, r.reason, r.urgency, r.needs, \
    r.field_groups, r.state, r.recall_state, r.recall_reason, r.expires_on, r.payload, r.override_reason, \
    r.key_id, r.created_by, r.created_at, r.updated_at, r.version";

/// A referral as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReferralRow {
    pub id: Uuid,
    /// `out` (sent by this node) or `in` (received).
    pub direction: String,
    /// The other member: the destination of an `out` referral, the origin of an `in` one.
    pub peer: String,
    /// `out`: the sending organisation; `in`: the organisation it is routed to (`None`: the
    /// national administrators' queue).
    pub org_id: Option<Uuid>,
    /// `out`: the case referred; `in`: the linked case, once accepted.
    pub case_id: Option<Uuid>,
    /// `out`: the `REFERRAL` consent it was sent under (`None`: sent under an override).
    pub consent_id: Option<Uuid>,
    pub sender_org: String,
    pub sender_org_name: String,
    pub sender_reference: String,
    pub dest_org: Option<String>,
    pub dest_service: Option<String>,
    pub reason: String,
    pub urgency: String,
    /// JSON array of service types.
    pub needs: String,
    /// JSON array of the field groups sent.
    pub field_groups: String,
    pub state: String,
    pub recall_state: Option<String>,
    pub recall_reason: Option<String>,
    pub expires_on: Option<NaiveDate>,
    /// Sealed `OfferBody` JSON.
    pub payload: Option<String>,
    /// Sealed reason of a consent override.
    pub override_reason: Option<String>,
    pub key_id: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Optimistic version: 1 when inserted; an update writes `version` over `version - 1`.
    pub version: i32,
}

/// A step of a referral's history.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RefEventRow {
    pub id: Uuid,
    pub referral_id: Uuid,
    pub at: DateTime<Utc>,
    pub kind: String,
    /// The signed envelope of the step: `fed_outbox.id` (sent) or `fed_inbox.id` (received).
    pub message_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    /// JSON object of codes (never free text).
    pub detail: String,
    /// Sealed free text.
    pub note: Option<String>,
    pub key_id: String,
}

/// A history entry with what the federation knows of its envelope.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RefEventListed {
    #[sqlx(flatten)]
    pub event: RefEventRow,
    /// Sent envelopes: `pending`, `acked` or `rejected`.
    pub out_status: Option<String>,
    pub out_acked_at: Option<DateTime<Utc>>,
    /// The envelope's hash (sent or received).
    pub envelope_hash: Option<String>,
    pub actor_name: Option<String>,
}

/// A referral with the delivery state of its offer (sent referrals).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RefListed {
    #[sqlx(flatten)]
    pub referral: ReferralRow,
    /// `fed_outbox.status` of the offer: `pending` until the destination acknowledged it.
    pub offer_status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub referral_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// A notification due to be e-mailed: its recipient's notice address and language (never
/// anything of the referral).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct NotificationEmail {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub email: String,
    /// `es`, `en`, or `None` (the node's default, Spanish).
    pub language: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A consent withdrawal written with the recalls it causes.
#[derive(Debug, Clone, Copy)]
pub struct ConsentWithdrawal {
    pub id: Uuid,
    pub on: NaiveDate,
    pub by: Uuid,
    pub at: DateTime<Utc>,
}

/// Filters of a referral listing; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct RefFilter {
    pub direction: Option<String>,
    /// Only referrals of this organisation.
    pub org_id: Option<Uuid>,
    /// Only received referrals routed to no organisation (the national queue).
    pub unassigned: bool,
    pub states: Option<Vec<String>>,
    pub peer: Option<String>,
}

/// Everything one step of a referral writes, in one transaction.
#[derive(Default)]
pub struct RefChange<'a> {
    /// Each inserted when its `version` is 1, otherwise written over the stored
    /// `version - 1` (`Conflict("version")` if someone changed it meanwhile).
    pub referrals: Vec<&'a ReferralRow>,
    pub events: Vec<RefEventRow>,
    /// Signed and queued in order (see `fed_enqueue_in`).
    pub outgoing: Vec<Outgoing<'a>>,
    pub notify: Vec<NotificationRow>,
    pub audits: Vec<AuditEvent>,
    /// A linked case (accept): person, case, consents, timeline, its own audit entry.
    pub registration: Option<&'a Registration>,
    /// Consents withdrawn; `NotFound` if one is already withdrawn.
    pub withdraw: Vec<ConsentWithdrawal>,
    /// A person anonymised (erasure on request, or the retention rule); `NotFound` if
    /// already done.
    pub anonymise: Option<super::retention_sql::Anonymisation>,
    /// A person rewritten (redaction at recall) with their new blind-index tokens.
    pub person: Option<(&'a PersonRow, &'a [IndexToken])>,
    /// Received envelopes whose bodies are erased (hashes and signatures stay in the evidence
    /// log).
    pub purge_inbox: Vec<Uuid>,
    /// The inbox message this step processes, marked processed.
    pub inbox_done: Option<(Uuid, DateTime<Utc>)>,
}

impl std::fmt::Debug for RefChange<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefChange")
            .field(
                "referrals",
                &self.referrals.iter().map(|r| r.id).collect::<Vec<_>>(),
            )
            .field("events", &self.events.len())
            .field("outgoing", &self.outgoing.len())
            .finish_non_exhaustive()
    }
}

#[async_trait]
pub trait ReferralStore: Send + Sync {
    /// Writes `change` in one transaction.
    async fn ref_apply(&self, change: RefChange<'_>) -> StoreResult<()>;
    async fn referral(&self, id: Uuid) -> StoreResult<ReferralRow>;
    /// Referrals matching `filter`, newest first.
    async fn referrals(
        &self,
        filter: &RefFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<RefListed>>;
    async fn count_referrals(&self, filter: &RefFilter) -> StoreResult<i64>;
    /// The history of a referral, oldest first.
    async fn ref_events(&self, id: Uuid) -> StoreResult<Vec<RefEventListed>>;
    /// Referrals sent under `consent_id`.
    async fn ref_by_consent(&self, consent_id: Uuid) -> StoreResult<Vec<ReferralRow>>;
    /// Referrals of `case_id` (sent from it, or linked to it).
    async fn ref_by_case(&self, case_id: Uuid) -> StoreResult<Vec<ReferralRow>>;
    /// Offers still unanswered (`sent`, `received`) whose consent expires on or before `on`.
    async fn ref_due_expiry(&self, on: NaiveDate) -> StoreResult<Vec<ReferralRow>>;
    /// Active users of `org` (`None`: of no organisation) with one of `roles`.
    async fn ref_recipients(&self, org: Option<Uuid>, roles: &[&str]) -> StoreResult<Vec<Uuid>>;
    async fn notifications(&self, user_id: Uuid, limit: i64) -> StoreResult<Vec<NotificationRow>>;
    async fn unread_notifications(&self, user_id: Uuid) -> StoreResult<i64>;
    /// Marks one (or every) notification of `user_id` read.
    async fn mark_notifications_read(
        &self,
        user_id: Uuid,
        id: Option<Uuid>,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The address `user_id` gave for e-mail notices, if any.
    async fn notice_email(&self, user_id: Uuid) -> StoreResult<Option<String>>;
    /// Sets (or replaces) the address for e-mail notices of `user_id`, with `audit`, in one
    /// transaction.
    async fn set_notice_email(
        &self,
        user_id: Uuid,
        email: &str,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// Removes the address for e-mail notices of `user_id` (nothing to remove is no error),
    /// with `audit`, in one transaction.
    async fn clear_notice_email(&self, user_id: Uuid, audit: &AuditEvent) -> StoreResult<()>;
    /// Notifications not yet e-mailed, created at or after `since` and unread, whose
    /// recipient is an active user with a notice address; oldest first.
    async fn notifications_to_email(
        &self,
        since: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<NotificationEmail>>;
    /// Marks notification `id` e-mailed at `at` (if it was not already).
    async fn mark_notification_emailed(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()>;
    /// Marks every notification not yet e-mailed and created before `before` as handled at
    /// `at`, without sending; returns how many.
    async fn skip_old_notification_emails(
        &self,
        before: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> StoreResult<u64>;
}

macro_rules! impl_referral_store {
    ($store:ty, $db:ty) => {
        impl $store {
            fn ref_filter_sql(
                q: &mut sqlx::QueryBuilder<'_, $db>,
                f: &$crate::store::ref_sql::RefFilter,
            ) {
                q.push(" WHERE 1 = 1");
                if let Some(d) = &f.direction {
                    q.push(" AND r.direction = ").push_bind(d.clone());
                }
                if let Some(o) = f.org_id {
                    q.push(" AND r.org_id = ").push_bind(o);
                }
                if f.unassigned {
                    q.push(" AND r.org_id IS NULL AND r.direction = 'in'");
                }
                if let Some(states) = &f.states {
                    q.push(" AND r.state IN (");
                    let mut sep = q.separated(", ");
                    for s in states {
                        sep.push_bind(s.clone());
                    }
                    q.push(")");
                    if states.is_empty() {
                        q.push(" AND 1 = 0");
                    }
                }
                if let Some(p) = &f.peer {
                    q.push(" AND r.peer = ").push_bind(p.clone());
                }
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::ref_sql::ReferralStore for $store {
            async fn ref_apply(
                &self,
                change: $crate::store::ref_sql::RefChange<'_>,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                for w in &change.withdraw {
                    let done = sqlx::query(
                        "UPDATE consents SET withdrawn_on = $2, withdrawn_by = $3, withdrawn_at = $4 WHERE id = $1 AND withdrawn_at IS NULL",
                    )
                    .bind(w.id)
                    .bind(w.on)
                    .bind(w.by)
                    .bind(w.at)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Err($crate::store::StoreError::NotFound);
                    }
                }
                if let Some(r) = change.registration {
                    Self::register_in(&mut tx, r).await?;
                }
                if let Some((p, index)) = change.person {
                    Self::update_person_in(&mut tx, p, index).await?;
                }
                for r in &change.referrals {
                    let case_id = r.case_id;
                    if r.version == 1 {
                        sqlx::query(
                            "INSERT INTO referrals (id, direction, peer, org_id, case_id, consent_id, sender_org, sender_org_name, \
                             sender_reference, dest_org, dest_service, reason, urgency, needs, field_groups, state, recall_state, \
                             recall_reason, expires_on, payload, override_reason, key_id, created_by, created_at, updated_at, version) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)",
                        )
                        .bind(r.id)
                        .bind(&r.direction)
                        .bind(&r.peer)
                        .bind(r.org_id)
                        .bind(case_id)
                        .bind(r.consent_id)
                        .bind(&r.sender_org)
                        .bind(&r.sender_org_name)
                        .bind(&r.sender_reference)
                        .bind(&r.dest_org)
                        .bind(&r.dest_service)
                        .bind(&r.reason)
                        .bind(&r.urgency)
                        .bind(&r.needs)
                        .bind(&r.field_groups)
                        .bind(&r.state)
                        .bind(&r.recall_state)
                        .bind(&r.recall_reason)
                        .bind(r.expires_on)
                        .bind(&r.payload)
                        .bind(&r.override_reason)
                        .bind(&r.key_id)
                        .bind(r.created_by)
                        .bind(r.created_at)
                        .bind(r.updated_at)
                        .bind(r.version)
                        .execute(&mut *tx)
                        .await?;
                    } else {
                        let done = sqlx::query(
                            "UPDATE referrals SET org_id = $3, case_id = $4, sender_org = $5, sender_org_name = $6, \
                             sender_reference = $7, dest_org = $8, dest_service = $9, reason = $10, urgency = $11, needs = $12, \
                             field_groups = $13, state = $14, recall_state = $15, recall_reason = $16, expires_on = $17, \
                             payload = $18, override_reason = $19, key_id = $20, updated_at = $21, version = $22 \
                             WHERE id = $1 AND version = $2",
                        )
                        .bind(r.id)
                        .bind(r.version - 1)
                        .bind(r.org_id)
                        .bind(case_id)
                        .bind(&r.sender_org)
                        .bind(&r.sender_org_name)
                        .bind(&r.sender_reference)
                        .bind(&r.dest_org)
                        .bind(&r.dest_service)
                        .bind(&r.reason)
                        .bind(&r.urgency)
                        .bind(&r.needs)
                        .bind(&r.field_groups)
                        .bind(&r.state)
                        .bind(&r.recall_state)
                        .bind(&r.recall_reason)
                        .bind(r.expires_on)
                        .bind(&r.payload)
                        .bind(&r.override_reason)
                        .bind(&r.key_id)
                        .bind(r.updated_at)
                        .bind(r.version)
                        .execute(&mut *tx)
                        .await?;
                        if done.rows_affected() == 0 {
                            let exists: Option<(i32,)> = sqlx::query_as("SELECT version FROM referrals WHERE id = $1")
                                .bind(r.id)
                                .fetch_optional(&mut *tx)
                                .await?;
                            return Err(match exists {
                                Some(_) => $crate::store::StoreError::Conflict("version"),
                                None => $crate::store::StoreError::NotFound,
                            });
                        }
                    }
                }
                for out in &change.outgoing {
                    Self::fed_enqueue_in(&mut tx, out).await?;
                }
                for e in &change.events {
                    sqlx::query(
                        "INSERT INTO referral_events (id, referral_id, at, kind, message_id, actor_id, detail, note, key_id) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(e.id)
                    .bind(e.referral_id)
                    .bind(e.at)
                    .bind(&e.kind)
                    .bind(e.message_id)
                    .bind(e.actor_id)
                    .bind(&e.detail)
                    .bind(&e.note)
                    .bind(&e.key_id)
                    .execute(&mut *tx)
                    .await?;
                }
                for n in &change.notify {
                    sqlx::query(
                        "INSERT INTO notifications (id, user_id, kind, referral_id, created_at, read_at) VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(n.id)
                    .bind(n.user_id)
                    .bind(&n.kind)
                    .bind(n.referral_id)
                    .bind(n.created_at)
                    .bind(n.read_at)
                    .execute(&mut *tx)
                    .await?;
                }
                // After the referral rows: an erasure's recalls are written, then every
                // payload of the person's referrals is cleared.
                if let Some(a) = &change.anonymise {
                    Self::anonymise_in(&mut tx, a).await?;
                }
                for id in &change.purge_inbox {
                    sqlx::query("UPDATE fed_inbox SET body = NULL WHERE id = $1")
                        .bind(*id)
                        .execute(&mut *tx)
                        .await?;
                }
                if let Some((id, at)) = change.inbox_done {
                    sqlx::query(
                        "UPDATE fed_inbox SET status = 'processed', reason = NULL, processed_at = $2 WHERE id = $1 AND status = 'stored'",
                    )
                    .bind(id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
                for a in &change.audits {
                    Self::append_in(&mut tx, a).await?;
                }
                tx.commit().await?;
                if !change.notify.is_empty() {
                    $crate::store::ref_sql::signal_notifications();
                }
                Ok(())
            }

            async fn referral(&self, id: uuid::Uuid) -> $crate::store::StoreResult<$crate::store::ref_sql::ReferralRow> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {} FROM referrals r WHERE r.id = $1",
                    $crate::store::ref_sql::REFERRAL_COLS
                ))
                .bind(id)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn referrals(
                &self,
                filter: &$crate::store::ref_sql::RefFilter,
                limit: i64,
                offset: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::ref_sql::RefListed>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(format!(
                    "SELECT {}, (SELECT o.status FROM referral_events e JOIN fed_outbox o ON o.id = e.message_id \
                     WHERE e.referral_id = r.id AND e.kind = 'offer_sent' LIMIT 1) AS offer_status FROM referrals r",
                    $crate::store::ref_sql::REFERRAL_COLS
                ));
                Self::ref_filter_sql(&mut q, filter);
                q.push(" ORDER BY r.created_at DESC, r.id DESC LIMIT ")
                    .push_bind(limit)
                    .push(" OFFSET ")
                    .push_bind(offset);
                Ok(q.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn count_referrals(&self, filter: &$crate::store::ref_sql::RefFilter) -> $crate::store::StoreResult<i64> {
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT COUNT(*) FROM referrals r");
                Self::ref_filter_sql(&mut q, filter);
                let (n,): (i64,) = q.build_query_as().fetch_one(&self.pool).await?;
                Ok(n)
            }

            async fn ref_events(&self, id: uuid::Uuid) -> $crate::store::StoreResult<Vec<$crate::store::ref_sql::RefEventListed>> {
                Ok(sqlx::query_as(
                    "SELECT e.id, e.referral_id, e.at, e.kind, e.message_id, e.actor_id, e.detail, e.note, e.key_id, \
                     o.status AS out_status, o.acked_at AS out_acked_at, COALESCE(o.hash, i.hash) AS envelope_hash, \
                     u.display_name AS actor_name \
                     FROM referral_events e LEFT JOIN fed_outbox o ON o.id = e.message_id \
                     LEFT JOIN fed_inbox i ON i.id = e.message_id LEFT JOIN users u ON u.id = e.actor_id \
                     WHERE e.referral_id = $1 ORDER BY e.at, e.id",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn ref_by_consent(&self, consent_id: uuid::Uuid) -> $crate::store::StoreResult<Vec<$crate::store::ref_sql::ReferralRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {} FROM referrals r WHERE r.consent_id = $1 AND r.direction = 'out' ORDER BY r.created_at",
                    $crate::store::ref_sql::REFERRAL_COLS
                ))
                .bind(consent_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn ref_by_case(&self, case_id: uuid::Uuid) -> $crate::store::StoreResult<Vec<$crate::store::ref_sql::ReferralRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {} FROM referrals r WHERE r.case_id = $1 ORDER BY r.created_at",
                    $crate::store::ref_sql::REFERRAL_COLS
                ))
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn ref_due_expiry(&self, on: chrono::NaiveDate) -> $crate::store::StoreResult<Vec<$crate::store::ref_sql::ReferralRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {} FROM referrals r WHERE r.state IN ('sent', 'received') AND r.expires_on IS NOT NULL \
                     AND r.expires_on <= $1 ORDER BY r.created_at",
                    $crate::store::ref_sql::REFERRAL_COLS
                ))
                .bind(on)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn ref_recipients(&self, org: Option<uuid::Uuid>, roles: &[&str]) -> $crate::store::StoreResult<Vec<uuid::Uuid>> {
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT id FROM users WHERE disabled = ");
                q.push_bind(false);
                match org {
                    Some(o) => {
                        q.push(" AND org_id = ").push_bind(o);
                    }
                    None => {
                        q.push(" AND org_id IS NULL");
                    }
                }
                q.push(" AND role IN (");
                let mut sep = q.separated(", ");
                for r in roles {
                    sep.push_bind(r.to_string());
                }
                q.push(") ORDER BY username");
                let rows: Vec<(uuid::Uuid,)> = q.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(|(id,)| id).collect())
            }

            async fn notifications(&self, user_id: uuid::Uuid, limit: i64) -> $crate::store::StoreResult<Vec<$crate::store::ref_sql::NotificationRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, user_id, kind, referral_id, created_at, read_at FROM notifications WHERE user_id = $1 \
                     ORDER BY created_at DESC, id DESC LIMIT $2",
                )
                .bind(user_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn unread_notifications(&self, user_id: uuid::Uuid) -> $crate::store::StoreResult<i64> {
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
                    .bind(user_id)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n)
            }

            async fn mark_notifications_read(
                &self,
                user_id: uuid::Uuid,
                id: Option<uuid::Uuid>,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                let mut q = sqlx::QueryBuilder::<$db>::new("UPDATE notifications SET read_at = ");
                q.push_bind(at).push(" WHERE read_at IS NULL AND user_id = ").push_bind(user_id);
                if let Some(id) = id {
                    q.push(" AND id = ").push_bind(id);
                }
                q.build().execute(&self.pool).await?;
                Ok(())
            }

            async fn notice_email(&self, user_id: uuid::Uuid) -> $crate::store::StoreResult<Option<String>> {
                let row: Option<(String,)> = sqlx::query_as("SELECT email FROM user_emails WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|(e,)| e))
            }

            async fn set_notice_email(
                &self,
                user_id: uuid::Uuid,
                email: &str,
                at: chrono::DateTime<chrono::Utc>,
                audit: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO user_emails (user_id, email, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, updated_at = excluded.updated_at",
                )
                .bind(user_id)
                .bind(email)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn clear_notice_email(
                &self,
                user_id: uuid::Uuid,
                audit: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM user_emails WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn notifications_to_email(
                &self,
                since: chrono::DateTime<chrono::Utc>,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::ref_sql::NotificationEmail>> {
                Ok(sqlx::query_as(
                    "SELECT n.id, n.user_id, n.kind, e.email, u.language, n.created_at \
                     FROM notifications n JOIN user_emails e ON e.user_id = n.user_id JOIN users u ON u.id = n.user_id \
                     WHERE n.emailed_at IS NULL AND n.read_at IS NULL AND n.created_at >= $1 AND u.disabled = $2 \
                     ORDER BY n.created_at, n.id LIMIT $3",
                )
                .bind(since)
                .bind(false)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn mark_notification_emailed(
                &self,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query("UPDATE notifications SET emailed_at = $2 WHERE id = $1 AND emailed_at IS NULL")
                    .bind(id)
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn skip_old_notification_emails(
                &self,
                before: chrono::DateTime<chrono::Utc>,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<u64> {
                let done = sqlx::query("UPDATE notifications SET emailed_at = $2 WHERE emailed_at IS NULL AND created_at < $1")
                    .bind(before)
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }
        }
    };
}
pub(super) use impl_referral_store;
