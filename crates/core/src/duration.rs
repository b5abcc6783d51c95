//! Human durations in settings: `500ms`, `5s`, `15m`, `1h`, `2d`, and comma-separated
//! lists of them (`5m,15m,1h`, the webhook retry schedule).

use std::time::Duration;

use crate::ValidationError;

/// Parses one duration: a whole number followed by `ms`, `s`, `m`, `h` or `d`.
pub fn parse_duration(s: &str) -> Result<Duration, ValidationError> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let bad = || {
        ValidationError::new(
            "duration",
            format!(
                "`{s}` is not a duration; write a whole number and a unit: ms, s, m, h or d (for example `5s` or `15m`)"
            ),
        )
    };
    let n: u64 = num.parse().map_err(|_| bad())?;
    let secs = |k: u64| n.checked_mul(k).map(Duration::from_secs).ok_or_else(bad);
    match unit.trim() {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => secs(1),
        "m" => secs(60),
        "h" => secs(3600),
        "d" => secs(86_400),
        _ => Err(bad()),
    }
}

/// Parses a comma-separated, non-empty list of durations.
pub fn parse_duration_list(s: &str) -> Result<Vec<Duration>, ValidationError> {
    let list = s.split(',').map(parse_duration).collect::<Result<Vec<_>, _>>()?;
    if list.is_empty() {
        return Err(ValidationError::new(
            "duration",
            "the list is empty; write for example `5m,15m,1h`",
        ));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("2d").unwrap(), Duration::from_secs(172_800));
        for bad in ["", "5", "s", "5 weeks", "-1s", "1.5s", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lists() {
        let l = parse_duration_list("5m, 15m,1h").unwrap();
        assert_eq!(
            l,
            vec![
                Duration::from_secs(300),
                Duration::from_secs(900),
                Duration::from_secs(3600)
            ]
        );
        assert!(parse_duration_list("5m,,1h").is_err());
    }
}
