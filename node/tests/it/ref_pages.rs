//! The pages of cross-border referrals on a GTM node that joined a federation in-process with
//! HND (a directory and a referral agreement, both approved here, and seal keys for both), with
//! HND's service directory received: the referral form of a case, the referral's page and its
//! printable summary, the lists, the notifications and the header's unread count — in Spanish,
//! and in English through the language switch.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use puente_common::directory::{DirOrg, DirService, DirectoryPayload};
use puente_common::vocab::codes::{ConsentScope, ReferralFieldGroup};
use puente_federation::seal::SealKeyPair;
use puente_federation::transport::generate_tls_identity;
use puente_federation::{
    Agreement, AgreementKind, Manifest, Member, MemberKey, MemberRole, MemberStatus,
    SigningIdentity,
};
use puente_node::authz::Actor;
use puente_node::cases::{self, NewCase, PersonChoice, Who};
use puente_node::clock::SystemClock;
use puente_node::config::{DeliveryConfig, FederationConfig};
use puente_node::federation::{admin, Federation};
use puente_node::store::fed_sql::ApprovalKind;
use puente_node::store::ref_sql::RefFilter;
use puente_node::store::{Org, User};
use uuid::Uuid;

use crate::cases::{case_record, consent, person, NAME};
use crate::helpers::{Browser, TestNode, PASSWORD};

const FEDERATION: &str = "puente-prueba";
/// The HND organisation and shelter service of HND's directory.
const HND_ORG: &str = "CJVS";
const HND_ORG_NAME: &str = "Clínica Jurídica del Valle de Sula";
const HND_SHELTER: &str = "01890a5d-ac96-774b-bcce-b302099a8058";

/// A member's key as the manifest lists it (signing or seal key), valid since yesterday.
fn member_key(id: &SigningIdentity, public_key: String, now: DateTime<Utc>) -> MemberKey {
    MemberKey {
        id: id.key_id().clone(),
        public_key,
        valid_from: now - Duration::days(1),
        valid_until: None,
    }
}

/// A node for GTM that joined [`FEDERATION`] (GTM and HND with their signing and seal keys,
/// agreements `dir-all` and `ref-gh`), approved HND and both agreements, and holds HND's
/// directory; its run-time federation state is loaded (no listener, no workers).
async fn referral_node() -> TestNode {
    let gtm_tls = generate_tls_identity("GTM".parse().unwrap(), &["127.0.0.1".into()]).unwrap();
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
    })
    .await;

    let now = node.state.clock.now().trunc_subsecs(0);
    let tg = crate::helpers::TestGovernance::new();
    let governance = tg.governance.clone();
    let hnd_key = SigningIdentity::generate("HND-2026a".parse().unwrap());
    let hnd_tls = generate_tls_identity("HND".parse().unwrap(), &["127.0.0.3".into()]).unwrap();
    let member = |id: &str, name: &str, endpoint: &str, pin: &str, key: &SigningIdentity| Member {
        id: id.parse().unwrap(),
        name: name.into(),
        role: MemberRole::Node,
        status: MemberStatus::Active,
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
    let both = vec!["GTM".parse().unwrap(), "HND".parse().unwrap()];
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
                "Guatemala",
                "https://127.0.0.1:7443",
                &gtm_pin,
                node.state.identity.as_ref(),
            ),
            member(
                "HND",
                "Honduras",
                "https://127.0.0.3:7443",
                &hnd_tls.pin,
                &hnd_key,
            ),
        ],
        agreements: vec![
            Agreement {
                id: "dir-all".into(),
                kind: AgreementKind::Directory,
                members: both.clone(),
                hub: None,
                period: None,
            },
            Agreement {
                id: "ref-gh".into(),
                kind: AgreementKind::Referral,
                members: both,
                hub: None,
                period: None,
            },
        ],
    };
    let signed = tg.sign(manifest);
    let store = node.state.store.as_ref();
    tg.join(&node, &signed, &[]).await;
    for (kind, subject) in [
        (ApprovalKind::Peer, "HND"),
        (ApprovalKind::Agreement, "dir-all"),
        (ApprovalKind::Agreement, "ref-gh"),
    ] {
        admin::approve(store, &node.ctx(), kind, subject)
            .await
            .unwrap();
    }
    let fed = Federation::load(&node.state.config).unwrap().unwrap();
    fed.refresh(store).await.unwrap();
    node.state.federation.set(Arc::new(fed)).unwrap();
    receive_hnd_directory(&node).await;
    node
}

