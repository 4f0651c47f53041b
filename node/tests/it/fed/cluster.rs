//! A federation of real `puente` processes, made only through the command line (the CLI
//! contract of docs/protocol.md): GTM, HND, SLV and the hub REG, each on its own loopback
//! address (127.0.0.2…5), with its own data directory and database, and a fault-injecting
//! [`Proxy`] in front of its federation listener: the manifest names the proxy as the node's
//! endpoint, so every link into a node can be faulted.
//!
//! Processes are started with `serve`, checked through `/readyz` (plain HTTP on loopback),
//! killed with SIGKILL, stopped with SIGTERM and restarted on the same data. Their output goes
//! to files in the cluster's temporary directory and is printed when a test fails. Everything
//! is killed (and PostgreSQL databases dropped) when the cluster is dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use tempfile::TempDir;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::proxy::{Mode, Proxy};

/// The members a full cluster runs, their loopback addresses and roles.
pub const LAYOUT: &[(&str, [u8; 4], &str)] = &[
    ("GTM", [127, 0, 0, 2], "node"),
    ("HND", [127, 0, 0, 3], "node"),
    ("SLV", [127, 0, 0, 4], "node"),
    ("REG", [127, 0, 0, 5], "hub"),
];

/// The governance key holders (a governance key each; threshold 2).
pub const HOLDERS: &[&str] = &["GTM", "HND", "SLV"];

/// A subdivision each country's directory entries cover.
fn subdivision(country: &str) -> &'static str {
    match country {
        "GTM" => "GT-QZ",
        "HND" => "HN-CR",
        "SLV" => "SV-SS",
        _ => "GT-GU",
    }
}

/// Service types (DATA-STANDARD.md) used for directory entries, in turn.
const SERVICES: &[&str] = &[
    "SHELTER",
    "HEALTH",
    "PSYCHOLOGICAL",
    "LEGAL",
    "EDUCATION",
    "FINANCIAL",
    "LIVELIHOOD",
    "SOCIAL_CARE",
    "RETURN_REINTEGRATION",
    "INTERPRETATION",
    "DOCUMENTATION",
];

/// Organisations made on each country node at set-up (directory entries belong to one).
const ORGS: &[&str] = &["ASOC1", "ASOC2", "ASOC3"];

/// Delivery timings for tests (`[federation.delivery]` of the configuration, through
/// `PUENTE_…` overrides): fast polling, short backoff, short leases, frequent sync and pull.
pub const FAST_DELIVERY: &[(&str, &str)] = &[
    ("PUENTE_FEDERATION__DELIVERY__POLL_MILLIS", "100"),
    ("PUENTE_FEDERATION__DELIVERY__MIN_BACKOFF_MILLIS", "100"),
    ("PUENTE_FEDERATION__DELIVERY__MAX_BACKOFF_SECONDS", "1"),
    ("PUENTE_FEDERATION__DELIVERY__LEASE_SECONDS", "2"),
    ("PUENTE_FEDERATION__DELIVERY__SYNC_SECONDS", "1"),
];

/// How long a condition may take to become true in a scenario (fast delivery settings make
/// one round trip a fraction of a second).
pub const SETTLE: Duration = Duration::from_secs(20);

/// Clusters running at once in this test binary (each is four or five processes; the
/// harness targets two cores). `FED_HARNESS_PARALLEL` overrides.
fn gate() -> Arc<Semaphore> {
    static GATE: OnceLock<Arc<Semaphore>> = OnceLock::new();
    GATE.get_or_init(|| {
        let n = std::env::var("FED_HARNESS_PARALLEL")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2);
        Arc::new(Semaphore::new(n))
    })
    .clone()
}

