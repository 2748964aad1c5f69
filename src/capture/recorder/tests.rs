//! Recorder tests: recorded DevTools transcripts (tests/fixtures/cdp/) and synthetic
//! event sequences replayed into the state machine, no browser.
use super::*;
use crate::capture::cdp::Event;
use serde_json::json;

/// The page hook's secret in these tests.
const SECRET: &str = "test-secret";

/// Replays a transcript from `tests/fixtures/cdp/`; returns the recorder and every
/// command it asked for.
fn replay(name: &str) -> (Recorder, Vec<Command>) {
    let path = format!("{}/tests/fixtures/cdp/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut rec = Recorder::new(SECRET.to_string(), ValueHasher::unkeyed());
    rec.page = "https://www.demo-shop.test/lab/".into();
    let mut commands = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap();
        let ev = Event {
            session_id: v["sessionId"].as_str().map(String::from),
            method: v["method"].as_str().unwrap().to_string(),
            params: v["params"].clone(),
        };
        if let Some(typed) = CdpEvent::parse(&ev) {
            commands.extend(rec.handle(ev.session_id.as_deref(), typed));
        }
    }
    (rec, commands)
}

fn event(session: Option<&str>, method: &str, params: Value) -> (Option<String>, CdpEvent) {
    let ev = Event {
        session_id: session.map(String::from),
        method: method.into(),
        params,
    };
    (ev.session_id.clone(), CdpEvent::parse(&ev).unwrap())
}

#[test]
fn navigation_cancels_the_requests_it_cut_off() {
    let (mut rec, commands) = replay("click_then_navigate.jsonl");
    assert_eq!(rec.pending(), Vec::<String>::new());
    // Paused requests are let go by the DevTools client as they arrive (cdp.rs), never
    // by the recorder; the page target is instrumented.
    assert!(!commands.iter().any(|c| matches!(
        c,
        Command::Fire {
            method: "Fetch.continueRequest",
            ..
        }
    )));
    assert!(commands.iter().any(|c| matches!(
        c,
        Command::Instrument {
            kind: TargetKind::Page,
            ..
        }
    )));
    let got = rec.take_captured();
    let mut cancelled: Vec<&str> = got
        .requests
        .iter()
        .filter(|r| r.cancelled)
        .map(|r| r.url.as_str())
        .collect();
    cancelled.sort();
    assert_eq!(
        cancelled,
        [
            "https://static.hotjar.com/lab/slow.js?delay=6000&n=1",
            "https://static.hotjar.com/lab/slow.js?delay=6000&n=2",
            "https://static.hotjar.com/lab/slow.js?delay=6000&n=3",
            "https://www.facebook.com/lab/slow.gif?delay=6000",
        ]
    );
    for r in got.requests.iter().filter(|r| r.cancelled) {
        assert_eq!(r.status, None, "{r:?}");
        assert_eq!(r.target, TargetKind::Page);
    }
    // Nothing else was cancelled, and each request is there once.
    assert_eq!(got.requests.len(), 10, "{:#?}", got.requests);
    assert_eq!(got.requests.iter().filter(|r| r.cancelled).count(), 4);
    let docs: Vec<(&str, Option<u16>, Option<&str>)> = got
        .documents
        .iter()
        .map(|d| (d.url.as_str(), d.status, d.error.as_deref()))
        .collect();
    assert_eq!(
        docs,
        [
            ("https://www.demo-shop.test/lab/abort", Some(200), None),
            ("https://www.demo-shop.test/lab/next", Some(200), None),
            ("https://www.demo-shop.test/lab/next", Some(200), None),
        ]
    );
}

#[test]
fn a_late_response_undoes_the_cancellation() {
    let mut rec = Recorder::new(SECRET.to_string(), ValueHasher::unkeyed());
    let s = Some("S");
    for (sid, ev) in [
        event(
            None,
            "Target.attachedToTarget",
            json!({"sessionId": "S", "targetInfo": {"targetId": "T", "type": "page"}}),
        ),
        event(
            s,
            "Network.requestWillBeSent",
            json!({"requestId": "1", "loaderId": "L1", "frameId": "T", "type": "Fetch",
                   "request": {"url": "https://a.test/x"}}),
        ),
        event(
            s,
            "Page.frameNavigated",
            json!({"frame": {"id": "T", "loaderId": "L2", "url": "https://a.test/"}}),
        ),
    ] {
        rec.handle(sid.as_deref(), ev);
    }
    assert!(rec.pending().is_empty());
    let (sid, ev) = event(
        s,
        "Network.responseReceived",
        json!({"requestId": "1", "response": {"url": "https://a.test/x", "status": 204}}),
    );
    rec.handle(sid.as_deref(), ev);
    let got = rec.take_captured();
    assert_eq!(got.requests.len(), 1);
    assert!(!got.requests[0].cancelled);
    assert_eq!(got.requests[0].status, Some(204));
}