/// HND's directory, as if received on the `directory` stream.
async fn receive_hnd_directory(node: &TestNode) {
    let payload = DirectoryPayload {
        revision: 1,
        published_at: "2026-11-30T16:30:00.123456Z".into(),
        organisations: vec![DirOrg {
            code: HND_ORG.into(),
            name: HND_ORG_NAME.into(),
            org_type: "LEGAL_SERVICE".into(),
            services: vec![
                DirService {
                    id: "01890a5d-ac96-774b-bcce-b302099a8057".into(),
                    service_type: "LEGAL".into(),
                    populations: vec![],
                    languages: vec!["spa".into()],
                    subdivisions: vec!["HN-CR".into()],
                    contact: "Tel. +504 2550 0000".into(),
                    notes: String::new(),
                },
                DirService {
                    id: HND_SHELTER.into(),
                    service_type: "SHELTER".into(),
                    populations: vec![],
                    languages: vec!["spa".into()],
                    subdivisions: vec![],
                    contact: "Tel. +504 2440 0000".into(),
                    notes: "Albergue nacional".into(),
                },
            ],
        }],
    };
    let id = Uuid::now_v7();
    let sql = format!(
        "INSERT INTO fed_inbox (id, origin, channel, epoch, seq, hash, kind, body, received_at, status) \
         VALUES ($1, 'HND', 'directory', 1, 1, '{}', 'directory.publish', '{{}}', $2, 'stored')",
        "0".repeat(64)
    );
    exec(node, &sql, id, node.state.clock.now()).await;
    let v = serde_json::to_value(&payload).unwrap();
    assert!(
        puente_node::directory::apply_remote(&node.state, "HND".parse().unwrap(), &v, id)
            .await
            .unwrap()
    );
}

fn actor(u: &User) -> Actor {
    Actor {
        user_id: u.id,
        username: u.username.clone(),
        role: u.role,
        org_id: u.org_id,
    }
}

/// A case of `by`'s organisation; with a `REFERRAL` consent for HND (identity and
/// demographics, in force) when `referral_consent`.
async fn case_of(node: &TestNode, by: &User, referral_consent: bool) -> Uuid {
    let today = node.state.clock.now().date_naive();
    let mut consents = vec![consent(ConsentScope::CaseManagement)];
    if referral_consent {
        let mut r = consent(ConsentScope::Referral);
        r.given_on = today - Duration::days(3);
        r.expires_on = Some(today + Duration::days(180));
        r.destination_country = Some("HND".parse().unwrap());
        r.field_groups = BTreeSet::from([
            ReferralFieldGroup::Identity,
            ReferralFieldGroup::Demographics,
        ]);
        consents.push(r);
    }
    let input = NewCase {
        person: PersonChoice::New(Box::new(person())),
        case: case_record(),
        consents,
        caseworker_id: None,
        consent_override_reason: None,
    };
    let who = Who {
        actor: &actor(by),
        audit: &node.ctx(),
    };
    cases::register(&node.state, who, input).await.unwrap().id
}

/// A signed-in browser for `user` (with the second factor for administrators).
async fn signed_in(
    node: &TestNode,
    username: &str,
    role: &str,
    org: Option<&Org>,
) -> (User, Browser) {
    let (u, secret) = node
        .user(username, role, org, role.ends_with("admin"))
        .await;
    let b = node.client();
    let p = b.login(&u.username, PASSWORD, secret.as_deref()).await;
    assert_eq!(p.location.as_deref(), Some("/"), "{role} could not log in");
    (u, b)
}

async fn referral_count(node: &TestNode) -> i64 {
    node.state
        .store
        .count_referrals(&RefFilter::default())
        .await
        .unwrap()
}

/// The referral id of a redirect to its page.
fn referral_id(location: Option<&str>) -> Uuid {
    let loc = location.expect("a redirect");
    let rest = loc.strip_prefix("/referrals/").expect("to a referral page");
    rest.split('?').next().unwrap().parse().unwrap()
}

/// Posts the referral form of `case` (to HND's shelter, for shelter and legal help, sending
/// the identity group).
async fn refer(b: &Browser, case: Uuid) -> crate::helpers::Page {
    let path = format!("/cases/{case}/refer");
    b.post_from(
        &path,
        &path,
        &[
            ("destination", "HND"),
            ("dest_org", ""),
            ("dest_service", HND_SHELTER),
            ("reason", "MIGRATION_OR_CHANGE_OF_LOCATION"),
            ("urgency", "PRIORITY"),
            ("needs", "SHELTER"),
            ("needs", "LEGAL"),
            ("field_groups", "IDENTITY"),
            ("message", "Llega a San Pedro Sula la próxima semana."),
        ],
    )
    .await
}

