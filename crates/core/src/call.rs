//! Calls: one conversation between the receptionist and a caller, inbound or outbound.
//!
//! A [`Call`] is what `GET /v1/calls/{id}` shows and what every call event's `data` is
//! built from ([`Call::event_data`]). The conversation engine's own state rides along in
//! [`Call::session`] (opaque JSON here), so a call can be resumed by any node from the
//! store; [`Call::version`] guards against two turns of one call racing.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::ValidationError;
use crate::agent::Provider;
use crate::id::{AgentId, CallId, WorkspaceId};

/// Which way a call goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inbound => "inbound",
            Self::Outbound => "outbound",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s {
            "inbound" => Ok(Self::Inbound),
            "outbound" => Ok(Self::Outbound),
            _ => Err(ValidationError::new(
                "direction",
                format!("`{s}` is not a direction; use inbound or outbound"),
            )),
        }
    }
}

/// Where a call stands. Live calls are `queued`, `ringing` or `in_progress`; the rest
/// are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    /// An outbound call not yet placed with the provider.
    Queued,
    /// Placed, not yet answered.
    Ringing,
    /// Answered; the receptionist is talking.
    InProgress,
    /// Ended after being answered (whether by closing, transfer or hang-up).
    Completed,
    /// The provider could not place it.
    Failed,
    Busy,
    NoAnswer,
    /// Hung up through the API before it was answered.
    Canceled,
}

impl CallStatus {
    pub const ALL: [CallStatus; 8] = [
        Self::Queued,
        Self::Ringing,
        Self::InProgress,
        Self::Completed,
        Self::Failed,
        Self::Busy,
        Self::NoAnswer,
        Self::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Ringing => "ringing",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Busy => "busy",
            Self::NoAnswer => "no_answer",
            Self::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Self::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| {
            ValidationError::new(
                "status",
                format!(
                    "`{s}` is not a call status; use one of {}",
                    Self::ALL.map(Self::as_str).join(", ")
                ),
            )
        })
    }

    /// Whether the call can still change.
    #[must_use]
    pub fn is_live(self) -> bool {
        matches!(self, Self::Queued | Self::Ringing | Self::InProgress)
    }
}

impl fmt::Display for CallStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who said a line of the transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    Agent,
    Caller,
}

impl Speaker {
    fn label(self) -> &'static str {
        match self {
            Self::Agent => "Agent",
            Self::Caller => "Caller",
        }
    }
}

/// One line of the transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    pub speaker: Speaker,
    /// What was said. For an agent line cut short by the caller, only what was spoken
    /// before the interruption.
    pub text: String,
    #[serde(with = "crate::call::rfc3339")]
    pub at: DateTime<Utc>,
    /// Speech-to-text confidence (0 to 1), when the provider gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// The caller talked over this agent line; `text` is what was actually spoken.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

impl Turn {
    /// A line said now-ish by `speaker`, with no provider details.
    #[must_use]
    pub fn new(speaker: Speaker, text: impl Into<String>, at: DateTime<Utc>) -> Self {
        Self {
            speaker,
            text: text.into(),
            at,
            confidence: None,
            interrupted: false,
        }
    }
}

/// The other party: the caller on an inbound call, the callee on an outbound one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerInfo {
    pub phone: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// One HTTP tool invocation during a call, for the call's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    pub tool: String,
    #[serde(with = "crate::call::rfc3339")]
    pub at: DateTime<Utc>,
    /// HTTP status, when a response came back.
    pub status: Option<u16>,
    pub ok: bool,
    pub latency_ms: u64,
    /// What went wrong, when it did.
    pub error: Option<String>,
}

/// A call, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub id: CallId,
    pub workspace_id: WorkspaceId,
    pub agent_id: AgentId,
    pub direction: Direction,
    pub status: CallStatus,
    /// E.164 numbers as the provider gave them.
    pub from: String,
    pub to: String,
    pub provider: Provider,
    /// The provider's own id for the call (Twilio's CallSid), when there is one.
    pub provider_call_id: Option<String>,
    pub caller: CallerInfo,
    pub call_type: Option<String>,
    /// Every collected field by name, in the order collected.
    pub custom_fields: Map<String, Value>,
    pub message: Option<String>,
    pub transferred_to: Option<String>,
    pub ai_summary: Option<String>,
    pub turns: Vec<Turn>,
    /// Why an outbound call was placed.
    pub purpose: Option<String>,
    /// How the call ended: `completed`, `transferred`, `caller_hangup`, `api_hangup`, ...
    pub end_reason: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    /// What the telephony provider reported beyond the call itself (Twilio: the final
    /// call status, the transfer's dial status, the voicemail recording).
    pub provider_details: Map<String, Value>,
    /// The call's length as the provider measured it (seconds), once it ended.
    pub duration: Option<i64>,
    /// The conversation engine's state (opaque here).
    pub session: Value,
    /// Bumped on every write; a write with a stale version is refused.
    pub version: i64,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// When the retention purge removed the call's contents (transcript, fields,
    /// message, summary, tool calls, the caller's name and email), if it did.
    pub purged_at: Option<DateTime<Utc>>,
}

