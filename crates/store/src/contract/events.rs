//! Events and the outbox: an event is stored with its deliveries in one transaction
//! (routing and lease budget in [`frontdesk_core::webhook::routing`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use frontdesk_core::event::NewEvent;
use frontdesk_core::id::{EventId, WorkspaceId};
use frontdesk_core::page::{Page, PageRequest};

use crate::{EventFilter, RecordedEvents, StoreResult, StoredEvent};

/// Events and the outbox.
#[async_trait]
pub trait Events: Send + Sync {
    /// Stores events and, in the same transaction, one pending delivery (due now, with
    /// `retries` retries) per active webhook of the workspace whose filters match. Up to
    /// `lease.1` of those deliveries are leased to the caller until `lease.0` and
    /// returned, ready to send (the hot path needs no separate claim); the rest wait to
    /// be claimed. Once this returns, nothing is lost. Which deliveries, and which are
    /// leased: [`frontdesk_core::webhook::routing::routes`].
    ///
    /// Concurrency: events and their deliveries become visible together, on every node,
    /// or not at all. The leased deliveries are leased from their creation: no
    /// `claim_deliveries` anywhere takes them before `lease.0`.
    async fn record_events(
        &self,
        workspace: &WorkspaceId,
        events: &[NewEvent],
        retries: u32,
        lease: (DateTime<Utc>, usize),
    ) -> StoreResult<RecordedEvents>;
    /// Concurrency: a read; sees every event recorded before it began.
    async fn list_events(
        &self,
        workspace: &WorkspaceId,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<StoredEvent>>;
    /// Concurrency: a read.
    async fn get_event(&self, workspace: &WorkspaceId, id: &EventId) -> StoreResult<Option<StoredEvent>>;
}
