//! Phone numbers in E.164, from digits (`555 867 5309`, `(555) 123-4567`, `+44 20 7946
//! 0958`) or words (`five five five, oh one two ...`, `double five`, `triple seven`,
//! `forty five`, `eight hundred`).
//!
//! The answer is read into runs of digits: digits and number words continue a run, and so
//! do `-`, `then`, `and` and `dash`; any other word ends it. The first run that makes a
//! number wins (ten digits take the US `+1`, eleven starting with `1` are already
//! national, a leading `+` or `plus` keeps its country code), then all runs together,
//! then a seven-digit local number with the caller's area code. With no digits at all,
//! "the number I'm calling from" and its like give the caller's own number.

use super::spoken::{teen, tens, tokens, unit};

/// Words that continue a run of digits without adding any.
const JOINERS: &[&str] = &["-", "then", "and", "dash", "hyphen"];

/// Phrases meaning "the number I'm calling from".
const CALLER_PHRASES: &[&str] = &[
    "calling from",
    "calling on",
    "calling you from",
    "this number",
    "same number",
    "this phone",
    "this one",
    "same one",
    "caller id",
    "number i'm on",
    "one i'm on",
    "number you have",
    "number that came up",
    "the number showing",
];

/// The number in E.164, or `None` when the answer holds no usable number.
#[must_use]
pub fn phone(s: &str, caller: Option<&str>) -> Option<String> {
    let t = tokens(s);
    let runs = runs(&t);
    if let Some(n) = runs.iter().find_map(|(plus, d)| e164(*plus, d)) {
        return Some(n);
    }
    let all: String = runs.iter().map(|(_, d)| d.as_str()).collect();
    let plus = runs.first().is_some_and(|r| r.0);
    if let Some(n) = e164(plus, &all) {
        return Some(n);
    }
    let caller = caller.and_then(|c| e164(c.trim().starts_with('+'), &digits_of(c)));
    if all.len() == 7 && !plus {
        let area = caller.as_deref().and_then(|c| c.strip_prefix("+1"))?.get(..3)?;
        return Some(format!("+1{area}{all}"));
    }
    let said = t.join(" ");
    let own = all.len() < 7 && CALLER_PHRASES.iter().any(|p| said.contains(p));
    if own { caller } else { None }
}

fn digits_of(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// A number in E.164 from its digits, when there are the right number of them.
fn e164(plus: bool, d: &str) -> Option<String> {
    // International access codes dialled from the US (`011`) or most elsewhere (`00`).
    if !plus && let Some(rest) = d.strip_prefix("011").or_else(|| d.strip_prefix("00")) {
        return e164(true, rest);
    }
    match d.len() {
        8..=15 if plus => Some(format!("+{d}")),
        10 if !plus => Some(format!("+1{d}")),
        11 if !plus && d.starts_with('1') => Some(format!("+{d}")),
        _ => None,
    }
}

/// Runs of digits, each with whether a `+` (or `plus`) started it.
fn runs(t: &[String]) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    let mut cur = (false, String::new());
    let mut i = 0;
    while let Some(w) = t.get(i) {
        if matches!(w.as_str(), "extension" | "ext" | "x") {
            break;
        }
        if let Some((d, n)) = digits_at(t, i, !cur.1.is_empty()) {
            cur.1.push_str(&d);
            i += n;
            continue;
        }
        let plus = matches!(w.as_str(), "+" | "plus");
        let joins = JOINERS.contains(&w.as_str()) && !cur.1.is_empty();
        if !joins && !cur.1.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        if plus {
            cur.0 = true;
        } else if !joins {
            cur.0 = false;
        }
        i += 1;
    }
    if !cur.1.is_empty() {
        out.push(cur);
    }
    out
}

