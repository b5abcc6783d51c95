//! The dispatcher: turns pending deliveries into HTTP attempts.
//!
//! Hot path: [`Dispatcher::emit`] records events and their deliveries in one transaction
//! ([`Dispatcher::emit_call`] writes the call they are about in that transaction too),
//! leasing to this node as many deliveries as it has free capacity for, and attempts
//! those at once (no claim round trip, no wake-up delay). Everything else (deliveries over
//! capacity, retries that fall due, work another node left) is found by the loop in
//! [`Dispatcher::run`], which claims due deliveries in batches with a lease, checking at
//! least every second. Attempt results go to a recorder task that writes them in batches.
//! A delivery leased by a worker that died is claimed again when its lease runs out, so
//! delivery is at least once: nothing the store accepted is lost.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use frontdesk_core::event::NewEvent;
use frontdesk_core::id::WorkspaceId;
use frontdesk_core::net::TargetPolicy;
use frontdesk_core::retry::{RetryPolicy, Verdict, classify};
use frontdesk_core::webhook::Webhook;
use frontdesk_store::{
    Attempt, AttemptResult, CallWrite, ClaimedDelivery, NextStep, RecordedEvents, Store, StoreResult, StoredEvent,
    WebhookHealth,
};
use rand::Rng;
use tokio::sync::{Notify, Semaphore, mpsc, watch};

use crate::client::{BuildError, GuardedClient};
use crate::request;

/// Largest batch claimed at once.
const BATCH: usize = 256;
/// Longest idle wait: pending work from other nodes or clocks is found this fast.
const MAX_IDLE: Duration = Duration::from_secs(1);

/// How deliveries are made.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    pub retry: RetryPolicy,
    /// A 2xx must arrive within this.
    pub timeout: Duration,
    pub policy: TargetPolicy,
    /// Attempts in flight at once.
    pub concurrency: usize,
    /// A webhook failing without a success for longer than this is disabled.
    pub disable_after: Duration,
    /// How long the previous secret keeps signing after a rotation.
    pub rotation_window: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(5),
            policy: TargetPolicy::default(),
            concurrency: 256,
            disable_after: Duration::from_secs(5 * 86_400),
            rotation_window: Duration::from_secs(86_400),
        }
    }
}

/// The delivery engine of one node.
pub struct Dispatcher {
    store: Arc<dyn Store>,
    client: GuardedClient,
    settings: DeliverySettings,
    wake: Notify,
    /// One permit per attempt in flight.
    permits: Arc<Semaphore>,
    /// Attempt results, to the recorder task that [`Dispatcher::run`] starts.
    results: mpsc::UnboundedSender<AttemptResult>,
    results_rx: Mutex<Option<mpsc::UnboundedReceiver<AttemptResult>>>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    pub fn new(store: Arc<dyn Store>, settings: DeliverySettings) -> Result<Arc<Self>, BuildError> {
        let client = GuardedClient::new(settings.policy.clone(), settings.timeout)?;
        let (results, rx) = mpsc::unbounded_channel();
        Ok(Arc::new(Self {
            store,
            client,
            permits: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            settings,
            wake: Notify::new(),
            results,
            results_rx: Mutex::new(Some(rx)),
        }))
    }

    pub fn settings(&self) -> &DeliverySettings {
        &self.settings
    }

