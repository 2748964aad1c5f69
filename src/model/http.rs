//! What a request and its response said on the wire (issue 21 item 4, the HAR of a
//! visit): headers, status text, MIME type, protocol and DevTools' timing, as capture
//! recorded them. Nothing here is in clear that must not be: capture bounds every header
//! and redacts it before it is kept ([`header_value`]): cookie values hashed with the
//! database's key, credentials stripped, declared secrets replaced (the one door,
//! `Secrets::redact_visit`, covers these fields too, as it walks every string).
//!
//! Stored as one compact JSON column of the request (`requests.http`, schema 20);
//! requests stored before it have none.

use super::hash::ValueHasher;
use serde::{Deserialize, Serialize};

/// At most this many headers are kept per side (request, response) of one hop; the
/// number left out is kept ([`HttpExchange::request_dropped`]).
pub const MAX_HEADERS: usize = 64;
/// A header name longer than this many bytes is clipped.
pub const MAX_HEADER_NAME: usize = 256;
/// A header value longer than this many bytes is clipped (its first bytes and a clip
/// mark holding its whole length and keyed hash, as every page string).
pub const MAX_HEADER_VALUE: usize = 2 * 1024;

/// What replaces the value of a credential header (`Authorization`,
/// `Proxy-Authorization`): never stored, not even hashed.
pub const STRIPPED: &str = "[stripped]";

/// One header line: name and (redacted, bounded) value. Serialised as `[name, value]`.
pub type Header = (String, String);

/// One hop's request and response headers and what DevTools said about its response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpExchange {
    /// Request headers: the wire headers (`requestWillBeSentExtraInfo`, with `Cookie`)
    /// when DevTools sent them, else those of `requestWillBeSent`.
    #[serde(default, rename = "rq", skip_serializing_if = "Vec::is_empty")]
    pub request_headers: Vec<Header>,
    /// Request headers left out past [`MAX_HEADERS`].
    #[serde(default, rename = "rqx", skip_serializing_if = "is_zero")]
    pub request_dropped: u32,
    /// Were the request headers the wire headers (`requestWillBeSentExtraInfo`)?
    #[serde(default, rename = "rqw", skip_serializing_if = "is_false")]
    pub request_wire: bool,
    /// Response headers: the wire headers (`responseReceivedExtraInfo`, with
    /// `Set-Cookie`) when DevTools sent them, else those of `responseReceived`.
    #[serde(default, rename = "rs", skip_serializing_if = "Vec::is_empty")]
    pub response_headers: Vec<Header>,
    #[serde(default, rename = "rsx", skip_serializing_if = "is_zero")]
    pub response_dropped: u32,
    #[serde(default, rename = "rsw", skip_serializing_if = "is_false")]
    pub response_wire: bool,
    /// The status line's text (`OK`, `Not Found`; empty over HTTP/2).
    #[serde(default, rename = "st", skip_serializing_if = "Option::is_none")]
    pub status_text: Option<String>,
    #[serde(default, rename = "mt", skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// DevTools' protocol name: `http/1.1`, `h2`, `h3`, `data`, ...
    #[serde(default, rename = "pr", skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, rename = "tm", skip_serializing_if = "Option::is_none")]
    pub timing: Option<HttpTiming>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// HAR's timings of one hop, in milliseconds, from DevTools' `ResourceTiming`; -1 where
/// a phase did not apply or was not measured (a reused connection has no `dns`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HttpTiming {
    #[serde(rename = "b")]
    pub blocked: f64,
    #[serde(rename = "d")]
    pub dns: f64,
    #[serde(rename = "c")]
    pub connect: f64,
    #[serde(rename = "s")]
    pub ssl: f64,
    #[serde(rename = "se")]
    pub send: f64,
    #[serde(rename = "w")]
    pub wait: f64,
    /// From the response's headers to `loadingFinished`; -1 when it never came.
    #[serde(rename = "r")]
    pub receive: f64,
}

/// DevTools' `ResourceTiming` fields (ms after `requestTime`, -1 when absent).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DevtoolsTiming {
    pub request_time: f64,
    pub dns_start: f64,
    pub dns_end: f64,
    pub connect_start: f64,
    pub connect_end: f64,
    pub ssl_start: f64,
    pub ssl_end: f64,
    pub send_start: f64,
    pub send_end: f64,
    pub receive_headers_end: f64,
}

impl HttpTiming {
    /// HAR's phases from DevTools' timing, as DevTools' own HAR exporter derives them:
    /// blocked until the first of dns, connect or send; ssl inside connect (HAR counts
    /// it in both); wait from the end of sending to the headers. `receive` is -1 until
    /// `loadingFinished` says ([`HttpTiming::finished`]).
    pub fn from_devtools(t: &DevtoolsTiming) -> HttpTiming {
        let span = |a: f64, b: f64| {
            if a >= 0.0 && b >= a && b.is_finite() {
                round3(b - a)
            } else {
                -1.0
            }
        };
        let first = [t.dns_start, t.connect_start, t.send_start]
            .into_iter()
            .filter(|x| *x >= 0.0 && x.is_finite())
            .fold(f64::INFINITY, f64::min);
        let blocked = if first.is_finite() {
            round3(first)
        } else {
            -1.0
        };
        let send = span(t.send_start, t.send_end).max(0.0);
        let wait = span(t.send_end, t.receive_headers_end).max(0.0);
        HttpTiming {
            blocked,
            dns: span(t.dns_start, t.dns_end),
            connect: span(t.connect_start, t.connect_end),
            ssl: span(t.ssl_start, t.ssl_end),
            send,
            wait,
            receive: -1.0,
        }
    }

