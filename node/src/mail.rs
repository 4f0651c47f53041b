//! E-mail notices: when `[smtp]` is configured, each notification of a user who gave an
//! address for notices ("Mi cuenta") is also sent by e-mail, once.
//!
//! The e-mail says only that there is a new notice, its kind (the label of the notices page:
//! "Llegó una referencia") and the link to the node's notices page. Never a name, a case
//! number, a country, a referral id or anything else of a referral: e-mail leaves the node
//! unencrypted at rest, in mailboxes this node does not control.
//!
//! A loop ([`start`]) sends what is due every minute, and soon after a step of a referral
//! wrote notifications. A notification is marked e-mailed once the SMTP server accepted the
//! message; after a failure it stays for the next run. Notifications older than 24 hours are
//! marked without sending, so a node back from a long outage does not flood mailboxes. Logs
//! name the user id and the kind of SMTP error only: never the address, nor the server's
//! answer (it may quote the address).
//!
//! With several replicas each runs the loop; two replicas that pick the same notification at
//! the same moment may both send it.

use std::time::Duration as StdDuration;

use chrono::Duration;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::AppState;
use crate::config::{SmtpConfig, SmtpSecurity};
use crate::error::{AppError, AppResult};
use crate::store::ref_sql::NotificationEmail;
use crate::web::Lang;

/// Notifications older than this are not e-mailed.
pub const MAX_AGE_HOURS: i64 = 24;
/// How often the loop looks for notifications to e-mail.
pub const INTERVAL: StdDuration = StdDuration::from_secs(60);
/// Time for one SMTP command.
const SMTP_TIMEOUT: StdDuration = StdDuration::from_secs(30);
/// Notifications per run; the rest wait for the next one.
const BATCH: i64 = 200;
/// Longest address for notices (RFC 5321's path limit).
pub const ADDRESS_MAX: usize = 254;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MailRun {
    /// Accepted by the SMTP server.
    pub sent: usize,
    /// Not accepted: left for the next run.
    pub failed: usize,
    /// Older than [`MAX_AGE_HOURS`] (or with an address that cannot be used): marked without
    /// sending.
    pub skipped: u64,
}

/// Checks an address for notices as typed: at most [`ADDRESS_MAX`] characters, one `@` with
/// something on each side, no spaces or control characters, and an address the SMTP client
/// accepts. Returns it trimmed, or the error code of the field.
pub fn check_address(input: &str) -> Result<String, &'static str> {
    let a = input.trim();
    if a.is_empty() {
        return Err("required");
    }
    if a.chars().count() > ADDRESS_MAX {
        return Err("too_long");
    }
    let ok = a.matches('@').count() == 1
        && !a.starts_with('@')
        && !a.ends_with('@')
        && !a.chars().any(|c| c.is_whitespace() || c.is_control())
        && a.parse::<lettre::Address>().is_ok();
    if ok {
        Ok(a.to_owned())
    } else {
        Err("email_format")
    }
}

/// The subject and body of the e-mail for a notification of `kind`, in `lang`.
pub fn notice_text(st: &AppState, lang: Lang, kind: &str, base_url: &str) -> (String, String) {
    let i18n = &st.web.i18n;
    let subject = i18n.tr(lang, "mail-notice-subject", &[]);
    let key = format!("ref-notification-{kind}");
    let label = if i18n.has(lang, &key) {
        i18n.tr(lang, &key, &[])
    } else {
        i18n.tr(lang, "ref-notification", &[])
    };
    (subject, format!("{label}\n\n{base_url}/notifications\n"))
}

/// The host of a web address (`https://host:port/path` → `host`).
fn url_host(url: &str) -> &str {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or(rest);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    authority.split(':').next().unwrap_or(authority)
}

/// An SMTP connection's settings and the sender.
struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    base_url: String,
    /// The node's host name, for `EHLO` and the `Message-ID`.
    host: String,
}

impl Mailer {
    fn new(c: &SmtpConfig) -> AppResult<Mailer> {
        let builder = match c.security {
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&c.host)
                .map_err(|e| AppError::internal(format!("smtp settings: {}", error_kind(&e))))?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&c.host)
                .map_err(|e| AppError::internal(format!("smtp settings: {}", error_kind(&e))))?,
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.host),
        };
        let host = url_host(c.base_url()).to_owned();
        let hello = match host.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(ip)) => ClientId::Ipv4(ip),
            Ok(std::net::IpAddr::V6(ip)) => ClientId::Ipv6(ip),
            Err(_) => ClientId::Domain(host.clone()),
        };
        let mut builder = builder
            .port(c.port)
            .timeout(Some(SMTP_TIMEOUT))
            .hello_name(hello);
        if let (Some(user), Some(password)) = (&c.username, &c.password) {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        let from = c
            .from
            .parse::<Mailbox>()
            .map_err(|_| AppError::internal("smtp.from is not an e-mail address"))?;
        Ok(Mailer {
            transport: builder.build(),
            from,
            base_url: c.base_url().to_owned(),
            host,
        })
    }

    fn message(&self, st: &AppState, n: &NotificationEmail) -> Option<Message> {
        let to: lettre::Address = n.email.parse().ok()?;
        let lang = n
            .language
            .as_deref()
            .and_then(Lang::parse)
            .unwrap_or(Lang::Es);
        let (subject, body) = notice_text(st, lang, &n.kind, &self.base_url);
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(subject)
            .message_id(Some(format!(
                "<{}@{}>",
                uuid::Uuid::now_v7().simple(),
                self.host
            )))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .ok()
    }
}

