//! Node configuration: a TOML file, every key overridable by a `PUENTE_…` environment
//! variable (nested keys with `__`, e.g. `PUENTE_SECURITY__REQUIRE_TOTP_FOR_ALL=true`).
//! Unknown keys, in the file or the environment, are refused by name. Secrets are wrapped in
//! [`Secret`], whose `Debug` and `Display` never show the value.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use puente_common::CountryCode;
use puente_federation::KeyId;
use serde::{Deserialize, Serialize};

/// A value that must never appear in logs or output.
#[derive(Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The node's country (ISO 3166-1 alpha-3), its federation id.
    pub country: CountryCode,
    /// Where the node keeps its files.
    pub data_dir: PathBuf,
    /// `sqlite://…` (default) or `postgres://…`; may hold a password.
    pub database_url: Secret,
    /// Address the web UI and API listen on.
    pub listen: SocketAddr,
    /// Serve HTTPS with this certificate. Without it the node speaks plain HTTP, which is
    /// only for loopback or behind a TLS-terminating proxy.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    pub keys: KeysConfig,
    #[serde(default)]
    pub security: SecurityConfig,
    #[serde(default)]
    pub http: HttpConfig,
    #[serde(default)]
    pub log: LogConfig,
    /// Membership of a federation: the mutual-TLS listener and delivery settings. Without
    /// it the node stands alone.
    #[serde(default)]
    pub federation: Option<FederationConfig>,
    #[serde(default)]
    pub referrals: ReferralsConfig,
    /// National statistics: the disclosure-control parameters (PRIVACY.md rules 3 and 5).
    #[serde(default)]
    pub stats: StatsConfig,
    /// How long case data is kept (the retention rule; absent: kept until erased on request).
    #[serde(default)]
    pub retention: RetentionConfig,
    /// An SMTP server for e-mail notices. Without it the node sends no e-mail.
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    /// A separate listener serving Prometheus `/metrics` (never on the web port). Without it
    /// the node serves no metrics.
    #[serde(default)]
    pub metrics: Option<MetricsConfig>,
}

/// The Prometheus metrics listener (`node/src/metrics.rs`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address of the metrics listener, e.g. `127.0.0.1:9464`; keep it on loopback or a
    /// monitoring network: it is plain HTTP without authentication.
    pub listen: SocketAddr,
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which the server must offer (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only to a relay on this machine (the host must be a loopback address).
    None,
}

impl SmtpSecurity {
    pub fn code(self) -> &'static str {
        match self {
            SmtpSecurity::Starttls => "starttls",
            SmtpSecurity::Tls => "tls",
            SmtpSecurity::None => "none",
        }
    }
}

/// The SMTP server that sends e-mail notices. A notice's e-mail says only that there is a
/// new notice, of which kind, with a link to the node: never victim data.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Host name (or address) of the SMTP server; with `starttls` and `tls` its certificate
    /// must be valid for this name.
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    #[serde(default)]
    pub security: SmtpSecurity,
    /// Log in with these credentials when set.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<Secret>,
    /// The sender, e.g. `Puente <avisos@puente.example.org>`.
    pub from: String,
    /// The node's public web address, for the link in the e-mail, e.g.
    /// `https://puente.example.org`.
    pub base_url: String,
}

fn default_smtp_port() -> u16 {
    587
}

