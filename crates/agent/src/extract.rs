//! Fields the caller gives unasked, and the part of an answer that belongs to each field.
//!
//! Callers say several things at once: "Hi, my name is Aisha Bello, ... you can email me
//! at aisha.bello@gmail.com". A field is taken from such an utterance only on a clear
//! cue, so nothing is invented: an introduction for a name (`my name is`, `this is`,
//! `I'm`), an `@` or `email me at` for an email, `my number is` / `reach me at` for a
//! phone, `<field label> is` for any field (`my date of birth is ...`), and, for enum
//! fields, an option said word for word. The utterance is cut into segments at those cues
//! so that each normaliser sees only its own part.
//!
//! [`Fields`] holds what this needs from an agent's fields (each field's cue phrases,
//! spoken label, the distinctive words of its options), computed once per
//! configuration; the free functions build it on every call.

use std::sync::OnceLock;

use frontdesk_core::agent::config::{AgentConfig, FieldSpec};
use frontdesk_core::fields::spoken;
use frontdesk_core::fields::{Context, EnumOptions, FieldType, normalize};
use serde_json::Value;

use crate::nlu::Words;
use crate::speech;

/// A cue: where it starts and where its value starts (byte offsets in the lower-cased
/// text), and the field it introduces.
#[derive(Debug, Clone)]
struct Cue {
    at: usize,
    value_at: usize,
    field: usize,
}

const NAME_CUES: &[&str] = &[
    "my name is",
    "my name's",
    "the name is",
    "name's",
    "this is",
    "i'm",
    "i am",
];
const EMAIL_CUES: &[&str] = &[
    "my email address is",
    "email address is",
    "my email is",
    "email is",
    "e-mail is",
    "email me at",
    "e-mail me at",
    "my email",
    "email address",
    "reach me by email at",
];
const PHONE_CUES: &[&str] = &[
    "my phone number is",
    "phone number is",
    "my number is",
    "number is",
    "my cell is",
    "cell is",
    "reach me at",
    "call me back at",
    "call me at",
    "text me at",
    "callback number is",
    "best number is",
    "my number",
];

/// Words after `this is` / `I'm` that are not a name.
const NOT_NAME_START: &[&str] = &[
    "a",
    "an",
    "the",
    "calling",
    "looking",
    "going",
    "interested",
    "not",
    "just",
    "trying",
    "so",
    "having",
    "wondering",
    "in",
    "on",
    "with",
    "from",
    "here",
    "about",
    "really",
    "very",
    "sure",
    "good",
    "fine",
    "great",
    "ok",
    "okay",
    "urgent",
    "my",
    "your",
    "for",
    "regarding",
    "still",
    "also",
    "hoping",
    "thinking",
    "new",
    "an",
    "at",
    "out",
    "available",
    "free",
    "done",
    "all",
    "actually",
    "getting",
    "planning",
    "moving",
    "selling",
    "buying",
    "ready",
    "currently",
    "usually",
    "no",
    "yes",
    "that",
    "it",
    "this",
    "what",
    "when",
    "because",
    "like",
    "kind",
    "sorry",
    "afraid",
    "worried",
    "concerned",
    "happy",
    "glad",
    "unable",
    "able",
    "pretty",
    "quite",
    "retired",
    "married",
    "divorced",
    "single",
    "renting",
    "behind",
    "late",
    "calling",
    "following",
    "returning",
    "responding",
    "wanting",
    "needing",
    "the",
    "one",
    "two",
    "three",
    "over",
    "under",
    "around",
    "about",
    "between",
    "almost",
    "nearly",
];

fn word_boundary(text: &str, at: usize, len: usize) -> bool {
    let before = text[..at].chars().next_back();
    let after = text[at + len..].chars().next();
    before.is_none_or(|c| !c.is_alphanumeric() && c != '\'') && after.is_none_or(|c| !c.is_alphanumeric() && c != '\'')
}

fn find_all(text: &str, phrase: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find(phrase) {
        let at = from + i;
        if word_boundary(text, at, phrase.len()) {
            out.push(at);
        }
        from = at + phrase.len().max(1);
        while !text.is_char_boundary(from) {
            from += 1;
        }
    }
    out
}

/// The label a field goes by in speech: `date_of_birth` -> `date of birth`.
fn label(f: &FieldSpec) -> String {
    f.field.replace('_', " ").to_lowercase()
}