/// A loggable kind of SMTP error: never the server's text (it may quote the address).
fn error_kind(e: &lettre::transport::smtp::Error) -> String {
    if let Some(code) = e.status() {
        let class = if e.is_permanent() {
            "permanent"
        } else {
            "transient"
        };
        return format!("{class} {code}");
    }
    if e.is_timeout() {
        "timeout"
    } else if e.is_tls() {
        "tls"
    } else if e.is_response() {
        "response"
    } else if e.is_client() {
        "client"
    } else {
        "network"
    }
    .to_owned()
}

/// Sends the e-mails due now (nothing without `[smtp]`).
pub async fn send_pending(st: &AppState) -> AppResult<MailRun> {
    let Some(cfg) = st.config.smtp.as_ref() else {
        return Ok(MailRun::default());
    };
    let now = st.clock.now();
    let since = now - Duration::hours(MAX_AGE_HOURS);
    let mut run = MailRun {
        skipped: st.store.skip_old_notification_emails(since, now).await?,
        ..MailRun::default()
    };
    let due = st.store.notifications_to_email(since, BATCH).await?;
    if due.is_empty() {
        return Ok(run);
    }
    let mailer = Mailer::new(cfg)?;
    for n in &due {
        let Some(msg) = mailer.message(st, n) else {
            tracing::warn!(user_id = %n.user_id, "notice e-mail not sent: the address cannot be used");
            st.store
                .mark_notification_emailed(n.id, st.clock.now())
                .await?;
            run.skipped += 1;
            continue;
        };
        match mailer.transport.send(msg).await {
            Ok(_) => {
                st.store
                    .mark_notification_emailed(n.id, st.clock.now())
                    .await?;
                run.sent += 1;
            }
            Err(e) => {
                let kind = error_kind(&e);
                tracing::warn!(user_id = %n.user_id, error = %kind, "notice e-mail not sent; retried at the next run");
                run.failed += 1;
                if !e.is_permanent() {
                    // The server is unreachable or busy: the rest waits for the next run.
                    break;
                }
            }
        }
    }
    Ok(run)
}

/// One run of the loop, logged.
async fn run_logged(st: &AppState) {
    match send_pending(st).await {
        Ok(r) if r == MailRun::default() => {}
        Ok(r) => tracing::info!(
            sent = r.sent,
            failed = r.failed,
            skipped = r.skipped,
            "notice e-mails"
        ),
        Err(e) => tracing::error!(error = %e, "cannot send notice e-mails"),
    }
}

/// Starts the e-mail loop when `[smtp]` is configured; it ends when `stop` turns true.
pub fn start(st: AppState, mut stop: watch::Receiver<bool>) -> Option<JoinHandle<()>> {
    st.config.smtp.as_ref()?;
    let mut written = crate::store::ref_sql::notifications_written();
    Some(tokio::spawn(async move {
        loop {
            run_logged(&st).await;
            tokio::select! {
                () = tokio::time::sleep(INTERVAL) => {}
                _ = written.changed() => {}
                r = stop.changed() => {
                    if r.is_err() {
                        return;
                    }
                }
            }
            if *stop.borrow() {
                return;
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_for_notices() {
        assert_eq!(
            check_address("  ana@asoc1.org.gt "),
            Ok("ana@asoc1.org.gt".into())
        );
        assert_eq!(check_address(""), Err("required"));
        for bad in [
            "ana",
            "ana@",
            "@asoc1.org",
            "ana@@asoc1.org",
            "ana@asoc1@org",
            "ana maria@asoc1.org",
            "ana@asoc1.org\u{7}",
        ] {
            assert_eq!(check_address(bad), Err("email_format"), "{bad:?}");
        }
        let long = format!("{}@example.org", "a".repeat(250));
        assert_eq!(check_address(&long), Err("too_long"));
    }

    #[test]
    fn every_security_setting_builds_a_transport_without_connecting() {
        for security in [
            SmtpSecurity::Starttls,
            SmtpSecurity::Tls,
            SmtpSecurity::None,
        ] {
            let c = SmtpConfig {
                host: "smtp.example.org".into(),
                port: 587,
                security,
                username: Some("avisos".into()),
                password: Some(crate::config::Secret::new("x")),
                from: "Puente <avisos@example.org>".into(),
                base_url: "https://puente.example.org/".into(),
            };
            let m = Mailer::new(&c).unwrap_or_else(|e| panic!("{security:?}: {e}"));
            assert_eq!(m.base_url, "https://puente.example.org");
            assert_eq!(m.host, "puente.example.org");
        }
    }

    #[test]
    fn the_host_of_the_base_url() {
        assert_eq!(url_host("https://puente.example.org"), "puente.example.org");
        assert_eq!(url_host("http://127.0.0.1:8080/x"), "127.0.0.1");
        assert_eq!(url_host("https://[::1]:8443"), "::1");
    }
}
