//! The national administrator's federation pages (`/federation`, `/federation/evidence`) on a
//! node that joined a federation in-process: a governance of two keys signs a manifest with
//! this node (GTM) and one peer (HND), the node joins it with `federation::admin::join`, and its
//! run-time federation state is loaded (no listener, no workers), so that the effect of each
//! decision on the trust the node acts on can be checked at once.

use std::sync::Arc;

use chrono::{Duration, SubsecRound};
use fantoccini::Locator;
use puente_federation::transport::generate_tls_identity;
use puente_federation::{
    Agreement, AgreementKind, Channel, Manifest, Member, MemberKey, MemberRole, MemberStatus,
    SigningIdentity,
};
use puente_node::clock::SystemClock;
use puente_node::config::{DeliveryConfig, FederationConfig};
use puente_node::federation::{admin, evidence, Federation};
use puente_node::store::fed_sql::{EvidenceDirection, EvidenceEvent};

use crate::browser::{browser, screenshot, submit, wait_for, wait_path};
use crate::helpers::{Browser, TestNode, PASSWORD};

const FEDERATION: &str = "puente-prueba";

/// A node for GTM, configured for a federation (its own TLS identity), that joined
/// [`FEDERATION`] (manifest version 1: GTM and HND, agreement `dir-all`), with the run-time
/// federation state loaded from its store.
async fn federated_node() -> TestNode {
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
        signing_keys: vec![MemberKey {
            id: key.key_id().clone(),
            public_key: key.public_key_b64(),
            valid_from: now - Duration::days(1),
            valid_until: None,
        }],
        revoked_keys: vec![],
        seal_keys: vec![],
    };
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
        agreements: vec![Agreement {
            id: "dir-all".into(),
            kind: AgreementKind::Directory,
            members: vec!["GTM".parse().unwrap(), "HND".parse().unwrap()],
            hub: None,
            period: None,
        }],
    };
    let signed = tg.sign(manifest);
    admin::join(
        node.state.store.as_ref(),
        &node.ctx(),
        &governance,
        &governance.fingerprint(),
        &signed,
    )
    .await
    .unwrap();
    let fed = Federation::load(&node.state.config).unwrap().unwrap();
    fed.refresh(node.state.store.as_ref()).await.unwrap();
    node.state.federation.set(Arc::new(fed)).unwrap();
    node
}

/// The anchor fingerprint the node trusts.
async fn fingerprint(node: &TestNode) -> String {
    admin::anchor(node.state.store.as_ref())
        .await
        .unwrap()
        .unwrap()
        .fingerprint()
}

/// A signed-in browser for a new user of `role` (node-wide roles: no organisation).
async fn signed_in(node: &TestNode, username: &str, role: &str) -> Browser {
    let org = if matches!(role, "org_admin" | "caseworker") {
        Some(node.org("ASOC1").await)
    } else {
        None
    };
    let (u, secret) = node
        .user(username, role, org.as_ref(), role.ends_with("admin"))
        .await;
    let b = node.client();
    let p = b.login(&u.username, PASSWORD, secret.as_deref()).await;
    assert_eq!(p.location.as_deref(), Some("/"), "{role} could not log in");
    b
}

fn trust(node: &TestNode) -> puente_node::federation::TrustSnapshot {
    node.state.federation.get().unwrap().trust().unwrap()
}

async fn fed_audit(node: &TestNode) -> Vec<(String, String, String)> {
    node.audit_actions()
        .await
        .into_iter()
        .filter(|(a, _, _)| a.starts_with("federation.") && a != "federation.manifest_installed")
        .collect()
}

