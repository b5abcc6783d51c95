//! Frontdesk's client for OpenAI-compatible chat completions (OpenAI, Ollama, vLLM,
//! llama.cpp's server): `POST {base_url}/chat/completions` with `"stream": true`.
//!
//! [`Client::stream`] yields [`Event::Text`] as the model writes (so the first
//! sentence can be spoken early) and then [`Event::Done`] with the whole
//! [`Completion`](frontdesk_agent::completion::Completion): text, tool calls put
//! together from their deltas, `finish_reason`. [`Client::complete`] drains it.
//! Failures are [`LlmError`]s with a stable [`LlmError::reason`] for the fallback
//! metric; one part-way through a stream is a [`StreamError`], which also says what
//! text was already handed out (SPEC section 8: never retry once speech has streamed).
//!
//! Modules: `sse` (server-sent events from the body's bytes), `assemble` (chunks into a
//! completion), `client` (HTTP, timeouts, cancellation), `error`, and with the
//! `stand-in` feature `stand_in` (a scripted OpenAI-compatible server for tests).

pub mod assemble;
pub mod client;
pub mod error;
pub mod sse;
#[cfg(feature = "stand-in")]
pub mod stand_in;

pub use client::{Client, CompletionStream, Endpoint, Event};
pub use error::{LlmError, StreamError};
