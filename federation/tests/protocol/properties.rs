//! Property tests: any flipped bit or changed field of a signed envelope or ack fails
//! verification; reordering object members, re-escaping strings, whitespace and a
//! parse → serialise round trip change nothing.

use chrono::DateTime;
use proptest::prelude::*;
use proptest::sample::Index;
use puente_federation::canonical::{MAX_SAFE_INTEGER, ZERO_HASH};
use puente_federation::{
    Ack, AckOutcome, AckResult, Channel, Envelope, KeyId, Reason, UnsignedAck, UnsignedEnvelope,
};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::fixtures::*;

// ----- strategies -----

fn text() -> impl Strategy<Value = String> {
    // Any characters, controls and astral ones included.
    prop::collection::vec(any::<char>(), 0..8).prop_map(String::from_iter)
}

fn json_value() -> impl Strategy<Value = Value> {
    let max = MAX_SAFE_INTEGER as i64;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-max..=max).prop_map(Value::from),
        prop_oneof![Just(max), Just(-max), Just(0)].prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(text(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn payload() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(text(), json_value(), 0..5)
        .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>()))
}

fn counter() -> impl Strategy<Value = u64> {
    prop_oneof![1..=20u64, Just(MAX_SAFE_INTEGER), 1..=MAX_SAFE_INTEGER]
}

fn kind_name() -> impl Strategy<Value = String> {
    let chars: Vec<char> = "abcdefghijklmnopqrstuvwxyz0123456789_".chars().collect();
    prop::collection::vec(prop::sample::select(chars), 1..20).prop_map(String::from_iter)
}

fn channel() -> impl Strategy<Value = Channel> {
    prop::sample::select(Channel::ALL.to_vec())
}

fn time() -> impl Strategy<Value = chrono::DateTime<chrono::Utc>> {
    // 1970 .. 2096, microsecond precision (the wire precision).
    (0i64..4_000_000_000_000_000).prop_map(|us| DateTime::from_timestamp_micros(us).unwrap())
}

fn unsigned_envelope() -> impl Strategy<Value = UnsignedEnvelope> {
    (
        any::<u128>(),
        channel(),
        counter(),
        counter(),
        any::<[u8; 32]>(),
        kind_name(),
        time(),
        0..=MAX_SAFE_INTEGER,
        payload(),
    )
        .prop_map(
            |(id, channel, epoch, seq, prev, name, created_at, manifest_version, payload)| {
                UnsignedEnvelope {
                    id: Uuid::from_u128(id),
                    origin: cc("GTM"),
                    destination: cc("HND"),
                    channel,
                    epoch,
                    seq,
                    prev: if seq == 1 {
                        ZERO_HASH.into()
                    } else {
                        hex::encode(prev)
                    },
                    kind: format!("{channel}.{name}"),
                    created_at,
                    manifest_version,
                    payload,
                }
            },
        )
}

fn ack_result() -> impl Strategy<Value = AckResult> {
    (
        any::<u128>(),
        counter(),
        prop::sample::select(vec![
            AckOutcome::Stored,
            AckOutcome::Duplicate,
            AckOutcome::Rejected,
            AckOutcome::Refused,
        ]),
        prop::sample::select(Reason::ALL.to_vec()),
    )
        .prop_map(|(id, seq, result, reason)| {
            if result.needs_reason() {
                AckResult::with_reason(Uuid::from_u128(id), seq, result, reason)
            } else {
                AckResult::ok(Uuid::from_u128(id), seq, result)
            }
        })
}

fn unsigned_ack() -> impl Strategy<Value = UnsignedAck> {
    (
        channel(),
        counter(),
        prop_oneof![Just(0u64), counter()],
        any::<[u8; 32]>(),
        prop::collection::vec(ack_result(), 0..6),
        time(),
    )
        .prop_map(
            |(channel, epoch, through, head, results, created_at)| UnsignedAck {
                from: cc("HND"),
                to: cc("GTM"),
                channel,
                epoch,
                acked_through_seq: through,
                head_hash: if through == 0 {
                    ZERO_HASH.into()
                } else {
                    hex::encode(head)
                },
                results,
                created_at,
            },
        )
}

