//! The client: `POST {base_url}/chat/completions` with `"stream": true`, read as
//! server-sent events into [`Event`]s: text as it arrives, then the whole
//! [`Completion`].
//!
//! Two clocks run from the moment the request is sent: the first token (text or a
//! tool-call piece) must come within [`Endpoint::first_token_timeout`], the whole
//! completion within [`Endpoint::overall_timeout`]. Dropping a [`CompletionStream`]
//! drops the HTTP response, which closes the connection: the server stops generating.

use std::sync::Once;
use std::time::Duration;

use frontdesk_agent::completion::{Completion, CompletionRequest};
use tokio::time::{Instant, timeout_at};

use crate::assemble::Assembler;
use crate::error::{LlmError, StreamError, excerpt};
use crate::sse::SseParser;

/// SPEC section 8: `FRONTDESK_LLM_TIMEOUT` defaults to two seconds.
pub const DEFAULT_FIRST_TOKEN_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a whole completion may take, by default.
pub const DEFAULT_OVERALL_TIMEOUT: Duration = Duration::from_secs(30);

/// An OpenAI-compatible model endpoint.
#[derive(Clone)]
pub struct Endpoint {
    /// E.g. `https://api.openai.com/v1`, `http://localhost:11434/v1` (Ollama),
    /// `http://localhost:8000/v1` (vLLM), `http://localhost:8080/v1` (llama.cpp).
    pub base_url: String,
    /// Used when a request names no model.
    pub model: String,
    /// Sent as `Authorization: Bearer ...` when set.
    pub api_key: Option<String>,
    pub first_token_timeout: Duration,
    pub overall_timeout: Duration,
}

impl Endpoint {
    /// An endpoint with the default timeouts and no key.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            first_token_timeout: DEFAULT_FIRST_TOKEN_TIMEOUT,
            overall_timeout: DEFAULT_OVERALL_TIMEOUT,
        }
    }

    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into()).filter(|k: &String| !k.is_empty());
        self
    }

    pub fn with_timeouts(mut self, first_token: Duration, overall: Duration) -> Self {
        self.first_token_timeout = first_token;
        self.overall_timeout = overall;
        self
    }

    /// `{base_url}/chat/completions`.
    pub fn url(&self) -> String {
        format!("{}/chat/completions", self.base_url.trim_end_matches('/'))
    }
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("first_token_timeout", &self.first_token_timeout)
            .field("overall_timeout", &self.overall_timeout)
            .finish()
    }
}

/// What a stream yields.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Text as it arrives (a piece of a word, a word, several).
    Text(String),
    /// The end: the whole completion (all its text, its tool calls, `finish_reason`).
    Done(Completion),
}

/// Installs rustls' ring provider once (the client is built without a default one).
fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only when another provider is installed already, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A chat-completions client for one endpoint.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    endpoint: Endpoint,
}

impl Client {
    /// A client with an HTTP client of its own (no redirects, no proxy).
    pub fn new(endpoint: Endpoint) -> Result<Self, LlmError> {
        install_crypto();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .map_err(|e| LlmError::Connect(format!("the HTTP client cannot be built: {e}")))?;
        Ok(Self::with_http(http, endpoint))
    }

