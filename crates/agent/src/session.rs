//! One call's conversation: state, and the rules brain that moves it along.
//!
//! [`Session`] is the rules brain's state (what [`crate::brain::State`] holds for a
//! call on the `rules` brain, and what is stored as the call's `session` JSON). Its
//! methods below are the original interface, kept for the callers that have not moved
//! to [`crate::brain::Brain`] yet; they prepare on every call the parts of the
//! configuration a turn uses ([`crate::rules::Prepared`]), where
//! [`crate::rules::RulesBrain`] prepares all of it once. The rules are the same either
//! way, and so are the words: `RulesBrain` runs on the methods here.
//!
//! A turn runs in two steps so that tools (HTTP calls the engine does not make itself)
//! can run between them:
//! 1. [`Session::hear`] takes the caller's words and updates the state: fields
//!    collected, call type, message, transfer, end. It returns a [`Heard`] with what to
//!    say first (answers, acknowledgements) and the actions taken.
//! 2. [`Session::ready_tools`] lists tools whose parameters are all known (or every
//!    tool not yet called, once the call ends); the caller runs them and hands each result
//!    to [`Session::tool_result`].
//! 3. [`Session::respond`] picks what to ask next (the next missing field, "anything
//!    else?", or the closing) and returns the [`Reply`].
//!
//! Besides the caller's words, a turn may start with silence ([`Session::silence`],
//! also what words without a word in them are), a hang-up ([`Session::hang_up`]) or a
//! recorded message ([`Session::recorded_message`]).
//!
//! Everything is deterministic and offline; the state serialises to JSON so that any
//! node can carry a call on from the store.

use chrono::NaiveDate;
use frontdesk_core::agent::config::{AgentConfig, CallAction, FieldSpec, ToolSpec};
use frontdesk_core::fields::{Context, FieldType, normalize};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::extract::Fields;
use crate::knowledge;
use crate::nlu::{self, Words, phrases};
use crate::rules::Prepared;
use crate::speech::{self, Speech};

/// What `awaiting_field` says while the receptionist takes a message.
pub const MESSAGE_FIELD: &str = "message";

/// What the engine knows about the call around the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallInfo {
    pub call_id: String,
    /// The other party's number (E.164), for "the number I'm calling from".
    pub caller_number: Option<String>,
    /// The business's number on this call.
    pub business_number: String,
    /// The call's local date, for relative dates.
    pub today: NaiveDate,
    pub outbound: bool,
    /// Why an outbound call was placed.
    pub purpose: Option<String>,
}

/// Where the conversation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Greeted; waiting for the caller to say why they call.
    Opening,
    /// Asking for fields (or the message).
    Collecting,
    /// Everything asked; "anything else?" was said.
    Wrapping,
    Ended,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The receptionist closed the call.
    Completed,
    Transferred,
    CallerHangup,
    /// Hung up through the API.
    ApiHangup,
    /// The caller said nothing, three times in a row.
    NoInput,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Transferred => "transferred",
            Self::CallerHangup => "caller_hangup",
            Self::ApiHangup => "api_hangup",
            Self::NoInput => "no_input",
        }
    }
}

/// Something the turn did that the world should hear about (each becomes an event).
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A field's value, new or corrected.
    Collected {
        field: String,
        value: Value,
    },
    CallType(String),
    Message(String),
    Transfer {
        to: String,
        reason: String,
    },
    End(EndReason),
}

/// A tool to call, with its parameters' values.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolRequest {
    /// What identifies this request when its result is handed back
    /// ([`crate::brain::Brain::tool_result`]): the tool's name for the rules brain, the
    /// model's tool call id for a model.
    pub id: String,
    pub tool: ToolSpec,
    /// Every call variable, collected field and parameter, for the templates.
    pub vars: Map<String, Value>,
}

/// What a tool answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolOutcome {
    /// Text to speak (`{"say": "..."}`).
    pub say: Option<String>,
    /// Other top-level keys of a JSON object reply.
    pub fields: Map<String, Value>,
}

/// The first half of a turn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Heard {
    /// Said before the next question.
    pub lead: Vec<String>,
    pub actions: Vec<Action>,
    /// Ask the awaited field again (it did not parse).
    pub(crate) reask: bool,
}

pub use crate::brain::Reply;

/// A call's conversation state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub call: CallInfo,
    pub phase: Phase,
    pub call_type: Option<String>,
    /// Collected fields, in the order collected.
    pub fields: Map<String, Value>,
    /// Fields the caller declined or that did not parse twice.
    pub skipped: Vec<String>,
    pub awaiting: Option<String>,
    /// Times the awaited field was asked again.
    pub reasks: u8,
    pub message_mode: bool,
    pub message: Option<String>,
    pub transferred_to: Option<String>,
    pub transfer_reason: Option<String>,
    pub tools_called: Vec<String>,
    /// Caller remarks after "anything else?" and questions nobody could answer.
    pub notes: Vec<String>,
    /// The caller's first words, for the summary.
    pub opening: Option<String>,
    pub end_reason: Option<EndReason>,
    pub turns: u32,
    /// Replies in "anything else?" that were neither done nor a question.
    pub extra_rounds: u8,
    /// Turns in a row in which the caller said nothing (telephony timeouts).
    #[serde(default)]
    pub silences: u8,
}

pub(crate) const NOT_SURE: &str = "I'm not sure about that, but I'll make a note so someone can get back to you.";

