//! Frontdesk domain core.
//!
//! Plain data and rules, no I/O: typed ids, parsed newtypes (workspace names, phone
//! numbers, API key secrets), durations and the records the other layers pass around.
//! Nothing here knows about HTTP, SQL or the clock beyond `chrono::Utc::now()` callers pass in.

pub mod agent;
pub mod api_key;
pub mod call;
pub mod credentials;
pub mod duration;
pub mod error;
pub mod event;
pub mod fields;
pub mod id;
pub mod idempotency;
pub mod input;
pub mod knowledge;
pub mod net;
pub mod page;
pub mod phone;
pub mod ratelimit;
pub mod report;
pub mod retry;
pub mod secret;
pub mod template;
pub mod user;
pub mod webhook;
pub mod workspace;

pub use error::ValidationError;
