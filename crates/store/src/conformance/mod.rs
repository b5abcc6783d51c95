//! The conformance suite: the store contract as tests, one plain async function per
//! behaviour, run against any [`Store`].
//!
//! Each backend runs the whole suite with [`conformance_tests!`](crate::conformance_tests),
//! given a way to make a fresh, migrated, empty store:
//!
//! ```ignore
//! frontdesk_store::conformance_tests!(|| async {
//!     let dir = tempfile::tempdir().expect("tempdir");
//!     let store = open_fresh_store(&dir).await;
//!     (store, dir) // an Arc<dyn Store>, and whatever must live as long as the test
//! });
//! ```
//!
//! which expands to one `#[tokio::test]` per behaviour (the caller needs `tokio` with
//! its `macros` feature). A backend that needs a server the machine may not have returns
//! `Option<(store, guard)>` instead ([`Fresh`]): `None` skips the test, after the closure
//! has said why. Backend-specific tests (files on disk, raw SQL) stay with the
//! backend. A new behaviour is a `pub async fn name(s: &dyn Store)` in a module here,
//! re-exported below and named in the macro's list.
//!
//! Compiled for this crate's tests, or for other crates with the `conformance` feature.

mod attempts;
mod calls;
mod concurrency;
mod coordination;
mod documents;
mod health;
mod idempotency;
mod queue;
mod rate_limits;
mod reports;
mod retention;
mod users;
mod workspaces;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use frontdesk_core::agent::{Agent, Provider};
use frontdesk_core::api_key::{ApiKeyName, ApiKeySecret};
use frontdesk_core::call::{Call, CallStatus, CallerInfo, Direction};
use frontdesk_core::event::{Business, EventType, NewEvent, sample_call_ended_data};
use frontdesk_core::id::{AgentId, CallId, WorkspaceId};
use frontdesk_core::webhook::{HttpMethod, WebhookSpec};
use frontdesk_core::workspace::WorkspaceName;
use serde_json::{Map, json};

pub use self::attempts::*;
pub use self::calls::*;
pub use self::concurrency::*;
pub use self::coordination::*;
pub use self::documents::*;
pub use self::health::*;
pub use self::idempotency::*;
pub use self::queue::*;
pub use self::rate_limits::*;
pub use self::reports::*;
pub use self::retention::*;
pub use self::users::*;
pub use self::workspaces::*;
use crate::{Attempt, CallWrite, NewApiKey, Store};

/// Expands to one `#[tokio::test]` per behaviour of the suite, each on a fresh store.
///
/// `$fresh` is a closure (called once per test) returning a future of
/// `(store, guard)`: `store` an `Arc<dyn Store>` (or anything that derefs to
/// `dyn Store`), `guard` whatever must outlive the test (a temporary folder, a
/// database to drop); or of `Option<(store, guard)>`, where `None` skips the test.
#[macro_export]
macro_rules! conformance_tests {
    ($fresh:expr) => {
        $crate::conformance_tests!(@each $fresh;
            migrate_again_applies_nothing,
            bootstrap_happens_once,
            workspace_names_are_unique,
            keys_page_newest_first_and_stay_in_their_workspace,
            idempotency_lifecycle,
            events_queue_deliveries_for_matching_webhooks_and_leases_hold,
            a_deleted_webhook_does_not_spoil_the_batch,
            recording_can_lease_to_the_caller,
            replay_covers_old_events_and_failed_only,
            agents_crud_and_a_routed_agent_cannot_be_deleted,
            numbers_are_unique_route_to_own_agents_and_can_be_re_pointed,
            calls_insert_update_and_refuse_stale_versions,
            a_call_and_its_events_are_written_together_or_not_at_all,
            calls_list_by_filter_newest_first,
            call_json_round_trips_in_order,
            calls_search_finds_caller_and_transcript_text,
            numbers_carry_their_voice_settings,
            credentials_are_one_per_workspace_and_found_by_account,
            stale_live_calls_and_calls_by_id,
            retention_removes_contents_and_old_events_and_keeps_outcomes,
            webhook_health_follows_the_core_rules,
            events_route_as_the_core_rules_say,
            concurrent_bootstraps_happen_once,
            concurrent_workspace_creates_one_wins,
            concurrent_idempotency_begins_start_once,
            concurrent_call_updates_one_wins,
            concurrent_claims_lease_each_delivery_once,
            concurrent_retries_one_wins,
            concurrent_revokes_keep_one_time,
            named_locks_have_one_holder,
            rate_budgets_are_shared_and_atomic,
            users_have_unique_names_and_count_wrong_passwords,
            sessions_live_while_used,
            activity_is_the_workspaces_own_since_a_time,
            documents_belong_to_their_agent_and_go_with_it,
            attempts_keep_their_request_and_response,
            deliveries_filter_by_time_and_search,
        );
    };
    (@each $fresh:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let Some((store, _guard)) = $crate::conformance::Fresh::fresh(($fresh)().await) else {
                    return;
                };
                $crate::conformance::$name(&*store).await;
            }
        )*
    };
}

