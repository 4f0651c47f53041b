//! E-mail notices through SMTP: a minimal SMTP server in the test (127.0.0.1, no TLS) receives
//! what the node sends (`[smtp] security = "none"`), and the tests read it.
//!
//! Covered: a referral's notice reaches the user who gave an address (subject, the kind of
//! notice and the link, and nothing of the referral: no names, case number or country), the
//! user without an address gets nothing, each notice is e-mailed once; with the server down
//! the notice stays and goes out at a later run; notices older than 24 hours are not sent; the
//! loop sends soon after a notification is written; the "Mi cuenta" field (set, refused,
//! removed, audited; absent where `[smtp]` is not configured).

use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use base64::Engine;
use chrono::{Duration, SubsecRound};
use puente_common::vocab::codes::ConsentScope;
use puente_common::CountryCode;
use puente_federation::seal::SealKeyPair;
use puente_federation::transport::generate_tls_identity;
use puente_federation::{
    Agreement, AgreementKind, Manifest, Member, MemberKey, MemberRole, MemberStatus,
    SigningIdentity,
};
use puente_node::clock::SystemClock;
use puente_node::config::{DeliveryConfig, FederationConfig, SmtpConfig, SmtpSecurity};
use puente_node::federation::Federation;
use puente_node::mail::{self, MailRun};
use puente_node::store::fed_sql::ApprovalKind;
use puente_node::store::ref_sql::{NotificationRow, RefChange};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use uuid::Uuid;

use crate::cases::{case_record, consent, person, DOCUMENT, FAMILY, NAME};
use crate::helpers::{TestNode, PASSWORD};

// ---------------------------------------------------------------- a minimal SMTP server

/// One message as the server received it.
#[derive(Debug, Clone)]
struct Mail {
    to: Vec<String>,
    /// The message as sent (headers and body), dot-unstuffed.
    data: String,
}

impl Mail {
    fn subject(&self) -> String {
        self.data
            .lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .unwrap_or_default()
            .to_owned()
    }

    /// The body, decoded from its transfer encoding.
    fn body(&self) -> String {
        let (head, body) = self
            .data
            .split_once("\r\n\r\n")
            .or_else(|| self.data.split_once("\n\n"))
            .unwrap();
        let encoding = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Transfer-Encoding: "))
            .unwrap_or("7bit")
            .to_ascii_lowercase();
        match encoding.as_str() {
            "base64" => {
                let joined: String = body.split_whitespace().collect();
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(joined)
                        .unwrap(),
                )
                .unwrap()
            }
            "quoted-printable" => {
                let soft = body.replace("=\r\n", "").replace("=\n", "");
                let b = soft.as_bytes();
                let mut out = Vec::new();
                let mut i = 0;
                while i < b.len() {
                    if b[i] == b'=' && i + 3 <= b.len() {
                        if let Ok(v) = u8::from_str_radix(&soft[i + 1..i + 3], 16) {
                            out.push(v);
                            i += 3;
                            continue;
                        }
                    }
                    out.push(b[i]);
                    i += 1;
                }
                String::from_utf8(out).unwrap()
            }
            _ => body.to_owned(),
        }
    }
}

type Inbox = Arc<Mutex<Vec<Mail>>>;

