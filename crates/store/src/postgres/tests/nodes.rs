//! Several nodes on one database: two stores, each with its own pool, calling at once
//! on a multi-threaded runtime, so their statements really interleave in PostgreSQL
//! (the conformance suite's concurrency tests run on one store).

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{Duration, Utc};
use frontdesk_core::agent::{NumberVoice, Provider};
use frontdesk_core::call::{CallStatus, Direction};
use frontdesk_core::event::EventType;
use frontdesk_core::page::PageRequest;
use frontdesk_core::webhook::WebhookSecret;

use super::TestDb;
use crate::conformance::{agent, call, event, event_about, hook_spec, insert, new_key, workspace};
use crate::postgres::PgStore;
use crate::{
    Agents, Bootstrap, CallWrite, Calls, Deliveries, EventFilter, Events, Idempotency, IdempotencyBegin, Maintenance,
    Numbers, StoreError, Webhooks,
};

/// Two migrated stores (two nodes) on a fresh database, and its guard.
async fn two_nodes() -> Option<(Arc<PgStore>, Arc<PgStore>, TestDb)> {
    let db = TestDb::create().await?;
    let a = Arc::new(db.migrated().await);
    let b = Arc::new(db.store().await);
    Some((a, b, db))
}

/// Migrations: two nodes migrating an empty database at once apply each migration once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_migrating_at_once_apply_each_migration_once() {
    let Some(db) = TestDb::create().await else { return };
    let (a, b) = (db.store().await, db.store().await);
    let (x, y) = tokio::join!(a.migrate(), b.migrate());
    let total = x.expect("migrate") + y.expect("migrate");
    assert_eq!(total, super::super::MIGRATOR.iter().count());
    assert_eq!(a.migrate().await.expect("migrate again"), 0);
}

/// `bootstrap_if_empty`: of nodes starting at once, one bootstraps.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_starting_at_once_bootstrap_once() {
    let Some((a, b, _db)) = two_nodes().await else { return };
    let (k1, k2, k3) = (new_key("one"), new_key("two"), new_key("three"));
    let (x, y, z) = tokio::join!(
        a.bootstrap_if_empty(&k1),
        b.bootstrap_if_empty(&k2),
        b.bootstrap_if_empty(&k3)
    );
    let made = [x.expect("bootstrap"), y.expect("bootstrap"), z.expect("bootstrap")];
    assert_eq!(made.iter().filter(|m| m.is_some()).count(), 1);
    let ws = crate::Workspaces::list_workspaces(&*b).await.expect("list_workspaces");
    assert_eq!(ws.len(), 1);
    assert_eq!(b.list_numbers(&ws[0].id).await.expect("list_numbers").len(), 1);
}

/// `claim_deliveries`: claimers on two nodes, many at once, get disjoint sets, and
/// together every delivery once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claims_on_two_nodes_are_disjoint() {
    let Some((a, b, _db)) = two_nodes().await else { return };
    let ws = workspace(&*a, "a").await;
    a.create_webhook(&ws, &hook_spec(), &WebhookSecret::generate())
        .await
        .expect("create_webhook");
    let events: Vec<_> = (0..300).map(|_| event(EventType::CallEnded)).collect();
    a.record_events(&ws, &events, 3, (Utc::now(), 0))
        .await
        .expect("record_events");
    let now = Utc::now();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let node = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = node
                    .claim_deliveries(now, Duration::seconds(60), 7)
                    .await
                    .expect("claim_deliveries");
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|d| d.id));
            }
        }));
    }
    let mut seen = HashSet::new();
    for t in tasks {
        for id in t.await.expect("claimer") {
            assert!(seen.insert(id.clone()), "{id} leased twice");
        }
    }
    assert_eq!(seen.len(), 300, "every delivery leased once");
}

