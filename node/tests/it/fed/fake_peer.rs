//! A fake peer, `MEX`, with its own TLS key pinned in the manifest and its own signing keys,
//! that talks to a real node over mutual TLS and sends hostile envelopes: forged, replayed,
//! reordered, gapped, forked, wrong destination, wrong origin, unknown / revoked / expired /
//! blocked key, future-dated, oversize, malformed, without an agreement. Each must be answered
//! with the HTTP status and reason code of docs/protocol.md, and must change nothing on the
//! node (status JSON, heads, directory).

use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use puente_common::CountryCode;
use puente_federation::transport::{self, PinSet, Timeouts, TlsIdentity};
use puente_federation::{
    Ack, AckOutcome, AckResult, Channel, Envelope, KeyId, SignedEnvelope, SignedManifest,
    SigningIdentity, UnsignedAck, UnsignedEnvelope, ZERO_HASH,
};
use puente_node::clock::{Clock, SystemClock};
use serde_json::{json, Value};

use super::cluster::{Cluster, ClusterOptions, Status};

const DIR: &str = "directory";

fn cc(s: &str) -> CountryCode {
    s.parse().unwrap()
}

fn kid(s: &str) -> KeyId {
    s.parse().unwrap()
}

fn now() -> DateTime<Utc> {
    SystemClock.now()
}

/// A member that is not a running node: its TLS identity, its signing keys and its manifest
/// entry.
pub struct FakeMember {
    pub id: CountryCode,
    pub tls: TlsIdentity,
    /// The current key (`XXX-2026a`), valid since 2020, no end.
    pub key: SigningIdentity,
    /// Listed, and in `revoked_keys`.
    pub revoked: SigningIdentity,
    /// Listed, valid 2020–2021 only.
    pub expired: SigningIdentity,
    /// Not in the manifest at all.
    pub unknown: SigningIdentity,
}

impl FakeMember {
    pub fn new(id: &str) -> FakeMember {
        let id = cc(id);
        let tls = transport::generate_tls_identity(id, &["127.0.0.1".to_owned()])
            .unwrap()
            .identity()
            .unwrap();
        FakeMember {
            id,
            tls,
            key: SigningIdentity::generate(kid(&format!("{id}-2026a"))),
            revoked: SigningIdentity::generate(kid(&format!("{id}-2025a"))),
            expired: SigningIdentity::generate(kid(&format!("{id}-2020a"))),
            unknown: SigningIdentity::generate(kid(&format!("{id}-2026z"))),
        }
    }

    /// The manifest entry (every field of a member): nothing listens at its endpoint.
    pub fn member_json(&self) -> Value {
        let key = |k: &SigningIdentity, until: Value| {
            json!({
                "id": k.key_id().as_str(),
                "public_key": k.public_key_b64(),
                "valid_from": "2020-01-01T00:00:00.000000Z",
                "valid_until": until,
            })
        };
        json!({
            "id": self.id.as_str(),
            "name": format!("Nodo de prueba {}", self.id),
            "role": "node",
            "status": "active",
            "endpoint": "https://127.0.0.1:9",
            "tls_pins": [self.tls.pin()],
            "signing_keys": [
                key(&self.key, Value::Null),
                key(&self.revoked, Value::Null),
                key(&self.expired, json!("2021-01-01T00:00:00.000000Z")),
            ],
            "revoked_keys": [self.revoked.key_id().as_str()],
        })
    }
}

/// One envelope to build: defaults are a valid next `directory.publish` of a stream.
#[derive(Clone)]
pub struct Draft {
    pub origin: CountryCode,
    pub destination: CountryCode,
    pub channel: Channel,
    pub epoch: u64,
    pub seq: u64,
    pub prev: String,
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub manifest_version: u64,
    pub payload: Value,
}

impl Draft {
    pub fn sign(&self, key: &SigningIdentity) -> SignedEnvelope {
        UnsignedEnvelope {
            id: uuid::Uuid::now_v7(),
            origin: self.origin,
            destination: self.destination,
            channel: self.channel,
            epoch: self.epoch,
            seq: self.seq,
            prev: self.prev.clone(),
            kind: self.kind.clone(),
            created_at: self.created_at,
            manifest_version: self.manifest_version,
            payload: self.payload.clone(),
        }
        .sign(key)
        .unwrap()
    }
}

/// A valid directory of the fake peer at `revision`: one shelter.
pub fn directory_payload(revision: u64) -> Value {
    json!({
        "revision": revision,
        "published_at": puente_common::directory::wire_time(now()),
        "organisations": [{
            "code": "MEXORG",
            "name": "Albergue de prueba",
            "org_type": "NGO",
            "services": [{
                "id": "0190a4a0-0000-7000-8000-000000000001",
                "service_type": "SHELTER",
                "populations": [],
                "languages": ["spa"],
                "subdivisions": [],
                "contact": format!("c-MEX-rev{revision}"),
                "notes": "",
            }],
        }],
    })
}

