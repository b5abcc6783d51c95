//! `/calls`: the workspace's calls, newest first, a page at a time, filtered by status,
//! call type, direction, business number and time, and searched by caller and
//! transcript (the filters of `GET /v1/calls`, read by the same code).
//!
//! `/calls/{id}`: one call: its facts, the transcript as a conversation, the collected
//! fields, summary, message and tool calls, and every event it caused with each
//! delivery's status (linked to `/deliveries/{id}` and `/webhooks/{id}`).

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{NaiveDateTime, SecondsFormat, Utc};
use frontdesk_core::ValidationError;
use frontdesk_core::agent::DEMO_NUMBER;
use frontdesk_core::call::{Call, CallStatus, Direction, Speaker};
use frontdesk_core::id::CallId;
use frontdesk_core::page::PageRequest;
use frontdesk_store::{DeliveryFilter, DeliveryStatus, EventFilter, Store, StoredEvent};
use serde::Deserialize;
use serde_json::Value;

use super::view::{Time, duration, given, pretty_json, query};
use super::{Chrome, PageError, PageResult, Signed, render};
use crate::routes::calls::{CallQuery, MAX_SEARCH, call_filter};
use crate::state::{AppState, SettingsState, StoreState};

/// Calls a list page shows unless `limit` says otherwise.
const PAGE_SIZE: u32 = 50;
/// The most calls one list page shows.
const MAX_PAGE: u32 = 100;
/// Events (and deliveries per event) read for one call page, a page of 100 at a time.
const EVENT_PAGE: u32 = 100;
const MAX_EVENT_PAGES: usize = 10;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/calls", get(list)).route("/calls/{id}", get(show))
}

/// A status as a badge: words, and a colour class that only repeats them.
pub struct Badge {
    pub label: String,
    pub class: &'static str,
}

impl Badge {
    fn call(s: CallStatus) -> Self {
        let class = match s {
            CallStatus::Completed => "ok",
            CallStatus::Failed | CallStatus::Busy | CallStatus::NoAnswer => "bad",
            CallStatus::Queued | CallStatus::Ringing | CallStatus::InProgress => "warn",
            CallStatus::Canceled => "plain",
        };
        Self {
            label: s.as_str().replace('_', " "),
            class,
        }
    }

    fn delivery(s: DeliveryStatus) -> Self {
        let class = match s {
            DeliveryStatus::Succeeded => "ok",
            DeliveryStatus::Failed => "bad",
            DeliveryStatus::Pending => "warn",
        };
        Self {
            label: s.as_str().to_owned(),
            class,
        }
    }
}

/// The other party's number: the caller of an inbound call, the callee of an outbound one.
fn other_party(c: &Call) -> &str {
    match c.direction {
        Direction::Inbound => &c.from,
        Direction::Outbound => &c.to,
    }
}

// ---------------------------------------------------------------------------------
// The list

/// The list's query string, as the filter form sends it (empty fields included).
#[derive(Debug, Default, Deserialize)]
struct ListParams {
    limit: Option<String>,
    cursor: Option<String>,
    status: Option<String>,
    call_type: Option<String>,
    direction: Option<String>,
    number: Option<String>,
    /// RFC 3339, filled by the page script from the `datetime-local` inputs.
    since: Option<String>,
    until: Option<String>,
    /// The `datetime-local` inputs themselves, read as UTC when the script did not run.
    since_local: Option<String>,
    until_local: Option<String>,
    q: Option<String>,
}

/// The filters in force, as given (trimmed; empty when not set).
#[derive(Debug, Default, Clone)]
pub struct Filters {
    pub status: String,
    pub call_type: String,
    pub direction: String,
    pub number: String,
    pub since: String,
    pub until: String,
    pub q: String,
    pub limit: String,
}

/// A `datetime-local` value (`2026-01-02T15:30`) read as UTC, as RFC 3339; the text
/// itself when it is not one (the filter then names the problem).
fn local_as_utc(v: &str) -> String {
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(v, f).ok())
        .map_or_else(
            || v.to_owned(),
            |t| t.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true),
        )
}

impl Filters {
    fn of(p: &ListParams) -> Self {
        let text = |v: &Option<String>| given(v.as_deref()).unwrap_or_default().to_owned();
        let time = |utc: &Option<String>, local: &Option<String>| {
            given(utc.as_deref()).map_or_else(
                || given(local.as_deref()).map(local_as_utc).unwrap_or_default(),
                str::to_owned,
            )
        };
        Self {
            status: text(&p.status),
            call_type: text(&p.call_type),
            direction: text(&p.direction),
            number: text(&p.number),
            since: time(&p.since, &p.since_local),
            until: time(&p.until, &p.until_local),
            q: text(&p.q),
            limit: text(&p.limit),
        }
    }

