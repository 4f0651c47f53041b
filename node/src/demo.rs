//! `puente demo`: a ready-to-try node on SQLite with three organisations and a user of every
//! role. Made once in its data directory and reused afterwards; the log-ins are printed at
//! every start (and kept in `demo-logins.txt` there). Demo passwords are public: never put
//! real data in a demo node.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use crate::admin::{orgs, users};
use crate::audit::AuditCtx;
use crate::auth::totp;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;

/// The demo password of every demo user.
pub const DEMO_PASSWORD: &str = "Puente-demo-2026";

const ORGS: [(&str, &str, &str); 3] = [
    ("ASOC1", "Asociación Refugio de la Niñez (demo)", "NGO"),
    ("FUND2", "Fundación Sobrevivientes (demo)", "NGO"),
    (
        "PGN",
        "Procuraduría General de la Nación (demo)",
        "CENTRAL_GOVERNMENT",
    ),
];

/// (username, display name, role, organisation code or "")
const USERS: [(&str, &str, &str, &str); 6] = [
    ("admin", "Administración nacional (demo)", "node_admin", ""),
    (
        "coordinacion",
        "Coordinadora ASOC1 (demo)",
        "org_admin",
        "ASOC1",
    ),
    (
        "gestora",
        "Gestora de casos ASOC1 (demo)",
        "caseworker",
        "ASOC1",
    ),
    (
        "gestor2",
        "Gestor de casos FUND2 (demo)",
        "caseworker",
        "FUND2",
    ),
    ("analista", "Analista nacional (demo)", "analyst", ""),
    ("auditora", "Auditora (demo)", "auditor", ""),
];

/// Creates (once) and serves the demo node.
pub async fn run(data_dir: &Path, listen: SocketAddr) -> anyhow::Result<()> {
    let clock = SystemClock;
    let config_path = data_dir.join("puente.toml");
    let logins_path = data_dir.join("demo-logins.txt");
    if !config_path.exists() {
        crate::init::init(
            &crate::init::InitOptions {
                country: "GTM".parse()?,
                data_dir: data_dir.to_owned(),
                listen,
                database_url: None,
                tls: false,
                force: false,
            },
            &clock,
        )
        .await?;
        let config = Config::load(&config_path)?;
        let logins = seed(&config, &clock).await?;
        std::fs::write(&logins_path, &logins)?;
    }
    let mut config = Config::load(&config_path)?;
    config.listen = listen;
    let logins = std::fs::read_to_string(&logins_path)
        .context("demo-logins.txt is missing; delete the demo directory to start afresh")?;
    println!(
        "Puente demo node (GTM) on http://{listen}/  — data in {}",
        data_dir.display()
    );
    println!("{logins}");
    println!(
        "Stop with Ctrl-C. Delete {} to start afresh.",
        data_dir.display()
    );
    crate::cli::serve(config).await
}

/// Makes the organisations and users; returns the printable log-ins.
async fn seed(config: &Config, clock: &dyn Clock) -> anyhow::Result<String> {
    let store = crate::store::connect(config.database_url.expose()).await?;
    let (data_key, identity) = crate::init::load_keys(config)?;
    let ctx = AuditCtx {
        at: clock.now(),
        actor_id: None,
        actor: "demo".into(),
        org_id: None,
        ip: None,
        request_id: None,
    };
    let explain = |e: crate::error::AppError| anyhow::anyhow!("demo seed: {e}");
    for (code, name, t) in ORGS {
        orgs::create(store.as_ref(), &ctx, &orgs::NewOrg::new(code, name, t))
            .await
            .map_err(explain)?;
    }
    let state = crate::app::Node::new(
        config.clone(),
        store.clone(),
        Arc::new(SystemClock),
        data_key,
        identity,
    )?;
    let mut lines = vec![format!("Demo log-ins (password for all: {DEMO_PASSWORD}):")];
    for (username, name, role, org) in USERS {
        let org_id = if org.is_empty() {
            String::new()
        } else {
            store.org_by_code(org).await?.id.to_string()
        };
        let input = users::NewUser {
            username: username.into(),
            display_name: name.into(),
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
    seed_cases(&state, &ctx).await?;
    lines.push("  (ASOC1 has three invented cases to look at.)".into());
    store.close().await;
    Ok(lines.join("\n"))
}

/// Three invented cases of ASOC1, registered by `gestora`, so the registry has something to
/// show. Every name here is made up.
async fn seed_cases(state: &crate::app::AppState, ctx: &AuditCtx) -> anyhow::Result<()> {
    use puente_common::case::{CaseRecord, ConsentRecord, PersonRecord};
    use puente_common::vocab::codes::{
        CaseStatus, ConsentGivenBy, ConsentScope, ExploitationType, Gender, IntakeChannel, Means,
        TraffickingAct,
    };
    let user = state.store.user_by_username("gestora").await?;
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
        let input = crate::cases::NewCase {
            person: crate::cases::PersonChoice::New(Box::new(person)),
            case,
            consents: vec![consent],
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
