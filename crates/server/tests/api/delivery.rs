//! Webhook delivery end to end: events in through the internal path, HTTP out to a
//! receiver on loopback. Signatures are checked with the PyPI `standardwebhooks`
//! reference library and the plain HMAC recipe.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::receiver::{Received, Receiver, Reply, free_port};
use crate::webhooks::create;

const WAIT: Duration = Duration::from_secs(15);

fn call_data(number: &str) -> Value {
    json!({
        "call_id": "call_01JTEST0000000000000000000",
        "direction": "inbound",
        "receiving_number": number,
        "caller": {"phone": "+15551234567", "name": "John \"Johnny\" O'Brien", "email": "john@example.com"},
        "call_type": "quote_request",
        "duration_seconds": 180,
        "transcript": "Agent: Hi!\nCaller: Héllo — I need a quote 🙂",
        "ai_summary": "John wants a quote.",
        "custom_fields": {"budget": "$15,000-$20,000", "timeline": "3 months"}
    })
}

/// Emits events through the internal path; returns their ids.
pub async fn emit(app: &TestApp, events: Vec<(&str, Value)>) -> Vec<String> {
    let body = json!({"events": events.into_iter().map(|(e, d)| json!({"event": e, "data": d})).collect::<Vec<_>>()});
    let res = app.post("/v1/sim/events").json(&body).send().await.unwrap();
    assert_eq!(res.status(), 202);
    let v: Value = res.json().await.unwrap();
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_owned())
        .collect()
}

