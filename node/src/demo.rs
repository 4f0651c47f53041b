//! `puente demo`: a small federation on loopback, ready to try — nodes for Guatemala (GTM),
//! Honduras (HND) and El Salvador (SLV) and the regional hub (REG), each with its own data
//! directory, SQLite database, signing key and mutual-TLS identity, joined under a manifest
//! signed by two of three governance keys. Every country node has organisations, a user of
//! every role and invented services in the regional directory; Guatemala also has three
//! invented cases. Made once in the demo directory and reused afterwards; the addresses and
//! log-ins are printed at every start (and kept in `demo-logins.txt` there). Demo passwords are
//! public: never put real data in a demo federation.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use puente_common::CountryCode;

use crate::admin::{orgs, users};
use crate::audit::AuditCtx;
use crate::auth::totp;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;

/// The demo password of every demo user.
pub const DEMO_PASSWORD: &str = "Puente-demo-2026";

/// The members of the demo federation, in order: id and name. The first listens on the
/// address given to `puente demo`, the others on the next ports.
const MEMBERS: [(&str, &str); 4] = [
    ("GTM", "Guatemala"),
    ("HND", "Honduras"),
    ("SLV", "El Salvador"),
    ("REG", "Hub regional"),
];

/// Organisations of a country's demo node: (code, name, type).
fn orgs_of(country: &str) -> &'static [(&'static str, &'static str, &'static str)] {
    match country {
        "GTM" => &[
            ("ASOC1", "Asociación Refugio de la Niñez (demo)", "NGO"),
            ("FUND2", "Fundación Sobrevivientes (demo)", "NGO"),
            (
                "PGN",
                "Procuraduría General de la Nación (demo)",
                "CENTRAL_GOVERNMENT",
            ),
        ],
        "HND" => &[
            ("CASAE", "Casa Esperanza (demo)", "NGO"),
            ("CJVS", "Clínica Jurídica del Valle de Sula (demo)", "NGO"),
        ],
        "SLV" => &[
            (
                "CAPSS",
                "Centro de Atención Psicosocial San Salvador (demo)",
                "NGO",
            ),
            ("RETSV", "Red de Retorno Digno (demo)", "NGO"),
        ],
        _ => &[],
    }
}

/// Users of a country's demo node: (username, display name, role, organisation code or "").
fn users_of(country: &str) -> Vec<(&'static str, String, &'static str, &'static str)> {
    let (first, second) = match country {
        "GTM" => ("ASOC1", "FUND2"),
        "HND" => ("CASAE", "CJVS"),
        "SLV" => ("CAPSS", "RETSV"),
        _ => {
            return vec![
                (
                    "admin",
                    "Administración regional (demo)".into(),
                    "node_admin",
                    "",
                ),
                (
                    "regional",
                    "Lectura regional (demo)".into(),
                    "hub_viewer",
                    "",
                ),
            ]
        }
    };
    vec![
        (
            "admin",
            format!("Administración nacional {country} (demo)"),
            "node_admin",
            "",
        ),
        (
            "coordinacion",
            format!("Coordinación {first} (demo)"),
            "org_admin",
            first,
        ),
        (
            "gestora",
            format!("Gestora de casos {first} (demo)"),
            "caseworker",
            first,
        ),
        (
            "gestor2",
            format!("Gestor de casos {second} (demo)"),
            "caseworker",
            second,
        ),
        (
            "analista",
            format!("Analista nacional {country} (demo)"),
            "analyst",
            "",
        ),
        (
            "auditora",
            format!("Auditora {country} (demo)"),
            "auditor",
            "",
        ),
    ]
}

/// One member of a federation made on this machine (the demo, the federation benchmark).
#[derive(Debug, Clone)]
pub struct DemoMember {
    pub id: CountryCode,
    pub name: &'static str,
    pub dir: PathBuf,
    pub web: SocketAddr,
    pub federation: SocketAddr,
}

