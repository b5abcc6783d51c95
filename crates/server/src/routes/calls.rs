//! `/v1/calls`: calls with their outcome (caller, call type, collected fields, message,
//! transfer, summary, transcript), filtered lists, outbound calls and hang-up.
//!
//! `POST /v1/calls` places an outbound call from one of the workspace's numbers. Through
//! provider `sim` the simulator answers at once and the call is driven with the
//! simulator's turns API; other providers place it with their own API when this build
//! has it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use frontdesk_core::ValidationError;
use frontdesk_core::agent::Number;
use frontdesk_core::call::{Call, CallFilter, CallStatus, Direction, ToolCall, Turn};
use frontdesk_core::id::{AgentId, CallId};
use frontdesk_core::phone::PhoneNumber;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{List, found, page, parse_time, path_id};
use crate::ApiError;
use crate::auth::Caller;
use crate::error::ErrorBody;
use crate::extract::{ApiJson, ApiQuery, OptionalJson};
use crate::state::{AppState, CallsState, StoreState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_calls, create_call))
        .routes(routes!(get_call))
        .routes(routes!(hangup_call))
}

/// The other party of a call.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallerView {
    pub phone: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// Caller turns, and those that asked a model.
#[derive(Debug, Serialize, ToSchema)]
pub struct BrainTurns {
    pub total: u64,
    pub model: u64,
}

/// A call and its outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallView {
    #[schema(example = "call_01JD3Q2W8M6Y7Z0ABCDEF12345")]
    pub id: String,
    /// `queued`, `ringing`, `in_progress`, `completed`, `failed`, `busy`, `no_answer`,
    /// `canceled`.
    pub status: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    pub from: String,
    pub to: String,
    pub agent_id: String,
    /// `sim` or `twilio`.
    pub provider: String,
    /// The provider's own id for the call (Twilio's CallSid).
    pub provider_call_id: Option<String>,
    /// What the provider reported beyond the call: `call_status`, `dial_status`,
    /// `dial_duration`, `answered_by`, `error`, ...
    #[schema(value_type = Object)]
    pub provider_details: Map<String, Value>,
    pub caller: CallerView,
    pub call_type: Option<String>,
    /// Every collected field by name.
    #[schema(value_type = Object)]
    pub custom_fields: Map<String, Value>,
    pub message: Option<String>,
    pub transferred_to: Option<String>,
    pub ai_summary: Option<String>,
    /// `Agent: ...` / `Caller: ...` lines.
    pub transcript: String,
    #[schema(value_type = Vec<Object>)]
    pub turns: Vec<Turn>,
    pub purpose: Option<String>,
    /// `completed`, `transferred`, `caller_hangup`, `api_hangup`.
    pub end_reason: Option<String>,
    /// HTTP tools called during the call.
    #[schema(value_type = Vec<Object>)]
    pub tool_calls: Vec<ToolCall>,
    /// The brain that carried the conversation: `rules`, `llm` or `hybrid`.
    pub brain: Option<String>,
    /// The caller's turns, and those in which a model was asked.
    pub brain_turns: BrainTurns,
    /// What happened between the brain and its model (SPEC section 8): `fallback` (an
    /// endpoint failed and the next was tried), `rules` (no model answered: the rules
    /// took the turn), `refused` (a value the model set was refused), `interrupted`,
    /// `call_type_checked`; each with `turn`, `reason`, `endpoint`, `detail`.
    #[schema(value_type = Vec<Object>)]
    pub brain_events: Vec<Value>,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_seconds: i64,
    /// When the retention period (`FRONTDESK_RETENTION`) removed the call's contents:
    /// transcript, fields, message, summary, tool calls, the caller's name and email.
    /// The outcome and times stay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purged_at: Option<DateTime<Utc>>,
}

