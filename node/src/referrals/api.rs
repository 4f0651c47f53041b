//! The referrals' JSON API (`/api/v1/referrals…`, `/api/v1/cases/{id}/referral…`,
//! `/api/v1/notifications…`).
//!
//! Handlers are thin, as in `cases::api`: the bearer token ([`ApiActor`], 401), the route's
//! action checked up front (403 whatever was sent), the JSON body or query read with its
//! problems named per field (422), then one call of the service ([`super`]), which authorises
//! against the referral or case, checks the consent, seals, signs and audits. Coded values are
//! read as text and checked here, so that an unknown code is reported as
//! `{"field": "reason", "code": "unknown_code"}` (`needs.1`, `field_groups.0`, …).
//!
//! A referral of another organisation is not found (404). Refusals of the service keep their
//! stable codes (`destination`: `no_referral_agreement`, `peer_suspended`, `no_seal_key`;
//! `consent_id`: `consent_required`, `consent_expired`, `consent_withdrawn`,
//! `consent_other_destination`; `field_groups`: `exceeds_consent`; `state`: `invalid_state`).
//!
//! The operations are documented in the node's OpenAPI document through [`Merge`].

use std::collections::BTreeSet;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use puente_common::referral::{
    AssistanceItem, ConsentSummary, ContactGroup, DemographicsGroup, IdentityGroup, OfferBody,
    OrgRef, ProceedingItem, ReferralData, TimelineNote, TraffickingGroup,
};
use puente_common::vocab::codes::{
    CtdcAgeBand, DeclineReason, ReferralFieldGroup, ReferralReason, ReferralUpdateKind,
    ReferralUrgency, ServiceType,
};
use puente_common::vocab::Coded;
use puente_common::CountryCode;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::ApiActor;
use crate::authz::Action;
use crate::cases::api::{body, query, ApiError, CaseCreated, ErrorBody};
use crate::cases::Who;
use crate::error::{AppError, AppResult, FieldError};

/// The routes of this module, with the action each needs (for `app::all_routes` and the
/// matrix test). Notifications are the signed-in user's own (`view_home`: everyone signed in).
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/api/v1/referrals", "view_referrals"),
    (
        "GET",
        "/api/v1/cases/{id}/referral-options",
        "send_referral",
    ),
    ("POST", "/api/v1/cases/{id}/referrals", "send_referral"),
    ("GET", "/api/v1/referrals/{id}", "view_referrals"),
    ("POST", "/api/v1/referrals/{id}/approve", "approve_referral"),
    ("POST", "/api/v1/referrals/{id}/accept", "answer_referral"),
    ("POST", "/api/v1/referrals/{id}/decline", "answer_referral"),
    ("POST", "/api/v1/referrals/{id}/update", "answer_referral"),
    ("POST", "/api/v1/referrals/{id}/close", "answer_referral"),
    ("POST", "/api/v1/referrals/{id}/recall", "send_referral"),
    ("POST", "/api/v1/referrals/{id}/assign", "assign_referral"),
    ("GET", "/api/v1/notifications", "view_home"),
    ("POST", "/api/v1/notifications/read", "view_home"),
];

/// The routes, relative to `/api/v1` (merge into the `/api/v1` router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/referrals", get(list_referrals))
        .route("/cases/{id}/referral-options", get(referral_options))
        .route("/cases/{id}/referrals", post(create_referral))
        .route("/referrals/{id}", get(read_referral))
        .route("/referrals/{id}/approve", post(approve_referral))
        .route("/referrals/{id}/accept", post(accept_referral))
        .route("/referrals/{id}/decline", post(decline_referral))
        .route("/referrals/{id}/update", post(update_referral))
        .route("/referrals/{id}/close", post(close_referral))
        .route("/referrals/{id}/recall", post(recall_referral))
        .route("/referrals/{id}/assign", post(assign_referral))
        .route("/notifications", get(list_notifications))
        .route("/notifications/read", post(read_notifications))
}

type ApiResult = Result<Response, ApiError>;

fn who(a: &ApiActor) -> Who<'_> {
    Who {
        actor: &a.actor,
        audit: &a.audit,
    }
}

/// Refuses (403, audited) a role without `action`, before the input is looked at.
async fn allow(st: &AppState, a: &ApiActor, action: Action, path: &str) -> AppResult<()> {
    crate::admin::require(st, &a.audit, &a.actor, action, path).await
}

/// An id from the path; what is not a UUID names nothing that exists.
fn path_id(raw: &str) -> AppResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| AppError::NotFound)
}

