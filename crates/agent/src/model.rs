//! The brains that ask a language model (SPEC section 8): `llm` and `hybrid`.
//!
//! [`ModelBrain`] is built once per agent configuration, like the rules brain, and
//! holds one ([`RulesBrain`]): its prepared fields (the same normaliser), its knowledge
//! index (the same retrieval, for `search_knowledge`), and its turn for when no model
//! answers. Like every brain it performs no I/O: it asks for completions
//! ([`Need::Completion`]) and HTTP tools ([`Need::Tools`]) and the application fetches
//! them.
//!
//! - `llm`: every caller turn is a completion over the conversation so far (kept in
//!   the call's state, [`ModelState::messages`], so any node takes the next turn). The
//!   model acts only through the tools of [`crate::prompt::tools`]: each built-in tool
//!   runs here, checked as the rules brain checks (a value the normaliser refuses goes
//!   back to the model as a tool error naming the problem, and nothing is stored); an
//!   HTTP tool is handed to the application with the model's arguments. Up to
//!   [`MAX_ROUNDS`] completions a turn (the model reads tool results and speaks).
//! - `hybrid`: the rules brain takes every turn; the model is asked only where the
//!   rules were unsure ([`Unsure`]), with the rules' state as context and the built-in
//!   tools only; what it sets is checked the same way, its sentence takes the place of
//!   the rules' unsure one, and the rules ask the next question.
//!
//! What the rules guarantee holds on `llm` too: a caller who asks for a person, or
//! calls about a type the business transfers at once, is transferred by the rules
//! without asking the model.
//!
//! Fail-safe: a completion that fails (the application has already tried the agent's
//! fallback endpoints) leaves the turn to the rules: `llm` hears the caller's words
//! with the rules brain (or, when the model already acted in this turn, lets the rules
//! ask the next question); `hybrid` keeps the rules' answer it already has. Each is
//! noted in [`ModelState::events`]. After the conversation ends, the model writes the
//! summary and checks the call type ([`crate::brain::Brain::summary`] falls back to the
//! rules summary).

use std::fmt::Write as _;
use std::sync::Arc;

use frontdesk_core::agent::config::{AgentConfig, BrainKind, CallAction};
use frontdesk_core::fields::FieldType;
use frontdesk_core::knowledge::Chunk;
use frontdesk_core::template::value_text;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::brain::{Brain, Input, Need, Reply, State, Turn, View};
use crate::completion::{ChatMessage, Completion, CompletionError, CompletionRequest, Role, ToolCall, ToolSchema};
use crate::nlu::{self, Words};
use crate::prompt;
use crate::rules::RulesBrain;
use crate::session::{
    CallInfo, EndReason, Heard, MESSAGE_FIELD, NOT_SURE, Phase, Session, ToolOutcome, ToolRequest, fallback,
    past_if_birth,
};
use crate::speech::{self, Speech};
use crate::summary::summarize;

/// Completions asked at most in one caller turn.
pub const MAX_ROUNDS: u8 = 4;

/// Messages of the conversation kept in the state (the oldest go first).
pub const MAX_MESSAGES: usize = 60;

/// Passages `search_knowledge` hands the model.
pub const SEARCH_PASSAGES: usize = 3;

/// What a model brain keeps of a call besides the rules' [`Session`] (which holds the
/// call's outcome for every brain).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelState {
    #[serde(flatten)]
    pub session: Session,
    /// The conversation as the model sees it (without the system prompt, which is
    /// built afresh for every request): the caller's words, the receptionist's words
    /// (whoever composed them), the model's tool calls and their results.
    #[serde(default)]
    pub messages: Vec<ChatMessage>,
    /// Caller turns in which a model was asked.
    #[serde(default)]
    pub model_turns: u32,
    /// Fallbacks, refusals and interruptions, in order (the call's `brain_events`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<BrainEvent>,
    /// The model's `ai_summary`, once written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

impl ModelState {
    pub(crate) fn new(session: Session) -> Self {
        Self {
            session,
            messages: Vec::new(),
            model_turns: 0,
            events: Vec::new(),
            summary: None,
        }
    }

    fn push(&mut self, m: ChatMessage) {
        self.messages.push(m);
        if self.messages.len() > MAX_MESSAGES {
            let cut = self.messages.len() - MAX_MESSAGES;
            self.messages.drain(..cut);
            // A conversation never starts with a tool result or the calls it answers.
            while self
                .messages
                .first()
                .is_some_and(|m| m.role == Role::Tool || !m.tool_calls.is_empty())
            {
                self.messages.remove(0);
            }
        }
    }
}

/// Something that happened between a brain and its model, noted on the call
/// (`brain_events`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrainEvent {
    /// The caller turn (1 is the caller's first words).
    pub turn: u32,
    /// `fallback` (an endpoint failed; the next was tried), `rules` (no model
    /// answered; the rules brain took the turn), `refused` (a value the model set was
    /// refused), `interrupted` (the caller cut in; the stream was cancelled).
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The endpoint concerned (base URL and model; never a key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl BrainEvent {
    #[must_use]
    pub fn new(kind: &str, reason: Option<&str>, endpoint: Option<&str>, detail: Option<&str>) -> Self {
        Self {
            turn: 0,
            kind: kind.to_owned(),
            reason: reason.map(str::to_owned),
            endpoint: endpoint.map(str::to_owned),
            detail: detail.map(|d| d.chars().take(300).collect()),
        }
    }
}

/// Why the hybrid brain asks the model about a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsure {
    /// The caller's reason for calling matched no call type.
    NoCallType,
    /// The awaited answer did not parse.
    Unparsed,
    /// A question the knowledge did not answer.
    NoKnowledge,
    /// Words the rules could not use.
    Unused,
}

