//! `/agents`: the workspace's agents (a form creates one) and its phone numbers (add
//! one, route it to another agent, remove it); `/agents/{id}`: an agent's whole
//! configuration, edited as a form with a JSON box per structured section and checked
//! with exactly the validation of `PUT /v1/agents/{id}`. An error is shown next to the
//! input or section its path (`data_to_collect[2].type`) points into, the input kept.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use frontdesk_core::ValidationError;
use frontdesk_core::agent::{Agent, Number};
use frontdesk_core::fields::TYPE_NAMES;
use frontdesk_core::id::{AgentId, NumberId};
use frontdesk_core::page::PageRequest;
use frontdesk_store::Store;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::view::{Time, given, query};
use super::{Chrome, PageError, PageResult, Signed, render};
use crate::ApiError;
use crate::routes::agents::validate;
use crate::routes::numbers::{self, CreateNumber, UpdateNumber};
use crate::state::{AppState, SettingsState, StoreState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/agents", get(list).post(create))
        .route("/agents/numbers", post(add_number))
        .route("/agents/numbers/{id}", post(route_number))
        .route("/agents/numbers/{id}/remove", post(remove_number))
        .route("/agents/{id}", get(edit).post(save))
}

/// Rows a list page shows.
const PAGE_SIZE: u32 = 50;

/// What the notice after a redirect says (`?notice=` names one; nothing else is shown).
fn notice(key: Option<&str>) -> Option<&'static str> {
    Some(match key? {
        "created" => "Agent created. Edit its configuration below, then try it in a test call.",
        "saved" => "Saved.",
        "number-added" => "Number added.",
        "number-routed" => "Number routed to its new agent.",
        "number-removed" => "Number removed.",
        _ => return None,
    })
}

fn paging(limit: u32, cursor: Option<&str>, prefix: &str) -> Result<PageRequest, PageError> {
    PageRequest::parse(Some(limit), cursor, prefix).map_err(|e| PageError::new(StatusCode::BAD_REQUEST, e.to_string()))
}

/// The first `max` characters of a text, with an ellipsis when cut.
fn excerpt(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

fn string_at(config: &Value, key: &str) -> String {
    config.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

// ---------------------------------------------------------------------------------
// `/agents`

pub struct AgentRow {
    pub id: String,
    pub name: String,
    pub greeting: String,
    pub numbers: Vec<String>,
    pub updated: Time,
}

pub struct NumberRow {
    pub id: String,
    pub number: String,
    /// `sim`, or `twilio (gather)` / `twilio (relay)`.
    pub carrier: String,
    pub agent_id: String,
}

pub struct AgentOption {
    pub id: String,
    pub name: String,
}

/// The create-an-agent form as sent, and its errors.
#[derive(Debug, Default, Deserialize)]
struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    config: String,
    #[serde(skip)]
    name_error: Option<String>,
    #[serde(skip)]
    config_error: Option<String>,
}

/// The add-a-number form as sent, and its errors.
#[derive(Debug, Deserialize)]
struct NumberForm {
    #[serde(default)]
    number: String,
    #[serde(default = "sim")]
    provider: String,
    #[serde(default)]
    agent_id: String,
    #[serde(skip)]
    number_error: Option<String>,
    #[serde(skip)]
    provider_error: Option<String>,
    #[serde(skip)]
    agent_error: Option<String>,
}

fn sim() -> String {
    "sim".into()
}

impl Default for NumberForm {
    fn default() -> Self {
        Self {
            number: String::new(),
            provider: sim(),
            agent_id: String::new(),
            number_error: None,
            provider_error: None,
            agent_error: None,
        }
    }
}

#[derive(Template)]
#[template(path = "agents.html")]
struct AgentsPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    agents: Vec<AgentRow>,
    next: Option<String>,
    numbers: Vec<NumberRow>,
    numbers_next: Option<String>,
    /// Every agent of the workspace, for the number forms' choices.
    options: Vec<AgentOption>,
    create: CreateForm,
    add: NumberForm,
    /// A numbers action that failed (route, remove, or add without a field to blame).
    numbers_error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    cursor: Option<String>,
    ncursor: Option<String>,
    notice: Option<String>,
}