/// Appends `n` evidence entries (envelopes and acks on the directory stream with HND);
/// returns the message id of the first.
async fn append_evidence(node: &TestNode, n: u64) -> Option<uuid::Uuid> {
    let now = node.state.clock.now();
    let directions = [
        EvidenceDirection::Sent,
        EvidenceDirection::AckReceived,
        EvidenceDirection::Received,
        EvidenceDirection::AckSent,
        EvidenceDirection::RefusedIn,
    ];
    let mut first_id = None;
    for i in 0..n {
        let direction = directions[(i % 5) as usize];
        let ack = matches!(
            direction,
            EvidenceDirection::AckReceived | EvidenceDirection::AckSent
        );
        let id = uuid::Uuid::now_v7();
        if first_id.is_none() {
            first_id = Some(id);
        }
        node.state
            .store
            .fed_evidence_append(&EvidenceEvent {
                at: now,
                direction,
                peer: "HND".parse().unwrap(),
                channel: Channel::Directory,
                epoch: 1,
                stream_seq: i / 5 + 1,
                message_id: (!ack).then_some(id),
                object_hash: puente_federation::sha256_hex(format!("objeto {i}").as_bytes()),
            })
            .await
            .unwrap();
    }
    first_id
}

#[tokio::test]
async fn the_page_shows_the_manifest_and_members_in_spanish_and_english() {
    let node = federated_node().await;
    let admin = signed_in(&node, "admin", "node_admin").await;
    let p = admin.get("/federation").await;
    assert_eq!(p.status, 200);
    let b = &p.body;
    assert!(b.contains("<title>Federación — Puente</title>"), "{b}");
    assert!(
        b.contains("aria-current=\"page\">Federación</a>"),
        "nav link"
    );
    for text in [
        FEDERATION,
        "Manifiesto",
        "Vigente",
        "2 firmas de 2 claves",
        "Guatemala",
        "Honduras",
        "127.0.0.3:7443",
        "Nodo nacional",
        "Activo",
        "Sin aprobar",
        "este nodo",
        "HND-2026a",
        "dir-all",
        "Directorio de servicios",
        "Falta aprobar 1 miembro(s) activo(s) y 1 acuerdo(s)",
        "Todavía no hay envíos",
        "Ningún miembro rechazó ni rehusó mensajes de este nodo.",
        "Todavía no se recibió ningún mensaje.",
        "Ver el registro de evidencias de la federación",
    ] {
        assert!(b.contains(text), "{text:?} missing from the page");
    }
    assert!(b.contains(&fingerprint(&node).await), "anchor fingerprint");
    assert!(
        b.contains("action=\"/federation/approve\""),
        "approve buttons"
    );
    assert!(b.contains("action=\"/federation/block\""), "block forms");
    assert!(!b.contains("fed-"), "an untranslated key: {b}");

    // The same page in English.
    let p = admin
        .post_from("/federation", "/language", &[("lang", "en")])
        .await;
    assert!(p.status < 400);
    let b = admin.get("/federation").await.body;
    for text in [
        "Members",
        "Agreements",
        "Valid",
        "Not approved",
        "Service directory",
    ] {
        assert!(b.contains(text), "{text:?} missing from the English page");
    }
    assert!(!b.contains("fed-"), "an untranslated key: {b}");
}