    /// The whole time of the hop (HAR's `entry.time`): the sum of the phases that
    /// applied, `ssl` not counted twice.
    pub fn total(&self) -> f64 {
        let phases = [
            self.blocked,
            self.dns,
            self.connect,
            self.send,
            self.wait,
            self.receive,
        ];
        round3(phases.into_iter().filter(|x| *x > 0.0).sum())
    }
}

/// Milliseconds to the microsecond, so the stored JSON stays short.
pub fn round3(x: f64) -> f64 {
    if x.is_finite() {
        (x * 1000.0).round() / 1000.0
    } else {
        -1.0
    }
}

/// How capture keeps one header's value (before bounding): `Cookie` as its pairs with
/// each value replaced by its keyed hash (`sid=[hash 0123456789abcdef]`), `Set-Cookie`
/// the same for its first pair (the attributes kept), `Authorization` and
/// `Proxy-Authorization` as [`STRIPPED`]; any other as it is.
pub fn header_value(name: &str, value: &str, hasher: &ValueHasher) -> String {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "authorization" | "proxy-authorization" => STRIPPED.to_string(),
        "cookie" => value
            .split(';')
            .map(|pair| hash_pair(pair.trim(), hasher))
            .collect::<Vec<_>>()
            .join("; "),
        "set-cookie" => {
            let (first, attrs) = match value.split_once(';') {
                Some((f, a)) => (f, Some(a)),
                None => (value, None),
            };
            let mut out = hash_pair(first.trim(), hasher);
            if let Some(a) = attrs {
                out.push(';');
                out.push_str(a);
            }
            out
        }
        _ => value.to_string(),
    }
}

/// The prefix of a hashed cookie value: `[hash ` then 16 hex digits and `]`.
pub const HASHED: &str = "[hash ";

/// `name=value` with the value replaced by its keyed hash (the same hash
/// `CookieWrite::value_hash` holds); a pair without `=` is a value with no name.
fn hash_pair(pair: &str, hasher: &ValueHasher) -> String {
    match pair.split_once('=') {
        Some((n, v)) => format!("{n}={HASHED}{}]", hasher.hash(v.trim())),
        None if pair.is_empty() => String::new(),
        None => format!("{HASHED}{}]", hasher.hash(pair)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_values_are_hashed_and_credentials_stripped() {
        let h = ValueHasher::keyed(b"db");
        let c = header_value("Cookie", "sid=abc123; theme=dark", &h);
        assert_eq!(
            c,
            format!(
                "sid=[hash {}]; theme=[hash {}]",
                h.hash("abc123"),
                h.hash("dark")
            )
        );
        let s = header_value("set-cookie", "sid=abc123; Path=/; HttpOnly", &h);
        assert_eq!(
            s,
            format!("sid=[hash {}]; Path=/; HttpOnly", h.hash("abc123"))
        );
        assert_eq!(header_value("Authorization", "Bearer t0k3n", &h), STRIPPED);
        assert_eq!(
            header_value("PROXY-AUTHORIZATION", "Basic eA==", &h),
            STRIPPED
        );
        assert_eq!(header_value("Accept", "*/*", &h), "*/*");
    }

    #[test]
    fn devtools_timing_becomes_har_phases() {
        let t = DevtoolsTiming {
            request_time: 100.0,
            dns_start: 1.0,
            dns_end: 3.5,
            connect_start: 3.5,
            connect_end: 10.0,
            ssl_start: 5.0,
            ssl_end: 10.0,
            send_start: 10.25,
            send_end: 10.5,
            receive_headers_end: 30.5,
        };
        let h = HttpTiming::from_devtools(&t);
        assert_eq!(
            (h.blocked, h.dns, h.connect, h.ssl, h.send, h.wait, h.receive),
            (1.0, 2.5, 6.5, 5.0, 0.25, 20.0, -1.0)
        );
        assert_eq!(h.total(), 30.25);
        // A reused connection: no dns, connect or ssl.
        let reused = DevtoolsTiming {
            dns_start: -1.0,
            dns_end: -1.0,
            connect_start: -1.0,
            connect_end: -1.0,
            ssl_start: -1.0,
            ssl_end: -1.0,
            send_start: 0.5,
            send_end: 0.75,
            receive_headers_end: 2.0,
            ..t
        };
        let h = HttpTiming::from_devtools(&reused);
        assert_eq!(
            (h.dns, h.connect, h.ssl, h.blocked),
            (-1.0, -1.0, -1.0, 0.5)
        );
    }
}
