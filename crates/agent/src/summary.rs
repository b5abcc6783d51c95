//! The call's `ai_summary`: who called, what they wanted, the details a person needs to
//! act on it, in a few plain sentences. Built from the session, deterministically.

use frontdesk_core::agent::config::AgentConfig;
use frontdesk_core::fields::FieldType;
use frontdesk_core::template::value_text;
use serde_json::Value;

use crate::session::{EndReason, Session};

fn humanize(name: &str) -> String {
    name.replace('_', " ")
}

/// "an appointment", "a quote request".
fn article(noun: &str) -> String {
    let vowel = noun.chars().next().is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {noun}", if vowel { "an" } else { "a" })
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let cut: String = s.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a).to_owned();
    format!("{cut}…")
}

/// The summary of a call.
pub fn summarize(cfg: &AgentConfig, s: &Session) -> String {
    let name = s.first_of(cfg, &FieldType::Name).map(|v| value_text(&v));
    let who = match (&name, &s.call.caller_number) {
        (Some(n), Some(p)) => format!("{n} ({p})"),
        (Some(n), None) => n.clone(),
        (None, Some(p)) => format!("A caller from {p}"),
        (None, None) => "An unidentified caller".to_owned(),
    };
    let mut out = Vec::new();
    let verb = if s.call.outbound { "was called" } else { "called" };
    let about = match &s.call_type {
        Some(t) => {
            let desc = cfg
                .call_type(t)
                .map(|ct| ct.description.trim().to_owned())
                .filter(|d| !d.is_empty() && !d.to_lowercase().starts_with("any "));
            match desc {
                Some(d) => format!(" about {} ({d})", article(&humanize(t))),
                None => format!(" with {}", article(&humanize(t))),
            }
        }
        None => String::new(),
    };
    out.push(format!("{who} {verb}{about}."));
    if let Some(p) = &s.call.purpose {
        out.push(format!("Purpose of the call: {p}."));
    }
    if let Some(o) = &s.opening {
        out.push(format!("They said: \"{}\"", clip(o, 200)));
    }
    let details: Vec<String> = cfg
        .data_to_collect
        .iter()
        .filter(|f| f.kind != FieldType::Name || name.as_deref() != s.fields.get(&f.field).and_then(Value::as_str))
        .filter_map(|f| {
            s.fields.get(&f.field).map(|v| {
                let text = match v {
                    Value::Bool(true) => "yes".to_owned(),
                    Value::Bool(false) => "no".to_owned(),
                    other => value_text(other),
                };
                format!("{}: {text}", humanize(&f.field))
            })
        })
        .collect();
    if !details.is_empty() {
        out.push(format!("Details: {}.", details.join("; ")));
    }
    let missing: Vec<String> = cfg
        .data_to_collect
        .iter()
        .filter(|f| f.required && !s.fields.contains_key(&f.field))
        .map(|f| humanize(&f.field))
        .collect();
    if let Some(m) = &s.message {
        out.push(format!("Message: \"{}\"", clip(m, 500)));
    }
    match s.end_reason {
        Some(EndReason::Transferred) => {
            let to = s.transferred_to.as_deref().unwrap_or("a person");
            let why = match s.transfer_reason.as_deref() {
                Some(r) if r.starts_with("caller asked") => "at the caller's request".to_owned(),
                Some(r) => format!("as {}", humanize(r.split(':').next().unwrap_or(r))),
                None => String::new(),
            };
            out.push(format!("Transferred to {to} {why}.").replace(" .", "."));
        }
        Some(EndReason::CallerHangup) if !missing.is_empty() => out.push("The caller hung up early.".into()),
        _ => {}
    }
    if !missing.is_empty() && s.end_reason != Some(EndReason::Transferred) {
        out.push(format!("Still needed: {}.", missing.join(", ")));
    }
    if !s.notes.is_empty() {
        let notes: Vec<String> = s.notes.iter().map(|n| format!("\"{}\"", clip(n, 200))).collect();
        out.push(format!("Also noted: {}.", notes.join("; ")));
    }
    out.join(" ")
}
