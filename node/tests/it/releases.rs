//! Statistics releases (`puente_node::stats::releases`): a GTM node in a federation with a
//! `stats:GTM,HND,REG@REG/quarter` agreement (REG the hub), approved here. No listener and no
//! workers: what the node sends is read from its outbox.
//!
//! Covered: prepare → the preview page shows the suppressed cells with their reasons →
//! publish → one signed `stats.release` envelope to REG whose payload passes
//! `ReleaseBody::check` and chains to the previous release; a correction (version 2) chained
//! to version 1; the refusals (open period, wrong kind, second draft, publish or discard of a
//! non-draft, no agreement), each changing nothing; DP mode: the ledger sums, the release past
//! the yearly cap is refused with nothing written; the daily job prepares (and under
//! `auto_publish` publishes) exactly once, also with two runs at once; the CLI's `--json`;
//! only national administrators. On the backend under test.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, SubsecRound, Utc};
use puente_common::case::{CaseRecord, ConsentRecord, PersonRecord};
use puente_common::stats::release::{PeriodKind, ReleaseBody, RELEASE_KIND};
use puente_common::stats::{Cell, Period};
use puente_common::vocab::codes::{
    CaseStatus, ConsentGivenBy, ConsentScope, ExploitationType, Gender, IntakeChannel, Means,
    TraffickingAct, TraffickingStatus,
};
use puente_common::CountryCode;
use puente_federation::transport::generate_tls_identity;
use puente_federation::{
    Agreement, AgreementKind, Channel, Envelope, Manifest, Member, MemberKey, MemberRole,
    MemberStatus, SigningIdentity, ZERO_HASH,
};
use puente_node::authz::Actor;
use puente_node::cases::{self, NewCase, PersonChoice, Who};
use puente_node::clock::{Clock, SystemClock};
use puente_node::config::{Config, DeliveryConfig, FederationConfig};
use puente_node::stats::cli::{execute, StatsCmd};
use puente_node::stats::releases::{self, JobOutcome};
use puente_node::store::fed_sql::ApprovalKind;
use puente_node::store::User;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{TestNode, PASSWORD};

fn gtm() -> CountryCode {
    "GTM".parse().unwrap()
}

fn reg() -> CountryCode {
    "REG".parse().unwrap()
}

struct World {
    node: TestNode,
    /// A national administrator (with TOTP: its secret) and their API token.
    admin: User,
    admin_totp: String,
    admin_token: String,
    analyst_token: String,
    worker: User,
    worker_token: String,
    http: reqwest::Client,
}

fn member_key(id: &SigningIdentity, now: DateTime<Utc>) -> MemberKey {
    MemberKey {
        id: id.key_id().clone(),
        public_key: id.public_key_b64(),
        valid_from: now - Duration::days(1),
        valid_until: None,
    }
}