fn members(data_dir: &Path, listen: SocketAddr) -> anyhow::Result<Vec<DemoMember>> {
    MEMBERS
        .iter()
        .enumerate()
        .map(|(i, (id, name))| {
            let offset = u16::try_from(i).unwrap_or(0);
            let web = SocketAddr::new(listen.ip(), listen.port().saturating_add(offset));
            let federation =
                SocketAddr::new(listen.ip(), listen.port().saturating_add(100 + offset));
            Ok(DemoMember {
                id: id.parse()?,
                name,
                dir: data_dir.join(id.to_lowercase()),
                web,
                federation,
            })
        })
        .collect()
}

/// The address to open a member's pages at. On loopback each member gets its own host name
/// (`gtm.localhost`, which browsers resolve to the loopback address by themselves), so that a
/// browser keeps one session per member: cookies are per host, not per port.
fn web_address(m: &DemoMember) -> String {
    if m.web.ip().is_loopback() {
        format!(
            "http://{}.localhost:{}/",
            m.id.as_str().to_lowercase(),
            m.web.port()
        )
    } else {
        format!("http://{}/", m.web)
    }
}

/// Creates (once) and serves the demo federation until Ctrl-C.
pub async fn run(data_dir: &Path, listen: SocketAddr) -> anyhow::Result<()> {
    let clock = SystemClock;
    let logins_path = data_dir.join("demo-logins.txt");
    let members = members(data_dir, listen)?;
    if !logins_path.exists() {
        if data_dir.exists() && std::fs::read_dir(data_dir)?.next().is_some() {
            anyhow::bail!(
                "{} holds an unfinished or older demo; delete it to start afresh",
                data_dir.display()
            );
        }
        let logins = create(data_dir, &members, &clock, true).await?;
        std::fs::write(&logins_path, &logins)?;
    }
    let logins = std::fs::read_to_string(&logins_path)
        .context("demo-logins.txt is missing; delete the demo directory to start afresh")?;
    println!("Puente demo federation — data in {}", data_dir.display());
    println!("{logins}");
    println!("The directories of the three countries reach each other within seconds: open /directory on any node.");
    println!("Each country's statistics releases of the last four quarters reach the hub REG within seconds: log in there as `regional` and open /hub.");
    println!("A referral to try: on GTM, `gestora` opens the ASOC1 case whose person consented to a referral to Honduras and presses \"Referir a otro país\"; on HND, `gestor2` (CJVS) accepts it under /referrals.");
    println!(
        "Stop with Ctrl-C. Delete {} to start afresh.",
        data_dir.display()
    );
    let mut nodes = tokio::task::JoinSet::new();
    for m in &members {
        let mut config = Config::load(&m.dir.join("puente.toml"))?;
        config.listen = m.web;
        nodes.spawn(crate::cli::serve(config));
    }
    while let Some(done) = nodes.join_next().await {
        done??;
    }
    Ok(())
}

