//! The one duration grammar of scenario files and policies.
//!
//! Durations are parsed by `humantime`, which accepts what privacy teams write:
//! `700ms`, `5s`, `2m` (minutes), `12h`, `390d`, `2w`, `13months`, `2years`,
//! `"1 year 1 month"` (units may be separated from numbers and from each other by
//! spaces). `humantime` counts a month as 30.44 days (2,630,016 s) and a year as
//! 365.25 days (31,557,600 s).

use std::time::Duration;

/// The hint shown for an invalid duration.
pub const DURATION_HINT: &str = "write a number with a unit, as in \"700ms\", \"5s\", \"2m\" (minutes), \"12h\", \"390d\", \"13months\" or \"1 year 1 month\" (a month is 30.44 days, a year 365.25 days)";

/// Parse a duration (see the module docs). `None` when it is not one.
pub fn parse_duration(s: &str) -> Option<Duration> {
    humantime::parse_duration(s.trim()).ok()
}

/// A duration in whole seconds (sub-second parts are dropped), if it fits an `i64`.
pub fn parse_duration_secs(s: &str) -> Option<i64> {
    parse_duration(s).and_then(|d| i64::try_from(d.as_secs()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;

    #[test]
    fn old_forms_keep_working() {
        assert_eq!(parse_duration("700ms"), Some(Duration::from_millis(700)));
        assert_eq!(parse_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("390d"), Some(Duration::from_secs(390 * DAY)));
        assert_eq!(
            parse_duration(" 12h "),
            Some(Duration::from_secs(12 * 3600))
        );
    }

    #[test]
    fn what_privacy_teams_write() {
        let month = 2_630_016;
        let year = 31_557_600;
        assert_eq!(parse_duration_secs("13months"), Some(13 * month));
        assert_eq!(parse_duration_secs("13 months"), Some(13 * month));
        assert_eq!(parse_duration_secs("2years"), Some(2 * year));
        assert_eq!(parse_duration_secs("1 year 1 month"), Some(year + month));
        assert_eq!(parse_duration_secs("2w"), Some(14 * 86_400));
    }

    #[test]
    fn rejects_non_durations() {
        for s in [
            "5",
            "s",
            "",
            "12x",
            "-1s",
            "99999999999999999999999s",
            "session",
        ] {
            assert_eq!(parse_duration(s), None, "{s:?}");
        }
    }
}
