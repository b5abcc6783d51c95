//! What asking a language model costs Frontdesk itself (issue 14), with the model's own
//! time taken out: the model is `frontdesk_llm::stand_in`, a scripted
//! OpenAI-compatible server on loopback that answers at once (or after a set delay),
//! in the real wire format (server-sent events).
//!
//! `llm-bench [TURNS] [RELAY_TURNS] [DELAY_MS]` (defaults 200, 30, 200) starts the real
//! server in process on a fresh SQLite database in a temporary folder, twice, and:
//!
//! 1. **Turn overhead**: simulated calls through `POST /v1/sim/calls/{id}/turns`, five
//!    caller lines a call, TURNS turns for each of three agents (the same contractor
//!    configuration on the `rules`, `llm` and `hybrid` brains), their calls
//!    interleaved (a rules call, an llm call, a hybrid call, again) so that the
//!    machine's drift touches all three alike. The stand-in answers every completion
//!    at once with a short text reply, so the llm path's time over the rules' is ours:
//!    the prompt and state, the HTTP request, parsing the stream, the larger state
//!    stored. No call ends (an ended call would ask for a summary too).
//! 2. **Relay first token**: Twilio ConversationRelay calls (signed webhook, signed
//!    WebSocket handshake, `setup`, then `prompt` messages), RELAY_TURNS prompts on a
//!    rules agent (the baseline) and as many on an llm agent whose stand-in sends its
//!    first text DELAY_MS after the request; the time from a prompt sent to the first
//!    `text` message received.
//!
//! Figures are reported beside same-run baselines (`/healthz`, the rules brain); this
//! machine is shared and noisy. Every wait has a timeout and every failure ends the
//! run with a message saying what went wrong.

#![allow(clippy::print_stdout, reason = "a benchmark tool")]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use frontdesk_bench::{form_component, pct};
use frontdesk_llm::stand_in::{self, Reply, StandIn, Step};
use frontdesk_server::bootstrap::bootstrap;
use frontdesk_server::{Application, RateLimitSettings, ServerSettings};
use frontdesk_store::{Secrets, Store};
use frontdesk_twilio::signature::{Algorithm, compute};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The agent every measurement uses, on one brain or another.
const CONTRACTOR: &str = include_str!("../../../tests/conversations/agents/contractor.json");

/// A caller of the contractor agent: why, name, a phone number the rules cannot read
/// (so the hybrid brain asks the model there), email, a question. None of it ends the
/// call on any brain.
const LINES: [&str; 5] = [
    "Hi, I'd like a quote for a kitchen remodel.",
    "Sure, it's John Smith.",
    "oh it's the five five five one, then eight six seven, and five three oh nine",
    "john dot smith at gmail dot com",
    "Do you offer free estimates?",
];

/// What the stand-in model says every time (in two pieces).
const MODEL_SAYS: [&str; 2] = ["Sure thing. ", "What else can I do for you?"];

const PUBLIC_URL: &str = "https://fd.example.com";
const TWILIO_TOKEN: &str = "bench-token-5f1c2a9e0b7d4c3e8a6f";
const MASTER_KEY: &str = "bench-master-key-0123456789abcdef0123456789";
const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const CALLER: &str = "+15551230001";

/// How long any one request, handshake or message may take before the run gives up.
const WAIT: Duration = Duration::from_secs(30);

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A server running in this process on its own database.
struct Server {
    base: String,
    key: String,
    http: reqwest::Client,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Server {
    /// Starts a server on a fresh SQLite database, rate limits off, `configure` applied.
    async fn start(name: &str, configure: impl FnOnce(&mut ServerSettings)) -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!("frontdesk-llm-bench-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("temporary folder {}: {e}", dir.display()))?;
        let mut settings = ServerSettings {
            listen: "127.0.0.1:0".parse().map_err(|_| "the listen address")?,
            rate_limit: RateLimitSettings {
                per_hour: 0,
                per_second: 0,
            },
            ..ServerSettings::default()
        };
        configure(&mut settings);
        let key = match settings.master_key.as_deref() {
            Some(k) => Some(Arc::new(
                frontdesk_core::secret::MasterKey::new(k).map_err(|e| format!("master key: {e}"))?,
            )),
            None => None,
        };
        let url = format!("sqlite://{}/frontdesk.db", dir.display());
        let store: Arc<dyn Store> = frontdesk_store::open(&url, Secrets::new(key))
            .await
            .map_err(|e| format!("open {url}: {e}"))?;
        store.migrate().await.map_err(|e| format!("migrate: {e}"))?;
        let first = bootstrap(&*store)
            .await
            .map_err(|e| format!("bootstrap: {e}"))?
            .ok_or("the new database was not empty")?;
        let app = Application::build(settings, store)
            .await
            .map_err(|e| format!("start the server: {e}"))?;
        let base = format!("http://{}", app.local_addr().map_err(|e| e.to_string())?);
        tokio::spawn(app.run_until(std::future::pending()));
        let http = reqwest::Client::builder()
            .timeout(WAIT)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self {
            base,
            key: first.secret.expose().to_owned(),
            http,
            dir,
        })
    }

