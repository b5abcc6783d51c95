//! Telephony provider credentials of a workspace (Twilio's account SID and auth token).
//!
//! The secret part is held here only sealed (encrypted by the server with the master
//! key); this module knows the record's shape and how an account SID looks, nothing of
//! the encryption.

use chrono::{DateTime, Utc};

use crate::ValidationError;
use crate::agent::Provider;
use crate::id::WorkspaceId;

/// A Twilio account SID: `AC` followed by 32 hexadecimal digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSid(String);

impl AccountSid {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = s.trim();
        let ok = s.len() == 34 && s.starts_with("AC") && s[2..].bytes().all(|b| b.is_ascii_hexdigit());
        if ok {
            // Twilio writes SIDs with lower-case hex digits.
            Ok(Self(format!("AC{}", s[2..].to_ascii_lowercase())))
        } else {
            Err(ValidationError::new(
                "account_sid",
                "a Twilio account SID is `AC` followed by 32 hexadecimal digits; copy it from the Twilio console (Account Info)",
            ))
        }
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A provider's credentials as stored: the secret sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredentials {
    pub workspace_id: WorkspaceId,
    pub provider: Provider,
    /// Twilio's account SID (not secret).
    pub account_sid: String,
    /// The auth token, encrypted (opaque text made by the server).
    pub sealed_secret: String,
    /// The last characters of the secret, to recognise it by.
    pub secret_hint: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The last four characters of a secret, behind an ellipsis.
#[must_use]
pub fn hint(secret: &str) -> String {
    let tail: String = secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("...{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_sids() {
        assert!(AccountSid::parse("AC0123456789abcdef0123456789abcdef").is_ok());
        assert_eq!(
            AccountSid::parse(" AC0123456789ABCDEF0123456789ABCDEF ")
                .unwrap()
                .as_str(),
            "AC0123456789abcdef0123456789abcdef"
        );
        for bad in [
            "",
            "AC123",
            "CA0123456789abcdef0123456789abcdef",
            "AC0123456789abcdef0123456789abcdeg",
        ] {
            let e = AccountSid::parse(bad).unwrap_err();
            assert_eq!(e.field, "account_sid");
        }
    }

    #[test]
    fn hints_show_four() {
        assert_eq!(hint("abcdef123456"), "...3456");
        assert_eq!(hint("ab"), "...ab");
    }
}
