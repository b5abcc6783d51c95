//! Rate-limit budgets on SQLite ([`crate::RateLimits`]): read and write in one write
//! transaction (SQLite's single writer makes it atomic). A SQLite database has one
//! serving node, which keeps its budgets in memory instead; this is here so that every
//! backend fills the contract.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use frontdesk_core::ratelimit::{Taken, take};
use sqlx::Row;

use super::SqliteStore;
use super::rows::ms;
use crate::{RateLimits, StoreResult};

#[async_trait]
impl RateLimits for SqliteStore {
    async fn take_rate(
        &self,
        key: &str,
        now: DateTime<Utc>,
        limit: u32,
        window: chrono::Duration,
    ) -> StoreResult<Taken> {
        let mut tx = self.begin().await?;
        let tat: Option<i64> = sqlx::query("SELECT tat FROM rate_limits WHERE key = ?")
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("tat"))
            .transpose()?;
        let taken = take(tat, ms(now), limit, window.num_milliseconds());
        if taken.allowed {
            sqlx::query("INSERT INTO rate_limits (key, tat) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET tat = ?2")
                .bind(key)
                .bind(taken.tat)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(taken)
    }

    async fn prune_rates(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM rate_limits WHERE tat <= ?")
            .bind(ms(before))
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }

    fn shared_by_nodes(&self) -> bool {
        false
    }
}
