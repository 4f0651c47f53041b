//! The cases JSON API (`/api/v1/cases…`, `/api/v1/persons…`) and the OpenAPI document of the
//! whole `/api/v1` (`GET /api/v1/openapi.json`, administration endpoints included).
//!
//! Handlers are thin: every operation is a function of the service layer (`crate::cases`),
//! which authorises, checks, seals and audits. A handler only
//! 1. authenticates the bearer token ([`ApiActor`], 401);
//! 2. checks the route's action up front, so that a role without it gets 403 whatever it sent
//!    (the service checks again, with the target);
//! 3. reads the JSON body or query, turning serde's complaints into 422 errors naming the field
//!    (`{"error": "unknown_field" | "validation_failed", "fields": [{"field", "code"}]}`);
//! 4. calls the service and shapes its answer with the types below, which are also the
//!    OpenAPI schemas (so the document describes what is sent).
//!
//! A stale `version` is answered 409 `{"error":"conflict","fields":[{"field":"version",
//! "code":"stale_version"}]}`.

use std::borrow::Cow;
use std::sync::OnceLock;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use puente_common::case::{
    CaseRecord, ConsentRecord, Contact, IdDocument, Identity, Perpetrator, PersonRecord,
    ProceedingRecord, RouteEvent, ServiceRecord, TraffickingProcess,
};
use puente_common::vocab::codes::{
    CaseStatus, ClosureReason, ConsentGivenBy, ConsentScope, ControlMethod, Education,
    ExploitationType, Gender, IntakeChannel, MaritalStatus, Means, MigrantType, MigrationContext,
    PerpetratorRole, PerpetratorSex, ProceedingStage, ProtectionStatus, RecruiterRelation,
    RecruitmentMethod, ReferralFieldGroup, RouteEventKind, ServiceStatus, ServiceType,
    SexualExploitationType, StatusDecidedBy, TraffickingAct, TraffickingStatus, Verdict,
};
use puente_common::vocab::Coded;
use puente_common::{CountryCode, OrgType};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, Modify, OpenApi, PartialSchema, ToSchema};
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::ApiActor;
use crate::authz::{Action, Role};
use crate::cases::{self as svc, NewCase, PersonChoice, Who};
use crate::directory::api::Merge as DirectoryOperations;
use crate::error::{AppError, AppResult, ErrorInfo, FieldError};
use crate::hub::api::Merge as HubOperations;
use crate::referrals::api::Merge as ReferralOperations;
use crate::retention::pages::Merge as RetentionOperations;
use crate::stats::release_pages::Merge as ReleaseOperations;

/// The routes of this module, with the action each needs (for `app::ROUTES` and the matrix
/// test). `GET /api/v1/cases` also serves a national administrator (`view_case_index`: the
/// node's index, without names).
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/api/v1/openapi.json", "view_home"),
    ("GET", "/api/v1/cases", "view_cases"),
    ("POST", "/api/v1/cases", "edit_cases"),
    ("GET", "/api/v1/cases/{id}", "view_cases"),
    ("PUT", "/api/v1/cases/{id}", "edit_cases"),
    ("POST", "/api/v1/cases/{id}/close", "edit_cases"),
    ("POST", "/api/v1/cases/{id}/reassign", "reassign_cases"),
    ("POST", "/api/v1/cases/{id}/notes", "edit_cases"),
    ("POST", "/api/v1/cases/{id}/consents", "edit_cases"),
    (
        "POST",
        "/api/v1/cases/{id}/consents/{consent_id}/withdraw",
        "edit_cases",
    ),
    ("POST", "/api/v1/cases/{id}/services", "edit_cases"),
    (
        "PUT",
        "/api/v1/cases/{id}/services/{service_id}",
        "edit_cases",
    ),
    ("POST", "/api/v1/cases/{id}/proceedings", "edit_cases"),
    (
        "PUT",
        "/api/v1/cases/{id}/proceedings/{proceeding_id}",
        "edit_cases",
    ),
    ("POST", "/api/v1/cases/{id}/break-glass", "break_glass"),
    ("GET", "/api/v1/persons/search", "view_cases"),
    ("PUT", "/api/v1/persons/{id}", "edit_cases"),
];

/// The routes, relative to `/api/v1` (merge into the `/api/v1` router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/cases", get(list_cases).post(register_case))
        .route("/cases/{id}", get(read_case).put(update_case))
        .route("/cases/{id}/close", post(close_case))
        .route("/cases/{id}/reassign", post(reassign_case))
        .route("/cases/{id}/notes", post(add_note))
        .route("/cases/{id}/consents", post(add_consent))
        .route(
            "/cases/{id}/consents/{consent_id}/withdraw",
            post(withdraw_consent),
        )
        .route("/cases/{id}/services", post(add_service))
        .route("/cases/{id}/services/{service_id}", put(update_service))
        .route("/cases/{id}/proceedings", post(add_proceeding))
        .route(
            "/cases/{id}/proceedings/{proceeding_id}",
            put(update_proceeding),
        )
        .route("/cases/{id}/break-glass", post(break_glass))
        .route("/persons/search", get(search_persons))
        .route("/persons/{id}", put(update_person))
}

// ---------------------------------------------------------------------------------------------
// Errors and input

/// An [`AppError`] as this API sends it: a stale version is `stale_version`, not `taken`.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self.0 {
            AppError::Conflict("version") => {
                let fields = vec![FieldError::new("version", "stale_version")];
                let mut resp = (
                    StatusCode::CONFLICT,
                    Json(serde_json::json!({ "error": "conflict", "fields": fields })),
                )
                    .into_response();
                resp.extensions_mut().insert(ErrorInfo {
                    status: StatusCode::CONFLICT,
                    code: "conflict",
                    fields,
                });
                resp
            }
            e => e.into_response(),
        }
    }
}

type ApiResult = Result<Response, ApiError>;

/// What serde said about the input, as an error naming the field: an unknown field is
/// `unknown_field`, a missing one `required`, anything else `malformed`. Nested fields are
/// named by their dotted path (`case.process.means`, `consents.0.scope`).
fn serde_complaint(message: &str, whole: &str) -> AppError {
    // serde_path_to_error (used by axum's Json) prefixes the path: `case.route[0].kind: …`.
    let (path, rest) = match message.split_once(": ") {
        Some((p, rest))
            if !p.is_empty()
                && p.chars().all(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '?' | '-')
                }) =>
        {
            (dotted(p), rest)
        }
        _ => (String::new(), message),
    };
    let join = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else if path == name || path.ends_with(&format!(".{name}")) {
            // An unknown field is already the last segment of the path.
            path.clone()
        } else {
            format!("{path}.{name}")
        }
    };
    let quoted = rest.split('`').nth(1);
    if let (true, Some(name)) = (rest.starts_with("unknown field"), quoted) {
        return AppError::UnknownField(join(name));
    }
    if let (true, Some(name)) = (rest.starts_with("missing field"), quoted) {
        return AppError::Invalid(vec![FieldError::new(join(name), "required")]);
    }
    let field = if path.is_empty() {
        whole.to_owned()
    } else {
        path
    };
    AppError::Invalid(vec![FieldError::new(field, "malformed")])
}

/// `consents[0].scope` → `consents.0.scope` (the service layer's form); unknown segments go.
fn dotted(path: &str) -> String {
    path.replace('[', ".")
        .replace(']', "")
        .split('.')
        .filter(|s| !s.is_empty() && *s != "?")
        .collect::<Vec<_>>()
        .join(".")
}

/// A JSON body, or a 422 naming what is wrong with it. The whole body is `body`.
pub(crate) fn body<T>(r: Result<Json<T>, JsonRejection>) -> AppResult<T> {
    match r {
        Ok(Json(v)) => Ok(v),
        Err(JsonRejection::JsonDataError(e)) => {
            let text = e.body_text();
            let message = text.split_once(": ").map_or(text.as_str(), |(_, m)| m);
            Err(serde_complaint(message, "body"))
        }
        Err(JsonRejection::MissingJsonContentType(_)) => {
            Err(AppError::Invalid(vec![FieldError::new("body", "not_json")]))
        }
        Err(_) => Err(AppError::Invalid(vec![FieldError::new(
            "body",
            "malformed",
        )])),
    }
}

/// Query parameters, or a 422 naming the unknown or malformed one.
pub(crate) fn query<T>(r: Result<Query<T>, QueryRejection>) -> AppResult<T> {
    match r {
        Ok(Query(v)) => Ok(v),
        Err(e) => {
            let text = e.body_text();
            let message = text.split_once(": ").map_or(text.as_str(), |(_, m)| m);
            Err(serde_complaint(message, "query"))
        }
    }
}

/// An id from the path; what is not a UUID names nothing that exists.
fn path_id(raw: &str) -> AppResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| AppError::NotFound)
}

/// Refuses (403, audited) a role without `action`, before the input is looked at.
async fn allow(st: &AppState, a: &ApiActor, action: Action, path: &str) -> AppResult<()> {
    crate::admin::require(st, &a.audit, &a.actor, action, path).await
}

fn who(a: &ApiActor) -> Who<'_> {
    Who {
        actor: &a.actor,
        audit: &a.audit,
    }
}

/// Renames the fields of a validation error (the service's names → this API's).
fn rename_fields(e: AppError, rename: impl Fn(&str) -> String) -> AppError {
    match e {
        AppError::Invalid(fields) => AppError::Invalid(
            fields
                .into_iter()
                .map(|f| FieldError::new(rename(&f.field), f.code))
                .collect(),
        ),
        other => other,
    }
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// A non-empty query value (empty means "any").
fn given(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

// ---------------------------------------------------------------------------------------------
// Wire types: what the API reads and sends (and the OpenAPI schemas)

/// An error. `error` is one of the codes below; `fields` (input and conflict errors only) names
/// what is wrong. Timeouts (408) and oversized bodies (413) are answered by the server's
/// layers in plain text.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    #[schema(schema_with = error_code_schema)]
    pub error: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldProblem>,
}

/// The error codes an `/api/v1` response can carry.
pub const ERROR_CODES: &[&str] = &[
    "validation_failed",
    "unknown_field",
    "unauthenticated",
    "forbidden",
    "not_found",
    "conflict",
    "internal_error",
];

fn error_code_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(ERROR_CODES.iter().copied()))
        .into()
}

