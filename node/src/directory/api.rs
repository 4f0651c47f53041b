//! The directory's JSON API: `GET /api/v1/directory` (the regional directory, same filters as
//! the page) for everyone signed in, and for editors `POST /api/v1/directory/services`,
//! `PUT /api/v1/directory/services/{id}` and `POST /api/v1/directory/services/{id}/deactivate`.
//! Errors are the API's usual `{"error": code, "fields": [{"field", "code"}]}`; a service of
//! another organisation is not found (404), before the body is looked at.
//!
//! The operations are documented in the node's OpenAPI document through [`Merge`].

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use puente_common::directory::{DirService, DirectoryPayload};
use puente_common::vocab::codes::{PopulationServed, ServiceType};
use puente_common::CountryCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use uuid::Uuid;

use super::pages::ListParams as PageParams;
use super::{ServiceInput, ServiceView};
use crate::app::AppState;
use crate::auth::ApiActor;
use crate::authz::Action;
use crate::cases::api::{body, query, ErrorBody};
use crate::cases::Who;
use crate::error::{AppError, AppResult};

/// The routes of this module, with the action each needs (for `app::all_routes` and the
/// matrix test).
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/api/v1/directory", "view_directory"),
    ("POST", "/api/v1/directory/services", "edit_directory"),
    ("PUT", "/api/v1/directory/services/{id}", "edit_directory"),
    (
        "POST",
        "/api/v1/directory/services/{id}/deactivate",
        "edit_directory",
    ),
];

/// The routes, relative to `/api/v1` (merge into the `/api/v1` router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/directory", get(list_directory))
        .route("/directory/services", post(create_service))
        .route("/directory/services/{id}", put(update_service))
        .route(
            "/directory/services/{id}/deactivate",
            post(deactivate_service),
        )
}

type ApiResult = Result<Response, AppError>;

fn who(a: &ApiActor) -> Who<'_> {
    Who {
        actor: &a.actor,
        audit: &a.audit,
    }
}

fn path_id(raw: &str) -> AppResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| AppError::NotFound)
}

// ---------------------------------------------------------------------------------------------
// Wire types

/// Filters of the directory. Every one is optional; empty means any.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DirectoryParams {
    /// Services of this country (this node's or a peer's).
    #[param(value_type = Option<CountryCode>)]
    pub country: Option<String>,
    /// Services of this type.
    #[param(value_type = Option<ServiceType>)]
    pub service_type: Option<String>,
    /// Services for this population, or for anyone (none listed).
    #[param(value_type = Option<PopulationServed>)]
    pub population: Option<String>,
    /// Services in this language (ISO 639-3, e.g. `quc`).
    pub language: Option<String>,
    /// Services covering this place (ISO 3166-2, e.g. `GT-QZ`), or its whole country.
    pub subdivision: Option<String>,
    /// Words that must all appear in the organisation's name, the notes or the places' names
    /// (accents and case aside).
    pub q: Option<String>,
}

/// The regional directory, filtered: this node's services first, then each peer's.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DirectoryList {
    pub items: Vec<DirectoryItem>,
    /// Where the items come from: this node and every peer whose directory is held.
    pub sources: Vec<DirectorySourceItem>,
    /// Services before filtering.
    pub total: usize,
}

/// A service of the regional directory, with its organisation and country.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DirectoryItem {
    pub country: CountryCode,
    /// This node's own service (else a peer's).
    pub local: bool,
    pub org_code: String,
    pub org_name: String,
    pub org_type: String,
    pub service: DirService,
    /// When the peer's directory arrived (`null` for this node's services).
    pub received_at: Option<DateTime<Utc>>,
}

/// A directory the items come from.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DirectorySourceItem {
    pub country: CountryCode,
    pub local: bool,
    pub revision: u64,
    /// When that revision was made (`YYYY-MM-DDTHH:MM:SS.ffffffZ`; empty when refused).
    pub published_at: String,
    pub received_at: Option<DateTime<Utc>>,
    pub services: usize,
    /// Set when a held directory fails its checks (it is not shown): `payload_malformed`,
    /// `payload_invalid`, `payload_too_large`.
    pub refused: Option<String>,
}

