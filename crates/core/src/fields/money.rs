//! Counts and amounts: the `number` and `money` field types.
//!
//! A number is the first number said (`about 40` -> `40`, `two point five` -> `2.5`), or
//! `0` for `none`, `no one` and the like, returned as a JSON number. An amount is written
//! in dollars with thousands separators, keeping a range (`fifteen to twenty thousand` ->
//! `$15,000-$20,000`, the multiplier said once applying to both ends) or a bound (`under 10
//! grand` -> `under $10,000`). When several numbers are said, the first that sounds like
//! money (`$`, `dollars`, `k`, `grand`, `thousand`) is taken.
//!
//! An `and` after `hundred` or `thousand` goes on with the same number only for a smaller
//! remainder (`two hundred and fifty`, `two hundred and fifty thousand`), so `between
//! fifteen hundred and eighteen hundred` is the range `$1,500-$1,800`; a range's lower end
//! said without its multiplier takes the upper end's, `hundred` included (`five to six
//! hundred` -> `$500-$600`).

use serde_json::Value;

use super::spoken::{Num, number_at, tokens};

/// Phrases that mean zero, checked before number words (`no one` is not `one`).
const ZEROS: &[&[&str]] = &[
    &["no", "one"],
    &["nobody"],
    &["none"],
    &["nothing"],
    &["no", "other"],
    &["nobody", "else"],
];

/// Phrases for small counts that have no number word in them.
const COUNTS: &[(&[&str], f64)] = &[(&["couple"], 2.0), (&["dozen"], 12.0)];

/// The first number in the answer as a JSON number, or `None` when there is none.
#[must_use]
pub fn number(s: &str) -> Option<Value> {
    let t = tokens(s);
    let starts = |i: usize, p: &[&str]| {
        t.get(i..i + p.len())
            .is_some_and(|w| w.iter().zip(p).all(|(a, b)| a == b))
    };
    let v = (0..t.len()).find_map(|i| {
        if ZEROS.iter().any(|z| starts(i, z)) {
            return Some(0.0);
        }
        if let Some(n) = number_at(&t, i) {
            return Some(n.value);
        }
        COUNTS.iter().find(|(p, _)| starts(i, p)).map(|(_, v)| *v)
    })?;
    Some(json_number(v))
}

/// Whole values as JSON integers (`2`, not `2.0`), others as floats.
fn json_number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Value::from(v as i64)
    } else {
        serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
    }
}

/// An amount found in the answer.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Amount {
    value: f64,
    /// Up to `value`: a range's upper end.
    upto: Option<f64>,
    /// Said with `$`, `dollars`, `k`, `grand` or `thousand`.
    moneyish: bool,
    bound: Option<&'static str>,
}

/// The amount in dollars (`$2,500`, `$15,000-$20,000`, `under $10,000`), or `None`.
#[must_use]
pub fn money(s: &str) -> Option<String> {
    let t = tokens(s);
    let mut found = Vec::new();
    let mut i = 0;
    while i < t.len() {
        match amount_at(&t, i) {
            Some((a, len)) => {
                found.push(a);
                i += len;
            }
            None => i += 1,
        }
    }
    let a = found.iter().find(|a| a.moneyish).or(found.first())?;
    let text = match a.upto {
        Some(hi) => format!("{}-{}", dollars(a.value), dollars(hi)),
        None => dollars(a.value),
    };
    Some(match a.bound {
        Some(b) => format!("{b} {text}"),
        None => text,
    })
}

/// A single amount at `i` (after an optional `$`): its number, and whether money words
/// come with it.
#[derive(Debug, Clone, Copy)]
struct One {
    num: Num,
    moneyish: bool,
    /// Tokens taken, money words included.
    len: usize,
    /// What a range's lower end said without one is multiplied by: the multiplier that
    /// ends this number (`thousand`, or `hundred` in `eighteen hundred`).
    spread: Option<f64>,
}

fn one_at(t: &[String], i: usize) -> Option<One> {
    let dollar = t.get(i).is_some_and(|w| w == "$");
    let start = i + usize::from(dollar);
    let num = number_at(t, start)?;
    let end = start + num.len;
    let unit = t
        .get(end)
        .is_some_and(|w| matches!(w.as_str(), "dollars" | "dollar" | "bucks" | "usd"));
    let last = end.checked_sub(1).and_then(|k| t.get(k)).map(String::as_str);
    let spread = if last == Some("hundred") {
        Some(100.0)
    } else {
        num.scale
    };
    Some(One {
        num,
        moneyish: dollar || unit || num.scale.is_some(),
        len: end + usize::from(unit) - i,
        spread,
    })
}

/// An amount or range starting at `i`, and the tokens it took.
fn amount_at(t: &[String], i: usize) -> Option<(Amount, usize)> {
    let mut lo = one_at(t, i)?;
    let between = t[..i].iter().any(|w| w == "between");
    let joiner = t.get(i + lo.len).map(String::as_str);
    let joins = matches!(joiner, Some("to" | "-" | "or")) || (joiner == Some("and") && between);
    let mut hi = joins.then(|| one_at(t, i + lo.len + 1)).flatten();
    if between
        && hi.is_none()
        && let Some((l, h)) = split_between(t, i, lo.len)
    {
        (lo, hi) = (l, Some(h));
    }
    let mut value = lo.num.value;
    if let Some(h) = hi
        && lo.num.scale.is_none()
        && let Some(s) = h.spread
        && lo.num.value * s <= h.num.value
    {
        value *= s;
    }
    let amount = Amount {
        value,
        upto: hi.map(|h| h.num.value),
        moneyish: lo.moneyish || hi.is_some_and(|h| h.moneyish),
        bound: if hi.is_some() { None } else { bound_before(&t[..i]) },
    };
    let len = lo.len + hi.map_or(0, |h| 1 + h.len);
    Some((amount, len))
}

