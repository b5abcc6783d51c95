//! The attempt log and the delivery log's filters: an attempt's request and response
//! read back as recorded; deliveries found by time and by a delivery, event or call id.

use chrono::{Duration, Utc};
use frontdesk_core::call::Direction;
use frontdesk_core::event::EventType;
use frontdesk_core::page::PageRequest;
use frontdesk_core::webhook::WebhookSecret;

use super::{agent, attempt, call, event, event_about, hook_spec, now, tick, workspace};
use crate::{Attempt, AttemptResult, DeliveryFilter, DeliveryStatus, NextStep, SentRequest, Store, WebhookHealth};

/// Records `attempt` as the outcome of `delivery` (of `webhook`).
fn outcome(c: &crate::ClaimedDelivery, attempt: Attempt, next: NextStep) -> AttemptResult {
    AttemptResult {
        delivery_id: c.id.clone(),
        webhook_id: c.webhook.id.clone(),
        attempt,
        next,
        health: WebhookHealth::Unchanged,
    }
}

pub async fn attempts_keep_their_request_and_response(s: &dyn Store) {
    let ws = workspace(s, "acme").await;
    s.create_webhook(&ws, &hook_spec(), &WebhookSecret::generate())
        .await
        .expect("create_webhook");
    let events: Vec<_> = (0..17).map(|_| event(EventType::CallEnded)).collect();
    s.record_events(&ws, &events, 3, (Utc::now(), 0))
        .await
        .expect("record_events");
    let claimed = s
        .claim_deliveries(Utc::now(), Duration::seconds(30), 50)
        .await
        .expect("claim_deliveries");
    assert_eq!(claimed.len(), 17);

    // A full attempt (request and response headers, in order, duplicates kept); one
    // that sent nothing (no request, no response); one whose body is large.
    let full = attempt(500);
    let mut unsent = attempt(200);
    unsent.status_code = None;
    unsent.request = None;
    unsent.response_headers = None;
    unsent.error = Some("not sent: the webhook is disabled".into());
    let mut large = attempt(200);
    if let Some(r) = large.request.as_mut() {
        r.body = format!("{{\"blob\": \"{}\"}}", "é".repeat(200_000));
    }
    // Many large attempts in one batch: more than one INSERT carries them.
    let mut batch = vec![
        outcome(&claimed[0], full.clone(), NextStep::RetryAt(Utc::now())),
        outcome(&claimed[1], unsent.clone(), NextStep::Failed),
    ];
    for c in &claimed[2..] {
        batch.push(outcome(c, large.clone(), NextStep::Succeeded));
    }
    s.record_attempts(&batch, Utc::now()).await.expect("record_attempts");

    let (_, got) = s
        .get_delivery(&ws, &claimed[0].id)
        .await
        .expect("get_delivery")
        .expect("get_delivery found it");
    assert_eq!(got, vec![full], "an attempt reads back as recorded");
    let (_, got) = s
        .get_delivery(&ws, &claimed[1].id)
        .await
        .expect("get_delivery")
        .expect("get_delivery found it");
    assert_eq!(got, vec![unsent]);
    for c in &claimed[2..] {
        let (d, got) = s
            .get_delivery(&ws, &c.id)
            .await
            .expect("get_delivery")
            .expect("get_delivery found it");
        assert_eq!(d.status, DeliveryStatus::Succeeded);
        assert_eq!(got, vec![large.clone()], "large bodies are kept whole");
    }
}

