//! The hub part of `puente bench stats --hub`: the latency of the hub's dashboard with
//! `countries` × `years` of monthly releases, against the plain read of every stored release
//! row in the same run (ratio).
//!
//! The releases are realistic: the true tables of one generated quarter (the national
//! statistics benchmark's generator, [`crate::stats::bench::sample_tables`]) scaled to one
//! month of one country with a random factor, protected with the default protection (k = 5,
//! the exact complementary check) and the joint check, each chained to the country's previous
//! release, and stored through the hub's own store function (`hub_store_release`: history
//! checks, audit entry). Generation time is printed but is not part of the figures.
//!
//! A dashboard request is timed in the process, from the stored rows to the finished HTML:
//! [`super::dashboard_data`] (read, parse, aggregate) and [`super::pages::render_dashboard`]
//! (SVG charts and template). Loopback and temporary files only.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Utc};
use puente_common::stats::release::{ReleaseBody, ReleaseReview, RELEASE_FORMAT};
use puente_common::stats::{protect, Period, Protection, Table};
use puente_common::CountryCode;
use rand::{Rng, SeedableRng};

use super::{HubFilter, StoredRelease};
use crate::audit::{AuditCtx, Outcome};
use crate::clock::{Clock, SystemClock};
use crate::store::hub_sql::HubVerdict;
use crate::web::i18n::Lang;

/// What to generate and how often to ask.
#[derive(Debug, Clone)]
pub struct HubBenchOptions {
    /// `None`: a fresh SQLite file; a PostgreSQL URL: a fresh database on that server.
    pub database_url: Option<String>,
    /// Member countries publishing (at most 15).
    pub countries: usize,
    /// Years of monthly releases per country.
    pub years: usize,
    /// Dashboard requests timed per view.
    pub requests: usize,
    /// Persons generated for the sample quarter whose tables every release is scaled from.
    pub sample_persons: usize,
}

const CODES: [&str; 15] = [
    "GTM", "HND", "SLV", "MEX", "NIC", "CRI", "PAN", "BLZ", "COL", "DOM", "ECU", "PER", "CUB",
    "HTI", "VEN",
];