const ACKS: [&str; 5] = ["Got it.", "Thank you.", "Great.", "Perfect.", "Thanks."];

pub(crate) const NOT_CAUGHT: &str = "Sorry, I didn't catch that.";

impl Session {
    /// A new call: the greeting (or, outbound, the introduction) is the first reply.
    pub fn start(cfg: &AgentConfig, call: CallInfo) -> (Self, Reply) {
        let s = Self {
            call,
            phase: Phase::Opening,
            call_type: None,
            fields: Map::new(),
            skipped: Vec::new(),
            awaiting: None,
            reasks: 0,
            message_mode: false,
            message: None,
            transferred_to: None,
            transfer_reason: None,
            tools_called: Vec::new(),
            notes: Vec::new(),
            opening: None,
            end_reason: None,
            turns: 0,
            extra_rounds: 0,
            silences: 0,
        };
        let vars = s.variables(cfg);
        let say = if s.call.outbound {
            let who = cfg.business.owner_name.as_deref().unwrap_or(&cfg.name);
            match &s.call.purpose {
                Some(p) => {
                    format!("Hi, this is the virtual receptionist from {who}, calling about {p}. Is now a good time?")
                }
                None => format!("Hi, this is the virtual receptionist from {who}. How can I help you today?"),
            }
        } else {
            speech::render(&cfg.greeting, &vars)
        };
        let reply = Reply {
            say: Speech::from_parts(&[say]),
            awaiting_field: None,
            ended: false,
            transferred_to: None,
            actions: Vec::new(),
        };
        (s, reply)
    }

    pub fn ended(&self) -> bool {
        self.phase == Phase::Ended
    }

    pub(crate) fn ctx(&self) -> Context {
        Context {
            caller_number: self.call.caller_number.clone(),
            today: self.call.today,
        }
    }

    /// The template variables of this call: business details, call details, collected
    /// fields.
    pub fn variables(&self, cfg: &AgentConfig) -> Map<String, Value> {
        let mut v = Map::new();
        let b = &cfg.business;
        for (k, x) in [
            ("owner_name", &b.owner_name),
            ("website", &b.website),
            ("booking_url", &b.booking_url),
            ("hours", &b.hours),
        ] {
            v.insert(k.into(), x.clone().map_or(Value::Null, Value::String));
        }
        v.insert("agent_name".into(), Value::String(cfg.name.clone()));
        v.insert("call_id".into(), Value::String(self.call.call_id.clone()));
        v.insert(
            "caller_number".into(),
            self.call.caller_number.clone().map_or(Value::Null, Value::String),
        );
        v.insert(
            "receiving_number".into(),
            Value::String(self.call.business_number.clone()),
        );
        v.insert(
            "call_type".into(),
            self.call_type.clone().map_or(Value::Null, Value::String),
        );
        v.insert(
            "message".into(),
            self.message.clone().map_or(Value::Null, Value::String),
        );
        v.insert(
            "caller_name".into(),
            self.first_of(cfg, &FieldType::Name).unwrap_or(Value::Null),
        );
        v.insert(
            "caller_email".into(),
            self.first_of(cfg, &FieldType::Email).unwrap_or(Value::Null),
        );
        // A configured field is the field, collected or not (a vet's `owner_name` is the
        // pet owner, not the business).
        for f in &cfg.data_to_collect {
            v.insert(
                f.field.clone(),
                self.fields.get(&f.field).cloned().unwrap_or(Value::Null),
            );
        }
        v
    }

    /// The first collected value of a field of this type.
    pub fn first_of(&self, cfg: &AgentConfig, kind: &FieldType) -> Option<Value> {
        cfg.data_to_collect
            .iter()
            .filter(|f| f.kind == *kind)
            .find_map(|f| self.fields.get(&f.field).cloned())
    }

    pub(crate) fn settled(&self, field: &str) -> bool {
        self.fields.contains_key(field) || self.skipped.iter().any(|s| s == field)
    }

    pub(crate) fn collect(&mut self, field: &str, value: Value, heard: &mut Heard) {
        if self.fields.get(field) == Some(&value) {
            return;
        }
        self.fields.insert(field.to_owned(), value.clone());
        self.skipped.retain(|s| s != field);
        heard.actions.push(Action::Collected {
            field: field.to_owned(),
            value,
        });
    }

    pub(crate) fn set_type(&mut self, name: &str, heard: &mut Heard) {
        if self.call_type.as_deref() != Some(name) {
            self.call_type = Some(name.to_owned());
            heard.actions.push(Action::CallType(name.to_owned()));
        }
    }

    pub(crate) fn end(&mut self, reason: EndReason, heard: &mut Heard) {
        if self.phase != Phase::Ended {
            self.phase = Phase::Ended;
            self.awaiting = None;
            self.end_reason = Some(reason);
            heard.actions.push(Action::End(reason));
        }
    }

    pub(crate) fn transfer(&mut self, cfg: &AgentConfig, reason: &str, urgent: bool, heard: &mut Heard) -> bool {
        let Some(t) = &cfg.transfer else {
            return false;
        };
        self.transferred_to = Some(t.number.clone());
        self.transfer_reason = Some(reason.to_owned());
        heard.actions.push(Action::Transfer {
            to: t.number.clone(),
            reason: reason.to_owned(),
        });
        heard.lead.push(if urgent {
            "That sounds urgent. I'm connecting you with someone right now, please stay on the line.".to_owned()
        } else {
            "Of course. Let me transfer you to someone who can help. One moment, please.".to_owned()
        });
        self.end(EndReason::Transferred, heard);
        true
    }

