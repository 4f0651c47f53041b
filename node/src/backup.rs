//! `puente backup` and `puente restore`: one encrypted file holding everything a node needs
//! to come back on another machine — a consistent copy of its database, its configuration and
//! the key files the configuration names (data key, signing keys, TLS keys).
//!
//! # File format (version 1)
//! ```text
//! "PUENTE-BACKUP-v1" | u32 BE header length | header (JSON) | chunk*
//! chunk = u32 BE ciphertext length | XChaCha20-Poly1305(plaintext ≤ 1 MiB)
//! ```
//! - The key is Argon2id(passphrase, salt) (64 MiB, 3 passes); the salt and the parameters are
//!   in the header, which is bound to every chunk as associated data.
//! - The nonce of chunk *i* is the header's 16-byte random prefix ‖ *i* (u64 BE), with the top
//!   bit of *i* set on the last chunk: a truncated, reordered or extended file fails to open.
//! - The plaintext is a sequence of entries `u16 BE name length | name | u64 BE data length |
//!   data`: `config` (the node's `puente.toml`), `file:<name>` (each key and certificate file)
//!   and `database.sqlite` (`VACUUM INTO`, an online, consistent copy) or `database.pgdump`
//!   (`pg_dump --format=custom`, one consistent snapshot).
//!
//! The backup is written to `<output>.partial` and renamed only when complete and flushed: a
//! backup that fails midway leaves no file that looks complete. Nothing of the database or
//! the keys is ever written in the clear outside the node's own data directory (the database
//! copy is made in a private temporary directory and removed).
//!
//! A restore refuses a data directory that is not empty and a database that already holds a
//! node, unless forced; it writes the files with owner-only permissions, rewrites the
//! configuration's paths (and database URL) to the new place, restores the database, applies
//! any newer migrations and verifies the audit trail and the federation evidence log against
//! the node's own keys. Peers that received more than the backup holds are handled by the
//! federation itself: at its next delivery the node finds them ahead and starts a new epoch
//! (docs/protocol.md, "Streams").

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::config::Config;

const MAGIC: &[u8; 16] = b"PUENTE-BACKUP-v1";
const CHUNK: usize = 1 << 20;
const LAST: u64 = 1 << 63;
/// The shortest passphrase accepted.
pub const MIN_PASSPHRASE: usize = 12;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The clear header of a backup file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub v: u32,
    /// The node's country (or the hub's id).
    pub country: String,
    pub created_at: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    pub kdf: Kdf,
    /// Base64 of the 16-byte nonce prefix.
    pub nonce_prefix: String,
}

/// The key derivation's parameters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Kdf {
    /// Always `argon2id`.
    pub alg: String,
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
    /// Base64 of the 16-byte salt.
    pub salt: String,
}

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub entries: Vec<String>,
}

/// What a restore did and found.
#[derive(Debug, Clone)]
pub struct RestoreReport {
    pub config: PathBuf,
    pub country: String,
    pub created_at: String,
    pub audit_entries: i64,
    pub checkpoints: usize,
    pub evidence_entries: i64,
}

fn derive_key(passphrase: &str, kdf: &Kdf) -> anyhow::Result<Zeroizing<[u8; 32]>> {
    if kdf.alg != "argon2id" {
        bail!("unknown key derivation {:?}", kdf.alg);
    }
    let salt = B64.decode(&kdf.salt).context("bad salt")?;
    let params = argon2::Params::new(kdf.m_kib, kdf.t, kdf.p, Some(32))
        .map_err(|e| anyhow::anyhow!("key derivation parameters: {e}"))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), &salt, key.as_mut())
        .map_err(|e| anyhow::anyhow!("key derivation: {e}"))?;
    Ok(key)
}

fn nonce(prefix: &[u8; 16], i: u64, last: bool) -> XNonce {
    let mut n = [0u8; 24];
    n[..16].copy_from_slice(prefix);
    n[16..].copy_from_slice(&(if last { i | LAST } else { i }).to_be_bytes());
    XNonce::from(n)
}

/// Encrypts a stream into chunks.
struct SealWriter<W: Write> {
    inner: W,
    cipher: XChaCha20Poly1305,
    prefix: [u8; 16],
    aad: Vec<u8>,
    index: u64,
    buf: Zeroizing<Vec<u8>>,
    written: u64,
}

