//! The SQL both backends share. `impl_store!` expands to the [`Store`](super::Store)
//! implementation for one backend; the backend supplies two inherent methods:
//! `begin_write` (a transaction that holds the write lock from its first statement) and
//! `lock_audit_chain` (serialises appends to the audit chain between concurrent writers).
//! Parameters are written `$1, $2, …` in order, which both SQLite and PostgreSQL accept.

pub(super) const ORG_COLS: &str = "id, code, name, org_type, active, created_at, updated_at";
pub(super) const USER_COLS: &str = "id, username, display_name, org_id, role, password_hash, \
    must_change_password, totp_secret, disabled, failed_logins, locked_until, language, \
    created_at, updated_at, last_login_at, totp_last_step";
pub(super) const TOKEN_COLS: &str = "t.id, t.user_id, t.name, t.prefix, t.token_hash, \
    t.created_at, t.expires_at, t.last_used_at, t.revoked_at";
pub(super) const AUDIT_COLS: &str = "seq, id, at, actor_id, actor, org_id, action, target_kind, \
    target_id, outcome, ip, request_id, detail, prev_hash, hash";

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub(super) fn like_prefix(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

macro_rules! impl_store {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn append_in(
                tx: &mut sqlx::Transaction<'_, $db>,
                event: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<$crate::audit::AuditEntry> {
                Self::lock_audit_chain(tx).await?;
                let head: Option<(i64, String)> =
                    sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                        .fetch_optional(&mut **tx)
                        .await?;
                let (seq, prev) = head.unwrap_or((0, $crate::audit::GENESIS.to_owned()));
                let e = event.seal(seq + 1, uuid::Uuid::now_v7(), &prev);
                sqlx::query(&format!(
                    "INSERT INTO audit_log ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                    $crate::store::sql::AUDIT_COLS
                ))
                .bind(e.seq)
                .bind(e.id)
                .bind(e.at)
                .bind(e.actor_id)
                .bind(&e.actor)
                .bind(e.org_id)
                .bind(&e.action)
                .bind(&e.target_kind)
                .bind(&e.target_id)
                .bind(&e.outcome)
                .bind(&e.ip)
                .bind(&e.request_id)
                .bind(&e.detail)
                .bind(&e.prev_hash)
                .bind(&e.hash)
                .execute(&mut **tx)
                .await?;
                Ok(e)
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            async fn migrate(&self) -> $crate::store::StoreResult<()> {
                self.migrator().run(&self.pool).await.map_err($crate::store::StoreError::Migrate)
            }

            async fn ready(&self) -> $crate::store::StoreResult<bool> {
                let applied: Vec<(i64,)> =
                    match sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success = true")
                        .fetch_all(&self.pool)
                        .await
                    {
                        Ok(v) => v,
                        // No migrations table yet: reachable, but not ready.
                        Err(sqlx::Error::Database(_)) => return Ok(false),
                        Err(e) => return Err(e.into()),
                    };
                let applied: std::collections::HashSet<i64> = applied.into_iter().map(|v| v.0).collect();
                Ok(self.migrator().iter().all(|m| applied.contains(&m.version)))
            }

            async fn close(&self) {
                self.pool.close().await;
            }

            fn pool_stats(&self) -> $crate::store::PoolStats {
                $crate::store::PoolStats {
                    size: self.pool.size(),
                    idle: self.pool.num_idle(),
                }
            }

            async fn create_org(&self, org: &$crate::store::Org, audit: &$crate::audit::AuditEvent) -> $crate::store::StoreResult<()> {
                use $crate::store::OnConflict as _;
                let mut tx = self.begin_write().await?;
                sqlx::query(&format!("INSERT INTO orgs ({}) VALUES ($1, $2, $3, $4, $5, $6, $7)", $crate::store::sql::ORG_COLS))
                    .bind(org.id)
                    .bind(&org.code)
                    .bind(&org.name)
                    .bind(&org.org_type)
                    .bind(org.active)
                    .bind(org.created_at)
                    .bind(org.updated_at)
                    .execute(&mut *tx)
                    .await
                    .on_unique("code")?;
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn update_org(&self, org: &$crate::store::Org, audit: &$crate::audit::AuditEvent) -> $crate::store::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("UPDATE orgs SET name = $2, org_type = $3, active = $4, updated_at = $5 WHERE id = $1")
                    .bind(org.id)
                    .bind(&org.name)
                    .bind(&org.org_type)
                    .bind(org.active)
                    .bind(org.updated_at)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::store::StoreError::NotFound);
                }
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn org(&self, id: uuid::Uuid) -> $crate::store::StoreResult<$crate::store::Org> {
                Ok(sqlx::query_as(&format!("SELECT {} FROM orgs WHERE id = $1", $crate::store::sql::ORG_COLS))
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn org_by_code(&self, code: &str) -> $crate::store::StoreResult<$crate::store::Org> {
                Ok(sqlx::query_as(&format!("SELECT {} FROM orgs WHERE code = $1", $crate::store::sql::ORG_COLS))
                    .bind(code)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn orgs(&self) -> $crate::store::StoreResult<Vec<$crate::store::OrgSummary>> {
                Ok(sqlx::query_as(
                    "SELECT o.id, o.code, o.name, o.org_type, o.active, o.created_at, o.updated_at, \
                     (SELECT COUNT(*) FROM users u WHERE u.org_id = o.id) AS user_count \
                     FROM orgs o ORDER BY o.name, o.code",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn create_user(&self, u: &$crate::store::User, audit: &$crate::audit::AuditEvent) -> $crate::store::StoreResult<()> {
                use $crate::store::OnConflict as _;
                let mut tx = self.begin_write().await?;
                sqlx::query(&format!(
                    "INSERT INTO users ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                    $crate::store::sql::USER_COLS
                ))
                .bind(u.id)
                .bind(&u.username)
                .bind(&u.display_name)
                .bind(u.org_id)
                .bind(u.role.code())
                .bind(&u.password_hash)
                .bind(u.must_change_password)
                .bind(&u.totp_secret)
                .bind(u.disabled)
                .bind(u.failed_logins)
                .bind(u.locked_until)
                .bind(&u.language)
                .bind(u.created_at)
                .bind(u.updated_at)
                .bind(u.last_login_at)
                .bind(u.totp_last_step)
                .execute(&mut *tx)
                .await
                .on_unique("username")?;
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn update_user(&self, u: &$crate::store::User, audit: &$crate::audit::AuditEvent) -> $crate::store::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE users SET display_name = $2, org_id = $3, role = $4, password_hash = $5, \
                     must_change_password = $6, totp_secret = $7, disabled = $8, failed_logins = $9, \
                     locked_until = $10, language = $11, updated_at = $12, last_login_at = $13, totp_last_step = $14 \
                     WHERE id = $1",
                )
                .bind(u.id)
                .bind(&u.display_name)
                .bind(u.org_id)
                .bind(u.role.code())
                .bind(&u.password_hash)
                .bind(u.must_change_password)
                .bind(&u.totp_secret)
                .bind(u.disabled)
                .bind(u.failed_logins)
                .bind(u.locked_until)
                .bind(&u.language)
                .bind(u.updated_at)
                .bind(u.last_login_at)
                .bind(u.totp_last_step)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::store::StoreError::NotFound);
                }
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn user(&self, id: uuid::Uuid) -> $crate::store::StoreResult<$crate::store::User> {
                Ok(sqlx::query_as(&format!("SELECT {} FROM users WHERE id = $1", $crate::store::sql::USER_COLS))
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn user_by_username(&self, username: &str) -> $crate::store::StoreResult<$crate::store::User> {
                Ok(sqlx::query_as(&format!("SELECT {} FROM users WHERE username = $1", $crate::store::sql::USER_COLS))
                    .bind(username)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn users(&self, org: Option<uuid::Uuid>) -> $crate::store::StoreResult<Vec<$crate::store::UserSummary>> {
                Ok(sqlx::query_as(
                    "SELECT u.id, u.username, u.display_name, u.org_id, o.name AS org_name, u.role, \
                     u.disabled, u.locked_until, (u.totp_secret IS NOT NULL) AS totp_enabled, \
                     u.must_change_password, u.created_at, u.last_login_at \
                     FROM users u LEFT JOIN orgs o ON o.id = u.org_id \
                     WHERE ($1 IS NULL OR u.org_id = $1) ORDER BY u.username",
                )
                .bind(org)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn set_totp(
                &self,
                user_id: uuid::Uuid,
                sealed_secret: Option<&str>,
                recovery_code_hashes: &[String],
                at: chrono::DateTime<chrono::Utc>,
                audit: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("UPDATE users SET totp_secret = $2, totp_last_step = NULL, updated_at = $3 WHERE id = $1")
                    .bind(user_id)
                    .bind(sealed_secret)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::store::StoreError::NotFound);
                }
                sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                for h in recovery_code_hashes {
                    sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                        .bind(user_id)
                        .bind(h)
                        .execute(&mut *tx)
                        .await?;
                }
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn use_recovery_code(&self, user_id: uuid::Uuid, code_hash: &str, at: chrono::DateTime<chrono::Utc>) -> $crate::store::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
                )
                .bind(user_id)
                .bind(code_hash)
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn recovery_codes_left(&self, user_id: uuid::Uuid) -> $crate::store::StoreResult<i64> {
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
                    .bind(user_id)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n)
            }

            async fn create_session(&self, s: &$crate::store::Session) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO sessions (id_hash, user_id, stage, csrf_token, pending_totp, created_at, last_seen_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&s.id_hash)
                .bind(s.user_id)
                .bind(s.stage.code())
                .bind(&s.csrf_token)
                .bind(&s.pending_totp)
                .bind(s.created_at)
                .bind(s.last_seen_at)
                .bind(s.expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn session(&self, id_hash: &str) -> $crate::store::StoreResult<$crate::store::Session> {
                Ok(sqlx::query_as(
                    "SELECT id_hash, user_id, stage, csrf_token, pending_totp, created_at, last_seen_at, expires_at \
                     FROM sessions WHERE id_hash = $1",
                )
                .bind(id_hash)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn update_session(&self, s: &$crate::store::Session) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE sessions SET stage = $2, csrf_token = $3, pending_totp = $4, last_seen_at = $5, expires_at = $6 \
                     WHERE id_hash = $1",
                )
                .bind(&s.id_hash)
                .bind(s.stage.code())
                .bind(&s.csrf_token)
                .bind(&s.pending_totp)
                .bind(s.last_seen_at)
                .bind(s.expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn delete_session(&self, id_hash: &str) -> $crate::store::StoreResult<()> {
                sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(&self.pool).await?;
                Ok(())
            }

            async fn delete_user_sessions(&self, user_id: uuid::Uuid) -> $crate::store::StoreResult<u64> {
                Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&self.pool)
                    .await?
                    .rows_affected())
            }

            async fn purge_sessions(&self, now: chrono::DateTime<chrono::Utc>, idle_cutoff: chrono::DateTime<chrono::Utc>) -> $crate::store::StoreResult<u64> {
                Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2")
                    .bind(now)
                    .bind(idle_cutoff)
                    .execute(&self.pool)
                    .await?
                    .rows_affected())
            }

            async fn create_token(&self, t: &$crate::store::ApiToken, audit: &$crate::audit::AuditEvent) -> $crate::store::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, created_at, expires_at, last_used_at, revoked_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(t.id)
                .bind(t.user_id)
                .bind(&t.name)
                .bind(&t.prefix)
                .bind(&t.token_hash)
                .bind(t.created_at)
                .bind(t.expires_at)
                .bind(t.last_used_at)
                .bind(t.revoked_at)
                .execute(&mut *tx)
                .await?;
                Self::append_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn token_by_hash(&self, token_hash: &str) -> $crate::store::StoreResult<$crate::store::ApiToken> {
                Ok(sqlx::query_as(&format!("SELECT {} FROM api_tokens t WHERE t.token_hash = $1", $crate::store::sql::TOKEN_COLS))
                    .bind(token_hash)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn token(&self, id: uuid::Uuid) -> $crate::store::StoreResult<$crate::store::TokenSummary> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {}, u.username, u.org_id FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1",
                    $crate::store::sql::TOKEN_COLS
                ))
                .bind(id)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn tokens(&self, scope: $crate::store::TokenScope) -> $crate::store::StoreResult<Vec<$crate::store::TokenSummary>> {
                let (user, org) = match scope {
                    $crate::store::TokenScope::User(u) => (Some(u), None),
                    $crate::store::TokenScope::Org(o) => (None, Some(o)),
                    $crate::store::TokenScope::All => (None, None),
                };
                Ok(sqlx::query_as(&format!(
                    "SELECT {}, u.username, u.org_id FROM api_tokens t JOIN users u ON u.id = t.user_id \
                     WHERE ($1 IS NULL OR t.user_id = $1) AND ($2 IS NULL OR u.org_id = $2) \
                     ORDER BY t.created_at DESC",
                    $crate::store::sql::TOKEN_COLS
                ))
                .bind(user)
                .bind(org)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn touch_token(&self, id: uuid::Uuid, at: chrono::DateTime<chrono::Utc>) -> $crate::store::StoreResult<()> {
                sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                    .bind(id)
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn revoke_token(&self, id: uuid::Uuid, at: chrono::DateTime<chrono::Utc>, audit: &$crate::audit::AuditEvent) -> $crate::store::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                    .bind(id)
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

            async fn append_audit(&self, event: &$crate::audit::AuditEvent) -> $crate::store::StoreResult<$crate::audit::AuditEntry> {
                let mut tx = self.begin_write().await?;
                let e = Self::append_in(&mut tx, event).await?;
                tx.commit().await?;
                Ok(e)
            }

            async fn audit_entries(
                &self,
                f: &$crate::audit::AuditFilter,
                limit: i64,
                offset: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::audit::AuditEntry>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {} FROM audit_log WHERE ($1 IS NULL OR actor = $1) \
                     AND ($2 IS NULL OR action LIKE $2 ESCAPE '\\') AND ($3 IS NULL OR outcome = $3) \
                     AND ($4 IS NULL OR at >= $4) AND ($5 IS NULL OR at < $5) \
                     ORDER BY seq DESC LIMIT $6 OFFSET $7",
                    $crate::store::sql::AUDIT_COLS
                ))
                .bind(&f.actor)
                .bind(f.action.as_deref().map($crate::store::sql::like_prefix))
                .bind(&f.outcome)
                .bind(f.from)
                .bind(f.to)
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn audit_chunk(&self, after: i64, limit: i64) -> $crate::store::StoreResult<Vec<$crate::audit::AuditEntry>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                    $crate::store::sql::AUDIT_COLS
                ))
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn audit_head(&self) -> $crate::store::StoreResult<Option<(i64, String)>> {
                Ok(sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn insert_checkpoint(&self, cp: &$crate::audit::Checkpoint) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO audit_checkpoints (seq, at, head_hash, key_id, public_key, signature) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (seq) DO NOTHING",
                )
                .bind(cp.seq)
                .bind(cp.at)
                .bind(&cp.head_hash)
                .bind(&cp.key_id)
                .bind(&cp.public_key)
                .bind(&cp.signature)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn checkpoints(&self) -> $crate::store::StoreResult<Vec<$crate::audit::Checkpoint>> {
                Ok(sqlx::query_as(
                    "SELECT seq, at, head_hash, key_id, public_key, signature FROM audit_checkpoints ORDER BY seq",
                )
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}

pub(super) use impl_store;
