//! National statistics (`puente_node::stats`): the true tables on a crafted data set equal
//! hand-computed counts (persons de-duplicated, consent in force at the period's end, the
//! identification date deciding the period); the pages and exports never publish a count in
//! `1..k` and no suppressed cell is recoverable; an organisation's coordinator sees only their
//! organisation; caseworkers and auditors are refused. On the backend under test.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use puente_common::case::{CaseRecord, ConsentRecord, PersonRecord};
use puente_common::stats::{recoverable_cells, Period, Table};
use puente_common::vocab::codes::{
    CaseStatus, ConsentGivenBy, ConsentScope, ExploitationType, Gender, IntakeChannel, Means,
    TraffickingAct, TraffickingStatus,
};
use puente_node::authz::Actor;
use puente_node::cases::{self, NewCase, PersonChoice, Who};
use puente_node::store::{Org, User};

use crate::helpers::{TestNode, PASSWORD};

const Q: Period = Period::Quarter(2025, 1);

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn actor(u: &User) -> Actor {
    Actor {
        user_id: u.id,
        username: u.username.clone(),
        role: u.role,
        org_id: u.org_id,
    }
}

/// One invented person's facts.
#[derive(Clone)]
struct P {
    gender: Gender,
    citizenship: &'static str,
    age: u32,
    forms: Vec<ExploitationType>,
    industry: Option<&'static str>,
    identified: &'static str,
    registered: &'static str,
    channel: IntakeChannel,
    status: Option<TraffickingStatus>,
    /// `STATISTICAL_USE` consent given on this date (none: no consent).
    stat_consent: Option<&'static str>,
}

impl P {
    fn new(gender: Gender, age: u32, form: ExploitationType, identified: &'static str) -> P {
        P {
            gender,
            citizenship: "GTM",
            age,
            forms: vec![form],
            industry: None,
            identified,
            registered: identified,
            channel: IntakeChannel::Hotline,
            status: Some(TraffickingStatus::ActualVictim),
            stat_consent: Some(identified),
        }
    }
}

fn case_of(p: &P) -> CaseRecord {
    let mut c = CaseRecord {
        intake_channel: p.channel,
        registration_date: d(p.registered),
        identification_date: Some(d(p.identified)),
        status: CaseStatus::Active,
        closure_reason: None,
        trafficking_status: p.status,
        status_decided_by: None,
        location: None,
        process: Default::default(),
        narrative: "Relato inventado".into(),
    };
    c.process.acts.insert(TraffickingAct::Recruitment);
    c.process.means.insert(Means::Deception);
    c.process.exploitation_types.extend(p.forms.iter().copied());
    c.process.age_when_trafficked = Some(p.age);
    c.process.forced_labour_industry = p.industry.map(str::to_owned);
    c.process.country_of_exploitation = Some("GTM".parse().unwrap());
    c
}

fn consent(scope: ConsentScope, on: &str) -> ConsentRecord {
    ConsentRecord {
        scope,
        given_by: ConsentGivenBy::Person,
        guardian_name: String::new(),
        given_on: d(on),
        expires_on: None,
        destination_country: None,
        destination_org: String::new(),
        field_groups: BTreeSet::new(),
        evidence_ref: "F-1".into(),
    }
}

/// Registers `p` by `by`; returns (case id, person id).
async fn register(node: &TestNode, by: &User, p: &P, n: usize) -> (uuid::Uuid, uuid::Uuid) {
    let mut person = PersonRecord::default();
    person.identity.given_names = "Persona".into();
    person.identity.family_names = format!("Inventada {n}");
    person.gender = Some(p.gender);
    person.citizenship.insert(p.citizenship.parse().unwrap());
    let mut consents = vec![consent(ConsentScope::CaseManagement, p.registered)];
    if let Some(on) = p.stat_consent {
        consents.push(consent(ConsentScope::StatisticalUse, on));
    }
    let a = actor(by);
    let ctx = node.ctx();
    let r = cases::register(
        &node.state,
        Who {
            actor: &a,
            audit: &ctx,
        },
        NewCase {
            person: PersonChoice::New(Box::new(person)),
            case: case_of(p),
            consents,
            caseworker_id: None,
            consent_override_reason: None,
        },
    )
    .await
    .unwrap();
    let row = node.state.store.case(r.id).await.unwrap();
    (r.id, row.person_id)
}

async fn second_case(node: &TestNode, by: &User, person: uuid::Uuid, p: &P) {
    let a = actor(by);
    let ctx = node.ctx();
    cases::register(
        &node.state,
        Who {
            actor: &a,
            audit: &ctx,
        },
        NewCase {
            person: PersonChoice::Existing(person),
            case: case_of(p),
            consents: vec![consent(ConsentScope::CaseManagement, p.registered)],
            caseworker_id: None,
            consent_override_reason: None,
        },
    )
    .await
    .unwrap();
}

