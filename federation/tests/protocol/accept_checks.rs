//! The acceptance checks, each in the spec's order with its reason code, and every stream
//! verdict.

use std::cell::RefCell;
use std::collections::HashMap;

use puente_federation::canonical::ZERO_HASH;
use puente_federation::{
    check_message, check_request, check_stream, Channel, Envelope, LocalTrust, MessageVerdict,
    Reason, StreamHead, StreamVerdict, UnsignedEnvelope,
};
use serde_json::json;

use crate::fixtures::*;

fn env_from(origin: &str, to: &str, channel: Channel, key_id: &str) -> Envelope {
    UnsignedEnvelope {
        id: uuid(77),
        origin: cc(origin),
        destination: cc(to),
        channel,
        epoch: 1,
        seq: 1,
        prev: ZERO_HASH.into(),
        kind: format!("{channel}.test"),
        created_at: now(),
        manifest_version: 3,
        payload: json!({}),
    }
    .sign(&key(key_id))
    .unwrap()
    .envelope
}

fn gtm_to_hnd() -> Envelope {
    first().envelope
}

// ----- steps 2 and 3: check_request -----

#[test]
fn request_passes() {
    check_request(&manifest(), &trust_hnd(), cc("GTM"), &gtm_to_hnd()).unwrap();
}

#[test]
fn request_wrong_destination() {
    let e = env_from("GTM", "SLV", Channel::Directory, "GTM-2026a");
    assert_eq!(
        check_request(&manifest(), &trust_hnd(), cc("GTM"), &e),
        Err(Reason::WrongDestination)
    );
    // Checked before the origin: an unknown origin to another node is a wrong destination.
    let e = env_from("CRI", "SLV", Channel::Directory, "CRI-2026a");
    assert_eq!(
        check_request(&manifest(), &trust_hnd(), cc("CRI"), &e),
        Err(Reason::WrongDestination)
    );
}

#[test]
fn request_unknown_origin() {
    let e = env_from("CRI", "HND", Channel::Directory, "CRI-2026a");
    assert_eq!(
        check_request(&manifest(), &trust_hnd(), cc("CRI"), &e),
        Err(Reason::UnknownOrigin)
    );
}

#[test]
fn request_origin_not_active() {
    let e = env_from("MEX", "HND", Channel::Directory, "MEX-2026a");
    // Even from the right peer and approved locally.
    assert_eq!(
        check_request(&manifest(), &trust_hnd(), cc("MEX"), &e),
        Err(Reason::OriginNotActive)
    );
    // Before the mTLS comparison.
    assert_eq!(
        check_request(&manifest(), &trust_hnd(), cc("GTM"), &e),
        Err(Reason::OriginNotActive)
    );
}

#[test]
fn request_origin_mismatch() {
    assert_eq!(
        check_request(&manifest(), &trust_hnd(), cc("SLV"), &gtm_to_hnd()),
        Err(Reason::OriginMismatch)
    );
    // Before local blocks: a peer relaying another's envelope is a mismatch.
    let mut t = trust_hnd();
    t.blocked_peers.insert(cc("GTM"));
    assert_eq!(
        check_request(&manifest(), &t, cc("SLV"), &gtm_to_hnd()),
        Err(Reason::OriginMismatch)
    );
}

#[test]
fn request_peer_blocked() {
    let mut t = trust_hnd();
    t.blocked_peers.insert(cc("GTM"));
    assert_eq!(
        check_request(&manifest(), &t, cc("GTM"), &gtm_to_hnd()),
        Err(Reason::PeerBlocked)
    );
    // Blocked wins over not approved.
    t.approved_peers.remove(&cc("GTM"));
    assert_eq!(
        check_request(&manifest(), &t, cc("GTM"), &gtm_to_hnd()),
        Err(Reason::PeerBlocked)
    );
}

