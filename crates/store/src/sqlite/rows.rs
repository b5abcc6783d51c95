//! Reading SQLite rows back into domain records.

use chrono::{DateTime, Utc};
use frontdesk_core::agent::{Agent, Number, Provider};
use frontdesk_core::api_key::ApiKey;
use frontdesk_core::id::{AgentId, ApiKeyId, NumberId, WorkspaceId};
use frontdesk_core::workspace::Workspace;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{StoreError, StoreResult};

/// The columns [`api_key_from_row`] reads, as a literal for `concat!` (sqlx only takes
/// static SQL).
macro_rules! api_key_columns {
    () => {
        "id, workspace_id, name, prefix, created_at, last_used_at, revoked_at"
    };
}

pub(super) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(super) fn from_ms(ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms}")))
}

/// Now, at the millisecond precision the database keeps.
pub(super) fn now_ms() -> StoreResult<DateTime<Utc>> {
    from_ms(ms(Utc::now()))
}

fn opt_ms(v: Option<i64>) -> StoreResult<Option<DateTime<Utc>>> {
    v.map(from_ms).transpose()
}

fn id<T>(row: &SqliteRow, col: &str, parse: fn(&str) -> Result<T, frontdesk_core::ValidationError>) -> StoreResult<T> {
    let s: String = row.try_get(col)?;
    parse(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub(super) fn workspace_from_row(row: &SqliteRow) -> StoreResult<Workspace> {
    Ok(Workspace {
        id: id(row, "id", WorkspaceId::parse)?,
        name: row.try_get("name")?,
        created_at: from_ms(row.try_get("created_at")?)?,
    })
}

pub(super) fn api_key_from_row(row: &SqliteRow) -> StoreResult<ApiKey> {
    Ok(ApiKey {
        id: id(row, "id", ApiKeyId::parse)?,
        workspace_id: id(row, "workspace_id", WorkspaceId::parse)?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        created_at: from_ms(row.try_get("created_at")?)?,
        last_used_at: opt_ms(row.try_get("last_used_at")?)?,
        revoked_at: opt_ms(row.try_get("revoked_at")?)?,
    })
}

pub(super) fn agent_from_row(row: &SqliteRow) -> StoreResult<Agent> {
    let config: String = row.try_get("config")?;
    Ok(Agent {
        id: id(row, "id", AgentId::parse)?,
        workspace_id: id(row, "workspace_id", WorkspaceId::parse)?,
        name: row.try_get("name")?,
        config: serde_json::from_str(&config).map_err(|e| StoreError::Corrupt(format!("agent config: {e}")))?,
        created_at: from_ms(row.try_get("created_at")?)?,
        updated_at: from_ms(row.try_get("updated_at")?)?,
    })
}

pub(super) fn number_from_row(row: &SqliteRow) -> StoreResult<Number> {
    let provider: String = row.try_get("provider")?;
    Ok(Number {
        id: id(row, "id", NumberId::parse)?,
        workspace_id: id(row, "workspace_id", WorkspaceId::parse)?,
        number: row.try_get("number")?,
        agent_id: id(row, "agent_id", AgentId::parse)?,
        provider: Provider::parse(&provider).ok_or_else(|| StoreError::Corrupt(format!("provider `{provider}`")))?,
        created_at: from_ms(row.try_get("created_at")?)?,
    })
}
