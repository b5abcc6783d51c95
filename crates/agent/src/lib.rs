//! Frontdesk's conversation engine, independent of telephony.
//!
//! # The brain protocol
//!
//! [`brain`] is the interface the application drives a call through, whichever brain
//! decides what the receptionist says: [`brain::Brain`] (built once per agent
//! configuration with [`brain::brain_for`]), a call's [`brain::State`] (stored as JSON
//! naming its brain), [`brain::Input`] (speech, silence, hang-up, a recorded message),
//! [`brain::Need`] (tools to run, a model completion to fetch, or nothing), and
//! [`brain::Reply`] (speech as sentences, the awaited field, actions). The module's
//! documentation shows a whole turn. Nothing here performs I/O: tools and completions
//! are handed to the caller of the engine to run.
//!
//! # The rules brain
//!
//! The built-in brain is `rules` ([`brain::RulesBrain`]): deterministic, offline and
//! fast. It is made of small parts:
//! - [`nlu`]: words, stems and the configuration-free intents (asking for a person,
//!   leaving a message, declining, being done);
//! - [`classify`]: the call type from keywords and descriptions;
//! - [`knowledge`]: answers from the agent's knowledge entries and business details;
//! - [`extract`]: fields the caller volunteers, cut out of longer utterances;
//! - [`rules`]: the brain, with what it prepares once per configuration;
//! - [`session`]: the conversation itself (its state, [`Session`]), and [`summary`] for
//!   the `ai_summary`;
//! - [`speech`]: templates, the crate's one sentence splitter, and [`speech::Speech`].
//!
//! [`Session`]'s own methods (`start`, `hear`, `ready_tools`, `tool_result`,
//! `respond`, ...) are the interface from before the brain protocol, kept until its
//! callers have moved over.
//!
//! Field values are normalised by `frontdesk_core::fields`.

pub mod brain;
pub mod classify;
pub mod completion;
pub mod extract;
pub mod knowledge;
pub mod model;
pub mod nlu;
pub mod prompt;
pub mod rules;
pub mod session;
pub mod speech;
pub mod state;
pub mod summary;

pub use session::{Action, CallInfo, EndReason, Heard, MESSAGE_FIELD, Phase, Reply, Session, ToolOutcome, ToolRequest};
pub use summary::summarize;