impl SmtpConfig {
    /// Refuses what cannot work or would be unsafe, naming the key (never a value).
    fn check(&self) -> Result<(), ConfigError> {
        if self.host.trim().is_empty() {
            return Err(ConfigError("key `smtp.host` is empty".into()));
        }
        if self.security == SmtpSecurity::None && !is_loopback_host(&self.host) {
            return Err(ConfigError(
                "key `smtp.security` = \"none\" is only allowed for a loopback host (127.0.0.1, ::1, localhost): use \"starttls\" or \"tls\"".into(),
            ));
        }
        if self.username.is_some() != self.password.is_some() {
            return Err(ConfigError(
                "keys `smtp.username` and `smtp.password` go together".into(),
            ));
        }
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError(
                "key `smtp.from` is not an e-mail address (e.g. \"Puente <avisos@example.org>\")"
                    .into(),
            ));
        }
        let url = self.base_url.trim_end_matches('/');
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        if rest.is_none_or(|r| r.is_empty() || r.chars().any(char::is_whitespace)) {
            return Err(ConfigError(
                "key `smtp.base_url` must be the node's web address, starting with https:// (or http://)".into(),
            ));
        }
        Ok(())
    }

    /// `base_url` without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }
}

/// `127.0.0.0/8`, `::1` or `localhost`.
fn is_loopback_host(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The node's policy for cross-border referrals.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReferralsConfig {
    /// A referral made by a caseworker waits for an organisation coordinator's approval
    /// before it is signed and sent.
    pub require_approval: bool,
}

/// The node's retention rule (`node/src/retention.rs`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// A person is anonymised once every case of theirs has been closed for this many years
    /// and none is under a legal hold. Absent: the node anonymises nobody by itself.
    pub anonymise_closed_after_years: Option<u32>,
}

/// The longest retention period the rule accepts, in years.
pub const MAX_RETENTION_YEARS: u32 = 100;

impl RetentionConfig {
    fn check(&self) -> Result<(), ConfigError> {
        match self.anonymise_closed_after_years {
            Some(y) if y == 0 || y > MAX_RETENTION_YEARS => Err(ConfigError(format!(
                "retention.anonymise_closed_after_years must be between 1 and {MAX_RETENTION_YEARS} (got {y})"
            ))),
            _ => Ok(()),
        }
    }
}

fn retention_toml(r: &RetentionConfig) -> String {
    r.anonymise_closed_after_years
        .map(|y| format!("\n[retention]\nanonymise_closed_after_years = {y}\n"))
        .unwrap_or_default()
}

/// Disclosure control of the node's statistics (PRIVACY.md, "Aggregate releases").
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct StatsConfig {
    /// The threshold: a count in `1..k` is suppressed. At least 5 (refused at load below).
    pub k: u32,
    /// Round published counts and totals to this base (e.g. 5); none by default.
    pub rounding_base: Option<u32>,
    /// Publish the release the daily job prepares without review (`review = auto`).
    pub auto_publish: bool,
    /// Differential privacy (rule 9): the ε of one whole release, thousandths, split evenly
    /// over its tables. Absent: no noise.
    pub dp_epsilon_milli: Option<u32>,
    /// The most ε the releases of one calendar year may spend, thousandths.
    pub dp_yearly_cap_milli: u32,
}

/// The default yearly ε cap (ε 3.0).
pub const DEFAULT_DP_YEARLY_CAP_MILLI: u32 = 3000;

impl Default for StatsConfig {
    fn default() -> Self {
        StatsConfig {
            k: puente_common::stats::MIN_K,
            rounding_base: None,
            auto_publish: false,
            dp_epsilon_milli: None,
            dp_yearly_cap_milli: DEFAULT_DP_YEARLY_CAP_MILLI,
        }
    }
}

impl StatsConfig {
    fn check(&self) -> Result<(), ConfigError> {
        if self.k < puente_common::stats::MIN_K {
            return Err(ConfigError(format!(
                "stats.k must be at least {} (got {})",
                puente_common::stats::MIN_K,
                self.k
            )));
        }
        if self.rounding_base == Some(0) {
            return Err(ConfigError("stats.rounding_base must be at least 1".into()));
        }
        if let Some(e) = self.dp_epsilon_milli {
            if e < crate::stats::releases::TABLES {
                return Err(ConfigError(format!(
                    "stats.dp_epsilon_milli must be at least {} (one thousandth per table)",
                    crate::stats::releases::TABLES
                )));
            }
            if self.dp_yearly_cap_milli < e {
                return Err(ConfigError(format!(
                    "stats.dp_yearly_cap_milli ({}) must be at least stats.dp_epsilon_milli ({e})",
                    self.dp_yearly_cap_milli
                )));
            }
        }
        Ok(())
    }

