//! The store conformance suite: every store function on the backend under test (SQLite, or
//! PostgreSQL with TEST_DATABASE_URL; CI runs both).

use chrono::{Duration, SubsecRound};
use puente_node::audit::{AuditCtx, AuditFilter, Outcome};
use puente_node::authz::Role;
use puente_node::store::{
    self, ApiToken, Org, Session, SessionStage, StoreError, TokenScope, User,
};
use uuid::Uuid;

use crate::helpers::fresh_database;

fn ctx(at: chrono::DateTime<chrono::Utc>) -> AuditCtx {
    AuditCtx {
        at,
        actor_id: None,
        actor: "conformance".into(),
        org_id: None,
        ip: Some("127.0.0.1".into()),
        request_id: None,
    }
}

#[tokio::test]
async fn every_store_function_behaves_the_same_on_this_backend() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(dir.path()).await;
    let s = store::connect(&url).await.unwrap();
    assert!(!s.ready().await.unwrap(), "not ready before migrations");
    s.migrate().await.unwrap();
    s.migrate().await.unwrap(); // idempotent
    assert!(s.ready().await.unwrap());
    let now = chrono::DateTime::from_timestamp(1_800_000_000, 123_456_000)
        .unwrap()
        .trunc_subsecs(6);
    let c = ctx(now);

    // organisations
    let org = Org {
        id: Uuid::now_v7(),
        code: "ORG1".into(),
        name: "Uno".into(),
        org_type: "NGO".into(),
        active: true,
        created_at: now,
        updated_at: now,
    };
    s.create_org(&org, &c.event("org.create", Outcome::Success))
        .await
        .unwrap();
    let dup = Org {
        id: Uuid::now_v7(),
        ..org.clone()
    };
    assert!(matches!(
        s.create_org(&dup, &c.event("org.create", Outcome::Success))
            .await,
        Err(StoreError::Conflict("code"))
    ));
    let mut o = s.org(org.id).await.unwrap();
    assert_eq!(o.created_at, now, "timestamps read back exactly");
    o.name = "Uno bis".into();
    s.update_org(&o, &c.event("org.update", Outcome::Success))
        .await
        .unwrap();
    assert_eq!(s.org_by_code("ORG1").await.unwrap().name, "Uno bis");
    assert!(matches!(
        s.org(Uuid::now_v7()).await,
        Err(StoreError::NotFound)
    ));

    // users
    let user = User {
        id: Uuid::now_v7(),
        username: "ana".into(),
        display_name: "Ana".into(),
        org_id: Some(org.id),
        role: Role::Caseworker,
        password_hash: "$argon2id$x".into(),
        must_change_password: true,
        totp_secret: None,
        disabled: false,
        failed_logins: 0,
        locked_until: None,
        language: None,
        created_at: now,
        updated_at: now,
        last_login_at: None,
        totp_last_step: None,
    };
    s.create_user(&user, &c.event("user.create", Outcome::Success))
        .await
        .unwrap();
    let dup = User {
        id: Uuid::now_v7(),
        ..user.clone()
    };
    assert!(matches!(
        s.create_user(&dup, &c.event("user.create", Outcome::Success))
            .await,
        Err(StoreError::Conflict("username"))
    ));
    let mut u = s.user_by_username("ana").await.unwrap();
    assert_eq!(u.role, Role::Caseworker);
    u.failed_logins = 3;
    u.locked_until = Some(now + Duration::minutes(15));
    u.language = Some("en".into());
    s.update_user(&u, &c.event("user.update", Outcome::Success))
        .await
        .unwrap();
    let back = s.user(u.id).await.unwrap();
    assert_eq!(
        (
            back.failed_logins,
            back.locked_until,
            back.language.as_deref()
        ),
        (3, u.locked_until, Some("en"))
    );
    let list = s.users(Some(org.id)).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].org_name.as_deref(), Some("Uno bis"));
    assert!(!list[0].totp_enabled);
    assert!(s.users(Some(Uuid::now_v7())).await.unwrap().is_empty());
    assert_eq!(s.orgs().await.unwrap()[0].user_count, 1);

    // second factor and recovery codes
    s.set_totp(
        u.id,
        Some("sealed"),
        &["h1".into(), "h2".into()],
        now,
        &c.event("auth.totp_enrolled", Outcome::Success),
    )
    .await
    .unwrap();
    assert!(s.users(None).await.unwrap()[0].totp_enabled);
    assert_eq!(s.recovery_codes_left(u.id).await.unwrap(), 2);
    assert!(s.use_recovery_code(u.id, "h1", now).await.unwrap());
    assert!(
        !s.use_recovery_code(u.id, "h1", now).await.unwrap(),
        "single use"
    );
    assert!(!s.use_recovery_code(u.id, "nope", now).await.unwrap());
    assert_eq!(s.recovery_codes_left(u.id).await.unwrap(), 1);

    // sessions
    let mut sess = Session {
        id_hash: "abc".into(),
        user_id: u.id,
        stage: SessionStage::TotpPending,
        csrf_token: "t".into(),
        pending_totp: None,
        created_at: now,
        last_seen_at: now,
        expires_at: now + Duration::hours(12),
    };
    s.create_session(&sess).await.unwrap();
    sess.stage = SessionStage::Full;
    sess.last_seen_at = now + Duration::minutes(5);
    s.update_session(&sess).await.unwrap();
    let back = s.session("abc").await.unwrap();
    assert_eq!(
        (back.stage, back.last_seen_at),
        (SessionStage::Full, sess.last_seen_at)
    );
    assert_eq!(s.purge_sessions(now, now).await.unwrap(), 0);
    assert_eq!(
        s.purge_sessions(now + Duration::hours(13), now)
            .await
            .unwrap(),
        1
    );
    s.create_session(&sess).await.unwrap();
    assert_eq!(s.delete_user_sessions(u.id).await.unwrap(), 1);
    s.create_session(&sess).await.unwrap();
    s.delete_session("abc").await.unwrap();
    assert!(matches!(s.session("abc").await, Err(StoreError::NotFound)));

    // tokens
    let t = ApiToken {
        id: Uuid::now_v7(),
        user_id: u.id,
        name: "n".into(),
        prefix: "pte_x".into(),
        token_hash: "hash".into(),
        created_at: now,
        expires_at: now + Duration::days(1),
        last_used_at: None,
        revoked_at: None,
    };
    s.create_token(&t, &c.event("token.create", Outcome::Success))
        .await
        .unwrap();
    assert_eq!(s.token_by_hash("hash").await.unwrap().id, t.id);
    s.touch_token(t.id, now).await.unwrap();
    assert_eq!(s.token(t.id).await.unwrap().token.last_used_at, Some(now));
    assert_eq!(s.tokens(TokenScope::User(u.id)).await.unwrap().len(), 1);
    assert_eq!(s.tokens(TokenScope::Org(org.id)).await.unwrap().len(), 1);
    assert_eq!(s.tokens(TokenScope::All).await.unwrap().len(), 1);
    assert!(s
        .tokens(TokenScope::User(Uuid::now_v7()))
        .await
        .unwrap()
        .is_empty());
    s.revoke_token(t.id, now, &c.event("token.revoke", Outcome::Success))
        .await
        .unwrap();
    assert!(matches!(
        s.revoke_token(t.id, now, &c.event("token.revoke", Outcome::Success))
            .await,
        Err(StoreError::NotFound)
    ));

    // audit trail
    let head = s.audit_head().await.unwrap().unwrap();
    let e = s
        .append_audit(&c.event("test.x_%", Outcome::Denied))
        .await
        .unwrap();
    assert_eq!(e.seq, head.0 + 1);
    assert_eq!(e.prev_hash, head.1);
    let chunk = s.audit_chunk(0, 1000).await.unwrap();
    assert_eq!(chunk.len() as i64, e.seq);
    assert_eq!(
        chunk.last().unwrap(),
        &e,
        "entries read back exactly as sealed"
    );
    let f = AuditFilter {
        action: Some("test.x_%".into()),
        ..Default::default()
    };
    assert_eq!(s.audit_entries(&f, 10, 0).await.unwrap().len(), 1);
    let f = AuditFilter {
        action: Some("test.x".into()),
        outcome: Some("success".into()),
        ..Default::default()
    };
    assert!(s.audit_entries(&f, 10, 0).await.unwrap().is_empty());
    let f = AuditFilter {
        from: Some(now + Duration::seconds(1)),
        ..Default::default()
    };
    assert!(s.audit_entries(&f, 10, 0).await.unwrap().is_empty());
    let f = AuditFilter {
        actor: Some("conformance".into()),
        to: Some(now + Duration::seconds(1)),
        ..Default::default()
    };
    assert_eq!(s.audit_entries(&f, 2, 0).await.unwrap().len(), 2);
    assert_eq!(
        s.audit_entries(&f, 100, 0).await.unwrap()[0].seq,
        e.seq,
        "newest first"
    );

    // checkpoints: idempotent per entry
    let id = puente_federation::SigningIdentity::generate("GTM-2026a".parse().unwrap());
    puente_node::audit::checkpoint(s.as_ref(), &id, now)
        .await
        .unwrap();
    puente_node::audit::checkpoint(s.as_ref(), &id, now + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(s.checkpoints().await.unwrap().len(), 1);
    let report = puente_node::audit::verify_store(s.as_ref(), &[id.public_key_b64()])
        .await
        .unwrap()
        .unwrap();
    assert_eq!((report.entries, report.checkpoints), (e.seq, 1));
    s.close().await;
}

#[tokio::test]
async fn concurrent_appends_never_fork_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(dir.path()).await;
    let s = store::connect(&url).await.unwrap();
    s.migrate().await.unwrap();
    let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..10 {
                s.append_audit(&ctx(now).event("test.concurrent", Outcome::Success))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let report = puente_node::audit::verify_store(s.as_ref(), &[])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.entries, 80);
}
