//! The overview's raw points on SQLite ([`crate::Reports`]): bounded reads on the
//! reader pool.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use frontdesk_core::call::CallStatus;
use frontdesk_core::id::WorkspaceId;
use frontdesk_core::report::{ACTIVITY_LIMIT, Activity};
use sqlx::{QueryBuilder, Row, Sqlite};

use super::SqliteStore;
use crate::rows::{attempt_point_from_row, call_point_from_row, ms};
use crate::{DeliveryStatus, Reports, StoreResult};

#[async_trait]
impl Reports for SqliteStore {
    async fn activity(&self, workspace: &WorkspaceId, since: DateTime<Utc>) -> StoreResult<Activity> {
        // One row more than the limit tells whether the list was cut.
        let fetch = i64::from(ACTIVITY_LIMIT) + 1;
        let mut calls = sqlx::query(
            "SELECT started_at, call_type, status FROM calls \
             WHERE workspace_id = ?1 AND started_at >= ?2 ORDER BY started_at DESC LIMIT ?3",
        )
        .bind(workspace.as_str())
        .bind(ms(since))
        .bind(fetch)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(call_point_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
        let mut attempts = sqlx::query(
            "SELECT a.attempted_at, a.status_code, a.latency_ms FROM attempts a \
             JOIN deliveries d ON d.id = a.delivery_id \
             WHERE d.workspace_id = ?1 AND a.attempted_at >= ?2 ORDER BY a.attempted_at DESC LIMIT ?3",
        )
        .bind(workspace.as_str())
        .bind(ms(since))
        .bind(fetch)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(attempt_point_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
        let limit = ACTIVITY_LIMIT as usize;
        let truncated = calls.len() > limit || attempts.len() > limit;
        calls.truncate(limit);
        attempts.truncate(limit);

        let mut live = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) AS n FROM calls WHERE workspace_id = ");
        live.push_bind(workspace.as_str().to_owned()).push(" AND status IN (");
        let mut statuses = live.separated(", ");
        for s in CallStatus::ALL.into_iter().filter(|s| s.is_live()) {
            statuses.push_bind(s.as_str());
        }
        statuses.push_unseparated(")");
        let live_calls: i64 = live.build().fetch_one(&self.reader).await?.try_get("n")?;

        let mut activity = Activity {
            calls,
            attempts,
            live_calls: u64::try_from(live_calls).unwrap_or(0),
            truncated,
            ..Activity::default()
        };
        let queue = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM deliveries \
             WHERE workspace_id = ?1 AND status IN (?2, ?3) GROUP BY status",
        )
        .bind(workspace.as_str())
        .bind(DeliveryStatus::Pending.as_str())
        .bind(DeliveryStatus::Failed.as_str())
        .fetch_all(&self.reader)
        .await?;
        for row in queue {
            let status: String = row.try_get("status")?;
            let n = u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0);
            match DeliveryStatus::parse(&status) {
                Some(DeliveryStatus::Pending) => activity.pending_deliveries = n,
                Some(DeliveryStatus::Failed) => activity.failed_deliveries = n,
                _ => {}
            }
        }
        Ok(activity)
    }
}
