//! The regional hub (`[federation] role = "hub"`), in process: a REG hub that joined a
//! federation of GTM, HND (active) and SLV (suspended) with the agreement `stats-reg`
//! (`stats:GTM,HND,SLV,REG@REG/quarter`), plus a directory and a referral agreement that list
//! the hub (so that only the hub's own rule keeps their envelopes out). Envelopes signed by
//! the members' keys go through the real inbox pipeline (`federation::accept::accept_batch`,
//! what `POST /federation/v1/inbox` calls after mutual TLS) and the worker's dispatch
//! (`federation::worker::apply`).
//!
//! Covered: the hub's schema holds no case table (and shares the node's migrations byte for
//! byte); a good release is stored, audited, listed and shown; refusals (unsafe table, repeated
//! and old version, broken chain, wrong country, wrong period kind, a directory or referral
//! envelope, not a member, a suspended member, a bad signature) each recorded with nothing
//! stored; a correction replaces v1 on the dashboard and both stay listed; the Spanish
//! dashboard with SVG charts, "<5" and "no recibido aún"; exports (CSV with BOM, HXL row,
//! GLOTIP); the API; roles on both kinds of node.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, SubsecRound, Utc};
use puente_common::stats::release::{ReleaseBody, ReleaseReview, RELEASE_FORMAT};
use puente_common::stats::{protect, Cell, Dimension, Period, ProtectedTable, Protection, Table};
use puente_common::CountryCode;
use puente_federation::seal::SealKeyPair;
use puente_federation::transport::generate_tls_identity;
use puente_federation::{
    AckOutcome, Agreement, AgreementKind, Channel, Manifest, Member, MemberKey, MemberRole,
    MemberStatus, SignedEnvelope, SigningIdentity, UnsignedEnvelope, ZERO_HASH,
};
use puente_node::app::{Application, Node};
use puente_node::clock::{Clock, SystemClock};
use puente_node::config::{
    Config, DeliveryConfig, FederationConfig, HttpConfig, KeysConfig, LogConfig, Secret,
    SecurityConfig,
};
use puente_node::crypto::DataKey;
use puente_node::federation::{accept, admin, worker, Federation};
use puente_node::store::fed_sql::ApprovalKind;
use puente_node::store::Schema;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{fresh_database, TestNode, PASSWORD};

fn now() -> chrono::DateTime<Utc> {
    SystemClock.now()
}

fn cc(s: &str) -> CountryCode {
    s.parse().unwrap()
}

/// Tables no hub may hold: anything that could carry a case or a person.
const FORBIDDEN: [&str; 10] = [
    "persons",
    "cases",
    "consents",
    "services",
    "proceedings",
    "timeline",
    "drafts",
    "referrals",
    "referral_events",
    "person_index",
];

/// A REG hub on its own schema, served on loopback.
pub(crate) async fn start_hub() -> TestNode {
    let dir = tempfile::tempdir().unwrap();
    let db_url = fresh_database(dir.path()).await;
    let data_key = DataKey::generate();
    let identity = SigningIdentity::generate("REG-2026a".parse().unwrap());
    let key_path = dir.path().join("data.key");
    let sig_path = dir.path().join("signing-key.pem");
    std::fs::write(&key_path, data_key.to_file_contents().as_bytes()).unwrap();
    std::fs::write(&sig_path, identity.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
    let tls = generate_tls_identity(cc("REG"), &["127.0.0.2".into()]).unwrap();
    let cert = dir.path().join("fed-tls-cert.pem");
    let key = dir.path().join("fed-tls-key.pem");
    std::fs::write(&cert, tls.cert_pem.as_bytes()).unwrap();
    std::fs::write(&key, tls.key_pem.as_bytes()).unwrap();
    let config = Config {
        country: cc("REG"),
        data_dir: dir.path().to_owned(),
        database_url: Secret::new(db_url.clone()),
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: None,
        keys: KeysConfig {
            data_key: key_path,
            signing_key: sig_path,
            signing_key_id: "REG-2026a".parse().unwrap(),
            next_signing_key: None,
            next_signing_key_id: None,
        },
        security: SecurityConfig {
            login_attempts_per_minute: 1000,
            ..SecurityConfig::default()
        },
        http: HttpConfig::default(),
        log: LogConfig::default(),
        federation: Some(FederationConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            endpoint: "https://127.0.0.2:7443".into(),
            tls_cert: cert,
            tls_key: key,
            role: "hub".into(),
            name: "Hub regional".into(),
            delivery: DeliveryConfig::default(),
        }),
        referrals: Default::default(),
        stats: Default::default(),
        retention: Default::default(),
        smtp: None,
        metrics: None,
    };
    let config_path = dir.path().join("puente.toml");
    std::fs::write(&config_path, config.to_toml()).unwrap();
    assert_eq!(Schema::of(&config), Schema::Hub);
    let store = puente_node::store::connect_config(&config).await.unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap(); // idempotent
    assert!(store.ready().await.unwrap());
    let state = Node::new(config, store, Arc::new(SystemClock), data_key, identity).unwrap();
    let app = Application::build(state.clone()).await.unwrap();
    let base = format!("http://{}", app.local_addr().unwrap());
    tokio::spawn(app.run(std::future::pending()));
    TestNode {
        _dir: dir,
        config_path,
        state,
        base,
        db_url,
    }
}

