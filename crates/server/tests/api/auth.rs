//! Every /v1 route needs a valid, unrevoked key.

use crate::helpers::{error_of, spawn_app};

#[tokio::test]
async fn missing_key_is_401() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/v1/api-keys")).send().await.unwrap();
    let (status, code, message) = error_of(res).await;
    assert_eq!((status, code.as_str()), (401, "unauthorized"));
    assert!(message.contains("Authorization: Bearer"), "{message}");
}

#[tokio::test]
async fn wrong_or_malformed_keys_are_401() {
    let app = spawn_app().await;
    let unknown = format!("fd_live_{}", "A".repeat(40));
    for header in [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer nope",
        &format!("Bearer {unknown}"),
        &format!("Token {}", app.key),
    ] {
        let res = app
            .client
            .get(app.url("/v1/api-keys"))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        let (status, code, _) = error_of(res).await;
        assert_eq!((status, code.as_str()), (401, "unauthorized"), "{header}");
    }
}

#[tokio::test]
async fn bearer_scheme_is_case_insensitive() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/v1/api-keys"))
        .header("authorization", format!("bearer {}", app.key))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn revoked_key_is_401_at_once() {
    let app = spawn_app().await;
    let (id, secret) = app.create_key("to-revoke").await;
    let ok = app
        .client
        .get(app.url("/v1/api-keys"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let res = app.delete(&format!("/v1/api-keys/{id}")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["revoked_at"].is_string());
    let res = app
        .client
        .get(app.url("/v1/api-keys"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    let (status, _, message) = error_of(res).await;
    assert_eq!(status, 401);
    assert!(message.contains("revoked"), "{message}");
    // The other key is unaffected.
    assert_eq!(app.get("/v1/api-keys").send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn keys_are_shown_once_and_listed_by_prefix() {
    let app = spawn_app().await;
    let (id, secret) = app.create_key("crm-sync").await;
    assert!(secret.starts_with("fd_live_") && secret.len() >= 8 + 32);
    let list: serde_json::Value = app.get("/v1/api-keys").send().await.unwrap().json().await.unwrap();
    let text = list.to_string();
    assert!(!text.contains(&secret), "the secret never appears again");
    let entry = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id.as_str())
        .unwrap();
    assert_eq!(entry["name"], "crm-sync");
    assert_eq!(entry["prefix"], &secret[..12]);
    let one: serde_json::Value = app
        .get(&format!("/v1/api-keys/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["id"], id.as_str());
    assert!(one.get("key").is_none());
}

#[tokio::test]
async fn use_is_recorded_as_last_used_at() {
    let app = spawn_app().await;
    let (id, secret) = app.create_key("used").await;
    app.client
        .get(app.url("/v1/api-keys"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    // The touch is written off the request path; wait for it (bounded).
    for _ in 0..100 {
        let k: serde_json::Value = app
            .get(&format!("/v1/api-keys/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if k["last_used_at"].is_string() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("last_used_at was never set");
}

#[tokio::test]
async fn key_list_pages_with_cursor() {
    let app = spawn_app().await;
    for i in 0..4 {
        app.create_key(&format!("k{i}")).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/api-keys?limit=2&cursor={c}"),
            None => "/v1/api-keys?limit=2".to_owned(),
        };
        let page: serde_json::Value = app.get(&path).send().await.unwrap().json().await.unwrap();
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        seen.extend(data.iter().map(|k| k["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "4 created + the bootstrap key");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(seen, sorted, "newest first, no repeats");
}
