//! Webhook templates: `{{name}}` (spaces allowed: `{{ name }}`) replaced by a variable's
//! value, in a JSON body template, header values and the URL.
//!
//! Rendering is a single linear scan with no expressions, loops or includes, and the
//! output is capped at [`MAX_OUTPUT`] bytes, so no template can hang or exhaust a worker.
//! In a JSON body template every string leaf is rendered and then re-encoded as a JSON
//! string, so the body stays valid JSON whatever a value holds (quotes, newlines,
//! unicode); keys, numbers, booleans and nulls are kept as written. In the URL values are
//! percent-encoded; in headers control characters are dropped (no header injection).
//! An unknown variable renders empty and is reported, so the attempt can note it.

use serde_json::{Map, Value};

/// Largest rendered output, in bytes, for one body, URL or header.
pub const MAX_OUTPUT: usize = 1024 * 1024;

/// Longest variable reference between the braces, spaces included.
const MAX_NAME: usize = 128;

/// How substituted values are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// As is (JSON string leaves; re-encoded as JSON afterwards).
    Plain,
    /// Percent-encoded (URLs).
    UrlComponent,
    /// Control characters removed (header values).
    Header,
}

/// A rendering that exceeded [`MAX_OUTPUT`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the rendered template is larger than {MAX_OUTPUT} bytes; reference fewer or smaller variables")]
pub struct TooLarge;

/// Rendering state: output budget and the unknown variables met.
#[derive(Debug, Default)]
pub struct Renderer<'a> {
    ctx: Option<&'a Map<String, Value>>,
    used: usize,
    /// Variables referenced but not defined, in order of first use.
    pub unknown: Vec<String>,
}

