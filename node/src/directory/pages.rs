//! The directory's pages: the regional directory with its filters (`/directory`, everyone
//! signed in), and the editors' pages for this node's services (`/directory/services…`).
//! Plain forms, no script: a filter is a GET form, so a search is a link that can be shared
//! and works on a slow connection.
//!
//! Handlers only translate between forms and the service layer (`super`), which authorises,
//! checks and audits. Form fields are named as the service names its errors (`service_type`,
//! `languages`, `contact`, …) so that an error lands next to its field.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use puente_common::vocab::codes::{PopulationServed, ServiceType};
use puente_common::vocab::{geo, languages, Coded};
use puente_common::CountryCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{DirectoryQuery, ServiceInput, ServiceView};
use crate::admin::when;
use crate::app::AppState;
use crate::authz::Action;
use crate::cases::Who;
use crate::error::{AppError, AppResult, FieldError};
use crate::web::{Lang, SignedIn};

/// The routes of this module, with the action each needs (same format as `app::ROUTES`).
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/directory", "view_directory"),
    ("GET", "/directory/services", "edit_directory"),
    ("GET", "/directory/services/new", "edit_directory"),
    ("POST", "/directory/services/new", "edit_directory"),
    ("GET", "/directory/services/{id}", "edit_directory"),
    ("POST", "/directory/services/{id}", "edit_directory"),
    (
        "POST",
        "/directory/services/{id}/deactivate",
        "edit_directory",
    ),
];

/// The templates of these pages (registered by `web::Web::load`).
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "directory/list.html",
        include_str!("../../templates/directory/list.html"),
    ),
    (
        "directory/services.html",
        include_str!("../../templates/directory/services.html"),
    ),
    (
        "directory/form.html",
        include_str!("../../templates/directory/form.html"),
    ),
];

/// The pages' router (to be merged inside the web context layer).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/directory", get(list))
        .route("/directory/services", get(services))
        .route("/directory/services/new", get(new_form).post(new_submit))
        .route("/directory/services/{id}", get(edit_form).post(edit_submit))
        .route("/directory/services/{id}/deactivate", post(deactivate))
}

fn who<'a>(s: &'a SignedIn, audit: &'a crate::audit::AuditCtx) -> Who<'a> {
    Who {
        actor: &s.actor,
        audit,
    }
}

fn country_name(code: CountryCode, lang: Lang) -> String {
    geo::country(code).map_or_else(
        || code.to_string(),
        |c| match lang {
            Lang::Es => c.name_es.to_owned(),
            Lang::En => c.name_en.to_owned(),
        },
    )
}

fn language_name(code: &str, lang: Lang) -> String {
    languages::language(code).map_or_else(
        || code.to_owned(),
        |l| match lang {
            Lang::Es => l.name_es.to_owned(),
            Lang::En => l.name_en.to_owned(),
        },
    )
}

fn place_name(code: &str) -> String {
    geo::subdivision(code).map_or_else(|| code.to_owned(), |s| s.name.to_owned())
}

fn codes<T: Coded>() -> Vec<&'static str> {
    T::ALL.iter().map(|c| c.code()).collect()
}

fn language_options(lang: Lang) -> Vec<Value> {
    languages::LANGUAGES
        .iter()
        .map(|l| json!({ "code": l.code, "name": language_name(l.code, lang) }))
        .collect()
}

fn subdivision_options(country: CountryCode) -> Vec<Value> {
    geo::subdivisions_of(country)
        .map(|s| json!({ "code": s.code, "name": s.name }))
        .collect()
}

/// Field errors keyed by the form field (`languages.2` → `languages`), translated.
fn errors_json(st: &AppState, lang: Lang, errors: &[FieldError]) -> Value {
    let by_field: Vec<FieldError> = errors
        .iter()
        .map(|e| {
            let base = e.field.split('.').next().unwrap_or(&e.field);
            FieldError::new(base, e.code)
        })
        .collect();
    st.web.field_errors(lang, &by_field)
}

// ---------------------------------------------------------------- the regional directory

/// `GET /directory` filters; empty means any.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct ListParams {
    pub country: String,
    pub service_type: String,
    pub population: String,
    pub language: String,
    pub subdivision: String,
    pub q: String,
}

impl ListParams {
    /// The query, and an error per filter that is not a known code (that filter is ignored).
    pub fn to_query(&self) -> (DirectoryQuery, Vec<FieldError>) {
        let mut errors = Vec::new();
        let mut known = |field: &'static str, raw: &str, ok: bool| -> Option<String> {
            let v = raw.trim();
            if v.is_empty() {
                None
            } else if ok {
                Some(v.to_owned())
            } else {
                errors.push(FieldError::new(field, "unknown_code"));
                None
            }
        };
        let country = known(
            "country",
            &self.country,
            self.country.trim().parse::<CountryCode>().is_ok(),
        )
        .and_then(|c| c.parse().ok());
        let service_type = known(
            "service_type",
            &self.service_type,
            ServiceType::from_code(self.service_type.trim()).is_some(),
        )
        .and_then(|c| ServiceType::from_code(&c));
        let population = known(
            "population",
            &self.population,
            PopulationServed::from_code(self.population.trim()).is_some(),
        )
        .and_then(|c| PopulationServed::from_code(&c));
        let language = known(
            "language",
            &self.language,
            languages::language(self.language.trim())
                .is_some_and(|l| l.code == self.language.trim()),
        );
        let subdivision = known(
            "subdivision",
            &self.subdivision,
            geo::subdivision(self.subdivision.trim())
                .is_some_and(|s| s.code == self.subdivision.trim()),
        );
        let q = DirectoryQuery {
            country,
            service_type,
            population,
            language,
            subdivision,
            text: Some(self.q.trim().to_owned()).filter(|s| !s.is_empty()),
        };
        (q, errors)
    }
}

