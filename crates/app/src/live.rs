//! A turn spoken while it is composed (Twilio's ConversationRelay): the model's words
//! go out to the caller as they stream, and the caller may cut in.
//!
//! The channel that carries the line ([`crate::CallService::turn_live`]) hands a
//! [`Live`]: text deltas of a spoken completion arrive on `text` as the model writes
//! them (the channel cuts them into sentences), and cancelling `cancel` stops the
//! model's stream (the caller interrupted or hung up): what was already streamed is
//! what the turn said. Other channels (the simulator, `<Gather>`) speak the whole reply.

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// How a live turn streams and is cancelled (see the module documentation).
#[derive(Debug, Clone, Default)]
pub struct Live {
    /// Text deltas of the completion the caller hears, as they stream.
    pub text: Option<UnboundedSender<String>>,
    /// Cancelled when the caller cuts in or hangs up.
    pub cancel: CancellationToken,
}
