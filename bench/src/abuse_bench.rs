//! `abuse-bench`: what a stranger's traffic costs everyone else, against a running server
//! (started by `bench/abuse.sh`).
//!
//! ```text
//! abuse-bench --url http://127.0.0.1:8080 --key fd_live_... --public-url https://fd.example.com \
//!             --token AUTH_TOKEN [--seconds 10] [--flooders 4] [--metrics-requests 10000]
//! ```
//!
//! 1. **Quiet**: for `--seconds`, one client sends `GET /healthz` back to back and
//!    another carries Twilio calls (signed `/voice`, five signed `/gather` turns, a
//!    signed status callback); the latency of each health check and each gather turn
//!    is recorded.
//! 2. **Control**: the same, while `--flooders` clients send unsigned ordinary
//!    three-parameter forms to `POST /telephony/twilio/voice` back to back (403): what
//!    any flood of refused requests costs.
//! 3. **Flood**: the same, while `--flooders` clients send unsigned
//!    `POST /telephony/twilio/voice` requests of 40,000 form parameters back to back,
//!    alternately 40,000 real pairs (about 360 KB, over the byte limit) and 40,000 empty
//!    pairs in 40 KB (under it: refused by count). Each is answered (413), or its
//!    connection is closed before the client finished sending; both count as refused.
//!    Flood clients write raw requests on new connections, so the sender's own work is
//!    small.
//! 4. **Heavy tenant** (with `--heavy-key`, a key of another workspace): the same
//!    probes while `--heavy-clients` clients of that workspace call its agent at every
//!    limit (`frontdesk_bench::limits_agent`) through the simulator, every line a miss.
//! 5. **Metrics**: the size of `/metrics` before and after `--metrics-requests` requests
//!    with random methods and random paths.
//!
//! Reported: p50 / p99 of health checks and gather turns in each phase, and the ratios
//! of the flood's p99 to the quiet and control ones; the floods' rates; the `/metrics`
//! sizes.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a benchmark tool"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use frontdesk_bench::{form_component, pct};
use frontdesk_twilio::signature::{Algorithm, compute};
use serde_json::{Value, json};

const NUMBER: &str = "+15550300001";
const ACCOUNT: &str = "AC00000000000000000000000000000000";
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
    seconds: f64,
    flooders: usize,
    metrics_requests: usize,
    /// A key of another workspace, whose agent is at every limit.
    heavy_key: Option<String>,
    heavy_clients: usize,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8080".into(),
        key: std::env::var("FRONTDESK_API_KEY").unwrap_or_default(),
        public_url: "https://fd.example.com".into(),
        token: String::new(),
        seconds: 10.0,
        flooders: 4,
        metrics_requests: 10_000,
        heavy_key: None,
        heavy_clients: 4,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--url" => a.url = v,
            "--key" => a.key = v,
            "--public-url" => a.public_url = v,
            "--token" => a.token = v,
            "--seconds" => a.seconds = v.parse().expect("--seconds S"),
            "--flooders" => a.flooders = v.parse().expect("--flooders N"),
            "--metrics-requests" => a.metrics_requests = v.parse().expect("--metrics-requests N"),
            "--heavy-key" => a.heavy_key = Some(v),
            "--heavy-clients" => a.heavy_clients = v.parse().expect("--heavy-clients N"),
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(!a.key.is_empty() && !a.token.is_empty(), "give --key and --token");
    a
}

