//! Values passed into and out of the store that are not domain records.

use frontdesk_core::agent::{Agent, Number};
use frontdesk_core::api_key::{ApiKey, ApiKeyName, ApiKeySecret};
use frontdesk_core::workspace::Workspace;

/// A key to store: its label and what is kept of its secret (digest and prefix).
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub digest: String,
    pub prefix: String,
}

impl NewApiKey {
    #[must_use]
    pub fn new(name: &ApiKeyName, secret: &ApiKeySecret) -> Self {
        Self {
            name: name.as_str().to_owned(),
            digest: secret.digest(),
            prefix: secret.display_prefix().to_owned(),
        }
    }
}

/// What [`crate::Store::bootstrap_if_empty`] created.
#[derive(Debug, Clone)]
pub struct Bootstrapped {
    pub workspace: Workspace,
    pub api_key: ApiKey,
    pub agent: Agent,
    pub number: Number,
}

/// A response kept for replay under an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// The state of an idempotency key when a request arrives with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// First use (or an expired or abandoned record): run the request.
    Started,
    /// The first request with this key is still running.
    InProgress,
    /// The key was used with another request body or path.
    Mismatch,
    /// The first request finished: replay its response.
    Completed(StoredResponse),
}