    /// Whether any filter (not the page size) is set.
    pub fn any(&self) -> bool {
        [
            &self.status,
            &self.call_type,
            &self.direction,
            &self.number,
            &self.since,
            &self.until,
            &self.q,
        ]
        .iter()
        .any(|v| !v.is_empty())
    }

    /// The API's query, for the API's own checks.
    fn api_query(&self) -> CallQuery {
        let opt = |v: &String| (!v.is_empty()).then(|| v.clone());
        CallQuery {
            limit: None,
            cursor: None,
            status: opt(&self.status),
            call_type: opt(&self.call_type),
            direction: opt(&self.direction),
            number: opt(&self.number),
            since: opt(&self.since),
            until: opt(&self.until),
            q: opt(&self.q),
        }
    }

    /// This list's link with `cursor` (a next page).
    fn link(&self, cursor: &str) -> String {
        query(&[
            ("status", &self.status),
            ("call_type", &self.call_type),
            ("direction", &self.direction),
            ("number", &self.number),
            ("since", &self.since),
            ("until", &self.until),
            ("q", &self.q),
            ("limit", &self.limit),
            ("cursor", cursor),
        ])
    }

    fn page(&self, cursor: Option<&str>) -> Result<PageRequest, ValidationError> {
        let limit = match self.limit.as_str() {
            "" => PAGE_SIZE,
            l => l.parse::<u32>().map_err(|_| {
                ValidationError::new(
                    "limit",
                    format!("`{l}` is not a page size; give a whole number from 1 to {MAX_PAGE}"),
                )
            })?,
        };
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ValidationError::new(
                "limit",
                format!("a page shows between 1 and {MAX_PAGE} calls, not {limit}; set `limit` in that range"),
            ));
        }
        PageRequest::parse(Some(limit), cursor, CallId::PREFIX)
    }
}

pub struct CallRow {
    pub id: String,
    pub started: Time,
    pub direction: &'static str,
    pub from: String,
    pub to: String,
    pub other: String,
    pub caller_name: Option<String>,
    pub call_type: Option<String>,
    pub status: Badge,
    pub duration: String,
}

impl CallRow {
    fn of(c: Call, now: chrono::DateTime<Utc>) -> Self {
        Self {
            id: c.id.to_string(),
            started: Time::of(c.started_at),
            direction: c.direction.as_str(),
            other: other_party(&c).to_owned(),
            caller_name: c.caller.name.clone(),
            call_type: c.call_type.clone(),
            status: Badge::call(c.status),
            duration: duration(c.duration_seconds(now)),
            from: c.from,
            to: c.to,
        }
    }
}

