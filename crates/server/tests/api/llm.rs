//! The `llm` and `hybrid` brains end to end: the real server, a simulated call over
//! the REST API, and a stand-in OpenAI-compatible server (`frontdesk_llm::stand_in`)
//! that answers in the real wire format (SSE chunks, `tool_calls` deltas split across
//! chunks, `finish_reason`), scripted per test. Every failure SPEC section 8 names falls
//! back (to the agent's next endpoint, then the rules) and the call carries on.

use std::time::Duration;

use frontdesk_llm::stand_in::{self, Reply, StandIn, Step};
use serde_json::{Value, json};

use crate::helpers::{TestApp, agent_file, post_json, spawn_app_with};

const NUMBER: &str = "+15553330000";
const CALLER: &str = "+15551230001";

/// A server whose model is `llm` on `llm` (first-token timeout 500 ms).
async fn app_on(llm: &StandIn) -> TestApp {
    let base = llm.base_url();
    spawn_app_with(move |s| {
        s.models.base_url = Some(base);
        s.models.model = Some("stand-in-model".into());
        s.models.api_key = Some("sk-test".into());
        s.models.first_token_timeout = Duration::from_millis(500);
        s.models.overall_timeout = Duration::from_secs(5);
    })
    .await
}

/// The contractor agent on `brain`, with `extra` merged in, on a sim number.
async fn agent(app: &TestApp, brain: &str, extra: Value) -> String {
    let mut cfg = agent_file("contractor");
    cfg["brain"] = json!(brain);
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        cfg[k] = v;
    }
    let (s, a) = post_json(app, "/v1/agents", cfg).await;
    assert_eq!(s, 201, "{a}");
    let id = a["id"].as_str().unwrap().to_owned();
    let (s, n) = post_json(
        app,
        "/v1/numbers",
        json!({"number": NUMBER, "agent_id": id, "provider": "sim"}),
    )
    .await;
    assert_eq!(s, 201, "{n}");
    id
}

async fn start(app: &TestApp) -> (String, Value) {
    let (s, r) = post_json(app, "/v1/sim/calls", json!({"from": CALLER, "to": NUMBER})).await;
    assert_eq!(s, 201, "{r}");
    (r["call_id"].as_str().unwrap().to_owned(), r)
}

async fn say(app: &TestApp, call: &str, text: &str) -> Value {
    let (s, r) = post_json(app, &format!("/v1/sim/calls/{call}/turns"), json!({"text": text})).await;
    assert_eq!(s, 200, "{r}");
    r
}

