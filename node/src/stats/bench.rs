//! `puente bench stats`: the time and peak memory to compute and protect one quarter's
//! release ([`super::compute`] + [`super::protect_all`], which includes the joint check of
//! [`super::linked`]) for N persons, against plain SQL `GROUP BY` queries over the same JSON
//! columns in the same run (T01-, T02- and T07-like counts of distinct consented persons), as a
//! ratio.
//!
//! The database is seeded directly through the store's pool with bulk INSERTs of the node's
//! own schema (persons with their `profile` JSON, cases with their `record` JSON, consents,
//! referrals); the sealed columns hold one constant dummy value, which the statistics never
//! open. Seeding time is printed but is not part of the figures.
//!
//! Peak memory: a thread samples the process's `VmRSS` (every 2 ms) while the release is
//! computed; the figure is the peak above the resident size just before (`VmHWM` cannot be
//! reset, and the seeding before it would hide the computation's own peak).
//!
//! Loopback only. Nothing here is used by the node itself.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Duration as Days, NaiveDate, Utc};
use puente_common::case::{CaseRecord, ConsentRecord, PersonRecord};
use puente_common::stats::{Period, Protection};
use puente_common::vocab::codes::{
    CaseStatus, ConsentGivenBy, ConsentScope, ControlMethod, ExploitationType, Gender,
    IntakeChannel, RecruiterRelation, TraffickingStatus,
};
use puente_common::vocab::Coded;
use puente_common::CountryCode;
use uuid::Uuid;

use crate::store::{PgStore, SqliteStore, Store};

/// Sizes of a run.
#[derive(Debug, Clone)]
pub struct StatsBenchOptions {
    /// `None`: a fresh SQLite file; a PostgreSQL URL: a fresh database on that server.
    pub database_url: Option<String>,
    /// Numbers of persons, one fresh database each.
    pub persons: Vec<usize>,
}

/// The figures of one size.
#[derive(Debug, Clone)]
pub struct StatsFigures {
    pub persons: usize,
    pub cases: usize,
    pub seed_secs: f64,
    /// Persons counted in the period (consented, with a case in it).
    pub counted: u64,
    pub release_secs: f64,
    pub compute_secs: f64,
    pub protect_secs: f64,
    /// Peak resident memory above the resident size before the computation.
    pub peak_mib: f64,
    pub baseline_secs: f64,
    /// Persons in the baseline's T01-like grand total (for a sanity check).
    pub baseline_total: i64,
}

/// The measured period.
pub const PERIOD: Period = Period::Quarter(2025, 2);

const COUNTRIES: [(&str, u32); 15] = [
    ("GTM", 22),
    ("HND", 16),
    ("SLV", 12),
    ("NIC", 8),
    ("MEX", 9),
    ("VEN", 8),
    ("COL", 6),
    ("CRI", 3),
    ("PAN", 3),
    ("DOM", 4),
    ("HTI", 3),
    ("ECU", 2),
    ("CUB", 2),
    ("BLZ", 1),
    ("USA", 1),
];

/// A small deterministic generator (splitmix64): the same data on every run and backend.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pct(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len() as u64) as usize]
    }
    fn weighted<T: Copy>(&mut self, v: &[(T, u32)]) -> T {
        let total: u32 = v.iter().map(|x| x.1).sum();
        let mut r = self.below(u64::from(total)) as u32;
        for (x, w) in v {
            if r < *w {
                return *x;
            }
            r -= w;
        }
        v[0].0
    }
}

fn country(c: &str) -> CountryCode {
    c.parse()
        .unwrap_or_else(|_| unreachable!("{c} is a country code"))
}

fn date_in(g: &mut Gen, start: NaiveDate, days: i64) -> NaiveDate {
    start + Days::days(g.below(days.max(1) as u64) as i64)
}

