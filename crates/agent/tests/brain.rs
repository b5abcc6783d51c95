//! The brain protocol, driven as the application drives it: the rules brain behind
//! `Brain` says exactly what `Session`'s own methods say (every scenario, with the state
//! stored as JSON and loaded again between turns), states name their brain and load
//! from before they did, tools are handed out, answered, deferred and re-marked, and
//! silence, hang-ups and recorded messages go through `Input`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use frontdesk_agent::Session;
use frontdesk_agent::brain::{
    self, Action, Brain, CallInfo, CompletionError, EndReason, Input, Need, Reply, RulesBrain, State, StateError,
    ToolOutcome, View,
};
use frontdesk_core::agent::AgentConfig;
use frontdesk_core::agent::config::BrainKind;
use serde_json::{Map, Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conversations")
}

fn agents() -> HashMap<String, Arc<AgentConfig>> {
    let mut out = HashMap::new();
    for e in std::fs::read_dir(root().join("agents")).expect("agents") {
        let path = e.expect("entry").path();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        let name = path.file_stem().expect("name").to_string_lossy().into_owned();
        out.insert(name, Arc::new(AgentConfig::parse(&v).expect("valid").config));
    }
    out
}

fn demo() -> AgentConfig {
    AgentConfig::parse(&frontdesk_core::agent::demo_agent_config())
        .expect("the demo agent parses")
        .config
}

fn call(from: Option<&str>) -> CallInfo {
    CallInfo {
        call_id: "call_brain".into(),
        caller_number: from.map(str::to_owned),
        business_number: "+15550100000".into(),
        today: NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
        outbound: false,
        purpose: None,
    }
}

/// Stores the state and loads it again, as a server does between turns.
fn stored(state: &State) -> State {
    let text = serde_json::to_string(state).expect("serialises");
    serde_json::from_str(&text).expect("loads")
}

/// One speech turn through the protocol, running no tools (there are none in the
/// scenario agents).
fn turn(brain: &dyn Brain, state: &mut State, text: &str) -> Reply {
    let mut t = brain.hear(state, Input::speech(text));
    loop {
        match brain.next(state, &mut t) {
            Need::Nothing => break,
            Need::Tools(reqs) => {
                for r in reqs {
                    brain.tool_result(state, &mut t, &r.id, ToolOutcome::default());
                }
            }
            Need::Completion(_) => {
                brain.completion_result(state, &mut t, Err(CompletionError::new("none")));
            }
        }
    }
    brain.respond(state, t)
}

/// Every scenario, played through `Session` and through the brain side by side: the
/// same words, fields, actions, state and summary.
#[test]
fn the_rules_brain_says_what_the_session_says() {
    let agents = agents();
    let brains: HashMap<&String, Arc<dyn Brain>> =
        agents.iter().map(|(k, c)| (k, brain::brain_for(c.clone()))).collect();
    let mut scenarios = 0;
    for file in ["dev.jsonl", "holdout.jsonl"] {
        let text = std::fs::read_to_string(root().join(file)).expect("scenarios");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let s: Value = serde_json::from_str(line).expect("scenario");
            let name = s["agent"].as_str().expect("agent").to_owned();
            let cfg = &agents[&name];
            let brain = brains[&name].as_ref();
            let id = s["id"].to_string();
            let info = call(s["from"].as_str());
            let (mut session, first) = Session::start(cfg, info.clone());
            let (mut state, greeting) = brain.start(info);
            assert_eq!(greeting.say, first.say, "{id}");
            let answers = s["answers"].as_object().cloned().unwrap_or_default();
            let mut said = s["opening"].as_str().expect("opening").to_owned();
            let mut closings = 0;
            for _ in 0..30 {
                let old = session.turn(cfg, &said);
                state = stored(&state);
                let new = turn(brain, &mut state, &said);
                assert_eq!(new.say, old.say, "{id}: {said}");
                assert_eq!(new.say.sentences().join(" "), old.say.text(), "{id}");
                assert_eq!(new.awaiting_field, old.awaiting_field, "{id}");
                assert_eq!(new.ended, old.ended, "{id}");
                assert_eq!(new.transferred_to, old.transferred_to, "{id}");
                assert_eq!(new.actions, old.actions, "{id}");
                assert_eq!(state.rules(), Some(&session), "{id}");
                if old.ended {
                    break;
                }
                said = match &old.awaiting_field {
                    Some(f) => answers
                        .get(f)
                        .and_then(Value::as_str)
                        .unwrap_or("I'm not sure.")
                        .to_owned(),
                    None if closings < 2 => {
                        closings += 1;
                        s["closing"].as_str().unwrap_or("No, that's all.").to_owned()
                    }
                    None => break,
                };
            }
            if !session.ended() {
                session.hang_up(EndReason::CallerHangup);
                let t = brain.hear(&mut state, Input::HangUp(EndReason::CallerHangup));
                let r = brain.respond(&mut state, t);
                assert!(r.ended);
            }
            assert_eq!(brain.summary(&state), frontdesk_agent::summarize(cfg, &session), "{id}");
            let v = brain.view(&state);
            assert_eq!(v.fields, session.fields, "{id}");
            assert_eq!(v.call_type, session.call_type, "{id}");
            assert_eq!(v.message, session.message, "{id}");
            assert_eq!(v.end_reason, session.end_reason, "{id}");
            assert!(v.ended, "{id}");
            scenarios += 1;
        }
    }
    assert!(scenarios > 50, "{scenarios}");
}