fn no_untranslated(body: &str) {
    for prefix in ["ref-", "msg-", "code-", "nav-"] {
        assert!(
            !body.contains(&format!(">{prefix}")) && !body.contains(&format!(" {prefix}")),
            "an untranslated {prefix} key: {body}"
        );
    }
}

#[tokio::test]
async fn a_caseworker_refers_a_case_through_the_form_and_follows_it() {
    let node = referral_node().await;
    let org = node.org("ASOC1").await;
    let (worker, b) = signed_in(&node, "gestora", "caseworker", Some(&org)).await;
    let with = case_of(&node, &worker, true).await;
    let without = case_of(&node, &worker, false).await;

    // The case page offers the referral; the nav has the referrals.
    let p = b.get(&format!("/cases/{with}")).await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("Referir a otro país"), "refer button");
    assert!(p.body.contains(&format!("href=\"/cases/{with}/refer\"")));
    assert!(p.body.contains(">Referencias</a>"), "nav link");
    assert!(p.body.contains("Este caso no tiene referencias."));

    // The form: the only destination is chosen, with HND's organisations and services and
    // the consent's groups checked.
    let p = b.get(&format!("/cases/{with}/refer")).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let f = &p.body;
    for text in [
        "Honduras",
        HND_ORG_NAME,
        "Albergue",
        "Consentimiento",
        "Datos que se envían",
        "Identidad",
        "Motivo de la referencia",
        "Necesidades",
    ] {
        assert!(f.contains(text), "{text:?} missing from the form");
    }
    assert!(f.contains(
        "id=\"f-field_groups-IDENTITY\" name=\"field_groups\" value=\"IDENTITY\" checked"
    ));
    assert!(f.contains(
        "id=\"f-field_groups-DEMOGRAPHICS\" name=\"field_groups\" value=\"DEMOGRAPHICS\" checked"
    ));
    assert!(!f.contains("value=\"CONTACT\" checked"));
    assert!(
        !f.contains("name=\"override_reason\""),
        "caseworkers cannot override"
    );
    no_untranslated(f);

    // Without a consent for HND: the error names the field, in Spanish; nothing is made.
    let p = refer(&b, without).await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(
        p.body.contains(
            "Consentimiento: La persona no dio su consentimiento para referirla a este país."
        ),
        "{}",
        p.body
    );
    assert!(
        p.body.contains("href=\"#f-consent_id\""),
        "a link to the field"
    );
    assert!(
        p.body.contains("value=\"PRIORITY\" selected"),
        "the input is kept"
    );
    assert_eq!(referral_count(&node).await, 0, "nothing was made");

    // With the consent: sent, and the page shows it pending delivery.
    let p = refer(&b, with).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let id = referral_id(p.location.as_deref());
    assert_eq!(
        p.location.as_deref(),
        Some(format!("/referrals/{id}?notice=referral_sent").as_str())
    );
    assert_eq!(referral_count(&node).await, 1);
    let p = b.get(p.location.as_deref().unwrap()).await;
    assert_eq!(p.status, 200);
    let s = &p.body;
    for text in [
        "Referencia enviada a Honduras",
        "Pendiente de entrega",
        "Referencia enviada. Se entregará",
        HND_ORG_NAME,
        "Albergue",
        "Prioritaria",
        "Migración o cambio de lugar de residencia",
        "Identidad",
        NAME,
        "Llega a San Pedro Sula la próxima semana.",
        "Historial firmado",
        "Referencia registrada",
        "Persona gestora",
        "Retirar la referencia",
        "Versión para imprimir",
    ] {
        assert!(s.contains(text), "{text:?} missing from the referral page");
    }
    // Only the group sent: the demographics the consent also allows were not checked.
    assert!(!s.contains("Datos sociodemográficos</h3>"));
    assert!(s.contains("<code title=\""), "the envelope's hash");
    no_untranslated(s);

    // Listed on the case page and in the sent tab.
    let p = b.get(&format!("/cases/{with}")).await;
    assert!(p.body.contains(&format!("href=\"/referrals/{id}\"")));
    assert!(p.body.contains("Pendiente de entrega"));
    let p = b.get("/referrals?tab=out").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains(&format!("href=\"/referrals/{id}\"")));
    assert!(p.body.contains("Referencias: 1"));
    let p = b.get("/referrals").await;
    assert!(p.body.contains("No hay referencias."), "nothing received");

    // The printable summary: no navigation, the data and the sender, audited as a read.
    let reads_before = reads(&node).await;
    let p = b.get(&format!("/referrals/{id}/print")).await;
    assert_eq!(p.status, 200);
    let pr = &p.body;
    assert!(!pr.contains("<nav"), "no navigation");
    assert!(!pr.contains("<form"), "no forms");
    for text in [
        "Referencia de una persona sobreviviente de trata",
        "Confidencial",
        "Org ASOC1",
        NAME,
        HND_ORG_NAME,
        "Impreso el",
    ] {
        assert!(pr.contains(text), "{text:?} missing from the print page");
    }
    assert_eq!(reads(&node).await, reads_before + 1, "the print is audited");

    // In English through the language switch.
    let p = b
        .post_from("/referrals", "/language", &[("lang", "en")])
        .await;
    assert!(p.status < 400);
    let p = b.get("/referrals?tab=out").await;
    for text in [
        "Referrals between countries",
        "Pending delivery",
        "Received",
        "Sent",
        "Priority",
    ] {
        assert!(
            p.body.contains(text),
            "{text:?} missing from the English list"
        );
    }
    no_untranslated(&p.body);
    let p = b.get(&format!("/referrals/{id}")).await;
    assert!(p.body.contains("Referral sent to Honduras"));
    assert!(p.body.contains("Signed history"));
    no_untranslated(&p.body);

    // Recalled with a note: the note is in the history (sealed, opened for the organisation).
    let p = b
        .post_from(
            &format!("/referrals/{id}"),
            &format!("/referrals/{id}/recall"),
            &[("note", "La persona cambió de planes.")],
        )
        .await;
    assert_eq!(
        p.location.as_deref(),
        Some(format!("/referrals/{id}?notice=referral_recalled").as_str())
    );
    let p = b.get(&format!("/referrals/{id}")).await;
    assert_eq!(p.status, 200, "{}", p.body);
    for text in [
        "Recall in progress",
        "Recall sent",
        "La persona cambió de planes.",
    ] {
        assert!(p.body.contains(text), "{text:?} missing after the recall");
    }
    assert!(!p.body.contains("Recall the referral"), "no second recall");
}