#[test]
fn detached_targets_and_frames_stop_pending() {
    let mut rec = Recorder::new(SECRET.to_string(), ValueHasher::unkeyed());
    let events = [
        event(
            None,
            "Target.attachedToTarget",
            json!({"sessionId": "W", "targetInfo": {"targetId": "WT", "type": "worker"}}),
        ),
        event(
            Some("W"),
            "Network.requestWillBeSent",
            json!({"requestId": "w1", "request": {"url": "https://v.test/w"}}),
        ),
        event(
            None,
            "Target.attachedToTarget",
            json!({"sessionId": "P", "targetInfo": {"targetId": "PT", "type": "page"}}),
        ),
        event(
            Some("P"),
            "Network.requestWillBeSent",
            json!({"requestId": "f1", "frameId": "child", "loaderId": "CL",
                   "request": {"url": "https://v.test/frame-img"}}),
        ),
        event(
            Some("P"),
            "Network.requestWillBeSent",
            json!({"requestId": "p1", "frameId": "PT", "loaderId": "PL",
                   "request": {"url": "https://v.test/main-img"}}),
        ),
    ];
    for (sid, ev) in events {
        rec.handle(sid.as_deref(), ev);
    }
    assert_eq!(rec.pending().len(), 3);
    let (sid, ev) = event(None, "Target.detachedFromTarget", json!({"sessionId": "W"}));
    rec.handle(sid.as_deref(), ev);
    let (sid, ev) = event(Some("P"), "Page.frameDetached", json!({"frameId": "child"}));
    rec.handle(sid.as_deref(), ev);
    assert_eq!(rec.pending(), ["https://v.test/main-img"]);
    let (sid, ev) = event(
        Some("P"),
        "Network.loadingFailed",
        json!({"requestId": "p1", "errorText": "net::ERR_ABORTED", "canceled": true}),
    );
    rec.handle(sid.as_deref(), ev);
    assert!(rec.pending().is_empty());
    let got = rec.take_captured();
    assert!(
        got.requests.iter().all(|r| r.cancelled),
        "{:#?}",
        got.requests
    );
    let main = got
        .requests
        .iter()
        .find(|r| r.url.ends_with("main-img"))
        .unwrap();
    assert_eq!(main.error.as_deref(), Some("net::ERR_ABORTED"));
}

fn header_cookies(got: &Captured) -> Vec<(&str, &str, Vec<String>, Option<i64>)> {
    got.cookie_writes
        .iter()
        .filter_map(|c| match &c.source {
            CookieSource::Header { request_url } => Some((
                c.name.as_str(),
                request_url.as_str(),
                c.blocked_reasons.clone(),
                c.requested_lifetime_secs,
            )),
            CookieSource::Script { .. } => None,
        })
        .collect()
}

#[test]
fn set_cookie_resolves_to_the_redirect_hop_that_sent_it() {
    let (mut rec, _) = replay("redirect_cookie_middle_hop.jsonl");
    assert!(rec.pending().is_empty());
    let got = rec.take_captured();
    assert_eq!(
        header_cookies(&got),
        [(
            "lab_hop",
            "https://www.facebook.com/lab/r2",
            Vec::new(),
            Some(3600)
        )]
    );
    assert_eq!(got.cookie_writes[0].domain, "www.facebook.com");
    // Three hops of one request id, each with its own status.
    let hops: Vec<(&str, Option<u16>)> = got
        .requests
        .iter()
        .filter(|r| r.url.contains("facebook.com/lab/r"))
        .map(|r| (r.url.as_str(), r.status))
        .collect();
    assert_eq!(
        hops,
        [
            ("https://www.facebook.com/lab/r1", Some(302)),
            ("https://www.facebook.com/lab/r2", Some(302)),
            ("https://www.facebook.com/lab/r3", Some(200)),
        ]
    );
}