    /// The caller hung up (or the call was ended through the API).
    pub fn hang_up(&mut self, reason: EndReason) -> Heard {
        let mut heard = Heard::default();
        self.end(reason, &mut heard);
        heard
    }

    /// The caller said nothing before the telephony gave up listening (or said
    /// something without a word in it). One rule, counted over silent turns in a row:
    /// - the first silence asks the question again ("Sorry, I didn't catch that.");
    /// - a second moves on: the awaited field is skipped ("No problem, someone will
    ///   confirm that with you later.", then the next question), the message is left
    ///   untaken, and in the opening the receptionist starts on the fields to collect
    ///   (an agent without fields asks once more);
    /// - a third ends the call politely, [`EndReason::NoInput`].
    ///
    /// After "anything else?", silence is taken as "no", and the call closes as usual.
    /// A word from the caller starts the count again. Answer with [`Session::respond`]
    /// like any turn.
    pub fn silence(&mut self, cfg: &AgentConfig) -> Heard {
        let mut heard = Heard::default();
        if self.phase == Phase::Ended {
            return heard;
        }
        self.silences = self.silences.saturating_add(1);
        if self.phase == Phase::Wrapping {
            self.end(EndReason::Completed, &mut heard);
        } else if self.silences >= 3 {
            heard
                .lead
                .push("I'm sorry, I still can't hear you. Please call us back when you can. Goodbye.".into());
            self.end(EndReason::NoInput, &mut heard);
        } else if self.silences == 1 {
            if self.phase == Phase::Opening {
                heard.lead.push(format!("{NOT_CAUGHT} How can I help you today?"));
            } else {
                heard.lead.push(NOT_CAUGHT.into());
            }
        } else if self.phase == Phase::Opening {
            if cfg.data_to_collect.is_empty() {
                heard.lead.push("Are you still there? How can I help you today?".into());
            } else {
                self.phase = Phase::Collecting;
                heard
                    .lead
                    .push("I'm having trouble hearing you, so let me take a few details.".into());
            }
        } else {
            match self.awaiting.clone() {
                Some(f) if f == MESSAGE_FIELD => {
                    self.skip(MESSAGE_FIELD);
                    heard.lead.push("No problem, I'll let them know you called.".into());
                }
                Some(f) => {
                    self.skip(&f);
                    heard
                        .lead
                        .push("No problem, someone will confirm that with you later.".into());
                }
                None => heard.lead.push(NOT_CAUGHT.into()),
            }
        }
        heard
    }

    /// A message left as a recording (a voicemail): `note` is what stands for it in the
    /// call's `message` (for example the recording's length and address). Works on a
    /// call that has ended too (a voicemail after a transfer nobody answered). Answer
    /// with [`Session::respond`].
    pub fn recorded_message(&mut self, note: &str) -> Heard {
        let mut heard = Heard::default();
        self.message_mode = true;
        let m = match &self.message {
            Some(old) => format!("{old} {note}"),
            None => note.to_owned(),
        };
        self.message = Some(m.clone());
        heard.actions.push(Action::Message(m));
        heard
    }

    /// Step one of a turn: understand what the caller said. Words without a word in
    /// them (an empty result) are silence ([`Session::silence`]).
    pub fn hear(&mut self, cfg: &AgentConfig, text: &str) -> Heard {
        if self.phase == Phase::Ended {
            return Heard::default();
        }
        if Words::new(text).is_empty() {
            return self.silence(cfg);
        }
        let pre = Prepared::lazy(cfg);
        self.hear_prepared(cfg, &pre, text)
    }