async fn withdraw_stat(node: &TestNode, by: &User, case: uuid::Uuid, person: uuid::Uuid, on: &str) {
    let c = node
        .state
        .store
        .consents(person)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.scope == "STATISTICAL_USE")
        .unwrap();
    let a = actor(by);
    let ctx = node.ctx();
    cases::withdraw_consent(
        &node.state,
        Who {
            actor: &a,
            audit: &ctx,
        },
        case,
        c.id,
        d(on),
    )
    .await
    .unwrap();
}

fn cell(t: &Table, codes: &[&str]) -> u64 {
    let coords: Vec<usize> = t
        .dimensions
        .iter()
        .zip(codes)
        .map(|(dim, c)| {
            dim.categories
                .iter()
                .position(|x| x == c)
                .unwrap_or_else(|| panic!("{c} not in {}", dim.name))
        })
        .collect();
    t.counts[t.cell_index(&coords).unwrap()]
}

fn table<'a>(tables: &'a [Table], id: &str) -> &'a Table {
    tables.iter().find(|t| t.id == id).unwrap()
}

struct World {
    node: TestNode,
    a: Org,
    b: Org,
    a_worker: User,
}

async fn world() -> World {
    let node = TestNode::start().await;
    let a = node.org("ASOC1").await;
    let b = node.org("FUND2").await;
    let (a_worker, _) = node.user("gestora", "caseworker", Some(&a), false).await;
    World {
        node,
        a,
        b,
        a_worker,
    }
}

#[tokio::test]
async fn true_tables_equal_hand_computed_counts() {
    let w = world().await;
    let node = &w.node;
    let (b_worker, _) = node.user("otra", "caseworker", Some(&w.b), false).await;
    use ExploitationType as E;
    use Gender as G;
    // P1: two cases in the period, counted once.
    let p1 = P::new(G::Feminine, 15, E::SexualExploitation, "2025-02-01");
    let (_, p1_id) = register(node, &w.a_worker, &p1, 1).await;
    second_case(
        node,
        &w.a_worker,
        p1_id,
        &P::new(G::Feminine, 15, E::SexualExploitation, "2025-03-01"),
    )
    .await;
    // P2: forced labour in agriculture, Honduran.
    let mut p2 = P::new(G::Masculine, 30, E::ForcedLabour, "2025-01-10");
    p2.citizenship = "HND";
    p2.industry = Some("A01");
    p2.channel = IntakeChannel::LawEnforcementOperation;
    register(node, &w.a_worker, &p2, 2).await;
    // P3: no statistical-use consent: not counted.
    let mut p3 = P::new(G::Feminine, 25, E::SexualExploitation, "2025-02-15");
    p3.stat_consent = None;
    register(node, &w.a_worker, &p3, 3).await;
    // P4: withdrawn before the period's end: not counted.
    let p4 = P::new(G::Feminine, 22, E::SexualExploitation, "2025-01-20");
    let (c4, p4_id) = register(node, &w.a_worker, &p4, 4).await;
    withdraw_stat(node, &w.a_worker, c4, p4_id, "2025-03-15").await;
    // P5: withdrawn after the period's end: counted.
    let p5 = P::new(G::Feminine, 40, E::SexualExploitation, "2025-03-05");
    let (c5, p5_id) = register(node, &w.a_worker, &p5, 5).await;
    withdraw_stat(node, &w.a_worker, c5, p5_id, "2025-04-10").await;
    // P6: identified before the period (registered in it): not counted.
    let mut p6 = P::new(G::Feminine, 20, E::SexualExploitation, "2024-12-20");
    p6.registered = "2025-01-05";
    register(node, &w.a_worker, &p6, 6).await;
    // P7: consent given after the period's end: not counted.
    let mut p7 = P::new(G::Masculine, 17, E::ForcedLabour, "2025-03-20");
    p7.stat_consent = Some("2025-04-02");
    register(node, &w.a_worker, &p7, 7).await;
    // P8: the other organisation.
    let p8 = P::new(G::Feminine, 19, E::SexualExploitation, "2025-02-02");
    register(node, &b_worker, &p8, 8).await;

    let store = node.state.store.as_ref();
    let all = puente_node::stats::compute(store, Q, None, 5)
        .await
        .unwrap();
    assert_eq!(all.persons, 4);
    // Read two rows at a time: the same tables.
    let paged = puente_node::stats::compute_paged(store, Q, None, 5, 2)
        .await
        .unwrap();
    assert_eq!(paged.tables, all.tables);
    let t01 = table(&all.tables, "T01");
    assert_eq!(t01.counts.iter().sum::<u64>(), 4);
    assert_eq!(cell(t01, &["F", "0_17", "SEXUAL"]), 1);
    assert_eq!(cell(t01, &["M", "18_PLUS", "FORCED_LABOUR"]), 1);
    assert_eq!(cell(t01, &["F", "18_PLUS", "SEXUAL"]), 2);
    let t02 = table(&all.tables, "T02");
    assert_eq!(cell(t02, &["F", "9_17"]), 1);
    assert_eq!(cell(t02, &["F", "18_20"]), 1);
    assert_eq!(cell(t02, &["F", "39_47"]), 1);
    assert_eq!(cell(t02, &["M", "30_38"]), 1);
    // Every citizenship is rare (< 5): merged into Central America, itself < 5: other.
    let t03 = table(&all.tables, "T03");
    assert_eq!(t03.dimensions[0].categories, vec!["OTHER".to_owned()]);
    assert_eq!(t03.counts.iter().sum::<u64>(), 4);
    let t05 = table(&all.tables, "T05");
    assert_eq!(cell(t05, &["A", "M"]), 1);
    assert_eq!(t05.counts.iter().sum::<u64>(), 1);
    let t07 = table(&all.tables, "T07");
    assert_eq!(cell(t07, &["ACTUAL_VICTIM", "HOTLINE"]), 3);
    assert_eq!(
        cell(t07, &["ACTUAL_VICTIM", "LAW_ENFORCEMENT_OPERATION"]),
        1
    );
    let t03f = table(&all.tables, "T03F");
    assert_eq!(cell(t03f, &["DOMESTIC"]), 3);
    assert_eq!(cell(t03f, &["SUBREGIONAL"]), 1);

    let only_a = puente_node::stats::compute(store, Q, Some(w.a.id), 5)
        .await
        .unwrap();
    assert_eq!(only_a.persons, 3);
    let t01 = table(&only_a.tables, "T01");
    assert_eq!(cell(t01, &["F", "18_PLUS", "SEXUAL"]), 1);
    // Another period: nobody.
    let empty = puente_node::stats::compute(store, Period::Quarter(2024, 3), None, 5)
        .await
        .unwrap();
    assert_eq!(empty.persons, 0);
    // Protected: everything here is under 5, so nothing but zeros is published.
    let rel =
        puente_node::stats::protect_all(&all, None, &node.state.config.stats.protection()).unwrap();
    assert_eq!(rel.persons, None);
    for t in &rel.tables {
        assert!(recoverable_cells(&t.constraint_view().unwrap())
            .unwrap()
            .is_empty());
    }
    assert!(!puente_node::stats::linked::linked_leak(&rel.tables).unwrap());
}

