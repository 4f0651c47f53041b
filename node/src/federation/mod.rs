//! The node's side of the federation (docs/protocol.md). Reading order:
//!
//! - this file: [`Federation`], the run-time trust state — the manifest the node holds, its
//!   local decisions (approved peers and agreements, blocked peers and keys), the TLS pins and
//!   one pinned HTTPS client per peer — rebuilt by [`Federation::refresh`] whenever any of them
//!   changes.
//! - [`server`]: the `/federation/v1` routes behind the mutual-TLS listener; [`accept`]: the
//!   acceptance of a batch of envelopes (push and pull share it).
//! - [`worker`]: delivery (one loop per peer and channel), the inbox processor, and the sync
//!   loop (manifests from peers, pulls).
//! - [`evidence`]: the daily signed seal of the evidence log and its verification.
//! - [`admin`]: the manifest, approvals and blocks as the CLI and the pages change them.
//! - [`pages`]: the national administrator's pages.
//!
//! The protocol itself (envelopes, acks, manifest, acceptance checks, TLS pinning) lives in
//! `puente-federation`; this module wires it to the store, the clock and the node's keys.

pub mod accept;
pub mod admin;
pub mod bench;
pub mod cli;
pub mod evidence;
pub mod keys;
pub mod pages;
pub mod server;
pub mod worker;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use anyhow::Context;
use chrono::{DateTime, Utc};
use puente_common::CountryCode;
use puente_federation::manifest::{Freshness, Manifest, MemberStatus, SignedManifest};
use puente_federation::transport::{PeerClient, PinSet, Timeouts, TlsIdentity};
use puente_federation::{Channel, LocalTrust};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::config::{Config, FederationConfig};
use crate::store::fed_sql::{ApprovalKind, BlockKind};
use crate::store::Store;

/// The channels a node sends on, in the order workers are started.
pub const CHANNELS: [Channel; 4] = [
    Channel::Control,
    Channel::Directory,
    Channel::Referral,
    Channel::Stats,
];

/// What the node trusts right now: the manifest (with only the locally approved agreements
/// kept) and its local decisions. Replaced as a whole, never edited in place.
#[derive(Debug, Clone)]
pub struct TrustSnapshot {
    /// The manifest as signed by governance (shown to administrators).
    pub signed: Arc<SignedManifest>,
    /// The same manifest with only locally approved agreements: what the node acts on.
    pub effective: Arc<Manifest>,
    pub local: Arc<LocalTrust>,
}

impl TrustSnapshot {
    pub fn version(&self) -> u64 {
        self.signed.manifest.version
    }

    /// Peers this node may send `channel` to now: active in the manifest, approved, not
    /// blocked, and covered by an approved agreement. Referral traffic also pauses once the
    /// manifest is past its grace period (it stays queued).
    pub fn destinations(
        &self,
        me: CountryCode,
        channel: Channel,
        now: DateTime<Utc>,
    ) -> Vec<CountryCode> {
        if channel == Channel::Referral && self.effective.freshness(now) == Freshness::Expired {
            return Vec::new();
        }
        self.effective
            .peers_of(me)
            .into_iter()
            .map(|m| m.id)
            .filter(|p| self.trusts(*p))
            .filter(|p| self.effective.allows(channel, me, *p))
            .collect()
    }

    /// Whether this node's administrator approved `peer` and has not blocked it.
    pub fn trusts(&self, peer: CountryCode) -> bool {
        self.local.approved_peers.contains(&peer) && !self.local.blocked_peers.contains(&peer)
    }
}

/// The federation state of a running node.
pub struct Federation {
    pub me: CountryCode,
    pub config: FederationConfig,
    /// The federation TLS identity (its own key, not the signing key).
    pub identity: TlsIdentity,
    /// TLS pins of the members the listener lets in (every member but this one; the HTTP
    /// layer then answers unapproved or suspended ones with a reason).
    pub pins: PinSet,
    trust: RwLock<Option<TrustSnapshot>>,
    clients: RwLock<HashMap<CountryCode, PeerClient>>,
    /// Woken when an envelope is enqueued or a peer reaches us.
    pub outbox: Notify,
    /// Woken when envelopes are stored in the inbox.
    pub inbox: Notify,
    /// This replica's id, for delivery leases.
    pub replica: String,
    /// What the trust state was built from, to skip rebuilding it when nothing changed.
    last_refresh: std::sync::Mutex<Option<String>>,
}

impl std::fmt::Debug for Federation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Federation")
            .field("me", &self.me)
            .field("replica", &self.replica)
            .finish_non_exhaustive()
    }
}

impl Federation {
    /// Reads the federation TLS identity named by the configuration.
    pub fn load(config: &Config) -> anyhow::Result<Option<Federation>> {
        let Some(fc) = &config.federation else {
            return Ok(None);
        };
        let cert_pem = std::fs::read_to_string(&fc.tls_cert)
            .with_context(|| format!("cannot read {}", fc.tls_cert.display()))?;
        let key_pem = zeroize::Zeroizing::new(
            std::fs::read_to_string(&fc.tls_key)
                .with_context(|| format!("cannot read {}", fc.tls_key.display()))?,
        );
        let identity = TlsIdentity::from_pem(&cert_pem, &key_pem)
            .map_err(|e| anyhow::anyhow!("federation TLS identity: {e}"))?;
        Ok(Some(Federation {
            me: config.country,
            config: fc.clone(),
            identity,
            pins: PinSet::default(),
            trust: RwLock::new(None),
            clients: RwLock::new(HashMap::new()),
            outbox: Notify::new(),
            inbox: Notify::new(),
            replica: Uuid::now_v7().to_string(),
            last_refresh: std::sync::Mutex::new(None),
        }))
    }