/// A GTM node; with `federation`, it joined a federation of GTM, HND and the hub REG with
/// the agreement `stats-reg` (`stats:GTM,HND,REG@REG/quarter`), approved here.
async fn world(federation: bool, tweak: impl FnOnce(&mut Config) + Send + 'static) -> World {
    let gtm_tls = generate_tls_identity(gtm(), &["127.0.0.1".into()]).unwrap();
    let gtm_pin = gtm_tls.pin.clone();
    let node = TestNode::start_with(Arc::new(SystemClock), move |c| {
        if federation {
            let cert = c.data_dir.join("fed-tls-cert.pem");
            let key = c.data_dir.join("fed-tls-key.pem");
            std::fs::write(&cert, gtm_tls.cert_pem.as_bytes()).unwrap();
            std::fs::write(&key, gtm_tls.key_pem.as_bytes()).unwrap();
            c.federation = Some(FederationConfig {
                listen: "127.0.0.1:0".parse().unwrap(),
                endpoint: "https://127.0.0.1:7443".into(),
                tls_cert: cert,
                tls_key: key,
                role: "node".into(),
                name: "Guatemala".into(),
                delivery: DeliveryConfig::default(),
            });
        }
        tweak(c);
    })
    .await;
    if federation {
        let now = node.state.clock.now().trunc_subsecs(0);
        let tg = crate::helpers::TestGovernance::new();
        let governance = tg.governance.clone();
        let hnd_key = SigningIdentity::generate("HND-2026a".parse().unwrap());
        let reg_key = SigningIdentity::generate("REG-2026a".parse().unwrap());
        let hnd_tls = generate_tls_identity("HND".parse().unwrap(), &["127.0.0.3".into()]).unwrap();
        let reg_tls = generate_tls_identity(reg(), &["127.0.0.5".into()]).unwrap();
        let member = |id: &str, role, endpoint: &str, pin: &str, key: &SigningIdentity| Member {
            id: id.parse().unwrap(),
            name: format!("Miembro {id}"),
            role,
            status: MemberStatus::Active,
            endpoint: endpoint.into(),
            tls_pins: vec![pin.into()],
            signing_keys: vec![member_key(key, now)],
            revoked_keys: vec![],
            seal_keys: vec![],
        };
        let manifest = Manifest {
            v: 1,
            federation: "puente-prueba".into(),
            version: 1,
            issued_at: now - Duration::hours(1),
            expires_at: now + Duration::days(30),
            grace_seconds: 7 * 86_400,
            governance: governance.clone(),
            members: vec![
                member(
                    "GTM",
                    MemberRole::Node,
                    "https://127.0.0.1:7443",
                    &gtm_pin,
                    node.state.identity.as_ref(),
                ),
                member(
                    "HND",
                    MemberRole::Node,
                    "https://127.0.0.3:7443",
                    &hnd_tls.pin,
                    &hnd_key,
                ),
                member(
                    "REG",
                    MemberRole::Hub,
                    "https://127.0.0.5:7443",
                    &reg_tls.pin,
                    &reg_key,
                ),
            ],
            agreements: vec![Agreement {
                id: "stats-reg".into(),
                kind: AgreementKind::Stats,
                members: vec![gtm(), "HND".parse().unwrap(), reg()],
                hub: Some(reg()),
                period: Some(PeriodKind::Quarter),
            }],
        };
        let signed = tg.sign(manifest);
        tg.join(
            &node,
            &signed,
            &[
                (ApprovalKind::Peer, "REG"),
                (ApprovalKind::Agreement, "stats-reg"),
            ],
        )
        .await;
    }
    let org = node.org("ASOC1").await;
    let (admin, secret) = node.user("nacional", "node_admin", None, true).await;
    let (analyst, _) = node.user("analista", "analyst", None, false).await;
    let (worker, _) = node.user("gestora", "caseworker", Some(&org), false).await;
    let admin_token = node.token(admin.id, 30).await;
    let analyst_token = node.token(analyst.id, 30).await;
    let worker_token = node.token(worker.id, 30).await;
    World {
        node,
        admin,
        admin_totp: secret.unwrap(),
        admin_token,
        analyst_token,
        worker,
        worker_token,
        http: reqwest::Client::new(),
    }
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn consent(scope: ConsentScope, on: &str) -> ConsentRecord {
    ConsentRecord {
        scope,
        given_by: ConsentGivenBy::Person,
        guardian_name: String::new(),
        given_on: d(on),
        expires_on: None,
        destination_country: None,
        destination_org: String::new(),
        field_groups: BTreeSet::new(),
        evidence_ref: "F-1".into(),
    }
}

impl World {
    /// Registers an invented person identified on `on`, with a statistical-use consent.
    async fn person(&self, n: usize, gender: Gender, age: u32, form: ExploitationType, on: &str) {
        let mut person = PersonRecord::default();
        person.identity.given_names = "Persona".into();
        person.identity.family_names = format!("Inventada {n}");
        person.gender = Some(gender);
        person.citizenship.insert(gtm());
        let mut c = CaseRecord {
            intake_channel: IntakeChannel::Hotline,
            registration_date: d(on),
            identification_date: Some(d(on)),
            status: CaseStatus::Active,
            closure_reason: None,
            trafficking_status: Some(TraffickingStatus::ActualVictim),
            status_decided_by: None,
            location: None,
            process: Default::default(),
            narrative: "Relato inventado".into(),
        };
        c.process.acts.insert(TraffickingAct::Recruitment);
        c.process.means.insert(Means::Deception);
        c.process.exploitation_types.insert(form);
        c.process.age_when_trafficked = Some(age);
        c.process.country_of_exploitation = Some(gtm());
        let a = Actor {
            user_id: self.worker.id,
            username: self.worker.username.clone(),
            role: self.worker.role,
            org_id: self.worker.org_id,
        };
        let ctx = self.node.ctx();
        cases::register(
            &self.node.state,
            Who {
                actor: &a,
                audit: &ctx,
            },
            NewCase {
                person: PersonChoice::New(Box::new(person)),
                case: c,
                consents: vec![
                    consent(ConsentScope::CaseManagement, on),
                    consent(ConsentScope::StatisticalUse, on),
                ],
                caseworker_id: None,
                consent_override_reason: None,
            },
        )
        .await
        .unwrap();
    }

    /// Eight women of 25 in sexual exploitation and two men of 30 in forced labour, in
    /// 2025-Q1: the men's cells are under k.
    async fn populate(&self) {
        for n in 0..8 {
            self.person(
                n,
                Gender::Feminine,
                25,
                ExploitationType::SexualExploitation,
                "2025-02-10",
            )
            .await;
        }
        for n in 8..10 {
            self.person(
                n,
                Gender::Masculine,
                30,
                ExploitationType::ForcedLabour,
                "2025-03-01",
            )
            .await;
        }
    }

    async fn call(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.node.base);
        let mut req = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url),
        }
        .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn prepare(&self, period: &str) -> (u16, Value) {
        self.call(
            &self.admin_token,
            "POST",
            "/api/v1/stats/releases",
            Some(json!({ "period": period })),
        )
        .await
    }

    async fn publish(&self, id: &str) -> (u16, Value) {
        self.call(
            &self.admin_token,
            "POST",
            &format!("/api/v1/stats/releases/{id}/publish"),
            Some(json!({})),
        )
        .await
    }

    async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        on_db!(self.node, |pool| sqlx::query_scalar::<_, i64>(&sql)
            .fetch_one(&pool)
            .await
            .unwrap())
    }

    /// Rows of the release tables, the outbox and the audit trail: what a refusal must not
    /// change.
    async fn counts(&self) -> [i64; 4] {
        [
            self.count("stats_releases").await,
            self.count("stats_epsilon").await,
            self.count("fed_outbox").await,
            self.count("audit_log WHERE action LIKE 'stats.release%'")
                .await,
        ]
    }

    /// The `stats.release` envelopes queued to REG, opened and verified with GTM's key.
    async fn to_hub(&self) -> Vec<(Envelope, ReleaseBody)> {
        let rows = self
            .node
            .state
            .store
            .fed_pending(reg(), Channel::Stats, 100)
            .await
            .unwrap();
        rows.iter()
            .map(|r| {
                let env = Envelope::parse(r.body.as_bytes()).unwrap();
                env.verify(&self.node.state.identity.verifying_key())
                    .unwrap();
                let body: ReleaseBody = serde_json::from_value(env.payload.clone()).unwrap();
                (env, body)
            })
            .collect()
    }
}

