//! Webhook health and routing as the core rules say ([`frontdesk_core::webhook::health`],
//! [`frontdesk_core::webhook::routing`]): the store is held to the pure functions.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use frontdesk_core::event::EventType;
use frontdesk_core::page::PageRequest;
use frontdesk_core::webhook::health::{self, HealthState};
use frontdesk_core::webhook::routing;
use frontdesk_core::webhook::{Webhook, WebhookSecret};

use super::{attempt, event, hook_spec, now, spec, workspace};
use crate::{AttemptResult, DeliveryFilter, NextStep, Store, WebhookHealth};

/// Verdicts recorded one batch at a time change the webhook as
/// [`health::apply`] says; in a batch the last verdict per webhook counts
/// ([`health::last_verdicts`]); an edit changes it as [`health::edit`] says.
pub async fn webhook_health_follows_the_core_rules(s: &dyn Store) {
    let ws = workspace(s, "a").await;
    let hook = s
        .create_webhook(&ws, &hook_spec(), &WebhookSecret::generate())
        .await
        .expect("create_webhook");
    s.record_events(&ws, &[event(EventType::CallEnded)], 9, (Utc::now(), 0))
        .await
        .expect("record_events");
    let delivery = s
        .claim_deliveries(Utc::now(), Duration::seconds(30), 10)
        .await
        .expect("claim_deliveries")
        .remove(0);
    let result = |health: WebhookHealth| AttemptResult {
        delivery_id: delivery.id.clone(),
        webhook_id: hook.id.clone(),
        attempt: attempt(500),
        next: NextStep::RetryAt(Utc::now() + Duration::minutes(5)),
        health,
    };
    let stored = |w: Webhook| HealthState::from(&w);
    let get = || async {
        s.get_webhook(&ws, &hook.id)
            .await
            .expect("get_webhook")
            .expect("get_webhook found it")
    };

    let mut expected = HealthState::from(&hook);
    let t0 = now();
    let steps = [
        (vec![WebhookHealth::Failing], t0),
        (vec![WebhookHealth::Failing], t0 + Duration::minutes(1)),
        (vec![WebhookHealth::Unchanged], t0 + Duration::minutes(2)),
        (vec![WebhookHealth::Healthy], t0 + Duration::minutes(3)),
        (
            vec![WebhookHealth::Failing, WebhookHealth::Healthy, WebhookHealth::Unchanged],
            t0 + Duration::minutes(4),
        ),
        (
            vec![WebhookHealth::Healthy, WebhookHealth::Failing],
            t0 + Duration::minutes(5),
        ),
        (vec![WebhookHealth::Disable("gone".into())], t0 + Duration::minutes(6)),
    ];
    for (verdicts, at) in steps {
        let batch: Vec<AttemptResult> = verdicts.iter().cloned().map(result).collect();
        s.record_attempts(&batch, at).await.expect("record_attempts");
        for (_, verdict) in health::last_verdicts(batch.iter().map(|r| (&r.webhook_id, &r.health))) {
            expected = health::apply(&expected, verdict, at);
        }
        assert_eq!(stored(get().await), expected, "after {verdicts:?}");
    }
    assert!(!expected.active, "the last step disabled it");

    let current = get().await;
    for (set_active, active) in [(false, true), (true, false), (true, true), (true, true)] {
        let mut spec = current.spec.clone();
        spec.active = active;
        let before = stored(get().await);
        let after = s
            .update_webhook(&ws, &hook.id, &spec, set_active)
            .await
            .expect("update_webhook")
            .expect("update_webhook found it");
        assert_eq!(
            stored(after),
            health::edit(&before, set_active, active),
            "set_active {set_active}, active {active}"
        );
    }
}

/// Recording events makes the deliveries [`routing::routes`] says, and leases as many
/// of them as the budget allows.
pub async fn events_route_as_the_core_rules_say(s: &dyn Store) {
    let ws = workspace(s, "a").await;
    let mut off = spec(vec![], vec![]);
    off.active = false;
    let mut hooks = Vec::new();
    for spec in [
        spec(vec![], vec![]),
        spec(vec![EventType::CallEnded], vec![]),
        spec(vec![], vec!["+15559999999"]),
        spec(vec![EventType::CallAnswered], vec!["+15550100000"]),
        off,
    ] {
        hooks.push(
            s.create_webhook(&ws, &spec, &WebhookSecret::generate())
                .await
                .expect("create_webhook"),
        );
    }
    let mut events = vec![
        event(EventType::CallEnded),
        event(EventType::CallAnswered),
        event(EventType::DataCollected),
    ];
    events[1].number = Some("+15550100000".into());
    events[2].number = Some("+15559999999".into());
    let routes = routing::routes(&events, &hooks, 0);
    for budget in [0, 2, routes.len() + 3] {
        let fresh: Vec<_> = events
            .iter()
            .map(|e| {
                let mut f = event(e.event);
                f.number.clone_from(&e.number);
                f
            })
            .collect();
        let r = s
            .record_events(&ws, &fresh, 3, (Utc::now() + Duration::seconds(30), budget))
            .await
            .expect("record_events");
        assert_eq!(r.queued, routes.len() as u64, "budget {budget}");
        assert_eq!(r.leased.len(), budget.min(routes.len()), "budget {budget}");
        let expected: BTreeSet<(String, String)> = routes
            .iter()
            .map(|r| (fresh[r.event].id.to_string(), hooks[r.webhook].id.to_string()))
            .collect();
        let made: BTreeSet<(String, String)> = s
            .list_deliveries(&ws, &DeliveryFilter::default(), &PageRequest::first(100))
            .await
            .expect("list_deliveries")
            .data
            .iter()
            .filter(|d| fresh.iter().any(|e| e.id == d.event_id))
            .map(|d| (d.event_id.to_string(), d.webhook_id.to_string()))
            .collect();
        assert_eq!(made, expected, "budget {budget}");
        for leased in &r.leased {
            assert!(expected.contains(&(leased.event.id.to_string(), leased.webhook.id.to_string())));
        }
    }
}
