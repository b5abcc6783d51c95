//! Rate-limit budgets: shared, atomic per key, forgotten when whole.

use chrono::{Duration, TimeZone, Utc};

use crate::Store;

/// A budget of 3 a second: three takes at once are allowed, the fourth is refused (also
/// when they come at the same moment), another key has its own budget, and a budget
/// whole again can be forgotten.
pub async fn rate_budgets_are_shared_and_atomic(s: &dyn Store) {
    let now = Utc.timestamp_millis_opt(1_800_000_000_000).single().expect("time");
    let second = Duration::seconds(1);
    let (a, b, c, d) = tokio::join!(
        s.take_rate("key_1:s", now, 3, second),
        s.take_rate("key_1:s", now, 3, second),
        s.take_rate("key_1:s", now, 3, second),
        s.take_rate("key_1:s", now, 3, second),
    );
    let all = [a, b, c, d].map(|r| r.expect("take"));
    assert_eq!(all.iter().filter(|t| t.allowed).count(), 3, "{all:?}");
    let refused = all.iter().find(|t| !t.allowed).expect("one refused");
    assert!(refused.retry_after > 0 && refused.retry_after <= 334, "{refused:?}");
    let other = s.take_rate("key_2:s", now, 3, second).await.expect("take");
    assert!(other.allowed && other.remaining == 2, "{other:?}");
    // A third of a second later one more fits.
    let later = s
        .take_rate("key_1:s", now + Duration::milliseconds(334), 3, second)
        .await
        .expect("take");
    assert!(later.allowed, "{later:?}");
    // Whole again after a second of quiet: forgotten.
    let pruned = s.prune_rates(now + Duration::seconds(5)).await.expect("prune");
    assert_eq!(pruned, 2);
    let fresh = s
        .take_rate("key_1:s", now + Duration::seconds(5), 3, second)
        .await
        .expect("take");
    assert_eq!(fresh.remaining, 2, "{fresh:?}");
}
