//! Issue 20, item 3: who loaded whom. Real Chromium against the demo site's lab page
//! `/lab/chain` (src/demo/lab.rs): what DevTools says started each request (parser,
//! script, async script, redirect, preflight, iframe), and the fourth-party finding an
//! audit of it gives, with the chain in its evidence and in the HTML report.
//! Needs the `demo` feature (the demo server).
#![cfg(feature = "demo")]

mod common;

use common::consentry;
use common::lab::audit_lab;
use consentry::browser::{BrowserConfig, Chromedriver, Session};
use consentry::capture::Capture;
use consentry::demo::DemoServer;
use consentry::model::{RequestCause, RequestObs, ValueHasher};
use consentry::scenario::BrowserOptions;
use serde_json::Value;
use std::time::Duration;

/// One browser test at a time (two cores; each runs a browser).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const PAGE: &str = "https://www.demo-shop.test/lab/chain";
const TAG: &str = "https://www.googletagmanager.com/lab/chain-tag.js";
const PIXEL_JS: &str = "https://analytics.tiktok.com/lab/chain-pixel.js";
const FRAME: &str = "https://www.facebook.com/lab/chain-frame";

fn cause<'a>(requests: &'a [RequestObs], url: &str) -> &'a RequestCause {
    requests
        .iter()
        .find(|r| r.url == url && r.method != "OPTIONS")
        .and_then(|r| r.cause.as_ref())
        .unwrap_or_else(|| panic!("{url}: not captured with a cause: {requests:#?}"))
}

/// What Chromium's `Network.requestWillBeSent` says started each kind of request, as
/// capture keeps it (printed for docs/findings.md, "Who loaded whom").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn capture_keeps_what_started_each_request() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let server = DemoServer::start(0).await.expect("demo server");
    let port = server.port();
    let driver = Chromedriver::spawn(None).await.expect("chromedriver");
    let cfg = BrowserConfig::new(driver.url.clone(), true, None);
    let options = BrowserOptions {
        args: vec![format!(
            "--host-resolver-rules=MAP * 127.0.0.1:{port}, EXCLUDE localhost"
        )],
        ..BrowserOptions::default()
    };
    let session = Session::start(&cfg, &options)
        .await
        .expect("browser session");
    let capture = Capture::start(&session.devtools_ws, ValueHasher::unkeyed())
        .await
        .expect("capture");
    capture.set_page(PAGE);
    session.client.goto(PAGE).await.expect("load the lab page");
    capture
        .wait_idle(Duration::from_millis(700), Duration::from_secs(5))
        .await
        .expect("idle");
    let captured = capture.finish();
    let _ = session.close().await;
    driver.shutdown().await;
    server.shutdown().await;
    let requests = &captured.requests;
    for r in requests {
        eprintln!(
            "{} {} {} ({:?}): {:?}",
            r.method, r.resource_type, r.url, r.target, r.cause
        );
    }

    // Parser-inserted: the document's parser, and the document's URL.
    let tag = cause(requests, TAG);
    assert_eq!(
        (tag.kind.as_str(), tag.url.as_deref()),
        ("parser", Some(PAGE))
    );
    // Script-inserted script, fetch, and an XMLHttpRequest from a timer: the script on
    // top of the stack.
    for url in [
        PIXEL_JS,
        "https://sb.scorecardresearch.com/lab/slow.gif?n=fetch",
        "https://www.googletagmanager.com/lab/slow.gif?n=xhr",
    ] {
        let c = cause(requests, url);
        assert_eq!(
            (c.kind.as_str(), c.script.as_deref()),
            ("script", Some(TAG)),
            "{url}"
        );
    }
    // An image a script sends with `new Image().src = ...`: Chromium (156) names the
    // document's parser, with no stack, not the script; the chain cannot follow it.
    for url in [
        "https://www.googletagmanager.com/lab/chain-hop",
        "https://analytics.tiktok.com/lab/slow.gif?n=pixel",
    ] {
        let c = cause(requests, url);
        assert_eq!(
            (c.kind.as_str(), c.url.as_deref(), c.script.as_deref()),
            ("parser", Some(PAGE), None),
            "{url}"
        );
    }
    // A CORS preflight: its own type, and the URL of the request it is for.
    let preflight = requests
        .iter()
        .find(|r| r.method == "OPTIONS")
        .and_then(|r| r.cause.as_ref())
        .expect("a preflight");
    assert_eq!(
        (preflight.kind.as_str(), preflight.url.as_deref()),
        (
            "preflight",
            Some("https://static.chartbeat.com/lab/slow.gif?n=preflight")
        )
    );
    // A redirect hop: the hop before it.
    let hop = cause(requests, "https://bat.bing.com/lab/r3");
    assert_eq!(
        hop.redirected_from.as_deref(),
        Some("https://www.googletagmanager.com/lab/chain-hop")
    );
    // An iframe made by a script, and its document's parser-inserted image.
    let frame = cause(requests, FRAME);
    assert_eq!(frame.script.as_deref(), Some(TAG), "{frame:?}");
    let inner = cause(requests, "https://www.gstatic.com/lab/slow.gif?n=frame");
    assert_eq!(
        (inner.kind.as_str(), inner.url.as_deref()),
        ("parser", Some(FRAME))
    );
}

