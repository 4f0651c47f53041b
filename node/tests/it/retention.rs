//! Retention on the backend under test: the rule anonymises a person only when every case of
//! theirs has been closed long enough and none is held; what anonymisation clears and keeps;
//! a second or concurrent run does nothing twice; legal holds; erasure on request and its
//! effect on the statistics (from the period in course on); the pages and API.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use puente_common::case::ProceedingRecord;
use puente_common::stats::Period;
use puente_common::vocab::codes::{ClosureReason, ConsentScope, ProceedingStage};
use puente_node::authz::Actor;
use puente_node::cases::{self, NewCase, PersonChoice, Who};
use puente_node::clock::ManualClock;
use puente_node::error::AppError;
use puente_node::store::User;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::cases::{case_record, consent, new_case, person, DOCUMENT, FAMILY, NAME};
use crate::helpers::{TestNode, PASSWORD};

fn actor(u: &User) -> Actor {
    Actor {
        user_id: u.id,
        username: u.username.clone(),
        role: u.role,
        org_id: u.org_id,
    }
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

struct World {
    node: TestNode,
    clock: ManualClock,
    worker: User,
    coord: User,
}

const START: &str = "2026-03-10T12:00:00Z";

/// A node with the rule "2 years after the last case closes", on a manual clock.
async fn world() -> World {
    let clock = ManualClock::new(START.parse::<DateTime<Utc>>().unwrap());
    let node = TestNode::start_with(Arc::new(clock.clone()), |c| {
        c.retention.anonymise_closed_after_years = Some(2);
    })
    .await;
    let org = node.org("ASOC1").await;
    let (worker, _) = node.user("gestora", "caseworker", Some(&org), false).await;
    let (coord, _) = node
        .user("coordinacion", "org_admin", Some(&org), false)
        .await;
    World {
        node,
        clock,
        worker,
        coord,
    }
}

impl World {
    fn ctx(&self) -> puente_node::audit::AuditCtx {
        self.node.ctx()
    }

    /// Registers a case (a new person when `person` is `None`), with a statistical-use
    /// consent, a note, a service note and a proceeding with the authority's file number.
    async fn case(&self, person: Option<Uuid>, name: &str) -> (Uuid, Uuid) {
        let st = &self.node.state;
        let ctx = self.ctx();
        let who = Who {
            actor: &actor(&self.worker),
            audit: &ctx,
        };
        let mut input: NewCase = new_case();
        let mut rec = case_record();
        rec.registration_date = st.clock.now().date_naive();
        input.case = rec;
        let mut c = consent(ConsentScope::StatisticalUse);
        c.given_on = st.clock.now().date_naive();
        input.consents[0].given_on = c.given_on;
        input.consents.push(c);
        input.person = match person {
            Some(p) => PersonChoice::Existing(p),
            None => {
                let mut p = crate::cases::person();
                p.identity.given_names = name.into();
                PersonChoice::New(Box::new(p))
            }
        };
        let r = cases::register(st, who, input).await.unwrap();
        cases::add_note(st, who, r.id, "Nota confidencial del expediente")
            .await
            .unwrap();
        let mut p = ProceedingRecord {
            stage: ProceedingStage::Complaint,
            date: None,
            authority: "Fiscalía contra la trata".into(),
            reference: "MP-2026-00042".into(),
            verdict: None,
            victim_witness: false,
            protection_measures: false,
            reparation_ordered: false,
            notes: "Declaró el 3 de marzo".into(),
        };
        p.date = Some(st.clock.now().date_naive());
        cases::save_entry(st, who, r.id, None, p).await.unwrap();
        let row = st.store.case(r.id).await.unwrap();
        (r.id, row.person_id)
    }

    async fn close(&self, case: Uuid) {
        let st = &self.node.state;
        let ctx = self.ctx();
        let who = Who {
            actor: &actor(&self.worker),
            audit: &ctx,
        };
        let v = st.store.case(case).await.unwrap().version;
        cases::close(st, who, case, v, false, ClosureReason::GoalsMet, "Cierre")
            .await
            .unwrap();
    }

    fn advance_days(&self, days: i64) {
        self.clock.advance(Duration::days(days));
    }

    async fn anonymised(&self, person: Uuid) -> Option<String> {
        self.node
            .state
            .store
            .person(person)
            .await
            .unwrap()
            .anonymised_why
    }

    async fn count(&self, sql: &str, id: Uuid) -> i64 {
        on_db!(self.node, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap())
    }

    async fn audits(&self, action: &str) -> usize {
        self.node
            .audit_actions()
            .await
            .iter()
            .filter(|(a, _, _)| a == action)
            .count()
    }

    fn who<'a>(&self, u: &'a Actor, ctx: &'a puente_node::audit::AuditCtx) -> Who<'a> {
        Who {
            actor: u,
            audit: ctx,
        }
    }
}

/// What identifies the person is gone and every free text of their cases is cleared, while
/// coded facts stay.
async fn assert_anonymised(w: &World, person: Uuid) {
    let st = &w.node.state;
    let s = puente_node::cases::seal::Sealer::new(st);
    let row = st.store.person(person).await.unwrap();
    let p = s.open_person(&row).unwrap();
    assert_eq!(p.identity, Default::default(), "identity emptied");
    assert_eq!(p.gender, person_facts().gender, "coded facts kept");
    assert_eq!(
        w.count(
            "SELECT COUNT(*) FROM person_index WHERE person_id = $1",
            person
        )
        .await,
        0
    );
    for c in st.store.cases_of_person(person).await.unwrap() {
        assert!(c.narrative.is_none());
        assert!(c.anonymised_at.is_some());
        for t in st.store.timeline(c.id).await.unwrap() {
            assert!(t.body.is_none(), "timeline {} kept its body", t.kind);
        }
        for kind in [
            puente_node::store::cases::EntryKind::Service,
            puente_node::store::cases::EntryKind::Proceeding,
        ] {
            for e in st.store.entries(kind, c.id).await.unwrap() {
                assert!(e.notes.is_none());
                assert!(!e.record.contains("MP-2026-00042"), "file number cleared");
            }
        }
    }
    for c in st.store.consents(person).await.unwrap() {
        assert!(c.guardian_name.is_none());
        assert!(!c.record.contains("Formulario"), "form reference cleared");
    }
}

fn person_facts() -> puente_common::case::PersonRecord {
    person()
}

/// Persons found by the blind index for the caseworker's search by name and document.
async fn found(w: &World, name: &str) -> usize {
    let ctx = w.ctx();
    let a = actor(&w.worker);
    cases::find_persons(&w.node.state, w.who(&a, &ctx), name, DOCUMENT)
        .await
        .map(|v| v.len())
        .unwrap_or(0)
}

#[tokio::test]
async fn the_rule_anonymises_only_persons_whose_cases_are_all_closed_long_enough_and_not_held() {
    let w = world().await;
    // A: one case closed, one still open. B: its only case closed. C: closed but held.
    let (a1, pa) = w.case(None, "Ana").await;
    let (_a2, _) = w.case(Some(pa), "Ana").await;
    let (b1, pb) = w.case(None, "Berta").await;
    let (c1, pc) = w.case(None, "Carla").await;
    w.close(a1).await;
    w.close(b1).await;
    w.close(c1).await;
    let ctx = w.ctx();
    let coord = actor(&w.coord);
    puente_node::retention::place_hold(
        &w.node.state,
        w.who(&coord, &ctx),
        c1,
        "Proceso penal abierto",
    )
    .await
    .unwrap();
    // D: closed a year and a half later.
    w.advance_days(550);
    let (d1, pd) = w.case(None, "Dora").await;
    w.close(d1).await;
    w.advance_days(365);
    // Now B's and C's cases are closed 2.5 years, D's one year: only B is due (C is held).
    let s = puente_node::retention::status(&w.node.state).await.unwrap();
    assert_eq!((s.due, s.held, s.anonymised, s.erased), (1, 1, 0, 0));

    let out = puente_node::retention::run_job(&w.node.state)
        .await
        .unwrap();
    assert_eq!((out.anonymised, out.skipped), (1, 0));
    assert_eq!(w.anonymised(pb).await.as_deref(), Some("retention"));
    for p in [pa, pc, pd] {
        assert_eq!(w.anonymised(p).await, None);
    }
    assert_anonymised(&w, pb).await;
    assert_eq!(found(&w, "Berta").await, 0, "no longer found by name");
    assert_eq!(found(&w, "Ana").await, 1, "the others still are");
    // Audited as the node's own act, once.
    let entries = w.node.state.store.audit_chunk(0, 100_000).await.unwrap();
    let anon: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "retention.anonymise")
        .collect();
    assert_eq!(anon.len(), 1);
    assert_eq!(anon[0].actor, "system");
    assert_eq!(anon[0].target_id.as_deref(), Some(pb.to_string().as_str()));

    // A second run finds nothing to do and does nothing twice.
    let again = puente_node::retention::run_job(&w.node.state)
        .await
        .unwrap();
    assert_eq!((again.anonymised, again.skipped), (0, 0));
    assert_eq!(w.audits("retention.anonymise").await, 1);

    // An anonymised case is read-only.
    let cw = actor(&w.worker);
    let err = cases::add_note(&w.node.state, w.who(&cw, &ctx), b1, "otra nota")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AppError::Invalid(f) if f[0].code == "anonymised"),
        "{err:?}"
    );
    let err = puente_node::retention::place_hold(&w.node.state, w.who(&coord, &ctx), b1, "x")
        .await
        .unwrap_err();
    assert!(matches!(&err, AppError::Invalid(f) if f[0].code == "anonymised"));

    // Releasing C's hold makes C due; D follows once its own time has passed.
    puente_node::retention::release_hold(&w.node.state, w.who(&coord, &ctx), c1)
        .await
        .unwrap();
    let out = puente_node::retention::run_job(&w.node.state)
        .await
        .unwrap();
    assert_eq!(out.anonymised, 1);
    assert_eq!(w.anonymised(pc).await.as_deref(), Some("retention"));
    assert_anonymised(&w, pc).await;
    // The released hold's reason was cleared with the rest.
    let holds = w.node.state.store.legal_holds(c1).await.unwrap();
    assert_eq!(holds.len(), 1);
    assert!(holds[0].reason.is_none() && holds[0].released_at.is_some());
    w.advance_days(400);
    assert_eq!(
        puente_node::retention::run_job(&w.node.state)
            .await
            .unwrap()
            .anonymised,
        1
    );
    assert_eq!(w.anonymised(pd).await.as_deref(), Some("retention"));
    assert_eq!(
        w.anonymised(pa).await,
        None,
        "an open case keeps the person"
    );
}

