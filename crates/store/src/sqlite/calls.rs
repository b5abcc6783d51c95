//! Calls in SQLite: one row per call, written in the same transaction as the events it
//! raises, with an optimistic version check so two turns of one call cannot both win.
//!
//! The transcript, collected fields, tool calls, caller and engine state are JSON text
//! columns; the business number (the `to` of inbound calls, the `from` of outbound ones)
//! is a generated column, so the `number` filter has an index.

use chrono::{DateTime, Utc};
use frontdesk_core::agent::Provider;
use frontdesk_core::call::{Call, CallFilter};
use frontdesk_core::event::NewEvent;
use frontdesk_core::id::{CallId, WorkspaceId};
use frontdesk_core::page::{Page, PageRequest};
use serde::Serialize;
use sqlx::sqlite::SqliteArguments;
use sqlx::{Sqlite, Transaction};

use super::events::record_events_in;
use super::{SqliteStore, exists_in_workspace, fetch_page, unique_violation, workspace_query};
use crate::Calls;
use crate::rows::{call_from_row, contains_pattern, ms};
use crate::{CallWrite, RecordedEvents, StoreError, StoreResult};
use async_trait::async_trait;

/// A JSON column's text.
fn json_text<T: Serialize>(col: &str, value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(format!("{col} could not be encoded: {e}")))
}

/// Binds every column of `call` as `?1`..`?27`, in the order of `call_columns!`.
fn bind_call<'q>(
    q: sqlx::query::Query<'q, Sqlite, SqliteArguments>,
    call: &Call,
) -> StoreResult<sqlx::query::Query<'q, Sqlite, SqliteArguments>> {
    Ok(q.bind(call.id.as_str().to_owned())
        .bind(call.workspace_id.as_str().to_owned())
        .bind(call.agent_id.as_str().to_owned())
        .bind(call.direction.as_str())
        .bind(call.status.as_str())
        .bind(call.from.clone())
        .bind(call.to.clone())
        .bind(call.provider.as_str())
        .bind(call.provider_call_id.clone())
        .bind(json_text("caller", &call.caller)?)
        .bind(call.call_type.clone())
        .bind(json_text("custom_fields", &call.custom_fields)?)
        .bind(call.message.clone())
        .bind(call.transferred_to.clone())
        .bind(call.ai_summary.clone())
        .bind(json_text("turns", &call.turns)?)
        .bind(call.purpose.clone())
        .bind(call.end_reason.clone())
        .bind(json_text("tool_calls", &call.tool_calls)?)
        .bind(json_text("session", &call.session)?)
        .bind(call.version)
        .bind(ms(call.started_at))
        .bind(call.answered_at.map(ms))
        .bind(call.ended_at.map(ms))
        .bind(ms(call.updated_at))
        .bind(json_text("provider_details", &call.provider_details)?)
        .bind(call.duration))
}

async fn insert_call(tx: &mut Transaction<'static, Sqlite>, call: &Call) -> StoreResult<()> {
    let q = sqlx::query(concat!(
        "INSERT INTO calls (",
        call_columns!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, \
         ?21, ?22, ?23, ?24, ?25, ?26, ?27)"
    ));
    match bind_call(q, call)?.execute(&mut **tx).await {
        Ok(_) => Ok(()),
        Err(e) if unique_violation(&e) => Err(StoreError::Conflict(match &call.provider_call_id {
            Some(p) => format!("a {} call with id {p} is already stored", call.provider.as_str()),
            None => format!("call {} is already stored", call.id),
        })),
        Err(e) => Err(e.into()),
    }
}

/// Writes `call` over its stored row if that still has `call.version`, bumping it.
async fn update_call(tx: &mut Transaction<'static, Sqlite>, call: &Call) -> StoreResult<()> {
    let q = sqlx::query(
        "UPDATE calls SET agent_id = ?3, direction = ?4, status = ?5, from_number = ?6, to_number = ?7, \
         provider = ?8, provider_call_id = ?9, caller = ?10, call_type = ?11, custom_fields = ?12, message = ?13, \
         transferred_to = ?14, ai_summary = ?15, turns = ?16, purpose = ?17, end_reason = ?18, tool_calls = ?19, \
         session = ?20, version = ?21 + 1, started_at = ?22, answered_at = ?23, ended_at = ?24, updated_at = ?25, \
         provider_details = ?26, duration_seconds = ?27 WHERE id = ?1 AND workspace_id = ?2 AND version = ?21",
    );
    if bind_call(q, call)?.execute(&mut **tx).await?.rows_affected() > 0 {
        return Ok(());
    }
    let sql = "SELECT EXISTS (SELECT 1 FROM calls WHERE id = ? AND workspace_id = ?)";
    Err(
        if exists_in_workspace(tx, sql, call.id.as_str(), &call.workspace_id).await? {
            StoreError::Conflict(format!("call {} was changed by another request; retry", call.id))
        } else {
            StoreError::NotFound(format!("call {} does not exist in this workspace", call.id))
        },
    )
}