/// 46 persons of ASOC1 and 6 of FUND2 in 2025-Q1, varied so that some cells are large and
/// some small.
async fn populate(w: &World) -> User {
    use ExploitationType as E;
    use Gender as G;
    let node = &w.node;
    let (b_worker, _) = node.user("otra", "caseworker", Some(&w.b), false).await;
    for i in 0..46 {
        let (g, form) = match i % 7 {
            0..=3 => (G::Feminine, E::SexualExploitation),
            4 | 5 => (G::Masculine, E::ForcedLabour),
            _ => (G::Feminine, E::ForcedCriminality),
        };
        let age = if i % 5 == 0 { 16 } else { 20 + (i % 20) as u32 };
        let mut p = P::new(g, age, form, "2025-02-10");
        if form == E::ForcedLabour {
            p.industry = Some(if i % 2 == 0 { "A01" } else { "C14" });
        }
        p.channel = if i % 11 == 0 {
            IntakeChannel::SelfIdentified
        } else {
            IntakeChannel::Hotline
        };
        if i % 9 == 0 {
            p.citizenship = "HND";
        }
        register(node, &w.a_worker, &p, i).await;
    }
    for i in 0..6 {
        let p = P::new(G::Feminine, 25, E::SexualExploitation, "2025-03-01");
        register(node, &b_worker, &p, 100 + i).await;
    }
    b_worker
}

/// Every value of a CSV export: `<5`, `0`, or at least 5.
fn check_csv_values(body: &str, hxl: bool) -> usize {
    let mut r = csv::Reader::from_reader(body.as_bytes());
    let head = r.headers().unwrap().clone();
    let value = head.iter().position(|h| h == "value").unwrap();
    let mut n = 0;
    for (i, rec) in r.records().enumerate() {
        let rec = rec.unwrap();
        if hxl && i == 0 {
            assert_eq!(&rec[0], "#date+period");
            assert_eq!(&rec[value], "#affected+num");
            continue;
        }
        let v = &rec[value];
        if v != "<5" {
            let x: u64 = v.parse().unwrap();
            assert!(x == 0 || x >= 5, "published {x}");
        }
        n += 1;
    }
    n
}

