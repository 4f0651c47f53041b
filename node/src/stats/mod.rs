//! National statistics: the tables T01–T08 of PRIVACY.md ("Aggregate releases: disclosure
//! control") for one closed period, for the whole node or one organisation, each protected
//! with [`puente_common::stats::protect`] under the node's `[stats]` configuration.
//!
//! # What is counted (rules 1, 2 and 8)
//! - **The unit is the person** (rule 1): a person (a `persons` row) is in the period when one
//!   of their cases has its identification date (else its registration date) in the period,
//!   and counts once per single-valued table however many cases they have. Persons are
//!   de-duplicated within the node's registry; two registrations of the same human in two
//!   organisations cannot be matched without opening sealed identity, which this module never
//!   does.
//! - **Consent** (rule 2): only persons with a `STATISTICAL_USE` consent given on or before the
//!   period's last day, not expired before it and not withdrawn on or before it. A consent
//!   given by `LEGAL_BASIS` is the recorded legal basis and counts the same.
//! - **Which case**: the facts of the person's cases *in the period* are combined: the forms of
//!   exploitation are the union over those cases; the single-valued case facts (trafficking
//!   status, intake channel, recruiter relation, age when trafficked, country of exploitation,
//!   forced-labour industry) come from the latest of them (by identification, else
//!   registration date; ties by the later record).
//! - **Age** is the coded `age_when_trafficked` of that case (the birth date is sealed and is
//!   not opened for statistics); without it the person is in the `UNKNOWN` age category.
//! - **Sex** is the GLOTIP sex: gender-diverse codes merged into other/unknown (rule 8); T02's
//!   CTDC gender uses the same three categories.
//! - **T03**: the citizenship counted is the person's citizenship equal to the country of
//!   exploitation when they have it, else the first (alphabetical); a citizenship or country
//!   of exploitation held by fewer than k persons in the table is merged into its UN M49
//!   sub-region (`M49:<SUB_REGION>`), and a sub-region still under k into `OTHER` (rule 8).
//!   `T03F` is the flow reach (domestic, sub-regional, regional, trans-regional).
//! - **T04 is multi-valued**: a person counts once in every (exploitation flag, means of
//!   control) pair that applies to them (flags from the CTDC flags of their forms; no means
//!   recorded: `NOT_RECORDED`; no flag: not counted). Its totals are therefore counts of
//!   mentions, not of persons; the page says so.
//! - **T05** counts the persons with the forced-labour flag, by the ISIC section of the
//!   recorded industry (`UNKNOWN` without one) and GLOTIP sex; only sections present appear.
//! - **T08 counts referrals, not persons** (the referral row holds no victim data in the clear):
//!   `SENT` = referrals sent by this node (or the organisation) and actually sent (not awaiting
//!   approval, not cancelled), `RECEIVED` = referrals received, `ACCEPTED` = those of either
//!   direction the receiving side accepted (state `accepted` or `closed`), by partner country
//!   and the date the row was created (UTC).

pub mod bench;
pub mod cli;
pub mod linked;
pub mod pages;
pub mod release_pages;
pub mod releases;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use puente_common::case::{CaseRecord, PersonRecord};
use puente_common::derive;
use puente_common::stats::{protect, Dimension, Period, ProtectedTable, Protection, Table};
use puente_common::vocab::codes::{
    ControlMethod, CtdcAgeBand, FlowReach, GlotipAgeBand, GlotipForm, GlotipSex, IntakeChannel,
    RecruiterRelation, TraffickingStatus,
};
use puente_common::vocab::{geo, isic, Coded};
use puente_common::CountryCode;
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::store::Store;

/// The category of a missing value.
pub const UNKNOWN: &str = "UNKNOWN";
/// T03: a merged rare category that fits no sub-region.
pub const OTHER: &str = "OTHER";
/// T04: no means of control recorded.
pub const NOT_RECORDED: &str = "NOT_RECORDED";
/// T07: no trafficking status decided.
pub const NOT_DECIDED: &str = "NOT_DECIDED";
/// Prefix of a merged M49 sub-region in T03.
pub const M49_PREFIX: &str = "M49:";

