//! What the receptionist says: templates rendered with the call's variables, tidied so
//! that an empty variable leaves no stray comma ("Thanks , we'll" -> "Thanks, we'll");
//! the one sentence splitter of the crate ([`sentences`]), used for the caller's words
//! (a question inside a longer turn, where a volunteered name ends) and for the
//! receptionist's own speech; and [`Speech`], a reply's words as text and as sentences,
//! so that a reply can be streamed sentence by sentence.
//!
//! # Where a sentence ends
//!
//! A run of `.`, `?`, `!` or `…` (with any closing quotes or brackets right after it) ends
//! a sentence when whitespace or the end of the text follows it. So `3.5`, `9.30`,
//! `john.smith@x.com` and `x.com/?a=1` never end one. A single `.` after an abbreviation
//! does not end a sentence either:
//! - never after a title or a Latin abbreviation: `Dr. Shah`, `Mr.`, `Mrs.`, `Ms.`,
//!   `St. Mary's`, `Prof.`, `e.g.`, `i.e.`, `vs.`, an initial (`John F. Kennedy`);
//! - after `a.m.`, `p.m.`, `etc.`, `Jr.`, `Inc.`, `Ave.` and other dotted abbreviations
//!   (`U.S.`) only when the next word starts with a capital letter: `at 9 a.m. tomorrow`
//!   is one sentence, `at 9 a.m. Thanks!` two.

use std::fmt;
use std::ops::Deref;

use frontdesk_core::template::{Encoding, Renderer};
use serde_json::{Map, Value};

/// Renders a speech template; unknown variables render empty.
pub fn render(template: &str, vars: &Map<String, Value>) -> String {
    let out = Renderer::new(vars)
        .render(template, Encoding::Plain)
        .unwrap_or_else(|_| template.to_owned());
    tidy(&out)
}

/// Collapses spaces and the punctuation an empty variable leaves behind.
pub fn tidy(s: &str) -> String {
    let mut out = s.split_whitespace().collect::<Vec<_>>().join(" ");
    for (from, to) in [
        (" ,", ","),
        (" .", "."),
        (" !", "!"),
        (" ?", "?"),
        (",,", ","),
        (",.", "."),
        (",!", "!"),
        (",?", "?"),
    ] {
        while out.contains(from) {
            out = out.replace(from, to);
        }
    }
    out.trim_start_matches([',', ' ']).to_owned()
}

/// Joins sentences with single spaces, skipping empty ones.
pub fn join(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Abbreviations after which a `.` never ends a sentence (lower case, without the dot).
const NEVER_ENDS: &[&str] = &[
    "mr", "mrs", "ms", "mx", "dr", "prof", "rev", "hon", "st", "mt", "ft", "sgt", "capt", "lt", "col", "gen", "gov",
    "sen", "rep", "fr", "e.g", "i.e", "vs", "cf", "approx", "dept", "tel", "ext",
];

/// Abbreviations after which a `.` ends a sentence only before a capital letter.
const MAYBE_ENDS: &[&str] = &[
    "a.m", "p.m", "am", "pm", "etc", "jr", "sr", "inc", "ltd", "co", "corp", "llc", "ave", "blvd", "rd", "hwy", "apt",
    "ste", "est", "min", "hr", "hrs", "sec", "oz", "lb", "lbs",
];

/// Closing marks that stay with the sentence they follow.
fn closing(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | ']' | '}' | '\u{201d}' | '\u{2019}' | '\u{bb}')
}

fn terminator(c: char) -> bool {
    matches!(c, '.' | '?' | '!' | '\u{2026}')
}

/// The word right before byte `at`, without opening marks: `Dr` for `(Dr.`, `a.m` for
/// `9 a.m.`.
fn word_before(text: &str, at: usize) -> &str {
    let head = &text[..at];
    let from = head.rfind(char::is_whitespace).map_or(0, |p| p + 1);
    head[from..].trim_start_matches(|c: char| !c.is_alphanumeric())
}

/// Whether the single `.` at byte `at` (followed by whitespace, then `next`) ends a
/// sentence.
fn period_ends(text: &str, at: usize, next: Option<char>) -> bool {
    let word = word_before(text, at);
    if word.is_empty() {
        return true;
    }
    let lower = word.to_lowercase();
    let mut chars = word.chars();
    let single = chars.next().filter(|_| chars.next().is_none());
    // An initial: "John F. Kennedy".
    if single.is_some_and(char::is_uppercase) {
        return false;
    }
    if NEVER_ENDS.contains(&lower.as_str()) {
        return false;
    }
    // "U.S.", "a.m.": letters with dots inside.
    let dotted = lower.contains('.')
        && lower
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(char::is_alphabetic));
    if dotted || MAYBE_ENDS.contains(&lower.as_str()) {
        return next.is_some_and(char::is_uppercase);
    }
    true
}