/// A code of `T`, or `unknown_code` on `field`.
fn code<T: Coded>(field: &str, raw: &str, errors: &mut Vec<FieldError>) -> Option<T> {
    let v = T::from_code(raw.trim());
    if v.is_none() {
        errors.push(FieldError::new(field, "unknown_code"));
    }
    v
}

/// A list of codes of `T` (`field.N`: `unknown_code` for each one that is not).
fn code_set<T: Coded + Ord>(
    field: &str,
    raw: &[String],
    errors: &mut Vec<FieldError>,
) -> BTreeSet<T> {
    raw.iter()
        .enumerate()
        .filter_map(|(i, v)| code::<T>(&format!("{field}.{i}"), v, errors))
        .collect()
}

/// A country of the ISO 3166 list, or `unknown_code` on `field`.
fn country(field: &str, raw: &str, errors: &mut Vec<FieldError>) -> Option<CountryCode> {
    let parsed = raw
        .trim()
        .parse::<CountryCode>()
        .ok()
        .filter(|c| puente_common::vocab::geo::country(*c).is_some());
    if parsed.is_none() {
        errors.push(FieldError::new(field, "unknown_code"));
    }
    parsed
}

fn enum_schema(values: &[&str]) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .into()
}

fn direction_schema() -> Schema {
    enum_schema(&["in", "out"])
}

fn state_schema() -> Schema {
    enum_schema(&super::state::ALL)
}

fn display_state_schema() -> Schema {
    let mut values: Vec<&str> = super::state::ALL.to_vec();
    values.extend(["pending_delivery", "delivered", "recall_pending"]);
    enum_schema(&values)
}

fn notification_kind_schema() -> Schema {
    enum_schema(&[
        "received",
        "awaiting_approval",
        "approved",
        "consent_override",
        "accepted",
        "declined",
        "update_received",
        "closed",
        "recalled",
        "recall_confirmed",
        "expired",
    ])
}

// ---------------------------------------------------------------------------------------------
// Wire types: what the API reads and sends (and the OpenAPI schemas)

/// Filters of the referral list. Every one is optional; empty means any.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `in` (received) or `out` (sent).
    #[param(value_type = Option<String>)]
    pub direction: Option<String>,
    /// Referrals in this state (`awaiting_approval`, `sent`, `received`, `accepted`,
    /// `declined`, `expired`, `closed`, `recalled`, `cancelled`).
    pub state: Option<String>,
    /// Referrals with this member (the destination of a sent one, the origin of a received
    /// one).
    #[param(value_type = Option<CountryCode>)]
    pub peer: Option<String>,
    /// `true`: only received referrals waiting in the national queue (routed to no
    /// organisation).
    #[param(value_type = Option<bool>)]
    pub unassigned: Option<String>,
    /// 1-based page of 50 referrals (default 1).
    #[param(value_type = Option<i64>, minimum = 1)]
    pub page: Option<String>,
}

fn given(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl ListParams {
    fn into_query(self) -> AppResult<super::ReferralQuery> {
        let mut errors = Vec::new();
        let peer = given(self.peer).and_then(|p| match p.parse::<CountryCode>() {
            Ok(c) => Some(c),
            Err(_) => {
                errors.push(FieldError::new("peer", "invalid"));
                None
            }
        });
        let unassigned = match given(self.unassigned).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                errors.push(FieldError::new("unassigned", "invalid"));
                false
            }
        };
        let page = match given(self.page) {
            None => 1,
            Some(p) => match p.parse::<i64>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    errors.push(FieldError::new("page", "invalid"));
                    1
                }
            },
        };
        crate::admin::check(errors)?;
        Ok(super::ReferralQuery {
            direction: given(self.direction),
            state: given(self.state),
            peer,
            unassigned,
            page,
        })
    }
}

