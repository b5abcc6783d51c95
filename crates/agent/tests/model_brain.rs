//! The `llm` and `hybrid` brains driven as the application drives them, with a
//! scripted model in place of the HTTP round trip: tool calls drive a whole call,
//! values the normaliser refuses go back to the model and are not stored, HTTP tools
//! get the model's arguments, transfers and messages, every failure leaves the turn to
//! the rules, the hybrid brain asks only where the rules are unsure, and the model
//! writes the summary. The state is stored and loaded between turns.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::NaiveDate;
use frontdesk_agent::brain::{
    self, Action, Brain, CallInfo, ChatMessage, Completion, CompletionError, CompletionRequest, FunctionCall, Input,
    Need, Reply, Role, State, ToolCall, ToolOutcome,
};
use frontdesk_core::agent::AgentConfig;
use frontdesk_core::agent::config::BrainKind;
use serde_json::{Value, json};

fn agent(brain: &str) -> Arc<AgentConfig> {
    Arc::new(
        AgentConfig::parse(&json!({
            "name": "Acme Plumbing",
            "business": {"owner_name": "Acme Plumbing", "hours": "Mon-Fri 8am-6pm"},
            "data_to_collect": [
                {"field": "first_name", "type": "name", "question": "May I have your name?", "required": true},
                {"field": "email", "type": "email", "question": "What's your email?", "required": true}
            ],
            "call_types": [
                {"name": "repair", "description": "something is broken", "keywords": ["broken", "repair", "fix"]},
                {"name": "emergency", "description": "flooding or a burst pipe", "keywords": ["flooding", "burst"], "action": "transfer"}
            ],
            "transfer": {"number": "+15557654321", "triggers": ["human", "person"]},
            "knowledge": [{"question": "Are you licensed and insured?", "answer": "Yes, fully licensed and insured."}],
            "tools": [{"type": "http", "tool_name": "check_slots", "description": "Free appointment slots on a day",
                       "http_method": "GET", "url": "https://example.com/slots?day={{day}}",
                       "parameters": [{"name": "day", "type": "string", "description": "the day", "required": true}]}],
            "closing": "Thanks {{first_name}}, goodbye!",
            "brain": brain
        }))
        .expect("valid")
        .config,
    )
}

fn call() -> CallInfo {
    CallInfo {
        call_id: "call_model".into(),
        caller_number: Some("+15551234567".into()),
        business_number: "+15550100000".into(),
        today: NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
        outbound: false,
        purpose: None,
    }
}

fn stored(state: &State) -> State {
    let text = serde_json::to_string(state).expect("serialises");
    serde_json::from_str(&text).expect("loads")
}

type Answer = Result<Completion, CompletionError>;

/// A scripted model: answers in order, and the requests it got.
#[derive(Default)]
struct Model {
    answers: VecDeque<Answer>,
    requests: Vec<CompletionRequest>,
    tools_run: Vec<(String, Value)>,
}

impl Model {
    fn then(mut self, a: Answer) -> Self {
        self.answers.push_back(a);
        self
    }
}

fn says(text: &str) -> Answer {
    Ok(Completion {
        message: ChatMessage::assistant(text),
        finish_reason: Some("stop".into()),
        usage: None,
    })
}

fn calls(text: &str, list: &[(&str, Value)]) -> Answer {
    let mut m = ChatMessage::assistant(text);
    m.tool_calls = list
        .iter()
        .enumerate()
        .map(|(i, (name, args))| ToolCall {
            id: format!("call_{i}_{name}"),
            kind: "function".into(),
            function: FunctionCall {
                name: (*name).into(),
                arguments: args.to_string(),
            },
        })
        .collect();
    Ok(Completion {
        message: m,
        finish_reason: Some("tool_calls".into()),
        usage: None,
    })
}

