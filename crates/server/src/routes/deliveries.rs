//! `/v1/deliveries`: every event's delivery to every webhook, with its attempt log, and
//! retry by hand.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use frontdesk_core::event::EventType;
use frontdesk_core::id::{DeliveryId, WebhookId, WorkspaceId};
use frontdesk_delivery::Dispatcher;
use frontdesk_store::{Attempt, Delivery, DeliveryFilter, DeliveryStatus, Store};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{List, found, page, path_id};
use crate::ApiError;
use crate::auth::Caller;
use crate::error::ErrorBody;
use crate::extract::ApiQuery;
use crate::state::{AppState, DispatcherState, StoreState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_deliveries))
        .routes(routes!(get_delivery))
        .routes(routes!(retry_delivery))
}

/// A delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    #[schema(example = "dlv_01JD3Q2W8M6Y7Z0ABCDEF12345")]
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    #[schema(example = "call.ended")]
    pub event: String,
    /// `pending`, `succeeded` or `failed`.
    #[schema(example = "succeeded")]
    pub status: String,
    /// Attempts made so far.
    pub attempt_count: u32,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id.to_string(),
            webhook_id: d.webhook_id.to_string(),
            event_id: d.event_id.to_string(),
            event: d.event.as_str().to_owned(),
            status: d.status.as_str().to_owned(),
            attempt_count: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// One HTTP attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub attempted_at: DateTime<Utc>,
    /// Null when no response came (timeout, connection refused, refused by the guard).
    pub status_code: Option<u16>,
    pub latency_ms: u32,
    /// The first KiB of the response body.
    pub response_body: Option<String>,
    pub error: Option<String>,
    /// For example unknown template variables that rendered empty.
    pub notes: Option<String>,
    /// The request as sent. Null when nothing was sent (the webhook was disabled, its
    /// template failed) and for attempts made before requests were kept.
    pub request: Option<RequestView>,
    /// The response's headers, in order (the first 8 KiB of them). Null when no
    /// response came and for attempts made before they were kept.
    pub response_headers: Option<Vec<HeaderView>>,
}

/// An attempt's request as sent. The values of the webhook's own headers read
/// `[redacted]` (they may be credentials; they stay sealed with the webhook), as does a
/// password in the URL; the standard headers and the body are as sent and signed.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestView {
    #[schema(example = "POST")]
    pub method: String,
    pub url: String,
    pub headers: Vec<HeaderView>,
    /// The body exactly as sent.
    pub body: String,
}

/// One HTTP header.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeaderView {
    #[schema(example = "webhook-id")]
    pub name: String,
    pub value: String,
}

fn header_views(headers: Vec<(String, String)>) -> Vec<HeaderView> {
    headers
        .into_iter()
        .map(|(name, value)| HeaderView { name, value })
        .collect()
}

impl From<Attempt> for AttemptView {
    fn from(a: Attempt) -> Self {
        Self {
            attempted_at: a.attempted_at,
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            response_body: a.response_body,
            error: a.error,
            notes: a.notes,
            request: a.request.map(|r| RequestView {
                method: r.method,
                url: r.url,
                headers: header_views(r.headers),
                body: r.body,
            }),
            response_headers: a.response_headers.map(header_views),
        }
    }
}

/// A delivery with its attempts, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDetail {
    #[serde(flatten)]
    pub delivery: DeliveryView,
    pub attempts: Vec<AttemptView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDeliveries {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub webhook_id: Option<String>,
    /// `pending`, `succeeded` or `failed`.
    pub status: Option<String>,
    /// An event name, for example `call.ended`.
    pub event: Option<String>,
}

fn query_error(e: &frontdesk_core::ValidationError) -> ApiError {
    ApiError::bad_request("invalid_query", e.to_string())
}

/// List deliveries, newest first.
#[utoipa::path(get, path = "/v1/deliveries", tag = "deliveries", params(ListDeliveries),
    responses((status = 200, body = List<DeliveryView>), (status = 400, body = ErrorBody)))]
async fn list_deliveries(
    State(store): StoreState,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListDeliveries>,
) -> Result<Json<List<DeliveryView>>, ApiError> {
    let filter = DeliveryFilter {
        event_id: None,
        webhook_id: q
            .webhook_id
            .as_deref()
            .map(WebhookId::parse)
            .transpose()
            .map_err(|e| query_error(&e.for_field("webhook_id")))?,
        status: q
            .status
            .as_deref()
            .map(|s| {
                DeliveryStatus::parse(s).ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_query",
                        format!("status: `{s}` is not a status; use pending, succeeded or failed"),
                    )
                })
            })
            .transpose()?,
        event: q
            .event
            .as_deref()
            .map(EventType::parse)
            .transpose()
            .map_err(|e| query_error(&e))?,
        ..DeliveryFilter::default()
    };
    let p = store
        .list_deliveries(
            &caller.workspace_id,
            &filter,
            &page(q.limit, q.cursor.as_deref(), DeliveryId::PREFIX)?,
        )
        .await?;
    Ok(Json(List {
        data: p.data.into_iter().map(Into::into).collect(),
        next_cursor: p.next_cursor,
    }))
}

/// Get a delivery with its attempts.
#[utoipa::path(get, path = "/v1/deliveries/{id}", tag = "deliveries", params(("id" = String, Path)),
    responses((status = 200, body = DeliveryDetail), (status = 404, body = ErrorBody)))]
async fn get_delivery(
    State(store): StoreState,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DeliveryDetail>, ApiError> {
    let did = path_id(&id, DeliveryId::parse, "delivery")?;
    let (d, attempts) = found(store.get_delivery(&caller.workspace_id, &did).await?, "delivery", &id)?;
    Ok(Json(DeliveryDetail {
        delivery: d.into(),
        attempts: attempts.into_iter().map(Into::into).collect(),
    }))
}

/// Retry a finished (failed or succeeded) delivery now, once. A pending delivery is a
/// 409: it is already on its way.
#[utoipa::path(post, path = "/v1/deliveries/{id}/retry", tag = "deliveries", params(("id" = String, Path)),
    responses((status = 202, body = DeliveryView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn retry_delivery(
    State(store): StoreState,
    State(dispatcher): DispatcherState,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<DeliveryView>), ApiError> {
    let d = retry(&*store, &dispatcher, &caller.workspace_id, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(d.into())))
}

/// Queues finished delivery `id` for one more attempt now and wakes the dispatcher.
/// Shared by the API and the dashboard.
pub(crate) async fn retry(
    store: &dyn Store,
    dispatcher: &Dispatcher,
    workspace: &WorkspaceId,
    id: &str,
) -> Result<Delivery, ApiError> {
    let did = path_id(id, DeliveryId::parse, "delivery")?;
    let d = found(store.retry_delivery(workspace, &did, Utc::now()).await?, "delivery", id)?;
    dispatcher.wake();
    Ok(d)
}
