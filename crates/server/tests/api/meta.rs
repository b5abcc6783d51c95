//! Health, readiness, metrics and request ids.

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let h: serde_json::Value = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(h["status"], "ok");
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let app = spawn_app().await;
    app.get("/v1/api-keys").send().await.unwrap();
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    assert!(text.contains("# TYPE frontdesk_http_requests_total counter"), "{text}");
    assert!(text.contains("route=\"/v1/api-keys\""), "{text}");
    assert!(
        text.contains("frontdesk_http_request_duration_seconds_bucket"),
        "{text}"
    );
}

#[tokio::test]
async fn responses_carry_a_request_id() {
    let app = spawn_app().await;
    let res = app.get("/v1/api-keys").send().await.unwrap();
    assert!(res.headers()["x-request-id"].to_str().unwrap().starts_with("req_"));
    let res = app
        .get("/v1/api-keys")
        .header("x-request-id", "mine-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "mine-1");
}
