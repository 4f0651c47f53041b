//! The statistics releases' pages (`/statistics/releases…`) and JSON API
//! (`/api/v1/stats/releases…`), for national administrators only
//! (`Action::PublishStatistics`).
//!
//! - `GET /statistics/releases`: every release (period, version, correction mark, state,
//!   method, who prepared and published it and when, delivery to the hubs), the form that
//!   prepares a period (default: the last closed period of the federation's kind), and in DP
//!   mode the ε spent this year against the cap.
//! - `GET /statistics/releases/{id}`: the preview — every table with every cell, `<k` with
//!   the reason of a suppression (primary, complementary, group), the withheld tables; the
//!   Publish and Discard buttons of a draft; the hash and `prev` of a published release.
//! - `POST /statistics/releases`, `…/{id}/publish`, `…/{id}/discard`: the forms (CSRF
//!   checked by the web layer). A refusal re-renders the page with the reason (422).
//!
//! The API answers with `{"id","period","version","state","hash",…}` objects; refusals are
//! `validation_failed` with the field and its stable code (`period`: `period_open`,
//! `wrong_period_kind`, `no_stats_agreement`, `draft_exists`, `epsilon_budget_exceeded`;
//! `state`: `not_a_draft`; `release`: the receiver's codes).

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::{DateTime, Datelike, Utc};
use puente_common::stats::release::ReleaseReview;
use puente_common::stats::{Cell, Method, Period, ProtectedTable, Reason};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{Modify, OpenApi, ToSchema};
use uuid::Uuid;

use super::pages::label;
use super::releases::{self, state};
use crate::admin::require;
use crate::app::AppState;
use crate::audit::AuditCtx;
use crate::auth::ApiActor;
use crate::authz::Action;
use crate::cases::api::{body, ApiError, ErrorBody};
use crate::error::{AppError, AppResult};
use crate::store::release_sql::ReleaseListed;
use crate::web::{Lang, SignedIn};

/// The routes of this module, with the action each needs (same format as `app::ROUTES`).
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/statistics/releases", "publish_statistics"),
    ("POST", "/statistics/releases", "publish_statistics"),
    ("GET", "/statistics/releases/{id}", "publish_statistics"),
    (
        "POST",
        "/statistics/releases/{id}/publish",
        "publish_statistics",
    ),
    (
        "POST",
        "/statistics/releases/{id}/discard",
        "publish_statistics",
    ),
    ("GET", "/api/v1/stats/releases", "publish_statistics"),
    ("POST", "/api/v1/stats/releases", "publish_statistics"),
    (
        "POST",
        "/api/v1/stats/releases/{id}/publish",
        "publish_statistics",
    ),
    (
        "POST",
        "/api/v1/stats/releases/{id}/discard",
        "publish_statistics",
    ),
];

/// The templates of these pages (registered by `web::Web::load`).
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "statistics/releases.html",
        include_str!("../../templates/statistics/releases.html"),
    ),
    (
        "statistics/release.html",
        include_str!("../../templates/statistics/release.html"),
    ),
];

/// The pages' router (merged inside the web context layer).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/statistics/releases", get(list_page).post(prepare_form))
        .route("/statistics/releases/{id}", get(release_page))
        .route("/statistics/releases/{id}/publish", post(publish_form))
        .route("/statistics/releases/{id}/discard", post(discard_form))
}

/// The API's routes, relative to `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/stats/releases", get(api_list).post(api_prepare))
        .route("/stats/releases/{id}/publish", post(api_publish))
        .route("/stats/releases/{id}/discard", post(api_discard))
}

fn when(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| {
        Value::from(t.format("%Y-%m-%d %H:%M UTC").to_string())
    })
}

fn method_json(m: &Method) -> Value {
    json!({
        "k": m.k,
        "rounding": m.rounding_base,
        "epsilon": m.dp.map(|d| format!("{:.3}", f64::from(d.epsilon_milli) / 1000.0)),
    })
}

