//! The rules brain behind [`crate::brain::Brain`]: deterministic, offline, fast.
//!
//! [`RulesBrain`] is built once per agent configuration. It prepares, once, everything
//! the rules derive from the configuration ([`Prepared`]): the call types' keywords and
//! description words split and stemmed, which type handles prices, the catch-all and the
//! primary type ([`crate::classify::Types`]); the knowledge entries' words, weights and
//! synonym expansions ([`crate::knowledge::Index`]); each field's cue phrases, spoken
//! label and the distinctive words of its options ([`crate::extract::Fields`]); the
//! transfer triggers with the built-in person words ([`crate::nlu::PersonWords`]); the
//! type that takes messages. A turn then only reads the caller's words against them.
//! The conversation itself is [`crate::session::Session`].

use std::sync::{Arc, OnceLock};

use frontdesk_core::agent::config::{AgentConfig, BrainKind, CallAction};
use frontdesk_core::knowledge::Chunk;
use serde_json::{Map, Value};

use crate::brain::{Brain, Completion, CompletionError, Input, Need, Reply, State, Turn, View};
use crate::classify::Types;
use crate::extract::Fields;
use crate::knowledge::{Index, Passage};
use crate::nlu::PersonWords;
use crate::session::{CallInfo, Session, ToolOutcome};
use crate::summary::summarize;

/// What the rules derive from an agent's configuration, computed once.
///
/// Each part is computed on first use, for the configuration it is always used with:
/// [`Prepared::new`] computes every part at once (what [`RulesBrain`] holds), while the
/// original [`Session`] methods prepare lazily on every call, so that a turn there costs
/// no more than the parts it uses.
#[derive(Debug, Default)]
pub struct Prepared {
    types: OnceLock<Types>,
    knowledge: OnceLock<Index>,
    fields: OnceLock<Fields>,
    person: OnceLock<PersonWords>,
    /// The agent's documents, cut into chunks, for the knowledge index.
    documents: Vec<Chunk>,
    /// The first call type that takes a message.
    pub(crate) message_type: Option<usize>,
}

impl Prepared {
    /// Everything, prepared now.
    pub fn new(cfg: &AgentConfig) -> Self {
        Self::with_documents(cfg, Vec::new())
    }

    /// Everything, prepared now, with the agent's documents in the knowledge index.
    pub fn with_documents(cfg: &AgentConfig, documents: Vec<Chunk>) -> Self {
        let p = Self {
            documents,
            ..Self::lazy(cfg)
        };
        p.types(cfg);
        p.knowledge(cfg);
        p.fields(cfg).prepare_all();
        p.person(cfg);
        p
    }

    /// Nothing prepared yet: each part on first use.
    pub(crate) fn lazy(cfg: &AgentConfig) -> Self {
        Self {
            message_type: cfg
                .call_types
                .iter()
                .position(|t| t.action == Some(CallAction::Message)),
            ..Self::default()
        }
    }

    pub(crate) fn types(&self, cfg: &AgentConfig) -> &Types {
        self.types.get_or_init(|| Types::new(&cfg.call_types))
    }

    pub(crate) fn knowledge(&self, cfg: &AgentConfig) -> &Index {
        self.knowledge
            .get_or_init(|| Index::with_documents(&cfg.knowledge, &cfg.business, &self.documents))
    }

    pub(crate) fn fields(&self, cfg: &AgentConfig) -> &Fields {
        self.fields.get_or_init(|| Fields::new(&cfg.data_to_collect))
    }

    pub(crate) fn person(&self, cfg: &AgentConfig) -> &PersonWords {
        self.person.get_or_init(|| {
            let triggers = cfg.transfer.as_ref().map(|t| t.triggers.as_slice()).unwrap_or_default();
            PersonWords::new(triggers)
        })
    }
}

/// The rules brain for one agent configuration. Building one prepares the
/// configuration ([`Prepared::new`]): CPU work that grows with the configuration (a
/// few milliseconds for an agent at every limit), to do once per configuration, off
/// the async workers.
#[derive(Debug)]
pub struct RulesBrain {
    cfg: Arc<AgentConfig>,
    pre: Prepared,
}