fn cues(lower: &str, fields: &Fields) -> Vec<Cue> {
    let mut out: Vec<Cue> = Vec::new();
    let mut push = |at: usize, len: usize, field: usize| {
        let mut value_at = at + len;
        // "my email is: x", "number is, uh, 555"
        while lower[value_at..].starts_with([':', ' ', ',']) {
            value_at += 1;
        }
        out.push(Cue { at, value_at, field });
    };
    for (i, f) in fields.fields.iter().enumerate() {
        for c in &f.cues {
            for at in find_all(lower, c) {
                push(at, c.len(), i);
            }
        }
    }
    // An address with @ anywhere is an email cue of its own, and so is one said aloud
    // ("b carter at gmail dot com"): it starts with its clause.
    if let Some(i) = fields.email {
        if let Some(at_sign) = lower.find('@') {
            let start = lower[..at_sign].rfind(char::is_whitespace).map_or(0, |p| p + 1);
            push(start, 0, i);
        } else {
            for at in find_all(lower, "at") {
                let after = &lower[at..];
                let dot = after.find(" dot ");
                let near = dot.is_some_and(|d| after[..d].split_whitespace().count() <= 5);
                if near {
                    let start = lower[..at].rfind([',', '.', ';', '!', '?']).map_or(0, |p| p + 1);
                    let start = start + lower[start..].len() - lower[start..].trim_start().len();
                    push(start, 0, i);
                    break;
                }
            }
        }
    }
    out.sort_by_key(|c| (c.at, std::cmp::Reverse(c.value_at)));
    // A cue inside another's value span of the same field (e.g. "my email" inside "my email is").
    out.dedup_by(|b, a| a.at == b.at || (a.field == b.field && b.at < a.value_at));
    out
}

/// The segment a cue introduces: to the next cue of another field, or the end of the
/// sentence for names.
fn segment<'a>(text: &'a str, cues: &[Cue], k: usize, kind: &FieldType) -> &'a str {
    let c = &cues[k];
    let mut end = cues[k + 1..]
        .iter()
        .find(|n| n.field != c.field && n.at >= c.value_at)
        .map_or(text.len(), |n| n.at);
    if matches!(
        kind,
        FieldType::Name | FieldType::Enum { .. } | FieldType::Boolean | FieldType::Number
    ) {
        // A name ends with its clause: "Priya Patel, I'd like an estimate".
        let rest = &text[c.value_at..end];
        if let Some(p) = rest.find(['?', '!', ';']).or_else(|| speech::first_period_end(rest)) {
            end = c.value_at + p;
        }
    } else if *kind == FieldType::Email {
        // An address ends with the clause after its "@" or first "dot".
        let rest = &text[c.value_at..end];
        let lower = rest.to_lowercase();
        if let Some(mark) = lower.find('@').or_else(|| lower.find(" dot "))
            && let Some(p) = rest[mark..]
                .find([',', '?', '!', ';'])
                .or_else(|| speech::first_period_end(&rest[mark..]))
        {
            end = c.value_at + mark + p;
        }
    } else if let Some(p) = text[c.value_at..end].find(['?', '!']) {
        end = c.value_at + p;
    }
    text.get(c.value_at..end).unwrap_or("")
}

/// Whether the words after a weak name cue ("this is", "I'm") can start a name.
fn plausible_name(seg: &str) -> bool {
    let first = seg
        .split_whitespace()
        .next()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'')
                .to_lowercase()
        })
        .unwrap_or_default();
    !first.is_empty() && !NOT_NAME_START.contains(&first.as_str()) && !first.chars().any(|c| c.is_ascii_digit())
}

fn capitalised(seg: &str) -> bool {
    seg.split_whitespace()
        .next()
        .and_then(|w| w.chars().next())
        .is_some_and(char::is_uppercase)
}

/// One field, prepared for extraction.
#[derive(Debug, Clone)]
struct Prepared {
    spec: FieldSpec,
    /// Its cue phrases, in the order they are searched: the cues of its type, then its
    /// label with "is", "'s", "was", "would be", "will be".
    cues: Vec<String>,
    /// A text field named like an address.
    addressy: bool,
    /// For a number field: the stem of its label's last word.
    head: Option<String>,
    /// For an enum field: its options, prepared on first use.
    options: OnceLock<Option<Options>>,
}

/// An enum field's options, prepared.
#[derive(Debug, Clone)]
struct Options {
    /// Each option's distinctive words (those no other option has).
    distinctive: Vec<Vec<String>>,
    /// The options, read for matching.
    read: EnumOptions,
}