/// What the agents page shows around a form being answered.
#[derive(Default)]
struct ListState {
    q: ListQuery,
    create: CreateForm,
    add: NumberForm,
    numbers_error: Option<String>,
}

fn carrier(n: &Number) -> String {
    match n.provider {
        frontdesk_core::agent::Provider::Sim => "sim".to_owned(),
        p => format!("{} ({})", p.as_str(), n.voice.mode.as_str()),
    }
}

async fn agents_page(store: &dyn Store, signed: &Signed, s: ListState) -> Result<AgentsPage, PageError> {
    let ws = &signed.workspace_id;
    let agents = store
        .list_agents_page(ws, &paging(PAGE_SIZE, s.q.cursor.as_deref(), AgentId::PREFIX)?)
        .await?;
    let numbers = store
        .list_numbers_page(ws, &paging(PAGE_SIZE, s.q.ncursor.as_deref(), NumberId::PREFIX)?)
        .await?;
    let all_numbers = store.list_numbers(ws).await?;
    let mut all_agents = store.list_agents(ws).await?;
    all_agents.sort_by_key(|a| a.name.to_lowercase());
    let cursor = s.q.cursor.as_deref().unwrap_or_default();
    let ncursor = s.q.ncursor.as_deref().unwrap_or_default();
    let mut add = s.add;
    if add.agent_id.is_empty() {
        add.agent_id = all_agents.first().map(|a| a.id.to_string()).unwrap_or_default();
    }
    Ok(AgentsPage {
        chrome: Chrome::new(signed, "agents"),
        notice: notice(s.q.notice.as_deref()),
        agents: agents
            .data
            .into_iter()
            .map(|a| AgentRow {
                numbers: all_numbers
                    .iter()
                    .filter(|n| n.agent_id == a.id)
                    .map(|n| n.number.clone())
                    .collect(),
                id: a.id.to_string(),
                greeting: excerpt(&string_at(&a.config, "greeting"), 90),
                name: a.name,
                updated: Time::of(a.updated_at),
            })
            .collect(),
        next: agents
            .next_cursor
            .map(|c| query(&[("cursor", &c), ("ncursor", ncursor)])),
        numbers: numbers
            .data
            .iter()
            .map(|n| NumberRow {
                id: n.id.to_string(),
                number: n.number.clone(),
                carrier: carrier(n),
                agent_id: n.agent_id.to_string(),
            })
            .collect(),
        numbers_next: numbers
            .next_cursor
            .map(|c| query(&[("cursor", cursor), ("ncursor", &c)])),
        options: all_agents
            .into_iter()
            .map(|a| AgentOption {
                id: a.id.to_string(),
                name: a.name,
            })
            .collect(),
        create: s.create,
        add,
        numbers_error: s.numbers_error,
    })
}

async fn list(State(store): StoreState, signed: Signed, Query(q): Query<ListQuery>) -> PageResult {
    let page = agents_page(
        &*store,
        &signed,
        ListState {
            q,
            ..ListState::default()
        },
    )
    .await?;
    Ok(render(&page)?.into_response())
}

/// The configuration a new agent starts from: one the API accepts, collecting the
/// caller's name and number.
fn default_config(name: &str) -> Value {
    json!({
        "name": name,
        "greeting": "Thanks for calling, how can I help you today?",
        "data_to_collect": [
            {"field": "first_name", "question": "May I have your name?", "type": "name", "required": true},
            {"field": "phone", "question": "What's the best number to reach you?", "type": "phone", "required": true}
        ],
        "call_types": [
            {"name": "message", "description": "wants to leave a message", "keywords": ["message"], "action": "message"},
            {"name": "general_inquiry", "description": "any other question"}
        ],
        "knowledge": [],
        "tools": [],
        "closing": "Thanks {{first_name}}, we'll be in touch soon. Goodbye!",
        "brain": "rules"
    })
}

