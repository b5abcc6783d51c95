//! Frontdesk storage.
//!
//! One interface, [`Store`], that every layer above uses; nothing above this crate knows
//! which database it runs on. [`open`] picks the implementation from the database URL:
//! `sqlite://` today (the embedded default), `postgres://` in a later release (the trait
//! is shaped for it: no SQLite-only semantics leak through it).
//!
//! Migrations live per database under `migrations/<db>/` and are embedded in the binary.

mod error;
mod sqlite;
mod types;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use frontdesk_core::agent::{Agent, Number};
use frontdesk_core::api_key::ApiKey;
use frontdesk_core::id::{ApiKeyId, WorkspaceId};
use frontdesk_core::page::{Page, PageRequest};
use frontdesk_core::workspace::{Workspace, WorkspaceName};

pub use error::StoreError;
pub use sqlite::SqliteStore;
pub use types::{Bootstrapped, IdempotencyBegin, NewApiKey, StoredResponse};

/// Result of every storage operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Everything Frontdesk persists. Implementations must make each method atomic.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Applies pending migrations; returns how many were applied.
    async fn migrate(&self) -> StoreResult<usize>;
    /// Cheap round trip to the database, for readiness checks.
    async fn ping(&self) -> StoreResult<()>;

    /// On an empty database (no workspace yet), creates in one transaction the workspace
    /// `default`, the demo agent, the demo `sim` number and the given key. Returns `None`
    /// when the database already had a workspace.
    async fn bootstrap_if_empty(&self, key: &NewApiKey) -> StoreResult<Option<Bootstrapped>>;

    /// Creates a workspace; [`StoreError::Conflict`] when the name is taken.
    async fn create_workspace(&self, name: &WorkspaceName) -> StoreResult<Workspace>;
    async fn workspace_by_name(&self, name: &WorkspaceName) -> StoreResult<Option<Workspace>>;
    async fn list_workspaces(&self) -> StoreResult<Vec<Workspace>>;

    async fn create_api_key(&self, workspace: &WorkspaceId, key: &NewApiKey) -> StoreResult<ApiKey>;
    /// The key with this digest, revoked or not.
    async fn api_key_by_digest(&self, digest: &str) -> StoreResult<Option<ApiKey>>;
    /// Keys newest first; all workspaces' when `workspace` is `None` (operator CLI only).
    async fn list_api_keys(&self, workspace: Option<&WorkspaceId>, page: &PageRequest) -> StoreResult<Page<ApiKey>>;
    async fn get_api_key(&self, workspace: &WorkspaceId, id: &ApiKeyId) -> StoreResult<Option<ApiKey>>;
    /// Marks a key revoked (idempotent: a second revoke keeps the first time). `None`
    /// when no such key exists (in that workspace, when one is given).
    async fn revoke_api_key(&self, workspace: Option<&WorkspaceId>, id: &ApiKeyId) -> StoreResult<Option<ApiKey>>;
    /// Records that a key was used at `at`.
    async fn touch_api_key(&self, id: &ApiKeyId, at: DateTime<Utc>) -> StoreResult<()>;

    async fn list_agents(&self, workspace: &WorkspaceId) -> StoreResult<Vec<Agent>>;
    async fn list_numbers(&self, workspace: &WorkspaceId) -> StoreResult<Vec<Number>>;

    /// Starts an idempotent request. A record older than `ttl` is replaced; a record
    /// still running after `stale_after` (its server died) is taken over.
    async fn idempotency_begin(
        &self,
        workspace: &WorkspaceId,
        key: &str,
        request_digest: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
        stale_after: chrono::Duration,
    ) -> StoreResult<IdempotencyBegin>;
    /// Stores the response of a request started with [`Store::idempotency_begin`].
    async fn idempotency_complete(
        &self,
        workspace: &WorkspaceId,
        key: &str,
        response: &StoredResponse,
    ) -> StoreResult<()>;
    /// Forgets a started request (it failed in a way a retry may fix).
    async fn idempotency_abandon(&self, workspace: &WorkspaceId, key: &str) -> StoreResult<()>;
    /// Deletes records created before `before`; returns how many.
    async fn idempotency_prune(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// Opens the database a URL names: `sqlite://PATH` (created with its folder when
/// missing). PostgreSQL URLs are recognised and refused with a clear error until the
/// PostgreSQL implementation lands.
pub async fn open(url: &str) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Err(StoreError::Unsupported(
            "PostgreSQL is not supported by this build yet; use a sqlite:// database URL".into(),
        ))
    } else {
        Err(StoreError::Unsupported(format!(
            "`{}` is not a database URL this build understands; use sqlite://PATH (for example sqlite://./frontdesk-data/frontdesk.db)",
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
