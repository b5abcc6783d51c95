//! The delivery queue in PostgreSQL: claims with leases, attempt recording, listing,
//! manual retry and replay, shared by every node.
//!
//! Claims pick due deliveries `FOR UPDATE SKIP LOCKED`: concurrent claimers never wait
//! for each other and never get the same row. Recording attempts locks, in one order
//! (webhooks, then deliveries, each by id), what it writes, so a concurrent delete waits
//! for the batch (or the batch finds the rows gone and skips them), and two batches or a
//! batch and a delete cannot deadlock.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use frontdesk_core::id::{DeliveryId, WebhookId, WorkspaceId};
use frontdesk_core::page::{Page, PageRequest};
use frontdesk_core::webhook::{health, routing};
use sqlx::{Postgres, QueryBuilder, Row};

use super::events::{NewDelivery, insert_deliveries};
use super::{PgStore, fetch_page, workspace_query};
use crate::Deliveries;
use crate::rows::{
    AttemptRow, attempt_chunks, attempt_from_row, delivery_from_row, event_from_row, from_ms, id, ms, webhook_from_row,
};
use crate::{
    Attempt, AttemptResult, ClaimedDelivery, Delivery, DeliveryFilter, NextStep, QueueStats, StoreError, StoreResult,
    WebhookHealth,
};
use async_trait::async_trait;

/// The values an attempt sets on its delivery: status, next attempt, status code, error.
type UpdateKey<'a> = (&'static str, Option<i64>, Option<i64>, Option<&'a str>);

/// Rows per multi-row INSERT of attempts (7 parameters each).
const CHUNK: usize = 1000;