/// A free TCP port on `ip` (bound and released; the 127/8 addresses are ours alone).
pub fn free_port(ip: Ipv4Addr) -> u16 {
    std::net::TcpListener::bind((ip, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A service published through the API.
#[derive(Debug, Clone)]
struct Published {
    contact: String,
    id: String,
    body: Value,
}

/// `origin`'s services in a directory listing: service id → (organisation code, service),
/// and the ids seen more than once.
pub fn services_of(list: &Value, origin: &str) -> (BTreeMap<String, Value>, Vec<String>) {
    let mut out = BTreeMap::new();
    let mut dups = Vec::new();
    for item in list["items"].as_array().into_iter().flatten() {
        if item["country"] != origin {
            continue;
        }
        let id = item["service"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let v = serde_json::json!({ "org_code": item["org_code"], "service": item["service"] });
        if out.insert(id.clone(), v).is_some() {
            dups.push(id);
        }
    }
    (out, dups)
}

/// The revision of `origin`'s directory in a listing's sources, and its refusal if any.
pub fn revision_of(list: &Value, origin: &str) -> Option<(u64, Value)> {
    list["sources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["country"] == origin)
        .map(|s| (s["revision"].as_u64().unwrap_or(0), s["refused"].clone()))
}

/// What a `puente` command did.
#[derive(Debug, Clone)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn ok(self, what: &str) -> Out {
        assert_eq!(
            self.code, 0,
            "`puente {what}` failed ({}):\n{}\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

/// Runs the `puente` binary with `args` and `env`; the command and its output are appended
/// to `log`.
pub async fn puente(args: &[&str], env: &[(&str, &str)], log: &Path) -> Out {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_puente"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("PUENTE_")) {
        // The test's own environment must not reconfigure the nodes.
        cmd.env_remove(k);
    }
    cmd.args(args).stdin(Stdio::null()).kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let t = Instant::now();
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("`puente {}` took over 60 s", args.join(" ")))
        .unwrap();
    let out = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    {
        let _ = writeln!(
            f,
            "$ puente {}   # exit {} in {:?}\n{}{}",
            args.join(" "),
            out.code,
            t.elapsed(),
            out.stdout,
            out.stderr
        );
    }
    out
}

/// Polls `cond` every 100 ms until it holds or `timeout` passes; whether it held.
pub async fn wait_until<F, Fut>(timeout: Duration, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if cond().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn null_as_zero<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(Option::<u64>::deserialize(d)?.unwrap_or(0))
}

/// `puente federation status`, parsed.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Status {
    pub me: String,
    #[serde(deserialize_with = "null_as_zero")]
    pub epoch: u64,
    /// 0 before `join`.
    #[serde(deserialize_with = "null_as_zero")]
    pub manifest_version: u64,
    #[serde(default)]
    pub peers: Vec<PeerState>,
    #[serde(default)]
    pub streams_in: Vec<StreamIn>,
    #[serde(default)]
    pub streams_out: Vec<StreamOut>,
    /// Anything else the command prints.
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PeerState {
    pub peer: String,
    pub channel: String,
    #[serde(default, deserialize_with = "null_as_zero")]
    pub backlog: u64,
    #[serde(default, deserialize_with = "null_as_zero")]
    pub failures: u64,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub last_success_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct StreamIn {
    pub origin: String,
    pub channel: String,
    pub epoch: u64,
    #[serde(deserialize_with = "null_as_zero")]
    pub head_seq: u64,
    #[serde(default)]
    pub head_hash: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct StreamOut {
    pub destination: String,
    pub channel: String,
    pub epoch: u64,
    #[serde(deserialize_with = "null_as_zero")]
    pub last_seq: u64,
    #[serde(default)]
    pub last_hash: Option<String>,
    #[serde(default, deserialize_with = "null_as_zero")]
    pub acked_seq: u64,
}

impl Status {
    /// The stream this node sends to `to` on `channel`, of the highest epoch.
    pub fn out_to(&self, to: &str, channel: &str) -> Option<&StreamOut> {
        self.streams_out
            .iter()
            .filter(|s| s.destination == to && s.channel == channel)
            .max_by_key(|s| s.epoch)
    }

    /// What this node has received from `from` on `channel`.
    pub fn in_from(&self, from: &str, channel: &str) -> Option<&StreamIn> {
        self.streams_in
            .iter()
            .filter(|s| s.origin == from && s.channel == channel)
            .max_by_key(|s| s.epoch)
    }

    /// The delivery state of (peer, channel).
    pub fn peer(&self, peer: &str, channel: &str) -> Option<&PeerState> {
        self.peers
            .iter()
            .find(|p| p.peer == peer && p.channel == channel)
    }

    /// Highest sequence number received from `from` on `channel` (0: nothing).
    pub fn head_from(&self, from: &str, channel: &str) -> u64 {
        self.in_from(from, channel).map_or(0, |s| s.head_seq)
    }
}

/// `a`'s outgoing stream to `b` is fully acked and `b`'s head for it is the same
/// (epoch, sequence number, hash). `Err` says what differs.
pub fn heads_equal(a: &Status, b: &Status, channel: &str) -> Result<(), String> {
    let out = a
        .out_to(&b.me, channel)
        .ok_or_else(|| format!("{} has no {channel} stream to {}", a.me, b.me))?;
    let inn = b
        .in_from(&a.me, channel)
        .ok_or_else(|| format!("{} has no {channel} stream from {}", b.me, a.me))?;
    let same = out.epoch == inn.epoch
        && out.last_seq == out.acked_seq
        && out.last_seq == inn.head_seq
        && out.last_hash.is_some()
        && out.last_hash == inn.head_hash;
    if same {
        Ok(())
    } else {
        Err(format!(
            "{}→{} {channel}: sender epoch {} last {} acked {} hash {:?}; receiver epoch {} head {} hash {:?}",
            a.me,
            b.me,
            out.epoch,
            out.last_seq,
            out.acked_seq,
            out.last_hash,
            inn.epoch,
            inn.head_seq,
            inn.head_hash
        ))
    }
}

/// Options of a cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Which of [`LAYOUT`] to run (the governance holders GTM, HND, SLV need not run).
    pub members: Vec<&'static str>,
    /// Extra member entries (JSON as `federation member-info` prints it), e.g. a fake peer.
    pub extra_members: Vec<Value>,
    /// `--agreement` arguments of `federation edit`.
    pub agreements: Vec<String>,
    /// `--revoke-key` arguments of the first `federation edit`.
    pub revoke_keys: Vec<String>,
    /// Local approvals: (node, peer). By default every running node approves every other
    /// member (and every extra member) and every agreement it is part of.
    pub skip_approvals: Vec<(String, String)>,
    /// Start `serve` on every node at the end of set-up.
    pub serve: bool,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            members: LAYOUT.iter().map(|(id, _, _)| *id).collect(),
            extra_members: Vec::new(),
            // The hub takes no directory: it accepts statistics releases only.
            agreements: vec![
                "directory:GTM,HND,SLV".into(),
                "stats:GTM,HND,SLV,REG@REG".into(),
            ],
            revoke_keys: Vec::new(),
            skip_approvals: Vec::new(),
            serve: true,
        }
    }
}

impl ClusterOptions {
    /// Only these members run (the directory agreement is among them).
    /// Only these members run: the directory agreement among the countries, and with the hub
    /// among them a `stats` agreement of all of them.
    pub fn with(members: &[&'static str]) -> ClusterOptions {
        let countries: Vec<&str> = members.iter().copied().filter(|m| *m != "REG").collect();
        let mut agreements = vec![format!("directory:{}", countries.join(","))];
        if members.contains(&"REG") {
            agreements.push(format!("stats:{}@REG", members.join(",")));
        }
        ClusterOptions {
            members: members.to_vec(),
            agreements,
            ..ClusterOptions::default()
        }
    }
}

/// Whether `id` is a member of a `referral:…` or `stats:…` agreement among `agreements` (the
/// `--agreement` syntax of `federation edit`: `kind:GTM,HND[@REG[/quarter]]`): it needs a
/// caseworker to register cases.
fn registers_cases(agreements: &[String], id: &str) -> bool {
    agreements.iter().any(|a| {
        a.split_once(':').is_some_and(|(kind, members)| {
            let members = members.split('@').next().unwrap_or_default();
            matches!(kind, "referral" | "stats") && members.split(',').any(|m| m == id)
        })
    })
}

/// A database made for one node; dropped with the cluster.
#[derive(Debug, Clone)]
enum Db {
    Sqlite(PathBuf),
    Postgres { admin: String, name: String },
}

/// A copy of a node's database, to restore later.
#[derive(Debug)]
pub enum Backup {
    Sqlite(PathBuf),
    Postgres(String),
}

/// A running `serve` process and its listeners.
struct Serve {
    child: std::process::Child,
    web: SocketAddr,
    fed: SocketAddr,
}

/// One `puente` node of the cluster.
pub struct PuenteNode {
    pub id: String,
    pub ip: Ipv4Addr,
    pub role: String,
    pub dir: PathBuf,
    pub config: PathBuf,
    /// The web listener (plain HTTP).
    pub web: SocketAddr,
    /// The node's own federation listener.
    pub fed: SocketAddr,
    /// The proxy in front of `fed`; the manifest's endpoint for this node.
    pub proxy: Proxy,
    db: Db,
    /// Running `serve` processes (more than one: replicas on one PostgreSQL database).
    children: Mutex<Vec<Serve>>,
    starts: AtomicUsize,
    /// Directory services published through the API, in order.
    published: Mutex<Vec<Published>>,
    /// Organisations made at set-up: (code, id).
    orgs: Mutex<Vec<(String, String)>>,
    /// An API token of a national administrator, made at set-up.
    token: Mutex<String>,
    /// An API token of a caseworker of the first organisation (`ASOC1`), made at set-up on
    /// country nodes that are part of a referral agreement.
    caseworker_token: Mutex<String>,
    cli_log: PathBuf,
}

impl std::fmt::Debug for PuenteNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}, web {}, fed {})",
            self.id, self.ip, self.web, self.fed
        )
    }
}

