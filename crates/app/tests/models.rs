//! The model service against the stand-in OpenAI-compatible server: fallbacks (SPEC
//! section 8, "Fail-safe"), never asking again once text went out, the circuit
//! breaker and its probe, cancellation, streaming text deltas. No test asserts how long
//! anything took; waits have generous limits only so a broken build fails rather than
//! hangs.

use std::time::Duration;

use frontdesk_agent::completion::{ChatMessage, CompletionRequest};
use frontdesk_app::models::{Ask, BreakerPolicy, ModelSettings, Models};
use frontdesk_core::agent::config::AgentConfig;
use frontdesk_core::net::TargetPolicy;
use frontdesk_delivery::GuardedClient;
use frontdesk_llm::stand_in::{self, Reply, StandIn, Step};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// Long enough that a test never meets it unless something is broken.
const PATIENCE: Duration = Duration::from_secs(20);

fn settings(base_url: Option<String>) -> ModelSettings {
    ModelSettings {
        model: base_url.as_ref().map(|_| "main-model".to_owned()),
        base_url,
        api_key: Some("sk-server".into()),
        first_token_timeout: Duration::from_millis(300),
        overall_timeout: Duration::from_secs(10),
        key_envs: vec!["FALLBACK_KEY".into(), "FRONTDESK_MASTER_KEY".into()],
    }
}

fn models_with(settings: ModelSettings, policy: TargetPolicy) -> Models {
    let guarded = GuardedClient::new(policy, Duration::from_secs(30)).expect("a guarded client");
    let plain = Models::plain_client().expect("a plain client");
    // Probes wait for `probe_now` in these tests (a day is "never" here).
    Models::new(settings, &guarded, plain)
        .with_breaker(BreakerPolicy {
            base: Duration::from_secs(86_400),
            cap: Duration::from_secs(86_400),
            idle: Duration::from_secs(86_400),
        })
        .with_env(|name| (name == "FALLBACK_KEY").then(|| "sk-fallback".to_owned()))
}

/// The server's endpoint is `main`; agent-chosen endpoints may be on loopback.
fn models(main: &StandIn) -> Models {
    models_with(settings(Some(main.base_url())), TargetPolicy::any_address())
}

fn agent(llm: Value) -> AgentConfig {
    AgentConfig::parse(&json!({"name": "Front desk", "brain": "llm", "llm": llm}))
        .expect("a valid agent")
        .config
}

/// An agent with one fallback, `backup`.
fn with_fallback(backup: &StandIn) -> AgentConfig {
    agent(
        json!({"temperature": 0.3, "fallbacks": [{"base_url": backup.base_url(), "model": "backup-model", "api_key_env": "FALLBACK_KEY"}]}),
    )
}

fn request() -> CompletionRequest {
    CompletionRequest {
        messages: vec![ChatMessage::user("Do you fix boilers?")],
        ..CompletionRequest::default()
    }
}

fn text_of(answer: &frontdesk_app::Answer) -> Option<String> {
    answer.result.as_ref().ok().and_then(|c| c.message.content.clone())
}

fn reasons(answer: &frontdesk_app::Answer) -> Vec<&'static str> {
    answer.fallbacks.iter().map(|f| f.reason).collect()
}

/// One failure on the main endpoint, the backup answers.
async fn falls_back_on(reply: Reply, reason: &str) {
    let (main, backup) = (StandIn::start().await, StandIn::start().await);
    main.reply(reply);
    backup.reply(stand_in::text_reply(&["Yes, we ", "do."]));
    let m = models(&main);
    let answer = m.complete(&with_fallback(&backup), request(), Ask::default()).await;
    assert_eq!(text_of(&answer).as_deref(), Some("Yes, we do."), "{reason}: {answer:?}");
    assert_eq!(reasons(&answer), [reason]);
    assert_eq!(answer.fallbacks[0].endpoint, format!("{} main-model", main.base_url()));
    assert_eq!(
        answer.endpoint.as_deref(),
        Some(format!("{} backup-model", backup.base_url()).as_str())
    );
    assert!(!answer.interrupted);
    // The backup got its own model, its own key, and the agent's temperature.
    let sent = &backup.requests()[0];
    assert_eq!(sent.body["model"], "backup-model");
    assert_eq!(sent.body["stream"], true);
    assert!((sent.body["temperature"].as_f64().expect("a temperature") - 0.3).abs() < 1e-6);
    assert_eq!(sent.authorization.as_deref(), Some("Bearer sk-fallback"));
    assert_eq!(main.requests()[0].authorization.as_deref(), Some("Bearer sk-server"));
    assert_eq!(main.requests()[0].body["model"], "main-model");
}