/// Makes the members (each in its own directory, with its own SQLite database and keys; REG
/// as the hub), the federation's governance and a manifest — a directory agreement among the
/// countries, a quarterly statistics agreement from every country to the hub, a referral
/// agreement between every two countries — signed by two governance keys, and joins every
/// member with every peer and agreement approved. With `seed`, each country gets demo
/// organisations, users, services and persons, and publishes the statistics of its last four
/// quarters to the hub; the hub gets its administrator and a `hub_viewer`. Returns the
/// printable addresses and log-ins.
pub async fn create(
    data_dir: &Path,
    members: &[DemoMember],
    clock: &dyn Clock,
    seed_data: bool,
) -> anyhow::Result<String> {
    use crate::federation::admin;
    use crate::store::fed_sql::ApprovalKind;
    use puente_federation::manifest::{
        Agreement, AgreementKind, Governance, GovernanceKey, Manifest, SignedManifest,
    };
    use puente_federation::{KeyId, SigningIdentity};

    std::fs::create_dir_all(data_dir)?;
    let now = clock.now();
    let mut lines = vec![format!("Demo log-ins (password for all: {DEMO_PASSWORD}):")];
    let mut entries = Vec::new();
    for m in members {
        crate::init::init(
            &crate::init::InitOptions {
                country: m.id,
                data_dir: m.dir.clone(),
                listen: m.web,
                database_url: None,
                tls: false,
                force: false,
                federation: Some(crate::init::FederationInit {
                    listen: m.federation,
                    endpoint: None,
                    role: if m.id.as_str() == "REG" {
                        "hub".into()
                    } else {
                        "node".into()
                    },
                    name: m.name.into(),
                }),
            },
            clock,
        )
        .await?;
        let mut config = Config::load(&m.dir.join("puente.toml"))?;
        // Quick delivery, so that a newcomer sees the directories arrive within seconds.
        if let Some(f) = config.federation.as_mut() {
            f.delivery.poll_millis = 500;
            f.delivery.min_backoff_millis = 500;
            f.delivery.max_backoff_seconds = 30;
            f.delivery.sync_seconds = 15;
        }
        std::fs::write(m.dir.join("puente.toml"), config.to_toml())?;
        lines.push(String::new());
        lines.push(format!("{} — {}  {}", m.id, m.name, web_address(m)));
        if seed_data {
            lines.push(seed(&config, clock).await?);
        }
        entries.push(crate::federation::cli::member_info(&config, now, None)?);
    }
    // Governance: one key for each country; two signatures make a manifest valid. The keys
    // stay in the demo directory, which a real federation would never do.
    let year = chrono::Datelike::year(&now);
    let mut keys = Vec::new();
    let mut holders = Vec::new();
    for m in members.iter().filter(|m| m.id.as_str() != "REG") {
        let id: KeyId = format!("{}-{year:04}g", m.id).parse()?;
        let identity = SigningIdentity::generate(id.clone());
        keys.push(GovernanceKey {
            id,
            holder: m.id,
            public_key: identity.public_key_b64(),
        });
        holders.push(identity);
    }
    let governance = Governance {
        threshold: u32::try_from(keys.len().min(2)).unwrap_or(1),
        keys,
    };
    let ids: Vec<CountryCode> = members.iter().map(|m| m.id).collect();
    let countries: Vec<CountryCode> = ids
        .iter()
        .copied()
        .filter(|c| c.as_str() != "REG")
        .collect();
    let joined = |list: &[CountryCode]| {
        list.iter()
            .map(CountryCode::as_str)
            .collect::<Vec<_>>()
            .join("-")
    };
    // The directory among the countries; quarterly statistics from every country to the hub
    // (which takes nothing else); a bilateral referral agreement between every two countries.
    let mut agreements = vec![Agreement {
        id: format!("directory-{}", joined(&countries)),
        kind: AgreementKind::Directory,
        members: countries.clone(),
        hub: None,
        period: None,
    }];
    if let Some(hub) = ids.iter().copied().find(|c| c.as_str() == "REG") {
        agreements.push(Agreement {
            id: format!("stats-{}@{hub}", joined(&ids)),
            kind: AgreementKind::Stats,
            members: ids.clone(),
            hub: Some(hub),
            period: Some(puente_common::stats::release::PeriodKind::Quarter),
        });
    }
    for (i, a) in countries.iter().enumerate() {
        for b in &countries[i + 1..] {
            agreements.push(Agreement {
                id: format!("referral-{a}-{b}"),
                kind: AgreementKind::Referral,
                members: vec![*a, *b],
                hub: None,
                period: None,
            });
        }
    }
    let mut manifest = SignedManifest {
        manifest: Manifest {
            v: 1,
            federation: "puente-demo".into(),
            version: 1,
            issued_at: now,
            expires_at: now + chrono::Duration::days(365),
            grace_seconds: 7 * 86_400,
            governance: governance.clone(),
            members: entries,
            agreements,
        },
        signatures: Vec::new(),
    };
    for signer in holders.iter().take(2) {
        manifest
            .add_signature(signer)
            .map_err(|e| anyhow::anyhow!("demo manifest: {e}"))?;
    }
    for m in members {
        let config = Config::load(&m.dir.join("puente.toml"))?;
        let store = crate::store::connect_config(&config).await?;
        let ctx = AuditCtx::system(now);
        admin::join(
            store.as_ref(),
            &ctx,
            &governance,
            &governance.fingerprint(),
            &manifest,
        )
        .await?;
        for peer in members.iter().filter(|p| p.id != m.id) {
            admin::approve(store.as_ref(), &ctx, ApprovalKind::Peer, peer.id.as_str()).await?;
        }
        for a in manifest
            .manifest
            .agreements
            .iter()
            .filter(|a| a.members.contains(&m.id))
        {
            admin::approve(store.as_ref(), &ctx, ApprovalKind::Agreement, &a.id).await?;
        }
        store.close().await;
    }
    if seed_data {
        for m in members.iter().filter(|m| m.id.as_str() != "REG") {
            let config = Config::load(&m.dir.join("puente.toml"))?;
            publish_releases(&config, clock).await?;
        }
    }
    lines.push(String::new());
    lines.push(format!(
        "Federation \"puente-demo\": manifest version 1, anchor fingerprint {}",
        governance.fingerprint()
    ));
    Ok(lines.join("\n"))
}