/// One field at fault: its dotted path in the input (`case.process.exploitation_end`,
/// `consents.0.given_on`; `body` or `query` for the whole input) and a snake_case reason
/// (`required`, `malformed`, `unknown_field`, `too_long`, `in_future`, `end_before_start`,
/// `stale_version`, …).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = FieldError)]
pub struct FieldProblem {
    pub field: String,
    pub code: String,
}

/// Filters of the case list. Every one is optional; empty means any.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Cases with this status.
    #[param(value_type = Option<CaseStatus>)]
    pub status: Option<String>,
    /// Cases with this trafficking status.
    #[param(value_type = Option<TraffickingStatus>)]
    pub trafficking_status: Option<String>,
    /// Cases with this type of exploitation among theirs.
    #[param(value_type = Option<ExploitationType>)]
    pub exploitation: Option<String>,
    /// Cases of this caseworker.
    #[param(value_type = Option<Uuid>)]
    pub caseworker_id: Option<String>,
    /// Registered on or after this date.
    #[param(value_type = Option<NaiveDate>)]
    pub from: Option<String>,
    /// Registered on or before this date.
    #[param(value_type = Option<NaiveDate>)]
    pub to: Option<String>,
    /// Words of the person's names, or a document number (not for a national administrator).
    pub search: Option<String>,
    /// 1-based page of `page_size` cases (default 1).
    #[param(value_type = Option<i64>, minimum = 1)]
    pub page: Option<String>,
}

fn coded_param<T: Coded>(
    name: &'static str,
    v: Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let v = given(v)?;
    if T::from_code(&v).is_none() {
        errors.push(FieldError::new(name, "invalid"));
    }
    Some(v)
}

fn parsed_param<T: std::str::FromStr>(
    name: &'static str,
    v: Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let v = given(v)?;
    match v.parse() {
        Ok(t) => Some(t),
        Err(_) => {
            errors.push(FieldError::new(name, "invalid"));
            None
        }
    }
}

impl ListParams {
    fn into_query(self) -> AppResult<svc::ListQuery> {
        let mut errors = Vec::new();
        let q = svc::ListQuery {
            status: coded_param::<CaseStatus>("status", self.status, &mut errors),
            trafficking_status: coded_param::<TraffickingStatus>(
                "trafficking_status",
                self.trafficking_status,
                &mut errors,
            ),
            exploitation: coded_param::<ExploitationType>(
                "exploitation",
                self.exploitation,
                &mut errors,
            ),
            caseworker_id: parsed_param("caseworker_id", self.caseworker_id, &mut errors),
            from: parsed_param("from", self.from, &mut errors),
            to: parsed_param("to", self.to, &mut errors),
            search: given(self.search),
            page: parsed_param::<i64>("page", self.page, &mut errors).unwrap_or(1),
        };
        if q.page < 1 {
            errors.push(FieldError::new("page", "invalid"));
        }
        crate::admin::check(errors)?;
        Ok(q)
    }
}

/// A page of cases, newest registration first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseList {
    pub items: Vec<CaseSummary>,
    /// 1-based.
    pub page: i64,
    pub page_size: i64,
    /// Cases matching the filters, over all pages.
    pub total: i64,
}

/// A row of the case list.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseSummary {
    pub id: Uuid,
    /// `GTM-ASOC1-2026-0001`.
    pub number: String,
    /// The person's names; `null` on a national administrator's index.
    pub person_name: Option<String>,
    #[schema(value_type = CaseStatus)]
    pub status: String,
    pub registration_date: NaiveDate,
    #[schema(value_type = Option<TraffickingStatus>)]
    pub trafficking_status: Option<String>,
    #[schema(value_type = Vec<ExploitationType>)]
    pub exploitation: Vec<String>,
    pub caseworker_id: Option<Uuid>,
}

impl From<svc::CaseSummary> for CaseSummary {
    fn from(s: svc::CaseSummary) -> Self {
        let svc::CaseSummary {
            id,
            number,
            person_name,
            status,
            registration_date,
            trafficking_status,
            exploitation,
            caseworker_id,
        } = s;
        CaseSummary {
            id,
            number,
            person_name,
            status,
            registration_date,
            trafficking_status,
            exploitation,
            caseworker_id,
        }
    }
}

/// A registration: a new person (`person`) or one of the organisation's (`person_id`), exactly
/// one of them; the case; the consents given. Without a `CASE_MANAGEMENT` consent,
/// `consent_override_reason` (20 characters or more, coordinators only) is required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    #[serde(default)]
    pub person: Option<PersonRecord>,
    #[serde(default)]
    pub person_id: Option<Uuid>,
    pub case: CaseRecord,
    #[serde(default)]
    pub consents: Vec<ConsentRecord>,
    /// Defaults to the registering user.
    #[serde(default)]
    pub caseworker_id: Option<Uuid>,
    #[serde(default)]
    pub consent_override_reason: Option<String>,
}

/// A registered case.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseCreated {
    pub id: Uuid,
    pub number: String,
}

/// The id of what was created.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Created {
    pub id: Uuid,
}

/// A changed case record, with the `version` it was read at.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCaseBody {
    pub version: i32,
    pub case: CaseRecord,
}

/// Closing a case: status `CLOSED` (or `CLOSED_REFERRED` with `referred`), the reason, and an
/// optional note for the timeline.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    pub version: i32,
    #[serde(default)]
    pub referred: bool,
    pub reason: ClosureReason,
    #[serde(default)]
    pub note: String,
}

/// The caseworker (or coordinator) of the organisation to give the case to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReassignBody {
    pub caseworker_id: Uuid,
}

/// A note for the case's timeline (up to 20 000 characters).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub text: String,
}

/// The day a consent was withdrawn (not before it was given, not in the future).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawBody {
    pub withdrawn_on: NaiveDate,
}

/// Why a national administrator opens this case (20 characters or more; audited).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassBody {
    pub reason: String,
}

/// A consent on the case page. `in_force`: not withdrawn, given, not expired today.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsentView {
    pub id: Uuid,
    pub record: ConsentRecord,
    pub recorded_at: DateTime<Utc>,
    pub withdrawn_on: Option<NaiveDate>,
    pub in_force: bool,
}

/// A service of the support plan.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServiceEntry {
    pub id: Uuid,
    pub record: ServiceRecord,
    pub updated_at: DateTime<Utc>,
}

/// A step of the legal proceedings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProceedingEntry {
    pub id: Uuid,
    pub record: ProceedingRecord,
    pub updated_at: DateTime<Utc>,
}

/// An entry of the case's timeline (append-only).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    /// The author's display name.
    pub author: Option<String>,
    /// `case.registered`, `case.closed`, `consent.override`, `note`, …
    pub kind: String,
    pub body: String,
}

/// Everything about a case, identity included.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseView {
    pub id: Uuid,
    pub number: String,
    /// Send it back with a change; a change made meanwhile makes yours `stale_version`.
    pub version: i32,
    pub org_id: Uuid,
    pub person_id: Uuid,
    pub person: PersonRecord,
    pub case: CaseRecord,
    pub caseworker_id: Option<Uuid>,
    /// The caseworker's display name.
    pub caseworker: Option<String>,
    #[schema(minimum = 0)]
    pub age_at_registration: Option<u32>,
    pub minor_at_registration: Option<bool>,
    /// Act, means (unless a minor) and purpose of exploitation are all recorded.
    pub palermo_elements_met: bool,
    pub consents: Vec<ConsentView>,
    pub services: Vec<ServiceEntry>,
    pub proceedings: Vec<ProceedingEntry>,
    pub timeline: Vec<TimelineEntry>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// When the person was anonymised (the retention rule, or erasure on request): identity
    /// and free texts are empty, and the case is read-only.
    pub anonymised_at: Option<DateTime<Utc>>,
    /// `retention` or `erasure`.
    pub anonymised_why: Option<String>,
}

impl From<svc::CaseView> for CaseView {
    fn from(v: svc::CaseView) -> Self {
        // Destructured whole, so that a field added to the service's view fails to compile
        // here until the API (and its schema) carries it.
        let svc::CaseView {
            id,
            number,
            version,
            org_id,
            person_id,
            person,
            case,
            caseworker_id,
            caseworker,
            age_at_registration,
            minor_at_registration,
            palermo_elements_met,
            consents,
            services,
            proceedings,
            timeline,
            created_at,
            updated_at,
            closed_at,
            anonymised_at,
            anonymised_why,
        } = v;
        CaseView {
            id,
            number,
            version,
            org_id,
            person_id,
            person,
            case,
            caseworker_id,
            caseworker,
            age_at_registration,
            minor_at_registration,
            palermo_elements_met,
            consents: consents
                .into_iter()
                .map(|c| {
                    let svc::ConsentView {
                        id,
                        record,
                        recorded_at,
                        withdrawn_on,
                        in_force,
                    } = c;
                    ConsentView {
                        id,
                        record,
                        recorded_at,
                        withdrawn_on,
                        in_force,
                    }
                })
                .collect(),
            services: services
                .into_iter()
                .map(|e| {
                    let svc::EntryView {
                        id,
                        record,
                        updated_at,
                    } = e;
                    ServiceEntry {
                        id,
                        record,
                        updated_at,
                    }
                })
                .collect(),
            proceedings: proceedings
                .into_iter()
                .map(|e| {
                    let svc::EntryView {
                        id,
                        record,
                        updated_at,
                    } = e;
                    ProceedingEntry {
                        id,
                        record,
                        updated_at,
                    }
                })
                .collect(),
            timeline: timeline
                .into_iter()
                .map(|t| {
                    let svc::TimelineView {
                        at,
                        author,
                        kind,
                        body,
                    } = t;
                    TimelineEntry {
                        at,
                        author,
                        kind,
                        body,
                    }
                })
                .collect(),
            created_at,
            updated_at,
            closed_at,
            anonymised_at,
            anonymised_why,
        }
    }
}

