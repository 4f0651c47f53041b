//! Data-key rotation (`puente keys rotate-data-key`), without downtime.
//!
//! 1. A new key is appended to the data key file under the next id (`k2`, `k3`, …): the file is
//!    written whole to a temporary file (0600, fsync) and renamed over the old one, so a reader
//!    sees the old file or the new one, never half of one. Every old key stays: values not yet
//!    re-sealed, and every backup, need them.
//! 2. A grace period (default 10 s) lets running nodes notice: before sealing, a node checks the
//!    file's modification time at most every [`RELOAD_CHECK_SECS`](crate::crypto::RELOAD_CHECK_SECS)
//!    seconds, and a node that meets a value sealed by a key it does not know re-reads the file
//!    at once. After the grace period new values are sealed with the new key.
//! 3. Every sealed value not sealed by the current key ([`SEALED_COLUMNS`]) is opened and
//!    sealed again, in batches of [`DEFAULT_BATCH`] rows, each batch its own short transaction:
//!    the node keeps serving throughout, and an interruption leaves some values on the old key
//!    and some on the new one — both open — which a re-run finishes. A row is changed only if it
//!    still holds the value that was read (compare-and-set), so an edit made meanwhile is never
//!    overwritten (it is sealed with a current key anyway, or taken by the next pass). Rows
//!    whose `key_id` column disagrees with their value are corrected too.
//! 4. Passes repeat until one finds nothing left to do.
//! 5. One audit entry `keys.rotate` records the new key's id and counts per column, never a key.
//!
//! The blind index and CSRF keys are derived from the ring's first key and do not change (see
//! [`DataKey::derive`]).

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;
use serde_json::json;
use zeroize::Zeroizing;

use crate::audit::{AuditEvent, Outcome};
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::{self, DataKey, FieldRef};
use crate::store::keys_sql::{Reseal, RowKey, SealedColumn, SEALED_COLUMNS};
use crate::store::{SharedStore, Store};

/// How long rotation waits after adding a key before re-sealing, by default.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);
/// Rows per re-sealing transaction, by default.
pub const DEFAULT_BATCH: i64 = 500;
/// Passes over every column at most, by default.
pub const DEFAULT_MAX_PASSES: u32 = 10;

/// How to rotate.
#[derive(Debug, Clone)]
pub struct RotateOptions {
    /// Who rotates, for the audit trail: `cli:<os user>`.
    pub actor: String,
    /// Wait after adding the key, so running nodes reload the key file before re-sealing
    /// starts. At least [`crate::crypto::RELOAD_CHECK_SECS`] plus the time to copy the file to
    /// replicas that do not share it.
    pub grace: Duration,
    /// Rows per transaction.
    pub batch_size: i64,
    /// Add a new key first (`false`: only finish re-sealing under the current key, e.g. after
    /// an interrupted rotation, or after the key file was copied to the replicas by hand).
    pub add_key: bool,
    /// Passes over every column at most before giving up on values that keep changing.
    pub max_passes: u32,
}

impl RotateOptions {
    pub fn new(actor: impl Into<String>) -> Self {
        RotateOptions {
            actor: actor.into(),
            grace: DEFAULT_GRACE,
            batch_size: DEFAULT_BATCH,
            add_key: true,
            max_passes: DEFAULT_MAX_PASSES,
        }
    }
}

/// What happened to one sealed column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ColumnCount {
    /// Values opened and sealed again under the current key.
    pub resealed: u64,
    /// Values already sealed by the current key whose row's `key_id` was corrected.
    pub relabelled: u64,
    /// Rows edited or removed between reading and re-sealing (left alone; the next pass looks
    /// again).
    pub conflicts: u64,
    /// Values that do not open (unknown key, altered): left as they are.
    pub unreadable: u64,
}

/// What a rotation did.
#[derive(Debug, Clone, Serialize)]
pub struct RotationReport {
    /// The current key: the one everything is now sealed with.
    pub key_id: String,
    /// Whether this run added that key (false with `add_key: false`).
    pub key_added: bool,
    /// Every key id in the file, oldest first.
    pub key_ids: Vec<String>,
    /// Counts per column (`table.column`).
    pub columns: BTreeMap<String, ColumnCount>,
    /// Values that did not open: `table.column row-id` (no value).
    pub unreadable: Vec<String>,
    /// Values still not on the current key after the last pass (written by a node that had not
    /// reloaded the key file yet, and changed again at every pass). A re-run finishes them.
    pub remaining: u64,
    pub passes: u32,
}

impl RotationReport {
    /// Every value is sealed by the current key.
    pub fn complete(&self) -> bool {
        self.unreadable.is_empty() && self.remaining == 0
    }

    /// Values re-sealed, all columns together.
    pub fn resealed(&self) -> u64 {
        self.columns.values().map(|c| c.resealed).sum()
    }
}

/// One batch of one column.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// Rows read.
    pub seen: usize,
    pub resealed: u64,
    pub relabelled: u64,
    pub conflicts: u64,
    pub unreadable: Vec<RowKey>,
    /// Where the next batch of this column starts; `None` when the column is done.
    pub next: Option<RowKey>,
}

