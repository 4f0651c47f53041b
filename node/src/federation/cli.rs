//! `puente federation …` and `puente peer …`: governance tools (create a federation, edit and
//! sign manifests — run by the coalition's key holders, offline) and a node's own trust
//! decisions (join, install a newer manifest, approve, block), plus `status` for operators
//! and tests.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use chrono::{DateTime, Duration, Utc};
use clap::Subcommand;
use puente_common::stats::release::PeriodKind;
use puente_common::CountryCode;
use puente_federation::manifest::{
    Agreement, AgreementKind, Governance, GovernanceKey, Manifest, Member, MemberKey, MemberRole,
    MemberStatus, SignedManifest,
};
use puente_federation::seal::SealKeyPair;
use puente_federation::{KeyId, SigningIdentity};
use serde_json::json;

use crate::clock::Clock;
use crate::config::Config;
use crate::store::fed_sql::{ApprovalKind, BlockKind};

#[derive(Debug, Subcommand)]
pub enum FederationCmd {
    /// Create a federation: one governance key per holder, the anchor, and manifest version 1.
    Create {
        /// Directory for the governance keys, anchor.json and manifest.json (created).
        #[arg(long)]
        dir: PathBuf,
        /// The federation's name.
        #[arg(long, default_value = "puente")]
        name: String,
        /// Holders of governance keys (member ids), comma-separated: GTM,HND,SLV.
        #[arg(long, value_delimiter = ',', required = true)]
        holders: Vec<CountryCode>,
        /// Signatures a manifest needs (M of N).
        #[arg(long)]
        threshold: u32,
        /// Days a manifest is valid.
        #[arg(long, default_value_t = 30)]
        valid_days: i64,
        /// Days an expired manifest keeps working.
        #[arg(long, default_value_t = 7)]
        grace_days: i64,
    },
    /// Write the next version of a manifest (signatures cleared).
    Edit {
        #[arg(long)]
        manifest: PathBuf,
        /// A member entry (JSON from `puente federation member-info`); replaces one with the
        /// same id.
        #[arg(long)]
        add_member: Vec<PathBuf>,
        /// kind:MEMBERS[@HUB[/PERIOD]], e.g. directory:GTM,HND,SLV,REG  referral:GTM,HND
        /// stats:GTM,HND,REG@REG/quarter (PERIOD: month, quarter (default) or year)
        #[arg(long)]
        agreement: Vec<String>,
        /// Remove an agreement by id.
        #[arg(long)]
        remove_agreement: Vec<String>,
        #[arg(long)]
        suspend: Vec<CountryCode>,
        #[arg(long)]
        activate: Vec<CountryCode>,
        #[arg(long)]
        revoke_member: Vec<CountryCode>,
        /// Revoke a member's signing key (GTM-2026a).
        #[arg(long)]
        revoke_key: Vec<KeyId>,
        /// Days the new version is valid (default: as the previous one).
        #[arg(long)]
        valid_days: Option<i64>,
    },
    /// Add a governance signature to a manifest.
    SignManifest {
        #[arg(long)]
        manifest: PathBuf,
        /// A governance key (PKCS#8 PEM) made by `federation create`.
        #[arg(long)]
        key: PathBuf,
    },
    /// Print this node's member entry (id, endpoint, TLS pin, signing keys) for the manifest.
    MemberInfo,
    /// Join a federation: trust the anchor (after checking its fingerprint out of band) and
    /// install its manifest.
    Join {
        #[arg(long)]
        anchor: PathBuf,
        /// The anchor fingerprint, as given by the coalition out of band.
        #[arg(long)]
        fingerprint: String,
        #[arg(long)]
        manifest: PathBuf,
    },
    /// Install a newer manifest (rollback refused).
    InstallManifest { manifest: PathBuf },
    /// Delivery and stream state, as JSON.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum PeerCmd {
    /// Members of the federation and this node's decisions about them.
    List,
    /// Let this node act on a peer of the manifest.
    Approve { peer: CountryCode },
    /// Let this node act on an agreement of the manifest.
    ApproveAgreement { agreement: String },
    /// Block a peer (GTM) or a key (GTM-2026a) at once.
    Block {
        subject: String,
        #[arg(long)]
        reason: String,
    },
    /// Lift a block.
    Unblock { subject: String },
}

