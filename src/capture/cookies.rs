//! Parsing cookie strings (Set-Cookie header lines and `document.cookie` assignments).
//!
//! Dates follow the browsers' algorithm (RFC 6265 section 5.1.1), not RFC 2822: the weekday
//! is ignored, two-digit years are mapped to 1970-2069, and any delimiter separates tokens.
//! Lifetimes are clamped to [`MAX_LIFETIME_SECS`] so an extreme `Max-Age` or `Expires`
//! can never overflow nor turn negative.

use crate::model::ValueHasher;
use chrono::{DateTime, NaiveDate, Utc};

/// The longest lifetime we record, in seconds (10 000 years). A `Max-Age` beyond it, or
/// made of more digits than fit an `i64` (browsers saturate such values too), is recorded
/// as this; a negative one as its negation. Any real retention rule is far below it, so
/// the clamp never changes a verdict.
pub const MAX_LIFETIME_SECS: i64 = 10_000 * 31_556_952;

/// The parts of a cookie write we keep (the value only as a hash).
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedCookie {
    pub name: String,
    pub value_hash: String,
    pub domain: Option<String>,
    pub path: Option<String>,
    /// Seconds the site asked the cookie to live; `None` = session cookie, or an
    /// `Expires` that could not be parsed (then `expiry_unparsed` is set).
    pub requested_lifetime_secs: Option<i64>,
    /// The raw `Expires` value when one was present, none parsed, and no `Max-Age` gave
    /// the lifetime instead.
    pub expiry_unparsed: Option<String>,
}

/// Parse one `name=value; Attr=...` line; `at` is when it was written (for `Expires`).
/// The value is kept only as its hash with `hasher` (the audited database's key).
pub fn parse_cookie_line(
    line: &str,
    at: DateTime<Utc>,
    hasher: &ValueHasher,
) -> Option<ParsedCookie> {
    let mut parts = line.split(';');
    let first = parts.next()?.trim();
    let (name, value) = match first.split_once('=') {
        Some((n, v)) => (n.trim(), v.trim()),
        // A bare token is a cookie with an empty name in browsers; treat it as the name.
        None => (first, ""),
    };
    if name.is_empty() {
        return None;
    }
    let mut max_age: Option<i64> = None;
    let mut expires: Option<DateTime<Utc>> = None;
    let mut expires_raw: Option<String> = None;
    let mut domain = None;
    let mut path = None;
    for attr in parts {
        let (k, v) = match attr.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (attr.trim(), ""),
        };
        match k.to_ascii_lowercase().as_str() {
            // RFC 6265 5.2.2: an invalid Max-Age is ignored; the last valid one wins.
            "max-age" => {
                if let Some(m) = parse_max_age(v) {
                    max_age = Some(m);
                }
            }
            // RFC 6265 5.2.1: an unparsable Expires is ignored; the last valid one wins.
            "expires" => match parse_cookie_date(v) {
                Some(e) => expires = Some(e),
                None => expires_raw = Some(v.to_string()),
            },
            "domain" if !v.is_empty() => {
                domain = Some(v.trim_start_matches('.').to_ascii_lowercase())
            }
            "path" if !v.is_empty() => path = Some(v.to_string()),
            _ => {}
        }
    }
    let (requested_lifetime_secs, expiry_unparsed) = match (max_age, expires) {
        (Some(m), _) => (Some(m), None),
        (None, Some(e)) => (Some(lifetime_until(e, at)), None),
        (None, None) => (None, expires_raw),
    };
    Some(ParsedCookie {
        name: name.to_string(),
        value_hash: hasher.hash(value),
        domain,
        path,
        requested_lifetime_secs,
        expiry_unparsed,
    })
}

/// `Max-Age` per RFC 6265 5.2.2: an optional `-` then digits, nothing else. Saturates at
/// ±[`MAX_LIFETIME_SECS`] (a value of any length is accepted, as browsers do).
pub fn parse_max_age(v: &str) -> Option<i64> {
    let (negative, digits) = match v.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, v),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut n: i64 = 0;
    for b in digits.bytes() {
        n = n
            .saturating_mul(10)
            .saturating_add(i64::from(b - b'0'))
            .min(MAX_LIFETIME_SECS);
    }
    Some(if negative { -n } else { n })
}

