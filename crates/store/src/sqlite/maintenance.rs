//! The store's upkeep in SQLite ([`crate::Maintenance`]): passive WAL checkpoints off
//! the write path; sealing the secrets stored before a master key was set, and checking
//! at start that the configured key opens the ones sealed before (see
//! [`crate::secrets`]); the retention purge, in short write transactions of at most
//! `limit` calls and `limit` events each, so the single writer is never held for long.

use frontdesk_core::id::WorkspaceId;
use frontdesk_core::secret::sealed_by;
use sqlx::Row;

use super::SqliteStore;
use crate::rows::json_col;
use crate::rows::ms;
use crate::secrets::{SealReport, idempotency_owner, webhook_headers_owner, webhook_secret_owner};
use crate::{Maintenance, Purged};
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

fn workspace(row: &sqlx::sqlite::SqliteRow) -> StoreResult<WorkspaceId> {
    let ws: String = row.try_get("workspace_id")?;
    WorkspaceId::parse(&ws).map_err(|e| StoreError::Corrupt(e.to_string()))
}

#[async_trait]
impl Maintenance for SqliteStore {
    async fn housekeeping(&self) -> StoreResult<()> {
        // A passive checkpoint copies what it can from the WAL into the database without
        // blocking the writer, so commits on the hot path do not pay for it.
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&self.maintenance)
            .await?;
        Ok(())
    }

    async fn seal_secrets(&self) -> StoreResult<SealReport> {
        let s = &self.secrets;
        let mut report = SealReport::default();
        // Read everything, then write it back sealed, in one transaction: SQLite's single
        // writer keeps any other write (an agent update, a rotation) from landing in
        // between. A backend with several writers must not write back a value it read
        // earlier over a newer one: lock the rows it reads (`SELECT ... FOR UPDATE`), or
        // write each value only where it is still the clear text read
        // (`UPDATE ... WHERE id = $1 AND secret = $2`).
        let mut tx = self.begin().await?;

        // Webhooks: the signing secrets (current and previous) and the custom headers.
        let rows = sqlx::query("SELECT id, workspace_id, secret, previous_secret, headers FROM webhooks")
            .fetch_all(&mut *tx)
            .await?;
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
            let seal = |v: &str, owner: &str| -> StoreResult<Option<String>> {
                if sealed_by(v).is_some() {
                    Ok(None)
                } else {
                    s.seal(v, owner).map(Some)
                }
            };
            let new_secret = seal(&secret, &secret_owner)?;
            let new_previous = previous
                .as_deref()
                .map(|p| seal(p, &secret_owner))
                .transpose()?
                .flatten();
            let new_headers = seal(&headers, &webhook_headers_owner(&ws, &id))?;
            let n = [&new_secret, &new_previous, &new_headers]
                .iter()
                .filter(|v| v.is_some())
                .count();
            if n > 0 {
                sqlx::query(
                    "UPDATE webhooks SET secret = COALESCE(?1, secret), previous_secret = COALESCE(?2, previous_secret), \
                     headers = COALESCE(?3, headers) WHERE id = ?4",
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

        // Agents: the headers of their HTTP tools.
        let rows = sqlx::query("SELECT id, workspace_id, config FROM agents")
            .fetch_all(&mut *tx)
            .await?;
        for r in &rows {
            let id: String = r.try_get("id")?;
            let config: serde_json::Value = json_col(r, "config")?;
            s.check_agent(&config, &mut report);
            if s.sealing() && s.agent_has_clear(&config) {
                let sealed = s.seal_agent(&config, &workspace(r)?, &id)?;
                sqlx::query("UPDATE agents SET config = ? WHERE id = ?")
                    .bind(sealed.to_string())
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                report.sealed_now += 1;
            }
        }

        // Responses kept for idempotent replay (created keys and webhook secrets).
        let rows = sqlx::query(
            "SELECT workspace_id, key, body FROM idempotency_keys WHERE status IS NOT NULL AND body IS NOT NULL",
        )
        .fetch_all(&mut *tx)
        .await?;
        for r in &rows {
            let key: String = r.try_get("key")?;
            let body: Vec<u8> = r.try_get("body")?;
            match std::str::from_utf8(&body) {
                Ok(text) if sealed_by(text).is_some() => s.check(text, &mut report),
                _ if s.sealing() => {
                    let sealed = s.seal_bytes(&body, &idempotency_owner(&workspace(r)?, &key))?;
                    sqlx::query("UPDATE idempotency_keys SET body = ? WHERE workspace_id = ? AND key = ?")
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

        // Provider credentials are always sealed (by the server); only checked here.
        let sealed: Vec<String> = sqlx::query_scalar("SELECT sealed_secret FROM provider_credentials")
            .fetch_all(&mut *tx)
            .await?;
        for v in &sealed {
            s.check(v, &mut report);
        }
        tx.commit().await?;
        if report.sealed_now > 0 {
            // The clear values' old pages leave the write-ahead log at once.
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.maintenance)
                .await?;
        }
        Ok(report)
    }

    async fn purge_before(&self, cutoff: DateTime<Utc>, limit: u32) -> StoreResult<Purged> {
        let cutoff = ms(cutoff);
        let limit = i64::from(limit);
        // Pick, then change, in one transaction on SQLite's single writer: no other pass,
        // replay or claim lands in between, so each call is purged once and no event
        // gains a pending delivery between the pick and the delete. A backend with
        // several writers must lock what it picks and skip what another pass holds
        // (`... FOR UPDATE SKIP LOCKED` in both picks), repeat `purged_at IS NULL` in the
        // outer UPDATE, and count what its DELETE actually removed (`RETURNING id`).
        let mut tx = self.begin().await?;
        let calls = sqlx::query(
            "UPDATE calls SET \
             caller = json_object('phone', json_extract(caller, '$.phone'), 'name', NULL, 'email', NULL), \
             custom_fields = '{}', message = NULL, ai_summary = NULL, turns = '[]', tool_calls = '[]', \
             session = 'null', purged_at = ?2, version = version + 1 \
             WHERE id IN (SELECT id FROM calls WHERE purged_at IS NULL AND ended_at IS NOT NULL AND ended_at < ?1 \
             ORDER BY ended_at LIMIT ?3)",
        )
        .bind(cutoff)
        .bind(ms(Utc::now()))
        .bind(limit)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let events: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM events e WHERE created_at < ?1 \
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'pending') \
             ORDER BY created_at LIMIT ?2",
        )
        .bind(cutoff)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut attempts = 0;
        if !events.is_empty() {
            let list = serde_json::Value::from(events.clone()).to_string();
            attempts = sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM attempts a JOIN deliveries d ON d.id = a.delivery_id \
                 WHERE d.event_id IN (SELECT value FROM json_each(?1))",
            )
            .bind(&list)
            .fetch_one(&mut *tx)
            .await?;
            // Deliveries and their attempts go with their events (ON DELETE CASCADE).
            sqlx::query("DELETE FROM events WHERE id IN (SELECT value FROM json_each(?1))")
                .bind(&list)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Purged {
            calls,
            events: events.len() as u64,
            attempts: u64::try_from(attempts).unwrap_or_default(),
        })
    }
}
