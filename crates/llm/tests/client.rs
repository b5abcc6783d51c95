//! The client against the stand-in server, over real HTTP: streamed text, tool calls
//! split across chunks, both timeouts, error statuses, broken answers, a cut stream,
//! cancellation on drop, and the request as the wire format has it.

use std::time::{Duration, Instant};

use frontdesk_agent::completion::{ChatMessage, CompletionRequest, ToolSchema};
use frontdesk_llm::stand_in::{self, Reply, StandIn, Step};
use frontdesk_llm::{Client, Endpoint, Event, LlmError, StreamError};
use serde_json::json;

fn client(s: &StandIn) -> Client {
    Client::new(Endpoint::new(s.base_url(), "test-model").with_timeouts(Duration::from_secs(2), Duration::from_secs(5)))
        .expect("client")
}

fn client_with(s: &StandIn, first_token: Duration, overall: Duration) -> Client {
    Client::new(Endpoint::new(s.base_url(), "test-model").with_timeouts(first_token, overall)).expect("client")
}

fn request() -> CompletionRequest {
    CompletionRequest {
        messages: vec![ChatMessage::system("You are a receptionist."), ChatMessage::user("Hi")],
        ..CompletionRequest::default()
    }
}

/// Every event of a stream: the texts, then the end.
async fn drain(
    client: &Client,
) -> (
    Vec<String>,
    Result<frontdesk_agent::completion::Completion, StreamError>,
) {
    let mut stream = client.stream(request()).await.expect("the stream opens");
    let mut texts = Vec::new();
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Text(t)) => texts.push(t),
            Ok(Event::Done(c)) => {
                assert!(stream.next().await.is_none(), "nothing after the end");
                return (texts, Ok(c));
            }
            Err(e) => {
                assert!(stream.next().await.is_none(), "nothing after an error");
                return (texts, Err(e));
            }
        }
    }
    panic!("the stream ended without Done or an error");
}

#[tokio::test]
async fn text_arrives_in_pieces_and_whole() {
    let s = StandIn::start().await;
    s.reply(stand_in::text_reply(&["Hel", "lo, ", "how can I ", "help?"]));
    let (texts, done) = drain(&client(&s)).await;
    assert_eq!(texts, ["Hel", "lo, ", "how can I ", "help?"]);
    let c = done.expect("a completion");
    assert_eq!(c.message.content.as_deref(), Some("Hello, how can I help?"));
    assert_eq!(c.finish_reason.as_deref(), Some("stop"));
    assert!(c.message.tool_calls.is_empty());
}

#[tokio::test]
async fn the_first_text_is_handed_on_before_the_rest_arrives() {
    let s = StandIn::start().await;
    s.reply(Reply::Stream(vec![
        stand_in::role(),
        stand_in::text("Sure. "),
        Step::Delay(Duration::from_millis(1000)),
        stand_in::text("One moment."),
        stand_in::finish("stop"),
        Step::Done,
    ]));
    let c = client(&s);
    let started = Instant::now();
    let mut stream = c.stream(request()).await.expect("opens");
    assert_eq!(stream.next().await, Some(Ok(Event::Text("Sure. ".into()))));
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(stream.next().await, Some(Ok(Event::Text("One moment.".into()))));
    assert!(matches!(stream.next().await, Some(Ok(Event::Done(_)))));
}

#[tokio::test]
async fn two_tool_calls_interleaved_by_index_are_put_together() {
    let s = StandIn::start().await;
    s.reply(Reply::Stream(vec![
        stand_in::role(),
        stand_in::tool_start(0, "call_a", "set_field"),
        stand_in::tool_start(1, "call_b", "set_call_type"),
        stand_in::tool_args(0, "{\"field\": \"em"),
        stand_in::tool_args(1, "{\"call_type\":"),
        stand_in::tool_args(0, "ail\", \"value\": \"ann@example.com\"}"),
        stand_in::tool_args(1, " \"new_client\"}"),
        stand_in::finish("tool_calls"),
        Step::Done,
    ]));
    let (texts, done) = drain(&client(&s)).await;
    assert!(texts.is_empty());
    let c = done.expect("a completion");
    assert_eq!(c.finish_reason.as_deref(), Some("tool_calls"));
    let calls = &c.message.tool_calls;
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].id, "call_a");
    assert_eq!(calls[0].function.name, "set_field");
    assert_eq!(
        calls[0].function.arguments_object().map(serde_json::Value::Object),
        Some(json!({"field": "email", "value": "ann@example.com"}))
    );
    assert_eq!(calls[1].id, "call_b");
    assert_eq!(
        calls[1].function.arguments_object().map(serde_json::Value::Object),
        Some(json!({"call_type": "new_client"}))
    );
}