/// Where the run of terminators starting at byte `at` ends its sentence: the byte just
/// past the run and its closing marks, or `None` when it does not end one.
fn boundary(text: &str, at: usize) -> Option<usize> {
    let mut end = at;
    let mut run = 0;
    let mut only_period = true;
    for c in text[at..].chars() {
        if terminator(c) {
            only_period &= c == '.';
            run += 1;
        } else if !closing(c) || run == 0 {
            break;
        }
        end += c.len_utf8();
    }
    let rest = &text[end..];
    let Some(after) = rest.chars().next() else {
        return Some(end);
    };
    if !after.is_whitespace() {
        return None;
    }
    if run == 1 && only_period {
        let next = rest.trim_start().chars().next();
        if !period_ends(text, at, next) {
            return None;
        }
    }
    Some(end)
}

/// The byte offsets just past each sentence's end (its terminators and closing marks).
fn ends(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        if terminator(c) {
            let run_end = i + text[i..]
                .char_indices()
                .find(|&(_, c)| !terminator(c))
                .map_or(text.len() - i, |(j, _)| j);
            if let Some(end) = boundary(text, i) {
                out.push(end);
                i = end;
            } else {
                i = run_end;
            }
        } else {
            i += c.len_utf8();
        }
    }
    out
}

/// Splits text into sentences, each trimmed, its punctuation kept: "Got it. May I have
/// your name?" -> ["Got it.", "May I have your name?"]. See the module documentation for
/// where a sentence ends.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for end in ends(text) {
        let s = text[start..end].trim();
        if !s.is_empty() {
            out.push(s);
        }
        start = end;
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// The byte offset of the first `.` in `text` that ends a sentence (by the rule of
/// [`sentences`]), for cutting a clause at its end.
pub fn first_period_end(text: &str) -> Option<usize> {
    text.char_indices()
        .filter(|&(i, c)| c == '.' && (i == 0 || !text[..i].ends_with('.')))
        .find(|&(i, _)| boundary(text, i).is_some())
        .map(|(i, _)| i)
}

/// What the receptionist says in one reply: the text (the parts joined with single
/// spaces, as a transcript and `<Say>` take it) and the same words as sentences, in
/// order (for streaming: text-to-speech can start on the first sentence while the rest
/// is still being sent). Derefs to the text, and compares with `&str` and `String`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Speech {
    text: String,
    sentences: Vec<String>,
}

