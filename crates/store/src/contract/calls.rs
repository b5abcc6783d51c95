//! Calls: written with their events under a version check; read by id, provider id,
//! filters; stale live calls for the sweeper.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use frontdesk_core::agent::Provider;
use frontdesk_core::call::{Call, CallFilter};
use frontdesk_core::event::NewEvent;
use frontdesk_core::id::{CallId, WorkspaceId};
use frontdesk_core::page::{Page, PageRequest};

use crate::{CallWrite, RecordedEvents, StoreResult};

/// Calls.
#[async_trait]
pub trait Calls: Send + Sync {
    /// Writes a call and, in the same transaction, records `events` exactly as
    /// [`Events::record_events`](crate::Events::record_events) does (deliveries, lease
    /// budget, leased ones returned).
    ///
    /// [`CallWrite::Insert`] stores a new call with its `version` as given
    /// ([`StoreError::Conflict`](crate::StoreError::Conflict) when a call with its id, or
    /// its provider and provider call id, is already stored). [`CallWrite::Update`]
    /// replaces the stored call only while the stored version equals `call.version`; the
    /// stored version is then `call.version + 1`, and the caller bumps its own copy after
    /// success. Otherwise `Conflict` (another request changed it: reload and retry) or
    /// [`StoreError::NotFound`](crate::StoreError::NotFound) (no such call). Either way
    /// nothing is written, events included. The call must be `workspace`'s (`NotFound`
    /// otherwise).
    ///
    /// Concurrency: of two updates based on the same version exactly one wins; the other
    /// gets `Conflict` and nothing of it (call, events, deliveries) is written. Of two
    /// inserts with the same id, or the same provider and provider call id, exactly one
    /// succeeds; the other gets `Conflict`, likewise writing nothing. The winner's call,
    /// events and deliveries become visible together.
    async fn save_call(
        &self,
        workspace: &WorkspaceId,
        write: CallWrite<'_>,
        events: &[NewEvent],
        retries: u32,
        lease: (DateTime<Utc>, usize),
    ) -> StoreResult<RecordedEvents>;
    /// Concurrency: a read; sees the last write that returned before it began, whole.
    async fn get_call(&self, workspace: &WorkspaceId, id: &CallId) -> StoreResult<Option<Call>>;
    /// The call a provider knows by this id, in whichever workspace has it (provider
    /// callbacks).
    ///
    /// Concurrency: a read; a call inserted before it began is found, on any node.
    async fn call_by_provider_id(&self, provider: Provider, provider_call_id: &str) -> StoreResult<Option<Call>>;
    /// The call with this id, in whichever workspace has it (provider callbacks that
    /// carry the id Frontdesk gave the provider).
    ///
    /// Concurrency: a read; a call inserted before it began is found, on any node.
    async fn call_by_id(&self, id: &CallId) -> StoreResult<Option<Call>>;
    /// Calls newest first. `filter.number` matches the business number (the `to` of
    /// inbound calls, the `from` of outbound ones); `since` (inclusive) and `until`
    /// (exclusive) bound `started_at`; `search` finds its text, ignoring case (at least
    /// ASCII case), in `from`, `to`, the caller's name or phone, or a line of the
    /// transcript, with `%`, `_` and `\` taken literally.
    ///
    /// Concurrency: a read.
    async fn list_calls(
        &self,
        workspace: &WorkspaceId,
        filter: &CallFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Call>>;

    /// Live calls (`queued`, `ringing`, `in_progress`) of a provider not updated since
    /// `updated_before`, oldest update first: calls whose final status never came.
    ///
    /// Concurrency: a read, no claim: sweepers on several nodes may get the same calls;
    /// their `save_call` (version check) decides which one finishes each.
    async fn stale_live_calls(
        &self,
        provider: Provider,
        updated_before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Call>>;
}
