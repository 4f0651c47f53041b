//! Storage of the regional service directory, shared by both backends like `sql.rs`: the
//! services of this node's organisations, the revision counter of the local directory, and
//! the latest directory received from each peer.
//!
//! Every change of a local service bumps the revision (the `dir_state` row, whose lock orders
//! concurrent changes), writes its audit entry (with the new revision) and, when a
//! [`Publication`] is given, enqueues the new snapshot for every destination — all in one
//! transaction, so a change is published exactly when it is stored. A received directory
//! replaces the held one only if its revision is higher (latest wins), in the same
//! transaction that marks its inbox message processed.
//!
//! The backend supplies `begin_write`, `lock_audit_chain` and `append_in` (see `sql.rs`);
//! `fed_enqueue_in` comes from `fed_sql.rs`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use puente_common::directory::DirectoryPayload;
use puente_common::CountryCode;
use uuid::Uuid;

use super::{StoreError, StoreResult};
use crate::audit::AuditEvent;

/// A service of one of this node's organisations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirServiceRow {
    pub id: Uuid,
    pub org_id: Uuid,
    /// A `ServiceType` code.
    pub service_type: String,
    /// `PopulationServed` codes.
    pub populations: Vec<String>,
    /// ISO 639-3 codes.
    pub languages: Vec<String>,
    /// ISO 3166-2 codes of this node's country; empty: the whole country.
    pub subdivisions: Vec<String>,
    pub contact: String,
    pub notes: String,
    /// Inactive services are kept (for history) but not published.
    pub active: bool,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_by: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

/// A service with its organisation, for listings.
#[derive(Debug, Clone)]
pub struct DirServiceListed {
    pub service: DirServiceRow,
    pub org_code: String,
    pub org_name: String,
    pub org_type: String,
    pub org_active: bool,
}

/// The latest directory held from a peer, as received (checked before it was stored).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DirRemoteRow {
    pub origin: String,
    pub revision: i64,
    /// The `directory.publish` payload, JSON.
    pub payload: String,
    pub received_at: DateTime<Utc>,
    pub message_id: Uuid,
}

/// Where and how a change of the directory is published: the store enqueues the new snapshot
/// (`directory.publish` on channel `directory`) for each destination in the change's own
/// transaction.
#[derive(Debug)]
pub struct Publication<'a> {
    /// The peers that receive the directory (those with a directory agreement).
    pub destinations: Vec<CountryCode>,
    /// This node's member id.
    pub origin: CountryCode,
    /// The manifest version the envelopes are made under.
    pub manifest_version: u64,
    pub signer: &'a puente_federation::SigningIdentity,
    pub now: DateTime<Utc>,
}

/// The kind of the envelopes that carry a directory.
pub const PUBLISH_KIND: &str = "directory.publish";

/// A row as the database holds it: the code lists as JSON text.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct RawService {
    pub id: Uuid,
    pub org_id: Uuid,
    pub service_type: String,
    pub populations: String,
    pub languages: String,
    pub subdivisions: String,
    pub contact: String,
    pub notes: String,
    pub active: bool,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_by: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

/// A listing row: the service and its organisation.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct RawListed {
    #[sqlx(flatten)]
    pub service: RawService,
    pub org_code: String,
    pub org_name: String,
    pub org_type: String,
    pub org_active: bool,
}

fn codes_from(column: &str, text: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("dir_services.{column}: {e}")))
}

pub(super) fn codes_to(codes: &[String]) -> String {
    serde_json::Value::from(codes.to_vec()).to_string()
}

impl TryFrom<RawService> for DirServiceRow {
    type Error = StoreError;
    fn try_from(r: RawService) -> StoreResult<Self> {
        Ok(DirServiceRow {
            populations: codes_from("populations", &r.populations)?,
            languages: codes_from("languages", &r.languages)?,
            subdivisions: codes_from("subdivisions", &r.subdivisions)?,
            id: r.id,
            org_id: r.org_id,
            service_type: r.service_type,
            contact: r.contact,
            notes: r.notes,
            active: r.active,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_by: r.updated_by,
            updated_at: r.updated_at,
        })
    }
}

