//! The web shell: the per-request context (session, language, CSRF), page rendering with the
//! shared layout, error pages, security headers and the stylesheet.
//!
//! Every request to a page passes [`context_layer`]: it loads the session (expiring idle and
//! old ones), picks the language (user setting → cookie → `Accept-Language` → Spanish), and
//! refuses any POST whose CSRF token does not match before a handler sees it. Handlers take
//! [`Ctx`] (anyone) or [`SignedIn`] (a fully signed-in user) and call [`Web::render`].

pub mod i18n;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Duration;
use serde_json::{json, Map, Value};

pub use i18n::{I18n, Lang};

use crate::app::AppState;
use crate::audit::{AuditCtx, Outcome};
use crate::authz::{Action, Actor};
use crate::crypto::{ct_eq, hmac_hex, random_token, sha256_hex};
use crate::error::{AppError, ErrorInfo};
use crate::store::{Session, SessionStage, User};

pub const SESSION_COOKIE: &str = "puente_session";
pub const PRE_COOKIE: &str = "puente_pre";
pub const LANG_COOKIE: &str = "puente_lang";

/// Every template, embedded at build time.
pub const TEMPLATES: [(&str, &str); 24] = [
    ("layout.html", include_str!("../../templates/layout.html")),
    ("login.html", include_str!("../../templates/login.html")),
    (
        "login_totp.html",
        include_str!("../../templates/login_totp.html"),
    ),
    ("home.html", include_str!("../../templates/home.html")),
    ("account.html", include_str!("../../templates/account.html")),
    (
        "password.html",
        include_str!("../../templates/password.html"),
    ),
    (
        "totp_enrol.html",
        include_str!("../../templates/totp_enrol.html"),
    ),
    (
        "recovery_codes.html",
        include_str!("../../templates/recovery_codes.html"),
    ),
    ("orgs.html", include_str!("../../templates/orgs.html")),
    ("org.html", include_str!("../../templates/org.html")),
    ("users.html", include_str!("../../templates/users.html")),
    ("user.html", include_str!("../../templates/user.html")),
    ("roles.html", include_str!("../../templates/roles.html")),
    ("tokens.html", include_str!("../../templates/tokens.html")),
    ("audit.html", include_str!("../../templates/audit.html")),
    ("error.html", include_str!("../../templates/error.html")),
    (
        "cases/macros.html",
        include_str!("../../templates/cases/macros.html"),
    ),
    (
        "cases/list.html",
        include_str!("../../templates/cases/list.html"),
    ),
    (
        "cases/new.html",
        include_str!("../../templates/cases/new.html"),
    ),
    (
        "cases/show.html",
        include_str!("../../templates/cases/show.html"),
    ),
    (
        "cases/edit.html",
        include_str!("../../templates/cases/edit.html"),
    ),
    (
        "cases/person_edit.html",
        include_str!("../../templates/cases/person_edit.html"),
    ),
    (
        "cases/break_glass.html",
        include_str!("../../templates/cases/break_glass.html"),
    ),
    (
        "cases/erase.html",
        include_str!("../../templates/cases/erase.html"),
    ),
];

/// Rust sources that name message keys (`"msg-…"`), checked by the catalogue test.
#[cfg(test)]
pub const RUST_SOURCES_USING_KEYS: [&str; 5] = [
    include_str!("mod.rs"),
    include_str!("../auth/routes.rs"),
    include_str!("../admin/mod.rs"),
    include_str!("../admin/users.rs"),
    include_str!("../audit/routes.rs"),
];

const STYLE_CSS: &str = include_str!("../../static/style.css");

/// Templates and catalogues, built once at start.
pub struct Web {
    env: minijinja::Environment<'static>,
    pub i18n: Arc<I18n>,
}

impl std::fmt::Debug for Web {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Web")
    }
}

impl Web {
    pub fn load() -> anyhow::Result<Web> {
        let i18n = Arc::new(I18n::load()?);
        let mut env = minijinja::Environment::new();
        for (name, src) in TEMPLATES
            .iter()
            .chain(crate::hub::pages::TEMPLATES)
            .chain(crate::directory::pages::TEMPLATES)
            .chain(crate::federation::pages::TEMPLATES)
            .chain(crate::referrals::pages::TEMPLATES)
            .chain(crate::stats::pages::TEMPLATES)
            .chain(crate::stats::release_pages::TEMPLATES)
            .chain(crate::retention::pages::TEMPLATES)
            .copied()
        {
            env.add_template(name, src)?;
        }
        let tr = i18n.clone();
        env.add_function(
            "t",
            move |state: &minijinja::State, key: String, kwargs: minijinja::value::Kwargs| {
                let lang = state
                    .lookup("lang")
                    .and_then(|v| v.as_str().and_then(Lang::parse))
                    .unwrap_or(Lang::Es);
                let args: Vec<(&str, String)> = kwargs
                    .args()
                    .map(|k| {
                        (
                            k,
                            kwargs
                                .get::<minijinja::Value>(k)
                                .map(|v| v.to_string())
                                .unwrap_or_default(),
                        )
                    })
                    .collect();
                Ok::<_, minijinja::Error>(tr.tr(lang, &key, &args))
            },
        );
        Ok(Web { env, i18n })
    }

