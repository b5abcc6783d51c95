//! `/events`: the event catalog. Every event type with what it means, an example of the
//! envelope a webhook receives for it, and the template variables a webhook's URL,
//! headers and body template can use for it, each with an example value.
//!
//! The examples are not written by hand: a sample call (the values of
//! [`sample_call_ended_data`], the webhook test send's sample) goes through the same
//! functions that build a real call's events ([`frontdesk_app::events`],
//! [`Call::event_data`], [`NewEvent::new`]), and the variables are that event's template
//! context, the names the template renderer resolves.

use askama::Template;
use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{DateTime, Duration, Utc};
use frontdesk_agent::Action;
use frontdesk_app::events::{action_events, ended_events};
use frontdesk_core::agent::Provider;
use frontdesk_core::call::{Call, CallStatus, CallerInfo, Direction, Speaker, Turn};
use frontdesk_core::event::{Business, EventType, NewEvent, sample_call_ended_data};
use frontdesk_core::id::{AgentId, CallId, WorkspaceId};
use frontdesk_core::template::value_text;
use serde_json::{Map, Value, json};

use super::view::pretty_json;
use super::{Chrome, PageResult, Signed, render};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/events", get(page))
}

/// A piece of a description: text, or a name shown as code (written `like this`).
pub struct Words {
    pub code: bool,
    pub text: String,
}

/// A template variable and its value in the example.
pub struct Variable {
    /// `{{name}}`, as written in a template.
    pub reference: String,
    /// The value as the renderer substitutes it (shortened when long); empty for null.
    pub example: String,
}

pub struct EventView {
    pub name: &'static str,
    pub description: Vec<Words>,
    /// The example envelope, indented.
    pub payload: String,
    pub variables: Vec<Variable>,
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    chrome: Chrome,
    events: Vec<EventView>,
}

async fn page(signed: Signed) -> PageResult {
    let events = catalog(Utc::now())
        .into_iter()
        .map(|(kind, e)| EventView {
            name: kind.as_str(),
            description: words(kind.description()),
            payload: pretty_json(&e.payload),
            variables: variables(&e.context),
        })
        .collect();
    Ok(render(&EventsPage {
        chrome: Chrome::new(&signed, "events"),
        events,
    })?
    .into_response())
}

/// Longest example value shown, in characters.
const MAX_EXAMPLE: usize = 120;

fn variables(context: &Map<String, Value>) -> Vec<Variable> {
    let mut names: Vec<(&String, &Value)> = context.iter().collect();
    names.sort_by(|a, b| a.0.cmp(b.0));
    names
        .into_iter()
        .map(|(name, value)| {
            let text = value_text(value);
            let example = if text.chars().count() > MAX_EXAMPLE {
                let cut: String = text.chars().take(MAX_EXAMPLE).collect();
                format!("{cut}…")
            } else {
                text
            };
            Variable {
                reference: format!("{{{{{name}}}}}"),
                example,
            }
        })
        .collect()
}

fn words(description: &str) -> Vec<Words> {
    description
        .split('`')
        .enumerate()
        .filter(|(_, t)| !t.is_empty())
        .map(|(i, t)| Words {
            code: i % 2 == 1,
            text: t.to_owned(),
        })
        .collect()
}

/// The business details the examples carry (an agent's `business` section).
fn sample_business() -> Business {
    Business {
        owner_name: Some("Acme Contracting".into()),
        website: Some("https://acme.example".into()),
        booking_url: Some("https://acme.example/book".into()),
    }
}

