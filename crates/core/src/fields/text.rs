//! Free text and person names: the `string` and `name` field types.
//!
//! A string is kept as said, less the hesitations around it (`um`, `uh`, `well,` in front,
//! `thanks` behind) and the final full stop. A name also loses the phrases people wrap it
//! in (`sure, it's`, `my name is`, `this is ... by the way`), keeps only the name's own
//! clause (`Priya Patel, I'd like an estimate` -> `Priya Patel`), and comes out in title
//! case (`kevin o'brien` -> `Kevin O'Brien`, `mcdonald` -> `McDonald`). An answer that is
//! not a name (`I don't know`, `why do you need that?`) gives `None`.

/// Hesitations dropped from the front of any answer.
const HESITATIONS: &[&str] = &[
    "um", "umm", "uh", "uhh", "er", "erm", "ah", "hm", "hmm", "mm", "well", "so", "oh",
];

/// A hesitation, drawn out or not (`ummm`, `uhhh`, `hmmm`).
fn hesitation(k: &str) -> bool {
    let mut short: Vec<char> = k.chars().collect();
    short.dedup();
    let short: String = short.into_iter().collect();
    HESITATIONS.contains(&k) || HESITATIONS.contains(&short.as_str())
}

/// Acknowledgements dropped from the front of a string answer when a comma follows them.
const ACKS: &[&str] = &["yeah", "yes", "yep", "okay", "ok", "sure", "right", "alright"];

/// Phrases that end an answer without being part of it.
const TRAILERS: &[&[&str]] = &[
    &["thank", "you", "very", "much"],
    &["thanks", "so", "much"],
    &["thank", "you"],
    &["thanks"],
    &["by", "the", "way"],
    &["please"],
];

/// A word's comparison key: lower-case, without surrounding punctuation.
fn key(w: &str) -> String {
    w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'')
        .trim_matches('\'')
        .to_lowercase()
        .replace('\u{2019}', "'")
}

/// The answer as said, without hesitations, a trailing thanks and final punctuation.
#[must_use]
pub fn string(s: &str) -> Option<String> {
    let words: Vec<&str> = s.split_whitespace().collect();
    let mut start = 0;
    while let Some(w) = words.get(start) {
        let k = key(w);
        let ack = ACKS.contains(&k.as_str()) && w.ends_with(',') && start + 1 < words.len();
        if !(hesitation(&k) || ack) {
            break;
        }
        start += 1;
    }
    let rest = &words[start..];
    let keys: Vec<String> = rest.iter().map(|w| key(w)).collect();
    let end = strip_trailers(&keys);
    let out = rest[..end].join(" ");
    let out = out.trim_matches(|c: char| c.is_whitespace() || matches!(c, '.' | ',' | '!' | '?' | ';' | ':'));
    (!out.is_empty()).then(|| out.to_owned())
}

/// How many of `keys` remain once trailing [`TRAILERS`] are removed (repeatedly).
fn strip_trailers(keys: &[String]) -> usize {
    let mut end = keys.len();
    'outer: loop {
        for t in TRAILERS {
            if end >= t.len() && keys[end - t.len()..end].iter().zip(t.iter()).all(|(k, w)| k == w) {
                end -= t.len();
                continue 'outer;
            }
        }
        return end;
    }
}

/// Phrases that introduce a name, longest first within each lead word.
const NAME_INTROS: &[&[&str]] = &[
    &["the", "patient's", "name", "is"],
    &["my", "full", "name", "is"],
    &["my", "first", "name", "is"],
    &["my", "name", "is"],
    &["my", "name's"],
    &["the", "name", "is"],
    &["the", "name's"],
    &["full", "name", "is"],
    &["name", "is"],
    &["name's"],
    &["you", "can", "call", "me"],
    &["call", "me"],
    &["this", "is"],
    &["that", "is"],
    &["it", "is"],
    &["i", "am"],
    &["of", "course"],
    &["it's"],
    &["its"],
    &["that's"],
    &["i'm"],
    &["im"],
];

/// Acknowledgements and greetings said before a name.
const ACK_LEADS: &[&[&str]] = &[
    &["sure", "thing"],
    &["hi"],
    &["hello"],
    &["hey"],
    &["yes"],
    &["yeah"],
    &["yep"],
    &["sure"],
    &["okay"],
    &["ok"],
    &["alright"],
    &["right"],
    &["speaking"],
];

/// Words that end the name's clause.
const NAME_STOPS: &[&str] = &[
    "and", "but", "i", "i'd", "i've", "i'm", "im", "calling", "from", "with", "by", "thanks", "thank", "please",
    "here", "speaking", "who", "that's", "it's", "if",
];

