//! Unauthenticated endpoints: liveness, readiness, Prometheus metrics, the OpenAPI
//! document. (The dashboard serves `/`.)

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiError;
use crate::error::ErrorBody;
use crate::state::{AppState, StoreState};

/// The serialised OpenAPI document, put in the request extensions at start.
#[derive(Clone)]
pub struct OpenApiJson(pub Arc<String>);

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process is up.
#[utoipa::path(get, path = "/healthz", tag = "meta", security(()), responses((status = 200, body = Status)))]
async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "meta", security(()),
    responses((status = 200, body = Status), (status = 503, body = ErrorBody)))]
async fn readyz(State(store): StoreState) -> Result<Json<Status>, ApiError> {
    store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the database does not answer; see the server log",
        )
    })?;
    Ok(Json(Status { status: "ready" }))
}

/// Prometheus metrics in text format.
#[utoipa::path(get, path = "/metrics", tag = "meta", security(()),
    responses((status = 200, content_type = "text/plain", body = String)))]
async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::render(),
    )
}

/// This document (OpenAPI 3.1).
#[utoipa::path(get, path = "/v1/openapi.json", tag = "meta", security(()),
    responses((status = 200, content_type = "application/json", body = Object)))]
async fn openapi(Extension(doc): Extension<OpenApiJson>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], doc.0.as_str().to_owned())
}