impl Unsure {
    fn says(self) -> &'static str {
        match self {
            Self::NoCallType => "the rules could not tell what kind of call this is",
            Self::Unparsed => "the rules could not read the answer to the question asked",
            Self::NoKnowledge => "the caller asked something the rules found no answer for",
            Self::Unused => "the rules could not use what the caller said",
        }
    }
}

/// Which completion a turn waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Asking {
    #[default]
    Nothing,
    /// The next move of the conversation.
    Turn,
    /// The summary, after the conversation ended.
    Summary,
}

/// A model brain's part of a turn in progress.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ModelTurn {
    /// The caller's words.
    text: String,
    /// Completions asked in this turn.
    rounds: u8,
    /// Whether the next `next` asks for a completion, and which.
    asking: Asking,
    /// Handed out and not yet answered.
    waiting: Asking,
    /// What the receptionist says, in order: the model's words, tools' `say`.
    said: Vec<String>,
    /// The model's HTTP tool calls, not yet handed out.
    http: Vec<ToolRequest>,
    /// Model tool calls handed out, not yet answered.
    model_pending: Vec<String>,
    /// The rules took the turn (llm: no model answered).
    by_rules: bool,
    /// The hybrid brain's reason for asking.
    unsure: Option<Unsure>,
    /// The summary was asked for.
    summary_asked: bool,
    /// Something in this turn changed the record since the model last spoke.
    acted: bool,
    /// The caller's first words (llm: undone if the rules hear them instead).
    first: bool,
    /// The conversation was in its opening (ditto).
    was_opening: bool,
}

/// The `llm` and `hybrid` brains (see the module documentation).
pub struct ModelBrain {
    kind: BrainKind,
    rules: RulesBrain,
    prompt: String,
    tools: Vec<ToolSchema>,
    hybrid_tools: Vec<ToolSchema>,
}