/// An SMTP server on 127.0.0.1 that accepts everything and keeps the messages.
struct SmtpServer {
    port: u16,
    mails: Inbox,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SmtpServer {
    /// A free port with nothing listening on it yet (the server "down").
    async fn down() -> SmtpServer {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        SmtpServer {
            port,
            mails: Arc::default(),
            task: None,
        }
    }

    async fn up() -> SmtpServer {
        let mut s = Self::down().await;
        s.start().await;
        s
    }

    /// Starts listening on the server's port.
    async fn start(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        let mails = self.mails.clone();
        self.task = Some(tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(session(sock, mails.clone()));
            }
        }));
    }

    fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    fn config(&self) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: self.port,
            security: SmtpSecurity::None,
            username: None,
            password: None,
            from: "Puente <avisos@puente.example.org>".into(),
            base_url: "https://puente.example.org/".into(),
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// One SMTP conversation: greeting, EHLO, MAIL, RCPT, DATA, QUIT.
async fn session(sock: tokio::net::TcpStream, mails: Inbox) {
    let (r, mut w) = sock.into_split();
    let mut lines = BufReader::new(r).lines();
    let _ = w.write_all(b"220 prueba.local ESMTP\r\n").await;
    let mut to = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250 prueba.local\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            to.clear();
            b"250 OK\r\n"
        } else if let Some(rcpt) = line.get(8..).filter(|_| upper.starts_with("RCPT TO:")) {
            to.push(
                rcpt.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned(),
            );
            b"250 OK\r\n"
        } else if upper == "DATA" {
            let _ = w
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await;
            let mut data = String::new();
            while let Ok(Some(l)) = lines.next_line().await {
                if l == "." {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(&l));
                data.push_str("\r\n");
            }
            mails.lock().unwrap().push(Mail {
                to: std::mem::take(&mut to),
                data,
            });
            b"250 OK queued\r\n"
        } else if upper == "RSET" || upper == "NOOP" {
            b"250 OK\r\n"
        } else if upper == "QUIT" {
            let _ = w.write_all(b"221 Bye\r\n").await;
            break;
        } else {
            b"502 Command not implemented\r\n"
        };
        if w.write_all(reply).await.is_err() {
            break;
        }
    }
}

// ---------------------------------------------------------------- helpers

/// Sets `user`'s address for notices directly in the store.
async fn set_address(node: &TestNode, user: Uuid, email: &str) {
    let ev = node
        .ctx()
        .event("account.notice_email", puente_node::audit::Outcome::Success);
    node.state
        .store
        .set_notice_email(user, email, node.state.clock.now(), &ev)
        .await
        .unwrap();
}

/// Writes a notification of `kind` for `user`, created `ago` before now.
async fn notification(node: &TestNode, user: Uuid, kind: &str, ago: Duration) -> Uuid {
    let id = Uuid::now_v7();
    node.state
        .store
        .ref_apply(RefChange {
            notify: vec![NotificationRow {
                id,
                user_id: user,
                kind: kind.into(),
                referral_id: None,
                created_at: node.state.clock.now() - ago,
                read_at: None,
            }],
            ..RefChange::default()
        })
        .await
        .unwrap();
    id
}

async fn emailed(node: &TestNode, id: Uuid) -> bool {
    let at: Option<chrono::DateTime<chrono::Utc>> = on_db!(node, |pool| sqlx::query_scalar(
        "SELECT emailed_at FROM notifications WHERE id = $1"
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap());
    at.is_some()
}

async fn run(node: &TestNode) -> MailRun {
    mail::send_pending(&node.state).await.unwrap()
}

async fn node_with(smtp: Option<SmtpConfig>) -> TestNode {
    TestNode::start_with(Arc::new(SystemClock), move |c| c.smtp = smtp).await
}

// ---------------------------------------------------------------- a referral's notice

fn gtm() -> CountryCode {
    "GTM".parse().unwrap()
}

fn hnd() -> CountryCode {
    "HND".parse().unwrap()
}

fn member_key(
    id: &SigningIdentity,
    public_key: String,
    now: chrono::DateTime<chrono::Utc>,
) -> MemberKey {
    MemberKey {
        id: id.key_id().clone(),
        public_key,
        valid_from: now - Duration::days(1),
        valid_until: None,
    }
}

/// A GTM node in a federation with HND (a `referral` agreement, approved here), its
/// `[smtp]` pointing at `smtp`, as in `referrals.rs`.
async fn federated_node(smtp: SmtpConfig) -> TestNode {
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
        c.smtp = Some(smtp);
    })
    .await;
    let now = node.state.clock.now().trunc_subsecs(0);
    let tg = crate::helpers::TestGovernance::new();
    let governance = tg.governance.clone();
    let hnd_key = SigningIdentity::generate("HND-2026a".parse().unwrap());
    let hnd_tls = generate_tls_identity(hnd(), &["127.0.0.3".into()]).unwrap();
    let member = |id: &str, endpoint: &str, pin: &str, key: &SigningIdentity| Member {
        id: id.parse().unwrap(),
        name: format!("Nodo {id}"),
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
                "https://127.0.0.1:7443",
                &gtm_pin,
                node.state.identity.as_ref(),
            ),
            member("HND", "https://127.0.0.3:7443", &hnd_tls.pin, &hnd_key),
        ],
        agreements: vec![Agreement {
            id: "ref-gh".into(),
            kind: AgreementKind::Referral,
            members: vec![gtm(), hnd()],
            hub: None,
            period: None,
        }],
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
    node
}

