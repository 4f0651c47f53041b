//! Cross-border referrals end to end on real `puente` processes (GTM refers, HND receives),
//! through the JSON API of each node and the fault-injecting proxies; and hostile
//! `referral.offer` envelopes from the fake peer.
//!
//! After every scenario both sides must agree and nothing may be lost or duplicated: the
//! expected state on each side, exactly one referral row per side, each step exactly once in
//! each side's history, every sent step acked, stream heads equal on the `referral` and
//! `control` channels (`federation status` JSON), every envelope received once and held as
//! sent in the sender's evidence log — and the victim's names in no node's log files and in
//! no database in clear (the SQLite file bytes, or every PostgreSQL row).
//!
//! Scenarios: accept → update → close; decline; recall before acceptance; recall after
//! acceptance by consent withdrawal (the linked case redacted); a recall that overtakes its
//! offer; a partition during each step; a sender killed -9 right after referring (and a
//! receiver killed right after accepting); tampered and replayed offers from the fake peer.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use base64::Engine as _;
use puente_common::case::{CaseRecord, PersonRecord};
use puente_common::referral::{ConsentSummary, OfferBody, OrgRef, ReferralData, ReferralSource};
use puente_common::vocab::codes::{
    CaseStatus, ConsentGivenBy, Gender, IntakeChannel, ReferralFieldGroup, ReferralReason,
    ReferralUrgency, ServiceType,
};
use puente_common::CountryCode;
use puente_federation::manifest::MemberKey;
use puente_federation::seal::{self, SealKeyPair};
use puente_federation::{AckOutcome, Channel, SignedEnvelope, ZERO_HASH};
use puente_node::clock::{Clock, SystemClock};
use reqwest::Method;
use serde_json::{json, Value};

use super::cluster::{random_name, As, Cluster, ClusterOptions, PuenteNode, RegisteredCase};
use super::fake_peer::{assert_refused, result, Draft, FakeMember, FakePeer};
use super::proxy::Mode;

const REF: &str = "referral";
const CONTROL: &str = "control";
/// The groups every consent of these scenarios lists (and so every referral sends).
const GROUPS: &[&str] = &["IDENTITY", "DEMOGRAPHICS"];
/// How long a referral step may take to reach the other side and be applied there.
const STEP: Duration = Duration::from_secs(20);

