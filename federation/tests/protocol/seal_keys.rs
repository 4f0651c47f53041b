//! Seal keys in the manifest: absent when empty (old manifests keep their bytes), signed like
//! the rest, checked by the schema, and `Manifest::seal_key` picks the key to seal to.

use puente_federation::manifest::{Manifest, MemberKey};
use puente_federation::seal::{self, SealError, SealKeyPair};
use puente_federation::{Reason, SignedManifest};
use serde_json::Value;

use crate::fixtures::*;

fn seal_entry(id: &str, from: &str, until: Option<&str>) -> MemberKey {
    let pair = SealKeyPair::derive(&key(id));
    MemberKey {
        id: pair.id().clone(),
        public_key: pair.public_key_b64(),
        valid_from: t(from),
        valid_until: until.map(t),
    }
}

/// The test manifest with seal keys: GTM has an expired one (`GTM-2025a`), a revoked one
/// (`GTM-2025b`), the current one (`GTM-2026a`) and a newer one from 2026-12-01
/// (`GTM-2026b`); HND has one; the others none.
fn with_seal_keys() -> Manifest {
    let mut m = manifest();
    m.members[0].seal_keys = vec![
        seal_entry(
            "GTM-2025a",
            "2025-01-01T00:00:00.000000Z",
            Some("2026-01-01T00:00:00.000000Z"),
        ),
        seal_entry("GTM-2025b", "2025-06-01T00:00:00.000000Z", None),
        seal_entry("GTM-2026a", "2026-01-01T00:00:00.000000Z", None),
        seal_entry("GTM-2026b", "2026-12-01T00:00:00.000000Z", None),
    ];
    m.members[1].seal_keys = vec![seal_entry("HND-2026a", "2026-01-01T00:00:00.000000Z", None)];
    m
}

#[test]
fn no_seal_keys_no_field() {
    let wire = signed(manifest(), &["GTM-2026g", "HND-2026g"]).to_bytes();
    assert!(!String::from_utf8(wire.clone())
        .unwrap()
        .contains("seal_keys"));
    // `"seal_keys": []` is not the wire form (it re-serialises without the field).
    let mut v: Value = serde_json::from_slice(&wire).unwrap();
    v["manifest"]["members"][0]["seal_keys"] = Value::Array(vec![]);
    let err = SignedManifest::parse(&serde_json::to_vec(&v).unwrap()).unwrap_err();
    assert_eq!(err.reason(), Reason::Malformed);
}

#[test]
fn seal_keys_are_signed_and_round_trip() {
    let s = signed(with_seal_keys(), &["GTM-2026g", "HND-2026g"]);
    let wire = s.to_bytes();
    assert!(String::from_utf8(wire.clone())
        .unwrap()
        .contains("\"seal_keys\":["));
    let back = SignedManifest::parse(&wire).unwrap();
    assert_eq!(back, s);
    back.verify(&governance()).unwrap();
    assert_eq!(back.accept(None, &governance()).unwrap(), governance());
    // The seal keys are under the signatures: changing one breaks them.
    let mut v: Value = serde_json::from_slice(&wire).unwrap();
    v["manifest"]["members"][1]["seal_keys"][0]["public_key"] =
        SealKeyPair::derive(&key("SLV-2026a"))
            .public_key_b64()
            .into();
    let forged = SignedManifest::parse(&serde_json::to_vec(&v).unwrap()).unwrap();
    assert!(forged.verify(&governance()).is_err());
    // Adding seal keys changes what is signed: the old signatures do not carry over.
    let mut moved = signed(manifest(), &["GTM-2026g", "HND-2026g"]);
    moved.manifest = with_seal_keys();
    assert!(moved.verify(&governance()).is_err());
}

