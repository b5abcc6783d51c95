//! Events, deliveries and webhooks: routing, leases, attempts, manual retry, replay.

use chrono::{Duration, Utc};
use frontdesk_core::event::EventType;
use frontdesk_core::page::PageRequest;
use frontdesk_core::webhook::WebhookSecret;
use frontdesk_core::workspace::WorkspaceName;

use super::{attempt, event, spec};
use crate::{AttemptResult, DeliveryFilter, DeliveryStatus, EventFilter, NextStep, Store, StoreError, WebhookHealth};

pub async fn events_queue_deliveries_for_matching_webhooks_and_leases_hold(s: &dyn Store) {
    let ws = s
        .create_workspace(&WorkspaceName::parse("a").expect("a valid WorkspaceName"))
        .await
        .expect("create_workspace");
    let _all = s
        .create_webhook(&ws.id, &spec(vec![], vec![]), &WebhookSecret::generate())
        .await
        .expect("create_webhook");
    let ended_only = s
        .create_webhook(
            &ws.id,
            &spec(vec![EventType::CallEnded], vec![]),
            &WebhookSecret::generate(),
        )
        .await
        .expect("create_webhook");
    let other_number = s
        .create_webhook(&ws.id, &spec(vec![], vec!["+15559999999"]), &WebhookSecret::generate())
        .await
        .expect("create_webhook");
    let mut off = spec(vec![], vec![]);
    off.active = false;
    s.create_webhook(&ws.id, &off, &WebhookSecret::generate())
        .await
        .expect("create_webhook");

    let queued = s
        .record_events(
            &ws.id,
            &[event(EventType::CallEnded), event(EventType::CallAnswered)],
            3,
            (Utc::now(), 0),
        )
        .await
        .expect("record_events")
        .queued;
    assert_eq!(queued, 3, "all: 2, ended-only: 1, other number and inactive: 0");
    assert_eq!(
        s.list_events(&ws.id, &EventFilter::default(), &PageRequest::first(10))
            .await
            .expect("list_events")
            .data
            .len(),
        2
    );
    let filtered = EventFilter {
        event: Some(EventType::CallAnswered),
        ..EventFilter::default()
    };
    assert_eq!(
        s.list_events(&ws.id, &filtered, &PageRequest::first(10))
            .await
            .expect("list_events")
            .data
            .len(),
        1
    );
    let _ = other_number;

    let now = Utc::now();
    let lease = Duration::seconds(30);
    let claimed = s.claim_deliveries(now, lease, 10).await.expect("claim_deliveries");
    assert_eq!(claimed.len(), 3);
    assert!(claimed.iter().all(|c| c.retries_left == 3 && c.attempts == 0));
    assert!(
        claimed
            .iter()
            .any(|c| c.webhook.id == ended_only.id && c.event.event == EventType::CallEnded)
    );
    assert!(
        s.claim_deliveries(now, lease, 10)
            .await
            .expect("claim_deliveries")
            .is_empty(),
        "leased"
    );
    let stats = s.queue_stats().await.expect("queue_stats");
    assert_eq!(stats.pending, 3);
    // The worker died: after the lease, the work is claimable again.
    let again = s
        .claim_deliveries(now + Duration::seconds(31), lease, 10)
        .await
        .expect("claim_deliveries");
    assert_eq!(again.len(), 3);

    let results: Vec<_> = again
        .iter()
        .enumerate()
        .map(|(i, c)| AttemptResult {
            delivery_id: c.id.clone(),
            webhook_id: c.webhook.id.clone(),
            attempt: attempt(if i == 0 { 500 } else { 200 }),
            next: if i == 0 {
                NextStep::RetryAt(now + Duration::seconds(5))
            } else {
                NextStep::Succeeded
            },
            health: if i == 0 {
                WebhookHealth::Failing
            } else {
                WebhookHealth::Unchanged
            },
        })
        .collect();
    s.record_attempts(&results, now).await.expect("record_attempts");
    let (d, attempts) = s
        .get_delivery(&ws.id, &again[0].id)
        .await
        .expect("get_delivery")
        .expect("get_delivery found it");
    assert_eq!(
        (d.status, d.attempts, d.last_status_code),
        (DeliveryStatus::Pending, 1, Some(500))
    );
    assert_eq!(
        attempts,
        vec![results[0].attempt.clone()],
        "the attempt reads back whole"
    );
    assert!(attempts[0].request.is_some() && attempts[0].response_headers.is_some());
    let w = s
        .get_webhook(&ws.id, &again[0].webhook.id)
        .await
        .expect("get_webhook")
        .expect("get_webhook found it");
    assert!(w.failing_since.is_some());
    assert_eq!(
        s.next_due().await.expect("next_due").map(|t| t.timestamp()),
        Some((now + Duration::seconds(5)).timestamp())
    );
    let retry = s
        .claim_deliveries(now + Duration::seconds(6), lease, 10)
        .await
        .expect("claim_deliveries");
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].retries_left, 2);

    let done = DeliveryFilter {
        status: Some(DeliveryStatus::Succeeded),
        ..DeliveryFilter::default()
    };
    assert_eq!(
        s.list_deliveries(&ws.id, &done, &PageRequest::first(10))
            .await
            .expect("list_deliveries")
            .data
            .len(),
        2
    );

    // Manual retry: conflict while pending; allowed once finished.
    assert!(matches!(
        s.retry_delivery(&ws.id, &retry[0].id, now).await,
        Err(StoreError::Conflict(_))
    ));
    let fail = AttemptResult {
        delivery_id: retry[0].id.clone(),
        webhook_id: retry[0].webhook.id.clone(),
        attempt: attempt(500),
        next: NextStep::Failed,
        health: WebhookHealth::Disable("gone".into()),
    };
    s.record_attempts(&[fail], now).await.expect("record_attempts");
    let w = s
        .get_webhook(&ws.id, &retry[0].webhook.id)
        .await
        .expect("get_webhook")
        .expect("get_webhook found it");
    assert!(!w.spec.active);
    assert_eq!(w.disabled_reason.as_deref(), Some("gone"));
    let d = s
        .retry_delivery(&ws.id, &retry[0].id, now)
        .await
        .expect("retry_delivery")
        .expect("retry_delivery found it");
    assert_eq!(d.status, DeliveryStatus::Pending);

    // Reactivating clears the reason.
    let mut re = w.spec.clone();
    re.active = true;
    let untouched = s
        .update_webhook(&ws.id, &w.id, &re, false)
        .await
        .expect("update_webhook")
        .expect("update_webhook found it");
    assert!(!untouched.spec.active, "active is written only when asked");
    let w = s
        .update_webhook(&ws.id, &w.id, &re, true)
        .await
        .expect("update_webhook")
        .expect("update_webhook found it");
    assert!(w.disabled_reason.is_none() && w.failing_since.is_none());
}

