//! Parsing cookie strings (Set-Cookie header lines and `document.cookie` assignments).

use chrono::{DateTime, Utc};

/// The parts of a cookie write we keep (the value only as a hash).
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedCookie {
    pub name: String,
    pub value_hash: String,
    pub domain: Option<String>,
    pub path: Option<String>,
    /// Seconds the site asked the cookie to live; `None` = session cookie.
    pub requested_lifetime_secs: Option<i64>,
}

/// Parse one `name=value; Attr=...` line; `at` is when it was written (for `Expires`).
pub fn parse_cookie_line(line: &str, at: DateTime<Utc>) -> Option<ParsedCookie> {
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
    let mut domain = None;
    let mut path = None;
    for attr in parts {
        let (k, v) = match attr.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (attr.trim(), ""),
        };
        match k.to_ascii_lowercase().as_str() {
            "max-age" => max_age = v.parse::<i64>().ok(),
            "expires" => expires = parse_cookie_date(v),
            "domain" if !v.is_empty() => {
                domain = Some(v.trim_start_matches('.').to_ascii_lowercase())
            }
            "path" if !v.is_empty() => path = Some(v.to_string()),
            _ => {}
        }
    }
    let requested_lifetime_secs = match (max_age, expires) {
        (Some(m), _) => Some(m),
        // `Expires` has one-second precision (scripts build it with `toUTCString()`, which
        // truncates), so a lifetime derived from it is rounded to the nearest minute.
        (None, Some(e)) => {
            Some(((e - at).num_milliseconds() as f64 / 60_000.0).round() as i64 * 60)
        }
        (None, None) => None,
    };
    Some(ParsedCookie {
        name: name.to_string(),
        value_hash: crate::observe::hash_value(value),
        domain,
        path,
        requested_lifetime_secs,
    })
}

/// Cookie dates: RFC 1123 (`Wed, 21 Oct 2026 07:28:00 GMT`) and the Netscape
/// dash form (`Wed, 21-Oct-2026 07:28:00 GMT`).
pub fn parse_cookie_date(s: &str) -> Option<DateTime<Utc>> {
    let normalised = s.replace('-', " ");
    DateTime::parse_from_rfc2822(normalised.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
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
        assert!(parse_cookie_line("=novalue", at()).is_none());
        assert!(parse_cookie_line("", at()).is_none());
    }
}
