//! Log-in, second factor, log-out, account pages and the language switch.

use std::net::IpAddr;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Duration;
use serde::Deserialize;
use serde_json::json;

use super::{password, totp};
use crate::app::AppState;
use crate::audit::Outcome;
use crate::crypto::FieldRef;
use crate::error::{AppError, AppResult};
use crate::store::{Session, SessionStage, StoreError, User};
use crate::web::{cookie, new_session, Ctx, Lang, SignedIn, LANG_COOKIE, SESSION_COOKIE};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    pub code: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    pub current_password: String,
    pub new_password: String,
    pub confirm_password: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LangForm {
    pub lang: String,
}

/// Usernames are compared lower-case and trimmed.
pub fn normalise_username(s: &str) -> String {
    s.trim().to_lowercase()
}

/// An audit event about `user`'s own log-in, with them as the actor (the request is not
/// signed in yet, so `ctx` does not know them).
fn login_event(
    ctx: &Ctx,
    user: &User,
    now: chrono::DateTime<chrono::Utc>,
    action: &str,
    outcome: Outcome,
) -> crate::audit::AuditEvent {
    let mut ev = ctx
        .audit(now)
        .event(action, outcome)
        .target("user", user.id)
        .org(user.org_id);
    ev.actor_id = Some(user.id);
    ev.actor.clone_from(&user.username);
    ev
}

/// Runs argon2 off the async threads.
async fn verify_password(pw: String, hash: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || password::verify(&pw, &hash))
        .await
        .map_err(AppError::internal)
}

pub async fn hash_password(pw: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

fn rate_limited(st: &AppState, ctx: &Ctx) -> bool {
    let ip: IpAddr = ctx
        .ip
        .as_deref()
        .and_then(|s| s.parse().ok())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    st.login_limiter.check_key(&ip).is_err()
}

fn session_cookie_response(st: &AppState, raw: &str, to: &str) -> Response {
    let mut resp = Redirect::to(to).into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, cookie(st, SESSION_COOKIE, raw, None));
    resp
}

fn stage_path(stage: SessionStage) -> &'static str {
    match stage {
        SessionStage::TotpPending => "/login/totp",
        SessionStage::TotpEnrolRequired => "/account/totp",
        SessionStage::PasswordChangeRequired => "/account/password",
        SessionStage::Full => "/",
    }
}

/// The step after the password for `user`.
fn after_password(st: &AppState, user: &User) -> SessionStage {
    if user.totp_secret.is_some() {
        SessionStage::TotpPending
    } else if user.role.requires_totp() || st.config.security.require_totp_for_all {
        SessionStage::TotpEnrolRequired
    } else {
        after_second_factor(user)
    }
}

fn after_second_factor(user: &User) -> SessionStage {
    if user.must_change_password {
        SessionStage::PasswordChangeRequired
    } else {
        SessionStage::Full
    }
}

/// Replaces the session by a new one at `stage` (a new id at every privilege change, against
/// session fixation). When `stage` is `Full`, records the completed log-in.
async fn advance(
    st: &AppState,
    ctx: &Ctx,
    old: Option<&Session>,
    user: &mut User,
    stage: SessionStage,
    factors: &str,
) -> AppResult<Response> {
    let (raw, _) = advance_session(st, ctx, old, user, stage, factors).await?;
    Ok(session_cookie_response(st, &raw, stage_path(stage)))
}

/// [`advance`] without the response: the new cookie value and session.
async fn advance_session(
    st: &AppState,
    ctx: &Ctx,
    old: Option<&Session>,
    user: &mut User,
    stage: SessionStage,
    factors: &str,
) -> AppResult<(String, Session)> {
    let now = st.clock.now();
    if let Some(old) = old {
        st.store.delete_session(&old.id_hash).await?;
    }
    let (raw, session) = new_session(st, user, stage, now);
    st.store.create_session(&session).await?;
    let (action, outcome) = if stage == SessionStage::Full {
        user.last_login_at = Some(now);
        ("auth.login", Outcome::Success)
    } else {
        ("auth.login_step", Outcome::Success)
    };
    user.failed_logins = 0;
    user.updated_at = now;
    let ev = login_event(ctx, user, now, action, outcome)
        .detail(json!({ "factors": factors, "next": stage.code() }));
    st.store.update_user(user, &ev).await?;
    Ok((raw, session))
}