#[test]
fn request_peer_not_approved() {
    let t = LocalTrust::new(cc("HND"));
    assert_eq!(t.max_skew, minutes(5));
    assert_eq!(
        check_request(&manifest(), &t, cc("GTM"), &gtm_to_hnd()),
        Err(Reason::PeerNotApproved)
    );
}

// ----- steps 4 to 6: check_message -----

#[test]
fn message_accepted() {
    assert_eq!(
        check_message(&manifest(), &trust_hnd(), &gtm_to_hnd(), now()),
        MessageVerdict::Accept
    );
    for channel in [Channel::Referral, Channel::Control] {
        let e = env_from("GTM", "HND", channel, "GTM-2026a");
        assert_eq!(
            check_message(&manifest(), &trust_hnd(), &e, now()),
            MessageVerdict::Accept,
            "{channel}"
        );
    }
}

#[test]
fn message_kind_not_allowed_is_a_rejection() {
    // No referral agreement between SLV and HND; stats only go to the hub.
    for (origin, channel) in [("SLV", Channel::Referral), ("GTM", Channel::Stats)] {
        let e = env_from(origin, "HND", channel, &format!("{origin}-2026a"));
        assert_eq!(
            check_message(&manifest(), &trust_hnd(), &e, now()),
            MessageVerdict::Reject(Reason::KindNotAllowed),
            "{origin} {channel}"
        );
    }
}

#[test]
fn message_kind_not_allowed_waits_for_key_and_signature() {
    // Not allowed AND not authentic: refused (bad signature), not rejected.
    let mut e = env_from("SLV", "HND", Channel::Referral, "SLV-2026a");
    e.payload = json!({"changed": 1});
    assert_eq!(
        check_message(&manifest(), &trust_hnd(), &e, now()),
        MessageVerdict::Refuse(Reason::BadSignature)
    );
    // Not allowed AND an unknown key: refused (unknown key).
    let mut e = env_from("SLV", "HND", Channel::Referral, "SLV-2026a");
    e.key_id = kid("SLV-2026b");
    assert_eq!(
        check_message(&manifest(), &trust_hnd(), &e, now()),
        MessageVerdict::Refuse(Reason::UnknownKey)
    );
}

#[test]
fn message_unknown_key() {
    let e = env_from("GTM", "HND", Channel::Directory, "GTM-2026z");
    assert_eq!(
        check_message(&manifest(), &trust_hnd(), &e, now()),
        MessageVerdict::Refuse(Reason::UnknownKey)
    );
    // Another member's key id on GTM's envelope parses (the schema does not judge keys) and
    // is an unknown key of GTM's.
    let mut e = gtm_to_hnd();
    e.key_id = kid("HND-2026a");
    let e = Envelope::parse(&e.canonical_bytes()).unwrap();
    assert_eq!(
        check_message(&manifest(), &trust_hnd(), &e, now()),
        MessageVerdict::Refuse(Reason::UnknownKey)
    );
}

#[test]
fn message_key_not_valid() {
    // GTM-2025a was valid in 2025 only.
    let e = env_from("GTM", "HND", Channel::Directory, "GTM-2025a");
    assert_eq!(
        check_message(&manifest(), &trust_hnd(), &e, now()),
        MessageVerdict::Refuse(Reason::KeyNotValid)
    );
    // The same key for a message created within its window is fine (old messages stay
    // verifiable after a rotation).
    let mut u = directory(1, ZERO_HASH);
    u.created_at = t("2025-12-31T12:00:00.000000Z");
    let old = u.sign(&key("GTM-2025a")).unwrap().envelope;
    assert_eq!(
        check_message(&manifest(), &trust_hnd(), &old, now()),
        MessageVerdict::Accept
    );
}

#[test]
fn message_key_revoked() {
    for k in ["GTM-2025b", "GTM-2024a"] {
        let e = env_from("GTM", "HND", Channel::Directory, k);
        assert_eq!(
            check_message(&manifest(), &trust_hnd(), &e, now()),
            MessageVerdict::Refuse(Reason::KeyRevoked),
            "{k}"
        );
    }
}

