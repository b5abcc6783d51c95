//! Workspaces: the tenants everything else belongs to.

use async_trait::async_trait;
use frontdesk_core::workspace::{Workspace, WorkspaceName};

use crate::StoreResult;

/// Workspaces.
#[async_trait]
pub trait Workspaces: Send + Sync {
    /// Creates a workspace; [`StoreError::Conflict`](crate::StoreError::Conflict) when the
    /// name is taken.
    ///
    /// Concurrency: of two creates with the same name exactly one succeeds; the other
    /// gets `Conflict` and creates nothing.
    async fn create_workspace(&self, name: &WorkspaceName) -> StoreResult<Workspace>;
    /// Concurrency: a read; sees every workspace created before it began.
    async fn workspace_by_name(&self, name: &WorkspaceName) -> StoreResult<Option<Workspace>>;
    /// Concurrency: a read; sees every workspace created before it began.
    async fn list_workspaces(&self) -> StoreResult<Vec<Workspace>>;
}