#[test]
fn blocked_third_party_cookie_keeps_its_reason() {
    let (mut rec, _) = replay("redirect_blocked_cookie.jsonl");
    let got = rec.take_captured();
    assert_eq!(
        header_cookies(&got),
        [(
            "lab_hop",
            "https://www.facebook.com/lab/r2",
            vec!["UserPreferences".to_string()],
            Some(3600)
        )]
    );
}

#[test]
fn fetch_only_unload_beacon_is_kept() {
    let (mut rec, _) = replay("unload_beacon.jsonl");
    assert!(rec.pending().is_empty());
    let got = rec.take_captured();
    let beacons: Vec<&RequestObs> = got
        .requests
        .iter()
        .filter(|r| r.url.contains("scorecardresearch"))
        .collect();
    assert_eq!(beacons.len(), 1, "{:#?}", got.requests);
    let b = beacons[0];
    assert_eq!(b.url, "https://sb.scorecardresearch.com/b?ev=lab-leave");
    assert_eq!(b.method, "POST");
    assert_eq!(b.resource_type, "Ping");
    assert_eq!(b.target, TargetKind::Browser);
    assert!(!b.cancelled);
    // Requests seen by both channels are not counted twice.
    let docs = got
        .requests
        .iter()
        .filter(|r| r.resource_type == "Document")
        .count();
    assert_eq!(docs, 3);
}

#[test]
fn uncaught_exceptions_become_page_errors() {
    let (mut rec, _) = replay("page_error.jsonl");
    let got = rec.take_captured();
    assert_eq!(got.page_errors.len(), 1);
    let e = &got.page_errors[0];
    assert!(
        e.message.starts_with("TypeError: lab: cmp failed to start"),
        "{e:?}"
    );
    assert_eq!(
        e.source.as_deref(),
        Some("https://www.demo-shop.test/lab/throw.js")
    );
    assert_eq!(e.page, "https://www.demo-shop.test/lab/");
    assert_eq!(got.page_errors_dropped, 0);
}

#[test]
fn page_errors_are_bounded_and_counted() {
    let mut rec = Recorder::new(SECRET.to_string(), ValueHasher::unkeyed());
    for i in 0..(MAX_PAGE_ERRORS + 5) {
        let (sid, ev) = event(
            Some("S"),
            "Runtime.exceptionThrown",
            json!({"timestamp": 1.0e12 + i as f64,
                   "exceptionDetails": {"text": format!("Uncaught {i}")}}),
        );
        rec.handle(sid.as_deref(), ev);
    }
    let got = rec.take_captured();
    assert_eq!(got.page_errors.len(), MAX_PAGE_ERRORS);
    assert_eq!(got.page_errors_dropped, 5);
    assert_eq!(got.page_errors[0].message, "Uncaught 0");
}

#[test]
fn redirect_loop_is_a_failed_document_not_a_success() {
    let (mut rec, _) = replay("redirect_loop.jsonl");
    assert!(rec.pending().is_empty());
    let last = rec.last_document().unwrap();
    assert_eq!(last.url, "https://www.demo-shop.test/lab/loop");
    assert_eq!(last.status, None);
    assert_eq!(last.error.as_deref(), Some("net::ERR_TOO_MANY_REDIRECTS"));
    let got = rec.take_captured();
    let outcomes: Vec<(&str, Option<u16>, Option<&str>)> = got
        .documents
        .iter()
        .map(|d| (d.url.as_str(), d.status, d.error.as_deref()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("https://www.demo-shop.test/lab/abort", Some(200), None),
            (
                "https://www.demo-shop.test/lab/loop",
                None,
                Some("net::ERR_TOO_MANY_REDIRECTS")
            ),
            (
                "https://www.demo-shop.test/lab/loop",
                None,
                Some("net::ERR_TOO_MANY_REDIRECTS")
            ),
        ]
    );
}

#[test]
fn chrome_error_page_without_a_network_error_is_a_failure() {
    let mut rec = Recorder::new(SECRET.to_string(), ValueHasher::unkeyed());
    for (sid, ev) in [
        event(
            None,
            "Target.attachedToTarget",
            json!({"sessionId": "S", "targetInfo": {"targetId": "T", "type": "page"}}),
        ),
        event(
            Some("S"),
            "Page.frameNavigated",
            json!({"frame": {"id": "T", "loaderId": "L", "url": "chrome-error://chromewebdata/",
                             "unreachableUrl": "https://down.test/"}}),
        ),
    ] {
        rec.handle(sid.as_deref(), ev);
    }
    let d = rec.last_document().unwrap();
    assert_eq!(d.url, "https://down.test/");
    assert!(d.error.unwrap().contains("chrome-error://"));
}

