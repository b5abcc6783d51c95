//! The delivery queue: claims under a lease, attempts and their consequences, manual
//! retry, replay, gauges.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use frontdesk_core::id::{DeliveryId, WebhookId, WorkspaceId};
use frontdesk_core::page::{Page, PageRequest};

use crate::{Attempt, AttemptResult, ClaimedDelivery, Delivery, DeliveryFilter, QueueStats, StoreResult};

/// The delivery queue.
#[async_trait]
pub trait Deliveries: Send + Sync {
    /// Leases up to `limit` due deliveries (any workspace) until `now + lease`. A lease
    /// that runs out (its worker died) makes the delivery claimable again.
    ///
    /// Concurrency: a delivery is leased to at most one claimer until its lease runs out:
    /// concurrent claims, on any nodes, get disjoint sets. A claimer that finds rows
    /// another is claiming skips them rather than waiting.
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedDelivery>>;
    /// When the next pending delivery falls due, if any.
    ///
    /// Concurrency: a read, a hint for how long to sleep; a claim decides.
    async fn next_due(&self) -> StoreResult<Option<DateTime<Utc>>>;
    /// Records attempts and their consequences (delivery state, webhook health), in one
    /// transaction. Attempts of deliveries deleted meanwhile are skipped. Per webhook the
    /// batch's last verdict counts ([`frontdesk_core::webhook::health::last_verdicts`]),
    /// applied as [`frontdesk_core::webhook::health::apply`] says.
    ///
    /// Concurrency: all of a batch or nothing. A delivery deleted concurrently (with its
    /// webhook) is skipped, never failing the batch. Batches from several nodes about
    /// one webhook apply their verdicts in commit order, each in one conditional write: a
    /// `Failing` keeps an open run's start; a disable is not undone by a concurrent edit
    /// without `set_active`. A delivery whose lease ran out may have been attempted by
    /// two nodes: both attempts are kept, the later write sets its state (at least once).
    async fn record_attempts(&self, results: &[AttemptResult], now: DateTime<Utc>) -> StoreResult<()>;
    /// Concurrency: a read.
    async fn list_deliveries(
        &self,
        workspace: &WorkspaceId,
        filter: &DeliveryFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Delivery>>;
    /// Concurrency: a read; the delivery and its attempts as of one moment.
    async fn get_delivery(
        &self,
        workspace: &WorkspaceId,
        id: &DeliveryId,
    ) -> StoreResult<Option<(Delivery, Vec<Attempt>)>>;
    /// Queues a finished delivery for one more attempt, now. [`StoreError::Conflict`](crate::StoreError::Conflict)
    /// when it is still pending.
    ///
    /// Concurrency: of two retries of one finished delivery exactly one returns it
    /// pending; the other gets `Conflict` (one conditional write).
    async fn retry_delivery(
        &self,
        workspace: &WorkspaceId,
        id: &DeliveryId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Delivery>>;
    /// Queues a new delivery to the webhook for every event created in
    /// `[since, until)` that its filters match, or, with `only_failed`, for every such
    /// event whose delivery to it failed (and was not delivered since). Returns how many
    /// were queued; [`StoreError::NotFound`](crate::StoreError::NotFound) when the webhook
    /// does not exist.
    ///
    /// Concurrency: at least once: concurrent replays of one webhook may queue an event
    /// twice; none is lost. A replay that returned is seen by the next (`only_failed`
    /// then skips what it queued).
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
    ///
    /// Concurrency: a read; a snapshot (count and age of one moment).
    async fn queue_stats(&self) -> StoreResult<QueueStats>;
}
