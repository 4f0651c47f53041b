//! Golden vectors: envelopes, an ack and a signed manifest made with the test-only keys of
//! `fixtures`, committed under `tests/vectors/`. Each test re-creates its file and compares it
//! byte for byte; `PUENTE_BLESS=1` rewrites the files instead. Ed25519 signatures are
//! deterministic, so the same inputs always give the same bytes.
//!
//! Each file holds the signer (key id, the test-only seed, the public key), the exact signing
//! input (context prefix + canonical JSON without `sig`), the wire bytes (canonical JSON) and
//! their SHA-256: enough for another implementation to check its canonicalisation, signing,
//! hashing and verification against ours.

use std::path::PathBuf;

use puente_federation::canonical::{sha256_hex, ZERO_HASH};
use puente_federation::{
    Ack, AckOutcome, AckResult, Channel, Envelope, Reason, SignedManifest, UnsignedAck,
    UnsignedEnvelope,
};
use serde_json::{json, Value};

use crate::fixtures::*;

const NOTE: &str = "Puente federation test vector. The seeds are published TEST-ONLY keys \
                    (SHA-256 of \"puente test-only seed \" + key id), not secrets; never use \
                    them in a real node. Regenerate with PUENTE_BLESS=1.";

fn vector_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("vectors")
        .join(name)
}

/// Compares `value` (pretty-printed) with the committed file, or rewrites it when blessing.
fn check_golden(name: &str, value: &Value) {
    let text = serde_json::to_string_pretty(value).unwrap() + "\n";
    let path = vector_path(name);
    if std::env::var("PUENTE_BLESS").as_deref() == Ok("1") {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with PUENTE_BLESS=1 to create it",
            path.display()
        )
    });
    assert!(
        committed == text,
        "{name} differs from what the code produces now; if the change is intended, \
         rerun with PUENTE_BLESS=1 and review the diff.\n--- committed\n{committed}\n--- now\n{text}"
    );
}

fn signer_json(key_id: &str) -> Value {
    json!({
        "key_id": key_id,
        "seed_hex": hex::encode(seed(key_id)),
        "public_key": key(key_id).public_key_b64(),
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Checks what a file states, independently of how it was produced: the wire text parses,
/// re-serialises to itself, hashes to `hash` and verifies under the stated public key.
fn check_envelope_vector(name: &str, env: &UnsignedEnvelope, signer: &str) -> Envelope {
    let signed = env.clone().sign(&key(signer)).unwrap();
    let e = &signed.envelope;
    let vector = json!({
        "note": NOTE,
        "object": "envelope",
        "signer": signer_json(signer),
        "signing_input": text(&e.signing_input()),
        "wire": text(&signed.bytes),
        "sha256": signed.hash,
    });
    check_golden(name, &vector);

    let parsed = Envelope::parse(&signed.bytes).unwrap();
    assert_eq!(parsed.canonical_bytes(), signed.bytes);
    assert_eq!(sha256_hex(&signed.bytes), signed.hash);
    assert_eq!(parsed.hash(), signed.hash);
    parsed.verify(&key(signer).verifying_key()).unwrap();
    assert!(parsed
        .signing_input()
        .starts_with(b"puente/1 envelope\n{\"channel\":"));
    parsed
}

#[test]
fn golden_directory_stream() {
    let first = check_envelope_vector(
        "envelope-directory-1.json",
        &directory(1, ZERO_HASH),
        "GTM-2026a",
    );
    // The second envelope of the stream chains to the first by hash.
    let mut second = directory(2, &first.hash());
    second.created_at = now() + minutes(1);
    let second = check_envelope_vector("envelope-directory-2.json", &second, "GTM-2026a");
    assert_eq!(second.prev, first.hash());
}

#[test]
fn golden_control_epoch() {
    let env = UnsignedEnvelope {
        id: uuid(0x100),
        origin: cc("GTM"),
        destination: cc("HND"),
        channel: Channel::Control,
        epoch: 2,
        seq: 1,
        prev: ZERO_HASH.into(),
        kind: "control.epoch".into(),
        created_at: now(),
        manifest_version: 3,
        payload: json!({"epoch": 2, "reason": "restored_from_backup"}),
    };
    check_envelope_vector("envelope-control-epoch.json", &env, "GTM-2026a");
}

pub fn golden_unsigned_ack() -> UnsignedAck {
    UnsignedAck {
        from: cc("HND"),
        to: cc("GTM"),
        channel: Channel::Directory,
        epoch: 1,
        acked_through_seq: 3,
        head_hash: sha256_hex(b"envelope 3"),
        results: vec![
            AckResult::ok(uuid(1), 1, AckOutcome::Duplicate),
            AckResult::ok(uuid(2), 2, AckOutcome::Stored),
            AckResult::with_reason(uuid(3), 3, AckOutcome::Rejected, Reason::KindNotAllowed),
            AckResult::with_reason(uuid(4), 4, AckOutcome::Refused, Reason::KeyRevoked),
        ],
        created_at: now() + minutes(2),
    }
}

#[test]
fn golden_ack() {
    let ack = golden_unsigned_ack().sign(&key("HND-2026a")).unwrap();
    let wire = ack.canonical_bytes();
    let vector = json!({
        "note": NOTE,
        "object": "ack",
        "signer": signer_json("HND-2026a"),
        "signing_input": text(&ack.signing_input()),
        "wire": text(&wire),
        "sha256": ack.hash(),
    });
    check_golden("ack-directory.json", &vector);

    let parsed = Ack::parse(&wire).unwrap();
    assert_eq!(parsed, ack);
    assert_eq!(parsed.canonical_bytes(), wire);
    parsed.verify(&key("HND-2026a").verifying_key()).unwrap();
    assert!(parsed
        .signing_input()
        .starts_with(b"puente/1 ack\n{\"acked_through_seq\":3,"));
}

#[test]
fn golden_manifest() {
    let signed = signed(manifest(), &["GTM-2026g", "SLV-2026g"]);
    let wire = signed.to_bytes();
    let member_keys = [
        "GTM-2026a",
        "GTM-2025a",
        "GTM-2025b",
        "HND-2026a",
        "SLV-2026a",
        "REG-2026a",
        "MEX-2026a",
    ]
    .map(signer_json);
    let vector = json!({
        "note": NOTE,
        "object": "signed manifest",
        "signers": [signer_json("GTM-2026g"), signer_json("SLV-2026g")],
        "member_keys": member_keys,
        "governance_fingerprint": signed.manifest.governance.fingerprint(),
        "signing_input": text(&signed.signing_input()),
        "wire": text(&wire),
        "sha256": sha256_hex(&wire),
    });
    check_golden("manifest-signed.json", &vector);

    let parsed = SignedManifest::parse(&wire).unwrap();
    assert_eq!(parsed, signed);
    assert_eq!(parsed.to_bytes(), wire);
    parsed.verify(&governance()).unwrap();
    assert_eq!(parsed.accept(None, &governance()).unwrap(), governance());
}
