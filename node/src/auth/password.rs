//! Passwords: argon2id hashes (OWASP parameters) and the node's password policy.

use std::sync::OnceLock;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rand::Rng;

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

/// Passwords people pick first; refused whatever their length.
const COMMON: [&str; 16] = [
    "contraseña123",
    "contrasena123",
    "password1234",
    "123456789012",
    "qwertyuiopas",
    "guatemala2026",
    "honduras2026",
    "elsalvador2026",
    "mexico2026",
    "puentepuente",
    "administrador",
    "bienvenido123",
    "passwordpassword",
    "1234567890123",
    "iloveyou1234",
    "cambiarcontrasena",
];

/// Why a new password is refused; the code is translated as `msg-field-<code>`.
pub fn check_policy(password: &str, username: &str) -> Result<(), &'static str> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err("password_too_short");
    }
    if n > MAX_LEN {
        return Err("too_long");
    }
    let lower = password.to_lowercase();
    if !username.is_empty() && lower.contains(&username.to_lowercase()) {
        return Err("password_contains_username");
    }
    let distinct: std::collections::HashSet<char> = password.chars().collect();
    if distinct.len() < 5 || COMMON.contains(&lower.as_str()) {
        return Err("password_too_common");
    }
    Ok(())
}

/// An argon2id PHC string. CPU-heavy: call from `spawn_blocking`.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` matches `phc`. CPU-heavy: call from `spawn_blocking`.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so that the answer takes as long
/// as for a real user and does not reveal which usernames exist.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash("not-a-real-password-0123456789").unwrap_or_default())
}

/// A temporary password to hand over to a new user, who must change it at first log-in:
/// four groups of four characters without look-alikes (0/O, 1/l/I).
pub fn temporary() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..4)
        .map(|_| {
            (0..4)
                .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_refuses_short_long_username_and_common() {
        assert_eq!(check_policy("short", "ana"), Err("password_too_short"));
        assert_eq!(check_policy(&"x1".repeat(65), "ana"), Err("too_long"));
        assert_eq!(
            check_policy("mi-Ana-es-segura", "ana"),
            Err("password_contains_username")
        );
        assert_eq!(
            check_policy("aaaaaaaaaaaaaaa", "bob"),
            Err("password_too_common")
        );
        assert_eq!(
            check_policy("Guatemala2026", "bob"),
            Err("password_too_common")
        );
        assert_eq!(check_policy("correcto caballo batería", "bob"), Ok(()));
    }

    #[test]
    fn hash_verifies_only_the_same_password() {
        let h = hash("correcto caballo batería").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correcto caballo batería", &h));
        assert!(!verify("correcto caballo bateria", &h));
        assert!(!verify("x", "not a phc string"));
    }

    #[test]
    fn temporary_passwords_pass_the_policy() {
        let t = temporary();
        assert_eq!(t.len(), 19);
        assert_eq!(check_policy(&t, "someone"), Ok(()));
        assert_ne!(t, temporary());
    }
}
