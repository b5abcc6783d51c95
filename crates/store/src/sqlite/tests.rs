//! Store behaviour against a real SQLite file.

use chrono::{Duration, Utc};
use frontdesk_core::api_key::{ApiKeyName, ApiKeySecret};
use frontdesk_core::page::PageRequest;
use frontdesk_core::workspace::WorkspaceName;

use super::SqliteStore;
use crate::{IdempotencyBegin, NewApiKey, Store, StoreError, StoredResponse};

async fn store() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/nested/fd.db", dir.path().display());
    let s = SqliteStore::open(&url).await.expect("open");
    assert_eq!(s.migrate().await.expect("migrate"), 1);
    assert_eq!(s.migrate().await.expect("migrate again"), 0);
    (s, dir)
}

fn new_key(name: &str) -> NewApiKey {
    NewApiKey::new(&ApiKeyName::parse(name).unwrap(), &ApiKeySecret::generate())
}

#[tokio::test]
async fn bootstrap_happens_once() {
    let (s, _d) = store().await;
    let b = s
        .bootstrap_if_empty(&new_key("bootstrap"))
        .await
        .unwrap()
        .expect("first start bootstraps");
    assert_eq!(b.workspace.name, "default");
    assert_eq!(b.number.number, "+15550100000");
    assert!(s.bootstrap_if_empty(&new_key("again")).await.unwrap().is_none());
    assert_eq!(s.list_agents(&b.workspace.id).await.unwrap().len(), 1);
    assert_eq!(s.list_numbers(&b.workspace.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn workspace_names_are_unique() {
    let (s, _d) = store().await;
    let name = WorkspaceName::parse("acme").unwrap();
    s.create_workspace(&name).await.unwrap();
    assert!(matches!(s.create_workspace(&name).await, Err(StoreError::Conflict(_))));
    assert!(s.workspace_by_name(&name).await.unwrap().is_some());
}

#[tokio::test]
async fn keys_page_newest_first_and_stay_in_their_workspace() {
    let (s, _d) = store().await;
    let a = s.create_workspace(&WorkspaceName::parse("a").unwrap()).await.unwrap();
    let b = s.create_workspace(&WorkspaceName::parse("b").unwrap()).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(s.create_api_key(&a.id, &new_key(&format!("k{i}"))).await.unwrap().id);
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let other = s.create_api_key(&b.id, &new_key("other")).await.unwrap();
    let p1 = s.list_api_keys(Some(&a.id), &PageRequest::first(2)).await.unwrap();
    assert_eq!(
        p1.data.iter().map(|k| k.id.clone()).collect::<Vec<_>>(),
        vec![ids[4].clone(), ids[3].clone()]
    );
    let p2 = s
        .list_api_keys(
            Some(&a.id),
            &PageRequest {
                limit: 10,
                before_id: p1.next_cursor.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(p2.data.len(), 3);
    assert!(p2.next_cursor.is_none());
    assert!(s.get_api_key(&a.id, &other.id).await.unwrap().is_none());
    assert!(s.revoke_api_key(Some(&a.id), &other.id).await.unwrap().is_none());
    let revoked = s.revoke_api_key(None, &other.id).await.unwrap().unwrap();
    assert!(revoked.is_revoked());
    let again = s.revoke_api_key(None, &other.id).await.unwrap().unwrap();
    assert_eq!(
        again.revoked_at, revoked.revoked_at,
        "revoking twice keeps the first time"
    );
}

#[tokio::test]
async fn idempotency_lifecycle() {
    let (s, _d) = store().await;
    let ws = s.create_workspace(&WorkspaceName::parse("a").unwrap()).await.unwrap();
    let now = Utc::now();
    let (ttl, stale) = (Duration::hours(24), Duration::minutes(1));
    assert_eq!(
        s.idempotency_begin(&ws.id, "k", "d1", now, ttl, stale).await.unwrap(),
        IdempotencyBegin::Started
    );
    assert_eq!(
        s.idempotency_begin(&ws.id, "k", "d1", now, ttl, stale).await.unwrap(),
        IdempotencyBegin::InProgress
    );
    assert_eq!(
        s.idempotency_begin(&ws.id, "k", "d2", now, ttl, stale).await.unwrap(),
        IdempotencyBegin::Mismatch
    );
    let resp = StoredResponse {
        status: 201,
        content_type: Some("application/json".into()),
        body: b"{}".to_vec(),
    };
    s.idempotency_complete(&ws.id, "k", &resp).await.unwrap();
    assert_eq!(
        s.idempotency_begin(&ws.id, "k", "d1", now, ttl, stale).await.unwrap(),
        IdempotencyBegin::Completed(resp)
    );
    // A day later the key is free again.
    let later = now + Duration::hours(25);
    assert_eq!(
        s.idempotency_begin(&ws.id, "k", "d2", later, ttl, stale).await.unwrap(),
        IdempotencyBegin::Started
    );
    // An abandoned in-progress record is taken over after `stale`.
    assert_eq!(
        s.idempotency_begin(&ws.id, "j", "d", now, ttl, stale).await.unwrap(),
        IdempotencyBegin::Started
    );
    let soon = now + Duration::minutes(2);
    assert_eq!(
        s.idempotency_begin(&ws.id, "j", "d", soon, ttl, stale).await.unwrap(),
        IdempotencyBegin::Started
    );
    assert_eq!(s.idempotency_prune(later + Duration::seconds(1)).await.unwrap(), 2);
}