// ----- helpers -----

/// xorshift64*: a tiny deterministic generator for shuffles.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// JSON text of `s`, every character escaped as `\uXXXX` (UTF-16 code units).
fn escaped_string(s: &str) -> String {
    let mut out = String::from("\"");
    for unit in s.encode_utf16() {
        out.push_str(&format!("\\u{unit:04X}"));
    }
    out.push('"');
    out
}

/// Writes `v` as JSON text with object members in a random order, random whitespace, and
/// strings randomly written raw or fully escaped: the same JSON value, different bytes.
fn write_scrambled(v: &Value, rng: &mut Rng, out: &mut String) {
    let ws = |rng: &mut Rng| [" ", "", "\n  ", "\t"][rng.below(4)];
    match v {
        Value::Object(members) => {
            let mut entries: Vec<_> = members.iter().collect();
            for i in (1..entries.len()).rev() {
                entries.swap(i, rng.below(i + 1));
            }
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(ws(rng));
                write_scrambled(&Value::String(k.clone()), rng, out);
                out.push_str(ws(rng));
                out.push(':');
                write_scrambled(v, rng, out);
            }
            out.push_str(ws(rng));
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(ws(rng));
                    out.push(',');
                }
                write_scrambled(item, rng, out);
            }
            out.push(']');
        }
        Value::String(s) if rng.below(2) == 0 => out.push_str(&escaped_string(s)),
        other => out.push_str(&serde_json::to_string(other).unwrap()),
    }
}

fn scrambled(wire: &[u8], seed: u64) -> Vec<u8> {
    let value: Value = serde_json::from_slice(wire).unwrap();
    let mut out = String::new();
    write_scrambled(&value, &mut Rng(seed | 1), &mut out);
    out.into_bytes()
}

fn flip(bytes: &[u8], bit: usize) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[bit / 8] ^= 1 << (bit % 8);
    b
}

fn envelope_accepted(bytes: &[u8]) -> bool {
    Envelope::parse(bytes)
        .and_then(|e| e.verify(&key("GTM-2026a").verifying_key()))
        .is_ok()
}

fn ack_accepted(bytes: &[u8]) -> bool {
    Ack::parse(bytes)
        .and_then(|a| a.verify(&key("HND-2026a").verifying_key()))
        .is_ok()
}

/// Every way of changing one field of an envelope to another value.
fn mutate_envelope(e: &mut Envelope, field: usize) {
    let bump = |n: &mut u64| *n = if *n > 1 { *n - 1 } else { *n + 1 };
    match field {
        0 => e.id = Uuid::from_u128(e.id.as_u128() ^ 1),
        1 => e.origin = cc("SLV"),
        2 => e.destination = cc("SLV"),
        3 => {
            let i = Channel::ALL.iter().position(|c| *c == e.channel).unwrap();
            e.channel = Channel::ALL[(i + 1) % 4];
        }
        4 => bump(&mut e.epoch),
        5 => bump(&mut e.seq),
        6 => {
            let c = if e.prev.starts_with('0') { "1" } else { "0" };
            e.prev.replace_range(0..1, c);
        }
        7 => e.kind.push('x'),
        8 => e.created_at += chrono::TimeDelta::microseconds(1),
        9 => bump(&mut e.manifest_version),
        10 => {
            e.payload
                .as_object_mut()
                .unwrap()
                .insert("\u{0}mutated".into(), Value::Null);
        }
        11 => e.key_id = "GTM-2026b".parse::<KeyId>().unwrap(),
        _ => {
            // A valid signature, but over something else.
            e.sig = key("GTM-2026a").sign(
                puente_federation::SignatureContext::Envelope,
                b"something else",
            );
        }
    }
}

