//! Agents and the numbers that route calls to them, in SQLite.
//!
//! A number always points at an agent of its own workspace: creating or re-pointing a
//! number checks the agent in the same transaction, and an agent that a number still
//! points at cannot be deleted. Numbers are unique across workspaces (inbound routing
//! finds a call's workspace by the number called).

use chrono::{DateTime, Utc};
use frontdesk_core::agent::{Agent, Number, NumberVoice, Provider};
use frontdesk_core::id::{AgentId, NumberId, WorkspaceId};
use frontdesk_core::page::{Page, PageRequest};
use sqlx::{Sqlite, Transaction};

use super::{SqliteStore, exists_in_workspace, fetch_page, unique_violation, workspace_query};
use crate::rows;
use crate::rows::{agent_from_row, ms, number_from_row};
use crate::secrets::Secrets;
use crate::{Agents, Numbers};
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use sqlx::Row;

/// Inserts an agent created at `at`.
pub(super) async fn insert_agent(
    tx: &mut Transaction<'static, Sqlite>,
    secrets: &Secrets,
    workspace: &WorkspaceId,
    name: &str,
    config: &serde_json::Value,
    at: DateTime<Utc>,
) -> StoreResult<Agent> {
    let id = AgentId::generate();
    let config = secrets.seal_agent(config, workspace, id.as_str())?;
    let row = sqlx::query(concat!(
        "INSERT INTO agents (id, workspace_id, name, config, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5) \
         RETURNING ",
        agent_columns!()
    ))
    .bind(id.as_str())
    .bind(workspace.as_str())
    .bind(name)
    .bind(config.to_string())
    .bind(ms(at))
    .fetch_one(&mut **tx)
    .await?;
    agent_from_row(&row, secrets)
}

/// Inserts a number created at `at`; [`StoreError::Conflict`] when any workspace has it.
/// The caller has checked the agent.
pub(super) async fn insert_number(
    tx: &mut Transaction<'static, Sqlite>,
    workspace: &WorkspaceId,
    number: &str,
    agent: &AgentId,
    provider: Provider,
    voice: NumberVoice,
    at: DateTime<Utc>,
) -> StoreResult<Number> {
    let res = sqlx::query(concat!(
        "INSERT INTO numbers (id, workspace_id, number, agent_id, provider, voice_mode, record_messages, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING ",
        number_columns!()
    ))
    .bind(NumberId::generate().as_str())
    .bind(workspace.as_str())
    .bind(number)
    .bind(agent.as_str())
    .bind(provider.as_str())
    .bind(voice.mode.as_str())
    .bind(i64::from(voice.record_messages))
    .bind(ms(at))
    .fetch_one(&mut **tx)
    .await;
    match res {
        Ok(row) => number_from_row(&row),
        Err(e) if unique_violation(&e) => Err(StoreError::Conflict(format!("{number} is already registered"))),
        Err(e) => Err(e.into()),
    }
}

/// [`StoreError::NotFound`] unless the agent exists in the workspace.
async fn ensure_agent(
    tx: &mut Transaction<'static, Sqlite>,
    workspace: &WorkspaceId,
    agent: &AgentId,
) -> StoreResult<()> {
    let sql = "SELECT EXISTS (SELECT 1 FROM agents WHERE id = ? AND workspace_id = ?)";
    if exists_in_workspace(tx, sql, agent.as_str(), workspace).await? {
        Ok(())
    } else {
        Err(StoreError::NotFound(format!(
            "agent {agent} does not exist in this workspace"
        )))
    }
}

#[async_trait]
impl Agents for SqliteStore {
    async fn create_agent(
        &self,
        workspace: &WorkspaceId,
        name: &str,
        config: &serde_json::Value,
    ) -> StoreResult<Agent> {
        let mut tx = self.begin().await?;
        let agent = insert_agent(&mut tx, &self.secrets, workspace, name, config, Utc::now()).await?;
        tx.commit().await?;
        Ok(agent)
    }

    async fn get_agent(&self, workspace: &WorkspaceId, id: &AgentId) -> StoreResult<Option<Agent>> {
        self.get_in_workspace(
            concat!(
                "SELECT ",
                agent_columns!(),
                " FROM agents WHERE id = ? AND workspace_id = ?"
            ),
            id.as_str(),
            workspace,
            |r| agent_from_row(r, &self.secrets),
        )
        .await
    }

    async fn agent_updated_at(&self, workspace: &WorkspaceId, id: &AgentId) -> StoreResult<Option<DateTime<Utc>>> {
        self.get_in_workspace(
            "SELECT updated_at FROM agents WHERE id = ? AND workspace_id = ?",
            id.as_str(),
            workspace,
            |r| rows::from_ms(r.try_get("updated_at")?),
        )
        .await
    }

