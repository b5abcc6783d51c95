//! Answers to callers' questions from the agent's knowledge: its question/answer
//! entries, its documents' chunks ([`frontdesk_core::knowledge`]) and its business
//! details.
//!
//! Retrieval is Okapi BM25F, in process. Each entry is a unit of two fields, its
//! question (weighted `QUESTION_WEIGHT`) and its answer; each chunk one of its heading
//! (`HEADING_WEIGHT`) and its text; each field kind has its own average length for
//! BM25's length normalisation. Words are reduced to light stems; question words that
//! name a topic add a term (`CUES`: "how much" is a price). A query is expanded
//! with synonyms (`open` ~ `hours`, `cost` ~ `price` ~ `fee`, `license` ~ `certified`):
//! a word scores by its best form, a synonym at `SYNONYM` of the word's own.
//!
//! Ranking alone would answer every question with something, so an answer must also
//! be confident: the words the unit matches must carry a share of the query's own
//! weight (its maximum possible coverage; words weighted by BM25's IDF, a word the
//! knowledge lacks counting `UNKNOWN` of a rare one), see `Index::confident`.
//! Entries answer first; a chunk answers when no entry does (or when it covers clearly
//! more of the question), by its one or two sentences that match the question best.
//! Business details answer the usual questions nothing else covers (hours, website,
//! booking). [`Index::search`] gives the ranked passages themselves (for a model's
//! `search_knowledge`).
//!
//! [`Index`] is built once per configuration (postings per term); the free functions
//! build it on every call.

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
    &["parking", "park", "garage", "car", "vehicle"],
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
    &[
        "area",
        "serve",
        "service",
        "cover",
        "travel",
        "come",
        "town",
        "city",
        "county",
        "neighborhood",
    ],
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
    &[
        "hour",
        "open",
        "day",
        "weekday",
        "weekend",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ],
    &["exam", "examination", "checkup", "check-up"],
    &["appointment", "visit"],
    &["pain", "hurt", "ache", "sore", "painful"],
    &["case", "claim", "lawsuit"],
    &["lawyer", "attorney"],
    &["warranty", "guarantee", "guaranteed"],
    &["technician", "tech", "techs", "staff"],
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
        synonyms: SYNONYMS.iter().map(|g| g.iter().map(|w| term(w)).collect()).collect(),
        light: LIGHT.iter().map(|w| term(w)).collect(),
    })
}

/// The other stems of the synonym groups `stem` belongs to (not `stem` itself).
fn alternatives(stem: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for g in &stems().synonyms {
        if g.iter().any(|w| w == stem) {
            for w in g {
                if w != stem && !out.contains(w) {
                    out.push(w.clone());
                }
            }
        }
    }
    out
}

fn is_light(stem: &str) -> bool {
    stems().light.iter().any(|l| l == stem)
}

/// Verbs that carry little of a question's topic ("do you *offer* financing").
const LIGHT: &[&str] = &[
    "offer", "provide", "take", "accept", "allow", "work", "see", "need", "come", "give", "able",
];

/// Question words that name a topic though they are stop words: "*how much* is it"
/// asks a price, "*where* are you" a place, "*what time*" the hours. Each adds a term,
/// on both sides: to the entries and chunks as they are indexed, and to the query.
const CUES: &[(&str, &str)] = &[
    ("how much", "cost"),
    ("how many dollars", "cost"),
    ("where", "location"),
    ("what time", "hour"),
];

/// A word as the knowledge index keys it: its stem, folded.
fn term(word: &str) -> String {
    fold(&crate::nlu::stem(&word.to_lowercase()))
}

/// A stem with a final `e` dropped, so that the stemmer's short and long forms meet
/// ("file" and "filing", "use" and "using").
fn fold(stem: &str) -> String {
    match stem.strip_suffix('e') {
        Some(b) if b.len() >= 2 => b.to_owned(),
        _ => stem.to_owned(),
    }
}

/// [`CUES`], split and stemmed once.
fn cues() -> &'static [(Words, String)] {
    static CUED: OnceLock<Vec<(Words, String)>> = OnceLock::new();
    CUED.get_or_init(|| CUES.iter().map(|(p, t)| (Words::new(p), term(t))).collect())
}

