//! Signing-key rotation (`puente keys new-signing-key`, `puente keys activate-signing-key`).
//!
//! 1. `new-signing-key` makes the next key (`GTM-2026a` → `GTM-2026b`; in a new year
//!    `GTM-2027a`) as `signing-key-<ID>.pem` (0600) in the data directory and records it as
//!    `keys.next_signing_key(_id)` in the configuration. Nothing signs with it yet; `federation
//!    member-info` now lists it beside the current key, for the governance to add it to the
//!    manifest.
//! 2. `activate-signing-key` refuses until the installed manifest lists that key (same id and
//!    public key, valid now, not revoked) for this member; then it makes it the configuration's
//!    signing key. The running node picks it up at its next start. The old key file stays:
//!    envelopes, audit checkpoints and evidence seals it signed keep verifying as long as the
//!    manifest lists it (see [`own_public_keys`]).
//!
//! Both steps are audited (`keys.signing_key_new`, `keys.signing_key_activate`), never a key.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use chrono::{DateTime, Datelike, Utc};
use figment::providers::{Format, Toml};
use figment::Figment;
use puente_common::CountryCode;
use puente_federation::manifest::Manifest;
use puente_federation::{KeyId, SigningIdentity};
use serde_json::json;

use crate::audit::{AuditCtx, Outcome};
use crate::config::Config;
use crate::store::Store;

/// The id that follows `current` for `owner` in `year`: the next letter within the key's year,
/// or the first key of `year` when that is later. `taken` (ids the manifest already lists or
/// revoked for this member) are skipped over.
pub fn next_key_id(
    owner: CountryCode,
    current: &KeyId,
    taken: &[KeyId],
    year: i32,
) -> anyhow::Result<KeyId> {
    // The latest id used so far: ids of one owner order as (year, letter).
    let latest = std::iter::once(current)
        .chain(taken.iter())
        .filter(|k| k.is_owned_by(owner))
        .filter_map(year_letter)
        .max()
        .ok_or_else(|| anyhow!("the signing key id {current} does not belong to {owner}"))?;
    if year > latest.0 {
        return Ok(KeyId::first(owner, year));
    }
    let (y, letter) = latest;
    if letter >= b'z' {
        bail!("no key id left after {owner}-{y:04}z this year; rotate again next year");
    }
    format!("{owner}-{y:04}{}", char::from(letter + 1))
        .parse()
        .map_err(|e| anyhow!("{e}"))
}

/// `GTM-2026b` → (2026, b'b').
fn year_letter(k: &KeyId) -> Option<(i32, u8)> {
    let (_, rest) = k.as_str().split_once('-')?;
    let year = rest.get(..4)?.parse().ok()?;
    let letter = *rest.as_bytes().get(4)?;
    Some((year, letter))
}

/// Whether `manifest` lists key `id` with `public_key` for `owner`, usable at `now`.
pub fn check_listed(
    manifest: &Manifest,
    owner: CountryCode,
    id: &KeyId,
    public_key: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let member = manifest.member(owner).ok_or_else(|| {
        anyhow!(
            "the installed manifest (version {}) has no member {owner}",
            manifest.version
        )
    })?;
    if member.revoked_keys.contains(id) {
        bail!(
            "the installed manifest (version {}) revokes key {id}: make a new one with \
             `puente keys new-signing-key`",
            manifest.version
        );
    }
    let listed = member
        .signing_keys
        .iter()
        .find(|k| k.id == *id)
        .ok_or_else(|| {
            anyhow!(
                "the installed manifest (version {}) does not list key {id} for {owner} yet: send \
             the output of `puente federation member-info` to the governance, and once they \
             have added the key, install the new manifest (`puente federation \
             install-manifest`) and activate again",
                manifest.version
            )
        })?;
    if listed.public_key != public_key {
        bail!(
            "the installed manifest (version {}) lists key {id} with another public key than \
             the key file's: send `puente federation member-info` to the governance again",
            manifest.version
        );
    }
    if !listed.valid_at(now) {
        bail!(
            "the installed manifest (version {}) lists key {id} as valid from {} until {}, not now",
            manifest.version,
            listed.valid_from,
            listed
                .valid_until
                .map_or_else(|| "—".to_owned(), |u| u.to_string())
        );
    }
    Ok(())
}

/// The public keys that verify this node's own signatures (audit checkpoints, evidence seals):
/// the one in use and every key the held manifest lists for this node.
pub async fn own_public_keys(
    store: &dyn Store,
    country: CountryCode,
    identity: &SigningIdentity,
) -> anyhow::Result<Vec<String>> {
    let held = crate::federation::admin::held(store).await?;
    Ok(own_keys_in(
        held.as_ref().map(|h| &h.manifest),
        country,
        identity,
    ))
}

