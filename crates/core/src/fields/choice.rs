//! Closed answers: the `boolean` and `enum` field types.
//!
//! A boolean is the first clear signal in the answer (`yes`, `yeah`, `of course`, `uh
//! huh` / `no`, `nope`, `not really`, `it isn't`), longest phrase first, so `absolutely
//! not` is a no and `I'm not sure` is neither: an unsure or unclear answer gives `None`.
//!
//! An enum answer is matched to the option whose words it covers best: the same word after
//! light stemming (`tuesdays` -> `tuesday`, `leaking` -> `leak`) counts fully, a known
//! synonym (`fix` for `repair`, `new` for `installation`) or an abbreviation (`tues`,
//! `bath`) a little less. The whole option said in order always wins. Options are returned
//! exactly as configured; no overlap, or a tie between options said at the same place,
//! gives `None`.

use super::spoken::tokens;

const YES: &[&str] = &[
    "yes",
    "yeah",
    "yep",
    "yup",
    "ya",
    "yea",
    "sure",
    "correct",
    "that's right",
    "that is right",
    "that's correct",
    "absolutely",
    "of course",
    "uh huh",
    "mhm",
    "mm hmm",
    "definitely",
    "certainly",
    "affirmative",
    "indeed",
    "true",
    "i do",
    "i am",
    "it is",
    "we do",
    "i think so",
    "sounds good",
    "go ahead",
    "please do",
    "for sure",
    "exactly",
    "you bet",
    "right",
];

const NO: &[&str] = &[
    "no",
    "nope",
    "nah",
    "naw",
    "not really",
    "negative",
    "never",
    "incorrect",
    "wrong",
    "false",
    "it isn't",
    "it's not",
    "it is not",
    "isn't",
    "not",
    "i don't",
    "don't",
    "i do not",
    "i'm not",
    "i am not",
    "i haven't",
    "haven't",
    "i have not",
    "no way",
    "not at all",
    "absolutely not",
    "of course not",
    "definitely not",
    "certainly not",
    "that's wrong",
    "that's not right",
    "i wasn't",
    "wasn't",
    "we don't",
    "i didn't",
    "didn't",
    "i don't think so",
    "not yet",
];

const UNSURE: &[&str] = &[
    "not sure",
    "i'm not sure",
    "i am not sure",
    "not certain",
    "don't know",
    "i don't know",
    "dunno",
    "no idea",
    "i have no idea",
    "maybe",
    "perhaps",
    "possibly",
    "unsure",
    "it depends",
    "depends",
    "i don't remember",
    "don't remember",
    "can't remember",
    "i can't remember",
    "i forget",
    "right now",
];

/// The yes or no in the answer, or `None` when it is unsure or holds neither.
#[must_use]
pub fn boolean(s: &str) -> Option<bool> {
    let t = tokens(s);
    let lists: [(&[&str], Option<bool>); 3] = [(YES, Some(true)), (NO, Some(false)), (UNSURE, None)];
    for i in 0..t.len() {
        let mut best: Option<(usize, Option<bool>)> = None;
        for (list, meaning) in lists {
            for phrase in list {
                let words: Vec<&str> = phrase.split(' ').collect();
                let hit = t
                    .get(i..i + words.len())
                    .is_some_and(|w| w.iter().zip(&words).all(|(a, b)| a == b));
                if hit && best.is_none_or(|(len, _)| words.len() > len) {
                    best = Some((words.len(), meaning));
                }
            }
        }
        if let Some((_, meaning)) = best {
            return meaning;
        }
    }
    None
}

/// Words that say nothing about which option is meant.
const STOP: &[&str] = &[
    "the", "a", "an", "my", "i", "i'm", "i'd", "me", "we", "our", "you", "your", "to", "do", "it", "it's", "is", "are",
    "was", "be", "for", "of", "and", "or", "on", "in", "at", "with", "this", "that", "some", "just", "please", "need",
    "want", "would", "like", "get", "have", "has", "had", "um", "uh", "so", "well", "yeah",
];

