//! Closed answers: the `boolean` and `enum` field types.
//!
//! A boolean is the first clear signal in the answer (`yes`, `yeah`, `of course`, `uh
//! huh` / `no`, `nope`, `not really`, `it isn't`), longest phrase first, so `absolutely
//! not` is a no and `I'm not sure` is neither: an unsure or unclear answer gives `None`.
//!
//! An enum answer is matched to the option whose words it covers best: the same word after
//! light stemming (`tuesdays` -> `tuesday`, `leaking` -> `leak`) counts fully, a known
//! synonym (`fix` for `repair`, `retriever` for `dog`, `a/c` for `air conditioning`, the
//! phrase `hot water` for `heater`) a little less, and what may be an abbreviation (`tues`)
//! less again. The whole option said in order always wins. Runs of single letters are one
//! word (`a c` -> `ac`). A `not` before a word of status (`I don't live there yet`) takes
//! it out, and `other` after `the` (`the other driver`) names one particular thing, not the
//! catch-all. An answer that names a kind of the same thing as the options but none of
//! them (`a hamster` for pets `dog`, `cat`, `other`) is the catch-all `other`. Options are
//! returned exactly as configured; no overlap, or a tie between options said at the same
//! place, gives `None`.

use std::sync::LazyLock;

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
    "want", "would", "like", "get", "have", "has", "had", "um", "uh", "so", "well", "yeah", "up", "he", "she", "he's",
    "she's", "his", "her", "they", "their", "them", "its", "they're", "we're", "even",
];