/// A text's terms: its content stems, in order, repeats kept (they count), then the
/// stems its question words cue.
fn terms(text: &str) -> Vec<String> {
    let w = Words::new(text);
    let mut out: Vec<String> = w.content().map(fold).collect();
    for (phrase, term) in cues() {
        if w.contains(phrase) && !out.contains(term) {
            out.push(term.clone());
        }
    }
    out
}

/// BM25's term-frequency saturation.
const K1: f64 = 1.2;
/// BM25's length normalisation.
const B: f64 = 0.75;
/// How much a term counts in each field, relative to an answer's or a chunk's text: an
/// entry's question says what the entry is about more than its answer does, and so
/// does a chunk's heading.
const QUESTION_WEIGHT: f64 = 2.5;
const HEADING_WEIGHT: f64 = 2.0;
/// A synonym's match counts this much of the word's own.
const SYNONYM: f64 = 0.7;
/// A query word found nowhere in the knowledge counts this share of the weight of a
/// word found in one place: it may be filler ("folks") or the very topic the knowledge
/// lacks ("braces"); the knowledge alone cannot tell which.
const UNKNOWN: f64 = 0.6;
/// An answer is given when the words it matches carry at least this share of the
/// query's weight (see [`Index::confident`]).
const CONFIDENT: f64 = 0.5;
/// ... or this share, when its entry's own question is covered at least [`TITLE_COVERED`].
const CONFIDENT_WITH_TITLE: f64 = 0.3;
const TITLE_COVERED: f64 = 0.5;
/// A document's chunk answers before a confident entry only when it covers this much
/// more of the query.
const DOCUMENT_MARGIN: f64 = 0.2;
/// [`Index::search`] leaves out passages that cover less than this share of the query.
const SEARCH_FLOOR: f64 = 0.25;

/// Where a retrievable unit comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Entry(usize),
    Chunk(usize),
}

/// One entry or chunk, prepared.
#[derive(Debug, Clone)]
struct Unit {
    source: Source,
    /// The distinct terms of its question or heading.
    title: Vec<String>,
}

/// One query word: its stem, its synonyms, its weight in the query.
#[derive(Debug, Clone)]
struct Concept {
    stem: String,
    alternatives: Vec<String>,
    weight: f64,
}

/// A query, prepared against an index.
#[derive(Debug, Clone)]
struct Query {
    concepts: Vec<Concept>,
    total: f64,
}

impl Query {
    /// How well `have` (a set of terms) covers the query: the share of its weight
    /// whose word (or, at [`SYNONYM`], a synonym) is there.
    fn coverage(&self, have: &HashSet<&str>) -> f64 {
        if self.total <= 0.0 {
            return 0.0;
        }
        let covered: f64 = self.concepts.iter().map(|c| c.weight * matched(c, have)).sum();
        covered / self.total
    }
}

fn matched(c: &Concept, have: &HashSet<&str>) -> f64 {
    if have.contains(c.stem.as_str()) {
        1.0
    } else if c.alternatives.iter().any(|a| have.contains(a.as_str())) {
        SYNONYM
    } else {
        0.0
    }
}

/// An agent's knowledge entries, documents' chunks and business details, prepared once
/// for answering questions (see the module documentation).
#[derive(Debug, Clone)]
pub struct Index {
    entries: Vec<KnowledgeEntry>,
    chunks: Vec<Chunk>,
    units: Vec<Unit>,
    /// Per term: the units it occurs in, with its BM25F pseudo-frequency there (field
    /// weights and length normalisation applied).
    postings: HashMap<String, Vec<(usize, f64)>>,
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

/// A unit's fields as (terms, weight, field kind) for indexing.
type UnitFields = [(Vec<String>, f64, usize); 2];

/// What a unit found for a query scored and covered.
#[derive(Debug, Clone, Copy)]
struct Hit {
    unit: usize,
    score: f64,
}

impl Index {
    /// The index of entries and business details.
    pub fn new(entries: &[KnowledgeEntry], business: &BusinessInfo) -> Self {
        Self::with_documents(entries, business, &[])
    }