    /// POSTs JSON with the bootstrap key; the JSON answer, or what went wrong.
    async fn post(&self, path: &str, body: &Value) -> Result<Value, String> {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .map_err(|e| format!("POST {path}: {e}"))?;
        let status = res.status();
        let text = res.text().await.map_err(|e| format!("POST {path}: {e}"))?;
        if !status.is_success() {
            return Err(format!("POST {path} answered {status}: {text}"));
        }
        serde_json::from_str(&text).map_err(|e| format!("POST {path}: not JSON ({e}): {text}"))
    }

    async fn get(&self, path: &str) -> Result<String, String> {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        let status = res.status();
        let text = res.text().await.map_err(|e| format!("GET {path}: {e}"))?;
        if !status.is_success() {
            return Err(format!("GET {path} answered {status}: {text}"));
        }
        Ok(text)
    }

    /// Creates the contractor agent on `brain` and a number for it; `number` is the
    /// number's body without `agent_id`.
    async fn agent_on(&self, brain: &str, mut number: Value) -> Result<(), String> {
        let mut cfg: Value = serde_json::from_str(CONTRACTOR).map_err(|e| format!("contractor.json: {e}"))?;
        cfg["brain"] = json!(brain);
        cfg["name"] = json!(format!("Contractor ({brain})"));
        let agent = self.post("/v1/agents", &cfg).await?;
        number["agent_id"] = agent["id"].clone();
        self.post("/v1/numbers", &number).await?;
        Ok(())
    }

