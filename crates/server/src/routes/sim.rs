//! `/v1/sim/*`: the simulator, for trying Frontdesk without a phone line.
//!
//! `POST /v1/sim/events` is the documented internal path that produces events before
//! (and beside) real calls: it builds each event exactly as a call does (envelope,
//! template variables with the business details of the agent on the receiving number)
//! and records it through [`frontdesk_delivery::Dispatcher::emit`], the same call the
//! receptionist makes. Tests and the delivery benchmark use it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use frontdesk_core::ValidationError;
use frontdesk_core::event::{Business, EventType, NewEvent};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiError;
use crate::auth::Caller;
use crate::error::ErrorBody;
use crate::extract::ApiJson;
use crate::state::AppState;

/// Most events in one request.
pub const MAX_EVENTS: usize = 1000;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(emit_events))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimEvent {
    /// An event name, for example `call.ended`.
    pub event: String,
    /// The event's `data`, as SPEC.md section 5 shapes it (`call_id`,
    /// `receiving_number`, `caller`, `custom_fields`, ...).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimEvents {
    /// 1 to 1000 events, recorded in one transaction.
    pub events: Vec<SimEvent>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Emitted {
    /// The new events' ids, in order.
    pub events: Vec<String>,
    /// Deliveries queued for them.
    pub deliveries: u64,
}

/// The business details of the agent answering `number` in this workspace.
async fn business_for(state: &AppState, caller: &Caller, number: Option<&str>) -> Result<Business, ApiError> {
    let Some(number) = number else {
        return Ok(Business::default());
    };
    let numbers = state.store.list_numbers(&caller.workspace_id).await?;
    let Some(n) = numbers.iter().find(|n| n.number == number) else {
        return Ok(Business::default());
    };
    let agents = state.store.list_agents(&caller.workspace_id).await?;
    Ok(agents
        .iter()
        .find(|a| a.id == n.agent_id)
        .and_then(|a| serde_json::from_value(a.config.get("business").cloned().unwrap_or(Value::Null)).ok())
        .unwrap_or_default())
}

/// Record events as a call would, and queue their deliveries (internal path for tests
/// and benchmarks).
#[utoipa::path(post, path = "/v1/sim/events", tag = "simulator", request_body = SimEvents,
    responses((status = 202, body = Emitted), (status = 422, body = ErrorBody)))]
async fn emit_events(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<SimEvents>,
) -> Result<(StatusCode, Json<Emitted>), ApiError> {
    if body.events.is_empty() || body.events.len() > MAX_EVENTS {
        return Err(ApiError::invalid(&ValidationError::new(
            "events",
            format!("send 1 to {MAX_EVENTS} events"),
        )));
    }
    let now = Utc::now();
    let mut events = Vec::with_capacity(body.events.len());
    let mut cache: Option<(Option<String>, Business)> = None;
    for (i, e) in body.events.into_iter().enumerate() {
        let kind = EventType::parse(&e.event)
            .map_err(|err| ApiError::invalid(&err.for_field(format!("events[{i}].event"))))?;
        let number = e
            .data
            .get("receiving_number")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let business = match &cache {
            Some((n, b)) if *n == number => b.clone(),
            _ => {
                let b = business_for(&state, &caller, number.as_deref()).await?;
                cache = Some((number, b.clone()));
                b
            }
        };
        events.push(NewEvent::new(kind, e.data, &business, now));
    }
    let deliveries = state.dispatcher.emit(&caller.workspace_id, &events).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Emitted {
            events: events.iter().map(|e| e.id.to_string()).collect(),
            deliveries,
        }),
    ))
}