fn read_json(path: &Path) -> anyhow::Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn write_json(path: &Path, value: &serde_json::Value) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))
}

fn parse_manifest(path: &Path) -> anyhow::Result<SignedManifest> {
    SignedManifest::parse(&read_json(path)?).map_err(|e| anyhow!("{}: {e}", path.display()))
}

fn write_manifest(path: &Path, m: &SignedManifest) -> anyhow::Result<()> {
    let value: serde_json::Value = serde_json::from_slice(&m.to_bytes())?;
    write_json(path, &value)
}

/// Governance commands need no node.
pub fn governance(cmd: &FederationCmd, clock: &dyn Clock) -> anyhow::Result<bool> {
    let now = clock.now();
    match cmd {
        FederationCmd::Create {
            dir,
            name,
            holders,
            threshold,
            valid_days,
            grace_days,
        } => {
            create(
                dir,
                name,
                holders,
                *threshold,
                *valid_days,
                *grace_days,
                now,
            )?;
            Ok(true)
        }
        FederationCmd::Edit { .. } => {
            edit(cmd, now)?;
            Ok(true)
        }
        FederationCmd::SignManifest { manifest, key } => {
            let mut m = parse_manifest(manifest)?;
            let pem = zeroize::Zeroizing::new(
                fs::read_to_string(key)
                    .with_context(|| format!("cannot read {}", key.display()))?,
            );
            // The key's id is the governance entry with its public key.
            let probe = SigningIdentity::from_pkcs8_pem(KeyId::first("GOV".parse()?, 2000), &pem)?;
            let public = probe.public_key_b64();
            let entry = m
                .manifest
                .governance
                .keys
                .iter()
                .find(|k| k.public_key == public)
                .ok_or_else(|| anyhow!("this key is not one of the manifest's governance keys"))?;
            let signer = SigningIdentity::from_pkcs8_pem(entry.id.clone(), &pem)?;
            m.add_signature(&signer).map_err(|e| anyhow!("{e}"))?;
            write_manifest(manifest, &m)?;
            println!(
                "Signed manifest version {} with {} ({} of {} signatures needed)",
                m.manifest.version,
                signer.key_id(),
                m.signatures.len(),
                m.manifest.governance.threshold
            );
            Ok(true)
        }
        _ => Ok(false),
    }
}

fn create(
    dir: &Path,
    name: &str,
    holders: &[CountryCode],
    threshold: u32,
    valid_days: i64,
    grace_days: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if threshold == 0 || threshold as usize > holders.len() {
        bail!(
            "the threshold must be between 1 and the number of holders ({})",
            holders.len()
        );
    }
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let anchor_path = dir.join("anchor.json");
    if anchor_path.exists() {
        bail!("{} already holds a federation", dir.display());
    }
    let year = chrono::Datelike::year(&now);
    let mut keys = Vec::new();
    for holder in holders {
        let id: KeyId = format!("{holder}-{year:04}g").parse()?;
        let identity = SigningIdentity::generate(id.clone());
        let path = dir.join(format!("governance-{holder}.pem"));
        crate::init::write_private(&path, identity.to_pkcs8_pem()?.as_bytes())?;
        keys.push(GovernanceKey {
            id,
            holder: *holder,
            public_key: identity.public_key_b64(),
        });
    }
    let governance = Governance { threshold, keys };
    write_json(&anchor_path, &serde_json::to_value(&governance)?)?;
    let manifest = SignedManifest {
        manifest: Manifest {
            v: 1,
            federation: name.to_owned(),
            version: 1,
            issued_at: now,
            expires_at: now + Duration::days(valid_days.max(1)),
            grace_seconds: u64::try_from(grace_days.max(0) * 86_400).unwrap_or(0),
            governance: governance.clone(),
            members: Vec::new(),
            agreements: Vec::new(),
        },
        signatures: Vec::new(),
    };
    write_manifest(&dir.join("manifest.json"), &manifest)?;
    println!("Created federation {name:?} in {}", dir.display());
    println!(
        "  governance keys  {} (threshold {threshold}); give each holder its own file",
        holders.len()
    );
    println!("  anchor           {}", anchor_path.display());
    println!("  fingerprint      {}", governance.fingerprint());
    println!("Tell every node's administrator the fingerprint through another channel (phone, in person).");
    Ok(())
}