#[tokio::test]
async fn pages_and_exports_publish_nothing_small_and_nothing_recoverable() {
    let w = world().await;
    populate(&w).await;
    let node = &w.node;
    // The protected release: no published cell under k, nothing recoverable.
    let protection = node.state.config.stats.protection();
    let rel = puente_node::stats::release(node.state.store.as_ref(), Q, None, &protection)
        .await
        .unwrap();
    assert_eq!(rel.persons, Some(52));
    for t in &rel.tables {
        for c in t.cells.iter().chain(t.totals().iter()) {
            if let Some(n) = c.count() {
                assert!(n == 0 || n >= 5, "{}: {n}", t.id);
            }
        }
        assert!(
            recoverable_cells(&t.constraint_view().unwrap())
                .unwrap()
                .is_empty(),
            "{}",
            t.id
        );
    }
    // Linked across tables, nothing is recoverable either.
    assert!(!puente_node::stats::linked::linked_leak(&rel.tables).unwrap());
    // Some cell is suppressed (SELF_IDENTIFIED has 5 persons in ASOC1 only, HOTLINE 41+6).
    assert!(rel
        .tables
        .iter()
        .any(|t| t.cells.iter().any(|c| c.count().is_none())));

    let (_, _) = node.user("analista", "analyst", None, false).await;
    let b = node.client();
    b.login("analista", PASSWORD, None).await;
    let p = b.get("/statistics?kind=quarter&period=2025-Q1").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("Estadísticas"), "Spanish page");
    assert!(p.body.contains("&lt;5"), "suppressed cells shown as <5");
    assert!(p.body.contains("Personas contadas: 52"));
    assert!(p.body.contains("k = 5"));
    // The true T01 cell of minors in forced criminality (i = 20: one person) is not shown:
    // the GLOTIP export has "<5" there.
    let g = b
        .get("/statistics/export?format=glotip&period=2025-Q1")
        .await;
    assert_eq!(g.status, 200);
    let mut r = csv::Reader::from_reader(g.body.as_bytes());
    let mut seen = false;
    for rec in r.records() {
        let rec = rec.unwrap();
        if &rec[3] == "F" && &rec[5] == "0_17" && &rec[7] == "FORCED_CRIMINALITY" {
            assert_eq!(&rec[8], "<5");
            seen = true;
        }
        let v = &rec[8];
        if v != "<5" {
            let x: u64 = v.parse().unwrap();
            assert!(x == 0 || x >= 5);
        }
    }
    assert!(seen);
    let c = b.get("/statistics/export?format=csv&period=2025-Q1").await;
    assert_eq!(c.status, 200);
    assert!(check_csv_values(&c.body, false) > 50);
    let h = b.get("/statistics/export?format=hxl&period=2025-Q1").await;
    assert_eq!(h.status, 200);
    assert!(check_csv_values(&h.body, true) > 50);
    // A period not closed yet is refused for export, and falls back on the page.
    let f = b.get("/statistics/export?format=csv&period=2999-Q1").await;
    assert_eq!(f.status, 404);
    let actions: Vec<String> = node
        .audit_actions()
        .await
        .into_iter()
        .map(|(a, _, _)| a)
        .collect();
    assert!(actions.iter().any(|a| a == "statistics.view"));
    assert_eq!(
        actions.iter().filter(|a| *a == "statistics.export").count(),
        3
    );
}

#[tokio::test]
async fn coordinators_see_their_organisation_and_others_are_refused() {
    let w = world().await;
    populate(&w).await;
    let node = &w.node;
    let (_, secret) = node
        .user("coordinacion", "org_admin", Some(&w.a), true)
        .await;
    let b = node.client();
    b.login("coordinacion", PASSWORD, secret.as_deref()).await;
    // Asking for the other organisation still shows their own.
    let p = b
        .get(&format!("/statistics?period=2025-Q1&org={}", w.b.id))
        .await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("Org ASOC1"));
    assert!(p.body.contains("Personas contadas: 46"));
    let c = b
        .get(&format!(
            "/statistics/export?format=csv&period=2025-Q1&org={}",
            w.b.id
        ))
        .await;
    let mut r = csv::Reader::from_reader(c.body.as_bytes());
    for rec in r.records() {
        assert_eq!(&rec.unwrap()[2], "ASOC1");
    }
    for (user, role) in [("gestora2", "caseworker"), ("auditora", "auditor")] {
        let org = (role == "caseworker").then_some(&w.a);
        node.user(user, role, org, false).await;
        let b = node.client();
        b.login(user, PASSWORD, None).await;
        assert_eq!(b.get("/statistics").await.status, 403, "{role}");
        assert_eq!(
            b.get("/statistics/export?format=csv").await.status,
            403,
            "{role}"
        );
    }
}
