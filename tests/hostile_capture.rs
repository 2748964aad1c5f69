//! Issue 25, item 3: what a page can do that capture must see, from the browser's side
//! where it can: cookies written through the Cookie Store API, WebSocket connections.
//! Real Chromium against the demo site's lab pages (`tests/fixtures/lab.toml`), each audit
//! running the real binary into a fresh database.
//! Needs the `demo` feature (the demo server).
#![cfg(feature = "demo")]

mod common;

use common::lab::{audit_lab, LabRun};
use consentry::model::{CookieSource, CookieWrite};
use consentry::store::Store;

const DAY: i64 = 86_400;

/// One browser test at a time (two cores; each audit runs a browser).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Cookies written only through the Cookie Store API (`/lab/cookie-store`: the page and a
/// cross-site iframe) are cookie writes, each with the lifetime it asked for, attributed
/// and judged like `document.cookie` writes: Meta's `_fbp` asked for 400 days before any
/// consent is both a consent cookie without consent and over its declared 90 days, as
/// requested. A getter cannot show capture one lifetime and the browser another; a write
/// through another realm's `set` names this document; the write the browser refused is
/// none; a deletion is a write of lifetime 0. Before, none of them was a write (the jar
/// at the end held the survivors, with no time, phase or requested lifetime).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn cookie_store_writes_are_cookie_writes_with_their_requested_lifetime() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let LabRun {
        _dir,
        db,
        json,
        stderr,
        served,
        ..
    } = audit_lab("cookie_store").await;
    assert_eq!(
        json["visits"][0]["status"]["status"], "complete",
        "{stderr}"
    );
    // What the page says the browser did with each write.
    let said = served
        .iter()
        .filter(|s| s.contains("/lab/iso-report?"))
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    for outcome in [
        "fbp=ok",
        "session=ok",
        "getter=ok",
        "realm=ok",
        "refused=refused",
        "delete=ok",
        "frame=ok",
    ] {
        assert!(said.contains(outcome), "{outcome} not in\n{said}");
    }
    let run = json["run_id"].as_i64().unwrap();
    let store = Store::open(&db).await.unwrap();
    let key = store.hasher().await.unwrap();
    let writes: Vec<CookieWrite> = store.history().cookie_writes(run, None).await.unwrap();
    store.close().await;
    let shop = "https://www.demo-shop.test/lab/cookie-store";
    let mut got: Vec<(String, String, Option<i64>, String, String)> = writes
        .iter()
        .map(|w| {
            let doc = match &w.source {
                CookieSource::Script { document_url } => document_url.clone(),
                CookieSource::Header { request_url } => format!("header {request_url}"),
            };
            (
                w.name.clone(),
                w.domain.clone(),
                // To the day: the write's time and the page's clock differ by milliseconds.
                w.requested_lifetime_secs
                    .map(|s| (s + DAY / 2).div_euclid(DAY)),
                doc,
                w.value_hash.clone(),
            )
        })
        .collect();
    got.sort();
    let mut want = vec![
        (
            "_fbp",
            "demo-shop.test",
            Some(400),
            shop,
            key.hash("fb.1.lab"),
        ),
        (
            "cs_session",
            "www.demo-shop.test",
            None,
            shop,
            key.hash("s1"),
        ),
        (
            "cs_session",
            "www.demo-shop.test",
            Some(0),
            shop,
            key.hash(""),
        ),
        (
            "cs_getter",
            "www.demo-shop.test",
            Some(1),
            shop,
            key.hash("g1"),
        ),
        // Through a fresh about:blank iframe's realm: this document's origin.
        (
            "cs_realm",
            "www.demo-shop.test",
            Some(30),
            "https://www.demo-shop.test/",
            key.hash("r1"),
        ),
        (
            "fr",
            "www.facebook.com",
            Some(400),
            "https://www.facebook.com/lab/cookie-store-frame",
            key.hash("f1"),
        ),
    ]
    .into_iter()
    .map(|(n, d, l, doc, h)| (n.to_string(), d.to_string(), l, doc.to_string(), h))
    .collect::<Vec<_>>();
    want.sort();
    assert_eq!(got, want, "stderr:\n{stderr}");
    // Judged like any script write: before consent, and over the declared 90 days as
    // requested (not only as stored at the end).
    let keys = common::finding_keys(&json);
    for (code, subject) in [
        ("consent-cookie-without-consent", "_fbp"),
        ("cookie-retention-exceeded", "_fbp"),
        ("cookie-retention-exceeded", "fr"),
        ("undeclared-cookie", "cs_realm"),
    ] {
        assert!(
            keys.contains(&common::key(code, "cookie_store", subject)),
            "{code} {subject} not in {keys:#?}"
        );
    }
    let retention = common::finding(&json, "cookie-retention-exceeded", "cookie_store", "_fbp");
    let evidence = retention["evidence"].to_string();
    assert!(evidence.contains("requested 400d"), "{evidence}");
}

