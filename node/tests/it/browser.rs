//! Headless Chromium drives the real node, in Spanish: an administrator logs in with TOTP,
//! registers an organisation, creates a user, resets her password and reads the audit trail;
//! the new user changes her temporary password, sets up her second factor and creates an API
//! token; a caseworker registers and follows a case; a coordinator publishes a directory
//! service. The pages the user manual shows are screenshotted on the way. Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); fails
//! when they are missing unless SKIP_BROWSER_TESTS=1 says to skip on purpose.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use puente_node::auth::totp;

use crate::helpers::{unix_now, TestNode, PASSWORD};

/// The personal password Lucía chooses at her first log-in.
const NEW_PASSWORD: &str = "Lluvia tranquila sobre el lago de Atitlán";

pub(crate) struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for the browser to arrive at `path` (a click returns before the next page loads).
pub(crate) async fn wait_path(
    c: &fantoccini::Client,
    path: &str,
) -> Result<(), fantoccini::error::CmdError> {
    for _ in 0..100 {
        if c.current_url().await?.path() == path {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "browser did not reach {path}; it is at {}",
        c.current_url().await?
    );
}

async fn wait_title(
    c: &fantoccini::Client,
    title: &str,
) -> Result<(), fantoccini::error::CmdError> {
    for _ in 0..100 {
        if c.title().await? == title {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "browser did not reach the page {title:?}; it shows {:?}",
        c.title().await?
    );
}

/// The screenshots the user manual shows (docs/manual/es/README.md links them from
/// docs/manual/es/img/).
pub(crate) const MANUAL_SCREENSHOTS: &[&str] = &[
    "01-login",
    "03-home",
    "04-user-form",
    "05-user-created",
    "06-user-security",
    "07-org-created",
    "09-first-password",
    "10-case-person",
    "11-case-process",
    "12-case-review",
    "13-case-page",
    "14-case-list",
    "16-legal-hold",
    "17-erase",
    "18-anonymised",
    "20-directory-service-form",
    "21-directory-search",
    "30-account",
    "31-totp-enrol",
    "32-recovery-codes",
    "33-token-created",
    "40-referral-form",
    "41-referral-sent",
    "42-referral-received",
    "43-referral-accepted",
    "50-statistics",
    "51-statistics-table",
    "52-statistics-releases",
    "60-audit",
    "61-federation",
    "62-federation-evidence",
    "hub-dashboard",
    "hub-chart",
];

/// Saves what the browser shows, for reviewing the pages, in the target directory; and, with
/// `UPDATE_MANUAL_SCREENSHOTS=1` (as `.ci/run` sets it), the manual's own screenshots into
/// docs/manual/es/img/, so that the manual always shows the current pages.
pub(crate) async fn screenshot(
    c: &fantoccini::Client,
    name: &str,
) -> Result<(), fantoccini::error::CmdError> {
    let png = c.screenshot().await?;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).ok();
    std::fs::write(dir.join(format!("{name}.png")), &png).ok();
    if MANUAL_SCREENSHOTS.contains(&name)
        && std::env::var("UPDATE_MANUAL_SCREENSHOTS").as_deref() == Ok("1")
    {
        let manual = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/manual/es/img");
        std::fs::create_dir_all(&manual).unwrap();
        std::fs::write(manual.join(format!("{name}.png")), &png).unwrap();
    }
    Ok(())
}

/// Every screenshot the manual links is one the browser tests take.
#[test]
fn the_manual_links_only_screenshots_the_tests_take() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let manual = std::fs::read_to_string(root.join("docs/manual/es/README.md")).unwrap();
    let mut linked = 0;
    for part in manual.split("](img/").skip(1) {
        let name = part.split(".png)").next().unwrap();
        assert!(
            MANUAL_SCREENSHOTS.contains(&name),
            "the manual links img/{name}.png, which no browser test takes"
        );
        assert!(
            root.join(format!("docs/manual/es/img/{name}.png")).exists(),
            "img/{name}.png is missing: run the browser tests with UPDATE_MANUAL_SCREENSHOTS=1"
        );
        linked += 1;
    }
    assert!(
        linked >= MANUAL_SCREENSHOTS.len(),
        "every screenshot is used"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn an_admin_registers_an_org_and_a_user_who_then_sets_up_her_account_in_chromium() {
    if std::env::var("SKIP_BROWSER_TESTS").as_deref() == Ok("1") {
        eprintln!("browser test skipped on purpose (SKIP_BROWSER_TESTS=1)");
        return;
    }
    let node = TestNode::start().await;
    let org = node.org("ASOC1").await;
    let (_, secret) = node.user("admin", "node_admin", None, true).await;
    let secret = secret.unwrap();

    let (c, _driver, _profile) = browser().await;
    let result = async {
        let page_ok = |src: &str, what: &str| {
            assert!(!src.contains("<title>Error"), "{what}: an error page");
        };
        c.goto(&format!("{}/login", node.base)).await?;
        assert_eq!(c.title().await?, "Iniciar sesión — Puente");
        screenshot(&c, "01-login").await?;
        c.find(Locator::Css("input[name=username]"))
            .await?
            .send_keys("admin")
            .await?;
        c.find(Locator::Css("input[name=password]"))
            .await?
            .send_keys(PASSWORD)
            .await?;
        c.find(Locator::XPath(
            "//button[normalize-space()='Iniciar sesión']",
        ))
        .await?
        .click()
        .await?;
        wait_path(&c, "/login/totp").await?;
        screenshot(&c, "02-totp").await?;
        let code = totp::code_at(&secret, unix_now()).unwrap();
        c.find(Locator::Css("input[name=code]"))
            .await?
            .send_keys(&code)
            .await?;
        c.find(Locator::XPath("//button[normalize-space()='Verificar']"))
            .await?
            .click()
            .await?;
        wait_path(&c, "/").await?;
        page_ok(&c.source().await?, "home");
        screenshot(&c, "03-home").await?;

        // Registers an organisation.
        c.goto(&format!("{}/admin/orgs", node.base)).await?;
        assert_eq!(c.title().await?, "Organizaciones — Puente");
        type_into(&c, "code", "FUND2").await?;
        type_into(&c, "name", "Fundación Esperanza (ejemplo)").await?;
        choose(&c, "select[name=org_type]", "NGO").await?;
        submit(&c, "form[action='/admin/orgs'] button[type=submit]").await?;
        wait_path(&c, "/admin/orgs").await?;
        let src = c.source().await?;
        assert!(src.contains("Organización creada.") && src.contains("Fundación Esperanza"));
        screenshot(&c, "07-org-created").await?;

        c.goto(&format!("{}/admin/users", node.base)).await?;
        page_ok(&c.source().await?, "users");
        screenshot(&c, "04-users").await?;
        c.find(Locator::Css("input[name=username]"))
            .await?
            .send_keys("lucia.gomez")
            .await?;
        c.find(Locator::Css("input[name=display_name]"))
            .await?
            .send_keys("Lucía Gómez")
            .await?;
        c.find(Locator::Css("select[name=org_id]"))
            .await?
            .select_by_value(&org.id.to_string())
            .await?;
        c.find(Locator::Css("select[name=role]"))
            .await?
            .select_by_value("caseworker")
            .await?;
        c.execute(
            "document.getElementById('sec-create').scrollIntoView();",
            vec![],
        )
        .await?;
        screenshot(&c, "04-user-form").await?;
        c.find(Locator::XPath(
            "//button[normalize-space()='Crear usuario']",
        ))
        .await?
        .click()
        .await?;
        wait_title(&c, "Lucía Gómez · Usuario — Puente").await?;
        let src = c.source().await?;
        page_ok(&src, "user created");
        screenshot(&c, "05-user-created").await?;
        assert!(src.contains("Lucía Gómez"));
        let temp = c
            .find(Locator::Css("main code.secret"))
            .await?
            .text()
            .await?;
        assert_eq!(
            temp.trim().len(),
            19,
            "temporary password shown once: {temp:?}"
        );

        // Resets her password: a new temporary one, shown once.
        submit(&c, "form[action$='/reset-password'] button[type=submit]").await?;
        wait_title(&c, "Lucía Gómez · Usuario — Puente").await?;
        assert!(c.source().await?.contains(
            "Contraseña restablecida. Entregue la nueva contraseña temporal en persona."
        ));
        let temp2 = c
            .find(Locator::Css("main code.secret"))
            .await?
            .text()
            .await?
            .trim()
            .to_owned();
        assert_ne!(temp.trim(), temp2, "a new temporary password");
        c.execute(
            "document.getElementById('sec-security').scrollIntoView();",
            vec![],
        )
        .await?;
        screenshot(&c, "06-user-security").await?;

        // The audit trail, filtered by action, lists both.
        c.goto(&format!("{}/audit", node.base)).await?;
        assert_eq!(c.title().await?, "Registro de auditoría — Puente");
        type_into(&c, "action", "user.").await?;
        submit(&c, "form[action='/audit'] button[type=submit]").await?;
        wait_for(&c, "main table").await?;
        let src = c.source().await?;
        assert!(
            src.contains("<code>user.create</code>"),
            "user.create audited"
        );
        assert!(
            !src.contains("<code>auth.login</code>"),
            "the filter keeps only user.*"
        );
        screenshot(&c, "08-audit-filtered").await?;

        c.find(Locator::XPath(
            "//button[normalize-space()='Cerrar sesión']",
        ))
        .await?
        .click()
        .await?;
        wait_path(&c, "/login").await?;
        assert!(c.source().await?.contains("Cerró sesión correctamente"));
        c.goto(&format!("{}/admin/users", node.base)).await?;
        wait_path(&c, "/login").await?;

        // Her first log-in: the temporary password must be changed first.
        type_into(&c, "username", "lucia.gomez").await?;
        type_into(&c, "password", &temp2).await?;
        press(&c, "button[type=submit]:not([name])").await?;
        wait_path(&c, "/account/password").await?;
        assert!(c
            .source()
            .await?
            .contains("Antes de continuar, es necesario cambiar la contraseña temporal"));
        type_into(&c, "current_password", &temp2).await?;
        type_into(&c, "new_password", NEW_PASSWORD).await?;
        type_into(&c, "confirm_password", NEW_PASSWORD).await?;
        screenshot(&c, "09-first-password").await?;
        submit(&c, "form[action='/account/password'] button[type=submit]").await?;
        wait_path(&c, "/").await?;

        // My account: she sets up the second factor (optional for her role).
        c.find(Locator::XPath("//nav//a[normalize-space()='Mi cuenta']"))
            .await?
            .click()
            .await?;
        wait_path(&c, "/account").await?;
        assert!(c.source().await?.contains("Desactivada"));
        screenshot(&c, "30-account").await?;
        c.find(Locator::XPath(
            "//main//a[normalize-space()='Activar la verificación en dos pasos']",
        ))
        .await?
        .click()
        .await?;
        wait_path(&c, "/account/totp").await?;
        assert_eq!(
            c.title().await?,
            "Activar la verificación en dos pasos — Puente"
        );
        wait_for(&c, "main .qr-image svg").await?;
        let key: String = c
            .find(Locator::Css("main code.secret"))
            .await?
            .text()
            .await?
            .chars()
            .filter(|ch| !ch.is_whitespace())
            .collect();
        let code = totp::code_at(&key, unix_now()).unwrap();
        type_into(&c, "code", &code).await?;
        screenshot(&c, "31-totp-enrol").await?;
        submit(&c, "form[action='/account/totp'] button[type=submit]").await?;
        wait_title(&c, "Códigos de recuperación — Puente").await?;
        let codes = c.find_all(Locator::Css("main ul.codes li")).await?;
        assert_eq!(codes.len(), totp::RECOVERY_CODES, "ten recovery codes");
        screenshot(&c, "32-recovery-codes").await?;

        // An API token for a monthly report: shown once.
        c.goto(&format!("{}/tokens", node.base)).await?;
        assert_eq!(c.title().await?, "Tokens de API — Puente");
        type_into(&c, "name", "Informe mensual").await?;
        submit(&c, "form[action='/tokens'] button[type=submit]").await?;
        wait_for(&c, "#sec-new").await?;
        let token = c
            .find(Locator::Css("main code.secret"))
            .await?
            .text()
            .await?;
        assert!(token.trim().starts_with("pte_"), "the new token: {token:?}");
        assert!(c.source().await?.contains("Informe mensual"));
        screenshot(&c, "33-token-created").await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = c.close().await;
    result.unwrap();
    let user = node
        .state
        .store
        .user_by_username("lucia.gomez")
        .await
        .unwrap();
    assert!(!user.must_change_password, "she changed it");
    assert!(user.totp_secret.is_some(), "she set up the second factor");
}

/// Starts chromedriver and a headless Chromium session (fails the test when they are
/// missing). The driver and profile live as long as the returned guards.
/// Logs in at `base` with a password and the current code of the TOTP `secret`.
pub(crate) async fn log_in_with_code(
    c: &fantoccini::Client,
    base: &str,
    username: &str,
    password: &str,
    secret: &str,
) -> Result<(), fantoccini::error::CmdError> {
    c.goto(&format!("{base}/login")).await?;
    type_into(c, "username", username).await?;
    type_into(c, "password", password).await?;
    press(c, "button[type=submit]:not([name])").await?;
    wait_path(c, "/login/totp").await?;
    let code = totp::code_at(secret, unix_now()).unwrap();
    type_into(c, "code", &code).await?;
    c.find(Locator::XPath("//button[normalize-space()='Verificar']"))
        .await?
        .click()
        .await?;
    wait_path(c, "/").await
}

pub(crate) async fn browser() -> (fantoccini::Client, Driver, tempfile::TempDir) {
    let driver_bin = "/usr/bin/chromedriver";
    assert!(
        std::path::Path::new(driver_bin).exists(),
        "chromedriver missing: apt-get install -y chromium chromium-driver (or SKIP_BROWSER_TESTS=1)"
    );
    let port = free_port();
    let driver = Driver(
        Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let profile = tempfile::tempdir().unwrap();
    let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1366,768", "--lang=es",
                format!("--user-data-dir={}", profile.path().display()),
            ],
            "prefs": { "intl.accept_languages": "es" }
        }
    }))
    .unwrap();
    let mut client = None;
    for _ in 0..50 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let c = client.expect("chromedriver did not start");
    (c, driver, profile)
}