/// Seconds from `at` to `expires`, rounded to the nearest minute (`Expires` has one-second
/// precision and scripts build it with `toUTCString()`, which truncates), clamped to
/// ±[`MAX_LIFETIME_SECS`]. Monotone in `expires`.
pub fn lifetime_until(expires: DateTime<Utc>, at: DateTime<Utc>) -> i64 {
    let ms = expires.signed_duration_since(at).num_milliseconds();
    let minutes = ms.saturating_add(30_000).div_euclid(60_000);
    minutes
        .saturating_mul(60)
        .clamp(-MAX_LIFETIME_SECS, MAX_LIFETIME_SECS)
}

/// Seconds from `at` to a Cookie Store API `expires` (milliseconds since the epoch, as
/// `cookieStore.set` takes it), rounded and clamped like [`lifetime_until`]; `None` for a
/// value that is not a finite number (the browser refuses those).
pub fn lifetime_until_ms(expires_ms: f64, at: DateTime<Utc>) -> Option<i64> {
    if !expires_ms.is_finite() {
        return None;
    }
    let delta_ms = expires_ms - at.timestamp_millis() as f64;
    let secs = ((delta_ms + 30_000.0) / 60_000.0).floor() * 60.0;
    let max = MAX_LIFETIME_SECS as f64;
    Some(secs.clamp(-max, max) as i64)
}

/// A cookie date, parsed as browsers do (RFC 6265 section 5.1.1): the string is split into
/// tokens at delimiters; the first token that is a time (`h:m:s`), the first day of month,
/// the first month name and the first year are taken, in that priority, and everything
/// else (the weekday, `GMT`, `UTC`, ...) is ignored. Years 70-99 mean 19xx, 0-69 mean 20xx.
/// `None` when a part is missing or out of range, or the date does not exist.
pub fn parse_cookie_date(s: &str) -> Option<DateTime<Utc>> {
    let mut time: Option<(u32, u32, u32)> = None;
    let mut day: Option<u32> = None;
    let mut month: Option<u32> = None;
    let mut year: Option<i32> = None;
    for token in s.split(is_date_delimiter).filter(|t| !t.is_empty()) {
        if time.is_none() {
            if let Some(t) = parse_time(token) {
                time = Some(t);
                continue;
            }
        }
        if day.is_none() {
            if let Some(d) = leading_digits(token, 1, 2) {
                day = Some(d);
                continue;
            }
        }
        if month.is_none() {
            if let Some(m) = parse_month(token) {
                month = Some(m);
                continue;
            }
        }
        if year.is_none() {
            if let Some(y) = leading_digits(token, 2, 4) {
                year = i32::try_from(y).ok();
                continue;
            }
        }
    }
    let (hour, minute, second) = time?;
    let (day, month, mut year) = (day?, month?, year?);
    if (70..=99).contains(&year) {
        year += 1900;
    } else if (0..=69).contains(&year) {
        year += 2000;
    }
    if !(1..=31).contains(&day) || year < 1601 || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    Some(date.and_hms_opt(hour, minute, second)?.and_utc())
}

/// RFC 6265: `delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E`.
fn is_date_delimiter(c: char) -> bool {
    matches!(c, '\x09' | '\x20'..='\x2f' | '\x3b'..='\x40' | '\x5b'..='\x60' | '\x7b'..='\x7e')
}

/// `min..=max` digits at the start of `token`, followed by nothing or a non-digit.
fn leading_digits(token: &str, min: usize, max: usize) -> Option<u32> {
    let n = token.bytes().take_while(u8::is_ascii_digit).count();
    if n < min || n > max {
        return None;
    }
    token.get(..n)?.parse().ok()
}