/// A member's store and application state, as `serve` would make them.
async fn demo_state(
    config: &Config,
) -> anyhow::Result<(crate::store::SharedStore, crate::app::AppState)> {
    let store = crate::store::connect_config(config).await?;
    let (data_key, identity) = crate::init::load_keys(config)?;
    let state = crate::app::Node::new(
        config.clone(),
        store.clone(),
        Arc::new(SystemClock),
        data_key,
        identity,
    )?;
    Ok((store, state))
}

/// Quarters of the demo's statistics releases: the last closed ones, oldest first.
const DEMO_RELEASE_QUARTERS: usize = 4;

/// Prepares and publishes, as the national administrator after review, the statistics
/// releases of the last closed quarters: signed and queued for the hub, which receives them
/// as soon as the demo serves.
async fn publish_releases(config: &Config, clock: &dyn Clock) -> anyhow::Result<()> {
    use crate::stats::releases;
    use puente_common::stats::release::ReleaseReview;
    use puente_common::stats::Period;
    let (store, state) = demo_state(config).await?;
    let ctx = AuditCtx::system(clock.now());
    let (_, audit) = demo_actor(&state, &ctx, "admin").await?;
    let explain = |e: crate::error::AppError| anyhow::anyhow!("demo releases: {e}");
    let mut quarter = crate::stats::last_closed("quarter", clock.now().date_naive());
    let mut periods = vec![quarter];
    while periods.len() < DEMO_RELEASE_QUARTERS {
        quarter = match quarter {
            Period::Quarter(y, 1) => Period::Quarter(y - 1, 4),
            Period::Quarter(y, q) => Period::Quarter(y, q - 1),
            other => other,
        };
        periods.push(quarter);
    }
    for period in periods.into_iter().rev() {
        let draft = releases::prepare(&state, period, &audit)
            .await
            .map_err(explain)?;
        releases::publish(&state, draft.id, &audit, ReleaseReview::Reviewed)
            .await
            .map_err(explain)?;
    }
    store.close().await;
    Ok(())
}

