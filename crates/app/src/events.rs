//! The events a call's steps send: what each conversation action becomes
//! (`data.collected`, `message.collected`, `call.transferred`) and what a call's end
//! sends (`call.ended`, `transcript.ready`), with the business details templates use.

use chrono::{DateTime, Utc};
use frontdesk_agent::Action;
use frontdesk_core::agent::config::AgentConfig;
use frontdesk_core::call::Call;
use frontdesk_core::event::{Business, EventType, NewEvent};
use serde_json::{Map, Value, json};

/// The events a step's actions send (`data.collected`, `message.collected` with
/// `message_extra`, `call.transferred`).
pub fn action_events(
    call: &Call,
    actions: &[Action],
    business: &Business,
    now: DateTime<Utc>,
    message_extra: &Map<String, Value>,
) -> Vec<NewEvent> {
    let mut events = Vec::new();
    for a in actions {
        let extra = match a {
            Action::Collected { field, value } => {
                Some((EventType::DataCollected, json!({"field": field, "value": value})))
            }
            Action::Message(m) => {
                let mut data = message_extra.clone();
                data.insert("message".into(), json!(m));
                Some((EventType::MessageCollected, Value::Object(data)))
            }
            Action::Transfer { to, reason } => Some((
                EventType::CallTransferred,
                json!({"transferred_to": to, "reason": reason}),
            )),
            Action::CallType(_) | Action::End(_) => None,
        };
        if let Some((kind, Value::Object(extra))) = extra {
            events.push(NewEvent::new(kind, call.event_data(now, extra), business, now));
        }
    }
    events
}

/// `call.ended`, and `transcript.ready` for a call that was answered: what a call's end
/// sends.
pub fn ended_events(call: &Call, business: &Business, now: DateTime<Utc>) -> Vec<NewEvent> {
    let transcript = call.transcript();
    let mut ended = Map::new();
    ended.insert("transcript".into(), json!(transcript));
    ended.insert("ai_summary".into(), json!(call.ai_summary));
    ended.insert("message".into(), json!(call.message));
    ended.insert("transferred_to".into(), json!(call.transferred_to));
    ended.insert("end_reason".into(), json!(call.end_reason));
    let mut events = vec![NewEvent::new(
        EventType::CallEnded,
        call.event_data(now, ended),
        business,
        now,
    )];
    if call.answered_at.is_some() {
        let mut ready = Map::new();
        ready.insert("transcript".into(), json!(transcript));
        ready.insert("turns".into(), serde_json::to_value(&call.turns).unwrap_or(Value::Null));
        events.push(NewEvent::new(
            EventType::TranscriptReady,
            call.event_data(now, ready),
            business,
            now,
        ));
    }
    events
}

/// The business details events carry for templates.
pub fn business(cfg: &AgentConfig) -> Business {
    Business {
        owner_name: cfg.business.owner_name.clone(),
        website: cfg.business.website.clone(),
        booking_url: cfg.business.booking_url.clone(),
    }
}