#[tokio::test]
async fn falls_back_when_the_first_token_is_late() {
    falls_back_on(Reply::Hang, "timeout").await;
}

#[tokio::test]
async fn falls_back_on_a_server_error() {
    falls_back_on(Reply::Status(500, "{\"error\": \"boom\"}".into()), "http_5xx").await;
}

#[tokio::test]
async fn falls_back_on_a_rate_limit() {
    falls_back_on(Reply::Status(429, "slow down".into()), "http_429").await;
}

#[tokio::test]
async fn falls_back_on_malformed_tool_arguments() {
    falls_back_on(
        stand_in::tool_reply(&[("call_1", "set_field", "{\"field\": \"email\", oops")]),
        "malformed",
    )
    .await;
}

#[tokio::test]
async fn falls_back_on_an_empty_answer() {
    falls_back_on(
        Reply::Stream(vec![stand_in::role(), stand_in::finish("stop"), Step::Done]),
        "empty",
    )
    .await;
}

#[tokio::test]
async fn falls_back_on_a_stream_cut_before_any_text() {
    // (The body ends without `finish_reason` or `[DONE]`.)
    falls_back_on(Reply::Stream(vec![stand_in::role()]), "cut").await;
}

#[tokio::test]
async fn a_stream_cut_after_text_is_not_asked_again() {
    let (main, backup) = (StandIn::start().await, StandIn::start().await);
    main.reply(Reply::Stream(vec![
        stand_in::role(),
        stand_in::text("Yes, we fix "),
        // (The body ends here: no `finish_reason`, no `[DONE]`.)
    ]));
    let m = models(&main);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let ask = Ask {
        text: Some(tx),
        cancel: None,
    };
    let answer = m.complete(&with_fallback(&backup), request(), ask).await;
    let e = answer.result.as_ref().expect_err("no completion");
    assert_eq!(e.reason, "cut");
    assert_eq!(e.streamed, "Yes, we fix ");
    assert_eq!(rx.recv().await.as_deref(), Some("Yes, we fix "));
    assert_eq!(reasons(&answer), ["cut"]);
    assert_eq!(
        answer.endpoint.as_deref(),
        Some(format!("{} main-model", main.base_url()).as_str())
    );
    assert!(backup.requests().is_empty(), "the backup must not be asked");
}

#[tokio::test]
async fn a_tool_call_cut_part_way_is_not_asked_again() {
    let (main, backup) = (StandIn::start().await, StandIn::start().await);
    main.reply(Reply::Stream(vec![
        stand_in::role(),
        stand_in::tool_start(0, "call_1", "take_message"),
    ]));
    let m = models(&main);
    let answer = m.complete(&with_fallback(&backup), request(), Ask::default()).await;
    assert_eq!(answer.result.as_ref().map_err(|e| e.reason).err(), Some("cut"));
    assert!(backup.requests().is_empty(), "the backup must not be asked");
}

#[tokio::test]
async fn when_every_endpoint_fails_the_answer_is_an_error() {
    let (main, backup) = (StandIn::start().await, StandIn::start().await);
    main.reply(Reply::Status(503, "down".into()));
    backup.reply(Reply::Status(401, "bad key".into()));
    let m = models(&main);
    let answer = m.complete(&with_fallback(&backup), request(), Ask::default()).await;
    assert_eq!(reasons(&answer), ["http_5xx", "http_4xx"]);
    assert_eq!(answer.result.map_err(|e| e.reason).err(), Some("http_4xx"));
}

#[tokio::test]
async fn nothing_configured_is_a_fallback_too() {
    let m = models_with(settings(None), TargetPolicy::any_address());
    let a = agent(json!({}));
    assert!(!m.available(&a));
    let answer = m.complete(&a, request(), Ask::default()).await;
    assert_eq!(reasons(&answer), ["not_configured"]);
    assert_eq!(answer.result.map_err(|e| e.reason).err(), Some("not_configured"));
    assert_eq!(answer.endpoint, None);
    let off = Models::off();
    assert!(!off.available(&agent(
        json!({"base_url": "https://api.openai.com/v1", "model": "gpt-4o-mini"})
    )));
}