async fn api(node: &TestNode, token: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1{path}", node.base);
    let req = match method {
        "GET" => http.get(url),
        _ => http.post(url).json(&body),
    };
    let r = req.bearer_auth(token).send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_referral_notice_is_emailed_once_to_who_gave_an_address_and_carries_no_victim_data() {
    let smtp = SmtpServer::up().await;
    let node = federated_node(smtp.config()).await;
    let asoc = node.org("ASOC1").await;
    let (worker, _) = node.user("gestora", "caseworker", Some(&asoc), false).await;
    let (coord, _) = node
        .user("coordinacion", "org_admin", Some(&asoc), false)
        .await;
    let (national, _) = node.user("nacional", "node_admin", None, false).await;
    let (quiet, _) = node.user("nacional-dos", "node_admin", None, false).await;
    set_address(&node, national.id, "nacional@mp.gob.gt").await;
    let worker = node.token(worker.id, 1).await;
    let coord = node.token(coord.id, 1).await;

    // A case, and a referral to HND without consent: the coordinator overrides, and the
    // national administrators are told.
    let (status, case) = api(
        &node,
        &worker,
        "POST",
        "/cases",
        json!({
            "person": person(),
            "case": case_record(),
            "consents": [consent(ConsentScope::CaseManagement)],
        }),
    )
    .await;
    assert_eq!(status, 201, "{case}");
    let case_id = case["id"].as_str().unwrap().to_owned();
    let (_, read) = api(
        &node,
        &worker,
        "GET",
        &format!("/cases/{case_id}"),
        json!({}),
    )
    .await;
    let number = read["number"].as_str().unwrap().to_owned();
    assert!(!number.is_empty());
    let (status, sent) = api(
        &node,
        &coord,
        "POST",
        &format!("/cases/{case_id}/referrals"),
        json!({
            "destination": "HND",
            "reason": "MIGRATION_OR_CHANGE_OF_LOCATION",
            "urgency": "PRIORITY",
            "needs": ["SHELTER"],
            "message": "La persona viaja la próxima semana",
            "override_reason": "La persona corre peligro inminente",
        }),
    )
    .await;
    assert_eq!(status, 201, "{sent}");
    let referral_id = sent["referral"]["summary"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let notices = node.state.store.notifications(quiet.id, 10).await.unwrap();
    assert_eq!(notices.len(), 1, "both administrators are notified");
    assert_eq!(notices[0].kind, "consent_override");

    let r = run(&node).await;
    assert_eq!((r.sent, r.failed), (1, 0), "{r:?}");
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "only the administrator with an address");
    let m = &mails[0];
    assert_eq!(m.to, ["nacional@mp.gob.gt"]);
    assert_eq!(m.subject(), "Puente: tiene un aviso nuevo");
    let body = m.body();
    assert_eq!(
        body.replace("\r\n", "\n").trim_end(),
        "Se envió una referencia sin consentimiento\n\nhttps://puente.example.org/notifications",
        "the kind of notice and the link, nothing else"
    );
    for secret in [
        NAME,
        FAMILY,
        DOCUMENT,
        "Xiomara",
        "Tzul",
        number.as_str(),
        "HND",
        "Honduras",
        "ASOC1",
        referral_id.as_str(),
        case_id.as_str(),
        "peligro",
        "viaja",
    ] {
        assert!(!m.data.contains(secret), "{secret:?} in the e-mail");
        assert!(!body.contains(secret), "{secret:?} in the e-mail body");
    }

    // Once only.
    let r = run(&node).await;
    assert_eq!(r, MailRun::default());
    assert_eq!(smtp.mails().len(), 1);
    // The notice without an address stays unsent (until it is too old to send).
    let quiet_notice = notices[0].id;
    assert!(!emailed(&node, quiet_notice).await);
}

// ---------------------------------------------------------------- failures, age, the loop

#[tokio::test]
async fn with_the_server_down_a_notice_waits_and_goes_out_once_it_is_up() {
    let mut smtp = SmtpServer::down().await;
    let node = node_with(Some(smtp.config())).await;
    let asoc = node.org("ASOC1").await;
    let (ana, _) = node.user("ana", "caseworker", Some(&asoc), false).await;
    set_address(&node, ana.id, "ana@asoc1.org.gt").await;
    // Ana reads in English.
    on_db!(node, |pool| sqlx::query(
        "UPDATE users SET language = 'en' WHERE id = $1"
    )
    .bind(ana.id)
    .execute(&pool)
    .await
    .map(|_| ())
    .unwrap());
    let n = notification(&node, ana.id, "received", Duration::minutes(5)).await;

    // Down: nothing sent, the notice stays for the next run.
    let r = run(&node).await;
    assert_eq!((r.sent, r.failed), (0, 1), "{r:?}");
    assert!(!emailed(&node, n).await);
    let r = run(&node).await;
    assert_eq!((r.sent, r.failed), (0, 1), "{r:?}");

    // Up: sent, in Ana's language, and marked.
    smtp.start().await;
    let r = run(&node).await;
    assert_eq!((r.sent, r.failed), (1, 0), "{r:?}");
    assert!(emailed(&node, n).await);
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ["ana@asoc1.org.gt"]);
    assert_eq!(mails[0].subject(), "Puente: you have a new notice");
    assert!(
        mails[0].body().contains("A referral arrived"),
        "{}",
        mails[0].body()
    );
    assert_eq!(run(&node).await, MailRun::default(), "once only");
    assert_eq!(smtp.mails().len(), 1);
}

