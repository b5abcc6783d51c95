//! The model service (SPEC section 8, "Model endpoint" and "Fail-safe"): which
//! OpenAI-compatible endpoints an agent's brain asks, in which order, and how.
//!
//! An agent's endpoints ([`Models::endpoints`]) are its main one (the agent's `llm`
//! keys over the server's `FRONTDESK_LLM_*` settings, key by key) and then its
//! `llm.fallbacks` in order. [`Models::complete`] tries them in turn:
//!
//! - a failure before anything was handed on falls back to the next endpoint: a
//!   model error, a timeout before the first token, malformed tool arguments, an
//!   answer with neither text nor a tool call. No tool has run then (tools run only on
//!   a whole completion), so nothing runs twice;
//! - once text has been handed to [`Ask::text`] (it may be spoken already), or a tool
//!   call began streaming and the stream then broke, nothing is asked again: the result
//!   is the error, with the text streamed so far in [`CompletionError::streamed`];
//! - an endpoint that failed in a way that says it is unwell (timeouts, 5xx, 429,
//!   refused, cut, wrong key or model) is skipped (a circuit breaker, reason
//!   `circuit_open`) until a probe in the background (a one-token request: 30 s after
//!   the failure, then doubling up to 5 min) finds it well again: no caller pays for
//!   finding out. An endpoint nobody asked for in 10 minutes is forgotten instead;
//! - the caller interrupting or hanging up ([`Ask::cancel`]) drops the request (the
//!   model server sees the connection close) and the answer is what was said so far.
//!
//! When every endpoint fails the result is an error and the brain answers from the
//! rules for that turn. Every endpoint that failed or was skipped is in
//! [`Answer::fallbacks`] and counted in `frontdesk_llm_fallbacks_total{reason}`
//! (`not_configured` when there is no endpoint at all); the time of each completion is
//! in `frontdesk_llm_completion_seconds{outcome}`, the time to its first text in
//! `frontdesk_llm_first_text_seconds`.
//!
//! The operator's endpoint (`FRONTDESK_LLM_BASE_URL`) goes through a plain client: it
//! may well be on localhost (Ollama, vLLM, llama.cpp). An endpoint the agent chose goes
//! through the SSRF-guarded client, as tools and webhooks do, and gets the server's
//! key only if it is the server's endpoint; an agent's `api_key_env` may name only a
//! variable the operator listed in `FRONTDESK_LLM_KEY_ENVS`, and never one of
//! Frontdesk's own `FRONTDESK_*` variables.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use frontdesk_agent::completion::{ChatMessage, Completion, CompletionError, CompletionRequest};
use frontdesk_core::agent::config::AgentConfig;
use frontdesk_core::net::TargetPolicy;
use frontdesk_delivery::GuardedClient;
use frontdesk_llm::{Client, Endpoint, Event, LlmError};
use tokio::sync::Notify;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// SPEC section 8: `FRONTDESK_LLM_TIMEOUT`, the time to the first token.
pub const DEFAULT_FIRST_TOKEN_TIMEOUT: Duration = Duration::from_secs(2);
/// `FRONTDESK_LLM_OVERALL_TIMEOUT`: the longest one completion may take.
pub const DEFAULT_OVERALL_TIMEOUT: Duration = Duration::from_secs(15);

/// The server's model settings (`FRONTDESK_LLM_*`).
#[derive(Clone, PartialEq, Eq)]
pub struct ModelSettings {
    /// `FRONTDESK_LLM_BASE_URL`, up to `/v1`.
    pub base_url: Option<String>,
    /// `FRONTDESK_LLM_MODEL`.
    pub model: Option<String>,
    /// `FRONTDESK_LLM_API_KEY`: sent to the server's endpoint only.
    pub api_key: Option<String>,
    /// `FRONTDESK_LLM_TIMEOUT`: no first token within this, the next endpoint.
    pub first_token_timeout: Duration,
    /// `FRONTDESK_LLM_OVERALL_TIMEOUT`: the longest one completion may take.
    pub overall_timeout: Duration,
    /// `FRONTDESK_LLM_KEY_ENVS`: the environment variables an agent's `api_key_env` may
    /// name (the operator's choice: a tenant must not read the server's environment).
    pub key_envs: Vec<String>,
}

