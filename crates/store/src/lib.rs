//! Frontdesk storage.
//!
//! One interface, [`Store`], that every layer above uses; nothing above this crate knows
//! which database it runs on. [`open`] picks the implementation from the database URL:
//! `sqlite://` today (the embedded default), `postgres://` in a later release (the trait
//! is shaped for it: no SQLite-only semantics leak through it).
//!
//! Migrations live per database under `migrations/<db>/` and are embedded in the binary.

mod error;
pub mod secrets;
mod sqlite;
mod types;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use frontdesk_core::agent::{Agent, Number, NumberVoice, Provider};
use frontdesk_core::api_key::ApiKey;
use frontdesk_core::call::{Call, CallFilter};
use frontdesk_core::credentials::StoredCredentials;
use frontdesk_core::event::NewEvent;
use frontdesk_core::id::{AgentId, ApiKeyId, CallId, DeliveryId, EventId, NumberId, WebhookId, WorkspaceId};
use frontdesk_core::page::{Page, PageRequest};
use frontdesk_core::webhook::{Webhook, WebhookSecret, WebhookSpec};
use frontdesk_core::workspace::{Workspace, WorkspaceName};

pub use error::StoreError;
pub use secrets::{SealReport, Secrets};
pub use sqlite::SqliteStore;
pub use types::{
    Attempt, AttemptResult, Bootstrapped, CallWrite, ClaimedDelivery, Delivery, DeliveryFilter, DeliveryStatus,
    EventFilter, IdempotencyBegin, NewApiKey, NextStep, Purged, QueueStats, RecordedEvents, StoredEvent,
    StoredResponse, WebhookHealth,
};

