//! The PostgreSQL implementation of [`crate::Store`]: several nodes share one database.
//!
//! One connection pool; every method one statement or one transaction (READ COMMITTED).
//! SQLite keeps some promises thanks to its single writer; here several writers run at
//! once, so each promise rests on the database itself: unique constraints and
//! `INSERT ... ON CONFLICT` for "exactly one succeeds", conditional writes
//! (`UPDATE ... WHERE version = $n`, `... AND status != 'pending'`) re-checked by
//! PostgreSQL on the row as it is when written, `FOR UPDATE SKIP LOCKED` where work is
//! shared out (claims, the retention purge), row locks taken in one order where a write
//! must hold what it read, and advisory locks for what has no row to lock (migrations,
//! the first start). Each method's comment says which.
//!
//! The schema has SQLite's shapes (times as integer milliseconds, JSON as text), so
//! [`crate::rows`] reads both backends' rows, and secrets are sealed through the same
//! [`Secrets`].

mod agents;
mod calls;
mod coordination;
mod credentials;
mod deliveries;
mod documents;
mod events;
mod maintenance;
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
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Postgres, QueryBuilder, Row, Transaction};
use tokio::sync::Notify;

use crate::ConnectOptions;
use crate::rows::{self, api_key_from_row, ms, workspace_from_row};
use crate::secrets::{Secrets, idempotency_owner};
use crate::{
    ApiKeys, Bootstrap, Bootstrapped, Idempotency, IdempotencyBegin, NewApiKey, StoreError, StoreResult,
    StoredResponse, Workspaces,
};

/// The migrations. Applied ones this build does not know are ignored: a node of an
/// earlier release restarting after a newer migration (a rolling deploy, a rollback)
/// starts on the newer schema, which is additive.
static MIGRATOR: LazyLock<sqlx::migrate::Migrator> = LazyLock::new(|| {
    let mut m = sqlx::migrate!("./migrations/postgres");
    m.set_ignore_missing(true);
    m
});

/// Advisory lock held while a node migrates and counts what it applied ("FDmigrat").
const MIGRATE_LOCK: i64 = 0x4644_6D69_6772_6174;
/// Advisory lock held by the first-start transaction ("FDbootst").
const BOOTSTRAP_LOCK: i64 = 0x4644_626F_6F74_7374;

/// Connections per node for named locks (each held or awaited lock keeps one; at most
/// one awaited per name) and the listener of other nodes' work.
const LOCK_POOL_SIZE: u32 = 64;

/// Connections per node for rate budgets and the readiness ping.
const AUX_POOL_SIZE: u32 = 8;

/// PostgreSQL-backed store.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Connections that hold named locks, and the listener of other nodes' work.
    locks: PgPool,
    /// Connections for rate budgets and the readiness ping.
    aux: PgPool,
    /// One waiter per name on this node before the database is asked.
    local: Arc<crate::local_locks::LocalLocks>,
    /// Raised when another node (or this one) queues deliveries nobody leased.
    work: Arc<Notify>,
    /// Seals secrets on the way in, opens them on the way out.
    secrets: Secrets,
}

impl PgStore {
    /// Connects to the database at a `postgres://` (or `postgresql://`) URL. The
    /// database must exist; [`Bootstrap::migrate`] creates the schema.
    pub async fn open(url: &str, secrets: Secrets) -> StoreResult<Self> {
        Self::open_with(url, secrets, ConnectOptions::default()).await
    }

    /// [`PgStore::open`] with a pool size and statement timeout.
    pub async fn open_with(url: &str, secrets: Secrets, connect: ConnectOptions) -> StoreResult<Self> {
        Self::connect(PgConnectOptions::from_str(url)?, secrets, connect).await
    }

    /// Connects with these options.
    #[cfg(any(test, feature = "conformance"))]
    pub(crate) async fn connect_with(options: PgConnectOptions, secrets: Secrets) -> StoreResult<Self> {
        Self::connect(options, secrets, ConnectOptions::default()).await
    }