    /// The sum of the `frontdesk_llm_fallbacks_total` series in `/metrics`.
    async fn fallbacks(&self) -> Result<f64, String> {
        let m = self.get("/metrics").await?;
        Ok(m.lines()
            .filter(|l| l.starts_with("frontdesk_llm_fallbacks_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum())
    }
}

/// Milliseconds since `t`.
fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// p50 and p99 of the samples.
fn p50_p99(v: &mut [f64]) -> (f64, f64) {
    (pct(v, 0.5), pct(v, 0.99))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Brain {
    Rules,
    Llm,
    Hybrid,
}

impl Brain {
    fn name(self) -> &'static str {
        match self {
            Self::Rules => "rules",
            Self::Llm => "llm",
            Self::Hybrid => "hybrid",
        }
    }

    fn number(self) -> &'static str {
        match self {
            Self::Rules => "+15550300001",
            Self::Llm => "+15550300002",
            Self::Hybrid => "+15550300003",
        }
    }
}

/// What one simulated call gave.
struct SimCall {
    turns: Vec<f64>,
    /// The `say` of the first turn.
    first_say: String,
    /// Turns the brain asked the model for, from the call record.
    model_turns: u64,
    /// The call ended before its last line.
    ended_early: bool,
}

/// One simulated call on `brain`'s number, its five lines timed one by one.
async fn sim_call(srv: &Server, brain: Brain, llm: &StandIn) -> Result<SimCall, String> {
    if brain != Brain::Rules {
        // One answer per line at most; a hybrid turn the rules are sure of leaves its
        // answer queued for a later one (all answers are alike).
        for _ in LINES {
            llm.reply(stand_in::text_reply(&MODEL_SAYS));
        }
    }
    let started = srv
        .post("/v1/sim/calls", &json!({"from": CALLER, "to": brain.number()}))
        .await?;
    let id = started["call_id"]
        .as_str()
        .ok_or_else(|| format!("no call_id in {started}"))?
        .to_owned();
    let path = format!("/v1/sim/calls/{id}/turns");
    let mut out = SimCall {
        turns: Vec::with_capacity(LINES.len()),
        first_say: String::new(),
        model_turns: 0,
        ended_early: false,
    };
    for (i, line) in LINES.iter().enumerate() {
        let body = json!({"text": line});
        let t = Instant::now();
        let r = srv.post(&path, &body).await?;
        out.turns.push(ms(t));
        if i == 0 {
            r["say"].as_str().unwrap_or_default().clone_into(&mut out.first_say);
        }
        if r["ended"] == true {
            out.ended_early = i + 1 < LINES.len();
            break;
        }
    }
    let record: Value = serde_json::from_str(&srv.get(&format!("/v1/calls/{id}")).await?)
        .map_err(|e| format!("the call record is not JSON: {e}"))?;
    out.model_turns = record["brain_turns"]["model"].as_u64().unwrap_or(0);
    Ok(out)
}

/// Per-brain results of part 1.
#[derive(Default)]
struct Turns {
    samples: Vec<f64>,
    model_turns: u64,
    ended_early: usize,
}

async fn turn_overhead(turns: usize) -> Result<(), String> {
    let llm = StandIn::start().await;
    let base = llm.base_url();
    let srv = Server::start("turns", move |s| {
        s.models.base_url = Some(base);
        s.models.model = Some("stand-in".into());
        s.models.api_key = Some("sk-bench".into());
        s.models.first_token_timeout = Duration::from_secs(10);
        s.models.overall_timeout = Duration::from_secs(20);
    })
    .await?;
    let brains = [Brain::Rules, Brain::Llm, Brain::Hybrid];
    for b in brains {
        srv.agent_on(b.name(), json!({"number": b.number(), "provider": "sim"}))
            .await?;
    }

    // Warm-up, untimed; and a check that the model really answers the llm agent.
    for _ in 0..2 {
        for b in brains {
            let c = sim_call(&srv, b, &llm).await?;
            if b == Brain::Llm && c.first_say != MODEL_SAYS.concat() {
                return Err(format!(
                    "the llm agent did not say the model's words but {:?}: is the model reachable?",
                    c.first_say
                ));
            }
        }
    }
    let fallbacks_before = srv.fallbacks().await?;

    let calls = turns.div_ceil(LINES.len()).max(1);
    let mut health = Vec::with_capacity(calls * LINES.len());
    let mut results: [Turns; 3] = Default::default();
    let started = Instant::now();
    for _ in 0..calls {
        for _ in LINES {
            let t = Instant::now();
            srv.get("/healthz").await?;
            health.push(ms(t));
        }
        for (i, b) in brains.into_iter().enumerate() {
            let c = sim_call(&srv, b, &llm).await?;
            let r = &mut results[i];
            r.samples.extend(c.turns);
            r.model_turns += c.model_turns;
            r.ended_early += usize::from(c.ended_early);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let fallbacks = srv.fallbacks().await? - fallbacks_before;

    println!();
    println!(
        "1. Turn overhead: POST /v1/sim/calls/{{id}}/turns, {calls} calls x {} lines per brain, interleaved, one at a time ({secs:.1} s)",
        LINES.len()
    );
    println!("   the stand-in model answers every completion at once with a text reply");
    println!();
    println!(
        "{:<28} {:>6} {:>9} {:>9} {:>9} {:>11} {:>11}",
        "path", "turns", "p50 ms", "p99 ms", "max ms", "p50 ÷ rules", "p99 ÷ rules"
    );
    let (r50, r99) = p50_p99(&mut results[0].samples);
    let (h50, h99) = p50_p99(&mut health);
    println!(
        "{:<28} {:>6} {:>9.3} {:>9.3} {:>9.3} {:>11.3} {:>11.3}",
        "GET /healthz (baseline)",
        health.len(),
        h50,
        h99,
        health.last().copied().unwrap_or(f64::NAN),
        h50 / r50,
        h99 / r99
    );
    let mut p50s = [0.0; 3];
    for (i, b) in brains.into_iter().enumerate() {
        let r = &mut results[i];
        let (p50, p99) = p50_p99(&mut r.samples);
        p50s[i] = p50;
        let label = format!("turn, {} brain", b.name());
        println!(
            "{:<28} {:>6} {:>9.3} {:>9.3} {:>9.3} {:>11.3} {:>11.3}",
            label,
            r.samples.len(),
            p50,
            p99,
            r.samples.last().copied().unwrap_or(f64::NAN),
            p50 / r50,
            p99 / r99
        );
    }
    println!();
    println!(
        "   llm over rules, p50: +{:.3} ms ({:.2}x); hybrid over rules, p50: +{:.3} ms ({:.2}x)",
        p50s[1] - p50s[0],
        p50s[1] / p50s[0],
        p50s[2] - p50s[0],
        p50s[2] / p50s[0]
    );
    println!(
        "   turns the model answered: llm {} of {}, hybrid {} of {}; rules fallbacks during the run: {fallbacks}",
        results[1].model_turns,
        results[1].samples.len(),
        results[2].model_turns,
        results[2].samples.len()
    );
    let ended: usize = results.iter().map(|r| r.ended_early).sum();
    if ended > 0 || fallbacks > 0.0 {
        println!("   WARNING: {ended} calls ended early and {fallbacks} turns fell back: the figures mix paths");
    }
    Ok(())
}

/// The stand-in's answer for a relay turn: nothing for `delay`, then the text.
fn delayed_reply(delay: Duration) -> Reply {
    let mut steps = vec![Step::Delay(delay), stand_in::role()];
    steps.extend(
        ["Sure thing. ", "Let me help. ", "What else can I do for you?"]
            .iter()
            .map(|p| stand_in::text(p)),
    );
    steps.push(stand_in::finish("stop"));
    steps.push(Step::Done);
    Reply::Stream(steps)
}

/// Signed form POST as Twilio sends it; the body.
async fn twilio_post(srv: &Server, path: &str, params: &[(&str, &str)]) -> Result<String, String> {
    let owned: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let sig = compute(TWILIO_TOKEN, &format!("{PUBLIC_URL}{path}"), &owned, Algorithm::Sha1);
    let body: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", form_component(k), form_component(v)))
        .collect();
    let res = srv
        .http
        .post(format!("{}{path}", srv.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", sig)
        .body(body.join("&"))
        .send()
        .await
        .map_err(|e| format!("POST {path}: {e}"))?;
    let status = res.status();
    let text = res.text().await.map_err(|e| format!("POST {path}: {e}"))?;
    if !status.is_success() {
        return Err(format!("POST {path} answered {status}: {text}"));
    }
    Ok(text)
}

/// The next text frame as JSON, within [`WAIT`].
async fn next_json(ws: &mut Ws) -> Result<Value, String> {
    loop {
        let msg = match tokio::time::timeout(WAIT, ws.next()).await {
            Err(_) => return Err(format!("no message from the relay within {WAIT:?}")),
            Ok(None) => return Err("the server closed the relay WebSocket".into()),
            Ok(Some(Err(e))) => return Err(format!("relay WebSocket: {e}")),
            Ok(Some(Ok(m))) => m,
        };
        match msg {
            Message::Text(t) => {
                return serde_json::from_str(t.as_str()).map_err(|e| format!("relay message not JSON ({e}): {t}"));
            }
            Message::Close(c) => return Err(format!("the server closed the relay WebSocket: {c:?}")),
            _ => {}
        }
    }
}

/// One ConversationRelay call on `number`: rung, connected, set up, then the five
/// lines as prompts; for each, prompt sent -> first `text` message, and the words.
async fn relay_call(
    srv: &Server,
    number: &str,
    n: usize,
    llm: Option<(&StandIn, Duration)>,
) -> Result<(Vec<f64>, String), String> {
    let sid = format!("CA{n:032x}");
    let voice = [
        ("CallSid", sid.as_str()),
        ("AccountSid", ACCOUNT),
        ("From", CALLER),
        ("To", number),
        ("Direction", "inbound"),
        ("CallStatus", "ringing"),
        ("ApiVersion", "2010-04-01"),
    ];
    let xml = twilio_post(srv, "/telephony/twilio/voice", &voice).await?;
    let at = xml
        .find("call_id=")
        .ok_or_else(|| format!("the relay TwiML names no call: {xml}"))?
        + "call_id=".len();
    let call_id: String = xml[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let path = format!("/telephony/twilio/relay?call_id={call_id}");
    let ws_public = PUBLIC_URL.replacen("https://", "wss://", 1);
    let sig = compute(TWILIO_TOKEN, &format!("{ws_public}{path}"), &[], Algorithm::Sha1);
    let mut req = format!("{}{path}", srv.base.replacen("http://", "ws://", 1))
        .into_client_request()
        .map_err(|e| format!("relay URL: {e}"))?;
    req.headers_mut().insert(
        "x-twilio-signature",
        sig.parse().map_err(|_| "the signature is not a header value")?,
    );
    let (mut ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async_with_config(req, None, true))
        .await
        .map_err(|_| "the relay handshake timed out")?
        .map_err(|e| format!("relay handshake: {e}"))?;
    let setup = json!({"type": "setup", "sessionId": format!("VX{n:032x}"), "callSid": sid, "from": CALLER,
        "to": number, "direction": "inbound", "accountSid": ACCOUNT, "callStatus": "RINGING"});
    ws.send(Message::text(setup.to_string()))
        .await
        .map_err(|e| format!("setup: {e}"))?;
    let asked_before = llm.map_or(0, |(s, _)| s.requests().len());
    let mut firsts = Vec::with_capacity(LINES.len());
    let mut words = String::new();
    for line in LINES {
        if let Some((stand_in, delay)) = llm {
            stand_in.reply(delayed_reply(delay));
        }
        let prompt = json!({"type": "prompt", "voicePrompt": line, "lang": "en-US", "last": true});
        let sent = Instant::now();
        ws.send(Message::text(prompt.to_string()))
            .await
            .map_err(|e| format!("prompt: {e}"))?;
        let mut first = None;
        loop {
            let v = next_json(&mut ws).await?;
            match v["type"].as_str() {
                Some("text") => {
                    if first.is_none() {
                        first = Some(ms(sent));
                    }
                    if firsts.is_empty() {
                        words.push_str(v["token"].as_str().unwrap_or_default());
                    }
                    if v["last"] == true {
                        break;
                    }
                }
                Some("end") => return Err(format!("the relay call ended on {line:?}: {v}")),
                _ => {}
            }
        }
        firsts.push(first.unwrap_or(f64::NAN));
    }
    // The call's end asks the model for the summary: answer it, and let it be asked
    // before the next call, so that it never takes a turn's answer.
    if let Some((stand_in, _)) = llm {
        stand_in.reply(stand_in::text_reply(&[
            r#"{"summary": "John Smith asked for a quote for a kitchen remodel.", "call_type": "quote_request"}"#,
        ]));
    }
    let _ = ws.close(None).await;
    let status = [
        ("CallSid", sid.as_str()),
        ("AccountSid", ACCOUNT),
        ("CallStatus", "completed"),
        ("CallDuration", "21"),
    ];
    twilio_post(srv, "/telephony/twilio/status", &status).await?;
    if let Some((stand_in, _)) = llm {
        let expected = asked_before + LINES.len() + 1;
        let deadline = Instant::now() + Duration::from_secs(5);
        while stand_in.requests().len() < expected {
            if Instant::now() > deadline {
                return Err(format!(
                    "the model was asked {} times in a relay call, not {} (a turn each and the summary)",
                    stand_in.requests().len() - asked_before,
                    LINES.len() + 1
                ));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    Ok((firsts, words))
}

async fn relay_first_token(turns: usize, delay: Duration) -> Result<(), String> {
    let llm = StandIn::start().await;
    let base = llm.base_url();
    let srv = Server::start("relay", move |s| {
        s.public_url = Some(PUBLIC_URL.into());
        s.twilio.auth_token = Some(TWILIO_TOKEN.into());
        s.master_key = Some(MASTER_KEY.into());
        s.models.base_url = Some(base);
        s.models.model = Some("stand-in".into());
        s.models.api_key = Some("sk-bench".into());
        s.models.first_token_timeout = Duration::from_secs(10);
        s.models.overall_timeout = Duration::from_secs(20);
    })
    .await?;
    let (rules_no, llm_no) = ("+15550400001", "+15550400002");
    srv.agent_on(
        "rules",
        json!({"number": rules_no, "provider": "twilio", "voice_mode": "relay"}),
    )
    .await?;
    srv.agent_on(
        "llm",
        json!({"number": llm_no, "provider": "twilio", "voice_mode": "relay"}),
    )
    .await?;

    // Warm-up, untimed; and a check that the model's words reach the caller.
    relay_call(&srv, rules_no, 0, None).await?;
    let (_, words) = relay_call(&srv, llm_no, 1, Some((&llm, delay))).await?;
    if !words.starts_with("Sure thing.") {
        return Err(format!(
            "the llm relay agent did not speak the model's words but {words:?}: is the model reachable?"
        ));
    }
    let fallbacks_before = srv.fallbacks().await?;

    let calls = turns.div_ceil(LINES.len()).max(1);
    let (mut rules, mut model) = (Vec::new(), Vec::new());
    for c in 0..calls {
        rules.extend(relay_call(&srv, rules_no, 2 + 2 * c, None).await?.0);
        model.extend(relay_call(&srv, llm_no, 3 + 2 * c, Some((&llm, delay))).await?.0);
    }
    let fallbacks = srv.fallbacks().await? - fallbacks_before;
    let asked = llm.requests().len();

    let delay_ms = delay.as_secs_f64() * 1e3;
    println!();
    println!(
        "2. ConversationRelay: prompt sent -> first `text` message received, {calls} calls x {} prompts per brain, interleaved",
        LINES.len()
    );
    println!("   the stand-in model sends its first text {delay_ms:.0} ms after the request");
    println!();
    println!(
        "{:<28} {:>6} {:>9} {:>9} {:>9} {:>16}",
        "brain", "turns", "p50 ms", "p99 ms", "max ms", "p50 − delay ms"
    );
    let (r50, r99) = p50_p99(&mut rules);
    println!(
        "{:<28} {:>6} {:>9.3} {:>9.3} {:>9.3} {:>16}",
        "rules (baseline)",
        rules.len(),
        r50,
        r99,
        rules.last().copied().unwrap_or(f64::NAN),
        "-"
    );
    let (m50, m99) = p50_p99(&mut model);
    println!(
        "{:<28} {:>6} {:>9.3} {:>9.3} {:>9.3} {:>16.3}",
        "llm (stand-in)",
        model.len(),
        m50,
        m99,
        model.last().copied().unwrap_or(f64::NAN),
        m50 - delay_ms
    );
    println!();
    println!(
        "   llm p50 − delay − rules p50: {:+.3} ms; completions the stand-in served: {asked} (expected {}: a turn each and the summaries); rules fallbacks: {fallbacks}",
        m50 - delay_ms - r50,
        (calls + 1) * (LINES.len() + 1)
    );
    if fallbacks > 0.0 {
        println!("   WARNING: {fallbacks} turns fell back to the rules: the llm figures mix paths");
    }
    Ok(())
}

fn arg(args: &[String], i: usize, default: u64, what: &str) -> Result<u64, String> {
    match args.get(i) {
        None => Ok(default),
        Some(a) => a
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{what} must be a positive whole number, not {a:?}")),
    }
}

async fn run(args: &[String]) -> Result<(), String> {
    let turns = arg(args, 0, 200, "TURNS")?;
    let relay_turns = arg(args, 1, 30, "RELAY_TURNS")?;
    let delay = arg(args, 2, 200, "DELAY_MS")?;
    let turns = usize::try_from(turns).map_err(|_| "TURNS is too large")?;
    let relay_turns = usize::try_from(relay_turns).map_err(|_| "RELAY_TURNS is too large")?;
    frontdesk_delivery::install_crypto();
    println!(
        "llm-bench: {} cores, {}",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
    );
    turn_overhead(turns).await?;
    relay_first_token(relay_turns, Duration::from_millis(delay)).await
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("llm-bench [TURNS] [RELAY_TURNS] [DELAY_MS]   (defaults 200, 30, 200)");
        return ExitCode::SUCCESS;
    }
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("llm-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