fn finding<'a>(json: &'a Value, code: &str, subject: &str) -> &'a Value {
    json["findings"]
        .as_array()
        .and_then(|fs| {
            fs.iter()
                .find(|f| f["code"] == code && f["subject"] == subject)
        })
        .unwrap_or_else(|| panic!("no {code} {subject}: {:#}", json["findings"]))
}

/// An audit of the lab page: each undeclared host a declared vendor loaded (a pixel its
/// tag injected, a redirect, its iframe's image) is a fourth-party finding naming that
/// vendor, with the chain in its evidence; the undeclared-host finding shows the chain
/// too; what the site's page loads itself is no fourth party; the HTML report shows the
/// chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn a_declared_tag_that_loads_an_undeclared_pixel_is_a_fourth_party() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let run = audit_lab("chain").await;
    let fourth: Vec<&str> = run.json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == "undeclared-fourth-party")
        .filter_map(|f| f["subject"].as_str())
        .collect();
    assert_eq!(
        fourth,
        [
            "google-analytics:bing.com",
            "google-analytics:tiktok.com",
            "meta:gstatic.com"
        ],
        "stderr:\n{}",
        run.stderr
    );
    let tiktok = finding(
        &run.json,
        "undeclared-fourth-party",
        "google-analytics:tiktok.com",
    );
    assert_eq!(tiktok["vendor"], "google-analytics");
    assert_eq!(tiktok["severity"], "medium");
    assert_eq!(
        tiktok["rule"],
        "vendor \"google-analytics\" (Google Analytics) may load only declared vendors"
    );
    let chain = "chain: www.googletagmanager.com (google-analytics, declared) → analytics.tiktok.com (TikTok, known)";
    let evidence = tiktok["evidence"].as_array().expect("evidence");
    // The pixel script only: the image it sends (`new Image()`) is the document's
    // parser's for Chromium (see capture_keeps_what_started_each_request).
    assert_eq!(evidence.len(), 1, "the pixel script: {tiktok:#}");
    for e in evidence {
        let d = e["detail"].as_str().unwrap_or_default();
        assert!(d.ends_with(&format!("; {chain}")), "{d}");
        assert_eq!(e["known"]["name"], "TikTok", "{e}");
        assert_eq!(e["known"]["kind"], "pattern", "{e}");
    }
    let bing = finding(
        &run.json,
        "undeclared-fourth-party",
        "google-analytics:bing.com",
    );
    let d = bing["evidence"][0]["detail"].as_str().unwrap_or_default();
    assert!(
        d.contains("; chain: www.googletagmanager.com (google-analytics, declared) → bat.bing.com"),
        "{d}"
    );
    let frame = finding(&run.json, "undeclared-fourth-party", "meta:gstatic.com");
    let d = frame["evidence"][0]["detail"].as_str().unwrap_or_default();
    assert!(
        d.contains("; chain: www.googletagmanager.com (google-analytics, declared) → www.facebook.com (meta, declared) → www.gstatic.com"),
        "{d}"
    );
    // The undeclared-host finding stays, and shows the chain of the pixel script.
    let host = finding(&run.json, "undeclared-third-party", "tiktok.com");
    let script = host["evidence"]
        .as_array()
        .and_then(|es| es.iter().find(|e| e["request_url"] == PIXEL_JS))
        .expect("the pixel script's evidence");
    let d = script["detail"].as_str().unwrap_or_default();
    assert!(d.contains(chain), "{d}");

    // The HTML report lays out the chain the view model carries.
    let run_id = run.json["run_id"].as_i64().expect("run id");
    let out = consentry()
        .args([
            "report",
            &run_id.to_string(),
            "--format",
            "html",
            "--output",
            "-",
            "--db",
        ])
        .arg(&run.db)
        .output()
        .expect("run consentry report");
    let html = String::from_utf8_lossy(&out.stdout);
    assert!(
        html.contains("<dt>Chain</dt><dd><code>www.googletagmanager.com (google-analytics, declared)</code> → <code>analytics.tiktok.com (TikTok, known)</code></dd>"),
        "{html}"
    );
}