/// Rows read per query: the cases and profiles are read page by page, and only a few codes
/// per person in the period are kept.
const PAGE: i64 = 2000;

/// The table ids, in publication order.
pub const TABLE_IDS: [&str; 9] = [
    "T01", "T02", "T03", "T03F", "T04", "T05", "T06", "T07", "T08",
];

/// The first and last day of a period.
pub fn period_bounds(p: Period) -> (NaiveDate, NaiveDate) {
    let (y, m0, months) = match p {
        Period::Year(y) => (y, 1u32, 12u32),
        Period::Quarter(y, q) => (y, (u32::from(q) - 1) * 3 + 1, 3),
        Period::Month(y, m) => (y, u32::from(m), 1),
    };
    let y = i32::from(y);
    let start = NaiveDate::from_ymd_opt(y, m0, 1).unwrap_or(NaiveDate::MIN);
    let (ny, nm) = if m0 + months > 12 {
        (y + 1, m0 + months - 12)
    } else {
        (y, m0 + months)
    };
    let end = NaiveDate::from_ymd_opt(ny, nm, 1)
        .and_then(|d| d.pred_opt())
        .unwrap_or(NaiveDate::MAX);
    (start, end)
}

/// Whether the period ended before `today`.
pub fn is_closed(p: Period, today: NaiveDate) -> bool {
    period_bounds(p).1 < today
}

/// The last closed period of a kind (`year`, `quarter`, `month`) on `today`.
pub fn last_closed(kind: &str, today: NaiveDate) -> Period {
    let y = u16::try_from(today.year()).unwrap_or(2000);
    match kind {
        "year" => Period::Year(y - 1),
        "month" => {
            if today.month() == 1 {
                Period::Month(y - 1, 12)
            } else {
                Period::Month(y, u8::try_from(today.month() - 1).unwrap_or(1))
            }
        }
        _ => {
            let q = u8::try_from((today.month() - 1) / 3 + 1).unwrap_or(1);
            if q == 1 {
                Period::Quarter(y - 1, 4)
            } else {
                Period::Quarter(y, q - 1)
            }
        }
    }
}

/// The kind of a period (`year`, `quarter`, `month`).
pub fn period_kind(p: Period) -> &'static str {
    match p {
        Period::Year(_) => "year",
        Period::Quarter(..) => "quarter",
        Period::Month(..) => "month",
    }
}

/// The true tables of one period, and the number of persons counted.
#[derive(Debug, Clone)]
pub struct TrueTables {
    pub period: Period,
    pub persons: u64,
    pub tables: Vec<Table>,
}

/// The protected tables of one period.
#[derive(Debug, Clone)]
pub struct Release {
    pub period: Period,
    pub org: Option<Uuid>,
    /// Persons counted: T01's protected grand total (`None` when suppressed).
    pub persons: Option<u64>,
    /// Tables withheld for the period because, with the other tables, they would reveal a
    /// suppressed value ([`linked`]).
    pub withheld: Vec<String>,
    pub tables: Vec<ProtectedTable>,
    pub protection: Protection,
}

/// What one person contributes (small: codes only).
#[derive(Debug, Clone)]
struct PersonFacts {
    sex: GlotipSex,
    citizenship: Option<CountryCode>,
    age: Option<u32>,
    exploitation: BTreeSet<puente_common::vocab::codes::ExploitationType>,
    control: BTreeSet<ControlMethod>,
    latest: (
        NaiveDate,
        Option<TraffickingStatus>,
        IntakeChannel,
        Option<RecruiterRelation>,
    ),
    exploitation_country: Option<CountryCode>,
    industry: Option<char>,
}

