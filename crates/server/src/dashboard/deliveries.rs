//! `/webhooks/{id}` (the webhook's summary and its delivery log: filters, search,
//! paging, retry one, recover every failed delivery since a time, replay a range) and
//! `/deliveries/{id}` (a delivery with every attempt's request and response).
//!
//! Failed first: without a status filter the log lists failed deliveries, then pending,
//! then succeeded ones, newest first within each. A page is filled from those parts in
//! turn, each read with the store's own cursor, and the "Next page" link carries the part
//! and the cursor (`part`, `cursor`), so paging stays exact however many rows each part
//! has. (A delivery whose status changes between two pages may move to another part and
//! be shown twice or not at all, as with any list that changes while it is read.)
//!
//! Retry, recover and replay go through the same functions as the API
//! ([`crate::routes::deliveries::retry`], [`crate::routes::webhooks::replay_range`] and
//! [`crate::routes::webhooks::queue_replay`]).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use frontdesk_core::event::EventType;
use frontdesk_core::id::{CallId, DeliveryId, EventId, WebhookId};
use frontdesk_core::page::PageRequest;
use frontdesk_core::webhook::Webhook;
use frontdesk_store::{Attempt, Delivery, DeliveryFilter, DeliveryStatus, SentRequest, Store};
use serde::Deserialize;

use super::view::{Time, given, pretty_json, query};
use super::{Chrome, PageError, PageResult, Signed, render};
use crate::routes::parse_time;
use crate::routes::webhooks::{queue_replay, replay_range};
use crate::state::{AppState, DispatcherState, SettingsState, StoreState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/{id}", get(webhook_page))
        .route("/webhooks/{id}/recover", post(recover))
        .route("/webhooks/{id}/replay", post(replay))
        .route("/deliveries/{id}", get(delivery_page))
        .route("/deliveries/{id}/retry", post(retry))
}

/// Rows per page of the log.
const PAGE: u32 = 50;
/// The log's parts, in the order shown when no status is chosen.
const PARTS: [DeliveryStatus; 3] = [
    DeliveryStatus::Failed,
    DeliveryStatus::Pending,
    DeliveryStatus::Succeeded,
];

/// Errors next to the fields they concern, by field.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push((field, message.into()));
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A status as the pages show it: a badge whose words carry the meaning.
fn badge(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Failed => "bad",
        DeliveryStatus::Pending => "warn",
        DeliveryStatus::Succeeded => "ok",
    }
}

/// One delivery as the log and the delivery page show it.
pub struct DeliveryRow {
    pub id: String,
    pub webhook_id: String,
    pub event: &'static str,
    pub event_id: String,
    pub call_id: Option<String>,
    pub status: &'static str,
    pub badge: &'static str,
    pub attempts: u32,
    /// The last status code, or the last error, or nothing yet.
    pub last: Option<String>,
    pub next_attempt: Option<Time>,
    pub created: Time,
    /// Failed or succeeded: it can be retried by hand.
    pub finished: bool,
}

impl DeliveryRow {
    fn of(d: Delivery, call_id: Option<String>) -> Self {
        let last = match (d.last_status_code, &d.last_error) {
            (Some(code), Some(e)) if !e.contains(&code.to_string()) => Some(format!("HTTP {code}: {e}")),
            (Some(code), _) => Some(format!("HTTP {code}")),
            (None, Some(e)) => Some(e.clone()),
            (None, None) => None,
        };
        Self {
            id: d.id.to_string(),
            webhook_id: d.webhook_id.to_string(),
            event: d.event.as_str(),
            event_id: d.event_id.to_string(),
            call_id,
            status: d.status.as_str(),
            badge: badge(d.status),
            attempts: d.attempts,
            last,
            next_attempt: if d.status == DeliveryStatus::Pending {
                Time::maybe(d.next_attempt_at)
            } else {
                None
            },
            created: Time::of(d.created_at),
            finished: d.status != DeliveryStatus::Pending,
        }
    }
}

