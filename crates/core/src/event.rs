//! Events: what happened on a call, stored before it is announced to webhooks.
//!
//! The body sent to a webhook by default is the event's envelope, compact JSON:
//! `{"id": "evt_...", "event": "call.ended", "timestamp": "2026-01-02T15:30:00Z", "data": {...}}`.
//! Template variables (for webhooks with a `body_template`) are computed once, when the
//! event is recorded, by [`template_context`].

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::ValidationError;
use crate::id::EventId;

/// The kinds of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "call.answered")]
    CallAnswered,
    #[serde(rename = "data.collected")]
    DataCollected,
    #[serde(rename = "message.collected")]
    MessageCollected,
    #[serde(rename = "call.transferred")]
    CallTransferred,
    #[serde(rename = "call.ended")]
    CallEnded,
    #[serde(rename = "transcript.ready")]
    TranscriptReady,
}

impl EventType {
    pub const ALL: [EventType; 6] = [
        Self::CallAnswered,
        Self::DataCollected,
        Self::MessageCollected,
        Self::CallTransferred,
        Self::CallEnded,
        Self::TranscriptReady,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CallAnswered => "call.answered",
            Self::DataCollected => "data.collected",
            Self::MessageCollected => "message.collected",
            Self::CallTransferred => "call.transferred",
            Self::CallEnded => "call.ended",
            Self::TranscriptReady => "transcript.ready",
        }
    }

    /// What the event means, in one line (the dashboard's event catalog).
    pub fn description(self) -> &'static str {
        match self {
            Self::CallAnswered => "The receptionist answered a call: who is calling, on which number.",
            Self::DataCollected => {
                "The caller gave one of the agent's fields (new or corrected): its name in `field`, what was understood in `value`."
            }
            Self::MessageCollected => "The caller left a message for the business, in `message`.",
            Self::CallTransferred => {
                "The receptionist handed the call to a person: the number in `transferred_to`, why in `reason`."
            }
            Self::CallEnded => "A call finished: its outcome, duration, collected fields, summary and transcript.",
            Self::TranscriptReady => "An answered call's full transcript is ready, as text and turn by turn (`turns`).",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Self::ALL.into_iter().find(|e| e.as_str() == s).ok_or_else(|| {
            ValidationError::new(
                "event",
                format!(
                    "`{s}` is not an event; the events are {}",
                    Self::ALL.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )
        })
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The timestamp format of payloads: RFC 3339, UTC, whole seconds (`2026-01-02T15:30:00Z`).
#[must_use]
pub fn format_timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An event to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub id: EventId,
    pub event: EventType,
    pub call_id: Option<String>,
    /// The number the call came in on (or went out from); webhooks filter on it.
    pub number: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The default body, exactly as it will be sent and signed.
    pub payload: String,
    /// Template variables.
    pub context: Map<String, Value>,
}

/// Business details that templates may use (`owner_name`, `website`, `booking_url`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Business {
    #[serde(default)]
    pub owner_name: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    #[serde(default)]
    pub booking_url: Option<String>,
}

impl NewEvent {
    /// Builds an event from its data, computing the envelope and template variables.
    #[must_use]
    pub fn new(event: EventType, data: Map<String, Value>, business: &Business, at: DateTime<Utc>) -> Self {
        let id = EventId::generate();
        let timestamp = format_timestamp(at);
        let call_id = data.get("call_id").and_then(Value::as_str).map(str::to_owned);
        let number = data.get("receiving_number").and_then(Value::as_str).map(str::to_owned);
        let envelope = json!({"id": id.as_str(), "event": event.as_str(), "timestamp": timestamp, "data": data});
        let context = template_context(&envelope, business);
        Self {
            id,
            event,
            call_id,
            number,
            created_at: at,
            payload: envelope.to_string(),
            context,
        }
    }
}

