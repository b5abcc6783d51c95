//! `/v1/numbers`: phone numbers, each routing its calls to an agent through a provider
//! (`sim` for the simulator, `twilio`). A number belongs to one workspace.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use frontdesk_core::ValidationError;
use frontdesk_core::agent::{Number, NumberVoice, Provider, VoiceMode};
use frontdesk_core::id::{AgentId, NumberId, WorkspaceId};
use frontdesk_core::phone::PhoneNumber;
use frontdesk_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::agents::ListQuery;
use super::{List, found, page, path_id};
use crate::ApiError;
use crate::auth::Caller;
use crate::error::ErrorBody;
use crate::extract::{ApiJson, ApiQuery};
use crate::state::{AppState, StoreState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_numbers, create_number))
        .routes(routes!(get_number, update_number, delete_number))
}

/// A phone number and the agent that answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NumberView {
    #[schema(example = "num_01JD3Q2W8M6Y7Z0ABCDEF12345")]
    pub id: String,
    /// E.164.
    #[schema(example = "+15550100000")]
    pub number: String,
    pub agent_id: String,
    /// `sim` or `twilio`.
    #[schema(example = "sim")]
    pub provider: String,
    /// Twilio numbers: `gather` (Voice webhooks with `<Gather>`) or `relay`
    /// (ConversationRelay over a WebSocket).
    #[schema(example = "gather")]
    pub voice_mode: String,
    /// Twilio numbers in gather mode: take messages as voicemail recordings.
    pub record_messages: bool,
    pub created_at: DateTime<Utc>,
}

impl From<Number> for NumberView {
    fn from(n: Number) -> Self {
        Self {
            id: n.id.to_string(),
            number: n.number,
            agent_id: n.agent_id.to_string(),
            provider: n.provider.as_str().to_owned(),
            voice_mode: n.voice.mode.as_str().to_owned(),
            record_messages: n.voice.record_messages,
            created_at: n.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateNumber {
    /// E.164, for example `+15550100000`.
    pub number: String,
    pub agent_id: String,
    /// `sim` (default) or `twilio`.
    pub provider: Option<String>,
    /// `gather` (default) or `relay` (Twilio ConversationRelay).
    pub voice_mode: Option<String>,
    /// Take messages as voicemail recordings (Twilio, gather mode). Default false.
    pub record_messages: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateNumber {
    /// The agent that answers from now on.
    pub agent_id: Option<String>,
    /// `gather` or `relay`.
    pub voice_mode: Option<String>,
    pub record_messages: Option<bool>,
}

fn agent_id(s: &str) -> Result<AgentId, ValidationError> {
    AgentId::parse(s).map_err(|e| e.for_field("agent_id"))
}

/// A new number, validated: what [`CreateNumber::validate`] gives.
#[derive(Debug, Clone)]
pub(crate) struct NewNumber {
    pub number: PhoneNumber,
    pub agent: AgentId,
    pub provider: Provider,
    pub voice: NumberVoice,
}

impl CreateNumber {
    /// Validates a new number: the one check of the API's create and the dashboard's
    /// form. The error's `field` names the member at fault (`number`, `agent_id`,
    /// `provider`, `voice_mode`).
    pub(crate) fn validate(&self) -> Result<NewNumber, ValidationError> {
        let number = PhoneNumber::parse(&self.number)?;
        let agent = agent_id(&self.agent_id)?;
        let provider = match self.provider.as_deref() {
            None => Provider::Sim,
            Some(p) => Provider::parse(p).ok_or_else(|| {
                ValidationError::new(
                    "provider",
                    format!("`{p}` is not a provider; use \"sim\" or \"twilio\""),
                )
            })?,
        };
        let voice = NumberVoice {
            mode: self
                .voice_mode
                .as_deref()
                .map(VoiceMode::parse)
                .transpose()?
                .unwrap_or_default(),
            record_messages: self.record_messages.unwrap_or(false),
        };
        Ok(NewNumber {
            number,
            agent,
            provider,
            voice,
        })
    }
}

impl NewNumber {
    /// Stores the number (404 when the agent is not the workspace's, 409 when the number
    /// is taken).
    pub(crate) async fn create(&self, store: &dyn Store, ws: &WorkspaceId) -> Result<Number, StoreError> {
        store
            .create_number(ws, self.number.as_str(), &self.agent, self.provider, self.voice)
            .await
    }
}

/// Changes a number of the workspace (the agent that answers, how calls are carried):
/// the API's update and the dashboard's form.
pub(crate) async fn update(
    store: &dyn Store,
    ws: &WorkspaceId,
    id: &str,
    body: &UpdateNumber,
) -> Result<Number, ApiError> {
    let nid = path_id(id, NumberId::parse, "number")?;
    let agent = body
        .agent_id
        .as_deref()
        .map(agent_id)
        .transpose()
        .map_err(|e| ApiError::invalid(&e))?;
    let mode = body
        .voice_mode
        .as_deref()
        .map(VoiceMode::parse)
        .transpose()
        .map_err(|e| ApiError::invalid(&e))?;
    let missing = || ApiError::not_found("number", id);
    let mut n = match &agent {
        Some(a) => store.update_number(ws, &nid, a).await?,
        None => store.get_number(ws, &nid).await?,
    }
    .ok_or_else(missing)?;
    if mode.is_some() || body.record_messages.is_some() {
        let voice = NumberVoice {
            mode: mode.unwrap_or(n.voice.mode),
            record_messages: body.record_messages.unwrap_or(n.voice.record_messages),
        };
        n = store.set_number_voice(ws, &nid, voice).await?.ok_or_else(missing)?;
    }
    Ok(n)
}

/// Removes a number of the workspace (its past calls stay): the API and the dashboard.
pub(crate) async fn delete(store: &dyn Store, ws: &WorkspaceId, id: &str) -> Result<(), ApiError> {
    let nid = path_id(id, NumberId::parse, "number")?;
    if store.delete_number(ws, &nid).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("number", id))
    }
}

/// List numbers, newest first.
#[utoipa::path(get, path = "/v1/numbers", tag = "numbers", params(ListQuery),
    responses((status = 200, body = List<NumberView>), (status = 400, body = ErrorBody)))]