#[test]
fn message_key_blocked() {
    let mut t = trust_hnd();
    t.blocked_keys.insert(kid("GTM-2026a"));
    assert_eq!(
        check_message(&manifest(), &t, &gtm_to_hnd(), now()),
        MessageVerdict::Refuse(Reason::KeyBlocked)
    );
}

#[test]
fn message_future_dated() {
    let e = gtm_to_hnd();
    let skew = minutes(5);
    // Exactly at the allowed skew: fine; one microsecond more: refused.
    assert_eq!(
        check_message(&manifest(), &trust_hnd(), &e, e.created_at - skew),
        MessageVerdict::Accept
    );
    assert_eq!(
        check_message(
            &manifest(),
            &trust_hnd(),
            &e,
            e.created_at - skew - chrono::TimeDelta::microseconds(1)
        ),
        MessageVerdict::Refuse(Reason::FutureDated)
    );
    // A key block is checked before the clock.
    let mut t = trust_hnd();
    t.blocked_keys.insert(kid("GTM-2026a"));
    assert_eq!(
        check_message(&manifest(), &t, &e, e.created_at - minutes(60)),
        MessageVerdict::Refuse(Reason::KeyBlocked)
    );
}

#[test]
fn message_bad_signature() {
    let mut e = gtm_to_hnd();
    e.seq = 2;
    e.prev = "ab".repeat(32);
    assert_eq!(
        check_message(&manifest(), &trust_hnd(), &e, now()),
        MessageVerdict::Refuse(Reason::BadSignature)
    );
    // Signed by another member's key under GTM's key id.
    let mut forged = directory(1, ZERO_HASH);
    forged.origin = cc("GTM");
    let by_hnd =
        puente_federation::SigningIdentity::from_seed(kid("GTM-2026a"), &seed("HND-2026a"));
    let e = forged.sign(&by_hnd).unwrap().envelope;
    assert_eq!(
        check_message(&manifest(), &trust_hnd(), &e, now()),
        MessageVerdict::Refuse(Reason::BadSignature)
    );
    // Future-dated and badly signed: the clock is checked first.
    let mut e = gtm_to_hnd();
    e.payload = json!({});
    assert_eq!(
        check_message(&manifest(), &trust_hnd(), &e, now() - minutes(10)),
        MessageVerdict::Refuse(Reason::FutureDated)
    );
}

// ----- step 7: check_stream -----

/// A receiver's stored stream: hashes by seq for epoch 1.
struct Stored(RefCell<HashMap<u64, String>>);

impl Stored {
    fn lookup(&self) -> impl Fn(u64) -> Option<String> + '_ {
        |seq| self.0.borrow().get(&seq).cloned()
    }
}

/// GTM's directory stream, seq 1..=n, chained.
fn chain(n: u64) -> Vec<Envelope> {
    let mut out: Vec<Envelope> = Vec::new();
    for seq in 1..=n {
        let prev = out.last().map_or(ZERO_HASH.to_owned(), Envelope::hash);
        out.push(sign_directory(seq, &prev).envelope);
    }
    out
}

fn head_at(envs: &[Envelope], seq: u64) -> StreamHead {
    StreamHead {
        epoch: 1,
        seq,
        hash: envs[seq as usize - 1].hash(),
    }
}

fn stored(envs: &[Envelope], through: u64) -> Stored {
    Stored(RefCell::new(
        envs.iter()
            .take(through as usize)
            .map(|e| (e.seq, e.hash()))
            .collect(),
    ))
}

#[test]
fn stream_first_message_without_head() {
    let envs = chain(2);
    let none = |_| None;
    assert_eq!(
        check_stream(None, &envs[0], &envs[0].hash(), none),
        StreamVerdict::Append
    );
    assert_eq!(
        check_stream(None, &envs[1], &envs[1].hash(), none),
        StreamVerdict::Gap { expected: 1 }
    );
}

