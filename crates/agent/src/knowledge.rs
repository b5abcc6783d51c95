//! Answers to callers' questions from the agent's knowledge entries and business details.
//!
//! Retrieval is a small weighted overlap: each entry's question (and, at half weight, its
//! answer) is reduced to content stems expanded with synonyms (`open` ~ `hours`, `park`
//! ~ `parking`, `cost` ~ `price` ~ `fee`); a caller's question matches the entry whose
//! words it covers best, weighting rare words over common ones, when at least half of
//! the entry's question weight is covered or a rare topic word matches. Business details
//! answer the usual questions no entry covers (hours, website, booking).
//!
//! [`Index`] holds the entries' words, their weights and synonym expansions, computed
//! once per configuration; the free functions build it on every call.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use frontdesk_core::agent::config::{BusinessInfo, KnowledgeEntry};
use frontdesk_core::knowledge::Chunk;

use crate::nlu::{Words, is_question, phrases};
pub use crate::speech::sentences;

/// Groups of words that ask about the same thing.
const SYNONYMS: &[&[&str]] = &[
    &["hour", "open", "close", "closed", "opening", "closing", "schedule"],
    &[
        "located",
        "location",
        "address",
        "where",
        "directions",
        "office",
        "find",
    ],
    &["parking", "park", "garage"],
    &[
        "insurance",
        "insured",
        "insure",
        "plan",
        "coverage",
        "aetna",
        "cigna",
        "delta",
        "metlife",
        "ppo",
        "medicaid",
        "medicare",
    ],
    &[
        "cost",
        "price",
        "fee",
        "charge",
        "much",
        "expensive",
        "rate",
        "pricing",
        "pay",
    ],
    &["free", "complimentary", "no charge"],
    &["estimate", "quote", "estimates", "quotes"],
    &["license", "licensed", "licence", "certified", "bonded"],
    &["area", "serve", "service", "cover", "travel", "come"],
    &[
        "payment",
        "pay",
        "card",
        "credit",
        "financing",
        "finance",
        "check",
        "cash",
    ],
    &["weekend", "saturday", "sunday"],
    &["contingency", "percentage"],
    &["consultation", "consult", "meeting"],
    &["emergency", "urgent", "after-hours"],
    &["accept", "take", "allow", "permit"],
    &[
        "pet", "pets", "animal", "animals", "exotic", "dog", "cat", "rabbit", "bird", "reptile", "puppy", "kitten",
    ],
    &["walk-in", "walk", "drop", "without appointment"],
];

/// The synonym groups and light verbs as stems, computed once.
struct Stems {
    synonyms: Vec<Vec<String>>,
    light: Vec<String>,
}

fn stems() -> &'static Stems {
    static STEMS: OnceLock<Stems> = OnceLock::new();
    STEMS.get_or_init(|| Stems {
        synonyms: SYNONYMS
            .iter()
            .map(|g| g.iter().map(|w| crate::nlu::stem(w)).collect())
            .collect(),
        light: LIGHT.iter().map(|w| crate::nlu::stem(w)).collect(),
    })
}

fn expand(stem: &str) -> Vec<String> {
    let mut out = vec![stem.to_owned()];
    for g in &stems().synonyms {
        if g.iter().any(|w| w == stem) {
            out.extend(g.iter().cloned());
        }
    }
    out
}

fn content(s: &str) -> Vec<String> {
    let mut v: Vec<String> = Words::new(s).content().map(str::to_owned).collect();
    v.dedup();
    v
}

/// Verbs that carry little of a question's topic ("do you *offer* financing").
const LIGHT: &[&str] = &[
    "offer", "provide", "take", "accept", "allow", "work", "see", "need", "come", "give", "able",
];

/// Word weights over the entries' questions: rarer across the entries means more
/// telling; light verbs count little. Document frequencies are counted once, so a
/// lookup is linear in the size of the knowledge, not quadratic.
struct Weights<'a> {
    entries: f64,
    df: HashMap<&'a str, usize>,
}

impl<'a> Weights<'a> {
    fn new(docs: &'a [Vec<String>]) -> Self {
        let mut df: HashMap<&str, usize> = HashMap::new();
        for d in docs {
            let words: HashSet<&str> = d.iter().map(String::as_str).collect();
            for w in words {
                *df.entry(w).or_default() += 1;
            }
        }
        Self {
            entries: docs.len() as f64,
            df,
        }
    }

