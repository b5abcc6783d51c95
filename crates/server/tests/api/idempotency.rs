//! Idempotency-Key on POST: same key and body within 24 h answers the first response
//! and creates nothing new.

use serde_json::{Value, json};

use crate::helpers::{error_of, spawn_app, spawn_app_with};
use crate::twilio_support::MASTER_KEY;

async fn key_count(app: &crate::helpers::TestApp) -> usize {
    let v: Value = app
        .get("/v1/api-keys?limit=500")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["data"].as_array().unwrap().len()
}

#[tokio::test]
async fn same_key_same_body_replays_the_first_response() {
    // With a master key, the kept response (the new key's secret in it) is sealed and
    // replayed whole.
    let app = spawn_app_with(|s| s.master_key = Some(MASTER_KEY.into())).await;
    let before = key_count(&app).await;
    let send = || {
        app.post("/v1/api-keys")
            .header("idempotency-key", "abc-123")
            .json(&json!({"name": "once"}))
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let second = send().await.unwrap();
    assert_eq!(second.status(), 201);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let second: Value = second.json().await.unwrap();
    assert_eq!(first, second);
    assert_eq!(key_count(&app).await, before + 1, "nothing new was created");
}

#[tokio::test]
async fn without_a_master_key_a_replay_withholds_the_secret() {
    let app = spawn_app().await;
    let send = || {
        app.post("/v1/api-keys")
            .header("idempotency-key", "abc-124")
            .json(&json!({"name": "once"}))
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    assert!(first["key"].as_str().unwrap().starts_with("fd_live_"));
    let second = send().await.unwrap();
    assert_eq!(second.status(), 201);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let second: Value = second.json().await.unwrap();
    assert_eq!(second["id"], first["id"]);
    assert_eq!(second["key"], Value::Null);
    assert_eq!(second["withheld"], json!(["key"]));
}

#[tokio::test]
async fn same_key_other_body_is_422() {
    let app = spawn_app().await;
    let res = app
        .post("/v1/api-keys")
        .header("idempotency-key", "k1")
        .json(&json!({"name": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let res = app
        .post("/v1/api-keys")
        .header("idempotency-key", "k1")
        .json(&json!({"name": "b"}))
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_of(res).await;
    assert_eq!((status, code.as_str()), (422, "idempotency_key_reused"));
}

#[tokio::test]
async fn keys_are_scoped_to_the_workspace() {
    let app = spawn_app().await;
    let (_, other) = app.other_workspace("other").await;
    let body = json!({"name": "same"});
    let a: Value = app
        .post("/v1/api-keys")
        .header("idempotency-key", "shared")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b: Value = app
        .client
        .post(app.url("/v1/api-keys"))
        .bearer_auth(&other)
        .header("idempotency-key", "shared")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(a["id"], b["id"]);
}

#[tokio::test]
async fn without_the_header_each_post_creates() {
    let app = spawn_app().await;
    let before = key_count(&app).await;
    app.create_key("x").await;
    app.create_key("x").await;
    assert_eq!(key_count(&app).await, before + 2);
}

#[tokio::test]
async fn invalid_keys_are_400() {
    let app = spawn_app().await;
    for bad in [String::new(), "x".repeat(256), "has space".into()] {
        let res = app
            .post("/v1/api-keys")
            .header("idempotency-key", bad.as_str())
            .json(&json!({"name": "a"}))
            .send()
            .await
            .unwrap();
        let (status, code, _) = error_of(res).await;
        assert_eq!((status, code.as_str()), (400, "invalid_idempotency_key"), "{bad:?}");
    }
}

#[tokio::test]
async fn concurrent_retries_create_once() {
    let app = spawn_app().await;
    let before = key_count(&app).await;
    let sends = (0..10).map(|_| {
        app.post("/v1/api-keys")
            .header("idempotency-key", "race")
            .json(&json!({"name": "race"}))
            .send()
    });
    let results = futures_join(sends).await;
    let mut ids = std::collections::HashSet::new();
    for res in results {
        let res = res.unwrap();
        match res.status().as_u16() {
            201 => {
                let v: Value = res.json().await.unwrap();
                ids.insert(v["id"].as_str().unwrap().to_owned());
            }
            409 => assert_eq!(error_of(res).await.1, "idempotency_key_in_use"),
            s => panic!("unexpected status {s}"),
        }
    }
    assert_eq!(ids.len(), 1, "every success is the same key");
    assert_eq!(key_count(&app).await, before + 1);
}

async fn futures_join<F: std::future::Future + Send + 'static>(futs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
