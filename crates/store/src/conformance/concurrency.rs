//! Concurrency promises shown with two or three callers at once on one store (on a
//! backend with several connections, their statements really interleave).

use std::collections::HashSet;

use chrono::{Duration, Utc};
use frontdesk_core::call::{CallStatus, Direction};
use frontdesk_core::event::EventType;
use frontdesk_core::page::PageRequest;
use frontdesk_core::webhook::WebhookSecret;
use frontdesk_core::workspace::WorkspaceName;

use super::{agent, attempt, call, event, event_about, hook_spec, insert, new_key, workspace};
use crate::{AttemptResult, CallWrite, EventFilter, IdempotencyBegin, NextStep, Store, StoreError, WebhookHealth};

/// `bootstrap_if_empty`: at most one bootstrap happens.
pub async fn concurrent_bootstraps_happen_once(s: &dyn Store) {
    let (k1, k2) = (new_key("one"), new_key("two"));
    let (one, two) = tokio::join!(s.bootstrap_if_empty(&k1), s.bootstrap_if_empty(&k2));
    let made = [one.expect("bootstrap_if_empty"), two.expect("bootstrap_if_empty")];
    assert_eq!(made.iter().filter(|b| b.is_some()).count(), 1, "exactly one bootstrap");
    let workspaces = s.list_workspaces().await.expect("list_workspaces");
    assert_eq!(workspaces.len(), 1);
    assert_eq!(s.list_agents(&workspaces[0].id).await.expect("list_agents").len(), 1);
    assert_eq!(s.list_numbers(&workspaces[0].id).await.expect("list_numbers").len(), 1);
}

/// `create_workspace`: of two creates with one name exactly one succeeds.
pub async fn concurrent_workspace_creates_one_wins(s: &dyn Store) {
    let name = WorkspaceName::parse("acme").expect("a valid WorkspaceName");
    let (one, two) = tokio::join!(s.create_workspace(&name), s.create_workspace(&name));
    let results = [one, two];
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results.iter().any(|r| matches!(r, Err(StoreError::Conflict(_)))),
        "the other gets Conflict"
    );
    assert_eq!(s.list_workspaces().await.expect("list_workspaces").len(), 1);
}

/// `idempotency_begin`: of concurrent begins with one key exactly one gets `Started`,
/// also when they find an expired record.
pub async fn concurrent_idempotency_begins_start_once(s: &dyn Store) {
    let ws = workspace(s, "a").await;
    let now = Utc::now();
    let (ttl, stale) = (Duration::hours(24), Duration::minutes(1));
    let begin = |at| s.idempotency_begin(&ws, "k", "d", at, ttl, stale);
    let (a, b, c) = tokio::join!(begin(now), begin(now), begin(now));
    let got = [
        a.expect("idempotency_begin"),
        b.expect("idempotency_begin"),
        c.expect("idempotency_begin"),
    ];
    assert_eq!(
        got.iter().filter(|g| **g == IdempotencyBegin::Started).count(),
        1,
        "{got:?}"
    );
    assert_eq!(
        got.iter().filter(|g| **g == IdempotencyBegin::InProgress).count(),
        2,
        "{got:?}"
    );

    // A day later the record has expired: again exactly one takes it.
    let later = now + Duration::hours(25);
    let (a, b) = tokio::join!(begin(later), begin(later));
    let got = [a.expect("idempotency_begin"), b.expect("idempotency_begin")];
    assert_eq!(
        got.iter().filter(|g| **g == IdempotencyBegin::Started).count(),
        1,
        "{got:?}"
    );
    assert!(got.contains(&IdempotencyBegin::InProgress), "{got:?}");
}

