//! Conversation engine benchmark: the rules brain, in process, on one thread.
//!
//! Loads the agents in `tests/conversations/agents` and the scenarios in
//! `tests/conversations/dev.jsonl` and `holdout.jsonl`, and replays every scenario the way
//! `crates/agent/tests/scenarios.rs` plays it (the caller answers the awaited field from
//! `answers`, interjects its knowledge question after the named field, says "I'm not
//! sure." to a field it has no answer for, and its closing line when nothing is awaited),
//! over and over for N seconds (`engine-bench [SECONDS]`, default 10).
//!
//! Reported: turns per second and scenarios per second of engine time, and the latency of
//! each turn of the rules brain (`RulesBrain::turn`: hear, respond; the brain is built
//! once per agent configuration, as the server caches it) (p50 / p99 / max). The
//! baseline, measured in the same run
//! right after every turn, is a JSON round trip of the session state (serialise to a
//! string, parse it back): the work a server does on every turn anyway, since a call's
//! state is stored as JSON between turns so that any node can carry it on. The ratio
//! of the two says how the engine's thinking compares with that bookkeeping, and it holds
//! up on a noisy machine where absolute figures do not.
//!
//! `engine-bench --limits [SECONDS]` plays instead one agent built at every limit a
//! configuration may reach (50 fields, ten of them enums of 100 options; 50 call types
//! of 50 keywords; knowledge filling the rest of the 256 KiB), with a caller whose
//! every line misses (no keyword, no option, a question no entry answers well), the
//! costliest path through the engine. It prints the same table: the worst a tenant can
//! make one turn cost.

#![allow(
    clippy::print_stdout,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a benchmark tool"
)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use std::sync::Arc;

use frontdesk_agent::Session;
use frontdesk_agent::brain::{Brain, CallInfo, EndReason, Input, Reply, RulesBrain, State};
use frontdesk_core::agent::AgentConfig;
use serde_json::{Map, Value};

/// Most caller lines per scenario, as in the scenario runner.
const MAX_TURNS: usize = 30;

/// A scenario, read once so that the timed loop does no JSON lookups.
struct Scenario {
    agent: usize,
    from: Option<String>,
    opening: String,
    answers: Map<String, Value>,
    /// (after this field, say this)
    interject: Option<(String, String)>,
    closing: String,
}

#[derive(Default)]
struct Stats {
    /// Every turn, in nanoseconds.
    turns: Vec<u64>,
    /// Every state round trip, in nanoseconds.
    round_trips: Vec<u64>,
    state_bytes: u64,
    scenarios: u64,
    /// Scenario time without the baseline in it: start, turns, the player's logic,
    /// hang-up and summary.
    scenario_ns: u64,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/conversations")
}

/// What the benchmark replays.
struct Corpus {
    agents: Vec<RulesBrain>,
    scenarios: Vec<Scenario>,
    /// Scenarios from dev.jsonl, from holdout.jsonl.
    counts: [usize; 2],
}

