//! The case registry's service layer end to end on the backend under test: sealing and blind
//! index, organisation isolation, consent rules, numbering, versions, audit of every read and
//! change, and all-or-nothing registration.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use puente_common::case::{CaseRecord, ConsentRecord, IdDocument, PersonRecord};
use puente_common::vocab::codes::{
    CaseStatus, ClosureReason, ConsentGivenBy, ConsentScope, ExploitationType, Gender,
    IntakeChannel, Means, TraffickingAct,
};
use puente_node::authz::Actor;
use puente_node::cases::{self, ListQuery, NewCase, PersonChoice, Who};
use puente_node::error::AppError;
use puente_node::store::User;

use crate::helpers::TestNode;

pub const NAME: &str = "Xiomara Quetzalí";
pub const FAMILY: &str = "Tzul Ajpop";
pub const DOCUMENT: &str = "2468 13579 0101";

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

pub fn person() -> PersonRecord {
    let mut p = PersonRecord::default();
    p.identity.given_names = NAME.into();
    p.identity.family_names = FAMILY.into();
    p.identity.birth_date = Some(d("2001-04-03"));
    p.identity.documents.push(IdDocument {
        kind: "DPI".into(),
        number: DOCUMENT.into(),
        country: Some("GTM".parse().unwrap()),
    });
    p.gender = Some(Gender::Feminine);
    p.citizenship.insert("GTM".parse().unwrap());
    p
}

pub fn case_record() -> CaseRecord {
    let mut c = CaseRecord {
        intake_channel: IntakeChannel::Hotline,
        registration_date: d("2026-03-02"),
        identification_date: None,
        status: CaseStatus::Active,
        closure_reason: None,
        trafficking_status: None,
        status_decided_by: None,
        location: Some("GT-QZ".into()),
        process: Default::default(),
        narrative: "Relato confidencial de la víctima".into(),
    };
    c.process.acts.insert(TraffickingAct::Recruitment);
    c.process.means.insert(Means::Deception);
    c.process
        .exploitation_types
        .insert(ExploitationType::ForcedLabour);
    c
}

pub fn consent(scope: ConsentScope) -> ConsentRecord {
    ConsentRecord {
        scope,
        given_by: ConsentGivenBy::Person,
        guardian_name: String::new(),
        given_on: d("2026-03-02"),
        expires_on: None,
        destination_country: None,
        destination_org: String::new(),
        field_groups: BTreeSet::new(),
        evidence_ref: "Formulario 7".into(),
    }
}

pub fn new_case() -> NewCase {
    NewCase {
        person: PersonChoice::New(Box::new(person())),
        case: case_record(),
        consents: vec![consent(ConsentScope::CaseManagement)],
        caseworker_id: None,
        consent_override_reason: None,
    }
}

struct World {
    node: TestNode,
    a_worker: User,
    a_coord: User,
    b_worker: User,
    admin: User,
    analyst: User,
}

async fn world() -> World {
    let node = TestNode::start().await;
    let a = node.org("ASOC1").await;
    let b = node.org("FUND2").await;
    let (a_worker, _) = node.user("gestora", "caseworker", Some(&a), false).await;
    let (a_coord, _) = node
        .user("coordinacion", "org_admin", Some(&a), false)
        .await;
    let (b_worker, _) = node.user("otra-org", "caseworker", Some(&b), false).await;
    let (admin, _) = node.user("nacional", "node_admin", None, false).await;
    let (analyst, _) = node.user("analista", "analyst", None, false).await;
    World {
        node,
        a_worker,
        a_coord,
        b_worker,
        admin,
        analyst,
    }
}

macro_rules! who {
    ($w:expr, $u:expr) => {
        &Who {
            actor: &actor(&$u),
            audit: &$w.node.ctx(),
        }
    };
}

async fn actions(w: &World) -> Vec<String> {
    w.node
        .audit_actions()
        .await
        .into_iter()
        .map(|(a, _, _)| a)
        .collect()
}