/// Counts a failed attempt; locks the account at the threshold. Returns whether it locked.
async fn record_failure(
    st: &AppState,
    ctx: &Ctx,
    user: &mut User,
    action: &str,
    reason: &str,
) -> AppResult<bool> {
    let now = st.clock.now();
    user.failed_logins += 1;
    let locked =
        user.failed_logins >= i32::try_from(st.config.security.lockout_threshold).unwrap_or(5);
    if locked {
        user.locked_until =
            Some(now + Duration::minutes(i64::from(st.config.security.lockout_minutes)));
        user.failed_logins = 0;
    }
    user.updated_at = now;
    let ev = login_event(ctx, user, now, action, Outcome::Failure)
        .detail(json!({ "reason": reason, "locked": locked }));
    st.store.update_user(user, &ev).await?;
    Ok(locked)
}

fn login_page(
    st: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    username: &str,
    error_key: Option<&str>,
) -> Response {
    let error = error_key.map(|k| st.web.tr(ctx.lang, k));
    st.web.render_status(
        ctx,
        status,
        "login.html",
        json!({ "form": { "username": username }, "error": error }),
    )
}

/// `GET /login`
pub async fn login_form(State(st): State<AppState>, ctx: Ctx) -> Response {
    if ctx.actor().is_some() {
        return Redirect::to("/").into_response();
    }
    login_page(&st, &ctx, StatusCode::OK, "", None)
}

/// `POST /login`: the password step.
pub async fn login(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(f): Form<LoginForm>,
) -> AppResult<Response> {
    let now = st.clock.now();
    let username = normalise_username(&f.username);
    let shown: String = f.username.chars().take(64).collect();
    if rate_limited(&st, &ctx) {
        let ev = ctx
            .audit(now)
            .event("auth.rate_limited", Outcome::Denied)
            .detail(json!({ "step": "password" }));
        st.store.append_audit(&ev).await?;
        return Ok(login_page(
            &st,
            &ctx,
            StatusCode::TOO_MANY_REQUESTS,
            &shown,
            Some("msg-error-rate_limited"),
        ));
    }
    if username.is_empty() || f.password.is_empty() {
        let mut errors = Vec::new();
        if username.is_empty() {
            errors.push(crate::error::FieldError::new("username", "required"));
        }
        if f.password.is_empty() {
            errors.push(crate::error::FieldError::new("password", "required"));
        }
        let errors = st.web.field_errors(ctx.lang, &errors);
        return Ok(st.web.render_status(
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            "login.html",
            json!({ "form": { "username": shown }, "errors": errors }),
        ));
    }
    let failed = |st: &AppState, ctx: &Ctx| {
        login_page(
            st,
            ctx,
            StatusCode::UNAUTHORIZED,
            &shown,
            Some("msg-login-failed"),
        )
    };
    let mut user = match st.store.user_by_username(&username).await {
        Ok(u) => u,
        Err(StoreError::NotFound) => {
            // Same work as for a real user, so timing does not reveal which names exist.
            verify_password(f.password, password::dummy_hash().to_owned()).await?;
            let ev = ctx
                .audit(now)
                .event("auth.login_failed", Outcome::Failure)
                .detail(json!({ "reason": "unknown_user", "username": shown }));
            st.store.append_audit(&ev).await?;
            return Ok(failed(&st, &ctx));
        }
        Err(e) => return Err(e.into()),
    };
    if user.is_locked(now) {
        let ev = login_event(&ctx, &user, now, "auth.login_failed", Outcome::Denied)
            .detail(json!({ "reason": "locked" }));
        st.store.append_audit(&ev).await?;
        return Ok(failed(&st, &ctx));
    }
    if !verify_password(f.password, user.password_hash.clone()).await? {
        record_failure(&st, &ctx, &mut user, "auth.login_failed", "wrong_password").await?;
        return Ok(failed(&st, &ctx));
    }
    if user.disabled {
        let ev = login_event(&ctx, &user, now, "auth.login_failed", Outcome::Denied)
            .detail(json!({ "reason": "disabled" }));
        st.store.append_audit(&ev).await?;
        return Ok(failed(&st, &ctx));
    }
    let stage = after_password(&st, &user);
    advance(
        &st,
        &ctx,
        ctx.session.as_ref(),
        &mut user,
        stage,
        "password",
    )
    .await
}