/// Waits until an element matching `css` is on the page (after a click that loads one).
pub(crate) async fn wait_for(
    c: &fantoccini::Client,
    css: &str,
) -> Result<fantoccini::elements::Element, fantoccini::error::CmdError> {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
}

/// Sets a form field's value directly (date inputs take their text in the browser's locale,
/// which a test cannot rely on).
async fn set_value(
    c: &fantoccini::Client,
    name: &str,
    value: &str,
) -> Result<(), fantoccini::error::CmdError> {
    c.execute(
        "document.querySelector('[name=\"' + arguments[0] + '\"]').value = arguments[1];",
        vec![serde_json::json!(name), serde_json::json!(value)],
    )
    .await?;
    Ok(())
}

pub(crate) async fn type_into(
    c: &fantoccini::Client,
    name: &str,
    text: &str,
) -> Result<(), fantoccini::error::CmdError> {
    c.find(Locator::Css(&format!("[name='{name}']")))
        .await?
        .send_keys(text)
        .await
}

async fn tick(
    c: &fantoccini::Client,
    name: &str,
    value: &str,
) -> Result<(), fantoccini::error::CmdError> {
    c.find(Locator::Css(&format!(
        "input[name='{name}'][value='{value}']"
    )))
    .await?
    .click()
    .await
}

