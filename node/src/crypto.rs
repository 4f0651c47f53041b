//! The node data key (a keyring) and what is derived from it.
//!
//! Identifying fields (and second-factor secrets) are sealed with XChaCha20-Poly1305 under the
//! data key; the associated data binds each ciphertext to its table, row and field, so a sealed
//! value copied into another row or column no longer opens. Sub-keys for other purposes (CSRF
//! tokens, blind indexes) are derived with HMAC-SHA-256 under distinct labels, so a data key
//! itself is used for one thing only.
//!
//! **Keyring.** The data key file holds one key per line, `<key-id> <base64 of 32 bytes>`
//! (blank lines and `#` comments are ignored). The *last* line is the current key: it seals
//! every new value. Older lines stay for as long as any value (or any backup) sealed by them
//! exists — in practice for ever; `puente keys rotate-data-key` only ever appends. A file with a
//! single bare base64 line (the format before rotation existed) is read as key `k1`.
//!
//! **Sealed values** name their key: `<key-id>:<base64 of nonce ‖ ciphertext>`. A value without
//! a `:` (base64 never contains one) was sealed before rotation existed, by `k1`.
//!
//! **Following the file.** A running node re-reads the file when it meets a value sealed by a key
//! it does not know (another replica rotated), and, once bound to the file with
//! [`DataKey::watch`], checks the file's modification time at most every
//! [`RELOAD_CHECK_SECS`] seconds before sealing, so new values move to a new key soon after a
//! rotation without a restart. A reload may only add keys: a file that drops or changes a key
//! the node holds is refused (and logged), and the node keeps the keys it has.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::clock::SharedClock;

/// The key id of values sealed without a prefix, and of a legacy single-line key file.
pub const LEGACY_KEY_ID: &str = "k1";

/// How often (at most) a node bound to its key file checks the file before sealing.
pub const RELOAD_CHECK_SECS: i64 = 5;

/// Failures of the data key and sealed values. None carries a key or a sealed value.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("data key file {0} could not be read")]
    Unreadable(String),
    #[error("data key file {0} holds no key")]
    Malformed(String),
    #[error(
        "data key file {file}, line {line}: {reason} (expected `<key-id> <base64 of 32 bytes>`)"
    )]
    BadLine {
        file: String,
        line: usize,
        reason: &'static str,
    },
    #[error(
        "data key file {0} no longer holds every key this node has loaded (keys may only be \
         appended); keeping the keys already loaded"
    )]
    KeysRemoved(String),
    #[error(
        "a sealed value names data key {0}, which is not in this node's data key file (copy \
         the current data key file to this node)"
    )]
    UnknownKey(String),
    #[error("a sealed value does not open with this key (altered, moved, or another key)")]
    Open,
}

/// Where a sealed value lives: table, row and field. Part of the associated data.
#[derive(Debug, Clone, Copy)]
pub struct FieldRef<'a> {
    pub table: &'a str,
    pub row: &'a str,
    pub field: &'a str,
}

impl FieldRef<'_> {
    fn aad(&self) -> Vec<u8> {
        format!(
            "puente/1 field\n{}\n{}\n{}",
            self.table, self.row, self.field
        )
        .into_bytes()
    }
}

/// A key id: 1 to 32 ASCII letters, digits, `-` or `.`. Never holds `:` (the separator of sealed
/// values), whitespace, or the `%`/`_` of SQL patterns.
pub fn valid_key_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// The id of the key that sealed `sealed`: its prefix, or `k1` for a value without one. `None`
/// when the prefix is not a valid key id.
pub fn key_id_of(sealed: &str) -> Option<&str> {
    match sealed.split_once(':') {
        Some((id, _)) => valid_key_id(id).then_some(id),
        None => Some(LEGACY_KEY_ID),
    }
}

/// The parsed key file: keys in file order.
struct Ring {
    keys: Vec<(String, Zeroizing<[u8; 32]>)>,
}

