//! The `puente` command line.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use puente_common::CountryCode;
use uuid::Uuid;

use crate::admin::{orgs, tokens, users};
use crate::app::{shutdown_signal, Application, Node};
use crate::audit::{self, AuditCtx};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, LogFormat};
use crate::error::AppError;
use crate::store::{SharedStore, TokenScope};

#[derive(Debug, Parser)]
#[command(
    name = "puente",
    version,
    about = "Puente: a federated case-monitoring network for organisations that assist victims of trafficking."
)]
pub struct Cli {
    /// The node's configuration file.
    #[arg(
        long,
        global = true,
        env = "PUENTE_CONFIG",
        default_value = "puente.toml"
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a node: configuration, data key, signing key, TLS certificate and database.
    Init(InitArgs),
    /// Run the node (web interface and API).
    Serve,
    /// Start a ready-to-try node on SQLite with demo organisations and users of every role.
    Demo(DemoArgs),
    /// Manage organisations.
    #[command(subcommand)]
    Org(OrgCmd),
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCmd),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Check or seal the audit trail.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Import cases from a file: HTCDS CSV, IOM's HTCDS Excel templates, or CTDC CSV. A file
    /// with problems imports nothing (each problem is listed by line and column) unless
    /// --skip-bad-rows is given.
    Import(ImportArgs),
    /// Export an organisation's cases as HTCDS CSV (with identity) or CTDC CSV (without).
    Export(ExportArgs),
    /// Write an encrypted backup of the running node: a consistent copy of its database, its
    /// configuration and its key files. The passphrase comes from PUENTE_BACKUP_PASSPHRASE
    /// or --passphrase-file.
    Backup(BackupArgs),
    /// Restore a backup into a new data directory (and an empty database), then verify its
    /// audit trail and evidence log. Same passphrase sources as `backup`.
    Restore(RestoreArgs),
    /// Measure the node's speed on a fresh database (loopback only) and print the figures.
    #[command(subcommand)]
    Bench(BenchCmd),
    /// Manage the node's keys.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Federations: create one and sign its manifests (governance), join one, node status.
    #[command(subcommand)]
    Federation(crate::federation::cli::FederationCmd),
    /// This node's decisions about the federation's members: approve, block.
    #[command(subcommand)]
    Peer(crate::federation::cli::PeerCmd),
    /// Statistics releases: prepare, publish, list (`--json` for scripts).
    #[command(subcommand)]
    Stats(crate::stats::cli::StatsCmd),
    /// The retention rule: its status, and a run of its daily job now.
    #[command(subcommand)]
    Retention(crate::retention::cli::RetentionCmd),
}

// The command names (`rotate-data-key`, `new-signing-key`, …) all end in "key".
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Subcommand)]
enum KeysCmd {
    /// Add a new data key and re-encrypt every sealed value with it, batch by batch, while
    /// the node keeps running. Old keys stay in the key file (backups need them).
    RotateDataKey {
        /// Do not add a key: only finish re-encrypting under the current one (after an
        /// interrupted rotation).
        #[arg(long)]
        no_new_key: bool,
        /// Seconds to wait after adding the key, so that running replicas pick it up.
        #[arg(long, default_value_t = 10)]
        grace: u64,
    },
    /// Make the next federation signing key (GTM-2026a → GTM-2026b) without signing with it
    /// yet; `federation member-info` then lists it for the governance to add to the manifest.
    NewSigningKey,
    /// Sign with the next signing key from the next start on, once the installed manifest
    /// lists it. The old key file stays: what it signed keeps verifying.
    ActivateSigningKey,
}

