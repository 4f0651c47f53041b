//! The pages of cross-border referrals: the lists (received, sent, and for national
//! administrators the national queue), the referral form of a case, a referral's page with
//! its data, signed history and the steps the reader may take, a printable summary for the
//! receiving caseworker, and the signed-in user's notifications.
//!
//! Plain forms, no script. The referral form is in two steps: a GET form picks the destination
//! country (so that the organisations and services of that country's directory, and the
//! person's consents for it, can be listed server-side), then the form itself is posted.
//!
//! Handlers only translate between forms and the service layer (`super`), which authorises,
//! checks, seals, signs and audits. Each POST handler checks its route's action first
//! (audited refusal) so that a refused request never reaches input parsing. Nothing from a
//! form or a referral is logged.

use std::collections::BTreeSet;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;
use puente_common::vocab::codes::{
    DeclineReason, ReferralFieldGroup, ReferralReason, ReferralUpdateKind, ReferralUrgency,
    ServiceType,
};
use puente_common::vocab::{geo, Coded};
use puente_common::CountryCode;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{state, ConsentChoice, NewReferral, ReferralOptions, ReferralQuery, ReferralSummary};
use crate::admin::{require, when};
use crate::app::AppState;
use crate::audit::AuditCtx;
use crate::authz::{Action, Role};
use crate::cases::Who;
use crate::directory::DirectoryQuery;
use crate::error::{AppError, AppResult, FieldError};
use crate::web::{merge, Lang, SignedIn};

/// The routes of this module, with the action each needs (same format as `app::ROUTES`).
/// The notifications are the signed-in user's own: being signed in is enough.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/referrals", "view_referrals"),
    ("GET", "/referrals/{id}", "view_referrals"),
    ("GET", "/referrals/{id}/print", "view_referrals"),
    ("POST", "/referrals/{id}/approve", "approve_referral"),
    ("POST", "/referrals/{id}/accept", "answer_referral"),
    ("POST", "/referrals/{id}/decline", "answer_referral"),
    ("POST", "/referrals/{id}/update", "answer_referral"),
    ("POST", "/referrals/{id}/close", "answer_referral"),
    ("POST", "/referrals/{id}/recall", "send_referral"),
    ("POST", "/referrals/{id}/assign", "assign_referral"),
    ("GET", "/cases/{id}/refer", "send_referral"),
    ("POST", "/cases/{id}/refer", "send_referral"),
    ("GET", "/notifications", "view_home"),
    ("POST", "/notifications/read", "view_home"),
];

/// The templates of these pages (registered by `web::Web::load`).
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "referrals/data.html",
        include_str!("../../templates/referrals/data.html"),
    ),
    (
        "referrals/list.html",
        include_str!("../../templates/referrals/list.html"),
    ),
    (
        "referrals/form.html",
        include_str!("../../templates/referrals/form.html"),
    ),
    (
        "referrals/show.html",
        include_str!("../../templates/referrals/show.html"),
    ),
    (
        "referrals/print.html",
        include_str!("../../templates/referrals/print.html"),
    ),
    (
        "referrals/notifications.html",
        include_str!("../../templates/referrals/notifications.html"),
    ),
];

/// The pages' router (to be merged inside the web context layer).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/referrals", get(list))
        .route("/referrals/{id}", get(show))
        .route("/referrals/{id}/print", get(print))
        .route("/referrals/{id}/approve", post(approve))
        .route("/referrals/{id}/accept", post(accept))
        .route("/referrals/{id}/decline", post(decline))
        .route("/referrals/{id}/update", post(update))
        .route("/referrals/{id}/close", post(close))
        .route("/referrals/{id}/recall", post(recall))
        .route("/referrals/{id}/assign", post(assign))
        .route("/cases/{id}/refer", get(refer_form).post(refer_submit))
        .route("/notifications", get(notifications))
        .route("/notifications/read", post(mark_read))
}

/// Hex characters shown of an envelope hash (the whole value is in the element's title).
const SHORT_HASH: usize = 12;

/// Fields of the referral form and of the step forms that have a label (`ref-field-<name>`);
/// an error on any other field (a path inside the data) is listed as one on the data.
const LABELLED_FIELDS: [&str; 15] = [
    "destination",
    "dest_org",
    "dest_service",
    "reason",
    "urgency",
    "needs",
    "consent_id",
    "field_groups",
    "message",
    "override_reason",
    "note",
    "update",
    "org_id",
    "state",
    "consent",
];

fn who<'a>(s: &'a SignedIn, audit: &'a AuditCtx) -> Who<'a> {
    Who {
        actor: &s.actor,
        audit,
    }
}

fn path_id(raw: &str) -> AppResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| AppError::NotFound)
}

fn redirect(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A country's name in `lang` (the code itself if it is not one).
pub(crate) fn country_name(code: &str, lang: Lang) -> String {
    code.parse::<CountryCode>()
        .ok()
        .and_then(geo::country)
        .map_or_else(
            || code.to_owned(),
            |c| match lang {
                Lang::Es => c.name_es.to_owned(),
                Lang::En => c.name_en.to_owned(),
            },
        )
}

fn codes<T: Coded>() -> Vec<&'static str> {
    T::ALL.iter().map(|c| c.code()).collect()
}

