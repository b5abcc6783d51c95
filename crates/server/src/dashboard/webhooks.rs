//! `/webhooks`: the workspace's webhooks. The list; add one (`/webhooks/new`, the
//! signing secret shown once); edit it (`/webhooks/{id}/edit`) with a body-template
//! preview rendered from a sample call, live as you type (`/webhooks/preview`, used by
//! `static/webhook.js`); send it a test event and see the request and the response;
//! rotate its secret; turn it on or off; delete it. (Its delivery log,
//! `/webhooks/{id}`, is another page group's.)
//!
//! Every rule is the API's own (`routes::webhooks`): the same spec building and
//! validation, test send, rotation and sample event; this module only turns forms into
//! the API's requests and problems back into messages beside their fields.

use std::collections::BTreeMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::Utc;
use frontdesk_core::ValidationError;
use frontdesk_core::event::EventType;
use frontdesk_core::id::{WebhookId, WorkspaceId};
use frontdesk_core::page::PageRequest;
use frontdesk_core::template::value_text;
use frontdesk_core::webhook::{HttpMethod, Webhook, WebhookSecret, WebhookSpec};
use frontdesk_delivery::request;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::view::{Time, given, pretty_json, query};
use super::{Chrome, PageError, PageResult, Signed, render};
use crate::routes::webhooks::{self as api, CreateWebhook, TestSend, UpdateWebhook};
use crate::state::{AppState, DispatcherState, SettingsState, StoreState};
use crate::{ApiError, ServerSettings};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks", get(list).post(create))
        .route("/webhooks/new", get(new_form))
        .route("/webhooks/preview", post(preview))
        .route("/webhooks/{id}/edit", get(edit_form).post(edit))
        .route("/webhooks/{id}/test", post(test_send))
        .route("/webhooks/{id}/rotate-secret", post(rotate_secret))
        .route("/webhooks/{id}/active", post(set_active))
        .route("/webhooks/{id}/delete", post(delete))
}

/// Webhooks per list page.
const PAGE_SIZE: u32 = 50;

/// A webhook's state in words, with the badge that shows it.
pub struct StateView {
    /// The badge's class: `ok`, `warn`, `bad` or `plain`.
    pub class: &'static str,
    pub word: &'static str,
    /// Why Frontdesk disabled it.
    pub reason: Option<String>,
    /// Since when every attempt failed.
    pub failing_since: Option<Time>,
}

impl StateView {
    pub fn of(w: &Webhook) -> Self {
        let (class, word) = match (w.spec.active, &w.disabled_reason, w.failing_since) {
            (true, _, None) => ("ok", "active"),
            (true, _, Some(_)) => ("warn", "failing"),
            (false, Some(_), _) => ("bad", "disabled by Frontdesk"),
            (false, None, _) => ("plain", "inactive"),
        };
        Self {
            class,
            word,
            reason: if w.spec.active { None } else { w.disabled_reason.clone() },
            failing_since: Time::maybe(w.failing_since),
        }
    }
}

