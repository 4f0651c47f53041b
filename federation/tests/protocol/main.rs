//! Protocol tests of puente-federation: known-answer vectors (RFC 8785, RFC 8032), golden
//! envelopes/acks/manifest committed under `tests/vectors/`, property tests, the manifest
//! rules, the acceptance checks and seal keys.
//!
//! `PUENTE_BLESS=1 cargo test -p puente-federation --test protocol` rewrites the golden files.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fixtures;

mod accept_checks;
mod golden;
mod known_answers;
mod manifest_rules;
mod properties;
mod seal_keys;
