//! The federation black-box harness: real `puente` processes (three countries and the hub) on
//! their own loopback addresses, each with its own database, linked through fault-injecting
//! TCP proxies, plus a fake peer that sends hostile envelopes.
//!
//! - [`proxy`]: the fault-injecting TCP proxy (pass, refuse, blackhole, one-way, delay, cut
//!   mid-request), switchable at run time;
//! - [`cluster`]: a federation made through the command line only (`init`, `federation
//!   create/edit/sign-manifest/join`, `peer approve`, `serve`), processes killed, stopped,
//!   restarted, restored from backups; status, heads and directory checks;
//! - [`scenarios`]: delivery through faults, crashes, a lost hub, trust changes, restores,
//!   one-way reachability, replicas;
//! - [`referrals`]: cross-border referrals end to end (accept, decline, recall, consent
//!   withdrawal, a recall overtaking its offer, partitions, crashes) and tampered or replayed
//!   offers from the fake peer;
//! - [`fake_peer`]: a member that is not a node and sends forged, replayed, reordered, gapped,
//!   wrong-destination, wrong-origin, unknown/revoked/expired/blocked-key, future-dated and
//!   oversize envelopes.
//!
//! Environment: `TEST_DATABASE_URL` (PostgreSQL: a database per node, dropped after),
//! `FED_HARNESS_PARALLEL` (clusters at once, default 2), `FED_HARNESS_LOG` (the nodes' log
//! filter, default `info`), `FED_HARNESS_KEEP` (keep the temporary directories).

pub mod cluster;
pub mod fake_peer;
pub mod proxy;
pub mod referrals;
pub mod scenarios;
pub mod stats;
