//! Several nodes on one PostgreSQL database, with the real binary: two nodes share a
//! burst of 20,000 events and one is killed with kill -9 mid-delivery (the other takes
//! over its leased work, and every event arrives); and a node whose database goes away
//! for a few seconds under load loses none of the events it accepted.
//!
//! PostgreSQL only: each test makes a database of its own from
//! `FRONTDESK_TEST_POSTGRES_URL` and is skipped, saying so, without it.

#![allow(clippy::unwrap_used, reason = "test code fails loudly by design")]

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::HeaderMap;
use frontdesk_store::Deliveries;
use frontdesk_store::testing::TestDb;
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;

/// Attempts in flight at once, per node.
const CONCURRENCY: usize = 16;
/// The largest claim of the dispatcher (`BATCH` in crates/delivery/src/dispatcher.rs).
const DISPATCHER_BATCH: usize = 256;
/// The recorder writes attempt results in batches of up to this many
/// (`record_loop` in crates/delivery/src/dispatcher.rs).
const RECORDER_BATCH: usize = 512;

/// Arrivals per `webhook-id`.
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

/// A loopback webhook endpoint; returns its address.
async fn receiver(seen: Seen) -> SocketAddr {
    let app = axum::Router::new().fallback(receive).with_state(seen);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

struct Server {
    child: Child,
    addr: String,
    /// The bootstrap key: printed only by the node that found the database empty.
    key: Option<String>,
}

/// Starts `frontdesk serve` on `database_url` and waits until it listens.
#[allow(
    clippy::zombie_processes,
    reason = "every server is killed or terminated and waited on (Drop at the latest)"
)]
fn start(dir: &Path, database_url: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("FRONTDESK_DATABASE_URL", database_url)
        .env("FRONTDESK_LISTEN", "127.0.0.1:0")
        .env("FRONTDESK_LOG", "warn")
        .env("FRONTDESK_ALLOW_PRIVATE_TARGETS", "true")
        .env("FRONTDESK_RETRY_SCHEDULE", "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s")
        // The lease is 2 × this + 5 s: 9 s until a dead node's work is claimed again.
        .env("FRONTDESK_DELIVERY_TIMEOUT", "2s")
        .env("FRONTDESK_DELIVERY_CONCURRENCY", CONCURRENCY.to_string())
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
            // Keep draining stdout, so a write to it never blocks the server.
            std::thread::spawn(move || {
                let mut sink = String::new();
                while reader.read_line(&mut sink).is_ok_and(|n| n > 0) {
                    sink.clear();
                }
            });
            return Server {
                child,
                addr: addr.to_owned(),
                key,
            };
        }
    }
}

async fn start_async(dir: &Path, database_url: &str) -> Server {
    let (d, u) = (dir.to_owned(), database_url.to_owned());
    tokio::task::spawn_blocking(move || start(&d, &u)).await.unwrap()
}

