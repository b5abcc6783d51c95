//! The store's upkeep in PostgreSQL ([`crate::Maintenance`]): nothing periodic (the
//! server's checkpointer and autovacuum do what SQLite's WAL checkpoints do); sealing the
//! secrets stored before a master key was set, and checking at start that the configured
//! key opens the ones sealed before (see [`crate::secrets`]); the retention purge, in
//! passes that several nodes may run at once.

use frontdesk_core::id::WorkspaceId;
use frontdesk_core::secret::sealed_by;
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::PgStore;
use crate::rows::{json_col, ms};
use crate::secrets::{SealReport, Secrets, idempotency_owner, webhook_headers_owner, webhook_secret_owner};
use crate::{Maintenance, Purged};
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

fn workspace(row: &PgRow) -> StoreResult<WorkspaceId> {
    let ws: String = row.try_get("workspace_id")?;
    WorkspaceId::parse(&ws).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// `v` sealed for `owner`, or `None` when it is sealed already.
fn seal_clear(s: &Secrets, v: &str, owner: &str) -> StoreResult<Option<String>> {
    if sealed_by(v).is_some() {
        Ok(None)
    } else {
        s.seal(v, owner).map(Some)
    }
}

/// The statement that reads the rows to seal: `locked` (rows held until the commit, in
/// key order, so no write lands between the read and the seal) when they may be written
/// back (with a key), `plain` otherwise.
fn reading(s: &Secrets, locked: &'static str, plain: &'static str) -> &'static str {
    if s.sealing() { locked } else { plain }
}

#[async_trait]
impl Maintenance for PgStore {
    async fn housekeeping(&self) -> StoreResult<()> {
        // Nothing to do: PostgreSQL checkpoints and vacuums in its own background
        // processes, off every node's write path.
        Ok(())
    }

    async fn seal_secrets(&self) -> StoreResult<SealReport> {
        let s = &self.secrets;
        let mut report = SealReport::default();
        // With a key, each table's rows are read `FOR NO KEY UPDATE` (in id order) and
        // written back in the same transaction: a concurrent agent update or secret
        // rotation waits for the seal and then writes its own (sealed) value, never the
        // other way round; a second node sealing at once waits, then finds the values
        // sealed and writes nothing.

        // Webhooks: the signing secrets (current and previous) and the custom headers.
        let mut tx = self.begin().await?;
        let sql = reading(
            s,
            "SELECT id, workspace_id, secret, previous_secret, headers FROM webhooks ORDER BY id FOR NO KEY UPDATE",
            "SELECT id, workspace_id, secret, previous_secret, headers FROM webhooks",
        );
        let rows = sqlx::query(sql).fetch_all(&mut *tx).await?;
        for r in &rows {
            let id: String = r.try_get("id")?;
            let ws = workspace(r)?;
            let secret: String = r.try_get("secret")?;
            let previous: Option<String> = r.try_get("previous_secret")?;
            let headers: String = r.try_get("headers")?;
            s.check(&secret, &mut report);
            if let Some(p) = &previous {
                s.check(p, &mut report);
            }
            if headers != "{}" {
                s.check(&headers, &mut report);
            }
            if !s.sealing() {
                continue;
            }
            let secret_owner = webhook_secret_owner(&ws, &id);
            let new_secret = seal_clear(s, &secret, &secret_owner)?;
            let new_previous = previous
                .as_deref()
                .map(|p| seal_clear(s, p, &secret_owner))
                .transpose()?
                .flatten();
            let new_headers = seal_clear(s, &headers, &webhook_headers_owner(&ws, &id))?;
            let n = [&new_secret, &new_previous, &new_headers]
                .iter()
                .filter(|v| v.is_some())
                .count();
            if n > 0 {
                sqlx::query(
                    "UPDATE webhooks SET secret = COALESCE($1, secret), previous_secret = COALESCE($2, previous_secret), \
                     headers = COALESCE($3, headers) WHERE id = $4",
                )
                .bind(new_secret)
                .bind(new_previous)
                .bind(new_headers)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
                report.sealed_now += n as u64;
            }
        }
        tx.commit().await?;

        // Agents: the headers of their HTTP tools.
        let mut tx = self.begin().await?;
        let sql = reading(
            s,
            "SELECT id, workspace_id, config FROM agents ORDER BY id FOR NO KEY UPDATE",
            "SELECT id, workspace_id, config FROM agents",
        );
        let rows = sqlx::query(sql).fetch_all(&mut *tx).await?;
        for r in &rows {
            let id: String = r.try_get("id")?;
            let config: serde_json::Value = json_col(r, "config")?;
            s.check_agent(&config, &mut report);
            if s.sealing() && s.agent_has_clear(&config) {
                let sealed = s.seal_agent(&config, &workspace(r)?, &id)?;
                sqlx::query("UPDATE agents SET config = $1 WHERE id = $2")
                    .bind(sealed.to_string())
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                report.sealed_now += 1;
            }
        }
        tx.commit().await?;

        // Responses kept for idempotent replay (created keys and webhook secrets).
        let mut tx = self.begin().await?;
        let sql = reading(
            s,
            "SELECT workspace_id, key, body FROM idempotency_keys WHERE status IS NOT NULL AND body IS NOT NULL \
             ORDER BY workspace_id, key FOR NO KEY UPDATE",
            "SELECT workspace_id, key, body FROM idempotency_keys WHERE status IS NOT NULL AND body IS NOT NULL",
        );
        let rows = sqlx::query(sql).fetch_all(&mut *tx).await?;
        for r in &rows {
            let key: String = r.try_get("key")?;
            let body: Vec<u8> = r.try_get("body")?;
            match std::str::from_utf8(&body) {
                Ok(text) if sealed_by(text).is_some() => s.check(text, &mut report),
                _ if s.sealing() => {
                    let sealed = s.seal_bytes(&body, &idempotency_owner(&workspace(r)?, &key))?;
                    sqlx::query("UPDATE idempotency_keys SET body = $1 WHERE workspace_id = $2 AND key = $3")
                        .bind(sealed)
                        .bind(r.try_get::<String, _>("workspace_id")?)
                        .bind(&key)
                        .execute(&mut *tx)
                        .await?;
                    report.sealed_now += 1;
                }
                _ => report.clear += 1,
            }
        }
        tx.commit().await?;

        // Provider credentials are always sealed (by the server); only checked here.
        let sealed: Vec<String> = sqlx::query_scalar("SELECT sealed_secret FROM provider_credentials")
            .fetch_all(&self.pool)
            .await?;
        for v in &sealed {
            s.check(v, &mut report);
        }
        Ok(report)
    }