/// A signed Twilio form POST; returns the client's round trip in ms.
async fn signed(http: &reqwest::Client, a: &Args, path: &str, params: &[(&str, &str)]) -> f64 {
    let owned: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let sig = compute(&a.token, &format!("{}{path}", a.public_url), &owned, Algorithm::Sha1);
    let body: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", form_component(k), form_component(v)))
        .collect();
    let started = Instant::now();
    let res = http
        .post(format!("{}{path}", a.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", sig)
        .body(body.join("&"))
        .send()
        .await
        .expect("send");
    let status = res.status();
    let text = res.text().await.expect("body");
    assert!(status.is_success(), "{path}: {status} {text}");
    started.elapsed().as_secs_f64() * 1000.0
}

/// Whole Twilio calls until `stop`; the gather turns' round trips.
async fn gather_calls(a: Arc<Args>, stop: Arc<AtomicBool>, base: usize) -> Vec<f64> {
    let http = reqwest::Client::new();
    let mut out = Vec::new();
    let mut n = base;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let sid = format!("CA{n:032x}");
        let from = format!("+1555{:07}", n % 10_000_000);
        let common = [
            ("CallSid", sid.as_str()),
            ("AccountSid", ACCOUNT),
            ("From", from.as_str()),
            ("To", NUMBER),
            ("Direction", "inbound"),
        ];
        let mut p = common.to_vec();
        p.push(("CallStatus", "ringing"));
        signed(&http, &a, "/telephony/twilio/voice", &p).await;
        for line in SCRIPT {
            let mut p = common.to_vec();
            p.extend([
                ("CallStatus", "in-progress"),
                ("SpeechResult", line),
                ("Confidence", "0.9"),
            ]);
            out.push(signed(&http, &a, "/telephony/twilio/gather", &p).await);
        }
        let mut p = common.to_vec();
        p.extend([("CallStatus", "completed"), ("CallDuration", "30")]);
        signed(&http, &a, "/telephony/twilio/status", &p).await;
    }
    out
}

/// `GET /healthz` back to back until `stop`; the round trips.
async fn health_checks(url: String, stop: Arc<AtomicBool>) -> Vec<f64> {
    let http = reqwest::Client::new();
    let mut out = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let res = http.get(format!("{url}/healthz")).send().await.expect("healthz");
        assert!(res.status().is_success());
        let _ = res.bytes().await;
        out.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    out
}

/// Unsigned 40,000-parameter forms back to back until `stop`, each on a new connection
/// (the server closes a refused one), written raw so the flood costs its sender little;
/// counts them.
async fn flood(url: String, stop: Arc<AtomicBool>, requests: Arc<[Vec<u8>; 2]>, sent: Arc<AtomicU64>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = url.trim_start_matches("http://").to_owned();
    let mut i = 0usize;
    let mut buf = vec![0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let Ok(mut s) = tokio::net::TcpStream::connect(&host).await else {
            continue;
        };
        // The server may answer and close before the body is all written.
        let _ = s.write_all(&requests[i % 2]).await;
        let n = s.read(&mut buf).await.unwrap_or(0);
        if n > 0 {
            let head = String::from_utf8_lossy(&buf[..n.min(12)]);
            assert!(head.starts_with("HTTP/1.1 4"), "a flood request got {head}");
        }
        sent.fetch_add(1, Ordering::Relaxed);
    }
}

/// The two flood requests: 40,000 real pairs (over the byte limit), 40,000 empty pairs
/// in 40 KB (under it); or, for the control, an ordinary three-parameter form.
fn flood_requests(huge: bool) -> [Vec<u8>; 2] {
    let request = |body: String| {
        let mut r = format!(
            "POST /telephony/twilio/voice HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             X-Twilio-Signature: bm90IGEgc2lnbmF0dXJl\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body.as_bytes());
        r
    };
    if !huge {
        let small = "CallSid=CA1&AccountSid=AC1&To=%2B15550300001".to_owned();
        return [request(small.clone()), request(small)];
    }
    [
        request((0..40_000).map(|i| format!("p{i}=v&")).collect()),
        request("&".repeat(40_000)),
    ]
}

const HEAVY_NUMBER: &str = "+15550300002";

/// Simulated calls to the agent at every limit until `stop`, every line a miss; the
/// turns' round trips.
async fn heavy_calls(url: String, key: String, stop: Arc<AtomicBool>, n: usize) -> Vec<f64> {
    let http = reqwest::Client::new();
    let mut out = Vec::new();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let from = format!("+1557{:03}{:04}", n, i % 10_000);
        let call: Value = http
            .post(format!("{url}/v1/sim/calls"))
            .bearer_auth(&key)
            .json(&json!({"from": from, "to": HEAVY_NUMBER}))
            .send()
            .await
            .expect("sim call")
            .json()
            .await
            .expect("json");
        let id = call["call_id"].as_str().expect("call id").to_owned();
        for line in frontdesk_bench::MISSES {
            let started = Instant::now();
            let res = http
                .post(format!("{url}/v1/sim/calls/{id}/turns"))
                .bearer_auth(&key)
                .json(&json!({"text": line}))
                .send()
                .await
                .expect("turn");
            assert!(res.status().is_success(), "{}", res.status());
            let _ = res.bytes().await;
            out.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        let _ = http
            .post(format!("{url}/v1/sim/calls/{id}/hangup"))
            .bearer_auth(&key)
            .send()
            .await;
    }
    out
}

struct Phase {
    health: Vec<f64>,
    gather: Vec<f64>,
    flood: u64,
    heavy: Vec<f64>,
    seconds: f64,
}

/// What runs beside the probes in a phase.
#[derive(Clone, Copy)]
enum Load {
    Quiet,
    /// Flooders sending 40,000-parameter forms (`true`) or ordinary ones.
    Flood(bool),
    /// The other tenant's calls to its agent at every limit.
    Heavy,
}

async fn phase(a: &Arc<Args>, load: Load, base: usize) -> Phase {
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let mut floods = Vec::new();
    if let Load::Flood(huge) = load {
        let requests = Arc::new(flood_requests(huge));
        for _ in 0..a.flooders {
            floods.push(tokio::spawn(flood(
                a.url.clone(),
                stop.clone(),
                requests.clone(),
                sent.clone(),
            )));
        }
    }
    let mut heavy = Vec::new();
    if let (Load::Heavy, Some(key)) = (load, &a.heavy_key) {
        for n in 0..a.heavy_clients {
            heavy.push(tokio::spawn(heavy_calls(a.url.clone(), key.clone(), stop.clone(), n)));
        }
    }
    let health = tokio::spawn(health_checks(a.url.clone(), stop.clone()));
    let gather = tokio::spawn(gather_calls(a.clone(), stop.clone(), base));
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(a.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let seconds = started.elapsed().as_secs_f64();
    for f in floods {
        f.await.expect("flooder");
    }
    let mut turns = Vec::new();
    for h in heavy {
        turns.extend(h.await.expect("heavy tenant"));
    }
    Phase {
        health: health.await.expect("health"),
        gather: gather.await.expect("gather"),
        flood: sent.load(Ordering::Relaxed),
        heavy: turns,
        seconds,
    }
}

fn row(name: &str, v: &mut [f64]) -> (f64, f64) {
    let (p50, p99) = (pct(v, 0.5), pct(v, 0.99));
    println!("{name:<40} n={:<7} p50 {p50:>8.3} ms   p99 {p99:>8.3} ms", v.len());
    (p50, p99)
}

async fn metrics_size(http: &reqwest::Client, url: &str) -> (usize, usize) {
    let text = http
        .get(format!("{url}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    (text.len(), text.lines().count())
}

#[tokio::main]
async fn main() {
    let a = Arc::new(args());
    frontdesk_delivery::install_crypto();
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        http.post(format!("{}{path}", a.url))
            .bearer_auth(&a.key)
            .json(&body)
            .send()
    };
    let demo: Value = http
        .get(format!("{}/v1/agents", a.url))
        .bearer_auth(&a.key)
        .send()
        .await
        .expect("agents")
        .json()
        .await
        .expect("json");
    let agent = demo["data"][0]["id"].as_str().expect("the demo agent").to_owned();
    let res = post(
        "/v1/numbers",
        json!({"number": NUMBER, "agent_id": agent, "provider": "twilio"}),
    )
    .await
    .expect("number");
    assert!(res.status().is_success() || res.status() == 409, "{}", res.status());

    // Warm up: a few calls and health checks.
    let warm = Args {
        seconds: 1.0,
        ..Args::clone(&a)
    };
    let _ = phase(&Arc::new(warm), Load::Quiet, 0).await;

    let mut quiet = phase(&a, Load::Quiet, 1_000_000).await;
    let mut small = phase(&a, Load::Flood(false), 2_000_000).await;
    let mut loud = phase(&a, Load::Flood(true), 3_000_000).await;
    println!();
    println!(
        "{:.1} s per phase; control: {} clients sending unsigned 3-parameter forms ({:.0}/s, all refused); \
         flood: {} clients sending unsigned 40,000-parameter forms ({:.0}/s, all refused)",
        quiet.seconds,
        a.flooders,
        small.flood as f64 / small.seconds,
        a.flooders,
        loud.flood as f64 / loud.seconds
    );
    let (_, hq) = row("GET /healthz, quiet", &mut quiet.health);
    let (_, hs) = row("GET /healthz, control flood", &mut small.health);
    let (_, hl) = row("GET /healthz, 40,000-parameter flood", &mut loud.health);
    let (_, gq) = row("signed gather turn, quiet", &mut quiet.gather);
    let (_, gs) = row("signed gather turn, control flood", &mut small.gather);
    let (_, gl) = row("signed gather turn, 40,000-parameter flood", &mut loud.gather);
    println!(
        "p99 ratios: healthz flood/quiet {:.2}x, flood/control {:.2}x; gather flood/quiet {:.2}x, flood/control {:.2}x",
        hl / hq,
        hl / hs,
        gl / gq,
        gl / gs
    );

    if let Some(key) = &a.heavy_key {
        let res = http
            .post(format!("{}/v1/agents", a.url))
            .bearer_auth(key)
            .json(&frontdesk_bench::limits_agent())
            .send()
            .await
            .expect("agent");
        assert_eq!(res.status(), 201, "the agent at every limit is accepted");
        let agent: Value = res.json().await.expect("json");
        let res = http
            .post(format!("{}/v1/numbers", a.url))
            .bearer_auth(key)
            .json(&json!({"number": HEAVY_NUMBER, "agent_id": agent["id"], "provider": "sim"}))
            .send()
            .await
            .expect("number");
        assert!(res.status().is_success(), "{}", res.status());
        let mut heavy = phase(&a, Load::Heavy, 4_000_000).await;
        println!();
        println!(
            "another tenant: {} clients calling its agent at every limit, {} turns ({:.0}/s), every line a miss",
            a.heavy_clients,
            heavy.heavy.len(),
            heavy.heavy.len() as f64 / heavy.seconds
        );
        row("the heavy tenant's turns", &mut heavy.heavy);
        let (_, hh) = row("GET /healthz, beside the heavy tenant", &mut heavy.health);
        let (_, gh) = row("signed gather turn, beside the heavy tenant", &mut heavy.gather);
        println!(
            "p99 beside the heavy tenant / quiet: healthz {:.2}x, gather {:.2}x",
            hh / hq,
            gh / gq
        );
    }

    // Metrics: random methods and paths, in two rounds (a tenth, then the rest).
    let (bytes_before, lines_before) = metrics_size(&http, &a.url).await;
    let first = a.metrics_requests / 10;
    random_requests(&a.url, first, 1).await;
    let (bytes_mid, lines_mid) = metrics_size(&http, &a.url).await;
    random_requests(&a.url, a.metrics_requests - first, 2).await;
    let (bytes_after, lines_after) = metrics_size(&http, &a.url).await;
    println!(
        "/metrics: {bytes_before} bytes ({lines_before} lines) before; {bytes_mid} bytes ({lines_mid} lines) after \
         {first} requests with random methods and paths; {bytes_after} bytes ({lines_after} lines) after {}",
        a.metrics_requests
    );
}

/// `n` requests with random methods (eight random capitals) and random paths, 32 at a
/// time.
async fn random_requests(url: &str, n: usize, seed: u64) {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15 ^ seed;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..32 {
        let take = n / 32 + usize::from(t < n % 32);
        let words: Vec<(String, String)> = (0..take)
            .map(|_| {
                let m: String = (0..8).map(|_| char::from(b'A' + (next() % 26) as u8)).collect();
                (m, format!("/{:x}/{:x}", next(), next()))
            })
            .collect();
        let url = url.to_owned();
        tasks.spawn(async move {
            let http = reqwest::Client::new();
            for (m, p) in words {
                let method = reqwest::Method::from_bytes(m.as_bytes()).expect("method");
                let _ = http.request(method, format!("{url}{p}")).send().await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}
