//! Webhooks: where events go, which ones, how they are shaped, and the secret that signs
//! them. Validation here is what the API refuses with a 422 naming the field.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ValidationError;
use crate::event::EventType;
use crate::id::{WebhookId, WorkspaceId};

pub mod health;
pub mod routing;

/// Every secret starts with this.
pub const SECRET_PREFIX: &str = "whsec_";

/// A webhook's signing secret: `whsec_` and the base64 of 32 random bytes. `Debug` does
/// not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
    }

    /// Accepts a secret a user supplies: `whsec_` and base64 of 24 to 64 bytes.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let ok = s
            .strip_prefix(SECRET_PREFIX)
            .and_then(|b| STANDARD.decode(b).ok())
            .is_some_and(|k| (24..=64).contains(&k.len()));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ValidationError::new(
                "secret",
                "a secret is `whsec_` followed by the base64 of 24 to 64 random bytes",
            ))
        }
    }

    /// The whole secret string (the key of `X-Frontdesk-Signature`).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The HMAC key of Standard Webhooks signatures: the base64-decoded part after `whsec_`.
    #[must_use]
    pub fn key_bytes(&self) -> Vec<u8> {
        self.0
            .strip_prefix(SECRET_PREFIX)
            .and_then(|b| STANDARD.decode(b).ok())
            .unwrap_or_default()
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(whsec_…)")
    }
}

/// The HTTP method deliveries use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    #[default]
    Post,
    Put,
    Patch,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s.to_ascii_uppercase().as_str() {
            "POST" => Ok(Self::Post),
            "PUT" => Ok(Self::Put),
            "PATCH" => Ok(Self::Patch),
            _ => Err(ValidationError::new(
                "method",
                format!("`{s}` is not allowed; use POST, PUT or PATCH"),
            )),
        }
    }
}

/// A webhook's configuration, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSpec {
    pub name: String,
    /// May hold `{{variables}}`.
    pub url: String,
    /// Empty: every event.
    pub events: Vec<EventType>,
    pub method: HttpMethod,
    /// Values may hold `{{variables}}`.
    pub headers: BTreeMap<String, String>,
    pub body_template: Option<Value>,
    /// Empty: every number.
    pub numbers: Vec<String>,
    pub active: bool,
}

/// Checks a name: 1 to 100 characters on one line.
pub fn validate_name(name: &str) -> Result<String, ValidationError> {
    crate::input::single_line("name", name, 100)
}

/// A stored webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: WebhookId,
    pub workspace_id: WorkspaceId,
    pub spec: WebhookSpec,
    pub secret: WebhookSecret,
    /// The secret before the last rotation, still signing until it expires.
    pub previous_secret: Option<(WebhookSecret, DateTime<Utc>)>,
    /// Why the webhook was disabled by Frontdesk (410, long failure), if it was.
    pub disabled_reason: Option<String>,
    /// Start of the current run of failed attempts.
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WebhookSpec {
    /// Whether an event goes to this webhook (filters only; `active` aside: see
    /// [`routing::routes_to`]).
    #[must_use]
    pub fn matches(&self, event: EventType, number: Option<&str>) -> bool {
        (self.events.is_empty() || self.events.contains(&event))
            && (self.numbers.is_empty() || number.is_some_and(|n| self.numbers.iter().any(|m| m == n)))
    }
}

impl Webhook {
    /// The secrets that sign at `now`: the current one, then the previous one during its
    /// rotation window.
    #[must_use]
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&WebhookSecret> {
        let mut v = vec![&self.secret];
        if let Some((old, until)) = &self.previous_secret
            && *until > now
        {
            v.push(old);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets() {
        let s = WebhookSecret::generate();
        assert!(s.expose().starts_with("whsec_"));
        assert_eq!(s.key_bytes().len(), 32);
        assert_eq!(WebhookSecret::parse(s.expose()), Ok(s.clone()));
        assert!(WebhookSecret::parse("whsec_short").is_err());
        assert!(WebhookSecret::parse("nope").is_err());
        assert!(!format!("{s:?}").contains(&s.expose()[6..]));
    }

    #[test]
    fn filters() {
        let spec = WebhookSpec {
            name: "n".into(),
            url: "https://x.example".into(),
            events: vec![EventType::CallEnded],
            method: HttpMethod::Post,
            headers: BTreeMap::new(),
            body_template: None,
            numbers: vec!["+15550100000".into()],
            active: true,
        };
        assert!(spec.matches(EventType::CallEnded, Some("+15550100000")));
        assert!(!spec.matches(EventType::CallAnswered, Some("+15550100000")));
        assert!(!spec.matches(EventType::CallEnded, Some("+15550100001")));
        assert!(!spec.matches(EventType::CallEnded, None));
    }
}