impl std::fmt::Debug for ModelBrain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelBrain")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl ModelBrain {
    /// The brain `cfg.brain` names (`llm` or `hybrid`; `rules` is taken as `llm`),
    /// with the agent's documents in its knowledge.
    #[must_use]
    pub fn new(cfg: Arc<AgentConfig>, documents: Vec<Chunk>) -> Self {
        let kind = if cfg.brain == BrainKind::Hybrid {
            BrainKind::Hybrid
        } else {
            BrainKind::Llm
        };
        let prompt = prompt::system_prompt_with(&cfg, &documents);
        let tools = prompt::tools(&cfg);
        let hybrid_tools = tools
            .iter()
            .filter(|t| prompt::BUILT_IN_TOOLS.contains(&t.function.name.as_str()) && t.function.name != "end_call")
            .cloned()
            .collect();
        Self {
            kind,
            rules: RulesBrain::with_documents(cfg, documents),
            prompt,
            tools,
            hybrid_tools,
        }
    }

    fn cfg(&self) -> &AgentConfig {
        self.rules.config()
    }

    fn temperature(&self) -> Option<f32> {
        self.cfg().llm.as_ref().and_then(|l| l.temperature)
    }

    /// Where the call stands, for the model.
    fn state_block(&self, s: &Session) -> String {
        let cfg = self.cfg();
        let mut p = String::from("\n\nWhere the call stands now:\n");
        let _ = writeln!(p, "- Today is {}.", s.call.today.format("%A, %Y-%m-%d"));
        if let Some(n) = &s.call.caller_number {
            let _ = writeln!(p, "- The caller's number: {n}.");
        }
        if s.call.outbound {
            let _ = writeln!(
                p,
                "- This is an outbound call you placed{}.",
                s.call
                    .purpose
                    .as_ref()
                    .map(|x| format!(", about {x}"))
                    .unwrap_or_default()
            );
        }
        let collected: Vec<String> = s
            .fields
            .iter()
            .map(|(k, v)| format!("{k} = {}", value_text(v)))
            .collect();
        let _ = writeln!(
            p,
            "- Collected: {}.",
            if collected.is_empty() {
                "nothing yet".to_owned()
            } else {
                collected.join("; ")
            }
        );
        let missing: Vec<String> = cfg
            .data_to_collect
            .iter()
            .filter(|f| !s.settled(&f.field))
            .map(|f| format!("{}{}", f.field, if f.required { " (required)" } else { "" }))
            .collect();
        if !missing.is_empty() {
            let _ = writeln!(p, "- Still to collect: {}.", missing.join(", "));
        }
        let _ = writeln!(
            p,
            "- Call type: {}.",
            s.call_type.as_deref().unwrap_or("not decided yet")
        );
        if let Some(m) = &s.message {
            let _ = writeln!(p, "- Message taken: \"{m}\".");
        }
        p
    }

    /// The request for the next move of an `llm` call.
    fn turn_request(&self, m: &ModelState) -> CompletionRequest {
        let mut messages = vec![ChatMessage::system(format!(
            "{}{}",
            self.prompt,
            self.state_block(&m.session)
        ))];
        messages.extend(m.messages.iter().cloned());
        CompletionRequest {
            model: String::new(),
            messages,
            tools: self.tools.clone(),
            tool_choice: Some(json!("auto")),
            temperature: self.temperature(),
            max_tokens: Some(300),
            stream: true,
            speak: true,
        }
    }

    /// The request of a `hybrid` turn the rules were unsure about.
    fn hybrid_request(&self, m: &ModelState, mt: &ModelTurn, why: Unsure) -> CompletionRequest {
        let s = &m.session;
        let mut sys = format!("{}{}", self.prompt, self.state_block(s));
        let _ = write!(
            sys,
            "\nYou are helping a rule-based receptionist with the caller's last words: {}. Record what those words give \
             with the tools (set_field, set_call_type, transfer_call, take_message; search_knowledge for a question). \
             Then answer with at most one short sentence (an answer to their question, or an acknowledgement), or \
             nothing. Do not ask for the next detail: the receptionist asks it after you.",
            why.says()
        );
        if let Some(f) = s.awaiting.as_deref().and_then(|f| self.cfg().field(f)) {
            let _ = write!(
                sys,
                "\nThe caller was just asked for {} ({}): \"{}\".",
                f.field,
                f.kind.name(),
                f.question
            );
        }
        let mut messages = vec![ChatMessage::system(sys)];
        // The last exchanges, for context.
        let recent: Vec<&ChatMessage> = m
            .messages
            .iter()
            .filter(|x| matches!(x.role, Role::User | Role::Assistant) && x.tool_calls.is_empty())
            .collect();
        let from = recent.len().saturating_sub(6);
        messages.extend(recent[from..].iter().map(|x| (*x).clone()));
        if !messages.last().is_some_and(|x| x.role == Role::User) {
            messages.push(ChatMessage::user(mt.text.clone()));
        }
        // The rounds of this turn so far (tool calls and results).
        let this_turn = m
            .messages
            .iter()
            .rposition(|x| x.role == Role::User)
            .map_or(&[][..], |i| &m.messages[i + 1..]);
        messages.extend(this_turn.iter().cloned());
        CompletionRequest {
            model: String::new(),
            messages,
            tools: self.hybrid_tools.clone(),
            tool_choice: Some(json!("auto")),
            temperature: self.temperature(),
            max_tokens: Some(150),
            stream: true,
            speak: false,
        }
    }

    /// The request for the summary, after the conversation.
    fn summary_request(&self, m: &ModelState) -> CompletionRequest {
        let cfg = self.cfg();
        let s = &m.session;
        let types: Vec<String> = cfg
            .call_types
            .iter()
            .map(|t| format!("{} ({})", t.name, t.description))
            .collect();
        let sys = format!(
            "You write the summary of a phone call to {} for the staff who will act on it. Answer with only a JSON \
             object: {{\"summary\": \"...\", \"call_type\": \"...\"}}. The summary is two to four short sentences: who \
             called, what they want, the key details they gave, and the next step. call_type is the best fit among: {} \
             (or null).",
            cfg.name,
            if types.is_empty() {
                "none".to_owned()
            } else {
                types.join(", ")
            }
        );
        let mut user = String::new();
        let _ = writeln!(
            user,
            "Caller's number: {}",
            s.call.caller_number.as_deref().unwrap_or("unknown")
        );
        for (k, v) in &s.fields {
            let _ = writeln!(user, "{k}: {}", value_text(v));
        }
        if let Some(t) = &s.call_type {
            let _ = writeln!(user, "Call type so far: {t}");
        }
        if let Some(msg) = &s.message {
            let _ = writeln!(user, "Message: {msg}");
        }
        if let Some(t) = &s.transferred_to {
            let _ = writeln!(user, "Transferred to {t}");
        }
        user.push_str("Transcript:\n");
        for x in &m.messages {
            let who = match x.role {
                Role::User => "Caller",
                Role::Assistant => "Receptionist",
                _ => continue,
            };
            if let Some(c) = x.content.as_deref().filter(|c| !c.trim().is_empty()) {
                let _ = writeln!(user, "{who}: {c}");
            }
        }
        CompletionRequest {
            model: String::new(),
            messages: vec![ChatMessage::system(sys), ChatMessage::user(user)],
            tools: Vec::new(),
            tool_choice: None,
            temperature: Some(0.2),
            max_tokens: Some(250),
            stream: true,
            speak: false,
        }
    }

    /// Runs the built-in tool `name` with `args`: its result for the model.
    fn built_in(
        &self,
        m: &mut ModelState,
        heard: &mut Heard,
        mt: &mut ModelTurn,
        name: &str,
        args: &Map<String, Value>,
    ) -> Value {
        let cfg = self.cfg();
        let s = &mut m.session;
        let text_arg = |k: &str| -> Option<String> {
            match args.get(k) {
                Some(Value::String(x)) if !x.trim().is_empty() => Some(x.trim().to_owned()),
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(Value::Bool(b)) => Some(b.to_string()),
                _ => None,
            }
        };
        match name {
            "set_field" => {
                let Some(field) = text_arg("field") else {
                    return tool_error("`field` is missing: name one of the fields to collect");
                };
                let Some(spec) = cfg.field(&field).cloned() else {
                    let names: Vec<&str> = cfg.data_to_collect.iter().map(|f| f.field.as_str()).collect();
                    return tool_error(&format!(
                        "there is no field `{field}`; the fields are: {}",
                        names.join(", ")
                    ));
                };
                let Some(said) = text_arg("value") else {
                    return tool_error(&format!("`value` is missing: give {field} as the caller said it"));
                };
                let fields = self.rules.prepared().fields(cfg);
                let value = fields
                    .normalize(&spec, &said, &s.ctx())
                    .or_else(|| fallback(&spec.kind, &said));
                match value {
                    Some(v) => {
                        let v = past_if_birth(&spec, v, s.call.today);
                        s.collect(&spec.field, v.clone(), heard);
                        if s.awaiting.as_deref() == Some(spec.field.as_str()) {
                            s.reasks = 0;
                        }
                        mt.acted = true;
                        json!({"stored": {"field": spec.field, "value": v}})
                    }
                    None => {
                        let problem = format!(
                            "`{said}` is not a valid {} for {field}{}; nothing was stored: ask the caller again",
                            type_words(&spec.kind),
                            hint(&spec.kind)
                        );
                        m.events.push(BrainEvent {
                            turn: s.turns,
                            ..BrainEvent::new("refused", Some("invalid_value"), None, Some(&problem))
                        });
                        tool_error(&problem)
                    }
                }
            }
            "set_call_type" => {
                let Some(t) = text_arg("call_type") else {
                    return tool_error("`call_type` is missing");
                };
                let Some(ct) = cfg.call_type(&t).cloned() else {
                    let names: Vec<&str> = cfg.call_types.iter().map(|t| t.name.as_str()).collect();
                    return tool_error(&format!(
                        "there is no call type `{t}`; the types are: {}",
                        names.join(", ")
                    ));
                };
                s.set_type(&ct.name, heard);
                mt.acted = true;
                match ct.action {
                    // The business's rule holds whatever the model does next.
                    Some(CallAction::Transfer) if cfg.transfer.is_some() => {
                        s.transfer(cfg, &format!("{}: {}", ct.name, mt.text), true, heard);
                        json!({"stored": {"call_type": ct.name}, "transferred": true})
                    }
                    Some(CallAction::Message) => {
                        s.start_message(cfg, self.rules.prepared(), heard);
                        json!({"stored": {"call_type": ct.name}, "next": "take the caller's message with take_message"})
                    }
                    _ => json!({"stored": {"call_type": ct.name}}),
                }
            }
            "transfer_call" => {
                let reason = text_arg("reason").unwrap_or_else(|| "caller asked for a person".into());
                if s.transfer(cfg, &reason, false, heard) {
                    mt.acted = true;
                    json!({"transferred": true})
                } else {
                    tool_error("nobody can take a transfer at this business: offer to take a message instead")
                }
            }
            "take_message" => {
                let Some(msg) = text_arg("message") else {
                    return tool_error("`message` is missing: write down what the caller wants passed on");
                };
                if !s.message_mode {
                    s.start_message(cfg, self.rules.prepared(), heard);
                }
                s.take_message(&msg, heard);
                mt.acted = true;
                json!({"stored": {"message": s.message}})
            }
            "search_knowledge" => {
                let query = text_arg("query").unwrap_or_else(|| mt.text.clone());
                let found = self.rules.search(&query, SEARCH_PASSAGES);
                let mut results: Vec<Value> = found
                    .iter()
                    .map(|p| json!({"source": p.source, "text": speech::render(&p.text, &s.variables(cfg))}))
                    .collect();
                if results.is_empty()
                    && let Some(a) = crate::knowledge::business_answer(&cfg.business, &query)
                {
                    results.push(json!({"source": "business details", "text": a}));
                }
                mt.acted = true;
                if results.is_empty() {
                    json!({"results": [], "note": "nothing found: say you will pass the question on; do not guess"})
                } else {
                    json!({ "results": results })
                }
            }
            "end_call" => {
                s.end(EndReason::Completed, heard);
                mt.acted = true;
                json!({"ended": true})
            }
            other => tool_error(&format!("there is no tool `{other}`")),
        }
    }

    /// The model's answer to a turn: its words and its tool calls.
    fn take_completion(&self, m: &mut ModelState, turn: &mut Turn, c: Completion) {
        let Some(mut mt) = turn.model.take() else { return };
        let text = c.message.content.clone().unwrap_or_default();
        let calls: Vec<ToolCall> = c.message.tool_calls.clone();
        let mut said = ChatMessage::assistant(text.clone());
        said.tool_calls.clone_from(&calls);
        if said.content.as_deref().is_some_and(str::is_empty) && !calls.is_empty() {
            said.content = None;
        }
        m.push(said);
        if !text.trim().is_empty() {
            mt.said.push(text.trim().to_owned());
        }
        let mut needs_reading = false;
        for call in &calls {
            let name = call.function.name.as_str();
            let Some(args) = call.function.arguments_object() else {
                m.push(ChatMessage::tool(
                    call.id.clone(),
                    tool_error("the arguments are not a JSON object; call the tool again with a JSON object")
                        .to_string(),
                ));
                needs_reading = true;
                continue;
            };
            if let Some(spec) = self.cfg().tools.iter().find(|t| t.tool_name == name).cloned() {
                if self.kind == BrainKind::Hybrid {
                    m.push(ChatMessage::tool(
                        call.id.clone(),
                        tool_error("the receptionist calls this tool itself").to_string(),
                    ));
                    continue;
                }
                let mut vars = m.session.variables(self.cfg());
                for p in &spec.parameters {
                    let v = args.get(&p.name).cloned().unwrap_or(Value::Null);
                    if !v.is_null() || !vars.contains_key(&p.name) {
                        vars.insert(p.name.clone(), v);
                    }
                }
                if !m.session.tools_called.contains(&spec.tool_name) {
                    m.session.tools_called.push(spec.tool_name.clone());
                }
                mt.http.push(ToolRequest {
                    id: call.id.clone(),
                    tool: spec,
                    vars,
                });
                needs_reading = true;
                continue;
            }
            let result = self.built_in(m, &mut turn.heard, &mut mt, name, &args);
            if result.get("error").is_some() || name == "search_knowledge" {
                needs_reading = true;
            }
            m.push(ChatMessage::tool(call.id.clone(), result.to_string()));
        }
        // Words the rules' steps said (a transfer's line) follow the model's; the
        // hybrid brain's rules lead is composed in `respond`.
        if self.kind == BrainKind::Llm {
            mt.said.append(&mut turn.heard.lead);
        }
        let ended = m.session.ended();
        let another = !ended
            && mt.rounds < self.max_rounds()
            && (needs_reading || (self.kind == BrainKind::Llm && mt.said.is_empty() && !calls.is_empty()));
        mt.asking = if another { Asking::Turn } else { Asking::Nothing };
        turn.model = Some(mt);
    }

    fn max_rounds(&self) -> u8 {
        if self.kind == BrainKind::Hybrid { 2 } else { MAX_ROUNDS }
    }

    /// No model answered a turn: the rules take it.
    fn rules_take(&self, m: &mut ModelState, turn: &mut Turn, err: &CompletionError) {
        let Some(mut mt) = turn.model.take() else { return };
        m.events.push(BrainEvent {
            turn: m.session.turns,
            ..BrainEvent::new("rules", Some(reason_of(err)), None, Some(&err.message))
        });
        if self.kind == BrainKind::Llm && !mt.by_rules {
            mt.by_rules = true;
            if mt.rounds <= 1 && !mt.acted && mt.said.is_empty() {
                // Nothing of the model's stands: the rules hear the words afresh.
                let s = &mut m.session;
                s.turns = s.turns.saturating_sub(1);
                if mt.first {
                    s.opening = None;
                }
                if mt.was_opening {
                    s.phase = Phase::Opening;
                }
                let heard = m.session.hear_prepared(self.cfg(), self.rules.prepared(), &mt.text);
                merge(&mut turn.heard, heard);
            }
        }
        mt.asking = Asking::Nothing;
        turn.model = Some(mt);
    }

    fn take_summary(&self, m: &mut ModelState, turn: &mut Turn, c: &Completion) {
        let text = c.message.content.clone().unwrap_or_default();
        let text = text.trim();
        let parsed = text
            .find('{')
            .zip(text.rfind('}'))
            .and_then(|(a, b)| serde_json::from_str::<Value>(&text[a..=b]).ok());
        let (summary, call_type) = match &parsed {
            Some(v) => (
                v.get("summary")
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .map(str::to_owned),
                v.get("call_type").and_then(Value::as_str).map(str::to_owned),
            ),
            None => (
                (!text.is_empty() && !text.starts_with('{')).then(|| text.to_owned()),
                None,
            ),
        };
        if let Some(s) = summary.filter(|s| !s.is_empty()) {
            m.summary = Some(s.chars().take(1200).collect());
        }
        if let Some(t) = call_type
            && let Some(ct) = self.cfg().call_type(&t)
            && m.session.call_type.as_deref() != Some(ct.name.as_str())
            && m.session.transferred_to.is_none()
        {
            let name = ct.name.clone();
            m.events.push(BrainEvent {
                turn: m.session.turns,
                ..BrainEvent::new(
                    "call_type_checked",
                    None,
                    None,
                    Some(&format!(
                        "{} -> {name}",
                        m.session.call_type.as_deref().unwrap_or("none")
                    )),
                )
            });
            m.session.set_type(&name, &mut turn.heard);
        }
    }

    /// The hybrid brain's reason to ask about a turn the rules just heard, if any.
    fn unsure(&self, before: &Session, after: &Session, heard: &Heard, text: &str) -> Option<Unsure> {
        let cfg = self.cfg();
        if after.ended() {
            return None;
        }
        if heard.lead.iter().any(|l| l == NOT_SURE) {
            return Some(Unsure::NoKnowledge);
        }
        if let Some(f) = before.awaiting.as_deref()
            && f != MESSAGE_FIELD
            && !after.fields.contains_key(f)
            && (heard.reask || after.skipped.iter().any(|x| x == f) && !before.skipped.iter().any(|x| x == f))
        {
            return Some(Unsure::Unparsed);
        }
        // The caller's reason for calling matched no type (the rules then take the
        // catch-all or the agent's main type, or none).
        let opening = before.phase == Phase::Opening || before.opening.is_none();
        if opening
            && cfg.call_types.len() > 1
            && !after.message_mode
            && after.transferred_to.is_none()
            && self.rules.prepared().types(cfg).score(text).best(1.0).is_none()
        {
            return Some(Unsure::NoCallType);
        }
        let used = !heard.actions.is_empty() || heard.lead.iter().any(|l| l != "Okay, I've made a note of that.");
        if !used && Words::new(text).len() >= 3 && !nlu::is_done(text) {
            return Some(Unsure::Unused);
        }
        None
    }
}