    /// How long a claimed delivery stays reserved: longer than any attempt can take
    /// (the timeout) plus the time to record it.
    fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.settings.timeout * 2 + Duration::from_secs(5))
            .unwrap_or(chrono::Duration::minutes(1))
    }

    /// Records events with their deliveries (one transaction) and sends them. This is
    /// the only way events enter the system; once it returns, they will be delivered.
    /// Returns how many deliveries were queued.
    pub async fn emit(self: &Arc<Self>, workspace: &WorkspaceId, events: &[NewEvent]) -> StoreResult<u64> {
        let recorded = self
            .store
            .record_events(workspace, events, self.settings.retry.retries(), self.lease_budget())
            .await?;
        Ok(self.dispatch(recorded, events.len()))
    }

    /// [`Dispatcher::emit`] for events about a call: writes the call and records the
    /// events in one transaction ([`Store::save_call`]), then sends them. On a version
    /// conflict nothing is written and nothing sent. After a successful
    /// [`CallWrite::Update`] the stored version is `call.version + 1`.
    pub async fn emit_call(
        self: &Arc<Self>,
        workspace: &WorkspaceId,
        write: CallWrite<'_>,
        events: &[NewEvent],
    ) -> StoreResult<u64> {
        let recorded = self
            .store
            .save_call(
                workspace,
                write,
                events,
                self.settings.retry.retries(),
                self.lease_budget(),
            )
            .await?;
        Ok(self.dispatch(recorded, events.len()))
    }

    /// The lease for deliveries recorded now, and how many this node can attempt at
    /// once (its free permits).
    fn lease_budget(&self) -> (chrono::DateTime<Utc>, usize) {
        (Utc::now() + self.lease(), self.permits.available_permits())
    }

    /// After `events` were recorded: attempts the deliveries leased to this node and
    /// wakes the loop for the rest. Returns how many deliveries were queued.
    fn dispatch(self: &Arc<Self>, recorded: RecordedEvents, events: usize) -> u64 {
        metrics::counter!("frontdesk_events_total").increment(events as u64);
        let direct = recorded.leased.len() as u64;
        for c in recorded.leased {
            self.spawn_attempt(c);
        }
        if recorded.queued > direct {
            self.wake.notify_one();
        }
        recorded.queued
    }

    /// Wakes the loop (after a manual retry or a replay).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Makes one attempt in the background, within the concurrency limit, and hands its
    /// result to the recorder.
    ///
    /// An attempt starts only if it can finish within its lease; otherwise (it waited too
    /// long for a permit) it is left alone, and whoever claims it after the lease ends
    /// sends it. So two workers never send the same delivery at once.
    fn spawn_attempt(self: &Arc<Self>, c: ClaimedDelivery) {
        let me = self.clone();
        let ready = self.permits.clone().try_acquire_owned().ok();
        tokio::spawn(async move {
            let permit = match ready {
                Some(p) => p,
                None => match me.permits.clone().acquire_owned().await {
                    Ok(p) => p,
                    Err(_) => return,
                },
            };
            let deadline = chrono::Duration::from_std(me.settings.timeout).unwrap_or(chrono::Duration::minutes(1));
            if Utc::now() + deadline >= c.lease_until {
                tracing::debug!(delivery = %c.id, "lease too short to attempt; it will be claimed again");
                return;
            }
            let r = me.attempt(c).await;
            let _ = me.results.send(r);
            drop(permit);
        });
    }

    /// Sends `event` to `webhook` now, outside the queue (the webhook test endpoint).
    pub async fn send_once(&self, webhook: &Webhook, event: &StoredEvent, delivery_id: &str) -> Attempt {
        let now = Utc::now();
        match request::prepare(webhook, event, delivery_id, now) {
            Err(e) => not_sent(now, e),
            Ok(p) => self.send(p, now).await.0,
        }
    }

    /// Sends a request and logs it as an attempt (with the request as sent and the
    /// response's headers), with the response's `Retry-After`.
    async fn send(&self, prepared: request::Prepared, now: chrono::DateTime<Utc>) -> (Attempt, Option<Duration>) {
        let request::Prepared {
            outgoing,
            notes,
            record,
            ..
        } = prepared;
        let sent = self.client.send(outgoing).await;
        let (status_code, response_headers, response_body, error, latency, retry_after) = match sent {
            Ok(r) => {
                let err = (!(200..300).contains(&r.status)).then(|| status_error(r.status));
                (
                    Some(r.status),
                    Some(r.headers),
                    Some(r.body_prefix),
                    err,
                    r.latency,
                    r.retry_after,
                )
            }
            Err(e) => (None, None, None, Some(e.message), e.latency, None),
        };
        metrics::histogram!("frontdesk_webhook_attempt_duration_seconds").record(latency.as_secs_f64());
        let attempt = Attempt {
            attempted_at: now,
            status_code,
            latency_ms: u32::try_from(latency.as_millis()).unwrap_or(u32::MAX),
            response_body,
            error,
            notes,
            request: Some(record),
            response_headers,
        };
        (attempt, retry_after)
    }

    /// One attempt of a claimed delivery, and what follows from it.
    async fn attempt(&self, c: ClaimedDelivery) -> AttemptResult {
        let now = Utc::now();
        let hook = &c.webhook;
        let result = |attempt, next, health| AttemptResult {
            delivery_id: c.id.clone(),
            webhook_id: hook.id.clone(),
            attempt,
            next,
            health,
        };
        if !hook.spec.active {
            let why = hook
                .disabled_reason
                .clone()
                .unwrap_or_else(|| "it was turned off".into());
            let a = not_sent(now, format!("not sent: the webhook is disabled ({why})"));
            return result(a, NextStep::Failed, WebhookHealth::Unchanged);
        }
        let prepared = match request::prepare(hook, &c.event, c.id.as_str(), now) {
            Ok(p) => p,
            Err(e) => return result(not_sent(now, e), NextStep::Failed, WebhookHealth::Unchanged),
        };
        let (attempt, retry_after) = self.send(prepared, now).await;
        let (next, health) = match classify(attempt.status_code, retry_after) {
            Verdict::Delivered => {
                let health = if hook.failing_since.is_some() {
                    WebhookHealth::Healthy
                } else {
                    WebhookHealth::Unchanged
                };
                (NextStep::Succeeded, health)
            }
            Verdict::Gone => (
                NextStep::Failed,
                WebhookHealth::Disable(format!("the endpoint answered 410 Gone at {}", now.to_rfc3339())),
            ),
            Verdict::Retry { retry_after } => {
                let next = if c.retries_left > 0 {
                    let n = self.settings.retry.retries().saturating_sub(c.retries_left) as usize;
                    let delay = self.settings.retry.delay(n, retry_after, rand::rng().random::<f64>());
                    NextStep::RetryAt(now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1)))
                } else {
                    NextStep::Failed
                };
                let limit =
                    chrono::Duration::from_std(self.settings.disable_after).unwrap_or(chrono::Duration::days(5));
                let health = match hook.failing_since {
                    None => WebhookHealth::Failing,
                    Some(since) if now - since > limit => WebhookHealth::Disable(format!(
                        "every attempt has failed since {} (longer than the {} s allowed)",
                        since.to_rfc3339(),
                        self.settings.disable_after.as_secs()
                    )),
                    Some(_) => WebhookHealth::Unchanged,
                };
                (next, health)
            }
        };
        result(attempt, next, health)
    }

    /// Runs the claim loop and the recorder until `stop` turns true, then lets the
    /// attempts in flight finish and be recorded. Run it once per dispatcher.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let Some(rx) = self.results_rx.lock().ok().and_then(|mut r| r.take()) else {
            tracing::error!("the dispatcher is already running");
            return;
        };
        let (recorder_done, recorder_stop) = watch::channel(false);
        let recorder = tokio::spawn(record_loop(self.store.clone(), rx, recorder_stop));
        let gauges = tokio::spawn(gauge_loop(self.store.clone()));
        let concurrency = self.settings.concurrency.max(1);
        let lease = self.lease();
        // Other nodes' word of new work (PostgreSQL LISTEN/NOTIFY), when nodes share the
        // database.
        let remote = self.store.new_work();
        loop {
            if *stop.borrow() {
                break;
            }
            if self.permits.available_permits() == 0 {
                tokio::select! {
                    p = self.permits.clone().acquire_owned() => drop(p),
                    _ = stop.changed() => break,
                }
                continue;
            }
            // Under load, claim in batches rather than one freed slot at a time (each
            // claim is a write): give a nearly full pipeline a moment to drain.
            if self.permits.available_permits() < (concurrency / 4).max(1) {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            let now = Utc::now();
            let limit = u32::try_from(self.permits.available_permits().clamp(1, BATCH)).unwrap_or(1);
            let claimed = match self.store.claim_deliveries(now, lease, limit).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim deliveries; retrying in a second");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => {},
                        _ = stop.changed() => break,
                    }
                    continue;
                }
            };
            if claimed.is_empty() {
                let wait = match self.store.next_due().await {
                    Ok(Some(due)) => (due - now)
                        .to_std()
                        .unwrap_or(Duration::ZERO)
                        .clamp(Duration::from_millis(5), MAX_IDLE),
                    _ => MAX_IDLE,
                };
                tokio::select! {
                    () = self.wake.notified() => {},
                    () = notified(remote.as_deref()) => {},
                    () = tokio::time::sleep(wait) => {},
                    _ = stop.changed() => break,
                }
                continue;
            }
            for c in claimed {
                self.spawn_attempt(c);
            }
            // Let those attempts take their permits before counting free ones again.
            tokio::task::yield_now().await;
        }
        // Let attempts in flight finish; their results are then recorded. Anything left
        // unrecorded is covered by its lease.
        let drain = self.settings.timeout + Duration::from_secs(2);
        let all = u32::try_from(concurrency).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(drain, self.permits.acquire_many(all)).await;
        let _ = recorder_done.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), recorder).await;
        gauges.abort();
    }
}