/// A referral in a list: routing data only, never victim data.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReferralSummary {
    pub id: Uuid,
    /// `out`: sent by this node; `in`: received.
    #[schema(schema_with = direction_schema)]
    pub direction: String,
    /// The destination of a sent referral, the origin of a received one.
    #[schema(value_type = CountryCode)]
    pub peer: String,
    #[schema(schema_with = state_schema)]
    pub state: String,
    /// What to show: the state, or for a sent offer `pending_delivery` until the destination
    /// acknowledged it and `delivered` after; `recall_pending` until a recall is acknowledged.
    #[schema(schema_with = display_state_schema)]
    pub display_state: String,
    /// Sent referrals that were recalled: `pending`, then `acknowledged` once the destination
    /// confirmed it erased what it held.
    pub recall_state: Option<String>,
    /// A `referral_reason` code (empty for a recall received before its offer).
    pub reason: String,
    /// A `referral_urgency` code (empty for a recall received before its offer).
    pub urgency: String,
    #[schema(value_type = Vec<ServiceType>)]
    pub needs: Vec<String>,
    /// The field groups that travelled (beyond the minimum dataset).
    #[schema(value_type = Vec<ReferralFieldGroup>)]
    pub field_groups: Vec<String>,
    /// The sending organisation's code on its node.
    pub sender_org: String,
    pub sender_org_name: String,
    /// The sender's case number.
    pub sender_reference: String,
    /// The destination organisation's code, if one was chosen.
    pub dest_org: Option<String>,
    /// The destination directory service's id, if one was chosen.
    pub dest_service: Option<String>,
    /// Sent: the sending organisation; received: the organisation it is routed to (`null`:
    /// the national queue).
    pub org_id: Option<Uuid>,
    /// Sent: the case referred; received: the linked case, once accepted.
    pub case_id: Option<Uuid>,
    /// Sent without a valid consent, under a coordinator's override.
    pub overridden: bool,
    /// The day an unanswered offer lapses.
    pub expires_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<super::ReferralSummary> for ReferralSummary {
    fn from(s: super::ReferralSummary) -> Self {
        // Destructured whole, so that a field added to the service's view fails to compile
        // here until the API (and its schema) carries it.
        let super::ReferralSummary {
            id,
            direction,
            peer,
            state,
            display_state,
            recall_state,
            reason,
            urgency,
            needs,
            field_groups,
            sender_org,
            sender_org_name,
            sender_reference,
            dest_org,
            dest_service,
            org_id,
            case_id,
            overridden,
            expires_on,
            created_at,
            updated_at,
        } = s;
        ReferralSummary {
            id,
            direction,
            peer,
            state,
            display_state,
            recall_state,
            reason,
            urgency,
            needs,
            field_groups,
            sender_org,
            sender_org_name,
            sender_reference,
            dest_org,
            dest_service,
            org_id,
            case_id,
            overridden,
            expires_on,
            created_at,
            updated_at,
        }
    }
}

/// A page of referrals, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReferralList {
    pub items: Vec<ReferralSummary>,
    /// Referrals matching the filters, over all pages.
    pub total: i64,
    /// 1-based.
    pub page: i64,
    pub pages: i64,
}

impl From<super::ReferralList> for ReferralList {
    fn from(l: super::ReferralList) -> Self {
        let super::ReferralList {
            items,
            total,
            page,
            pages,
        } = l;
        ReferralList {
            items: items.into_iter().map(ReferralSummary::from).collect(),
            total,
            page,
            pages,
        }
    }
}

/// A `REFERRAL` consent of the case's person, as the form offers it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReferralConsent {
    pub id: Uuid,
    pub destination: Option<CountryCode>,
    /// The organisation named by the consent (empty: any of the destination).
    pub destination_org: String,
    #[schema(value_type = Vec<ReferralFieldGroup>)]
    pub field_groups: Vec<String>,
    pub given_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub withdrawn: bool,
    /// Usable now: in force and not withdrawn.
    pub valid: bool,
}

/// What the referral form of a case offers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReferralOptions {
    pub case_id: Uuid,
    pub case_number: String,
    /// Countries with an approved referral agreement that can receive now.
    pub destinations: Vec<CountryCode>,
    pub consents: Vec<ReferralConsent>,
    /// The caller may send without a valid consent, with a written reason.
    pub can_override: bool,
    /// The caller's referral will wait for a coordinator's approval.
    pub requires_approval: bool,
    /// Referrals already made from or linked to this case.
    pub referrals: Vec<ReferralSummary>,
}

impl From<super::ReferralOptions> for ReferralOptions {
    fn from(o: super::ReferralOptions) -> Self {
        let super::ReferralOptions {
            case_id,
            case_number,
            destinations,
            consents,
            can_override,
            requires_approval,
            referrals,
        } = o;
        ReferralOptions {
            case_id,
            case_number,
            destinations,
            consents: consents
                .into_iter()
                .map(|c| {
                    let super::ConsentChoice {
                        id,
                        destination,
                        destination_org,
                        field_groups,
                        given_on,
                        expires_on,
                        withdrawn,
                        valid,
                    } = c;
                    ReferralConsent {
                        id,
                        destination,
                        destination_org,
                        field_groups,
                        given_on,
                        expires_on,
                        withdrawn,
                        valid,
                    }
                })
                .collect(),
            can_override,
            requires_approval,
            referrals: referrals.into_iter().map(ReferralSummary::from).collect(),
        }
    }
}