impl TryFrom<RawListed> for DirServiceListed {
    type Error = StoreError;
    fn try_from(r: RawListed) -> StoreResult<Self> {
        Ok(DirServiceListed {
            service: r.service.try_into()?,
            org_code: r.org_code,
            org_name: r.org_name,
            org_type: r.org_type,
            org_active: r.org_active,
        })
    }
}

/// The snapshot of `rows` (active services of active organisations, grouped by organisation
/// in the order given) at `revision`, made at `revised_at`.
pub(super) fn snapshot_of(
    revision: i64,
    revised_at: Option<DateTime<Utc>>,
    rows: Vec<DirServiceListed>,
) -> DirectoryPayload {
    use puente_common::directory::{wire_time, DirOrg, DirService};
    let mut organisations: Vec<DirOrg> = Vec::new();
    for r in rows {
        let s = r.service;
        let service = DirService {
            id: s.id.hyphenated().to_string(),
            service_type: s.service_type,
            populations: s.populations,
            languages: s.languages,
            subdivisions: s.subdivisions,
            contact: s.contact,
            notes: s.notes,
        };
        match organisations.last_mut() {
            Some(o) if o.code == r.org_code => o.services.push(service),
            _ => organisations.push(DirOrg {
                code: r.org_code,
                name: r.org_name,
                org_type: r.org_type,
                services: vec![service],
            }),
        }
    }
    DirectoryPayload {
        revision: u64::try_from(revision).unwrap_or(0),
        published_at: wire_time(revised_at.unwrap_or(DateTime::<Utc>::UNIX_EPOCH)),
        organisations,
    }
}

pub(super) const SERVICE_COLS: &str = "s.id, s.org_id, s.service_type, s.populations, s.languages, \
    s.subdivisions, s.contact, s.notes, s.active, s.created_by, s.created_at, s.updated_by, s.updated_at";

#[async_trait]
pub trait DirectoryStore: Send + Sync {
    /// Services of `org` (or of every organisation), inactive ones included, by organisation
    /// code then creation.
    async fn dir_services(&self, org: Option<Uuid>) -> StoreResult<Vec<DirServiceListed>>;
    async fn dir_service(&self, id: Uuid) -> StoreResult<DirServiceListed>;
    /// Creates the service, or replaces every field of the one with its id (same
    /// organisation). Bumps the revision, writes `audit` (its detail gets `revision`) and
    /// enqueues the new snapshot per `publish`, in one transaction. Returns the new revision.
    async fn dir_save_service(
        &self,
        row: &DirServiceRow,
        audit: &AuditEvent,
        publish: Option<&Publication<'_>>,
    ) -> StoreResult<u64>;
    /// Marks an active service inactive (`NotFound` if there is no active one with this id),
    /// with the same revision bump, audit and publication as a save.
    async fn dir_deactivate_service(
        &self,
        id: Uuid,
        by: Option<Uuid>,
        at: DateTime<Utc>,
        audit: &AuditEvent,
        publish: Option<&Publication<'_>>,
    ) -> StoreResult<u64>;
    /// Publishes the directory as it is (a new revision), e.g. to a peer just approved.
    async fn dir_publish(
        &self,
        at: DateTime<Utc>,
        audit: &AuditEvent,
        publish: Option<&Publication<'_>>,
    ) -> StoreResult<u64>;
    /// The current revision of the local directory (0: never changed).
    async fn dir_revision(&self) -> StoreResult<u64>;
    /// The local directory at the current revision: active services of active
    /// organisations.
    async fn dir_snapshot(&self) -> StoreResult<DirectoryPayload>;
    /// The directory held from each peer, by origin.
    async fn dir_remotes(&self) -> StoreResult<Vec<DirRemoteRow>>;
    /// In one transaction: stores `payload_json` as `origin`'s directory if `revision` is
    /// higher than the one held (latest wins; true when stored), and marks the inbox message
    /// `inbox_message_id` processed. Applying the same message again changes nothing.
    async fn dir_apply_remote(
        &self,
        origin: CountryCode,
        revision: u64,
        payload_json: &str,
        inbox_message_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
}

macro_rules! impl_directory_store {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn dir_listed_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                filter: &str,
                id: Option<uuid::Uuid>,
            ) -> $crate::store::StoreResult<Vec<$crate::store::dir_sql::DirServiceListed>> {
                let sql = format!(
                    "SELECT {}, o.code AS org_code, o.name AS org_name, o.org_type AS org_type, o.active AS org_active \
                     FROM dir_services s JOIN orgs o ON o.id = s.org_id {filter} ORDER BY o.code, s.created_at, s.id",
                    $crate::store::dir_sql::SERVICE_COLS
                );
                let mut q = sqlx::query_as::<_, $crate::store::dir_sql::RawListed>(&sql);
                if let Some(id) = id {
                    q = q.bind(id);
                }
                q.fetch_all(&mut *conn)
                    .await?
                    .into_iter()
                    .map($crate::store::dir_sql::DirServiceListed::try_from)
                    .collect()
            }