#[tokio::test]
async fn approve_block_and_unblock_through_the_forms_apply_at_once_and_are_audited() {
    let node = federated_node().await;
    let admin = signed_in(&node, "admin", "node_admin").await;
    let hnd = "HND".parse().unwrap();
    assert!(!trust(&node).local.approved_peers.contains(&hnd));
    assert!(trust(&node)
        .destinations(
            node.state.config.country,
            Channel::Directory,
            node.state.clock.now()
        )
        .is_empty());

    let p = admin
        .post_from(
            "/federation",
            "/federation/approve",
            &[("kind", "peer"), ("subject", "HND")],
        )
        .await;
    assert_eq!(
        p.location.as_deref(),
        Some("/federation?notice=federation_peer_approved")
    );
    let page = admin.get(p.location.as_deref().unwrap()).await.body;
    assert!(page.contains("Miembro aprobado."), "notice");
    assert!(page.contains("por admin"), "who approved");
    assert!(trust(&node).local.approved_peers.contains(&hnd));

    let p = admin
        .post_from(
            "/federation",
            "/federation/approve",
            &[("kind", "agreement"), ("subject", "dir-all")],
        )
        .await;
    assert_eq!(
        p.location.as_deref(),
        Some("/federation?notice=federation_agreement_approved")
    );
    // Approved peer and agreement: the node now sends its directory to HND.
    let now = node.state.clock.now();
    assert_eq!(
        trust(&node).destinations(node.state.config.country, Channel::Directory, now),
        vec![hnd]
    );
    let page = admin.get("/federation").await.body;
    assert!(!page.contains("Falta aprobar"), "nothing left to approve");

    // Block the peer (the form in its row), then a key (the free form).
    let p = admin
        .post_from(
            "/federation",
            "/federation/block",
            &[
                ("subject", "HND"),
                ("reason", "Incidente de seguridad en revisión"),
                ("place", "row"),
            ],
        )
        .await;
    assert_eq!(
        p.location.as_deref(),
        Some("/federation?notice=federation_blocked")
    );
    assert!(trust(&node).local.blocked_peers.contains(&hnd));
    assert!(trust(&node)
        .destinations(node.state.config.country, Channel::Directory, now)
        .is_empty());
    let page = admin
        .get("/federation?notice=federation_blocked")
        .await
        .body;
    assert!(page.contains("Bloqueo aplicado de inmediato."));
    assert!(page.contains("Incidente de seguridad en revisión"));
    assert!(page.contains("action=\"/federation/unblock\""));

    let p = admin
        .post_from(
            "/federation",
            "/federation/block",
            &[("subject", "HND-2026a"), ("reason", "Clave comprometida")],
        )
        .await;
    assert_eq!(
        p.location.as_deref(),
        Some("/federation?notice=federation_blocked")
    );
    assert!(trust(&node)
        .local
        .blocked_keys
        .contains(&"HND-2026a".parse().unwrap()));

    let p = admin
        .post_from("/federation", "/federation/unblock", &[("subject", "HND")])
        .await;
    assert_eq!(
        p.location.as_deref(),
        Some("/federation?notice=federation_unblocked")
    );
    assert!(!trust(&node).local.blocked_peers.contains(&hnd));
    assert_eq!(
        trust(&node).destinations(node.state.config.country, Channel::Directory, now),
        vec![hnd]
    );
    let blocks = node.state.store.fed_blocks().await.unwrap();
    assert_eq!(blocks.len(), 1, "the key stays blocked");
    assert_eq!(blocks[0].subject, "HND-2026a");

    let audit = fed_audit(&node).await;
    let actions: Vec<&str> = audit.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "federation.peer_approved",
            "federation.agreement_approved",
            "federation.peer_blocked",
            "federation.key_blocked",
            "federation.peer_unblocked",
        ]
    );
    assert!(audit
        .iter()
        .all(|(_, actor, outcome)| actor == "admin" && outcome == "success"));
}

#[tokio::test]
async fn only_node_administrators_decide_and_auditors_only_look() {
    let node = federated_node().await;
    let worker = signed_in(&node, "gestora", "caseworker").await;
    assert_eq!(worker.get("/federation").await.status, 403);
    assert_eq!(worker.get("/federation/evidence").await.status, 403);
    let p = worker
        .post_from(
            "/account",
            "/federation/approve",
            &[("kind", "peer"), ("subject", "HND")],
        )
        .await;
    assert_eq!(p.status, 403);
    let p = worker
        .post_from(
            "/account",
            "/federation/block",
            &[("subject", "HND"), ("reason", "no debería poder")],
        )
        .await;
    assert_eq!(p.status, 403);

    let auditor = signed_in(&node, "auditora", "auditor").await;
    let p = auditor.get("/federation").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("Honduras"));
    assert!(
        !p.body.contains("action=\"/federation/approve\""),
        "no buttons"
    );
    assert!(!p.body.contains("action=\"/federation/block\""), "no forms");
    assert_eq!(auditor.get("/federation/evidence").await.status, 200);
    let p = auditor
        .post_from("/federation", "/federation/unblock", &[("subject", "HND")])
        .await;
    assert_eq!(p.status, 403);

    assert!(node.state.store.fed_approvals().await.unwrap().is_empty());
    assert!(node.state.store.fed_blocks().await.unwrap().is_empty());
    assert!(fed_audit(&node).await.is_empty());
    let denied = node
        .audit_actions()
        .await
        .into_iter()
        .filter(|(a, _, o)| a == "access.denied" && o == "denied")
        .count();
    assert_eq!(denied, 5, "each refusal is audited");
}

