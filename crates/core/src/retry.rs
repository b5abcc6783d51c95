//! The webhook retry policy: what an attempt's result means, and when to try again.
//!
//! After the first attempt, retries follow the schedule (default `5m,15m,1h`), each delay
//! spread by up to ±[`RetryPolicy::jitter`] so that endpoints coming back are not hit by
//! a thundering herd. A `Retry-After` on 429 or 503 is honoured when it asks for longer
//! than the schedule, up to [`RetryPolicy::max_retry_after`].

use std::time::Duration;

/// What an attempt's HTTP result means for the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx within the timeout.
    Delivered,
    /// 410 Gone: the endpoint asked to be removed; the webhook is disabled.
    Gone,
    /// Anything else (3xx, 4xx, 5xx, timeout, connection error): try again later.
    Retry { retry_after: Option<Duration> },
}

/// Classifies an attempt: `status` is `None` when no response came (timeout, refused,
/// guard). `retry_after` is the response's `Retry-After`, parsed.
#[must_use]
pub fn classify(status: Option<u16>, retry_after: Option<Duration>) -> Verdict {
    match status {
        Some(200..=299) => Verdict::Delivered,
        Some(410) => Verdict::Gone,
        Some(429 | 503) => Verdict::Retry { retry_after },
        _ => Verdict::Retry { retry_after: None },
    }
}

/// Parses `Retry-After`: delay-seconds (`120`) or an HTTP date
/// (`Wed, 21 Oct 2026 07:28:00 GMT`, counted from `now`; a past date means no wait).
#[must_use]
pub fn parse_retry_after(v: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    Some(
        (at.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// Retry schedule and bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Delays after the first attempt; its length is the number of retries.
    pub schedule: Vec<Duration>,
    /// Relative spread applied to each delay (0.1 = ±10 %).
    pub jitter: f64,
    /// Longest `Retry-After` honoured.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            schedule: vec![
                Duration::from_secs(300),
                Duration::from_secs(900),
                Duration::from_secs(3600),
            ],
            jitter: 0.1,
            max_retry_after: Duration::from_secs(3600),
        }
    }
}

impl RetryPolicy {
    /// How many retries follow the first attempt.
    #[must_use]
    pub fn retries(&self) -> u32 {
        u32::try_from(self.schedule.len()).unwrap_or(u32::MAX)
    }

    /// The delay before retry number `n` (0 = the first retry). `unit` is a random
    /// number in [0, 1) that picks the jitter.
    #[must_use]
    pub fn delay(&self, n: usize, retry_after: Option<Duration>, unit: f64) -> Duration {
        let base = self
            .schedule
            .get(n)
            .or(self.schedule.last())
            .copied()
            .unwrap_or(Duration::from_secs(60));
        let spread = 1.0 + self.jitter * (2.0 * unit.clamp(0.0, 1.0) - 1.0);
        let jittered = base.mul_f64(spread.max(0.0));
        match retry_after {
            Some(ra) => jittered.max(ra.min(self.max_retry_after)),
            None => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(classify(Some(200), None), Verdict::Delivered);
        assert_eq!(classify(Some(204), None), Verdict::Delivered);
        assert_eq!(classify(Some(301), None), Verdict::Retry { retry_after: None });
        assert_eq!(classify(Some(410), None), Verdict::Gone);
        let ra = Some(Duration::from_secs(7));
        assert_eq!(classify(Some(429), ra), Verdict::Retry { retry_after: ra });
        assert_eq!(classify(Some(503), ra), Verdict::Retry { retry_after: ra });
        assert_eq!(classify(Some(500), ra), Verdict::Retry { retry_after: None });
        assert_eq!(classify(None, None), Verdict::Retry { retry_after: None });
        let now = chrono::DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(parse_retry_after(" 30 ", now), Some(Duration::from_secs(30)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn delays_follow_the_schedule_with_bounded_jitter() {
        let p = RetryPolicy::default();
        assert_eq!(p.retries(), 3);
        assert_eq!(p.delay(0, None, 0.5), Duration::from_secs(300));
        assert_eq!(p.delay(1, None, 0.0), Duration::from_secs(810));
        assert_eq!(p.delay(2, None, 1.0), Duration::from_secs(3960));
        assert_eq!(
            p.delay(9, None, 0.5),
            Duration::from_secs(3600),
            "past the end: the last delay"
        );
    }

    #[test]
    fn retry_after_is_honoured_within_bounds() {
        let p = RetryPolicy {
            schedule: vec![Duration::from_secs(1)],
            jitter: 0.0,
            max_retry_after: Duration::from_secs(60),
        };
        assert_eq!(p.delay(0, Some(Duration::from_secs(5)), 0.5), Duration::from_secs(5));
        assert_eq!(p.delay(0, Some(Duration::from_secs(0)), 0.5), Duration::from_secs(1));
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(99_999)), 0.5),
            Duration::from_secs(60)
        );
    }
}
