//! The delivery queue in SQLite: claims with leases, attempt recording, listing, manual
//! retry and replay.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use frontdesk_core::id::{DeliveryId, WebhookId, WorkspaceId};
use frontdesk_core::page::{Page, PageRequest};
use frontdesk_core::webhook::{health, routing};
use sqlx::{QueryBuilder, Row, Sqlite};

use super::events::{NewDelivery, insert_deliveries};
use super::{SqliteStore, fetch_page, workspace_query};
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

#[async_trait]
impl Deliveries for SqliteStore {
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        let now_ms = ms(now);
        let mut tx = self.begin().await?;
        // Select and lease in one statement on SQLite's single writer: no other claim
        // runs in between, so a delivery is leased to one claimer until its lease ends.
        // A backend with several writers must lock what it picks and skip what others
        // hold: `UPDATE deliveries SET lease_until = $1 WHERE id IN (SELECT id FROM
        // deliveries WHERE <due, not leased> ORDER BY next_attempt_at LIMIT $3 FOR UPDATE
        // SKIP LOCKED) RETURNING ...` (re-checking the lease condition in the UPDATE).
        let claimed = sqlx::query(
            "UPDATE deliveries SET lease_until = ?1 WHERE id IN (SELECT id FROM deliveries \
             WHERE status = 'pending' AND next_attempt_at <= ?2 AND (lease_until IS NULL OR lease_until <= ?2) \
             ORDER BY next_attempt_at LIMIT ?3) RETURNING id, webhook_id, event_id, attempts, retries_left",
        )
        .bind(now_ms + lease.num_milliseconds())
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
            let w: String = r.try_get("webhook_id")?;
            if !webhook_ids.contains(&w) {
                webhook_ids.push(w);
            }
            event_ids.push(r.try_get("event_id")?);
        }
        let mut q = QueryBuilder::<Sqlite>::new(concat!("SELECT ", webhook_columns!(), " FROM webhooks WHERE id IN ("));
        let mut sep = q.separated(", ");
        for w in &webhook_ids {
            sep.push_bind(w.clone());
        }
        q.push(")");
        let webhooks: HashMap<String, Arc<_>> = q
            .build()
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| webhook_from_row(r, &self.secrets).map(|w| (w.id.to_string(), Arc::new(w))))
            .collect::<StoreResult<_>>()?;
        let mut q = QueryBuilder::<Sqlite>::new(concat!("SELECT ", event_columns!(), " FROM events WHERE id IN ("));
        let mut sep = q.separated(", ");
        for e in &event_ids {
            sep.push_bind(e.clone());
        }
        q.push(")");
        let events: HashMap<String, Arc<_>> = q
            .build()
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| event_from_row(r).map(|e| (e.id.to_string(), Arc::new(e))))
            .collect::<StoreResult<_>>()?;
        tx.commit().await?;
        claimed
            .iter()
            .map(|r| {
                let w: String = r.try_get("webhook_id")?;
                let e: String = r.try_get("event_id")?;
                Ok(ClaimedDelivery {
                    id: id(r, "id", DeliveryId::parse)?,
                    lease_until: from_ms(now_ms + lease.num_milliseconds())?,
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
            "SELECT MIN(MAX(next_attempt_at, COALESCE(lease_until, 0))) FROM deliveries WHERE status = 'pending'",
        )
        .fetch_one(&self.reader)
        .await?;
        due.map(from_ms).transpose()
    }

    async fn record_attempts(&self, results: &[AttemptResult], now: DateTime<Utc>) -> StoreResult<()> {
        if results.is_empty() {
            return Ok(());
        }
        let now_ms = ms(now);
        let mut tx = self.begin().await?;
        // A delivery deleted meanwhile (its webhook was deleted) has nothing left to
        // record; skipping it keeps the rest of the batch from failing on its key.
        // Check, then insert: SQLite's single writer keeps a delete from landing in
        // between. A backend with several writers must hold the rows it found until the
        // commit (`SELECT id FROM deliveries WHERE id = ANY($1) FOR SHARE`, so that a
        // concurrent delete waits), or insert attempts only where the delivery still
        // exists (`INSERT ... SELECT ... WHERE EXISTS`).
        let mut existing: HashSet<String> = HashSet::with_capacity(results.len());
        for chunk in results.chunks(500) {
            let mut q = QueryBuilder::<Sqlite>::new("SELECT id FROM deliveries WHERE id IN (");
            let mut sep = q.separated(", ");
            for r in chunk {
                sep.push_bind(r.delivery_id.as_str().to_owned());
            }
            q.push(")");
            for row in q.build().fetch_all(&mut *tx).await? {
                existing.insert(row.try_get("id")?);
            }
        }
        let results: Vec<&AttemptResult> = results
            .iter()
            .filter(|r| existing.contains(r.delivery_id.as_str()))
            .collect();
        if results.is_empty() {
            tx.commit().await?;
            return Ok(());
        }
        for chunk in attempt_chunks(&results, 500) {
            let rows = chunk
                .iter()
                .map(|r| AttemptRow::of(&r.attempt).map(|a| (r.delivery_id.as_str(), a)))
                .collect::<StoreResult<Vec<_>>>()?;
            let mut q =
                QueryBuilder::<Sqlite>::new(concat!("INSERT INTO attempts (delivery_id, ", attempt_columns!(), ") "));
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
        let mut groups: HashMap<UpdateKey<'_>, Vec<&str>> = HashMap::new();
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
            groups.entry(key).or_default().push(r.delivery_id.as_str());
        }
        for ((status, next_at, code, error), ids) in groups {
            for chunk in ids.chunks(500) {
                let mut q = QueryBuilder::<Sqlite>::new("UPDATE deliveries SET status = ");
                q.push_bind(status)
                    .push(", next_attempt_at = ")
                    .push_bind(next_at)
                    .push(", lease_until = NULL, attempts = attempts + 1, retries_left = CASE WHEN ")
                    .push_bind(status)
                    .push(" = 'pending' AND retries_left > 0 THEN retries_left - 1 ELSE retries_left END, last_status_code = ")
                    .push_bind(code)
                    .push(", last_error = ")
                    .push_bind(error.map(str::to_owned))
                    .push(", updated_at = ")
                    .push_bind(now_ms)
                    .push(" WHERE id IN (");
                let mut sep = q.separated(", ");
                for id in chunk {
                    sep.push_bind((*id).to_owned());
                }
                q.push(")");
                q.build().execute(&mut *tx).await?;
            }
        }
        // Webhook health: the last verdict per webhook in this batch wins, applied as
        // `health::apply` says, each verdict one conditional statement (so a concurrent
        // edit's fields stay, and `Failing` keeps an open run's start on any backend).
        let health = health::last_verdicts(results.iter().map(|r| (&r.webhook_id, &r.health)));
        for (webhook, h) in health {
            let q = match h {
                WebhookHealth::Healthy => {
                    sqlx::query("UPDATE webhooks SET failing_since = NULL WHERE id = ?").bind(webhook.as_str())
                }
                WebhookHealth::Failing => {
                    sqlx::query("UPDATE webhooks SET failing_since = COALESCE(failing_since, ?) WHERE id = ?")
                        .bind(now_ms)
                        .bind(webhook.as_str())
                }
                WebhookHealth::Disable(reason) => {
                    sqlx::query("UPDATE webhooks SET active = 0, disabled_reason = ?, updated_at = ? WHERE id = ?")
                        .bind(reason.clone())
                        .bind(now_ms)
                        .bind(webhook.as_str())
                }
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
        fetch_page(q, &self.reader, page, delivery_from_row, |d| d.id.as_str()).await
    }

    async fn get_delivery(
        &self,
        workspace: &WorkspaceId,
        id: &DeliveryId,
    ) -> StoreResult<Option<(Delivery, Vec<Attempt>)>> {
        let Some(row) = sqlx::query(concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM deliveries WHERE id = ? AND workspace_id = ?"
        ))
        .bind(id.as_str())
        .bind(workspace.as_str())
        .fetch_optional(&self.reader)
        .await?
        else {
            return Ok(None);
        };
        let attempts = sqlx::query(concat!(
            "SELECT ",
            attempt_columns!(),
            " FROM attempts WHERE delivery_id = ? ORDER BY attempted_at, rowid"
        ))
        .bind(id.as_str())
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(attempt_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some((delivery_from_row(&row)?, attempts)))
    }

    async fn retry_delivery(
        &self,
        workspace: &WorkspaceId,
        id: &DeliveryId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Delivery>> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(concat!(
            "UPDATE deliveries SET status = 'pending', retries_left = 0, next_attempt_at = ?1, lease_until = NULL, \
             updated_at = ?1 WHERE id = ?2 AND workspace_id = ?3 AND status != 'pending' RETURNING ",
            delivery_columns!()
        ))
        .bind(ms(now))
        .bind(id.as_str())
        .bind(workspace.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = row {
            tx.commit().await?;
            return delivery_from_row(&row).map(Some);
        }
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM deliveries WHERE id = ? AND workspace_id = ?)")
                .bind(id.as_str())
                .bind(workspace.as_str())
                .fetch_one(&mut *tx)
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
        let Some(row) = sqlx::query(concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhooks WHERE id = ? AND workspace_id = ?"
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
                 WHERE d.webhook_id = ?1 AND d.status = 'failed' AND e.created_at >= ?2 AND e.created_at < ?3 \
                 AND NOT EXISTS (SELECT 1 FROM deliveries p WHERE p.webhook_id = ?1 AND p.event_id = e.id \
                 AND p.status != 'failed') ORDER BY e.id",
            )
            .bind(webhook.as_str())
            .bind(ms(since))
            .bind(until_ms)
            .fetch_all(&mut *tx)
            .await?
        } else {
            sqlx::query(
                "SELECT id, event, number FROM events WHERE workspace_id = ? AND created_at >= ? AND created_at < ? ORDER BY id",
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
                .fetch_one(&self.reader)
                .await?;
        let n: i64 = row.try_get("n")?;
        let oldest: Option<i64> = row.try_get("oldest")?;
        Ok(QueueStats {
            pending: u64::try_from(n).unwrap_or(0),
            oldest_pending: oldest.map(from_ms).transpose()?,
        })
    }
}
