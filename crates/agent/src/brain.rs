//! The protocol every brain follows: how the application drives a call's conversation,
//! whatever decides what the receptionist says (the built-in rules, a model, both).
//!
//! A [`Brain`] is built once per agent configuration ([`brain_for`]) and shared
//! (`Arc<dyn Brain>`, `Send + Sync`); it holds no call. A call's conversation is a
//! [`State`], which the application stores between turns (it serialises to JSON naming
//! its brain, see [`State`]). The brain itself performs no I/O: when a turn needs an HTTP
//! tool run or a model completion, it says so ([`Need`]) and the application does it and
//! hands the result back.
//!
//! # A turn
//!
//! ```
//! use std::sync::Arc;
//!
//! use frontdesk_agent::brain::{self, Brain, CallInfo, Input, Need, ToolOutcome};
//! use frontdesk_core::agent::AgentConfig;
//!
//! let cfg = AgentConfig::parse(&frontdesk_core::agent::demo_agent_config()).expect("valid").config;
//! let brain = brain::brain_for(Arc::new(cfg));
//! let call = CallInfo {
//!     call_id: "call_1".into(),
//!     caller_number: Some("+15551234567".into()),
//!     business_number: "+15550100000".into(),
//!     today: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("date"),
//!     outbound: false,
//!     purpose: None,
//! };
//! // The call is answered: the greeting.
//! let (mut state, greeting) = brain.start(call);
//! assert!(!greeting.say.is_empty());
//!
//! // One caller turn: hear, then what the turn needs, then the reply.
//! let mut turn = brain.hear(&mut state, Input::speech("I'd like to book an appointment"));
//! loop {
//!     match brain.next(&mut state, &mut turn) {
//!         Need::Nothing => break,
//!         Need::Tools(requests) => {
//!             for (i, req) in requests.iter().enumerate() {
//!                 let budget_left = true; // the application's tool budget for the turn
//!                 if !budget_left {
//!                     // Not run now: they wait for a later turn or the call's end.
//!                     let ids: Vec<&str> = requests[i..].iter().map(|r| r.id.as_str()).collect();
//!                     brain.defer_tools(&mut state, &mut turn, &ids);
//!                     break;
//!                 }
//!                 let outcome = ToolOutcome::default(); // run `req.tool` with `req.vars`
//!                 brain.tool_result(&mut state, &mut turn, &req.id, outcome);
//!             }
//!         }
//!         Need::Completion(request) => {
//!             // POST `request` (it serialises as an OpenAI chat completion request) and
//!             // hand back the first choice, or the failure.
//!             let _ = request;
//!             brain.completion_result(&mut state, &mut turn, Err(brain::CompletionError::new("no model here")));
//!         }
//!     }
//! }
//! let reply = brain.respond(&mut state, turn);
//! assert_eq!(reply.awaiting_field.as_deref(), Some("first_name"));
//! for sentence in reply.say.sentences() {
//!     // stream each to text-to-speech; `reply.say.text()` is the whole line
//!     let _ = sentence;
//! }
//!
//! // What the call record needs, without looking inside the state.
//! let view = brain.view(&state);
//! assert_eq!(view.call_type.as_deref(), Some("appointment"));
//!
//! // Stored between turns, and loaded again by any node.
//! let stored = state.to_json();
//! assert_eq!(stored["brain"], "rules");
//! let mut state = brain::State::from_json(stored).expect("loads");
//!
//! // The caller hangs up: tools due at the end run the same way, then the last reply.
//! let mut turn = brain.hear(&mut state, Input::HangUp(brain::EndReason::CallerHangup));
//! while let Need::Tools(requests) = brain.next(&mut state, &mut turn) {
//!     for req in &requests {
//!         brain.tool_result(&mut state, &mut turn, &req.id, ToolOutcome::default());
//!     }
//! }
//! let last = brain.respond(&mut state, turn);
//! assert!(last.ended && brain.view(&state).ended);
//! let summary = brain.summary(&state);
//! assert!(summary.contains("appointment"), "{summary}");
//! ```

use std::sync::Arc;

use frontdesk_core::agent::config::{AgentConfig, BrainKind};
use frontdesk_core::knowledge::Chunk;
use serde_json::{Map, Value};