/// Runs the hub benchmark and prints its figures.
pub async fn run(opts: HubBenchOptions) -> anyhow::Result<()> {
    let countries: Vec<CountryCode> = CODES
        .iter()
        .take(opts.countries.clamp(1, CODES.len()))
        .map(|c| c.parse())
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let dir = std::env::temp_dir().join(format!(
        "puente-hub-bench-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir)?;
    let pg = match &opts.database_url {
        Some(base) => Some((base.clone(), crate::stats::bench::fresh_pg(base).await?)),
        None => None,
    };
    let result = measure(
        &dir,
        pg.as_ref().map(|(_, (url, _))| url.clone()),
        &countries,
        &opts,
    )
    .await;
    if let Some((base, (_, name))) = &pg {
        crate::stats::bench::drop_pg(base, name).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(
    dir: &std::path::Path,
    database_url: Option<String>,
    countries: &[CountryCode],
    opts: &HubBenchOptions,
) -> anyhow::Result<()> {
    let backend = if database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite (WAL)"
    };
    let clock = SystemClock;
    let started = Instant::now();
    let sample = crate::stats::bench::sample_tables(
        &format!("sqlite://{}", dir.join("sample.db").display()),
        opts.sample_persons,
    )
    .await?;

    // A hub, as `puente init --federation-role hub` makes it.
    let hub_dir = dir.join("hub");
    crate::init::init(
        &crate::init::InitOptions {
            country: "REG".parse().map_err(|e| anyhow::anyhow!("{e}"))?,
            data_dir: hub_dir.clone(),
            listen: "127.0.0.1:0".parse()?,
            database_url,
            tls: false,
            force: false,
            federation: Some(crate::init::FederationInit {
                listen: "127.0.0.1:0".parse()?,
                endpoint: Some("https://127.0.0.1:1".into()),
                role: "hub".into(),
                name: "Bench hub".into(),
            }),
        },
        &clock,
    )
    .await
    .context("initialising the hub")?;
    let config = crate::config::Config::load(&hub_dir.join("puente.toml"))?;
    let store = crate::store::connect_config(&config).await?;
    let (data_key, identity) = crate::init::load_keys(&config)?;
    let st = crate::app::Node::new(
        config,
        store.clone(),
        Arc::new(SystemClock),
        data_key,
        identity,
    )?;

    // The releases: every month of `years` years for every country, chained per country.
    let last_year = 2025u16;
    let first_year = last_year + 1 - u16::try_from(opts.years.max(1)).unwrap_or(10);
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x4855_4221);
    let now = clock.now();
    let mut stored = 0usize;
    let mut bytes = 0usize;
    for country in countries {
        let mut prev = puente_federation::ZERO_HASH.to_owned();
        for year in first_year..=last_year {
            for month in 1..=12u8 {
                let body = release(
                    &sample,
                    *country,
                    Period::Month(year, month),
                    &prev,
                    now,
                    &mut rng,
                )?;
                prev = crate::stats::release_hash(&body)?;
                let mut r = StoredRelease::from_body(body, now)?;
                r.row.message_id = uuid::Uuid::now_v7();
                bytes += r.row.body.len();
                let ev = AuditCtx::system(now).event(super::AUDIT_STORED, Outcome::Success);
                match store.hub_store_release(&r.row, &ev).await? {
                    HubVerdict::Stored => stored += 1,
                    other => anyhow::bail!("the hub refused a generated release: {other:?}"),
                }
            }
        }
    }
    println!(
        "Puente hub benchmark — {backend}; {} countries × {} years of monthly releases = {stored} \
         releases ({:.1} MiB of release JSON), generated, protected and stored in {:.1} s (not \
         measured)",
        countries.len(),
        opts.years,
        bytes as f64 / 1_048_576.0,
        started.elapsed().as_secs_f64()
    );

    // The baseline: the store's plain read of every stored row.
    let baseline = time_n(opts.requests, || async {
        store.hub_releases(None).await.map(|rows| rows.len())?;
        Ok(0)
    })
    .await?;
    let last = HubFilter {
        from: Some(Period::Month(last_year, 1)),
        to: Some(Period::Month(last_year, 12)),
        country: None,
    };
    let one = HubFilter {
        country: countries.first().copied(),
        ..last.clone()
    };
    let views = [
        ("default view (latest 12 periods)", HubFilter::default()),
        ("one year, every country", last),
        ("one year, one country", one),
    ];
    println!();
    println!(
        "{:<34}  {:>9}  {:>9}  {:>9}  {:>9}",
        "view", "median ms", "p95 ms", "page KiB", "ratio"
    );
    println!(
        "{:<34}  {:>9.1}  {:>9.1}  {:>9}  {:>9}",
        "baseline: read every stored row", baseline.0, baseline.1, "-", "1.00"
    );
    for (name, filter) in views {
        let st = &st;
        let members = countries.to_vec();
        let t = time_n(opts.requests, || {
            let filter = filter.clone();
            let members = members.clone();
            async move {
                let d = super::dashboard_data(st.store.as_ref(), &members, &filter).await?;
                let ctx = crate::web::Ctx {
                    lang: Lang::Es,
                    csrf: String::new(),
                    ip: None,
                    request_id: None,
                    path: "/hub".into(),
                    session: None,
                    user: None,
                    org_name: None,
                    notice: None,
                    unread: None,
                };
                let page = super::pages::render_dashboard(st, &ctx, &d);
                let html = axum::body::to_bytes(page.into_body(), usize::MAX).await?;
                Ok(html.len())
            }
        })
        .await?;
        println!(
            "{:<34}  {:>9.1}  {:>9.1}  {:>9.0}  {:>9.2}",
            name,
            t.0,
            t.1,
            t.2 as f64 / 1024.0,
            t.0 / baseline.0.max(1e-9)
        );
    }
    println!(
        "dashboard = read + parse + aggregate the latest version of each (country, period) in the \
         view + SVG charts + HTML, in the process (no network); ratio = median / the baseline's \
         median."
    );
    store.close().await;
    Ok(())
}

/// One month's release of `country`: the sample's counts scaled by a random factor,
/// protected, jointly checked.
fn release(
    sample: &crate::stats::TrueTables,
    country: CountryCode,
    period: Period,
    prev: &str,
    now: DateTime<Utc>,
    rng: &mut rand::rngs::StdRng,
) -> anyhow::Result<ReleaseBody> {
    // A quarter of the sample (20,000 persons by default) scaled to roughly 20–200 persons a
    // month.
    let factor: f64 = rng.gen_range(0.01..0.1);
    let protection = Protection::default();
    let mut tables = Vec::with_capacity(sample.tables.len());
    for t in &sample.tables {
        let counts = t
            .counts
            .iter()
            .map(|&c| (c as f64 * factor * rng.gen_range(0.7..1.3)).round() as u64)
            .collect();
        let table = Table::new(t.id.clone(), t.dimensions.clone(), counts)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        tables.push(protect(&table, &protection, rng).map_err(|e| anyhow::anyhow!("{e}"))?);
    }
    let withheld = crate::stats::linked::secure(&mut tables)?;
    tables.retain(|t| !withheld.contains(&t.id));
    let method = tables
        .first()
        .map(|t| t.method.clone())
        .ok_or_else(|| anyhow::anyhow!("no table"))?;
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Ok(ReleaseBody {
        v: RELEASE_FORMAT,
        country,
        period,
        version: 1,
        prev: prev.to_owned(),
        prepared_at: at.clone(),
        published_at: at,
        review: ReleaseReview::Reviewed,
        method,
        withheld,
        tables,
    })
}

/// Runs `f` `n` times: (median ms, p95 ms, the last result).
async fn time_n<F, Fut>(n: usize, mut f: F) -> anyhow::Result<(f64, f64, usize)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<usize>>,
{
    let mut times = Vec::with_capacity(n.max(1));
    let mut last = 0;
    for _ in 0..n.max(1) {
        let t = Instant::now();
        last = f().await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Ok((pick(0.5), pick(0.95), last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bench_runs_on_a_tiny_hub() {
        run(HubBenchOptions {
            database_url: None,
            countries: 2,
            years: 1,
            requests: 1,
            sample_persons: 2000,
        })
        .await
        .unwrap();
    }
}
