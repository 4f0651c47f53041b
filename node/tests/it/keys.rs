//! Data-key rotation on the backend under test: every sealed column moves to the new key,
//! everything still opens through the normal read paths (and the blind index still finds the
//! person), old keys stay in the file, an unknown key id is a clear error, an interrupted
//! rotation is finished by a re-run, and a concurrent edit is never overwritten.

use std::sync::Arc;

use chrono::NaiveDate;
use puente_common::case::{ProceedingRecord, ServiceRecord};
use puente_common::vocab::codes::{
    ConsentGivenBy, ConsentScope, ProceedingStage, ServiceStatus, ServiceType,
};
use puente_node::authz::Actor;
use puente_node::cases::{self, Who};
use puente_node::clock::{Clock, ManualClock, SystemClock};
use puente_node::crypto::{DataKey, FieldRef};
use puente_node::error::AppError;
use puente_node::keys::{self, RotateOptions};
use puente_node::store::keys_sql::{Reseal, SEALED_COLUMNS};
use puente_node::store::{Session, SessionStage, User};
use uuid::Uuid;

use crate::cases::{consent, new_case, NAME};
use crate::helpers::{TestNode, PASSWORD};

fn actor(u: &User) -> Actor {
    Actor {
        user_id: u.id,
        username: u.username.clone(),
        role: u.role,
        org_id: u.org_id,
    }
}

macro_rules! who {
    ($node:expr, $u:expr) => {
        Who {
            actor: &actor(&$u),
            audit: &$node.ctx(),
        }
    };
}

fn opts() -> RotateOptions {
    RotateOptions {
        grace: std::time::Duration::ZERO,
        ..RotateOptions::new("cli:tester")
    }
}

/// Runs SQL on the node's database directly (under the store), sqlite or PostgreSQL.
async fn sql_strings(node: &TestNode, sql: &str) -> Vec<String> {
    if node.db_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&node.db_url).await.unwrap();
        let v = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        v
    } else {
        let pool = sqlx::PgPool::connect(&node.db_url).await.unwrap();
        let v = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        v
    }
}

async fn sql_exec(node: &TestNode, sql: &str) -> Result<u64, sqlx::Error> {
    if node.db_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&node.db_url).await.unwrap();
        let r = sqlx::query(sql)
            .execute(&pool)
            .await
            .map(|r| r.rows_affected());
        pool.close().await;
        r
    } else {
        let pool = sqlx::PgPool::connect(&node.db_url).await.unwrap();
        let r = sqlx::query(sql)
            .execute(&pool)
            .await
            .map(|r| r.rows_affected());
        pool.close().await;
        r
    }
}