#[derive(Debug, Subcommand)]
enum BenchCmd {
    /// The federation: envelopes per second between two nodes on loopback against raw Ed25519
    /// signing and verification, and the time to drain a backlog after a partition.
    Federation {
        /// Envelopes delivered over a healthy link.
        #[arg(long, default_value_t = 5000)]
        envelopes: usize,
        /// Envelopes queued while the receiver is down.
        #[arg(long, default_value_t = 50_000)]
        backlog: usize,
    },
    /// The case registry: API registrations vs raw inserts, case-list latency, import rate,
    /// peak memory.
    Registry {
        /// A PostgreSQL server URL (a fresh database is made there and dropped after);
        /// default: a fresh SQLite file.
        #[arg(long)]
        database_url: Option<String>,
        /// Cases registered through the API (and as raw inserts).
        #[arg(long, default_value_t = 2000)]
        api_cases: usize,
        /// Concurrent API clients.
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Cases stored before timing the case list.
        #[arg(long, default_value_t = 100_000)]
        list_cases: usize,
        /// Requests timed for each list latency.
        #[arg(long, default_value_t = 200)]
        list_requests: usize,
        /// Rows of the HTCDS CSV imported.
        #[arg(long, default_value_t = 100_000)]
        import_rows: usize,
    },
    /// National statistics: time and peak memory to compute and protect one quarter's release
    /// for N persons, against plain SQL GROUP BY queries of the same tables (ratio).
    Stats {
        /// A PostgreSQL server URL (a fresh database is made there for each size and dropped
        /// after); default: a fresh SQLite file.
        #[arg(long)]
        database_url: Option<String>,
        /// Numbers of persons seeded (one fresh database each).
        #[arg(long, num_args = 1.., default_values_t = [100_000usize, 1_000_000])]
        persons: Vec<usize>,
        /// Only the hub's dashboard latency (skip the national releases).
        #[arg(long)]
        hub_only: bool,
        /// Hub dashboard: member countries publishing monthly releases.
        #[arg(long, default_value_t = 10)]
        hub_countries: usize,
        /// Hub dashboard: years of monthly releases per country.
        #[arg(long, default_value_t = 10)]
        hub_years: usize,
        /// Hub dashboard: requests timed per view.
        #[arg(long, default_value_t = 20)]
        hub_requests: usize,
    },
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// The file to import (.csv or .xlsx).
    file: PathBuf,
    /// The coordinator (org_admin) in whose name the cases are registered; they go to that
    /// person's organisation.
    #[arg(long = "as")]
    as_user: String,
    /// htcds-csv, htcds-xlsx or ctdc-csv (default: from the file name).
    #[arg(long)]
    format: Option<String>,
    /// Check the whole file and report, importing nothing.
    #[arg(long)]
    dry_run: bool,
    /// Import the good rows and list the bad ones, instead of importing nothing.
    #[arg(long)]
    skip_bad_rows: bool,
    /// For rows without a recorded consent: the reference of the legal basis under which the
    /// organisation holds these records (recorded as a LEGAL_BASIS case-management consent).
    #[arg(long)]
    legal_basis: Option<String>,
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// The coordinator (org_admin) whose organisation's cases are exported.
    #[arg(long = "as")]
    as_user: String,
    /// htcds (identity included) or ctdc (27 CTDC columns, no identity).
    #[arg(long, default_value = "ctdc")]
    format: String,
    /// Write here instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct BackupArgs {
    /// The backup file to write (must not exist).
    #[arg(long)]
    output: PathBuf,
    /// A file holding the passphrase (first line), instead of PUENTE_BACKUP_PASSPHRASE.
    #[arg(long)]
    passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct RestoreArgs {
    /// The backup file.
    #[arg(long)]
    input: PathBuf,
    /// The new data directory (empty or missing).
    #[arg(long)]
    data_dir: PathBuf,
    /// The database to restore into: required for a PostgreSQL backup (an empty database);
    /// a SQLite backup goes to puente.db in the data directory by default.
    #[arg(long)]
    database_url: Option<String>,
    /// Overwrite a data directory or database that is not empty.
    #[arg(long)]
    force: bool,
    /// A file holding the passphrase (first line), instead of PUENTE_BACKUP_PASSPHRASE.
    #[arg(long)]
    passphrase_file: Option<PathBuf>,
}

/// The backup passphrase: the first line of `file`, else PUENTE_BACKUP_PASSPHRASE.
fn backup_passphrase(file: Option<&Path>) -> anyhow::Result<zeroize::Zeroizing<String>> {
    let text =
        match file {
            Some(f) => zeroize::Zeroizing::new(
                std::fs::read_to_string(f)
                    .with_context(|| format!("cannot read {}", f.display()))?
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            ),
            None => zeroize::Zeroizing::new(std::env::var("PUENTE_BACKUP_PASSPHRASE").map_err(
                |_| anyhow::anyhow!("set PUENTE_BACKUP_PASSPHRASE or give --passphrase-file"),
            )?),
        };
    Ok(text)
}

#[derive(Debug, Args)]
struct InitArgs {
    /// The country, ISO 3166-1 alpha-3 (GTM, HND, SLV, MEX…).
    #[arg(long)]
    country: CountryCode,
    /// Where the node keeps its files (created if missing).
    #[arg(long)]
    data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// A PostgreSQL URL instead of the embedded SQLite database.
    #[arg(long)]
    database_url: Option<String>,
    /// Serve plain HTTP (only behind a TLS-terminating proxy, or on loopback for trials).
    #[arg(long)]
    no_tls: bool,
    /// Replace an existing node's keys and configuration.
    #[arg(long)]
    force: bool,
    /// Make the node ready to join a federation: the mutual-TLS federation listener.
    #[arg(long)]
    federation_listen: Option<SocketAddr>,
    /// The URL peers reach the federation listener at (default `https://<federation-listen>`).
    #[arg(long, requires = "federation_listen")]
    federation_endpoint: Option<String>,
    /// This member's role in the federation: `node` (a country) or `hub`.
    #[arg(long, default_value = "node", value_parser = ["node", "hub"])]
    federation_role: String,
    /// The member's name as the manifest shows it (default: the member id, e.g. GTM).
    #[arg(long)]
    federation_name: Option<String>,
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Where the demo node keeps its files.
    #[arg(long, default_value = "puente-demo")]
    data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
}

#[derive(Debug, Subcommand)]
enum OrgCmd {
    /// Add an organisation.
    Add {
        /// Short code, 2–12 capitals or digits (used in case numbers).
        #[arg(long)]
        code: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// Type: NGO, LAW_ENFORCEMENT, HEALTH_SERVICE, CENTRAL_GOVERNMENT, LOCAL_GOVERNMENT,
        /// IMMIGRATION_SERVICE, LEGAL_SERVICE, CORPORATE_BUSINESS, SCHOOL_OR_COLLEGE,
        /// INTERNATIONAL_ORG.
        #[arg(long = "type", default_value = "NGO")]
        org_type: String,
    },
    /// List organisations.
    List,
}

#[derive(Debug, Subcommand)]
enum UserCmd {
    /// Add a user. Prints a temporary password unless --password-stdin is given.
    Add {
        #[arg(long)]
        username: String,
        /// The person's name as shown in the interface.
        #[arg(long)]
        name: String,
        /// node_admin, org_admin, caseworker, analyst or auditor.
        #[arg(long)]
        role: String,
        /// The organisation's code (required for org_admin and caseworker).
        #[arg(long)]
        org: Option<String>,
        /// Read the initial password from standard input instead of making a temporary one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List {
        /// Only this organisation's users (its code).
        #[arg(long)]
        org: Option<String>,
    },
    /// Disable a user and end their sessions.
    Disable { username: String },
    /// Enable a disabled user.
    Enable { username: String },
    /// Give a user a new temporary password (ends sessions, clears a lock-out).
    ResetPassword { username: String },
    /// Remove a user's second factor; they enrol again at next log-in.
    ResetTotp { username: String },
}

#[derive(Debug, Subcommand)]
enum TokenCmd {
    /// Create an API token for a user; the token is printed once.
    Create {
        #[arg(long)]
        user: String,
        /// What the token is for.
        #[arg(long)]
        name: String,
        /// Days until it expires.
        #[arg(long, default_value_t = 90)]
        days: u32,
    },
    /// Revoke a token by its id.
    Revoke { id: Uuid },
    /// List tokens (of one user, or all).
    List {
        #[arg(long)]
        user: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCmd {
    /// Verify the whole audit trail and its signed checkpoints; exits non-zero naming the
    /// first broken entry.
    Verify,
    /// Sign a checkpoint of the current head now.
    Checkpoint,
}

/// Runs the command line; the exit code says whether it worked.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(config: Option<&Config>, default_level: &str) {
    let level = config.map_or(default_level, |c| c.log.level.as_str());
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if config.is_some_and(|c| c.log.format == LogFormat::Json) {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

pub(crate) async fn open(config_path: &Path) -> anyhow::Result<(Config, SharedStore)> {
    let config = Config::load(config_path)?;
    let store = crate::store::connect_config(&config)
        .await
        .context("cannot open the database (is it running, and is database_url right?)")?;
    store
        .migrate()
        .await
        .context("cannot apply database migrations")?;
    Ok((config, store))
}

pub(crate) fn cli_ctx(clock: &dyn Clock) -> AuditCtx {
    let who = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    AuditCtx {
        at: clock.now(),
        actor_id: None,
        actor: format!("cli:{who}"),
        org_id: None,
        ip: None,
        request_id: None,
    }
}

/// Turns an operation's error into a message for the shell.
fn explain(e: AppError) -> anyhow::Error {
    match e {
        AppError::Invalid(fields) => anyhow::anyhow!(
            "invalid input: {}",
            fields
                .iter()
                .map(|f| format!("{} ({})", f.field, f.code))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        AppError::Conflict(field) => anyhow::anyhow!("{field} already exists"),
        AppError::NotFound => anyhow::anyhow!("not found"),
        other => anyhow::anyhow!("{other}"),
    }
}

async fn user_id(store: &SharedStore, username: &str) -> anyhow::Result<Uuid> {
    store
        .user_by_username(&crate::auth::routes::normalise_username(username))
        .await
        .map(|u| u.id)
        .map_err(|_| anyhow::anyhow!("no user {username:?}"))
}

/// Applies an administrative change to the user named `username`, as the node operator.
async fn change_user(
    store: &SharedStore,
    ctx: &AuditCtx,
    username: &str,
    change: users::Change,
) -> anyhow::Result<Option<String>> {
    let id = user_id(store, username).await?;
    users::apply(store.as_ref(), ctx, None, id, change)
        .await
        .map_err(explain)
}

async fn org_id(store: &SharedStore, code: &str) -> anyhow::Result<Uuid> {
    store
        .org_by_code(&code.trim().to_uppercase())
        .await
        .map(|o| o.id)
        .map_err(|_| anyhow::anyhow!("no organisation with code {code:?}"))
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let clock = SystemClock;
    match cli.command {
        Command::Init(a) => {
            init_logging(None, "warn");
            let report = crate::init::init(
                &crate::init::InitOptions {
                    country: a.country,
                    data_dir: a.data_dir,
                    listen: a.listen,
                    database_url: a.database_url,
                    tls: !a.no_tls,
                    force: a.force,
                    federation: a
                        .federation_listen
                        .map(|listen| crate::init::FederationInit {
                            listen,
                            endpoint: a.federation_endpoint.clone(),
                            role: a.federation_role.clone(),
                            name: a
                                .federation_name
                                .clone()
                                .unwrap_or_else(|| a.country.to_string()),
                        }),
                },
                &clock,
            )
            .await?;
            let c = &report.config;
            println!(
                "Created a Puente node for {} in {}",
                c.country,
                c.data_dir.display()
            );
            println!("  configuration  {}", report.config_path.display());
            println!(
                "  data key       {} (keep a copy offline: without it the data cannot be read)",
                c.keys.data_key.display()
            );
            println!(
                "  signing key    {} (id {})",
                c.keys.signing_key.display(),
                c.keys.signing_key_id
            );
            println!("  public key     {}", report.public_key);
            if let Some(t) = &c.tls {
                println!(
                    "  TLS (dev cert) {} / {}",
                    t.cert.display(),
                    t.key.display()
                );
            }
            println!(
                "  database       {}",
                if c.database_url.expose().starts_with("sqlite:") {
                    "SQLite in the data directory"
                } else {
                    "PostgreSQL"
                }
            );
            println!();
            println!(
                "Next: puente --config {} user add --username admin --name \"…\" --role node_admin",
                report.config_path.display()
            );
            if c.federation.is_some() {
                println!(
                    "      puente --config {} federation member-info   (send it to the governance, then `federation join`)",
                    report.config_path.display()
                );
            }
            println!(
                "      puente --config {} serve",
                report.config_path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve => {
            let config = Config::load(&cli.config)?;
            init_logging(Some(&config), "info");
            serve(config).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(a) => {
            init_logging(None, "info");
            crate::demo::run(&a.data_dir, a.listen).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Org(cmd) => {
            init_logging(None, "warn");
            let (_, store) = open(&cli.config).await?;
            match cmd {
                OrgCmd::Add {
                    code,
                    name,
                    org_type,
                } => {
                    let org = orgs::create(
                        store.as_ref(),
                        &cli_ctx(&clock),
                        &orgs::NewOrg::new(&code, &name, &org_type),
                    )
                    .await
                    .map_err(explain)?;
                    println!(
                        "Added organisation {} ({}) id {}",
                        org.code, org.name, org.id
                    );
                }
                OrgCmd::List => {
                    for o in store.orgs().await? {
                        println!(
                            "{:<12} {:<20} {:<8} users {:>3}  {}",
                            o.org.code,
                            o.org.org_type,
                            if o.org.active { "active" } else { "inactive" },
                            o.user_count,
                            o.org.name
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::User(cmd) => {
            init_logging(None, "warn");
            let (_, store) = open(&cli.config).await?;
            let ctx = cli_ctx(&clock);
            match cmd {
                UserCmd::Add {
                    username,
                    name,
                    role,
                    org,
                    password_stdin,
                } => {
                    let org_id = match org {
                        Some(code) => org_id(&store, &code).await?.to_string(),
                        None => String::new(),
                    };
                    let initial = if password_stdin {
                        let mut s = String::new();
                        std::io::stdin().read_to_string(&mut s)?;
                        Some(s.trim_end_matches(['\n', '\r']).to_owned())
                    } else {
                        None
                    };
                    let input = users::NewUser {
                        username,
                        display_name: name,
                        org_id,
                        role,
                    };
                    let (user, temp) = users::create(store.as_ref(), &ctx, None, &input, initial)
                        .await
                        .map_err(explain)?;
                    println!(
                        "Added user {} ({}) id {}",
                        user.username, user.role, user.id
                    );
                    if let Some(t) = temp {
                        println!("Temporary password (hand it over in person; it must be changed at first log-in): {t}");
                    }
                    if user.role.requires_totp() {
                        println!("This role needs a second factor: the user enrols an authenticator app at first log-in.");
                    }
                }
                UserCmd::List { org } => {
                    let org = match org {
                        Some(code) => Some(org_id(&store, &code).await?),
                        None => None,
                    };
                    let now = clock.now();
                    for u in store.users(org).await? {
                        let state = if u.disabled {
                            "disabled"
                        } else if u.locked_until.is_some_and(|t| t > now) {
                            "locked"
                        } else {
                            "active"
                        };
                        println!(
                            "{:<24} {:<11} {:<9} totp {:<3} {}",
                            u.username,
                            u.role.code(),
                            state,
                            if u.totp_enabled { "yes" } else { "no" },
                            u.org_name.unwrap_or_else(|| "-".into())
                        );
                    }
                }
                UserCmd::Disable { username } => {
                    change_user(&store, &ctx, &username, users::Change::Disable).await?;
                    println!("Disabled {username}; their sessions have ended.");
                }
                UserCmd::Enable { username } => {
                    change_user(&store, &ctx, &username, users::Change::Enable).await?;
                    println!("Enabled {username}.");
                }
                UserCmd::ResetPassword { username } => {
                    let temp =
                        change_user(&store, &ctx, &username, users::Change::ResetPassword).await?;
                    println!(
                        "New temporary password for {username} (must be changed at next log-in): {}",
                        temp.unwrap_or_default()
                    );
                }
                UserCmd::ResetTotp { username } => {
                    change_user(&store, &ctx, &username, users::Change::ResetTotp).await?;
                    println!(
                        "Removed the second factor of {username}; they enrol again at next log-in."
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(cmd) => {
            init_logging(None, "warn");
            let (config, store) = open(&cli.config).await?;
            let ctx = cli_ctx(&clock);
            match cmd {
                TokenCmd::Create { user, name, days } => {
                    let uid = user_id(&store, &user).await?;
                    let input = tokens::NewToken {
                        name,
                        expires_days: days.to_string(),
                    };
                    let (token, t) = tokens::create(
                        store.as_ref(),
                        &ctx,
                        uid,
                        &input,
                        config.security.token_max_days,
                    )
                    .await
                    .map_err(explain)?;
                    println!(
                        "Token {} for {user}, expires {}",
                        t.id,
                        t.expires_at.format("%Y-%m-%d")
                    );
                    println!("{token}");
                    eprintln!(
                        "This is the only time the token is shown. Store it in a secret manager."
                    );
                }
                TokenCmd::Revoke { id } => {
                    tokens::revoke(store.as_ref(), &ctx, None, id)
                        .await
                        .map_err(explain)?;
                    println!("Revoked token {id}.");
                }
                TokenCmd::List { user } => {
                    let scope = match user {
                        Some(u) => TokenScope::User(user_id(&store, &u).await?),
                        None => TokenScope::All,
                    };
                    for t in store.tokens(scope).await? {
                        let state = if t.token.revoked_at.is_some() {
                            "revoked"
                        } else if t.token.expires_at <= clock.now() {
                            "expired"
                        } else {
                            "active"
                        };
                        println!(
                            "{} {:<16} {:<8} {:<20} expires {}  {}",
                            t.token.id,
                            t.token.prefix,
                            state,
                            t.username,
                            t.token.expires_at.format("%Y-%m-%d"),
                            t.token.name
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(a) => {
            init_logging(None, "warn");
            run_import(&cli.config, a).await
        }
        Command::Export(a) => {
            init_logging(None, "warn");
            run_export(&cli.config, a).await
        }
        Command::Backup(a) => {
            init_logging(None, "warn");
            let passphrase = backup_passphrase(a.passphrase_file.as_deref())?;
            let config = Config::load(&cli.config)?;
            let r =
                crate::backup::backup(&cli.config, &config, &a.output, &passphrase, clock.now())
                    .await?;
            println!(
                "Backup written: {} ({} bytes; {}).",
                r.path.display(),
                r.bytes,
                r.entries.join(", ")
            );
            println!("Keep it and its passphrase apart: together they open every case.");
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore(a) => {
            init_logging(None, "warn");
            let passphrase = backup_passphrase(a.passphrase_file.as_deref())?;
            let r = crate::backup::restore(
                &crate::backup::RestoreOptions {
                    input: a.input,
                    data_dir: a.data_dir,
                    database_url: a.database_url,
                    force: a.force,
                },
                &passphrase,
            )
            .await?;
            println!(
                "Restored {} (backup of {}) into {}.",
                r.country,
                r.created_at,
                r.config.display()
            );
            println!(
                "Audit trail intact: {} entries, {} signed checkpoints. Federation evidence log intact: {} entries.",
                r.audit_entries, r.checkpoints, r.evidence_entries
            );
            println!(
                "Start it with `puente --config {} serve`. If its peers received more than this \
                 backup holds, it starts a new federation epoch at its first delivery.",
                r.config.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCmd::Federation { envelopes, backlog }) => {
            init_logging(None, "error");
            crate::federation::bench::run(crate::federation::bench::FederationBenchOptions {
                envelopes,
                backlog,
            })
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCmd::Registry {
            database_url,
            api_cases,
            clients,
            list_cases,
            list_requests,
            import_rows,
        }) => {
            init_logging(None, "error");
            crate::bench::registry(crate::bench::BenchOptions {
                database_url,
                api_cases,
                clients,
                list_cases,
                list_requests,
                import_rows,
            })
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCmd::Stats {
            database_url,
            persons,
            hub_only,
            hub_countries,
            hub_years,
            hub_requests,
        }) => {
            init_logging(None, "error");
            if !hub_only {
                crate::stats::bench::run(crate::stats::bench::StatsBenchOptions {
                    database_url: database_url.clone(),
                    persons,
                })
                .await?;
                println!();
            }
            crate::hub::bench::run(crate::hub::bench::HubBenchOptions {
                database_url,
                countries: hub_countries,
                years: hub_years,
                requests: hub_requests,
                sample_persons: 20_000,
            })
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Federation(cmd) => {
            init_logging(None, "warn");
            if !crate::federation::cli::governance(&cmd, &clock)? {
                crate::federation::cli::node_command(&cli.config, &cmd, &clock).await?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Peer(cmd) => {
            init_logging(None, "warn");
            crate::federation::cli::peer_command(&cli.config, &cmd, &clock).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Stats(cmd) => {
            init_logging(None, "warn");
            crate::stats::cli::run(&cli.config, &cmd).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Retention(cmd) => {
            init_logging(None, "warn");
            crate::retention::cli::run(&cli.config, &cmd).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys(KeysCmd::RotateDataKey { no_new_key, grace }) => {
            init_logging(None, "warn");
            let (config, store) = open(&cli.config).await?;
            let who = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
            let mut opts = crate::keys::RotateOptions::new(format!("cli:{who}"));
            opts.add_key = !no_new_key;
            opts.grace = std::time::Duration::from_secs(grace);
            let report = crate::keys::rotate(&config, &store, &clock, &opts).await?;
            store.close().await;
            println!(
                "Current data key {} ({}). Re-encrypted {} values in {} passes.",
                report.key_id,
                if report.key_added { "new" } else { "unchanged" },
                report.resealed(),
                report.passes
            );
            for (column, c) in &report.columns {
                if c.resealed + c.relabelled + c.conflicts + c.unreadable > 0 {
                    println!(
                        "  {column:<24} re-encrypted {:>7}  relabelled {:>5}  unreadable {:>3}",
                        c.resealed, c.relabelled, c.unreadable
                    );
                }
            }
            if report.complete() {
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!(
                    "Not finished: {} values still on an old key, {} unreadable ({}). Run again with --no-new-key.",
                    report.remaining,
                    report.unreadable.len(),
                    report.unreadable.join(", ")
                );
                Ok(ExitCode::from(2))
            }
        }
        Command::Keys(KeysCmd::NewSigningKey) => {
            init_logging(None, "warn");
            let (_, store) = open(&cli.config).await?;
            let made = crate::federation::keys::new_signing_key(
                &cli.config,
                store.as_ref(),
                &cli_ctx(&clock),
            )
            .await;
            store.close().await;
            let made = made?;
            println!(
                "Made signing key {} in {} (public key {}). Nothing signs with it yet.",
                made.key_id,
                made.path.display(),
                made.public_key
            );
            println!("Next:");
            println!("  1. Send the output of `puente federation member-info` (it now lists both keys) to the governance;");
            println!("     they add it with `federation edit --add-member`, sign and publish the manifest.");
            println!("  2. Install that manifest here (`puente federation install-manifest`).");
            println!("  3. Run `puente keys activate-signing-key` and restart the node.");
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys(KeysCmd::ActivateSigningKey) => {
            init_logging(None, "warn");
            let (_, store) = open(&cli.config).await?;
            let done = crate::federation::keys::activate_signing_key(
                &cli.config,
                store.as_ref(),
                &cli_ctx(&clock),
            )
            .await;
            store.close().await;
            let done = done?;
            println!(
                "Signing key {} is now the node's signing key (was {}; listed by manifest version {}).",
                done.new, done.old, done.manifest_version
            );
            println!(
                "The running node keeps signing with {} until it is restarted: restart it now.",
                done.old
            );
            println!("Keep the old key file: what {} signed keeps verifying while the manifest lists it.", done.old);
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(cmd) => {
            init_logging(None, "warn");
            let (config, store) = open(&cli.config).await?;
            let (_, identity) = crate::init::load_keys(&config)?;
            // Earlier keys of this node signed earlier checkpoints and seals.
            let own =
                crate::federation::keys::own_public_keys(store.as_ref(), config.country, &identity)
                    .await?;
            match cmd {
                AuditCmd::Verify => {
                    match audit::verify_store(store.as_ref(), &own).await? {
                        Ok(r) => {
                            println!(
                                "Audit trail intact: {} entries, {} signed checkpoints.",
                                r.entries, r.checkpoints
                            );
                            match crate::federation::evidence::verify(
                                store.as_ref(),
                                config.country,
                                &own,
                            )
                            .await?
                            {
                                Ok(e) => {
                                    println!("Federation evidence log intact: {} entries, {} signed seals.", e.entries, e.seals);
                                    Ok(ExitCode::SUCCESS)
                                }
                                Err(broken) => {
                                    eprintln!("EVIDENCE LOG BROKEN: {broken}");
                                    Ok(ExitCode::from(2))
                                }
                            }
                        }
                        Err(broken) => {
                            eprintln!("AUDIT TRAIL BROKEN: {broken}");
                            Ok(ExitCode::from(2))
                        }
                    }
                }
                AuditCmd::Checkpoint => {
                    match audit::checkpoint(store.as_ref(), &identity, clock.now()).await? {
                        Some(seq) => println!(
                            "Checkpoint signed at entry {seq} with key {}.",
                            identity.key_id()
                        ),
                        None => println!("The audit trail is empty; nothing to sign."),
                    }
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
    }
}

/// A node state for commands that act through the service layer, and the acting user's
/// actor and audit context (`<username> (cli:<os user>)`).
async fn act_as(
    config_path: &Path,
    username: &str,
) -> anyhow::Result<(crate::app::AppState, crate::authz::Actor, AuditCtx)> {
    let (config, store) = open(config_path).await?;
    if store.schema() == crate::store::Schema::Hub {
        anyhow::bail!("this is the regional hub: it holds no cases to import or export");
    }
    let (data_key, identity) = crate::init::load_keys(&config)?;
    let user = store
        .user_by_username(&crate::auth::routes::normalise_username(username))
        .await
        .map_err(|_| anyhow::anyhow!("no user {username:?}"))?;
    if user.disabled {
        anyhow::bail!("user {username:?} is disabled");
    }
    let state = Node::new(config, store, Arc::new(SystemClock), data_key, identity)?;
    let os = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let actor = crate::authz::Actor {
        user_id: user.id,
        username: user.username.clone(),
        role: user.role,
        org_id: user.org_id,
    };
    let audit = AuditCtx {
        at: state.clock.now(),
        actor_id: Some(user.id),
        actor: format!("{} (cli:{os})", user.username),
        org_id: user.org_id,
        ip: None,
        request_id: None,
    };
    Ok((state, actor, audit))
}

async fn run_import(config_path: &Path, a: ImportArgs) -> anyhow::Result<ExitCode> {
    use crate::cases::transfer::{self, ImportFormat, ImportOptions};
    let format = match &a.format {
        Some(f) => ImportFormat::parse(f).ok_or_else(|| {
            anyhow::anyhow!("unknown format {f:?}: htcds-csv, htcds-xlsx or ctdc-csv")
        })?,
        None => ImportFormat::guess(&a.file.to_string_lossy()).ok_or_else(|| {
            anyhow::anyhow!("cannot tell the format from the file name; give --format")
        })?,
    };
    let bytes =
        std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let (state, actor, audit) = act_as(config_path, &a.as_user).await?;
    let parsed = format
        .read(&bytes, state.clock.now().date_naive())
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.file.display()))?;
    let total = parsed.rows.len() as u64;
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} rows ({per_sec})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(if a.dry_run { "checking" } else { "importing" });
    let opts = ImportOptions {
        dry_run: a.dry_run,
        skip_bad_rows: a.skip_bad_rows,
        legal_basis_ref: a.legal_basis.clone(),
    };
    let who = crate::cases::Who {
        actor: &actor,
        audit: &audit,
    };
    let started = std::time::Instant::now();
    let report = transfer::import(&state, who, parsed, &opts, &|n| bar.set_position(n as u64))
        .await
        .map_err(explain)?;
    bar.finish_and_clear();
    state.store.close().await;
    for p in &report.problems {
        let value = p
            .value
            .as_deref()
            .map(|v| format!(" ({v:?})"))
            .unwrap_or_default();
        println!("line {}: {}: {}{value}", p.line, p.column, p.code);
    }
    let secs = started.elapsed().as_secs_f64();
    if report.dry_run {
        println!(
            "Dry run: {} rows read, {} with problems; nothing was imported.",
            report.rows_read,
            report.skipped_lines.len()
        );
    } else if report.imported == 0 && !report.problems.is_empty() {
        println!(
            "Nothing imported: {} rows read, {} with problems (fix them, or use --skip-bad-rows).",
            report.rows_read,
            report.skipped_lines.len()
        );
        return Ok(ExitCode::from(2));
    } else {
        println!(
            "Imported {} of {} rows in {secs:.1} s{}.",
            report.imported,
            report.rows_read,
            if report.skipped_lines.is_empty() {
                String::new()
            } else {
                format!("; skipped lines {:?}", report.skipped_lines)
            }
        );
        if let (Some(first), Some(last)) = (report.numbers.first(), report.numbers.last()) {
            println!("Case numbers {first} … {last}.");
        }
    }
    Ok(if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

async fn run_export(config_path: &Path, a: ExportArgs) -> anyhow::Result<ExitCode> {
    use crate::cases::transfer::{self, ExportFormat};
    let format = ExportFormat::parse(&a.format)
        .ok_or_else(|| anyhow::anyhow!("unknown format {:?}: htcds or ctdc", a.format))?;
    let (state, actor, audit) = act_as(config_path, &a.as_user).await?;
    let who = crate::cases::Who {
        actor: &actor,
        audit: &audit,
    };
    let n = match &a.output {
        Some(path) => {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let f = opts.open(path).with_context(|| {
                format!("cannot create {} (it must not exist yet)", path.display())
            })?;
            transfer::export(&state, who, format, std::io::BufWriter::new(f))
                .await
                .map_err(explain)?
        }
        None => transfer::export(&state, who, format, std::io::stdout().lock())
            .await
            .map_err(explain)?,
    };
    state.store.close().await;
    eprintln!("Exported {n} cases ({}).", format.code());
    Ok(ExitCode::SUCCESS)
}

/// Runs a node from its configuration until SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let store = crate::store::connect_config(&config)
        .await
        .context("cannot open the database (is it running, and is database_url right?)")?;
    store
        .migrate()
        .await
        .context("cannot apply database migrations")?;
    let (data_key, identity) = crate::init::load_keys(&config)?;
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let state = Node::new(config, store, Arc::new(SystemClock), data_key, identity)?;
    let app = Application::build(state.clone()).await?;
    let addr = app
        .local_addr()
        .ok_or_else(|| anyhow::anyhow!("no listening address"))?;
    crate::jobs::checkpoint_now(&state).await;
    let mut sched = crate::jobs::start(state.clone()).await?;
    tracing::info!(%addr, "Puente node {} listening on {scheme}://{addr}", state.config.country);
    if state.config.tls.is_none() && !addr.ip().is_loopback() {
        tracing::warn!("serving plain HTTP on a non-loopback address: put a TLS proxy in front (security.behind_tls_proxy)");
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mail = crate::mail::start(state.clone(), stop_rx.clone());
    let federation = crate::federation::start(state.clone(), stop_rx).await?;
    let result = app.run(shutdown_signal()).await;
    let _ = stop_tx.send(true);
    if let Some(handle) = federation {
        let _ = handle.await;
    }
    if let Some(handle) = mail {
        // An e-mail in flight may take up to the SMTP timeout: do not wait that long.
        if tokio::time::timeout(std::time::Duration::from_secs(5), handle)
            .await
            .is_err()
        {
            tracing::warn!("notice e-mails: stopped while sending");
        }
    }
    let _ = sched.shutdown().await;
    state.store.close().await;
    result
}