    /// [`Web::load`], with the `hub_mode` template global set on a regional hub (the layout
    /// then shows the hub's links instead of a country node's).
    pub fn load_for(hub: bool) -> anyhow::Result<Web> {
        let mut web = Web::load()?;
        web.env.add_global("hub_mode", hub);
        Ok(web)
    }

    pub fn tr(&self, lang: Lang, key: &str) -> String {
        self.i18n.tr(lang, key, &[])
    }

    /// Renders `template` with the shared context of `ctx` and `extra` on top.
    pub fn render(&self, ctx: &Ctx, template: &str, extra: Value) -> Response {
        self.render_status(ctx, StatusCode::OK, template, extra)
    }

    pub fn render_status(
        &self,
        ctx: &Ctx,
        status: StatusCode,
        template: &str,
        extra: Value,
    ) -> Response {
        let mut data = self.base_context(ctx);
        if let Value::Object(extra) = extra {
            data.extend(extra);
        }
        let html = self
            .env
            .get_template(template)
            .and_then(|t| t.render(Value::Object(data)));
        match html {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => AppError::internal(format!("template {template}: {e:#}")).into_response(),
        }
    }

    fn base_context(&self, ctx: &Ctx) -> Map<String, Value> {
        let actor = ctx.actor();
        let user = actor.as_ref().and(ctx.user.as_ref()).map(|u| {
            json!({
                "username": u.username,
                "display_name": u.display_name,
                "role": u.role.code(),
                "org_name": ctx.org_name,
            })
        });
        let can = |a: Action| actor.as_ref().is_some_and(|x| x.can(a));
        let notice = ctx
            .notice
            .as_ref()
            .map(|code| format!("msg-notice-{code}"))
            .filter(|key| self.i18n.has(ctx.lang, key))
            .map(|key| self.tr(ctx.lang, &key));
        let mut m = Map::new();
        m.insert("lang".into(), json!(ctx.lang.code()));
        m.insert("csrf".into(), json!(ctx.csrf));
        m.insert("path".into(), json!(ctx.path));
        m.insert("user".into(), user.unwrap_or(Value::Null));
        m.insert(
            "can".into(),
            json!({
                "orgs": can(Action::ViewOrgs),
                "users": can(Action::ViewUsers),
                "roles": can(Action::ViewRoles),
                "tokens": can(Action::ManageOwnTokens),
                "audit": can(Action::ViewAudit),
                "cases": can(Action::ViewCases) || can(Action::ViewCaseIndex),
                "directory": can(Action::ViewDirectory),
                "federation": can(Action::ViewFederation),
                "referrals": can(Action::ViewReferrals),
                "statistics": can(Action::ViewStatistics),
                "hub": can(Action::ViewHub),
                "retention": can(Action::ViewRetention),
            }),
        );
        m.insert(
            "unread".into(),
            ctx.unread
                .filter(|_| actor.is_some())
                .map_or(Value::Null, Value::from),
        );
        m.insert("notice".into(), notice.map_or(Value::Null, Value::from));
        m.insert("error".into(), Value::Null);
        m.insert("errors".into(), json!({}));
        m.insert("form".into(), json!({}));
        m
    }

    /// For a form's failed submission: the status and the translated field errors of
    /// invalid input or a taken unique value; `None` for any other error.
    pub fn form_errors(&self, lang: Lang, e: &AppError) -> Option<(StatusCode, Value)> {
        match e {
            AppError::Invalid(fields) => Some((
                StatusCode::UNPROCESSABLE_ENTITY,
                self.field_errors(lang, fields),
            )),
            AppError::Conflict(field) => Some((
                StatusCode::CONFLICT,
                self.field_errors(lang, &[crate::error::FieldError::new(*field, "taken")]),
            )),
            _ => None,
        }
    }

    /// Field errors as a map field → translated message (`msg-field-<code>`).
    pub fn field_errors(&self, lang: Lang, errors: &[crate::error::FieldError]) -> Value {
        let mut m = Map::new();
        for e in errors {
            m.entry(e.field.clone())
                .or_insert_with(|| Value::from(self.tr(lang, &format!("msg-field-{}", e.code))));
        }
        Value::Object(m)
    }
}

/// `base` with the entries of `extra` added (or replaced).
pub fn merge(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}

