//! The retention purge (see [`crate::Maintenance::purge_before`]) in SQLite: short write
//! transactions of at most `limit` calls and `limit` events each, so the single writer
//! is never held for long.

use chrono::{DateTime, Utc};

use super::SqliteStore;
use super::rows::ms;
use crate::{Purged, StoreResult};

impl SqliteStore {
    pub(super) async fn purge_before_impl(&self, cutoff: DateTime<Utc>, limit: u32) -> StoreResult<Purged> {
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