async fn row_json(st: &AppState, r: &ReleaseListed) -> AppResult<Value> {
    let rel = &r.release;
    let c = releases::content(rel)?;
    Ok(json!({
        "id": rel.id,
        "period": rel.period,
        "version": rel.version,
        "correction": rel.version > 1,
        "state": rel.state,
        "method": method_json(&c.method),
        "prepared_at": when(Some(rel.prepared_at)),
        "prepared_by": r.prepared_by_name,
        "published_at": when(rel.published_at),
        "published_by": r.published_by_name,
        "review": rel.review,
        "delivery": releases::delivery(st, rel).await?,
        "hash": rel.hash,
        "prev": rel.prev,
    }))
}

fn reason_key(c: &Cell) -> Option<&'static str> {
    match c {
        Cell::Count(_) => None,
        Cell::Suppressed(Reason::Primary) => Some("primary"),
        Cell::Suppressed(Reason::Complementary) => Some("complementary"),
        Cell::Suppressed(Reason::Group) => Some("group"),
    }
}

fn cell_json(st: &AppState, lang: Lang, c: &Cell, k: u32) -> Value {
    json!({
        "value": super::pages::show(c, k),
        "reason": reason_key(c).map(|r| st.web.tr(lang, &format!("stats-rel-reason-{r}"))),
    })
}

