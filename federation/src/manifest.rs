//! The federation manifest: the signed, versioned, expiring trust root.
//!
//! ```text
//! { "manifest": { "v": 1, "federation": "puente-centroamerica", "version": 3,
//!     "issued_at": "…", "expires_at": "…", "grace_seconds": 604800,
//!     "governance": { "threshold": 2, "keys": [ {"id", "holder", "public_key"} ] },
//!     "members": [ {"id", "name", "role", "status", "endpoint", "tls_pins",
//!                   "signing_keys": [ {"id", "public_key", "valid_from", "valid_until"} ],
//!                   "revoked_keys", "seal_keys" (optional, same shape as signing_keys)} ],
//!     "agreements": [ {"id", "kind", "members", "hub" (stats only)} ] },
//!   "signatures": [ {"key_id", "sig"} ] }
//! ```
//!
//! Each signature is Ed25519 over `"puente/1 manifest\n"` followed by the RFC 8785 canonical
//! JSON of the `manifest` member ([`SignedManifest::signing_input`]). A manifest is valid when
//! at least `threshold` distinct keys of the trusted governance (the node's anchor) signed it;
//! see [`SignedManifest::accept`] for how a node moves from one manifest to the next.

use std::collections::HashSet;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use ed25519_dalek::VerifyingKey;
use puente_common::stats::release::PeriodKind;
use puente_common::CountryCode;
use serde::{Deserialize, Serialize};

use crate::canonical::{canonical_json, parse_strict, sha256_hex, timestamp, to_canonical};
use crate::envelope::{check_counter, check_sig, Channel};
use crate::identity::{decode_public_key, verify_with, KeyId, SignatureContext, SigningIdentity};
use crate::reason::Reason;

/// The largest signed manifest, in bytes.
pub const MAX_MANIFEST_BYTES: usize = 1024 * 1024;

/// A governance key: one of the keys that sign manifests, and the member holding it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernanceKey {
    pub id: KeyId,
    pub holder: CountryCode,
    /// Standard base64 of the 32-byte Ed25519 public key.
    pub public_key: String,
}

/// Who may sign manifests: `threshold` of `keys` (M of N).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Governance {
    pub threshold: u32,
    pub keys: Vec<GovernanceKey>,
}

impl Governance {
    /// Lowercase hex SHA-256 of the RFC 8785 canonical JSON of the governance object: what an
    /// administrator compares out of band when bootstrapping a node.
    pub fn fingerprint(&self) -> String {
        sha256_hex(&self.canonical_bytes())
    }

    /// The RFC 8785 canonical JSON of the governance object (how a node stores its anchor).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        to_canonical(self)
    }

    /// Parses a governance object (e.g. a node's stored anchor) and checks it.
    pub fn parse(bytes: &[u8]) -> Result<Governance, ManifestError> {
        let value = parse_strict(bytes).map_err(|e| ManifestError::Malformed(e.to_string()))?;
        let g: Governance = serde_json::from_value(value)
            .map_err(|e| ManifestError::Malformed(format!("governance: {e}")))?;
        g.check().map_err(ManifestError::Malformed)?;
        Ok(g)
    }

    /// The key with this id.
    pub fn key(&self, id: &KeyId) -> Option<&GovernanceKey> {
        self.keys.iter().find(|k| k.id == *id)
    }

    fn check(&self) -> Result<(), String> {
        if self.threshold == 0 || self.threshold as usize > self.keys.len() {
            return Err("governance threshold must be in [1, number of keys]".into());
        }
        let mut ids = HashSet::new();
        for k in &self.keys {
            if !ids.insert(&k.id) {
                return Err(format!("governance key {} listed twice", k.id));
            }
            if !k.id.is_owned_by(k.holder) {
                return Err(format!(
                    "governance key {} is not named for its holder",
                    k.id
                ));
            }
            decode_public_key(&k.public_key)
                .map_err(|_| format!("governance key {}: bad public key", k.id))?;
        }
        Ok(())
    }
}

/// A member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    Node,
    Hub,
}

/// A member's standing. Only `active` members exchange messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    Active,
    Suspended,
    Revoked,
}

