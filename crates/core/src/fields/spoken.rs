//! Spoken numbers, the shared ground of the phone, number, money, date and time fields.
//!
//! Speech-to-text gives numbers either as digits (`555 867 5309`, `$15,000`, `3pm`) or as
//! words (`twenty five`, `a hundred and twenty`, `two point five`, `two and a half
//! thousand`). [`tokens`] splits an utterance into lower-case words and numerals the same
//! way for every field (`3pm` becomes `3` `pm`, `5k` becomes `5` `k`, `twenty-five`
//! becomes `twenty` `five`, `$` and `-` stand alone), and [`number_at`] reads the longest
//! number starting at a token. Word sequences that are not one number (`five five five`,
//! `nineteen ninety`) stop after the first word, so callers can read digit strings and
//! spoken years word by word with the small helpers here.

/// Splits an utterance into lower-case tokens: words (apostrophes kept inside, as in
/// `i'm` and `o'clock`), numerals (`1,500`, `2.5`, `10:30` and `05/12/1985` stay whole),
/// and the one-character tokens `$`, `+`, `-`, `%` and `&`. Other punctuation separates.
#[must_use]
pub fn tokens(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().map(|c| if c == '\u{2019}' { '\'' } else { c }).collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
        let next = chars.get(i + 1).copied();
        let digit_both = prev.is_some_and(|p| p.is_ascii_digit()) && next.is_some_and(|n| n.is_ascii_digit());
        if c.is_alphanumeric() || c == '\'' {
            let boundary = cur
                .chars()
                .last()
                .is_some_and(|l| l.is_alphanumeric() && l.is_ascii_digit() != c.is_ascii_digit());
            if boundary {
                flush(&mut cur, &mut out);
            }
            cur.extend(c.to_lowercase());
        } else if matches!(c, '.' | ',' | ':' | '/') && digit_both {
            cur.push(c);
        } else if c == '.' && prev.is_some_and(char::is_alphabetic) && next.is_some_and(char::is_alphabetic) {
            // `a.m.`, `p.m.`: one word.
        } else if c == '-' && prev.is_some_and(char::is_alphabetic) && next.is_some_and(char::is_alphabetic) {
            flush(&mut cur, &mut out);
        } else {
            flush(&mut cur, &mut out);
            if matches!(c, '$' | '+' | '-' | '%' | '&') {
                out.push(c.to_string());
            }
        }
    }
    flush(&mut cur, &mut out);
    out
}

fn flush(cur: &mut String, out: &mut Vec<String>) {
    let t = cur.trim_matches('\'');
    if !t.is_empty() {
        out.push(t.to_owned());
    }
    cur.clear();
}

/// `one` to `nine` (and `zero`), as a digit.
#[must_use]
pub fn unit(w: &str) -> Option<u32> {
    const UNITS: [&str; 10] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    UNITS.iter().position(|u| *u == w).and_then(|p| u32::try_from(p).ok())
}