/// A label of `key` if the catalogue has it, else `fallback`.
fn label_or(st: &AppState, lang: Lang, key: &str, fallback: &str) -> String {
    if st.web.i18n.has(lang, key) {
        st.web.tr(lang, key)
    } else {
        fallback.to_owned()
    }
}

/// A history kind's label; `<kind>_ignored` is the kind's label with "ignored".
fn history_label(st: &AppState, lang: Lang, kind: &str) -> String {
    let key = format!("ref-history-{kind}");
    if st.web.i18n.has(lang, &key) {
        return st.web.tr(lang, &key);
    }
    if let Some(base) = kind.strip_suffix("_ignored") {
        let what = label_or(st, lang, &format!("ref-history-{base}"), base);
        return st
            .web
            .i18n
            .tr(lang, "ref-history-ignored", &[("what", what)]);
    }
    kind.to_owned()
}

/// A referral in a list or a summary, with what the templates show.
fn summary_json(lang: Lang, s: &ReferralSummary) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
    v["peer_name"] = Value::from(country_name(&s.peer, lang));
    v["created_at"] = Value::from(when(s.created_at));
    v["updated_at"] = Value::from(when(s.updated_at));
    v["expires_on"] = s
        .expires_on
        .map_or(Value::Null, |d| Value::from(d.to_string()));
    v["badge"] = Value::from(match s.display_state.as_str() {
        "accepted" | "delivered" | "closed" => "badge-ok",
        "declined" | "expired" | "recalled" | "cancelled" => "badge-off",
        _ => "badge-warn",
    });
    v
}

/// Field errors as a list naming each field (links to it where the form has it); `step` is
/// the step form that failed, if one did (a decline's `reason` is the decline's).
fn error_list(
    st: &AppState,
    lang: Lang,
    errors: &[FieldError],
    anchors: &[&str],
    step: Option<&str>,
) -> Value {
    Value::Array(
        errors
            .iter()
            .map(|e| {
                let base = e.field.split('.').next().unwrap_or(&e.field);
                let field = if LABELLED_FIELDS.contains(&base) {
                    base
                } else {
                    "data"
                };
                let label = match (step, field) {
                    (Some("declined"), "reason") => "ref-decline-reason".to_owned(),
                    _ => format!("ref-field-{field}"),
                };
                json!({
                    "field": st.web.tr(lang, &label),
                    "message": st.web.tr(lang, &format!("msg-field-{}", e.code)),
                    "href": anchors.contains(&field).then(|| format!("f-{field}")),
                })
            })
            .collect(),
    )
}

/// Field errors keyed by the form field (a path inside the data → `data`), translated.
fn errors_json(st: &AppState, lang: Lang, errors: &[FieldError]) -> Value {
    let by_field: Vec<FieldError> = errors
        .iter()
        .map(|e| {
            let base = e.field.split('.').next().unwrap_or(&e.field);
            let field = if LABELLED_FIELDS.contains(&base) {
                base
            } else {
                "data"
            };
            FieldError::new(field, e.code)
        })
        .collect();
    st.web.field_errors(lang, &by_field)
}

/// Display names of countries, languages, subdivisions and industries (as the case pages).
fn names(lang: Lang) -> Value {
    crate::cases::pages::names(lang)
}

// ---------------------------------------------------------------- the regional directory

/// The organisations and services of `country`'s directory (this node's own, or a peer's as
/// received), for the form's choices and to name what a referral was addressed to.
struct DirChoices {
    /// Code → name, in the directory's order.
    orgs: Vec<(String, String)>,
    services: Vec<DirServiceChoice>,
}

struct DirServiceChoice {
    id: String,
    org_code: String,
    org_name: String,
    service_type: String,
    places: Vec<String>,
    /// How to reach the service (organisation data only).
    contact: String,
}

async fn dir_choices(st: &AppState, w: Who<'_>, country: CountryCode) -> AppResult<DirChoices> {
    let q = DirectoryQuery {
        country: Some(country),
        ..DirectoryQuery::default()
    };
    let view = crate::directory::directory(st, w, &q).await?;
    let mut orgs: Vec<(String, String)> = Vec::new();
    let mut services = Vec::new();
    for e in view.entries {
        if !orgs.iter().any(|(c, _)| c == &e.org_code) {
            orgs.push((e.org_code.clone(), e.org_name.clone()));
        }
        services.push(DirServiceChoice {
            id: e.service.id.clone(),
            org_code: e.org_code.clone(),
            org_name: e.org_name.clone(),
            service_type: e.service.service_type.clone(),
            places: e
                .service
                .subdivisions
                .iter()
                .map(|d| geo::subdivision(d).map_or_else(|| d.clone(), |s| s.name.to_owned()))
                .collect(),
            contact: e.service.contact.clone(),
        });
    }
    Ok(DirChoices { orgs, services })
}

impl DirChoices {
    fn org_name(&self, code: &str) -> Option<&str> {
        self.orgs
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, n)| n.as_str())
    }

    fn service(&self, id: &str) -> Option<&DirServiceChoice> {
        self.services.iter().find(|s| s.id == id)
    }
}

