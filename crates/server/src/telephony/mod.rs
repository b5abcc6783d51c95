//! Telephony adapters: real phone calls through Twilio, over the application layer.
//!
//! [`request`] is what every request from Twilio goes through (the signature check,
//! the form, the call it is about); [`twilio`] answers Twilio's Voice webhooks
//! (incoming call, speech results, transfer and recording callbacks, status callbacks)
//! with TwiML; [`relay`] carries calls over ConversationRelay's WebSocket. Twilio's
//! protocol itself (signatures, forms, TwiML, the REST client) is `frontdesk_twilio`'s;
//! the calls are [`frontdesk_app::CallService`]'s, exactly as for simulated calls.

pub mod relay;
pub mod request;
pub mod twilio;

use axum::Router;
use axum::routing::post;

use crate::state::AppState;

/// The routes Twilio calls (no API key: the signature authenticates them).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/telephony/twilio/voice", post(twilio::voice))
        .route("/telephony/twilio/gather", post(twilio::gather))
        .route("/telephony/twilio/dial", post(twilio::dial))
        .route("/telephony/twilio/recording", post(twilio::recording))
        .route("/telephony/twilio/status", post(twilio::status))
        .route(
            "/telephony/twilio/relay",
            post(twilio::relay_action).get(relay::connect),
        )
        .layer(axum::middleware::from_fn(twilio::server_timing))
}