/// An internal redirect (e.g. HSTS, 307) never reaches the network and gets no
/// extra-info event: the cookie of the next extra-info belongs to the hop after it.
#[test]
fn hops_without_extra_info_are_skipped_when_resolving_set_cookie() {
    let mut rec = Recorder::new(SECRET.to_string(), ValueHasher::unkeyed());
    let s = Some("S");
    for (sid, ev) in [
        event(
            None,
            "Target.attachedToTarget",
            json!({"sessionId": "S", "targetInfo": {"targetId": "T", "type": "page"}}),
        ),
        event(
            s,
            "Network.requestWillBeSent",
            json!({"requestId": "9", "frameId": "T", "type": "Image",
                   "request": {"url": "http://v.test/a"}}),
        ),
        event(
            s,
            "Network.requestWillBeSent",
            json!({"requestId": "9", "frameId": "T", "type": "Image",
                   "request": {"url": "https://v.test/a"},
                   "redirectResponse": {"url": "http://v.test/a", "status": 307},
                   "redirectHasExtraInfo": false}),
        ),
        event(
            s,
            "Network.responseReceivedExtraInfo",
            json!({"requestId": "9", "statusCode": 200,
                   "headers": {"Set-Cookie": "a=1; Max-Age=10\nb=2"}}),
        ),
        event(
            s,
            "Network.responseReceived",
            json!({"requestId": "9", "hasExtraInfo": true,
                   "response": {"url": "https://v.test/a", "status": 200}}),
        ),
        // The same request reported again by another session is not a second request.
        event(
            Some("other"),
            "Network.requestWillBeSent",
            json!({"requestId": "9", "request": {"url": "https://v.test/a"}}),
        ),
    ] {
        rec.handle(sid.as_deref(), ev);
    }
    let got = rec.take_captured();
    assert_eq!(got.requests.len(), 2);
    let cookies: Vec<(&str, &str)> = got
        .cookie_writes
        .iter()
        .map(|c| match &c.source {
            CookieSource::Header { request_url } => (c.name.as_str(), request_url.as_str()),
            CookieSource::Script { .. } => panic!("{c:?}"),
        })
        .collect();
    assert_eq!(
        cookies,
        [("a", "https://v.test/a"), ("b", "https://v.test/a")]
    );
}

/// The hook's reports carry the capture's secret; a call of the binding without it (a page
/// that took a fresh iframe's binding) is counted as forged and records nothing. The
/// document of a cookie write is its frame's committed URL, whatever the payload says.
#[test]
fn forged_hook_reports_record_nothing_and_origins_come_from_the_context() {
    let mut rec = Recorder::new(SECRET.to_string(), ValueHasher::unkeyed());
    rec.page = "https://www.shop.test/".into();
    let feed = |rec: &mut Recorder, method: &str, params: Value| {
        let (session, ev) = event(Some("S1"), method, params);
        rec.handle(session.as_deref(), ev);
    };
    feed(
        &mut rec,
        "Page.frameNavigated",
        json!({ "frame": { "id": "F1", "loaderId": "L1", "url": "https://www.shop.test/page" } }),
    );
    feed(
        &mut rec,
        "Runtime.executionContextCreated",
        json!({ "context": { "id": 7, "origin": "https://www.shop.test", "name": "",
                             "auxData": { "frameId": "F1", "isDefault": true } } }),
    );
    let call = |payload: Value| json!({ "name": BINDING, "payload": payload.to_string(), "executionContextId": 7 });
    // Forged: no secret, or a wrong one.
    for s in [None, Some("guess")] {
        let mut p =
            json!({ "k": "cookie", "v": "victim=1; Max-Age=999999", "href": "https://evil.test/" });
        if let Some(s) = s {
            p["s"] = json!(s);
        }
        feed(&mut rec, "Runtime.bindingCalled", call(p));
    }
    // The hook's own: the payload's href is not believed; a storage report (the hook
    // sends none now: storage writes come from `DOMStorage` events) records nothing.
    feed(
        &mut rec,
        "Runtime.bindingCalled",
        call(
            json!({ "s": SECRET, "k": "storage", "area": "local", "key": "k", "v": "x",
                     "origin": "https://forged.test" }),
        ),
    );
    feed(
        &mut rec,
        "Runtime.bindingCalled",
        call(json!({ "s": SECRET, "k": "cookie", "v": "real=1", "href": "https://forged.test/x" })),
    );
    let c = rec.take_captured();
    assert_eq!(c.hook.forged, 2);
    assert_eq!(c.cookie_writes.len(), 1, "{:?}", c.cookie_writes);
    assert_eq!(c.cookie_writes[0].name, "real");
    assert_eq!(
        c.cookie_writes[0].source,
        crate::model::CookieSource::Script {
            document_url: "https://www.shop.test/page".into()
        }
    );
    assert!(c.storage_writes.is_empty(), "{:?}", c.storage_writes);
}

