//! Durability of webhook delivery, with the real binary: kill -9 in the middle of a
//! burst of 10,000 events, restart, and every event arrives at least once.

#![allow(clippy::unwrap_used, reason = "test code fails loudly by design")]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};

const EVENTS: usize = 10_000;

type Seen = Arc<Mutex<HashMap<String, u32>>>;

async fn receive(State(seen): State<Seen>, headers: HeaderMap) -> &'static str {
    // Counted on arrival: a request the endpoint received is a delivery, even if the
    // sender died before it could record the answer (that is what duplicates are).
    if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
        *seen.lock().unwrap().entry(id.to_owned()).or_default() += 1;
    }
    // A little slow, like a real endpoint, so the burst is still in flight at the kill.
    tokio::time::sleep(Duration::from_millis(2)).await;
    "ok"
}

struct Server {
    child: Child,
    addr: String,
    key: Option<String>,
}

#[allow(
    clippy::zombie_processes,
    reason = "every server is killed or terminated and waited on below"
)]
fn start(dir: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("FRONTDESK_DATABASE_URL", format!("sqlite://{}/fd.db", dir.display()))
        .env("FRONTDESK_LISTEN", "127.0.0.1:0")
        .env("FRONTDESK_LOG", "warn")
        .env("FRONTDESK_ALLOW_PRIVATE_TARGETS", "true")
        .env("FRONTDESK_RETRY_SCHEDULE", "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s")
        .env("FRONTDESK_DELIVERY_TIMEOUT", "2s")
        .env("FRONTDESK_DELIVERY_CONCURRENCY", "16")
        .env("FRONTDESK_RATE_LIMIT_PER_HOUR", "0")
        .env("FRONTDESK_RATE_LIMIT_PER_SECOND", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut key = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "server did not start");
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "server exited early");
        if let Some(k) = line.split_whitespace().find(|w| w.starts_with("fd_live_")) {
            key.get_or_insert_with(|| k.trim_matches('\'').to_owned());
        }
        if let Some(addr) = line.trim().strip_prefix("Frontdesk listening on ") {
            return Server {
                child,
                addr: addr.to_owned(),
                key,
            };
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failed test must not leave a server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unique(seen: &Seen) -> usize {
    seen.lock().unwrap().len()
}

async fn wait_until(what: &str, within: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_burst_loses_no_event() {
    let dir = tempfile::tempdir().unwrap();
    let seen: Seen = Arc::default();
    let app = axum::Router::new().fallback(receive).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rx = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let first = tokio::task::spawn_blocking({
        let d = dir.path().to_owned();
        move || start(&d)
    })
    .await
    .unwrap();
    let key = first.key.clone().expect("bootstrap key");
    frontdesk_delivery::install_crypto();
    let http = reqwest::Client::new();
    let res = http
        .post(format!("{}/v1/webhooks", first.addr))
        .bearer_auth(&key)
        .json(&json!({"url": format!("http://{rx}/hook")}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let mut ids = Vec::with_capacity(EVENTS);
    for _ in 0..EVENTS / 1000 {
        let events: Vec<Value> = (0..1000)
            .map(|i| json!({"event": "data.collected", "data": {"field": "n", "value": i}}))
            .collect();
        let res = http
            .post(format!("{}/v1/sim/events", first.addr))
            .bearer_auth(&key)
            .json(&json!({"events": events}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202);
        let v: Value = res.json().await.unwrap();
        ids.extend(
            v["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(ids.len(), EVENTS, "every event was accepted before the kill");

    let t0 = Instant::now();
    eprintln!("accepted {EVENTS} events");
    wait_until("the first deliveries", Duration::from_secs(60), || {
        unique(&seen) >= 1500
    })
    .await;
    let mut first = first;
    assert!(
        Command::new("kill")
            .args(["-KILL", &first.child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    first.child.wait().unwrap();
    let at_kill = unique(&seen);
    eprintln!("killed at {:?}", t0.elapsed());

    let second = tokio::task::spawn_blocking({
        let d = dir.path().to_owned();
        move || start(&d)
    })
    .await
    .unwrap();
    wait_until("every event after the restart", Duration::from_secs(180), || {
        unique(&seen) >= EVENTS
    })
    .await;
    eprintln!("all unique at {:?}", t0.elapsed());
    // Then until nothing is pending (deliveries leased at the kill are re-sent once
    // their lease ends: those are the duplicates), so the count below is final.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let v: Value = http
            .get(format!("{}/v1/deliveries?status=pending&limit=1", second.addr))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if v["data"].as_array().unwrap().is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "deliveries still pending after the restart");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    eprintln!("drained at {:?}", t0.elapsed());
    let counts = seen.lock().unwrap().clone();
    for id in &ids {
        assert!(counts.contains_key(id), "event {id} was never delivered");
    }
    let total: u32 = counts.values().sum();
    let duplicates = total as usize - counts.len();
    println!(
        "kill -9 after {at_kill} of {EVENTS} events delivered; after restart all {EVENTS} delivered, {duplicates} duplicate deliveries"
    );
    let mut second = second;
    assert!(
        Command::new("kill")
            .args(["-TERM", &second.child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert!(
        second.child.wait().unwrap().success(),
        "graceful shutdown after the restart"
    );
}
