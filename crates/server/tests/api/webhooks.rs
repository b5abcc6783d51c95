//! `/v1/webhooks` management: create (secret once), read, update, delete, validation,
//! workspace isolation, and the SSRF guard at creation.

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_of, spawn_app, spawn_app_with};

pub async fn create(app: &TestApp, body: Value) -> Value {
    let res = app.post("/v1/webhooks").json(&body).send().await.unwrap();
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{v}");
    v
}

#[tokio::test]
async fn create_read_update_delete() {
    let app = spawn_app().await;
    let w = create(
        &app,
        json!({"name": "CRM", "url": "https://crm.example.com/hooks", "events": ["call.ended", "data.collected"],
               "headers": {"Authorization": "Bearer abc"}, "numbers": ["+1 555 010 0000"]}),
    )
    .await;
    let id = w["id"].as_str().unwrap();
    assert!(id.starts_with("wh_"));
    let secret = w["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(w["method"], "POST");
    assert_eq!(w["active"], true);
    assert_eq!(w["numbers"], json!(["+15550100000"]));
    assert_eq!(w["body_template"], Value::Null);

    let got: Value = app
        .get(&format!("/v1/webhooks/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        got.get("secret").is_none(),
        "the secret is shown on create and rotate only"
    );
    assert_eq!(got["events"], json!(["call.ended", "data.collected"]));

    let res = app
        .client
        .patch(app.url(&format!("/v1/webhooks/{id}")))
        .bearer_auth(&app.key)
        .json(&json!({"events": [], "method": "put", "body_template": {"who": "{{caller_name}}"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let patched: Value = res.json().await.unwrap();
    assert_eq!(patched["events"], json!([]));
    assert_eq!(patched["method"], "PUT");
    assert_eq!(patched["name"], "CRM", "unsent fields keep their value");
    assert_eq!(patched["body_template"]["who"], "{{caller_name}}");
    let res = app
        .client
        .patch(app.url(&format!("/v1/webhooks/{id}")))
        .bearer_auth(&app.key)
        .json(&json!({"body_template": null}))
        .send()
        .await
        .unwrap();
    let cleared: Value = res.json().await.unwrap();
    assert_eq!(cleared["body_template"], Value::Null);

    let list: Value = app.get("/v1/webhooks").send().await.unwrap().json().await.unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    let (_, other) = app.other_workspace("other").await;
    let res = app
        .client
        .get(app.url(&format!("/v1/webhooks/{id}")))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await.0, 404);
    let res = app
        .client
        .delete(app.url(&format!("/v1/webhooks/{id}")))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await.0, 404);

    assert_eq!(
        app.delete(&format!("/v1/webhooks/{id}")).send().await.unwrap().status(),
        204
    );
    assert_eq!(
        error_of(app.get(&format!("/v1/webhooks/{id}")).send().await.unwrap())
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn bad_configurations_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({"url": "ftp://x.example"}), "url"),
        (json!({"url": "not a url"}), "url"),
        (
            json!({"url": "https://x.example", "events": ["call.ended", "call.exploded"]}),
            "events[1]",
        ),
        (json!({"url": "https://x.example", "method": "GET"}), "method"),
        (
            json!({"url": "https://x.example", "headers": {"webhook-signature": "x"}}),
            "headers",
        ),
        (
            json!({"url": "https://x.example", "headers": {"X-A": "a\r\nB: c"}}),
            "headers",
        ),
        (json!({"url": "https://x.example", "numbers": ["555"]}), "numbers[0]"),
        (
            json!({"url": "https://x.example", "body_template": "not an object"}),
            "body_template",
        ),
        (json!({"url": "https://x.example", "secret": "whsec_short"}), "secret"),
        (json!({"url": "https://x.example", "colour": "red"}), "colour"),
        (json!({"name": "no url"}), "url"),
    ];
    for (body, field) in cases {
        let res = app.post("/v1/webhooks").json(&body).send().await.unwrap();
        let (status, code, message) = error_of(res).await;
        assert_eq!((status, code.as_str()), (422, "invalid_request"), "{body}: {message}");
        assert!(message.contains(field), "{body}: `{message}` should name {field}");
    }
}

#[tokio::test]
async fn literal_private_addresses_are_refused_at_creation_when_the_guard_is_on() {
    let app = spawn_app_with(|s| s.delivery.policy.allow_private = false).await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://10.0.0.5/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://100.64.1.1/",
        "http://0.0.0.0/",
    ] {
        let res = app
            .post("/v1/webhooks")
            .json(&json!({"url": url}))
            .send()
            .await
            .unwrap();
        let (status, _, message) = error_of(res).await;
        assert_eq!(status, 422, "{url}");
        assert!(message.contains("FRONTDESK_ALLOW_PRIVATE_TARGETS"), "{url}: {message}");
    }
    // Names are checked when connecting (see delivery tests), not here.
    let res = app
        .post("/v1/webhooks")
        .json(&json!({"url": "http://localhost:9/"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn rotate_returns_a_new_secret() {
    let app = spawn_app().await;
    let w = create(&app, json!({"url": "https://x.example/h"})).await;
    let id = w["id"].as_str().unwrap();
    let res = app
        .post(&format!("/v1/webhooks/{id}/rotate-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let r: Value = res.json().await.unwrap();
    assert!(r["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_ne!(r["secret"], w["secret"]);
    let mine = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let r: Value = app
        .post(&format!("/v1/webhooks/{id}/rotate-secret"))
        .json(&json!({"secret": mine}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["secret"], mine);
}