/// A tool error for the model.
fn tool_error(problem: &str) -> Value {
    json!({ "error": problem })
}

fn type_words(kind: &FieldType) -> String {
    match kind {
        FieldType::Enum { options } => format!("choice (one of: {})", options.join(", ")),
        other => other.name().to_owned(),
    }
}

fn hint(kind: &FieldType) -> &'static str {
    match kind {
        FieldType::Email => " (an email address looks like name@example.com)",
        FieldType::Phone => " (a phone number with its area code)",
        FieldType::Date => " (a calendar date)",
        FieldType::Time => " (a time of day)",
        FieldType::Number => " (a number)",
        FieldType::Money => " (an amount of money)",
        FieldType::Boolean => " (yes or no)",
        _ => "",
    }
}

/// Adds what `more` heard to `heard`.
fn merge(heard: &mut Heard, more: Heard) {
    heard.lead.extend(more.lead);
    heard.actions.extend(more.actions);
    heard.reask |= more.reask;
}

impl Brain for ModelBrain {
    fn kind(&self) -> BrainKind {
        self.kind
    }

    fn config(&self) -> &AgentConfig {
        self.cfg()
    }

    fn start(&self, call: CallInfo) -> (State, Reply) {
        let (s, reply) = Session::start(self.cfg(), call);
        let mut m = ModelState::new(s);
        m.push(ChatMessage::assistant(reply.say.text()));
        (State::from_model(self.kind, m), reply)
    }