#[derive(Template)]
#[template(path = "calls.html")]
struct CallsPage {
    chrome: Chrome,
    f: Filters,
    calls: Vec<CallRow>,
    next: Option<String>,
    /// A filter that could not be read: (its field, what is wrong).
    error: Option<(String, String)>,
    /// Every call status: (value, words).
    statuses: Vec<(&'static str, String)>,
    /// The call types the workspace's agents name.
    call_types: Vec<String>,
    /// The workspace's numbers (and the filtered one, if it is not among them).
    numbers: Vec<String>,
    /// A number to call in the empty state's example.
    example_number: String,
    /// Where the API is, for the empty state's example.
    server_url: String,
    max_search: usize,
}

impl CallsPage {
    /// The message for `field`, when that filter is the one in error.
    fn error_for(&self, field: &str) -> Option<&str> {
        self.error.as_ref().filter(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }

    /// The message of an error no field of the form shows (the cursor, the page size).
    fn other_error(&self) -> Option<&str> {
        const SHOWN: [&str; 7] = ["status", "call_type", "direction", "number", "since", "until", "q"];
        self.error
            .as_ref()
            .filter(|(f, _)| !SHOWN.contains(&f.as_str()))
            .map(|(_, m)| m.as_str())
    }
}

/// The call type names the workspace's agents configure, sorted, once each.
fn call_types_of(agents: &[frontdesk_core::agent::Agent]) -> Vec<String> {
    let mut types: Vec<String> = agents
        .iter()
        .filter_map(|a| a.config.get("call_types").and_then(Value::as_array))
        .flatten()
        .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    types.sort();
    types.dedup();
    types
}

async fn list(
    State(store): StoreState,
    State(settings): SettingsState,
    signed: Signed,
    Query(p): Query<ListParams>,
) -> PageResult {
    let f = Filters::of(&p);
    let cursor = given(p.cursor.as_deref());
    let read = f
        .page(cursor)
        .and_then(|page| call_filter(&f.api_query()).map(|filter| (page, filter)));
    let (calls, next, error) = match read {
        Ok((page, filter)) => {
            let p = store.list_calls(&signed.workspace_id, &filter, &page).await?;
            let now = Utc::now();
            let next = p.next_cursor.map(|c| f.link(&c));
            (p.data.into_iter().map(|c| CallRow::of(c, now)).collect(), next, None)
        }
        Err(e) => (Vec::new(), None, Some((e.field, e.message))),
    };
    let mut numbers: Vec<String> = store
        .list_numbers(&signed.workspace_id)
        .await?
        .into_iter()
        .map(|n| n.number)
        .collect();
    let example_number = numbers.first().cloned().unwrap_or_else(|| DEMO_NUMBER.to_owned());
    if !f.number.is_empty() && !numbers.contains(&f.number) {
        numbers.push(f.number.clone());
    }
    let page = CallsPage {
        chrome: Chrome::new(&signed, "calls"),
        call_types: call_types_of(&store.list_agents(&signed.workspace_id).await?),
        statuses: CallStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.as_str().replace('_', " ")))
            .collect(),
        numbers,
        example_number,
        server_url: settings.public_url.as_deref().map_or_else(
            || format!("http://localhost:{}", settings.listen.port()),
            |u| u.trim_end_matches('/').to_owned(),
        ),
        max_search: MAX_SEARCH,
        f,
        calls,
        next,
        error,
    };
    let status = if page.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, render(&page)?).into_response())
}

// ---------------------------------------------------------------------------------
// One call

pub struct TurnRow {
    pub caller: bool,
    pub who: &'static str,
    pub text: String,
    pub at: Time,
    pub interrupted: bool,
    /// Speech-to-text confidence, as a percentage.
    pub confidence: Option<String>,
}

pub struct ToolRow {
    pub tool: String,
    pub at: Time,
    pub ok: bool,
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    /// The whole record, as indented JSON.
    pub json: String,
}

pub struct DeliveryRow {
    pub id: String,
    pub webhook_id: String,
    /// The webhook's name (its id when it is not among the first 100).
    pub webhook: String,
    pub status: Badge,
    pub attempts: u32,
    pub last_code: Option<u16>,
    pub last_error: Option<String>,
    pub next_attempt: Option<Time>,
}

pub struct EventRow {
    pub id: String,
    pub event: &'static str,
    pub at: Time,
    /// What the event says in brief: the field a `data.collected` collected, the number
    /// a `call.transferred` went to.
    pub detail: Option<String>,
    pub payload: String,
    pub deliveries: Vec<DeliveryRow>,
    /// More deliveries than the page shows.
    pub more_deliveries: bool,
}

pub struct Facts {
    pub status: Badge,
    pub direction: &'static str,
    pub from: String,
    pub to: String,
    pub caller_name: Option<String>,
    pub caller_email: Option<String>,
    pub caller_phone: Option<String>,
    pub agent_id: String,
    /// The agent's name; `None` when it no longer exists.
    pub agent_name: Option<String>,
    pub call_type: Option<String>,
    pub started: Time,
    pub answered: Option<Time>,
    pub ended: Option<Time>,
    pub duration: String,
    pub end_reason: Option<String>,
    pub purpose: Option<String>,
    pub transferred_to: Option<String>,
    pub provider: &'static str,
    pub provider_call_id: Option<String>,
    /// What the provider reported, as indented JSON (`None` when nothing).
    pub provider_details: Option<String>,
}

#[derive(Template)]
#[template(path = "calls_detail.html")]
struct CallPage {
    chrome: Chrome,
    id: String,
    /// The other party's number.
    other: String,
    facts: Facts,
    purged: Option<Time>,
    turns: Vec<TurnRow>,
    /// Collected fields by name, in the order collected.
    fields: Vec<(String, String)>,
    summary: Option<String>,
    message: Option<String>,
    tools: Vec<ToolRow>,
    events: Vec<EventRow>,
    /// More events than the page shows.
    more_events: bool,
    /// A model brain's record of the call (`llm`, `hybrid`).
    brain: Option<BrainBox>,
}