/// `save_call`: of two updates on the same version exactly one wins; nothing of the
/// other (call, events) is written.
pub async fn concurrent_call_updates_one_wins(s: &dyn Store) {
    let ws = workspace(s, "a").await;
    let ag = agent(s, &ws, "ag").await;
    let c = call(&ws, &ag.id, Direction::Inbound, "+15551234567", "+15550100000");
    insert(s, &c).await;
    let mut answered = c.clone();
    answered.status = CallStatus::InProgress;
    let mut ended = c.clone();
    ended.status = CallStatus::Completed;
    let answered_events = [event_about(&answered, EventType::CallAnswered)];
    let ended_events = [event_about(&ended, EventType::CallEnded)];
    let (one, two) = tokio::join!(
        s.save_call(&ws, CallWrite::Update(&answered), &answered_events, 3, (Utc::now(), 0)),
        s.save_call(&ws, CallWrite::Update(&ended), &ended_events, 3, (Utc::now(), 0)),
    );
    let won_answered = match (one, two) {
        (Ok(_), Err(StoreError::Conflict(_))) => true,
        (Err(StoreError::Conflict(_)), Ok(_)) => false,
        other => panic!("exactly one update wins, the other gets Conflict: {other:?}"),
    };
    let stored = s
        .get_call(&ws, &c.id)
        .await
        .expect("get_call")
        .expect("get_call found it");
    assert_eq!(stored.version, 1);
    let (status, kind) = if won_answered {
        (CallStatus::InProgress, EventType::CallAnswered)
    } else {
        (CallStatus::Completed, EventType::CallEnded)
    };
    assert_eq!(stored.status, status);
    let events = s
        .list_events(&ws, &EventFilter::default(), &PageRequest::first(10))
        .await
        .expect("list_events")
        .data;
    assert_eq!(
        events.iter().map(|e| e.event).collect::<Vec<_>>(),
        vec![kind],
        "only the winner's events"
    );
}

/// `claim_deliveries`: concurrent claims get disjoint sets; every delivery is claimed.
pub async fn concurrent_claims_lease_each_delivery_once(s: &dyn Store) {
    let ws = workspace(s, "a").await;
    s.create_webhook(&ws, &hook_spec(), &WebhookSecret::generate())
        .await
        .expect("create_webhook");
    let events: Vec<_> = (0..5).map(|_| event(EventType::CallEnded)).collect();
    s.record_events(&ws, &events, 3, (Utc::now(), 0))
        .await
        .expect("record_events");
    let (now, lease) = (Utc::now(), Duration::seconds(30));
    let (a, b, c) = tokio::join!(
        s.claim_deliveries(now, lease, 2),
        s.claim_deliveries(now, lease, 2),
        s.claim_deliveries(now, lease, 2),
    );
    let mut seen = HashSet::new();
    for claimed in [a, b, c] {
        for d in claimed.expect("claim_deliveries") {
            assert!(seen.insert(d.id.clone()), "{} leased twice", d.id);
        }
    }
    for d in s.claim_deliveries(now, lease, 10).await.expect("claim_deliveries") {
        assert!(seen.insert(d.id.clone()), "{} leased twice", d.id);
    }
    assert_eq!(seen.len(), 5, "every delivery leased once");
    assert!(
        s.claim_deliveries(now, lease, 10)
            .await
            .expect("claim_deliveries")
            .is_empty()
    );
}

/// `retry_delivery`: of two retries of one failed delivery exactly one queues it.
pub async fn concurrent_retries_one_wins(s: &dyn Store) {
    let ws = workspace(s, "a").await;
    s.create_webhook(&ws, &hook_spec(), &WebhookSecret::generate())
        .await
        .expect("create_webhook");
    let now = Utc::now();
    let r = s
        .record_events(&ws, &[event(EventType::CallEnded)], 0, (now + Duration::seconds(30), 1))
        .await
        .expect("record_events");
    let d = &r.leased[0];
    let failed = AttemptResult {
        delivery_id: d.id.clone(),
        webhook_id: d.webhook.id.clone(),
        attempt: attempt(500),
        next: NextStep::Failed,
        health: WebhookHealth::Unchanged,
    };
    s.record_attempts(&[failed], now).await.expect("record_attempts");
    let (one, two) = tokio::join!(s.retry_delivery(&ws, &d.id, now), s.retry_delivery(&ws, &d.id, now));
    match (one, two) {
        (Ok(Some(_)), Err(StoreError::Conflict(_))) | (Err(StoreError::Conflict(_)), Ok(Some(_))) => {}
        other => panic!("exactly one retry queues it, the other gets Conflict: {other:?}"),
    }
}

/// `revoke_api_key`: concurrent revokes keep one time, the first written.
pub async fn concurrent_revokes_keep_one_time(s: &dyn Store) {
    let ws = workspace(s, "a").await;
    let key = s.create_api_key(&ws, &new_key("k")).await.expect("create_api_key");
    let (one, two) = tokio::join!(s.revoke_api_key(Some(&ws), &key.id), s.revoke_api_key(None, &key.id));
    let one = one.expect("revoke_api_key").expect("revoke_api_key found it");
    let two = two.expect("revoke_api_key").expect("revoke_api_key found it");
    assert!(one.revoked_at.is_some());
    assert_eq!(one.revoked_at, two.revoked_at);
    let stored = s
        .get_api_key(&ws, &key.id)
        .await
        .expect("get_api_key")
        .expect("get_api_key found it");
    assert_eq!(stored.revoked_at, one.revoked_at);
}