/// Every sealed value of every sealed column, as `(table.column, value)`, and every `key_id`.
async fn scan(node: &TestNode) -> (Vec<(String, String)>, Vec<String>) {
    let mut values = Vec::new();
    let mut key_ids = Vec::new();
    for col in SEALED_COLUMNS {
        let sql = format!(
            "SELECT {c} FROM {t} WHERE {c} IS NOT NULL",
            c = col.column,
            t = col.table
        );
        for v in sql_strings(node, &sql).await {
            values.push((col.name(), v));
        }
        if col.has_key_id {
            // The key_id of rows that hold a sealed value (a row without one keeps its key_id).
            let sql = format!(
                "SELECT key_id FROM {t} WHERE {c} IS NOT NULL",
                c = col.column,
                t = col.table
            );
            key_ids.extend(sql_strings(node, &sql).await);
        }
    }
    (values, key_ids)
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

struct World {
    node: TestNode,
    clock: ManualClock,
    worker: User,
    totp_secret: String,
    case_id: Uuid,
    session_hash: String,
    referral_id: Uuid,
}

/// A node with a value in every sealed column: a case (person, narrative, consents, one with a
/// guardian), a note, a service and a proceeding with notes, a draft, a TOTP user and a session
/// in the middle of TOTP enrolment.
async fn world() -> World {
    // Near the wall clock, so that TOTP codes computed by the test browser are accepted.
    let clock = ManualClock::new(SystemClock.now());
    let node = TestNode::start_with(Arc::new(clock.clone()), |_| {}).await;
    let st = &node.state;
    let org = node.org("ASOC1").await;
    let (worker, secret) = node.user("gestora", "caseworker", Some(&org), true).await;
    let r = cases::register(st, who!(node, worker), new_case())
        .await
        .unwrap();
    cases::add_note(st, who!(node, worker), r.id, "Nota confidencial")
        .await
        .unwrap();
    // A legal hold (its reason is sealed), placed by the organisation's coordinator.
    let (coord, _) = node
        .user("coordinacion", "org_admin", Some(&org), false)
        .await;
    puente_node::retention::place_hold(st, who!(node, coord), r.id, "Proceso penal abierto")
        .await
        .unwrap();
    let mut guardian = consent(ConsentScope::StatisticalUse);
    guardian.given_by = ConsentGivenBy::Guardian;
    guardian.guardian_name = "Tutora Legal".into();
    cases::add_consent(st, who!(node, worker), r.id, guardian)
        .await
        .unwrap();
    let service = ServiceRecord {
        service_type: ServiceType::Shelter,
        provider: "Casa Refugio".into(),
        status: ServiceStatus::InProgress,
        start_date: Some(d("2026-03-03")),
        end_date: None,
        notes: "Notas del albergue".into(),
    };
    cases::save_entry(st, who!(node, worker), r.id, None, service)
        .await
        .unwrap();
    let proceeding = ProceedingRecord {
        stage: ProceedingStage::Complaint,
        date: Some(d("2026-03-04")),
        authority: "Fiscalía".into(),
        reference: "MP-1".into(),
        verdict: None,
        victim_witness: true,
        protection_measures: false,
        reparation_ordered: false,
        notes: "Notas del proceso".into(),
    };
    cases::save_entry(st, who!(node, worker), r.id, None, proceeding)
        .await
        .unwrap();
    cases::save_draft(
        st,
        who!(node, worker),
        "case",
        &serde_json::json!({ "given_names": "Borrador" }),
    )
    .await
    .unwrap();
    // A referral sent under a consent override, with a note in its history: the stored offer,
    // the override reason and the note are sealed (as `referrals` seals them).
    let referral_id = Uuid::now_v7();
    {
        use puente_node::cases::seal::Sealer;
        use puente_node::store::ref_sql::{RefChange, RefEventRow, ReferralRow};
        let s = Sealer::new(st);
        let at = st.clock.now();
        let row = ReferralRow {
            id: referral_id,
            direction: "out".into(),
            peer: "HND".into(),
            org_id: Some(org.id),
            case_id: Some(r.id),
            consent_id: None,
            sender_org: "ASOC1".into(),
            sender_org_name: "Asociación".into(),
            sender_reference: r.number.clone(),
            dest_org: None,
            dest_service: None,
            reason: "RETURN_ASSISTANCE".into(),
            urgency: "ROUTINE".into(),
            needs: "[\"SHELTER\"]".into(),
            field_groups: "[]".into(),
            state: "awaiting_approval".into(),
            recall_state: None,
            recall_reason: None,
            expires_on: None,
            payload: Some(s.seal_json(
                "referrals",
                referral_id,
                "payload",
                &serde_json::json!({ "name": "Oferta sellada" }),
            )),
            override_reason: s.seal_text(
                "referrals",
                referral_id,
                "override_reason",
                "Urgencia vital",
            ),
            key_id: s.key_id(),
            created_by: Some(worker.id),
            created_at: at,
            updated_at: at,
            version: 1,
        };
        let event = RefEventRow {
            id: Uuid::now_v7(),
            referral_id,
            at,
            kind: "created".into(),
            message_id: None,
            actor_id: Some(worker.id),
            detail: "{}".into(),
            note: s.seal_text(
                "referral_events",
                referral_id,
                "note",
                "Nota de la referencia",
            ),
            key_id: s.key_id(),
        };
        let mut change = RefChange::default();
        change.referrals.push(&row);
        change.events.push(event);
        st.store.ref_apply(change).await.unwrap();
    }
    // A session in the middle of TOTP enrolment holds the pending secret, sealed.
    let session_hash = puente_node::crypto::sha256_hex(b"a session");
    let now = st.clock.now();
    let pending = st.data_key.seal(
        FieldRef {
            table: "sessions",
            row: &session_hash,
            field: "pending_totp",
        },
        b"PENDINGSECRET",
    );
    st.store
        .create_session(&Session {
            id_hash: session_hash.clone(),
            user_id: worker.id,
            stage: SessionStage::TotpEnrolRequired,
            csrf_token: "csrf".into(),
            pending_totp: Some(pending),
            created_at: now,
            last_seen_at: now,
            expires_at: now + chrono::Duration::hours(1),
        })
        .await
        .unwrap();
    World {
        node,
        clock,
        worker,
        totp_secret: secret.unwrap(),
        case_id: r.id,
        session_hash,
        referral_id,
    }
}

/// Everything opens through the node's own read paths.
async fn everything_opens(w: &World) {
    let st = &w.node.state;
    let v = cases::read(st, who!(w.node, w.worker), w.case_id)
        .await
        .unwrap();
    assert_eq!(v.person.identity.given_names, NAME);
    assert_eq!(v.case.narrative, "Relato confidencial de la víctima");
    assert!(v
        .consents
        .iter()
        .any(|c| c.record.guardian_name == "Tutora Legal"));
    assert_eq!(v.services[0].record.notes, "Notas del albergue");
    assert_eq!(v.proceedings[0].record.notes, "Notas del proceso");
    assert!(v.timeline.iter().any(|t| t.body == "Nota confidencial"));
    let draft = cases::draft(st, who!(w.node, w.worker), "case")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(draft["given_names"], "Borrador");
    let session = st.store.session(&w.session_hash).await.unwrap();
    let pending = st
        .data_key
        .open(
            FieldRef {
                table: "sessions",
                row: &w.session_hash,
                field: "pending_totp",
            },
            session.pending_totp.as_deref().unwrap(),
        )
        .unwrap();
    assert_eq!(pending.as_slice(), b"PENDINGSECRET");
    // The referral's sealed values.
    {
        use puente_node::cases::seal::Sealer;
        let s = Sealer::new(st);
        let row = st.store.referral(w.referral_id).await.unwrap();
        let offer: serde_json::Value = s
            .open_json(
                "referrals",
                row.id,
                "payload",
                row.payload.as_deref().unwrap(),
            )
            .unwrap();
        assert_eq!(offer["name"], "Oferta sellada");
        let reason = s
            .open_text(
                "referrals",
                row.id,
                "override_reason",
                row.override_reason.as_deref().unwrap(),
            )
            .unwrap();
        assert_eq!(reason, "Urgencia vital");
        let events = st.store.ref_events(w.referral_id).await.unwrap();
        let note = s
            .open_text(
                "referral_events",
                w.referral_id,
                "note",
                events[0].event.note.as_deref().unwrap(),
            )
            .unwrap();
        assert_eq!(note, "Nota de la referencia");
    }
    // The legal hold's reason.
    let holds = puente_node::retention::holds(st, who!(w.node, w.worker), w.case_id)
        .await
        .unwrap();
    assert_eq!(holds[0].reason, "Proceso penal abierto");
    // The blind index (keyed by a sub-key) still finds the person.
    let found = cases::find_persons(st, who!(w.node, w.worker), "xiomara", "")
        .await
        .unwrap();
    assert!(!found.is_empty());
    assert!(found.iter().all(|p| p.given_names == NAME));
}

async fn totp_login_works(w: &World) {
    let b = w.node.client();
    let p = b.login("gestora", PASSWORD, Some(&w.totp_secret)).await;
    assert_eq!(
        p.location.as_deref(),
        Some("/"),
        "TOTP log-in after rotation: {}",
        p.status
    );
}

#[tokio::test]
async fn rotation_reseals_every_sealed_column_and_everything_still_opens() {
    let w = world().await;
    let st = &w.node.state;
    let key_path = st.config.keys.data_key.clone();
    // The node was made before rotation existed: a bare base64 key file, unprefixed values.
    let original = std::fs::read_to_string(&key_path).unwrap();
    let k1 = original.trim().strip_prefix("k1 ").unwrap().to_owned();
    std::fs::write(&key_path, format!("{k1}\n")).unwrap();
    sql_exec(&w.node, "UPDATE persons SET identity = substr(identity, 4)")
        .await
        .unwrap();
    sql_exec(
        &w.node,
        "UPDATE users SET totp_secret = substr(totp_secret, 4) WHERE totp_secret IS NOT NULL",
    )
    .await
    .unwrap();
    let (before, _) = scan(&w.node).await;
    let columns: std::collections::BTreeSet<&str> =
        before.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        columns.len(),
        SEALED_COLUMNS.len(),
        "a value in every sealed column: {columns:?}"
    );
    assert!(before
        .iter()
        .any(|(c, v)| c == "persons.identity" && !v.contains(':')));
    everything_opens(&w).await;

    let report = keys::rotate(&st.config, &st.store, st.clock.as_ref(), &opts())
        .await
        .unwrap();
    assert_eq!(report.key_id, "k2");
    assert!(report.key_added);
    assert!(report.complete(), "{report:?}");
    assert_eq!(report.key_ids, ["k1", "k2"]);
    assert_eq!(report.resealed(), before.len() as u64);
    for col in SEALED_COLUMNS {
        assert!(
            report.columns[&col.name()].resealed >= 1,
            "{} re-sealed: {report:?}",
            col.name()
        );
    }

    // Every sealed value now names k2; every key_id says k2.
    let (after, key_ids) = scan(&w.node).await;
    assert_eq!(after.len(), before.len());
    for (c, v) in &after {
        assert!(v.starts_with("k2:"), "{c} not re-sealed: {v}");
    }
    assert!(key_ids.iter().all(|k| k == "k2"), "{key_ids:?}");

    // The old key is still in the file, first, unchanged; the new one is last.
    let file = std::fs::read_to_string(&key_path).unwrap();
    let lines: Vec<&str> = file.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0], format!("k1 {k1}"));
    assert!(lines[1].starts_with("k2 "));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert!(
        !key_path.with_extension("key.lock").exists(),
        "lock released"
    );

    // The running node opens everything (it re-reads the key file on meeting k2) and logs in.
    everything_opens(&w).await;
    totp_login_works(&w).await;

    // New values are sealed with k2 (at the latest after the next file check).
    w.clock.advance(chrono::Duration::seconds(
        puente_node::crypto::RELOAD_CHECK_SECS,
    ));
    cases::add_note(st, who!(w.node, w.worker), w.case_id, "Nota nueva")
        .await
        .unwrap();
    let bodies = sql_strings(&w.node, "SELECT body FROM timeline WHERE body IS NOT NULL").await;
    assert!(bodies.iter().all(|b| b.starts_with("k2:")), "{bodies:?}");
    assert_eq!(st.data_key.current_id(), "k2");

    // The timeline is still append-only after its bodies were re-sealed.
    assert!(sql_exec(&w.node, "UPDATE timeline SET kind = 'x'")
        .await
        .is_err());

    // One audit entry, with counts and no key.
    let entries = st.store.audit_chunk(0, 10_000).await.unwrap();
    let rotations: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "keys.rotate")
        .collect();
    assert_eq!(rotations.len(), 1);
    let e = rotations[0];
    assert_eq!(
        (e.actor.as_str(), e.outcome.as_str()),
        ("cli:tester", "success")
    );
    assert_eq!(e.target_id.as_deref(), Some("k2"));
    assert!(
        e.detail.contains("persons.identity") && e.detail.contains("resealed"),
        "{}",
        e.detail
    );
    let k2 = lines[1].strip_prefix("k2 ").unwrap();
    assert!(
        !e.detail.contains(&k1) && !e.detail.contains(k2),
        "no key in the audit trail"
    );
    let trusted = [st.identity.public_key_b64()];
    assert!(
        puente_node::audit::verify_store(st.store.as_ref(), &trusted)
            .await
            .unwrap()
            .is_ok()
    );

    // A second rotation moves everything on to k3 and keeps both older keys.
    let again = keys::rotate(&st.config, &st.store, st.clock.as_ref(), &opts())
        .await
        .unwrap();
    assert_eq!(again.key_id, "k3");
    assert_eq!(again.key_ids, ["k1", "k2", "k3"]);
    let (third, _) = scan(&w.node).await;
    assert!(third.iter().all(|(_, v)| v.starts_with("k3:")));
    everything_opens(&w).await;
}