/// What a model brain did on a call.
struct BrainBox {
    kind: String,
    turns: u64,
    model_turns: u64,
    events: Vec<frontdesk_agent::brain::BrainEvent>,
}

impl BrainBox {
    /// From the stored conversation state; `None` for the rules brain.
    fn of(state: &Value) -> Option<Self> {
        let kind = state.get("brain").and_then(Value::as_str)?;
        if kind == "rules" {
            return None;
        }
        let count = |k: &str| state.get(k).and_then(Value::as_u64).unwrap_or(0);
        Some(Self {
            kind: kind.to_owned(),
            turns: count("turns"),
            model_turns: count("model_turns"),
            events: state
                .get("events")
                .and_then(|e| serde_json::from_value(e.clone()).ok())
                .unwrap_or_default(),
        })
    }
}

fn field_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// An event's gist from its payload's `data`: `field: value`, or where a transfer went.
fn event_detail(payload: &str) -> Option<String> {
    let v: Value = serde_json::from_str(payload).ok()?;
    let data = v.get("data")?;
    if let Some(field) = data.get("field").and_then(Value::as_str) {
        let value = data.get("value").map(field_text).unwrap_or_default();
        return Some(format!("{field}: {value}"));
    }
    data.get("transferred_to")
        .and_then(Value::as_str)
        .map(|to| format!("to {to}"))
}

/// Every event about `call`, newest first (`true`: there were more than shown).
async fn events_of(store: &dyn Store, signed: &Signed, call: &CallId) -> Result<(Vec<StoredEvent>, bool), PageError> {
    let filter = EventFilter {
        call_id: Some(call.as_str().to_owned()),
        ..EventFilter::default()
    };
    let mut page = PageRequest::first(EVENT_PAGE);
    let mut all = Vec::new();
    for _ in 0..MAX_EVENT_PAGES {
        let p = store.list_events(&signed.workspace_id, &filter, &page).await?;
        all.extend(p.data);
        match p.next_cursor {
            Some(c) => page.before_id = Some(c),
            None => return Ok((all, false)),
        }
    }
    Ok((all, true))
}

async fn event_rows(store: &dyn Store, signed: &Signed, call: &CallId) -> Result<(Vec<EventRow>, bool), PageError> {
    let (events, more_events) = events_of(store, signed, call).await?;
    let hooks: HashMap<String, String> = if events.is_empty() {
        HashMap::new()
    } else {
        store
            .list_webhooks(&signed.workspace_id, &PageRequest::first(100))
            .await?
            .data
            .into_iter()
            .map(|w| (w.id.to_string(), w.spec.name))
            .collect()
    };
    let mut rows = Vec::with_capacity(events.len());
    // Oldest first: the order the call raised them.
    for e in events.into_iter().rev() {
        let filter = DeliveryFilter {
            event_id: Some(e.id.clone()),
            ..DeliveryFilter::default()
        };
        let p = store
            .list_deliveries(&signed.workspace_id, &filter, &PageRequest::first(EVENT_PAGE))
            .await?;
        let deliveries = p
            .data
            .into_iter()
            .map(|d| {
                let webhook_id = d.webhook_id.to_string();
                DeliveryRow {
                    id: d.id.to_string(),
                    webhook: hooks
                        .get(&webhook_id)
                        .filter(|n| !n.is_empty())
                        .cloned()
                        .unwrap_or_else(|| webhook_id.clone()),
                    webhook_id,
                    status: Badge::delivery(d.status),
                    attempts: d.attempts,
                    last_code: d.last_status_code,
                    last_error: d.last_error,
                    next_attempt: Time::maybe(d.next_attempt_at),
                }
            })
            .collect();
        rows.push(EventRow {
            id: e.id.to_string(),
            event: e.event.as_str(),
            at: Time::of(e.created_at),
            detail: event_detail(&e.payload),
            payload: pretty_json(&e.payload),
            deliveries,
            more_deliveries: p.next_cursor.is_some(),
        });
    }
    Ok((rows, more_events))
}