/// A step of a referral's history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReferralHistoryItem {
    pub at: DateTime<Utc>,
    /// `created`, `approved`, `offer_sent`, `offer_received`, `assigned`, `accepted`,
    /// `declined`, `update_sent`, `update_received`, `closed`, `cancelled`, `recall_sent`,
    /// `recall_received`, `recall_acknowledged`, `recall_confirmed`, `expired`,
    /// `offer_after_recall`, `offer_repeated`, `recall_repeated`, `recall_ack_repeated`,
    /// `<kind>_ignored`.
    pub kind: String,
    /// The display name of the user who took the step (none for received steps).
    pub actor: Option<String>,
    /// The signed envelope that carried the step.
    pub message_id: Option<Uuid>,
    /// Its SHA-256 (hex), as in the federation's evidence log.
    pub envelope_hash: Option<String>,
    /// Sent envelopes: `pending`, `acked`, `rejected`.
    pub delivery: Option<String>,
    pub acked_at: Option<DateTime<Utc>>,
    /// Codes of the step (reason, update, organisation…), never free text.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// The step's note, for the organisation's users only.
    pub note: Option<String>,
}

/// An organisation a received referral can be routed to.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReferralOrg {
    pub id: Uuid,
    pub code: String,
    pub name: String,
}

/// A referral: its summary, the offer with the data that travelled (for the organisation's
/// users), its signed history and what the caller may do now.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReferralView {
    pub summary: ReferralSummary,
    /// The organisation's case (sent: the case referred; received: the linked case).
    pub case_number: Option<String>,
    /// The offer and its data, for the organisation's users; `null` for national
    /// administrators (who route by the summary) and once erased.
    pub offer: Option<OfferBody>,
    /// The offer's data was erased (declined, expired, recalled).
    pub erased: bool,
    /// Why it was sent without a valid consent (the organisation's users and national
    /// administrators).
    pub override_reason: Option<String>,
    pub history: Vec<ReferralHistoryItem>,
    /// What the caller may do now: `approve`, `recall`, `accept`, `decline`, `update`,
    /// `close`, `assign`.
    pub actions: Vec<String>,
    /// Organisations to assign to (national administrators, received referrals).
    pub orgs: Vec<ReferralOrg>,
}

impl From<super::ReferralView> for ReferralView {
    fn from(v: super::ReferralView) -> Self {
        let super::ReferralView {
            summary,
            case_number,
            offer,
            erased,
            override_reason,
            history,
            actions,
            orgs,
        } = v;
        ReferralView {
            summary: summary.into(),
            case_number,
            offer,
            erased,
            override_reason,
            history: history
                .into_iter()
                .map(|h| {
                    let super::HistoryItem {
                        at,
                        kind,
                        actor,
                        message_id,
                        envelope_hash,
                        delivery,
                        acked_at,
                        detail,
                        note,
                    } = h;
                    ReferralHistoryItem {
                        at,
                        kind,
                        actor,
                        message_id,
                        envelope_hash,
                        delivery,
                        acked_at,
                        detail,
                        note,
                    }
                })
                .collect(),
            actions: actions.into_iter().map(str::to_owned).collect(),
            orgs: orgs
                .into_iter()
                .map(|o| {
                    let super::OrgRefId { id, code, name } = o;
                    ReferralOrg { id, code, name }
                })
                .collect(),
        }
    }
}

/// A referral after a change.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReferralResult {
    pub referral: ReferralView,
}

/// An accepted referral and the linked case opened for it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReferralAccepted {
    pub case: CaseCreated,
    pub referral: ReferralView,
}

/// A referral of one of the organisation's cases. The server picks the consent (the valid
/// `REFERRAL` consent for the destination, or `consent_id`) and sends the minimum dataset and
/// the field groups it lists (or `field_groups`, a part of them) and nothing else. Without a
/// valid consent, a coordinator may send with `override_reason` (flagged to the national
/// administrators).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReferralBody {
    #[schema(value_type = CountryCode)]
    pub destination: String,
    /// The code of an organisation of the destination's directory.
    #[serde(default)]
    pub dest_org: Option<String>,
    /// The id of a service of the destination's directory.
    #[serde(default)]
    pub dest_service: Option<Uuid>,
    #[schema(value_type = ReferralReason)]
    pub reason: String,
    #[schema(value_type = ReferralUrgency)]
    pub urgency: String,
    /// The services the person needs (at least one).
    #[schema(value_type = Vec<ServiceType>)]
    pub needs: Vec<String>,
    /// For the receiving organisation (up to 4 000 characters).
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub consent_id: Option<Uuid>,
    /// The groups to send, within the consent's (default: all of the consent's).
    #[serde(default)]
    #[schema(value_type = Option<Vec<ReferralFieldGroup>>)]
    pub field_groups: Option<Vec<String>>,
    /// Send without a valid consent (life-threatening emergency): coordinators only.
    #[serde(default)]
    pub override_reason: Option<String>,
}