/// Waits until `node` shows MEX's directory at `revision` (the inbox is processed after the
/// ack).
async fn wait_mex_revision(c: &Cluster, revision: u64) {
    let gtm = c.node("GTM");
    c.wait_for(
        &format!("GTM to show MEX's directory at revision {revision}"),
        Duration::from_secs(10),
        || async {
            super::cluster::revision_of(&gtm.directory().await, "MEX")
                .is_some_and(|(r, _)| r == revision)
        },
    )
    .await;
}

/// What a federation endpoint answered.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}), status {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The `error` code of a refused request, with the expected status.
    pub fn assert_error(&self, status: u16, code: &str) -> Value {
        let body = String::from_utf8_lossy(&self.body);
        assert_eq!(self.status, status, "expected {status} {code}, got: {body}");
        let v = self.json();
        assert_eq!(v["error"], code, "expected {status} {code}, got: {body}");
        v
    }
}

/// The fake peer's view of one real node.
pub struct FakePeer {
    pub me: FakeMember,
    pub node: CountryCode,
    pub http: transport::PeerClient,
    /// The node's signing key, from its manifest entry (to verify acks and pulled envelopes).
    pub node_key: ed25519_dalek::VerifyingKey,
    pub manifest_version: u64,
}

impl FakePeer {
    /// Connects `me` to `node` of `cluster` (through the node's proxy, as peers do).
    pub async fn connect(me: FakeMember, cluster: &Cluster, node: &str) -> FakePeer {
        let info = &cluster.member_info[node];
        let pins: Vec<String> = info["tls_pins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_owned())
            .collect();
        let node_cc = cc(node);
        let http = transport::PeerClient::new(
            node_cc,
            info["endpoint"].as_str().unwrap(),
            &me.tls,
            PinSet::from_members([(node_cc, pins)]).unwrap(),
            Timeouts {
                connect: Duration::from_secs(5),
                request: Duration::from_secs(15),
            },
        )
        .unwrap();
        let pk = base64::engine::general_purpose::STANDARD
            .decode(info["signing_keys"][0]["public_key"].as_str().unwrap())
            .unwrap();
        let node_key = ed25519_dalek::VerifyingKey::from_bytes(&pk.try_into().unwrap()).unwrap();
        let manifest_version = cluster.node(node).status().await.manifest_version;
        FakePeer {
            me,
            node: node_cc,
            http,
            node_key,
            manifest_version,
        }
    }

    /// A valid draft for seq `seq` after `prev` on the directory stream, epoch 1.
    pub fn draft(&self, seq: u64, prev: &str) -> Draft {
        Draft {
            origin: self.me.id,
            destination: self.node,
            channel: Channel::Directory,
            epoch: 1,
            seq,
            prev: prev.to_owned(),
            kind: "directory.publish".into(),
            created_at: now(),
            manifest_version: self.manifest_version,
            payload: directory_payload(seq),
        }
    }

    /// POST /federation/v1/inbox with these envelope texts, as given.
    pub async fn post_raw(&self, envelopes: &[&[u8]]) -> Resp {
        let mut body = b"{\"envelopes\":[".to_vec();
        for (i, e) in envelopes.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(e);
        }
        body.extend_from_slice(b"]}");
        let r = self
            .http
            .post("/federation/v1/inbox")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        Resp {
            status: r.status().as_u16(),
            body: r.bytes().await.unwrap().to_vec(),
        }
    }

    pub async fn post(&self, envelopes: &[&SignedEnvelope]) -> Resp {
        let texts: Vec<&[u8]> = envelopes.iter().map(|e| e.bytes.as_slice()).collect();
        self.post_raw(&texts).await
    }

    pub async fn get(&self, path_and_query: &str) -> Resp {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let mut url = self.http.url(path);
        if !query.is_empty() {
            url.set_query(Some(query));
        }
        let r = self.http.client.get(url).send().await.unwrap();
        Resp {
            status: r.status().as_u16(),
            body: r.bytes().await.unwrap().to_vec(),
        }
    }

    /// Posts and expects a 200 signed ack from the node, about this stream: verified.
    pub async fn ack(&self, envelopes: &[&SignedEnvelope]) -> Ack {
        let r = self.post(envelopes).await;
        self.verified_ack(&r)
    }

