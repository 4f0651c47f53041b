//! # puente-node
//!
//! The country node (and, later, the regional hub), binary `puente`. Reading order:
//!
//! - [`cli`]: the `puente` commands; [`init`] and [`demo`] make nodes.
//! - [`config`]: the TOML file and its `PUENTE_…` overrides; [`clock`]: time as a parameter.
//! - [`app`]: builds the [`app::Application`] (router, state, listener) and serves it.
//! - [`authz`]: roles, actions and the one permission table.
//! - [`auth`]: passwords, second factor, sessions, CSRF, API tokens, log-in pages.
//! - [`admin`]: organisations, users, roles and tokens, in pages and the JSON API.
//! - [`directory`]: the regional service directory (this node's services and its peers').
//! - [`referrals`]: cross-border referrals, consent-scoped and sealed to the destination.
//! - [`hub`]: the regional hub (`[federation] role = "hub"`): received statistics releases,
//!   the regional dashboard and its exports.
//! - [`audit`]: the hash-chained audit trail, its checkpoints and its page.
//! - [`store`]: the storage trait, SQLite and PostgreSQL.
//! - [`web`]: layout, translations, security headers; [`crypto`]: the data key.
//! - [`federation`]: membership, delivery and the `/federation/v1` listener (mutual TLS).
//! - [`jobs`]: scheduled work; [`mail`]: e-mail notices (optional SMTP).
//! - [`metrics`]: Prometheus metrics on a listener of their own (`[metrics] listen`).
//!
//! Nothing here logs a victim's data, a password, a token or a key.

pub mod admin;
pub mod app;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod backup;
pub mod bench;
pub mod cases;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod directory;
pub mod error;
pub mod export;
pub mod federation;
pub mod hub;
pub mod import;
pub mod init;
pub mod jobs;
pub mod keys;
pub mod mail;
pub mod metrics;
pub mod referrals;
pub mod retention;
pub mod stats;
pub mod store;
pub mod web;