#[tokio::test]
async fn text_and_a_tool_call_together() {
    let s = StandIn::start().await;
    s.reply(Reply::Stream(vec![
        stand_in::text("Let me check."),
        stand_in::tool_start(0, "c1", "search_knowledge"),
        stand_in::tool_args(0, "{\"query\": \"hours\"}"),
        stand_in::finish("tool_calls"),
        Step::Done,
    ]));
    let c = client(&s).complete(request()).await.expect("a completion");
    assert_eq!(c.message.content.as_deref(), Some("Let me check."));
    assert_eq!(c.message.tool_calls[0].function.name, "search_knowledge");
}

#[tokio::test]
async fn odd_wire_forms_are_read() {
    // CRLF line ends, comments and keep-alives, a multi-line event, an event split
    // across writes.
    let s = StandIn::start().await;
    let piece = |t: &str| stand_in::chunk(json!({"content": t}), None).to_string();
    let first = piece("One, ");
    let (a, b) = first.split_at(first.len() / 2);
    s.reply(Reply::Stream(vec![
        Step::Raw(": OPENROUTER PROCESSING\r\n\r\n".into()),
        Step::Raw(format!("data: {a}")),
        Step::Delay(Duration::from_millis(20)),
        Step::Raw(format!("{b}\r\n\r")),
        Step::Delay(Duration::from_millis(20)),
        Step::Raw("\n:\n\n".into()),
        Step::Raw(format!("event: message\ndata: {}\n\n", piece("two, "))),
        Step::Raw("data: {\"choices\": [{\"index\": 0,\ndata: \"delta\": {\"content\": \"three.\"}}]}\n\n".into()),
        Step::Raw(format!("data:{}\r\n\r\n", stand_in::chunk(json!({}), Some("stop")))),
        Step::Raw("data: [DONE]\r\n\r\n".into()),
    ]));
    let (texts, done) = drain(&client(&s)).await;
    assert_eq!(texts, ["One, ", "two, ", "three."]);
    assert_eq!(
        done.expect("a completion").message.content.as_deref(),
        Some("One, two, three.")
    );
}

#[tokio::test]
async fn the_request_has_the_openai_shape_and_the_bearer_key() {
    let s = StandIn::start().await;
    s.reply(stand_in::text_reply(&["Hi."]));
    s.reply(stand_in::text_reply(&["Hi again."]));
    let keyed =
        Client::new(Endpoint::new(format!("{}/", s.base_url()), "test-model").with_api_key("sk-test")).expect("client");
    let mut req = request();
    req.tools = vec![ToolSchema::function(
        "end_call",
        "Ends the call",
        json!({"type": "object", "properties": {}}),
    )];
    req.temperature = Some(0.5);
    keyed.complete(req).await.expect("a completion");
    let mut named = request();
    named.model = "other-model".into();
    client(&s).complete(named).await.expect("a completion");

    let got = s.requests();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].path, "/v1/chat/completions");
    assert_eq!(got[0].authorization.as_deref(), Some("Bearer sk-test"));
    assert_eq!(
        got[0].body,
        json!({
            "model": "test-model",
            "messages": [
                {"role": "system", "content": "You are a receptionist."},
                {"role": "user", "content": "Hi"}
            ],
            "tools": [{"type": "function", "function": {
                "name": "end_call", "description": "Ends the call",
                "parameters": {"type": "object", "properties": {}}
            }}],
            "temperature": 0.5,
            "stream": true
        })
    );
    assert_eq!(got[1].authorization, None, "no key, no header");
    assert_eq!(got[1].body["model"], "other-model", "the request's model wins");
}