/// WebSockets (`/lab/websocket`) are requests of type `WebSocket`, from the browser's own
/// events: the page's to Meta (three frames sent, the greeting and three echoes
/// received), a dedicated worker's to Hotjar, a first-party one; each with its handshake's
/// status (101) and its frames counted, never kept. Attributed by host and judged like
/// any request: Meta and Hotjar contacted before any choice are
/// `consent-vendor-before-choice`. Before, none of them was captured at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn websockets_are_requests_judged_like_any_other() {
    use consentry::model::{FrameCounts, TargetKind};
    let _slot = ONE_AT_A_TIME.lock().await;
    let LabRun {
        _dir,
        db,
        json,
        stderr,
        served,
        ..
    } = audit_lab("websocket").await;
    assert_eq!(
        json["visits"][0]["status"]["status"], "complete",
        "{stderr}"
    );
    // The server saw the three handshakes.
    let handshakes: Vec<&String> = served.iter().filter(|s| s.contains("/lab/ws?")).collect();
    assert_eq!(handshakes.len(), 3, "{served:#?}");
    let run = json["run_id"].as_i64().unwrap();
    let store = Store::open(&db).await.unwrap();
    let requests = store.history().requests(run, None).await.unwrap();
    store.close().await;
    type Row = (String, String, TargetKind, Option<u16>, Option<FrameCounts>);
    let mut got: Vec<Row> = requests
        .iter()
        .filter(|r| r.url.starts_with("wss:") || r.resource_type == "WebSocket")
        .map(|r| {
            (
                r.url.clone(),
                r.resource_type.clone(),
                r.target,
                r.status,
                r.frames,
            )
        })
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    let frames = |sent, received| Some(FrameCounts { sent, received });
    let ws = "WebSocket".to_string();
    assert_eq!(
        got,
        [
            (
                "wss://static.hotjar.com/lab/ws?via=worker".to_string(),
                ws.clone(),
                TargetKind::Worker,
                Some(101),
                frames(1, 1)
            ),
            (
                "wss://www.demo-shop.test/lab/ws?via=first-party".to_string(),
                ws.clone(),
                TargetKind::Page,
                Some(101),
                frames(0, 1)
            ),
            (
                "wss://www.facebook.com/lab/ws?via=page".to_string(),
                ws,
                TargetKind::Page,
                Some(101),
                frames(3, 4)
            ),
        ],
        "stderr:\n{stderr}"
    );
    let keys = common::finding_keys(&json);
    for vendor in ["meta", "hotjar"] {
        assert!(
            keys.contains(&common::key(
                "consent-vendor-before-choice",
                "websocket",
                vendor
            )),
            "{vendor} not judged: {keys:#?}"
        );
    }
    let meta = common::finding(&json, "consent-vendor-before-choice", "websocket", "meta");
    let evidence = meta["evidence"].to_string();
    assert!(
        evidence.contains("wss://www.facebook.com/lab/ws"),
        "{evidence}"
    );
    assert!(!keys.iter().any(|k| k.2 == "demo-shop"), "{keys:#?}");
}
