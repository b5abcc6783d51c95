//! Workspaces: the tenants. A workspace owns its agents, numbers, keys, webhooks, calls,
//! events and deliveries; nothing crosses workspaces.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ValidationError;
use crate::id::WorkspaceId;

/// The workspace created on first start.
pub const DEFAULT_WORKSPACE: &str = "default";

/// A workspace name: 1 to 64 characters of lower-case letters, digits, `-` and `_`,
/// starting with a letter or digit. Names are how people and the CLI refer to workspaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkspaceName(String);

impl WorkspaceName {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let ok_len = (1..=64).contains(&s.len());
        let ok_first = s
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let ok_chars = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if ok_len && ok_first && ok_chars {
            Ok(Self(s.to_owned()))
        } else {
            Err(ValidationError::new(
                "workspace",
                format!(
                    "`{s}` is not a valid workspace name; use 1 to 64 lower-case letters, digits, `-` or `_`, starting with a letter or digit (for example `acme-plumbing`)"
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for WorkspaceName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(WorkspaceName::parse("default").is_ok());
        assert!(WorkspaceName::parse("acme-plumbing_2").is_ok());
        for bad in ["", "Acme", "-x", "a b", "ä", &"x".repeat(65)] {
            assert!(WorkspaceName::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
