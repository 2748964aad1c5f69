//! Page strings bounded as they enter capture (issue 25, item 5): a page decides how long
//! its URLs are, and a visit once held every whole URL (200 requests of 1.9 MB) until it
//! ended, in several copies (the request, its pending entry, the (id, URL) index, the
//! browser-wide interception's copy). A request URL longer than
//! [`crate::text::PAGE_STRING_MAX`] is clipped when its event arrives
//! ([`crate::model::clip::clip_page_string`]: its first bytes and the mark holding its
//! whole length and the keyed hash of its redacted whole), the same way everywhere, so the
//! copies still match. The consent signals a URL carries (TC strings, Consent Mode) are
//! decoded first, from the whole URL, and kept with the clipped URL as their source.

use super::Recorder;
use crate::model::http::{self, Header};
use crate::model::{RequestObs, SignalObs, SignalSource};

impl Recorder {
    /// `s` bounded ([`crate::model::clip::clip_page_string`] with the capture's hasher and
    /// the site's secrets, [`super::super::Capture::set_secrets`]); unchanged when short.
    pub(super) fn bound(&self, mut s: String) -> String {
        let secrets = &self.secrets;
        crate::model::clip::clip_page_string(&mut s, &self.hasher, &|t| secrets.redact(t));
        s
    }

    /// A DevTools header map as kept (issue 21 item 4): each line its own header (DevTools
    /// joins repeated headers with a newline), its value redacted
    /// ([`http::header_value`]: cookie values hashed, credentials stripped; then the
    /// site's secrets), name and value bounded ([`http::MAX_HEADER_NAME`],
    /// [`http::MAX_HEADER_VALUE`]: clipped with a mark), at most [`http::MAX_HEADERS`]
    /// kept; the second number is how many were left out.
    pub(super) fn headers_of(
        &self,
        map: &serde_json::Map<String, serde_json::Value>,
    ) -> (Vec<Header>, u32) {
        let secrets = &self.secrets;
        let redact = |t: &str| secrets.redact(t).into_owned();
        let mut kept = Vec::new();
        let mut dropped = 0u32;
        for (name, value) in map {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            for line in text.split('\n') {
                if kept.len() >= http::MAX_HEADERS {
                    dropped = dropped.saturating_add(1);
                    continue;
                }
                let mut n = redact(name);
                let mut v = redact(&http::header_value(name, line, &self.hasher));
                crate::model::clip::clip_to(
                    &mut n,
                    http::MAX_HEADER_NAME,
                    &self.hasher,
                    &crate::model::clip::as_is,
                );
                crate::model::clip::clip_to(
                    &mut v,
                    http::MAX_HEADER_VALUE,
                    &self.hasher,
                    &crate::model::clip::as_is,
                );
                kept.push((n, v));
            }
        }
        (kept, dropped)
    }

