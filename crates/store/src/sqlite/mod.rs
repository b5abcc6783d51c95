//! The SQLite implementation of [`crate::Store`]: the embedded default.
//!
//! Two pools over one database file in WAL mode: a writer pool of exactly one connection,
//! so writes never contend for SQLite's single write lock (no "database is locked" under
//! load, whatever the busy timeout), and a reader pool for concurrent reads, which WAL
//! lets run beside the writer. Times are stored as integer milliseconds since the epoch.

mod agents;
mod calls;
mod coordination;
mod credentials;
mod deliveries;
mod documents;
mod events;
mod maintenance;
mod rate_limits;
mod reports;
mod users;
mod webhooks;

use std::str::FromStr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use frontdesk_core::agent::{self, NumberVoice, Provider};
use frontdesk_core::api_key::ApiKey;
use frontdesk_core::id::{ApiKeyId, WorkspaceId};
use frontdesk_core::idempotency::{self, Decision};
use frontdesk_core::page::{Page, PageRequest};
use frontdesk_core::workspace::{DEFAULT_WORKSPACE, Workspace, WorkspaceName};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};

use crate::rows::{self, api_key_from_row, ms, workspace_from_row};
use crate::secrets::{Secrets, idempotency_owner};
use crate::{
    ApiKeys, Bootstrap, Bootstrapped, Idempotency, IdempotencyBegin, NewApiKey, StoreError, StoreResult,
    StoredResponse, Workspaces,
};

/// The migrations. Applied ones this build does not know are ignored, so an earlier
/// release still starts on a database a later one migrated (migrations are additive).
static MIGRATOR: LazyLock<sqlx::migrate::Migrator> = LazyLock::new(|| {
    let mut m = sqlx::migrate!("./migrations/sqlite");
    m.set_ignore_missing(true);
    m
});

/// SQLite-backed store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// One connection for WAL checkpoints.
    maintenance: SqlitePool,
    /// Seals secrets on the way in, opens them on the way out.
    secrets: Secrets,
    /// Named locks (one node serves a SQLite database: they live in its process).
    locks: Arc<crate::local_locks::LocalLocks>,
}

impl SqliteStore {
    /// Opens (creating when missing, with its folder) the database at a `sqlite://` URL.
    pub async fn open(url: &str, secrets: Secrets) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL in WAL mode: a committed transaction survives a process crash
            // (kill -9); only an OS crash or power loss can drop the last few.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // Checkpoints run from `housekeeping`; this is only the backstop (~40 MB).
            .pragma("wal_autocheckpoint", "10000")
            // Deleted and rewritten content is zeroed where that costs no extra I/O, so
            // a secret sealed in place or a purged transcript does not linger in a page.
            .pragma("secure_delete", "FAST");
        if let Some(parent) = options.get_filename().parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Folder {
                path: parent.display().to_string(),
                source,
            })?;
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(options.clone())
            .await?;
        let readers = std::thread::available_parallelism().map_or(4, |n| n.get().clamp(2, 8) * 2);
        let reader = SqlitePoolOptions::new()
            .max_connections(u32::try_from(readers).unwrap_or(4))
            .connect_with(options.clone().read_only(true))
            .await?;
        let maintenance = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        Ok(Self {
            writer,
            reader,
            maintenance,
            secrets,
            locks: Arc::default(),
        })
    }

    async fn begin(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        // The writer pool has one connection, so this transaction is the only writer.
        Ok(self.writer.begin().await?)
    }

    /// Reads the record with this id in the workspace; `sql` binds the id, then the
    /// workspace.
    async fn get_in_workspace<T>(
        &self,
        sql: &'static str,
        id: &str,
        workspace: &WorkspaceId,
        from_row: impl Fn(&SqliteRow) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        sqlx::query(sql)
            .bind(id)
            .bind(workspace.as_str())
            .fetch_optional(&self.reader)
            .await?
            .map(|r| from_row(&r))
            .transpose()
    }

    /// Deletes the record with this id in the workspace (`sql` binds the id, then the
    /// workspace); `false` when there was none.
    async fn delete_in_workspace(&self, sql: &'static str, id: &str, workspace: &WorkspaceId) -> StoreResult<bool> {
        let res = sqlx::query(sql)
            .bind(id)
            .bind(workspace.as_str())
            .execute(&self.writer)
            .await?;
        Ok(res.rows_affected() > 0)
    }
}

