//! Reports: the dashboard overview's figures (calls per day, call types, delivery
//! success rate, attempt latency), computed from raw points the store returns
//! ([`Activity`]) by one pure function, [`summarize`], so that every backend reports
//! alike and the arithmetic is tested without a database.
//!
//! Days are UTC days. A percentile is the nearest-rank one: the smallest value with at
//! least `p` percent of the values at or below it.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};

use crate::call::CallStatus;

/// Most calls, and most attempts, one [`Activity`] holds: the newest ones are kept and
/// [`Activity::truncated`] says that older ones were left out.
pub const ACTIVITY_LIMIT: u32 = 100_000;

/// One call, as the overview counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallPoint {
    pub started_at: DateTime<Utc>,
    pub call_type: Option<String>,
    pub status: CallStatus,
}

/// One delivery attempt, as the overview counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptPoint {
    pub attempted_at: DateTime<Utc>,
    /// The response's status; `None` when there was none (connection error, timeout).
    pub status_code: Option<u16>,
    pub latency_ms: u32,
}

impl AttemptPoint {
    /// Whether the endpoint accepted it (a 2xx answer), as the dispatcher decides.
    #[must_use]
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|c| (200..300).contains(&c))
    }
}

/// A workspace's raw activity since a time, and its queue as it stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// Calls started since then, newest first (at most [`ACTIVITY_LIMIT`]).
    pub calls: Vec<CallPoint>,
    /// Delivery attempts made since then, newest first (at most [`ACTIVITY_LIMIT`]).
    pub attempts: Vec<AttemptPoint>,
    /// Calls live now (queued, ringing or in progress), whenever they started.
    pub live_calls: u64,
    /// Deliveries waiting for their next attempt now.
    pub pending_deliveries: u64,
    /// Deliveries that ran out of attempts (and were not retried since).
    pub failed_deliveries: u64,
    /// Whether the calls or the attempts hit [`ACTIVITY_LIMIT`] (older ones left out).
    pub truncated: bool,
}

/// One UTC day's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Day {
    pub date: NaiveDate,
    pub calls: u64,
    pub attempts: u64,
    /// Attempts answered 2xx.
    pub succeeded: u64,
    /// Median attempt latency; `None` without attempts.
    pub p50_ms: Option<u32>,
    /// 95th percentile attempt latency; `None` without attempts.
    pub p95_ms: Option<u32>,
}

impl Day {
    /// Succeeded attempts / all attempts (0 to 1); `None` without attempts.
    #[must_use]
    pub fn success_rate(&self) -> Option<f64> {
        rate(self.succeeded, self.attempts)
    }
}

/// How many calls had one call type.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeCount {
    /// `None`: calls no call type was given (yet).
    pub call_type: Option<String>,
    pub calls: u64,
    /// Of all the period's calls (0 to 1).
    pub share: f64,
}

/// The overview of a period of whole UTC days ending today.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Every day of the period, oldest first, days without activity included (zeros).
    pub days: Vec<Day>,
    /// Call types, most calls first (ties by name; calls without a type last).
    pub call_types: Vec<TypeCount>,
    /// Calls in the period.
    pub calls: u64,
    /// Calls today (the period's last day).
    pub calls_today: u64,
    pub attempts: u64,
    pub succeeded: u64,
    /// Over the whole period.
    pub p50_ms: Option<u32>,
    pub p95_ms: Option<u32>,
}

impl Summary {
    /// Succeeded attempts / all attempts over the period; `None` without attempts.
    #[must_use]
    pub fn success_rate(&self) -> Option<f64> {
        rate(self.succeeded, self.attempts)
    }
}

fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The first moment of the `days`-day period ending with `today` (midnight UTC): what
/// to ask the store for.
#[must_use]
pub fn period_start(today: NaiveDate, days: u32) -> DateTime<Utc> {
    first_day(today, days).and_time(NaiveTime::MIN).and_utc()
}

