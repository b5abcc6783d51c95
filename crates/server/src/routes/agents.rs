//! `/v1/agents`: receptionist configurations. The body is the configuration itself
//! (SPEC.md section 4); it is validated whole, and a problem is answered with 422 naming
//! its exact path (`data_to_collect[2].type: ...`). Keys Frontdesk does not know are
//! ignored and listed in `warnings`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use frontdesk_core::ValidationError;
use frontdesk_core::agent::config::Parsed;
use frontdesk_core::agent::{Agent, AgentConfig};
use frontdesk_core::id::AgentId;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{List, found, page, path_id};
use crate::ApiError;
use crate::ServerSettings;
use crate::auth::Caller;
use crate::error::ErrorBody;
use crate::extract::{ApiJson, ApiQuery};
use crate::state::{AppState, SettingsState, StoreState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_agents, create_agent))
        .routes(routes!(get_agent, replace_agent, delete_agent))
        .routes(routes!(get_prompt))
}

/// What a language model gets for an agent.
#[derive(Debug, Serialize, ToSchema)]
pub struct PromptView {
    /// The system prompt built from the configuration.
    pub system: String,
    /// The tools offered: the built-in ones, then the agent's HTTP tools (OpenAI's
    /// `tools` shape).
    #[schema(value_type = Vec<Object>)]
    pub tools: Vec<frontdesk_agent::completion::ToolSchema>,
}

/// Show the system prompt and tool schemas a model gets for this agent (`llm` and
/// `hybrid` brains), whichever brain it runs now.
#[utoipa::path(get, path = "/v1/agents/{id}/prompt", tag = "agents", params(("id" = String, Path)),
    responses((status = 200, body = PromptView), (status = 404, body = ErrorBody)))]
async fn get_prompt(
    State(store): StoreState,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PromptView>, ApiError> {
    let aid = path_id(&id, AgentId::parse, "agent")?;
    let a = found(store.get_agent(&caller.workspace_id, &aid).await?, "agent", &id)?;
    // Stored configurations passed validation; one that no longer does is our fault.
    let cfg = AgentConfig::parse(&a.config)
        .map_err(|e| {
            tracing::error!(agent = %a.id, error = %e, "a stored agent configuration does not parse");
            ApiError::internal()
        })?
        .config;
    let chunks: Vec<_> = store
        .list_documents(&caller.workspace_id, &aid)
        .await?
        .into_iter()
        .flat_map(|d| d.chunks)
        .collect();
    Ok(Json(PromptView {
        system: frontdesk_agent::prompt::system_prompt_with(&cfg, &chunks),
        tools: frontdesk_agent::prompt::tools(&cfg),
    }))
}

/// An agent: its id, its whole configuration (with defaults filled in) and times.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentView {
    #[schema(example = "agt_01JD3Q2W8M6Y7Z0ABCDEF12345")]
    pub id: String,
    /// The configuration: name, business, greeting, data_to_collect, call_types,
    /// transfer, knowledge, tools, closing, brain.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub config: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Keys that were ignored (create and replace only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl AgentView {
    fn new(a: Agent, warnings: Vec<String>) -> Self {
        let config = match a.config {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        Self {
            id: a.id.to_string(),
            config,
            created_at: a.created_at,
            updated_at: a.updated_at,
            warnings,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// 1 to 500, default 50.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Parses and validates a whole configuration, tool URLs under the server's SSRF
/// policy: the one check of the API's create and replace and the dashboard's agent
/// pages. The error's `field` is the exact path of the problem.
pub(crate) fn validate(settings: &ServerSettings, body: &Value) -> Result<Parsed, ValidationError> {
    let parsed = AgentConfig::parse(body)?;
    parsed.config.check_targets(&settings.delivery.policy)?;
    Ok(parsed)
}

/// [`validate`], answered as the API answers a bad body (422).
fn parse(settings: &ServerSettings, body: &Value) -> Result<Parsed, ApiError> {
    validate(settings, body).map_err(|e| ApiError::invalid(&e))
}

/// List agents, newest first.
#[utoipa::path(get, path = "/v1/agents", tag = "agents", params(ListQuery),
    responses((status = 200, body = List<AgentView>), (status = 400, body = ErrorBody)))]
async fn list_agents(
    State(store): StoreState,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<List<AgentView>>, ApiError> {
    let req = page(q.limit, q.cursor.as_deref(), AgentId::PREFIX)?;
    let p = store.list_agents_page(&caller.workspace_id, &req).await?;
    Ok(Json(List {
        data: p.data.into_iter().map(|a| AgentView::new(a, Vec::new())).collect(),
        next_cursor: p.next_cursor,
    }))
}

/// Create an agent from a configuration.
#[utoipa::path(post, path = "/v1/agents", tag = "agents", request_body(content = Object, description = "An agent configuration (SPEC.md section 4)"),
    responses((status = 201, body = AgentView), (status = 422, body = ErrorBody)))]
async fn create_agent(
    State(store): StoreState,
    State(settings): SettingsState,
    caller: Caller,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<AgentView>), ApiError> {
    let parsed = parse(&settings, &body)?;
    let agent = store
        .create_agent(&caller.workspace_id, &parsed.config.name, &parsed.config.to_json())
        .await?;
    Ok((StatusCode::CREATED, Json(AgentView::new(agent, parsed.warnings))))
}

/// Get an agent.
#[utoipa::path(get, path = "/v1/agents/{id}", tag = "agents", params(("id" = String, Path)),
    responses((status = 200, body = AgentView), (status = 404, body = ErrorBody)))]
async fn get_agent(
    State(store): StoreState,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<AgentView>, ApiError> {
    let aid = path_id(&id, AgentId::parse, "agent")?;
    let a = found(store.get_agent(&caller.workspace_id, &aid).await?, "agent", &id)?;
    Ok(Json(AgentView::new(a, Vec::new())))
}

/// Replace an agent's configuration (calls in progress keep the one they started with
/// until their next turn).
#[utoipa::path(put, path = "/v1/agents/{id}", tag = "agents", params(("id" = String, Path)),
    request_body(content = Object, description = "The whole new configuration"),
    responses((status = 200, body = AgentView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn replace_agent(
    State(store): StoreState,
    State(settings): SettingsState,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<AgentView>, ApiError> {
    let aid = path_id(&id, AgentId::parse, "agent")?;
    let parsed = parse(&settings, &body)?;
    let a = found(
        store
            .update_agent(
                &caller.workspace_id,
                &aid,
                &parsed.config.name,
                &parsed.config.to_json(),
            )
            .await?,
        "agent",
        &id,
    )?;
    Ok(Json(AgentView::new(a, parsed.warnings)))
}

/// Delete an agent no number routes to.
#[utoipa::path(delete, path = "/v1/agents/{id}", tag = "agents", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete_agent(
    State(store): StoreState,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let aid = path_id(&id, AgentId::parse, "agent")?;
    if store.delete_agent(&caller.workspace_id, &aid).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("agent", &id))
    }
}