pub async fn deliveries_filter_by_time_and_search(s: &dyn Store) {
    let ws = workspace(s, "acme").await;
    let other = workspace(s, "other").await;
    let hook = s
        .create_webhook(&ws, &hook_spec(), &WebhookSecret::generate())
        .await
        .expect("create_webhook");
    s.create_webhook(&other, &hook_spec(), &WebhookSecret::generate())
        .await
        .expect("create_webhook");
    let a = agent(s, &ws, "front").await;
    let c = call(&ws, &a.id, Direction::Inbound, "+15551234567", "+15550100000");

    let before = now();
    tick();
    let first = event_about(&c, EventType::CallAnswered);
    s.record_events(&ws, std::slice::from_ref(&first), 3, (Utc::now(), 0))
        .await
        .expect("record_events");
    tick();
    let middle = now();
    tick();
    let second = event(EventType::CallEnded);
    s.record_events(&ws, std::slice::from_ref(&second), 3, (Utc::now(), 0))
        .await
        .expect("record_events");
    // The same call's id in another workspace finds nothing here.
    s.record_events(&other, &[event_about(&c, EventType::CallEnded)], 3, (Utc::now(), 0))
        .await
        .expect("record_events");
    tick();
    let after = now();

    let ws = &ws;
    let list = |filter: DeliveryFilter| async move {
        s.list_deliveries(ws, &filter, &PageRequest::first(10))
            .await
            .expect("list_deliveries")
            .data
    };
    let all = list(DeliveryFilter::default()).await;
    assert_eq!(all.len(), 2);
    let (newer, older) = (&all[0], &all[1]);
    assert_eq!(
        (older.event_id.clone(), newer.event_id.clone()),
        (first.id.clone(), second.id.clone())
    );

    let ids = |v: Vec<crate::Delivery>| v.into_iter().map(|d| d.id).collect::<Vec<_>>();
    let since_middle = DeliveryFilter {
        since: Some(middle),
        ..DeliveryFilter::default()
    };
    assert_eq!(ids(list(since_middle).await), vec![newer.id.clone()]);
    let until_middle = DeliveryFilter {
        until: Some(middle),
        ..DeliveryFilter::default()
    };
    assert_eq!(ids(list(until_middle).await), vec![older.id.clone()]);
    let window = DeliveryFilter {
        since: Some(before),
        until: Some(after),
        webhook_id: Some(hook.id.clone()),
        ..DeliveryFilter::default()
    };
    assert_eq!(list(window).await.len(), 2);
    let empty = DeliveryFilter {
        since: Some(after),
        ..DeliveryFilter::default()
    };
    assert!(list(empty).await.is_empty());

    let search = |term: &str| DeliveryFilter {
        search: Some(term.to_owned()),
        ..DeliveryFilter::default()
    };
    assert_eq!(
        ids(list(search(newer.id.as_str())).await),
        vec![newer.id.clone()],
        "by delivery id"
    );
    assert_eq!(
        ids(list(search(second.id.as_str())).await),
        vec![newer.id.clone()],
        "by event id"
    );
    assert_eq!(
        ids(list(search(c.id.as_str())).await),
        vec![older.id.clone()],
        "by call id"
    );
    assert!(list(search("call_01ARZ3NDEKTSV4RRFFQ69G5FAV")).await.is_empty());
    let narrowed = DeliveryFilter {
        search: Some(c.id.as_str().to_owned()),
        status: Some(DeliveryStatus::Failed),
        ..DeliveryFilter::default()
    };
    assert!(list(narrowed).await.is_empty(), "filters combine");
}

/// What [`attempt`](super::attempt) records: a request as the dispatcher logs it.
pub fn sent_request() -> SentRequest {
    SentRequest {
        method: "POST".into(),
        url: "https://crm.example/hook?x=1".into(),
        headers: vec![
            ("authorization".into(), SentRequest::REDACTED.into()),
            ("content-type".into(), "application/json".into()),
            ("webhook-id".into(), "evt_01ARZ3NDEKTSV4RRFFQ69G5FAV".into()),
            ("webhook-signature".into(), "v1,abc= v1,def=".into()),
            ("x-note".into(), "a \"quoted\" value".into()),
            ("x-note".into(), "again".into()),
        ],
        body: "{\"event\": \"call.ended\", \"name\": \"Zoë\"}".into(),
    }
}