/// [`own_public_keys`] with the manifest already at hand.
pub fn own_keys_in(
    held: Option<&puente_federation::manifest::Manifest>,
    country: CountryCode,
    identity: &SigningIdentity,
) -> Vec<String> {
    let mut keys = vec![identity.public_key_b64()];
    if let Some(m) = held.and_then(|h| h.member(country)) {
        keys.extend(m.signing_keys.iter().map(|k| k.public_key.clone()));
    }
    keys.sort();
    keys.dedup();
    keys
}

/// The configuration file as written, without environment overrides (they must not end up
/// in the file: one could hold the database password).
fn load_file(path: &Path) -> anyhow::Result<Config> {
    Figment::new()
        .merge(Toml::file_exact(path))
        .extract()
        .map_err(|e| anyhow!("cannot read the configuration {}: {e}", path.display()))
}

/// Replaces the configuration file atomically (owner-only temporary file, renamed).
fn write_config(path: &Path, config: &Config) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    crate::init::write_private(&tmp, config.to_toml().as_bytes())?;
    fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))
}

/// Reads a PKCS#8 signing key file under `id`.
fn read_identity(path: &Path, id: &KeyId) -> anyhow::Result<SigningIdentity> {
    let pem = zeroize::Zeroizing::new(
        fs::read_to_string(path)
            .with_context(|| format!("cannot read the signing key {}", path.display()))?,
    );
    SigningIdentity::from_pkcs8_pem(id.clone(), &pem)
        .with_context(|| format!("signing key {}", path.display()))
}

/// What `new-signing-key` made.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub key_id: KeyId,
    pub path: PathBuf,
    pub public_key: String,
}

/// `puente keys new-signing-key`: makes the next signing key and records it in the
/// configuration as the next key, without signing with it.
pub async fn new_signing_key(
    config_path: &Path,
    store: &dyn Store,
    ctx: &AuditCtx,
) -> anyhow::Result<NewKey> {
    let mut config = load_file(config_path)?;
    if let Some(id) = &config.keys.next_signing_key_id {
        bail!(
            "a next signing key ({id}) is already prepared: have the governance add it to the \
             manifest, then `puente keys activate-signing-key`"
        );
    }
    let owner = config.country;
    let mut taken = Vec::new();
    if let Some(held) = crate::federation::admin::held(store).await? {
        if let Some(m) = held.manifest.member(owner) {
            taken.extend(m.signing_keys.iter().map(|k| k.id.clone()));
            taken.extend(m.revoked_keys.iter().cloned());
        }
    }
    let key_id = next_key_id(owner, &config.keys.signing_key_id, &taken, ctx.at.year())?;
    let path = config.data_dir.join(format!("signing-key-{key_id}.pem"));
    if path.exists() {
        bail!(
            "{} exists already; remove it (if it is not in use) and run again",
            path.display()
        );
    }
    let identity = SigningIdentity::generate(key_id.clone());
    crate::init::write_private(&path, identity.to_pkcs8_pem()?.as_bytes())?;
    config.keys.next_signing_key = Some(path.clone());
    config.keys.next_signing_key_id = Some(key_id.clone());
    write_config(config_path, &config)?;
    let ev = ctx
        .event("keys.signing_key_new", Outcome::Success)
        .target("signing_key", &key_id)
        .detail(json!({ "key_id": key_id, "current_key_id": config.keys.signing_key_id }));
    store
        .append_audit(&ev)
        .await
        .context("the key was made but its audit entry could not be written")?;
    Ok(NewKey {
        key_id,
        path,
        public_key: identity.public_key_b64(),
    })
}

/// What `activate-signing-key` changed.
#[derive(Debug, Clone)]
pub struct Activated {
    pub old: KeyId,
    pub new: KeyId,
    pub manifest_version: u64,
}

