//! `twilio-bench`: the latency of Twilio calls with the rules brain, against a running
//! server (started by `bench/twilio.sh`).
//!
//! ```text
//! twilio-bench --url http://127.0.0.1:8080 --key fd_live_... --public-url https://fd.example.com \
//!              --token AUTH_TOKEN [--calls 300] [--concurrency 1] [--relay-calls 100]
//! ```
//!
//! Gather mode: `--calls` whole calls on a Twilio number, each rung (`/voice`), five
//! caller utterances (`/gather` with `SpeechResult`), then finished by a status
//! callback; every request signed as Twilio signs it. For each gather webhook it
//! records the time the server spent (its `Server-Timing: app;dur=` header: utterance
//! in, TwiML out) and the round trip seen by the client on loopback.
//!
//! ConversationRelay: `--relay-calls` calls on a relay number, each connected over the
//! WebSocket (signed handshake) and driven through the same five utterances as
//! `prompt` messages; records the time from a prompt sent to its first `text` token
//! (or the `end` message) received.
//!
//! Baseline, same run and concurrency: `GET /healthz` round trips, so figures can be
//! read as ratios on a noisy machine.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use frontdesk_bench::{form_component, pct};
use frontdesk_twilio::signature::{Algorithm, compute};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{Mutex, Semaphore};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const GATHER_NUMBER: &str = "+15550200001";
const RELAY_NUMBER: &str = "+15550200002";
const ACCOUNT: &str = "AC00000000000000000000000000000000";

/// A caller of the demo agent: why, name, phone, email, done.
const SCRIPT: [&str; 5] = [
    "Hi, I'd like to book an appointment for next week.",
    "It's John Smith.",
    "five five five, one two three, four five six seven",
    "john dot smith at gmail dot com",
    "No, that's all, thanks.",
];

#[derive(Clone)]
struct Args {
    url: String,
    key: String,
    public_url: String,
    token: String,
    calls: usize,
    concurrency: usize,
    relay_calls: usize,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8080".into(),
        key: std::env::var("FRONTDESK_API_KEY").unwrap_or_default(),
        public_url: "https://fd.example.com".into(),
        token: String::new(),
        calls: 300,
        concurrency: 1,
        relay_calls: 100,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--url" => a.url = v,
            "--key" => a.key = v,
            "--public-url" => a.public_url = v,
            "--token" => a.token = v,
            "--calls" => a.calls = v.parse().expect("--calls N"),
            "--concurrency" => a.concurrency = v.parse().expect("--concurrency N"),
            "--relay-calls" => a.relay_calls = v.parse().expect("--relay-calls N"),
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(!a.key.is_empty(), "give --key or FRONTDESK_API_KEY");
    assert!(
        !a.token.is_empty(),
        "give --token (the server's FRONTDESK_TWILIO_AUTH_TOKEN)"
    );
    a
}

fn report(name: &str, v: &mut [f64]) {
    let n = v.len();
    let (p50, p99) = (pct(v, 0.50), pct(v, 0.99));
    let max = v.last().copied().unwrap_or(0.0);
    println!("{name:<46} n={n:<6} p50 {p50:>8.3} ms   p99 {p99:>8.3} ms   max {max:>8.3} ms");
}

struct Twilio {
    http: reqwest::Client,
    url: String,
    public_url: String,
    token: String,
}

impl Twilio {
    /// POSTs a signed Twilio form; returns (body, client ms, server ms).
    async fn post(&self, path: &str, params: &[(&str, &str)]) -> (String, f64, f64) {
        let owned: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let sig = compute(
            &self.token,
            &format!("{}{path}", self.public_url),
            &owned,
            Algorithm::Sha1,
        );
        let mut body = String::new();
        for (k, v) in params {
            if !body.is_empty() {
                body.push('&');
            }
            body.push_str(&form_component(k));
            body.push('=');
            body.push_str(&form_component(v));
        }
        let started = Instant::now();
        let res = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", sig)
            .body(body)
            .send()
            .await
            .expect("send");
        let status = res.status();
        let server = res
            .headers()
            .get("server-timing")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split("dur=").nth(1))
            .and_then(|d| d.parse::<f64>().ok())
            .unwrap_or(f64::NAN);
        let text = res.text().await.expect("body");
        let client = started.elapsed().as_secs_f64() * 1000.0;
        assert!(status.is_success(), "{path}: {status} {text}");
        (text, client, server)
    }
}

