//! Agents: a workspace's receptionists and their configurations.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use frontdesk_core::agent::Agent;
use frontdesk_core::id::{AgentId, WorkspaceId};
use frontdesk_core::page::{Page, PageRequest};

use crate::StoreResult;

/// Agents.
#[async_trait]
pub trait Agents: Send + Sync {
    /// Concurrency: independent; concurrent creates each store their agent.
    async fn create_agent(&self, workspace: &WorkspaceId, name: &str, config: &serde_json::Value)
    -> StoreResult<Agent>;
    /// Concurrency: a read; sees the last update that returned before it began, whole.
    async fn get_agent(&self, workspace: &WorkspaceId, id: &AgentId) -> StoreResult<Option<Agent>>;
    /// When the agent was last changed (`updated_at`), without reading its
    /// configuration: a cheap check that a parsed copy is still current.
    ///
    /// Concurrency: a read; an update that returned before it began is seen.
    async fn agent_updated_at(&self, workspace: &WorkspaceId, id: &AgentId) -> StoreResult<Option<DateTime<Utc>>>;
    /// Every agent of the workspace, newest first.
    ///
    /// Concurrency: a read.
    async fn list_agents(&self, workspace: &WorkspaceId) -> StoreResult<Vec<Agent>>;
    /// Agents newest first, a page at a time.
    ///
    /// Concurrency: a read.
    async fn list_agents_page(&self, workspace: &WorkspaceId, page: &PageRequest) -> StoreResult<Page<Agent>>;
    /// Replaces an agent's name and configuration (and sets `updated_at`); `None` when
    /// the workspace has no such agent.
    ///
    /// Concurrency: last writer wins, whole: concurrent updates leave one of them
    /// (name, configuration and `updated_at` together), never a mix.
    async fn update_agent(
        &self,
        workspace: &WorkspaceId,
        id: &AgentId,
        name: &str,
        config: &serde_json::Value,
    ) -> StoreResult<Option<Agent>>;
    /// Deletes an agent; `false` when there was none. [`StoreError::Conflict`](crate::StoreError::Conflict),
    /// naming them, while numbers still route calls to it. Its past calls are kept.
    ///
    /// Concurrency: never leaves a number routing to a deleted agent: against a
    /// concurrent `create_number`/`update_number` pointing at it, either the delete gets
    /// `Conflict` or the number write gets `NotFound`. Of two deletes one returns `true`.
    async fn delete_agent(&self, workspace: &WorkspaceId, id: &AgentId) -> StoreResult<bool>;
}