#[tokio::test]
async fn bad_input_changes_nothing_and_is_explained_in_spanish() {
    let node = federated_node().await;
    let admin = signed_in(&node, "admin", "node_admin").await;

    // A block without a reason, from the peer's row: the error is next to that row's field.
    let p = admin
        .post_from(
            "/federation",
            "/federation/block",
            &[("subject", "HND"), ("reason", "   "), ("place", "row")],
        )
        .await;
    assert_eq!(p.status, 422);
    let b = &p.body;
    assert!(b.contains("No se hizo ningún cambio"), "{b}");
    assert!(b.contains("Motivo del bloqueo: Este campo es obligatorio."));
    assert!(b.contains("id=\"f-reason-HND-error\""));
    assert!(b.contains("aria-invalid=\"true\""));
    assert!(b.contains("href=\"#f-reason-HND\""));

    // From the free form: the same, next to its own fields.
    let p = admin
        .post_from(
            "/federation",
            "/federation/block",
            &[("subject", ""), ("reason", "")],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("id=\"f-subject-error\"") && p.body.contains("id=\"f-reason-error\""));

    /// A form posted to a path, and the message expected on the page.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 5] = [
        (
            "/federation/approve",
            &[("kind", "peer"), ("subject", "SLV")],
            "No es un miembro del manifiesto.",
        ),
        (
            "/federation/approve",
            &[("kind", "agreement"), ("subject", "ref-GTM-SLV")],
            "No es un acuerdo del manifiesto.",
        ),
        (
            "/federation/approve",
            &[("kind", "todo"), ("subject", "HND")],
            "Tipo de aprobación: El valor no es válido.",
        ),
        (
            "/federation/block",
            &[("subject", "Honduras"), ("reason", "motivo")],
            "No es el código de un miembro (HND) ni de una clave (HND-2026a).",
        ),
        (
            "/federation/unblock",
            &[("subject", "HND")],
            "Miembro o clave: No está bloqueado.",
        ),
    ];
    for (path, form, message) in cases {
        let p = admin.post_from("/federation", path, form).await;
        assert_eq!(p.status, 422, "{path} {form:?}");
        assert!(
            p.body.contains(message),
            "{path} {form:?}: {message:?} missing"
        );
    }
    assert!(node.state.store.fed_approvals().await.unwrap().is_empty());
    assert!(node.state.store.fed_blocks().await.unwrap().is_empty());
    assert!(fed_audit(&node).await.is_empty(), "nothing was changed");
    assert!(trust(&node).local.approved_peers.is_empty());
}

#[tokio::test]
async fn a_node_outside_any_federation_explains_how_to_join() {
    let node = TestNode::start().await;
    let admin = signed_in(&node, "admin", "node_admin").await;
    let p = admin.get("/federation").await;
    assert_eq!(p.status, 200);
    for text in [
        "todavía no forma parte de ninguna federación",
        "Cómo unirse a una federación",
        "puente federation member-info",
        "puente federation join --anchor anchor.json --fingerprint",
        "puente peer approve HND",
        "[federation]",
    ] {
        assert!(p.body.contains(text), "{text:?} missing");
    }
    let p = admin
        .post_from(
            "/federation",
            "/federation/approve",
            &[("kind", "peer"), ("subject", "HND")],
        )
        .await;
    assert_eq!(p.status, 409);
    assert!(p
        .body
        .contains("Este nodo todavía no se unió a una federación"));
    let p = admin.get("/federation/evidence").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("El registro de evidencias está vacío."));
}