#[tokio::test]
async fn no_first_token_in_time_is_a_timeout_and_closes_the_connection() {
    // The head comes, then only keep-alives: no token.
    let s = StandIn::start().await;
    s.reply(Reply::Stream(vec![
        stand_in::role(),
        Step::Raw(": keep-alive\n\n".into()),
        Step::Delay(Duration::from_secs(10)),
        stand_in::text("Too late."),
    ]));
    let c = client_with(&s, Duration::from_millis(300), Duration::from_secs(5));
    let started = Instant::now();
    let (texts, done) = drain(&c).await;
    let e = done.expect_err("a timeout");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert!(texts.is_empty());
    assert_eq!(e.error, LlmError::FirstTokenTimeout(Duration::from_millis(300)));
    assert_eq!(e.reason(), "timeout");
    assert!(e.may_retry());
    assert!(
        s.wait_closed_early(1, Duration::from_secs(2)).await,
        "the stand-in sees the close"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_before_the_head() {
    let s = StandIn::start().await;
    s.reply(Reply::Hang);
    let c = client_with(&s, Duration::from_millis(300), Duration::from_secs(5));
    let started = Instant::now();
    let e = c.stream(request()).await.expect_err("a timeout");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(e.reason(), "timeout");
    assert!(
        s.wait_closed_early(1, Duration::from_secs(2)).await,
        "the stand-in sees the close"
    );
}

#[tokio::test]
async fn a_slow_completion_hits_the_overall_timeout_after_speech() {
    let s = StandIn::start().await;
    s.reply(Reply::Stream(vec![
        stand_in::text("Let me see"),
        Step::Delay(Duration::from_secs(10)),
        stand_in::text("..."),
    ]));
    let c = client_with(&s, Duration::from_millis(300), Duration::from_millis(600));
    let started = Instant::now();
    let (texts, done) = drain(&c).await;
    let e = done.expect_err("a timeout");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(texts, ["Let me see"]);
    assert_eq!(e.error, LlmError::OverallTimeout(Duration::from_millis(600)));
    assert_eq!(e.reason(), "timeout_overall");
    assert!(e.spoke(), "the caller knows speech went out");
    assert_eq!(e.streamed, "Let me see");
    assert!(!e.may_retry());
}

#[tokio::test]
async fn error_statuses_are_told_apart() {
    let s = StandIn::start().await;
    s.reply(Reply::Status(500, "{\"error\": {\"message\": \"boom\"}}".into()));
    s.reply(Reply::Status(429, "Rate limit\nreached".into()));
    s.reply(Reply::Status(401, "no key".into()));
    let c = client(&s);
    let e = c.complete(request()).await.expect_err("500");
    assert_eq!(e.reason(), "http_5xx");
    assert!(
        matches!(&e, LlmError::Http { status: 500, body } if body.contains("boom")),
        "{e:?}"
    );
    let e = c.complete(request()).await.expect_err("429");
    assert_eq!(e.reason(), "http_429");
    assert_eq!(
        e,
        LlmError::Http {
            status: 429,
            body: "Rate limit reached".into()
        }
    );
    assert_eq!(c.complete(request()).await.expect_err("401").reason(), "http_4xx");
}

#[tokio::test]
async fn nobody_listening_is_a_connect_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        l.local_addr().expect("addr").port()
    };
    let c = Client::new(Endpoint::new(format!("http://127.0.0.1:{port}/v1"), "m")).expect("client");
    assert_eq!(c.complete(request()).await.expect_err("refused").reason(), "connect");
}

#[tokio::test]
async fn a_chunk_that_is_not_json_is_malformed() {
    let s = StandIn::start().await;
    s.reply(Reply::Stream(vec![
        stand_in::text("Hello"),
        Step::Raw("data: {\"choices\": [{\"delta\": \n\n".into()),
        stand_in::finish("stop"),
        Step::Done,
    ]));
    let (texts, done) = drain(&client(&s)).await;
    assert_eq!(texts, ["Hello"]);
    let e = done.expect_err("malformed");
    assert_eq!(e.reason(), "malformed");
    assert_eq!(e.streamed, "Hello");
}

#[tokio::test]
async fn tool_arguments_that_are_not_an_object_are_malformed() {
    let s = StandIn::start().await;
    s.reply(stand_in::tool_reply(&[(
        "c1",
        "set_field",
        "{\"field\": \"email\", \"value\": ",
    )]));
    s.reply(stand_in::tool_reply(&[("c2", "set_field", "[\"email\"]")]));
    let c = client(&s);
    for _ in 0..2 {
        let (_, done) = drain(&c).await;
        let e = done.expect_err("malformed");
        assert_eq!(e.reason(), "malformed");
        assert!(e.tool_started && !e.spoke() && !e.may_retry(), "{e:?}");
    }
}