    /// [`Session::hear`] with the configuration prepared beforehand.
    pub(crate) fn hear_prepared(&mut self, cfg: &AgentConfig, pre: &Prepared, text: &str) -> Heard {
        let mut heard = Heard::default();
        if self.phase == Phase::Ended {
            return heard;
        }
        let text = text.trim();
        if Words::new(text).is_empty() {
            return self.silence(cfg);
        }
        self.silences = 0;
        self.turns += 1;
        let first = self.opening.is_none();
        if first {
            self.opening = Some(text.to_owned());
        }
        let awaiting_message = self.awaiting.as_deref() == Some(MESSAGE_FIELD);

        // A person, asked for: at once.
        if !awaiting_message && pre.person(cfg).asks(text) {
            if self.transfer(cfg, "caller asked for a person", false, &mut heard) {
                return heard;
            }
            heard.lead.push(
                "I'm sorry, there's no one available to take your call right now, but I can take a message.".into(),
            );
            self.start_message(cfg, pre, &mut heard);
            return heard;
        }

        // Classification: from the first words; an urgent type at any time.
        let kind = if first || self.phase == Phase::Opening {
            pre.types(cfg).classify(text)
        } else if awaiting_message {
            None
        } else {
            pre.types(cfg).urgent(text, self.awaiting.is_some())
        };
        if let Some(i) = kind {
            let t = &cfg.call_types[i];
            match t.action {
                Some(CallAction::Transfer) => {
                    let name = t.name.clone();
                    self.set_type(&name, &mut heard);
                    if self.transfer(cfg, &format!("{name}: {text}"), true, &mut heard) {
                        return heard;
                    }
                }
                Some(CallAction::Message) if self.call_type.is_none() => {
                    let name = t.name.clone();
                    self.set_type(&name, &mut heard);
                }
                _ if self.call_type.is_none() => {
                    let name = t.name.clone();
                    self.set_type(&name, &mut heard);
                }
                _ => {}
            }
        }

        let wants_message = !self.message_mode
            && !awaiting_message
            && (nlu::wants_message(text)
                || kind.is_some_and(|i| cfg.call_types[i].action == Some(CallAction::Message)));
        if wants_message {
            heard.lead.push("Sure, I can take a message.".into());
            self.start_message(cfg, pre, &mut heard);
            if let Some(m) = inline_message(text) {
                self.take_message(&m, &mut heard);
            }
        }

        // Questions on the way.
        let answered = if awaiting_message {
            None
        } else {
            knowledge::answer_with(|| pre.knowledge(cfg), text)
        };
        let question = nlu::is_question(text) && !awaiting_message;
        if let Some(a) = &answered {
            heard.lead.push(speech::render(a, &self.variables(cfg)));
        }

        // The awaited answer.
        let ctx = self.ctx();
        match self.awaiting.clone() {
            Some(f) if f == MESSAGE_FIELD => {
                if nlu::declines(text) && Words::new(text).len() < 6 {
                    self.skipped.push(MESSAGE_FIELD.into());
                } else {
                    self.take_message(text, &mut heard);
                }
            }
            Some(f) => {
                if let Some(spec) = cfg.field(&f).cloned() {
                    let fields = pre.fields(cfg);
                    let part = fields.answer_part(&spec.field, text);
                    self.answer_field(fields, &spec, part, answered.is_some() || question, &ctx, &mut heard);
                }
            }
            None => {}
        }

        // Fields volunteered along the way (not inside a message).
        if !awaiting_message {
            let enums = first || self.awaiting.is_none();
            let found = {
                let done = |f: &str| self.settled(f) || self.awaiting.as_deref() == Some(f);
                pre.fields(cfg).volunteered(text, &ctx, &done, enums)
            };
            for (f, v) in found {
                self.collect(&f, v, &mut heard);
            }
        }

        let collected = heard.actions.iter().any(|a| matches!(a, Action::Collected { .. }));
        if self.phase == Phase::Opening {
            self.phase = Phase::Collecting;
            if question
                && answered.is_none()
                && !self.message_mode
                && !general_type(cfg, pre, self.call_type.as_deref())
            {
                // A question about the business's work ("how much for a bathroom
                // remodel?") is the reason for the call: the details come next.
                heard.lead.push("I can help you with that.".into());
            } else if question && answered.is_none() && !self.message_mode {
                heard.lead.push(NOT_SURE.into());
                self.notes.push(text.to_owned());
            } else if answered.is_none() && !self.message_mode {
                heard.lead.push("I can help you with that.".into());
            }
        } else if self.phase == Phase::Wrapping && !wants_message {
            if answered.is_some() {
                // Answered; "anything else?" follows.
            } else if question {
                heard.lead.push(NOT_SURE.into());
                self.notes.push(text.to_owned());
            } else if nlu::is_done(text) {
                self.end(EndReason::Completed, &mut heard);
            } else if nlu::has_more(text) && Words::new(text).len() <= 4 {
                heard.lead.push("Sure, what else can I help you with?".into());
                self.extra_rounds += 1;
            } else {
                self.notes.push(text.to_owned());
                self.extra_rounds += 1;
                heard.lead.push("Okay, I've made a note of that.".into());
                if self.extra_rounds >= 3 {
                    self.end(EndReason::Completed, &mut heard);
                }
            }
        } else if question && answered.is_none() && self.awaiting.is_some() && !collected {
            // A question we cannot answer instead of an answer: say so, ask again.
            heard.lead.push(NOT_SURE.into());
            self.notes.push(text.to_owned());
        }
        heard
    }

    pub(crate) fn start_message(&mut self, cfg: &AgentConfig, pre: &Prepared, heard: &mut Heard) {
        self.message_mode = true;
        if let Some(t) = pre.message_type.map(|i| &cfg.call_types[i])
            && general_type(cfg, pre, self.call_type.as_deref())
        {
            let name = t.name.clone();
            self.set_type(&name, heard);
        }
    }

