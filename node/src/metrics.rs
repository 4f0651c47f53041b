//! Prometheus metrics (`prometheus-client`), served as OpenMetrics text on `GET /metrics` of a
//! listener of their own (`[metrics] listen`), never on the public web port.
//!
//! Two kinds of metrics:
//!
//! - the HTTP requests of the web listener, counted by [`track`] (a middleware on every
//!   route): by method, route *template* (`/cases/{id}`, never the raw path) and status class;
//! - gauges read from the database and the job registry at scrape time ([`Metrics::refresh`]):
//!   the connection pool, the federation outbox per peer and channel, the manifest's expiry,
//!   the audit checkpoints, the statistics releases (a hub: the releases received) and the
//!   scheduled jobs.
//!
//! No label carries a person's data, a user name, an id or a raw path: labels are method
//! names, route templates, status classes, country codes, channel names, period kinds and
//! job names.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use puente_common::stats::release::PeriodKind;
use puente_common::stats::Period;

use crate::app::AppState;

/// The content type of the OpenMetrics text format.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The route label of a request that matched no route (a 404 from the fallback).
const UNMATCHED: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PeerChannel {
    peer: String,
    channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PeerLabel {
    peer: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PeriodKindLabel {
    period_kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabel {
    /// Not `job`: Prometheus sets `job` to the scrape job's name.
    job_name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CountryLabel {
    country: String,
}

/// A gauge that is absent until its value is known (no manifest, no checkpoint yet).
type Optional = Family<Vec<(String, String)>, Gauge>;

fn duration_histogram() -> Histogram {
    // 5 ms … about 10 s.
    Histogram::new(exponential_buckets(0.005, 2.0, 12))
}

/// The registry and every metric of the node. One per process (in [`crate::app::Node`]).
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Family<HttpLabels, Histogram, fn() -> Histogram>,
    database_up: Gauge,
    pool_size: Gauge,
    pool_idle: Gauge,
    outbox_backlog: Family<PeerChannel, Gauge>,
    outbox_failures: Family<PeerChannel, Gauge>,
    last_delivery: Family<PeerLabel, Gauge>,
    manifest_expiry: Optional,
    manifest_grace_end: Optional,
    audit_checkpoint: Optional,
    release_published: Family<PeriodKindLabel, Gauge>,
    hub_releases: Family<CountryLabel, Counter>,
    hub_last_received: Family<CountryLabel, Gauge>,
    job_last_run: Family<JobLabel, Gauge>,
    job_last_ok: Family<JobLabel, Gauge>,
    job_last_failure: Family<JobLabel, Gauge>,
    /// One scrape at a time: a scrape clears and refills the database gauges.
    scrape: tokio::sync::Mutex<()>,
    /// Where the metrics listener is bound, once it is.
    addr: OnceLock<SocketAddr>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("addr", &self.addr.get())
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// Every metric, registered; `hub` leaves out the node-only ones (outbox, releases made)
    /// and adds the releases received.
    pub fn new(hub: bool) -> Metrics {
        let mut r = Registry::with_prefix("puente");
        let m = Metrics {
            registry: Registry::default(),
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(duration_histogram as fn() -> Histogram),
            database_up: Gauge::default(),
            pool_size: Gauge::default(),
            pool_idle: Gauge::default(),
            outbox_backlog: Family::default(),
            outbox_failures: Family::default(),
            last_delivery: Family::default(),
            manifest_expiry: Family::default(),
            manifest_grace_end: Family::default(),
            audit_checkpoint: Family::default(),
            release_published: Family::default(),
            hub_releases: Family::default(),
            hub_last_received: Family::default(),
            job_last_run: Family::default(),
            job_last_ok: Family::default(),
            job_last_failure: Family::default(),
            scrape: tokio::sync::Mutex::new(()),
            addr: OnceLock::new(),
        };
        r.register(
            "http_requests",
            "HTTP requests of the web listener, by method, route template and status class",
            m.http_requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request of the web listener, by method, route template and status class",
            m.http_duration.clone(),
        );
        r.register(
            "database_up",
            "1 when the last scrape could read every database gauge, else 0",
            m.database_up.clone(),
        );
        r.register(
            "db_pool_connections",
            "Open database connections (idle or in use) of this process",
            m.pool_size.clone(),
        );
        r.register(
            "db_pool_idle_connections",
            "Idle database connections of this process",
            m.pool_idle.clone(),
        );
        r.register(
            "manifest_expiry_timestamp_seconds",
            "When the installed federation manifest expires (unix time); absent without a manifest",
            m.manifest_expiry.clone(),
        );
        r.register(
            "manifest_grace_end_timestamp_seconds",
            "When the installed manifest's grace period ends (unix time): past it the federation stops and /readyz fails",
            m.manifest_grace_end.clone(),
        );
        r.register(
            "audit_checkpoint_last_timestamp_seconds",
            "Time of the latest signed audit checkpoint (unix time); absent before the first",
            m.audit_checkpoint.clone(),
        );
        r.register(
            "job_last_run_timestamp_seconds",
            "When a scheduled job last finished in this process (unix time), by job_name",
            m.job_last_run.clone(),
        );
        r.register(
            "job_last_success_timestamp_seconds",
            "When a scheduled job last succeeded in this process (unix time), by job_name",
            m.job_last_ok.clone(),
        );
        r.register(
            "job_last_failure_timestamp_seconds",
            "When a scheduled job last failed in this process (unix time), by job_name",
            m.job_last_failure.clone(),
        );
        if hub {
            r.register(
                "hub_releases",
                "Statistics releases (all versions) stored by this hub, by country",
                m.hub_releases.clone(),
            );
            r.register(
                "hub_release_last_received_timestamp_seconds",
                "When this hub last stored a release of a country (unix time), by country",
                m.hub_last_received.clone(),
            );
        } else {
            r.register(
                "federation_outbox_backlog",
                "Envelopes waiting to be delivered, by peer and channel",
                m.outbox_backlog.clone(),
            );
            r.register(
                "federation_delivery_failures",
                "Consecutive failed deliveries since the last success, by peer and channel",
                m.outbox_failures.clone(),
            );
            r.register(
                "federation_last_delivery_timestamp_seconds",
                "Last successful delivery to a peer on any channel (unix time), by peer",
                m.last_delivery.clone(),
            );
            r.register(
                "stats_release_last_published_timestamp_seconds",
                "When the latest statistics release of a period kind was published (unix time)",
                m.release_published.clone(),
            );
        }
        Metrics { registry: r, ..m }
    }

    /// Where the metrics listener is bound (set by [`crate::app::Application::build`]).
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.addr.get().copied()
    }

    pub(crate) fn set_listen_addr(&self, addr: SocketAddr) {
        let _ = self.addr.set(addr);
    }

    fn observe(&self, method: &Method, route: &str, status: StatusCode, seconds: f64) {
        let labels = HttpLabels {
            method: method_label(method).to_owned(),
            route: route.to_owned(),
            status: status_class(status).to_owned(),
        };
        self.http_requests.get_or_create(&labels).inc();
        self.http_duration.get_or_create(&labels).observe(seconds);
    }

    /// Refills the gauges read at scrape time. A failing query leaves its gauges absent and
    /// sets `puente_database_up` to 0; the error is logged (it names no data).
    async fn refresh(&self, st: &AppState) {
        let pool = st.store.pool_stats();
        self.pool_size.set(i64::from(pool.size));
        self.pool_idle
            .set(i64::try_from(pool.idle).unwrap_or(i64::MAX));
        for f in [
            &self.manifest_expiry,
            &self.manifest_grace_end,
            &self.audit_checkpoint,
        ] {
            f.clear();
        }
        self.outbox_backlog.clear();
        self.outbox_failures.clear();
        self.last_delivery.clear();
        self.release_published.clear();
        self.hub_releases.clear();
        self.hub_last_received.clear();
        for f in [
            &self.job_last_run,
            &self.job_last_ok,
            &self.job_last_failure,
        ] {
            f.clear();
        }

        for (job, t) in st.jobs.snapshot() {
            let label = JobLabel {
                job_name: job.to_owned(),
            };
            for (family, at) in [
                (&self.job_last_run, t.last_run),
                (&self.job_last_ok, t.last_ok),
                (&self.job_last_failure, t.last_failure),
            ] {
                if let Some(at) = at {
                    family.get_or_create(&label).set(at.timestamp());
                }
            }
        }

        let ok = match self.read_database(st).await {
            Ok(()) => 1,
            Err(e) => {
                tracing::warn!(error = %e, "metrics: cannot read the database gauges");
                0
            }
        };
        self.database_up.set(ok);
    }

    async fn read_database(&self, st: &AppState) -> anyhow::Result<()> {
        let store = st.store.as_ref();
        let none = Vec::new();
        if let Some(signed) = crate::federation::admin::held(store).await? {
            let m = &signed.manifest;
            self.manifest_expiry
                .get_or_create(&none)
                .set(m.expires_at.timestamp());
            if let Some(end) = m.grace_until() {
                self.manifest_grace_end
                    .get_or_create(&none)
                    .set(end.timestamp());
            }
        }
        if let Some(at) = store.checkpoints().await?.iter().map(|c| c.at).max() {
            self.audit_checkpoint
                .get_or_create(&none)
                .set(at.timestamp());
        }
        if crate::hub::is_hub(&st.config) {
            let mut by_country: std::collections::BTreeMap<String, (u64, DateTime<Utc>)> =
                std::collections::BTreeMap::new();
            for r in store.hub_releases(None).await? {
                let e = by_country.entry(r.country).or_insert((0, r.received_at));
                e.0 += 1;
                e.1 = e.1.max(r.received_at);
            }
            for (country, (n, last)) in by_country {
                let label = CountryLabel { country };
                self.hub_releases.get_or_create(&label).inc_by(n);
                self.hub_last_received
                    .get_or_create(&label)
                    .set(last.timestamp());
            }
            return Ok(());
        }
        for d in store.fed_delivery_states().await? {
            let label = PeerChannel {
                peer: d.peer.as_str().to_owned(),
                channel: d.channel.as_str().to_owned(),
            };
            self.outbox_backlog.get_or_create(&label).set(d.backlog);
            self.outbox_failures
                .get_or_create(&label)
                .set(i64::from(d.failures));
            if let Some(at) = d.last_success_at {
                let g = self.last_delivery.get_or_create(&PeerLabel {
                    peer: d.peer.as_str().to_owned(),
                });
                g.set(g.get().max(at.timestamp()));
            }
        }
        for r in store.releases(None).await? {
            let r = r.release;
            let Some(at) = r.published_at.filter(|_| r.state == "published") else {
                continue;
            };
            let Ok(period) = r.period.parse::<Period>() else {
                continue;
            };
            let g = self.release_published.get_or_create(&PeriodKindLabel {
                period_kind: PeriodKind::of(period).as_str().to_owned(),
            });
            g.set(g.get().max(at.timestamp()));
        }
        Ok(())
    }

    /// Refreshes the database gauges and encodes every metric as OpenMetrics text.
    pub async fn render(&self, st: &AppState) -> anyhow::Result<String> {
        let _one = self.scrape.lock().await;
        self.refresh(st).await;
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .map_err(|_| anyhow::anyhow!("cannot encode the metrics"))?;
        Ok(out)
    }
}

/// The method label: the standard methods by name, anything else `other` (a client cannot
/// make up label values).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn status_class(s: StatusCode) -> &'static str {
    match s.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// The route label: the matched route template, or [`UNMATCHED`] (also for the catch-all of
/// a nested router's fallback, whose template is axum's own).
fn route_label(p: Option<&MatchedPath>) -> &str {
    match p {
        Some(p) if !p.as_str().contains("__private__") => p.as_str(),
        _ => UNMATCHED,
    }
}

/// Middleware of the web router: counts and times every request by method, route template
/// and status class.
pub async fn track(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let route = route_label(req.extensions().get::<MatchedPath>()).to_owned();
    let method = req.method().clone();
    let start = Instant::now();
    let res = next.run(req).await;
    st.metrics
        .observe(&method, &route, res.status(), start.elapsed().as_secs_f64());
    res
}

/// `GET /metrics` of the metrics listener.
async fn scrape(State(st): State<AppState>) -> Response {
    match st.metrics.render(&st).await {
        Ok(body) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics scrape failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The router of the metrics listener: `GET /metrics` only.
pub fn router(st: AppState) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(st)
}

/// Shared handle type, for the node state.
pub type SharedMetrics = Arc<Metrics>;
