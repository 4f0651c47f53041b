//! The manifest: M-of-N signatures, succession (rollback, conflict, governance change),
//! freshness, key windows and revocation, what agreements allow, schema refusals.

use puente_federation::manifest::{
    Freshness, GovernanceKey, ManifestError, ManifestSignature, MemberStatus,
};
use puente_federation::{Channel, Governance, Reason, SignedManifest};
use serde_json::Value;

use crate::fixtures::*;

#[test]
fn threshold_m_of_n() {
    let gov = governance();
    // M - 1 = 1 signature: refused.
    let one = signed(manifest(), &["GTM-2026g"]);
    let err = one.verify(&gov).unwrap_err();
    assert_eq!(
        err,
        ManifestError::Signatures {
            valid: 1,
            threshold: 2
        }
    );
    assert_eq!(err.reason(), Reason::ManifestSignatures);
    // No signature at all.
    assert!(SignedManifest::unsigned(manifest()).verify(&gov).is_err());
    // M = 2 and N = 3 signatures: accepted.
    signed(manifest(), &["GTM-2026g", "HND-2026g"])
        .verify(&gov)
        .unwrap();
    signed(manifest(), &["GTM-2026g", "HND-2026g", "SLV-2026g"])
        .verify(&gov)
        .unwrap();
}

#[test]
fn duplicate_signatures_by_one_key_count_once() {
    let mut m = signed(manifest(), &["GTM-2026g"]);
    let again = m.signatures[0].clone();
    m.signatures.push(again.clone());
    m.signatures.push(again);
    assert_eq!(m.valid_signers(&governance()).len(), 1);
    assert!(m.verify(&governance()).is_err());
    // add_signature replaces rather than duplicates.
    m.add_signature(&key("GTM-2026g")).unwrap();
    assert_eq!(m.signatures.len(), 1);
}

#[test]
fn unknown_and_invalid_signatures_are_ignored() {
    let gov = governance();
    // A signature by a key outside the governance (REG-2026g) does not count...
    let mut m = signed(manifest(), &["GTM-2026g"]);
    let outsider = GovernanceKey {
        id: kid("REG-2026g"),
        holder: cc("REG"),
        public_key: key("REG-2026g").public_key_b64(),
    };
    let wider = Governance {
        threshold: 1,
        keys: vec![outsider],
    };
    m.add_signature_under(&key("REG-2026g"), &wider).unwrap();
    assert_eq!(m.signatures.len(), 2);
    assert!(m.verify(&gov).is_err());
    // ...and does not harm either.
    m.add_signature(&key("HND-2026g")).unwrap();
    m.verify(&gov).unwrap();
    // A governance key's id with a signature that does not verify does not count.
    let mut bad = signed(manifest(), &["GTM-2026g"]);
    let forged = signed(manifest(), &["GTM-2026g"]).signatures[0].sig.clone();
    bad.signatures.push(ManifestSignature {
        key_id: kid("HND-2026g"),
        sig: forged,
    });
    assert!(bad.verify(&gov).is_err());
    // A signature over other content does not count.
    let mut changed = signed(manifest(), &["GTM-2026g", "HND-2026g"]);
    changed.manifest.version = 4;
    assert!(changed.verify(&gov).is_err());
}

#[test]
fn only_governance_keys_can_sign() {
    let mut m = SignedManifest::unsigned(manifest());
    assert_eq!(
        m.add_signature(&key("GTM-2026a")),
        Err(ManifestError::NotGovernanceKey(kid("GTM-2026a")))
    );
    // Same id, other key.
    let impostor = puente_federation::SigningIdentity::from_seed(kid("GTM-2026g"), &[1; 32]);
    assert!(m.add_signature(&impostor).is_err());
}

#[test]
fn bootstrap_and_successors() {
    let gov = governance();
    let v3 = signed(manifest(), &["GTM-2026g", "HND-2026g"]);
    assert_eq!(v3.accept(None, &gov).unwrap(), gov);
    let mut next = manifest();
    next.version = 4;
    next.members[1].status = MemberStatus::Suspended;
    let v4 = signed(next, &["HND-2026g", "SLV-2026g"]);
    assert_eq!(v4.accept(Some(&v3), &gov).unwrap(), gov);
    // Not enough signatures at bootstrap.
    let weak = signed(manifest(), &["GTM-2026g"]);
    assert_eq!(
        weak.accept(None, &gov).unwrap_err().reason(),
        Reason::ManifestSignatures
    );
}