impl Speech {
    /// Speech made of parts said one after the other (each may hold several sentences;
    /// empty parts are skipped).
    pub fn from_parts<S: AsRef<str>>(parts: &[S]) -> Self {
        let parts: Vec<&str> = parts
            .iter()
            .map(|p| p.as_ref().trim())
            .filter(|p| !p.is_empty())
            .collect();
        let text = parts.join(" ");
        let sentences = parts.iter().flat_map(|p| sentences(p)).map(str::to_owned).collect();
        Self { text, sentences }
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The sentences, in order; joined with spaces they make the text (up to
    /// whitespace).
    pub fn sentences(&self) -> &[String] {
        &self.sentences
    }

    pub fn into_text(self) -> String {
        self.text
    }
}

impl Deref for Speech {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

impl AsRef<str> for Speech {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Speech {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<&str> for Speech {
    fn from(s: &str) -> Self {
        Self::from_parts(&[s])
    }
}

impl From<String> for Speech {
    fn from(s: String) -> Self {
        Self::from_parts(&[s])
    }
}

impl From<Speech> for String {
    fn from(s: Speech) -> Self {
        s.text
    }
}

impl PartialEq<str> for Speech {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl PartialEq<&str> for Speech {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl PartialEq<String> for Speech {
    fn eq(&self, other: &String) -> bool {
        self.text == *other
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn empty_variables_leave_no_gaps() {
        let vars: Map<String, Value> = serde_json::from_value(json!({"owner_name": "Acme"})).expect("vars");
        assert_eq!(
            render("Thanks {{first_name}}, someone from {{owner_name}} will call.", &vars),
            "Thanks, someone from Acme will call."
        );
        assert_eq!(render("Thank you, {{patient_name}}. Bye", &vars), "Thank you. Bye");
    }

    fn split(s: &str) -> Vec<&str> {
        sentences(s)
    }

    /// The cases of the relay's splitter (`server::telephony::relay::sentences`), which
    /// keeps a trailing space on each piece; here pieces are trimmed, and "Dr." no longer
    /// ends a sentence.
    #[test]
    fn relay_cases() {
        assert_eq!(
            split("Got it. May I have your name?  Thanks!"),
            vec!["Got it.", "May I have your name?", "Thanks!"]
        );
        assert_eq!(split("Dr. Smith is in at 9.30"), vec!["Dr. Smith is in at 9.30"]);
        assert!(split("").is_empty());
        assert!(split("   ").is_empty());
    }

    /// The cases of the knowledge splitter (questions inside a longer turn).
    #[test]
    fn knowledge_cases() {
        assert_eq!(
            split("Hi there, I'd like a quote. Actually wait, first, are you licensed and insured?"),
            vec![
                "Hi there, I'd like a quote.",
                "Actually wait, first, are you licensed and insured?"
            ]
        );
        assert_eq!(
            split("Can I leave a message for Dr. Shah? It's about the 3.5 mile run."),
            vec!["Can I leave a message for Dr. Shah?", "It's about the 3.5 mile run."]
        );
        assert_eq!(split("What are your hours?!"), vec!["What are your hours?!"]);
        assert_eq!(split("Hours? And parking?"), vec!["Hours?", "And parking?"]);
        assert_eq!(split("no punctuation at all"), vec!["no punctuation at all"]);
    }

    /// The cases of the extraction's clause end (a volunteered name ends with its
    /// sentence).
    #[test]
    fn extract_cases() {
        assert_eq!(first_period_end("Priya Patel. I'd like an estimate"), Some(11));
        assert_eq!(first_period_end("my attorney is Ms. Harper."), Some(25));
        assert_eq!(first_period_end("Dr. Shah is late"), None);
        assert_eq!(first_period_end("dr. shah is late"), None);
        assert_eq!(first_period_end("Mrs. Jones"), None);
        assert_eq!(first_period_end("john.smith@x.com"), None);
        assert_eq!(first_period_end("Smith..."), Some(5));
    }

    #[test]
    fn abbreviations() {
        for one in [
            "Please let Dr. Shah know.",
            "Mr. and Mrs. Smith called.",
            "We're at 12 St. Mary's Road.",
            "Come at 9 a.m. tomorrow or 3 p.m. on Friday.",
            "It costs 3.5 dollars.",
            "Email john.smith@x.com please.",
            "Bring anything, e.g. a photo id.",
            "John F. Kennedy called.",
            "Ms. Harper, i.e. my attorney, said so.",
            "We fix roofs, gutters, etc. for everyone.",
            "Call Acme Inc. today.",
        ] {
            assert_eq!(split(one), vec![one], "{one}");
        }
        assert_eq!(split("Come at 9 a.m. Thanks!"), vec!["Come at 9 a.m.", "Thanks!"]);
        assert_eq!(
            split("I said \"hello.\" Then I left."),
            vec!["I said \"hello.\"", "Then I left."]
        );
        assert_eq!(split("Well... I think so."), vec!["Well...", "I think so."]);
        assert_eq!(split("Visit x.com/?a=1 now."), vec!["Visit x.com/?a=1 now."]);
        assert_eq!(split("It is 5. Then 6."), vec!["It is 5.", "Then 6."]);
    }

    #[test]
    fn speech_keeps_text_and_sentences() {
        let s = Speech::from_parts(&[
            "Got it.",
            "",
            " We're open 9 to 5. Closed on Sundays. ",
            "May I have your name?",
        ]);
        assert_eq!(s, "Got it. We're open 9 to 5. Closed on Sundays. May I have your name?");
        assert_eq!(
            s.sentences(),
            [
                "Got it.",
                "We're open 9 to 5.",
                "Closed on Sundays.",
                "May I have your name?"
            ]
        );
        assert!(s.starts_with("Got it."));
        assert_eq!(
            s.text(),
            join(&[
                "Got it.".into(),
                "We're open 9 to 5. Closed on Sundays.".into(),
                "May I have your name?".into()
            ])
        );
        assert!(Speech::from_parts::<&str>(&[]).is_empty());
    }
}
