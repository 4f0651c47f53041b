//! API tokens: shown once, stored hashed, scoped to their user, expiring, revocable.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Duration;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{check, deny, require, text, when, when_opt};
use crate::app::AppState;
use crate::audit::{AuditCtx, Outcome};
use crate::auth::new_token;
use crate::authz::{Action, Actor};
use crate::error::{AppError, AppResult, FieldError};
use crate::store::{ApiToken, Store, TokenScope, TokenSummary};
use crate::web::SignedIn;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct NewToken {
    pub name: String,
    pub expires_days: String,
}

/// Creates a token for `user_id`; returns the token text (shown once) and its record.
pub async fn create(
    store: &dyn Store,
    audit: &AuditCtx,
    user_id: Uuid,
    input: &NewToken,
    max_days: u32,
) -> AppResult<(String, ApiToken)> {
    let mut errors = Vec::new();
    let name = text("name", &input.name, 100, &mut errors);
    let days = match input.expires_days.trim().parse::<u32>() {
        Ok(d) if (1..=max_days).contains(&d) => d,
        _ => {
            errors.push(FieldError::new("expires_days", "days_out_of_range"));
            0
        }
    };
    check(errors)?;
    let user = store.user(user_id).await?;
    let (token, hash, prefix) = new_token();
    let t = ApiToken {
        id: Uuid::now_v7(),
        user_id,
        name,
        prefix,
        token_hash: hash,
        created_at: audit.at,
        expires_at: audit.at + Duration::days(i64::from(days)),
        last_used_at: None,
        revoked_at: None,
    };
    let ev = audit
        .event("token.create", Outcome::Success)
        .target("token", t.id)
        .org(user.org_id)
        .detail(json!({ "user_id": user_id, "expires_days": days }));
    store.create_token(&t, &ev).await?;
    Ok((token, t))
}

/// Revokes token `id`. `actor` (None for the shell) must own it or be allowed to revoke
/// tokens of its owner's organisation.
pub async fn revoke(
    store: &dyn Store,
    audit: &AuditCtx,
    actor: Option<&Actor>,
    id: Uuid,
) -> AppResult<()> {
    let t = store.token(id).await?;
    if let Some(a) = actor {
        let own = t.token.user_id == a.user_id;
        let may_revoke_others = a.can(Action::RevokeAnyToken) && a.in_scope(t.org_id);
        if !own && !may_revoke_others {
            return Err(AppError::NotFound);
        }
    }
    if t.token.revoked_at.is_some() {
        return Err(AppError::Invalid(vec![FieldError::new(
            "token",
            "already_revoked",
        )]));
    }
    let ev = audit
        .event("token.revoke", Outcome::Success)
        .target("token", id)
        .org(t.org_id)
        .detail(json!({ "user_id": t.token.user_id }));
    store.revoke_token(id, audit.at, &ev).await?;
    Ok(())
}

pub fn token_json(t: &TokenSummary, now: chrono::DateTime<chrono::Utc>) -> serde_json::Value {
    json!({
        "id": t.token.id,
        "name": t.token.name,
        "prefix": t.token.prefix,
        "username": t.username,
        "created_at": when(t.token.created_at),
        "expires_at": when(t.token.expires_at),
        "last_used_at": when_opt(t.token.last_used_at),
        "revoked_at": when_opt(t.token.revoked_at),
        "active": t.token.revoked_at.is_none() && t.token.expires_at > now,
    })
}

/// The tokens `actor` sees: their own, and those they may revoke.
async fn visible(store: &dyn Store, actor: &Actor) -> AppResult<Vec<TokenSummary>> {
    let scope = if !actor.can(Action::RevokeAnyToken) {
        TokenScope::User(actor.user_id)
    } else if actor.role.is_node_wide() {
        TokenScope::All
    } else {
        match actor.org_id {
            Some(o) => TokenScope::Org(o),
            None => TokenScope::User(actor.user_id),
        }
    };
    Ok(store.tokens(scope).await?)
}

async fn page(
    st: &AppState,
    s: &SignedIn,
    status: StatusCode,
    extra: serde_json::Value,
) -> AppResult<Response> {
    let now = st.clock.now();
    let tokens: Vec<_> = visible(st.store.as_ref(), &s.actor)
        .await?
        .iter()
        .map(|t| token_json(t, now))
        .collect();
    let data = crate::web::merge(
        json!({ "tokens": tokens, "new_token": null, "form": { "expires_days": "90" } }),
        extra,
    );
    Ok(st.web.render_status(&s.ctx, status, "tokens.html", data))
}

/// `GET /tokens`
pub async fn list(State(st): State<AppState>, s: SignedIn) -> AppResult<Response> {
    require(
        &st,
        &s.ctx.audit(st.clock.now()),
        &s.actor,
        Action::ManageOwnTokens,
        &s.ctx.path,
    )
    .await?;
    page(&st, &s, StatusCode::OK, json!({})).await
}

/// `POST /tokens`
pub async fn create_form(
    State(st): State<AppState>,
    s: SignedIn,
    Form(f): Form<NewToken>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ManageOwnTokens, &s.ctx.path).await?;
    match create(
        st.store.as_ref(),
        &audit,
        s.actor.user_id,
        &f,
        st.config.security.token_max_days,
    )
    .await
    {
        Ok((token, _)) => page(&st, &s, StatusCode::CREATED, json!({ "new_token": token })).await,
        Err(e) => match st.web.form_errors(s.ctx.lang, &e) {
            Some((status, errors)) => page(&st, &s, status, json!({ "errors": errors, "form": { "name": f.name, "expires_days": f.expires_days } })).await,
            None => Err(e),
        },
    }
}

/// `POST /tokens/{id}/revoke`
pub async fn revoke_form(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ManageOwnTokens, &s.ctx.path).await?;
    match revoke(st.store.as_ref(), &audit, Some(&s.actor), id).await {
        Ok(()) => Ok(Redirect::to("/tokens?notice=token_revoked").into_response()),
        Err(AppError::NotFound) => {
            deny(&st, &audit, "revoke_token", &s.ctx.path).await?;
            Err(AppError::NotFound)
        }
        Err(e) => Err(e),
    }
}
