//! The Prometheus metrics listener (`[metrics] listen`) of a real node, and `/readyz`: the
//! request counter by route template, the outbox and job gauges read at scrape time, no
//! victim data in the body; readiness failing past the manifest's grace and without the data
//! key file.

use std::sync::Arc;

use chrono::{Duration, SubsecRound};
use puente_federation::transport::generate_tls_identity;
use puente_federation::{
    Channel, Manifest, Member, MemberKey, MemberRole, MemberStatus, SigningIdentity,
};
use puente_node::authz::Actor;
use puente_node::cases::{self, Who};
use puente_node::clock::{Clock, ManualClock, SystemClock};
use puente_node::config::{Config, MetricsConfig};
use puente_node::store::fed_sql::{ApprovalKind, Outgoing};
use uuid::Uuid;

use crate::cases::{new_case, DOCUMENT, FAMILY, NAME};
use crate::helpers::TestNode;

fn with_metrics(c: &mut Config) {
    c.metrics = Some(MetricsConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
    });
}

async fn scrape(node: &TestNode) -> String {
    let addr = node.state.metrics.listen_addr().expect("metrics listener");
    let res = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ct = res
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    let body = res.text().await.unwrap();
    assert!(body.ends_with("# EOF\n"), "{body}");
    body
}

/// The value of the sample `series` (name and labels exactly as written), if present.
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn the_metrics_listener_counts_requests_by_route_and_reads_outbox_and_jobs() {
    let node = TestNode::start_with(Arc::new(SystemClock), with_metrics).await;
    let org = node.org("ASOC1").await;
    let (worker, _) = node.user("gestora", "caseworker", Some(&org), false).await;
    let actor = Actor {
        user_id: worker.id,
        username: worker.username.clone(),
        role: worker.role,
        org_id: worker.org_id,
    };
    let audit = node.ctx();
    let who = Who {
        actor: &actor,
        audit: &audit,
    };
    let case = cases::register(&node.state, who, new_case()).await.unwrap();

    // Not on the web port.
    let web = reqwest::get(format!("{}/metrics", node.base))
        .await
        .unwrap();
    assert_ne!(web.status(), 200);
    assert!(!web.text().await.unwrap().contains("puente_http_requests"));
    // Only /metrics on the metrics port.
    let addr = node.state.metrics.listen_addr().unwrap();
    let other = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(other.status(), 404);

    let before = scrape(&node).await;
    assert_eq!(sample(&before, "puente_database_up"), Some(1.0));
    assert!(sample(&before, "puente_db_pool_connections").unwrap() >= 1.0);
    assert_eq!(
        sample(&before, "puente_audit_checkpoint_last_timestamp_seconds"),
        None
    );
    assert!(!before.contains("job_name=\"audit_checkpoint\""));
    assert!(!before.contains("peer=\"HND\""));

    // A page request: counted under its route template, never its raw path.
    let page = format!("/cases/{}", case.id);
    let browser = node.client();
    browser
        .login("gestora", crate::helpers::PASSWORD, None)
        .await;
    let p = browser.get(&page).await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains(NAME), "the page shows the case");
    // An unknown path is counted as unmatched.
    browser.get(&format!("/no-such-page/{}", case.id)).await;

    // A queued envelope for HND on the directory channel.
    let signer = SigningIdentity::generate("GTM-2026a".parse().unwrap());
    node.state
        .store
        .fed_enqueue(&[Outgoing {
            id: Uuid::now_v7(),
            origin: "GTM".parse().unwrap(),
            destination: "HND".parse().unwrap(),
            channel: Channel::Directory,
            kind: "directory.publish",
            payload: serde_json::json!({ "revision": 1 }),
            manifest_version: 1,
            signer: &signer,
            now: node.state.clock.now(),
        }])
        .await
        .unwrap();

    // A run of the audit checkpoint job.
    puente_node::jobs::checkpoint_now(&node.state).await;

    let body = scrape(&node).await;
    let series = "puente_http_requests_total{method=\"GET\",route=\"/cases/{id}\",status=\"2xx\"}";
    assert_eq!(sample(&body, series), Some(1.0), "{body}");
    assert!(body.contains(
        "puente_http_request_duration_seconds_count{method=\"GET\",route=\"/cases/{id}\",status=\"2xx\"} 1"
    ));
    assert!(
        sample(
            &body,
            "puente_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"4xx\"}"
        )
        .is_some(),
        "{body}"
    );
    assert!(sample(
        &body,
        "puente_http_requests_total{method=\"POST\",route=\"/login\",status=\"3xx\"}"
    )
    .is_some());
    assert_eq!(
        sample(
            &body,
            "puente_federation_outbox_backlog{peer=\"HND\",channel=\"directory\"}"
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(
            &body,
            "puente_federation_delivery_failures{peer=\"HND\",channel=\"directory\"}"
        ),
        Some(0.0)
    );
    let now = node.state.clock.now().timestamp() as f64;
    let ok = sample(
        &body,
        "puente_job_last_success_timestamp_seconds{job_name=\"audit_checkpoint\"}",
    )
    .expect("job registry");
    assert!((now - ok).abs() < 60.0, "{ok} vs {now}");
    assert!(
        !body.contains("puente_job_last_failure_timestamp_seconds{job_name=\"audit_checkpoint\"}")
    );
    let cp =
        sample(&body, "puente_audit_checkpoint_last_timestamp_seconds").expect("checkpoint gauge");
    assert!((now - cp).abs() < 60.0);
    // A node without a manifest has no manifest gauges; a node has no hub gauges.
    assert_eq!(
        sample(&body, "puente_manifest_expiry_timestamp_seconds"),
        None
    );
    assert!(!body.contains("puente_hub_releases"));

    // No victim data, no user name, no id, no raw path.
    for secret in [
        NAME,
        "Xiomara",
        FAMILY,
        DOCUMENT,
        "Relato confidencial",
        "gestora",
        "ASOC1",
        &case.id.to_string(),
        &case.number,
        &page,
        "no-such-page",
    ] {
        assert!(!body.contains(secret), "{secret} in the metrics");
    }
}