#[tokio::test]
async fn notices_older_than_a_day_or_already_read_are_not_emailed() {
    let smtp = SmtpServer::up().await;
    let node = node_with(Some(smtp.config())).await;
    let asoc = node.org("ASOC1").await;
    let (ana, _) = node.user("ana", "org_admin", Some(&asoc), false).await;
    let (beto, _) = node.user("beto", "caseworker", Some(&asoc), false).await;
    set_address(&node, ana.id, "ana@asoc1.org.gt").await;
    let old = notification(&node, ana.id, "accepted", Duration::hours(25)).await;
    let no_address = notification(&node, beto.id, "accepted", Duration::hours(25)).await;
    let read = notification(&node, ana.id, "declined", Duration::minutes(1)).await;
    node.state
        .store
        .mark_notifications_read(ana.id, Some(read), node.state.clock.now())
        .await
        .unwrap();
    let fresh = notification(&node, ana.id, "closed", Duration::hours(23)).await;

    let r = run(&node).await;
    assert_eq!(r.sent, 1, "{r:?}");
    assert_eq!(r.skipped, 2, "the two old ones, marked without sending");
    assert!(emailed(&node, old).await && emailed(&node, no_address).await);
    assert!(emailed(&node, fresh).await);
    assert!(
        !emailed(&node, read).await,
        "read: not sent, marked once old"
    );
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].body().contains("Su referencia fue cerrada"));
    // A disabled user's notices are not sent either.
    let disabled = notification(&node, ana.id, "closed", Duration::minutes(1)).await;
    on_db!(node, |pool| sqlx::query(
        "UPDATE users SET disabled = $2 WHERE id = $1"
    )
    .bind(ana.id)
    .bind(true)
    .execute(&pool)
    .await
    .map(|_| ())
    .unwrap());
    assert_eq!(run(&node).await.sent, 0);
    assert!(!emailed(&node, disabled).await);
}