fn person_record(g: &mut Gen) -> PersonRecord {
    let mut p = PersonRecord {
        gender: g.weighted(&[
            (Some(Gender::Feminine), 58),
            (Some(Gender::Masculine), 36),
            (Some(Gender::TransgenderFeminine), 1),
            (Some(Gender::NonConforming), 1),
            (Some(Gender::NotSpecifiedUnknown), 2),
            (None, 2),
        ]),
        ..PersonRecord::default()
    };
    if !g.pct(3) {
        p.citizenship.insert(country(g.weighted(&COUNTRIES)));
        if g.pct(3) {
            p.citizenship.insert(country(g.weighted(&COUNTRIES)));
        }
    }
    p
}

fn case_record(g: &mut Gen, p: &PersonRecord, date: NaiveDate) -> CaseRecord {
    let identified = g.pct(70);
    let mut c = CaseRecord {
        intake_channel: g.pick(IntakeChannel::ALL),
        registration_date: if identified {
            date + Days::days(g.below(10) as i64)
        } else {
            date
        },
        identification_date: identified.then_some(date),
        status: CaseStatus::Active,
        closure_reason: None,
        trafficking_status: if g.pct(20) {
            None
        } else {
            Some(g.pick(TraffickingStatus::ALL))
        },
        status_decided_by: None,
        location: None,
        process: Default::default(),
        narrative: String::new(),
    };
    let form = g.weighted(&[
        (ExploitationType::SexualExploitation, 48),
        (ExploitationType::ForcedLabour, 36),
        (ExploitationType::ForcedMarriage, 4),
        (ExploitationType::Servitude, 4),
        (ExploitationType::ChildLabour, 4),
        (ExploitationType::OrganRemoval, 1),
        (ExploitationType::Slavery, 1),
        (ExploitationType::ForcedMilitaryNonState, 2),
    ]);
    c.process.exploitation_types.insert(form);
    if g.pct(10) {
        c.process
            .exploitation_types
            .insert(g.pick(ExploitationType::ALL));
    }
    for _ in 0..g.below(3) {
        c.process.control_methods.insert(g.pick(ControlMethod::ALL));
    }
    if g.pct(70) {
        c.process.recruiter_relation = Some(g.pick(RecruiterRelation::ALL));
    }
    if g.pct(85) {
        c.process.age_when_trafficked = Some(if g.pct(25) {
            10 + g.below(8) as u32
        } else {
            18 + g.below(30) as u32
        });
    }
    if c.process
        .exploitation_types
        .contains(&ExploitationType::ForcedLabour)
        && g.pct(80)
    {
        c.process.forced_labour_industry = Some(
            g.pick(&["A01", "C14", "F41", "G47", "I56", "T97"])
                .to_owned(),
        );
    }
    c.process.country_of_exploitation = if g.pct(10) {
        None
    } else if g.pct(55) {
        p.citizenship
            .iter()
            .next()
            .copied()
            .or_else(|| Some(country("GTM")))
    } else {
        Some(country(g.weighted(&[
            ("MEX", 40),
            ("USA", 30),
            ("GTM", 10),
            ("CRI", 8),
            ("PAN", 6),
            ("ESP", 6),
        ])))
    };
    c
}

/// One seeded chunk, ready to insert.
#[derive(Default)]
struct Chunk {
    persons: Vec<(Uuid, String)>,
    cases: Vec<CaseSeed>,
    consents: Vec<ConsentSeed>,
    referrals: Vec<ReferralSeed>,
}

struct CaseSeed {
    id: Uuid,
    person: Uuid,
    number: String,
    seq: i32,
    channel: String,
    registration: NaiveDate,
    status: Option<String>,
    exploitation: String,
    record: String,
}

struct ConsentSeed {
    id: Uuid,
    person: Uuid,
    case: Uuid,
    given_on: NaiveDate,
    expires_on: Option<NaiveDate>,
    withdrawn_on: Option<NaiveDate>,
    record: String,
}

struct ReferralSeed {
    id: Uuid,
    direction: &'static str,
    peer: &'static str,
    case: Uuid,
    reference: String,
    state: &'static str,
    created_at: DateTime<Utc>,
}