/// One turn through the protocol; HTTP tools answer `{"say": "3pm is free."}`.
fn turn(brain: &dyn Brain, state: &mut State, model: &mut Model, input: Input) -> Reply {
    let mut t = brain.hear(state, input);
    loop {
        match brain.next(state, &mut t) {
            Need::Nothing => break,
            Need::Tools(reqs) => {
                for r in reqs {
                    let arg = r.vars.get("day").cloned().unwrap_or(Value::Null);
                    model.tools_run.push((r.tool.tool_name.clone(), arg));
                    let outcome = ToolOutcome {
                        say: Some("3pm is free.".into()),
                        fields: Default::default(),
                    };
                    brain.tool_result(state, &mut t, &r.id, outcome);
                }
            }
            Need::Completion(req) => {
                let a = model
                    .answers
                    .pop_front()
                    .unwrap_or_else(|| Err(CompletionError::new("script ran out")));
                model.requests.push(req);
                brain.completion_result(state, &mut t, a);
            }
        }
    }
    let reply = brain.respond(state, t);
    *state = stored(state);
    reply
}

fn speak(brain: &dyn Brain, state: &mut State, model: &mut Model, text: &str) -> Reply {
    turn(brain, state, model, Input::speech(text))
}

fn tool_results(req: &CompletionRequest) -> Vec<Value> {
    req.messages
        .iter()
        .filter(|m| m.role == Role::Tool)
        .filter_map(|m| m.content.as_deref().and_then(|c| serde_json::from_str(c).ok()))
        .collect()
}