/// A JSON syntax error as shown next to the box it is in.
fn json_error(e: &serde_json::Error) -> String {
    format!("this is not valid JSON: {e}; fix it there (line and column count from the box's first character)")
}

async fn create(
    State(store): StoreState,
    State(settings): SettingsState,
    signed: Signed,
    Form(mut form): Form<CreateForm>,
) -> PageResult {
    let name = form.name.trim().to_owned();
    let body = if form.config.trim().is_empty() {
        Ok(default_config(&name))
    } else {
        serde_json::from_str::<Value>(&form.config).map(|mut v| {
            if let (Value::Object(m), false) = (&mut v, name.is_empty()) {
                m.insert("name".into(), Value::String(name.clone()));
            }
            v
        })
    };
    let checked = match body {
        Err(e) => Err((None, Some(json_error(&e)))),
        Ok(body) => validate(&settings, &body).map_err(|e| {
            if e.field == "name" {
                (Some(e.message), None)
            } else {
                (None, Some(e.to_string()))
            }
        }),
    };
    let parsed = match checked {
        Ok(p) => p,
        Err((name_error, config_error)) => {
            form.name_error = name_error;
            form.config_error = config_error;
            let state = ListState {
                create: form,
                ..ListState::default()
            };
            let page = agents_page(&*store, &signed, state).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
    };
    let agent = store
        .create_agent(&signed.workspace_id, &parsed.config.name, &parsed.config.to_json())
        .await?;
    if parsed.warnings.is_empty() {
        return Ok(Redirect::to(&format!("/agents/{}?notice=created", agent.id)).into_response());
    }
    let page = edit_page(&*store, &signed, agent, None, notice(Some("created")), parsed.warnings).await?;
    Ok(render(&page)?.into_response())
}

/// Re-shows the agents page with a numbers form's error, with the status the API gives.
async fn numbers_refused(store: &dyn Store, signed: &Signed, e: ApiError, add: NumberForm) -> PageResult {
    let state = ListState {
        add,
        numbers_error: Some(e.message),
        ..ListState::default()
    };
    let page = agents_page(store, signed, state).await?;
    Ok((e.status, render(&page)?).into_response())
}

async fn add_number(State(store): StoreState, signed: Signed, Form(mut form): Form<NumberForm>) -> PageResult {
    let body = CreateNumber {
        number: form.number.clone(),
        agent_id: form.agent_id.clone(),
        provider: Some(form.provider.clone()),
        voice_mode: None,
        record_messages: None,
    };
    let new = match body.validate() {
        Ok(n) => n,
        Err(e) => {
            let message = Some(e.message.clone());
            match e.field.as_str() {
                "number" => form.number_error = message,
                "provider" => form.provider_error = message,
                "agent_id" => form.agent_error = message,
                _ => return numbers_refused(&*store, &signed, ApiError::invalid(&e), form).await,
            }
            let state = ListState {
                add: form,
                ..ListState::default()
            };
            let page = agents_page(&*store, &signed, state).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
    };
    match new.create(&*store, &signed.workspace_id).await {
        Ok(_) => Ok(Redirect::to("/agents?notice=number-added#numbers").into_response()),
        Err(e) => numbers_refused(&*store, &signed, e.into(), form).await,
    }
}

#[derive(Debug, Deserialize)]
struct RouteForm {
    #[serde(default)]
    agent_id: String,
}

async fn route_number(
    State(store): StoreState,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<RouteForm>,
) -> PageResult {
    let body = UpdateNumber {
        agent_id: Some(form.agent_id),
        voice_mode: None,
        record_messages: None,
    };
    match numbers::update(&*store, &signed.workspace_id, &id, &body).await {
        Ok(_) => Ok(Redirect::to("/agents?notice=number-routed#numbers").into_response()),
        Err(e) => numbers_refused(&*store, &signed, e, NumberForm::default()).await,
    }
}

async fn remove_number(State(store): StoreState, signed: Signed, Path(id): Path<String>) -> PageResult {
    match numbers::delete(&*store, &signed.workspace_id, &id).await {
        Ok(()) => Ok(Redirect::to("/agents?notice=number-removed#numbers").into_response()),
        Err(e) => numbers_refused(&*store, &signed, e, NumberForm::default()).await,
    }
}

// ---------------------------------------------------------------------------------
// `/agents/{id}`

/// One input of the configuration form: its form name (the configuration key), label,
/// hint, value as shown, and the error that concerns it.
pub struct Input {
    pub key: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub value: String,
    pub error: Option<String>,
    /// Rows of a text area (0: a one-line input).
    pub rows: u8,
}

/// One-line and free-text settings.
const TEXTS: [(&str, &str, &str, u8); 3] = [
    ("name", "Name", "How the agent is listed; callers do not hear it.", 0),
    (
        "greeting",
        "Greeting",
        "The first words of every call. May use {{owner_name}} and the other business details.",
        3,
    ),
    (
        "closing",
        "Closing",
        "Said when the call ends. May use collected fields, for example {{first_name}}.",
        3,
    ),
];

/// The business details (`business.*`), which templates may use.
const BUSINESS: [(&str, &str, &str); 4] = [
    (
        "owner_name",
        "Business name",
        "{{owner_name}}: the business the receptionist answers for.",
    ),
    ("website", "Website", "{{website}}"),
    ("booking_url", "Booking link", "{{booking_url}}"),
    ("hours", "Opening hours", "{{hours}}, for example Mon-Fri 9am-5pm."),
];

/// The structured sections, each edited as JSON.
const SECTIONS: [(&str, &str, &str, u8); 5] = [
    (
        "data_to_collect",
        "Fields to collect",
        "A list of fields, asked in order: {\"field\": \"first_name\", \"question\": \"May I have your name?\", \"type\": \"name\", \"required\": true}. An enum field lists its \"options\"; \"description\" is optional.",
        14,
    ),
    (
        "call_types",
        "Call types",
        "A list: {\"name\": \"appointment\", \"description\": \"...\", \"keywords\": [\"book\"], \"action\": \"transfer\" or \"message\" (optional)}.",
        10,
    ),
    (
        "transfer",
        "Transfer",
        "Where a caller who asks for a person goes: {\"number\": \"+15557654321\", \"triggers\": [\"human\", \"operator\"]}. Leave empty for no transfer.",
        5,
    ),
    (
        "knowledge",
        "Knowledge",
        "Questions the receptionist answers: a list of {\"question\": \"...\", \"answer\": \"...\"}.",
        8,
    ),
    (
        "tools",
        "Tools",
        "HTTP tools called during a call: a list of {\"type\": \"http\", \"tool_name\": \"...\", \"http_method\": \"POST\", \"url\": \"https://...\", \"headers\": {}, \"body_template\": {}, \"parameters\": [], \"timeout_ms\": 5000}.",
        8,
    ),
];

/// The configuration as the form shows and sends it.
pub struct ConfigForm {
    pub texts: Vec<Input>,
    pub business: Vec<Input>,
    pub sections: Vec<Input>,
    pub brain: String,
    pub brain_error: Option<String>,
    /// An error that concerns the configuration as a whole.
    pub error: Option<String>,
}

impl ConfigForm {
    /// The form filled from a stored configuration.
    fn of(config: &Value) -> Self {
        let business = config.get("business").cloned().unwrap_or(Value::Null);
        Self {
            texts: TEXTS
                .iter()
                .map(|(key, label, hint, rows)| Input {
                    key,
                    label,
                    hint,
                    value: string_at(config, key),
                    error: None,
                    rows: *rows,
                })
                .collect(),
            business: BUSINESS
                .iter()
                .map(|(key, label, hint)| Input {
                    key,
                    label,
                    hint,
                    value: string_at(&business, key),
                    error: None,
                    rows: 0,
                })
                .collect(),
            sections: SECTIONS
                .iter()
                .map(|(key, label, hint, rows)| Input {
                    key,
                    label,
                    hint,
                    value: match config.get(*key) {
                        None | Some(Value::Null) => String::new(),
                        Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
                    },
                    error: None,
                    rows: *rows,
                })
                .collect(),
            brain: match string_at(config, "brain").as_str() {
                "" => "rules".to_owned(),
                b => b.to_owned(),
            },
            brain_error: None,
            error: None,
        }
    }

    /// The form as sent (values kept as typed).
    fn sent(form: &HashMap<String, String>) -> Self {
        let value = |k: &str| form.get(k).cloned().unwrap_or_default();
        let mut f = Self::of(&Value::Null);
        for i in f.texts.iter_mut().chain(&mut f.business).chain(&mut f.sections) {
            i.value = value(i.key);
        }
        f.brain = value("brain");
        f
    }

    /// The configuration JSON the form describes, or the form with an error next to
    /// each section that is not JSON.
    fn assemble(&mut self) -> Option<Value> {
        let mut config = Map::new();
        for i in &self.texts {
            config.insert(i.key.into(), Value::String(i.value.clone()));
        }
        let business: Map<String, Value> = self
            .business
            .iter()
            .filter_map(|i| given(Some(&i.value)).map(|v| (i.key.to_owned(), Value::String(v.to_owned()))))
            .collect();
        if !business.is_empty() {
            config.insert("business".into(), Value::Object(business));
        }
        let mut ok = true;
        for i in &mut self.sections {
            if i.value.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(&i.value) {
                Ok(v) => {
                    config.insert(i.key.into(), v);
                }
                Err(e) => {
                    i.error = Some(json_error(&e));
                    ok = false;
                }
            }
        }
        config.insert("brain".into(), Value::String(self.brain.clone()));
        ok.then_some(Value::Object(config))
    }

    /// Puts a validation error next to the input or section its path points into
    /// (`data_to_collect[2].type` → the fields section; `business.hours` → hours).
    fn blame(&mut self, e: &ValidationError) {
        let path = e.field.as_str();
        let head = path.split(['.', '[']).next().unwrap_or_default();
        let target = if head == "business" {
            path.strip_prefix("business.").unwrap_or_default()
        } else {
            head
        };
        if target == "brain" {
            self.brain_error = Some(e.message.clone());
            return;
        }
        if let Some(i) = self
            .texts
            .iter_mut()
            .chain(&mut self.business)
            .find(|i| i.key == target)
        {
            i.error = Some(e.message.clone());
        } else if let Some(i) = self.sections.iter_mut().find(|i| i.key == target) {
            i.error = Some(e.to_string());
        } else {
            self.error = Some(e.to_string());
        }
    }

    fn has_errors(&self) -> bool {
        self.error.is_some()
            || self.brain_error.is_some()
            || self
                .texts
                .iter()
                .chain(&self.business)
                .chain(&self.sections)
                .any(|i| i.error.is_some())
    }
}

#[derive(Template)]
#[template(path = "agents_edit.html")]
struct EditPage {
    chrome: Chrome,
    id: String,
    /// The stored name (the heading).
    title: String,
    form: ConfigForm,
    notice: Option<&'static str>,
    warnings: Vec<String>,
    numbers: Vec<NumberRow>,
    created: Time,
    updated: Time,
    types: String,
}

#[derive(Debug, Default, Deserialize)]
struct EditQuery {
    notice: Option<String>,
}

async fn load(store: &dyn Store, signed: &Signed, id: &str) -> Result<Agent, PageError> {
    let aid = AgentId::parse(id).map_err(|_| PageError::not_found("agent", id))?;
    store
        .get_agent(&signed.workspace_id, &aid)
        .await?
        .ok_or_else(|| PageError::not_found("agent", id))
}

/// The edit page of `agent`: the form as sent (with its errors) or from the record.
async fn edit_page(
    store: &dyn Store,
    signed: &Signed,
    agent: Agent,
    form: Option<ConfigForm>,
    notice: Option<&'static str>,
    warnings: Vec<String>,
) -> Result<EditPage, PageError> {
    let numbers = store.list_numbers(&signed.workspace_id).await?;
    Ok(EditPage {
        chrome: Chrome::new(signed, "agents"),
        id: agent.id.to_string(),
        form: form.unwrap_or_else(|| ConfigForm::of(&agent.config)),
        notice,
        warnings,
        numbers: numbers
            .iter()
            .filter(|n| n.agent_id == agent.id)
            .map(|n| NumberRow {
                id: n.id.to_string(),
                number: n.number.clone(),
                carrier: carrier(n),
                agent_id: n.agent_id.to_string(),
            })
            .collect(),
        created: Time::of(agent.created_at),
        updated: Time::of(agent.updated_at),
        title: agent.name,
        types: TYPE_NAMES.join(", "),
    })
}

async fn edit(
    State(store): StoreState,
    signed: Signed,
    Path(id): Path<String>,
    Query(q): Query<EditQuery>,
) -> PageResult {
    let agent = load(&*store, &signed, &id).await?;
    let page = edit_page(&*store, &signed, agent, None, notice(q.notice.as_deref()), Vec::new()).await?;
    Ok(render(&page)?.into_response())
}

async fn save(
    State(store): StoreState,
    State(settings): SettingsState,
    signed: Signed,
    Path(id): Path<String>,
    Form(sent): Form<HashMap<String, String>>,
) -> PageResult {
    let agent = load(&*store, &signed, &id).await?;
    let mut form = ConfigForm::sent(&sent);
    let parsed = match form.assemble().map(|body| validate(&settings, &body)) {
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            form.blame(&e);
            None
        }
        None => None,
    };
    let Some(parsed) = parsed.filter(|_| !form.has_errors()) else {
        let page = edit_page(&*store, &signed, agent, Some(form), None, Vec::new()).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    };
    let updated = store
        .update_agent(
            &signed.workspace_id,
            &agent.id,
            &parsed.config.name,
            &parsed.config.to_json(),
        )
        .await?
        .ok_or_else(|| PageError::not_found("agent", &id))?;
    if parsed.warnings.is_empty() {
        return Ok(Redirect::to(&format!("/agents/{id}?notice=saved")).into_response());
    }
    let page = edit_page(&*store, &signed, updated, None, notice(Some("saved")), parsed.warnings).await?;
    Ok(render(&page)?.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_configuration_is_valid() {
        let parsed = frontdesk_core::agent::AgentConfig::parse(&default_config("Front desk")).expect("valid");
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        assert_eq!(parsed.config.name, "Front desk");
    }

    #[test]
    fn errors_go_next_to_their_section() {
        let mut f = ConfigForm::of(&frontdesk_core::agent::demo_agent_config());
        f.blame(&ValidationError::new("data_to_collect[2].type", "bad"));
        f.blame(&ValidationError::new("business.hours", "too long"));
        f.blame(&ValidationError::new("greeting", "unknown variable"));
        f.blame(&ValidationError::new("body", "too big"));
        let err = |list: &[Input], key: &str| list.iter().find(|i| i.key == key).and_then(|i| i.error.clone());
        assert_eq!(
            err(&f.sections, "data_to_collect").as_deref(),
            Some("data_to_collect[2].type: bad")
        );
        assert_eq!(err(&f.business, "hours").as_deref(), Some("too long"));
        assert_eq!(err(&f.texts, "greeting").as_deref(), Some("unknown variable"));
        assert_eq!(f.error.as_deref(), Some("body: too big"));
    }

    #[test]
    fn the_form_round_trips_a_configuration() {
        let demo = frontdesk_core::agent::demo_agent_config();
        let f = ConfigForm::of(&demo);
        let sent: HashMap<String, String> = f
            .texts
            .iter()
            .chain(&f.business)
            .chain(&f.sections)
            .map(|i| (i.key.to_owned(), i.value.clone()))
            .chain([("brain".to_owned(), f.brain.clone())])
            .collect();
        let mut back = ConfigForm::sent(&sent);
        let config = back.assemble().expect("JSON");
        let a = frontdesk_core::agent::AgentConfig::parse(&demo).expect("demo");
        let b = frontdesk_core::agent::AgentConfig::parse(&config).expect("form");
        assert_eq!(a.config, b.config);
        assert!(b.warnings.is_empty());
    }
}