/// Search for a person before registering: name words and/or a document number (at least one).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PersonSearchParams {
    /// Words of the given or family names (accents and case do not matter).
    pub name: Option<String>,
    /// A document number (spaces and dashes do not matter).
    pub document: Option<String>,
}

/// Persons of the organisation that match (at most 20).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PersonMatches {
    pub items: Vec<PersonMatch>,
}

/// A person that matches a search, with their cases.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PersonMatch {
    pub person_id: Uuid,
    pub given_names: String,
    pub family_names: String,
    pub birth_date: Option<NaiveDate>,
    pub cases: Vec<PersonCase>,
}

/// One case of a person.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PersonCase {
    pub number: String,
    #[schema(value_type = CaseStatus)]
    pub status: String,
}

impl From<svc::PersonMatch> for PersonMatch {
    fn from(m: svc::PersonMatch) -> Self {
        let svc::PersonMatch {
            person_id,
            given_names,
            family_names,
            birth_date,
            cases,
        } = m;
        PersonMatch {
            person_id,
            given_names,
            family_names,
            birth_date,
            cases: cases
                .into_iter()
                .map(|(number, status)| PersonCase { number, status })
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// The OpenAPI document, built once.
fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_json()
            .unwrap_or_else(|e| format!("{{\"error\":\"internal_error\",\"detail\":\"{e}\"}}"))
    })
}

#[utoipa::path(
    get, path = "/api/v1/openapi.json", tag = "meta",
    summary = "This document",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of `/api/v1`", content_type = "application/json", body = Object),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
async fn openapi_json(_a: ApiActor) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document()).into_response()
}

#[utoipa::path(
    get, path = "/api/v1/cases", tag = "cases",
    summary = "List cases",
    description = "The organisation's cases, filtered, 50 a page (audited as `case.list`). A national administrator gets the node's index, without names, and cannot search by name.",
    security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "A page of cases", body = CaseList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not list cases", body = ErrorBody),
        (status = 422, description = "An unknown or malformed parameter", body = ErrorBody),
    )
)]
async fn list_cases(
    State(st): State<AppState>,
    a: ApiActor,
    q: Result<Query<ListParams>, QueryRejection>,
) -> ApiResult {
    if !a.actor.can(Action::ViewCaseIndex) {
        allow(&st, &a, Action::ViewCases, "/api/v1/cases").await?;
    }
    let q = query(q)?.into_query()?;
    let list = svc::list(&st, who(&a), &q).await?;
    Ok(Json(CaseList {
        items: list.items.into_iter().map(CaseSummary::from).collect(),
        page: list.page,
        page_size: svc::PAGE_SIZE,
        total: list.total,
    })
    .into_response())
}

#[utoipa::path(
    post, path = "/api/v1/cases", tag = "cases",
    summary = "Register a case",
    description = "Registers a case for a new or existing person with the consents given, all at once (audited as `case.create`, or `case.create_consent_override`). Every problem is reported at once.",
    security(("bearer" = [])),
    request_body = RegisterBody,
    responses(
        (status = 201, description = "Registered", body = CaseCreated,
            headers(("Location" = String, description = "`/api/v1/cases/{id}`"))),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not register cases", body = ErrorBody),
        (status = 422, description = "Invalid input; `fields` names each problem (`person.identity.given_names`, `case.registration_date`, `consents.0.given_by`, `consents`: `case_management_consent_required`, …)", body = ErrorBody),
    )
)]
async fn register_case(
    State(st): State<AppState>,
    a: ApiActor,
    input: Result<Json<RegisterBody>, JsonRejection>,
) -> ApiResult {
    allow(&st, &a, Action::EditCases, "/api/v1/cases").await?;
    let b = body(input)?;
    let person = match (b.person, b.person_id) {
        (Some(p), None) => PersonChoice::New(Box::new(p)),
        (None, Some(id)) => PersonChoice::Existing(id),
        (None, None) => {
            return Err(AppError::Invalid(vec![FieldError::new("person", "required")]).into())
        }
        (Some(_), Some(_)) => {
            return Err(
                AppError::Invalid(vec![FieldError::new("person_id", "not_with_person")]).into(),
            )
        }
    };
    let r = svc::register(
        &st,
        who(&a),
        NewCase {
            person,
            case: b.case,
            consents: b.consents,
            caseworker_id: b.caseworker_id,
            consent_override_reason: b.consent_override_reason,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/cases/{}", r.id))],
        Json(CaseCreated {
            id: r.id,
            number: r.number,
        }),
    )
        .into_response())
}

#[utoipa::path(
    get, path = "/api/v1/cases/{id}", tag = "cases",
    summary = "Read a case",
    description = "The whole case, identity included (audited as `case.read`). A case of another organisation is not found.",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case's id")),
    responses(
        (status = 200, description = "The case", body = CaseView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not read cases", body = ErrorBody),
        (status = 404, description = "No such case in the organisation", body = ErrorBody),
    )
)]
async fn read_case(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult {
    allow(&st, &a, Action::ViewCases, "/api/v1/cases/{id}").await?;
    let id = path_id(&id)?;
    let v = svc::read(&st, who(&a), id).await?;
    Ok(Json(CaseView::from(v)).into_response())
}

#[utoipa::path(
    put, path = "/api/v1/cases/{id}", tag = "cases",
    summary = "Change a case",
    description = "Replaces the case record; `version` is the one read (audited as `case.update` with the names of the changed fields).",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case's id")),
    request_body = UpdateCaseBody,
    responses(
        (status = 204, description = "Saved (or nothing changed)"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not change cases", body = ErrorBody),
        (status = 404, description = "No such case in the organisation", body = ErrorBody),
        (status = 409, description = "Changed meanwhile: `version` is `stale_version`", body = ErrorBody),
        (status = 422, description = "Invalid input (`case.…`)", body = ErrorBody),
    )
)]
async fn update_case(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<UpdateCaseBody>, JsonRejection>,
) -> ApiResult {
    allow(&st, &a, Action::EditCases, "/api/v1/cases/{id}").await?;
    let b = body(input)?;
    let id = path_id(&id)?;
    svc::update(&st, who(&a), id, b.version, b.case).await?;
    Ok(no_content())
}

#[utoipa::path(
    post, path = "/api/v1/cases/{id}/close", tag = "cases",
    summary = "Close a case",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case's id")),
    request_body = CloseBody,
    responses(
        (status = 204, description = "Closed"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not change cases", body = ErrorBody),
        (status = 404, description = "No such case in the organisation", body = ErrorBody),
        (status = 409, description = "Changed meanwhile: `version` is `stale_version`", body = ErrorBody),
        (status = 422, description = "Invalid input", body = ErrorBody),
    )
)]
async fn close_case(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<CloseBody>, JsonRejection>,
) -> ApiResult {
    allow(&st, &a, Action::EditCases, "/api/v1/cases/{id}/close").await?;
    let b = body(input)?;
    let id = path_id(&id)?;
    svc::close(&st, who(&a), id, b.version, b.referred, b.reason, &b.note).await?;
    Ok(no_content())
}

#[utoipa::path(
    post, path = "/api/v1/cases/{id}/reassign", tag = "cases",
    summary = "Give a case to another caseworker",
    description = "Coordinators only (audited as `case.reassign`).",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case's id")),
    request_body = ReassignBody,
    responses(
        (status = 204, description = "Reassigned"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not reassign cases", body = ErrorBody),
        (status = 404, description = "No such case in the organisation", body = ErrorBody),
        (status = 422, description = "Invalid input (`caseworker_id`: `invalid` when not an active caseworker of the organisation)", body = ErrorBody),
    )
)]
async fn reassign_case(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<ReassignBody>, JsonRejection>,
) -> ApiResult {
    allow(
        &st,
        &a,
        Action::ReassignCases,
        "/api/v1/cases/{id}/reassign",
    )
    .await?;
    let b = body(input)?;
    let id = path_id(&id)?;
    svc::reassign(&st, who(&a), id, b.caseworker_id).await?;
    Ok(no_content())
}

#[utoipa::path(
    post, path = "/api/v1/cases/{id}/notes", tag = "cases",
    summary = "Add a note to the timeline",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case's id")),
    request_body = NoteBody,
    responses(
        (status = 204, description = "Added"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not change cases", body = ErrorBody),
        (status = 404, description = "No such case in the organisation", body = ErrorBody),
        (status = 422, description = "Invalid input (`text`: `required`, `too_long`)", body = ErrorBody),
    )
)]
async fn add_note(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<NoteBody>, JsonRejection>,
) -> ApiResult {
    allow(&st, &a, Action::EditCases, "/api/v1/cases/{id}/notes").await?;
    let b = body(input)?;
    let id = path_id(&id)?;
    svc::add_note(&st, who(&a), id, &b.text)
        .await
        .map_err(|e| rename_fields(e, |f| if f == "note" { "text".into() } else { f.into() }))?;
    Ok(no_content())
}