#[test]
fn a_whole_call_driven_by_tool_calls() {
    let brain = brain::brain_for(agent("llm"));
    assert_eq!(brain.kind(), BrainKind::Llm);
    let (mut state, greeting) = brain.start(call());
    assert!(greeting.say.text().contains("Acme Plumbing"));
    let mut model = Model::default()
        .then(calls(
            "",
            &[("set_call_type", json!({"call_type": "repair"})), ("set_field", json!({"field": "first_name", "value": "uh it's john smith"}))],
        ))
        .then(says("Thanks John. What's your email?"))
        .then(calls("Got it.", &[("set_field", json!({"field": "email", "value": "john dot smith at gmail dot com"}))]))
        .then(calls("Thanks John, goodbye!", &[("end_call", json!({}))]))
        .then(says(r#"{"summary": "John Smith called about a broken tap; email john.smith@gmail.com. Call him back.", "call_type": "repair"}"#));

    let r = speak(
        &*brain,
        &mut state,
        &mut model,
        "Hi, my tap is broken, this is John Smith",
    );
    assert_eq!(r.say.text(), "Thanks John. What's your email?");
    assert_eq!(r.awaiting_field.as_deref(), Some("email"));
    assert!(r.actions.contains(&Action::CallType("repair".into())));
    assert!(r.actions.contains(&Action::Collected {
        field: "first_name".into(),
        value: json!("John Smith")
    }));
    // The first request: the system prompt with where the call stands, the
    // greeting, the caller's words, and every tool.
    let first = &model.requests[0];
    assert_eq!(first.messages[0].role, Role::System);
    assert!(
        first.messages[0]
            .content
            .as_deref()
            .unwrap_or_default()
            .contains("Still to collect: first_name (required), email (required)")
    );
    assert_eq!(first.messages.last().map(|m| m.role), Some(Role::User));
    assert!(first.speak && first.stream);
    let names: Vec<&str> = first.tools.iter().map(|t| t.function.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "set_field",
            "set_call_type",
            "transfer_call",
            "take_message",
            "search_knowledge",
            "end_call",
            "check_slots"
        ]
    );
    // The model answered with tools only: asked again with their results.
    assert_eq!(tool_results(&model.requests[1]).len(), 2);

    let r = speak(&*brain, &mut state, &mut model, "john dot smith at gmail dot com");
    assert_eq!(r.say.text(), "Got it.");
    let r = speak(&*brain, &mut state, &mut model, "that's all, thanks");
    assert!(r.ended);
    assert_eq!(r.say.text(), "Thanks John, goodbye!");
    let view = brain.view(&state);
    assert_eq!(view.fields["email"], json!("john.smith@gmail.com"));
    assert_eq!(view.call_type.as_deref(), Some("repair"));
    assert_eq!(view.turns, 3);
    assert_eq!(view.model_turns, 3);
    assert!(
        brain
            .summary(&state)
            .starts_with("John Smith called about a broken tap")
    );
    assert!(
        !model.requests.last().expect("summary").speak,
        "the summary is not spoken"
    );
}

#[test]
fn an_invalid_value_is_refused_back_to_the_model_and_not_stored() {
    let brain = brain::brain_for(agent("llm"));
    let (mut state, _) = brain.start(call());
    let mut model = Model::default()
        .then(calls(
            "",
            &[("set_field", json!({"field": "email", "value": "john at"}))],
        ))
        .then(says("Sorry, could you spell your email for me?"));
    let r = speak(&*brain, &mut state, &mut model, "my email is john at");
    assert_eq!(r.say.text(), "Sorry, could you spell your email for me?");
    assert!(
        brain.view(&state).fields.get("email").is_none(),
        "nothing invalid is stored"
    );
    let results = tool_results(&model.requests[1]);
    let err = results[0]["error"].as_str().expect("a tool error");
    assert!(err.contains("not a valid email for email"), "{err}");
    let events = brain.view(&state).brain_events;
    assert_eq!(events[0].kind, "refused");
    // A field that does not exist is named back too.
    let mut model = Model::default()
        .then(calls("", &[("set_field", json!({"field": "shoe_size", "value": "9"}))]))
        .then(says("Okay."));
    speak(&*brain, &mut state, &mut model, "I wear nines");
    let err = tool_results(&model.requests[1])[1]["error"]
        .as_str()
        .expect("error")
        .to_owned();
    assert!(
        err.contains("no field `shoe_size`; the fields are: first_name, email"),
        "{err}"
    );
}

#[test]
fn an_http_tool_runs_with_the_models_arguments_and_its_say_is_spoken() {
    let brain = brain::brain_for(agent("llm"));
    let (mut state, _) = brain.start(call());
    let mut model = Model::default()
        .then(calls("Let me check.", &[("check_slots", json!({"day": "Tuesday"}))]))
        .then(says("Would that work for you?"));
    let r = speak(&*brain, &mut state, &mut model, "is anything free on Tuesday?");
    assert_eq!(model.tools_run, vec![("check_slots".to_owned(), json!("Tuesday"))]);
    assert_eq!(r.say.text(), "Let me check. 3pm is free. Would that work for you?");
    let results = tool_results(&model.requests[1]);
    assert_eq!(results[0]["result"]["say"], json!("3pm is free."));
    // Not run again at the call's end.
    let mut model = Model::default().then(calls("Goodbye!", &[("end_call", json!({}))]));
    let r = speak(&*brain, &mut state, &mut model, "bye");
    assert!(r.ended);
    assert!(model.tools_run.is_empty());
}

#[test]
fn transfer_and_message_through_tools() {
    let brain = brain::brain_for(agent("llm"));
    let (mut state, _) = brain.start(call());
    let mut model = Model::default().then(calls(
        "Connecting you now.",
        &[("transfer_call", json!({"reason": "wants the owner"}))],
    ));
    let r = speak(&*brain, &mut state, &mut model, "can I talk to the owner");
    assert!(r.ended);
    assert_eq!(r.transferred_to.as_deref(), Some("+15557654321"));
    assert!(r.say.text().starts_with("Connecting you now."));
    assert_eq!(brain.view(&state).transfer_reason.as_deref(), Some("wants the owner"));

    let (mut state, _) = brain.start(call());
    let mut model = Model::default().then(calls(
        "I'll pass that on.",
        &[("take_message", json!({"message": "Tell Mike the permit came through"}))],
    ));
    let r = speak(&*brain, &mut state, &mut model, "tell Mike the permit came through");
    assert!(
        r.actions
            .contains(&Action::Message("Tell Mike the permit came through".into()))
    );
    assert_eq!(
        brain.view(&state).message.as_deref(),
        Some("Tell Mike the permit came through")
    );
    assert!(!r.ended);
}

#[test]
fn a_transfer_call_type_transfers_whatever_the_model_does_next() {
    let brain = brain::brain_for(agent("llm"));
    let (mut state, _) = brain.start(call());
    let mut model = Model::default().then(calls("", &[("set_call_type", json!({"call_type": "emergency"}))]));
    let r = speak(&*brain, &mut state, &mut model, "water is pouring everywhere");
    assert!(r.ended);
    assert_eq!(r.transferred_to.as_deref(), Some("+15557654321"));
    assert!(!r.say.is_empty());
}

#[test]
fn no_model_answer_leaves_the_turn_to_the_rules() {
    let rules = brain::brain_for(agent("rules"));
    let brain = brain::brain_for(agent("llm"));
    for failure in [
        Err(CompletionError::timeout()),
        Err(CompletionError::new("HTTP 500")),
        says(""),
    ] {
        let (mut state, _) = brain.start(call());
        let (mut rules_state, _) = rules.start(call());
        let mut model = Model::default().then(failure);
        let r = speak(&*brain, &mut state, &mut model, "my sink is broken, this is Ann Lee");
        let mut none = Model::default();
        let expected = speak(
            &*rules,
            &mut rules_state,
            &mut none,
            "my sink is broken, this is Ann Lee",
        );
        assert_eq!(r.say.text(), expected.say.text());
        assert_eq!(r.awaiting_field, expected.awaiting_field);
        assert_eq!(brain.view(&state).fields, rules.view(&rules_state).fields);
        let events = brain.view(&state).brain_events;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].kind, "rules");
        // The next turn asks the model again.
        let mut model = Model::default().then(says("Thanks Ann."));
        let r = speak(&*brain, &mut state, &mut model, "ann at example dot com");
        assert_eq!(r.say.text(), "Thanks Ann.");
        // The model sees what the rules said.
        let said: Vec<&str> = model.requests[0]
            .messages
            .iter()
            .filter(|m| m.role == Role::Assistant)
            .filter_map(|m| m.content.as_deref())
            .collect();
        assert!(said.contains(&expected.say.text()), "{said:?}");
    }
}