/// The sample call of [`sample_call_ended_data`], as a finished call record.
fn sample_call(now: DateTime<Utc>) -> Call {
    let data = sample_call_ended_data();
    let text = |key: &str| data.get(key).and_then(Value::as_str).map(str::to_owned);
    let caller: CallerInfo = data
        .get("caller")
        .and_then(|c| serde_json::from_value(c.clone()).ok())
        .unwrap_or_default();
    let seconds = data.get("duration_seconds").and_then(Value::as_i64).unwrap_or(180);
    let started = now - Duration::seconds(seconds);
    let turns = text("transcript")
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (who, said) = line.split_once(": ")?;
            let speaker = if who == "Caller" {
                Speaker::Caller
            } else {
                Speaker::Agent
            };
            Some(Turn::new(speaker, said, started))
        })
        .collect();
    let receiving = text("receiving_number").unwrap_or_default();
    Call {
        id: text("call_id")
            .and_then(|id| CallId::parse(&id).ok())
            .unwrap_or_else(CallId::generate),
        workspace_id: WorkspaceId::generate(),
        agent_id: AgentId::generate(),
        direction: Direction::Inbound,
        status: CallStatus::Completed,
        from: caller.phone.clone().unwrap_or_default(),
        to: receiving,
        provider: Provider::Sim,
        provider_call_id: None,
        caller,
        call_type: text("call_type"),
        custom_fields: data
            .get("custom_fields")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        message: None,
        transferred_to: None,
        ai_summary: text("ai_summary"),
        turns,
        purpose: None,
        end_reason: Some(frontdesk_agent::EndReason::Completed.as_str().to_owned()),
        tool_calls: Vec::new(),
        provider_details: Map::new(),
        duration: Some(seconds),
        session: json!({}),
        version: 0,
        started_at: started,
        answered_at: Some(started),
        ended_at: Some(now),
        updated_at: now,
        purged_at: None,
    }
}

/// One example event of every type, in [`EventType::ALL`]'s order, built as a call
/// builds them. A type no call step makes (none today) gets the test send's sample.
fn catalog(now: DateTime<Utc>) -> Vec<(EventType, NewEvent)> {
    let business = sample_business();
    let ended = sample_call(now);
    // While the call was live: answered, then its steps.
    let mut live = ended.clone();
    live.status = CallStatus::InProgress;
    live.ended_at = None;
    live.end_reason = None;
    live.duration = None;
    let mut events = vec![NewEvent::new(
        EventType::CallAnswered,
        live.event_data(now, Map::new()),
        &business,
        now,
    )];
    let budget = live.custom_fields.get("budget").cloned().unwrap_or(Value::Null);
    let actions = [
        Action::Collected {
            field: "budget".into(),
            value: budget,
        },
        Action::Message("Please call me back after 5pm about the kitchen quote.".into()),
        Action::Transfer {
            to: "+15557654321".into(),
            reason: "the caller asked to speak with a person".into(),
        },
    ];
    events.extend(action_events(&live, &actions, &business, now, &Map::new()));
    events.extend(ended_events(&ended, &business, now));
    EventType::ALL
        .into_iter()
        .map(|kind| {
            let e = events
                .iter()
                .find(|e| e.event == kind)
                .cloned()
                .unwrap_or_else(|| NewEvent::new(kind, sample_call_ended_data(), &business, now));
            (kind, e)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_has_its_own_example() {
        let all = catalog(Utc::now());
        assert_eq!(all.len(), EventType::ALL.len());
        for (kind, e) in &all {
            assert_eq!(e.event, *kind);
            let body: Value = serde_json::from_str(&e.payload).expect("JSON");
            assert_eq!(body["event"], kind.as_str());
            assert_eq!(body["data"]["caller"]["name"], "John Doe");
            assert_eq!(e.context["caller_name"], "John Doe");
        }
        let get = |k: EventType| &all.iter().find(|(kind, _)| *kind == k).expect("there").1;
        assert_eq!(get(EventType::DataCollected).context["field"], "budget");
        assert_eq!(
            get(EventType::CallTransferred).context["transferred_to"],
            "+15557654321"
        );
        assert!(get(EventType::TranscriptReady).payload.contains("\"turns\""));
        assert_eq!(get(EventType::CallEnded).context["duration_seconds"], 180);
    }

    #[test]
    fn descriptions_mark_names_as_code() {
        let w = words("the `field` and `value`.");
        let parts: Vec<(bool, &str)> = w.iter().map(|w| (w.code, w.text.as_str())).collect();
        assert_eq!(
            parts,
            vec![
                (false, "the "),
                (true, "field"),
                (false, " and "),
                (true, "value"),
                (false, ".")
            ]
        );
    }
}