async fn reads(node: &TestNode) -> usize {
    node.audit_actions()
        .await
        .into_iter()
        .filter(|(a, _, _)| a == "referral.read")
        .count()
}

#[tokio::test]
async fn a_referral_under_a_consent_override_shows_in_the_national_administrators_header() {
    let node = referral_node().await;
    let org = node.org("ASOC1").await;
    let (coord, b) = signed_in(&node, "coordinacion", "org_admin", Some(&org)).await;
    let (_, admin) = signed_in(&node, "nacional", "node_admin", None).await;
    let case = case_of(&node, &coord, false).await;

    // Nothing to read yet: the header links the notifications without a count.
    let p = admin.get("/").await;
    assert!(p.body.contains("href=\"/notifications\""));
    assert!(!p.body.contains("sin leer"));

    // A coordinator may send without consent, with a reason.
    let p = b.get(&format!("/cases/{case}/refer")).await;
    assert!(p.body.contains("name=\"override_reason\""));
    assert!(p
        .body
        .contains("no tiene un consentimiento de referencia vigente"));
    let p = b
        .post_from(
            &format!("/cases/{case}/refer"),
            &format!("/cases/{case}/refer"),
            &[
                ("destination", "HND"),
                ("reason", "RETURN_ASSISTANCE"),
                ("urgency", "EMERGENCY"),
                ("needs", "HEALTH"),
                (
                    "override_reason",
                    "Riesgo inminente para su vida; no es posible localizarla para consentir.",
                ),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let id = referral_id(p.location.as_deref());
    let page = b.get(&format!("/referrals/{id}")).await.body;
    assert!(page.contains("Sin consentimiento"));
    assert!(page.contains("Riesgo inminente para su vida"));

    // The national administrator's header counts it; the notification links the referral.
    let p = admin.get("/").await;
    assert!(p.body.contains("1 sin leer"), "{}", p.body);
    let p = admin.get("/notifications").await;
    assert_eq!(p.status, 200);
    assert!(p
        .body
        .contains("Se envió una referencia sin consentimiento"));
    assert!(p.body.contains(&format!("href=\"/referrals/{id}\"")));
    no_untranslated(&p.body);
    // The administrator sees the routing data and the reason, never the person's data.
    let p = admin.get(&format!("/referrals/{id}")).await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("Riesgo inminente para su vida"));
    assert!(!p.body.contains(NAME));
    assert!(p
        .body
        .contains("solo los ven las personas de la organización"));
    let p = admin.get("/referrals?tab=queue").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("Cola nacional"));

    // Marked read: the count goes.
    let p = admin
        .post_from("/notifications", "/notifications/read", &[])
        .await;
    assert_eq!(
        p.location.as_deref(),
        Some("/notifications?notice=notifications_read")
    );
    let p = admin.get("/").await;
    assert!(!p.body.contains("sin leer"));
}