    /// The protection this configuration asks for (no differential privacy here).
    pub fn protection(&self) -> puente_common::stats::Protection {
        puente_common::stats::Protection {
            k: self.k,
            rounding_base: self.rounding_base,
            dp: None,
        }
    }
}

/// The federation side of a node (docs/protocol.md).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FederationConfig {
    /// Address of the mutual-TLS federation listener (separate from the web listener).
    pub listen: SocketAddr,
    /// The URL peers reach this node at (goes into the manifest), e.g. `https://gt.example:7443`.
    pub endpoint: String,
    /// The TLS certificate and key of the federation listener and client (not the signing key).
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    /// This member's role in the manifest: `node` or `hub`.
    #[serde(default = "default_member_role")]
    pub role: String,
    /// Human name of the member, for the manifest.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub delivery: DeliveryConfig,
}

fn default_member_role() -> String {
    "node".into()
}

/// Delivery timings. The defaults suit production; tests shorten them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// How often idle workers look for new outbox entries and due retries.
    pub poll_millis: u64,
    /// First retry delay after a failure; doubles up to `max_backoff_seconds`.
    pub min_backoff_millis: u64,
    pub max_backoff_seconds: u64,
    /// Envelopes per request.
    pub batch_size: usize,
    /// How long a replica holds a (peer, channel) lease before another may take over.
    pub lease_seconds: u64,
    /// How often to ask peers for a newer manifest and to pull from peers we have not heard.
    pub sync_seconds: u64,
    /// Time to connect to a peer (TCP and TLS).
    pub connect_timeout_millis: u64,
    /// Time for a whole request to a peer.
    pub request_timeout_millis: u64,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            poll_millis: 1000,
            min_backoff_millis: 1000,
            max_backoff_seconds: 3600,
            batch_size: 100,
            lease_seconds: 30,
            sync_seconds: 300,
            connect_timeout_millis: 5000,
            request_timeout_millis: 30_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    /// The data key file (base64, 32 bytes), kept outside the database.
    pub data_key: PathBuf,
    /// The Ed25519 signing key (PKCS#8 PEM).
    pub signing_key: PathBuf,
    /// Its id, e.g. `GTM-2026a`.
    pub signing_key_id: KeyId,
    /// The next signing key (PKCS#8 PEM), made by `puente keys new-signing-key` and not used
    /// until `puente keys activate-signing-key`, once the manifest lists it.
    #[serde(default)]
    pub next_signing_key: Option<PathBuf>,
    /// Its id, e.g. `GTM-2026b`.
    #[serde(default)]
    pub next_signing_key_id: Option<KeyId>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// Require a second factor of every user, not only of administrators.
    pub require_totp_for_all: bool,
    pub session_idle_minutes: u32,
    pub session_absolute_hours: u32,
    /// Failed log-ins in a row before an account is locked.
    pub lockout_threshold: u32,
    pub lockout_minutes: u32,
    /// Log-in attempts allowed per client address per minute.
    pub login_attempts_per_minute: u32,
    /// Longest lifetime of an API token.
    pub token_max_days: u32,
    /// Set when a TLS-terminating proxy is in front: cookies get `Secure`.
    pub behind_tls_proxy: bool,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            require_totp_for_all: false,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            lockout_threshold: 5,
            lockout_minutes: 15,
            login_attempts_per_minute: 20,
            token_max_days: 365,
            behind_tls_proxy: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub body_limit_bytes: usize,
    pub request_timeout_seconds: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            body_limit_bytes: 1024 * 1024,
            request_timeout_seconds: 30,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter, e.g. `info` or `puente_node=debug,info`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            level: "info,tokio_cron_scheduler=warn".into(),
        }
    }
}

