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
use frontdesk_store::Store;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::path_id;
use crate::ApiError;
use crate::auth::Caller;
use crate::error::ErrorBody;
use crate::extract::{ApiJson, OptionalJson};
use crate::state::{AppState, CallsState, DispatcherState, StoreState};
use axum::extract::Path;
use frontdesk_agent::EndReason;
use frontdesk_agent::brain::Reply;
use frontdesk_app::{CallService, Step};
use frontdesk_core::agent::Number;
use frontdesk_core::id::CallId;
use frontdesk_core::id::WorkspaceId;
use frontdesk_core::phone::PhoneNumber;

/// Most events in one request.
pub const MAX_EVENTS: usize = 1000;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(emit_events))
        .routes(routes!(start_call))
        .routes(routes!(take_turn))
        .routes(routes!(hang_up))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimCall {
    /// The caller's number, E.164.
    #[schema(example = "+15551234567")]
    pub from: String,
    /// One of the workspace's numbers (any provider): its agent answers.
    #[schema(example = "+15550100000")]
    pub to: String,
}

/// A simulated call, answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimStarted {
    pub call_id: String,
    /// The greeting.
    pub say: String,
    pub awaiting_field: Option<String>,
    pub ended: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimTurn {
    /// What the caller says (speech-to-text output).
    pub text: String,
}

/// The agent's reply to a turn.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimReply {
    pub say: String,
    /// The field just asked for (`message` while taking a message), or null.
    pub awaiting_field: Option<String>,
    pub ended: bool,
    pub transferred_to: Option<String>,
}

impl From<Reply> for SimReply {
    fn from(r: Reply) -> Self {
        Self {
            say: r.say.into_text(),
            awaiting_field: r.awaiting_field,
            ended: r.ended,
            transferred_to: r.transferred_to,
        }
    }
}

/// Call one of the workspace's numbers from the simulator.
#[utoipa::path(post, path = "/v1/sim/calls", tag = "simulator", request_body = SimCall,
    responses((status = 201, body = SimStarted), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn start_call(
    State(store): StoreState,
    State(calls): CallsState,
    caller: Caller,
    ApiJson(body): ApiJson<SimCall>,
) -> Result<(StatusCode, Json<SimStarted>), ApiError> {
    let from = caller_number(&body.from)?;
    let to = PhoneNumber::parse(&body.to).map_err(|e| ApiError::invalid(&e.for_field("to")))?;
    let number = store.number_by_e164(to.as_str()).await?;
    let number = number
        .filter(|n| n.workspace_id == caller.workspace_id)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!(
                    "{} is not one of this workspace's numbers; add it with POST /v1/numbers",
                    to.as_str()
                ),
            )
        })?;
    let step = answer(&calls, &caller.workspace_id, &number, &from).await?;
    Ok((
        StatusCode::CREATED,
        Json(SimStarted {
            call_id: step.call.id.to_string(),
            say: step.reply.say.into_text(),
            awaiting_field: step.reply.awaiting_field,
            ended: step.reply.ended,
        }),
    ))
}

/// Say something to the agent on a simulated (or outbound `sim`) call.
#[utoipa::path(post, path = "/v1/sim/calls/{id}/turns", tag = "simulator", params(("id" = String, Path)),
    request_body = SimTurn,
    responses((status = 200, body = SimReply), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn take_turn(
    State(calls): CallsState,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SimTurn>,
) -> Result<Json<SimReply>, ApiError> {
    let step = turn(&calls, &caller.workspace_id, &id, &body.text).await?;
    Ok(Json(SimReply::from(step.reply)))
}

/// The simulated caller hangs up.
#[utoipa::path(post, path = "/v1/sim/calls/{id}/hangup", tag = "simulator", params(("id" = String, Path)),
    responses((status = 200, body = SimReply), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn hang_up(
    State(calls): CallsState,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(_body): OptionalJson<Value>,
) -> Result<Json<SimReply>, ApiError> {
    let step = hang_up_call(&calls, &caller.workspace_id, &id).await?;
    Ok(Json(SimReply {
        say: step.reply.say.into_text(),
        awaiting_field: None,
        ended: true,
        transferred_to: step.call.transferred_to,
    }))
}

/// Longest caller turn accepted.
const MAX_TURN_CHARS: usize = 4000;

// The simulator's steps, shared by `/v1/sim/calls` and the dashboard's test call.

/// A simulated caller's number (the request's `from`), E.164.
pub(crate) fn caller_number(from: &str) -> Result<PhoneNumber, ApiError> {
    PhoneNumber::parse(from).map_err(|e| ApiError::invalid(&e.for_field("from")))
}

/// Answers a simulated call from `from` on `number`: its agent greets the caller.
pub(crate) async fn answer(
    calls: &CallService,
    ws: &WorkspaceId,
    number: &Number,
    from: &PhoneNumber,
) -> Result<Step, ApiError> {
    Ok(calls.answer(ws, number, from.as_str(), None, None).await?)
}

/// The simulated caller says `text` on call `id` (blank text is silence).
pub(crate) async fn turn(calls: &CallService, ws: &WorkspaceId, id: &str, text: &str) -> Result<Step, ApiError> {
    let cid = path_id(id, CallId::parse, "call")?;
    if text.chars().count() > MAX_TURN_CHARS {
        return Err(ApiError::invalid(&ValidationError::new(
            "text",
            format!("a turn is at most {MAX_TURN_CHARS} characters"),
        )));
    }
    Ok(calls.turn(ws, &cid, text).await?)
}

/// The simulated caller hangs up call `id`.
pub(crate) async fn hang_up_call(calls: &CallService, ws: &WorkspaceId, id: &str) -> Result<Step, ApiError> {
    let cid = path_id(id, CallId::parse, "call")?;
    Ok(calls.hang_up(ws, &cid, EndReason::CallerHangup).await?)
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
async fn business_for(store: &dyn Store, caller: &Caller, number: Option<&str>) -> Result<Business, ApiError> {
    let Some(number) = number else {
        return Ok(Business::default());
    };
    let numbers = store.list_numbers(&caller.workspace_id).await?;
    let Some(n) = numbers.iter().find(|n| n.number == number) else {
        return Ok(Business::default());
    };
    let agents = store.list_agents(&caller.workspace_id).await?;
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
    State(dispatcher): DispatcherState,
    State(store): StoreState,
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
                let b = business_for(&*store, &caller, number.as_deref()).await?;
                cache = Some((number, b.clone()));
                b
            }
        };
        events.push(NewEvent::new(kind, e.data, &business, now));
    }
    let deliveries = dispatcher.emit(&caller.workspace_id, &events).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Emitted {
            events: events.iter().map(|e| e.id.to_string()).collect(),
            deliveries,
        }),
    ))
}