/// Words no name is made of: an answer holding one is not a name.
const NOT_NAMES: &[&str] = &[
    "don't",
    "dont",
    "know",
    "not",
    "no",
    "nope",
    "what",
    "why",
    "sorry",
    "you",
    "me",
    "my",
    "the",
    "a",
    "an",
    "is",
    "it",
    "that",
    "this",
    "need",
    "want",
    "like",
    "would",
    "rather",
    "say",
    "prefer",
    "can",
    "could",
    "do",
    "does",
    "repeat",
    "again",
    "name",
    "hold",
    "wait",
    "pardon",
    "huh",
    "unknown",
    "anonymous",
    "nothing",
    "none",
    "to",
    "for",
    "your",
    "tell",
    "sure",
    "was",
    "are",
    "have",
    "had",
    "should",
    "just",
    "number",
    "email",
    "phone",
    "about",
    "in",
    "on",
    "at",
];

/// A clause of the answer: its lower-case keys and the words as written.
type Clause<'a> = Vec<(String, &'a str)>;

/// The caller's name in title case, or `None` when the answer holds no name.
#[must_use]
pub fn name(s: &str) -> Option<String> {
    let s = s.replace('\u{2019}', "'");
    let clauses = clauses(&s);
    let words: Vec<(String, &str)> = clauses.concat();
    // After an introduction anywhere ("sure thing, it's Ann"), else from the start.
    let intros = (0..words.len()).filter_map(|i| phrase_end(&words, i, NAME_INTROS));
    intros
        .chain(std::iter::once(0))
        .find_map(|start| name_from(&clauses, &words, strip_leads(&words, start)))
}

