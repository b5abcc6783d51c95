//! What the benchmark binaries share.

/// The `p` quantile (0 to 1) of millisecond samples, sorting them; NaN for none.
pub fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

/// One `application/x-www-form-urlencoded` component, as Twilio encodes it.
#[must_use]
pub fn form_component(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'*') {
            out.push(b as char);
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

use frontdesk_core::agent::AgentConfig;
use serde_json::{Value, json};

/// An agent configuration at every limit a configuration may reach: 50 fields, ten of
/// them enums of 100 options; 50 call types of 50 keywords; 50 transfer triggers; and
/// knowledge entries filling the rest of the 256 KiB. The costliest agent a tenant can
/// save, for the engine and for the server.
#[must_use]
pub fn limits_agent() -> Value {
    let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
    let word = |i: usize| words[i % words.len()];
    let fields: Vec<Value> = (0..50)
        .map(|i| {
            if i < 10 {
                let options: Vec<String> = (0..100)
                    .map(|o| format!("option {o} {} {} {}", word(o), word(o + i), word(o * 3 + 1)))
                    .collect();
                json!({"field": format!("choice_{i}"), "type": "enum", "options": options, "required": true})
            } else {
                json!({"field": format!("detail_{i}"), "type": "string", "required": true})
            }
        })
        .collect();
    let call_types: Vec<Value> = (0..50)
        .map(|t| {
            let keywords: Vec<String> = (0..50).map(|k| format!("kw{t}x{k} {}", word(k))).collect();
            json!({"name": format!("type_{t}"), "description": format!("callers who need {} {} service number {t}", word(t), word(t + 3)), "keywords": keywords})
        })
        .collect();
    let mut v = json!({
        "name": "Limits", "greeting": "Hello, how can I help?",
        "data_to_collect": fields, "call_types": call_types,
        "transfer": {"number": "+15557654321", "triggers": (0..50).map(|i| format!("trigger {i} {}", word(i))).collect::<Vec<_>>()},
        "knowledge": [],
    });
    // Fill the rest with knowledge until the next entry would pass the size limit.
    let mut entries = Vec::new();
    for i in 0..500 {
        entries.push(json!({
            "question": format!("Do you offer {} {} services on {} for entry {i}?", word(i), word(i + 1), word(i + 2)),
            "answer": format!("Yes, entry {i}: {}", ["we do that and more, call us any time during the week"; 4].join(" ")),
        }));
        v["knowledge"] = Value::Array(entries.clone());
        if AgentConfig::parse(&v).is_err() {
            entries.pop();
            v["knowledge"] = Value::Array(entries);
            break;
        }
    }
    v
}

/// Caller lines that miss everything in [`limits_agent`] (no keyword, no option, a
/// question no entry answers well): the engine's costliest path.
pub const MISSES: [&str; 3] = [
    "Hi, so I was wondering about something, is there someone who could maybe look into my situation? \
     Do you happen to know anything regarding the zebra crossing near the old mill?",
    "Wait, what about the purple elephant festival, and is the moon open on holidays?",
    "hmm, the usual kind of thing I suppose, whatever you think",
];
