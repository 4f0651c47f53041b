//! The application: state, router and server. [`Application::build`] binds its own listener
//! (port 0 in tests) and reports the address; [`Application::run`] serves until shutdown.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderName, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use puente_federation::SigningIdentity;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::admin::{self, api, orgs, tokens, users};
use crate::auth::routes as auth;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::crypto::DataKey;
use crate::store::SharedStore;
use crate::web::{self, SignedIn, Web};

/// Everything a handler may use. Cheap to clone.
pub type AppState = Arc<Node>;

#[derive(Debug)]
pub struct Node {
    pub config: Arc<Config>,
    pub store: SharedStore,
    pub clock: SharedClock,
    pub data_key: DataKey,
    /// Sub-key of the data key for CSRF tokens of visitors without a session.
    pub csrf_key: [u8; 32],
    pub identity: Arc<SigningIdentity>,
    pub web: Web,
    pub login_limiter: DefaultKeyedRateLimiter<IpAddr>,
    /// Set once at start when the node is configured for a federation.
    pub federation: std::sync::OnceLock<Arc<crate::federation::Federation>>,
    /// The Prometheus metrics (served when `[metrics] listen` is set).
    pub metrics: crate::metrics::SharedMetrics,
    /// The runs of the scheduled jobs, for the metrics.
    pub jobs: crate::jobs::JobRegistry,
}

impl Node {
    pub fn new(
        config: Config,
        store: SharedStore,
        clock: SharedClock,
        data_key: DataKey,
        identity: SigningIdentity,
    ) -> anyhow::Result<AppState> {
        let per_minute =
            std::num::NonZeroU32::new(config.security.login_attempts_per_minute.max(1))
                .unwrap_or(std::num::NonZeroU32::MIN);
        // Follow the key file, so a rotation (by the CLI or another replica) is picked up live.
        data_key.watch(&config.keys.data_key, clock.clone());
        let hub = crate::hub::is_hub(&config);
        Ok(Arc::new(Node {
            csrf_key: *data_key.derive("csrf"),
            config: Arc::new(config),
            store,
            clock,
            data_key,
            identity: Arc::new(identity),
            web: Web::load_for(hub)?,
            login_limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            federation: std::sync::OnceLock::new(),
            metrics: Arc::new(crate::metrics::Metrics::new(hub)),
            jobs: crate::jobs::JobRegistry::default(),
        }))
    }
}

/// Every route of the node, with the action it needs (checked in the handler through
/// `admin::require`, or by the `SignedIn`/`ApiActor` extractors for "signed in").
/// The matrix test enumerates this list.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/healthz", "public"),
    ("GET", "/readyz", "public"),
    ("GET", "/static/style.css", "public"),
    ("GET", "/login", "public"),
    ("POST", "/login", "public"),
    ("GET", "/login/totp", "password_step"),
    ("POST", "/login/totp", "password_step"),
    ("POST", "/logout", "public"),
    ("POST", "/language", "public"),
    ("GET", "/", "view_home"),
    ("GET", "/account", "manage_own_account"),
    ("GET", "/account/password", "manage_own_account"),
    ("POST", "/account/password", "manage_own_account"),
    ("GET", "/account/totp", "manage_own_account"),
    ("POST", "/account/totp", "manage_own_account"),
    ("POST", "/account/notice-email", "manage_own_account"),
    ("GET", "/admin/orgs", "view_orgs"),
    ("POST", "/admin/orgs", "manage_orgs"),
    ("GET", "/admin/orgs/{id}", "view_orgs"),
    ("POST", "/admin/orgs/{id}", "manage_orgs"),
    ("GET", "/admin/users", "view_users"),
    ("POST", "/admin/users", "manage_users"),
    ("GET", "/admin/users/{id}", "view_users"),
    ("POST", "/admin/users/{id}/{change}", "manage_users"),
    ("GET", "/admin/roles", "view_roles"),
    ("GET", "/tokens", "manage_own_tokens"),
    ("POST", "/tokens", "manage_own_tokens"),
    ("POST", "/tokens/{id}/revoke", "manage_own_tokens"),
    ("GET", "/audit", "view_audit"),
    ("GET", "/api/v1/me", "view_home"),
    ("GET", "/api/v1/orgs", "view_orgs"),
    ("POST", "/api/v1/orgs", "manage_orgs"),
    ("GET", "/api/v1/users", "view_users"),
];