async fn api(http: &reqwest::Client, a: &Args, path: &str, body: Value) -> Value {
    let res = http
        .post(format!("{}{path}", a.url))
        .bearer_auth(&a.key)
        .json(&body)
        .send()
        .await
        .expect("send");
    let status = res.status();
    let v: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success() || status.as_u16() == 409, "{path}: {status} {v}");
    v
}

#[derive(Default)]
struct Samples {
    gather_server: Vec<f64>,
    gather_client: Vec<f64>,
    voice_server: Vec<f64>,
    status_server: Vec<f64>,
}

async fn gather_call(tw: &Twilio, n: usize, samples: &Mutex<Samples>) {
    let sid = format!("CA{n:032x}");
    let from = format!("+1555{:07}", n % 10_000_000);
    let base = [
        ("CallSid", sid.as_str()),
        ("AccountSid", ACCOUNT),
        ("From", from.as_str()),
        ("To", GATHER_NUMBER),
        ("Direction", "inbound"),
        ("ApiVersion", "2010-04-01"),
    ];
    let mut voice = base.to_vec();
    voice.push(("CallStatus", "ringing"));
    let (xml, _, vs) = tw.post("/telephony/twilio/voice", &voice).await;
    assert!(xml.contains("<Gather"), "{xml}");
    let mut mine = Vec::new();
    for line in SCRIPT {
        let mut p = base.to_vec();
        p.push(("CallStatus", "in-progress"));
        p.push(("SpeechResult", line));
        p.push(("Confidence", "0.92"));
        let (_, c, s) = tw.post("/telephony/twilio/gather", &p).await;
        mine.push((c, s));
    }
    let mut st = base.to_vec();
    st.push(("CallStatus", "completed"));
    st.push(("CallDuration", "37"));
    let (_, _, ss) = tw.post("/telephony/twilio/status", &st).await;
    let mut g = samples.lock().await;
    for (c, s) in mine {
        g.gather_client.push(c);
        g.gather_server.push(s);
    }
    g.voice_server.push(vs);
    g.status_server.push(ss);
}