/// "every event" or the events it takes.
fn events_summary(spec: &WebhookSpec) -> String {
    if spec.events.is_empty() {
        "every event".into()
    } else {
        spec.events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// "every number" or the numbers it takes.
fn numbers_summary(spec: &WebhookSpec) -> String {
    if spec.numbers.is_empty() {
        "every number".into()
    } else {
        spec.numbers.join(", ")
    }
}

pub struct HookRow {
    pub id: String,
    pub name: String,
    pub url: String,
    pub events: String,
    pub numbers: String,
    pub state: StateView,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct ListPage {
    chrome: Chrome,
    hooks: Vec<HookRow>,
    next: Option<String>,
    deleted: bool,
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    cursor: Option<String>,
    deleted: Option<String>,
}

async fn list(State(store): StoreState, signed: Signed, Query(q): Query<ListQuery>) -> PageResult {
    let page = PageRequest::parse(Some(PAGE_SIZE), q.cursor.as_deref(), WebhookId::PREFIX)
        .map_err(|e| PageError::new(StatusCode::BAD_REQUEST, e.message))?;
    let p = store.list_webhooks(&signed.workspace_id, &page).await?;
    let hooks = p
        .data
        .iter()
        .map(|w| HookRow {
            id: w.id.to_string(),
            name: w.spec.name.clone(),
            url: w.spec.url.clone(),
            events: events_summary(&w.spec),
            numbers: numbers_summary(&w.spec),
            state: StateView::of(w),
        })
        .collect();
    Ok(render(&ListPage {
        chrome: Chrome::new(&signed, "webhooks"),
        hooks,
        next: p.next_cursor.map(|c| query(&[("cursor", &c)])),
        deleted: q.deleted.is_some(),
    })?
    .into_response())
}

/// The webhook form as the user filled it in (or as the stored webhook reads).
#[derive(Debug, Clone, Default)]
pub struct FormValues {
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    /// E.164 numbers, one per line or comma separated.
    pub numbers: String,
    pub method: String,
    /// One `Name: value` per line.
    pub headers: String,
    /// JSON text; empty for the default body.
    pub body_template: String,
    pub active: bool,
    /// Whether the webhook was active when the form was shown: `active` is written only
    /// when the user changed it (so a save cannot undo a concurrent auto-disable).
    pub was_active: bool,
}

impl FormValues {
    /// A new webhook's form.
    fn blank() -> Self {
        Self {
            method: HttpMethod::Post.as_str().into(),
            active: true,
            was_active: true,
            ..Self::default()
        }
    }

    /// The form showing a stored webhook.
    fn of(spec: &WebhookSpec) -> Self {
        Self {
            name: spec.name.clone(),
            url: spec.url.clone(),
            events: spec.events.iter().map(|e| e.as_str().to_owned()).collect(),
            numbers: spec.numbers.join("\n"),
            method: spec.method.as_str().into(),
            headers: spec
                .headers
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("\n"),
            body_template: spec
                .body_template
                .as_ref()
                .and_then(|t| serde_json::to_string_pretty(t).ok())
                .unwrap_or_default(),
            active: spec.active,
            was_active: spec.active,
        }
    }

    /// Reads a posted form (`events` repeats, one per checked box).
    fn parse(body: &[u8]) -> Self {
        let mut f = Self::default();
        for (k, v) in form_urlencoded::parse(body) {
            match &*k {
                "name" => f.name = v.into_owned(),
                "url" => f.url = v.into_owned(),
                "events" => f.events.push(v.into_owned()),
                "numbers" => f.numbers = v.into_owned(),
                "method" => f.method = v.into_owned(),
                "headers" => f.headers = v.into_owned(),
                "body_template" => f.body_template = v.into_owned(),
                "active" => f.active = v == "true",
                "was_active" => f.was_active = v == "true",
                _ => {}
            }
        }
        f
    }

    pub fn has_event(&self, e: &str) -> bool {
        self.events.iter().any(|x| x == e)
    }

    pub fn is_method(&self, m: &str) -> bool {
        self.method.eq_ignore_ascii_case(m)
    }

    fn number_list(&self) -> Vec<String> {
        self.numbers
            .split([',', '\n'])
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The headers textarea as a map: one `Name: value` per line, blank lines skipped.
    fn header_map(&self) -> Result<BTreeMap<String, String>, ValidationError> {
        let mut map = BTreeMap::new();
        for (i, line) in self.headers.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let Some((name, value)) = line.split_once(':') else {
                return Err(ValidationError::new(
                    "headers",
                    format!(
                        "line {}: `{line}` is not a header; write one per line as `Name: value`, for example `Authorization: Bearer abc123`",
                        i + 1
                    ),
                ));
            };
            let name = name.trim();
            if map.insert(name.to_owned(), value.trim().to_owned()).is_some() {
                return Err(ValidationError::new(
                    "headers",
                    format!("line {}: `{name}` is given twice; give each header once", i + 1),
                ));
            }
        }
        Ok(map)
    }

    /// The form as the API's create request, and the problems of the form's own
    /// syntax (header lines, template JSON) that the request cannot carry.
    fn create_request(&self) -> (CreateWebhook, Vec<ValidationError>) {
        let mut problems = Vec::new();
        let headers = self.header_map().unwrap_or_else(|e| {
            problems.push(e);
            BTreeMap::new()
        });
        let body_template = parse_template(&self.body_template).unwrap_or_else(|e| {
            problems.push(e);
            None
        });
        let request = CreateWebhook {
            name: given(Some(&self.name)).map(str::to_owned),
            url: self.url.clone(),
            events: self.events.clone(),
            method: given(Some(&self.method)).map(str::to_owned),
            headers,
            body_template,
            numbers: self.number_list(),
            active: Some(self.active),
            secret: None,
        };
        (request, problems)
    }

    /// The form as the API's update request (every field; `active` only when the user
    /// changed it), and the problems of the form's own syntax.
    fn update_request(&self) -> (UpdateWebhook, Vec<ValidationError>) {
        let (c, problems) = self.create_request();
        let request = UpdateWebhook {
            name: Some(self.name.trim().to_owned()),
            url: Some(c.url),
            events: Some(c.events),
            method: c.method,
            headers: Some(c.headers),
            body_template: Some(c.body_template),
            numbers: Some(c.numbers),
            active: (self.active != self.was_active).then_some(self.active),
        };
        (request, problems)
    }
}

/// A body template's text as JSON: empty is the default body; invalid JSON is reported
/// with its line and column.
fn parse_template(text: &str) -> Result<Option<Value>, ValidationError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str::<Value>(text).map(Some).map_err(|e| {
        let full = e.to_string();
        let what = full.rsplit_once(" at line ").map_or(full.as_str(), |(w, _)| w);
        ValidationError::new(
            "body_template",
            format!(
                "not valid JSON at line {}, column {}: {what}; a body template is a JSON object such as {{\"text\": \"Call from {{{{caller_name}}}}\"}}",
                e.line(),
                e.column()
            ),
        )
    })
}

/// The form fields problems are shown beside; others go in the summary only.
const FIELDS: [&str; 8] = [
    "name",
    "url",
    "events",
    "numbers",
    "method",
    "headers",
    "body_template",
    "active",
];

/// Validation problems of a form, by the field they concern.
#[derive(Debug, Default)]
pub struct Problems(Vec<ValidationError>);

impl Problems {
    /// The form field a problem's field names: `events[2]` → `events`.
    fn field(p: &ValidationError) -> &str {
        p.field.split(['[', '.']).next().unwrap_or(&p.field)
    }

    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }

    /// The messages about `field`, joined.
    pub fn of(&self, field: &str) -> Option<String> {
        let m: Vec<&str> = self
            .0
            .iter()
            .filter(|p| Self::field(p) == field)
            .map(|p| p.message.as_str())
            .collect();
        (!m.is_empty()).then(|| m.join("; "))
    }

    /// Every problem as (form field or empty, text), for the summary.
    pub fn all(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .map(|p| {
                let f = Self::field(p);
                let anchor = if FIELDS.contains(&f) {
                    f.to_owned()
                } else {
                    String::new()
                };
                (anchor, format!("{}: {}", p.field, p.message))
            })
            .collect()
    }
}

/// The body-template preview: the URL and body a delivery of the sample call would
/// send, the variables it does not know, and what is wrong with the template.
#[derive(Debug, Default, Serialize)]
pub struct Preview {
    pub url: String,
    /// Pretty JSON; none when the template is not JSON.
    pub body: Option<String>,
    /// Variables referenced but not known (they render empty).
    pub unknown: Vec<String>,
    /// What is wrong with the body template.
    pub error: Option<String>,
    /// What is wrong with the URL.
    pub url_error: Option<String>,
}

impl Preview {
    /// The unknown variables as written in a template: `{{name}}`.
    pub fn unknown_refs(&self) -> Vec<String> {
        self.unknown.iter().map(|u| reference(u)).collect()
    }
}

/// `{{name}}`.
fn reference(name: &str) -> String {
    format!("{{{{{name}}}}}")
}

/// Renders `url` and the template `text` against the sample `kind` event exactly as a
/// delivery would ([`request::prepare`], the delivery crate's own rendering), for a
/// webhook of `workspace` that is never stored.
fn preview_of(workspace: &WorkspaceId, url: &str, text: &str, kind: EventType, settings: &ServerSettings) -> Preview {
    let event = api::sample_event(workspace, kind);
    let (template, json_error) = match parse_template(text) {
        Ok(t) => (t, None),
        Err(e) => (None, Some(e.message)),
    };
    let spec = WebhookSpec {
        name: "preview".into(),
        url: url.trim().to_owned(),
        events: Vec::new(),
        method: HttpMethod::Post,
        headers: BTreeMap::new(),
        body_template: template.filter(|t| !t.is_null()),
        numbers: Vec::new(),
        active: true,
    };
    let problems = api::check_spec(&spec, settings);
    let about = |field: &str| problems.iter().find(|p| p.field == field).map(|p| p.message.clone());
    let (error, url_error) = (json_error.clone().or_else(|| about("body_template")), about("url"));
    let hook = Webhook {
        id: WebhookId::generate(),
        workspace_id: workspace.clone(),
        spec,
        secret: WebhookSecret::generate(),
        previous_secret: None,
        disabled_reason: None,
        failing_since: None,
        created_at: event.created_at,
        updated_at: event.created_at,
    };
    match request::prepare(&hook, &event, "dlv_preview", Utc::now()) {
        Ok(p) => Preview {
            url: p.outgoing.url,
            body: json_error
                .is_none()
                .then(|| pretty_json(&String::from_utf8_lossy(&p.outgoing.body))),
            unknown: p.unknown,
            error,
            url_error,
        },
        Err(e) => Preview {
            error: Some(e),
            url_error,
            ..Preview::default()
        },
    }
}

/// A template variable of the sample call, with its value.
pub struct Variable {
    /// `{{name}}`.
    pub reference: String,
    pub example: String,
}

fn variables(workspace: &WorkspaceId) -> Vec<Variable> {
    api::sample_event(workspace, EventType::CallEnded)
        .context
        .iter()
        .map(|(k, v)| Variable {
            reference: reference(k),
            example: value_text(v),
        })
        .collect()
}

/// The request a test send made, as the attempt log keeps it (the webhook's own header
/// values redacted).
pub struct RequestView {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// What a test send did.
pub struct TestView {
    pub event: &'static str,
    pub at: Time,
    pub request: Option<RequestView>,
    pub success: bool,
    pub status: Option<u16>,
    pub response_headers: Option<Vec<(String, String)>>,
    pub latency_ms: u32,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub notes: Option<String>,
}

impl TestView {
    fn of(kind: EventType, sent: TestSend) -> Self {
        let a = sent.attempt;
        Self {
            event: kind.as_str(),
            at: Time::of(a.attempted_at),
            request: a.request.map(|r| RequestView {
                method: r.method,
                url: r.url,
                headers: r.headers,
                body: pretty_json(&r.body),
            }),
            success: a.status_code.is_some_and(|c| (200..300).contains(&c)),
            status: a.status_code,
            response_headers: a.response_headers,
            latency_ms: a.latency_ms,
            response_body: a.response_body,
            error: a.error,
            notes: a.notes,
        }
    }
}

/// What the edit page shows about the stored webhook.
pub struct HookInfo {
    pub id: String,
    pub name: String,
    pub state: StateView,
    pub active: bool,
    pub created: Time,
    pub updated: Time,
}

#[derive(Template)]
#[template(path = "webhook_form.html")]
struct FormPage {
    chrome: Chrome,
    /// The webhook being edited; none on the new-webhook form.
    hook: Option<HookInfo>,
    form: FormValues,
    problems: Problems,
    preview: Preview,
    variables: Vec<Variable>,
    event_types: Vec<&'static str>,
    methods: Vec<&'static str>,
    test: Option<TestView>,
    saved: bool,
    rotation: String,
}

impl FormPage {
    fn new(
        signed: &Signed,
        hook: Option<&Webhook>,
        form: FormValues,
        problems: Problems,
        settings: &ServerSettings,
    ) -> Self {
        let preview = preview_of(
            &signed.workspace_id,
            &form.url,
            &form.body_template,
            EventType::CallEnded,
            settings,
        );
        Self {
            chrome: Chrome::new(signed, "webhooks"),
            hook: hook.map(|w| HookInfo {
                id: w.id.to_string(),
                name: w.spec.name.clone(),
                state: StateView::of(w),
                active: w.spec.active,
                created: Time::of(w.created_at),
                updated: Time::of(w.updated_at),
            }),
            form,
            problems,
            preview,
            variables: variables(&signed.workspace_id),
            event_types: EventType::ALL.iter().map(|e| e.as_str()).collect(),
            methods: [HttpMethod::Post, HttpMethod::Put, HttpMethod::Patch]
                .iter()
                .map(|m| m.as_str())
                .collect(),
            test: None,
            saved: false,
            rotation: rotation_window(settings),
        }
    }

    /// Whether the test form's event select shows `e` (the one just sent, else
    /// `call.ended`).
    pub fn is_test_event(&self, e: &str) -> bool {
        self.test.as_ref().map_or(EventType::CallEnded.as_str(), |t| t.event) == e
    }

    /// The page, 422 when the form has problems.
    fn respond(&self) -> PageResult {
        let status = if self.problems.any() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        };
        Ok((status, render(self)?).into_response())
    }
}

/// How long an old secret keeps signing, in words.
fn rotation_window(settings: &ServerSettings) -> String {
    let secs = settings.delivery.rotation_window.as_secs();
    if secs >= 3600 && secs.is_multiple_of(3600) {
        let h = secs / 3600;
        format!("{h} hour{}", if h == 1 { "" } else { "s" })
    } else {
        super::view::duration(i64::try_from(secs).unwrap_or(i64::MAX))
    }
}

async fn new_form(State(settings): SettingsState, signed: Signed) -> PageResult {
    FormPage::new(&signed, None, FormValues::blank(), Problems::default(), &settings).respond()
}

#[derive(Template)]
#[template(path = "webhook_secret.html")]
struct SecretPage {
    chrome: Chrome,
    id: String,
    name: String,
    secret: String,
    /// A rotation (else a new webhook).
    rotated: bool,
    rotation: String,
}

async fn create(State(store): StoreState, State(settings): SettingsState, signed: Signed, body: Bytes) -> PageResult {
    let form = FormValues::parse(&body);
    let (request, mut problems) = form.create_request();
    match api::new_spec(request, &settings) {
        Ok(spec) if problems.is_empty() => {
            let secret = api::secret_or_new(None)?;
            let w = store.create_webhook(&signed.workspace_id, &spec, &secret).await?;
            tracing::info!(by = %signed.login, webhook = %w.id, "webhook added in the dashboard");
            return secret_page(&signed, w, &secret, false, &settings);
        }
        Ok(_) => {}
        Err(p) => problems.extend(p),
    }
    FormPage::new(&signed, None, form, Problems(problems), &settings).respond()
}

/// The page that shows a webhook's new signing secret, this once.
fn secret_page(
    signed: &Signed,
    w: Webhook,
    secret: &WebhookSecret,
    rotated: bool,
    settings: &ServerSettings,
) -> PageResult {
    let page = SecretPage {
        chrome: Chrome::new(signed, "webhooks"),
        id: w.id.to_string(),
        name: w.spec.name,
        secret: secret.expose().to_owned(),
        rotated,
        rotation: rotation_window(settings),
    };
    Ok(render(&page)?.into_response())
}

#[derive(Debug, Default, Deserialize)]
struct EditQuery {
    saved: Option<String>,
}

async fn edit_form(
    State(store): StoreState,
    State(settings): SettingsState,
    signed: Signed,
    Path(id): Path<String>,
    Query(q): Query<EditQuery>,
) -> PageResult {
    let hook = api::load(&*store, &signed.workspace_id, &id).await?;
    let mut page = FormPage::new(
        &signed,
        Some(&hook),
        FormValues::of(&hook.spec),
        Problems::default(),
        &settings,
    );
    page.saved = q.saved.is_some();
    page.respond()
}

async fn edit(
    State(store): StoreState,
    State(settings): SettingsState,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let hook = api::load(&*store, &signed.workspace_id, &id).await?;
    let form = FormValues::parse(&body);
    let (mut request, mut problems) = form.update_request();
    // The boxes list the events in catalog order: the same events checked are no change.
    if let Some(e) = &request.events {
        let same =
            e.len() == hook.spec.events.len() && hook.spec.events.iter().all(|h| e.iter().any(|x| x == h.as_str()));
        if same {
            request.events = None;
        }
    }
    let set_active = request.active.is_some();
    match api::updated_spec(&hook.spec, request, &settings) {
        Ok(spec) if problems.is_empty() => {
            store
                .update_webhook(&signed.workspace_id, &hook.id, &spec, set_active)
                .await?
                .ok_or_else(|| PageError::not_found("webhook", &id))?;
            return Ok(Redirect::to(&format!("/webhooks/{id}/edit?saved=1")).into_response());
        }
        Ok(_) => {}
        Err(p) => problems.extend(p),
    }
    FormPage::new(&signed, Some(&hook), form, Problems(problems), &settings).respond()
}

#[derive(Debug, Default, Deserialize)]
struct PreviewRequest {
    #[serde(default)]
    url: String,
    #[serde(default)]
    body_template: String,
    /// The sample event type (default `call.ended`).
    #[serde(default)]
    event: Option<String>,
}

/// `POST /webhooks/preview` (JSON, from `webhook.js`): the [`Preview`] of a URL and a
/// body template as typed.
async fn preview(State(settings): SettingsState, signed: Signed, Json(req): Json<PreviewRequest>) -> PageResult {
    let kind = match given(req.event.as_deref()) {
        None => EventType::CallEnded,
        Some(e) => EventType::parse(e).map_err(|e| ApiError::invalid(&e))?,
    };
    let p = preview_of(&signed.workspace_id, &req.url, &req.body_template, kind, &settings);
    Ok(Json(p).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct TestForm {
    #[serde(default)]
    event: String,
}

async fn test_send(
    State(store): StoreState,
    State(settings): SettingsState,
    State(dispatcher): DispatcherState,
    signed: Signed,
    Path(id): Path<String>,
    Form(f): Form<TestForm>,
) -> PageResult {
    let hook = api::load(&*store, &signed.workspace_id, &id).await?;
    let kind = match given(Some(&f.event)) {
        None => EventType::CallEnded,
        Some(e) => EventType::parse(e).map_err(|e| ApiError::invalid(&e))?,
    };
    let sent = api::send_test(&dispatcher, &hook, kind).await;
    let mut page = FormPage::new(
        &signed,
        Some(&hook),
        FormValues::of(&hook.spec),
        Problems::default(),
        &settings,
    );
    page.test = Some(TestView::of(kind, sent));
    page.respond()
}

async fn rotate_secret(
    State(store): StoreState,
    State(settings): SettingsState,
    signed: Signed,
    Path(id): Path<String>,
) -> PageResult {
    let wid = api::webhook_id(&id)?;
    let secret = api::secret_or_new(None)?;
    let w = api::rotate(&*store, &settings, &signed.workspace_id, &wid, &secret)
        .await?
        .ok_or_else(|| PageError::not_found("webhook", &id))?;
    tracing::info!(by = %signed.login, webhook = %w.id, "webhook secret rotated in the dashboard");
    secret_page(&signed, w, &secret, true, &settings)
}

#[derive(Debug, Default, Deserialize)]
struct ActiveForm {
    #[serde(default)]
    active: String,
}

/// Turns a webhook on or off, as the API's PATCH with `active` does (turning it on
/// clears the reason Frontdesk disabled it).
async fn set_active(
    State(store): StoreState,
    State(settings): SettingsState,
    signed: Signed,
    Path(id): Path<String>,
    Form(f): Form<ActiveForm>,
) -> PageResult {
    let hook = api::load(&*store, &signed.workspace_id, &id).await?;
    let active = match f.active.as_str() {
        "true" => true,
        "false" => false,
        other => {
            return Err(ApiError::invalid(&ValidationError::new(
                "active",
                format!("`{other}` is neither `true` nor `false`"),
            ))
            .into());
        }
    };
    let change = UpdateWebhook {
        active: Some(active),
        ..UpdateWebhook::default()
    };
    let spec = api::updated_spec(&hook.spec, change, &settings).map_err(|p| api::first_problem(&p))?;
    store
        .update_webhook(&signed.workspace_id, &hook.id, &spec, true)
        .await?
        .ok_or_else(|| PageError::not_found("webhook", &id))?;
    Ok(Redirect::to(&format!("/webhooks/{id}/edit")).into_response())
}

async fn delete(State(store): StoreState, signed: Signed, Path(id): Path<String>) -> PageResult {
    let wid = api::webhook_id(&id)?;
    if !store.delete_webhook(&signed.workspace_id, &wid).await? {
        return Err(PageError::not_found("webhook", &id));
    }
    tracing::info!(by = %signed.login, webhook = %wid, "webhook deleted in the dashboard");
    Ok(Redirect::to("/webhooks?deleted=1").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_lines_become_the_api_request() {
        let f = FormValues::parse(
            b"name=CRM&url=https%3A%2F%2Fx.example%2Fh&events=call.ended&events=data.collected\
              &numbers=%2B15550100000%2C+%2B15550100001%0D%0A%2B15550100002&method=PUT\
              &headers=Authorization%3A+Bearer+a%3Ab%0D%0A%0D%0AX-Team%3A+sales&active=true&was_active=true",
        );
        let (c, problems) = f.create_request();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(c.events, ["call.ended", "data.collected"]);
        assert_eq!(c.numbers, ["+15550100000", "+15550100001", "+15550100002"]);
        assert_eq!(c.headers["Authorization"], "Bearer a:b");
        assert_eq!(c.headers["X-Team"], "sales");
        assert_eq!(c.method.as_deref(), Some("PUT"));
        assert!(c.body_template.is_none());
        let (u, _) = f.update_request();
        assert_eq!(u.active, None, "unchanged: not written");
    }

    #[test]
    fn form_syntax_problems_name_their_field() {
        let f = FormValues {
            headers: "X-Ok: 1\nnot a header".into(),
            body_template: "{\n  \"a\": \n}".into(),
            ..FormValues::blank()
        };
        let (_, problems) = f.create_request();
        let p = Problems(problems);
        assert!(p.of("headers").is_some_and(|m| m.contains("line 2")), "{p:?}");
        let t = p.of("body_template").unwrap_or_default();
        assert!(t.contains("line 3, column 1"), "{t}");
        assert_eq!(t.matches("line").count(), 1, "said once: {t}");
        let spec = WebhookSpec {
            name: "n".into(),
            url: "https://x.example".into(),
            events: vec![EventType::CallEnded],
            method: HttpMethod::Patch,
            headers: BTreeMap::from([("A".into(), "b".into())]),
            body_template: Some(serde_json::json!({"t": "{{caller_name}}"})),
            numbers: vec!["+15550100000".into()],
            active: false,
        };
        let back = FormValues::of(&spec);
        let (c, problems) = back.create_request();
        assert!(problems.is_empty());
        assert_eq!(c.body_template, spec.body_template);
        assert_eq!(c.headers, spec.headers);
        let p = Problems(vec![
            ValidationError::new("events[1]", "bad"),
            ValidationError::new("secret", "s"),
        ]);
        assert_eq!(p.of("events").as_deref(), Some("bad"));
        assert_eq!(p.all()[1].0, "", "not a form field");
    }
}
