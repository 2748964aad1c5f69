//! HAR 1.2 of one visit (`consentry har RUN`, issue 21 item 4; docs/reports.md#har):
//! the visit's stored requests laid out as an HTTP Archive. Pure, like every reporter:
//! the caller reads the requests from the store ([`HarVisit`]); nothing here touches the
//! database, the network or the clock.
//!
//! What the archive holds is what was stored, already bounded and redacted by capture
//! (`model::http`): cookie values as keyed hashes, credential headers stripped, declared
//! secrets replaced. Bodies are never captured (`content.size` 0, `bodySize` -1).
//! consentry's own facts go in `_consentry` members (HAR's rule for custom fields: a
//! leading underscore), DevTools' in `_resourceType` and `_error`, which its importer reads.

use crate::model::http::{HttpExchange, HASHED};
use crate::model::RequestObs;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

/// One visit of a stored run, as the HAR lays it out.
#[derive(Debug, Clone, Copy)]
pub struct HarVisit<'a> {
    pub run: i64,
    pub site: &'a str,
    pub scenario: &'a str,
    /// Which visit of its scenario (1 to N, `audit --repeat N`).
    pub repetition: u32,
    pub started_at: DateTime<Utc>,
    /// The visit's requests, in the order they were stored.
    pub requests: &'a [RequestObs],
}

/// Said in `log.comment` of every archive.
pub const REDACTION_NOTE: &str = "recorded by consentry: cookie values are keyed hashes ([hash …], the same hashes as the run's cookie records), Authorization and Proxy-Authorization values are [stripped], declared secrets read [secret:NAME], headers over 2 KiB or past 64 per message are clipped or left out (counted in _consentry), bodies are never captured";

/// The HAR 1.2 archive of `visit`, `consentry` being this consentry's version.
pub fn har(visit: &HarVisit<'_>, consentry: &str) -> Value {
    let mut order: Vec<&RequestObs> = visit.requests.iter().collect();
    // HAR lists entries by start; the store keeps observation order (nearly the same).
    order.sort_by_key(|r| r.time);
    let mut pages: Vec<(&str, DateTime<Utc>)> = Vec::new();
    for r in &order {
        if !pages.iter().any(|(p, _)| *p == r.page) {
            pages.push((r.page.as_str(), r.time));
        }
    }
    let pageref = |page: &str| {
        pages
            .iter()
            .position(|(p, _)| *p == page)
            .map(|i| format!("page_{}", i + 1))
            .unwrap_or_default()
    };
    let entries: Vec<Value> = order.iter().map(|r| entry(r, &pageref(&r.page))).collect();
    let pages: Vec<Value> = pages
        .iter()
        .enumerate()
        .map(|(i, (url, at))| {
            json!({
                "startedDateTime": date(at),
                "id": format!("page_{}", i + 1),
                "title": url,
                "pageTimings": {"onContentLoad": -1, "onLoad": -1},
            })
        })
        .collect();
    let without = visit.requests.iter().filter(|r| r.http.is_none()).count();
    let mut comment = format!(
        "run {} of {}, scenario {}{}; {REDACTION_NOTE}",
        visit.run,
        visit.site,
        visit.scenario,
        match visit.repetition {
            1 => String::new(),
            n => format!(", repetition {n}"),
        }
    );
    if without > 0 {
        comment.push_str(&format!(
            ". {without} of {} request(s) have no headers, status text or timings: they were stored before consentry captured them (schema 20), or only the browser-wide interception saw them",
            visit.requests.len()
        ));
    }
    json!({
        "log": {
            "version": "1.2",
            "creator": {"name": "consentry", "version": consentry},
            "browser": {
                "name": "Chromium",
                "version": "",
                "comment": "driven by consentry through chromedriver; its version is not stored with the run"
            },
            "pages": pages,
            "entries": entries,
            "comment": comment,
            "_consentry": {
                "run": visit.run,
                "site": visit.site,
                "scenario": visit.scenario,
                "repetition": visit.repetition,
                "visit_started": date(&visit.started_at),
            },
        }
    })
}

