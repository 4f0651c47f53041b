//! The audit trail end to end: `puente audit verify` on an untouched trail, and after
//! altering, deleting or reordering rows directly in the database.

use std::process::Command;

use sqlx::Executor;

use crate::helpers::{TestNode, PASSWORD};

fn verify(node: &TestNode) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_puente"))
        .args([
            "--config",
            node.config_path.to_str().unwrap(),
            "audit",
            "verify",
        ])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// Runs SQL as someone with the database owner's rights (past the append-only triggers).
async fn tamper(node: &TestNode, statements: &[&str]) {
    if node.db_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&node.db_url).await.unwrap();
        pool.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
            .await
            .unwrap();
        pool.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
            .await
            .unwrap();
        for s in statements {
            pool.execute(*s).await.unwrap();
        }
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&node.db_url).await.unwrap();
        pool.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
            .await
            .unwrap();
        for s in statements {
            pool.execute(*s).await.unwrap();
        }
        pool.close().await;
    }
}

/// A node with some history: an org, users, log-ins, a checkpoint.
async fn node_with_history() -> TestNode {
    let node = TestNode::start().await;
    let org = node.org("ASOC1").await;
    node.user("ana", "caseworker", Some(&org), false).await;
    node.user("beto", "caseworker", Some(&org), false).await;
    let b = node.client();
    b.login("ana", PASSWORD, None).await;
    b.login("ana", "wrong password here", None).await;
    puente_node::audit::checkpoint(
        node.state.store.as_ref(),
        &node.state.identity,
        node.state.clock.now(),
    )
    .await
    .unwrap();
    b.login("beto", PASSWORD, None).await;
    node
}

#[tokio::test]
async fn untouched_trail_verifies() {
    let node = node_with_history().await;
    let (code, text) = verify(&node);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("intact"), "{text}");
}

#[tokio::test]
async fn the_database_refuses_updates_and_deletes_of_the_trail() {
    let node = node_with_history().await;
    let update = "UPDATE audit_log SET actor = 'x' WHERE seq = 1";
    let delete = "DELETE FROM audit_log WHERE seq = 1";
    if node.db_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&node.db_url).await.unwrap();
        assert!(pool.execute(update).await.is_err());
        assert!(pool.execute(delete).await.is_err());
    } else {
        let pool = sqlx::PgPool::connect(&node.db_url).await.unwrap();
        assert!(pool.execute(update).await.is_err());
        assert!(pool.execute(delete).await.is_err());
    }
}

#[tokio::test]
async fn altering_an_entry_fails_verification_naming_it() {
    let node = node_with_history().await;
    tamper(
        &node,
        &["UPDATE audit_log SET actor = 'mallory' WHERE seq = 3"],
    )
    .await;
    let (code, text) = verify(&node);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("entry 3 was altered"), "{text}");
}

#[tokio::test]
async fn deleting_an_entry_fails_verification_naming_it() {
    let node = node_with_history().await;
    tamper(&node, &["DELETE FROM audit_log WHERE seq = 4"]).await;
    let (code, text) = verify(&node);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("entry 4 is missing"), "{text}");
}

#[tokio::test]
async fn reordering_entries_fails_verification() {
    let node = node_with_history().await;
    // Swap the contents of entries 2 and 3 by renumbering them.
    tamper(
        &node,
        &[
            "UPDATE audit_log SET seq = -2 WHERE seq = 2",
            "UPDATE audit_log SET seq = 2 WHERE seq = 3",
            "UPDATE audit_log SET seq = 3 WHERE seq = -2",
        ],
    )
    .await;
    let (code, text) = verify(&node);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("entry 2"), "{text}");
}

#[tokio::test]
async fn cutting_the_tail_past_a_checkpoint_is_detected() {
    let node = node_with_history().await;
    let head = node.state.store.audit_head().await.unwrap().unwrap().0;
    puente_node::audit::checkpoint(
        node.state.store.as_ref(),
        &node.state.identity,
        node.state.clock.now(),
    )
    .await
    .unwrap();
    tamper(
        &node,
        &[&format!("DELETE FROM audit_log WHERE seq = {head}")],
    )
    .await;
    let (code, text) = verify(&node);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("removed from the end"), "{text}");
}

#[tokio::test]
async fn a_forged_checkpoint_signature_is_detected() {
    let node = node_with_history().await;
    let forged = puente_federation::SigningIdentity::generate("GTM-2026b".parse().unwrap());
    puente_node::audit::checkpoint(node.state.store.as_ref(), &forged, node.state.clock.now())
        .await
        .unwrap();
    let (code, text) = verify(&node);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("invalid signature"), "{text}");
}

#[tokio::test]
async fn audit_page_is_for_auditors_and_shows_filtered_entries() {
    let node = TestNode::start().await;
    let (_, _) = node.user("audi", "auditor", None, false).await;
    let b = node.client();
    b.login("audi", PASSWORD, None).await;
    b.login("nadie", "no existe nada", None).await; // a failed log-in, audited
    let b = node.client();
    b.login("audi", PASSWORD, None).await;
    let p = b.get("/audit?action=auth.login_failed").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("auth.login_failed"));
    assert!(!p.body.contains("auth.login_step"));
    let all = b.get("/audit").await;
    assert!(all.body.contains("auth.login"));
}
