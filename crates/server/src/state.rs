//! The router's state, and the parts handlers take from it.
//!
//! Handlers and middleware take only what they use, as `State<Part>` (axum's
//! [`FromRef`]): the store, the call service, the settings, the rate limiter, the
//! dispatcher, the Twilio accounts. Only the router is built over the whole.

use std::sync::Arc;

use axum::extract::FromRef;
use frontdesk_app::accounts::TwilioAccounts;
use frontdesk_app::{CallService, Models};
use frontdesk_delivery::Dispatcher;
use frontdesk_store::Store;

use crate::ServerSettings;
use crate::rate_limit::RateLimiter;

/// Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub settings: Arc<ServerSettings>,
    pub limiter: Arc<RateLimiter>,
    /// Webhook delivery; events enter the system through [`Dispatcher::emit`].
    pub dispatcher: Arc<Dispatcher>,
    /// Starts, carries, places and finishes calls.
    pub calls: Arc<CallService>,
    /// Which Twilio token speaks for which workspace; stores credentials sealed.
    pub accounts: Arc<TwilioAccounts>,
    /// The agents' language model endpoints (one per process: its circuit breaker
    /// is shared by every call).
    pub models: Arc<Models>,
}

macro_rules! part {
    ($ty:ty, $field:ident) => {
        impl FromRef<AppState> for $ty {
            fn from_ref(s: &AppState) -> Self {
                s.$field.clone()
            }
        }
    };
}

part!(Arc<dyn Store>, store);
part!(Arc<ServerSettings>, settings);
part!(Arc<RateLimiter>, limiter);
part!(Arc<Dispatcher>, dispatcher);
part!(Arc<CallService>, calls);
part!(Arc<TwilioAccounts>, accounts);
part!(Arc<Models>, models);

/// The parts as handlers take them (`State(store): StoreState`).
pub type StoreState = axum::extract::State<Arc<dyn Store>>;
/// The server's settings, as handlers take them.
pub type SettingsState = axum::extract::State<Arc<ServerSettings>>;
/// The call service, as handlers take it.
pub type CallsState = axum::extract::State<Arc<CallService>>;
/// The webhook dispatcher, as handlers take it.
pub type DispatcherState = axum::extract::State<Arc<Dispatcher>>;
/// The Twilio accounts, as handlers take them.
pub type AccountsState = axum::extract::State<Arc<TwilioAccounts>>;