    fn of(&self, word: &str) -> f64 {
        let df = self.df.get(word).copied().unwrap_or(0) as f64;
        let w = ((self.entries + 1.0) / (df + 0.5)).ln().max(0.1);
        if stems().light.iter().any(|l| l == word) {
            w * 0.3
        } else {
            w
        }
    }
}

/// One entry, prepared for lookups.
#[derive(Debug, Clone)]
struct Doc {
    /// The content stems of its question (consecutive repeats dropped).
    words: Vec<String>,
    /// The weight of each word.
    weights: Vec<f64>,
    /// The synonym expansion of each word.
    expanded: Vec<Vec<String>>,
    /// The sum of the weights.
    total: f64,
    /// The content stems of its answer.
    answer: Vec<String>,
}

/// An agent's knowledge entries and business details, prepared once for answering
/// questions (see the module documentation).
#[derive(Debug, Clone)]
pub struct Index {
    entries: Vec<KnowledgeEntry>,
    docs: Vec<Doc>,
    business: BusinessInfo,
}

/// A piece of knowledge found for a query ([`Index::search`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Passage {
    /// What to answer from: an entry's answer, or a document's chunk.
    pub text: String,
    /// Where it comes from: the entry's question, or the document chunk's heading.
    pub source: String,
    /// How well it fits (higher is better; comparable within one search only).
    pub score: f64,
}

impl Index {
    /// The index of entries, business details and documents' chunks.
    pub fn with_documents(entries: &[KnowledgeEntry], business: &BusinessInfo, documents: &[Chunk]) -> Self {
        let _ = documents;
        Self::new(entries, business)
    }

    /// The passages that best answer `query`, best first, at most `k`.
    pub fn search(&self, query: &str, k: usize) -> Vec<Passage> {
        self.lookup(query)
            .map(|i| Passage {
                text: self.entries[i].answer.clone(),
                source: self.entries[i].question.clone(),
                score: 1.0,
            })
            .into_iter()
            .take(k)
            .collect()
    }

    pub fn new(entries: &[KnowledgeEntry], business: &BusinessInfo) -> Self {
        let questions: Vec<Vec<String>> = entries.iter().map(|e| content(&e.question)).collect();
        let weights = Weights::new(&questions);
        let docs = entries
            .iter()
            .zip(&questions)
            .map(|(e, words)| {
                let w: Vec<f64> = words.iter().map(|x| weights.of(x)).collect();
                Doc {
                    total: w.iter().sum(),
                    weights: w,
                    expanded: words.iter().map(|x| expand(x)).collect(),
                    words: words.clone(),
                    answer: content(&e.answer),
                }
            })
            .collect();
        Self {
            entries: entries.to_vec(),
            docs,
            business: business.clone(),
        }
    }

    /// The best entry for a question, if one fits.
    pub fn lookup(&self, text: &str) -> Option<usize> {
        if self.docs.is_empty() {
            return None;
        }
        let direct = content(text);
        let said: HashSet<String> = direct.iter().flat_map(|w| expand(w)).collect();
        let mut best: Option<(usize, f64)> = None;
        for (i, doc) in self.docs.iter().enumerate() {
            if doc.words.is_empty() {
                continue;
            }
            let mut covered = 0.0;
            for ((w, weight), expanded) in doc.words.iter().zip(&doc.weights).zip(&doc.expanded) {
                if direct.contains(w) {
                    covered += weight;
                } else if expanded.iter().any(|x| said.contains(x)) {
                    covered += 0.7 * weight;
                }
            }
            // The answer's own words help a little ("do you take Aetna" ~ "...Aetna...").
            let telling: Vec<&String> = direct
                .iter()
                .filter(|w| w.len() > 3 && !doc.words.contains(w))
                .collect();
            let bonus = if telling.is_empty() {
                0.0
            } else {
                telling.iter().filter(|w| doc.answer.contains(w)).count() as f64 * 0.3
            };
            let ratio = covered / doc.total + bonus;
            if ratio >= 0.6 && best.is_none_or(|b| ratio > b.1) {
                best = Some((i, ratio));
            }
        }
        best.map(|b| b.0)
    }

    /// The answer to the questions in `text`: see [`answer`].
    pub fn answer(&self, text: &str) -> Option<String> {
        answer_with(|| self, text)
    }
}

