//! Every kind of bad input gets a clear 4xx in the SPEC error shape; none gets a 5xx.

use reqwest::Method;

use crate::helpers::{error_of, spawn_app};

async fn post_raw(app: &crate::helpers::TestApp, body: &'static str) -> (u16, String, String) {
    let res = app
        .post("/v1/api-keys")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    error_of(res).await
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let (status, code, message) = post_raw(&app, "{\"name\": ").await;
    assert_eq!((status, code.as_str()), (400, "invalid_json"));
    assert!(message.contains("not valid JSON"), "{message}");
    let (status, code, _) = post_raw(&app, "").await;
    assert_eq!((status, code.as_str()), (400, "invalid_json"));
}

#[tokio::test]
async fn unknown_fields_wrong_types_and_missing_fields_are_422_naming_the_field() {
    let app = spawn_app().await;
    let (status, code, message) = post_raw(&app, r#"{"name": "x", "nmae": "y"}"#).await;
    assert_eq!((status, code.as_str()), (422, "invalid_request"));
    assert!(message.contains("unknown field `nmae`"), "{message}");
    let (status, _, message) = post_raw(&app, r#"{"name": 42}"#).await;
    assert_eq!(status, 422);
    assert!(
        message.starts_with("name:") && message.contains("expected a string"),
        "{message}"
    );
    let (status, _, message) = post_raw(&app, r#"{}"#).await;
    assert_eq!(status, 422);
    assert!(message.contains("missing field `name`"), "{message}");
    let (status, _, message) = post_raw(&app, r#"[1, 2]"#).await;
    assert_eq!(status, 422, "{message}");
    let (status, _, message) = post_raw(&app, r#"{"name": "   "}"#).await;
    assert_eq!(status, 422);
    assert!(message.starts_with("name:"), "{message}");
}

#[tokio::test]
async fn oversized_body_is_413() {
    let app = spawn_app().await;
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let res = app
        .post("/v1/api-keys")
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_of(res).await;
    assert_eq!((status, code.as_str()), (413, "payload_too_large"));
    // Also on the idempotent path, which reads the body itself.
    let res = app
        .post("/v1/api-keys")
        .header("content-type", "application/json")
        .header("idempotency-key", "big-one")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await.0, 413);
}

#[tokio::test]
async fn non_json_content_type_is_415() {
    let app = spawn_app().await;
    let res = app
        .post("/v1/api-keys")
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .await
        .unwrap();
    let (status, code, message) = error_of(res).await;
    assert_eq!((status, code.as_str()), (415, "unsupported_media_type"));
    assert!(message.contains("application/json"), "{message}");
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405() {
    let app = spawn_app().await;
    for path in ["/v1/nope", "/nope", "/v1/api-keys/x/y"] {
        let (status, code, _) = error_of(app.get(path).send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (404, "route_not_found"), "{path}");
    }
    let res = app
        .client
        .request(Method::PUT, app.url("/v1/api-keys"))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    let allow = res.headers().get("allow").map(|v| v.to_str().unwrap().to_owned());
    let (status, code, _) = error_of(res).await;
    assert_eq!((status, code.as_str()), (405, "method_not_allowed"));
    assert!(allow.unwrap_or_default().contains("POST"));
    let res = app
        .client
        .request(Method::PATCH, app.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await.0, 405);
}

#[tokio::test]
async fn bad_query_parameters_are_400() {
    let app = spawn_app().await;
    for q in [
        "limit=0",
        "limit=501",
        "limit=abc",
        "limit=-1",
        "cursor=garbage",
        "colour=red",
    ] {
        let (status, code, message) = error_of(app.get(&format!("/v1/api-keys?{q}")).send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (400, "invalid_query"), "{q}: {message}");
    }
    assert_eq!(app.get("/v1/api-keys?limit=500").send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn ids_that_cannot_exist_are_404() {
    let app = spawn_app().await;
    for id in [
        "garbage",
        "wh_01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "key_01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "%20",
    ] {
        let (status, code, _) = error_of(app.get(&format!("/v1/api-keys/{id}")).send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (404, "not_found"), "{id}");
    }
}

#[tokio::test]
async fn a_barrage_of_garbage_never_gets_a_5xx() {
    let app = spawn_app().await;
    let bodies: [&[u8]; 8] = [
        b"\xff\xfe\x00",
        b"null",
        b"\"str\"",
        b"{\"name\": null}",
        b"{\"name\": {\"a\": 1}}",
        b"{{{{",
        b"{\"name\": \"\\ud800\"}",
        b"1e999999",
    ];
    let methods = [Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::PATCH];
    let paths = [
        "/v1/api-keys",
        "/v1/api-keys/key_x",
        "/v1/api-keys?limit=%ff",
        "/v1/%00",
        "/healthz",
        "/v1/openapi.json",
        "/v1/webhooks",
        "/v1/webhooks/wh_x",
        "/v1/webhooks/wh_01ARZ3NDEKTSV4RRFFQ69G5FAV/replay",
        "/v1/webhooks/wh_x/test",
        "/v1/deliveries?status=%ff",
        "/v1/deliveries/dlv_x/retry",
        "/v1/events?since=%ff",
        "/v1/sim/events",
    ];
    for m in &methods {
        for p in paths {
            for b in bodies {
                let res = app
                    .client
                    .request(m.clone(), app.url(p))
                    .bearer_auth(&app.key)
                    .header("content-type", "application/json")
                    .body(b.to_vec())
                    .send()
                    .await
                    .unwrap();
                assert!(res.status().as_u16() < 500, "{m} {p} {b:?} -> {}", res.status());
            }
        }
    }
}