impl Ring {
    fn single(id: &str, key: Zeroizing<[u8; 32]>) -> Ring {
        Ring {
            keys: vec![(id.to_owned(), key)],
        }
    }

    fn parse(text: &str, file: &str) -> Result<Ring, CryptoError> {
        let bad = |line: usize, reason: &'static str| CryptoError::BadLine {
            file: file.to_owned(),
            line,
            reason,
        };
        let lines: Vec<(usize, &str)> = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
            .collect();
        // The format before rotation: one bare base64 key, which is `k1`.
        if let [(n, only)] = lines.as_slice() {
            if !only.contains(char::is_whitespace) {
                let key = decode_key(only).ok_or_else(|| bad(*n, "not base64 of 32 bytes"))?;
                return Ok(Ring::single(LEGACY_KEY_ID, key));
            }
        }
        let mut keys: Vec<(String, Zeroizing<[u8; 32]>)> = Vec::with_capacity(lines.len());
        for (n, l) in lines {
            let mut parts = l.split_whitespace();
            let (Some(id), Some(b64), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(bad(n, "not two fields"));
            };
            if !valid_key_id(id) {
                return Err(bad(
                    n,
                    "invalid key id (1 to 32 letters, digits, '-' or '.')",
                ));
            }
            if keys.iter().any(|(k, _)| k == id) {
                return Err(bad(n, "duplicate key id"));
            }
            let key = decode_key(b64).ok_or_else(|| bad(n, "not base64 of 32 bytes"))?;
            keys.push((id.to_owned(), key));
        }
        if keys.is_empty() {
            return Err(CryptoError::Malformed(file.to_owned()));
        }
        Ok(Ring { keys })
    }

    fn first(&self) -> &[u8; 32] {
        // A ring is never empty (parse and the constructors guarantee one key).
        match self.keys.first() {
            Some((_, k)) => k,
            None => unreachable!("a keyring holds at least one key"),
        }
    }

    fn current(&self) -> (&str, &[u8; 32]) {
        match self.keys.last() {
            Some((id, k)) => (id, k),
            None => unreachable!("a keyring holds at least one key"),
        }
    }

    fn get(&self, id: &str) -> Option<&[u8; 32]> {
        self.keys.iter().find(|(k, _)| k == id).map(|(_, k)| &**k)
    }

    /// Every key of `self` is in `newer` with the same bytes, and the first key is the same.
    fn is_extended_by(&self, newer: &Ring) -> bool {
        use subtle::ConstantTimeEq;
        let same = |a: &[u8; 32], b: &[u8; 32]| bool::from(a.ct_eq(b));
        same(self.first(), newer.first())
            && self
                .keys
                .iter()
                .all(|(id, k)| newer.get(id).is_some_and(|n| same(k, n)))
    }

    fn render(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::new());
        for (id, k) in &self.keys {
            out.push_str(id);
            out.push(' ');
            out.push_str(&Zeroizing::new(B64.encode(k.as_ref())));
            out.push('\n');
        }
        out
    }
}

fn decode_key(b64: &str) -> Option<Zeroizing<[u8; 32]>> {
    let bytes = Zeroizing::new(B64.decode(b64).ok()?);
    let arr: [u8; 32] = bytes.as_slice().try_into().ok()?;
    Some(Zeroizing::new(arr))
}

fn random_key() -> Zeroizing<[u8; 32]> {
    let mut k = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(k.as_mut());
    k
}

/// What identifies one version of the key file on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    modified: Option<std::time::SystemTime>,
    len: u64,
    #[cfg(unix)]
    inode: u64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    Some(Stamp {
        modified: m.modified().ok(),
        len: m.len(),
        #[cfg(unix)]
        inode: std::os::unix::fs::MetadataExt::ino(&m),
    })
}

/// The key file a ring follows.
struct Follow {
    path: PathBuf,
    /// Set by [`DataKey::watch`]: enables the throttled check before sealing.
    clock: Option<SharedClock>,
    last_check: Option<DateTime<Utc>>,
    /// The file version last loaded (or last refused, so a bad file is logged once).
    stamp: Option<Stamp>,
}