/// GTM and HND with a directory and a referral agreement (both approved by both nodes), a
/// caseworker of `ASOC1` on each.
async fn referral_pair() -> Cluster {
    Cluster::start_with(ClusterOptions {
        agreements: vec!["directory:GTM,HND".into(), "referral:GTM,HND".into()],
        ..ClusterOptions::with(&["GTM", "HND"])
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Reading and waiting

/// The referral as `who` on `node` reads it, or `None` (404: not there, or not visible).
async fn view(node: &PuenteNode, who: As, id: &str) -> Option<Value> {
    let (status, v) = node
        .api(who, Method::GET, &format!("/referrals/{id}"), None)
        .await;
    match status {
        200 => Some(v),
        404 => None,
        _ => panic!("{} GET /referrals/{id}: {status} {v}", node.id),
    }
}

/// Waits until `node`'s referral `id` (as the national administrator sees it) satisfies
/// `cond`; returns that view. On timeout, fails showing both sides.
async fn wait_view<F>(c: &Cluster, node: &str, id: &str, what: &str, cond: F) -> Value
where
    F: Fn(&Value) -> bool,
{
    let n = c.node(node);
    let mut last = None;
    let deadline = std::time::Instant::now() + STEP;
    loop {
        if let Some(v) = view(n, As::NodeAdmin, id).await {
            if cond(&v) {
                return v;
            }
            last = Some(v);
        }
        if std::time::Instant::now() > deadline {
            let mut report = String::new();
            for m in &c.nodes {
                if m.running() {
                    let v = view(m, As::NodeAdmin, id).await;
                    report.push_str(&format!("--- {} referral: {v:#?}\n", m.id));
                }
                let s = m.cli(&["federation", "status"]).await;
                report.push_str(&format!("--- {} status:\n{}\n", m.id, s.stdout));
            }
            panic!(
                "timed out after {STEP:?} waiting for {node}: {what} (last seen: {last:?})\n{report}"
            );
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

fn summary<'a>(v: &'a Value, field: &str) -> &'a str {
    v["summary"][field].as_str().unwrap_or_default()
}

/// Waits until `node` holds referral `id` in `state`.
async fn wait_state(c: &Cluster, node: &str, id: &str, state: &str) -> Value {
    wait_view(c, node, id, &format!("state {state}"), |v| {
        summary(v, "state") == state
    })
    .await
}

/// The kinds of the history, in order.
fn kinds(v: &Value) -> Vec<String> {
    v["history"]
        .as_array()
        .unwrap_or_else(|| panic!("no history: {v}"))
        .iter()
        .map(|h| h["kind"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The history item of `kind` (there must be exactly one).
fn step<'a>(v: &'a Value, kind: &str) -> &'a Value {
    let items: Vec<&Value> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["kind"] == kind)
        .collect();
    assert_eq!(items.len(), 1, "one {kind} step expected: {v:#}");
    items[0]
}

/// The history is exactly `want`, in this order: each step once, nothing else.
fn assert_history(side: &str, v: &Value, want: &[&str]) {
    let got = kinds(v);
    assert_eq!(got, want, "{side}'s history: {v:#}");
}

/// Every step this side sent (it has a delivery state) was acked by the other side.
fn assert_sent_steps_acked(side: &str, v: &Value) {
    for h in v["history"].as_array().unwrap() {
        if !h["delivery"].is_null() {
            assert_eq!(
                h["delivery"], "acked",
                "{side}: step {} not acked: {v:#}",
                h["kind"]
            );
        }
    }
}

/// The referral rows for `id` in `node`'s database (one per side, always).
async fn referral_rows(node: &PuenteNode, id: &str) -> i64 {
    let q = format!(
        "SELECT direction, COUNT(*) FROM referrals WHERE {} GROUP BY direction",
        node.uuid_eq("id", id)
    );
    node.query_i64(&q).await.iter().map(|(_, n)| *n).sum()
}

/// Inbox rows of `node` still holding the body of an offer of referral `id` (the outer
/// payload names the referral in clear; the body is erased when the node must not hold the
/// offer any more).
async fn offer_bodies_held(node: &PuenteNode, id: &str) -> i64 {
    node.query_i64(&format!(
        "SELECT kind, COUNT(*) FROM fed_inbox WHERE kind = 'referral.offer' \
         AND body IS NOT NULL AND body LIKE '%{id}%' GROUP BY kind"
    ))
    .await
    .iter()
    .map(|(_, n)| *n)
    .sum()
}

/// Neither name of any of `cases` (any word of them) is in any node's log files or database
/// in clear.
async fn assert_names_nowhere(c: &Cluster, cases: &[&RegisteredCase]) {
    let words: Vec<&str> = cases
        .iter()
        .flat_map(|k| k.secrets())
        .flat_map(str::split_whitespace)
        .collect();
    for n in &c.nodes {
        let logs = n.logs();
        let db = n.dump_database().await;
        for w in &words {
            assert!(
                !logs.contains(w),
                "the victim's name {w:?} is in {}'s logs",
                n.id
            );
            assert!(
                !db.contains(w),
                "the victim's name {w:?} is in {}'s database in clear",
                n.id
            );
        }
    }
}

/// Streams between GTM and HND settled on `channels`: for each direction with a stream,
/// heads equal and fully acked; every envelope received once and held as sent.
async fn assert_streams_settled(c: &Cluster, channels: &[&str]) {
    for (from, to) in [("GTM", "HND"), ("HND", "GTM")] {
        let s = c.node(from).status().await;
        for ch in channels {
            if s.out_to(to, ch).is_some_and(|o| o.last_seq > 0) {
                c.wait_heads_equal(from, &[to], ch).await;
            }
        }
    }
    c.assert_received_once("GTM", "HND").await;
    c.assert_received_once("HND", "GTM").await;
}

/// The whole check after a scenario on the pair: streams settled on both channels, exactly
/// one referral row per side, every sent step acked on both sides, the offer acked, the
/// names nowhere in clear.
async fn assert_settled(c: &Cluster, id: &str, cases: &[&RegisteredCase]) {
    assert_streams_settled(c, &[REF, CONTROL]).await;
    for n in ["GTM", "HND"] {
        let node = c.node(n);
        assert_eq!(
            referral_rows(node, id).await,
            1,
            "{n} must hold exactly one row of referral {id}"
        );
        let v = view(node, As::NodeAdmin, id).await.unwrap();
        assert_sent_steps_acked(n, &v);
    }
    let g = c.node("GTM").referral(id).await;
    assert_eq!(step(&g, "offer_sent")["delivery"], "acked", "{g:#}");
    assert_names_nowhere(c, cases).await;
}

/// Refers a new case of GTM to HND; waits until HND received it (routed to its `ASOC1`) and
/// GTM shows it delivered.
async fn refer_and_deliver(c: &Cluster) -> (RegisteredCase, String) {
    let (gtm, hnd) = (c.node("GTM"), c.node("HND"));
    let case = gtm.register_case_with_referral_consent("HND", GROUPS).await;
    let id = gtm.refer(&case.case_id, "HND").await;
    wait_state(c, "HND", &id, "received").await;
    wait_view(c, "GTM", &id, "display_state delivered", |v| {
        summary(v, "display_state") == "delivered"
    })
    .await;
    // The receiving caseworker sees the offer, with the consented groups only.
    let v = hnd.referral(&id).await;
    let data = &v["offer"]["data"];
    assert_eq!(
        data["identity"]["given_names"], case.given_names,
        "the IDENTITY group travelled: {v:#}"
    );
    assert!(
        data["contact"].is_null(),
        "CONTACT was not consented: {v:#}"
    );
    let actions: Vec<&str> = v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        actions.contains(&"accept") && actions.contains(&"decline"),
        "{v:#}"
    );
    (case, id)
}

// ---------------------------------------------------------------------------------------------
// Good links: the four ways a referral ends

/// a. refer → accept → update (ARRIVAL_CONFIRMED) → close.
async fn accept_update_close(c: &Cluster) -> RegisteredCase {
    let (gtm, hnd) = (c.node("GTM"), c.node("HND"));
    let (case, id) = refer_and_deliver(c).await;
    let accepted = hnd.act(&id, "accept", json!({})).await;
    let linked = accepted["case"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no linked case: {accepted}"))
        .to_owned();
    wait_state(c, "GTM", &id, "accepted").await;
    hnd.act(
        &id,
        "update",
        json!({ "update": "ARRIVAL_CONFIRMED", "note": "Llegó al albergue" }),
    )
    .await;
    wait_view(c, "GTM", &id, "the update", |v| {
        kinds(v).iter().any(|k| k == "update_received")
    })
    .await;
    hnd.act(&id, "close", json!({ "note": "Atención concluida" }))
        .await;
    wait_state(c, "GTM", &id, "closed").await;

    let g = gtm.referral(&id).await;
    assert_history(
        "GTM",
        &g,
        &[
            "created",
            "offer_sent",
            "accepted",
            "update_received",
            "closed",
        ],
    );
    let u = step(&g, "update_received");
    assert_eq!(u["detail"]["update"], "ARRIVAL_CONFIRMED", "{g:#}");
    assert_eq!(u["note"], "Llegó al albergue", "{g:#}");
    let h = hnd.referral(&id).await;
    assert_eq!(summary(&h, "state"), "closed");
    assert_eq!(summary(&h, "sender_reference"), case.number, "{h:#}");
    assert_history(
        "HND",
        &h,
        &["offer_received", "accepted", "update_sent", "closed"],
    );
    // The linked case at HND: intake REFERRAL_IN, the person as the referral described them.
    assert_eq!(h["summary"]["case_id"], linked.as_str(), "{h:#}");
    let k = hnd.case(&linked).await;
    assert_eq!(k["case"]["intake_channel"], "REFERRAL_IN", "{k:#}");
    assert_eq!(
        k["person"]["identity"]["given_names"], case.given_names,
        "{k:#}"
    );
    assert_eq!(k["case"]["narrative"], "", "the narrative never travels");
    assert_settled(c, &id, &[&case]).await;
    case
}

/// b. decline with a reason: GTM sees it, HND holds nothing of the offer any more.
async fn decline_with_reason(c: &Cluster) -> RegisteredCase {
    let (gtm, hnd) = (c.node("GTM"), c.node("HND"));
    let (case, id) = refer_and_deliver(c).await;
    assert_eq!(
        offer_bodies_held(hnd, &id).await,
        1,
        "the offer as received"
    );
    hnd.act(
        &id,
        "decline",
        json!({ "reason": "NO_CAPACITY", "note": "Sin cupo este mes" }),
    )
    .await;
    wait_state(c, "GTM", &id, "declined").await;
    let g = gtm.referral(&id).await;
    assert_eq!(summary(&g, "display_state"), "declined");
    assert_history("GTM", &g, &["created", "offer_sent", "declined"]);
    let d = step(&g, "declined");
    assert_eq!(d["detail"]["reason"], "NO_CAPACITY", "{g:#}");
    assert_eq!(d["note"], "Sin cupo este mes", "{g:#}");
    let h = hnd.referral(&id).await;
    assert_eq!(summary(&h, "state"), "declined");
    assert_history("HND", &h, &["offer_received", "declined"]);
    assert!(
        h["offer"].is_null() && h["erased"] == true,
        "HND still shows the offer: {h:#}"
    );
    assert_eq!(
        offer_bodies_held(hnd, &id).await,
        0,
        "HND still holds the sealed offer envelope (which it can open) after declining"
    );
    assert_settled(c, &id, &[&case]).await;
    case
}

/// c. recall before acceptance, by the sender through the API.
async fn recall_before_acceptance(c: &Cluster) -> RegisteredCase {
    let (gtm, hnd) = (c.node("GTM"), c.node("HND"));
    let (case, id) = refer_and_deliver(c).await;
    gtm.act(&id, "recall", json!({ "note": "Ya no hace falta" }))
        .await;
    wait_view(c, "GTM", &id, "recall acknowledged", |v| {
        summary(v, "recall_state") == "acknowledged"
    })
    .await;
    let g = gtm.referral(&id).await;
    assert_eq!(summary(&g, "state"), "recalled");
    assert_history(
        "GTM",
        &g,
        &["created", "offer_sent", "recall_sent", "recall_confirmed"],
    );
    assert_eq!(
        step(&g, "recall_confirmed")["detail"]["held"],
        true,
        "{g:#}"
    );
    let h = view(hnd, As::NodeAdmin, &id).await.unwrap();
    assert_eq!(summary(&h, "state"), "recalled");
    assert_history(
        "HND",
        &h,
        &["offer_received", "recall_received", "recall_acknowledged"],
    );
    assert_eq!(
        step(&h, "recall_received")["detail"]["reason"],
        "REVOKED_BY_SENDER"
    );
    let h = hnd.referral(&id).await;
    assert!(h["offer"].is_null() && h["erased"] == true, "{h:#}");
    assert_eq!(
        offer_bodies_held(hnd, &id).await,
        0,
        "offer envelope erased"
    );
    assert_settled(c, &id, &[&case]).await;
    case
}

/// d. recall after acceptance, by withdrawing the referral consent: HND's linked case loses
/// the names the referral brought.
async fn recall_after_acceptance_by_consent_withdrawal(c: &Cluster) -> RegisteredCase {
    let (gtm, hnd) = (c.node("GTM"), c.node("HND"));
    let (case, id) = refer_and_deliver(c).await;
    let accepted = hnd.act(&id, "accept", json!({})).await;
    let linked = accepted["case"]["id"].as_str().unwrap().to_owned();
    wait_state(c, "GTM", &id, "accepted").await;
    let k = hnd.case(&linked).await;
    assert_eq!(k["person"]["identity"]["family_names"], case.family_names);

    gtm.withdraw_consent(&case.case_id, &case.referral_consent)
        .await;
    wait_view(c, "GTM", &id, "recall acknowledged", |v| {
        summary(v, "recall_state") == "acknowledged"
    })
    .await;
    let g = gtm.referral(&id).await;
    assert_eq!(summary(&g, "state"), "recalled");
    assert_history(
        "GTM",
        &g,
        &[
            "created",
            "offer_sent",
            "accepted",
            "recall_sent",
            "recall_confirmed",
        ],
    );
    assert_eq!(
        step(&g, "recall_sent")["detail"]["reason"],
        "CONSENT_WITHDRAWN"
    );
    let h = hnd.referral(&id).await;
    assert_eq!(summary(&h, "state"), "recalled");
    assert_history(
        "HND",
        &h,
        &[
            "offer_received",
            "accepted",
            "recall_received",
            "recall_acknowledged",
        ],
    );
    assert_eq!(
        step(&h, "recall_received")["detail"]["linked_case_redacted"],
        true,
        "{h:#}"
    );
    // The linked case goes on, without what the referral brought.
    let k = hnd.case(&linked).await;
    assert_eq!(k["person"]["identity"]["given_names"], "", "{k:#}");
    assert_eq!(k["person"]["identity"]["family_names"], "", "{k:#}");
    assert_eq!(k["case"]["intake_channel"], "REFERRAL_IN");
    assert_eq!(
        offer_bodies_held(hnd, &id).await,
        0,
        "offer envelope erased"
    );
    assert_settled(c, &id, &[&case]).await;
    case
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn referrals_are_accepted_declined_and_recalled_end_to_end() {
    let c = referral_pair().await;
    let mut cases = Vec::new();
    let t = std::time::Instant::now();
    cases.push(accept_update_close(&c).await);
    eprintln!("a. accept → update → close: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    cases.push(decline_with_reason(&c).await);
    eprintln!("b. decline: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    cases.push(recall_before_acceptance(&c).await);
    eprintln!("c. recall before acceptance: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    cases.push(recall_after_acceptance_by_consent_withdrawal(&c).await);
    eprintln!("d. recall by consent withdrawal: {:?}", t.elapsed());
    // Nothing of any of them anywhere in clear, at the end either.
    let all: Vec<&RegisteredCase> = cases.iter().collect();
    assert_names_nowhere(&c, &all).await;
    c.assert_audit_intact().await;
}

// ---------------------------------------------------------------------------------------------
// Faults

/// e. A recall that overtakes its offer. HND is down while GTM refers and at once recalls;
/// then HND comes back unreachable for GTM (its proxy refuses), so nothing is pushed and HND
/// pulls GTM's streams itself, one channel after the other in the fixed order of
/// `federation::CHANNELS` — control before referral. The recall is therefore stored (and
/// applied) before the offer, every time: the order is forced, not hoped for.
async fn recall_overtakes_the_offer(c: &Cluster) -> RegisteredCase {
    let (gtm, hnd) = (c.node("GTM"), c.node("HND"));
    hnd.stop().await;
    let case = gtm.register_case_with_referral_consent("HND", GROUPS).await;
    let id = gtm.refer(&case.case_id, "HND").await;
    gtm.act(&id, "recall", json!({})).await;
    hnd.proxy.set_mode(Mode::Refuse);
    let upstream = hnd.proxy.upstream_connections();
    hnd.start().await;
    wait_view(c, "GTM", &id, "recall acknowledged", |v| {
        summary(v, "recall_state") == "acknowledged"
    })
    .await;
    let h = wait_view(c, "HND", &id, "the late offer recorded", |v| {
        kinds(v).iter().any(|k| k == "offer_after_recall")
    })
    .await;
    assert_eq!(
        hnd.proxy.upstream_connections(),
        upstream,
        "nothing reached HND's listener: both streams came by pull"
    );
    hnd.proxy.set_mode(Mode::Pass);
    assert_history(
        "HND",
        &h,
        &[
            "recall_received",
            "recall_acknowledged",
            "offer_after_recall",
        ],
    );
    assert_eq!(summary(&h, "state"), "recalled");
    assert!(h["offer"].is_null() && h["erased"] == true, "{h:#}");
    // The offer was never shown: not to the caseworker of the organisation it named (the
    // tombstone is routed nowhere), not in any list, no notification.
    assert!(
        view(hnd, As::Caseworker, &id).await.is_none(),
        "the recalled offer is visible to HND's caseworker"
    );
    for who in [As::Caseworker, As::NodeAdmin] {
        let list = hnd
            .api_ok(who, Method::GET, "/referrals?direction=in", None, 200)
            .await;
        let shown: Vec<&Value> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["id"] == id.as_str())
            .collect();
        assert!(
            shown.iter().all(|i| i["state"] == "recalled"),
            "listed as something else than recalled to {who:?}: {list:#}"
        );
        let notes = hnd
            .api_ok(who, Method::GET, "/notifications", None, 200)
            .await;
        assert!(
            !notes["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["referral_id"] == id.as_str()),
            "{who:?} was notified of the recalled offer: {notes:#}"
        );
    }
    assert_eq!(
        offer_bodies_held(hnd, &id).await,
        0,
        "the late offer erased"
    );
    let g = gtm.referral(&id).await;
    assert_eq!(summary(&g, "state"), "recalled");
    assert_history(
        "GTM",
        &g,
        &["created", "offer_sent", "recall_sent", "recall_confirmed"],
    );
    assert_eq!(
        step(&g, "recall_confirmed")["detail"]["held"],
        false,
        "HND held nothing yet when the recall came: {g:#}"
    );
    assert_settled(c, &id, &[&case]).await;
    case
}

/// Cuts GTM and HND apart with `mode` on both proxies (no push, no pull, no posted acks).
fn cut(c: &Cluster, mode: Mode) -> usize {
    c.set_all(mode);
    c.node("GTM").proxy.connections() + c.node("HND").proxy.connections()
}

/// Waits until one side tried again through the cut (more connections to the proxies).
async fn wait_tries(c: &Cluster, since: usize) {
    c.wait_for(
        "a side to try again through the cut",
        Duration::from_secs(10),
        || async {
            c.node("GTM").proxy.connections() + c.node("HND").proxy.connections() >= since + 2
        },
    )
    .await;
}

/// The delivery of the history step `kind` on `node` (sent steps).
async fn delivery(node: &PuenteNode, id: &str, kind: &str) -> String {
    let v = view(node, As::NodeAdmin, id).await.unwrap();
    step(&v, kind)["delivery"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// f. A partition during each step (refusing and black-holed links in turn): the step waits
/// (the offer shows `pending_delivery`, the answers `pending`), the other side is unchanged,
/// and once the link heals it arrives exactly once.
async fn a_partition_during_each_step(c: &Cluster) -> RegisteredCase {
    let (gtm, hnd) = (c.node("GTM"), c.node("HND"));
    let case = gtm.register_case_with_referral_consent("HND", GROUPS).await;

    // The offer.
    let n = cut(c, Mode::Refuse);
    let id = gtm.refer(&case.case_id, "HND").await;
    wait_tries(c, n).await;
    let g = gtm.referral(&id).await;
    assert_eq!(summary(&g, "display_state"), "pending_delivery", "{g:#}");
    assert!(
        view(hnd, As::NodeAdmin, &id).await.is_none(),
        "through a cut"
    );
    let s = gtm.status().await;
    let out = s.out_to("HND", REF).unwrap();
    assert!(out.acked_seq < out.last_seq, "{out:?}");
    assert!(s.peer("HND", REF).is_some_and(|p| p.backlog >= 1), "{s:?}");
    c.set_all(Mode::Pass);
    wait_state(c, "HND", &id, "received").await;
    wait_view(c, "GTM", &id, "delivered", |v| {
        summary(v, "display_state") == "delivered"
    })
    .await;

    // The answers, each through a cut.
    let answers: [(&str, Value, Mode, &str, &str); 3] = [
        ("accept", json!({}), Mode::Blackhole, "accepted", "accepted"),
        (
            "update",
            json!({ "update": "SERVICES_STARTED" }),
            Mode::Refuse,
            "update_sent",
            "update_received",
        ),
        ("close", json!({}), Mode::Blackhole, "closed", "closed"),
    ];
    for (action, body, mode, sent, received) in answers {
        let n = cut(c, mode);
        hnd.act(&id, action, body).await;
        wait_tries(c, n).await;
        assert_eq!(delivery(hnd, &id, sent).await, "pending", "{action}");
        let g = gtm.referral(&id).await;
        assert!(
            !kinds(&g).iter().any(|k| k == received),
            "{action} crossed a {mode:?} link: {g:#}"
        );
        c.set_all(Mode::Pass);
        wait_view(c, "GTM", &id, received, |v| {
            kinds(v).iter().any(|k| k == received)
        })
        .await;
        c.wait_for(
            &format!("HND's {action} acked"),
            Duration::from_secs(20),
            || async { delivery(hnd, &id, sent).await == "acked" },
        )
        .await;
    }
    wait_state(c, "GTM", &id, "closed").await;

    // And the recall (consent withdrawn after closing) through a cut.
    let n = cut(c, Mode::Refuse);
    gtm.withdraw_consent(&case.case_id, &case.referral_consent)
        .await;
    wait_tries(c, n).await;
    let g = gtm.referral(&id).await;
    assert_eq!(summary(&g, "recall_state"), "pending", "{g:#}");
    assert_eq!(summary(&g, "display_state"), "recall_pending", "{g:#}");
    assert_eq!(hnd.referral_state(&id).await, "closed");
    c.set_all(Mode::Pass);
    wait_view(c, "GTM", &id, "recall acknowledged", |v| {
        summary(v, "recall_state") == "acknowledged"
    })
    .await;

    let g = gtm.referral(&id).await;
    assert_history(
        "GTM",
        &g,
        &[
            "created",
            "offer_sent",
            "accepted",
            "update_received",
            "closed",
            "recall_sent",
            "recall_confirmed",
        ],
    );
    let h = hnd.referral(&id).await;
    assert_eq!(summary(&h, "state"), "recalled");
    assert_history(
        "HND",
        &h,
        &[
            "offer_received",
            "accepted",
            "update_sent",
            "closed",
            "recall_received",
            "recall_acknowledged",
        ],
    );
    assert_settled(c, &id, &[&case]).await;
    case
}

/// g. The sender killed -9 right after the referral was written (HND down, so before any
/// delivery) and restarted: delivered once. Then the receiver killed -9 right after it
/// accepted: the acceptance arrives once.
async fn a_sender_killed_right_after_referring(c: &Cluster) -> RegisteredCase {
    let (gtm, hnd) = (c.node("GTM"), c.node("HND"));
    hnd.stop().await;
    let case = gtm.register_case_with_referral_consent("HND", GROUPS).await;
    let id = gtm.refer(&case.case_id, "HND").await;
    gtm.kill();
    gtm.start().await;
    let g = gtm.referral(&id).await;
    assert_eq!(summary(&g, "display_state"), "pending_delivery", "{g:#}");
    hnd.start().await;
    wait_state(c, "HND", &id, "received").await;
    wait_view(c, "GTM", &id, "delivered", |v| {
        summary(v, "display_state") == "delivered"
    })
    .await;

    hnd.act(&id, "accept", json!({})).await;
    hnd.kill();
    hnd.start().await;
    wait_state(c, "GTM", &id, "accepted").await;
    let g = gtm.referral(&id).await;
    assert_history("GTM", &g, &["created", "offer_sent", "accepted"]);
    let h = hnd.referral(&id).await;
    assert_eq!(summary(&h, "state"), "accepted");
    assert_history("HND", &h, &["offer_received", "accepted"]);
    assert_settled(c, &id, &[&case]).await;
    case
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn referral_steps_survive_partitions_crashes_and_an_overtaking_recall() {
    let c = referral_pair().await;
    let mut cases = Vec::new();
    let t = std::time::Instant::now();
    cases.push(recall_overtakes_the_offer(&c).await);
    eprintln!("e. recall overtaking the offer: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    cases.push(a_partition_during_each_step(&c).await);
    eprintln!("f. partition during each step: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    cases.push(a_sender_killed_right_after_referring(&c).await);
    eprintln!("g. sender and receiver killed -9: {:?}", t.elapsed());
    let all: Vec<&RegisteredCase> = cases.iter().collect();
    assert_names_nowhere(&c, &all).await;
    c.assert_audit_intact().await;
}

// ---------------------------------------------------------------------------------------------
// The fake peer: tampered and replayed offers

fn cc(s: &str) -> CountryCode {
    s.parse().unwrap()
}

/// An offer of MEX's organisation to HND's `ASOC1` about a person with these names, the
/// IDENTITY group consented and sent.
fn offer_body(referral_id: &str, given: &str, family: &str) -> OfferBody {
    let today = SystemClock.now().date_naive();
    let mut person = PersonRecord::default();
    person.identity.given_names = given.into();
    person.identity.family_names = family.into();
    person.gender = Some(Gender::Feminine);
    person.citizenship.insert(cc("MEX"));
    let case = CaseRecord {
        intake_channel: IntakeChannel::Hotline,
        registration_date: today,
        identification_date: None,
        status: CaseStatus::Active,
        closure_reason: None,
        trafficking_status: None,
        status_decided_by: None,
        location: None,
        process: Default::default(),
        narrative: String::new(),
    };
    let groups: BTreeSet<ReferralFieldGroup> = [ReferralFieldGroup::Identity].into();
    let data = ReferralData::build(
        &ReferralSource {
            person: &person,
            case: &case,
            services: &[],
            proceedings: &[],
            notes: &[],
            today,
        },
        &groups,
    );
    let expires_on = today + chrono::Duration::days(30);
    OfferBody {
        referral_id: referral_id.to_owned(),
        sender_org: OrgRef {
            code: "MEXORG".into(),
            name: "Albergue de prueba".into(),
        },
        sender_reference: "MEX-2026-000001".into(),
        dest_org: Some("ASOC1".into()),
        dest_service: None,
        reason: ReferralReason::AdditionalServicesRequired,
        urgency: ReferralUrgency::Routine,
        needs: [ServiceType::Shelter].into(),
        message: String::new(),
        consent: Some(ConsentSummary {
            given_by: ConsentGivenBy::Person,
            given_on: today - chrono::Duration::days(1),
            expires_on,
            field_groups: groups,
        }),
        expires_on,
        data,
    }
}

/// What `sealed` is bound to: the referral id in the aad, and the ciphertext.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seal {
    /// As a sender must: to HND's key, bound to this envelope and referral.
    Genuine,
    /// A byte of the ciphertext flipped (before signing: an authentic envelope whose sealed
    /// payload does not open).
    FlippedCiphertext,
    /// Sealed for another referral id (a sealed payload lifted into another envelope).
    OtherReferral,
}

/// A `referral.offer` draft of MEX to HND at `seq` after `prev`.
fn offer_draft(
    peer: &FakePeer,
    key: &MemberKey,
    seq: u64,
    prev: &str,
    referral_id: &str,
    body: &OfferBody,
    how: Seal,
) -> Draft {
    let plain = serde_json::to_vec(body).unwrap();
    let bound_to = match how {
        Seal::OtherReferral => uuid::Uuid::now_v7().hyphenated().to_string(),
        _ => referral_id.to_owned(),
    };
    let aad = seal::aad(peer.me.id, peer.node, "referral.offer", &bound_to);
    let mut sealed = seal::seal(key, &aad, &plain).unwrap();
    if how == Seal::FlippedCiphertext {
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut ct = b64.decode(&sealed.ct).unwrap();
        ct[0] ^= 0x01;
        sealed.ct = b64.encode(ct);
    }
    Draft {
        origin: peer.me.id,
        destination: peer.node,
        channel: Channel::Referral,
        epoch: 1,
        seq,
        prev: prev.to_owned(),
        kind: "referral.offer".into(),
        created_at: SystemClock.now(),
        manifest_version: peer.manifest_version,
        payload: json!({ "referral_id": referral_id, "sealed": sealed }),
    }
}

/// The signed envelope's bytes with `edit` applied to its JSON (after signing).
fn edited(env: &SignedEnvelope, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&env.bytes).unwrap();
    edit(&mut v);
    serde_json::to_vec(&v).unwrap()
}

/// HND's inbox row of MEX's referral stream at `seq`: (status, reason).
async fn inbox_row(hnd: &PuenteNode, seq: u64) -> Option<(String, String)> {
    hnd.query_i64(&format!(
        "SELECT status || ':' || COALESCE(reason, ''), seq FROM fed_inbox \
         WHERE origin = 'MEX' AND channel = 'referral' AND seq = {seq}"
    ))
    .await
    .into_iter()
    .next()
    .map(|(s, _)| {
        let (a, b) = s.split_once(':').unwrap();
        (a.to_owned(), b.to_owned())
    })
}

/// Whether HND's inbox row of MEX's referral stream at `seq` still holds its body.
async fn inbox_body_held(hnd: &PuenteNode, seq: u64) -> bool {
    hnd.query_i64(&format!(
        "SELECT kind, COUNT(*) FROM fed_inbox WHERE origin = 'MEX' AND channel = 'referral' \
         AND seq = {seq} AND body IS NOT NULL GROUP BY kind"
    ))
    .await
    .iter()
    .any(|(_, n)| *n > 0)
}

async fn refused_in(hnd: &PuenteNode) -> i64 {
    hnd.query_i64(
        "SELECT peer, COUNT(*) FROM fed_evidence WHERE direction = 'refused_in' \
         AND peer = 'MEX' AND channel = 'referral' GROUP BY peer",
    )
    .await
    .iter()
    .map(|(_, n)| *n)
    .sum()
}

/// Every referral HND holds, as its national administrator lists them: (id, state).
async fn hnd_referrals(hnd: &PuenteNode) -> BTreeMap<String, String> {
    let list = hnd
        .api_ok(As::NodeAdmin, Method::GET, "/referrals", None, 200)
        .await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_owned(),
                i["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_offers_are_refused_and_a_replayed_offer_changes_nothing() {
    let mex = FakeMember::new("MEX");
    let mut member = mex.member_json();
    member["seal_keys"] = json!([{
        "id": mex.key.key_id().as_str(),
        "public_key": SealKeyPair::derive(&mex.key).public_key_b64(),
        "valid_from": "2020-01-01T00:00:00.000000Z",
        "valid_until": null,
    }]);
    let c = Cluster::start_with(ClusterOptions {
        members: vec!["HND"],
        extra_members: vec![member],
        agreements: vec!["directory:HND,MEX".into(), "referral:HND,MEX".into()],
        ..ClusterOptions::default()
    })
    .await;
    let hnd = c.node("HND");
    let key: MemberKey = serde_json::from_value(c.member_info["HND"]["seal_keys"][0].clone())
        .unwrap_or_else(|e| {
            panic!(
                "HND's member-info lists no seal key ({e}): {}",
                c.member_info["HND"]
            )
        });
    let peer = FakePeer::connect(mex, &c, "HND").await;
    let (given, family) = (random_name(9), random_name(10));
    let id = uuid::Uuid::now_v7().hyphenated().to_string();
    let body = offer_body(&id, &given, &family);

    // Refused, the stream not advanced, the refusal in the evidence log: a flipped
    // signature, and a sealed ciphertext changed after signing.
    let good = offer_draft(&peer, &key, 1, ZERO_HASH, &id, &body, Seal::Genuine).sign(&peer.me.key);
    let b64 = base64::engine::general_purpose::STANDARD;
    let flipped_sig = edited(&good, |v| {
        let mut sig = b64.decode(v["sig"].as_str().unwrap()).unwrap();
        sig[0] ^= 0x01;
        v["sig"] = json!(b64.encode(sig));
    });
    let changed_ct = edited(&good, |v| {
        let mut ct = b64
            .decode(v["payload"]["sealed"]["ct"].as_str().unwrap())
            .unwrap();
        ct[0] ^= 0x01;
        v["payload"]["sealed"]["ct"] = json!(b64.encode(ct));
    });
    for (what, bytes) in [
        ("flipped signature", &flipped_sig),
        ("sealed ciphertext changed after signing", &changed_ct),
    ] {
        let before = refused_in(hnd).await;
        let ack = peer.verified_ack(&peer.post_raw(&[bytes]).await);
        assert_refused(&ack, 1, "bad_signature");
        assert_eq!(ack.acked_through_seq, 0, "{what}: the stream advanced");
        assert_eq!(refused_in(hnd).await, before + 1, "{what}: not recorded");
    }
    assert!(
        inbox_row(hnd, 1).await.is_none(),
        "a refused offer was stored"
    );

    // Authentic envelopes whose sealed offer does not open: stored and acked (the stream is
    // sound), then failed for good as `unsealable`; no referral.
    let mut prev = ZERO_HASH.to_owned();
    for (seq, how) in [(1, Seal::FlippedCiphertext), (2, Seal::OtherReferral)] {
        let e = offer_draft(&peer, &key, seq, &prev, &id, &body, how).sign(&peer.me.key);
        let ack = peer.ack(&[&e]).await;
        assert_eq!(result(&ack, seq).result, AckOutcome::Stored, "{ack:?}");
        prev = e.hash.clone();
        c.wait_for(
            &format!("HND to fail seq {seq} as unsealable"),
            Duration::from_secs(10),
            || async { inbox_row(hnd, seq).await == Some(("failed".into(), "unsealable".into())) },
        )
        .await;
    }
    assert!(
        hnd_referrals(hnd).await.is_empty(),
        "an unsealable offer made a referral"
    );

    // The genuine offer: received, routed to ASOC1, the names as sent.
    let genuine = offer_draft(&peer, &key, 3, &prev, &id, &body, Seal::Genuine).sign(&peer.me.key);
    let ack = peer.ack(&[&genuine]).await;
    assert_eq!(result(&ack, 3).result, AckOutcome::Stored, "{ack:?}");
    c.wait_for(
        "HND to receive the offer",
        Duration::from_secs(10),
        || async { hnd_referrals(hnd).await.get(&id).map(String::as_str) == Some("received") },
    )
    .await;
    let v = hnd.referral(&id).await;
    assert_eq!(
        v["offer"]["data"]["identity"]["given_names"],
        given.as_str()
    );
    assert_history("HND", &v, &["offer_received"]);
    let before = (
        hnd_referrals(hnd).await,
        v.clone(),
        hnd.status().await.streams_in,
    );

    // Replayed as is: a duplicate, nothing changes.
    let ack = peer.ack(&[&genuine]).await;
    assert_eq!(result(&ack, 3).result, AckOutcome::Duplicate, "{ack:?}");
    assert_eq!(ack.acked_through_seq, 3);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = (
        hnd_referrals(hnd).await,
        hnd.referral(&id).await,
        hnd.status().await.streams_in,
    );
    assert_eq!(after, before, "a replayed envelope changed HND");

    // Replayed in a new envelope (the same sealed offer, next position): stored, recorded
    // as a repeat, its body erased; the referral as it was.
    let again =
        offer_draft(&peer, &key, 4, &genuine.hash, &id, &body, Seal::Genuine).sign(&peer.me.key);
    let ack = peer.ack(&[&again]).await;
    assert_eq!(result(&ack, 4).result, AckOutcome::Stored, "{ack:?}");
    let v = wait_view(&c, "HND", &id, "the repeat recorded", |v| {
        kinds(v).iter().any(|k| k == "offer_repeated")
    })
    .await;
    assert_history("HND", &v, &["offer_received", "offer_repeated"]);
    assert_eq!(summary(&v, "state"), "received");
    assert_eq!(
        hnd_referrals(hnd).await,
        before.0,
        "one referral, as it was"
    );
    assert_eq!(referral_rows(hnd, &id).await, 1);
    assert!(inbox_body_held(hnd, 3).await, "the offer as first received");
    assert!(
        !inbox_body_held(hnd, 4).await,
        "the repeat's body is erased"
    );
    assert_eq!(
        inbox_row(hnd, 4).await,
        Some(("processed".into(), String::new()))
    );
    assert_eq!(hnd.status().await.head_from("MEX", REF), 4);

    // The names nowhere in clear at HND.
    let (logs, db) = (hnd.logs(), hnd.dump_database().await);
    for w in [&given, &family] {
        assert!(!logs.contains(w.as_str()), "{w} in HND's logs");
        assert!(!db.contains(w.as_str()), "{w} in HND's database in clear");
    }
    c.assert_audit_intact().await;
}
