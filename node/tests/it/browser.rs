//! Headless Chromium drives the real node: log-in with TOTP, creating a user, log-out, in
//! Spanish. Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); fails
//! when they are missing unless SKIP_BROWSER_TESTS=1 says to skip on purpose.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use puente_node::auth::totp;

use crate::helpers::{unix_now, TestNode, PASSWORD};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for the browser to arrive at `path` (a click returns before the next page loads).
async fn wait_path(c: &fantoccini::Client, path: &str) -> Result<(), fantoccini::error::CmdError> {
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

/// Saves what the browser shows (for reviewing the pages, and later the user manual).
async fn screenshot(c: &fantoccini::Client, name: &str) -> Result<(), fantoccini::error::CmdError> {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).ok();
    std::fs::write(dir.join(format!("{name}.png")), c.screenshot().await?).ok();
    Ok(())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn admin_logs_in_with_totp_creates_a_user_and_logs_out_in_chromium() {
    if std::env::var("SKIP_BROWSER_TESTS").as_deref() == Ok("1") {
        eprintln!("browser test skipped on purpose (SKIP_BROWSER_TESTS=1)");
        return;
    }
    let driver_bin = "/usr/bin/chromedriver";
    assert!(
        std::path::Path::new(driver_bin).exists(),
        "chromedriver missing: apt-get install -y chromium chromium-driver (or SKIP_BROWSER_TESTS=1)"
    );
    let node = TestNode::start().await;
    let org = node.org("ASOC1").await;
    let (_, secret) = node.user("admin", "node_admin", None, true).await;
    let secret = secret.unwrap();

    let port = free_port();
    let _driver = Driver(
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
    assert!(user.must_change_password);
}