    pub(crate) fn take_message(&mut self, text: &str, heard: &mut Heard) {
        let m = frontdesk_core::fields::normalize(&FieldType::String, text, &self.ctx())
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| text.to_owned());
        let m = match &self.message {
            Some(old) => format!("{old} {m}"),
            None => m,
        };
        self.message = Some(m.clone());
        heard.actions.push(Action::Message(m));
    }

    /// The awaited field's answer: `part` is the part of the caller's words that is not
    /// another field's.
    fn answer_field(
        &mut self,
        fields: &Fields,
        spec: &FieldSpec,
        part: &str,
        was_question: bool,
        ctx: &Context,
        heard: &mut Heard,
    ) {
        let declined = nlu::declines(part);
        let value = if declined && spec.kind == FieldType::String {
            None
        } else {
            fields.normalize(spec, part, ctx).or_else(|| fallback(&spec.kind, part))
        };
        if let Some(v) = value {
            let v = past_if_birth(spec, v, self.call.today);
            self.collect(&spec.field.clone(), v, heard);
            self.reasks = 0;
            return;
        }
        if was_question {
            // They asked something instead; the question was answered (or noted), the
            // field is asked again without counting it as a failed answer.
            return;
        }
        if declined && (!spec.required || self.reasks > 0) {
            self.skip(&spec.field);
            heard.lead.push("No problem.".into());
            return;
        }
        if self.reasks == 0 {
            self.reasks = 1;
            heard.reask = true;
            if declined {
                heard.lead.push("I understand, but we do need this to help you.".into());
            }
            return;
        }
        self.skip(&spec.field);
        heard
            .lead
            .push("No problem, someone will confirm that with you later.".into());
    }

    fn skip(&mut self, field: &str) {
        if !self.skipped.iter().any(|s| s == field) {
            self.skipped.push(field.to_owned());
        }
        self.reasks = 0;
        if self.awaiting.as_deref() == Some(field) {
            self.awaiting = None;
        }
    }

    /// The fields still to ask, in order.
    pub(crate) fn next_field<'c>(&self, cfg: &'c AgentConfig) -> Option<&'c FieldSpec> {
        if self.message_mode {
            return contact_fields(cfg).into_iter().find(|f| !self.settled(&f.field));
        }
        cfg.data_to_collect.iter().find(|f| !self.settled(&f.field))
    }

    /// Tools ready to call: every required parameter known (or the call over), not yet
    /// called. Marks them called.
    pub fn ready_tools(&mut self, cfg: &AgentConfig) -> Vec<ToolRequest> {
        self.ready_tools_except(cfg, &[])
    }

    /// [`Session::ready_tools`], leaving out the tools named in `held` (deferred in
    /// this turn: they wait for a later one).
    pub(crate) fn ready_tools_except(&mut self, cfg: &AgentConfig, held: &[String]) -> Vec<ToolRequest> {
        let vars = self.variables(cfg);
        let mut out = Vec::new();
        for t in &cfg.tools {
            if self.tools_called.contains(&t.tool_name) || held.contains(&t.tool_name) {
                continue;
            }
            let known = |n: &str| vars.get(n).is_some_and(|v| !v.is_null());
            let all = t.parameters.iter().filter(|p| p.required).all(|p| known(&p.name));
            let any = t.parameters.is_empty() || t.parameters.iter().any(|p| known(&p.name));
            let ready = if self.ended() {
                any
            } else {
                all && self.phase != Phase::Opening
            };
            if ready {
                self.tools_called.push(t.tool_name.clone());
                let mut v = vars.clone();
                for p in &t.parameters {
                    v.entry(p.name.clone()).or_insert(Value::Null);
                }
                out.push(ToolRequest {
                    id: t.tool_name.clone(),
                    tool: t.clone(),
                    vars: v,
                });
            }
        }
        out
    }

    /// Step two: a tool's answer. Its `say` is spoken; keys that name fields not yet
    /// collected fill them.
    pub fn tool_result(&mut self, cfg: &AgentConfig, outcome: ToolOutcome, heard: &mut Heard) {
        if let Some(s) = outcome.say.filter(|s| !s.trim().is_empty()) {
            heard.lead.push(s);
        }
        let ctx = self.ctx();
        for (k, v) in outcome.fields {
            let Some(spec) = cfg.field(&k) else { continue };
            if self.fields.contains_key(&k) {
                continue;
            }
            let value = match &v {
                Value::String(s) => normalize(&spec.kind, s, &ctx),
                Value::Null => None,
                other => Some(other.clone()),
            };
            if let Some(value) = value {
                let f = spec.field.clone();
                self.collect(&f, value, heard);
            }
        }
    }

    /// Step three: what to say next.
    pub fn respond(&mut self, cfg: &AgentConfig, mut heard: Heard) -> Reply {
        let vars = self.variables(cfg);
        let mut say = std::mem::take(&mut heard.lead);
        if self.phase == Phase::Ended {
            if self.end_reason == Some(EndReason::Completed) {
                say.push(speech::render(&cfg.closing, &vars));
            }
            return Reply {
                say: Speech::from_parts(&say),
                awaiting_field: None,
                ended: true,
                transferred_to: self.transferred_to.clone(),
                actions: heard.actions,
            };
        }
        if self.phase == Phase::Opening {
            // Nothing said yet (an empty first turn).
            return Reply {
                say: Speech::from_parts(&say),
                awaiting_field: None,
                ended: false,
                transferred_to: None,
                actions: heard.actions,
            };
        }
        let awaiting = if heard.reask {
            self.awaiting
                .clone()
                .and_then(|f| cfg.field(&f).map(|spec| (f, reask_question(spec, &vars))))
        } else {
            None
        };
        let next = awaiting.or_else(|| {
            let collected_something = heard.actions.iter().any(|a| matches!(a, Action::Collected { .. }));
            if let Some(f) = self.next_field(cfg) {
                if say.is_empty() && collected_something {
                    say.push(self.ack(cfg));
                }
                let q = speech::render(&f.question, &vars);
                let q = if self.awaiting.as_deref() == Some(&f.field) && !collected_something && !say.is_empty() {
                    format!("So, {}", lower_first(&q))
                } else {
                    q
                };
                return Some((f.field.clone(), q));
            }
            if self.message_mode && self.message.is_none() && !self.settled(MESSAGE_FIELD) {
                if say.is_empty() && collected_something {
                    say.push(self.ack(cfg));
                }
                return Some((
                    MESSAGE_FIELD.to_owned(),
                    "What message would you like to leave?".to_owned(),
                ));
            }
            None
        });
        match next {
            Some((field, q)) => {
                if self.awaiting.as_deref() != Some(&field) {
                    self.reasks = 0;
                }
                self.awaiting = Some(field.clone());
                say.push(q);
                Reply {
                    say: Speech::from_parts(&say),
                    awaiting_field: Some(field),
                    ended: false,
                    transferred_to: None,
                    actions: heard.actions,
                }
            }
            None => {
                self.awaiting = None;
                let wrap_up = if self.phase == Phase::Wrapping {
                    "Is there anything else I can help you with?"
                } else {
                    self.phase = Phase::Wrapping;
                    if self.message_mode && self.message.is_some() {
                        "I'll make sure they get your message. Is there anything else I can help you with?"
                    } else {
                        "Thank you, I have everything I need. Is there anything else I can help you with?"
                    }
                };
                if say.len() == 1 && say[0] == "Sure, what else can I help you with?" {
                    // The caller has more to say: just listen.
                } else {
                    say.push(wrap_up.to_owned());
                }
                Reply {
                    say: Speech::from_parts(&say),
                    awaiting_field: None,
                    ended: false,
                    transferred_to: None,
                    actions: heard.actions,
                }
            }
        }
    }

    fn ack(&self, cfg: &AgentConfig) -> String {
        // Thank a caller by first name right after they give it.
        if let Some(Value::String(name)) = self.first_of(cfg, &FieldType::Name)
            && self.fields.len() == 1
        {
            let first = name.split_whitespace().next().unwrap_or(&name);
            return format!("Thanks, {first}.");
        }
        ACKS[self.turns as usize % ACKS.len()].to_owned()
    }

    /// One whole turn without tools (tests, benchmarks, the offline CLI).
    pub fn turn(&mut self, cfg: &AgentConfig, text: &str) -> Reply {
        let heard = self.hear(cfg, text);
        self.respond(cfg, heard)
    }

    /// Un-marks tools handed out by [`Session::ready_tools`] that the caller could not
    /// run (a turn's budget ran out): they are ready again on a later turn or at the end
    /// of the call.
    pub fn defer_tools(&mut self, names: &[&str]) {
        self.tools_called.retain(|t| !names.contains(&t.as_str()));
    }

    /// Marks tools as called without handing them out (they ran in an earlier pass
    /// whose write was lost); returns those not marked before.
    pub fn tools_ran(&mut self, names: &[&str]) -> Vec<String> {
        let mut marked = Vec::new();
        for n in names {
            if !self.tools_called.iter().any(|t| t == n) {
                self.tools_called.push((*n).to_owned());
                marked.push((*n).to_owned());
            }
        }
        marked
    }
}

