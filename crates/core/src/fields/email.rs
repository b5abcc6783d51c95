//! Email addresses, written (`it's maria.garcia@outlook.com`) or spoken (`john dot smith
//! at gmail dot com`, `j o h n at example dot com`, `bob underscore lee at yahoo dot co
//! dot uk`), always lower-case.
//!
//! A written address anywhere in the answer wins. Otherwise the spoken words are mapped to
//! pieces (`dot` -> `.`, `underscore` -> `_`, `dash`/`hyphen` -> `-`, digit words to
//! digits) and each `at`, last first, is tried: the domain is the words after it up to its
//! last `dot <label>`, the local part the words before it back to the first word that
//! introduces the address (`is`, `it's`, `me`, ...). Words run together, since spoken
//! addresses have no spaces (`obrien roofing dot com` -> `obrienroofing.com`).
//!
//! Spelled-out letters are read as one word: a run of two or more single letters (`r a d e
//! y e m i`) joins before the lead words are looked at, so a spelled `i` or `a` is never
//! taken for the pronoun or the article (`s o n e i l at gmail dot com` ->
//! `soneil@gmail.com`, `b carter at ...` -> `bcarter@...`). `double`/`triple` before a
//! letter or digit repeat it (`j o double n` -> `jonn`).

use super::spoken::unit;

/// Words that come before an address but are not part of it.
const LEADS: &[&str] = &[
    "is", "it's", "its", "it", "email", "e-mail", "address", "me", "my", "sure", "yeah", "yes", "yep", "uh", "um",
    "the", "that's", "thats", "use", "to", "so", "okay", "ok", "well", "oh", "try", "reach", "you", "can", "send",
    "mail", "was", "be", "should", "go", "hi", "hello", "this", "and", "i", "i'm", "im", "just", "please", "at", "on",
    "under", "with",
];

/// The most words a spoken local part or domain name is made of.
const MAX_WORDS: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    At,
    Text(String),
}

/// The address in the answer, lower-case, or `None` when there is none.
#[must_use]
pub fn email(s: &str) -> Option<String> {
    let s = s.to_lowercase().replace('\u{2019}', "'");
    if let Some(found) = s.split_whitespace().map(trim).find(|w| w.contains('@') && valid(w)) {
        return Some(found.to_owned());
    }
    let pieces = pieces(&s);
    let ats = pieces
        .iter()
        .enumerate()
        .filter(|(_, p)| **p == Piece::At)
        .map(|(i, _)| i);
    ats.rev().find_map(|at| {
        let domain = domain(&pieces[at + 1..])?;
        let local = local(&pieces[..at])?;
        let addr = format!("{local}@{domain}");
        valid(&addr).then_some(addr)
    })
}

fn trim(w: &str) -> &str {
    w.trim_matches(|c: char| !c.is_alphanumeric()).trim_end_matches('.')
}

/// Spoken words as address pieces.
fn pieces(s: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    for w in s
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(trim)
        .filter(|w| !w.is_empty())
    {
        let text = match w {
            "at" => {
                out.push(Piece::At);
                continue;
            }
            "dot" | "period" | "point" => ".",
            "underscore" => "_",
            "dash" | "hyphen" | "minus" => "-",
            "plus" => "+",
            _ => w,
        };
        if let Some(d) = unit(text) {
            out.push(Piece::Text(d.to_string()));
            continue;
        }
        // A half-written address: `john@gmail dot com`.
        let mut parts = text.split('@');
        if let Some(first) = parts.next().filter(|p| !p.is_empty()) {
            out.push(Piece::Text(first.to_owned()));
        }
        for p in parts {
            out.push(Piece::At);
            if !p.is_empty() {
                out.push(Piece::Text(p.to_owned()));
            }
        }
    }
    join_letters(out)
}

/// Joins runs of two or more single letters (a spelled-out word) into one piece, and
/// expands `double x` / `triple x`.
fn join_letters(pieces: Vec<Piece>) -> Vec<Piece> {
    let single =
        |p: &Piece| matches!(p, Piece::Text(t) if t.chars().count() == 1 && t.chars().all(char::is_alphanumeric));
    let mut out: Vec<Piece> = Vec::with_capacity(pieces.len());
    let mut i = 0;
    while let Some(p) = pieces.get(i) {
        let repeat = match p {
            Piece::Text(t) if t == "double" => 2,
            Piece::Text(t) if t == "triple" => 3,
            _ => 1,
        };
        if repeat > 1
            && let Some(Piece::Text(next)) = pieces.get(i + 1).filter(|n| single(n))
        {
            out.push(Piece::Text(next.repeat(repeat)));
            i += 2;
            continue;
        }
        let run = pieces[i..].iter().take_while(|p| single(p)).count();
        if run >= 2 {
            let word: String = pieces[i..i + run]
                .iter()
                .filter_map(|p| match p {
                    Piece::Text(t) => Some(t.as_str()),
                    Piece::At => None,
                })
                .collect();
            out.push(Piece::Text(word));
            i += run;
            continue;
        }
        out.push(p.clone());
        i += 1;
    }
    out
}

