//! `frontdesk call`: a phone call in the terminal, without a phone line.
//!
//! Two ways to run it:
//! - against a running server (the default), through the simulator API of SPEC.md
//!   section 4: `POST /v1/sim/calls`, `POST /v1/sim/calls/{id}/turns`,
//!   `POST /v1/sim/calls/{id}/hangup`, then `GET /v1/calls/{id}` for the report. The call
//!   is a real one there: events, webhooks, tools and the call record all happen.
//! - offline with `--agent FILE`: the configuration is validated as `POST /v1/agents`
//!   would, and the same call service as the server's ([`frontdesk_app::CallService`],
//!   the same turn code) carries the call in this process, over a throwaway database
//!   that is removed afterwards. Tools are not called and nothing is sent.
//!
//! Either way the caller's lines come from the keyboard, `--script FILE` or piped stdin,
//! and the call ends with the same report, built from a call in the JSON shape of
//! `GET /v1/calls/{id}` (offline, the same keys as far as an offline call has them).

use std::collections::VecDeque;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, anyhow};
use chrono::{SecondsFormat, Utc};
use frontdesk_agent::EndReason;
use frontdesk_agent::brain::Reply;
use frontdesk_app::telephony::{Sim, Telephony};
use frontdesk_app::tools::TOOLS_OFF;
use frontdesk_app::{CallService, InProcessLocks};
use frontdesk_core::agent::config::BrainKind;
use frontdesk_core::agent::{AgentConfig, NumberVoice, Provider};
use frontdesk_core::call::{Call, Speaker};
use frontdesk_core::phone::PhoneNumber;
use frontdesk_core::workspace::WorkspaceName;
use frontdesk_delivery::{DeliverySettings, Dispatcher, GuardedClient};
use frontdesk_store::Secrets;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::Output;
use crate::cli::{CallArgs, UsageError};

/// How long one request to the server may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The demo number every fresh server has (SPEC.md section 1).
const DEMO_NUMBER: &str = "+15550100000";

pub async fn run(args: CallArgs, out: Output) -> anyhow::Result<()> {
    let to = number("--to", &args.to)?;
    let from = number("--from", &args.from)?;
    let screen = Screen::new(out.json, args.script.is_some());
    let call = match &args.agent {
        Some(path) => {
            let (config, cfg) = load_agent(path)?;
            let input = Input::open(args.script.as_deref())?;
            offline(&config, &cfg, &from, &to, input, &screen).await?
        }
        None => {
            let key = args
                .key
                .as_deref()
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .ok_or_else(|| {
                    UsageError(
                        "no API key: pass --key or set FRONTDESK_API_KEY (`frontdesk keys create --workspace default \
                     --name cli` makes one), or try an agent file offline with --agent FILE"
                            .into(),
                    )
                })?;
            let api = Api::new(&args.url, key)?;
            let input = Input::open(args.script.as_deref())?;
            over_http(&api, &from, &to, input, &screen).await?
        }
    };
    report(&call, out)
}

fn number(flag: &str, s: &str) -> Result<String, UsageError> {
    PhoneNumber::parse(s)
        .map(|n| n.as_str().to_owned())
        .map_err(|e| UsageError(format!("{flag}: {}", e.message)))
}

// ---------------------------------------------------------------------------------------
// The terminal: agent lines, caller lines, the prompt.

/// Where and how the conversation is shown. With `--json` it goes to stderr, so that
/// stdout holds the call's JSON alone.
struct Screen {
    to_stderr: bool,
    /// The conversation's stream is a terminal: show what the agent awaits.
    styled: bool,
    /// ... dimly (unless NO_COLOR is set).
    dim: bool,
    /// Caller lines typed at a terminal are on screen already; others are echoed.
    stdin_terminal: bool,
    script: bool,
}

impl Screen {
    fn new(json: bool, script: bool) -> Self {
        let styled = if json {
            std::io::stderr().is_terminal()
        } else {
            std::io::stdout().is_terminal()
        };
        Self {
            to_stderr: json,
            styled,
            dim: styled && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            stdin_terminal: std::io::stdin().is_terminal(),
            script,
        }
    }

