//! Every route × every role (and anonymous), against a table written here. A route added to
//! `app::ROUTES` without a row here fails the test.

use puente_node::app::all_routes;

use crate::helpers::{Browser, TestNode, PASSWORD};

/// Expected outcome per column: anonymous, node_admin, org_admin, caseworker, analyst, auditor.
/// `O` allowed (2xx, 3xx elsewhere than /login, or 422 for the empty input the test sends),
/// `F` forbidden (403), `L` sent to log in (redirect to /login, or 401), `N` not found (404).
const TABLE: &[(&str, &str, &str)] = &[
    ("GET", "/healthz", "OOOOOO"),
    ("GET", "/readyz", "OOOOOO"),
    ("GET", "/static/style.css", "OOOOOO"),
    ("GET", "/login", "OOOOOO"),
    ("POST", "/login", "OOOOOO"),
    ("GET", "/login/totp", "LLLLLL"),
    ("POST", "/login/totp", "LOOOOO"),
    ("POST", "/logout", "OOOOOO"),
    ("POST", "/language", "OOOOOO"),
    ("GET", "/", "LOOOOO"),
    ("GET", "/account", "LOOOOO"),
    ("GET", "/account/password", "LOOOOO"),
    ("POST", "/account/password", "LOOOOO"),
    ("GET", "/account/totp", "LOOOOO"),
    ("POST", "/account/totp", "LOOOOO"),
    // Not found where `[smtp]` is not configured (as on this test node).
    ("POST", "/account/notice-email", "LNNNNN"),
    ("GET", "/admin/orgs", "LOFFFF"),
    ("POST", "/admin/orgs", "LOFFFF"),
    ("GET", "/admin/orgs/{id}", "LOFFFF"),
    ("POST", "/admin/orgs/{id}", "LOFFFF"),
    ("GET", "/admin/users", "LOOFFF"),
    ("POST", "/admin/users", "LOOFFF"),
    ("GET", "/admin/users/{id}", "LOOFFF"),
    ("POST", "/admin/users/{id}/{change}", "LOOFFF"),
    ("GET", "/admin/roles", "LOOFFF"),
    ("GET", "/tokens", "LOOOOO"),
    ("POST", "/tokens", "LOOOOO"),
    ("POST", "/tokens/{id}/revoke", "LNNNNN"),
    ("GET", "/audit", "LOFFFO"),
    ("GET", "/api/v1/me", "LOOOOO"),
    ("GET", "/api/v1/orgs", "LOFFFF"),
    ("POST", "/api/v1/orgs", "LOFFFF"),
    ("GET", "/api/v1/users", "LOOFFF"),
    // Case registry pages.
    ("GET", "/cases/export/{format}", "LFOFFF"),
    ("GET", "/cases", "LOOOFF"),
    ("GET", "/cases/new", "LFOOFF"),
    ("POST", "/cases/new", "LFOOFF"),
    ("GET", "/cases/{id}", "LFNNFF"),
    ("GET", "/cases/{id}/edit", "LFNNFF"),
    ("POST", "/cases/{id}/edit", "LFNNFF"),
    ("POST", "/cases/{id}/notes", "LFNNFF"),
    ("POST", "/cases/{id}/consents", "LFNNFF"),
    ("POST", "/cases/{id}/consents/withdraw", "LFNNFF"),
    ("POST", "/cases/{id}/services", "LFNNFF"),
    ("POST", "/cases/{id}/proceedings", "LFNNFF"),
    ("POST", "/cases/{id}/close", "LFNNFF"),
    ("POST", "/cases/{id}/reassign", "LFNFFF"),
    ("POST", "/cases/{id}/legal-hold", "LFNFFF"),
    ("POST", "/cases/{id}/legal-hold/release", "LFNFFF"),
    ("GET", "/cases/{id}/erase", "LFNFFF"),
    ("POST", "/cases/{id}/erase", "LFNFFF"),
    ("GET", "/cases/{id}/break-glass", "LOFFFF"),
    ("POST", "/cases/{id}/break-glass", "LOFFFF"),
    ("GET", "/persons/{id}/edit", "LFNNFF"),
    ("POST", "/persons/{id}/edit", "LFNNFF"),
    // Case registry API.
    ("GET", "/api/v1/openapi.json", "LOOOOO"),
    ("GET", "/api/v1/cases", "LOOOFF"),
    ("POST", "/api/v1/cases", "LFOOFF"),
    ("GET", "/api/v1/cases/{id}", "LFNNFF"),
    ("PUT", "/api/v1/cases/{id}", "LFOOFF"),
    ("POST", "/api/v1/cases/{id}/close", "LFOOFF"),
    ("POST", "/api/v1/cases/{id}/reassign", "LFOFFF"),
    ("POST", "/api/v1/cases/{id}/notes", "LFOOFF"),
    ("POST", "/api/v1/cases/{id}/consents", "LFOOFF"),
    (
        "POST",
        "/api/v1/cases/{id}/consents/{consent_id}/withdraw",
        "LFOOFF",
    ),
    ("POST", "/api/v1/cases/{id}/services", "LFOOFF"),
    ("PUT", "/api/v1/cases/{id}/services/{service_id}", "LFOOFF"),
    ("POST", "/api/v1/cases/{id}/proceedings", "LFOOFF"),
    (
        "PUT",
        "/api/v1/cases/{id}/proceedings/{proceeding_id}",
        "LFOOFF",
    ),
    ("POST", "/api/v1/cases/{id}/break-glass", "LOFFFF"),
    ("GET", "/api/v1/persons/search", "LFOOFF"),
    ("PUT", "/api/v1/persons/{id}", "LFNNFF"),
    // Regional service directory pages.
    ("GET", "/directory", "LOOOOO"),
    ("GET", "/directory/services", "LOOFFF"),
    ("GET", "/directory/services/new", "LOOFFF"),
    ("POST", "/directory/services/new", "LOOFFF"),
    ("GET", "/directory/services/{id}", "LNNFFF"),
    ("POST", "/directory/services/{id}", "LNNFFF"),
    ("POST", "/directory/services/{id}/deactivate", "LNNFFF"),
    // Regional service directory API.
    ("GET", "/api/v1/directory", "LOOOOO"),
    ("POST", "/api/v1/directory/services", "LOOFFF"),
    ("PUT", "/api/v1/directory/services/{id}", "LNNFFF"),
    (
        "POST",
        "/api/v1/directory/services/{id}/deactivate",
        "LNNFFF",
    ),
    // Federation pages (national administration).
    ("GET", "/federation", "LOFFFO"),
    ("POST", "/federation/approve", "LOFFFF"),
    ("POST", "/federation/block", "LOFFFF"),
    ("POST", "/federation/unblock", "LOFFFF"),
    ("GET", "/federation/evidence", "LOFFFO"),
    // Cross-border referrals API (a body with a missing required member is a 422: `O`).
    ("GET", "/api/v1/referrals", "LOOOFF"),
    ("GET", "/api/v1/cases/{id}/referral-options", "LFNNFF"),
    ("POST", "/api/v1/cases/{id}/referrals", "LFOOFF"),
    ("GET", "/api/v1/referrals/{id}", "LNNNFF"),
    ("POST", "/api/v1/referrals/{id}/approve", "LFNFFF"),
    ("POST", "/api/v1/referrals/{id}/accept", "LFNNFF"),
    ("POST", "/api/v1/referrals/{id}/decline", "LFOOFF"),
    ("POST", "/api/v1/referrals/{id}/update", "LFOOFF"),
    ("POST", "/api/v1/referrals/{id}/close", "LFNNFF"),
    ("POST", "/api/v1/referrals/{id}/recall", "LFNNFF"),
    ("POST", "/api/v1/referrals/{id}/assign", "LOFFFF"),
    ("GET", "/api/v1/notifications", "LOOOOO"),
    ("POST", "/api/v1/notifications/read", "LOOOOO"),
    // Cross-border referrals pages.
    ("GET", "/referrals", "LOOOFF"),
    ("GET", "/referrals/{id}", "LNNNFF"),
    ("GET", "/referrals/{id}/print", "LNNNFF"),
    ("POST", "/referrals/{id}/approve", "LFNFFF"),
    ("POST", "/referrals/{id}/accept", "LFNNFF"),
    ("POST", "/referrals/{id}/decline", "LFNNFF"),
    ("POST", "/referrals/{id}/update", "LFNNFF"),
    ("POST", "/referrals/{id}/close", "LFNNFF"),
    ("POST", "/referrals/{id}/recall", "LFNNFF"),
    ("POST", "/referrals/{id}/assign", "LNFFFF"),
    ("GET", "/cases/{id}/refer", "LFNNFF"),
    ("POST", "/cases/{id}/refer", "LFNNFF"),
    ("GET", "/notifications", "LOOOOO"),
    ("POST", "/notifications/read", "LOOOOO"),
    // National statistics.
    ("GET", "/statistics", "LOOFOF"),
    ("GET", "/statistics/export", "LOOFOF"),
    // Statistics releases (national administrators only).
    ("GET", "/statistics/releases", "LOFFFF"),
    ("POST", "/statistics/releases", "LOFFFF"),
    ("GET", "/statistics/releases/{id}", "LNFFFF"),
    ("POST", "/statistics/releases/{id}/publish", "LNFFFF"),
    ("POST", "/statistics/releases/{id}/discard", "LNFFFF"),
    ("GET", "/api/v1/stats/releases", "LOFFFF"),
    ("POST", "/api/v1/stats/releases", "LOFFFF"),
    ("POST", "/api/v1/stats/releases/{id}/publish", "LNFFFF"),
    ("POST", "/api/v1/stats/releases/{id}/discard", "LNFFFF"),
    // Retention.
    ("GET", "/retention", "LOFFFO"),
    ("GET", "/api/v1/retention", "LOFFFO"),
    ("GET", "/api/v1/cases/{id}/legal-holds", "LFNNFF"),
    ("POST", "/api/v1/cases/{id}/legal-hold", "LFOFFF"),
    ("POST", "/api/v1/cases/{id}/legal-hold/release", "LFNFFF"),
    ("POST", "/api/v1/cases/{id}/erase", "LFOFFF"),
];

