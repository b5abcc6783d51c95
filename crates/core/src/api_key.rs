//! API keys: `fd_live_` followed by 40 random base62 characters (about 238 bits).
//!
//! The secret is shown once, at creation. At rest only its SHA-256 digest is kept; a
//! request's key is hashed and looked up by digest. Because keys are long and random, a
//! fast hash is enough (no password-hashing work factor is needed) and the lookup by
//! digest leaks nothing useful through timing.

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::ValidationError;
use crate::id::{ApiKeyId, WorkspaceId};

/// Every key starts with this.
pub const KEY_PREFIX: &str = "fd_live_";
const RANDOM_LEN: usize = 40;
/// How many leading characters of a key are kept in clear, to tell keys apart in lists.
pub const DISPLAY_PREFIX_LEN: usize = KEY_PREFIX.len() + 4;
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A key's secret. Its `Debug` never shows the secret, so it cannot leak into logs.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeySecret(String);

impl ApiKeySecret {
    /// A new random key.
    #[must_use]
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let random: String = (0..RANDOM_LEN)
            .map(|_| char::from(BASE62[rng.random_range(0..BASE62.len())]))
            .collect();
        Self(format!("{KEY_PREFIX}{random}"))
    }

    /// Checks the shape of a presented key (prefix, at least 32 base62 characters).
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let ok = s.strip_prefix(KEY_PREFIX).is_some_and(|rest| {
            rest.len() >= 32 && rest.len() <= 128 && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ValidationError::new(
                "api_key",
                "API keys look like `fd_live_` followed by at least 32 letters and digits",
            ))
        }
    }

    /// The secret itself, for showing once to the person who created it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The digest stored at rest and used for lookups (hex SHA-256).
    #[must_use]
    pub fn digest(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }

    /// The first characters, kept in clear to tell keys apart in lists.
    pub fn display_prefix(&self) -> &str {
        &self.0[..DISPLAY_PREFIX_LEN]
    }
}

impl std::fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKeySecret({}…)", self.display_prefix())
    }
}

/// A key's label, chosen by its creator: 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyName(String);

impl ApiKeyName {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let t = s.trim();
        if t.is_empty() || t.chars().count() > 100 || t.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "name",
                "a key name must be 1 to 100 characters without control characters (for example `crm-sync`)",
            ));
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored API key: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    /// The first characters of the key, for telling keys apart.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_documented_shape() {
        let k = ApiKeySecret::generate();
        assert!(k.expose().starts_with("fd_live_"));
        assert_eq!(k.expose().len(), 8 + 40);
        assert!(ApiKeySecret::parse(k.expose()).is_ok());
        assert_ne!(k, ApiKeySecret::generate());
        assert_eq!(k.display_prefix().len(), 12);
    }

    #[test]
    fn debug_hides_the_secret() {
        let k = ApiKeySecret::generate();
        assert!(!format!("{k:?}").contains(&k.expose()[12..]));
    }

    #[test]
    fn malformed_keys_are_refused() {
        for bad in [
            "",
            "fd_live_",
            "fd_test_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "fd_live_short",
            "fd_live_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!a",
        ] {
            assert!(ApiKeySecret::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn digest_is_stable_hex_sha256() {
        let k = ApiKeySecret::parse("fd_live_0123456789abcdefghijABCDEFGHIJ0123").unwrap();
        assert_eq!(k.digest(), k.digest());
        assert_eq!(k.digest().len(), 64);
    }

    #[test]
    fn names() {
        assert_eq!(ApiKeyName::parse("  crm  ").unwrap().as_str(), "crm");
        assert!(ApiKeyName::parse(" ").is_err());
        assert!(ApiKeyName::parse("a\nb").is_err());
        assert!(ApiKeyName::parse(&"x".repeat(101)).is_err());
    }
}