/// A Cookie Store API report (`k: cookiestore`, sent once the browser accepted the write)
/// is a script cookie write: the lifetime from its `expires` (milliseconds since the
/// epoch; `null` a session cookie; a deletion 0), its domain or the document's host, the
/// API's default path `/`. Without the secret it is forged; from a context whose document
/// is no web URL (an about:blank iframe's realm) it names the origin the hook read.
#[test]
fn cookie_store_reports_are_script_writes_with_their_requested_lifetime() {
    let mut rec = Recorder::new(SECRET.to_string(), ValueHasher::unkeyed());
    let feed = |rec: &mut Recorder, ctx: i64, payload: Value| {
        let (session, ev) = event(
            Some("S1"),
            "Runtime.bindingCalled",
            json!({ "name": BINDING, "payload": payload.to_string(), "executionContextId": ctx }),
        );
        rec.handle(session.as_deref(), ev);
    };
    let (session, ev) = event(
        Some("S1"),
        "Page.frameNavigated",
        json!({ "frame": { "id": "F1", "loaderId": "L1", "url": "https://www.shop.test/p?q=1" } }),
    );
    rec.handle(session.as_deref(), ev);
    let (session, ev) = event(
        Some("S1"),
        "Runtime.executionContextCreated",
        json!({ "context": { "id": 7, "name": "", "auxData": { "frameId": "F1", "isDefault": true } } }),
    );
    rec.handle(session.as_deref(), ev);
    let in_days = |d: i64| (Utc::now().timestamp_millis() + d * 86_400_000) as f64;
    feed(
        &mut rec,
        7,
        json!({ "k": "cookiestore", "name": "forged", "v": "x", "exp": in_days(900) }),
    );
    feed(
        &mut rec,
        7,
        json!({ "s": SECRET, "k": "cookiestore", "name": "_fbp", "v": "fb",
                               "exp": in_days(400), "domain": ".Shop.test" }),
    );
    feed(
        &mut rec,
        7,
        json!({ "s": SECRET, "k": "cookiestore", "name": "sess", "v": "s", "exp": null,
                               "path": "/cart" }),
    );
    feed(
        &mut rec,
        7,
        json!({ "s": SECRET, "k": "cookiestore", "del": true, "name": "sess" }),
    );
    feed(
        &mut rec,
        9,
        json!({ "s": SECRET, "k": "cookiestore", "name": "realm", "v": "r",
                               "href": "about:blank", "o": "https://www.shop.test" }),
    );
    feed(
        &mut rec,
        7,
        json!({ "s": SECRET, "k": "cookiestore", "name": "", "v": "nameless" }),
    );
    let c = rec.take_captured();
    assert_eq!(c.hook.forged, 1);
    type Row<'a> = (&'a str, &'a str, Option<&'a str>, Option<i64>, String);
    let got: Vec<Row> = c
        .cookie_writes
        .iter()
        .map(|w| {
            let CookieSource::Script { document_url } = &w.source else {
                panic!("{w:?}")
            };
            let days = w
                .requested_lifetime_secs
                .map(|s| (s + 43_200).div_euclid(86_400));
            (
                w.name.as_str(),
                w.domain.as_str(),
                w.path.as_deref(),
                days,
                document_url.clone(),
            )
        })
        .collect();
    let page = "https://www.shop.test/p".to_string();
    assert_eq!(
        got,
        [
            ("_fbp", "shop.test", Some("/"), Some(400), page.clone()),
            ("sess", "www.shop.test", Some("/cart"), None, page.clone()),
            ("sess", "www.shop.test", Some("/"), Some(0), page),
            (
                "realm",
                "www.shop.test",
                Some("/"),
                None,
                "https://www.shop.test/".to_string()
            ),
        ]
    );
}