/// A service of this node, as an editor submits it. Codes are checked: unknown ones are
/// reported per field (`service_type`, `languages.1`, `subdivisions.0`: `not_in_country`, …).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceBody {
    /// The organisation (a national administrator must name one; a coordinator's is theirs).
    /// Not changeable.
    #[serde(default)]
    pub org_id: Option<Uuid>,
    #[schema(value_type = ServiceType)]
    pub service_type: String,
    /// Empty: anyone.
    #[serde(default)]
    #[schema(value_type = Vec<PopulationServed>)]
    pub populations: Vec<String>,
    /// ISO 639-3 codes.
    #[serde(default)]
    pub languages: Vec<String>,
    /// ISO 3166-2 codes of this node's country; empty: the whole country.
    #[serde(default)]
    pub subdivisions: Vec<String>,
    /// Contact point for referrals: office phone, e-mail, address (organisation data only).
    pub contact: String,
    #[serde(default)]
    pub notes: String,
}

impl From<ServiceBody> for ServiceInput {
    fn from(b: ServiceBody) -> Self {
        ServiceInput {
            org_id: b.org_id,
            service_type: b.service_type,
            populations: b.populations,
            languages: b.languages,
            subdivisions: b.subdivisions,
            contact: b.contact,
            notes: b.notes,
        }
    }
}

/// A service of this node, as stored.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServiceItem {
    pub id: Uuid,
    pub org_id: Uuid,
    pub org_code: String,
    #[schema(value_type = ServiceType)]
    pub service_type: String,
    #[schema(value_type = Vec<PopulationServed>)]
    pub populations: Vec<String>,
    pub languages: Vec<String>,
    pub subdivisions: Vec<String>,
    pub contact: String,
    pub notes: String,
    /// Inactive services are not published.
    pub active: bool,
    pub updated_at: DateTime<Utc>,
}

impl From<ServiceView> for ServiceItem {
    fn from(v: ServiceView) -> Self {
        ServiceItem {
            id: v.id,
            org_id: v.org_id,
            org_code: v.org_code,
            service_type: v.service_type,
            populations: v.populations,
            languages: v.languages,
            subdivisions: v.subdivisions,
            contact: v.contact,
            notes: v.notes,
            active: v.active,
            updated_at: v.updated_at,
        }
    }
}

/// A change made: the service and the directory's new revision.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServiceSaved {
    pub service: ServiceItem,
    pub revision: u64,
}

fn saved(status: StatusCode, s: super::Saved) -> Response {
    let location = format!("/api/v1/directory/services/{}", s.service.id);
    let body = Json(ServiceSaved {
        service: s.service.into(),
        revision: s.revision,
    });
    if status == StatusCode::CREATED {
        (status, [(header::LOCATION, location)], body).into_response()
    } else {
        (status, body).into_response()
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers

#[utoipa::path(
    get, path = "/api/v1/directory", tag = "directory",
    summary = "The regional service directory",
    description = "This node's services and those of every peer whose directory is held, filtered. Organisation data only.",
    security(("bearer" = [])),
    params(DirectoryParams),
    responses(
        (status = 200, description = "The directory", body = DirectoryList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 422, description = "An unknown parameter, or a code that is not one (`service_type`, `population`, `language`, `subdivision`, `country`: `unknown_code`)", body = ErrorBody),
    )
)]
async fn list_directory(
    State(st): State<AppState>,
    a: ApiActor,
    q: Result<Query<DirectoryParams>, QueryRejection>,
) -> ApiResult {
    let p = query(q)?;
    let params = PageParams {
        country: p.country.unwrap_or_default(),
        service_type: p.service_type.unwrap_or_default(),
        population: p.population.unwrap_or_default(),
        language: p.language.unwrap_or_default(),
        subdivision: p.subdivision.unwrap_or_default(),
        q: p.q.unwrap_or_default(),
    };
    let (q, errors) = params.to_query();
    crate::admin::check(errors)?;
    let view = super::directory(&st, who(&a), &q).await?;
    Ok(Json(DirectoryList {
        items: view
            .entries
            .into_iter()
            .map(|e| DirectoryItem {
                country: e.country,
                local: e.local,
                org_code: e.org_code,
                org_name: e.org_name,
                org_type: e.org_type,
                service: e.service,
                received_at: e.received_at,
            })
            .collect(),
        sources: view
            .sources
            .into_iter()
            .map(|x| DirectorySourceItem {
                country: x.country,
                local: x.local,
                revision: x.revision,
                published_at: x.published_at,
                received_at: x.received_at,
                services: x.services,
                refused: x.refused.map(str::to_owned),
            })
            .collect(),
        total: view.total,
    })
    .into_response())
}