#[test]
fn a_failure_after_the_model_acted_keeps_what_it_did() {
    let brain = brain::brain_for(agent("llm"));
    let (mut state, _) = brain.start(call());
    let mut model = Model::default()
        .then(calls(
            "",
            &[("set_field", json!({"field": "first_name", "value": "Ann Lee"}))],
        ))
        .then(Err(CompletionError::new("HTTP 500")));
    let r = speak(&*brain, &mut state, &mut model, "this is Ann Lee");
    assert_eq!(brain.view(&state).fields["first_name"], json!("Ann Lee"));
    assert_eq!(r.awaiting_field.as_deref(), Some("email"));
    assert!(r.say.text().ends_with("What's your email?"), "{}", r.say.text());
}

#[test]
fn the_hybrid_brain_asks_only_where_the_rules_are_unsure() {
    let brain = brain::brain_for(agent("hybrid"));
    assert_eq!(brain.kind(), BrainKind::Hybrid);
    let (mut state, _) = brain.start(call());
    let mut model = Model::default();
    // Sure: a repair, and a name.
    let r = speak(&*brain, &mut state, &mut model, "my tap is broken");
    assert_eq!(r.awaiting_field.as_deref(), Some("first_name"));
    let r = speak(&*brain, &mut state, &mut model, "John Smith");
    assert_eq!(r.awaiting_field.as_deref(), Some("email"));
    assert!(
        model.requests.is_empty(),
        "no model call for turns the rules are sure of"
    );

    // Unsure: a question the knowledge has no answer for.
    let mut model = Model::default()
        .then(calls(
            "",
            &[("search_knowledge", json!({"query": "do you folks carry a license"}))],
        ))
        .then(says("Yes, we're fully licensed and insured."));
    let r = speak(
        &*brain,
        &mut state,
        &mut model,
        "wait, do you folks carry a permit to work here?",
    );
    assert_eq!(model.requests.len(), 2);
    assert!(!model.requests[0].speak);
    let names: Vec<&str> = model.requests[0]
        .tools
        .iter()
        .map(|t| t.function.name.as_str())
        .collect();
    assert!(
        !names.contains(&"check_slots") && !names.contains(&"end_call"),
        "{names:?}"
    );
    assert!(
        r.say.text().starts_with("Yes, we're fully licensed and insured."),
        "{}",
        r.say.text()
    );
    assert!(!r.say.text().contains("I'm not sure"), "{}", r.say.text());
    assert_eq!(r.awaiting_field.as_deref(), Some("email"));

    // Unsure: an answer that does not parse, which the model reads.
    let mut model = Model::default().then(calls(
        "",
        &[("set_field", json!({"field": "email", "value": "john.smith@gmail.com"}))],
    ));
    let r = speak(
        &*brain,
        &mut state,
        &mut model,
        "it's john smith, the gmail one, with a dot between",
    );
    assert_eq!(model.requests.len(), 1);
    assert_eq!(brain.view(&state).fields["email"], json!("john.smith@gmail.com"));
    assert_eq!(r.awaiting_field, None, "{}", r.say.text());
    let view = brain.view(&state);
    assert_eq!((view.turns, view.model_turns), (4, 2));
}

