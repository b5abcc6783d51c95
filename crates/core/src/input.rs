//! One input discipline for everything a tenant configures: the same refusals, from this
//! one place, for every resource (agents and their tools, webhooks, keys).
//!
//! - Names and short labels are one line: no control characters at all.
//! - Longer texts (greetings, answers) may hold line breaks and tabs, no other control
//!   characters.
//! - Target URLs (webhooks, tools) are http(s) with a host, at most 2048 characters, and a
//!   literal IP address must be one the SSRF policy allows; `{{variables}}` are checked
//!   as a harmless placeholder. Hostnames are checked again at every connect.
//! - Custom headers: valid names, not ones Frontdesk sets, values without line breaks or
//!   control characters, bounded in number and size.
//! - Body templates are JSON objects, bounded in size and depth.
//!
//! The JSON syntax every body must keep (no trailing bytes, no duplicate keys) is
//! checked where bodies are read (the server's `extract` module).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::ValidationError;
use crate::net::TargetPolicy;
use crate::template::{Encoding, Renderer};

/// Longest URL accepted.
pub const MAX_URL_CHARS: usize = 2048;
/// Most custom headers on a webhook or tool.
pub const MAX_HEADERS: usize = 50;
/// Longest header value.
pub const MAX_HEADER_VALUE_BYTES: usize = 8192;
/// Largest body template, as compact JSON.
pub const MAX_TEMPLATE_BYTES: usize = 32 * 1024;
/// Deepest nesting of a body template.
pub const MAX_TEMPLATE_DEPTH: usize = 16;

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

/// A one-line text of 1 to `max` characters (trimmed), without control characters.
pub fn single_line(field: &str, value: &str, max: usize) -> Result<String, ValidationError> {
    let t = value.trim();
    if t.is_empty() {
        return Err(ValidationError::new(field, "must not be blank"));
    }
    if t.chars().count() > max {
        return Err(ValidationError::new(field, format!("is longer than {max} characters")));
    }
    if t.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must be one line without control characters",
        ));
    }
    Ok(t.to_owned())
}

/// A text of at most `max` characters (trimmed; may be empty), with line breaks and
/// tabs but no other control characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, ValidationError> {
    let t = value.trim();
    if t.chars().count() > max {
        return Err(ValidationError::new(field, format!("is longer than {max} characters")));
    }
    if t.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(ValidationError::new(
            field,
            "must not hold control characters (line breaks and tabs are fine)",
        ));
    }
    Ok(t.to_owned())
}

/// Checks a target URL (template): http or https, a host, at most 2048 characters, and,
/// when the host is a literal IP address, one the policy allows.
pub fn target_url(field: &str, url: &str, policy: &TargetPolicy) -> Result<(), ValidationError> {
    let err = |m: String| ValidationError::new(field, m);
    if url.chars().count() > MAX_URL_CHARS {
        return Err(err(format!("the URL is longer than {MAX_URL_CHARS} characters")));
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(err(
            "the URL holds spaces or control characters; percent-encode them".into()
        ));
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

/// Checks custom headers: at most 50, valid names, not ones Frontdesk sets, values of at
/// most 8 KiB without line breaks or control characters.
pub fn headers(field: &str, headers: &BTreeMap<String, String>) -> Result<(), ValidationError> {
    if headers.len() > MAX_HEADERS {
        return Err(ValidationError::new(
            field,
            format!("at most {MAX_HEADERS} custom headers"),
        ));
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
                field,
                format!("`{name}` is not a valid header name"),
            ));
        }
        if RESERVED_HEADERS.contains(&lower.as_str()) || lower.starts_with("x-frontdesk-") {
            return Err(ValidationError::new(
                field,
                format!("`{name}` is set by Frontdesk and cannot be overridden"),
            ));
        }
        if value.len() > MAX_HEADER_VALUE_BYTES || value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(ValidationError::new(
                field,
                format!("the value of `{name}` must be at most 8 KiB without line breaks or control characters"),
            ));
        }
    }
    Ok(())
}

