//! Secrets at rest on PostgreSQL: sealed on the way in with a key, sealed at start when
//! stored in clear before the key was set (by two nodes at once: each value once), and
//! unreadable (and reported) with no key or another key. What the tables hold is read
//! with raw SQL.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use frontdesk_core::secret::MasterKey;
use frontdesk_core::webhook::{HttpMethod, WebhookSecret, WebhookSpec};
use serde_json::json;

use super::TestDb;
use crate::conformance::workspace;
use crate::postgres::PgStore;
use crate::{
    Agents, Idempotency, IdempotencyBegin, Maintenance, SealReport, Secrets, StoreError, StoredResponse, Webhooks,
};

const CRM_TOKEN: &str = "Bearer crm-token-0b1c2d3e";
const TOOL_TOKEN: &str = "Bearer tool-token-4f5a6b7c";
const KEPT: &str = "fd_live_kept0123456789abcdefghijklmnopqrstu";

fn key(k: &str) -> Secrets {
    Secrets::new(Some(Arc::new(MasterKey::new(k).expect("a valid master key"))))
}

/// Whether any stored secret column holds `clear`.
async fn tables_hold(s: &PgStore, clear: &str) -> bool {
    let all: String = sqlx::query_scalar(
        "SELECT COALESCE((SELECT string_agg(secret || COALESCE(previous_secret, '') || headers, ' ') FROM webhooks), '') \
         || COALESCE((SELECT string_agg(config, ' ') FROM agents), '') \
         || COALESCE((SELECT string_agg(convert_from(body, 'UTF8'), ' ') FROM idempotency_keys \
            WHERE body IS NOT NULL), '')",
    )
    .fetch_one(&s.pool)
    .await
    .expect("read the tables");
    all.contains(clear)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clear_secrets_are_sealed_once_by_two_nodes_and_unreadable_without_the_key() {
    let Some(db) = TestDb::create().await else { return };
    let clear = db.migrated().await;
    let ws = workspace(&clear, "acme").await;
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
    let hook = clear.create_webhook(&ws, &spec, &secret).await.expect("create_webhook");
    let config = json!({"name": "a", "tools": [{"tool_name": "crm", "headers": {"Authorization": TOOL_TOKEN}}]});
    let agent = clear.create_agent(&ws, "a", &config).await.expect("create_agent");
    let now = Utc::now();
    let day = chrono::Duration::days(1);
    assert_eq!(
        clear
            .idempotency_begin(&ws, "k", "d", now, day, day)
            .await
            .expect("idempotency_begin"),
        IdempotencyBegin::Started
    );
    let response = StoredResponse {
        status: 201,
        content_type: Some("application/json".into()),
        body: format!(r#"{{"key":"{KEPT}"}}"#).into_bytes(),
    };
    clear
        .idempotency_complete(&ws, "k", &response)
        .await
        .expect("idempotency_complete");
    // No key: everything is in clear, and said to be.
    let report = clear.seal_secrets().await.expect("seal_secrets");
    assert_eq!(
        report,
        SealReport {
            sealed_now: 0,
            unreadable: 0,
            clear: 4
        }
    );
    assert!(tables_hold(&clear, "crm-token-0b1c2d3e").await);

    // A key is set, on two nodes starting at once: every value is sealed once.
    let master = "the-master-key-0123456789abcdef0123";
    let (a, b) = (db.store_with(key(master)).await, db.store_with(key(master)).await);
    let (x, y) = tokio::join!(a.seal_secrets(), b.seal_secrets());
    let (x, y) = (x.expect("seal_secrets"), y.expect("seal_secrets"));
    assert_eq!(x.sealed_now + y.sealed_now, 4, "{x:?} {y:?}");
    assert_eq!((x.unreadable + y.unreadable, x.clear + y.clear), (0, 0));
    assert_eq!(a.seal_secrets().await.expect("seal_secrets"), SealReport::default());
    let got = b.get_webhook(&ws, &hook.id).await.expect("get_webhook").expect("found");
    assert_eq!(got.secret, secret);
    assert_eq!(got.spec.headers["Authorization"], CRM_TOKEN);
    let got = b.get_agent(&ws, &agent.id).await.expect("get_agent").expect("found");
    assert_eq!(got.config, config);
    let IdempotencyBegin::Completed(kept) = a
        .idempotency_begin(&ws, "k", "d", now, day, day)
        .await
        .expect("idempotency_begin")
    else {
        panic!("the response is kept");
    };
    assert_eq!(kept.body, response.body);
    for clear in ["crm-token-0b1c2d3e", "tool-token-4f5a6b7c", KEPT, secret.expose()] {
        assert!(!tables_hold(&a, clear).await, "{clear} is still stored in clear");
    }

    // Another key, or none: unreadable, and reported so the server refuses to start.
    let other = db.store_with(key("another-master-key-of-enough-length!!")).await;
    assert_eq!(other.seal_secrets().await.expect("seal_secrets").unreadable, 4);
    assert!(matches!(
        other.get_webhook(&ws, &hook.id).await,
        Err(StoreError::Secret(_))
    ));
    assert_eq!(clear.seal_secrets().await.expect("seal_secrets").unreadable, 4);
    assert!(matches!(
        clear.get_agent(&ws, &agent.id).await,
        Err(StoreError::Secret(_))
    ));
}