#[tokio::test]
async fn identifying_fields_are_sealed_and_found_only_through_the_blind_index() {
    let w = world().await;
    let st = &w.node.state;
    let r = cases::register(st, *who!(w, w.a_worker), new_case())
        .await
        .unwrap();
    assert_eq!(r.number, "GTM-ASOC1-2026-0001");

    // Found by name words in any order, case and accents, and by document number.
    for q in ["quetzali tzul", "XIOMARA", "Ajpop Xiomara"] {
        let found = cases::find_persons(st, *who!(w, w.a_worker), q, "")
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{q}");
        assert_eq!(found[0].given_names, NAME);
    }
    let by_doc = cases::find_persons(st, *who!(w, w.a_worker), "", "2468-13579-0101")
        .await
        .unwrap();
    assert_eq!(by_doc[0].cases[0].0, r.number);
    assert!(
        cases::find_persons(st, *who!(w, w.a_worker), "xiomara perez", "")
            .await
            .unwrap()
            .is_empty()
    );
    // Another organisation's search finds nothing, even with the exact name.
    assert!(
        cases::find_persons(st, *who!(w, w.b_worker), NAME, DOCUMENT)
            .await
            .unwrap()
            .is_empty()
    );

    // No plaintext name, document number or narrative anywhere in the database.
    let dump = crate::helpers::dump_database(&w.node).await;
    for secret in [
        "Xiomara",
        "Quetzal",
        "Tzul",
        "Ajpop",
        // The document number in the forms it could be stored in (short digit runs alone
        // would match hashes and ciphertexts by chance).
        "2468 13579",
        "2468-13579",
        "2468135790101",
        "Relato confidencial",
    ] {
        assert!(
            !dump.contains(secret),
            "plaintext {secret:?} found in the database"
        );
    }
    assert!(
        dump.contains("FORCED_LABOUR"),
        "the dump is real: coded facts are in the clear"
    );
}

#[tokio::test]
async fn another_organisation_cannot_see_or_change_a_case_and_the_attempts_are_audited() {
    let w = world().await;
    let st = &w.node.state;
    let r = cases::register(st, *who!(w, w.a_worker), new_case())
        .await
        .unwrap();
    let seen = cases::read(st, *who!(w, w.a_worker), r.id).await.unwrap();
    assert_eq!(seen.person.identity.given_names, NAME);
    assert_eq!(seen.case.narrative, "Relato confidencial de la víctima");
    assert!(seen.palermo_elements_met);

    assert!(matches!(
        cases::read(st, *who!(w, w.b_worker), r.id).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        cases::update(st, *who!(w, w.b_worker), r.id, 1, case_record()).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        cases::add_note(st, *who!(w, w.b_worker), r.id, "x").await,
        Err(AppError::NotFound)
    ));
    let list = cases::list(st, *who!(w, w.b_worker), &ListQuery::default())
        .await
        .unwrap();
    assert_eq!(list.total, 0);
    // Analysts see no case at all.
    assert!(matches!(
        cases::list(st, *who!(w, w.analyst), &ListQuery::default()).await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        cases::read(st, *who!(w, w.analyst), r.id).await,
        Err(AppError::Forbidden(_))
    ));
    let denied = actions(&w)
        .await
        .iter()
        .filter(|a| *a == "access.denied")
        .count();
    assert!(denied >= 5, "denials audited: {denied}");
}

