//! A real node per test: fresh database (SQLite file, or a new PostgreSQL database when
//! `TEST_DATABASE_URL` is set), fresh keys and config files on disk, served on a free
//! loopback port.

use std::path::PathBuf;
use std::sync::Arc;

use puente_federation::SigningIdentity;
use puente_node::admin::{orgs, users};
use puente_node::app::{AppState, Application, Node};
use puente_node::audit::AuditCtx;
use puente_node::auth::totp;
use puente_node::clock::{Clock, SharedClock, SystemClock};
use puente_node::config::{Config, HttpConfig, KeysConfig, LogConfig, Secret, SecurityConfig};
use puente_node::crypto::DataKey;
use puente_node::store::{Org, User};
use tempfile::TempDir;

pub const PASSWORD: &str = "una frase bastante larga";

/// A fresh, empty database URL for one test.
pub async fn fresh_database(dir: &std::path::Path) -> String {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            use sqlx::Executor;
            let name = format!("puente_t_{}", uuid::Uuid::now_v7().simple());
            let admin = sqlx::PgPool::connect(&base)
                .await
                .expect("TEST_DATABASE_URL reachable");
            admin
                .execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            admin.close().await;
            let (prefix, _) = base.rsplit_once('/').expect("URL with a database name");
            format!("{prefix}/{name}")
        }
        _ => format!("sqlite://{}", dir.join("puente.db").display()),
    }
}

pub struct TestNode {
    pub _dir: TempDir,
    pub config_path: PathBuf,
    pub state: AppState,
    pub base: String,
    pub db_url: String,
}

impl TestNode {
    pub async fn start() -> TestNode {
        Self::start_with(Arc::new(SystemClock), |_| {}).await
    }

    pub async fn start_with(clock: SharedClock, tweak: impl FnOnce(&mut Config)) -> TestNode {
        let dir = tempfile::tempdir().unwrap();
        let db_url = fresh_database(dir.path()).await;
        let data_key = DataKey::generate();
        let identity = SigningIdentity::generate("GTM-2026a".parse().unwrap());
        let key_path = dir.path().join("data.key");
        let sig_path = dir.path().join("signing-key.pem");
        std::fs::write(&key_path, data_key.to_file_contents().as_bytes()).unwrap();
        std::fs::write(&sig_path, identity.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
        let mut config = Config {
            country: "GTM".parse().unwrap(),
            data_dir: dir.path().to_owned(),
            database_url: Secret::new(db_url.clone()),
            listen: "127.0.0.1:0".parse().unwrap(),
            tls: None,
            keys: KeysConfig {
                data_key: key_path,
                signing_key: sig_path,
                signing_key_id: "GTM-2026a".parse().unwrap(),
                next_signing_key: None,
                next_signing_key_id: None,
            },
            security: SecurityConfig {
                login_attempts_per_minute: 1000,
                ..SecurityConfig::default()
            },
            http: HttpConfig::default(),
            log: LogConfig::default(),
            federation: None,
            referrals: Default::default(),
            stats: Default::default(),
            retention: Default::default(),
            smtp: None,
            metrics: None,
        };
        tweak(&mut config);
        let config_path = dir.path().join("puente.toml");
        std::fs::write(&config_path, config.to_toml()).unwrap();
        let store = puente_node::store::connect(&db_url).await.unwrap();
        store.migrate().await.unwrap();
        let state = Node::new(config, store, clock, data_key, identity).unwrap();
        let app = Application::build(state.clone()).await.unwrap();
        let base = format!("http://{}", app.local_addr().unwrap());
        tokio::spawn(app.run(std::future::pending()));
        TestNode {
            _dir: dir,
            config_path,
            state,
            base,
            db_url,
        }
    }

    pub fn ctx(&self) -> AuditCtx {
        AuditCtx {
            at: self.state.clock.now(),
            actor_id: None,
            actor: "test".into(),
            org_id: None,
            ip: None,
            request_id: None,
        }
    }

    pub async fn org(&self, code: &str) -> Org {
        orgs::create(
            self.state.store.as_ref(),
            &self.ctx(),
            &orgs::NewOrg::new(code, &format!("Org {code}"), "NGO"),
        )
        .await
        .unwrap()
    }

    /// A user with `PASSWORD` (no forced change); with a TOTP secret when `totp` is set.
    pub async fn user(
        &self,
        username: &str,
        role: &str,
        org: Option<&Org>,
        with_totp: bool,
    ) -> (User, Option<String>) {
        let input = users::NewUser {
            username: username.into(),
            display_name: format!("Persona {username}"),
            org_id: org.map(|o| o.id.to_string()).unwrap_or_default(),
            role: role.into(),
        };
        let (user, _) = users::create(
            self.state.store.as_ref(),
            &self.ctx(),
            None,
            &input,
            Some(PASSWORD.into()),
        )
        .await
        .unwrap();
        if !with_totp {
            return (user, None);
        }
        let secret = totp::new_secret();
        let sealed = puente_node::auth::routes::seal_totp(&self.state, &user, &secret);
        let ev = self
            .ctx()
            .event("auth.totp_enrolled", puente_node::audit::Outcome::Success);
        self.state
            .store
            .set_totp(user.id, Some(&sealed), &[], self.state.clock.now(), &ev)
            .await
            .unwrap();
        (self.state.store.user(user.id).await.unwrap(), Some(secret))
    }

    /// An API token for `user`, valid for `days`.
    pub async fn token(&self, user: uuid::Uuid, days: u32) -> String {
        let input = puente_node::admin::tokens::NewToken {
            name: "test".into(),
            expires_days: days.to_string(),
        };
        puente_node::admin::tokens::create(
            self.state.store.as_ref(),
            &self.ctx(),
            user,
            &input,
            365,
        )
        .await
        .unwrap()
        .0
    }

    /// Audit actions recorded so far, oldest first.
    pub async fn audit_actions(&self) -> Vec<(String, String, String)> {
        self.state
            .store
            .audit_chunk(0, 100_000)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.action, e.actor, e.outcome))
            .collect()
    }

    pub fn client(&self) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: self.base.clone(),
        }
    }
}