            async fn dir_snapshot_in(
                conn: &mut <$db as sqlx::Database>::Connection,
            ) -> $crate::store::StoreResult<puente_common::directory::DirectoryPayload> {
                let (revision, revised_at): (i64, Option<chrono::DateTime<chrono::Utc>>) =
                    sqlx::query_as("SELECT revision, revised_at FROM dir_state WHERE id = 1")
                        .fetch_one(&mut *conn)
                        .await?;
                let rows = Self::dir_listed_in(conn, "WHERE s.active AND o.active", None).await?;
                Ok($crate::store::dir_sql::snapshot_of(revision, revised_at, rows))
            }

            /// Bumps the revision (the row lock orders concurrent changes), publishes the new
            /// snapshot per `publish`, and writes `audit` with the revision; all in `tx`.
            async fn dir_revise_in(
                tx: &mut sqlx::Transaction<'_, $db>,
                at: chrono::DateTime<chrono::Utc>,
                audit: &$crate::audit::AuditEvent,
                publish: Option<&$crate::store::dir_sql::Publication<'_>>,
            ) -> $crate::store::StoreResult<u64> {
                let (revision,): (i64,) = sqlx::query_as(
                    "UPDATE dir_state SET revision = revision + 1, revised_at = $1 WHERE id = 1 RETURNING revision",
                )
                .bind(at)
                .fetch_one(&mut **tx)
                .await?;
                let revision = u64::try_from(revision)
                    .map_err(|_| $crate::store::StoreError::Corrupt("dir_state.revision".into()))?;
                if let Some(p) = publish {
                    let snapshot = Self::dir_snapshot_in(&mut **tx).await?;
                    Self::dir_enqueue_in(tx, p, &snapshot).await?;
                }
                let mut audit = audit.clone();
                if let serde_json::Value::Object(m) = &mut audit.detail {
                    m.insert("revision".into(), revision.into());
                }
                Self::append_in(tx, &audit).await?;
                Ok(revision)
            }

            /// Puts `snapshot` in the outbox (`directory.publish`, one envelope per destination,
            /// signed) in `tx`: published if and only if the change commits.
            async fn dir_enqueue_in(
                tx: &mut sqlx::Transaction<'_, $db>,
                p: &$crate::store::dir_sql::Publication<'_>,
                snapshot: &puente_common::directory::DirectoryPayload,
            ) -> $crate::store::StoreResult<()> {
                let payload = serde_json::to_value(snapshot)
                    .map_err(|e| $crate::store::StoreError::Corrupt(format!("directory snapshot: {e}")))?;
                for destination in &p.destinations {
                    let out = $crate::store::fed_sql::Outgoing {
                        id: uuid::Uuid::now_v7(),
                        origin: p.origin,
                        destination: *destination,
                        channel: puente_federation::Channel::Directory,
                        kind: $crate::store::dir_sql::PUBLISH_KIND,
                        payload: payload.clone(),
                        manifest_version: p.manifest_version,
                        signer: p.signer,
                        now: p.now,
                    };
                    Self::fed_enqueue_in(tx, &out).await?;
                }
                Ok(())
            }