/// A member's message-signing key and its validity window `[valid_from, valid_until)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberKey {
    pub id: KeyId,
    /// Standard base64 of the 32-byte Ed25519 public key.
    pub public_key: String,
    #[serde(with = "timestamp")]
    pub valid_from: DateTime<Utc>,
    /// `null`: no end.
    #[serde(with = "timestamp::option")]
    pub valid_until: Option<DateTime<Utc>>,
}

impl MemberKey {
    /// Whether `at` is within `[valid_from, valid_until)`.
    pub fn valid_at(&self, at: DateTime<Utc>) -> bool {
        at >= self.valid_from && self.valid_until.is_none_or(|until| at < until)
    }
}

/// A member of the federation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub id: CountryCode,
    pub name: String,
    pub role: MemberRole,
    pub status: MemberStatus,
    /// Base URL of the federation listener, `https://…`.
    pub endpoint: String,
    /// Standard base64 of the SHA-256 of each accepted TLS certificate's SubjectPublicKeyInfo.
    pub tls_pins: Vec<String>,
    pub signing_keys: Vec<MemberKey>,
    pub revoked_keys: Vec<KeyId>,
    /// X25519 public keys that payloads are sealed to ([`crate::seal`]), each derived from the
    /// signing key of the same id. Absent from the JSON when empty, so manifests from before
    /// seal keys keep their bytes (and signatures).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seal_keys: Vec<MemberKey>,
}

impl Member {
    pub fn is_active(&self) -> bool {
        self.status == MemberStatus::Active
    }
}

/// What an agreement allows: the channel of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementKind {
    Directory,
    Referral,
    Stats,
}

impl AgreementKind {
    /// The channel this kind of agreement opens.
    pub fn channel(self) -> Channel {
        match self {
            AgreementKind::Directory => Channel::Directory,
            AgreementKind::Referral => Channel::Referral,
            AgreementKind::Stats => Channel::Stats,
        }
    }
}

/// An agreement between members. `hub` is present for `stats` agreements only: statistics
/// flow from each other member to the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agreement {
    pub id: String,
    pub kind: AgreementKind,
    pub members: Vec<CountryCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub: Option<CountryCode>,
    /// `stats` only: how often releases are cut (absent: quarterly), one value for the
    /// whole agreement so that every country publishes the same periods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<PeriodKind>,
}

impl Agreement {
    /// Whether this agreement lets `channel` flow from `from` to `to` (membership only; the
    /// members' status is checked by [`Manifest::allows`]).
    pub fn allows(&self, channel: Channel, from: CountryCode, to: CountryCode) -> bool {
        self.kind.channel() == channel
            && from != to
            && self.members.contains(&from)
            && self.members.contains(&to)
            && (self.kind != AgreementKind::Stats || self.hub == Some(to))
    }
}

/// The manifest proper (the signed part).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub v: u32,
    pub federation: String,
    pub version: u64,
    #[serde(with = "timestamp")]
    pub issued_at: DateTime<Utc>,
    #[serde(with = "timestamp")]
    pub expires_at: DateTime<Utc>,
    pub grace_seconds: u64,
    pub governance: Governance,
    pub members: Vec<Member>,
    pub agreements: Vec<Agreement>,
}

/// How current a manifest is at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Freshness {
    /// Before `expires_at`.
    Fresh,
    /// From `expires_at` for `grace_seconds`: everything works; shown as "expired, in grace".
    Grace,
    /// After the grace period: outgoing referral traffic pauses (queued); directory and
    /// control keep flowing.
    Expired,
}

