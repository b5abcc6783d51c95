//! Agents (receptionist configurations) and the numbers that route calls to them.
//!
//! [`config`] holds the configuration model and its validation; this module the stored
//! records and the demo agent created on first start.

pub mod config;

pub use config::AgentConfig;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::id::{AgentId, NumberId, WorkspaceId};

/// The demo number created on first start.
pub const DEMO_NUMBER: &str = "+15550100000";

/// The demo agent's configuration, as SPEC.md section 4 shapes agents.
#[must_use]
pub fn demo_agent_config() -> serde_json::Value {
    serde_json::json!({
        "name": "Demo front desk",
        "business": {"owner_name": "Frontdesk Demo Co", "website": "https://example.com",
                     "booking_url": "https://example.com/book", "hours": "Mon-Fri 9am-5pm"},
        "greeting": "Thanks for calling {{owner_name}}, how can I help you today?",
        "data_to_collect": [
            {"field": "first_name", "question": "May I have your name?", "type": "name", "required": true},
            {"field": "phone", "question": "What's the best number to reach you?", "type": "phone", "required": true},
            {"field": "email", "question": "And your email address?", "type": "email"}
        ],
        "call_types": [
            {"name": "appointment", "description": "wants to book or change an appointment", "keywords": ["appointment", "book", "schedule"]},
            {"name": "message", "description": "wants to leave a message", "keywords": ["message"], "action": "message"},
            {"name": "general_inquiry", "description": "any other question"}
        ],
        "transfer": {"number": "+15557654321", "triggers": ["human", "person", "operator"]},
        "knowledge": [{"question": "What are your hours?", "answer": "We're open Monday to Friday, 9am to 5pm."}],
        "tools": [],
        "closing": "Thanks {{first_name}}, we'll be in touch soon. Goodbye!",
        "brain": "rules"
    })
}

/// A stored agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agent {
    pub id: AgentId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub config: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which telephony provider carries a number's calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// The built-in simulator.
    Sim,
    /// Twilio Voice.
    Twilio,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sim => "sim",
            Self::Twilio => "twilio",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sim" => Some(Self::Sim),
            "twilio" => Some(Self::Twilio),
            _ => None,
        }
    }
}

/// How a Twilio number talks with callers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VoiceMode {
    /// Twilio Voice webhooks: `<Gather input="speech">` per turn, `<Say>` replies.
    #[default]
    Gather,
    /// Twilio ConversationRelay: a WebSocket of text, replies streamed as tokens.
    Relay,
}

impl VoiceMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gather => "gather",
            Self::Relay => "relay",
        }
    }

    pub fn parse(s: &str) -> Result<Self, crate::ValidationError> {
        match s {
            "gather" => Ok(Self::Gather),
            "relay" => Ok(Self::Relay),
            _ => Err(crate::ValidationError::new(
                "voice_mode",
                format!(
                    "`{s}` is not a voice mode; use gather (Twilio <Gather> webhooks) or relay (ConversationRelay)"
                ),
            )),
        }
    }
}

/// How a number's calls are carried (Twilio numbers; the simulator ignores it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NumberVoice {
    pub mode: VoiceMode,
    /// Take messages as a voicemail recording (`<Record>`) rather than as speech.
    pub record_messages: bool,
}

/// A stored phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Number {
    pub id: NumberId,
    pub workspace_id: WorkspaceId,
    pub number: String,
    pub agent_id: AgentId,
    pub provider: Provider,
    pub voice: NumberVoice,
    pub created_at: DateTime<Utc>,
}
