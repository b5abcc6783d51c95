//! Store behaviour against a real SQLite file.

use chrono::{Duration, Utc};
use frontdesk_core::api_key::{ApiKeyName, ApiKeySecret};
use frontdesk_core::page::PageRequest;
use frontdesk_core::workspace::WorkspaceName;

use super::SqliteStore;
#[allow(unused_imports)]
use crate::contract::*;
use crate::{IdempotencyBegin, NewApiKey, StoreError, StoredResponse};

async fn store() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/nested/fd.db", dir.path().display());
    let s = SqliteStore::open(&url, crate::Secrets::default()).await.expect("open");
    assert!(s.migrate().await.expect("migrate") >= 1);
    assert_eq!(s.migrate().await.expect("migrate again"), 0);
    (s, dir)
}

mod calls;
mod retention;
mod secrets;

fn new_key(name: &str) -> NewApiKey {
    NewApiKey::new(&ApiKeyName::parse(name).unwrap(), &ApiKeySecret::generate())
}

#[tokio::test]
async fn bootstrap_happens_once() {
    let (s, _d) = store().await;
    let b = s
        .bootstrap_if_empty(&new_key("bootstrap"))
        .await
        .unwrap()
        .expect("first start bootstraps");
    assert_eq!(b.workspace.name, "default");
    assert_eq!(b.number.number, "+15550100000");
    assert!(s.bootstrap_if_empty(&new_key("again")).await.unwrap().is_none());
    assert_eq!(s.list_agents(&b.workspace.id).await.unwrap().len(), 1);
    assert_eq!(s.list_numbers(&b.workspace.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn workspace_names_are_unique() {
    let (s, _d) = store().await;
    let name = WorkspaceName::parse("acme").unwrap();
    s.create_workspace(&name).await.unwrap();
    assert!(matches!(s.create_workspace(&name).await, Err(StoreError::Conflict(_))));
    assert!(s.workspace_by_name(&name).await.unwrap().is_some());
}

#[tokio::test]
async fn keys_page_newest_first_and_stay_in_their_workspace() {
    let (s, _d) = store().await;
    let a = s.create_workspace(&WorkspaceName::parse("a").unwrap()).await.unwrap();
    let b = s.create_workspace(&WorkspaceName::parse("b").unwrap()).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(s.create_api_key(&a.id, &new_key(&format!("k{i}"))).await.unwrap().id);
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let other = s.create_api_key(&b.id, &new_key("other")).await.unwrap();
    let p1 = s.list_api_keys(Some(&a.id), &PageRequest::first(2)).await.unwrap();
    assert_eq!(
        p1.data.iter().map(|k| k.id.clone()).collect::<Vec<_>>(),
        vec![ids[4].clone(), ids[3].clone()]
    );
    let p2 = s
        .list_api_keys(
            Some(&a.id),
            &PageRequest {
                limit: 10,
                before_id: p1.next_cursor.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(p2.data.len(), 3);
    assert!(p2.next_cursor.is_none());
    assert!(s.get_api_key(&a.id, &other.id).await.unwrap().is_none());
    assert!(s.revoke_api_key(Some(&a.id), &other.id).await.unwrap().is_none());
    let revoked = s.revoke_api_key(None, &other.id).await.unwrap().unwrap();
    assert!(revoked.is_revoked());
    let again = s.revoke_api_key(None, &other.id).await.unwrap().unwrap();
    assert_eq!(
        again.revoked_at, revoked.revoked_at,
        "revoking twice keeps the first time"
    );
}

#[tokio::test]
async fn idempotency_lifecycle() {
    let (s, _d) = store().await;
    let ws = s.create_workspace(&WorkspaceName::parse("a").unwrap()).await.unwrap();
    let now = Utc::now();
    let (ttl, stale) = (Duration::hours(24), Duration::minutes(1));
    assert_eq!(
        s.idempotency_begin(&ws.id, "k", "d1", now, ttl, stale).await.unwrap(),
        IdempotencyBegin::Started
    );
    assert_eq!(
        s.idempotency_begin(&ws.id, "k", "d1", now, ttl, stale).await.unwrap(),
        IdempotencyBegin::InProgress
    );
    assert_eq!(
        s.idempotency_begin(&ws.id, "k", "d2", now, ttl, stale).await.unwrap(),
        IdempotencyBegin::Mismatch
    );
    let resp = StoredResponse {
        status: 201,
        content_type: Some("application/json".into()),
        body: b"{}".to_vec(),
    };
    s.idempotency_complete(&ws.id, "k", &resp).await.unwrap();
    assert_eq!(
        s.idempotency_begin(&ws.id, "k", "d1", now, ttl, stale).await.unwrap(),
        IdempotencyBegin::Completed(resp)
    );
    // A day later the key is free again.
    let later = now + Duration::hours(25);
    assert_eq!(
        s.idempotency_begin(&ws.id, "k", "d2", later, ttl, stale).await.unwrap(),
        IdempotencyBegin::Started
    );
    // An abandoned in-progress record is taken over after `stale`.
    assert_eq!(
        s.idempotency_begin(&ws.id, "j", "d", now, ttl, stale).await.unwrap(),
        IdempotencyBegin::Started
    );
    let soon = now + Duration::minutes(2);
    assert_eq!(
        s.idempotency_begin(&ws.id, "j", "d", soon, ttl, stale).await.unwrap(),
        IdempotencyBegin::Started
    );
    assert_eq!(s.idempotency_prune(later + Duration::seconds(1)).await.unwrap(), 2);
}

mod queue {
    use std::collections::BTreeMap;

    use chrono::{Duration, Utc};
    use frontdesk_core::event::{Business, EventType, NewEvent, sample_call_ended_data};
    use frontdesk_core::page::PageRequest;
    use frontdesk_core::webhook::{HttpMethod, WebhookSecret, WebhookSpec};
    use frontdesk_core::workspace::WorkspaceName;

    use super::store;
    #[allow(unused_imports)]
    use crate::contract::*;
    use crate::{
        Attempt, AttemptResult, DeliveryFilter, DeliveryStatus, EventFilter, NextStep, StoreError, WebhookHealth,
    };

    fn spec(events: Vec<EventType>, numbers: Vec<&str>) -> WebhookSpec {
        WebhookSpec {
            name: "crm".into(),
            url: "https://crm.example/hook".into(),
            events,
            method: HttpMethod::Post,
            headers: BTreeMap::new(),
            body_template: None,
            numbers: numbers.into_iter().map(str::to_owned).collect(),
            active: true,
        }
    }

    fn event(kind: EventType) -> NewEvent {
        NewEvent::new(kind, sample_call_ended_data(), &Business::default(), Utc::now())
    }

    fn attempt(code: u16) -> Attempt {
        Attempt {
            attempted_at: Utc::now(),
            status_code: Some(code),
            latency_ms: 3,
            response_body: None,
            error: None,
            notes: None,
        }
    }

    #[tokio::test]
    async fn events_queue_deliveries_for_matching_webhooks_and_leases_hold() {
        let (s, _d) = store().await;
        let ws = s.create_workspace(&WorkspaceName::parse("a").unwrap()).await.unwrap();
        let _all = s
            .create_webhook(&ws.id, &spec(vec![], vec![]), &WebhookSecret::generate())
            .await
            .unwrap();
        let ended_only = s
            .create_webhook(
                &ws.id,
                &spec(vec![EventType::CallEnded], vec![]),
                &WebhookSecret::generate(),
            )
            .await
            .unwrap();
        let other_number = s
            .create_webhook(&ws.id, &spec(vec![], vec!["+15559999999"]), &WebhookSecret::generate())
            .await
            .unwrap();
        let mut off = spec(vec![], vec![]);
        off.active = false;
        s.create_webhook(&ws.id, &off, &WebhookSecret::generate())
            .await
            .unwrap();

        let queued = s
            .record_events(
                &ws.id,
                &[event(EventType::CallEnded), event(EventType::CallAnswered)],
                3,
                (Utc::now(), 0),
            )
            .await
            .unwrap()
            .queued;
        assert_eq!(queued, 3, "all: 2, ended-only: 1, other number and inactive: 0");
        assert_eq!(
            s.list_events(&ws.id, &EventFilter::default(), &PageRequest::first(10))
                .await
                .unwrap()
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
                .unwrap()
                .data
                .len(),
            1
        );
        let _ = other_number;

        let now = Utc::now();
        let lease = Duration::seconds(30);
        let claimed = s.claim_deliveries(now, lease, 10).await.unwrap();
        assert_eq!(claimed.len(), 3);
        assert!(claimed.iter().all(|c| c.retries_left == 3 && c.attempts == 0));
        assert!(
            claimed
                .iter()
                .any(|c| c.webhook.id == ended_only.id && c.event.event == EventType::CallEnded)
        );
        assert!(s.claim_deliveries(now, lease, 10).await.unwrap().is_empty(), "leased");
        let stats = s.queue_stats().await.unwrap();
        assert_eq!(stats.pending, 3);
        // The worker died: after the lease, the work is claimable again.
        let again = s
            .claim_deliveries(now + Duration::seconds(31), lease, 10)
            .await
            .unwrap();
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
        s.record_attempts(&results, now).await.unwrap();
        let (d, attempts) = s.get_delivery(&ws.id, &again[0].id).await.unwrap().unwrap();
        assert_eq!(
            (d.status, d.attempts, d.last_status_code),
            (DeliveryStatus::Pending, 1, Some(500))
        );
        assert_eq!(attempts.len(), 1);
        let w = s.get_webhook(&ws.id, &again[0].webhook.id).await.unwrap().unwrap();
        assert!(w.failing_since.is_some());
        assert_eq!(
            s.next_due().await.unwrap().map(|t| t.timestamp()),
            Some((now + Duration::seconds(5)).timestamp())
        );
        let retry = s.claim_deliveries(now + Duration::seconds(6), lease, 10).await.unwrap();
        assert_eq!(retry.len(), 1);
        assert_eq!(retry[0].retries_left, 2);

        let done = DeliveryFilter {
            status: Some(DeliveryStatus::Succeeded),
            ..DeliveryFilter::default()
        };
        assert_eq!(
            s.list_deliveries(&ws.id, &done, &PageRequest::first(10))
                .await
                .unwrap()
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
        s.record_attempts(&[fail], now).await.unwrap();
        let w = s.get_webhook(&ws.id, &retry[0].webhook.id).await.unwrap().unwrap();
        assert!(!w.spec.active);
        assert_eq!(w.disabled_reason.as_deref(), Some("gone"));
        let d = s.retry_delivery(&ws.id, &retry[0].id, now).await.unwrap().unwrap();
        assert_eq!(d.status, DeliveryStatus::Pending);

        // Reactivating clears the reason.
        let mut re = w.spec.clone();
        re.active = true;
        let untouched = s.update_webhook(&ws.id, &w.id, &re, false).await.unwrap().unwrap();
        assert!(!untouched.spec.active, "active is written only when asked");
        let w = s.update_webhook(&ws.id, &w.id, &re, true).await.unwrap().unwrap();
        assert!(w.disabled_reason.is_none() && w.failing_since.is_none());
    }

    #[tokio::test]
    async fn a_deleted_webhook_does_not_spoil_the_batch() {
        let (s, _d) = store().await;
        let ws = s.create_workspace(&WorkspaceName::parse("a").unwrap()).await.unwrap();
        let keep = s
            .create_webhook(&ws.id, &spec(vec![], vec![]), &WebhookSecret::generate())
            .await
            .unwrap();
        let gone = s
            .create_webhook(&ws.id, &spec(vec![], vec![]), &WebhookSecret::generate())
            .await
            .unwrap();
        s.record_events(&ws.id, &[event(EventType::CallEnded)], 3, (Utc::now(), 0))
            .await
            .unwrap();
        let claimed = s.claim_deliveries(Utc::now(), Duration::seconds(30), 10).await.unwrap();
        assert_eq!(claimed.len(), 2);
        assert!(s.delete_webhook(&ws.id, &gone.id).await.unwrap());
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
        s.record_attempts(&results, Utc::now()).await.unwrap();
        let kept = claimed.iter().find(|c| c.webhook.id == keep.id).unwrap();
        let (d, attempts) = s.get_delivery(&ws.id, &kept.id).await.unwrap().unwrap();
        assert_eq!((d.status, attempts.len()), (DeliveryStatus::Succeeded, 1));
    }

    #[tokio::test]
    async fn recording_can_lease_to_the_caller() {
        let (s, _d) = store().await;
        let ws = s.create_workspace(&WorkspaceName::parse("a").unwrap()).await.unwrap();
        s.create_webhook(&ws.id, &spec(vec![], vec![]), &WebhookSecret::generate())
            .await
            .unwrap();
        let now = Utc::now();
        let events = [
            event(EventType::CallEnded),
            event(EventType::CallAnswered),
            event(EventType::CallEnded),
        ];
        let r = s
            .record_events(&ws.id, &events, 3, (now + Duration::seconds(30), 2))
            .await
            .unwrap();
        assert_eq!((r.queued, r.leased.len()), (3, 2), "leased up to the budget");
        assert_eq!(r.leased[0].event.id, events[0].id);
        assert_eq!(r.leased[0].event.payload, events[0].payload);
        let claimed = s.claim_deliveries(Utc::now(), Duration::seconds(30), 10).await.unwrap();
        assert_eq!(claimed.len(), 1, "the leased ones are not claimable");
        assert_eq!(claimed[0].event.id, events[2].id);
        let later = s
            .claim_deliveries(now + Duration::seconds(31), Duration::seconds(30), 10)
            .await
            .unwrap();
        assert_eq!(later.len(), 3, "every lease has ended by then");
    }

    #[tokio::test]
    async fn replay_covers_old_events_and_failed_only() {
        let (s, _d) = store().await;
        let ws = s.create_workspace(&WorkspaceName::parse("a").unwrap()).await.unwrap();
        let t0 = Utc::now() - Duration::seconds(10);
        let _ = s
            .record_events(
                &ws.id,
                &[event(EventType::CallEnded), event(EventType::CallAnswered)],
                3,
                (Utc::now(), 0),
            )
            .await
            .unwrap()
            .queued;
        // The webhook is created after the events.
        let hook = s
            .create_webhook(
                &ws.id,
                &spec(vec![EventType::CallEnded], vec![]),
                &WebhookSecret::generate(),
            )
            .await
            .unwrap();
        assert_eq!(s.replay(&ws.id, &hook.id, t0, None, false, 3).await.unwrap(), 1);
        assert_eq!(
            s.replay(&ws.id, &hook.id, t0, Some(t0), false, 3).await.unwrap(),
            0,
            "until excludes"
        );
        assert_eq!(
            s.replay(&ws.id, &hook.id, t0, None, true, 3).await.unwrap(),
            0,
            "none failed"
        );
        let c = s.claim_deliveries(Utc::now(), Duration::seconds(30), 10).await.unwrap();
        let fail = AttemptResult {
            delivery_id: c[0].id.clone(),
            webhook_id: hook.id.clone(),
            attempt: attempt(500),
            next: NextStep::Failed,
            health: WebhookHealth::Unchanged,
        };
        s.record_attempts(&[fail], Utc::now()).await.unwrap();
        assert_eq!(s.replay(&ws.id, &hook.id, t0, None, true, 3).await.unwrap(), 1);
        assert_eq!(
            s.replay(&ws.id, &hook.id, t0, None, true, 3).await.unwrap(),
            0,
            "already queued again"
        );
    }
}
