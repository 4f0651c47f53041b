//! Trust decisions, as the CLI and the administrator's pages make them: joining a federation
//! (bootstrap from an anchor whose fingerprint the administrator confirmed out of band),
//! installing newer manifests, approving peers and agreements, blocking peers and keys. Each
//! is audited in the same transaction as the change.

use anyhow::{anyhow, bail};
use chrono::{DateTime, Utc};
use puente_common::CountryCode;
use puente_federation::manifest::{Governance, SignedManifest};

use crate::app::Node;
use crate::audit::{AuditCtx, Outcome};
use crate::store::fed_sql::{Approval, ApprovalKind, Block, BlockKind, ManifestRow};
use crate::store::Store;

/// The governance a node trusts now (its anchor, moved forward by accepted manifests).
pub async fn anchor(store: &dyn Store) -> anyhow::Result<Option<Governance>> {
    match store.fed_anchor().await? {
        Some(json) => Ok(Some(
            serde_json::from_str(&json).map_err(|e| anyhow!("stored anchor is corrupt: {e}"))?,
        )),
        None => Ok(None),
    }
}

/// The manifest the node holds.
pub async fn held(store: &dyn Store) -> anyhow::Result<Option<SignedManifest>> {
    match store.fed_manifest().await? {
        Some(row) => Ok(Some(
            SignedManifest::parse(row.body.as_bytes())
                .map_err(|e| anyhow!("stored manifest is corrupt: {e}"))?,
        )),
        None => Ok(None),
    }
}

/// Bootstraps the node's trust: the anchor's fingerprint must equal the one the administrator
/// confirmed, and the manifest must carry the anchor's threshold of signatures.
pub async fn join(
    store: &dyn Store,
    ctx: &AuditCtx,
    governance: &Governance,
    confirmed_fingerprint: &str,
    manifest: &SignedManifest,
) -> anyhow::Result<()> {
    let fp = governance.fingerprint();
    if !fp.eq_ignore_ascii_case(confirmed_fingerprint.trim()) {
        bail!("the anchor's fingerprint is {fp}, not the one confirmed ({confirmed_fingerprint}): refusing to join");
    }
    if let Some(existing) = anchor(store).await? {
        if existing.fingerprint() != fp && held(store).await?.is_some() {
            bail!(
                "this node already trusts another federation anchor ({})",
                existing.fingerprint()
            );
        }
    }
    install(store, ctx, manifest, Some(governance), "join").await
}

/// Installs a newer manifest under the trusted anchor (rollback and bad signatures refused).
pub async fn install_manifest(
    node: &Node,
    manifest: &SignedManifest,
    source: &str,
    actor: &str,
) -> anyhow::Result<()> {
    let mut ctx = AuditCtx::system(node.clock.now());
    ctx.actor = actor.to_owned();
    install(node.store.as_ref(), &ctx, manifest, None, source).await
}

/// Installs `manifest`; `bootstrap` is the anchor when joining.
pub async fn install(
    store: &dyn Store,
    ctx: &AuditCtx,
    manifest: &SignedManifest,
    bootstrap: Option<&Governance>,
    source: &str,
) -> anyhow::Result<()> {
    let trusted = match bootstrap {
        Some(g) => g.clone(),
        None => anchor(store).await?.ok_or_else(|| {
            anyhow!("this node has not joined a federation (puente federation join)")
        })?,
    };
    let current = held(store).await?;
    let m = &manifest.manifest;
    if m.freshness(ctx.at) == puente_federation::manifest::Freshness::Expired {
        bail!("manifest version {} expired on {} (and its grace period is over): ask the federation for a fresh one", m.version, m.expires_at);
    }
    // One TLS key belongs to one member: a pin listed twice would make a peer ambiguous.
    let mut pins = std::collections::HashSet::new();
    for member in &m.members {
        for pin in &member.tls_pins {
            if !pins.insert(pin.as_str()) {
                bail!(
                    "manifest version {}: the TLS pin {pin} is listed for two members",
                    m.version
                );
            }
        }
    }
    let next = manifest
        .accept(current.as_ref(), &trusted)
        .map_err(|e| anyhow!("manifest refused ({}): {e}", e.reason().code()))?;
    let anchor_json = String::from_utf8(puente_federation::canonical_json(
        &serde_json::to_value(&next)?,
    )?)?;
    let row = ManifestRow {
        version: manifest.manifest.version,
        body: String::from_utf8(manifest.to_bytes())?,
        installed_at: ctx.at,
        source: source.to_owned(),
    };
    let audit = ctx
        .event("federation.manifest_installed", Outcome::Success)
        .target("manifest", manifest.manifest.version)
        .detail(
            serde_json::json!({ "source": source, "expires_at": manifest.manifest.expires_at }),
        );
    store
        .fed_install_manifest(&row, &anchor_json, &next.fingerprint(), &audit)
        .await?;
    Ok(())
}

