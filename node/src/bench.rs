//! `puente bench registry`: the case registry's speed, measured on a fresh node in this
//! process, with baselines measured in the same run on the same database:
//!
//! 1. cases registered per second through the JSON API by concurrent clients, against raw
//!    inserts of the same rows (person, blind-index tokens, case, consent, audit entry) with
//!    the same durability settings, as a ratio;
//! 2. p50/p99 latency of the case list page (and of the API list) with N cases stored;
//! 3. rows per second importing an N-row HTCDS CSV (parse, check, seal, one transaction);
//! 4. the process's peak resident memory.
//!
//! Loopback only. Nothing here is used by the node itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::NaiveDate;
use puente_common::case::{CaseRecord, ConsentRecord, IdDocument, PersonRecord};
use puente_common::vocab::codes::{
    CaseStatus, ConsentGivenBy, ConsentScope, ExploitationType, Gender, IntakeChannel,
};
use serde_json::json;
use uuid::Uuid;

use crate::admin::{orgs, tokens, users};
use crate::app::{AppState, Application, Node};
use crate::audit::AuditCtx;
use crate::authz::Actor;
use crate::cases::{self, NewCase, PersonChoice, Who};
use crate::clock::SystemClock;
use crate::config::{Config, HttpConfig, KeysConfig, LogConfig, Secret, SecurityConfig};
use crate::crypto::DataKey;

/// Sizes of a run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// `None`: a fresh SQLite file; a PostgreSQL URL: a fresh database on that server.
    pub database_url: Option<String>,
    pub api_cases: usize,
    pub clients: usize,
    pub list_cases: usize,
    pub list_requests: usize,
    pub import_rows: usize,
}

const PASSWORD: &str = "una frase larga de prueba";
const GIVEN: [&str; 8] = [
    "María", "José", "Ana", "Luis", "Rosa", "Juan", "Elena", "Pedro",
];
const FAMILY: [&str; 8] = [
    "López", "Pérez", "Ixcoy", "Tzul", "Ramírez", "Chávez", "Gómez", "Cruz",
];

fn person(i: usize) -> PersonRecord {
    let mut p = PersonRecord::default();
    p.identity.given_names = format!("{} {}", GIVEN[i % 8], GIVEN[(i / 8) % 8]);
    p.identity.family_names = format!("{} {}", FAMILY[i % 7], FAMILY[(i / 7) % 8]);
    p.identity.birth_date = NaiveDate::from_ymd_opt(
        1970 + (i % 30) as i32,
        1 + (i % 12) as u32,
        1 + (i % 28) as u32,
    );
    p.identity.documents.push(IdDocument {
        kind: "DPI".into(),
        number: format!("{:013}", 1_000_000_000 + i),
        country: None,
    });
    p.gender = Some(if i.is_multiple_of(3) {
        Gender::Masculine
    } else {
        Gender::Feminine
    });
    if let Ok(c) = if i.is_multiple_of(5) { "HND" } else { "GTM" }.parse() {
        p.citizenship.insert(c);
    }
    p
}

fn case(i: usize) -> CaseRecord {
    let mut c = CaseRecord {
        intake_channel: IntakeChannel::Hotline,
        registration_date: NaiveDate::from_ymd_opt(2025, 1 + (i % 12) as u32, 1 + (i % 28) as u32)
            .unwrap_or_default(),
        identification_date: None,
        status: CaseStatus::Active,
        closure_reason: None,
        trafficking_status: None,
        status_decided_by: None,
        location: None,
        process: Default::default(),
        narrative: "Relato de prueba para medir el sellado de textos largos.".repeat(4),
    };
    c.process.exploitation_types.insert(if i.is_multiple_of(2) {
        ExploitationType::ForcedLabour
    } else {
        ExploitationType::SexualExploitation
    });
    c
}

fn consent(on: NaiveDate) -> ConsentRecord {
    ConsentRecord {
        scope: ConsentScope::CaseManagement,
        given_by: ConsentGivenBy::Person,
        guardian_name: String::new(),
        given_on: on,
        expires_on: None,
        destination_country: None,
        destination_org: String::new(),
        field_groups: Default::default(),
        evidence_ref: "F-1".into(),
    }
}