#[tokio::test]
async fn a_value_naming_an_unknown_key_fails_to_open_with_a_clear_error() {
    let w = world().await;
    let st = &w.node.state;
    let ids = sql_strings(&w.node, "SELECT identity FROM persons").await;
    let body = ids[0].split_once(':').unwrap().1;
    sql_exec(
        &w.node,
        &format!("UPDATE persons SET identity = 'k7:{body}'"),
    )
    .await
    .unwrap();
    match cases::read(st, who!(w.node, w.worker), w.case_id).await {
        Err(AppError::Internal(msg)) => {
            assert!(
                msg.contains("persons.identity") && msg.contains("data key k7"),
                "{msg}"
            );
            assert!(!msg.contains(body), "no sealed value in the message");
        }
        other => panic!("expected an internal error, got {other:?}"),
    }
    // Rotation re-seals everything else, leaves that value alone, and says so.
    let report = keys::rotate(&st.config, &st.store, st.clock.as_ref(), &opts())
        .await
        .unwrap();
    assert!(!report.complete());
    assert_eq!(report.unreadable.len(), 1, "{report:?}");
    assert!(report.unreadable[0].starts_with("persons.identity "));
    assert_eq!(report.columns["persons.identity"].unreadable, 1);
    assert!(report.columns["cases.narrative"].resealed >= 1);
    let entries = st.store.audit_chunk(0, 10_000).await.unwrap();
    let e = entries.iter().find(|e| e.action == "keys.rotate").unwrap();
    assert_eq!(e.outcome, "failure");
}