    async fn connect(options: PgConnectOptions, secrets: Secrets, connect: ConnectOptions) -> StoreResult<Self> {
        // Notices ("relation ... already exists, skipping" from the migrator's
        // `CREATE TABLE IF NOT EXISTS`) are not worth a log line on every start.
        let timeout = connect
            .statement_timeout
            .map_or(0, |t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX))
            .to_string();
        // TCP keepalives: the server notices a node that vanished (power, network) within
        // a minute, and ends its sessions, which frees its advisory locks.
        let options = options.application_name("frontdesk").options([
            ("client_min_messages", "warning"),
            ("tcp_keepalives_idle", "30"),
            ("tcp_keepalives_interval", "10"),
            ("tcp_keepalives_count", "3"),
        ]);
        let pool = PgPoolOptions::new()
            .max_connections(connect.pool_size.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone().options([("statement_timeout", timeout.as_str())]))
            .await?;
        // Named locks wait as long as their holders hold them: no statement timeout.
        let locks = PgPoolOptions::new()
            .max_connections(LOCK_POOL_SIZE)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(30))
            .connect_lazy_with(options.clone());
        // Rate budgets and the readiness ping: short statements on a few connections of
        // their own (so a busy query pool delays neither), with asynchronous commit (a
        // crash may forget the last moments of a budget, which is harmless).
        let aux = PgPoolOptions::new()
            .max_connections(AUX_POOL_SIZE)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(2))
            .connect_lazy_with(options.options([("synchronous_commit", "off"), ("statement_timeout", "2000")]));
        let work = Arc::new(Notify::new());
        tokio::spawn(coordination::listen(locks.clone(), Arc::downgrade(&work)));
        Ok(Self {
            pool,
            locks,
            aux,
            local: Arc::default(),
            work,
            secrets,
        })
    }

    async fn begin(&self) -> StoreResult<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    /// Reads the record with this id in the workspace; `sql` binds the id (`$1`), then
    /// the workspace (`$2`).
    async fn get_in_workspace<T>(
        &self,
        sql: &'static str,
        id: &str,
        workspace: &WorkspaceId,
        from_row: impl Fn(&PgRow) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        sqlx::query(sql)
            .bind(id)
            .bind(workspace.as_str())
            .fetch_optional(&self.pool)
            .await?
            .map(|r| from_row(&r))
            .transpose()
    }

    /// Deletes the record with this id in the workspace (`sql` binds the id, then the
    /// workspace); `false` when there was none. One statement: of two deletes, the second
    /// waits for the first and then finds nothing.
    async fn delete_in_workspace(&self, sql: &'static str, id: &str, workspace: &WorkspaceId) -> StoreResult<bool> {
        let res = sqlx::query(sql)
            .bind(id)
            .bind(workspace.as_str())
            .execute(&self.pool)
            .await?;
        Ok(res.rows_affected() > 0)
    }
}