/// Persons `from..to`: ~10% with two cases (the second half of the time before the period),
/// ~85% with a `STATISTICAL_USE` consent (a few withdrawn or expired), ~3% with a referral.
fn chunk(g: &mut Gen, from: usize, to: usize, seq: &mut i32) -> Chunk {
    let (start, end) = super::period_bounds(PERIOD);
    let days = (end - start).num_days() + 1;
    let mut out = Chunk::default();
    for _ in from..to {
        let pid = Uuid::now_v7();
        let p = person_record(g);
        let mut first_case = None;
        let n_cases = if g.pct(10) { 2 } else { 1 };
        for k in 0..n_cases {
            let date = if k == 1 && g.pct(50) {
                date_in(g, start - Days::days(365), 365)
            } else {
                date_in(g, start, days)
            };
            let c = case_record(g, &p, date);
            let id = Uuid::now_v7();
            *seq += 1;
            first_case.get_or_insert(id);
            let codes: Vec<&str> = c
                .process
                .exploitation_types
                .iter()
                .map(|e| e.code())
                .collect();
            out.cases.push(CaseSeed {
                id,
                person: pid,
                number: format!("BENCH-2025-{:07}", *seq),
                seq: *seq,
                channel: c.intake_channel.code().to_owned(),
                registration: c.registration_date,
                status: c.trafficking_status.map(|s| s.code().to_owned()),
                exploitation: format!(",{},", codes.join(",")),
                record: crate::cases::seal::record_json(&c),
            });
        }
        let case = first_case.unwrap_or_else(Uuid::nil);
        if g.pct(85) {
            let given_on = date_in(g, start - Days::days(400), 400);
            let c = ConsentRecord {
                scope: ConsentScope::StatisticalUse,
                given_by: if g.pct(5) {
                    ConsentGivenBy::LegalBasis
                } else {
                    ConsentGivenBy::Person
                },
                guardian_name: String::new(),
                given_on,
                expires_on: g.pct(3).then(|| date_in(g, start, days)),
                destination_country: None,
                destination_org: String::new(),
                field_groups: Default::default(),
                evidence_ref: "F-1".into(),
            };
            out.consents.push(ConsentSeed {
                id: Uuid::now_v7(),
                person: pid,
                case,
                given_on,
                expires_on: c.expires_on,
                withdrawn_on: g.pct(2).then(|| date_in(g, start, days)),
                record: serde_json::to_string(&c).unwrap_or_default(),
            });
        }
        if g.pct(3) {
            let day = date_in(g, start, days);
            out.referrals.push(ReferralSeed {
                id: Uuid::now_v7(),
                direction: if g.pct(60) { "out" } else { "in" },
                peer: g.pick(&["HND", "SLV", "MEX", "NIC", "CRI", "PAN"]),
                case,
                reference: format!("BENCH-{}", *seq),
                state: g.pick(&[
                    "pending",
                    "accepted",
                    "accepted",
                    "closed",
                    "declined",
                    "awaiting_approval",
                ]),
                created_at: day
                    .and_hms_opt(12, 0, 0)
                    .map(|d| d.and_utc())
                    .unwrap_or_default(),
            });
        }
        out.persons
            .push((pid, crate::cases::seal::profile_json(&p)));
    }
    out
}

/// A dummy sealed value: the statistics never open a sealed column.
const SEALED: &str = "sealed:bench";

