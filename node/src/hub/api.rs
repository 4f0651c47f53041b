//! `GET /api/v1/hub/releases`: the latest version of each (country, period) the hub holds,
//! with its hash, previous hash, arrival time and the body as received (for tests and the
//! federation harness). Mounted on a hub only; needs `view_hub`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

use super::{api_releases, ApiRelease, HubFilter};
use crate::app::AppState;
use crate::auth::ApiActor;
use crate::authz::Action;
use crate::cases::api::{query, ErrorBody};
use crate::error::{AppError, AppResult, FieldError};

/// The routes of this module, with the action each needs (same format as `app::ROUTES`).
pub const ROUTES: &[(&str, &str, &str)] = &[("GET", "/api/v1/hub/releases", "view_hub")];

/// The API's router (nested under `/api/v1`).
pub fn routes() -> Router<AppState> {
    Router::new().route("/hub/releases", get(list_releases))
}

/// Filters; every one optional.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HubParams {
    /// Releases of this member country.
    pub country: Option<String>,
    /// First period (`2025-Q1`, `2025-07` or `2025`), inclusive.
    pub from: Option<String>,
    /// Last period, inclusive.
    pub to: Option<String>,
}

/// The latest version of each (country, period).
#[derive(Debug, Serialize, ToSchema)]
pub struct HubReleaseList {
    pub items: Vec<ApiRelease>,
}

#[utoipa::path(
    get, path = "/api/v1/hub/releases", tag = "hub",
    summary = "Statistics releases received by the hub",
    description = "The latest version of each (country, period) the regional hub stored, oldest period first, with the release hash, the hash it chains to, when it arrived and the body as published. Only on a hub.",
    security(("bearer" = [])),
    params(HubParams),
    responses(
        (status = 200, description = "The releases", body = HubReleaseList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not see the hub", body = ErrorBody),
        (status = 422, description = "An unreadable parameter (`country`, `from`, `to`: `invalid`)", body = ErrorBody),
    )
)]
async fn list_releases(
    State(st): State<AppState>,
    a: ApiActor,
    q: Result<Query<HubParams>, QueryRejection>,
) -> AppResult<Response> {
    crate::admin::require(
        &st,
        &a.audit,
        &a.actor,
        Action::ViewHub,
        "/api/v1/hub/releases",
    )
    .await?;
    let q = query(q)?;
    let mut errors = Vec::new();
    let mut filter = HubFilter::default();
    if let Some(c) = q.country.as_deref().filter(|c| !c.trim().is_empty()) {
        match c.trim().parse() {
            Ok(c) => filter.country = Some(c),
            Err(_) => errors.push(FieldError::new("country", "invalid")),
        }
    }
    for (name, raw, slot) in [
        ("from", q.from.as_deref(), &mut filter.from),
        ("to", q.to.as_deref(), &mut filter.to),
    ] {
        if let Some(p) = raw.filter(|p| !p.trim().is_empty()) {
            match p.trim().parse() {
                Ok(p) => *slot = Some(p),
                Err(_) => errors.push(FieldError::new(name, "invalid")),
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let items = api_releases(st.store.as_ref(), &filter).await?;
    Ok(Json(HubReleaseList { items }).into_response())
}

/// The hub's part of the `/api/v1` OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(list_releases), components(schemas(HubReleaseList, ApiRelease)))]
pub struct HubApi;

/// Adds [`HubApi`] to the node's document (a modifier of `cases::api::ApiDoc`, listed before
/// the one that adds the common responses).
#[derive(Debug)]
pub struct Merge;

impl Modify for Merge {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.merge(HubApi::openapi());
    }
}
