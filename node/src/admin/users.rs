//! User accounts: creation with a temporary password, roles, disabling, resets.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{check, deny, require, text, when, when_opt};
use crate::app::AppState;
use crate::audit::{AuditCtx, Outcome};
use crate::auth::password;
use crate::auth::routes::{hash_password, normalise_username};
use crate::authz::{Action, Actor, Role};
use crate::error::{AppError, AppResult, FieldError};
use crate::store::{Store, TokenScope, User, UserSummary};
use crate::web::SignedIn;

/// Input for a new user.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    /// An organisation id, or empty for none.
    pub org_id: String,
    pub role: String,
}

/// A role (and organisation) change.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct RoleChange {
    pub role: String,
    pub org_id: String,
}

/// Usernames: 3–64 of `a-z 0-9 . _ -`, starting with a letter or digit.
pub fn parse_username(raw: &str, errors: &mut Vec<FieldError>) -> String {
    let u = normalise_username(raw);
    let ok = (3..=64).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        && u.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if u.is_empty() {
        errors.push(FieldError::new("username", "required"));
    } else if !ok {
        errors.push(FieldError::new("username", "username_format"));
    }
    u
}

/// The roles a node of `schema` has: a country node's ([`Role::NODE`]) or a regional hub's
/// ([`Role::HUB`]): a country node has no `hub_viewer`, a hub no case roles.
pub fn roles_of(schema: crate::store::Schema) -> &'static [Role] {
    match schema {
        crate::store::Schema::Node => &Role::NODE,
        crate::store::Schema::Hub => &Role::HUB,
    }
}

