//! Log-in, second factor, sessions, CSRF, lock-out, disabled users and API tokens: each
//! refusal refused, audited, and changing nothing.

use std::sync::Arc;

use chrono::Duration;
use puente_node::auth::totp;
use puente_node::clock::ManualClock;

use crate::helpers::{unix_now, TestNode, PASSWORD};

fn count(actions: &[(String, String, String)], action: &str) -> usize {
    actions.iter().filter(|(a, _, _)| a == action).count()
}

#[tokio::test]
async fn admin_logs_in_with_password_and_totp_in_spanish_and_failures_are_audited() {
    let node = TestNode::start().await;
    let (_, secret) = node.user("admin", "node_admin", None, true).await;
    let secret = secret.unwrap();
    let b = node.client();
    let login = b.get("/login").await;
    assert!(login.body.contains("lang=\"es\""));
    assert!(login.body.contains("Iniciar sesión"));

    let wrong = b
        .post_from(
            "/login",
            "/login",
            &[("username", "admin"), ("password", "contraseña equivocada")],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Usuario o contraseña incorrectos"));

    let step = b
        .post_from(
            "/login",
            "/login",
            &[("username", "Admin "), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(step.location.as_deref(), Some("/login/totp"));
    // Not signed in yet: protected pages send to the second factor.
    assert_eq!(
        b.get("/admin/orgs").await.location.as_deref(),
        Some("/login/totp")
    );
    let bad = b
        .post_from("/login/totp", "/login/totp", &[("code", "000000")])
        .await;
    assert_eq!(bad.status, 401);
    let code = totp::code_at(&secret, unix_now()).unwrap();
    let ok = b
        .post_from("/login/totp", "/login/totp", &[("code", &code)])
        .await;
    assert_eq!(ok.location.as_deref(), Some("/"));
    let home = b.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Cerrar sesión"));

    let a = node.audit_actions().await;
    assert_eq!(count(&a, "auth.login_failed"), 1);
    assert_eq!(count(&a, "auth.totp_failed"), 1);
    assert_eq!(count(&a, "auth.login"), 1);
}

#[tokio::test]
async fn repeated_failures_lock_the_account_even_for_the_right_password() {
    let node = TestNode::start().await;
    node.user("ana", "caseworker", Some(&node.org("ORG1").await), false)
        .await;
    let b = node.client();
    for _ in 0..5 {
        assert_eq!(
            b.login("ana", "no es la contraseña", None).await.status,
            401
        );
    }
    let p = b.login("ana", PASSWORD, None).await;
    assert_eq!(
        p.status, 401,
        "a locked account must refuse the right password"
    );
    let u = node.state.store.user_by_username("ana").await.unwrap();
    assert!(u.is_locked(node.state.clock.now()));
    let a = node.audit_actions().await;
    assert_eq!(count(&a, "auth.login_failed"), 6);
}

#[tokio::test]
async fn idle_sessions_expire() {
    let clock = ManualClock::new(chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap());
    let node = TestNode::start_with(Arc::new(clock.clone()), |_| {}).await;
    node.user("ana", "caseworker", Some(&node.org("ORG1").await), false)
        .await;
    let b = node.client();
    assert_eq!(
        b.login("ana", PASSWORD, None).await.location.as_deref(),
        Some("/")
    );
    assert_eq!(b.get("/account").await.status, 200);
    clock.advance(Duration::minutes(31));
    assert_eq!(b.get("/account").await.location.as_deref(), Some("/login"));
    assert_eq!(count(&node.audit_actions().await, "auth.session_ended"), 1);
}

#[tokio::test]
async fn a_forged_csrf_token_is_refused_audited_and_changes_nothing() {
    let node = TestNode::start().await;
    let (_, secret) = node.user("admin", "node_admin", None, true).await;
    let b = node.client();
    b.login("admin", PASSWORD, secret.as_deref()).await;
    let p = b
        .post(
            "/admin/orgs",
            &[
                ("csrf", "forged"),
                ("code", "EVIL"),
                ("name", "Evil"),
                ("org_type", "NGO"),
            ],
        )
        .await;
    assert_eq!(p.status, 403);
    let p = b
        .post(
            "/admin/orgs",
            &[("code", "EVIL"), ("name", "Evil"), ("org_type", "NGO")],
        )
        .await;
    assert_eq!(p.status, 403);
    assert!(node.state.store.orgs().await.unwrap().is_empty());
    assert_eq!(
        count(&node.audit_actions().await, "security.csrf_rejected"),
        2
    );
    // The real token works.
    let ok = b
        .post_from(
            "/admin/orgs",
            "/admin/orgs",
            &[("code", "good1"), ("name", "Buena"), ("org_type", "NGO")],
        )
        .await;
    assert_eq!(
        ok.location.as_deref(),
        Some("/admin/orgs?notice=org_created")
    );
    assert_eq!(
        node.state.store.org_by_code("GOOD1").await.unwrap().name,
        "Buena"
    );
}

#[tokio::test]
async fn bad_org_input_names_the_field_in_spanish_and_creates_nothing() {
    let node = TestNode::start().await;
    let (_, secret) = node.user("admin", "node_admin", None, true).await;
    let b = node.client();
    b.login("admin", PASSWORD, secret.as_deref()).await;
    let p = b
        .post_from(
            "/admin/orgs",
            "/admin/orgs",
            &[
                ("code", "mal código!"),
                ("name", ""),
                ("org_type", "IGLESIA"),
            ],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(
        p.body.contains("El código debe tener de 2 a 12"),
        "{}",
        p.body
    );
    assert!(p.body.contains("Este campo es obligatorio"));
    assert!(p.body.contains("aria-invalid=\"true\""));
    assert!(node.state.store.orgs().await.unwrap().is_empty());
}

#[tokio::test]
async fn disabling_a_user_ends_their_session_and_refuses_log_in() {
    let node = TestNode::start().await;
    let org = node.org("ORG1").await;
    let (ana, _) = node.user("ana", "caseworker", Some(&org), false).await;
    let (_, secret) = node.user("coord", "org_admin", Some(&org), true).await;
    let ana_b = node.client();
    ana_b.login("ana", PASSWORD, None).await;
    let admin = node.client();
    admin.login("coord", PASSWORD, secret.as_deref()).await;
    let p = admin
        .post_from(
            "/admin/users",
            &format!("/admin/users/{}/disable", ana.id),
            &[],
        )
        .await;
    assert_eq!(p.status, 303);
    assert_eq!(
        ana_b.get("/account").await.location.as_deref(),
        Some("/login")
    );
    assert_eq!(ana_b.login("ana", PASSWORD, None).await.status, 401);
    let a = node.audit_actions().await;
    assert_eq!(count(&a, "user.disable"), 1);
    assert!(a
        .iter()
        .any(|(act, _, out)| act == "auth.login_failed" && out == "denied"));
}

#[tokio::test]
async fn org_admin_cannot_manage_users_of_another_organisation() {
    let node = TestNode::start().await;
    let org1 = node.org("ORG1").await;
    let org2 = node.org("ORG2").await;
    let (other, _) = node.user("otra", "caseworker", Some(&org2), false).await;
    let (_, secret) = node.user("coord", "org_admin", Some(&org1), true).await;
    let b = node.client();
    b.login("coord", PASSWORD, secret.as_deref()).await;
    assert_eq!(
        b.get(&format!("/admin/users/{}", other.id)).await.status,
        404
    );
    let p = b
        .post_from(
            "/admin/users",
            &format!("/admin/users/{}/disable", other.id),
            &[],
        )
        .await;
    assert_eq!(p.status, 404);
    assert!(!node.state.store.user(other.id).await.unwrap().disabled);
    // Nor create one there, nor a node-wide role.
    let p = b
        .post_from(
            "/admin/users",
            "/admin/users",
            &[
                ("username", "x-y"),
                ("display_name", "X"),
                ("org_id", &org2.id.to_string()),
                ("role", "caseworker"),
            ],
        )
        .await;
    assert_eq!(p.status, 403);
    let p = b
        .post_from(
            "/admin/users",
            "/admin/users",
            &[
                ("username", "x-z"),
                ("display_name", "X"),
                ("org_id", ""),
                ("role", "node_admin"),
            ],
        )
        .await;
    assert_eq!(p.status, 403);
    assert!(node.state.store.user_by_username("x-y").await.is_err());
}

#[tokio::test]
async fn a_new_user_changes_the_temporary_password_then_works() {
    let node = TestNode::start().await;
    let org = node.org("ORG1").await;
    let (_, secret) = node.user("coord", "org_admin", Some(&org), true).await;
    let b = node.client();
    b.login("coord", PASSWORD, secret.as_deref()).await;
    let p = b
        .post_from(
            "/admin/users",
            "/admin/users",
            &[
                ("username", "nueva"),
                ("display_name", "Nueva Persona"),
                ("org_id", &org.id.to_string()),
                ("role", "caseworker"),
            ],
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    let i = p.body.find("<code").unwrap();
    let rest = &p.body[i..];
    let temp: String = rest[rest.find('>').unwrap() + 1..rest.find("</code>").unwrap()]
        .trim()
        .to_owned();
    assert_eq!(temp.len(), 19, "temporary password shown: {temp:?}");

    let n = node.client();
    let step = n.login("nueva", &temp, None).await;
    assert_eq!(step.location.as_deref(), Some("/account/password"));
    assert_eq!(
        n.get("/").await.location.as_deref(),
        Some("/account/password")
    );
    let bad = n
        .post_from(
            "/account/password",
            "/account/password",
            &[
                ("current_password", &temp),
                ("new_password", "corta"),
                ("confirm_password", "corta"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    let ok = n
        .post_from(
            "/account/password",
            "/account/password",
            &[
                ("current_password", &temp),
                ("new_password", "otra clave bastante larga"),
                ("confirm_password", "otra clave bastante larga"),
            ],
        )
        .await;
    assert_eq!(ok.location.as_deref(), Some("/"));
    assert_eq!(n.get("/").await.status, 200);
    assert_eq!(
        node.client()
            .login("nueva", "otra clave bastante larga", None)
            .await
            .location
            .as_deref(),
        Some("/")
    );
}

#[tokio::test]
async fn an_admin_without_second_factor_must_enrol_and_gets_recovery_codes() {
    let node = TestNode::start().await;
    node.user("jefa", "node_admin", None, false).await;
    let b = node.client();
    let p = b.login("jefa", PASSWORD, None).await;
    assert_eq!(p.location.as_deref(), Some("/account/totp"));
    assert_eq!(
        b.get("/admin/orgs").await.location.as_deref(),
        Some("/account/totp")
    );
    let page = b.get("/account/totp").await;
    assert!(page.body.contains("<svg"));
    let key = page.body.split("<code").nth(1).unwrap();
    let key: String = key[key.find('>').unwrap() + 1..key.find("</code>").unwrap()]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let csrf = page.csrf();
    let wrong = b
        .post("/account/totp", &[("csrf", &csrf), ("code", "123456")])
        .await;
    assert_eq!(wrong.status, 422);
    let code = totp::code_at(&key, unix_now()).unwrap();
    let done = b
        .post("/account/totp", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_eq!(done.status, 200);
    let codes: Vec<String> = done
        .body
        .split("<li")
        .skip(1)
        .filter_map(|li| {
            let t = &li[li.find('>')? + 1..li.find("</li>")?];
            let t = t.replace("<code>", "").replace("</code>", "");
            (t.trim().len() == 11).then(|| t.trim().to_owned())
        })
        .collect();
    assert_eq!(codes.len(), totp::RECOVERY_CODES, "{}", done.body);
    assert_eq!(b.get("/admin/orgs").await.status, 200);

    // A recovery code is a second factor once.
    let r = node.client();
    r.login("jefa", PASSWORD, None).await;
    let ok = r
        .post_from("/login/totp", "/login/totp", &[("code", &codes[0])])
        .await;
    assert_eq!(ok.location.as_deref(), Some("/"));
    let again = node.client();
    again.login("jefa", PASSWORD, None).await;
    assert_eq!(
        again
            .post_from("/login/totp", "/login/totp", &[("code", &codes[0])])
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn api_tokens_authenticate_until_revoked_and_refusals_are_audited() {
    let node = TestNode::start().await;
    let (u, _) = node.user("api-user", "analyst", None, false).await;
    let (token, t) = puente_node::admin::tokens::create(
        node.state.store.as_ref(),
        &node.ctx(),
        u.id,
        &puente_node::admin::tokens::NewToken {
            name: "script".into(),
            expires_days: "7".into(),
        },
        365,
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let me = http
        .get(format!("{}/api/v1/me", node.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let body: serde_json::Value = me.json().await.unwrap();
    assert_eq!(body["username"], "api-user");
    let stored = node.state.store.token(t.id).await.unwrap();
    assert_ne!(stored.token.token_hash, token, "only a hash is stored");

    let bad = http
        .get(format!("{}/api/v1/me", node.base))
        .bearer_auth("pte_notatoken")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let err: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(err["error"], "unauthenticated");

    puente_node::admin::tokens::revoke(node.state.store.as_ref(), &node.ctx(), None, t.id)
        .await
        .unwrap();
    let revoked = http
        .get(format!("{}/api/v1/me", node.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 401);
    let a = node.audit_actions().await;
    assert_eq!(count(&a, "auth.token_rejected"), 2);
    assert_eq!(count(&a, "token.revoke"), 1);
}

#[tokio::test]
async fn api_refuses_unknown_fields_by_name_and_changes_nothing() {
    let node = TestNode::start().await;
    let (u, _) = node.user("jefe", "node_admin", None, false).await;
    let token = node.token(u.id, 7).await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/api/v1/orgs", node.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "code": "ORG9", "name": "Nueve", "org_type": "NGO", "colour": "red" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["error"], "unknown_field");
    assert_eq!(e["fields"][0]["field"], "colour");
    let r = http
        .post(format!("{}/api/v1/orgs", node.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "code": "x", "name": "Nueve", "org_type": "NGO" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["fields"][0]["field"], "code");
    assert_eq!(e["fields"][0]["code"], "org_code_format");
    assert!(node.state.store.orgs().await.unwrap().is_empty());
    let ok = http
        .post(format!("{}/api/v1/orgs", node.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "code": "ORG9", "name": "Nueve", "org_type": "NGO" }))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
}

#[tokio::test]
async fn pages_carry_security_headers_and_english_on_request() {
    let node = TestNode::start().await;
    let r = reqwest::Client::new()
        .get(format!("{}/login", node.base))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    let h = r.headers().clone();
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h.get("x-request-id").is_some());
    let cookie = h["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let body = r.text().await.unwrap();
    assert!(body.contains("lang=\"en\"") && body.contains("Sign in"));
    assert!(
        !body.contains("http://") && !body.contains("https://"),
        "no third-party origin in pages"
    );
}

#[tokio::test]
async fn too_many_attempts_from_one_address_are_rate_limited_and_audited() {
    let node = TestNode::start_with(Arc::new(puente_node::clock::SystemClock), |c| {
        c.security.login_attempts_per_minute = 3;
    })
    .await;
    let b = node.client();
    for _ in 0..3 {
        assert_eq!(b.login("nadie", "no importa nada", None).await.status, 401);
    }
    let p = b.login("nadie", "no importa nada", None).await;
    assert_eq!(p.status, 429);
    assert!(p.body.contains("Demasiados intentos"));
    assert_eq!(count(&node.audit_actions().await, "auth.rate_limited"), 1);
}

#[tokio::test]
async fn node_policy_can_require_a_second_factor_of_everyone() {
    let node = TestNode::start_with(Arc::new(puente_node::clock::SystemClock), |c| {
        c.security.require_totp_for_all = true;
    })
    .await;
    node.user("ana", "caseworker", Some(&node.org("ORG1").await), false)
        .await;
    let b = node.client();
    assert_eq!(
        b.login("ana", PASSWORD, None).await.location.as_deref(),
        Some("/account/totp")
    );
    assert_eq!(b.get("/").await.location.as_deref(), Some("/account/totp"));
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let clock = ManualClock::new(chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap());
    let node = TestNode::start_with(Arc::new(clock.clone()), |_| {}).await;
    let (u, _) = node.user("api", "analyst", None, false).await;
    let token = node.token(u.id, 1).await;
    let http = reqwest::Client::new();
    let me = || {
        http.get(format!("{}/api/v1/me", node.base))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(me().await.unwrap().status(), 200);
    clock.advance(Duration::days(1));
    assert_eq!(me().await.unwrap().status(), 401);
    let a = node
        .state
        .store
        .audit_entries(&Default::default(), 1, 0)
        .await
        .unwrap();
    assert_eq!(a[0].action, "auth.token_rejected");
    assert!(a[0].detail.contains("expired"));
}

#[tokio::test]
async fn a_totp_code_is_accepted_only_once() {
    let node = TestNode::start().await;
    let (_, secret) = node.user("admin", "node_admin", None, true).await;
    let secret = secret.unwrap();
    let code = totp::code_at(&secret, unix_now()).unwrap();
    let first = node.client();
    first.login("admin", PASSWORD, None).await;
    let ok = first
        .post_from("/login/totp", "/login/totp", &[("code", &code)])
        .await;
    assert_eq!(ok.location.as_deref(), Some("/"));
    // Someone who saw the code over the user's shoulder cannot reuse it.
    let second = node.client();
    second.login("admin", PASSWORD, None).await;
    let replay = second
        .post_from("/login/totp", "/login/totp", &[("code", &code)])
        .await;
    assert_eq!(replay.status, 401);
    let entries = node
        .state
        .store
        .audit_entries(&Default::default(), 1, 0)
        .await
        .unwrap();
    assert_eq!(entries[0].action, "auth.totp_failed");
    assert!(entries[0].detail.contains("replayed_code"));
}
