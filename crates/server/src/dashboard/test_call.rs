//! `/test-call`: talk with an agent in the browser through the simulator, and watch the
//! collected fields fill in. The page's script (`static/test-call.js`) posts JSON to
//! `/test-call/start`, `/test-call/{call}/say` and `/test-call/{call}/hangup`, which take
//! the same steps as `/v1/sim/calls` (the shared functions of [`crate::routes::sim`])
//! and answer where the call stands. Without script the page shows the equivalent
//! simulator API commands.

use askama::Template;
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use frontdesk_app::{CallService, Step};
use frontdesk_core::agent::config::AgentConfig;
use frontdesk_core::agent::{Agent, Number, Provider};
use frontdesk_core::call::Call;
use frontdesk_core::id::AgentId;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Chrome, PageError, PageResult, Signed, render};
use crate::ApiError;
use crate::ServerSettings;
use crate::extract::ApiJson;
use crate::routes::sim;
use crate::state::{AppState, CallsState, SettingsState, StoreState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/test-call", get(page))
        .route("/test-call/start", post(start))
        .route("/test-call/{id}/say", post(say))
        .route("/test-call/{id}/hangup", post(hang_up))
}

/// The caller's number a test call comes from unless another is given.
pub const TEST_CALLER: &str = "+15555550100";

/// The number a test call of `agent` rings: the agent's own, a `sim` one first. The
/// call is carried by the simulator whatever carries the number in production.
fn line_of(numbers: &[Number], agent: &AgentId) -> Option<Number> {
    let mut own: Vec<&Number> = numbers.iter().filter(|n| &n.agent_id == agent).collect();
    own.sort_by_key(|n| n.provider != Provider::Sim);
    own.first().map(|n| Number {
        provider: Provider::Sim,
        ..(*n).clone()
    })
}

pub struct AgentChoice {
    pub id: String,
    pub name: String,
    pub number: Option<String>,
}

#[derive(Template)]
#[template(path = "test_call.html")]
struct TestCallPage {
    chrome: Chrome,
    agents: Vec<AgentChoice>,
    /// The agent picked (`?agent=`, else the first with a number).
    selected: Option<AgentChoice>,
    caller: &'static str,
    /// The simulator API commands that make the same call.
    curl: Vec<(&'static str, String)>,
}

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    agent: Option<String>,
}