async fn relay_call(tw: &Twilio, a: &Args, n: usize) -> Vec<f64> {
    let sid = format!("CA{:032x}", n + 1_000_000);
    let from = format!("+1556{:07}", n % 10_000_000);
    let params = [
        ("CallSid", sid.as_str()),
        ("AccountSid", ACCOUNT),
        ("From", from.as_str()),
        ("To", RELAY_NUMBER),
        ("Direction", "inbound"),
        ("CallStatus", "ringing"),
    ];
    let (xml, _, _) = tw.post("/telephony/twilio/voice", &params).await;
    let start = xml.find("call_id=").expect("relay TwiML names the call") + "call_id=".len();
    let call_id: String = xml[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let path = format!("/telephony/twilio/relay?call_id={call_id}");
    let ws_public = a
        .public_url
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    let sig = compute(&tw.token, &format!("{ws_public}{path}"), &[], Algorithm::Sha1);
    let ws_url = format!("{}{path}", a.url.replacen("http://", "ws://", 1));
    let mut req = ws_url.into_client_request().expect("request");
    req.headers_mut()
        .insert("x-twilio-signature", sig.parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(req, None, true)
        .await
        .expect("relay handshake");
    let setup = json!({"type": "setup", "sessionId": "VX1", "callSid": sid, "from": from, "to": RELAY_NUMBER,
        "direction": "inbound", "accountSid": ACCOUNT, "callStatus": "RINGING"});
    ws.send(Message::Text(setup.to_string().into())).await.expect("setup");
    let mut firsts = Vec::new();
    for line in SCRIPT {
        let prompt = json!({"type": "prompt", "voicePrompt": line, "lang": "en-US", "last": true});
        let sent = Instant::now();
        ws.send(Message::Text(prompt.to_string().into())).await.expect("prompt");
        let mut first = None;
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
                .await
                .expect("a reply within 10 s")
                .expect("socket open")
                .expect("frame");
            let Message::Text(t) = msg else { continue };
            if first.is_none() {
                first = Some(sent.elapsed().as_secs_f64() * 1000.0);
            }
            let v: Value = serde_json::from_str(t.as_str()).expect("JSON");
            if v["type"] == "end" || v["last"] == true {
                break;
            }
        }
        firsts.push(first.unwrap_or(f64::NAN));
    }
    let _ = ws.close(None).await;
    let st = [
        ("CallSid", sid.as_str()),
        ("AccountSid", ACCOUNT),
        ("CallStatus", "completed"),
        ("CallDuration", "21"),
    ];
    tw.post("/telephony/twilio/status", &st).await;
    firsts
}

#[tokio::main]
async fn main() {
    let a = args();
    frontdesk_delivery::install_crypto();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("client");
    // Numbers on the demo agent: one in gather mode, one in relay mode.
    let agents = http
        .get(format!("{}/v1/agents", a.url))
        .bearer_auth(&a.key)
        .send()
        .await
        .expect("agents")
        .json::<Value>()
        .await
        .expect("json");
    let agent = agents["data"][0]["id"].as_str().expect("an agent").to_owned();
    for (number, mode) in [(GATHER_NUMBER, "gather"), (RELAY_NUMBER, "relay")] {
        api(
            &http,
            &a,
            "/v1/numbers",
            json!({"number": number, "agent_id": agent, "provider": "twilio", "voice_mode": mode}),
        )
        .await;
    }
    let tw = Arc::new(Twilio {
        http: http.clone(),
        url: a.url.clone(),
        public_url: a.public_url.trim_end_matches('/').to_owned(),
        token: a.token.clone(),
    });

    // Warm up.
    for i in 0..5 {
        gather_call(&tw, 900_000_000 + i, &Mutex::new(Samples::default())).await;
    }

    // Baseline: /healthz at the same concurrency.
    let base = Arc::new(Mutex::new(Vec::new()));
    let sem = Arc::new(Semaphore::new(a.concurrency));
    let mut tasks = Vec::new();
    for _ in 0..(a.calls * SCRIPT.len()) {
        let permit = sem.clone().acquire_owned().await.expect("permit");
        let (http, url, base) = (http.clone(), a.url.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            http.get(format!("{url}/healthz")).send().await.expect("healthz");
            base.lock().await.push(t.elapsed().as_secs_f64() * 1000.0);
            drop(permit);
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }

    // Gather mode.
    let samples = Arc::new(Mutex::new(Samples::default()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..a.calls {
        let permit = sem.clone().acquire_owned().await.expect("permit");
        let (tw, samples) = (tw.clone(), samples.clone());
        tasks.push(tokio::spawn(async move {
            gather_call(&tw, n, &samples).await;
            drop(permit);
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let secs = started.elapsed().as_secs_f64();
    let mut g = samples.lock().await;
    println!(
        "gather mode: {} calls x {} utterances, concurrency {}, {:.0} gather webhooks/s",
        a.calls,
        SCRIPT.len(),
        a.concurrency,
        (a.calls * SCRIPT.len()) as f64 / secs
    );
    report("GET /healthz round trip (baseline)", &mut base.lock().await);
    report("gather: server time (Server-Timing)", &mut g.gather_server);
    report("gather: round trip at the client", &mut g.gather_client);
    report("voice (answer): server time", &mut g.voice_server);
    report("status callback (finish, events): server time", &mut g.status_server);

    // ConversationRelay.
    let mut firsts = Vec::new();
    let mut tasks = Vec::new();
    for n in 0..a.relay_calls {
        let permit = sem.clone().acquire_owned().await.expect("permit");
        let tw = tw.clone();
        let a2 = a.clone();
        tasks.push(tokio::spawn(async move {
            let f = relay_call(&tw, &a2, n).await;
            drop(permit);
            f
        }));
    }
    for t in tasks {
        firsts.extend(t.await.expect("task"));
    }
    println!(
        "relay: {} calls x {} prompts, concurrency {}",
        a.relay_calls,
        SCRIPT.len(),
        a.concurrency
    );
    report("relay: prompt sent -> first token received", &mut firsts);
}