#[tokio::test]
async fn the_evidence_log_is_listed_newest_first_with_its_seals_and_verification() {
    let node = federated_node().await;
    let store = node.state.store.as_ref();
    let now = node.state.clock.now();
    let first_id = append_evidence(&node, 55).await;
    let sealed = evidence::seal(store, node.state.config.country, &node.state.identity, now)
        .await
        .unwrap();
    assert_eq!(sealed, Some(55));

    let auditor = signed_in(&node, "auditora", "auditor").await;
    let p = auditor.get("/federation/evidence").await;
    assert_eq!(p.status, 200);
    let b = &p.body;
    assert!(b.contains("<title>Registro de evidencias de la federación — Puente</title>"));
    assert!(
        b.contains("Cadena íntegra: 55 anotaciones y 1 sellos verificados."),
        "{b}"
    );
    assert!(b.contains("De la más reciente a la más antigua; 55 en total."));
    for text in [
        "Mensaje enviado",
        "Confirmación recibida",
        "Mensaje recibido",
        "Mensaje recibido rehusado",
        "Directorio",
    ] {
        assert!(b.contains(text), "{text:?} missing");
    }
    // Newest first: entry 55 before entry 6, entries 1–5 on the next page.
    let row = |n: i64| format!("<th scope=\"row\" class=\"num\">{n}</th>");
    let (i55, i6) = (b.find(&row(55)).unwrap(), b.find(&row(6)).unwrap());
    assert!(i55 < i6);
    assert!(!b.contains(&row(5)));
    assert!(b.contains("href=\"/federation/evidence?before=6\""));
    // Hashes shortened, whole in the title: the objects', and the seal's root (the hash of
    // the last entry), with its key.
    let abbr = |h: &str| format!("<abbr title=\"{h}\">{}…</abbr>", &h[..12]);
    let object = puente_federation::sha256_hex(b"objeto 54");
    assert!(b.contains(&abbr(&object)), "object hash of entry 55");
    let (_, root) = node.state.store.fed_evidence_head().await.unwrap().unwrap();
    assert!(b.contains(&abbr(&root)), "seal root");
    assert!(b.contains("GTM-2026a"));
    assert!(b.contains(&now.date_naive().to_string()));

    let p = auditor.get("/federation/evidence?before=6").await;
    assert!(p.body.contains(&row(1)) && p.body.contains(&row(5)) && !p.body.contains(&row(6)));
    assert!(
        p.body.contains(&first_id.unwrap().to_string()),
        "message ids in full"
    );
    // Oldest first from an entry.
    let p = auditor.get("/federation/evidence?after=50").await;
    let b = &p.body;
    assert!(b.contains("De la más antigua a la más reciente"));
    assert!(b.find(&row(51)).unwrap() < b.find(&row(55)).unwrap());
    assert!(!b.contains(&row(50)));
    assert!(b.contains("href=\"/federation/evidence?after=0\""));
}

/// The node administrator opens the federation page in Chromium and approves the peer.
#[tokio::test]
async fn a_node_administrator_approves_a_peer_in_chromium() {
    if std::env::var("SKIP_BROWSER_TESTS").as_deref() == Ok("1") {
        eprintln!("browser test skipped on purpose (SKIP_BROWSER_TESTS=1)");
        return;
    }
    let node = federated_node().await;
    let (_, secret) = node.user("admin", "node_admin", None, true).await;
    let secret = secret.unwrap();
    append_evidence(&node, 3).await;
    let (c, _driver, _profile) = browser().await;
    let base = node.base.clone();
    let result = async {
        crate::browser::log_in_with_code(&c, &base, "admin", PASSWORD, &secret).await?;
        c.find(Locator::XPath("//nav//a[normalize-space()='Federación']"))
            .await?
            .click()
            .await?;
        wait_path(&c, "/federation").await?;
        assert_eq!(c.title().await?, "Federación — Puente");
        let src = c.source().await?;
        assert!(src.contains(FEDERATION) && src.contains("Honduras"));
        screenshot(&c, "30-federation").await?;
        submit(
            &c,
            "#member-HND form[action='/federation/approve'] button[type=submit]",
        )
        .await?;
        wait_for(&c, "[role=status]").await?;
        assert!(c.source().await?.contains("Miembro aprobado."));
        c.execute(
            "document.getElementById('sec-members').scrollIntoView();",
            vec![],
        )
        .await?;
        screenshot(&c, "31-federation-members").await?;
        c.find(Locator::XPath(
            "//a[normalize-space()='Ver el registro de evidencias de la federación']",
        ))
        .await?
        .click()
        .await?;
        wait_path(&c, "/federation/evidence").await?;
        assert!(c.source().await?.contains("Cadena íntegra: 3 anotaciones"));
        screenshot(&c, "32-federation-evidence").await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = c.close().await;
    result.unwrap();
    assert!(trust(&node)
        .local
        .approved_peers
        .contains(&"HND".parse().unwrap()));
}
