//! Per-key rate limits: an hourly budget and a per-second burst limit, both GCRA. On a
//! database one node serves (SQLite) the budgets are kept in memory (governor); on one
//! several nodes share (PostgreSQL) they are kept in the database
//! ([`frontdesk_store::RateLimits`], one atomic statement per budget), so a key gets its
//! limit once, not once per node.
//!
//! Every authenticated `/v1` response carries `X-RateLimit-Limit` (the hourly budget, or
//! the per-second one when the hourly limit is off), `X-RateLimit-Remaining` and
//! `X-RateLimit-Reset` (Unix time, in seconds, at which the budget is whole again). Over
//! a limit: 429 with `Retry-After`.

use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use frontdesk_core::id::ApiKeyId;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{NotUntil, Quota};

use std::sync::Arc;

use frontdesk_store::Store;

use crate::auth::Caller;
use crate::{ApiError, RateLimitSettings};

type Keyed = governor::RateLimiter<ApiKeyId, DashMapStateStore<ApiKeyId>, DefaultClock, StateInformationMiddleware>;

/// The per-key limiters.
pub struct RateLimiter {
    pub settings: RateLimitSettings,
    per_second: Option<Keyed>,
    per_hour: Option<Keyed>,
    clock: DefaultClock,
    /// Set when the budgets live in the database (nodes share them).
    shared: Option<Arc<dyn Store>>,
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// No limit is configured.
    Unlimited,
    Allowed {
        limit: u32,
        remaining: u32,
        reset_in: Duration,
    },
    Limited {
        limit: u32,
        retry_after: Duration,
        reset_in: Duration,
    },
}

fn keyed(quota: Option<Quota>) -> Option<Keyed> {
    quota.map(|q| governor::RateLimiter::dashmap(q).with_middleware::<StateInformationMiddleware>())
}

impl RateLimiter {
    #[must_use]
    pub fn new(settings: RateLimitSettings) -> Self {
        let per_second = NonZeroU32::new(settings.per_second).map(Quota::per_second);
        let per_hour = NonZeroU32::new(settings.per_hour).map(Quota::per_hour);
        Self {
            settings,
            per_second: keyed(per_second),
            per_hour: keyed(per_hour),
            clock: DefaultClock::default(),
            shared: None,
        }
    }

    /// Limits for a server on `store`: in the database when several nodes may share it,
    /// else in memory.
    #[must_use]
    pub fn for_store(settings: RateLimitSettings, store: &Arc<dyn Store>) -> Self {
        let mut limiter = Self::new(settings);
        if store.shared_by_nodes() {
            limiter.shared = Some(store.clone());
        }
        limiter
    }

    /// The limit the headers report: the hourly budget, or the per-second one when the
    /// hourly limit is off (0: no limit).
    fn reported(&self) -> u32 {
        if self.settings.per_hour > 0 {
            self.settings.per_hour
        } else {
            self.settings.per_second
        }
    }

    /// Takes one request from `key`'s budgets, wherever they are kept.
    pub async fn take(&self, key: &ApiKeyId) -> Decision {
        let Some(store) = &self.shared else {
            return self.check(key);
        };
        let limit = self.reported();
        if limit == 0 {
            return Decision::Unlimited;
        }
        let now = chrono::Utc::now();
        let millis = |ms: i64| Duration::from_millis(u64::try_from(ms.max(0)).unwrap_or(0));
        let budgets = [
            (self.settings.per_second, "s", chrono::Duration::seconds(1)),
            (self.settings.per_hour, "h", chrono::Duration::hours(1)),
        ];
        // The hourly budget's figures, which the headers report (when it is on).
        let mut hourly = None;
        for (quota, suffix, window) in budgets.into_iter().filter(|(q, _, _)| *q > 0) {
            match store.take_rate(&format!("{key}:{suffix}"), now, quota, window).await {
                Ok(t) if !t.allowed => {
                    return Decision::Limited {
                        limit,
                        retry_after: millis(t.retry_after),
                        reset_in: millis(t.reset_after),
                    };
                }
                Ok(t) if suffix == "h" => hourly = Some(t),
                Ok(_) => {}
                Err(e) => {
                    // Open rather than closed: the API keeps answering while the limiter's
                    // table is unreachable (the rest of the request needs the database
                    // anyway).
                    tracing::warn!(error = %e, "could not take from a shared rate-limit budget");
                }
            }
        }
        match hourly {
            Some(t) => Decision::Allowed {
                limit,
                remaining: t.remaining,
                reset_in: millis(t.reset_after),
            },
            _ => Decision::Allowed {
                limit,
                remaining: limit.saturating_sub(1),
                reset_in: Duration::from_secs(1),
            },
        }
    }