/// Every route of the node: [`ROUTES`] and those of the case registry's and the directory's
/// pages and API, the federation pages, and the referrals' API and pages.
pub fn all_routes() -> Vec<(&'static str, &'static str, &'static str)> {
    ROUTES
        .iter()
        .chain(crate::cases::pages::ROUTES)
        .chain(crate::cases::api::ROUTES)
        .chain(crate::directory::pages::ROUTES)
        .chain(crate::directory::api::ROUTES)
        .chain(crate::federation::pages::ROUTES)
        .chain(crate::referrals::api::ROUTES)
        .chain(crate::referrals::pages::ROUTES)
        .chain(crate::stats::pages::ROUTES)
        .chain(crate::stats::release_pages::ROUTES)
        .chain(crate::retention::pages::ROUTES)
        .copied()
        .collect()
}

async fn home(State(st): State<AppState>, s: SignedIn) -> Response {
    st.web.render(&s.ctx, "home.html", serde_json::json!({}))
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers with every migration applied, the installed federation
/// manifest (if any) is not past its grace period, and the data key file still exists and
/// parses. A failure answers 503 with a short reason (never a key or a path).
async fn readyz(State(st): State<AppState>) -> Response {
    let unavailable =
        |reason: &'static str| (StatusCode::SERVICE_UNAVAILABLE, reason).into_response();
    match st.store.ready().await {
        Ok(true) => {}
        Ok(false) => return unavailable("migrations not applied"),
        Err(_) => return unavailable("database unreachable"),
    }
    match crate::federation::admin::held(st.store.as_ref()).await {
        Ok(Some(signed))
            if signed.manifest.freshness(st.clock.now())
                == puente_federation::manifest::Freshness::Expired =>
        {
            return unavailable("federation manifest expired past its grace period")
        }
        Ok(_) => {}
        Err(_) => return unavailable("stored federation manifest unreadable"),
    }
    if !data_key_usable(&st.config.keys.data_key).await {
        return unavailable("data key file missing or unreadable");
    }
    (StatusCode::OK, "ready").into_response()
}

/// The data key file exists and parses as a key ring (read now, as a restart would).
async fn data_key_usable(path: &std::path::Path) -> bool {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || DataKey::from_file(&path).is_ok())
        .await
        .unwrap_or(false)
}

async fn not_found() -> crate::error::AppError {
    crate::error::AppError::NotFound
}