/// Words and phrases that name the same thing, for matching answers to options (compared
/// stemmed). The first word of a group is its head: a word matches the head a little
/// better than another word of the group (`heat` is nearer `furnace` than `heater`).
/// Phrases (`hot water`, `slip and fall`, `a will`) are looked for in the answer as said,
/// small words included.
const SYNONYMS: &[&[&str]] = &[
    // Work on a home.
    &[
        "repair",
        "fix",
        "fixed",
        "fixing",
        "mend",
        "patch",
        "leak",
        "leaky",
        "broken",
        "broke",
        "busted",
        "damage",
        "damaged",
        "not working",
        "isn't working",
        "stopped working",
        "quit working",
        "doesn't work",
        "won't work",
        "won't turn on",
        "won't start",
    ],
    &[
        "installation",
        "install",
        "installed",
        "new",
        "replace",
        "replaced",
        "replacing",
        "replacement",
        "put",
        "reroof",
        "re roof",
    ],
    &["remodel", "renovate", "renovation", "redo", "makeover", "update"],
    &["bathroom", "bath", "shower", "toilet"],
    &[
        "plumbing", "plumber", "pipe", "drain", "faucet", "sink", "clog", "clogged",
    ],
    &[
        "electrical",
        "electric",
        "electrician",
        "wiring",
        "wire",
        "outlet",
        "breaker",
        "circuit",
    ],
    &["inspection", "inspect", "inspector", "checkup"],
    &["construction", "build", "addition"],
    &["drain", "clog", "clogged", "blocked", "blockage", "backed up", "backup"],
    &["leak", "leaky", "drip", "dripping", "puddle"],
    &["roof", "shingle", "reroof"],
    // Heating and cooling.
    &["conditioning", "ac", "conditioner", "cooling", "central air", "cool"],
    &["furnace", "heater", "heating", "heat", "boiler"],
    &["heater", "hot water", "tankless"],
    &["maintenance", "tune", "tuneup", "checkup", "annual", "seasonal"],
    // Law.
    &[
        "injury",
        "injured",
        "hurt",
        "accident",
        "crash",
        "collision",
        "wreck",
        "slip and fall",
        "slipped",
        "slip",
    ],
    &[
        "family",
        "divorce",
        "custody",
        "separation",
        "separated",
        "child support",
        "alimony",
        "adoption",
    ],
    &[
        "estate",
        "trust",
        "probate",
        "inheritance",
        "a will",
        "my will",
        "the will",
        "her will",
        "his will",
        "living will",
        "last will",
        "power of attorney",
    ],
    &[
        "criminal", "arrested", "charged", "arrest", "charge", "dui", "dwi", "jail",
    ],
    &[
        "employment",
        "fired",
        "job",
        "workplace",
        "employer",
        "boss",
        "terminated",
        "termination",
        "discrimination",
        "harassment",
        "harassed",
        "laid off",
        "wage",
        "overtime",
    ],
    &["business", "company", "contract", "llc"],
    // Tenancy.
    &[
        "tenant", "renter", "renting", "rent", "rented", "lease", "leasing", "resident", "live", "lives", "living",
    ],
    &[
        "prospective",
        "future",
        "looking",
        "interested",
        "potential",
        "yet",
        "apply",
        "applying",
        "application",
    ],
    &[
        "current",
        "existing",
        "already",
        "returning",
        "regular",
        "live",
        "lives",
        "living",
        "been there",
        "been here",
        "been before",
        "been coming",
        "seen before",
    ],
    &["owner", "own", "owns", "landlord", "homeowner"],
    &["vendor", "supplier", "contractor"],
    &["new", "first time", "never been"],
    // Animals.
    &[
        "dog",
        "puppy",
        "pup",
        "canine",
        "retriever",
        "labrador",
        "lab",
        "poodle",
        "terrier",
        "shepherd",
        "bulldog",
        "beagle",
        "husky",
        "doodle",
        "spaniel",
    ],
    &["cat", "kitten", "kitty", "feline", "tabby"],
    &[
        "bird",
        "parrot",
        "parakeet",
        "budgie",
        "cockatiel",
        "canary",
        "finch",
        "macaw",
        "cockatoo",
    ],
    &["rabbit", "bunny", "bunnies"],
    &[
        "reptile", "lizard", "snake", "gecko", "turtle", "tortoise", "iguana", "python",
    ],
    &["fish", "goldfish", "betta", "aquarium"],
    &[
        "rodent",
        "hamster",
        "guinea pig",
        "gerbil",
        "mouse",
        "mice",
        "rat",
        "chinchilla",
    ],
    &["horse", "pony", "mare", "stallion"],
    // Days and times of day.
    &["monday", "mon"],
    &["tuesday", "tue", "tues"],
    &["wednesday", "wed", "weds"],
    &["thursday", "thu", "thur", "thurs"],
    &["friday", "fri"],
    &["saturday", "sat"],
    &["sunday", "sun"],
    &["morning", "am", "early"],
    &["afternoon", "pm", "after lunch"],
    &["evening", "night", "tonight", "after work"],
    &["other", "else", "different", "another"],
];

/// Heads of [`SYNONYMS`] groups that are kinds of one thing: an answer naming a kind that
/// no option lists (`a hamster` for pets `dog`, `cat`, `other`) is the catch-all option.
const KINDS: &[&[&str]] = &[
    &["dog", "cat", "rabbit", "bird", "reptile", "fish", "rodent", "horse"],
    &[
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ],
];

/// Words that make an option the catch-all (`other`, `something else`).
const CATCH_ALL: &[&str] = &["other", "else", "misc", "miscellaneous"];

/// Words whose meaning a `not` before them reverses (`I don't live there yet` says nothing
/// for `current`); symptoms keep naming their thing (`the AC isn't cooling`).
const NEGATABLE: &[&str] = &[
    "live",
    "lives",
    "living",
    "lived",
    "reside",
    "resident",
    "own",
    "owner",
    "owns",
    "rent",
    "renting",
    "rented",
    "renter",
    "lease",
    "leasing",
    "tenant",
    "current",
    "currently",
    "existing",
    "already",
    "returning",
    "regular",
    "new",
    "been",
];

const NEGATORS: &[&str] = &[
    "not", "no", "never", "don't", "dont", "doesn't", "didn't", "isn't", "aren't", "wasn't", "weren't", "haven't",
    "hasn't", "won't", "can't", "cannot", "nor",
];