fn load(dir: &Path) -> Result<Corpus, String> {
    let mut names = Vec::new();
    let mut agents = Vec::new();
    let agent_dir = dir.join("agents");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&agent_dir)
        .map_err(|e| format!("{}: {e}", agent_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let cfg = AgentConfig::parse(&v).map_err(|e| format!("{}: {e}", path.display()))?;
        names.push(path.file_stem().unwrap_or_default().to_string_lossy().into_owned());
        agents.push(RulesBrain::new(Arc::new(cfg.config)));
    }
    let mut scenarios = Vec::new();
    let mut counts = [0; 2];
    for (i, file) in ["dev.jsonl", "holdout.jsonl"].into_iter().enumerate() {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let at = || format!("{file}:{}", n + 1);
            let s: Value = serde_json::from_str(line).map_err(|e| format!("{}: {e}", at()))?;
            let agent_name = s["agent"].as_str().unwrap_or_default();
            let agent = names
                .iter()
                .position(|a| a == agent_name)
                .ok_or_else(|| format!("{}: no agent {agent_name:?}", at()))?;
            let interject = s
                .get("interject")
                .filter(|v| v.is_object())
                .and_then(|i| Some((i["after_field"].as_str()?.to_owned(), i["text"].as_str()?.to_owned())));
            scenarios.push(Scenario {
                agent,
                from: s["from"].as_str().map(str::to_owned),
                opening: s["opening"]
                    .as_str()
                    .ok_or_else(|| format!("{}: no opening", at()))?
                    .to_owned(),
                answers: s["answers"].as_object().cloned().unwrap_or_default(),
                interject,
                closing: s["closing"].as_str().unwrap_or("No, that's all.").to_owned(),
            });
            counts[i] += 1;
        }
    }
    Ok(Corpus {
        agents,
        scenarios,
        counts,
    })
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// One turn, timed, then the baseline on the state it left, timed.
fn turn(brain: &RulesBrain, state: &mut State, text: &str, stats: &mut Stats) -> (Reply, u64) {
    let t = Instant::now();
    let reply = brain.turn(state, black_box(text));
    let spent = nanos(t.elapsed());
    stats.turns.push(spent);

    // The rules state, as before the brain seam: the same baseline work in both builds.
    let t = Instant::now();
    let stored = state
        .rules()
        .map(|s| serde_json::to_string(s).unwrap_or_default())
        .unwrap_or_default();
    let loaded: Option<Session> = serde_json::from_str(&stored).ok();
    let base = nanos(t.elapsed());
    black_box(loaded);
    stats.round_trips.push(base);
    stats.state_bytes += stored.len() as u64;
    (reply, base)
}

/// Plays one scenario as the scenario runner does.
fn play(brain: &RulesBrain, s: &Scenario, stats: &mut Stats) {
    let started = Instant::now();
    let mut baseline = 0;
    let call = CallInfo {
        call_id: "call_bench".into(),
        caller_number: s.from.clone(),
        business_number: "+15550100000".into(),
        today: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default(),
        outbound: false,
        purpose: None,
    };
    let (mut state, greeting) = brain.start(call);
    black_box(greeting);
    let (mut r, b) = turn(brain, &mut state, &s.opening, stats);
    baseline += b;
    let mut interject = s.interject.as_ref();
    let mut used: Vec<&str> = Vec::new();
    let (mut closings, mut turns) = (0, 0);
    while !r.ended && turns < MAX_TURNS {
        turns += 1;
        let text: &str = if let Some((_, text)) = interject.filter(|(after, _)| used.contains(&after.as_str())) {
            interject = None;
            text
        } else if let Some(f) = &r.awaiting_field {
            match s.answers.get_key_value(f) {
                Some((k, a)) => {
                    used.push(k);
                    a.as_str().unwrap_or_default()
                }
                None => "I'm not sure.",
            }
        } else {
            if closings >= 2 {
                break;
            }
            closings += 1;
            &s.closing
        };
        let (next, b) = turn(brain, &mut state, text, stats);
        r = next;
        baseline += b;
    }
    if !r.ended {
        black_box(brain.hear(&mut state, Input::HangUp(EndReason::CallerHangup)));
    }
    black_box(brain.summary(&state));
    stats.scenarios += 1;
    stats.scenario_ns += nanos(started.elapsed()).saturating_sub(baseline);
}