/// The calls the deliveries' events are about (one read per distinct event).
async fn call_ids(
    store: &dyn Store,
    signed: &Signed,
    deliveries: &[Delivery],
) -> Result<HashMap<String, String>, PageError> {
    let mut events: Vec<&EventId> = deliveries.iter().map(|d| &d.event_id).collect();
    events.sort();
    events.dedup();
    let found =
        futures_util::future::try_join_all(events.into_iter().map(|e| store.get_event(&signed.workspace_id, e)))
            .await?;
    Ok(found
        .into_iter()
        .flatten()
        .filter_map(|e| e.call_id.map(|c| (e.id.to_string(), c)))
        .collect())
}

async fn rows(store: &dyn Store, signed: &Signed, deliveries: Vec<Delivery>) -> Result<Vec<DeliveryRow>, PageError> {
    let calls = call_ids(store, signed, &deliveries).await?;
    Ok(deliveries
        .into_iter()
        .map(|d| {
            let call = calls.get(d.event_id.as_str()).cloned();
            DeliveryRow::of(d, call)
        })
        .collect())
}

/// The webhook's summary.
pub struct HookSummary {
    pub id: String,
    pub name: String,
    pub method: String,
    pub url: String,
    pub events: String,
    /// `active`, `failing`, `disabled` or `off`.
    pub state: &'static str,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<Time>,
}

impl HookSummary {
    fn of(w: &Webhook) -> Self {
        let state = match (w.spec.active, &w.disabled_reason, w.failing_since) {
            (true, _, Some(_)) => "failing",
            (true, _, None) => "active",
            (false, Some(_), _) => "disabled",
            (false, None, _) => "off",
        };
        Self {
            id: w.id.to_string(),
            name: w.spec.name.clone(),
            method: w.spec.method.as_str().to_owned(),
            url: w.spec.url.clone(),
            events: if w.spec.events.is_empty() {
                "every event".to_owned()
            } else {
                w.spec.events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
            },
            state,
            disabled_reason: w.disabled_reason.clone(),
            failing_since: Time::maybe(w.failing_since),
        }
    }
}

/// The log's query: filters, the page, and a notice after a form.
#[derive(Debug, Default, Clone, Deserialize)]
struct LogQuery {
    status: Option<String>,
    event: Option<String>,
    /// RFC 3339, filled by the page script from `from_local`.
    from: Option<String>,
    /// The `datetime-local` field (read as UTC when the script did not run).
    from_local: Option<String>,
    to: Option<String>,
    to_local: Option<String>,
    /// A delivery, event or call id.
    q: Option<String>,
    /// Which part of the log the page starts in (`failed`, `pending`, `succeeded`).
    part: Option<String>,
    cursor: Option<String>,
    /// After a recover or replay: how many were queued.
    queued: Option<String>,
    /// After a form: `recover`, `replay` or `retry`.
    done: Option<String>,
}

/// A time from a form: the RFC 3339 value the script filled in, or else the
/// `datetime-local` value read as UTC, or nothing.
fn form_time(utc: Option<&str>, local: Option<&str>) -> Option<String> {
    if let Some(t) = given(utc) {
        return Some(t.to_owned());
    }
    let local = given(local)?;
    let parsed = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(local, f).ok());
    Some(parsed.map_or_else(
        || local.to_owned(),
        |t| t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    ))
}

/// A search term: an id in its canonical form when it is one.
fn search_term(q: &str) -> String {
    DeliveryId::parse(q)
        .map(|i| i.to_string())
        .or_else(|_| EventId::parse(q).map(|i| i.to_string()))
        .or_else(|_| CallId::parse(q).map(|i| i.to_string()))
        .unwrap_or_else(|_| q.to_owned())
}

/// The log's filters as read from the query, with what was wrong in them.
struct Filters {
    filter: DeliveryFilter,
    /// RFC 3339 values of the time filters, for links.
    from: String,
    to: String,
    errors: FieldErrors,
}