/// Words that may stand between a negator and the word it negates.
const NEGATION_GAP: &[&str] = &[
    "a",
    "an",
    "the",
    "my",
    "our",
    "really",
    "currently",
    "actually",
    "even",
    "yet",
    "still",
    "any",
    "longer",
];

/// A light stem: plural `-s`/`-ies`, then `-ing`, removed (`mornings` and `morning` ->
/// `morn`).
fn stem(w: &str) -> String {
    if let Some(b) = w.strip_suffix("ies").filter(|b| b.len() >= 2) {
        return format!("{b}y");
    }
    let plural = w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is");
    let w = if plural { &w[..w.len() - 1] } else { w };
    if let Some(b) = w.strip_suffix("ing").filter(|b| b.len() >= 3) {
        return b.to_owned();
    }
    w.to_owned()
}

/// [`SYNONYMS`] stemmed once: each group's entries, each entry its words.
static GROUPS: LazyLock<Vec<Vec<Vec<String>>>> = LazyLock::new(|| {
    SYNONYMS
        .iter()
        .map(|g| g.iter().map(|e| e.split(' ').map(stem).collect()).collect())
        .collect()
});

/// A word of the answer that may name an option: its stem and where it was said.
#[derive(Debug, Clone)]
struct Said {
    stem: String,
    at: usize,
}

/// An answer (or an option) read for matching.
struct Words {
    /// Content words, stemmed, with their positions.
    words: Vec<Said>,
    /// The [`SYNONYMS`] phrases said: group index and position.
    phrases: Vec<(usize, usize)>,
}

impl Words {
    fn stems(&self) -> Vec<&str> {
        self.words.iter().map(|w| w.stem.as_str()).collect()
    }
}

/// Runs of two or more single letters are one spelled word: `a c` (for `A/C`) is `ac`.
fn join_letters(t: Vec<String>) -> Vec<String> {
    let single = |w: &String| w.chars().count() == 1 && w.chars().all(char::is_alphabetic);
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while let Some(w) = t.get(i) {
        let run = t[i..].iter().take_while(|w| single(w)).count();
        if run >= 2 {
            out.push(t[i..i + run].concat());
            i += run;
        } else {
            out.push(w.clone());
            i += 1;
        }
    }
    out
}

fn read(s: &str) -> Words {
    let raw = join_letters(tokens(s));
    let stems: Vec<String> = raw.iter().map(|w| stem(w)).collect();
    let words = raw
        .iter()
        .zip(&stems)
        .enumerate()
        .filter(|(at, (w, _))| !STOP.contains(&w.as_str()) && !negated(&raw, *at) && !specific_other(&raw, *at))
        .map(|(at, (_, s))| Said { stem: s.clone(), at })
        .collect();
    let mut phrases = Vec::new();
    for (g, entries) in GROUPS.iter().enumerate() {
        for e in entries.iter().filter(|e| e.len() > 1) {
            let hits = stems
                .windows(e.len())
                .enumerate()
                .filter(|(at, w)| *w == e.as_slice() && !negated(&raw, *at));
            phrases.extend(hits.map(|(at, _)| (g, at)));
        }
    }
    Words { words, phrases }
}

/// Whether word `at` is one whose meaning a negator just before it reverses.
fn negated(raw: &[String], at: usize) -> bool {
    if !raw.get(at).is_some_and(|w| NEGATABLE.contains(&w.as_str())) {
        return false;
    }
    for w in raw[..at].iter().rev().take(4) {
        if NEGATORS.contains(&w.as_str()) {
            return true;
        }
        if !NEGATION_GAP.contains(&w.as_str()) {
            return false;
        }
    }
    false
}

/// `other` naming one particular thing (`the other driver`, `each other`, `other than
/// that`), which is not the catch-all option `other`.
fn specific_other(raw: &[String], at: usize) -> bool {
    let word = |k: Option<usize>| k.and_then(|k| raw.get(k)).map_or("", String::as_str);
    matches!(word(Some(at)), "other" | "others")
        && (matches!(word(at.checked_sub(1)), "the" | "each" | "every" | "one")
            || matches!(word(Some(at + 1)), "than" | "hand"))
}

