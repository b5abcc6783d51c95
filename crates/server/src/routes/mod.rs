//! The HTTP surface: one router per resource, merged here with the `/v1` middleware,
//! the JSON fallbacks for unknown routes and methods, and the OpenAPI document generated
//! from the same route definitions (so the document cannot miss a route).

pub mod agents;
pub mod api_keys;
pub mod calls;
pub mod credentials;
pub mod deliveries;
pub mod documents;
pub mod events;
pub mod meta;
pub mod numbers;
pub mod sim;
pub mod webhooks;

use axum::Router;
use axum::http::{Method, Uri};
use axum::middleware::from_fn_with_state;
use serde::Serialize;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use crate::error::ErrorBody;
use crate::state::AppState;
use crate::{ApiError, auth, idempotency, rate_limit};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Frontdesk API",
        description = "Self-hosted AI phone receptionist. Authenticate with `Authorization: Bearer fd_live_...`. \
                       Errors are `{\"error\": {\"code\", \"message\"}}`. POST accepts `Idempotency-Key`."
    ),
    modifiers(&BearerAuth),
    security(("api_key" = [])),
    components(schemas(ErrorBody)),
    tags(
        (name = "api-keys", description = "API keys of the caller's workspace"),
        (name = "webhooks", description = "Endpoints that receive events: signed, templated, retried"),
        (name = "deliveries", description = "Each event's delivery to each webhook, with its attempts"),
        (name = "events", description = "Stored events"),
        (name = "agents", description = "Receptionist configurations"),
        (name = "numbers", description = "Phone numbers and the agents that answer them"),
        (name = "calls", description = "Calls, their outcome and transcript; outbound calls"),
        (name = "simulator", description = "Try the system without a phone line"),
        (name = "credentials", description = "Telephony provider credentials, stored encrypted"),
        (name = "meta", description = "Health, readiness, metrics and this document")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("api_key", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T: ToSchema> {
    pub data: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> From<frontdesk_core::page::Page<T>> for List<T> {
    fn from(p: frontdesk_core::page::Page<T>) -> Self {
        Self {
            data: p.data,
            next_cursor: p.next_cursor,
        }
    }
}

/// Validates `limit` and `cursor` of a list request.
pub fn page(
    limit: Option<u32>,
    cursor: Option<&str>,
    prefix: &str,
) -> Result<frontdesk_core::page::PageRequest, ApiError> {
    frontdesk_core::page::PageRequest::parse(limit, cursor, prefix)
        .map_err(|e| ApiError::bad_request("invalid_query", e.to_string()))
}

/// Parses a path id; an id that cannot exist is a 404 like any unknown id.
pub fn path_id<T>(
    id: &str,
    parse: fn(&str) -> Result<T, frontdesk_core::ValidationError>,
    what: &str,
) -> Result<T, ApiError> {
    parse(id).map_err(|_| ApiError::not_found(what, id))
}

/// The record a request named, or the 404 that names what was asked for.
pub fn found<T>(record: Option<T>, what: &str, id: &str) -> Result<T, ApiError> {
    record.ok_or_else(|| ApiError::not_found(what, id))
}

/// Parses an RFC 3339 time from a query or body field.
pub fn parse_time(field: &str, value: &str) -> Result<chrono::DateTime<chrono::Utc>, frontdesk_core::ValidationError> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| {
            frontdesk_core::ValidationError::new(
                field,
                format!("`{value}` is not an RFC 3339 time; write for example 2026-01-02T15:30:00Z"),
            )
        })
}

/// Builds every route, returning the router (state applied) and the OpenAPI document.
pub fn build(state: AppState) -> (Router, OpenApiDoc) {
    let v1 = OpenApiRouter::new()
        .merge(api_keys::router())
        .merge(agents::router())
        .merge(documents::router())
        .merge(numbers::router())
        .merge(calls::router())
        .merge(webhooks::router())
        .merge(deliveries::router())
        .merge(events::router())
        .merge(sim::router())
        .merge(credentials::router())
        // Layers run outside in: auth, then rate limits, then idempotency.
        .route_layer(from_fn_with_state(
            idempotency::IdempotencyState {
                store: state.store.clone(),
                settings: state.settings.clone(),
            },
            idempotency::idempotent,
        ))
        .route_layer(from_fn_with_state(state.limiter.clone(), rate_limit::enforce))
        .route_layer(from_fn_with_state(state.store.clone(), auth::require_api_key));
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(v1)
        .merge(meta::router())
        .split_for_parts();
    let router = router
        .merge(crate::telephony::router())
        .merge(crate::dashboard::router(&state))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state);
    (router, doc)
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "route_not_found",
        format!(
            "there is no route for {method} {}; the routes are listed at /v1/openapi.json",
            uri.path()
        ),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} does not accept {method}; the Allow header lists the methods it does accept",
            uri.path()
        ),
    )
}