/// `puente keys activate-signing-key`: makes the next key the signing key, once the installed
/// manifest lists it for this node.
pub async fn activate_signing_key(
    config_path: &Path,
    store: &dyn Store,
    ctx: &AuditCtx,
) -> anyhow::Result<Activated> {
    let mut config = load_file(config_path)?;
    let (Some(path), Some(id)) = (
        config.keys.next_signing_key.clone(),
        config.keys.next_signing_key_id.clone(),
    ) else {
        bail!("no next signing key is prepared: run `puente keys new-signing-key` first");
    };
    let identity = read_identity(&path, &id)?;
    let held = crate::federation::admin::held(store).await?.ok_or_else(|| {
        anyhow!("this node holds no manifest (it has not joined a federation): nothing lists key {id}")
    })?;
    check_listed(
        &held.manifest,
        config.country,
        &id,
        &identity.public_key_b64(),
        ctx.at,
    )?;
    let old = std::mem::replace(&mut config.keys.signing_key_id, id.clone());
    config.keys.signing_key = path;
    config.keys.next_signing_key = None;
    config.keys.next_signing_key_id = None;
    write_config(config_path, &config)?;
    let ev = ctx
        .event("keys.signing_key_activate", Outcome::Success)
        .target("signing_key", &id)
        .detail(json!({
            "key_id": id,
            "previous_key_id": old,
            "manifest_version": held.manifest.version,
        }));
    store
        .append_audit(&ev)
        .await
        .context("the key was activated but its audit entry could not be written")?;
    Ok(Activated {
        old,
        new: id,
        manifest_version: held.manifest.version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use puente_federation::manifest::{Governance, Member, MemberKey, MemberRole, MemberStatus};

    fn id(s: &str) -> KeyId {
        s.parse().unwrap()
    }

    fn gtm() -> CountryCode {
        "GTM".parse().unwrap()
    }

    #[test]
    fn key_ids_follow_each_other_within_a_year_and_restart_in_a_new_one() {
        let g = gtm();
        assert_eq!(
            next_key_id(g, &id("GTM-2026a"), &[], 2026).unwrap(),
            id("GTM-2026b")
        );
        assert_eq!(
            next_key_id(g, &id("GTM-2026b"), &[], 2026).unwrap(),
            id("GTM-2026c")
        );
        assert_eq!(
            next_key_id(g, &id("GTM-2026c"), &[], 2027).unwrap(),
            id("GTM-2027a")
        );
        // A clock behind the key's year stays in the key's year.
        assert_eq!(
            next_key_id(g, &id("GTM-2026a"), &[], 2025).unwrap(),
            id("GTM-2026b")
        );
        // Ids the manifest lists or revoked are never reused; other owners' ids do not count.
        let taken = [id("GTM-2026c"), id("HND-2026f")];
        assert_eq!(
            next_key_id(g, &id("GTM-2026a"), &taken, 2026).unwrap(),
            id("GTM-2026d")
        );
        assert!(next_key_id(g, &id("GTM-2026z"), &[], 2026).is_err());
        assert!(next_key_id(g, &id("HND-2026a"), &[], 2026).is_err());
    }

    fn at() -> DateTime<Utc> {
        "2026-03-01T12:00:00Z".parse().unwrap()
    }

    fn manifest(keys: Vec<MemberKey>, revoked: Vec<KeyId>) -> Manifest {
        let now = at();
        Manifest {
            v: 1,
            federation: "f".into(),
            version: 3,
            issued_at: now,
            expires_at: now + chrono::Duration::days(30),
            grace_seconds: 0,
            governance: Governance {
                threshold: 1,
                keys: Vec::new(),
            },
            members: vec![Member {
                id: gtm(),
                name: "GTM".into(),
                role: MemberRole::Node,
                status: MemberStatus::Active,
                endpoint: "https://127.0.0.1:1".into(),
                tls_pins: Vec::new(),
                signing_keys: keys,
                revoked_keys: revoked,
                seal_keys: Vec::new(),
            }],
            agreements: Vec::new(),
        }
    }

    #[test]
    fn activation_is_refused_until_the_manifest_lists_the_key() {
        let now = at();
        let old = SigningIdentity::generate(id("GTM-2026a"));
        let new = SigningIdentity::generate(id("GTM-2026b"));
        let key = |i: &SigningIdentity, from: DateTime<Utc>| MemberKey {
            id: i.key_id().clone(),
            public_key: i.public_key_b64(),
            valid_from: from,
            valid_until: None,
        };
        let hour = chrono::Duration::hours(1);
        let check = |m: &Manifest| {
            check_listed(m, gtm(), new.key_id(), &new.public_key_b64(), now)
                .map_err(|e| e.to_string())
        };
        // Only the old key listed: refused, saying what to do.
        let e = check(&manifest(vec![key(&old, now - hour)], vec![])).unwrap_err();
        assert!(
            e.contains("does not list key GTM-2026b") && e.contains("member-info"),
            "{e}"
        );
        // Another node's member entry does not count.
        let e = check_listed(
            &manifest(vec![key(&new, now - hour)], vec![]),
            "HND".parse().unwrap(),
            new.key_id(),
            &new.public_key_b64(),
            now,
        )
        .unwrap_err();
        assert!(e.to_string().contains("no member HND"), "{e}");
        // Listed under the id with another public key.
        let mut wrong = key(&old, now - hour);
        wrong.id = new.key_id().clone();
        let e = check(&manifest(vec![key(&old, now - hour), wrong], vec![])).unwrap_err();
        assert!(e.contains("another public key"), "{e}");
        // Not valid yet, or revoked.
        let e = check(&manifest(vec![key(&new, now + hour)], vec![])).unwrap_err();
        assert!(e.contains("not now"), "{e}");
        let e = check(&manifest(
            vec![key(&new, now - hour)],
            vec![new.key_id().clone()],
        ))
        .unwrap_err();
        assert!(e.contains("revokes"), "{e}");
        // Listed beside the old key: accepted.
        check(&manifest(
            vec![key(&old, now - hour), key(&new, now - hour)],
            vec![],
        ))
        .unwrap();
    }
}
