//! Authentication: who is asking.
//!
//! - [`password`]: argon2id and the password policy.
//! - [`totp`]: the second factor and recovery codes.
//! - [`routes`]: log-in (password, then second factor), log-out, the account pages (change
//!   password, enrol the second factor) and the language switch.
//! - API tokens: [`ApiActor`] authenticates `Authorization: Bearer pte_…` requests; tokens
//!   are shown once, stored as SHA-256, scoped to one user, expiring and revocable
//!   (`admin::tokens` manages them).
//!
//! Sessions live server-side (`store::Session`); the browser holds only a random id in an
//! HttpOnly, SameSite=Strict cookie. Every failure here is audited.

pub mod password;
pub mod routes;
pub mod totp;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use serde_json::json;

use crate::app::AppState;
use crate::audit::{AuditCtx, Outcome};
use crate::authz::Actor;
use crate::crypto::{random_token, sha256_hex};
use crate::error::AppError;
use crate::store::StoreError;

/// Every API token starts with this, so leaked ones are easy to recognise and scan for.
pub const TOKEN_PREFIX: &str = "pte_";

/// A new token and what is stored of it (hash, display prefix).
pub fn new_token() -> (String, String, String) {
    let token = format!("{TOKEN_PREFIX}{}", random_token(32));
    let hash = sha256_hex(token.as_bytes());
    let prefix: String = token.chars().take(12).collect();
    (token, hash, prefix)
}

/// The user an API request acts for, authenticated by a bearer token.
#[derive(Debug, Clone)]
pub struct ApiActor {
    pub actor: Actor,
    pub audit: AuditCtx,
}

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let now = st.clock.now();
        let ip = parts
            .extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let anon = AuditCtx {
            at: now,
            actor_id: None,
            actor: "anonymous".into(),
            org_id: None,
            ip: ip.clone(),
            request_id: request_id.clone(),
        };
        let Some(token) = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
        else {
            return Err(AppError::Unauthenticated);
        };
        let path = parts.uri.path().to_owned();
        let refuse = |reason: &'static str, ctx: AuditCtx| async move {
            let ev = ctx
                .event("auth.token_rejected", Outcome::Denied)
                .detail(json!({ "reason": reason, "path": path }));
            st.store.append_audit(&ev).await?;
            Err::<ApiActor, _>(AppError::Unauthenticated)
        };
        let t = match st.store.token_by_hash(&sha256_hex(token.as_bytes())).await {
            Ok(t) => t,
            Err(StoreError::NotFound) => return refuse("unknown", anon).await,
            Err(e) => return Err(e.into()),
        };
        let user = st.store.user(t.user_id).await?;
        let ctx = AuditCtx {
            actor_id: Some(user.id),
            actor: user.username.clone(),
            org_id: user.org_id,
            ..anon
        };
        if t.revoked_at.is_some() {
            return refuse("revoked", ctx).await;
        }
        if t.expires_at <= now {
            return refuse("expired", ctx).await;
        }
        if user.disabled {
            return refuse("user_disabled", ctx).await;
        }
        if t.last_used_at
            .is_none_or(|at| now - at >= chrono::Duration::minutes(1))
        {
            st.store.touch_token(t.id, now).await?;
        }
        Ok(ApiActor {
            actor: Actor {
                user_id: user.id,
                username: user.username,
                role: user.role,
                org_id: user.org_id,
            },
            audit: ctx,
        })
    }
}