/// The fields asked when taking a message: the required name, phone and email fields
/// (who it is from and how to reach them), or the first name field when none is required.
fn contact_fields(cfg: &AgentConfig) -> Vec<&FieldSpec> {
    let contact = |f: &&FieldSpec| matches!(f.kind, FieldType::Name | FieldType::Phone | FieldType::Email);
    let mut out: Vec<&FieldSpec> = cfg
        .data_to_collect
        .iter()
        .filter(|f| f.required)
        .filter(contact)
        .collect();
    if !out.iter().any(|f| f.kind == FieldType::Name)
        && let Some(n) = cfg.data_to_collect.iter().find(|f| f.kind == FieldType::Name)
    {
        out.insert(0, n);
    }
    out
}

/// Whether a call type is missing or the catch-all.
fn general_type(cfg: &AgentConfig, pre: &Prepared, name: Option<&str>) -> bool {
    match name {
        None => true,
        Some(n) => pre.types(cfg).catch_all().is_some_and(|i| cfg.call_types[i].name == n),
    }
}

/// A message said with the request: "Can you tell Mike that the permit came through?",
/// "could you let Dr. Shah know I'm running late".
fn inline_message(text: &str) -> Option<String> {
    let w = Words::new(text);
    let at = nlu::relay_at(&w)?;
    (w.len() >= at + 6).then(|| text.trim().to_owned())
}

/// What to keep for an answer no normaliser reads but a person would write down:
/// a time of day ("mornings", "after lunch").
pub(crate) fn fallback(kind: &FieldType, text: &str) -> Option<Value> {
    if *kind == FieldType::Time {
        let w = Words::new(text);
        if phrases!(&[
            "morning",
            "mornings",
            "afternoon",
            "afternoons",
            "evening",
            "evenings",
            "lunch",
            "lunchtime",
            "anytime",
            "any time",
            "night",
            "end of the day",
            "early",
            "late",
        ])
        .any_in(&w)
        {
            return normalize(
                &FieldType::String,
                text,
                &Context {
                    caller_number: None,
                    today: NaiveDate::MIN,
                },
            );
        }
    }
    None
}

/// A birth date cannot be in the future: one that is was read a century late ("July
/// fifteenth, seventy nine" with no century).
pub(crate) fn past_if_birth(spec: &FieldSpec, v: Value, today: NaiveDate) -> Value {
    use chrono::Datelike;
    let name = spec.field.to_ascii_lowercase();
    let birth = name.contains("birth") || name.contains("dob") || name.contains("born");
    if spec.kind != FieldType::Date || !birth {
        return v;
    }
    let Some(d) = v.as_str().and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()) else {
        return v;
    };
    if d <= today {
        return v;
    }
    d.with_year(d.year() - 100)
        .map_or(v, |p| Value::String(p.format("%Y-%m-%d").to_string()))
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The polite second try at a question, with a hint of the form expected.
fn reask_question(spec: &FieldSpec, vars: &Map<String, Value>) -> String {
    let q = speech::render(&spec.question, vars);
    match &spec.kind {
        FieldType::Email => {
            "Could you spell out your email address for me, like john dot smith at gmail dot com?".to_owned()
        }
        FieldType::Phone => "Could you give me the number with the area code, digit by digit?".to_owned(),
        FieldType::Date => format!("Sorry, I didn't catch the date. {q} For example, March 4th, 1990."),
        FieldType::Time => format!("Sorry, I didn't catch the time. {q} For example, 3pm or 10:30 in the morning."),
        FieldType::Boolean => format!("Sorry, was that a yes or a no? {q}"),
        FieldType::Number => format!("Sorry, I didn't catch the number. {q}"),
        FieldType::Enum { options } => format!("Sorry, I didn't catch that. Is it {}?", or_list(options)),
        _ => format!("Sorry, I didn't quite catch that. {q}"),
    }
}