/// The ids, each once, sorted (the database locks them in its own `ORDER BY id`).
fn sorted_ids<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut ids: Vec<String> = ids.map(str::to_owned).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[async_trait]
impl Deliveries for PgStore {
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        let now_ms = ms(now);
        let lease_until = now_ms + lease.num_milliseconds();
        let mut tx = self.begin().await?;
        // Pick and lease in one statement: rows another claimer holds are skipped, not
        // waited for; a row whose claim committed after this statement's snapshot is
        // re-checked when locked (its lease is now in the future, so it drops out), and
        // the outer WHERE repeats the condition.
        let claimed = sqlx::query(
            "UPDATE deliveries SET lease_until = $1 WHERE id IN (SELECT id FROM deliveries \
             WHERE status = 'pending' AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until <= $2) \
             ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
             AND status = 'pending' AND (lease_until IS NULL OR lease_until <= $2) \
             RETURNING id, webhook_id, event_id, attempts, retries_left, next_attempt_at",
        )
        .bind(lease_until)
        .bind(now_ms)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        if claimed.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let mut webhook_ids: Vec<String> = Vec::new();
        let mut event_ids: Vec<String> = Vec::with_capacity(claimed.len());
        for r in &claimed {
            webhook_ids.push(r.try_get("webhook_id")?);
            event_ids.push(r.try_get("event_id")?);
        }
        webhook_ids.sort_unstable();
        webhook_ids.dedup();
        // The claimed rows stay locked until the commit, so their webhooks and events
        // (whose deletion cascades to them) are still there.
        let webhooks: HashMap<String, Arc<_>> = sqlx::query(concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhooks WHERE id = ANY($1)"
        ))
        .bind(&webhook_ids)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| webhook_from_row(r, &self.secrets).map(|w| (w.id.to_string(), Arc::new(w))))
        .collect::<StoreResult<_>>()?;
        let events: HashMap<String, Arc<_>> =
            sqlx::query(concat!("SELECT ", event_columns!(), " FROM events WHERE id = ANY($1)"))
                .bind(&event_ids)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| event_from_row(r).map(|e| (e.id.to_string(), Arc::new(e))))
                .collect::<StoreResult<_>>()?;
        tx.commit().await?;
        let mut claimed = claimed;
        claimed.sort_by_key(|r| r.try_get::<Option<i64>, _>("next_attempt_at").ok().flatten());
        claimed
            .iter()
            .map(|r| {
                let w: String = r.try_get("webhook_id")?;
                let e: String = r.try_get("event_id")?;
                Ok(ClaimedDelivery {
                    id: id(r, "id", DeliveryId::parse)?,
                    lease_until: from_ms(lease_until)?,
                    attempts: u32::try_from(r.try_get::<i64, _>("attempts")?).unwrap_or(0),
                    retries_left: u32::try_from(r.try_get::<i64, _>("retries_left")?).unwrap_or(0),
                    webhook: webhooks
                        .get(&w)
                        .cloned()
                        .ok_or_else(|| StoreError::Corrupt(format!("webhook {w}")))?,
                    event: events
                        .get(&e)
                        .cloned()
                        .ok_or_else(|| StoreError::Corrupt(format!("event {e}")))?,
                })
            })
            .collect()
    }

    async fn next_due(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let due: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(GREATEST(next_attempt_at, COALESCE(lease_until, 0))) FROM deliveries \
             WHERE status = 'pending'",
        )
        .fetch_one(&self.pool)
        .await?;
        due.map(from_ms).transpose()
    }

    async fn record_attempts(&self, results: &[AttemptResult], now: DateTime<Utc>) -> StoreResult<()> {
        if results.is_empty() {
            return Ok(());
        }
        let now_ms = ms(now);
        let mut tx = self.begin().await?;
        // Locks first, always in this order: the webhooks (`FOR KEY SHARE`: edits and
        // health writes go on, a delete waits), then the deliveries (`FOR NO KEY
        // UPDATE`), each by id. A delivery deleted before (with its webhook) is not
        // found and skipped; one not yet deleted cannot be until this commits.
        let webhook_ids = sorted_ids(results.iter().map(|r| r.webhook_id.as_str()));
        sqlx::query("SELECT id FROM webhooks WHERE id = ANY($1) ORDER BY id FOR KEY SHARE")
            .bind(&webhook_ids)
            .execute(&mut *tx)
            .await?;
        let delivery_ids = sorted_ids(results.iter().map(|r| r.delivery_id.as_str()));
        let existing: HashSet<String> = sqlx::query_scalar::<_, String>(
            "SELECT id FROM deliveries WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE",
        )
        .bind(&delivery_ids)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
        let results: Vec<&AttemptResult> = results
            .iter()
            .filter(|r| existing.contains(r.delivery_id.as_str()))
            .collect();
        if results.is_empty() {
            tx.commit().await?;
            return Ok(());
        }
        // Every attempt is kept, also a second one of a delivery whose lease ran out.
        for chunk in attempt_chunks(&results, CHUNK) {
            let rows = chunk
                .iter()
                .map(|r| AttemptRow::of(&r.attempt).map(|a| (r.delivery_id.as_str(), a)))
                .collect::<StoreResult<Vec<_>>>()?;
            let mut q =
                QueryBuilder::<Postgres>::new(concat!("INSERT INTO attempts (delivery_id, ", attempt_columns!(), ") "));
            q.push_values(rows, |mut b, (delivery, a)| {
                b.push_bind(delivery.to_owned())
                    .push_bind(a.attempted_at)
                    .push_bind(a.status_code)
                    .push_bind(a.latency_ms)
                    .push_bind(a.response_body)
                    .push_bind(a.error)
                    .push_bind(a.notes)
                    .push_bind(a.request_method)
                    .push_bind(a.request_url)
                    .push_bind(a.request_headers)
                    .push_bind(a.request_body)
                    .push_bind(a.response_headers);
            });
            q.build().execute(&mut *tx).await?;
        }
        // One UPDATE per group of results that set the same values (typically: every
        // success answered 200), not one per delivery.
        let mut groups: HashMap<UpdateKey<'_>, Vec<String>> = HashMap::new();
        for r in &results {
            let (status, next_at) = match &r.next {
                NextStep::Succeeded => ("succeeded", None),
                NextStep::RetryAt(t) => ("pending", Some(ms(*t))),
                NextStep::Failed => ("failed", None),
            };
            let key = (
                status,
                next_at,
                r.attempt.status_code.map(i64::from),
                r.attempt.error.as_deref(),
            );
            groups.entry(key).or_default().push(r.delivery_id.as_str().to_owned());
        }
        for ((status, next_at, code, error), ids) in groups {
            sqlx::query(
                "UPDATE deliveries SET status = $1, next_attempt_at = $2, lease_until = NULL, attempts = attempts + 1, \
                 retries_left = CASE WHEN $1 = 'pending' AND retries_left > 0 THEN retries_left - 1 ELSE retries_left END, \
                 last_status_code = $3, last_error = $4, updated_at = $5 WHERE id = ANY($6)",
            )
            .bind(status)
            .bind(next_at)
            .bind(code)
            .bind(error)
            .bind(now_ms)
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
        }
        // Webhook health: the last verdict per webhook in this batch, each one
        // conditional statement computed on the row as it is when written (`Failing`
        // keeps an open run's start), in webhook order like the locks above.
        let mut health = health::last_verdicts(results.iter().map(|r| (&r.webhook_id, &r.health)));
        health.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        for (webhook, h) in health {
            let q = match h {
                WebhookHealth::Healthy => {
                    sqlx::query("UPDATE webhooks SET failing_since = NULL WHERE id = $1").bind(webhook.as_str())
                }
                WebhookHealth::Failing => {
                    sqlx::query("UPDATE webhooks SET failing_since = COALESCE(failing_since, $1) WHERE id = $2")
                        .bind(now_ms)
                        .bind(webhook.as_str())
                }
                WebhookHealth::Disable(reason) => sqlx::query(
                    "UPDATE webhooks SET active = FALSE, disabled_reason = $1, updated_at = $2 WHERE id = $3",
                )
                .bind(reason.clone())
                .bind(now_ms)
                .bind(webhook.as_str()),
                WebhookHealth::Unchanged => continue,
            };
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn list_deliveries(
        &self,
        workspace: &WorkspaceId,
        filter: &DeliveryFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Delivery>> {
        let mut q = workspace_query(concat!("SELECT ", delivery_columns!(), " FROM deliveries"), workspace);
        if let Some(e) = &filter.event_id {
            q.push(" AND event_id = ").push_bind(e.as_str().to_owned());
        }
        if let Some(w) = &filter.webhook_id {
            q.push(" AND webhook_id = ").push_bind(w.as_str().to_owned());
        }
        if let Some(s) = filter.status {
            q.push(" AND status = ").push_bind(s.as_str());
        }
        if let Some(e) = filter.event {
            q.push(" AND event = ").push_bind(e.as_str());
        }
        if let Some(t) = filter.since {
            q.push(" AND created_at >= ").push_bind(ms(t));
        }
        if let Some(t) = filter.until {
            q.push(" AND created_at < ").push_bind(ms(t));
        }
        if let Some(term) = &filter.search {
            // The delivery, its event, or the events about a call (`events_by_call`).
            q.push(" AND (id = ")
                .push_bind(term.clone())
                .push(" OR event_id = ")
                .push_bind(term.clone())
                .push(" OR event_id IN (SELECT id FROM events WHERE workspace_id = ")
                .push_bind(workspace.as_str().to_owned())
                .push(" AND call_id = ")
                .push_bind(term.clone())
                .push("))");
        }
        fetch_page(q, &self.pool, page, delivery_from_row, |d| d.id.as_str()).await
    }

    async fn get_delivery(
        &self,
        workspace: &WorkspaceId,
        id: &DeliveryId,
    ) -> StoreResult<Option<(Delivery, Vec<Attempt>)>> {
        // Both reads on one snapshot: the delivery and its attempts as of one moment.
        let mut tx = self.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let Some(row) = sqlx::query(concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM deliveries WHERE id = $1 AND workspace_id = $2"
        ))
        .bind(id.as_str())
        .bind(workspace.as_str())
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let attempts = sqlx::query(concat!(
            "SELECT ",
            attempt_columns!(),
            " FROM attempts WHERE delivery_id = $1 ORDER BY attempted_at, seq"
        ))
        .bind(id.as_str())
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(attempt_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
        tx.commit().await?;
        Ok(Some((delivery_from_row(&row)?, attempts)))
    }

    async fn retry_delivery(
        &self,
        workspace: &WorkspaceId,
        id: &DeliveryId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Delivery>> {
        // One conditional write: a second retry waits for the first, then finds the
        // delivery pending and updates nothing.
        let row = sqlx::query(concat!(
            "UPDATE deliveries SET status = 'pending', retries_left = 0, next_attempt_at = $1, lease_until = NULL, \
             updated_at = $1 WHERE id = $2 AND workspace_id = $3 AND status != 'pending' RETURNING ",
            delivery_columns!()
        ))
        .bind(ms(now))
        .bind(id.as_str())
        .bind(workspace.as_str())
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = row {
            // Due now and leased to nobody: word to every node's dispatcher (a hint: the
            // retry is done whether or not it goes out).
            if let Err(e) = sqlx::query("SELECT pg_notify($1, '')")
                .bind(super::coordination::WORK_CHANNEL)
                .execute(&self.pool)
                .await
            {
                tracing::warn!(error = %e, "could not announce a retried delivery");
            }
            return delivery_from_row(&row).map(Some);
        }
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM deliveries WHERE id = $1 AND workspace_id = $2)")
                .bind(id.as_str())
                .bind(workspace.as_str())
                .fetch_one(&self.pool)
                .await?;
        if exists {
            Err(StoreError::Conflict(format!(
                "delivery `{id}` is still pending; it is retried on schedule, or retry it by hand once it has failed"
            )))
        } else {
            Ok(None)
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn replay(
        &self,
        workspace: &WorkspaceId,
        webhook: &WebhookId,
        since: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
        only_failed: bool,
        retries: u32,
    ) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        // The webhook is held (`FOR KEY SHARE`) so it is not deleted under the new
        // deliveries; concurrent replays do not wait for each other (at least once).
        let Some(row) = sqlx::query(concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhooks WHERE id = $1 AND workspace_id = $2 FOR KEY SHARE"
        ))
        .bind(webhook.as_str())
        .bind(workspace.as_str())
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Err(StoreError::NotFound(format!(
                "no webhook with id `{webhook}` exists in this workspace"
            )));
        };
        let hook = webhook_from_row(&row, &self.secrets)?;
        let until_ms = until.map_or(i64::MAX, ms);
        let rows = if only_failed {
            sqlx::query(
                "SELECT DISTINCT e.id, e.event, e.number FROM deliveries d JOIN events e ON e.id = d.event_id \
                 WHERE d.webhook_id = $1 AND d.status = 'failed' AND e.created_at >= $2 AND e.created_at < $3 \
                 AND NOT EXISTS (SELECT 1 FROM deliveries p WHERE p.webhook_id = $1 AND p.event_id = e.id \
                 AND p.status != 'failed') ORDER BY e.id",
            )
            .bind(webhook.as_str())
            .bind(ms(since))
            .bind(until_ms)
            .fetch_all(&mut *tx)
            .await?
        } else {
            sqlx::query(
                "SELECT id, event, number FROM events WHERE workspace_id = $1 AND created_at >= $2 \
                 AND created_at < $3 ORDER BY id",
            )
            .bind(workspace.as_str())
            .bind(ms(since))
            .bind(until_ms)
            .fetch_all(&mut *tx)
            .await?
        };
        let mut picked: Vec<(String, &'static str)> = Vec::new();
        for r in &rows {
            let name: String = r.try_get("event")?;
            let event =
                frontdesk_core::event::EventType::parse(&name).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let number: Option<String> = r.try_get("number")?;
            if routing::replays(&hook, event, number.as_deref()) {
                picked.push((r.try_get("id")?, event.as_str()));
            }
        }
        let new: Vec<NewDelivery<'_>> = picked
            .iter()
            .map(|(e, name)| NewDelivery {
                id: DeliveryId::generate(),
                webhook: hook.id.as_str(),
                event_id: e,
                event: name,
                lease_until: None,
            })
            .collect();
        let queued = insert_deliveries(&mut tx, workspace, &new, retries).await?;
        tx.commit().await?;
        Ok(queued)
    }

    async fn queue_stats(&self) -> StoreResult<QueueStats> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM deliveries WHERE status = 'pending'")
                .fetch_one(&self.pool)
                .await?;
        let n: i64 = row.try_get("n")?;
        let oldest: Option<i64> = row.try_get("oldest")?;
        Ok(QueueStats {
            pending: u64::try_from(n).unwrap_or(0),
            oldest_pending: oldest.map(from_ms).transpose()?,
        })
    }
}