/// A `referral.offer` from HND's `CJVS` to this node's national queue, applied as the inbox
/// worker would; returns the referral's id.
async fn receive_offer(node: &TestNode) -> Uuid {
    use puente_common::referral::{
        ConsentSummary, OfferBody, OrgRef, ReferralData, ReferralSource,
    };
    use puente_common::vocab::codes::{
        ConsentGivenBy, ReferralReason, ReferralUrgency, ServiceType,
    };
    use puente_federation::{Channel, Envelope, ZERO_HASH};
    use puente_node::store::fed_sql::{InboxRow, InboxStatus};

    let now = node.state.clock.now().trunc_subsecs(0);
    let today = now.date_naive();
    let id = Uuid::now_v7();
    let groups = BTreeSet::from([ReferralFieldGroup::Identity]);
    let (p, c) = (person(), case_record());
    let data = ReferralData::build(
        &ReferralSource {
            person: &p,
            case: &c,
            services: &[],
            proceedings: &[],
            notes: &[],
            today,
        },
        &groups,
    );
    let body = OfferBody {
        referral_id: id.hyphenated().to_string(),
        sender_org: OrgRef {
            code: HND_ORG.into(),
            name: HND_ORG_NAME.into(),
        },
        sender_reference: "HND-CJVS-2026-0007".into(),
        dest_org: None,
        dest_service: None,
        reason: ReferralReason::ReturnAssistance,
        urgency: ReferralUrgency::Routine,
        needs: BTreeSet::from([ServiceType::Shelter]),
        message: "Regresa a Quetzaltenango.".into(),
        consent: Some(ConsentSummary {
            given_by: ConsentGivenBy::Person,
            given_on: today - Duration::days(2),
            expires_on: today + Duration::days(90),
            field_groups: groups,
        }),
        expires_on: today + Duration::days(90),
        data,
    };
    let (hnd, gtm) = ("HND".parse().unwrap(), "GTM".parse().unwrap());
    let key = member_key(
        node.state.identity.as_ref(),
        SealKeyPair::derive(node.state.identity.as_ref()).public_key_b64(),
        now,
    );
    let sealed = puente_federation::seal::seal(
        &key,
        &puente_federation::seal::aad(hnd, gtm, "referral.offer", &body.referral_id),
        &serde_json::to_vec(&body).unwrap(),
    )
    .unwrap();
    let env = Envelope {
        id: Uuid::now_v7(),
        origin: hnd,
        destination: gtm,
        channel: Channel::Referral,
        epoch: 1,
        seq: 1,
        prev: ZERO_HASH.into(),
        kind: "referral.offer".into(),
        created_at: now,
        manifest_version: 1,
        payload: serde_json::json!({ "referral_id": body.referral_id, "sealed": sealed }),
        key_id: "HND-2026a".parse().unwrap(),
        sig: String::new(),
    };
    let hash = "a".repeat(64);
    let sql = format!(
        "INSERT INTO fed_inbox (id, origin, channel, epoch, seq, hash, kind, body, received_at, status) \
         VALUES ($1, 'HND', 'referral', 1, 1, '{hash}', 'referral.offer', '{{}}', $2, 'stored')"
    );
    exec(node, &sql, env.id, now).await;
    let row = InboxRow {
        id: env.id,
        origin: hnd,
        channel: Channel::Referral,
        epoch: 1,
        seq: 1,
        hash,
        kind: env.kind.clone(),
        body: Some(serde_json::to_string(&env).unwrap()),
        received_at: now,
        status: InboxStatus::Stored,
        reason: None,
        processed_at: None,
    };
    assert!(
        puente_node::referrals::inbound::apply_remote(&node.state, &row, &env)
            .await
            .unwrap()
    );
    id
}

