//! The `puente` binary: init, shell administration, and failing clearly.

use std::io::Write;
use std::process::{Command, Stdio};

fn puente(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_puente"))
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

#[test]
fn init_then_shell_administration_then_verify() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("node");
    let d = d.to_str().unwrap();
    let (code, out, err) = puente(&[
        "init",
        "--country",
        "HND",
        "--data-dir",
        d,
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("HND") && out.contains("data key"));
    for f in [
        "puente.toml",
        "data.key",
        "signing-key.pem",
        "tls-cert.pem",
        "tls-key.pem",
        "puente.db",
    ] {
        assert!(dir.path().join("node").join(f).exists(), "{f} missing");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("node/data.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "data key readable by others");
    }
    // Refuses to overwrite.
    let (code, _, err) = puente(&["init", "--country", "HND", "--data-dir", d]);
    assert_ne!(code, 0);
    assert!(err.contains("already exists"), "{err}");

    let cfg = format!("{d}/puente.toml");
    let (code, out, err) = puente(&[
        "--config",
        &cfg,
        "org",
        "add",
        "--code",
        "casa1",
        "--name",
        "Casa Alianza (prueba)",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = puente(&[
        "--config", &cfg, "org", "add", "--code", "CASA1", "--name", "Otra",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("code already exists"), "{err}");
    let (code, out, err) = puente(&[
        "--config",
        &cfg,
        "user",
        "add",
        "--username",
        "Admin",
        "--name",
        "Admin",
        "--role",
        "node_admin",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Temporary password"), "{out}");
    let (code, _, err) = puente(&[
        "--config",
        &cfg,
        "user",
        "add",
        "--username",
        "cw",
        "--name",
        "CW",
        "--role",
        "caseworker",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("org_id (org_required_for_role)"), "{err}");

    let mut child = Command::new(env!("CARGO_BIN_EXE_puente"))
        .args([
            "--config",
            &cfg,
            "user",
            "add",
            "--username",
            "cw1",
            "--name",
            "CW",
            "--role",
            "caseworker",
            "--org",
            "CASA1",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"una frase bastante larga\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    let (_, out, _) = puente(&["--config", &cfg, "user", "list"]);
    assert!(
        out.contains("admin") && out.contains("cw1") && out.contains("Casa Alianza"),
        "{out}"
    );
    let (code, _, _) = puente(&["--config", &cfg, "user", "disable", "cw1"]);
    assert_eq!(code, 0);
    let (code, out, _) = puente(&[
        "--config", &cfg, "token", "create", "--user", "admin", "--name", "script",
    ]);
    assert_eq!(code, 0);
    assert!(out.lines().any(|l| l.starts_with("pte_")), "{out}");
    let (code, out, err) = puente(&["--config", &cfg, "audit", "checkpoint"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = puente(&["--config", &cfg, "audit", "verify"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 signed checkpoints"), "{out}");
}

#[test]
fn serve_with_an_unreachable_database_exits_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, _, err) = puente(&["init", "--country", "SLV", "--data-dir", d, "--no-tls"]);
    assert_eq!(code, 0, "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_puente"))
        .args(["--config", &format!("{d}/puente.toml"), "serve"])
        // Port 1 on loopback: nothing listens there.
        .env(
            "PUENTE_DATABASE_URL",
            "postgres://puente:secret-pw@127.0.0.1:1/puente",
        )
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("cannot open the database"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("secret-pw"), "the password leaked: {err}");
}

#[test]
fn unknown_configuration_keys_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    puente(&["init", "--country", "MEX", "--data-dir", d, "--no-tls"]);
    let out = Command::new(env!("CARGO_BIN_EXE_puente"))
        .args(["--config", &format!("{d}/puente.toml"), "serve"])
        .env("PUENTE_SECURITY__LOCKOUT_TRESHOLD", "3")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("security.lockout_treshold"), "{err}");
}

#[tokio::test]
async fn init_user_add_and_serve_over_tls_then_stop_gracefully_on_sigterm() {
    use tokio::io::AsyncBufReadExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, _, err) = puente(&[
        "init",
        "--country",
        "GTM",
        "--data-dir",
        d,
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(code, 0, "{err}");
    let cfg = format!("{d}/puente.toml");
    let (code, _, err) = puente(&[
        "--config",
        &cfg,
        "user",
        "add",
        "--username",
        "admin",
        "--name",
        "A",
        "--role",
        "node_admin",
    ]);
    assert_eq!(code, 0, "{err}");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_puente"))
        .args(["--config", &cfg, "serve"])
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
            .await
            .expect("serve did not start")
            .unwrap()
            .expect("serve exited");
        if let Some(i) = line.find("https://") {
            break line[i + 8..].split_whitespace().next().unwrap().to_owned();
        }
    };
    let port = addr.rsplit(':').next().unwrap();
    let cert = std::fs::read(format!("{d}/tls-cert.pem")).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&cert).unwrap())
        .build()
        .unwrap();
    let r = http
        .get(format!("https://localhost:{port}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    let login = http
        .get(format!("https://localhost:{port}/login"))
        .send()
        .await
        .unwrap();
    assert!(login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Secure"));
    assert!(login.text().await.unwrap().contains("Iniciar sesión"));

    let pid = child.id().unwrap().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = tokio::time::timeout(std::time::Duration::from_secs(20), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(
        status.success(),
        "serve should exit cleanly on SIGTERM: {status}"
    );
}

#[test]
fn a_next_signing_key_is_listed_but_not_activated_before_the_manifest_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("node");
    let d = d.to_str().unwrap();
    let (code, out, err) = puente(&[
        "init",
        "--country",
        "SLV",
        "--data-dir",
        d,
        "--listen",
        "127.0.0.1:0",
        "--no-tls",
        "--federation-listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let cfg = format!("{d}/puente.toml");
    let current = std::fs::read_to_string(&cfg).unwrap();
    let year = current
        .lines()
        .find_map(|l| l.strip_prefix("signing_key_id = \"SLV-"))
        .map(|rest| rest[..4].to_owned())
        .unwrap();

    // Refused with nothing prepared.
    let (code, _, err) = puente(&["--config", &cfg, "keys", "activate-signing-key"]);
    assert_ne!(code, 0);
    assert!(err.contains("new-signing-key"), "{err}");

    let (code, out, err) = puente(&["--config", &cfg, "keys", "new-signing-key"]);
    assert_eq!(code, 0, "{out}{err}");
    let next = format!("SLV-{year}b");
    assert!(out.contains(&next) && out.contains("member-info"), "{out}");
    let file = dir.path().join(format!("node/signing-key-{next}.pem"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "next signing key readable by others");
    }
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(
        text.contains(&format!("next_signing_key_id = \"{next}\""))
            && text.contains(&format!("signing_key_id = \"SLV-{year}a\"")),
        "{text}"
    );
    // Only one next key at a time.
    let (code, _, err) = puente(&["--config", &cfg, "keys", "new-signing-key"]);
    assert_ne!(code, 0);
    assert!(err.contains("already prepared"), "{err}");

    // member-info lists both keys.
    let (code, out, err) = puente(&["--config", &cfg, "federation", "member-info"]);
    assert_eq!(code, 0, "{out}{err}");
    let member: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = member["signing_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [format!("SLV-{year}a").as_str(), next.as_str()]);

    // Not in a federation: no manifest lists it, so it is not activated.
    let (code, _, err) = puente(&["--config", &cfg, "keys", "activate-signing-key"]);
    assert_ne!(code, 0);
    assert!(err.contains("holds no manifest"), "{err}");
    let after = std::fs::read_to_string(&cfg).unwrap();
    assert_eq!(
        after, text,
        "the configuration changed on a refused activation"
    );
    let (code, out, err) = puente(&["--config", &cfg, "audit", "verify"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn retention_status_and_run_from_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("node");
    let d = d.to_str().unwrap();
    let (code, out, err) = puente(&["init", "--country", "GTM", "--data-dir", d]);
    assert_eq!(code, 0, "{out}{err}");
    let cfg = format!("{d}/puente.toml");
    // Without a rule: nothing due, nothing done, said plainly.
    let (code, out, err) = puente(&["--config", &cfg, "retention", "status"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("rule: none"), "{out}");
    let (code, out, _) = puente(&["--config", &cfg, "retention", "run"]);
    assert_eq!(code, 0);
    assert!(out.contains("nothing done"), "{out}");
    // With a rule in the file: the JSON status names it.
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str("\n[retention]\nanonymise_closed_after_years = 7\n");
    std::fs::write(&cfg, text).unwrap();
    let (code, out, err) = puente(&["--config", &cfg, "retention", "status", "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["years"], 7);
    assert_eq!(
        (v["due"].as_i64(), v["erased"].as_i64()),
        (Some(0), Some(0))
    );
    let (code, out, _) = puente(&["--config", &cfg, "retention", "run", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (v["enabled"].as_bool(), v["anonymised"].as_u64()),
        (Some(true), Some(0))
    );
    // A rule of 0 years is refused at load, by name.
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "anonymise_closed_after_years = 7",
        "anonymise_closed_after_years = 0",
    );
    std::fs::write(&cfg, text).unwrap();
    let (code, _, err) = puente(&["--config", &cfg, "retention", "status"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("retention.anonymise_closed_after_years"),
        "{err}"
    );
}