#[tokio::test]
async fn an_interrupted_or_concurrent_run_never_anonymises_a_person_twice() {
    let w = world().await;
    let mut persons = Vec::new();
    for i in 0..6 {
        let (c, p) = w.case(None, &format!("Persona{i}")).await;
        w.close(c).await;
        persons.push(p);
    }
    w.advance_days(2 * 366 + 1);
    // A run that stopped after the first person: its transaction committed, the rest did not
    // start. The next runs (two replicas at once) finish the others, each person once.
    let first = puente_node::store::retention_sql::Anonymisation {
        person_id: persons[0],
        why: puente_node::store::retention_sql::WHY_RETENTION,
        at: w.node.state.clock.now(),
        closed_before: puente_node::retention::current_cutoff(&w.node.state),
        identity: puente_node::cases::seal::Sealer::new(&w.node.state)
            .seal_identity(persons[0], &Default::default()),
        key_id: puente_node::cases::seal::Sealer::new(&w.node.state).key_id(),
        proceedings: vec![],
        consents: vec![],
    };
    let audit = w
        .ctx()
        .event("retention.anonymise", puente_node::audit::Outcome::Success);
    w.node
        .state
        .store
        .ref_apply(puente_node::store::ref_sql::RefChange {
            anonymise: Some(first),
            audits: vec![audit],
            ..Default::default()
        })
        .await
        .unwrap();
    let (r1, r2) = tokio::join!(
        puente_node::retention::run_job(&w.node.state),
        puente_node::retention::run_job(&w.node.state)
    );
    let (r1, r2) = (r1.unwrap(), r2.unwrap());
    assert_eq!(r1.anonymised + r2.anonymised, 5, "{r1:?} {r2:?}");
    assert_eq!(w.audits("retention.anonymise").await, 6);
    for p in &persons {
        assert_eq!(w.anonymised(*p).await.as_deref(), Some("retention"));
    }
    // The timeline stays append-only: only clearing a body is allowed.
    let case = w
        .node
        .state
        .store
        .cases_of_person(persons[1])
        .await
        .unwrap()[0]
        .id;
    let changed = on_db!(w.node, |pool| sqlx::query(
        "UPDATE timeline SET kind = 'forged' WHERE case_id = $1"
    )
    .bind(case)
    .execute(&pool)
    .await
    .is_err());
    assert!(changed, "a timeline entry could be rewritten");
    let deleted = on_db!(w.node, |pool| sqlx::query(
        "DELETE FROM timeline WHERE case_id = $1"
    )
    .bind(case)
    .execute(&pool)
    .await
    .is_err());
    assert!(deleted, "a timeline entry could be deleted");
}

