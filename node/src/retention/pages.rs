//! Retention's page and JSON API.
//!
//! - `GET /retention` (national administrators and auditors): the rule, how many persons it
//!   makes due now, how many a legal hold keeps, how many were anonymised or erased, when the
//!   job last ran in this process, and the cases under a legal hold (numbers, never names).
//! - The case page carries the legal-hold and erasure forms (`cases::pages`).
//! - API: `GET /api/v1/retention`; `GET /api/v1/cases/{id}/legal-holds`,
//!   `POST /api/v1/cases/{id}/legal-hold`, `POST /api/v1/cases/{id}/legal-hold/release`;
//!   `POST /api/v1/cases/{id}/erase`. Refusals are `validation_failed` with the field and its
//!   stable code (`reason`: `required`, `too_long`; `legal_hold`: `already_held`, `not_held`,
//!   `held`; `case`: `anonymised`; `confirm`: `mismatch`; `person`: `already_erased`,
//!   `changed_meanwhile`).

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{Modify, OpenApi, ToSchema};
use uuid::Uuid;

use crate::admin::{require, when};
use crate::app::AppState;
use crate::auth::ApiActor;
use crate::authz::Action;
use crate::cases::api::{body, ApiError, ErrorBody};
use crate::cases::Who;
use crate::error::{AppError, AppResult};
use crate::web::SignedIn;

/// The routes of this module, with the action each needs (same format as `app::ROUTES`).
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/retention", "view_retention"),
    ("GET", "/api/v1/retention", "view_retention"),
    ("GET", "/api/v1/cases/{id}/legal-holds", "view_cases"),
    ("POST", "/api/v1/cases/{id}/legal-hold", "manage_legal_hold"),
    (
        "POST",
        "/api/v1/cases/{id}/legal-hold/release",
        "manage_legal_hold",
    ),
    ("POST", "/api/v1/cases/{id}/erase", "erase_person"),
];

/// The templates of these pages (registered by `web::Web::load`).
pub const TEMPLATES: &[(&str, &str)] = &[(
    "retention.html",
    include_str!("../../templates/retention.html"),
)];

pub fn routes() -> Router<AppState> {
    Router::new().route("/retention", get(page))
}

/// The API's routes, relative to `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/retention", get(api_status))
        .route("/cases/{id}/legal-holds", get(api_holds))
        .route("/cases/{id}/legal-hold", post(api_place))
        .route("/cases/{id}/legal-hold/release", post(api_release))
        .route("/cases/{id}/erase", post(api_erase))
}

/// `GET /retention`
async fn page(State(st): State<AppState>, s: SignedIn) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ViewRetention, "/retention").await?;
    let status = super::status(&st).await?;
    let mut held = Vec::new();
    for h in st.store.held_cases().await? {
        let org = st.store.org(h.org_id).await.map(|o| o.name).ok();
        held.push(json!({ "number": h.number, "org": org, "placed_at": when(h.placed_at) }));
    }
    let last = st
        .jobs
        .snapshot()
        .into_iter()
        .find(|(name, _)| *name == crate::jobs::RETENTION)
        .map(|(_, t)| t);
    Ok(st.web.render(
        &s.ctx,
        "retention.html",
        json!({
            "status": status,
            "closed_before": status.closed_before.map(|c| c.format("%Y-%m-%d").to_string()),
            "held_cases": held,
            "last_ok": last.and_then(|t| t.last_ok).map(when),
            "last_failure": last.and_then(|t| t.last_failure).map(when),
        }),
    ))
}

// ---------------------------------------------------------------- API

type ApiResult = Result<Response, ApiError>;

/// A legal hold of a case.
#[derive(Debug, Serialize, ToSchema)]
pub struct LegalHold {
    pub placed_at: DateTime<Utc>,
    pub placed_by: Option<String>,
    /// Why the case is held (empty once the case is anonymised).
    pub reason: String,
    /// Absent while the hold is active.
    pub released_at: Option<DateTime<Utc>>,
    pub released_by: Option<String>,
}

/// Placing a legal hold.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldInput {
    /// Why (for example, the proceedings that may need the file). At most 2,000 characters.
    pub reason: String,
}

/// No input (an empty JSON object).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoHoldInput {}

/// Erasing the person of a case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseInput {
    /// The case's number, repeated as a confirmation.
    pub confirm: String,
}

/// What an erasure did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureResult {
    pub person_id: Uuid,
    /// The person's case numbers (all anonymised now).
    pub cases: Vec<String>,
    pub consents_withdrawn: usize,
    /// Referrals recalled (or cancelled when still awaiting approval).
    pub referrals_recalled: usize,
}

fn case_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| AppError::NotFound.into())
}

#[utoipa::path(
    get, path = "/api/v1/retention", tag = "retention",
    summary = "The node's retention rule and what it touches now",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The rule and the counts", body = super::Status),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Only national administrators and auditors", body = ErrorBody),
    )
)]
async fn api_status(State(st): State<AppState>, a: ApiActor) -> ApiResult {
    require(
        &st,
        &a.audit,
        &a.actor,
        Action::ViewRetention,
        "/api/v1/retention",
    )
    .await?;
    Ok(Json(super::status(&st).await?).into_response())
}