impl Prepared {
    fn options(&self) -> Option<&Options> {
        self.options
            .get_or_init(|| match &self.spec.kind {
                FieldType::Enum { options } => Some(Options {
                    distinctive: distinctive_words(options),
                    read: EnumOptions::new(options),
                }),
                _ => None,
            })
            .as_ref()
    }
}

/// An agent's fields, prepared once for extraction (see the module documentation).
#[derive(Debug, Clone)]
pub struct Fields {
    fields: Vec<Prepared>,
    /// The first email field.
    email: Option<usize>,
}

/// The distinctive words of each option: those of four letters or more, not vague,
/// that no other option has.
fn distinctive_words(options: &[String]) -> Vec<Vec<String>> {
    let stems: Vec<Vec<String>> = options
        .iter()
        .map(|o| Words::new(o).content().map(str::to_owned).collect())
        .collect();
    stems
        .iter()
        .map(|mine| {
            mine.iter()
                .filter(|w| w.len() >= 4 && !VAGUE.contains(&w.as_str()))
                .filter(|w| stems.iter().filter(|s| s.contains(w)).count() == 1)
                .cloned()
                .collect()
        })
        .collect()
}

impl Fields {
    pub fn new(fields: &[FieldSpec]) -> Self {
        let fields: Vec<Prepared> = fields
            .iter()
            .map(|f| {
                let list: &[&str] = match f.kind {
                    FieldType::Name => NAME_CUES,
                    FieldType::Email => EMAIL_CUES,
                    FieldType::Phone => PHONE_CUES,
                    _ => &[],
                };
                let l = label(f);
                let mut cues: Vec<String> = list.iter().map(|c| (*c).to_owned()).collect();
                for suffix in [" is", "'s", " was", " would be", " will be"] {
                    cues.push(format!("{l}{suffix}"));
                }
                let addressy = ["address", "location", "street", "property"]
                    .iter()
                    .any(|a| l.contains(a));
                let head = (f.kind == FieldType::Number)
                    .then(|| Words::new(&l).stems.last().cloned())
                    .flatten();
                Prepared {
                    spec: f.clone(),
                    cues,
                    addressy,
                    head,
                    options: OnceLock::new(),
                }
            })
            .collect();
        let email = fields.iter().position(|f| f.spec.kind == FieldType::Email);
        Self { fields, email }
    }

    /// Prepares now what is otherwise prepared on first use (enum options).
    pub fn prepare_all(&self) {
        for f in &self.fields {
            f.options();
        }
    }

    /// Fields volunteered in `text`: see [`volunteered`].
    pub fn volunteered(
        &self,
        text: &str,
        ctx: &Context,
        done: &dyn Fn(&str) -> bool,
        enums: bool,
    ) -> Vec<(String, Value)> {
        let lower = text.to_lowercase().replace('\u{2019}', "'");
        if lower.len() != text.len() {
            return Vec::new();
        }
        let fields = &self.fields;
        let cues = cues(&lower, self);
        let mut out: Vec<(String, Value)> = Vec::new();
        for (k, c) in cues.iter().enumerate() {
            let f = &fields[c.field].spec;
            if done(&f.field) || out.iter().any(|(n, _)| *n == f.field) {
                continue;
            }
            let seg = segment(text, &cues, k, &f.kind);
            let cue = lower[c.at..c.value_at.min(lower.len())].trim();
            if f.kind == FieldType::Name && matches!(cue, "this is" | "i'm" | "i am") && !plausible_name(seg) {
                continue;
            }
            // "I'm locked out": after "I'm", only a capitalised name counts.
            if f.kind == FieldType::Name && matches!(cue, "i'm" | "i am") && !capitalised(seg) {
                continue;
            }
            if let Some(v) = normalize(&f.kind, seg, ctx) {
                out.push((f.field.clone(), v));
            }
        }
        // "I'm at 42 Cedar Court": a street address, for a text field named like one.
        for p in fields {
            let f = &p.spec;
            if f.kind != FieldType::String || !p.addressy || done(&f.field) || out.iter().any(|(n, _)| *n == f.field) {
                continue;
            }
            if let Some(a) = street_address(text) {
                out.push((f.field.clone(), Value::String(a)));
            }
        }
        // "two bedroom apartments": a number right before a number field's label.
        let words = Words::new(text);
        for p in fields {
            let f = &p.spec;
            if f.kind != FieldType::Number || done(&f.field) || out.iter().any(|(n, _)| *n == f.field) {
                continue;
            }
            let Some(head) = &p.head else { continue };
            let hit =
                (1..words.len()).find(|&i| words.stems[i] == *head && spoken::number_at(&words.raw, i - 1).is_some());
            if let Some(i) = hit
                && let Some(v) = normalize(&f.kind, &words.raw[i - 1], ctx)
            {
                out.push((f.field.clone(), v));
            }
        }
        if enums {
            for p in fields {
                let f = &p.spec;
                if let FieldType::Enum { options } = &f.kind
                    && !done(&f.field)
                    && !out.iter().any(|(n, _)| *n == f.field)
                    && let Some(prepared) = p.options()
                    && let Some(o) = prepared
                        .read
                        .mentioned(text)
                        .or_else(|| distinctive_option(&words, options, &prepared.distinctive))
                {
                    out.push((f.field.clone(), Value::String(o)));
                }
            }
        }
        out
    }