/// Words that name the same thing, for matching answers to options (compared stemmed).
const SYNONYMS: &[&[&str]] = &[
    &[
        "repair", "fix", "fixed", "mend", "patch", "leak", "leaky", "broken", "damage", "damaged",
    ],
    &["installation", "install", "new", "replace", "replacement", "put"],
    &["remodel", "renovate", "renovation", "redo", "makeover", "update"],
    &["bathroom", "bath", "shower", "toilet"],
    &["plumbing", "plumber", "pipe", "drain", "faucet", "sink"],
    &["electrical", "electric", "electrician", "wiring", "outlet"],
    &["inspection", "inspect", "inspector", "checkup"],
    &["construction", "build", "addition"],
    &["injury", "injured", "hurt", "accident", "crash"],
    &["family", "divorce", "custody", "separation", "separated"],
    &["estate", "trust", "probate", "inheritance"],
    &["criminal", "arrested", "charged", "arrest", "dui"],
    &["employment", "fired", "job", "workplace", "employer", "boss"],
    &["business", "company", "contract", "llc"],
    &["other", "else", "different", "another"],
];

/// A light stem: plural `-s`/`-ies` and `-ing` removed.
fn stem(w: &str) -> String {
    if let Some(b) = w.strip_suffix("ies").filter(|b| b.len() >= 2) {
        return format!("{b}y");
    }
    if let Some(b) = w.strip_suffix("ing").filter(|b| b.len() >= 3) {
        return b.to_owned();
    }
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        return w[..w.len() - 1].to_owned();
    }
    w.to_owned()
}

fn content_stems(s: &str) -> Vec<String> {
    tokens(s)
        .iter()
        .filter(|w| !STOP.contains(&w.as_str()))
        .map(|w| stem(w))
        .collect()
}

fn synonyms(a: &str, b: &str) -> bool {
    SYNONYMS
        .iter()
        .any(|g| g.iter().any(|w| stem(w) == a) && g.iter().any(|w| stem(w) == b))
}

/// How well answer word `u` matches option word `o`: 1 for the same stem, 0.8 for a
/// synonym or an abbreviation of at least three letters.
fn word_match(u: &str, o: &str) -> f64 {
    if u == o {
        1.0
    } else if synonyms(u, o) || (u.len() >= 3 && o.starts_with(u)) {
        0.8
    } else {
        0.0
    }
}

/// The configured option the answer names, or `None`.
#[must_use]
pub fn option(s: &str, options: &[String]) -> Option<String> {
    let said = content_stems(s);
    // (score, first position matched, option)
    let scored: Vec<(f64, usize, &String)> = options
        .iter()
        .filter_map(|o| {
            let words = content_stems(o);
            let (score, at) = score(&said, &words)?;
            Some((score, at, o))
        })
        .collect();
    let best = scored.iter().map(|s| s.0).fold(0.0, f64::max);
    let top: Vec<_> = scored.iter().filter(|s| s.0 == best).collect();
    let first = top.iter().map(|s| s.1).min()?;
    let at_first: Vec<_> = top.iter().filter(|s| s.1 == first).collect();
    match at_first.as_slice() {
        [only] => Some(only.2.clone()),
        _ => None,
    }
}

/// The option said word for word (after stemming) somewhere in `s`, when exactly one
/// is: the conservative match for a field the caller volunteers unasked.
#[must_use]
pub fn mentioned(s: &str, options: &[String]) -> Option<String> {
    let said = content_stems(s);
    let mut hits = options.iter().filter(|o| {
        let words = content_stems(o);
        !words.is_empty() && said.windows(words.len()).any(|w| w == words.as_slice())
    });
    let first = hits.next()?;
    // "roof repair" inside "roof repair and inspection" is still ambiguous: give up.
    hits.next().is_none().then(|| first.clone())
}