#[test]
fn rollback_is_refused() {
    let gov = governance();
    let mut old = manifest();
    old.version = 2;
    let v2 = signed(old, &["GTM-2026g", "HND-2026g"]);
    let v3 = signed(manifest(), &["GTM-2026g", "HND-2026g"]);
    let err = v2.accept(Some(&v3), &gov).unwrap_err();
    assert_eq!(
        err,
        ManifestError::Rollback {
            held: 3,
            offered: 2
        }
    );
    assert_eq!(err.reason(), Reason::ManifestRollback);
}

#[test]
fn same_version_other_content_is_a_conflict() {
    let gov = governance();
    let v3 = signed(manifest(), &["GTM-2026g", "HND-2026g"]);
    let mut other = manifest();
    other.members[0].name = "República de Guatemala".into();
    let other = signed(other, &["GTM-2026g", "SLV-2026g"]);
    let err = other.accept(Some(&v3), &gov).unwrap_err();
    assert_eq!(err, ManifestError::Conflict { version: 3 });
    assert_eq!(err.reason(), Reason::ManifestConflict);
    // The same content again (even with other signatures) is nothing to do.
    let again = signed(manifest(), &["SLV-2026g", "HND-2026g"]);
    assert_eq!(
        again.accept(Some(&v3), &gov),
        Err(ManifestError::Unchanged { version: 3 })
    );
}

#[test]
fn another_federation_is_refused() {
    let gov = governance();
    let v3 = signed(manifest(), &["GTM-2026g", "HND-2026g"]);
    let mut other = manifest();
    other.version = 9;
    other.federation = "puente-otra".into();
    let other = signed(other, &["GTM-2026g", "HND-2026g"]);
    assert_eq!(
        other.accept(Some(&v3), &gov).unwrap_err().reason(),
        Reason::WrongFederation
    );
}

/// Version 4 replaces SLV's governance key by REG's and raises nothing else.
fn new_governance() -> Governance {
    let mut g = governance();
    g.keys.retain(|k| k.id != kid("SLV-2026g"));
    g.keys.push(GovernanceKey {
        id: kid("REG-2026g"),
        holder: cc("REG"),
        public_key: key("REG-2026g").public_key_b64(),
    });
    g
}

#[test]
fn governance_change_needs_the_old_threshold() {
    let old = governance();
    let new = new_governance();
    assert_ne!(old.fingerprint(), new.fingerprint());
    let v3 = signed(manifest(), &["GTM-2026g", "HND-2026g"]);
    let mut m4 = manifest();
    m4.version = 4;
    m4.governance = new.clone();

    // Signed by the new governance's threshold but only one old key: refused.
    let mut by_new = SignedManifest::unsigned(m4.clone());
    by_new.add_signature(&key("GTM-2026g")).unwrap();
    by_new.add_signature(&key("REG-2026g")).unwrap();
    by_new.verify(&new).unwrap();
    assert_eq!(
        by_new.accept(Some(&v3), &old).unwrap_err(),
        ManifestError::Signatures {
            valid: 1,
            threshold: 2
        }
    );

    // Signed by the old threshold — one of them (SLV) leaving the governance: accepted, and
    // the anchor moves to the new governance.
    let mut by_old = SignedManifest::unsigned(m4);
    by_old.add_signature(&key("HND-2026g")).unwrap();
    assert!(by_old.add_signature(&key("SLV-2026g")).is_err());
    by_old.add_signature_under(&key("SLV-2026g"), &old).unwrap();
    let anchor = by_old.accept(Some(&v3), &old).unwrap();
    assert_eq!(anchor, new);

    // From then on the new governance decides: SLV's key no longer counts, REG's does.
    let mut m5 = by_old.manifest.clone();
    m5.version = 5;
    let mut v5 = SignedManifest::unsigned(m5.clone());
    v5.add_signature_under(&key("SLV-2026g"), &old).unwrap();
    v5.add_signature(&key("GTM-2026g")).unwrap();
    assert!(v5.accept(Some(&by_old), &anchor).is_err());
    let mut v5 = SignedManifest::unsigned(m5);
    v5.add_signature(&key("REG-2026g")).unwrap();
    v5.add_signature(&key("GTM-2026g")).unwrap();
    assert_eq!(v5.accept(Some(&by_old), &anchor).unwrap(), new);
}

