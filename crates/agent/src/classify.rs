//! Which of the agent's call types a caller's words describe.
//!
//! Each type scores its keywords found in the utterance (whole phrases, after light
//! stemming; longer phrases weigh more) plus a little for words shared with its
//! description. Three rules keep the scoring honest on real callers:
//! - a keyword right after a negation ("not an emergency") does not count, and a type
//!   that acts at once (`action: transfer`) counts for little when the caller places the
//!   problem in the past or says it is handled ("burst last week but it's fixed now");
//! - a question about price goes to the type that handles prices (one whose keywords or
//!   description talk of price, quote, estimate or cost) when there is one, and otherwise
//!   to the catch-all type: asking what a consultation costs is an inquiry, not a case;
//! - when nothing scores, a caller who said something substantive gets the catch-all
//!   type (one without keywords described as "any other question", or named like
//!   `general_inquiry`, `other`), if the agent has one.
//!
//! [`Types`] holds what the scoring needs from an agent's call types, split and stemmed
//! once per configuration (keywords, description words, which type handles prices,
//! the catch-all and the primary type); the free functions build it on every call.

use frontdesk_core::agent::config::{CallAction, CallType};

use crate::nlu::{Words, is_question, is_stop, phrases};

/// Words that speak of price.
const PRICE: &[&str] = &[
    "how much",
    "cost",
    "costs",
    "price",
    "prices",
    "pricing",
    "fee",
    "fees",
    "charge",
    "rate",
    "rates",
    "quote",
    "estimate",
    "afford",
    "expensive",
    "cheap",
];

/// Words that place a problem in the past or say it is under control.
const MITIGATING: &[&str] = &[
    "last week",
    "last month",
    "last year",
    "yesterday",
    "ago",
    "fixed",
    "under control",
    "no longer",
    "not anymore",
    "not an emergency",
    "isn't an emergency",
    "not urgent",
    "isn't urgent",
    "no rush",
    "not in a hurry",
    "for now",
    "stopped",
];

/// Description words that say nothing about a type.
const GENERIC: &[&str] = &[
    "want",
    "wants",
    "wanting",
    "ask",
    "asks",
    "asking",
    "question",
    "questions",
    "any",
    "other",
    "call",
    "caller",
    "someone",
    "something",
    "about",
    "or",
    "and",
    "a",
    "the",
    "for",
    "to",
    "of",
    "their",
    "his",
    "her",
    "new",
    "help",
    "like",
    "would",
    "current",
    "possible",
    "general",
    "thing",
];

/// How strongly an utterance points at each type.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    pub scores: Vec<(usize, f64)>,
}

/// The catch-all type, if the agent has one.
pub fn catch_all(types: &[CallType]) -> Option<usize> {
    types.iter().position(|t| {
        let name = t.name.to_ascii_lowercase();
        let d = t.description.to_ascii_lowercase();
        t.action.is_none()
            && (matches!(
                name.as_str(),
                "general_inquiry" | "general" | "other" | "inquiry" | "general_question"
            ) || (t.keywords.is_empty()
                && (d.contains("any other") || d.contains("anything else") || d.contains("other question"))))
    })
}

fn negated(w: &Words, pos: usize) -> bool {
    let from = pos.saturating_sub(3);
    w.raw[from..pos].iter().any(|x| {
        matches!(
            x.as_str(),
            "not" | "no" | "isn't" | "wasn't" | "never" | "don't" | "without"
        )
    })
}

/// One call type, prepared for scoring.
#[derive(Debug, Clone)]
struct Prepared {
    /// Its keywords as words (empty ones left out).
    keywords: Vec<Words>,
    /// The telling words of its description (stems, no generic or short words, each
    /// once).
    description: Vec<String>,
    action: Option<CallAction>,
}

/// An agent's call types, prepared once for scoring (see the module documentation).
#[derive(Debug, Clone)]
pub struct Types {
    types: Vec<Prepared>,
    /// The type that handles prices, if any.
    price_type: Option<usize>,
    /// The catch-all type, if any.
    general: Option<usize>,
    /// The primary type: the first that neither acts at once nor catches all (else the
    /// catch-all).
    primary: Option<usize>,
}

