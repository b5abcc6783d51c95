//! Webhook endpoints: configuration, secrets and rotation, and the health fields the
//! delivery recorder sets (rules in [`frontdesk_core::webhook::health`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use frontdesk_core::id::{WebhookId, WorkspaceId};
use frontdesk_core::page::{Page, PageRequest};
use frontdesk_core::webhook::{Webhook, WebhookSecret, WebhookSpec};

use crate::StoreResult;

/// Webhook endpoints.
#[async_trait]
pub trait Webhooks: Send + Sync {
    /// Concurrency: independent. Events recorded while it is being created may or may
    /// not be delivered to it; those recorded after it returns are.
    async fn create_webhook(
        &self,
        workspace: &WorkspaceId,
        spec: &WebhookSpec,
        secret: &WebhookSecret,
    ) -> StoreResult<Webhook>;
    /// Concurrency: a read; sees the last write that returned before it began.
    async fn get_webhook(&self, workspace: &WorkspaceId, id: &WebhookId) -> StoreResult<Option<Webhook>>;
    /// Concurrency: a read.
    async fn list_webhooks(&self, workspace: &WorkspaceId, page: &PageRequest) -> StoreResult<Page<Webhook>>;
    /// Replaces a webhook's configuration. `active` is written only when `set_active`
    /// (so an edit of other fields cannot undo a concurrent auto-disable); making it
    /// active again clears the reason it was disabled and its run of failures
    /// ([`frontdesk_core::webhook::health::edit`]).
    ///
    /// Concurrency: last writer wins for the configuration; one conditional write, so
    /// without `set_active` an auto-disable recorded concurrently by `record_attempts`
    /// stays, whichever is written first.
    async fn update_webhook(
        &self,
        workspace: &WorkspaceId,
        id: &WebhookId,
        spec: &WebhookSpec,
        set_active: bool,
    ) -> StoreResult<Option<Webhook>>;
    /// Deletes a webhook with its deliveries; `false` when there was none.
    ///
    /// Concurrency: of two deletes exactly one returns `true`. Attempts recorded later
    /// for its deliveries (claimed before) are skipped without failing their batch.
    async fn delete_webhook(&self, workspace: &WorkspaceId, id: &WebhookId) -> StoreResult<bool>;
    /// Sets a new secret; the old one keeps signing until `previous_until`.
    ///
    /// Concurrency: one write that moves the current secret to `previous` and sets the
    /// new one: of concurrent rotations each applies whole, in some order; the secret
    /// the last one replaced is the one that keeps signing.
    async fn rotate_webhook_secret(
        &self,
        workspace: &WorkspaceId,
        id: &WebhookId,
        secret: &WebhookSecret,
        previous_until: DateTime<Utc>,
    ) -> StoreResult<Option<Webhook>>;
}
