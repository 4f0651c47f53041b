//! Fixed keys, times, a manifest and envelope builders shared by the tests.
//!
//! TEST-ONLY KEYS: every signing key here is derived from a published seed,
//! `SHA-256("puente test-only seed " || key id)`. They sign the golden vectors so that anyone
//! can reproduce them; they are not secrets and must never be used by a real node.

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use puente_common::CountryCode;
use puente_federation::canonical::timestamp;
use puente_federation::manifest::{
    Agreement, AgreementKind, Governance, GovernanceKey, Manifest, Member, MemberKey, MemberRole,
    MemberStatus, SignedManifest,
};
use puente_federation::{
    Channel, KeyId, LocalTrust, SignedEnvelope, SigningIdentity, UnsignedEnvelope, ZERO_HASH,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub fn cc(s: &str) -> CountryCode {
    s.parse().unwrap()
}

pub fn kid(s: &str) -> KeyId {
    s.parse().unwrap()
}

/// The published test-only seed of `key_id`.
pub fn seed(key_id: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"puente test-only seed ");
    h.update(key_id.as_bytes());
    h.finalize().into()
}

/// The test-only signing identity `key_id`.
pub fn key(key_id: &str) -> SigningIdentity {
    SigningIdentity::from_seed(kid(key_id), &seed(key_id))
}

pub fn t(s: &str) -> DateTime<Utc> {
    timestamp::parse(s).unwrap()
}

/// "Now" in most tests.
pub fn now() -> DateTime<Utc> {
    t("2026-11-30T16:30:00.123456Z")
}

pub fn uuid(n: u128) -> Uuid {
    // A UUIDv7-shaped id: 48-bit time, version 7, variant 10.
    Uuid::from_u128(0x0193_7a2b_c000_7000_8000_0000_0000_0000 | n)
}

fn member_key(id: &str, from: &str, until: Option<&str>) -> MemberKey {
    MemberKey {
        id: kid(id),
        public_key: key(id).public_key_b64(),
        valid_from: t(from),
        valid_until: until.map(t),
    }
}

fn pin(owner: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(format!("spki {owner}")))
}

fn member(id: &str, name: &str, n: u8, role: MemberRole, status: MemberStatus) -> Member {
    Member {
        id: cc(id),
        name: name.into(),
        role,
        status,
        endpoint: format!("https://127.0.0.{n}:7443"),
        tls_pins: vec![pin(id)],
        signing_keys: vec![member_key(
            &format!("{id}-2026a"),
            "2026-01-01T00:00:00.000000Z",
            None,
        )],
        revoked_keys: vec![],
        seal_keys: vec![],
    }
}

pub fn governance() -> Governance {
    Governance {
        threshold: 2,
        keys: ["GTM-2026g", "HND-2026g", "SLV-2026g"]
            .iter()
            .map(|id| GovernanceKey {
                id: kid(id),
                holder: cc(&id[..3]),
                public_key: key(id).public_key_b64(),
            })
            .collect(),
    }
}

/// Version 3 of the test federation: GTM, HND, SLV nodes, REG hub, MEX suspended.
/// GTM also has an expired key `GTM-2025a` (valid in 2025), a revoked key `GTM-2025b`
/// (still listed) and a revoked key `GTM-2024a` (listed only as revoked).
pub fn manifest() -> Manifest {
    let mut gtm = member(
        "GTM",
        "Guatemala",
        2,
        MemberRole::Node,
        MemberStatus::Active,
    );
    gtm.signing_keys.push(member_key(
        "GTM-2025a",
        "2025-01-01T00:00:00.000000Z",
        Some("2026-01-01T00:00:00.000000Z"),
    ));
    gtm.signing_keys
        .push(member_key("GTM-2025b", "2025-06-01T00:00:00.000000Z", None));
    gtm.revoked_keys = vec![kid("GTM-2025b"), kid("GTM-2024a")];
    Manifest {
        v: 1,
        federation: "puente-centroamerica".into(),
        version: 3,
        issued_at: t("2026-11-01T00:00:00.000000Z"),
        expires_at: t("2026-12-31T00:00:00.000000Z"),
        grace_seconds: 604_800,
        governance: governance(),
        members: vec![
            gtm,
            member("HND", "Honduras", 3, MemberRole::Node, MemberStatus::Active),
            member(
                "SLV",
                "El Salvador",
                4,
                MemberRole::Node,
                MemberStatus::Active,
            ),
            member(
                "REG",
                "Hub regional",
                5,
                MemberRole::Hub,
                MemberStatus::Active,
            ),
            member(
                "MEX",
                "México",
                6,
                MemberRole::Node,
                MemberStatus::Suspended,
            ),
        ],
        agreements: vec![
            Agreement {
                id: "dir-all".into(),
                kind: AgreementKind::Directory,
                members: ["GTM", "HND", "SLV", "REG"].map(cc).to_vec(),
                hub: None,
                period: None,
            },
            Agreement {
                id: "ref-GTM-HND".into(),
                kind: AgreementKind::Referral,
                members: vec![cc("GTM"), cc("HND")],
                hub: None,
                period: None,
            },
            Agreement {
                id: "stats-hub".into(),
                kind: AgreementKind::Stats,
                members: ["GTM", "HND", "SLV", "REG"].map(cc).to_vec(),
                hub: Some(cc("REG")),
                period: None,
            },
        ],
    }
}

/// `manifest` signed by the given governance keys (in that order).
pub fn signed(manifest: Manifest, signers: &[&str]) -> SignedManifest {
    let mut s = SignedManifest::unsigned(manifest);
    for id in signers {
        s.add_signature(&key(id)).unwrap();
    }
    s
}

/// HND's trust: approves every active peer, blocks nothing.
pub fn trust_hnd() -> LocalTrust {
    let mut t = LocalTrust::new(cc("HND"));
    t.approved_peers = ["GTM", "SLV", "REG", "MEX"].map(cc).into_iter().collect();
    t.blocked_peers = HashSet::new();
    t
}

/// A directory.publish envelope GTM → HND, seq 1 of epoch 1, unsigned.
pub fn directory(seq: u64, prev: &str) -> UnsignedEnvelope {
    UnsignedEnvelope {
        id: uuid(seq as u128),
        origin: cc("GTM"),
        destination: cc("HND"),
        channel: Channel::Directory,
        epoch: 1,
        seq,
        prev: prev.into(),
        kind: "directory.publish".into(),
        created_at: now(),
        manifest_version: 3,
        payload: directory_payload(seq),
    }
}

pub fn directory_payload(revision: u64) -> Value {
    json!({
        "organisation": "GTM-ORG-0001",
        "revision": revision,
        "services": [
            {"name": "Albergue Esperanza", "city": "Quetzaltenango",
             "phone": "+502 7765 0000", "languages": ["es", "mam", "k'iche'"],
             "accepts_minors": true, "note": null},
            {"name": "Asesoría jurídica \"La Puerta\"", "city": "Ciudad de Guatemala",
             "phone": "+502 2200 0000", "languages": ["es", "en"],
             "accepts_minors": false, "note": "Línea 1\nLínea 2\t✓ 😀"}
        ]
    })
}

pub fn sign_directory(seq: u64, prev: &str) -> SignedEnvelope {
    directory(seq, prev).sign(&key("GTM-2026a")).unwrap()
}

/// The first envelope of GTM's directory stream to HND, signed.
pub fn first() -> SignedEnvelope {
    sign_directory(1, ZERO_HASH)
}

pub fn minutes(n: i64) -> TimeDelta {
    TimeDelta::minutes(n)
}
