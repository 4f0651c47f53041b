//! Data-key rotation's SQL, shared by both backends like `sql.rs`: finding the sealed values not
//! sealed by the current key, and re-sealing them in batches, each batch its own transaction,
//! each row changed only if it still holds the value that was read (compare-and-set), so a
//! concurrent edit is never overwritten. The backend supplies `begin_write`; the timeline's
//! append-only trigger is set aside inside the batch's transaction by the dialect module named in
//! `impl_key_store!` (see [`sqlite`], [`postgres`]).

use std::fmt;

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreResult;

/// How a key column is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Uuid,
    Text,
}

/// The `field` of a sealed value's [`FieldRef`](crate::crypto::FieldRef).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AadField {
    /// Always this name.
    Fixed(&'static str),
    /// The value of this column (drafts are bound to their kind).
    Column(&'static str),
}

/// A sealed column and what its values are bound to.
#[derive(Debug, Clone, Copy)]
pub struct SealedColumn {
    pub table: &'static str,
    pub column: &'static str,
    /// The primary key, matched by the compare-and-set.
    pub key: &'static str,
    pub key_kind: IdKind,
    /// The column whose value is the `row` of the value's `FieldRef`.
    pub aad_row: &'static str,
    pub aad_row_kind: IdKind,
    pub aad_field: AadField,
    /// The table has a `key_id` column naming the key of its sealed value.
    pub has_key_id: bool,
}

impl SealedColumn {
    /// `table.column`.
    pub fn name(&self) -> String {
        format!("{}.{}", self.table, self.column)
    }
}

const fn col(
    table: &'static str,
    column: &'static str,
    key: (&'static str, IdKind),
    aad_row: (&'static str, IdKind),
    aad_field: AadField,
    has_key_id: bool,
) -> SealedColumn {
    SealedColumn {
        table,
        column,
        key: key.0,
        key_kind: key.1,
        aad_row: aad_row.0,
        aad_row_kind: aad_row.1,
        aad_field,
        has_key_id,
    }
}

const ID: (&str, IdKind) = ("id", IdKind::Uuid);

/// Every sealed column of the schema, with the `FieldRef` its values are sealed for (as the
/// code that seals them writes it: `auth::routes`, `cases::seal`, `cases`). A new sealed column
/// must be added here, or rotation leaves it on its old key.
pub const SEALED_COLUMNS: &[SealedColumn] = &[
    col(
        "users",
        "totp_secret",
        ID,
        ID,
        AadField::Fixed("totp_secret"),
        false,
    ),
    col(
        "sessions",
        "pending_totp",
        ("id_hash", IdKind::Text),
        ("id_hash", IdKind::Text),
        AadField::Fixed("pending_totp"),
        false,
    ),
    col(
        "persons",
        "identity",
        ID,
        ID,
        AadField::Fixed("identity"),
        true,
    ),
    col(
        "cases",
        "narrative",
        ID,
        ID,
        AadField::Fixed("narrative"),
        true,
    ),
    col(
        "consents",
        "guardian_name",
        ID,
        ID,
        AadField::Fixed("guardian_name"),
        true,
    ),
    col("services", "notes", ID, ID, AadField::Fixed("notes"), true),
    col(
        "proceedings",
        "notes",
        ID,
        ID,
        AadField::Fixed("notes"),
        true,
    ),
    // Timeline bodies are bound to their case, not to their own row.
    col(
        "timeline",
        "body",
        ID,
        ("case_id", IdKind::Uuid),
        AadField::Fixed("body"),
        true,
    ),
    col(
        "legal_holds",
        "reason",
        ID,
        ID,
        AadField::Fixed("reason"),
        true,
    ),
    // Drafts are bound to their user and kind.
    col(
        "drafts",
        "form",
        ID,
        ("user_id", IdKind::Uuid),
        AadField::Column("kind"),
        true,
    ),
    col(
        "referrals",
        "payload",
        ID,
        ID,
        AadField::Fixed("payload"),
        true,
    ),
    col(
        "referrals",
        "override_reason",
        ID,
        ID,
        AadField::Fixed("override_reason"),
        true,
    ),
    col(
        "referral_events",
        "note",
        ID,
        ("referral_id", IdKind::Uuid),
        AadField::Fixed("note"),
        true,
    ),
];

/// A row's primary key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RowKey {
    Uuid(Uuid),
    Text(String),
}

impl fmt::Display for RowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowKey::Uuid(u) => u.fmt(f),
            RowKey::Text(t) => f.write_str(t),
        }
    }
}

/// One sealed value as stored, with what it is bound to.
#[derive(Debug, Clone)]
pub struct SealedValue {
    pub key: RowKey,
    /// The `row` and `field` of its `FieldRef`.
    pub row: String,
    pub field: String,
    pub value: String,
}