    /// The value of the field `spec` in `text` ([`normalize`]), with an enum field's
    /// options as prepared.
    pub fn normalize(&self, spec: &FieldSpec, text: &str, ctx: &Context) -> Option<Value> {
        let prepared = self
            .fields
            .iter()
            .find(|p| p.spec.field == spec.field && p.spec.kind == spec.kind)
            .and_then(Prepared::options);
        match prepared {
            Some(options) => options.read.option(text).map(Value::String),
            None => normalize(&spec.kind, text, ctx),
        }
    }

    /// The part of an answer to `field` that is not another field's: see
    /// [`answer_part`].
    pub fn answer_part<'a>(&self, field: &str, text: &'a str) -> &'a str {
        let lower = text.to_lowercase().replace('\u{2019}', "'");
        if lower.len() != text.len() {
            return text;
        }
        let cues = cues(&lower, self);
        let own = self.fields.iter().position(|f| f.spec.field == field);
        // Cut before the first strong cue of another field that is not at the very start.
        let cut = cues
            .iter()
            .filter(|c| Some(c.field) != own && c.at > 0)
            .filter(|c| {
                let cue = lower[c.at..c.value_at.min(lower.len())].trim();
                !matches!(cue, "this is" | "i'm" | "i am" | "")
            })
            .map(|c| c.at)
            .next();
        match cut {
            Some(at) => {
                let head = &text[..at];
                let trim = |s: &'a str| s.trim_end_matches(|c: char| c.is_whitespace() || c == ',');
                let trimmed = trim(head);
                let trimmed = trim(trimmed.strip_suffix(" and").unwrap_or(trimmed));
                if trimmed.trim().is_empty() { text } else { trimmed }
            }
            None => text,
        }
    }
}

/// Fields volunteered in `text`, skipping those `done` says are settled. With `enums`,
/// enum options said word for word count too (for openings, not for answers to other
/// questions, where "monday" may belong to something else).
pub fn volunteered(
    cfg: &AgentConfig,
    text: &str,
    ctx: &Context,
    done: &dyn Fn(&str) -> bool,
    enums: bool,
) -> Vec<(String, Value)> {
    Fields::new(&cfg.data_to_collect).volunteered(text, ctx, done, enums)
}

const STREET: &[&str] = &[
    "street",
    "st",
    "avenue",
    "ave",
    "road",
    "rd",
    "court",
    "ct",
    "drive",
    "dr",
    "lane",
    "ln",
    "boulevard",
    "blvd",
    "way",
    "place",
    "pl",
    "circle",
    "terrace",
    "parkway",
    "highway",
    "hwy",
    "trail",
    "square",
    "crescent",
];

/// A street address said in passing: a house number, up to four words, a street word,
/// and a following unit ("apartment 4B", "unit 12") if any.
fn street_address(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let clean = |w: &str| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
    for (i, w) in words.iter().enumerate() {
        let num = clean(w);
        if num.is_empty() || !num.chars().next().is_some_and(|c| c.is_ascii_digit()) || num.len() > 6 {
            continue;
        }
        let end = (i + 2..(i + 6).min(words.len())).find(|&j| STREET.contains(&clean(words[j]).as_str()));
        if let Some(mut j) = end {
            if words
                .get(j + 1)
                .is_some_and(|u| matches!(clean(u).as_str(), "apartment" | "apt" | "unit" | "suite"))
                && words.get(j + 2).is_some()
            {
                j += 2;
            }
            let said = words[i..=j].join(" ");
            return Some(said.trim_end_matches([',', '.', ';', '!', '?']).to_owned());
        }
    }
    None
}