fn keyword_score(w: &Words, keywords: &[Words]) -> f64 {
    let mut s = 0.0;
    for kw in keywords {
        if w.find_all(kw).into_iter().any(|p| !negated(w, p)) {
            s += 2.0 + 0.5 * (kw.len() as f64 - 1.0);
        } else if kw.len() > 1 {
            // "severe pain" when the caller says "the pain is unbearable": the head word
            // alone counts for less.
            let head = &kw.stems[kw.len() - 1];
            if head.len() >= 4 && !is_stop(head) && w.stems.iter().enumerate().any(|(p, x)| x == head && !negated(w, p))
            {
                s += 0.8;
            }
        }
    }
    s
}

fn description_words(description: &str) -> Vec<String> {
    let d = Words::new(description);
    let mut seen: Vec<String> = Vec::new();
    for word in d.content() {
        if GENERIC.contains(&word) || seen.iter().any(|s| s == word) || word.len() < 3 {
            continue;
        }
        seen.push(word.to_owned());
    }
    seen
}

fn description_score(w: &Words, description: &[String]) -> f64 {
    let mine: Vec<&str> = w.content().collect();
    let hits = description.iter().filter(|word| mine.contains(&word.as_str())).count();
    hits as f64 * 0.6
}

fn handles_price(t: &CallType) -> bool {
    let text = format!("{} {}", t.keywords.join(" "), t.description);
    let w = Words::new(&text);
    phrases!(PRICE).any_in(&w)
}

impl Types {
    pub fn new(types: &[CallType]) -> Self {
        let general = catch_all(types);
        let primary = types
            .iter()
            .enumerate()
            .find(|(i, t)| t.action.is_none() && Some(*i) != general)
            .map(|(i, _)| i)
            .or(general);
        Self {
            types: types
                .iter()
                .map(|t| Prepared {
                    keywords: t
                        .keywords
                        .iter()
                        .map(|k| Words::new(k))
                        .filter(|k| !k.is_empty())
                        .collect(),
                    description: description_words(&t.description),
                    action: t.action,
                })
                .collect(),
            price_type: types.iter().position(handles_price),
            general,
            primary,
        }
    }

    /// The catch-all type, if the agent has one.
    pub fn catch_all(&self) -> Option<usize> {
        self.general
    }

    /// Scores every type against the utterance.
    pub fn score(&self, text: &str) -> Scores {
        let w = Words::new(text);
        let mitigated = phrases!(MITIGATING).any_in(&w);
        let pricing = phrases!(PRICE).any_in(&w);
        let price_type = self.price_type;
        let question = is_question(text);
        let general = self.general;
        let mut scores: Vec<(usize, f64)> = self
            .types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut s = keyword_score(&w, &t.keywords) + description_score(&w, &t.description);
                if t.action == Some(CallAction::Transfer) && mitigated {
                    s *= 0.3;
                }
                if pricing {
                    if Some(i) == price_type {
                        s += 2.0;
                    } else if price_type.is_none() && question {
                        s *= 0.5;
                    }
                }
                (i, s)
            })
            .collect();
        if pricing
            && price_type.is_none()
            && question
            && let Some(g) = general
            && let Some(e) = scores.iter_mut().find(|e| e.0 == g)
        {
            e.1 += 1.5;
        }
        Scores { scores }
    }

    /// The type of a call from its opening words: see [`classify`].
    pub fn classify(&self, text: &str) -> Option<usize> {
        let scores = self.score(text);
        if let Some(i) = scores.best(1.0) {
            return Some(i);
        }
        let w = Words::new(text);
        if is_question(text) {
            return self.general;
        }
        if w.content().count() >= 3 {
            return self.primary;
        }
        (w.content().count() >= 2).then_some(self.general).flatten()
    }

    /// A type that acts at once: see [`urgent`].
    pub fn urgent(&self, text: &str, strict: bool) -> Option<usize> {
        let scores = self.score(text);
        let need = if strict { 4.0 } else { 2.0 };
        let i = scores.best(need)?;
        (self.types[i].action == Some(CallAction::Transfer)).then_some(i)
    }
}

/// Scores every type against the utterance.
pub fn score(types: &[CallType], text: &str) -> Scores {
    Types::new(types).score(text)
}

impl Scores {
    /// The best type, when it scores at least `threshold` and beats the runner-up.
    pub fn best(&self, threshold: f64) -> Option<usize> {
        let mut sorted = self.scores.clone();
        sorted.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let (i, top) = *sorted.first()?;
        let second = sorted.get(1).map_or(0.0, |s| s.1);
        (top >= threshold && top > second).then_some(i)
    }
}