/// Bulk inserts of the node's own rows, for one backend (the two differ only in types).
macro_rules! seeder {
    ($name:ident, $db:ty) => {
        async fn $name(
            pool: &sqlx::Pool<$db>,
            org: Uuid,
            c: &Chunk,
            now: DateTime<Utc>,
        ) -> anyhow::Result<()> {
            let mut tx = pool.begin().await?;
            for part in c.persons.chunks(1000) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO persons (id, org_id, identity, profile, key_id, created_by, created_at, updated_at) ",
                );
                q.push_values(part, |mut b, (id, profile)| {
                    b.push_bind(*id)
                        .push_bind(org)
                        .push_bind(SEALED)
                        .push_bind(profile)
                        .push_bind("k1")
                        .push_bind(None::<Uuid>)
                        .push_bind(now)
                        .push_bind(now);
                });
                q.build().execute(&mut *tx).await?;
            }
            for part in c.cases.chunks(1000) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO cases (id, person_id, org_id, number, year, seq, caseworker_id, status, \
                     intake_channel, registration_date, trafficking_status, exploitation, record, narrative, \
                     key_id, version, created_by, created_at, updated_at, closed_at) ",
                );
                q.push_values(part, |mut b, r| {
                    b.push_bind(r.id)
                        .push_bind(r.person)
                        .push_bind(org)
                        .push_bind(&r.number)
                        .push_bind(2025_i32)
                        .push_bind(r.seq)
                        .push_bind(None::<Uuid>)
                        .push_bind("ACTIVE")
                        .push_bind(&r.channel)
                        .push_bind(r.registration)
                        .push_bind(&r.status)
                        .push_bind(&r.exploitation)
                        .push_bind(&r.record)
                        .push_bind(SEALED)
                        .push_bind("k1")
                        .push_bind(1_i32)
                        .push_bind(None::<Uuid>)
                        .push_bind(now)
                        .push_bind(now)
                        .push_bind(None::<DateTime<Utc>>);
                });
                q.build().execute(&mut *tx).await?;
            }
            for part in c.consents.chunks(1000) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO consents (id, person_id, case_id, scope, destination_country, given_on, \
                     expires_on, record, guardian_name, key_id, recorded_by, recorded_at, withdrawn_on, \
                     withdrawn_by, withdrawn_at) ",
                );
                q.push_values(part, |mut b, r| {
                    b.push_bind(r.id)
                        .push_bind(r.person)
                        .push_bind(r.case)
                        .push_bind("STATISTICAL_USE")
                        .push_bind(None::<String>)
                        .push_bind(r.given_on)
                        .push_bind(r.expires_on)
                        .push_bind(&r.record)
                        .push_bind(None::<String>)
                        .push_bind("k1")
                        .push_bind(None::<Uuid>)
                        .push_bind(now)
                        .push_bind(r.withdrawn_on)
                        .push_bind(None::<Uuid>)
                        .push_bind(None::<DateTime<Utc>>);
                });
                q.build().execute(&mut *tx).await?;
            }
            for part in c.referrals.chunks(1000) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO referrals (id, direction, peer, org_id, case_id, sender_org, sender_org_name, \
                     sender_reference, reason, urgency, needs, field_groups, state, key_id, created_at, \
                     updated_at, version) ",
                );
                q.push_values(part, |mut b, r| {
                    b.push_bind(r.id)
                        .push_bind(r.direction)
                        .push_bind(r.peer)
                        .push_bind(org)
                        .push_bind(r.case)
                        .push_bind("BENCH")
                        .push_bind("Bench")
                        .push_bind(&r.reference)
                        .push_bind("bench")
                        .push_bind("NORMAL")
                        .push_bind("[]")
                        .push_bind("[]")
                        .push_bind(r.state)
                        .push_bind("k1")
                        .push_bind(r.created_at)
                        .push_bind(r.created_at)
                        .push_bind(1_i32);
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        }
    };
}

seeder!(seed_sqlite, sqlx::Sqlite);
seeder!(seed_pg, sqlx::Postgres);