impl CallView {
    pub fn new(c: Call, now: DateTime<Utc>) -> Self {
        let state = &c.session;
        let brain = match state.get("brain") {
            Some(Value::String(b)) => Some(b.clone()),
            // Stored before brains were named.
            _ if state.is_object() => Some("rules".to_owned()),
            _ => None,
        };
        let count = |k: &str| state.get(k).and_then(Value::as_u64).unwrap_or(0);
        let brain_turns = BrainTurns {
            total: count("turns"),
            model: count("model_turns"),
        };
        let brain_events = state
            .get("events")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Self {
            brain,
            brain_turns,
            brain_events,
            duration_seconds: c.duration_seconds(now),
            transcript: c.transcript(),
            id: c.id.to_string(),
            status: c.status.as_str().to_owned(),
            direction: c.direction.as_str().to_owned(),
            from: c.from,
            to: c.to,
            agent_id: c.agent_id.to_string(),
            provider: c.provider.as_str().to_owned(),
            provider_call_id: c.provider_call_id,
            provider_details: c.provider_details,
            caller: CallerView {
                phone: c.caller.phone,
                name: c.caller.name,
                email: c.caller.email,
            },
            call_type: c.call_type,
            custom_fields: c.custom_fields,
            message: c.message,
            transferred_to: c.transferred_to,
            ai_summary: c.ai_summary,
            turns: c.turns,
            purpose: c.purpose,
            end_reason: c.end_reason,
            tool_calls: c.tool_calls,
            started_at: c.started_at,
            answered_at: c.answered_at,
            ended_at: c.ended_at,
            purged_at: c.purged_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CallQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// `in_progress`, `completed`, ...
    pub status: Option<String>,
    pub call_type: Option<String>,
    /// `inbound` or `outbound`.
    pub direction: Option<String>,
    /// The business number (E.164).
    pub number: Option<String>,
    /// RFC 3339; calls started at or after.
    pub since: Option<String>,
    /// RFC 3339; calls started before.
    pub until: Option<String>,
    /// Search: text found, ignoring case, in the caller's number, name or phone, or in
    /// any line of the transcript (`%` and `_` are literal).
    pub q: Option<String>,
}

/// The longest search text `q` (characters).
pub const MAX_SEARCH: usize = 200;

/// A calls list's filters, read and checked as `GET /v1/calls` does (the dashboard's
/// calls list reads its form through this too). The error names the parameter.
pub(crate) fn call_filter(q: &CallQuery) -> Result<CallFilter, ValidationError> {
    let search = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(s) = search
        && s.chars().count() > MAX_SEARCH
    {
        return Err(ValidationError::new(
            "q",
            format!("the search text is longer than {MAX_SEARCH} characters; shorten it"),
        ));
    }
    Ok(CallFilter {
        status: q.status.as_deref().map(CallStatus::parse).transpose()?,
        call_type: q.call_type.clone(),
        direction: q.direction.as_deref().map(Direction::parse).transpose()?,
        number: q
            .number
            .as_deref()
            .map(|n| PhoneNumber::parse(n).map(|p| p.as_str().to_owned()))
            .transpose()
            .map_err(|e| e.for_field("number"))?,
        since: q.since.as_deref().map(|s| parse_time("since", s)).transpose()?,
        until: q.until.as_deref().map(|s| parse_time("until", s)).transpose()?,
        search: search.map(str::to_owned),
    })
}

/// List calls, newest first.
#[utoipa::path(get, path = "/v1/calls", tag = "calls", params(CallQuery),
    responses((status = 200, body = List<CallView>), (status = 400, body = ErrorBody)))]
async fn list_calls(
    State(store): StoreState,
    caller: Caller,
    ApiQuery(q): ApiQuery<CallQuery>,
) -> Result<Json<List<CallView>>, ApiError> {
    let req = page(q.limit, q.cursor.as_deref(), CallId::PREFIX)?;
    let filter = call_filter(&q).map_err(|e| ApiError::bad_request("invalid_query", e.to_string()))?;
    let p = store.list_calls(&caller.workspace_id, &filter, &req).await?;
    let now = Utc::now();
    Ok(Json(List {
        data: p.data.into_iter().map(|c| CallView::new(c, now)).collect(),
        next_cursor: p.next_cursor,
    }))
}

/// Get a call with its transcript.
#[utoipa::path(get, path = "/v1/calls/{id}", tag = "calls", params(("id" = String, Path)),
    responses((status = 200, body = CallView), (status = 404, body = ErrorBody)))]
