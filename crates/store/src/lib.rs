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
    Agents, ApiKeys, Bootstrap, Calls, Coordination, Credentials, Deliveries, Events, Idempotency, Maintenance,
    Numbers, RateLimits, Store, Webhooks, Workspaces,
};
pub use error::StoreError;
pub use postgres::PgStore;
pub use secrets::{SealReport, Secrets};
pub use sqlite::SqliteStore;
pub use types::{
    Attempt, AttemptResult, Bootstrapped, CallWrite, ClaimedDelivery, Delivery, DeliveryFilter, DeliveryStatus,
    EventFilter, Held, IdempotencyBegin, NewApiKey, NextStep, Purged, QueueStats, RecordedEvents, StoredEvent,
    StoredResponse, WebhookHealth,
};

/// Result of every storage operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Opens the database a URL names: `sqlite://PATH` (created with its folder when
/// missing) or `postgres://USER@HOST/DB` (`postgresql://` too; the database must exist).
/// `secrets` seals what the store keeps secret (see [`secrets`]). The schema is made
/// or brought up to date by [`Bootstrap::migrate`].
pub async fn open(url: &str, secrets: Secrets) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url, secrets).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open(url, secrets).await?))
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
