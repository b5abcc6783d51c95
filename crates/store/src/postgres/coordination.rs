//! Coordination between the nodes on one PostgreSQL database ([`crate::Coordination`],
//! [`crate::RateLimits`]).
//!
//! - Named locks are transaction-scoped advisory locks (`pg_advisory_xact_lock` on a
//!   64-bit hash of the name), each held by an open transaction on a connection of a
//!   pool of their own: dropping the [`Held`] ends the transaction and frees the lock,
//!   and a node that dies frees its locks with its connections (TCP keepalives let the
//!   server notice a vanished node within about a minute). The pool is separate so that
//!   steps holding a call's lock never starve the queries they run meanwhile, and a
//!   node's waiters for one name queue in the process first, so at most one connection
//!   per name waits in the database.
//! - Word of new work: a transaction that queues deliveries nobody has leased sends
//!   `NOTIFY frontdesk_work` (delivered at commit); every node listens (`LISTEN`, on a
//!   connection of the lock pool) and wakes its dispatcher.
//! - Rate-limit budgets: one statement per budget, GCRA in SQL (an upsert that moves
//!   the key's theoretical arrival time only while it stays within the burst), on a
//!   small pool of their own whose commits are asynchronous: a crash may forget the
//!   last moments of a budget, which only lets a few requests more through.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use frontdesk_core::ratelimit::{Taken, interval, take, tolerance};
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgListener, PgPool};
use sqlx::{Postgres, Transaction};
use tokio::sync::Notify;

use super::PgStore;
use crate::rows::ms;
use crate::{Coordination, Held, RateLimits, StoreResult};

/// The channel new work is announced on.
pub(super) const WORK_CHANNEL: &str = "frontdesk_work";

/// The advisory lock key of a name: the first 8 bytes of its SHA-256.
fn key_of(name: &str) -> i64 {
    let digest = Sha256::digest(name.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// A lock's transaction, kept open while the lock is held; dropping it rolls it back
/// when its connection goes back to the pool, which frees the advisory lock. (In a
/// mutex only so that it is `Sync`.)
struct Open(#[allow(dead_code, reason = "held for its Drop")] Mutex<Transaction<'static, Postgres>>);

#[async_trait]
impl Coordination for PgStore {
    async fn lock(&self, name: &str) -> StoreResult<Held> {
        // This node's waiters queue here, so at most one connection per name waits.
        let local = self.local.of(name).lock_owned().await;
        let mut tx = self.locks.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(key_of(name))
            .execute(&mut *tx)
            .await?;
        Ok(Held::new((Open(Mutex::new(tx)), local)))
    }

    async fn try_lock(&self, name: &str) -> StoreResult<Option<Held>> {
        let Ok(local) = self.local.of(name).try_lock_owned() else {
            return Ok(None);
        };
        let mut tx = self.locks.begin().await?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(key_of(name))
            .fetch_one(&mut *tx)
            .await?;
        Ok(got.then(|| Held::new((Open(Mutex::new(tx)), local))))
    }

    fn new_work(&self) -> Option<Arc<Notify>> {
        Some(self.work.clone())
    }
}

/// Listens for other nodes' word of new work and raises `work`, for as long as the
/// store is in use; reconnects after a lost connection.
pub(super) async fn listen(pool: PgPool, work: Weak<Notify>) {
    loop {
        if work.strong_count() == 0 {
            return;
        }
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "could not listen for other nodes' work; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(WORK_CHANNEL).await {
            tracing::warn!(error = %e, "could not listen for other nodes' work; trying again");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        loop {
            // Wake up now and then to see whether the store is still in use.
            match tokio::time::timeout(Duration::from_secs(5), listener.try_recv()).await {
                Err(_) => {}
                Ok(Ok(Some(_))) => match work.upgrade() {
                    Some(w) => w.notify_one(),
                    None => return,
                },
                // The connection was lost (it reconnects on the next call).
                Ok(Ok(None)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "lost the connection that listens for other nodes' work");
                    break;
                }
            }
            if work.strong_count() == 0 {
                return;
            }
        }
    }
}

#[async_trait]
impl RateLimits for PgStore {
    async fn take_rate(
        &self,
        key: &str,
        now: DateTime<Utc>,
        limit: u32,
        window: chrono::Duration,
    ) -> StoreResult<Taken> {
        let (now, window) = (ms(now), window.num_milliseconds());
        let (t, tau) = (interval(limit, window), tolerance(limit, window));
        // One statement: the key's next arrival time moves on only while it stays within
        // the burst; no row back means refused.
        let moved: Option<i64> = sqlx::query_scalar(
            "INSERT INTO rate_limits AS r (key, tat) VALUES ($1, $2 + $3) \
             ON CONFLICT (key) DO UPDATE SET tat = GREATEST(r.tat, $2) + $3 \
             WHERE GREATEST(r.tat, $2) - $2 <= $4 \
             RETURNING tat",
        )
        .bind(key)
        .bind(now)
        .bind(t)
        .bind(tau)
        .fetch_optional(&self.aux)
        .await?;
        Ok(match moved {
            // Allowed: the same figures the arithmetic gives from the state before.
            Some(tat) => take(Some(tat - t), now, limit, window),
            None => {
                // Refused; the stored state only gives the figures (retry-after). It may
                // have moved or been pruned since: refused all the same.
                let stored: Option<i64> = sqlx::query_scalar("SELECT tat FROM rate_limits WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&self.aux)
                    .await?;
                let figures = take(stored, now, limit, window);
                Taken {
                    allowed: false,
                    remaining: 0,
                    retry_after: figures.retry_after.max(1),
                    ..figures
                }
            }
        })
    }

    async fn prune_rates(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM rate_limits WHERE tat <= $1")
            .bind(ms(before))
            .execute(&self.aux)
            .await?;
        Ok(done.rows_affected())
    }

    fn shared_by_nodes(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_are_stable_and_distinct() {
        assert_eq!(key_of("call:a"), key_of("call:a"));
        assert_ne!(key_of("call:a"), key_of("call:b"));
    }
}