struct Inner {
    ring: RwLock<Arc<Ring>>,
    follow: Mutex<Option<Follow>>,
}

/// The node's data keys: a keyring that seals with its newest key and opens with whichever key
/// a value names. Cheap to clone (clones share the ring and follow the same file). `Debug`
/// never shows a key; key memory is zeroised on drop.
#[derive(Clone)]
pub struct DataKey(Arc<Inner>);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ring = self.ring();
        write!(
            f,
            "DataKey([redacted]; {} keys, current {})",
            ring.keys.len(),
            ring.current().0
        )
    }
}

fn read_ring(path: &Path) -> Result<Ring, CryptoError> {
    let name = path.display().to_string();
    let text = Zeroizing::new(
        std::fs::read_to_string(path).map_err(|_| CryptoError::Unreadable(name.clone()))?,
    );
    Ring::parse(&text, &name)
}

impl DataKey {
    fn from_ring(ring: Ring, follow: Option<Follow>) -> Self {
        DataKey(Arc::new(Inner {
            ring: RwLock::new(Arc::new(ring)),
            follow: Mutex::new(follow),
        }))
    }

    fn ring(&self) -> Arc<Ring> {
        match self.0.ring.read() {
            Ok(r) => Arc::clone(&r),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// A fresh ring of one key, `k1`, from the operating system's random source.
    pub fn generate() -> Self {
        Self::from_ring(Ring::single(LEGACY_KEY_ID, random_key()), None)
    }

    /// A ring from the text of a key file (`source` names it in errors). Follows no file.
    pub fn parse(text: &str, source: &str) -> Result<Self, CryptoError> {
        Ok(Self::from_ring(Ring::parse(text, source)?, None))
    }

    /// The key file's content: one `<key-id> <base64>` line per key, current last.
    pub fn to_file_contents(&self) -> Zeroizing<String> {
        self.ring().render()
    }

    /// Reads the key file. The ring remembers the file, and re-reads it when it meets a value
    /// sealed by a key it does not know.
    pub fn from_file(path: &Path) -> Result<Self, CryptoError> {
        let ring = read_ring(path)?;
        Ok(Self::from_ring(
            ring,
            Some(Follow {
                path: path.to_owned(),
                clock: None,
                last_check: None,
                stamp: stamp(path),
            }),
        ))
    }

    /// Binds the ring to its key file for a running node: before sealing, at most every
    /// [`RELOAD_CHECK_SECS`] seconds of `clock`, the file's modification time is checked and a
    /// changed file re-read, so a rotation done elsewhere is picked up without a restart.
    pub fn watch(&self, path: &Path, clock: SharedClock) {
        let mut follow = self.lock_follow();
        let stamp = match follow.as_ref() {
            Some(f) if f.path == path => f.stamp.clone(),
            _ => None,
        };
        *follow = Some(Follow {
            path: path.to_owned(),
            clock: Some(clock),
            last_check: None,
            stamp,
        });
    }

    fn lock_follow(&self) -> std::sync::MutexGuard<'_, Option<Follow>> {
        match self.0.follow.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Re-reads the followed file if it changed since it was last read (`force`: even if it
    /// looks unchanged). Returns whether the ring changed.
    fn reload(&self, follow: &mut Follow, force: bool) -> bool {
        let now_stamp = stamp(&follow.path);
        if !force && now_stamp.is_some() && now_stamp == follow.stamp {
            return false;
        }
        follow.stamp = now_stamp;
        let result = read_ring(&follow.path).and_then(|newer| {
            if self.ring().is_extended_by(&newer) {
                Ok(newer)
            } else {
                Err(CryptoError::KeysRemoved(follow.path.display().to_string()))
            }
        });
        match result {
            Ok(newer) => {
                let changed = newer.keys.len() != self.ring().keys.len();
                if changed {
                    tracing::info!(
                        current = newer.current().0,
                        keys = newer.keys.len(),
                        "data key file reloaded"
                    );
                }
                match self.0.ring.write() {
                    Ok(mut r) => *r = Arc::new(newer),
                    Err(poisoned) => *poisoned.into_inner() = Arc::new(newer),
                }
                changed
            }
            Err(e) => {
                tracing::warn!(error = %e, "data key file not reloaded");
                false
            }
        }
    }

    /// The throttled check before sealing (only once bound with [`DataKey::watch`]).
    fn refresh_before_seal(&self) {
        let mut guard = self.lock_follow();
        let Some(follow) = guard.as_mut() else {
            return;
        };
        let Some(clock) = &follow.clock else {
            return;
        };
        let now = clock.now();
        let due = match follow.last_check {
            None => true,
            // A clock that went back also triggers a check.
            Some(last) => now < last || (now - last).num_seconds() >= RELOAD_CHECK_SECS,
        };
        if due {
            follow.last_check = Some(now);
            self.reload(follow, false);
        }
    }

    /// The id of the key that seals new values (the last line of the key file).
    pub fn current_id(&self) -> String {
        self.ring().current().0.to_owned()
    }

    /// The ids of every key, in file order.
    pub fn key_ids(&self) -> Vec<String> {
        self.ring().keys.iter().map(|(id, _)| id.clone()).collect()
    }

    /// Seals `plaintext` for `at` with the current key; the result is `<key-id>:` and the
    /// base64 of nonce ‖ ciphertext.
    pub fn seal(&self, at: FieldRef<'_>, plaintext: &[u8]) -> String {
        self.refresh_before_seal();
        let ring = self.ring();
        let (id, key) = ring.current();
        let cipher = XChaCha20Poly1305::new(key.into());
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = at.aad();
        // Encryption with a valid key and nonce cannot fail for in-memory buffers.
        let ct = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{id}:{}", B64.encode(out))
    }

    /// Opens a value sealed by [`DataKey::seal`] for the same `at`, with the key it names
    /// (re-reading the key file once if that key is not known yet).
    pub fn open(&self, at: FieldRef<'_>, sealed: &str) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let id = key_id_of(sealed).ok_or(CryptoError::Open)?;
        let body = sealed.split_once(':').map_or(sealed, |(_, b)| b);
        let mut ring = self.ring();
        if ring.get(id).is_none() {
            if let Some(follow) = self.lock_follow().as_mut() {
                self.reload(follow, true);
            }
            ring = self.ring();
        }
        let key = ring
            .get(id)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_owned()))?;
        let raw = B64.decode(body).map_err(|_| CryptoError::Open)?;
        if raw.len() < 24 {
            return Err(CryptoError::Open);
        }
        let (nonce, ct) = raw.split_at(24);
        let cipher = XChaCha20Poly1305::new(key.into());
        let aad = at.aad();
        cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Open)
    }