#[tokio::test]
async fn erasure_withdraws_consents_anonymises_and_drops_the_person_from_the_next_periods() {
    let w = world().await;
    // Q1 2026: a case registered on 2026-03-10; Q2: a second case on 2026-04-20.
    let (c1, p) = w.case(None, NAME).await;
    w.close(c1).await;
    w.advance_days(41);
    let (c2, _) = w.case(Some(p), NAME).await;
    let q1 = Period::Quarter(2026, 1);
    let q2 = Period::Quarter(2026, 2);
    let store = w.node.state.store.as_ref();
    assert_eq!(
        puente_node::stats::compute(store, q1, None, 5)
            .await
            .unwrap()
            .persons,
        1
    );
    assert_eq!(
        puente_node::stats::compute(store, q2, None, 5)
            .await
            .unwrap()
            .persons,
        1
    );

    let ctx = w.ctx();
    let coord = actor(&w.coord);
    let worker = actor(&w.worker);
    // Only the coordinator, with the case number repeated, and never under a hold.
    let err = puente_node::retention::erase(&w.node.state, w.who(&worker, &ctx), c2, "x")
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Forbidden(_)), "{err:?}");
    let number = w.node.state.store.case(c2).await.unwrap().number;
    let err = puente_node::retention::erase(&w.node.state, w.who(&coord, &ctx), c2, "GTM-X")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AppError::Invalid(f) if f[0].field == "confirm" && f[0].code == "mismatch")
    );
    puente_node::retention::place_hold(&w.node.state, w.who(&coord, &ctx), c1, "Juicio pendiente")
        .await
        .unwrap();
    let err = puente_node::retention::erase(&w.node.state, w.who(&coord, &ctx), c2, &number)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AppError::Invalid(f) if f[0].field == "legal_hold" && f[0].code == "held")
    );
    assert_eq!(w.anonymised(p).await, None, "a refusal changes nothing");
    assert_eq!(w.audits("person.erase").await, 0);
    puente_node::retention::release_hold(&w.node.state, w.who(&coord, &ctx), c1)
        .await
        .unwrap();

    let e = puente_node::retention::erase(&w.node.state, w.who(&coord, &ctx), c2, &number)
        .await
        .unwrap();
    assert_eq!(e.cases.len(), 2);
    assert_eq!(e.consents_withdrawn, 4, "two consents per case");
    assert_eq!(e.referrals_recalled, 0);
    assert_eq!(w.anonymised(p).await.as_deref(), Some("erasure"));
    assert_anonymised(&w, p).await;
    assert_eq!(found(&w, NAME).await, 0);
    for c in w.node.state.store.consents(p).await.unwrap() {
        assert_eq!(c.withdrawn_on, Some(d("2026-04-20")));
    }
    assert_eq!(w.audits("person.erase").await, 1);
    assert_eq!(w.audits("consent.withdraw").await, 4);
    // Statistics: the closed Q1 keeps them, Q2 (in course at the erasure) no longer counts
    // them.
    assert_eq!(
        puente_node::stats::compute(store, q1, None, 5)
            .await
            .unwrap()
            .persons,
        1
    );
    assert_eq!(
        puente_node::stats::compute(store, q2, None, 5)
            .await
            .unwrap()
            .persons,
        0
    );
    // Erased once.
    let err = puente_node::retention::erase(&w.node.state, w.who(&coord, &ctx), c2, &number)
        .await
        .unwrap_err();
    assert!(matches!(&err, AppError::Invalid(f) if f[0].code == "already_erased"));
    // Nothing of what identified them is left in the database in the clear either.
    let dump = crate::helpers::dump_database(&w.node).await;
    for secret in [NAME, FAMILY, "MP-2026-00042", "Formulario 7"] {
        assert!(!dump.contains(secret), "{secret} found in the database");
    }
}