/// A variable's text: strings as they are, numbers and booleans in JSON form, null empty,
/// objects and arrays as compact JSON.
#[must_use]
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl<'a> Renderer<'a> {
    #[must_use]
    pub fn new(ctx: &'a Map<String, Value>) -> Self {
        Self {
            ctx: Some(ctx),
            used: 0,
            unknown: Vec::new(),
        }
    }

    fn lookup(&mut self, name: &str) -> String {
        let ctx = self.ctx;
        let found = ctx.and_then(|c| c.get(name).or_else(|| c.get(&name.replace(' ', "_"))));
        match found {
            Some(v) => value_text(v),
            None => {
                if !self.unknown.iter().any(|u| u == name) {
                    self.unknown.push(name.to_owned());
                }
                String::new()
            }
        }
    }

    /// Renders one string.
    pub fn render(&mut self, template: &str, enc: Encoding) -> Result<String, TooLarge> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            let after = &rest[start + 2..];
            // Names are short: look for the closing braces only nearby, so the scan
            // stays linear whatever the template (`{{{{{{...}}` cannot go quadratic).
            let window = &after.as_bytes()[..after.len().min(MAX_NAME + 2)];
            let Some(end) = window.windows(2).position(|w| w == b"}}") else {
                self.push(&mut out, &rest[..start + 2])?;
                rest = after;
                continue;
            };
            let name = after[..end].trim();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == ' ' || c == '-')
            {
                // Not a variable: keep the braces and go on after them.
                self.push(&mut out, &rest[..start + 2])?;
                rest = after;
                continue;
            }
            self.push(&mut out, &rest[..start])?;
            let value = self.lookup(name);
            let encoded = match enc {
                Encoding::Plain => value,
                Encoding::UrlComponent => percent_encode(&value),
                Encoding::Header => value.chars().filter(|c| !c.is_control()).collect(),
            };
            self.push(&mut out, &encoded)?;
            rest = &after[end + 2..];
        }
        self.push(&mut out, rest)?;
        Ok(out)
    }

    fn push(&mut self, out: &mut String, s: &str) -> Result<(), TooLarge> {
        self.used += s.len();
        if self.used > MAX_OUTPUT {
            return Err(TooLarge);
        }
        out.push_str(s);
        Ok(())
    }

    /// Renders a JSON body template to compact JSON text.
    pub fn render_json(&mut self, template: &Value) -> Result<String, TooLarge> {
        let v = self.render_value(template)?;
        Ok(v.to_string())
    }

    fn render_value(&mut self, v: &Value) -> Result<Value, TooLarge> {
        Ok(match v {
            Value::String(s) => Value::String(self.render(s, Encoding::Plain)?),
            Value::Array(items) => Value::Array(items.iter().map(|i| self.render_value(i)).collect::<Result<_, _>>()?),
            Value::Object(map) => {
                let mut out = Map::with_capacity(map.len());
                for (k, v) in map {
                    out.insert(k.clone(), self.render_value(v)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }
}

/// Variables a template references (for validation and hints).
#[must_use]
pub fn referenced(template: &str) -> Vec<String> {
    let mut r = Renderer::default();
    let _ = r.render(template, Encoding::Plain);
    r.unknown
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ctx() -> Map<String, Value> {
        match json!({
            "caller_name": "John \"Johnny\" O'Brien\n",
            "caller_number": "+15551234567",
            "duration_seconds": 180,
            "first_name": "Zoë",
            "nothing": null,
            "fields": {"a": 1}
        }) {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn substitutes_with_or_without_spaces() {
        let c = ctx();
        let mut r = Renderer::new(&c);
        assert_eq!(
            r.render(
                "Hi {{first_name}}, {{ first_name }}! {{duration_seconds}}s",
                Encoding::Plain
            )
            .unwrap(),
            "Hi Zoë, Zoë! 180s"
        );
        assert_eq!(r.render("{{ first name }}", Encoding::Plain).unwrap(), "Zoë");
        assert!(r.unknown.is_empty());
    }

    #[test]
    fn unknown_variables_render_empty_and_are_reported_once() {
        let c = ctx();
        let mut r = Renderer::new(&c);
        assert_eq!(
            r.render("[{{nope}}|{{nope}}|{{nothing}}]", Encoding::Plain).unwrap(),
            "[||]"
        );
        assert_eq!(r.unknown, vec!["nope"]);
    }

    #[test]
    fn json_stays_valid_whatever_the_values_hold() {
        let c = ctx();
        let mut r = Renderer::new(&c);
        let t = json!({"name": "{{caller_name}}", "n": 3, "list": ["{{first_name}}", true], "obj": "{{fields}}", "lit": "{{not a var!}}"});
        let out = r.render_json(&t).unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["name"], "John \"Johnny\" O'Brien\n");
        assert_eq!(v["n"], 3);
        assert_eq!(v["list"][0], "Zoë");
        assert_eq!(v["obj"], "{\"a\":1}");
        assert_eq!(v["lit"], "{{not a var!}}");
    }

    #[test]
    fn url_values_are_percent_encoded_and_headers_lose_control_characters() {
        let c = ctx();
        let mut r = Renderer::new(&c);
        assert_eq!(
            r.render(
                "https://crm.example/l?p={{caller_number}}&n={{caller_name}}",
                Encoding::UrlComponent
            )
            .unwrap(),
            "https://crm.example/l?p=%2B15551234567&n=John%20%22Johnny%22%20O%27Brien%0A"
        );
        assert_eq!(
            r.render("X {{caller_name}}", Encoding::Header).unwrap(),
            "X John \"Johnny\" O'Brien"
        );
    }

    #[test]
    fn malformed_braces_are_literal() {
        let c = ctx();
        let mut r = Renderer::new(&c);
        assert_eq!(r.render("{{ unclosed", Encoding::Plain).unwrap(), "{{ unclosed");
        assert_eq!(r.render("}} {{}} {", Encoding::Plain).unwrap(), "}} {{}} {");
        assert_eq!(
            r.render("{{{first_name}}}", Encoding::Plain).unwrap(),
            "{{{first_name}}}"
        );
    }

    #[test]
    fn output_is_bounded() {
        let mut c = Map::new();
        c.insert("big".into(), Value::String("x".repeat(100_000)));
        let template = "{{big}}".repeat(20);
        let mut r = Renderer::new(&c);
        assert_eq!(r.render(&template, Encoding::Plain), Err(TooLarge));
        // A huge template of literal text is bounded the same way.
        let mut r = Renderer::new(&c);
        assert!(r.render(&"{{".repeat(600_000), Encoding::Plain).is_err());
    }

    #[test]
    fn pathological_templates_render_in_linear_time() {
        // Each of these would rescan the rest of the input per opening brace if the
        // closing search were unbounded (about 10^11 steps); bounded, it is instant.
        let c = Map::new();
        let t = format!("{}}}}}", "{{".repeat(200_000));
        let mut r = Renderer::new(&c);
        assert_eq!(r.render(&t, Encoding::Plain).unwrap().len(), t.len());
        let t = format!("{}}}}}", "{{!".repeat(100_000));
        assert_eq!(Renderer::new(&c).render(&t, Encoding::Plain).unwrap(), t);
    }

    #[test]
    fn lists_references() {
        assert_eq!(referenced("{{a}} {{ b }} {{a}}"), vec!["a", "b"]);
    }
}
