//! Cross-border referrals through the JSON API, on a GTM node that joined a federation
//! in-process: HND (active, a `referral` agreement with GTM, approved here, seal keys for both)
//! and SLV (suspended). No listener and no workers: what the node would send is read from its
//! outbox and opened with HND's seal key; what HND would send is built, sealed and signed here
//! as HND, stored in the inbox and applied with `referrals::inbound::apply_remote`.
//!
//! Covered: the refusals before anything is signed (each leaves no referral and no envelope),
//! a valid referral (sealed, only the consented groups), the approval policy, the recall that
//! a consent withdrawal causes, organisation scope, notifications, and the receiving side
//! (accept into a linked case, decline, national queue, recall after accept, recall before
//! the offer).

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, SubsecRound, Utc};
use puente_common::case::{ConsentRecord, PersonRecord};
use puente_common::referral::{
    ConsentSummary, OfferBody, OrgRef, ReferralData, ReferralSource, StepBody,
};
use puente_common::vocab::codes::{
    ConsentGivenBy, ConsentScope, DeclineReason, ReferralFieldGroup, ReferralReason,
    ReferralUrgency, ServiceType,
};
use puente_common::CountryCode;
use puente_federation::seal::{self, SealKeyPair, Sealed};
use puente_federation::transport::generate_tls_identity;
use puente_federation::{
    Agreement, AgreementKind, Channel, Envelope, Manifest, Member, MemberKey, MemberRole,
    MemberStatus, SignedEnvelope, SigningIdentity, UnsignedEnvelope, ZERO_HASH,
};
use puente_node::clock::SystemClock;
use puente_node::config::{DeliveryConfig, FederationConfig};
use puente_node::federation::Federation;
use puente_node::referrals::inbound;
use puente_node::store::fed_sql::{ApprovalKind, OutboxRow};
use puente_node::store::Org;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::cases::{case_record, consent, person, DOCUMENT, FAMILY, NAME};
use crate::helpers::TestNode;

const FEDERATION: &str = "puente-prueba";

fn gtm() -> CountryCode {
    "GTM".parse().unwrap()
}

fn hnd() -> CountryCode {
    "HND".parse().unwrap()
}

struct World {
    node: TestNode,
    /// HND's signing key (its seal key derives from it).
    hnd_key: SigningIdentity,
    asoc: Org,
    /// Caseworker and coordinator of ASOC1, a caseworker of FUND2, a national administrator
    /// and an analyst: their API tokens.
    worker: String,
    coord: String,
    other: String,
    admin: String,
    analyst: String,
    http: reqwest::Client,
}

/// A member's key as the manifest lists it, valid since yesterday.
fn member_key(id: &SigningIdentity, public_key: String, now: DateTime<Utc>) -> MemberKey {
    MemberKey {
        id: id.key_id().clone(),
        public_key,
        valid_from: now - Duration::days(1),
        valid_until: None,
    }
}

/// A GTM node that joined [`FEDERATION`] (GTM, HND and the suspended SLV, each with its signing
/// and seal key; agreements `dir-all` and `ref-gh`), approved HND and `ref-gh`, with its
/// run-time federation state loaded; and its users.
async fn world(require_approval: bool) -> World {
    let gtm_tls = generate_tls_identity(gtm(), &["127.0.0.1".into()]).unwrap();
    let gtm_pin = gtm_tls.pin.clone();
    let node = TestNode::start_with(Arc::new(SystemClock), move |c| {
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
        c.referrals.require_approval = require_approval;
    })
    .await;

    let now = node.state.clock.now().trunc_subsecs(0);
    let tg = crate::helpers::TestGovernance::new();
    let governance = tg.governance.clone();
    let hnd_key = SigningIdentity::generate("HND-2026a".parse().unwrap());
    let slv_key = SigningIdentity::generate("SLV-2026a".parse().unwrap());
    let hnd_tls = generate_tls_identity(hnd(), &["127.0.0.3".into()]).unwrap();
    let slv_tls = generate_tls_identity("SLV".parse().unwrap(), &["127.0.0.4".into()]).unwrap();
    let member = |id: &str, endpoint: &str, pin: &str, key: &SigningIdentity, status| Member {
        id: id.parse().unwrap(),
        name: format!("Nodo {id}"),
        role: MemberRole::Node,
        status,
        endpoint: endpoint.into(),
        tls_pins: vec![pin.into()],
        signing_keys: vec![member_key(key, key.public_key_b64(), now)],
        revoked_keys: vec![],
        seal_keys: vec![member_key(
            key,
            SealKeyPair::derive(key).public_key_b64(),
            now,
        )],
    };
    let all: Vec<CountryCode> = ["GTM", "HND", "SLV"]
        .iter()
        .map(|c| c.parse().unwrap())
        .collect();
    let manifest = Manifest {
        v: 1,
        federation: FEDERATION.into(),
        version: 1,
        issued_at: now - Duration::hours(1),
        expires_at: now + Duration::days(30),
        grace_seconds: 7 * 86_400,
        governance: governance.clone(),
        members: vec![
            member(
                "GTM",
                "https://127.0.0.1:7443",
                &gtm_pin,
                node.state.identity.as_ref(),
                MemberStatus::Active,
            ),
            member(
                "HND",
                "https://127.0.0.3:7443",
                &hnd_tls.pin,
                &hnd_key,
                MemberStatus::Active,
            ),
            member(
                "SLV",
                "https://127.0.0.4:7443",
                &slv_tls.pin,
                &slv_key,
                MemberStatus::Suspended,
            ),
        ],
        agreements: vec![
            Agreement {
                id: "dir-all".into(),
                kind: AgreementKind::Directory,
                members: all.clone(),
                hub: None,
                period: None,
            },
            Agreement {
                id: "ref-gh".into(),
                kind: AgreementKind::Referral,
                members: vec![gtm(), hnd()],
                hub: None,
                period: None,
            },
        ],
    };
    let signed = tg.sign(manifest);
    let store = node.state.store.as_ref();
    tg.join(
        &node,
        &signed,
        &[
            (ApprovalKind::Peer, "HND"),
            (ApprovalKind::Agreement, "ref-gh"),
        ],
    )
    .await;
    let fed = Federation::load(&node.state.config).unwrap().unwrap();
    fed.refresh(store).await.unwrap();
    node.state.federation.set(Arc::new(fed)).unwrap();

    let asoc = node.org("ASOC1").await;
    let fund = node.org("FUND2").await;
    let mut tokens = Vec::new();
    for (name, role, org) in [
        ("gestora", "caseworker", Some(&asoc)),
        ("coordinacion", "org_admin", Some(&asoc)),
        ("otra-org", "caseworker", Some(&fund)),
        ("nacional", "node_admin", None),
        ("analista", "analyst", None),
    ] {
        let (u, _) = node.user(name, role, org, false).await;
        tokens.push(node.token(u.id, 30).await);
    }
    let [worker, coord, other, admin, analyst]: [String; 5] = tokens.try_into().unwrap();
    World {
        node,
        hnd_key,
        asoc,
        worker,
        coord,
        other,
        admin,
        analyst,
        http: reqwest::Client::new(),
    }
}