impl NewReferralBody {
    fn into_input(self) -> AppResult<super::NewReferral> {
        let mut errors = Vec::new();
        let destination = country("destination", &self.destination, &mut errors);
        let reason = code::<ReferralReason>("reason", &self.reason, &mut errors);
        let urgency = code::<ReferralUrgency>("urgency", &self.urgency, &mut errors);
        let needs = code_set::<ServiceType>("needs", &self.needs, &mut errors);
        let field_groups = self
            .field_groups
            .map(|g| code_set::<ReferralFieldGroup>("field_groups", &g, &mut errors));
        match (destination, reason, urgency) {
            (Some(destination), Some(reason), Some(urgency)) if errors.is_empty() => {
                Ok(super::NewReferral {
                    destination,
                    dest_org: self
                        .dest_org
                        .map(|o| o.trim().to_owned())
                        .filter(|o| !o.is_empty()),
                    dest_service: self.dest_service,
                    reason,
                    urgency,
                    needs,
                    message: self.message,
                    consent_id: self.consent_id,
                    field_groups,
                    override_reason: self.override_reason,
                })
            }
            _ => Err(AppError::Invalid(errors)),
        }
    }
}

/// No input (`{}`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoInput {}

/// Declining a received referral: the reason, and a note for the sender.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineBody {
    #[schema(value_type = DeclineReason)]
    pub reason: String,
    #[serde(default)]
    pub note: String,
}

/// A follow-up to the sender of an accepted referral (while the consent is in force).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    #[schema(value_type = ReferralUpdateKind)]
    pub update: String,
    #[serde(default)]
    pub note: String,
}

/// A note for the other side (up to 4 000 characters).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteOnlyBody {
    #[serde(default)]
    pub note: String,
}

/// The organisation of this node to route a received referral to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    pub org_id: Uuid,
}

/// A notification of the signed-in user.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    pub id: Uuid,
    #[schema(schema_with = notification_kind_schema)]
    pub kind: String,
    pub referral_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

/// The signed-in user's latest notifications (100 at most), newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NotificationList {
    /// Unread notifications, over all.
    pub unread: i64,
    pub items: Vec<Notification>,
}

/// Marks one notification read (`id`), or every one (no `id`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadBody {
    #[serde(default)]
    pub id: Option<Uuid>,
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// The referral as the caller now sees it.
async fn view(st: &AppState, a: &ApiActor, id: Uuid) -> AppResult<ReferralView> {
    Ok(super::read(st, who(a), id).await?.into())
}

async fn changed(st: &AppState, a: &ApiActor, id: Uuid) -> ApiResult {
    Ok(Json(ReferralResult {
        referral: view(st, a, id).await?,
    })
    .into_response())
}

#[utoipa::path(
    get, path = "/api/v1/referrals", tag = "referrals",
    summary = "List referrals",
    description = "The organisation's referrals, sent and received, 50 a page (audited as `referral.list`); a national administrator's: every referral, the national queue with `unassigned=true`. Routing data only.",
    security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "A page of referrals", body = ReferralList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not see referrals", body = ErrorBody),
        (status = 422, description = "An unknown or malformed parameter (`direction`, `state`, `peer`, `unassigned`, `page`: `invalid`)", body = ErrorBody),
    )
)]
async fn list_referrals(
    State(st): State<AppState>,
    a: ApiActor,
    q: Result<Query<ListParams>, QueryRejection>,
) -> ApiResult {
    allow(&st, &a, Action::ViewReferrals, "/api/v1/referrals").await?;
    let q = query(q)?.into_query()?;
    let list = super::list(&st, who(&a), &q).await?;
    Ok(Json(ReferralList::from(list)).into_response())
}

#[utoipa::path(
    get, path = "/api/v1/cases/{id}/referral-options", tag = "referrals",
    summary = "What a referral of this case can be",
    description = "The destinations that can receive now, the person's referral consents, whether the caller may override and whether the referral will wait for approval, and the case's referrals.",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case's id")),
    responses(
        (status = 200, description = "The options", body = ReferralOptions),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not send referrals", body = ErrorBody),
        (status = 404, description = "No such case in the organisation", body = ErrorBody),
    )
)]
async fn referral_options(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
) -> ApiResult {
    allow(
        &st,
        &a,
        Action::SendReferral,
        "/api/v1/cases/{id}/referral-options",
    )
    .await?;
    let id = path_id(&id)?;
    let o = super::options(&st, who(&a), id).await?;
    Ok(Json(ReferralOptions::from(o)).into_response())
}