impl Manifest {
    /// The member with this id.
    pub fn member(&self, id: CountryCode) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }

    /// Whether messages of `channel` may flow from `from` to `to`: both active members,
    /// different, and `control` always; `directory`, `referral` and `stats` only under an
    /// agreement of that kind listing both (`stats` only from a member to the agreement's hub).
    pub fn allows(&self, channel: Channel, from: CountryCode, to: CountryCode) -> bool {
        let active = |id| self.member(id).is_some_and(Member::is_active);
        if from == to || !active(from) || !active(to) {
            return false;
        }
        channel == Channel::Control || self.agreements.iter().any(|a| a.allows(channel, from, to))
    }

    /// The agreements listing both `a` and `b`.
    pub fn agreements_between(&self, a: CountryCode, b: CountryCode) -> Vec<&Agreement> {
        self.agreements
            .iter()
            .filter(|g| g.members.contains(&a) && g.members.contains(&b))
            .collect()
    }

    /// The `stats` agreements under which `member` publishes: `(hub, period kind)` for each,
    /// the period quarterly when the agreement does not say.
    pub fn stats_hubs(&self, member: CountryCode) -> Vec<(CountryCode, PeriodKind)> {
        self.agreements
            .iter()
            .filter(|a| a.kind == AgreementKind::Stats && a.members.contains(&member))
            .filter_map(|a| {
                let hub = a.hub?;
                (hub != member).then_some((hub, a.period.unwrap_or(PeriodKind::Quarter)))
            })
            .collect()
    }

    /// The period kind of the `stats` agreement(s) a hub collects under (quarterly when
    /// unsaid; the first agreement naming the hub decides).
    pub fn hub_period(&self, hub: CountryCode) -> Option<PeriodKind> {
        self.agreements
            .iter()
            .find(|a| a.kind == AgreementKind::Stats && a.hub == Some(hub))
            .map(|a| a.period.unwrap_or(PeriodKind::Quarter))
    }

    /// The end of the grace period (`None` if it is beyond what a timestamp can hold).
    pub fn grace_until(&self) -> Option<DateTime<Utc>> {
        let grace = TimeDelta::try_seconds(i64::try_from(self.grace_seconds).ok()?)?;
        self.expires_at.checked_add_signed(grace)
    }

    /// [`Freshness::Fresh`] before `expires_at`, [`Freshness::Grace`] from then until
    /// `expires_at + grace_seconds`, [`Freshness::Expired`] from then on.
    pub fn freshness(&self, now: DateTime<Utc>) -> Freshness {
        if now < self.expires_at {
            Freshness::Fresh
        } else if self.grace_until().is_none_or(|end| now < end) {
            Freshness::Grace
        } else {
            Freshness::Expired
        }
    }

    /// The verifying key `key_id` of member `origin` for a message created at `at`:
    /// [`Reason::UnknownKey`] if it is not one of the origin's signing keys (nor listed as
    /// revoked), [`Reason::KeyNotValid`] if `at` is outside its `[valid_from, valid_until)`,
    /// [`Reason::KeyRevoked`] if the origin's `revoked_keys` lists it.
    pub fn key(
        &self,
        origin: CountryCode,
        key_id: &KeyId,
        at: DateTime<Utc>,
    ) -> Result<VerifyingKey, Reason> {
        let member = self.member(origin).ok_or(Reason::UnknownKey)?;
        let revoked = member.revoked_keys.contains(key_id);
        let key = match member.signing_keys.iter().find(|k| k.id == *key_id) {
            Some(key) => key,
            None if revoked => return Err(Reason::KeyRevoked),
            None => return Err(Reason::UnknownKey),
        };
        if !key.valid_at(at) {
            return Err(Reason::KeyNotValid);
        }
        if revoked {
            return Err(Reason::KeyRevoked);
        }
        decode_public_key(&key.public_key).map_err(|_| Reason::UnknownKey)
    }

    /// The seal key to seal a payload to `member` at `at`: of its seal keys valid at `at` and
    /// not listed in its `revoked_keys`, the one with the latest `valid_from`. `None` if it has
    /// none (or is not a member).
    pub fn seal_key(&self, member: CountryCode, at: DateTime<Utc>) -> Option<&MemberKey> {
        let member = self.member(member)?;
        member
            .seal_keys
            .iter()
            .filter(|k| k.valid_at(at) && !member.revoked_keys.contains(&k.id))
            .max_by_key(|k| k.valid_from)
    }

    /// The active members other than `me`.
    pub fn peers_of(&self, me: CountryCode) -> Vec<&Member> {
        self.members
            .iter()
            .filter(|m| m.id != me && m.is_active())
            .collect()
    }

    /// The RFC 8785 canonical JSON of the manifest (what the signatures are over, without
    /// the prefix).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        to_canonical(self)
    }

    /// The schema rules beyond the JSON shape.
    fn check(&self) -> Result<(), String> {
        if self.v != 1 {
            return Err("v must be 1".into());
        }
        let fed_ok = !self.federation.is_empty()
            && self.federation.len() <= 64
            && self
                .federation
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !fed_ok {
            return Err("federation must be 1-64 characters of a-z 0-9 -".into());
        }
        check_counter("version", self.version, 1)?;
        check_counter("grace_seconds", self.grace_seconds, 0)?;
        if self.expires_at <= self.issued_at {
            return Err("expires_at must be after issued_at".into());
        }
        self.governance.check()?;
        let mut member_ids = HashSet::new();
        let mut key_ids = HashSet::new();
        for m in &self.members {
            if !member_ids.insert(m.id) {
                return Err(format!("member {} listed twice", m.id));
            }
            if m.name.trim().is_empty() {
                return Err(format!("member {}: empty name", m.id));
            }
            if !m.endpoint.starts_with("https://") {
                return Err(format!("member {}: endpoint must be https://", m.id));
            }
            for pin in &m.tls_pins {
                if B64.decode(pin).map(|b| b.len()) != Ok(32) {
                    return Err(format!(
                        "member {}: tls pin is not base64 of 32 bytes",
                        m.id
                    ));
                }
            }
            for k in &m.signing_keys {
                if !key_ids.insert(&k.id) {
                    return Err(format!("signing key {} listed twice", k.id));
                }
                if !k.id.is_owned_by(m.id) {
                    return Err(format!("signing key {} is not named for {}", k.id, m.id));
                }
                decode_public_key(&k.public_key)
                    .map_err(|_| format!("signing key {}: bad public key", k.id))?;
                if k.valid_until.is_some_and(|u| u <= k.valid_from) {
                    return Err(format!("signing key {}: empty validity window", k.id));
                }
            }
            let mut seal_ids = HashSet::new();
            for k in &m.seal_keys {
                if !seal_ids.insert(&k.id) {
                    return Err(format!("seal key {} listed twice", k.id));
                }
                if !k.id.is_owned_by(m.id) {
                    return Err(format!("seal key {} is not named for {}", k.id, m.id));
                }
                if B64.decode(&k.public_key).map(|b| b.len()) != Ok(32) {
                    return Err(format!(
                        "seal key {}: public key is not base64 of 32 bytes",
                        k.id
                    ));
                }
                if k.valid_until.is_some_and(|u| u <= k.valid_from) {
                    return Err(format!("seal key {}: empty validity window", k.id));
                }
            }
            for k in &m.revoked_keys {
                if !k.is_owned_by(m.id) {
                    return Err(format!("revoked key {} is not named for {}", k, m.id));
                }
            }
        }
        let mut agreement_ids = HashSet::new();
        for a in &self.agreements {
            if a.id.is_empty() || !agreement_ids.insert(a.id.as_str()) {
                return Err(format!("agreement id {:?} empty or listed twice", a.id));
            }
            let listed: HashSet<_> = a.members.iter().collect();
            if a.members.len() < 2 || listed.len() != a.members.len() {
                return Err(format!(
                    "agreement {}: needs two or more distinct members",
                    a.id
                ));
            }
            if let Some(unknown) = a.members.iter().find(|c| !member_ids.contains(*c)) {
                return Err(format!("agreement {}: {unknown} is not a member", a.id));
            }
            match (a.kind, a.hub) {
                (AgreementKind::Stats, Some(hub)) if listed.contains(&hub) => {}
                (AgreementKind::Stats, _) => {
                    return Err(format!(
                        "agreement {}: stats needs a hub among its members",
                        a.id
                    ))
                }
                (_, Some(_)) => {
                    return Err(format!(
                        "agreement {}: only stats agreements have a hub",
                        a.id
                    ))
                }
                (_, None) => {}
            }
            if a.period.is_some() && a.kind != AgreementKind::Stats {
                return Err(format!(
                    "agreement {}: only stats agreements have a period",
                    a.id
                ));
            }
        }
        Ok(())
    }
}

