//! Migrations under running nodes: the newest migration is applied while a node of the
//! previous level keeps serving (migrations are additive first: a node never needs a
//! table, column or constraint that a later migration removes or changes).

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use chrono::{Duration, Utc};
use frontdesk_core::event::EventType;
use frontdesk_core::page::PageRequest;
use frontdesk_core::webhook::WebhookSecret;

use super::TestDb;
use crate::conformance::{event, hook_spec, workspace};
use crate::{Bootstrap, Deliveries, EventFilter, Events, RateLimits, Webhooks};

/// Every migration but the newest: the level the previous release ran at (which, like
/// every release, ignores applied migrations it does not know).
fn previous_level() -> sqlx::migrate::Migrator {
    let all = &super::super::MIGRATOR.migrations;
    sqlx::migrate::Migrator {
        migrations: Cow::Owned(all[..all.len() - 1].to_vec()),
        ignore_missing: true,
        ..sqlx::migrate::Migrator::DEFAULT
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_newest_migration_applies_under_a_running_node() {
    let Some(db) = TestDb::create().await else { return };
    let old = Arc::new(db.store().await);
    previous_level().run(&old.pool).await.expect("the previous level");
    let ws = workspace(&*old, "acme").await;
    old.create_webhook(&ws, &hook_spec(), &WebhookSecret::generate())
        .await
        .expect("webhook");

    // The old node serves: events in, deliveries claimed and recorded, in a loop.
    let stop = Arc::new(AtomicBool::new(false));
    let (done, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let serving = {
        let (old, stop, done, failed, ws) = (old.clone(), stop.clone(), done.clone(), failed.clone(), ws.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let now = Utc::now();
                let ok = old
                    .record_events(&ws, &[event(EventType::CallEnded)], 3, (now + Duration::seconds(30), 0))
                    .await
                    .is_ok()
                    && old.claim_deliveries(now, Duration::seconds(30), 10).await.is_ok()
                    && old.queue_stats().await.is_ok();
                if ok {
                    done.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    while done.load(Ordering::Relaxed) < 20 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // A node of the new level starts and migrates, the old one still serving.
    let new = db.store().await;
    assert_eq!(new.migrate().await.expect("the newest migration"), 1);
    let before = done.load(Ordering::Relaxed);
    while done.load(Ordering::Relaxed) < before + 20 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    stop.store(true, Ordering::Relaxed);
    serving.await.expect("the old node's loop");
    assert_eq!(failed.load(Ordering::Relaxed), 0, "the old node kept serving");
    // A node of the previous level that restarts now (a rolling deploy, a rollback)
    // migrates to its own level: nothing to do, and it starts.
    previous_level()
        .run(&old.pool)
        .await
        .expect("an older node starts on the newer schema");
    // The new level's feature works on both.
    for s in [&*old, &new] {
        let t = s
            .take_rate("key_1:s", Utc::now(), 5, Duration::seconds(1))
            .await
            .expect("rate budgets");
        assert!(t.allowed);
    }
    let page = PageRequest::parse(None, None, "evt").expect("page");
    assert!(old.list_events(&ws, &EventFilter::default(), &page).await.is_ok());
}