/// The baseline on SQLite: distinct consented persons with a case in the period, grouped
/// directly in SQL over the JSON columns (`json_extract`).
const BASELINE_SQLITE: [&str; 3] = [
    // T01-like: sex × child/adult × first form of exploitation.
    "SELECT json_extract(p.profile, '$.gender') AS a, \
       CASE WHEN json_extract(c.record, '$.process.age_when_trafficked') IS NULL THEN 'UNKNOWN' \
            WHEN json_extract(c.record, '$.process.age_when_trafficked') < 18 THEN 'CHILD' ELSE 'ADULT' END AS b, \
       json_extract(c.record, '$.process.exploitation_types[0]') AS f, COUNT(DISTINCT p.id) AS n \
     FROM cases c JOIN persons p ON p.id = c.person_id \
     WHERE COALESCE(json_extract(c.record, '$.identification_date'), json_extract(c.record, '$.registration_date')) BETWEEN $1 AND $2 \
       AND EXISTS (SELECT 1 FROM consents s WHERE s.person_id = p.id AND s.scope = 'STATISTICAL_USE' \
         AND s.given_on <= $2 AND (s.expires_on IS NULL OR s.expires_on >= $2) AND (s.withdrawn_on IS NULL OR s.withdrawn_on > $2)) \
     GROUP BY 1, 2, 3",
    // T02-like: sex × CTDC age band.
    "SELECT json_extract(p.profile, '$.gender') AS a, \
       CASE WHEN json_extract(c.record, '$.process.age_when_trafficked') IS NULL THEN 'UNKNOWN' \
            WHEN json_extract(c.record, '$.process.age_when_trafficked') <= 8 THEN '0-8' \
            WHEN json_extract(c.record, '$.process.age_when_trafficked') <= 17 THEN '9-17' \
            WHEN json_extract(c.record, '$.process.age_when_trafficked') <= 20 THEN '18-20' \
            WHEN json_extract(c.record, '$.process.age_when_trafficked') <= 23 THEN '21-23' \
            WHEN json_extract(c.record, '$.process.age_when_trafficked') <= 26 THEN '24-26' \
            WHEN json_extract(c.record, '$.process.age_when_trafficked') <= 29 THEN '27-29' \
            WHEN json_extract(c.record, '$.process.age_when_trafficked') <= 38 THEN '30-38' \
            WHEN json_extract(c.record, '$.process.age_when_trafficked') <= 47 THEN '39-47' ELSE '48+' END AS b, \
       '' AS f, COUNT(DISTINCT p.id) AS n \
     FROM cases c JOIN persons p ON p.id = c.person_id \
     WHERE COALESCE(json_extract(c.record, '$.identification_date'), json_extract(c.record, '$.registration_date')) BETWEEN $1 AND $2 \
       AND EXISTS (SELECT 1 FROM consents s WHERE s.person_id = p.id AND s.scope = 'STATISTICAL_USE' \
         AND s.given_on <= $2 AND (s.expires_on IS NULL OR s.expires_on >= $2) AND (s.withdrawn_on IS NULL OR s.withdrawn_on > $2)) \
     GROUP BY 1, 2",
    // T07-like: trafficking status × intake channel.
    "SELECT COALESCE(json_extract(c.record, '$.trafficking_status'), 'NOT_DECIDED') AS a, \
       json_extract(c.record, '$.intake_channel') AS b, '' AS f, COUNT(DISTINCT c.person_id) AS n \
     FROM cases c \
     WHERE COALESCE(json_extract(c.record, '$.identification_date'), json_extract(c.record, '$.registration_date')) BETWEEN $1 AND $2 \
       AND EXISTS (SELECT 1 FROM consents s WHERE s.person_id = c.person_id AND s.scope = 'STATISTICAL_USE' \
         AND s.given_on <= $2 AND (s.expires_on IS NULL OR s.expires_on >= $2) AND (s.withdrawn_on IS NULL OR s.withdrawn_on > $2)) \
     GROUP BY 1, 2",
];

