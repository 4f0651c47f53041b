//! Making a node: `puente init` writes the configuration, the data key, the signing key and a
//! development TLS certificate, and creates the database. Loading them back for `serve`.

use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use chrono::Datelike;
use puente_common::CountryCode;
use puente_federation::{KeyId, SigningIdentity};

use crate::clock::Clock;
use crate::config::{
    Config, DeliveryConfig, FederationConfig, HttpConfig, KeysConfig, LogConfig, Secret,
    SecurityConfig, TlsConfig,
};
use crate::crypto::DataKey;

/// What `init` made, for the operator.
#[derive(Debug)]
pub struct InitReport {
    pub config_path: PathBuf,
    pub config: Config,
    pub public_key: String,
}

/// Options of `puente init`.
#[derive(Debug, Clone)]
pub struct InitOptions {
    pub country: CountryCode,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// `None`: SQLite in the data directory.
    pub database_url: Option<String>,
    /// Write a development certificate and serve HTTPS.
    pub tls: bool,
    pub force: bool,
    /// Join-ready: the mutual-TLS federation listener and the URL peers reach it at.
    pub federation: Option<FederationInit>,
}

/// The federation part of `init`.
#[derive(Debug, Clone)]
pub struct FederationInit {
    pub listen: SocketAddr,
    /// Defaults to `https://<listen>`.
    pub endpoint: Option<String>,
    /// `node` or `hub`.
    pub role: String,
    pub name: String,
}

/// Writes a file readable by its owner only.
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(contents)?;
    f.sync_all()?;
    Ok(())
}

/// Creates a node in `opts.data_dir`. Refuses to overwrite an existing node unless `force`.
pub async fn init(opts: &InitOptions, clock: &dyn Clock) -> anyhow::Result<InitReport> {
    let dir = &opts.data_dir;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    #[cfg(unix)]
    {
        // The database, keys and configuration inside are the node's secrets.
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict {}", dir.display()))?;
    }
    let dir = dir.canonicalize()?;
    let config_path = dir.join("puente.toml");
    if config_path.exists() && !opts.force {
        bail!(
            "a node already exists in {} (puente.toml found); use --force to replace its keys and configuration",
            dir.display()
        );
    }
    let key_id = KeyId::first(opts.country, clock.now().year());
    let data_key_path = dir.join("data.key");
    let signing_key_path = dir.join("signing-key.pem");
    write_private(
        &data_key_path,
        DataKey::generate().to_file_contents().as_bytes(),
    )?;
    let identity = SigningIdentity::generate(key_id.clone());
    write_private(&signing_key_path, identity.to_pkcs8_pem()?.as_bytes())?;
    let tls = if opts.tls {
        let cert = rcgen::generate_simple_self_signed(vec![
            "localhost".into(),
            "127.0.0.1".into(),
            "::1".into(),
        ])?;
        let (cert_path, key_path) = (dir.join("tls-cert.pem"), dir.join("tls-key.pem"));
        fs::write(&cert_path, cert.cert.pem())?;
        write_private(&key_path, cert.key_pair.serialize_pem().as_bytes())?;
        Some(TlsConfig {
            cert: cert_path,
            key: key_path,
        })
    } else {
        None
    };
    let federation = match &opts.federation {
        Some(f) => Some(federation_identity(&dir, opts.country, f)?),
        None => None,
    };
    let database_url = opts
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("puente.db").display()));
    let config = Config {
        country: opts.country,
        data_dir: dir.clone(),
        database_url: Secret::new(database_url),
        listen: opts.listen,
        tls,
        keys: KeysConfig {
            data_key: data_key_path,
            signing_key: signing_key_path,
            signing_key_id: key_id,
            next_signing_key: None,
            next_signing_key_id: None,
        },
        security: SecurityConfig::default(),
        http: HttpConfig::default(),
        log: LogConfig::default(),
        federation,
        referrals: Default::default(),
        stats: Default::default(),
        retention: Default::default(),
        smtp: None,
        metrics: None,
    };
    write_private(&config_path, config.to_toml().as_bytes())?;
    let store = crate::store::connect_config(&config)
        .await
        .context("cannot open the database")?;
    store
        .migrate()
        .await
        .context("cannot create the database schema")?;
    store.close().await;
    Ok(InitReport {
        config_path,
        config,
        public_key: identity.public_key_b64(),
    })
}

/// The federation TLS identity (its own key, not the signing key) and the config section.
fn federation_identity(
    dir: &Path,
    country: CountryCode,
    f: &FederationInit,
) -> anyhow::Result<FederationConfig> {
    let endpoint = f
        .endpoint
        .clone()
        .unwrap_or_else(|| format!("https://{}", f.listen));
    let host = endpoint_host(&endpoint)?;
    let generated = puente_federation::transport::generate_tls_identity(country, &[host])?;
    let (cert, key) = (dir.join("fed-tls-cert.pem"), dir.join("fed-tls-key.pem"));
    fs::write(&cert, &generated.cert_pem)?;
    write_private(&key, generated.key_pem.as_bytes())?;
    Ok(FederationConfig {
        listen: f.listen,
        endpoint,
        tls_cert: cert,
        tls_key: key,
        role: f.role.clone(),
        name: f.name.clone(),
        delivery: DeliveryConfig::default(),
    })
}

/// The host of an `https://host:port` endpoint, for the certificate's names.
fn endpoint_host(endpoint: &str) -> anyhow::Result<String> {
    let rest = endpoint
        .strip_prefix("https://")
        .ok_or_else(|| anyhow::anyhow!("the federation endpoint must start with https://"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default().to_owned(),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(h, _)| h)
            .to_owned(),
    };
    if host.is_empty() {
        bail!("the federation endpoint has no host: {endpoint}");
    }
    Ok(host)
}

/// The node's keys, read from the files the configuration names.
pub fn load_keys(config: &Config) -> anyhow::Result<(DataKey, SigningIdentity)> {
    let data_key = DataKey::from_file(&config.keys.data_key)?;
    let pem = zeroize::Zeroizing::new(fs::read_to_string(&config.keys.signing_key).with_context(
        || {
            format!(
                "cannot read the signing key {}",
                config.keys.signing_key.display()
            )
        },
    )?);
    let identity = SigningIdentity::from_pkcs8_pem(config.keys.signing_key_id.clone(), &pem)
        .with_context(|| format!("signing key {}", config.keys.signing_key.display()))?;
    Ok((data_key, identity))
}

/// A TLS 1.3-only server configuration (rustls with ring) from PEM files.
pub fn rustls_config(
    cert: &Path,
    key: &Path,
) -> anyhow::Result<axum_server::tls_rustls::RustlsConfig> {
    let certs = rustls_pemfile::certs(
        &mut fs::read(cert)
            .with_context(|| format!("cannot read {}", cert.display()))?
            .as_slice(),
    )
    .collect::<Result<Vec<_>, _>>()
    .with_context(|| format!("{} is not a PEM certificate", cert.display()))?;
    let key = rustls_pemfile::private_key(
        &mut fs::read(key)
            .with_context(|| format!("cannot read {}", key.display()))?
            .as_slice(),
    )?
    .with_context(|| format!("{} holds no private key", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(axum_server::tls_rustls::RustlsConfig::from_config(
        Arc::new(server),
    ))
}
