//! Frontdesk's application layer: what the receptionist does, without HTTP.
//!
//! The server's handlers, the simulator API and the CLI are thin adapters over this
//! crate. [`calls::CallService`] answers, carries, places, hangs up and finishes calls;
//! [`tools`] runs the agent's HTTP tools within a turn's budget; [`telephony`] is the
//! one trait every provider implements (the simulator and Twilio today);
//! [`locks`] keeps steps of one call from overlapping (through the store: across every
//! node on the database); [`conflict`] is the one policy for version
//! conflicts; [`engine`] runs the conversation's CPU work off the async workers;
//! [`accounts`] knows which Twilio token speaks for which workspace; [`models`] asks
//! the agent's model endpoints, with fallbacks and a circuit breaker; [`live`] is a
//! turn spoken while the model writes it.
//!
//! Dependency rule (checked by a test): no web framework here.

pub mod accounts;
pub mod agents;
pub mod calls;
pub mod conflict;
pub mod engine;
pub mod events;
pub mod live;
pub mod locks;
pub mod models;
pub mod telephony;
pub mod tools;

pub use calls::{CallError, CallService, Finish, Input, Placed, Progress, Step};
pub use live::Live;
pub use locks::{CallGuard, CallLocks, InProcessLocks, StoreLocks};
pub use models::{Answer, Ask, Fallback, ModelSettings, Models};
pub use telephony::{Telephony, TelephonyError};
