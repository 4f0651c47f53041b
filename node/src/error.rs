//! The node's one error type at the HTTP boundary.
//!
//! Each variant has a status and a stable snake_case code. The API sends
//! `{"error": code, "fields": […]}`; the web layer (`web::html_errors`) turns the same
//! response into a translated page. Internal causes are logged once, here, with the request's
//! id, and never sent to the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::authz::Action;
use crate::store::StoreError;

/// One invalid input field: its name and a snake_case reason (`required`, `too_long`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str) -> Self {
        FieldError {
            field: field.into(),
            code,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("unknown field {0:?}")]
    UnknownField(String),
    #[error("not signed in")]
    Unauthenticated,
    #[error("not allowed: {}", .0.code())]
    Forbidden(Action),
    #[error("not allowed for this target")]
    OutOfScope,
    #[error("CSRF token missing or wrong")]
    Csrf,
    #[error("not found")]
    NotFound,
    #[error("conflict on {0}")]
    Conflict(&'static str),
    #[error("too many attempts")]
    RateLimited,
    #[error("internal error: {0}")]
    Internal(String),
}

/// What an error response carries for the web layer to render it.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub status: StatusCode,
    pub code: &'static str,
    pub fields: Vec<FieldError>,
}

impl AppError {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(e.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Invalid(_) | AppError::UnknownField(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::OutOfScope | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid(_) => "validation_failed",
            AppError::UnknownField(_) => "unknown_field",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden(_) | AppError::OutOfScope => "forbidden",
            AppError::Csrf => "csrf_rejected",
            AppError::NotFound => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::RateLimited => "rate_limited",
            AppError::Internal(_) => "internal_error",
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(field) => AppError::Conflict(field),
            other => AppError::Internal(other.to_string()),
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldError>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            // The one place internal causes are logged. Store and crypto errors never carry
            // field values, only what failed.
            tracing::error!(cause = %cause, "internal error");
        }
        let fields = match &self {
            AppError::Invalid(f) => f.clone(),
            AppError::Conflict(field) => vec![FieldError::new(*field, "taken")],
            AppError::UnknownField(field) => vec![FieldError::new(field.clone(), "unknown_field")],
            _ => Vec::new(),
        };
        let info = ErrorInfo {
            status: self.status(),
            code: self.code(),
            fields: fields.clone(),
        };
        let mut resp = (
            self.status(),
            Json(Body {
                error: self.code(),
                fields,
            }),
        )
            .into_response();
        resp.extensions_mut().insert(info);
        resp
    }
}

pub type AppResult<T> = Result<T, AppError>;