    /// The index of entries, business details and documents' chunks.
    pub fn with_documents(entries: &[KnowledgeEntry], business: &BusinessInfo, documents: &[Chunk]) -> Self {
        // Field kinds: 0 question, 1 answer, 2 heading, 3 chunk text; each has its own
        // average length.
        let mut units = Vec::with_capacity(entries.len() + documents.len());
        let mut fields: Vec<UnitFields> = Vec::with_capacity(units.capacity());
        for (i, e) in entries.iter().enumerate() {
            let q = terms(&e.question);
            units.push(Unit {
                source: Source::Entry(i),
                title: distinct(&q),
            });
            fields.push([(q, QUESTION_WEIGHT, 0), (terms(&e.answer), 1.0, 1)]);
        }
        for (i, c) in documents.iter().enumerate() {
            let h = c.heading.as_deref().map(terms).unwrap_or_default();
            units.push(Unit {
                source: Source::Chunk(i),
                title: distinct(&h),
            });
            fields.push([(h, HEADING_WEIGHT, 2), (terms(&c.text), 1.0, 3)]);
        }
        let mut sum = [0.0f64; 4];
        let mut count = [0.0f64; 4];
        for f in fields.iter().flatten() {
            sum[f.2] += f.0.len() as f64;
            count[f.2] += 1.0;
        }
        let avg: Vec<f64> = sum
            .iter()
            .zip(count)
            .map(|(s, c)| if c > 0.0 && *s > 0.0 { s / c } else { 1.0 })
            .collect();
        let mut postings: HashMap<String, Vec<(usize, f64)>> = HashMap::new();
        for (u, fs) in fields.iter().enumerate() {
            let mut tf: HashMap<&str, f64> = HashMap::new();
            for (words, weight, kind) in fs {
                let norm = 1.0 - B + B * words.len() as f64 / avg[*kind];
                for w in words {
                    *tf.entry(w.as_str()).or_default() += weight / norm;
                }
            }
            for (w, f) in tf {
                postings.entry(w.to_owned()).or_default().push((u, f));
            }
        }
        Self {
            entries: entries.to_vec(),
            chunks: documents.to_vec(),
            units,
            postings,
            business: business.clone(),
        }
    }

    /// Okapi BM25's inverse document frequency of a term found in `df` units.
    fn idf(&self, df: usize) -> f64 {
        let n = self.units.len() as f64;
        let df = df as f64;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    fn df(&self, term: &str) -> usize {
        self.postings.get(term).map_or(0, Vec::len)
    }

    /// The query's words, weighted: rarer in the knowledge means more telling; a word
    /// the knowledge lacks counts [`UNKNOWN`] of a word found once; light verbs little.
    fn query(&self, text: &str) -> Query {
        let mut concepts: Vec<Concept> = Vec::new();
        for stem in terms(text) {
            if concepts.iter().any(|c| c.stem == stem) {
                continue;
            }
            let alternatives = alternatives(&stem);
            let known = std::iter::once(&stem)
                .chain(&alternatives)
                .map(|t| self.df(t))
                .filter(|&df| df > 0)
                .min();
            let mut weight = match known {
                Some(df) => self.idf(df),
                None => UNKNOWN * self.idf(1),
            };
            if is_light(&stem) {
                weight *= 0.3;
            }
            concepts.push(Concept {
                stem,
                alternatives,
                weight,
            });
        }
        let total = concepts.iter().map(|c| c.weight).sum();
        Query { concepts, total }
    }

    /// Every unit that shares a word (or synonym) with the query, scored by BM25F,
    /// best first. A word scores by its best form: itself, or a synonym at [`SYNONYM`].
    fn rank(&self, q: &Query) -> Vec<Hit> {
        let mut scores: HashMap<usize, f64> = HashMap::new();
        for c in &q.concepts {
            let mut best: HashMap<usize, f64> = HashMap::new();
            let light = if is_light(&c.stem) { 0.3 } else { 1.0 };
            for (term, factor) in std::iter::once((&c.stem, 1.0)).chain(c.alternatives.iter().map(|a| (a, SYNONYM))) {
                let Some(list) = self.postings.get(term) else {
                    continue;
                };
                let idf = self.idf(list.len());
                for &(u, tf) in list {
                    let s = light * factor * idf * tf * (K1 + 1.0) / (tf + K1);
                    let e = best.entry(u).or_default();
                    if s > *e {
                        *e = s;
                    }
                }
            }
            for (u, s) in best {
                *scores.entry(u).or_default() += s;
            }
        }
        let mut hits: Vec<Hit> = scores.into_iter().map(|(unit, score)| Hit { unit, score }).collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.unit.cmp(&b.unit)));
        hits
    }