/// `GET /login/totp`
pub async fn totp_form(State(st): State<AppState>, ctx: Ctx) -> Response {
    match ctx.session.as_ref().map(|s| s.stage) {
        Some(SessionStage::TotpPending) => st.web.render(&ctx, "login_totp.html", json!({})),
        _ => Redirect::to("/login").into_response(),
    }
}

/// `POST /login/totp`: the second factor (a TOTP code or a recovery code).
pub async fn totp_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(f): Form<CodeForm>,
) -> AppResult<Response> {
    let now = st.clock.now();
    let (Some(session), Some(mut user)) = (ctx.session.clone(), ctx.user.clone()) else {
        return Ok(Redirect::to("/login").into_response());
    };
    if session.stage != SessionStage::TotpPending {
        return Ok(Redirect::to(stage_path(session.stage)).into_response());
    }
    let retry = |st: &AppState, ctx: &Ctx, status: StatusCode, key: &str| {
        st.web.render_status(
            ctx,
            status,
            "login_totp.html",
            json!({ "error": st.web.tr(ctx.lang, key) }),
        )
    };
    if rate_limited(&st, &ctx) {
        let ev = ctx
            .audit(now)
            .event("auth.rate_limited", Outcome::Denied)
            .detail(json!({ "step": "totp" }));
        st.store.append_audit(&ev).await?;
        return Ok(retry(
            &st,
            &ctx,
            StatusCode::TOO_MANY_REQUESTS,
            "msg-error-rate_limited",
        ));
    }
    if user.is_locked(now) || user.disabled {
        st.store.delete_session(&session.id_hash).await?;
        return Ok(login_page(
            &st,
            &ctx,
            StatusCode::UNAUTHORIZED,
            "",
            Some("msg-login-failed"),
        ));
    }
    let secret = match user.totp_secret.as_deref() {
        Some(sealed) => open_totp(&st, &user, sealed)?,
        None => return Ok(Redirect::to("/login").into_response()),
    };
    let code = f.code.trim();
    let unix = u64::try_from(now.timestamp()).unwrap_or(0);
    let step = totp::matching_step(&secret, code, unix);
    let replayed = step.is_some() && step <= user.totp_last_step;
    let factor = if let (Some(step), false) = (step, replayed) {
        user.totp_last_step = Some(step);
        Some("password+totp")
    } else if code.len() >= 10
        && st
            .store
            .use_recovery_code(user.id, &totp::recovery_hash(code), now)
            .await?
    {
        Some("password+recovery_code")
    } else {
        None
    };
    match factor {
        Some(factors) => {
            let stage = after_second_factor(&user);
            advance(&st, &ctx, Some(&session), &mut user, stage, factors).await
        }
        None => {
            let reason = if replayed {
                "replayed_code"
            } else {
                "wrong_code"
            };
            if record_failure(&st, &ctx, &mut user, "auth.totp_failed", reason).await? {
                st.store.delete_session(&session.id_hash).await?;
                return Ok(login_page(
                    &st,
                    &ctx,
                    StatusCode::UNAUTHORIZED,
                    "",
                    Some("msg-login-failed"),
                ));
            }
            Ok(retry(
                &st,
                &ctx,
                StatusCode::UNAUTHORIZED,
                "msg-totp-failed",
            ))
        }
    }
}