impl<W: Write> SealWriter<W> {
    fn seal(&mut self, last: bool) -> std::io::Result<()> {
        let ct = self
            .cipher
            .encrypt(
                &nonce(&self.prefix, self.index, last),
                Payload {
                    msg: &self.buf,
                    aad: &self.aad,
                },
            )
            .map_err(|_| std::io::Error::other("encryption failed"))?;
        let len = u32::try_from(ct.len()).map_err(std::io::Error::other)?;
        self.inner.write_all(&len.to_be_bytes())?;
        self.inner.write_all(&ct)?;
        self.written += 4 + ct.len() as u64;
        self.index += 1;
        self.buf.clear();
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<W> {
        self.seal(true)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for SealWriter<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = CHUNK - self.buf.len();
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.seal(false)?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Decrypts the chunks of a backup as one stream; fails on anything altered or missing.
struct OpenReader<R: Read> {
    inner: R,
    cipher: XChaCha20Poly1305,
    prefix: [u8; 16],
    aad: Vec<u8>,
    index: u64,
    buf: Zeroizing<Vec<u8>>,
    pos: usize,
    done: bool,
}

impl<R: Read> OpenReader<R> {
    fn next_chunk(&mut self) -> std::io::Result<()> {
        let bad =
            |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
        let mut len = [0u8; 4];
        match self.inner.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(bad("the backup is incomplete (cut short)"))
            }
            Err(e) => return Err(e),
        }
        let len = u32::from_be_bytes(len) as usize;
        if len > CHUNK + 16 {
            return Err(bad("the backup is damaged (a chunk is too long)"));
        }
        let mut ct = vec![0u8; len];
        self.inner
            .read_exact(&mut ct)
            .map_err(|_| bad("the backup is incomplete (cut short)"))?;
        for last in [false, true] {
            if let Ok(pt) = self.cipher.decrypt(
                &nonce(&self.prefix, self.index, last),
                Payload {
                    msg: &ct,
                    aad: &self.aad,
                },
            ) {
                self.buf = Zeroizing::new(pt);
                self.pos = 0;
                self.index += 1;
                if last {
                    self.done = true;
                    let mut extra = [0u8; 1];
                    if self.inner.read(&mut extra)? != 0 {
                        return Err(bad("the backup is damaged (data after its end)"));
                    }
                }
                return Ok(());
            }
        }
        Err(bad(if self.index == 0 {
            "cannot open the backup: wrong passphrase, or the file is damaged"
        } else {
            "the backup is damaged (a chunk does not authenticate)"
        }))
    }
}

impl<R: Read> Read for OpenReader<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.buf.len() {
            if self.done {
                return Ok(0);
            }
            self.next_chunk()?;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn write_entry(
    w: &mut impl Write,
    name: &str,
    len: u64,
    data: &mut impl Read,
) -> anyhow::Result<()> {
    let name_len = u16::try_from(name.len()).context("entry name too long")?;
    w.write_all(&name_len.to_be_bytes())?;
    w.write_all(name.as_bytes())?;
    w.write_all(&len.to_be_bytes())?;
    let copied = std::io::copy(&mut data.take(len), w)?;
    if copied != len {
        bail!("{name} changed while it was being backed up");
    }
    Ok(())
}

/// The files the configuration names: (entry name, path).
fn key_files(config: &Config) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut paths = vec![
        config.keys.data_key.clone(),
        config.keys.signing_key.clone(),
    ];
    paths.extend(config.keys.next_signing_key.clone());
    if let Some(t) = &config.tls {
        paths.extend([t.cert.clone(), t.key.clone()]);
    }
    if let Some(f) = &config.federation {
        paths.extend([f.tls_cert.clone(), f.tls_key.clone()]);
    }
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    for p in paths {
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| anyhow::anyhow!("bad key file path {}", p.display()))?
            .to_owned();
        if out.iter().any(|(n, q)| *n == name && *q != p) {
            bail!("two key files are both named {name}: give them distinct names");
        }
        if !out.iter().any(|(n, _)| *n == name) {
            out.push((name, p));
        }
    }
    Ok(out)
}

fn private_dir() -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix("puente-backup-")
        .tempdir()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700))?;
    }
    Ok(dir)
}