/// Replace `old` by `new` in the row `key`, if it still holds `old`.
#[derive(Debug, Clone)]
pub struct Reseal {
    pub key: RowKey,
    pub old: String,
    pub new: String,
}

#[async_trait]
pub trait KeyStore {
    /// Up to `limit` non-null values of `col` in rows after `after` (in key order) that are not
    /// sealed by `current` (no `current:` prefix), or whose `key_id` column is not `current`.
    async fn stale_sealed(
        &self,
        col: &SealedColumn,
        current: &str,
        after: Option<&RowKey>,
        limit: i64,
    ) -> StoreResult<Vec<SealedValue>>;

    /// In one transaction, for each change: the column set to `new` (and `key_id` to `key_id`
    /// where the table has one) in the row `key` if the column still holds `old`. Returns, for
    /// each change, whether it was made; the rows not changed were edited or removed meanwhile
    /// and are left as they are.
    async fn reseal(
        &self,
        col: &SealedColumn,
        key_id: &str,
        changes: &[Reseal],
    ) -> StoreResult<Vec<bool>>;
}

/// The SELECT of [`KeyStore::stale_sealed`] and how many parameters it takes (1: prefix
/// length, 2: prefix, then the current id if the table has `key_id`, then `after` if given,
/// then the limit).
pub(super) fn stale_sql(col: &SealedColumn, with_after: bool) -> String {
    let c = col.column;
    let mut n = 2;
    let mut next = || {
        n += 1;
        n
    };
    let field = match col.aad_field {
        AadField::Fixed(_) => String::new(),
        AadField::Column(f) => format!(", {f}"),
    };
    let mut sql = format!(
        "SELECT {key}, {row}{field}, {c} FROM {table} WHERE {c} IS NOT NULL AND (substr({c}, 1, $1) <> $2",
        key = col.key,
        row = col.aad_row,
        table = col.table,
    );
    if col.has_key_id {
        sql.push_str(&format!(" OR key_id <> ${}", next()));
    }
    sql.push(')');
    if with_after {
        sql.push_str(&format!(" AND {} > ${}", col.key, next()));
    }
    sql.push_str(&format!(" ORDER BY {} LIMIT ${}", col.key, next()));
    sql
}

/// The UPDATE of [`KeyStore::reseal`]: $1 new value, $2 key, $3 old value, $4 key id.
pub(super) fn reseal_sql(col: &SealedColumn) -> String {
    let c = col.column;
    let key_id = if col.has_key_id { ", key_id = $4" } else { "" };
    format!(
        "UPDATE {table} SET {c} = $1{key_id} WHERE {key} = $2 AND {c} = $3",
        table = col.table,
        key = col.key,
    )
}

/// The timeline is append-only (a trigger refuses `UPDATE`). Re-sealing a body under a new key
/// does not change what it says, so the batch that re-seals bodies sets the trigger aside and
/// puts it back *inside its own transaction*: no other connection ever sees the table without
/// it, and a failed batch rolls both back.
pub mod sqlite {
    use sqlx::SqliteConnection;

    use crate::store::StoreResult;

    const TRIGGER: &str = "timeline_no_update";

    /// Drops the trigger (in the open transaction); returns its definition to put back.
    pub async fn unlock_timeline(conn: &mut SqliteConnection) -> StoreResult<Option<String>> {
        let def: Option<(String,)> =
            sqlx::query_as("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = $1")
                .bind(TRIGGER)
                .fetch_optional(&mut *conn)
                .await?;
        if def.is_some() {
            sqlx::query(&format!("DROP TRIGGER {TRIGGER}"))
                .execute(&mut *conn)
                .await?;
        }
        Ok(def.map(|d| d.0))
    }

    /// Re-creates the trigger exactly as it was defined.
    pub async fn relock_timeline(
        conn: &mut SqliteConnection,
        def: Option<String>,
    ) -> StoreResult<()> {
        if let Some(def) = def {
            sqlx::query(&def).execute(&mut *conn).await?;
        }
        Ok(())
    }
}

/// See [`sqlite`]. `ALTER TABLE … DISABLE TRIGGER` takes a SHARE ROW EXCLUSIVE lock until the
/// batch commits: reads of the timeline go on, appends wait for the (short) batch.
pub mod postgres {
    use sqlx::PgConnection;

    use crate::store::StoreResult;

    pub async fn unlock_timeline(conn: &mut PgConnection) -> StoreResult<Option<String>> {
        sqlx::query("ALTER TABLE timeline DISABLE TRIGGER timeline_no_change")
            .execute(&mut *conn)
            .await?;
        Ok(None)
    }