#[utoipa::path(
    post, path = "/api/v1/cases/{id}/consents", tag = "cases",
    summary = "Record a consent",
    description = "A consent given by (or for) the case's person (audited as `consent.add`).",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case's id")),
    request_body = ConsentRecord,
    responses(
        (status = 201, description = "Recorded", body = Created),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not change cases", body = ErrorBody),
        (status = 404, description = "No such case in the organisation", body = ErrorBody),
        (status = 422, description = "Invalid input (`given_by`: `minor_needs_guardian`, …)", body = ErrorBody),
    )
)]
async fn add_consent(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<ConsentRecord>, JsonRejection>,
) -> ApiResult {
    allow(&st, &a, Action::EditCases, "/api/v1/cases/{id}/consents").await?;
    let record = body(input)?;
    let id = path_id(&id)?;
    let cid = svc::add_consent(&st, who(&a), id, record).await?;
    Ok((StatusCode::CREATED, Json(Created { id: cid })).into_response())
}

#[utoipa::path(
    post, path = "/api/v1/cases/{id}/consents/{consent_id}/withdraw", tag = "cases",
    summary = "Record that a consent was withdrawn",
    description = "The consent is kept, as history (audited as `consent.withdraw`).",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The case's id"),
        ("consent_id" = Uuid, Path, description = "The consent's id"),
    ),
    request_body = WithdrawBody,
    responses(
        (status = 204, description = "Recorded"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not change cases", body = ErrorBody),
        (status = 404, description = "No such case, or no such consent of its person", body = ErrorBody),
        (status = 422, description = "Invalid input (`withdrawn_on`: `invalid`; `consent`: `already_withdrawn`)", body = ErrorBody),
    )
)]
async fn withdraw_consent(
    State(st): State<AppState>,
    a: ApiActor,
    Path((id, consent_id)): Path<(String, String)>,
    input: Result<Json<WithdrawBody>, JsonRejection>,
) -> ApiResult {
    allow(
        &st,
        &a,
        Action::EditCases,
        "/api/v1/cases/{id}/consents/{consent_id}/withdraw",
    )
    .await?;
    let b = body(input)?;
    let (id, consent_id) = (path_id(&id)?, path_id(&consent_id)?);
    svc::withdraw_consent(&st, who(&a), id, consent_id, b.withdrawn_on).await?;
    Ok(no_content())
}

/// Adds (`entry` none) or replaces a service or proceeding.
async fn save_entry<T: svc::Entry>(
    st: &AppState,
    a: &ApiActor,
    path: &str,
    id: &str,
    entry: Option<&str>,
    input: Result<Json<T>, JsonRejection>,
) -> ApiResult {
    allow(st, a, Action::EditCases, path).await?;
    let record = body(input)?;
    let id = path_id(id)?;
    let entry = entry.map(path_id).transpose()?;
    let eid = svc::save_entry(st, who(a), id, entry, record).await?;
    Ok(match entry {
        None => (StatusCode::CREATED, Json(Created { id: eid })).into_response(),
        Some(_) => no_content(),
    })
}

#[utoipa::path(
    post, path = "/api/v1/cases/{id}/services", tag = "cases",
    summary = "Add a service to the support plan",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case's id")),
    request_body = ServiceRecord,
    responses(
        (status = 201, description = "Added", body = Created),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not change cases", body = ErrorBody),
        (status = 404, description = "No such case in the organisation", body = ErrorBody),
        (status = 422, description = "Invalid input (`end_date`: `end_before_start`, …)", body = ErrorBody),
    )
)]
async fn add_service(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<ServiceRecord>, JsonRejection>,
) -> ApiResult {
    save_entry(&st, &a, "/api/v1/cases/{id}/services", &id, None, input).await
}

#[utoipa::path(
    put, path = "/api/v1/cases/{id}/services/{service_id}", tag = "cases",
    summary = "Change a service",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The case's id"),
        ("service_id" = Uuid, Path, description = "The service's id"),
    ),
    request_body = ServiceRecord,
    responses(
        (status = 204, description = "Saved"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not change cases", body = ErrorBody),
        (status = 404, description = "No such case, or no such service of it", body = ErrorBody),
        (status = 422, description = "Invalid input", body = ErrorBody),
    )
)]
async fn update_service(
    State(st): State<AppState>,
    a: ApiActor,
    Path((id, entry)): Path<(String, String)>,
    input: Result<Json<ServiceRecord>, JsonRejection>,
) -> ApiResult {
    save_entry(
        &st,
        &a,
        "/api/v1/cases/{id}/services/{service_id}",
        &id,
        Some(&entry),
        input,
    )
    .await
}

#[utoipa::path(
    post, path = "/api/v1/cases/{id}/proceedings", tag = "cases",
    summary = "Add a step of the legal proceedings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case's id")),
    request_body = ProceedingRecord,
    responses(
        (status = 201, description = "Added", body = Created),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not change cases", body = ErrorBody),
        (status = 404, description = "No such case in the organisation", body = ErrorBody),
        (status = 422, description = "Invalid input (`verdict`: `required`, `only_for_verdict`, …)", body = ErrorBody),
    )
)]
async fn add_proceeding(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<ProceedingRecord>, JsonRejection>,
) -> ApiResult {
    save_entry(&st, &a, "/api/v1/cases/{id}/proceedings", &id, None, input).await
}

#[utoipa::path(
    put, path = "/api/v1/cases/{id}/proceedings/{proceeding_id}", tag = "cases",
    summary = "Change a step of the legal proceedings",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The case's id"),
        ("proceeding_id" = Uuid, Path, description = "The step's id"),
    ),
    request_body = ProceedingRecord,
    responses(
        (status = 204, description = "Saved"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not change cases", body = ErrorBody),
        (status = 404, description = "No such case, or no such step of it", body = ErrorBody),
        (status = 422, description = "Invalid input", body = ErrorBody),
    )
)]
async fn update_proceeding(
    State(st): State<AppState>,
    a: ApiActor,
    Path((id, entry)): Path<(String, String)>,
    input: Result<Json<ProceedingRecord>, JsonRejection>,
) -> ApiResult {
    save_entry(
        &st,
        &a,
        "/api/v1/cases/{id}/proceedings/{proceeding_id}",
        &id,
        Some(&entry),
        input,
    )
    .await
}

#[utoipa::path(
    post, path = "/api/v1/cases/{id}/break-glass", tag = "cases",
    summary = "Open a case of any organisation (national administrators)",
    description = "Gives the whole case, identity included, with a written reason; audited as `case.break_glass` with the reason, for the other administrators and auditors to see.",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case's id")),
    request_body = BreakGlassBody,
    responses(
        (status = 200, description = "The case", body = CaseView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not break the glass", body = ErrorBody),
        (status = 404, description = "No such case", body = ErrorBody),
        (status = 422, description = "Invalid input (`reason`: `reason_too_short`)", body = ErrorBody),
    )
)]
async fn break_glass(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<BreakGlassBody>, JsonRejection>,
) -> ApiResult {
    allow(
        &st,
        &a,
        Action::BreakGlass,
        "/api/v1/cases/{id}/break-glass",
    )
    .await?;
    let b = body(input)?;
    let id = path_id(&id)?;
    let v = svc::break_glass(&st, who(&a), id, &b.reason).await?;
    Ok(Json(CaseView::from(v)).into_response())
}

#[utoipa::path(
    get, path = "/api/v1/persons/search", tag = "persons",
    summary = "Find a person before registering",
    description = "Persons of the organisation whose names contain all the words, and/or with the document number (audited as `person.search`, without the search text).",
    security(("bearer" = [])),
    params(PersonSearchParams),
    responses(
        (status = 200, description = "Matches (at most 20)", body = PersonMatches),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not read cases", body = ErrorBody),
        (status = 422, description = "Neither `name` nor `document` (`name`: `required`), or an unknown parameter", body = ErrorBody),
    )
)]
async fn search_persons(
    State(st): State<AppState>,
    a: ApiActor,
    q: Result<Query<PersonSearchParams>, QueryRejection>,
) -> ApiResult {
    allow(&st, &a, Action::ViewCases, "/api/v1/persons/search").await?;
    let q = query(q)?;
    let name = given(q.name).unwrap_or_default();
    let document = given(q.document).unwrap_or_default();
    if name.is_empty() && document.is_empty() {
        return Err(AppError::Invalid(vec![FieldError::new("name", "required")]).into());
    }
    let found = svc::find_persons(&st, who(&a), &name, &document).await?;
    Ok(Json(PersonMatches {
        items: found.into_iter().map(PersonMatch::from).collect(),
    })
    .into_response())
}

#[utoipa::path(
    put, path = "/api/v1/persons/{id}", tag = "persons",
    summary = "Change a person",
    description = "Replaces the person record (audited as `person.update` with the names of the changed fields).",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The person's id (`person_id` of a case)")),
    request_body = PersonRecord,
    responses(
        (status = 204, description = "Saved (or nothing changed)"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not change cases", body = ErrorBody),
        (status = 404, description = "No such person in the organisation", body = ErrorBody),
        (status = 422, description = "Invalid input (`identity.given_names`, …)", body = ErrorBody),
    )
)]
async fn update_person(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<PersonRecord>, JsonRejection>,
) -> ApiResult {
    allow(&st, &a, Action::EditCases, "/api/v1/persons/{id}").await?;
    let record = body(input)?;
    let id = path_id(&id)?;
    svc::update_person(&st, who(&a), id, record)
        .await
        .map_err(|e| rename_fields(e, |f| f.strip_prefix("person.").unwrap_or(f).to_owned()))?;
    Ok(no_content())
}

// ---------------------------------------------------------------------------------------------
// The administration endpoints (`admin::api`), described here

impl PartialSchema for Role {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Role::ALL.iter().map(|r| r.code())))
            .into()
    }
}

impl ToSchema for Role {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Role")
    }
}

fn org_type_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(OrgType::ALL.iter().map(|t| t.code())))
        .into()
}