    /// The terms of a unit (all its fields).
    fn unit_terms(&self, unit: usize) -> Vec<String> {
        match self.units[unit].source {
            Source::Entry(i) => {
                let e = &self.entries[i];
                let mut t = terms(&e.question);
                t.extend(terms(&e.answer));
                t
            }
            Source::Chunk(i) => {
                let c = &self.chunks[i];
                let mut t = c.heading.as_deref().map(terms).unwrap_or_default();
                t.extend(terms(&c.text));
                t
            }
        }
    }

    /// How much of a unit's question (or heading) the query covers, by the same
    /// weights ([`Query::coverage`] turned around).
    fn title_coverage(&self, q: &Query, unit: usize) -> f64 {
        let title = &self.units[unit].title;
        let said: HashSet<&str> = q.concepts.iter().map(|c| c.stem.as_str()).collect();
        let mut total = 0.0;
        let mut covered = 0.0;
        for t in title {
            let w = self.idf(self.df(t)) * if is_light(t) { 0.3 } else { 1.0 };
            total += w;
            if said.contains(t.as_str()) {
                covered += w;
            } else if alternatives(t).iter().any(|a| said.contains(a.as_str())) {
                covered += SYNONYM * w;
            }
        }
        if total > 0.0 { covered / total } else { 0.0 }
    }

    /// Whether an entry answers the query: the words it matches carry at least
    /// [`CONFIDENT`] of the query's weight (the query's own maximum), or at least
    /// [`CONFIDENT_WITH_TITLE`] when the query also covers [`TITLE_COVERED`] of the
    /// entry's question.
    fn confident(&self, q: &Query, unit: usize) -> bool {
        let cov = self.coverage(q, unit);
        cov >= CONFIDENT || (cov >= CONFIDENT_WITH_TITLE && self.title_coverage(q, unit) >= TITLE_COVERED)
    }

    /// The passages that best answer `query`, best first, at most `k`: entries give
    /// their answer, chunks their whole text. Passages covering less than
    /// [`SEARCH_FLOOR`] of the query are left out.
    pub fn search(&self, query: &str, k: usize) -> Vec<Passage> {
        let q = self.query(query);
        let mut out = Vec::new();
        for hit in self.rank(&q) {
            if out.len() >= k {
                break;
            }
            let all = self.unit_terms(hit.unit);
            let have: HashSet<&str> = all.iter().map(String::as_str).collect();
            if q.coverage(&have) < SEARCH_FLOOR {
                continue;
            }
            out.push(match self.units[hit.unit].source {
                Source::Entry(i) => Passage {
                    text: self.entries[i].answer.clone(),
                    source: self.entries[i].question.clone(),
                    score: hit.score,
                },
                Source::Chunk(i) => Passage {
                    text: self.chunks[i].text.clone(),
                    source: self.chunks[i].heading.clone().unwrap_or_default(),
                    score: hit.score,
                },
            });
        }
        out
    }

    /// The best entry for a question, if one answers it confidently.
    pub fn lookup(&self, text: &str) -> Option<usize> {
        let q = self.query(text);
        self.best(&q, |s| matches!(s, Source::Entry(_)))
            .and_then(|u| match self.units[u].source {
                Source::Entry(i) => Some(i),
                Source::Chunk(_) => None,
            })
    }

    /// The best-ranked unit of a kind, if it answers confidently. Only the best of
    /// the kind is judged: a weaker one is not promoted when the best falls short.
    fn best(&self, q: &Query, kind: impl Fn(Source) -> bool) -> Option<usize> {
        let hit = self.rank(q).into_iter().find(|h| kind(self.units[h.unit].source))?;
        self.confident(q, hit.unit).then_some(hit.unit)
    }

    /// The share of the query a unit covers ([`Query::coverage`] over all its fields).
    fn coverage(&self, q: &Query, unit: usize) -> f64 {
        let all = self.unit_terms(unit);
        let have: HashSet<&str> = all.iter().map(String::as_str).collect();
        q.coverage(&have)
    }