/// The router with every layer.
pub fn router(st: AppState) -> Router {
    // A regional hub serves accounts, administration, audit, federation and its own pages:
    // nothing of a country node's case work.
    let hub = crate::hub::is_hub(&st.config);
    let pages = Router::new()
        .route("/", get(home))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/login/totp", get(auth::totp_form).post(auth::totp_submit))
        .route("/logout", post(auth::logout))
        .route("/language", post(auth::set_language))
        .route("/account", get(auth::account))
        .route(
            "/account/password",
            get(auth::password_form).post(auth::password_submit),
        )
        .route(
            "/account/totp",
            get(auth::totp_enrol_form).post(auth::totp_enrol),
        )
        .route("/account/notice-email", post(auth::notice_email_submit))
        .route("/admin", get(|| async { Redirect::to("/admin/users") }))
        .route("/admin/orgs", get(orgs::list).post(orgs::create_form))
        .route("/admin/orgs/{id}", get(orgs::show).post(orgs::update_form))
        .route("/admin/users", get(users::list).post(users::create_form))
        .route("/admin/users/{id}", get(users::show))
        .route("/admin/users/{id}/{change}", post(users::change_form))
        .route("/admin/roles", get(admin::roles_page))
        .route("/tokens", get(tokens::list).post(tokens::create_form))
        .route("/tokens/{id}/revoke", post(tokens::revoke_form))
        .route("/audit", get(crate::audit::routes::page))
        .merge(crate::federation::pages::routes());
    let pages = if hub {
        pages.merge(crate::hub::pages::routes())
    } else {
        pages
            .merge(crate::cases::pages::routes())
            .merge(crate::directory::pages::routes())
            .merge(crate::referrals::pages::routes())
            .merge(crate::stats::pages::routes())
            .merge(crate::stats::release_pages::routes())
            .merge(crate::retention::pages::routes())
    };
    let pages = pages
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            st.clone(),
            web::context_layer,
        ));
    let api = Router::new()
        .route("/me", get(api::me))
        .route("/orgs", get(api::orgs).post(api::create_org))
        .route("/users", get(api::users));
    let api = if hub {
        api.merge(crate::hub::api::routes())
    } else {
        api.merge(crate::cases::api::routes())
            .merge(crate::directory::api::routes())
            .merge(crate::referrals::api::routes())
            .merge(crate::stats::release_pages::api_routes())
            .merge(crate::retention::pages::api_routes())
    };
    let api = api.fallback(not_found);
    let request_id = HeaderName::from_static("x-request-id");
    let mut app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/static/style.css", get(web::stylesheet))
        .nest("/api/v1", api)
        .merge(pages)
        .with_state(st.clone());
    for (name, value) in web::security_headers(st.config.tls.is_some()) {
        app = app.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    app.layer(RequestBodyLimitLayer::new(st.config.http.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(st.config.http.request_timeout_seconds),
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            // Spans carry method, matched route and request id only: never a query string,
            // a body or a header that could hold a name or a token.
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let route = req
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("-", |p| p.as_str())
                    .to_owned();
                let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
                tracing::info_span!("request", method = %req.method(), route = %route, request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        // Outermost, so that timeouts and refused bodies are counted too.
        .layer(middleware::from_fn_with_state(st, crate::metrics::track))
}

/// A node bound to its listener, ready to serve.
pub struct Application {
    state: AppState,
    listener: std::net::TcpListener,
    /// The metrics listener, when `[metrics] listen` is set.
    metrics: Option<std::net::TcpListener>,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("addr", &self.local_addr())
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Binds `state.config.listen` (port 0 picks a free port) and loads the TLS certificate.
    pub async fn build(state: AppState) -> anyhow::Result<Application> {
        let listener = std::net::TcpListener::bind(state.config.listen)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", state.config.listen))?;
        listener.set_nonblocking(true)?;
        let tls = match &state.config.tls {
            Some(t) => Some(crate::init::rustls_config(&t.cert, &t.key)?),
            None => None,
        };
        let metrics = match &state.config.metrics {
            Some(m) => {
                let l = std::net::TcpListener::bind(m.listen)
                    .map_err(|e| anyhow::anyhow!("cannot listen on {} (metrics): {e}", m.listen))?;
                l.set_nonblocking(true)?;
                let addr = l.local_addr()?;
                if !addr.ip().is_loopback() {
                    tracing::warn!(%addr, "metrics listener on a non-loopback address: it has no authentication, keep it on a monitoring network");
                }
                state.metrics.set_listen_addr(addr);
                Some(l)
            }
            None => None,
        };
        Ok(Application {
            state,
            listener,
            metrics,
            tls,
        })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// The metrics listener's address, when `[metrics] listen` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Serves until `shutdown` resolves, then finishes requests in flight (up to 10 s).
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let handle = axum_server::Handle::new();
        let h = handle.clone();
        tokio::spawn(async move {
            shutdown.await;
            h.graceful_shutdown(Some(Duration::from_secs(10)));
        });
        if let Some(listener) = self.metrics {
            let metrics = crate::metrics::router(self.state.clone()).into_make_service();
            let handle = handle.clone();
            tokio::spawn(async move {
                if let Err(e) = axum_server::from_tcp(listener)
                    .handle(handle)
                    .serve(metrics)
                    .await
                {
                    tracing::error!(error = %e, "metrics listener stopped");
                }
            });
        }
        let app = router(self.state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        match self.tls {
            Some(tls) => {
                axum_server::from_tcp_rustls(self.listener, tls)
                    .handle(handle)
                    .serve(app)
                    .await?
            }
            None => {
                axum_server::from_tcp(self.listener)
                    .handle(handle)
                    .serve(app)
                    .await?
            }
        }
        Ok(())
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