fn not_sent(now: chrono::DateTime<Utc>, error: String) -> Attempt {
    Attempt {
        attempted_at: now,
        status_code: None,
        latency_ms: 0,
        response_body: None,
        error: Some(error),
        notes: None,
        request: None,
        response_headers: None,
    }
}

fn status_error(status: u16) -> String {
    match status {
        300..=399 => format!(
            "the endpoint answered HTTP {status}; redirects are not followed, point the webhook at the final URL"
        ),
        410 => "the endpoint answered HTTP 410 Gone; the webhook was disabled".to_owned(),
        _ => format!("the endpoint answered HTTP {status}"),
    }
}

/// Writes attempt results in batches until stopped, then writes what has arrived.
async fn record_loop(
    store: Arc<dyn Store>,
    mut rx: mpsc::UnboundedReceiver<AttemptResult>,
    mut stop: watch::Receiver<bool>,
) {
    let mut batch = Vec::with_capacity(512);
    loop {
        let first = tokio::select! {
            r = rx.recv() => r,
            _ = stop.changed() => None,
        };
        let Some(first) = first else {
            batch.extend(std::iter::from_fn(|| rx.try_recv().ok()));
            write_batch(&*store, &mut batch).await;
            return;
        };
        batch.push(first);
        while batch.len() < 512 {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        write_batch(&*store, &mut batch).await;
    }
}

/// Records a batch of results, retrying a failed write; a batch that cannot be written
/// is left to the leases (those deliveries are attempted again).
async fn write_batch(store: &dyn Store, batch: &mut Vec<AttemptResult>) {
    if batch.is_empty() {
        return;
    }
    let mut tries = 0u32;
    loop {
        match store.record_attempts(batch, Utc::now()).await {
            Ok(()) => break,
            Err(e) if tries < 5 => {
                tracing::warn!(error = %e, "could not record attempts; retrying");
                tokio::time::sleep(Duration::from_millis(100 << tries)).await;
                tries += 1;
            }
            Err(e) => {
                tracing::error!(error = %e, n = batch.len(), "could not record attempts; they will be retried when their leases end");
                break;
            }
        }
    }
    for r in batch.iter() {
        let outcome = match r.next {
            NextStep::Succeeded => "succeeded",
            NextStep::RetryAt(_) => "retrying",
            NextStep::Failed => "failed",
        };
        metrics::counter!("frontdesk_webhook_deliveries_total", "outcome" => outcome).increment(1);
    }
    batch.clear();
}

/// Keeps the queue gauges current.
async fn gauge_loop(store: Arc<dyn Store>) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        if let Ok(stats) = store.queue_stats().await {
            #[allow(clippy::cast_precision_loss)]
            metrics::gauge!("frontdesk_webhook_queue_depth").set(stats.pending as f64);
            let age = stats
                .oldest_pending
                .map_or(0.0, |t| (Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0);
            metrics::gauge!("frontdesk_webhook_oldest_pending_seconds").set(age);
        }
    }
}

/// Waits for `signal`, or forever when there is none.
async fn notified(signal: Option<&Notify>) {
    match signal {
        Some(n) => n.notified().await,
        None => std::future::pending().await,
    }
}
