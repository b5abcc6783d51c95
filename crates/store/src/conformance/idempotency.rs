//! Idempotency keys: start, in progress, mismatch, replay, expiry, take-over, prune.

use chrono::{Duration, Utc};
use frontdesk_core::workspace::WorkspaceName;

use crate::{IdempotencyBegin, Store, StoredResponse};

pub async fn idempotency_lifecycle(s: &dyn Store) {
    let ws = s
        .create_workspace(&WorkspaceName::parse("a").expect("a valid WorkspaceName"))
        .await
        .expect("create_workspace");
    let now = Utc::now();
    let (ttl, stale) = (Duration::hours(24), Duration::minutes(1));
    assert_eq!(
        s.idempotency_begin(&ws.id, "k", "d1", now, ttl, stale)
            .await
            .expect("idempotency_begin"),
        IdempotencyBegin::Started
    );
    assert_eq!(
        s.idempotency_begin(&ws.id, "k", "d1", now, ttl, stale)
            .await
            .expect("idempotency_begin"),
        IdempotencyBegin::InProgress
    );
    assert_eq!(
        s.idempotency_begin(&ws.id, "k", "d2", now, ttl, stale)
            .await
            .expect("idempotency_begin"),
        IdempotencyBegin::Mismatch
    );
    let resp = StoredResponse {
        status: 201,
        content_type: Some("application/json".into()),
        body: b"{}".to_vec(),
    };
    s.idempotency_complete(&ws.id, "k", &resp)
        .await
        .expect("idempotency_complete");
    assert_eq!(
        s.idempotency_begin(&ws.id, "k", "d1", now, ttl, stale)
            .await
            .expect("idempotency_begin"),
        IdempotencyBegin::Completed(resp)
    );
    // A day later the key is free again.
    let later = now + Duration::hours(25);
    assert_eq!(
        s.idempotency_begin(&ws.id, "k", "d2", later, ttl, stale)
            .await
            .expect("idempotency_begin"),
        IdempotencyBegin::Started
    );
    // An abandoned in-progress record is taken over after `stale`.
    assert_eq!(
        s.idempotency_begin(&ws.id, "j", "d", now, ttl, stale)
            .await
            .expect("idempotency_begin"),
        IdempotencyBegin::Started
    );
    let soon = now + Duration::minutes(2);
    assert_eq!(
        s.idempotency_begin(&ws.id, "j", "d", soon, ttl, stale)
            .await
            .expect("idempotency_begin"),
        IdempotencyBegin::Started
    );
    assert_eq!(
        s.idempotency_prune(later + Duration::seconds(1))
            .await
            .expect("idempotency_prune"),
        2
    );
}