    pub async fn relock_timeline(conn: &mut PgConnection, _def: Option<String>) -> StoreResult<()> {
        sqlx::query("ALTER TABLE timeline ENABLE TRIGGER timeline_no_change")
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

macro_rules! impl_key_store {
    ($store:ty, $db:ty, $dialect:ident) => {
        #[async_trait::async_trait]
        impl $crate::store::keys_sql::KeyStore for $store {
            async fn stale_sealed(
                &self,
                col: &$crate::store::keys_sql::SealedColumn,
                current: &str,
                after: Option<&$crate::store::keys_sql::RowKey>,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::keys_sql::SealedValue>> {
                use sqlx::Row as _;
                use $crate::store::keys_sql::{AadField, IdKind, RowKey};
                let sql = $crate::store::keys_sql::stale_sql(col, after.is_some());
                let prefix = format!("{current}:");
                let len = i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX);
                let mut q = sqlx::query(&sql).bind(len).bind(prefix);
                if col.has_key_id {
                    q = q.bind(current);
                }
                match after {
                    Some(RowKey::Uuid(u)) => q = q.bind(*u),
                    Some(RowKey::Text(t)) => q = q.bind(t.as_str()),
                    None => {}
                }
                let rows = q.bind(limit).fetch_all(&self.pool).await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let key = match col.key_kind {
                        IdKind::Uuid => RowKey::Uuid(r.try_get::<uuid::Uuid, _>(0)?),
                        IdKind::Text => RowKey::Text(r.try_get::<String, _>(0)?),
                    };
                    let row = match col.aad_row_kind {
                        IdKind::Uuid => r.try_get::<uuid::Uuid, _>(1)?.to_string(),
                        IdKind::Text => r.try_get::<String, _>(1)?,
                    };
                    let (field, value_at) = match col.aad_field {
                        AadField::Fixed(f) => (f.to_owned(), 2),
                        AadField::Column(_) => (r.try_get::<String, _>(2)?, 3),
                    };
                    out.push($crate::store::keys_sql::SealedValue {
                        key,
                        row,
                        field,
                        value: r.try_get::<String, _>(value_at)?,
                    });
                }
                Ok(out)
            }

            async fn reseal(
                &self,
                col: &$crate::store::keys_sql::SealedColumn,
                key_id: &str,
                changes: &[$crate::store::keys_sql::Reseal],
            ) -> $crate::store::StoreResult<Vec<bool>> {
                use $crate::store::keys_sql::RowKey;
                if changes.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = $crate::store::keys_sql::reseal_sql(col);
                let mut tx = self.begin_write().await?;
                let guard = if col.table == "timeline" {
                    Some($crate::store::keys_sql::$dialect::unlock_timeline(&mut *tx).await?)
                } else {
                    None
                };
                let mut changed = Vec::with_capacity(changes.len());
                for c in changes {
                    let mut q = sqlx::query(&sql).bind(c.new.as_str());
                    q = match &c.key {
                        RowKey::Uuid(u) => q.bind(*u),
                        RowKey::Text(t) => q.bind(t.as_str()),
                    };
                    q = q.bind(c.old.as_str());
                    if col.has_key_id {
                        q = q.bind(key_id);
                    }
                    changed.push(q.execute(&mut *tx).await?.rows_affected() > 0);
                }
                if let Some(def) = guard {
                    $crate::store::keys_sql::$dialect::relock_timeline(&mut *tx, def).await?;
                }
                tx.commit().await?;
                Ok(changed)
            }
        }
    };
}

pub(super) use impl_key_store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_number_their_parameters_in_order() {
        let persons = SEALED_COLUMNS
            .iter()
            .find(|c| c.table == "persons")
            .unwrap();
        assert_eq!(
            stale_sql(persons, true),
            "SELECT id, id, identity FROM persons WHERE identity IS NOT NULL AND \
             (substr(identity, 1, $1) <> $2 OR key_id <> $3) AND id > $4 ORDER BY id LIMIT $5"
        );
        let users = SEALED_COLUMNS.iter().find(|c| c.table == "users").unwrap();
        assert_eq!(
            stale_sql(users, false),
            "SELECT id, id, totp_secret FROM users WHERE totp_secret IS NOT NULL AND \
             (substr(totp_secret, 1, $1) <> $2) ORDER BY id LIMIT $3"
        );
        assert_eq!(
            reseal_sql(users),
            "UPDATE users SET totp_secret = $1 WHERE id = $2 AND totp_secret = $3"
        );
        let drafts = SEALED_COLUMNS.iter().find(|c| c.table == "drafts").unwrap();
        assert!(stale_sql(drafts, false).starts_with("SELECT id, user_id, kind, form FROM drafts"));
        assert_eq!(
            reseal_sql(drafts),
            "UPDATE drafts SET form = $1, key_id = $4 WHERE id = $2 AND form = $3"
        );
    }
}