struct CaseFacts {
    date: NaiveDate,
    status: Option<TraffickingStatus>,
    channel: IntakeChannel,
    relation: Option<RecruiterRelation>,
    age: Option<u32>,
    country: Option<CountryCode>,
    industry: Option<char>,
    exploitation: BTreeSet<puente_common::vocab::codes::ExploitationType>,
    control: BTreeSet<ControlMethod>,
}

fn case_facts(c: &CaseRecord) -> CaseFacts {
    CaseFacts {
        date: c.identification_date.unwrap_or(c.registration_date),
        status: c.trafficking_status,
        channel: c.intake_channel,
        relation: c.process.recruiter_relation,
        age: c.process.age_when_trafficked,
        country: c.process.country_of_exploitation,
        industry: c
            .process
            .forced_labour_industry
            .as_deref()
            .and_then(isic::isic_section)
            .map(|s| s.code),
        exploitation: c.process.exploitation_types.clone(),
        control: c.process.control_methods.clone(),
    }
}

fn codes<T: Coded>() -> Vec<String> {
    T::ALL.iter().map(|c| c.code().to_owned()).collect()
}

fn dim(name: &str, categories: Vec<String>) -> Dimension {
    Dimension {
        name: name.to_owned(),
        categories,
    }
}

fn with(mut v: Vec<String>, extra: &str) -> Vec<String> {
    v.push(extra.to_owned());
    v
}

fn pos(cats: &[String], code: &str) -> usize {
    cats.iter().position(|c| c == code).unwrap_or(0)
}

/// A dense table being filled.
struct Builder {
    id: &'static str,
    dims: Vec<Dimension>,
    counts: Vec<u64>,
}

impl Builder {
    fn new(id: &'static str, dims: Vec<Dimension>) -> Self {
        let n = dims.iter().map(|d| d.categories.len()).product();
        Builder {
            id,
            dims,
            counts: vec![0; n],
        }
    }
    fn add(&mut self, codes: &[&str]) {
        let mut idx = 0;
        for (d, c) in self.dims.iter().zip(codes) {
            idx = idx * d.categories.len() + pos(&d.categories, c);
        }
        self.counts[idx] += 1;
    }
    fn build(self) -> AppResult<Table> {
        Table::new(self.id, self.dims, self.counts)
            .map_err(|e| AppError::internal(format!("statistics table: {e}")))
    }
}

fn age_code(age: Option<u32>) -> &'static str {
    age.map_or(UNKNOWN, |a| derive::glotip_age_band(a).code())
}

/// Merges codes held by fewer than `k` persons into their M49 sub-region, then sub-regions
/// still under `k` into `OTHER` (rule 8). Returns the category of every code.
fn merge_rare(counts: &BTreeMap<String, u64>, k: u64) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut sub: BTreeMap<String, u64> = BTreeMap::new();
    for (code, n) in counts {
        if code == UNKNOWN || *n >= k {
            out.insert(code.clone(), code.clone());
            continue;
        }
        let region = code
            .parse::<CountryCode>()
            .ok()
            .and_then(geo::country)
            .and_then(|c| c.m49_subregion)
            .map_or_else(|| OTHER.to_owned(), |s| format!("{M49_PREFIX}{}", s.code()));
        *sub.entry(region.clone()).or_default() += n;
        out.insert(code.clone(), region);
    }
    for v in out.values_mut() {
        if v.starts_with(M49_PREFIX) && sub.get(v.as_str()).copied().unwrap_or(0) < k {
            *v = OTHER.to_owned();
        }
    }
    out
}

fn ordered(cats: BTreeSet<String>) -> Vec<String> {
    // Countries, then sub-regions, then OTHER, then UNKNOWN.
    let mut v: Vec<String> = cats.into_iter().collect();
    v.sort_by_key(|c| {
        (
            if c == UNKNOWN {
                3
            } else if c == OTHER {
                2
            } else if c.starts_with(M49_PREFIX) {
                1
            } else {
                0
            },
            c.clone(),
        )
    });
    v
}