#[test]
fn stream_append() {
    let envs = chain(3);
    let s = stored(&envs, 2);
    let head = head_at(&envs, 2);
    assert_eq!(
        check_stream(Some(&head), &envs[2], &envs[2].hash(), s.lookup()),
        StreamVerdict::Append
    );
    // An empty head of the epoch (seq 0, zero hash) takes seq 1.
    let empty = StreamHead {
        epoch: 1,
        seq: 0,
        hash: ZERO_HASH.into(),
    };
    assert_eq!(
        check_stream(Some(&empty), &envs[0], &envs[0].hash(), s.lookup()),
        StreamVerdict::Append
    );
}

#[test]
fn stream_duplicate() {
    let envs = chain(3);
    let s = stored(&envs, 3);
    let head = head_at(&envs, 3);
    for e in &envs {
        assert_eq!(
            check_stream(Some(&head), e, &e.hash(), s.lookup()),
            StreamVerdict::Duplicate,
            "seq {}",
            e.seq
        );
    }
}

#[test]
fn stream_gap() {
    let envs = chain(5);
    let s = stored(&envs, 2);
    let head = head_at(&envs, 2);
    assert_eq!(
        check_stream(Some(&head), &envs[4], &envs[4].hash(), s.lookup()),
        StreamVerdict::Gap { expected: 3 }
    );
}

#[test]
fn stream_fork() {
    let envs = chain(3);
    let s = stored(&envs, 3);
    let head = head_at(&envs, 3);
    // Another envelope at a position already held (the head, and below it).
    for seq in [3, 2] {
        let mut other = directory(seq, &envs[seq as usize - 2].hash());
        other.payload = json!({"revision": 999});
        let other = other.sign(&key("GTM-2026a")).unwrap().envelope;
        assert_eq!(
            check_stream(Some(&head), &other, &other.hash(), s.lookup()),
            StreamVerdict::Fork { head_seq: 3 },
            "seq {seq}"
        );
    }
    // The next seq but `prev` is not the head's hash.
    let wrong_prev = sign_directory(4, &envs[1].hash()).envelope;
    assert_eq!(
        check_stream(Some(&head), &wrong_prev, &wrong_prev.hash(), s.lookup()),
        StreamVerdict::Fork { head_seq: 3 }
    );
    // A position the receiver cannot find is not taken as a duplicate.
    let forgetful = |_| None;
    assert_eq!(
        check_stream(Some(&head), &envs[0], &envs[0].hash(), forgetful),
        StreamVerdict::Fork { head_seq: 3 }
    );
}

#[test]
fn stream_new_epoch() {
    let envs = chain(3);
    let s = stored(&envs, 3);
    let head = head_at(&envs, 3);
    let mut u = directory(1, ZERO_HASH);
    u.epoch = 2;
    let e = u.sign(&key("GTM-2026a")).unwrap().envelope;
    assert_eq!(
        check_stream(Some(&head), &e, &e.hash(), s.lookup()),
        StreamVerdict::NewEpoch
    );
    // A newer epoch that does not start at seq 1 is a gap.
    let mut u = directory(2, &e.hash());
    u.epoch = 2;
    let e2 = u.sign(&key("GTM-2026a")).unwrap().envelope;
    assert_eq!(
        check_stream(Some(&head), &e2, &e2.hash(), s.lookup()),
        StreamVerdict::Gap { expected: 1 }
    );
}

#[test]
fn stream_stale_epoch() {
    let envs = chain(1);
    let head = StreamHead {
        epoch: 2,
        seq: 5,
        hash: "cd".repeat(32),
    };
    assert_eq!(
        check_stream(Some(&head), &envs[0], &envs[0].hash(), |_| None),
        StreamVerdict::StaleEpoch
    );
}
