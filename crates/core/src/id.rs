//! Prefixed, time-sortable identifiers (`call_01J...`, `key_01J...`).
//!
//! Every id is its resource prefix, an underscore and a ULID (26 characters of Crockford
//! base32). ULIDs start with the creation time in milliseconds, so ids sort by creation
//! time; lists page on them (newest first) without a separate timestamp index.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ValidationError;

macro_rules! prefixed_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The prefix every id of this kind starts with, underscore included.
            pub const PREFIX: &'static str = concat!($prefix, "_");

            /// A new id for a record created now.
            #[must_use]
            pub fn generate() -> Self {
                Self(format!("{}{}", Self::PREFIX, ulid::Ulid::new()))
            }

            /// Parses an id, checking its prefix and ULID part.
            pub fn parse(s: &str) -> Result<Self, ValidationError> {
                parse_prefixed(s, Self::PREFIX, $what).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

fn parse_prefixed(s: &str, prefix: &str, what: &str) -> Result<String, ValidationError> {
    let bad = || {
        ValidationError::new(
            "id",
            format!(
                "`{s}` is not a valid {what} id; {what} ids look like `{prefix}` followed by 26 letters and digits"
            ),
        )
    };
    let rest = s.strip_prefix(prefix).ok_or_else(bad)?;
    let ulid = ulid::Ulid::from_string(rest).map_err(|_| bad())?;
    // Canonical form: upper-case Crockford base32, as generated.
    Ok(format!("{prefix}{ulid}"))
}

prefixed_id!(
    /// A workspace: the tenant that owns everything else.
    WorkspaceId, "ws", "workspace");
prefixed_id!(
    /// An API key (its id, not its secret).
    ApiKeyId, "key", "API key");
prefixed_id!(
    /// An agent: a receptionist configuration.
    AgentId, "agt", "agent");
prefixed_id!(
    /// A phone number routed to an agent.
    NumberId, "num", "number");
prefixed_id!(
    /// A phone call.
    CallId, "call", "call");
prefixed_id!(
    /// A stored event.
    EventId, "evt", "event");
prefixed_id!(
    /// A webhook endpoint.
    WebhookId, "wh", "webhook");
prefixed_id!(
    /// One event's delivery to one webhook.
    DeliveryId, "dlv", "delivery");
prefixed_id!(
    /// A dashboard user.
    UserId, "usr", "user");
prefixed_id!(
    /// A knowledge document of an agent.
    DocumentId, "doc", "document");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_round_trip_and_sort_by_time() {
        let a = ApiKeyId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = ApiKeyId::generate();
        assert!(a.as_str().starts_with("key_"));
        assert_eq!(a.as_str().len(), 4 + 26);
        assert_eq!(ApiKeyId::parse(a.as_str()), Ok(a.clone()));
        assert!(b > a, "later ids sort after earlier ones");
    }

    #[test]
    fn wrong_prefix_or_garbage_is_refused_with_a_clear_message() {
        let id = CallId::generate();
        let err = ApiKeyId::parse(id.as_str()).unwrap_err();
        assert!(err.message.contains("API key ids look like `key_`"), "{err}");
        assert!(ApiKeyId::parse("key_nope").is_err());
        assert!(ApiKeyId::parse("").is_err());
    }

    #[test]
    fn lower_case_ids_are_accepted_and_canonicalised() {
        let id = AgentId::generate();
        let lower = id.as_str().to_lowercase();
        assert_eq!(AgentId::parse(&lower), Ok(id));
    }

    #[test]
    fn serde_validates() {
        let ok: Result<WebhookId, _> = serde_json::from_str("\"wh_01ARZ3NDEKTSV4RRFFQ69G5FAV\"");
        assert!(ok.is_ok());
        let bad: Result<WebhookId, _> = serde_json::from_str("\"dlv_01ARZ3NDEKTSV4RRFFQ69G5FAV\"");
        assert!(bad.is_err());
    }
}