#[allow(
    clippy::needless_update,
    reason = "the filter may grow fields this page does not use (an event id is coming)"
)]
fn filters(wid: &WebhookId, q: &LogQuery) -> Filters {
    let mut errors = FieldErrors::default();
    let status = given(q.status.as_deref()).and_then(|s| {
        let parsed = DeliveryStatus::parse(s);
        if parsed.is_none() {
            errors.add(
                "status",
                format!("`{s}` is not a status; choose failed, pending or succeeded"),
            );
        }
        parsed
    });
    let event = given(q.event.as_deref()).and_then(|e| match EventType::parse(e) {
        Ok(e) => Some(e),
        Err(err) => {
            errors.add("event", err.message);
            None
        }
    });
    let mut time = |field: &'static str, utc: Option<&str>, local: Option<&str>| {
        let text = form_time(utc, local)?;
        match parse_time(field, &text) {
            Ok(t) => Some((t, text)),
            Err(e) => {
                errors.add(field, e.message);
                None
            }
        }
    };
    let from = time("from", q.from.as_deref(), q.from_local.as_deref());
    let to = time("to", q.to.as_deref(), q.to_local.as_deref());
    if let (Some((f, _)), Some((t, _))) = (&from, &to)
        && t <= f
    {
        errors.add("to", "“To” must be later than “From”");
    }
    Filters {
        filter: DeliveryFilter {
            webhook_id: Some(wid.clone()),
            status,
            event,
            since: from.as_ref().map(|f| f.0),
            until: to.as_ref().map(|t| t.0),
            search: given(q.q.as_deref()).map(search_term),
            ..DeliveryFilter::default()
        },
        from: from.map(|f| f.1).unwrap_or_default(),
        to: to.map(|t| t.1).unwrap_or_default(),
        errors,
    }
}

/// Where the next page of the log starts.
struct Next {
    part: Option<DeliveryStatus>,
    cursor: Option<String>,
}

/// One page of the log: one status as chosen, or failed, pending and succeeded in turn
/// (see the module's documentation).
async fn log_page(
    store: &dyn Store,
    signed: &Signed,
    filter: &DeliveryFilter,
    part: Option<&str>,
    cursor: Option<&str>,
) -> Result<(Vec<Delivery>, Option<Next>), PageError> {
    let request = |limit: u32, cursor: Option<&str>| {
        PageRequest::parse(Some(limit), cursor, DeliveryId::PREFIX)
            .map_err(|e| PageError::new(StatusCode::BAD_REQUEST, e.to_string()))
    };
    let ws = &signed.workspace_id;
    if filter.status.is_some() {
        let p = store.list_deliveries(ws, filter, &request(PAGE, cursor)?).await?;
        let next = p.next_cursor.map(|c| Next {
            part: None,
            cursor: Some(c),
        });
        return Ok((p.data, next));
    }
    let start = match given(part) {
        None => 0,
        Some(p) => DeliveryStatus::parse(p)
            .and_then(|s| PARTS.iter().position(|x| *x == s))
            .ok_or_else(|| {
                PageError::new(
                    StatusCode::BAD_REQUEST,
                    "the page link is not one this log made; open the webhook's page again",
                )
            })?,
    };
    let mut data: Vec<Delivery> = Vec::new();
    let mut cursor = cursor;
    for part in &PARTS[start..] {
        let of_part = DeliveryFilter {
            status: Some(*part),
            ..filter.clone()
        };
        let room = PAGE.saturating_sub(u32::try_from(data.len()).unwrap_or(PAGE));
        if room == 0 {
            // The page is full: the next one starts at the first later part with rows.
            let probe = store.list_deliveries(ws, &of_part, &PageRequest::first(1)).await?;
            if !probe.data.is_empty() {
                return Ok((
                    data,
                    Some(Next {
                        part: Some(*part),
                        cursor: None,
                    }),
                ));
            }
            continue;
        }
        let p = store.list_deliveries(ws, &of_part, &request(room, cursor)?).await?;
        cursor = None;
        data.extend(p.data);
        if let Some(c) = p.next_cursor {
            return Ok((
                data,
                Some(Next {
                    part: Some(*part),
                    cursor: Some(c),
                }),
            ));
        }
    }
    Ok((data, None))
}

/// A `<select>` option.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// What the recover and replay forms hold (kept when one is refused).
#[derive(Debug, Default, Clone, Deserialize)]
struct RangeForm {
    since: Option<String>,
    since_local: Option<String>,
    until: Option<String>,
    until_local: Option<String>,
}

#[derive(Template)]
#[template(path = "webhook_log.html")]
struct WebhookPage {
    chrome: Chrome,
    hook: HookSummary,
    statuses: Vec<Choice>,
    events: Vec<Choice>,
    /// The filter form's values as given.
    from: String,
    from_local: String,
    to: String,
    to_local: String,
    q: String,
    filtered: bool,
    rows: Vec<DeliveryRow>,
    /// The query of the next page's link.
    next: Option<String>,
    /// This page's own path and query (where a retry comes back to).
    here: String,
    notice: Option<String>,
    errors: FieldErrors,
    recover: RangeForm,
    replay: RangeForm,
}