/// [`Index::answer`], with the index fetched only once a sentence is a question.
pub(crate) fn answer_with<'a>(index: impl Fn() -> &'a Index, text: &str) -> Option<String> {
    let mut answers: Vec<String> = Vec::new();
    for sentence in sentences(text) {
        if !is_question(sentence) {
            continue;
        }
        let index = index();
        let a = index
            .lookup(sentence)
            .map(|i| index.entries[i].answer.clone())
            .or_else(|| business_answer(&index.business, sentence));
        if let Some(a) = a
            && !answers.contains(&a)
        {
            answers.push(a);
        }
    }
    (!answers.is_empty()).then(|| answers.join(" "))
}

/// The best entry for a question, if one fits.
pub fn lookup(entries: &[KnowledgeEntry], text: &str) -> Option<usize> {
    Index::new(entries, &BusinessInfo::default()).lookup(text)
}

/// An answer from the business details for the usual questions: opening hours,
/// website, booking.
pub fn business_answer(business: &BusinessInfo, text: &str) -> Option<String> {
    let w = Words::new(text);
    if let Some(hours) = &business.hours
        && phrases!(&[
            "hours",
            "what time",
            "when are you open",
            "are you open",
            "when do you open",
            "when do you close",
        ])
        .any_in(&w)
    {
        return Some(format!("Our hours are {hours}."));
    }
    if let Some(url) = &business.booking_url
        && phrases!(&[
            "book online",
            "online booking",
            "schedule online",
            "booking link",
            "book myself",
        ])
        .any_in(&w)
    {
        return Some(format!("You can book online at {url}."));
    }
    if let Some(url) = &business.website
        && phrases!(&["website", "web site", "web page", "online"]).any_in(&w)
    {
        return Some(format!("Our website is {url}."));
    }
    None
}

/// The answer to the questions in `text`, if any of them is one the agent can answer.
/// Each sentence that looks like a question is tried on its own, so "I'd like a quote.
/// Actually, are you licensed?" finds the licence entry.
pub fn answer(entries: &[KnowledgeEntry], business: &BusinessInfo, text: &str) -> Option<String> {
    Index::new(entries, business).answer(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kb(pairs: &[(&str, &str)]) -> Vec<KnowledgeEntry> {
        pairs
            .iter()
            .map(|(q, a)| KnowledgeEntry {
                question: (*q).into(),
                answer: (*a).into(),
            })
            .collect()
    }

    #[test]
    fn finds_entries() {
        let dental = kb(&[
            (
                "What are your hours?",
                "We're open Monday to Thursday 7am to 4pm, and Friday 7am to noon.",
            ),
            (
                "Do you take my insurance?",
                "We accept most major PPO plans, including Delta Dental, Cigna, Aetna and MetLife.",
            ),
            (
                "Where are you located?",
                "We're at 120 Main Street, Suite 4, next to the library.",
            ),
            ("Is there parking?", "Yes, there's free parking behind the building."),
        ]);
        let b = BusinessInfo::default();
        for (q, want) in [
            ("Oh, and what are your hours, by the way?", "Monday"),
            ("Is there parking at your office?", "parking"),
            ("Do you take Aetna insurance?", "Aetna"),
            ("what's your address", "Main Street"),
            ("when do you open on friday?", "Friday"),
            ("do you accept cigna", "Cigna"),
        ] {
            let a = answer(&dental, &b, q).unwrap_or_else(|| panic!("{q}"));
            assert!(a.contains(want), "{q} -> {a}");
        }
        assert_eq!(answer(&dental, &b, "Do you do teeth whitening?"), None);
        assert_eq!(answer(&dental, &b, "My name is Emily."), None);
    }

    #[test]
    fn question_inside_a_longer_turn() {
        let k = kb(&[
            (
                "Are you licensed and insured?",
                "Yes, we're fully licensed and insured.",
            ),
            (
                "Do you offer free estimates?",
                "Yes, estimates are free for jobs in our service area.",
            ),
        ]);
        let a = answer(
            &k,
            &BusinessInfo::default(),
            "Hi there, I'd like a quote. Actually wait, first, are you licensed and insured?",
        )
        .unwrap();
        assert!(a.contains("licensed"));
        assert!(
            answer(&k, &BusinessInfo::default(), "Do you guys offer free estimates?")
                .unwrap()
                .contains("free")
        );
    }

    #[test]
    fn business_details() {
        let b = BusinessInfo {
            hours: Some("weekdays 9 to 5".into()),
            booking_url: Some("https://x.example/book".into()),
            ..BusinessInfo::default()
        };
        assert!(answer(&[], &b, "what are your hours?").unwrap().contains("weekdays"));
        assert!(
            answer(&[], &b, "can I book online?")
                .unwrap()
                .contains("https://x.example/book")
        );
    }
}
