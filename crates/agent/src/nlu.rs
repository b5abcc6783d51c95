//! Small language helpers shared by the rules brain: words, stems, phrase search, and
//! the caller intents that do not depend on an agent's configuration (asking for a
//! person, wanting to leave a message, declining to answer, being done).
//!
//! Phrase lists are split and stemmed once ([`Phrases`], built lazily for the built-in
//! lists and per configuration for the agent's own words, [`PersonWords`]), not on
//! every utterance.

use frontdesk_core::fields::spoken::tokens;

/// An utterance as lower-case words (numerals kept whole, punctuation dropped).
#[derive(Debug, Clone)]
pub struct Words {
    pub raw: Vec<String>,
    pub stems: Vec<String>,
}

impl Words {
    pub fn new(s: &str) -> Self {
        let raw: Vec<String> = tokens(s)
            .into_iter()
            .filter(|t| t.chars().any(char::is_alphanumeric))
            .collect();
        let stems = raw.iter().map(|w| stem(w)).collect();
        Self { raw, stems }
    }

    pub fn len(&self) -> usize {
        self.raw.len()
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Positions where `phrase` (itself split and stemmed) starts.
    pub fn find_all(&self, phrase: &Words) -> Vec<usize> {
        let n = phrase.stems.len();
        if n == 0 || n > self.stems.len() {
            return Vec::new();
        }
        (0..=self.stems.len() - n)
            .filter(|&i| self.stems[i..i + n] == phrase.stems[..])
            .collect()
    }

    /// Whether `phrase` (itself split and stemmed) occurs: `!find_all(phrase).is_empty()`
    /// without the allocation.
    pub fn contains(&self, phrase: &Words) -> bool {
        let n = phrase.stems.len();
        n > 0 && n <= self.stems.len() && self.stems.windows(n).any(|w| w == phrase.stems.as_slice())
    }

    pub fn find(&self, phrase: &str) -> Option<usize> {
        self.find_all(&Words::new(phrase)).into_iter().next()
    }

    pub fn has(&self, phrase: &str) -> bool {
        self.find(phrase).is_some()
    }

    pub fn has_any(&self, phrases: &[&str]) -> bool {
        phrases.iter().any(|p| self.has(p))
    }

    /// Content words (stems), without stop words.
    pub fn content(&self) -> impl Iterator<Item = &str> {
        self.raw
            .iter()
            .zip(&self.stems)
            .filter(|(r, s)| !is_stop(r) && !is_stop(s))
            .map(|(_, s)| s.as_str())
    }
}

/// A list of phrases, split and stemmed once.
#[derive(Debug, Clone, Default)]
pub struct Phrases(Vec<Words>);

impl Phrases {
    pub fn new<S: AsRef<str>>(list: &[S]) -> Self {
        Self(list.iter().map(|p| Words::new(p.as_ref())).collect())
    }