/// Whether `sql` (`SELECT EXISTS (... WHERE id = ? AND workspace_id = ?)`) finds the
/// record with this id in the workspace.
async fn exists_in_workspace(
    tx: &mut Transaction<'static, Sqlite>,
    sql: &'static str,
    id: &str,
    workspace: &WorkspaceId,
) -> StoreResult<bool> {
    Ok(sqlx::query_scalar(sql)
        .bind(id)
        .bind(workspace.as_str())
        .fetch_one(&mut **tx)
        .await?)
}

/// Starts a list of one workspace's records: `select_from` (`SELECT ... FROM table`)
/// with `WHERE workspace_id = ?`, for filters to extend with ` AND ...`.
fn workspace_query(select_from: &'static str, workspace: &WorkspaceId) -> QueryBuilder<Sqlite> {
    let mut q = QueryBuilder::new(select_from);
    q.push(" WHERE workspace_id = ")
        .push_bind(workspace.as_str().to_owned());
    q
}

/// Ends a list query with the page's cursor and size (newest first, one row more than
/// asked: see [`Page::from_rows`]) and reads the page.
async fn fetch_page<T>(
    mut q: QueryBuilder<Sqlite>,
    pool: &SqlitePool,
    page: &PageRequest,
    from_row: impl Fn(&SqliteRow) -> StoreResult<T>,
    id_of: fn(&T) -> &str,
) -> StoreResult<Page<T>> {
    if let Some(b) = &page.before_id {
        q.push(" AND id < ").push_bind(b.clone());
    }
    q.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(page.limit) + 1);
    let rows = q
        .build()
        .fetch_all(pool)
        .await?
        .iter()
        .map(from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::from_rows(rows, page.limit, id_of))
}

fn unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