async fn choose(
    c: &fantoccini::Client,
    css: &str,
    value: &str,
) -> Result<(), fantoccini::error::CmdError> {
    c.find(Locator::Css(css))
        .await?
        .select_by_value(value)
        .await
}

/// Opens the collapsed section (`<details>`) that holds the form posting to `action`, as a
/// person clicks its summary.
async fn open_details(
    c: &fantoccini::Client,
    action: &str,
) -> Result<(), fantoccini::error::CmdError> {
    c.find(Locator::XPath(&format!(
        "//form[@action='{action}']/ancestor::details[1]/summary"
    )))
    .await?
    .click()
    .await
}

/// Clicks the submit button matched by `css` and waits until the browser has left the page
/// (the old document's root goes stale): a notice left on the previous page must not pass
/// for the next one.
pub(crate) async fn submit(
    c: &fantoccini::Client,
    css: &str,
) -> Result<(), fantoccini::error::CmdError> {
    let old = c.find(Locator::Css("html")).await?;
    c.find(Locator::Css(css)).await?.click().await?;
    for _ in 0..100 {
        if old.tag_name().await.is_err() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page did not change after pressing {css}");
}

pub(crate) async fn press(
    c: &fantoccini::Client,
    css: &str,
) -> Result<(), fantoccini::error::CmdError> {
    c.find(Locator::Css(css)).await?.click().await
}

#[tokio::test]
async fn a_caseworker_registers_follows_finds_and_closes_a_case_in_chromium() {
    if std::env::var("SKIP_BROWSER_TESTS").as_deref() == Ok("1") {
        eprintln!("browser test skipped on purpose (SKIP_BROWSER_TESTS=1)");
        return;
    }
    let node = TestNode::start().await;
    let org = node.org("ASOC1").await;
    node.user("gestora", "caseworker", Some(&org), false).await;
    let (_, coord_secret) = node
        .user("coordinacion", "org_admin", Some(&org), true)
        .await;
    let coord_secret = coord_secret.unwrap();
    let (c, _driver, _profile) = browser().await;
    let base = node.base.clone();
    let result = async {
        c.goto(&format!("{base}/login")).await?;
        type_into(&c, "username", "gestora").await?;
        type_into(&c, "password", PASSWORD).await?;
        press(&c, "button[type=submit]:not([name])").await?;
        wait_path(&c, "/").await?;

        // Search first: nobody of that name yet.
        c.goto(&format!("{base}/cases/new")).await?;
        assert_eq!(c.title().await?, "Registrar caso — Puente");
        type_into(&c, "search_name", "Xiomara Tzul").await?;
        submit(&c, "button[name=go][value=search]").await?;
        wait_for(&c, "button[name=go][value=new_person]")
            .await?
            .click()
            .await?;

        // Person.
        wait_for(&c, "[name='person.identity.given_names']").await?;
        type_into(&c, "person.identity.given_names", "Xiomara Quetzalí").await?;
        type_into(&c, "person.identity.family_names", "Tzul Ajpop").await?;
        set_value(&c, "person.identity.birth_date", "2001-04-03").await?;
        choose(&c, "select[name='person.gender']", "FEMININE").await?;
        screenshot(&c, "10-case-person").await?;
        submit(&c, "button[name=go][value=next]").await?;
        // Case.
        wait_for(&c, "[name='case.intake_channel']").await?;
        choose(&c, "select[name='case.intake_channel']", "HOTLINE").await?;
        set_value(&c, "case.registration_date", "2026-03-02").await?;
        submit(&c, "button[name=go][value=next]").await?;
        // Trafficking process.
        wait_for(&c, "input[name='case.process.acts']").await?;
        tick(&c, "case.process.acts", "RECRUITMENT").await?;
        tick(&c, "case.process.means", "DECEPTION").await?;
        tick(&c, "case.process.exploitation_types", "FORCED_LABOUR").await?;
        screenshot(&c, "11-case-process").await?;
        submit(&c, "button[name=go][value=next]").await?;
        // Consent.
        wait_for(&c, "input[name='consent.cm']")
            .await?
            .click()
            .await?;
        choose(&c, "select[name='consent.given_by']", "PERSON").await?;
        set_value(&c, "consent.given_on", "2026-03-02").await?;
        type_into(&c, "consent.evidence_ref", "Formulario 7").await?;
        submit(&c, "button[name=go][value=next]").await?;
        // Review, then register.
        wait_for(&c, "button[name=go][value=register]").await?;
        screenshot(&c, "12-case-review").await?;
        submit(&c, "button[name=go][value=register]").await?;
        wait_title(&c, "GTM-ASOC1-2026-0001 · Caso — Puente").await?;
        let case_path = c.current_url().await?.path().to_owned();
        let src = c.source().await?;
        assert!(src.contains("Xiomara Quetzalí") && src.contains("Formulario 7"));

        // A service and a complaint.
        let service_form = format!("form[action='{case_path}/services']");
        open_details(&c, &format!("{case_path}/services")).await?;
        choose(
            &c,
            &format!("{service_form} select[name='service.service_type']"),
            "SHELTER",
        )
        .await?;
        c.find(Locator::Css(&format!(
            "{service_form} [name='service.provider']"
        )))
        .await?
        .send_keys("Casa Refugio")
        .await?;
        choose(
            &c,
            &format!("{service_form} select[name='service.status']"),
            "IN_PROGRESS",
        )
        .await?;
        submit(&c, &format!("{service_form} button[type=submit]")).await?;
        wait_for(&c, "[role=status]").await?;
        let proceeding_form = format!("form[action='{case_path}/proceedings']");
        open_details(&c, &format!("{case_path}/proceedings")).await?;
        choose(
            &c,
            &format!("{proceeding_form} select[name='proceeding.stage']"),
            "COMPLAINT",
        )
        .await?;
        c.find(Locator::Css(&format!(
            "{proceeding_form} [name='proceeding.authority']"
        )))
        .await?
        .send_keys("Ministerio Público")
        .await?;
        submit(&c, &format!("{proceeding_form} button[type=submit]")).await?;
        wait_for(&c, "[role=status]").await?;
        let src = c.source().await?;
        assert!(src.contains("Casa Refugio") && src.contains("Ministerio Público"));
        screenshot(&c, "13-case-page").await?;

        // Found again by the victim's name, through the blind index.
        c.goto(&format!("{base}/cases")).await?;
        type_into(&c, "q", "tzul xiomara").await?;
        submit(&c, "form[method=get] button[type=submit]").await?;
        wait_for(&c, "a[href*='/cases/']").await?;
        assert!(c.source().await?.contains("GTM-ASOC1-2026-0001"));
        screenshot(&c, "14-case-list").await?;

        // Close it.
        c.goto(&format!("{base}{case_path}")).await?;
        choose(&c, "select[name='close.status']", "CLOSED").await?;
        choose(&c, "select[name='close.closure_reason']", "GOALS_MET").await?;
        press(
            &c,
            &format!("form[action='{case_path}/close'] button[type=submit]"),
        )
        .await?;
        wait_for(&c, "[role=status]").await?;
        assert!(
            c.find(Locator::Css(&format!("form[action='{case_path}/close']")))
                .await
                .is_err(),
            "a closed case has no close form"
        );

        // The coordinator places a legal hold, releases it, then erases the person at her
        // request.
        crate::ref_browser::log_out(&c).await?;
        log_in_with_code(&c, &base, "coordinacion", PASSWORD, &coord_secret).await?;
        c.goto(&format!("{base}{case_path}")).await?;
        type_into(&c, "hold.reason", "Proceso penal MP-2026-118 en curso").await?;
        submit(
            &c,
            &format!("form[action='{case_path}/legal-hold'] button[type=submit]"),
        )
        .await?;
        wait_for(&c, "[role=status]").await?;
        assert!(c.source().await?.contains("Retención legal desde"));
        c.goto(&format!("{base}{case_path}#retention")).await?;
        screenshot(&c, "16-legal-hold").await?;
        submit(
            &c,
            &format!("form[action='{case_path}/legal-hold/release'] button[type=submit]"),
        )
        .await?;
        wait_for(&c, "[role=status]").await?;
        c.goto(&format!("{base}{case_path}/erase")).await?;
        assert!(c.source().await?.contains("Qué ocurre al suprimir"));
        type_into(&c, "confirm", "GTM-ASOC1-2026-0001").await?;
        screenshot(&c, "17-erase").await?;
        submit(&c, "form[action$='/erase'] button[type=submit]").await?;
        wait_for(&c, "[role=status]").await?;
        let src = c.source().await?;
        assert!(src.contains("Persona anonimizada.") && !src.contains("Xiomara"));
        screenshot(&c, "18-anonymised").await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = c.close().await;
    result.unwrap();
    // Every step is in the audit trail.
    let actions: Vec<String> = node
        .audit_actions()
        .await
        .into_iter()
        .map(|(a, _, _)| a)
        .collect();
    for a in [
        "person.search",
        "case.create",
        "case.read",
        "service.add",
        "proceeding.add",
        "case.list",
        "case.update",
        "case.legal_hold_place",
        "case.legal_hold_release",
        "person.erase",
    ] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} missing from the audit trail"
        );
    }
}

