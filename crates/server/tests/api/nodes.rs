//! Several nodes on one database (PostgreSQL): two servers in this process share a test
//! database, each with its own pool, locks and limiter, as two `frontdesk serve`
//! processes would. On SQLite (one node serves it) these tests say they were skipped.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{TestApp, agent_file, post_json, spawn_app, spawn_app_with};
use crate::receiver::Receiver;
use crate::twilio_support::{
    GLOBAL_TOKEN, Leg, MASTER_KEY, PUBLIC_URL, TwilioSide, count, events_of, names, only_call, twilio_app, twiml,
};
use frontdesk_server::RateLimitSettings;

const NUMBER: &str = "+15553330000";

async fn turn(app: &TestApp, call: &str, text: &str) -> Value {
    let (s, r) = post_json(app, &format!("/v1/sim/calls/{call}/turns"), json!({"text": text})).await;
    assert_eq!(s, 200, "{r}");
    r
}

/// The turns of one simulated call land on two nodes in turn: the conversation goes on
/// as on one node, and its end is sent once.
#[tokio::test]
async fn a_calls_turns_alternate_between_two_nodes() {
    let a = spawn_app().await;
    let Some(node) = a.another_node(|_| {}).await else {
        return;
    };
    let b = a.via(&node);
    let (s, agent) = post_json(&a, "/v1/agents", agent_file("contractor")).await;
    assert_eq!(s, 201, "{agent}");
    let (s, n) = post_json(
        &b,
        "/v1/numbers",
        json!({"number": NUMBER, "agent_id": agent["id"], "provider": "sim"}),
    )
    .await;
    assert_eq!(s, 201, "{n}");
    let (s, start) = post_json(&a, "/v1/sim/calls", json!({"from": "+15551230001", "to": NUMBER})).await;
    assert_eq!(s, 201, "{start}");
    let call = start["call_id"].as_str().unwrap().to_owned();
    let lines = [
        "Hi, I'd like to get a quote for a kitchen remodel.",
        "Sure, it's John Smith.",
        "You can reach me at 555 867 5309.",
        "john dot smith at gmail dot com",
        "Somewhere between fifteen and twenty thousand dollars.",
        "In the next three months.",
        "No, that's everything, thanks.",
    ];
    let mut last = Value::Null;
    for (i, line) in lines.iter().enumerate() {
        last = turn(if i % 2 == 0 { &b } else { &a }, &call, line).await;
    }
    assert_eq!(last["ended"], true, "{last}");
    let c: Value = a
        .get(&format!("/v1/calls/{call}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(c["custom_fields"]["email"], "john.smith@gmail.com", "{c}");
    assert_eq!(c["status"], "completed");
    let ev = events_of(&b, &call).await;
    assert_eq!(count(&ev, "call.ended"), 1, "{:?}", names(&ev));
    assert_eq!(count(&ev, "data.collected"), 6, "{:?}", names(&ev));
}

/// A Twilio call's gather lands on node A while its final status callback lands on node
/// B at the same moment: the call's lock spans the nodes, so the tool runs once and
/// `call.ended` is sent once, whichever goes first.
#[tokio::test]
async fn gather_and_status_on_two_nodes_at_once_run_the_tool_once() {
    let a = twilio_app().await;
    let Some(node) = a
        .another_node(|s| {
            s.public_url = Some(PUBLIC_URL.to_owned());
            s.twilio.auth_token = Some(GLOBAL_TOKEN.to_owned());
            s.master_key = Some(MASTER_KEY.to_owned());
        })
        .await
    else {
        return;
    };
    let b = a.via(&node);
    let crm = Receiver::start().await;
    let mut cfg = agent_file("contractor");
    cfg["tools"] = json!([
        {"type": "http", "tool_name": "submitLead", "http_method": "POST", "url": crm.url("/leads"),
         "body_template": {"name": "{{first_name}}", "email": "{{email}}"},
         "parameters": [{"name": "first_name", "required": true}, {"name": "email", "required": true}]}
    ]);
    let (s, agent) = post_json(&a, "/v1/agents", cfg).await;
    assert_eq!(s, 201, "{agent}");
    let (s, n) = post_json(
        &a,
        "/v1/numbers",
        json!({"number": NUMBER, "agent_id": agent["id"], "provider": "twilio"}),
    )
    .await;
    assert_eq!(s, 201, "{n}");
    let (tw_a, tw_b) = (TwilioSide::global(&a), TwilioSide::global(&b));
    let leg_a = tw_a.inbound("+15551230088", NUMBER);
    let leg_b = Leg {
        tw: &tw_b,
        sid: leg_a.sid.clone(),
        from: leg_a.from.clone(),
        to: leg_a.to.clone(),
        direction: leg_a.direction,
        call_id: None,
    };
    twiml(leg_a.voice().await).await;
    twiml(leg_b.say("I need a quote for a kitchen remodel", "0.9").await).await;
    twiml(leg_a.say("It's Dana Reyes", "0.9").await).await;
    twiml(leg_b.say("You can reach me at 555 867 5309.", "0.9").await).await;
    assert!(crm.got().is_empty(), "the email is still missing");
    // The email (which makes the tool ready) on A, the hang-up on B, at the same moment.
    let (gathered, status) = tokio::join!(
        leg_a.say("dana at example dot com", "0.9"),
        leg_b.status("completed", Some("40")),
    );
    assert_eq!(gathered.status(), 200);
    assert_eq!(status.status(), 200);
    assert_eq!(crm.got().len(), 1, "the tool ran once");
    let c = only_call(&a).await;
    assert_eq!(c["status"], "completed", "{c}");
    assert_eq!(c["tool_calls"].as_array().unwrap().len(), 1, "{c}");
    let ev = events_of(&b, c["id"].as_str().unwrap()).await;
    assert_eq!(count(&ev, "call.ended"), 1, "{:?}", names(&ev));
    assert_eq!(count(&ev, "transcript.ready"), 1, "{:?}", names(&ev));
}

/// One key, a burst above its per-second limit spread over two nodes: the 429s start
/// where one node alone would start them (the budget lives in the database).
#[tokio::test]
async fn a_keys_limit_holds_across_two_nodes() {
    let limits = |s: &mut frontdesk_server::ServerSettings| {
        s.rate_limit = RateLimitSettings {
            per_hour: 1000,
            per_second: 5,
        };
    };
    let a = spawn_app_with(limits).await;
    let Some(node) = a.another_node(limits).await else {
        return;
    };
    let b = a.via(&node);
    let started = std::time::Instant::now();
    let answers = join_all((0..12).map(|i| {
        let app = if i % 2 == 0 { &a } else { &b };
        async move { app.get("/v1/api-keys").send().await.unwrap().status().as_u16() }
    }))
    .await;
    let elapsed = started.elapsed().as_millis();
    let allowed = answers.iter().filter(|s| **s == 200).count();
    let limited = answers.iter().filter(|s| **s == 429).count();
    assert_eq!(allowed + limited, 12, "{answers:?}");
    // One node alone allows the burst of 5, then one more per 200 ms that passed.
    let refilled = usize::try_from(elapsed / 200).unwrap_or(usize::MAX);
    assert!(
        allowed >= 5 && allowed <= 5 + refilled,
        "{allowed} allowed in {elapsed} ms: {answers:?}"
    );
}
