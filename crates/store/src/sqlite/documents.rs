//! An agent's knowledge documents ([`crate::Documents`]).

use async_trait::async_trait;
use frontdesk_core::id::{AgentId, DocumentId, WorkspaceId};
use frontdesk_core::knowledge::{Document, MAX_DOCUMENTS, NewDocument};

use super::SqliteStore;
use crate::rows::{document_from_row, ms, now_ms};
use crate::{Documents, StoreError, StoreResult};

macro_rules! document_columns {
    () => {
        "id, workspace_id, agent_id, title, format, content, chunks, created_at"
    };
}

#[async_trait]
impl Documents for SqliteStore {
    async fn create_document(
        &self,
        workspace: &WorkspaceId,
        agent: &AgentId,
        doc: &NewDocument,
    ) -> StoreResult<Document> {
        let stored = Document {
            id: DocumentId::generate(),
            workspace_id: workspace.clone(),
            agent_id: agent.clone(),
            title: doc.title.clone(),
            format: doc.format,
            content: doc.content.clone(),
            chunks: doc.chunks.clone(),
            created_at: now_ms()?,
        };
        let chunks = serde_json::to_string(&doc.chunks).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.begin().await?;
        let held: Option<i64> = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM documents d WHERE d.agent_id = a.id) FROM agents a \
             WHERE a.id = ?1 AND a.workspace_id = ?2",
        )
        .bind(agent.as_str())
        .bind(workspace.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(held) = held else {
            return Err(StoreError::NotFound(format!(
                "no agent with id `{agent}` exists in this workspace"
            )));
        };
        if u64::try_from(held).unwrap_or(0) >= MAX_DOCUMENTS {
            return Err(StoreError::Conflict(format!(
                "agent {agent} already holds {MAX_DOCUMENTS} documents; delete one first"
            )));
        }
        sqlx::query(
            "INSERT INTO documents (id, workspace_id, agent_id, title, format, content, chunks, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(stored.id.as_str())
        .bind(workspace.as_str())
        .bind(agent.as_str())
        .bind(&stored.title)
        .bind(stored.format.as_str())
        .bind(&stored.content)
        .bind(chunks)
        .bind(ms(stored.created_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn list_documents(&self, workspace: &WorkspaceId, agent: &AgentId) -> StoreResult<Vec<Document>> {
        sqlx::query(concat!(
            "SELECT ",
            document_columns!(),
            " FROM documents WHERE agent_id = ?1 AND workspace_id = ?2 ORDER BY id"
        ))
        .bind(agent.as_str())
        .bind(workspace.as_str())
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(document_from_row)
        .collect()
    }

    async fn get_document(&self, workspace: &WorkspaceId, id: &DocumentId) -> StoreResult<Option<Document>> {
        sqlx::query(concat!(
            "SELECT ",
            document_columns!(),
            " FROM documents WHERE id = ?1 AND workspace_id = ?2"
        ))
        .bind(id.as_str())
        .bind(workspace.as_str())
        .fetch_optional(&self.reader)
        .await?
        .map(|r| document_from_row(&r))
        .transpose()
    }

    async fn delete_document(&self, workspace: &WorkspaceId, id: &DocumentId) -> StoreResult<bool> {
        Ok(sqlx::query("DELETE FROM documents WHERE id = ?1 AND workspace_id = ?2")
            .bind(id.as_str())
            .bind(workspace.as_str())
            .execute(&self.writer)
            .await?
            .rows_affected()
            > 0)
    }
}
