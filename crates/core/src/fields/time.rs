//! Times of day as 24-hour `HH:MM`: `3pm`, `10:30`, `10 30`, `seven thirty pm`, `half
//! past ten in the morning`, `quarter to five pm`, `twenty past four`, `noon`, `midnight`.
//!
//! `am`/`pm`, `in the morning`, `in the afternoon`, `in the evening`, `tonight` and `at
//! night` set the half of the day; without them the hour is taken as said. A bare hour
//! (`3`) counts only after a word like `at`, `after` or `around`, or as the whole answer's
//! start, and never before a unit (`in 3 weeks`, `20 minutes`), so other numbers in an
//! answer are not mistaken for times. Explicit times (with minutes, `am`/`pm`, a colon or
//! `o'clock`) win over bare hours.

use super::spoken::{teen, tens, tokens, unit, whole_at};

/// Words after which a bare number is an hour.
const LEADS: &[&str] = &[
    "at", "around", "after", "before", "by", "about", "until", "till", "from", "say", "like", "than",
];

/// Words after which a number is a count, not an hour.
const UNITS: &[&str] = &[
    "minute", "minutes", "hour", "hours", "day", "days", "week", "weeks", "month", "months", "year", "years", "people",
    "times", "dollars",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Half {
    Am,
    Pm,
}

/// A time read at some token: hour (as said), minute, and how sure it is.
#[derive(Debug, Clone, Copy)]
struct Found {
    hour: u32,
    minute: u32,
    /// Said with minutes, a colon, `o'clock` or a half of the day.
    explicit: bool,
}

/// The time in the answer as `HH:MM`, or `None`.
#[must_use]
pub fn time(s: &str) -> Option<String> {
    let t = tokens(s);
    let found: Vec<Found> = (0..t.len()).filter_map(|i| at(&t, i)).collect();
    let f = found.iter().find(|f| f.explicit).or(found.first())?;
    Some(format!("{:02}:{:02}", f.hour, f.minute))
}

fn word(t: &[String], i: usize) -> &str {
    t.get(i).map(String::as_str).unwrap_or("")
}

/// A time starting at token `i`.
fn at(t: &[String], i: usize) -> Option<Found> {
    match word(t, i) {
        "noon" | "midday" => return Some(fixed(12, 0)),
        "midnight" => return Some(fixed(0, 0)),
        _ => {}
    }
    relative_to_hour(t, i).or_else(|| clock(t, i))
}

fn fixed(hour: u32, minute: u32) -> Found {
    Found {
        hour,
        minute,
        explicit: true,
    }
}

/// `half past ten`, `quarter to five pm`, `twenty past four`, `ten minutes to six`.
fn relative_to_hour(t: &[String], i: usize) -> Option<Found> {
    let (mins, n) = match word(t, i) {
        "half" => (30, 1),
        "quarter" => (15, 1),
        "a" if word(t, i + 1) == "quarter" => (15, 2),
        w if unit(w).is_some() || teen(w).is_some() || tens(w).is_some() => whole_at(t, i, 1, 59)?,
        _ => return None,
    };
    let j = i + n + usize::from(matches!(word(t, i + n), "minute" | "minutes"));
    let before = match word(t, j) {
        "past" | "after" => false,
        "to" | "of" | "before" | "till" => true,
        _ => return None,
    };
    let (h, hn) = whole_at(t, j + 1, 1, 12)?;
    let h = with_half(h, half_after(t, j + 1 + hn))?;
    let total = h * 60 + if before { 24 * 60 - mins } else { mins };
    let total = total % (24 * 60);
    Some(fixed(total / 60, total % 60))
}

/// `3pm`, `10:30`, `10 30`, `seven thirty pm`, `five o'clock`, `at 3`.
fn clock(t: &[String], i: usize) -> Option<Found> {
    let w = word(t, i);
    let compact = (3..=4).contains(&w.len()) && w.chars().all(|c| c.is_ascii_digit());
    let (hour, minute, n) = if let Some((h, m)) = w.split_once(':') {
        let minute = m.parse().ok().filter(|v| *v < 60 && m.len() == 2)?;
        (h.parse().ok()?, minute, 1)
    } else if compact {
        // `930`, `1530`: only as a time with `am`/`pm` or after `at` (checked below).
        let (h, m) = w.split_at(w.len() - 2);
        (h.parse().ok()?, m.parse().ok()?, 1)
    } else {
        let (h, hn) = whole_at(t, i, 0, 24)?;
        match minutes_at(t, i + hn) {
            Some((m, mn)) => (h, m, hn + mn),
            None => (h, 0, hn),
        }
    };
    let end = i + n;
    let oclock = word(t, end) == "o'clock";
    let half = half_after(t, end + usize::from(oclock));
    let hour = with_half(hour, half)?;
    let prev = i.checked_sub(1).map_or("", |p| word(t, p));
    let explicit = n > 1 || w.contains(':') || oclock || half.is_some() || (compact && prev == "at");
    let counts = UNITS.contains(&word(t, end));
    let placed = explicit || (!compact && (LEADS.contains(&prev) || i == 0));
    (hour < 24 && minute < 60 && placed && !counts).then_some(Found { hour, minute, explicit })
}

/// Minutes after an hour: `30`, `05`, `thirty`, `forty five`, `oh five`.
fn minutes_at(t: &[String], i: usize) -> Option<(u32, usize)> {
    let w = word(t, i);
    if w.len() == 2 && w.chars().all(|c| c.is_ascii_digit()) {
        return w.parse().ok().filter(|m| *m < 60).map(|m| (m, 1));
    }
    if matches!(w, "oh" | "o")
        && let Some(u) = unit(word(t, i + 1))
    {
        return Some((u, 2));
    }
    if teen(w).is_some() || tens(w).is_some() {
        return whole_at(t, i, 10, 59);
    }
    None
}

/// The half of the day said at `i`, if any.
fn half_after(t: &[String], i: usize) -> Option<Half> {
    let phrase = [word(t, i), word(t, i + 1), word(t, i + 2)];
    match phrase {
        ["am", ..] | ["a", "m", ..] | ["in", "the", "morning"] | ["this", "morning", _] => Some(Half::Am),
        ["pm", ..]
        | ["p", "m", ..]
        | ["in", "the", "afternoon" | "evening"]
        | ["this", "afternoon" | "evening", _]
        | ["at", "night", _]
        | ["tonight", ..] => Some(Half::Pm),
        _ => None,
    }
}

/// The 24-hour hour; `None` when a half of the day is given with an hour past 12.
fn with_half(h: u32, half: Option<Half>) -> Option<u32> {
    match half {
        None => Some(h),
        Some(_) if h == 0 || h > 12 => None,
        Some(Half::Am) => Some(h % 12),
        Some(Half::Pm) => Some(h % 12 + 12),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let cases = [
            ("3pm", "15:00"),
            ("half past ten in the morning", "10:30"),
            ("quarter to five pm", "16:45"),
            ("noon", "12:00"),
            ("10 30", "10:30"),
            ("seven thirty pm", "19:30"),
            ("after 3 pm", "15:00"),
            ("3:45 p.m.", "15:45"),
            ("12 am", "00:00"),
            ("twelve thirty in the afternoon", "12:30"),
            ("five forty five", "05:45"),
            ("nine oh five tonight", "21:05"),
            ("twenty past four", "04:20"),
            ("a quarter past 8 in the evening", "20:15"),
            ("around 5 o'clock", "05:00"),
            ("at 14:30 please", "14:30"),
            ("midnight", "00:00"),
            ("in two weeks, say at 9am", "09:00"),
            ("at 2", "02:00"),
            ("11 a m", "11:00"),
            ("930 am", "09:30"),
            ("at 1530", "15:30"),
        ];
        for (said, want) in cases {
            assert_eq!(time(said).as_deref(), Some(want), "{said}");
        }
    }

    #[test]
    fn not_times() {
        for said in [
            "mornings",
            "anytime",
            "in 20 minutes",
            "two weeks",
            "",
            "I'm not sure",
            "13 pm",
            "25:00",
            "10:75",
            "whenever works for you",
            "in 2026",
            "930",
        ] {
            assert_eq!(time(said), None, "{said}");
        }
    }
}