async fn get_call(
    State(store): StoreState,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CallView>, ApiError> {
    let cid = path_id(&id, CallId::parse, "call")?;
    let c = found(store.get_call(&caller.workspace_id, &cid).await?, "call", &id)?;
    Ok(Json(CallView::new(c, Utc::now())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCall {
    /// The number to call, E.164.
    pub to: String,
    /// One of the workspace's numbers; defaults to the agent's number (or the first).
    pub from: Option<String>,
    /// The agent that talks; defaults to the `from` number's agent.
    pub agent_id: Option<String>,
    /// Why the call is made; the agent says it when the call is answered.
    pub purpose: Option<String>,
}

/// An outbound call, placed: the call and what the agent said when answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlacedCall {
    #[serde(flatten)]
    pub call: CallView,
    /// The agent's first words (null for a call placed through Twilio: it is not
    /// answered yet).
    pub say: Option<String>,
    pub awaiting_field: Option<String>,
    pub ended: bool,
}

/// Place an outbound call.
#[utoipa::path(post, path = "/v1/calls", tag = "calls", request_body = CreateCall,
    responses((status = 201, body = PlacedCall), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_call(
    State(store): StoreState,
    State(calls): CallsState,
    caller: Caller,
    ApiJson(body): ApiJson<CreateCall>,
) -> Result<(StatusCode, Json<PlacedCall>), ApiError> {
    let to = PhoneNumber::parse(&body.to).map_err(|e| ApiError::invalid(&e.for_field("to")))?;
    let agent = body
        .agent_id
        .as_deref()
        .map(|a| AgentId::parse(a).map_err(|e| ApiError::invalid(&e.for_field("agent_id"))))
        .transpose()?;
    if let Some(a) = &agent
        && store.get_agent(&caller.workspace_id, a).await?.is_none()
    {
        return Err(ApiError::invalid(&ValidationError::new(
            "agent_id",
            format!("no agent `{a}` exists in this workspace"),
        )));
    }
    let from: Number = match &body.from {
        Some(f) => {
            let f = PhoneNumber::parse(f).map_err(|e| ApiError::invalid(&e.for_field("from")))?;
            let n = store.number_by_e164(f.as_str()).await?;
            n.filter(|n| n.workspace_id == caller.workspace_id).ok_or_else(|| {
                ApiError::invalid(&ValidationError::new(
                    "from",
                    format!(
                        "{} is not one of this workspace's numbers; add it with POST /v1/numbers",
                        f.as_str()
                    ),
                ))
            })?
        }
        None => {
            let numbers = store.list_numbers(&caller.workspace_id).await?;
            let pick = agent
                .as_ref()
                .and_then(|a| numbers.iter().find(|n| n.agent_id == *a).cloned());
            pick.or_else(|| numbers.into_iter().next()).ok_or_else(|| {
                ApiError::invalid(&ValidationError::new(
                    "from",
                    "this workspace has no number to call from; add one with POST /v1/numbers",
                ))
            })?
        }
    };
    // A provider this build cannot place calls through is the call service's answer
    // (422 `provider_unavailable`).
    let mut line = from.clone();
    if let Some(a) = agent {
        line.agent_id = a;
    }
    let purpose = body.purpose.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty());
    let placed = calls.place(&caller.workspace_id, &line, to.as_str(), purpose).await?;
    let (say, awaiting_field, ended) = match placed.reply {
        Some(r) => (Some(r.say.into_text()), r.awaiting_field, r.ended),
        None => (None, None, false),
    };
    Ok((
        StatusCode::CREATED,
        Json(PlacedCall {
            call: CallView::new(placed.call, Utc::now()),
            say,
            awaiting_field,
            ended,
        }),
    ))
}

/// Hang up a live call. Its outcome is recorded and `call.ended` is sent.
#[utoipa::path(post, path = "/v1/calls/{id}/hangup", tag = "calls", params(("id" = String, Path)),
    responses((status = 200, body = CallView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn hangup_call(
    State(calls): CallsState,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(_body): OptionalJson<Value>,
) -> Result<Json<CallView>, ApiError> {
    let cid = path_id(&id, CallId::parse, "call")?;
    let call = calls.end_call(&caller.workspace_id, &cid).await?;
    Ok(Json(CallView::new(call, Utc::now())))
}