/// The domain spoken after an `at`: words run together up to the last `dot <label>`.
fn domain(after: &[Piece]) -> Option<String> {
    let mut out = String::new();
    let mut i = 0;
    while let Some(Piece::Text(t)) = after.get(i) {
        if i >= MAX_WORDS {
            return None;
        }
        let dotted_label_done = out.contains('.') && !out.ends_with(['.', '-']);
        if dotted_label_done && t != "." && t != "-" {
            break;
        }
        out.push_str(t);
        i += 1;
    }
    Some(out)
}

/// The local part spoken before an `at`: words back to the first [`LEADS`] word.
fn local(before: &[Piece]) -> Option<String> {
    let mut words = Vec::new();
    for p in before.iter().rev() {
        match p {
            Piece::Text(t) if !LEADS.contains(&t.as_str()) && words.len() < MAX_WORDS => words.push(t.as_str()),
            _ => break,
        }
    }
    words.reverse();
    let out = words.concat();
    (!out.is_empty()).then_some(out)
}

/// A plausible address: one `@`, a local part of letters, digits and `._+-`, and a domain
/// of at least two labels ending in a letters-only top-level domain.
fn valid(addr: &str) -> bool {
    let Some((local, domain)) = addr.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.chars().all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels: Vec<&str> = domain.split('.').collect();
    let labels_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    let tld_ok = labels
        .last()
        .is_some_and(|t| t.len() >= 2 && t.chars().all(|c| c.is_ascii_alphabetic()));
    local_ok && labels_ok && tld_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spoken_and_written() {
        let cases = [
            ("john dot smith at gmail dot com", "john.smith@gmail.com"),
            ("j o h n at example dot com", "john@example.com"),
            ("it's maria.garcia@outlook.com", "maria.garcia@outlook.com"),
            (
                "my email is bob underscore lee at yahoo dot co dot uk",
                "bob_lee@yahoo.co.uk",
            ),
            ("JOHN DOT SMITH AT GMAIL DOT COM", "john.smith@gmail.com"),
            ("Priya.Patel@Yahoo.com.", "priya.patel@yahoo.com"),
            ("kevin at obrien roofing dot com", "kevin@obrienroofing.com"),
            ("linda chen at hotmail dot com", "lindachen@hotmail.com"),
            ("carlos mendez 77 at gmail dot com", "carlosmendez77@gmail.com"),
            ("beth.morales@gmail.com, that's b e t h", "beth.morales@gmail.com"),
            ("sofia at rossi family dot org", "sofia@rossifamily.org"),
            (
                "mary dash jane at my hyphen site dot net thanks",
                "mary-jane@my-site.net",
            ),
            ("you can email me at tom seven at acme dot io", "tom7@acme.io"),
            ("sure, it's john@gmail dot com", "john@gmail.com"),
            ("uh it's sam plus leads at example period org", "sam+leads@example.org"),
            // Spelled-out letters are one word, even when one of them is `i` or `a`.
            ("r a d e y e m i at gmail dot com", "radeyemi@gmail.com"),
            ("s o n e i l at gmail dot com", "soneil@gmail.com"),
            ("g l i u at protonmail dot com", "gliu@protonmail.com"),
            ("j o h n dot smith at gmail dot com", "john.smith@gmail.com"),
            ("b carter at gmail dot com", "bcarter@gmail.com"),
            ("my email is a j smith at yahoo dot com", "ajsmith@yahoo.com"),
            ("it's i a n 2 at g mail dot com", "ian2@gmail.com"),
            ("sure, m a r i a at a o l dot com", "maria@aol.com"),
            ("j o double n at example dot com", "jonn@example.com"),
            ("k i m one two at outlook dot com", "kim12@outlook.com"),
        ];
        for (said, want) in cases {
            assert_eq!(email(said).as_deref(), Some(want), "{said}");
        }
    }

    #[test]
    fn not_addresses() {
        for said in [
            "I don't have one",
            "I'm at home",
            "john at gmail",
            "john at gmail dot",
            "at gmail dot com",
            "john@@gmail.com",
            "it's john smith",
            "",
            "dot com",
            "john at gmail dot c0m",
        ] {
            assert_eq!(email(said), None, "{said}");
        }
    }
}