async fn page_node() -> (TestNode, User, Option<String>, User, Option<String>) {
    let node = TestNode::start_with(Arc::new(puente_node::clock::SystemClock), |c| {
        c.retention.anonymise_closed_after_years = Some(10);
    })
    .await;
    let org = node.org("ASOC1").await;
    let (coord, cs) = node
        .user("coordinacion", "org_admin", Some(&org), true)
        .await;
    let (admin, a_s) = node.user("nacional", "node_admin", None, true).await;
    (node, coord, cs, admin, a_s)
}

#[tokio::test]
async fn coordinators_hold_and_erase_from_the_case_page_and_administrators_see_the_rule() {
    let (node, coord, cs, admin, a_s) = page_node().await;
    let ctx = node.ctx();
    let a = actor(&coord);
    let who = Who {
        actor: &a,
        audit: &ctx,
    };
    let r = cases::register(&node.state, who, new_case()).await.unwrap();
    let b = node.client();
    b.login(&coord.username, PASSWORD, cs.as_deref()).await;
    let page = b.get(&format!("/cases/{}", r.id)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Retención y supresión de datos"));
    assert!(page
        .body
        .contains("Este caso no tiene una retención legal."));

    // A hold without a reason is refused with the field's message; with one it is placed.
    let form = format!("/cases/{}", r.id);
    let p = b
        .post_from(
            &form,
            &format!("/cases/{}/legal-hold", r.id),
            &[("hold.reason", " ")],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("Este campo es obligatorio."));
    let p = b
        .post_from(
            &form,
            &format!("/cases/{}/legal-hold", r.id),
            &[("hold.reason", "Proceso penal MP-2026-77")],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let page = b.get(&format!("/cases/{}", r.id)).await;
    assert!(page.body.contains("Retención legal desde"));
    assert!(page.body.contains("Proceso penal MP-2026-77"));
    assert!(
        page.body.contains("Retención legal puesta"),
        "timeline entry"
    );

    // Erasure is refused while held; the page says why and offers no form.
    let e = b.get(&format!("/cases/{}/erase", r.id)).await;
    assert_eq!(e.status, 200);
    assert!(e.body.contains("tiene una retención legal"));
    assert!(!e.body.contains("name=\"confirm\""));
    let p = b
        .post_from(&form, &format!("/cases/{}/legal-hold/release", r.id), &[])
        .await;
    assert_eq!(p.status, 303);

    // The national administrator sees the rule and no held case (numbers only, never names).
    let ab = node.client();
    ab.login(&admin.username, PASSWORD, a_s.as_deref()).await;
    let rp = ab.get("/retention").await;
    assert_eq!(rp.status, 200);
    assert!(rp.body.contains("llevan 10 años cerrados"));
    assert!(rp.body.contains("Ningún caso tiene una retención legal."));
    assert!(!rp.body.contains(NAME));
    assert_eq!(b.get("/retention").await.status, 403);

    // Erasure: the wrong number is refused, the right one erases and the case says so.
    let ep = format!("/cases/{}/erase", r.id);
    let e = b.get(&ep).await;
    assert!(e.body.contains("Qué ocurre al suprimir"));
    let p = b.post_from(&ep, &ep, &[("confirm", "GTM-0000")]).await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("El número no coincide con el del caso."));
    let number = node.state.store.case(r.id).await.unwrap().number;
    let p = b.post_from(&ep, &ep, &[("confirm", &number)]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let page = b.get(&format!("/cases/{}", r.id)).await;
    assert!(page.body.contains("Persona anonimizada."));
    assert!(!page.body.contains(NAME));
    assert!(
        !page.body.contains(&format!("/cases/{}/edit", r.id)),
        "read-only"
    );
    assert!(!page.body.contains("/erase\""), "erased once");
    let rp = ab.get("/retention").await;
    assert!(rp.body.contains("<dd>1</dd>"), "one erased person counted");
}

#[tokio::test]
async fn the_api_places_and_releases_holds_and_erases_with_stable_codes() {
    let (node, coord, _, admin, _) = page_node().await;
    let ctx = node.ctx();
    let a = actor(&coord);
    let who = Who {
        actor: &a,
        audit: &ctx,
    };
    let r = cases::register(&node.state, who, new_case()).await.unwrap();
    let token = node.token(coord.id, 30).await;
    let admin_token = node.token(admin.id, 30).await;
    let http = reqwest::Client::new();
    let call = |path: String, tok: String, body: Option<Value>| {
        let http = http.clone();
        let url = format!("{}/api/v1{path}", node.base);
        async move {
            let req = match body {
                Some(b) => http.post(url).json(&b),
                None => http.get(url),
            };
            let resp = req.bearer_auth(tok).send().await.unwrap();
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            (
                status,
                serde_json::from_str::<Value>(&text).unwrap_or(Value::Null),
            )
        }
    };
    let id = r.id;
    let (s, b) = call(
        format!("/cases/{id}/legal-hold"),
        token.clone(),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = call(
        format!("/cases/{id}/legal-hold"),
        token.clone(),
        Some(json!({ "reason": "x".repeat(2001) })),
    )
    .await;
    assert_eq!(
        (s, b["fields"][0]["code"].as_str()),
        (422, Some("too_long")),
        "{b}"
    );
    let (s, _) = call(
        format!("/cases/{id}/legal-hold"),
        token.clone(),
        Some(json!({ "reason": "Orden judicial" })),
    )
    .await;
    assert_eq!(s, 204);
    let (s, b) = call(
        format!("/cases/{id}/legal-hold"),
        token.clone(),
        Some(json!({ "reason": "otra" })),
    )
    .await;
    assert_eq!(
        (s, b["fields"][0]["code"].as_str()),
        (422, Some("already_held")),
        "{b}"
    );
    let (s, b) = call(format!("/cases/{id}/legal-holds"), token.clone(), None).await;
    assert_eq!(s, 200);
    assert_eq!(b[0]["reason"], "Orden judicial");
    assert!(b[0]["released_at"].is_null());
    let (s, b) = call(
        format!("/cases/{id}/erase"),
        token.clone(),
        Some(json!({ "confirm": "x" })),
    )
    .await;
    assert_eq!(
        (s, b["fields"][0]["field"].as_str()),
        (422, Some("confirm")),
        "{b}"
    );
    let number = node.state.store.case(id).await.unwrap().number;
    let (s, b) = call(
        format!("/cases/{id}/erase"),
        token.clone(),
        Some(json!({ "confirm": number })),
    )
    .await;
    assert_eq!(
        (s, b["fields"][0]["code"].as_str()),
        (422, Some("held")),
        "{b}"
    );
    let (s, _) = call(
        format!("/cases/{id}/legal-hold/release"),
        token.clone(),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 204);
    let (s, b) = call(
        format!("/cases/{id}/legal-hold/release"),
        token.clone(),
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (s, b["fields"][0]["code"].as_str()),
        (422, Some("not_held")),
        "{b}"
    );
    // The administrator may not erase (not their organisation's role); the coordinator may.
    let (s, _) = call(
        format!("/cases/{id}/erase"),
        admin_token.clone(),
        Some(json!({ "confirm": number })),
    )
    .await;
    assert_eq!(s, 403);
    let (s, b) = call(
        format!("/cases/{id}/erase"),
        token.clone(),
        Some(json!({ "confirm": number })),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["consents_withdrawn"], 1);
    let (s, b) = call("/retention".into(), admin_token.clone(), None).await;
    assert_eq!(s, 200);
    assert_eq!(
        (b["years"].as_u64(), b["erased"].as_i64()),
        (Some(10), Some(1)),
        "{b}"
    );
    let (s, b) = call(format!("/cases/{id}"), token, None).await;
    assert_eq!(s, 200);
    assert_eq!(b["anonymised_why"], "erasure");
    assert_eq!(b["person"]["identity"]["given_names"], "");
}

#[tokio::test]
async fn a_person_that_cannot_be_anonymised_does_not_hold_back_the_others() {
    let w = world().await;
    let (c1, bad) = w.case(None, "Elena").await;
    let (c2, good) = w.case(None, "Fabiola").await;
    w.close(c1).await;
    w.close(c2).await;
    w.advance_days(2 * 366 + 1);
    // One stored record is unreadable (as after a faulty manual repair).
    on_db!(w.node, |pool| sqlx::query(
        "UPDATE proceedings SET record = 'not json' WHERE case_id = $1"
    )
    .bind(c1)
    .execute(&pool)
    .await
    .unwrap()
    .rows_affected());
    let out = puente_node::retention::run_job(&w.node.state)
        .await
        .unwrap();
    assert_eq!((out.anonymised, out.failed), (1, 1), "{out:?}");
    assert_eq!(w.anonymised(good).await.as_deref(), Some("retention"));
    assert_eq!(w.anonymised(bad).await, None, "left as it was");
    assert_eq!(w.audits("retention.anonymise").await, 1);
}