pub async fn a_deleted_webhook_does_not_spoil_the_batch(s: &dyn Store) {
    let ws = s
        .create_workspace(&WorkspaceName::parse("a").expect("a valid WorkspaceName"))
        .await
        .expect("create_workspace");
    let keep = s
        .create_webhook(&ws.id, &spec(vec![], vec![]), &WebhookSecret::generate())
        .await
        .expect("create_webhook");
    let gone = s
        .create_webhook(&ws.id, &spec(vec![], vec![]), &WebhookSecret::generate())
        .await
        .expect("create_webhook");
    s.record_events(&ws.id, &[event(EventType::CallEnded)], 3, (Utc::now(), 0))
        .await
        .expect("record_events");
    let claimed = s
        .claim_deliveries(Utc::now(), Duration::seconds(30), 10)
        .await
        .expect("claim_deliveries");
    assert_eq!(claimed.len(), 2);
    assert!(s.delete_webhook(&ws.id, &gone.id).await.expect("delete_webhook"));
    let results: Vec<_> = claimed
        .iter()
        .map(|c| AttemptResult {
            delivery_id: c.id.clone(),
            webhook_id: c.webhook.id.clone(),
            attempt: attempt(200),
            next: NextStep::Succeeded,
            health: WebhookHealth::Unchanged,
        })
        .collect();
    s.record_attempts(&results, Utc::now()).await.expect("record_attempts");
    let kept = claimed.iter().find(|c| c.webhook.id == keep.id).expect("present");
    let (d, attempts) = s
        .get_delivery(&ws.id, &kept.id)
        .await
        .expect("get_delivery")
        .expect("get_delivery found it");
    assert_eq!((d.status, attempts.len()), (DeliveryStatus::Succeeded, 1));
}