async fn call_record(app: &TestApp, call: &str) -> Value {
    let res = app.get(&format!("/v1/calls/{call}")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn metrics(app: &TestApp) -> String {
    app.client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn tool_results(body: &Value) -> Vec<Value> {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| serde_json::from_str(m["content"].as_str().unwrap()).unwrap())
        .collect()
}

#[tokio::test]
async fn a_whole_call_driven_by_tool_calls() {
    let llm = StandIn::start().await;
    let app = app_on(&llm).await;
    agent(&app, "llm", json!({})).await;
    let (call, r) = start(&app).await;
    assert!(r["say"].as_str().unwrap().contains("Acme Contracting"), "{r}");

    llm.reply(stand_in::tool_reply(&[
        ("c1", "set_call_type", r#"{"call_type": "quote_request"}"#),
        (
            "c2",
            "set_field",
            r#"{"field": "first_name", "value": "it's john smith"}"#,
        ),
    ]))
    .reply(stand_in::text_reply(&[
        "Thanks John. ",
        "What's the best email for you?",
    ]));
    let r = say(
        &app,
        &call,
        "Hi, I'd like a quote for a kitchen remodel, this is John Smith",
    )
    .await;
    assert_eq!(r["say"], "Thanks John. What's the best email for you?");

    // An invalid email: refused back to the model, nothing stored; the model asks again.
    llm.reply(stand_in::tool_reply(&[(
        "c3",
        "set_field",
        r#"{"field": "email", "value": "john at"}"#,
    )]))
    .reply(stand_in::text_reply(&["Sorry, could you spell that email for me?"]));
    let r = say(&app, &call, "it's john at").await;
    assert_eq!(r["say"], "Sorry, could you spell that email for me?");
    let c = call_record(&app, &call).await;
    assert!(c["custom_fields"].get("email").is_none(), "{c}");
    let refused = &llm.requests()[3].body;
    let err = tool_results(refused).last().unwrap()["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(err.contains("not a valid email"), "{err}");

    llm.reply(stand_in::tool_reply(&[(
        "c4",
        "set_field",
        r#"{"field": "email", "value": "john dot smith at gmail dot com"}"#,
    )]))
    .reply(stand_in::text_reply(&["Got it. ", "Anything else?"]));
    say(&app, &call, "john dot smith at gmail dot com").await;
    // Goodbye: the model ends the call, then writes the summary.
    llm.reply(Reply::Stream(vec![
        stand_in::role(),
        stand_in::text("Thanks John, goodbye!"),
        stand_in::tool_start(0, "c5", "end_call"),
        stand_in::tool_args(0, "{}"),
        stand_in::finish("tool_calls"),
        Step::Done,
    ]))
    .reply(stand_in::text_reply(&[
        r#"{"summary": "John Smith wants a quote for a kitchen remodel. "#,
        r#"Email john.smith@gmail.com. Call him back with a quote.", "call_type": "quote_request"}"#,
    ]));
    let r = say(&app, &call, "no that's all").await;
    assert_eq!(r["ended"], true, "{r}");
    assert_eq!(r["say"], "Thanks John, goodbye!");

    let c = call_record(&app, &call).await;
    assert_eq!(c["status"], "completed");
    assert_eq!(c["call_type"], "quote_request");
    assert_eq!(c["custom_fields"]["first_name"], "John Smith");
    assert_eq!(c["custom_fields"]["email"], "john.smith@gmail.com");
    assert_eq!(
        c["ai_summary"],
        "John Smith wants a quote for a kitchen remodel. Email john.smith@gmail.com. Call him back with a quote."
    );
    assert_eq!(c["brain"], "llm");
    assert_eq!(c["brain_turns"], json!({"total": 4, "model": 4}));
    assert_eq!(c["brain_events"][0]["kind"], "refused", "{}", c["brain_events"]);

    // What the model got: the OpenAI wire format, streamed, the key, every tool.
    let first = &llm.requests()[0];
    assert_eq!(first.path, "/v1/chat/completions");
    assert_eq!(first.authorization.as_deref(), Some("Bearer sk-test"));
    assert_eq!(first.body["model"], "stand-in-model");
    assert_eq!(first.body["stream"], true);
    let tools: Vec<&str> = first.body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        tools[..6],
        [
            "set_field",
            "set_call_type",
            "transfer_call",
            "take_message",
            "search_knowledge",
            "end_call"
        ]
    );
    assert!(
        first.body.get("speak").is_none(),
        "nothing of ours leaks into the request"
    );
}

#[tokio::test]
async fn transfer_and_message_by_the_model() {
    let llm = StandIn::start().await;
    let app = app_on(&llm).await;
    agent(&app, "llm", json!({})).await;
    let (call, _) = start(&app).await;
    llm.reply(stand_in::tool_reply(&[(
        "t1",
        "transfer_call",
        r#"{"reason": "wants the owner"}"#,
    )]))
    .reply(stand_in::text_reply(&[
        r#"{"summary": "Wanted the owner; transferred.", "call_type": null}"#,
    ]));
    let r = say(&app, &call, "can I speak with the owner please").await;
    assert_eq!(r["ended"], true, "{r}");
    assert_eq!(r["transferred_to"], "+15557654321");
    assert!(!r["say"].as_str().unwrap().is_empty(), "the caller hears the transfer");
    let c = call_record(&app, &call).await;
    assert_eq!(c["ai_summary"], "Wanted the owner; transferred.");

    let (call, _) = start(&app).await;
    llm.reply(stand_in::tool_reply(&[(
        "m1",
        "take_message",
        r#"{"message": "Tell Mike the permit came through"}"#,
    )]))
    .reply(stand_in::text_reply(&["I'll pass that on to Mike."]));
    let r = say(&app, &call, "can you tell Mike the permit came through").await;
    assert_eq!(r["say"], "I'll pass that on to Mike.");
    let c = call_record(&app, &call).await;
    assert_eq!(c["message"], "Tell Mike the permit came through");
}

#[tokio::test]
async fn each_failure_falls_back_to_the_next_endpoint_then_the_rules() {
    let main = StandIn::start().await;
    let backup = StandIn::start().await;
    let app = app_on(&main).await;
    agent(
        &app,
        "llm",
        json!({"llm": {"fallbacks": [{"base_url": backup.base_url(), "model": "backup-model"}]}}),
    )
    .await;
    // The main endpoint answers 500: the backup answers, and the call notes it.
    main.reply(Reply::Status(500, r#"{"error": {"message": "boom"}}"#.into()));
    backup.reply(stand_in::text_reply(&[
        "Happy to help with a quote. May I have your name?",
    ]));
    let (call, _) = start(&app).await;
    let r = say(&app, &call, "I'd like a quote for a new deck").await;
    assert_eq!(r["say"], "Happy to help with a quote. May I have your name?");
    let c = call_record(&app, &call).await;
    let e = &c["brain_events"][0];
    assert_eq!(
        (e["kind"].as_str(), e["reason"].as_str()),
        (Some("fallback"), Some("http_5xx")),
        "{e}"
    );
    assert!(e["endpoint"].as_str().unwrap().contains(&main.base_url()), "{e}");
    assert_eq!(backup.requests()[0].body["model"], "backup-model");
    assert!(
        metrics(&app)
            .await
            .contains(r#"frontdesk_llm_fallbacks_total{reason="http_5xx"}"#)
    );
}

/// Each failure SPEC section 8 names, on an agent with one endpoint: the rules take the
/// turn (the reply the rules brain gives), the call carries on, and the fallback is
/// noted and counted.
#[tokio::test]
async fn every_failure_leaves_the_turn_to_the_rules_and_the_call_carries_on() {
    let cases: Vec<(&str, Reply)> = vec![
        ("timeout", Reply::Hang),
        ("http_5xx", Reply::Status(500, "{}".into())),
        (
            "http_429",
            Reply::Status(429, r#"{"error": {"message": "slow down"}}"#.into()),
        ),
        (
            "malformed",
            Reply::Stream(vec![
                stand_in::role(),
                stand_in::tool_start(0, "x1", "set_field"),
                stand_in::tool_args(0, "{\"field\": \"first_na"),
                stand_in::finish("tool_calls"),
                Step::Done,
            ]),
        ),
        (
            "empty",
            Reply::Stream(vec![stand_in::role(), stand_in::finish("stop"), Step::Done]),
        ),
        (
            "cut",
            Reply::Stream(vec![stand_in::role(), stand_in::tool_start(0, "x2", "set_field")]),
        ),
    ];
    for (reason, failure) in cases {
        let llm = StandIn::start().await;
        let app = app_on(&llm).await;
        agent(&app, "llm", json!({})).await;
        llm.reply(failure);
        let (call, _) = start(&app).await;
        let r = say(&app, &call, "Hi, I'd like a quote for a kitchen remodel.").await;
        // What the rules brain says to these words.
        assert_eq!(r["awaiting_field"], "first_name", "{reason}: {r}");
        assert!(
            r["say"].as_str().unwrap().contains("May I have your name"),
            "{reason}: {r}"
        );
        // The next turn: an endpoint that failed is skipped for a while (its breaker is
        // open; a malformed or empty answer does not open it, and the unscripted
        // stand-in answers 500), so the rules take this one too; the call carries on.
        let r = say(&app, &call, "John Smith").await;
        assert_eq!(r["awaiting_field"], "phone", "{reason}: {r}");
        let c = call_record(&app, &call).await;
        assert_eq!(c["call_type"], "quote_request", "{reason}");
        assert_eq!(c["custom_fields"]["first_name"], "John Smith", "{reason}");
        let events = c["brain_events"].as_array().unwrap();
        assert!(
            events.iter().any(|e| e["kind"] == "fallback" && e["reason"] == reason),
            "{reason}: {events:?}"
        );
        assert!(events.iter().any(|e| e["kind"] == "rules"), "{reason}: {events:?}");
        let m = metrics(&app).await;
        assert!(
            m.contains(&format!(r#"frontdesk_llm_fallbacks_total{{reason="{reason}"}}"#)),
            "{reason}: {m}"
        );
    }
}

#[tokio::test]
async fn without_a_model_configured_an_llm_agent_runs_on_the_rules() {
    let app = spawn_app_with(|_| {}).await;
    agent(&app, "llm", json!({})).await;
    let (call, _) = start(&app).await;
    let r = say(&app, &call, "Hi, I'd like a quote for a kitchen remodel.").await;
    assert_eq!(r["awaiting_field"], "first_name", "{r}");
    let c = call_record(&app, &call).await;
    let e = &c["brain_events"];
    assert_eq!(
        (&e[0]["kind"], &e[0]["reason"]),
        (&json!("rules"), &json!("not_configured")),
        "{e}"
    );
    assert!(
        metrics(&app)
            .await
            .contains(r#"frontdesk_llm_fallbacks_total{reason="not_configured"}"#)
    );
}

#[tokio::test]
async fn the_hybrid_brain_asks_the_model_only_when_the_rules_are_unsure() {
    let llm = StandIn::start().await;
    let app = app_on(&llm).await;
    agent(&app, "hybrid", json!({})).await;
    let (call, _) = start(&app).await;
    let r = say(&app, &call, "Hi, I'd like a quote for a kitchen remodel.").await;
    assert_eq!(r["awaiting_field"], "first_name");
    let r = say(&app, &call, "Sure, it's John Smith.").await;
    assert_eq!(r["awaiting_field"], "phone");
    assert!(llm.requests().is_empty(), "the rules were sure");
    // A phone number the rules cannot read: the model can.
    llm.reply(stand_in::tool_reply(&[(
        "h1",
        "set_field",
        r#"{"field": "phone", "value": "555 867 5309"}"#,
    )]));
    let r = say(
        &app,
        &call,
        "oh it's the five five five one, then eight six seven, and five three oh nine",
    )
    .await;
    assert_eq!(r["awaiting_field"], "email", "{r}");
    let c = call_record(&app, &call).await;
    assert_eq!(c["custom_fields"]["phone"], "+15558675309");
    assert_eq!(c["brain"], "hybrid");
    assert_eq!(c["brain_turns"], json!({"total": 3, "model": 1}));
}

#[tokio::test]
async fn an_http_tool_runs_with_the_models_arguments() {
    use crate::receiver::{Receiver, Reply as Answer};
    let llm = StandIn::start().await;
    let app = app_on(&llm).await;
    let crm = Receiver::start().await;
    crm.reply(Answer {
        headers: vec![("content-type".into(), "application/json".into())],
        body: r#"{"say": "Tuesday at 3pm is free."}"#.into(),
        ..Answer::default()
    });
    agent(
        &app,
        "llm",
        json!({"tools": [{"type": "http", "tool_name": "check_slots", "description": "Free slots on a day",
                          "http_method": "GET", "url": crm.url("/slots?day={{day}}"),
                          "parameters": [{"name": "day", "type": "string", "description": "the day", "required": true}]}]}),
    )
    .await;
    let (call, _) = start(&app).await;
    llm.reply(stand_in::tool_reply(&[("s1", "check_slots", r#"{"day": "Tuesday"}"#)]))
        .reply(stand_in::text_reply(&["Would that suit you?"]));
    let r = say(&app, &call, "is anything free on Tuesday?").await;
    assert_eq!(r["say"], "Tuesday at 3pm is free. Would that suit you?", "{r}");
    let got = crm.got();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].uri, "/slots?day=Tuesday");
    // The model read the tool's answer.
    let second = &llm.requests()[1].body;
    assert_eq!(tool_results(second)[0]["result"]["say"], "Tuesday at 3pm is free.");
    let c = call_record(&app, &call).await;
    assert_eq!(c["tool_calls"][0]["tool"], "check_slots");
}
