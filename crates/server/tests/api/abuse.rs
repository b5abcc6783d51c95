//! What a stranger (or a hostile tenant) can make the server do: every finding of the
//! hardening review replayed, so none of it comes back. Each test names the finding.
//!
//! No test here asserts a speed: limits are checked by what the server answers, and the
//! time bounds below only keep a broken server from hanging the suite.

use std::time::Duration;

use rand::Rng;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, agent_file, error_of, post_json, spawn_app, spawn_app_with};
use crate::receiver::Receiver;
use crate::twilio_support::{
    FORM, GLOBAL_ACCOUNT, GLOBAL_TOKEN, Leg, TwilioSide, assert_nothing_recorded, get_json, raw_post, sid,
    store_credentials, twilio_app, twilio_number, twilio_number_with_key, twiml,
};

/// Long enough that only a hung server misses it.
const LIVENESS: Duration = Duration::from_secs(20);

fn host_port(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

/// Reads what the server sends until it closes the connection (or `LIVENESS` passes).
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let read = tokio::time::timeout(LIVENESS, stream.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the server neither answered nor closed the connection");
    String::from_utf8_lossy(&out).into_owned()
}

async fn metrics_text(app: &TestApp) -> String {
    app.client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Polls `check` every 100 ms until it holds (or `LIVENESS` passes: `what` never
/// happened).
async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let started = std::time::Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(started.elapsed() < LIVENESS, "{what} never happened");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn status_of(response: &str) -> u16 {
    response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

// ---------------------------------------------------------------------------
// Unsigned Twilio requests cost nothing before they are refused
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_twilio_form_of_forty_thousand_parameters_is_refused_before_it_is_parsed() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", "+15553330000", json!({})).await;
    // 40,000 parameters: over the byte limit of a telephony body, refused on its
    // declared length alone.
    let big: String = (0..40_000).map(|i| format!("p{i}=v&")).collect();
    let res = raw_post(&app, "/telephony/twilio/voice", big.into_bytes(), FORM, Some("bogus")).await;
    let (status, code, _) = error_of(res).await;
    assert_eq!((status, code.as_str()), (413, "payload_too_large"));

    // Many parameters in few bytes: refused by count, before decoding or signing.
    let many = "a=&".repeat(2_000);
    let res = raw_post(&app, "/telephony/twilio/voice", many.into_bytes(), FORM, Some("bogus")).await;
    let (status, code, message) = error_of(res).await;
    assert_eq!((status, code.as_str()), (413, "too_many_parameters"), "{message}");

    // The same with a real signature: the cap comes first.
    let params: Vec<(String, String)> = (0..300).map(|i| (format!("P{i}"), "v".to_owned())).collect();
    let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = TwilioSide::global(&app)
        .post("/telephony/twilio/voice", &borrowed)
        .await;
    assert_eq!(res.status(), 413);

    // A body without a signature is refused before anything else.
    let res = raw_post(&app, "/telephony/twilio/voice", b"a=1".to_vec(), FORM, None).await;
    assert_eq!(res.status(), 403);
    assert_nothing_recorded(&app, "refused Twilio requests").await;

    // A real call with many (but not too many) parameters is still answered.
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound("+15551234567", "+15553330000");
    let mut params = leg.params("ringing", &[]);
    params.extend((0..150).map(|i| (format!("Extra{i}"), format!("value {i}"))));
    let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = twiml(tw.post("/telephony/twilio/voice", &borrowed).await).await;
    assert_eq!(r.names(), ["Gather"], "{r:#?}");
}

// ---------------------------------------------------------------------------
// /metrics stays the same size whatever the traffic
// ---------------------------------------------------------------------------

#[tokio::test]
async fn metric_labels_come_from_a_closed_set() {
    let app = spawn_app().await;
    let mut tokens = Vec::new();
    for _ in 0..300 {
        let token: String = {
            let mut rng = rand::rng();
            (0..12).map(|_| char::from(rng.random_range(b'A'..=b'Z'))).collect()
        };
        let method = reqwest::Method::from_bytes(token.as_bytes()).unwrap();
        let res = app
            .client
            .request(method, app.url(&format!("/{}/x{token}", token.to_lowercase())))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{}", res.status());
        let res = app
            .client
            .get(app.url(&format!("/nothing/{token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        tokens.push(token);
    }
    let metrics = metrics_text(&app).await;
    for t in &tokens {
        assert!(
            !metrics.contains(t.as_str()) && !metrics.contains(&t.to_lowercase()),
            "a label holds traffic's own text ({t})"
        );
    }
    assert!(
        metrics.contains(r#"method="other""#),
        "unknown methods count as `other`"
    );
    assert!(
        metrics.contains(r#"route="unmatched""#),
        "unknown paths count as `unmatched`"
    );
}

// ---------------------------------------------------------------------------
// Bodies: over the limit refused at once, cut off when chunked, timed out when slow
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_body_declared_over_the_limit_is_refused_at_once() {
    let app = spawn_app().await;
    let mut s = TcpStream::connect(host_port(&app)).await.unwrap();
    let head = format!(
        "POST /v1/api-keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n",
        app.key
    );
    s.write_all(head.as_bytes()).await.unwrap();
    // Not a byte of the body is sent: the answer comes anyway, and the connection closes.
    let response = read_until_closed(&mut s).await;
    assert_eq!(status_of(&response), 413, "{response}");
    assert!(
        response.to_ascii_lowercase().contains("connection: close"),
        "{response}"
    );
    assert!(response.contains("payload_too_large"), "{response}");

    // Twilio's routes have a smaller limit.
    let mut s = TcpStream::connect(host_port(&app)).await.unwrap();
    s.write_all(
        b"POST /telephony/twilio/voice HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          X-Twilio-Signature: x\r\nContent-Length: 70000\r\n\r\n",
    )
    .await
    .unwrap();
    assert_eq!(status_of(&read_until_closed(&mut s).await), 413);
}

#[tokio::test]
async fn an_endless_chunked_body_is_cut_off_at_the_limit() {
    let app = spawn_app_with(|s| s.max_body_bytes = 64 * 1024).await;
    let s = TcpStream::connect(host_port(&app)).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let head = format!(
        "POST /v1/agents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        app.key
    );
    wr.write_all(head.as_bytes()).await.unwrap();
    // Keep sending until the server stops taking it.
    let writer = tokio::spawn(async move {
        let chunk = format!("4000\r\n{}\r\n", " ".repeat(0x4000));
        let mut sent = 0usize;
        while wr.write_all(chunk.as_bytes()).await.is_ok() {
            sent += 0x4000;
            if sent > 64 * 1024 * 1024 {
                break;
            }
        }
        sent
    });
    let mut out = Vec::new();
    let read = tokio::time::timeout(LIVENESS, rd.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "no answer to an endless body");
    let response = String::from_utf8_lossy(&out);
    assert_eq!(status_of(&response), 413, "{response}");
    let sent = writer.await.unwrap();
    assert!(sent < 64 * 1024 * 1024, "the server kept reading: {sent} bytes");
}

#[tokio::test]
async fn a_body_that_stalls_times_out_with_408() {
    let app = spawn_app_with(|s| s.body_timeout = Duration::from_secs(1)).await;
    let mut s = TcpStream::connect(host_port(&app)).await.unwrap();
    let head = format!(
        "POST /v1/api-keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\": ",
        app.key
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let response = read_until_closed(&mut s).await;
    assert_eq!(status_of(&response), 408, "{response}");
    assert!(response.contains("request_timeout"), "{response}");
}

// ---------------------------------------------------------------------------
// Connections that never finish their headers are closed
// ---------------------------------------------------------------------------

#[tokio::test]
async fn connections_that_never_finish_their_headers_are_closed() {
    let app = spawn_app_with(|s| s.connections.header_timeout = Duration::from_secs(1)).await;
    let mut open = Vec::new();
    for _ in 0..200 {
        let mut s = TcpStream::connect(host_port(&app)).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        open.push(s);
    }
    // An idle keep-alive connection goes the same way.
    let mut idle = TcpStream::connect(host_port(&app)).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    open.push(idle);
    for mut s in open {
        let mut buf = Vec::new();
        let closed = tokio::time::timeout(LIVENESS, s.read_to_end(&mut buf)).await;
        assert!(closed.is_ok(), "a stalled connection was kept open");
    }
    // The server still answers.
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn open_connections_are_capped_and_freed() {
    let app = spawn_app_with(|s| {
        s.connections.max_connections = 4;
        s.connections.header_timeout = Duration::from_secs(60);
    })
    .await;
    // Four stalled connections hold every slot...
    let mut stalled = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(host_port(&app)).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        stalled.push(s);
    }
    // ...so a fifth waits, however fast the server is...
    let url = app.url("/healthz");
    let fifth = tokio::spawn(async move { reqwest::Client::new().get(url).send().await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!fifth.is_finished(), "a fifth connection was served past the cap");
    // ...until one of them goes, and frees its slot.
    drop(stalled.pop());
    let res = tokio::time::timeout(LIVENESS, fifth).await;
    assert_eq!(res.expect("served once a slot frees").unwrap().unwrap().status(), 200);
}

// ---------------------------------------------------------------------------
// Twilio tokens: the rule
// ---------------------------------------------------------------------------

/// A Twilio account a workspace stored is checked, for that workspace, with its own
/// token only: the operator's global token does not drive its calls (while it still
/// reaches every workspace that stored no credentials).
#[tokio::test]
async fn the_global_token_does_not_reach_a_workspace_with_its_own_account() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", "+15553330000", json!({})).await;
    let (_, clinic_key) = app.other_workspace(&sid("clinic-")).await;
    let account = sid("AC");
    let token = "7d6c5b4a39281706f5e4d3c2b1a09f8e";
    store_credentials(&app, &clinic_key, &account, token).await;
    twilio_number_with_key(&app, &clinic_key, "dental", "+15552220000", json!({})).await;

    // The clinic's account, signed with the global token: not the clinic's call.
    let forged = TwilioSide::account(&app, &account, GLOBAL_TOKEN);
    let r = twiml(forged.inbound("+15551230009", "+15552220000").voice().await).await;
    assert_eq!(r.names(), ["Say", "Hangup"], "{r:#?}");
    // Signed with the clinic's token: answered.
    let theirs = TwilioSide::account(&app, &account, token);
    let leg = theirs.inbound("+15551230009", "+15552220000");
    let r = twiml(leg.voice().await).await;
    assert_eq!(r.names(), ["Gather"], "{r:#?}");
    // A turn of that call signed with the global token finds no call.
    let forged_leg = Leg {
        tw: &forged,
        sid: leg.sid.clone(),
        from: leg.from.clone(),
        to: leg.to.clone(),
        direction: "inbound",
        call_id: None,
    };
    let r = twiml(forged_leg.say("I want to cancel everything", "0.9").await).await;
    assert_eq!(r.names(), ["Say", "Hangup"], "{r:#?}");
    // The global token still reaches the workspaces that stored nothing.
    let r = twiml(
        TwilioSide::account(&app, GLOBAL_ACCOUNT, GLOBAL_TOKEN)
            .inbound("+15551230010", "+15553330000")
            .voice()
            .await,
    )
    .await;
    assert_eq!(r.names(), ["Gather"], "{r:#?}");
}

// ---------------------------------------------------------------------------
// One input discipline for every resource
// ---------------------------------------------------------------------------

/// An app whose SSRF policy is the default one (the test harness allows private
/// targets so that webhooks can reach its receivers).
async fn strict_app() -> TestApp {
    spawn_app_with(|s| s.delivery.policy.allow_private = false).await
}

fn contractor_with_tool(url: &str) -> Value {
    let mut agent = agent_file("contractor");
    agent["tools"] = json!([{
        "type": "http", "tool_name": "crm", "http_method": "POST", "url": url,
        "body_template": {"name": "{{first_name}}"}, "parameters": []
    }]);
    agent
}

#[tokio::test]
async fn tool_and_webhook_urls_are_refused_alike_when_saved() {
    let app = strict_app().await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:10.0.0.1]/x",
        "file:///etc/passwd",
        "gopher://crm.example.com:70/1",
        "https://crm.exa\nmple.com/",
    ] {
        let (status, body) = post_json(&app, "/v1/agents", contractor_with_tool(url)).await;
        assert_eq!(status, 422, "tool {url:?}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().starts_with("tools[0].url:"),
            "{body}"
        );
        let (status, body) = post_json(&app, "/v1/webhooks", json!({"url": url})).await;
        assert_eq!(status, 422, "webhook {url:?}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().starts_with("url:"), "{body}");
    }
    let list = get_json(&app, "/v1/agents").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "only the demo agent: {list}");
    // A public name is fine for both.
    let (status, _) = post_json(
        &app,
        "/v1/agents",
        contractor_with_tool("https://crm.example.com/leads"),
    )
    .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn body_templates_are_objects_everywhere() {
    let app = spawn_app().await;
    let (status, body) = post_json(
        &app,
        "/v1/webhooks",
        json!({"url": "https://crm.example.com/h", "body_template": [{"a": "{{call_id}}"}]}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().starts_with("body_template:"),
        "{body}"
    );
    let mut agent = contractor_with_tool("https://crm.example.com/leads");
    agent["tools"][0]["body_template"] = json!(["{{first_name}}"]);
    let (status, body) = post_json(&app, "/v1/agents", agent).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("tools[0].body_template:"),
        "{body}"
    );
}

#[tokio::test]
async fn json_bodies_keep_one_syntax() {
    let app = spawn_app().await;
    let send = |path: &'static str, raw: &'static str| {
        app.post(path)
            .header("content-type", "application/json")
            .body(raw)
            .send()
    };
    // Trailing bytes after the value.
    let (status, code, _) = error_of(send("/v1/api-keys", r#"{"name":"a"}xyz"#).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (400, "invalid_json"));
    let keys = get_json(&app, "/v1/api-keys").await;
    assert_eq!(keys["data"].as_array().unwrap().len(), 1, "no key was created: {keys}");
    // Duplicate keys: in typed bodies and in agents alike, at any depth.
    let (status, code, message) = error_of(send("/v1/api-keys", r#"{"name":"a","name":"b"}"#).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (422, "invalid_request"), "{message}");
    let (status, _, message) = error_of(
        send(
            "/v1/agents",
            r#"{"name":"x","business":{"owner_name":"A","owner_name":"B"}}"#,
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    assert!(message.contains("business: duplicate key `owner_name`"), "{message}");
    let (status, _, message) = error_of(
        send(
            "/v1/webhooks",
            r#"{"url":"https://crm.example.com/h","headers":{"X-A":"1","X-A":"2"}}"#,
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    assert!(message.contains("duplicate key `X-A`"), "{message}");
    // Control characters in names: refused for agents as for keys and webhooks.
    for (path, body) in [
        ("/v1/agents", json!({"name": "Front\u{0}desk"})),
        ("/v1/api-keys", json!({"name": "crm\u{1b}[2J"})),
        (
            "/v1/webhooks",
            json!({"name": "a\nb", "url": "https://crm.example.com/h"}),
        ),
    ] {
        let (status, body) = post_json(&app, path, body).await;
        assert_eq!(status, 422, "{path}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().starts_with("name:"),
            "{body}"
        );
    }
    // Malformed JSON, and JSON nested past any sense.
    let (status, code, _) = error_of(send("/v1/api-keys", r#"{"name": "#).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (400, "invalid_json"));
    let deep: &'static str = Box::leak(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_boxed_str());
    let (status, code, _) = error_of(send("/v1/agents", deep).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (400, "invalid_json"));
}

#[tokio::test]
async fn what_a_tenant_configures_is_bounded() {
    let app = spawn_app().await;
    // The finding: an enum of 20,000 options.
    let mut agent = agent_file("contractor");
    agent["data_to_collect"][0] = json!({
        "field": "size", "type": "enum",
        "options": (0..20_000).map(|i| format!("option {i}")).collect::<Vec<_>>()
    });
    let (status, body) = post_json(&app, "/v1/agents", agent).await;
    assert_eq!(status, 422, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("data_to_collect[0].options:") && message.contains("at most 100"),
        "{message}"
    );
    // The whole configuration.
    let mut agent = agent_file("contractor");
    agent["knowledge"] = json!(
        (0..400)
            .map(|i| json!({"question": format!("question {i}?"), "answer": "a".repeat(700)}))
            .collect::<Vec<_>>()
    );
    let (status, body) = post_json(&app, "/v1/agents", agent).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("at most 256 KiB"),
        "{body}"
    );
    // And replacing an agent is held to the same limits.
    let (status, created) = post_json(&app, "/v1/agents", agent_file("contractor")).await;
    assert_eq!(status, 201);
    let mut agent = agent_file("contractor");
    agent["call_types"][0]["keywords"] = json!(vec!["quote"; 60]);
    let res = app
        .client
        .put(app.url(&format!("/v1/agents/{}", created["id"].as_str().unwrap())))
        .bearer_auth(&app.key)
        .json(&agent)
        .send()
        .await
        .unwrap();
    let (status, _, message) = error_of(res).await;
    assert_eq!(status, 422);
    assert!(message.starts_with("call_types[0].keywords:"), "{message}");
}

// ---------------------------------------------------------------------------
// What already held, kept: ids of another workspace, SSRF literal forms
// ---------------------------------------------------------------------------

/// Every documented operation with an id, called by another workspace's key with this
/// workspace's ids: never a success, never this workspace's data.
#[tokio::test]
async fn no_route_reaches_another_workspaces_ids() {
    let app = spawn_app().await;
    // One of everything in workspace `default`.
    let (_, agent) = post_json(&app, "/v1/agents", agent_file("contractor")).await;
    let agent_id = agent["id"].as_str().unwrap().to_owned();
    let (_, number) = post_json(
        &app,
        "/v1/numbers",
        json!({"number": "+15553330000", "agent_id": agent_id, "provider": "sim"}),
    )
    .await;
    let (_, webhook) = post_json(&app, "/v1/webhooks", json!({"url": "https://crm.example.com/h"})).await;
    let (_, call) = post_json(
        &app,
        "/v1/sim/calls",
        json!({"from": "+15551234567", "to": "+15553330000"}),
    )
    .await;
    let call_id = call["call_id"].as_str().unwrap().to_owned();
    let events = get_json(&app, "/v1/events").await;
    let event_id = events["data"][0]["id"].as_str().unwrap().to_owned();
    let deliveries = get_json(&app, "/v1/deliveries").await;
    let delivery_id = deliveries["data"][0]["id"].as_str().unwrap().to_owned();
    let (key_id, _) = app.create_key("mine").await;
    let ids = [
        ("/v1/agents/", agent_id.clone()),
        ("/v1/numbers/", number["id"].as_str().unwrap().to_owned()),
        ("/v1/webhooks/", webhook["id"].as_str().unwrap().to_owned()),
        ("/v1/calls/", call_id.clone()),
        ("/v1/sim/calls/", call_id.clone()),
        ("/v1/events/", event_id),
        ("/v1/deliveries/", delivery_id),
        ("/v1/api-keys/", key_id),
    ];

    let (_, stranger) = app.other_workspace("stranger").await;
    let doc: Value = app
        .client
        .get(app.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut tried = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.contains("{id}") {
            continue;
        }
        let (_, id) = ids
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix))
            .unwrap_or_else(|| panic!("no id for {path}: add the resource to this test"));
        let concrete = path.replace("{id}", id);
        for method in item.as_object().unwrap().keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = app
                .client
                .request(m, app.url(&concrete))
                .bearer_auth(&stranger)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body = res.text().await.unwrap();
            assert!(
                status == 404 || status == 422,
                "{method} {concrete} by another workspace answered {status}: {body}"
            );
            assert!(
                !body.contains(id.as_str()) || status == 404,
                "{method} {concrete} leaks: {body}"
            );
            tried += 1;
        }
    }
    assert!(tried >= 15, "only {tried} operations tried");
    // Everything is still there for its owner.
    let res = app.get(&format!("/v1/calls/{call_id}")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = app.get(&format!("/v1/agents/{agent_id}")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn literal_private_addresses_in_every_spelling_are_refused() {
    let app = strict_app().await;
    for url in [
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://0x7f.1/",
        "http://127.1/",
        "http://[0:0:0:0:0:ffff:7f00:1]/",
        "http://[::]/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://224.0.0.1/",
        "http://[64:ff9b::a9fe:a9fe]/",
    ] {
        let (status, body) = post_json(&app, "/v1/webhooks", json!({"url": url})).await;
        assert_eq!(status, 422, "{url}: {body}");
        let (status, body) = post_json(&app, "/v1/agents", contractor_with_tool(url)).await;
        assert_eq!(status, 422, "{url}: {body}");
    }
}

// ---------------------------------------------------------------------------
// Secrets at rest
// ---------------------------------------------------------------------------

/// With a master key, no secret a tenant gives or gets rests in clear: not a webhook's
/// signing secret, not its custom header values, not a tool's header values, not a new
/// API key kept for idempotent replay. The API and the deliveries still see them.
#[tokio::test]
async fn secrets_are_sealed_at_rest() {
    let app = spawn_app_with(|s| s.master_key = Some(crate::twilio_support::MASTER_KEY.into())).await;
    let hook = Receiver::start().await;
    let webhook_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let crm_token = "Bearer crm-token-5f0c7a1e9b";
    let (status, w) = post_json(
        &app,
        "/v1/webhooks",
        json!({"url": hook.url("/in"), "secret": webhook_secret, "headers": {"Authorization": crm_token}}),
    )
    .await;
    assert_eq!(status, 201, "{w}");
    let tool_token = "Bearer tool-token-7d2e4c";
    let mut agent = agent_file("contractor");
    agent["tools"] = json!([{"type": "http", "tool_name": "crm", "http_method": "POST",
        "url": "https://crm.example.com/leads", "headers": {"Authorization": tool_token}, "parameters": []}]);
    let (status, a) = post_json(&app, "/v1/agents", agent).await;
    assert_eq!(status, 201, "{a}");
    let create_key = || {
        app.post("/v1/api-keys")
            .header("idempotency-key", "create-crm-key")
            .json(&json!({"name": "crm"}))
            .send()
    };
    let created: Value = create_key().await.unwrap().json().await.unwrap();
    let api_key = created["key"].as_str().unwrap().to_owned();
    // Rotation keeps the old secret (sealed) for its window.
    let res = app
        .post(&format!("/v1/webhooks/{}/rotate-secret", w["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    let rotated: Value = res.json().await.unwrap();
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();

    // The API answers with them as given.
    let got: Value = get_json(&app, &format!("/v1/webhooks/{}", w["id"].as_str().unwrap())).await;
    assert_eq!(got["headers"]["Authorization"], crm_token);
    let got: Value = get_json(&app, &format!("/v1/agents/{}", a["id"].as_str().unwrap())).await;
    assert_eq!(got["tools"][0]["headers"]["Authorization"], tool_token);
    let replayed: Value = create_key().await.unwrap().json().await.unwrap();
    assert_eq!(
        replayed["key"],
        api_key.as_str(),
        "a replay answers the sealed response whole"
    );
    // A delivery carries the header and verifies with both secrets.
    let res = app
        .post(&format!("/v1/webhooks/{}/test", w["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let got = hook.wait_for(1, LIVENESS).await;
    assert_eq!(got[0].header("authorization"), crm_token);
    crate::delivery::python_verify(&[&new_secret, webhook_secret], &got[0]);

    // The files on disk hold none of them.
    for (clear, what) in [
        (webhook_secret, "the old webhook secret"),
        (new_secret.as_str(), "the webhook secret"),
        ("crm-token-5f0c7a1e9b", "a webhook header value"),
        ("tool-token-7d2e4c", "a tool header value"),
        (api_key.as_str(), "the new API key"),
    ] {
        app.assert_not_at_rest(clear, what).await;
    }
}

// ---------------------------------------------------------------------------
// Retention
// ---------------------------------------------------------------------------

/// With `FRONTDESK_RETENTION`, a finished call's contents and its events go once they
/// are older than the period; the call keeps its ids, times and outcome; the purge is
/// counted in metrics.
#[tokio::test]
async fn retention_purges_call_contents_and_events() {
    let app = spawn_app_with(|s| s.retention = Some(Duration::from_secs(1))).await;
    let (_, call) = post_json(
        &app,
        "/v1/sim/calls",
        json!({"from": "+15551234567", "to": "+15550100000"}),
    )
    .await;
    let id = call["call_id"].as_str().unwrap().to_owned();
    let (_, _) = post_json(
        &app,
        &format!("/v1/sim/calls/{id}/turns"),
        json!({"text": "Hi, this is Jane Doe, I'd like to leave a message"}),
    )
    .await;
    let (status, _) = post_json(&app, &format!("/v1/sim/calls/{id}/hangup"), json!({})).await;
    assert_eq!(status, 200);
    let before: Value = get_json(&app, &format!("/v1/calls/{id}")).await;
    assert!(!before["transcript"].as_str().unwrap().is_empty());

    let after = eventually("the call's purge", async || {
        let c = get_json(&app, &format!("/v1/calls/{id}")).await;
        c["purged_at"].is_string().then_some(c)
    })
    .await;
    assert_eq!(after["turns"], json!([]));
    assert_eq!(after["transcript"], "");
    assert_eq!(after["custom_fields"], json!({}));
    assert_eq!(after["caller"]["name"], Value::Null);
    assert_eq!(after["caller"]["phone"], "+15551234567");
    for kept in [
        "id",
        "status",
        "direction",
        "from",
        "to",
        "started_at",
        "ended_at",
        "end_reason",
    ] {
        assert_eq!(after[kept], before[kept], "{kept} is kept");
    }
    // The events go too (once older than the period).
    eventually("the events' purge", async || {
        let events = get_json(&app, &format!("/v1/events?call_id={id}")).await;
        events["data"].as_array().unwrap().is_empty().then_some(())
    })
    .await;
    let metrics = metrics_text(&app).await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with(r#"frontdesk_retention_purged_total{kind="calls"}"#)),
        "{metrics}"
    );
}
