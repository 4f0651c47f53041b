//! The JSON API (`/api/v1`) for administration, authenticated by API tokens. Errors are
//! `{"error": "<snake_case code>", "fields": [{"field", "code"}]}`.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::orgs::NewOrg;
use super::require;
use crate::app::AppState;
use crate::auth::ApiActor;
use crate::authz::Action;
use crate::error::{AppError, AppResult, FieldError};

/// A JSON body, or a clear error naming what is wrong with it.
fn body<T>(r: Result<Json<T>, JsonRejection>) -> AppResult<T> {
    match r {
        Ok(Json(v)) => Ok(v),
        Err(e) => {
            let text = e.body_text();
            // serde's message names the unknown or missing field between backticks.
            let field = text.split('`').nth(1).unwrap_or("body").to_owned();
            if text.contains("unknown field") {
                Err(AppError::UnknownField(field))
            } else {
                Err(AppError::Invalid(vec![FieldError::new(field, "malformed")]))
            }
        }
    }
}

/// `GET /api/v1/me`
pub async fn me(State(st): State<AppState>, a: ApiActor) -> AppResult<Response> {
    let user = st.store.user(a.actor.user_id).await?;
    Ok(Json(json!({
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.code(),
        "org_id": user.org_id,
    }))
    .into_response())
}

/// `GET /api/v1/orgs`
pub async fn orgs(State(st): State<AppState>, a: ApiActor) -> AppResult<Response> {
    require(&st, &a.audit, &a.actor, Action::ViewOrgs, "/api/v1/orgs").await?;
    let orgs = st.store.orgs().await?;
    Ok(Json(json!({ "items": orgs })).into_response())
}

/// `POST /api/v1/orgs`
pub async fn create_org(
    State(st): State<AppState>,
    a: ApiActor,
    input: Result<Json<NewOrg>, JsonRejection>,
) -> AppResult<Response> {
    require(&st, &a.audit, &a.actor, Action::ManageOrgs, "/api/v1/orgs").await?;
    let input = body(input)?;
    let org = super::orgs::create(st.store.as_ref(), &a.audit, &input).await?;
    Ok((StatusCode::CREATED, Json(org)).into_response())
}

/// `GET /api/v1/users`
pub async fn users(State(st): State<AppState>, a: ApiActor) -> AppResult<Response> {
    require(&st, &a.audit, &a.actor, Action::ViewUsers, "/api/v1/users").await?;
    let users: Vec<_> = super::users::visible(st.store.as_ref(), &a.actor)
        .await?
        .into_iter()
        .map(|u| {
            json!({
                "id": u.id,
                "username": u.username,
                "display_name": u.display_name,
                "role": u.role.code(),
                "org_id": u.org_id,
                "disabled": u.disabled,
                "totp_enabled": u.totp_enabled,
            })
        })
        .collect();
    Ok(Json(json!({ "items": users })).into_response())
}
