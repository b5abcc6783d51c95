//! Agents and the numbers that route calls to them, in PostgreSQL.
//!
//! A number always points at an agent of its own workspace. With several writers the
//! check and the write must not be split by a delete: creating or re-pointing a number
//! takes the agent's row `FOR KEY SHARE` (what the foreign key check takes too), and
//! deleting an agent takes it `FOR UPDATE` before looking for numbers. The two lock
//! modes conflict, so one waits for the other: either the delete sees the number and
//! gets `Conflict`, or the number write finds no agent and gets `NotFound`. The foreign
//! key (`numbers.agent_id`) stands behind both. Numbers are unique across workspaces
//! (a constraint).

use chrono::{DateTime, Utc};
use frontdesk_core::agent::{Agent, Number, NumberVoice, Provider};
use frontdesk_core::id::{AgentId, NumberId, WorkspaceId};
use frontdesk_core::page::{Page, PageRequest};
use sqlx::{Postgres, Row, Transaction};

use super::{PgStore, exists_in_workspace, fetch_page, foreign_key_violation, unique_violation, workspace_query};
use crate::rows;
use crate::rows::{agent_from_row, ms, number_from_row};
use crate::secrets::Secrets;
use crate::{Agents, Numbers};
use crate::{StoreError, StoreResult};
use async_trait::async_trait;

/// Inserts an agent created at `at`.
pub(super) async fn insert_agent(
    tx: &mut Transaction<'static, Postgres>,
    secrets: &Secrets,
    workspace: &WorkspaceId,
    name: &str,
    config: &serde_json::Value,
    at: DateTime<Utc>,
) -> StoreResult<Agent> {
    let id = AgentId::generate();
    let config = secrets.seal_agent(config, workspace, id.as_str())?;
    let row = sqlx::query(concat!(
        "INSERT INTO agents (id, workspace_id, name, config, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
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

fn agent_gone(agent: &AgentId) -> StoreError {
    StoreError::NotFound(format!("agent {agent} does not exist in this workspace"))
}

/// Inserts a number created at `at`; [`StoreError::Conflict`] when any workspace has it.
/// The caller has checked (and locked) the agent.
pub(super) async fn insert_number(
    tx: &mut Transaction<'static, Postgres>,
    workspace: &WorkspaceId,
    number: &str,
    agent: &AgentId,
    provider: Provider,
    voice: NumberVoice,
    at: DateTime<Utc>,
) -> StoreResult<Number> {
    let res = sqlx::query(concat!(
        "INSERT INTO numbers (id, workspace_id, number, agent_id, provider, voice_mode, record_messages, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ",
        number_columns!()
    ))
    .bind(NumberId::generate().as_str())
    .bind(workspace.as_str())
    .bind(number)
    .bind(agent.as_str())
    .bind(provider.as_str())
    .bind(voice.mode.as_str())
    .bind(voice.record_messages)
    .bind(ms(at))
    .fetch_one(&mut **tx)
    .await;
    match res {
        Ok(row) => number_from_row(&row),
        Err(e) if unique_violation(&e) => Err(StoreError::Conflict(format!("{number} is already registered"))),
        Err(e) if foreign_key_violation(&e) => Err(agent_gone(agent)),
        Err(e) => Err(e.into()),
    }
}

/// [`StoreError::NotFound`] unless the agent exists in the workspace; holds it (`FOR
/// KEY SHARE`) until the transaction ends, so it cannot be deleted meanwhile.
async fn lock_agent(
    tx: &mut Transaction<'static, Postgres>,
    workspace: &WorkspaceId,
    agent: &AgentId,
) -> StoreResult<()> {
    let found = sqlx::query("SELECT 1 FROM agents WHERE id = $1 AND workspace_id = $2 FOR KEY SHARE")
        .bind(agent.as_str())
        .bind(workspace.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    found.map(|_| ()).ok_or_else(|| agent_gone(agent))
}

#[async_trait]
impl Agents for PgStore {
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
                " FROM agents WHERE id = $1 AND workspace_id = $2"
            ),
            id.as_str(),
            workspace,
            |r| agent_from_row(r, &self.secrets),
        )
        .await
    }

    async fn agent_updated_at(&self, workspace: &WorkspaceId, id: &AgentId) -> StoreResult<Option<DateTime<Utc>>> {
        self.get_in_workspace(
            "SELECT updated_at FROM agents WHERE id = $1 AND workspace_id = $2",
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
            " FROM agents WHERE workspace_id = $1 ORDER BY id DESC"
        ))
        .bind(workspace.as_str())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| agent_from_row(r, &self.secrets))
        .collect()
    }

    async fn list_agents_page(&self, workspace: &WorkspaceId, page: &PageRequest) -> StoreResult<Page<Agent>> {
        let q = workspace_query(concat!("SELECT ", agent_columns!(), " FROM agents"), workspace);
        fetch_page(
            q,
            &self.pool,
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
        // One statement: name, configuration and time land together.
        sqlx::query(concat!(
            "UPDATE agents SET name = $1, config = $2, updated_at = $3 WHERE id = $4 AND workspace_id = $5 \
             RETURNING ",
            agent_columns!()
        ))
        .bind(name)
        .bind(self.secrets.seal_agent(config, workspace, id.as_str())?.to_string())
        .bind(ms(Utc::now()))
        .bind(id.as_str())
        .bind(workspace.as_str())
        .fetch_optional(&self.pool)
        .await?
        .map(|r| agent_from_row(&r, &self.secrets))
        .transpose()
    }

    async fn delete_agent(&self, workspace: &WorkspaceId, id: &AgentId) -> StoreResult<bool> {
        // Lock the agent first (`FOR UPDATE` conflicts with the `FOR KEY SHARE` a number
        // write holds on it), then look for the numbers routed to it: a number written
        // before the lock was granted is committed by then and seen; one written after
        // finds the agent gone. The foreign key violation is the backstop.
        let mut tx = self.begin().await?;
        let found = sqlx::query("SELECT 1 FROM agents WHERE id = $1 AND workspace_id = $2 FOR UPDATE")
            .bind(id.as_str())
            .bind(workspace.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Ok(false);
        }
        let routed: Vec<String> = sqlx::query_scalar("SELECT number FROM numbers WHERE agent_id = $1 ORDER BY number")
            .bind(id.as_str())
            .fetch_all(&mut *tx)
            .await?;
        let conflict = |routed: &[String]| {
            StoreError::Conflict(format!(
                "agent {id} still answers {}; delete or re-point those numbers first",
                routed.join(", ")
            ))
        };
        if !routed.is_empty() {
            return Err(conflict(&routed));
        }
        let res = sqlx::query("DELETE FROM agents WHERE id = $1 AND workspace_id = $2")
            .bind(id.as_str())
            .bind(workspace.as_str())
            .execute(&mut *tx)
            .await;
        match res {
            Ok(res) => {
                tx.commit().await?;
                Ok(res.rows_affected() > 0)
            }
            Err(e) if foreign_key_violation(&e) => Err(conflict(&["a number".to_owned()])),
            Err(e) => Err(e.into()),
        }
    }
}