/// An option's score against the answer's words, and the first answer word matched;
/// `None` when nothing matches. The whole option said in order scores above any overlap.
fn score(said: &[String], option: &[String]) -> Option<(f64, usize)> {
    if option.is_empty() {
        return None;
    }
    if let Some(at) = said.windows(option.len()).position(|w| w == option) {
        return Some((2.0, at));
    }
    let mut total = 0.0;
    let mut first = usize::MAX;
    for o in option {
        let best = said
            .iter()
            .enumerate()
            .map(|(i, u)| (word_match(u, o), i))
            .fold((0.0, usize::MAX), |a, b| if b.0 > a.0 { b } else { a });
        total += best.0;
        if best.0 > 0.0 {
            first = first.min(best.1);
        }
    }
    (total > 0.0).then(|| (total / option.len() as f64, first))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(o: &[&str]) -> Vec<String> {
        o.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn booleans() {
        let yes = [
            "yes",
            "Yeah",
            "yep",
            "sure",
            "correct",
            "that's right",
            "absolutely",
            "of course",
            "uh huh",
            "Yes, it's my first time.",
            "I think so",
            "mm hmm, that's me",
            "I am",
            "yes please",
        ];
        for said in yes {
            assert_eq!(boolean(said), Some(true), "{said}");
        }
        let no = [
            "no",
            "nope",
            "nah",
            "not really",
            "negative",
            "it isn't",
            "No, I've been coming for years.",
            "no, that's right",
            "absolutely not",
            "of course not",
            "I don't think so",
            "I haven't",
            "nah I'm good",
            "not yet",
        ];
        for said in no {
            assert_eq!(boolean(said), Some(false), "{said}");
        }
        for said in [
            "",
            "I'm not sure",
            "maybe",
            "I don't know",
            "what?",
            "this is my first time",
            "uh",
        ] {
            assert_eq!(boolean(said), None, "{said}");
        }
    }

    #[test]
    fn options() {
        let service = opts(&[
            "kitchen remodel",
            "bathroom remodel",
            "roof repair",
            "new construction",
            "other",
        ]);
        let cases = [
            ("the kitchen", "kitchen remodel"),
            ("The kitchen remodel.", "kitchen remodel"),
            ("fix my roof", "roof repair"),
            ("my roof is leaking", "roof repair"),
            ("redoing the bathroom", "bathroom remodel"),
            ("bath", "bathroom remodel"),
            ("something else", "other"),
            ("we want to build a new house", "new construction"),
        ];
        for (said, want) in cases {
            assert_eq!(option(said, &service).as_deref(), Some(want), "{said}");
        }
        for said in ["", "I don't know", "remodel", "painting the fence"] {
            assert_eq!(option(said, &service), None, "{said}");
        }
    }

    #[test]
    fn contractor_and_calendar_options() {
        let trade = opts(&[
            "roof repair",
            "roof installation",
            "inspection",
            "kitchen remodel",
            "bathroom remodel",
            "plumbing",
            "electrical",
        ]);
        let cases = [
            ("just an inspection", "inspection"),
            ("roof installation", "roof installation"),
            ("I need a new roof put on", "roof installation"),
            ("a leaky roof", "roof repair"),
            ("electrical work", "electrical"),
            ("a plumber", "plumbing"),
        ];
        for (said, want) in cases {
            assert_eq!(option(said, &trade).as_deref(), Some(want), "{said}");
        }
        assert_eq!(option("the roof", &trade), None);
        let days = opts(&["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]);
        assert_eq!(option("Tuesdays are best", &days).as_deref(), Some("Tuesday"));
        assert_eq!(option("weds", &days).as_deref(), Some("Wednesday"));
        assert_eq!(option("thurs or fri", &days).as_deref(), Some("Thursday"));
        assert_eq!(option("any day", &days), None);
        assert_eq!(option("saturday", &days), None);
    }
}