const ENVELOPE_FIELDS: usize = 13;

fn mutate_ack(a: &mut Ack, field: usize) {
    let bump = |n: &mut u64| *n = if *n > 1 { *n - 1 } else { *n + 1 };
    match field {
        0 => a.from = cc("SLV"),
        1 => a.to = cc("SLV"),
        2 => {
            let i = Channel::ALL.iter().position(|c| *c == a.channel).unwrap();
            a.channel = Channel::ALL[(i + 1) % 4];
        }
        3 => bump(&mut a.epoch),
        4 => bump(&mut a.acked_through_seq),
        5 => {
            let c = if a.head_hash.starts_with('0') {
                "1"
            } else {
                "0"
            };
            a.head_hash.replace_range(0..1, c);
        }
        6 => a
            .results
            .push(AckResult::ok(Uuid::nil(), 1, AckOutcome::Stored)),
        7 => match a.results.first_mut() {
            Some(r) if r.result == AckOutcome::Duplicate => r.result = AckOutcome::Stored,
            Some(r) => r.result = AckOutcome::Duplicate,
            None => a
                .results
                .push(AckResult::ok(Uuid::nil(), 1, AckOutcome::Duplicate)),
        },
        8 => a.created_at += chrono::TimeDelta::microseconds(1),
        9 => a.key_id = "HND-2026b".parse::<KeyId>().unwrap(),
        _ => a.sig = key("HND-2026a").sign(puente_federation::SignatureContext::Ack, b"x"),
    }
}

const ACK_FIELDS: usize = 11;

// ----- properties -----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn envelope_round_trip(u in unsigned_envelope()) {
        let signed = u.sign(&key("GTM-2026a")).unwrap();
        let parsed = Envelope::parse(&signed.bytes).unwrap();
        prop_assert_eq!(&parsed, &signed.envelope);
        prop_assert_eq!(parsed.canonical_bytes(), signed.bytes.clone());
        prop_assert_eq!(parsed.hash(), signed.hash.clone());
        prop_assert!(parsed.verify(&key("GTM-2026a").verifying_key()).is_ok());
        // Through serde as well (e.g. inside a batch object).
        let via_serde: Envelope = serde_json::from_value(serde_json::to_value(&parsed).unwrap()).unwrap();
        prop_assert_eq!(via_serde, parsed);
    }

    #[test]
    fn envelope_member_order_and_escaping_do_not_matter(u in unsigned_envelope(), seed in any::<u64>()) {
        let signed = u.sign(&key("GTM-2026a")).unwrap();
        let text = scrambled(&signed.bytes, seed);
        let parsed = Envelope::parse(&text).unwrap();
        prop_assert_eq!(&parsed, &signed.envelope);
        prop_assert_eq!(parsed.hash(), signed.hash);
        prop_assert!(parsed.verify(&key("GTM-2026a").verifying_key()).is_ok());
    }

    /// A flipped bit either fails, or is another JSON spelling of the very same envelope
    /// (`\u000b` for `\u000B`: the signature covers the canonical form, so the message, its
    /// hash and its meaning are unchanged).
    #[test]
    fn envelope_any_flipped_bit_fails(u in unsigned_envelope(), at in any::<Index>()) {
        let signed = u.sign(&key("GTM-2026a")).unwrap();
        let bit = at.index(signed.bytes.len() * 8);
        let flipped = flip(&signed.bytes, bit);
        if envelope_accepted(&flipped) {
            let same = Envelope::parse(&flipped).unwrap();
            prop_assert_eq!(same.canonical_bytes(), signed.bytes.clone(), "bit {} still verifies", bit);
        }
    }

    #[test]
    fn envelope_any_changed_field_fails(u in unsigned_envelope(), field in 0..ENVELOPE_FIELDS) {
        let signed = u.sign(&key("GTM-2026a")).unwrap();
        let mut e = signed.envelope;
        mutate_envelope(&mut e, field);
        prop_assert_eq!(e.verify(&key("GTM-2026a").verifying_key()), Err(Reason::BadSignature));
    }

    #[test]
    fn ack_round_trip_and_member_order(u in unsigned_ack(), seed in any::<u64>()) {
        let ack = u.sign(&key("HND-2026a")).unwrap();
        let wire = ack.canonical_bytes();
        let parsed = Ack::parse(&wire).unwrap();
        prop_assert_eq!(&parsed, &ack);
        prop_assert_eq!(parsed.canonical_bytes(), wire.clone());
        let parsed = Ack::parse(&scrambled(&wire, seed)).unwrap();
        prop_assert_eq!(&parsed, &ack);
        prop_assert!(parsed.verify(&key("HND-2026a").verifying_key()).is_ok());
    }

    #[test]
    fn ack_any_flipped_bit_fails(u in unsigned_ack(), at in any::<Index>()) {
        let ack = u.sign(&key("HND-2026a")).unwrap();
        let wire = ack.canonical_bytes();
        let bit = at.index(wire.len() * 8);
        let flipped = flip(&wire, bit);
        if ack_accepted(&flipped) {
            // Only another JSON spelling of the same ack may verify.
            prop_assert_eq!(Ack::parse(&flipped).unwrap().canonical_bytes(), wire.clone(), "bit {} still verifies", bit);
        }
    }

    #[test]
    fn ack_any_changed_field_fails(u in unsigned_ack(), field in 0..ACK_FIELDS) {
        let mut ack = u.sign(&key("HND-2026a")).unwrap();
        mutate_ack(&mut ack, field);
        prop_assert_eq!(ack.verify(&key("HND-2026a").verifying_key()), Err(Reason::BadSignature));
    }
}