    fn hear(&self, state: &mut State, input: Input) -> Turn {
        let cfg = self.cfg();
        let m = state.model_mut(self.kind);
        let text = match input {
            Input::Speech { text, .. } if !m.session.ended() && !Words::new(&text).is_empty() => text,
            Input::Speech { .. } | Input::Silence => return Turn::new(m.session.silence(cfg)),
            Input::HangUp(reason) => return Turn::new(m.session.hang_up(reason)),
            Input::RecordedMessage(note) => return Turn::new(m.session.recorded_message(&note)),
        };
        let text = text.trim().to_owned();
        m.push(ChatMessage::user(text.clone()));
        if self.kind == BrainKind::Hybrid {
            let before = m.session.clone();
            let heard = m.session.hear_prepared(cfg, self.rules.prepared(), &text);
            let unsure = self.unsure(&before, &m.session, &heard, &text);
            let mut turn = Turn::new(heard);
            turn.model = Some(ModelTurn {
                text,
                asking: if unsure.is_some() {
                    Asking::Turn
                } else {
                    Asking::Nothing
                },
                unsure,
                ..ModelTurn::default()
            });
            return turn;
        }
        // What the rules guarantee holds without asking: a caller asking for a person,
        // or calling about a type the business transfers at once, is transferred.
        let pre = self.rules.prepared();
        let taking_message = m.session.awaiting.as_deref() == Some(MESSAGE_FIELD);
        if cfg.transfer.is_some()
            && !taking_message
            && (pre.person(cfg).asks(&text) || pre.types(cfg).urgent(&text, false).is_some())
        {
            let heard = m.session.hear_prepared(cfg, pre, &text);
            let mut turn = Turn::new(heard);
            turn.model = Some(ModelTurn {
                text,
                by_rules: true,
                ..ModelTurn::default()
            });
            return turn;
        }
        let s = &mut m.session;
        s.silences = 0;
        s.turns += 1;
        let first = s.opening.is_none();
        if first {
            s.opening = Some(text.clone());
        }
        let was_opening = s.phase == Phase::Opening;
        if was_opening {
            s.phase = Phase::Collecting;
        }
        let mut turn = Turn::new(Heard::default());
        turn.model = Some(ModelTurn {
            text,
            asking: Asking::Turn,
            first,
            was_opening,
            ..ModelTurn::default()
        });
        turn
    }

