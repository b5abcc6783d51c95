//! Free text and person names: the `string` and `name` field types.
//!
//! A string is kept as said, less the hesitations around it (`um`, `uh`, `well,` in front,
//! `thanks` behind) and the final full stop. A short answer (one clause of at most six
//! words after it) also loses a phrase in front that only introduces the value: `his name
//! is`, `her name's`, `it's called`, `we call him` always, and `it's`, `it is` or `my
//! address is` only before what looks like a proper value, a number or a capitalised word
//! (`it's 42 Cedar Court` -> `42 Cedar Court`, but `it's leaking` stays as said).
//!
//! A name also loses the phrases people wrap it in (`sure, it's`, `my name is`, `this is
//! ... by the way`), keeps only the name's own clause (`Priya Patel, I'd like an estimate`
//! -> `Priya Patel`), and comes out in title case (`kevin o'brien` -> `Kevin O'Brien`,
//! `mcdonald` -> `McDonald`). An answer that is not a name (`I don't know`, `why do you
//! need that?`) gives `None`.

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
    let lead = lead_in(&rest[..end], &keys[..end]);
    let out = rest[lead..end].join(" ");
    let out = out.trim_matches(|c: char| c.is_whitespace() || matches!(c, '.' | ',' | '!' | '?' | ';' | ':'));
    (!out.is_empty()).then(|| out.to_owned())
}

/// The most words a value may have for a lead-in before it to be dropped.
const MAX_VALUE_WORDS: usize = 6;

/// How many words at the front of `keys` say what a thing is called (`it's called`, `he is
/// named`, `we call him`, `she goes by`), or `None`. `I called` (on the phone) is not one.
fn called_lead(keys: &[String]) -> Option<usize> {
    let k = |i: usize| keys.get(i).map(String::as_str).unwrap_or("");
    let be = match (k(0), k(1)) {
        ("it's" | "its" | "he's" | "she's" | "they're" | "that's", _) => Some(1),
        ("it" | "he" | "she" | "they" | "that", "is" | "was" | "are" | "were") => Some(2),
        _ => None,
    };
    if let Some(n) = be
        && matches!(k(n), "called" | "named")
    {
        return Some(n + 1);
    }
    match (k(0), k(1), k(2)) {
        ("we" | "i" | "they" | "you", "call", "him" | "her" | "it" | "them")
        | ("he" | "she" | "it" | "they", "goes" | "go", "by") => Some(3),
        _ => None,
    }
}

/// Words that may open a `my ... is` lead-in: `my address is`, `the company is`.
const POSSESSIVES: &[&str] = &["my", "our", "the", "his", "her", "their", "its", "your"];

/// How many words at the front of `words` (their `keys` alongside) only introduce the
/// value after them; 0 when none do, or when what follows is not one short clause.
fn lead_in(words: &[&str], keys: &[String]) -> usize {
    let k = |i: usize| keys.get(i).map(String::as_str).unwrap_or("");
    let proper = |i: usize| {
        words
            .get(i)
            .and_then(|w| w.trim_start_matches(|c: char| !c.is_alphanumeric()).chars().next())
            .is_some_and(|c| c.is_ascii_digit() || c.is_uppercase())
    };
    // `his name is`, `the dog's name's`, `i think her name is`: up to three words first.
    let named = (0..=3.min(keys.len())).find_map(|p| match (k(p), k(p + 1)) {
        ("name", "is" | "was") => Some(p + 2),
        ("name's", _) => Some(p + 1),
        _ => None,
    });
    let called = called_lead(keys);
    // `it's 42 Cedar Court`, `my address is 42 Cedar Court`: only before a proper value.
    let it_is = match (k(0), k(1)) {
        ("it's" | "its", _) => Some(1),
        ("it", "is") => Some(2),
        _ => None,
    };
    let my_x_is = (POSSESSIVES.contains(&k(0)))
        .then(|| (1..=2).find(|&n| k(n + 1) == "is").map(|n| n + 2))
        .flatten();
    let lead = named
        .or(called)
        .or_else(|| it_is.or(my_x_is).filter(|&n| proper(n)))
        .unwrap_or(0);
    let value = &words[lead.min(words.len())..];
    let one_clause = value
        .iter()
        .rev()
        .skip(1)
        .all(|w| !w.ends_with([',', ';', '.', '!', '?', ':']));
    let short = !value.is_empty() && value.len() <= MAX_VALUE_WORDS && one_clause;
    if short { lead } else { 0 }
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

    #[test]
    fn string_lead_ins() {
        let cases = [
            ("his name is biscuit", "biscuit"),
            ("her name's Luna", "Luna"),
            ("it's called Clover", "Clover"),
            ("it's 42 Cedar Court", "42 Cedar Court"),
            ("um 17 oak street", "17 oak street"),
            ("uh, it is 9 Elm Road.", "9 Elm Road"),
            ("the dog's name is Max, thanks", "Max"),
            ("I think her name is Princess Peach", "Princess Peach"),
            ("we call him Biscuit", "Biscuit"),
            ("he's named Rocky", "Rocky"),
            ("she goes by Lulu", "Lulu"),
            ("it is called The Nest", "The Nest"),
            ("yeah, it's Delta Dental", "Delta Dental"),
            ("my address is 42 Cedar Court", "42 Cedar Court"),
            ("the company is Acme Roofing", "Acme Roofing"),
            // Meaningful words stay: `it's` before an ordinary word, a long or several-clause answer.
            ("it's leaking", "it's leaking"),
            ("It's leaking under the sink", "It's leaking under the sink"),
            ("it's a Honda Civic", "it's a Honda Civic"),
            ("my roof is leaking", "my roof is leaking"),
            (
                "It's Mike, tell him the permit came through",
                "It's Mike, tell him the permit came through",
            ),
            (
                "his name is Max and he has been limping since Tuesday morning",
                "his name is Max and he has been limping since Tuesday morning",
            ),
            ("his name is", "his name is"),
            ("the name of the street is long", "the name of the street is long"),
            ("I called yesterday about my roof", "I called yesterday about my roof"),
            ("they called me back", "they called me back"),
            ("their names are Max and Bella", "their names are Max and Bella"),
        ];
        for (said, want) in cases {
            assert_eq!(string(said).as_deref(), Some(want), "{said}");
        }
    }
}