/// The webhook's page, with `errors` of a refused form and its values.
async fn webhook_view(
    store: &dyn Store,
    signed: &Signed,
    id: &str,
    q: &LogQuery,
    forms: (RangeForm, RangeForm),
    mut errors: FieldErrors,
) -> Result<WebhookPage, PageError> {
    let wid = WebhookId::parse(id).map_err(|_| PageError::not_found("webhook", id))?;
    let hook = store
        .get_webhook(&signed.workspace_id, &wid)
        .await?
        .ok_or_else(|| PageError::not_found("webhook", id))?;
    let f = filters(&wid, q);
    let (deliveries, next) = if f.errors.is_empty() {
        log_page(store, signed, &f.filter, q.part.as_deref(), q.cursor.as_deref()).await?
    } else {
        (Vec::new(), None)
    };
    errors.0.extend(f.errors.0);
    let status = f.filter.status.map_or("", DeliveryStatus::as_str);
    let event = f.filter.event.map_or("", EventType::as_str);
    let search = given(q.q.as_deref()).unwrap_or_default();
    let filters = [
        ("status", status),
        ("event", event),
        ("from", f.from.as_str()),
        ("to", f.to.as_str()),
        ("q", search),
    ];
    let link = |part: &str, cursor: &str| {
        let mut pairs = filters.to_vec();
        pairs.extend([("part", part), ("cursor", cursor)]);
        query(&pairs)
    };
    let here = format!(
        "/webhooks/{}{}",
        hook.id,
        link(
            given(q.part.as_deref()).unwrap_or_default(),
            given(q.cursor.as_deref()).unwrap_or_default()
        )
    );
    let next = next.map(|n| {
        link(
            n.part.map_or("", DeliveryStatus::as_str),
            n.cursor.as_deref().unwrap_or_default(),
        )
    });
    let notice = notice(q);
    Ok(WebhookPage {
        chrome: Chrome::new(signed, "webhooks"),
        hook: HookSummary::of(&hook),
        statuses: [
            ("", "All, failed first"),
            ("failed", "Failed"),
            ("pending", "Pending"),
            ("succeeded", "Succeeded"),
        ]
        .into_iter()
        .map(|(value, label)| Choice {
            value,
            label,
            selected: value == status,
        })
        .collect(),
        events: std::iter::once(("", "Every event"))
            .chain(EventType::ALL.iter().map(|e| (e.as_str(), e.as_str())))
            .map(|(value, label)| Choice {
                value,
                label,
                selected: value == event,
            })
            .collect(),
        from: f.from.clone(),
        from_local: given(q.from_local.as_deref()).unwrap_or_default().to_owned(),
        to: f.to.clone(),
        to_local: given(q.to_local.as_deref()).unwrap_or_default().to_owned(),
        q: search.to_owned(),
        filtered: filters.iter().any(|(_, v)| !v.is_empty()),
        rows: rows(store, signed, deliveries).await?,
        next,
        here,
        notice,
        errors,
        recover: forms.0,
        replay: forms.1,
    })
}

/// The line shown after a form came back here.
fn notice(q: &LogQuery) -> Option<String> {
    let n: u64 = given(q.queued.as_deref()).and_then(|n| n.parse().ok()).unwrap_or(0);
    let plural = |n: u64, one: &str, many: &str| if n == 1 { one.to_owned() } else { format!("{n} {many}") };
    match given(q.done.as_deref())? {
        "recover" if n == 0 => Some("No failed deliveries in that time were left to recover.".into()),
        "recover" => Some(format!(
            "Queued {} again; they go out now.",
            plural(n, "1 failed delivery", "failed deliveries")
        )),
        "replay" if n == 0 => Some("No events in that range match this webhook's filters; nothing was queued.".into()),
        "replay" => Some(format!(
            "Queued {} for another delivery; they go out now.",
            plural(n, "1 event", "events")
        )),
        "retry" => Some("The delivery was queued for another attempt; it goes out now.".into()),
        _ => None,
    }
}