struct Answer {
    status: u16,
    body: Value,
    location: Option<String>,
}

impl World {
    fn today(&self) -> NaiveDate {
        self.node.state.clock.now().date_naive()
    }

    async fn call(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Answer {
        let url = format!("{}/api/v1{path}", self.node.base);
        let mut req = match method {
            "GET" => self.http.get(url),
            "PUT" => self.http.put(url),
            _ => self.http.post(url),
        }
        .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = r.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            body,
            location,
        }
    }

    async fn get(&self, token: &str, path: &str) -> Answer {
        self.call(token, "GET", path, None).await
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> Answer {
        self.call(token, "POST", path, Some(body)).await
    }

    /// A case of ASOC1 (registered by the caseworker) with a timeline note; returns its id.
    async fn case(&self) -> String {
        let a = self
            .post(
                &self.worker,
                "/cases",
                json!({
                    "person": person(),
                    "case": case_record(),
                    "consents": [consent(ConsentScope::CaseManagement)],
                }),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        let id = a.body["id"].as_str().unwrap().to_owned();
        let a = self
            .post(
                &self.worker,
                &format!("/cases/{id}/notes"),
                json!({ "text": "Nota confidencial del expediente" }),
            )
            .await;
        assert_eq!(a.status, 204, "{}", a.body);
        id
    }

    /// Records a `REFERRAL` consent for the case's person; returns its id.
    async fn referral_consent(
        &self,
        case: &str,
        destination: &str,
        groups: &[ReferralFieldGroup],
        given_on: NaiveDate,
        expires_on: NaiveDate,
    ) -> String {
        let record = ConsentRecord {
            scope: ConsentScope::Referral,
            given_by: ConsentGivenBy::Person,
            guardian_name: String::new(),
            given_on,
            expires_on: Some(expires_on),
            destination_country: Some(destination.parse().unwrap()),
            destination_org: String::new(),
            field_groups: groups.iter().copied().collect(),
            evidence_ref: "Formulario R-3".into(),
        };
        let a = self
            .post(
                &self.worker,
                &format!("/cases/{case}/consents"),
                serde_json::to_value(record).unwrap(),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        a.body["id"].as_str().unwrap().to_owned()
    }

    /// A valid consent (given ten days ago, for 80 more days) for IDENTITY and CONTACT.
    async fn valid_consent(&self, case: &str) -> String {
        let today = self.today();
        self.referral_consent(
            case,
            "HND",
            &[ReferralFieldGroup::Identity, ReferralFieldGroup::Contact],
            today - Duration::days(10),
            today + Duration::days(80),
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

    async fn outbox_bodies(&self) -> Vec<String> {
        on_db!(self.node, |pool| sqlx::query_scalar::<_, String>(
            "SELECT body FROM fed_outbox"
        )
        .fetch_all(&pool)
        .await
        .unwrap())
    }

    /// Pending envelopes for HND on `channel`.
    async fn to_hnd(&self, channel: Channel) -> Vec<OutboxRow> {
        self.node
            .state
            .store
            .fed_pending(hnd(), channel, 100)
            .await
            .unwrap()
    }

    async fn inbox(&self, id: Uuid) -> (String, Option<String>) {
        on_db!(self.node, |pool| sqlx::query_as::<
            _,
            (String, Option<String>),
        >(
            "SELECT status, body FROM fed_inbox WHERE id = $1"
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap())
    }

    /// An envelope from HND to GTM, signed by HND.
    fn envelope_from_hnd(
        &self,
        channel: Channel,
        seq: u64,
        kind: &str,
        payload: Value,
    ) -> SignedEnvelope {
        UnsignedEnvelope {
            id: Uuid::now_v7(),
            origin: hnd(),
            destination: gtm(),
            channel,
            epoch: 1,
            seq,
            prev: ZERO_HASH.to_owned(),
            kind: kind.into(),
            created_at: self.node.state.clock.now(),
            manifest_version: 1,
            payload,
        }
        .sign(&self.hnd_key)
        .unwrap()
    }

    /// The payload of a `referral.*` step from HND: `body` sealed to GTM's seal key.
    fn sealed_from_hnd(&self, kind: &str, id: Uuid, body: &impl serde::Serialize) -> Value {
        let trust = self.node.state.federation.get().unwrap().trust().unwrap();
        let key = trust
            .signed
            .manifest
            .seal_key(gtm(), self.node.state.clock.now())
            .unwrap()
            .clone();
        let rid = id.hyphenated().to_string();
        let plain = serde_json::to_vec(body).unwrap();
        let sealed = seal::seal(&key, &seal::aad(hnd(), gtm(), kind, &rid), &plain).unwrap();
        json!({ "referral_id": rid, "sealed": sealed })
    }

    /// Stores `env` in the inbox as the federation's receiver would, and applies it.
    async fn receive(&self, env: &SignedEnvelope) {
        let e = &env.envelope;
        let body = String::from_utf8(env.bytes.clone()).unwrap();
        let sql = "INSERT INTO fed_inbox (id, origin, channel, epoch, seq, hash, kind, body, received_at, status) \
                   VALUES ($1, 'HND', $2, 1, $3, $4, $5, $6, $7, 'stored')";
        let seq = i64::try_from(e.seq).unwrap();
        let now = self.node.state.clock.now();
        on_db!(self.node, |pool| sqlx::query(sql)
            .bind(e.id)
            .bind(e.channel.as_str())
            .bind(seq)
            .bind(&env.hash)
            .bind(&e.kind)
            .bind(&body)
            .bind(now)
            .execute(&pool)
            .await
            .map(|_| ())
            .unwrap());
        let row = self
            .node
            .state
            .store
            .fed_unprocessed(1000)
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.id == e.id)
            .unwrap();
        assert!(inbound::apply_remote(&self.node.state, &row, e)
            .await
            .unwrap());
        assert_eq!(self.inbox(e.id).await.0, "processed");
    }

    /// Opens an envelope this node sent to HND, as HND.
    fn open_as_hnd(&self, out: &OutboxRow) -> (Envelope, Vec<u8>) {
        let env = Envelope::parse(out.body.as_bytes()).unwrap();
        env.verify(&self.node.state.identity.verifying_key())
            .unwrap();
        let rid = env.payload["referral_id"].as_str().unwrap().to_owned();
        let sealed: Sealed = serde_json::from_value(env.payload["sealed"].clone()).unwrap();
        let plain = SealKeyPair::derive(&self.hnd_key)
            .open(&sealed, &seal::aad(gtm(), hnd(), &env.kind, &rid))
            .unwrap();
        (env, plain)
    }

    async fn notifications(&self, token: &str) -> Value {
        let a = self.get(token, "/notifications").await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body
    }
}

/// A referral request body for HND.
fn to_hnd(extra: Value) -> Value {
    let mut b = json!({
        "destination": "HND",
        "reason": "MIGRATION_OR_CHANGE_OF_LOCATION",
        "urgency": "PRIORITY",
        "needs": ["SHELTER", "LEGAL"],
        "message": "La persona viaja la próxima semana",
    });
    if let (Value::Object(m), Value::Object(e)) = (&mut b, extra) {
        m.extend(e);
    }
    b
}

fn field_errors(v: &Value) -> Vec<(String, String)> {
    v["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no fields in {v}"))
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_owned(),
                f["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn kinds(notes: &Value) -> Vec<String> {
    notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect()
}

fn no_victim_data(text: &str) {
    for secret in [
        NAME,
        FAMILY,
        DOCUMENT,
        "Xiomara",
        "Tzul",
        "Nota confidencial",
        "Relato confidencial",
    ] {
        assert!(!text.contains(secret), "{secret:?} in the clear");
    }
}

// ---------------------------------------------------------------- sending

#[tokio::test]
async fn refusals_before_signing_store_and_send_nothing() {
    let w = world(false).await;
    let today = w.today();
    let nothing_yet = (w.count("referrals").await, w.count("fed_outbox").await);
    assert_eq!(nothing_yet, (0, 0));

    // One case per consent situation.
    let none = w.case().await;
    let expired = w.case().await;
    w.referral_consent(
        &expired,
        "HND",
        &[ReferralFieldGroup::Identity],
        today - Duration::days(60),
        today - Duration::days(30),
    )
    .await;
    let withdrawn = w.case().await;
    let cid = w.valid_consent(&withdrawn).await;
    let a = w
        .post(
            &w.worker,
            &format!("/cases/{withdrawn}/consents/{cid}/withdraw"),
            json!({ "withdrawn_on": today }),
        )
        .await;
    assert_eq!(a.status, 204, "{}", a.body);
    let elsewhere = w.case().await;
    let cri = w
        .referral_consent(
            &elsewhere,
            "CRI",
            &[ReferralFieldGroup::Identity],
            today - Duration::days(1),
            today + Duration::days(30),
        )
        .await;
    let valid = w.case().await;
    w.valid_consent(&valid).await;

    let cases: Vec<(&str, Value, (&str, &str))> = vec![
        // The destination.
        (
            &valid,
            to_hnd(json!({ "destination": "NIC" })),
            ("destination", "no_referral_agreement"),
        ),
        (
            &valid,
            to_hnd(json!({ "destination": "XYZ" })),
            ("destination", "unknown_code"),
        ),
        (
            &valid,
            to_hnd(json!({ "destination": "SLV" })),
            ("destination", "peer_suspended"),
        ),
        (
            &valid,
            to_hnd(json!({ "destination": "GTM" })),
            ("destination", "own_country"),
        ),
        // A service that is not in HND's directory (the API is checked like the form).
        (
            &valid,
            to_hnd(json!({ "dest_service": "0190a7e2-0000-7000-8000-000000000001" })),
            ("dest_service", "invalid"),
        ),
        // The consent.
        (&none, to_hnd(json!({})), ("consent_id", "consent_required")),
        (
            &expired,
            to_hnd(json!({})),
            ("consent_id", "consent_expired"),
        ),
        (
            &withdrawn,
            to_hnd(json!({})),
            ("consent_id", "consent_withdrawn"),
        ),
        (
            &elsewhere,
            to_hnd(json!({ "consent_id": cri })),
            ("consent_id", "consent_other_destination"),
        ),
        (
            &valid,
            to_hnd(json!({ "field_groups": ["IDENTITY", "TIMELINE"] })),
            ("field_groups", "exceeds_consent"),
        ),
        // A caseworker may not override.
        (
            &none,
            to_hnd(json!({ "override_reason": "La persona corre peligro inminente" })),
            ("consent_id", "consent_required"),
        ),
        // Codes and shape.
        (
            &valid,
            to_hnd(json!({ "reason": "CURIOSITY" })),
            ("reason", "unknown_code"),
        ),
        (
            &valid,
            to_hnd(json!({ "urgency": "SOMEDAY" })),
            ("urgency", "unknown_code"),
        ),
        (
            &valid,
            to_hnd(json!({ "needs": ["SHELTER", "MASSAGE"] })),
            ("needs.1", "unknown_code"),
        ),
        (
            &valid,
            to_hnd(json!({ "needs": [] })),
            ("needs", "required"),
        ),
        (
            &valid,
            to_hnd(json!({ "field_groups": ["IDENTITY", "HOROSCOPE"] })),
            ("field_groups.1", "unknown_code"),
        ),
        (
            &valid,
            to_hnd(json!({ "victim_name": "x" })),
            ("victim_name", "unknown_field"),
        ),
        (
            &valid,
            to_hnd(json!({ "dest_org": "no es un código" })),
            ("dest_org", "invalid"),
        ),
    ];
    for (case, body, (field, code)) in cases {
        let a = w
            .post(&w.worker, &format!("/cases/{case}/referrals"), body.clone())
            .await;
        assert_eq!(a.status, 422, "{body}: {}", a.body);
        assert_eq!(
            field_errors(&a.body),
            vec![(field.to_owned(), code.to_owned())],
            "{body}"
        );
        assert_eq!(
            (w.count("referrals").await, w.count("fed_outbox").await),
            (0, 0),
            "{body} left something behind"
        );
    }
    let denied = w
        .node
        .audit_actions()
        .await
        .into_iter()
        .filter(|(a, actor, _)| a == "access.denied" && actor == "gestora")
        .count();
    assert!(denied >= 1, "the refused override is audited");
    // Another organisation's case is not found; roles without the action are refused.
    let a = w
        .post(
            &w.other,
            &format!("/cases/{valid}/referrals"),
            to_hnd(json!({})),
        )
        .await;
    assert_eq!(a.status, 404);
    for token in [&w.admin, &w.analyst] {
        let a = w
            .post(
                token,
                &format!("/cases/{valid}/referrals"),
                to_hnd(json!({})),
            )
            .await;
        assert_eq!(a.status, 403);
    }
    assert_eq!(w.count("referrals").await, 0);

    // A coordinator overrides with a reason: sent, flagged to the national administrators.
    let a = w
        .post(
            &w.coord,
            &format!("/cases/{none}/referrals"),
            to_hnd(json!({ "override_reason": "La persona corre peligro inminente" })),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let r = &a.body["referral"];
    assert_eq!(r["summary"]["overridden"], true);
    assert_eq!(r["summary"]["state"], "sent");
    assert_eq!(r["override_reason"], "La persona corre peligro inminente");
    assert_eq!(r["offer"]["consent"], Value::Null);
    let id = r["summary"]["id"].as_str().unwrap();
    let notes = w.notifications(&w.admin).await;
    assert_eq!(notes["unread"], 1);
    assert_eq!(notes["items"][0]["kind"], "consent_override");
    assert_eq!(notes["items"][0]["referral_id"], id);
    let offers = w.to_hnd(Channel::Referral).await;
    assert_eq!(offers.len(), 1);
    let (_, plain) = w.open_as_hnd(&offers[0]);
    let offer: OfferBody = serde_json::from_slice(&plain).unwrap();
    assert!(offer.consent.is_none());
    assert!(
        offer.data.groups_present().is_empty(),
        "minimum dataset only"
    );
    assert!(w
        .node
        .audit_actions()
        .await
        .iter()
        .any(|(a, actor, _)| a == "referral.create_consent_override" && actor == "coordinacion"));
}

#[tokio::test]
async fn a_valid_referral_is_sealed_to_the_destination_with_only_the_consented_groups() {
    let w = world(false).await;
    let case = w.case().await;
    let consent_id = w.valid_consent(&case).await;

    let a = w
        .get(&w.worker, &format!("/cases/{case}/referral-options"))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["destinations"], json!(["HND"]));
    assert_eq!(a.body["can_override"], false);
    assert_eq!(a.body["requires_approval"], false);
    assert_eq!(a.body["consents"][0]["id"], consent_id.as_str());
    assert_eq!(a.body["consents"][0]["valid"], true);

    let a = w
        .post(
            &w.worker,
            &format!("/cases/{case}/referrals"),
            to_hnd(json!({ "field_groups": ["IDENTITY"], "dest_org": "CJVS" })),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let r = &a.body["referral"];
    let id = r["summary"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        a.location.as_deref(),
        Some(&*format!("/api/v1/referrals/{id}"))
    );
    assert_eq!(r["summary"]["state"], "sent");
    assert_eq!(r["summary"]["display_state"], "pending_delivery");
    assert_eq!(r["summary"]["direction"], "out");
    assert_eq!(r["summary"]["peer"], "HND");
    assert_eq!(r["summary"]["field_groups"], json!(["IDENTITY"]));
    assert_eq!(r["summary"]["overridden"], false);
    assert_eq!(r["actions"], json!(["recall"]));
    let history: Vec<&str> = r["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["created", "offer_sent"]);
    assert_eq!(r["history"][1]["delivery"], "pending");
    assert!(r["history"][1]["envelope_hash"].is_string());
    // The sender's own view shows what was sent.
    assert_eq!(r["offer"]["data"]["identity"]["given_names"], NAME);

    // Exactly one envelope: the offer for HND, on the referral stream.
    assert_eq!(w.count("fed_outbox").await, 1);
    let offers = w.to_hnd(Channel::Referral).await;
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].kind, "referral.offer");
    assert_eq!(
        offers[0].hash,
        r["history"][1]["envelope_hash"].as_str().unwrap()
    );
    let (env, plain) = w.open_as_hnd(&offers[0]);
    let keys: BTreeSet<&str> = env
        .payload
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, BTreeSet::from(["referral_id", "sealed"]));
    assert_eq!(env.payload["referral_id"], id.as_str());
    assert_eq!(env.payload["sealed"]["key_id"], "HND-2026a");
    for body in w.outbox_bodies().await {
        no_victim_data(&body);
    }
    // What HND opens: the consented IDENTITY group and the minimum dataset, nothing else.
    let offer: OfferBody = serde_json::from_slice(&plain).unwrap();
    assert!(offer.check().is_empty(), "{:?}", offer.check());
    assert_eq!(offer.referral_id, id);
    assert_eq!(
        offer.data.groups_present(),
        BTreeSet::from([ReferralFieldGroup::Identity])
    );
    let identity = offer.data.identity.as_ref().unwrap();
    assert_eq!(
        (
            identity.given_names.as_str(),
            identity.family_names.as_str()
        ),
        (NAME, FAMILY)
    );
    assert!(offer.data.contact.is_none() && offer.data.timeline.is_none());
    assert!(offer.data.trafficking.is_none() && offer.data.assistance.is_none());
    let text = String::from_utf8(plain.clone()).unwrap();
    assert!(!text.contains("Nota confidencial") && !text.contains("Relato confidencial"));
    let c = offer.consent.as_ref().unwrap();
    assert_eq!(
        c.field_groups,
        BTreeSet::from([ReferralFieldGroup::Identity, ReferralFieldGroup::Contact])
    );
    assert_eq!(offer.dest_org.as_deref(), Some("CJVS"));
    assert_eq!(offer.sender_org.code, "ASOC1");
    assert_eq!(
        offer.needs,
        BTreeSet::from([ServiceType::Shelter, ServiceType::Legal])
    );
    // Sealed to HND and bound to its envelope: another kind does not open.
    let sealed: Sealed = serde_json::from_value(env.payload["sealed"].clone()).unwrap();
    assert!(SealKeyPair::derive(&w.hnd_key)
        .open(&sealed, &seal::aad(gtm(), hnd(), "referral.accept", &id))
        .is_err());

    // Lists and scope.
    let a = w.get(&w.worker, "/referrals?direction=out").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["total"], 1);
    assert_eq!(a.body["items"][0]["id"], id.as_str());
    assert_eq!(a.body["items"][0]["display_state"], "pending_delivery");
    assert_eq!(
        w.get(&w.worker, "/referrals?direction=in").await.body["total"],
        0
    );
    let a = w.get(&w.worker, "/referrals?state=nope&page=0").await;
    assert_eq!(a.status, 422);
    let a = w.get(&w.worker, "/referrals?colour=red").await;
    assert_eq!(
        field_errors(&a.body),
        vec![("colour".into(), "unknown_field".into())]
    );
    let a = w.get(&w.other, &format!("/referrals/{id}")).await;
    assert_eq!(a.status, 404);
    let a = w
        .post(&w.other, &format!("/referrals/{id}/recall"), json!({}))
        .await;
    assert_eq!(a.status, 404);
    assert_eq!(w.get(&w.other, "/referrals").await.body["total"], 0);
    assert_eq!(
        w.get(&w.other, &format!("/cases/{case}/referral-options"))
            .await
            .status,
        404
    );
    assert_eq!(w.get(&w.analyst, "/referrals").await.status, 403);
    // A national administrator sees the routing data, never the offer.
    let a = w.get(&w.admin, "/referrals").await;
    assert_eq!(a.body["total"], 1);
    let a = w.get(&w.admin, &format!("/referrals/{id}")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["offer"], Value::Null);
    assert_eq!(a.body["case_number"], Value::Null);
    assert_eq!(a.body["summary"]["peer"], "HND");
    assert_eq!(a.body["actions"], json!([]));
    no_victim_data(&a.body.to_string());
    // Answering is the destination's: the sender cannot accept its own offer.
    let a = w
        .post(&w.worker, &format!("/referrals/{id}/accept"), json!({}))
        .await;
    assert_eq!(
        field_errors(&a.body),
        vec![("state".into(), "invalid_state".into())]
    );
    assert_eq!(w.count("fed_outbox").await, 1);
}

#[tokio::test]
async fn under_the_approval_policy_a_caseworkers_referral_waits_for_the_coordinator() {
    let w = world(true).await;
    let case = w.case().await;
    w.valid_consent(&case).await;
    let a = w
        .get(&w.worker, &format!("/cases/{case}/referral-options"))
        .await;
    assert_eq!(a.body["requires_approval"], true);

    let a = w
        .post(
            &w.worker,
            &format!("/cases/{case}/referrals"),
            to_hnd(json!({})),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let id = a.body["referral"]["summary"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(a.body["referral"]["summary"]["state"], "awaiting_approval");
    assert_eq!(a.body["referral"]["actions"], json!(["recall"]));
    assert_eq!(
        w.count("fed_outbox").await,
        0,
        "nothing sent before approval"
    );
    let notes = w.notifications(&w.coord).await;
    assert_eq!(kinds(&notes), ["awaiting_approval"]);
    let a = w.get(&w.coord, &format!("/referrals/{id}")).await;
    assert_eq!(a.body["actions"], json!(["approve", "recall"]));

    let a = w
        .post(&w.worker, &format!("/referrals/{id}/approve"), json!({}))
        .await;
    assert_eq!(a.status, 403);
    let a = w
        .post(
            &w.coord,
            &format!("/referrals/{id}/approve"),
            json!({ "x": 1 }),
        )
        .await;
    assert_eq!(a.status, 422);
    let a = w
        .post(&w.coord, &format!("/referrals/{id}/approve"), json!({}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["referral"]["summary"]["state"], "sent");
    assert_eq!(
        a.body["referral"]["summary"]["display_state"],
        "pending_delivery"
    );
    let offers = w.to_hnd(Channel::Referral).await;
    assert_eq!(offers.len(), 1);
    let (_, plain) = w.open_as_hnd(&offers[0]);
    let offer: OfferBody = serde_json::from_slice(&plain).unwrap();
    assert_eq!(offer.referral_id, id);
    assert_eq!(kinds(&w.notifications(&w.worker).await), ["approved"]);
    // Approved once only.
    let a = w
        .post(&w.coord, &format!("/referrals/{id}/approve"), json!({}))
        .await;
    assert_eq!(
        field_errors(&a.body),
        vec![("state".into(), "invalid_state".into())]
    );
    assert_eq!(w.count("fed_outbox").await, 1);

    // A coordinator's own referral does not wait.
    let a = w
        .post(
            &w.coord,
            &format!("/cases/{case}/referrals"),
            to_hnd(json!({})),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["referral"]["summary"]["state"], "sent");
    // A referral still waiting is cancelled by a recall, and nothing is sent.
    let a = w
        .post(
            &w.worker,
            &format!("/cases/{case}/referrals"),
            to_hnd(json!({})),
        )
        .await;
    let waiting = a.body["referral"]["summary"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = w.count("fed_outbox").await;
    let a = w
        .post(
            &w.worker,
            &format!("/referrals/{waiting}/recall"),
            json!({ "note": "Se envió por error" }),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["referral"]["summary"]["state"], "cancelled");
    assert_eq!(w.count("fed_outbox").await, before);
}

#[tokio::test]
async fn withdrawing_the_referral_consent_recalls_in_the_same_transaction() {
    let w = world(false).await;
    let case = w.case().await;
    let consent_id = w.valid_consent(&case).await;
    let a = w
        .post(
            &w.worker,
            &format!("/cases/{case}/referrals"),
            to_hnd(json!({})),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let id = a.body["referral"]["summary"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let a = w
        .post(
            &w.worker,
            &format!("/cases/{case}/consents/{consent_id}/withdraw"),
            json!({ "withdrawn_on": w.today() }),
        )
        .await;
    assert_eq!(a.status, 204, "{}", a.body);
    let a = w.get(&w.worker, &format!("/referrals/{id}")).await;
    let s = &a.body["summary"];
    assert_eq!(s["state"], "recalled");
    assert_eq!(s["recall_state"], "pending");
    assert_eq!(s["display_state"], "recall_pending");
    let last = a.body["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["kind"], "recall_sent");
    assert_eq!(last["detail"]["reason"], "CONSENT_WITHDRAWN");
    let recalls = w.to_hnd(Channel::Control).await;
    assert_eq!(recalls.len(), 1);
    assert_eq!(recalls[0].kind, "control.recall");
    let env = Envelope::parse(recalls[0].body.as_bytes()).unwrap();
    assert_eq!(
        env.payload,
        json!({ "referral_id": id, "reason": "CONSENT_WITHDRAWN" })
    );
    assert_eq!(
        Some(recalls[0].id),
        last["message_id"]
            .as_str()
            .map(|m| m.parse::<Uuid>().unwrap())
    );
    // The consent is withdrawn (once).
    let a = w
        .post(
            &w.worker,
            &format!("/cases/{case}/consents/{consent_id}/withdraw"),
            json!({ "withdrawn_on": w.today() }),
        )
        .await;
    assert_eq!(
        field_errors(&a.body),
        vec![("consent".into(), "already_withdrawn".into())]
    );
    assert_eq!(w.to_hnd(Channel::Control).await.len(), 1);
    let a = w
        .post(&w.worker, &format!("/referrals/{id}/recall"), json!({}))
        .await;
    assert_eq!(
        field_errors(&a.body),
        vec![("state".into(), "invalid_state".into())]
    );

    // HND confirms it erased what it held.
    let rid: Uuid = id.parse().unwrap();
    let ack = w.envelope_from_hnd(
        Channel::Control,
        1,
        "control.recall_ack",
        json!({ "referral_id": rid.hyphenated().to_string(), "held": true }),
    );
    w.receive(&ack).await;
    let a = w.get(&w.worker, &format!("/referrals/{id}")).await;
    assert_eq!(a.body["summary"]["recall_state"], "acknowledged");
    assert_eq!(a.body["summary"]["display_state"], "recalled");
    assert!(kinds(&w.notifications(&w.worker).await).contains(&"recall_confirmed".to_owned()));
}

/// Erasure on request (issue 7): every referral sent from the person's cases is recalled in
/// the same transaction that withdraws their consents and anonymises them; the referral's
/// copy of the payload is cleared on this side too.
#[tokio::test]
async fn erasing_the_person_recalls_their_referrals_and_clears_the_sent_payload() {
    let w = world(false).await;
    let case = w.case().await;
    w.valid_consent(&case).await;
    let a = w
        .post(
            &w.worker,
            &format!("/cases/{case}/referrals"),
            to_hnd(json!({})),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let id = a.body["referral"]["summary"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let number = w.get(&w.worker, &format!("/cases/{case}")).await.body["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let rid: Uuid = id.parse().unwrap();
    let held: Option<String> = on_db!(w.node, |pool| sqlx::query_scalar(
        "SELECT payload FROM referrals WHERE id = $1"
    )
    .bind(rid)
    .fetch_one(&pool)
    .await
    .unwrap());
    assert!(
        held.is_some(),
        "the sender keeps a sealed copy of what it sent"
    );
    // Caseworkers may not erase; the coordinator may.
    let a = w
        .post(
            &w.worker,
            &format!("/cases/{case}/erase"),
            json!({ "confirm": number }),
        )
        .await;
    assert_eq!(a.status, 403);
    let a = w
        .post(
            &w.coord,
            &format!("/cases/{case}/erase"),
            json!({ "confirm": number }),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["referrals_recalled"], 1);
    assert_eq!(a.body["consents_withdrawn"], 2);

    let a = w.get(&w.worker, &format!("/referrals/{id}")).await;
    assert_eq!(a.body["summary"]["state"], "recalled");
    assert_eq!(a.body["summary"]["recall_state"], "pending");
    let recalls = w.to_hnd(Channel::Control).await;
    assert_eq!(recalls.len(), 1);
    let env = Envelope::parse(recalls[0].body.as_bytes()).unwrap();
    assert_eq!(
        env.payload,
        json!({ "referral_id": id, "reason": "CONSENT_WITHDRAWN" })
    );
    let payload: Option<String> = on_db!(w.node, |pool| sqlx::query_scalar(
        "SELECT payload FROM referrals WHERE id = $1"
    )
    .bind(rid)
    .fetch_one(&pool)
    .await
    .unwrap());
    assert!(payload.is_none(), "the sent payload's copy is cleared");
    let actions: Vec<String> = w
        .node
        .audit_actions()
        .await
        .into_iter()
        .map(|(a, _, _)| a)
        .collect();
    assert!(actions.contains(&"person.erase".to_owned()));
    assert!(actions.contains(&"referral.recall".to_owned()));

    // HND's acknowledgement closes the recall as for a consent withdrawal.
    let ack = w.envelope_from_hnd(
        Channel::Control,
        1,
        "control.recall_ack",
        json!({ "referral_id": rid.hyphenated().to_string(), "held": true }),
    );
    w.receive(&ack).await;
    let a = w.get(&w.worker, &format!("/referrals/{id}")).await;
    assert_eq!(a.body["summary"]["recall_state"], "acknowledged");
}

// ---------------------------------------------------------------- receiving

/// An offer as HND's node would make it: a person of HND's organisation, with the IDENTITY and
/// TRAFFICKING_PROCESS groups consented.
fn hnd_offer(id: Uuid, dest_org: Option<&str>, today: NaiveDate) -> OfferBody {
    let mut p: PersonRecord = person();
    p.identity.given_names = "Dulce María".into();
    p.identity.family_names = "Castellanos Reyes".into();
    p.identity.documents.clear();
    p.citizenship = BTreeSet::from(["HND".parse().unwrap()]);
    let groups = BTreeSet::from([
        ReferralFieldGroup::Identity,
        ReferralFieldGroup::TraffickingProcess,
    ]);
    let data = ReferralData::build(
        &ReferralSource {
            person: &p,
            case: &case_record(),
            services: &[],
            proceedings: &[],
            notes: &[],
            today,
        },
        &groups,
    );
    OfferBody {
        referral_id: id.hyphenated().to_string(),
        sender_org: OrgRef {
            code: "CJVS".into(),
            name: "Clínica Jurídica del Valle de Sula".into(),
        },
        sender_reference: "HND-CJVS-2026-0007".into(),
        dest_org: dest_org.map(str::to_owned),
        dest_service: None,
        reason: ReferralReason::ReturnAssistance,
        urgency: ReferralUrgency::Priority,
        needs: BTreeSet::from([ServiceType::Shelter]),
        message: "Llega el lunes a la frontera".into(),
        consent: Some(ConsentSummary {
            given_by: ConsentGivenBy::Person,
            given_on: today - Duration::days(5),
            expires_on: today + Duration::days(60),
            field_groups: groups,
        }),
        expires_on: today + Duration::days(60),
        data,
    }
}

#[tokio::test]
async fn received_offers_are_accepted_declined_routed_and_recalled() {
    let w = world(false).await;
    let today = w.today();

    // An offer for ASOC1.
    let first = Uuid::now_v7();
    let body = hnd_offer(first, Some("ASOC1"), today);
    assert!(body.check().is_empty(), "{:?}", body.check());
    let offer1 = w.envelope_from_hnd(
        Channel::Referral,
        1,
        "referral.offer",
        w.sealed_from_hnd("referral.offer", first, &body),
    );
    w.receive(&offer1).await;
    for token in [&w.worker, &w.coord] {
        let n = w.notifications(token).await;
        assert_eq!(kinds(&n), ["received"]);
        assert_eq!(n["unread"], 1);
        assert_eq!(n["items"][0]["referral_id"], first.to_string());
    }
    let a = w.get(&w.worker, "/referrals?direction=in").await;
    assert_eq!(a.body["total"], 1);
    assert_eq!(a.body["items"][0]["state"], "received");
    assert_eq!(a.body["items"][0]["sender_org"], "CJVS");
    let a = w.get(&w.worker, &format!("/referrals/{first}")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["actions"], json!(["accept", "decline"]));
    assert_eq!(
        a.body["offer"]["data"]["identity"]["given_names"],
        "Dulce María"
    );
    assert_eq!(a.body["history"][0]["kind"], "offer_received");
    assert_eq!(a.body["history"][0]["envelope_hash"], offer1.hash.as_str());
    assert_eq!(
        w.get(&w.other, &format!("/referrals/{first}")).await.status,
        404
    );

    // Accepted: a linked case, pre-filled, and a signed accept back to HND.
    let a = w
        .post(&w.other, &format!("/referrals/{first}/accept"), json!({}))
        .await;
    assert_eq!(a.status, 404);
    let a = w
        .post(&w.worker, &format!("/referrals/{first}/accept"), json!({}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["referral"]["summary"]["state"], "accepted");
    let case_id = a.body["case"]["id"].as_str().unwrap().to_owned();
    assert!(a.body["case"]["number"]
        .as_str()
        .unwrap()
        .starts_with("GTM-ASOC1-"));
    assert_eq!(a.body["referral"]["summary"]["case_id"], case_id.as_str());
    assert_eq!(a.body["referral"]["case_number"], a.body["case"]["number"]);
    let c = w.get(&w.worker, &format!("/cases/{case_id}")).await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(c.body["case"]["intake_channel"], "REFERRAL_IN");
    assert_eq!(c.body["person"]["identity"]["given_names"], "Dulce María");
    assert_eq!(
        c.body["person"]["identity"]["family_names"],
        "Castellanos Reyes"
    );
    let steps = w.to_hnd(Channel::Referral).await;
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].kind, "referral.accept");
    let (_, plain) = w.open_as_hnd(&steps[0]);
    let step: StepBody = serde_json::from_slice(&plain).unwrap();
    assert_eq!(step.referral_id, first.to_string());
    assert_eq!(step.org.as_ref().map(|o| o.code.as_str()), Some("ASOC1"));
    let a = w
        .post(&w.worker, &format!("/referrals/{first}/accept"), json!({}))
        .await;
    assert_eq!(
        field_errors(&a.body),
        vec![("state".into(), "invalid_state".into())]
    );

    // A second offer, declined: its data is erased.
    let second = Uuid::now_v7();
    let offer2 = w.envelope_from_hnd(
        Channel::Referral,
        2,
        "referral.offer",
        w.sealed_from_hnd(
            "referral.offer",
            second,
            &hnd_offer(second, Some("ASOC1"), today),
        ),
    );
    w.receive(&offer2).await;
    let a = w
        .post(
            &w.coord,
            &format!("/referrals/{second}/decline"),
            json!({ "reason": "NO_ROOM" }),
        )
        .await;
    assert_eq!(
        field_errors(&a.body),
        vec![("reason".into(), "unknown_code".into())]
    );
    let a = w
        .post(
            &w.coord,
            &format!("/referrals/{second}/decline"),
            json!({ "reason": "NO_CAPACITY", "note": "Sin cupo este mes" }),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let r = &a.body["referral"];
    assert_eq!(r["summary"]["state"], "declined");
    assert_eq!(r["erased"], true);
    assert_eq!(r["offer"], Value::Null);
    assert_eq!(r["actions"], json!([]));
    assert_eq!(
        w.inbox(offer2.envelope.id).await.1,
        None,
        "the received envelope's body is erased too"
    );
    let steps = w.to_hnd(Channel::Referral).await;
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[1].kind, "referral.decline");
    let (_, plain) = w.open_as_hnd(&steps[1]);
    let step: StepBody = serde_json::from_slice(&plain).unwrap();
    assert_eq!(step.decline_reason, Some(DeclineReason::NoCapacity));
    assert_eq!(step.note, "Sin cupo este mes");

    // A third offer names no organisation: the national queue routes it.
    let third = Uuid::now_v7();
    let offer3 = w.envelope_from_hnd(
        Channel::Referral,
        3,
        "referral.offer",
        w.sealed_from_hnd("referral.offer", third, &hnd_offer(third, None, today)),
    );
    w.receive(&offer3).await;
    assert_eq!(kinds(&w.notifications(&w.admin).await), ["received"]);
    assert_eq!(
        w.get(&w.worker, &format!("/referrals/{third}"))
            .await
            .status,
        404
    );
    let a = w.get(&w.admin, "/referrals?unassigned=true").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["total"], 1);
    assert_eq!(a.body["items"][0]["id"], third.to_string());
    let a = w.get(&w.admin, &format!("/referrals/{third}")).await;
    assert_eq!(a.body["offer"], Value::Null);
    assert_eq!(a.body["actions"], json!(["assign"]));
    assert!(a.body["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["code"] == "ASOC1"));
    let a = w
        .post(
            &w.coord,
            &format!("/referrals/{third}/assign"),
            json!({ "org_id": w.asoc.id }),
        )
        .await;
    assert_eq!(a.status, 403);
    let a = w
        .post(
            &w.admin,
            &format!("/referrals/{third}/assign"),
            json!({ "org_id": Uuid::now_v7() }),
        )
        .await;
    assert_eq!(
        field_errors(&a.body),
        vec![("org_id".into(), "invalid".into())]
    );
    let a = w
        .post(
            &w.admin,
            &format!("/referrals/{third}/assign"),
            json!({ "org_id": w.asoc.id }),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.body["referral"]["summary"]["org_id"],
        w.asoc.id.to_string()
    );
    assert_eq!(a.body["referral"]["offer"], Value::Null);
    let a = w.get(&w.worker, &format!("/referrals/{third}")).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["offer"]["referral_id"], third.to_string());
    assert_eq!(
        w.get(&w.admin, "/referrals?unassigned=true").await.body["total"],
        0
    );

    // Notifications: opening a referral reads its notifications (the caseworker opened the
    // first and the third); the coordinator, who opened none, reads one, then all.
    let n = w.notifications(&w.worker).await;
    assert_eq!(n["unread"], 1, "{n}");
    for item in n["items"].as_array().unwrap() {
        let opened = [first.to_string(), third.to_string()]
            .contains(&item["referral_id"].as_str().unwrap().to_owned());
        assert_eq!(item["read"], opened, "{n}");
    }
    let n = w.notifications(&w.coord).await;
    let before = n["unread"].as_i64().unwrap();
    assert!(before >= 2, "{n}");
    let one = n["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["read"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = w
        .post(&w.coord, "/notifications/read", json!({ "id": one }))
        .await;
    assert_eq!(a.status, 204, "{}", a.body);
    let n = w.notifications(&w.coord).await;
    assert_eq!(n["unread"].as_i64().unwrap(), before - 1);
    assert!(n["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == one.as_str() && i["read"] == true));
    let a = w
        .post(&w.coord, "/notifications/read", json!({ "id": "uno" }))
        .await;
    assert_eq!(
        field_errors(&a.body),
        vec![("id".into(), "malformed".into())]
    );
    let a = w.post(&w.coord, "/notifications/read", json!({})).await;
    assert_eq!(a.status, 204);
    assert_eq!(w.notifications(&w.coord).await["unread"], 0);

    // HND recalls the accepted referral: erased, the linked person redacted, acknowledged.
    let recall = w.envelope_from_hnd(
        Channel::Control,
        1,
        "control.recall",
        json!({ "referral_id": first.to_string(), "reason": "CONSENT_WITHDRAWN" }),
    );
    w.receive(&recall).await;
    let a = w.get(&w.worker, &format!("/referrals/{first}")).await;
    assert_eq!(a.body["summary"]["state"], "recalled");
    assert_eq!(a.body["erased"], true);
    assert_eq!(a.body["offer"], Value::Null);
    assert_eq!(a.body["actions"], json!([]));
    assert_eq!(w.inbox(offer1.envelope.id).await.1, None);
    let c = w.get(&w.worker, &format!("/cases/{case_id}")).await;
    assert_eq!(c.body["person"]["identity"]["given_names"], "");
    assert_eq!(c.body["person"]["identity"]["family_names"], "");
    assert_eq!(c.body["person"]["identity"]["birth_date"], Value::Null);
    assert_eq!(
        c.body["case"]["intake_channel"], "REFERRAL_IN",
        "the case stays"
    );
    let acks = w.to_hnd(Channel::Control).await;
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].kind, "control.recall_ack");
    let env = Envelope::parse(acks[0].body.as_bytes()).unwrap();
    assert_eq!(
        env.payload,
        json!({ "referral_id": first.to_string(), "held": true })
    );
    assert!(kinds(&w.notifications(&w.worker).await).contains(&"recalled".to_owned()));
    let dump = crate::helpers::dump_database(&w.node).await;
    assert!(
        !dump.contains("Castellanos"),
        "no received name in the clear"
    );
}

#[tokio::test]
async fn a_recall_that_overtakes_its_offer_leaves_a_tombstone_and_the_offer_is_erased() {
    let w = world(false).await;
    let today = w.today();
    let id = Uuid::now_v7();
    let recall = w.envelope_from_hnd(
        Channel::Control,
        1,
        "control.recall",
        json!({ "referral_id": id.to_string(), "reason": "REVOKED_BY_SENDER" }),
    );
    w.receive(&recall).await;
    let acks = w.to_hnd(Channel::Control).await;
    assert_eq!(acks.len(), 1);
    let env = Envelope::parse(acks[0].body.as_bytes()).unwrap();
    assert_eq!(
        env.payload,
        json!({ "referral_id": id.to_string(), "held": false })
    );

    let offer = w.envelope_from_hnd(
        Channel::Referral,
        1,
        "referral.offer",
        w.sealed_from_hnd("referral.offer", id, &hnd_offer(id, Some("ASOC1"), today)),
    );
    w.receive(&offer).await;
    assert_eq!(
        w.inbox(offer.envelope.id).await,
        ("processed".to_owned(), None),
        "erased on arrival"
    );
    // Never shown: not to the organisation it named, not opened for anyone.
    assert_eq!(
        w.get(&w.worker, &format!("/referrals/{id}")).await.status,
        404
    );
    assert_eq!(w.get(&w.worker, "/referrals").await.body["total"], 0);
    assert_eq!(w.notifications(&w.worker).await["unread"], 0);
    let a = w.get(&w.admin, &format!("/referrals/{id}")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["summary"]["state"], "recalled");
    assert_eq!(a.body["offer"], Value::Null);
    assert_eq!(a.body["erased"], true);
    let history: Vec<&str> = a.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        history,
        [
            "recall_received",
            "recall_acknowledged",
            "offer_after_recall"
        ]
    );
    assert_eq!(w.to_hnd(Channel::Referral).await.len(), 0);
    let dump = crate::helpers::dump_database(&w.node).await;
    assert!(!dump.contains("Castellanos"), "nothing of the offer kept");
}

#[tokio::test]
async fn unanswered_offers_expire_on_both_sides_and_a_late_accept_changes_nothing() {
    let w = world(false).await;
    let today = w.today();
    // Sent: a referral of ours to HND.
    let case = w.case().await;
    w.valid_consent(&case).await;
    let a = w
        .post(
            &w.worker,
            &format!("/cases/{case}/referrals"),
            to_hnd(json!({})),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let sent: Uuid = a.body["referral"]["summary"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // Received: an offer from HND for ASOC1.
    let received = Uuid::now_v7();
    let offer = w.envelope_from_hnd(
        Channel::Referral,
        1,
        "referral.offer",
        w.sealed_from_hnd(
            "referral.offer",
            received,
            &hnd_offer(received, Some("ASOC1"), today),
        ),
    );
    w.receive(&offer).await;

    // Nothing is due yet.
    assert_eq!(inbound::expire_due(&w.node.state).await.unwrap(), 0);
    // Both consents end today: both offers expire, each side by its own clock.
    on_db!(w.node, |pool| sqlx::query(
        "UPDATE referrals SET expires_on = $1"
    )
    .bind(today)
    .execute(&pool)
    .await
    .map(|_| ())
    .unwrap());
    assert_eq!(inbound::expire_due(&w.node.state).await.unwrap(), 2);
    assert_eq!(inbound::expire_due(&w.node.state).await.unwrap(), 0, "once");

    let a = w.get(&w.worker, &format!("/referrals/{sent}")).await;
    assert_eq!(a.body["summary"]["state"], "expired");
    assert_eq!(a.body["actions"], json!(["recall"]));
    let a = w.get(&w.worker, &format!("/referrals/{received}")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["summary"]["state"], "expired");
    assert_eq!(a.body["erased"], true, "the received data is erased");
    assert_eq!(a.body["offer"], Value::Null);
    assert_eq!(a.body["summary"]["sender_reference"], "");
    assert_eq!(a.body["actions"], json!([]));
    assert_eq!(
        w.inbox(offer.envelope.id).await,
        ("processed".to_owned(), None),
        "the offer's envelope body is erased too"
    );
    let a = w
        .post(
            &w.worker,
            &format!("/referrals/{received}/accept"),
            json!({}),
        )
        .await;
    assert_eq!(
        field_errors(&a.body),
        vec![("state".into(), "invalid_state".into())]
    );
    let n = w.notifications(&w.coord).await;
    assert!(kinds(&n).contains(&"expired".to_owned()), "{n}");
    let dump = crate::helpers::dump_database(&w.node).await;
    assert!(!dump.contains("Castellanos"), "nothing of the offer kept");

    // HND's accept, signed after the expiry, arrives: recorded, and the referral stays expired.
    let step = StepBody {
        referral_id: sent.hyphenated().to_string(),
        org: None,
        decline_reason: None,
        update: None,
        note: String::new(),
    };
    let accept = w.envelope_from_hnd(
        Channel::Referral,
        2,
        "referral.accept",
        w.sealed_from_hnd("referral.accept", sent, &step),
    );
    w.receive(&accept).await;
    let a = w.get(&w.worker, &format!("/referrals/{sent}")).await;
    assert_eq!(a.body["summary"]["state"], "expired");
    let history: Vec<&str> = a.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        history,
        ["created", "offer_sent", "expired", "accepted_ignored"]
    );
}

#[tokio::test]
async fn a_referral_too_large_for_an_envelope_is_refused_before_signing() {
    let w = world(false).await;
    let today = w.today();
    let case = w.case().await;
    w.referral_consent(
        &case,
        "HND",
        &[ReferralFieldGroup::Timeline],
        today - Duration::days(1),
        today + Duration::days(30),
    )
    .await;
    let long = "Seguimiento detallado. ".repeat(170);
    for _ in 0..50 {
        let a = w
            .post(
                &w.worker,
                &format!("/cases/{case}/notes"),
                json!({ "text": long }),
            )
            .await;
        assert_eq!(a.status, 204, "{}", a.body);
    }
    let a = w
        .post(
            &w.worker,
            &format!("/cases/{case}/referrals"),
            to_hnd(json!({})),
        )
        .await;
    assert_eq!(
        field_errors(&a.body),
        vec![("field_groups".into(), "referral_too_large".into())]
    );
    assert_eq!(w.count("referrals").await, 0);
    assert_eq!(w.count("fed_outbox").await, 0);
    // Without the timeline it goes.
    let a = w
        .post(
            &w.worker,
            &format!("/cases/{case}/referrals"),
            to_hnd(json!({ "field_groups": [] })),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
}