/// The signed-in user.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    #[schema(value_type = Role)]
    pub role: String,
    pub org_id: Option<Uuid>,
}

/// The node's organisations.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrgList {
    pub items: Vec<OrgSummary>,
}

/// An organisation with the number of its users.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrgSummary {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    #[schema(schema_with = org_type_schema)]
    pub org_type: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub user_count: i64,
}

/// An organisation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Org {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    #[schema(schema_with = org_type_schema)]
    pub org_type: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new organisation. `code`: 2 to 12 capital letters or digits (upper-cased), unique.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewOrg {
    pub code: String,
    pub name: String,
    #[schema(schema_with = org_type_schema)]
    pub org_type: String,
    /// Ignored (the same input serves the web form).
    pub csrf: Option<String>,
}

/// The users the caller may see.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserList {
    pub items: Vec<UserItem>,
}

/// A user.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserItem {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    #[schema(value_type = Role)]
    pub role: String,
    pub org_id: Option<Uuid>,
    pub disabled: bool,
    pub totp_enabled: bool,
}

#[allow(dead_code)] // describes admin::api::me
#[utoipa::path(
    get, path = "/api/v1/me", tag = "admin",
    summary = "Who the token acts for",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = Me),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
fn me() {}

#[allow(dead_code)] // describes admin::api::orgs
#[utoipa::path(
    get, path = "/api/v1/orgs", tag = "admin",
    summary = "List organisations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organisations", body = OrgList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not see organisations", body = ErrorBody),
    )
)]
fn orgs() {}

#[allow(dead_code)] // describes admin::api::create_org
#[utoipa::path(
    post, path = "/api/v1/orgs", tag = "admin",
    summary = "Create an organisation",
    security(("bearer" = [])),
    request_body = NewOrg,
    responses(
        (status = 201, description = "Created", body = Org),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not manage organisations", body = ErrorBody),
        (status = 409, description = "The code is taken (`code`: `taken`)", body = ErrorBody),
        (status = 422, description = "Invalid input (`code`: `org_code_format`, `org_type`: `invalid`, …)", body = ErrorBody),
    )
)]
fn create_org() {}

#[allow(dead_code)] // describes admin::api::users
#[utoipa::path(
    get, path = "/api/v1/users", tag = "admin",
    summary = "List users",
    description = "All users for a national administrator; the organisation's for its coordinator.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The users", body = UserList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not see users", body = ErrorBody),
    )
)]
fn users() {}

// ---------------------------------------------------------------------------------------------
// The document

/// The bearer scheme, and the 500 every operation can answer.
struct Common;