/// Where this server is reached, for the commands shown: the public URL, else the
/// `Host` the browser used.
fn base_url(settings: &ServerSettings, headers: &HeaderMap) -> String {
    if let Some(u) = settings.public_url.as_deref() {
        return u.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost:8080");
    format!("http://{host}")
}

/// The simulator API commands that make a test call to `to` (copy-paste ready: the key
/// comes from the environment, the call id from the first answer).
fn commands(base: &str, to: &str) -> Vec<(&'static str, String)> {
    let auth = "-H \"Authorization: Bearer $FRONTDESK_API_KEY\"";
    let json = "-H 'Content-Type: application/json'";
    vec![
        (
            "Use an API key (make one under API keys):",
            "export FRONTDESK_API_KEY=fd_live_...".to_owned(),
        ),
        (
            "Call the agent's number; the answer is the greeting and the call's id:",
            format!(
                "CALL=$(curl -sS -X POST {base}/v1/sim/calls {auth} {json} \\\n  -d '{{\"from\": \"{TEST_CALLER}\", \"to\": \"{to}\"}}' \\\n  | tee /dev/stderr | sed -E 's/.*\"call_id\":\"([^\"]+)\".*/\\1/')"
            ),
        ),
        (
            "Say something as the caller (repeat with each line):",
            format!(
                "curl -sS -X POST {base}/v1/sim/calls/$CALL/turns {auth} {json} \\\n  -d '{{\"text\": \"Hi, I would like to book an appointment\"}}'"
            ),
        ),
        (
            "Hang up:",
            format!("curl -sS -X POST {base}/v1/sim/calls/$CALL/hangup {auth}"),
        ),
        (
            "See the finished call (transcript, collected fields):",
            format!("curl -sS {base}/v1/calls/$CALL {auth}"),
        ),
    ]
}

async fn page(
    State(store): StoreState,
    State(settings): SettingsState,
    signed: Signed,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let ws = &signed.workspace_id;
    let mut agents = store.list_agents(ws).await?;
    agents.sort_by_key(|a| a.name.to_lowercase());
    let numbers = store.list_numbers(ws).await?;
    let choice = |a: &Agent| AgentChoice {
        id: a.id.to_string(),
        name: a.name.clone(),
        number: line_of(&numbers, &a.id).map(|n| n.number),
    };
    let choices: Vec<AgentChoice> = agents.iter().map(choice).collect();
    let selected = match super::view::given(q.agent.as_deref()) {
        Some(id) => Some(
            agents
                .iter()
                .find(|a| a.id.as_str() == id)
                .map(choice)
                .ok_or_else(|| PageError::not_found("agent", id))?,
        ),
        None => agents
            .iter()
            .find(|a| line_of(&numbers, &a.id).is_some())
            .or(agents.first())
            .map(choice),
    };
    let to = selected
        .as_ref()
        .and_then(|s| s.number.clone())
        .unwrap_or_else(|| "+15550100001".to_owned());
    let page = TestCallPage {
        chrome: Chrome::new(&signed, "test-call"),
        agents: choices,
        selected,
        caller: TEST_CALLER,
        curl: commands(&base_url(&settings, &headers), &to),
    };
    Ok(render(&page)?.into_response())
}

/// A collected field as the side panel shows it.
#[derive(Debug, Serialize)]
struct FieldView {
    field: String,
    required: bool,
    /// The value collected so far, as text.
    value: Option<String>,
}

/// Who is calling, as far as the agent knows.
#[derive(Debug, Serialize)]
struct CallerView {
    phone: Option<String>,
    name: Option<String>,
    email: Option<String>,
}

/// Where a test call stands after a step: what the agent said and what it collected.
#[derive(Debug, Serialize)]
struct Progress {
    call_id: String,
    /// The agent's words.
    say: String,
    awaiting_field: Option<String>,
    /// The conversation is over.
    ended: bool,
    status: &'static str,
    /// The call's page.
    call_url: String,
    /// The agent's fields in order, then anything else collected.
    fields: Vec<FieldView>,
    caller: CallerView,
    call_type: Option<String>,
    message: Option<String>,
    transferred_to: Option<String>,
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Progress {
    fn new(step: Step, cfg: &AgentConfig, ended: bool) -> Self {
        let call: Call = step.call;
        let mut fields: Vec<FieldView> = cfg
            .data_to_collect
            .iter()
            .map(|f| FieldView {
                field: f.field.clone(),
                required: f.required,
                value: call.custom_fields.get(&f.field).map(text_of),
            })
            .collect();
        for (k, v) in &call.custom_fields {
            if cfg.field(k).is_none() {
                fields.push(FieldView {
                    field: k.clone(),
                    required: false,
                    value: Some(text_of(v)),
                });
            }
        }
        Self {
            call_url: format!("/calls/{}", call.id),
            call_id: call.id.to_string(),
            say: step.reply.say.into_text(),
            awaiting_field: step.reply.awaiting_field.filter(|_| !ended),
            ended,
            status: call.status.as_str(),
            fields,
            caller: CallerView {
                phone: call.caller.phone,
                name: call.caller.name,
                email: call.caller.email,
            },
            call_type: call.call_type,
            message: call.message,
            transferred_to: call.transferred_to,
        }
    }

    /// Where the call stands after `step`, with the configuration the step ran with.
    async fn of(calls: &CallService, step: Step, ended: bool) -> Self {
        let cfg = calls.step_config(&step).await;
        Self::new(step, &cfg, ended)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartBody {
    agent_id: String,
    /// The caller's number, E.164 (default [`TEST_CALLER`]).
    #[serde(default)]
    from: Option<String>,
}

async fn start(
    State(store): StoreState,
    State(calls): CallsState,
    signed: Signed,
    ApiJson(body): ApiJson<StartBody>,
) -> Result<(StatusCode, Json<Progress>), ApiError> {
    let ws = &signed.workspace_id;
    let from = sim::caller_number(super::view::given(body.from.as_deref()).unwrap_or(TEST_CALLER))?;
    let aid = AgentId::parse(&body.agent_id).map_err(|_| ApiError::not_found("agent", &body.agent_id))?;
    let agent = store
        .get_agent(ws, &aid)
        .await?
        .ok_or_else(|| ApiError::not_found("agent", &body.agent_id))?;
    let numbers = store.list_numbers(ws).await?;
    let line = line_of(&numbers, &agent.id).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_number",
            format!(
                "{} answers no number yet, and a test call rings one: add a sim number for it under Agents → Numbers, then start again",
                agent.name
            ),
        )
    })?;
    let step = sim::answer(&calls, ws, &line, &from).await?;
    let ended = step.reply.ended;
    Ok((StatusCode::CREATED, Json(Progress::of(&calls, step, ended).await)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SayBody {
    /// What the caller says; blank is silence.
    #[serde(default)]
    text: String,
}

async fn say(
    State(calls): CallsState,
    signed: Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SayBody>,
) -> Result<Json<Progress>, ApiError> {
    let step = sim::turn(&calls, &signed.workspace_id, &id, &body.text).await?;
    let ended = step.reply.ended;
    Ok(Json(Progress::of(&calls, step, ended).await))
}

async fn hang_up(State(calls): CallsState, signed: Signed, Path(id): Path<String>) -> Result<Json<Progress>, ApiError> {
    let step = sim::hang_up_call(&calls, &signed.workspace_id, &id).await?;
    Ok(Json(Progress::of(&calls, step, true).await))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_shell_ready() {
        let c = commands("http://127.0.0.1:8080", "+15550100000");
        let all: String = c.iter().map(|(_, cmd)| cmd.as_str()).collect::<Vec<_>>().join("\n");
        assert!(all.contains("http://127.0.0.1:8080/v1/sim/calls "), "{all}");
        assert!(all.contains("\"to\": \"+15550100000\""), "{all}");
        assert!(all.contains("/v1/sim/calls/$CALL/turns"), "{all}");
        assert!(all.contains("/v1/sim/calls/$CALL/hangup"), "{all}");
    }
}