/// Re-seals up to `limit` values of `col` after `after` that are not sealed by `ring`'s current
/// key, in one transaction. Interrupting a rotation between two batches leaves the database
/// consistent: every value opens, with the key it names.
pub async fn reseal_batch(
    store: &dyn Store,
    ring: &DataKey,
    col: &SealedColumn,
    after: Option<&RowKey>,
    limit: i64,
) -> anyhow::Result<Batch> {
    let current = ring.current_id();
    let rows = store
        .stale_sealed(col, &current, after, limit)
        .await
        .with_context(|| format!("cannot read {}", col.name()))?;
    let mut batch = Batch {
        seen: rows.len(),
        next: if i64::try_from(rows.len()).unwrap_or(i64::MAX) >= limit {
            rows.last().map(|r| r.key.clone())
        } else {
            None
        },
        ..Batch::default()
    };
    let mut changes = Vec::with_capacity(rows.len());
    let mut relabel = Vec::with_capacity(rows.len());
    for v in rows {
        if crypto::key_id_of(&v.value) == Some(current.as_str()) {
            // Sealed by the current key already; only the row's key_id is behind.
            relabel.push(true);
            changes.push(Reseal {
                key: v.key,
                old: v.value.clone(),
                new: v.value,
            });
            continue;
        }
        let at = FieldRef {
            table: col.table,
            row: &v.row,
            field: &v.field,
        };
        match ring.open(at, &v.value) {
            Ok(plain) => {
                let new = ring.seal(at, &plain);
                relabel.push(false);
                changes.push(Reseal {
                    key: v.key,
                    old: v.value,
                    new,
                });
            }
            Err(e) => {
                tracing::warn!(column = %col.name(), row = %v.key, error = %e, "sealed value not re-sealed");
                batch.unreadable.push(v.key);
            }
        }
    }
    let done = store
        .reseal(col, &current, &changes)
        .await
        .with_context(|| format!("cannot re-seal {}", col.name()))?;
    for (made, relabelled) in done.iter().zip(relabel) {
        match (made, relabelled) {
            (true, false) => batch.resealed += 1,
            (true, true) => batch.relabelled += 1,
            (false, _) => batch.conflicts += 1,
        }
    }
    Ok(batch)
}

/// What [`reseal_all`] did.
#[derive(Debug, Clone, Default)]
pub struct Resealed {
    pub columns: BTreeMap<String, ColumnCount>,
    pub unreadable: Vec<String>,
    pub remaining: u64,
    pub passes: u32,
}