async fn insert_api_key(
    tx: &mut Transaction<'static, Sqlite>,
    workspace: &WorkspaceId,
    key: &NewApiKey,
    now: DateTime<Utc>,
) -> StoreResult<ApiKey> {
    let id = ApiKeyId::generate();
    sqlx::query("INSERT INTO api_keys (id, workspace_id, name, prefix, digest, created_at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(id.as_str())
        .bind(workspace.as_str())
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(&key.digest)
        .bind(ms(now))
        .execute(&mut **tx)
        .await?;
    Ok(ApiKey {
        id,
        workspace_id: workspace.clone(),
        name: key.name.clone(),
        prefix: key.prefix.clone(),
        created_at: rows::from_ms(ms(now))?,
        last_used_at: None,
        revoked_at: None,
    })
}

#[async_trait]
impl Bootstrap for SqliteStore {
    async fn migrate(&self) -> StoreResult<usize> {
        let before = MIGRATOR.iter().count();
        let has_table: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = '_sqlx_migrations')")
                .fetch_one(&self.writer)
                .await?;
        let applied_before: i64 = if has_table {
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
                .fetch_one(&self.writer)
                .await?
        } else {
            0
        };
        MIGRATOR.run(&self.writer).await?;
        Ok(before.saturating_sub(usize::try_from(applied_before).unwrap_or(0)))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    async fn bootstrap_if_empty(&self, key: &NewApiKey) -> StoreResult<Option<Bootstrapped>> {
        // Count, then insert, in one transaction: SQLite's single writer keeps a second
        // bootstrap from running in between, so at most one happens. A backend with
        // several writers must serialise bootstraps itself: take a lock first (PostgreSQL:
        // `SELECT pg_advisory_xact_lock(...)` or `LOCK TABLE workspaces IN EXCLUSIVE
        // MODE`) and count under it; a unique name alone would not stop a bootstrap beside
        // another workspace's creation.
        let mut tx = self.begin().await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM workspaces")
            .fetch_one(&mut *tx)
            .await?;
        if count > 0 {
            return Ok(None);
        }
        let now = Utc::now();
        let at = ms(now);
        let workspace = Workspace {
            id: WorkspaceId::generate(),
            name: DEFAULT_WORKSPACE.to_owned(),
            created_at: rows::from_ms(at)?,
        };
        sqlx::query("INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)")
            .bind(workspace.id.as_str())
            .bind(&workspace.name)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        let api_key = insert_api_key(&mut tx, &workspace.id, key, now).await?;
        let config = agent::demo_agent_config();
        let name = config["name"].as_str().unwrap_or("Demo front desk");
        let agent = agents::insert_agent(&mut tx, &self.secrets, &workspace.id, name, &config, now).await?;
        let number = agents::insert_number(
            &mut tx,
            &workspace.id,
            agent::DEMO_NUMBER,
            &agent.id,
            Provider::Sim,
            NumberVoice::default(),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Some(Bootstrapped {
            workspace,
            api_key,
            agent,
            number,
        }))
    }
}

#[async_trait]
impl Workspaces for SqliteStore {
    async fn create_workspace(&self, name: &WorkspaceName) -> StoreResult<Workspace> {
        let ws = Workspace {
            id: WorkspaceId::generate(),
            name: name.as_str().to_owned(),
            created_at: rows::now_ms()?,
        };
        let res = sqlx::query("INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)")
            .bind(ws.id.as_str())
            .bind(&ws.name)
            .bind(ms(ws.created_at))
            .execute(&self.writer)
            .await;
        match res {
            Ok(_) => Ok(ws),
            Err(e) if unique_violation(&e) => Err(StoreError::Conflict(format!(
                "a workspace named `{name}` already exists"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    async fn workspace_by_name(&self, name: &WorkspaceName) -> StoreResult<Option<Workspace>> {
        sqlx::query("SELECT id, name, created_at FROM workspaces WHERE name = ?")
            .bind(name.as_str())
            .fetch_optional(&self.reader)
            .await?
            .map(|r| workspace_from_row(&r))
            .transpose()
    }

    async fn list_workspaces(&self) -> StoreResult<Vec<Workspace>> {
        sqlx::query("SELECT id, name, created_at FROM workspaces ORDER BY name")
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(workspace_from_row)
            .collect()
    }
}

#[async_trait]
impl ApiKeys for SqliteStore {
    async fn create_api_key(&self, workspace: &WorkspaceId, key: &NewApiKey) -> StoreResult<ApiKey> {
        let mut tx = self.begin().await?;
        let key = insert_api_key(&mut tx, workspace, key, Utc::now()).await?;
        tx.commit().await?;
        Ok(key)
    }

    async fn api_key_by_digest(&self, digest: &str) -> StoreResult<Option<ApiKey>> {
        sqlx::query(concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys WHERE digest = ?"
        ))
        .bind(digest)
        .fetch_optional(&self.reader)
        .await?
        .map(|r| api_key_from_row(&r))
        .transpose()
    }

    async fn list_api_keys(&self, workspace: Option<&WorkspaceId>, page: &PageRequest) -> StoreResult<Page<ApiKey>> {
        let sql = concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys WHERE (?1 IS NULL OR workspace_id = ?1) AND (?2 IS NULL OR id < ?2) \
             ORDER BY id DESC LIMIT ?3"
        );
        let rows = sqlx::query(sql)
            .bind(workspace.map(WorkspaceId::as_str))
            .bind(page.before_id.as_deref())
            .bind(i64::from(page.limit) + 1)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(api_key_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_rows(rows, page.limit, |k| k.id.as_str()))
    }

    async fn get_api_key(&self, workspace: &WorkspaceId, id: &ApiKeyId) -> StoreResult<Option<ApiKey>> {
        self.get_in_workspace(
            concat!(
                "SELECT ",
                api_key_columns!(),
                " FROM api_keys WHERE id = ? AND workspace_id = ?"
            ),
            id.as_str(),
            workspace,
            api_key_from_row,
        )
        .await
    }

    async fn revoke_api_key(&self, workspace: Option<&WorkspaceId>, id: &ApiKeyId) -> StoreResult<Option<ApiKey>> {
        let sql = concat!(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?1) \
             WHERE id = ?2 AND (?3 IS NULL OR workspace_id = ?3) RETURNING ",
            api_key_columns!()
        );
        sqlx::query(sql)
            .bind(ms(Utc::now()))
            .bind(id.as_str())
            .bind(workspace.map(WorkspaceId::as_str))
            .fetch_optional(&self.writer)
            .await?
            .map(|r| api_key_from_row(&r))
            .transpose()
    }

    async fn touch_api_key(&self, id: &ApiKeyId, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE id = ?")
            .bind(ms(at))
            .bind(id.as_str())
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Idempotency for SqliteStore {
    async fn idempotency_begin(
        &self,
        workspace: &WorkspaceId,
        key: &str,
        request_digest: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
        stale_after: chrono::Duration,
    ) -> StoreResult<IdempotencyBegin> {
        // Read, decide, then write, in one transaction: with SQLite's single writer no
        // other begin runs in between, so of concurrent begins exactly one gets `Started`.
        // A backend with several writers must not read-then-upsert: it must first
        // `INSERT ... ON CONFLICT (workspace_id, key) DO NOTHING` (the insert that lands is
        // the one `Started`), and otherwise lock the row it decides on
        // (`SELECT ... FOR UPDATE`), or replace an expired or stale record only with a
        // conditional `UPDATE ... WHERE created_at = <the one read>`, so that of two
        // take-overs exactly one writes.
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "SELECT request_digest, status, content_type, body, created_at FROM idempotency_keys \
             WHERE workspace_id = ? AND key = ?",
        )
        .bind(workspace.as_str())
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        let now_ms = ms(now);
        let record = match &row {
            Some(row) => Some((
                row.try_get::<String, _>("request_digest")?,
                row.try_get::<Option<i64>, _>("status")?,
                rows::from_ms(row.try_get("created_at")?)?,
            )),
            None => None,
        };
        let existing = record.as_ref().map(|(digest, status, created_at)| idempotency::Record {
            request_digest: digest,
            completed: status.is_some(),
            created_at: *created_at,
        });
        match idempotency::decide(existing, request_digest, now, ttl, stale_after) {
            Decision::Start | Decision::Expire | Decision::TakeOver => {}
            Decision::Mismatch => return Ok(IdempotencyBegin::Mismatch),
            Decision::InProgress => return Ok(IdempotencyBegin::InProgress),
            Decision::Replay => {
                let (Some(row), Some((_, Some(status), _))) = (&row, &record) else {
                    return Err(StoreError::Corrupt("idempotency record".into()));
                };
                let body = row.try_get::<Option<Vec<u8>>, _>("body")?.unwrap_or_default();
                return Ok(IdempotencyBegin::Completed(StoredResponse {
                    status: u16::try_from(*status).map_err(|_| StoreError::Corrupt("idempotency status".into()))?,
                    content_type: row.try_get("content_type")?,
                    body: self.secrets.open_bytes(body, &idempotency_owner(workspace, key))?,
                }));
            }
        }
        sqlx::query(
            "INSERT INTO idempotency_keys (workspace_id, key, request_digest, status, content_type, body, created_at) \
             VALUES (?1, ?2, ?3, NULL, NULL, NULL, ?4) \
             ON CONFLICT (workspace_id, key) DO UPDATE SET request_digest = ?3, status = NULL, \
             content_type = NULL, body = NULL, created_at = ?4",
        )
        .bind(workspace.as_str())
        .bind(key)
        .bind(request_digest)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(IdempotencyBegin::Started)
    }

    async fn idempotency_complete(
        &self,
        workspace: &WorkspaceId,
        key: &str,
        response: &StoredResponse,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE idempotency_keys SET status = ?, content_type = ?, body = ? WHERE workspace_id = ? AND key = ?",
        )
        .bind(i64::from(response.status))
        .bind(response.content_type.as_deref())
        .bind(
            self.secrets
                .seal_bytes(&response.body, &idempotency_owner(workspace, key))?,
        )
        .bind(workspace.as_str())
        .bind(key)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn idempotency_abandon(&self, workspace: &WorkspaceId, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM idempotency_keys WHERE workspace_id = ? AND key = ? AND status IS NULL")
            .bind(workspace.as_str())
            .bind(key)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn idempotency_prune(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let res = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < ?")
            .bind(ms(before))
            .execute(&self.writer)
            .await?;
        Ok(res.rows_affected())
    }
}

#[cfg(test)]
mod tests;