impl Default for ModelSettings {
    fn default() -> Self {
        Self {
            base_url: None,
            model: None,
            api_key: None,
            first_token_timeout: DEFAULT_FIRST_TOKEN_TIMEOUT,
            overall_timeout: DEFAULT_OVERALL_TIMEOUT,
            key_envs: Vec::new(),
        }
    }
}

impl std::fmt::Debug for ModelSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelSettings")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("first_token_timeout", &self.first_token_timeout)
            .field("overall_timeout", &self.overall_timeout)
            .finish()
    }
}

/// One endpoint as resolved for an agent.
#[derive(Clone, PartialEq, Eq)]
pub struct ModelEndpoint {
    /// Without a trailing `/`.
    pub base_url: String,
    pub model: String,
    api_key: Option<String>,
    /// Chosen by the agent (not the server's endpoint): through the SSRF guard.
    pub guarded: bool,
}

impl ModelEndpoint {
    /// `base_url model`: how logs, `brain_events` and [`Fallback`]s name it (no key).
    pub fn label(&self) -> String {
        format!("{} {}", self.base_url, self.model)
    }

    /// Whether a key goes with its requests.
    pub fn has_key(&self) -> bool {
        self.api_key.is_some()
    }

    /// The breaker's key: the key enters only as a hash, so one agent's wrong key does
    /// not close the endpoint for agents with a good one.
    fn breaker_key(&self) -> BreakerKey {
        let mut h = DefaultHasher::new();
        self.api_key.hash(&mut h);
        BreakerKey {
            base_url: self.base_url.clone(),
            model: self.model.clone(),
            key: h.finish(),
        }
    }
}

impl std::fmt::Debug for ModelEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelEndpoint")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("guarded", &self.guarded)
            .finish()
    }
}

/// How a completion is asked for, besides the request.
#[derive(Debug, Clone, Default)]
pub struct Ask {
    /// Text deltas as they stream, to speak the first sentence early.
    pub text: Option<UnboundedSender<String>>,
    /// The caller interrupted or hung up: stop asking.
    pub cancel: Option<CancellationToken>,
}

/// An endpoint that failed or was skipped on the way to an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    /// `base_url model` (no key); "" for `not_configured`.
    pub endpoint: String,
    /// The label of `frontdesk_llm_fallbacks_total`: an `LlmError` reason,
    /// `circuit_open` or `not_configured`.
    pub reason: &'static str,
    /// One line for the call's `brain_events`.
    pub detail: String,
}

/// What [`Models::complete`] answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The completion; an error when every endpoint failed (then the rules answer), or
    /// when one failed after text was handed on (its `streamed` holds that text). When
    /// [`Answer::interrupted`], the text streamed so far (`content`, `None` when
    /// none), no tool calls, `finish_reason` `interrupted`.
    pub result: Result<Completion, CompletionError>,
    /// Every endpoint that failed or was skipped, in order.
    pub fallbacks: Vec<Fallback>,
    /// The endpoint whose answer (or final error) `result` is; `None` when none was
    /// asked.
    pub endpoint: Option<String>,
    /// Cancelled through [`Ask::cancel`].
    pub interrupted: bool,
}

/// The circuit breaker's timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// The first probe comes this long after the failure.
    pub base: Duration,
    /// Probes that fail double the wait, up to this.
    pub cap: Duration,
    /// An endpoint nobody asked for in this long is no longer probed, and the next
    /// caller tries it.
    pub idle: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(30),
            cap: Duration::from_secs(300),
            idle: Duration::from_secs(600),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct BreakerKey {
    base_url: String,
    model: String,
    key: u64,
}

/// An endpoint being skipped.
struct Open {
    /// Wakes its probe early ([`Models::probe_now`]).
    wake: Arc<Notify>,
    /// When a caller last wanted it.
    wanted: Instant,
}

type Breakers = Mutex<HashMap<BreakerKey, Open>>;

/// Reads an environment variable (injected in tests).
type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

struct Clients {
    guarded: reqwest::Client,
    policy: TargetPolicy,
    plain: reqwest::Client,
}