/// `GET /directory`
async fn list(
    State(st): State<AppState>,
    s: SignedIn,
    Query(p): Query<ListParams>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    let lang = s.ctx.lang;
    let (q, errors) = p.to_query();
    let view = super::directory(&st, who(&s, &audit), &q).await?;
    let entries: Vec<Value> = view
        .entries
        .iter()
        .map(|e| {
            let sv = &e.service;
            json!({
                "country": e.country,
                "country_name": country_name(e.country, lang),
                "local": e.local,
                "org_code": e.org_code,
                "org_name": e.org_name,
                "org_type": e.org_type,
                "service_type": sv.service_type,
                "populations": sv.populations,
                "languages": sv.languages.iter().map(|l| language_name(l, lang)).collect::<Vec<_>>(),
                "places": sv.subdivisions.iter().map(|d| place_name(d)).collect::<Vec<_>>(),
                "contact": sv.contact,
                "notes": sv.notes,
                "received_at": e.received_at.map(when),
            })
        })
        .collect();
    let sources: Vec<Value> = view
        .sources
        .iter()
        .map(|x| {
            json!({
                "country": x.country,
                "country_name": country_name(x.country, lang),
                "local": x.local,
                "revision": x.revision,
                "services": x.services,
                "received_at": x.received_at.map(when),
                "refused": x.refused,
            })
        })
        .collect();
    // Places to filter by: those of every country shown, this node's first.
    let place_groups: Vec<Value> = view
        .sources
        .iter()
        .filter_map(|x| {
            let items = subdivision_options(x.country);
            (!items.is_empty()).then(|| {
                json!({ "country": x.country, "name": country_name(x.country, lang), "items": items })
            })
        })
        .collect();
    let filtered = q.country.is_some()
        || q.service_type.is_some()
        || q.population.is_some()
        || q.language.is_some()
        || q.subdivision.is_some()
        || q.text.is_some();
    let data = json!({
        "entries": entries,
        "sources": sources,
        "total": view.total,
        "shown": view.entries.len(),
        "filter": p,
        "filtered": filtered,
        "can_edit": s.actor.can(Action::EditDirectory),
        "opts": {
            "service_type": codes::<ServiceType>(),
            "population": codes::<PopulationServed>(),
            "languages": language_options(lang),
            "places": place_groups,
        },
        "errors": errors_json(&st, lang, &errors),
    });
    Ok(st.web.render(&s.ctx, "directory/list.html", data))
}

// ---------------------------------------------------------------- editors' pages

fn service_json(v: &ServiceView, lang: Lang) -> Value {
    json!({
        "id": v.id,
        "org_id": v.org_id,
        "org_code": v.org_code,
        "org_name": v.org_name,
        "service_type": v.service_type,
        "populations": v.populations,
        "languages": v.languages.iter().map(|l| language_name(l, lang)).collect::<Vec<_>>(),
        "places": v.subdivisions.iter().map(|d| place_name(d)).collect::<Vec<_>>(),
        "active": v.active,
        "updated_at": when(v.updated_at),
    })
}

/// `GET /directory/services`
async fn services(State(st): State<AppState>, s: SignedIn) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    let list = super::editable_services(&st, who(&s, &audit)).await?;
    let (active, inactive): (Vec<_>, Vec<_>) = list.iter().partition(|v| v.active);
    let data = json!({
        "active": active.iter().map(|v| service_json(v, s.ctx.lang)).collect::<Vec<_>>(),
        "inactive": inactive.iter().map(|v| service_json(v, s.ctx.lang)).collect::<Vec<_>>(),
        "revision": st.store.dir_revision().await?,
    });
    Ok(st.web.render(&s.ctx, "directory/services.html", data))
}

/// A posted service form as the service layer's input, and the form's values to show again.
fn input_from(pairs: &[(String, String)]) -> (ServiceInput, Value) {
    let one = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let many = |k: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(n, v)| n == k && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    };
    let input = ServiceInput {
        org_id: one("org_id").trim().parse().ok(),
        service_type: one("service_type"),
        populations: many("populations"),
        languages: many("languages"),
        subdivisions: many("subdivisions"),
        contact: one("contact"),
        notes: one("notes"),
    };
    let form = json!({
        "org_id": one("org_id"),
        "service_type": input.service_type,
        "populations": input.populations,
        "languages": input.languages,
        "subdivisions": input.subdivisions,
        "contact": input.contact,
        "notes": input.notes,
    });
    (input, form)
}