// ----- exhaustive checks on one envelope and one ack -----

#[test]
fn every_bit_of_an_envelope_matters() {
    let signed = first();
    assert!(envelope_accepted(&signed.bytes));
    for bit in 0..signed.bytes.len() * 8 {
        assert!(
            !envelope_accepted(&flip(&signed.bytes, bit)),
            "bit {bit} flipped still verifies"
        );
    }
}

#[test]
fn every_bit_of_an_ack_matters() {
    let ack = crate::golden::golden_unsigned_ack()
        .sign(&key("HND-2026a"))
        .unwrap();
    let wire = ack.canonical_bytes();
    assert!(ack_accepted(&wire));
    for bit in 0..wire.len() * 8 {
        assert!(
            !ack_accepted(&flip(&wire, bit)),
            "bit {bit} flipped still verifies"
        );
    }
}

#[test]
fn every_field_of_an_envelope_and_ack_matters() {
    let signed = first();
    for field in 0..ENVELOPE_FIELDS {
        let mut e = signed.envelope.clone();
        mutate_envelope(&mut e, field);
        assert_ne!(e, signed.envelope, "field {field} unchanged");
        assert_eq!(
            e.verify(&key("GTM-2026a").verifying_key()),
            Err(Reason::BadSignature),
            "field {field}"
        );
    }
    let ack = crate::golden::golden_unsigned_ack()
        .sign(&key("HND-2026a"))
        .unwrap();
    for field in 0..ACK_FIELDS {
        let mut a = ack.clone();
        mutate_ack(&mut a, field);
        assert_ne!(a, ack, "field {field} unchanged");
        assert_eq!(
            a.verify(&key("HND-2026a").verifying_key()),
            Err(Reason::BadSignature),
            "field {field}"
        );
    }
}