    fn next(&self, state: &mut State, turn: &mut Turn) -> Need {
        let cfg = self.cfg();
        let m = state.model_mut(self.kind);
        // Model tool calls handed out and never answered: the model hears so.
        if let Some(mt) = turn.model.as_mut() {
            for id in std::mem::take(&mut mt.model_pending) {
                m.push(ChatMessage::tool(
                    id.clone(),
                    tool_error("not run: out of time in this turn").to_string(),
                ));
                turn.pending.retain(|p| *p != id);
            }
        }
        if turn.model.is_none() {
            turn.model = Some(ModelTurn::default());
        }
        let Some(mt) = turn.model.as_mut() else {
            return Need::Nothing;
        };
        if !mt.http.is_empty() {
            let requests = std::mem::take(&mut mt.http);
            mt.model_pending = requests.iter().map(|r| r.id.clone()).collect();
            turn.pending.extend(mt.model_pending.iter().cloned());
            return Need::Tools(requests);
        }
        if mt.asking == Asking::Turn && !mt.by_rules {
            mt.asking = Asking::Nothing;
            mt.rounds += 1;
            mt.waiting = Asking::Turn;
            if mt.rounds == 1 {
                m.model_turns += 1;
            }
            let request = match mt.unsure {
                Some(why) => self.hybrid_request(m, mt, why),
                None => self.turn_request(m),
            };
            return Need::Completion(request);
        }
        // The rules' tools: those ready by the rules (hybrid), and at the call's end
        // every tool not yet called (both).
        if self.kind == BrainKind::Hybrid || m.session.ended() {
            let s = &mut m.session;
            if !turn.pending.is_empty() {
                let left = std::mem::take(&mut turn.pending);
                let names: Vec<&str> = left.iter().map(String::as_str).collect();
                s.defer_tools(&names);
                turn.deferred.extend(left);
            }
            let ready = s.ready_tools_except(cfg, &turn.deferred);
            if !ready.is_empty() {
                turn.pending = ready.iter().map(|r| r.id.clone()).collect();
                return Need::Tools(ready);
            }
        }
        let Some(mt) = turn.model.as_mut() else {
            return Need::Nothing;
        };
        if m.session.ended() && !mt.summary_asked && m.summary.is_none() {
            mt.summary_asked = true;
            mt.waiting = Asking::Summary;
            return Need::Completion(self.summary_request(m));
        }
        Need::Nothing
    }