#[tokio::test]
async fn every_read_and_change_is_audited_with_field_names_not_values() {
    let w = world().await;
    let st = &w.node.state;
    let r = cases::register(st, *who!(w, w.a_worker), new_case())
        .await
        .unwrap();
    let v = cases::read(st, *who!(w, w.a_worker), r.id).await.unwrap();
    let mut changed = v.case.clone();
    changed.process.means.insert(Means::AbuseOfVulnerability);
    changed.narrative = "Otro relato secreto".into();
    cases::update(st, *who!(w, w.a_worker), r.id, v.version, changed.clone())
        .await
        .unwrap();
    // A stale version is refused.
    assert!(matches!(
        cases::update(st, *who!(w, w.a_worker), r.id, v.version, changed).await,
        Err(AppError::Conflict("version"))
    ));
    cases::add_note(st, *who!(w, w.a_worker), r.id, "Llamada de seguimiento")
        .await
        .unwrap();
    cases::add_consent(
        st,
        *who!(w, w.a_worker),
        r.id,
        consent(ConsentScope::StatisticalUse),
    )
    .await
    .unwrap();
    cases::list(
        st,
        *who!(w, w.a_worker),
        &ListQuery {
            search: Some("xiomara".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    cases::close(
        st,
        *who!(w, w.a_worker),
        r.id,
        v.version + 1,
        false,
        ClosureReason::GoalsMet,
        "Cierre",
    )
    .await
    .unwrap();

    let entries = w.node.state.store.audit_chunk(0, 10_000).await.unwrap();
    let find = |a: &str| {
        entries
            .iter()
            .find(|e| e.action == a)
            .unwrap_or_else(|| panic!("no {a} in the audit trail"))
    };
    for a in [
        "case.create",
        "case.read",
        "case.update",
        "case.timeline_add",
        "consent.add",
        "case.list",
    ] {
        find(a);
    }
    let upd = find("case.update");
    assert!(
        upd.detail.contains("process.means") && upd.detail.contains("narrative"),
        "{}",
        upd.detail
    );
    let all: String = entries
        .iter()
        .map(|e| format!("{} {}", e.detail, e.target_id.clone().unwrap_or_default()))
        .collect();
    for secret in [
        "Otro relato",
        "Xiomara",
        "Llamada de seguimiento",
        "2468 13579",
        "2468135790101",
    ] {
        assert!(
            !all.contains(secret),
            "{secret:?} leaked into the audit trail"
        );
    }
    let closed = cases::read(st, *who!(w, w.a_worker), r.id).await.unwrap();
    assert_eq!(closed.case.status, CaseStatus::Closed);
    assert!(closed
        .timeline
        .iter()
        .any(|t| t.kind == "note" && t.body == "Llamada de seguimiento"));
}

#[tokio::test]
async fn consent_rules_are_enforced() {
    let w = world().await;
    let st = &w.node.state;
    // No case-management consent.
    let mut nc = new_case();
    nc.consents.clear();
    match cases::register(st, *who!(w, w.a_worker), nc.clone()).await {
        Err(AppError::Invalid(f)) => assert!(f
            .iter()
            .any(|e| e.field == "consents" && e.code == "case_management_consent_required")),
        other => panic!("{other:?}"),
    }
    // A caseworker may not override; a coordinator may, with a reason, and it is audited.
    nc.consent_override_reason =
        Some("Riesgo inminente para la vida, sin posibilidad de firmar".into());
    assert!(matches!(
        cases::register(st, *who!(w, w.a_worker), nc.clone()).await,
        Err(AppError::Invalid(_))
    ));
    cases::register(st, *who!(w, w.a_coord), nc).await.unwrap();
    assert!(actions(&w)
        .await
        .contains(&"case.create_consent_override".to_owned()));
    // A minor cannot consent alone.
    let mut minor = new_case();
    if let PersonChoice::New(p) = &mut minor.person {
        p.identity.birth_date = Some(d("2012-01-01"));
    }
    match cases::register(st, *who!(w, w.a_worker), minor).await {
        Err(AppError::Invalid(f)) => assert!(f
            .iter()
            .any(|e| e.field == "consents.0.given_by" && e.code == "minor_needs_guardian")),
        other => panic!("{other:?}"),
    }
    // Impossible combinations are named and nothing is stored.
    let mut bad = new_case();
    bad.case.process.exploitation_start = Some("2025-06".parse().unwrap());
    bad.case.process.exploitation_end = Some("2025-01".parse().unwrap());
    match cases::register(st, *who!(w, w.a_worker), bad).await {
        Err(AppError::Invalid(f)) => assert!(f
            .iter()
            .any(|e| e.field == "case.process.exploitation_end" && e.code == "end_before_start")),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        cases::list(st, *who!(w, w.a_worker), &ListQuery::default())
            .await
            .unwrap()
            .total,
        1
    );
}

#[tokio::test]
async fn numbers_are_per_organisation_and_year_and_the_national_index_hides_names() {
    let w = world().await;
    let st = &w.node.state;
    let a1 = cases::register(st, *who!(w, w.a_worker), new_case())
        .await
        .unwrap();
    let mut again = new_case();
    again.person = PersonChoice::Existing(
        cases::read(st, *who!(w, w.a_worker), a1.id)
            .await
            .unwrap()
            .person_id,
    );
    let a2 = cases::register(st, *who!(w, w.a_worker), again)
        .await
        .unwrap();
    let b1 = cases::register(st, *who!(w, w.b_worker), new_case())
        .await
        .unwrap();
    assert_eq!(
        (a1.number.as_str(), a2.number.as_str(), b1.number.as_str()),
        (
            "GTM-ASOC1-2026-0001",
            "GTM-ASOC1-2026-0002",
            "GTM-FUND2-2026-0001"
        )
    );
    // One person, two cases.
    let found = cases::find_persons(st, *who!(w, w.a_worker), NAME, "")
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].cases.len(), 2);

    let index = cases::list(st, *who!(w, w.admin), &ListQuery::default())
        .await
        .unwrap();
    assert_eq!(index.total, 3);
    assert!(index.items.iter().all(|i| i.person_name.is_none()));
    // Reading identity needs the broken glass, with a reason.
    assert!(matches!(
        cases::read(st, *who!(w, w.admin), a1.id).await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        cases::break_glass(st, *who!(w, w.admin), a1.id, "porque sí").await,
        Err(AppError::Invalid(_))
    ));
    let v = cases::break_glass(
        st,
        *who!(w, w.admin),
        a1.id,
        "Solicitud urgente de la fiscalía, oficio 123/2026",
    )
    .await
    .unwrap();
    assert_eq!(v.person.identity.family_names, FAMILY);
    let e = w
        .node
        .state
        .store
        .audit_entries(&Default::default(), 1, 0)
        .await
        .unwrap();
    assert_eq!(e[0].action, "case.break_glass");
    assert!(e[0].detail.contains("oficio 123/2026"));
}

#[tokio::test]
async fn a_failing_registration_in_a_batch_stores_nothing() {
    let w = world().await;
    let st = &w.node.state;
    let good = cases::prepare(st, *who!(w, w.a_worker), new_case())
        .await
        .unwrap();
    let mut clash = cases::prepare(st, *who!(w, w.a_worker), new_case())
        .await
        .unwrap();
    clash.case.id = good.case.id; // the second insert fails on the primary key
    assert!(st.store.register_cases(&[good, clash]).await.is_err());
    assert_eq!(
        cases::list(st, *who!(w, w.a_worker), &ListQuery::default())
            .await
            .unwrap()
            .total,
        0
    );
    assert!(cases::find_persons(st, *who!(w, w.a_worker), NAME, "")
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn pages_and_api_refuse_another_organisation_and_serve_the_own_one() {
    let w = world().await;
    let st = &w.node.state;
    let r = cases::register(st, *who!(w, w.a_worker), new_case())
        .await
        .unwrap();
    let page = format!("/cases/{}", r.id);

    let own = w.node.client();
    own.login("gestora", crate::helpers::PASSWORD, None).await;
    let p = own.get(&page).await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains(NAME) && p.body.contains(&r.number));
    let list = own.get("/cases?q=quetzali").await;
    assert!(list.body.contains(&r.number));

    let other = w.node.client();
    other
        .login("otra-org", crate::helpers::PASSWORD, None)
        .await;
    assert_eq!(other.get(&page).await.status, 404);
    assert_eq!(other.get(&format!("{page}/edit")).await.status, 404);
    let note = other
        .post_from("/cases", &format!("{page}/notes"), &[("note", "intrusión")])
        .await;
    assert_eq!(note.status, 404);
    let list = other.get(&format!("/cases?q={}", "quetzali")).await;
    assert_eq!(list.status, 200);
    assert!(!list.body.contains(&r.number) && !list.body.contains(NAME));

    let token = w.node.token(w.b_worker.id, 1).await;
    let http = reqwest::Client::new();
    let api = format!("{}/api/v1/cases/{}", w.node.base, r.id);
    assert_eq!(
        http.get(&api)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let body = serde_json::json!({ "version": 1, "case": case_record() });
    assert_eq!(
        http.put(&api)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let own_token = w.node.token(w.a_worker.id, 1).await;
    let got: serde_json::Value = http
        .get(&api)
        .bearer_auth(&own_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["number"], r.number.as_str());
    // Nothing changed, and the refusals are on record.
    let v = cases::read(st, *who!(w, w.a_worker), r.id).await.unwrap();
    assert_eq!(v.version, 1);
    assert!(v.timeline.iter().all(|t| t.body != "intrusión"));
    let denied = w
        .node
        .audit_actions()
        .await
        .into_iter()
        .filter(|(a, actor, _)| a == "access.denied" && actor == "otra-org")
        .count();
    assert!(denied >= 4, "refusals audited: {denied}");
}
