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
use crate::net::TargetPolicy;
use crate::template::{Encoding, Renderer};

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

/// Headers Frontdesk sets itself.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "user-agent",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
];

/// Checks a name: 1 to 100 characters.
pub fn validate_name(name: &str) -> Result<String, ValidationError> {
    let t = name.trim();
    if t.is_empty() || t.chars().count() > 100 || t.chars().any(char::is_control) {
        return Err(ValidationError::new(
            "name",
            "a name must be 1 to 100 characters without control characters",
        ));
    }
    Ok(t.to_owned())
}

/// Checks a target URL (template): http or https, a host, at most 2048 characters, and,
/// when the host is a literal IP address, one the policy allows.
pub fn validate_url(url: &str, policy: &TargetPolicy) -> Result<(), ValidationError> {
    let err = |m: String| ValidationError::new("url", m);
    if url.len() > 2048 {
        return Err(err("the URL is longer than 2048 characters".into()));
    }
    // Variables render as a harmless placeholder for the check.
    let mut ctx = serde_json::Map::new();
    for name in crate::template::referenced(url) {
        ctx.insert(name, Value::String("x".into()));
    }
    let rendered = Renderer::new(&ctx)
        .render(url, Encoding::UrlComponent)
        .map_err(|e| err(e.to_string()))?;
    let parsed = url::Url::parse(&rendered).map_err(|e| {
        err(format!(
            "`{url}` is not a valid URL ({e}); write for example https://crm.example.com/hooks"
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(err(format!(
            "the scheme must be http or https, not `{}`",
            parsed.scheme()
        )));
    }
    match parsed.host() {
        None => Err(err("the URL has no host".into())),
        Some(url::Host::Ipv4(ip)) => policy.check(ip.into()).map_err(err),
        Some(url::Host::Ipv6(ip)) => policy.check(ip.into()).map_err(err),
        Some(url::Host::Domain(_)) => Ok(()),
    }
}

/// Checks custom headers: valid names, not ones Frontdesk sets, no line breaks.
pub fn validate_headers(headers: &BTreeMap<String, String>) -> Result<(), ValidationError> {
    if headers.len() > 50 {
        return Err(ValidationError::new("headers", "at most 50 custom headers"));
    }
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        let valid_name = !name.is_empty()
            && name.len() <= 256
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !valid_name {
            return Err(ValidationError::new(
                "headers",
                format!("`{name}` is not a valid header name"),
            ));
        }
        if RESERVED_HEADERS.contains(&lower.as_str()) || lower.starts_with("x-frontdesk-") {
            return Err(ValidationError::new(
                "headers",
                format!("`{name}` is set by Frontdesk and cannot be overridden"),
            ));
        }
        if value.len() > 8192 || value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(ValidationError::new(
                "headers",
                format!("the value of `{name}` must be at most 8 KiB without line breaks or control characters"),
            ));
        }
    }
    Ok(())
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
    /// Whether an event goes to this webhook (filters only; `active` aside).
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
    fn urls() {
        let p = TargetPolicy::default();
        assert!(validate_url("https://crm.example.com/hooks", &p).is_ok());
        assert!(validate_url("https://crm.example.com/l/{{call_id}}?p={{caller_number}}", &p).is_ok());
        assert!(validate_url("https://{{host}}.example.com/", &p).is_ok());
        for bad in [
            "ftp://x.example",
            "not a url",
            "https://",
            "http://127.0.0.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/x",
            "http://169.254.169.254/latest",
            "http://10.0.0.1:8080/",
            "http://0x7f000001/",
        ] {
            assert!(validate_url(bad, &p).is_err(), "{bad}");
        }
        let open = TargetPolicy {
            allow_private: true,
            allowed: vec![],
        };
        assert!(validate_url("http://127.0.0.1:9/", &open).is_ok());
    }

    #[test]
    fn headers() {
        let h = |k: &str, v: &str| BTreeMap::from([(k.to_owned(), v.to_owned())]);
        assert!(validate_headers(&h("Authorization", "Bearer {{x}}")).is_ok());
        assert!(validate_headers(&h("X-Frontdesk-Event", "x")).is_err());
        assert!(validate_headers(&h("webhook-signature", "x")).is_err());
        assert!(validate_headers(&h("bad name", "x")).is_err());
        assert!(validate_headers(&h("X-A", "a\r\nInjected: 1")).is_err());
        assert!(validate_headers(&h("X-A", "a\u{1}b")).is_err());
        assert!(validate_headers(&h("X-A", "a\u{7f}b")).is_err());
        assert!(validate_headers(&h("X-A", "a\tb")).is_ok());
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