pub use crate::completion::{
    ChatMessage, Completion, CompletionError, CompletionRequest, CompletionResponse, FunctionCall, FunctionSchema,
    Role, ToolCall, ToolSchema, Usage,
};
pub use crate::model::{BrainEvent, ModelBrain, ModelState};
pub use crate::rules::RulesBrain;
use crate::session::Heard;
pub use crate::session::{Action, CallInfo, EndReason, MESSAGE_FIELD, ToolOutcome, ToolRequest};
pub use crate::speech::Speech;
pub use crate::state::{State, StateError};

/// What a brain does with a call. Object safe: the application holds an
/// `Arc<dyn Brain>` per agent configuration and a [`State`] per call.
///
/// Every method takes the call's state; a brain drives states of its own kind
/// ([`Brain::kind`], [`State::brain`]). The order within a turn is [`Brain::hear`],
/// then [`Brain::next`] until it answers [`Need::Nothing`] (handing back each tool's
/// result or each completion in between), then [`Brain::respond`]. Nothing here blocks
/// or performs I/O: it is CPU work, to run where the application runs such work.
pub trait Brain: Send + Sync {
    /// Which brain this is (and the kind of state it drives).
    fn kind(&self) -> BrainKind;

    /// The configuration the brain was built for.
    fn config(&self) -> &AgentConfig;

    /// A new call: its state, and the first reply (the greeting, or, outbound, the
    /// introduction).
    fn start(&self, call: CallInfo) -> (State, Reply);

    /// The first step of a turn: takes what happened on the line and updates the state
    /// (fields collected, call type, message, transfer, end). The returned [`Turn`]
    /// carries the turn on to [`Brain::next`] and [`Brain::respond`].
    fn hear(&self, state: &mut State, input: Input) -> Turn;

    /// What the turn needs before it can be answered. Call it until it answers
    /// [`Need::Nothing`]. Tools handed out are marked called in the state: hand back
    /// each one's result ([`Brain::tool_result`]) or defer it ([`Brain::defer_tools`])
    /// before calling `next` again; any left unanswered then are deferred.
    fn next(&self, state: &mut State, turn: &mut Turn) -> Need;

    /// A tool's result (`id`: [`ToolRequest::id`]). A tool that failed or timed out is
    /// [`ToolOutcome::default`].
    fn tool_result(&self, state: &mut State, turn: &mut Turn, id: &str, outcome: ToolOutcome);

    /// The answer to a [`Need::Completion`], or why there is none (the brain then
    /// carries on without it). The rules brain never asks, and ignores one.
    fn completion_result(&self, state: &mut State, turn: &mut Turn, result: Result<Completion, CompletionError>);

    /// Tools handed out that the application will not run in this turn (its budget ran
    /// out; `ids`: [`ToolRequest::id`]). They are not handed out again in this turn, and
    /// are ready again on a later one, or at the end of the call.
    fn defer_tools(&self, state: &mut State, turn: &mut Turn, ids: &[&str]);

    /// Tools (by name) that already ran for this call in an earlier attempt at this
    /// step whose result was not stored (a write that lost a race): they are marked
    /// called, so that they do not run twice. Returns those that were not marked
    /// already (whose runs the call record lacks).
    fn tools_ran(&self, state: &mut State, names: &[&str]) -> Vec<String>;

    /// The last step of a turn: what the receptionist says, the field it awaits, and
    /// every action the turn took.
    fn respond(&self, state: &mut State, turn: Turn) -> Reply;

    /// What the call record needs from the state.
    fn view(&self, state: &State) -> View;

    /// The call's `ai_summary`.
    fn summary(&self, state: &State) -> String;

    /// The call's template variables (business details, call details, collected
    /// fields), as tools and speech templates see them.
    fn variables(&self, state: &State) -> Map<String, Value>;
}

/// The brain an agent configuration asks for (`cfg.brain`): [`RulesBrain`], or
/// [`ModelBrain`] for `llm` and `hybrid`.
pub fn brain_for(cfg: Arc<AgentConfig>) -> Arc<dyn Brain> {
    brain_with_documents(cfg, Vec::new())
}

/// [`brain_for`], with the agent's documents (cut into chunks) in its knowledge.
pub fn brain_with_documents(cfg: Arc<AgentConfig>, documents: Vec<Chunk>) -> Arc<dyn Brain> {
    match cfg.brain {
        BrainKind::Rules => Arc::new(RulesBrain::with_documents(cfg, documents)),
        BrainKind::Llm | BrainKind::Hybrid => Arc::new(ModelBrain::new(cfg, documents)),
    }
}

