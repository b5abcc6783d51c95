//! Secrets at rest: sealed on the way in with a key, sealed at start when stored in
//! clear before the key was set, unreadable (and reported) with no key or another key.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use frontdesk_core::secret::MasterKey;
use frontdesk_core::webhook::{HttpMethod, WebhookSecret, WebhookSpec};
use frontdesk_core::workspace::WorkspaceName;
use serde_json::json;

use super::super::SqliteStore;
use crate::{
    Agents, Bootstrap, Idempotency, IdempotencyBegin, Maintenance, SealReport, Secrets, StoreError, StoredResponse,
    Webhooks, Workspaces,
};

const CRM_TOKEN: &str = "Bearer crm-token-0b1c2d3e";
const TOOL_TOKEN: &str = "Bearer tool-token-4f5a6b7c";
const KEPT: &str = "fd_live_kept0123456789abcdefghijklmnopqrstu";

fn key(k: &str) -> Secrets {
    Secrets::new(Some(Arc::new(MasterKey::new(k).unwrap())))
}

async fn open(url: &str, secrets: Secrets) -> SqliteStore {
    let s = SqliteStore::open(url, secrets).await.unwrap();
    s.migrate().await.unwrap();
    s
}

fn files_hold(dir: &std::path::Path, clear: &str) -> bool {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .any(|e| std::fs::read(e.path()).is_ok_and(|b| b.windows(clear.len()).any(|w| w == clear.as_bytes())))
}

#[tokio::test]
async fn clear_secrets_are_sealed_when_a_key_comes_and_unreadable_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/fd.db", dir.path().display());
    let clear = open(&url, Secrets::default()).await;
    let ws = clear
        .create_workspace(&WorkspaceName::parse("acme").unwrap())
        .await
        .unwrap()
        .id;
    let secret = WebhookSecret::generate();
    let spec = WebhookSpec {
        name: "crm".into(),
        url: "https://crm.example/hook".into(),
        events: vec![],
        method: HttpMethod::Post,
        headers: BTreeMap::from([("Authorization".to_owned(), CRM_TOKEN.to_owned())]),
        body_template: None,
        numbers: vec![],
        active: true,
    };
    let hook = clear.create_webhook(&ws, &spec, &secret).await.unwrap();
    let config = json!({"name": "a", "tools": [{"tool_name": "crm", "headers": {"Authorization": TOOL_TOKEN}}]});
    let agent = clear.create_agent(&ws, "a", &config).await.unwrap();
    let now = Utc::now();
    let day = chrono::Duration::days(1);
    assert!(matches!(
        clear.idempotency_begin(&ws, "k", "d", now, day, day).await.unwrap(),
        IdempotencyBegin::Started
    ));
    let response = StoredResponse {
        status: 201,
        content_type: Some("application/json".into()),
        body: format!(r#"{{"key":"{KEPT}"}}"#).into_bytes(),
    };
    clear.idempotency_complete(&ws, "k", &response).await.unwrap();
    // No key: everything is in clear, and said to be.
    let report = clear.seal_secrets().await.unwrap();
    assert_eq!(
        report,
        SealReport {
            sealed_now: 0,
            unreadable: 0,
            clear: 4
        }
    );
    assert!(files_hold(dir.path(), "crm-token-0b1c2d3e"));

    // A key is set: everything is sealed at start, once, and still reads the same.
    let keyed = open(&url, key("the-master-key-0123456789abcdef0123")).await;
    let report = keyed.seal_secrets().await.unwrap();
    assert_eq!((report.sealed_now, report.unreadable, report.clear), (4, 0, 0));
    assert_eq!(keyed.seal_secrets().await.unwrap(), SealReport::default());
    let got = keyed.get_webhook(&ws, &hook.id).await.unwrap().unwrap();
    assert_eq!(got.secret, secret);
    assert_eq!(got.spec.headers["Authorization"], CRM_TOKEN);
    let got = keyed.get_agent(&ws, &agent.id).await.unwrap().unwrap();
    assert_eq!(got.config, config);
    let IdempotencyBegin::Completed(kept) = keyed.idempotency_begin(&ws, "k", "d", now, day, day).await.unwrap() else {
        panic!("the response is kept");
    };
    assert_eq!(kept.body, response.body);
    // ...and nothing of them is left in the files.
    for clear in ["crm-token-0b1c2d3e", "tool-token-4f5a6b7c", KEPT, secret.expose()] {
        assert!(!files_hold(dir.path(), clear), "{clear} is still on disk");
    }

    // Another key, or none: unreadable, and reported so the server refuses to start.
    let other = open(&url, key("another-master-key-of-enough-length!!")).await;
    assert_eq!(other.seal_secrets().await.unwrap().unreadable, 4);
    assert!(matches!(
        other.get_webhook(&ws, &hook.id).await,
        Err(StoreError::Secret(_))
    ));
    let none = open(&url, Secrets::default()).await;
    assert_eq!(none.seal_secrets().await.unwrap().unreadable, 4);
    assert!(matches!(
        none.get_agent(&ws, &agent.id).await,
        Err(StoreError::Secret(_))
    ));
}