    /// Takes one request from `key`'s budgets.
    pub fn check(&self, key: &ApiKeyId) -> Decision {
        let limit = self.reported();
        if limit == 0 {
            return Decision::Unlimited;
        }
        let full_reset = |remaining: u32, q: Quota| q.replenish_interval() * (limit - remaining.min(limit));
        let limited = |n: NotUntil<_>| {
            let retry_after = n.wait_time_from(self.clock.now());
            let q = n.quota();
            Decision::Limited {
                limit,
                retry_after,
                reset_in: full_reset(0, q).max(retry_after),
            }
        };
        if let Some(l) = &self.per_second
            && let Err(n) = l.check_key(key)
        {
            return limited(n);
        }
        match &self.per_hour {
            Some(l) => match l.check_key(key) {
                Ok(s) => {
                    let remaining = s.remaining_burst_capacity();
                    Decision::Allowed {
                        limit,
                        remaining,
                        reset_in: full_reset(remaining, s.quota()),
                    }
                }
                Err(n) => limited(n),
            },
            // Only a per-second limit: report it.
            None => Decision::Allowed {
                limit,
                remaining: limit.saturating_sub(1),
                reset_in: Duration::from_secs(1),
            },
        }
    }

    /// Forgets keys whose budgets are whole again (run periodically).
    pub fn prune(&self) {
        for l in [&self.per_second, &self.per_hour].into_iter().flatten() {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

fn set_headers(headers: &mut HeaderMap, limit: u32, remaining: u32, reset_in: Duration) {
    let reset_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |now| ceil_secs(now + reset_in));
    headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(reset_at));
}

/// Middleware (after [`crate::auth::require_api_key`]): applies the caller's limits.
pub async fn enforce(State(limiter): State<Arc<RateLimiter>>, req: Request, next: Next) -> Response {
    let Some(caller) = req.extensions().get::<Caller>() else {
        return next.run(req).await;
    };
    match limiter.take(&caller.key_id).await {
        Decision::Unlimited => next.run(req).await,
        Decision::Allowed {
            limit,
            remaining,
            reset_in,
        } => {
            let mut res = next.run(req).await;
            set_headers(res.headers_mut(), limit, remaining, reset_in);
            res
        }
        Decision::Limited {
            limit,
            retry_after,
            reset_in,
        } => {
            let secs = ceil_secs(retry_after).max(1);
            let s = &limiter.settings;
            let mut res = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "too many requests with this API key (limits: {} per second, {} per hour; 0 means none); retry after {secs} s",
                    s.per_second, s.per_hour
                ),
            )
            .with_retry_after(secs)
            .into_response();
            set_headers(res.headers_mut(), limit, 0, reset_in);
            res
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_limited() {
        let l = RateLimiter::new(RateLimitSettings {
            per_hour: 1000,
            per_second: 3,
        });
        let k = ApiKeyId::generate();
        for i in 0..3 {
            match l.check(&k) {
                Decision::Allowed { limit, remaining, .. } => {
                    assert_eq!(limit, 1000);
                    assert_eq!(remaining, 999 - i);
                }
                d => panic!("request {i}: {d:?}"),
            }
        }
        assert!(matches!(l.check(&k), Decision::Limited { .. }));
        // Another key has its own budget.
        assert!(matches!(l.check(&ApiKeyId::generate()), Decision::Allowed { .. }));
    }

    #[test]
    fn hourly_budget_runs_out() {
        let l = RateLimiter::new(RateLimitSettings {
            per_hour: 2,
            per_second: 0,
        });
        let k = ApiKeyId::generate();
        assert!(matches!(l.check(&k), Decision::Allowed { remaining: 1, .. }));
        assert!(matches!(l.check(&k), Decision::Allowed { remaining: 0, .. }));
        match l.check(&k) {
            Decision::Limited { retry_after, .. } => {
                assert!(retry_after > Duration::from_secs(1000), "{retry_after:?}");
            }
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn zero_is_off() {
        let l = RateLimiter::new(RateLimitSettings {
            per_hour: 0,
            per_second: 0,
        });
        assert_eq!(l.check(&ApiKeyId::generate()), Decision::Unlimited);
    }
}
