//! Statistics releases end to end across real `puente` processes (docs/protocol.md 8.6):
//! GTM, HND and SLV publish signed, chained releases to the hub REG on the `stats` channel;
//! the hub's figures are what the releases say; a correction replaces a version and both stay;
//! a hub or a node unreachable at publication catches up, and until then the hub holds
//! nothing for that country (its dashboard says "not yet received", never a zero).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{Datelike, NaiveDate};
use serde_json::Value;

use super::cluster::{wait_until, As, Cluster, ClusterOptions, PuenteNode};
use super::proxy::Mode;

const WAIT: Duration = Duration::from_secs(30);

/// The last closed quarter on the system clock, and a day inside it.
fn last_quarter() -> (String, NaiveDate) {
    let today = puente_node::clock::Clock::now(&puente_node::clock::SystemClock).date_naive();
    let q = (today.month0() / 3) as i32; // current quarter, 0-based
    let (y, q) = if q == 0 {
        (today.year() - 1, 3)
    } else {
        (today.year(), q - 1)
    };
    let first = NaiveDate::from_ymd_opt(y, (q * 3 + 1) as u32, 1).unwrap();
    (
        format!("{y}-Q{}", q + 1),
        first + chrono::Duration::days(10),
    )
}

/// Registers `n` statistical cases on `node` in the period of `day`, alternating genders.
async fn register(node: &PuenteNode, day: NaiveDate, n: usize) {
    for i in 0..n {
        let gender = if i % 3 == 2 { "MASCULINE" } else { "FEMININE" };
        node.register_statistical_case(day, gender).await;
    }
}

/// `puente stats prepare --period P --publish --json` on `node`: the published release.
async fn publish(node: &PuenteNode, period: &str) -> Value {
    let out = node
        .cli_ok(&[
            "stats",
            "prepare",
            "--period",
            period,
            "--publish",
            "--json",
        ])
        .await;
    let v: Value = serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("stats prepare --json on {}: {e}: {}", node.id, out.stdout));
    assert_eq!(v["state"], "published", "{v}");
    v
}

/// The hub's latest release per (country, period), keyed by country for `period`.
async fn hub_releases(hub: &PuenteNode, period: &str) -> BTreeMap<String, Value> {
    let v = hub
        .api_ok(
            As::NodeAdmin,
            reqwest::Method::GET,
            "/hub/releases",
            None,
            200,
        )
        .await;
    let items = v
        .as_array()
        .or_else(|| v["items"].as_array())
        .unwrap_or_else(|| panic!("/hub/releases: {v}"))
        .clone();
    items
        .into_iter()
        .filter(|r| r["period"] == period)
        .map(|r| (r["country"].as_str().unwrap_or_default().to_owned(), r))
        .collect()
}

/// Waits until the hub holds version `version` of `country`'s release of `period`.
async fn wait_hub(c: &Cluster, country: &str, period: &str, version: u64) -> Value {
    let hub = c.node("REG");
    let ok = wait_until(WAIT, || async {
        hub_releases(hub, period)
            .await
            .get(country)
            .is_some_and(|r| r["version"] == version)
    })
    .await;
    let all = hub_releases(hub, period).await;
    assert!(
        ok,
        "the hub never held {country} {period} v{version}: {all:?}\n{}",
        c.node(country).logs()
    );
    all[country].clone()
}