    pub fn verified_ack(&self, r: &Resp) -> Ack {
        assert_eq!(
            r.status,
            200,
            "expected a signed ack: {}",
            String::from_utf8_lossy(&r.body)
        );
        let ack = Ack::parse(&r.body)
            .unwrap_or_else(|e| panic!("not an ack ({e:?}): {}", String::from_utf8_lossy(&r.body)));
        ack.verify(&self.node_key).expect("ack signed by the node");
        assert_eq!(ack.from, self.node);
        assert_eq!(ack.to, self.me.id);
        ack
    }
}

/// One result of an ack, by sequence number.
pub fn result(ack: &Ack, seq: u64) -> &AckResult {
    ack.results
        .iter()
        .find(|r| r.seq == seq)
        .unwrap_or_else(|| panic!("no result for seq {seq}: {ack:?}"))
}

pub fn assert_refused(ack: &Ack, seq: u64, reason: &str) {
    let r = result(ack, seq);
    assert_eq!(r.result, AckOutcome::Refused, "seq {seq}: {ack:?}");
    assert_eq!(r.reason.as_deref(), Some(reason), "seq {seq}: {ack:?}");
}

/// A GTM node with the fake member `MEX` (and `NIC`, a second member that never runs, for
/// wrong-origin checks) in its manifest, a directory agreement GTM–MEX, every approval given.
async fn gtm_with_fake(opts: impl FnOnce(&mut ClusterOptions)) -> (Cluster, FakePeer, FakeMember) {
    let mex = FakeMember::new("MEX");
    let nic = FakeMember::new("NIC");
    let mut o = ClusterOptions {
        members: vec!["GTM"],
        extra_members: vec![mex.member_json(), nic.member_json()],
        agreements: vec!["directory:GTM,MEX,NIC".into()],
        ..ClusterOptions::default()
    };
    opts(&mut o);
    let c = Cluster::start_with(o).await;
    let peer = FakePeer::connect(mex, &c, "GTM").await;
    (c, peer, nic)
}

/// How long a running node may take to act on a trust change made by the command line in
/// another process (it re-reads approvals, blocks and the manifest every 2 s).
pub const TRUST_REFRESH: Duration = Duration::from_secs(6);

