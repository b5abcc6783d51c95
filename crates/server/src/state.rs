//! Shared state handed to every handler and middleware.

use std::sync::Arc;

use frontdesk_delivery::Dispatcher;
use frontdesk_store::Store;

use crate::ServerSettings;
use crate::rate_limit::RateLimiter;
use crate::receptionist::Receptionist;
use crate::telephony::rest::TwilioRest;
use frontdesk_core::secret::MasterKey;

/// Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub settings: Arc<ServerSettings>,
    pub limiter: Arc<RateLimiter>,
    /// Webhook delivery; events enter the system through [`Dispatcher::emit`].
    pub dispatcher: Arc<Dispatcher>,
    /// Starts and carries calls.
    pub receptionist: Arc<Receptionist>,
    /// Seals stored provider credentials; `None` without `FRONTDESK_MASTER_KEY`.
    pub master_key: Option<Arc<MasterKey>>,
    /// Twilio's REST API (outbound calls, hang-ups).
    pub twilio: Arc<TwilioRest>,
}