/// What every page handler knows about its request.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub lang: Lang,
    pub csrf: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub path: String,
    pub session: Option<Session>,
    pub user: Option<User>,
    pub org_name: Option<String>,
    /// A notice code from `?notice=`, shown translated if it is a known one.
    pub notice: Option<String>,
    /// Unread notifications of the signed-in user, for the header (users who may see
    /// referrals only: nobody else receives notifications).
    pub unread: Option<i64>,
}

impl Ctx {
    /// The signed-in actor, only once every log-in step is done.
    pub fn actor(&self) -> Option<Actor> {
        let s = self.session.as_ref()?;
        let u = self.user.as_ref()?;
        (s.stage == SessionStage::Full).then(|| Actor {
            user_id: u.id,
            username: u.username.clone(),
            role: u.role,
            org_id: u.org_id,
        })
    }

    /// An audit context for this request at `now`.
    pub fn audit(&self, now: chrono::DateTime<chrono::Utc>) -> AuditCtx {
        AuditCtx {
            at: now,
            actor_id: self.user.as_ref().map(|u| u.id),
            actor: self
                .user
                .as_ref()
                .map_or_else(|| "anonymous".to_owned(), |u| u.username.clone()),
            org_id: self.user.as_ref().and_then(|u| u.org_id),
            ip: self.ip.clone(),
            request_id: self.request_id.clone(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| AppError::internal("page route without the web context layer"))
    }
}

/// A fully signed-in user. Anyone else is sent to the step they still owe.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub actor: Actor,
    pub ctx: Ctx,
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if let Some(actor) = ctx.actor() {
            return Ok(SignedIn { actor, ctx });
        }
        let to = match ctx.session.as_ref().map(|s| s.stage) {
            Some(SessionStage::TotpPending) => "/login/totp",
            Some(SessionStage::TotpEnrolRequired) => "/account/totp",
            Some(SessionStage::PasswordChangeRequired) => "/account/password",
            _ => "/login",
        };
        Err(Redirect::to(to).into_response())
    }
}

fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            Some((k.to_owned(), v.to_owned()))
        })
        .collect()
}