impl Server {
    fn signal(&self, signal: &str) {
        assert!(
            Command::new("kill")
                .args([signal, &self.child.id().to_string()])
                .status()
                .unwrap()
                .success()
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failed test must not leave a server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates a webhook (every event) to the receiver at `rx`.
async fn create_webhook(http: &reqwest::Client, server: &Server, key: &str, rx: SocketAddr) {
    let res = http
        .post(format!("{}/v1/webhooks", server.addr))
        .bearer_auth(key)
        .json(&json!({"url": format!("http://{rx}/hook")}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
}

/// `n` events for `POST /v1/sim/events`.
fn batch(n: usize) -> Value {
    let events: Vec<Value> = (0..n)
        .map(|i| json!({"event": "data.collected", "data": {"field": "n", "value": i}}))
        .collect();
    json!({ "events": events })
}

/// The event ids of an accepted `POST /v1/sim/events`.
fn event_ids(v: &Value) -> Vec<String> {
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_owned())
        .collect()
}

fn unique(seen: &Seen) -> usize {
    seen.lock().unwrap().len()
}

fn arrivals(seen: &Seen) -> u64 {
    seen.lock().unwrap().values().map(|&n| u64::from(n)).sum()
}

async fn wait_until(what: &str, within: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until no delivery is pending, so that the receiver's counts are final.
async fn wait_drained(http: &reqwest::Client, server: &Server, key: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let v: Value = http
            .get(format!("{}/v1/deliveries?status=pending&limit=1", server.addr))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if v["data"].as_array().unwrap().is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "deliveries still pending");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_lose_nothing_when_one_is_killed() {
    const EVENTS: usize = 20_000;
    let Some(db) = TestDb::create().await else {
        return;
    };
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let seen: Seen = Arc::default();
    let rx = receiver(seen.clone()).await;

    // Only the first node finds the database empty, bootstraps and prints a key.
    let a = start_async(dir.path(), db.url()).await;
    let key = a.key.clone().expect("bootstrap key from the first node");
    let b = start_async(dir.path(), db.url()).await;
    assert!(
        b.key.is_none(),
        "the second node found the database already bootstrapped"
    );
    frontdesk_delivery::install_crypto();
    let http = reqwest::Client::new();
    create_webhook(&http, &a, &key, rx).await;

    // 20 calls of 1000 events, to A and B in turn.
    let mut ids = Vec::with_capacity(EVENTS);
    for (i, node) in [&a, &b].iter().cycle().take(EVENTS / 1000).enumerate() {
        let res = http
            .post(format!("{}/v1/sim/events", node.addr))
            .bearer_auth(&key)
            .json(&batch(1000))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202, "call {i}");
        ids.extend(event_ids(&res.json().await.unwrap()));
    }
    assert_eq!(ids.len(), EVENTS, "every event was accepted before the kill");
    let emitted = t0.elapsed();

    // Mid-delivery: some delivered, most not.
    wait_until("the first deliveries", Duration::from_secs(60), || {
        unique(&seen) >= EVENTS / 4
    })
    .await;
    let mut b = b;
    b.signal("-KILL");
    b.child.wait().unwrap();
    let killed = t0.elapsed();
    let at_kill = unique(&seen);
    assert!(at_kill < EVENTS, "node B was killed before every event was delivered");
    // What the database has not recorded as delivered, although the endpoint has it:
    // the sends of both nodes whose results are not written yet. Counted from the
    // pending deliveries first and the arrivals after, so it can only overcount. B's
    // share of these is what A sends again once B's leases end.
    let pending = db.store().await.queue_stats().await.unwrap().pending;
    let unrecorded = arrivals(&seen) - (EVENTS as u64 - pending);

    wait_until("every event, from node A alone", Duration::from_secs(60), || {
        unique(&seen) >= EVENTS
    })
    .await;
    let all = t0.elapsed();
    wait_drained(&http, &a, &key, Duration::from_secs(30)).await;
    let drained = t0.elapsed();

    let counts = seen.lock().unwrap().clone();
    for id in &ids {
        assert!(counts.contains_key(id), "event {id} was never delivered");
    }
    let total: u32 = counts.values().sum();
    let duplicates = total as usize - counts.len();
    // A duplicate is a delivery that B sent (the endpoint counts it on arrival) whose
    // result B had not written when it died: A sends it again when B's lease ends.
    // Deliveries B had leased but not yet sent are sent once, by A, so B's claim batch
    // adds no duplicates. B's share is at most the attempts it had in flight (its
    // concurrency) plus the results its recorder had not written yet: a permit is freed
    // when the result is handed to the recorder, which writes batches of up to 512
    // while more arrive. That backlog is not a setting (with a 1 ms endpoint this test
    // saw 38 duplicates, more than concurrency + claim batch = 32), so the bound that
    // holds is the one measured at the kill; concurrency + one recorder batch is a
    // ceiling that only a recorder lagging by more than a whole batch would pass.
    let claim = CONCURRENCY.min(DISPATCHER_BATCH);
    println!(
        "two nodes, {EVENTS} events (20 calls of 1000, to A and B in turn) accepted in {emitted:?}; \
         node B killed at {killed:?} with {at_kill} delivered; all {EVENTS} delivered at {all:?}, \
         nothing pending at {drained:?}; {total} deliveries, {duplicates} duplicates; \
         at the kill {unrecorded} sent but unrecorded (both nodes); B's settings: \
         concurrency {CONCURRENCY}, claim batch up to {claim}, so concurrency + claim batch = {}; \
         recorder batch up to {RECORDER_BATCH}",
        CONCURRENCY + claim
    );
    assert!(
        duplicates as u64 <= unrecorded,
        "{duplicates} duplicates, more than the {unrecorded} sends that were unrecorded at the kill"
    );
    assert!(
        duplicates <= CONCURRENCY + RECORDER_BATCH,
        "{duplicates} duplicates, more than B's concurrency plus one recorder batch: the recorder lagged"
    );
    assert!(t0.elapsed() < Duration::from_secs(100), "took {:?}", t0.elapsed());
    let mut a = a;
    a.signal("-TERM");
    assert!(a.child.wait().unwrap().success(), "graceful shutdown of node A");
}

/// A TCP proxy to PostgreSQL that can be cut (every connection closed, new ones refused)
/// and restored on the same port.
struct Proxy {
    port: u16,
    upstream: String,
    accept: Option<JoinHandle<()>>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let mut p = Self {
            port: 0,
            upstream,
            accept: None,
            conns: Arc::default(),
        };
        p.listen().await;
        p
    }

    /// Listens on the proxy's port (any port the first time).
    async fn listen(&mut self) {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(SocketAddr::from(([127, 0, 0, 1], self.port))).unwrap();
        let listener = socket.listen(1024).unwrap();
        self.port = listener.local_addr().unwrap().port();
        let (upstream, conns) = (self.upstream.clone(), self.conns.clone());
        self.accept = Some(tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                let upstream = upstream.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut out) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                let mut conns = conns.lock().unwrap();
                conns.retain(|c| !c.is_finished());
                conns.push(conn);
            }
        }));
    }

    /// Closes every connection and the listener: new connections are refused.
    async fn cut(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
            let _ = accept.await;
        }
        let conns: Vec<_> = std::mem::take(&mut *self.conns.lock().unwrap());
        for c in conns {
            c.abort();
            let _ = c.await;
        }
    }
}