    /// A client over an HTTP client the application already has (its pool, its
    /// address policy). Its own timeouts, if any, also apply.
    pub fn with_http(http: reqwest::Client, endpoint: Endpoint) -> Self {
        Self { http, endpoint }
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Sends the request (`stream: true`; the endpoint's model when it names none) and
    /// waits for the response's head, within the first-token timeout.
    pub async fn stream(&self, mut req: CompletionRequest) -> Result<CompletionStream, LlmError> {
        let start = Instant::now();
        let e = &self.endpoint;
        let first_token = start + e.first_token_timeout;
        let overall = start + e.overall_timeout;
        let head_deadline = first_token.min(overall);
        let timeout_error = || {
            if first_token <= overall {
                LlmError::FirstTokenTimeout(e.first_token_timeout)
            } else {
                LlmError::OverallTimeout(e.overall_timeout)
            }
        };
        if req.model.is_empty() {
            req.model.clone_from(&e.model);
        }
        req.stream = true;
        let mut request = self
            .http
            .post(e.url())
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .json(&req);
        if let Some(key) = &e.api_key {
            request = request.bearer_auth(key);
        }
        let mut response = match timeout_at(head_deadline, request.send()).await {
            Err(_) => return Err(timeout_error()),
            Ok(Err(err)) => return Err(LlmError::Connect(describe(&err))),
            Ok(Ok(r)) => r,
        };
        let status = response.status();
        if !status.is_success() {
            // A short excerpt of the body, if it comes soon.
            let mut body = Vec::new();
            let soon = Instant::now() + Duration::from_millis(500);
            while body.len() < 2048 {
                match timeout_at(soon.min(overall), response.chunk()).await {
                    Ok(Ok(Some(bytes))) => body.extend_from_slice(&bytes),
                    _ => break,
                }
            }
            return Err(LlmError::Http {
                status: status.as_u16(),
                body: excerpt(&String::from_utf8_lossy(&body), 200),
            });
        }
        tracing::debug!(url = %e.url(), model = %req.model, "model stream opened");
        Ok(CompletionStream {
            response: Some(response),
            parser: SseParser::new(),
            pending: std::collections::VecDeque::new(),
            assembler: Some(Assembler::new()),
            first_token,
            overall,
            first_token_timeout: e.first_token_timeout,
            overall_timeout: e.overall_timeout,
            token: false,
            eof: false,
            streamed: String::new(),
        })
    }

    /// The whole completion (the stream drained).
    pub async fn complete(&self, req: CompletionRequest) -> Result<Completion, LlmError> {
        let mut stream = self.stream(req).await?;
        while let Some(event) = stream.next().await {
            match event {
                Ok(Event::Text(_)) => {}
                Ok(Event::Done(c)) => return Ok(c),
                Err(e) => return Err(e.error),
            }
        }
        Err(LlmError::Cut("the stream ended without a completion".into()))
    }
}

/// A reqwest error in one line, without the URL's query (no secrets there anyway).
fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    excerpt(&text, 300)
}

/// A completion arriving. Call [`CompletionStream::next`] until it yields
/// [`Event::Done`] or an error (then `None`); drop it to cancel the request.
#[derive(Debug)]
pub struct CompletionStream {
    /// `None` once ended: the connection is let go.
    response: Option<reqwest::Response>,
    parser: SseParser,
    /// Events' data read but not yet taken.
    pending: std::collections::VecDeque<String>,
    assembler: Option<Assembler>,
    first_token: Instant,
    overall: Instant,
    first_token_timeout: Duration,
    overall_timeout: Duration,
    /// The first token has arrived.
    token: bool,
    /// The body has ended.
    eof: bool,
    streamed: String,
}

impl CompletionStream {
    /// The text handed out so far.
    pub fn streamed(&self) -> &str {
        &self.streamed
    }

    /// The next event; `None` after the end or an error. Cancel-safe: a `select!` that
    /// drops this future loses nothing (e.g. racing it against the caller's barge-in).
    pub async fn next(&mut self) -> Option<Result<Event, StreamError>> {
        self.response.as_ref()?;
        loop {
            while let Some(data) = self.pending.pop_front() {
                if data.trim() == "[DONE]" {
                    return Some(self.finish());
                }
                let assembler = self.assembler.as_mut()?;
                match assembler.push(&data) {
                    Err(e) => return Some(Err(self.fail(e))),
                    Ok(step) => {
                        self.token |= step.token;
                        if !step.text.is_empty() {
                            self.streamed.push_str(&step.text);
                            return Some(Ok(Event::Text(step.text)));
                        }
                    }
                }
            }
            if self.eof {
                // Some servers end after `finish_reason` without `[DONE]`.
                if self.assembler.as_ref().is_some_and(Assembler::finished) {
                    return Some(self.finish());
                }
                return Some(Err(
                    self.fail(LlmError::Cut("the body ended before finish_reason or [DONE]".into()))
                ));
            }
            let (deadline, error) = if !self.token && self.first_token < self.overall {
                (self.first_token, LlmError::FirstTokenTimeout(self.first_token_timeout))
            } else {
                (self.overall, LlmError::OverallTimeout(self.overall_timeout))
            };
            let response = self.response.as_mut()?;
            let read = match timeout_at(deadline, response.chunk()).await {
                Err(_) => return Some(Err(self.fail(error))),
                Ok(Err(e)) => return Some(Err(self.fail(LlmError::Cut(describe(&e))))),
                Ok(Ok(None)) => {
                    self.eof = true;
                    self.parser.finish()
                }
                Ok(Ok(Some(bytes))) => self.parser.feed(&bytes),
            };
            match read {
                Ok(events) => self.pending.extend(events),
                Err(e) => return Some(Err(self.fail(LlmError::Malformed(e.to_string())))),
            }
        }
    }

    /// Ends the stream with an error; the connection is dropped.
    fn fail(&mut self, error: LlmError) -> StreamError {
        self.response = None;
        let tool_started = self.assembler.as_ref().is_some_and(Assembler::tool_started);
        self.assembler = None;
        tracing::debug!(reason = error.reason(), %error, "model stream failed");
        StreamError {
            error,
            streamed: self.streamed.clone(),
            tool_started,
        }
    }

    /// Ends the stream with its completion (or why it cannot be used).
    fn finish(&mut self) -> Result<Event, StreamError> {
        let Some(assembler) = self.assembler.take() else {
            return Err(self.fail(LlmError::Cut("the stream has ended".into())));
        };
        let tool_started = assembler.tool_started();
        self.response = None;
        match assembler.finish() {
            Ok(c) => Ok(Event::Done(c)),
            Err(error) => Err(StreamError {
                error,
                streamed: self.streamed.clone(),
                tool_started,
            }),
        }
    }
}
