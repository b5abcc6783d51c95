//! Values passed into and out of the store that are not domain records.

use frontdesk_core::agent::{Agent, Number};
use frontdesk_core::api_key::{ApiKey, ApiKeyName, ApiKeySecret};
use frontdesk_core::workspace::Workspace;

/// A key to store: its label and what is kept of its secret (digest and prefix).
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub digest: String,
    pub prefix: String,
}

impl NewApiKey {
    #[must_use]
    pub fn new(name: &ApiKeyName, secret: &ApiKeySecret) -> Self {
        Self {
            name: name.as_str().to_owned(),
            digest: secret.digest(),
            prefix: secret.display_prefix().to_owned(),
        }
    }
}

/// What one pass of [`crate::Maintenance::purge_before`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Calls whose contents were removed.
    pub calls: u64,
    /// Events deleted (with their deliveries).
    pub events: u64,
    /// Delivery attempts deleted with them (each with its logged response).
    pub attempts: u64,
}

/// What [`crate::Bootstrap::bootstrap_if_empty`] created.
#[derive(Debug, Clone)]
pub struct Bootstrapped {
    pub workspace: Workspace,
    pub api_key: ApiKey,
    pub agent: Agent,
    pub number: Number,
}

/// A response kept for replay under an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// The state of an idempotency key when a request arrives with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// First use (or an expired or abandoned record): run the request.
    Started,
    /// The first request with this key is still running.
    InProgress,
    /// The key was used with another request body or path.
    Mismatch,
    /// The first request finished: replay its response.
    Completed(StoredResponse),
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub id: frontdesk_core::id::EventId,
    pub workspace_id: frontdesk_core::id::WorkspaceId,
    pub event: frontdesk_core::event::EventType,
    pub call_id: Option<String>,
    pub number: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The default body, exactly as sent and signed.
    pub payload: String,
    /// Template variables.
    pub context: serde_json::Map<String, serde_json::Value>,
}

impl StoredEvent {
    /// A new event as it reads back once recorded in `workspace`.
    #[must_use]
    pub fn from_new(workspace: &frontdesk_core::id::WorkspaceId, e: &frontdesk_core::event::NewEvent) -> Self {
        Self {
            id: e.id.clone(),
            workspace_id: workspace.clone(),
            event: e.event,
            call_id: e.call_id.clone(),
            number: e.number.clone(),
            created_at: e.created_at,
            payload: e.payload.clone(),
            context: e.context.clone(),
        }
    }
}

/// Filters of `GET /v1/events`.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub event: Option<frontdesk_core::event::EventType>,
    pub call_id: Option<String>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
}

/// A delivery's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "succeeded" => Some(Self::Succeeded),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// One event's delivery to one webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: frontdesk_core::id::DeliveryId,
    pub workspace_id: frontdesk_core::id::WorkspaceId,
    pub webhook_id: frontdesk_core::id::WebhookId,
    pub event_id: frontdesk_core::id::EventId,
    pub event: frontdesk_core::event::EventType,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// One HTTP attempt of a delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub attempted_at: chrono::DateTime<chrono::Utc>,
    pub status_code: Option<u16>,
    pub latency_ms: u32,
    /// The first KiB of the response body.
    pub response_body: Option<String>,
    pub error: Option<String>,
    /// Remarks such as unknown template variables.
    pub notes: Option<String>,
    /// The request as it was sent (custom header values redacted); `None` when nothing
    /// was sent (the webhook was disabled, the template failed) and for attempts
    /// recorded before requests were kept.
    pub request: Option<SentRequest>,
    /// The response's headers as received (at most [`SentRequest::HEADERS_MAX`] bytes of
    /// them); `None` when no response came and for attempts recorded before they were
    /// kept.
    pub response_headers: Option<Vec<(String, String)>>,
}

/// An attempt's HTTP request as it went out, as the attempt log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRequest {
    pub method: String,
    /// The rendered URL (a password in it redacted).
    pub url: String,
    /// Name and value, in the order sent. The values of the webhook's own (custom)
    /// headers are [`SentRequest::REDACTED`]: they may be credentials for the receiving
    /// system, kept sealed with the webhook and never in the log.
    pub headers: Vec<(String, String)>,
    /// The body exactly as sent and signed.
    pub body: String,
}

impl SentRequest {
    /// What a redacted value reads as.
    pub const REDACTED: &'static str = "[redacted]";
    /// The most bytes of response header names and values an attempt keeps.
    pub const HEADERS_MAX: usize = 8 * 1024;
}

/// Filters of `GET /v1/deliveries` and the dashboard's delivery log.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// The deliveries of one event (a call page lists each event's deliveries).
    pub event_id: Option<frontdesk_core::id::EventId>,
    pub webhook_id: Option<frontdesk_core::id::WebhookId>,
    pub status: Option<DeliveryStatus>,
    pub event: Option<frontdesk_core::event::EventType>,
    /// Deliveries created at or after this time.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Deliveries created before this time.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// An id, matched exactly: the delivery's, its event's, or the call's its event is
    /// about.
    pub search: Option<String>,
}

/// A delivery a worker has leased, with what it needs to send it.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: frontdesk_core::id::DeliveryId,
    /// The lease: nobody else takes this delivery before then.
    pub lease_until: chrono::DateTime<chrono::Utc>,
    pub attempts: u32,
    pub retries_left: u32,
    pub event: std::sync::Arc<StoredEvent>,
    pub webhook: std::sync::Arc<frontdesk_core::webhook::Webhook>,
}

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum NextStep {
    Succeeded,
    RetryAt(chrono::DateTime<chrono::Utc>),
    Failed,
}

/// What an attempt means for its webhook's health (the rules: [`frontdesk_core::webhook::health`]).
pub use frontdesk_core::webhook::health::WebhookHealth;

/// The outcome of one attempt, to record.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub delivery_id: frontdesk_core::id::DeliveryId,
    pub webhook_id: frontdesk_core::id::WebhookId,
    pub attempt: Attempt,
    pub next: NextStep,
    pub health: WebhookHealth,
}

/// What [`crate::Events::record_events`] did.
#[derive(Debug, Clone, Default)]
pub struct RecordedEvents {
    /// Deliveries queued.
    pub queued: u64,
    /// Those of them leased to the caller, to send now.
    pub leased: Vec<ClaimedDelivery>,
}

/// Queue gauges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueStats {
    pub pending: u64,
    pub oldest_pending: Option<chrono::DateTime<chrono::Utc>>,
}

/// How [`crate::Calls::save_call`] writes a call.
#[derive(Debug, Clone, Copy)]
pub enum CallWrite<'a> {
    /// A new call, stored with its `version` as given.
    Insert(&'a frontdesk_core::call::Call),
    /// A change to a stored call: written only while the stored version still equals
    /// `call.version`, which then becomes `call.version + 1`.
    Update(&'a frontdesk_core::call::Call),
}

impl<'a> CallWrite<'a> {
    /// The call to write.
    #[must_use]
    pub fn call(self) -> &'a frontdesk_core::call::Call {
        match self {
            Self::Insert(c) | Self::Update(c) => c,
        }
    }
}

/// A held lock ([`crate::Coordination`]): released when dropped.
pub struct Held(#[allow(dead_code, reason = "held for its Drop")] Box<dyn Send + Sync>);

impl Held {
    /// A lock kept by whatever `keep` holds (released when it drops).
    pub fn new(keep: impl Send + Sync + 'static) -> Self {
        Self(Box::new(keep))
    }
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Held")
    }
}