/// The name in `words` from word `lead` on.
fn name_from(clauses: &[Clause<'_>], words: &[(String, &str)], lead: usize) -> Option<String> {
    let words = &words[lead.min(words.len())..];
    // The clause the name starts in, cut at the first stop word.
    let first_len = clause_len_from(clauses, lead);
    let mut take: Vec<(String, &str)> = words.iter().take(first_len).cloned().collect();
    let rest = &words[first_len.min(words.len())..];
    // "Carlos, Carlos Mendez": a restatement that begins with the same words wins.
    let restated = rest.len() > take.len() && rest.iter().zip(&take).all(|(a, b)| a.0 == b.0);
    if restated {
        let next_len = clause_len_from(clauses, lead + first_len);
        take = rest.iter().take(next_len).cloned().collect();
    }
    let stop = take
        .iter()
        .position(|(k, _)| NAME_STOPS.contains(&k.as_str()))
        .unwrap_or(take.len());
    take.truncate(stop);
    let ok = (1..=4).contains(&take.len())
        && take.iter().all(|(k, _)| {
            !NOT_NAMES.contains(&k.as_str()) && k.chars().any(char::is_alphabetic) && k.chars().all(name_char)
        });
    ok.then(|| take.iter().map(|(_, w)| title_case(w)).collect::<Vec<_>>().join(" "))
}

fn name_char(c: char) -> bool {
    c.is_alphabetic() || matches!(c, '\'' | '-' | '.')
}

/// Splits at commas, semicolons, `!`, `?` and sentence-ending full stops.
fn clauses(s: &str) -> Vec<Clause<'_>> {
    let mut out = Vec::new();
    let mut cur: Clause<'_> = Vec::new();
    for w in s.split_whitespace() {
        let k = key(w);
        let full_stop = k.chars().count() > 1 && !TITLES.contains(&k.as_str());
        let ends = w.ends_with([',', ';', '!', '?']) || (w.ends_with('.') && full_stop);
        let word = w.trim_matches(|c: char| !name_char(c));
        let word = word.strip_suffix('.').filter(|_| full_stop).unwrap_or(word);
        if !k.is_empty() {
            cur.push((k, word));
        }
        if ends && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Words left in the clause that holds word `at` (counting over all clauses), from `at` on.
fn clause_len_from(clauses: &[Clause<'_>], at: usize) -> usize {
    let mut seen = 0;
    for c in clauses {
        if at < seen + c.len() {
            return seen + c.len() - at;
        }
        seen += c.len();
    }
    0
}

/// Titles whose abbreviating full stop does not end a sentence.
const TITLES: &[&str] = &["dr", "mr", "mrs", "ms", "mx", "prof", "st"];

/// Where the first of `list`'s phrases found at word `at` ends.
fn phrase_end(words: &[(String, &str)], at: usize, list: &[&[&str]]) -> Option<usize> {
    list.iter().find_map(|p| {
        let end = at + p.len();
        let hit = end <= words.len() && words[at..end].iter().zip(p.iter()).all(|(w, l)| w.0 == *l);
        hit.then_some(end)
    })
}

/// The first word from `at` on that is not an introduction, greeting or hesitation.
fn strip_leads(words: &[(String, &str)], mut at: usize) -> usize {
    while at < words.len() {
        if hesitation(&words[at].0) {
            at += 1;
        } else if let Some(end) = phrase_end(words, at, NAME_INTROS).or_else(|| phrase_end(words, at, ACK_LEADS)) {
            at = end;
        } else {
            break;
        }
    }
    at
}

/// `kevin` -> `Kevin`, `o'brien` -> `O'Brien`, `mary-jane` -> `Mary-Jane`, `mcdonald` ->
/// `McDonald`; a word already in mixed case (`DeShawn`) keeps its inner capitals.
#[must_use]
pub fn title_case(w: &str) -> String {
    let mut out = String::with_capacity(w.len());
    let mut part = String::new();
    for c in w.chars() {
        if c == '-' || c == '\'' {
            out.push_str(&title_part(&part));
            out.push(c);
            part.clear();
        } else {
            part.push(c);
        }
    }
    let after_apostrophe = out.ends_with('\'');
    if after_apostrophe && part.chars().count() == 1 {
        out.push_str(&part.to_lowercase());
    } else {
        out.push_str(&title_part(&part));
    }
    out
}

fn title_part(p: &str) -> String {
    let mixed = p.chars().any(char::is_uppercase) && p.chars().any(char::is_lowercase);
    let lower = p.to_lowercase();
    if let Some(rest) = lower.strip_prefix("mc").filter(|r| r.chars().count() >= 2 && !mixed) {
        return format!("Mc{}", capitalize(rest));
    }
    if mixed { capitalize(p) } else { capitalize(&lower) }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_the_spec() {
        let cases = [
            ("uh it's john smith", "John Smith"),
            ("Sure, it's John Smith.", "John Smith"),
            ("my name is kevin o'brien", "Kevin O'Brien"),
            ("this is Maria Garcia by the way", "Maria Garcia"),
            ("Dave Wilson", "Dave Wilson"),
            ("angus mcdonald", "Angus McDonald"),
            ("Angus McDonald", "Angus McDonald"),
            ("mary-jane watson", "Mary-Jane Watson"),
        ];
        for (said, want) in cases {
            assert_eq!(name(said).as_deref(), Some(want), "{said}");
        }
    }

    #[test]
    fn names_in_the_wild() {
        let cases = [
            ("uh yeah it's kevin o'brien", "Kevin O'Brien"),
            ("Maria Garcia.", "Maria Garcia"),
            ("My name is Paul Anderson", "Paul Anderson"),
            (
                "Hi, this is Priya Patel, I'd like an estimate for a bathroom remodel.",
                "Priya Patel",
            ),
            (
                "My name's Carlos, Carlos Mendez, number is 555 313 9090",
                "Carlos Mendez",
            ),
            ("I'm Aisha Bello and I'm going through a divorce", "Aisha Bello"),
            ("you can call me DeShawn", "DeShawn"),
            ("JOHN SMITH", "John Smith"),
            ("well the name is sam o\u{2019}neil, thanks", "Sam O'Neil"),
            ("J. R. Ewing", "J. R. Ewing"),
            ("it's john's", "John's"),
            ("Emily Johnson speaking", "Emily Johnson"),
            ("It's Dr. Sarah Lee", "Dr. Sarah Lee"),
            ("sure thing, it's Ann-Marie O'Connor-Smith", "Ann-Marie O'Connor-Smith"),
            ("Dave Wilson, it's for my dad", "Dave Wilson"),
            ("uh, Tom Becker here", "Tom Becker"),
            ("Hi yes this is Robert Taylor calling", "Robert Taylor"),
        ];
        for (said, want) in cases {
            assert_eq!(name(said).as_deref(), Some(want), "{said}");
        }
    }

    #[test]
    fn not_names() {
        for said in [
            "I don't know",
            "why do you need that?",
            "",
            "uh",
            "my name is",
            "sorry, what?",
            "555 867 5309",
            "I'd rather not say",
            "can you repeat that",
            "one two three four five six",
        ] {
            assert_eq!(name(said), None, "{said}");
        }
    }

    #[test]
    fn strings() {
        let cases = [
            ("um, delta dental thanks", "delta dental"),
            ("Delta Dental", "Delta Dental"),
            ("uh well, In the next three months.", "In the next three months"),
            ("As soon as possible.", "As soon as possible"),
            ("Yeah, before winter, thank you", "before winter"),
            ("yes", "yes"),
            ("so Cigna please.", "Cigna"),
            ("uh, ummm, around the corner", "around the corner"),
            (
                "  Tell Mike the permit came through!  ",
                "Tell Mike the permit came through",
            ),
        ];
        for (said, want) in cases {
            assert_eq!(string(said).as_deref(), Some(want), "{said}");
        }
        for said in ["", "   ", "um", "uh, thanks.", "..."] {
            assert_eq!(string(said), None, "{said}");
        }
    }
}