impl RulesBrain {
    pub fn new(cfg: Arc<AgentConfig>) -> Self {
        Self::with_documents(cfg, Vec::new())
    }

    /// The rules brain with the agent's documents in its knowledge.
    pub fn with_documents(cfg: Arc<AgentConfig>, documents: Vec<Chunk>) -> Self {
        let pre = Prepared::with_documents(&cfg, documents);
        Self { cfg, pre }
    }

    /// The knowledge passages that best answer `query` (entries and documents), best
    /// first, at most `k`: what `search_knowledge` gives a model.
    pub fn search(&self, query: &str, k: usize) -> Vec<Passage> {
        self.pre.knowledge(&self.cfg).search(query, k)
    }

    /// What was prepared from the configuration.
    pub fn prepared(&self) -> &Prepared {
        &self.pre
    }

    /// One whole turn of speech without tools (tests, benchmarks, the offline CLI):
    /// hear, then respond, leaving any tool that became ready for a later turn.
    pub fn turn(&self, state: &mut State, text: &str) -> Reply {
        let turn = self.hear(state, Input::speech(text));
        self.respond(state, turn)
    }
}

impl Brain for RulesBrain {
    fn kind(&self) -> BrainKind {
        BrainKind::Rules
    }

    fn config(&self) -> &AgentConfig {
        &self.cfg
    }

    fn start(&self, call: CallInfo) -> (State, Reply) {
        let (s, reply) = Session::start(&self.cfg, call);
        (State::from_session(s), reply)
    }

    fn hear(&self, state: &mut State, input: Input) -> Turn {
        let s = state.session_mut();
        let heard = match input {
            Input::Speech { text, confidence: _ } => s.hear_prepared(&self.cfg, &self.pre, &text),
            Input::Silence => s.silence(&self.cfg),
            Input::HangUp(reason) => s.hang_up(reason),
            Input::RecordedMessage(note) => s.recorded_message(&note),
        };
        Turn::new(heard)
    }

    fn next(&self, state: &mut State, turn: &mut Turn) -> Need {
        let s = state.session_mut();
        if !turn.pending.is_empty() {
            // Handed out and never answered: they wait, as deferred ones do.
            let left = std::mem::take(&mut turn.pending);
            let names: Vec<&str> = left.iter().map(String::as_str).collect();
            s.defer_tools(&names);
            turn.deferred.extend(left);
        }
        let ready = s.ready_tools_except(&self.cfg, &turn.deferred);
        if ready.is_empty() {
            return Need::Nothing;
        }
        turn.pending = ready.iter().map(|r| r.id.clone()).collect();
        Need::Tools(ready)
    }

    fn tool_result(&self, state: &mut State, turn: &mut Turn, id: &str, outcome: ToolOutcome) {
        turn.pending.retain(|p| p != id);
        state.session_mut().tool_result(&self.cfg, outcome, &mut turn.heard);
    }

    fn completion_result(&self, _state: &mut State, _turn: &mut Turn, _result: Result<Completion, CompletionError>) {
        // The rules brain never asks for a completion.
    }

    fn defer_tools(&self, state: &mut State, turn: &mut Turn, ids: &[&str]) {
        turn.pending.retain(|p| !ids.contains(&p.as_str()));
        for id in ids {
            if !turn.deferred.iter().any(|d| d == id) {
                turn.deferred.push((*id).to_owned());
            }
        }
        state.session_mut().defer_tools(ids);
    }

    fn tools_ran(&self, state: &mut State, names: &[&str]) -> Vec<String> {
        state.session_mut().tools_ran(names)
    }

    fn respond(&self, state: &mut State, mut turn: Turn) -> Reply {
        let s = state.session_mut();
        if !turn.pending.is_empty() {
            let names: Vec<&str> = turn.pending.iter().map(String::as_str).collect();
            s.defer_tools(&names);
            turn.pending.clear();
        }
        s.respond(&self.cfg, turn.heard)
    }

    fn view(&self, state: &State) -> View {
        crate::model::view_of(&self.cfg, state)
    }

    fn summary(&self, state: &State) -> String {
        summarize(&self.cfg, state.session())
    }

    fn variables(&self, state: &State) -> Map<String, Value> {
        state.session().variables(&self.cfg)
    }
}
