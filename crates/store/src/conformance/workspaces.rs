//! The first start, workspaces and API keys.

use frontdesk_core::page::PageRequest;
use frontdesk_core::workspace::WorkspaceName;

use super::new_key;
use crate::{Store, StoreError};

/// A fresh store is migrated: migrating again applies nothing.
pub async fn migrate_again_applies_nothing(s: &dyn Store) {
    assert_eq!(s.migrate().await.expect("migrate again"), 0);
}

pub async fn bootstrap_happens_once(s: &dyn Store) {
    let b = s
        .bootstrap_if_empty(&new_key("bootstrap"))
        .await
        .expect("bootstrap_if_empty")
        .expect("first start bootstraps");
    assert_eq!(b.workspace.name, "default");
    assert_eq!(b.number.number, "+15550100000");
    assert!(
        s.bootstrap_if_empty(&new_key("again"))
            .await
            .expect("bootstrap_if_empty")
            .is_none()
    );
    assert_eq!(s.list_agents(&b.workspace.id).await.expect("list_agents").len(), 1);
    assert_eq!(s.list_numbers(&b.workspace.id).await.expect("list_numbers").len(), 1);
}

pub async fn workspace_names_are_unique(s: &dyn Store) {
    let name = WorkspaceName::parse("acme").expect("a valid WorkspaceName");
    s.create_workspace(&name).await.expect("create_workspace");
    assert!(matches!(s.create_workspace(&name).await, Err(StoreError::Conflict(_))));
    assert!(s.workspace_by_name(&name).await.expect("workspace_by_name").is_some());
}

pub async fn keys_page_newest_first_and_stay_in_their_workspace(s: &dyn Store) {
    let a = s
        .create_workspace(&WorkspaceName::parse("a").expect("a valid WorkspaceName"))
        .await
        .expect("create_workspace");
    let b = s
        .create_workspace(&WorkspaceName::parse("b").expect("a valid WorkspaceName"))
        .await
        .expect("create_workspace");
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            s.create_api_key(&a.id, &new_key(&format!("k{i}")))
                .await
                .expect("create_api_key")
                .id,
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let other = s
        .create_api_key(&b.id, &new_key("other"))
        .await
        .expect("create_api_key");
    let p1 = s
        .list_api_keys(Some(&a.id), &PageRequest::first(2))
        .await
        .expect("list_api_keys");
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
        .expect("list_api_keys");
    assert_eq!(p2.data.len(), 3);
    assert!(p2.next_cursor.is_none());
    assert!(s.get_api_key(&a.id, &other.id).await.expect("get_api_key").is_none());
    assert!(
        s.revoke_api_key(Some(&a.id), &other.id)
            .await
            .expect("revoke_api_key")
            .is_none()
    );
    let revoked = s
        .revoke_api_key(None, &other.id)
        .await
        .expect("revoke_api_key")
        .expect("revoke_api_key found it");
    assert!(revoked.is_revoked());
    let again = s
        .revoke_api_key(None, &other.id)
        .await
        .expect("revoke_api_key")
        .expect("revoke_api_key found it");
    assert_eq!(
        again.revoked_at, revoked.revoked_at,
        "revoking twice keeps the first time"
    );
}