/// Seals a second-factor secret for `user`'s row.
pub fn seal_totp(st: &AppState, user: &User, secret: &str) -> String {
    let row = user.id.to_string();
    st.data_key.seal(
        FieldRef {
            table: "users",
            row: &row,
            field: "totp_secret",
        },
        secret.as_bytes(),
    )
}

/// Opens `user`'s sealed second-factor secret.
fn open_totp(st: &AppState, user: &User, sealed: &str) -> AppResult<String> {
    let row = user.id.to_string();
    let plain = st
        .data_key
        .open(
            FieldRef {
                table: "users",
                row: &row,
                field: "totp_secret",
            },
            sealed,
        )
        .map_err(AppError::internal)?;
    Ok(String::from_utf8_lossy(&plain).into_owned())
}

/// `POST /logout`
pub async fn logout(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    if let (Some(s), Some(u)) = (&ctx.session, &ctx.user) {
        st.store.delete_session(&s.id_hash).await?;
        let ev = ctx
            .audit(st.clock.now())
            .event("auth.logout", Outcome::Success)
            .target("user", u.id);
        st.store.append_audit(&ev).await?;
    }
    let mut resp = Redirect::to("/login?notice=logged_out").into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, cookie(&st, SESSION_COOKIE, "", Some(0)));
    Ok(resp)
}

/// `GET /account`
pub async fn account(State(st): State<AppState>, s: SignedIn) -> AppResult<Response> {
    account_page(&st, &s.ctx, StatusCode::OK, json!({})).await
}