/// Approves a peer (`kind` = `peer`) or an agreement (`agreement`) for this node to act on.
pub async fn approve(
    store: &dyn Store,
    ctx: &AuditCtx,
    kind: ApprovalKind,
    subject: &str,
) -> anyhow::Result<()> {
    let manifest = held(store)
        .await?
        .ok_or_else(|| anyhow!("this node has not joined a federation"))?
        .manifest;
    match kind {
        ApprovalKind::Peer => {
            let id: CountryCode = subject
                .parse()
                .map_err(|_| anyhow!("{subject:?} is not a member id"))?;
            if manifest.member(id).is_none() {
                bail!(
                    "{id} is not a member in manifest version {}",
                    manifest.version
                );
            }
        }
        ApprovalKind::Agreement => {
            if !manifest.agreements.iter().any(|a| a.id == subject) {
                bail!(
                    "no agreement {subject:?} in manifest version {}",
                    manifest.version
                );
            }
        }
    }
    let approval = Approval {
        kind,
        subject: subject.to_owned(),
        approved_by: ctx.actor.clone(),
        approved_at: ctx.at,
    };
    let audit = ctx
        .event(&format!("federation.{kind}_approved"), Outcome::Success)
        .target(kind.as_str(), subject);
    store.fed_approve(&approval, &audit).await?;
    Ok(())
}

/// Blocks a peer (a member id) or a key (a key id) at once, whatever the manifest says.
pub async fn block(
    store: &dyn Store,
    ctx: &AuditCtx,
    subject: &str,
    reason: &str,
) -> anyhow::Result<()> {
    let kind = subject_kind(subject)?;
    if reason.trim().is_empty() {
        bail!("a block needs a reason");
    }
    let b = Block {
        kind,
        subject: subject.to_owned(),
        reason: Some(reason.trim().to_owned()),
        blocked_by: ctx.actor.clone(),
        blocked_at: ctx.at,
    };
    let audit = ctx
        .event(&format!("federation.{kind}_blocked"), Outcome::Success)
        .target(kind.as_str(), subject);
    store.fed_block(&b, &audit).await?;
    Ok(())
}

/// Lifts a block.
pub async fn unblock(store: &dyn Store, ctx: &AuditCtx, subject: &str) -> anyhow::Result<()> {
    let kind = subject_kind(subject)?;
    let audit = ctx
        .event(&format!("federation.{kind}_unblocked"), Outcome::Success)
        .target(kind.as_str(), subject);
    store.fed_unblock(kind, subject, &audit).await?;
    Ok(())
}

/// `GTM` is a peer, `GTM-2026a` a key.
fn subject_kind(subject: &str) -> anyhow::Result<BlockKind> {
    if subject.parse::<CountryCode>().is_ok() {
        Ok(BlockKind::Peer)
    } else if subject.parse::<puente_federation::KeyId>().is_ok() {
        Ok(BlockKind::Key)
    } else {
        bail!("{subject:?} is neither a member id (GTM) nor a key id (GTM-2026a)")
    }
}

/// Whether a manifest is within its validity, in grace, or expired, for display.
pub fn freshness_label(
    m: &puente_federation::manifest::Manifest,
    now: DateTime<Utc>,
) -> &'static str {
    match m.freshness(now) {
        puente_federation::manifest::Freshness::Fresh => "fresh",
        puente_federation::manifest::Freshness::Grace => "grace",
        puente_federation::manifest::Freshness::Expired => "expired",
    }
}