    fn interactive(&self) -> bool {
        self.stdin_terminal && !self.script
    }

    fn write(&self, s: &str, newline: bool) {
        // A closed pipe (`| head`) must not panic the way println! would.
        let end = if newline { "\n" } else { "" };
        if self.to_stderr {
            let mut e = std::io::stderr().lock();
            let _ = write!(e, "{s}{end}").and_then(|()| e.flush());
        } else {
            let mut o = std::io::stdout().lock();
            let _ = write!(o, "{s}{end}").and_then(|()| o.flush());
        }
    }

    fn note(&self, s: &str) -> String {
        if self.dim {
            format!("\x1b[2m[{s}]\x1b[0m")
        } else {
            format!("[{s}]")
        }
    }

    fn agent(&self, said: Said<'_>) {
        let Said {
            say,
            awaiting,
            ended,
            transferred_to,
        } = said;
        let mut line = format!("agent> {say}");
        if self.styled {
            let note = match (awaiting, transferred_to) {
                (_, Some(t)) => Some(format!("transferred to {t}")),
                (_, None) if ended => Some("call ended".to_owned()),
                (Some(f), None) => Some(format!("awaiting {f}")),
                (None, None) => None,
            };
            if let Some(n) = note {
                line.push_str("  ");
                line.push_str(&self.note(&n));
            }
        }
        self.write(&line, true);
    }

    fn caller(&self, text: &str) {
        if !self.interactive() {
            self.write(&format!("you> {text}"), true);
        }
    }

    fn prompt(&self) {
        if self.interactive() {
            self.write("you> ", false);
        }
    }

    /// Ends the prompt's line after Ctrl-C or Ctrl-D.
    fn end_prompt(&self) {
        if self.interactive() {
            self.write("", true);
        }
    }
}

/// An agent's line as the screen shows it, whether the engine ran here or on a server.
struct Said<'a> {
    say: &'a str,
    awaiting: Option<&'a str>,
    ended: bool,
    transferred_to: Option<&'a str>,
}

impl<'a> From<&'a Reply> for Said<'a> {
    fn from(r: &'a Reply) -> Self {
        Self {
            say: r.say.text(),
            awaiting: r.awaiting_field.as_deref(),
            ended: r.ended,
            transferred_to: r.transferred_to.as_deref(),
        }
    }
}