fn member(
    id: &str,
    key: &SigningIdentity,
    pin: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Member {
    Member {
        id: id.parse().unwrap(),
        name: format!("Miembro {id}"),
        role: MemberRole::Node,
        status: MemberStatus::Active,
        endpoint: "https://127.0.0.1:7443".into(),
        tls_pins: vec![pin.into()],
        signing_keys: vec![MemberKey {
            id: key.key_id().clone(),
            public_key: key.public_key_b64(),
            valid_from: now - Duration::days(1),
            valid_until: None,
        }],
        revoked_keys: vec![],
        seal_keys: vec![],
    }
}

#[tokio::test]
async fn readyz_fails_past_the_manifests_grace_and_without_the_data_key_file() {
    let clock = ManualClock::new(SystemClock.now());
    let node = TestNode::start_with(Arc::new(clock.clone()), with_metrics).await;
    let http = reqwest::Client::new();
    let ready = || async {
        let res = http
            .get(format!("{}/readyz", node.base))
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    };
    assert_eq!(ready().await, (200, "ready".to_owned()));

    // A manifest valid 30 days with a grace of 7.
    let now = node.state.clock.now().trunc_subsecs(0);
    let tg = crate::helpers::TestGovernance::new();
    let gtm_tls = generate_tls_identity("GTM".parse().unwrap(), &["127.0.0.1".into()]).unwrap();
    let hnd_tls = generate_tls_identity("HND".parse().unwrap(), &["127.0.0.3".into()]).unwrap();
    let hnd_key = SigningIdentity::generate("HND-2026a".parse().unwrap());
    let manifest = Manifest {
        v: 1,
        federation: "puente-prueba".into(),
        version: 1,
        issued_at: now - Duration::hours(1),
        expires_at: now + Duration::days(30),
        grace_seconds: 7 * 86_400,
        governance: tg.governance.clone(),
        members: vec![
            member("GTM", node.state.identity.as_ref(), &gtm_tls.pin, now),
            member("HND", &hnd_key, &hnd_tls.pin, now),
        ],
        agreements: vec![],
    };
    let signed = tg.sign(manifest);
    tg.join(&node, &signed, &[(ApprovalKind::Peer, "HND")])
        .await;
    assert_eq!(ready().await.0, 200);
    let body = scrape(&node).await;
    let expiry = (now + Duration::days(30)).timestamp() as f64;
    let grace_end = (now + Duration::days(37)).timestamp() as f64;
    let gauge = |name: &str| sample(&body, name);
    assert_eq!(
        gauge("puente_manifest_expiry_timestamp_seconds"),
        Some(expiry),
        "{body}"
    );
    assert_eq!(
        gauge("puente_manifest_grace_end_timestamp_seconds"),
        Some(grace_end)
    );

    // The data key file gone: not ready, and the reason names neither the path nor the key.
    let key_path = node.state.config.keys.data_key.clone();
    let key_text = std::fs::read_to_string(&key_path).unwrap();
    std::fs::remove_file(&key_path).unwrap();
    let (status, reason) = ready().await;
    assert_eq!(status, 503);
    assert!(reason.contains("data key"), "{reason}");
    assert!(!reason.contains(key_path.to_str().unwrap()));
    // Unreadable (not a key ring): still not ready.
    std::fs::write(&key_path, "not a key").unwrap();
    assert_eq!(ready().await.0, 503);
    std::fs::write(&key_path, key_text).unwrap();
    assert_eq!(ready().await.0, 200);

    // In the grace period: still ready. Past it: not ready.
    clock.advance(Duration::days(31));
    assert_eq!(ready().await.0, 200);
    clock.advance(Duration::days(7));
    let (status, reason) = ready().await;
    assert_eq!(status, 503);
    assert!(reason.contains("manifest expired"), "{reason}");
}

#[tokio::test]
async fn a_hub_counts_the_releases_received_and_has_no_node_only_metrics() {
    let hub = crate::hub::start_hub().await;
    let t1 = SystemClock.now().trunc_subsecs(0) - Duration::days(2);
    let t2 = t1 + Duration::days(1);
    for (country, period, seq, at) in [
        ("GTM", "2026-Q1", 1_i64, t1),
        ("GTM", "2026-Q2", 2, t2),
        ("HND", "2026-Q1", 1, t1),
    ] {
        on_db!(hub, |pool| {
            sqlx::query(
                "INSERT INTO hub_releases (id, country, period, period_kind, version, seq, body, \
             hash, prev, envelope_hash, message_id, received_at, published_at, review, k) \
             VALUES ($1, $2, $3, 'quarter', 1, $4, '{}', 'h', 'p', 'e', $5, $6, $6, 'auto', 5)",
            )
            .bind(Uuid::now_v7())
            .bind(country)
            .bind(period)
            .bind(seq)
            .bind(Uuid::now_v7())
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
        });
    }
    let body = hub.state.metrics.render(&hub.state).await.unwrap();
    assert_eq!(
        sample(&body, "puente_hub_releases_total{country=\"GTM\"}"),
        Some(2.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "puente_hub_releases_total{country=\"HND\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &body,
            "puente_hub_release_last_received_timestamp_seconds{country=\"GTM\"}"
        ),
        Some(t2.timestamp() as f64)
    );
    assert_eq!(sample(&body, "puente_database_up"), Some(1.0));
    for node_only in [
        "puente_federation_outbox_backlog",
        "puente_federation_delivery_failures",
        "puente_stats_release_last_published_timestamp_seconds",
    ] {
        assert!(!body.contains(node_only), "{node_only} on a hub");
    }
}