/// The account page with `extra` (a form's input and errors) on top.
async fn account_page(
    st: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    extra: serde_json::Value,
) -> AppResult<Response> {
    let user = ctx.user.as_ref().ok_or(AppError::Unauthenticated)?;
    let left = st.store.recovery_codes_left(user.id).await?;
    let notice_email = match st.config.smtp {
        Some(_) => st.store.notice_email(user.id).await?,
        None => None,
    };
    let data = json!({
        "totp_enabled": user.totp_secret.is_some(),
        "recovery_codes_left": left,
        "smtp": st.config.smtp.is_some(),
        "notice_email": notice_email,
    });
    Ok(st
        .web
        .render_status(ctx, status, "account.html", crate::web::merge(data, extra)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NoticeEmailForm {
    pub email: String,
    /// `save` (the default) or `remove`.
    pub action: String,
}

/// `POST /account/notice-email`: sets or removes the signed-in user's address for e-mail
/// notices (only where `[smtp]` is configured). The audit entry says which, never the
/// address.
pub async fn notice_email_submit(
    State(st): State<AppState>,
    s: SignedIn,
    Form(f): Form<NoticeEmailForm>,
) -> AppResult<Response> {
    if st.config.smtp.is_none() {
        return Err(AppError::NotFound);
    }
    let user = s.ctx.user.as_ref().ok_or(AppError::Unauthenticated)?;
    let now = st.clock.now();
    let event = |change: &str| {
        s.ctx
            .audit(now)
            .event("account.notice_email", Outcome::Success)
            .target("user", user.id)
            .org(user.org_id)
            .detail(json!({ "change": change }))
    };
    if f.action == "remove" {
        st.store
            .clear_notice_email(user.id, &event("removed"))
            .await?;
        return Ok(Redirect::to("/account?notice=notice_email_removed").into_response());
    }
    match crate::mail::check_address(&f.email) {
        Ok(address) => {
            st.store
                .set_notice_email(user.id, &address, now, &event("set"))
                .await?;
            Ok(Redirect::to("/account?notice=notice_email_saved").into_response())
        }
        Err(code) => {
            let errors = st
                .web
                .field_errors(s.ctx.lang, &[crate::error::FieldError::new("email", code)]);
            let shown: String = f
                .email
                .chars()
                .take(crate::mail::ADDRESS_MAX + 10)
                .collect();
            account_page(
                &st,
                &s.ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "form": { "email": shown }, "errors": errors }),
            )
            .await
        }
    }
}

/// The session and user of a request that may change its password or enrol a second
/// factor: fully signed in, or in the matching forced step.
fn partial(ctx: &Ctx, allowed: SessionStage) -> Result<(Session, User), Response> {
    match (&ctx.session, &ctx.user) {
        (Some(s), Some(u)) if s.stage == SessionStage::Full || s.stage == allowed => {
            Ok((s.clone(), u.clone()))
        }
        (Some(s), Some(_)) => Err(Redirect::to(stage_path(s.stage)).into_response()),
        _ => Err(Redirect::to("/login").into_response()),
    }
}

/// `GET /account/password`
pub async fn password_form(State(st): State<AppState>, ctx: Ctx) -> Response {
    match partial(&ctx, SessionStage::PasswordChangeRequired) {
        Ok((s, _)) => st.web.render(
            &ctx,
            "password.html",
            json!({ "forced": s.stage == SessionStage::PasswordChangeRequired }),
        ),
        Err(r) => r,
    }
}

/// `POST /account/password`
pub async fn password_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(f): Form<PasswordForm>,
) -> AppResult<Response> {
    let (session, mut user) = match partial(&ctx, SessionStage::PasswordChangeRequired) {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let forced = session.stage == SessionStage::PasswordChangeRequired;
    let mut errors = Vec::new();
    if !verify_password(f.current_password.clone(), user.password_hash.clone()).await? {
        errors.push(crate::error::FieldError::new(
            "current_password",
            "wrong_password",
        ));
    }
    if let Err(code) = password::check_policy(&f.new_password, &user.username) {
        errors.push(crate::error::FieldError::new("new_password", code));
    } else if f.new_password == f.current_password {
        errors.push(crate::error::FieldError::new(
            "new_password",
            "password_unchanged",
        ));
    }
    if f.confirm_password != f.new_password {
        errors.push(crate::error::FieldError::new(
            "confirm_password",
            "password_mismatch",
        ));
    }
    let now = st.clock.now();
    if !errors.is_empty() {
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        let ev = ctx
            .audit(now)
            .event("auth.password_change_failed", Outcome::Failure)
            .target("user", user.id)
            .detail(json!({ "fields": fields }));
        st.store.append_audit(&ev).await?;
        let errors = st.web.field_errors(ctx.lang, &errors);
        return Ok(st.web.render_status(
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            "password.html",
            json!({ "forced": forced, "errors": errors }),
        ));
    }
    user.password_hash = hash_password(f.new_password).await?;
    user.must_change_password = false;
    user.updated_at = now;
    let ev = ctx
        .audit(now)
        .event("auth.password_changed", Outcome::Success)
        .target("user", user.id);
    st.store.update_user(&user, &ev).await?;
    // Every other session of this user ends with the old password.
    st.store.delete_user_sessions(user.id).await?;
    if forced {
        return advance(&st, &ctx, None, &mut user, SessionStage::Full, "password").await;
    }
    let (raw, new) = new_session(&st, &user, SessionStage::Full, now);
    st.store.create_session(&new).await?;
    Ok(session_cookie_response(
        &st,
        &raw,
        "/account?notice=password_changed",
    ))
}

/// `GET /account/totp`: a new secret to enrol (kept sealed in the session until confirmed).
pub async fn totp_enrol_form(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let (mut session, user) = match partial(&ctx, SessionStage::TotpEnrolRequired) {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let secret = totp::new_secret();
    session.pending_totp = Some(st.data_key.seal(pending_ref(&session), secret.as_bytes()));
    st.store.update_session(&session).await?;
    Ok(enrol_page(
        &st,
        &ctx,
        &session,
        &user,
        &secret,
        StatusCode::OK,
        None,
    ))
}

fn pending_ref(session: &Session) -> FieldRef<'_> {
    FieldRef {
        table: "sessions",
        row: &session.id_hash,
        field: "pending_totp",
    }
}

fn enrol_page(
    st: &AppState,
    ctx: &Ctx,
    session: &Session,
    user: &User,
    secret: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let issuer = format!("Puente {}", st.config.country);
    let errors = error.map_or(json!({}), |key| json!({ "code": st.web.tr(ctx.lang, key) }));
    st.web.render_status(
        ctx,
        status,
        "totp_enrol.html",
        json!({
            "qr_svg": totp::qr_svg(secret, &user.username, &issuer),
            "secret": totp::grouped(secret),
            "required": session.stage == SessionStage::TotpEnrolRequired,
            "enrolled": user.totp_secret.is_some(),
            "errors": errors,
        }),
    )
}

/// `POST /account/totp`: confirms the enrolment with a code from the app.
pub async fn totp_enrol(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(f): Form<CodeForm>,
) -> AppResult<Response> {
    let (session, mut user) = match partial(&ctx, SessionStage::TotpEnrolRequired) {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let Some(sealed) = session.pending_totp.as_deref() else {
        return Ok(Redirect::to("/account/totp").into_response());
    };
    let secret = st
        .data_key
        .open(pending_ref(&session), sealed)
        .map_err(AppError::internal)?;
    let secret = String::from_utf8_lossy(&secret).into_owned();
    let now = st.clock.now();
    if !totp::check(
        &secret,
        &f.code,
        u64::try_from(now.timestamp()).unwrap_or(0),
    ) {
        let ev = ctx
            .audit(now)
            .event("auth.totp_enrol_failed", Outcome::Failure)
            .target("user", user.id);
        st.store.append_audit(&ev).await?;
        return Ok(enrol_page(
            &st,
            &ctx,
            &session,
            &user,
            &secret,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("msg-field-wrong_code"),
        ));
    }
    let (codes, hashes) = totp::recovery_codes();
    let sealed_user = seal_totp(&st, &user, &secret);
    let ev = ctx
        .audit(now)
        .event("auth.totp_enrolled", Outcome::Success)
        .target("user", user.id);
    st.store
        .set_totp(user.id, Some(&sealed_user), &hashes, now, &ev)
        .await?;
    user.totp_secret = Some(sealed_user);
    // A new session id: the privilege level changed, and the pending secret goes with the
    // old session.
    let (raw, new) = if session.stage == SessionStage::TotpEnrolRequired {
        let stage = after_second_factor(&user);
        advance_session(&st, &ctx, Some(&session), &mut user, stage, "password+totp").await?
    } else {
        st.store.delete_session(&session.id_hash).await?;
        let (raw, new) = new_session(&st, &user, SessionStage::Full, now);
        st.store.create_session(&new).await?;
        (raw, new)
    };
    // The recovery codes are shown now, once, in the new session.
    let next = stage_path(new.stage);
    let mut page_ctx = ctx.clone();
    page_ctx.csrf.clone_from(&new.csrf_token);
    page_ctx.session = Some(new);
    page_ctx.user = Some(user);
    let mut page = st.web.render(
        &page_ctx,
        "recovery_codes.html",
        json!({ "codes": codes, "next": next }),
    );
    page.headers_mut()
        .append(header::SET_COOKIE, cookie(&st, SESSION_COOKIE, &raw, None));
    Ok(page)
}

/// `POST /language`: remembers the choice in a cookie, and for a signed-in user in their
/// account.
pub async fn set_language(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(f): Form<LangForm>,
) -> AppResult<Response> {
    let Some(lang) = Lang::parse(&f.lang) else {
        return Err(AppError::Invalid(vec![crate::error::FieldError::new(
            "lang", "invalid",
        )]));
    };
    if let (Some(_), Some(mut user)) = (ctx.actor(), ctx.user.clone()) {
        let now = st.clock.now();
        user.language = Some(lang.code().to_owned());
        user.updated_at = now;
        let ev = ctx
            .audit(now)
            .event("account.language_changed", Outcome::Success)
            .target("user", user.id)
            .detail(json!({ "language": lang.code() }));
        st.store.update_user(&user, &ev).await?;
    }
    let to = if ctx.actor().is_some() { "/" } else { "/login" };
    let mut resp = Redirect::to(to).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookie(&st, LANG_COOKIE, lang.code(), Some(31_536_000)),
    );
    Ok(resp)
}