// ---------------------------------------------------------------- GET /referrals

/// `GET /referrals` filters: `tab` = `in` (received, the default), `out` (sent) or `queue`
/// (received and not yet routed: national administrators).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ListParams {
    pub tab: String,
    pub state: String,
    pub peer: String,
    pub page: String,
}

async fn list(
    State(st): State<AppState>,
    s: SignedIn,
    Query(p): Query<ListParams>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ViewReferrals, &s.ctx.path).await?;
    let lang = s.ctx.lang;
    let node_admin = s.actor.role == Role::NodeAdmin;
    let tab = match p.tab.as_str() {
        "out" => "out",
        "queue" if node_admin => "queue",
        _ => "in",
    };
    let mut errors = Vec::new();
    let state_filter = match p.state.trim() {
        "" => None,
        x if state::ALL.contains(&x) => Some(x.to_owned()),
        _ => {
            errors.push(FieldError::new("state", "unknown_code"));
            None
        }
    };
    let peer = match p.peer.trim() {
        "" => None,
        x => match x.parse::<CountryCode>() {
            Ok(c) => Some(c),
            Err(_) => {
                errors.push(FieldError::new("peer", "unknown_country"));
                None
            }
        },
    };
    let q = ReferralQuery {
        direction: Some(if tab == "out" { "out" } else { "in" }.to_owned()),
        state: state_filter.clone(),
        peer,
        unassigned: tab == "queue",
        page: p.page.trim().parse().unwrap_or(1).max(1),
    };
    let result = super::list(&st, who(&s, &audit), &q).await?;
    // The countries to filter by: the federation's other members.
    let peers: Vec<Value> = match super::fed(&st) {
        Some(f) => f
            .trust
            .signed
            .manifest
            .members
            .iter()
            .filter(|m| m.id != f.me)
            .map(|m| json!({ "code": m.id.as_str(), "name": country_name(m.id.as_str(), lang) }))
            .collect(),
        None => Vec::new(),
    };
    let data = json!({
        "tab": tab,
        "node_admin": node_admin,
        "items": result.items.iter().map(|x| summary_json(lang, x)).collect::<Vec<_>>(),
        "total": result.total,
        "page": result.page,
        "pages": result.pages,
        "has_next": result.page < result.pages,
        "filter": {
            "state": state_filter.unwrap_or_default(),
            "peer": peer.map(|c| c.to_string()).unwrap_or_default(),
        },
        "opts": { "states": state::ALL, "peers": peers },
        "errors": st.web.field_errors(lang, &errors),
    });
    Ok(st.web.render(&s.ctx, "referrals/list.html", data))
}

// ---------------------------------------------------------------- the referral form

/// `GET /cases/{id}/refer`: `destination` chosen in the first step; `consent_id` to pre-check
/// another consent's groups.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ReferParams {
    pub destination: String,
    pub consent_id: String,
}

/// The consents of the person for `destination`, as the form lists them.
fn consents_for(opts: &ReferralOptions, destination: Option<CountryCode>) -> Vec<&ConsentChoice> {
    match destination {
        Some(d) => opts
            .consents
            .iter()
            .filter(|c| c.destination == Some(d))
            .collect(),
        None => Vec::new(),
    }
}

/// The consent the form starts with: the one asked for if valid, else the latest valid one.
fn default_consent<'a>(list: &[&'a ConsentChoice], asked: &str) -> Option<&'a ConsentChoice> {
    let asked = Uuid::parse_str(asked.trim()).ok();
    list.iter()
        .copied()
        .filter(|c| c.valid)
        .find(|c| Some(c.id) == asked)
        .or_else(|| {
            list.iter()
                .copied()
                .filter(|c| c.valid)
                .max_by_key(|c| (c.given_on, c.id))
        })
}

fn consent_json(c: &ConsentChoice) -> Value {
    json!({
        "id": c.id,
        "given_on": c.given_on.to_string(),
        "expires_on": c.expires_on.map(|d: NaiveDate| d.to_string()),
        "destination_org": c.destination_org,
        "field_groups": c.field_groups,
        "valid": c.valid,
        "withdrawn": c.withdrawn,
    })
}