fn form_of(v: &ServiceView) -> Value {
    json!({
        "org_id": v.org_id.to_string(),
        "service_type": v.service_type,
        "populations": v.populations,
        "languages": v.languages,
        "subdivisions": v.subdivisions,
        "contact": v.contact,
        "notes": v.notes,
    })
}

/// The new/edit form; `service` is the one edited (none: a new one).
async fn render_form(
    st: &AppState,
    s: &SignedIn,
    status: StatusCode,
    service: Option<&ServiceView>,
    form: Value,
    errors: &[FieldError],
) -> AppResult<Response> {
    let lang = s.ctx.lang;
    let node_wide = s.actor.role.is_node_wide();
    let orgs: Vec<Value> = if node_wide && service.is_none() {
        st.store
            .orgs()
            .await?
            .into_iter()
            .filter(|o| o.org.active)
            .map(|o| json!({ "id": o.org.id.to_string(), "code": o.org.code, "name": o.org.name }))
            .collect()
    } else {
        Vec::new()
    };
    let org_name = match service {
        Some(v) => Some(v.org_name.clone()),
        None if !node_wide => s.ctx.org_name.clone(),
        None => None,
    };
    let data = json!({
        "service": service.map(|v| json!({ "id": v.id, "active": v.active, "org_name": v.org_name })),
        "org_name": org_name,
        "orgs": orgs,
        "form": form,
        "country_name": country_name(st.config.country, lang),
        "opts": {
            "service_type": codes::<ServiceType>(),
            "population": codes::<PopulationServed>(),
            "languages": language_options(lang),
            "subdivisions": subdivision_options(st.config.country),
        },
        "errors": errors_json(st, lang, errors),
    });
    Ok(st
        .web
        .render_status(&s.ctx, status, "directory/form.html", data))
}

/// After a failed save: the form again with its errors, or the error page.
async fn failed(
    st: &AppState,
    s: &SignedIn,
    service: Option<&ServiceView>,
    form: Value,
    e: AppError,
) -> AppResult<Response> {
    match e {
        AppError::Invalid(fields) => {
            render_form(
                st,
                s,
                StatusCode::UNPROCESSABLE_ENTITY,
                service,
                form,
                &fields,
            )
            .await
        }
        other => Err(other),
    }
}

/// `GET /directory/services/new`
async fn new_form(State(st): State<AppState>, s: SignedIn) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    crate::admin::require(&st, &audit, &s.actor, Action::EditDirectory, &s.ctx.path).await?;
    render_form(&st, &s, StatusCode::OK, None, json!({}), &[]).await
}

/// `POST /directory/services/new`
async fn new_submit(
    State(st): State<AppState>,
    s: SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    crate::admin::require(&st, &audit, &s.actor, Action::EditDirectory, &s.ctx.path).await?;
    let (input, form) = input_from(&pairs);
    let publication = super::current_publication(&st).await?;
    match super::save_service(&st, who(&s, &audit), None, &input, publication.as_ref()).await {
        Ok(_) => {
            Ok(Redirect::to("/directory/services?notice=directory_service_saved").into_response())
        }
        Err(e) => failed(&st, &s, None, form, e).await,
    }
}

fn path_id(raw: &str) -> AppResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| AppError::NotFound)
}

/// `GET /directory/services/{id}`
async fn edit_form(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    crate::admin::require(&st, &audit, &s.actor, Action::EditDirectory, &s.ctx.path).await?;
    let v = super::service(&st, who(&s, &audit), path_id(&id)?).await?;
    render_form(&st, &s, StatusCode::OK, Some(&v), form_of(&v), &[]).await
}

/// `POST /directory/services/{id}`
async fn edit_submit(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    crate::admin::require(&st, &audit, &s.actor, Action::EditDirectory, &s.ctx.path).await?;
    let id = path_id(&id)?;
    let v = super::service(&st, who(&s, &audit), id).await?;
    let (mut input, form) = input_from(&pairs);
    input.org_id = None;
    let publication = super::current_publication(&st).await?;
    match super::save_service(&st, who(&s, &audit), Some(id), &input, publication.as_ref()).await {
        Ok(_) => {
            Ok(Redirect::to("/directory/services?notice=directory_service_saved").into_response())
        }
        Err(e) => failed(&st, &s, Some(&v), form, e).await,
    }
}

/// `POST /directory/services/{id}/deactivate`
async fn deactivate(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    crate::admin::require(&st, &audit, &s.actor, Action::EditDirectory, &s.ctx.path).await?;
    let id = path_id(&id)?;
    let publication = super::current_publication(&st).await?;
    match super::deactivate_service(&st, who(&s, &audit), id, publication.as_ref()).await {
        Ok(_) => Ok(
            Redirect::to("/directory/services?notice=directory_service_deactivated")
                .into_response(),
        ),
        Err(AppError::Invalid(_)) => Ok(Redirect::to("/directory/services").into_response()),
        Err(e) => Err(e),
    }
}