    /// Whether any of the phrases occurs in `w` (as [`Words::has_any`]).
    pub fn any_in(&self, w: &Words) -> bool {
        self.0.iter().any(|p| w.contains(p))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Words> {
        self.0.iter()
    }
}

/// A built-in phrase list, split and stemmed on first use.
macro_rules! phrases {
    ($list:expr) => {{
        static P: ::std::sync::LazyLock<$crate::nlu::Phrases> =
            ::std::sync::LazyLock::new(|| $crate::nlu::Phrases::new($list));
        &*P
    }};
}
pub(crate) use phrases;

/// A light stemmer: enough to match `estimates` with `estimate`, `leaking` with `leak`,
/// `scheduled` with `schedule`.
pub fn stem(w: &str) -> String {
    let w = w.trim_end_matches("'s");
    if let Some((_, to)) = IRREGULAR.iter().find(|(from, _)| *from == w) {
        return (*to).to_owned();
    }
    let n = w.len();
    if n <= 3 || !w.is_ascii() {
        return w.to_owned();
    }
    let base = if let Some(b) = w.strip_suffix("ies").filter(|_| n > 4) {
        format!("{b}y")
    } else if let Some(b) = w.strip_suffix("ing").filter(|_| n > 5) {
        undouble(b)
    } else if let Some(b) = w.strip_suffix("ed").filter(|_| n > 4 && !w.ends_with("eed")) {
        undouble(b)
    } else if let Some(b) = w
        .strip_suffix("es")
        .filter(|b| b.ends_with(['s', 'x', 'z']) || b.ends_with("ch") || b.ends_with("sh"))
    {
        b.to_owned()
    } else if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w[..n - 1].to_owned()
    } else {
        w.to_owned()
    };
    match base.strip_suffix('e') {
        Some(b) if base.len() > 4 => b.to_owned(),
        _ => base,
    }
}

/// Forms the suffix rules cannot reach, and words that mean the same to a receptionist.
const IRREGULAR: &[(&str, &str)] = &[
    ("swollen", "swell"),
    ("swelling", "swell"),
    ("broke", "break"),
    ("broken", "break"),
    ("bled", "bleed"),
    ("somebody", "someone"),
    ("someone", "someone"),
    ("everybody", "everyone"),
    ("everyone", "everyone"),
    ("anybody", "anyone"),
    ("anyone", "anyone"),
    ("children", "child"),
    ("kids", "child"),
    ("kid", "child"),
    ("men", "man"),
    ("women", "woman"),
    ("teeth", "tooth"),
    ("feet", "foot"),
    ("mice", "mouse"),
    ("ran", "run"),
    ("fell", "fall"),
    ("fallen", "fall"),
    ("hurt", "hurt"),
    ("went", "go"),
    ("gone", "go"),
    ("left", "leave"),
    ("paid", "pay"),
    ("got", "get"),
    ("gotten", "get"),
    ("ate", "eat"),
    ("eaten", "eat"),
];

/// `stopp` -> `stop`, `bleed` stays.
fn undouble(b: &str) -> String {
    let bytes = b.as_bytes();
    let n = bytes.len();
    let stripped = if n >= 2 && bytes[n - 1] == bytes[n - 2] && !matches!(bytes[n - 1], b'l' | b's' | b'z' | b'e') {
        &b[..n - 1]
    } else {
        b
    };
    // "schedul" (from "scheduled"/"scheduling") meets "schedule" stemmed as "schedul".
    stripped.strip_suffix('e').unwrap_or(stripped).to_owned()
}

const STOP: &[&str] = &[
    "a", "an", "the", "i", "i'm", "im", "me", "my", "mine", "you", "your", "we", "our", "us", "it", "it'", "its", "is",
    "are", "wa", "was", "were", "be", "been", "am", "do", "doe", "does", "did", "to", "of", "for", "on", "in", "at",
    "and", "or", "but", "so", "if", "that", "thi", "this", "there", "what", "when", "where", "how", "who", "which",
    "can", "could", "would", "will", "should", "have", "ha", "has", "had", "just", "like", "want", "need", "please",
    "hi", "hello", "hey", "um", "uh", "yeah", "oh", "ok", "okay", "well", "about", "with", "get", "some", "any", "guy",
    "guys", "also", "by", "way", "than", "then", "too", "very", "really", "d", "ll", "ve", "i'd", "i'll", "i've",
    "you'r", "thank", "thanks", "not", "no", "yes", "from", "up", "out", "them", "they", "he", "she", "him", "her",
    "his", "know", "think", "much", "one", "let", "tell", "call", "calling", "say", "go", "going", "make",
];

pub fn is_stop(w: &str) -> bool {
    STOP.contains(&w)
}

/// Whether the utterance asks something (a question mark, or a question's opening).
pub fn is_question(s: &str) -> bool {
    if s.contains('?') {
        return true;
    }
    s.split([',', ';', '.']).any(clause_is_question)
}

fn clause_is_question(s: &str) -> bool {
    let w = Words::new(s);
    const STARTS: &[&str] = &[
        "what",
        "when",
        "where",
        "how",
        "who",
        "which",
        "why",
        "do you",
        "does",
        "is there",
        "are you",
        "are there",
        "can you",
        "could you",
        "can i",
        "will you",
        "would you",
        "is it",
        "is your",
        "do they",
    ];
    let lead = skip_leads(&w);
    phrases!(STARTS)
        .iter()
        .any(|pw| w.stems.len() >= lead + pw.stems.len() && w.stems[lead..lead + pw.stems.len()] == pw.stems[..])
        || phrases!(&[
            "i was wondering",
            "i wonder",
            "wondering if",
            "curious if",
            "curious whether",
        ])
        .any_in(&w)
}

/// Index of the first word after greetings and hesitations.
fn skip_leads(w: &Words) -> usize {
    const LEADS: &[&str] = &[
        "hi", "hello", "hey", "um", "uh", "oh", "and", "so", "yeah", "ok", "okay", "well", "also", "actually", "wait",
        "first", "sorry", "quick", "question", "there", "yes", "no",
    ];
    w.raw.iter().take_while(|t| LEADS.contains(&t.as_str())).count()
}

/// Words allowed between a request verb and the person asked for
/// ("talk to a real person", "speak with someone from your team").
const BRIDGE: &[&str] = &[
    "to",
    "with",
    "a",
    "an",
    "the",
    "some",
    "real",
    "live",
    "actual",
    "your",
    "one",
    "of",
    "just",
    "please",
    "me",
    "you",
    "can",
    "could",
    "i",
    "talk",
    "speak",
    "speaking",
    "talking",
    "chat",
    "someone",
    "somebody",
    "human",
    "actually",
    "directly",
    "right",
    "now",
    "quickly",
    "through",
    "over",
    "another",
    "different",
    "in",
    "person",
    "be",
    "like",
    "please",
    "maybe",
    "possibly",
];

/// Verbs with which callers ask for someone: strong ones ask for whoever follows...
const REQUEST_STRONG: &[&str] = &[
    "talk", "speak", "speaking", "talking", "connect", "transfer", "put", "patch", "reach", "chat",
];
/// ...weak ones only for a person-word ("I need a human", not "I need someone to come").
const REQUEST_WEAK: &[&str] = &["get", "want", "need", "have", "see", "ask", "prefer", "rather"];

/// Words for a person that count as asking for one whatever the agent's triggers say.
const PERSON_WORDS: &[&str] = &[
    "human",
    "person",
    "operator",
    "representative",
    "real person",
    "live person",
    "receptionist",
    "someone",
    "somebody",
    "anyone",
    "anybody",
    "staff member",
    "team member",
    "live agent",
];

/// Pronoun-like person words: these need a strong verb.
const PRONOUNS: &[&str] = &["someone", "anyone", "somebody", "anybody"];

/// Phrases that ask for a person whatever the agent's trigger list says.
const ASK_PERSON: &[&str] = &[
    "transfer me",
    "connect me",
    "put me through",
    "patch me through",
    "talk to someone",
    "speak to someone",
    "speak with someone",
    "talk with someone",
    "talk to somebody",
    "speak to somebody",
    "talk to a human",
    "speak to a human",
    "speak with a human",
    "talk to a person",
    "speak to a person",
    "speak with a person",
    "talk to a real person",
    "speak to a real person",
    "speak with a real person",
    "a real person",
    "a live person",
    "a human being",
    "live agent",
    "real human",
];

const NEGATORS: &[&str] = &[
    "don't", "dont", "do not", "no need", "not", "never", "doesn't", "without",
];

/// Whether the caller asks to be put through to a person (`triggers` are the agent's
/// own words for one). A trigger counts only when asked for ("can I talk to a
/// manager", "operator please"), not when mentioned ("leave a message for the
/// paralegal", "I don't need to talk to a person"). Splits the triggers on every call:
/// [`PersonWords`] does that once per configuration.
pub fn asks_for_person(s: &str, triggers: &[String]) -> bool {
    PersonWords::new(triggers).asks(s)
}

/// The words for a person an agent's callers may ask for (its transfer triggers, then
/// the built-in person words), split and stemmed once.
#[derive(Debug, Clone)]
pub struct PersonWords {
    /// Each word, and whether it is pronoun-like ("someone": needs a strong verb).
    all: Vec<(Words, bool)>,
}

impl PersonWords {
    pub fn new(triggers: &[String]) -> Self {
        let all = triggers
            .iter()
            .map(String::as_str)
            .chain(PERSON_WORDS.iter().copied())
            .map(|t| {
                let tw = Words::new(t);
                let pronoun = tw.len() == 1 && PRONOUNS.contains(&stem(&tw.raw[0]).as_str());
                (tw, pronoun)
            })
            .collect();
        Self { all }
    }