/// How near `u` and `o` are in one synonym group: 0.8 when one is the group's head, 0.7
/// for two other words of it, 0 when the group does not hold both.
fn related(group: &[Vec<String>], u: &str, o: &str) -> f64 {
    let has = |w: &str| group.iter().any(|e| e.len() == 1 && e[0] == w);
    let head = group.first().filter(|e| e.len() == 1).map(|e| e[0].as_str());
    if !(has(u) && has(o)) {
        0.0
    } else if head == Some(u) || head == Some(o) {
        0.8
    } else {
        0.7
    }
}

/// How well answer word `u` matches option word `o`: 1 for the same stem, 0.8 for a
/// synonym that heads its group, 0.7 for another synonym, 0.6 for what may be an
/// abbreviation, a start of at least three letters (`tues`; but `after` is a word of its
/// own, so a real synonym of another option wins over `afternoon`).
fn word_match(u: &str, o: &str) -> f64 {
    if u == o {
        return 1.0;
    }
    let synonym = GROUPS.iter().map(|g| related(g, u, o)).fold(0.0, f64::max);
    let abbreviation = if u.len() >= 3 && o.starts_with(u) { 0.6 } else { 0.0 };
    f64::max(synonym, abbreviation)
}

/// How well a synonym phrase of group `g` matches option word `o`.
fn phrase_match(g: usize, o: &str) -> f64 {
    let Some(group) = GROUPS.get(g) else { return 0.0 };
    let head = group.first().filter(|e| e.len() == 1).map(|e| e[0].as_str());
    if head == Some(o) {
        0.8
    } else if group.iter().any(|e| e.len() == 1 && e[0] == o) {
        0.7
    } else {
        0.0
    }
}

/// An enum field's options, each read once for matching (its stems), so that
/// matching an answer does not read every option again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    options: Vec<String>,
    /// Each option's content words, stemmed.
    stems: Vec<Vec<String>>,
}

impl Options {
    #[must_use]
    pub fn new(options: &[String]) -> Self {
        Self {
            options: options.to_vec(),
            stems: options
                .iter()
                .map(|o| read(o).stems().into_iter().map(str::to_owned).collect())
                .collect(),
        }
    }

    fn stems_of(&self, i: usize) -> Vec<&str> {
        self.stems[i].iter().map(String::as_str).collect()
    }

    /// The configured option the answer names, or `None`: see [`option`].
    #[must_use]
    pub fn option(&self, s: &str) -> Option<String> {
        let said = read(s);
        // (score, first position matched, option)
        let scored: Vec<(f64, usize, &String)> = self
            .options
            .iter()
            .enumerate()
            .filter_map(|(i, o)| {
                let (score, at) = score(&said, &self.stems_of(i))?;
                Some((score, at, o))
            })
            .collect();
        if scored.is_empty() {
            return self.catch_all(&said);
        }
        let best = scored.iter().map(|s| s.0).fold(0.0, f64::max);
        let top: Vec<_> = scored.iter().filter(|s| s.0 == best).collect();
        let first = top.iter().map(|s| s.1).min()?;
        let at_first: Vec<_> = top.iter().filter(|s| s.1 == first).collect();
        match at_first.as_slice() {
            [only] => Some(only.2.clone()),
            _ => None,
        }
    }

    /// The catch-all option (`other`) when the answer names a kind of the same thing as
    /// the options (one of [`KINDS`]) that no option lists.
    fn catch_all(&self, said: &Words) -> Option<String> {
        let head_of = |w: &str| {
            GROUPS
                .iter()
                .filter(|g| g.iter().any(|e| e.len() == 1 && e[0] == w))
                .find_map(|g| g.first().filter(|e| e.len() == 1).map(|e| e[0].clone()))
        };
        let kind_of = |w: &str| {
            let head = head_of(w)?;
            KINDS.iter().position(|k| k.iter().any(|h| stem(h) == head))
        };
        let other = self
            .options
            .iter()
            .zip(&self.stems)
            .find(|(_, stems)| stems.iter().any(|w| CATCH_ALL.contains(&w.as_str())))?
            .0;
        let kinds: Vec<usize> = said.words.iter().filter_map(|w| kind_of(&w.stem)).collect();
        let listed = self
            .stems
            .iter()
            .any(|stems| stems.iter().any(|w| kind_of(w).is_some_and(|k| kinds.contains(&k))));
        listed.then(|| other.clone())
    }

