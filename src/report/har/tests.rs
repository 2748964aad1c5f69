//! The HAR layout on recorded observations (no browser): valid against the HAR 1.2 schema
//! (`har-schema@2.0.0`, tests/fixtures/schemas), readable by DevTools' importer, every
//! request an entry, and nothing in clear that capture kept as a hash or a marker.

use super::{har, HarVisit};
use crate::model::http::{HttpExchange, HttpTiming, STRIPPED};
use crate::model::{ConsentAction, ConsentState, RequestObs, TargetKind, ValueHasher};
use chrono::{TimeZone, Utc};

#[path = "../../../tests/common/har_schema.rs"]
mod har_schema;

fn request(url: &str, page: &str, secs: i64, http: Option<HttpExchange>) -> RequestObs {
    RequestObs {
        url: url.into(),
        method: "GET".into(),
        resource_type: "Script".into(),
        initiator: Some("https://shop.test/app.js".into()),
        frame_id: None,
        target: TargetKind::Page,
        status: Some(200),
        error: None,
        cancelled: false,
        frames: None,
        cause: None,
        time: Utc.timestamp_opt(1_765_000_000 + secs, 5_000_000).unwrap(),
        page: page.into(),
        state: ConsentState::initial(),
        http: http.map(Box::new),
    }
}

fn exchange(h: &ValueHasher) -> HttpExchange {
    HttpExchange {
        request_headers: vec![
            ("Accept".into(), "*/*".into()),
            (
                "Cookie".into(),
                crate::model::http::header_value("Cookie", "sid=s3ss10n; t=1", h),
            ),
            ("Authorization".into(), STRIPPED.into()),
        ],
        request_dropped: 3,
        request_wire: true,
        response_headers: vec![
            ("Content-Type".into(), "text/javascript".into()),
            (
                "Set-Cookie".into(),
                crate::model::http::header_value(
                    "Set-Cookie",
                    "uid=u5er; Path=/; Domain=shop.test; HttpOnly; Secure",
                    h,
                ),
            ),
            ("Location".into(), "https://shop.test/next".into()),
        ],
        response_dropped: 0,
        response_wire: true,
        status_text: Some("OK".into()),
        mime_type: Some("text/javascript".into()),
        protocol: Some("h2".into()),
        timing: Some(HttpTiming {
            blocked: 1.0,
            dns: -1.0,
            connect: -1.0,
            ssl: -1.0,
            send: 0.5,
            wait: 10.0,
            receive: -1.0,
        }),
    }
}

#[test]
fn a_visit_lays_out_as_valid_har_with_pages_entries_and_hashed_cookies() {
    let h = ValueHasher::keyed(b"db");
    let mut later = request(
        "https://cdn.vendor.test/p.gif?id=7&ev=a%20b",
        "https://shop.test/checkout",
        5,
        None,
    );
    later.state = ConsentState::initial().after(ConsentAction::AcceptAll);
    later.status = None;
    later.error = Some("net::ERR_FAILED".into());
    let requests = vec![
        later,
        request(
            "https://shop.test/app.js",
            "https://shop.test/",
            1,
            Some(exchange(&h)),
        ),
    ];
    let visit = HarVisit {
        run: 7,
        site: "shop",
        scenario: "accept_all",
        repetition: 2,
        started_at: Utc.timestamp_opt(1_765_000_000, 0).unwrap(),
        requests: &requests,
    };
    let v = har(&visit, "9.9.9");
    assert_eq!(har_schema::errors(&v), Vec::<String>::new());
    assert_eq!(
        har_schema::devtools_importer_problems(&v),
        Vec::<String>::new()
    );
    let log = &v["log"];
    assert_eq!(log["version"], "1.2");
    assert_eq!(log["creator"]["version"], "9.9.9");
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "every request is an entry");
    // By start time: the script first.
    let js = &entries[0];
    assert_eq!(js["request"]["url"], "https://shop.test/app.js");
    assert_eq!(js["startedDateTime"], "2025-12-06T05:46:41.005Z");
    assert_eq!(js["pageref"], "page_1");
    assert_eq!(js["response"]["status"], 200);
    assert_eq!(js["response"]["statusText"], "OK");
    assert_eq!(js["response"]["httpVersion"], "HTTP/2");
    assert_eq!(js["response"]["redirectURL"], "https://shop.test/next");
    assert_eq!(js["response"]["content"]["mimeType"], "text/javascript");
    assert_eq!(js["timings"]["receive"], 0.0, "not measured: 0, never -1");
    assert_eq!(js["time"], 11.5);
    assert_eq!(js["_resourceType"], "script");
    let cookies = js["request"]["cookies"].as_array().unwrap();
    assert_eq!(cookies[0]["name"], "sid");
    assert_eq!(cookies[0]["value"], format!("[hash {}]", h.hash("s3ss10n")));
    let set = &js["response"]["cookies"][0];
    assert_eq!(set["name"], "uid");
    assert_eq!(set["value"], format!("[hash {}]", h.hash("u5er")));
    assert_eq!(
        (
            &set["path"],
            &set["domain"],
            &set["httpOnly"],
            &set["secure"]
        ),
        (&"/".into(), &"shop.test".into(), &true.into(), &true.into())
    );
    assert_eq!(
        js["_consentry"]["notes"][0],
        "3 request header(s) left out (at most 64 kept)"
    );
    assert_eq!(js["_consentry"]["phase"], "before-choice");
    // The pixel: another page, after the choice, failed, nothing captured.
    let px = &entries[1];
    assert_eq!(px["pageref"], "page_2");
    assert_eq!(px["response"]["status"], 0);
    assert_eq!(px["response"]["_error"], "net::ERR_FAILED");
    assert_eq!(px["timings"]["comment"], "not captured");
    assert_eq!(px["_consentry"]["phase"], "after-accept_all");
    assert_eq!(px["_consentry"]["headers"], "not captured");
    assert_eq!(
        px["request"]["queryString"],
        serde_json::json!([{"name": "id", "value": "7"}, {"name": "ev", "value": "a b"}])
    );
    let pages = log["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[1]["title"], "https://shop.test/checkout");
    let comment = log["comment"].as_str().unwrap();
    assert!(
        comment.contains("scenario accept_all, repetition 2"),
        "{comment}"
    );
    assert!(
        comment.contains("1 of 2 request(s) have no headers"),
        "{comment}"
    );
    let text = v.to_string();
    for clear in ["s3ss10n", "u5er"] {
        assert!(!text.contains(clear), "{clear} in clear");
    }
}