/// A table as the preview shows it: one row per cell (its categories, its value, why it is
/// suppressed), then the margins and the grand total.
fn table_json(st: &AppState, lang: Lang, t: &ProtectedTable, k: u32) -> Value {
    let dims = &t.dimensions;
    let sizes: Vec<usize> = dims.iter().map(|d| d.categories.len()).collect();
    let mut rows = Vec::with_capacity(t.cells.len());
    for (i, c) in t.cells.iter().enumerate() {
        let mut rem = i;
        let mut idx = vec![0; sizes.len()];
        for d in (0..sizes.len()).rev() {
            idx[d] = rem % sizes[d];
            rem /= sizes[d];
        }
        let labels: Vec<String> = idx
            .iter()
            .enumerate()
            .map(|(d, x)| label(st, lang, &dims[d].name, &dims[d].categories[*x]))
            .collect();
        rows.push(json!({ "labels": labels, "cell": cell_json(st, lang, c, k) }));
    }
    let margins: Vec<Value> = t
        .margins
        .iter()
        .enumerate()
        .map(|(d, m)| {
            json!({
                "name": st.web.tr(lang, &format!("stats-dim-{}", dims[d].name)),
                "items": dims[d].categories.iter().zip(m).map(|(cat, c)| json!({
                    "label": label(st, lang, &dims[d].name, cat),
                    "cell": cell_json(st, lang, c, k),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "id": t.id,
        "title": st.web.tr(lang, &format!("stats-table-{}", t.id)),
        "head": dims.iter().map(|d| st.web.tr(lang, &format!("stats-dim-{}", d.name))).collect::<Vec<_>>(),
        "rows": rows,
        "margins": margins,
        "total": cell_json(st, lang, &t.total, k),
    })
}

/// The list page's data; `error` is a refusal code of the prepare form.
async fn list_data(st: &AppState, error: Option<&str>, period: Option<&str>) -> AppResult<Value> {
    let fed = releases::stats_fed(st).await?;
    let today = st.clock.now().date_naive();
    let kind = fed.as_ref().map(|f| f.kind());
    let default_period = kind.map(|k| super::last_closed(k.as_str(), today).to_string());
    let mut rows = Vec::new();
    for r in st.store.releases(None).await? {
        rows.push(row_json(st, &r).await?);
    }
    let cfg = &st.config.stats;
    let year = u16::try_from(today.year()).unwrap_or(0);
    let dp = match cfg.dp_epsilon_milli {
        Some(e) => {
            let spent = releases::epsilon_spent(st, year).await?;
            json!({
                "year": year,
                "spent": format!("{:.3}", spent as f64 / 1000.0),
                "cap": format!("{:.3}", f64::from(cfg.dp_yearly_cap_milli) / 1000.0),
                "release": format!("{:.3}", f64::from(e) / 1000.0),
            })
        }
        None => Value::Null,
    };
    Ok(json!({
        "releases": rows,
        "agreement": fed.is_some(),
        "hubs": fed.as_ref().map(|f| f.hubs.iter().map(|h| h.0.as_str()).collect::<Vec<_>>()),
        "kind": kind.map(|k| k.as_str()),
        "period": period.map(str::to_owned).or(default_period),
        "dp": dp,
        "auto_publish": cfg.auto_publish,
        "error": error,
    }))
}

/// `GET /statistics/releases`
async fn list_page(State(st): State<AppState>, s: SignedIn) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(
        &st,
        &audit,
        &s.actor,
        Action::PublishStatistics,
        &s.ctx.path,
    )
    .await?;
    let data = list_data(&st, None, None).await?;
    Ok(st.web.render(&s.ctx, "statistics/releases.html", data))
}

/// The prepare form.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct PrepareForm {
    pub period: String,
}

fn first_code(e: &AppError) -> Option<&'static str> {
    match e {
        AppError::Invalid(f) => f.first().map(|f| f.code),
        _ => None,
    }
}

/// `POST /statistics/releases`
async fn prepare_form(
    State(st): State<AppState>,
    s: SignedIn,
    Form(f): Form<PrepareForm>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(
        &st,
        &audit,
        &s.actor,
        Action::PublishStatistics,
        &s.ctx.path,
    )
    .await?;
    let result = match f.period.trim().parse::<Period>() {
        Ok(p) => releases::prepare(&st, p, &audit).await,
        Err(_) => Err(AppError::Invalid(vec![crate::error::FieldError::new(
            "period", "invalid",
        )])),
    };
    match result {
        Ok(r) => Ok(Redirect::to(&format!("/statistics/releases/{}", r.id)).into_response()),
        Err(e) => match first_code(&e) {
            Some(code) => {
                let data = list_data(&st, Some(code), Some(f.period.trim())).await?;
                Ok(st.web.render_status(
                    &s.ctx,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "statistics/releases.html",
                    data,
                ))
            }
            None => Err(e),
        },
    }
}

async fn release_data(
    st: &AppState,
    lang: Lang,
    id: Uuid,
    error: Option<&str>,
) -> AppResult<Value> {
    let r = st.store.release(id).await?;
    let c = releases::content(&r.release)?;
    let k = c.method.k;
    let mut data = row_json(st, &r).await?;
    if let Some(m) = data.as_object_mut() {
        m.insert(
            "tables".into(),
            c.tables
                .iter()
                .map(|t| table_json(st, lang, t, k))
                .collect::<Vec<_>>()
                .into(),
        );
        m.insert(
            "withheld".into(),
            c.withheld
                .iter()
                .map(|t| json!({ "id": t, "title": st.web.tr(lang, &format!("stats-table-{t}")) }))
                .collect::<Vec<_>>()
                .into(),
        );
        m.insert("k".into(), k.into());
        m.insert("is_draft".into(), (r.release.state == state::DRAFT).into());
        m.insert("error".into(), error.into());
    }
    Ok(data)
}

/// Checks that the signed-in user may publish statistics, and reads the release id of the
/// path (`NotFound` when it is no id): the audit context and the id.
async fn allowed(st: &AppState, s: &SignedIn, id: &str) -> AppResult<(AuditCtx, Uuid)> {
    let audit = s.ctx.audit(st.clock.now());
    require(st, &audit, &s.actor, Action::PublishStatistics, &s.ctx.path).await?;
    let id = Uuid::parse_str(id).map_err(|_| AppError::NotFound)?;
    Ok((audit, id))
}

/// `GET /statistics/releases/{id}`
async fn release_page(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let (_, id) = allowed(&st, &s, &id).await?;
    let data = release_data(&st, s.ctx.lang, id, None).await?;
    Ok(st.web.render(&s.ctx, "statistics/release.html", data))
}

async fn after_form(
    st: &AppState,
    s: &SignedIn,
    id: Uuid,
    result: AppResult<()>,
    notice: &str,
) -> AppResult<Response> {
    match result {
        Ok(()) => {
            Ok(Redirect::to(&format!("/statistics/releases/{id}?notice={notice}")).into_response())
        }
        Err(e) => match first_code(&e) {
            Some(code) => {
                let data = release_data(st, s.ctx.lang, id, Some(code)).await?;
                Ok(st.web.render_status(
                    &s.ctx,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "statistics/release.html",
                    data,
                ))
            }
            None => Err(e),
        },
    }
}

/// `POST /statistics/releases/{id}/publish`
async fn publish_form(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let (audit, id) = allowed(&st, &s, &id).await?;
    let r = releases::publish(&st, id, &audit, ReleaseReview::Reviewed)
        .await
        .map(|_| ());
    after_form(&st, &s, id, r, "stats_release_published").await
}

/// `POST /statistics/releases/{id}/discard`
async fn discard_form(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let (audit, id) = allowed(&st, &s, &id).await?;
    let r = releases::discard(&st, id, &audit).await;
    after_form(&st, &s, id, r, "stats_release_discarded").await
}

// ---------------------------------------------------------------------------------------------
// API

type ApiResult = Result<Response, ApiError>;

/// A statistics release as the API lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseSummary {
    pub id: Uuid,
    /// `2025-Q2`, `2025-07` or `2025`.
    pub period: String,
    /// 1, or a correction's number.
    pub version: i32,
    /// `draft`, `published` or `discarded`.
    pub state: String,
    /// SHA-256 of the published body (published releases only).
    pub hash: Option<String>,
    /// The hash of the previous published release (published releases only).
    pub prev: Option<String>,
    pub prepared_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// `reviewed` or `auto` (published releases only).
    pub review: Option<String>,
    /// `pending` or `delivered` to the hubs (`rejected` if a hub rejected it); published
    /// releases only.
    pub delivery: Option<String>,
    /// The tables withheld for the period.
    pub withheld: Vec<String>,
    /// ε of the whole release, thousandths (DP mode).
    pub epsilon_milli: Option<i32>,
}

/// `POST /api/v1/stats/releases`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrepareBody {
    /// The closed period, of the federation's kind: `2025-Q2`, `2025-07` or `2025`.
    pub period: String,
}

