//! `/v1/webhooks`: endpoints that receive events. Create (the secret is returned once),
//! list, get, update (PATCH), delete, send a test event, rotate the secret, and replay
//! stored events over a time range.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use frontdesk_core::event::{Business, EventType, NewEvent, sample_call_ended_data};
use frontdesk_core::id::{WebhookId, WorkspaceId};
use frontdesk_core::phone::PhoneNumber;
use frontdesk_core::webhook::{self, HttpMethod, Webhook, WebhookSecret, WebhookSpec};
use frontdesk_core::{ValidationError, input};
use frontdesk_delivery::Dispatcher;
use frontdesk_store::Store;
use frontdesk_store::StoredEvent;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{List, found, page, parse_time, path_id};
use crate::ApiError;
use crate::ServerSettings;
use crate::auth::Caller;
use crate::error::ErrorBody;
use crate::extract::{ApiJson, ApiQuery, OptionalJson};
use crate::idempotency::SecretFields;
use crate::state::{AppState, DispatcherState, SettingsState, StoreState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(test_webhook))
        .routes(routes!(rotate_secret))
        .routes(routes!(replay))
}

/// A webhook endpoint (without its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    #[schema(example = "wh_01JD3Q2W8M6Y7Z0ABCDEF12345")]
    pub id: String,
    pub name: String,
    /// May hold `{{variables}}`.
    pub url: String,
    /// Event names; empty means every event.
    pub events: Vec<String>,
    #[schema(value_type = String, example = "POST")]
    pub method: HttpMethod,
    pub headers: BTreeMap<String, String>,
    /// JSON whose string leaves are templates; null sends the default body.
    #[schema(value_type = Option<Object>)]
    pub body_template: Option<Value>,
    /// E.164 numbers; empty means every number.
    pub numbers: Vec<String>,
    pub active: bool,
    /// Why Frontdesk disabled it (410 Gone, failing too long), if it did.
    pub disabled_reason: Option<String>,
    /// Start of the current run of failed attempts, if any.
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Webhook> for WebhookView {
    fn from(w: Webhook) -> Self {
        Self {
            id: w.id.to_string(),
            name: w.spec.name,
            url: w.spec.url,
            events: w.spec.events.iter().map(|e| e.as_str().to_owned()).collect(),
            method: w.spec.method,
            headers: w.spec.headers,
            body_template: w.spec.body_template,
            numbers: w.spec.numbers,
            active: w.spec.active,
            disabled_reason: w.disabled_reason,
            failing_since: w.failing_since,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// A webhook with its signing secret (create and rotate only).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// `whsec_...`: verify signatures with it. Shown on create and rotate only.
    pub secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// A label; defaults to the URL.
    pub name: Option<String>,
    pub url: String,
    #[serde(default)]
    pub events: Vec<String>,
    #[schema(value_type = Option<String>, example = "POST")]
    pub method: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[schema(value_type = Option<Object>)]
    pub body_template: Option<Value>,
    #[serde(default)]
    pub numbers: Vec<String>,
    pub active: Option<bool>,
    /// Your own `whsec_...` secret; one is generated when absent.
    pub secret: Option<String>,
}

fn double_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<Value>>, D::Error> {
    Option::<Value>::deserialize(d).map(Some)
}

/// Fields to change; absent fields keep their value. `body_template: null` restores
/// the default body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    pub name: Option<String>,
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    #[schema(value_type = Option<String>)]
    pub method: Option<String>,
    pub headers: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Object>)]
    pub body_template: Option<Option<Value>>,
    pub numbers: Option<Vec<String>>,
    /// Setting it true again clears the reason Frontdesk disabled it.
    pub active: Option<bool>,
}