async fn list_numbers(
    State(store): StoreState,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<List<NumberView>>, ApiError> {
    let req = page(q.limit, q.cursor.as_deref(), NumberId::PREFIX)?;
    let p = store.list_numbers_page(&caller.workspace_id, &req).await?;
    Ok(Json(List {
        data: p.data.into_iter().map(NumberView::from).collect(),
        next_cursor: p.next_cursor,
    }))
}

/// Add a number and the agent that answers it.
#[utoipa::path(post, path = "/v1/numbers", tag = "numbers", request_body = CreateNumber,
    responses((status = 201, body = NumberView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_number(
    State(store): StoreState,
    caller: Caller,
    ApiJson(body): ApiJson<CreateNumber>,
) -> Result<(StatusCode, Json<NumberView>), ApiError> {
    let new = body.validate().map_err(|e| ApiError::invalid(&e))?;
    let n = new.create(&*store, &caller.workspace_id).await?;
    Ok((StatusCode::CREATED, Json(n.into())))
}

/// Get a number.
#[utoipa::path(get, path = "/v1/numbers/{id}", tag = "numbers", params(("id" = String, Path)),
    responses((status = 200, body = NumberView), (status = 404, body = ErrorBody)))]
async fn get_number(
    State(store): StoreState,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<NumberView>, ApiError> {
    let nid = path_id(&id, NumberId::parse, "number")?;
    let n = found(store.get_number(&caller.workspace_id, &nid).await?, "number", &id)?;
    Ok(Json(n.into()))
}

/// Route a number to another agent, or change how its calls are carried.
#[utoipa::path(patch, path = "/v1/numbers/{id}", tag = "numbers", params(("id" = String, Path)), request_body = UpdateNumber,
    responses((status = 200, body = NumberView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_number(
    State(store): StoreState,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateNumber>,
) -> Result<Json<NumberView>, ApiError> {
    let n = update(&*store, &caller.workspace_id, &id, &body).await?;
    Ok(Json(n.into()))
}

/// Remove a number (its past calls stay).
#[utoipa::path(delete, path = "/v1/numbers/{id}", tag = "numbers", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_number(
    State(store): StoreState,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    delete(&*store, &caller.workspace_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