/// No input (an empty JSON object).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoReleaseInput {}

async fn summary(st: &AppState, id: Uuid) -> AppResult<ReleaseSummary> {
    let r = st.store.release(id).await?.release;
    let c = releases::content(&r)?;
    Ok(ReleaseSummary {
        delivery: releases::delivery(st, &r).await?.map(str::to_owned),
        withheld: c.withheld,
        id: r.id,
        period: r.period,
        version: r.version,
        state: r.state,
        hash: r.hash,
        prev: r.prev,
        prepared_at: r.prepared_at,
        published_at: r.published_at,
        review: r.review,
        epsilon_milli: r.epsilon_milli,
    })
}

async fn allow(st: &AppState, a: &ApiActor, path: &str) -> AppResult<()> {
    require(st, &a.audit, &a.actor, Action::PublishStatistics, path).await
}

#[utoipa::path(
    get, path = "/api/v1/stats/releases", tag = "statistics",
    summary = "The node's statistics releases",
    description = "Every release (drafts, published, discarded), newest period and version first.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The releases", body = Vec<ReleaseSummary>),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Only national administrators", body = ErrorBody),
    )
)]
async fn api_list(State(st): State<AppState>, a: ApiActor) -> ApiResult {
    allow(&st, &a, "/api/v1/stats/releases").await?;
    let mut out = Vec::new();
    for r in st.store.releases(None).await.map_err(AppError::from)? {
        out.push(summary(&st, r.release.id).await?);
    }
    Ok(Json(out).into_response())
}