/// Makes the organisations and users; returns the printable log-ins.
async fn seed(config: &Config, clock: &dyn Clock) -> anyhow::Result<String> {
    let (store, state) = demo_state(config).await?;
    let ctx = AuditCtx {
        at: clock.now(),
        actor_id: None,
        actor: "demo".into(),
        org_id: None,
        ip: None,
        request_id: None,
    };
    let explain = |e: crate::error::AppError| anyhow::anyhow!("demo seed: {e}");
    let country = config.country.as_str();
    for (code, name, t) in orgs_of(country).iter().copied() {
        orgs::create(store.as_ref(), &ctx, &orgs::NewOrg::new(code, name, t))
            .await
            .map_err(explain)?;
    }
    let mut lines = Vec::new();
    for (username, name, role, org) in users_of(country) {
        let org_id = if org.is_empty() {
            String::new()
        } else {
            store.org_by_code(org).await?.id.to_string()
        };
        let input = users::NewUser {
            username: username.into(),
            display_name: name,
            org_id,
            role: role.into(),
        };
        let (user, _) = users::create(
            store.as_ref(),
            &ctx,
            None,
            &input,
            Some(DEMO_PASSWORD.into()),
        )
        .await
        .map_err(explain)?;
        let mut line = format!(
            "  {username:<13} {role:<11} {}",
            if org.is_empty() { "(node-wide)" } else { org }
        );
        if user.role.requires_totp() {
            // Administrators need a second factor: enrol one now and print its secret, to
            // add to an authenticator app ("enter a setup key").
            let secret = totp::new_secret();
            let sealed = crate::auth::routes::seal_totp(&state, &user, &secret);
            let ev = ctx
                .event("auth.totp_enrolled", crate::audit::Outcome::Success)
                .target("user", user.id);
            store
                .set_totp(user.id, Some(&sealed), &[], clock.now(), &ev)
                .await?;
            line.push_str(&format!("  TOTP key: {secret}"));
        }
        lines.push(line);
    }
    if country == "GTM" {
        seed_cases(&state, &ctx).await?;
        lines.push("  (ASOC1 has three invented cases to look at.)".into());
    }
    if !orgs_of(country).is_empty() {
        seed_directory(&state, &ctx).await?;
        let n = seed_statistics(&state, &ctx, country).await?;
        lines.push(format!(
            "  ({n} invented persons, most with statistical-use consent, feed /statistics.)"
        ));
    }
    store.close().await;
    Ok(lines.join("\n"))
}

/// A demo user acting: the actor and its audit context.
async fn demo_actor(
    state: &crate::app::AppState,
    ctx: &AuditCtx,
    username: &str,
) -> anyhow::Result<(crate::authz::Actor, AuditCtx)> {
    let user = state.store.user_by_username(username).await?;
    let actor = crate::authz::Actor {
        user_id: user.id,
        username: user.username.clone(),
        role: user.role,
        org_id: user.org_id,
    };
    let audit = AuditCtx {
        actor_id: Some(user.id),
        actor: user.username.clone(),
        org_id: user.org_id,
        ..ctx.clone()
    };
    Ok((actor, audit))
}

/// The invented services of the node's organisations in the regional directory
/// (`directory::demo`), saved by the national administrator `admin`.
async fn seed_directory(state: &crate::app::AppState, ctx: &AuditCtx) -> anyhow::Result<()> {
    let (actor, audit) = demo_actor(state, ctx, "admin").await?;
    let who = crate::cases::Who {
        actor: &actor,
        audit: &audit,
    };
    crate::directory::demo::seed_demo_services(state, who, None)
        .await
        .map_err(|e| anyhow::anyhow!("demo directory: {e}"))?;
    Ok(())
}

