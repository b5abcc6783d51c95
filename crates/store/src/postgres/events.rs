//! Events and the outbox in PostgreSQL: events with their deliveries in one transaction,
//! so they become visible together on every node. Leased deliveries are inserted with
//! their lease set, so no claim anywhere takes them before it ends.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use frontdesk_core::event::NewEvent;
use frontdesk_core::id::{DeliveryId, EventId, WorkspaceId};
use frontdesk_core::page::{Page, PageRequest};
use frontdesk_core::webhook::{Webhook, routing};
use sqlx::{Postgres, QueryBuilder, Transaction};

use super::{PgStore, fetch_page, workspace_query};
use crate::Events;
use crate::rows::{event_from_row, ms, webhook_from_row};
use crate::secrets::Secrets;
use crate::{ClaimedDelivery, EventFilter, RecordedEvents, StoreResult, StoredEvent};
use async_trait::async_trait;

/// Rows per multi-row INSERT (PostgreSQL allows 65535 bound parameters).
const CHUNK: usize = 500;

/// A delivery row to insert.
pub(super) struct NewDelivery<'a> {
    pub id: DeliveryId,
    pub webhook: &'a str,
    pub event_id: &'a str,
    pub event: &'static str,
    /// Leased to the caller at creation until then (milliseconds).
    pub lease_until: Option<i64>,
}

/// Inserts pending deliveries, due at once, in multi-row statements.
pub(super) async fn insert_deliveries(
    tx: &mut Transaction<'static, Postgres>,
    workspace: &WorkspaceId,
    rows: &[NewDelivery<'_>],
    retries: u32,
) -> StoreResult<u64> {
    let now = ms(Utc::now());
    for chunk in rows.chunks(CHUNK) {
        let mut q = QueryBuilder::<Postgres>::new(
            "INSERT INTO deliveries (id, workspace_id, webhook_id, event_id, event, status, attempts, retries_left, \
             next_attempt_at, lease_until, created_at, updated_at) ",
        );
        q.push_values(chunk, |mut b, d| {
            b.push_bind(d.id.as_str().to_owned())
                .push_bind(workspace.as_str().to_owned())
                .push_bind(d.webhook.to_owned())
                .push_bind(d.event_id.to_owned())
                .push_bind(d.event)
                .push_bind("pending")
                .push_bind(0_i64)
                .push_bind(i64::from(retries))
                .push_bind(now)
                .push_bind(d.lease_until)
                .push_bind(now)
                .push_bind(now);
        });
        q.build().execute(&mut **tx).await?;
    }
    if rows.iter().any(|d| d.lease_until.is_none()) {
        // Deliveries nobody leased: word to every node's dispatcher, at commit.
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(super::coordination::WORK_CHANNEL)
            .execute(&mut **tx)
            .await?;
    }
    Ok(rows.len() as u64)
}

/// The workspace's active webhooks, held (`FOR KEY SHARE`, in id order) until the
/// transaction ends: a concurrent delete waits, so the deliveries about to be inserted
/// never point at a webhook deleted in between (edits and health writes go on).
async fn active_webhooks(
    tx: &mut Transaction<'static, Postgres>,
    secrets: &Secrets,
    workspace: &WorkspaceId,
) -> StoreResult<Vec<Webhook>> {
    sqlx::query(concat!(
        "SELECT ",
        webhook_columns!(),
        " FROM webhooks WHERE workspace_id = $1 AND active ORDER BY id FOR KEY SHARE"
    ))
    .bind(workspace.as_str())
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| webhook_from_row(r, secrets))
    .collect()
}