#[test]
fn freshness_fresh_grace_expired() {
    let m = manifest();
    let expires = m.expires_at;
    let tick = chrono::TimeDelta::microseconds(1);
    assert_eq!(m.freshness(m.issued_at), Freshness::Fresh);
    assert_eq!(m.freshness(expires - tick), Freshness::Fresh);
    assert_eq!(m.freshness(expires), Freshness::Grace);
    let end = expires + chrono::TimeDelta::seconds(604_800);
    assert_eq!(m.grace_until(), Some(end));
    assert_eq!(m.freshness(end - tick), Freshness::Grace);
    assert_eq!(m.freshness(end), Freshness::Expired);
    let mut no_grace = manifest();
    no_grace.grace_seconds = 0;
    assert_eq!(no_grace.freshness(expires), Freshness::Expired);
}

#[test]
fn key_validity_windows_and_revocation() {
    let m = manifest();
    let gtm = cc("GTM");
    let at = now();
    assert_eq!(
        m.key(gtm, &kid("GTM-2026a"), at).unwrap(),
        key("GTM-2026a").verifying_key()
    );
    // [valid_from, valid_until)
    assert!(m
        .key(gtm, &kid("GTM-2026a"), t("2026-01-01T00:00:00.000000Z"))
        .is_ok());
    assert_eq!(
        m.key(gtm, &kid("GTM-2026a"), t("2025-12-31T23:59:59.999999Z")),
        Err(Reason::KeyNotValid)
    );
    assert!(m
        .key(gtm, &kid("GTM-2025a"), t("2025-12-31T23:59:59.999999Z"))
        .is_ok());
    assert_eq!(
        m.key(gtm, &kid("GTM-2025a"), t("2026-01-01T00:00:00.000000Z")),
        Err(Reason::KeyNotValid)
    );
    // Revoked: listed among the keys, or only as revoked.
    assert_eq!(m.key(gtm, &kid("GTM-2025b"), at), Err(Reason::KeyRevoked));
    assert_eq!(m.key(gtm, &kid("GTM-2024a"), at), Err(Reason::KeyRevoked));
    // Unknown: no such key, or another member's key.
    assert_eq!(m.key(gtm, &kid("GTM-2026z"), at), Err(Reason::UnknownKey));
    assert_eq!(m.key(gtm, &kid("HND-2026a"), at), Err(Reason::UnknownKey));
    assert_eq!(
        m.key(cc("CRI"), &kid("CRI-2026a"), at),
        Err(Reason::UnknownKey)
    );
}

#[test]
fn allows_per_agreement_kind() {
    let m = manifest();
    let (gtm, hnd, slv, reg, mex) = (cc("GTM"), cc("HND"), cc("SLV"), cc("REG"), cc("MEX"));
    // directory: everyone in dir-all, both ways.
    assert!(m.allows(Channel::Directory, gtm, hnd));
    assert!(m.allows(Channel::Directory, reg, slv));
    // referral: only the bilateral pair, both ways.
    assert!(m.allows(Channel::Referral, gtm, hnd));
    assert!(m.allows(Channel::Referral, hnd, gtm));
    assert!(!m.allows(Channel::Referral, gtm, slv));
    // stats: only member -> hub.
    assert!(m.allows(Channel::Stats, gtm, reg));
    assert!(m.allows(Channel::Stats, slv, reg));
    assert!(!m.allows(Channel::Stats, reg, gtm));
    assert!(!m.allows(Channel::Stats, gtm, hnd));
    // control: always between active members, no agreement needed.
    assert!(m.allows(Channel::Control, gtm, slv));
    assert!(m.allows(Channel::Control, reg, hnd));
    // Never with a suspended or unknown member, never to oneself.
    assert!(!m.allows(Channel::Control, mex, gtm));
    assert!(!m.allows(Channel::Control, gtm, mex));
    assert!(!m.allows(Channel::Control, cc("CRI"), gtm));
    assert!(!m.allows(Channel::Directory, gtm, gtm));
    // An agreement with a suspended member opens nothing for it.
    let mut m2 = manifest();
    m2.members[1].status = MemberStatus::Suspended;
    assert!(!m2.allows(Channel::Referral, gtm, hnd));
    assert!(!m2.allows(Channel::Directory, hnd, gtm));
}

#[test]
fn agreements_between_and_peers() {
    let m = manifest();
    let ids = |a, b| -> Vec<String> {
        m.agreements_between(cc(a), cc(b))
            .into_iter()
            .map(|g| g.id.clone())
            .collect()
    };
    assert_eq!(ids("GTM", "HND"), ["dir-all", "ref-GTM-HND", "stats-hub"]);
    assert_eq!(ids("GTM", "SLV"), ["dir-all", "stats-hub"]);
    assert!(ids("GTM", "MEX").is_empty());
    let peers: Vec<String> = m
        .peers_of(cc("GTM"))
        .into_iter()
        .map(|p| p.id.to_string())
        .collect();
    assert_eq!(peers, ["HND", "SLV", "REG"]);
}