async fn webhook_page(
    State(store): StoreState,
    signed: Signed,
    Path(id): Path<String>,
    Query(q): Query<LogQuery>,
) -> PageResult {
    let page = webhook_view(&*store, &signed, &id, &q, Default::default(), FieldErrors::default()).await?;
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, render(&page)?).into_response())
}

/// Recover: every failed delivery since a time, queued again.
async fn recover(
    State(store): StoreState,
    State(settings): SettingsState,
    State(dispatcher): DispatcherState,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<RangeForm>,
) -> PageResult {
    let refuse = async |field: &'static str, message: String| -> PageResult {
        let mut errors = FieldErrors::default();
        errors.add(field, message);
        let forms = (form.clone(), RangeForm::default());
        let page = webhook_view(&*store, &signed, &id, &LogQuery::default(), forms, errors).await?;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
    };
    let wid = WebhookId::parse(&id).map_err(|_| PageError::not_found("webhook", &id))?;
    let Some(since) = form_time(form.since.as_deref(), form.since_local.as_deref()) else {
        return refuse(
            "recover_since",
            "choose the time to recover failed deliveries from".into(),
        )
        .await;
    };
    let range = match replay_range(&since, None) {
        Ok(r) => r,
        Err(e) => return refuse("recover_since", e.message).await,
    };
    let queued = queue_replay(&*store, &settings, &dispatcher, &signed.workspace_id, &wid, range, true).await?;
    Ok(Redirect::to(&format!("/webhooks/{wid}?done=recover&queued={queued}")).into_response())
}

/// Replay: every event of a range that the webhook's filters match, delivered again.
async fn replay(
    State(store): StoreState,
    State(settings): SettingsState,
    State(dispatcher): DispatcherState,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<RangeForm>,
) -> PageResult {
    let refuse = async |field: &'static str, message: String| -> PageResult {
        let mut errors = FieldErrors::default();
        errors.add(field, message);
        let forms = (RangeForm::default(), form.clone());
        let page = webhook_view(&*store, &signed, &id, &LogQuery::default(), forms, errors).await?;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
    };
    let wid = WebhookId::parse(&id).map_err(|_| PageError::not_found("webhook", &id))?;
    let Some(since) = form_time(form.since.as_deref(), form.since_local.as_deref()) else {
        return refuse("replay_since", "choose the time the range starts".into()).await;
    };
    let until = form_time(form.until.as_deref(), form.until_local.as_deref());
    let range = match replay_range(&since, until.as_deref()) {
        Ok(r) => r,
        Err(e) if e.field == "until" => return refuse("replay_until", e.message).await,
        Err(e) => return refuse("replay_since", e.message).await,
    };
    let queued = queue_replay(
        &*store,
        &settings,
        &dispatcher,
        &signed.workspace_id,
        &wid,
        range,
        false,
    )
    .await?;
    Ok(Redirect::to(&format!("/webhooks/{wid}?done=replay&queued={queued}")).into_response())
}

/// One attempt as the delivery page shows it.
pub struct AttemptRow {
    pub number: usize,
    /// The latest attempt (its request and response are shown open).
    pub last: bool,
    pub at: Time,
    pub status_code: Option<u16>,
    pub ok: bool,
    pub latency_ms: u32,
    pub error: Option<String>,
    pub notes: Option<String>,
    pub request: Option<RequestRow>,
    pub response_headers: Option<Vec<(String, String)>>,
    pub response_body: Option<String>,
}

/// An attempt's request as shown.
pub struct RequestRow {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Some header values were redacted.
    pub redacted: bool,
    /// The body, indented when it is JSON.
    pub body: String,
}

impl AttemptRow {
    fn of(number: usize, last: bool, a: Attempt) -> Self {
        Self {
            number,
            last,
            at: Time::of(a.attempted_at),
            ok: a.status_code.is_some_and(|c| (200..300).contains(&c)),
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            error: a.error,
            notes: a.notes,
            request: a.request.map(|r| RequestRow {
                redacted: r.headers.iter().any(|(_, v)| v == SentRequest::REDACTED)
                    || r.url.contains(SentRequest::REDACTED),
                method: r.method,
                url: r.url,
                headers: r.headers,
                body: pretty_json(&r.body),
            }),
            response_headers: a.response_headers,
            response_body: a.response_body.map(|b| pretty_json(&b)),
        }
    }
}