/// Why the configuration could not be loaded; the message names the key or file.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Loads `path`, then applies `PUENTE_…` environment overrides.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        if !path.exists() {
            return Err(ConfigError(format!(
                "file {} not found (create one with `puente init`)",
                path.display()
            )));
        }
        Self::from_figment(Figment::new().merge(Toml::file_exact(path)))
    }

    fn from_figment(figment: Figment) -> Result<Config, ConfigError> {
        let c: Config = figment
            .merge(
                Env::prefixed("PUENTE_")
                    .split("__")
                    .ignore(&["CONFIG", "BACKUP_PASSPHRASE"]),
            )
            .extract()
            .map_err(|e| ConfigError(describe(e)))?;
        if let Some(smtp) = &c.smtp {
            smtp.check()?;
        }
        c.stats.check()?;
        c.retention.check()?;
        if c.metrics.as_ref().is_some_and(|m| m.listen == c.listen) {
            return Err(ConfigError(
                "key `metrics.listen` must differ from `listen`: metrics have their own listener"
                    .into(),
            ));
        }
        Ok(c)
    }

    /// Whether cookies must carry `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.tls.is_some() || self.security.behind_tls_proxy
    }

    /// The TOML text for a config file.
    pub fn to_toml(&self) -> String {
        // Serialising plain data to TOML cannot fail; fall back to empty to stay panic-free.
        toml_string(self)
    }
}

fn toml_string(c: &Config) -> String {
    let db = c.database_url.expose();
    let tls = c
        .tls
        .as_ref()
        .map(|t| {
            format!(
                "\n[tls]\ncert = {:?}\nkey = {:?}\n",
                t.cert.display().to_string(),
                t.key.display().to_string()
            )
        })
        .unwrap_or_default();
    format!(
        "# Puente node configuration. Every key can be overridden by an environment variable:\n\
         # PUENTE_<KEY>, nested keys joined by __ (PUENTE_SECURITY__REQUIRE_TOTP_FOR_ALL=true).\n\
         country = {country:?}\n\
         data_dir = {data_dir:?}\n\
         database_url = {db:?}\n\
         listen = {listen:?}\n\
         {tls}\n\
         [keys]\n\
         data_key = {data_key:?}\n\
         signing_key = {signing_key:?}\n\
         signing_key_id = {key_id:?}\n\
         {next_key}\n\
         [security]\n\
         require_totp_for_all = {rta}\n\
         session_idle_minutes = {idle}\n\
         session_absolute_hours = {abs}\n\
         lockout_threshold = {lt}\n\
         lockout_minutes = {lm}\n\
         login_attempts_per_minute = {lpm}\n\
         token_max_days = {tmd}\n\
         behind_tls_proxy = {btp}\n\n\
         [http]\n\
         body_limit_bytes = {body_limit}\n\
         request_timeout_seconds = {req_timeout}\n\n\
         [log]\n\
         format = {fmt:?}\n\
         level = {level:?}\n",
        country = c.country.as_str(),
        data_dir = c.data_dir.display().to_string(),
        listen = c.listen.to_string(),
        data_key = c.keys.data_key.display().to_string(),
        signing_key = c.keys.signing_key.display().to_string(),
        key_id = c.keys.signing_key_id.as_str(),
        next_key = next_key_toml(&c.keys),
        rta = c.security.require_totp_for_all,
        idle = c.security.session_idle_minutes,
        abs = c.security.session_absolute_hours,
        lt = c.security.lockout_threshold,
        lm = c.security.lockout_minutes,
        lpm = c.security.login_attempts_per_minute,
        tmd = c.security.token_max_days,
        btp = c.security.behind_tls_proxy,
        body_limit = c.http.body_limit_bytes,
        req_timeout = c.http.request_timeout_seconds,
        fmt = match c.log.format {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        },
        level = c.log.level,
    ) + &federation_toml(c.federation.as_ref())
        + &referrals_toml(&c.referrals)
        + &stats_toml(&c.stats)
        + &retention_toml(&c.retention)
        + &smtp_toml(c.smtp.as_ref())
        + &metrics_toml(c.metrics.as_ref())
}