/// An error of the service layer, with the fields of invalid input.
fn svc_err(e: crate::error::AppError) -> anyhow::Error {
    match e {
        crate::error::AppError::Invalid(f) => {
            anyhow::anyhow!(
                "invalid input: {}",
                f.iter()
                    .map(|x| format!("{} {}", x.field, x.code))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        other => anyhow::anyhow!("{other}"),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A fresh database for the run, and how to remove it afterwards.
async fn fresh_database(
    opts: &BenchOptions,
    dir: &std::path::Path,
) -> anyhow::Result<(String, Option<(String, String)>)> {
    match &opts.database_url {
        None => Ok((format!("sqlite://{}", dir.join("bench.db").display()), None)),
        Some(base) => {
            use sqlx::Executor;
            let name = format!("puente_bench_{}", Uuid::now_v7().simple());
            let admin = sqlx::PgPool::connect(base)
                .await
                .context("PostgreSQL unreachable")?;
            admin
                .execute(format!("CREATE DATABASE {name}").as_str())
                .await?;
            admin.close().await;
            let (prefix, _) = base
                .rsplit_once('/')
                .ok_or_else(|| anyhow::anyhow!("the URL needs a database name"))?;
            Ok((format!("{prefix}/{name}"), Some((base.clone(), name))))
        }
    }
}

struct Fixture {
    state: AppState,
    base: String,
    token: String,
    actor: Actor,
}

async fn start(db_url: &str, dir: &std::path::Path) -> anyhow::Result<Fixture> {
    let data_key = DataKey::generate();
    let identity = puente_federation::SigningIdentity::generate("GTM-2026a".parse()?);
    let config = Config {
        country: "GTM".parse()?,
        data_dir: dir.to_owned(),
        database_url: Secret::new(db_url),
        listen: "127.0.0.1:0".parse()?,
        tls: None,
        keys: KeysConfig {
            data_key: dir.join("data.key"),
            signing_key: dir.join("signing-key.pem"),
            signing_key_id: "GTM-2026a".parse()?,
            next_signing_key: None,
            next_signing_key_id: None,
        },
        security: SecurityConfig {
            login_attempts_per_minute: 100_000,
            ..SecurityConfig::default()
        },
        http: HttpConfig::default(),
        log: LogConfig::default(),
        federation: None,
        referrals: Default::default(),
        stats: Default::default(),
        retention: Default::default(),
        smtp: None,
        metrics: None,
    };
    let store = crate::store::connect(db_url).await?;
    store.migrate().await?;
    let state = Node::new(config, store, Arc::new(SystemClock), data_key, identity)?;
    let ctx = AuditCtx {
        at: state.clock.now(),
        actor_id: None,
        actor: "bench".into(),
        org_id: None,
        ip: None,
        request_id: None,
    };
    let explain = |e: crate::error::AppError| anyhow::anyhow!("bench set-up: {e}");
    let org = orgs::create(
        state.store.as_ref(),
        &ctx,
        &orgs::NewOrg::new("BENCH", "Bench", "NGO"),
    )
    .await
    .map_err(explain)?;
    let input = users::NewUser {
        username: "coord".into(),
        display_name: "Coord".into(),
        org_id: org.id.to_string(),
        role: "org_admin".into(),
    };
    let (user, _) = users::create(
        state.store.as_ref(),
        &ctx,
        None,
        &input,
        Some(PASSWORD.into()),
    )
    .await
    .map_err(explain)?;
    let input = users::NewUser {
        username: "gestora".into(),
        display_name: "Gestora".into(),
        org_id: org.id.to_string(),
        role: "caseworker".into(),
    };
    users::create(
        state.store.as_ref(),
        &ctx,
        None,
        &input,
        Some(PASSWORD.into()),
    )
    .await
    .map_err(explain)?;
    let (token, _) = tokens::create(
        state.store.as_ref(),
        &ctx,
        user.id,
        &tokens::NewToken {
            name: "bench".into(),
            expires_days: "1".into(),
        },
        365,
    )
    .await
    .map_err(explain)?;
    let app = Application::build(state.clone()).await?;
    let base = format!(
        "http://{}",
        app.local_addr()
            .ok_or_else(|| anyhow::anyhow!("no address"))?
    );
    tokio::spawn(app.run(std::future::pending()));
    let actor = Actor {
        user_id: user.id,
        username: user.username,
        role: user.role,
        org_id: user.org_id,
    };
    Ok(Fixture {
        state,
        base,
        token,
        actor,
    })
}

/// Raw inserts of the same rows the registry writes, through the same pool, each case in its
/// own transaction: the floor the registry's overhead is measured against.
async fn raw_inserts(f: &Fixture, n: usize, clients: usize) -> anyhow::Result<f64> {
    let who_audit = AuditCtx {
        at: f.state.clock.now(),
        actor_id: Some(f.actor.user_id),
        actor: "coord".into(),
        org_id: f.actor.org_id,
        ip: None,
        request_id: None,
    };
    let who = Who {
        actor: &f.actor,
        audit: &who_audit,
    };
    // Prepared outside the timing: sealing and checking are part of the registry's cost,
    // not of the database's.
    let mut regs = Vec::with_capacity(n);
    for i in 0..n {
        let c = case(i);
        let on = c.registration_date;
        let mut r = cases::prepare(
            &f.state,
            who,
            NewCase {
                person: PersonChoice::New(Box::new(person(i))),
                case: c,
                consents: vec![consent(on)],
                caseworker_id: None,
                consent_override_reason: None,
            },
        )
        .await
        .map_err(svc_err)?;
        r.case.year = 1900; // raw rows get numbers of their own year, apart from the API's
        regs.push(r);
    }
    let regs = Arc::new(regs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let st = f.state.clone();
        let regs = regs.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = c;
            while i < regs.len() {
                st.store
                    .register_cases(std::slice::from_ref(&regs[i]))
                    .await?;
                i += clients;
            }
            Ok::<_, crate::store::StoreError>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

async fn api_registrations(f: &Fixture, n: usize, clients: usize) -> anyhow::Result<f64> {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let http = http.clone();
        let url = format!("{}/api/v1/cases", f.base);
        let token = f.token.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = c;
            while i < n {
                let body = json!({ "person": person(1_000_000 + i), "case": case(i), "consents": [consent(case(i).registration_date)] });
                let r = http.post(&url).bearer_auth(&token).json(&body).send().await?;
                if r.status() != reqwest::StatusCode::CREATED {
                    anyhow::bail!("registration answered {}", r.status());
                }
                i += clients;
            }
            Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

async fn bulk_load(f: &Fixture, n: usize) -> anyhow::Result<()> {
    let audit = AuditCtx {
        at: f.state.clock.now(),
        actor_id: Some(f.actor.user_id),
        actor: "coord".into(),
        org_id: f.actor.org_id,
        ip: None,
        request_id: None,
    };
    let who = Who {
        actor: &f.actor,
        audit: &audit,
    };
    let mut i = 0;
    while i < n {
        let mut regs = Vec::with_capacity(1000);
        for j in i..(i + 1000).min(n) {
            let c = case(j);
            let on = c.registration_date;
            regs.push(
                cases::prepare(
                    &f.state,
                    who,
                    NewCase {
                        person: PersonChoice::New(Box::new(person(2_000_000 + j))),
                        case: c,
                        consents: vec![consent(on)],
                        caseworker_id: None,
                        consent_override_reason: None,
                    },
                )
                .await
                .map_err(svc_err)?,
            );
        }
        f.state.store.register_cases(&regs).await?;
        i += 1000;
    }
    Ok(())
}

async fn latencies(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    n: usize,
) -> anyhow::Result<(Duration, Duration)> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let mut req = http.get(url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let started = Instant::now();
        let r = req.send().await?;
        let status = r.status();
        r.bytes().await?;
        times.push(started.elapsed());
        if !status.is_success() {
            anyhow::bail!("{url} answered {status}");
        }
    }
    times.sort();
    Ok((percentile(&times, 0.5), percentile(&times, 0.99)))
}

/// Signs in through the log-in form and returns a client holding the session cookie.
async fn signed_in(base: &str) -> anyhow::Result<reqwest::Client> {
    let http = reqwest::Client::builder().cookie_store(true).build()?;
    let page = http
        .get(format!("{base}/login"))
        .send()
        .await?
        .text()
        .await?;
    let i = page
        .find("name=\"csrf\" value=\"")
        .ok_or_else(|| anyhow::anyhow!("no csrf"))?
        + 19;
    let csrf = &page[i..i + page[i..].find('"').unwrap_or(0)];
    let r = http
        .post(format!("{base}/login"))
        .form(&[
            ("csrf", csrf),
            ("username", "gestora"),
            ("password", PASSWORD),
        ])
        .send()
        .await?;
    // A caseworker of the same organisation, who needs no second factor: lands on the home page.
    if r.url().path() != "/" {
        anyhow::bail!("log-in failed: at {}", r.url().path());
    }
    Ok(http)
}

fn htcds_csv(rows: usize) -> Vec<u8> {
    let mut out = String::from("prs_FirstName,prs_SecondName,prs_Birthdate,prs_Gender,prs_Citizenship,vic_TypeOfExploitation,cas_Status,cas_CreatedDate,con_Consent\n");
    for i in 0..rows {
        let p = person(3_000_000 + i);
        out.push_str(&format!(
            "{},{},{},{},GTM,{},Active,2025-{:02}-{:02},TRUE\n",
            p.identity.given_names,
            p.identity.family_names,
            p.identity
                .birth_date
                .map(|d| d.to_string())
                .unwrap_or_default(),
            if i.is_multiple_of(3) {
                "Masculine"
            } else {
                "Feminine"
            },
            if i.is_multiple_of(2) {
                "ForcedLabour"
            } else {
                "SexualExploitation"
            },
            1 + i % 12,
            1 + i % 28,
        ));
    }
    out.into_bytes()
}

/// Runs the registry benchmark and prints its figures.
pub async fn registry(opts: BenchOptions) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let (db_url, cleanup) = fresh_database(&opts, dir.path()).await?;
    let backend = if db_url.starts_with("sqlite:") {
        "SQLite (WAL, synchronous=FULL)"
    } else {
        "PostgreSQL"
    };
    println!("Puente registry benchmark — {backend}");
    let f = start(&db_url, dir.path()).await?;

    let raw = raw_inserts(&f, opts.api_cases, opts.clients).await?;
    let api = api_registrations(&f, opts.api_cases, opts.clients).await?;
    println!(
        "register via JSON API   {api:>9.0} cases/s  ({} clients, {} cases)\n  raw inserts, same rows {raw:>9.0} cases/s  (same pool, one transaction per case)\n  ratio API / raw        {:>9.2}",
        opts.clients,
        opts.api_cases,
        api / raw
    );

    let started = Instant::now();
    bulk_load(&f, opts.list_cases).await?;
    println!(
        "bulk load               {:>9.0} cases/s  ({} cases, 1000 per transaction)",
        opts.list_cases as f64 / started.elapsed().as_secs_f64(),
        opts.list_cases
    );
    let http = signed_in(&f.base).await?;
    let (p50, p99) = latencies(
        &http,
        &format!("{}/cases", f.base),
        None,
        opts.list_requests,
    )
    .await?;
    println!(
        "case list page          p50 {:>7.1} ms  p99 {:>7.1} ms  ({} requests, {} cases stored)",
        ms(p50),
        ms(p99),
        opts.list_requests,
        opts.list_cases + 2 * opts.api_cases
    );
    let api_client = reqwest::Client::new();
    let (p50, p99) = latencies(
        &api_client,
        &format!("{}/api/v1/cases", f.base),
        Some(&f.token),
        opts.list_requests,
    )
    .await?;
    println!(
        "case list API           p50 {:>7.1} ms  p99 {:>7.1} ms",
        ms(p50),
        ms(p99)
    );
    let (p50, p99) = latencies(
        &http,
        &format!("{}/cases?q=maria+lopez", f.base),
        None,
        opts.list_requests / 4,
    )
    .await?;
    println!(
        "name search (blind idx) p50 {:>7.1} ms  p99 {:>7.1} ms",
        ms(p50),
        ms(p99)
    );

    let csv = htcds_csv(opts.import_rows);
    let audit = AuditCtx {
        at: f.state.clock.now(),
        actor_id: Some(f.actor.user_id),
        actor: "coord".into(),
        org_id: f.actor.org_id,
        ip: None,
        request_id: None,
    };
    let who = Who {
        actor: &f.actor,
        audit: &audit,
    };
    let started = Instant::now();
    let parsed = crate::import::parse_htcds_csv(&csv[..], f.state.clock.now().date_naive())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let parse_secs = started.elapsed().as_secs_f64();
    let report = cases::transfer::import(&f.state, who, parsed, &Default::default(), &|_| {})
        .await
        .map_err(svc_err)?;
    let total = started.elapsed().as_secs_f64();
    if report.imported != opts.import_rows {
        anyhow::bail!(
            "import stored {} of {} rows: {:?}",
            report.imported,
            opts.import_rows,
            report.problems.first()
        );
    }
    println!(
        "import HTCDS CSV        {:>9.0} rows/s   ({} rows, {:.1} MiB; parse {:.1} s, total {:.1} s, one transaction)",
        opts.import_rows as f64 / total,
        opts.import_rows,
        csv.len() as f64 / 1_048_576.0,
        parse_secs,
        total
    );
    if let Some(mib) = peak_rss_mib() {
        println!("peak resident memory    {mib:>9.0} MiB (whole process: server, clients, data)");
    }
    f.state.store.close().await;
    if let Some((base, name)) = cleanup {
        use sqlx::Executor;
        if let Ok(admin) = sqlx::PgPool::connect(&base).await {
            let _ = admin
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await;
        }
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A temporary directory removed at the end of the run.
fn tempfile_dir() -> anyhow::Result<TempDir> {
    let path = std::env::temp_dir().join(format!("puente-bench-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&path)?;
    Ok(TempDir(path))
}

struct TempDir(std::path::PathBuf);

impl TempDir {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
