//! The retention purge: contents of old finished calls removed, outcomes kept; old
//! events go with their deliveries and attempts, unless a delivery is still pending.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use frontdesk_core::call::{CallStatus, CallerInfo, Direction, Speaker, Turn};
use frontdesk_core::event::EventType;
use frontdesk_core::page::PageRequest;
use frontdesk_core::webhook::{HttpMethod, WebhookSecret, WebhookSpec};
use serde_json::json;

use super::{agent, call, event_about, now, workspace};
use crate::{Attempt, AttemptResult, CallWrite, EventFilter, NextStep, Purged, Store, WebhookHealth};

pub async fn retention_removes_contents_and_old_events_and_keeps_outcomes(s: &dyn Store) {
    let ws = workspace(s, "acme").await;
    let a = agent(s, &ws, "front").await;

    // A finished call, with everything a caller said in it, and its event.
    let mut done = call(&ws, &a.id, Direction::Inbound, "+15551234567", "+15550100000");
    done.status = CallStatus::Completed;
    done.ended_at = Some(now());
    done.answered_at = Some(now());
    done.caller = CallerInfo {
        phone: Some("+15551234567".into()),
        name: Some("Jane Doe".into()),
        email: Some("jane@example.com".into()),
    };
    done.turns = vec![Turn::new(Speaker::Caller, "my date of birth is March 4th 1990", now())];
    done.custom_fields.insert("dob".into(), json!("1990-03-04"));
    done.message = Some("call me back".into());
    done.ai_summary = Some("Jane Doe, born 1990".into());
    done.call_type = Some("new_patient".into());
    done.end_reason = Some("completed".into());
    done.duration = Some(93);
    let ended = event_about(&done, EventType::CallEnded);
    s.save_call(&ws, CallWrite::Insert(&done), &[ended], 3, (Utc::now(), 0))
        .await
        .expect("save_call");

    // A webhook from now on: the next events get deliveries. One is attempted and
    // succeeds; another stays pending.
    let spec = WebhookSpec {
        name: "crm".into(),
        url: "https://crm.example/hook".into(),
        events: vec![],
        method: HttpMethod::Post,
        headers: BTreeMap::new(),
        body_template: None,
        numbers: vec![],
        active: true,
    };
    s.create_webhook(&ws, &spec, &WebhookSecret::generate())
        .await
        .expect("create_webhook");
    let mut live = call(&ws, &a.id, Direction::Inbound, "+15557654321", "+15550100000");
    live.status = CallStatus::InProgress;
    let answered = event_about(&live, EventType::CallAnswered);
    let recorded = s
        .save_call(
            &ws,
            CallWrite::Insert(&live),
            &[answered],
            3,
            (Utc::now() + Duration::minutes(1), 1),
        )
        .await
        .expect("save_call");
    let sent = &recorded.leased[0];
    let attempt = Attempt {
        attempted_at: Utc::now(),
        status_code: Some(200),
        latency_ms: 12,
        response_body: Some("{\"ok\": \"Jane Doe\"}".into()),
        error: None,
        notes: None,
        request: Some(super::sent_request()),
        response_headers: Some(vec![("content-type".into(), "application/json".into())]),
    };
    s.record_attempts(
        &[AttemptResult {
            delivery_id: sent.id.clone(),
            webhook_id: sent.webhook.id.clone(),
            attempt,
            next: NextStep::Succeeded,
            health: WebhookHealth::Healthy,
        }],
        Utc::now(),
    )
    .await
    .expect("record_attempts");
    let pending = event_about(&live, EventType::DataCollected);
    s.record_events(&ws, &[pending], 3, (Utc::now(), 0))
        .await
        .expect("record_events");

    // A call that ended after the cutoff is kept whole.
    let mut recent = call(&ws, &a.id, Direction::Inbound, "+15550001111", "+15550100000");
    recent.status = CallStatus::Completed;
    recent.ended_at = Some(now() + Duration::hours(1));
    recent.ai_summary = Some("recent".into());
    s.save_call(&ws, CallWrite::Insert(&recent), &[], 3, (Utc::now(), 0))
        .await
        .expect("save_call");

    let cutoff = Utc::now() + Duration::minutes(1);
    let purged = s.purge_before(cutoff, 100).await.expect("purge_before");
    assert_eq!(
        purged,
        Purged {
            calls: 1,
            events: 2,
            attempts: 1
        }
    );

    let got = s
        .get_call(&ws, &done.id)
        .await
        .expect("get_call")
        .expect("get_call found it");
    assert!(got.turns.is_empty() && got.custom_fields.is_empty(), "{got:?}");
    assert_eq!((got.message, got.ai_summary), (None, None));
    assert_eq!((got.caller.name, got.caller.email), (None, None));
    assert_eq!(got.caller.phone.as_deref(), Some("+15551234567"));
    assert_eq!(got.status, CallStatus::Completed);
    assert_eq!(got.call_type.as_deref(), Some("new_patient"));
    assert_eq!(got.end_reason.as_deref(), Some("completed"));
    assert_eq!(
        (got.duration, got.started_at, got.ended_at),
        (Some(93), done.started_at, done.ended_at)
    );
    assert!(got.purged_at.is_some());
    assert_eq!(got.version, done.version + 1, "a stale writer loses to the purge");
    let kept = s
        .get_call(&ws, &live.id)
        .await
        .expect("get_call")
        .expect("get_call found it");
    assert!(kept.purged_at.is_none(), "a live call is never purged");
    let kept = s
        .get_call(&ws, &recent.id)
        .await
        .expect("get_call")
        .expect("get_call found it");
    assert_eq!(kept.ai_summary.as_deref(), Some("recent"));

    // Only the event whose delivery is still pending is left.
    let events = s
        .list_events(&ws, &EventFilter::default(), &PageRequest::first(10))
        .await
        .expect("list_events");
    assert_eq!(
        events.data.iter().map(|e| e.event).collect::<Vec<_>>(),
        vec![EventType::DataCollected]
    );
    // A second pass has nothing left to do.
    assert_eq!(
        s.purge_before(cutoff, 100).await.expect("purge_before"),
        Purged::default()
    );
}