/// `hms-time = time-field ":" time-field ":" time-field`, `time-field = 1*2DIGIT`, then
/// optionally a non-digit and anything.
fn parse_time(token: &str) -> Option<(u32, u32, u32)> {
    let mut fields = token.splitn(3, ':');
    let h = fields.next()?;
    let m = fields.next()?;
    let rest = fields.next()?;
    let whole = |f: &str| -> Option<u32> {
        if (1..=2).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()) {
            f.parse().ok()
        } else {
            None
        }
    };
    Some((whole(h)?, whole(m)?, leading_digits(rest, 1, 2)?))
}

fn parse_month(token: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let prefix = token.get(..3)?.to_ascii_lowercase();
    let i = MONTHS.iter().position(|m| *m == prefix)?;
    u32::try_from(i + 1).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    /// The parser with an unkeyed hasher (these tests read lifetimes, not hashes).
    fn parse_cookie_line(line: &str, at: DateTime<Utc>) -> Option<ParsedCookie> {
        super::parse_cookie_line(line, at, &ValueHasher::unkeyed())
    }

    #[test]
    fn the_value_is_hashed_with_the_hasher_given() {
        let key = ValueHasher::keyed(b"this database");
        let c = super::parse_cookie_line("sid=abc; Path=/", at(), &key).unwrap();
        assert_eq!(c.value_hash, key.hash("abc"));
        assert_ne!(c.value_hash, ValueHasher::unkeyed().hash("abc"));
    }

    /// A Cookie Store API `expires` (ms since the epoch) is a lifetime like `Expires`:
    /// rounded to the minute, clamped, monotone; a non-finite one is none.
    #[test]
    fn cookie_store_expires_is_a_clamped_lifetime() {
        let now = at();
        let ms = now.timestamp_millis() as f64;
        assert_eq!(lifetime_until_ms(ms + 3_600_000.0, now), Some(3600));
        assert_eq!(lifetime_until_ms(ms + 3_600_400.0, now), Some(3600));
        assert_eq!(lifetime_until_ms(ms - 86_400_000.0, now), Some(-86_400));
        assert_eq!(lifetime_until_ms(f64::MAX, now), Some(MAX_LIFETIME_SECS));
        assert_eq!(lifetime_until_ms(-f64::MAX, now), Some(-MAX_LIFETIME_SECS));
        assert_eq!(lifetime_until_ms(f64::NAN, now), None);
        assert_eq!(lifetime_until_ms(f64::INFINITY, now), None);
    }

    fn ymd(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, mi, s).unwrap()
    }

    #[test]
    fn max_age_wins_over_expires() {
        let c = parse_cookie_line(
            "fr=abc; Max-Age=7776000; Expires=Wed, 01 Jan 2036 00:00:00 GMT; Domain=.facebook.com; Path=/",
            at(),
        )
        .unwrap();
        assert_eq!(c.name, "fr");
        assert_eq!(c.requested_lifetime_secs, Some(7_776_000));
        assert_eq!(c.domain.as_deref(), Some("facebook.com"));
        assert_eq!(c.path.as_deref(), Some("/"));
        assert_ne!(c.value_hash, "abc");
        assert_eq!(c.expiry_unparsed, None);
    }

    #[test]
    fn expires_forms() {
        let c = parse_cookie_line(
            "_ga=GA1.1; expires=Sat, 02 Jan 2027 00:00:00 GMT; path=/",
            at(),
        )
        .unwrap();
        assert_eq!(c.requested_lifetime_secs, Some(366 * 86_400));
        let d = parse_cookie_line("x=1; expires=Fri, 02-Jan-2026 00:00:00 GMT", at()).unwrap();
        assert_eq!(d.requested_lifetime_secs, Some(86_400));
        // Two years minus the sub-second truncation of toUTCString() is still two years.
        let later = at() + chrono::Duration::milliseconds(700);
        let g = parse_cookie_line("_ga=1; expires=Sat, 01 Jan 2028 00:00:00 GMT", later).unwrap();
        assert_eq!(g.requested_lifetime_secs, Some(730 * 86_400));
        let s = parse_cookie_line("sid=1; HttpOnly; Secure", at()).unwrap();
        assert_eq!(s.requested_lifetime_secs, None);
        assert_eq!(s.expiry_unparsed, None);
        assert!(parse_cookie_line("=novalue", at()).is_none());
        assert!(parse_cookie_line("", at()).is_none());
    }

    #[test]
    fn dates_browsers_accept_and_rfc2822_rejects() {
        let want = ymd(2026, 10, 21, 7, 28, 0);
        for s in [
            "Wed, 21 Oct 2026 07:28:00 GMT",
            // Wrong weekday: chrono's RFC 2822 parser refuses it, browsers ignore it.
            "Mon, 21 Oct 2026 07:28:00 GMT",
            "Wed, 21-Oct-2026 07:28:00 GMT",
            "Wed, 21-Oct-26 07:28:00 GMT",
            "Wednesday, 21-Oct-26 07:28:00 UTC",
            "21 October 2026 07:28:00",
            "Wed Oct 21 07:28:00 2026",
            "Wed Oct 21 2026 07:28:00 GMT+0000 (Coordinated Universal Time)",
            "Wed, 21 OCT 2026 7:28:0 GMT",
            "2026 Oct 21 07:28:00",
        ] {
            assert_eq!(parse_cookie_date(s), Some(want), "{s}");
        }
        assert_eq!(
            parse_cookie_date("Thu, 01 Jan 70 00:00:01 GMT"),
            Some(ymd(1970, 1, 1, 0, 0, 1))
        );
        assert_eq!(
            parse_cookie_date("Sat, 01 Jan 69 00:00:00 GMT"),
            Some(ymd(2069, 1, 1, 0, 0, 0))
        );
        assert_eq!(
            parse_cookie_date("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(ymd(9999, 12, 31, 23, 59, 59))
        );
    }

    #[test]
    fn dates_browsers_reject() {
        for s in [
            "",
            "tomorrow",
            "Wed, 21 Oct 2026",              // no time
            "Wed, 21 2026 07:28:00 GMT",     // no month
            "Wed, Oct 2026 07:28:00 GMT",    // no day (2026 is not a day)
            "Wed, 31 Feb 2026 07:28:00 GMT", // does not exist
            "Wed, 32 Oct 2026 07:28:00 GMT",
            "Wed, 00 Oct 2026 07:28:00 GMT",
            "Wed, 21 Oct 2026 24:00:00 GMT",
            "Wed, 21 Oct 2026 07:60:00 GMT",
            "Wed, 21 Oct 1600 07:28:00 GMT",
            "Wed, 21 Oct 20266 07:28:00 GMT", // five-digit year
        ] {
            assert_eq!(parse_cookie_date(s), None, "{s:?}");
        }
    }

    #[test]
    fn unparsable_expires_is_kept_raw_not_a_session_cookie() {
        let c = parse_cookie_line("id=1; Expires=someday soon; Path=/", at()).unwrap();
        assert_eq!(c.requested_lifetime_secs, None);
        assert_eq!(c.expiry_unparsed.as_deref(), Some("someday soon"));
        // Max-Age gives the lifetime: nothing is unknown.
        let m = parse_cookie_line("id=1; Expires=someday; Max-Age=60", at()).unwrap();
        assert_eq!(m.requested_lifetime_secs, Some(60));
        assert_eq!(m.expiry_unparsed, None);
        // A valid Expires elsewhere wins over an invalid one.
        let v = parse_cookie_line(
            "id=1; Expires=garbage; Expires=Fri, 02 Jan 2026 00:00:00 GMT",
            at(),
        )
        .unwrap();
        assert_eq!(v.requested_lifetime_secs, Some(86_400));
        assert_eq!(v.expiry_unparsed, None);
        // The wrong weekday no longer turns a 1-year cookie into a session cookie.
        let w = parse_cookie_line("w=1; expires=Mon, 01 Jan 2027 00:00:00 GMT", at()).unwrap();
        assert_eq!(w.requested_lifetime_secs, Some(365 * 86_400));
    }

    #[test]
    fn max_age_syntax_and_saturation() {
        assert_eq!(parse_max_age("0"), Some(0));
        assert_eq!(parse_max_age("-1"), Some(-1));
        assert_eq!(parse_max_age("+5"), None);
        assert_eq!(parse_max_age("5s"), None);
        assert_eq!(parse_max_age(""), None);
        assert_eq!(parse_max_age("-"), None);
        assert_eq!(
            parse_max_age("9223372036854775807"),
            Some(MAX_LIFETIME_SECS)
        );
        assert_eq!(
            parse_max_age("99999999999999999999999999999999"),
            Some(MAX_LIFETIME_SECS)
        );
        assert_eq!(
            parse_max_age("-9223372036854775808"),
            Some(-MAX_LIFETIME_SECS)
        );
        let c = parse_cookie_line("big=1; Max-Age=9223372036854775807", at()).unwrap();
        assert_eq!(c.requested_lifetime_secs, Some(MAX_LIFETIME_SECS));
        // An invalid Max-Age is ignored: Expires then gives the lifetime.
        let e = parse_cookie_line(
            "e=1; Max-Age=abc; Expires=Fri, 02 Jan 2026 00:00:00 GMT",
            at(),
        )
        .unwrap();
        assert_eq!(e.requested_lifetime_secs, Some(86_400));
    }

    /// Extreme values over a deterministic sweep: never a panic, never negative for a
    /// future date, monotone in the value asked for.
    #[test]
    fn lifetimes_are_total_non_negative_and_monotone() {
        let mut max_ages: Vec<String> = vec![
            "0".into(),
            "1".into(),
            i64::MAX.to_string(),
            u64::MAX.to_string(),
            format!("{}0", i64::MAX),
            "9".repeat(400),
        ];
        let mut v: i64 = 1;
        while let Some(next) = v.checked_mul(3) {
            max_ages.push(v.to_string());
            max_ages.push(v.saturating_sub(1).to_string());
            v = next;
        }
        let mut values: Vec<(u128, i64)> = Vec::new();
        for m in &max_ages {
            let c = parse_cookie_line(&format!("a=1; Max-Age={m}"), at()).unwrap();
            let life = c.requested_lifetime_secs.unwrap();
            assert!((0..=MAX_LIFETIME_SECS).contains(&life), "{m}: {life}");
            let neg = parse_cookie_line(&format!("a=1; Max-Age=-{m}"), at()).unwrap();
            assert!(neg.requested_lifetime_secs.unwrap() <= 0, "-{m}");
            let exact: u128 = m.parse().unwrap_or(u128::MAX);
            values.push((exact, life));
        }
        values.sort();
        for w in values.windows(2) {
            assert!(w[0].1 <= w[1].1, "not monotone: {:?}", w);
        }

        // Expires from just after `at` to the last representable cookie date, written at
        // extreme instants too.
        let writers = [
            at(),
            ymd(1601, 1, 1, 0, 0, 0),
            ymd(9999, 12, 31, 23, 59, 59),
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
        ];
        let years = [1601, 1969, 1970, 2026, 2027, 2100, 5000, 9999];
        for w in writers {
            let mut last = i64::MIN;
            for y in years {
                let line = format!("a=1; Expires=Fri, 31 Dec {y} 23:59:59 GMT");
                let c = parse_cookie_line(&line, w).unwrap();
                let life = c.requested_lifetime_secs.unwrap();
                assert!(life.abs() <= MAX_LIFETIME_SECS, "{line} at {w}");
                assert!(life >= last, "not monotone at {w}: {line}");
                last = life;
                let future = w
                    .checked_add_signed(chrono::Duration::seconds(30))
                    .is_some_and(|soon| ymd(y, 12, 31, 23, 59, 59) > soon);
                if future {
                    assert!(life > 0, "{line} at {w}: {life}");
                }
            }
        }
    }
}
