//! Small view values the templates share: times (shown in the browser's time zone by
//! the page script, UTC without it), paging links, durations, JSON shown pretty.

use chrono::{DateTime, Utc};

/// A time as the templates show it: `<time datetime="iso">text</time>`; the script
/// rewrites the text into the browser's time zone.
#[derive(Debug, Clone, Default)]
pub struct Time {
    pub iso: String,
    pub text: String,
}

impl Time {
    pub fn of(t: DateTime<Utc>) -> Self {
        Self {
            iso: t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            text: t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        }
    }

    pub fn maybe(t: Option<DateTime<Utc>>) -> Option<Self> {
        t.map(Self::of)
    }
}

/// Seconds as `1m 05s`.
pub fn duration(secs: i64) -> String {
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m {:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h {:02}m", secs / 3600, (secs % 3600) / 60)
    }
}

/// JSON text shown indented (the text itself when it is not JSON).
pub fn pretty_json(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_owned())
}

/// A query string for a list page: the filters given, plus a cursor, encoded.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if !v.is_empty() {
            s.append_pair(k, v);
        }
    }
    let q = s.finish();
    if q.is_empty() { q } else { format!("?{q}") }
}

/// An empty form field as `None`, otherwise trimmed.
pub fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views() {
        assert_eq!(duration(5), "5s");
        assert_eq!(duration(65), "1m 05s");
        assert_eq!(duration(3700), "1h 01m");
        assert_eq!(pretty_json("{\"a\":1}"), "{\n  \"a\": 1\n}");
        assert_eq!(pretty_json("nope"), "nope");
        assert_eq!(
            query(&[("status", "failed"), ("q", ""), ("x", "a b")]),
            "?status=failed&x=a+b"
        );
        assert_eq!(query(&[("q", "")]), "");
        assert_eq!(given(Some("  ")), None);
    }
}
