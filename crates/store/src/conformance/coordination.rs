//! Named locks: one holder at a time, released on drop.

use std::time::Duration;

use crate::Store;

/// A held lock keeps others out (`try_lock` fails, `lock` waits) until it drops; other
/// names are independent.
pub async fn named_locks_have_one_holder(s: &dyn Store) {
    let held = s.lock("call:a").await.expect("lock");
    assert!(
        s.try_lock("call:a").await.expect("try_lock").is_none(),
        "a held name cannot be taken"
    );
    let other = s.try_lock("call:b").await.expect("try_lock");
    assert!(other.is_some(), "another name is free");
    // A waiter does not get it while it is held ...
    assert!(
        tokio::time::timeout(Duration::from_millis(50), s.lock("call:a"))
            .await
            .is_err(),
        "lock waits while the name is held"
    );
    drop(held);
    // ... and gets it once it is released.
    let again = tokio::time::timeout(Duration::from_secs(10), s.lock("call:a"))
        .await
        .expect("the lock is handed on")
        .expect("lock");
    drop(again);
    // Released (on a shared database, as soon as the holder's transaction has ended).
    let mut freed = false;
    for _ in 0..500 {
        if s.try_lock("call:a").await.expect("try_lock").is_some() {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(freed, "a dropped lock is freed");
}