/// A `Set-Cookie` value for this node's cookies: HttpOnly, SameSite=Strict, Secure under TLS.
pub fn cookie(st: &AppState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if st.config.secure_cookies() {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=1; Max-Age=0"))
}

/// The CSRF token of a visitor without a session: bound to their pre-session cookie.
fn pre_csrf(st: &AppState, pre: &str) -> String {
    hmac_hex(&st.csrf_key, pre.as_bytes())
}

/// Loads the session and language, checks CSRF on POST, and renders error pages.
pub async fn context_layer(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let now = st.clock.now();
    let (mut parts, body) = req.into_parts();
    let jar = cookies(&parts.headers);
    let mut set_cookies: Vec<HeaderValue> = Vec::new();

    // --- session
    let mut session = None;
    let mut user = None;
    if let Some(raw) = jar.get(SESSION_COOKIE) {
        match load_session(&st, raw, now).await {
            Ok(Some((s, u))) => {
                session = Some(s);
                user = Some(u);
            }
            Ok(None) => set_cookies.push(cookie(&st, SESSION_COOKIE, "", Some(0))),
            Err(e) => return e.into_response(),
        }
    }
    let org_name = match user.as_ref().and_then(|u| u.org_id) {
        Some(id) => st.store.org(id).await.ok().map(|o| o.name),
        None => None,
    };
    // One indexed count per page, for the header; a failure leaves the count out rather
    // than the page.
    let unread = match (&session, &user) {
        (Some(s), Some(u))
            if s.stage == SessionStage::Full
                && crate::authz::role_allows(u.role, Action::ViewReferrals)
                && !crate::hub::is_hub(&st.config) =>
        {
            match crate::referrals::unread_count(&st, u.id).await {
                Ok(n) => Some(n),
                Err(e) => {
                    tracing::warn!(error = %e, "unread notifications not counted");
                    None
                }
            }
        }
        _ => None,
    };

    // --- CSRF token for this page
    let pre = match jar.get(PRE_COOKIE).filter(|v| v.len() >= 32) {
        Some(v) => v.clone(),
        None => {
            let v = random_token(32);
            set_cookies.push(cookie(&st, PRE_COOKIE, &v, None));
            v
        }
    };
    let csrf = match &session {
        Some(s) => s.csrf_token.clone(),
        None => pre_csrf(&st, &pre),
    };

    // --- language
    let lang = user
        .as_ref()
        .and_then(|u| u.language.as_deref())
        .and_then(Lang::parse)
        .or_else(|| jar.get(LANG_COOKIE).and_then(|v| Lang::parse(v)))
        .or_else(|| {
            parts
                .headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or(Lang::Es);

    let notice = parts.uri.query().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("notice="))
            .filter(|c| c.len() <= 40 && c.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .map(str::to_owned)
    });
    let ctx = Ctx {
        lang,
        csrf: csrf.clone(),
        ip: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
        request_id: parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        path: parts.uri.path().to_owned(),
        session,
        user,
        org_name,
        notice,
        unread,
    };

    // --- CSRF check on every state-changing request, before any handler runs
    let body = if parts.method == Method::GET || parts.method == Method::HEAD {
        body
    } else {
        let bytes = match to_bytes(body, st.config.http.body_limit_bytes).await {
            Ok(b) => b,
            Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        };
        let cross_site = parts
            .headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v != "same-origin" && v != "none");
        let sent = form_urlencoded_value(&bytes, "csrf");
        let ok = !cross_site && sent.as_deref().is_some_and(|s| ct_eq(s, &csrf));
        if !ok {
            let ev = ctx
                .audit(now)
                .event("security.csrf_rejected", Outcome::Denied)
                .detail(json!({ "path": ctx.path }));
            if let Err(e) = st.store.append_audit(&ev).await {
                return AppError::from(e).into_response();
            }
            let resp = AppError::Csrf.into_response();
            return error_page(&st, &ctx, resp);
        }
        Body::from(bytes)
    };

    parts.extensions.insert(ctx.clone());
    let mut resp = next.run(Request::from_parts(parts, body)).await;
    if resp.extensions().get::<ErrorInfo>().is_some() {
        resp = error_page(&st, &ctx, resp);
    }
    let h = resp.headers_mut();
    for c in set_cookies {
        h.append(header::SET_COOKIE, c);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The value of `key` in an `application/x-www-form-urlencoded` body.
fn form_urlencoded_value(body: &[u8], key: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

async fn load_session(
    st: &AppState,
    raw: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<(Session, User)>, AppError> {
    let hash = sha256_hex(raw.as_bytes());
    let mut s = match st.store.session(&hash).await {
        Ok(s) => s,
        Err(crate::store::StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let idle = Duration::minutes(i64::from(st.config.security.session_idle_minutes));
    let expired = now >= s.expires_at || now - s.last_seen_at >= idle;
    let user = st.store.user(s.user_id).await?;
    if expired || user.disabled {
        st.store.delete_session(&hash).await?;
        let why = if user.disabled {
            "user_disabled"
        } else {
            "expired"
        };
        let ev = crate::audit::AuditCtx {
            at: now,
            actor_id: Some(user.id),
            actor: user.username.clone(),
            org_id: user.org_id,
            ip: None,
            request_id: None,
        }
        .event("auth.session_ended", Outcome::Success)
        .detail(json!({ "reason": why }));
        st.store.append_audit(&ev).await?;
        return Ok(None);
    }
    if now - s.last_seen_at >= Duration::seconds(30) {
        s.last_seen_at = now;
        st.store.update_session(&s).await?;
    }
    Ok(Some((s, user)))
}

/// Replaces an error response by the translated error page (or a redirect to log in).
fn error_page(st: &AppState, ctx: &Ctx, resp: Response) -> Response {
    let Some(info) = resp.extensions().get::<ErrorInfo>().cloned() else {
        return resp;
    };
    if info.status == StatusCode::UNAUTHORIZED {
        return Redirect::to("/login").into_response();
    }
    let message = st.web.tr(ctx.lang, &format!("msg-error-{}", info.code));
    st.web.render_status(
        ctx,
        info.status,
        "error.html",
        json!({ "status": info.status.as_u16(), "message": message }),
    )
}

/// `GET /static/style.css`
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        STYLE_CSS,
    )
        .into_response()
}

/// Security headers for every response.
pub fn security_headers(tls: bool) -> Vec<(header::HeaderName, HeaderValue)> {
    let mut h =
        vec![
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
                 frame-ancestors 'none'; base-uri 'none'",
            ),
        ),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        (
            header::HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
        ),
    ];
    if tls {
        h.push((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    h
}

/// A session cookie value and its stored form, for a new session of `user`.
pub fn new_session(
    st: &AppState,
    user: &User,
    stage: SessionStage,
    now: chrono::DateTime<chrono::Utc>,
) -> (String, Session) {
    let raw = random_token(32);
    let s = Session {
        id_hash: sha256_hex(raw.as_bytes()),
        user_id: user.id,
        stage,
        csrf_token: random_token(32),
        pending_totp: None,
        created_at: now,
        last_seen_at: now,
        expires_at: now + Duration::hours(i64::from(st.config.security.session_absolute_hours)),
    };
    (raw, s)
}

/// A CSV file download named `name` (the exports of cases, statistics and the hub).
pub fn csv_download(name: &str, body: Vec<u8>) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}