fn pct(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn us(ns: u64) -> String {
    format!("{:.1} µs", ns as f64 / 1000.0)
}

/// An agent at every limit, and a caller who misses everything.
fn at_the_limits() -> Result<Corpus, String> {
    let v = frontdesk_bench::limits_agent();
    let cfg = AgentConfig::parse(&v).map_err(|e| format!("the limits agent: {e}"))?;
    let size = serde_json::to_vec(&cfg.config.to_json()).map_or(0, |b| b.len());
    eprintln!(
        "limits agent: {} KiB, {} knowledge entries",
        size / 1024,
        cfg.config.knowledge.len()
    );
    let answers: Map<String, Value> = (0..50)
        .map(|i| {
            let key = if i < 10 {
                format!("choice_{i}")
            } else {
                format!("detail_{i}")
            };
            (key, Value::from(frontdesk_bench::MISSES[2]))
        })
        .collect();
    let scenario = Scenario {
        agent: 0,
        from: Some("+15551234567".into()),
        opening: frontdesk_bench::MISSES[0].into(),
        answers,
        interject: Some(("choice_0".into(), frontdesk_bench::MISSES[1].into())),
        closing: "No, that's everything.".into(),
    };
    Ok(Corpus {
        agents: vec![RulesBrain::new(Arc::new(cfg.config))],
        scenarios: vec![scenario],
        counts: [1, 0],
    })
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let limits = args.first().is_some_and(|a| a == "--limits");
    if limits {
        args.remove(0);
    }
    let seconds = match args.first() {
        None => 10.0,
        Some(a) => match a.parse::<f64>() {
            Ok(s) if s > 0.0 && s.is_finite() => s,
            _ => {
                eprintln!("usage: engine-bench [--limits] [SECONDS]   (default 10; got {a:?})");
                return ExitCode::from(2);
            }
        },
    };
    let corpus = if limits { at_the_limits() } else { load(&root()) };
    let Corpus {
        agents,
        scenarios,
        counts,
    } = match corpus {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };

    // Warm up: one untimed pass (caches, allocator, lazily built tables).
    let mut warm = Stats::default();
    for s in &scenarios {
        play(&agents[s.agent], s, &mut warm);
    }
    let turns_per_pass = warm.turns.len();

    let mut stats = Stats::default();
    let budget = Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut passes = 0u64;
    while started.elapsed() < budget {
        for s in &scenarios {
            play(&agents[s.agent], s, &mut stats);
        }
        passes += 1;
    }
    let wall = started.elapsed();

    let turn_total: u64 = stats.turns.iter().sum();
    let base_total: u64 = stats.round_trips.iter().sum();
    let n = stats.turns.len() as u64;
    stats.turns.sort_unstable();
    stats.round_trips.sort_unstable();
    let per_s = |count: u64, ns: u64| count as f64 / (ns as f64 / 1e9);
    let mean = |total: u64| total / n.max(1);

    println!(
        "engine-bench: {} agents, {} scenarios ({} dev + {} holdout), {turns_per_pass} turns a pass; \
         {passes} passes in {:.1} s on one thread",
        agents.len(),
        scenarios.len(),
        counts[0],
        counts[1],
        wall.as_secs_f64()
    );
    println!();
    println!(
        "{:<34} {:>12} {:>10} {:>10} {:>10} {:>10}",
        "", "per second", "mean", "p50", "p99", "max"
    );
    println!(
        "{:<34} {:>12.0} {:>10} {:>10} {:>10} {:>10}",
        "brain turn (hear, respond)",
        per_s(n, turn_total),
        us(mean(turn_total)),
        us(pct(&stats.turns, 0.5)),
        us(pct(&stats.turns, 0.99)),
        us(pct(&stats.turns, 1.0))
    );
    println!(
        "{:<34} {:>12.0} {:>10}",
        "whole scenarios (start..summary)",
        per_s(stats.scenarios, stats.scenario_ns),
        us(stats.scenario_ns / stats.scenarios.max(1))
    );
    println!(
        "{:<34} {:>12.0} {:>10} {:>10} {:>10} {:>10}",
        "baseline: state JSON round trip",
        per_s(n, base_total),
        us(mean(base_total)),
        us(pct(&stats.round_trips, 0.5)),
        us(pct(&stats.round_trips, 0.99)),
        us(pct(&stats.round_trips, 1.0))
    );
    println!();
    let ratio = |a: u64, b: u64| a as f64 / (b as f64).max(1.0);
    println!(
        "turn / baseline: mean {:.2}x, p50 {:.2}x, p99 {:.2}x   (state: {} bytes of JSON on average)",
        ratio(turn_total, base_total),
        ratio(pct(&stats.turns, 0.5), pct(&stats.round_trips, 0.5)),
        ratio(pct(&stats.turns, 0.99), pct(&stats.round_trips, 0.99)),
        stats.state_bytes / n.max(1)
    );
    ExitCode::SUCCESS
}