/// What a backend's closure gives [`conformance_tests!`](crate::conformance_tests): a
/// fresh store and its guard, or (`Option`) perhaps nothing, to skip the test.
pub trait Fresh {
    type Store;
    type Guard;
    fn fresh(self) -> Option<(Self::Store, Self::Guard)>;
}

impl<S, G> Fresh for (S, G) {
    type Store = S;
    type Guard = G;
    fn fresh(self) -> Option<(S, G)> {
        Some(self)
    }
}

impl<S, G> Fresh for Option<(S, G)> {
    type Store = S;
    type Guard = G;
    fn fresh(self) -> Option<(S, G)> {
        self
    }
}

/// A key to store, named `name`.
pub fn new_key(name: &str) -> NewApiKey {
    NewApiKey::new(
        &ApiKeyName::parse(name).expect("a valid ApiKeyName"),
        &ApiKeySecret::generate(),
    )
}

/// A webhook configuration for these events and numbers (empty: all).
pub fn spec(events: Vec<EventType>, numbers: Vec<&str>) -> WebhookSpec {
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

/// A `kind` event about the sample call.
pub fn event(kind: EventType) -> NewEvent {
    NewEvent::new(kind, sample_call_ended_data(), &Business::default(), Utc::now())
}

/// An attempt answered with `code`, with its request and response as the dispatcher
/// logs them.
pub fn attempt(code: u16) -> Attempt {
    Attempt {
        attempted_at: now(),
        status_code: Some(code),
        latency_ms: 3,
        response_body: Some("{\"ok\": true}".into()),
        error: (code >= 300).then(|| format!("the endpoint answered HTTP {code}")),
        notes: None,
        request: Some(sent_request()),
        response_headers: Some(vec![
            ("content-type".into(), "application/json".into()),
            ("set-cookie".into(), "a=1".into()),
            ("set-cookie".into(), "b=2".into()),
        ]),
    }
}

/// Now, at the millisecond precision the database keeps.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).expect("present")
}

/// Ids sort by creation time only across milliseconds.
pub fn tick() {
    std::thread::sleep(std::time::Duration::from_millis(2));
}

/// A new workspace named `name`.
pub async fn workspace(s: &dyn Store, name: &str) -> WorkspaceId {
    s.create_workspace(&WorkspaceName::parse(name).expect("a valid WorkspaceName"))
        .await
        .expect("create_workspace")
        .id
}

/// A new rules agent named `name`.
pub async fn agent(s: &dyn Store, ws: &WorkspaceId, name: &str) -> Agent {
    s.create_agent(ws, name, &json!({"name": name, "brain": "rules"}))
        .await
        .expect("create_agent")
}

/// A new ringing sim call, version 0, started now.
pub fn call(ws: &WorkspaceId, agent: &AgentId, direction: Direction, from: &str, to: &str) -> Call {
    let at = now();
    Call {
        id: CallId::generate(),
        workspace_id: ws.clone(),
        agent_id: agent.clone(),
        direction,
        status: CallStatus::Ringing,
        from: from.into(),
        to: to.into(),
        provider: Provider::Sim,
        provider_call_id: None,
        caller: CallerInfo::default(),
        call_type: None,
        custom_fields: Map::new(),
        message: None,
        transferred_to: None,
        ai_summary: None,
        turns: Vec::new(),
        purpose: None,
        end_reason: None,
        tool_calls: Vec::new(),
        session: json!({}),
        version: 0,
        started_at: at,
        answered_at: None,
        ended_at: None,
        updated_at: at,
        provider_details: Map::new(),
        duration: None,
        purged_at: None,
    }
}

/// Stores a new call, with no events.
pub async fn insert(s: &dyn Store, c: &Call) {
    s.save_call(&c.workspace_id, CallWrite::Insert(c), &[], 3, (Utc::now(), 0))
        .await
        .expect("save_call");
}

/// A `kind` event about `c`.
pub fn event_about(c: &Call, kind: EventType) -> NewEvent {
    NewEvent::new(
        kind,
        c.event_data(Utc::now(), Map::new()),
        &Business::default(),
        Utc::now(),
    )
}

/// The calls' ids, in order.
pub fn ids(calls: &[Call]) -> Vec<CallId> {
    calls.iter().map(|c| c.id.clone()).collect()
}

/// A webhook configuration for every event and number.
pub fn hook_spec() -> WebhookSpec {
    WebhookSpec {
        name: "crm".into(),
        url: "https://crm.example/hook".into(),
        events: vec![],
        method: HttpMethod::Post,
        headers: BTreeMap::new(),
        body_template: None,
        numbers: vec![],
        active: true,
    }
}
