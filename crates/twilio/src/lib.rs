//! Twilio's protocol, as Frontdesk speaks it, in one place and without any server
//! state: how Twilio signs its requests ([`signature`], with the one check every
//! Twilio request goes through, [`signature::verify`]), how its form bodies are read
//! ([`form`]), the TwiML answers ([`twiml`]), its call statuses ([`status`]) and the
//! REST API that places and ends calls ([`rest`]).
//!
//! Nothing here knows about HTTP frameworks, the store or a call's conversation: the
//! server's Twilio adapter reads requests with these, and the application layer places
//! and ends calls with [`rest::TwilioRest`].

pub mod form;
pub mod rest;
pub mod signature;
pub mod status;
pub mod twiml;

pub use form::{Form, FormError};
pub use rest::{CallResource, NewCall, RestError, TwilioAccount, TwilioRest};
pub use signature::{Algorithm, SignatureError};
pub use twiml::{Attrs, Verb};

/// The public base URL as a WebSocket URL (`https` -> `wss`, `http` -> `ws`).
#[must_use]
pub fn websocket_base(base: &str) -> String {
    if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_owned()
    }
}