#[tokio::test]
async fn a_received_referral_is_assigned_from_the_queue_then_declined_or_accepted() {
    let node = referral_node().await;
    let org = node.org("ASOC1").await;
    let (_, admin) = signed_in(&node, "nacional", "node_admin", None).await;
    let (_, worker) = signed_in(&node, "gestora", "caseworker", Some(&org)).await;
    let id = receive_offer(&node).await;

    // In the national queue, with the assignment form; the routing data only.
    let p = admin.get("/").await;
    assert!(p.body.contains("1 sin leer"), "{}", p.body);
    let p = admin.get("/referrals?tab=queue").await;
    assert!(p.body.contains(&format!("href=\"/referrals/{id}\"")));
    assert!(p.body.contains("En la cola nacional"));
    let p = admin.get(&format!("/referrals/{id}")).await;
    assert_eq!(p.status, 200);
    for text in [
        "Referencia recibida de Honduras",
        "Recibida",
        HND_ORG_NAME,
        "HND-CJVS-2026-0007",
        "Asistencia para el retorno",
        "Referencia recibida",
        "Honduras (otro país)",
        "Asignar a una organización",
    ] {
        assert!(
            p.body.contains(text),
            "{text:?} missing from the queue's view"
        );
    }
    assert!(
        !p.body.contains(NAME),
        "no victim data for the administrators"
    );
    no_untranslated(&p.body);
    let p = admin
        .post_from(
            &format!("/referrals/{id}"),
            &format!("/referrals/{id}/assign"),
            &[("org_id", "")],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("Organización: Este campo es obligatorio."));
    let p = admin
        .post_from(
            &format!("/referrals/{id}"),
            &format!("/referrals/{id}/assign"),
            &[("org_id", &org.id.to_string())],
        )
        .await;
    assert_eq!(
        p.location.as_deref(),
        Some(format!("/referrals/{id}?notice=referral_assigned").as_str())
    );

    // The organisation's caseworker is told, reads the data and may answer.
    let p = worker.get("/").await;
    assert!(p.body.contains("1 sin leer"), "{}", p.body);
    let p = worker.get("/notifications").await;
    assert!(p.body.contains("Llegó una referencia"));
    let p = worker.get(&format!("/referrals/{id}")).await;
    for text in [
        NAME,
        "Regresa a Quetzaltenango.",
        "Aceptar la referencia",
        "Rechazar la referencia",
        "Asignada a una organización",
    ] {
        assert!(
            p.body.contains(text),
            "{text:?} missing from the caseworker's view"
        );
    }
    // The printable summary carries the sender's contact from HND's directory.
    let p = worker.get(&format!("/referrals/{id}/print")).await;
    assert!(p.body.contains("Tel. +504 2550 0000"), "{}", p.body);
    assert!(p.body.contains(NAME));

    // A decline needs its reason: named in Spanish, nothing changes.
    let p = worker
        .post_from(
            &format!("/referrals/{id}"),
            &format!("/referrals/{id}/decline"),
            &[("reason", ""), ("note", "Sin cupo")],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(p
        .body
        .contains("Motivo del rechazo: Este campo es obligatorio."));
    assert!(p.body.contains("Sin cupo"), "the note is kept");
    assert!(p.body.contains("<details open>"), "the failed form is open");

    // Accepted: a linked case opens, shown on the page.
    let p = worker
        .post_from(
            &format!("/referrals/{id}"),
            &format!("/referrals/{id}/accept"),
            &[],
        )
        .await;
    assert_eq!(
        p.location.as_deref(),
        Some(format!("/referrals/{id}?notice=referral_accepted").as_str())
    );
    let p = worker.get(p.location.as_deref().unwrap()).await;
    for text in [
        "Aceptada",
        "Caso abierto en este país",
        "Informar una novedad",
        "Cerrar la referencia",
    ] {
        assert!(p.body.contains(text), "{text:?} missing after accepting");
    }
    assert!(
        p.body.contains("href=\"/cases/"),
        "a link to the linked case"
    );
    assert!(!p.body.contains("Aceptar la referencia"));
    no_untranslated(&p.body);
}

/// Runs one statement on the test's database with an id bound as `$1` and a time as `$2`.
async fn exec(node: &TestNode, sql: &str, id: Uuid, at: DateTime<Utc>) {
    if node.db_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&node.db_url).await.unwrap();
        sqlx::query(sql)
            .bind(id)
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&node.db_url).await.unwrap();
        sqlx::query(sql)
            .bind(id)
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
}