/// Re-seals every sealed value not sealed by `ring`'s current key, batch by batch, pass after
/// pass until a pass finds nothing to do (or `max_passes`).
pub async fn reseal_all(
    store: &dyn Store,
    ring: &DataKey,
    batch_size: i64,
    max_passes: u32,
) -> anyhow::Result<Resealed> {
    let batch_size = batch_size.max(1);
    let mut out = Resealed::default();
    let mut unreadable: BTreeSet<(String, RowKey)> = BTreeSet::new();
    let mut settled = false;
    for pass in 1..=max_passes.max(1) {
        out.passes = pass;
        let mut progress = 0;
        for col in sealed_columns(store) {
            let name = col.name();
            let mut after: Option<RowKey> = None;
            loop {
                let b = reseal_batch(store, ring, col, after.as_ref(), batch_size).await?;
                let count = out.columns.entry(name.clone()).or_default();
                count.resealed += b.resealed;
                count.relabelled += b.relabelled;
                count.conflicts += b.conflicts;
                progress += b.resealed + b.relabelled + b.conflicts;
                for k in b.unreadable {
                    if unreadable.insert((name.clone(), k)) {
                        count.unreadable += 1;
                    }
                }
                match b.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        tracing::info!(pass, changed = progress, "data key rotation pass");
        if progress == 0 {
            settled = true;
            break;
        }
    }
    if !settled {
        out.remaining = count_stale(store, ring, batch_size, &unreadable).await?;
    }
    out.unreadable = unreadable
        .into_iter()
        .map(|(c, k)| format!("{c} {k}"))
        .collect();
    Ok(out)
}

/// Values not on the current key, the known unreadable ones aside.
async fn count_stale(
    store: &dyn Store,
    ring: &DataKey,
    batch_size: i64,
    unreadable: &BTreeSet<(String, RowKey)>,
) -> anyhow::Result<u64> {
    let current = ring.current_id();
    let mut n = 0;
    for col in sealed_columns(store) {
        let name = col.name();
        let mut after: Option<RowKey> = None;
        loop {
            let rows = store
                .stale_sealed(col, &current, after.as_ref(), batch_size)
                .await?;
            let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= batch_size;
            n += rows
                .iter()
                .filter(|r| !unreadable.contains(&(name.clone(), r.key.clone())))
                .count() as u64;
            match rows.into_iter().last() {
                Some(last) if full => after = Some(last.key),
                _ => break,
            }
        }
    }
    Ok(n)
}

/// Rotates the data key: adds a key (unless `opts.add_key` is off), waits `opts.grace`,
/// re-seals everything under it, and writes the `keys.rotate` audit entry. Only one rotation
/// runs at a time per key file (a lock file `<data key>.lock` next to it).
pub async fn rotate(
    config: &Config,
    store: &SharedStore,
    clock: &dyn Clock,
    opts: &RotateOptions,
) -> anyhow::Result<RotationReport> {
    let path = &config.keys.data_key;
    let _lock = KeyFileLock::acquire(path)?;
    let added = if opts.add_key {
        let id = append_key(path)?;
        tracing::info!(key_id = %id, "data key added");
        Some(id)
    } else {
        None
    };
    if added.is_some() && !opts.grace.is_zero() {
        tokio::time::sleep(opts.grace).await;
    }
    let ring = DataKey::from_file(path)?;
    let key_id = ring.current_id();
    let done = match reseal_all(store.as_ref(), &ring, opts.batch_size, opts.max_passes).await {
        Ok(done) => done,
        Err(e) => {
            // The key (if added) stays; say so in the trail, then report the error.
            let ev = event(clock, opts, &key_id, Outcome::Failure).detail(json!({
                "key_id": key_id,
                "key_added": added.is_some(),
                "error": e.to_string(),
            }));
            if let Err(audit_err) = store.append_audit(&ev).await {
                tracing::error!(error = %audit_err, "audit entry of the failed rotation not written");
            }
            return Err(e.context(format!(
                "re-sealing under data key {key_id} stopped; every value still opens, and running \
                 the rotation again (without adding a key) finishes it"
            )));
        }
    };
    let report = RotationReport {
        key_id: key_id.clone(),
        key_added: added.is_some(),
        key_ids: ring.key_ids(),
        columns: done.columns,
        unreadable: done.unreadable,
        remaining: done.remaining,
        passes: done.passes,
    };
    let outcome = if report.complete() {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    let ev = event(clock, opts, &key_id, outcome).detail(json!({
        "key_id": report.key_id,
        "key_added": report.key_added,
        "columns": report.columns,
        "unreadable": report.unreadable.len(),
        "remaining": report.remaining,
        "passes": report.passes,
    }));
    store
        .append_audit(&ev)
        .await
        .context("the rotation finished but its audit entry could not be written")?;
    Ok(report)
}

fn event(clock: &dyn Clock, opts: &RotateOptions, key_id: &str, outcome: Outcome) -> AuditEvent {
    AuditEvent {
        at: clock.now(),
        actor_id: None,
        actor: opts.actor.clone(),
        org_id: None,
        action: "keys.rotate".into(),
        target_kind: None,
        target_id: None,
        outcome,
        ip: None,
        request_id: None,
        detail: json!({}),
    }
    .target("data_key", key_id)
}

/// Appends a fresh key to the key file (see [`crypto::append_new_key`]) under the rotation
/// lock; returns its id. Rotation does this itself; on its own it is step 1 of a rotation.
pub fn add_key(path: &Path) -> anyhow::Result<String> {
    let _lock = KeyFileLock::acquire(path)?;
    append_key(path)
}

fn append_key(path: &Path) -> anyhow::Result<String> {
    let name = path.display().to_string();
    let text = Zeroizing::new(
        fs::read_to_string(path)
            .with_context(|| format!("cannot read the data key file {name}"))?,
    );
    let (new_text, id) = crypto::append_new_key(&text, &name)?;
    write_atomic(path, new_text.as_bytes())?;
    Ok(id)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Replaces `path` by `contents` atomically: a temporary file beside it (owner-only, synced),
/// renamed over it, and the directory synced.
fn write_atomic(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let tmp = sibling(path, ".tmp");
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = (|| -> std::io::Result<()> {
        let mut f = opts.open(&tmp)?;
        #[cfg(unix)]
        {
            // `mode` applies to new files only; a leftover temporary file is made private too.
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(contents)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written.with_context(|| format!("cannot write the data key file {}", path.display()))
}

/// `<data key>.lock`, created exclusively and removed on drop: one rotation at a time.
struct KeyFileLock(PathBuf);

impl KeyFileLock {
    fn acquire(key_path: &Path) -> anyhow::Result<Self> {
        let lock = sibling(key_path, ".lock");
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        match opts.open(&lock) {
            Ok(_) => Ok(KeyFileLock(lock)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => anyhow::bail!(
                "another data key rotation is running ({} exists); if none is, a previous one \
                 was killed: remove that file and run the rotation again",
                lock.display()
            ),
            Err(e) => {
                Err(e).with_context(|| format!("cannot create the lock file {}", lock.display()))
            }
        }
    }
}

impl Drop for KeyFileLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// The sealed columns this store's schema has: a hub's database has no case, referral or
/// directory table, only its users' and sessions' second-factor secrets.
fn sealed_columns(store: &dyn Store) -> impl Iterator<Item = &'static SealedColumn> {
    let hub = store.schema() == crate::store::Schema::Hub;
    SEALED_COLUMNS
        .iter()
        .filter(move |c| !hub || matches!(c.table, "users" | "sessions"))
}