#[async_trait]
impl Numbers for PgStore {
    async fn create_number(
        &self,
        workspace: &WorkspaceId,
        number: &str,
        agent: &AgentId,
        provider: Provider,
        voice: NumberVoice,
    ) -> StoreResult<Number> {
        let mut tx = self.begin().await?;
        lock_agent(&mut tx, workspace, agent).await?;
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
        sqlx::query(concat!(
            "UPDATE numbers SET voice_mode = $1, record_messages = $2 WHERE id = $3 AND workspace_id = $4 RETURNING ",
            number_columns!()
        ))
        .bind(voice.mode.as_str())
        .bind(voice.record_messages)
        .bind(id.as_str())
        .bind(workspace.as_str())
        .fetch_optional(&self.pool)
        .await?
        .map(|r| number_from_row(&r))
        .transpose()
    }

    async fn get_number(&self, workspace: &WorkspaceId, id: &NumberId) -> StoreResult<Option<Number>> {
        self.get_in_workspace(
            concat!(
                "SELECT ",
                number_columns!(),
                " FROM numbers WHERE id = $1 AND workspace_id = $2"
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
            " FROM numbers WHERE workspace_id = $1 ORDER BY id DESC"
        ))
        .bind(workspace.as_str())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(number_from_row)
        .collect()
    }

    async fn list_numbers_page(&self, workspace: &WorkspaceId, page: &PageRequest) -> StoreResult<Page<Number>> {
        let q = workspace_query(concat!("SELECT ", number_columns!(), " FROM numbers"), workspace);
        fetch_page(q, &self.pool, page, number_from_row, |n| n.id.as_str()).await
    }

    async fn update_number(
        &self,
        workspace: &WorkspaceId,
        id: &NumberId,
        agent: &AgentId,
    ) -> StoreResult<Option<Number>> {
        let mut tx = self.begin().await?;
        let sql = "SELECT EXISTS (SELECT 1 FROM numbers WHERE id = $1 AND workspace_id = $2)";
        if !exists_in_workspace(&mut tx, sql, id.as_str(), workspace).await? {
            return Ok(None);
        }
        lock_agent(&mut tx, workspace, agent).await?;
        let res = sqlx::query(concat!(
            "UPDATE numbers SET agent_id = $1 WHERE id = $2 AND workspace_id = $3 RETURNING ",
            number_columns!()
        ))
        .bind(agent.as_str())
        .bind(id.as_str())
        .bind(workspace.as_str())
        .fetch_optional(&mut *tx)
        .await;
        let row = match res {
            Ok(row) => row,
            Err(e) if foreign_key_violation(&e) => return Err(agent_gone(agent)),
            Err(e) => return Err(e.into()),
        };
        tx.commit().await?;
        // No row: the number was deleted after the check.
        row.map(|r| number_from_row(&r)).transpose()
    }

    async fn delete_number(&self, workspace: &WorkspaceId, id: &NumberId) -> StoreResult<bool> {
        self.delete_in_workspace(
            "DELETE FROM numbers WHERE id = $1 AND workspace_id = $2",
            id.as_str(),
            workspace,
        )
        .await
    }

    async fn number_by_e164(&self, number: &str) -> StoreResult<Option<Number>> {
        sqlx::query(concat!("SELECT ", number_columns!(), " FROM numbers WHERE number = $1"))
            .bind(number)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| number_from_row(&r))
            .transpose()
    }
}
