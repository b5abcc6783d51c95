//! `/v1/events`: the stored events, as their default webhook body.

use axum::Json;
use axum::extract::{Path, State};
use frontdesk_core::event::EventType;
use frontdesk_core::id::EventId;
use frontdesk_store::{EventFilter, StoredEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{found, page, parse_time, path_id};
use crate::ApiError;
use crate::auth::Caller;
use crate::error::ErrorBody;
use crate::extract::ApiQuery;
use crate::state::{AppState, StoreState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events))
        .routes(routes!(get_event))
}

/// An event: `{"id", "event", "timestamp", "data"}`, exactly the default webhook body.
fn view(e: &StoredEvent) -> Value {
    serde_json::from_str(&e.payload).unwrap_or(Value::Null)
}

/// A page of events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    #[schema(value_type = Vec<Object>)]
    pub data: Vec<Value>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListEvents {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// An event name, for example `call.ended`.
    pub event: Option<String>,
    pub call_id: Option<String>,
    /// RFC 3339: events created at or after this time.
    pub since: Option<String>,
}

/// List events, newest first.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(ListEvents),
    responses((status = 200, body = EventList), (status = 400, body = ErrorBody)))]
async fn list_events(
    State(store): StoreState,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListEvents>,
) -> Result<Json<EventList>, ApiError> {
    let bad = |e: frontdesk_core::ValidationError| ApiError::bad_request("invalid_query", e.to_string());
    let filter = EventFilter {
        event: q.event.as_deref().map(EventType::parse).transpose().map_err(bad)?,
        call_id: q.call_id.clone(),
        since: q
            .since
            .as_deref()
            .map(|s| parse_time("since", s))
            .transpose()
            .map_err(bad)?,
    };
    let p = store
        .list_events(
            &caller.workspace_id,
            &filter,
            &page(q.limit, q.cursor.as_deref(), EventId::PREFIX)?,
        )
        .await?;
    Ok(Json(EventList {
        data: p.data.iter().map(view).collect(),
        next_cursor: p.next_cursor,
    }))
}

/// Get an event.
#[utoipa::path(get, path = "/v1/events/{id}", tag = "events", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn get_event(State(store): StoreState, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let eid = path_id(&id, EventId::parse, "event")?;
    let e = found(store.get_event(&caller.workspace_id, &eid).await?, "event", &id)?;
    Ok(Json(view(&e)))
}