#[test]
fn the_hybrid_brain_keeps_the_rules_answer_when_the_model_fails() {
    let rules = brain::brain_for(agent("rules"));
    let brain = brain::brain_for(agent("hybrid"));
    let (mut state, _) = brain.start(call());
    let (mut rs, _) = rules.start(call());
    let mut none = Model::default();
    let mut model = Model::default().then(Err(CompletionError::timeout()));
    let words = "hello there, I have a question about something else entirely";
    let r = speak(&*brain, &mut state, &mut model, words);
    let expected = speak(&*rules, &mut rs, &mut none, words);
    assert_eq!(model.requests.len(), 1, "no call type: the model was asked");
    assert_eq!(r.say.text(), expected.say.text());
    assert_eq!(brain.view(&state).brain_events[0].kind, "rules");
}

#[test]
fn silence_and_hang_up_need_no_model_and_the_summary_falls_back() {
    let brain = brain::brain_for(agent("llm"));
    let (mut state, _) = brain.start(call());
    let mut model = Model::default();
    let r = turn(&*brain, &mut state, &mut model, Input::Silence);
    assert!(r.say.text().contains("didn't catch"));
    assert!(model.requests.is_empty());
    let mut model = Model::default().then(Err(CompletionError::new("down")));
    let r = turn(
        &*brain,
        &mut state,
        &mut model,
        Input::HangUp(brain::EndReason::CallerHangup),
    );
    assert!(r.ended);
    assert_eq!(model.requests.len(), 1, "the summary was asked");
    assert!(brain.summary(&state).contains("+15551234567"), "the rules summary");
}

#[test]
fn states_name_their_brain_and_an_agent_may_switch_brains_mid_call() {
    let brain = brain::brain_for(agent("llm"));
    let (state, _) = brain.start(call());
    assert_eq!(state.to_json()["brain"], "llm");
    assert_eq!(stored(&state).brain(), BrainKind::Llm);
    // A call started on the rules carries on with the model.
    let rules = brain::brain_for(agent("rules"));
    let (mut state, _) = rules.start(call());
    let mut none = Model::default();
    speak(&*rules, &mut state, &mut none, "my tap is broken, I'm Ann Lee");
    let mut model = Model::default().then(says("Thanks Ann, and your email?"));
    let r = speak(&*brain, &mut state, &mut model, "sure");
    assert_eq!(r.say.text(), "Thanks Ann, and your email?");
    assert_eq!(brain.view(&state).fields["first_name"], json!("Ann Lee"));
    assert_eq!(state.brain(), BrainKind::Llm);
}

#[test]
fn asking_for_a_person_or_an_emergency_transfers_without_the_model() {
    let brain = brain::brain_for(agent("llm"));
    for words in ["can I talk to a real person please", "the basement is flooding"] {
        let (mut state, _) = brain.start(call());
        let mut model = Model::default().then(says("I'm sure we can sort it out here."));
        let r = speak(&*brain, &mut state, &mut model, words);
        assert!(r.ended, "{words}: {}", r.say.text());
        assert_eq!(r.transferred_to.as_deref(), Some("+15557654321"));
        assert!(
            model.requests.iter().all(|q| !q.speak),
            "{words}: only the summary asks the model"
        );
        assert!(brain.view(&state).brain_events.is_empty());
    }
}
