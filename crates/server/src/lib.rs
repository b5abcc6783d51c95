//! Frontdesk's HTTP server.
//!
//! Layered by concern: [`error`] maps every failure to the JSON error shape at the edge,
//! [`extract`] turns bad input into those errors, [`auth`], [`rate_limit`] and
//! [`idempotency`] are the `/v1` middleware, [`guard`] and [`serve`] bound what a
//! stranger can make the server hold (bodies, headers, connections), [`routes`] holds one router per resource,
//! and [`startup`] assembles them into an [`Application`] bound to a port.
//!
//! The server never talks SQL: it reaches data only through [`frontdesk_store::Store`],
//! and it carries calls only through the application layer ([`frontdesk_app`]).

pub mod auth;
pub mod bootstrap;
pub mod dashboard;
pub mod error;
pub mod extract;
pub mod guard;
pub mod idempotency;
pub mod metrics;
pub mod rate_limit;
pub mod routes;
pub mod serve;
pub mod settings;
pub mod startup;
pub mod state;
pub mod telephony;

pub use error::ApiError;
pub use settings::{RateLimitSettings, ServerSettings};
pub use startup::Application;