#[utoipa::path(
    post, path = "/api/v1/cases/{id}/referrals", tag = "referrals",
    summary = "Refer a case to another country",
    description = "Builds the payload from the consented field groups only, seals it to the destination node's key and signs it into the referral stream in the same transaction (audited as `referral.create` and `referral.send`, or `referral.create_consent_override`). Under the node's approval policy a caseworker's referral waits (`awaiting_approval`) and nothing is sent. A refusal stores and sends nothing.",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case's id")),
    request_body = NewReferralBody,
    responses(
        (status = 201, description = "Made (sent, or waiting for approval)", body = ReferralResult,
            headers(("Location" = String, description = "`/api/v1/referrals/{id}`"))),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not send referrals", body = ErrorBody),
        (status = 404, description = "No such case in the organisation", body = ErrorBody),
        (status = 422, description = "Invalid input or refused: `destination`: `unknown_code`, `no_referral_agreement`, `peer_suspended`, `no_seal_key`; `consent_id`: `consent_required`, `consent_expired`, `consent_withdrawn`, `consent_other_destination`, `consent_other_organisation`, `invalid`; `field_groups`: `exceeds_consent`; `reason`, `urgency`, `needs.N`, `field_groups.N`: `unknown_code`; `needs`: `required`; `message`, `override_reason`: `too_long`", body = ErrorBody),
    )
)]
async fn create_referral(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<NewReferralBody>, JsonRejection>,
) -> ApiResult {
    allow(
        &st,
        &a,
        Action::SendReferral,
        "/api/v1/cases/{id}/referrals",
    )
    .await?;
    let input = body(input)?.into_input()?;
    let case_id = path_id(&id)?;
    let rid = super::create(&st, who(&a), case_id, input).await?;
    let referral = view(&st, &a, rid).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/referrals/{rid}"))],
        Json(ReferralResult { referral }),
    )
        .into_response())
}

#[utoipa::path(
    get, path = "/api/v1/referrals/{id}", tag = "referrals",
    summary = "Read a referral",
    description = "The summary, the offer with its data (the organisation's users only), the signed history with each envelope's hash and delivery, and the caller's possible actions (audited as `referral.read`).",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The referral's id")),
    responses(
        (status = 200, description = "The referral", body = ReferralView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not see referrals", body = ErrorBody),
        (status = 404, description = "No such referral of the organisation", body = ErrorBody),
    )
)]
async fn read_referral(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
) -> ApiResult {
    allow(&st, &a, Action::ViewReferrals, "/api/v1/referrals/{id}").await?;
    let id = path_id(&id)?;
    Ok(Json(view(&st, &a, id).await?).into_response())
}

#[utoipa::path(
    post, path = "/api/v1/referrals/{id}/approve", tag = "referrals",
    summary = "Approve a caseworker's referral",
    description = "Coordinators, under the approval policy: the consent is checked again and the referral is sealed, signed and sent as it was made (audited as `referral.approve`).",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The referral's id")),
    request_body = NoInput,
    responses(
        (status = 200, description = "Approved and sent", body = ReferralResult),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not approve referrals", body = ErrorBody),
        (status = 404, description = "No such referral of the organisation", body = ErrorBody),
        (status = 422, description = "Not waiting for approval (`state`: `invalid_state`), or no longer sendable (`destination`: …, `consent_id`: `consent_withdrawn`, `consent_expired`)", body = ErrorBody),
    )
)]
async fn approve_referral(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<NoInput>, JsonRejection>,
) -> ApiResult {
    allow(
        &st,
        &a,
        Action::ApproveReferral,
        "/api/v1/referrals/{id}/approve",
    )
    .await?;
    body(input)?;
    let id = path_id(&id)?;
    super::approve(&st, who(&a), id).await?;
    changed(&st, &a, id).await
}

#[utoipa::path(
    post, path = "/api/v1/referrals/{id}/accept", tag = "referrals",
    summary = "Accept a received referral",
    description = "Opens a linked case in the organisation, pre-filled from the referral (intake `REFERRAL_IN`), and sends a signed `referral.accept` back (audited as `referral.accepted`).",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The referral's id")),
    request_body = NoInput,
    responses(
        (status = 200, description = "Accepted: the linked case and the referral", body = ReferralAccepted),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not answer referrals", body = ErrorBody),
        (status = 404, description = "No such referral of the organisation", body = ErrorBody),
        (status = 422, description = "Not a received referral waiting for an answer (`state`: `invalid_state`, `expired`)", body = ErrorBody),
    )
)]
async fn accept_referral(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<NoInput>, JsonRejection>,
) -> ApiResult {
    allow(
        &st,
        &a,
        Action::AnswerReferral,
        "/api/v1/referrals/{id}/accept",
    )
    .await?;
    body(input)?;
    let id = path_id(&id)?;
    let case = super::accept(&st, who(&a), id).await?;
    Ok(Json(ReferralAccepted {
        case: CaseCreated {
            id: case.id,
            number: case.number,
        },
        referral: view(&st, &a, id).await?,
    })
    .into_response())
}