/// One document's reports are bounded: beyond the limit they are counted, not kept.
#[test]
fn hook_reports_are_bounded_per_document() {
    let mut rec = Recorder::new(SECRET.to_string(), ValueHasher::unkeyed());
    let n = page::MAX_HOOK_REPORTS_PER_DOCUMENT + 5;
    for i in 0..n {
        let payload = json!({ "s": SECRET, "k": "cookie", "v": format!("k{i}=x"),
                              "href": "https://www.shop.test/" });
        let (session, ev) = event(
            Some("S1"),
            "Runtime.bindingCalled",
            json!({ "name": BINDING, "payload": payload.to_string(), "executionContextId": 3 }),
        );
        rec.handle(session.as_deref(), ev);
    }
    let c = rec.take_captured();
    assert_eq!(
        c.cookie_writes.len(),
        page::MAX_HOOK_REPORTS_PER_DOCUMENT as usize
    );
    assert_eq!(c.hook.dropped, 5);
}

/// Web Storage writes are the browser's `DOMStorage` events: added and updated items are
/// writes (origin from `securityOrigin`, or from the storage key of a partitioned area;
/// area from `isLocalStorage`; the value hashed), removals are not; beyond the bound per
/// target and origin they are counted, not kept.
#[test]
fn storage_writes_are_the_browsers_dom_storage_events() {
    let key = ValueHasher::keyed(b"db");
    let mut rec = Recorder::new(SECRET.to_string(), key.clone());
    rec.page = "https://www.shop.test/".into();
    let feed = |rec: &mut Recorder, method: &str, params: Value| {
        let (session, ev) = event(Some("S1"), method, params);
        rec.handle(session.as_deref(), ev);
    };
    feed(
        &mut rec,
        "DOMStorage.domStorageItemAdded",
        json!({ "storageId": { "securityOrigin": "https://www.shop.test", "isLocalStorage": true },
                "key": "a", "newValue": "1" }),
    );
    feed(
        &mut rec,
        "DOMStorage.domStorageItemUpdated",
        json!({ "storageId": { "storageKey": "https://t.test/^0https://shop.test", "isLocalStorage": false },
                "key": "b", "oldValue": "0", "newValue": "2" }),
    );
    // Removals write no value: not events capture reads.
    for (method, params) in [
        (
            "DOMStorage.domStorageItemRemoved",
            json!({ "storageId": { "securityOrigin": "https://www.shop.test", "isLocalStorage": true },
                    "key": "a" }),
        ),
        (
            "DOMStorage.domStorageItemsCleared",
            json!({ "storageId": { "securityOrigin": "https://www.shop.test", "isLocalStorage": true } }),
        ),
    ] {
        let ev = Event {
            session_id: Some("S1".into()),
            method: method.into(),
            params,
        };
        assert!(CdpEvent::parse(&ev).is_none(), "{method}");
    }
    let c = rec.take_captured();
    let got: Vec<(&str, &str, &str, &str)> = c
        .storage_writes
        .iter()
        .map(|w| {
            (
                w.area.as_str(),
                w.origin.as_str(),
                w.key.as_str(),
                w.value_hash.as_str(),
            )
        })
        .collect();
    let (one, two) = (key.hash("1"), key.hash("2"));
    assert_eq!(
        got,
        [
            ("local", "https://www.shop.test", "a", one.as_str()),
            ("session", "https://t.test", "b", two.as_str()),
        ]
    );
    assert!(c
        .storage_writes
        .iter()
        .all(|w| w.page == "https://www.shop.test/"));

    let n = page::MAX_HOOK_REPORTS_PER_DOCUMENT + 3;
    for i in 0..n {
        feed(
            &mut rec,
            "DOMStorage.domStorageItemAdded",
            json!({ "storageId": { "securityOrigin": "https://bound.test", "isLocalStorage": true },
                    "key": format!("k{i}"), "newValue": "x" }),
        );
    }
    let c = rec.take_captured();
    assert_eq!(
        c.storage_writes.len(),
        page::MAX_HOOK_REPORTS_PER_DOCUMENT as usize
    );
    assert_eq!(c.hook.dropped, 3);
}