fn referrals_toml(r: &ReferralsConfig) -> String {
    if !r.require_approval {
        return String::new();
    }
    "\n[referrals]\nrequire_approval = true\n".into()
}

fn stats_toml(s: &StatsConfig) -> String {
    if *s == StatsConfig::default() {
        return String::new();
    }
    let mut out = format!("\n[stats]\nk = {}\n", s.k);
    if let Some(b) = s.rounding_base {
        out += &format!("rounding_base = {b}\n");
    }
    if s.auto_publish {
        out += "auto_publish = true\n";
    }
    if let Some(e) = s.dp_epsilon_milli {
        out += &format!("dp_epsilon_milli = {e}\n");
    }
    if s.dp_yearly_cap_milli != DEFAULT_DP_YEARLY_CAP_MILLI {
        out += &format!("dp_yearly_cap_milli = {}\n", s.dp_yearly_cap_milli);
    }
    out
}

fn metrics_toml(m: Option<&MetricsConfig>) -> String {
    m.map(|m| format!("\n[metrics]\nlisten = {:?}\n", m.listen.to_string()))
        .unwrap_or_default()
}

fn smtp_toml(s: Option<&SmtpConfig>) -> String {
    let Some(s) = s else { return String::new() };
    let mut out = format!(
        "\n[smtp]\n\
         host = {host:?}\n\
         port = {port}\n\
         security = {security:?}\n\
         from = {from:?}\n\
         base_url = {base_url:?}\n",
        host = s.host,
        port = s.port,
        security = s.security.code(),
        from = s.from,
        base_url = s.base_url,
    );
    if let Some(u) = &s.username {
        out.push_str(&format!("username = {u:?}\n"));
    }
    if let Some(p) = &s.password {
        out.push_str(&format!("password = {:?}\n", p.expose()));
    }
    out
}

/// The `next_signing_key` lines of `[keys]`, when a next key is prepared.
fn next_key_toml(k: &KeysConfig) -> String {
    let mut out = String::new();
    if let Some(path) = &k.next_signing_key {
        out.push_str(&format!(
            "next_signing_key = {:?}\n",
            path.display().to_string()
        ));
    }
    if let Some(id) = &k.next_signing_key_id {
        out.push_str(&format!("next_signing_key_id = {:?}\n", id.as_str()));
    }
    out
}

fn federation_toml(f: Option<&FederationConfig>) -> String {
    let Some(f) = f else { return String::new() };
    let d = &f.delivery;
    format!(
        "\n[federation]\n\
         listen = {listen:?}\n\
         endpoint = {endpoint:?}\n\
         tls_cert = {cert:?}\n\
         tls_key = {key:?}\n\
         role = {role:?}\n\
         name = {name:?}\n\n\
         [federation.delivery]\n\
         poll_millis = {poll}\n\
         min_backoff_millis = {minb}\n\
         max_backoff_seconds = {maxb}\n\
         batch_size = {batch}\n\
         lease_seconds = {lease}\n\
         sync_seconds = {sync}\n\
         connect_timeout_millis = {cto}\n\
         request_timeout_millis = {rto}\n",
        listen = f.listen.to_string(),
        endpoint = f.endpoint,
        cert = f.tls_cert.display().to_string(),
        key = f.tls_key.display().to_string(),
        role = f.role,
        name = f.name,
        poll = d.poll_millis,
        minb = d.min_backoff_millis,
        maxb = d.max_backoff_seconds,
        batch = d.batch_size,
        lease = d.lease_seconds,
        sync = d.sync_seconds,
        cto = d.connect_timeout_millis,
        rto = d.request_timeout_millis,
    )
}

