//! What the server needs to know to run. The binary builds this from its layered
//! configuration; tests build it directly.

use std::net::SocketAddr;
use std::time::Duration;

pub use frontdesk_app::models::ModelSettings;
pub use frontdesk_delivery::DeliverySettings;

pub use crate::serve::ConnectionLimits;

/// Per-key rate limits. Zero turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    pub per_hour: u32,
    pub per_second: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            per_hour: 1000,
            per_second: 50,
        }
    }
}

/// Twilio telephony.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwilioSettings {
    /// The auth token that checks `X-Twilio-Signature` on requests from accounts no
    /// workspace stored credentials for (`FRONTDESK_TWILIO_AUTH_TOKEN`).
    pub auth_token: Option<String>,
    /// Twilio's REST API (outbound calls, hang-ups); a stand-in in tests.
    pub api_base_url: String,
    /// How long a ConversationRelay call waits for the caller after the agent's last
    /// words before it counts as silence (Twilio sends nothing when nobody speaks).
    pub relay_silence: std::time::Duration,
    /// How long Twilio is taken to speak one word of the agent's (the silence timer
    /// starts after the words are spoken): 400 ms, 150 words a minute. Tests shorten it.
    pub relay_speaking_per_word: std::time::Duration,
}

/// Twilio's REST API.
pub const TWILIO_API_BASE_URL: &str = "https://api.twilio.com";

impl Default for TwilioSettings {
    fn default() -> Self {
        Self {
            auth_token: None,
            api_base_url: TWILIO_API_BASE_URL.to_owned(),
            relay_silence: std::time::Duration::from_secs(10),
            relay_speaking_per_word: std::time::Duration::from_millis(400),
        }
    }
}

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The URL the server is reached at from outside, when set.
    pub public_url: Option<String>,
    pub rate_limit: RateLimitSettings,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Time a client has to send a request's body.
    pub body_timeout: Duration,
    /// Header deadline and open connections.
    pub connections: ConnectionLimits,
    /// How long call contents (transcripts, fields, summaries), event payloads and
    /// delivery logs are kept; `None` keeps them.
    pub retention: Option<Duration>,
    /// Webhook delivery.
    pub delivery: DeliverySettings,
    pub twilio: TwilioSettings,
    /// The language model endpoint (`FRONTDESK_LLM_*`), which agents may override.
    pub models: ModelSettings,
    /// Encrypts stored provider credentials (`FRONTDESK_MASTER_KEY`); without it no
    /// credentials can be stored.
    pub master_key: Option<String>,
}

/// Default time to send a request body.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Default request body limit: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            rate_limit: RateLimitSettings::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            connections: ConnectionLimits::default(),
            retention: None,
            delivery: DeliverySettings::default(),
            twilio: TwilioSettings::default(),
            models: ModelSettings::default(),
            master_key: None,
        }
    }
}