/// `between` needs an `and`: when the only one was read inside the number (`between two
/// hundred and fifty thousand`), the number splits there into a range's two ends, as long
/// as the upper end is the larger.
fn split_between(t: &[String], i: usize, len: usize) -> Option<(One, One)> {
    let k = (i..i + len).rev().find(|&k| t.get(k).is_some_and(|w| w == "and"))?;
    let lo = one_at(&t[..k], i).filter(|l| i + l.len == k)?;
    let hi = one_at(t, k + 1).filter(|h| k + 1 + h.len == i + len)?;
    (hi.num.value > lo.num.value).then_some((lo, hi))
}

/// `under` or `over` when the words just before an amount bound it.
fn bound_before(before: &[String]) -> Option<&'static str> {
    let last = |n: usize| before.len().checked_sub(n).map(|k| before[k..].join(" "));
    let said = |p: &str| (1..=3).any(|n| last(n).is_some_and(|l| l == p));
    let under = [
        "under",
        "below",
        "less than",
        "up to",
        "no more than",
        "not more than",
        "max",
        "maximum",
        "at most",
    ];
    let over = [
        "over",
        "above",
        "more than",
        "at least",
        "upwards of",
        "minimum",
        "north of",
    ];
    if under.iter().any(|p| said(p)) {
        Some("under")
    } else if over.iter().any(|p| said(p)) {
        Some("over")
    } else {
        None
    }
}

/// `$1,234` (or `$1,234.50` when there are cents).
fn dollars(v: f64) -> String {
    let cents = (v * 100.0).round() as u64;
    let (whole, rest) = (cents / 100, cents % 100);
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if rest == 0 {
        format!("${grouped}")
    } else {
        format!("${grouped}.{rest:02}")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers() {
        let cases = [
            ("two", json!(2)),
            ("twenty five", json!(25)),
            ("a hundred and twenty", json!(120)),
            ("3", json!(3)),
            ("two point five", json!(2.5)),
            ("about 40", json!(40)),
            ("Two, the other driver and his insurance company.", json!(2)),
            ("just my husband, so one", json!(1)),
            ("none", json!(0)),
            ("no one else", json!(0)),
            ("a couple of them", json!(2)),
            ("1,500", json!(1500)),
            ("maybe 3.5", json!(3.5)),
            ("twelve hundred", json!(1200)),
            ("fifteen hundred and eighteen hundred", json!(1500)),
            ("two hundred and fifty", json!(250)),
        ];
        for (said, want) in cases {
            assert_eq!(number(said), Some(want), "{said}");
        }
        for said in ["", "I don't know", "a few", "lots", "not sure yet"] {
            assert_eq!(number(said), None, "{said}");
        }
    }

    #[test]
    fn amounts() {
        let cases = [
            ("fifteen to twenty thousand", "$15,000-$20,000"),
            (
                "Somewhere between fifteen and twenty thousand dollars.",
                "$15,000-$20,000",
            ),
            ("$500", "$500"),
            ("around 5k", "$5,000"),
            ("two and a half thousand", "$2,500"),
            ("under 10 grand", "under $10,000"),
            ("around ten grand", "$10,000"),
            ("maybe twenty five thousand", "$25,000"),
            ("three to five thousand", "$3,000-$5,000"),
            ("$15,000-$20,000", "$15,000-$20,000"),
            ("between $1,000 and $2,500", "$1,000-$2,500"),
            ("no more than 1.5 million", "under $1,500,000"),
            ("at least 800 dollars", "over $800"),
            ("$12.50", "$12.50"),
            ("for 2 bathrooms about 10k", "$10,000"),
            ("500 to 2 thousand", "$500-$2,000"),
            ("a hundred bucks", "$100"),
            // `X hundred and Y hundred` is a range, `X hundred and Y` one amount.
            ("between fifteen hundred and eighteen hundred a month", "$1,500-$1,800"),
            ("fifteen hundred to eighteen hundred", "$1,500-$1,800"),
            ("fifteen to eighteen hundred", "$1,500-$1,800"),
            ("between five and six hundred dollars", "$500-$600"),
            ("between fifteen hundred and two thousand", "$1,500-$2,000"),
            ("two hundred and fifty", "$250"),
            ("two hundred and fifty thousand", "$250,000"),
            ("between two hundred and fifty thousand", "$200-$50,000"),
            (
                "between a hundred and twenty and a hundred and fifty thousand",
                "$120,000-$150,000",
            ),
            ("between 200 and 300 thousand", "$200,000-$300,000"),
            ("under ten k", "under $10,000"),
            ("about 500 bucks", "$500"),
            ("twelve hundred a month", "$1,200"),
        ];
        for (said, want) in cases {
            assert_eq!(money(said).as_deref(), Some(want), "{said}");
        }
        for said in [
            "I don't really know yet",
            "no budget really",
            "I'd rather not say",
            "",
            "not sure",
        ] {
            assert_eq!(money(said), None, "{said}");
        }
    }
}