    /// The current trust snapshot; `None` before the node has joined a federation.
    pub fn trust(&self) -> Option<TrustSnapshot> {
        self.trust.read().ok().and_then(|t| t.clone())
    }

    /// The pinned client for `peer`, if the manifest lists it.
    pub fn client(&self, peer: CountryCode) -> Option<PeerClient> {
        self.clients.read().ok().and_then(|c| c.get(&peer).cloned())
    }

    /// Rebuilds the trust snapshot, the pins and the clients from the store, when the manifest,
    /// the approvals or the blocks changed since the last call; returns whether it did. Called
    /// at start, at every delivery poll, and after every change made on the pages.
    pub async fn refresh(&self, store: &dyn Store) -> anyhow::Result<bool> {
        let Some(row) = store.fed_manifest().await? else {
            return Ok(false);
        };
        let approvals = store.fed_approvals().await?;
        let blocks = store.fed_blocks().await?;
        // Rebuild only when something changed (this runs at every delivery poll).
        let key = format!(
            "{}|{}|{:?}|{:?}",
            row.version,
            puente_federation::sha256_hex(row.body.as_bytes()),
            approvals
                .iter()
                .map(|a| (a.kind.as_str(), a.subject.as_str()))
                .collect::<Vec<_>>(),
            blocks
                .iter()
                .map(|b| (b.kind.as_str(), b.subject.as_str()))
                .collect::<Vec<_>>(),
        );
        if let Ok(last) = self.last_refresh.lock() {
            if last.as_deref() == Some(key.as_str()) {
                return Ok(false);
            }
        }
        let signed = SignedManifest::parse(row.body.as_bytes())
            .map_err(|e| anyhow::anyhow!("the stored manifest does not parse: {e}"))?;
        let mut approved_peers = HashSet::new();
        let mut approved_agreements = HashSet::new();
        for a in &approvals {
            match a.kind {
                ApprovalKind::Peer => {
                    if let Ok(c) = a.subject.parse::<CountryCode>() {
                        approved_peers.insert(c);
                    }
                }
                ApprovalKind::Agreement => {
                    approved_agreements.insert(a.subject.clone());
                }
            }
        }
        let mut blocked_peers = HashSet::new();
        let mut blocked_keys = HashSet::new();
        for b in &blocks {
            match b.kind {
                BlockKind::Peer => {
                    if let Ok(c) = b.subject.parse::<CountryCode>() {
                        blocked_peers.insert(c);
                    }
                }
                BlockKind::Key => {
                    if let Ok(k) = b.subject.parse() {
                        blocked_keys.insert(k);
                    }
                }
            }
        }
        let mut effective = signed.manifest.clone();
        effective
            .agreements
            .retain(|a| approved_agreements.contains(&a.id));
        let local = LocalTrust {
            me: self.me,
            approved_peers,
            blocked_peers,
            blocked_keys,
            max_skew: chrono::Duration::minutes(5),
        };
        // Revoked and locally blocked members can neither connect nor be connected to.
        let reachable: Vec<_> = signed
            .manifest
            .members
            .iter()
            .filter(|m| {
                m.id != self.me
                    && m.status != MemberStatus::Revoked
                    && !local.blocked_peers.contains(&m.id)
            })
            .collect();
        self.pins
            .replace(reachable.iter().map(|m| (m.id, m.tls_pins.clone())))
            .map_err(|e| anyhow::anyhow!("the manifest's TLS pins: {e}"))?;
        let mut clients = HashMap::new();
        let delivery = &self.config.delivery;
        let timeouts = Timeouts {
            connect: std::time::Duration::from_millis(delivery.connect_timeout_millis.max(1)),
            request: std::time::Duration::from_millis(delivery.request_timeout_millis.max(1)),
        };
        for m in reachable {
            match PeerClient::new(
                m.id,
                &m.endpoint,
                &self.identity,
                self.pins.clone(),
                timeouts,
            ) {
                Ok(c) => {
                    clients.insert(m.id, c);
                }
                Err(e) => {
                    tracing::warn!(peer = %m.id, error = %e, "cannot build a client for this peer")
                }
            }
        }
        if let Ok(mut c) = self.clients.write() {
            *c = clients;
        }
        if let Ok(mut t) = self.trust.write() {
            *t = Some(TrustSnapshot {
                signed: Arc::new(signed),
                effective: Arc::new(effective),
                local: Arc::new(local),
            });
        }
        if let Ok(mut last) = self.last_refresh.lock() {
            *last = Some(key);
        }
        self.outbox.notify_waiters();
        Ok(true)
    }
}

/// Starts the federation side of a node, when configured: loads the TLS identity and the trust
/// state, binds the mutual-TLS listener, and starts delivery, processing and sync. Returns the
/// listener's task, which ends when `stop` turns true.
pub async fn start(
    node: crate::app::AppState,
    stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let Some(fed) = Federation::load(&node.config)? else {
        return Ok(None);
    };
    fed.refresh(node.store.as_ref()).await?;
    let fed = Arc::new(fed);
    let _ = node.federation.set(fed.clone());
    let listener = tokio::net::TcpListener::bind(fed.config.listen)
        .await
        .with_context(|| format!("cannot listen on {} for the federation", fed.config.listen))?;
    let tls = puente_federation::transport::server_config(&fed.identity, fed.pins.clone())?;
    let router = server::router(node.clone(), fed.clone());
    tracing::info!(addr = %fed.config.listen, endpoint = %fed.config.endpoint, "federation listener (mutual TLS)");
    worker::start(node.clone(), fed.clone(), stop.clone());
    let mut stop_rx = stop;
    let shutdown = async move {
        let _ = stop_rx.changed().await;
    };
    Ok(Some(tokio::spawn(async move {
        puente_federation::transport::serve(listener, tls, router, shutdown).await;
    })))
}
