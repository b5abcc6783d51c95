//! Idempotent requests: what a request carrying an `Idempotency-Key` meets.
//!
//! Every store decides the same way, from the record it finds under the key (if any), the
//! digest of the arriving request, the time, the records' lifetime (`ttl`) and how long a
//! request may run before it counts as abandoned by a server that died (`stale_after`).
//! The store only reads the record and writes the outcome; [`decide`] is the rule.
//!
//! Times are compared in whole milliseconds, the precision stores keep.

use chrono::{DateTime, Duration, Utc};

/// What a store holds under an idempotency key, as far as the decision needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// The digest of the request that first used the key.
    pub request_digest: &'a str,
    /// Whether that request finished (its response is kept for replay).
    pub completed: bool,
    /// When the record was written.
    pub created_at: DateTime<Utc>,
}

/// What to do with an arriving request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// No record: write one (in progress) and run the request.
    Start,
    /// The record outlived `ttl`: replace it with a new one and run the request.
    Expire,
    /// The record is still in progress after `stale_after` (its server died): replace it
    /// and run the request.
    TakeOver,
    /// The first request finished with this same body: replay its response.
    Replay,
    /// The first request with this body is still running: refuse (409).
    InProgress,
    /// The key was used with another request: refuse (422).
    Mismatch,
}

impl Decision {
    /// Whether the arriving request runs (the store writes a fresh in-progress record).
    #[must_use]
    pub fn runs(self) -> bool {
        matches!(self, Self::Start | Self::Expire | Self::TakeOver)
    }
}

/// Decides what a request meets under its key: `existing` is the stored record, if any.
///
/// In order: an expired record (older than `ttl`) is replaced whatever it holds; a record
/// of another request is a mismatch; a finished one is replayed; one in progress for
/// longer than `stale_after` is taken over; otherwise the first request is still running.
#[must_use]
pub fn decide(
    existing: Option<Record<'_>>,
    request_digest: &str,
    now: DateTime<Utc>,
    ttl: Duration,
    stale_after: Duration,
) -> Decision {
    let Some(record) = existing else {
        return Decision::Start;
    };
    let (created, now) = (record.created_at.timestamp_millis(), now.timestamp_millis());
    if created < now - ttl.num_milliseconds() {
        Decision::Expire
    } else if record.request_digest != request_digest {
        Decision::Mismatch
    } else if record.completed {
        Decision::Replay
    } else if created < now - stale_after.num_milliseconds() {
        Decision::TakeOver
    } else {
        Decision::InProgress
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).expect("a valid time")
    }

    const TTL: i64 = 24 * 3_600_000;
    const STALE: i64 = 60_000;

    fn decide_at(existing: Option<Record<'_>>, digest: &str, now_ms: i64) -> Decision {
        decide(
            existing,
            digest,
            at(now_ms),
            Duration::milliseconds(TTL),
            Duration::milliseconds(STALE),
        )
    }

    fn record(digest: &str, completed: bool, created_ms: i64) -> Record<'_> {
        Record {
            request_digest: digest,
            completed,
            created_at: at(created_ms),
        }
    }

    const T0: i64 = 1_700_000_000_000;

    #[test]
    fn no_record_starts() {
        assert_eq!(decide_at(None, "d", T0), Decision::Start);
        assert!(Decision::Start.runs());
    }

    #[test]
    fn a_running_request_is_in_progress_until_stale_then_taken_over() {
        let r = record("d", false, T0);
        assert_eq!(decide_at(Some(r), "d", T0), Decision::InProgress);
        assert_eq!(
            decide_at(Some(r), "d", T0 + STALE),
            Decision::InProgress,
            "stale is exclusive"
        );
        assert_eq!(decide_at(Some(r), "d", T0 + STALE + 1), Decision::TakeOver);
        assert!(!Decision::InProgress.runs());
        assert!(Decision::TakeOver.runs());
    }

    #[test]
    fn a_finished_request_is_replayed_never_taken_over() {
        let r = record("d", true, T0);
        assert_eq!(decide_at(Some(r), "d", T0), Decision::Replay);
        assert_eq!(decide_at(Some(r), "d", T0 + STALE + 1), Decision::Replay);
        assert!(!Decision::Replay.runs());
    }

    #[test]
    fn another_request_under_the_key_is_a_mismatch_running_or_finished() {
        assert_eq!(decide_at(Some(record("d1", false, T0)), "d2", T0), Decision::Mismatch);
        assert_eq!(decide_at(Some(record("d1", true, T0)), "d2", T0), Decision::Mismatch);
        assert_eq!(
            decide_at(Some(record("d1", false, T0)), "d2", T0 + STALE + 1),
            Decision::Mismatch,
            "a stale record of another request is not taken over"
        );
        assert!(!Decision::Mismatch.runs());
    }

    #[test]
    fn an_expired_record_is_replaced_whatever_it_holds() {
        assert_eq!(
            decide_at(Some(record("d", true, T0)), "d", T0 + TTL),
            Decision::Replay,
            "ttl is exclusive"
        );
        for (digest, completed) in [("d", true), ("d", false), ("other", true), ("other", false)] {
            let r = record(digest, completed, T0);
            assert_eq!(
                decide_at(Some(r), "d", T0 + TTL + 1),
                Decision::Expire,
                "{digest} {completed}"
            );
        }
        assert!(Decision::Expire.runs());
    }

    #[test]
    fn milliseconds_decide_sub_millisecond_times_are_cut() {
        // `now` at T0 + STALE + 0.9 ms counts as T0 + STALE: still in progress.
        let now = at(T0 + STALE) + Duration::microseconds(900);
        let d = decide(
            Some(record("d", false, T0)),
            "d",
            now,
            Duration::milliseconds(TTL),
            Duration::milliseconds(STALE),
        );
        assert_eq!(d, Decision::InProgress);
    }
}
