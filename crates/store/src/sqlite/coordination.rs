//! Named locks on SQLite ([`crate::Coordination`]): a SQLite database has one serving
//! node (one process writes it), so the locks live in that process, one `tokio` mutex
//! per name being used.

use std::sync::Arc;

use async_trait::async_trait;

use super::SqliteStore;
use crate::{Coordination, Held, StoreResult};

#[async_trait]
impl Coordination for SqliteStore {
    async fn lock(&self, name: &str) -> StoreResult<Held> {
        Ok(Held::new(self.locks.of(name).lock_owned().await))
    }

    async fn try_lock(&self, name: &str) -> StoreResult<Option<Held>> {
        Ok(self.locks.of(name).try_lock_owned().ok().map(Held::new))
    }

    fn new_work(&self) -> Option<Arc<tokio::sync::Notify>> {
        // One node: its dispatcher wakes itself when it records work.
        None
    }
}
