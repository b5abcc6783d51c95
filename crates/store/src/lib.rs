//! Frontdesk storage.
//!
//! One interface, [`Store`], that every layer above uses; nothing above this crate knows
//! which database it runs on. [`Store`] is the sum of one trait per concern ([`contract`]:
//! [`Calls`], [`Deliveries`], ...), each method with its concurrency promise. [`open`]
//! picks the implementation from the database URL: `sqlite://` (the embedded default,
//! one node) or `postgres://` (any number of nodes sharing one database).
//!
//! Migrations live per database under `migrations/<db>/` and are embedded in the binary.

#[cfg(any(test, feature = "conformance"))]
#[doc(hidden)]
pub mod conformance;
pub mod contract;
mod error;
mod local_locks;
#[macro_use]
mod rows;
mod postgres;
pub mod secrets;
mod sqlite;
#[cfg(any(test, feature = "conformance"))]
#[doc(hidden)]
pub mod testing;
mod types;

use std::sync::Arc;

pub use contract::{
    Agents, ApiKeys, Bootstrap, Calls, Coordination, Credentials, Deliveries, Documents, Events, Idempotency,
    Maintenance, Numbers, RateLimits, Reports, Store, Users, Webhooks, Workspaces,
};
pub use error::StoreError;
pub use postgres::PgStore;
pub use secrets::{SealReport, Secrets};
pub use sqlite::SqliteStore;
pub use types::{
    Attempt, AttemptResult, Bootstrapped, CallWrite, ClaimedDelivery, Delivery, DeliveryFilter, DeliveryStatus,
    EventFilter, Held, IdempotencyBegin, NewApiKey, NextStep, Purged, QueueStats, RecordedEvents, SentRequest,
    StoredEvent, StoredResponse, WebhookHealth,
};

/// Result of every storage operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// How a node connects to a database several nodes share (PostgreSQL; a SQLite store
/// has its own fixed pools).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Connections per node for queries (named locks have a pool of their own).
    pub pool_size: u32,
    /// Longest a statement may run before the database cancels it; `None`: no limit.
    pub statement_timeout: Option<std::time::Duration>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            pool_size: 16,
            statement_timeout: Some(std::time::Duration::from_secs(30)),
        }
    }
}

/// Opens the database a URL names: `sqlite://PATH` (created with its folder when
/// missing) or `postgres://USER@HOST/DB` (`postgresql://` too; the database must exist;
/// TLS as the URL's `sslmode` says). `secrets` seals what the store keeps secret (see
/// [`secrets`]). The schema is made or brought up to date by [`Bootstrap::migrate`].
pub async fn open(url: &str, secrets: Secrets) -> StoreResult<Arc<dyn Store>> {
    open_with(url, secrets, ConnectOptions::default()).await
}

/// [`open`], with the connection options of a shared database.
pub async fn open_with(url: &str, secrets: Secrets, options: ConnectOptions) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url, secrets).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open_with(url, secrets, options).await?))
    } else {
        Err(StoreError::Unsupported(format!(
            "`{}` is not a database URL this build understands; use sqlite://PATH (for example sqlite://./frontdesk-data/frontdesk.db) or postgres://USER@HOST/DB",
            redact_url(url)
        )))
    }
}

/// A database URL with any password replaced, safe to log or show.
#[must_use]
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &userinfo[..colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("sqlite://./x.db"), "sqlite://./x.db");
    }
}