fn edit(cmd: &FederationCmd, now: DateTime<Utc>) -> anyhow::Result<()> {
    let FederationCmd::Edit {
        manifest,
        add_member,
        agreement,
        remove_agreement,
        suspend,
        activate,
        revoke_member,
        revoke_key,
        valid_days,
    } = cmd
    else {
        return Ok(());
    };
    let signed = parse_manifest(manifest)?;
    let mut m = signed.manifest;
    let lifetime = valid_days.map_or(m.expires_at - m.issued_at, |d| Duration::days(d.max(1)));
    for path in add_member {
        let member: Member = serde_json::from_slice(&read_json(path)?)
            .map_err(|e| anyhow!("{}: not a member entry: {e}", path.display()))?;
        m.members.retain(|x| x.id != member.id);
        m.members.push(member);
    }
    m.members.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let set_status =
        |m: &mut Manifest, ids: &[CountryCode], status: MemberStatus| -> anyhow::Result<()> {
            for id in ids {
                let member = m
                    .members
                    .iter_mut()
                    .find(|x| x.id == *id)
                    .ok_or_else(|| anyhow!("no member {id}"))?;
                member.status = status;
            }
            Ok(())
        };
    set_status(&mut m, suspend, MemberStatus::Suspended)?;
    set_status(&mut m, activate, MemberStatus::Active)?;
    set_status(&mut m, revoke_member, MemberStatus::Revoked)?;
    for key in revoke_key {
        let owner: CountryCode = key.as_str().split('-').next().unwrap_or_default().parse()?;
        let member = m
            .members
            .iter_mut()
            .find(|x| x.id == owner)
            .ok_or_else(|| anyhow!("no member {owner}"))?;
        if !member.revoked_keys.contains(key) {
            member.revoked_keys.push(key.clone());
        }
    }
    m.agreements.retain(|a| !remove_agreement.contains(&a.id));
    for spec in agreement {
        let a = parse_agreement(spec)?;
        m.agreements.retain(|x| x.id != a.id);
        m.agreements.push(a);
    }
    m.version += 1;
    m.issued_at = now;
    m.expires_at = now + lifetime;
    let out = SignedManifest {
        manifest: m,
        signatures: Vec::new(),
    };
    write_manifest(manifest, &out)?;
    println!(
        "Wrote manifest version {} ({} members, {} agreements); it needs {} signatures",
        out.manifest.version,
        out.manifest.members.len(),
        out.manifest.agreements.len(),
        out.manifest.governance.threshold
    );
    Ok(())
}