/// A visit of a run stored before schema 20 (no headers at all) is still a valid HAR
/// that says so; an empty visit too.
#[test]
fn requests_stored_before_headers_were_captured_still_make_a_valid_har() {
    let requests = [request("https://shop.test/", "https://shop.test/", 0, None)];
    for reqs in [&requests[..], &[]] {
        let visit = HarVisit {
            run: 1,
            site: "shop",
            scenario: "no_action",
            repetition: 1,
            started_at: Utc.timestamp_opt(1_765_000_000, 0).unwrap(),
            requests: reqs,
        };
        let v = har(&visit, "1.0.0");
        assert_eq!(har_schema::errors(&v), Vec::<String>::new());
        assert_eq!(
            har_schema::devtools_importer_problems(&v),
            Vec::<String>::new()
        );
        assert_eq!(v["log"]["entries"].as_array().unwrap().len(), reqs.len());
        let comment = v["log"]["comment"].as_str().unwrap();
        assert_eq!(
            comment.contains("have no headers"),
            !reqs.is_empty(),
            "{comment}"
        );
    }
}

/// The schema check can fail: a HAR without `log.creator` or with a string status is
/// refused, and so is an entry DevTools cannot read.
#[test]
fn the_schema_and_the_importer_check_refuse_broken_archives() {
    let requests = [request("https://shop.test/", "https://shop.test/", 0, None)];
    let visit = HarVisit {
        run: 1,
        site: "shop",
        scenario: "no_action",
        repetition: 1,
        started_at: Utc.timestamp_opt(1_765_000_000, 0).unwrap(),
        requests: &requests,
    };
    let good = har(&visit, "1.0.0");
    let mut bad = good.clone();
    bad["log"].as_object_mut().unwrap().remove("creator");
    bad["log"]["entries"][0]["response"]["status"] = "200".into();
    assert_eq!(
        har_schema::errors(&bad).len(),
        2,
        "{:?}",
        har_schema::errors(&bad)
    );
    let mut bad = good;
    bad["log"]["entries"][0]["startedDateTime"] = "yesterday".into();
    bad["log"]["entries"][0]["timings"]
        .as_object_mut()
        .unwrap()
        .remove("wait");
    let problems = har_schema::devtools_importer_problems(&bad);
    assert_eq!(problems.len(), 2, "{problems:?}");
}

/// A stored URL holding what a URI may not (a redaction, a clip mark, a stray `%`, a
/// second `#`) becomes a valid URI; one that is already a URI is unchanged.
#[test]
fn stored_urls_become_uris() {
    use super::uri;
    assert_eq!(
        uri("https://shop.test/p?t=[secret:TOKEN]&x=%41%zz#a#b"),
        "https://shop.test/p?t=%5Bsecret:TOKEN%5D&x=%41%25zz#a%23b"
    );
    assert_eq!(
        uri("https://[::1]:8443/a…[clipped: 9 bytes, hash 0f]"),
        "https://[::1]:8443/a%E2%80%A6%5Bclipped:%209%20bytes,%20hash%200f%5D"
    );
    let fine = "https://shop.test/a/b;c?d=e&f=%20#g";
    assert_eq!(uri(fine), fine);
    assert_eq!(uri("https://shop.test"), "https://shop.test");
    let requests = [request(
        "https://shop.test/?t=[secret:TOKEN] x",
        "https://shop.test/",
        0,
        None,
    )];
    let visit = HarVisit {
        run: 1,
        site: "shop",
        scenario: "no_action",
        repetition: 1,
        started_at: Utc.timestamp_opt(1_765_000_000, 0).unwrap(),
        requests: &requests,
    };
    let v = har(&visit, "1.0.0");
    assert_eq!(har_schema::errors(&v), Vec::<String>::new());
    let e = &v["log"]["entries"][0];
    assert_eq!(
        e["_consentry"]["url"],
        "https://shop.test/?t=[secret:TOKEN] x"
    );
}