/// `ten` to `nineteen`.
#[must_use]
pub fn teen(w: &str) -> Option<u32> {
    const TEENS: [&str; 10] = [
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    TEENS
        .iter()
        .position(|u| *u == w)
        .and_then(|p| u32::try_from(p + 10).ok())
}

/// `twenty` to `ninety`.
#[must_use]
pub fn tens(w: &str) -> Option<u32> {
    const TENS: [&str; 8] = [
        "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    TENS.iter()
        .position(|u| *u == w)
        .and_then(|p| u32::try_from((p + 2) * 10).ok())
}

/// Words that multiply what came before: `thousand`, `k`, `grand`, `million`, `billion`.
#[must_use]
pub fn scale(w: &str) -> Option<f64> {
    match w {
        "thousand" | "k" | "grand" => Some(1e3),
        "million" | "mil" => Some(1e6),
        "billion" => Some(1e9),
        _ => None,
    }
}

/// A numeral token: `40`, `1,500`, `2.5`. Thousands separators must be in groups of three.
#[must_use]
pub fn numeral(tok: &str) -> Option<f64> {
    if !tok.starts_with(|c: char| c.is_ascii_digit())
        || !tok.chars().all(|c| c.is_ascii_digit() || c == ',' || c == '.')
    {
        return None;
    }
    let (int, frac) = tok.split_once('.').unwrap_or((tok, ""));
    let groups: Vec<&str> = int.split(',').collect();
    let grouped_ok = groups.len() == 1
        || groups.iter().skip(1).all(|g| g.len() == 3) && groups.first().is_some_and(|g| (1..=3).contains(&g.len()));
    if !grouped_ok || frac.contains(['.', ',']) {
        return None;
    }
    format!("{}.{}", int.replace(',', ""), if frac.is_empty() { "0" } else { frac })
        .parse()
        .ok()
}

/// A number read from tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Num {
    pub value: f64,
    /// Tokens it spans.
    pub len: usize,
    /// The last multiplier word in it (`thousand` in `twenty thousand`), if any.
    pub scale: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    Start,
    Numeral,
    Unit,
    Teen,
    Tens,
    Hundred,
    Scale,
    And,
    Half,
    Point,
}

struct Acc {
    total: f64,
    current: f64,
    last: Last,
    scale: Option<f64>,
}

/// Reads the longest number that starts at token `i`: numerals, number words, `a
/// hundred`, `and` after hundreds or thousands, `and a half`, `point five`, and the
/// multipliers of [`scale`]. Returns `None` when token `i` does not start a number.
#[must_use]
pub fn number_at(t: &[String], i: usize) -> Option<Num> {
    let mut acc = Acc {
        total: 0.0,
        current: 0.0,
        last: Last::Start,
        scale: None,
    };
    let mut j = i;
    while let Some(w) = t.get(j) {
        let Some(n) = step(&mut acc, t, j, w) else { break };
        j += n;
    }
    (j > i).then_some(Num {
        value: acc.total + acc.current,
        len: j - i,
        scale: acc.scale,
    })
}

/// One step of [`number_at`]: how many tokens `w` (at `j`) consumed, or `None` to stop.
fn step(acc: &mut Acc, t: &[String], j: usize, w: &str) -> Option<usize> {
    use Last::*;
    let word = |k: usize| t.get(j + k).map(String::as_str).unwrap_or("");
    let after_group = matches!(acc.last, Start | Hundred | Scale | And);
    let multipliable = matches!(acc.last, Numeral | Unit | Teen | Tens | Hundred | Half | Point);
    if acc.last == Start
        && let Some(v) = numeral(w)
    {
        acc.current = v;
        acc.last = Numeral;
    } else if acc.last == Start && matches!(w, "a" | "an") && (word(1) == "hundred" || scale(word(1)).is_some()) {
        acc.current = 1.0;
        acc.last = Unit;
    } else if let Some(u) = unit(w).filter(|&u| u > 0 || acc.last == Start) {
        if !(after_group || acc.last == Tens) {
            return None;
        }
        acc.current += f64::from(u);
        acc.last = Unit;
    } else if let Some(v) = teen(w).or_else(|| tens(w)) {
        if !after_group {
            return None;
        }
        acc.current += f64::from(v);
        acc.last = if v < 20 { Teen } else { Tens };
    } else if w == "hundred" && matches!(acc.last, Unit | Teen | Numeral) {
        acc.current *= 100.0;
        acc.last = Hundred;
    } else if let Some(s) = scale(w).filter(|_| multipliable) {
        acc.total += acc.current * s;
        acc.current = 0.0;
        acc.last = Scale;
        acc.scale = Some(s);
    } else {
        return special(acc, t, j, w);
    }
    Some(1)
}

/// The joining words of [`step`]: `and`, `and a half`, `point`.
fn special(acc: &mut Acc, t: &[String], j: usize, w: &str) -> Option<usize> {
    use Last::*;
    let word = |k: usize| t.get(j + k).map(String::as_str).unwrap_or("");
    let is_word_number = |s: &str| unit(s).is_some() || teen(s).is_some() || tens(s).is_some();
    if w == "and" && word(1) == "a" && word(2) == "half" && matches!(acc.last, Numeral | Unit | Teen | Tens) {
        acc.current += 0.5;
        acc.last = Half;
        return Some(3);
    }
    if w == "and" && matches!(acc.last, Hundred | Scale) && is_word_number(word(1)) && and_continues(acc, t, j + 1) {
        acc.last = And;
        return Some(1);
    }
    if w == "point" && matches!(acc.last, Unit | Teen | Tens | Start) {
        let digits: String = t[j + 1..]
            .iter()
            .map_while(|d| unit(d).or_else(|| (d == "oh").then_some(0)))
            .map(|d| char::from_digit(d, 10).unwrap_or('0'))
            .collect();
        if digits.is_empty() {
            return None;
        }
        let frac: f64 = format!("0.{digits}").parse().ok()?;
        acc.current += frac;
        acc.last = Point;
        return Some(1 + digits.len());
    }
    None
}

/// Whether the words after an `and` (at `k`) continue the number before it rather than
/// start a second one. After `hundred` the rest must be below 100 and not a hundreds group
/// of its own (`two hundred and fifty` is 250, `fifteen hundred and eighteen hundred` is
/// two numbers); a multiplier after it applies to the whole (`two hundred and fifty
/// thousand`) only when the hundreds are below a thousand (`fifteen hundred and two
/// thousand` is two numbers). After `thousand` (or a larger multiplier) the rest must be
/// smaller than it and not carry a multiplier as large (`twenty thousand and five hundred`
/// is 20,500, `ten thousand and twenty thousand` is two numbers).
fn and_continues(acc: &Acc, t: &[String], k: usize) -> bool {
    let word = |n: usize| t.get(k + n).map(String::as_str).unwrap_or("");
    // The small number said right after the `and`: `fifty`, `fifty five`, `eighteen`.
    let (small, n) = match (tens(word(0)), unit(word(1)).filter(|u| *u > 0)) {
        (Some(tn), Some(u)) => (tn + u, 2),
        (Some(tn), None) => (tn, 1),
        _ => match teen(word(0)).or_else(|| unit(word(0))) {
            Some(v) => (v, 1),
            None => return false,
        },
    };
    let next = word(n);
    let last_scale = acc.scale.unwrap_or(1.0);
    match acc.last {
        Last::Hundred => match (next, scale(next)) {
            ("hundred", _) => false,
            (_, Some(s)) => acc.current < 1000.0 && acc.scale.is_none_or(|l| s < l),
            (_, None) => true,
        },
        _ => match next {
            "hundred" => f64::from(small) * 100.0 < last_scale,
            _ => scale(next).is_none_or(|s| s < last_scale),
        },
    }
}

/// The first number anywhere in the tokens, with the index it starts at.
#[must_use]
pub fn first_number(t: &[String]) -> Option<(usize, Num)> {
    (0..t.len()).find_map(|i| number_at(t, i).map(|n| (i, n)))
}

/// An ordinal word: `first` to `nineteenth`, `twentieth`, `thirtieth`.
#[must_use]
pub fn ordinal_word(w: &str) -> Option<u32> {
    const ORD: [&str; 19] = [
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "eleventh",
        "twelfth",
        "thirteenth",
        "fourteenth",
        "fifteenth",
        "sixteenth",
        "seventeenth",
        "eighteenth",
        "nineteenth",
    ];
    match w {
        "twentieth" => Some(20),
        "thirtieth" => Some(30),
        _ => ORD.iter().position(|o| *o == w).and_then(|p| u32::try_from(p + 1).ok()),
    }
}

/// An ordinal at token `i`: `fourth`, `twenty first`, `12th` (split as `12` `th`).
/// Returns the number and the tokens it spans.
#[must_use]
pub fn ordinal_at(t: &[String], i: usize) -> Option<(u32, usize)> {
    let w = t.get(i)?;
    let next = t.get(i + 1).map(String::as_str).unwrap_or("");
    if w.chars().all(|c| c.is_ascii_digit()) && matches!(next, "st" | "nd" | "rd" | "th") {
        return w.parse().ok().map(|n| (n, 2));
    }
    if let Some(tn) = tens(w)
        && let Some(o) = ordinal_word(next).filter(|&o| o < 10)
    {
        return Some((tn + o, 2));
    }
    ordinal_word(w).map(|o| (o, 1))
}

/// A whole number from `lo` to `hi` at token `i`, written or spoken (`12`, `twenty five`).
#[must_use]
pub fn whole_at(t: &[String], i: usize, lo: u32, hi: u32) -> Option<(u32, usize)> {
    let n = number_at(t, i)?;
    if n.value.fract() != 0.0 || n.value < f64::from(lo) || n.value > f64::from(hi) {
        return None;
    }
    // Bounded by `hi` above, so the conversion is exact.
    let v = format!("{}", n.value).parse().ok()?;
    Some((v, n.len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Option<(f64, usize)> {
        number_at(&tokens(s), 0).map(|n| (n.value, n.len))
    }

    #[test]
    fn tokenizing() {
        assert_eq!(tokens("3pm, I'm OK."), ["3", "pm", "i'm", "ok"]);
        assert_eq!(tokens("$15,000-$20,000"), ["$", "15,000", "-", "$", "20,000"]);
        assert_eq!(tokens("twenty-five 5k 12th"), ["twenty", "five", "5", "k", "12", "th"]);
        assert_eq!(tokens("05/12/1985 at 10:30 a.m."), ["05/12/1985", "at", "10:30", "am"]);
        assert_eq!(tokens("(555) 123-4567"), ["555", "123", "-", "4567"]);
        assert_eq!(tokens("it\u{2019}s '85 +44"), ["it's", "85", "+", "44"]);
        assert!(tokens("  ...  ").is_empty());
    }

    #[test]
    fn numbers() {
        assert_eq!(num("two"), Some((2.0, 1)));
        assert_eq!(num("twenty five people"), Some((25.0, 2)));
        assert_eq!(num("a hundred and twenty"), Some((120.0, 4)));
        assert_eq!(num("two point five"), Some((2.5, 3)));
        assert_eq!(num("two and a half thousand"), Some((2500.0, 5)));
        assert_eq!(num("two thousand five hundred and six"), Some((2506.0, 6)));
        assert_eq!(num("1,500"), Some((1500.0, 1)));
        assert_eq!(num("20 thousand"), Some((20_000.0, 2)));
        assert_eq!(num("5 k"), Some((5000.0, 2)));
        assert_eq!(num("nineteen hundred"), Some((1900.0, 2)));
        assert_eq!(num("zero"), Some((0.0, 1)));
        assert_eq!(num("two hundred and fifty"), Some((250.0, 4)));
        assert_eq!(num("fifteen hundred and fifty five"), Some((1555.0, 5)));
        assert_eq!(num("two hundred and fifty thousand"), Some((250_000.0, 5)));
        assert_eq!(num("a hundred and twenty thousand"), Some((120_000.0, 5)));
        assert_eq!(num("twenty thousand and five hundred"), Some((20_500.0, 5)));
        assert_eq!(num("one million and fifty thousand"), Some((1_050_000.0, 5)));
        assert_eq!(num("three thousand and six"), Some((3006.0, 4)));
        assert_eq!(
            num("one million two hundred and fifty thousand"),
            Some((1_250_000.0, 7))
        );
    }

    #[test]
    fn sequences_stop() {
        assert_eq!(num("five five five"), Some((5.0, 1)));
        assert_eq!(num("nineteen ninety"), Some((19.0, 1)));
        assert_eq!(num("twenty twenty four"), Some((20.0, 1)));
        assert_eq!(num("fifteen and twenty"), Some((15.0, 1)));
        // `and` joins only a smaller remainder, never a second number of the same size.
        assert_eq!(num("fifteen hundred and eighteen hundred"), Some((1500.0, 2)));
        assert_eq!(num("fifteen hundred and two thousand"), Some((1500.0, 2)));
        assert_eq!(num("ten thousand and twenty thousand"), Some((10_000.0, 2)));
        assert_eq!(num("two thousand and five thousand"), Some((2000.0, 2)));
        assert_eq!(num("ten thousand and fifteen hundred"), Some((10_000.0, 2)));
        assert_eq!(num("seven thirty"), Some((7.0, 1)));
        assert_eq!(num("a dog"), None);
        assert_eq!(num("1,50"), None);
        assert_eq!(num("point"), None);
        assert_eq!(num("hundred"), None);
    }

    #[test]
    fn ordinals() {
        let t = tokens("fourth twenty first 12th thirtieth the");
        assert_eq!(ordinal_at(&t, 0), Some((4, 1)));
        assert_eq!(ordinal_at(&t, 1), Some((21, 2)));
        assert_eq!(ordinal_at(&t, 3), Some((12, 2)));
        assert_eq!(ordinal_at(&t, 5), Some((30, 1)));
        assert_eq!(ordinal_at(&t, 6), None);
        assert_eq!(whole_at(&tokens("twenty five"), 0, 1, 31), Some((25, 2)));
        assert_eq!(whole_at(&tokens("2.5"), 0, 1, 31), None);
        assert_eq!(whole_at(&tokens("45"), 0, 1, 31), None);
    }
}