/// The same on PostgreSQL (`->>` over the text columns cast to `jsonb`).
const BASELINE_PG: [&str; 3] = [
    "SELECT j.p ->> 'gender' AS a, \
       CASE WHEN j.r -> 'process' ->> 'age_when_trafficked' IS NULL THEN 'UNKNOWN' \
            WHEN (j.r -> 'process' ->> 'age_when_trafficked')::int < 18 THEN 'CHILD' ELSE 'ADULT' END AS b, \
       j.r -> 'process' -> 'exploitation_types' ->> 0 AS f, COUNT(DISTINCT p.id) AS n \
     FROM cases c JOIN persons p ON p.id = c.person_id \
     CROSS JOIN LATERAL (SELECT c.record::jsonb AS r, p.profile::jsonb AS p) j \
     WHERE COALESCE(j.r ->> 'identification_date', j.r ->> 'registration_date')::date BETWEEN $1 AND $2 \
       AND EXISTS (SELECT 1 FROM consents s WHERE s.person_id = p.id AND s.scope = 'STATISTICAL_USE' \
         AND s.given_on <= $2 AND (s.expires_on IS NULL OR s.expires_on >= $2) AND (s.withdrawn_on IS NULL OR s.withdrawn_on > $2)) \
     GROUP BY 1, 2, 3",
    "SELECT j.p ->> 'gender' AS a, \
       CASE WHEN j.age IS NULL THEN 'UNKNOWN' WHEN j.age <= 8 THEN '0-8' WHEN j.age <= 17 THEN '9-17' \
            WHEN j.age <= 20 THEN '18-20' WHEN j.age <= 23 THEN '21-23' WHEN j.age <= 26 THEN '24-26' \
            WHEN j.age <= 29 THEN '27-29' WHEN j.age <= 38 THEN '30-38' WHEN j.age <= 47 THEN '39-47' \
            ELSE '48+' END AS b, \
       '' AS f, COUNT(DISTINCT p.id) AS n \
     FROM cases c JOIN persons p ON p.id = c.person_id \
     CROSS JOIN LATERAL (SELECT c.record::jsonb AS r, p.profile::jsonb AS p, \
       (c.record::jsonb -> 'process' ->> 'age_when_trafficked')::int AS age) j \
     WHERE COALESCE(j.r ->> 'identification_date', j.r ->> 'registration_date')::date BETWEEN $1 AND $2 \
       AND EXISTS (SELECT 1 FROM consents s WHERE s.person_id = p.id AND s.scope = 'STATISTICAL_USE' \
         AND s.given_on <= $2 AND (s.expires_on IS NULL OR s.expires_on >= $2) AND (s.withdrawn_on IS NULL OR s.withdrawn_on > $2)) \
     GROUP BY 1, 2",
    "SELECT COALESCE(j.r ->> 'trafficking_status', 'NOT_DECIDED') AS a, j.r ->> 'intake_channel' AS b, \
       '' AS f, COUNT(DISTINCT c.person_id) AS n \
     FROM cases c CROSS JOIN LATERAL (SELECT c.record::jsonb AS r) j \
     WHERE COALESCE(j.r ->> 'identification_date', j.r ->> 'registration_date')::date BETWEEN $1 AND $2 \
       AND EXISTS (SELECT 1 FROM consents s WHERE s.person_id = c.person_id AND s.scope = 'STATISTICAL_USE' \
         AND s.given_on <= $2 AND (s.expires_on IS NULL OR s.expires_on >= $2) AND (s.withdrawn_on IS NULL OR s.withdrawn_on > $2)) \
     GROUP BY 1, 2",
];

/// Runs the baseline queries; returns the T01-like grand total.
macro_rules! baseline {
    ($name:ident, $db:ty, $sql:expr) => {
        async fn $name(pool: &sqlx::Pool<$db>) -> anyhow::Result<i64> {
            let (start, end) = super::period_bounds(PERIOD);
            let mut first = None;
            for sql in $sql {
                let rows: Vec<(Option<String>, Option<String>, Option<String>, i64)> =
                    sqlx::query_as(sql)
                        .bind(start)
                        .bind(end)
                        .fetch_all(pool)
                        .await
                        .context("baseline query")?;
                first.get_or_insert(rows.iter().map(|r| r.3).sum::<i64>());
            }
            Ok(first.unwrap_or(0))
        }
    };
}

baseline!(baseline_sqlite, sqlx::Sqlite, BASELINE_SQLITE);
baseline!(baseline_pg, sqlx::Postgres, BASELINE_PG);