/// `host:port` of a PostgreSQL URL.
fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    }
}

/// `url` with its `host:port` replaced.
fn via(url: &str, replacement: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let authority = match authority.rsplit_once('@') {
        Some((user, _)) => format!("{user}@{replacement}"),
        None => replacement.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// What an emitter saw: the events of accepted calls, and how many calls failed.
#[derive(Default)]
struct Emitted {
    accepted_calls: usize,
    failed_calls: usize,
    ids: Vec<String>,
    /// When calls were answered (after the start) and whether they were accepted.
    answers: Vec<(Duration, bool)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_of_the_database_loses_nothing_accepted() {
    const PER_CALL: usize = 50;
    const EMITTERS: usize = 4;
    let Some(db) = TestDb::create().await else {
        return;
    };
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let seen: Seen = Arc::default();
    let rx = receiver(seen.clone()).await;
    let postgres = host_port(db.url());
    let mut proxy = Proxy::start(postgres.clone()).await;
    let url = via(db.url(), &format!("127.0.0.1:{}", proxy.port));

    let node = Arc::new(start_async(dir.path(), &url).await);
    let key = node.key.clone().expect("bootstrap key");
    frontdesk_delivery::install_crypto();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    create_webhook(&http, &node, &key, rx).await;

    // Load: four emitters, each sending calls of 50 events one after another until
    // told to stop.
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let emitters: Vec<_> = (0..EMITTERS)
        .map(|_| {
            tokio::spawn({
                let (http, node, key, stop) = (http.clone(), node.clone(), key.clone(), stop.clone());
                async move {
                    let mut out = Emitted::default();
                    while !*stop.borrow() {
                        let res = http
                            .post(format!("{}/v1/sim/events", node.addr))
                            .bearer_auth(&key)
                            .json(&batch(PER_CALL))
                            .send()
                            .await;
                        let accepted = match res {
                            Ok(r) if r.status() == 202 => match r.json::<Value>().await {
                                Ok(v) => {
                                    out.ids.extend(event_ids(&v));
                                    true
                                }
                                Err(_) => false,
                            },
                            // A 5xx, or no answer: the events of this call may or may not be
                            // stored; nothing is promised about them.
                            _ => false,
                        };
                        if accepted {
                            out.accepted_calls += 1;
                        } else {
                            out.failed_calls += 1;
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        out.answers.push((t0.elapsed(), accepted));
                    }
                    out
                }
            })
        })
        .collect();
    // Readiness, every 200 ms: (asked at, answered at, status or None for no answer
    // within a second).
    let (ready_stop_tx, ready_stop) = tokio::sync::watch::channel(false);
    let prober = tokio::spawn({
        let node = node.clone();
        async move {
            // The readiness ping gives up after 2 s: a probe waiting 3 s gets an answer.
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(3))
                .build()
                .unwrap();
            // One probe every 200 ms, each on its own: a probe hung on a connection the
            // cut broke must not keep the next ones from being asked during the outage.
            let mut probes = Vec::new();
            while !*ready_stop.borrow() {
                let (http, url) = (http.clone(), format!("{}/readyz", node.addr));
                probes.push(tokio::spawn(async move {
                    let asked = t0.elapsed();
                    let status = http.get(url).send().await.ok().map(|r| r.status().as_u16());
                    (asked, t0.elapsed(), status)
                }));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let mut seen = Vec::new();
            for p in probes {
                seen.push(p.await.unwrap());
            }
            seen
        }
    });

    tokio::time::sleep(Duration::from_secs(3)).await;
    proxy.cut().await;
    let cut = t0.elapsed();
    let delivered_at_cut = unique(&seen);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let delivered_at_restore = unique(&seen);
    proxy.listen().await;
    let restored = t0.elapsed();
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop_tx.send(true).unwrap();
    let mut emitted = Emitted::default();
    for e in emitters {
        let e = e.await.unwrap();
        emitted.accepted_calls += e.accepted_calls;
        emitted.failed_calls += e.failed_calls;
        emitted.ids.extend(e.ids);
        emitted.answers.extend(e.answers);
    }
    let load_ended = t0.elapsed();
    ready_stop_tx.send(true).unwrap();
    let probes = prober.await.unwrap();

    let accepted: HashSet<String> = emitted.ids.iter().cloned().collect();
    assert_eq!(accepted.len(), emitted.accepted_calls * PER_CALL);
    assert!(
        emitted.answers.iter().any(|&(at, ok)| ok && at < cut),
        "calls were accepted before the outage"
    );
    assert!(
        emitted.answers.iter().any(|&(at, ok)| ok && at > restored),
        "calls were accepted again after the outage"
    );
    wait_until("every accepted event", Duration::from_secs(60), || {
        let seen = seen.lock().unwrap();
        accepted.iter().all(|id| seen.contains_key(id))
    })
    .await;
    let all = t0.elapsed();

    let during: Vec<String> = probes
        .iter()
        .filter(|(asked, _, _)| *asked >= cut && *asked < restored)
        .map(|(asked, answered, s)| {
            let s = s.map_or_else(|| "no answer in 1 s".to_owned(), |s| s.to_string());
            format!("{:.1}s→{:.1}s {s}", asked.as_secs_f64(), answered.as_secs_f64())
        })
        .collect();
    let failed_during = emitted.answers.iter().filter(|&&(at, ok)| !ok && at >= cut).count();
    let counts = seen.lock().unwrap();
    let delivered_total: u32 = counts.values().sum();
    println!(
        "database cut at {cut:?} ({delivered_at_cut} events delivered), restored at {restored:?} \
         ({delivered_at_restore} delivered), load until {load_ended:?}: \
         {} calls accepted ({} events), {} failed ({failed_during} of them answered after the cut); \
         all accepted events delivered at {all:?} ({} event ids and {delivered_total} deliveries \
         arrived in all); /readyz asked during the outage: [{}]",
        emitted.accepted_calls,
        accepted.len(),
        emitted.failed_calls,
        counts.len(),
        during.join(", ")
    );
    drop(counts);
    let ready_after = probes
        .iter()
        .filter(|(asked, _, _)| *asked > restored)
        .any(|(_, _, s)| *s == Some(200));
    assert!(ready_after, "/readyz answers ready again after the outage");
    // During the outage /readyz says not ready (within its 2 s ping), and never ready.
    assert!(
        probes
            .iter()
            .any(|&(asked, answered, s)| asked >= cut && answered < restored && s == Some(503)),
        "/readyz answered 503 while the database was cut"
    );
    assert!(
        !probes
            .iter()
            .any(|&(asked, answered, s)| asked >= cut && answered < restored && s == Some(200)),
        "/readyz answered ready while the database was cut"
    );
    let node = Arc::into_inner(node).expect("the tasks are done with the node");
    node.signal("-TERM");
    let mut node = node;
    assert!(node.child.wait().unwrap().success(), "graceful shutdown");
}