fn parse_events(events: &[String]) -> Result<Vec<EventType>, ValidationError> {
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let t = EventType::parse(e).map_err(|err| err.for_field(format!("events[{i}]")))?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

fn parse_numbers(numbers: &[String]) -> Result<Vec<String>, ValidationError> {
    numbers
        .iter()
        .enumerate()
        .map(|(i, n)| {
            PhoneNumber::parse(n)
                .map(|p| p.as_str().to_owned())
                .map_err(|e| e.for_field(format!("numbers[{i}]")))
        })
        .collect()
}

/// Checks a whole spec.
fn validate(spec: &WebhookSpec, settings: &ServerSettings) -> Result<(), ApiError> {
    let check = || -> Result<(), ValidationError> {
        input::target_url("url", &spec.url, &settings.delivery.policy)?;
        input::headers("headers", &spec.headers)?;
        if let Some(t) = &spec.body_template {
            input::body_template("body_template", t)?;
        }
        Ok(())
    };
    check().map_err(|e| ApiError::invalid(&e))
}

fn parse_method(m: Option<&str>) -> Result<HttpMethod, ApiError> {
    m.map_or(Ok(HttpMethod::Post), HttpMethod::parse)
        .map_err(|e| ApiError::invalid(&e))
}

/// The secret a client supplied, checked, or a new random one.
fn secret_or_new(supplied: Option<&str>) -> Result<WebhookSecret, ApiError> {
    supplied.map_or_else(
        || Ok(WebhookSecret::generate()),
        |s| WebhookSecret::parse(s).map_err(|e| ApiError::invalid(&e)),
    )
}

fn webhook_id(id: &str) -> Result<WebhookId, ApiError> {
    path_id(id, WebhookId::parse, "webhook")
}

async fn load(store: &dyn Store, caller: &Caller, id: &str) -> Result<Webhook, ApiError> {
    let wid = webhook_id(id)?;
    found(store.get_webhook(&caller.workspace_id, &wid).await?, "webhook", id)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListWebhooks {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// List webhooks, newest first.
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks", params(ListWebhooks),
    responses((status = 200, body = List<WebhookView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_webhooks(
    State(store): StoreState,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListWebhooks>,
) -> Result<Json<List<WebhookView>>, ApiError> {
    let p = store
        .list_webhooks(
            &caller.workspace_id,
            &page(q.limit, q.cursor.as_deref(), WebhookId::PREFIX)?,
        )
        .await?;
    Ok(Json(List {
        data: p.data.into_iter().map(Into::into).collect(),
        next_cursor: p.next_cursor,
    }))
}

/// Create a webhook. The response holds its signing secret.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", request_body = CreateWebhook,
    responses((status = 201, body = WebhookWithSecret), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_webhook(
    State(store): StoreState,
    State(settings): SettingsState,
    caller: Caller,
    ApiJson(body): ApiJson<CreateWebhook>,
) -> Result<(StatusCode, Extension<SecretFields>, Json<WebhookWithSecret>), ApiError> {
    let invalid = |e: ValidationError| ApiError::invalid(&e);
    let spec = WebhookSpec {
        name: match body.name.as_deref() {
            Some(n) => webhook::validate_name(n).map_err(invalid)?,
            // Defaults to the URL, shortened to the length a name may have.
            None => body.url.trim().chars().take(100).collect(),
        },
        url: body.url.trim().to_owned(),
        events: parse_events(&body.events).map_err(invalid)?,
        method: parse_method(body.method.as_deref())?,
        headers: body.headers,
        body_template: body.body_template.filter(|t| !t.is_null()),
        numbers: parse_numbers(&body.numbers).map_err(invalid)?,
        active: body.active.unwrap_or(true),
    };
    validate(&spec, &settings)?;
    let secret = secret_or_new(body.secret.as_deref())?;
    let w = store.create_webhook(&caller.workspace_id, &spec, &secret).await?;
    Ok((
        StatusCode::CREATED,
        Extension(SecretFields(&["secret"])),
        Json(WebhookWithSecret {
            webhook: w.into(),
            secret: secret.expose().to_owned(),
        }),
    ))
}

/// Get a webhook.
#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorBody)))]
async fn get_webhook(
    State(store): StoreState,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    Ok(Json(load(&*store, &caller, &id).await?.into()))
}

/// Update a webhook: only the fields sent change.
#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)), request_body = UpdateWebhook,
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_webhook(
    State(store): StoreState,
    State(settings): SettingsState,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateWebhook>,
) -> Result<Json<WebhookView>, ApiError> {
    let invalid = |e: ValidationError| ApiError::invalid(&e);
    let current = load(&*store, &caller, &id).await?;
    let mut spec = current.spec.clone();
    if let Some(n) = &body.name {
        spec.name = webhook::validate_name(n).map_err(invalid)?;
    }
    if let Some(u) = &body.url {
        spec.url = u.trim().to_owned();
    }
    if let Some(e) = &body.events {
        spec.events = parse_events(e).map_err(invalid)?;
    }
    if body.method.is_some() {
        spec.method = parse_method(body.method.as_deref())?;
    }
    if let Some(h) = body.headers {
        spec.headers = h;
    }
    if let Some(t) = body.body_template {
        spec.body_template = t.filter(|t| !t.is_null());
    }
    if let Some(n) = &body.numbers {
        spec.numbers = parse_numbers(n).map_err(invalid)?;
    }
    if let Some(a) = body.active {
        spec.active = a;
    }
    validate(&spec, &settings)?;
    let w = found(
        store
            .update_webhook(&caller.workspace_id, &current.id, &spec, body.active.is_some())
            .await?,
        "webhook",
        &id,
    )?;
    Ok(Json(w.into()))
}

/// Delete a webhook and its delivery history.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_webhook(
    State(store): StoreState,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let wid = webhook_id(&id)?;
    if store.delete_webhook(&caller.workspace_id, &wid).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("webhook", &id))
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestWebhook {
    /// Which sample event to send (default `call.ended`).
    pub event: Option<String>,
}

/// The result of a test send.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestResult {
    /// True when the endpoint answered 2xx within the timeout.
    pub success: bool,
    pub status_code: Option<u16>,
    pub latency_ms: u32,
    /// The first KiB of the response.
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub notes: Option<String>,
    /// The sample event that was sent (not stored).
    #[schema(value_type = Object)]
    pub event: Value,
}

/// Send a sample event to the webhook now and report the attempt. The sample is not
/// stored and not retried.
#[utoipa::path(post, path = "/v1/webhooks/{id}/test", tag = "webhooks", params(("id" = String, Path)), request_body(content = Option<TestWebhook>),
    responses((status = 200, body = TestResult), (status = 404, body = ErrorBody)))]
async fn test_webhook(
    State(dispatcher): DispatcherState,
    State(store): StoreState,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<TestWebhook>,
) -> Result<Json<TestResult>, ApiError> {
    let hook = load(&*store, &caller, &id).await?;
    let kind = match body.event.as_deref() {
        None => EventType::CallEnded,
        Some(e) => EventType::parse(e).map_err(|e| ApiError::invalid(&e))?,
    };
    let event = NewEvent::new(kind, sample_call_ended_data(), &Business::default(), Utc::now());
    let stored = StoredEvent::from_new(&caller.workspace_id, &event);
    let a = dispatcher.send_once(&hook, &stored, "dlv_test").await;
    Ok(Json(TestResult {
        success: a.status_code.is_some_and(|c| (200..300).contains(&c)),
        status_code: a.status_code,
        latency_ms: a.latency_ms,
        response_body: a.response_body,
        error: a.error,
        notes: a.notes,
        event: serde_json::from_str(&stored.payload).unwrap_or(Value::Null),
    }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// Your own new `whsec_...` secret; one is generated when absent.
    pub secret: Option<String>,
}

/// Rotate the signing secret. For the rotation window (24 h) deliveries carry
/// signatures by both the old and the new secret.
#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate-secret", tag = "webhooks", params(("id" = String, Path)), request_body(content = Option<RotateSecret>),
    responses((status = 200, body = WebhookWithSecret), (status = 404, body = ErrorBody)))]
async fn rotate_secret(
    State(store): StoreState,
    State(settings): SettingsState,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<RotateSecret>,
) -> Result<(Extension<SecretFields>, Json<WebhookWithSecret>), ApiError> {
    let wid = webhook_id(&id)?;
    let secret = secret_or_new(body.secret.as_deref())?;
    let window = chrono::Duration::from_std(settings.delivery.rotation_window).unwrap_or(chrono::Duration::days(1));
    let w = found(
        store
            .rotate_webhook_secret(&caller.workspace_id, &wid, &secret, Utc::now() + window)
            .await?,
        "webhook",
        &id,
    )?;
    Ok((
        Extension(SecretFields(&["secret"])),
        Json(WebhookWithSecret {
            webhook: w.into(),
            secret: secret.expose().to_owned(),
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Replay {
    /// RFC 3339: replay events created at or after this time.
    pub since: String,
    /// RFC 3339: and before this time (default: now).
    pub until: Option<String>,
    /// Only events whose delivery to this webhook failed.
    #[serde(default)]
    pub only_failed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    /// How many deliveries were queued.
    pub queued: u64,
}

/// Queue a new delivery to this webhook for every stored event in the range that its
/// filters match (events from before the webhook existed included), or only for those
/// whose delivery to it failed.
#[utoipa::path(post, path = "/v1/webhooks/{id}/replay", tag = "webhooks", params(("id" = String, Path)), request_body = Replay,
    responses((status = 202, body = Queued), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn replay(
    State(store): StoreState,
    State(settings): SettingsState,
    State(dispatcher): DispatcherState,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Replay>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let wid = webhook_id(&id)?;
    let (since, until) = replay_range(&body.since, body.until.as_deref()).map_err(|e| ApiError::invalid(&e))?;
    let queued = queue_replay(
        &*store,
        &settings,
        &dispatcher,
        &caller.workspace_id,
        &wid,
        (since, until),
        body.only_failed,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { queued })))
}

/// A replay's range from RFC 3339 times: `since`, and `until` (when given) later.
/// Shared by the API's replay and the dashboard's recover and replay.
pub(crate) fn replay_range(
    since: &str,
    until: Option<&str>,
) -> Result<(DateTime<Utc>, Option<DateTime<Utc>>), ValidationError> {
    let since = parse_time("since", since)?;
    let until = until.map(|u| parse_time("until", u)).transpose()?;
    if until.is_some_and(|u| u <= since) {
        return Err(ValidationError::new("until", "`until` must be later than `since`"));
    }
    Ok((since, until))
}

/// Queues a new delivery to webhook `wid` for every event of the range its filters match
/// (or, `only_failed`, every one whose delivery failed: a recovery), and wakes the
/// dispatcher; returns how many were queued. Shared by the API and the dashboard.
pub(crate) async fn queue_replay(
    store: &dyn Store,
    settings: &ServerSettings,
    dispatcher: &Dispatcher,
    workspace: &WorkspaceId,
    wid: &WebhookId,
    (since, until): (DateTime<Utc>, Option<DateTime<Utc>>),
    only_failed: bool,
) -> Result<u64, ApiError> {
    let retries = settings.delivery.retry.retries();
    let queued = store.replay(workspace, wid, since, until, only_failed, retries).await?;
    if queued > 0 {
        dispatcher.wake();
    }
    Ok(queued)
}