/// Result of every storage operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Everything Frontdesk persists. Implementations must make each method atomic.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Applies pending migrations; returns how many were applied.
    async fn migrate(&self) -> StoreResult<usize>;
    /// Cheap round trip to the database, for readiness checks.
    async fn ping(&self) -> StoreResult<()>;

    /// On an empty database (no workspace yet), creates in one transaction the workspace
    /// `default`, the demo agent, the demo `sim` number and the given key. Returns `None`
    /// when the database already had a workspace.
    async fn bootstrap_if_empty(&self, key: &NewApiKey) -> StoreResult<Option<Bootstrapped>>;

    /// Creates a workspace; [`StoreError::Conflict`] when the name is taken.
    async fn create_workspace(&self, name: &WorkspaceName) -> StoreResult<Workspace>;
    async fn workspace_by_name(&self, name: &WorkspaceName) -> StoreResult<Option<Workspace>>;
    async fn list_workspaces(&self) -> StoreResult<Vec<Workspace>>;

    async fn create_api_key(&self, workspace: &WorkspaceId, key: &NewApiKey) -> StoreResult<ApiKey>;
    /// The key with this digest, revoked or not.
    async fn api_key_by_digest(&self, digest: &str) -> StoreResult<Option<ApiKey>>;
    /// Keys newest first; all workspaces' when `workspace` is `None` (operator CLI only).
    async fn list_api_keys(&self, workspace: Option<&WorkspaceId>, page: &PageRequest) -> StoreResult<Page<ApiKey>>;
    async fn get_api_key(&self, workspace: &WorkspaceId, id: &ApiKeyId) -> StoreResult<Option<ApiKey>>;
    /// Marks a key revoked (idempotent: a second revoke keeps the first time). `None`
    /// when no such key exists (in that workspace, when one is given).
    async fn revoke_api_key(&self, workspace: Option<&WorkspaceId>, id: &ApiKeyId) -> StoreResult<Option<ApiKey>>;
    /// Records that a key was used at `at`.
    async fn touch_api_key(&self, id: &ApiKeyId, at: DateTime<Utc>) -> StoreResult<()>;

    async fn create_agent(&self, workspace: &WorkspaceId, name: &str, config: &serde_json::Value)
    -> StoreResult<Agent>;
    async fn get_agent(&self, workspace: &WorkspaceId, id: &AgentId) -> StoreResult<Option<Agent>>;
    /// When the agent was last changed (`updated_at`), without reading its
    /// configuration: a cheap check that a parsed copy is still current.
    async fn agent_updated_at(&self, workspace: &WorkspaceId, id: &AgentId) -> StoreResult<Option<DateTime<Utc>>>;
    /// Every agent of the workspace, newest first.
    async fn list_agents(&self, workspace: &WorkspaceId) -> StoreResult<Vec<Agent>>;
    /// Agents newest first, a page at a time.
    async fn list_agents_page(&self, workspace: &WorkspaceId, page: &PageRequest) -> StoreResult<Page<Agent>>;
    /// Replaces an agent's name and configuration (and sets `updated_at`); `None` when
    /// the workspace has no such agent.
    async fn update_agent(
        &self,
        workspace: &WorkspaceId,
        id: &AgentId,
        name: &str,
        config: &serde_json::Value,
    ) -> StoreResult<Option<Agent>>;
    /// Deletes an agent; `false` when there was none. [`StoreError::Conflict`], naming
    /// them, while numbers still route calls to it. Its past calls are kept.
    async fn delete_agent(&self, workspace: &WorkspaceId, id: &AgentId) -> StoreResult<bool>;

    /// Registers a number that routes calls to `agent`. [`StoreError::NotFound`] when
    /// the agent is not in this workspace; [`StoreError::Conflict`] when the number is
    /// already registered (in any workspace: numbers are unique).
    async fn create_number(
        &self,
        workspace: &WorkspaceId,
        number: &str,
        agent: &AgentId,
        provider: Provider,
        voice: NumberVoice,
    ) -> StoreResult<Number>;
    /// Sets how a number's calls are carried; `None` when the workspace has no such
    /// number.
    async fn set_number_voice(
        &self,
        workspace: &WorkspaceId,
        id: &NumberId,
        voice: NumberVoice,
    ) -> StoreResult<Option<Number>>;
    async fn get_number(&self, workspace: &WorkspaceId, id: &NumberId) -> StoreResult<Option<Number>>;
    /// Every number of the workspace, newest first.
    async fn list_numbers(&self, workspace: &WorkspaceId) -> StoreResult<Vec<Number>>;
    /// Numbers newest first, a page at a time.
    async fn list_numbers_page(&self, workspace: &WorkspaceId, page: &PageRequest) -> StoreResult<Page<Number>>;
    /// Routes a number to another agent; `None` when the workspace has no such number,
    /// [`StoreError::NotFound`] when the agent is not in this workspace.
    async fn update_number(
        &self,
        workspace: &WorkspaceId,
        id: &NumberId,
        agent: &AgentId,
    ) -> StoreResult<Option<Number>>;
    /// Deletes a number; `false` when there was none.
    async fn delete_number(&self, workspace: &WorkspaceId, id: &NumberId) -> StoreResult<bool>;
    /// The number with this exact E.164 text, in whichever workspace has it (inbound
    /// routing).
    async fn number_by_e164(&self, number: &str) -> StoreResult<Option<Number>>;

    /// Writes a call and, in the same transaction, records `events` exactly as
    /// [`Store::record_events`] does (deliveries, lease budget, leased ones returned).
    ///
    /// [`CallWrite::Insert`] stores a new call with its `version` as given
    /// ([`StoreError::Conflict`] when a call with its id, or its provider and provider
    /// call id, is already stored). [`CallWrite::Update`] replaces the stored call only
    /// while the stored version equals `call.version`; the stored version is then
    /// `call.version + 1`, and the caller bumps its own copy after success. Otherwise
    /// [`StoreError::Conflict`] (another request changed it: reload and retry) or
    /// [`StoreError::NotFound`] (no such call). Either way nothing is written, events
    /// included. The call must be `workspace`'s ([`StoreError::NotFound`] otherwise).
    async fn save_call(
        &self,
        workspace: &WorkspaceId,
        write: CallWrite<'_>,
        events: &[NewEvent],
        retries: u32,
        lease: (DateTime<Utc>, usize),
    ) -> StoreResult<RecordedEvents>;
    async fn get_call(&self, workspace: &WorkspaceId, id: &CallId) -> StoreResult<Option<Call>>;
    /// The call a provider knows by this id, in whichever workspace has it (provider
    /// callbacks).
    async fn call_by_provider_id(&self, provider: Provider, provider_call_id: &str) -> StoreResult<Option<Call>>;
    /// The call with this id, in whichever workspace has it (provider callbacks that
    /// carry the id Frontdesk gave the provider).
    async fn call_by_id(&self, id: &CallId) -> StoreResult<Option<Call>>;
    /// Calls newest first. `filter.number` matches the business number (the `to` of
    /// inbound calls, the `from` of outbound ones); `since` (inclusive) and `until`
    /// (exclusive) bound `started_at`.
    async fn list_calls(
        &self,
        workspace: &WorkspaceId,
        filter: &CallFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Call>>;

    /// Live calls (`queued`, `ringing`, `in_progress`) of a provider not updated since
    /// `updated_before`, oldest update first: calls whose final status never came.
    async fn stale_live_calls(
        &self,
        provider: Provider,
        updated_before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Call>>;

    /// Stores a workspace's credentials for a provider, replacing any it had (the
    /// first `created_at` is kept). Returns them as stored.
    async fn put_credentials(&self, creds: &StoredCredentials) -> StoreResult<StoredCredentials>;
    async fn get_credentials(
        &self,
        workspace: &WorkspaceId,
        provider: Provider,
    ) -> StoreResult<Option<StoredCredentials>>;
    /// Every workspace's credentials for this provider account (one Twilio account may
    /// serve several workspaces), oldest first.
    async fn credentials_by_account(
        &self,
        provider: Provider,
        account_sid: &str,
    ) -> StoreResult<Vec<StoredCredentials>>;
    /// Deletes a workspace's credentials for a provider; `false` when there were none.
    async fn delete_credentials(&self, workspace: &WorkspaceId, provider: Provider) -> StoreResult<bool>;

    /// Starts an idempotent request. A record older than `ttl` is replaced; a record
    /// still running after `stale_after` (its server died) is taken over.
    async fn idempotency_begin(
        &self,
        workspace: &WorkspaceId,
        key: &str,
        request_digest: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
        stale_after: chrono::Duration,
    ) -> StoreResult<IdempotencyBegin>;
    /// Stores the response of a request started with [`Store::idempotency_begin`].
    async fn idempotency_complete(
        &self,
        workspace: &WorkspaceId,
        key: &str,
        response: &StoredResponse,
    ) -> StoreResult<()>;
    /// Forgets a started request (it failed in a way a retry may fix).
    async fn idempotency_abandon(&self, workspace: &WorkspaceId, key: &str) -> StoreResult<()>;
    /// Deletes records created before `before`; returns how many.
    async fn idempotency_prune(&self, before: DateTime<Utc>) -> StoreResult<u64>;

    async fn create_webhook(
        &self,
        workspace: &WorkspaceId,
        spec: &WebhookSpec,
        secret: &WebhookSecret,
    ) -> StoreResult<Webhook>;
    async fn get_webhook(&self, workspace: &WorkspaceId, id: &WebhookId) -> StoreResult<Option<Webhook>>;
    async fn list_webhooks(&self, workspace: &WorkspaceId, page: &PageRequest) -> StoreResult<Page<Webhook>>;
    /// Replaces a webhook's configuration. `active` is written only when `set_active`
    /// (so an edit of other fields cannot undo a concurrent auto-disable); making it
    /// active again clears the reason it was disabled and its run of failures.
    async fn update_webhook(
        &self,
        workspace: &WorkspaceId,
        id: &WebhookId,
        spec: &WebhookSpec,
        set_active: bool,
    ) -> StoreResult<Option<Webhook>>;
    /// Deletes a webhook with its deliveries; `false` when there was none.
    async fn delete_webhook(&self, workspace: &WorkspaceId, id: &WebhookId) -> StoreResult<bool>;
    /// Sets a new secret; the old one keeps signing until `previous_until`.
    async fn rotate_webhook_secret(
        &self,
        workspace: &WorkspaceId,
        id: &WebhookId,
        secret: &WebhookSecret,
        previous_until: DateTime<Utc>,
    ) -> StoreResult<Option<Webhook>>;

    /// Stores events and, in the same transaction, one pending delivery (due now, with
    /// `retries` retries) per active webhook of the workspace whose filters match. Up to
    /// `lease.1` of those deliveries are leased to the caller until `lease.0` and
    /// returned, ready to send (the hot path needs no separate claim); the rest wait to
    /// be claimed. Once this returns, nothing is lost.
    async fn record_events(
        &self,
        workspace: &WorkspaceId,
        events: &[NewEvent],
        retries: u32,
        lease: (DateTime<Utc>, usize),
    ) -> StoreResult<RecordedEvents>;
    async fn list_events(
        &self,
        workspace: &WorkspaceId,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<StoredEvent>>;
    async fn get_event(&self, workspace: &WorkspaceId, id: &EventId) -> StoreResult<Option<StoredEvent>>;

    /// Leases up to `limit` due deliveries (any workspace) until `now + lease`. A lease
    /// that runs out (its worker died) makes the delivery claimable again.
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedDelivery>>;
    /// When the next pending delivery falls due, if any.
    async fn next_due(&self) -> StoreResult<Option<DateTime<Utc>>>;
    /// Records attempts and their consequences (delivery state, webhook health), in one
    /// transaction.
    async fn record_attempts(&self, results: &[AttemptResult], now: DateTime<Utc>) -> StoreResult<()>;
    async fn list_deliveries(
        &self,
        workspace: &WorkspaceId,
        filter: &DeliveryFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Delivery>>;
    async fn get_delivery(
        &self,
        workspace: &WorkspaceId,
        id: &DeliveryId,
    ) -> StoreResult<Option<(Delivery, Vec<Attempt>)>>;
    /// Queues a finished delivery for one more attempt, now. [`StoreError::Conflict`]
    /// when it is still pending.
    async fn retry_delivery(
        &self,
        workspace: &WorkspaceId,
        id: &DeliveryId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Delivery>>;
    /// Queues a new delivery to the webhook for every event created in
    /// `[since, until)` that its filters match, or, with `only_failed`, for every such
    /// event whose delivery to it failed (and was not delivered since). Returns how many
    /// were queued; [`StoreError::NotFound`] when the webhook does not exist.
    async fn replay(
        &self,
        workspace: &WorkspaceId,
        webhook: &WebhookId,
        since: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
        only_failed: bool,
        retries: u32,
    ) -> StoreResult<u64>;
    /// Pending deliveries and the age of the oldest.
    async fn queue_stats(&self) -> StoreResult<QueueStats>;

    /// Periodic maintenance, run about every second (SQLite: WAL checkpoints off the
    /// write path).
    async fn housekeeping(&self) -> StoreResult<()>;

    /// At start: seals every secret still stored in clear (with a master key), and
    /// counts those the configured key cannot open (sealed with another key, or sealed
    /// with no key configured) and those left in clear (no key configured). Secrets are
    /// webhook signing secrets and custom headers, tool headers in agent
    /// configurations, responses kept for idempotent replay and provider credentials.
    async fn seal_secrets(&self) -> StoreResult<SealReport>;

    /// Retention: removes the contents of finished calls that ended before `cutoff`
    /// (transcript, collected fields, message, summary, tool calls, engine state, the
    /// caller's name and email; the row keeps its ids, numbers, times, status, type and
    /// end reason, gains `purged_at`, and its version moves on), and deletes events
    /// created before `cutoff` with their deliveries and attempts, except events with a
    /// delivery still pending (they go once it is done). At most `limit` calls and
    /// `limit` events per pass; call again while a pass reaches the limit.
    async fn purge_before(&self, cutoff: DateTime<Utc>, limit: u32) -> StoreResult<Purged>;
}

/// Opens the database a URL names: `sqlite://PATH` (created with its folder when
/// missing). PostgreSQL URLs are recognised and refused with a clear error until the
/// PostgreSQL implementation lands. `secrets` seals what the store keeps secret (see
/// [`secrets`]).
pub async fn open(url: &str, secrets: Secrets) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url, secrets).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Err(StoreError::Unsupported(
            "PostgreSQL is not supported by this build yet; use a sqlite:// database URL".into(),
        ))
    } else {
        Err(StoreError::Unsupported(format!(
            "`{}` is not a database URL this build understands; use sqlite://PATH (for example sqlite://./frontdesk-data/frontdesk.db)",
            redact_url(url)
        )))
    }
}

/// A database URL with any password replaced, safe to log or show.
#[must_use]
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &userinfo[..colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("sqlite://./x.db"), "sqlite://./x.db");
    }
}