    /// The option said word for word somewhere in `s`, when exactly one is: see
    /// [`mentioned`].
    #[must_use]
    pub fn mentioned(&self, s: &str) -> Option<String> {
        let said = read(s);
        let said = said.stems();
        let mut hits = self.options.iter().enumerate().filter(|&(i, _)| {
            let words = self.stems_of(i);
            !words.is_empty() && said.windows(words.len()).any(|w| w == words.as_slice())
        });
        let first = hits.next()?.1;
        // "roof repair" inside "roof repair and inspection" is still ambiguous: give up.
        hits.next().is_none().then(|| first.clone())
    }
}

/// The configured option the answer names, or `None`. Reads every option: [`Options`]
/// reads them once.
#[must_use]
pub fn option(s: &str, options: &[String]) -> Option<String> {
    Options::new(options).option(s)
}

/// The option said word for word (after stemming) somewhere in `s`, when exactly one
/// is: the conservative match for a field the caller volunteers unasked. Reads every
/// option: [`Options`] reads them once.
#[must_use]
pub fn mentioned(s: &str, options: &[String]) -> Option<String> {
    Options::new(options).mentioned(s)
}

/// An option's score against the answer, and the position of the first answer word
/// matched; `None` when nothing matches. The whole option said in order scores above any
/// overlap.
fn score(said: &Words, option: &[&str]) -> Option<(f64, usize)> {
    if option.is_empty() {
        return None;
    }
    let stems = said.stems();
    if let Some(p) = stems.windows(option.len()).position(|w| w == option) {
        return Some((2.0, said.words.get(p)?.at));
    }
    let mut total = 0.0;
    let mut first = usize::MAX;
    for o in option {
        let words = said.words.iter().map(|w| (word_match(&w.stem, o), w.at));
        let phrases = said.phrases.iter().map(|&(g, at)| (phrase_match(g, o), at));
        let best = words.chain(phrases).fold((0.0, usize::MAX), |a, b| {
            if b.0 > a.0 || (b.0 == a.0 && b.1 < a.1) { b } else { a }
        });
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
            "yes, correct",
            "yep, twice before",
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
            "I have not",
            "I haven't been there",
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
        assert_eq!(option("mon", &days).as_deref(), Some("Monday"));
        assert_eq!(option("fri works", &days).as_deref(), Some("Friday"));
        let more = [
            ("I need a whole new roof", "roof installation"),
            ("we want to reroof", "roof installation"),
            ("replace the roof", "roof installation"),
            ("the outlets stopped working", "electrical"),
            ("an electrician", "electrical"),
            ("the pipes burst", "plumbing"),
            ("my drain is slow", "plumbing"),
        ];
        for (said, want) in more {
            assert_eq!(option(said, &trade).as_deref(), Some(want), "{said}");
        }
    }

    #[test]
    fn animals() {
        let pets = opts(&["dog", "cat", "rabbit", "bird", "reptile", "other"]);
        let cases = [
            ("he's a golden retriever", "dog"),
            ("he's an african grey parrot", "bird"),
            ("a bunny", "rabbit"),
            ("my kitten", "cat"),
            ("a german shepherd", "dog"),
            ("two cats", "cat"),
            ("puppies", "dog"),
            ("a ball python", "reptile"),
            ("a bearded dragon, it's a lizard", "reptile"),
            ("a cockatiel", "bird"),
            ("other", "other"),
            ("something else", "other"),
            // A kind of animal the options leave out is the catch-all.
            ("a hamster", "other"),
        ];
        for (said, want) in cases {
            assert_eq!(option(said, &pets).as_deref(), Some(want), "{said}");
        }
        // `the other X` is one particular thing, not the catch-all.
        for said in ["the other driver", "each other", "on the other hand", "a ferrari"] {
            assert_eq!(option(said, &pets), None, "{said}");
        }
        let no_catch_all = opts(&["dog", "cat"]);
        assert_eq!(option("a hamster", &no_catch_all), None);
    }

    #[test]
    fn tenancy() {
        let who = opts(&["current tenant", "prospective tenant", "property owner", "vendor"]);
        let cases = [
            ("i'm looking to rent, i don't live there yet", "prospective tenant"),
            ("i live here, i'm a tenant", "current tenant"),
            ("I'm a current resident", "current tenant"),
            ("i already live there", "current tenant"),
            ("i'm interested in renting", "prospective tenant"),
            ("I'm not a tenant yet", "prospective tenant"),
            ("i own the building", "property owner"),
            ("i'm the landlord", "property owner"),
            ("I don't rent, I own it", "property owner"),
            ("I'm a contractor", "vendor"),
        ];
        for (said, want) in cases {
            assert_eq!(option(said, &who).as_deref(), Some(want), "{said}");
        }
        let patient = opts(&["new patient", "existing patient"]);
        let cases = [
            ("it's my first time", "new patient"),
            ("i've been there before", "existing patient"),
            ("I've never been there", "new patient"),
            ("I'm a returning patient", "existing patient"),
        ];
        for (said, want) in cases {
            assert_eq!(option(said, &patient).as_deref(), Some(want), "{said}");
        }
    }

    #[test]
    fn heating_and_cooling() {
        let hvac = opts(&[
            "air conditioning repair",
            "furnace repair",
            "water heater",
            "drain cleaning",
            "leak repair",
            "maintenance tune-up",
            "new system installation",
        ]);
        let cases = [
            ("the AC is blowing warm air", "air conditioning repair"),
            ("the a/c is not cooling", "air conditioning repair"),
            ("A.C. died", "air conditioning repair"),
            ("the air conditioner is broken", "air conditioning repair"),
            ("my furnace is banging", "furnace repair"),
            ("the heat isn't working", "furnace repair"),
            ("no heat", "furnace repair"),
            ("no hot water", "water heater"),
            ("water heater is leaking", "water heater"),
            ("my sink is clogged", "drain cleaning"),
            ("the drain is backed up", "drain cleaning"),
            ("there's a leak under the sink", "leak repair"),
            ("just a tune-up", "maintenance tune-up"),
            ("annual maintenance", "maintenance tune-up"),
            ("I want a new furnace installed", "new system installation"),
        ];
        for (said, want) in cases {
            assert_eq!(option(said, &hvac).as_deref(), Some(want), "{said}");
        }
    }

    #[test]
    fn legal() {
        let practice = opts(&[
            "family law",
            "personal injury",
            "estate planning",
            "employment",
            "criminal defense",
            "other",
        ]);
        let cases = [
            ("I was in a car accident", "personal injury"),
            ("slip and fall at a grocery store", "personal injury"),
            ("i'm going through a divorce", "family law"),
            ("I will need help with my divorce", "family law"),
            ("custody of my kids", "family law"),
            ("child support", "family law"),
            ("I need to write a will", "estate planning"),
            ("my mom passed and we need probate", "estate planning"),
            ("I was wrongfully terminated", "employment"),
            ("my boss is harassing me", "employment"),
            ("i got laid off", "employment"),
            ("i got a dui last week", "criminal defense"),
            ("my son was arrested", "criminal defense"),
        ];
        for (said, want) in cases {
            assert_eq!(option(said, &practice).as_deref(), Some(want), "{said}");
        }
        assert_eq!(option("the other driver ran a red light", &practice), None);
    }

    #[test]
    fn times_of_day() {
        let when = opts(&["morning", "afternoon", "evening"]);
        let cases = [
            ("mornings", "morning"),
            ("early is better", "morning"),
            ("after lunch", "afternoon"),
            ("after work", "evening"),
            ("evenings", "evening"),
        ];
        for (said, want) in cases {
            assert_eq!(option(said, &when).as_deref(), Some(want), "{said}");
        }
    }
}