            /// A write transaction holding the audit chain lock before any row lock (the
            /// federation's locking rule, `fed_sql.rs`: the outbox and the audit trail both
            /// take it, so it comes first).
            async fn dir_begin(&self) -> $crate::store::StoreResult<sqlx::Transaction<'static, $db>> {
                let mut tx = self.begin_write().await?;
                Self::lock_audit_chain(&mut tx).await?;
                Ok(tx)
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::dir_sql::DirectoryStore for $store {
            async fn dir_services(
                &self,
                org: Option<uuid::Uuid>,
            ) -> $crate::store::StoreResult<Vec<$crate::store::dir_sql::DirServiceListed>> {
                let mut conn = self.pool.acquire().await?;
                match org {
                    Some(org) => Self::dir_listed_in(&mut *conn, "WHERE s.org_id = $1", Some(org)).await,
                    None => Self::dir_listed_in(&mut *conn, "", None).await,
                }
            }

            async fn dir_service(
                &self,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<$crate::store::dir_sql::DirServiceListed> {
                let mut conn = self.pool.acquire().await?;
                Self::dir_listed_in(&mut *conn, "WHERE s.id = $1", Some(id))
                    .await?
                    .into_iter()
                    .next()
                    .ok_or($crate::store::StoreError::NotFound)
            }

            async fn dir_save_service(
                &self,
                row: &$crate::store::dir_sql::DirServiceRow,
                audit: &$crate::audit::AuditEvent,
                publish: Option<&$crate::store::dir_sql::Publication<'_>>,
            ) -> $crate::store::StoreResult<u64> {
                use $crate::store::dir_sql::codes_to;
                use $crate::store::OnConflict as _;
                let mut tx = self.dir_begin().await?;
                let done = sqlx::query(
                    "UPDATE dir_services SET service_type = $3, populations = $4, languages = $5, subdivisions = $6, \
                     contact = $7, notes = $8, active = $9, updated_by = $10, updated_at = $11 WHERE id = $1 AND org_id = $2",
                )
                .bind(row.id)
                .bind(row.org_id)
                .bind(&row.service_type)
                .bind(codes_to(&row.populations))
                .bind(codes_to(&row.languages))
                .bind(codes_to(&row.subdivisions))
                .bind(&row.contact)
                .bind(&row.notes)
                .bind(row.active)
                .bind(row.updated_by)
                .bind(row.updated_at)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    sqlx::query(
                        "INSERT INTO dir_services (id, org_id, service_type, populations, languages, subdivisions, contact, \
                         notes, active, created_by, created_at, updated_by, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                    )
                    .bind(row.id)
                    .bind(row.org_id)
                    .bind(&row.service_type)
                    .bind(codes_to(&row.populations))
                    .bind(codes_to(&row.languages))
                    .bind(codes_to(&row.subdivisions))
                    .bind(&row.contact)
                    .bind(&row.notes)
                    .bind(row.active)
                    .bind(row.created_by)
                    .bind(row.created_at)
                    .bind(row.updated_by)
                    .bind(row.updated_at)
                    .execute(&mut *tx)
                    .await
                    .on_unique("id")?;
                }
                let revision = Self::dir_revise_in(&mut tx, row.updated_at, audit, publish).await?;
                tx.commit().await?;
                Ok(revision)
            }

            async fn dir_deactivate_service(
                &self,
                id: uuid::Uuid,
                by: Option<uuid::Uuid>,
                at: chrono::DateTime<chrono::Utc>,
                audit: &$crate::audit::AuditEvent,
                publish: Option<&$crate::store::dir_sql::Publication<'_>>,
            ) -> $crate::store::StoreResult<u64> {
                let mut tx = self.dir_begin().await?;
                let done = sqlx::query(
                    "UPDATE dir_services SET active = $2, updated_by = $3, updated_at = $4 WHERE id = $1 AND active",
                )
                .bind(id)
                .bind(false)
                .bind(by)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::store::StoreError::NotFound);
                }
                let revision = Self::dir_revise_in(&mut tx, at, audit, publish).await?;
                tx.commit().await?;
                Ok(revision)
            }

