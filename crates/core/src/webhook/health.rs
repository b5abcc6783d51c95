//! A webhook's health: what an attempt's verdict does to the webhook, and what an edit
//! does to a webhook Frontdesk disabled.
//!
//! The dispatcher judges each attempt ([`WebhookHealth`]): a success after failures
//! clears the failure run, a failure opens one if none is open, and a 410 Gone or a run
//! of failures longer than the allowed time disables the webhook with a reason. Stores
//! apply the verdicts of a batch of attempts, the last one per webhook winning
//! ([`last_verdicts`]), as [`apply`] says; an edit that sets `active` again clears the
//! reason and the failure run ([`edit`]). Stores may write these rules as SQL (one
//! statement per verdict, so that a concurrent edit is not overwritten); the conformance
//! tests hold them to these functions.

use chrono::{DateTime, Utc};

use super::Webhook;
use crate::id::WebhookId;

/// What an attempt means for its webhook's health.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookHealth {
    /// It answered 2xx: clear its failure run.
    Healthy,
    /// It failed: start a failure run if none is open.
    Failing,
    /// Disable it, with the reason (410 Gone, failing too long).
    Disable(String),
    /// The attempt says nothing about the endpoint (it was not sent).
    Unchanged,
}

/// The part of a webhook its health changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthState {
    pub active: bool,
    /// Why Frontdesk disabled it, if it did.
    pub disabled_reason: Option<String>,
    /// Start of the current run of failed attempts.
    pub failing_since: Option<DateTime<Utc>>,
}

impl From<&Webhook> for HealthState {
    fn from(w: &Webhook) -> Self {
        Self {
            active: w.spec.active,
            disabled_reason: w.disabled_reason.clone(),
            failing_since: w.failing_since,
        }
    }
}

/// The state after a verdict recorded at `now`. `Healthy` closes the failure run;
/// `Failing` opens one at `now` unless one is open (its start is kept); `Disable` turns
/// the webhook off with the reason (the failure run is kept; stores also set
/// `updated_at`); `Unchanged` changes nothing.
#[must_use]
pub fn apply(state: &HealthState, verdict: &WebhookHealth, now: DateTime<Utc>) -> HealthState {
    let mut next = state.clone();
    match verdict {
        WebhookHealth::Healthy => next.failing_since = None,
        WebhookHealth::Failing => next.failing_since = Some(state.failing_since.unwrap_or(now)),
        WebhookHealth::Disable(reason) => {
            next.active = false;
            next.disabled_reason = Some(reason.clone());
        }
        WebhookHealth::Unchanged => {}
    }
    next
}

/// The verdicts a batch of attempts leaves, given in the order they were made: the last
/// verdict other than `Unchanged` per webhook (a batch may hold several attempts to one
/// webhook; the latest says how it is now). Listed latest first, one per webhook.
#[must_use]
pub fn last_verdicts<'a, I>(verdicts: I) -> Vec<(&'a WebhookId, &'a WebhookHealth)>
where
    I: IntoIterator<Item = (&'a WebhookId, &'a WebhookHealth)>,
    I::IntoIter: DoubleEndedIterator,
{
    let mut out: Vec<(&WebhookId, &WebhookHealth)> = Vec::new();
    for (webhook, health) in verdicts.into_iter().rev() {
        if *health != WebhookHealth::Unchanged && !out.iter().any(|(w, _)| *w == webhook) {
            out.push((webhook, health));
        }
    }
    out
}

/// The state after an edit. `active` is written only when `set_active` (so an edit of
/// other fields cannot undo a concurrent auto-disable). Setting it to true clears the
/// reason it was disabled, and, when it was off, its failure run (a fresh start); setting
/// it to false keeps both.
#[must_use]
pub fn edit(state: &HealthState, set_active: bool, active: bool) -> HealthState {
    if !set_active {
        return state.clone();
    }
    HealthState {
        active,
        disabled_reason: if active { None } else { state.disabled_reason.clone() },
        failing_since: if active && !state.active {
            None
        } else {
            state.failing_since
        },
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn state(active: bool, reason: Option<&str>, failing_since: Option<DateTime<Utc>>) -> HealthState {
        HealthState {
            active,
            disabled_reason: reason.map(str::to_owned),
            failing_since,
        }
    }

    #[test]
    fn failing_opens_a_run_once_and_healthy_closes_it() {
        let t0 = Utc::now();
        let t1 = t0 + Duration::minutes(5);
        let fresh = state(true, None, None);
        let failing = apply(&fresh, &WebhookHealth::Failing, t0);
        assert_eq!(failing, state(true, None, Some(t0)));
        assert_eq!(
            apply(&failing, &WebhookHealth::Failing, t1),
            failing,
            "an open run keeps its start"
        );
        assert_eq!(apply(&failing, &WebhookHealth::Healthy, t1), fresh);
        assert_eq!(apply(&fresh, &WebhookHealth::Healthy, t1), fresh);
        assert_eq!(apply(&failing, &WebhookHealth::Unchanged, t1), failing);
    }

    #[test]
    fn disable_turns_off_with_the_reason_and_keeps_the_run() {
        let t0 = Utc::now();
        let failing = state(true, None, Some(t0));
        let off = apply(&failing, &WebhookHealth::Disable("gone".into()), t0 + Duration::days(6));
        assert_eq!(off, state(false, Some("gone"), Some(t0)));
    }

    #[test]
    fn the_last_verdict_per_webhook_wins_and_unchanged_says_nothing() {
        let (a, b, c) = (WebhookId::generate(), WebhookId::generate(), WebhookId::generate());
        let batch = [
            (a.clone(), WebhookHealth::Failing),
            (b.clone(), WebhookHealth::Disable("gone".into())),
            (a.clone(), WebhookHealth::Healthy),
            (b.clone(), WebhookHealth::Unchanged),
            (c.clone(), WebhookHealth::Unchanged),
        ];
        let got = last_verdicts(batch.iter().map(|(w, h)| (w, h)));
        assert_eq!(
            got,
            vec![
                (&a, &WebhookHealth::Healthy),
                (&b, &WebhookHealth::Disable("gone".into()))
            ]
        );
        assert!(last_verdicts(std::iter::empty()).is_empty());
    }

    #[test]
    fn an_edit_writes_active_only_when_asked_and_reactivation_starts_fresh() {
        let t0 = Utc::now();
        let disabled = state(false, Some("gone"), Some(t0));
        assert_eq!(edit(&disabled, false, true), disabled, "active untouched");
        assert_eq!(edit(&disabled, true, true), state(true, None, None));
        assert_eq!(edit(&disabled, true, false), disabled, "off again keeps the reason");
        let failing = state(true, None, Some(t0));
        assert_eq!(
            edit(&failing, true, true),
            failing,
            "an active webhook keeps its failure run"
        );
        assert_eq!(edit(&failing, true, false), state(false, None, Some(t0)));
    }
}