impl<'a> From<&'a Line> for Said<'a> {
    fn from(l: &'a Line) -> Self {
        Self {
            say: &l.say,
            awaiting: l.awaiting_field.as_deref(),
            ended: l.ended,
            transferred_to: l.transferred_to.as_deref(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The caller's lines.

enum Source {
    Lines(VecDeque<String>),
    Stdin(mpsc::UnboundedReceiver<String>),
}

/// One caller line per input line; blank lines and `#` comments are skipped.
struct Input {
    source: Source,
}

fn said(line: &str) -> Option<&str> {
    let line = line.trim();
    (!line.is_empty() && !line.starts_with('#')).then_some(line)
}

impl Input {
    fn open(script: Option<&Path>) -> anyhow::Result<Self> {
        let source = match script {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| UsageError(format!("could not read the script {}: {e}", path.display())))?;
                Source::Lines(text.lines().filter_map(said).map(str::to_owned).collect())
            }
            None => {
                // A thread of its own, so that waiting for a line can be interrupted.
                let (tx, rx) = mpsc::unbounded_channel();
                std::thread::spawn(move || {
                    for line in std::io::stdin().lock().lines() {
                        let Ok(line) = line else { break };
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                });
                Source::Stdin(rx)
            }
        };
        Ok(Self { source })
    }

    /// The caller's next line, or `None` at the end of the input (or on Ctrl-C).
    async fn next(&mut self, screen: &Screen) -> Option<String> {
        match &mut self.source {
            Source::Lines(lines) => {
                let line = lines.pop_front()?;
                screen.caller(&line);
                Some(line)
            }
            Source::Stdin(rx) => loop {
                screen.prompt();
                tokio::select! {
                    line = rx.recv() => match line {
                        None => {
                            screen.end_prompt();
                            return None;
                        }
                        Some(line) => {
                            if let Some(text) = said(&line) {
                                screen.caller(text);
                                return Some(text.to_owned());
                            }
                        }
                    },
                    _ = tokio::signal::ctrl_c() => {
                        screen.end_prompt();
                        return None;
                    }
                }
            },
        }
    }

    /// Lines left when the call ended (script only).
    fn left(&self) -> usize {
        match &self.source {
            Source::Lines(l) => l.len(),
            Source::Stdin(_) => 0,
        }
    }
}

fn warn_unsaid(input: &Input) {
    match input.left() {
        0 => {}
        1 => eprintln!("note: the call ended before the script's last line"),
        n => eprintln!("note: the call ended before the script's last {n} lines"),
    }
}

// ---------------------------------------------------------------------------------------
// Offline: the engine in process.

fn load_agent(path: &Path) -> anyhow::Result<(Value, AgentConfig)> {
    let shown = path.display();
    let text =
        std::fs::read_to_string(path).map_err(|e| UsageError(format!("could not read the agent file {shown}: {e}")))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| UsageError(format!("{shown} is not valid JSON: {e}")))?;
    let parsed = AgentConfig::parse(&v).map_err(|e| UsageError(format!("{shown} is not a valid agent: {e}")))?;
    for w in &parsed.warnings {
        eprintln!("warning: {shown}: {w}");
    }
    let cfg = parsed.config;
    if cfg.brain == BrainKind::Llm {
        eprintln!("warning: offline calls use the built-in `rules` brain; `\"brain\": \"llm\"` runs on a server");
    }
    if !cfg.tools.is_empty() {
        let names: Vec<&str> = cfg.tools.iter().map(|t| t.tool_name.as_str()).collect();
        eprintln!("note: tools are not called offline ({})", names.join(", "));
    }
    Ok((v, cfg))
}

/// A throwaway database for an offline call, removed when dropped.
struct Scratch(std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The offline call's world: a scratch database with one workspace, the agent and the
/// number called, and the server's call service over it (tools off, the simulator's
/// line).
async fn offline_service(
    config: &Value,
    to: &str,
) -> anyhow::Result<(Scratch, CallService, frontdesk_core::agent::Number)> {
    let dir = std::env::temp_dir().join(format!("frontdesk-call-{}", ulid::Ulid::new()));
    let scratch = Scratch(dir.clone());
    let url = format!("sqlite://{}", dir.join("call.db").display());
    let store = frontdesk_store::open(&url, Secrets::new(None))
        .await
        .context("could not open a scratch database for the offline call")?;
    store.migrate().await?;
    let ws = store.create_workspace(&WorkspaceName::parse("offline")?).await?;
    let agent = store.create_agent(&ws.id, "offline", config).await?;
    let number = store
        .create_number(&ws.id, to, &agent.id, Provider::Sim, NumberVoice::default())
        .await?;
    let settings = DeliverySettings::default();
    let client = GuardedClient::new(settings.policy.clone(), Duration::from_secs(1))?;
    let dispatcher = Dispatcher::new(store.clone(), settings)?;
    let lines: Vec<std::sync::Arc<dyn Telephony>> = vec![std::sync::Arc::new(Sim)];
    let calls = CallService::new(
        store,
        dispatcher,
        client,
        std::sync::Arc::new(InProcessLocks::default()),
        lines,
        std::sync::Arc::new(frontdesk_app::Models::off()),
    )
    .without_tools();
    Ok((scratch, calls, number))
}

/// Notes the tools a step would have called (tools are not called offline).
fn note_tools(call: &Call, seen: &mut usize) {
    for t in call.tool_calls.iter().skip(*seen) {
        if t.error.as_deref() == Some(TOOLS_OFF) {
            eprintln!(
                "note: the agent would call tool `{}` now; tools are not called offline",
                t.tool
            );
        }
    }
    *seen = call.tool_calls.len();
}

async fn offline(
    config: &Value,
    cfg: &AgentConfig,
    from: &str,
    to: &str,
    mut input: Input,
    screen: &Screen,
) -> anyhow::Result<Value> {
    let (_scratch, calls, number) = offline_service(config, to).await?;
    let ws = number.workspace_id.clone();
    let step = calls.answer(&ws, &number, from, None, None).await?;
    screen.agent((&step.reply).into());
    let id = step.call.id.clone();
    let mut ended = step.reply.ended;
    let mut seen = 0;
    while !ended {
        let Some(text) = input.next(screen).await else {
            break;
        };
        let step = calls.turn(&ws, &id, &text).await?;
        note_tools(&step.call, &mut seen);
        screen.agent((&step.reply).into());
        ended = step.reply.ended;
    }
    if ended {
        warn_unsaid(&input);
    } else {
        let step = calls.hang_up(&ws, &id, EndReason::CallerHangup).await?;
        note_tools(&step.call, &mut seen);
    }
    let call = calls.get(&ws, &id).await?;
    Ok(offline_report(&call, cfg))
}

/// The report of an offline call: the keys of `GET /v1/calls/{id}` an offline call has.
fn offline_report(call: &Call, cfg: &AgentConfig) -> Value {
    let at = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
    let turns: Vec<Value> = call
        .turns
        .iter()
        .map(|t| {
            let speaker = if t.speaker == Speaker::Agent { "agent" } else { "caller" };
            json!({"speaker": speaker, "text": t.text, "at": at(t.at)})
        })
        .collect();
    let now = Utc::now();
    json!({
        "id": call.id.as_str(),
        "status": "completed",
        "direction": "inbound",
        "from": call.from,
        "to": call.to,
        "agent": cfg.name,
        "caller": {"phone": call.caller.phone, "name": call.caller.name, "email": call.caller.email},
        "call_type": call.call_type,
        "custom_fields": call.custom_fields,
        "message": call.message,
        "transferred_to": call.transferred_to,
        "ai_summary": call.ai_summary,
        "end_reason": call.end_reason,
        "transcript": call.transcript(),
        "turns": turns,
        "started_at": at(call.started_at),
        "ended_at": at(call.ended_at.unwrap_or(now)),
        "duration_seconds": call.duration_seconds(now),
        "offline": true,
    })
}
// ---------------------------------------------------------------------------------------
// Against a server: the simulator API.

/// An agent's line as the simulator answers it (a new call also has `call_id`).
#[derive(Debug, Deserialize)]
struct Line {
    #[serde(default)]
    call_id: Option<String>,
    #[serde(default)]
    say: String,
    #[serde(default)]
    awaiting_field: Option<String>,
    #[serde(default)]
    ended: bool,
    #[serde(default)]
    transferred_to: Option<String>,
}

/// Which request failed, for the hint that goes with its error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Start,
    Turn,
    Hangup,
    Fetch,
}

struct Api {
    http: reqwest::Client,
    /// The base URL as given, without a trailing `/`.
    base: String,
    key: String,
}

impl Api {
    fn new(url: &str, key: &str) -> anyhow::Result<Self> {
        let parsed = reqwest::Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                UsageError(format!(
                    "--url: `{url}` is not an http(s) URL; pass the server's address, for example http://127.0.0.1:8080"
                ))
            })?;
        frontdesk_delivery::client::install_crypto();
        let mut builder = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("frontdesk-cli/", env!("CARGO_PKG_VERSION")));
        let host = parsed.host_str().unwrap_or_default();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let loopback =
            host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback());
        if loopback {
            // A proxy from the environment cannot reach this machine's own server.
            builder = builder.no_proxy();
        }
        let http = builder.build().context("could not build the HTTP client")?;
        Ok(Self {
            http,
            base: url.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
        })
    }

    async fn send(&self, step: Step, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let req = match body {
            Some(b) => self.http.post(&url).json(&b),
            None if step == Step::Hangup => self.http.post(&url),
            None => self.http.get(&url),
        };
        let resp = req
            .bearer_auth(&self.key)
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = resp.bytes().await.map_err(|e| self.unreachable(&e))?;
        let body: Option<Value> = serde_json::from_slice(&bytes).ok();
        if status.is_success() {
            return body.ok_or_else(|| {
                anyhow!(
                    "{url} answered {status} without JSON; is {} a Frontdesk server?",
                    self.base
                )
            });
        }
        Err(anyhow!(self.refusal(step, path, status, body.as_ref(), retry_after)))
    }

    /// A request that got no answer.
    fn unreachable(&self, e: &reqwest::Error) -> anyhow::Error {
        let mut cause: &dyn std::error::Error = e;
        while let Some(inner) = cause.source() {
            cause = inner;
        }
        if e.is_timeout() {
            anyhow!(
                "the server at {} did not answer within {} seconds",
                self.base,
                REQUEST_TIMEOUT.as_secs()
            )
        } else if e.is_connect() {
            anyhow!(
                "no Frontdesk server at {} ({cause}); start one with `frontdesk serve`, or pass --url",
                self.base
            )
        } else {
            anyhow!("could not talk to the server at {}: {cause}", self.base)
        }
    }

    /// The one-line message for an error status.
    fn refusal(
        &self,
        step: Step,
        path: &str,
        status: reqwest::StatusCode,
        body: Option<&Value>,
        retry_after: Option<String>,
    ) -> String {
        let error = body.and_then(|b| b.get("error"));
        let code = error.and_then(|e| e["code"].as_str());
        let message = error.and_then(|e| e["message"].as_str());
        let code_or_status = code.map_or_else(|| status.to_string(), str::to_owned);
        match status.as_u16() {
            401 => "the API key was refused; pass --key or set FRONTDESK_API_KEY (`frontdesk keys create \
                    --workspace NAME --name LABEL` makes one)"
                .to_owned(),
            404 if error.is_none() || code == Some("route_not_found") => format!(
                "{}{path} does not exist; is {} a Frontdesk server with the simulator API?",
                self.base, self.base
            ),
            404 if step == Step::Start => format!(
                "{}; GET /v1/numbers lists them (a new server's demo number is {DEMO_NUMBER})",
                message.unwrap_or("--to is not one of the workspace's numbers")
            ),
            429 => format!(
                "the server is rate limiting this API key; try again in {} seconds",
                retry_after.as_deref().unwrap_or("a few")
            ),
            s if s >= 500 => format!(
                "the server failed ({status}{}); its log has the details",
                message.map(|m| format!(": {m}")).unwrap_or_default()
            ),
            _ => match message {
                Some(m) => format!("{m} ({code_or_status})"),
                None => format!(
                    "{}{path} answered {status}; is {} a Frontdesk server?",
                    self.base, self.base
                ),
            },
        }
    }

    async fn line(&self, step: Step, path: &str, body: Value) -> anyhow::Result<Line> {
        let v = self.send(step, path, Some(body)).await?;
        serde_json::from_value(v).map_err(|e| {
            anyhow!(
                "the server's answer to {path} is not the simulator's reply ({e}); is {} a Frontdesk server of this version?",
                self.base
            )
        })
    }
}

