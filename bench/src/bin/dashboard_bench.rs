//! What the dashboard's heaviest pages cost the server: the calls list over 10,000
//! calls and the page of a call with 100 turns, beside `/healthz` (a route that does
//! no work) as the same-run baseline; and the weight of the main pages.
//!
//! `dashboard-bench [N_CALLS] [REQUESTS]`: starts the real server in-process on a fresh
//! SQLite database in a temporary folder (or `BENCH_POSTGRES_URL`, migrated; use an
//! empty database), writes N_CALLS calls (default 10,000) of a few turns over the last
//! 14 days plus one of 100 turns through the store, signs a dashboard user in, then
//! requests each page REQUESTS times (default 200) one after another and reports the
//! server time (request to last byte, over loopback) p50 / p99 in ms and as a ratio of
//! `/healthz`'s, and each page's size in bytes.

#![allow(clippy::print_stdout, reason = "a benchmark tool")]

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, Utc};
use frontdesk_bench::pct;
use frontdesk_core::agent::Provider;
use frontdesk_core::call::{Call, CallStatus, CallerInfo, Direction, Speaker, Turn};
use frontdesk_core::id::CallId;
use frontdesk_core::user::{Login, Password, SessionToken};
use frontdesk_server::bootstrap::bootstrap;
use frontdesk_server::{Application, ServerSettings};
use frontdesk_store::{CallWrite, Secrets, Store};

const TYPES: [&str; 4] = ["booking", "billing", "emergency", "general"];

fn call(
    store_agent: &frontdesk_core::id::AgentId,
    ws: &frontdesk_core::id::WorkspaceId,
    i: usize,
    turns: usize,
) -> Call {
    let now = Utc::now();
    #[allow(
        clippy::cast_possible_wrap,
        clippy::cast_possible_truncation,
        reason = "small numbers"
    )]
    let started = now - Duration::minutes((i as i64 * 2) % (14 * 24 * 60));
    let turns: Vec<Turn> = (0..turns)
        .map(|t| {
            let (who, text) = if t.is_multiple_of(2) {
                (
                    Speaker::Agent,
                    format!("Thanks for calling Acme Plumbing, how can I help? ({t})"),
                )
            } else {
                (
                    Speaker::Caller,
                    format!("My kitchen sink is leaking under the cabinet, call {i} turn {t}."),
                )
            };
            #[allow(
                clippy::cast_possible_wrap,
                clippy::cast_possible_truncation,
                reason = "small numbers"
            )]
            Turn::new(who, text, started + Duration::seconds(t as i64 * 5))
        })
        .collect();
    let mut fields = serde_json::Map::new();
    fields.insert("name".into(), format!("Caller {i}").into());
    fields.insert("address".into(), "12 Main Street".into());
    Call {
        id: CallId::generate(),
        workspace_id: ws.clone(),
        agent_id: store_agent.clone(),
        direction: if i.is_multiple_of(5) {
            Direction::Outbound
        } else {
            Direction::Inbound
        },
        status: CallStatus::Completed,
        from: format!("+1555{:07}", i % 10_000_000),
        to: "+15550100000".into(),
        provider: Provider::Sim,
        provider_call_id: None,
        caller: CallerInfo {
            phone: Some(format!("+1555{:07}", i % 10_000_000)),
            name: Some(format!("Caller {i}")),
            email: None,
        },
        call_type: Some(TYPES[i % TYPES.len()].into()),
        custom_fields: fields,
        message: Some("Please call back about the leak.".into()),
        transferred_to: None,
        ai_summary: Some("A caller reported a leaking sink.".into()),
        turns,
        purpose: None,
        end_reason: Some("completed".into()),
        tool_calls: Vec::new(),
        provider_details: serde_json::Map::new(),
        duration: Some(95),
        session: serde_json::Value::Null,
        version: 1,
        started_at: started,
        answered_at: Some(started),
        ended_at: Some(started + Duration::seconds(95)),
        updated_at: started + Duration::seconds(95),
        purged_at: None,
    }
}

struct Measured {
    name: String,
    p50: f64,
    p99: f64,
    bytes: usize,
}