/// One governance signature over a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestSignature {
    pub key_id: KeyId,
    pub sig: String,
}

/// A manifest with its governance signatures: the document nodes exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedManifest {
    pub manifest: Manifest,
    pub signatures: Vec<ManifestSignature>,
}

/// Why a manifest was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest is malformed: {0}")]
    Malformed(String),
    #[error("manifest is over {MAX_MANIFEST_BYTES} bytes")]
    TooLarge,
    #[error(
        "manifest has {valid} valid signature(s) by trusted governance keys, {threshold} needed"
    )]
    Signatures { valid: usize, threshold: u32 },
    #[error("manifest version {offered} is older than the version {held} held")]
    Rollback { held: u64, offered: u64 },
    #[error("manifest version {version} is already held")]
    Unchanged { version: u64 },
    #[error("manifest version {version} is held with different content")]
    Conflict { version: u64 },
    #[error("manifest is for federation {offered:?}, not {held:?}")]
    WrongFederation { held: String, offered: String },
    #[error("key {0} is not a governance key of this manifest")]
    NotGovernanceKey(KeyId),
}

impl ManifestError {
    /// The stable code: `malformed`, `too_large`, `manifest_signatures` (also for a signer that
    /// is not a governance key), `manifest_rollback` (also for the same manifest again: nothing
    /// to do), `manifest_conflict`, `wrong_federation`.
    pub fn reason(&self) -> Reason {
        match self {
            ManifestError::Malformed(_) => Reason::Malformed,
            ManifestError::TooLarge => Reason::TooLarge,
            ManifestError::Signatures { .. } | ManifestError::NotGovernanceKey(_) => {
                Reason::ManifestSignatures
            }
            ManifestError::Rollback { .. } | ManifestError::Unchanged { .. } => {
                Reason::ManifestRollback
            }
            ManifestError::Conflict { .. } => Reason::ManifestConflict,
            ManifestError::WrongFederation { .. } => Reason::WrongFederation,
        }
    }
}