#[test]
fn states_name_their_brain_and_load_from_before() {
    let cfg = demo();
    let brain = RulesBrain::new(Arc::new(cfg.clone()));
    let (mut state, _) = brain.start(call(Some("+15551234567")));
    brain.turn(&mut state, "I'd like to book an appointment");
    let v = state.to_json();
    assert_eq!(v["brain"], "rules");
    assert_eq!(state.brain(), BrainKind::Rules);
    assert_eq!(State::from_json(v.clone()).expect("loads"), state);

    // The JSON of a `Session` stored before brains were named: a rules state.
    let (mut session, _) = Session::start(&cfg, call(Some("+15551234567")));
    session.turn(&cfg, "I'd like to book an appointment");
    let old = serde_json::to_value(&session).expect("json");
    assert!(old.get("brain").is_none());
    let loaded: State = serde_json::from_value(old).expect("an old state loads");
    assert_eq!(loaded.rules(), Some(&session));
    assert_eq!(loaded.awaiting_field(), Some("first_name"));
    // And a state written now still loads as a plain `Session` (a rollback).
    let back: Session = serde_json::from_value(v).expect("a session");
    assert_eq!(Some(&back), state.rules());

    assert_eq!(
        State::from_json(json!({"brain": "quantum", "x": 1})),
        Err(StateError::UnknownBrain("quantum".into()))
    );
    assert_eq!(State::from_json(json!([1])), Err(StateError::NotAnObject));
    assert!(matches!(
        State::from_json(json!({"brain": "rules"})),
        Err(StateError::Invalid(_))
    ));
}

/// The demo agent with tools: one ready once a name and phone are known, one that
/// runs only at the end of the call (no field fills `callback_note`: at the end, a tool
/// runs with what is known).
fn with_tools() -> Arc<AgentConfig> {
    let mut v = frontdesk_core::agent::demo_agent_config();
    v["tools"] = json!([
        {"type": "http", "tool_name": "lookup", "description": "finds the customer", "http_method": "POST",
         "url": "https://crm.example/lookup", "timeout_ms": 1000,
         "parameters": [{"name": "first_name"}, {"name": "phone"}]},
        {"type": "http", "tool_name": "notify", "description": "tells the team", "http_method": "POST",
         "url": "https://crm.example/notify", "timeout_ms": 1000,
         "parameters": [{"name": "first_name"}, {"name": "callback_note"}]}
    ]);
    Arc::new(AgentConfig::parse(&v).expect("valid").config)
}

fn tool_names(need: &Need) -> Vec<String> {
    match need {
        Need::Tools(reqs) => reqs.iter().map(|r| r.id.clone()).collect(),
        other => panic!("expected tools, got {other:?}"),
    }
}