async fn measure(client: &reqwest::Client, base: &str, cookie: &str, path: &str, n: usize) -> Result<Measured, String> {
    let mut times = Vec::with_capacity(n);
    let mut bytes = 0;
    for i in 0..n + 10 {
        let t = Instant::now();
        let res = client
            .get(format!("{base}{path}"))
            .header("cookie", cookie)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = res.status();
        let body = res.bytes().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("GET {path} answered {status}"));
        }
        // The first requests warm caches and connections.
        if i >= 10 {
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        bytes = body.len();
    }
    Ok(Measured {
        name: path.to_owned(),
        p50: pct(&mut times, 0.5),
        p99: pct(&mut times, 0.99),
        bytes,
    })
}

async fn run(n_calls: usize, n: usize) -> Result<(), String> {
    let dir = tempfile_dir()?;
    let url = std::env::var("BENCH_POSTGRES_URL").unwrap_or_else(|_| format!("sqlite://{dir}/bench.db"));
    let store: Arc<dyn Store> = frontdesk_store::open(&url, Secrets::new(None))
        .await
        .map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    let first = bootstrap(&*store)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the database is not empty; use an empty one")?;
    let ws = first.created.workspace.id.clone();
    let agent = first.created.agent.id.clone();
    let t = Instant::now();
    for i in 0..n_calls {
        let c = call(&agent, &ws, i, 6);
        store
            .save_call(&ws, CallWrite::Insert(&c), &[], 0, (Utc::now(), 0))
            .await
            .map_err(|e| e.to_string())?;
    }
    let long = call(&agent, &ws, n_calls, 100);
    store
        .save_call(&ws, CallWrite::Insert(&long), &[], 0, (Utc::now(), 0))
        .await
        .map_err(|e| e.to_string())?;
    println!("wrote {} calls in {:.1} s", n_calls + 1, t.elapsed().as_secs_f64());
    let password = Password::generate();
    let user = store
        .create_user(&ws, &Login::parse("bench").map_err(|e| e.message)?, &password.hash())
        .await
        .map_err(|e| e.to_string())?;
    let token = SessionToken::generate();
    store
        .create_session(&token.digest(), &user.id, Utc::now())
        .await
        .map_err(|e| e.to_string())?;
    let cookie = format!("frontdesk_session={}", token.expose());

    let settings = ServerSettings {
        listen: "127.0.0.1:0".parse().map_err(|_| "addr")?,
        ..ServerSettings::default()
    };
    let app = Application::build(settings, store.clone())
        .await
        .map_err(|e| e.to_string())?;
    let base = format!("http://{}", app.local_addr().map_err(|e| e.to_string())?);
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::new();

    let call_page = format!("/calls/{}", long.id);
    let pages = [
        "/healthz",
        "/calls",
        call_page.as_str(),
        "/",
        "/webhooks",
        "/events",
        "/agents",
        "/test-call",
        "/settings/api-keys",
        "/static/app.css",
        "/static/app.js",
    ];
    let mut results = Vec::new();
    for p in pages {
        let reps = if matches!(p, "/healthz" | "/calls") || p == call_page {
            n
        } else {
            n / 4
        };
        results.push(measure(&client, &base, &cookie, p, reps.max(10)).await?);
    }
    // The baseline again at the end: the machine may have changed pace meanwhile.
    let again = measure(&client, &base, &cookie, "/healthz", n).await?;
    let base50 = (results[0].p50 + again.p50) / 2.0;
    let base99 = (results[0].p99 + again.p99) / 2.0;
    println!(
        "{:<42} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "page", "p50 ms", "p99 ms", "p50 ×hz", "p99 ×hz", "bytes"
    );
    for m in results.iter().chain(std::iter::once(&again)) {
        println!(
            "{:<42} {:>9.2} {:>9.2} {:>9.1} {:>9.1} {:>9}",
            m.name,
            m.p50,
            m.p99,
            m.p50 / base50,
            m.p99 / base99,
            m.bytes
        );
    }
    Ok(())
}

fn tempfile_dir() -> Result<String, String> {
    let dir = std::env::temp_dir().join(format!("frontdesk-dashboard-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir.display().to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n_calls = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let n = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let outcome = run(n_calls, n).await;
    let _ =
        std::fs::remove_dir_all(std::env::temp_dir().join(format!("frontdesk-dashboard-bench-{}", std::process::id())));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