impl PuenteNode {
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("serve.log")
    }

    pub fn db_url(&self) -> String {
        match &self.db {
            Db::Sqlite(p) => format!("sqlite://{}", p.display()),
            Db::Postgres { admin, name } => {
                let (prefix, _) = admin.rsplit_once('/').unwrap();
                format!("{prefix}/{name}")
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.db, Db::Postgres { .. })
    }

    fn env(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = FAST_DELIVERY
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        env.push((
            "PUENTE_LOG__LEVEL".into(),
            std::env::var("FED_HARNESS_LOG").unwrap_or_else(|_| "info".into()),
        ));
        env
    }

    /// Runs `puente --config <node> <args>`.
    pub async fn cli(&self, args: &[&str]) -> Out {
        let config = self.config.display().to_string();
        let mut full = vec!["--config", config.as_str()];
        full.extend_from_slice(args);
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        puente(&full, &env, &self.cli_log).await
    }

    /// Like [`cli`](Self::cli), and the command must succeed.
    pub async fn cli_ok(&self, args: &[&str]) -> Out {
        let what = args.join(" ");
        self.cli(args).await.ok(&format!("{what} on {}", self.id))
    }

    /// `puente federation status`, parsed (works whether or not the node is running).
    pub async fn status(&self) -> Status {
        let out = self.cli_ok(&["federation", "status"]).await;
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "status of {} is not the contract's JSON ({e}):\n{}",
                self.id, out.stdout
            )
        })
    }

    /// Whether a `serve` process is running.
    pub fn running(&self) -> bool {
        let mut children = self.children.lock().unwrap();
        children.retain_mut(|c| matches!(c.child.try_wait(), Ok(None)));
        !children.is_empty()
    }

    fn spawn_serve(&self, env_extra: &[(String, String)]) -> std::process::Child {
        let n = self.starts.fetch_add(1, Ordering::SeqCst) + 1;
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        writeln!(log, "===== serve #{n} of {} =====", self.id).unwrap();
        let err = log.try_clone().unwrap();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_puente"));
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("PUENTE_")) {
            cmd.env_remove(k);
        }
        cmd.args(["--config", &self.config.display().to_string(), "serve"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err);
        for (k, v) in self.env().iter().chain(env_extra) {
            cmd.env(k, v);
        }
        cmd.spawn().unwrap()
    }

    /// Starts `serve` and waits until `/readyz` answers 200.
    pub async fn start(&self) {
        assert!(!self.running(), "{} is already running", self.id);
        let child = self.spawn_serve(&[]);
        self.children.lock().unwrap().push(Serve {
            child,
            web: self.web,
            fed: self.fed,
        });
        self.proxy.set_targets(&[self.fed]);
        self.wait_ready(self.web).await;
    }

    /// Starts one more `serve` of the same node (same database, other ports), a replica; the
    /// proxy spreads incoming federation connections over both. Returns its web address.
    pub async fn start_replica(&self) -> SocketAddr {
        let web = SocketAddr::from((self.ip, free_port(self.ip)));
        let fed = SocketAddr::from((self.ip, free_port(self.ip)));
        let env = vec![
            ("PUENTE_LISTEN".to_owned(), web.to_string()),
            ("PUENTE_FEDERATION__LISTEN".to_owned(), fed.to_string()),
        ];
        let child = self.spawn_serve(&env);
        self.children
            .lock()
            .unwrap()
            .push(Serve { child, web, fed });
        self.wait_ready(web).await;
        self.retarget();
        web
    }

    /// Points the proxy at every running `serve`.
    fn retarget(&self) {
        let mut feds: Vec<SocketAddr> = self
            .children
            .lock()
            .unwrap()
            .iter()
            .map(|c| c.fed)
            .collect();
        if feds.is_empty() {
            feds.push(self.fed);
        }
        self.proxy.set_targets(&feds);
    }

    async fn wait_ready(&self, web: SocketAddr) {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let url = format!("http://{web}/readyz");
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Ok(r) = http.get(&url).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            {
                let mut children = self.children.lock().unwrap();
                for c in children.iter_mut() {
                    if let Ok(Some(status)) = c.child.try_wait() {
                        panic!(
                            "{} exited while starting ({status}):\n{}",
                            self.id,
                            tail(&self.log_path(), 60)
                        );
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready after 40 s:\n{}",
                self.id,
                tail(&self.log_path(), 60)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `kill -9` of every `serve` process of this node.
    pub fn kill(&self) {
        let mut children = self.children.lock().unwrap();
        for c in children.iter_mut() {
            let _ = c.child.kill();
            let _ = c.child.wait();
        }
        children.clear();
        drop(children);
        self.retarget();
    }

    /// `kill -9` of one `serve` process (a replica), by start order among those running.
    pub fn kill_one(&self, index: usize) {
        let mut c = self.children.lock().unwrap().remove(index);
        let _ = c.child.kill();
        let _ = c.child.wait();
        self.retarget();
    }

    /// SIGTERM and wait (SIGKILL after 15 s); the exit must be clean.
    pub async fn stop(&self) {
        let children: Vec<Serve> = std::mem::take(&mut *self.children.lock().unwrap());
        for Serve { child: mut c, .. } in children {
            let pid = c.id().to_string();
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status();
            let deadline = Instant::now() + Duration::from_secs(15);
            let status = loop {
                if let Ok(Some(s)) = c.try_wait() {
                    break Some(s);
                }
                if Instant::now() > deadline {
                    let _ = c.kill();
                    let _ = c.wait();
                    break None;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            match status {
                Some(s) => assert!(
                    s.success(),
                    "{} did not stop cleanly ({s}):\n{}",
                    self.id,
                    tail(&self.log_path(), 40)
                ),
                None => panic!(
                    "{} ignored SIGTERM for 15 s:\n{}",
                    self.id,
                    tail(&self.log_path(), 40)
                ),
            }
        }
        self.proxy.set_targets(&[self.fed]);
    }

    fn api_base(&self) -> (reqwest::Client, String, String) {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        // The first running `serve` (replicas share the database).
        let web = self
            .children
            .lock()
            .unwrap()
            .first()
            .map_or(self.web, |c| c.web);
        (
            http,
            format!("http://{web}/api/v1"),
            self.token.lock().unwrap().clone(),
        )
    }

    /// Adds a service to this node's directory through the JSON API (the node must be
    /// running): a new revision, published to the peers. Returns its contact string, unique
    /// in the cluster.
    pub async fn publish(&self) -> String {
        let n = self.published.lock().unwrap().len();
        let contact = format!("c-{}-{:04}", self.id, n + 1);
        let orgs = self.orgs.lock().unwrap().clone();
        assert!(
            !orgs.is_empty(),
            "{} has no organisations (the hub publishes nothing)",
            self.id
        );
        let (_, org_id) = &orgs[(n / SERVICES.len()) % orgs.len()];
        let body = serde_json::json!({
            "org_id": org_id,
            "service_type": SERVICES[n % SERVICES.len()],
            "populations": ["MINORS", "WOMEN"],
            "languages": ["spa", "quc"],
            "subdivisions": [subdivision(&self.id)],
            "contact": contact,
            "notes": "",
        });
        let (http, base, token) = self.api_base();
        let r = http
            .post(format!("{base}/directory/services"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{} API unreachable: {e}", self.id));
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert_eq!(status, 201, "publishing on {}: {text}", self.id);
        let v: Value = serde_json::from_str(&text).unwrap();
        let id = v["service"]["id"].as_str().unwrap().to_owned();
        self.published.lock().unwrap().push(Published {
            contact: contact.clone(),
            id,
            body,
        });
        contact
    }

    /// Publishes `n` services.
    pub async fn publish_n(&self, n: usize) -> Vec<String> {
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(self.publish().await);
        }
        out
    }

    /// Changes the contact of the `index`th service published (a new revision); returns the
    /// new contact.
    pub async fn update(&self, index: usize) -> String {
        let (id, mut body) = {
            let p = self.published.lock().unwrap();
            (p[index].id.clone(), p[index].body.clone())
        };
        static UPDATES: AtomicUsize = AtomicUsize::new(0);
        let contact = format!(
            "c-{}-{:04}-u{}",
            self.id,
            index + 1,
            UPDATES.fetch_add(1, Ordering::SeqCst) + 1
        );
        body["contact"] = Value::String(contact.clone());
        let (http, base, token) = self.api_base();
        let r = http
            .put(format!("{base}/directory/services/{id}"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert_eq!(
            status,
            200,
            "update on {}: {}",
            self.id,
            r.text().await.unwrap()
        );
        let mut p = self.published.lock().unwrap();
        p[index].contact = contact.clone();
        p[index].body = body;
        contact
    }

    /// Contacts of the services this node published, current values, in order.
    pub fn published(&self) -> Vec<String> {
        self.published
            .lock()
            .unwrap()
            .iter()
            .map(|p| p.contact.clone())
            .collect()
    }

    /// The regional directory as this node's JSON API shows it (`GET /api/v1/directory`).
    pub async fn directory(&self) -> Value {
        let (http, base, token) = self.api_base();
        let r = http
            .get(format!("{base}/directory"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{} API unreachable: {e}", self.id));
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert_eq!(status, 200, "directory of {}: {text}", self.id);
        serde_json::from_str(&text).unwrap()
    }

    /// The directory as text (for "does not contain" checks).
    pub async fn directory_text(&self) -> String {
        self.directory().await.to_string()
    }

    /// Copies the database (the node must be stopped).
    pub async fn backup(&self, name: &str) -> Backup {
        assert!(
            !self.running(),
            "back up {} only while it is stopped",
            self.id
        );
        match &self.db {
            Db::Sqlite(path) => {
                let to = self.dir.join(format!("backup-{name}"));
                std::fs::create_dir_all(&to).unwrap();
                for suffix in ["", "-wal", "-shm"] {
                    let from = PathBuf::from(format!("{}{suffix}", path.display()));
                    if from.exists() {
                        std::fs::copy(&from, to.join(format!("puente.db{suffix}"))).unwrap();
                    }
                }
                Backup::Sqlite(to)
            }
            Db::Postgres { admin, name: db } => {
                let copy = format!("{db}_bak_{name}");
                pg_exec(admin, &[&format!("CREATE DATABASE {copy} TEMPLATE {db}")]).await;
                Backup::Postgres(copy)
            }
        }
    }

    /// Puts a backup back in place of the database (the node must be stopped).
    pub async fn restore(&self, backup: &Backup) {
        assert!(
            !self.running(),
            "restore {} only while it is stopped",
            self.id
        );
        match (&self.db, backup) {
            (Db::Sqlite(path), Backup::Sqlite(from)) => {
                for suffix in ["", "-wal", "-shm"] {
                    let dest = PathBuf::from(format!("{}{suffix}", path.display()));
                    let src = from.join(format!("puente.db{suffix}"));
                    if src.exists() {
                        std::fs::copy(&src, &dest).unwrap();
                    } else if dest.exists() {
                        std::fs::remove_file(&dest).unwrap();
                    }
                }
            }
            (Db::Postgres { admin, name }, Backup::Postgres(copy)) => {
                pg_exec(
                    admin,
                    &[
                        &format!("DROP DATABASE {name} WITH (FORCE)"),
                        &format!("CREATE DATABASE {name} TEMPLATE {copy}"),
                    ],
                )
                .await;
            }
            _ => panic!("backup of another kind of database"),
        }
    }

    /// A read-only query of two columns (text, integer) on this node's database, for the
    /// tables docs/protocol.md names (`fed_inbox`, `fed_outbox`, `fed_evidence`): what the
    /// status JSON does not show, such as how often an envelope was received.
    pub async fn query_i64(&self, sql: &str) -> Vec<(String, i64)> {
        query_pairs(&self.db_url(), sql).await
    }

    /// A condition on a UUID column equal to `id`, in this node's SQL dialect (SQLite keeps
    /// UUIDs as 16-byte blobs).
    pub fn uuid_eq(&self, column: &str, id: &str) -> String {
        if self.is_postgres() {
            format!("{column} = '{id}'")
        } else {
            format!("lower(hex({column})) = '{}'", id.replace('-', ""))
        }
    }

    /// Every byte of this node's database as text, for "not in clear" checks: the SQLite
    /// file and its WAL as they are on disk, or every row of every PostgreSQL table as JSON.
    pub async fn dump_database(&self) -> String {
        match &self.db {
            Db::Sqlite(path) => {
                let mut out = String::new();
                for suffix in ["", "-wal", "-journal"] {
                    if let Ok(bytes) = std::fs::read(format!("{}{suffix}", path.display())) {
                        out.push_str(&String::from_utf8_lossy(&bytes));
                    }
                }
                out
            }
            Db::Postgres { .. } => {
                use sqlx::Row;
                let pool = sqlx::PgPool::connect(&self.db_url()).await.unwrap();
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'",
                )
                .fetch_all(&pool)
                .await
                .unwrap();
                let mut out = String::new();
                for t in tables {
                    let rows =
                        sqlx::query(&format!("SELECT row_to_json(t)::text AS j FROM \"{t}\" t"))
                            .fetch_all(&pool)
                            .await
                            .unwrap();
                    for r in rows {
                        out.push_str(&r.get::<String, _>("j"));
                        out.push('\n');
                    }
                }
                pool.close().await;
                out
            }
        }
    }

    /// Every log file of this node (its `serve` output, and the command-line log the cluster
    /// shares), as text.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for p in [self.log_path(), self.cli_log.clone()] {
            out.push_str(&std::fs::read_to_string(p).unwrap_or_default());
        }
        out
    }

    // -----------------------------------------------------------------------------------------
    // The JSON API as a user of the node (referrals)

    fn token_of(&self, who: As) -> String {
        let t = match who {
            As::NodeAdmin => self.token.lock().unwrap().clone(),
            As::Caseworker => self.caseworker_token.lock().unwrap().clone(),
        };
        assert!(
            !t.is_empty(),
            "{} has no {who:?} token (caseworkers are made on nodes of a referral or stats agreement)",
            self.id
        );
        t
    }

    /// `method /api/v1{path}` with `body` as `who`: (status, JSON body or `null`).
    pub async fn api(
        &self,
        who: As,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let (http, base, _) = self.api_base();
        let mut req = http
            .request(method.clone(), format!("{base}{path}"))
            .bearer_auth(self.token_of(who));
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{} API unreachable ({method} {path}): {e}", self.id));
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        let v = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| {
                panic!(
                    "{} {method} {path}: {status}, not JSON ({e}): {text}",
                    self.id
                )
            })
        };
        (status, v)
    }

    /// Like [`api`](Self::api), and the status must be `want`; the JSON body.
    pub async fn api_ok(
        &self,
        who: As,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        want: u16,
    ) -> Value {
        let (status, v) = self.api(who, method.clone(), path, body).await;
        assert_eq!(
            status, want,
            "{} {method} /api/v1{path} as {who:?}: {v}",
            self.id
        );
        v
    }

    /// Registers a case (as the caseworker) of a new person with distinctive random names, a
    /// `CASE_MANAGEMENT` consent and a `REFERRAL` consent for `dest` listing `groups`
    /// (field-group codes), in force for 90 days.
    pub async fn register_case_with_referral_consent(
        &self,
        dest: &str,
        groups: &[&str],
    ) -> RegisteredCase {
        let today = puente_node::clock::Clock::now(&puente_node::clock::SystemClock).date_naive();
        let given_on = (today - chrono::Duration::days(1)).to_string();
        let expires_on = (today + chrono::Duration::days(90)).to_string();
        let given_names = format!("{} {}", random_name(8), random_name(7));
        let family_names = format!("{} {}", random_name(9), random_name(8));
        let body = serde_json::json!({
            "person": {
                "identity": {
                    "given_names": given_names,
                    "family_names": family_names,
                    "birth_date": "1999-05-17",
                },
                "gender": "FEMININE",
                "citizenship": [self.id],
                "languages": ["spa"],
            },
            "case": {
                "intake_channel": "HOTLINE",
                "registration_date": given_on,
                "status": "ACTIVE",
                "narrative": "Relato confidencial que nunca viaja",
            },
            "consents": [
                {
                    "scope": "CASE_MANAGEMENT",
                    "given_by": "PERSON",
                    "given_on": given_on,
                    "evidence_ref": "Formulario 1",
                },
                {
                    "scope": "REFERRAL",
                    "given_by": "PERSON",
                    "given_on": given_on,
                    "expires_on": expires_on,
                    "destination_country": dest,
                    "field_groups": groups,
                    "evidence_ref": "Formulario 2",
                },
            ],
        });
        let created = self
            .api_ok(
                As::Caseworker,
                reqwest::Method::POST,
                "/cases",
                Some(&body),
                201,
            )
            .await;
        let case_id = created["id"].as_str().unwrap().to_owned();
        let case = self.case(&case_id).await;
        let consent = case["consents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["record"]["scope"] == "REFERRAL")
            .unwrap_or_else(|| panic!("no REFERRAL consent in the case: {case}"));
        RegisteredCase {
            case_id,
            number: created["number"].as_str().unwrap_or_default().to_owned(),
            given_names,
            family_names,
            referral_consent: consent["id"].as_str().unwrap().to_owned(),
        }
    }

    /// Registers (as the caseworker) a case registered on `date`, of a new person of
    /// `gender` with a `STATISTICAL_USE` consent given that day: one person the statistics of
    /// `date`'s period count. The case id.
    pub async fn register_statistical_case(&self, date: chrono::NaiveDate, gender: &str) -> String {
        let on = date.to_string();
        let body = serde_json::json!({
            "person": {
                "identity": {
                    "given_names": random_name(8),
                    "family_names": random_name(9),
                },
                "gender": gender,
                "citizenship": [self.id],
            },
            "case": {
                "intake_channel": "HOTLINE",
                "registration_date": on,
                "status": "ACTIVE",
            },
            "consents": [
                {"scope": "CASE_MANAGEMENT", "given_by": "PERSON", "given_on": on,
                 "evidence_ref": "Formulario 1"},
                {"scope": "STATISTICAL_USE", "given_by": "PERSON", "given_on": on,
                 "evidence_ref": "Formulario 3"},
            ],
        });
        let created = self
            .api_ok(
                As::Caseworker,
                reqwest::Method::POST,
                "/cases",
                Some(&body),
                201,
            )
            .await;
        created["id"].as_str().unwrap().to_owned()
    }

    /// A case as its caseworker reads it (`GET /api/v1/cases/{id}`).
    pub async fn case(&self, case_id: &str) -> Value {
        self.api_ok(
            As::Caseworker,
            reqwest::Method::GET,
            &format!("/cases/{case_id}"),
            None,
            200,
        )
        .await
    }

    /// Refers the case to `dest`'s organisation `ASOC1` (as the caseworker, under the case's
    /// valid referral consent); the referral's id.
    pub async fn refer(&self, case_id: &str, dest: &str) -> String {
        let body = serde_json::json!({
            "destination": dest,
            "dest_org": ORGS[0],
            "reason": "ADDITIONAL_SERVICES_REQUIRED",
            "urgency": "PRIORITY",
            "needs": ["SHELTER", "LEGAL"],
            "message": "Necesita albergue a su llegada",
        });
        let v = self
            .api_ok(
                As::Caseworker,
                reqwest::Method::POST,
                &format!("/cases/{case_id}/referrals"),
                Some(&body),
                201,
            )
            .await;
        v["referral"]["summary"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no referral id in the answer: {v}"))
            .to_owned()
    }

    /// A referral as the caseworker reads it (`ReferralView`).
    pub async fn referral(&self, id: &str) -> Value {
        self.referral_as(As::Caseworker, id).await
    }

    /// A referral as `who` reads it (`ReferralView`).
    pub async fn referral_as(&self, who: As, id: &str) -> Value {
        self.api_ok(
            who,
            reqwest::Method::GET,
            &format!("/referrals/{id}"),
            None,
            200,
        )
        .await
    }

    /// The referral's `state` here (as a national administrator, who sees every referral:
    /// one still in the national queue or recalled before it was routed too).
    pub async fn referral_state(&self, id: &str) -> String {
        let v = self.referral_as(As::NodeAdmin, id).await;
        v["summary"]["state"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// `POST /api/v1/referrals/{id}/{action}` with `body` as the caseworker; 200 expected.
    pub async fn act(&self, id: &str, action: &str, body: Value) -> Value {
        self.api_ok(
            As::Caseworker,
            reqwest::Method::POST,
            &format!("/referrals/{id}/{action}"),
            Some(&body),
            200,
        )
        .await
    }

    /// Records the withdrawal of a consent today (it recalls what was sent under it).
    pub async fn withdraw_consent(&self, case_id: &str, consent_id: &str) {
        let today = puente_node::clock::Clock::now(&puente_node::clock::SystemClock).date_naive();
        self.api_ok(
            As::Caseworker,
            reqwest::Method::POST,
            &format!("/cases/{case_id}/consents/{consent_id}/withdraw"),
            Some(&serde_json::json!({ "withdrawn_on": today.to_string() })),
            204,
        )
        .await;
    }
}

/// Who a JSON API call acts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum As {
    /// The national administrator every node has (`arnes`).
    NodeAdmin,
    /// The caseworker of `ASOC1` on nodes of a referral agreement (`gestora`).
    Caseworker,
}

/// A case registered by [`PuenteNode::register_case_with_referral_consent`].
#[derive(Debug, Clone)]
pub struct RegisteredCase {
    pub case_id: String,
    pub number: String,
    pub given_names: String,
    pub family_names: String,
    /// The id of the `REFERRAL` consent.
    pub referral_consent: String,
}

impl RegisteredCase {
    /// The strings that must never appear in clear outside the API: each name.
    pub fn secrets(&self) -> [&str; 2] {
        [&self.given_names, &self.family_names]
    }
}

/// A capitalised word of `len` random letters (distinctive enough that finding it anywhere
/// means it was written there).
pub fn random_name(len: usize) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let mut w: String = (0..len)
        .map(|_| char::from(b'a' + rng.gen_range(0..26u8)))
        .collect();
    w[..1].make_ascii_uppercase();
    w
}

/// A two-column query (text, integer) on a node's database.
async fn query_pairs(url: &str, sql: &str) -> Vec<(String, i64)> {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&format!("{url}?mode=ro"))
            .await
            .unwrap();
        let rows: Vec<(String, i64)> = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let rows: Vec<(String, i64)> = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    }
}

async fn pg_exec(admin: &str, statements: &[&str]) {
    use sqlx::Executor;
    let pool = sqlx::PgPool::connect(admin).await.unwrap();
    for s in statements {
        pool.execute(*s).await.unwrap();
    }
    pool.close().await;
}

/// The last `n` lines of a file.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A running federation.
pub struct Cluster {
    pub root: PathBuf,
    /// Governance directory: keys of the holders, anchor.json, manifest.json.
    pub gov: PathBuf,
    pub fingerprint: String,
    pub nodes: Vec<PuenteNode>,
    pub cli_log: PathBuf,
    /// Member entries of the manifest, by id.
    pub member_info: BTreeMap<String, Value>,
    _dir: TempDir,
    _permit: OwnedSemaphorePermit,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cluster({:?})", self.nodes)
    }
}

/// A PostgreSQL database for one node when `TEST_DATABASE_URL` is set.
async fn make_db(dir: &Path) -> Db {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            let name = format!("puente_f_{}", uuid::Uuid::now_v7().simple());
            pg_exec(&base, &[&format!("CREATE DATABASE {name}")]).await;
            Db::Postgres { admin: base, name }
        }
        _ => Db::Sqlite(dir.join("puente.db")),
    }
}

impl Cluster {
    /// GTM, HND, SLV and REG, fully joined, approved and serving.
    pub async fn start() -> Cluster {
        Self::start_with(ClusterOptions::default()).await
    }

    pub async fn start_with(opts: ClusterOptions) -> Cluster {
        let permit = gate().acquire_owned().await.unwrap();
        let dir = tempfile::Builder::new()
            .prefix("puente-fed-")
            .tempdir()
            .unwrap();
        let root = dir.path().to_owned();
        let cli_log = root.join("cli.log");
        let gov = root.join("governance");
        let t0 = Instant::now();

        // 1. Nodes: init with a federation listener behind a proxy; organisations; member-info.
        let mut nodes = Vec::new();
        for id in &opts.members {
            let (_, ip, role) = *LAYOUT
                .iter()
                .find(|(m, _, _)| m == id)
                .unwrap_or_else(|| panic!("{id} is not in the layout"));
            let ip = Ipv4Addr::from(ip);
            let node_dir = root.join(id);
            let web = SocketAddr::from((ip, free_port(ip)));
            let fed = SocketAddr::from((ip, free_port(ip)));
            let proxy = Proxy::start(SocketAddr::from((ip, 0)), fed);
            let db = make_db(&node_dir).await;
            nodes.push(PuenteNode {
                id: (*id).to_owned(),
                ip,
                role: role.to_owned(),
                config: node_dir.join("puente.toml"),
                dir: node_dir,
                web,
                fed,
                proxy,
                db,
                children: Mutex::new(Vec::new()),
                starts: AtomicUsize::new(0),
                published: Mutex::new(Vec::new()),
                orgs: Mutex::new(Vec::new()),
                token: Mutex::new(String::new()),
                caseworker_token: Mutex::new(String::new()),
                cli_log: cli_log.clone(),
            });
        }
        let mut cluster = Cluster {
            root,
            gov,
            fingerprint: String::new(),
            nodes,
            cli_log,
            member_info: BTreeMap::new(),
            _dir: dir,
            _permit: permit,
        };
        let mut set = tokio::task::JoinSet::new();
        for n in &cluster.nodes {
            let (id, dir, web, fed, proxy, role, db, log) = (
                n.id.clone(),
                n.dir.display().to_string(),
                n.web.to_string(),
                n.fed.to_string(),
                n.proxy.addr(),
                n.role.clone(),
                n.db_url(),
                cluster.cli_log.clone(),
            );
            let config = n.config.display().to_string();
            let pg = n.is_postgres();
            let referral_user = role == "node" && registers_cases(&opts.agreements, &id);
            set.spawn(async move {
                let endpoint = format!("https://{proxy}");
                let mut args = vec![
                    "init",
                    "--country",
                    &id,
                    "--data-dir",
                    &dir,
                    "--listen",
                    &web,
                    "--no-tls",
                    "--federation-listen",
                    &fed,
                    "--federation-endpoint",
                    &endpoint,
                    "--federation-role",
                    &role,
                ];
                if pg {
                    args.extend(["--database-url", &db]);
                }
                puente(&args, &[], &log).await.ok(&format!("init {id}"));
                let mut orgs = Vec::new();
                if role == "node" {
                    for org in ORGS {
                        let out = puente(
                            &[
                                "--config",
                                &config,
                                "org",
                                "add",
                                "--code",
                                org,
                                "--name",
                                &format!("Asociación {org} de {id}"),
                            ],
                            &[],
                            &log,
                        )
                        .await
                        .ok("org add");
                        // "Added organisation ASOC1 (…) id <uuid>"
                        let uuid = out.stdout.split_whitespace().last().unwrap().to_owned();
                        orgs.push(((*org).to_owned(), uuid));
                    }
                }
                // A national administrator and an API token, to publish and read the directory.
                puente(
                    &[
                        "--config",
                        &config,
                        "user",
                        "add",
                        "--username",
                        "arnes",
                        "--name",
                        "Arnés de pruebas",
                        "--role",
                        "node_admin",
                    ],
                    &[],
                    &log,
                )
                .await
                .ok("user add");
                let out = puente(
                    &[
                        "--config", &config, "token", "create", "--user", "arnes", "--name",
                        "arnes", "--days", "30",
                    ],
                    &[],
                    &log,
                )
                .await
                .ok("token create");
                let token = out
                    .stdout
                    .lines()
                    .find(|l| l.starts_with("pte_"))
                    .unwrap_or_else(|| panic!("no token printed: {}", out.stdout))
                    .trim()
                    .to_owned();
                // A caseworker of the first organisation and an API token, to register cases
                // and make and answer referrals.
                let mut caseworker_token = String::new();
                if referral_user {
                    puente(
                        &[
                            "--config",
                            &config,
                            "user",
                            "add",
                            "--username",
                            "gestora",
                            "--name",
                            "Gestora de pruebas",
                            "--role",
                            "caseworker",
                            "--org",
                            ORGS[0],
                        ],
                        &[],
                        &log,
                    )
                    .await
                    .ok("user add caseworker");
                    let out = puente(
                        &[
                            "--config", &config, "token", "create", "--user", "gestora", "--name",
                            "gestora", "--days", "30",
                        ],
                        &[],
                        &log,
                    )
                    .await
                    .ok("token create caseworker");
                    caseworker_token = out
                        .stdout
                        .lines()
                        .find(|l| l.starts_with("pte_"))
                        .unwrap_or_else(|| panic!("no token printed: {}", out.stdout))
                        .trim()
                        .to_owned();
                }
                let info = puente(
                    &["--config", &config, "federation", "member-info"],
                    &[],
                    &log,
                )
                .await
                .ok(&format!("federation member-info on {id}"));
                let member: Value = serde_json::from_str(&info.stdout).unwrap_or_else(|e| {
                    panic!("member-info of {id} is not JSON ({e}): {}", info.stdout)
                });
                (id, member, orgs, token, caseworker_token)
            });
        }
        while let Some(r) = set.join_next().await {
            let (id, member, orgs, token, caseworker_token) = r.unwrap();
            assert_eq!(member["id"], id.as_str(), "member-info of {id}: {member}");
            let n = cluster.node(&id);
            *n.orgs.lock().unwrap() = orgs;
            *n.token.lock().unwrap() = token;
            *n.caseworker_token.lock().unwrap() = caseworker_token;
            cluster.member_info.insert(id, member);
        }
        for m in &opts.extra_members {
            let id = m["id"].as_str().unwrap().to_owned();
            cluster.member_info.insert(id, m.clone());
        }

        // 2. Governance: keys, first manifest, members and agreements, two of three signatures.
        let g = cluster.gov.display().to_string();
        let out = cluster
            .run(&[
                "federation",
                "create",
                "--dir",
                &g,
                "--name",
                "puente-prueba",
                "--holders",
                &HOLDERS.join(","),
                "--threshold",
                "2",
                "--valid-days",
                "30",
                "--grace-days",
                "7",
            ])
            .await
            .ok("federation create");
        // The anchor's fingerprint, computed here and compared with what `create` printed.
        let anchor: puente_federation::Governance =
            serde_json::from_slice(&std::fs::read(cluster.gov.join("anchor.json")).unwrap())
                .unwrap_or_else(|e| panic!("anchor.json is not a governance section: {e}"));
        cluster.fingerprint = anchor.fingerprint();
        assert_eq!(
            find_fingerprint(&out.stdout).as_deref(),
            Some(cluster.fingerprint.as_str()),
            "create must print the anchor's fingerprint:\n{}",
            out.stdout
        );
        let mut edit: Vec<String> = vec![
            "federation".into(),
            "edit".into(),
            "--manifest".into(),
            cluster.manifest_path(),
        ];
        for (id, m) in &cluster.member_info {
            let file = cluster.root.join(format!("member-{id}.json"));
            std::fs::write(&file, serde_json::to_vec_pretty(m).unwrap()).unwrap();
            edit.extend(["--add-member".into(), file.display().to_string()]);
        }
        for a in &opts.agreements {
            edit.extend(["--agreement".into(), a.clone()]);
        }
        for k in &opts.revoke_keys {
            edit.extend(["--revoke-key".into(), k.clone()]);
        }
        let edit: Vec<&str> = edit.iter().map(String::as_str).collect();
        cluster.run(&edit).await.ok("federation edit");
        cluster
            .sign_manifest(&cluster.manifest_path(), &["GTM", "HND"])
            .await;

        // 3. Each node joins, approves its peers and its agreements.
        let manifest = cluster.manifest_json();
        let agreements: Vec<(String, Vec<String>)> = manifest["agreements"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|a| {
                (
                    a["id"].as_str().unwrap_or_default().to_owned(),
                    a["members"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|m| m.as_str().map(str::to_owned))
                        .collect(),
                )
            })
            .collect();
        let members: Vec<String> = cluster.member_info.keys().cloned().collect();
        let mut set = tokio::task::JoinSet::new();
        for n in &cluster.nodes {
            let config = n.config.display().to_string();
            let env: Vec<(String, String)> = n.env();
            let log = cluster.cli_log.clone();
            let id = n.id.clone();
            let anchor = cluster.gov.join("anchor.json").display().to_string();
            let fp = cluster.fingerprint.clone();
            let man = cluster.manifest_path();
            let peers: Vec<String> = members
                .iter()
                .filter(|m| **m != id && !opts.skip_approvals.contains(&(id.clone(), (*m).clone())))
                .cloned()
                .collect();
            let agreements: Vec<String> = agreements
                .iter()
                .filter(|(_, ms)| ms.contains(&id))
                .map(|(a, _)| a.clone())
                .collect();
            set.spawn(async move {
                let env: Vec<(&str, &str)> =
                    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let run = |args: Vec<String>| {
                    let (config, env, log) = (config.clone(), env.clone(), log.clone());
                    async move {
                        let mut full = vec!["--config".to_owned(), config];
                        full.extend(args);
                        let full: Vec<&str> = full.iter().map(String::as_str).collect();
                        puente(&full, &env, &log).await
                    }
                };
                run(vec![
                    "federation".into(),
                    "join".into(),
                    "--anchor".into(),
                    anchor,
                    "--fingerprint".into(),
                    fp,
                    "--manifest".into(),
                    man,
                ])
                .await
                .ok(&format!("federation join on {id}"));
                for p in peers {
                    run(vec!["peer".into(), "approve".into(), p.clone()])
                        .await
                        .ok(&format!("peer approve {p} on {id}"));
                }
                for a in agreements {
                    run(vec!["peer".into(), "approve-agreement".into(), a.clone()])
                        .await
                        .ok(&format!("peer approve-agreement {a} on {id}"));
                }
            });
        }
        while let Some(r) = set.join_next().await {
            r.unwrap();
        }

        // 4. Serve.
        if opts.serve {
            cluster.start_all().await;
        }
        eprintln!(
            "cluster {:?} ready in {:?} ({})",
            opts.members,
            t0.elapsed(),
            cluster.root.display()
        );
        cluster
    }

    /// Runs `puente` without a node configuration (governance commands).
    pub async fn run(&self, args: &[&str]) -> Out {
        puente(args, &[], &self.cli_log).await
    }

    pub fn manifest_path(&self) -> String {
        self.gov.join("manifest.json").display().to_string()
    }

    /// The manifest section of G/manifest.json.
    pub fn manifest_json(&self) -> Value {
        let text = std::fs::read_to_string(self.gov.join("manifest.json")).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        match v.get("manifest") {
            Some(m) => m.clone(),
            None => v,
        }
    }

    /// Adds the signatures of `holders`' governance keys to the manifest at `path`.
    pub async fn sign_manifest(&self, path: &str, holders: &[&str]) {
        for h in holders {
            let key = self
                .gov
                .join(format!("governance-{h}.pem"))
                .display()
                .to_string();
            self.run(&[
                "federation",
                "sign-manifest",
                "--manifest",
                path,
                "--key",
                &key,
            ])
            .await
            .ok(&format!("federation sign-manifest with {h}'s key"));
        }
    }

    /// Writes the next version of the governance manifest with `edit_args` (e.g.
    /// `["--suspend", "HND"]`), signs it with two holders, and returns its path.
    pub async fn next_manifest(&self, edit_args: &[&str]) -> String {
        let path = self.manifest_path();
        let mut args = vec!["federation", "edit", "--manifest", &path];
        args.extend_from_slice(edit_args);
        self.run(&args).await.ok("federation edit");
        self.sign_manifest(&path, &["GTM", "SLV"]).await;
        path
    }

    /// `serve` on every node (concurrently), each ready.
    pub async fn start_all(&self) {
        for n in &self.nodes {
            let child = n.spawn_serve(&[]);
            n.children.lock().unwrap().push(Serve {
                child,
                web: n.web,
                fed: n.fed,
            });
        }
        for n in &self.nodes {
            n.wait_ready(n.web).await;
        }
    }

    pub fn node(&self, id: &str) -> &PuenteNode {
        self.nodes
            .iter()
            .find(|n| n.id == id)
            .unwrap_or_else(|| panic!("no node {id} in the cluster"))
    }

    /// Waits until `cond` holds; on timeout, fails naming `what` and showing every node's
    /// status.
    pub async fn wait_for<F, Fut>(&self, what: &str, timeout: Duration, cond: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        if !wait_until(timeout, cond).await {
            let mut report = String::new();
            for n in &self.nodes {
                let out = n.cli(&["federation", "status"]).await;
                let _ = writeln!(report, "--- {} status:\n{}{}", n.id, out.stdout, out.stderr);
            }
            panic!("timed out after {timeout:?} waiting for {what}\n{report}");
        }
    }

    /// Waits until `from`'s `channel` streams to each of `to` are fully acked and equal to
    /// the receivers' heads.
    pub async fn wait_heads_equal(&self, from: &str, to: &[&str], channel: &str) {
        let what = format!("{from}→{to:?} {channel} heads equal");
        let last = Mutex::new(String::new());
        let ok = wait_until(SETTLE, || async {
            let a = self.node(from).status().await;
            for t in to {
                let b = self.node(t).status().await;
                if let Err(e) = heads_equal(&a, &b, channel) {
                    *last.lock().unwrap() = e;
                    return false;
                }
            }
            true
        })
        .await;
        let last = last.into_inner().unwrap();
        if !ok {
            let mut report = String::new();
            for n in &self.nodes {
                let out = n.cli(&["federation", "status"]).await;
                let _ = writeln!(report, "--- {} status:\n{}{}", n.id, out.stdout, out.stderr);
            }
            panic!("timed out waiting for {what}: {last}\n{report}");
        }
    }

    /// Differences between `origin`'s own directory and what `receiver` shows of it (empty:
    /// the same services with the same content, each once, at the same revision).
    pub async fn directory_differences(&self, origin: &str, receiver: &str) -> Vec<String> {
        let own = self.node(origin).directory().await;
        let seen = self.node(receiver).directory().await;
        let (mine, _) = services_of(&own, origin);
        let (theirs, dups) = services_of(&seen, origin);
        let mut problems = Vec::new();
        for d in dups {
            problems.push(format!(
                "{receiver} lists {origin}'s service {d} more than once"
            ));
        }
        for (id, v) in &mine {
            match theirs.get(id) {
                None => problems.push(format!("{receiver} lacks {origin}'s service {id}: {v}")),
                Some(t) if t != v => {
                    problems.push(format!("{receiver} shows {origin}'s {id} as {t}, not {v}"));
                }
                Some(_) => {}
            }
        }
        for id in theirs.keys().filter(|id| !mine.contains_key(*id)) {
            problems.push(format!(
                "{receiver} shows {origin}'s service {id} that {origin} no longer has"
            ));
        }
        let (r_own, r_seen) = (revision_of(&own, origin), revision_of(&seen, origin));
        match (&r_own, &r_seen) {
            (Some((a, _)), Some((b, refused))) => {
                if a != b {
                    problems.push(format!("{origin} is at revision {a}, {receiver} holds {b}"));
                }
                if !refused.is_null() {
                    problems.push(format!(
                        "{receiver} refuses {origin}'s directory: {refused}"
                    ));
                }
            }
            (Some((a, _)), None) if *a > 0 => {
                problems.push(format!(
                    "{receiver} holds no directory of {origin} (at revision {a})"
                ));
            }
            _ => {}
        }
        problems
    }

    /// Fails unless `receiver` shows exactly `origin`'s current directory.
    pub async fn assert_directory_matches(&self, origin: &str, receiver: &str) {
        let problems = self.directory_differences(origin, receiver).await;
        assert!(
            problems.is_empty(),
            "directories differ: {problems:#?}\n--- {origin}:\n{}\n--- {receiver}:\n{}",
            self.node(origin).directory().await,
            self.node(receiver).directory().await
        );
    }

    /// The whole check after a delivery scenario, for `origin`'s directory stream to each
    /// of `receivers`: heads equal (status JSON of both sides), the directory the same on both
    /// sides (nothing lost, the latest revision won, nothing listed twice), every envelope
    /// received once and held as sent, with the same hash, in the sender's evidence log.
    pub async fn assert_delivered(&self, origin: &str, receivers: &[&str]) {
        self.wait_heads_equal(origin, receivers, "directory").await;
        for r in receivers {
            let r = *r;
            // Processing runs from the inbox after the ack: allow it a moment.
            let ok = wait_until(SETTLE, || async {
                self.directory_differences(origin, r).await.is_empty()
            })
            .await;
            if !ok {
                self.assert_directory_matches(origin, r).await;
            }
            self.assert_received_once(origin, r).await;
        }
    }

    /// Every envelope `receiver` holds from `origin` was received (and recorded) once, its
    /// inbox holds each sequence number of the current epoch from 1 to the head, and the
    /// sender's evidence log has each as sent with the same hash.
    pub async fn assert_received_once(&self, origin: &str, receiver: &str) {
        let r = self.node(receiver);
        let s = self.node(origin);
        // (The evidence log identifies an envelope by the hash of its exact bytes.)
        let dup = r
            .query_i64(&format!(
                "SELECT object_hash, COUNT(*) FROM fed_evidence \
                 WHERE direction = 'received' AND peer = '{origin}' \
                 GROUP BY object_hash HAVING COUNT(*) > 1"
            ))
            .await;
        assert!(
            dup.is_empty(),
            "{receiver} received {origin}'s envelopes twice: {dup:?}"
        );
        let status = r.status().await;
        for (channel, head) in status
            .streams_in
            .iter()
            .filter(|h| h.origin == origin)
            .map(|h| (h.channel.clone(), h))
        {
            let rows = r
                .query_i64(&format!(
                    "SELECT CAST(seq AS TEXT), COUNT(*) FROM fed_inbox \
                     WHERE origin = '{origin}' AND channel = '{channel}' AND epoch = {} \
                     GROUP BY seq ORDER BY seq",
                    head.epoch
                ))
                .await;
            let seqs: BTreeSet<u64> = rows.iter().map(|(s, _)| s.parse().unwrap()).collect();
            let want: BTreeSet<u64> = (1..=head.head_seq).collect();
            assert_eq!(
                seqs, want,
                "{receiver}'s inbox from {origin} on {channel} epoch {}: not every seq from 1 to the head",
                head.epoch
            );
        }
        // Each envelope of the current epochs: received once, recorded as sent by the origin
        // with the same hash (the exact bytes), and acked (ack entries on both sides).
        for head in status.streams_in.iter().filter(|h| h.origin == origin) {
            let (channel, epoch) = (&head.channel, head.epoch);
            let received = r
                .query_i64(&format!(
                    "SELECT object_hash, COUNT(*) FROM fed_evidence \
                     WHERE direction = 'received' AND peer = '{origin}' \
                     AND channel = '{channel}' AND epoch = {epoch} GROUP BY object_hash"
                ))
                .await;
            assert_eq!(
                received.len() as u64,
                head.head_seq,
                "{receiver}'s evidence log: {} envelopes received from {origin} on {channel} \
                 epoch {epoch}, head {}",
                received.len(),
                head.head_seq
            );
            let sent: BTreeSet<String> = s
                .query_i64(&format!(
                    "SELECT object_hash, COUNT(*) FROM fed_evidence \
                     WHERE direction = 'sent' AND peer = '{receiver}' \
                     AND channel = '{channel}' AND epoch = {epoch} GROUP BY object_hash"
                ))
                .await
                .into_iter()
                .map(|(h, _)| h)
                .collect();
            for (h, _) in &received {
                assert!(
                    sent.contains(h),
                    "{receiver} recorded an envelope from {origin} ({channel}, epoch {epoch}, \
                     {h}) that {origin}'s evidence log does not hold as sent"
                );
            }
            for (node, direction, peer) in [(r, "ack_sent", origin), (s, "ack_received", receiver)]
            {
                if head.head_seq == 0 {
                    continue;
                }
                let acks = node
                    .query_i64(&format!(
                        "SELECT peer, COUNT(*) FROM fed_evidence WHERE direction = '{direction}' \
                         AND peer = '{peer}' AND channel = '{channel}' AND epoch = {epoch} \
                         GROUP BY peer"
                    ))
                    .await;
                assert!(
                    !acks.is_empty(),
                    "{}'s evidence log holds no {direction} for {peer} on {channel} epoch {epoch}",
                    node.id
                );
            }
        }
    }

    /// `puente audit verify` passes on every node (audit trail and evidence log intact).
    pub async fn assert_audit_intact(&self) {
        for n in &self.nodes {
            n.cli_ok(&["audit", "verify"]).await;
        }
    }

    /// Sets every node's proxy to `mode`.
    pub fn set_all(&self, mode: Mode) {
        for n in &self.nodes {
            n.proxy.set_mode(mode);
        }
    }
}

/// The first 64-hex-character word of `text`.
pub fn find_fingerprint(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_hexdigit())
        .find(|w| w.len() == 64)
        .map(|w| w.to_ascii_lowercase())
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for n in &self.nodes {
            let mut children = n.children.lock().unwrap_or_else(|e| e.into_inner());
            for c in children.iter_mut() {
                let _ = c.child.kill();
                let _ = c.child.wait();
            }
        }
        if std::thread::panicking() {
            eprintln!("\n===== federation cluster {} =====", self.root.display());
            eprintln!(
                "----- commands (last 80 lines):\n{}",
                tail(&self.cli_log, 80)
            );
            for n in &self.nodes {
                eprintln!(
                    "----- {} serve log (last 120 lines):\n{}",
                    n.id,
                    tail(&n.log_path(), 120)
                );
            }
        }
        let pg: Vec<(String, String)> = self
            .nodes
            .iter()
            .filter_map(|n| match &n.db {
                Db::Postgres { admin, name } => Some((admin.clone(), name.clone())),
                Db::Sqlite(_) => None,
            })
            .collect();
        if !pg.is_empty() {
            // A runtime of its own: Drop may run inside the test's runtime.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    use sqlx::Executor;
                    let Ok(pool) = sqlx::PgPool::connect(&pg[0].0).await else {
                        return;
                    };
                    let names: Vec<String> =
                        sqlx::query_scalar("SELECT datname::text FROM pg_database")
                            .fetch_all(&pool)
                            .await
                            .unwrap_or_default();
                    for (_, name) in &pg {
                        for db in names.iter().filter(|d| d.starts_with(name.as_str())) {
                            let _ = pool
                                .execute(
                                    format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)").as_str(),
                                )
                                .await;
                        }
                    }
                    pool.close().await;
                });
            })
            .join();
        }
        if std::env::var("FED_HARNESS_KEEP").is_ok() {
            eprintln!("keeping {}", self.root.display());
            let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().unwrap());
            let _ = dir.keep();
        }
    }
}