/// Three invented cases of ASOC1, registered by `gestora`, so the registry has something to
/// show. Every name here is made up.
async fn seed_cases(state: &crate::app::AppState, ctx: &AuditCtx) -> anyhow::Result<()> {
    use puente_common::case::{CaseRecord, ConsentRecord, PersonRecord};
    use puente_common::vocab::codes::{
        CaseStatus, ConsentGivenBy, ConsentScope, ExploitationType, Gender, IntakeChannel, Means,
        ReferralFieldGroup, TraffickingAct,
    };
    let (actor, audit) = demo_actor(state, ctx, "gestora").await?;
    let today = ctx.at.date_naive();
    let people = [
        (
            "Rosa Amalia",
            "Ixcoy Tum",
            Gender::Feminine,
            "GTM",
            ExploitationType::SexualExploitation,
            1998,
        ),
        (
            "Luis Fernando",
            "Cruz Mejía",
            Gender::Masculine,
            "HND",
            ExploitationType::ForcedLabour,
            1990,
        ),
        (
            "María José",
            "Ajanel Chox",
            Gender::Feminine,
            "GTM",
            ExploitationType::ForcedBegging,
            2001,
        ),
    ];
    for (i, (given, family, gender, citizenship, exploitation, born)) in
        people.into_iter().enumerate()
    {
        let mut person = PersonRecord::default();
        person.identity.given_names = given.into();
        person.identity.family_names = family.into();
        person.identity.birth_date = chrono::NaiveDate::from_ymd_opt(born, 3, 14);
        person.gender = Some(gender);
        person.citizenship.insert(citizenship.parse()?);
        let registered = today - chrono::Duration::days(30 * (i as i64 + 1));
        let mut case = CaseRecord {
            intake_channel: IntakeChannel::Hotline,
            registration_date: registered,
            identification_date: Some(registered),
            status: CaseStatus::Active,
            closure_reason: None,
            trafficking_status: None,
            status_decided_by: None,
            location: Some("GT-QZ".into()),
            process: Default::default(),
            narrative: "Caso de demostración: datos inventados.".into(),
        };
        case.process.acts.insert(TraffickingAct::Recruitment);
        case.process.means.insert(Means::Deception);
        case.process.exploitation_types.insert(exploitation);
        let consent = ConsentRecord {
            scope: ConsentScope::CaseManagement,
            given_by: ConsentGivenBy::Person,
            guardian_name: String::new(),
            given_on: registered,
            expires_on: None,
            destination_country: None,
            destination_org: String::new(),
            field_groups: Default::default(),
            evidence_ref: format!("DEMO-{}", i + 1),
        };
        let mut consents = vec![consent];
        // Luis Fernando goes home to Honduras: he agreed to be referred there, with his
        // identity, contact and the facts of his case, for six months.
        if citizenship == "HND" {
            person.identity.contacts.push(puente_common::case::Contact {
                kind: "phone".into(),
                value: "+504 9999 0000".into(),
            });
            person.languages.push("spa".into());
            consents.push(ConsentRecord {
                scope: ConsentScope::Referral,
                given_by: ConsentGivenBy::Person,
                guardian_name: String::new(),
                given_on: registered,
                expires_on: Some(today + chrono::Duration::days(180)),
                destination_country: Some("HND".parse()?),
                destination_org: String::new(),
                field_groups: [
                    ReferralFieldGroup::Identity,
                    ReferralFieldGroup::Contact,
                    ReferralFieldGroup::Demographics,
                    ReferralFieldGroup::TraffickingProcess,
                ]
                .into_iter()
                .collect(),
                evidence_ref: format!("DEMO-{}-R", i + 1),
            });
        }
        let input = crate::cases::NewCase {
            person: crate::cases::PersonChoice::New(Box::new(person)),
            case,
            consents,
            caseworker_id: None,
            consent_override_reason: None,
        };
        crate::cases::register(
            state,
            crate::cases::Who {
                actor: &actor,
                audit: &audit,
            },
            input,
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo case: {e}"))?;
    }
    Ok(())
}

/// How many invented persons each country's demo node gets for its statistics.
fn statistics_persons(country: &str) -> usize {
    match country {
        "GTM" => 150,
        "HND" => 80,
        "SLV" => 60,
        _ => 0,
    }
}

/// A small deterministic generator (xorshift), so every demo has the same figures.
struct DemoRng(u64);

impl DemoRng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// An index in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// Picks by weight.
    fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut r = (self.next() % u64::from(total.max(1))) as u32;
        for (t, w) in items {
            if r < *w {
                return *t;
            }
            r -= w;
        }
        items[0].0
    }
}