#[utoipa::path(
    post, path = "/api/v1/referrals/{id}/decline", tag = "referrals",
    summary = "Decline a received referral",
    description = "Sends a signed `referral.decline` with the reason; what was received is erased (audited as `referral.declined`).",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The referral's id")),
    request_body = DeclineBody,
    responses(
        (status = 200, description = "Declined", body = ReferralResult),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not answer referrals", body = ErrorBody),
        (status = 404, description = "No such referral of the organisation", body = ErrorBody),
        (status = 422, description = "Invalid input (`reason`: `unknown_code`; `note`: `too_long`) or state (`state`: `invalid_state`)", body = ErrorBody),
    )
)]
async fn decline_referral(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<DeclineBody>, JsonRejection>,
) -> ApiResult {
    allow(
        &st,
        &a,
        Action::AnswerReferral,
        "/api/v1/referrals/{id}/decline",
    )
    .await?;
    let b = body(input)?;
    let mut errors = Vec::new();
    let reason = code::<DeclineReason>("reason", &b.reason, &mut errors);
    let reason = reason.ok_or(AppError::Invalid(errors))?;
    let id = path_id(&id)?;
    super::decline(&st, who(&a), id, reason, &b.note).await?;
    changed(&st, &a, id).await
}

#[utoipa::path(
    post, path = "/api/v1/referrals/{id}/update", tag = "referrals",
    summary = "Send a follow-up on an accepted referral",
    description = "Arrival confirmed, services started, contact lost… to the sender, while the person's referral consent is in force (audited as `referral.update_sent`).",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The referral's id")),
    request_body = UpdateBody,
    responses(
        (status = 200, description = "Sent", body = ReferralResult),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not answer referrals", body = ErrorBody),
        (status = 404, description = "No such referral of the organisation", body = ErrorBody),
        (status = 422, description = "Invalid input (`update`: `unknown_code`; `note`: `too_long`) or state (`state`: `invalid_state`, `consent_expired`)", body = ErrorBody),
    )
)]
async fn update_referral(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<UpdateBody>, JsonRejection>,
) -> ApiResult {
    allow(
        &st,
        &a,
        Action::AnswerReferral,
        "/api/v1/referrals/{id}/update",
    )
    .await?;
    let b = body(input)?;
    let mut errors = Vec::new();
    let kind = code::<ReferralUpdateKind>("update", &b.update, &mut errors);
    let kind = kind.ok_or(AppError::Invalid(errors))?;
    let id = path_id(&id)?;
    super::update(&st, who(&a), id, kind, &b.note).await?;
    changed(&st, &a, id).await
}

#[utoipa::path(
    post, path = "/api/v1/referrals/{id}/close", tag = "referrals",
    summary = "Close an accepted referral",
    description = "The referral ends (the linked case goes on); a signed `referral.close` goes to the sender (audited as `referral.closed`).",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The referral's id")),
    request_body = NoteOnlyBody,
    responses(
        (status = 200, description = "Closed", body = ReferralResult),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not answer referrals", body = ErrorBody),
        (status = 404, description = "No such referral of the organisation", body = ErrorBody),
        (status = 422, description = "Invalid input (`note`: `too_long`) or state (`state`: `invalid_state`)", body = ErrorBody),
    )
)]
async fn close_referral(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<NoteOnlyBody>, JsonRejection>,
) -> ApiResult {
    allow(
        &st,
        &a,
        Action::AnswerReferral,
        "/api/v1/referrals/{id}/close",
    )
    .await?;
    let b = body(input)?;
    let id = path_id(&id)?;
    super::close(&st, who(&a), id, &b.note).await?;
    changed(&st, &a, id).await
}

#[utoipa::path(
    post, path = "/api/v1/referrals/{id}/recall", tag = "referrals",
    summary = "Recall a sent referral",
    description = "A signed `control.recall` goes to the destination, which erases what it received and acknowledges; a referral still waiting for approval is cancelled (audited as `referral.recall`).",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The referral's id")),
    request_body = NoteOnlyBody,
    responses(
        (status = 200, description = "Recalled (or cancelled)", body = ReferralResult),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not send referrals", body = ErrorBody),
        (status = 404, description = "No such referral of the organisation", body = ErrorBody),
        (status = 422, description = "Invalid input (`note`: `too_long`) or state (`state`: `invalid_state`)", body = ErrorBody),
    )
)]
async fn recall_referral(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<NoteOnlyBody>, JsonRejection>,
) -> ApiResult {
    allow(
        &st,
        &a,
        Action::SendReferral,
        "/api/v1/referrals/{id}/recall",
    )
    .await?;
    let b = body(input)?;
    let id = path_id(&id)?;
    super::recall(&st, who(&a), id, &b.note).await?;
    changed(&st, &a, id).await
}