/// Renders the referral form of a case with `form`'s values and `errors`.
async fn render_refer(
    st: &AppState,
    s: &SignedIn,
    audit: &AuditCtx,
    opts: &ReferralOptions,
    status: StatusCode,
    form: Value,
    errors: &[FieldError],
) -> AppResult<Response> {
    let lang = s.ctx.lang;
    let destination = form
        .get("destination")
        .and_then(Value::as_str)
        .and_then(|d| d.parse::<CountryCode>().ok())
        .filter(|d| opts.destinations.contains(d));
    let (orgs, services) = match destination {
        Some(d) => {
            let dir = dir_choices(st, who(s, audit), d).await?;
            let orgs: Vec<Value> = dir
                .orgs
                .iter()
                .map(|(code, name)| json!({ "code": code, "name": name }))
                .collect();
            let services: Vec<Value> = dir
                .services
                .iter()
                .map(|x| {
                    json!({
                        "id": x.id, "org_code": x.org_code, "org_name": x.org_name,
                        "service_type": x.service_type, "places": x.places,
                    })
                })
                .collect();
            (orgs, services)
        }
        None => (Vec::new(), Vec::new()),
    };
    let consents = consents_for(opts, destination);
    let anchors = [
        "destination",
        "dest_org",
        "dest_service",
        "reason",
        "urgency",
        "needs",
        "consent_id",
        "field_groups",
        "message",
        "override_reason",
    ];
    let data = json!({
        "case": { "id": opts.case_id, "number": opts.case_number },
        "destinations": opts.destinations.iter()
            .map(|d| json!({ "code": d.as_str(), "name": country_name(d.as_str(), lang) }))
            .collect::<Vec<_>>(),
        "destination": destination.map(|d| json!({ "code": d.as_str(), "name": country_name(d.as_str(), lang) })),
        "dest_orgs": orgs,
        "dest_services": services,
        "consents": consents.iter().filter(|c| c.valid).map(|c| consent_json(c)).collect::<Vec<_>>(),
        "unusable_consents": consents.iter().filter(|c| !c.valid).map(|c| consent_json(c)).collect::<Vec<_>>(),
        "can_override": opts.can_override,
        "requires_approval": opts.requires_approval,
        "opts": {
            "reason": codes::<ReferralReason>(),
            "urgency": codes::<ReferralUrgency>(),
            "needs": codes::<ServiceType>(),
            "field_groups": codes::<ReferralFieldGroup>(),
        },
        "form": form,
        "errors": errors_json(st, lang, errors),
        "error_list": error_list(st, lang, errors, &anchors, None),
    });
    Ok(st
        .web
        .render_status(&s.ctx, status, "referrals/form.html", data))
}

/// `GET /cases/{id}/refer`
async fn refer_form(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Query(p): Query<ReferParams>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::SendReferral, &s.ctx.path).await?;
    let case_id = path_id(&id)?;
    let opts = super::options(&st, who(&s, &audit), case_id).await?;
    let mut errors = Vec::new();
    let destination = match p.destination.trim() {
        "" if opts.destinations.len() == 1 => opts.destinations.first().copied(),
        "" => None,
        x => match x.parse::<CountryCode>() {
            Ok(c) if opts.destinations.contains(&c) => Some(c),
            Ok(c) => {
                let code = super::fed(&st)
                    .and_then(|f| super::referral_block(&f, c, st.clock.now()))
                    .unwrap_or("no_referral_agreement");
                errors.push(FieldError::new("destination", code));
                None
            }
            Err(_) => {
                errors.push(FieldError::new("destination", "unknown_country"));
                None
            }
        },
    };
    let consents = consents_for(&opts, destination);
    let chosen = default_consent(&consents, &p.consent_id);
    let form = json!({
        "destination": destination.map(|d| d.to_string()).unwrap_or_default(),
        "consent_id": chosen.map(|c| c.id.to_string()).unwrap_or_default(),
        "field_groups": chosen.map(|c| c.field_groups.clone()).unwrap_or_default(),
        "dest_org": chosen.map(|c| c.destination_org.clone()).unwrap_or_default(),
        "urgency": ReferralUrgency::Routine.code(),
        "needs": Vec::<String>::new(),
    });
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_refer(&st, &s, &audit, &opts, status, form, &errors).await
}