    /// The answer to one question: an entry's, else a document's, else the business
    /// details'. A document answers before a confident entry only when it covers
    /// clearly more of the question ([`DOCUMENT_MARGIN`]).
    fn answer_one(&self, question: &str) -> Option<String> {
        let q = self.query(question);
        let entry = self.best(&q, |s| matches!(s, Source::Entry(_)));
        let chunk = self.best(&q, |s| matches!(s, Source::Chunk(_)));
        let chunk_first = match (entry, chunk) {
            (Some(e), Some(c)) => self.coverage(&q, c) >= self.coverage(&q, e) + DOCUMENT_MARGIN,
            _ => true,
        };
        let from_chunk = || match chunk.map(|u| self.units[u].source) {
            Some(Source::Chunk(i)) => spoken_from(&q, &self.chunks[i]),
            _ => None,
        };
        let from_entry = || match entry.map(|u| self.units[u].source) {
            Some(Source::Entry(i)) => Some(self.entries[i].answer.clone()),
            _ => None,
        };
        let found = if chunk_first {
            from_chunk().or_else(from_entry)
        } else {
            from_entry().or_else(from_chunk)
        };
        found.or_else(|| business_answer(&self.business, question))
    }

    /// The answer to the questions in `text`: see [`answer`].
    pub fn answer(&self, text: &str) -> Option<String> {
        answer_with(|| self, text)
    }
}

/// What to say from a chunk: the one or two sentences that match the question
/// best, in the document's order; `None` when those sentences (with the heading
/// they sit under) no longer answer, as when the chunk matched only by the sum of
/// scattered words.
fn spoken_from(q: &Query, chunk: &Chunk) -> Option<String> {
    let heading = chunk.heading.as_deref().map(terms).unwrap_or_default();
    let text = speakable(&chunk.text);
    let parts = sentences(&text);
    let scored: Vec<f64> = parts
        .iter()
        .map(|s| {
            let t = terms(s);
            let have: HashSet<&str> = t.iter().map(String::as_str).collect();
            q.coverage(&have)
        })
        .collect();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|&a, &b| scored[b].total_cmp(&scored[a]).then(a.cmp(&b)));
    let first = *order.first()?;
    let mut picked = vec![first];
    if let Some(&second) = order.get(1)
        && scored[second] > 0.0
        && scored[second] >= 0.5 * scored[first]
    {
        picked.push(second);
    }
    let mut spoken: Vec<String> = heading;
    for &p in &picked {
        spoken.extend(terms(parts[p]));
    }
    let have: HashSet<&str> = spoken.iter().map(String::as_str).collect();
    if q.coverage(&have) < CONFIDENT_WITH_TITLE {
        return None;
    }
    picked.sort_unstable();
    Some(picked.iter().map(|&p| parts[p]).collect::<Vec<_>>().join(" "))
}

/// A chunk's text as it can be spoken: Markdown's list markers, emphasis, code marks
/// and link targets dropped (`[our portal](https://..)` says "our portal"), and each
/// list item made a sentence of its own.
fn speakable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let t = line.trim();
        let item = t
            .strip_prefix("- ")
            .or_else(|| t.strip_prefix("* "))
            .or_else(|| t.strip_prefix("+ "))
            .or_else(|| {
                let digits = t.bytes().take_while(u8::is_ascii_digit).count();
                (digits > 0).then(|| t[digits..].strip_prefix(". ")).flatten()
            });
        let mut l = unlink(item.unwrap_or(t).trim());
        l.retain(|c| !matches!(c, '*' | '`'));
        let l = l.replace("__", "");
        if l.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&l);
        if item.is_some() && !l.ends_with(['.', '!', '?', ':', ';']) {
            out.push('.');
        }
    }
    out
}

/// `[text](target)` becomes `text`.
fn unlink(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find("](") else {
            break;
        };
        let Some(end) = after[close + 2..].find(')') else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push_str(&after[..close]);
        rest = &after[close + 2 + end + 1..];
    }
    out.push_str(rest);
    out
}

fn distinct(words: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in words {
        if !out.contains(w) {
            out.push(w.clone());
        }
    }
    out
}

