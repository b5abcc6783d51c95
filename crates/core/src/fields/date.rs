//! Dates in ISO 8601 (`YYYY-MM-DD`), from what a caller says: `March fourth, nineteen
//! ninety`, `the twentieth of February, 1968`, `May 12 85`, `05/12/1985` (US order, or
//! day first when the first number cannot be a month), `2026-01-15`, `tomorrow`, `next
//! Tuesday`, `in two weeks`.
//!
//! A date without a year (`June 3rd`) is the next such date on or after today; a month
//! with a year but no day (`March 2025`) is given as `YYYY-MM`, ISO 8601's calendar month.
//! Spoken years are read as pairs (`nineteen ninety`, `twenty twenty four`, `nineteen oh
//! five`) or as numbers (`two thousand five`). After a month and day, a two-digit year
//! may be written (`5/3/85`, `May 12 85`, `march 4 '90`) or spoken (`seventy nine`, `oh
//! five`, `ninety`); a two-digit year `yy` is `20yy` when that is at most ten years after
//! today's year, else `19yy` (`1/2/60` -> `1960-01-02`). A two-digit number followed by a
//! time of day (`June 3 10 am`) is not a year. Written dates anywhere in the answer win
//! over relative words.

use chrono::{Datelike, Days, NaiveDate, Weekday};

use super::spoken::{number_at, ordinal_at, teen, tens, tokens, unit, whole_at};