#[utoipa::path(
    get, path = "/api/v1/cases/{id}/legal-holds", tag = "retention",
    summary = "The legal holds of a case, newest first",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case's id")),
    responses(
        (status = 200, description = "The holds (the first is active when it has no release)", body = Vec<LegalHold>),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a role that reads cases", body = ErrorBody),
        (status = 404, description = "No such case in the organisation", body = ErrorBody),
    )
)]
async fn api_holds(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult {
    let id = case_id(&id)?;
    let who = Who {
        actor: &a.actor,
        audit: &a.audit,
    };
    let holds = super::holds(&st, who, id).await?;
    Ok(Json(
        holds
            .into_iter()
            .map(|h| LegalHold {
                placed_at: h.placed_at,
                placed_by: h.placed_by,
                reason: h.reason,
                released_at: h.released_at,
                released_by: h.released_by,
            })
            .collect::<Vec<_>>(),
    )
    .into_response())
}

#[utoipa::path(
    post, path = "/api/v1/cases/{id}/legal-hold", tag = "retention",
    summary = "Place a legal hold on a case",
    description = "While the hold is active the retention rule skips the case's person and their erasure is refused (audited `case.legal_hold_place`). Refusals: `reason`: `required`, `too_long`; `legal_hold`: `already_held`; `case`: `anonymised`.",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case's id")),
    request_body = HoldInput,
    responses(
        (status = 204, description = "Placed"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Only organisation coordinators", body = ErrorBody),
        (status = 404, description = "No such case in the organisation", body = ErrorBody),
        (status = 422, description = "Refused: nothing written", body = ErrorBody),
    )
)]
async fn api_place(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<HoldInput>, JsonRejection>,
) -> ApiResult {
    let path = "/api/v1/cases/{id}/legal-hold";
    require(&st, &a.audit, &a.actor, Action::ManageLegalHold, path).await?;
    let b = body(input)?;
    let id = case_id(&id)?;
    let who = Who {
        actor: &a.actor,
        audit: &a.audit,
    };
    super::place_hold(&st, who, id, &b.reason).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(
    post, path = "/api/v1/cases/{id}/legal-hold/release", tag = "retention",
    summary = "Release a case's legal hold",
    description = "Audited `case.legal_hold_release`; the hold stays in the case's history. Refusals: `legal_hold`: `not_held`.",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case's id")),
    request_body = NoHoldInput,
    responses(
        (status = 204, description = "Released"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Only organisation coordinators", body = ErrorBody),
        (status = 404, description = "No such case in the organisation", body = ErrorBody),
        (status = 422, description = "Refused: nothing written", body = ErrorBody),
    )
)]
async fn api_release(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<NoHoldInput>, JsonRejection>,
) -> ApiResult {
    let path = "/api/v1/cases/{id}/legal-hold/release";
    require(&st, &a.audit, &a.actor, Action::ManageLegalHold, path).await?;
    body(input)?;
    let id = case_id(&id)?;
    let who = Who {
        actor: &a.actor,
        audit: &a.audit,
    };
    super::release_hold(&st, who, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(
    post, path = "/api/v1/cases/{id}/erase", tag = "retention",
    summary = "Erase the case's person on their request",
    description = "In one transaction: every consent of the person still in force is withdrawn today (they drop out of every statistics period ending from today on), every referral sent from their cases is recalled (the destination erases what it received), and the person is anonymised: identity, search index, narratives, notes and other free texts cleared, coded facts kept (audited `person.erase`). Refusals: `confirm`: `mismatch` (repeat the case number); `legal_hold`: `held`; `person`: `already_erased`, `changed_meanwhile`.",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The id of one of the person's cases")),
    request_body = EraseInput,
    responses(
        (status = 200, description = "Erased", body = ErasureResult),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Only organisation coordinators", body = ErrorBody),
        (status = 404, description = "No such case in the organisation", body = ErrorBody),
        (status = 422, description = "Refused: nothing written", body = ErrorBody),
    )
)]
async fn api_erase(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<EraseInput>, JsonRejection>,
) -> ApiResult {
    require(
        &st,
        &a.audit,
        &a.actor,
        Action::ErasePerson,
        "/api/v1/cases/{id}/erase",
    )
    .await?;
    let b = body(input)?;
    let id = case_id(&id)?;
    let who = Who {
        actor: &a.actor,
        audit: &a.audit,
    };
    let e = super::erase(&st, who, id, &b.confirm).await?;
    Ok(Json(ErasureResult {
        person_id: e.person_id,
        cases: e.cases,
        consents_withdrawn: e.consents_withdrawn,
        referrals_recalled: e.referrals_recalled,
    })
    .into_response())
}

#[derive(OpenApi)]
#[openapi(
    paths(api_status, api_holds, api_place, api_release, api_erase),
    components(schemas(
        super::Status,
        LegalHold,
        HoldInput,
        NoHoldInput,
        EraseInput,
        ErasureResult
    ))
)]
pub struct RetentionApi;

/// Adds [`RetentionApi`] to the node's document (a modifier of `cases::api::ApiDoc`).
#[derive(Debug)]
pub struct Merge;

impl Modify for Merge {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.merge(RetentionApi::openapi());
    }
}
