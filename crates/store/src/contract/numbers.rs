//! Phone numbers: which agent answers each, and how its calls are carried.

use async_trait::async_trait;
use frontdesk_core::agent::{Number, NumberVoice, Provider};
use frontdesk_core::id::{AgentId, NumberId, WorkspaceId};
use frontdesk_core::page::{Page, PageRequest};

use crate::StoreResult;

/// Phone numbers.
#[async_trait]
pub trait Numbers: Send + Sync {
    /// Registers a number that routes calls to `agent`. [`StoreError::NotFound`](crate::StoreError::NotFound)
    /// when the agent is not in this workspace; [`StoreError::Conflict`](crate::StoreError::Conflict)
    /// when the number is already registered (in any workspace: numbers are unique).
    ///
    /// Concurrency: of two creates of the same number (any workspaces) exactly one
    /// succeeds; the other gets `Conflict`. Against a concurrent delete of the agent, see
    /// [`Agents::delete_agent`](crate::Agents::delete_agent).
    async fn create_number(
        &self,
        workspace: &WorkspaceId,
        number: &str,
        agent: &AgentId,
        provider: Provider,
        voice: NumberVoice,
    ) -> StoreResult<Number>;
    /// Sets how a number's calls are carried; `None` when the workspace has no such
    /// number.
    ///
    /// Concurrency: last writer wins (mode and recording together).
    async fn set_number_voice(
        &self,
        workspace: &WorkspaceId,
        id: &NumberId,
        voice: NumberVoice,
    ) -> StoreResult<Option<Number>>;
    /// Concurrency: a read.
    async fn get_number(&self, workspace: &WorkspaceId, id: &NumberId) -> StoreResult<Option<Number>>;
    /// Every number of the workspace, newest first.
    ///
    /// Concurrency: a read.
    async fn list_numbers(&self, workspace: &WorkspaceId) -> StoreResult<Vec<Number>>;
    /// Numbers newest first, a page at a time.
    ///
    /// Concurrency: a read.
    async fn list_numbers_page(&self, workspace: &WorkspaceId, page: &PageRequest) -> StoreResult<Page<Number>>;
    /// Routes a number to another agent; `None` when the workspace has no such number,
    /// [`StoreError::NotFound`](crate::StoreError::NotFound) when the agent is not in this
    /// workspace.
    ///
    /// Concurrency: last writer wins; the number never routes to an agent deleted
    /// concurrently (see [`Agents::delete_agent`](crate::Agents::delete_agent)).
    async fn update_number(
        &self,
        workspace: &WorkspaceId,
        id: &NumberId,
        agent: &AgentId,
    ) -> StoreResult<Option<Number>>;
    /// Deletes a number; `false` when there was none.
    ///
    /// Concurrency: of two deletes of one number exactly one returns `true`.
    async fn delete_number(&self, workspace: &WorkspaceId, id: &NumberId) -> StoreResult<bool>;
    /// The number with this exact E.164 text, in whichever workspace has it (inbound
    /// routing).
    ///
    /// Concurrency: a read; a create, re-point or delete that returned before it began
    /// is seen, on any node.
    async fn number_by_e164(&self, number: &str) -> StoreResult<Option<Number>>;
}