/// Figment's message plus the key path, without ever echoing a value (it could be a secret).
fn describe(e: figment::Error) -> String {
    e.into_iter()
        .map(|e| {
            let key = if e.path.is_empty() {
                String::new()
            } else {
                e.path.join(".")
            };
            let what = match &e.kind {
                figment::error::Kind::UnknownField(f, _) => {
                    let full = if key.is_empty() {
                        f.clone()
                    } else {
                        format!("{key}.{f}")
                    };
                    return format!("unknown key `{full}`");
                }
                figment::error::Kind::MissingField(f) => {
                    let full = if key.is_empty() {
                        f.to_string()
                    } else {
                        format!("{key}.{f}")
                    };
                    return format!("missing key `{full}`");
                }
                figment::error::Kind::InvalidType(actual, expected) => {
                    format!("has the wrong type: found {actual}, expected {expected}")
                }
                figment::error::Kind::InvalidValue(_, expected) => {
                    format!("has an invalid value: expected {expected}")
                }
                figment::error::Kind::Message(m) => m.clone(),
                other => other.to_string(),
            };
            let source = e
                .metadata
                .as_ref()
                .map(|m| format!(" (from {})", m.name))
                .unwrap_or_default();
            format!("key `{key}` {what}{source}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> String {
        r#"
country = "GTM"
data_dir = "/tmp/x"
database_url = "postgres://puente:hunter2@127.0.0.1/puente"
listen = "127.0.0.1:0"
[keys]
data_key = "/tmp/x/data.key"
signing_key = "/tmp/x/signing.pem"
signing_key_id = "GTM-2026a"
"#
        .into()
    }

    #[test]
    fn loads_defaults_and_never_shows_the_database_password() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("puente.toml", &sample())?;
            let c = Config::load(Path::new("puente.toml")).unwrap();
            assert_eq!(c.country.as_str(), "GTM");
            assert_eq!(c.security.lockout_threshold, 5);
            assert!(!format!("{c:?}").contains("hunter2"));
            Ok(())
        });
    }

    #[test]
    fn stats_k_under_five_is_refused_and_the_section_round_trips() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("puente.toml", &format!("{}\n[stats]\nk = 4\n", sample()))?;
            let e = Config::load(Path::new("puente.toml"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("stats.k"), "{e}");
            jail.create_file(
                "puente.toml",
                &format!("{}\n[stats]\nk = 11\nrounding_base = 5\n", sample()),
            )?;
            let c = Config::load(Path::new("puente.toml")).unwrap();
            assert_eq!(c.stats.k, 11);
            assert_eq!(c.stats.rounding_base, Some(5));
            jail.create_file("again.toml", &c.to_toml())?;
            let again = Config::load(Path::new("again.toml")).unwrap();
            assert_eq!(again.stats, c.stats);
            jail.create_file("puente.toml", &sample())?;
            let d = Config::load(Path::new("puente.toml")).unwrap();
            assert_eq!(d.stats.k, 5);
            assert_eq!(d.stats.rounding_base, None);
            Ok(())
        });
    }

    #[test]
    fn stats_release_keys_are_checked_and_round_trip() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "puente.toml",
                &format!(
                    "{}\n[stats]\ndp_epsilon_milli = 2000\ndp_yearly_cap_milli = 1000\n",
                    sample()
                ),
            )?;
            let e = Config::load(Path::new("puente.toml"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("dp_yearly_cap_milli"), "{e}");
            jail.create_file(
                "puente.toml",
                &format!(
                    "{}\n[stats]\nauto_publish = true\ndp_epsilon_milli = 900\ndp_yearly_cap_milli = 2700\n",
                    sample()
                ),
            )?;
            let c = Config::load(Path::new("puente.toml")).unwrap();
            assert!(c.stats.auto_publish);
            assert_eq!(c.stats.dp_epsilon_milli, Some(900));
            assert_eq!(c.stats.dp_yearly_cap_milli, 2700);
            jail.create_file("again.toml", &c.to_toml())?;
            let again = Config::load(Path::new("again.toml")).unwrap();
            assert_eq!(again.stats, c.stats);
            jail.create_file("puente.toml", &sample())?;
            let d = Config::load(Path::new("puente.toml")).unwrap();
            assert!(!d.stats.auto_publish);
            assert_eq!(d.stats.dp_epsilon_milli, None);
            assert_eq!(d.stats.dp_yearly_cap_milli, DEFAULT_DP_YEARLY_CAP_MILLI);
            Ok(())
        });
    }

    #[test]
    fn environment_overrides_nested_keys() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("puente.toml", &sample())?;
            jail.set_env("PUENTE_SECURITY__REQUIRE_TOTP_FOR_ALL", "true");
            jail.set_env("PUENTE_LISTEN", "127.0.0.1:9999");
            let c = Config::load(Path::new("puente.toml")).unwrap();
            assert!(c.security.require_totp_for_all);
            assert_eq!(c.listen.port(), 9999);
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused_by_name_in_file_and_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "puente.toml",
                &format!("{}\n[security]\nlockout_treshold = 3\n", sample()),
            )?;
            let e = Config::load(Path::new("puente.toml"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("security.lockout_treshold"), "{e}");
            jail.create_file("puente.toml", &sample())?;
            jail.set_env("PUENTE_DATABSE_URL", "sqlite://x");
            let e = Config::load(Path::new("puente.toml"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("databse_url"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn a_bad_value_names_the_key_but_not_the_value() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("puente.toml", &sample().replace("\"GTM\"", "\"guatemala\""))?;
            let e = Config::load(Path::new("puente.toml"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("country"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn written_config_loads_back() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("a.toml", &sample())?;
            let c = Config::load(Path::new("a.toml")).unwrap();
            jail.create_file("b.toml", &c.to_toml())?;
            let back = Config::load(Path::new("b.toml")).unwrap();
            assert_eq!(back.database_url, c.database_url);
            assert_eq!(back.keys.signing_key_id, c.keys.signing_key_id);
            assert_eq!(back.keys.next_signing_key, None);
            Ok(())
        });
    }

    #[test]
    fn the_next_signing_key_and_http_settings_survive_a_rewrite() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "a.toml",
                &format!("{}\n[http]\nbody_limit_bytes = 4096\n", sample()),
            )?;
            let mut c = Config::load(Path::new("a.toml")).unwrap();
            c.keys.next_signing_key = Some("/tmp/x/signing-key-GTM-2026b.pem".into());
            c.keys.next_signing_key_id = Some("GTM-2026b".parse().unwrap());
            jail.create_file("b.toml", &c.to_toml())?;
            let back = Config::load(Path::new("b.toml")).unwrap();
            assert_eq!(back.keys.next_signing_key, c.keys.next_signing_key);
            assert_eq!(back.keys.next_signing_key_id, c.keys.next_signing_key_id);
            assert_eq!(back.http.body_limit_bytes, 4096);
            Ok(())
        });
    }

    fn smtp(extra: &str) -> String {
        format!(
            "{}\n[smtp]\nhost = \"smtp.example.org\"\nfrom = \"Puente <avisos@example.org>\"\nbase_url = \"https://puente.example.org/\"\n{extra}",
            sample()
        )
    }

    #[test]
    fn smtp_defaults_survive_a_rewrite_and_never_show_the_password() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "a.toml",
                &smtp("username = \"avisos\"\npassword = \"s3cr3t-smtp\"\n"),
            )?;
            let c = Config::load(Path::new("a.toml")).unwrap();
            let s = c.smtp.as_ref().unwrap();
            assert_eq!(s.port, 587);
            assert_eq!(s.security, SmtpSecurity::Starttls);
            assert_eq!(s.base_url(), "https://puente.example.org");
            assert!(!format!("{c:?}").contains("s3cr3t-smtp"));
            jail.create_file("b.toml", &c.to_toml())?;
            let back = Config::load(Path::new("b.toml")).unwrap();
            let b = back.smtp.unwrap();
            assert_eq!(b.host, "smtp.example.org");
            assert_eq!(b.port, 587);
            assert_eq!(b.security, SmtpSecurity::Starttls);
            assert_eq!(b.username.as_deref(), Some("avisos"));
            assert_eq!(b.password.unwrap().expose(), "s3cr3t-smtp");
            assert_eq!(b.from, "Puente <avisos@example.org>");
            Ok(())
        });
    }

    #[test]
    fn no_smtp_means_no_email_and_survives_a_rewrite() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("a.toml", &sample())?;
            let c = Config::load(Path::new("a.toml")).unwrap();
            assert!(c.smtp.is_none());
            jail.create_file("b.toml", &c.to_toml())?;
            assert!(Config::load(Path::new("b.toml")).unwrap().smtp.is_none());
            Ok(())
        });
    }

    #[test]
    fn metrics_listener_survives_a_rewrite_and_must_not_share_the_web_port() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "a.toml",
                &format!("{}\n[metrics]\nlisten = \"127.0.0.1:9464\"\n", sample()),
            )?;
            let c = Config::load(Path::new("a.toml")).unwrap();
            let listen = c.metrics.as_ref().unwrap().listen;
            assert_eq!(listen, "127.0.0.1:9464".parse().unwrap());
            jail.create_file("b.toml", &c.to_toml())?;
            let back = Config::load(Path::new("b.toml")).unwrap();
            assert_eq!(back.metrics.unwrap().listen, listen);
            jail.create_file("c.toml", &sample())?;
            assert!(Config::load(Path::new("c.toml")).unwrap().metrics.is_none());
            jail.create_file(
                "d.toml",
                &sample()
                    .replace("listen = \"127.0.0.1:0\"", "listen = \"127.0.0.1:8443\"")
                    .replace("[keys]", "[metrics]\nlisten = \"127.0.0.1:8443\"\n[keys]"),
            )?;
            let e = Config::load(Path::new("d.toml")).unwrap_err().to_string();
            assert!(e.contains("metrics.listen"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn smtp_without_encryption_only_to_a_loopback_host() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("a.toml", &smtp("security = \"none\"\nport = 25\n"))?;
            let e = Config::load(Path::new("a.toml")).unwrap_err().to_string();
            assert!(e.contains("smtp.security"), "{e}");
            for host in ["127.0.0.1", "::1", "localhost"] {
                jail.create_file(
                    "b.toml",
                    &smtp("security = \"none\"\nport = 2525\n").replace("smtp.example.org", host),
                )?;
                let c = Config::load(Path::new("b.toml")).unwrap();
                assert_eq!(c.smtp.unwrap().security, SmtpSecurity::None, "{host}");
            }
            jail.create_file("c.toml", &smtp("security = \"tls\"\nport = 465\n"))?;
            let c = Config::load(Path::new("c.toml")).unwrap();
            assert_eq!(c.smtp.as_ref().unwrap().security, SmtpSecurity::Tls);
            jail.create_file(
                "d.toml",
                &smtp("").replace("Puente <avisos@example.org>", "avisos"),
            )?;
            let e = Config::load(Path::new("d.toml")).unwrap_err().to_string();
            assert!(e.contains("smtp.from"), "{e}");
            jail.create_file(
                "e.toml",
                &smtp("").replace("https://puente.example.org/", "puente"),
            )?;
            let e = Config::load(Path::new("e.toml")).unwrap_err().to_string();
            assert!(e.contains("smtp.base_url"), "{e}");
            jail.create_file("f.toml", &smtp("password = \"x\"\n"))?;
            let e = Config::load(Path::new("f.toml")).unwrap_err().to_string();
            assert!(e.contains("smtp.username"), "{e}");
            Ok(())
        });
    }
}
