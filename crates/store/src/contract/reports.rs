//! Reports: the raw points the dashboard overview draws its charts from.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use frontdesk_core::id::WorkspaceId;
use frontdesk_core::report::Activity;

use crate::StoreResult;

/// What a workspace did over a period, for the overview ([`frontdesk_core::report`]
/// buckets it; the store only reads).
#[async_trait]
pub trait Reports: Send + Sync {
    /// The workspace's calls started at or after `since` and its delivery attempts made
    /// at or after `since`, each newest first and each at most
    /// [`frontdesk_core::report::ACTIVITY_LIMIT`] rows (`truncated` says when a list was
    /// cut, so a busy workspace's query stays bounded); and, as they stand now, its live
    /// calls and its pending and failed deliveries. Only this workspace's records.
    ///
    /// Concurrency: a read; each part sees every write that returned before it began
    /// (the parts are separate reads, so a write in between may show in one and not in
    /// another).
    async fn activity(&self, workspace: &WorkspaceId, since: DateTime<Utc>) -> StoreResult<Activity>;
}
