//! Telephony: real phone calls through Twilio.
//!
//! [`twilio`] answers Twilio's Voice webhooks (incoming call, speech results, transfer
//! and recording callbacks, status callbacks) with TwiML; [`relay`] carries calls over
//! ConversationRelay's WebSocket; [`rest`] places and ends calls through Twilio's REST
//! API. Every request from Twilio is checked with [`signature`] before anything is read
//! or recorded; [`twiml`] writes the answers. The conversation itself is the
//! [`crate::receptionist::Receptionist`]'s, exactly as for simulated calls.

pub mod accounts;
pub mod relay;
pub mod rest;
pub mod signature;
pub mod twilio;
pub mod twiml;
