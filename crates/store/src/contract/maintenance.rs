//! Upkeep: periodic housekeeping, sealing secrets at start, the retention purge.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{Purged, SealReport, StoreResult};

/// Upkeep.
#[async_trait]
pub trait Maintenance: Send + Sync {
    /// Periodic maintenance, run about every second (SQLite: WAL checkpoints off the
    /// write path).
    ///
    /// Concurrency: any node, any time; changes no result of any other method.
    async fn housekeeping(&self) -> StoreResult<()>;

    /// At start: seals every secret still stored in clear (with a master key), and
    /// counts those the configured key cannot open (sealed with another key, or sealed
    /// with no key configured) and those left in clear (no key configured). Secrets are
    /// webhook signing secrets and custom headers, tool headers in agent
    /// configurations, responses kept for idempotent replay and provider credentials.
    ///
    /// Concurrency: nodes starting at once may both seal a value; each value ends sealed
    /// and reads the same (both seal the same clear text); the counts are each run's own.
    /// A write racing it (an agent update) is either sealed by it or sealed on its way in.
    async fn seal_secrets(&self) -> StoreResult<SealReport>;

    /// Retention: removes the contents of finished calls that ended before `cutoff`
    /// (transcript, collected fields, message, summary, tool calls, engine state, the
    /// caller's name and email; the row keeps its ids, numbers, times, status, type and
    /// end reason, gains `purged_at`, and its version moves on), and deletes events
    /// created before `cutoff` with their deliveries and attempts, except events with a
    /// delivery still pending (they go once it is done). At most `limit` calls and
    /// `limit` events per pass; call again while a pass reaches the limit.
    ///
    /// Concurrency: passes on several nodes purge each call and delete each event once
    /// (the counts add up). A `save_call` based on the version before the purge gets
    /// `Conflict`, so purged contents are never written back. An event with a delivery
    /// pending (or leased) is kept.
    async fn purge_before(&self, cutoff: DateTime<Utc>, limit: u32) -> StoreResult<Purged>;
}