/// A posted form as name → values (repeated names kept in order).
fn one(pairs: &[(String, String)], k: &str) -> String {
    pairs
        .iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

/// Free text as typed (shown again as it was).
fn untrimmed(pairs: &[(String, String)], k: &str) -> String {
    pairs
        .iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn many(pairs: &[(String, String)], k: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(n, v)| n == k && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_owned())
        .collect()
}

/// A required code of `T` from the form.
fn code_field<T: Coded>(raw: &str, field: &str, errors: &mut Vec<FieldError>) -> Option<T> {
    if raw.is_empty() {
        errors.push(FieldError::new(field, "required"));
        return None;
    }
    let v = T::from_code(raw);
    if v.is_none() {
        errors.push(FieldError::new(field, "unknown_code"));
    }
    v
}

fn code_set<T: Coded + Ord>(
    raw: &[String],
    field: &str,
    errors: &mut Vec<FieldError>,
) -> BTreeSet<T> {
    let mut out = BTreeSet::new();
    for r in raw {
        match T::from_code(r) {
            Some(v) => {
                out.insert(v);
            }
            None => errors.push(FieldError::new(field, "unknown_code")),
        }
    }
    out
}

/// `POST /cases/{id}/refer`
async fn refer_submit(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::SendReferral, &s.ctx.path).await?;
    let case_id = path_id(&id)?;
    let opts = super::options(&st, who(&s, &audit), case_id).await?;
    let form = json!({
        "destination": one(&pairs, "destination"),
        "dest_org": one(&pairs, "dest_org"),
        "dest_service": one(&pairs, "dest_service"),
        "reason": one(&pairs, "reason"),
        "urgency": one(&pairs, "urgency"),
        "needs": many(&pairs, "needs"),
        "consent_id": one(&pairs, "consent_id"),
        "field_groups": many(&pairs, "field_groups"),
        "message": untrimmed(&pairs, "message"),
        "override_reason": untrimmed(&pairs, "override_reason"),
    });
    let mut errors = Vec::new();
    let destination = match one(&pairs, "destination").as_str() {
        "" => {
            errors.push(FieldError::new("destination", "required"));
            None
        }
        x => match x.parse::<CountryCode>() {
            Ok(c) => Some(c),
            Err(_) => {
                errors.push(FieldError::new("destination", "unknown_country"));
                None
            }
        },
    };
    let reason = code_field::<ReferralReason>(&one(&pairs, "reason"), "reason", &mut errors);
    let urgency = code_field::<ReferralUrgency>(&one(&pairs, "urgency"), "urgency", &mut errors);
    let needs = code_set::<ServiceType>(&many(&pairs, "needs"), "needs", &mut errors);
    if needs.is_empty() && !errors.iter().any(|e| e.field == "needs") {
        errors.push(FieldError::new("needs", "required"));
    }
    let field_groups =
        code_set::<ReferralFieldGroup>(&many(&pairs, "field_groups"), "field_groups", &mut errors);
    let consent_id = match one(&pairs, "consent_id").as_str() {
        "" => None,
        x => match Uuid::parse_str(x) {
            Ok(u) => Some(u),
            Err(_) => {
                errors.push(FieldError::new("consent_id", "invalid"));
                None
            }
        },
    };
    // The organisation and service, from the destination's directory: a service names its
    // organisation.
    let mut dest_org = Some(one(&pairs, "dest_org")).filter(|o| !o.is_empty());
    let dest_service = match one(&pairs, "dest_service").as_str() {
        "" => None,
        x => match (Uuid::parse_str(x), destination) {
            (Ok(u), Some(d)) if opts.destinations.contains(&d) => {
                let dir = dir_choices(&st, who(&s, &audit), d).await?;
                match dir.service(&u.hyphenated().to_string()) {
                    Some(svc) if dest_org.is_none() => {
                        dest_org = Some(svc.org_code.clone());
                        Some(u)
                    }
                    Some(svc) if dest_org.as_deref() == Some(svc.org_code.as_str()) => Some(u),
                    Some(_) => {
                        errors.push(FieldError::new("dest_service", "service_other_org"));
                        None
                    }
                    None => {
                        errors.push(FieldError::new("dest_service", "invalid"));
                        None
                    }
                }
            }
            (Ok(u), _) => Some(u),
            (Err(_), _) => {
                errors.push(FieldError::new("dest_service", "invalid"));
                None
            }
        },
    };
    let (Some(destination), Some(reason), Some(urgency), true) =
        (destination, reason, urgency, errors.is_empty())
    else {
        return render_refer(
            &st,
            &s,
            &audit,
            &opts,
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
            &errors,
        )
        .await;
    };
    // Passed on as posted: the service refuses (and audits) an override by someone who may not.
    let override_reason = Some(one(&pairs, "override_reason")).filter(|r| !r.is_empty());
    let input = NewReferral {
        destination,
        dest_org,
        dest_service,
        reason,
        urgency,
        needs,
        message: form["message"].as_str().unwrap_or_default().to_owned(),
        consent_id,
        field_groups: Some(field_groups),
        override_reason,
    };
    match super::create(&st, who(&s, &audit), case_id, input).await {
        Ok(id) => {
            let notice = if opts.requires_approval {
                "referral_awaiting_approval"
            } else {
                "referral_sent"
            };
            Ok(redirect(&format!("/referrals/{id}?notice={notice}")))
        }
        Err(AppError::Invalid(fields)) => {
            render_refer(
                &st,
                &s,
                &audit,
                &opts,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                &fields,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------- a referral's page

/// The labels of a history entry's detail (codes and flags, never victim data).
fn detail_lines(st: &AppState, lang: Lang, kind: &str, d: &Value) -> Vec<String> {
    let tr = |key: &str| st.web.tr(lang, key);
    let tra = |key: &str, k: &str, v: String| st.web.i18n.tr(lang, key, &[(k, v)]);
    let mut out = Vec::new();
    let s = |k: &str| d.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
    if let Some(c) = s("destination") {
        out.push(tra(
            "ref-detail-destination",
            "country",
            country_name(c, lang),
        ));
    }
    if let Some(r) = s("reason") {
        let field = if kind == "created" {
            "referral_reason"
        } else if kind.starts_with("declined") {
            "decline_reason"
        } else {
            "recall_reason"
        };
        out.push(label_or(st, lang, &format!("code-{field}-{r}"), r));
    }
    if let Some(u) = s("urgency") {
        out.push(label_or(st, lang, &format!("code-referral_urgency-{u}"), u));
    }
    if let Some(u) = s("update") {
        out.push(label_or(st, lang, &format!("code-referral_update-{u}"), u));
    }
    if let Some(o) = s("org") {
        out.push(tra("ref-detail-org", "org", o.to_owned()));
    }
    if let Some(groups) = d.get("field_groups").and_then(Value::as_array) {
        let labels: Vec<String> = groups
            .iter()
            .filter_map(Value::as_str)
            .map(|g| label_or(st, lang, &format!("code-referral_field_group-{g}"), g))
            .collect();
        out.push(if labels.is_empty() {
            tr("ref-detail-groups-none")
        } else {
            tra("ref-detail-groups", "groups", labels.join(", "))
        });
    }
    if d.get("override").and_then(Value::as_bool) == Some(true) {
        out.push(tr("ref-detail-override"));
    }
    if d.get("routed").and_then(Value::as_bool) == Some(false) {
        out.push(tr("ref-detail-queue"));
    }
    if d.get("held").and_then(Value::as_bool) == Some(false) {
        out.push(tr("ref-detail-held-nothing"));
    }
    if d.get("linked_case_redacted").and_then(Value::as_bool) == Some(true) {
        out.push(tr("ref-detail-redacted"));
    }
    if let Some(k) = s("kind") {
        out.push(tra("ref-detail-kind", "kind", k.to_owned()));
    }
    out
}

/// The referral page's data: the summary, the offer, the history and the action forms.
async fn view_data(st: &AppState, s: &SignedIn, audit: &AuditCtx, id: Uuid) -> AppResult<Value> {
    let lang = s.ctx.lang;
    let v = super::read(st, who(s, audit), id).await?;
    let sm = &v.summary;
    // What the referral was addressed to, named from the directory of its destination.
    let dest_country = if sm.direction == "out" {
        sm.peer.parse::<CountryCode>().ok()
    } else {
        Some(st.config.country)
    };
    let (dest_org_name, dest_service) = match (dest_country, &sm.dest_org, &sm.dest_service) {
        (Some(c), org, svc) if org.is_some() || svc.is_some() => {
            let dir = dir_choices(st, who(s, audit), c).await?;
            let org_name = org
                .as_deref()
                .and_then(|o| dir.org_name(o))
                .map(str::to_owned);
            let service = svc.as_deref().and_then(|x| dir.service(x)).map(|x| {
                json!({ "service_type": x.service_type, "org_name": x.org_name, "places": x.places })
            });
            (org_name, service)
        }
        _ => (None, None),
    };
    let peer_name = country_name(&sm.peer, lang);
    let history: Vec<Value> = v
        .history
        .iter()
        .map(|h| {
            let received = h.delivery.is_none() && h.message_id.is_some() && h.actor.is_none();
            let who = match &h.actor {
                Some(a) => a.clone(),
                None if received => st
                    .web
                    .i18n
                    .tr(lang, "ref-who-peer", &[("country", peer_name.clone())]),
                None => st.web.tr(lang, "ref-who-system"),
            };
            let delivery = h
                .delivery
                .clone()
                .or_else(|| received.then(|| "received".to_owned()));
            json!({
                "at": when(h.at),
                "label": history_label(st, lang, &h.kind),
                "who": who,
                "hash": h.envelope_hash,
                "hash_short": h.envelope_hash.as_deref().map(|x| x.chars().take(SHORT_HASH).collect::<String>()),
                "delivery": delivery,
                "acked_at": h.acked_at.map(when),
                "details": detail_lines(st, lang, &h.kind, &h.detail),
                "note": h.note,
            })
        })
        .collect();
    let orgs: Vec<Value> = v
        .orgs
        .iter()
        .map(|o| json!({ "id": o.id, "code": o.code, "name": o.name }))
        .collect();
    Ok(json!({
        "r": summary_json(lang, sm),
        "case_number": v.case_number,
        "offer": v.offer,
        "erased": v.erased,
        "override_reason": v.override_reason,
        "dest_org_name": dest_org_name,
        "dest_service": dest_service,
        "history": history,
        "actions": v.actions,
        "orgs": orgs,
        "names": names(lang),
        "opts": {
            "decline_reason": codes::<DeclineReason>(),
            "referral_update": codes::<ReferralUpdateKind>(),
        },
        "can_view_case": s.actor.can(Action::ViewCases) && v.case_number.is_some(),
    }))
}

/// `GET /referrals/{id}`
async fn show(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ViewReferrals, &s.ctx.path).await?;
    let data = view_data(&st, &s, &audit, path_id(&id)?).await?;
    Ok(st.web.render(&s.ctx, "referrals/show.html", data))
}

/// `GET /referrals/{id}/print`: the summary on its own, to print (read and audited as the
/// page is).
async fn print(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ViewReferrals, &s.ctx.path).await?;
    let data = view_data(&st, &s, &audit, path_id(&id)?).await?;
    // The sender's contact for the receiving caseworker: its organisation's services in the
    // directory of its country.
    let direction = data["r"]["direction"].as_str().unwrap_or_default();
    let sender_country = if direction == "in" {
        data["r"]["peer"].as_str().and_then(|p| p.parse().ok())
    } else {
        Some(st.config.country)
    };
    let sender_org = data["r"]["sender_org"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut contacts: Vec<String> = Vec::new();
    if let Some(c) = sender_country {
        for svc in dir_choices(&st, who(&s, &audit), c).await?.services {
            if svc.org_code == sender_org && !contacts.contains(&svc.contact) {
                contacts.push(svc.contact);
            }
        }
    }
    let extra = json!({
        "printed_at": when(audit.at),
        "sender_country": sender_country.map(|c| country_name(c.as_str(), s.ctx.lang)),
        "sender_contacts": contacts,
    });
    Ok(st
        .web
        .render(&s.ctx, "referrals/print.html", merge(data, extra)))
}

/// After a step: back to the referral with a notice, or the page again with the step's
/// errors next to its form.
async fn after_step(
    st: &AppState,
    s: &SignedIn,
    audit: &AuditCtx,
    id: Uuid,
    step: &str,
    form: Value,
    result: AppResult<()>,
) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(redirect(&format!("/referrals/{id}?notice=referral_{step}"))),
        Err(AppError::Invalid(fields)) => {
            let lang = s.ctx.lang;
            let data = view_data(st, s, audit, id).await?;
            let extra = json!({
                "failed": step,
                "form": form,
                "errors": errors_json(st, lang, &fields),
                "error_list": error_list(st, lang, &fields, &[], Some(step)),
            });
            Ok(st.web.render_status(
                &s.ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                "referrals/show.html",
                merge(data, extra),
            ))
        }
        Err(e) => Err(e),
    }
}

/// The form of a step: `note`, and the step's own fields.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct StepForm {
    pub note: String,
    pub reason: String,
    pub update: String,
    pub org_id: String,
}