/// Waits until the node answers `probe` (an envelope that changes nothing whatever the
/// answer: a replay) with an error or result whose text contains `code`: the trust change
/// made by the command line has been picked up.
async fn wait_applied(peer: &FakePeer, probe: &SignedEnvelope, code: &str) {
    let ok = super::cluster::wait_until(TRUST_REFRESH, || async {
        let r = peer.post(&[probe]).await;
        String::from_utf8_lossy(&r.body).contains(code)
    })
    .await;
    let r = peer.post(&[probe]).await;
    assert!(
        ok,
        "the node did not act on the change within {TRUST_REFRESH:?}: {} {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
}

/// What must not change: the node's status (streams in, epoch, manifest), what it says it
/// holds from the peer (`/heads`), and its directory.
async fn snapshot(c: &Cluster, peer: &FakePeer) -> (Value, Value, String) {
    let s: Status = c.node("GTM").status().await;
    let status = json!({
        "epoch": s.epoch,
        "manifest_version": s.manifest_version,
        "streams_in": s.streams_in,
    });
    // What the node answers the peer about its heads (a refusal, for a peer it refuses).
    let heads = peer.get("/federation/v1/heads").await;
    let heads = json!({ "status": heads.status, "body": heads.json() });
    (status, heads, c.node("GTM").directory_text().await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_envelopes_are_refused_with_their_reason_and_change_nothing() {
    let (c, peer, nic) = gtm_with_fake(|_| {}).await;
    let first = peer.draft(1, ZERO_HASH).sign(&peer.me.key);
    let ack = peer.ack(&[&first]).await;
    assert_eq!(result(&ack, 1).result, AckOutcome::Stored, "{ack:?}");
    assert_eq!(ack.acked_through_seq, 1);
    assert_eq!(ack.head_hash, first.hash);
    wait_mex_revision(&c, 1).await;
    let before = snapshot(&c, &peer).await;
    let next = peer.draft(2, &first.hash);

    // Refused per message (200, signed ack, stream not advanced).
    let mut forged: Value = serde_json::from_slice(&next.sign(&peer.me.key).bytes).unwrap();
    forged["payload"]["revision"] = json!(99);
    let forged = serde_json::to_vec(&forged).unwrap();
    let wrong_signer = SigningIdentity::generate(kid("MEX-2026a"));
    let mut future = next.clone();
    future.created_at = now() + chrono::Duration::minutes(10);
    let per_message: Vec<(&str, Vec<u8>, &str)> = vec![
        ("payload changed after signing", forged, "bad_signature"),
        (
            "signed by another key under the right id",
            next.sign(&wrong_signer).bytes,
            "bad_signature",
        ),
        (
            "key not in the manifest",
            next.sign(&peer.me.unknown).bytes,
            "unknown_key",
        ),
        (
            "revoked key",
            next.sign(&peer.me.revoked).bytes,
            "key_revoked",
        ),
        (
            "key outside its validity",
            next.sign(&peer.me.expired).bytes,
            "key_not_valid",
        ),
        (
            "created ten minutes in the future",
            future.sign(&peer.me.key).bytes,
            "future_dated",
        ),
    ];
    for (what, bytes, reason) in &per_message {
        let r = peer.post_raw(&[bytes]).await;
        let ack = peer.verified_ack(&r);
        assert_refused(&ack, 2, reason);
        assert_eq!(
            ack.acked_through_seq, 1,
            "{what}: the stream must not advance"
        );
        assert_eq!(ack.head_hash, first.hash, "{what}");
    }

    // Refused as a whole request.
    let valid = next.sign(&peer.me.key);
    let mut malformed: Value = serde_json::from_slice(&valid.bytes).unwrap();
    malformed["extra"] = json!(1);
    let mut float: Value = serde_json::from_slice(&valid.bytes).unwrap();
    float["payload"]["revision"] = json!(1.5);
    let mut oversize: Value = serde_json::from_slice(&valid.bytes).unwrap();
    oversize["payload"]["padding"] = json!("x".repeat(puente_federation::MAX_ENVELOPE_BYTES));
    let mut elsewhere = next.clone();
    elsewhere.destination = cc("HND");
    let mut as_nic = next.clone();
    as_nic.origin = nic.id;
    as_nic.seq = 1;
    as_nic.prev = ZERO_HASH.into();
    let mut as_stranger = as_nic.clone();
    as_stranger.origin = cc("CRI");
    let stranger_key = SigningIdentity::generate(kid("CRI-2026a"));
    let whole: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "unknown member",
            serde_json::to_vec(&malformed).unwrap(),
            400,
            "malformed",
        ),
        (
            "a non-integer number",
            serde_json::to_vec(&float).unwrap(),
            400,
            "malformed",
        ),
        ("not JSON", b"{\"v\":1,".to_vec(), 400, "malformed"),
        (
            "over 256 KiB",
            serde_json::to_vec(&oversize).unwrap(),
            413,
            "too_large",
        ),
        (
            "for another node",
            elsewhere.sign(&peer.me.key).bytes,
            403,
            "wrong_destination",
        ),
        (
            "another member's envelope over MEX's TLS identity",
            as_nic.sign(&nic.key).bytes,
            403,
            "origin_mismatch",
        ),
        (
            "from a country outside the federation",
            as_stranger.sign(&stranger_key).bytes,
            403,
            "unknown_origin",
        ),
    ];
    for (what, bytes, status, code) in &whole {
        let r = peer.post_raw(&[bytes]).await;
        assert!(r.status == *status, "{what}: {r:?}");
        r.assert_error(*status, code);
    }
    // A batch over 100 envelopes is refused whole too.
    let many: Vec<SignedEnvelope> = (0..101)
        .map(|i| peer.draft(2 + i, ZERO_HASH).sign(&peer.me.key))
        .collect();
    let refs: Vec<&SignedEnvelope> = many.iter().collect();
    let r = peer.post(&refs).await;
    assert!(
        r.status == 400 || r.status == 413,
        "101 envelopes in one batch: {r:?}"
    );

    assert_eq!(
        snapshot(&c, &peer).await,
        before,
        "a refused envelope changed the node"
    );
    // And the genuine next envelope still goes in.
    let ack = peer.ack(&[&valid]).await;
    assert_eq!(result(&ack, 2).result, AckOutcome::Stored, "{ack:?}");
    assert_eq!(ack.acked_through_seq, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_envelope_stops_its_batch_and_the_rest_gets_no_result() {
    let (_c, peer, _) = gtm_with_fake(|_| {}).await;
    let e1 = peer.draft(1, ZERO_HASH).sign(&peer.me.key);
    let e2 = peer.draft(2, &e1.hash).sign(&peer.me.unknown);
    let e2_good = peer.draft(2, &e1.hash).sign(&peer.me.key);
    let e3 = peer.draft(3, &e2_good.hash).sign(&peer.me.key);
    let ack = peer.ack(&[&e1, &e2, &e3]).await;
    assert_eq!(result(&ack, 1).result, AckOutcome::Stored, "{ack:?}");
    assert_refused(&ack, 2, "unknown_key");
    assert!(ack.results.iter().all(|r| r.seq != 3), "{ack:?}");
    assert_eq!(ack.acked_through_seq, 1);
    assert_eq!(ack.head_hash, e1.hash);
    // The sender fixes it and resends the rest: duplicate, stored, stored.
    let ack = peer.ack(&[&e1, &e2_good, &e3]).await;
    assert_eq!(result(&ack, 1).result, AckOutcome::Duplicate, "{ack:?}");
    assert_eq!(result(&ack, 2).result, AckOutcome::Stored);
    assert_eq!(result(&ack, 3).result, AckOutcome::Stored);
    assert_eq!(ack.acked_through_seq, 3);
    assert_eq!(ack.head_hash, e3.hash);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_reordered_gapped_and_forked_envelopes_leave_the_stream_intact() {
    let (c, peer, _) = gtm_with_fake(|_| {}).await;
    let gtm = c.node("GTM");
    let e1 = peer.draft(1, ZERO_HASH).sign(&peer.me.key);
    let e2 = peer.draft(2, &e1.hash).sign(&peer.me.key);
    let e3 = peer.draft(3, &e2.hash).sign(&peer.me.key);
    assert_eq!(
        result(&peer.ack(&[&e1]).await, 1).result,
        AckOutcome::Stored
    );
    wait_mex_revision(&c, 1).await;

    // Replayed: a duplicate, nothing changes.
    let before = snapshot(&c, &peer).await;
    for _ in 0..2 {
        let ack = peer.ack(&[&e1]).await;
        assert_eq!(result(&ack, 1).result, AckOutcome::Duplicate, "{ack:?}");
        assert_eq!(ack.acked_through_seq, 1);
    }
    assert_eq!(snapshot(&c, &peer).await, before);

    // Reordered: 3 before 2 is a gap, answered with the sequence number expected.
    let gap = peer.post(&[&e3]).await.assert_error(409, "gap");
    assert_eq!(gap["expected_seq"], 2, "{gap}");
    assert_eq!(snapshot(&c, &peer).await, before);
    let ack = peer.ack(&[&e2]).await;
    assert_eq!(result(&ack, 2).result, AckOutcome::Stored);
    let ack = peer.ack(&[&e3]).await;
    assert_eq!(result(&ack, 3).result, AckOutcome::Stored);
    assert_eq!(ack.acked_through_seq, 3);
    let s = gtm.status().await;
    let head = s.in_from("MEX", DIR).unwrap();
    assert_eq!(
        (head.head_seq, head.head_hash.as_deref()),
        (3, Some(e3.hash.as_str()))
    );
    wait_mex_revision(&c, 3).await;
    let before = snapshot(&c, &peer).await;

    // Gapped further ahead.
    let e9 = peer.draft(9, &e3.hash).sign(&peer.me.key);
    let gap = peer.post(&[&e9]).await.assert_error(409, "gap");
    assert_eq!(gap["expected_seq"], 4, "{gap}");

    // Forked: another envelope at a position already held, or chained to another head.
    let other2 = peer.draft(2, &e1.hash).sign(&peer.me.key);
    let fork = peer.post(&[&other2]).await.assert_error(409, "fork");
    assert_eq!(fork["head_seq"], 3, "{fork}");
    let bad_prev = peer.draft(4, &e1.hash).sign(&peer.me.key);
    peer.post(&[&bad_prev]).await.assert_error(409, "fork");
    assert_eq!(
        snapshot(&c, &peer).await,
        before,
        "gaps and forks changed the node"
    );
    // The genuine next envelope still goes in after all that.
    let e4 = peer.draft(4, &e3.hash).sign(&peer.me.key);
    let ack = peer.ack(&[&e4]).await;
    assert_eq!(result(&ack, 4).result, AckOutcome::Stored, "{ack:?}");
    assert_eq!(
        (ack.acked_through_seq, ack.head_hash.as_str()),
        (4, e4.hash.as_str())
    );

    // A new epoch starts at 1 after the zero hash.
    let mut d = peer.draft(2, ZERO_HASH);
    d.epoch = 2;
    peer.post(&[&d.sign(&peer.me.key)])
        .await
        .assert_error(409, "gap");
    d.seq = 1;
    let n1 = d.sign(&peer.me.key);
    let ack = peer.ack(&[&n1]).await;
    assert_eq!(result(&ack, 1).result, AckOutcome::Stored, "{ack:?}");
    assert_eq!((ack.epoch, ack.acked_through_seq), (2, 1));
    let s = gtm.status().await;
    let head = s.in_from("MEX", DIR).unwrap();
    assert_eq!(
        (head.epoch, head.head_seq, head.head_hash.as_deref()),
        (2, 1, Some(n1.hash.as_str()))
    );
}

/// A peer stream at a new epoch 2 after one envelope of epoch 1: (epoch-1 envelope, epoch-2
/// first envelope).
async fn two_epochs(peer: &FakePeer) -> (SignedEnvelope, SignedEnvelope) {
    let e1 = peer.draft(1, ZERO_HASH).sign(&peer.me.key);
    peer.ack(&[&e1]).await;
    let mut d = peer.draft(1, ZERO_HASH);
    d.epoch = 2;
    let n1 = d.sign(&peer.me.key);
    let ack = peer.ack(&[&n1]).await;
    assert_eq!(result(&ack, 1).result, AckOutcome::Stored, "{ack:?}");
    (e1, n1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_envelope_of_an_older_epoch_is_refused_as_stale() {
    let (c, peer, _) = gtm_with_fake(|_| {}).await;
    let (e1, n1) = two_epochs(&peer).await;
    // The inbox is applied after the ack: wait for it, so the snapshot is a settled one.
    wait_mex_revision(&c, 1).await;
    let before = snapshot(&c, &peer).await;
    let old2 = peer.draft(2, &e1.hash).sign(&peer.me.key);
    // docs/protocol.md: `stale_epoch` is a per-message refusal, in a signed ack.
    let ack = peer.ack(&[&old2]).await;
    assert_refused(&ack, 2, "stale_epoch");
    assert_eq!((ack.epoch, ack.acked_through_seq), (2, 1), "{ack:?}");
    assert_eq!(ack.head_hash, n1.hash);
    assert_eq!(snapshot(&c, &peer).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_id_already_held_at_another_position_is_refused() {
    // docs/protocol.md: a message id is used once; the same id at another position (a faulty
    // peer) is refused with `duplicate_id` and neither applied again nor consuming the
    // position. Re-issued envelopes of a new epoch carry new ids.
    let (_c, peer, _) = gtm_with_fake(|_| {}).await;
    let (e1, n1) = two_epochs(&peer).await;
    let d = peer.draft(2, &n1.hash);
    let reused = UnsignedEnvelope {
        id: e1.envelope.id,
        origin: d.origin,
        destination: d.destination,
        channel: d.channel,
        epoch: 2,
        seq: 2,
        prev: n1.hash.clone(),
        kind: d.kind.clone(),
        created_at: now(),
        manifest_version: d.manifest_version,
        payload: d.payload.clone(),
    }
    .sign(&peer.me.key)
    .unwrap();
    let ack = peer.ack(&[&reused]).await;
    let r = result(&ack, 2);
    assert_eq!(r.result, AckOutcome::Refused, "{ack:?}");
    assert_eq!(r.reason.as_deref(), Some("duplicate_id"), "{ack:?}");
    assert_eq!(
        ack.acked_through_seq, 1,
        "the position is not consumed: {ack:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_holding_a_fork_is_refused_whole_with_409() {
    // docs/protocol.md: a fork answers HTTP 409 {"error":"fork","head_seq":N} for the whole
    // batch — the good envelopes before it are not stored either.
    let (c, peer, _) = gtm_with_fake(|_| {}).await;
    let e1 = peer.draft(1, ZERO_HASH).sign(&peer.me.key);
    peer.ack(&[&e1]).await;
    wait_mex_revision(&c, 1).await;
    let before = snapshot(&c, &peer).await;
    let e2 = peer.draft(2, &e1.hash).sign(&peer.me.key);
    let e3_forked = peer.draft(3, ZERO_HASH).sign(&peer.me.key);
    let fork = peer
        .post(&[&e2, &e3_forked])
        .await
        .assert_error(409, "fork");
    assert_eq!(fork["head_seq"], 1, "{fork}");
    assert_eq!(
        snapshot(&c, &peer).await,
        before,
        "part of a forked batch was stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_without_an_agreement_is_rejected_for_good_and_the_stream_advances() {
    let (c, peer, _) = gtm_with_fake(|_| {}).await;
    let mut d = peer.draft(1, ZERO_HASH);
    d.channel = Channel::Stats;
    d.kind = "stats.release".into();
    d.payload = json!({ "period": "2026-11" });
    // A rejection is only for authentic envelopes: a bad signature is refused first.
    let forged = d.sign(&peer.me.unknown);
    let ack = peer.ack(&[&forged]).await;
    assert_refused(&ack, 1, "unknown_key");
    assert_eq!(ack.acked_through_seq, 0);
    let s1 = d.sign(&peer.me.key);
    let ack = peer.ack(&[&s1]).await;
    let r = result(&ack, 1);
    assert_eq!(r.result, AckOutcome::Rejected, "{ack:?}");
    assert_eq!(r.reason.as_deref(), Some("kind_not_allowed"));
    assert_eq!(
        (ack.acked_through_seq, ack.head_hash.as_str()),
        (1, s1.hash.as_str())
    );
    // Final: resending gets the same answer without a second record; the stream goes on.
    let ack = peer.ack(&[&s1]).await;
    assert_eq!(result(&ack, 1).result, AckOutcome::Duplicate, "{ack:?}");
    let mut d2 = d.clone();
    d2.seq = 2;
    d2.prev = s1.hash.clone();
    let ack = peer.ack(&[&d2.sign(&peer.me.key)]).await;
    assert_eq!(result(&ack, 2).result, AckOutcome::Rejected);
    assert_eq!(ack.acked_through_seq, 2);
    let s = c.node("GTM").status().await;
    assert_eq!(s.head_from("MEX", "stats"), 2, "{s:?}");
    // The directory stream is another stream, untouched.
    assert_eq!(s.head_from("MEX", DIR), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_or_key_blocked_locally_is_refused_at_once_and_unblocking_restores_it() {
    let (c, peer, _) = gtm_with_fake(|_| {}).await;
    let gtm = c.node("GTM");
    let e1 = peer.draft(1, ZERO_HASH).sign(&peer.me.key);
    let e2 = peer.draft(2, &e1.hash).sign(&peer.me.key);
    let e3 = peer.draft(3, &e2.hash).sign(&peer.me.key);
    peer.ack(&[&e1]).await;
    wait_mex_revision(&c, 1).await;

    gtm.cli_ok(&["peer", "block", "MEX", "--reason", "prueba de bloqueo"])
        .await;
    wait_applied(&peer, &e1, "peer_blocked").await;
    let before = snapshot(&c, &peer).await;
    peer.post(&[&e2]).await.assert_error(403, "peer_blocked");
    assert_eq!(snapshot(&c, &peer).await, before);
    gtm.cli_ok(&["peer", "unblock", "MEX"]).await;
    wait_applied(&peer, &e1, "duplicate").await;
    let ack = peer.ack(&[&e2]).await;
    assert_eq!(result(&ack, 2).result, AckOutcome::Stored, "{ack:?}");

    let key = peer.me.key.key_id().as_str().to_owned();
    gtm.cli_ok(&["peer", "block", &key, "--reason", "clave comprometida"])
        .await;
    wait_applied(&peer, &e1, "key_blocked").await;
    let ack = peer.ack(&[&e3]).await;
    assert_refused(&ack, 3, "key_blocked");
    assert_eq!(ack.acked_through_seq, 2);
    gtm.cli_ok(&["peer", "unblock", &key]).await;
    wait_applied(&peer, &e1, "duplicate").await;
    let ack = peer.ack(&[&e3]).await;
    assert_eq!(result(&ack, 3).result, AckOutcome::Stored, "{ack:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_not_approved_locally_is_refused_until_approved() {
    let (c, peer, _) = gtm_with_fake(|o| {
        o.skip_approvals = vec![("GTM".into(), "MEX".into())];
    })
    .await;
    let e1 = peer.draft(1, ZERO_HASH).sign(&peer.me.key);
    let before = snapshot(&c, &peer).await;
    peer.post(&[&e1])
        .await
        .assert_error(403, "peer_not_approved");
    assert_eq!(snapshot(&c, &peer).await, before);
    c.node("GTM").cli_ok(&["peer", "approve", "MEX"]).await;
    // Accepted once the node has read the approval.
    wait_applied(&peer, &e1, "stored").await;
    let ack = peer.ack(&[&e1]).await;
    assert_eq!(result(&ack, 1).result, AckOutcome::Duplicate, "{ack:?}");
    assert_eq!(ack.acked_through_seq, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_suspended_by_a_new_manifest_is_refused_and_its_stream_kept() {
    let (c, peer, _) = gtm_with_fake(|_| {}).await;
    let gtm = c.node("GTM");
    let e1 = peer.draft(1, ZERO_HASH).sign(&peer.me.key);
    peer.ack(&[&e1]).await;
    wait_mex_revision(&c, 1).await;
    let path = c.next_manifest(&["--suspend", "MEX"]).await;
    gtm.cli_ok(&["federation", "install-manifest", &path]).await;
    wait_applied(&peer, &e1, "origin_not_active").await;
    let before = snapshot(&c, &peer).await;
    let e2 = peer.draft(2, &e1.hash).sign(&peer.me.key);
    peer.post(&[&e2])
        .await
        .assert_error(403, "origin_not_active");
    assert_eq!(snapshot(&c, &peer).await, before);
    // The node serves the new manifest to whoever asks.
    let m = peer.get("/federation/v1/manifest").await;
    assert_eq!(m.status, 200);
    let m = SignedManifest::parse(&m.body).unwrap();
    assert_eq!(m.manifest.version, gtm.status().await.manifest_version);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pull_endpoint_serves_the_requesting_peer_its_signed_chained_stream() {
    let (c, peer, _) = gtm_with_fake(|_| {}).await;
    let gtm = c.node("GTM");
    gtm.publish_n(2).await;
    let epoch = gtm.status().await.epoch;
    let r = peer
        .get(&format!(
            "/federation/v1/pull/directory?epoch={epoch}&after=0&limit=10"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let envs: Vec<Envelope> = r.json()["envelopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| Envelope::from_value(v.clone()).unwrap())
        .collect();
    assert!(envs.len() >= 2, "{envs:?}");
    let mut prev = ZERO_HASH.to_owned();
    for (i, e) in envs.iter().enumerate() {
        assert_eq!(e.origin, cc("GTM"));
        assert_eq!(
            e.destination, peer.me.id,
            "only what is addressed to the asker"
        );
        assert_eq!(e.channel, Channel::Directory);
        assert_eq!(e.epoch, epoch);
        assert_eq!(e.seq, i as u64 + 1);
        assert_eq!(e.prev, prev, "hash chain");
        assert!(e.kind.starts_with("directory."));
        e.verify(&peer.node_key).expect("signed by GTM");
        prev = e.hash();
    }
    // After = 1: the rest only.
    let r = peer
        .get(&format!(
            "/federation/v1/pull/directory?epoch={epoch}&after=1&limit=10"
        ))
        .await;
    assert_eq!(
        r.json()["envelopes"].as_array().unwrap().len(),
        envs.len() - 1
    );

    // The fake peer acks what it pulled: GTM records the stream as delivered.
    let last = envs.last().unwrap();
    let ack = UnsignedAck {
        from: peer.me.id,
        to: cc("GTM"),
        channel: Channel::Directory,
        epoch,
        acked_through_seq: last.seq,
        head_hash: last.hash(),
        results: envs
            .iter()
            .map(|e| AckResult::ok(e.id, e.seq, AckOutcome::Stored))
            .collect(),
        created_at: now(),
    }
    .sign(&peer.me.key)
    .unwrap();
    let r = peer
        .http
        .post("/federation/v1/acks")
        .header("content-type", "application/json")
        .body(ack.canonical_bytes())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204, "{:?}", r.text().await);
    c.wait_for("GTM to record the ack", Duration::from_secs(5), || async {
        let s = gtm.status().await;
        s.out_to("MEX", DIR)
            .is_some_and(|o| o.acked_seq == last.seq && o.last_seq == last.seq)
    })
    .await;
    // An ack signed with the wrong key is refused and changes nothing.
    let forged = UnsignedAck {
        from: peer.me.id,
        to: cc("GTM"),
        channel: Channel::Directory,
        epoch,
        acked_through_seq: last.seq,
        head_hash: last.hash(),
        results: vec![],
        created_at: now(),
    }
    .sign(&SigningIdentity::generate(kid("MEX-2026a")))
    .unwrap();
    let r = peer
        .http
        .post("/federation/v1/acks")
        .header("content-type", "application/json")
        .body(forged.canonical_bytes())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "forged ack: {}", r.status());

    // Heads: what GTM holds from MEX; manifest: the one GTM holds.
    let h = peer.get("/federation/v1/heads").await;
    assert_eq!(h.status, 200);
    assert!(h.json()["streams"].is_array(), "{}", h.json());
    let m = peer.get("/federation/v1/manifest").await;
    assert_eq!(m.status, 200);
    let m = SignedManifest::parse(&m.body).unwrap();
    assert_eq!(m.manifest.version, gtm.status().await.manifest_version);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_key_not_pinned_in_the_manifest_cannot_connect() {
    let (c, peer, _) = gtm_with_fake(|_| {}).await;
    let stranger = FakeMember::new("MEX"); // same id, another TLS key: not pinned
    let info = &c.member_info["GTM"];
    let pins: Vec<String> = info["tls_pins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect();
    let client = transport::PeerClient::new(
        cc("GTM"),
        info["endpoint"].as_str().unwrap(),
        &stranger.tls,
        PinSet::from_members([(cc("GTM"), pins)]).unwrap(),
        Timeouts {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(10),
        },
    )
    .unwrap();
    let e1 = peer.draft(1, ZERO_HASH).sign(&peer.me.key);
    let r = client
        .post("/federation/v1/inbox")
        .header("content-type", "application/json")
        .body(format!(
            "{{\"envelopes\":[{}]}}",
            String::from_utf8_lossy(&e1.bytes)
        ))
        .send()
        .await;
    assert!(r.is_err(), "an unpinned key got an answer: {r:?}");
    assert_eq!(c.node("GTM").status().await.head_from("MEX", DIR), 0);
    // A plain HTTP client (no certificate at all) does not get in either.
    let plain = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let r = plain
        .get(format!(
            "https://{}/federation/v1/heads",
            c.node("GTM").proxy.addr()
        ))
        .send()
        .await;
    assert!(r.is_err(), "no client certificate, yet an answer: {r:?}");
}
