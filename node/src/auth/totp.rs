//! The second factor: RFC 6238 TOTP (SHA-1, 6 digits, 30 s, one step of drift either way),
//! and single-use recovery codes.

use totp_rs::{Algorithm, Secret, TOTP};

use crate::crypto::{random_token, sha256_hex};

pub const RECOVERY_CODES: usize = 10;

/// A fresh base32 secret.
pub fn new_secret() -> String {
    Secret::generate_secret().to_encoded().to_string()
}

fn totp(secret_b32: &str, account: &str, issuer: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_owned()).to_bytes().ok()?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some(issuer.to_owned()),
        account.to_owned(),
    )
    .ok()
}

pub const STEP_SECONDS: u64 = 30;

/// The time step (of one step before, now, or one after `unix_time`) at which `code` is
/// valid for `secret_b32`, if any. The caller refuses a step it has already accepted.
pub fn matching_step(secret_b32: &str, code: &str, unix_time: u64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret_b32, "x", "Puente")?;
    let now = unix_time / STEP_SECONDS;
    [now.saturating_sub(1), now, now + 1]
        .into_iter()
        .find_map(|step| {
            let expected = t.generate(step * STEP_SECONDS);
            crate::crypto::ct_eq(&expected, &code).then(|| i64::try_from(step).unwrap_or(i64::MAX))
        })
}

/// Whether `code` is valid for `secret_b32` at `unix_time` (one step of drift either way).
pub fn check(secret_b32: &str, code: &str, unix_time: u64) -> bool {
    matching_step(secret_b32, code, unix_time).is_some()
}

/// The current code (tests and the demo's printed instructions).
pub fn code_at(secret_b32: &str, unix_time: u64) -> Option<String> {
    totp(secret_b32, "x", "Puente").map(|t| t.generate(unix_time))
}

/// The `otpauth://` URL an authenticator app scans, as an inline SVG QR code.
pub fn qr_svg(secret_b32: &str, account: &str, issuer: &str) -> Option<String> {
    let url = totp(secret_b32, account, issuer)?.get_url();
    let code = qrcode::QrCode::new(url.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

/// The secret in groups of four for typing by hand.
pub fn grouped(secret_b32: &str) -> String {
    secret_b32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// New recovery codes and their stored hashes.
pub fn recovery_codes() -> (Vec<String>, Vec<String>) {
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let t = random_token(8).to_lowercase().replace(['-', '_'], "x");
            format!("{}-{}", &t[..5], &t[5..10])
        })
        .collect();
    let hashes = codes.iter().map(|c| recovery_hash(c)).collect();
    (codes, hashes)
}

/// The stored hash of a recovery code, as typed (case, spaces and dashes ignored).
pub fn recovery_hash(code: &str) -> String {
    let norm: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    sha256_hex(format!("puente recovery\n{norm}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_checks_within_one_step_only() {
        let s = new_secret();
        let t = 1_790_000_000;
        let code = code_at(&s, t).unwrap();
        assert!(check(&s, &code, t));
        assert!(check(&s, &code, t + 30));
        assert!(!check(&s, &code, t + 90));
        assert!(!check(&s, "12345", t));
        assert!(!check(&s, "abcdef", t));
    }

    #[test]
    fn matching_step_names_the_step_of_the_code() {
        let s = new_secret();
        let t = 1_790_000_010;
        let code = code_at(&s, t).unwrap();
        assert_eq!(
            matching_step(&s, &code, t),
            Some(i64::try_from(t / 30).unwrap())
        );
        assert_eq!(
            matching_step(&s, &code, t + 30),
            Some(i64::try_from(t / 30).unwrap())
        );
    }

    #[test]
    fn recovery_codes_hash_normalised_and_distinct() {
        let (codes, hashes) = recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(
            recovery_hash(&codes[0].to_uppercase().replace('-', " ")),
            hashes[0]
        );
        let set: std::collections::HashSet<_> = hashes.iter().collect();
        assert_eq!(set.len(), RECOVERY_CODES);
    }

    #[test]
    fn qr_is_svg() {
        let svg = qr_svg(&new_secret(), "ana", "Puente GTM").unwrap();
        assert!(svg.contains("<svg"));
    }
}