impl StepForm {
    fn to_json(&self) -> Value {
        json!({ "note": self.note, "reason": self.reason, "update": self.update, "org_id": self.org_id })
    }
}

/// `POST /referrals/{id}/approve`
async fn approve(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ApproveReferral, &s.ctx.path).await?;
    let id = path_id(&id)?;
    let r = super::approve(&st, who(&s, &audit), id).await;
    after_step(&st, &s, &audit, id, "approved", json!({}), r).await
}

/// `POST /referrals/{id}/accept`: the linked case opens; the page shows it.
async fn accept(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::AnswerReferral, &s.ctx.path).await?;
    let id = path_id(&id)?;
    let r = super::accept(&st, who(&s, &audit), id).await.map(|_| ());
    after_step(&st, &s, &audit, id, "accepted", json!({}), r).await
}

/// `POST /referrals/{id}/decline`
async fn decline(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<StepForm>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::AnswerReferral, &s.ctx.path).await?;
    let id = path_id(&id)?;
    let mut errors = Vec::new();
    let reason = code_field::<DeclineReason>(f.reason.trim(), "reason", &mut errors);
    let r = match reason {
        Some(reason) => super::decline(&st, who(&s, &audit), id, reason, &f.note).await,
        None => Err(AppError::Invalid(errors)),
    };
    after_step(&st, &s, &audit, id, "declined", f.to_json(), r).await
}

