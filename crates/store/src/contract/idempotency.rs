//! Idempotency keys: the record of a request run under a key, and its response for
//! replay. The decision itself is [`frontdesk_core::idempotency::decide`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use frontdesk_core::id::WorkspaceId;

use crate::{IdempotencyBegin, StoreResult, StoredResponse};

/// Idempotency keys.
#[async_trait]
pub trait Idempotency: Send + Sync {
    /// Starts an idempotent request. A record older than `ttl` is replaced; a record
    /// still running after `stale_after` (its server died) is taken over. What the
    /// request meets is [`frontdesk_core::idempotency::decide`].
    ///
    /// Concurrency: of two begins with the same workspace and key exactly one gets
    /// `Started`; the other gets `InProgress` (same digest) or `Mismatch`. Likewise of two
    /// begins that find the same expired or stale record exactly one takes it over.
    async fn idempotency_begin(
        &self,
        workspace: &WorkspaceId,
        key: &str,
        request_digest: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
        stale_after: chrono::Duration,
    ) -> StoreResult<IdempotencyBegin>;
    /// Stores the response of a request started with
    /// [`Idempotency::idempotency_begin`].
    ///
    /// Concurrency: a begin on any node after it returns gets `Completed` with this
    /// response; a concurrent begin gets `InProgress` or `Completed`, never part of it.
    async fn idempotency_complete(
        &self,
        workspace: &WorkspaceId,
        key: &str,
        response: &StoredResponse,
    ) -> StoreResult<()>;
    /// Forgets a started request (it failed in a way a retry may fix).
    ///
    /// Concurrency: removes only a record still in progress, never a completed one (one
    /// conditional delete); a begin after it returns gets `Started`.
    async fn idempotency_abandon(&self, workspace: &WorkspaceId, key: &str) -> StoreResult<()>;
    /// Deletes records created before `before`; returns how many.
    ///
    /// Concurrency: may run on several nodes at once; each record is deleted once (the
    /// counts add up).
    async fn idempotency_prune(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}