fn or_list(options: &[String]) -> String {
    match options {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{}, or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> AgentConfig {
        AgentConfig::parse(&frontdesk_core::agent::demo_agent_config())
            .expect("the demo agent parses")
            .config
    }

    fn start(cfg: &AgentConfig) -> Session {
        let info = CallInfo {
            call_id: "call_1".into(),
            caller_number: Some("+15551234567".into()),
            business_number: "+15550100000".into(),
            today: NaiveDate::from_ymd_opt(2026, 11, 30).expect("date"),
            outbound: false,
            purpose: None,
        };
        Session::start(cfg, info).0
    }

    #[test]
    fn silence_asks_again_once_then_closes() {
        let cfg = demo();
        let mut s = start(&cfg);
        let heard = s.silence(&cfg);
        let r = s.respond(&cfg, heard);
        assert_eq!(r.say, "Sorry, I didn't catch that. How can I help you today?");
        assert!(!r.ended);
        let r = s.turn(&cfg, "I'd like to book an appointment");
        assert_eq!(r.awaiting_field.as_deref(), Some("first_name"));
        // A word resets the count: one more silence only asks again.
        let heard = s.silence(&cfg);
        let r = s.respond(&cfg, heard);
        assert!(r.say.starts_with("Sorry, I didn't catch that."), "{}", r.say);
        assert!(r.say.to_lowercase().contains("may i have your name"), "{}", r.say);
        assert_eq!(r.awaiting_field.as_deref(), Some("first_name"));
        // A second silence on the same question moves on to the next one.
        let heard = s.silence(&cfg);
        let r = s.respond(&cfg, heard);
        assert!(!r.ended);
        assert_eq!(
            r.say,
            "No problem, someone will confirm that with you later. What's the best number to reach you?"
        );
        assert_eq!(r.awaiting_field.as_deref(), Some("phone"));
        assert_eq!(s.skipped, vec!["first_name".to_owned()]);
        // A third in a row ends the call.
        let heard = s.silence(&cfg);
        let r = s.respond(&cfg, heard);
        assert!(r.ended);
        assert!(r.say.contains("can't hear you"), "{}", r.say);
        assert_eq!(s.end_reason, Some(EndReason::NoInput));
        assert_eq!(EndReason::NoInput.as_str(), "no_input");
    }

    /// Plays `silences` silent turns and returns the last reply.
    fn silent(cfg: &AgentConfig, s: &mut Session, silences: usize) -> Reply {
        let mut last = None;
        for _ in 0..silences {
            let heard = s.silence(cfg);
            last = Some(s.respond(cfg, heard));
        }
        last.expect("at least one silence")
    }

    #[test]
    fn silence_in_the_opening_moves_on_to_the_fields() {
        let cfg = demo();
        let mut s = start(&cfg);
        let r = silent(&cfg, &mut s, 1);
        assert_eq!(r.say, "Sorry, I didn't catch that. How can I help you today?");
        let r = silent(&cfg, &mut s, 1);
        assert!(!r.ended);
        assert_eq!(
            r.say,
            "I'm having trouble hearing you, so let me take a few details. May I have your name?"
        );
        assert_eq!(r.awaiting_field.as_deref(), Some("first_name"));
        // The caller's first words are the opening, and answer the question.
        let r = s.turn(&cfg, "John Smith");
        assert_eq!(r.awaiting_field.as_deref(), Some("phone"), "{}", r.say);
        assert_eq!(s.fields["first_name"], "John Smith");
        assert_eq!(s.opening.as_deref(), Some("John Smith"));
        assert_eq!(s.silences, 0);

        // An agent with nothing to collect asks once more; the third silence ends it.
        let mut bare = demo();
        bare.data_to_collect.clear();
        let mut s = start(&bare);
        let r = silent(&bare, &mut s, 2);
        assert_eq!(r.say, "Are you still there? How can I help you today?");
        assert!(!r.ended);
        let r = silent(&bare, &mut s, 1);
        assert!(r.ended);
        assert_eq!(s.end_reason, Some(EndReason::NoInput));
    }

    #[test]
    fn three_silences_in_a_row_end_the_call() {
        let cfg = demo();
        let mut s = start(&cfg);
        let r = silent(&cfg, &mut s, 3);
        assert!(r.ended);
        assert_eq!(
            r.say,
            "I'm sorry, I still can't hear you. Please call us back when you can. Goodbye."
        );
        assert_eq!(s.end_reason, Some(EndReason::NoInput));
        assert_eq!(r.actions, vec![Action::End(EndReason::NoInput)]);
        // Nothing more happens on an ended call.
        let heard = s.silence(&cfg);
        assert_eq!(heard, Heard::default());
    }

    #[test]
    fn a_word_resets_the_silence_count() {
        let cfg = demo();
        let mut s = start(&cfg);
        s.turn(&cfg, "I'd like to book an appointment");
        silent(&cfg, &mut s, 2);
        assert_eq!(s.awaiting.as_deref(), Some("phone"));
        let r = s.turn(&cfg, "555 123 4567");
        assert_eq!(r.awaiting_field.as_deref(), Some("email"));
        assert_eq!(s.silences, 0);
        // Two more silences: asked again, then moved on (past the last field), not ended.
        let r = silent(&cfg, &mut s, 1);
        assert!(r.say.starts_with("Sorry, I didn't catch that."), "{}", r.say);
        assert_eq!(r.awaiting_field.as_deref(), Some("email"));
        let r = silent(&cfg, &mut s, 1);
        assert!(!r.ended);
        assert!(
            r.say
                .starts_with("No problem, someone will confirm that with you later."),
            "{}",
            r.say
        );
        assert!(r.say.contains("anything else"), "{}", r.say);
        // After "anything else?", silence is "no": the call completes.
        let r = silent(&cfg, &mut s, 1);
        assert!(r.ended);
        assert_eq!(s.end_reason, Some(EndReason::Completed));
    }

    #[test]
    fn silence_on_the_message() {
        let cfg = demo();
        let mut s = start(&cfg);
        s.turn(&cfg, "Can I leave a message?");
        s.turn(&cfg, "John Smith");
        let r = s.turn(&cfg, "555 123 4567");
        assert_eq!(r.awaiting_field.as_deref(), Some(MESSAGE_FIELD));
        let r = silent(&cfg, &mut s, 1);
        assert_eq!(
            r.say,
            "Sorry, I didn't catch that. What message would you like to leave?"
        );
        assert_eq!(r.awaiting_field.as_deref(), Some(MESSAGE_FIELD));
        let r = silent(&cfg, &mut s, 1);
        assert!(!r.ended);
        assert_eq!(r.awaiting_field, None);
        assert!(
            r.say.starts_with("No problem, I'll let them know you called."),
            "{}",
            r.say
        );
        assert!(r.say.contains("anything else"), "{}", r.say);
        assert_eq!(s.message, None);
    }

    #[test]
    fn empty_words_are_silence() {
        let cfg = demo();
        let mut s = start(&cfg);
        let r = s.turn(&cfg, "");
        assert_eq!(r.say, "Sorry, I didn't catch that. How can I help you today?");
        let r = s.turn(&cfg, "   ");
        assert!(r.say.starts_with("I'm having trouble hearing you"), "{}", r.say);
        // Three in a row: the call ends, as with silence.
        let r = s.turn(&cfg, " ... ");
        assert!(r.ended);
        assert_eq!(s.end_reason, Some(EndReason::NoInput));
        assert_eq!(s.turns, 0);
        assert_eq!(s.opening, None);
    }

    #[test]
    fn silence_after_anything_else_closes_as_usual() {
        let cfg = demo();
        let mut s = start(&cfg);
        s.turn(&cfg, "I'd like to book an appointment");
        s.turn(&cfg, "John Smith");
        s.turn(&cfg, "555 123 4567");
        let r = s.turn(&cfg, "john at example dot com");
        assert!(r.say.contains("anything else"), "{}", r.say);
        let heard = s.silence(&cfg);
        let r = s.respond(&cfg, heard);
        assert!(r.ended);
        assert_eq!(s.end_reason, Some(EndReason::Completed));
        assert!(r.say.contains("Goodbye"), "{}", r.say);
    }

    #[test]
    fn a_recorded_message_is_the_message() {
        let cfg = demo();
        let mut s = start(&cfg);
        let r = s.turn(&cfg, "Can I leave a message?");
        assert_eq!(r.awaiting_field.as_deref(), Some("first_name"));
        s.turn(&cfg, "John Smith");
        let r = s.turn(&cfg, "555 123 4567");
        assert_eq!(r.awaiting_field.as_deref(), Some(MESSAGE_FIELD));
        let heard = s.recorded_message("Voicemail (12 s): https://api.twilio.com/r/RE1");
        assert_eq!(
            heard.actions,
            vec![Action::Message("Voicemail (12 s): https://api.twilio.com/r/RE1".into())]
        );
        let r = s.respond(&cfg, heard);
        assert!(r.say.contains("get your message"), "{}", r.say);
        assert_eq!(
            s.message.as_deref(),
            Some("Voicemail (12 s): https://api.twilio.com/r/RE1")
        );
        // After a transfer nobody answered: the call has ended, the message still counts.
        let mut t = start(&cfg);
        let r = t.turn(&cfg, "Can I talk to a person?");
        assert!(r.ended && r.transferred_to.is_some());
        let heard = t.recorded_message("Voicemail: https://x/RE2");
        let r = t.respond(&cfg, heard);
        assert!(r.ended);
        assert_eq!(r.actions, vec![Action::Message("Voicemail: https://x/RE2".into())]);
    }

    #[test]
    fn old_session_state_without_silences_still_loads() {
        let cfg = demo();
        let s = start(&cfg);
        let mut v = serde_json::to_value(&s).expect("json");
        v.as_object_mut().expect("object").remove("silences");
        let back: Session = serde_json::from_value(v).expect("loads");
        assert_eq!(back.silences, 0);
    }
}
