//! Call locks: a turn, a provider callback and a hang-up of the same call take turns.
//!
//! Everything that reads a provider call to change it holds the call's lock, then reads
//! the call fresh. The lock is a courtesy, not the guarantee: the call row's version is
//! (see [`crate::conflict`]). It keeps tools from running twice because two requests
//! saw the same state. [`StoreLocks`] keeps them in the store, so they span every node
//! on the database (PostgreSQL advisory locks; in-process on SQLite, which one node
//! serves); [`InProcessLocks`] serves a single process without a store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use frontdesk_core::id::CallId;
use frontdesk_store::Store;

/// Held while a call is worked on; dropping it lets the next one in.
pub struct CallGuard(#[allow(dead_code)] Box<dyn Send + Sync>);

impl CallGuard {
    /// A guard holding whatever keeps the lock (released when it drops).
    pub fn new(held: impl Send + Sync + 'static) -> Self {
        Self(Box::new(held))
    }
}

impl std::fmt::Debug for CallGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallGuard")
    }
}

/// Locks calls by id. Not reentrant: a holder must not ask for the same call again.
#[async_trait]
pub trait CallLocks: Send + Sync + 'static {
    /// Waits for, and takes, the lock of a call.
    async fn lock(&self, id: &CallId) -> CallGuard;
}

/// Locks within this process: one `tokio` mutex per call being worked on.
#[derive(Debug, Default)]
pub struct InProcessLocks {
    locks: Mutex<HashMap<CallId, Arc<tokio::sync::Mutex<()>>>>,
}

#[async_trait]
impl CallLocks for InProcessLocks {
    async fn lock(&self, id: &CallId) -> CallGuard {
        let m = {
            let mut locks = self.locks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if locks.len() > 1_000 {
                locks.retain(|_, m| Arc::strong_count(m) > 1);
            }
            locks.entry(id.clone()).or_default().clone()
        };
        CallGuard::new(m.lock_owned().await)
    }
}

/// Locks kept by the store ([`frontdesk_store::Coordination`]): one holder per call
/// across every node sharing the database.
pub struct StoreLocks(pub Arc<dyn Store>);

#[async_trait]
impl CallLocks for StoreLocks {
    async fn lock(&self, id: &CallId) -> CallGuard {
        match self.0.lock(&format!("call:{id}")).await {
            Ok(held) => CallGuard::new(held),
            Err(e) => {
                // The version check on every write still makes one step win; without the
                // lock, a tool may at worst run twice.
                tracing::warn!(call = %id, error = %e, "could not take a call's lock; going on without it");
                CallGuard::new(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn one_holder_at_a_time_per_call() {
        let locks = Arc::new(InProcessLocks::default());
        let a = CallId::generate();
        let held = locks.lock(&a).await;
        // Another call is not held up.
        let _other = locks.lock(&CallId::generate()).await;
        let waiting = {
            let locks = locks.clone();
            let a = a.clone();
            tokio::spawn(async move { locks.lock(&a).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "the second holder waits");
        drop(held);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the lock is handed on")
            .expect("task");
    }
}