#[tokio::test]
async fn a_failed_endpoint_is_skipped_until_the_probe_finds_it_well() {
    let (main, backup) = (StandIn::start().await, StandIn::start().await);
    let m = models(&main);
    let a = with_fallback(&backup);
    let main_endpoint = m.endpoints(&a).remove(0);

    // It fails once: the backup answers, and the main endpoint is skipped from now on.
    main.reply(Reply::Status(500, "boom".into()));
    backup.reply(stand_in::text_reply(&["One."]));
    let answer = m.complete(&a, request(), Ask::default()).await;
    assert_eq!(text_of(&answer).as_deref(), Some("One."));
    assert!(m.is_skipped(&main_endpoint));

    backup.reply(stand_in::text_reply(&["Two."]));
    let answer = m.complete(&a, request(), Ask::default()).await;
    assert_eq!(text_of(&answer).as_deref(), Some("Two."));
    assert_eq!(reasons(&answer), ["circuit_open"]);
    assert_eq!(main.requests().len(), 1, "a skipped endpoint is not asked");

    // The probe finds it well (a tiny request), and callers get it again.
    main.reply(stand_in::text_reply(&["OK"]));
    m.probe_now();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while m.is_skipped(&main_endpoint) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the probe never restored the endpoint"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let probe = &main.requests()[1];
    assert_eq!(probe.body["max_tokens"], 1);
    assert!(probe.body.get("tools").is_none());

    main.reply(stand_in::text_reply(&["Three."]));
    let answer = m.complete(&a, request(), Ask::default()).await;
    assert_eq!(text_of(&answer).as_deref(), Some("Three."));
    assert!(answer.fallbacks.is_empty());
    assert_eq!(backup.requests().len(), 2);
}

#[tokio::test]
async fn a_failing_probe_keeps_the_endpoint_skipped() {
    let main = StandIn::start().await;
    let m = models(&main);
    let a = agent(json!({}));
    let ep = m.endpoints(&a).remove(0);
    main.reply(Reply::Status(502, "bad gateway".into()));
    let answer = m.complete(&a, request(), Ask::default()).await;
    assert_eq!(reasons(&answer), ["http_5xx"]);
    main.reply(Reply::Status(502, "still bad".into()));
    m.probe_now();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while main.requests().len() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "no probe came");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(m.is_skipped(&ep));
}

#[tokio::test]
async fn a_request_specific_error_does_not_skip_the_endpoint() {
    let main = StandIn::start().await;
    let m = models(&main);
    let a = agent(json!({}));
    main.reply(Reply::Status(400, "context too long".into()));
    let answer = m.complete(&a, request(), Ask::default()).await;
    assert_eq!(reasons(&answer), ["http_4xx"]);
    assert!(!m.is_skipped(&m.endpoints(&a)[0]));
}

#[tokio::test]
async fn text_arrives_on_the_channel_before_the_completion_ends() {
    let main = StandIn::start().await;
    main.reply(Reply::Stream(vec![
        stand_in::role(),
        stand_in::text("Hello, "),
        stand_in::text("Acme Plumbing."),
        // The end comes only much later: the text must not wait for it.
        Step::Delay(Duration::from_secs(3600)),
        stand_in::finish("stop"),
        Step::Done,
    ]));
    let m = std::sync::Arc::new(models(&main));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let ask = Ask {
        text: Some(tx),
        cancel: Some(cancel.clone()),
    };
    let task = {
        let m = m.clone();
        tokio::spawn(async move { m.complete(&agent(json!({})), request(), ask).await })
    };
    assert_eq!(rx.recv().await.as_deref(), Some("Hello, "));
    assert_eq!(rx.recv().await.as_deref(), Some("Acme Plumbing."));
    assert!(!task.is_finished());
    cancel.cancel();
    let answer = task.await.expect("the task ends");
    assert!(answer.interrupted);
}

#[tokio::test]
async fn cancelling_stops_the_stream_and_closes_the_connection() {
    let main = StandIn::start().await;
    main.reply(Reply::Stream(vec![
        stand_in::role(),
        stand_in::text("Our hours are "),
        Step::Delay(Duration::from_secs(3600)),
        stand_in::text("nine to five."),
        stand_in::finish("stop"),
        Step::Done,
    ]));
    let m = std::sync::Arc::new(models(&main));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let ask = Ask {
        text: Some(tx),
        cancel: Some(cancel.clone()),
    };
    let task = {
        let m = m.clone();
        tokio::spawn(async move { m.complete(&agent(json!({})), request(), ask).await })
    };
    assert_eq!(rx.recv().await.as_deref(), Some("Our hours are "));
    cancel.cancel();
    let answer = task.await.expect("the task ends");
    assert!(answer.interrupted);
    assert!(answer.fallbacks.is_empty());
    let c = answer.result.expect("what was said so far");
    assert_eq!(c.message.content.as_deref(), Some("Our hours are "));
    assert!(c.message.tool_calls.is_empty());
    assert_eq!(c.finish_reason.as_deref(), Some("interrupted"));
    assert!(
        main.wait_closed_early(1, PATIENCE).await,
        "the stand-in never saw the connection close"
    );
    // Not counted against the endpoint.
    assert!(!m.is_skipped(&m.endpoints(&agent(json!({})))[0]));
}

