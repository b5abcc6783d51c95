//! A stand-in OpenAI-compatible server for tests (feature `stand-in`): an axum
//! server on `127.0.0.1:0` that answers each request with the next scripted
//! [`Reply`], in the real wire format (`chat.completion.chunk` objects as server-sent
//! events, `data: [DONE]`), and records what it was sent.
//!
//! A script can stream chunks with delays between them, send raw bytes, end the body
//! early (a cut), abort the connection, answer an HTTP status, or never answer. The
//! stand-in counts responses the client walked away from ([`StandIn::closed_early`]),
//! which is how a test sees a cancelled request.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::Notify;

/// One step of a streamed answer.
#[derive(Debug, Clone)]
pub enum Step {
    /// A chunk object, sent as `data: {json}` and a blank line.
    Chunk(Value),
    /// Bytes exactly as given (odd line ends, comments, a broken chunk).
    Raw(String),
    /// A pause before the next step.
    Delay(Duration),
    /// `data: [DONE]`.
    Done,
    /// Breaks the connection (the body ends with an error, not cleanly).
    Abort,
}

/// How the stand-in answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with `text/event-stream`, these steps, then the body ends (a script that
    /// does not send [`Step::Done`] is a stream cut short).
    Stream(Vec<Step>),
    /// This status with this body.
    Status(u16, String),
    /// Never answers (not even the head).
    Hang,
}

/// A request the stand-in received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The body as JSON (`null` if it was not JSON).
    pub body: Value,
}

#[derive(Default)]
struct Shared {
    replies: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
    closed_early: AtomicUsize,
    closed: Notify,
}

/// The running stand-in; stops when dropped.
pub struct StandIn {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl StandIn {
    /// Starts a stand-in on a free port of 127.0.0.1.
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let app = axum::Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the stand-in binds a port");
        let addr = listener.local_addr().expect("a local address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, shared, task }
    }

    /// `http://127.0.0.1:{port}/v1`, as an OpenAI base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues the answer to the next request not yet answered.
    pub fn reply(&self, reply: Reply) -> &Self {
        lock(&self.shared.replies).push_back(reply);
        self
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.requests).clone()
    }

    /// How many answers the client walked away from (the connection closed while the
    /// stand-in was still answering or not yet answering).
    pub fn closed_early(&self) -> usize {
        self.shared.closed_early.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` answers were walked away from, or `within` passes.
    pub async fn wait_closed_early(&self, n: usize, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.shared.closed.notified();
            if self.closed_early() >= n {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.closed_early() >= n;
            }
        }
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Counts an answer as walked away from when dropped before [`Guard::done`].
struct Guard {
    shared: Arc<Shared>,
    done: bool,
}

impl Guard {
    fn done(&mut self) {
        self.done = true;
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.done {
            self.shared.closed_early.fetch_add(1, Ordering::SeqCst);
            self.shared.closed.notify_waiters();
        }
    }
}

async fn handle(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    lock(&shared.requests).push(Recorded {
        path: uri.path().to_owned(),
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    let reply = lock(&shared.replies).pop_front();
    match reply {
        None => (StatusCode::INTERNAL_SERVER_ERROR, "stand-in: no reply scripted").into_response(),
        Some(Reply::Status(status, body)) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body,
        )
            .into_response(),
        Some(Reply::Hang) => {
            let _guard = Guard { shared, done: false };
            std::future::pending::<Response>().await
        }
        Some(Reply::Stream(steps)) => {
            let guard = Guard { shared, done: false };
            let steps: VecDeque<Step> = steps.into();
            let body = futures_util::stream::unfold((steps, guard), |(mut steps, mut guard)| async move {
                loop {
                    let Some(step) = steps.pop_front() else {
                        guard.done();
                        return None;
                    };
                    let bytes = match step {
                        Step::Delay(d) => {
                            tokio::time::sleep(d).await;
                            continue;
                        }
                        Step::Chunk(v) => format!("data: {v}\n\n"),
                        Step::Raw(s) => s,
                        Step::Done => "data: [DONE]\n\n".to_owned(),
                        Step::Abort => {
                            guard.done();
                            return Some((
                                Err(std::io::Error::other("stand-in: connection aborted")),
                                (VecDeque::new(), guard),
                            ));
                        }
                    };
                    return Some((Ok(Bytes::from(bytes)), (steps, guard)));
                }
            });
            (
                [
                    (header::CONTENT_TYPE, "text/event-stream"),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                Body::from_stream(body),
            )
                .into_response()
        }
    }
}

/// A `chat.completion.chunk` whose first choice has this delta and finish reason.
pub fn chunk(delta: Value, finish_reason: Option<&str>) -> Value {
    json!({
        "id": "chatcmpl-stand-in",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "stand-in",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}]
    })
}

/// The first chunk servers send: the role, empty content.
pub fn role() -> Step {
    Step::Chunk(chunk(json!({"role": "assistant", "content": ""}), None))
}

/// A piece of text.
pub fn text(piece: &str) -> Step {
    Step::Chunk(chunk(json!({"content": piece}), None))
}

/// The first piece of tool call `index`: its id and function name, no arguments yet.
pub fn tool_start(index: u32, id: &str, name: &str) -> Step {
    Step::Chunk(chunk(
        json!({"tool_calls": [{"index": index, "id": id, "type": "function",
                               "function": {"name": name, "arguments": ""}}]}),
        None,
    ))
}

/// A piece of tool call `index`'s arguments.
pub fn tool_args(index: u32, piece: &str) -> Step {
    Step::Chunk(chunk(
        json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
        None,
    ))
}

/// The last chunk: an empty delta and the finish reason.
pub fn finish(reason: &str) -> Step {
    Step::Chunk(chunk(json!({}), Some(reason)))
}

/// A whole text answer in these pieces: role, pieces, `stop`, `[DONE]`.
pub fn text_reply(pieces: &[&str]) -> Reply {
    let mut steps = vec![role()];
    steps.extend(pieces.iter().map(|p| text(p)));
    steps.push(finish("stop"));
    steps.push(Step::Done);
    Reply::Stream(steps)
}

/// A whole answer calling these tools `(id, name, arguments)`, each call's arguments
/// sent in two pieces: role, starts and pieces, `tool_calls`, `[DONE]`.
pub fn tool_reply(calls: &[(&str, &str, &str)]) -> Reply {
    let mut steps = vec![role()];
    for (i, (id, name, args)) in calls.iter().enumerate() {
        let index = u32::try_from(i).unwrap_or(u32::MAX);
        let mid = args.char_indices().nth(args.chars().count() / 2).map_or(0, |(b, _)| b);
        steps.push(tool_start(index, id, name));
        steps.push(tool_args(index, &args[..mid]));
        steps.push(tool_args(index, &args[mid..]));
    }
    steps.push(finish("tool_calls"));
    steps.push(Step::Done);
    Reply::Stream(steps)
}