/// `POST /referrals/{id}/update`
async fn update(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<StepForm>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::AnswerReferral, &s.ctx.path).await?;
    let id = path_id(&id)?;
    let mut errors = Vec::new();
    let kind = code_field::<ReferralUpdateKind>(f.update.trim(), "update", &mut errors);
    let r = match kind {
        Some(kind) => super::update(&st, who(&s, &audit), id, kind, &f.note).await,
        None => Err(AppError::Invalid(errors)),
    };
    after_step(&st, &s, &audit, id, "updated", f.to_json(), r).await
}

/// `POST /referrals/{id}/close`
async fn close(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<StepForm>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::AnswerReferral, &s.ctx.path).await?;
    let id = path_id(&id)?;
    let r = super::close(&st, who(&s, &audit), id, &f.note).await;
    after_step(&st, &s, &audit, id, "closed", f.to_json(), r).await
}

/// `POST /referrals/{id}/recall`
async fn recall(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<StepForm>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::SendReferral, &s.ctx.path).await?;
    let id = path_id(&id)?;
    let r = super::recall(&st, who(&s, &audit), id, &f.note).await;
    after_step(&st, &s, &audit, id, "recalled", f.to_json(), r).await
}

/// `POST /referrals/{id}/assign`
async fn assign(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<StepForm>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::AssignReferral, &s.ctx.path).await?;
    let id = path_id(&id)?;
    let r = match f.org_id.trim() {
        "" => Err(AppError::Invalid(vec![FieldError::new(
            "org_id", "required",
        )])),
        x => match Uuid::parse_str(x) {
            Ok(org) => super::assign(&st, who(&s, &audit), id, org).await,
            Err(_) => Err(AppError::Invalid(vec![FieldError::new(
                "org_id", "invalid",
            )])),
        },
    };
    after_step(&st, &s, &audit, id, "assigned", f.to_json(), r).await
}

// ---------------------------------------------------------------- notifications

/// `GET /notifications`
async fn notifications(State(st): State<AppState>, s: SignedIn) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    let items: Vec<Value> = super::notifications(&st, who(&s, &audit))
        .await?
        .into_iter()
        .map(|n| {
            json!({
                "id": n.id,
                "kind": n.kind,
                "referral_id": n.referral_id,
                "created_at": when(n.created_at),
                "read": n.read,
            })
        })
        .collect();
    let unread = items.iter().filter(|n| n["read"] == false).count();
    let data = json!({ "items": items, "unread_here": unread });
    Ok(st.web.render(&s.ctx, "referrals/notifications.html", data))
}