/// `kind:GTM,HND[@REG]` → an agreement with a derived id (`referral-GTM-HND`).
fn parse_agreement(spec: &str) -> anyhow::Result<Agreement> {
    let (kind, rest) = spec.split_once(':').ok_or_else(|| {
        anyhow!("agreement {spec:?}: expected kind:MEMBERS, e.g. referral:GTM,HND")
    })?;
    let kind = match kind {
        "directory" => AgreementKind::Directory,
        "referral" => AgreementKind::Referral,
        "stats" => AgreementKind::Stats,
        other => bail!("agreement kind {other:?}: expected directory, referral or stats"),
    };
    // `stats:GTM,HND@REG/month`: the hub, then the period kind (quarterly when unsaid).
    let (rest, period) = match rest.split_once('/') {
        Some((r, p)) if kind == AgreementKind::Stats => (
            r,
            Some(p.parse::<PeriodKind>().map_err(|_| {
                anyhow!("agreement {spec:?}: the period is month, quarter or year")
            })?),
        ),
        Some(_) => bail!("agreement {spec:?}: only a stats agreement has a period"),
        None => (rest, None),
    };
    let (members, hub) = match rest.split_once('@') {
        Some((m, h)) => (
            m,
            Some(h.parse::<CountryCode>().map_err(|e| anyhow!("{e}"))?),
        ),
        None => (rest, None),
    };
    let mut members: Vec<CountryCode> = members
        .split(',')
        .map(|s| s.trim().parse::<CountryCode>().map_err(|e| anyhow!("{e}")))
        .collect::<Result<_, _>>()?;
    members.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    if kind == AgreementKind::Stats && hub.is_none() {
        bail!("a stats agreement names its hub: stats:GTM,HND@REG");
    }
    let mut id = format!(
        "{}-{}",
        match kind {
            AgreementKind::Directory => "directory",
            AgreementKind::Referral => "referral",
            AgreementKind::Stats => "stats",
        },
        members
            .iter()
            .map(CountryCode::as_str)
            .collect::<Vec<_>>()
            .join("-")
    );
    if let Some(h) = hub {
        id.push('@');
        id.push_str(h.as_str());
    }
    Ok(Agreement {
        id,
        kind,
        members,
        hub,
        period,
    })
}

/// This node's member entry. With the manifest it holds, the keys that manifest already lists
/// for this node (and has not revoked) are kept, so an entry sent again after a rotation does
/// not drop the key that signed envelopes still pending or checkpoints already made. Each
/// signing key it lists of its own (the current one, and the next one if configured) comes with
/// its seal key ([`SealKeyPair::derive`]: same id, same validity), and held seal keys that are
/// not revoked are kept too, so that payloads already sealed to them can still be opened.
pub fn member_info(
    config: &Config,
    now: DateTime<Utc>,
    held: Option<&Manifest>,
) -> anyhow::Result<Member> {
    let fc = config.federation.as_ref().ok_or_else(|| {
        anyhow!("this node has no [federation] section (puente init --federation-listen …)")
    })?;
    let (_, identity) = crate::init::load_keys(config)?;
    let cert_pem = fs::read_to_string(&fc.tls_cert)
        .with_context(|| format!("cannot read {}", fc.tls_cert.display()))?;
    let key_pem = zeroize::Zeroizing::new(
        fs::read_to_string(&fc.tls_key)
            .with_context(|| format!("cannot read {}", fc.tls_key.display()))?,
    );
    let pin = puente_federation::transport::TlsIdentity::from_pem(&cert_pem, &key_pem)
        .map_err(|e| anyhow!("federation TLS identity: {e}"))?
        .pin()
        .to_owned();
    // Valid from the key file's creation (less a margin for clock skew).
    let made: DateTime<Utc> = fs::metadata(&config.keys.signing_key)
        .and_then(|m| m.modified())
        .map(DateTime::<Utc>::from)
        .unwrap_or(now);
    let valid_from = chrono::SubsecRound::trunc_subsecs(made - Duration::hours(1), 0);
    let mut signing_keys = vec![MemberKey {
        id: identity.key_id().clone(),
        public_key: identity.public_key_b64(),
        valid_from,
        valid_until: None,
    }];
    let mut seal_keys = vec![MemberKey {
        id: identity.key_id().clone(),
        public_key: SealKeyPair::derive(&identity).public_key_b64(),
        valid_from,
        valid_until: None,
    }];
    // The next key (`puente keys new-signing-key`), for the governance to add before the node
    // signs with it.
    if let (Some(path), Some(id)) = (
        &config.keys.next_signing_key,
        &config.keys.next_signing_key_id,
    ) {
        let pem = zeroize::Zeroizing::new(
            fs::read_to_string(path)
                .with_context(|| format!("cannot read the next signing key {}", path.display()))?,
        );
        let next = SigningIdentity::from_pkcs8_pem(id.clone(), &pem)
            .with_context(|| format!("next signing key {}", path.display()))?;
        let next_from = chrono::SubsecRound::trunc_subsecs(now - Duration::hours(1), 0);
        signing_keys.push(MemberKey {
            id: id.clone(),
            public_key: next.public_key_b64(),
            valid_from: next_from,
            valid_until: None,
        });
        seal_keys.push(MemberKey {
            id: id.clone(),
            public_key: SealKeyPair::derive(&next).public_key_b64(),
            valid_from: next_from,
            valid_until: None,
        });
    }
    let mut revoked_keys = Vec::new();
    if let Some(me) = held.and_then(|m| m.member(config.country)) {
        revoked_keys = me.revoked_keys.clone();
        for k in &me.signing_keys {
            if !revoked_keys.contains(&k.id) && !signing_keys.iter().any(|x| x.id == k.id) {
                signing_keys.push(k.clone());
            }
        }
        for k in &me.seal_keys {
            if !revoked_keys.contains(&k.id) && !seal_keys.iter().any(|x| x.id == k.id) {
                seal_keys.push(k.clone());
            }
        }
    }
    Ok(Member {
        id: config.country,
        name: if fc.name.is_empty() {
            config.country.to_string()
        } else {
            fc.name.clone()
        },
        role: if fc.role == "hub" {
            MemberRole::Hub
        } else {
            MemberRole::Node
        },
        status: MemberStatus::Active,
        endpoint: fc.endpoint.clone(),
        tls_pins: vec![pin],
        signing_keys,
        revoked_keys,
        seal_keys,
    })
}

