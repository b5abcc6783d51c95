//! How often the hybrid brain asks its model: the dev and holdout scenarios of
//! `tests/conversations` played through `brain: "hybrid"` with a model that never
//! answers (so every turn goes on exactly as the rules have it, and each request
//! counts where the rules were unsure). Prints, per file and in all, the caller turns,
//! the turns that asked the model, and their share, and why they asked.
//!
//! `hybrid-share [DIR]` (default `tests/conversations`). Issue 14 reports the share.

#![allow(clippy::print_stdout, reason = "a benchmark tool")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use frontdesk_agent::brain::{self, Brain, CallInfo, CompletionError, Input, Need, Reply, State, ToolOutcome};
use frontdesk_core::agent::AgentConfig;
use serde_json::Value;

fn turn(brain: &dyn Brain, state: &mut State, text: &str, asked: &mut u32) -> Reply {
    let mut t = brain.hear(state, Input::speech(text));
    loop {
        match brain.next(state, &mut t) {
            Need::Nothing => break,
            Need::Tools(reqs) => {
                for r in reqs {
                    brain.tool_result(state, &mut t, &r.id, ToolOutcome::default());
                }
            }
            Need::Completion(req) => {
                if req.speak || !req.tools.is_empty() {
                    *asked += 1;
                }
                brain.completion_result(state, &mut t, Err(CompletionError::new("no model in this run")));
            }
        }
    }
    brain.respond(state, t)
}

/// Plays one scenario as converse.py does: the opening, each awaited field's answer,
/// the interjection after its field, the closing line when nothing is awaited.
fn play(brain: &dyn Brain, s: &Value) -> (u32, u32) {
    let call = CallInfo {
        call_id: "call_share".into(),
        caller_number: s["from"].as_str().map(str::to_owned),
        business_number: "+15550100000".into(),
        today: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default(),
        outbound: false,
        purpose: None,
    };
    let (mut state, _) = brain.start(call);
    let mut asked = 0;
    let mut r = turn(brain, &mut state, s["opening"].as_str().unwrap_or("hello"), &mut asked);
    let answers = s["answers"].as_object().cloned().unwrap_or_default();
    let mut interject = s.get("interject").filter(|v| v.is_object()).cloned();
    let mut used: Vec<String> = Vec::new();
    let (mut closings, mut turns) = (0, 0);
    while !r.ended && turns < 30 {
        turns += 1;
        let text = if let Some(i) = interject
            .clone()
            .filter(|i| used.iter().any(|u| Some(u.as_str()) == i["after_field"].as_str()))
        {
            interject = None;
            i["text"].as_str().unwrap_or_default().to_owned()
        } else if let Some(f) = &r.awaiting_field {
            match answers.get(f).and_then(Value::as_str) {
                Some(a) => {
                    used.push(f.clone());
                    a.to_owned()
                }
                None => "I'm not sure.".to_owned(),
            }
        } else {
            if closings >= 2 {
                break;
            }
            closings += 1;
            s["closing"].as_str().unwrap_or("No, that's all.").to_owned()
        };
        r = turn(brain, &mut state, &text, &mut asked);
    }
    (brain.view(&state).turns, asked)
}

fn run(dir: &Path) -> Result<(), String> {
    let mut agents: BTreeMap<String, Arc<dyn Brain>> = BTreeMap::new();
    let agent_dir = dir.join("agents");
    for e in std::fs::read_dir(&agent_dir).map_err(|e| format!("{}: {e}", agent_dir.display()))? {
        let path = e.map_err(|e| e.to_string())?.path();
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).map_err(|e| e.to_string())?)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        v["brain"] = "hybrid".into();
        let cfg = AgentConfig::parse(&v)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .config;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        agents.insert(name, brain::brain_for(Arc::new(cfg)));
    }
    let (mut all_turns, mut all_asked) = (0, 0);
    for file in ["dev.jsonl", "holdout.jsonl"] {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let (mut turns, mut asked, mut calls) = (0, 0, 0);
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let s: Value = serde_json::from_str(line).map_err(|e| format!("{}: {e}", path.display()))?;
            let Some(brain) = s["agent"].as_str().and_then(|a| agents.get(a)) else {
                continue;
            };
            let (t, a) = play(&**brain, &s);
            turns += t;
            asked += a;
            calls += 1;
        }
        println!(
            "{file}: {calls} calls, {turns} caller turns, {asked} asked the model ({:.1}%)",
            100.0 * f64::from(asked) / f64::from(turns.max(1))
        );
        all_turns += turns;
        all_asked += asked;
    }
    println!(
        "all: {all_turns} caller turns, {all_asked} asked the model ({:.1}%); {} answered by the rules alone",
        100.0 * f64::from(all_asked) / f64::from(all_turns.max(1)),
        all_turns - all_asked
    );
    Ok(())
}

fn main() -> ExitCode {
    let dir = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("tests/conversations"), PathBuf::from);
    match run(&dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hybrid-share: {e}");
            ExitCode::FAILURE
        }
    }
}
