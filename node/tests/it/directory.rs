//! The regional service directory on the backend under test: who may edit what, checks that
//! change nothing when they fail, the revision bumped by every change, received directories
//! (latest wins, replays change nothing, a bad one is refused whole), the search filters, and
//! the pages and API in Spanish.

use chrono::{DateTime, Utc};
use puente_common::directory::{DirOrg, DirService, DirectoryPayload};
use puente_common::vocab::codes::{PopulationServed, ServiceType};
use puente_common::CountryCode;
use puente_node::audit::AuditCtx;
use puente_node::authz::Actor;
use puente_node::cases::Who;
use puente_node::directory::{self, ApplyError, DirectoryQuery, ServiceInput};
use puente_node::error::AppError;
use puente_node::store::{Org, User};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{TestNode, PASSWORD};

fn actor(u: &User) -> Actor {
    Actor {
        user_id: u.id,
        username: u.username.clone(),
        role: u.role,
        org_id: u.org_id,
    }
}

fn audit_of(node: &TestNode, u: &User) -> AuditCtx {
    AuditCtx {
        actor_id: Some(u.id),
        actor: u.username.clone(),
        org_id: u.org_id,
        ..node.ctx()
    }
}

struct World {
    node: TestNode,
    a: Org,
    b: Org,
    a_coord: User,
    a_worker: User,
    b_coord: User,
    admin: User,
}

async fn world() -> World {
    let node = TestNode::start().await;
    let a = node.org("ASOC1").await;
    let b = node.org("FUND2").await;
    let (a_coord, _) = node.user("coord-a", "org_admin", Some(&a), false).await;
    let (a_worker, _) = node.user("gestora", "caseworker", Some(&a), false).await;
    let (b_coord, _) = node.user("coord-b", "org_admin", Some(&b), false).await;
    let (admin, _) = node.user("nacional", "node_admin", None, false).await;
    World {
        node,
        a,
        b,
        a_coord,
        a_worker,
        b_coord,
        admin,
    }
}

/// Runs `$call` with a `Who` for user `$u` bound to `$who`.
macro_rules! as_user {
    ($w:expr, $u:expr, |$who:ident| $call:expr) => {{
        let act = actor(&$u);
        let aud = audit_of(&$w.node, &$u);
        let $who = Who {
            actor: &act,
            audit: &aud,
        };
        $call.await
    }};
}

fn shelter(org: Option<Uuid>) -> ServiceInput {
    ServiceInput {
        org_id: org,
        service_type: "SHELTER".into(),
        populations: vec!["MINORS".into()],
        languages: vec!["spa".into(), "quc".into()],
        subdivisions: vec!["GT-QZ".into(), "GT-SM".into()],
        contact: "Tel. +502 7761 0000 · refugio@asoc1.demo".into(),
        notes: "Albergue temporal, abierto las 24 horas".into(),
    }
}

fn legal(org: Option<Uuid>) -> ServiceInput {
    ServiceInput {
        org_id: org,
        service_type: "LEGAL".into(),
        populations: vec!["WOMEN".into(), "LGBTI".into()],
        languages: vec!["spa".into(), "eng".into()],
        subdivisions: vec!["GT-GU".into()],
        contact: "Tel. +502 2230 0000".into(),
        notes: "Acompañamiento en la denuncia".into(),
    }
}

async fn directory_actions(node: &TestNode) -> Vec<(String, String)> {
    node.audit_actions()
        .await
        .into_iter()
        .filter(|(a, _, _)| a.starts_with("directory.") || a == "access.denied")
        .map(|(a, _, o)| (a, o))
        .collect()
}

