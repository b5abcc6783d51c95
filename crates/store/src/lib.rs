//! Frontdesk storage.
//!
//! One interface, [`Store`], that every layer above uses; nothing above this crate knows
//! which database it runs on. [`open`] picks the implementation from the database URL:
//! `sqlite://` today (the embedded default), `postgres://` in a later release (the trait
//! is shaped for it: no SQLite-only semantics leak through it).
//!
//! Migrations live per database under `migrations/<db>/` and are embedded in the binary.

mod error;
mod sqlite;
mod types;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use frontdesk_core::agent::{Agent, Number};
use frontdesk_core::api_key::ApiKey;
use frontdesk_core::event::NewEvent;
use frontdesk_core::id::{ApiKeyId, DeliveryId, EventId, WebhookId, WorkspaceId};
use frontdesk_core::page::{Page, PageRequest};
use frontdesk_core::webhook::{Webhook, WebhookSecret, WebhookSpec};
use frontdesk_core::workspace::{Workspace, WorkspaceName};

pub use error::StoreError;
pub use sqlite::SqliteStore;
pub use types::{
    Attempt, AttemptResult, Bootstrapped, ClaimedDelivery, Delivery, DeliveryFilter, DeliveryStatus, EventFilter,
    IdempotencyBegin, NewApiKey, NextStep, QueueStats, RecordedEvents, StoredEvent, StoredResponse, WebhookHealth,
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

    async fn list_agents(&self, workspace: &WorkspaceId) -> StoreResult<Vec<Agent>>;
    async fn list_numbers(&self, workspace: &WorkspaceId) -> StoreResult<Vec<Number>>;

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
}

/// Opens the database a URL names: `sqlite://PATH` (created with its folder when
/// missing). PostgreSQL URLs are recognised and refused with a clear error until the
/// PostgreSQL implementation lands.
pub async fn open(url: &str) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
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
