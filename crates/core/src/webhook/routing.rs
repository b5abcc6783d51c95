//! Which webhooks an event goes to, and which of the deliveries it makes are leased to
//! the node that records it.
//!
//! Every store routes the same way: one delivery per active webhook of the event's
//! workspace whose filters match ([`routes_to`]), and the first `lease_budget` of those
//! (events in the order given, webhooks in the order the store lists them) go to the
//! caller to send at once ([`routes`]). A replay ignores `active` ([`replays`]): its
//! deliveries to a disabled webhook are recorded as not sent.

use std::borrow::Borrow;

use super::Webhook;
use crate::event::{EventType, NewEvent};

/// Whether a new event goes to this webhook: it is active and its filters (event types,
/// numbers) match.
#[must_use]
pub fn routes_to(webhook: &Webhook, event: EventType, number: Option<&str>) -> bool {
    webhook.spec.active && webhook.spec.matches(event, number)
}

/// Whether a replay to this webhook covers an event: its filters match, active or not.
#[must_use]
pub fn replays(webhook: &Webhook, event: EventType, number: Option<&str>) -> bool {
    webhook.spec.matches(event, number)
}

/// One delivery to create: indexes into the events and webhooks given to [`routes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The event's index.
    pub event: usize,
    /// The webhook's index.
    pub webhook: usize,
    /// Leased to the caller at creation (within the lease budget).
    pub leased: bool,
}

/// The deliveries that recording `events` creates among `webhooks` (the workspace's), in
/// order: for each event, each webhook it [`routes_to`]. The first `lease_budget` of them
/// are leased to the caller; the rest wait to be claimed.
#[must_use]
pub fn routes<W: Borrow<Webhook>>(events: &[NewEvent], webhooks: &[W], lease_budget: usize) -> Vec<Route> {
    let mut budget = lease_budget;
    let mut out = Vec::new();
    for (ei, e) in events.iter().enumerate() {
        for (wi, w) in webhooks.iter().enumerate() {
            if !routes_to(w.borrow(), e.event, e.number.as_deref()) {
                continue;
            }
            let leased = budget > 0;
            if leased {
                budget -= 1;
            }
            out.push(Route {
                event: ei,
                webhook: wi,
                leased,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use chrono::Utc;

    use super::*;
    use crate::event::{Business, sample_call_ended_data};
    use crate::id::{WebhookId, WorkspaceId};
    use crate::webhook::{HttpMethod, WebhookSecret, WebhookSpec};

    fn hook(events: Vec<EventType>, numbers: Vec<&str>, active: bool) -> Webhook {
        let now = Utc::now();
        Webhook {
            id: WebhookId::generate(),
            workspace_id: WorkspaceId::generate(),
            spec: WebhookSpec {
                name: "crm".into(),
                url: "https://crm.example/hook".into(),
                events,
                method: HttpMethod::Post,
                headers: BTreeMap::new(),
                body_template: None,
                numbers: numbers.into_iter().map(str::to_owned).collect(),
                active,
            },
            secret: WebhookSecret::generate(),
            previous_secret: None,
            disabled_reason: None,
            failing_since: None,
            created_at: now,
            updated_at: now,
        }
    }

    fn event(kind: EventType, number: Option<&str>) -> NewEvent {
        let mut e = NewEvent::new(kind, sample_call_ended_data(), &Business::default(), Utc::now());
        e.number = number.map(str::to_owned);
        e
    }

    #[test]
    fn routes_to_needs_active_and_matching_filters() {
        let all = hook(vec![], vec![], true);
        assert!(routes_to(&all, EventType::CallEnded, None));
        assert!(routes_to(&all, EventType::CallAnswered, Some("+15550100000")));
        let off = hook(vec![], vec![], false);
        assert!(!routes_to(&off, EventType::CallEnded, None), "inactive");
        let ended = hook(vec![EventType::CallEnded], vec![], true);
        assert!(routes_to(&ended, EventType::CallEnded, None));
        assert!(!routes_to(&ended, EventType::CallAnswered, None), "event type");
        let number = hook(vec![], vec!["+15550100000"], true);
        assert!(routes_to(&number, EventType::CallEnded, Some("+15550100000")));
        assert!(
            !routes_to(&number, EventType::CallEnded, Some("+15559999999")),
            "number"
        );
        assert!(
            !routes_to(&number, EventType::CallEnded, None),
            "no number never matches a number filter"
        );
    }

    #[test]
    fn replays_ignore_active_but_not_filters() {
        let off = hook(vec![EventType::CallEnded], vec![], false);
        assert!(replays(&off, EventType::CallEnded, None));
        assert!(!replays(&off, EventType::CallAnswered, None));
    }

    #[test]
    fn routes_fan_out_per_event_then_webhook() {
        // The store's own test: all: 2, ended-only: 1, other number and inactive: 0.
        let hooks = [
            hook(vec![], vec![], true),
            hook(vec![EventType::CallEnded], vec![], true),
            hook(vec![], vec!["+15559999999"], true),
            hook(vec![], vec![], false),
        ];
        let events = [
            event(EventType::CallEnded, Some("+15550100000")),
            event(EventType::CallAnswered, Some("+15550100000")),
        ];
        let r = routes(&events, &hooks, 0);
        assert_eq!(
            r.iter().map(|r| (r.event, r.webhook)).collect::<Vec<_>>(),
            vec![(0, 0), (0, 1), (1, 0)]
        );
        assert!(r.iter().all(|r| !r.leased), "no budget, nothing leased");
    }

    #[test]
    fn the_lease_budget_goes_to_the_first_routes() {
        let hooks = [
            Arc::new(hook(vec![], vec![], true)),
            Arc::new(hook(vec![], vec![], true)),
        ];
        let events = [event(EventType::CallEnded, None), event(EventType::CallAnswered, None)];
        let leased = |budget| {
            routes(&events, &hooks, budget)
                .iter()
                .map(|r| r.leased)
                .collect::<Vec<_>>()
        };
        assert_eq!(leased(0), vec![false; 4]);
        assert_eq!(leased(3), vec![true, true, true, false]);
        assert_eq!(
            leased(10),
            vec![true; 4],
            "a budget over the deliveries leases them all"
        );
        assert!(routes(&[], &hooks, 5).is_empty());
        assert!(routes::<Webhook>(&events, &[], 5).is_empty());
    }
}
