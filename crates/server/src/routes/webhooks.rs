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
use frontdesk_store::{Attempt, Store, StoredEvent};
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

pub(crate) fn parse_events(events: &[String]) -> Result<Vec<EventType>, ValidationError> {
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let t = EventType::parse(e).map_err(|err| err.for_field(format!("events[{i}]")))?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

pub(crate) fn parse_numbers(numbers: &[String]) -> Result<Vec<String>, ValidationError> {
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

/// What only a whole spec can be checked for: the URL against the delivery policy, the
/// headers, the body template. Every problem found, in that order.
pub(crate) fn check_spec(spec: &WebhookSpec, settings: &ServerSettings) -> Vec<ValidationError> {
    let mut problems = Vec::new();
    problems.extend(input::target_url("url", &spec.url, &settings.delivery.policy).err());
    problems.extend(input::headers("headers", &spec.headers).err());
    if let Some(t) = &spec.body_template {
        problems.extend(input::body_template("body_template", t).err());
    }
    problems
}

/// `r`'s value, or its error noted and the default in its place.
fn noted<T: Default>(problems: &mut Vec<ValidationError>, r: Result<T, ValidationError>) -> T {
    r.unwrap_or_else(|e| {
        problems.push(e);
        T::default()
    })
}

/// The spec `body` asks to create, or every problem found, in the order the API checks
/// them (the API answers with the first; the dashboard shows each by its field).
pub(crate) fn new_spec(body: CreateWebhook, settings: &ServerSettings) -> Result<WebhookSpec, Vec<ValidationError>> {
    let mut problems = Vec::new();
    let spec = WebhookSpec {
        name: match body.name.as_deref() {
            Some(n) => noted(&mut problems, webhook::validate_name(n)),
            // Defaults to the URL, shortened to the length a name may have.
            None => body.url.trim().chars().take(100).collect(),
        },
        url: body.url.trim().to_owned(),
        events: noted(&mut problems, parse_events(&body.events)),
        method: noted(&mut problems, parse_method(body.method.as_deref())),
        headers: body.headers,
        body_template: body.body_template.filter(|t| !t.is_null()),
        numbers: noted(&mut problems, parse_numbers(&body.numbers)),
        active: body.active.unwrap_or(true),
    };
    checked(spec, problems, settings)
}

/// `current` with `body`'s changes, or every problem found, in the order the API checks
/// them. Store it with `set_active` when `body.active` was given.
pub(crate) fn updated_spec(
    current: &WebhookSpec,
    body: UpdateWebhook,
    settings: &ServerSettings,
) -> Result<WebhookSpec, Vec<ValidationError>> {
    let mut problems = Vec::new();
    let mut spec = current.clone();
    if let Some(n) = &body.name {
        spec.name = noted(&mut problems, webhook::validate_name(n));
    }
    if let Some(u) = &body.url {
        spec.url = u.trim().to_owned();
    }
    if let Some(e) = &body.events {
        spec.events = noted(&mut problems, parse_events(e));
    }
    if body.method.is_some() {
        spec.method = noted(&mut problems, parse_method(body.method.as_deref()));
    }
    if let Some(h) = body.headers {
        spec.headers = h;
    }
    if let Some(t) = body.body_template {
        spec.body_template = t.filter(|t| !t.is_null());
    }
    if let Some(n) = &body.numbers {
        spec.numbers = noted(&mut problems, parse_numbers(n));
    }
    if let Some(a) = body.active {
        spec.active = a;
    }
    checked(spec, problems, settings)
}

/// `spec` after the whole-spec checks, unless they or the parsing found problems.
fn checked(
    spec: WebhookSpec,
    mut problems: Vec<ValidationError>,
    settings: &ServerSettings,
) -> Result<WebhookSpec, Vec<ValidationError>> {
    problems.extend(check_spec(&spec, settings));
    if problems.is_empty() { Ok(spec) } else { Err(problems) }
}

/// The API's answer to a spec with problems: the first of them.
pub(crate) fn first_problem(problems: &[ValidationError]) -> ApiError {
    problems.first().map_or_else(ApiError::internal, ApiError::invalid)
}

fn parse_method(m: Option<&str>) -> Result<HttpMethod, ValidationError> {
    m.map_or(Ok(HttpMethod::Post), HttpMethod::parse)
}

/// The secret a client supplied, checked, or a new random one.
pub(crate) fn secret_or_new(supplied: Option<&str>) -> Result<WebhookSecret, ApiError> {
    supplied.map_or_else(
        || Ok(WebhookSecret::generate()),
        |s| WebhookSecret::parse(s).map_err(|e| ApiError::invalid(&e)),
    )
}

/// The sample event of a test send and of the dashboard's template preview: a sample
/// `call.ended` call's data as a `kind` event of `workspace`, not stored.
pub(crate) fn sample_event(workspace: &WorkspaceId, kind: EventType) -> StoredEvent {
    let event = NewEvent::new(kind, sample_call_ended_data(), &Business::default(), Utc::now());
    StoredEvent::from_new(workspace, &event)
}

/// What a test send did: the sample event and the attempt (which holds the request as
/// sent, the webhook's own header values redacted, and the response).
pub(crate) struct TestSend {
    pub event: StoredEvent,
    pub attempt: Attempt,
}

/// Sends a sample `kind` event to `hook` once, now, outside the queue (not stored, not
/// retried).
pub(crate) async fn send_test(dispatcher: &Dispatcher, hook: &Webhook, kind: EventType) -> TestSend {
    let event = sample_event(&hook.workspace_id, kind);
    let attempt = dispatcher.send_once(hook, &event, "dlv_test").await;
    TestSend { event, attempt }
}

/// Gives webhook `id` the signing secret `secret`; the old one keeps signing for the
/// configured rotation window. `None` when there is no such webhook.
pub(crate) async fn rotate(
    store: &dyn Store,
    settings: &ServerSettings,
    workspace: &WorkspaceId,
    id: &WebhookId,
    secret: &WebhookSecret,
) -> Result<Option<Webhook>, ApiError> {
    let window = chrono::Duration::from_std(settings.delivery.rotation_window).unwrap_or(chrono::Duration::days(1));
    Ok(store
        .rotate_webhook_secret(workspace, id, secret, Utc::now() + window)
        .await?)
}

/// A webhook id from a path; one that cannot be an id is not found.
pub(crate) fn webhook_id(id: &str) -> Result<WebhookId, ApiError> {
    path_id(id, WebhookId::parse, "webhook")
}

/// `workspace`'s webhook `id` (from a path), or 404.
pub(crate) async fn load(store: &dyn Store, workspace: &WorkspaceId, id: &str) -> Result<Webhook, ApiError> {
    let wid = webhook_id(id)?;
    found(store.get_webhook(workspace, &wid).await?, "webhook", id)
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
    let supplied = body.secret.clone();
    let spec = new_spec(body, &settings).map_err(|p| first_problem(&p))?;
    let secret = secret_or_new(supplied.as_deref())?;
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
    Ok(Json(load(&*store, &caller.workspace_id, &id).await?.into()))
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
    let current = load(&*store, &caller.workspace_id, &id).await?;
    let set_active = body.active.is_some();
    let spec = updated_spec(&current.spec, body, &settings).map_err(|p| first_problem(&p))?;
    let w = found(
        store
            .update_webhook(&caller.workspace_id, &current.id, &spec, set_active)
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
    let hook = load(&*store, &caller.workspace_id, &id).await?;
    let kind = match body.event.as_deref() {
        None => EventType::CallEnded,
        Some(e) => EventType::parse(e).map_err(|e| ApiError::invalid(&e))?,
    };
    let TestSend { event, attempt: a, .. } = send_test(&dispatcher, &hook, kind).await;
    Ok(Json(TestResult {
        success: a.status_code.is_some_and(|c| (200..300).contains(&c)),
        status_code: a.status_code,
        latency_ms: a.latency_ms,
        response_body: a.response_body,
        error: a.error,
        notes: a.notes,
        event: serde_json::from_str(&event.payload).unwrap_or(Value::Null),
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
    let w = found(
        rotate(&*store, &settings, &caller.workspace_id, &wid, &secret).await?,
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
