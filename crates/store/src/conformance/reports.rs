//! Reports: the overview's raw points, since a time, of one workspace only.

use chrono::Duration;
use frontdesk_core::call::{CallStatus, Direction};
use frontdesk_core::event::EventType;
use frontdesk_core::report::{AttemptPoint, CallPoint};
use frontdesk_core::webhook::WebhookSecret;

use super::{agent, call, event_about, hook_spec, insert, now, workspace};
use crate::{Attempt, AttemptResult, NextStep, Store, WebhookHealth};

fn tried(
    c: &crate::ClaimedDelivery,
    at: chrono::DateTime<chrono::Utc>,
    code: Option<u16>,
    latency_ms: u32,
    next: NextStep,
) -> AttemptResult {
    AttemptResult {
        delivery_id: c.id.clone(),
        webhook_id: c.webhook.id.clone(),
        attempt: Attempt {
            attempted_at: at,
            status_code: code,
            latency_ms,
            response_body: None,
            error: code.is_none().then(|| "timed out".to_owned()),
            notes: None,
            request: None,
            response_headers: None,
        },
        next,
        health: WebhookHealth::Unchanged,
    }
}

/// The activity holds the calls started and the attempts made since the given time,
/// newest first, with the live calls and the pending and failed deliveries as they
/// stand; another workspace's records never show.
pub async fn activity_is_the_workspaces_own_since_a_time(s: &dyn Store) {
    let (a, b) = (workspace(s, "acme").await, workspace(s, "other").await);
    let (agent_a, agent_b) = (agent(s, &a, "front").await, agent(s, &b, "front").await);
    let t = now();
    let since = t - Duration::days(1);

    let mut old = call(&a, &agent_a.id, Direction::Inbound, "+15551230001", "+15550100000");
    old.status = CallStatus::Completed;
    old.call_type = Some("billing".into());
    old.started_at = t - Duration::days(3);
    insert(s, &old).await;
    let mut recent = call(&a, &agent_a.id, Direction::Inbound, "+15551230002", "+15550100000");
    recent.status = CallStatus::Completed;
    recent.call_type = Some("quote_request".into());
    recent.started_at = t - Duration::hours(1);
    insert(s, &recent).await;
    let mut live = call(&a, &agent_a.id, Direction::Inbound, "+15551230003", "+15550100000");
    live.status = CallStatus::InProgress;
    insert(s, &live).await;
    let mut theirs = call(&b, &agent_b.id, Direction::Inbound, "+15551230004", "+15550100001");
    theirs.status = CallStatus::Ringing;
    theirs.started_at = t - Duration::hours(2);
    insert(s, &theirs).await;

    // Three deliveries in `a`: one tried long ago (still pending), one succeeded now,
    // one failed for good now. One in `b`, succeeded.
    for ws in [&a, &b] {
        s.create_webhook(ws, &hook_spec(), &WebhookSecret::generate())
            .await
            .expect("create_webhook");
    }
    let ended = [0, 1, 2].map(|_| event_about(&recent, EventType::CallEnded));
    let leased = s
        .record_events(&a, &ended, 3, (t + Duration::minutes(1), 3))
        .await
        .expect("record_events")
        .leased;
    assert_eq!(leased.len(), 3);
    s.record_attempts(
        &[
            tried(
                &leased[0],
                t - Duration::days(2),
                Some(500),
                900,
                NextStep::RetryAt(t + Duration::hours(1)),
            ),
            tried(
                &leased[1],
                t - Duration::minutes(2),
                Some(200),
                120,
                NextStep::Succeeded,
            ),
            tried(&leased[2], t - Duration::minutes(1), None, 2000, NextStep::Failed),
        ],
        t,
    )
    .await
    .expect("record_attempts");
    let leased_b = s
        .record_events(
            &b,
            &[event_about(&theirs, EventType::CallAnswered)],
            3,
            (t + Duration::minutes(1), 1),
        )
        .await
        .expect("record_events")
        .leased;
    s.record_attempts(&[tried(&leased_b[0], t, Some(204), 7, NextStep::Succeeded)], t)
        .await
        .expect("record_attempts");

    let mine = s.activity(&a, since).await.expect("activity");
    assert_eq!(
        mine.calls,
        vec![
            CallPoint {
                started_at: live.started_at,
                call_type: None,
                status: CallStatus::InProgress
            },
            CallPoint {
                started_at: recent.started_at,
                call_type: Some("quote_request".into()),
                status: CallStatus::Completed
            },
        ],
        "since the time, newest first"
    );
    assert_eq!(
        mine.attempts,
        vec![
            AttemptPoint {
                attempted_at: t - Duration::minutes(1),
                status_code: None,
                latency_ms: 2000
            },
            AttemptPoint {
                attempted_at: t - Duration::minutes(2),
                status_code: Some(200),
                latency_ms: 120
            },
        ]
    );
    assert_eq!(
        (
            mine.live_calls,
            mine.pending_deliveries,
            mine.failed_deliveries,
            mine.truncated
        ),
        (1, 1, 1, false)
    );

    let everything = s.activity(&a, t - Duration::days(30)).await.expect("activity");
    assert_eq!((everything.calls.len(), everything.attempts.len()), (3, 3));

    let theirs_seen = s.activity(&b, since).await.expect("activity");
    assert_eq!(theirs_seen.calls.len(), 1);
    assert_eq!(theirs_seen.calls[0].status, CallStatus::Ringing);
    assert_eq!(theirs_seen.attempts.len(), 1);
    assert_eq!(theirs_seen.attempts[0].status_code, Some(204));
    assert_eq!(
        (
            theirs_seen.live_calls,
            theirs_seen.pending_deliveries,
            theirs_seen.failed_deliveries
        ),
        (1, 0, 0)
    );

    // Nothing since a later time, but the live call and the queue stand as they are.
    let later = s.activity(&a, t + Duration::hours(1)).await.expect("activity");
    assert!(later.calls.is_empty() && later.attempts.is_empty());
    assert_eq!((later.live_calls, later.pending_deliveries), (1, 1));
}