/// Node-side commands (need the node's configuration and database).
pub async fn node_command(
    config_path: &Path,
    cmd: &FederationCmd,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
    let (config, store) = crate::cli::open(config_path).await?;
    let ctx = crate::cli::cli_ctx(clock);
    let result = match cmd {
        FederationCmd::MemberInfo => {
            let held = crate::federation::admin::held(store.as_ref()).await?;
            let m = member_info(&config, clock.now(), held.as_ref().map(|h| &h.manifest))?;
            println!("{}", serde_json::to_string_pretty(&m)?);
            Ok(())
        }
        FederationCmd::Join {
            anchor,
            fingerprint,
            manifest,
        } => {
            let governance: Governance = serde_json::from_slice(&read_json(anchor)?)
                .map_err(|e| anyhow!("{}: not an anchor: {e}", anchor.display()))?;
            let m = parse_manifest(manifest)?;
            crate::federation::admin::join(store.as_ref(), &ctx, &governance, fingerprint, &m)
                .await?;
            println!(
                "Joined federation {:?}: manifest version {} installed ({} members). Approve peers with `puente peer approve`.",
                m.manifest.federation,
                m.manifest.version,
                m.manifest.members.len()
            );
            Ok(())
        }
        FederationCmd::InstallManifest { manifest } => {
            let m = parse_manifest(manifest)?;
            crate::federation::admin::install(store.as_ref(), &ctx, &m, None, "cli").await?;
            println!("Installed manifest version {}", m.manifest.version);
            Ok(())
        }
        FederationCmd::Status => {
            let s = status(&config, store.as_ref()).await?;
            println!("{}", serde_json::to_string_pretty(&s)?);
            Ok(())
        }
        _ => Ok(()),
    };
    store.close().await;
    result
}