/// [`Index::answer`], with the index fetched only once a sentence is a question.
pub(crate) fn answer_with<'a>(index: impl Fn() -> &'a Index, text: &str) -> Option<String> {
    let mut answers: Vec<String> = Vec::new();
    for sentence in sentences(text) {
        if !is_question(sentence) {
            continue;
        }
        let a = index().answer_one(sentence);
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

    fn chunk(heading: &str, text: &str) -> Chunk {
        Chunk {
            heading: Some(heading.into()),
            text: text.into(),
        }
    }

    #[test]
    fn bm25_ranks_the_question_field_above_the_answer_and_rare_words_above_common() {
        let k = kb(&[
            ("Do you offer financing?", "Yes, through our partner bank."),
            (
                "What brands do you service?",
                "All brands; financing is not needed for repairs.",
            ),
            ("Do you offer warranties?", "Yes, one year on parts."),
        ]);
        let index = Index::new(&k, &BusinessInfo::default());
        let found = index.search("Can I get financing?", 3);
        assert!(found.len() >= 2, "{found:?}");
        // Both mention financing; the entry whose question says it ranks first.
        assert_eq!(found[0].source, "Do you offer financing?");
        assert_eq!(found[1].source, "What brands do you service?");
        assert!(found[0].score > found[1].score);
        // "offer" is in two entries' questions and a light verb: it decides nothing.
        assert_eq!(index.lookup("do you offer warranties"), Some(2));
    }

    #[test]
    fn synonyms_and_stems_match_other_wordings() {
        let k = kb(&[
            (
                "Are you licensed and insured?",
                "Yes, we're fully licensed and insured.",
            ),
            ("How much is a service call?", "The visit is $89."),
            ("Where are you located?", "At 12 Oak Street."),
        ]);
        let index = Index::new(&k, &BusinessInfo::default());
        assert_eq!(index.lookup("are you certified?"), Some(0));
        assert_eq!(index.lookup("what do you charge for a visit?"), Some(1));
        assert_eq!(index.lookup("what is your address"), Some(2));
    }

    #[test]
    fn questions_the_knowledge_does_not_cover_get_no_answer() {
        let k = kb(&[
            ("Do you take my insurance?", "We accept most PPO plans."),
            ("Is there parking?", "Yes, behind the building."),
            ("What are your hours?", "Weekdays 8 to 5."),
        ]);
        let index = Index::new(&k, &BusinessInfo::default());
        // One shared word is not enough when the rest of the question is elsewhere.
        assert_eq!(index.lookup("Do you do braces for adults?"), None);
        assert_eq!(index.lookup("Is the dentist a woman or a man?"), None);
        assert_eq!(index.answer("I'd like to book a cleaning."), None);
        assert_eq!(index.search("teeth whitening price", 5), Vec::new());
    }

    #[test]
    fn a_chunk_answers_with_its_best_sentences_when_no_entry_does() {
        let k = kb(&[("What are your hours?", "Weekdays 8 to 5.")]);
        let docs = [
            chunk(
                "Cancellations",
                "We are glad to move appointments. Please give us 24 hours' notice to cancel. \
                 Missed appointments are charged $50. Our cancellation line is staffed weekdays.",
            ),
            chunk(
                "Children",
                "We see children from age three. Parents may stay in the room.",
            ),
        ];
        let index = Index::with_documents(&k, &BusinessInfo::default(), &docs);
        let a = index.answer("How much notice do I need to give to cancel?").unwrap();
        assert!(a.contains("24 hours' notice"), "{a}");
        assert!(!a.contains("glad"), "only the sentences that match: {a}");
        assert!(index.answer("Do you treat kids?").unwrap().contains("age three"));
        // The entry still answers what it covers.
        assert_eq!(index.answer("what are your hours?").unwrap(), "Weekdays 8 to 5.");
        // Nothing in the documents about this.
        assert_eq!(index.answer("Do you offer teeth whitening?"), None);
        // search gives the whole chunk with its heading.
        let found = index.search("cancel appointment", 2);
        assert_eq!(found[0].source, "Cancellations");
        assert!(found[0].text.contains("cancellation line"));
    }

    #[test]
    fn markdown_is_spoken_plainly() {
        assert_eq!(
            speakable("We take:\n- **Visa**\n- Mastercard\n1. cash, see [our page](https://x.example/pay)"),
            "We take: Visa. Mastercard. cash, see our page."
        );
        assert_eq!(speakable("Plain text.\nSecond line"), "Plain text. Second line");
    }

    #[test]
    fn sentences_are_picked_by_match_and_spoken_in_order() {
        let q = Index::new(&[], &BusinessInfo::default());
        let c = chunk(
            "Fees",
            "We are a small firm. Our fee is one third of the settlement. \
             You owe nothing unless we recover money. The office has free coffee.",
        );
        let index = Index::with_documents(&[], &BusinessInfo::default(), std::slice::from_ref(&c));
        let query = index.query("what is your fee if we settle, and do I owe anything if we lose?");
        let spoken = spoken_from(&query, &c).unwrap();
        assert_eq!(
            spoken,
            "Our fee is one third of the settlement. You owe nothing unless we recover money."
        );
        assert_eq!(q.answer("what is your fee?"), None);
    }
}