/// `save_call`: two nodes updating one call on the same version, round after round:
/// exactly one wins each time, and only the winner's events are written.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn call_updates_on_two_nodes_one_wins() {
    let Some((a, b, _db)) = two_nodes().await else { return };
    let ws = workspace(&*a, "a").await;
    let ag = agent(&*a, &ws, "ag").await;
    let mut c = call(&ws, &ag.id, Direction::Inbound, "+15551234567", "+15550100000");
    insert(&*a, &c).await;
    let rounds = 20;
    for round in 0..rounds {
        let mut one = c.clone();
        one.status = CallStatus::InProgress;
        one.purpose = Some(format!("a{round}"));
        let mut two = c.clone();
        two.purpose = Some(format!("b{round}"));
        let (ws1, ws2) = (ws.clone(), ws.clone());
        let (n1, n2) = (a.clone(), b.clone());
        let (e1, e2) = (
            vec![event_about(&one, EventType::CallAnswered)],
            vec![event_about(&two, EventType::CallAnswered)],
        );
        let (c1, c2) = (one.clone(), two.clone());
        let x = tokio::spawn(async move {
            n1.save_call(&ws1, CallWrite::Update(&c1), &e1, 3, (Utc::now(), 0))
                .await
        });
        let y = tokio::spawn(async move {
            n2.save_call(&ws2, CallWrite::Update(&c2), &e2, 3, (Utc::now(), 0))
                .await
        });
        let winner = match (x.await.expect("task"), y.await.expect("task")) {
            (Ok(_), Err(StoreError::Conflict(_))) => one,
            (Err(StoreError::Conflict(_)), Ok(_)) => two,
            other => panic!("round {round}: exactly one update wins: {other:?}"),
        };
        let stored = b.get_call(&ws, &c.id).await.expect("get_call").expect("found");
        assert_eq!(stored.version, c.version + 1);
        assert_eq!(stored.purpose, winner.purpose);
        c = stored;
    }
    let events = a
        .list_events(&ws, &EventFilter::default(), &PageRequest::first(100))
        .await
        .expect("list_events");
    assert_eq!(events.data.len(), rounds, "only the winners' events");
}

/// `idempotency_begin`: begins on two nodes at once start the request once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idempotency_begins_on_two_nodes_start_once() {
    let Some((a, b, _db)) = two_nodes().await else { return };
    let ws = workspace(&*a, "a").await;
    let (ttl, stale) = (Duration::hours(24), Duration::minutes(1));
    for (round, at) in [Utc::now(), Utc::now() + Duration::hours(25)].into_iter().enumerate() {
        let mut tasks = Vec::new();
        for i in 0..8 {
            let node = if i % 2 == 0 { a.clone() } else { b.clone() };
            let ws = ws.clone();
            tasks.push(tokio::spawn(async move {
                node.idempotency_begin(&ws, "k", "d", at, ttl, stale).await
            }));
        }
        let mut started = 0;
        for t in tasks {
            match t.await.expect("task").expect("idempotency_begin") {
                IdempotencyBegin::Started => started += 1,
                IdempotencyBegin::InProgress => {}
                other => panic!("round {round}: {other:?}"),
            }
        }
        assert_eq!(started, 1, "round {round}: exactly one starts");
    }
}

/// `delete_agent` against `create_number` on another node: never a number routing to a
/// deleted agent.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agent_deletes_and_number_creates_on_two_nodes_never_leave_a_dangling_number() {
    let Some((a, b, _db)) = two_nodes().await else { return };
    let ws = workspace(&*a, "a").await;
    for round in 0..20 {
        let ag = agent(&*a, &ws, "ag").await;
        let number = format!("+1555000{round:04}");
        let (na, nb) = (a.clone(), b.clone());
        let (w1, w2, id1, id2) = (ws.clone(), ws.clone(), ag.id.clone(), ag.id.clone());
        let del = tokio::spawn(async move { na.delete_agent(&w1, &id1).await });
        let add = tokio::spawn(async move {
            nb.create_number(&w2, &number, &id2, Provider::Sim, NumberVoice::default())
                .await
        });
        match (del.await.expect("task"), add.await.expect("task")) {
            (Ok(true), Err(StoreError::NotFound(_))) | (Err(StoreError::Conflict(_)), Ok(_)) => {}
            other => panic!("round {round}: one of them fails: {other:?}"),
        }
    }
    for n in a.list_numbers(&ws).await.expect("list_numbers") {
        assert!(
            a.get_agent(&ws, &n.agent_id).await.expect("get_agent").is_some(),
            "{} routes to a deleted agent",
            n.number
        );
    }
}