const ROLES: [&str; 5] = [
    "node_admin",
    "org_admin",
    "caseworker",
    "analyst",
    "auditor",
];

fn classify(status: u16, location: Option<&str>) -> char {
    match status {
        401 => 'L',
        403 => 'F',
        404 => 'N',
        300..=399 if location == Some("/login") => 'L',
        200..=399 | 422 => 'O',
        _ => 'X', // unexpected: reported with the route below
    }
}

#[tokio::test]
async fn every_route_allows_and_denies_each_role_as_the_table_says() {
    let table_routes: Vec<_> = TABLE.iter().map(|(m, p, _)| (*m, *p)).collect();
    let app_routes: Vec<_> = all_routes().into_iter().map(|(m, p, _)| (m, p)).collect();
    assert_eq!(
        table_routes, app_routes,
        "the matrix must list exactly the node's routes"
    );

    let node = TestNode::start().await;
    let org = node.org("ASOC1").await;
    let (target, _) = node.user("objetivo", "caseworker", Some(&org), false).await;
    let mut clients: Vec<(Option<Browser>, Option<String>)> = vec![(Some(node.client()), None)];
    for role in ROLES {
        let org_ref = if matches!(role, "org_admin" | "caseworker") {
            Some(&org)
        } else {
            None
        };
        let (u, secret) = node
            .user(
                &format!("u-{}", role.replace('_', "-")),
                role,
                org_ref,
                role.ends_with("admin"),
            )
            .await;
        let b = node.client();
        let p = b.login(&u.username, PASSWORD, secret.as_deref()).await;
        assert_eq!(p.location.as_deref(), Some("/"), "{role} could not log in");
        let token = node.token(u.id, 30).await;
        clients.push((Some(b), Some(token)));
    }

    let mut failures = Vec::new();
    for (method, path, expected) in TABLE {
        if *path == "/logout" {
            continue; // checked below, last: it ends the session
        }
        let concrete = path
            .replace("/admin/orgs/{id}", &format!("/admin/orgs/{}", org.id))
            .replace(
                "/admin/users/{id}/{change}",
                &format!("/admin/users/{}/role", target.id),
            )
            .replace("/admin/users/{id}", &format!("/admin/users/{}", target.id))
            .replace("{format}", "ctdc")
            .replace("{id}", &uuid::Uuid::now_v7().to_string());
        for (col, (b, token)) in clients.iter().enumerate() {
            let b = b.as_ref().unwrap();
            let got = if concrete.starts_with("/api/") {
                let url = format!("{}{concrete}", b.base);
                let mut req = match *method {
                    "GET" => b.http.get(url),
                    "PUT" => b.http.put(url).json(&serde_json::json!({})),
                    _ => b.http.post(url).json(&serde_json::json!({})),
                };
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                let r = req.send().await.unwrap();
                classify(r.status().as_u16(), None)
            } else if *method == "GET" {
                let p = b.get(&concrete).await;
                classify(p.status, p.location.as_deref())
            } else {
                let csrf = if col == 0 {
                    b.get("/login").await.csrf()
                } else {
                    b.get("/account").await.csrf()
                };
                let p = b.post(&concrete, &[("csrf", &csrf)]).await;
                classify(p.status, p.location.as_deref())
            };
            let want = expected.chars().nth(col).unwrap();
            if got != want {
                let who = if col == 0 {
                    "anonymous"
                } else {
                    ROLES[col - 1]
                };
                failures.push(format!(
                    "{method} {path} as {who}: expected {want}, got {got}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorization matrix mismatches:\n{}",
        failures.join("\n")
    );

    // Log-out, last: it works for everyone and the session is gone afterwards.
    for (b, _) in &clients[1..] {
        let b = b.as_ref().unwrap();
        let csrf = b.get("/account").await.csrf();
        let p = b.post("/logout", &[("csrf", &csrf)]).await;
        assert_eq!(p.location.as_deref(), Some("/login?notice=logged_out"));
        assert_eq!(b.get("/account").await.location.as_deref(), Some("/login"));
    }
    // Refusals were audited.
    let denied = node
        .audit_actions()
        .await
        .into_iter()
        .filter(|(a, _, _)| a == "access.denied")
        .count();
    assert!(denied >= 20, "denials audited: {denied}");
}