    async fn list_agents(&self, workspace: &WorkspaceId) -> StoreResult<Vec<Agent>> {
        sqlx::query(concat!(
            "SELECT ",
            agent_columns!(),
            " FROM agents WHERE workspace_id = ? ORDER BY id DESC"
        ))
        .bind(workspace.as_str())
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|r| agent_from_row(r, &self.secrets))
        .collect()
    }

    async fn list_agents_page(&self, workspace: &WorkspaceId, page: &PageRequest) -> StoreResult<Page<Agent>> {
        let q = workspace_query(concat!("SELECT ", agent_columns!(), " FROM agents"), workspace);
        fetch_page(
            q,
            &self.reader,
            page,
            |r| agent_from_row(r, &self.secrets),
            |a| a.id.as_str(),
        )
        .await
    }

    async fn update_agent(
        &self,
        workspace: &WorkspaceId,
        id: &AgentId,
        name: &str,
        config: &serde_json::Value,
    ) -> StoreResult<Option<Agent>> {
        sqlx::query(concat!(
            "UPDATE agents SET name = ?, config = ?, updated_at = ? WHERE id = ? AND workspace_id = ? RETURNING ",
            agent_columns!()
        ))
        .bind(name)
        .bind(self.secrets.seal_agent(config, workspace, id.as_str())?.to_string())
        .bind(ms(Utc::now()))
        .bind(id.as_str())
        .bind(workspace.as_str())
        .fetch_optional(&self.writer)
        .await?
        .map(|r| agent_from_row(&r, &self.secrets))
        .transpose()
    }

    async fn delete_agent(&self, workspace: &WorkspaceId, id: &AgentId) -> StoreResult<bool> {
        // Check, then delete: SQLite's single writer keeps a number from being pointed at
        // the agent in between, so the check's `Conflict` names every routed number. On a
        // backend with several writers the foreign key (numbers.agent_id) still refuses
        // the delete; it must turn that violation into the same `Conflict` (or lock the
        // agent's row, `SELECT ... FOR UPDATE`, before checking).
        let mut tx = self.begin().await?;
        let routed: Vec<String> = sqlx::query_scalar(
            "SELECT n.number FROM numbers n JOIN agents a ON a.id = n.agent_id \
             WHERE a.id = ? AND a.workspace_id = ? ORDER BY n.number",
        )
        .bind(id.as_str())
        .bind(workspace.as_str())
        .fetch_all(&mut *tx)
        .await?;
        if !routed.is_empty() {
            return Err(StoreError::Conflict(format!(
                "agent {id} still answers {}; delete or re-point those numbers first",
                routed.join(", ")
            )));
        }
        let res = sqlx::query("DELETE FROM agents WHERE id = ? AND workspace_id = ?")
            .bind(id.as_str())
            .bind(workspace.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(res.rows_affected() > 0)
    }
}

#[async_trait]
impl Numbers for SqliteStore {
    async fn create_number(
        &self,
        workspace: &WorkspaceId,
        number: &str,
        agent: &AgentId,
        provider: Provider,
        voice: NumberVoice,
    ) -> StoreResult<Number> {
        let mut tx = self.begin().await?;
        ensure_agent(&mut tx, workspace, agent).await?;
        let number = insert_number(&mut tx, workspace, number, agent, provider, voice, Utc::now()).await?;
        tx.commit().await?;
        Ok(number)
    }

    async fn set_number_voice(
        &self,
        workspace: &WorkspaceId,
        id: &NumberId,
        voice: NumberVoice,
    ) -> StoreResult<Option<Number>> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(concat!(
            "UPDATE numbers SET voice_mode = ?, record_messages = ? WHERE id = ? AND workspace_id = ? RETURNING ",
            number_columns!()
        ))
        .bind(voice.mode.as_str())
        .bind(i64::from(voice.record_messages))
        .bind(id.as_str())
        .bind(workspace.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.map(|r| number_from_row(&r)).transpose()
    }

    async fn get_number(&self, workspace: &WorkspaceId, id: &NumberId) -> StoreResult<Option<Number>> {
        self.get_in_workspace(
            concat!(
                "SELECT ",
                number_columns!(),
                " FROM numbers WHERE id = ? AND workspace_id = ?"
            ),
            id.as_str(),
            workspace,
            number_from_row,
        )
        .await
    }

    async fn list_numbers(&self, workspace: &WorkspaceId) -> StoreResult<Vec<Number>> {
        sqlx::query(concat!(
            "SELECT ",
            number_columns!(),
            " FROM numbers WHERE workspace_id = ? ORDER BY id DESC"
        ))
        .bind(workspace.as_str())
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(number_from_row)
        .collect()
    }

    async fn list_numbers_page(&self, workspace: &WorkspaceId, page: &PageRequest) -> StoreResult<Page<Number>> {
        let q = workspace_query(concat!("SELECT ", number_columns!(), " FROM numbers"), workspace);
        fetch_page(q, &self.reader, page, number_from_row, |n| n.id.as_str()).await
    }

    async fn update_number(
        &self,
        workspace: &WorkspaceId,
        id: &NumberId,
        agent: &AgentId,
    ) -> StoreResult<Option<Number>> {
        let mut tx = self.begin().await?;
        let sql = "SELECT EXISTS (SELECT 1 FROM numbers WHERE id = ? AND workspace_id = ?)";
        if !exists_in_workspace(&mut tx, sql, id.as_str(), workspace).await? {
            return Ok(None);
        }
        ensure_agent(&mut tx, workspace, agent).await?;
        let row = sqlx::query(concat!(
            "UPDATE numbers SET agent_id = ? WHERE id = ? RETURNING ",
            number_columns!()
        ))
        .bind(agent.as_str())
        .bind(id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        number_from_row(&row).map(Some)
    }

    async fn delete_number(&self, workspace: &WorkspaceId, id: &NumberId) -> StoreResult<bool> {
        self.delete_in_workspace(
            "DELETE FROM numbers WHERE id = ? AND workspace_id = ?",
            id.as_str(),
            workspace,
        )
        .await
    }

    async fn number_by_e164(&self, number: &str) -> StoreResult<Option<Number>> {
        sqlx::query(concat!("SELECT ", number_columns!(), " FROM numbers WHERE number = ?"))
            .bind(number)
            .fetch_optional(&self.reader)
            .await?
            .map(|r| number_from_row(&r))
            .transpose()
    }
}
