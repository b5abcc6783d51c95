//! Schema, readiness and the first start.

use async_trait::async_trait;

use crate::{Bootstrapped, NewApiKey, StoreResult};

/// The database's schema and reachability, and the first start.
#[async_trait]
pub trait Bootstrap: Send + Sync {
    /// Applies pending migrations; returns how many were applied.
    ///
    /// Concurrency: nodes migrating at once apply each migration exactly once (the
    /// backend serialises migrators, e.g. under an advisory lock); none sees a half-applied
    /// migration. The count is what this call applied.
    async fn migrate(&self) -> StoreResult<usize>;
    /// Cheap round trip to the database, for readiness checks.
    ///
    /// Concurrency: a read; any number at once.
    async fn ping(&self) -> StoreResult<()>;

    /// On an empty database (no workspace yet), creates in one transaction the workspace
    /// `default`, the demo agent, the demo `sim` number and the given key. Returns `None`
    /// when the database already had a workspace.
    ///
    /// Concurrency: of nodes starting at once on an empty database, at most one
    /// bootstraps (gets `Some`); the others get `None` and see its workspace, agent,
    /// number and key, all or nothing.
    async fn bootstrap_if_empty(&self, key: &NewApiKey) -> StoreResult<Option<Bootstrapped>>;
}