/// Call ids go into URL paths: only the characters ids are made of.
fn safe_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

async fn over_http(api: &Api, from: &str, to: &str, mut input: Input, screen: &Screen) -> anyhow::Result<Value> {
    let first = api
        .line(Step::Start, "/v1/sim/calls", json!({"from": from, "to": to}))
        .await?;
    let id = first.call_id.clone().filter(|id| safe_id(id)).ok_or_else(|| {
        anyhow!(
            "the server's answer has no usable call_id; is {} a Frontdesk server?",
            api.base
        )
    })?;
    screen.agent((&first).into());
    let mut ended = first.ended;
    while !ended {
        let Some(text) = input.next(screen).await else {
            break;
        };
        match api
            .line(Step::Turn, &format!("/v1/sim/calls/{id}/turns"), json!({"text": text}))
            .await
        {
            Ok(l) => {
                screen.agent((&l).into());
                ended = l.ended;
            }
            Err(e) => {
                // Leave no call hanging on the server when it can still hear us.
                let _ = api
                    .send(Step::Hangup, &format!("/v1/sim/calls/{id}/hangup"), None)
                    .await;
                return Err(e.context(format!("call {id}")));
            }
        }
    }
    if ended {
        warn_unsaid(&input);
    } else if let Err(e) = api
        .send(Step::Hangup, &format!("/v1/sim/calls/{id}/hangup"), None)
        .await
    {
        eprintln!("warning: could not hang up call {id}: {e:#}");
    }
    api.send(Step::Fetch, &format!("/v1/calls/{id}"), None).await
}

