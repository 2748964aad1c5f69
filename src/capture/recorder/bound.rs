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
use crate::model::{RequestObs, SignalObs, SignalSource};

impl Recorder {
    /// `s` bounded ([`crate::model::clip::clip_page_string`] with the capture's hasher and
    /// the site's secrets, [`super::super::Capture::set_secrets`]); unchanged when short.
    pub(super) fn bound(&self, mut s: String) -> String {
        let secrets = &self.secrets;
        crate::model::clip::clip_page_string(&mut s, &self.hasher, &|t| secrets.redact(t));
        s
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
}
