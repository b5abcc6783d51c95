//! The receptionist over HTTP: agents and numbers, simulated calls turn by turn, the
//! call record, events delivered to webhooks, HTTP tools, outbound calls.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, agent_file, error_of, post_json, spawn_app};
use crate::receiver::{Receiver, Reply};

/// Creates an agent and a sim number for it; returns (agent id, number).
async fn agent_on_number(app: &TestApp, config: Value, number: &str) -> String {
    let (s, agent) = post_json(app, "/v1/agents", config).await;
    assert_eq!(s, 201, "{agent}");
    let id = agent["id"].as_str().unwrap().to_owned();
    let (s, n) = post_json(
        app,
        "/v1/numbers",
        json!({"number": number, "agent_id": id, "provider": "sim"}),
    )
    .await;
    assert_eq!(s, 201, "{n}");
    id
}

async fn say(app: &TestApp, call: &str, text: &str) -> Value {
    let (s, r) = post_json(app, &format!("/v1/sim/calls/{call}/turns"), json!({"text": text})).await;
    assert_eq!(s, 200, "{r}");
    r
}

#[tokio::test]
async fn bad_agent_configurations_name_the_problem() {
    let app = spawn_app().await;
    let base = agent_file("contractor");
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Mutation, &str, &str)> = vec![
        (
            Box::new(|v| v["data_to_collect"][0]["type"] = json!("colour")),
            "data_to_collect[0].type",
            "not a field type",
        ),
        (
            Box::new(|v| {
                v["data_to_collect"][3]
                    .as_object_mut()
                    .unwrap()
                    .remove("options")
                    .map(|_| ())
                    .unwrap()
            }),
            "data_to_collect[3].options",
            "options",
        ),
        (
            Box::new(|v| v["data_to_collect"][1]["field"] = json!("first_name")),
            "data_to_collect[1].field",
            "duplicate",
        ),
        (
            Box::new(|v| v["closing"] = json!("Bye {{frist_name}}")),
            "closing",
            "frist_name",
        ),
    ];
    for (mutate, path, words) in cases {
        let mut v = base.clone();
        mutate(&mut v);
        let res = app.post("/v1/agents").json(&v).send().await.unwrap();
        let (status, code, message) = error_of(res).await;
        assert_eq!((status, code.as_str()), (422, "invalid_request"), "{message}");
        assert!(message.starts_with(path) && message.contains(words), "{message}");
    }
    // Unknown keys are ignored and reported.
    let mut v = base.clone();
    v["greting"] = json!("hi");
    let (s, a) = post_json(&app, "/v1/agents", v).await;
    assert_eq!(s, 201);
    assert!(a["warnings"][0].as_str().unwrap().contains("greting"), "{a}");
}