/// Stores events and their deliveries inside `tx` (see [`crate::Events::record_events`]):
/// one pending delivery per matching active webhook, up to `lease.1` of them leased to
/// the caller until `lease.0` and returned ([`routing::routes`]). The caller commits.
pub(super) async fn record_events_in(
    tx: &mut Transaction<'static, Postgres>,
    secrets: &Secrets,
    workspace: &WorkspaceId,
    events: &[NewEvent],
    retries: u32,
    lease: (DateTime<Utc>, usize),
) -> StoreResult<RecordedEvents> {
    if events.is_empty() {
        return Ok(RecordedEvents::default());
    }
    let contexts: Vec<String> = events
        .iter()
        .map(|e| serde_json::Value::from(e.context.clone()).to_string())
        .collect();
    for (chunk, ctx_chunk) in events.chunks(CHUNK).zip(contexts.chunks(CHUNK)) {
        let mut q = QueryBuilder::<Postgres>::new(
            "INSERT INTO events (id, workspace_id, event, call_id, number, payload, context, created_at) ",
        );
        q.push_values(chunk.iter().zip(ctx_chunk), |mut b, (e, ctx)| {
            b.push_bind(e.id.as_str().to_owned())
                .push_bind(workspace.as_str().to_owned())
                .push_bind(e.event.as_str())
                .push_bind(e.call_id.clone())
                .push_bind(e.number.clone())
                .push_bind(e.payload.clone())
                .push_bind(ctx.clone())
                .push_bind(ms(e.created_at));
        });
        q.build().execute(&mut **tx).await?;
    }
    let hooks: Vec<Arc<Webhook>> = active_webhooks(tx, secrets, workspace)
        .await?
        .into_iter()
        .map(Arc::new)
        .collect();
    let lease_until = ms(lease.0);
    let mut rows = Vec::new();
    let mut leased = Vec::new();
    let mut stored: Vec<Option<Arc<StoredEvent>>> = vec![None; events.len()];
    for route in routing::routes(events, &hooks, lease.1) {
        let (e, h) = (&events[route.event], &hooks[route.webhook]);
        let id = DeliveryId::generate();
        if route.leased {
            let event = stored[route.event]
                .get_or_insert_with(|| Arc::new(StoredEvent::from_new(workspace, e)))
                .clone();
            leased.push(ClaimedDelivery {
                id: id.clone(),
                lease_until: lease.0,
                attempts: 0,
                retries_left: retries,
                event,
                webhook: h.clone(),
            });
        }
        rows.push(NewDelivery {
            id,
            webhook: h.id.as_str(),
            event_id: e.id.as_str(),
            event: e.event.as_str(),
            lease_until: route.leased.then_some(lease_until),
        });
    }
    let queued = insert_deliveries(tx, workspace, &rows, retries).await?;
    Ok(RecordedEvents { queued, leased })
}

#[async_trait]
impl Events for PgStore {
    async fn record_events(
        &self,
        workspace: &WorkspaceId,
        events: &[NewEvent],
        retries: u32,
        lease: (DateTime<Utc>, usize),
    ) -> StoreResult<RecordedEvents> {
        let mut tx = self.begin().await?;
        let recorded = record_events_in(&mut tx, &self.secrets, workspace, events, retries, lease).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    async fn list_events(
        &self,
        workspace: &WorkspaceId,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<StoredEvent>> {
        let mut q = workspace_query(concat!("SELECT ", event_columns!(), " FROM events"), workspace);
        if let Some(e) = filter.event {
            q.push(" AND event = ").push_bind(e.as_str());
        }
        if let Some(c) = &filter.call_id {
            q.push(" AND call_id = ").push_bind(c.clone());
        }
        if let Some(s) = filter.since {
            q.push(" AND created_at >= ").push_bind(ms(s));
        }
        fetch_page(q, &self.pool, page, event_from_row, |e| e.id.as_str()).await
    }

    async fn get_event(&self, workspace: &WorkspaceId, id: &EventId) -> StoreResult<Option<StoredEvent>> {
        self.get_in_workspace(
            concat!(
                "SELECT ",
                event_columns!(),
                " FROM events WHERE id = $1 AND workspace_id = $2"
            ),
            id.as_str(),
            workspace,
            event_from_row,
        )
        .await
    }
}