/// RFC 3339 with milliseconds, as HAR and DevTools write dates.
fn date(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn entry(r: &RequestObs, pageref: &str) -> Value {
    let none = HttpExchange::default();
    let h = r.http.as_deref().unwrap_or(&none);
    let version = http_version(h.protocol.as_deref());
    let request_headers = headers(&h.request_headers);
    let response_headers = headers(&h.response_headers);
    let location = h
        .response_headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("location"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let timings = match &h.timing {
        Some(t) => json!({
            "blocked": t.blocked,
            "dns": t.dns,
            "connect": t.connect,
            "ssl": t.ssl,
            "send": t.send.max(0.0),
            "wait": t.wait.max(0.0),
            "receive": t.receive.max(0.0),
        }),
        None => json!({
            "blocked": -1, "dns": -1, "connect": -1, "ssl": -1,
            "send": 0, "wait": 0, "receive": 0,
            "comment": "not captured",
        }),
    };
    let time = h.timing.map(|t| t.total()).unwrap_or(0.0);
    let mut response = json!({
        "status": r.status.unwrap_or(0),
        "statusText": h.status_text.clone().unwrap_or_default(),
        "httpVersion": version,
        "cookies": response_cookies(&h.response_headers),
        "headers": response_headers,
        "content": {
            "size": 0,
            "mimeType": h.mime_type.clone().unwrap_or_else(|| "x-unknown".into()),
            "comment": "the body is not captured",
        },
        "redirectURL": location,
        "headersSize": -1,
        "bodySize": -1,
    });
    if let Some(e) = &r.error {
        response["_error"] = Value::String(e.clone());
    }
    let mut notes = Vec::new();
    if r.http.is_none() {
        notes.push("no headers or timings stored".to_string());
    }
    if h.request_dropped > 0 {
        notes.push(format!(
            "{} request header(s) left out (at most 64 kept)",
            h.request_dropped
        ));
    }
    if h.response_dropped > 0 {
        notes.push(format!(
            "{} response header(s) left out (at most 64 kept)",
            h.response_dropped
        ));
    }
    let mut extra = Map::new();
    extra.insert("phase".into(), r.state.phase().into());
    extra.insert("consent".into(), <&str>::from(r.state.consent).into());
    extra.insert("li_objected".into(), r.state.li_objected.into());
    extra.insert("target".into(), <&str>::from(r.target).into());
    if uri(&r.url) != r.url {
        // What was stored, before the escapes a URI needs.
        extra.insert("url".into(), r.url.as_str().into());
    }
    if let Some(i) = &r.initiator {
        extra.insert("initiator".into(), i.as_str().into());
    }
    if r.cancelled {
        extra.insert("cancelled".into(), true.into());
    }
    if let Some(f) = r.frames {
        extra.insert(
            "websocket_frames".into(),
            json!({"sent": f.sent, "received": f.received}),
        );
    }
    extra.insert(
        "headers".into(),
        match (r.http.is_some(), h.request_wire, h.response_wire) {
            (false, _, _) => "not captured",
            (true, true, true) => "as sent and received",
            (true, true, false) => "request as sent; response as DevTools parsed it",
            (true, false, true) => "request as DevTools reported it; response as received",
            (true, false, false) => "as DevTools reported them (no Cookie or Set-Cookie lines)",
        }
        .into(),
    );
    if !notes.is_empty() {
        extra.insert("notes".into(), notes.into());
    }
    let mut e = json!({
        "pageref": pageref,
        "startedDateTime": date(&r.time),
        "time": time,
        "request": {
            "method": r.method,
            "url": uri(&r.url),
            "httpVersion": version,
            "cookies": request_cookies(&h.request_headers),
            "headers": request_headers,
            "queryString": query_string(&r.url),
            "headersSize": -1,
            "bodySize": -1,
        },
        "response": response,
        "cache": {},
        "timings": timings,
        "_resourceType": r.resource_type.to_ascii_lowercase(),
    });
    e["_consentry"] = Value::Object(extra);
    e
}

/// `url` as an RFC 3986 URI, which HAR's `request.url` is: what a stored URL may hold
/// that a URI may not (the `[secret:NAME]` of a redaction, a clip mark's `…` and
/// spaces, a second `#`, a `%` not starting an escape, any byte outside ASCII) is
/// percent-encoded after the authority; the rest is left as it is.
pub fn uri(url: &str) -> String {
    let start = url
        .find("://")
        .map(|i| i + 3)
        .and_then(|a| url[a..].find(['/', '?', '#']).map(|i| a + i))
        .unwrap_or(url.len());
    let (head, rest) = url.split_at(start);
    let mut out = String::with_capacity(url.len() + 16);
    out.push_str(head);
    let bytes = rest.as_bytes();
    let mut fragment = false;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = b == b'%'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        let keep = b.is_ascii_alphanumeric()
            || b"-._~!$&'()*+,;=:@/?".contains(&b)
            || escape
            || (b == b'#' && !fragment);
        fragment |= b == b'#';
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// HAR's `httpVersion` from DevTools' protocol name (`h2` is `HTTP/2`); empty when
/// unknown.
fn http_version(protocol: Option<&str>) -> String {
    match protocol.map(str::to_ascii_lowercase).as_deref() {
        None | Some("") => String::new(),
        Some("h2") => "HTTP/2".into(),
        Some("h3") => "HTTP/3".into(),
        Some(p) if p.starts_with("http/") => p.to_ascii_uppercase(),
        Some(p) => p.to_string(),
    }
}

fn headers(list: &[(String, String)]) -> Vec<Value> {
    list.iter()
        .map(|(n, v)| json!({"name": n, "value": v}))
        .collect()
}

/// The cookies of the `Cookie` request headers: each pair, its value the hash capture
/// kept.
fn request_cookies(list: &[(String, String)]) -> Vec<Value> {
    list.iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| v.split(';'))
        .filter_map(|pair| {
            let pair = pair.trim();
            let (name, value) = pair.split_once('=').unwrap_or(("", pair));
            (!pair.is_empty()).then(|| json!({"name": name.trim(), "value": value.trim()}))
        })
        .collect()
}

/// The cookies of the `Set-Cookie` response headers: name, hashed value and the
/// attributes HAR names.
fn response_cookies(list: &[(String, String)]) -> Vec<Value> {
    list.iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, line)| {
            let mut parts = line.split(';');
            let first = parts.next()?.trim();
            let (name, value) = first.split_once('=').unwrap_or(("", first));
            let mut c = json!({"name": name.trim(), "value": value.trim()});
            for attr in parts {
                let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
                match k.trim().to_ascii_lowercase().as_str() {
                    "path" => c["path"] = v.trim().into(),
                    "domain" => c["domain"] = v.trim().into(),
                    "httponly" => c["httpOnly"] = true.into(),
                    "secure" => c["secure"] = true.into(),
                    _ => {}
                }
            }
            Some(c)
        })
        .collect()
}

/// The query parameters of `url`, decoded; none when it does not parse (a clipped URL).
fn query_string(url: &str) -> Vec<Value> {
    match url::Url::parse(url) {
        Ok(u) => u
            .query_pairs()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Does `text` hold a cookie value as capture keeps it (a keyed hash)?
pub fn is_hashed_cookie_value(text: &str) -> bool {
    text.starts_with(HASHED) && text.ends_with(']')
}

#[cfg(test)]
mod tests;
