//! An agent's knowledge documents (SPEC section 8), stored with their chunks.

use async_trait::async_trait;
use frontdesk_core::id::{AgentId, DocumentId, WorkspaceId};
use frontdesk_core::knowledge::{Document, NewDocument};

use crate::StoreResult;

/// Knowledge documents.
#[async_trait]
pub trait Documents: Send + Sync {
    /// Stores a document of `agent` (with its chunks);
    /// [`StoreError::NotFound`](crate::StoreError::NotFound) when the workspace has no
    /// such agent, [`StoreError::Conflict`](crate::StoreError::Conflict) when the agent
    /// already holds [`frontdesk_core::knowledge::MAX_DOCUMENTS`].
    ///
    /// Moves the agent's `updated_at` forward in the same transaction (by at least a
    /// millisecond), so that whatever is prepared from the agent, on any node, is
    /// prepared again.
    ///
    /// Concurrency: independent; two creates at the limit may both pass it by one (the
    /// limit is a guard against runaway uploads, not an exact quota).
    async fn create_document(
        &self,
        workspace: &WorkspaceId,
        agent: &AgentId,
        doc: &NewDocument,
    ) -> StoreResult<Document>;
    /// The agent's documents, oldest first, with their chunks.
    ///
    /// Concurrency: a read.
    async fn list_documents(&self, workspace: &WorkspaceId, agent: &AgentId) -> StoreResult<Vec<Document>>;
    /// Concurrency: a read.
    async fn get_document(&self, workspace: &WorkspaceId, id: &DocumentId) -> StoreResult<Option<Document>>;
    /// Deletes a document; `false` when there was none. Moves the agent's `updated_at`
    /// forward in the same transaction, as [`Documents::create_document`] does.
    /// Deleting an agent deletes its documents.
    ///
    /// Concurrency: one conditional delete: of two, one returns `true`.
    async fn delete_document(&self, workspace: &WorkspaceId, id: &DocumentId) -> StoreResult<bool>;
}