/// A signature made for one kind of object never passes for another: the same key over the
/// same canonical bytes, but under the envelope prefix, does not verify as an ack.
#[test]
fn an_envelope_signature_is_not_an_ack_signature() {
    use puente_federation::SignatureContext;
    let mut ack = crate::golden::golden_unsigned_ack()
        .sign(&key("HND-2026a"))
        .unwrap();
    let body = ack.signing_input()[SignatureContext::Ack.prefix().len()..].to_vec();
    ack.sig = key("HND-2026a").sign(SignatureContext::Envelope, &body);
    assert_eq!(
        ack.verify(&key("HND-2026a").verifying_key()),
        Err(Reason::BadSignature)
    );
    ack.sig = key("HND-2026a").sign(SignatureContext::Ack, &body);
    assert!(ack.verify(&key("HND-2026a").verifying_key()).is_ok());
}

type Edit = Box<dyn Fn(&mut Value)>;

#[test]
fn envelope_schema_refusals() {
    let wire = first().bytes;
    let base: Value = serde_json::from_slice(&wire).unwrap();
    let edits: Vec<(&str, Edit)> = vec![
        ("unknown member", Box::new(|v| v["extra"] = Value::Null)),
        (
            "missing sig",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("sig");
            }),
        ),
        ("v 2", Box::new(|v| v["v"] = 2.into())),
        ("epoch 0", Box::new(|v| v["epoch"] = 0.into())),
        ("epoch float", Box::new(|v| v["epoch"] = 1.0.into())),
        (
            "seq too big",
            Box::new(|v| v["seq"] = (MAX_SAFE_INTEGER + 1).into()),
        ),
        (
            "uppercase id",
            Box::new(|v| {
                let up = v["id"].as_str().unwrap().to_uppercase();
                v["id"] = up.into();
            }),
        ),
        (
            "simple uuid",
            Box::new(|v| {
                let s = v["id"].as_str().unwrap().replace('-', "");
                v["id"] = s.into();
            }),
        ),
        (
            "timestamp without micros",
            Box::new(|v| v["created_at"] = "2026-11-30T16:30:00Z".into()),
        ),
        (
            "timestamp with offset",
            Box::new(|v| v["created_at"] = "2026-11-30T17:30:00.123456+01:00".into()),
        ),
        (
            "uppercase prev",
            Box::new(|v| v["prev"] = "A".repeat(64).into()),
        ),
        (
            "kind of another channel",
            Box::new(|v| v["kind"] = "referral.offer".into()),
        ),
        (
            "payload not an object",
            Box::new(|v| v["payload"] = Value::Array(vec![])),
        ),
        (
            "float in payload",
            Box::new(|v| v["payload"]["x"] = 0.5.into()),
        ),
        ("bad key id", Box::new(|v| v["key_id"] = "GTM2026a".into())),
        ("sig not base64", Box::new(|v| v["sig"] = "%%%".into())),
        (
            "unknown channel",
            Box::new(|v| v["channel"] = "gossip".into()),
        ),
        ("lowercase origin", Box::new(|v| v["origin"] = "gtm".into())),
    ];
    for (name, edit) in edits {
        let mut v = base.clone();
        edit(&mut v);
        let bytes = serde_json::to_vec(&v).unwrap();
        assert_eq!(Envelope::parse(&bytes), Err(Reason::Malformed), "{name}");
    }
    // Duplicate member names are refused, even with equal values.
    let text = String::from_utf8(wire.clone()).unwrap();
    let dup = text.replacen("{", "{\"v\":1,", 1);
    assert_eq!(Envelope::parse(dup.as_bytes()), Err(Reason::Malformed));
    // Size.
    let mut big = wire.clone();
    big.resize(puente_federation::MAX_ENVELOPE_BYTES + 1, b' ');
    assert_eq!(Envelope::parse(&big), Err(Reason::TooLarge));
    let mut huge = base.clone();
    huge["payload"]["blob"] = "x".repeat(puente_federation::MAX_ENVELOPE_BYTES).into();
    assert_eq!(Envelope::from_value(huge), Err(Reason::TooLarge));
    // Whitespace around an envelope that fits is fine.
    let mut padded = wire.clone();
    padded.extend_from_slice(b"  \n");
    assert!(Envelope::parse(&padded).is_ok());
}