#[tokio::test]
async fn an_interrupted_rotation_leaves_every_value_readable_and_a_rerun_finishes() {
    let w = world().await;
    let st = &w.node.state;
    let mut others = Vec::new();
    for _ in 0..3 {
        others.push(
            cases::register(st, who!(w.node, w.worker), new_case())
                .await
                .unwrap()
                .id,
        );
    }
    let edited_id = others[0];
    let key_path = st.config.keys.data_key.clone();
    let persons = SEALED_COLUMNS
        .iter()
        .find(|c| c.table == "persons")
        .unwrap();

    // Step 1 and one batch of step 3, then the rotation "dies".
    assert_eq!(keys::add_key(&key_path).unwrap(), "k2");
    let ring = DataKey::from_file(&key_path).unwrap();
    let b = keys::reseal_batch(st.store.as_ref(), &ring, persons, None, 2)
        .await
        .unwrap();
    assert_eq!((b.seen, b.resealed, b.conflicts), (2, 2, 0));
    assert!(b.next.is_some());
    let (mixed, key_ids) = scan(&w.node).await;
    let k2 = mixed.iter().filter(|(_, v)| v.starts_with("k2:")).count();
    assert_eq!(k2, 2, "a consistent mix: {mixed:?}");
    assert_eq!(key_ids.iter().filter(|k| *k == "k2").count(), 2);
    // Everything opens in the meantime (the node meets k2 and re-reads the key file).
    everything_opens(&w).await;
    for c in cases::list(st, who!(w.node, w.worker), &Default::default())
        .await
        .unwrap()
        .items
    {
        cases::read(st, who!(w.node, w.worker), c.id).await.unwrap();
    }

    // A concurrent edit between reading and re-sealing is not overwritten.
    let narrative = SEALED_COLUMNS.iter().find(|c| c.table == "cases").unwrap();
    let stale = st
        .store
        .stale_sealed(narrative, "k2", None, 100)
        .await
        .unwrap();
    let target = stale
        .iter()
        .find(|v| v.key == puente_node::store::keys_sql::RowKey::Uuid(edited_id))
        .unwrap();
    let v = cases::read(st, who!(w.node, w.worker), edited_id)
        .await
        .unwrap();
    let mut edited = v.case.clone();
    edited.narrative = "Relato corregido".into();
    cases::update(st, who!(w.node, w.worker), edited_id, v.version, edited)
        .await
        .unwrap();
    let made = st
        .store
        .reseal(
            narrative,
            "k2",
            &[Reseal {
                key: target.key.clone(),
                old: target.value.clone(),
                new: "k2:bogus".into(),
            }],
        )
        .await
        .unwrap();
    assert_eq!(made, [false]);
    let v = cases::read(st, who!(w.node, w.worker), edited_id)
        .await
        .unwrap();
    assert_eq!(v.case.narrative, "Relato corregido");

    // The re-run (no new key) finishes.
    let report = keys::rotate(
        &st.config,
        &st.store,
        st.clock.as_ref(),
        &RotateOptions {
            add_key: false,
            ..opts()
        },
    )
    .await
    .unwrap();
    assert_eq!(report.key_id, "k2");
    assert!(!report.key_added);
    assert!(report.complete(), "{report:?}");
    assert_eq!(report.columns["persons.identity"].resealed, 2);
    let (after, key_ids) = scan(&w.node).await;
    assert!(after.iter().all(|(_, v)| v.starts_with("k2:")), "{after:?}");
    assert!(key_ids.iter().all(|k| k == "k2"));
    everything_opens(&w).await;
    let v = cases::read(st, who!(w.node, w.worker), edited_id)
        .await
        .unwrap();
    assert_eq!(v.case.narrative, "Relato corregido");
    assert_eq!(
        std::fs::read_to_string(&key_path).unwrap().lines().count(),
        2
    );
}

#[tokio::test]
async fn one_rotation_at_a_time() {
    let node = TestNode::start().await;
    let st = &node.state;
    let lock = {
        let mut s = st.config.keys.data_key.clone().into_os_string();
        s.push(".lock");
        std::path::PathBuf::from(s)
    };
    std::fs::write(&lock, "").unwrap();
    let err = keys::rotate(&st.config, &st.store, st.clock.as_ref(), &opts())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("another data key rotation is running"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&st.config.keys.data_key)
            .unwrap()
            .lines()
            .count(),
        1
    );
    std::fs::remove_file(&lock).unwrap();
    let report = keys::rotate(&st.config, &st.store, st.clock.as_ref(), &opts())
        .await
        .unwrap();
    assert_eq!((report.key_id.as_str(), report.resealed()), ("k2", 0));
}