/// Computes the true tables of `period` (for `org`, or the whole node). `k` only decides
/// which rare citizenships and countries are merged (rule 8).
pub async fn compute(
    store: &dyn Store,
    period: Period,
    org: Option<Uuid>,
    k: u32,
) -> AppResult<TrueTables> {
    compute_paged(store, period, org, k, PAGE).await
}

/// [`compute`], reading `page` rows per query (tests use a tiny page).
pub async fn compute_paged(
    store: &dyn Store,
    period: Period,
    org: Option<Uuid>,
    k: u32,
    page_size: i64,
) -> AppResult<TrueTables> {
    let (start, end) = period_bounds(period);
    // Persons with a statistical-use consent in force at the period's end.
    let consented: BTreeSet<Uuid> = store
        .stats_consents(org)
        .await?
        .into_iter()
        .filter(|c| {
            c.given_on <= end
                && c.expires_on.is_none_or(|e| e >= end)
                && c.withdrawn_on.is_none_or(|w| w > end)
        })
        .map(|c| c.person_id)
        .collect();
    // Their cases in the period, folded per person as they are read.
    let mut facts: HashMap<Uuid, PersonFacts> = HashMap::new();
    let mut after = None;
    loop {
        let page = store.stats_cases(org, after, page_size).await?;
        let full = page.len() as i64 == page_size;
        after = page.last().map(|r| r.0);
        for (_, person, record) in page {
            if !consented.contains(&person) {
                continue;
            }
            let Ok(rec) = serde_json::from_str::<CaseRecord>(&record) else {
                continue;
            };
            let cf = case_facts(&rec);
            drop(rec);
            if cf.date < start || cf.date > end {
                continue;
            }
            let e = facts.entry(person).or_insert_with(|| PersonFacts {
                sex: GlotipSex::OtherUnknown,
                citizenship: None,
                age: None,
                exploitation: BTreeSet::new(),
                control: BTreeSet::new(),
                latest: (NaiveDate::MIN, None, cf.channel, None),
                exploitation_country: None,
                industry: None,
            });
            e.exploitation.extend(cf.exploitation.iter().copied());
            e.control.extend(cf.control.iter().copied());
            if cf.date >= e.latest.0 {
                e.latest = (cf.date, cf.status, cf.channel, cf.relation);
                e.age = cf.age;
                e.exploitation_country = cf.country;
                e.industry = cf.industry;
            }
        }
        if !full {
            break;
        }
    }
    let mut after = None;
    loop {
        let page = store.stats_profiles(org, after, page_size).await?;
        let full = page.len() as i64 == page_size;
        after = page.last().map(|r| r.0);
        for (id, profile) in page {
            let Some(f) = facts.get_mut(&id) else {
                continue;
            };
            let Ok(p) = serde_json::from_str::<PersonRecord>(&profile) else {
                continue;
            };
            f.sex = derive::glotip_sex(p.gender);
            f.citizenship = match f.exploitation_country {
                Some(c) if p.citizenship.contains(&c) => Some(c),
                _ => p.citizenship.iter().next().copied(),
            };
        }
        if !full {
            break;
        }
    }
    let persons: Vec<PersonFacts> = facts.into_values().collect();

    // T01 sex × age × form.
    let sex = codes::<GlotipSex>();
    let age = with(codes::<GlotipAgeBand>(), UNKNOWN);
    let mut t01 = Builder::new(
        "T01",
        vec![
            dim("glotip_sex", sex.clone()),
            dim("glotip_age_band", age.clone()),
            dim("glotip_form", codes::<GlotipForm>()),
        ],
    );
    let mut t02 = Builder::new(
        "T02",
        vec![
            dim("glotip_sex", sex.clone()),
            dim("ctdc_age_band", with(codes::<CtdcAgeBand>(), UNKNOWN)),
        ],
    );
    let flags: Vec<String> = ["FORCED_LABOUR", "SEXUAL_EXPLOITATION", "OTHER_EXPLOITATION"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let mut t04 = Builder::new(
        "T04",
        vec![
            dim("exploitation_flag", flags.clone()),
            dim(
                "control_method",
                with(codes::<ControlMethod>(), NOT_RECORDED),
            ),
        ],
    );
    let mut t06 = Builder::new(
        "T06",
        vec![
            dim("recruiter_relation", codes::<RecruiterRelation>()),
            dim("glotip_age_band", age.clone()),
        ],
    );
    let mut t07 = Builder::new(
        "T07",
        vec![
            dim(
                "trafficking_status",
                with(codes::<TraffickingStatus>(), NOT_DECIDED),
            ),
            dim("intake_channel", codes::<IntakeChannel>()),
        ],
    );
    let mut t03f = Builder::new(
        "T03F",
        vec![dim("flow_reach", with(codes::<FlowReach>(), UNKNOWN))],
    );
    let mut cit_n: BTreeMap<String, u64> = BTreeMap::new();
    let mut exp_n: BTreeMap<String, u64> = BTreeMap::new();
    let mut ind: BTreeSet<String> = BTreeSet::new();
    for p in &persons {
        let a = age_code(p.age);
        let form = derive::glotip_form(&p.exploitation);
        t01.add(&[p.sex.code(), a, form.code()]);
        let ctdc = p.age.map_or(UNKNOWN, |x| derive::ctdc_age_band(x).code());
        t02.add(&[p.sex.code(), ctdc]);
        let (labour, sexual, other) = derive::ctdc_flags(&p.exploitation);
        for (on, flag) in [(labour, &flags[0]), (sexual, &flags[1]), (other, &flags[2])] {
            if !on {
                continue;
            }
            if p.control.is_empty() {
                t04.add(&[flag, NOT_RECORDED]);
            }
            for m in &p.control {
                t04.add(&[flag, m.code()]);
            }
        }
        let rel = p
            .latest
            .3
            .map_or(RecruiterRelation::Unknown.code(), |r| r.code());
        t06.add(&[rel, a]);
        let status = p.latest.1.map_or(NOT_DECIDED, |s| s.code());
        t07.add(&[status, p.latest.2.code()]);
        let reach = match (p.citizenship, p.exploitation_country) {
            (Some(c), Some(e)) => derive::flow_reach(c, e).map_or(UNKNOWN, |r| r.code()),
            _ => UNKNOWN,
        };
        t03f.add(&[reach]);
        *cit_n.entry(country_code(p.citizenship)).or_default() += 1;
        *exp_n
            .entry(country_code(p.exploitation_country))
            .or_default() += 1;
        if labour {
            ind.insert(industry_code(p.industry));
        }
    }
    // T03 with rare categories merged.
    let cit_map = merge_rare(&cit_n, u64::from(k));
    let exp_map = merge_rare(&exp_n, u64::from(k));
    let mut t03 = Builder::new(
        "T03",
        vec![
            dim("citizenship", ordered(cit_map.values().cloned().collect())),
            dim(
                "country_of_exploitation",
                ordered(exp_map.values().cloned().collect()),
            ),
        ],
    );
    if persons.is_empty() {
        t03 = Builder::new(
            "T03",
            vec![
                dim("citizenship", vec![UNKNOWN.to_owned()]),
                dim("country_of_exploitation", vec![UNKNOWN.to_owned()]),
            ],
        );
    }
    // T05 industry × sex.
    let mut ind: Vec<String> = ind.into_iter().collect();
    ind.sort_by_key(|c| (c == UNKNOWN, c.clone()));
    if ind.is_empty() {
        ind.push(UNKNOWN.to_owned());
    }
    let mut t05 = Builder::new(
        "T05",
        vec![dim("isic_section", ind), dim("glotip_sex", sex.clone())],
    );
    for p in &persons {
        let c = &cit_map[&country_code(p.citizenship)];
        let e = &exp_map[&country_code(p.exploitation_country)];
        t03.add(&[c, e]);
        if derive::ctdc_flags(&p.exploitation).0 {
            t05.add(&[&industry_code(p.industry), p.sex.code()]);
        }
    }
    // T08 referrals × partner country.
    let mut peers: BTreeSet<String> = BTreeSet::new();
    let mut refs: Vec<(&'static str, String)> = Vec::new();
    for r in store.stats_referrals(org).await? {
        let day = r.created_at.date_naive();
        if day < start || day > end {
            continue;
        }
        let dir = match (r.direction.as_str(), r.state.as_str()) {
            ("out", "awaiting_approval" | "cancelled") => continue,
            ("out", _) => "SENT",
            _ => "RECEIVED",
        };
        peers.insert(r.peer.clone());
        refs.push((dir, r.peer.clone()));
        if matches!(r.state.as_str(), "accepted" | "closed") {
            refs.push(("ACCEPTED", r.peer));
        }
    }
    let mut peers: Vec<String> = peers.into_iter().collect();
    if peers.is_empty() {
        peers.push(UNKNOWN.to_owned());
    }
    let mut t08 = Builder::new(
        "T08",
        vec![
            dim(
                "referral_flow",
                ["SENT", "RECEIVED", "ACCEPTED"]
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect(),
            ),
            dim("partner_country", peers),
        ],
    );
    for (d, p) in &refs {
        t08.add(&[d, p]);
    }
    Ok(TrueTables {
        period,
        persons: persons.len() as u64,
        tables: vec![
            t01.build()?,
            t02.build()?,
            t03.build()?,
            t03f.build()?,
            t04.build()?,
            t05.build()?,
            t06.build()?,
            t07.build()?,
            t08.build()?,
        ],
    })
}

fn country_code(c: Option<CountryCode>) -> String {
    c.map_or_else(|| UNKNOWN.to_owned(), |c| c.as_str().to_owned())
}

fn industry_code(c: Option<char>) -> String {
    c.map_or_else(|| UNKNOWN.to_owned(), |c| c.to_string())
}

/// Protects every table of `t` (OS randomness, used only in DP mode).
pub fn protect_all(
    t: &TrueTables,
    org: Option<Uuid>,
    protection: &Protection,
) -> AppResult<Release> {
    let mut tables = Vec::with_capacity(t.tables.len());
    for table in &t.tables {
        let p = protect(table, protection, &mut rand::rngs::OsRng)
            .map_err(|e| AppError::internal(format!("protecting {}: {e}", table.id)))?;
        tables.push(p);
    }
    let withheld = linked::secure(&mut tables)?;
    // The persons counted are T01's grand total, protected with it.
    let persons = tables.first().and_then(|t| t.total.count());
    Ok(Release {
        period: t.period,
        org,
        persons,
        withheld,
        tables,
        protection: protection.clone(),
    })
}

/// Computes and protects the release of `period` (for `org`, or the whole node).
pub async fn release(
    store: &dyn Store,
    period: Period,
    org: Option<Uuid>,
    protection: &Protection,
) -> AppResult<Release> {
    let t = compute(store, period, org, protection.k).await?;
    protect_all(&t, org, protection)
}

/// The hash that chains releases (rule 10): SHA-256, lowercase hex, of the canonical JSON of
/// the release body, as the node that publishes it and the hub that stores it compute it.
pub fn release_hash(body: &puente_common::stats::release::ReleaseBody) -> AppResult<String> {
    let value = serde_json::to_value(body)
        .map_err(|e| AppError::internal(format!("encoding a release: {e}")))?;
    let bytes = puente_federation::canonical::canonical_json(&value)
        .map_err(|e| AppError::internal(format!("encoding a release: {e}")))?;
    Ok(puente_federation::canonical::sha256_hex(&bytes))
}