/// What happened on the line: the first step of a turn ([`Brain::hear`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The caller's words (speech-to-text output, or typed text), with the
    /// recogniser's confidence (0 to 1) when it gave one. Words without a word in them
    /// (empty, only spaces or punctuation) are [`Input::Silence`]. The rules brain does
    /// not use the confidence (the call's transcript keeps it).
    Speech { text: String, confidence: Option<f64> },
    /// The caller said nothing before the telephony stopped listening (an empty
    /// result, a timeout). See [`crate::Session::silence`] for the rule.
    Silence,
    /// The call ended from outside: the caller hung up, or the API ended it.
    HangUp(EndReason),
    /// A message left as a recording (a voicemail): what stands for it in the call's
    /// `message` (for example the recording's length and address). Taken on an ended
    /// call too (a voicemail after a transfer nobody answered).
    RecordedMessage(String),
}

impl Input {
    /// Speech without a confidence.
    pub fn speech(text: impl Into<String>) -> Self {
        Self::Speech {
            text: text.into(),
            confidence: None,
        }
    }
}

/// A turn in progress, between [`Brain::hear`] and [`Brain::respond`]: what has been
/// decided so far, and the tools handed out and not yet answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Turn {
    pub(crate) heard: Heard,
    /// Tool requests handed out by `next`, not yet answered.
    pub(crate) pending: Vec<String>,
    /// Tools deferred in this turn: not handed out again before it ends.
    pub(crate) deferred: Vec<String>,
    /// A model brain's part of the turn.
    pub(crate) model: Option<crate::model::ModelTurn>,
}

impl Turn {
    pub(crate) fn new(heard: Heard) -> Self {
        Self {
            heard,
            ..Self::default()
        }
    }

    /// The actions taken so far.
    pub fn actions(&self) -> &[Action] {
        &self.heard.actions
    }

    /// The ids of the tool requests handed out and not yet answered.
    pub fn pending_tools(&self) -> &[String] {
        &self.pending
    }

    /// The tools deferred in this turn.
    pub fn deferred_tools(&self) -> &[String] {
        &self.deferred
    }
}

/// What a turn needs before it can be answered ([`Brain::next`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Need {
    /// Run these HTTP tools and hand back each result ([`Brain::tool_result`]).
    Tools(Vec<ToolRequest>),
    /// Ask a model for this completion and hand back the answer
    /// ([`Brain::completion_result`]).
    Completion(CompletionRequest),
    /// Nothing more: [`Brain::respond`].
    Nothing,
}

/// What the receptionist says back, and what the turn did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply {
    /// The words, as text and as sentences (for streaming). Derefs to the text and
    /// compares with `&str`.
    pub say: Speech,
    /// The field just asked for ([`MESSAGE_FIELD`] while taking a message), or `None`.
    pub awaiting_field: Option<String>,
    /// The conversation is over (said goodbye, transferred, or hung up).
    pub ended: bool,
    pub transferred_to: Option<String>,
    /// Everything the turn did, in order: each becomes an event.
    pub actions: Vec<Action>,
}

/// What the call record needs from a call's state, whatever its brain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct View {
    /// Collected fields, in the order collected.
    pub fields: Map<String, Value>,
    pub call_type: Option<String>,
    pub message: Option<String>,
    pub transferred_to: Option<String>,
    pub transfer_reason: Option<String>,
    pub end_reason: Option<EndReason>,
    /// The conversation is over (the call itself may be live until the provider says
    /// it ended).
    pub ended: bool,
    /// The field the receptionist awaits ([`MESSAGE_FIELD`] while taking a message).
    pub awaiting_field: Option<String>,
    /// The first collected name field, as text.
    pub caller_name: Option<String>,
    /// The first collected email field, as text.
    pub caller_email: Option<String>,
    /// Caller turns so far.
    pub turns: u32,
    /// Caller turns in which a model was asked (`llm`, `hybrid`).
    pub model_turns: u32,
    /// Fallbacks, refusals and interruptions between the brain and its model.
    pub brain_events: Vec<BrainEvent>,
}