#[utoipa::path(
    post, path = "/api/v1/stats/releases", tag = "statistics",
    summary = "Prepare a period's release (a draft)",
    description = "Computes and protects the tables of a closed period of the federation's kind as a draft (audited `stats.release_prepare`). In DP mode the release's ε is recorded in the yearly ledger. Refusals (`period`): `invalid`, `period_open`, `wrong_period_kind`, `no_stats_agreement`, `draft_exists`, `epsilon_budget_exceeded`.",
    security(("bearer" = [])),
    request_body = PrepareBody,
    responses(
        (status = 201, description = "The draft", body = ReleaseSummary),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Only national administrators", body = ErrorBody),
        (status = 422, description = "Refused: nothing written", body = ErrorBody),
    )
)]
async fn api_prepare(
    State(st): State<AppState>,
    a: ApiActor,
    input: Result<Json<PrepareBody>, JsonRejection>,
) -> ApiResult {
    allow(&st, &a, "/api/v1/stats/releases").await?;
    let b = body(input)?;
    let p: Period =
        b.period.trim().parse().map_err(|_| {
            AppError::Invalid(vec![crate::error::FieldError::new("period", "invalid")])
        })?;
    let r = releases::prepare(&st, p, &a.audit).await?;
    Ok((StatusCode::CREATED, Json(summary(&st, r.id).await?)).into_response())
}

#[utoipa::path(
    post, path = "/api/v1/stats/releases/{id}/publish", tag = "statistics",
    summary = "Publish a draft release",
    description = "Signs the draft's tables as a `stats.release` body chained to the node's previous release, and queues it to each hub of the stats agreement in the same transaction (audited `stats.release_publish`). Refusals: `state`: `not_a_draft`; `release`: the hub's own check codes.",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The release's id")),
    request_body = NoReleaseInput,
    responses(
        (status = 200, description = "Published", body = ReleaseSummary),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Only national administrators", body = ErrorBody),
        (status = 404, description = "No such release", body = ErrorBody),
        (status = 422, description = "Refused: nothing written", body = ErrorBody),
    )
)]
async fn api_publish(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<NoReleaseInput>, JsonRejection>,
) -> ApiResult {
    allow(&st, &a, "/api/v1/stats/releases/{id}/publish").await?;
    body(input)?;
    let id = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    releases::publish(&st, id, &a.audit, ReleaseReview::Reviewed).await?;
    Ok(Json(summary(&st, id).await?).into_response())
}

#[utoipa::path(
    post, path = "/api/v1/stats/releases/{id}/discard", tag = "statistics",
    summary = "Discard a draft release",
    description = "The draft is kept as `discarded` (audited `stats.release_discard`); its version is free again. Refusals: `state`: `not_a_draft`.",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The release's id")),
    request_body = NoReleaseInput,
    responses(
        (status = 200, description = "Discarded", body = ReleaseSummary),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Only national administrators", body = ErrorBody),
        (status = 404, description = "No such release", body = ErrorBody),
        (status = 422, description = "Refused: nothing written", body = ErrorBody),
    )
)]
async fn api_discard(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<NoReleaseInput>, JsonRejection>,
) -> ApiResult {
    allow(&st, &a, "/api/v1/stats/releases/{id}/discard").await?;
    body(input)?;
    let id = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    releases::discard(&st, id, &a.audit).await?;
    Ok(Json(summary(&st, id).await?).into_response())
}

#[derive(OpenApi)]
#[openapi(
    paths(api_list, api_prepare, api_publish, api_discard),
    components(schemas(ReleaseSummary, PrepareBody, NoReleaseInput))
)]
pub struct ReleasesApi;

/// Adds [`ReleasesApi`] to the node's document (a modifier of `cases::api::ApiDoc`).
#[derive(Debug)]
pub struct Merge;

impl Modify for Merge {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.merge(ReleasesApi::openapi());
    }
}