#[tokio::test]
async fn cancelling_before_the_answer_starts_closes_the_connection_too() {
    let main = StandIn::start().await;
    main.reply(Reply::Hang);
    let mut s = settings(Some(main.base_url()));
    s.first_token_timeout = Duration::from_secs(3600);
    s.overall_timeout = Duration::from_secs(3600);
    let m = std::sync::Arc::new(models_with(s, TargetPolicy::any_address()));
    let cancel = CancellationToken::new();
    let ask = Ask {
        text: None,
        cancel: Some(cancel.clone()),
    };
    let task = {
        let m = m.clone();
        tokio::spawn(async move { m.complete(&agent(json!({})), request(), ask).await })
    };
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while main.requests().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no request came");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cancel.cancel();
    let answer = task.await.expect("the task ends");
    assert!(answer.interrupted);
    assert_eq!(answer.result.expect("interrupted").message.content, None);
    assert!(main.wait_closed_early(1, PATIENCE).await);
}

#[tokio::test]
async fn an_agent_endpoint_on_a_private_address_is_refused() {
    let (main, backup) = (StandIn::start().await, StandIn::start().await);
    main.reply(Reply::Status(500, "boom".into()));
    // The default policy: agent-chosen endpoints must be public.
    let m = models_with(settings(Some(main.base_url())), TargetPolicy::default());
    let answer = m.complete(&with_fallback(&backup), request(), Ask::default()).await;
    assert_eq!(reasons(&answer), ["http_5xx", "connect"]);
    assert!(
        answer.fallbacks[1].detail.contains("127.0.0.1"),
        "{:?}",
        answer.fallbacks[1]
    );
    assert!(backup.requests().is_empty());
}

#[test]
fn endpoints_take_the_agents_keys_over_the_servers() {
    let m = models_with(
        settings(Some("http://127.0.0.1:11434/v1/".into())),
        TargetPolicy::any_address(),
    );
    // Nothing of its own: the server's endpoint, with the server's key.
    let eps = m.endpoints(&agent(json!({})));
    assert_eq!(eps.len(), 1);
    assert_eq!(eps[0].label(), "http://127.0.0.1:11434/v1 main-model");
    assert!(eps[0].has_key() && !eps[0].guarded);

    // Its own model on the server's endpoint: still the server's key.
    let eps = m.endpoints(&agent(json!({"model": "llama3.1:8b"})));
    assert_eq!(eps[0].label(), "http://127.0.0.1:11434/v1 llama3.1:8b");
    assert!(eps[0].has_key());

    // Its own endpoint: guarded, and never the server's key.
    let eps = m.endpoints(&agent(json!({
        "base_url": "https://api.openai.com/v1",
        "fallbacks": [
            {"base_url": "https://backup.example.com/v1", "api_key_env": "FALLBACK_KEY"},
            {"base_url": "https://other.example.com/v1", "model": "m2", "api_key_env": "FRONTDESK_MASTER_KEY"},
            {"base_url": "http://127.0.0.1:11434/v1"}
        ]
    })));
    let labels: Vec<String> = eps.iter().map(|e| e.label()).collect();
    assert_eq!(
        labels,
        [
            "https://api.openai.com/v1 main-model",
            "https://backup.example.com/v1 main-model",
            "https://other.example.com/v1 m2",
            "http://127.0.0.1:11434/v1 main-model",
        ]
    );
    assert!(!eps[0].has_key() && eps[0].guarded);
    assert!(eps[1].has_key());
    assert!(!eps[2].has_key(), "Frontdesk's own variables are never sent");
    assert!(
        eps[3].has_key() && !eps[3].guarded,
        "the server's endpoint, as a fallback"
    );
    // Keys never show in Debug.
    assert!(!format!("{eps:?}").contains("sk-"));

    // No server endpoint: only what the agent names.
    let m = models_with(settings(None), TargetPolicy::any_address());
    assert!(!m.available(&agent(json!({"base_url": "https://api.openai.com/v1"}))));
    assert!(m.available(&agent(
        json!({"base_url": "https://api.openai.com/v1", "model": "gpt-4o-mini"})
    )));
}