/// `purge_before`: passes on two nodes at once purge each call and event once (the
/// counts add up).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn purges_on_two_nodes_count_each_record_once() {
    let Some((a, b, _db)) = two_nodes().await else { return };
    let ws = workspace(&*a, "a").await;
    let ag = agent(&*a, &ws, "ag").await;
    for _ in 0..40 {
        let mut c = call(&ws, &ag.id, Direction::Inbound, "+15551234567", "+15550100000");
        c.status = CallStatus::Completed;
        c.ended_at = Some(Utc::now());
        let ended = event_about(&c, EventType::CallEnded);
        a.save_call(&ws, CallWrite::Insert(&c), &[ended], 3, (Utc::now(), 0))
            .await
            .expect("save_call");
    }
    let cutoff = Utc::now() + Duration::minutes(1);
    let (mut calls, mut events) = (0, 0);
    loop {
        let (x, y) = tokio::join!(a.purge_before(cutoff, 7), b.purge_before(cutoff, 7));
        let (x, y) = (x.expect("purge_before"), y.expect("purge_before"));
        calls += x.calls + y.calls;
        events += x.events + y.events;
        if x == crate::Purged::default() && y == crate::Purged::default() {
            break;
        }
    }
    assert_eq!((calls, events), (40, 40));
}

/// A webhook deleted on one node while another records attempts of its deliveries and
/// records new events: nothing fails (attempts of deleted deliveries are skipped; new
/// events get deliveries or not, never a dangling one).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_webhook_deleted_on_another_node_fails_no_write() {
    let Some((a, b, _db)) = two_nodes().await else { return };
    let ws = workspace(&*a, "a").await;
    for round in 0..10 {
        let hook = a
            .create_webhook(&ws, &hook_spec(), &WebhookSecret::generate())
            .await
            .expect("create_webhook");
        let events: Vec<_> = (0..20).map(|_| event(EventType::CallEnded)).collect();
        let leased = a
            .record_events(&ws, &events, 3, (Utc::now() + Duration::seconds(30), 20))
            .await
            .expect("record_events")
            .leased;
        let results: Vec<_> = leased
            .iter()
            .map(|d| crate::AttemptResult {
                delivery_id: d.id.clone(),
                webhook_id: d.webhook.id.clone(),
                attempt: crate::conformance::attempt(500),
                next: crate::NextStep::RetryAt(Utc::now()),
                health: crate::WebhookHealth::Failing,
            })
            .collect();
        let (na, nb, nc) = (a.clone(), b.clone(), a.clone());
        let (w1, w2) = (ws.clone(), ws.clone());
        let more: Vec<_> = (0..5).map(|_| event(EventType::CallAnswered)).collect();
        let record = tokio::spawn(async move { na.record_attempts(&results, Utc::now()).await });
        let delete = tokio::spawn(async move { nb.delete_webhook(&w1, &hook.id).await });
        let events = tokio::spawn(async move { nc.record_events(&w2, &more, 3, (Utc::now(), 0)).await });
        record
            .await
            .expect("task")
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert!(delete.await.expect("task").expect("delete_webhook"));
        events
            .await
            .expect("task")
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
    }
}

/// New work recorded on one node and leased to nobody wakes the other node's dispatcher
/// at once (`LISTEN`/`NOTIFY`), rather than at its next periodic claim.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn new_work_on_one_node_wakes_the_other() {
    use crate::Coordination;
    let Some((a, b, _db)) = two_nodes().await else { return };
    let ws = workspace(&*a, "acme").await;
    a.create_webhook(&ws, &hook_spec(), &WebhookSecret::generate())
        .await
        .expect("webhook");
    let signal = b.new_work().expect("a node on PostgreSQL hears of new work");
    // The listener connects in the background; give it a moment, then record on A with
    // nothing leased to A.
    let mut woken = false;
    for _ in 0..50 {
        let wait = signal.notified();
        let now = Utc::now();
        a.record_events(&ws, &[event(EventType::CallEnded)], 3, (now + Duration::seconds(30), 0))
            .await
            .expect("record");
        if tokio::time::timeout(std::time::Duration::from_millis(200), wait)
            .await
            .is_ok()
        {
            woken = true;
            break;
        }
    }
    assert!(woken, "node B heard of node A's new deliveries");
    // And B can claim them.
    let claimed = b
        .claim_deliveries(Utc::now(), Duration::seconds(30), 100)
        .await
        .expect("claim");
    assert!(!claimed.is_empty());
}