/// Checks a body template: a JSON object (whose string leaves are templates), at most
/// 32 KiB as compact JSON and 16 levels deep.
pub fn body_template(field: &str, template: &Value) -> Result<(), ValidationError> {
    if !template.is_object() {
        return Err(ValidationError::new(
            field,
            "a body template is a JSON object whose string values are templates (or null for the default body)",
        ));
    }
    if depth(template) > MAX_TEMPLATE_DEPTH {
        return Err(ValidationError::new(
            field,
            format!("is nested deeper than {MAX_TEMPLATE_DEPTH} levels"),
        ));
    }
    let size = serde_json::to_vec(template).map_or(usize::MAX, |v| v.len());
    if size > MAX_TEMPLATE_BYTES {
        return Err(ValidationError::new(
            field,
            format!("is {size} bytes as JSON; a body template is at most {MAX_TEMPLATE_BYTES} bytes"),
        ));
    }
    Ok(())
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lines_and_texts() {
        assert_eq!(single_line("name", "  Acme  ", 100).unwrap(), "Acme");
        assert!(single_line("name", "a\u{0}b", 100).is_err());
        assert!(single_line("name", "a\nb", 100).is_err());
        assert!(single_line("name", "  ", 100).is_err());
        assert!(single_line("name", &"x".repeat(101), 100).is_err());
        assert_eq!(
            text("greeting", "Hi.\nHow can I help?", 100).unwrap(),
            "Hi.\nHow can I help?"
        );
        assert!(text("greeting", "bell\u{7}", 100).is_err());
        assert!(text("greeting", "esc\u{1b}[2J", 100).is_err());
        assert_eq!(text("greeting", " ", 100).unwrap(), "");
    }

    #[test]
    fn urls() {
        let p = TargetPolicy::default();
        assert!(target_url("url", "https://crm.example.com/hooks", &p).is_ok());
        assert!(target_url("url", "https://crm.example.com/l/{{call_id}}?p={{caller_number}}", &p).is_ok());
        assert!(target_url("url", "https://{{host}}.example.com/", &p).is_ok());
        for bad in [
            "ftp://x.example",
            "file:///etc/passwd",
            "gopher://x.example:70/1",
            "not a url",
            "https://",
            "http://127.0.0.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/x",
            "http://169.254.169.254/latest",
            "http://10.0.0.1:8080/",
            "http://0x7f000001/",
            "https://crm.exa\nmple.com/",
            "https://crm.example.com/a b",
        ] {
            let e = target_url("tools[0].url", bad, &p).unwrap_err();
            assert_eq!(e.field, "tools[0].url", "{bad}");
        }
        let open = TargetPolicy {
            allow_private: true,
            allowed: vec![],
        };
        assert!(target_url("url", "http://127.0.0.1:9/", &open).is_ok());
        assert!(target_url("url", "file:///etc/passwd", &open).is_err());
    }

    #[test]
    fn header_rules() {
        let h = |k: &str, v: &str| BTreeMap::from([(k.to_owned(), v.to_owned())]);
        assert!(headers("headers", &h("Authorization", "Bearer {{x}}")).is_ok());
        assert!(headers("headers", &h("X-Frontdesk-Event", "x")).is_err());
        assert!(headers("headers", &h("webhook-signature", "x")).is_err());
        assert!(headers("headers", &h("bad name", "x")).is_err());
        assert!(headers("headers", &h("X-A", "a\r\nInjected: 1")).is_err());
        assert!(headers("headers", &h("X-A", "a\u{1}b")).is_err());
        assert!(headers("headers", &h("X-A", "a\u{7f}b")).is_err());
        assert!(headers("headers", &h("X-A", "a\tb")).is_ok());
        let many: BTreeMap<String, String> = (0..51).map(|i| (format!("X-{i}"), "v".to_owned())).collect();
        assert!(headers("headers", &many).unwrap_err().message.contains("at most 50"));
    }

    #[test]
    fn template_shapes() {
        assert!(body_template("body_template", &json!({"a": "{{x}}", "n": [1, {"b": 2}]})).is_ok());
        for bad in [json!([1, 2]), json!("{{x}}"), json!(3), json!(true)] {
            assert!(body_template("body_template", &bad).is_err(), "{bad}");
        }
        let mut deep = json!("x");
        for _ in 0..20 {
            deep = json!({ "d": deep });
        }
        assert!(
            body_template("body_template", &deep)
                .unwrap_err()
                .message
                .contains("deeper")
        );
        let big = json!({"x": "y".repeat(MAX_TEMPLATE_BYTES)});
        assert!(
            body_template("body_template", &big)
                .unwrap_err()
                .message
                .contains("at most")
        );
    }
}
