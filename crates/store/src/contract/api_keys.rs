//! API keys: what is kept of them (digest, prefix, name), revocation, last use.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use frontdesk_core::api_key::ApiKey;
use frontdesk_core::id::{ApiKeyId, WorkspaceId};
use frontdesk_core::page::{Page, PageRequest};

use crate::{NewApiKey, StoreResult};

/// API keys.
#[async_trait]
pub trait ApiKeys: Send + Sync {
    /// Concurrency: independent; concurrent creates each store their key (digests are
    /// unique: a repeated digest is refused).
    async fn create_api_key(&self, workspace: &WorkspaceId, key: &NewApiKey) -> StoreResult<ApiKey>;
    /// The key with this digest, revoked or not.
    ///
    /// Concurrency: a read; a revoke that returned before it began is seen, on any node.
    async fn api_key_by_digest(&self, digest: &str) -> StoreResult<Option<ApiKey>>;
    /// Keys newest first; all workspaces' when `workspace` is `None` (operator CLI only).
    ///
    /// Concurrency: a read; sees every key created before it began.
    async fn list_api_keys(&self, workspace: Option<&WorkspaceId>, page: &PageRequest) -> StoreResult<Page<ApiKey>>;
    /// Concurrency: a read.
    async fn get_api_key(&self, workspace: &WorkspaceId, id: &ApiKeyId) -> StoreResult<Option<ApiKey>>;
    /// Marks a key revoked (idempotent: a second revoke keeps the first time). `None`
    /// when no such key exists (in that workspace, when one is given).
    ///
    /// Concurrency: concurrent revokes of one key all return it revoked at the same
    /// time, the first to be written (one conditional write, not read-then-write).
    async fn revoke_api_key(&self, workspace: Option<&WorkspaceId>, id: &ApiKeyId) -> StoreResult<Option<ApiKey>>;
    /// Records that a key was used at `at`.
    ///
    /// Concurrency: `last_used_at` only moves forward: of concurrent touches the latest
    /// time stays, whatever order they are written in.
    async fn touch_api_key(&self, id: &ApiKeyId, at: DateTime<Utc>) -> StoreResult<()>;
}