/// The date in the answer, or `None` when it holds none.
#[must_use]
pub fn date(s: &str, today: NaiveDate) -> Option<String> {
    let t = tokens(s);
    let absolute = (0..t.len()).find_map(|i| {
        month_first(&t, i, today)
            .or_else(|| day_first(&t, i, today))
            .or_else(|| numeric(&t, i, today))
    });
    absolute.or_else(|| (0..t.len()).find_map(|i| relative(&t, i, today).map(iso)))
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A month name or its usual abbreviation.
fn month(w: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let w = if w == "sept" { "sep" } else { w };
    let at = MONTHS
        .iter()
        .position(|m| *m == w || (w.len() == 3 && m.starts_with(w)))?;
    u32::try_from(at + 1).ok()
}

fn word(t: &[String], i: usize) -> &str {
    t.get(i).map(String::as_str).unwrap_or("")
}

/// `March fourth, nineteen ninety`, `May 12 85`, `June 3rd`, `March 2025`.
fn month_first(t: &[String], i: usize, today: NaiveDate) -> Option<String> {
    let m = month(word(t, i))?;
    if let Some((y, _)) = year_at(t, i + 1, None) {
        return Some(format!("{y:04}-{m:02}"));
    }
    let j = i + 1 + usize::from(word(t, i + 1) == "the");
    let (d, n) = day_at(t, j)?;
    let year = year_at(t, j + n, Some(today))
        .map(|y| y.0)
        .or_else(|| year_before(t, i));
    finish(year, m, d, today)
}

/// A year said just before word `i` (`nineteen eighty five, May twelfth`).
fn year_before(t: &[String], i: usize) -> Option<i32> {
    (1..=4).find_map(|k| {
        let (y, n) = year_at(t, i.checked_sub(k)?, None)?;
        (n == k).then_some(y)
    })
}

/// `the twentieth of February, 1968`, `12th of May 1985`, `3 March`.
fn day_first(t: &[String], i: usize, today: NaiveDate) -> Option<String> {
    let j = i + usize::from(word(t, i) == "the");
    // Written or ordinal days only: `five May` is not said, `two weeks` is.
    let (d, n) = ordinal_at(t, j)
        .or_else(|| whole_at(t, j, 1, 31).filter(|_| word(t, j).starts_with(|c: char| c.is_ascii_digit())))?;
    if d > 31 {
        return None;
    }
    let k = j + n + usize::from(word(t, j + n) == "of");
    let m = month(word(t, k))?;
    finish(year_at(t, k + 1, Some(today)).map(|y| y.0), m, d, today)
}

/// A day of the month: an ordinal (`fourth`, `3rd`) or a whole number up to 31.
fn day_at(t: &[String], i: usize) -> Option<(u32, usize)> {
    ordinal_at(t, i)
        .filter(|(d, _)| (1..=31).contains(d))
        .or_else(|| whole_at(t, i, 1, 31))
}

/// The date itself when the year is known, else the next `m`/`d` on or after today.
fn finish(year: Option<i32>, m: u32, d: u32, today: NaiveDate) -> Option<String> {
    match year {
        Some(y) => NaiveDate::from_ymd_opt(y, m, d).map(iso),
        None => (0..8)
            .filter_map(|k| NaiveDate::from_ymd_opt(today.year() + k, m, d))
            .find(|c| *c >= today)
            .map(iso),
    }
}

/// A year at `i`: four digits, a spoken pair or a spoken number. Two-digit numerals are
/// years only when `today` is given (after a day, as in `May 12 85`).
fn year_at(t: &[String], i: usize, today: Option<NaiveDate>) -> Option<(i32, usize)> {
    let w = word(t, i);
    if w.chars().all(|c| c.is_ascii_digit()) && !w.is_empty() {
        let y: i32 = w.parse().ok()?;
        return match (w.len(), today) {
            (4, _) if (1800..=2199).contains(&y) => Some((y, 1)),
            (2, Some(today)) if !time_follows(t, i + 1) => Some((two_digit_year(y, today), 1)),
            _ => None,
        };
    }
    if let Some(n) = number_at(t, i).filter(|n| n.len >= 2 && (1800.0..=2199.0).contains(&n.value)) {
        let y = format!("{}", n.value).parse().ok()?;
        return Some((y, n.len));
    }
    let century = teen(w).filter(|c| *c >= 18).or_else(|| (w == "twenty").then_some(20));
    let Some(century) = century else {
        return today.and_then(|today| spoken_two_digit(t, i, today));
    };
    let c = i32::try_from(century).ok()?;
    if word(t, i + 1) == "oh"
        && let Some(u) = unit(word(t, i + 2))
    {
        return Some((c * 100 + i32::try_from(u).ok()?, 3));
    }
    let next = word(t, i + 1);
    let tail = teen(next).map(|v| (v, 1)).or_else(|| {
        let tn = tens(next)?;
        Some(match unit(word(t, i + 2)).filter(|u| *u > 0) {
            Some(u) => (tn + u, 2),
            None => (tn, 1),
        })
    });
    match tail {
        Some((v, n)) => Some((c * 100 + i32::try_from(v).ok()?, 1 + n)),
        // `twenty` alone after a date: the year `20`.
        None => today.and_then(|today| spoken_two_digit(t, i, today)),
    }
}

/// A spoken two-digit year after a month and day: `seventy nine`, `ninety`, `oh five`.
/// Teens (`ten`, `eleven`) are left out: after a date they are hours more often than years.
fn spoken_two_digit(t: &[String], i: usize, today: NaiveDate) -> Option<(i32, usize)> {
    let w = word(t, i);
    let (yy, n) = if matches!(w, "oh" | "o" | "zero") {
        (unit(word(t, i + 1))?, 2)
    } else {
        let tn = tens(w)?;
        match unit(word(t, i + 1)).filter(|u| *u > 0) {
            Some(u) => (tn + u, 2),
            None => (tn, 1),
        }
    };
    if time_follows(t, i + n) {
        return None;
    }
    Some((two_digit_year(i32::try_from(yy).ok()?, today), n))
}

/// Words after which a two-digit number is a time of day or a count, not a year.
const NOT_A_YEAR_BEFORE: &[&str] = &[
    "am", "pm", "o'clock", "oclock", "thirty", "fifteen", "forty", "oh", "past", "to", "till", "minutes", "years",
    "people", "dollars",
];

/// Whether the words at `i` make the number before them a time of day (`10 am`, `ten
/// thirty`, `twenty past four`, `five o'clock`, `ten in the morning`) or a count (`fifty
/// years`), not a year.
fn time_follows(t: &[String], i: usize) -> bool {
    let w = word(t, i);
    NOT_A_YEAR_BEFORE.contains(&w)
        || (matches!(w, "a" | "p") && word(t, i + 1) == "m")
        || (w == "in" && word(t, i + 1) == "the")
        || (w.len() == 2 && w.chars().all(|c| c.is_ascii_digit()))
}

/// A two-digit year: `20yy` when that is at most ten years after today's year, else `19yy`.
fn two_digit_year(yy: i32, today: NaiveDate) -> i32 {
    if 2000 + yy <= today.year() + 10 {
        2000 + yy
    } else {
        1900 + yy
    }
}

/// `05/12/1985`, `5/12/85`, `5-12-1985`, `2026-01-15`, `6/3`.
fn numeric(t: &[String], i: usize, today: NaiveDate) -> Option<String> {
    let mut parts: Vec<&str> = word(t, i).split('/').collect();
    if parts.len() == 1 && word(t, i + 1) == "-" && word(t, i + 3) == "-" {
        parts = vec![word(t, i), word(t, i + 2), word(t, i + 4)];
    }
    if !(2..=3).contains(&parts.len())
        || !parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let n: Vec<u32> = parts.iter().map(|p| p.parse().ok()).collect::<Option<_>>()?;
    if parts[0].len() == 4 {
        let y = i32::try_from(n[0]).ok()?;
        return finish(Some(y), *n.get(1)?, *n.get(2)?, today);
    }
    let year = match parts.get(2) {
        Some(p) if p.len() == 4 => Some(p.parse().ok()?),
        Some(p) if p.len() == 2 => Some(two_digit_year(p.parse().ok()?, today)),
        Some(_) => return None,
        None => None,
    };
    let (m, d) = if n[0] > 12 && n[1] <= 12 {
        (n[1], n[0])
    } else {
        (n[0], n[1])
    };
    finish(year, m, d, today)
}

fn weekday(w: &str) -> Option<Weekday> {
    let w = w.strip_suffix('s').unwrap_or(w);
    w.parse::<Weekday>().ok().filter(|_| w.len() > 3)
}

/// `today`, `tomorrow`, `the day after tomorrow`, `next Tuesday`, `in two weeks`, ...
fn relative(t: &[String], i: usize, today: NaiveDate) -> Option<NaiveDate> {
    let w = word(t, i);
    let prev = i.checked_sub(1).map_or("", |p| word(t, p));
    let after = |n: u64| today.checked_add_days(Days::new(n));
    let before = |n: u64| today.checked_sub_days(Days::new(n));
    match w {
        "today" | "tonight" => return Some(today),
        "tomorrow" if prev == "after" => return after(2),
        "tomorrow" => return after(1),
        "yesterday" if prev == "before" => return before(2),
        "yesterday" => return before(1),
        "week" if prev == "next" => return after(7),
        "the" => return day_of_month(t, i + 1, today),
        _ => {}
    }
    if let Some(wd) = weekday(w) {
        let ahead = (7 + wd.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
        return match prev {
            "last" | "past" => before(u64::from(7 - ahead)),
            "this" if ahead == 0 => Some(today),
            _ => after(u64::from(if ahead == 0 { 7 } else { ahead })),
        };
    }
    offset(t, i, today)
}

/// `the fourth`, `the 15th`: the next such day of the month, on or after today.
fn day_of_month(t: &[String], i: usize, today: NaiveDate) -> Option<NaiveDate> {
    let (d, _) = ordinal_at(t, i).filter(|(d, _)| (1..=31).contains(d))?;
    (0..3)
        .filter_map(|k| {
            let first = today.with_day(1)?.checked_add_months(chrono::Months::new(k))?;
            first.with_day(d)
        })
        .find(|c| *c >= today)
}

/// `in 3 days`, `two weeks from now`, `a week ago`.
fn offset(t: &[String], i: usize, today: NaiveDate) -> Option<NaiveDate> {
    let (count, n) = match word(t, i) {
        "a" | "an" => (1, 1),
        _ => whole_at(t, i, 1, 400)?,
    };
    let unit_days = match word(t, i + n).trim_end_matches('s') {
        "day" => 1,
        "week" => 7,
        _ => return None,
    };
    let days = Days::new(u64::from(count) * unit_days);
    let prev = i.checked_sub(1).map_or("", |p| word(t, p));
    let next = word(t, i + n + 1);
    if next == "ago" {
        today.checked_sub_days(days)
    } else if prev == "in" || matches!(next, "from" | "later") {
        today.checked_add_days(days)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Friday.
    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 2).unwrap()
    }

    fn d(s: &str) -> Option<String> {
        date(s, today())
    }

    #[test]
    fn absolute() {
        let cases = [
            ("March fourth, nineteen ninety", "1990-03-04"),
            ("05/12/1985", "1985-05-12"),
            ("12th of May 1985", "1985-05-12"),
            ("May 12 85", "1985-05-12"),
            ("july 1st 1972", "1972-07-01"),
            ("October 9 2001", "2001-10-09"),
            ("I was born on the twentieth of February, 1968", "1968-02-20"),
            ("January fifteenth, 2026", "2026-01-15"),
            ("June twenty first, two thousand five", "2005-06-21"),
            ("sept 3 twenty twenty four", "2024-09-03"),
            ("december 31st nineteen oh five", "1905-12-31"),
            ("2026-01-15", "2026-01-15"),
            ("25/12/2020", "2020-12-25"),
            ("5-12-1985", "1985-05-12"),
            ("the 3rd of march, two thousand and ten", "2010-03-03"),
            ("we separated in march 2025", "2025-03"),
            ("march nineteen ninety", "1990-03"),
            ("nineteen eighty five, May twelfth", "1985-05-12"),
            ("1985 May 12th", "1985-05-12"),
            // Two-digit years, written or spoken, pivoting at ten years after today.
            ("July fifteenth, seventy nine", "1979-07-15"),
            ("the fifteenth of July, seventy nine", "1979-07-15"),
            ("july fifteen seventy nine", "1979-07-15"),
            ("1/2/60", "1960-01-02"),
            ("5/3/85", "1985-05-03"),
            ("march 4 '90", "1990-03-04"),
            ("march 4th, oh five", "2005-03-04"),
            ("march 4th ninety", "1990-03-04"),
            ("May twentieth, twenty five", "2025-05-20"),
            ("6/1/36", "2036-06-01"),
            ("6/1/37", "1937-06-01"),
            ("june 3 '12", "2012-06-03"),
        ];
        for (said, want) in cases {
            assert_eq!(d(said).as_deref(), Some(want), "{said}");
        }
    }

    #[test]
    fn without_a_year() {
        assert_eq!(d("June 3rd").as_deref(), Some("2026-06-03"));
        assert_eq!(d("January 2nd").as_deref(), Some("2026-01-02"));
        assert_eq!(d("the first of January").as_deref(), Some("2027-01-01"));
        assert_eq!(d("12/25").as_deref(), Some("2026-12-25"));
        assert_eq!(d("february 29th").as_deref(), Some("2028-02-29"));
    }

    #[test]
    fn relative_to_today() {
        let cases = [
            ("tomorrow", "2026-01-03"),
            ("today please", "2026-01-02"),
            ("the day after tomorrow", "2026-01-04"),
            ("yesterday", "2026-01-01"),
            ("next Tuesday", "2026-01-06"),
            ("next tuesday if possible", "2026-01-06"),
            ("on friday", "2026-01-09"),
            ("this friday", "2026-01-02"),
            ("last monday", "2025-12-29"),
            ("in two weeks", "2026-01-16"),
            ("3 days ago", "2025-12-30"),
            ("a week from now", "2026-01-09"),
            ("next week", "2026-01-09"),
            ("Tuesday, March 5th", "2026-03-05"),
            ("on the 15th", "2026-01-15"),
            ("the first", "2026-02-01"),
            ("the second please", "2026-01-02"),
        ];
        for (said, want) in cases {
            assert_eq!(d(said).as_deref(), Some(want), "{said}");
        }
    }

    #[test]
    fn a_time_after_a_date_is_not_its_year() {
        assert_eq!(d("June 3rd 10 am").as_deref(), Some("2026-06-03"));
        assert_eq!(d("June third, twenty past four").as_deref(), Some("2026-06-03"));
        assert_eq!(d("june third seventy in the morning").as_deref(), Some("2026-06-03"));
        assert_eq!(d("March 5th at 10").as_deref(), Some("2026-03-05"));
        assert_eq!(d("March 5th ten thirty").as_deref(), Some("2026-03-05"));
        assert_eq!(d("March 5th, fifty years ago").as_deref(), Some("2026-03-05"));
        // Month and spoken number alone: a day, not a year.
        assert_eq!(d("May twenty").as_deref(), Some("2026-05-20"));
    }

    #[test]
    fn not_dates() {
        for said in [
            "it hasn't happened, I just want a will",
            "last year",
            "may I ask why",
            "in march",
            "February 30th 2020",
            "13/13/2020",
            "555-867-5309",
            "",
            "two weeks",
            "I don't remember",
            "five may be too late",
        ] {
            assert_eq!(d(said), None, "{said}");
        }
    }
}
