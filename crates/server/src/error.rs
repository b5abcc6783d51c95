//! The HTTP layer's one error type, and its mapping to responses.
//!
//! Every failure leaves the server as
//! `{"error": {"code": "snake_case_code", "message": "what is wrong and how to fix it"}}`
//! with a fitting status. Server faults (5xx) are logged in full and answered without
//! internals.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use frontdesk_app::{CallError, TelephonyError};
use frontdesk_core::ValidationError;
use frontdesk_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// An error answered to an API client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds, sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

/// The JSON error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable code, for example `invalid_request`.
    #[schema(example = "invalid_request")]
    pub code: String,
    /// What is wrong and how to fix it, for people.
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// A resource of kind `what` with this id does not exist in the caller's workspace.
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no {what} with id `{id}` exists in this workspace"),
        )
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A body that parsed but whose content breaks a rule.
    pub fn invalid(e: &ValidationError) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", e.to_string())
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "something went wrong on our side; the error was logged. Retry the request, and report it if it persists",
        )
    }

    #[must_use]
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        let mut res = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(msg) => Self::new(StatusCode::CONFLICT, "conflict", msg),
            StoreError::NotFound(msg) => Self::new(StatusCode::NOT_FOUND, "not_found", msg),
            other => {
                tracing::error!(error = %other, "storage failure");
                Self::internal()
            }
        }
    }
}

impl From<CallError> for ApiError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::NotFound(m) => Self::new(StatusCode::NOT_FOUND, "not_found", m),
            CallError::Conflict(m) | CallError::Raced(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            CallError::Telephony(t) => t.into(),
            CallError::Store(s) => s.into(),
        }
    }
}

impl From<TelephonyError> for ApiError {
    fn from(e: TelephonyError) -> Self {
        let message = e.to_string();
        match e {
            TelephonyError::NotConfigured => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "twilio_not_configured", message)
            }
            TelephonyError::CredentialsUnreadable => Self::new(StatusCode::CONFLICT, "credentials_unreadable", message),
            TelephonyError::PublicUrlRequired => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "public_url_required", message)
            }
            TelephonyError::CannotPlace(_) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "provider_unavailable", message)
            }
            TelephonyError::Rejected { .. } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "provider_rejected", message)
            }
            TelephonyError::Unavailable { .. } => Self::new(StatusCode::BAD_GATEWAY, "provider_unavailable", message),
            TelephonyError::Store(s) => s.into(),
        }
    }
}