#[utoipa::path(
    post, path = "/api/v1/referrals/{id}/assign", tag = "referrals",
    summary = "Route a received referral to an organisation",
    description = "National administrators: from the national queue (or from one organisation to another) to an active organisation of this node, whose users are notified (audited as `referral.assign`).",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The referral's id")),
    request_body = AssignBody,
    responses(
        (status = 200, description = "Assigned", body = ReferralResult),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not route referrals", body = ErrorBody),
        (status = 404, description = "No such referral", body = ErrorBody),
        (status = 422, description = "Invalid input (`org_id`: `invalid`) or state (`state`: `invalid_state`)", body = ErrorBody),
    )
)]
async fn assign_referral(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    input: Result<Json<AssignBody>, JsonRejection>,
) -> ApiResult {
    allow(
        &st,
        &a,
        Action::AssignReferral,
        "/api/v1/referrals/{id}/assign",
    )
    .await?;
    let b = body(input)?;
    let id = path_id(&id)?;
    super::assign(&st, who(&a), id, b.org_id).await?;
    changed(&st, &a, id).await
}

#[utoipa::path(
    get, path = "/api/v1/notifications", tag = "referrals",
    summary = "The signed-in user's notifications",
    description = "Referral events for the user: received, awaiting approval, accepted, declined, recalled… (no victim data).",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The latest notifications and the unread count", body = NotificationList),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
async fn list_notifications(State(st): State<AppState>, a: ApiActor) -> ApiResult {
    let items = super::notifications(&st, who(&a)).await?;
    let unread = super::unread_count(&st, a.actor.user_id).await?;
    Ok(Json(NotificationList {
        unread,
        items: items
            .into_iter()
            .map(|n| {
                let super::NotificationView {
                    id,
                    kind,
                    referral_id,
                    created_at,
                    read,
                } = n;
                Notification {
                    id,
                    kind,
                    referral_id,
                    created_at,
                    read,
                }
            })
            .collect(),
    })
    .into_response())
}

#[utoipa::path(
    post, path = "/api/v1/notifications/read", tag = "referrals",
    summary = "Mark notifications read",
    description = "One notification of the user (`id`), or all of them.",
    security(("bearer" = [])),
    request_body = ReadBody,
    responses(
        (status = 204, description = "Marked"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 422, description = "Invalid input (`id`: `malformed`)", body = ErrorBody),
    )
)]
async fn read_notifications(
    State(st): State<AppState>,
    a: ApiActor,
    input: Result<Json<ReadBody>, JsonRejection>,
) -> ApiResult {
    let b = body(input)?;
    super::mark_read(&st, who(&a), b.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---------------------------------------------------------------------------------------------
// The document

/// The referrals' part of the `/api/v1` OpenAPI document (its tag is declared with the others
/// in `cases::api::ApiDoc`).
#[derive(OpenApi)]
#[openapi(
    paths(
        list_referrals,
        referral_options,
        create_referral,
        read_referral,
        approve_referral,
        accept_referral,
        decline_referral,
        update_referral,
        close_referral,
        recall_referral,
        assign_referral,
        list_notifications,
        read_notifications,
    ),
    components(schemas(
        ReferralSummary,
        ReferralList,
        ReferralConsent,
        ReferralOptions,
        ReferralHistoryItem,
        ReferralOrg,
        ReferralView,
        ReferralResult,
        ReferralAccepted,
        NewReferralBody,
        NoInput,
        DeclineBody,
        UpdateBody,
        NoteOnlyBody,
        AssignBody,
        Notification,
        NotificationList,
        ReadBody,
        OfferBody,
        OrgRef,
        ConsentSummary,
        ReferralData,
        IdentityGroup,
        ContactGroup,
        DemographicsGroup,
        TraffickingGroup,
        AssistanceItem,
        ProceedingItem,
        TimelineNote,
        ReferralReason,
        ReferralUrgency,
        DeclineReason,
        ReferralUpdateKind,
        CtdcAgeBand,
    ))
)]
pub struct ReferralsApi;

/// Adds [`ReferralsApi`] to the node's document (a modifier of `cases::api::ApiDoc`, listed
/// before the one that adds the common responses).
#[derive(Debug)]
pub struct Merge;

impl Modify for Merge {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.merge(ReferralsApi::openapi());
    }
}