#[derive(Template)]
#[template(path = "deliveries_detail.html")]
struct DeliveryPage {
    chrome: Chrome,
    d: DeliveryRow,
    hook_name: String,
    attempts: Vec<AttemptRow>,
    notice: Option<String>,
    here: String,
}

#[derive(Debug, Default, Deserialize)]
struct DeliveryQuery {
    done: Option<String>,
}

async fn delivery_page(
    State(store): StoreState,
    signed: Signed,
    Path(id): Path<String>,
    Query(q): Query<DeliveryQuery>,
) -> PageResult {
    let did = DeliveryId::parse(&id).map_err(|_| PageError::not_found("delivery", &id))?;
    let (d, attempts) = store
        .get_delivery(&signed.workspace_id, &did)
        .await?
        .ok_or_else(|| PageError::not_found("delivery", &id))?;
    let hook_name = store
        .get_webhook(&signed.workspace_id, &d.webhook_id)
        .await?
        .map(|w| w.spec.name)
        .unwrap_or_default();
    let here = format!("/deliveries/{}", d.id);
    let row = rows(&*store, &signed, vec![d]).await?.pop();
    let d = row.ok_or_else(|| PageError::not_found("delivery", &id))?;
    let page = DeliveryPage {
        chrome: Chrome::new(&signed, "webhooks"),
        d,
        hook_name,
        attempts: {
            let n = attempts.len();
            attempts
                .into_iter()
                .enumerate()
                .map(|(i, a)| AttemptRow::of(i + 1, i + 1 == n, a))
                .collect()
        },
        notice: (given(q.done.as_deref()) == Some("retry"))
            .then(|| "Queued for another attempt; it goes out now. Reload to see it.".to_owned()),
        here,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Debug, Deserialize)]
struct RetryForm {
    /// The page to come back to (a path of this dashboard).
    back: Option<String>,
}

/// Retry one finished delivery now, then back to the page the button was on.
async fn retry(
    State(store): StoreState,
    State(dispatcher): DispatcherState,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<RetryForm>,
) -> PageResult {
    let d = crate::routes::deliveries::retry(&*store, &dispatcher, &signed.workspace_id, &id).await?;
    // Only a path of this dashboard: never another site.
    let back = given(form.back.as_deref())
        .filter(|b| {
            (b.starts_with("/webhooks/") || b.starts_with("/deliveries/")) && !b.contains("//") && !b.contains('\\')
        })
        .map_or_else(|| format!("/deliveries/{}", d.id), str::to_owned);
    let back = strip_param(&back, "done");
    let sep = if back.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!("{back}{sep}done=retry")).into_response())
}

/// `url` without its query parameter `name` (and without `queued`, which goes with it).
fn strip_param(url: &str, name: &str) -> String {
    let Some((path, q)) = url.split_once('?') else {
        return url.to_owned();
    };
    let kept: Vec<&str> = q
        .split('&')
        .filter(|p| {
            let key = p.split('=').next().unwrap_or_default();
            key != name && key != "queued"
        })
        .collect();
    if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_times_and_terms() {
        assert_eq!(
            form_time(Some("2026-01-02T03:04:05Z"), Some("x")).as_deref(),
            Some("2026-01-02T03:04:05Z")
        );
        assert_eq!(
            form_time(Some(" "), Some("2026-01-02T03:04")).as_deref(),
            Some("2026-01-02T03:04:00Z")
        );
        assert_eq!(form_time(None, Some("yesterday")).as_deref(), Some("yesterday"));
        assert_eq!(form_time(None, Some("")), None);
        assert_eq!(
            search_term("dlv_01arz3ndektsv4rrffq69g5fav"),
            "dlv_01ARZ3NDEKTSV4RRFFQ69G5FAV"
        );
        assert_eq!(
            search_term("call_01arz3ndektsv4rrffq69g5fav"),
            "call_01ARZ3NDEKTSV4RRFFQ69G5FAV"
        );
        assert_eq!(search_term("whatever"), "whatever");
        assert_eq!(
            strip_param("/webhooks/wh_1?done=retry&queued=2&q=a", "done"),
            "/webhooks/wh_1?q=a"
        );
        assert_eq!(strip_param("/deliveries/d?done=retry", "done"), "/deliveries/d");
    }
}