/// autoconsent's messages are believed only from its isolated world in a page's top frame:
/// the same binding called from the page's main world, or from another frame's world, is
/// counted and kept nowhere. Its `eval` requests become commands that name the asking
/// frame's main-world context; while it is at work (not resting, and not silent for long)
/// a settle waits; a context id later reused by another world is no longer believed.
#[test]
fn autoconsent_is_believed_only_from_its_isolated_world() {
    use crate::cmp::autoconsent::{World, BINDING as AC, WORLD};
    let mut rec = Recorder::new(SECRET.to_string(), ValueHasher::unkeyed());
    let feed = |rec: &mut Recorder, method: &str, params: Value| {
        let (session, ev) = event(Some("S1"), method, params);
        rec.handle(session.as_deref(), ev)
    };
    let context = |rec: &mut Recorder, id: i64, name: &str, frame: &str, default: bool| {
        feed(
            rec,
            "Runtime.executionContextCreated",
            json!({ "context": { "id": id, "origin": "https://www.shop.test", "name": name,
                                 "auxData": { "frameId": frame, "isDefault": default } } }),
        )
    };
    let (s, ev) = event(
        None,
        "Target.attachedToTarget",
        json!({ "sessionId": "S1", "targetInfo": { "targetId": "T1", "type": "page", "url": "" },
                "waitingForDebugger": true }),
    );
    rec.handle(s.as_deref(), ev);
    context(&mut rec, 1, "", "T1", true);
    context(&mut rec, 2, WORLD, "T1", false);
    context(&mut rec, 3, WORLD, "F2", false);
    let call = |rec: &mut Recorder, ctx: i64, payload: Value| {
        feed(
            rec,
            "Runtime.bindingCalled",
            json!({ "name": AC, "payload": payload.to_string(), "executionContextId": ctx }),
        )
    };
    let popup = json!({ "type": "popupFound", "cmp": "FakeCMP" });
    // The page's main world and an iframe's world: forged.
    assert!(call(&mut rec, 1, popup.clone()).is_empty());
    assert!(call(&mut rec, 3, popup.clone()).is_empty());
    assert!(rec.autoconsent.is_empty());
    assert!(!rec.autoconsent_busy(Instant::now()));
    // autoconsent's world: at work until it rests.
    call(
        &mut rec,
        2,
        json!({ "type": "lifecycle", "lifecycle": "started" }),
    );
    assert!(rec.autoconsent_busy(Instant::now()));
    let commands = call(
        &mut rec,
        2,
        json!({ "type": "eval", "id": "e1", "code": "(() => !!window.klaro)()" }),
    );
    assert_eq!(
        commands,
        vec![Command::AutoconsentEval(autoconsent::EvalRequest {
            session: "S1".into(),
            main_context: Some(1),
            reply_context: 2,
            id: "e1".into(),
            code: "(() => !!window.klaro)()".into(),
        })]
    );
    call(&mut rec, 2, json!({ "type": "popupFound", "cmp": "Klaro" }));
    call(
        &mut rec,
        2,
        json!({ "type": "lifecycle", "lifecycle": "openPopupDetected" }),
    );
    assert!(!rec.autoconsent_busy(Instant::now()));
    call(
        &mut rec,
        2,
        json!({ "type": "lifecycle", "lifecycle": "cmpDetected" }),
    );
    assert!(rec.autoconsent_busy(Instant::now()));
    assert!(!rec.autoconsent_busy(Instant::now() + autoconsent::BUSY_AT_MOST));
    let kinds: Vec<(&str, Option<&World>)> = rec
        .autoconsent
        .iter()
        .map(|m| (m.kind(), m.world.as_ref()))
        .collect();
    let world = World {
        session: "S1".into(),
        context: 2,
    };
    assert_eq!(
        kinds,
        vec![
            ("lifecycle", Some(&world)),
            ("popupFound", Some(&world)),
            ("lifecycle", Some(&world)),
            ("lifecycle", Some(&world))
        ]
    );
    // Context 2 reused by a main world (another renderer process): no longer believed.
    context(&mut rec, 2, "", "T1", true);
    assert!(call(&mut rec, 2, popup).is_empty());
    assert_eq!(rec.autoconsent.len(), 4);
    assert_eq!(rec.take_captured().hook.autoconsent_forged, 3);
}
