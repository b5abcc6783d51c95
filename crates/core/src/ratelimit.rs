//! Rate limits as GCRA (the generic cell rate algorithm), as pure arithmetic on one
//! stored number per key: the theoretical arrival time (`tat`) of the next request.
//!
//! A limit of `limit` requests per `window` lets a key spend its whole budget at once and
//! then one request every `window / limit`. Each backend keeps `tat` per key and applies
//! [`take`] atomically (PostgreSQL in one statement, so that the nodes sharing the
//! database share the budget); the arithmetic is here so that every backend decides
//! alike. Times are milliseconds.

/// What one request met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    pub allowed: bool,
    /// The `tat` to store (unchanged when refused).
    pub tat: i64,
    /// Requests left in the budget after this one.
    pub remaining: u32,
    /// When refused: how long until one request fits.
    pub retry_after: i64,
    /// How long until the budget is whole again.
    pub reset_after: i64,
}

/// The interval between requests a limit allows once its burst is spent.
#[must_use]
pub fn interval(limit: u32, window: i64) -> i64 {
    (window / i64::from(limit.max(1))).max(1)
}

/// How far ahead of now `tat` may run (the burst): `limit - 1` intervals.
#[must_use]
pub fn tolerance(limit: u32, window: i64) -> i64 {
    interval(limit, window) * i64::from(limit.max(1) - 1)
}

/// Takes one request at `now` from a budget of `limit` per `window` whose stored
/// theoretical arrival time is `tat` (`None`: never used, or forgotten).
#[must_use]
pub fn take(tat: Option<i64>, now: i64, limit: u32, window: i64) -> Taken {
    let t = interval(limit, window);
    let tau = tolerance(limit, window);
    let start = tat.map_or(now, |tat| tat.max(now));
    if start - now > tau {
        return Taken {
            allowed: false,
            tat: start,
            remaining: 0,
            retry_after: start - now - tau,
            reset_after: start - now,
        };
    }
    let next = start + t;
    let left = (now + tau + t - next) / t;
    Taken {
        allowed: true,
        tat: next,
        remaining: u32::try_from(left.max(0)).unwrap_or(u32::MAX),
        retry_after: 0,
        reset_after: next - now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_budget_at_once_then_one_per_interval() {
        // 5 a second: 5 at once, then refused, then one every 200 ms.
        let (mut tat, now) = (None, 1_000_000);
        for left in (0..5).rev() {
            let r = take(tat, now, 5, 1000);
            assert!(r.allowed);
            assert_eq!(r.remaining, left);
            tat = Some(r.tat);
        }
        let r = take(tat, now, 5, 1000);
        assert!(!r.allowed);
        assert_eq!(r.retry_after, 200);
        assert_eq!(r.tat, tat.expect("stored"), "a refusal changes nothing");
        assert!(!take(tat, now + 199, 5, 1000).allowed);
        let r = take(tat, now + 200, 5, 1000);
        assert!(r.allowed);
        assert_eq!(r.remaining, 0);
        // Whole again after a window of quiet.
        let r = take(Some(r.tat), now + 2_000, 5, 1000);
        assert!(r.allowed);
        assert_eq!(r.remaining, 4);
        assert_eq!(r.reset_after, 200);
    }

    #[test]
    fn an_hourly_budget() {
        let hour = 3_600_000;
        let mut tat = None;
        for _ in 0..1000 {
            let r = take(tat, 0, 1000, hour);
            assert!(r.allowed);
            tat = Some(r.tat);
        }
        let r = take(tat, 0, 1000, hour);
        assert!(!r.allowed);
        assert_eq!(r.retry_after, 3_600);
        assert_eq!(r.reset_after, hour);
    }

    #[test]
    fn a_limit_of_one() {
        let r = take(None, 10, 1, 1000);
        assert!(r.allowed && r.remaining == 0);
        let again = take(Some(r.tat), 10, 1, 1000);
        assert!(!again.allowed);
        assert_eq!(again.retry_after, 1000);
    }
}