impl SignedManifest {
    /// A manifest with no signatures yet.
    pub fn unsigned(manifest: Manifest) -> SignedManifest {
        SignedManifest {
            manifest,
            signatures: Vec::new(),
        }
    }

    /// Parses and checks a signed manifest (signatures are checked by
    /// [`SignedManifest::verify`] / [`SignedManifest::accept`], not here). Refused as
    /// malformed: unknown or missing members, `v` ≠ 1, `version` < 1, `expires_at` ≤
    /// `issued_at`, a governance threshold outside [1, number of keys], duplicate ids,
    /// keys not named for their owner (`GTM-…` for `GTM`), undecodable keys or pins (a seal
    /// key must be base64 of 32 bytes), empty key validity windows, non-`https://` endpoints,
    /// agreements naming non-members or fewer than two members, a `stats` agreement without
    /// its hub among its members (or a hub on another kind), and any text that does not
    /// re-serialise to the same canonical JSON.
    pub fn parse(bytes: &[u8]) -> Result<SignedManifest, ManifestError> {
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(ManifestError::TooLarge);
        }
        let value = parse_strict(bytes).map_err(|e| ManifestError::Malformed(e.to_string()))?;
        let canonical =
            canonical_json(&value).map_err(|e| ManifestError::Malformed(e.to_string()))?;
        let signed: SignedManifest =
            serde_json::from_value(value).map_err(|e| ManifestError::Malformed(e.to_string()))?;
        signed.manifest.check().map_err(ManifestError::Malformed)?;
        for s in &signed.signatures {
            check_sig(&s.sig).map_err(ManifestError::Malformed)?;
        }
        if signed.to_bytes() != canonical {
            return Err(ManifestError::Malformed(
                "not in the wire form (a value re-serialises differently)".into(),
            ));
        }
        Ok(signed)
    }

    /// The RFC 8785 canonical JSON of the signed manifest (the form served and stored).
    pub fn to_bytes(&self) -> Vec<u8> {
        to_canonical(self)
    }

    /// The bytes each signature is over: `"puente/1 manifest\n"` followed by the RFC 8785
    /// canonical JSON of the `manifest` member.
    pub fn signing_input(&self) -> Vec<u8> {
        SignatureContext::Manifest.input(&self.manifest.canonical_bytes())
    }

    /// Signs with governance key `gov`, which must be a key of this manifest's own governance
    /// (same id and public key). A previous signature by the same key is replaced; signatures
    /// are kept sorted by key id.
    pub fn add_signature(&mut self, gov: &SigningIdentity) -> Result<(), ManifestError> {
        let governance = self.manifest.governance.clone();
        self.add_signature_under(gov, &governance)
    }

    /// Signs with a key of `governance` — for a manifest that changes the governance, which
    /// the currently trusted governance's keys must sign even when the new one drops them.
    pub fn add_signature_under(
        &mut self,
        gov: &SigningIdentity,
        governance: &Governance,
    ) -> Result<(), ManifestError> {
        let listed = governance
            .key(gov.key_id())
            .is_some_and(|k| k.public_key == gov.public_key_b64());
        if !listed {
            return Err(ManifestError::NotGovernanceKey(gov.key_id().clone()));
        }
        let sig = gov.sign(SignatureContext::Manifest, &self.manifest.canonical_bytes());
        self.signatures.retain(|s| s.key_id != *gov.key_id());
        self.signatures.push(ManifestSignature {
            key_id: gov.key_id().clone(),
            sig,
        });
        self.signatures
            .sort_by(|a, b| a.key_id.as_str().cmp(b.key_id.as_str()));
        Ok(())
    }

    /// The distinct keys of `trusted` whose signature verifies (`verify_strict`). Signatures by
    /// keys `trusted` does not list, and signatures that do not verify, are ignored.
    pub fn valid_signers<'a>(&'a self, trusted: &Governance) -> HashSet<&'a KeyId> {
        let message = self.manifest.canonical_bytes();
        self.signatures
            .iter()
            .filter(|s| {
                trusted.key(&s.key_id).is_some_and(|k| {
                    decode_public_key(&k.public_key).is_ok_and(|key| {
                        verify_with(&key, SignatureContext::Manifest, &message, &s.sig).is_ok()
                    })
                })
            })
            .map(|s| &s.key_id)
            .collect()
    }

    /// Ok when at least `trusted.threshold` (and at least one) distinct keys of `trusted` have
    /// valid signatures; [`ManifestError::Signatures`] otherwise.
    pub fn verify(&self, trusted: &Governance) -> Result<(), ManifestError> {
        let valid = self.valid_signers(trusted).len();
        if valid >= trusted.threshold.max(1) as usize {
            Ok(())
        } else {
            Err(ManifestError::Signatures {
                valid,
                threshold: trusted.threshold,
            })
        }
    }

    /// Accepts `self` as the successor of `current` (`None` at bootstrap) under `anchor`, the
    /// governance the node trusts now. In order: the schema; the threshold of `anchor`'s keys
    /// signed it (so a manifest that changes the governance needs the *old* threshold); the
    /// same `federation` as `current`; a `version` above `current`'s (lower:
    /// [`ManifestError::Rollback`]; equal with other content: [`ManifestError::Conflict`];
    /// equal and identical: [`ManifestError::Unchanged`], nothing to do). Returns the
    /// governance to trust from now on: the new manifest's.
    pub fn accept(
        &self,
        current: Option<&SignedManifest>,
        anchor: &Governance,
    ) -> Result<Governance, ManifestError> {
        self.manifest.check().map_err(ManifestError::Malformed)?;
        self.verify(anchor)?;
        if let Some(current) = current {
            let (held, offered) = (&current.manifest, &self.manifest);
            if held.federation != offered.federation {
                return Err(ManifestError::WrongFederation {
                    held: held.federation.clone(),
                    offered: offered.federation.clone(),
                });
            }
            if offered.version < held.version {
                return Err(ManifestError::Rollback {
                    held: held.version,
                    offered: offered.version,
                });
            }
            if offered.version == held.version {
                return Err(if offered.canonical_bytes() == held.canonical_bytes() {
                    ManifestError::Unchanged {
                        version: held.version,
                    }
                } else {
                    ManifestError::Conflict {
                        version: held.version,
                    }
                });
            }
        }
        Ok(self.manifest.governance.clone())
    }
}