/// The type of a call from its opening words: the best-scoring type; else, for a
/// question, the catch-all type; else, for a caller describing a need or a problem in
/// words no type lists, the agent's primary type (the first one that neither acts at
/// once nor catches all: businesses list their main kind of call first).
pub fn classify(types: &[CallType], text: &str) -> Option<usize> {
    Types::new(types).classify(text)
}

/// A type that acts at once (transfer or message) and that this utterance, said in
/// the middle of a call, clearly calls for.
pub fn urgent(types: &[CallType], text: &str, strict: bool) -> Option<usize> {
    Types::new(types).urgent(text, strict)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn types(json: &str) -> Vec<CallType> {
        let v: Value = serde_json::from_str(json).unwrap();
        serde_json::from_value(v).unwrap()
    }

    fn contractor() -> Vec<CallType> {
        types(
            r#"[
    {"name": "quote_request", "description": "wants a price, estimate or quote for a job", "keywords": ["quote", "estimate", "price", "how much", "cost"]},
    {"name": "emergency", "description": "urgent problem happening now: water coming in, flooding, sparks, no power", "keywords": ["emergency", "flooding", "urgent", "right now", "burst"], "action": "transfer"},
    {"name": "appointment", "description": "wants to book or change an appointment or visit", "keywords": ["appointment", "schedule", "book", "come out", "reschedule"]},
    {"name": "message", "description": "wants to leave a message for someone", "keywords": ["message", "leave a note", "tell him", "tell her"], "action": "message"},
    {"name": "general_inquiry", "description": "any other question"}]"#,
        )
    }

    fn lawfirm() -> Vec<CallType> {
        types(
            r#"[
    {"name": "new_client", "description": "a possible new client describing a legal problem and wanting help or a consultation", "keywords": ["consultation", "lawyer", "attorney", "need help", "sue", "accident", "divorce"]},
    {"name": "existing_client", "description": "a current client asking about their case", "keywords": ["my case", "my attorney", "case number", "update on"]},
    {"name": "message", "description": "wants to leave a message", "keywords": ["message", "leave a note", "pass along"], "action": "message"},
    {"name": "general_inquiry", "description": "any other question"}]"#,
        )
    }

    fn name(t: &[CallType], s: &str) -> Option<String> {
        classify(t, s).map(|i| t[i].name.clone())
    }

    #[test]
    fn contractor_openings() {
        let t = contractor();
        for (s, want) in [
            ("Hi, I'd like to get a quote for a kitchen remodel.", "quote_request"),
            (
                "There's water pouring through my ceiling right now, it's an emergency!",
                "emergency",
            ),
            ("Do you guys offer free estimates?", "quote_request"),
            (
                "Hello, I'm calling to get a price on plumbing work, a pipe burst under my sink last week but it's fixed for now.",
                "quote_request",
            ),
            (
                "Hi, I want to schedule someone to come out and do an inspection.",
                "appointment",
            ),
            ("Yeah hi, I'd like to leave a message for Mike please.", "message"),
            ("What areas do you serve?", "general_inquiry"),
            (
                "It's not an emergency, but can someone come out next week?",
                "appointment",
            ),
        ] {
            assert_eq!(name(&t, s).as_deref(), Some(want), "{s}");
        }
        assert_eq!(name(&t, "hi"), None);
    }

    #[test]
    fn lawfirm_openings() {
        let t = lawfirm();
        for (s, want) in [
            ("How much does a consultation cost?", "general_inquiry"),
            (
                "I'm calling for an update on my case, my attorney is Ms. Harper.",
                "existing_client",
            ),
            ("Hi, I was in a car accident and I think I need a lawyer.", "new_client"),
            ("Do you work on contingency?", "general_inquiry"),
        ] {
            assert_eq!(name(&t, s).as_deref(), Some(want), "{s}");
        }
    }

    #[test]
    fn urgency_mid_call() {
        let t = contractor();
        assert!(urgent(&t, "oh no, the basement is flooding right now", true).is_some());
        assert!(urgent(&t, "it's pretty urgent", true).is_none());
        assert!(urgent(&t, "it's pretty urgent", false).is_some());
    }
}