/// Verifies both signatures of a received request with Python: `standardwebhooks`
/// (the reference implementation) and `hmac` as the tutorials do it.
pub fn python_verify(secrets: &[&str], r: &Received) {
    let script = r#"
import hashlib, hmac, json, sys
from standardwebhooks.webhooks import Webhook
d = json.load(sys.stdin)
body = bytes.fromhex(d["body"])
for s in d["secrets"]:
    Webhook(s).verify(body, d["headers"])
expected = "sha256=" + hmac.new(d["secrets"][0].encode(), body, hashlib.sha256).hexdigest()
assert hmac.compare_digest(expected, d["headers"]["x-frontdesk-signature"]), "simple signature mismatch"
print("verified")
"#;
    let input = json!({"secrets": secrets, "headers": r.headers, "body": hex(&r.body)});
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (scripts/test installs the reference libraries)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("verified"),
        "signature check failed (is `standardwebhooks` installed? scripts/test installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

async fn delivery_of(app: &TestApp, webhook_id: &str) -> Value {
    let list: Value = app
        .get(&format!("/v1/deliveries?webhook_id={webhook_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = list["data"][0]["id"].as_str().expect("a delivery").to_owned();
    app.get(&format!("/v1/deliveries/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits (bounded) until the webhook's newest delivery has `status`.
async fn wait_status(app: &TestApp, webhook_id: &str, status: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let d = delivery_of(app, webhook_id).await;
        if d["status"] == status {
            return d;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "delivery never became {status}: {d}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn default_body_headers_and_both_signatures() {
    let app = spawn_app().await;
    let rx = Receiver::start().await;
    let w = create(&app, json!({"url": rx.url("/hook"), "headers": {"X-Api-Key": "k-123"}})).await;
    let secret = w["secret"].as_str().unwrap();
    let ids = emit(&app, vec![("call.ended", call_data("+15550100000"))]).await;
    let got = rx.wait_for(1, WAIT).await;
    let r = &got[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.header("content-type"), "application/json");
    assert!(r.header("user-agent").starts_with("Frontdesk/"));
    assert_eq!(r.header("x-frontdesk-event"), "call.ended");
    assert!(r.header("x-frontdesk-delivery").starts_with("dlv_"));
    assert_eq!(r.header("x-api-key"), "k-123");
    assert_eq!(r.header("webhook-id"), ids[0]);
    let body = r.json();
    assert_eq!(body["id"], ids[0].as_str());
    assert_eq!(body["event"], "call.ended");
    assert_eq!(body["data"]["caller"]["name"], "John \"Johnny\" O'Brien");
    assert_eq!(body["data"]["custom_fields"]["budget"], "$15,000-$20,000");
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    // The body is exactly the stored event, byte for byte.
    let stored: Value = app
        .get(&format!("/v1/events/{}", ids[0]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored, body);
    python_verify(&[secret], r);

    let d = wait_status(&app, w["id"].as_str().unwrap(), "succeeded").await;
    assert_eq!(d["attempt_count"], 1);
    let a = &d["attempts"][0];
    assert_eq!(a["status_code"], 200);
    assert_eq!(a["response_body"], "ok");
    assert!(a["latency_ms"].is_u64());
}

#[tokio::test]
async fn templates_keep_json_valid_and_note_unknown_variables() {
    let app = spawn_app().await;
    let rx = Receiver::start().await;
    let w = create(
        &app,
        json!({
            "url": rx.url("/leads/{{call_id}}?phone={{caller_number}}"),
            "method": "PUT",
            "headers": {"X-Caller": "{{ caller_name }}"},
            "body_template": {"name": "{{caller_name}}", "text": "{{transcript}}", "budget": "{{budget}}",
                              "owner": "{{owner_name}}", "missing": "{{no_such_thing}}", "fixed": 42,
                              "nested": {"line": "{{event}} at {{timestamp}}"}}
        }),
    )
    .await;
    emit(&app, vec![("call.ended", call_data("+15550100000"))]).await;
    let got = rx.wait_for(1, WAIT).await;
    let r = &got[0];
    assert_eq!(r.method, "PUT");
    assert_eq!(r.uri, "/leads/call_01JTEST0000000000000000000?phone=%2B15551234567");
    assert_eq!(r.header("x-caller"), "John \"Johnny\" O'Brien");
    let body = r.json();
    assert_eq!(body["name"], "John \"Johnny\" O'Brien");
    assert_eq!(body["text"], "Agent: Hi!\nCaller: Héllo — I need a quote 🙂");
    assert_eq!(body["budget"], "$15,000-$20,000");
    assert_eq!(
        body["owner"], "Frontdesk Demo Co",
        "business details of the agent on the number"
    );
    assert_eq!(body["missing"], "");
    assert_eq!(body["fixed"], 42);
    assert!(body["nested"]["line"].as_str().unwrap().starts_with("call.ended at 20"));
    python_verify(&[w["secret"].as_str().unwrap()], r);
    let d = wait_status(&app, w["id"].as_str().unwrap(), "succeeded").await;
    assert!(d["attempts"][0]["notes"].as_str().unwrap().contains("no_such_thing"));
}

#[tokio::test]
async fn filters_by_event_and_number() {
    let app = spawn_app().await;
    let rx = Receiver::start().await;
    create(&app, json!({"url": rx.url("/ended"), "events": ["call.ended"]})).await;
    create(
        &app,
        json!({"url": rx.url("/other-number"), "numbers": ["+15559990000"]}),
    )
    .await;
    create(&app, json!({"url": rx.url("/off"), "active": false})).await;
    emit(
        &app,
        vec![
            ("call.answered", call_data("+15550100000")),
            ("call.ended", call_data("+15550100000")),
        ],
    )
    .await;
    let got = rx.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = if got.len() == 1 { rx.got() } else { got };
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].uri, "/ended");
}

#[tokio::test]
async fn always_500_ends_failed_then_manual_retry_delivers() {
    let app = spawn_app().await;
    let rx = Receiver::start().await;
    rx.reply(Reply {
        status: 500,
        body: "boom".into(),
        ..Reply::default()
    });
    let w = create(&app, json!({"url": rx.url("/")})).await;
    let wid = w["id"].as_str().unwrap();
    emit(&app, vec![("call.ended", call_data("+15550100000"))]).await;
    let d = wait_status(&app, wid, "failed").await;
    assert_eq!(d["attempt_count"], 4, "the first attempt and three retries: {d}");
    assert_eq!(d["attempts"].as_array().unwrap().len(), 4);
    assert_eq!(d["attempts"][3]["response_body"], "boom");
    assert!(d["last_error"].as_str().unwrap().contains("500"));
    let ids: Vec<_> = rx.got().iter().map(|r| r.header("webhook-id").to_owned()).collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "retries reuse the event id");
    let failed: Value = app
        .get("/v1/deliveries?status=failed")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(failed["data"].as_array().unwrap().len(), 1);

    rx.reply(Reply::default());
    let id = d["id"].as_str().unwrap();
    let res = app.post(&format!("/v1/deliveries/{id}/retry")).send().await.unwrap();
    assert_eq!(res.status(), 202);
    let d = wait_status(&app, wid, "succeeded").await;
    assert_eq!(d["attempt_count"], 5);
    let w: Value = app
        .get(&format!("/v1/webhooks/{wid}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(w["failing_since"].is_null(), "a success ends the failure run");
}

#[tokio::test]
async fn receiver_down_then_up_gets_everything() {
    let app = spawn_app_with(|s| s.delivery.retry.schedule = vec![Duration::from_millis(200); 30]).await;
    let addr = free_port();
    create(&app, json!({"url": format!("http://{addr}/")})).await;
    let ids = emit(
        &app,
        (0..5).map(|_| ("data.collected", call_data("+15550100000"))).collect(),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let pending: Value = app
        .get("/v1/deliveries?status=pending")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pending["data"].as_array().unwrap().len(), 5);
    assert!(
        pending["data"][0]["last_error"].as_str().unwrap().contains("connect"),
        "{pending}"
    );
    let rx = Receiver::start_on(addr).await;
    let got = rx.wait_for(5, WAIT).await;
    let mut seen: Vec<_> = got.iter().map(|r| r.header("webhook-id").to_owned()).collect();
    seen.sort();
    seen.dedup();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(seen, want);
}

#[tokio::test]
async fn gone_disables_the_webhook() {
    let app = spawn_app().await;
    let rx = Receiver::start().await;
    rx.reply(Reply {
        status: 410,
        ..Reply::default()
    });
    let w = create(&app, json!({"url": rx.url("/")})).await;
    let wid = w["id"].as_str().unwrap();
    emit(&app, vec![("call.ended", call_data("+15550100000"))]).await;
    let d = wait_status(&app, wid, "failed").await;
    assert_eq!(d["attempt_count"], 1, "no retries after 410");
    let w: Value = app
        .get(&format!("/v1/webhooks/{wid}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(w["active"], false);
    assert!(w["disabled_reason"].as_str().unwrap().contains("410"));
    // Disabled: new events queue nothing for it.
    emit(&app, vec![("call.ended", call_data("+15550100000"))]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rx.got().len(), 1);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let app = spawn_app().await;
    let rx = Receiver::start().await;
    rx.reply(Reply {
        status: 429,
        headers: vec![("retry-after".into(), "1".into())],
        ..Reply::default()
    });
    let w = create(&app, json!({"url": rx.url("/")})).await;
    emit(&app, vec![("call.ended", call_data("+15550100000"))]).await;
    rx.wait_for(1, WAIT).await;
    rx.reply(Reply::default());
    let d = wait_status(&app, w["id"].as_str().unwrap(), "succeeded").await;
    let at =
        |i: usize| chrono::DateTime::parse_from_rfc3339(d["attempts"][i]["attempted_at"].as_str().unwrap()).unwrap();
    let gap = at(1) - at(0);
    assert!(
        gap >= chrono::Duration::milliseconds(950),
        "the schedule says 100 ms, Retry-After 1 s: waited {gap}"
    );
}

#[tokio::test]
async fn redirects_are_failures_and_not_followed() {
    let app = spawn_app().await;
    let target = Receiver::start().await;
    let rx = Receiver::start().await;
    rx.reply(Reply {
        status: 302,
        headers: vec![("location".into(), target.url("/private"))],
        ..Reply::default()
    });
    let w = create(&app, json!({"url": rx.url("/")})).await;
    emit(&app, vec![("call.ended", call_data("+15550100000"))]).await;
    let d = wait_status(&app, w["id"].as_str().unwrap(), "failed").await;
    assert_eq!(d["attempts"][0]["status_code"], 302);
    assert!(d["last_error"].as_str().unwrap().contains("redirects are not followed"));
    assert!(target.got().is_empty(), "the redirect target was never contacted");
}

#[tokio::test]
async fn slow_endpoints_time_out() {
    let app = spawn_app_with(|s| s.delivery.timeout = Duration::from_millis(300)).await;
    let rx = Receiver::start().await;
    rx.reply(Reply {
        delay: Duration::from_secs(2),
        ..Reply::default()
    });
    let w = create(&app, json!({"url": rx.url("/")})).await;
    emit(&app, vec![("call.ended", call_data("+15550100000"))]).await;
    let d = wait_status(&app, w["id"].as_str().unwrap(), "failed").await;
    let a = &d["attempts"][0];
    assert!(a["status_code"].is_null());
    assert!(
        a["error"].as_str().unwrap().contains("no response within 300 ms"),
        "{a}"
    );
}

#[tokio::test]
async fn names_resolving_to_loopback_are_refused_at_connect() {
    let app = spawn_app_with(|s| s.delivery.policy.allow_private = false).await;
    let rx = Receiver::start().await;
    let w = create(&app, json!({"url": format!("http://localhost:{}/", rx.addr.port())})).await;
    emit(&app, vec![("call.ended", call_data("+15550100000"))]).await;
    let d = wait_status(&app, w["id"].as_str().unwrap(), "failed").await;
    let err = d["attempts"][0]["error"].as_str().unwrap();
    assert!(err.contains("refused to connect") && err.contains("loopback"), "{err}");
    assert!(rx.got().is_empty(), "nothing reached the loopback receiver");
}

#[tokio::test]
async fn allow_list_lets_one_network_through() {
    let app = spawn_app_with(|s| {
        s.delivery.policy.allow_private = false;
        s.delivery.policy.allowed = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let rx = Receiver::start().await;
    let w = create(&app, json!({"url": rx.url("/")})).await;
    emit(&app, vec![("call.ended", call_data("+15550100000"))]).await;
    wait_status(&app, w["id"].as_str().unwrap(), "succeeded").await;
    let res = app
        .post("/v1/webhooks")
        .json(&json!({"url": "http://127.0.0.2/"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422, "127.0.0.2 is outside the allow-list");
}

#[tokio::test]
async fn long_failure_disables_the_webhook() {
    let app = spawn_app_with(|s| {
        s.delivery.retry.schedule = vec![Duration::from_millis(150); 20];
        s.delivery.disable_after = Duration::from_millis(500);
    })
    .await;
    let rx = Receiver::start().await;
    rx.reply(Reply {
        status: 503,
        ..Reply::default()
    });
    let w = create(&app, json!({"url": rx.url("/")})).await;
    let wid = w["id"].as_str().unwrap();
    emit(&app, vec![("call.ended", call_data("+15550100000"))]).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let w: Value = app
            .get(&format!("/v1/webhooks/{wid}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if w["active"] == false {
            assert!(w["disabled_reason"].as_str().unwrap().contains("failed since"), "{w}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never disabled: {w}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let d = wait_status(&app, wid, "failed").await;
    assert!(d["last_error"].as_str().unwrap().contains("disabled") || d["attempt_count"].as_u64().unwrap() > 1);
}

#[tokio::test]
async fn rotation_signs_with_both_secrets() {
    let app = spawn_app().await;
    let rx = Receiver::start().await;
    let w = create(&app, json!({"url": rx.url("/")})).await;
    let old = w["secret"].as_str().unwrap().to_owned();
    let r: Value = app
        .post(&format!("/v1/webhooks/{}/rotate-secret", w["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new = r["secret"].as_str().unwrap().to_owned();
    emit(&app, vec![("call.ended", call_data("+15550100000"))]).await;
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(got[0].header("webhook-signature").split(' ').count(), 2);
    python_verify(&[&new, &old], &got[0]);
}

#[tokio::test]
async fn replay_sends_past_events_and_failed_ones() {
    let app = spawn_app().await;
    let since = chrono::Utc::now() - chrono::Duration::seconds(5);
    let ids = emit(
        &app,
        vec![
            ("call.ended", call_data("+15550100000")),
            ("call.answered", call_data("+15550100000")),
        ],
    )
    .await;
    // The webhook did not exist when the events happened.
    let rx = Receiver::start().await;
    let w = create(&app, json!({"url": rx.url("/"), "events": ["call.ended"]})).await;
    let wid = w["id"].as_str().unwrap();
    let res = app
        .post(&format!("/v1/webhooks/{wid}/replay"))
        .json(&json!({"since": since.to_rfc3339()}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let q: Value = res.json().await.unwrap();
    assert_eq!(q["queued"], 1, "only call.ended matches the filter");
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(got[0].header("webhook-id"), ids[0]);
    let res = app
        .post(&format!("/v1/webhooks/{wid}/replay"))
        .json(&json!({"since": since.to_rfc3339(), "only_failed": true}))
        .send()
        .await
        .unwrap();
    let q: Value = res.json().await.unwrap();
    assert_eq!(q["queued"], 0, "nothing failed");
    for bad in [
        json!({"since": "yesterday"}),
        json!({"since": since.to_rfc3339(), "until": since.to_rfc3339()}),
        json!({}),
    ] {
        let res = app
            .post(&format!("/v1/webhooks/{wid}/replay"))
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{bad}");
    }
}

#[tokio::test]
async fn test_endpoint_reports_the_attempt() {
    let app = spawn_app().await;
    let rx = Receiver::start().await;
    rx.reply(Reply {
        status: 201,
        body: "created".into(),
        ..Reply::default()
    });
    let w = create(&app, json!({"url": rx.url("/")})).await;
    let res = app
        .post(&format!("/v1/webhooks/{}/test", w["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let t: Value = res.json().await.unwrap();
    assert_eq!(t["success"], true);
    assert_eq!(t["status_code"], 201);
    assert_eq!(t["response_body"], "created");
    assert_eq!(t["event"]["event"], "call.ended");
    let got = rx.got();
    assert_eq!(got.len(), 1);
    python_verify(&[w["secret"].as_str().unwrap()], &got[0]);
    let t: Value = app
        .post(&format!("/v1/webhooks/{}/test", w["id"].as_str().unwrap()))
        .json(&json!({"event": "data.collected"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["event"]["event"], "data.collected");
}

#[tokio::test]
async fn events_and_deliveries_are_listed_with_filters() {
    let app = spawn_app().await;
    let rx = Receiver::start().await;
    let w = create(&app, json!({"url": rx.url("/")})).await;
    let mut d = call_data("+15550100000");
    d["call_id"] = json!("call_01JOTHER000000000000000000");
    emit(
        &app,
        vec![("call.answered", call_data("+15550100000")), ("call.ended", d)],
    )
    .await;
    rx.wait_for(2, WAIT).await;
    let all: Value = app.get("/v1/events").send().await.unwrap().json().await.unwrap();
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    let ended: Value = app
        .get("/v1/events?event=call.ended")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ended["data"].as_array().unwrap().len(), 1);
    let by_call: Value = app
        .get("/v1/events?call_id=call_01JOTHER000000000000000000")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_call["data"][0]["event"], "call.ended");
    let future: Value = app
        .get("/v1/events?since=2999-01-01T00:00:00Z")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(future["data"].as_array().unwrap().is_empty());
    let dl: Value = app
        .get(&format!(
            "/v1/deliveries?webhook_id={}&event=call.answered",
            w["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dl["data"].as_array().unwrap().len(), 1);
    for bad in [
        "/v1/deliveries?status=lost",
        "/v1/deliveries?event=nope",
        "/v1/events?since=yesterday",
        "/v1/deliveries?webhook_id=x",
    ] {
        assert_eq!(app.get(bad).send().await.unwrap().status(), 400, "{bad}");
    }
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("frontdesk_webhook_deliveries_total"), "{metrics}");
    assert!(
        metrics.contains("frontdesk_webhook_attempt_duration_seconds"),
        "{metrics}"
    );
}