#[test]
fn tools_are_handed_out_answered_and_deferred() {
    let brain = brain::brain_for(with_tools());
    let (mut state, _) = brain.start(call(Some("+15551234567")));
    turn(brain.as_ref(), &mut state, "I'd like to book an appointment");
    turn(brain.as_ref(), &mut state, "John Smith");

    // The phone makes `lookup` ready; its answer is spoken and fills the email.
    let mut t = brain.hear(&mut state, Input::speech("555 123 4567"));
    let need = brain.next(&mut state, &mut t);
    assert_eq!(tool_names(&need), ["lookup"]);
    let Need::Tools(reqs) = need else { unreachable!() };
    assert_eq!(reqs[0].vars["first_name"], "John Smith");
    assert_eq!(t.pending_tools(), ["lookup"]);
    let mut fields = Map::new();
    fields.insert("email".into(), json!("john@example.com"));
    brain.tool_result(
        &mut state,
        &mut t,
        "lookup",
        ToolOutcome {
            say: Some("Welcome back, John.".into()),
            fields,
        },
    );
    assert!(t.pending_tools().is_empty());
    assert_eq!(brain.next(&mut state, &mut t), Need::Nothing);
    let r = brain.respond(&mut state, t);
    assert!(r.say.starts_with("Welcome back, John."), "{}", r.say);
    assert_eq!(r.say.sentences()[0], "Welcome back, John.");
    assert!(
        r.actions
            .iter()
            .any(|a| matches!(a, Action::Collected { field, .. } if field == "email"))
    );
    assert!(r.say.contains("anything else"), "{}", r.say);

    // The caller hangs up: `notify` is due at the end. The budget is spent: deferred,
    // it is not handed out again in this turn, and waits for the next pass.
    let mut t = brain.hear(&mut state, Input::HangUp(EndReason::CallerHangup));
    let need = brain.next(&mut state, &mut t);
    assert_eq!(tool_names(&need), ["notify"]);
    brain.defer_tools(&mut state, &mut t, &["notify"]);
    assert_eq!(t.deferred_tools(), ["notify"]);
    assert_eq!(brain.next(&mut state, &mut t), Need::Nothing);
    let r = brain.respond(&mut state, t);
    assert!(r.ended);
    assert_eq!(r.actions, vec![Action::End(EndReason::CallerHangup)]);
    let view = brain.view(&state);
    assert_eq!(view.end_reason, Some(EndReason::CallerHangup));

    // A later pass (the call's final status) finds it ready again.
    let mut again = stored(&state);
    let mut t = brain.hear(&mut again, Input::HangUp(EndReason::CallerHangup));
    assert_eq!(tool_names(&brain.next(&mut again, &mut t)), ["notify"]);
    // Handed out but never answered: deferred too.
    assert_eq!(brain.next(&mut again, &mut t), Need::Nothing);
    assert_eq!(t.deferred_tools(), ["notify"]);

    // A pass whose write was lost ran it: the next pass marks it and runs nothing.
    let mut fresh = stored(&state);
    assert_eq!(brain.tools_ran(&mut fresh, &["notify", "lookup"]), ["notify"]);
    let mut t = brain.hear(&mut fresh, Input::HangUp(EndReason::CallerHangup));
    assert_eq!(brain.next(&mut fresh, &mut t), Need::Nothing);
}

#[test]
fn silence_hang_up_and_recordings_go_through_input() {
    let brain = RulesBrain::new(Arc::new(demo()));
    let (mut state, _) = brain.start(call(None));
    let t = brain.hear(&mut state, Input::Silence);
    let r = brain.respond(&mut state, t);
    assert_eq!(r.say, "Sorry, I didn't catch that. How can I help you today?");
    assert_eq!(
        r.say.sentences(),
        ["Sorry, I didn't catch that.", "How can I help you today?"]
    );
    // An empty result is silence too: the second moves on.
    let t = brain.hear(
        &mut state,
        Input::Speech {
            text: "  ".into(),
            confidence: Some(0.1),
        },
    );
    let r = brain.respond(&mut state, t);
    assert_eq!(r.awaiting_field.as_deref(), Some("first_name"));
    let r = brain.turn(&mut state, "John Smith");
    assert_eq!(r.awaiting_field.as_deref(), Some("phone"));

    let t = brain.hear(
        &mut state,
        Input::RecordedMessage("Voicemail (3 s): https://x/RE1".into()),
    );
    assert_eq!(t.actions(), [Action::Message("Voicemail (3 s): https://x/RE1".into())]);
    let r = brain.respond(&mut state, t);
    assert!(!r.ended);

    let t = brain.hear(&mut state, Input::HangUp(EndReason::ApiHangup));
    let r = brain.respond(&mut state, t);
    assert!(r.ended && r.say.is_empty());
    assert_eq!(
        brain.view(&state),
        View {
            fields: serde_json::from_value(json!({"first_name": "John Smith"})).expect("map"),
            // From the first words: a name, nothing more.
            call_type: Some("general_inquiry".into()),
            message: Some("Voicemail (3 s): https://x/RE1".into()),
            transferred_to: None,
            transfer_reason: None,
            end_reason: Some(EndReason::ApiHangup),
            ended: true,
            awaiting_field: None,
            caller_name: Some("John Smith".into()),
            caller_email: None,
            turns: 1,
            model_turns: 0,
            brain_events: Vec::new(),
        }
    );
    assert!(state.ended());
    assert_eq!(state.end_reason(), Some(EndReason::ApiHangup));
    // An ended conversation hears nothing more.
    let t = brain.hear(&mut state, Input::speech("hello?"));
    assert!(t.actions().is_empty());
}

#[test]
fn a_transfer_is_in_the_reply_and_the_view() {
    let brain = RulesBrain::new(Arc::new(demo()));
    let (mut state, _) = brain.start(call(None));
    let r = brain.turn(&mut state, "Can I talk to a person, please?");
    assert!(r.ended);
    assert_eq!(r.transferred_to.as_deref(), Some("+15557654321"));
    let v = brain.view(&state);
    assert_eq!(v.end_reason, Some(EndReason::Transferred));
    assert_eq!(v.transfer_reason.as_deref(), Some("caller asked for a person"));
    assert_eq!(brain.variables(&state)["owner_name"], "Frontdesk Demo Co");
    assert_eq!(brain.kind(), BrainKind::Rules);
    assert_eq!(brain.config().name, "Demo front desk");
}