    /// The signals `req`'s whole URL carries, each naming `bounded` (the URL as it is
    /// kept) as its source, when the URL is too long to be kept whole; `None` for one kept
    /// whole, whose signals are decoded when the visit ends (out of the event loop's way).
    /// `req.url` is the whole URL.
    pub(super) fn signals_of(&self, req: &RequestObs, bounded: &str) -> Option<Vec<SignalObs>> {
        if req.url.len() <= crate::text::PAGE_STRING_MAX {
            return None;
        }
        let mut out = crate::signals::from_requests(std::slice::from_ref(req), &self.hasher);
        for s in &mut out {
            if let SignalSource::Request { url } = &mut s.source {
                if url.len() != bounded.len() || url != bounded {
                    *url = bounded.to_string();
                }
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Recorder;
    use crate::capture::cdp::Event;
    use crate::capture::events::CdpEvent;
    use crate::model::{SignalData, SignalSource, ValueHasher};
    use crate::secrets::Secrets;
    use crate::text::{split_clip_mark, PAGE_STRING_MAX};
    use serde_json::{json, Value};

    const TC: &str = "CQujIwAQujIwAEsAHBENDIFgAIEAAAKAAAYgAKAAAEAFAAACACEAAgAK.cCAAAEAAAAAA";

    fn feed(rec: &mut Recorder, session: Option<&str>, method: &str, params: Value) {
        let ev = Event {
            session_id: session.map(String::from),
            method: method.into(),
            params,
        };
        let typed = CdpEvent::parse(&ev).unwrap_or_else(|| panic!("{method} did not parse"));
        rec.handle(session, typed);
    }

    /// A request URL longer than 8 KiB is bounded as its events arrive: the request keeps
    /// its start and the mark (length and hash of the redacted whole, the secret in the
    /// kept part redacted), its response still finds it (status), the browser-wide
    /// interception's copy is the same request (merged, not added), and the TC string the
    /// URL carried beyond the cut is decoded from the whole URL, its source the bounded URL.
    #[test]
    fn long_urls_are_bounded_as_they_arrive_after_their_signals_are_decoded() {
        let key = ValueHasher::keyed(b"db");
        let mut rec = Recorder::new("s".into(), key.clone());
        rec.secrets = Secrets::new([("TOKEN".to_string(), "s3cr3t-value".to_string())]);
        rec.page = "https://www.shop.test/".into();
        let pad = "u".repeat(3 * PAGE_STRING_MAX);
        let url =
            format!("https://ads.test/p?token=s3cr3t-value&pad={pad}&gdpr=1&gdpr_consent={TC}");
        feed(
            &mut rec,
            None,
            "Fetch.requestPaused",
            json!({
            "requestId": "f1", "networkId": "7.1", "frameId": "F",
            "request": { "url": url, "method": "GET", "headers": {} } }),
        );
        feed(
            &mut rec,
            Some("S"),
            "Network.requestWillBeSent",
            json!({
            "requestId": "7.1", "loaderId": "L", "frameId": "F", "type": "Image",
            "request": { "url": url, "method": "GET", "headers": {} } }),
        );
        feed(
            &mut rec,
            Some("S"),
            "Network.responseReceived",
            json!({
            "requestId": "7.1", "response": { "url": url, "status": 204 } }),
        );
        let c = rec.take_captured();
        assert_eq!(
            c.requests.len(),
            1,
            "{:?}",
            c.requests.iter().map(|r| r.url.len()).collect::<Vec<_>>()
        );
        let r = &c.requests[0];
        assert!(r.url.len() <= PAGE_STRING_MAX, "{}", r.url.len());
        assert_eq!(r.status, Some(204));
        let (kept, mark) = split_clip_mark(&r.url).expect("a clip mark");
        assert!(
            kept.starts_with("https://ads.test/p?token=[secret:TOKEN]&pad=uuu"),
            "{kept:.60}"
        );
        let redacted = url.replace("s3cr3t-value", "[secret:TOKEN]");
        assert!(
            mark.contains(&format!("{} bytes", redacted.len())),
            "{mark}"
        );
        assert!(mark.contains(&key.hash(&redacted)), "{mark}");
        assert!(!r.url.contains("s3cr3t"));
        assert_eq!(c.signals.len(), 1, "{:?}", c.signals);
        let sig = &c.signals[0];
        assert_eq!(sig.source, SignalSource::Request { url: r.url.clone() });
        let SignalData::Tcf(tcf) = &sig.data else {
            panic!("{sig:?}")
        };
        assert!(
            tcf.decoded.is_some() && tcf.error.is_none(),
            "decoded from the whole URL: {tcf:?}"
        );
    }

    /// A request's headers as capture keeps them (issue 21 item 4): the wire request
    /// headers (`requestWillBeSentExtraInfo`) replace `requestWillBeSent`'s, the wire
    /// response headers (`responseReceivedExtraInfo`) replace `responseReceived`'s; cookie
    /// values are the keyed hashes, credentials stripped, the site's secret redacted,
    /// at most 64 headers kept (the rest counted), a long value clipped to 2 KiB with its
    /// mark; status text, MIME type, protocol and timing kept, `receive` measured up to
    /// `loadingFinished`.
    #[test]
    fn headers_are_kept_bounded_and_redacted() {
        use crate::model::http::{MAX_HEADERS, MAX_HEADER_VALUE, STRIPPED};
        let key = ValueHasher::keyed(b"db");
        let mut rec = Recorder::new("s".into(), key.clone());
        rec.secrets = Secrets::new([("TOKEN".to_string(), "s3cr3t-value".to_string())]);
        rec.page = "https://www.shop.test/".into();
        let url = "https://ads.test/p.js";
        feed(
            &mut rec,
            Some("S"),
            "Network.requestWillBeSent",
            json!({
            "requestId": "7.1", "loaderId": "L", "frameId": "F", "type": "Script",
            "request": { "url": url, "method": "GET", "headers": {
                "Accept": "*/*", "Authorization": "Bearer s3cr3t-value" } } }),
        );
        let mut wire = serde_json::Map::new();
        wire.insert("Cookie".into(), json!("sid=abc123; theme=dark"));
        wire.insert("Authorization".into(), json!("Bearer t0k3n-in-clear"));
        wire.insert("X-Echo".into(), json!("id=s3cr3t-value"));
        for i in 0..70 {
            wire.insert(format!("X-Pad-{i:02}"), json!("v"));
        }
        feed(
            &mut rec,
            Some("S"),
            "Network.requestWillBeSentExtraInfo",
            json!({ "requestId": "7.1", "headers": wire, "associatedCookies": [] }),
        );
        feed(
            &mut rec,
            Some("S"),
            "Network.responseReceived",
            json!({
            "requestId": "7.1", "hasExtraInfo": true, "response": {
                "url": url, "status": 200, "statusText": "OK", "mimeType": "text/javascript",
                "protocol": "http/1.1", "headers": { "Content-Type": "text/javascript" },
                "timing": { "requestTime": 100.0, "dnsStart": -1, "dnsEnd": -1,
                    "connectStart": 0.5, "connectEnd": 2.5, "sslStart": -1, "sslEnd": -1,
                    "sendStart": 3.0, "sendEnd": 3.5, "receiveHeadersEnd": 13.5 } } }),
        );
        feed(
            &mut rec,
            Some("S"),
            "Network.responseReceivedExtraInfo",
            json!({ "requestId": "7.1", "statusCode": 200, "headers": {
                "Set-Cookie": "uid=u5er-id; Path=/; HttpOnly\nother=v2",
                "X-Long": "L".repeat(5 * 1024),
                "Content-Type": "text/javascript" } }),
        );
        feed(
            &mut rec,
            Some("S"),
            "Network.loadingFinished",
            json!({ "requestId": "7.1", "timestamp": 100.0235, "encodedDataLength": 10 }),
        );
        let c = rec.take_captured();
        assert_eq!(c.requests.len(), 1);
        let h = c.requests[0].http.as_deref().expect("headers kept");
        let get = |list: &[(String, String)], name: &str| {
            list.iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no {name}"))
        };
        assert!(h.request_wire && h.response_wire);
        assert_eq!(h.request_headers.len(), MAX_HEADERS);
        assert_eq!(h.request_dropped, 73 - MAX_HEADERS as u32);
        assert_eq!(
            get(&h.request_headers, "Cookie"),
            format!(
                "sid=[hash {}]; theme=[hash {}]",
                key.hash("abc123"),
                key.hash("dark")
            )
        );
        assert_eq!(get(&h.request_headers, "Authorization"), STRIPPED);
        assert_eq!(get(&h.request_headers, "X-Echo"), "id=[secret:TOKEN]");
        let set: Vec<&String> = h
            .response_headers
            .iter()
            .filter(|(n, _)| n == "Set-Cookie")
            .map(|(_, v)| v)
            .collect();
        assert_eq!(
            set,
            [
                &format!("uid=[hash {}]; Path=/; HttpOnly", key.hash("u5er-id")),
                &format!("other=[hash {}]", key.hash("v2")),
            ]
        );
        let long = get(&h.response_headers, "X-Long");
        assert!(long.len() <= MAX_HEADER_VALUE, "{}", long.len());
        assert!(crate::text::split_clip_mark(&long).is_some(), "{long:.40}");
        assert_eq!(h.status_text.as_deref(), Some("OK"));
        assert_eq!(h.mime_type.as_deref(), Some("text/javascript"));
        assert_eq!(h.protocol.as_deref(), Some("http/1.1"));
        let t = h.timing.expect("timing");
        assert_eq!(
            (t.blocked, t.dns, t.connect, t.send, t.wait, t.receive),
            (0.5, -1.0, 2.0, 0.5, 10.0, 10.0)
        );
        // The cookie record of the same Set-Cookie line holds the same hash.
        let uid = c
            .cookie_writes
            .iter()
            .find(|w| w.name == "uid")
            .expect("uid");
        assert_eq!(uid.value_hash, key.hash("u5er-id"));
        let text = serde_json::to_string(&c.requests).expect("json");
        for clear in ["abc123", "t0k3n", "s3cr3t", "u5er-id", "dark\""] {
            assert!(!text.contains(clear), "{clear} kept in clear");
        }
    }
}
