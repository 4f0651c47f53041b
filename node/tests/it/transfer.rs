//! Import and export end to end: IOM's Excel template through `puente import`, a file with
//! errors reported row by row and importing nothing, dry runs, skipping bad rows, and the
//! CTDC export's columns without identity.

use std::process::Command;

use puente_node::authz::Actor;
use puente_node::cases::transfer::{self, ExportFormat, ImportFormat, ImportOptions};
use puente_node::cases::{ListQuery, Who};
use puente_node::store::User;

use crate::helpers::TestNode;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn puente(node: &TestNode, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_puente"))
        .args(["--config", node.config_path.to_str().unwrap()])
        .args(args)
        .env_remove("PUENTE_CONFIG")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn actor(u: &User) -> Actor {
    Actor {
        user_id: u.id,
        username: u.username.clone(),
        role: u.role,
        org_id: u.org_id,
    }
}

async fn count(node: &TestNode, u: &User) -> i64 {
    let who = Who {
        actor: &actor(u),
        audit: &node.ctx(),
    };
    puente_node::cases::list(&node.state, who, &ListQuery::default())
        .await
        .unwrap()
        .total
}

async fn setup() -> (TestNode, User, User) {
    let node = TestNode::start().await;
    let org = node.org("ASOC1").await;
    let (coord, _) = node.user("coord", "org_admin", Some(&org), false).await;
    let (worker, _) = node.user("gestora", "caseworker", Some(&org), false).await;
    (node, coord, worker)
}

#[tokio::test]
async fn iom_excel_templates_import_through_the_cli_and_a_bad_file_imports_nothing() {
    let (node, coord, _) = setup().await;
    let good = fixture("htcds_v2_good.xlsx");
    let (code, out, err) = puente(
        &node,
        &[
            "import",
            &good,
            "--as",
            "coord",
            "--dry-run",
            "--legal-basis",
            "Convenio ASOC1 2019",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Dry run: 3 rows read"), "{out}");
    assert_eq!(count(&node, &coord).await, 0, "a dry run writes nothing");

    let (code, out, err) = puente(
        &node,
        &[
            "import",
            &good,
            "--as",
            "coord",
            "--legal-basis",
            "Convenio ASOC1 2019",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Imported 3 of 3 rows"), "{out}");
    assert!(out.contains("GTM-ASOC1-"), "{out}");
    let (code, out, err) = puente(
        &node,
        &[
            "import",
            &fixture("htcds_validation_good.xlsx"),
            "--as",
            "coord",
            "--legal-basis",
            "Convenio ASOC1 2019",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(count(&node, &coord).await, 6);

    let (code, out, _) = puente(
        &node,
        &[
            "import",
            &fixture("htcds_v2_bad.xlsx"),
            "--as",
            "coord",
            "--legal-basis",
            "Convenio",
        ],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("Nothing imported"), "{out}");
    let problem_lines: Vec<&str> = out.lines().filter(|l| l.starts_with("line ")).collect();
    assert!(problem_lines.len() >= 2, "{out}");
    assert!(
        problem_lines
            .iter()
            .any(|l| l.contains("unknown_code") || l.contains("unknown_country")),
        "{out}"
    );
    assert_eq!(
        count(&node, &coord).await,
        6,
        "a file with errors imports nothing"
    );

    // A caseworker may not import.
    let (code, _, err) = puente(
        &node,
        &["import", &good, "--as", "gestora", "--legal-basis", "x"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("import_cases"), "{err}");
}

#[tokio::test]
async fn skipping_bad_rows_imports_the_good_ones_and_lists_the_others() {
    let (node, coord, _) = setup().await;
    let bytes = std::fs::read(fixture("htcds_v2_bad.xlsx")).unwrap();
    let parsed = ImportFormat::HtcdsXlsx
        .read(&bytes, node.state.clock.now().date_naive())
        .unwrap();
    let opts = ImportOptions {
        skip_bad_rows: true,
        legal_basis_ref: Some("Convenio".into()),
        ..Default::default()
    };
    let who = Who {
        actor: &actor(&coord),
        audit: &node.ctx(),
    };
    let report = transfer::import(&node.state, who, parsed, &opts, &|_| {})
        .await
        .unwrap();
    assert_eq!(report.imported, 1, "{report:?}");
    assert_eq!(report.skipped_lines.len(), 2, "{report:?}");
    assert_eq!(count(&node, &coord).await, 1);
    // Without a consent or a legal basis, rows are refused by the same rules as a page.
    let parsed = ImportFormat::HtcdsCsv
        .read(
            &std::fs::read(fixture("htcds_good.csv")).unwrap()[..],
            node.state.clock.now().date_naive(),
        )
        .unwrap();
    let report = transfer::import(&node.state, who, parsed, &ImportOptions::default(), &|_| {})
        .await
        .unwrap();
    assert!(
        report
            .problems
            .iter()
            .all(|p| p.code != "case_management_consent_required")
            || report.imported == 0
    );
}

#[tokio::test]
async fn ctdc_export_has_the_codebook_columns_and_no_identity_and_is_audited() {
    let (node, coord, worker) = setup().await;
    let bytes = std::fs::read(fixture("htcds_v2_good.xlsx")).unwrap();
    let parsed = ImportFormat::HtcdsXlsx
        .read(&bytes, node.state.clock.now().date_naive())
        .unwrap();
    let who = Who {
        actor: &actor(&coord),
        audit: &node.ctx(),
    };
    let opts = ImportOptions {
        legal_basis_ref: Some("Convenio".into()),
        ..Default::default()
    };
    transfer::import(&node.state, who, parsed.clone(), &opts, &|_| {})
        .await
        .unwrap();
    let names: Vec<String> = parsed
        .rows
        .iter()
        .map(|r| r.person.identity.family_names.clone())
        .filter(|n| !n.is_empty())
        .collect();
    assert!(!names.is_empty());

    let mut ctdc = Vec::new();
    let n = transfer::export(&node.state, who, ExportFormat::Ctdc, &mut ctdc)
        .await
        .unwrap();
    assert_eq!(n, 3);
    let text = String::from_utf8(ctdc).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    assert_eq!(header, puente_node::export::CTDC_COLUMNS.to_vec());
    for name in &names {
        assert!(
            !text.contains(name.as_str()),
            "identity {name:?} in the CTDC export"
        );
    }
    let mut htcds = Vec::new();
    transfer::export(&node.state, who, ExportFormat::Htcds, &mut htcds)
        .await
        .unwrap();
    let htcds = String::from_utf8(htcds).unwrap();
    assert!(
        names.iter().all(|n| htcds.contains(n.as_str())),
        "HTCDS export carries identity"
    );
    let exports = node
        .audit_actions()
        .await
        .into_iter()
        .filter(|(a, _, _)| a == "case.export")
        .count();
    assert_eq!(exports, 2);
    // A caseworker may not export.
    let who = Who {
        actor: &actor(&worker),
        audit: &node.ctx(),
    };
    assert!(
        transfer::export(&node.state, who, ExportFormat::Ctdc, Vec::new())
            .await
            .is_err()
    );
}