    async fn purge_before(&self, cutoff: DateTime<Utc>, limit: u32) -> StoreResult<Purged> {
        let cutoff = ms(cutoff);
        let limit = i64::from(limit);
        let mut tx = self.begin().await?;
        // Calls: picked `FOR UPDATE SKIP LOCKED`, so passes on several nodes take
        // different calls (and skip one a turn is writing); `purged_at IS NULL` again in
        // the UPDATE, so a call is purged once. The version moves on: a turn based on the
        // version before gets `Conflict`.
        let calls = sqlx::query(
            "UPDATE calls SET \
             caller = json_build_object('phone', caller::json ->> 'phone', 'name', NULL, 'email', NULL)::text, \
             custom_fields = '{}', message = NULL, ai_summary = NULL, turns = '[]', tool_calls = '[]', \
             session = 'null', purged_at = $2, version = version + 1 \
             WHERE id IN (SELECT id FROM calls WHERE purged_at IS NULL AND ended_at IS NOT NULL AND ended_at < $1 \
             ORDER BY ended_at LIMIT $3 FOR UPDATE SKIP LOCKED) AND purged_at IS NULL",
        )
        .bind(cutoff)
        .bind(ms(Utc::now()))
        .bind(limit)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // Events: picked and locked the same way (a lock that also keeps a new delivery
        // from being added to them: its foreign key check waits), then deleted where
        // still no delivery is pending, checked again on a fresh snapshot. The counts are
        // what this DELETE removed; deliveries and attempts go with their events (ON
        // DELETE CASCADE), counted on the snapshot before.
        let picked: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM events e WHERE created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'pending') \
             ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        )
        .bind(cutoff)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let (mut events, mut attempts) = (0_i64, 0_i64);
        if !picked.is_empty() {
            let row = sqlx::query(
                "WITH gone AS (DELETE FROM events e WHERE e.id = ANY($1) \
                 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'pending') \
                 RETURNING e.id) \
                 SELECT (SELECT COUNT(*) FROM gone) AS events, \
                 (SELECT COUNT(*) FROM attempts a JOIN deliveries d ON d.id = a.delivery_id \
                  WHERE d.event_id IN (SELECT id FROM gone)) AS attempts",
            )
            .bind(&picked)
            .fetch_one(&mut *tx)
            .await?;
            events = row.try_get("events")?;
            attempts = row.try_get("attempts")?;
        }
        tx.commit().await?;
        Ok(Purged {
            calls,
            events: u64::try_from(events).unwrap_or_default(),
            attempts: u64::try_from(attempts).unwrap_or_default(),
        })
    }
}
