//! Integration tests of the node, in one binary (one link for all). Each test runs a real
//! node on loopback with its own database: SQLite by default, PostgreSQL when
//! `TEST_DATABASE_URL` is set (CI runs the suite both ways).

// Test helpers panic on purpose: a failed set-up step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod helpers;
mod audit;
mod auth;
mod backup;
mod browser;
mod cases;
mod cli;
mod deploy;
mod directory;
mod fed;
mod fed_pages;
mod fed_store;
mod hub;
mod hub_browser;
mod keys;
mod matrix;
mod metrics;
mod notify_email;
mod ref_browser;
mod ref_pages;
mod referrals;
mod releases;
mod retention;
mod statistics;
mod store;
mod transfer;