fn rss_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Samples `VmRSS` in a thread until dropped; [`RssSampler::peak_above_start_mib`] is the
/// highest sample above the first.
struct RssSampler {
    start: u64,
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    fn start() -> Self {
        let start = rss_kib("VmRSS:").unwrap_or(0);
        let peak = Arc::new(AtomicU64::new(start));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some(v) = rss_kib("VmRSS:") {
                    p.fetch_max(v, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        RssSampler {
            start,
            peak,
            stop,
            thread: Some(thread),
        }
    }

    fn peak_above_start_mib(mut self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(v) = rss_kib("VmRSS:") {
            self.peak.fetch_max(v, Ordering::Relaxed);
        }
        self.peak.load(Ordering::Relaxed).saturating_sub(self.start) as f64 / 1024.0
    }
}

enum Db {
    Lite(SqliteStore),
    Pg(PgStore),
}

impl Db {
    fn store(&self) -> &dyn Store {
        match self {
            Db::Lite(s) => s,
            Db::Pg(s) => s,
        }
    }
}

/// Seeds `n` persons into a fresh database at `url` and measures one size.
pub async fn measure(url: &str, n: usize, quiet: bool) -> anyhow::Result<StatsFigures> {
    let (db, seed_secs, cases) = seed(url, n, quiet).await?;

    // The release: compute + protect (with the joint check).
    let protection = Protection::default();
    let sampler = RssSampler::start();
    let started = Instant::now();
    let t = super::compute(db.store(), PERIOD, None, protection.k)
        .await
        .map_err(|e| anyhow::anyhow!("compute: {e}"))?;
    let compute_secs = started.elapsed().as_secs_f64();
    let r =
        super::protect_all(&t, None, &protection).map_err(|e| anyhow::anyhow!("protect: {e}"))?;
    let release_secs = started.elapsed().as_secs_f64();
    let peak_mib = sampler.peak_above_start_mib();
    drop(r);

    // The baseline, same run, same database.
    let started = Instant::now();
    let baseline_total = match &db {
        Db::Lite(s) => baseline_sqlite(s.pool()).await?,
        Db::Pg(s) => baseline_pg(s.pool()).await?,
    };
    let baseline_secs = started.elapsed().as_secs_f64();
    db.store().close().await;
    Ok(StatsFigures {
        persons: n,
        cases,
        seed_secs,
        counted: t.persons,
        release_secs,
        compute_secs,
        protect_secs: release_secs - compute_secs,
        peak_mib,
        baseline_secs,
        baseline_total,
    })
}

/// The true tables of [`PERIOD`] for `n` generated persons, in a fresh SQLite database
/// at `url` (the shapes and proportions of a real release, for the hub benchmark).
pub async fn sample_tables(url: &str, n: usize) -> anyhow::Result<super::TrueTables> {
    let (db, _, _) = seed(url, n, true).await?;
    let t = super::compute(db.store(), PERIOD, None, Protection::default().k)
        .await
        .map_err(|e| anyhow::anyhow!("compute: {e}"))?;
    db.store().close().await;
    Ok(t)
}

/// A fresh database at `url` holding `n` generated persons and their cases: the database,
/// the seeding time and the number of cases.
async fn seed(url: &str, n: usize, quiet: bool) -> anyhow::Result<(Db, f64, usize)> {
    let db = if url.starts_with("sqlite:") {
        Db::Lite(SqliteStore::connect(url).await?)
    } else {
        Db::Pg(PgStore::connect(url).await?)
    };
    db.store().migrate().await?;
    let org = Uuid::now_v7();
    let now = crate::clock::Clock::now(&crate::clock::SystemClock);
    let org_sql = "INSERT INTO orgs (id, code, name, org_type, active, created_at, updated_at) \
                   VALUES ($1, 'BENCH', 'Bench', 'NGO', $2, $3, $3)";
    match &db {
        Db::Lite(s) => {
            sqlx::query(org_sql)
                .bind(org)
                .bind(true)
                .bind(now)
                .execute(s.pool())
                .await?;
        }
        Db::Pg(s) => {
            sqlx::query(org_sql)
                .bind(org)
                .bind(true)
                .bind(now)
                .execute(s.pool())
                .await?;
        }
    }
    // Seeding: generated and inserted chunk by chunk (memory stays small).
    let started = Instant::now();
    let mut g = Gen(0x5055_454E_5445);
    let mut seq = 0;
    let mut i = 0;
    while i < n {
        let to = (i + 5000).min(n);
        let c = chunk(&mut g, i, to, &mut seq);
        match &db {
            Db::Lite(s) => seed_sqlite(s.pool(), org, &c, now).await?,
            Db::Pg(s) => seed_pg(s.pool(), org, &c, now).await?,
        }
        i = to;
        if !quiet && i % 100_000 == 0 && i < n {
            println!(
                "  seeded {i} persons ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    if let Db::Pg(s) = &db {
        sqlx::query("VACUUM ANALYZE").execute(s.pool()).await?;
    }
    let seed_secs = started.elapsed().as_secs_f64();
    Ok((db, seed_secs, seq as usize))
}

/// A fresh database on the PostgreSQL server of `base` (a URL with a database name): its URL
/// and name.
pub(crate) async fn fresh_pg(base: &str) -> anyhow::Result<(String, String)> {
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
    Ok((format!("{prefix}/{name}"), name))
}

/// Drops a database made by [`fresh_pg`] (best effort).
pub(crate) async fn drop_pg(base: &str, name: &str) {
    use sqlx::Executor;
    if let Ok(admin) = sqlx::PgPool::connect(base).await {
        let _ = admin
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await;
    }
}

/// Runs the statistics benchmark and prints its figures.
pub async fn run(opts: StatsBenchOptions) -> anyhow::Result<()> {
    let backend = if opts.database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite (WAL)"
    };
    println!(
        "Puente statistics benchmark — {backend}; one quarter ({}), k = 5, no rounding, no DP",
        PERIOD
    );
    let mut rows = Vec::new();
    for &n in &opts.persons {
        let dir = std::env::temp_dir().join(format!("puente-bench-{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir)?;
        let (url, cleanup) = match &opts.database_url {
            None => (format!("sqlite://{}", dir.join("stats.db").display()), None),
            Some(base) => {
                let (url, name) = fresh_pg(base).await?;
                (url, Some((base.clone(), name)))
            }
        };
        let result = measure(&url, n, false).await;
        if let Some((base, name)) = cleanup {
            drop_pg(&base, &name).await;
        }
        let _ = std::fs::remove_dir_all(&dir);
        let f = result?;
        println!(
            "{:>9} persons, {:>9} cases: seeded in {:.1} s (not measured); {} persons counted \
             (baseline T01-like total {})",
            f.persons, f.cases, f.seed_secs, f.counted, f.baseline_total
        );
        rows.push(f);
    }
    println!();
    println!(
        "{:>9}  {:>10}  {:>10}  {:>10}  {:>10}  {:>11}  {:>12}  {:>7}",
        "persons",
        "compute s",
        "protect s",
        "release s",
        "peak MiB",
        "GROUP BY s",
        "ratio",
        "counted"
    );
    for f in &rows {
        println!(
            "{:>9}  {:>10.2}  {:>10.3}  {:>10.2}  {:>10.0}  {:>11.2}  {:>12.2}  {:>7}",
            f.persons,
            f.compute_secs,
            f.protect_secs,
            f.release_secs,
            f.peak_mib,
            f.baseline_secs,
            f.release_secs / f.baseline_secs.max(1e-9),
            f.counted
        );
    }
    println!(
        "release = compute + protect (all tables, joint check); peak = VmRSS above the start of \
         the release, sampled every 2 ms; GROUP BY = three plain SQL queries (T01-, T02-, T07-like \
         counts of distinct consented persons) over the same JSON columns; ratio = release / GROUP BY."
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bench_runs_on_a_tiny_node() {
        let dir = std::env::temp_dir().join(format!("puente-sbench-{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("s.db").display());
        let f = measure(&url, 500, true).await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(f.cases >= 500);
        assert!(f.counted > 300 && f.counted < 500, "{f:?}");
        // The baseline counts the same consented persons with a case in the period (a person
        // whose two cases in the period differ is in two of its groups).
        let b = f.baseline_total as u64;
        assert!(b >= f.counted && b <= f.counted + f.counted / 10, "{f:?}");
    }
}
