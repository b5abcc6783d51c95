//! Coordination between the nodes that share the database: named locks, and word of
//! new work.
//!
//! A call's steps take the call's lock (a turn, a provider callback and a hang-up of one
//! call never run side by side, on whichever nodes they land), and upkeep jobs take a
//! lock so that one node at a time runs each (the sweeper, the retention purge).

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::{Held, StoreResult};

/// Named locks shared by every node on the database.
#[async_trait]
pub trait Coordination: Send + Sync {
    /// Waits for, and takes, the lock named `name`; it is held until the returned
    /// [`Held`] drops (freed at once on SQLite, as soon as the holder's transaction has
    /// ended on PostgreSQL) or its node dies. Not reentrant.
    ///
    /// Concurrency: at most one holder of a name at a time across every node sharing the
    /// database; waiters get it one after another.
    async fn lock(&self, name: &str) -> StoreResult<Held>;

    /// Takes the lock named `name` if nobody holds it; `None` when a holder (on any
    /// node) has it.
    ///
    /// Concurrency: of concurrent attempts on a free name, exactly one gets it.
    async fn try_lock(&self, name: &str) -> StoreResult<Option<Held>>;

    /// Raised when any node records deliveries to attempt (new events, retries queued,
    /// replays), so that idle nodes claim them at once rather than at their next periodic
    /// claim; `None` when one node serves the database (it wakes itself).
    ///
    /// Concurrency: a hint, never a promise: a raise may be missed or spurious, and the
    /// periodic claim is the backstop.
    fn new_work(&self) -> Option<Arc<Notify>>;
}