            async fn dir_publish(
                &self,
                at: chrono::DateTime<chrono::Utc>,
                audit: &$crate::audit::AuditEvent,
                publish: Option<&$crate::store::dir_sql::Publication<'_>>,
            ) -> $crate::store::StoreResult<u64> {
                let mut tx = self.dir_begin().await?;
                let revision = Self::dir_revise_in(&mut tx, at, audit, publish).await?;
                tx.commit().await?;
                Ok(revision)
            }

            async fn dir_revision(&self) -> $crate::store::StoreResult<u64> {
                let (revision,): (i64,) = sqlx::query_as("SELECT revision FROM dir_state WHERE id = 1")
                    .fetch_one(&self.pool)
                    .await?;
                u64::try_from(revision).map_err(|_| $crate::store::StoreError::Corrupt("dir_state.revision".into()))
            }

            async fn dir_snapshot(&self) -> $crate::store::StoreResult<puente_common::directory::DirectoryPayload> {
                // One read transaction: the revision and the rows it names agree.
                let mut tx = self.pool.begin().await?;
                let snapshot = Self::dir_snapshot_in(&mut *tx).await?;
                tx.commit().await?;
                Ok(snapshot)
            }

            async fn dir_remotes(&self) -> $crate::store::StoreResult<Vec<$crate::store::dir_sql::DirRemoteRow>> {
                Ok(sqlx::query_as(
                    "SELECT origin, revision, payload, received_at, message_id FROM dir_remote ORDER BY origin",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn dir_apply_remote(
                &self,
                origin: puente_common::CountryCode,
                revision: u64,
                payload_json: &str,
                inbox_message_id: uuid::Uuid,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                let revision = i64::try_from(revision)
                    .map_err(|_| $crate::store::StoreError::Corrupt("directory revision out of range".into()))?;
                let mut tx = self.begin_write().await?;
                // The latest position in the origin's stream wins: (epoch, seq) of the envelope,
                // not the revision, which restarts lower after the origin is restored from a
                // backup (and then a new epoch carries the truth).
                let done = sqlx::query(
                    "INSERT INTO dir_remote (origin, revision, payload, received_at, message_id, stream_epoch, stream_seq) \
                     SELECT $1, $2, $3, $4, $5, i.epoch, i.seq FROM fed_inbox i WHERE i.id = $5 \
                     ON CONFLICT (origin) DO UPDATE SET revision = excluded.revision, payload = excluded.payload, \
                     received_at = excluded.received_at, message_id = excluded.message_id, \
                     stream_epoch = excluded.stream_epoch, stream_seq = excluded.stream_seq \
                     WHERE dir_remote.stream_epoch < excluded.stream_epoch \
                     OR (dir_remote.stream_epoch = excluded.stream_epoch AND dir_remote.stream_seq < excluded.stream_seq)",
                )
                .bind(origin.as_str())
                .bind(revision)
                .bind(payload_json)
                .bind(now)
                .bind(inbox_message_id)
                .execute(&mut *tx)
                .await?;
                // A message processed before keeps its first processing time.
                sqlx::query("UPDATE fed_inbox SET status = 'processed', processed_at = $1 WHERE id = $2 AND status <> 'processed'")
                    .bind(now)
                    .bind(inbox_message_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}

pub(super) use impl_directory_store;
