//! Provider credentials: one set per workspace and provider, the secret sealed.

use async_trait::async_trait;
use frontdesk_core::agent::Provider;
use frontdesk_core::credentials::StoredCredentials;
use frontdesk_core::id::WorkspaceId;

use crate::StoreResult;

/// Provider credentials.
#[async_trait]
pub trait Credentials: Send + Sync {
    /// Stores a workspace's credentials for a provider, replacing any it had (the
    /// first `created_at` is kept). Returns them as stored.
    ///
    /// Concurrency: one upsert: of concurrent puts for one workspace and provider, one
    /// is stored whole (last writer wins), never a mix; the first `created_at` stays.
    async fn put_credentials(&self, creds: &StoredCredentials) -> StoreResult<StoredCredentials>;
    /// Concurrency: a read; sees the last put or delete that returned before it began.
    async fn get_credentials(
        &self,
        workspace: &WorkspaceId,
        provider: Provider,
    ) -> StoreResult<Option<StoredCredentials>>;
    /// Every workspace's credentials for this provider account (one Twilio account may
    /// serve several workspaces), oldest first.
    ///
    /// Concurrency: a read.
    async fn credentials_by_account(
        &self,
        provider: Provider,
        account_sid: &str,
    ) -> StoreResult<Vec<StoredCredentials>>;
    /// Deletes a workspace's credentials for a provider; `false` when there were none.
    ///
    /// Concurrency: of two deletes exactly one returns `true`.
    async fn delete_credentials(&self, workspace: &WorkspaceId, provider: Provider) -> StoreResult<bool>;
}