/// Whether `sql` (`SELECT EXISTS (... WHERE id = $1 AND workspace_id = $2)`) finds the
/// record with this id in the workspace.
async fn exists_in_workspace(
    tx: &mut Transaction<'static, Postgres>,
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
/// with `WHERE workspace_id = $1`, for filters to extend with ` AND ...`.
fn workspace_query(select_from: &'static str, workspace: &WorkspaceId) -> QueryBuilder<Postgres> {
    let mut q = QueryBuilder::new(select_from);
    q.push(" WHERE workspace_id = ")
        .push_bind(workspace.as_str().to_owned());
    q
}

/// Ends a list query with the page's cursor and size (newest first, one row more than
/// asked: see [`Page::from_rows`]) and reads the page.
async fn fetch_page<T>(
    mut q: QueryBuilder<Postgres>,
    pool: &PgPool,
    page: &PageRequest,
    from_row: impl Fn(&PgRow) -> StoreResult<T>,
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

fn foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}

async fn insert_api_key(
    tx: &mut Transaction<'static, Postgres>,
    workspace: &WorkspaceId,
    key: &NewApiKey,
    now: DateTime<Utc>,
) -> StoreResult<ApiKey> {
    let id = ApiKeyId::generate();
    sqlx::query(
        "INSERT INTO api_keys (id, workspace_id, name, prefix, digest, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
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

/// How many migrations the database records as applied.
async fn applied_migrations(conn: &mut PgConnection) -> StoreResult<i64> {
    let has_table: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !has_table {
        return Ok(0);
    }
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut *conn)
            .await?,
    )
}

#[async_trait]
impl Bootstrap for PgStore {
    async fn migrate(&self) -> StoreResult<usize> {
        // sqlx's migrator serialises migrators with its own advisory lock and applies
        // each migration in a transaction. This lock (held on a connection of its own
        // for the whole call) also covers the counts before and after, so the number
        // returned is what this call applied, not what a node migrating at the same
        // moment did.
        //
        // On the lock pool, which has no statement timeout: a migration may take longer
        // than a query is allowed to (an index on a large table), and waiting for
        // another node's migration too.
        let mut conn = self.locks.acquire().await?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATE_LOCK)
            .execute(&mut *conn)
            .await?;
        let result = async {
            let before = applied_migrations(&mut conn).await?;
            MIGRATOR.run(&self.locks).await?;
            let after = applied_migrations(&mut conn).await?;
            Ok::<_, StoreError>(usize::try_from(after - before).unwrap_or(0))
        }
        .await;
        let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(MIGRATE_LOCK)
            .execute(&mut *conn)
            .await;
        if unlocked.is_err() {
            // A session lock must not go back to the pool with the connection.
            let _ = conn.detach().close().await;
        }
        result
    }

    async fn ping(&self) -> StoreResult<()> {
        // A readiness probe wants an answer soon, not after the pool's acquire timeout.
        // On a pool of its own: a node whose query pool is busy is still ready.
        match tokio::time::timeout(Duration::from_secs(2), sqlx::query("SELECT 1").execute(&self.aux)).await {
            Ok(done) => done.map(|_| ()).map_err(Into::into),
            Err(_) => Err(StoreError::Unavailable("the database did not answer within 2 s".into())),
        }
    }

    async fn bootstrap_if_empty(&self, key: &NewApiKey) -> StoreResult<Option<Bootstrapped>> {
        // Bootstraps are serialised by a transaction-level advisory lock: the second
        // waits until the first commits (or rolls back), then counts afresh (READ
        // COMMITTED: a new snapshot per statement) and finds its workspace.
        let mut tx = self.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(BOOTSTRAP_LOCK)
            .execute(&mut *tx)
            .await?;
        let any: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM workspaces)")
            .fetch_one(&mut *tx)
            .await?;
        if any {
            return Ok(None);
        }
        let now = Utc::now();
        let at = ms(now);
        let workspace = Workspace {
            id: WorkspaceId::generate(),
            name: DEFAULT_WORKSPACE.to_owned(),
            created_at: rows::from_ms(at)?,
        };
        sqlx::query("INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)")
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
impl Workspaces for PgStore {
    async fn create_workspace(&self, name: &WorkspaceName) -> StoreResult<Workspace> {
        let ws = Workspace {
            id: WorkspaceId::generate(),
            name: name.as_str().to_owned(),
            created_at: rows::now_ms()?,
        };
        // The name's unique constraint decides: a second insert of the name waits for
        // the first to commit, then fails.
        let res = sqlx::query("INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(ws.id.as_str())
            .bind(&ws.name)
            .bind(ms(ws.created_at))
            .execute(&self.pool)
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
        sqlx::query("SELECT id, name, created_at FROM workspaces WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(&self.pool)
            .await?
            .map(|r| workspace_from_row(&r))
            .transpose()
    }

    async fn list_workspaces(&self) -> StoreResult<Vec<Workspace>> {
        sqlx::query("SELECT id, name, created_at FROM workspaces ORDER BY name")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(workspace_from_row)
            .collect()
    }
}

#[async_trait]
impl ApiKeys for PgStore {
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
            " FROM api_keys WHERE digest = $1"
        ))
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| api_key_from_row(&r))
        .transpose()
    }

    async fn list_api_keys(&self, workspace: Option<&WorkspaceId>, page: &PageRequest) -> StoreResult<Page<ApiKey>> {
        let sql = concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys WHERE ($1::text IS NULL OR workspace_id = $1) AND ($2::text IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3"
        );
        let rows = sqlx::query(sql)
            .bind(workspace.map(WorkspaceId::as_str))
            .bind(page.before_id.as_deref())
            .bind(i64::from(page.limit) + 1)
            .fetch_all(&self.pool)
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
                " FROM api_keys WHERE id = $1 AND workspace_id = $2"
            ),
            id.as_str(),
            workspace,
            api_key_from_row,
        )
        .await
    }

    async fn revoke_api_key(&self, workspace: Option<&WorkspaceId>, id: &ApiKeyId) -> StoreResult<Option<ApiKey>> {
        // One conditional write: a concurrent revoke waits for this row, then computes
        // COALESCE on the row as it is then, keeping the first time.
        let sql = concat!(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) \
             WHERE id = $2 AND ($3::text IS NULL OR workspace_id = $3) RETURNING ",
            api_key_columns!()
        );
        sqlx::query(sql)
            .bind(ms(Utc::now()))
            .bind(id.as_str())
            .bind(workspace.map(WorkspaceId::as_str))
            .fetch_optional(&self.pool)
            .await?
            .map(|r| api_key_from_row(&r))
            .transpose()
    }

    async fn touch_api_key(&self, id: &ApiKeyId, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE api_keys SET last_used_at = GREATEST(COALESCE(last_used_at, 0), $1) WHERE id = $2")
            .bind(ms(at))
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// How often a begin looks again when the record it found is gone before it could lock
/// it (abandoned or pruned in between).
const BEGIN_TRIES: usize = 5;

#[async_trait]
impl Idempotency for PgStore {
    async fn idempotency_begin(
        &self,
        workspace: &WorkspaceId,
        key: &str,
        request_digest: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
        stale_after: chrono::Duration,
    ) -> StoreResult<IdempotencyBegin> {
        // First `INSERT ... ON CONFLICT DO NOTHING`: of concurrent begins on a free key
        // the insert that lands is the one `Started` (the others wait for it, then insert
        // nothing). Otherwise the record is locked (`FOR UPDATE`) before deciding, so of
        // two begins finding one expired or stale record the second decides on what the
        // first wrote: exactly one takes it over.
        for _ in 0..BEGIN_TRIES {
            let mut tx = self.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys (workspace_id, key, request_digest, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id, key) DO NOTHING",
            )
            .bind(workspace.as_str())
            .bind(key)
            .bind(request_digest)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted > 0 {
                tx.commit().await?;
                return Ok(IdempotencyBegin::Started);
            }
            let Some(row) = sqlx::query(
                "SELECT request_digest, status, content_type, body, created_at FROM idempotency_keys \
                 WHERE workspace_id = $1 AND key = $2 FOR UPDATE",
            )
            .bind(workspace.as_str())
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?
            else {
                continue;
            };
            let digest: String = row.try_get("request_digest")?;
            let status: Option<i64> = row.try_get("status")?;
            let existing = idempotency::Record {
                request_digest: &digest,
                completed: status.is_some(),
                created_at: rows::from_ms(row.try_get("created_at")?)?,
            };
            match idempotency::decide(Some(existing), request_digest, now, ttl, stale_after) {
                Decision::Start | Decision::Expire | Decision::TakeOver => {}
                Decision::Mismatch => return Ok(IdempotencyBegin::Mismatch),
                Decision::InProgress => return Ok(IdempotencyBegin::InProgress),
                Decision::Replay => {
                    let status = status.ok_or_else(|| StoreError::Corrupt("idempotency record".into()))?;
                    let body = row.try_get::<Option<Vec<u8>>, _>("body")?.unwrap_or_default();
                    return Ok(IdempotencyBegin::Completed(StoredResponse {
                        status: u16::try_from(status).map_err(|_| StoreError::Corrupt("idempotency status".into()))?,
                        content_type: row.try_get("content_type")?,
                        body: self.secrets.open_bytes(body, &idempotency_owner(workspace, key))?,
                    }));
                }
            }
            sqlx::query(
                "UPDATE idempotency_keys SET request_digest = $3, status = NULL, content_type = NULL, body = NULL, \
                 created_at = $4 WHERE workspace_id = $1 AND key = $2",
            )
            .bind(workspace.as_str())
            .bind(key)
            .bind(request_digest)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(IdempotencyBegin::Started);
        }
        Ok(IdempotencyBegin::InProgress)
    }

    async fn idempotency_complete(
        &self,
        workspace: &WorkspaceId,
        key: &str,
        response: &StoredResponse,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE idempotency_keys SET status = $1, content_type = $2, body = $3 WHERE workspace_id = $4 AND key = $5",
        )
        .bind(i64::from(response.status))
        .bind(response.content_type.as_deref())
        .bind(
            self.secrets
                .seal_bytes(&response.body, &idempotency_owner(workspace, key))?,
        )
        .bind(workspace.as_str())
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn idempotency_abandon(&self, workspace: &WorkspaceId, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM idempotency_keys WHERE workspace_id = $1 AND key = $2 AND status IS NULL")
            .bind(workspace.as_str())
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn idempotency_prune(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        // One DELETE: a row another pass is deleting is waited for, then skipped (it is
        // gone), so each record is counted once.
        let res = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(ms(before))
            .execute(&self.pool)
            .await?;
        Ok(res.rows_affected())
    }
}

#[cfg(test)]
mod tests;
