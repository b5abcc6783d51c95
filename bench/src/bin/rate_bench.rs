//! What a rate-limited request costs when the budgets live in PostgreSQL (nodes share
//! them) rather than in memory (one node): the server's own `RateLimiter`, both ways,
//! on one thread, beside a plain database round trip (`SELECT 1`) as the same-run
//! baseline.
//!
//! `rate-bench postgres://USER@HOST/DB [N]` (the database must exist; it is migrated).
//! Reports p50 / p99 per request of: the in-memory limiter, the shared limiter (two
//! budgets, per second and per hour: two statements), and the round trip.

#![allow(clippy::print_stdout, reason = "a benchmark tool")]

use std::process::ExitCode;
use std::time::Instant;

use frontdesk_bench::pct;
use frontdesk_core::id::ApiKeyId;
use frontdesk_server::RateLimitSettings;
use frontdesk_server::rate_limit::RateLimiter;
use frontdesk_store::Secrets;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(url) = args.first() else {
        eprintln!("usage: rate-bench postgres://USER@HOST/DB [N]");
        return ExitCode::from(2);
    };
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let store = match frontdesk_store::open(url, Secrets::new(None)).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = store.migrate().await {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    // Budgets no run can spend: every request is allowed, each one written.
    let settings = RateLimitSettings {
        per_hour: 100_000_000,
        per_second: 10_000_000,
    };
    let memory = RateLimiter::new(settings);
    let shared = RateLimiter::for_store(settings, &store);
    let key = ApiKeyId::generate();
    let mut mem = Vec::with_capacity(n);
    let mut db = Vec::with_capacity(n);
    let mut trip = Vec::with_capacity(n);
    for _ in 0..200 {
        let _ = shared.take(&key).await;
        let _ = store.ping().await;
    }
    for _ in 0..n {
        let t = Instant::now();
        std::hint::black_box(memory.take(&key).await);
        mem.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        std::hint::black_box(shared.take(&key).await);
        db.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        let _ = store.ping().await;
        trip.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let (m50, m99) = (pct(&mut mem, 0.5), pct(&mut mem, 0.99));
    let (d50, d99) = (pct(&mut db, 0.5), pct(&mut db, 0.99));
    let (t50, t99) = (pct(&mut trip, 0.5), pct(&mut trip, 0.99));
    println!("rate-bench: {n} requests, one key, one thread");
    println!("in memory (governor)                 p50 {m50:>8.1} µs   p99 {m99:>8.1} µs");
    println!("in PostgreSQL (2 budgets)            p50 {d50:>8.1} µs   p99 {d99:>8.1} µs");
    println!("baseline: SELECT 1 round trip        p50 {t50:>8.1} µs   p99 {t99:>8.1} µs");
    println!(
        "shared limiter = {:.2} round trips at p50 ({:.0} µs more than in memory)",
        d50 / t50,
        d50 - m50
    );
    ExitCode::SUCCESS
}