/// Words that never single an option out.
const VAGUE: &[&str] = &["other", "none", "something", "else", "general", "misc", "anything"];

/// The one option whose distinctive words (those no other option has) the caller said:
/// "my furnace is banging" names `furnace repair` among `air conditioning repair`,
/// `furnace repair`, `leak repair`; a word counts when it shares its first five letters
/// with the option's ("plumber" for `plumbing`). `distinctive` holds each option's
/// distinctive words ([`distinctive_words`]).
fn distinctive_option(words: &Words, options: &[String], distinctive: &[Vec<String>]) -> Option<String> {
    let said = |x: &str| {
        words.stems.iter().enumerate().any(|(i, w)| {
            let same = w == x || (w.len() >= 5 && x.len() >= 5 && w[..5] == x[..5] && w.is_ascii() && x.is_ascii());
            same && !(i > 0 && matches!(words.raw[i - 1].as_str(), "not" | "no" | "other"))
        })
    };
    let mut hits = options
        .iter()
        .zip(distinctive)
        .filter(|(_, mine)| !mine.is_empty() && mine.iter().all(|w| said(w)));
    let first = hits.next()?;
    hits.next().is_none().then(|| first.0.clone())
}

/// The part of an answer to `field` that is not introduced as another field's value:
/// "It's John Smith, and my email is john@x.com" -> "It's John Smith, and".
pub fn answer_part<'a>(cfg: &AgentConfig, field: &str, text: &'a str) -> &'a str {
    Fields::new(&cfg.data_to_collect).answer_part(field, text)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use serde_json::json;

    use super::*;

    fn cfg() -> AgentConfig {
        AgentConfig::parse(&json!({
            "name": "t",
            "data_to_collect": [
                {"field": "full_name", "type": "name"},
                {"field": "email", "type": "email"},
                {"field": "phone", "type": "phone"},
                {"field": "service_type", "type": "enum", "options": ["roof repair", "kitchen remodel", "bathroom remodel"]},
                {"field": "date_of_birth", "type": "date"}
            ]
        }))
        .unwrap()
        .config
    }

    fn ctx() -> Context {
        Context {
            caller_number: Some("+15551230002".into()),
            today: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
        }
    }

    fn got(text: &str) -> Vec<(String, Value)> {
        volunteered(&cfg(), text, &ctx(), &|_| false, true)
    }

    #[test]
    fn openings() {
        assert_eq!(
            got(
                "Hi, my name is Aisha Bello and I'm going through a divorce, I'd like a consultation. You can email me at aisha.bello@gmail.com."
            ),
            vec![
                ("full_name".into(), json!("Aisha Bello")),
                ("email".into(), json!("aisha.bello@gmail.com"))
            ]
        );
        assert_eq!(
            got(
                "Yeah I need an estimate. My name's Carlos, Carlos Mendez, number is 555 313 9090 and I need a new roof put on."
            ),
            vec![
                ("full_name".into(), json!("Carlos Mendez")),
                ("phone".into(), json!("+15553139090"))
            ]
        );
        assert_eq!(
            got(
                "Hi, this is Priya Patel, I'd like an estimate for a bathroom remodel. My email is priya.patel@yahoo.com."
            ),
            vec![
                ("full_name".into(), json!("Priya Patel")),
                ("email".into(), json!("priya.patel@yahoo.com")),
                ("service_type".into(), json!("bathroom remodel"))
            ]
        );
        assert_eq!(
            got("Hey, how much would it cost to fix a leaky roof? My name is Maria Garcia by the way."),
            vec![("full_name".into(), json!("Maria Garcia"))]
        );
        assert_eq!(got("I'm calling about my bill, this is urgent"), vec![]);
        assert_eq!(
            got("my date of birth is march 4th 1990"),
            vec![("date_of_birth".into(), json!("1990-03-04"))]
        );
        assert_eq!(
            got("I'm calling for an update on my case, my attorney is Ms. Harper."),
            vec![]
        );
    }

    #[test]
    fn answer_parts() {
        let c = cfg();
        assert_eq!(
            answer_part(&c, "full_name", "It's John Smith, and my email is john@x.com"),
            "It's John Smith"
        );
        assert_eq!(
            answer_part(&c, "email", "john dot smith at gmail dot com"),
            "john dot smith at gmail dot com"
        );
    }
}
