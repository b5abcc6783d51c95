//! Rate-limit budgets shared by every node on the database.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use frontdesk_core::ratelimit::Taken;

use crate::StoreResult;

/// Per-key request budgets (GCRA, [`frontdesk_core::ratelimit`]), kept in the database so
/// that a key gets its limit once, however many nodes serve it.
#[async_trait]
pub trait RateLimits: Send + Sync {
    /// Takes one request at `now` from `key`'s budget of `limit` per `window` (the
    /// arithmetic of [`frontdesk_core::ratelimit::take`] on the key's stored state).
    ///
    /// Concurrency: atomic per key across every node: of concurrent takes from a budget
    /// with `n` left, exactly `n` are allowed.
    async fn take_rate(
        &self,
        key: &str,
        now: DateTime<Utc>,
        limit: u32,
        window: chrono::Duration,
    ) -> StoreResult<Taken>;

    /// Forgets the keys whose budgets are whole again at `now` (their state is
    /// `before` or older); returns how many.
    ///
    /// Concurrency: any node, any time; a budget forgotten while in use is whole anyway.
    async fn prune_rates(&self, before: DateTime<Utc>) -> StoreResult<u64>;

    /// Whether several nodes may serve this database (and so need the budgets here
    /// rather than in memory): PostgreSQL yes, SQLite no.
    fn shared_by_nodes(&self) -> bool;
}