async fn show(State(store): StoreState, signed: Signed, Path(id): Path<String>) -> PageResult {
    let call_id = CallId::parse(&id).map_err(|_| PageError::not_found("call", &id))?;
    let c = store
        .get_call(&signed.workspace_id, &call_id)
        .await?
        .ok_or_else(|| PageError::not_found("call", &id))?;
    let agent_name = store
        .get_agent(&signed.workspace_id, &c.agent_id)
        .await?
        .map(|a| a.name);
    let (events, more_events) = event_rows(&*store, &signed, &call_id).await?;
    let now = Utc::now();
    let facts = Facts {
        status: Badge::call(c.status),
        direction: c.direction.as_str(),
        from: c.from.clone(),
        to: c.to.clone(),
        caller_name: c.caller.name.clone(),
        caller_email: c.caller.email.clone(),
        caller_phone: c.caller.phone.clone(),
        agent_id: c.agent_id.to_string(),
        agent_name,
        call_type: c.call_type.clone(),
        started: Time::of(c.started_at),
        answered: Time::maybe(c.answered_at),
        ended: Time::maybe(c.ended_at),
        duration: duration(c.duration_seconds(now)),
        end_reason: c.end_reason.clone(),
        purpose: c.purpose.clone(),
        transferred_to: c.transferred_to.clone(),
        provider: c.provider.as_str(),
        provider_call_id: c.provider_call_id.clone(),
        provider_details: (!c.provider_details.is_empty())
            .then(|| serde_json::to_string_pretty(&c.provider_details).unwrap_or_default()),
    };
    let page = CallPage {
        chrome: Chrome::new(&signed, "calls"),
        id: c.id.to_string(),
        other: other_party(&c).to_owned(),
        facts,
        purged: Time::maybe(c.purged_at),
        turns: c
            .turns
            .iter()
            .map(|t| TurnRow {
                caller: t.speaker == Speaker::Caller,
                who: match t.speaker {
                    Speaker::Caller => "Caller",
                    Speaker::Agent => "Agent",
                },
                text: t.text.clone(),
                at: Time::of(t.at),
                interrupted: t.interrupted,
                confidence: t.confidence.map(|c| format!("{:.0}%", c * 100.0)),
            })
            .collect(),
        fields: c
            .custom_fields
            .iter()
            .map(|(k, v)| (k.clone(), field_text(v)))
            .collect(),
        summary: c.ai_summary.clone(),
        message: c.message.clone(),
        tools: c
            .tool_calls
            .iter()
            .map(|t| ToolRow {
                tool: t.tool.clone(),
                at: Time::of(t.at),
                ok: t.ok,
                status: t.status,
                latency_ms: t.latency_ms,
                error: t.error.clone(),
                json: serde_json::to_string_pretty(t).unwrap_or_default(),
            })
            .collect(),
        events,
        more_events,
        brain: BrainBox::of(&c.session),
    };
    Ok(render(&page)?.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_details() {
        let collected = r#"{"data": {"field": "first_name", "value": "Ada"}}"#;
        assert_eq!(event_detail(collected).as_deref(), Some("first_name: Ada"));
        let moved = r#"{"data": {"transferred_to": "+15557654321"}}"#;
        assert_eq!(event_detail(moved).as_deref(), Some("to +15557654321"));
        assert_eq!(event_detail(r#"{"data": {"transferred_to": null}}"#), None);
        assert_eq!(event_detail("not json"), None);
    }

    #[test]
    fn local_times_read_as_utc() {
        assert_eq!(local_as_utc("2026-01-02T15:30"), "2026-01-02T15:30:00Z");
        assert_eq!(local_as_utc("2026-01-02T15:30:05"), "2026-01-02T15:30:05Z");
        assert_eq!(local_as_utc("soon"), "soon");
    }

    #[test]
    fn filters_prefer_the_scripts_utc_and_link_their_pages() {
        let p = ListParams {
            since: Some("2026-01-02T10:00:00Z".into()),
            since_local: Some("2026-01-02T11:00".into()),
            until_local: Some("2026-01-03T00:00".into()),
            q: Some("  kitchen ".into()),
            status: Some(String::new()),
            ..ListParams::default()
        };
        let f = Filters::of(&p);
        assert_eq!(f.since, "2026-01-02T10:00:00Z");
        assert_eq!(f.until, "2026-01-03T00:00:00Z");
        assert_eq!(f.q, "kitchen");
        assert!(f.any());
        assert!(!Filters::default().any());
        assert_eq!(
            f.link("call_X"),
            "?since=2026-01-02T10%3A00%3A00Z&until=2026-01-03T00%3A00%3A00Z&q=kitchen&cursor=call_X"
        );
        let bad = Filters {
            limit: "lots".into(),
            ..Filters::default()
        };
        assert_eq!(bad.page(None).unwrap_err().field, "limit");
        let big = Filters {
            limit: "101".into(),
            ..Filters::default()
        };
        assert_eq!(big.page(None).unwrap_err().field, "limit");
    }
}