    /// Whether the caller asks to be put through to a person: see [`asks_for_person`].
    pub fn asks(&self, s: &str) -> bool {
        let w = Words::new(s);
        if w.is_empty() || wants_message_words(&w) {
            return false;
        }
        let negators = phrases!(NEGATORS);
        let negated_before = |pos: usize| {
            let from = pos.saturating_sub(9);
            negators
                .iter()
                .any(|nw| w.find_all(nw).iter().any(|&p| p >= from && p < pos))
        };
        for p in phrases!(ASK_PERSON).iter() {
            for pos in w.find_all(p) {
                if !negated_before(pos) {
                    return true;
                }
            }
        }
        let content = w.content().count();
        for (tw, pronoun) in &self.all {
            let pronoun = *pronoun;
            for pos in w.find_all(tw) {
                if negated_before(pos) {
                    continue;
                }
                // Short answers: "operator", "a human please", "representative".
                if !pronoun && content <= tw.stems.len() + 1 && w.len() <= tw.len() + 4 {
                    return true;
                }
                // A request verb before it with only bridge words between.
                let mut i = pos;
                while i > 0 && pos - i < 7 {
                    i -= 1;
                    let word = w.raw[i].as_str();
                    if REQUEST_STRONG.contains(&word) || (!pronoun && REQUEST_WEAK.contains(&word)) {
                        return true;
                    }
                    if !BRIDGE.contains(&word) {
                        break;
                    }
                }
                // Or after it: "is there a manager I could talk to".
                let after = &w.raw[(pos + tw.len()).min(w.len())..];
                if after
                    .iter()
                    .take(7)
                    .any(|x| matches!(x.as_str(), "talk" | "speak" | "available"))
                {
                    return true;
                }
            }
        }
        false
    }
}

/// Phrases with which a caller asks to leave a message.
const MESSAGE: &[&str] = &[
    "leave a message",
    "leave him a message",
    "leave her a message",
    "leave them a message",
    "take a message",
    "pass a message",
    "pass along a message",
    "pass on a message",
    "give him a message",
    "give her a message",
    "leave a note",
    "leave word",
    "leave a voicemail",
    "pass it along",
    "pass along",
    "pass this along",
    "pass that along",
    "a message for",
    "message for",
];

/// Whether the caller asks to leave a message: a message phrase, or asking to pass
/// word to someone ("could you let Dr. Shah know...", "can you tell Mike that...").
pub fn wants_message(s: &str) -> bool {
    wants_message_words(&Words::new(s))
}

fn wants_message_words(w: &Words) -> bool {
    phrases!(MESSAGE).any_in(w) || relay_at(w).is_some()
}

/// Where "let `<someone>` know" / "tell `<someone>` that" starts, when the someone is not
/// the receptionist or the caller ("let me know" is not a message).
pub fn relay_at(w: &Words) -> Option<usize> {
    let self_words = ["me", "us", "you", "i"];
    for (i, x) in w.raw.iter().enumerate() {
        let after = w.raw.get(i + 1).map(String::as_str);
        if after.is_none_or(|a| self_words.contains(&a)) {
            continue;
        }
        if x == "let" && w.raw[i + 1..].iter().take(4).any(|y| y == "know") {
            return Some(i);
        }
        let asked = i > 0
            && matches!(
                w.raw[i - 1].as_str(),
                "you" | "please" | "to" | "just" | "could" | "can"
            );
        if x == "tell" && asked && w.len() > i + 3 {
            return Some(i);
        }
    }
    None
}

/// Whether the answer declines or says the question does not apply ("I don't know",
/// "I'd rather not say", "not sure", "skip", "it hasn't happened").
pub fn declines(s: &str) -> bool {
    let w = Words::new(s);
    const DECLINE: &[&str] = &[
        "don't know",
        "dont know",
        "do not know",
        "not sure",
        "no idea",
        "rather not",
        "prefer not",
        "not really sure",
        "unsure",
        "skip",
        "pass on that",
        "no comment",
        "not applicable",
        "n a",
        "doesn't apply",
        "does not apply",
        "hasn't happened",
        "has not happened",
        "haven't decided",
        "not decided",
        "undecided",
        "can't remember",
        "cannot remember",
        "don't remember",
        "no clue",
        "dunno",
        "not yet",
        "no budget",
        "don't have one",
        "don't have any",
        "haven't thought",
        "whatever works",
        "doesn't matter",
        "does not matter",
        "no preference",
        "any day",
        "anytime is fine",
        "whenever",
        "either is fine",
        "either one",
        "i'm flexible",
        "flexible",
        "don't care",
        "no clue",
        "i don't have any",
        "don't have any",
        "i'd rather not",
        "none of your",
    ];
    phrases!(DECLINE).any_in(&w)
}

/// Whether the caller is done ("no, that's all", "nope", "that's it, thanks", "bye").
pub fn is_done(s: &str) -> bool {
    let w = Words::new(s);
    const DONE: &[&str] = &[
        "that's all",
        "that is all",
        "that's it",
        "that is it",
        "that's everything",
        "that is everything",
        "nothing else",
        "no thanks",
        "no thank you",
        "i'm good",
        "im good",
        "i'm all set",
        "all set",
        "bye",
        "goodbye",
        "good bye",
        "we're done",
        "we're good",
        "that'll be all",
        "that will be all",
        "that should be it",
        "that's about it",
        "i think that's it",
        "not right now",
        "nope",
        "nah",
        "no",
        "that covers it",
        "have a good",
        "have a nice",
        "take care",
    ];
    if phrases!(DONE).any_in(&w) {
        return true;
    }
    // A bare courtesy or acknowledgement: "Thanks.", "Okay.", "Great, thank you!"
    const COURTESY: &[&str] = &[
        "thanks",
        "thank",
        "you",
        "okay",
        "ok",
        "great",
        "perfect",
        "alright",
        "cool",
        "awesome",
        "sounds",
        "good",
        "wonderful",
        "appreciate",
        "it",
        "so",
        "much",
        "very",
        "please",
        "hurry",
        "sure",
        "fine",
        "right",
    ];
    !w.is_empty() && w.len() <= 6 && w.raw.iter().all(|x| COURTESY.contains(&x.as_str()))
}

/// Whether the caller says there is more ("yes", "actually one more thing").
pub fn has_more(s: &str) -> bool {
    let w = Words::new(s);
    phrases!(&[
        "one more",
        "another question",
        "also",
        "actually",
        "yes",
        "yeah",
        "i do",
        "there is",
    ])
    .any_in(&w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn stems() {
        for (a, b) in [
            ("estimates", "estimate"),
            ("leaking", "leak"),
            ("scheduled", "schedule"),
            ("scheduling", "schedule"),
            ("bleeding", "bleed"),
            ("charged", "charge"),
            ("bills", "bill"),
            ("emergencies", "emergency"),
            ("stopped", "stop"),
            ("consultations", "consultation"),
        ] {
            assert_eq!(stem(a), stem(b), "{a} {b}");
        }
        assert_ne!(stem("bus"), stem("bu"));
    }

    #[test]
    fn person_requests() {
        let triggers = t(&[
            "human",
            "person",
            "real person",
            "operator",
            "paralegal",
            "manager",
            "someone",
        ]);
        for s in [
            "Can I just talk to a real person please?",
            "I need to speak to a person right now please.",
            "operator",
            "a human please",
            "could you put me through to the manager",
            "is there a manager I could talk to?",
            "get me a human",
            "transfer me please",
            "I want to speak with a human being",
            "can I talk to the paralegal",
        ] {
            assert!(asks_for_person(s, &triggers), "{s}");
        }
        for s in [
            "I'd like to leave a message for the paralegal handling my file.",
            "I don't need to talk to a person, I just want a quote.",
            "I want to schedule someone to come out and do an inspection.",
            "the person who came out last week was great",
            "My name is Hope Person",
            "Can someone call me back tomorrow about the roof and the gutters?",
        ] {
            assert!(!asks_for_person(s, &triggers), "{s}");
        }
    }

    #[test]
    fn intents() {
        assert!(wants_message("Can I leave a message for Dr. Shah?"));
        assert!(wants_message("could you pass along a message to Mike"));
        assert!(!wants_message("I got your message yesterday"));
        for s in [
            "I'm not sure.",
            "I'd rather not say",
            "no idea",
            "it hasn't happened, I just want a will",
        ] {
            assert!(declines(s), "{s}");
        }
        assert!(!declines("Delta Dental"));
        for s in [
            "No, that's everything, thanks.",
            "Nope.",
            "No.",
            "Thanks.",
            "Okay.",
            "Please hurry.",
            "Great, that's all.",
        ] {
            assert!(is_done(s), "{s}");
        }
        assert!(!is_done("Actually, what are your hours?"));
        assert!(is_question("Oh, and what are your hours, by the way?"));
        assert!(is_question("do you take aetna"));
        assert!(!is_question("I need a quote"));
    }
}