/// The digits token `i` (and maybe the next) stands for, and how many tokens it took.
fn digits_at(t: &[String], i: usize, in_run: bool) -> Option<(String, usize)> {
    let w = t.get(i)?.as_str();
    let next = t.get(i + 1).map(String::as_str).unwrap_or("");
    if w.starts_with(|c: char| c.is_ascii_digit()) && w.chars().all(|c| c.is_ascii_digit() || ".,/:".contains(c)) {
        return Some((digits_of(w), 1));
    }
    if let Some(u) = unit(w) {
        return Some((u.to_string(), 1));
    }
    if matches!(w, "oh" | "o") && (in_run || single_digit(next).is_some()) {
        return Some(("0".into(), 1));
    }
    if let Some(times) = match w {
        "double" => Some(2),
        "triple" => Some(3),
        _ => None,
    } && let Some(d) = single_digit(next)
    {
        return Some((d.repeat(times), 2));
    }
    if let Some(v) = teen(w) {
        return Some((v.to_string(), 1));
    }
    if let Some(v) = tens(w) {
        return Some(match unit(next).filter(|&u| u > 0) {
            Some(u) => ((v + u).to_string(), 2),
            None => (v.to_string(), 1),
        });
    }
    match w {
        "hundred" if in_run => Some(("00".into(), 1)),
        "thousand" if in_run => Some(("000".into(), 1)),
        _ => None,
    }
}

/// One digit, written or spoken (`oh` included).
fn single_digit(w: &str) -> Option<String> {
    if w.len() == 1 && w.chars().all(|c| c.is_ascii_digit()) {
        return Some(w.to_owned());
    }
    unit(w)
        .map(|u| u.to_string())
        .or_else(|| matches!(w, "oh" | "o").then(|| "0".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALLER: Option<&str> = Some("+15551230002");

    #[test]
    fn numbers() {
        let cases = [
            ("five five five, one two three, four five six seven", "+15551234567"),
            ("555 867 5309", "+15558675309"),
            ("You can reach me at 555 867 5309.", "+15558675309"),
            ("five five five oh one two three four five six", "+15550123456"),
            ("area code 555 then 123 4567", "+15551234567"),
            ("area code 555, 777 6543", "+15557776543"),
            ("(555) 123-4567", "+15551234567"),
            ("555-909-1111", "+15559091111"),
            ("+44 20 7946 0958", "+442079460958"),
            (
                "plus four four two zero seven nine four six zero nine five eight",
                "+442079460958",
            ),
            ("double five five, triple seven, one two three four", "+15557771234"),
            ("one eight hundred five five five one two one two", "+18005551212"),
            ("five five five, four four four, twelve twelve", "+15554441212"),
            ("Oh, it's 212 555 0147.", "+12125550147"),
            ("call me after 5, my number is 555.867.5309", "+15558675309"),
            ("1 555 867 5309 extension 12", "+15558675309"),
            ("five five five eight eight eight one two three four", "+15558881234"),
            (
                "zero zero four four two zero seven nine four six zero nine five eight",
                "+442079460958",
            ),
            ("011 44 20 7946 0958", "+442079460958"),
        ];
        for (said, want) in cases {
            assert_eq!(phone(said, None).as_deref(), Some(want), "{said}");
        }
    }

    #[test]
    fn callers_own_number() {
        for said in [
            "the number I'm calling from",
            "Same number I'm calling from.",
            "Use this number.",
            "this one is fine",
            "the one on your caller ID",
        ] {
            assert_eq!(phone(said, CALLER).as_deref(), CALLER, "{said}");
        }
        assert_eq!(phone("this number", None), None);
        assert_eq!(phone("867 5309", CALLER).as_deref(), Some("+15558675309"));
        assert_eq!(phone("867 5309", None), None);
    }

    #[test]
    fn not_numbers() {
        for said in [
            "I don't want to give it",
            "555 1234",
            "five five five",
            "555 867 530",
            "555 867 53099",
            "",
            "oh I'm not sure",
            "+44",
        ] {
            assert_eq!(phone(said, None), None, "{said}");
        }
    }
}
