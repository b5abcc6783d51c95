//! Webhook delivery benchmark, against a running server (see `bench/webhooks.sh`).
//!
//! Runs, in one process and one session, on loopback:
//! 1. the ceiling: raw HTTP POSTs from a client straight to the receiver;
//! 2. a burst: events emitted as fast as the API takes them (batches of 1000); reports
//!    durable deliveries per second from the first emit to the last arrival;
//! 3. a steady rate: one event per request at `--rate` per second; reports the latency
//!    from the event being accepted (the API's 202) to its first delivery attempt
//!    arriving at the receiver, p50/p99/max.

#![allow(
    clippy::print_stdout,
    clippy::cast_precision_loss,
    clippy::unwrap_used,
    reason = "a benchmark tool"
)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use serde_json::{Value, json};

#[derive(Default)]
struct Seen {
    total: AtomicU64,
    first: Mutex<HashMap<String, Instant>>,
}

async fn receive(State(seen): State<Arc<Seen>>, uri: Uri, headers: HeaderMap) -> &'static str {
    let now = Instant::now();
    seen.total.fetch_add(1, Ordering::Relaxed);
    if uri.path() != "/raw"
        && let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok())
    {
        seen.first.lock().unwrap().entry(id.to_owned()).or_insert(now);
    }
    "ok"
}

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn wait_total(seen: &Seen, n: u64, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while seen.total.load(Ordering::Relaxed) < n {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    true
}

#[tokio::main]
async fn main() {
    // One server, or several nodes of one database (comma-separated): events are spread
    // over them, webhooks created on the first.
    let servers: Vec<String> = arg("--server", "http://127.0.0.1:8080")
        .split(',')
        .map(str::to_owned)
        .collect();
    let server = servers[0].clone();
    let key = arg("--key", "");
    let webhooks: usize = arg("--webhooks", "1").parse().unwrap();
    let burst: usize = arg("--burst", "20000").parse().unwrap();
    let rate: u64 = arg("--rate", "1000").parse().unwrap();
    let seconds: u64 = arg("--seconds", "10").parse().unwrap();
    let raw: u64 = arg("--raw", "20000").parse().unwrap();
    let concurrency: usize = arg("--concurrency", "256").parse().unwrap();

    let seen = Arc::new(Seen::default());
    let app = axum::Router::new().fallback(receive).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rx = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    frontdesk_delivery::install_crypto();
    let http = reqwest::Client::builder().pool_max_idle_per_host(1024).build().unwrap();

    // 1. Ceiling: raw POSTs, same body size as an event, same concurrency as the dispatcher.
    let body = json!({"id": "evt_x", "event": "data.collected", "timestamp": "2026-01-01T00:00:00Z",
                      "data": {"call_id": "call_x", "field": "n", "value": 1}})
    .to_string();
    let start = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, next, body) = (http.clone(), next.clone(), body.clone());
        let url = format!("http://{rx}/raw");
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < raw {
                http.post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let raw_rate = raw as f64 / start.elapsed().as_secs_f64();
    println!("ceiling: raw loopback POSTs        {raw_rate:>9.0} /s  ({raw} requests, {concurrency} concurrent)");
    seen.total.store(0, Ordering::Relaxed);

    // Webhooks pointing at the receiver.
    for i in 0..webhooks {
        let res = http
            .post(format!("{server}/v1/webhooks"))
            .bearer_auth(&key)
            .json(&json!({"name": format!("bench-{i}"), "url": format!("http://{rx}/hook/{i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "create webhook: {}", res.text().await.unwrap());
    }

    // 2. Burst: batches of 1000, each node taking its share, the nodes side by side.
    let start = Instant::now();
    let batches: Vec<usize> = (0..burst.div_ceil(1000))
        .map(|b| (burst - b * 1000).min(1000))
        .collect();
    let mut posting = Vec::new();
    for (node, url) in servers.iter().enumerate() {
        let mine: Vec<usize> = batches.iter().skip(node).step_by(servers.len()).copied().collect();
        let (http, key, url) = (http.clone(), key.clone(), url.clone());
        posting.push(tokio::spawn(async move {
            for n in mine {
                let events: Vec<Value> = (0..n)
                    .map(|i| json!({"event": "data.collected", "data": {"field": "n", "value": i}}))
                    .collect();
                let res = http
                    .post(format!("{url}/v1/sim/events"))
                    .bearer_auth(&key)
                    .json(&json!({"events": events}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 202);
            }
        }));
    }
    for p in posting {
        p.await.unwrap();
    }
    let ingest = start.elapsed();
    let want = (burst * webhooks) as u64;
    let done = wait_total(&seen, want, Duration::from_secs(600)).await;
    let took = start.elapsed();
    let got = seen.total.load(Ordering::Relaxed);
    println!(
        "burst: {burst} events x {webhooks} webhooks = {want} deliveries; accepted in {:.2} s ({:.0} events/s); delivered {got} in {:.2} s",
        ingest.as_secs_f64(),
        burst as f64 / ingest.as_secs_f64(),
        took.as_secs_f64()
    );
    println!(
        "burst: sustained                    {:>9.0} deliveries/s ({:.2} of the ceiling){}",
        got as f64 / took.as_secs_f64(),
        got as f64 / took.as_secs_f64() / raw_rate,
        if done { "" } else { "  (INCOMPLETE)" }
    );

    // 3. Steady rate: one event per request, paced.
    seen.first.lock().unwrap().clear();
    // (event id, request sent, 202 received)
    let acked: Arc<Mutex<Vec<(String, Instant, Instant)>>> = Arc::default();
    let period = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let total = rate * seconds;
    let mut handles = Vec::with_capacity(total as usize);
    let start = Instant::now();
    for i in 0..total {
        tick.tick().await;
        let server = servers[usize::try_from(i).unwrap_or(0) % servers.len()].clone();
        let (http, acked, key) = (http.clone(), acked.clone(), key.clone());
        handles.push(tokio::spawn(async move {
            let body = json!({"events": [{"event": "data.collected", "data": {"field": "n", "value": i}}]});
            let sent = Instant::now();
            let res = http
                .post(format!("{server}/v1/sim/events"))
                .bearer_auth(&key)
                .json(&body)
                .send()
                .await
                .unwrap();
            let at = Instant::now();
            let v: Value = res.json().await.unwrap();
            acked
                .lock()
                .unwrap()
                .push((v["events"][0].as_str().unwrap().to_owned(), sent, at));
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let offered = total as f64 / start.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.first.lock().unwrap().len() < total as usize && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let first = seen.first.lock().unwrap();
    let acked = acked.lock().unwrap();
    let latencies = |from: fn(&(String, Instant, Instant)) -> Instant| {
        let mut v: Vec<Duration> = acked
            .iter()
            .filter_map(|a| {
                first
                    .get(&a.0)
                    .map(|arrived| arrived.saturating_duration_since(from(a)))
            })
            .collect();
        v.sort();
        v
    };
    let lat = latencies(|a| a.2);
    let from_sent = latencies(|a| a.1);
    println!(
        "steady: {total} events at {offered:.0}/s offered; {} first attempts arrived",
        lat.len()
    );
    let report = |name: &str, v: &[Duration]| {
        println!(
            "steady: {name} p50 {:.2} ms   p99 {:.2} ms   max {:.2} ms",
            pct(v, 0.50).as_secs_f64() * 1e3,
            pct(v, 0.99).as_secs_f64() * 1e3,
            v.last().copied().unwrap_or_default().as_secs_f64() * 1e3
        );
    };
    report("accepted (202 received) -> first attempt ", &lat);
    report("request sent -> first attempt (API incl.)", &from_sent);
}