/// Invented persons for the national statistics (`/statistics`): varied sex, age, citizenship,
/// forms of exploitation and dates over the last 18 months, with a `STATISTICAL_USE` consent
/// (some given by a guardian, some on a legal basis, a few without one), split between the
/// node's first two organisations; about one in ten has a second case. Registered in two
/// batches (one transaction each) to keep the demo fast. Every name is made up. Returns the
/// number of persons.
async fn seed_statistics(
    state: &crate::app::AppState,
    ctx: &AuditCtx,
    country: &str,
) -> anyhow::Result<usize> {
    use puente_common::case::{CaseRecord, ConsentRecord, PersonRecord};
    use puente_common::vocab::codes::{
        CaseStatus, ConsentGivenBy, ConsentScope, ControlMethod, ExploitationType, Gender,
        IntakeChannel, Means, RecruiterRelation, TraffickingAct, TraffickingStatus,
    };
    use puente_common::vocab::Coded;
    let n = statistics_persons(country);
    if n == 0 {
        return Ok(0);
    }
    let today = ctx.at.date_naive();
    let mut rng =
        DemoRng(0x9E37_79B9_7F4A_7C15 ^ country.bytes().fold(7u64, |a, b| a * 31 + u64::from(b)));
    let mut actors = Vec::new();
    for username in ["gestora", "gestor2"] {
        let (actor, audit) = demo_actor(state, ctx, username).await?;
        actors.push((actor, audit));
    }
    let neighbours: &[(&str, u32)] = match country {
        "GTM" => &[
            ("GTM", 70),
            ("HND", 10),
            ("SLV", 7),
            ("NIC", 4),
            ("MEX", 3),
            ("VEN", 2),
            ("COL", 1),
            ("CHN", 1),
            ("ECU", 2),
        ],
        "HND" => &[
            ("HND", 75),
            ("GTM", 8),
            ("NIC", 8),
            ("SLV", 5),
            ("VEN", 2),
            ("CUB", 2),
        ],
        _ => &[("SLV", 75), ("GTM", 8), ("HND", 10), ("NIC", 5), ("COL", 2)],
    };
    let abroad: &[(&str, u32)] = &[
        (country, 70),
        ("MEX", 15),
        ("USA", 10),
        ("GTM", 3),
        ("BLZ", 2),
    ];
    let industries = ["A01", "C14", "I56", "T97", "F41", "G47"];
    let controls = ControlMethod::ALL;
    let mut regs = Vec::new();
    let mut second = Vec::new();
    for i in 0..n {
        let org = i % 2;
        let (actor, audit) = &actors[org];
        let days_ago = 3 + rng.below(540) as i64;
        let identified = today - chrono::Duration::days(days_ago);
        let registered = (identified + chrono::Duration::days(rng.below(15) as i64)).min(today);
        let mut person = PersonRecord::default();
        person.identity.given_names = "Persona de demostración".into();
        person.identity.family_names = format!("Estadística {country} {:03}", i + 1);
        person.gender = Some(rng.weighted(&[
            (Gender::Feminine, 64),
            (Gender::Masculine, 32),
            (Gender::TransgenderFeminine, 2),
            (Gender::NotSpecifiedUnknown, 2),
        ]));
        let cit = rng.weighted(neighbours);
        person.citizenship.insert(cit.parse()?);
        let minor = rng.below(100) < 27;
        let age = if minor {
            11 + rng.below(7)
        } else {
            18 + rng.below(35)
        } as u32;
        let mut case = CaseRecord {
            intake_channel: rng.weighted(&[
                (IntakeChannel::CaseManagement, 20),
                (IntakeChannel::Hotline, 25),
                (IntakeChannel::ReferralIn, 10),
                (IntakeChannel::Outreach, 15),
                (IntakeChannel::LawEnforcementOperation, 25),
                (IntakeChannel::SelfIdentified, 5),
            ]),
            registration_date: registered,
            identification_date: Some(identified),
            status: CaseStatus::Active,
            closure_reason: None,
            trafficking_status: rng.weighted(&[
                (Some(TraffickingStatus::ActualVictim), 55),
                (Some(TraffickingStatus::PossibleVictim), 35),
                (Some(TraffickingStatus::NotAVictim), 3),
                (None, 7),
            ]),
            status_decided_by: None,
            location: None,
            process: Default::default(),
            narrative: "Persona de demostración para las estadísticas: datos inventados.".into(),
        };
        let p = &mut case.process;
        p.acts.insert(TraffickingAct::Recruitment);
        p.means.insert(Means::Deception);
        p.age_when_trafficked = Some(age);
        let forms: &[ExploitationType] = rng.weighted(&[
            (&[ExploitationType::SexualExploitation][..], 48),
            (&[ExploitationType::ForcedLabour][..], 28),
            (&[ExploitationType::ForcedCriminality][..], 7),
            (&[ExploitationType::ForcedBegging][..], 5),
            (
                &[
                    ExploitationType::SexualExploitation,
                    ExploitationType::ForcedLabour,
                ][..],
                7,
            ),
            (&[ExploitationType::ForcedMarriage][..], 2),
            (&[ExploitationType::ChildLabour][..], 3),
        ]);
        p.exploitation_types.extend(forms.iter().copied());
        if forms.contains(&ExploitationType::ForcedLabour)
            || forms.contains(&ExploitationType::ChildLabour)
        {
            p.forced_labour_industry = Some(industries[rng.below(industries.len())].to_owned());
        }
        for _ in 0..1 + rng.below(3) {
            p.control_methods
                .insert(controls[rng.below(controls.len())]);
        }
        p.recruiter_relation = Some(rng.weighted(&[
            (RecruiterRelation::IntimatePartner, 15),
            (RecruiterRelation::Friend, 15),
            (RecruiterRelation::Family, 20),
            (RecruiterRelation::OtherKnown, 15),
            (RecruiterRelation::Stranger, 25),
            (RecruiterRelation::Unknown, 10),
        ]));
        p.country_of_exploitation = Some(rng.weighted(abroad).parse()?);
        let consent = |scope, given_by, evidence: String| ConsentRecord {
            scope,
            given_by,
            guardian_name: if given_by == ConsentGivenBy::Guardian {
                "Tutora de demostración".into()
            } else {
                String::new()
            },
            given_on: registered,
            expires_on: None,
            destination_country: None,
            destination_org: String::new(),
            field_groups: Default::default(),
            evidence_ref: evidence,
        };
        let by = if minor {
            ConsentGivenBy::Guardian
        } else {
            ConsentGivenBy::Person
        };
        let mut consents = vec![consent(
            ConsentScope::CaseManagement,
            by,
            format!("DEMO-E{}", i + 1),
        )];
        match rng.below(100) {
            0..=5 => {}
            6..=11 => consents.push(consent(
                ConsentScope::StatisticalUse,
                ConsentGivenBy::LegalBasis,
                format!("DEMO-EL{}", i + 1),
            )),
            _ => consents.push(consent(
                ConsentScope::StatisticalUse,
                by,
                format!("DEMO-ES{}", i + 1),
            )),
        }
        let again = rng.below(100) < 10;
        let input = crate::cases::NewCase {
            person: crate::cases::PersonChoice::New(Box::new(person)),
            case: case.clone(),
            consents,
            caseworker_id: None,
            consent_override_reason: None,
        };
        let who = crate::cases::Who { actor, audit };
        regs.push(
            crate::cases::prepare(state, who, input)
                .await
                .map_err(|e| anyhow::anyhow!("demo statistics person: {e}"))?,
        );
        if again {
            // A new intake of the same person, a few weeks later (counted once).
            let later = (registered + chrono::Duration::days(20 + rng.below(60) as i64)).min(today);
            let mut c2 = case;
            c2.registration_date = later;
            c2.identification_date = Some(later);
            c2.intake_channel = IntakeChannel::CaseManagement;
            second.push((regs.len() - 1, org, c2, by));
        }
    }
    let rows = state.store.register_cases(&regs).await?;
    let mut regs2 = Vec::new();
    for (idx, org, case, by) in second {
        let (actor, audit) = &actors[org];
        let input = crate::cases::NewCase {
            person: crate::cases::PersonChoice::Existing(rows[idx].person_id),
            case,
            consents: vec![ConsentRecord {
                scope: ConsentScope::CaseManagement,
                given_by: by,
                guardian_name: if by == ConsentGivenBy::Guardian {
                    "Tutora de demostración".into()
                } else {
                    String::new()
                },
                given_on: today,
                expires_on: None,
                destination_country: None,
                destination_org: String::new(),
                field_groups: Default::default(),
                evidence_ref: format!("DEMO-R{idx}"),
            }],
            caseworker_id: None,
            consent_override_reason: None,
        };
        let who = crate::cases::Who { actor, audit };
        regs2.push(
            crate::cases::prepare(state, who, input)
                .await
                .map_err(|e| anyhow::anyhow!("demo statistics case: {e}"))?,
        );
    }
    if !regs2.is_empty() {
        state.store.register_cases(&regs2).await?;
    }
    Ok(n)
}