/// The node's federation state as JSON (also used by the black-box tests).
pub async fn status(
    config: &Config,
    store: &dyn crate::store::Store,
) -> anyhow::Result<serde_json::Value> {
    let manifest = crate::federation::admin::held(store).await?;
    let peers: Vec<_> = store
        .fed_delivery_states()
        .await?
        .into_iter()
        .map(|d| {
            json!({
                "peer": d.peer, "channel": d.channel, "backlog": d.backlog, "failures": d.failures,
                "last_error": d.last_error, "last_success_at": d.last_success_at,
                "last_contact_at": d.last_contact_at, "next_attempt_at": d.next_attempt_at,
            })
        })
        .collect();
    let streams_in: Vec<_> = store
        .fed_streams_in_all()
        .await?
        .into_iter()
        .map(|s| json!({ "origin": s.origin, "channel": s.channel.as_str(), "epoch": s.head.epoch, "head_seq": s.head.seq, "head_hash": s.head.hash }))
        .collect();
    let streams_out: Vec<_> = store
        .fed_streams_out_all()
        .await?
        .into_iter()
        .map(|s| json!({ "destination": s.destination, "channel": s.channel.as_str(), "epoch": s.epoch, "last_seq": s.last_seq, "last_hash": s.last_hash, "acked_seq": s.consumed_seq }))
        .collect();
    Ok(json!({
        "me": config.country,
        "epoch": store.fed_epoch().await?,
        "manifest_version": manifest.as_ref().map(|m| m.manifest.version),
        "peers": peers,
        "streams_in": streams_in,
        "streams_out": streams_out,
    }))
}

pub async fn peer_command(
    config_path: &Path,
    cmd: &PeerCmd,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
    let (config, store) = crate::cli::open(config_path).await?;
    let ctx = crate::cli::cli_ctx(clock);
    let s = store.as_ref();
    let result = match cmd {
        PeerCmd::List => {
            let manifest = crate::federation::admin::held(s).await?;
            let approvals = s.fed_approvals().await?;
            let blocks = s.fed_blocks().await?;
            match manifest {
                None => println!("This node has not joined a federation."),
                Some(m) => {
                    println!(
                        "Manifest version {} of {:?}, expires {}",
                        m.manifest.version, m.manifest.federation, m.manifest.expires_at
                    );
                    for member in &m.manifest.members {
                        let approved = approvals.iter().any(|a| {
                            a.kind == ApprovalKind::Peer && a.subject == member.id.as_str()
                        });
                        let blocked = blocks
                            .iter()
                            .any(|b| b.kind == BlockKind::Peer && b.subject == member.id.as_str());
                        println!(
                            "  {}  {:<24} {:?} {:?} {}{}",
                            member.id,
                            member.name,
                            member.role,
                            member.status,
                            if member.id == config.country {
                                "this node"
                            } else if approved {
                                "approved"
                            } else {
                                "not approved"
                            },
                            if blocked { ", BLOCKED" } else { "" }
                        );
                    }
                    for a in &m.manifest.agreements {
                        let approved = approvals
                            .iter()
                            .any(|x| x.kind == ApprovalKind::Agreement && x.subject == a.id);
                        println!(
                            "  agreement {:<32} {}",
                            a.id,
                            if approved { "approved" } else { "not approved" }
                        );
                    }
                }
            }
            Ok(())
        }
        PeerCmd::Approve { peer } if peer.as_str() == config.country.as_str() => {
            Err(anyhow::anyhow!(
                "{peer} is this node: a node trusts itself, there is nothing to approve"
            ))
        }
        PeerCmd::Approve { peer } => {
            crate::federation::admin::approve(s, &ctx, ApprovalKind::Peer, peer.as_str())
                .await
                .map(|()| println!("Approved peer {peer}"))
        }
        PeerCmd::ApproveAgreement { agreement } => {
            crate::federation::admin::approve(s, &ctx, ApprovalKind::Agreement, agreement)
                .await
                .map(|()| println!("Approved agreement {agreement}"))
        }
        PeerCmd::Block { subject, reason } => {
            crate::federation::admin::block(s, &ctx, subject, reason)
                .await
                .map(|()| println!("Blocked {subject}"))
        }
        PeerCmd::Unblock { subject } => crate::federation::admin::unblock(s, &ctx, subject)
            .await
            .map(|()| println!("Unblocked {subject}")),
    };
    store.close().await;
    result
}