#[utoipa::path(
    post, path = "/api/v1/directory/services", tag = "directory",
    summary = "Add a service to this node's directory",
    description = "Audited as `directory.service_create`; the directory's revision goes up and, in a federation, the new directory is published to the peers in the same transaction.",
    security(("bearer" = [])),
    request_body = ServiceBody,
    responses(
        (status = 201, description = "Added", body = ServiceSaved,
            headers(("Location" = String, description = "`/api/v1/directory/services/{id}`"))),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not edit the directory, or the organisation is not the coordinator's", body = ErrorBody),
        (status = 422, description = "Invalid input; `fields` names each problem", body = ErrorBody),
    )
)]
async fn create_service(
    State(st): State<AppState>,
    a: ApiActor,
    input: Result<Json<ServiceBody>, JsonRejection>,
) -> ApiResult {
    crate::admin::require(
        &st,
        &a.audit,
        &a.actor,
        Action::EditDirectory,
        "/api/v1/directory/services",
    )
    .await?;
    let input: ServiceInput = body(input)?.into();
    let publication = super::current_publication(&st).await?;
    let s = super::save_service(&st, who(&a), None, &input, publication.as_ref()).await?;
    Ok(saved(StatusCode::CREATED, s))
}

#[utoipa::path(
    put, path = "/api/v1/directory/services/{id}", tag = "directory",
    summary = "Change a service of this node's directory",
    description = "Replaces every field (audited as `directory.service_update`, field names only); a deactivated service becomes active again.",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The service's id")),
    request_body = ServiceBody,
    responses(
        (status = 200, description = "Saved", body = ServiceSaved),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not edit the directory", body = ErrorBody),
        (status = 404, description = "No such service in the editor's organisation", body = ErrorBody),
        (status = 422, description = "Invalid input; `fields` names each problem", body = ErrorBody),
    )
)]
async fn update_service(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<ServiceBody>, JsonRejection>,
) -> ApiResult {
    crate::admin::require(
        &st,
        &a.audit,
        &a.actor,
        Action::EditDirectory,
        "/api/v1/directory/services/{id}",
    )
    .await?;
    let id = path_id(&id)?;
    // A service outside the editor's scope is not found, whatever the body says.
    super::service(&st, who(&a), id).await?;
    let input: ServiceInput = body(input)?.into();
    let publication = super::current_publication(&st).await?;
    let s = super::save_service(&st, who(&a), Some(id), &input, publication.as_ref()).await?;
    Ok(saved(StatusCode::OK, s))
}

#[utoipa::path(
    post, path = "/api/v1/directory/services/{id}/deactivate", tag = "directory",
    summary = "Take a service out of this node's directory",
    description = "The service is kept, inactive, and no longer published (audited as `directory.service_deactivate`).",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The service's id")),
    responses(
        (status = 200, description = "Deactivated", body = ServiceSaved),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not edit the directory", body = ErrorBody),
        (status = 404, description = "No such service in the editor's organisation", body = ErrorBody),
        (status = 422, description = "Already inactive (`active`: `already_inactive`)", body = ErrorBody),
    )
)]
async fn deactivate_service(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
) -> ApiResult {
    crate::admin::require(
        &st,
        &a.audit,
        &a.actor,
        Action::EditDirectory,
        "/api/v1/directory/services/{id}/deactivate",
    )
    .await?;
    let id = path_id(&id)?;
    let publication = super::current_publication(&st).await?;
    let s = super::deactivate_service(&st, who(&a), id, publication.as_ref()).await?;
    Ok(saved(StatusCode::OK, s))
}

// ---------------------------------------------------------------------------------------------
// The document

/// The directory's part of the `/api/v1` OpenAPI document (its tag is declared with the others
/// in `cases::api::ApiDoc`).
#[derive(OpenApi)]
#[openapi(
    paths(list_directory, create_service, update_service, deactivate_service),
    components(schemas(
        DirectoryList,
        DirectoryItem,
        DirectorySourceItem,
        ServiceBody,
        ServiceItem,
        ServiceSaved,
        DirService,
        DirectoryPayload,
        PopulationServed,
    ))
)]
pub struct DirectoryApi;

/// Adds [`DirectoryApi`] to the node's document (a modifier of `cases::api::ApiDoc`, listed
/// before the one that adds the common responses).
#[derive(Debug)]
pub struct Merge;

impl Modify for Merge {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.merge(DirectoryApi::openapi());
    }
}
