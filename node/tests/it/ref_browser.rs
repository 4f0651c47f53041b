//! Headless Chromium drives the real demo federation (`puente demo`, a subprocess serving
//! GTM, HND, SLV and REG): a Guatemalan caseworker refers Luis Fernando to a Honduran
//! organisation chosen from the regional directory, the Honduran caseworker of that
//! organisation receives, accepts, reports his arrival and closes it, Guatemala follows every
//! step; then a second referral of the same case is recalled and Honduras is left with no
//! personal data. Both audit trails are read on their /audit pages by the demo administrators
//! (second factor from the secrets the demo prints). In Spanish, through the pages only.
//!
//! The demo is always SQLite (TEST_DATABASE_URL plays no part). Honours SKIP_BROWSER_TESTS=1.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::error::CmdError;
use fantoccini::{Client, Locator};
use puente_node::demo::DEMO_PASSWORD;

use crate::browser::{browser, press, screenshot, submit, type_into, wait_for, wait_path};

/// The demo federation, running as a subprocess; killed when dropped.
pub(crate) struct Demo {
    child: Child,
    base: u16,
    data: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Demo {
    /// The web address of member `i` (0 GTM, 1 HND, 2 SLV, 3 REG).
    pub(crate) fn web(&self, i: u16) -> String {
        format!("http://127.0.0.1:{}", self.base + i)
    }

    /// The last lines of what the demo printed (for a failure's message).
    pub(crate) fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// The TOTP secret of `admin` on `country`, from the log-ins the demo keeps.
    pub(crate) fn admin_totp(&self, country: &str) -> String {
        let logins = std::fs::read_to_string(self.data.join("demo-logins.txt")).unwrap();
        let mut current = "";
        for line in logins.lines() {
            if let Some((c, _)) = line.split_once(" — ") {
                current = c.trim();
            } else if current == country && line.trim_start().starts_with("admin ") {
                if let Some((_, secret)) = line.split_once("TOTP key: ") {
                    return secret.trim().to_owned();
                }
            }
        }
        panic!("no TOTP key for admin of {country} in demo-logins.txt:\n{logins}");
    }
}

fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A random base port with base..base+3 and base+100..base+103 free (below the usual
/// ephemeral range, so that outgoing connections do not take them meanwhile).
fn pick_base() -> u16 {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
        ^ std::process::id().rotate_left(16);
    let mut x = seed;
    for _ in 0..200 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let base = 12_000 + u16::try_from((x >> 8) % 18_000).unwrap();
        if (0..4).all(|i| port_free(base + i) && port_free(base + 100 + i)) {
            return base;
        }
    }
    panic!("no free ports for the demo");
}

/// Starts `puente demo` in a fresh directory and waits until its four nodes are ready;
/// tries other ports if it fails to start (another process took one meanwhile).
pub(crate) async fn start_demo() -> Demo {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    for attempt in 1..=4 {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("demo");
        let log = dir.path().join("demo.log");
        let out = std::fs::File::create(&log).unwrap();
        let base = pick_base();
        let child = Command::new(env!("CARGO_BIN_EXE_puente"))
            .arg("demo")
            .arg("--data-dir")
            .arg(&data)
            .arg("--listen")
            .arg(format!("127.0.0.1:{base}"))
            .env_remove("TEST_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let mut demo = Demo {
            child,
            base,
            data,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(180);
        let mut ready = false;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = demo.child.try_wait() {
                eprintln!(
                    "demo on {base} exited ({status}) at attempt {attempt}:\n{}",
                    demo.log_tail()
                );
                break;
            }
            let mut all = true;
            for i in 0..4 {
                let ok = match http.get(format!("{}/readyz", demo.web(i))).send().await {
                    Ok(r) => r.status().is_success(),
                    Err(_) => false,
                };
                if !ok {
                    all = false;
                    break;
                }
            }
            if all {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        if ready {
            return demo;
        }
        eprintln!(
            "demo on {base} not ready at attempt {attempt}:\n{}",
            demo.log_tail()
        );
    }
    panic!("the demo did not start");
}

// ---------------------------------------------------------------- page helpers

pub(crate) async fn log_in(c: &Client, base: &str, username: &str) -> Result<(), CmdError> {
    c.goto(&format!("{base}/login")).await?;
    type_into(c, "username", username).await?;
    type_into(c, "password", DEMO_PASSWORD).await?;
    press(c, "button[type=submit]:not([name])").await?;
    wait_path(c, "/").await
}

pub(crate) async fn log_in_with_totp(
    c: &Client,
    base: &str,
    username: &str,
    secret: &str,
) -> Result<(), CmdError> {
    crate::browser::log_in_with_code(c, base, username, DEMO_PASSWORD, secret).await
}

pub(crate) async fn log_out(c: &Client) -> Result<(), CmdError> {
    c.find(Locator::XPath(
        "//button[normalize-space()='Cerrar sesión']",
    ))
    .await?
    .click()
    .await?;
    wait_path(c, "/login").await
}

/// Waits until the browser is on a page whose path starts with `prefix`; returns the path.
async fn wait_path_prefix(c: &Client, prefix: &str) -> Result<String, CmdError> {
    for _ in 0..100 {
        let path = c.current_url().await?.path().to_owned();
        if path.starts_with(prefix) {
            return Ok(path);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "browser did not reach {prefix}…; it is at {}",
        c.current_url().await?
    );
}

async fn choose(c: &Client, css: &str, value: &str) -> Result<(), CmdError> {
    c.find(Locator::Css(css))
        .await?
        .select_by_value(value)
        .await
}

async fn tick(c: &Client, name: &str, value: &str) -> Result<(), CmdError> {
    c.find(Locator::Css(&format!(
        "input[name='{name}'][value='{value}']"
    )))
    .await?
    .click()
    .await
}

/// Opens the collapsed section (`<details>`) holding the form posting to `action`.
async fn open_details(c: &Client, action: &str) -> Result<(), CmdError> {
    c.find(Locator::XPath(&format!(
        "//form[@action='{action}']/ancestor::details[1]/summary"
    )))
    .await?
    .click()
    .await
}

/// The text of the page's notice (`[role=status]`).
async fn notice(c: &Client) -> Result<String, CmdError> {
    wait_for(c, "[role=status]").await?.text().await
}

/// The state badge of a referral page (the first badge under the heading).
async fn state_badge(c: &Client) -> Result<String, CmdError> {
    Ok(c.find(Locator::XPath(
        "//h1/following-sibling::p[1]/span[contains(concat(' ', @class, ' '), ' badge ')][1]",
    ))
    .await?
    .text()
    .await?
    .trim()
    .to_owned())
}

/// Reloads `url` every half second until its state badge reads one of `want` (at most
/// `secs` seconds); returns the label seen.
async fn wait_state(c: &Client, url: &str, want: &[&str], secs: u64) -> Result<String, CmdError> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut seen = String::new();
    while Instant::now() < deadline {
        c.goto(url).await?;
        seen = state_badge(c).await?;
        if want.contains(&seen.as_str()) {
            return Ok(seen);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{url} did not reach {want:?} within {secs} s; it shows {seen:?}");
}

/// The steps of a referral page's signed history, as labelled (first line of each row).
async fn history_steps(c: &Client) -> Result<Vec<String>, CmdError> {
    let mut out = Vec::new();
    for th in c
        .find_all(Locator::Css("#sec-history ~ div table tbody th[scope=row]"))
        .await?
    {
        let text = th.text().await?;
        out.push(text.lines().next().unwrap_or_default().trim().to_owned());
    }
    Ok(out)
}

fn assert_steps(steps: &[String], want: &[&str], side: &str) {
    for w in want {
        assert!(
            steps.iter().any(|s| s == w),
            "{side}: history step {w:?} missing from {steps:?}"
        );
    }
}

/// Opens the referral form of the case at `case_path` for Honduras, waiting (reloading) until
/// the Honduran directory has reached this node and offers `org`.
async fn refer_form_for_honduras(
    c: &Client,
    base: &str,
    case_path: &str,
    org: &str,
) -> Result<(), CmdError> {
    c.goto(&format!("{base}{case_path}")).await?;
    c.find(Locator::XPath(
        "//a[normalize-space()='Referir a otro país']",
    ))
    .await?
    .click()
    .await?;
    wait_path(c, &format!("{case_path}/refer")).await?;
    let title = c.title().await?;
    assert!(
        title.starts_with("Referir el caso ") && title.ends_with(" a otro país — Puente"),
        "{title}"
    );
    choose(c, "select[name=destination]", "HND").await?;
    submit(
        c,
        &format!("form[method=get][action='{case_path}/refer'] button[type=submit]"),
    )
    .await?;
    let option = format!("select[name=dest_org] option[value='{org}']");
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        wait_for(c, "select[name=dest_org]").await?;
        if c.find(Locator::Css(&option)).await.is_ok() {
            return Ok(());
        }
        assert!(
            Instant::now() < deadline,
            "the Honduran directory did not reach Guatemala within 40 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        c.refresh().await?;
    }
}

/// Fills and posts the referral form (already open for Honduras) to `org` and the service of
/// that organisation named `org_name`; returns the new referral's path.
async fn fill_and_send(
    c: &Client,
    case_path: &str,
    org: &str,
    org_name: &str,
    urgency: &str,
    message: &str,
    shot: Option<&str>,
) -> Result<String, CmdError> {
    // The person's referral consent for Honduras comes pre-selected with its four groups.
    assert!(
        c.find(Locator::Css("input[name=consent_id]:checked"))
            .await
            .is_ok(),
        "the consent for Honduras is pre-selected"
    );
    for g in ["IDENTITY", "CONTACT", "DEMOGRAPHICS", "TRAFFICKING_PROCESS"] {
        assert!(
            c.find(Locator::Css(&format!(
                "input[name=field_groups][value={g}]:checked"
            )))
            .await
            .is_ok(),
            "{g} pre-checked from the consent"
        );
    }
    for g in ["ASSISTANCE", "LEGAL_PROCEEDINGS", "TIMELINE"] {
        assert!(
            c.find(Locator::Css(&format!(
                "input[name=field_groups][value={g}]:checked"
            )))
            .await
            .is_err(),
            "{g} not authorised, not checked"
        );
    }
    choose(c, "select[name=dest_org]", org).await?;
    let service = c
        .find(Locator::Css(&format!(
            "select[name=dest_service] optgroup[label='{org_name}'] option"
        )))
        .await?
        .attr("value")
        .await?
        .expect("a service option has a value");
    choose(c, "select[name=dest_service]", &service).await?;
    choose(c, "select[name=reason]", "RETURN_ASSISTANCE").await?;
    choose(c, "select[name=urgency]", urgency).await?;
    tick(c, "needs", "LEGAL").await?;
    tick(c, "needs", "RETURN_REINTEGRATION").await?;
    type_into(c, "message", message).await?;
    if let Some(name) = shot {
        c.execute(
            "document.getElementById('sec-step-where').scrollIntoView();",
            vec![],
        )
        .await?;
        screenshot(c, name).await?;
    }
    submit(
        c,
        &format!("form[method=post][action='{case_path}/refer'] button[type=submit]"),
    )
    .await?;
    let path = wait_path_prefix(c, "/referrals/").await?;
    assert_eq!(
        notice(c).await?,
        "Referencia enviada. Se entregará al país de destino en cuanto haya conexión."
    );
    Ok(path)
}

/// Whether the audit page lists `action` (read filtered by it, as an administrator would).
async fn audited(c: &Client, base: &str, action: &str) -> Result<bool, CmdError> {
    c.goto(&format!("{base}/audit?action={action}")).await?;
    assert_eq!(c.title().await?, "Registro de auditoría — Puente");
    Ok(c.source()
        .await?
        .contains(&format!("<code>{action}</code>")))
}

async fn check_audit(
    c: &Client,
    base: &str,
    side: &str,
    present: &[&str],
    absent: &[&str],
) -> Result<(), CmdError> {
    for a in present {
        assert!(
            audited(c, base, a).await?,
            "{side}: {a} missing from the audit trail"
        );
    }
    for a in absent {
        assert!(
            !audited(c, base, a).await?,
            "{side}: {a} is in the audit trail of the wrong node"
        );
    }
    Ok(())
}

// ---------------------------------------------------------------- the test

#[tokio::test]
async fn a_referral_travels_from_guatemala_to_honduras_and_a_second_is_recalled_in_chromium() {
    if std::env::var("SKIP_BROWSER_TESTS").as_deref() == Ok("1") {
        eprintln!("browser test skipped on purpose (SKIP_BROWSER_TESTS=1)");
        return;
    }
    let started = Instant::now();
    let demo = start_demo().await;
    eprintln!("demo ready on {} after {:?}", demo.base, started.elapsed());
    let gtm = demo.web(0);
    let hnd = demo.web(1);
    // The nodes share 127.0.0.1 and so their cookies: one browser for each country.
    let (g, _gd, _gp) = browser().await;
    let (h, _hd, _hp) = browser().await;
    let result = run(&g, &h, &demo, &gtm, &hnd).await;
    let _ = g.close().await;
    let _ = h.close().await;
    if let Err(e) = &result {
        eprintln!("demo log:\n{}", demo.log_tail());
        panic!("browser error: {e}");
    }
    eprintln!("referral browser test took {:?}", started.elapsed());
}

async fn run(g: &Client, h: &Client, demo: &Demo, gtm: &str, hnd: &str) -> Result<(), CmdError> {
    const CJVS: &str = "Clínica Jurídica del Valle de Sula (demo)";

    // 1. Guatemala: the caseworker of ASOC1 finds Luis Fernando's case and refers him.
    log_in(g, gtm, "gestora").await?;
    g.goto(&format!("{gtm}/cases")).await?;
    type_into(g, "q", "Luis Fernando").await?;
    submit(g, "form[method=get][action='/cases'] button[type=submit]").await?;
    wait_for(g, "a[href^='/cases/'] code").await?;
    g.find(Locator::XPath(
        "//tr[contains(., 'Luis Fernando')]//a[starts-with(@href, '/cases/')][code]",
    ))
    .await?
    .click()
    .await?;
    let case_path = wait_path_prefix(g, "/cases/").await?;
    assert!(g.source().await?.contains("Luis Fernando"));

    refer_form_for_honduras(g, gtm, &case_path, "CJVS").await?;
    let ref1 = fill_and_send(
        g,
        &case_path,
        "CJVS",
        CJVS,
        "PRIORITY",
        "Luis Fernando regresa a San Pedro Sula la próxima semana y necesita asesoría legal.",
        Some("40-referral-form"),
    )
    .await?;
    let g_ref1 = format!("{gtm}{ref1}");
    let first = state_badge(g).await?;
    eprintln!("first referral, right after sending: {first:?}");
    assert!(
        ["Pendiente de entrega", "Entregada"].contains(&first.as_str()),
        "just sent: {first:?}"
    );
    wait_state(g, &g_ref1, &["Entregada"], 20).await?;
    let src = g.source().await?;
    assert!(src.contains("Clínica Jurídica del Valle de Sula (demo) (CJVS)"));
    assert!(
        src.contains("Luis Fernando"),
        "the sender sees what it sent"
    );
    screenshot(g, "41-referral-sent").await?;

    // 2. Honduras: the caseworker of CJVS (`gestor2`) is told, reads, accepts.
    log_in(h, hnd, "gestor2").await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(b) = h
            .find(Locator::Css("header a[href='/notifications'] .badge"))
            .await
        {
            assert_eq!(b.text().await?.trim(), "1 sin leer");
            break;
        }
        assert!(Instant::now() < deadline, "no notification in Honduras");
        tokio::time::sleep(Duration::from_millis(500)).await;
        h.refresh().await?;
    }
    h.find(Locator::Css("header a[href='/notifications']"))
        .await?
        .click()
        .await?;
    wait_path(h, "/notifications").await?;
    h.find(Locator::XPath(&format!(
        "//a[@href='{ref1}'][normalize-space()='Llegó una referencia']"
    )))
    .await?
    .click()
    .await?;
    wait_path(h, &ref1).await?;
    assert_eq!(state_badge(h).await?, "Recibida");
    let src = h.source().await?;
    assert!(src.contains("Luis Fernando") && src.contains("Cruz Mejía"));
    assert!(src.contains("+504 9999 0000"), "contact group travelled");
    assert!(
        !src.contains("En la cola nacional"),
        "routed to CJVS, not to the national queue"
    );
    assert!(src.contains("necesita asesoría legal"), "the message");
    assert!(
        !src.contains("Caso de demostración"),
        "the narrative never travels"
    );
    screenshot(h, "42-referral-received").await?;
    submit(
        h,
        &format!("form[action='{ref1}/accept'] button[type=submit]"),
    )
    .await?;
    wait_path(h, &ref1).await?;
    assert_eq!(
        notice(h).await?,
        "Referencia aceptada: se abrió un caso en su organización."
    );
    assert_eq!(state_badge(h).await?, "Aceptada");
    let linked = h
        .find(Locator::XPath(
            "//dt[normalize-space()='Caso abierto en este país']/following-sibling::dd[1]/a",
        ))
        .await?;
    let linked_case = linked.attr("href").await?.expect("a link to the case");
    screenshot(h, "43-referral-accepted").await?;
    linked.click().await?;
    wait_path(h, &linked_case).await?;
    let src = h.source().await?;
    assert!(
        src.contains("Luis Fernando") && src.contains("HND-CJVS-"),
        "a linked case in Honduras"
    );

    // Guatemala sees it accepted before anything else happens.
    wait_state(g, &g_ref1, &["Aceptada"], 20).await?;

    // Honduras reports his arrival, then closes the referral.
    h.goto(&format!("{hnd}{ref1}")).await?;
    open_details(h, &format!("{ref1}/update")).await?;
    choose(
        h,
        &format!("form[action='{ref1}/update'] select[name=update]"),
        "ARRIVAL_CONFIRMED",
    )
    .await?;
    h.find(Locator::Css(&format!(
        "form[action='{ref1}/update'] textarea[name=note]"
    )))
    .await?
    .send_keys("Llegó a San Pedro Sula; primera cita legal agendada.")
    .await?;
    submit(
        h,
        &format!("form[action='{ref1}/update'] button[type=submit]"),
    )
    .await?;
    assert_eq!(notice(h).await?, "Novedad enviada.");
    open_details(h, &format!("{ref1}/close")).await?;
    h.find(Locator::Css(&format!(
        "form[action='{ref1}/close'] textarea[name=note]"
    )))
    .await?
    .send_keys("Atención iniciada; seguimos con el caso en Honduras.")
    .await?;
    submit(
        h,
        &format!("form[action='{ref1}/close'] button[type=submit]"),
    )
    .await?;
    assert_eq!(notice(h).await?, "Referencia cerrada.");
    assert_eq!(state_badge(h).await?, "Cerrada");
    assert_steps(
        &history_steps(h).await?,
        &[
            "Referencia recibida",
            "Aceptada",
            "Novedad enviada",
            "Cerrada",
        ],
        "HND",
    );

    // 3. Guatemala: closed, every step in the history.
    wait_state(g, &g_ref1, &["Cerrada"], 20).await?;
    let steps = history_steps(g).await?;
    assert_steps(
        &steps,
        &[
            "Referencia registrada",
            "Referencia enviada",
            "Aceptada",
            "Novedad recibida",
            "Cerrada",
        ],
        "GTM",
    );
    let src = g.source().await?;
    assert!(src.contains("Llegada confirmada"), "the update's kind");
    assert!(
        src.contains("primera cita legal agendada"),
        "the update's note"
    );
    assert!(src.contains("Entregado"), "the offer's delivery");
    g.execute(
        "document.getElementById('sec-history').scrollIntoView();",
        vec![],
    )
    .await?;
    screenshot(g, "44-referral-history").await?;

    // 4. A second referral of the same case, recalled by Guatemala.
    refer_form_for_honduras(g, gtm, &case_path, "CJVS").await?;
    let ref2 = fill_and_send(
        g,
        &case_path,
        "CJVS",
        CJVS,
        "ROUTINE",
        "Segunda referencia: apoyo para el retorno.",
        None,
    )
    .await?;
    assert_ne!(ref1, ref2, "a new referral");
    let g_ref2 = format!("{gtm}{ref2}");
    wait_state(g, &g_ref2, &["Entregada"], 20).await?;
    // Honduras has received it with the person's data.
    let h_ref2 = format!("{hnd}{ref2}");
    wait_state(h, &h_ref2, &["Recibida"], 20).await?;
    assert!(h.source().await?.contains("Luis Fernando"));

    g.goto(&g_ref2).await?;
    open_details(g, &format!("{ref2}/recall")).await?;
    g.find(Locator::Css(&format!(
        "form[action='{ref2}/recall'] textarea[name=note]"
    )))
    .await?
    .send_keys("Enviada por error: ya la atiende la primera referencia.")
    .await?;
    submit(
        g,
        &format!("form[action='{ref2}/recall'] button[type=submit]"),
    )
    .await?;
    assert_eq!(notice(g).await?, "Referencia retirada.");
    let right_after = state_badge(g).await?;
    eprintln!("second referral, right after the recall: {right_after:?}");
    assert!(
        ["Retiro en curso", "Retirada"].contains(&right_after.as_str()),
        "just recalled: {right_after:?}"
    );
    wait_state(g, &g_ref2, &["Retirada"], 20).await?;
    let src = g.source().await?;
    assert!(src.contains("Retirada · el país de destino confirmó el borrado"));
    assert_steps(
        &history_steps(g).await?,
        &[
            "Referencia registrada",
            "Referencia enviada",
            "Retiro enviado",
            "El país de destino confirmó el borrado",
        ],
        "GTM recall",
    );
    assert!(
        g.find(Locator::Css(&format!("form[action='{ref2}/recall']")))
            .await
            .is_err(),
        "no second recall"
    );
    screenshot(g, "45-referral-recalled").await?;

    // Honduras: recalled, nothing of the person left.
    wait_state(h, &h_ref2, &["Retirada"], 20).await?;
    let src = h.source().await?;
    assert!(src.contains("Los datos de la persona se borraron"));
    for personal in [
        "Luis Fernando",
        "Cruz Mejía",
        "+504 9999 0000",
        "apoyo para el retorno",
    ] {
        assert!(
            !src.contains(personal),
            "{personal:?} still shown in Honduras after the recall"
        );
    }
    assert_steps(
        &history_steps(h).await?,
        &["Referencia recibida", "Retiro recibido: datos borrados"],
        "HND recall",
    );
    assert!(
        h.find(Locator::Css("form[action$='/accept']"))
            .await
            .is_err(),
        "nothing to accept"
    );
    screenshot(h, "46-referral-recalled-received").await?;

    // 5. Both audit trails, read by each node's administrator.
    log_out(g).await?;
    log_in_with_totp(g, gtm, "admin", &demo.admin_totp("GTM")).await?;
    check_audit(
        g,
        gtm,
        "GTM",
        &[
            "referral.create",
            "referral.send",
            "referral.read",
            "referral.accepted",
            "referral.update_received",
            "referral.closed",
            "referral.recall",
            "referral.recall_confirmed",
        ],
        &[
            "referral.receive",
            "referral.update_sent",
            "referral.recall_received",
        ],
    )
    .await?;
    log_out(h).await?;
    log_in_with_totp(h, hnd, "admin", &demo.admin_totp("HND")).await?;
    check_audit(
        h,
        hnd,
        "HND",
        &[
            "referral.receive",
            "referral.read",
            "referral.accepted",
            "referral.update_sent",
            "referral.closed",
            "referral.recall_received",
        ],
        &[
            "referral.create",
            "referral.send",
            "referral.update_received",
            "referral.recall_confirmed",
        ],
    )
    .await?;
    // The case of Luis Fernando opened in Honduras on acceptance is in its trail too.
    assert!(audited(h, hnd, "case.create").await?);
    Ok(())
}
