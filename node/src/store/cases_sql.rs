//! The case registry's SQL, shared by both backends like `sql.rs`. The backend supplies
//! `begin_write` and `append_in` (the audit entry in the same transaction). Case numbers come
//! from the `case_counters` row of the organisation and year, whose row lock serialises
//! concurrent registrations of one organisation.

pub(super) const CASE_COLS: &str = "id, person_id, org_id, number, year, seq, caseworker_id, status, intake_channel, \
    registration_date, trafficking_status, exploitation, record, narrative, key_id, version, created_by, created_at, \
    updated_at, closed_at, anonymised_at";
pub(super) const CONSENT_COLS: &str = "id, person_id, case_id, scope, destination_country, given_on, expires_on, \
    record, guardian_name, key_id, recorded_by, recorded_at, withdrawn_on, withdrawn_by, withdrawn_at";

macro_rules! impl_case_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Replaces a person's blind-index tokens (one multi-row insert: a registration
            /// writes half a dozen tokens, and round trips dominate on PostgreSQL).
            async fn write_index(
                tx: &mut sqlx::Transaction<'_, $db>,
                person_id: uuid::Uuid,
                index: &[$crate::store::cases::IndexToken],
                replace: bool,
            ) -> $crate::store::StoreResult<()> {
                if replace {
                    sqlx::query("DELETE FROM person_index WHERE person_id = $1").bind(person_id).execute(&mut **tx).await?;
                }
                let mut seen = std::collections::HashSet::new();
                let unique: Vec<&$crate::store::cases::IndexToken> =
                    index.iter().filter(|t| seen.insert((t.kind, t.token.clone()))).collect();
                if unique.is_empty() {
                    return Ok(());
                }
                let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO person_index (person_id, kind, token) ");
                q.push_values(unique, |mut b, t| {
                    b.push_bind(person_id).push_bind(t.kind).push_bind(t.token.clone());
                });
                q.build().execute(&mut **tx).await?;
                Ok(())
            }

            async fn insert_case_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                c: &$crate::store::cases::CaseRow,
                prefix: &str,
            ) -> $crate::store::StoreResult<$crate::store::cases::CaseRow> {
                // The counter row's lock serialises numbering within the organisation.
                let (seq,): (i32,) = sqlx::query_as(
                    "INSERT INTO case_counters (org_id, year, last_seq) VALUES ($1, $2, 1) \
                     ON CONFLICT (org_id, year) DO UPDATE SET last_seq = case_counters.last_seq + 1 RETURNING last_seq",
                )
                .bind(c.org_id)
                .bind(c.year)
                .fetch_one(&mut **tx)
                .await?;
                let mut row = c.clone();
                row.seq = seq;
                row.number = format!("{prefix}-{:04}-{:04}", row.year, row.seq);
                sqlx::query(&format!(
                    "INSERT INTO cases ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
                    $crate::store::cases_sql::CASE_COLS
                ))
                .bind(row.id)
                .bind(row.person_id)
                .bind(row.org_id)
                .bind(&row.number)
                .bind(row.year)
                .bind(row.seq)
                .bind(row.caseworker_id)
                .bind(&row.status)
                .bind(&row.intake_channel)
                .bind(row.registration_date)
                .bind(&row.trafficking_status)
                .bind(&row.exploitation)
                .bind(&row.record)
                .bind(&row.narrative)
                .bind(&row.key_id)
                .bind(row.version)
                .bind(row.created_by)
                .bind(row.created_at)
                .bind(row.updated_at)
                .bind(row.closed_at)
                .bind(row.anonymised_at)
                .execute(&mut **tx)
                .await?;
                Ok(row)
            }

            /// Writes one registration (person, case, consents, timeline, audit entry with
            /// the case number) in `tx`.
            pub(crate) async fn register_in(
                tx: &mut sqlx::Transaction<'_, $db>,
                r: &$crate::store::cases::Registration,
            ) -> $crate::store::StoreResult<$crate::store::cases::CaseRow> {
                if let Some((p, index)) = &r.person {
                    Self::insert_person_tx(tx, p, index).await?;
                }
                let row = Self::insert_case_tx(tx, &r.case, &r.prefix).await?;
                for c in &r.consents {
                    Self::insert_consent_tx(tx, c).await?;
                }
                for t in &r.timeline {
                    Self::insert_timeline_tx(tx, t).await?;
                }
                let mut audit = r.audit.clone();
                if let serde_json::Value::Object(m) = &mut audit.detail {
                    m.insert("number".into(), row.number.clone().into());
                }
                Self::append_in(tx, &audit).await?;
                Ok(row)
            }

            /// Rewrites a person's identity and profile and replaces their blind-index tokens,
            /// in `tx`; `NotFound` if there is no such person.
            pub(crate) async fn update_person_in(
                tx: &mut sqlx::Transaction<'_, $db>,
                p: &$crate::store::cases::PersonRow,
                index: &[$crate::store::cases::IndexToken],
            ) -> $crate::store::StoreResult<()> {
                let done = sqlx::query("UPDATE persons SET identity = $2, profile = $3, key_id = $4, updated_at = $5 WHERE id = $1")
                    .bind(p.id)
                    .bind(&p.identity)
                    .bind(&p.profile)
                    .bind(&p.key_id)
                    .bind(p.updated_at)
                    .execute(&mut **tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::store::StoreError::NotFound);
                }
                Self::write_index(tx, p.id, index, true).await
            }

            async fn insert_person_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                p: &$crate::store::cases::PersonRow,
                index: &[$crate::store::cases::IndexToken],
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO persons (id, org_id, identity, profile, key_id, created_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(p.id)
                .bind(p.org_id)
                .bind(&p.identity)
                .bind(&p.profile)
                .bind(&p.key_id)
                .bind(p.created_by)
                .bind(p.created_at)
                .bind(p.updated_at)
                .execute(&mut **tx)
                .await?;
                Self::write_index(tx, p.id, index, false).await
            }

            async fn insert_consent_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                c: &$crate::store::cases::ConsentRow,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(&format!(
                    "INSERT INTO consents ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                    $crate::store::cases_sql::CONSENT_COLS
                ))
                .bind(c.id)
                .bind(c.person_id)
                .bind(c.case_id)
                .bind(&c.scope)
                .bind(&c.destination_country)
                .bind(c.given_on)
                .bind(c.expires_on)
                .bind(&c.record)
                .bind(&c.guardian_name)
                .bind(&c.key_id)
                .bind(c.recorded_by)
                .bind(c.recorded_at)
                .bind(c.withdrawn_on)
                .bind(c.withdrawn_by)
                .bind(c.withdrawn_at)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            async fn insert_timeline_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                t: &$crate::store::cases::TimelineRow,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query("INSERT INTO timeline (id, case_id, at, author_id, kind, body, key_id) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(t.id)
                    .bind(t.case_id)
                    .bind(t.at)
                    .bind(t.author_id)
                    .bind(&t.kind)
                    .bind(&t.body)
                    .bind(&t.key_id)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            fn push_case_filter<'a>(q: &mut sqlx::QueryBuilder<'a, $db>, f: &'a $crate::store::cases::CaseFilter) {
                q.push(" WHERE 1 = 1");
                if let Some(v) = f.org_id {
                    q.push(" AND org_id = ").push_bind(v);
                }
                if let Some(v) = &f.status {
                    q.push(" AND status = ").push_bind(v);
                }
                if let Some(v) = &f.trafficking_status {
                    q.push(" AND trafficking_status = ").push_bind(v);
                }
                if let Some(v) = &f.exploitation {
                    q.push(" AND exploitation LIKE ").push_bind(format!("%,{v},%"));
                }
                if let Some(v) = f.caseworker_id {
                    q.push(" AND caseworker_id = ").push_bind(v);
                }
                if let Some(v) = f.from {
                    q.push(" AND registration_date >= ").push_bind(v);
                }
                if let Some(v) = f.to {
                    q.push(" AND registration_date <= ").push_bind(v);
                }
                if let Some(ids) = &f.person_ids {
                    if ids.is_empty() {
                        q.push(" AND 1 = 0");
                    } else {
                        q.push(" AND person_id IN (");
                        let mut sep = q.separated(", ");
                        for id in ids {
                            sep.push_bind(*id);
                        }
                        q.push(")");
                    }
                }
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::cases::CaseStore for $store {
            async fn update_person(
                &self,
                p: &$crate::store::cases::PersonRow,
                index: &[$crate::store::cases::IndexToken],
                audit: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                Self::update_person_in(&mut tx, p, index).await?;
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn person(&self, id: uuid::Uuid) -> $crate::store::StoreResult<$crate::store::cases::PersonRow> {
                Ok(sqlx::query_as(
                    "SELECT id, org_id, identity, profile, key_id, created_by, created_at, updated_at, anonymised_at, anonymised_why \
                     FROM persons WHERE id = $1",
                )
                .bind(id)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn persons_with_tokens(
                &self,
                org_id: uuid::Uuid,
                tokens: &[$crate::store::cases::IndexToken],
            ) -> $crate::store::StoreResult<Vec<uuid::Uuid>> {
                let wanted: std::collections::BTreeSet<&str> = tokens.iter().map(|t| t.token.as_str()).collect();
                if wanted.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT pi.person_id FROM person_index pi JOIN persons p ON p.id = pi.person_id WHERE p.org_id = ",
                );
                q.push_bind(org_id).push(" AND pi.token IN (");
                let mut sep = q.separated(", ");
                for t in &wanted {
                    sep.push_bind(*t);
                }
                q.push(") GROUP BY pi.person_id HAVING COUNT(DISTINCT pi.token) = ");
                q.push_bind(i64::try_from(wanted.len()).unwrap_or(i64::MAX));
                let rows: Vec<(uuid::Uuid,)> = q.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(|r| r.0).collect())
            }

            async fn register_cases(
                &self,
                regs: &[$crate::store::cases::Registration],
            ) -> $crate::store::StoreResult<Vec<$crate::store::cases::CaseRow>> {
                let mut tx = self.begin_write().await?;
                let mut out = Vec::with_capacity(regs.len());
                for r in regs {
                    out.push(Self::register_in(&mut tx, r).await?);
                }
                tx.commit().await?;
                Ok(out)
            }

            async fn update_case(
                &self,
                c: &$crate::store::cases::CaseRow,
                audit: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE cases SET caseworker_id = $3, status = $4, intake_channel = $5, registration_date = $6, \
                     trafficking_status = $7, exploitation = $8, record = $9, narrative = $10, key_id = $11, version = $12, \
                     updated_at = $13, closed_at = $14 WHERE id = $1 AND version = $2",
                )
                .bind(c.id)
                .bind(c.version - 1)
                .bind(c.caseworker_id)
                .bind(&c.status)
                .bind(&c.intake_channel)
                .bind(c.registration_date)
                .bind(&c.trafficking_status)
                .bind(&c.exploitation)
                .bind(&c.record)
                .bind(&c.narrative)
                .bind(&c.key_id)
                .bind(c.version)
                .bind(c.updated_at)
                .bind(c.closed_at)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    let exists: Option<(i32,)> = sqlx::query_as("SELECT version FROM cases WHERE id = $1")
                        .bind(c.id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    return Err(match exists {
                        Some(_) => $crate::store::StoreError::Conflict("version"),
                        None => $crate::store::StoreError::NotFound,
                    });
                }
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn case(&self, id: uuid::Uuid) -> $crate::store::StoreResult<$crate::store::cases::CaseRow> {
                Ok(sqlx::query_as(&format!("SELECT {} FROM cases WHERE id = $1", $crate::store::cases_sql::CASE_COLS))
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn cases(
                &self,
                filter: &$crate::store::cases::CaseFilter,
                limit: i64,
                offset: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::cases::CaseRow>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(format!("SELECT {} FROM cases", $crate::store::cases_sql::CASE_COLS));
                Self::push_case_filter(&mut q, filter);
                q.push(" ORDER BY registration_date DESC, number DESC LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
                Ok(q.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn count_cases(&self, filter: &$crate::store::cases::CaseFilter) -> $crate::store::StoreResult<i64> {
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT COUNT(*) FROM cases");
                Self::push_case_filter(&mut q, filter);
                let (n,): (i64,) = q.build_query_as().fetch_one(&self.pool).await?;
                Ok(n)
            }

            async fn cases_of_person(&self, person_id: uuid::Uuid) -> $crate::store::StoreResult<Vec<$crate::store::cases::CaseRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {} FROM cases WHERE person_id = $1 ORDER BY registration_date",
                    $crate::store::cases_sql::CASE_COLS
                ))
                .bind(person_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn add_consent(&self, c: &$crate::store::cases::ConsentRow, audit: &$crate::audit::AuditEvent) -> $crate::store::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                Self::insert_consent_tx(&mut tx, c).await?;
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn withdraw_consent(
                &self,
                id: uuid::Uuid,
                on: chrono::NaiveDate,
                by: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
                audit: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE consents SET withdrawn_on = $2, withdrawn_by = $3, withdrawn_at = $4 WHERE id = $1 AND withdrawn_at IS NULL",
                )
                .bind(id)
                .bind(on)
                .bind(by)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::store::StoreError::NotFound);
                }
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn consent(&self, id: uuid::Uuid) -> $crate::store::StoreResult<$crate::store::cases::ConsentRow> {
                Ok(sqlx::query_as(&format!("SELECT {} FROM consents WHERE id = $1", $crate::store::cases_sql::CONSENT_COLS))
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn consents(&self, person_id: uuid::Uuid) -> $crate::store::StoreResult<Vec<$crate::store::cases::ConsentRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {} FROM consents WHERE person_id = $1 ORDER BY recorded_at",
                    $crate::store::cases_sql::CONSENT_COLS
                ))
                .bind(person_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn add_entry(
                &self,
                kind: $crate::store::cases::EntryKind,
                e: &$crate::store::cases::EntryRow,
                audit: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(&format!(
                    "INSERT INTO {} (id, case_id, record, notes, key_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    kind.table()
                ))
                .bind(e.id)
                .bind(e.case_id)
                .bind(&e.record)
                .bind(&e.notes)
                .bind(&e.key_id)
                .bind(e.created_at)
                .bind(e.updated_at)
                .execute(&mut *tx)
                .await?;
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn update_entry(
                &self,
                kind: $crate::store::cases::EntryKind,
                e: &$crate::store::cases::EntryRow,
                audit: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(&format!(
                    "UPDATE {} SET record = $2, notes = $3, key_id = $4, updated_at = $5 WHERE id = $1",
                    kind.table()
                ))
                .bind(e.id)
                .bind(&e.record)
                .bind(&e.notes)
                .bind(&e.key_id)
                .bind(e.updated_at)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::store::StoreError::NotFound);
                }
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn entry(&self, kind: $crate::store::cases::EntryKind, id: uuid::Uuid) -> $crate::store::StoreResult<$crate::store::cases::EntryRow> {
                Ok(sqlx::query_as(&format!(
                    "SELECT id, case_id, record, notes, key_id, created_at, updated_at FROM {} WHERE id = $1",
                    kind.table()
                ))
                .bind(id)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn entries(&self, kind: $crate::store::cases::EntryKind, case_id: uuid::Uuid) -> $crate::store::StoreResult<Vec<$crate::store::cases::EntryRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT id, case_id, record, notes, key_id, created_at, updated_at FROM {} WHERE case_id = $1 ORDER BY created_at",
                    kind.table()
                ))
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn add_timeline(&self, t: &$crate::store::cases::TimelineRow, audit: &$crate::audit::AuditEvent) -> $crate::store::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                Self::insert_timeline_tx(&mut tx, t).await?;
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn timeline(&self, case_id: uuid::Uuid) -> $crate::store::StoreResult<Vec<$crate::store::cases::TimelineRow>> {
                Ok(sqlx::query_as("SELECT id, case_id, at, author_id, kind, body, key_id FROM timeline WHERE case_id = $1 ORDER BY at, id")
                    .bind(case_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn save_draft(&self, d: &$crate::store::cases::DraftRow) -> $crate::store::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM drafts WHERE user_id = $1 AND kind = $2")
                    .bind(d.user_id)
                    .bind(&d.kind)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO drafts (id, user_id, kind, form, key_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(d.id)
                    .bind(d.user_id)
                    .bind(&d.kind)
                    .bind(&d.form)
                    .bind(&d.key_id)
                    .bind(d.updated_at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn draft(&self, user_id: uuid::Uuid, kind: &str) -> $crate::store::StoreResult<$crate::store::cases::DraftRow> {
                Ok(sqlx::query_as("SELECT id, user_id, kind, form, key_id, updated_at FROM drafts WHERE user_id = $1 AND kind = $2")
                    .bind(user_id)
                    .bind(kind)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn delete_draft(&self, user_id: uuid::Uuid, kind: &str) -> $crate::store::StoreResult<()> {
                sqlx::query("DELETE FROM drafts WHERE user_id = $1 AND kind = $2")
                    .bind(user_id)
                    .bind(kind)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
        }
    };
}

pub(super) use impl_case_store;
