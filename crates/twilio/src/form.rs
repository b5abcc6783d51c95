//! Twilio's request bodies: `application/x-www-form-urlencoded`, read strictly and
//! within bounds (a stranger's body is counted before anything is decoded).

/// Most parameters a Twilio form may carry (Twilio sends a few dozen).
pub const MAX_FORM_PARAMS: usize = 256;

/// Largest body a Twilio webhook may have (Twilio's are a few kilobytes).
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// Why a form body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// More pairs than [`MAX_FORM_PARAMS`].
    #[error("the form has {0} parameters; Twilio sends a few dozen, and at most {MAX_FORM_PARAMS} are read")]
    TooManyParameters(usize),
    /// Not a well-formed form.
    #[error("the form body is malformed: {0}")]
    Malformed(&'static str),
}

/// Parses an `application/x-www-form-urlencoded` body strictly: UTF-8, well-formed
/// percent escapes, UTF-8 after decoding.
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, FormError> {
    // Counted before anything is decoded: a form of more pairs is refused at once.
    let pairs = body.iter().filter(|b| **b == b'&').count() + 1;
    if pairs > MAX_FORM_PARAMS {
        return Err(FormError::TooManyParameters(pairs));
    }
    let text = std::str::from_utf8(body).map_err(|_| FormError::Malformed("it is not UTF-8"))?;
    let bytes = text.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err(FormError::Malformed("a `%` is not followed by two hexadecimal digits"));
        }
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if params
        .iter()
        .any(|(k, v)| k.contains('\u{FFFD}') || v.contains('\u{FFFD}'))
    {
        return Err(FormError::Malformed("a value is not UTF-8 once decoded"));
    }
    Ok(params)
}

/// A parsed Twilio form.
#[derive(Debug, Clone, Default)]
pub struct Form {
    params: Vec<(String, String)>,
}

impl Form {
    #[must_use]
    pub fn new(params: Vec<(String, String)>) -> Self {
        Self { params }
    }

    /// Every pair, in the order sent (what the signature covers).
    #[must_use]
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// A parameter's value; an empty value reads as absent.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A parameter's value parsed as a number of seconds, or the like.
    #[must_use]
    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(|d| d.parse().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_read_strictly() {
        let p = parse_form(b"CallSid=CA1&SpeechResult=I%27d+like+a+quote&Empty=").expect("parses");
        assert_eq!(p[1], ("SpeechResult".into(), "I'd like a quote".into()));
        assert_eq!(p[2], ("Empty".into(), String::new()));
        for bad in [&b"a=%zz"[..], b"a=%4", b"a=%FF%FE", b"\xff=1"] {
            assert!(matches!(parse_form(bad), Err(FormError::Malformed(_))), "{bad:?}");
        }
        let many = vec!["a=1"; MAX_FORM_PARAMS + 1].join("&");
        assert_eq!(
            parse_form(many.as_bytes()),
            Err(FormError::TooManyParameters(MAX_FORM_PARAMS + 1))
        );
    }

    #[test]
    fn empty_values_read_as_absent() {
        let f = Form::new(parse_form(b"A=1&B=&C=x").expect("parses"));
        assert_eq!(f.get("A"), Some("1"));
        assert_eq!(f.get("B"), None);
        assert_eq!(f.int("A"), Some(1));
        assert_eq!(f.int("C"), None);
    }
}
