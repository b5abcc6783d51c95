//! Named locks within one process: one `tokio` mutex per name in use. SQLite's named
//! locks are these (one node serves a SQLite database); PostgreSQL's take one first, so
//! that a node has at most one connection waiting on the database for each name.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The locks of one store, by name.
#[derive(Debug, Default)]
pub(crate) struct LocalLocks {
    named: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl LocalLocks {
    /// The mutex of a name (made on first use; unused ones are forgotten now and then).
    pub(crate) fn of(&self, name: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut named = self.named.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if named.len() > 1_000 {
            named.retain(|_, m| Arc::strong_count(m) > 1);
        }
        named.entry(name.to_owned()).or_default().clone()
    }
}
