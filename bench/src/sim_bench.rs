//! `sim-bench`: simulator turns over HTTP against a running server, and the server's
//! memory with many calls live at once.
//!
//! ```text
//! sim-bench --url http://127.0.0.1:8080 --key fd_live_... [--calls 10000] [--concurrency 64] [--pid PID]
//! ```
//!
//! Opens `--calls` simulated calls on the demo number (`POST /v1/sim/calls`) and gives
//! each its first caller turn (`POST /v1/sim/calls/{id}/turns`), `--concurrency` at a
//! time, leaving every call live (in progress). Reports the latency of the turns
//! (p50/p99/max) and their rate, a same-run baseline (`GET /healthz` at the same
//! concurrency) so figures can be compared as ratios, and, with `--pid`, the server's
//! resident memory before and after (Linux `/proc/PID/status`). Then it plays the rest
//! of a conversation on 200 of the calls to time later turns too, and hangs nothing
//! up: the calls stay live, as they would mid-conversation.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Semaphore;

struct Args {
    url: String,
    key: String,
    calls: usize,
    concurrency: usize,
    pid: Option<u32>,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8080".into(),
        key: std::env::var("FRONTDESK_API_KEY").unwrap_or_default(),
        calls: 10_000,
        concurrency: 64,
        pid: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--url" => a.url = v,
            "--key" => a.key = v,
            "--calls" => a.calls = v.parse().expect("--calls N"),
            "--concurrency" => a.concurrency = v.parse().expect("--concurrency N"),
            "--pid" => a.pid = Some(v.parse().expect("--pid PID")),
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(!a.key.is_empty(), "give --key or FRONTDESK_API_KEY");
    a
}

fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn report(name: &str, mut lat: Vec<Duration>, wall: Duration) {
    lat.sort();
    let q = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "{name:<28} n={:<6} rate={:>8.0}/s p50={:>7.2}ms p99={:>7.2}ms max={:>7.2}ms",
        lat.len(),
        lat.len() as f64 / wall.as_secs_f64(),
        q(0.50).as_secs_f64() * 1e3,
        q(0.99).as_secs_f64() * 1e3,
        lat.last().unwrap().as_secs_f64() * 1e3
    );
}

async fn timed(req: reqwest::RequestBuilder) -> (Duration, Value) {
    let t = Instant::now();
    let res = req.send().await.expect("request");
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status}: {body}");
    (t.elapsed(), body)
}

#[tokio::main]
async fn main() {
    frontdesk_delivery::install_crypto();
    let a = args();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(a.concurrency)
        .build()
        .unwrap();
    let sem = Arc::new(Semaphore::new(a.concurrency));

    // Baseline: the cheapest route, same client, same concurrency.
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..a.calls.min(5000) {
        let (c, url, sem) = (client.clone(), a.url.clone(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            let t = Instant::now();
            c.get(format!("{url}/healthz")).send().await.unwrap();
            t.elapsed()
        }));
    }
    let mut base = Vec::new();
    for t in tasks {
        base.push(t.await.unwrap());
    }
    report("baseline GET /healthz", base, start.elapsed());

    let before = a.pid.and_then(rss_kib);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..a.calls {
        let (c, url, key, sem) = (client.clone(), a.url.clone(), a.key.clone(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            let from = format!("+1555{:07}", 2_000_000 + i);
            let (open, r) = timed(
                c.post(format!("{url}/v1/sim/calls"))
                    .bearer_auth(&key)
                    .json(&json!({"from": from, "to": "+15550100000"})),
            )
            .await;
            let id = r["call_id"].as_str().unwrap().to_owned();
            let (turn, _) = timed(
                c.post(format!("{url}/v1/sim/calls/{id}/turns"))
                    .bearer_auth(&key)
                    .json(&json!({"text": "Hi, I'd like to book an appointment, my name is Dana Reyes."})),
            )
            .await;
            (open, turn, id)
        }));
    }
    let (mut opens, mut turns, mut ids) = (Vec::new(), Vec::new(), Vec::new());
    for t in tasks {
        let (o, tu, id) = t.await.unwrap();
        opens.push(o);
        turns.push(tu);
        ids.push(id);
    }
    let wall = start.elapsed();
    report("POST /v1/sim/calls", opens, wall);
    report("first turn (live calls)", turns, wall);
    if let (Some(pid), Some(b)) = (a.pid, before) {
        let after = rss_kib(pid).unwrap_or(0);
        println!(
            "server RSS: {:.1} MiB before, {:.1} MiB with {} calls live (+{:.1} MiB, {:.2} KiB per call)",
            b as f64 / 1024.0,
            after as f64 / 1024.0,
            a.calls,
            (after.saturating_sub(b)) as f64 / 1024.0,
            after.saturating_sub(b) as f64 / a.calls as f64
        );
    }

    // Later turns: a whole conversation on a sample of the live calls.
    let lines = ["555 867 5309", "dana at example dot com", "No, that's all, thanks."];
    let start = Instant::now();
    let mut tasks = Vec::new();
    for id in ids.into_iter().take(200) {
        let (c, url, key, sem) = (client.clone(), a.url.clone(), a.key.clone(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            let mut out = Vec::new();
            for l in lines {
                let (d, r) = timed(
                    c.post(format!("{url}/v1/sim/calls/{id}/turns"))
                        .bearer_auth(&key)
                        .json(&json!({"text": l})),
                )
                .await;
                out.push(d);
                if r["ended"] == true {
                    break;
                }
            }
            out
        }));
    }
    let mut later = Vec::new();
    for t in tasks {
        later.extend(t.await.unwrap());
    }
    report("later turns (200 calls)", later, start.elapsed());
}