async fn tables_of(node: &TestNode) -> Vec<String> {
    if node.db_url.starts_with("sqlite:") {
        on_db!(node, |pool| sqlx::query_scalar::<_, String>(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
        .fetch_all(&pool)
        .await
        .unwrap())
    } else {
        on_db!(node, |pool| sqlx::query_scalar::<_, String>(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'"
        )
        .fetch_all(&pool)
        .await
        .unwrap())
    }
}

async fn migrations_of(node: &TestNode) -> Vec<(i64, Vec<u8>)> {
    on_db!(node, |pool| sqlx::query_as::<_, (i64, Vec<u8>)>(
        "SELECT version, checksum FROM _sqlx_migrations ORDER BY version"
    )
    .fetch_all(&pool)
    .await
    .unwrap())
}

#[tokio::test]
async fn the_hub_schema_has_no_table_that_could_hold_a_case() {
    let hub = start_hub().await;
    let tables = tables_of(&hub).await;
    for t in FORBIDDEN {
        assert!(
            !tables.iter().any(|x| x == t),
            "the hub has {t}: {tables:?}"
        );
    }
    for t in ["users", "audit_log", "fed_inbox", "hub_releases"] {
        assert!(
            tables.iter().any(|x| x == t),
            "the hub lacks {t}: {tables:?}"
        );
    }
    assert!(!tables.iter().any(|x| x.starts_with("dir_")), "{tables:?}");
    // The shared migrations are the node's own, checksum for checksum.
    let node = TestNode::start().await;
    let node_m: HashMap<i64, Vec<u8>> = migrations_of(&node).await.into_iter().collect();
    let hub_m = migrations_of(&hub).await;
    let versions: Vec<i64> = hub_m.iter().map(|(v, _)| *v).collect();
    assert_eq!(versions, vec![1, 2, 5, 100]);
    for (v, sum) in hub_m.iter().filter(|(v, _)| *v < 100) {
        assert_eq!(
            node_m.get(v),
            Some(sum),
            "migration {v} differs from the node's"
        );
    }
    // And the node, for contrast, has the case tables and no hub table.
    let node_tables = tables_of(&node).await;
    assert!(node_tables.iter().any(|x| x == "cases"));
    assert!(!node_tables.iter().any(|x| x == "hub_releases"));
}

// ---------------------------------------------------------------------------------------------
// The federation around the hub

/// A member that sends envelopes to the hub, keeping its streams' heads.
struct Sender {
    id: CountryCode,
    key: SigningIdentity,
    /// Per channel: last stored sequence number and hash.
    heads: HashMap<Channel, (u64, String)>,
    /// Hash of the member's latest release stored by the hub.
    last_release: String,
}

impl Sender {
    fn new(id: &str) -> Sender {
        Sender {
            id: cc(id),
            key: SigningIdentity::generate(format!("{id}-2026a").parse().unwrap()),
            heads: HashMap::new(),
            last_release: ZERO_HASH.to_owned(),
        }
    }

    fn envelope(&self, channel: Channel, kind: &str, payload: Value) -> SignedEnvelope {
        self.envelope_signed(channel, kind, payload, &self.key)
    }

    fn envelope_signed(
        &self,
        channel: Channel,
        kind: &str,
        payload: Value,
        key: &SigningIdentity,
    ) -> SignedEnvelope {
        let (seq, prev) = self
            .heads
            .get(&channel)
            .cloned()
            .unwrap_or((0, ZERO_HASH.to_owned()));
        UnsignedEnvelope {
            id: Uuid::now_v7(),
            origin: self.id,
            destination: cc("REG"),
            channel,
            epoch: 1,
            seq: seq + 1,
            prev,
            kind: kind.into(),
            created_at: now(),
            manifest_version: 1,
            payload,
        }
        .sign(key)
        .unwrap()
    }
}

fn member_key(public_key: String, id: &SigningIdentity) -> MemberKey {
    MemberKey {
        id: id.key_id().clone(),
        public_key,
        valid_from: now().trunc_subsecs(0) - Duration::days(1),
        valid_until: None,
    }
}

struct World {
    hub: TestNode,
    fed: Arc<Federation>,
    gtm: Sender,
    hnd: Sender,
    slv: Sender,
}

async fn world() -> World {
    let hub = start_hub().await;
    let at = now().trunc_subsecs(0);
    let tg = crate::helpers::TestGovernance::new();
    let governance = tg.governance.clone();
    let (gtm, hnd, slv) = (Sender::new("GTM"), Sender::new("HND"), Sender::new("SLV"));
    let member = |id: &str, role, status, key: &SigningIdentity, n: u8| {
        let tls = generate_tls_identity(cc(id), &[format!("127.0.0.{n}")]).unwrap();
        Member {
            id: cc(id),
            name: format!("Nodo {id}"),
            role,
            status,
            endpoint: format!("https://127.0.0.{n}:7443"),
            tls_pins: vec![tls.pin],
            signing_keys: vec![member_key(key.public_key_b64(), key)],
            revoked_keys: vec![],
            seal_keys: vec![member_key(SealKeyPair::derive(key).public_key_b64(), key)],
        }
    };
    let manifest = Manifest {
        v: 1,
        federation: "puente-prueba".into(),
        version: 1,
        issued_at: at - Duration::hours(1),
        expires_at: at + Duration::days(30),
        grace_seconds: 7 * 86_400,
        governance: governance.clone(),
        members: vec![
            member(
                "REG",
                MemberRole::Hub,
                MemberStatus::Active,
                hub.state.identity.as_ref(),
                2,
            ),
            member("GTM", MemberRole::Node, MemberStatus::Active, &gtm.key, 3),
            member("HND", MemberRole::Node, MemberStatus::Active, &hnd.key, 4),
            member(
                "SLV",
                MemberRole::Node,
                MemberStatus::Suspended,
                &slv.key,
                5,
            ),
        ],
        agreements: vec![
            Agreement {
                id: "stats-reg".into(),
                kind: AgreementKind::Stats,
                members: ["GTM", "HND", "SLV", "REG"].iter().map(|c| cc(c)).collect(),
                hub: Some(cc("REG")),
                period: None,
            },
            Agreement {
                id: "dir-all".into(),
                kind: AgreementKind::Directory,
                members: ["GTM", "HND", "REG"].iter().map(|c| cc(c)).collect(),
                hub: None,
                period: None,
            },
            Agreement {
                id: "ref-gr".into(),
                kind: AgreementKind::Referral,
                members: vec![cc("GTM"), cc("REG")],
                hub: None,
                period: None,
            },
        ],
    };
    let signed = tg.sign(manifest);
    let store = hub.state.store.as_ref();
    tg.join(&hub, &signed, &[]).await;
    for p in ["GTM", "HND", "SLV"] {
        admin::approve(store, &hub.ctx(), ApprovalKind::Peer, p)
            .await
            .unwrap();
    }
    for a in ["stats-reg", "dir-all", "ref-gr"] {
        admin::approve(store, &hub.ctx(), ApprovalKind::Agreement, a)
            .await
            .unwrap();
    }
    let fed = Federation::load(&hub.state.config).unwrap().unwrap();
    fed.refresh(store).await.unwrap();
    let fed = Arc::new(fed);
    hub.state.federation.set(fed.clone()).unwrap();
    World {
        hub,
        fed,
        gtm,
        hnd,
        slv,
    }
}

/// What happened to one envelope.
#[derive(Debug, PartialEq)]
enum Fate {
    /// The whole request was refused (HTTP error body's code).
    RequestRefused(String),
    /// Refused in the ack (not stored, position not consumed), with the reason.
    Refused(String),
    /// Rejected in the ack (position consumed, body not stored), with the reason.
    Rejected(String),
    /// Stored, then applied: processed, or failed with the reason.
    Processed,
    Failed(String),
}

impl World {
    /// Sends `env` from `from` through the inbox pipeline and applies what was stored.
    async fn deliver(&self, from: &mut Sender, env: SignedEnvelope) -> Fate {
        let result = accept::accept_batch(
            &self.hub.state,
            &self.fed,
            from.id,
            vec![env.envelope.clone()],
        )
        .await;
        let ack = match result {
            Ok(ack) => ack,
            Err(r) => return Fate::RequestRefused(r.body["error"].as_str().unwrap().to_owned()),
        };
        let r = &ack.results[0];
        let reason = r.reason.clone().unwrap_or_default();
        match r.result {
            AckOutcome::Refused => return Fate::Refused(reason),
            AckOutcome::Duplicate => panic!("duplicate"),
            AckOutcome::Rejected | AckOutcome::Stored => {
                from.heads.insert(
                    env.envelope.channel,
                    (env.envelope.seq, env.envelope.hash()),
                );
            }
        }
        if r.result == AckOutcome::Rejected {
            return Fate::Rejected(reason);
        }
        let store = self.hub.state.store.as_ref();
        for row in store.fed_unprocessed(100).await.unwrap() {
            assert!(worker::apply(&self.hub.state, &row).await);
        }
        let problem = store
            .fed_inbox_problems(1000)
            .await
            .unwrap()
            .into_iter()
            .find(|p| p.id == env.envelope.id);
        match problem {
            Some(p) => Fate::Failed(p.reason.unwrap_or_default()),
            None => Fate::Processed,
        }
    }

    /// Sends a release body from `from` on the stats channel.
    async fn send(&self, from: &mut Sender, body: &ReleaseBody) -> Fate {
        let env = from.envelope(
            Channel::Stats,
            "stats.release",
            serde_json::to_value(body).unwrap(),
        );
        let fate = self.deliver(from, env).await;
        if fate == Fate::Processed {
            from.last_release = puente_node::stats::release_hash(body).unwrap();
        }
        fate
    }

    async fn stored(&self) -> usize {
        self.hub.state.store.hub_releases(None).await.unwrap().len()
    }

    async fn count_audit(&self, action: &str) -> usize {
        self.hub
            .audit_actions()
            .await
            .iter()
            .filter(|(a, _, _)| a == action)
            .count()
    }
}

fn dim(name: &str, cats: &[&str]) -> Dimension {
    Dimension {
        name: name.into(),
        categories: cats.iter().map(|c| (*c).to_owned()).collect(),
    }
}

fn protected(id: &str, dims: Vec<Dimension>, counts: Vec<u64>) -> ProtectedTable {
    let p = Protection {
        k: 5,
        rounding_base: None,
        dp: None,
    };
    protect(
        &Table::new(id, dims, counts).unwrap(),
        &p,
        &mut rand::rngs::OsRng,
    )
    .unwrap()
}

/// A release of `period` (version `version`, chained to `prev`) whose T01 has one small cell
/// (3 → suppressed) when `small` is set.
fn release(
    country: &str,
    period: &str,
    version: u32,
    prev: &str,
    scale: u64,
    small: bool,
) -> ReleaseBody {
    let sex = ["FEMALE", "MALE"];
    let t01 = protected(
        "T01",
        vec![
            dim("glotip_sex", &sex),
            dim("glotip_age_band", &["ADULT", "CHILD"]),
            dim("glotip_form", &["FORCED_LABOUR", "SEXUAL_EXPLOITATION"]),
        ],
        vec![
            30 * scale,
            12 * scale,
            if small { 3 } else { 9 * scale },
            10 * scale,
            25 * scale,
            9 * scale,
            6 * scale,
            20 * scale,
        ],
    );
    let t02 = protected(
        "T02",
        vec![
            dim("glotip_sex", &sex),
            dim("ctdc_age_band", &["ADULT", "MINOR"]),
        ],
        vec![40 * scale, 15 * scale, 30 * scale, 20 * scale],
    );
    let t03 = protected(
        "T03",
        vec![
            dim("citizenship", &["GTM", "HND"]),
            dim("country_of_exploitation", &["GTM", "MEX"]),
        ],
        vec![50 * scale, 20 * scale, 10 * scale, 35 * scale],
    );
    let t08 = protected(
        "T08",
        vec![
            dim("referral_flow", &["SENT", "RECEIVED", "ACCEPTED"]),
            dim("partner_country", &["HND", "SLV"]),
        ],
        vec![6, 0, 5, 7, 5, 0],
    );
    let at = now().to_rfc3339();
    ReleaseBody {
        v: RELEASE_FORMAT,
        country: cc(country),
        period: period.parse().unwrap(),
        version,
        prev: prev.to_owned(),
        prepared_at: at.clone(),
        published_at: at,
        review: ReleaseReview::Reviewed,
        method: t01.method.clone(),
        withheld: vec![],
        tables: vec![t01, t02, t03, t08],
    }
}

#[tokio::test]
async fn the_hub_stores_good_releases_refuses_bad_ones_and_shows_the_latest() {
    let mut w = world().await;
    let mut gtm = std::mem::replace(&mut w.gtm, Sender::new("GTM"));
    let mut hnd = std::mem::replace(&mut w.hnd, Sender::new("HND"));
    let mut slv = std::mem::replace(&mut w.slv, Sender::new("SLV"));

    // A good release: stored, audited, its message processed.
    let v1 = release("GTM", "2025-Q1", 1, ZERO_HASH, 1, true);
    assert_eq!(w.send(&mut gtm, &v1).await, Fate::Processed);
    assert_eq!(w.stored().await, 1);
    assert_eq!(w.count_audit("hub.release_stored").await, 1);
    let rows = w.hub.state.store.hub_releases(None).await.unwrap();
    assert_eq!(rows[0].hash, puente_node::stats::release_hash(&v1).unwrap());
    assert_eq!((rows[0].version, rows[0].seq), (1, 1));

    // Refusals, each recorded (failed with its code, audited) and nothing stored.
    let mut refusals = 0;
    let mut refused = |fate: Fate, code: &str| {
        assert_eq!(fate, Fate::Failed(code.into()));
        refusals += 1;
        refusals
    };
    // A cell under k edited into a good release.
    let mut unsafe_body = release("GTM", "2025-Q2", 1, &gtm.last_release, 1, true);
    let t01 = &mut unsafe_body.tables[0];
    let i = t01
        .cells
        .iter()
        .position(|c| matches!(c, Cell::Suppressed(_)))
        .unwrap();
    t01.cells[i] = Cell::Count(3);
    let n = refused(w.send(&mut gtm, &unsafe_body).await, "release_unsafe");
    // The same version of a period again, with the right chain.
    let again = release("GTM", "2025-Q1", 1, &gtm.last_release, 1, false);
    let n2 = refused(w.send(&mut gtm, &again).await, "release_old_version");
    // A broken chain (a new period that does not chain to v1).
    let broken = release("GTM", "2025-Q2", 1, ZERO_HASH, 1, false);
    let n3 = refused(w.send(&mut gtm, &broken).await, "release_chain_broken");
    // GTM sends HND's release.
    let wrong_country = release("HND", "2025-Q2", 1, &gtm.last_release, 1, false);
    let n4 = refused(
        w.send(&mut gtm, &wrong_country).await,
        "release_wrong_country",
    );
    // A month where the agreement says quarters.
    let wrong_kind = release("GTM", "2025-04", 1, &gtm.last_release, 1, false);
    let n5 = refused(w.send(&mut gtm, &wrong_kind).await, "release_wrong_period");
    // Not a release at all.
    let env = gtm.envelope(Channel::Stats, "stats.release", json!({"v": 1}));
    assert_eq!(
        w.deliver(&mut gtm, env).await,
        Fate::Failed("release_malformed".into())
    );
    assert_eq!((n, n2, n3, n4, n5), (1, 2, 3, 4, 5));
    assert_eq!(w.stored().await, 1, "nothing stored by a refusal");
    assert_eq!(w.count_audit("hub.release_refused").await, 6);

    // What the hub does not take at all: rejected before the body is stored.
    let dir = gtm.envelope(
        Channel::Directory,
        "directory.publish",
        json!({"revision": 1}),
    );
    let dir_id = dir.envelope.id;
    assert_eq!(
        w.deliver(&mut gtm, dir).await,
        Fate::Rejected("not_accepted_by_hub".into())
    );
    let offer = gtm.envelope(
        Channel::Referral,
        "referral.offer",
        json!({"referral_id": "x"}),
    );
    assert_eq!(
        w.deliver(&mut gtm, offer).await,
        Fate::Rejected("not_accepted_by_hub".into())
    );
    let problems = w.hub.state.store.fed_inbox_problems(100).await.unwrap();
    let d = problems.iter().find(|p| p.id == dir_id).unwrap();
    assert_eq!(d.reason.as_deref(), Some("not_accepted_by_hub"));
    assert!(d.body.is_none(), "a rejected envelope's body is not kept");
    // A suspended member, a stranger, a bad signature: refused by the inbox itself.
    let s = release("SLV", "2025-Q1", 1, ZERO_HASH, 1, false);
    let env = slv.envelope(
        Channel::Stats,
        "stats.release",
        serde_json::to_value(&s).unwrap(),
    );
    assert_eq!(
        w.deliver(&mut slv, env).await,
        Fate::RequestRefused("origin_not_active".into())
    );
    let mut cri = Sender::new("CRI");
    let c = release("CRI", "2025-Q1", 1, ZERO_HASH, 1, false);
    let env = cri.envelope(
        Channel::Stats,
        "stats.release",
        serde_json::to_value(&c).unwrap(),
    );
    assert_eq!(
        w.deliver(&mut cri, env).await,
        Fate::RequestRefused("unknown_origin".into())
    );
    let h = release("HND", "2025-Q1", 1, ZERO_HASH, 2, false);
    let forged = hnd.envelope_signed(
        Channel::Stats,
        "stats.release",
        serde_json::to_value(&h).unwrap(),
        &SigningIdentity::generate("HND-2026a".parse().unwrap()),
    );
    assert_eq!(
        w.deliver(&mut hnd, forged).await,
        Fate::Refused("bad_signature".into())
    );
    assert_eq!(w.stored().await, 1);

    // HND's good release, and a correction of GTM's 2025-Q1 (v2, chained to v1).
    assert_eq!(w.send(&mut hnd, &h).await, Fate::Processed);
    let v2 = release("GTM", "2025-Q1", 2, &gtm.last_release, 2, true);
    assert_eq!(w.send(&mut gtm, &v2).await, Fate::Processed);
    // An older version after the correction.
    let old = release("GTM", "2025-Q1", 1, &gtm.last_release, 1, false);
    assert_eq!(
        w.send(&mut gtm, &old).await,
        Fate::Failed("release_old_version".into())
    );
    // The next quarter, chained to the correction.
    let q2 = release("GTM", "2025-Q2", 1, &gtm.last_release, 1, false);
    assert_eq!(w.send(&mut gtm, &q2).await, Fate::Processed);
    assert_eq!(w.stored().await, 4);

    // The API: the latest version per (country, period).
    let hub = &w.hub;
    let (viewer, viewer_secret) = hub.user("consulta", "hub_viewer", None, true).await;
    let token = hub.token(viewer.id, 30).await;
    let http = reqwest::Client::new();
    let api: Value = http
        .get(format!("{}/api/v1/hub/releases", hub.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = api["items"].as_array().unwrap();
    let keys: Vec<(String, String, u64)> = list
        .iter()
        .map(|r| {
            (
                r["country"].as_str().unwrap().to_owned(),
                r["period"].as_str().unwrap().to_owned(),
                r["version"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        vec![
            ("GTM".into(), "2025-Q1".into(), 2),
            ("GTM".into(), "2025-Q2".into(), 1),
            ("HND".into(), "2025-Q1".into(), 1),
        ]
    );
    let gq1 = &list[0];
    assert_eq!(
        gq1["hash"],
        json!(puente_node::stats::release_hash(&v2).unwrap())
    );
    assert_eq!(
        gq1["prev"],
        json!(puente_node::stats::release_hash(&v1).unwrap())
    );
    let body: ReleaseBody = serde_json::from_value(gq1["body"].clone()).unwrap();
    assert_eq!(body, v2);
    let filtered: Value = http
        .get(format!(
            "{}/api/v1/hub/releases?country=HND&from=2025-Q1&to=2025-Q1",
            hub.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    let bad = http
        .get(format!("{}/api/v1/hub/releases?from=ayer", hub.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 422);

    // The dashboard, in Spanish, as a hub viewer.
    let b = hub.client();
    let p = b
        .login(&viewer.username, PASSWORD, viewer_secret.as_deref())
        .await;
    assert_eq!(p.location.as_deref(), Some("/"));
    let home = b.get("/").await;
    assert!(
        home.body.contains("href=\"/hub\""),
        "the home page links to the dashboard"
    );
    assert!(!home.body.contains("href=\"/cases\""));
    let d = b.get("/hub").await;
    assert_eq!(d.status, 200);
    let html = &d.body;
    if let Ok(path) = std::env::var("HUB_DUMP_HTML") {
        std::fs::write(path, html).unwrap();
    }
    assert!(html.contains("Estadísticas de la federación"));
    assert!(html.contains("<svg"), "a server-rendered chart");
    assert!(!html.contains("<script"));
    assert!(html.contains("&lt;5"), "a suppressed cell shows as <5");
    assert!(html.contains("no recibido aún"), "SLV sent nothing");
    assert!(html.contains("corrección"), "GTM's 2025-Q1 is a correction");
    assert!(html.contains("Versión 2"));
    assert!(
        html.contains("sin contar"),
        "a sum that leaves suppressed cells out says so"
    );
    // The federation total of 2025-Q1 adds the latest versions only: T01 totals of GTM v2 and
    // HND (both published), never v1.
    let total = |b: &ReleaseBody| b.tables[0].total.count().unwrap();
    let sum = total(&v2) + total(&h);
    assert!(
        html.contains(&format!("<strong>{sum}</strong>")),
        "sum {sum}"
    );
    // Filters.
    let only_q2 = b.get("/hub?from=2025-Q2&country=GTM").await;
    assert_eq!(only_q2.status, 200);
    assert!(!only_q2.body.contains(">2025-Q1<"));
    assert!(only_q2.body.contains("2025-Q2"));
    // English.
    let en = b.post_from("/hub", "/language", &[("lang", "en")]).await;
    assert!(en.status < 400);
    let d_en = b.get("/hub").await;
    assert!(d_en.body.contains("not yet received"));
    assert!(d_en.body.contains("Federation statistics"));
    b.post_from("/hub", "/language", &[("lang", "es")]).await;

    // Every version stays listed.
    let l = b.get("/hub/releases").await;
    assert_eq!(l.status, 200);
    assert_eq!(l.body.matches("/hub/releases/GTM/2025-Q1\"").count(), 2);
    let one = b.get("/hub/releases/GTM/2025-Q1").await;
    assert_eq!(one.status, 200);
    assert!(one
        .body
        .contains(&puente_node::stats::release_hash(&v1).unwrap()));
    assert!(one
        .body
        .contains(&puente_node::stats::release_hash(&v2).unwrap()));
    assert!(one.body.contains("Versión 1") && one.body.contains("Versión 2"));
    assert_eq!(b.get("/hub/releases/GTM/2024-Q4").await.status, 404);

    // Exports: UTF-8 with BOM, CSV that parses, HXL's hashtag row, GLOTIP shape.
    let before = w.count_audit("hub.export").await;
    for (format, heading) in [("csv", "period"), ("hxl", "period"), ("glotip", "country")] {
        let r = b
            .http
            .get(format!("{}/hub/export?format={format}", hub.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{format}: BOM");
        let mut rd = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(false)
            .from_reader(&bytes[3..]);
        let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
        assert_eq!(&rows[0][0], heading, "{format}");
        if format == "hxl" {
            assert_eq!(&rows[1][0], "#date+period");
            assert!(rows[1].iter().any(|c| c == "#affected+num"));
        }
        let data: Vec<&csv::StringRecord> = rows
            .iter()
            .skip(if format == "hxl" { 2 } else { 1 })
            .collect();
        assert!(
            data.iter().any(|r| r.iter().any(|c| c == "<5")),
            "{format}: <5"
        );
        assert!(data.iter().any(|r| r.iter().any(|c| c == "HND")));
        // Only latest versions: GTM 2025-Q1 appears with v2's total, not v1's.
        if format == "glotip" {
            let t = data
                .iter()
                .find(|r| &r[0] == "GTM" && &r[1] == "2025-Q1" && &r[2] == "TOTAL")
                .unwrap();
            assert_eq!(t[8].to_string(), total(&v2).to_string());
        }
    }
    assert_eq!(w.count_audit("hub.export").await, before + 3);

    // Roles: a national administrator of the hub sees it; an auditor does not.
    let (adm, adm_secret) = hub.user("admin-reg", "node_admin", None, true).await;
    let ba = hub.client();
    ba.login(&adm.username, PASSWORD, adm_secret.as_deref())
        .await;
    assert_eq!(ba.get("/hub").await.status, 200);
    let (aud, aud_secret) = hub.user("auditoria", "auditor", None, true).await;
    let bu = hub.client();
    bu.login(&aud.username, PASSWORD, aud_secret.as_deref())
        .await;
    assert_eq!(bu.get("/hub").await.status, 403);
    assert_eq!(bu.get("/hub/export?format=csv").await.status, 403);
    let aud_token = hub.token(aud.id, 30).await;
    let r = http
        .get(format!("{}/api/v1/hub/releases", hub.base))
        .bearer_auth(&aud_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // What a hub does serve, on its own schema.
    for path in [
        "/",
        "/account",
        "/admin/users",
        "/admin/roles",
        "/admin/orgs",
        "/tokens",
        "/audit",
        "/federation",
    ] {
        assert_eq!(ba.get(path).await.status, 200, "{path}");
    }
    let roles = ba.get("/admin/roles").await.body;
    assert!(roles.contains("Consulta del tablero regional"));
    assert!(!roles.contains("Gestor(a) de casos"));
    assert_eq!(bu.get("/audit").await.status, 200);
    let anon = hub.client().get("/hub").await;
    assert_eq!(anon.location.as_deref(), Some("/login"));
    // A hub serves none of a country node's case work.
    for path in ["/cases", "/referrals", "/statistics", "/directory"] {
        assert_eq!(ba.get(path).await.status, 404, "{path}");
    }
    let r = http
        .get(format!("{}/api/v1/cases", hub.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

#[tokio::test]
async fn each_kind_of_node_refuses_the_others_roles_and_a_country_node_refuses_releases() {
    // The hub refuses case roles (shell, pages).
    let hub = start_hub().await;
    let input = puente_node::admin::users::NewUser {
        username: "gestora".into(),
        display_name: "Gestora".into(),
        org_id: String::new(),
        role: "analyst".into(),
    };
    let e = puente_node::admin::users::create(
        hub.state.store.as_ref(),
        &hub.ctx(),
        None,
        &input,
        Some(PASSWORD.into()),
    )
    .await
    .unwrap_err();
    assert!(format!("{e:?}").contains("role_not_in_mode"), "{e:?}");
    let (adm, secret) = hub.user("admin-reg", "node_admin", None, true).await;
    let b = hub.client();
    b.login(&adm.username, PASSWORD, secret.as_deref()).await;
    let form = b.get("/admin/users").await;
    assert!(form.body.contains("value=\"hub_viewer\""));
    assert!(!form.body.contains("value=\"caseworker\""));
    let p = b
        .post_from(
            "/admin/users",
            "/admin/users",
            &[
                ("username", "analista"),
                ("display_name", "Analista"),
                ("role", "analyst"),
                ("org_id", ""),
            ],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(hub.state.store.user_by_username("analista").await.is_err());

    // A country node refuses hub_viewer.
    let node = TestNode::start().await;
    let input = puente_node::admin::users::NewUser {
        username: "consulta".into(),
        display_name: "Consulta".into(),
        org_id: String::new(),
        role: "hub_viewer".into(),
    };
    let e = puente_node::admin::users::create(
        node.state.store.as_ref(),
        &node.ctx(),
        None,
        &input,
        Some(PASSWORD.into()),
    )
    .await
    .unwrap_err();
    assert!(format!("{e:?}").contains("role_not_in_mode"), "{e:?}");
    // And does not serve the hub's pages.
    let (nadm, nsecret) = node.user("nacional", "node_admin", None, true).await;
    let bn = node.client();
    bn.login(&nadm.username, PASSWORD, nsecret.as_deref()).await;
    assert_eq!(bn.get("/hub").await.status, 404);

    // A country node that receives a `stats.release` refuses it: unknown kind.
    let gtm = Sender::new("HND");
    let body = release("HND", "2025-Q1", 1, ZERO_HASH, 1, false);
    let env = gtm.envelope(
        Channel::Stats,
        "stats.release",
        serde_json::to_value(&body).unwrap(),
    );
    let text = String::from_utf8(env.bytes.clone()).unwrap();
    let sql = "INSERT INTO fed_inbox (id, origin, channel, epoch, seq, hash, kind, body, received_at, status) \
               VALUES ($1, 'HND', 'stats', 1, 1, $2, 'stats.release', $3, $4, 'stored')";
    let at = now();
    on_db!(node, |pool| sqlx::query(sql)
        .bind(env.envelope.id)
        .bind(&env.hash)
        .bind(&text)
        .bind(at)
        .execute(&pool)
        .await
        .map(|_| ())
        .unwrap());
    let store = node.state.store.as_ref();
    let row = store
        .fed_unprocessed(10)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.id == env.envelope.id)
        .unwrap();
    assert!(worker::apply(&node.state, &row).await);
    let p = store
        .fed_inbox_problems(10)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.id == env.envelope.id)
        .unwrap();
    assert_eq!(p.reason.as_deref(), Some("unknown_kind"));
}

#[test]
fn the_hub_migrations_are_links_to_the_nodes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    for backend in ["sqlite", "postgres"] {
        for f in [
            "0001_accounts_and_audit.sql",
            "0002_totp_last_step.sql",
            "0005_federation.sql",
        ] {
            let link = root.join("hub").join(backend).join(f);
            assert!(
                link.symlink_metadata().unwrap().file_type().is_symlink(),
                "{link:?}"
            );
            assert_eq!(
                std::fs::read(&link).unwrap(),
                std::fs::read(root.join(backend).join(f)).unwrap()
            );
        }
    }
    let _ = Period::Year(2025);
}

fn puente(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_puente"))
        .args(args)
        .env_remove("PUENTE_CONFIG")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn puente_init_with_the_hub_role_makes_a_hub() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = fresh_database(dir.path()).await;
    let d = dir.path().join("hub");
    let d = d.to_str().unwrap();
    let (code, out, err) = puente(&[
        "init",
        "--country",
        "REG",
        "--data-dir",
        d,
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        &db_url,
        "--federation-listen",
        "127.0.0.1:0",
        "--federation-role",
        "hub",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let cfg = format!("{d}/puente.toml");
    let config = Config::load(std::path::Path::new(&cfg)).unwrap();
    assert_eq!(Schema::of(&config), Schema::Hub);
    let add = |name: &str, role: &str| {
        puente(&[
            "--config",
            &cfg,
            "user",
            "add",
            "--username",
            name,
            "--name",
            name,
            "--role",
            role,
        ])
    };
    let (code, out, err) = add("consulta", "hub_viewer");
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = add("gestora", "analyst");
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("role_not_in_mode"), "{err}");
    // Case work is refused with a clear message; the data key rotates over what a hub seals
    // (its users' second factors), not over tables it does not have.
    let (code, out, err) = puente(&[
        "--config", &cfg, "export", "--format", "ctdc", "--as", "consulta",
    ]);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("holds no cases"), "{err}");
    let (code, out, err) = puente(&["--config", &cfg, "keys", "rotate-data-key"]);
    assert_eq!(code, 0, "{out}{err}");
    let hub = TestNode {
        _dir: dir,
        config_path: cfg.clone().into(),
        state: Node::new(
            config.clone(),
            puente_node::store::connect_config(&config).await.unwrap(),
            Arc::new(SystemClock),
            DataKey::generate(),
            SigningIdentity::generate("REG-2026a".parse().unwrap()),
        )
        .unwrap(),
        base: String::new(),
        db_url,
    };
    let tables = tables_of(&hub).await;
    assert!(tables.iter().any(|t| t == "hub_releases"), "{tables:?}");
    for t in FORBIDDEN {
        assert!(!tables.iter().any(|x| x == t), "{t}");
    }
}

#[tokio::test]
async fn a_release_applied_before_an_earlier_one_of_its_stream_waits_for_it() {
    let mut w = world().await;
    let mut gtm = std::mem::replace(&mut w.gtm, Sender::new("GTM"));
    let q1 = release("GTM", "2025-Q1", 1, ZERO_HASH, 1, false);
    let q2 = release(
        "GTM",
        "2025-Q2",
        1,
        &puente_node::stats::release_hash(&q1).unwrap(),
        1,
        false,
    );
    let e1 = gtm.envelope(
        Channel::Stats,
        "stats.release",
        serde_json::to_value(&q1).unwrap(),
    );
    gtm.heads
        .insert(Channel::Stats, (e1.envelope.seq, e1.envelope.hash()));
    let e2 = gtm.envelope(
        Channel::Stats,
        "stats.release",
        serde_json::to_value(&q2).unwrap(),
    );
    let ack = accept::accept_batch(
        &w.hub.state,
        &w.fed,
        gtm.id,
        vec![e1.envelope.clone(), e2.envelope.clone()],
    )
    .await
    .unwrap();
    assert!(ack.results.iter().all(|r| r.result == AckOutcome::Stored));
    let store = w.hub.state.store.as_ref();
    let rows = store.fed_unprocessed(10).await.unwrap();
    let r1 = rows.iter().find(|r| r.id == e1.envelope.id).unwrap();
    let r2 = rows.iter().find(|r| r.id == e2.envelope.id).unwrap();
    // The second first (as another replica might): not refused, left for later.
    assert!(!worker::apply(&w.hub.state, r2).await);
    assert_eq!(w.stored().await, 0);
    assert!(store.fed_inbox_problems(10).await.unwrap().is_empty());
    assert!(worker::apply(&w.hub.state, r1).await);
    assert!(worker::apply(&w.hub.state, r2).await);
    assert_eq!(w.stored().await, 2);
    assert!(store.fed_inbox_problems(10).await.unwrap().is_empty());
}