#[tokio::test]
async fn a_coordinator_publishes_a_service_and_a_caseworker_finds_it_in_the_directory_in_chromium()
{
    if std::env::var("SKIP_BROWSER_TESTS").as_deref() == Ok("1") {
        eprintln!("browser test skipped on purpose (SKIP_BROWSER_TESTS=1)");
        return;
    }
    let node = TestNode::start().await;
    let org = node.org("ASOC1").await;
    let (_, secret) = node
        .user("coordinacion", "org_admin", Some(&org), true)
        .await;
    let secret = secret.unwrap();
    node.user("gestora", "caseworker", Some(&org), false).await;
    let (c, _driver, _profile) = browser().await;
    let base = node.base.clone();
    let result = async {
        // The coordinator signs in (second factor) and adds a service.
        log_in_with_code(&c, &base, "coordinacion", PASSWORD, &secret).await?;
        c.goto(&format!("{base}/directory/services/new")).await?;
        assert_eq!(c.title().await?, "Agregar un servicio — Puente");
        choose(&c, "select[name=service_type]", "SHELTER").await?;
        tick(&c, "populations", "MINORS").await?;
        tick(&c, "subdivisions", "GT-QZ").await?;
        tick(&c, "languages", "quc").await?;
        type_into(&c, "contact", "Tel. +502 7761 0000 · refugio@asoc1.demo").await?;
        type_into(&c, "notes", "Albergue temporal abierto las 24 horas").await?;
        screenshot(&c, "20-directory-service-form").await?;
        submit(
            &c,
            "form[action='/directory/services/new'] button[type=submit]",
        )
        .await?;
        wait_path(&c, "/directory/services").await?;
        assert!(c.source().await?.contains("Servicio guardado y publicado."));
        c.find(Locator::XPath(
            "//button[normalize-space()='Cerrar sesión']",
        ))
        .await?
        .click()
        .await?;
        wait_path(&c, "/login").await?;

        // A caseworker finds it by a place's name, through the navigation.
        type_into(&c, "username", "gestora").await?;
        type_into(&c, "password", PASSWORD).await?;
        press(&c, "button[type=submit]:not([name])").await?;
        wait_path(&c, "/").await?;
        c.find(Locator::XPath("//nav//a[normalize-space()='Directorio']"))
            .await?
            .click()
            .await?;
        wait_path(&c, "/directory").await?;
        assert_eq!(
            c.title().await?,
            "Directorio regional de servicios — Puente"
        );
        type_into(&c, "q", "quetzaltenango").await?;
        choose(&c, "select[name=population]", "MINORS").await?;
        submit(&c, "form[action='/directory'] button[type=submit]").await?;
        wait_for(&c, "main article").await?;
        let src = c.source().await?;
        assert!(src.contains("Servicios: 1 de 1"), "one service found");
        assert!(src.contains("Org ASOC1") && src.contains("Quetzaltenango"));
        assert!(src.contains("refugio@asoc1.demo"));
        c.execute(
            "document.getElementById('sec-results').scrollIntoView();",
            vec![],
        )
        .await?;
        screenshot(&c, "21-directory-search").await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = c.close().await;
    result.unwrap();
    let actions: Vec<String> = node
        .audit_actions()
        .await
        .into_iter()
        .map(|(a, _, _)| a)
        .collect();
    assert!(actions.iter().any(|a| a == "directory.service_create"));
}