#[tokio::test]
async fn the_loop_sends_soon_after_a_notification_is_written_and_not_without_smtp() {
    let smtp = SmtpServer::up().await;
    let node = node_with(Some(smtp.config())).await;
    let asoc = node.org("ASOC1").await;
    let (ana, _) = node.user("ana", "caseworker", Some(&asoc), false).await;
    set_address(&node, ana.id, "ana@asoc1.org.gt").await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let handle = mail::start(node.state.clone(), stop_rx).expect("started with [smtp]");
    // Let the first run (nothing due) pass; the next regular run is a minute away.
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    let n = notification(&node, ana.id, "received", Duration::zero()).await;
    let mut waited = 0;
    while smtp.mails().is_empty() && waited < 100 {
        tokio::time::sleep(StdDuration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(smtp.mails().len(), 1, "sent well before the minute");
    assert!(emailed(&node, n).await);
    stop_tx.send(true).unwrap();
    tokio::time::timeout(StdDuration::from_secs(5), handle)
        .await
        .unwrap()
        .unwrap();

    // Without [smtp] there is no loop, and a run sends nothing.
    let plain = node_with(None).await;
    let (_, rx) = tokio::sync::watch::channel(false);
    assert!(mail::start(plain.state.clone(), rx).is_none());
    assert_eq!(run(&plain).await, MailRun::default());
}

// ---------------------------------------------------------------- "Mi cuenta"

#[tokio::test]
async fn the_account_page_sets_refuses_and_removes_the_address_for_notices() {
    let smtp = SmtpServer::down().await;
    let node = node_with(Some(smtp.config())).await;
    let asoc = node.org("ASOC1").await;
    let (ana, _) = node.user("ana", "caseworker", Some(&asoc), false).await;
    let b = node.client();
    b.login("ana", PASSWORD, None).await;

    let page = b.get("/account").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Correo electrónico para avisos"));
    assert!(page.body.contains("No recibe avisos por correo."));

    // Refused, in Spanish, and nothing stored.
    for bad in ["ana maria@asoc1.org", "ana", "ana@@asoc1.org"] {
        let p = b
            .post_from(
                "/account",
                "/account/notice-email",
                &[("email", bad), ("action", "save")],
            )
            .await;
        assert_eq!(p.status, 422, "{bad}");
        assert!(
            p.body.contains("Escriba una dirección de correo válida"),
            "{}",
            p.body
        );
        assert!(p.body.contains("aria-invalid=\"true\""));
    }
    let long = format!("{}@asoc1.org", "a".repeat(250));
    let p = b
        .post_from(
            "/account",
            "/account/notice-email",
            &[("email", &long), ("action", "save")],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("El texto es demasiado largo."));
    assert_eq!(node.state.store.notice_email(ana.id).await.unwrap(), None);

    // Saved.
    let p = b
        .post_from(
            "/account",
            "/account/notice-email",
            &[("email", " ana@asoc1.org.gt "), ("action", "save")],
        )
        .await;
    assert_eq!(p.status, 303);
    assert_eq!(
        p.location.as_deref(),
        Some("/account?notice=notice_email_saved")
    );
    assert_eq!(
        node.state
            .store
            .notice_email(ana.id)
            .await
            .unwrap()
            .as_deref(),
        Some("ana@asoc1.org.gt")
    );
    let page = b.get("/account?notice=notice_email_saved").await;
    assert!(page
        .body
        .contains("Se guardó la dirección de correo para avisos."));
    assert!(page.body.contains("<code>ana@asoc1.org.gt</code>"));
    assert!(page.body.contains("Eliminar dirección"));

    // Removed.
    let p = b
        .post_from(
            "/account",
            "/account/notice-email",
            &[("email", ""), ("action", "remove")],
        )
        .await;
    assert_eq!(p.status, 303);
    assert_eq!(node.state.store.notice_email(ana.id).await.unwrap(), None);
    let page = b.get("/account").await;
    assert!(page.body.contains("No recibe avisos por correo."));

    // Audited, without the address.
    let entries = node.state.store.audit_chunk(0, 100_000).await.unwrap();
    let changes: Vec<String> = entries
        .iter()
        .filter(|e| e.action == "account.notice_email" && e.actor == "ana")
        .map(|e| e.detail.to_string())
        .collect();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(changes[0].contains("set") && changes[1].contains("removed"));
    assert!(entries
        .iter()
        .all(|e| !e.detail.to_string().contains("asoc1.org.gt")));

    // Where [smtp] is not configured: a sentence, and no field.
    let plain = node_with(None).await;
    plain.user("ana", "analyst", None, false).await;
    let b = plain.client();
    b.login("ana", PASSWORD, None).await;
    let page = b.get("/account").await;
    assert!(page
        .body
        .contains("Los avisos por correo electrónico no están configurados en este nodo."));
    assert!(!page.body.contains("name=\"email\""));
    let p = b
        .post_from(
            "/account",
            "/account/notice-email",
            &[("email", "ana@asoc1.org.gt"), ("action", "save")],
        )
        .await;
    assert_eq!(p.status, 404);
}