impl Modify for Common {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                op.responses.responses.insert(
                    "500".into(),
                    utoipa::openapi::ResponseBuilder::new()
                        .description("An internal error (logged with the request's id)")
                        .content(
                            "application/json",
                            utoipa::openapi::ContentBuilder::new()
                                .schema(Some(utoipa::openapi::Ref::from_schema_name("Error")))
                                .build(),
                        )
                        .into(),
                );
            }
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("pte_…")
                    .description(Some(
                        "An API token (`Authorization: Bearer pte_…`), made on the Tokens page. It acts for its user, with the user's role.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document of `/api/v1`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Puente API",
        description = "The JSON API of a Puente node: case registry and administration. Every request needs an API token. Errors are `{\"error\": code, \"fields\": [{\"field\", \"code\"}]}`; request bodies refuse unknown fields.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    paths(
        openapi_json,
        list_cases,
        register_case,
        read_case,
        update_case,
        close_case,
        reassign_case,
        add_note,
        add_consent,
        withdraw_consent,
        add_service,
        update_service,
        add_proceeding,
        update_proceeding,
        break_glass,
        search_persons,
        update_person,
        me,
        orgs,
        create_org,
        users,
    ),
    components(schemas(
        ErrorBody, FieldProblem,
        CaseList, CaseSummary, RegisterBody, CaseCreated, Created, UpdateCaseBody, CloseBody,
        ReassignBody, NoteBody, WithdrawBody, BreakGlassBody, CaseView, ConsentView,
        ServiceEntry, ProceedingEntry, TimelineEntry, PersonMatches, PersonMatch, PersonCase,
        Me, OrgList, OrgSummary, Org, NewOrg, UserList, UserItem, Role,
        PersonRecord, Identity, IdDocument, Contact, CaseRecord, TraffickingProcess, RouteEvent,
        Perpetrator, ServiceRecord, ProceedingRecord, ConsentRecord, CountryCode,
        puente_common::case::PartialDate,
        CaseStatus, ClosureReason, ConsentGivenBy, ConsentScope, ControlMethod, Education,
        ExploitationType, Gender, IntakeChannel, MaritalStatus, Means, MigrantType,
        MigrationContext, PerpetratorRole, PerpetratorSex, ProceedingStage, ProtectionStatus,
        RecruiterRelation, RecruitmentMethod, ReferralFieldGroup, RouteEventKind, ServiceStatus,
        ServiceType, SexualExploitationType, StatusDecidedBy, TraffickingAct, TraffickingStatus,
        Verdict,
    )),
    // The directory's and the referrals' operations first, so that `Common` covers them too.
    modifiers(&DirectoryOperations, &ReferralOperations, &ReleaseOperations, &RetentionOperations, &HubOperations, &Common),
    tags(
        (name = "cases", description = "The case registry"),
        (name = "persons", description = "Persons of the organisation"),
        (name = "admin", description = "Organisations and users"),
        (name = "directory", description = "The regional service directory"),
        (name = "referrals", description = "Cross-border referrals and the user's notifications"),
        (name = "statistics", description = "Statistics releases to the regional hub"),
        (name = "retention", description = "The retention rule, legal holds and erasure on request"),
        (name = "hub", description = "The regional hub's received statistics releases (on a hub only)"),
        (name = "meta", description = "This document"),
    ),
)]
pub struct ApiDoc;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::{json, Value};

    use super::*;

    fn doc() -> Value {
        let text = ApiDoc::openapi().to_pretty_json().unwrap();
        serde_json::from_str(&text).unwrap()
    }

    const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

    fn operations(doc: &Value) -> Vec<(String, String, Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for m in METHODS {
                if let Some(op) = item.get(m) {
                    out.push((m.to_uppercase(), path.clone(), op.clone()));
                }
            }
        }
        out
    }

    #[test]
    fn the_document_is_openapi_3_1_json() {
        let d = doc();
        assert!(
            d["openapi"].as_str().unwrap().starts_with("3.1"),
            "{}",
            d["openapi"]
        );
        assert_eq!(d["info"]["title"], "Puente API");
        // What the server sends is the same document.
        let served: Value = serde_json::from_str(document()).unwrap();
        assert_eq!(served, d);
    }

    #[test]
    fn the_document_has_exactly_the_api_routes() {
        let d = doc();
        let documented: BTreeSet<(String, String)> =
            operations(&d).into_iter().map(|(m, p, _)| (m, p)).collect();
        let expected: BTreeSet<(String, String)> = ROUTES
            .iter()
            .chain(crate::directory::api::ROUTES)
            .chain(crate::referrals::api::ROUTES)
            .chain(crate::hub::api::ROUTES)
            .chain(
                crate::stats::release_pages::ROUTES
                    .iter()
                    .filter(|(_, p, _)| p.starts_with("/api/v1/")),
            )
            .chain(
                crate::retention::pages::ROUTES
                    .iter()
                    .filter(|(_, p, _)| p.starts_with("/api/v1/")),
            )
            .chain(
                crate::app::ROUTES
                    .iter()
                    .filter(|(_, p, _)| p.starts_with("/api/v1/")),
            )
            .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        assert_eq!(documented, expected);
        for admin in [
            ("GET", "/api/v1/me"),
            ("GET", "/api/v1/orgs"),
            ("POST", "/api/v1/orgs"),
            ("GET", "/api/v1/users"),
        ] {
            assert!(
                documented.contains(&(admin.0.to_owned(), admin.1.to_owned())),
                "{admin:?}"
            );
        }
    }

    #[test]
    fn every_operation_needs_the_bearer_token() {
        let d = doc();
        assert_eq!(
            d["components"]["securitySchemes"]["bearer"],
            json!({
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "pte_…",
                "description": d["components"]["securitySchemes"]["bearer"]["description"],
            })
        );
        for (m, p, op) in operations(&d) {
            assert_eq!(op["security"], json!([{ "bearer": [] }]), "{m} {p}");
            assert!(
                op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"]
                    == "#/components/schemas/Error",
                "{m} {p} does not document 401"
            );
        }
    }

    #[test]
    fn every_reference_resolves() {
        let d = doc();
        let schemas = d["components"]["schemas"].as_object().unwrap();
        fn refs(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        out.push(r.clone());
                    }
                    m.values().for_each(|v| refs(v, out));
                }
                Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        refs(&d, &mut all);
        assert!(!all.is_empty());
        for r in all {
            let name = r.strip_prefix("#/components/schemas/").unwrap();
            assert!(schemas.contains_key(name), "dangling {r}");
        }
    }

    fn codes_listed<T: Coded + ToSchema>(d: &Value) {
        let name = T::name();
        let s = &d["components"]["schemas"][name.as_ref()];
        assert_eq!(s["type"], "string", "{name}");
        let listed: Vec<&str> = s["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} has no enum"))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let codes: Vec<&str> = T::ALL.iter().map(|v| v.code()).collect();
        assert_eq!(listed, codes, "{name}");
    }

    #[test]
    fn every_coded_enum_lists_exactly_its_codes() {
        let d = doc();
        codes_listed::<CaseStatus>(&d);
        codes_listed::<ClosureReason>(&d);
        codes_listed::<ConsentGivenBy>(&d);
        codes_listed::<ConsentScope>(&d);
        codes_listed::<ControlMethod>(&d);
        codes_listed::<Education>(&d);
        codes_listed::<ExploitationType>(&d);
        codes_listed::<Gender>(&d);
        codes_listed::<IntakeChannel>(&d);
        codes_listed::<MaritalStatus>(&d);
        codes_listed::<Means>(&d);
        codes_listed::<MigrantType>(&d);
        codes_listed::<MigrationContext>(&d);
        codes_listed::<PerpetratorRole>(&d);
        codes_listed::<PerpetratorSex>(&d);
        codes_listed::<ProceedingStage>(&d);
        codes_listed::<ProtectionStatus>(&d);
        codes_listed::<RecruiterRelation>(&d);
        codes_listed::<RecruitmentMethod>(&d);
        codes_listed::<ReferralFieldGroup>(&d);
        codes_listed::<RouteEventKind>(&d);
        codes_listed::<ServiceStatus>(&d);
        codes_listed::<ServiceType>(&d);
        codes_listed::<SexualExploitationType>(&d);
        codes_listed::<StatusDecidedBy>(&d);
        codes_listed::<TraffickingAct>(&d);
        codes_listed::<TraffickingStatus>(&d);
        codes_listed::<Verdict>(&d);
        codes_listed::<puente_common::vocab::codes::PopulationServed>(&d);
        // The referrals' (crate::referrals::api).
        codes_listed::<puente_common::vocab::codes::ReferralReason>(&d);
        codes_listed::<puente_common::vocab::codes::ReferralUrgency>(&d);
        codes_listed::<puente_common::vocab::codes::DeclineReason>(&d);
        codes_listed::<puente_common::vocab::codes::ReferralUpdateKind>(&d);
        codes_listed::<puente_common::vocab::codes::CtdcAgeBand>(&d);
        // Every enum schema in the document is one of those (or a non-coded one named here).
        let coded = 34;
        let enums = d["components"]["schemas"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, s)| s.get("enum").is_some())
            .count();
        assert_eq!(
            enums,
            coded + 1,
            "an enum schema is not checked here (Role is the +1)"
        );
    }

    #[test]
    fn record_schemas_refuse_unknown_fields_and_mark_required_ones() {
        let d = doc();
        let s = &d["components"]["schemas"];
        for name in [
            "CaseRecord",
            "PersonRecord",
            "Identity",
            "ConsentRecord",
            "ServiceRecord",
            "ProceedingRecord",
            "RegisterBody",
            "UpdateCaseBody",
            "CloseBody",
            "NewOrg",
            "NewReferralBody",
            "NoInput",
            "DeclineBody",
            "UpdateBody",
            "NoteOnlyBody",
            "AssignBody",
            "ReadBody",
            "OfferBody",
            "ReferralData",
        ] {
            assert_eq!(s[name]["additionalProperties"], json!(false), "{name}");
        }
        let required = |name: &str| -> BTreeSet<String> {
            s[name]["required"]
                .as_array()
                .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default()
        };
        assert_eq!(
            required("CaseRecord"),
            ["intake_channel", "registration_date", "status"]
                .map(String::from)
                .into()
        );
        assert!(required("PersonRecord").is_empty());
        assert_eq!(required("RegisterBody"), ["case".to_owned()].into());
        assert_eq!(
            required("CloseBody"),
            ["reason", "version"].map(String::from).into()
        );
        assert_eq!(s["CountryCode"]["pattern"], "^[A-Z]{3}$");
        assert!(s["PartialDate"]["pattern"].is_string());
    }

    /// What the API sends for each error is what `Error` describes.
    #[tokio::test]
    async fn error_bodies_match_the_error_schema() {
        let d = doc();
        let props: BTreeSet<String> = d["components"]["schemas"]["Error"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        for e in [
            AppError::Invalid(vec![FieldError::new("case.status", "required")]),
            AppError::UnknownField("colour".into()),
            AppError::Unauthenticated,
            AppError::Forbidden(Action::EditCases),
            AppError::OutOfScope,
            AppError::NotFound,
            AppError::Conflict("version"),
            AppError::Conflict("code"),
            AppError::Internal("x".into()),
        ] {
            let resp = ApiError(e).into_response();
            let status = resp.status();
            let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16)
                .await
                .unwrap();
            let v: Value = serde_json::from_slice(&bytes).unwrap();
            let parsed: ErrorBody = serde_json::from_value(v.clone()).unwrap();
            assert!(ERROR_CODES.contains(&parsed.error.as_str()), "{v}");
            let keys: BTreeSet<String> = v.as_object().unwrap().keys().cloned().collect();
            assert!(keys.is_subset(&props), "{v}");
            let op_status = status.as_str().to_owned();
            assert!(
                operations(&d)
                    .iter()
                    .any(|(_, _, op)| op["responses"].get(&op_status).is_some()),
                "status {status} documented nowhere"
            );
        }
        let resp = ApiError(AppError::Conflict("version")).into_response();
        assert_eq!(resp.status(), StatusCode::CONFLICT);
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&bytes).unwrap(),
            json!({"error": "conflict", "fields": [{"field": "version", "code": "stale_version"}]})
        );
    }

    fn parse<T: serde::de::DeserializeOwned>(text: &str) -> AppResult<T> {
        body(Json::<T>::from_bytes(text.as_bytes()))
    }

    fn fields(e: AppError) -> Vec<(String, &'static str)> {
        match e {
            AppError::Invalid(f) => f.into_iter().map(|f| (f.field, f.code)).collect(),
            AppError::UnknownField(f) => vec![(f, "unknown_field")],
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn body_errors_name_the_field() {
        let case =
            r#"{"intake_channel":"HOTLINE","registration_date":"2026-01-01","status":"ACTIVE"}"#;
        assert!(parse::<UpdateCaseBody>(&format!(r#"{{"version":1,"case":{case}}}"#)).is_ok());
        let cases: Vec<(String, (&str, &str))> = vec![
            ("{}".into(), ("version", "required")),
            (format!(r#"{{"version":1,"case":{case},"x":1}}"#), ("x", "unknown_field")),
            (r#"{"version":"one"}"#.into(), ("version", "malformed")),
            (
                r#"{"version":1,"case":{"intake_channel":"HOTLINE","registration_date":"2026-01-01","status":"ACTIVE","colour":1}}"#.into(),
                ("case.colour", "unknown_field"),
            ),
            (
                r#"{"version":1,"case":{"intake_channel":"HOTLINE","registration_date":"2026-01-01"}}"#.into(),
                ("case.status", "required"),
            ),
            (
                r#"{"version":1,"case":{"intake_channel":"HOTLINE","registration_date":"2026-01-01","status":"NOPE"}}"#.into(),
                ("case.status", "malformed"),
            ),
            (
                r#"{"version":1,"case":{"intake_channel":"HOTLINE","registration_date":"2026-01-01","status":"ACTIVE","process":{"route":[{"kind":"TRANSIT","country":"gtm"}]}}}"#.into(),
                ("case.process.route.0.country", "malformed"),
            ),
            ("[1".into(), ("body", "malformed")),
        ];
        for (text, want) in cases {
            let got = fields(parse::<UpdateCaseBody>(&text).unwrap_err());
            assert_eq!(got, vec![(want.0.to_owned(), want.1)], "{text}");
        }
        let got = fields(
            parse::<RegisterBody>(&format!(
                r#"{{"case":{case},"consents":[{{"scope":"CASE_MANAGEMENT","given_by":"PERSON","given_on":"2026-01-01","extra":1}}]}}"#
            ))
            .unwrap_err(),
        );
        assert_eq!(got, vec![("consents.0.extra".to_owned(), "unknown_field")]);
    }

    #[test]
    fn list_parameters_are_checked() {
        let p = ListParams {
            status: Some("ACTIVE".into()),
            exploitation: Some(String::new()),
            page: Some("2".into()),
            from: Some("2026-01-01".into()),
            ..ListParams::default()
        };
        let q = p.into_query().unwrap();
        assert_eq!(q.status.as_deref(), Some("ACTIVE"));
        assert_eq!(q.exploitation, None);
        assert_eq!(q.page, 2);
        let bad = ListParams {
            status: Some("OPEN".into()),
            caseworker_id: Some("x".into()),
            to: Some("2026-13-01".into()),
            page: Some("0".into()),
            ..ListParams::default()
        };
        let got = fields(bad.into_query().unwrap_err());
        assert_eq!(
            got,
            vec![
                ("status".to_owned(), "invalid"),
                ("caseworker_id".to_owned(), "invalid"),
                ("to".to_owned(), "invalid"),
                ("page".to_owned(), "invalid"),
            ]
        );
        let r: Result<Query<ListParams>, _> =
            Query::try_from_uri(&"/x?colour=red".parse().unwrap());
        assert_eq!(
            fields(query(r).unwrap_err()),
            vec![("colour".to_owned(), "unknown_field")]
        );
    }
}

/// The API end to end, through the router, on a fresh SQLite node.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod flow {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::Request;
    use serde_json::{json, Value};
    use tower::ServiceExt;

    use super::*;
    use crate::admin::{orgs, tokens, users};
    use crate::audit::AuditCtx;
    use crate::clock::SystemClock;
    use crate::config::{Config, HttpConfig, KeysConfig, LogConfig, Secret, SecurityConfig};

    struct Node {
        _dir: tempfile::TempDir,
        app: Router,
        st: AppState,
    }

    impl Node {
        async fn start() -> Node {
            let dir = tempfile::tempdir().unwrap();
            let db_url = format!("sqlite://{}", dir.path().join("puente.db").display());
            let config = Config {
                country: "GTM".parse().unwrap(),
                data_dir: dir.path().to_owned(),
                database_url: Secret::new(db_url.clone()),
                listen: "127.0.0.1:0".parse().unwrap(),
                tls: None,
                keys: KeysConfig {
                    data_key: dir.path().join("data.key"),
                    signing_key: dir.path().join("signing-key.pem"),
                    signing_key_id: "GTM-2026a".parse().unwrap(),
                    next_signing_key: None,
                    next_signing_key_id: None,
                },
                security: SecurityConfig::default(),
                http: HttpConfig::default(),
                log: LogConfig::default(),
                federation: None,
                referrals: Default::default(),
                stats: Default::default(),
                retention: Default::default(),
                smtp: None,
                metrics: None,
            };
            let store = crate::store::connect(&db_url).await.unwrap();
            store.migrate().await.unwrap();
            let st = crate::app::Node::new(
                config,
                store,
                Arc::new(SystemClock),
                crate::crypto::DataKey::generate(),
                puente_federation::SigningIdentity::generate("GTM-2026a".parse().unwrap()),
            )
            .unwrap();
            let admin = Router::new()
                .route("/me", get(crate::admin::api::me))
                .route(
                    "/orgs",
                    get(crate::admin::api::orgs).post(crate::admin::api::create_org),
                )
                .route("/users", get(crate::admin::api::users));
            let app = Router::new()
                .nest("/api/v1", routes().merge(admin))
                .with_state(st.clone());
            Node { _dir: dir, app, st }
        }

        fn ctx(&self) -> AuditCtx {
            AuditCtx {
                at: self.st.clock.now(),
                actor_id: None,
                actor: "test".into(),
                org_id: None,
                ip: None,
                request_id: None,
            }
        }

        async fn user(&self, name: &str, role: &str, org: Option<Uuid>) -> (Uuid, String) {
            let input = users::NewUser {
                username: name.into(),
                display_name: format!("Persona {name}"),
                org_id: org.map(|o| o.to_string()).unwrap_or_default(),
                role: role.into(),
            };
            let (u, _) = users::create(self.st.store.as_ref(), &self.ctx(), None, &input, None)
                .await
                .unwrap();
            let t = tokens::NewToken {
                name: "t".into(),
                expires_days: "30".into(),
            };
            let (token, _) = tokens::create(self.st.store.as_ref(), &self.ctx(), u.id, &t, 365)
                .await
                .unwrap();
            (u.id, token)
        }

        async fn call(
            &self,
            method: &str,
            path: &str,
            token: Option<&str>,
            body: Option<Value>,
        ) -> (u16, Value) {
            let mut req = Request::builder().method(method).uri(path);
            if let Some(t) = token {
                req = req.header("authorization", format!("Bearer {t}"));
            }
            let req = match body {
                Some(b) => req
                    .header("content-type", "application/json")
                    .body(Body::from(b.to_string())),
                None => req.body(Body::empty()),
            }
            .unwrap();
            let resp = self.app.clone().oneshot(req).await.unwrap();
            let status = resp.status().as_u16();
            let bytes = axum::body::to_bytes(resp.into_body(), 1 << 22)
                .await
                .unwrap();
            let v = if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
            };
            (status, v)
        }
    }

    /// The rows for `tests/it/matrix.rs`, checked the way that test checks (`{}` bodies, a
    /// random uuid for `{id}`, other parameters left as written), but with each route's own
    /// method.
    const MATRIX: &[(&str, &str, &str)] = &[
        ("GET", "/api/v1/openapi.json", "LOOOOO"),
        ("GET", "/api/v1/cases", "LOOOFF"),
        ("POST", "/api/v1/cases", "LFOOFF"),
        ("GET", "/api/v1/cases/{id}", "LFNNFF"),
        ("PUT", "/api/v1/cases/{id}", "LFOOFF"),
        ("POST", "/api/v1/cases/{id}/close", "LFOOFF"),
        ("POST", "/api/v1/cases/{id}/reassign", "LFOFFF"),
        ("POST", "/api/v1/cases/{id}/notes", "LFOOFF"),
        ("POST", "/api/v1/cases/{id}/consents", "LFOOFF"),
        (
            "POST",
            "/api/v1/cases/{id}/consents/{consent_id}/withdraw",
            "LFOOFF",
        ),
        ("POST", "/api/v1/cases/{id}/services", "LFOOFF"),
        ("PUT", "/api/v1/cases/{id}/services/{service_id}", "LFOOFF"),
        ("POST", "/api/v1/cases/{id}/proceedings", "LFOOFF"),
        (
            "PUT",
            "/api/v1/cases/{id}/proceedings/{proceeding_id}",
            "LFOOFF",
        ),
        ("POST", "/api/v1/cases/{id}/break-glass", "LOFFFF"),
        ("GET", "/api/v1/persons/search", "LFOOFF"),
        ("PUT", "/api/v1/persons/{id}", "LFNNFF"),
    ];

    fn classify(status: u16) -> char {
        match status {
            401 => 'L',
            403 => 'F',
            404 => 'N',
            200..=399 | 422 => 'O',
            other => panic!("unexpected status {other}"),
        }
    }

    #[tokio::test]
    async fn every_route_answers_each_role_as_the_matrix_rows_say() {
        let n = Node::start().await;
        let org = orgs::create(
            n.st.store.as_ref(),
            &n.ctx(),
            &orgs::NewOrg::new("ASOC1", "Asociación", "NGO"),
        )
        .await
        .unwrap();
        let mut tokens = vec![None];
        for role in [
            "node_admin",
            "org_admin",
            "caseworker",
            "analyst",
            "auditor",
        ] {
            let o = matches!(role, "org_admin" | "caseworker").then_some(org.id);
            let (_, t) = n
                .user(&format!("u-{}", role.replace('_', "-")), role, o)
                .await;
            tokens.push(Some(t));
        }
        assert_eq!(
            MATRIX.iter().map(|(m, p, _)| (*m, *p)).collect::<Vec<_>>(),
            ROUTES.iter().map(|(m, p, _)| (*m, *p)).collect::<Vec<_>>()
        );
        let mut failures = Vec::new();
        for (method, path, want) in MATRIX {
            let concrete = path.replace("{id}", &Uuid::now_v7().to_string());
            for (col, t) in tokens.iter().enumerate() {
                let body = (*method != "GET").then(|| json!({}));
                let (status, v) = n.call(method, &concrete, t.as_deref(), body).await;
                let got = classify(status);
                let w = want.chars().nth(col).unwrap();
                if got != w {
                    failures.push(format!(
                        "{method} {path} col {col}: want {w}, got {got} {status} {v}"
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// The object's keys are exactly the properties of the schema `name`.
    fn shaped_as(name: &str, v: &Value) {
        let doc: Value = serde_json::from_str(document()).unwrap();
        let props: std::collections::BTreeSet<&str> = doc["components"]["schemas"][name]
            ["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let keys: std::collections::BTreeSet<&str> =
            v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, props, "{name}: {v}");
    }

    #[tokio::test]
    async fn the_admin_endpoints_send_what_the_document_says() {
        let n = Node::start().await;
        let (_, admin) = n.user("nacional", "node_admin", None).await;
        let admin = Some(admin.as_str());
        let (s, v) = n.call("GET", "/api/v1/me", admin, None).await;
        assert_eq!(s, 200);
        shaped_as("Me", &v);
        let (s, v) = n
            .call(
                "POST",
                "/api/v1/orgs",
                admin,
                Some(json!({ "code": "asoc2", "name": "Asociación", "org_type": "NGO" })),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        shaped_as("Org", &v);
        let (s, v) = n
            .call(
                "POST",
                "/api/v1/orgs",
                admin,
                Some(json!({ "code": "x", "colour": 1 })),
            )
            .await;
        assert_eq!(s, 422, "{v}");
        let (s, v) = n.call("GET", "/api/v1/orgs", admin, None).await;
        assert_eq!(s, 200);
        shaped_as("OrgList", &v);
        shaped_as("OrgSummary", &v["items"][0]);
        let (s, v) = n.call("GET", "/api/v1/users", admin, None).await;
        assert_eq!(s, 200);
        shaped_as("UserList", &v);
        shaped_as("UserItem", &v["items"][0]);
    }

    fn case_json() -> Value {
        json!({
            "intake_channel": "HOTLINE",
            "registration_date": "2026-01-10",
            "status": "ACTIVE",
            "trafficking_status": "POSSIBLE_VICTIM",
            "process": { "exploitation_types": ["FORCED_LABOUR"], "exploitation_start": "2025-06" },
            "narrative": "Relato."
        })
    }

    #[tokio::test]
    async fn a_case_goes_through_the_api() {
        let n = Node::start().await;
        let org = orgs::create(
            n.st.store.as_ref(),
            &n.ctx(),
            &orgs::NewOrg::new("ASOC1", "Asociación", "NGO"),
        )
        .await
        .unwrap();
        let (cw_id, cw) = n.user("trabajadora", "caseworker", Some(org.id)).await;
        let (_, coord) = n.user("coordinadora", "org_admin", Some(org.id)).await;
        let (_, admin) = n.user("nacional", "node_admin", None).await;
        let cw = Some(cw.as_str());

        // Register: every problem at once, with paths.
        let (s, v) = n
            .call(
                "POST",
                "/api/v1/cases",
                cw,
                Some(json!({ "case": case_json() })),
            )
            .await;
        assert_eq!(s, 422, "{v}");
        assert_eq!(
            v["fields"],
            json!([{ "field": "person", "code": "required" }])
        );
        let (s, v) = n
            .call(
                "POST",
                "/api/v1/cases",
                cw,
                Some(json!({ "person": { "identity": { "given_names": "María" } }, "case": case_json() })),
            )
            .await;
        assert_eq!(s, 422, "{v}");
        assert_eq!(
            v["fields"],
            json!([{ "field": "consents", "code": "case_management_consent_required" }])
        );
        let (s, v) = n
            .call(
                "POST",
                "/api/v1/cases",
                cw,
                Some(json!({ "person": { "identity": { "given_names": "María", "colour": 1 } }, "case": case_json() })),
            )
            .await;
        assert_eq!(
            (s, &v),
            (
                422,
                &json!({"error": "unknown_field", "fields": [{"field": "person.identity.colour", "code": "unknown_field"}]})
            )
        );
        let consent =
            json!({ "scope": "CASE_MANAGEMENT", "given_by": "PERSON", "given_on": "2026-01-10" });
        let (s, v) = n
            .call(
                "POST",
                "/api/v1/cases",
                cw,
                Some(json!({
                    "person": { "identity": { "given_names": "María José", "family_names": "Pérez", "documents": [{ "kind": "DPI", "number": "1234 56789 0101" }] }, "citizenship": ["GTM"] },
                    "case": case_json(),
                    "consents": [consent],
                })),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_str().unwrap().to_owned();
        assert!(
            v["number"].as_str().unwrap().starts_with("GTM-ASOC1-2026-"),
            "{v}"
        );
        let case_path = format!("/api/v1/cases/{id}");

        // Read it.
        let (s, v) = n.call("GET", &case_path, cw, None).await;
        assert_eq!(s, 200, "{v}");
        shaped_as("CaseView", &v);
        let view: CaseView = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(view.version, 1);
        assert_eq!(view.person.identity.given_names, "María José");
        assert_eq!(view.consents.len(), 1);
        assert!(view.consents[0].in_force);
        let person_id = view.person_id;

        // Change it; a second change from the same version is stale.
        let mut changed = case_json();
        changed["narrative"] = json!("Relato ampliado.");
        let (s, v) = n
            .call(
                "PUT",
                &case_path,
                cw,
                Some(json!({ "version": 1, "case": changed })),
            )
            .await;
        assert_eq!(s, 204, "{v}");
        changed["narrative"] = json!("Otro.");
        let (s, v) = n
            .call(
                "PUT",
                &case_path,
                cw,
                Some(json!({ "version": 1, "case": changed })),
            )
            .await;
        assert_eq!(
            (s, &v),
            (
                409,
                &json!({"error": "conflict", "fields": [{"field": "version", "code": "stale_version"}]})
            )
        );
        let mut bad = case_json();
        bad["registration_date"] = json!("2999-01-01");
        let (s, v) = n
            .call(
                "PUT",
                &case_path,
                cw,
                Some(json!({ "version": 2, "case": bad })),
            )
            .await;
        assert_eq!(s, 422, "{v}");
        assert_eq!(
            v["fields"],
            json!([{ "field": "case.registration_date", "code": "in_future" }])
        );

        // Notes, consents, services, proceedings.
        let (s, v) = n
            .call(
                "POST",
                &format!("{case_path}/notes"),
                cw,
                Some(json!({ "text": " " })),
            )
            .await;
        assert_eq!(
            (s, &v["fields"]),
            (422, &json!([{ "field": "text", "code": "required" }]))
        );
        let (s, _) = n
            .call(
                "POST",
                &format!("{case_path}/notes"),
                cw,
                Some(json!({ "text": "Llamada." })),
            )
            .await;
        assert_eq!(s, 204);
        let (s, v) = n
            .call(
                "POST",
                &format!("{case_path}/consents"),
                cw,
                Some(json!({ "scope": "STATISTICAL_USE", "given_by": "PERSON", "given_on": "2026-01-11" })),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let consent_id = v["id"].as_str().unwrap().to_owned();
        let withdraw = format!("{case_path}/consents/{consent_id}/withdraw");
        let (s, v) = n
            .call(
                "POST",
                &withdraw,
                cw,
                Some(json!({ "withdrawn_on": "2026-01-12" })),
            )
            .await;
        assert_eq!(s, 204, "{v}");
        let (s, v) = n
            .call(
                "POST",
                &withdraw,
                cw,
                Some(json!({ "withdrawn_on": "2026-01-12" })),
            )
            .await;
        assert_eq!(
            (s, &v["fields"]),
            (
                422,
                &json!([{ "field": "consent", "code": "already_withdrawn" }])
            )
        );
        let service = json!({ "service_type": "SHELTER", "status": "IN_PROGRESS", "start_date": "2026-01-11" });
        let (s, v) = n
            .call(
                "POST",
                &format!("{case_path}/services"),
                cw,
                Some(service.clone()),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let sid = v["id"].as_str().unwrap().to_owned();
        let mut done = service.clone();
        done["status"] = json!("COMPLETED");
        let (s, v) = n
            .call(
                "PUT",
                &format!("{case_path}/services/{sid}"),
                cw,
                Some(done.clone()),
            )
            .await;
        assert_eq!(
            (s, &v["fields"]),
            (422, &json!([{ "field": "end_date", "code": "required" }]))
        );
        done["end_date"] = json!("2026-01-20");
        let (s, v) = n
            .call(
                "PUT",
                &format!("{case_path}/services/{sid}"),
                cw,
                Some(done.clone()),
            )
            .await;
        assert_eq!(s, 204, "{v}");
        let (s, _) = n
            .call(
                "PUT",
                &format!("{case_path}/services/{}", Uuid::now_v7()),
                cw,
                Some(done),
            )
            .await;
        assert_eq!(s, 404);
        let (s, v) = n
            .call(
                "POST",
                &format!("{case_path}/proceedings"),
                cw,
                Some(json!({ "stage": "COMPLAINT", "authority": "MP" })),
            )
            .await;
        assert_eq!(s, 201, "{v}");

        // Find the person; change them.
        let (s, v) = n
            .call("GET", "/api/v1/persons/search?name=maria", cw, None)
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["items"][0]["person_id"], json!(person_id));
        assert_eq!(v["items"][0]["cases"][0]["status"], "ACTIVE");
        let (s, v) = n
            .call(
                "GET",
                "/api/v1/persons/search?document=1234-567890101",
                cw,
                None,
            )
            .await;
        assert_eq!((s, v["items"].as_array().unwrap().len()), (200, 1));
        let (s, v) = n
            .call("GET", "/api/v1/persons/search?colour=x", cw, None)
            .await;
        assert_eq!(
            (s, &v["fields"]),
            (
                422,
                &json!([{ "field": "colour", "code": "unknown_field" }])
            )
        );
        let (s, v) = n
            .call(
                "PUT",
                &format!("/api/v1/persons/{person_id}"),
                cw,
                Some(json!({ "identity": { "given_names": "María", "birth_date": "2999-01-01" } })),
            )
            .await;
        assert_eq!(
            (s, &v["fields"]),
            (
                422,
                &json!([{ "field": "identity.birth_date", "code": "in_future" }])
            )
        );
        let (s, v) = n
            .call(
                "PUT",
                &format!("/api/v1/persons/{person_id}"),
                cw,
                Some(json!({ "identity": { "given_names": "María", "family_names": "Pérez" } })),
            )
            .await;
        assert_eq!(s, 204, "{v}");

        // List, filter, reassign, close.
        let (s, v) = n
            .call("GET", "/api/v1/cases?status=ACTIVE&search=maria", cw, None)
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(
            (
                v["total"].as_i64(),
                v["page"].as_i64(),
                v["page_size"].as_i64()
            ),
            (Some(1), Some(1), Some(50))
        );
        assert_eq!(v["items"][0]["person_name"], "María Pérez");
        let (s, v) = n
            .call("GET", "/api/v1/cases?status=OPEN&page=0", cw, None)
            .await;
        assert_eq!(
            (s, &v["fields"]),
            (
                422,
                &json!([{ "field": "status", "code": "invalid" }, { "field": "page", "code": "invalid" }])
            )
        );
        let (s, v) = n
            .call(
                "POST",
                &format!("{case_path}/reassign"),
                Some(&coord),
                Some(json!({ "caseworker_id": cw_id })),
            )
            .await;
        assert_eq!(s, 204, "{v}");
        let (_, v) = n.call("GET", &case_path, cw, None).await;
        let version = v["version"].as_i64().unwrap();
        let (s, v) = n
            .call(
                "POST",
                &format!("{case_path}/close"),
                cw,
                Some(json!({ "version": version, "reason": "GOALS_MET", "note": "Cerrado." })),
            )
            .await;
        assert_eq!(s, 204, "{v}");
        let (_, v) = n.call("GET", &case_path, cw, None).await;
        assert_eq!(v["case"]["status"], "CLOSED");
        assert_eq!(v["case"]["closure_reason"], "GOALS_MET");

        // The national administrator: the index without names, and the glass.
        let (s, v) = n.call("GET", "/api/v1/cases", Some(&admin), None).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["items"][0]["person_name"], Value::Null);
        let bg = format!("{case_path}/break-glass");
        let (s, v) = n
            .call(
                "POST",
                &bg,
                Some(&admin),
                Some(json!({ "reason": "corto" })),
            )
            .await;
        assert_eq!(
            (s, &v["fields"]),
            (
                422,
                &json!([{ "field": "reason", "code": "reason_too_short" }])
            )
        );
        let (s, v) = n
            .call(
                "POST",
                &bg,
                Some(&admin),
                Some(json!({ "reason": "Solicitud judicial número 123/2026 del juzgado" })),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["person"]["identity"]["given_names"], "María");
        let (s, _) = n
            .call(
                "POST",
                &format!("/api/v1/cases/{}/break-glass", Uuid::now_v7()),
                Some(&admin),
                Some(json!({ "reason": "Solicitud judicial número 123/2026 del juzgado" })),
            )
            .await;
        assert_eq!(s, 404);

        // The document is served.
        let (s, v) = n.call("GET", "/api/v1/openapi.json", cw, None).await;
        assert_eq!((s, v["openapi"].as_str()), (200, Some("3.1.0")));
    }
}