#[tokio::test]
async fn neither_text_nor_a_tool_call_is_empty() {
    let s = StandIn::start().await;
    s.reply(Reply::Stream(vec![
        stand_in::role(),
        stand_in::finish("stop"),
        Step::Done,
    ]));
    s.reply(stand_in::text_reply(&["", " \n"]));
    let c = client(&s);
    assert_eq!(c.complete(request()).await, Err(LlmError::Empty));
    assert_eq!(c.complete(request()).await.map_err(|e| e.reason()), Err("empty"));
}

#[tokio::test]
async fn a_stream_cut_before_the_end_is_cut() {
    let s = StandIn::start().await;
    // The body ends cleanly, but with neither finish_reason nor [DONE].
    s.reply(Reply::Stream(vec![stand_in::text("I can "), stand_in::text("book")]));
    // The connection breaks mid-chunk.
    s.reply(Reply::Stream(vec![
        stand_in::text("I can "),
        // (pauses, so the head and the first text leave before the break)
        Step::Delay(Duration::from_millis(50)),
        Step::Raw("data: {\"choices\": [{\"ind".into()),
        Step::Delay(Duration::from_millis(50)),
        Step::Abort,
    ]));
    let c = client(&s);
    for _ in 0..2 {
        let (texts, done) = drain(&c).await;
        assert_eq!(texts[0], "I can ");
        let e = done.expect_err("cut");
        assert_eq!(e.reason(), "cut", "{e:?}");
        assert!(e.spoke());
    }
}

#[tokio::test]
async fn finish_reason_without_done_is_accepted() {
    let s = StandIn::start().await;
    s.reply(Reply::Stream(vec![stand_in::text("Bye."), stand_in::finish("stop")]));
    let c = client(&s).complete(request()).await.expect("a completion");
    assert_eq!(c.message.content.as_deref(), Some("Bye."));
}

#[tokio::test]
async fn an_error_inside_the_stream_is_reported() {
    let s = StandIn::start().await;
    s.reply(Reply::Stream(vec![
        Step::Chunk(json!({"error": {"message": "model overloaded", "type": "server_error"}})),
        Step::Done,
    ]));
    let e = client(&s).complete(request()).await.expect_err("an error");
    assert_eq!(e, LlmError::Stream("model overloaded".into()));
    assert_eq!(e.reason(), "stream_error");
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let s = StandIn::start().await;
    s.reply(Reply::Stream(vec![
        stand_in::text("Sure, "),
        Step::Delay(Duration::from_secs(30)),
        stand_in::text("never sent."),
        stand_in::finish("stop"),
        Step::Done,
    ]));
    let c = client(&s);
    let mut stream = c.stream(request()).await.expect("opens");
    assert_eq!(stream.next().await, Some(Ok(Event::Text("Sure, ".into()))));
    assert_eq!(s.closed_early(), 0);
    drop(stream);
    assert!(
        s.wait_closed_early(1, Duration::from_secs(3)).await,
        "the stand-in sees the connection close"
    );
}

#[tokio::test]
async fn after_the_first_token_only_the_overall_timeout_counts() {
    let s = StandIn::start().await;
    s.reply(Reply::Stream(vec![
        stand_in::text("One, "),
        Step::Delay(Duration::from_millis(250)),
        stand_in::text("two, "),
        Step::Delay(Duration::from_millis(250)),
        stand_in::text("three."),
        stand_in::finish("stop"),
        Step::Done,
    ]));
    let c = client_with(&s, Duration::from_millis(200), Duration::from_secs(5));
    let done = c
        .complete(request())
        .await
        .expect("slow tokens after the first are fine");
    assert_eq!(done.message.content.as_deref(), Some("One, two, three."));
}

#[tokio::test]
async fn next_is_cancel_safe() {
    let s = StandIn::start().await;
    s.reply(Reply::Stream(vec![
        stand_in::text("A"),
        Step::Delay(Duration::from_millis(300)),
        stand_in::text("B"),
        stand_in::finish("stop"),
        Step::Done,
    ]));
    let c = client(&s);
    let mut stream = c.stream(request()).await.expect("opens");
    assert_eq!(stream.next().await, Some(Ok(Event::Text("A".into()))));
    tokio::select! {
        e = stream.next() => panic!("B came too early: {e:?}"),
        () = tokio::time::sleep(Duration::from_millis(50)) => {}
    }
    assert_eq!(stream.next().await, Some(Ok(Event::Text("B".into()))));
    assert_eq!(stream.streamed(), "AB");
    assert!(matches!(stream.next().await, Some(Ok(Event::Done(_)))));
}