fn field_code(v: &Value) -> (String, String) {
    let f = &v["fields"][0];
    (
        f["field"].as_str().unwrap_or_default().to_owned(),
        f["code"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn a_release_is_previewed_published_signed_chained_and_corrected() {
    let w = world(true, |_| {}).await;
    w.populate().await;
    let (status, draft) = w.prepare("2025-Q1").await;
    assert_eq!(status, 201, "{draft}");
    assert_eq!(draft["state"], "draft");
    assert_eq!(draft["version"], 1);
    let id = draft["id"].as_str().unwrap().to_owned();
    assert!(w.to_hub().await.is_empty(), "a draft sends nothing");

    // The preview, in Spanish: the men's cells are "<5", with their reason.
    let b = w.node.client();
    b.login("nacional", PASSWORD, Some(&w.admin_totp)).await;
    let list = b.get("/statistics/releases").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("2025-Q1"), "{}", list.body);
    assert!(list.body.contains("Borrador"));
    let stats = b.get("/statistics").await;
    assert!(stats.body.contains("/statistics/releases"));
    let preview = b.get(&format!("/statistics/releases/{id}")).await;
    assert_eq!(preview.status, 200);
    assert!(preview.body.contains("&lt;5"), "{}", preview.body);
    assert!(preview.body.contains("primaria: menos de k personas"));
    assert!(preview.body.contains("Publicar"));
    // What the preview shows is what is stored (never recomputed).
    let row = w
        .node
        .state
        .store
        .release(id.parse().unwrap())
        .await
        .unwrap()
        .release;
    let stored = releases::content(&row).unwrap();
    let t01 = stored.tables.iter().find(|t| t.id == "T01").unwrap();
    assert!(t01.cells.iter().any(|c| matches!(c, Cell::Suppressed(_))));

    // Publish through the page's form.
    let p = b
        .post_from(
            &format!("/statistics/releases/{id}"),
            &format!("/statistics/releases/{id}/publish"),
            &[],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let sent = w.to_hub().await;
    assert_eq!(sent.len(), 1);
    let (env, body) = &sent[0];
    assert_eq!(env.kind, RELEASE_KIND);
    assert_eq!(env.channel, Channel::Stats);
    assert_eq!(env.destination, reg());
    body.check(gtm(), PeriodKind::Quarter).unwrap();
    assert_eq!(body.version, 1);
    assert_eq!(body.prev, ZERO_HASH);
    assert_eq!(
        body.tables, stored.tables,
        "publishing signs the stored tables"
    );
    let v1 = w
        .node
        .state
        .store
        .release(id.parse().unwrap())
        .await
        .unwrap()
        .release;
    assert_eq!(v1.state, "published");
    assert_eq!(v1.review.as_deref(), Some("reviewed"));
    assert_eq!(v1.published_by, Some(w.admin.id));
    let h1 = puente_node::stats::release_hash(body).unwrap();
    assert_eq!(v1.hash.as_deref(), Some(h1.as_str()));
    let page = b.get(&format!("/statistics/releases/{id}")).await;
    assert!(page.body.contains(&h1));
    assert!(page.body.contains("pendiente"), "delivery pending");
    // Once the hub acknowledged it: delivered.
    on_db!(w.node, |pool| sqlx::query(
        "UPDATE fed_outbox SET status = 'acked' WHERE kind = 'stats.release'"
    )
    .execute(&pool)
    .await
    .map(|_| ())
    .unwrap());
    let list = b.get("/statistics/releases").await;
    assert!(list.body.contains("entregada"), "{}", list.body);
    on_db!(w.node, |pool| sqlx::query(
        "UPDATE fed_outbox SET status = 'pending' WHERE kind = 'stats.release'"
    )
    .execute(&pool)
    .await
    .map(|_| ())
    .unwrap());

    // A correction: version 2, chained to version 1.
    let (status, v2) = w.prepare("2025-Q1").await;
    assert_eq!(status, 201, "{v2}");
    assert_eq!(v2["version"], 2);
    let (status, v2) = w.publish(v2["id"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{v2}");
    assert_eq!(v2["state"], "published");
    let sent = w.to_hub().await;
    assert_eq!(sent.len(), 2);
    let b2 = &sent[1].1;
    assert_eq!(b2.version, 2);
    assert_eq!(b2.prev, h1);
    b2.check(gtm(), PeriodKind::Quarter).unwrap();
    let h2 = puente_node::stats::release_hash(b2).unwrap();
    assert_eq!(v2["hash"], h2);
    // Another period chains to the latest release of any period.
    let (_, q2) = w.prepare("2025-Q2").await;
    let (status, q2) = w.publish(q2["id"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{q2}");
    assert_eq!(q2["version"], 1);
    let sent = w.to_hub().await;
    assert_eq!(sent[2].1.prev, h2);
    // The stream to the hub is one ordered chain of envelopes.
    assert_eq!(
        sent.iter().map(|(e, _)| e.seq).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    let actions: Vec<String> = w
        .node
        .audit_actions()
        .await
        .into_iter()
        .map(|a| a.0)
        .filter(|a| a.starts_with("stats.release"))
        .collect();
    assert_eq!(
        actions,
        [
            "stats.release_prepare",
            "stats.release_publish",
            "stats.release_prepare",
            "stats.release_publish",
            "stats.release_prepare",
            "stats.release_publish",
        ]
    );
}

#[tokio::test]
async fn refusals_change_nothing() {
    let w = world(true, |_| {}).await;
    w.populate().await;
    let (_, first) = w.prepare("2025-Q1").await;
    let id = first["id"].as_str().unwrap().to_owned();
    let before = w.counts().await;
    let open = open_quarter();
    for (period, code) in [
        (open.as_str(), "period_open"),
        ("2025-03", "wrong_period_kind"),
        ("2025", "wrong_period_kind"),
        ("2025-Q1", "draft_exists"),
        ("2025-Q9", "invalid"),
    ] {
        let (status, v) = w.prepare(period).await;
        assert_eq!(status, 422, "{period}: {v}");
        assert_eq!(field_code(&v), ("period".into(), code.into()), "{period}");
    }
    assert_eq!(w.counts().await, before);
    // Publish and discard of a non-draft.
    let (status, _) = w.publish(&id).await;
    assert_eq!(status, 200);
    let before = w.counts().await;
    let (status, v) = w.publish(&id).await;
    assert_eq!(status, 422);
    assert_eq!(field_code(&v), ("state".into(), "not_a_draft".into()));
    let (status, v) = w
        .call(
            &w.admin_token,
            "POST",
            &format!("/api/v1/stats/releases/{id}/discard"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(field_code(&v), ("state".into(), "not_a_draft".into()));
    let (status, _) = w.publish(&Uuid::now_v7().to_string()).await;
    assert_eq!(status, 404);
    assert_eq!(w.counts().await, before);
    // A discarded draft frees its version and cannot be published.
    let (_, d2) = w.prepare("2025-Q1").await;
    assert_eq!(d2["version"], 2);
    let d2id = d2["id"].as_str().unwrap();
    let (status, v) = w
        .call(
            &w.admin_token,
            "POST",
            &format!("/api/v1/stats/releases/{d2id}/discard"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["state"], "discarded");
    let (status, v) = w.publish(d2id).await;
    assert_eq!(status, 422);
    assert_eq!(field_code(&v), ("state".into(), "not_a_draft".into()));
    let (_, d3) = w.prepare("2025-Q1").await;
    assert_eq!(d3["version"], 2);
    assert_eq!(w.to_hub().await.len(), 1);

    // A draft whose stored tables would fail the hub's check (a count under k edited in) is
    // never published.
    let d3id: Uuid = d3["id"].as_str().unwrap().parse().unwrap();
    let row = w.node.state.store.release(d3id).await.unwrap().release;
    let mut c = releases::content(&row).unwrap();
    let t01 = c.tables.iter_mut().find(|t| t.id == "T01").unwrap();
    let i = t01
        .cells
        .iter()
        .position(|c| matches!(c, Cell::Suppressed(_)))
        .unwrap();
    t01.cells[i] = Cell::Count(2);
    let tampered = serde_json::to_string(&releases::DraftBody {
        method: c.method,
        withheld: c.withheld,
        tables: c.tables,
    })
    .unwrap();
    on_db!(w.node, |pool| sqlx::query(
        "UPDATE stats_releases SET body = $1 WHERE id = $2"
    )
    .bind(&tampered)
    .bind(d3id)
    .execute(&pool)
    .await
    .map(|_| ())
    .unwrap());
    let before = w.counts().await;
    let (status, v) = w.publish(&d3id.to_string()).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(field_code(&v), ("release".into(), "release_unsafe".into()));
    assert_eq!(w.counts().await, before);
    assert_eq!(
        w.node
            .state
            .store
            .release(d3id)
            .await
            .unwrap()
            .release
            .state,
        "draft"
    );

    // A node under no stats agreement.
    let lone = world(false, |_| {}).await;
    let before = lone.counts().await;
    let (status, v) = lone.prepare("2025-Q1").await;
    assert_eq!(status, 422);
    assert_eq!(
        field_code(&v),
        ("period".into(), "no_stats_agreement".into())
    );
    assert_eq!(lone.counts().await, before);
    // The form re-renders with the reason, in Spanish.
    let b = lone.node.client();
    b.login("nacional", PASSWORD, Some(&lone.admin_totp)).await;
    let p = b
        .post_from(
            "/statistics/releases",
            "/statistics/releases",
            &[("period", "2025-Q1")],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(
        p.body.contains("acuerdo de estadísticas aprobado"),
        "{}",
        p.body
    );
    assert_eq!(lone.counts().await, before);
}

/// The current quarter (open), as text.
pub fn open_quarter() -> String {
    let today = SystemClock.now().date_naive();
    let p = puente_node::stats::last_closed("quarter", today);
    let (_, end) = puente_node::stats::period_bounds(p);
    let next = end + Duration::days(1);
    let q = Period::Quarter(
        u16::try_from(chrono::Datelike::year(&next)).unwrap(),
        u8::try_from((chrono::Datelike::month(&next) - 1) / 3 + 1).unwrap(),
    );
    q.to_string()
}

#[tokio::test]
async fn dp_mode_records_the_spend_and_refuses_past_the_yearly_cap() {
    let w = world(true, |c| {
        c.stats.dp_epsilon_milli = Some(900);
        c.stats.dp_yearly_cap_milli = 2000;
    })
    .await;
    w.populate().await;
    let (status, a) = w.prepare("2025-Q1").await;
    assert_eq!(status, 201, "{a}");
    assert_eq!(a["epsilon_milli"], 900);
    // Discarding does not give the ε back: the administrator saw noisy values.
    w.call(
        &w.admin_token,
        "POST",
        &format!(
            "/api/v1/stats/releases/{}/discard",
            a["id"].as_str().unwrap()
        ),
        Some(json!({})),
    )
    .await;
    let (status, b) = w.prepare("2025-Q2").await;
    assert_eq!(status, 201, "{b}");
    assert_eq!(
        releases::epsilon_spent(&w.node.state, 2025).await.unwrap(),
        1800
    );
    let before = w.counts().await;
    let (status, v) = w.prepare("2025-Q3").await;
    assert_eq!(status, 422);
    assert_eq!(
        field_code(&v),
        ("period".into(), "epsilon_budget_exceeded".into())
    );
    assert_eq!(w.counts().await, before);
    assert_eq!(
        releases::epsilon_spent(&w.node.state, 2025).await.unwrap(),
        1800
    );
    // Another year has its own budget.
    let (status, _) = w.prepare("2024-Q4").await;
    assert_eq!(status, 201);
    // The release states its ε and each table its share; T04's bound is its cells.
    let (status, _) = w.publish(b["id"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let sent = w.to_hub().await;
    let body = &sent[0].1;
    body.check(gtm(), PeriodKind::Quarter).unwrap();
    assert_eq!(body.method.dp.unwrap().epsilon_milli, 900);
    for t in &body.tables {
        let dp = t.method.dp.unwrap();
        assert_eq!(dp.epsilon_milli, 100, "{}", t.id);
        let cells: usize = t.dimensions.iter().map(|d| d.categories.len()).product();
        let bound = if t.id == "T04" { cells as u32 } else { 1 };
        assert_eq!(dp.contribution_bound, bound, "{}", t.id);
    }
    // The page shows the year's spend against the cap.
    let b = w.node.client();
    b.login("nacional", PASSWORD, Some(&w.admin_totp)).await;
    let p = b.get("/statistics/releases").await;
    let year = chrono::Datelike::year(&SystemClock.now());
    assert!(
        p.body.contains(&format!("ε gastado en {year}")),
        "{}",
        p.body
    );
}

#[tokio::test]
async fn the_daily_job_prepares_once_and_publishes_once_under_auto_publish() {
    // Without auto_publish: a draft for review, once.
    let w = world(true, |_| {}).await;
    let st = &w.node.state;
    assert_eq!(releases::run_job(st).await.unwrap(), JobOutcome::Prepared);
    assert_eq!(
        releases::run_job(st).await.unwrap(),
        JobOutcome::AlreadyDone
    );
    let rows = st.store.releases(None).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].release.state, "draft");
    assert_eq!(rows[0].release.prepared_by, None);
    assert!(w.to_hub().await.is_empty());
    // A discarded draft is a decision: the job does not prepare the period again.
    releases::discard(st, rows[0].release.id, &w.node.ctx())
        .await
        .unwrap();
    assert_eq!(
        releases::run_job(st).await.unwrap(),
        JobOutcome::AlreadyDone
    );
    assert_eq!(st.store.releases(None).await.unwrap().len(), 1);

    // With auto_publish, two runs at once (two replicas): one release, one envelope.
    let w = world(true, |c| c.stats.auto_publish = true).await;
    let st = &w.node.state;
    let (a, b) = tokio::join!(releases::run_job(st), releases::run_job(st));
    let outcomes = [a.unwrap(), b.unwrap()];
    assert!(outcomes.contains(&JobOutcome::Published), "{outcomes:?}");
    assert_eq!(
        releases::run_job(st).await.unwrap(),
        JobOutcome::AlreadyDone
    );
    let rows = st.store.releases(None).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].release.state, "published");
    assert_eq!(rows[0].release.review.as_deref(), Some("auto"));
    let sent = w.to_hub().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].1.review,
        puente_common::stats::release::ReleaseReview::Auto
    );
    let today = st.clock.now().date_naive();
    assert_eq!(
        sent[0].1.period,
        puente_node::stats::last_closed("quarter", today)
    );

    // No agreement: nothing.
    let lone = world(false, |_| {}).await;
    assert_eq!(
        releases::run_job(&lone.node.state).await.unwrap(),
        JobOutcome::NoAgreement
    );
    assert_eq!(lone.count("stats_releases").await, 0);
}

#[tokio::test]
async fn the_cli_prints_json_for_the_harness() {
    let w = world(true, |_| {}).await;
    w.populate().await;
    let ctx = w.node.ctx();
    let out = execute(
        &w.node.state,
        &StatsCmd::Prepare {
            period: "2025-Q1".into(),
            publish: true,
            json: true,
        },
        &ctx,
    )
    .await
    .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["period"], "2025-Q1");
    assert_eq!(v["version"], 1);
    assert_eq!(v["state"], "published");
    assert_eq!(v["hash"].as_str().unwrap().len(), 64);
    let out = execute(
        &w.node.state,
        &StatsCmd::Prepare {
            period: "2025-Q2".into(),
            publish: false,
            json: true,
        },
        &ctx,
    )
    .await
    .unwrap();
    let d: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d["state"], "draft");
    assert_eq!(d["hash"], Value::Null);
    let out = execute(
        &w.node.state,
        &StatsCmd::Publish {
            id: d["id"].as_str().unwrap().parse().unwrap(),
            json: true,
        },
        &ctx,
    )
    .await
    .unwrap();
    let p: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(p["state"], "published");
    let out = execute(&w.node.state, &StatsCmd::List { json: true }, &ctx)
        .await
        .unwrap();
    let list: Value = serde_json::from_str(&out).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    for r in list {
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["hash", "id", "period", "state", "version"]);
    }
    let e = execute(
        &w.node.state,
        &StatsCmd::Prepare {
            period: "2025-03".into(),
            publish: false,
            json: true,
        },
        &ctx,
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("wrong_period_kind"), "{e}");
    assert_eq!(w.to_hub().await.len(), 2);
}

#[tokio::test]
async fn only_national_administrators() {
    let w = world(true, |_| {}).await;
    for token in [&w.analyst_token, &w.worker_token] {
        let (status, _) = w.call(token, "GET", "/api/v1/stats/releases", None).await;
        assert_eq!(status, 403);
        let (status, _) = w
            .call(
                token,
                "POST",
                "/api/v1/stats/releases",
                Some(json!({ "period": "2025-Q1" })),
            )
            .await;
        assert_eq!(status, 403);
    }
    assert_eq!(w.count("stats_releases").await, 0);
    let (status, v) = w
        .call(&w.admin_token, "GET", "/api/v1/stats/releases", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(v, json!([]));
    let b = w.node.client();
    b.login("analista", PASSWORD, None).await;
    assert_eq!(b.get("/statistics/releases").await.status, 403);
    let stats = b.get("/statistics").await;
    assert_eq!(stats.status, 200);
    assert!(!stats.body.contains("/statistics/releases"));
    // The OpenAPI document lists the operations.
    let (_, doc) = w
        .call(&w.admin_token, "GET", "/api/v1/openapi.json", None)
        .await;
    for p in [
        "/api/v1/stats/releases",
        "/api/v1/stats/releases/{id}/publish",
        "/api/v1/stats/releases/{id}/discard",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p}");
    }
}