fn field_codes(e: AppError) -> Vec<(String, &'static str)> {
    match e {
        AppError::Invalid(f) => f.into_iter().map(|f| (f.field, f.code)).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn coordinators_edit_only_their_own_organisations_services_and_caseworkers_none() {
    let w = world().await;
    let st = &w.node.state;
    // A coordinator adds to their own organisation without naming it.
    let mine = as_user!(w, w.a_coord, |who| directory::save_service(
        st,
        who,
        None,
        &shelter(None),
        None
    ))
    .unwrap();
    assert_eq!(mine.service.org_id, w.a.id);
    // A national administrator adds to any organisation, and must name it.
    let theirs = as_user!(w, w.admin, |who| directory::save_service(
        st,
        who,
        None,
        &legal(Some(w.b.id)),
        None
    ))
    .unwrap();
    assert_eq!(theirs.service.org_id, w.b.id);
    let e = as_user!(w, w.admin, |who| directory::save_service(
        st,
        who,
        None,
        &legal(None),
        None
    ))
    .unwrap_err();
    assert_eq!(field_codes(e), vec![("org_id".to_owned(), "required")]);

    // Another organisation's service is not found for a coordinator; adding to another
    // organisation is forbidden; both refusals are audited.
    let e = as_user!(w, w.a_coord, |who| directory::save_service(
        st,
        who,
        Some(theirs.service.id),
        &legal(None),
        None
    ))
    .unwrap_err();
    assert!(matches!(e, AppError::NotFound), "{e:?}");
    let e = as_user!(w, w.a_coord, |who| directory::deactivate_service(
        st,
        who,
        theirs.service.id,
        None
    ))
    .unwrap_err();
    assert!(matches!(e, AppError::NotFound), "{e:?}");
    let e = as_user!(w, w.a_coord, |who| directory::save_service(
        st,
        who,
        None,
        &legal(Some(w.b.id)),
        None
    ))
    .unwrap_err();
    assert!(matches!(e, AppError::OutOfScope), "{e:?}");
    // A caseworker edits nothing, not even their own organisation's.
    let e = as_user!(w, w.a_worker, |who| directory::save_service(
        st,
        who,
        Some(mine.service.id),
        &shelter(None),
        None
    ))
    .unwrap_err();
    assert!(matches!(e, AppError::Forbidden(_)), "{e:?}");
    let e = as_user!(w, w.a_worker, |who| directory::save_service(
        st,
        who,
        None,
        &shelter(None),
        None
    ))
    .unwrap_err();
    assert!(matches!(e, AppError::Forbidden(_)), "{e:?}");
    // The other coordinator still edits theirs.
    as_user!(w, w.b_coord, |who| directory::deactivate_service(
        st,
        who,
        theirs.service.id,
        None
    ))
    .unwrap();

    // Each coordinator lists only their own organisation's services.
    let listed = as_user!(w, w.a_coord, |who| directory::editable_services(st, who)).unwrap();
    assert_eq!(
        listed.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![mine.service.id]
    );
    let all = as_user!(w, w.admin, |who| directory::editable_services(st, who)).unwrap();
    assert_eq!(all.len(), 2);

    let log = directory_actions(&w.node).await;
    let denied = log.iter().filter(|(a, _)| a == "access.denied").count();
    assert!(denied >= 5, "refusals audited: {log:?}");

    // Through the API: 404 for another organisation's service (whatever the body), 403 for a
    // caseworker.
    let http = reqwest::Client::new();
    let coord_token = w.node.token(w.a_coord.id, 30).await;
    let worker_token = w.node.token(w.a_worker.id, 30).await;
    let r = http
        .put(format!(
            "{}/api/v1/directory/services/{}",
            w.node.base, theirs.service.id
        ))
        .bearer_auth(&coord_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = http
        .post(format!("{}/api/v1/directory/services", w.node.base))
        .bearer_auth(&worker_token)
        .json(&json!({ "service_type": "LEGAL", "contact": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "forbidden"
    );
    let r = http
        .post(format!("{}/api/v1/directory/services", w.node.base))
        .bearer_auth(&coord_token)
        .json(&json!({ "service_type": "LEGAL", "contact": "Tel. 2230 0000", "subdivisions": ["GT-QZ"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["service"]["org_code"], "ASOC1");
    assert_eq!(body["revision"], 4);
}

#[tokio::test]
async fn invalid_services_are_refused_per_field_and_change_nothing() {
    let w = world().await;
    let st = &w.node.state;
    let bad = ServiceInput {
        org_id: None,
        service_type: "MASSAGE".into(),
        populations: vec!["MINORS".into(), "ELDERLY".into()],
        languages: vec!["spa".into(), "klingon".into(), "spa".into()],
        subdivisions: vec!["GT-QZ".into(), "HN-CR".into()],
        contact: "   ".into(),
        notes: "x".repeat(1001),
    };
    let e = as_user!(w, w.a_coord, |who| directory::save_service(
        st, who, None, &bad, None
    ))
    .unwrap_err();
    let got = field_codes(e);
    for want in [
        ("service_type", "unknown_code"),
        ("populations.1", "unknown_code"),
        ("languages.1", "unknown_language"),
        ("languages.2", "duplicate"),
        ("subdivisions.1", "not_in_country"),
        ("contact", "required"),
        ("notes", "too_long"),
    ] {
        assert!(
            got.contains(&(want.0.to_owned(), want.1)),
            "{want:?} missing from {got:?}"
        );
    }
    assert_eq!(st.store.dir_revision().await.unwrap(), 0);
    assert!(st.store.dir_services(None).await.unwrap().is_empty());
    assert!(
        directory_actions(&w.node).await.is_empty(),
        "nothing audited for a refused input"
    );

    // Through the API: unknown members and bad codes are named.
    let token = w.node.token(w.a_coord.id, 30).await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/api/v1/directory/services", w.node.base))
        .bearer_auth(&token)
        .json(&json!({ "service_type": "LEGAL", "contact": "x", "victim_name": "no" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap(),
        json!({ "error": "unknown_field", "fields": [{ "field": "victim_name", "code": "unknown_field" }] })
    );
    let r = http
        .post(format!("{}/api/v1/directory/services", w.node.base))
        .bearer_auth(&token)
        .json(&json!({ "service_type": "LEGAL", "contact": "x", "languages": ["xx"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["fields"],
        json!([{ "field": "languages.0", "code": "unknown_language" }])
    );
    assert_eq!(st.store.dir_revision().await.unwrap(), 0);

    // Through the page: the form again, in Spanish, with the error next to the field.
    let node = &w.node;
    let (coord, secret) = node.user("coord-web", "org_admin", Some(&w.a), true).await;
    let b = node.client();
    b.login(&coord.username, PASSWORD, secret.as_deref()).await;
    let p = b
        .post_from(
            "/directory/services/new",
            "/directory/services/new",
            &[
                ("service_type", "SHELTER"),
                ("subdivisions", "GT-QZ"),
                ("contact", ""),
            ],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("Este campo es obligatorio."), "{}", p.body);
    assert!(p.body.contains("aria-invalid=\"true\""));
    assert!(
        p.body.contains("value=\"GT-QZ\" checked"),
        "ticked places kept"
    );
    assert_eq!(st.store.dir_revision().await.unwrap(), 0);
}

#[tokio::test]
async fn every_change_bumps_the_revision_and_is_audited_with_it() {
    let w = world().await;
    let st = &w.node.state;
    assert_eq!(st.store.dir_revision().await.unwrap(), 0);
    let empty = directory::snapshot(st).await.unwrap();
    assert_eq!(empty.revision, 0);
    assert!(empty.organisations.is_empty());

    let s = as_user!(w, w.a_coord, |who| directory::save_service(
        st,
        who,
        None,
        &shelter(None),
        None
    ))
    .unwrap();
    assert_eq!(s.revision, 1);
    let mut changed = shelter(None);
    changed.notes = "Abierto de lunes a sábado".into();
    let s2 = as_user!(w, w.a_coord, |who| directory::save_service(
        st,
        who,
        Some(s.service.id),
        &changed,
        None
    ))
    .unwrap();
    assert_eq!(s2.revision, 2);
    let snap = directory::snapshot(st).await.unwrap();
    assert_eq!(snap.revision, 2);
    assert!(snap.check("GTM".parse().unwrap()).is_empty());
    assert_eq!(snap.organisations.len(), 1);
    assert_eq!(snap.organisations[0].code, "ASOC1");
    let svc = &snap.organisations[0].services[0];
    assert_eq!(svc.id, s.service.id.to_string());
    assert_eq!(svc.notes, "Abierto de lunes a sábado");
    assert_eq!(svc.subdivisions, vec!["GT-QZ", "GT-SM"]);
    assert!(puente_common::directory::parse_wire_time(&snap.published_at).is_some());

    // Deactivated: kept, not published; a second deactivation is refused and changes nothing.
    let d = as_user!(w, w.a_coord, |who| directory::deactivate_service(
        st,
        who,
        s.service.id,
        None
    ))
    .unwrap();
    assert_eq!(d.revision, 3);
    assert!(!d.service.active);
    let snap = directory::snapshot(st).await.unwrap();
    assert_eq!(snap.revision, 3);
    assert!(snap.organisations.is_empty());
    let e = as_user!(w, w.a_coord, |who| directory::deactivate_service(
        st,
        who,
        s.service.id,
        None
    ))
    .unwrap_err();
    assert_eq!(
        field_codes(e),
        vec![("active".to_owned(), "already_inactive")]
    );
    // Saving it again publishes it again.
    let back = as_user!(w, w.a_coord, |who| directory::save_service(
        st,
        who,
        Some(s.service.id),
        &changed,
        None
    ))
    .unwrap();
    assert!(back.service.active);
    assert_eq!(back.revision, 4);
    // Publishing as is (for a new peer) is a revision of its own.
    assert_eq!(
        directory::publish_now(st, &w.node.ctx(), None)
            .await
            .unwrap(),
        5
    );

    let entries = st.store.audit_chunk(0, 10_000).await.unwrap();
    let dir: Vec<_> = entries
        .iter()
        .filter(|e| e.action.starts_with("directory."))
        .collect();
    let got: Vec<(&str, i64)> = dir
        .iter()
        .map(|e| {
            let d: serde_json::Value = serde_json::from_str(&e.detail).unwrap();
            (e.action.as_str(), d["revision"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("directory.service_create", 1),
            ("directory.service_update", 2),
            ("directory.service_deactivate", 3),
            ("directory.service_update", 4),
            ("directory.publish", 5),
        ]
    );
    let update: serde_json::Value = serde_json::from_str(&dir[1].detail).unwrap();
    assert_eq!(update["fields"], json!(["notes"]));
    assert_eq!(
        dir[0].target_id.as_deref(),
        Some(s.service.id.to_string().as_str())
    );
    assert_eq!(dir[0].org_id, Some(w.a.id));
    // The chain still verifies.
    assert!(puente_node::audit::verify_store(st.store.as_ref(), &[])
        .await
        .unwrap()
        .is_ok());
}

// ---------------------------------------------------------------- received directories

fn hnd() -> CountryCode {
    "HND".parse().unwrap()
}

fn peer_payload(revision: u64, notes: &str) -> DirectoryPayload {
    DirectoryPayload {
        revision,
        published_at: "2026-11-30T16:30:00.123456Z".into(),
        organisations: vec![DirOrg {
            code: "CJVS".into(),
            name: "Clínica Jurídica del Valle de Sula".into(),
            org_type: "LEGAL_SERVICE".into(),
            services: vec![
                DirService {
                    id: "01890a5d-ac96-774b-bcce-b302099a8057".into(),
                    service_type: "LEGAL".into(),
                    populations: vec!["WOMEN".into(), "MEN".into()],
                    languages: vec!["spa".into(), "cab".into()],
                    subdivisions: vec!["HN-CR".into()],
                    contact: "Tel. +504 2550 0000".into(),
                    notes: notes.into(),
                },
                DirService {
                    id: "01890a5d-ac96-774b-bcce-b302099a8058".into(),
                    service_type: "SHELTER".into(),
                    populations: vec![],
                    languages: vec!["spa".into()],
                    subdivisions: vec![],
                    contact: "Tel. +504 2440 0000".into(),
                    notes: "Albergue nacional".into(),
                },
            ],
        }],
    }
}

/// Runs one statement on the test's database (SQLite or PostgreSQL) with a message id bound as
/// `$1` and a time as `$2`.
async fn exec(node: &TestNode, sql: &str, id: Uuid, at: DateTime<Utc>) {
    if node.db_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&node.db_url).await.unwrap();
        sqlx::query(sql)
            .bind(id)
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&node.db_url).await.unwrap();
        sqlx::query(sql)
            .bind(id)
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
}

async fn inbox_status(node: &TestNode, id: Uuid) -> (String, bool) {
    let sql = "SELECT status, processed_at IS NOT NULL FROM fed_inbox WHERE id = $1";
    if node.db_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&node.db_url).await.unwrap();
        let r: (String, bool) = sqlx::query_as(sql).bind(id).fetch_one(&pool).await.unwrap();
        pool.close().await;
        r
    } else {
        let pool = sqlx::PgPool::connect(&node.db_url).await.unwrap();
        let r: (String, bool) = sqlx::query_as(sql).bind(id).fetch_one(&pool).await.unwrap();
        pool.close().await;
        r
    }
}

/// A stored inbox message of HND's directory stream, as the federation's receiver leaves it.
async fn inbox_message(node: &TestNode, seq: i64) -> Uuid {
    let id = Uuid::now_v7();
    let sql = format!(
        "INSERT INTO fed_inbox (id, origin, channel, epoch, seq, hash, kind, body, received_at, status) \
         VALUES ($1, 'HND', 'directory', 1, {seq}, '{}', 'directory.publish', '{{}}', $2, 'stored')",
        "0".repeat(64)
    );
    exec(node, &sql, id, node.state.clock.now()).await;
    id
}

#[tokio::test]
async fn received_directories_latest_wins_replays_change_nothing_and_bad_ones_are_refused() {
    let w = world().await;
    let st = &w.node.state;
    let v = |p: &DirectoryPayload| serde_json::to_value(p).unwrap();

    let m2 = inbox_message(&w.node, 2).await;
    assert!(
        directory::apply_remote(st, hnd(), &v(&peer_payload(2, "segunda")), m2)
            .await
            .unwrap()
    );
    assert_eq!(inbox_status(&w.node, m2).await, ("processed".into(), true));
    // An earlier position of the stream applied late is ignored (the latest position wins),
    // and its message is processed all the same.
    let m1 = inbox_message(&w.node, 1).await;
    assert!(
        !directory::apply_remote(st, hnd(), &v(&peer_payload(1, "primera")), m1)
            .await
            .unwrap()
    );
    assert_eq!(inbox_status(&w.node, m1).await.0, "processed");
    // The same message again: nothing changes.
    assert!(
        !directory::apply_remote(st, hnd(), &v(&peer_payload(2, "segunda")), m2)
            .await
            .unwrap()
    );
    let held = st.store.dir_remotes().await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!((held[0].origin.as_str(), held[0].revision), ("HND", 2));
    assert_eq!(held[0].message_id, m2);
    assert!(held[0].payload.contains("segunda"));
    // A newer one replaces it.
    let m3 = inbox_message(&w.node, 3).await;
    assert!(
        directory::apply_remote(st, hnd(), &v(&peer_payload(3, "tercera")), m3)
            .await
            .unwrap()
    );
    let held = st.store.dir_remotes().await.unwrap();
    assert_eq!(held[0].revision, 3);
    assert!(held[0].payload.contains("tercera"));

    // Refused whole, with a reason, and nothing stored: a bad code anywhere, an unknown
    // member, a float, a place of another country, a directory claiming to be this node's.
    let mut bad = peer_payload(9, "mala");
    bad.organisations[0].services[1].service_type = "MASSAGE".into();
    let mut unknown = v(&peer_payload(9, "mala"));
    unknown["organisations"][0]["services"][0]["victim"] = json!("x");
    let mut float = v(&peer_payload(9, "mala"));
    float["revision"] = json!(9.5);
    let mut elsewhere = peer_payload(9, "mala");
    elsewhere.organisations[0].services[0].subdivisions = vec!["GT-QZ".into()];
    for (i, (payload, reason)) in [
        (v(&bad), "payload_invalid"),
        (unknown, "payload_malformed"),
        (float, "payload_malformed"),
        (v(&elsewhere), "payload_invalid"),
    ]
    .into_iter()
    .enumerate()
    {
        let m = inbox_message(&w.node, 4 + i64::try_from(i).unwrap()).await;
        match directory::apply_remote(st, hnd(), &payload, m).await {
            Err(ApplyError::Refused { reason: r, .. }) => assert_eq!(r, reason),
            other => panic!("expected {reason}, got {other:?}"),
        }
        assert_eq!(
            inbox_status(&w.node, m).await.0,
            "stored",
            "left for the caller"
        );
    }
    match directory::apply_remote(st, "GTM".parse().unwrap(), &v(&peer_payload(9, "x")), m3).await {
        Err(ApplyError::Refused { reason, .. }) => assert_eq!(reason, "own_origin"),
        other => panic!("{other:?}"),
    }
    let held = st.store.dir_remotes().await.unwrap();
    assert_eq!((held.len(), held[0].revision), (1, 3));
}

// ---------------------------------------------------------------- browsing and search

async fn seeded() -> World {
    let w = world().await;
    let st = &w.node.state;
    as_user!(w, w.a_coord, |who| directory::save_service(
        st,
        who,
        None,
        &shelter(None),
        None
    ))
    .unwrap();
    as_user!(w, w.b_coord, |who| directory::save_service(
        st,
        who,
        None,
        &legal(None),
        None
    ))
    .unwrap();
    let m = inbox_message(&w.node, 1).await;
    directory::apply_remote(
        st,
        hnd(),
        &serde_json::to_value(peer_payload(
            1,
            "Asistencia legal gratuita en San Pedro Sula",
        ))
        .unwrap(),
        m,
    )
    .await
    .unwrap();
    w
}

#[tokio::test]
async fn the_directory_is_searched_by_country_type_population_language_place_and_words() {
    let w = seeded().await;
    let q = |f: fn(&mut DirectoryQuery)| {
        let mut q = DirectoryQuery::default();
        f(&mut q);
        q
    };
    let find = |q: DirectoryQuery| {
        let worker = w.a_worker.clone();
        let node = &w.node;
        async move {
            let act = actor(&worker);
            let aud = audit_of(node, &worker);
            let v = directory::directory(
                &node.state,
                Who {
                    actor: &act,
                    audit: &aud,
                },
                &q,
            )
            .await
            .unwrap();
            v.entries
                .iter()
                .map(|e| format!("{}/{}/{}", e.country, e.org_code, e.service.service_type))
                .collect::<Vec<_>>()
        }
    };
    // Everything: this node first, then the peer.
    assert_eq!(
        find(DirectoryQuery::default()).await,
        vec![
            "GTM/ASOC1/SHELTER",
            "GTM/FUND2/LEGAL",
            "HND/CJVS/SHELTER",
            "HND/CJVS/LEGAL"
        ]
    );
    assert_eq!(
        find(q(|q| q.country = Some("HND".parse().unwrap()))).await,
        vec!["HND/CJVS/SHELTER", "HND/CJVS/LEGAL"]
    );
    assert_eq!(
        find(q(|q| q.service_type = Some(ServiceType::Legal))).await,
        vec!["GTM/FUND2/LEGAL", "HND/CJVS/LEGAL"]
    );
    // A population: services that name it, and those for anyone.
    assert_eq!(
        find(q(|q| q.population = Some(PopulationServed::Minors))).await,
        vec!["GTM/ASOC1/SHELTER", "HND/CJVS/SHELTER"]
    );
    assert_eq!(
        find(q(|q| q.language = Some("cab".into()))).await,
        vec!["HND/CJVS/LEGAL"]
    );
    // A place: services covering it, and those covering its whole country.
    assert_eq!(
        find(q(|q| q.subdivision = Some("HN-CR".into()))).await,
        vec!["HND/CJVS/SHELTER", "HND/CJVS/LEGAL"]
    );
    assert_eq!(
        find(q(|q| q.subdivision = Some("GT-QZ".into()))).await,
        vec!["GTM/ASOC1/SHELTER"]
    );
    // Words, accents and case aside, in names, notes and places' names.
    assert_eq!(
        find(q(|q| q.text = Some("pedro SULA".into()))).await,
        vec!["HND/CJVS/LEGAL"]
    );
    assert_eq!(
        find(q(|q| q.text = Some("quetzaltenango".into()))).await,
        vec!["GTM/ASOC1/SHELTER"]
    );
    assert_eq!(
        find(q(|q| q.text = Some("clinica juridica gratuita".into()))).await,
        vec!["HND/CJVS/LEGAL"]
    );
    assert!(find(q(|q| q.text = Some("inexistente".into())))
        .await
        .is_empty());
    // Combined.
    assert_eq!(
        find(q(|q| {
            q.service_type = Some(ServiceType::Shelter);
            q.language = Some("quc".into());
        }))
        .await,
        vec!["GTM/ASOC1/SHELTER"]
    );

    // The API applies the same filters, and refuses codes that are not codes.
    let token = w.node.token(w.a_worker.id, 30).await;
    let http = reqwest::Client::new();
    let r: serde_json::Value = http
        .get(format!(
            "{}/api/v1/directory?service_type=LEGAL&country=HND",
            w.node.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["items"].as_array().unwrap().len(), 1);
    assert_eq!(r["items"][0]["org_code"], "CJVS");
    assert_eq!(r["items"][0]["service"]["subdivisions"], json!(["HN-CR"]));
    assert!(r["items"][0]["received_at"].is_string());
    assert_eq!(r["total"], 4);
    assert_eq!(r["sources"].as_array().unwrap().len(), 2);
    let r = http
        .get(format!(
            "{}/api/v1/directory?population=ELDERLY",
            w.node.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["fields"],
        json!([{ "field": "population", "code": "unknown_code" }])
    );
}

#[tokio::test]
async fn the_directory_page_is_in_spanish_with_place_names_and_peers_received_at() {
    let w = seeded().await;
    let node = &w.node;
    let b = node.client();
    b.login(&w.a_worker.username, PASSWORD, None).await;
    let home = b.get("/").await;
    // The navigation (whose links are escaped) and the shortcuts lead to the directory.
    assert!(
        home.body.contains("directory\">Directorio</a>"),
        "navigation link"
    );
    assert!(home
        .body
        .contains("<a href=\"/directory\"><strong>Directorio</strong>"));
    let p = b.get("/directory").await;
    assert_eq!(p.status, 200);
    for text in [
        "<title>Directorio regional de servicios — Puente</title>",
        "Albergue",
        "Asistencia legal",
        "Niñas, niños y adolescentes",
        "Quetzaltenango, San Marcos",
        "Cortés",
        "Todo el país",
        "Cualquier persona",
        "K&#x27;iche&#x27;",
        "Garífuna",
        "Honduras",
        "Recibido",
        "Tel. +504 2550 0000",
        "Clínica Jurídica del Valle de Sula",
        "Servicios: 4 de 4",
    ] {
        assert!(p.body.contains(text), "{text:?} missing from the page");
    }
    assert!(!p.body.contains("GT-QZ<"), "places by name, not code");
    // A caseworker is not offered the editors' pages.
    assert!(!p.body.contains("href=\"/directory/services\""));
    assert_eq!(b.get("/directory/services").await.status, 403);

    let p = b.get("/directory?q=san+pedro&population=WOMEN").await;
    assert!(p.body.contains("Servicios: 1 de 4"), "filtered");
    assert!(!p.body.contains("Quetzaltenango, San Marcos"));
    let p = b.get("/directory?language=zz").await;
    assert!(
        p.body.contains("Elija un valor de la lista."),
        "a bad filter is named"
    );

    // A held directory that no longer passes its checks is not shown at all.
    exec(
        node,
        "UPDATE dir_remote SET payload = REPLACE(payload, '\"LEGAL\"', '\"MASSAGE\"') WHERE message_id <> $1 AND received_at <> $2",
        Uuid::nil(),
        DateTime::<Utc>::UNIX_EPOCH,
    )
    .await;
    let p = b.get("/directory").await;
    assert!(p.body.contains("No se muestra"));
    assert!(p
        .body
        .contains("el directorio recibido contiene datos no válidos"));
    assert!(!p.body.contains("Clínica Jurídica del Valle de Sula"));
    assert!(p.body.contains("Servicios: 2 de 2"));

    // In English when asked.
    let csrf = b.get("/directory").await.csrf();
    b.post("/language", &[("csrf", &csrf), ("lang", "en")])
        .await;
    let p = b.get("/directory").await;
    assert!(p.body.contains("Regional service directory"));
    assert!(p.body.contains("Children and adolescents"));
}

#[tokio::test]
async fn a_coordinator_adds_edits_and_deactivates_a_service_through_the_pages() {
    let w = world().await;
    let node = &w.node;
    let (coord, secret) = node.user("coord-web", "org_admin", Some(&w.a), true).await;
    let b = node.client();
    b.login(&coord.username, PASSWORD, secret.as_deref()).await;
    let p = b.get("/directory").await;
    assert!(p.body.contains("href=\"/directory/services\""));
    let form = b.get("/directory/services/new").await;
    assert_eq!(form.status, 200);
    assert!(
        form.body.contains("Org ASOC1"),
        "the coordinator's organisation"
    );
    assert!(
        !form.body.contains("name=\"org_id\""),
        "no choice of organisation"
    );
    let p = b
        .post_from(
            "/directory/services/new",
            "/directory/services/new",
            &[
                ("service_type", "PSYCHOLOGICAL"),
                ("populations", "MINORS"),
                ("populations", "INDIGENOUS"),
                ("subdivisions", "GT-QZ"),
                ("languages", "spa"),
                ("languages", "quc"),
                ("contact", "Tel. +502 7761 0000 ext. 2"),
                ("notes", "Con intérprete"),
            ],
        )
        .await;
    assert_eq!(
        p.location.as_deref(),
        Some("/directory/services?notice=directory_service_saved")
    );
    let list = b
        .get("/directory/services?notice=directory_service_saved")
        .await;
    assert!(list.body.contains("Servicio guardado y publicado."));
    assert!(list.body.contains("Atención psicológica"));
    assert!(list.body.contains("Revisión publicada: 1"));
    let id = node.state.store.dir_services(None).await.unwrap()[0]
        .service
        .id;
    let edit = b.get(&format!("/directory/services/{id}")).await;
    assert!(edit.body.contains("Con intérprete"));
    assert!(edit.body.contains("value=\"quc\" checked"));
    let p = b
        .post_from(
            &format!("/directory/services/{id}"),
            &format!("/directory/services/{id}"),
            &[
                ("service_type", "PSYCHOLOGICAL"),
                ("subdivisions", "GT-QZ"),
                ("subdivisions", "GT-TO"),
                ("languages", "spa"),
                ("contact", "Tel. +502 7761 0000 ext. 2"),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let snap = directory::snapshot(&node.state).await.unwrap();
    assert_eq!(snap.revision, 2);
    let s = &snap.organisations[0].services[0];
    assert_eq!(s.subdivisions, vec!["GT-QZ", "GT-TO"]);
    assert!(s.populations.is_empty() && s.notes.is_empty());
    let p = b
        .post_from(
            &format!("/directory/services/{id}"),
            &format!("/directory/services/{id}/deactivate"),
            &[],
        )
        .await;
    assert_eq!(
        p.location.as_deref(),
        Some("/directory/services?notice=directory_service_deactivated")
    );
    let snap = directory::snapshot(&node.state).await.unwrap();
    assert_eq!(snap.revision, 3);
    assert!(snap.organisations.is_empty());
    // Another organisation's coordinator does not find it.
    let (other, secret) = node.user("coord-otra", "org_admin", Some(&w.b), true).await;
    let b2 = node.client();
    b2.login(&other.username, PASSWORD, secret.as_deref()).await;
    assert_eq!(
        b2.get(&format!("/directory/services/{id}")).await.status,
        404
    );
}

// ---------------------------------------------------------------- publication

#[tokio::test]
async fn a_change_is_published_to_every_destination_in_its_own_transaction() {
    use puente_federation::{Channel, Envelope};
    let w = world().await;
    let st = &w.node.state;
    let publication = directory::Publication {
        destinations: vec![hnd(), "SLV".parse().unwrap()],
        origin: "GTM".parse().unwrap(),
        manifest_version: 3,
        signer: &st.identity,
        now: st.clock.now(),
    };
    let saved = as_user!(w, w.a_coord, |who| directory::save_service(
        st,
        who,
        None,
        &shelter(None),
        Some(&publication)
    ))
    .unwrap();
    // A refused change enqueues nothing.
    let mut bad = shelter(None);
    bad.service_type = "MASSAGE".into();
    as_user!(w, w.a_coord, |who| directory::save_service(
        st,
        who,
        None,
        &bad,
        Some(&publication)
    ))
    .unwrap_err();
    as_user!(w, w.a_coord, |who| directory::deactivate_service(
        st,
        who,
        saved.service.id,
        Some(&publication)
    ))
    .unwrap();

    for peer in ["HND", "SLV"] {
        let pending = st
            .store
            .fed_pending(peer.parse().unwrap(), Channel::Directory, 10)
            .await
            .unwrap();
        assert_eq!(pending.len(), 2, "{peer}: one envelope per change");
        let first = Envelope::parse(pending[0].body.as_bytes()).unwrap();
        let second = Envelope::parse(pending[1].body.as_bytes()).unwrap();
        assert_eq!(first.kind, directory::PUBLISH_KIND);
        assert_eq!((first.seq, second.seq), (1, 2));
        assert_eq!(first.manifest_version, 3);
        assert_eq!(first.destination.as_str(), peer);
        first.verify(&st.identity.verifying_key()).unwrap();
        // The payload is the directory at that revision, and passes a peer's checks.
        let p1: DirectoryPayload = serde_json::from_value(first.payload.clone()).unwrap();
        let p2: DirectoryPayload = serde_json::from_value(second.payload.clone()).unwrap();
        assert_eq!((p1.revision, p2.revision), (1, 2));
        assert!(p1.check("GTM".parse().unwrap()).is_empty());
        assert_eq!(
            p1.organisations[0].services[0].id,
            saved.service.id.to_string()
        );
        assert!(
            p2.organisations.is_empty(),
            "a deactivated service is withdrawn"
        );
        // What a peer does with it.
        let peer_node_view = directory::parse_remote("GTM".parse().unwrap(), &first.payload);
        assert!(peer_node_view.is_ok());
    }
    // The audit entries name where the change went.
    let entries = st.store.audit_chunk(0, 10_000).await.unwrap();
    let create = entries
        .iter()
        .find(|e| e.action == "directory.service_create")
        .unwrap();
    let d: serde_json::Value = serde_json::from_str(&create.detail).unwrap();
    assert_eq!(d["published_to"], json!(["HND", "SLV"]));
}