#[async_trait]
impl Calls for SqliteStore {
    async fn save_call(
        &self,
        workspace: &WorkspaceId,
        write: CallWrite<'_>,
        events: &[NewEvent],
        retries: u32,
        lease: (DateTime<Utc>, usize),
    ) -> StoreResult<RecordedEvents> {
        let call = write.call();
        if call.workspace_id != *workspace {
            return Err(StoreError::NotFound(format!(
                "call {} does not exist in this workspace",
                call.id
            )));
        }
        let mut tx = self.begin().await?;
        match write {
            CallWrite::Insert(call) => insert_call(&mut tx, call).await?,
            CallWrite::Update(call) => update_call(&mut tx, call).await?,
        }
        let recorded = record_events_in(&mut tx, &self.secrets, workspace, events, retries, lease).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    async fn get_call(&self, workspace: &WorkspaceId, id: &CallId) -> StoreResult<Option<Call>> {
        self.get_in_workspace(
            concat!(
                "SELECT ",
                call_read_columns!(),
                " FROM calls WHERE id = ? AND workspace_id = ?"
            ),
            id.as_str(),
            workspace,
            call_from_row,
        )
        .await
    }

    async fn call_by_provider_id(&self, provider: Provider, provider_call_id: &str) -> StoreResult<Option<Call>> {
        sqlx::query(concat!(
            "SELECT ",
            call_read_columns!(),
            " FROM calls WHERE provider = ? AND provider_call_id = ?"
        ))
        .bind(provider.as_str())
        .bind(provider_call_id)
        .fetch_optional(&self.reader)
        .await?
        .map(|r| call_from_row(&r))
        .transpose()
    }

    async fn call_by_id(&self, id: &CallId) -> StoreResult<Option<Call>> {
        sqlx::query(concat!("SELECT ", call_read_columns!(), " FROM calls WHERE id = ?"))
            .bind(id.as_str())
            .fetch_optional(&self.reader)
            .await?
            .map(|r| call_from_row(&r))
            .transpose()
    }

    async fn list_calls(
        &self,
        workspace: &WorkspaceId,
        filter: &CallFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Call>> {
        let mut q = workspace_query(concat!("SELECT ", call_read_columns!(), " FROM calls"), workspace);
        if let Some(s) = filter.status {
            q.push(" AND status = ").push_bind(s.as_str());
        }
        if let Some(t) = &filter.call_type {
            q.push(" AND call_type = ").push_bind(t.clone());
        }
        if let Some(d) = filter.direction {
            q.push(" AND direction = ").push_bind(d.as_str());
        }
        if let Some(n) = &filter.number {
            q.push(" AND business_number = ").push_bind(n.clone());
        }
        if let Some(s) = filter.since {
            q.push(" AND started_at >= ").push_bind(ms(s));
        }
        if let Some(u) = filter.until {
            q.push(" AND started_at < ").push_bind(ms(u));
        }
        if let Some(text) = &filter.search {
            // LIKE ignores ASCII case; the transcript and caller are JSON text, read
            // field by field so keys and escapes never match.
            let pattern = contains_pattern(text);
            q.push(" AND (");
            for column in [
                "from_number",
                "to_number",
                "json_extract(caller, '$.name')",
                "json_extract(caller, '$.phone')",
            ] {
                q.push(column)
                    .push(" LIKE ")
                    .push_bind(pattern.clone())
                    .push(" ESCAPE '\\' OR ");
            }
            q.push(
                "EXISTS (SELECT 1 FROM json_each(calls.turns) AS turn WHERE json_extract(turn.value, '$.text') LIKE ",
            )
            .push_bind(pattern)
            .push(" ESCAPE '\\'))");
        }
        fetch_page(q, &self.reader, page, call_from_row, |c| c.id.as_str()).await
    }

    async fn stale_live_calls(
        &self,
        provider: Provider,
        updated_before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Call>> {
        sqlx::query(concat!(
            "SELECT ",
            call_read_columns!(),
            " FROM calls WHERE provider = ? AND status IN ('queued', 'ringing', 'in_progress') \
             AND updated_at < ? ORDER BY updated_at LIMIT ?"
        ))
        .bind(provider.as_str())
        .bind(ms(updated_before))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(call_from_row)
        .collect()
    }
}