/// A cookie-keeping HTTP client that does not follow redirects.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    /// The value of the first hidden `csrf` input.
    pub fn csrf(&self) -> String {
        let i = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a csrf field")
            + 19;
        self.body[i..i + self.body[i..].find('"').unwrap()].to_owned()
    }
}

impl Browser {
    pub async fn get(&self, path: &str) -> Page {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        page(r).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        page(r).await
    }

    /// A POST with the CSRF token of `from` (a page path; followed once if it redirects).
    pub async fn post_from(&self, from: &str, path: &str, form: &[(&str, &str)]) -> Page {
        let mut p = self.get(from).await;
        if let Some(to) = p.location.clone() {
            p = self.get(&to).await;
        }
        let csrf = p.csrf();
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend_from_slice(form);
        self.post(path, &f).await
    }

    /// Logs in with password and, when given, the TOTP secret; returns the last page.
    pub async fn login(&self, username: &str, password: &str, totp_secret: Option<&str>) -> Page {
        let p = self
            .post_from(
                "/login",
                "/login",
                &[("username", username), ("password", password)],
            )
            .await;
        match (p.location.as_deref(), totp_secret) {
            (Some("/login/totp"), Some(secret)) => {
                let code = totp::code_at(secret, unix_now()).unwrap();
                self.post_from("/login/totp", "/login/totp", &[("code", &code)])
                    .await
            }
            _ => p,
        }
    }
}

pub fn unix_now() -> u64 {
    u64::try_from(SystemClock.now().timestamp()).unwrap()
}

async fn page(r: reqwest::Response) -> Page {
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    Page {
        status,
        location,
        body: r.text().await.unwrap(),
    }
}

/// Every row of every table of the node's database, as text (for plaintext checks): the raw
/// SQLite file with its WAL, or each PostgreSQL table's rows as JSON.
pub async fn dump_database(node: &TestNode) -> String {
    use sqlx::Row;
    if node.db_url.starts_with("sqlite:") {
        let path = node.db_url.trim_start_matches("sqlite://");
        let mut out = String::new();
        for suffix in ["", "-wal"] {
            if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
        out
    } else {
        let pool = sqlx::PgPool::connect(&node.db_url).await.unwrap();
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
                .fetch_all(&pool)
                .await
                .unwrap();
        let mut out = String::new();
        for t in tables {
            let rows = sqlx::query(&format!("SELECT row_to_json(t)::text AS j FROM \"{t}\" t"))
                .fetch_all(&pool)
                .await
                .unwrap();
            for r in rows {
                out.push_str(&r.get::<String, _>("j"));
                out.push('\n');
            }
        }
        pool.close().await;
        out
    }
}

/// Runs `$body` with `$pool` connected to the node's database (SQLite or PostgreSQL).
macro_rules! on_db {
    ($node:expr, |$pool:ident| $body:expr) => {{
        if $node.db_url.starts_with("sqlite:") {
            let $pool = sqlx::SqlitePool::connect(&$node.db_url).await.unwrap();
            let r = $body;
            $pool.close().await;
            r
        } else {
            let $pool = sqlx::PgPool::connect(&$node.db_url).await.unwrap();
            let r = $body;
            $pool.close().await;
            r
        }
    }};
}

/// The test federations' governance: two keys, held by GTM and HND, both needed.
pub struct TestGovernance {
    pub governance: puente_federation::manifest::Governance,
    keys: [SigningIdentity; 2],
}

impl TestGovernance {
    pub fn new() -> Self {
        let keys = [
            SigningIdentity::generate("GTM-2026g".parse().unwrap()),
            SigningIdentity::generate("HND-2026g".parse().unwrap()),
        ];
        let governance = puente_federation::manifest::Governance {
            threshold: 2,
            keys: keys
                .iter()
                .zip(["GTM", "HND"])
                .map(|(k, holder)| puente_federation::manifest::GovernanceKey {
                    id: k.key_id().clone(),
                    holder: holder.parse().unwrap(),
                    public_key: k.public_key_b64(),
                })
                .collect(),
        };
        TestGovernance { governance, keys }
    }

    /// `manifest` signed by both keys.
    pub fn sign(
        &self,
        manifest: puente_federation::manifest::Manifest,
    ) -> puente_federation::manifest::SignedManifest {
        let mut signed = puente_federation::manifest::SignedManifest::unsigned(manifest);
        for k in &self.keys {
            signed.add_signature(k).unwrap();
        }
        signed
    }

    /// Joins `node` to `signed` (this governance as its anchor) and approves `approvals`:
    /// `(kind, peer id or agreement id)`.
    pub async fn join(
        &self,
        node: &TestNode,
        signed: &puente_federation::manifest::SignedManifest,
        approvals: &[(puente_node::store::fed_sql::ApprovalKind, &str)],
    ) {
        let store = node.state.store.as_ref();
        puente_node::federation::admin::join(
            store,
            &node.ctx(),
            &self.governance,
            &self.governance.fingerprint(),
            signed,
        )
        .await
        .unwrap();
        for (kind, id) in approvals {
            puente_node::federation::admin::approve(store, &node.ctx(), *kind, id)
                .await
                .unwrap();
        }
    }
}