#[tokio::test]
async fn agents_and_numbers_crud() {
    let app = spawn_app().await;
    let id = agent_on_number(&app, agent_file("dental"), "+15552220000").await;
    let got: Value = app
        .get(&format!("/v1/agents/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["name"], "Bright Smile Dental reception");
    assert_eq!(got["data_to_collect"][0]["field"], "patient_name");
    let list: Value = app.get("/v1/agents").send().await.unwrap().json().await.unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 2, "demo agent and this one");
    // Replace.
    let mut cfg = agent_file("dental");
    cfg["name"] = json!("Renamed");
    let res = app
        .client
        .put(app.url(&format!("/v1/agents/{id}")))
        .bearer_auth(&app.key)
        .json(&cfg)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["name"], "Renamed");
    // A number in use.
    let res = app
        .post("/v1/numbers")
        .json(&json!({"number": "+15552220000", "agent_id": id}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await.0, 409);
    let res = app
        .post("/v1/numbers")
        .json(&json!({"number": "555", "agent_id": id}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await.0, 422);
    let res = app
        .post("/v1/numbers")
        .json(&json!({"number": "+15552220001", "agent_id": "agt_01JD3Q2W8M6Y7Z0ABCDEF12345"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await.0, 404);
    // The agent answers a number: it cannot go.
    let res = app.delete(&format!("/v1/agents/{id}")).send().await.unwrap();
    let (status, _, message) = error_of(res).await;
    assert_eq!(status, 409);
    assert!(message.contains("+15552220000"), "{message}");
    let numbers: Value = app.get("/v1/numbers").send().await.unwrap().json().await.unwrap();
    let nid = numbers["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["number"] == "+15552220000")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.delete(&format!("/v1/numbers/{nid}")).send().await.unwrap().status(),
        204
    );
    assert_eq!(
        app.delete(&format!("/v1/agents/{id}")).send().await.unwrap().status(),
        204
    );
}

#[tokio::test]
async fn a_simulated_call_end_to_end_with_its_events() {
    let app = spawn_app().await;
    let hook = Receiver::start().await;
    let (s, _) = post_json(
        &app,
        "/v1/webhooks",
        json!({"url": hook.url("/hook"), "numbers": ["+15553330000"]}),
    )
    .await;
    assert_eq!(s, 201);
    agent_on_number(&app, agent_file("contractor"), "+15553330000").await;

    let (s, start) = post_json(
        &app,
        "/v1/sim/calls",
        json!({"from": "+15551230001", "to": "+15553330000"}),
    )
    .await;
    assert_eq!(s, 201, "{start}");
    assert!(start["say"].as_str().unwrap().contains("Acme Contracting"));
    assert_eq!(start["ended"], false);
    let call = start["call_id"].as_str().unwrap().to_owned();

    let r = say(&app, &call, "Hi, I'd like to get a quote for a kitchen remodel.").await;
    assert_eq!(r["awaiting_field"], "first_name");
    let script = [
        ("first_name", "Sure, it's John Smith."),
        ("phone", "You can reach me at 555 867 5309."),
        ("email", "john dot smith at gmail dot com"),
        ("budget", "Somewhere between fifteen and twenty thousand dollars."),
        ("timeline", "In the next three months."),
    ];
    let mut r = r;
    for (field, text) in script {
        assert_eq!(r["awaiting_field"], field, "{r}");
        r = say(&app, &call, text).await;
    }
    assert_eq!(r["awaiting_field"], Value::Null);
    let r = say(&app, &call, "No, that's everything, thanks.").await;
    assert_eq!(r["ended"], true);
    assert!(r["say"].as_str().unwrap().contains("Thanks John Smith"), "{r}");

    let c: Value = app
        .get(&format!("/v1/calls/{call}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(c["status"], "completed");
    assert_eq!(c["direction"], "inbound");
    assert_eq!(c["call_type"], "quote_request");
    assert_eq!(
        c["caller"],
        json!({"phone": "+15551230001", "name": "John Smith", "email": "john.smith@gmail.com"})
    );
    assert_eq!(c["custom_fields"]["service_type"], "kitchen remodel");
    assert_eq!(c["custom_fields"]["phone"], "+15558675309");
    assert_eq!(c["custom_fields"]["budget"], "$15,000-$20,000");
    assert_eq!(c["end_reason"], "completed");
    assert!(c["ai_summary"].as_str().unwrap().contains("John Smith"));
    assert!(
        c["transcript"]
            .as_str()
            .unwrap()
            .starts_with("Agent: Thanks for calling")
    );
    assert_eq!(c["turns"].as_array().unwrap().len(), 15);
    assert!(c["ended_at"].is_string());

    // Every step reached the webhook, in the SPEC's shapes.
    let got = hook.wait_for(9, Duration::from_secs(10)).await;
    let events: Vec<Value> = got.iter().map(|g| g.json()).collect();
    let names: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    for e in ["call.answered", "data.collected", "call.ended", "transcript.ready"] {
        assert!(names.contains(&e), "{e} in {names:?}");
    }
    assert_eq!(names.iter().filter(|n| **n == "data.collected").count(), 6, "{names:?}");
    let ended = events.iter().find(|e| e["event"] == "call.ended").unwrap();
    assert_eq!(ended["data"]["call_id"], call.as_str());
    assert_eq!(ended["data"]["receiving_number"], "+15553330000");
    assert_eq!(ended["data"]["custom_fields"]["email"], "john.smith@gmail.com");
    assert!(ended["data"]["transcript"].as_str().unwrap().contains("Caller: "));
    let collected = events
        .iter()
        .find(|e| e["event"] == "data.collected" && e["data"]["field"] == "email")
        .unwrap();
    assert_eq!(collected["data"]["value"], "john.smith@gmail.com");
    let ready = events.iter().find(|e| e["event"] == "transcript.ready").unwrap();
    assert_eq!(ready["data"]["turns"][0]["speaker"], "agent");

    // The call is over.
    let res = app
        .post(&format!("/v1/sim/calls/{call}/turns"))
        .json(&json!({"text": "hello?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await.0, 409);
    // Filters.
    let list: Value = app
        .get("/v1/calls?status=completed&call_type=quote_request&number=%2B15553330000")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let list: Value = app
        .get("/v1/calls?direction=outbound")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
    let res = app.get("/v1/calls?status=done").send().await.unwrap();
    assert_eq!(error_of(res).await.0, 400);
}

#[tokio::test]
async fn transfer_and_message_events() {
    let app = spawn_app().await;
    let hook = Receiver::start().await;
    post_json(
        &app,
        "/v1/webhooks",
        json!({"url": hook.url("/"), "events": ["call.transferred", "message.collected"]}),
    )
    .await;
    agent_on_number(&app, agent_file("contractor"), "+15553330001").await;

    let (_, start) = post_json(
        &app,
        "/v1/sim/calls",
        json!({"from": "+15551230004", "to": "+15553330001"}),
    )
    .await;
    let call = start["call_id"].as_str().unwrap();
    let r = say(&app, call, "Can I just talk to a real person please?").await;
    assert_eq!(r["ended"], true);
    assert_eq!(r["transferred_to"], "+15557654321");

    let (_, start) = post_json(
        &app,
        "/v1/sim/calls",
        json!({"from": "+15551230007", "to": "+15553330001"}),
    )
    .await;
    let call = start["call_id"].as_str().unwrap();
    let mut r = say(&app, call, "I'd like to leave a message for Mike please.").await;
    for _ in 0..6 {
        let text = match r["awaiting_field"].as_str() {
            Some("first_name") => "Tom Becker",
            Some("phone") => "555 303 4040",
            Some("email") => "tom at becker dot com",
            Some("message") => "Tell Mike the permit came through.",
            _ => break,
        };
        r = say(&app, call, text).await;
    }
    let c: Value = app
        .get(&format!("/v1/calls/{call}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(c["message"].as_str().unwrap().contains("permit"), "{c}");
    assert_eq!(c["call_type"], "message");

    let got = hook.wait_for(2, Duration::from_secs(10)).await;
    let events: Vec<Value> = got.iter().map(|g| g.json()).collect();
    let t = events
        .iter()
        .find(|e| e["event"] == "call.transferred")
        .unwrap_or_else(|| panic!("{events:?}"));
    assert_eq!(t["data"]["transferred_to"], "+15557654321");
    assert!(t["data"]["reason"].as_str().unwrap().contains("person"));
    let m = events.iter().find(|e| e["event"] == "message.collected").unwrap();
    assert!(m["data"]["message"].as_str().unwrap().contains("permit"));
}

#[tokio::test]
async fn tools_are_called_with_collected_fields_and_never_break_the_call() {
    let app = spawn_app().await;
    let crm = Receiver::start().await;
    crm.reply(Reply {
        body: r#"{"say": "I've created your file, number 42.", "budget": "5000"}"#.into(),
        ..Reply::default()
    });
    let mut cfg = agent_file("contractor");
    cfg["tools"] = json!([
        {"type": "http", "tool_name": "submitLead", "http_method": "POST", "url": crm.url("/leads?src={{call_id}}"),
         "headers": {"Authorization": "Bearer t0ken"},
         "body_template": {"name": "{{first_name}}", "phone": "{{caller_number}}", "email": "{{email}}"},
         "parameters": [{"name": "first_name"}, {"name": "email"}]},
        {"type": "http", "tool_name": "broken", "url": "http://127.0.0.1:9/nothing", "parameters": [{"name": "first_name"}]}
    ]);
    agent_on_number(&app, cfg, "+15553330002").await;
    let (_, start) = post_json(
        &app,
        "/v1/sim/calls",
        json!({"from": "+15551230009", "to": "+15553330002"}),
    )
    .await;
    let call = start["call_id"].as_str().unwrap();
    say(&app, call, "I need a quote for plumbing").await;
    let r = say(&app, call, "Sam Okafor").await;
    assert_eq!(
        r["awaiting_field"], "phone",
        "the broken tool did not break the turn: {r}"
    );
    say(&app, call, "555 717 2020").await;
    let r = say(&app, call, "sam.okafor@gmail.com").await;
    assert!(
        r["say"].as_str().unwrap().contains("number 42"),
        "the tool's say is spoken: {r}"
    );
    assert_ne!(r["awaiting_field"], "budget", "the tool's reply filled the budget: {r}");

    let got = crm.got();
    assert_eq!(got.len(), 1);
    assert!(got[0].uri.starts_with("/leads?src=call_"));
    assert_eq!(got[0].header("authorization"), "Bearer t0ken");
    assert_eq!(
        got[0].json(),
        json!({"name": "Sam Okafor", "phone": "+15551230009", "email": "sam.okafor@gmail.com"})
    );

    let c: Value = app
        .get(&format!("/v1/calls/{call}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tools = c["tool_calls"].as_array().unwrap();
    assert_eq!(tools.len(), 2, "{tools:?}");
    let broken = tools.iter().find(|t| t["tool"] == "broken").unwrap();
    assert_eq!(broken["ok"], false);
    assert!(broken["error"].is_string());
    let ok = tools.iter().find(|t| t["tool"] == "submitLead").unwrap();
    assert_eq!((ok["ok"].clone(), ok["status"].clone()), (json!(true), json!(200)));
    assert_eq!(c["custom_fields"]["budget"], "$5,000");
}

#[tokio::test]
async fn outbound_calls_through_the_simulator() {
    let app = spawn_app().await;
    let (s, placed) = post_json(
        &app,
        "/v1/calls",
        json!({"to": "+15559871234", "purpose": "your appointment tomorrow"}),
    )
    .await;
    assert_eq!(s, 201, "{placed}");
    assert_eq!(placed["direction"], "outbound");
    assert_eq!(placed["status"], "in_progress");
    assert_eq!(placed["from"], "+15550100000");
    assert_eq!(placed["to"], "+15559871234");
    assert!(
        placed["say"].as_str().unwrap().contains("your appointment tomorrow"),
        "{placed}"
    );
    let call = placed["id"].as_str().unwrap();
    let r = say(&app, call, "Sure, this is Dana Reyes, what's up?").await;
    assert_eq!(r["ended"], false);
    let res = app.post(&format!("/v1/calls/{call}/hangup")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let c: Value = res.json().await.unwrap();
    assert_eq!(c["status"], "completed");
    assert_eq!(c["end_reason"], "api_hangup");
    assert_eq!(c["purpose"], "your appointment tomorrow");
    assert_eq!(c["caller"]["phone"], "+15559871234");
    // Errors say what to fix.
    let res = app
        .post("/v1/calls")
        .json(&json!({"to": "+15559871234", "from": "+15550109999"}))
        .send()
        .await
        .unwrap();
    let (status, _, message) = error_of(res).await;
    assert_eq!(status, 422);
    assert!(message.contains("POST /v1/numbers"), "{message}");
    let res = app
        .post("/v1/sim/calls")
        .json(&json!({"from": "+15551230001", "to": "+15550109999"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await.0, 404);
}

/// Silence in the simulator (an empty turn) follows the rule of every channel: asked
/// again once, the question skipped on a second silence, the call closed (`no_input`)
/// on a third in a row; a word in between starts the count again.
#[tokio::test]
async fn simulator_silence_is_asked_again_then_skipped_then_ends_the_call() {
    let app = spawn_app().await;
    agent_on_number(&app, agent_file("contractor"), "+15553330000").await;
    let (s, start) = post_json(
        &app,
        "/v1/sim/calls",
        json!({"from": "+15551230001", "to": "+15553330000"}),
    )
    .await;
    assert_eq!(s, 201, "{start}");
    let call = start["call_id"].as_str().unwrap().to_owned();

    let r = say(&app, &call, "").await;
    assert!(
        r["say"].as_str().unwrap().starts_with("Sorry, I didn't catch that."),
        "{r}"
    );
    assert_eq!(r["ended"], false);
    let r = say(&app, &call, "Hi, I'd like to get a quote for a kitchen remodel.").await;
    assert_eq!(r["awaiting_field"], "first_name", "a word resets the count: {r}");
    let r = say(&app, &call, "   ").await;
    assert_eq!(r["awaiting_field"], "first_name", "asked again: {r}");
    let r = say(&app, &call, "").await;
    assert!(
        r["say"].as_str().unwrap().contains("confirm that with you later"),
        "{r}"
    );
    assert_eq!(r["awaiting_field"], "phone", "moved on: {r}");
    let r = say(&app, &call, "").await;
    assert_eq!(r["ended"], true, "three silences in a row: {r}");
    let c = crate::twilio_support::call(&app, &call).await;
    assert_eq!(c["end_reason"], "no_input", "{c}");
    assert_eq!(c["status"], "completed", "{c}");
}