#[test]
fn parse_round_trip_and_key_order() {
    let s = signed(manifest(), &["GTM-2026g", "HND-2026g"]);
    let wire = s.to_bytes();
    assert_eq!(SignedManifest::parse(&wire).unwrap(), s);
    let pretty =
        serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(&wire).unwrap()).unwrap();
    let back = SignedManifest::parse(&pretty).unwrap();
    assert_eq!(back, s);
    back.verify(&governance()).unwrap();
}

fn malformed_with(edit: impl Fn(&mut Value)) -> ManifestError {
    let s = signed(manifest(), &["GTM-2026g", "HND-2026g"]);
    let mut v: Value = serde_json::from_slice(&s.to_bytes()).unwrap();
    edit(&mut v);
    SignedManifest::parse(&serde_json::to_vec(&v).unwrap()).unwrap_err()
}

type Edit = Box<dyn Fn(&mut Value)>;

#[test]
fn schema_refusals() {
    let cases: Vec<(&str, Edit)> = vec![
        (
            "unknown member",
            Box::new(|v| v["manifest"]["extra"] = 1.into()),
        ),
        (
            "unknown member deep",
            Box::new(|v| v["manifest"]["members"][0]["extra"] = 1.into()),
        ),
        (
            "missing valid_until",
            Box::new(|v| {
                v["manifest"]["members"][0]["signing_keys"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("valid_until");
            }),
        ),
        ("v 2", Box::new(|v| v["manifest"]["v"] = 2.into())),
        (
            "version 0",
            Box::new(|v| v["manifest"]["version"] = 0.into()),
        ),
        (
            "float",
            Box::new(|v| v["manifest"]["grace_seconds"] = 1.5.into()),
        ),
        (
            "threshold 0",
            Box::new(|v| v["manifest"]["governance"]["threshold"] = 0.into()),
        ),
        (
            "threshold > N",
            Box::new(|v| v["manifest"]["governance"]["threshold"] = 4.into()),
        ),
        (
            "expires before issued",
            Box::new(|v| v["manifest"]["expires_at"] = "2026-10-01T00:00:00.000000Z".into()),
        ),
        (
            "timestamp not in wire form",
            Box::new(|v| v["manifest"]["issued_at"] = "2026-11-01T00:00:00Z".into()),
        ),
        (
            "duplicate member",
            Box::new(|v| {
                let first = v["manifest"]["members"][0].clone();
                v["manifest"]["members"].as_array_mut().unwrap().push(first);
            }),
        ),
        (
            "key of another owner",
            Box::new(|v| v["manifest"]["members"][0]["signing_keys"][0]["id"] = "HND-2027a".into()),
        ),
        (
            "http endpoint",
            Box::new(|v| v["manifest"]["members"][0]["endpoint"] = "http://127.0.0.2".into()),
        ),
        (
            "bad pin",
            Box::new(|v| v["manifest"]["members"][0]["tls_pins"][0] = "AAAA".into()),
        ),
        (
            "agreement with a non-member",
            Box::new(|v| v["manifest"]["agreements"][1]["members"][1] = "CRI".into()),
        ),
        (
            "stats without hub",
            Box::new(|v| {
                v["manifest"]["agreements"][2]
                    .as_object_mut()
                    .unwrap()
                    .remove("hub");
            }),
        ),
        (
            "hub on directory",
            Box::new(|v| v["manifest"]["agreements"][0]["hub"] = "REG".into()),
        ),
        (
            "bad role",
            Box::new(|v| v["manifest"]["members"][0]["role"] = "boss".into()),
        ),
        (
            "bad signature form",
            Box::new(|v| v["signatures"][0]["sig"] = "AAAA".into()),
        ),
    ];
    for (name, edit) in cases {
        let err = malformed_with(edit);
        assert_eq!(err.reason(), Reason::Malformed, "{name}: {err}");
    }
    assert_eq!(
        SignedManifest::parse(&vec![
            b' ';
            puente_federation::manifest::MAX_MANIFEST_BYTES + 1
        ]),
        Err(ManifestError::TooLarge)
    );
}

#[test]
fn governance_parses_and_fingerprints() {
    let g = governance();
    let bytes = g.canonical_bytes();
    assert_eq!(Governance::parse(&bytes).unwrap(), g);
    assert_eq!(
        g.fingerprint(),
        puente_federation::sha256_hex(&bytes),
        "fingerprint = SHA-256 of the canonical governance"
    );
    assert!(Governance::parse(br#"{"threshold":1,"keys":[]}"#).is_err());
}