fn create_private(path: &Path) -> std::io::Result<File> {
    let mut o = fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

/// A consistent copy of the database in `dir`: (entry name, path).
async fn dump_database(config: &Config, dir: &Path) -> anyhow::Result<(&'static str, PathBuf)> {
    let url = config.database_url.expose();
    if url.starts_with("sqlite:") {
        let path = dir.join("database.sqlite");
        let pool = sqlx::SqlitePool::connect(url).await?;
        sqlx::query("VACUUM INTO $1")
            .bind(path.to_string_lossy().into_owned())
            .execute(&pool)
            .await
            .context("copying the SQLite database (VACUUM INTO)")?;
        pool.close().await;
        Ok(("database.sqlite", path))
    } else {
        let path = dir.join("database.pgdump");
        let out = tokio::process::Command::new("pg_dump")
            .arg("--format=custom")
            .arg("--no-owner")
            .arg("--file")
            .arg(&path)
            .arg("--dbname")
            .arg(url)
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .context("running pg_dump (install the PostgreSQL client tools)")?;
        if !out.status.success() {
            bail!(
                "pg_dump failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(("database.pgdump", path))
    }
}

/// Writes an encrypted backup of the node of `config_path` to `output`.
pub async fn backup(
    config_path: &Path,
    config: &Config,
    output: &Path,
    passphrase: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<BackupReport> {
    if passphrase.chars().count() < MIN_PASSPHRASE {
        bail!("the backup passphrase must have at least {MIN_PASSPHRASE} characters");
    }
    if output.exists() {
        bail!("{} exists: choose a new file name", output.display());
    }
    let partial = PathBuf::from(format!("{}.partial", output.display()));
    let result = write_backup(config_path, config, &partial, passphrase, now).await;
    match result {
        Ok(entries) => {
            fs::rename(&partial, output)
                .with_context(|| format!("renaming to {}", output.display()))?;
            let bytes = fs::metadata(output)?.len();
            Ok(BackupReport {
                path: output.to_owned(),
                bytes,
                entries,
            })
        }
        Err(e) => {
            let _ = fs::remove_file(&partial);
            Err(e)
        }
    }
}

async fn write_backup(
    config_path: &Path,
    config: &Config,
    partial: &Path,
    passphrase: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Vec<String>> {
    let mut salt = [0u8; 16];
    let mut prefix = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    rand::rngs::OsRng.fill_bytes(&mut prefix);
    let header = Header {
        v: 1,
        country: config.country.as_str().to_owned(),
        created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        database: if config.database_url.expose().starts_with("sqlite:") {
            "sqlite".into()
        } else {
            "postgres".into()
        },
        kdf: Kdf {
            alg: "argon2id".into(),
            m_kib: 65_536,
            t: 3,
            p: 1,
            salt: B64.encode(salt),
        },
        nonce_prefix: B64.encode(prefix),
    };
    let key = derive_key(passphrase, &header.kdf)?;
    let header_bytes = serde_json::to_vec(&header)?;
    let mut aad = MAGIC.to_vec();
    aad.extend_from_slice(&header_bytes);

    let tmp = private_dir()?;
    let (db_name, db_path) = dump_database(config, tmp.path()).await?;

    let file =
        create_private(partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let mut out = BufWriter::new(file);
    out.write_all(MAGIC)?;
    out.write_all(&u32::try_from(header_bytes.len())?.to_be_bytes())?;
    out.write_all(&header_bytes)?;
    let mut w = SealWriter {
        inner: out,
        cipher: XChaCha20Poly1305::new(key.as_ref().into()),
        prefix,
        aad,
        index: 0,
        buf: Zeroizing::new(Vec::with_capacity(CHUNK)),
        written: 0,
    };
    let mut entries = Vec::new();
    let config_text = Zeroizing::new(
        fs::read(config_path).with_context(|| format!("reading {}", config_path.display()))?,
    );
    write_entry(
        &mut w,
        "config",
        config_text.len() as u64,
        &mut &config_text[..],
    )?;
    entries.push("config".to_owned());
    for (name, path) in key_files(config)? {
        let mut f = File::open(&path).with_context(|| format!("reading {}", path.display()))?;
        let len = f.metadata()?.len();
        let entry = format!("file:{name}");
        write_entry(&mut w, &entry, len, &mut f)?;
        entries.push(entry);
    }
    let mut f = File::open(&db_path)?;
    let len = f.metadata()?.len();
    write_entry(&mut w, db_name, len, &mut f)?;
    entries.push(db_name.to_owned());
    let out = w.finish()?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(entries)
}

/// Where and how to restore.
#[derive(Debug, Clone)]
pub struct RestoreOptions {
    pub input: PathBuf,
    /// The new data directory (empty or missing, unless forced).
    pub data_dir: PathBuf,
    /// A PostgreSQL URL for a PostgreSQL backup (an empty database, unless forced); a SQLite
    /// backup goes to `puente.db` in the data directory unless a URL is given.
    pub database_url: Option<String>,
    pub force: bool,
}

fn read_header(r: &mut impl Read) -> anyhow::Result<(Header, Vec<u8>)> {
    let mut magic = [0u8; 16];
    r.read_exact(&mut magic)
        .context("not a Puente backup (too short)")?;
    if &magic != MAGIC {
        bail!("not a Puente backup (or of a version this program does not read)");
    }
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len) as usize;
    if len > 64 * 1024 {
        bail!("not a Puente backup (header too long)");
    }
    let mut bytes = vec![0u8; len];
    r.read_exact(&mut bytes)?;
    let header: Header = serde_json::from_slice(&bytes).context("bad backup header")?;
    if header.v != 1 {
        bail!("backup format {} is not supported", header.v);
    }
    Ok((header, bytes))
}

/// Reads the header of a backup (no passphrase needed: it holds nothing secret).
pub fn inspect(input: &Path) -> anyhow::Result<Header> {
    let mut f = BufReader::new(File::open(input)?);
    Ok(read_header(&mut f)?.0)
}

async fn database_is_empty(url: &str) -> anyhow::Result<bool> {
    let q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = '_sqlx_migrations'";
    let n: i64 = if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await?;
        let n = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_one(&pool)
        .await?;
        pool.close().await;
        n
    } else {
        let pool = sqlx::PgPool::connect(url).await?;
        let n = sqlx::query_scalar(q).fetch_one(&pool).await?;
        pool.close().await;
        n
    };
    Ok(n == 0)
}

/// Restores a backup into a new data directory and checks it.
pub async fn restore(opts: &RestoreOptions, passphrase: &str) -> anyhow::Result<RestoreReport> {
    let dir = &opts.data_dir;
    if dir.exists() && fs::read_dir(dir)?.next().is_some() && !opts.force {
        bail!(
            "{} is not empty: restore into a new directory, or use --force to overwrite",
            dir.display()
        );
    }
    fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    let mut f = BufReader::new(File::open(&opts.input)?);
    let (header, header_bytes) = read_header(&mut f)?;
    let target_url = match (header.database.as_str(), &opts.database_url) {
        (_, Some(u)) => u.clone(),
        ("sqlite", None) => format!("sqlite://{}", dir.join("puente.db").display()),
        _ => bail!("a PostgreSQL backup needs --database-url (an empty database)"),
    };
    if header.database == "postgres" && target_url.starts_with("sqlite:") {
        bail!("a PostgreSQL backup restores into PostgreSQL");
    }
    if header.database == "sqlite" && !target_url.starts_with("sqlite:") {
        bail!("a SQLite backup restores into SQLite");
    }
    let sqlite_file = target_url
        .strip_prefix("sqlite://")
        .map(|p| PathBuf::from(p.split('?').next().unwrap_or(p)));
    let exists = match &sqlite_file {
        Some(p) => p.exists(),
        None => !database_is_empty(&target_url).await?,
    };
    if exists && !opts.force {
        bail!("the target database already holds a node: use an empty one, or --force");
    }
    let key = derive_key(passphrase, &header.kdf)?;
    let prefix: [u8; 16] = B64
        .decode(&header.nonce_prefix)?
        .try_into()
        .map_err(|_| anyhow::anyhow!("bad nonce prefix"))?;
    let mut aad = MAGIC.to_vec();
    aad.extend_from_slice(&header_bytes);
    let mut r = OpenReader {
        inner: f,
        cipher: XChaCha20Poly1305::new(key.as_ref().into()),
        prefix,
        aad,
        index: 0,
        buf: Zeroizing::new(Vec::new()),
        pos: 0,
        done: false,
    };

    // Everything is decrypted and checked (to the last chunk) into a private directory before
    // anything is written to the node's place.
    let tmp = private_dir()?;
    let mut config_text = None;
    let mut files = Vec::new();
    let mut db = None;
    loop {
        let mut len = [0u8; 2];
        match r.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && r.done => break,
            Err(e) => return Err(e.into()),
        }
        let mut name = vec![0u8; u16::from_be_bytes(len) as usize];
        r.read_exact(&mut name)?;
        let name = String::from_utf8(name).context("bad entry name")?;
        let mut size = [0u8; 8];
        r.read_exact(&mut size)?;
        let size = u64::from_be_bytes(size);
        let safe = name
            .strip_prefix("file:")
            .is_none_or(|n| !n.is_empty() && !n.contains(['/', '\\']) && n != "." && n != "..");
        if !safe {
            bail!("the backup names a file outside the data directory: {name:?}");
        }
        let path = tmp.path().join(name.replace(':', "_"));
        let mut out = create_private(&path)?;
        let copied = std::io::copy(&mut (&mut r).take(size), &mut out)?;
        if copied != size {
            bail!("the backup is incomplete ({name} cut short)");
        }
        out.sync_all()?;
        match name.as_str() {
            "config" => config_text = Some(path),
            "database.sqlite" | "database.pgdump" => db = Some((name, path)),
            n => files.push((n.trim_start_matches("file:").to_owned(), path)),
        }
    }
    let config_tmp =
        config_text.ok_or_else(|| anyhow::anyhow!("the backup has no configuration"))?;
    let (db_name, db_path) = db.ok_or_else(|| anyhow::anyhow!("the backup has no database"))?;

    // The configuration, moved to the new place.
    let mut config = Config::load(&config_tmp).context("the backed-up configuration")?;
    let moved = |p: &Path| -> PathBuf {
        dir.join(
            p.file_name()
                .unwrap_or_else(|| std::ffi::OsStr::new("file")),
        )
    };
    config.data_dir = dir.clone();
    config.database_url = crate::config::Secret::new(target_url.clone());
    config.keys.data_key = moved(&config.keys.data_key);
    config.keys.signing_key = moved(&config.keys.signing_key);
    config.keys.next_signing_key = config.keys.next_signing_key.as_deref().map(moved);
    if let Some(t) = config.tls.as_mut() {
        t.cert = moved(&t.cert);
        t.key = moved(&t.key);
    }
    if let Some(f) = config.federation.as_mut() {
        f.tls_cert = moved(&f.tls_cert);
        f.tls_key = moved(&f.tls_key);
    }
    for (name, path) in &files {
        let to = dir.join(name);
        if to.exists() {
            fs::remove_file(&to)?;
        }
        fs::copy(path, &to)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&to, fs::Permissions::from_mode(0o600))?;
        }
    }
    // The database.
    if db_name == "database.sqlite" {
        let to = sqlite_file.ok_or_else(|| anyhow::anyhow!("a SQLite target is needed"))?;
        for suffix in ["", "-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{suffix}", to.display()));
            if p.exists() {
                fs::remove_file(&p)?;
            }
        }
        fs::copy(&db_path, &to)?;
    } else {
        let mut cmd = tokio::process::Command::new("pg_restore");
        cmd.arg("--no-owner").arg("--exit-on-error");
        if opts.force {
            cmd.arg("--clean").arg("--if-exists");
        }
        let out = cmd
            .arg("--dbname")
            .arg(&target_url)
            .arg(&db_path)
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .context("running pg_restore (install the PostgreSQL client tools)")?;
        if !out.status.success() {
            bail!(
                "pg_restore failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
    let config_path = dir.join("puente.toml");
    fs::write(&config_path, config.to_toml())?;

    // Checks: newer migrations, the audit trail and the evidence log against the node's keys.
    let store = crate::store::connect_config(&config).await?;
    store.migrate().await?;
    let (_, identity) = crate::init::load_keys(&config).context("the restored keys do not load")?;
    let own =
        crate::federation::keys::own_public_keys(store.as_ref(), config.country, &identity).await?;
    let audit = crate::audit::verify_store(store.as_ref(), &own)
        .await?
        .map_err(|b| anyhow::anyhow!("the restored audit trail is broken: {b}"))?;
    let evidence = crate::federation::evidence::verify(store.as_ref(), config.country, &own)
        .await?
        .map_err(|b| anyhow::anyhow!("the restored evidence log is broken: {b}"))?;
    store.close().await;
    Ok(RestoreReport {
        config: config_path,
        country: header.country,
        created_at: header.created_at,
        audit_entries: audit.entries,
        checkpoints: audit.checkpoints,
        evidence_entries: evidence.entries,
    })
}