    fn tool_result(&self, state: &mut State, turn: &mut Turn, id: &str, outcome: ToolOutcome) {
        let cfg = self.cfg();
        let m = state.model_mut(self.kind);
        turn.pending.retain(|p| p != id);
        let model_call = turn.model.as_mut().is_some_and(|mt| {
            let was = mt.model_pending.iter().any(|p| p == id);
            mt.model_pending.retain(|p| p != id);
            was
        });
        if !model_call {
            m.session.tool_result(cfg, outcome, &mut turn.heard);
            return;
        }
        let content = json!({"say": outcome.say, "fields": outcome.fields});
        let mut heard = Heard::default();
        m.session.tool_result(cfg, outcome, &mut heard);
        m.push(ChatMessage::tool(
            id,
            json!({"result": content, "note": "anything under `say` has been said to the caller already"}).to_string(),
        ));
        if let Some(mt) = turn.model.as_mut() {
            mt.said.append(&mut heard.lead);
            turn.heard.actions.append(&mut heard.actions);
            mt.acted = true;
            if !m.session.ended() && mt.rounds < self.max_rounds() && !mt.by_rules {
                mt.asking = Asking::Turn;
            }
        }
    }

    fn completion_result(&self, state: &mut State, turn: &mut Turn, result: Result<Completion, CompletionError>) {
        let m = state.model_mut(self.kind);
        let waiting = turn.model.as_mut().map(|mt| std::mem::take(&mut mt.waiting));
        match (waiting, result) {
            (Some(Asking::Summary), Ok(c)) => self.take_summary(m, turn, &c),
            (Some(Asking::Summary), Err(e)) => m.events.push(BrainEvent {
                turn: m.session.turns,
                ..BrainEvent::new("rules_summary", Some(reason_of(&e)), None, Some(&e.message))
            }),
            (Some(Asking::Turn), Ok(c)) if c.message.tool_calls.is_empty() && text_of(&c).is_empty() => {
                self.rules_take(
                    m,
                    turn,
                    &CompletionError::new("the model answered with neither words nor a tool call"),
                );
            }
            (Some(Asking::Turn), Ok(c)) => self.take_completion(m, turn, c),
            (Some(Asking::Turn), Err(e)) => self.rules_take(m, turn, &e),
            _ => {}
        }
    }

    fn defer_tools(&self, state: &mut State, turn: &mut Turn, ids: &[&str]) {
        let m = state.model_mut(self.kind);
        turn.pending.retain(|p| !ids.contains(&p.as_str()));
        let mut rules_ids = Vec::new();
        for id in ids {
            let model_call = turn.model.as_mut().is_some_and(|mt| {
                let was = mt.model_pending.iter().any(|p| p == id);
                mt.model_pending.retain(|p| p != id);
                was
            });
            if model_call {
                m.push(ChatMessage::tool(
                    *id,
                    tool_error("not run: out of time in this turn").to_string(),
                ));
            } else {
                rules_ids.push(*id);
                if !turn.deferred.iter().any(|d| d == id) {
                    turn.deferred.push((*id).to_owned());
                }
            }
        }
        m.session.defer_tools(&rules_ids);
    }