fn first_day(today: NaiveDate, days: u32) -> NaiveDate {
    today
        .checked_sub_days(Days::new(u64::from(days.max(1) - 1)))
        .unwrap_or(NaiveDate::MIN)
}

/// The nearest-rank `p`th percentile (0 to 100) of values sorted ascending; `None` when
/// there are none.
#[must_use]
pub fn percentile(sorted: &[u32], p: u32) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (n * p.min(100) as usize).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// The overview of the `days` UTC days ending with `today`: per-day calls, attempts,
/// success and latency, call types, and totals. Points outside the period are ignored.
#[must_use]
pub fn summarize(activity: &Activity, today: NaiveDate, days: u32) -> Summary {
    let first = first_day(today, days);
    let span = usize::try_from((today - first).num_days() + 1).unwrap_or(1);
    let slot = |t: DateTime<Utc>| -> Option<usize> {
        let d = t.date_naive();
        if d < first || d > today {
            return None;
        }
        usize::try_from((d - first).num_days()).ok()
    };

    let mut calls = vec![0u64; span];
    let mut types: Vec<(Option<String>, u64)> = Vec::new();
    for c in &activity.calls {
        let Some(i) = slot(c.started_at) else { continue };
        calls[i] += 1;
        match types.iter_mut().find(|(t, _)| *t == c.call_type) {
            Some((_, n)) => *n += 1,
            None => types.push((c.call_type.clone(), 1)),
        }
    }

    let mut latencies: Vec<Vec<u32>> = vec![Vec::new(); span];
    let mut succeeded = vec![0u64; span];
    for a in &activity.attempts {
        let Some(i) = slot(a.attempted_at) else { continue };
        latencies[i].push(a.latency_ms);
        if a.succeeded() {
            succeeded[i] += 1;
        }
    }

    let total_calls: u64 = calls.iter().sum();
    let mut all: Vec<u32> = latencies.iter().flatten().copied().collect();
    all.sort_unstable();
    let days = (0..span)
        .map(|i| {
            let mut l = std::mem::take(&mut latencies[i]);
            l.sort_unstable();
            Day {
                date: first.checked_add_days(Days::new(i as u64)).unwrap_or(today),
                calls: calls[i],
                attempts: l.len() as u64,
                succeeded: succeeded[i],
                p50_ms: percentile(&l, 50),
                p95_ms: percentile(&l, 95),
            }
        })
        .collect::<Vec<_>>();

    types.sort_by(|(a, n), (b, m)| {
        m.cmp(n)
            .then_with(|| a.is_none().cmp(&b.is_none()))
            .then_with(|| a.cmp(b))
    });
    let call_types = types
        .into_iter()
        .map(|(call_type, n)| TypeCount {
            call_type,
            calls: n,
            share: rate(n, total_calls).unwrap_or(0.0),
        })
        .collect();

    Summary {
        calls_today: days.last().map_or(0, |d| d.calls),
        calls: total_calls,
        attempts: all.len() as u64,
        succeeded: succeeded.iter().sum(),
        p50_ms: percentile(&all, 50),
        p95_ms: percentile(&all, 95),
        days,
        call_types,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).single().expect("time")
    }

    fn call(day: u32, call_type: Option<&str>) -> CallPoint {
        CallPoint {
            started_at: at(day, 10),
            call_type: call_type.map(str::to_owned),
            status: CallStatus::Completed,
        }
    }

    fn attempt(day: u32, code: Option<u16>, latency_ms: u32) -> AttemptPoint {
        AttemptPoint {
            attempted_at: at(day, 12),
            status_code: code,
            latency_ms,
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 14).expect("date")
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 50), Some(7));
        assert_eq!(percentile(&[7], 95), Some(7));
        assert_eq!(percentile(&[1, 2, 3, 4], 50), Some(2));
        let hundred: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 50), Some(50));
        assert_eq!(percentile(&hundred, 95), Some(95));
        assert_eq!(percentile(&hundred, 100), Some(100));
        let twenty: Vec<u32> = (1..=20).map(|v| v * 10).collect();
        assert_eq!(percentile(&twenty, 95), Some(190));
    }

    #[test]
    fn the_period_starts_at_midnight_utc() {
        assert_eq!(period_start(today(), 14), at(1, 0));
        assert_eq!(period_start(today(), 1), at(14, 0));
        assert_eq!(period_start(today(), 0), at(14, 0), "at least today");
    }

    #[test]
    fn days_without_calls_are_zero() {
        let s = summarize(&Activity::default(), today(), 14);
        assert_eq!(s.days.len(), 14);
        assert_eq!(s.days[0].date, NaiveDate::from_ymd_opt(2026, 3, 1).expect("date"));
        assert_eq!(s.days[13].date, today());
        assert!(
            s.days
                .iter()
                .all(|d| d.calls == 0 && d.attempts == 0 && d.p50_ms.is_none())
        );
        assert_eq!((s.calls, s.calls_today, s.attempts), (0, 0, 0));
        assert!(s.call_types.is_empty());
    }

    #[test]
    fn calls_count_per_day_and_type_and_outside_points_are_ignored() {
        let activity = Activity {
            calls: vec![
                call(14, Some("quote_request")),
                call(14, None),
                call(13, Some("quote_request")),
                call(3, Some("emergency")),
                call(1, Some("billing")),
                // Before the period, and (clock skew) after today.
                CallPoint {
                    started_at: at(1, 0) - chrono::Duration::milliseconds(1),
                    ..call(1, Some("old"))
                },
                call(15, Some("future")),
            ],
            ..Activity::default()
        };
        let s = summarize(&activity, today(), 14);
        assert_eq!(s.calls, 5);
        assert_eq!(s.calls_today, 2);
        assert_eq!(s.days[0].calls, 1, "midnight belongs to the first day");
        assert_eq!(s.days[2].calls, 1);
        assert_eq!(s.days[12].calls, 1);
        assert_eq!(s.days[1].calls, 0);
        let names: Vec<(Option<&str>, u64)> = s.call_types.iter().map(|t| (t.call_type.as_deref(), t.calls)).collect();
        assert_eq!(
            names,
            vec![
                (Some("quote_request"), 2),
                (Some("billing"), 1),
                (Some("emergency"), 1),
                (None, 1)
            ]
        );
        assert!((s.call_types[0].share - 0.4).abs() < 1e-9);
    }

    #[test]
    fn success_rate_and_latency_per_day_and_overall() {
        let mut attempts: Vec<AttemptPoint> = (1..=20).map(|i| attempt(14, Some(200), i * 10)).collect();
        attempts.push(attempt(13, Some(500), 1000));
        attempts.push(attempt(13, None, 3000));
        attempts.push(attempt(13, Some(204), 40));
        attempts.push(attempt(13, Some(302), 50));
        let s = summarize(
            &Activity {
                attempts,
                ..Activity::default()
            },
            today(),
            14,
        );
        let today_ = &s.days[13];
        assert_eq!((today_.attempts, today_.succeeded), (20, 20));
        assert_eq!(today_.success_rate(), Some(1.0));
        assert_eq!((today_.p50_ms, today_.p95_ms), (Some(100), Some(190)));
        let yesterday = &s.days[12];
        assert_eq!((yesterday.attempts, yesterday.succeeded), (4, 1), "only 2xx succeeds");
        assert_eq!(yesterday.success_rate(), Some(0.25));
        assert_eq!((yesterday.p50_ms, yesterday.p95_ms), (Some(50), Some(3000)));
        assert_eq!((s.attempts, s.succeeded), (24, 21));
        assert!((s.success_rate().expect("rate") - 21.0 / 24.0).abs() < 1e-9);
        assert_eq!(s.p95_ms, Some(1000));
    }

    #[test]
    fn success_rate_without_attempts_is_none() {
        let s = summarize(&Activity::default(), today(), 3);
        assert_eq!(s.success_rate(), None);
        assert_eq!(s.days[0].success_rate(), None);
        assert_eq!(s.days.len(), 3);
    }
}