// ---------------------------------------------------------------------------------------
// The report.

fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".to_owned(),
        Value::String(s) if s.is_empty() => "-".to_owned(),
        Value::String(s) => s.clone(),
        Value::Bool(true) => "yes".to_owned(),
        Value::Bool(false) => "no".to_owned(),
        other => other.to_string(),
    }
}

/// The report: the call as JSON with `--json`, else its outcome in a few lines.
fn report(call: &Value, out: Output) -> anyhow::Result<()> {
    if out.json {
        return print(&serde_json::to_string_pretty(call)?);
    }
    let mut lines = vec![String::new()];
    let mut head = format!("call {}: {}", text(&call["id"]), text(&call["status"]));
    if let Some(r) = call["end_reason"]
        .as_str()
        .filter(|r| Some(*r) != call["status"].as_str())
    {
        head.push_str(&format!(" ({})", r.replace('_', " ")));
    }
    if call["offline"] == true {
        head.push_str(", offline");
    }
    lines.push(head);
    let row = |label: &str, value: String| format!("  {label:<15} {value}");
    lines.push(row("call type", text(&call["call_type"])));
    let empty = Map::new();
    let fields = call["custom_fields"].as_object().unwrap_or(&empty);
    if fields.is_empty() {
        lines.push(row("fields", "none collected".to_owned()));
    } else {
        lines.push(row("fields", String::new()).trim_end().to_owned());
        // Values in the column of the other rows', unless a name is longer.
        let width = fields.keys().map(|k| k.chars().count()).max().unwrap_or(0).max(13);
        for (k, v) in fields {
            lines.push(format!("    {k:<width$} {}", text(v)));
        }
    }
    lines.push(row("message", text(&call["message"])));
    lines.push(row("transferred to", text(&call["transferred_to"])));
    if let Some(tools) = call["tool_calls"].as_array().filter(|t| !t.is_empty()) {
        let list: Vec<String> = tools.iter().map(tool_call).collect();
        lines.push(row("tools", list.join("; ")));
    }
    lines.push(row("summary", text(&call["ai_summary"])));
    print(&lines.join("\n"))
}

/// `submitLeadToCRM: 200 in 84 ms`, or what went wrong.
fn tool_call(t: &Value) -> String {
    let name = text(&t["tool"]);
    let ms = t["latency_ms"].as_u64().unwrap_or_default();
    match (t["ok"].as_bool(), t["error"].as_str()) {
        (Some(false), Some(e)) => format!("{name}: failed after {ms} ms ({e})"),
        _ => match t["status"].as_u64() {
            Some(status) => format!("{name}: {status} in {ms} ms"),
            None => format!("{name}: {ms} ms"),
        },
    }
}

/// Prints the report; a reader that went away (`| head`) is not an error.
fn print(s: &str) -> anyhow::Result<()> {
    let mut o = std::io::stdout().lock();
    match writeln!(o, "{s}").and_then(|()| o.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