/// The model service: one per process, shared.
pub struct Models {
    settings: ModelSettings,
    /// `None`: switched off (no endpoint, ever).
    clients: Option<Clients>,
    env: EnvLookup,
    breaker: BreakerPolicy,
    open: Arc<Breakers>,
}

impl std::fmt::Debug for Models {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Models")
            .field("settings", &self.settings)
            .field("on", &self.clients.is_some())
            .field("breaker", &self.breaker)
            .finish_non_exhaustive()
    }
}

/// What one endpoint gave.
enum Attempt {
    Done(Completion),
    Failed {
        error: CompletionError,
        /// Nothing handed on, no tool begun (or the completion ended unusable): the
        /// next endpoint may be asked.
        retry: bool,
        /// Says the endpoint is unwell: skip it until a probe finds it well.
        trips: bool,
    },
    Interrupted(String),
}

impl Models {
    /// The service over the server's `settings`: `guarded` for endpoints agents choose
    /// (its policy also checks literal IP addresses), `plain` for the server's own.
    pub fn new(settings: ModelSettings, guarded: &GuardedClient, plain: reqwest::Client) -> Self {
        Self {
            settings,
            clients: Some(Clients {
                guarded: guarded.http().clone(),
                policy: guarded.policy().clone(),
                plain,
            }),
            env: Arc::new(|name| std::env::var(name).ok()),
            breaker: BreakerPolicy::default(),
            open: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// A service with no endpoint at all (the offline CLI, tests): every completion
    /// is `not_configured`.
    pub fn off() -> Self {
        Self {
            settings: ModelSettings::default(),
            clients: None,
            env: Arc::new(|_| None),
            breaker: BreakerPolicy::default(),
            open: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The HTTP client for the server's own endpoint: no redirects followed.
    pub fn plain_client() -> Result<reqwest::Client, reqwest::Error> {
        frontdesk_delivery::install_crypto();
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(frontdesk_delivery::client::USER_AGENT)
            .build()
    }

    /// The same service reading `api_key_env` variables through `env` (tests).
    #[must_use]
    pub fn with_env(mut self, env: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.env = Arc::new(env);
        self
    }

    /// The same service with this breaker timing.
    #[must_use]
    pub fn with_breaker(mut self, breaker: BreakerPolicy) -> Self {
        self.breaker = breaker;
        self
    }

    pub fn settings(&self) -> &ModelSettings {
        &self.settings
    }

    /// The agent's endpoints, in the order they are tried: its main one (the agent's
    /// `llm` keys over the server's), then its `fallbacks` (a fallback without a model
    /// takes the main one's).
    pub fn endpoints(&self, agent: &AgentConfig) -> Vec<ModelEndpoint> {
        if self.clients.is_none() {
            return Vec::new();
        }
        let s = &self.settings;
        let llm = agent.llm.as_ref();
        let base_url = llm
            .and_then(|l| l.base_url.as_deref())
            .or(s.base_url.as_deref())
            .map(normalise)
            .filter(|b| !b.is_empty());
        let model = llm
            .and_then(|l| l.model.as_deref())
            .or(s.model.as_deref())
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned);
        let mut out = Vec::new();
        if let (Some(base_url), Some(model)) = (base_url, model.clone()) {
            out.push(self.resolve(base_url, model, llm.and_then(|l| l.api_key_env.as_deref())));
        }
        for f in llm.map(|l| l.fallbacks.as_slice()).unwrap_or_default() {
            let m = f
                .model
                .as_deref()
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .or_else(|| model.clone());
            let base_url = normalise(&f.base_url);
            if let Some(m) = m
                && !base_url.is_empty()
            {
                out.push(self.resolve(base_url, m, f.api_key_env.as_deref()));
            }
        }
        out
    }

    /// Whether the agent has an endpoint at all.
    pub fn available(&self, agent: &AgentConfig) -> bool {
        !self.endpoints(agent).is_empty()
    }

    fn resolve(&self, base_url: String, model: String, key_env: Option<&str>) -> ModelEndpoint {
        let servers = self.settings.base_url.as_deref().map(normalise).as_deref() == Some(base_url.as_str());
        let api_key = match key_env {
            Some(name) => self.key_from_env(name),
            None if servers => self.settings.api_key.clone().filter(|k| !k.is_empty()),
            None => None,
        };
        ModelEndpoint {
            base_url,
            model,
            api_key,
            guarded: !servers,
        }
    }

    /// The key in the variable an agent names; never one of Frontdesk's own settings
    /// (the master key, the Twilio token, the server's model key).
    fn key_from_env(&self, name: &str) -> Option<String> {
        if !self.settings.key_envs.iter().any(|k| k == name) {
            tracing::warn!(
                variable = name,
                "an agent's llm api_key_env names a variable FRONTDESK_LLM_KEY_ENVS does not list; no key is sent"
            );
            return None;
        }
        if name.to_ascii_uppercase().starts_with("FRONTDESK_") {
            tracing::warn!(
                variable = name,
                "an agent's llm api_key_env names one of Frontdesk's own settings; no key is sent"
            );
            return None;
        }
        (self.env)(name).filter(|k| !k.trim().is_empty())
    }

    /// Whether an endpoint is being skipped now.
    pub fn is_skipped(&self, endpoint: &ModelEndpoint) -> bool {
        lock(&self.open).contains_key(&endpoint.breaker_key())
    }

    /// Wakes every waiting probe now (after an operator fixed an endpoint; tests).
    pub fn probe_now(&self) {
        for o in lock(&self.open).values() {
            o.wake.notify_one();
        }
    }

    /// Asks the agent's endpoints in turn for a completion (see the module's docs).
    /// The request's model is set per endpoint; the agent's `temperature` fills in
    /// one the request leaves unset.
    pub async fn complete(&self, agent: &AgentConfig, mut req: CompletionRequest, ask: Ask) -> Answer {
        let started = Instant::now();
        if let Some(t) = agent.llm.as_ref().and_then(|l| l.temperature) {
            req.temperature.get_or_insert(t);
        }
        let mut answer = Answer {
            result: Err(CompletionError::new("no model endpoint was asked")),
            fallbacks: Vec::new(),
            endpoint: None,
            interrupted: false,
        };
        let endpoints = self.endpoints(agent);
        if endpoints.is_empty() {
            let detail = "no language model is configured: set FRONTDESK_LLM_BASE_URL and FRONTDESK_LLM_MODEL, \
                          or the agent's llm.base_url and llm.model";
            answer.fallback(String::new(), "not_configured", detail.to_owned());
            answer.result = Err(CompletionError::new(detail).with_reason("not_configured"));
            return finish(answer, started);
        }
        let mut first_text = None;
        for ep in &endpoints {
            if ask.cancel.as_ref().is_some_and(CancellationToken::is_cancelled) {
                answer.interrupted = true;
                answer.result = Ok(interrupted(String::new()));
                return finish(answer, started);
            }
            let label = ep.label();
            if self.wanted_but_open(ep) {
                let detail = format!("{label} is skipped: it failed recently and a probe has not yet found it well");
                answer.fallback(label, "circuit_open", detail.clone());
                answer.result = Err(CompletionError::new(detail).with_reason("circuit_open"));
                continue;
            }
            let mut req = req.clone();
            req.model.clone_from(&ep.model);
            match self.attempt(ep, req, &ask, started, &mut first_text).await {
                Attempt::Done(c) => {
                    answer.endpoint = Some(label);
                    answer.result = Ok(c);
                    return finish(answer, started);
                }
                Attempt::Interrupted(text) => {
                    answer.endpoint = Some(label);
                    answer.interrupted = true;
                    answer.result = Ok(interrupted(text));
                    return finish(answer, started);
                }
                Attempt::Failed { error, retry, trips } => {
                    tracing::info!(endpoint = %label, reason = error.reason, error = %error.message, retry, "model endpoint failed");
                    if trips {
                        self.trip(ep);
                    }
                    answer.fallback(label.clone(), error.reason, error.message.clone());
                    answer.result = Err(error);
                    if !retry {
                        answer.endpoint = Some(label);
                        return finish(answer, started);
                    }
                }
            }
        }
        finish(answer, started)
    }

    /// Whether the endpoint is being skipped (noting that it was wanted).
    fn wanted_but_open(&self, ep: &ModelEndpoint) -> bool {
        match lock(&self.open).get_mut(&ep.breaker_key()) {
            Some(o) => {
                o.wanted = Instant::now();
                true
            }
            None => false,
        }
    }

    fn client(&self, clients: &Clients, ep: &ModelEndpoint) -> Client {
        let s = &self.settings;
        let mut endpoint =
            Endpoint::new(&ep.base_url, &ep.model).with_timeouts(s.first_token_timeout, s.overall_timeout);
        if let Some(k) = &ep.api_key {
            endpoint = endpoint.with_api_key(k);
        }
        let http = if ep.guarded { &clients.guarded } else { &clients.plain };
        Client::with_http(http.clone(), endpoint)
    }

    /// One endpoint, streamed.
    async fn attempt(
        &self,
        ep: &ModelEndpoint,
        req: CompletionRequest,
        ask: &Ask,
        started: Instant,
        first_text: &mut Option<Duration>,
    ) -> Attempt {
        let Some(clients) = &self.clients else {
            return failed(
                LlmError::Connect("model endpoints are switched off".into()),
                String::new(),
                true,
            );
        };
        if ep.guarded
            && let Some(why) = refused(&clients.policy, &ep.base_url)
        {
            return Attempt::Failed {
                error: LlmError::Connect(why).into(),
                retry: true,
                trips: false,
            };
        }
        let client = self.client(clients, ep);
        let opened = tokio::select! {
            biased;
            () = cancelled(ask.cancel.as_ref()) => return Attempt::Interrupted(String::new()),
            opened = client.stream(req) => opened,
        };
        let mut stream = match opened {
            Ok(s) => s,
            Err(e) => return failed(e, String::new(), true),
        };
        loop {
            let next = tokio::select! {
                biased;
                // Returning drops the stream, which closes the connection.
                () = cancelled(ask.cancel.as_ref()) => return Attempt::Interrupted(stream.streamed().to_owned()),
                next = stream.next() => next,
            };
            match next {
                Some(Ok(Event::Text(text))) => {
                    if first_text.is_none() {
                        let t = started.elapsed();
                        *first_text = Some(t);
                        metrics::histogram!("frontdesk_llm_first_text_seconds").record(t.as_secs_f64());
                    }
                    if let Some(tx) = &ask.text {
                        // A caller that stopped listening still gets the whole answer.
                        let _ = tx.send(text);
                    }
                }
                Some(Ok(Event::Done(c))) => return Attempt::Done(c),
                Some(Err(e)) => {
                    // A completion that ended unusable (malformed tool arguments) ran
                    // nothing: it may be asked again, unless its text went out.
                    let ended_unusable = matches!(e.error, LlmError::Malformed(_) | LlmError::Empty);
                    let retry = !e.spoke() && (!e.tool_started || ended_unusable);
                    let trips = trips(&e.error);
                    return Attempt::Failed {
                        error: e.into(),
                        retry,
                        trips,
                    };
                }
                None => {
                    // (Not reached: the stream ends with `Done` or an error.)
                    let streamed = stream.streamed().to_owned();
                    let retry = streamed.trim().is_empty();
                    return failed(
                        LlmError::Cut("the stream ended without a completion".into()),
                        streamed,
                        retry,
                    );
                }
            }
        }
    }

    /// Starts skipping an endpoint, and its probe.
    fn trip(&self, ep: &ModelEndpoint) {
        let Some(clients) = &self.clients else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let key = ep.breaker_key();
        let wake = Arc::new(Notify::new());
        {
            let mut open = lock(&self.open);
            if open.contains_key(&key) {
                return;
            }
            open.insert(
                key.clone(),
                Open {
                    wake: wake.clone(),
                    wanted: Instant::now(),
                },
            );
        }
        tracing::warn!(endpoint = %ep.label(), "model endpoint skipped until a probe finds it well");
        runtime.spawn(probe(
            Arc::downgrade(&self.open),
            key,
            self.client(clients, ep),
            wake,
            self.breaker,
            ep.label(),
        ));
    }
}

impl Answer {
    fn fallback(&mut self, endpoint: String, reason: &'static str, detail: String) {
        metrics::counter!("frontdesk_llm_fallbacks_total", "reason" => reason).increment(1);
        self.fallbacks.push(Fallback {
            endpoint,
            reason,
            detail,
        });
    }
}

/// Records the completion's time and hands the answer back.
fn finish(answer: Answer, started: Instant) -> Answer {
    let outcome = match (&answer.result, answer.interrupted) {
        (_, true) => "interrupted",
        (Ok(_), false) => "ok",
        (Err(_), false) => "error",
    };
    metrics::histogram!("frontdesk_llm_completion_seconds", "outcome" => outcome)
        .record(started.elapsed().as_secs_f64());
    answer
}

fn failed(error: LlmError, streamed: String, retry: bool) -> Attempt {
    let trips = trips(&error);
    Attempt::Failed {
        error: CompletionError::from(error).with_streamed(streamed),
        retry,
        trips,
    }
}

/// What was said before an interruption, as the completion.
fn interrupted(text: String) -> Completion {
    let mut message = ChatMessage::assistant(text);
    if message.content.as_deref().is_some_and(str::is_empty) {
        message.content = None;
    }
    Completion {
        message,
        finish_reason: Some("interrupted".into()),
        usage: None,
    }
}

/// Whether an error says the endpoint is unwell (rather than this one request
/// unlucky): then it is skipped until a probe finds it well.
fn trips(e: &LlmError) -> bool {
    match e {
        LlmError::FirstTokenTimeout(_)
        | LlmError::OverallTimeout(_)
        | LlmError::Connect(_)
        | LlmError::Cut(_)
        | LlmError::Stream(_) => true,
        // A bad request (too long a prompt, say) is this request's; a wrong key or
        // model, a rate limit, a server error are the endpoint's.
        LlmError::Http { status, .. } => !(400..500).contains(status) || matches!(status, 401 | 403 | 404 | 408 | 429),
        LlmError::Malformed(_) | LlmError::Empty => false,
    }
}

/// `Some(why)` when the URL's host is a literal IP address the policy refuses (names
/// are checked by the guarded client's resolver).
fn refused(policy: &TargetPolicy, base_url: &str) -> Option<String> {
    let url = match reqwest::Url::parse(base_url) {
        Ok(u) => u,
        Err(e) => return Some(format!("`{base_url}` is not a URL: {e}")),
    };
    let host = url.host_str()?;
    let ip: std::net::IpAddr = host.trim_start_matches('[').trim_end_matches(']').parse().ok()?;
    policy.check(ip).err()
}

/// Waits for the token's cancellation (forever without one).
async fn cancelled(token: Option<&CancellationToken>) {
    match token {
        Some(t) => t.cancelled().await,
        None => std::future::pending().await,
    }
}

/// The smallest request: is anybody there?
fn probe_request() -> CompletionRequest {
    CompletionRequest {
        messages: vec![ChatMessage::user("Say OK.")],
        max_tokens: Some(1),
        ..CompletionRequest::default()
    }
}

/// Probes a skipped endpoint until it answers (then it is tried again), nobody wants it
/// any more, or the service is gone.
async fn probe(
    open: Weak<Breakers>,
    key: BreakerKey,
    client: Client,
    wake: Arc<Notify>,
    policy: BreakerPolicy,
    label: String,
) {
    let mut wait = policy.base;
    loop {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = wake.notified() => {}
        }
        {
            let Some(open) = open.upgrade() else {
                return;
            };
            let mut open = lock(&open);
            match open.get(&key) {
                None => return,
                Some(o) if o.wanted.elapsed() > policy.idle => {
                    open.remove(&key);
                    tracing::info!(endpoint = %label, "model endpoint no longer probed: nobody asked for it");
                    return;
                }
                Some(_) => {}
            }
        }
        let well = match client.complete(probe_request()).await {
            Ok(_) => true,
            Err(e) => !trips(&e),
        };
        if well {
            if let Some(open) = open.upgrade() {
                lock(&open).remove(&key);
            }
            tracing::info!(endpoint = %label, "model endpoint answers again");
            return;
        }
        wait = (wait * 2).min(policy.cap);
    }
}

fn normalise(base_url: &str) -> String {
    base_url.trim().trim_end_matches('/').to_owned()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