impl Call {
    /// The business's own number on this call: the one called (inbound) or calling
    /// (outbound). Webhooks filter on it.
    #[must_use]
    pub fn business_number(&self) -> &str {
        match self.direction {
            Direction::Inbound => &self.to,
            Direction::Outbound => &self.from,
        }
    }

    /// The transcript as text, one `Speaker: line` per turn.
    #[must_use]
    pub fn transcript(&self) -> String {
        let mut out = String::new();
        for t in &self.turns {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(t.speaker.label());
            out.push_str(": ");
            out.push_str(&t.text);
        }
        out
    }

    /// Whole seconds from answer (or start) to end, or to `now` while live; the
    /// provider's own figure when it gave one.
    #[must_use]
    pub fn duration_seconds(&self, now: DateTime<Utc>) -> i64 {
        if let Some(d) = self.duration {
            return d.max(0);
        }
        let from = self.answered_at.unwrap_or(self.started_at);
        let to = self.ended_at.unwrap_or(now);
        (to - from).num_seconds().max(0)
    }

    /// The `data` of an event about this call (SPEC.md section 5): call id, direction,
    /// receiving number, caller, call type, duration, collected fields; `extra` adds the
    /// event's own keys (`field`, `value`, `message`, `transferred_to`, ...).
    #[must_use]
    pub fn event_data(&self, now: DateTime<Utc>, extra: Map<String, Value>) -> Map<String, Value> {
        let mut data = Map::new();
        data.insert("call_id".into(), json!(self.id.as_str()));
        data.insert("agent_id".into(), json!(self.agent_id.as_str()));
        data.insert("direction".into(), json!(self.direction.as_str()));
        data.insert("receiving_number".into(), json!(self.business_number()));
        data.insert("from".into(), json!(self.from));
        data.insert("to".into(), json!(self.to));
        data.insert(
            "caller".into(),
            json!({"phone": self.caller.phone, "name": self.caller.name, "email": self.caller.email}),
        );
        data.insert("call_type".into(), json!(self.call_type));
        data.insert("status".into(), json!(self.status.as_str()));
        data.insert("duration_seconds".into(), json!(self.duration_seconds(now)));
        if let Some(p) = &self.purpose {
            data.insert("purpose".into(), json!(p));
        }
        data.insert("custom_fields".into(), Value::Object(self.custom_fields.clone()));
        data.extend(extra);
        data
    }
}

/// RFC 3339 (UTC, milliseconds) for timestamps inside stored JSON.
pub(crate) mod rfc3339 {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

/// Filters of `GET /v1/calls`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallFilter {
    pub status: Option<CallStatus>,
    pub call_type: Option<String>,
    pub direction: Option<Direction>,
    /// The business number (the `to` of inbound calls, the `from` of outbound ones).
    pub number: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Text to find, case-insensitively, in the `from` or `to` number, the caller's name
    /// or phone, or any line of the transcript (a literal substring: `%` and `_` are
    /// not wildcards).
    pub search: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trip() {
        for s in CallStatus::ALL {
            assert_eq!(CallStatus::parse(s.as_str()).unwrap(), s);
        }
        assert!(CallStatus::parse("done").unwrap_err().message.contains("in_progress"));
        assert!(CallStatus::InProgress.is_live());
        assert!(!CallStatus::Completed.is_live());
    }

    #[test]
    fn turn_json() {
        let at = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.006Z")
            .unwrap()
            .with_timezone(&Utc);
        let t = Turn::new(Speaker::Caller, "hi", at);
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(
            v,
            json!({"speaker": "caller", "text": "hi", "at": "2026-01-02T03:04:05.006Z"})
        );
        assert_eq!(serde_json::from_value::<Turn>(v).unwrap(), t);
        let heard = Turn {
            confidence: Some(0.5),
            interrupted: true,
            ..t
        };
        let v = serde_json::to_value(&heard).unwrap();
        assert_eq!(v["confidence"], json!(0.5));
        assert_eq!(v["interrupted"], json!(true));
        assert_eq!(serde_json::from_value::<Turn>(v).unwrap(), heard);
    }
}