#[test]
fn seal_key_picks_the_latest_valid_unrevoked_key() {
    let m = with_seal_keys();
    let id = |k: Option<&MemberKey>| k.map(|k| k.id.as_str().to_owned());
    // Now (2026-11-30): GTM-2026a; GTM-2026b is not valid yet.
    assert_eq!(
        id(m.seal_key(cc("GTM"), now())).as_deref(),
        Some("GTM-2026a")
    );
    // From 2026-12-01 both are valid: the latest valid_from wins.
    assert_eq!(
        id(m.seal_key(cc("GTM"), t("2026-12-01T00:00:00.000000Z"))).as_deref(),
        Some("GTM-2026b")
    );
    // In 2025 GTM-2025b would win but is revoked: GTM-2025a.
    assert_eq!(
        id(m.seal_key(cc("GTM"), t("2025-07-01T00:00:00.000000Z"))).as_deref(),
        Some("GTM-2025a")
    );
    // Before any key.
    assert_eq!(
        m.seal_key(cc("GTM"), t("2024-07-01T00:00:00.000000Z")),
        None
    );
    // A member without seal keys, and a stranger.
    assert_eq!(m.seal_key(cc("SLV"), now()), None);
    assert_eq!(m.seal_key(cc("CRI"), now()), None);
    // Revoking the current key falls back to none valid now (GTM-2025a expired).
    let mut revoked = m.clone();
    revoked.members[0].revoked_keys.push(kid("GTM-2026a"));
    assert_eq!(revoked.seal_key(cc("GTM"), now()), None);
}

#[test]
fn sealed_to_the_manifest_key_opens_at_the_destination_only() {
    let m = with_seal_keys();
    let aad = seal::aad(
        cc("GTM"),
        cc("HND"),
        "referral.offer",
        "01937a2b-c000-7000-8000-000000000001",
    );
    let to = m.seal_key(cc("HND"), now()).unwrap();
    let sealed = seal::seal(to, &aad, b"{\"body\":1}").unwrap();
    assert_eq!(sealed.key_id, kid("HND-2026a"));
    let hnd = SealKeyPair::derive(&key("HND-2026a"));
    assert_eq!(hnd.open(&sealed, &aad).unwrap(), b"{\"body\":1}");
    // Not GTM's, not SLV's.
    let gtm = SealKeyPair::derive(&key("GTM-2026a"));
    assert_eq!(gtm.open(&sealed, &aad), Err(SealError::WrongKey));
    let slv = SealKeyPair::derive(&key("SLV-2026a"));
    assert_eq!(slv.open(&sealed, &aad), Err(SealError::WrongKey));
}

fn refused(edit: impl Fn(&mut Value)) -> bool {
    let s = signed(with_seal_keys(), &["GTM-2026g", "HND-2026g"]);
    let mut v: Value = serde_json::from_slice(&s.to_bytes()).unwrap();
    edit(&mut v);
    SignedManifest::parse(&serde_json::to_vec(&v).unwrap())
        .is_err_and(|e| e.reason() == Reason::Malformed)
}

#[test]
fn seal_key_schema_refusals() {
    let keys = |v: &mut Value| v["manifest"]["members"][1]["seal_keys"].clone();
    assert!(refused(|v| {
        let first = keys(v)[0].clone();
        v["manifest"]["members"][1]["seal_keys"]
            .as_array_mut()
            .unwrap()
            .push(first);
    }));
    assert!(refused(|v| {
        v["manifest"]["members"][1]["seal_keys"][0]["id"] = "GTM-2026c".into();
    }));
    for bad in ["AAAA", "not base64!", ""] {
        assert!(refused(|v| {
            v["manifest"]["members"][1]["seal_keys"][0]["public_key"] = bad.into();
        }));
    }
    assert!(refused(|v| {
        v["manifest"]["members"][1]["seal_keys"][0]["valid_until"] =
            "2025-01-01T00:00:00.000000Z".into();
    }));
    assert!(refused(|v| {
        v["manifest"]["members"][1]["seal_keys"][0]["extra"] = 1.into();
    }));
    // The unedited manifest parses.
    assert!(!refused(|_| {}));
}
