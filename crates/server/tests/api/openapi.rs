//! The OpenAPI document is generated from the routes and lists every one of them; and
//! every documented operation is really routed.

use serde_json::Value;

use crate::helpers::spawn_app;

const EXPECTED: &[(&str, &str)] = &[
    ("/v1/api-keys", "get"),
    ("/v1/api-keys", "post"),
    ("/v1/api-keys/{id}", "get"),
    ("/v1/api-keys/{id}", "delete"),
    ("/v1/openapi.json", "get"),
    ("/healthz", "get"),
    ("/readyz", "get"),
    ("/metrics", "get"),
    ("/v1/webhooks", "get"),
    ("/v1/webhooks", "post"),
    ("/v1/webhooks/{id}", "get"),
    ("/v1/webhooks/{id}", "patch"),
    ("/v1/webhooks/{id}", "delete"),
    ("/v1/webhooks/{id}/test", "post"),
    ("/v1/webhooks/{id}/rotate-secret", "post"),
    ("/v1/webhooks/{id}/replay", "post"),
    ("/v1/deliveries", "get"),
    ("/v1/deliveries/{id}", "get"),
    ("/v1/deliveries/{id}/retry", "post"),
    ("/v1/events", "get"),
    ("/v1/events/{id}", "get"),
    ("/v1/sim/events", "post"),
    ("/v1/agents", "get"),
    ("/v1/agents", "post"),
    ("/v1/agents/{id}", "get"),
    ("/v1/agents/{id}", "put"),
    ("/v1/agents/{id}", "delete"),
    ("/v1/numbers", "get"),
    ("/v1/numbers", "post"),
    ("/v1/numbers/{id}", "get"),
    ("/v1/numbers/{id}", "patch"),
    ("/v1/numbers/{id}", "delete"),
    ("/v1/calls", "get"),
    ("/v1/calls", "post"),
    ("/v1/calls/{id}", "get"),
    ("/v1/calls/{id}/hangup", "post"),
    ("/v1/sim/calls", "post"),
    ("/v1/sim/calls/{id}/turns", "post"),
    ("/v1/sim/calls/{id}/hangup", "post"),
];

async fn doc() -> (crate::helpers::TestApp, Value) {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/v1/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    (app, doc)
}

#[tokio::test]
async fn document_is_openapi_3_1_with_every_route() {
    let (_, doc) = doc().await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for (path, method) in EXPECTED {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing from the document"
        );
    }
    assert_eq!(doc["components"]["securitySchemes"]["api_key"]["scheme"], "bearer");
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let (app, doc) = doc().await;
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let concrete = path.replace("{id}", "key_01ARZ3NDEKTSV4RRFFQ69G5FAV");
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = app
                .client
                .request(m, app.url(&concrete))
                .bearer_auth(&app.key)
                .json(&serde_json::json!({}))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body = res.text().await.unwrap();
            assert!(
                !body.contains("route_not_found") && status != 405,
                "{method} {path} is documented but not routed: {status}"
            );
            count += 1;
        }
    }
    assert!(count >= EXPECTED.len());
}