/// The variables a template sees for an event envelope: `caller_number`,
/// `caller_name`, `caller_email`, `receiving_number`, `owner_name`, `website`,
/// `booking_url`, `call_id`, `call_type`, `event`, `timestamp`, `duration_seconds`,
/// `summary`, `transcript`, `message`, every collected field by its name, and the event's
/// other data fields (`field`, `value`, `transferred_to`, `reason`, ...).
#[must_use]
pub fn template_context(envelope: &Value, business: &Business) -> Map<String, Value> {
    let data = envelope
        .get("data")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut ctx = Map::new();
    // Collected fields first: the fixed names below take precedence on a clash.
    if let Some(fields) = data.get("custom_fields").and_then(Value::as_object) {
        ctx.extend(fields.clone());
    }
    for (k, v) in &data {
        if !v.is_object() && !v.is_array() {
            ctx.insert(k.clone(), v.clone());
        }
    }
    let caller = data.get("caller");
    let pick = |v: Option<&Value>| v.cloned().unwrap_or(Value::Null);
    ctx.insert("caller_number".into(), pick(caller.and_then(|c| c.get("phone"))));
    ctx.insert("caller_name".into(), pick(caller.and_then(|c| c.get("name"))));
    ctx.insert("caller_email".into(), pick(caller.and_then(|c| c.get("email"))));
    ctx.insert("summary".into(), pick(data.get("ai_summary")));
    for key in [
        "receiving_number",
        "call_id",
        "call_type",
        "duration_seconds",
        "transcript",
        "message",
    ] {
        ctx.insert(key.into(), pick(data.get(key)));
    }
    ctx.insert("event".into(), pick(envelope.get("event")));
    ctx.insert("timestamp".into(), pick(envelope.get("timestamp")));
    let biz = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
    ctx.insert("owner_name".into(), biz(&business.owner_name));
    ctx.insert("website".into(), biz(&business.website));
    ctx.insert("booking_url".into(), biz(&business.booking_url));
    ctx
}

/// A sample `call.ended` event's data, for `POST /v1/webhooks/{id}/test`.
#[must_use]
pub fn sample_call_ended_data() -> Map<String, Value> {
    let v = json!({
        "call_id": "call_01JTESTSAMPLE0000000000000",
        "direction": "inbound",
        "receiving_number": "+15550100000",
        "caller": {"phone": "+15551234567", "name": "John Doe", "email": "john@example.com"},
        "call_type": "quote_request",
        "duration_seconds": 180,
        "transcript": "Agent: Thanks for calling, how can I help?\nCaller: I'd like a quote for a kitchen remodel.",
        "ai_summary": "John Doe called for a quote on a kitchen remodel; budget $15,000-$20,000.",
        "custom_fields": {"budget": "$15,000-$20,000", "timeline": "3 months"}
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in EventType::ALL {
            assert_eq!(EventType::parse(e.as_str()), Ok(e));
            assert_eq!(serde_json::to_value(e).unwrap(), Value::String(e.as_str().into()));
        }
        let err = EventType::parse("call.exploded").unwrap_err();
        assert!(err.message.contains("call.answered"), "{err}");
    }

    #[test]
    fn envelope_and_context() {
        let at = DateTime::parse_from_rfc3339("2026-01-02T15:30:00.123Z")
            .unwrap()
            .with_timezone(&Utc);
        let biz = Business {
            owner_name: Some("Acme".into()),
            ..Business::default()
        };
        let e = NewEvent::new(EventType::CallEnded, sample_call_ended_data(), &biz, at);
        let body: Value = serde_json::from_str(&e.payload).unwrap();
        assert_eq!(body["timestamp"], "2026-01-02T15:30:00Z");
        assert_eq!(body["event"], "call.ended");
        assert_eq!(body["id"], e.id.as_str());
        assert!(
            e.payload
                .starts_with(&format!("{{\"id\":\"{}\",\"event\":\"call.ended\"", e.id)),
            "compact, in order: {}",
            e.payload
        );
        assert_eq!(e.number.as_deref(), Some("+15550100000"));
        assert_eq!(e.context["caller_name"], "John Doe");
        assert_eq!(e.context["budget"], "$15,000-$20,000");
        assert_eq!(e.context["owner_name"], "Acme");
        assert_eq!(e.context["summary"], body["data"]["ai_summary"]);
        assert_eq!(e.context["website"], Value::Null);
    }
}
