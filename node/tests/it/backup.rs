//! `puente backup` and `puente restore` through the real binary: a node with a case is backed
//! up while it runs, restored into a fresh data directory and a fresh database (SQLite, or
//! PostgreSQL with TEST_DATABASE_URL), verified, and its sealed identity reads back with the
//! restored keys; a wrong passphrase, a cut or altered file, a non-empty target and a backup
//! that fails midway are refused and leave nothing that looks complete.

use std::path::{Path, PathBuf};

use puente_common::vocab::codes::ConsentScope;
use puente_node::authz::Actor;
use puente_node::cases::{self, NewCase, PersonChoice, Who};

use crate::cases::{case_record, consent, person, FAMILY, NAME};
use crate::helpers::{fresh_database, TestNode};

const PASSPHRASE: &str = "frase de respaldo larga y secreta";

fn puente(args: &[&str], passphrase: Option<&str>) -> (i32, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_puente"));
    cmd.args(args)
        .env_remove("PUENTE_CONFIG")
        .env_remove("PUENTE_BACKUP_PASSPHRASE");
    if let Some(p) = passphrase {
        cmd.env("PUENTE_BACKUP_PASSPHRASE", p);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// A node with a coordinator (`coord`) and one case of a person named NAME FAMILY.
async fn node_with_a_case() -> TestNode {
    let node = TestNode::start().await;
    let org = node.org("ASOC1").await;
    let (coord, _) = node.user("coord", "org_admin", Some(&org), false).await;
    let actor = Actor {
        user_id: coord.id,
        username: coord.username.clone(),
        role: coord.role,
        org_id: coord.org_id,
    };
    let ctx = node.ctx();
    cases::register(
        &node.state,
        Who {
            actor: &actor,
            audit: &ctx,
        },
        NewCase {
            person: PersonChoice::New(Box::new(person())),
            case: case_record(),
            consents: vec![consent(ConsentScope::CaseManagement)],
            caseworker_id: None,
            consent_override_reason: None,
        },
    )
    .await
    .unwrap();
    puente_node::audit::checkpoint(
        node.state.store.as_ref(),
        node.state.identity.as_ref(),
        node.state.clock.now(),
    )
    .await
    .unwrap();
    node
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restores_into_a_fresh_node_that_verifies_and_reads_its_cases() {
    let node = node_with_a_case().await;
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("gtm.puente-backup");
    let cfg = s(&node.config_path);

    // Too short a passphrase, or none: refused before anything is written.
    let (code, _, err) = puente(
        &["--config", &cfg, "backup", "--output", &s(&file)],
        Some("corta"),
    );
    assert_ne!(code, 0);
    assert!(err.contains("at least 12"), "{err}");
    let (code, _, err) = puente(&["--config", &cfg, "backup", "--output", &s(&file)], None);
    assert_ne!(code, 0);
    assert!(err.contains("PUENTE_BACKUP_PASSPHRASE"), "{err}");
    assert!(!file.exists());

    // The backup, of the running node.
    let (code, out, err) = puente(
        &["--config", &cfg, "backup", "--output", &s(&file)],
        Some(PASSPHRASE),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(file.exists() && !PathBuf::from(format!("{}.partial", s(&file))).exists());
    // Nothing of the case or the keys in the clear.
    let bytes = std::fs::read(&file).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    for secret in [NAME, FAMILY, "BEGIN PRIVATE KEY", "Relato confidencial"] {
        assert!(!text.contains(secret), "{secret} in the clear");
    }
    let (code, _, err) = puente(
        &["--config", &cfg, "backup", "--output", &s(&file)],
        Some(PASSPHRASE),
    );
    assert_ne!(code, 0, "an existing file is never overwritten");
    assert!(err.contains("exists"), "{err}");

    let target = work.path().join("restored");
    let db = fresh_database(work.path()).await;
    let db_arg: Vec<String> = if db.starts_with("postgres") {
        vec!["--database-url".into(), db.clone()]
    } else {
        Vec::new()
    };
    let restore = |dir: &Path, passphrase: &str, input: &Path, extra: &[&str]| {
        let mut args = vec![
            "restore".to_owned(),
            "--input".into(),
            s(input),
            "--data-dir".into(),
            s(dir),
        ];
        args.extend(db_arg.iter().cloned());
        args.extend(extra.iter().map(|x| (*x).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        puente(&args, Some(passphrase))
    };

    // A wrong passphrase, a cut file, an altered byte: refused, nothing restored.
    let (code, _, err) = restore(&target, "otra frase equivocada", &file, &[]);
    assert_ne!(code, 0);
    assert!(err.contains("wrong passphrase"), "{err}");
    let cut = work.path().join("cut");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();
    let (code, _, err) = restore(&work.path().join("r-cut"), PASSPHRASE, &cut, &[]);
    assert_ne!(code, 0);
    assert!(
        err.contains("incomplete") || err.contains("damaged"),
        "{err}"
    );
    let altered = work.path().join("altered");
    let mut b = bytes.clone();
    let i = b.len() - 50;
    b[i] ^= 1;
    std::fs::write(&altered, &b).unwrap();
    let (code, _, err) = restore(&work.path().join("r-alt"), PASSPHRASE, &altered, &[]);
    assert_ne!(code, 0);
    assert!(
        err.contains("damaged") || err.contains("passphrase"),
        "{err}"
    );
    assert!(
        !target.join("puente.toml").exists(),
        "nothing restored by the refusals"
    );

    // The restore, verified.
    let (code, out, err) = restore(&target, PASSPHRASE, &file, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Audit trail intact"), "{out}");
    // A second restore into the same place is refused unless forced.
    let (code, _, err) = restore(&target, PASSPHRASE, &file, &[]);
    assert_ne!(code, 0);
    assert!(err.contains("not empty"), "{err}");

    // The restored node opens its sealed identity with its restored key: the coordinator's
    // HTCDS export carries the person's names.
    let restored_cfg = s(&target.join("puente.toml"));
    let (code, out, err) = puente(
        &[
            "--config",
            &restored_cfg,
            "export",
            "--format",
            "htcds",
            "--as",
            "coord",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(NAME) && out.contains(FAMILY), "{out}");
    let (code, out, err) = puente(&["--config", &restored_cfg, "audit", "verify"], None);
    assert_eq!(code, 0, "{out}{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_that_fails_midway_leaves_no_file() {
    let node = node_with_a_case().await;
    let work = tempfile::tempdir().unwrap();
    // A configuration naming a key file that is gone: the backup fails after it started
    // writing.
    let text = std::fs::read_to_string(&node.config_path).unwrap();
    let broken = work.path().join("broken.toml");
    let missing = work.path().join("gone.pem");
    let text = text.replace(
        "[keys]\n",
        &format!(
            "[keys]\nnext_signing_key = {:?}\nnext_signing_key_id = \"GTM-2026b\"\n",
            s(&missing)
        ),
    );
    std::fs::write(&broken, text).unwrap();
    let file = work.path().join("b.puente-backup");
    let (code, _, err) = puente(
        &["--config", &s(&broken), "backup", "--output", &s(&file)],
        Some(PASSPHRASE),
    );
    assert_ne!(code, 0);
    assert!(err.contains("gone.pem"), "{err}");
    let left: Vec<_> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, vec!["broken.toml".to_owned()], "{left:?}");
}