fn parse_role(raw: &str, allowed: &[Role], errors: &mut Vec<FieldError>) -> Option<Role> {
    match raw.trim().parse::<Role>() {
        Ok(r) if allowed.contains(&r) => Some(r),
        Ok(_) => {
            errors.push(FieldError::new("role", "role_not_in_mode"));
            None
        }
        Err(_) => {
            errors.push(FieldError::new(
                "role",
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

/// The organisation of a role: required for organisation roles, refused for node-wide ones.
async fn parse_org(
    store: &dyn Store,
    raw: &str,
    role: Option<Role>,
    errors: &mut Vec<FieldError>,
) -> AppResult<Option<Uuid>> {
    let raw = raw.trim();
    let org = if raw.is_empty() {
        None
    } else {
        match raw.parse::<Uuid>() {
            Ok(id) => match store.org(id).await {
                Ok(o) if o.active => Some(o.id),
                Ok(_) => {
                    errors.push(FieldError::new("org_id", "org_inactive"));
                    None
                }
                Err(crate::store::StoreError::NotFound) => {
                    errors.push(FieldError::new("org_id", "invalid"));
                    None
                }
                Err(e) => return Err(e.into()),
            },
            Err(_) => {
                errors.push(FieldError::new("org_id", "invalid"));
                None
            }
        }
    };
    match role {
        Some(r)
            if !r.is_node_wide()
                && org.is_none()
                && !errors.iter().any(|e| e.field == "org_id") =>
        {
            errors.push(FieldError::new("org_id", "org_required_for_role"));
        }
        Some(r) if r.is_node_wide() && org.is_some() => {
            errors.push(FieldError::new("org_id", "org_not_for_role"))
        }
        _ => {}
    }
    Ok(org)
}

/// Creates a user. With no `initial_password` a temporary one is made and returned, which the
/// user must change at first log-in; an operator-chosen password (from the shell) is not
/// forced to change. `actor` (None for the node operator at the shell) must be
/// allowed to give the role in the organisation. Returns the user and the temporary password.
pub async fn create(
    store: &dyn Store,
    audit: &AuditCtx,
    actor: Option<&Actor>,
    input: &NewUser,
    initial_password: Option<String>,
) -> AppResult<(User, Option<String>)> {
    let mut errors = Vec::new();
    let username = parse_username(&input.username, &mut errors);
    let display_name = text("display_name", &input.display_name, 200, &mut errors);
    let role = parse_role(&input.role, roles_of(store.schema()), &mut errors);
    let org_id = parse_org(store, &input.org_id, role, &mut errors).await?;
    if let Some(p) = &initial_password {
        if let Err(code) = password::check_policy(p, &username) {
            errors.push(FieldError::new("password", code));
        }
    }
    check(errors)?;
    let role = role.ok_or(AppError::Invalid(vec![]))?;
    if let Some(a) = actor {
        if !a.may_manage(role, org_id) {
            return Err(AppError::OutOfScope);
        }
    }
    let temporary = initial_password.is_none().then(password::temporary);
    let pw = initial_password
        .or_else(|| temporary.clone())
        .unwrap_or_default();
    let user = User {
        id: Uuid::now_v7(),
        username,
        display_name,
        org_id,
        role,
        password_hash: hash_password(pw).await?,
        must_change_password: temporary.is_some(),
        totp_secret: None,
        disabled: false,
        failed_logins: 0,
        locked_until: None,
        language: None,
        created_at: audit.at,
        updated_at: audit.at,
        last_login_at: None,
        totp_last_step: None,
    };
    let ev = audit
        .event("user.create", Outcome::Success)
        .target("user", user.id)
        .org(user.org_id)
        .detail(json!({ "username": user.username, "role": role.code() }));
    store.create_user(&user, &ev).await?;
    Ok((user, temporary))
}

/// The administrative changes to an existing user.
#[derive(Debug, Clone)]
pub enum Change {
    Role {
        role: String,
        org_id: String,
    },
    Disable,
    Enable,
    /// A new temporary password; ends sessions, clears a lock.
    ResetPassword,
    /// Removes the second factor and recovery codes; the user enrols again at next log-in.
    ResetTotp,
}

/// Applies `change` to user `id`. `actor` (None for the shell) must manage the user as they
/// are and, for a role change, as they will be. Returns the temporary password of a reset.
pub async fn apply(
    store: &dyn Store,
    audit: &AuditCtx,
    actor: Option<&Actor>,
    id: Uuid,
    change: Change,
) -> AppResult<Option<String>> {
    let mut user = store.user(id).await?;
    if let Some(a) = actor {
        if !a.may_manage(user.role, user.org_id) {
            return Err(AppError::OutOfScope);
        }
        if a.user_id == user.id && !matches!(change, Change::ResetTotp) {
            return Err(AppError::Invalid(vec![FieldError::new(
                "user",
                "cannot_change_self",
            )]));
        }
    }
    let now = audit.at;
    user.updated_at = now;
    let mut temp = None;
    let (action, detail) = match change {
        Change::Role { role, org_id } => {
            let mut errors = Vec::new();
            let role = parse_role(&role, roles_of(store.schema()), &mut errors);
            let org = parse_org(store, &org_id, role, &mut errors).await?;
            check(errors)?;
            let role = role.ok_or(AppError::Invalid(vec![]))?;
            if let Some(a) = actor {
                if !a.may_manage(role, org) {
                    return Err(AppError::OutOfScope);
                }
            }
            let detail = json!({ "from_role": user.role.code(), "to_role": role.code(), "org_changed": org != user.org_id });
            user.role = role;
            user.org_id = org;
            ("user.role_change", detail)
        }
        Change::Disable => {
            user.disabled = true;
            ("user.disable", json!({}))
        }
        Change::Enable => {
            user.disabled = false;
            ("user.enable", json!({}))
        }
        Change::ResetPassword => {
            let t = password::temporary();
            user.password_hash = hash_password(t.clone()).await?;
            user.must_change_password = true;
            user.failed_logins = 0;
            user.locked_until = None;
            temp = Some(t);
            ("user.reset_password", json!({}))
        }
        Change::ResetTotp => {
            let ev = audit
                .event("user.reset_totp", Outcome::Success)
                .target("user", user.id)
                .org(user.org_id);
            store.set_totp(user.id, None, &[], now, &ev).await?;
            store.delete_user_sessions(user.id).await?;
            return Ok(None);
        }
    };
    let ev = audit
        .event(action, Outcome::Success)
        .target("user", user.id)
        .org(user.org_id)
        .detail(detail);
    store.update_user(&user, &ev).await?;
    if matches!(
        action,
        "user.disable" | "user.reset_password" | "user.role_change"
    ) {
        // Whatever the user could do before, they must sign in again to do it now.
        store.delete_user_sessions(user.id).await?;
    }
    Ok(temp)
}

fn summary_json(u: &UserSummary, now: chrono::DateTime<chrono::Utc>) -> serde_json::Value {
    json!({
        "id": u.id,
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role.code(),
        "org_id": u.org_id,
        "org_name": u.org_name,
        "disabled": u.disabled,
        "locked": u.locked_until.is_some_and(|t| t > now),
        "totp_enabled": u.totp_enabled,
        "must_change_password": u.must_change_password,
        "created_at": when(u.created_at),
        "last_login_at": when_opt(u.last_login_at),
    })
}

/// The users `actor` may see.
pub async fn visible(store: &dyn Store, actor: &Actor) -> AppResult<Vec<UserSummary>> {
    if actor.role.is_node_wide() {
        Ok(store.users(None).await?)
    } else {
        match actor.org_id {
            Some(org) => Ok(store.users(Some(org)).await?),
            None => Ok(Vec::new()),
        }
    }
}

async fn form_choices(
    st: &AppState,
    actor: &Actor,
) -> AppResult<(Vec<serde_json::Value>, Vec<&'static str>)> {
    let orgs = st
        .store
        .orgs()
        .await?
        .into_iter()
        .filter(|o| o.org.active && actor.in_scope(Some(o.org.id)))
        .map(|o| json!({ "id": o.org.id, "name": o.org.name }))
        .collect();
    let here = roles_of(st.store.schema());
    let roles = Role::ALL
        .into_iter()
        .filter(|r| here.contains(r))
        .filter(|r| {
            actor.may_manage(
                *r,
                if r.is_node_wide() {
                    None
                } else {
                    actor.org_id.or(Some(Uuid::nil()))
                },
            )
        })
        .map(Role::code)
        .collect();
    Ok((orgs, roles))
}

async fn list_page(
    st: &AppState,
    s: &SignedIn,
    status: StatusCode,
    extra: serde_json::Value,
) -> AppResult<Response> {
    let now = st.clock.now();
    let users: Vec<_> = visible(st.store.as_ref(), &s.actor)
        .await?
        .iter()
        .map(|u| summary_json(u, now))
        .collect();
    let (orgs, roles) = form_choices(st, &s.actor).await?;
    let data = crate::web::merge(
        json!({ "users": users, "orgs": orgs, "roles": roles }),
        extra,
    );
    Ok(st.web.render_status(&s.ctx, status, "users.html", data))
}

/// `GET /admin/users`
pub async fn list(State(st): State<AppState>, s: SignedIn) -> AppResult<Response> {
    require(
        &st,
        &s.ctx.audit(st.clock.now()),
        &s.actor,
        Action::ViewUsers,
        &s.ctx.path,
    )
    .await?;
    list_page(&st, &s, StatusCode::OK, json!({})).await
}

/// `POST /admin/users`
pub async fn create_form(
    State(st): State<AppState>,
    s: SignedIn,
    Form(f): Form<NewUser>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ManageUsers, &s.ctx.path).await?;
    let form = json!({ "username": f.username, "display_name": f.display_name, "org_id": f.org_id, "role": f.role });
    match create(st.store.as_ref(), &audit, Some(&s.actor), &f, None).await {
        Ok((user, temp)) => user_page(&st, &s, user.id, StatusCode::CREATED, json!({ "temp_password": temp, "notice": st.web.tr(s.ctx.lang, "msg-notice-user_created") })).await,
        Err(AppError::OutOfScope) => {
            deny(&st, &audit, "assign_role", &s.ctx.path).await?;
            Err(AppError::OutOfScope)
        }
        Err(e) => match st.web.form_errors(s.ctx.lang, &e) {
            Some((status, errors)) => list_page(&st, &s, status, json!({ "errors": errors, "form": form })).await,
            None => Err(e),
        },
    }
}

/// The user `id` if `actor` may see them; otherwise not found (existence is not revealed).
async fn visible_user(st: &AppState, actor: &Actor, id: Uuid) -> AppResult<UserSummary> {
    visible(st.store.as_ref(), actor)
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or(AppError::NotFound)
}

async fn user_page(
    st: &AppState,
    s: &SignedIn,
    id: Uuid,
    status: StatusCode,
    extra: serde_json::Value,
) -> AppResult<Response> {
    let now = st.clock.now();
    let subject = visible_user(st, &s.actor, id).await?;
    let (orgs, roles) = form_choices(st, &s.actor).await?;
    let tokens: Vec<_> = st
        .store
        .tokens(TokenScope::User(id))
        .await?
        .iter()
        .map(|t| super::tokens::token_json(t, now))
        .collect();
    let data = crate::web::merge(
        json!({
            "subject": summary_json(&subject, now),
            "orgs": orgs,
            "roles": roles,
            "tokens": tokens,
            "temp_password": null,
        }),
        extra,
    );
    Ok(st.web.render_status(&s.ctx, status, "user.html", data))
}

/// `GET /admin/users/{id}`
pub async fn show(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    require(
        &st,
        &s.ctx.audit(st.clock.now()),
        &s.actor,
        Action::ViewUsers,
        &s.ctx.path,
    )
    .await?;
    user_page(&st, &s, id, StatusCode::OK, json!({})).await
}

/// `POST /admin/users/{id}/{change}` with `change` one of `role`, `disable`, `enable`,
/// `reset-password`, `reset-totp`.
pub async fn change_form(
    State(st): State<AppState>,
    s: SignedIn,
    Path((id, kind)): Path<(Uuid, String)>,
    Form(f): Form<RoleChange>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ManageUsers, &s.ctx.path).await?;
    visible_user(&st, &s.actor, id).await?;
    let change = match kind.as_str() {
        "role" => Change::Role {
            role: f.role.clone(),
            org_id: f.org_id.clone(),
        },
        "disable" => Change::Disable,
        "enable" => Change::Enable,
        "reset-password" => Change::ResetPassword,
        "reset-totp" => Change::ResetTotp,
        _ => return Err(AppError::NotFound),
    };
    match apply(st.store.as_ref(), &audit, Some(&s.actor), id, change).await {
        Ok(Some(temp)) => user_page(&st, &s, id, StatusCode::OK, json!({ "temp_password": temp, "notice": st.web.tr(s.ctx.lang, "msg-notice-password_reset") })).await,
        Ok(None) => Ok(Redirect::to(&format!("/admin/users/{id}?notice=user_updated")).into_response()),
        Err(AppError::OutOfScope) => {
            deny(&st, &audit, "manage_user", &s.ctx.path).await?;
            Err(AppError::OutOfScope)
        }
        Err(e) => match st.web.form_errors(s.ctx.lang, &e) {
            Some((status, errors)) => user_page(&st, &s, id, status, json!({ "errors": errors, "form": { "role": f.role, "org_id": f.org_id } })).await,
            None => Err(e),
        },
    }
}
