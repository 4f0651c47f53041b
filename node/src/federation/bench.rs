//! `puente bench federation`: two real nodes (GTM and HND) on loopback, each with its own
//! SQLite database, mutual TLS and a signed manifest, in this process.
//!
//! 1. Baseline: raw Ed25519 signing plus `verify_strict` of the same envelopes (canonical JSON
//!    included), in this run.
//! 2. End to end: envelopes queued at GTM (signed in the outbox transaction), sent in batches,
//!    checked and stored in HND's inbox, acked with a signed ack, the ack recorded. Envelopes
//!    per second, and the ratio to the baseline.
//! 3. Backlog: HND stopped (a partition), a backlog queued at GTM, HND started again; the time
//!    until the whole backlog is acked.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use puente_common::CountryCode;
use puente_federation::{Channel, Envelope, SigningIdentity, UnsignedEnvelope, ZERO_HASH};
use tokio::sync::watch;

use crate::app::{AppState, Node};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::demo::DemoMember;
use crate::store::fed_sql::Outgoing;

/// Options of `puente bench federation`.
#[derive(Debug, Clone)]
pub struct FederationBenchOptions {
    /// Envelopes delivered end to end over a healthy link.
    pub envelopes: usize,
    /// Envelopes queued during the partition.
    pub backlog: usize,
}

fn free_port(ip: &str) -> anyhow::Result<SocketAddr> {
    let l = TcpListener::bind(format!("{ip}:0"))?;
    Ok(l.local_addr()?)
}

/// A small, realistic payload: one organisation with one service.
fn payload(i: usize) -> serde_json::Value {
    serde_json::json!({
        "revision": i + 1,
        "published_at": "2026-11-30T12:00:00.000000Z",
        "organisations": [{
            "code": "ASOC1", "name": "Asociación de prueba", "org_type": "NGO",
            "services": [{
                "id": "0193a000-0000-7000-8000-000000000001", "service_type": "SHELTER",
                "populations": ["MINORS"], "languages": ["es"], "subdivisions": ["GT-QZ"],
                "contact": "+502 0000 0000", "notes": ""
            }]
        }]
    })
}

struct Running {
    state: AppState,
    stop: watch::Sender<bool>,
    listener: Option<tokio::task::JoinHandle<()>>,
}

async fn start_node(dir: &std::path::Path) -> anyhow::Result<Running> {
    let config = Config::load(&dir.join("puente.toml"))?;
    let store = crate::store::connect(config.database_url.expose()).await?;
    store.migrate().await?;
    let (data_key, identity) = crate::init::load_keys(&config)?;
    let state = Node::new(config, store, Arc::new(SystemClock), data_key, identity)?;
    let (stop, stop_rx) = watch::channel(false);
    let listener = super::start(state.clone(), stop_rx).await?;
    Ok(Running {
        state,
        stop,
        listener,
    })
}

async fn stop_node(r: Running) {
    let _ = r.stop.send(true);
    if let Some(l) = r.listener {
        let _ = l.await;
    }
    r.state.store.close().await;
}

/// Queues `n` envelopes from GTM to HND, in transactions of 500.
async fn enqueue(gtm: &Node, n: usize, from: usize) -> anyhow::Result<()> {
    let hnd: CountryCode = "HND".parse()?;
    let now = gtm.clock.now();
    let mut i = from;
    while i < from + n {
        let end = (i + 500).min(from + n);
        let out: Vec<Outgoing<'_>> = (i..end)
            .map(|k| Outgoing {
                id: uuid::Uuid::now_v7(),
                origin: gtm.config.country,
                destination: hnd,
                channel: Channel::Directory,
                kind: "directory.publish",
                payload: payload(k),
                manifest_version: 1,
                signer: &gtm.identity,
                now,
            })
            .collect();
        gtm.store.fed_enqueue(&out).await?;
        i = end;
    }
    if let Some(f) = gtm.federation.get() {
        f.outbox.notify_waiters();
    }
    Ok(())
}

