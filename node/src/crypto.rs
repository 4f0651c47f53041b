//! The node data key and what is derived from it.
//!
//! Identifying fields (and second-factor secrets) are sealed with XChaCha20-Poly1305 under the
//! data key; the associated data binds each ciphertext to its table, row and field, so a sealed
//! value copied into another row or column no longer opens. Sub-keys for other purposes (CSRF
//! tokens, blind indexes) are derived with HMAC-SHA-256 under distinct labels, so the data key
//! itself is used for one thing only.

use std::fmt;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

/// A 256-bit key. `Debug` never shows it; memory is zeroised on drop.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey([redacted])")
    }
}

/// Failures of the data key and sealed values. None carries the value itself.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("data key file {0} could not be read")]
    Unreadable(String),
    #[error("data key file {0} does not hold a base64 256-bit key")]
    Malformed(String),
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

impl DataKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(k.as_mut());
        DataKey(k)
    }

    /// The key file's content: base64 and a newline.
    pub fn to_file_contents(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("{}\n", B64.encode(self.0.as_ref())))
    }

    pub fn from_file(path: &Path) -> Result<Self, CryptoError> {
        let name = path.display().to_string();
        let text = Zeroizing::new(
            std::fs::read_to_string(path).map_err(|_| CryptoError::Unreadable(name.clone()))?,
        );
        let bytes = Zeroizing::new(
            B64.decode(text.trim())
                .map_err(|_| CryptoError::Malformed(name.clone()))?,
        );
        let arr: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Malformed(name))?;
        Ok(DataKey(Zeroizing::new(arr)))
    }

    /// Seals `plaintext` for `at`; the result is base64 of nonce ‖ ciphertext.
    pub fn seal(&self, at: FieldRef<'_>, plaintext: &[u8]) -> String {
        let cipher = XChaCha20Poly1305::new(self.0.as_ref().into());
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
        B64.encode(out)
    }

    /// Opens a value sealed by [`DataKey::seal`] for the same `at`.
    pub fn open(&self, at: FieldRef<'_>, sealed: &str) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let raw = B64.decode(sealed).map_err(|_| CryptoError::Open)?;
        if raw.len() < 24 {
            return Err(CryptoError::Open);
        }
        let (nonce, ct) = raw.split_at(24);
        let cipher = XChaCha20Poly1305::new(self.0.as_ref().into());
        let aad = at.aad();
        cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Open)
    }

    /// A sub-key for `label`, independent of the data key and of other labels.
    pub fn derive(&self, label: &str) -> Zeroizing<[u8; 32]> {
        let mut mac = hmac_sha256(self.0.as_ref());
        mac.update(b"puente/1 subkey\n");
        mac.update(label.as_bytes());
        Zeroizing::new(mac.finalize().into_bytes().into())
    }
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

    #[test]
    fn sealed_value_opens_only_at_its_own_place_and_key() {
        let key = DataKey::generate();
        let sealed = key.seal(AT, b"secret");
        assert_eq!(key.open(AT, &sealed).unwrap().as_slice(), b"secret");
        let moved = FieldRef { row: "r2", ..AT };
        assert!(key.open(moved, &sealed).is_err());
        assert!(DataKey::generate().open(AT, &sealed).is_err());
        assert!(!sealed.contains("secret"));
    }

    #[test]
    fn key_file_round_trip_and_debug_redaction() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let key = DataKey::generate();
        std::fs::write(&path, key.to_file_contents().as_bytes()).unwrap();
        let back = DataKey::from_file(&path).unwrap();
        assert_eq!(back.derive("x"), key.derive("x"));
        assert_ne!(key.derive("x"), key.derive("y"));
        assert_eq!(format!("{key:?}"), "DataKey([redacted])");
        std::fs::write(&path, "c2hvcnQ=\n").unwrap();
        assert!(matches!(
            DataKey::from_file(&path),
            Err(CryptoError::Malformed(_))
        ));
    }
}
