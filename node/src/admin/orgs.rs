//! Organisations: the tenants of a node.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use puente_common::OrgType;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{check, require, text, when};
use crate::app::AppState;
use crate::audit::{AuditCtx, Outcome};
use crate::authz::Action;
use crate::error::{AppError, AppResult, FieldError};
use crate::store::{Org, OrgSummary, Store};
use crate::web::SignedIn;

/// Input for a new organisation.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewOrg {
    pub code: String,
    pub name: String,
    pub org_type: String,
    #[serde(skip_serializing)]
    csrf: Option<String>,
}

impl NewOrg {
    pub fn new(code: &str, name: &str, org_type: &str) -> Self {
        NewOrg {
            code: code.into(),
            name: name.into(),
            org_type: org_type.into(),
            csrf: None,
        }
    }
}

/// Changes to an organisation.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct OrgChange {
    pub name: String,
    pub org_type: String,
    /// A checkbox: present ("on") when ticked.
    pub active: Option<String>,
}

/// Organisation codes: 2–12 capitals and digits, used in readable case numbers.
pub fn parse_code(raw: &str, errors: &mut Vec<FieldError>) -> String {
    let code = raw.trim().to_uppercase();
    if code.is_empty() {
        errors.push(FieldError::new("code", "required"));
    } else if !(2..=12).contains(&code.len())
        || !code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        errors.push(FieldError::new("code", "org_code_format"));
    }
    code
}

fn parse_type(raw: &str, errors: &mut Vec<FieldError>) -> Option<OrgType> {
    match raw.trim().parse::<OrgType>() {
        Ok(t) => Some(t),
        Err(_) => {
            errors.push(FieldError::new(
                "org_type",
                if raw.trim().is_empty() {
                    "required"
                } else {
                    "invalid"
                },
            ));
            None
        }
    }
}

/// Creates an organisation (validated, audited).
pub async fn create(store: &dyn Store, audit: &AuditCtx, input: &NewOrg) -> AppResult<Org> {
    let mut errors = Vec::new();
    let code = parse_code(&input.code, &mut errors);
    let name = text("name", &input.name, 200, &mut errors);
    let org_type = parse_type(&input.org_type, &mut errors);
    check(errors)?;
    let org_type = org_type.ok_or(AppError::Invalid(vec![]))?;
    let org = Org {
        id: Uuid::now_v7(),
        code,
        name,
        org_type: org_type.code().to_owned(),
        active: true,
        created_at: audit.at,
        updated_at: audit.at,
    };
    let ev = audit
        .event("org.create", Outcome::Success)
        .target("org", org.id)
        .org(Some(org.id))
        .detail(json!({ "code": org.code, "org_type": org.org_type }));
    store.create_org(&org, &ev).await?;
    Ok(org)
}

/// Updates name, type and status; the audit entry names the fields that changed.
pub async fn update(
    store: &dyn Store,
    audit: &AuditCtx,
    id: Uuid,
    change: &OrgChange,
) -> AppResult<Org> {
    let mut org = store.org(id).await?;
    let mut errors = Vec::new();
    let name = text("name", &change.name, 200, &mut errors);
    let org_type = parse_type(&change.org_type, &mut errors);
    check(errors)?;
    let org_type = org_type.ok_or(AppError::Invalid(vec![]))?.code().to_owned();
    let active = change.active.is_some();
    let mut changed = Vec::new();
    if name != org.name {
        changed.push("name");
    }
    if org_type != org.org_type {
        changed.push("org_type");
    }
    if active != org.active {
        changed.push("active");
    }
    org.name = name;
    org.org_type = org_type;
    org.active = active;
    org.updated_at = audit.at;
    let ev = audit
        .event("org.update", Outcome::Success)
        .target("org", org.id)
        .org(Some(org.id))
        .detail(json!({ "fields": changed }));
    store.update_org(&org, &ev).await?;
    Ok(org)
}

fn org_json(o: &OrgSummary) -> serde_json::Value {
    json!({
        "id": o.org.id,
        "code": o.org.code,
        "name": o.org.name,
        "org_type": o.org.org_type,
        "active": o.org.active,
        "user_count": o.user_count,
        "created_at": when(o.org.created_at),
    })
}

fn types() -> Vec<&'static str> {
    OrgType::ALL.iter().map(|t| t.code()).collect()
}

async fn list_page(
    st: &AppState,
    s: &SignedIn,
    status: StatusCode,
    extra: serde_json::Value,
) -> AppResult<Response> {
    let orgs: Vec<_> = st.store.orgs().await?.iter().map(org_json).collect();
    let data = crate::web::merge(json!({ "orgs": orgs, "org_types": types() }), extra);
    Ok(st.web.render_status(&s.ctx, status, "orgs.html", data))
}

/// `GET /admin/orgs`
pub async fn list(State(st): State<AppState>, s: SignedIn) -> AppResult<Response> {
    require(
        &st,
        &s.ctx.audit(st.clock.now()),
        &s.actor,
        Action::ViewOrgs,
        &s.ctx.path,
    )
    .await?;
    list_page(&st, &s, StatusCode::OK, json!({})).await
}

/// `POST /admin/orgs`
pub async fn create_form(
    State(st): State<AppState>,
    s: SignedIn,
    Form(f): Form<NewOrg>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ManageOrgs, &s.ctx.path).await?;
    match create(st.store.as_ref(), &audit, &f).await {
        Ok(_) => Ok(Redirect::to("/admin/orgs?notice=org_created").into_response()),
        Err(e) => match st.web.form_errors(s.ctx.lang, &e) {
            Some((status, errors)) => list_page(&st, &s, status, json!({ "errors": errors, "form": { "code": f.code, "name": f.name, "org_type": f.org_type } })).await,
            None => Err(e),
        },
    }
}

async fn org_page(
    st: &AppState,
    s: &SignedIn,
    id: Uuid,
    status: StatusCode,
    extra: serde_json::Value,
) -> AppResult<Response> {
    let org = st
        .store
        .orgs()
        .await?
        .into_iter()
        .find(|o| o.org.id == id)
        .ok_or(AppError::NotFound)?;
    let data = crate::web::merge(
        json!({ "org": org_json(&org), "org_types": types() }),
        extra,
    );
    Ok(st.web.render_status(&s.ctx, status, "org.html", data))
}

/// `GET /admin/orgs/{id}`
pub async fn show(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    require(
        &st,
        &s.ctx.audit(st.clock.now()),
        &s.actor,
        Action::ViewOrgs,
        &s.ctx.path,
    )
    .await?;
    org_page(&st, &s, id, StatusCode::OK, json!({})).await
}

/// `POST /admin/orgs/{id}`
pub async fn update_form(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
    Form(f): Form<OrgChange>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ManageOrgs, &s.ctx.path).await?;
    match update(st.store.as_ref(), &audit, id, &f).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/orgs/{id}?notice=org_updated")).into_response()),
        Err(e) => match st.web.form_errors(s.ctx.lang, &e) {
            Some((status, errors)) => org_page(&st, &s, id, status, json!({ "errors": errors, "form": { "name": f.name, "org_type": f.org_type, "active": f.active.is_some() } })).await,
            None => Err(e),
        },
    }
}