/// Waits until GTM's stream to HND is consumed up to `seq`.
async fn drained(gtm: &Node, seq: u64, timeout: Duration) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        let streams = gtm.store.fed_streams_out_all().await?;
        let consumed = streams
            .iter()
            .filter(|s| s.destination.as_str() == "HND" && s.channel == Channel::Directory)
            .map(|s| s.consumed_seq)
            .max()
            .unwrap_or(0);
        if consumed >= seq {
            return Ok(());
        }
        if start.elapsed() > timeout {
            anyhow::bail!("delivery stalled at {consumed} of {seq}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Raw signing and strict verification of `n` envelopes like the ones delivered.
fn baseline(n: usize) -> anyhow::Result<f64> {
    let signer = SigningIdentity::generate("GTM-2026a".parse()?);
    let key = signer.verifying_key();
    let now =
        chrono::DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z")?.with_timezone(&chrono::Utc);
    let start = Instant::now();
    let mut prev = ZERO_HASH.to_owned();
    for i in 0..n {
        let signed = UnsignedEnvelope {
            id: uuid::Uuid::now_v7(),
            origin: "GTM".parse()?,
            destination: "HND".parse()?,
            channel: Channel::Directory,
            epoch: 1,
            seq: i as u64 + 1,
            prev: prev.clone(),
            kind: "directory.publish".into(),
            created_at: now,
            manifest_version: 1,
            payload: payload(i),
        }
        .sign(&signer)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let parsed = Envelope::parse(&signed.bytes).map_err(|r| anyhow::anyhow!("{}", r.code()))?;
        parsed
            .verify(&key)
            .map_err(|r| anyhow::anyhow!("{}", r.code()))?;
        prev = signed.hash;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

pub async fn run(opts: FederationBenchOptions) -> anyhow::Result<()> {
    let tmp = tempfile_dir()?;
    let members = vec![
        DemoMember {
            id: "GTM".parse()?,
            name: "Guatemala",
            dir: tmp.join("gtm"),
            web: free_port("127.0.0.1")?,
            federation: free_port("127.0.0.2")?,
        },
        DemoMember {
            id: "HND".parse()?,
            name: "Honduras",
            dir: tmp.join("hnd"),
            web: free_port("127.0.0.1")?,
            federation: free_port("127.0.0.3")?,
        },
    ];
    crate::demo::create(&tmp, &members, &SystemClock, false)
        .await
        .context("making the benchmark federation")?;
    for m in &members {
        // Tight polling and short backoff: the benchmark measures the protocol, not timers.
        let path = m.dir.join("puente.toml");
        let mut config = Config::load(&path)?;
        if let Some(f) = config.federation.as_mut() {
            f.delivery.poll_millis = 20;
            f.delivery.min_backoff_millis = 50;
            f.delivery.max_backoff_seconds = 1;
            f.delivery.sync_seconds = 3600;
        }
        std::fs::write(&path, config.to_toml())?;
    }
    println!("Federation benchmark: GTM → HND on loopback, mutual TLS, SQLite, one process.");
    let raw = baseline(opts.envelopes)?;
    println!("  raw Ed25519 sign + verify_strict (with canonical JSON): {raw:>10.0} envelopes/s");

    let gtm = start_node(&members[0].dir).await?;
    let hnd = start_node(&members[1].dir).await?;
    // Let the first directory exchange settle.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let base_seq = current_seq(&gtm.state).await?;
    let start = Instant::now();
    enqueue(&gtm.state, opts.envelopes, 0).await?;
    drained(
        &gtm.state,
        base_seq + opts.envelopes as u64,
        Duration::from_secs(600),
    )
    .await?;
    let e2e = opts.envelopes as f64 / start.elapsed().as_secs_f64();
    println!(
        "  end to end (queue+sign, send, check, store, ack):       {e2e:>10.0} envelopes/s  ({:.3} of raw)",
        e2e / raw
    );

    stop_node(hnd).await;
    let queued_at = Instant::now();
    enqueue(&gtm.state, opts.backlog, opts.envelopes).await?;
    println!(
        "  backlog of {} queued during the partition in {:.1} s",
        opts.backlog,
        queued_at.elapsed().as_secs_f64()
    );
    let target = current_seq(&gtm.state).await?;
    let healed = Instant::now();
    let hnd = start_node(&members[1].dir).await?;
    drained(&gtm.state, target, Duration::from_secs(1800)).await?;
    println!(
        "  backlog of {} drained {:.1} s after the partition healed",
        opts.backlog,
        healed.elapsed().as_secs_f64()
    );
    stop_node(hnd).await;
    stop_node(gtm).await;
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

async fn current_seq(n: &Node) -> anyhow::Result<u64> {
    Ok(n.store
        .fed_streams_out_all()
        .await?
        .iter()
        .filter(|s| s.destination.as_str() == "HND" && s.channel == Channel::Directory)
        .map(|s| s.last_seq)
        .max()
        .unwrap_or(0))
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("puente-bench-fed-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