    fn tools_ran(&self, state: &mut State, names: &[&str]) -> Vec<String> {
        state.model_mut(self.kind).session.tools_ran(names)
    }

    fn respond(&self, state: &mut State, mut turn: Turn) -> Reply {
        let cfg = self.cfg();
        let kind = self.kind;
        let m = state.model_mut(kind);
        if !turn.pending.is_empty() {
            let names: Vec<&str> = turn.pending.iter().map(String::as_str).collect();
            m.session.defer_tools(&names);
            turn.pending.clear();
        }
        let mt = turn.model.take().unwrap_or_default();
        let reply = if kind == BrainKind::Hybrid || mt.by_rules || mt.text.is_empty() {
            let mut heard = turn.heard;
            if kind == BrainKind::Hybrid && mt.unsure.is_some() && !mt.by_rules {
                let answered = m
                    .session
                    .awaiting
                    .as_deref()
                    .is_some_and(|f| m.session.fields.contains_key(f));
                if answered {
                    // The model read the answer the rules could not.
                    heard.reask = false;
                    heard
                        .lead
                        .retain(|l| l != "I understand, but we do need this to help you.");
                }
                if !mt.said.is_empty() {
                    // The model's sentence takes the place of the rules' unsure one.
                    heard.lead.retain(|l| {
                        !(l == NOT_SURE || l == "Okay, I've made a note of that." || l == "I can help you with that.")
                    });
                    let mut lead = mt.said.clone();
                    lead.append(&mut heard.lead);
                    heard.lead = lead;
                }
            } else if kind == BrainKind::Llm {
                // The model's words of this turn (if any) come first.
                let mut lead = mt.said.clone();
                lead.append(&mut heard.lead);
                heard.lead = lead;
            }
            m.session.respond(cfg, heard)
        } else {
            let s = &mut m.session;
            let mut say = mt.said.clone();
            say.append(&mut turn.heard.lead);
            if s.ended() {
                s.awaiting = None;
                if s.end_reason == Some(EndReason::Completed) && !say.iter().any(|x| x.to_lowercase().contains("bye")) {
                    say.push(speech::render(&cfg.closing, &s.variables(cfg)));
                }
            } else {
                s.awaiting = if s.message_mode && s.message.is_none() && !s.settled(MESSAGE_FIELD) {
                    Some(MESSAGE_FIELD.to_owned())
                } else {
                    s.next_field(cfg).map(|f| f.field.clone())
                };
                if say.is_empty() {
                    // The model acted but said nothing: the rules ask the next question.
                    let r = s.respond(cfg, turn.heard);
                    return self.finish_reply(m, r);
                }
            }
            Reply {
                say: Speech::from_parts(&say),
                awaiting_field: if s.ended() { None } else { s.awaiting.clone() },
                ended: s.ended(),
                transferred_to: if s.ended() { s.transferred_to.clone() } else { None },
                actions: turn.heard.actions,
            }
        };
        self.finish_reply(m, reply)
    }

    fn view(&self, state: &State) -> View {
        view_of(self.cfg(), state)
    }

    fn summary(&self, state: &State) -> String {
        match state.model() {
            Some(m) if m.summary.is_some() => m.summary.clone().unwrap_or_default(),
            _ => summarize(self.cfg(), state.session()),
        }
    }

    fn variables(&self, state: &State) -> Map<String, Value> {
        state.session().variables(self.cfg())
    }
}

impl ModelBrain {
    /// Keeps the receptionist's words in the conversation.
    fn finish_reply(&self, m: &mut ModelState, reply: Reply) -> Reply {
        let text = reply.say.text();
        if !text.is_empty() {
            // The model's own words are already there as its message.
            let last_is_same = m
                .messages
                .iter()
                .rev()
                .find(|x| x.role == Role::Assistant)
                .and_then(|x| x.content.as_deref())
                .is_some_and(|c| c.trim() == text.trim());
            if !last_is_same {
                m.push(ChatMessage::assistant(text));
            }
        }
        reply
    }
}

/// The fallback metric's label for a completion that failed.
fn reason_of(e: &CompletionError) -> &'static str {
    e.reason
}

fn text_of(c: &Completion) -> String {
    c.message.content.as_deref().unwrap_or_default().trim().to_owned()
}

/// The record's view of a state, whatever its brain (the rules brain's and a model
/// brain's agree on everything the rules keep).
pub(crate) fn view_of(cfg: &AgentConfig, state: &State) -> View {
    let s = state.session();
    let text_of = |v: Option<Value>| v.and_then(|v| v.as_str().map(str::to_owned));
    let (events, model_turns) = state
        .model()
        .map_or((Vec::new(), 0), |m| (m.events.clone(), m.model_turns));
    View {
        fields: s.fields.clone(),
        call_type: s.call_type.clone(),
        message: s.message.clone(),
        transferred_to: s.transferred_to.clone(),
        transfer_reason: s.transfer_reason.clone(),
        end_reason: s.end_reason,
        ended: s.ended(),
        awaiting_field: s.awaiting.clone(),
        caller_name: text_of(s.first_of(cfg, &FieldType::Name)),
        caller_email: text_of(s.first_of(cfg, &FieldType::Email)),
        turns: s.turns,
        model_turns,
        brain_events: events,
    }
}
