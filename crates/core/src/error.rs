//! The core layer's one error type: a value that does not satisfy a domain rule.

use std::fmt;

/// A value was rejected by a domain rule. `field` names what was wrong (a JSON field, a
/// setting, a CLI argument) and `message` says what is expected, so every layer above
/// can show it to a person as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error, reported against another field name (for example the JSON
    /// field or setting a newtype was parsed from).
    #[must_use]
    pub fn for_field(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ValidationError {}