    /// A sub-key for `label`, independent of the data keys and of other labels.
    ///
    /// Derived from the ring's **first** key, never from the current one, so sub-keys do not
    /// change on rotation: the blind index (`blind-index`) is a keyed hash stored next to every
    /// person, and a new index key would make every stored token unfindable until all persons
    /// were re-indexed (rotating the index key is a re-indexing job, out of the scope of
    /// data-key rotation); CSRF tokens of visitors without a session would fail too. The first
    /// key is the right root rather than a dedicated line because it is the key every existing
    /// node derived its sub-keys from (the single key of a legacy file becomes `k1`, line one)
    /// and rotation only appends; a dedicated line would have to hold that same key anyway.
    /// Hence the first line must never be removed or reordered (a reload that changes it is
    /// refused).
    pub fn derive(&self, label: &str) -> Zeroizing<[u8; 32]> {
        let ring = self.ring();
        let mut mac = hmac_sha256(ring.first());
        mac.update(b"puente/1 subkey\n");
        mac.update(label.as_bytes());
        Zeroizing::new(mac.finalize().into_bytes().into())
    }
}

/// The key file's text with a fresh key appended under the next free id (`k2`, `k3`, …), and
/// that id. A legacy single-line file is rewritten in the keyring format (its key as `k1`,
/// first); otherwise the text is kept as it is (comments included) and one line is added.
pub fn append_new_key(
    text: &str,
    source: &str,
) -> Result<(Zeroizing<String>, String), CryptoError> {
    let ring = Ring::parse(text, source)?;
    let highest = ring
        .keys
        .iter()
        .filter_map(|(id, _)| id.strip_prefix('k')?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    let mut n = highest + 1;
    while ring.get(&format!("k{n}")).is_some() {
        n += 1;
    }
    let id = format!("k{n}");
    let legacy = !text
        .lines()
        .map(str::trim)
        .any(|l| !l.is_empty() && !l.starts_with('#') && l.contains(char::is_whitespace));
    let mut out = if legacy {
        ring.render()
    } else {
        let mut t = Zeroizing::new(text.to_owned());
        if !t.is_empty() && !t.ends_with('\n') {
            t.push('\n');
        }
        t
    };
    let key = random_key();
    out.push_str(&id);
    out.push(' ');
    out.push_str(&Zeroizing::new(B64.encode(key.as_ref())));
    out.push('\n');
    // The result must read back as a ring whose current key is the new one.
    let back = Ring::parse(&out, source)?;
    if back.current().0 != id || !ring.is_extended_by(&back) {
        return Err(CryptoError::Malformed(source.to_owned()));
    }
    Ok((out, id))
}

fn hmac_sha256(key: &[u8]) -> Hmac<Sha256> {
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

/// HMAC-SHA-256 of `message` under `key`, hex encoded.
pub fn hmac_hex(key: &[u8; 32], message: &[u8]) -> String {
    let mut mac = hmac_sha256(key);
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// SHA-256, hex encoded (for stored hashes of high-entropy secrets: session ids, tokens,
/// recovery codes).
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(Sha256::digest(data))
}

/// `n` random bytes, base64url without padding: for session ids, tokens and CSRF values.
pub fn random_token(n: usize) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut buf = vec![0u8; n];
    OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Constant-time equality of two strings.
pub fn ct_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: FieldRef<'static> = FieldRef {
        table: "users",
        row: "r1",
        field: "totp_secret",
    };

    fn b64key(byte: u8) -> String {
        B64.encode([byte; 32])
    }

    /// A value sealed the way the node did before rotation: bare base64, no key id.
    fn legacy_seal(key: &[u8; 32], at: FieldRef<'_>, plaintext: &[u8]) -> String {
        let cipher = XChaCha20Poly1305::new(key.into());
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = at.aad();
        let ct = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .unwrap();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        B64.encode(out)
    }

    #[test]
    fn sealed_value_opens_only_at_its_own_place_and_key() {
        let key = DataKey::generate();
        let sealed = key.seal(AT, b"secret");
        assert!(sealed.starts_with("k1:"), "{sealed}");
        assert_eq!(key.open(AT, &sealed).unwrap().as_slice(), b"secret");
        let moved = FieldRef { row: "r2", ..AT };
        assert!(key.open(moved, &sealed).is_err());
        assert!(matches!(
            DataKey::generate().open(AT, &sealed),
            Err(CryptoError::Open)
        ));
        assert!(!sealed.contains("secret"));
    }

    #[test]
    fn key_file_round_trip_and_debug_redaction() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let key = DataKey::generate();
        std::fs::write(&path, key.to_file_contents().as_bytes()).unwrap();
        assert!(key.to_file_contents().starts_with("k1 "));
        let back = DataKey::from_file(&path).unwrap();
        assert_eq!(back.derive("x"), key.derive("x"));
        assert_ne!(key.derive("x"), key.derive("y"));
        let shown = format!("{key:?}");
        assert_eq!(shown, "DataKey([redacted]; 1 keys, current k1)");
        std::fs::write(&path, "c2hvcnQ=\n").unwrap();
        assert!(matches!(
            DataKey::from_file(&path),
            Err(CryptoError::BadLine { line: 1, .. })
        ));
        std::fs::write(&path, "\n# nothing\n").unwrap();
        assert!(matches!(
            DataKey::from_file(&path),
            Err(CryptoError::Malformed(_))
        ));
        assert!(matches!(
            DataKey::from_file(&dir.path().join("missing")),
            Err(CryptoError::Unreadable(_))
        ));
    }

    #[test]
    fn a_legacy_single_line_is_k1_and_unprefixed_values_open_with_k1() {
        let legacy = format!("{}\n", b64key(1));
        let ring = DataKey::parse(&legacy, "data.key").unwrap();
        assert_eq!(ring.key_ids(), ["k1"]);
        assert_eq!(ring.current_id(), "k1");
        let old = legacy_seal(&[1; 32], AT, b"old secret");
        assert!(!old.contains(':'));
        assert_eq!(ring.open(AT, &old).unwrap().as_slice(), b"old secret");

        // After a rotation the unprefixed value still opens with k1, new values name k2.
        let (text, id) = append_new_key(&legacy, "data.key").unwrap();
        assert_eq!(id, "k2");
        assert!(
            text.starts_with(&format!("k1 {}\nk2 ", b64key(1))),
            "legacy line rewritten as k1"
        );
        let rotated = DataKey::parse(&text, "data.key").unwrap();
        assert_eq!(rotated.key_ids(), ["k1", "k2"]);
        assert_eq!(rotated.open(AT, &old).unwrap().as_slice(), b"old secret");
        let new = rotated.seal(AT, b"new secret");
        assert!(new.starts_with("k2:"));
        assert_eq!(key_id_of(&new), Some("k2"));
        assert_eq!(key_id_of(&old), Some("k1"));
        // The ring before rotation does not know k2.
        assert!(matches!(ring.open(AT, &new), Err(CryptoError::UnknownKey(id)) if id == "k2"));
        // Sub-keys do not change on rotation.
        assert_eq!(rotated.derive("blind-index"), ring.derive("blind-index"));
        assert_eq!(rotated.derive("csrf"), ring.derive("csrf"));
    }

    #[test]
    fn the_last_line_is_current_and_any_line_opens() {
        let text = format!(
            "# node data keys\nk1 {}\n\nk2 {}\nspare-3 {}\n",
            b64key(1),
            b64key(2),
            b64key(3)
        );
        let ring = DataKey::parse(&text, "data.key").unwrap();
        assert_eq!(ring.key_ids(), ["k1", "k2", "spare-3"]);
        assert_eq!(ring.current_id(), "spare-3");
        let k2_only = DataKey::parse(&format!("k2 {}\n", b64key(2)), "x").unwrap();
        let by_k2 = k2_only.seal(AT, b"two");
        assert_eq!(ring.open(AT, &by_k2).unwrap().as_slice(), b"two");
        assert!(ring.seal(AT, b"three").starts_with("spare-3:"));
        // Sub-keys come from the first line.
        let k1_only = DataKey::parse(&format!("k1 {}\n", b64key(1)), "x").unwrap();
        assert_eq!(ring.derive("blind-index"), k1_only.derive("blind-index"));
        assert_ne!(k2_only.derive("blind-index"), k1_only.derive("blind-index"));
        // Comments are kept and the next id follows the highest k<n>.
        let (appended, id) = append_new_key(&text, "data.key").unwrap();
        assert_eq!(id, "k3");
        assert!(appended.starts_with(&text));
        assert_eq!(DataKey::parse(&appended, "x").unwrap().current_id(), "k3");
    }

    #[test]
    fn bad_lines_are_refused_with_their_line_number() {
        let good = format!("k1 {}", b64key(1));
        let cases: Vec<(String, usize)> = vec![
            (format!("{good}\nk2\n"), 2),
            (format!("{good}\nk2 {} extra\n", b64key(2)), 2),
            (format!("{good}\n\n# c\nk:2 {}\n", b64key(2)), 4),
            (format!("{good}\nk1 {}\n", b64key(2)), 2),
            (format!("{good}\nk2 c2hvcnQ=\n"), 2),
            (format!("{good}\nk2 not*base64\n"), 2),
            (format!("{good}\n{}\n", b64key(2)), 2),
            ("k1 c2hvcnQ=\n".to_owned(), 1),
        ];
        for (text, line) in cases {
            match DataKey::parse(&text, "data.key") {
                Err(CryptoError::BadLine {
                    line: l, ref file, ..
                }) => {
                    assert_eq!((l, file.as_str()), (line, "data.key"), "{text}");
                }
                other => panic!("{text:?} gave {other:?}"),
            }
        }
        let e = DataKey::parse(&format!("{good}\nk2\n"), "data.key").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("data.key, line 2"), "{msg}");
        assert!(!msg.contains(&b64key(1)), "no key in messages");
    }

    #[test]
    fn a_value_naming_an_unknown_or_invalid_key_does_not_open() {
        let ring = DataKey::generate();
        let sealed = ring.seal(AT, b"x");
        let body = sealed.split_once(':').unwrap().1;
        let err = ring.open(AT, &format!("k9:{body}")).unwrap_err();
        assert!(matches!(&err, CryptoError::UnknownKey(id) if id == "k9"));
        assert!(err.to_string().contains("data key k9"), "{err}");
        assert!(matches!(
            ring.open(AT, &format!("k 9:{body}")),
            Err(CryptoError::Open)
        ));
        assert!(matches!(
            ring.open(AT, &format!(":{body}")),
            Err(CryptoError::Open)
        ));
        assert!(matches!(ring.open(AT, "k1:"), Err(CryptoError::Open)));
    }

    #[test]
    fn a_watched_ring_picks_up_an_appended_key_and_refuses_a_removed_one() {
        use crate::clock::ManualClock;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.key");
        let first = DataKey::generate();
        let k1_text = first.to_file_contents().to_string();
        std::fs::write(&path, &k1_text).unwrap();
        let clock = ManualClock::new(chrono::DateTime::UNIX_EPOCH);
        let node = first.clone();
        node.watch(&path, Arc::new(clock.clone()));
        assert!(node.seal(AT, b"a").starts_with("k1:"));

        // Another process rotates: the node seals with k2 once the check is due.
        let (text, _) = append_new_key(&k1_text, "f").unwrap();
        std::fs::write(&path, text.as_bytes()).unwrap();
        assert!(
            node.seal(AT, b"b").starts_with("k1:"),
            "not checked again yet"
        );
        clock.advance(chrono::Duration::seconds(RELOAD_CHECK_SECS));
        let by_k2 = node.seal(AT, b"c");
        assert!(by_k2.starts_with("k2:"), "{by_k2}");

        // A ring that follows the file only (no clock) reloads when it meets k2.
        let reader = DataKey::from_file(&path).unwrap();
        std::fs::write(&path, &k1_text).unwrap();
        let stale = DataKey::from_file(&path).unwrap();
        std::fs::write(&path, text.as_bytes()).unwrap();
        assert_eq!(reader.open(AT, &by_k2).unwrap().as_slice(), b"c");
        assert_eq!(stale.current_id(), "k1");
        assert_eq!(stale.open(AT, &by_k2).unwrap().as_slice(), b"c");
        assert_eq!(stale.current_id(), "k2");

        // A file that lost a key is refused; the node keeps what it has.
        std::fs::write(&path, format!("k1 {}\n", b64key(7))).unwrap();
        clock.advance(chrono::Duration::seconds(RELOAD_CHECK_SECS));
        assert!(node.seal(AT, b"d").starts_with("k2:"));
        assert_eq!(node.key_ids(), ["k1", "k2"]);
        // Clones share the ring (the node's CSRF and Sealer use the same one).
        assert_eq!(first.current_id(), "k2");
    }
}