/// `POST /notifications/read`: one notification (`id`) or all of them.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ReadForm {
    pub id: String,
}

async fn mark_read(
    State(st): State<AppState>,
    s: SignedIn,
    Form(f): Form<ReadForm>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    let id = match f.id.trim() {
        "" => None,
        x => Some(path_id(x)?),
    };
    super::mark_read(&st, who(&s, &audit), id).await?;
    Ok(redirect("/notifications?notice=notifications_read"))
}

// ---------------------------------------------------------------- the case page

/// The referrals made from (or linked to) a case, as its page lists them; empty for users
/// who may not see referrals.
pub(crate) async fn case_referrals(
    st: &AppState,
    s: &SignedIn,
    case_id: Uuid,
) -> AppResult<Vec<Value>> {
    if !s.actor.can(Action::ViewReferrals) {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for r in st.store.ref_by_case(case_id).await? {
        let sm = super::summary(st, &r, None).await?;
        out.push(summary_json(s.ctx.lang, &sm));
    }
    Ok(out)
}

/// Every label key the pages build at run time (for the catalogue test).
pub fn dynamic_keys() -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for s in state::ALL
        .iter()
        .chain(&["pending_delivery", "delivered", "recall_pending"])
    {
        keys.push(format!("ref-state-{s}"));
    }
    for k in [
        "created",
        "approved",
        "offer_sent",
        "offer_received",
        "assigned",
        "accepted",
        "declined",
        "update_sent",
        "update_received",
        "closed",
        "cancelled",
        "recall_sent",
        "recall_received",
        "recall_acknowledged",
        "recall_confirmed",
        "expired",
        "offer_after_recall",
        "offer_repeated",
        "recall_repeated",
        "recall_ack_repeated",
        "ignored",
    ] {
        keys.push(format!("ref-history-{k}"));
    }
    for k in [
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
    ] {
        keys.push(format!("ref-notification-{k}"));
    }
    for d in ["pending", "acked", "rejected", "received"] {
        keys.push(format!("ref-delivery-{d}"));
    }
    for f in LABELLED_FIELDS.iter().chain(&["data"]) {
        keys.push(format!("ref-field-{f}"));
    }
    for a in [
        "approve", "recall", "accept", "decline", "update", "close", "assign",
    ] {
        keys.push(format!("ref-action-{a}"));
    }
    for t in ["in", "out"] {
        keys.push(format!("ref-direction-{t}"));
    }
    for c in [
        "no_referral_agreement",
        "peer_suspended",
        "peer_blocked",
        "own_country",
        "no_seal_key",
        "consent_required",
        "consent_expired",
        "consent_withdrawn",
        "consent_other_destination",
        "consent_other_organisation",
        "exceeds_consent",
        "override_reason_required",
        "invalid_state",
        "expired",
        "too_long",
        "required",
        "invalid",
        "unknown_code",
        "unknown_country",
        "already_withdrawn",
        "service_other_org",
    ] {
        keys.push(format!("msg-field-{c}"));
    }
    for n in [
        "referral_sent",
        "referral_awaiting_approval",
        "referral_approved",
        "referral_accepted",
        "referral_declined",
        "referral_updated",
        "referral_closed",
        "referral_recalled",
        "referral_assigned",
        "notifications_read",
    ] {
        keys.push(format!("msg-notice-{n}"));
    }
    for a in [
        "view_referrals",
        "send_referral",
        "approve_referral",
        "answer_referral",
        "assign_referral",
    ] {
        keys.push(format!("action-{a}"));
    }
    keys.extend(
        [
            "ref-who-peer",
            "ref-who-system",
            "ref-detail-destination",
            "ref-detail-org",
            "ref-detail-groups",
            "ref-detail-groups-none",
            "ref-detail-override",
            "ref-detail-queue",
            "ref-detail-held-nothing",
            "ref-detail-redacted",
            "ref-detail-kind",
        ]
        .map(str::to_owned),
    );
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::I18n;

    #[test]
    fn every_label_the_pages_build_exists_in_both_languages() {
        let i18n = I18n::load().unwrap();
        let mut keys = dynamic_keys();
        for group in ReferralFieldGroup::ALL {
            keys.push(group.label_key());
        }
        let missing: Vec<_> = keys
            .iter()
            .filter(|k| !i18n.has(Lang::Es, k) || !i18n.has(Lang::En, k))
            .collect();
        assert!(missing.is_empty(), "missing translations: {missing:?}");
    }

    #[test]
    fn the_action_labels_of_referrals_exist() {
        let i18n = I18n::load().unwrap();
        for a in crate::authz::Action::ALL {
            let k = format!("action-{}", a.code());
            assert!(i18n.has(Lang::Es, &k) && i18n.has(Lang::En, &k), "{k}");
        }
    }

    #[test]
    fn history_kinds_are_labelled_and_ignored_ones_name_their_kind() {
        let i18n = I18n::load().unwrap();
        let es = i18n.tr(
            Lang::Es,
            "ref-history-ignored",
            &[("what", i18n.tr(Lang::Es, "ref-history-accepted", &[]))],
        );
        assert!(es.contains(&i18n.tr(Lang::Es, "ref-history-accepted", &[])));
    }
}