/// The persons a release counts: T01's grand total (`None` when suppressed).
fn persons(body: &Value) -> Option<u64> {
    let t01 = body["tables"]
        .as_array()?
        .iter()
        .find(|t| t["id"] == "T01")?;
    t01["total"]["count"].as_u64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_countries_publish_and_the_hub_holds_what_they_signed_and_a_correction() {
    let c = Cluster::start().await;
    let (period, day) = last_quarter();
    let counts = [("GTM", 12usize), ("HND", 8), ("SLV", 3)];
    for (id, n) in counts {
        register(c.node(id), day, n).await;
    }
    let mut published = BTreeMap::new();
    for (id, _) in counts {
        published.insert(id, publish(c.node(id), &period).await);
    }
    for (id, n) in counts {
        let r = wait_hub(&c, id, &period, 1).await;
        // The hub stores the very release the node signed: same hash, same chain.
        assert_eq!(r["hash"], published[id]["hash"], "{id}: {r}");
        assert_eq!(
            r["prev"].as_str().map(str::len),
            Some(64),
            "{id}: prev is a hash: {r}"
        );
        let body = &r["body"];
        assert_eq!(body["country"], id);
        assert_eq!(body["version"], 1);
        // What the hub shows is what the release says: the true count when at least k,
        // suppressed (not zero) under k.
        if n >= 5 {
            assert_eq!(persons(body), Some(n as u64), "{id}: {body}");
        } else {
            assert_eq!(
                persons(body),
                None,
                "{id}: a small total is suppressed: {body}"
            );
            assert!(body.to_string().contains("\"suppressed\""), "{id}: {body}");
        }
    }
    // A correction: two more persons found for GTM's period; version 2 replaces version 1,
    // chained to it, and the hub keeps both.
    register(c.node("GTM"), day, 2).await;
    let v2 = publish(c.node("GTM"), &period).await;
    assert_eq!(v2["version"], 2, "{v2}");
    let r = wait_hub(&c, "GTM", &period, 2).await;
    assert_eq!(r["hash"], v2["hash"]);
    assert_eq!(r["prev"], published["GTM"]["hash"], "v2 chains to v1");
    assert_eq!(persons(&r["body"]), Some(14));
    let kept = c
        .node("REG")
        .query_i64("SELECT country, COUNT(*) FROM hub_releases GROUP BY country ORDER BY country")
        .await;
    let kept: BTreeMap<String, i64> = kept.into_iter().collect();
    assert_eq!(kept.get("GTM"), Some(&2), "{kept:?}");
    assert_eq!(kept.get("HND"), Some(&1), "{kept:?}");
    c.assert_audit_intact().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_or_a_node_unreachable_at_publication_catches_up_and_other_links_keep_flowing() {
    let c = Cluster::start_with(ClusterOptions::with(&["GTM", "HND", "REG"])).await;
    let (period, day) = last_quarter();
    let reg = c.node("REG");
    register(c.node("GTM"), day, 6).await;
    register(c.node("HND"), day, 5).await;

    // 1. The hub goes away: connections to it hang (blackhole) and it reaches nobody (down).
    reg.proxy.set_mode(Mode::Blackhole);
    reg.kill();
    let g = publish(c.node("GTM"), &period).await;
    c.node("GTM").publish_n(2).await;
    // The country-to-country links do not wait for the hub.
    c.wait_heads_equal("GTM", &["HND"], "directory").await;
    let s = c.node("GTM").status().await;
    assert!(
        s.peer("REG", "stats").is_some_and(|p| p.backlog > 0),
        "the release waits for the hub: {s:?}"
    );
    // The hub comes back: first reaching out only (its listener still unreachable), then
    // reachable both ways; the release arrives once.
    reg.start().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    reg.proxy.set_mode(Mode::Pass);
    let r = wait_hub(&c, "GTM", &period, 1).await;
    assert_eq!(r["hash"], g["hash"]);

    // 2. HND is down when its administrator publishes (the command works on its database):
    // the hub holds nothing from HND — no zero — until HND is back.
    let hnd = c.node("HND");
    hnd.kill();
    let h = publish(hnd, &period).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !hub_releases(reg, &period).await.contains_key("HND"),
        "nothing from HND while it is down"
    );
    hnd.start().await;
    let r = wait_hub(&c, "HND", &period, 1).await;
    assert_eq!(r["hash"], h["hash"]);
    assert_eq!(persons(&r["body"]), Some(5));
    let once = reg
        .query_i64("SELECT country, COUNT(*) FROM hub_releases GROUP BY country ORDER BY country")
        .await;
    assert_eq!(
        once,
        vec![("GTM".to_owned(), 1), ("HND".to_owned(), 1)],
        "each release stored once"
    );
    c.assert_audit_intact().await;
}