pub async fn recording_can_lease_to_the_caller(s: &dyn Store) {
    let ws = s
        .create_workspace(&WorkspaceName::parse("a").expect("a valid WorkspaceName"))
        .await
        .expect("create_workspace");
    s.create_webhook(&ws.id, &spec(vec![], vec![]), &WebhookSecret::generate())
        .await
        .expect("create_webhook");
    let now = Utc::now();
    let events = [
        event(EventType::CallEnded),
        event(EventType::CallAnswered),
        event(EventType::CallEnded),
    ];
    let r = s
        .record_events(&ws.id, &events, 3, (now + Duration::seconds(30), 2))
        .await
        .expect("record_events");
    assert_eq!((r.queued, r.leased.len()), (3, 2), "leased up to the budget");
    assert_eq!(r.leased[0].event.id, events[0].id);
    assert_eq!(r.leased[0].event.payload, events[0].payload);
    let claimed = s
        .claim_deliveries(Utc::now(), Duration::seconds(30), 10)
        .await
        .expect("claim_deliveries");
    assert_eq!(claimed.len(), 1, "the leased ones are not claimable");
    assert_eq!(claimed[0].event.id, events[2].id);
    let later = s
        .claim_deliveries(now + Duration::seconds(31), Duration::seconds(30), 10)
        .await
        .expect("claim_deliveries");
    assert_eq!(later.len(), 3, "every lease has ended by then");
}

pub async fn replay_covers_old_events_and_failed_only(s: &dyn Store) {
    let ws = s
        .create_workspace(&WorkspaceName::parse("a").expect("a valid WorkspaceName"))
        .await
        .expect("create_workspace");
    let t0 = Utc::now() - Duration::seconds(10);
    let _ = s
        .record_events(
            &ws.id,
            &[event(EventType::CallEnded), event(EventType::CallAnswered)],
            3,
            (Utc::now(), 0),
        )
        .await
        .expect("record_events")
        .queued;
    // The webhook is created after the events.
    let hook = s
        .create_webhook(
            &ws.id,
            &spec(vec![EventType::CallEnded], vec![]),
            &WebhookSecret::generate(),
        )
        .await
        .expect("create_webhook");
    assert_eq!(s.replay(&ws.id, &hook.id, t0, None, false, 3).await.expect("replay"), 1);
    assert_eq!(
        s.replay(&ws.id, &hook.id, t0, Some(t0), false, 3)
            .await
            .expect("replay"),
        0,
        "until excludes"
    );
    assert_eq!(
        s.replay(&ws.id, &hook.id, t0, None, true, 3).await.expect("replay"),
        0,
        "none failed"
    );
    let c = s
        .claim_deliveries(Utc::now(), Duration::seconds(30), 10)
        .await
        .expect("claim_deliveries");
    let fail = AttemptResult {
        delivery_id: c[0].id.clone(),
        webhook_id: hook.id.clone(),
        attempt: attempt(500),
        next: NextStep::Failed,
        health: WebhookHealth::Unchanged,
    };
    s.record_attempts(&[fail], Utc::now()).await.expect("record_attempts");
    assert_eq!(s.replay(&ws.id, &hook.id, t0, None, true, 3).await.expect("replay"), 1);
    assert_eq!(
        s.replay(&ws.id, &hook.id, t0, None, true, 3).await.expect("replay"),
        0,
        "already queued again"
    );
}
