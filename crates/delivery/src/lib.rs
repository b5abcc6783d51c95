//! Frontdesk webhook delivery.
//!
//! [`signer`] signs (and, for `frontdesk listen`, verifies) both signature schemes;
//! [`client`] is the only HTTP client that opens connections to customer URLs, with the
//! SSRF guard at DNS resolution and connect; [`request`] renders a delivery into the HTTP
//! request to send; [`dispatcher`] claims due deliveries, sends them with bounded
//! concurrency, and records every attempt.

pub mod client;
pub mod dispatcher;
pub mod request;
pub mod signer;

pub use client::{GuardedClient, Response, SendError, install_crypto};
pub use dispatcher::{DeliverySettings, Dispatcher};
