//! Scripted callers against the rules brain, offline: the same play and checks as
//! `converse.py` (the caller answers whatever field the agent awaits, interjects a
//! knowledge question where the scenario has one, says its closing line when nothing is
//! awaited), run on `tests/conversations/dev.jsonl` (the shared sample) and
//! `tests/conversations/holdout.jsonl` (our own callers, written apart from the engine).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use frontdesk_agent::{Action, CallInfo, Session, summarize};
use frontdesk_core::agent::AgentConfig;
use serde_json::{Map, Value};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conversations")
}

fn agents() -> HashMap<String, AgentConfig> {
    let mut out = HashMap::new();
    for e in std::fs::read_dir(root().join("agents")).unwrap() {
        let path = e.unwrap().path();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        out.insert(name, AgentConfig::parse(&v).unwrap().config);
    }
    out
}

fn norm(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(s.trim().to_lowercase()),
        other => other.clone(),
    }
}

fn contains_any(v: Option<&Value>, alternatives: &str) -> bool {
    let text = match v {
        Some(Value::String(s)) => s.to_lowercase(),
        Some(other) => other.to_string().to_lowercase(),
        None => "null".into(),
    };
    alternatives.split('|').any(|a| text.contains(&a.to_lowercase()))
}

struct Outcome {
    failures: Vec<String>,
    transcript: Vec<String>,
}

fn play(cfg: &AgentConfig, s: &Value) -> Outcome {
    let mut fails = Vec::new();
    let mut transcript = Vec::new();
    let call = CallInfo {
        call_id: "call_test".into(),
        caller_number: s["from"].as_str().map(str::to_owned),
        business_number: "+15550100000".into(),
        today: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        outbound: false,
        purpose: None,
    };
    let (mut session, r) = Session::start(cfg, call);
    transcript.push(format!("A: {}", r.say));
    let mut fields = Map::new();
    let mut message: Option<String> = None;
    let mut say_turn = |session: &mut Session, text: &str, transcript: &mut Vec<String>| {
        transcript.push(format!("C: {text}"));
        let r = session.turn(cfg, text);
        transcript.push(format!(
            "A: {}  [awaiting {:?}{}]",
            r.say,
            r.awaiting_field,
            if r.ended { ", ended" } else { "" }
        ));
        for a in &r.actions {
            match a {
                Action::Collected { field, value } => {
                    fields.insert(field.clone(), value.clone());
                }
                Action::Message(m) => message = Some(m.clone()),
                _ => {}
            }
        }
        r
    };
    let mut r = say_turn(&mut session, s["opening"].as_str().unwrap(), &mut transcript);
    for alt in s["expect_first_reply"].as_array().into_iter().flatten() {
        let alt = alt.as_str().unwrap();
        if !contains_any(Some(&Value::String(r.say.to_string())), alt) {
            fails.push(format!("first reply lacks {alt:?}: {:?}", r.say));
        }
    }
    let answers = s["answers"].as_object().cloned().unwrap_or_default();
    let mut interject = s.get("interject").filter(|v| v.is_object()).cloned();
    let mut used: Vec<String> = Vec::new();
    let (mut closings, mut turns) = (0, 0);
    while !r.ended && turns < 30 {
        turns += 1;
        let field = r.awaiting_field.clone();
        let mut now_interject = None;
        let text: String = if let Some(i) = interject
            .clone()
            .filter(|i| used.iter().any(|u| u == i["after_field"].as_str().unwrap()))
        {
            interject = None;
            now_interject = Some(i.clone());
            i["text"].as_str().unwrap().to_owned()
        } else if let Some(f) = &field {
            if let Some(a) = answers.get(f) {
                used.push(f.clone());
                a.as_str().unwrap().to_owned()
            } else {
                "I'm not sure.".to_owned()
            }
        } else {
            if closings >= 2 {
                break;
            }
            closings += 1;
            s["closing"].as_str().unwrap_or("No, that's all.").to_owned()
        };
        r = say_turn(&mut session, &text, &mut transcript);
        if let Some(i) = now_interject {
            for alt in i["expect_in_reply"].as_array().into_iter().flatten() {
                let alt = alt.as_str().unwrap();
                if !contains_any(Some(&Value::String(r.say.to_string())), alt) {
                    fails.push(format!("answer to {:?} lacks {alt:?}: {:?}", i["text"], r.say));
                }
            }
        }
    }
    if !r.ended {
        session.hang_up(frontdesk_agent::EndReason::CallerHangup);
    }
    transcript.push(format!("SUMMARY: {}", summarize(cfg, &session)));
    let expect = &s["expect"];
    if let Some(t) = expect["call_type"].as_str()
        && session.call_type.as_deref() != Some(t)
    {
        fails.push(format!("call_type {:?}, expected {t:?}", session.call_type));
    }
    for (name, want) in expect["fields"].as_object().into_iter().flatten() {
        let got = fields.get(name);
        if got.map(norm) != Some(norm(want)) {
            fails.push(format!("field {name} = {got:?}, expected {want}"));
        }
    }
    for (name, alts) in expect["contains"].as_object().into_iter().flatten() {
        for alt in alts.as_array().unwrap() {
            if !contains_any(fields.get(name), alt.as_str().unwrap()) {
                fails.push(format!("field {name} = {:?} lacks {alt}", fields.get(name)));
            }
        }
    }
    for alt in expect["message_contains"].as_array().into_iter().flatten() {
        let m = message.clone().map(Value::String);
        if !contains_any(m.as_ref(), alt.as_str().unwrap()) {
            fails.push(format!("message {message:?} lacks {alt}"));
        }
    }
    let want_transfer = expect["transferred_to"].as_str();
    if session.transferred_to.as_deref() != want_transfer {
        fails.push(format!(
            "transferred_to {:?}, expected {want_transfer:?}",
            session.transferred_to
        ));
    }
    Outcome {
        failures: fails,
        transcript,
    }
}

fn run(file: &str) -> (usize, usize) {
    let agents = agents();
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let verbose = std::env::var("SCENARIO_VERBOSE").is_ok();
    let (mut passed, mut total) = (0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let s: Value = serde_json::from_str(line).unwrap();
        let cfg = &agents[s["agent"].as_str().unwrap()];
        let out = play(cfg, &s);
        total += 1;
        if out.failures.is_empty() {
            passed += 1;
            if verbose {
                println!("ok   {}", s["id"]);
            }
        } else {
            println!("FAIL {}", s["id"]);
            for f in &out.failures {
                println!("     {f}");
            }
            if verbose {
                for t in &out.transcript {
                    println!("        {t}");
                }
            }
        }
    }
    println!("{file}: {passed}/{total} scenarios passed");
    (passed, total)
}

#[test]
fn dev_scenarios() {
    let (passed, total) = run("dev.jsonl");
    assert_eq!(passed, total, "every dev scenario passes");
}

#[test]
fn holdout_scenarios() {
    let (passed, total) = run("holdout.jsonl");
    // Callers the engine was not written against: most, not all, must pass.
    assert!(passed * 100 >= total * 90, "{passed}/{total}");
}
