//! Administration of the node's tenants and accounts: organisations ([`orgs`]), users
//! ([`users`]), API tokens ([`tokens`]) and the roles page, as pages, JSON API ([`api`]) and
//! the operations the CLI shares with them.
//!
//! Each operation is a function over the store that validates its input, writes the change
//! together with its audit entry, and returns a typed result; pages, API and CLI differ only
//! in who is allowed to call it (checked by the caller through `authz`).

pub mod api;
pub mod orgs;
pub mod tokens;
pub mod users;

use axum::extract::State;
use axum::response::Response;
use serde_json::json;

use crate::app::AppState;
use crate::audit::{AuditCtx, Outcome};
use crate::authz::{role_allows, Action, Actor, Role};
use crate::error::{AppError, AppResult, FieldError};
use crate::web::SignedIn;

/// Checks `action` for `actor`; a refusal is audited (`access.denied`) before it is returned.
pub async fn require(
    st: &AppState,
    audit: &AuditCtx,
    actor: &Actor,
    action: Action,
    path: &str,
) -> AppResult<()> {
    if actor.can(action) {
        return Ok(());
    }
    deny(st, audit, action.code(), path).await?;
    Err(AppError::Forbidden(action))
}

/// Audits a refused access to `path` (`what` names the action or the reason).
pub async fn deny(st: &AppState, audit: &AuditCtx, what: &str, path: &str) -> AppResult<()> {
    let ev = audit
        .event("access.denied", Outcome::Denied)
        .detail(json!({ "action": what, "path": path }));
    st.store.append_audit(&ev).await?;
    Ok(())
}

/// A trimmed, required text of at most `max` characters.
pub fn text(field: &'static str, value: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.push(FieldError::new(field, "required"));
    } else if v.chars().count() > max {
        errors.push(FieldError::new(field, "too_long"));
    } else if v.chars().any(char::is_control) {
        errors.push(FieldError::new(field, "invalid"));
    }
    v.to_owned()
}

/// `Err(Invalid)` when there are errors.
pub fn check(errors: Vec<FieldError>) -> AppResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// `GET /admin/roles`: what each role may do, from the permission table itself.
pub async fn roles_page(State(st): State<AppState>, s: SignedIn) -> AppResult<Response> {
    require(
        &st,
        &s.ctx.audit(st.clock.now()),
        &s.actor,
        Action::ViewRoles,
        &s.ctx.path,
    )
    .await?;
    let actions: Vec<_> = Action::ALL
        .iter()
        .map(|a| {
            let allowed: serde_json::Map<String, serde_json::Value> = Role::ALL
                .iter()
                .map(|r| (r.code().to_owned(), json!(role_allows(*r, *a))))
                .collect();
            json!({ "code": a.code(), "allowed": allowed })
        })
        .collect();
    let here = crate::admin::users::roles_of(st.store.schema());
    let roles: Vec<_> = Role::ALL
        .iter()
        .filter(|r| here.contains(r))
        .map(|r| r.code())
        .collect();
    Ok(st.web.render(
        &s.ctx,
        "roles.html",
        json!({ "roles": roles, "actions": actions }),
    ))
}

/// Formats a timestamp for pages: `2026-11-30 14:05 UTC`.
pub fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub fn when_opt(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(when)
}
