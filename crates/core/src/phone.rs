//! Phone numbers in E.164 form (`+15551234567`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ValidationError;

/// A phone number in E.164: `+`, then 8 to 15 digits, the first not zero. Input may
/// carry spaces, dots, dashes and parentheses (`+1 (555) 010-0000`); they are removed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let compact: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let ok = compact.strip_prefix('+').is_some_and(|digits| {
            (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
        });
        if ok {
            Ok(Self(compact))
        } else {
            Err(ValidationError::new(
                "number",
                format!(
                    "`{s}` is not a phone number in E.164 form; write it as `+` and the country code, for example `+15550100000`"
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for PhoneNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(|e| serde::de::Error::custom(e.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164() {
        assert_eq!(
            PhoneNumber::parse("+1 (555) 010-0000").unwrap().as_str(),
            "+15550100000"
        );
        for bad in [
            "5550100000",
            "+0123456789",
            "+1555",
            "+1555abc0000",
            "",
            "+1234567890123456",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
    }
}
