//! An agent's knowledge documents ([`crate::Documents`]).

use async_trait::async_trait;
use frontdesk_core::id::{AgentId, DocumentId, WorkspaceId};
use frontdesk_core::knowledge::{Document, MAX_DOCUMENTS, NewDocument};
use sqlx::{Postgres, Transaction};

use super::PgStore;
use crate::rows::{document_from_row, ms, now_ms};
use crate::{Documents, StoreError, StoreResult};

macro_rules! document_columns {
    () => {
        "id, workspace_id, agent_id, title, format, content, chunks, created_at"
    };
}

#[async_trait]
impl Documents for PgStore {
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
             WHERE a.id = $1 AND a.workspace_id = $2",
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
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
        touch_agent(&mut tx, workspace, agent.as_str()).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn list_documents(&self, workspace: &WorkspaceId, agent: &AgentId) -> StoreResult<Vec<Document>> {
        sqlx::query(concat!(
            "SELECT ",
            document_columns!(),
            " FROM documents WHERE agent_id = $1 AND workspace_id = $2 ORDER BY id"
        ))
        .bind(agent.as_str())
        .bind(workspace.as_str())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(document_from_row)
        .collect()
    }

    async fn get_document(&self, workspace: &WorkspaceId, id: &DocumentId) -> StoreResult<Option<Document>> {
        sqlx::query(concat!(
            "SELECT ",
            document_columns!(),
            " FROM documents WHERE id = $1 AND workspace_id = $2"
        ))
        .bind(id.as_str())
        .bind(workspace.as_str())
        .fetch_optional(&self.pool)
        .await?
        .map(|r| document_from_row(&r))
        .transpose()
    }

    async fn delete_document(&self, workspace: &WorkspaceId, id: &DocumentId) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let agent: Option<String> =
            sqlx::query_scalar("DELETE FROM documents WHERE id = $1 AND workspace_id = $2 RETURNING agent_id")
                .bind(id.as_str())
                .bind(workspace.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let Some(agent) = agent else {
            return Ok(false);
        };
        touch_agent(&mut tx, workspace, &agent).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// Moves the agent's `updated_at` forward (by at least a millisecond, whatever the
/// clock says), so that prepared agents cached on any node are prepared again with
/// the documents as they now are.
async fn touch_agent(tx: &mut Transaction<'static, Postgres>, workspace: &WorkspaceId, agent: &str) -> StoreResult<()> {
    sqlx::query("UPDATE agents SET updated_at = GREATEST($1, updated_at + 1) WHERE id = $2 AND workspace_id = $3")
        .bind(ms(now_ms()?))
        .bind(agent)
        .bind(workspace.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}
