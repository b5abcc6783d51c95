//! Frontdesk's conversation engine, independent of telephony.
//!
//! A [`Session`] is one call. It takes the caller's words (speech-to-text output) and
//! decides what the receptionist says, which field it awaits, and what happens: fields
//! collected, call type, message taken, transfer, tool calls, end. The built-in brain is
//! `rules`: deterministic, offline and fast. It is made of small parts:
//! - [`nlu`]: words, stems and the configuration-free intents (asking for a person,
//!   leaving a message, declining, being done);
//! - [`classify`]: the call type from keywords and descriptions;
//! - [`knowledge`]: answers from the agent's knowledge entries and business details;
//! - [`extract`]: fields the caller volunteers, cut out of longer utterances;
//! - [`session`]: the conversation itself, and [`summary`] for the `ai_summary`.
//!
//! Field values are normalised by `frontdesk_core::fields`. Nothing here performs I/O:
//! tools are handed to the caller of the engine to run ([`Session::ready_tools`]).

pub mod classify;
pub mod extract;
pub mod knowledge;
pub mod nlu;
pub mod session;
pub mod speech;
pub mod summary;

pub use session::{Action, CallInfo, EndReason, Heard, MESSAGE_FIELD, Phase, Reply, Session, ToolOutcome, ToolRequest};
pub use summary::summarize;
