//! The deployment kit in `deploy/` stays in sync with the code: the example configurations
//! load and name every key the node writes, the systemd unit runs the binary on the example's
//! paths, and the compose demonstration names its four members and their databases.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use puente_node::config::{Config, SmtpConfig, SmtpSecurity, TlsConfig};

fn deploy(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(deploy(rel)).unwrap_or_else(|e| panic!("deploy/{rel}: {e}"))
}

/// `(section, key)` of every `key = value` line of a TOML text, commented-out ones included
/// (`# key = …` and `# [section]`: optional keys are shown commented in the examples).
fn keys_of(text: &str, include_comments: bool) -> BTreeSet<(String, String)> {
    let mut section = String::new();
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let mut l = line.trim();
        if let Some(rest) = l.strip_prefix('#') {
            if !include_comments {
                continue;
            }
            l = rest.trim();
        }
        if let Some(name) = l.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            if name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
            {
                section = name.to_owned();
            }
            continue;
        }
        if let Some((key, _)) = l.split_once(" = ") {
            if !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                out.insert((section.clone(), key.to_owned()));
            }
        }
    }
    out
}

/// Every optional part of `c` set, so that `to_toml` writes every key it knows.
fn with_everything(mut c: Config) -> Config {
    c.tls = Some(TlsConfig {
        cert: c.data_dir.join("tls-cert.pem"),
        key: c.data_dir.join("tls-key.pem"),
    });
    c.keys.next_signing_key = Some(c.data_dir.join("signing-key-next.pem"));
    c.keys.next_signing_key_id = Some(format!("{}-2026b", c.country.as_str()).parse().unwrap());
    c.referrals.require_approval = true;
    c.stats.k = 11;
    c.stats.rounding_base = Some(5);
    c.stats.auto_publish = true;
    c.stats.dp_epsilon_milli = Some(1000);
    c.stats.dp_yearly_cap_milli = 4000;
    // A hub keeps no cases: no retention rule in its example.
    if c.federation.as_ref().is_some_and(|f| f.role != "hub") {
        c.retention.anonymise_closed_after_years = Some(10);
    }
    c.smtp = Some(SmtpConfig {
        host: "smtp.example.org".into(),
        port: 465,
        security: SmtpSecurity::Tls,
        username: Some("avisos".into()),
        password: Some(puente_node::config::Secret::new("x")),
        from: "Puente <avisos@example.org>".into(),
        base_url: "https://puente.example.org".into(),
    });
    assert!(
        c.federation.is_some(),
        "the example has a [federation] section"
    );
    c
}

#[test]
fn example_configurations_load_and_name_every_key_the_node_writes() {
    for (file, country, role) in [
        ("config/node.example.toml", "GTM", "node"),
        ("config/hub.example.toml", "REG", "hub"),
    ] {
        let c = Config::load(&deploy(file)).unwrap_or_else(|e| panic!("deploy/{file}: {e}"));
        assert_eq!(c.country.as_str(), country, "{file}");
        let fed = c.federation.as_ref().unwrap();
        assert_eq!(fed.role, role, "{file}");
        // Every file of the node lives in data_dir (the one writable path of the unit).
        for p in [
            &c.keys.data_key,
            &c.keys.signing_key,
            &fed.tls_cert,
            &fed.tls_key,
        ] {
            assert!(
                p.starts_with(&c.data_dir),
                "{file}: {} outside data_dir",
                p.display()
            );
        }

        let text = read(file);
        let shown = keys_of(&text, true);
        let written = keys_of(&with_everything(c).to_toml(), false);
        assert!(written.len() > 40, "to_toml wrote only {written:?}");
        let missing: Vec<_> = written.difference(&shown).collect();
        assert!(
            missing.is_empty(),
            "deploy/{file} lacks keys the node writes (section, key): {missing:?}"
        );
        let unknown: Vec<_> = shown.difference(&written).collect();
        assert!(
            unknown.is_empty(),
            "deploy/{file} shows keys the node does not know (section, key): {unknown:?}"
        );
    }
}

/// `Key=value` of a unit file's lines.
fn unit_value<'a>(unit: &'a str, key: &str) -> Vec<&'a str> {
    unit.lines()
        .filter_map(|l| l.trim().strip_prefix(key)?.strip_prefix('='))
        .map(str::trim)
        .collect()
}

#[test]
fn the_systemd_unit_runs_the_binary_on_the_example_paths() {
    let unit = read("systemd/puente.service");
    let exec = unit_value(&unit, "ExecStart");
    assert_eq!(
        exec,
        ["/usr/local/bin/puente --config /etc/puente/puente.toml serve"]
    );
    let config = Path::new("/etc/puente/puente.toml");
    assert_eq!(unit_value(&unit, "ConfigurationDirectory"), ["puente"]);
    assert_eq!(
        config.parent(),
        Some(
            Path::new("/etc")
                .join(unit_value(&unit, "ConfigurationDirectory")[0])
                .as_path()
        )
    );
    assert_eq!(unit_value(&unit, "User"), ["puente"]);
    assert_eq!(unit_value(&unit, "UMask"), ["0077"]);
    for file in ["config/node.example.toml", "config/hub.example.toml"] {
        let c = Config::load(&deploy(file)).unwrap();
        assert_eq!(
            unit_value(&unit, "ReadWritePaths"),
            [c.data_dir.to_str().unwrap()],
            "{file}"
        );
        assert_eq!(
            Path::new("/var/lib").join(unit_value(&unit, "StateDirectory")[0]),
            c.data_dir,
            "{file}"
        );
    }
}

#[test]
fn the_compose_demonstration_names_four_members_and_four_databases() {
    let text = read("compose.yaml");
    assert!(!text.contains('\t'), "tabs in compose.yaml");
    // Top-level keys and the services (two-space indented keys under `services:`).
    let mut top = Vec::new();
    let mut services = BTreeSet::new();
    let mut in_services = false;
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            let key = line.trim_end().trim_end_matches(':').to_owned();
            in_services = key == "services";
            top.push(key);
        } else if in_services && line.starts_with("  ") && !line.starts_with("   ") {
            if let Some(name) = line.trim().strip_suffix(':') {
                services.insert(name.to_owned());
            }
        }
    }
    assert!(top.contains(&"services".to_owned()), "{top:?}");
    for m in ["gtm", "hnd", "slv", "reg"] {
        assert!(services.contains(m), "no service {m}: {services:?}");
        let db = format!("db-{m}");
        assert!(services.contains(&db), "no service {db}: {services:?}");
        assert!(text.contains(&format!("@{db}:5432/")), "{m}'s database URL");
    }
    assert!(services.contains("setup"), "{services:?}");
    assert!(read("compose/setup.sh").starts_with("#!/bin/sh"));
}
