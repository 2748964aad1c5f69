//! Real-browser tests of capture: Debian Chromium through chromedriver, against the demo
//! site's lab pages (`src/demo/lab.rs`) served in-process, with the scenarios of
//! `tests/fixtures/lab.toml`.
//! Needs the `demo` feature (the demo site).
#![cfg(feature = "demo")]

mod common;

use common::{consentry, Run};
use consentry::browser::{BrowserConfig, Chromedriver, Session};
use consentry::capture::{Capture, SETTLE_GRACE};
use consentry::demo::DemoServer;
use consentry::model::ValueHasher;
use consentry::scenario::BrowserOptions;
use consentry::store::Store;
use fantoccini::Locator;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const LAB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lab.toml");

const SLOW: [&str; 4] = [
    "https://static.hotjar.com/lab/slow.js?delay=6000&n=1",
    "https://static.hotjar.com/lab/slow.js?delay=6000&n=2",
    "https://static.hotjar.com/lab/slow.js?delay=6000&n=3",
    "https://www.facebook.com/lab/slow.gif?delay=6000",
];

/// One browser test at a time (two cores; each audit runs a browser).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn audit(port: u16, db: &Path, scenario: &str) -> Run {
    let run = common::audit(
        LAB,
        port,
        db,
        &["--fail-on", "never", "--scenario", scenario],
    );
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    run
}

/// A click releases slow tag requests and the scenario navigates at once: Chromium cuts
/// them off without ever reporting their end. No settle may wait for them (the lab's
/// settle_timeout, 5 s, is shorter than their 6 s delay, so one that did would warn), and
/// they are still recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn requests_cut_off_by_a_navigation_do_not_stall_the_settles() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let server = DemoServer::start(0).await.expect("demo server");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lab.db");
    let port = server.port();
    let db2 = db.clone();
    let run = tokio::task::spawn_blocking(move || audit(port, &db2, "click_then_navigate"))
        .await
        .unwrap();
    let logged: Vec<String> = server
        .log()
        .iter()
        .map(|r| format!("{}://{}{}", r.scheme, r.host, r.path_and_query))
        .collect();
    server.shutdown().await;

    // The slow requests really were in flight (the server received them).
    for url in SLOW {
        assert!(
            logged.iter().any(|l| l == url),
            "{url} not sent: {logged:#?}"
        );
    }
    let visit = &run.json["visits"][0];
    assert_eq!(visit["status"]["status"], "complete", "{}", run.stderr);
    let warnings: Vec<&str> = visit["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        !warnings
            .iter()
            .any(|w| w.contains("network not idle within")),
        "a settle waited for a cut-off request: {warnings:#?}"
    );
    assert!(
        !run.stderr.contains("network not idle within"),
        "{}",
        run.stderr
    );

    // Recorded like any request the site made, with no response, stored as cancelled.
    let run_id = run.json["run_id"].as_i64().expect("run id");
    let store = Store::open(&db).await.unwrap();
    let requests = store
        .history()
        .requests(run_id, Some("click_then_navigate"))
        .await
        .unwrap();
    for url in SLOW {
        let r = requests
            .iter()
            .find(|r| r.url == url)
            .unwrap_or_else(|| panic!("{url} not stored: {requests:#?}"));
        assert_eq!(r.status, None, "{r:?}");
        assert!(r.cancelled, "stored as cancelled: {r:?}");
    }
}

fn lab_options(port: u16) -> BrowserOptions {
    BrowserOptions {
        args: vec![format!(
            "--host-resolver-rules=MAP * 127.0.0.1:{port}, EXCLUDE localhost"
        )],
        ..BrowserOptions::default()
    }
}

/// The same cut-off through the capture API: the requests are marked cancelled, nothing is
/// left pending, and each top-level navigation's outcome and each page error are recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn capture_marks_cut_off_requests_cancelled_and_records_documents_and_errors() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let server = DemoServer::start(0).await.expect("demo server");
    let port = server.port();
    let driver = Chromedriver::spawn(None).await.expect("chromedriver");
    let cfg = BrowserConfig::new(driver.url.clone(), true, None);
    let session = Session::start(&cfg, &lab_options(port))
        .await
        .expect("browser session");
    let capture = Capture::start(&session.devtools_ws, ValueHasher::unkeyed())
        .await
        .expect("capture");
    let client = &session.client;
    let base = "https://www.demo-shop.test";
    let quiet = Duration::from_millis(700);
    let timeout = Duration::from_secs(5);

    capture.set_page(&format!("{base}/lab/abort"));
    client.goto(&format!("{base}/lab/abort")).await.unwrap();
    capture.wait_idle(quiet, timeout).await.unwrap();
    client
        .find(Locator::Css("#release"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client.goto(&format!("{base}/lab/next")).await.unwrap();
    let idle = capture.wait_idle(quiet, timeout).await;
    assert_eq!(idle, Ok(()), "still pending after the navigation");
    let next = capture.last_document().expect("a document");
    assert_eq!(next.url, format!("{base}/lab/next"));
    assert_eq!((next.status, next.error.as_deref()), (Some(200), None));

    // A redirect loop "loads" for WebDriver (Chromium shows its error page): the document
    // outcome says it failed.
    let _ = client.goto(&format!("{base}/lab/loop")).await;
    capture.wait_idle(quiet, timeout).await.unwrap();
    let lp = capture.last_document().expect("a document");
    assert_eq!(lp.url, format!("{base}/lab/loop"));
    assert_eq!(lp.error.as_deref(), Some("net::ERR_TOO_MANY_REDIRECTS"));
    assert_eq!(lp.status, None);

    capture.set_page(&format!("{base}/lab/error"));
    client.goto(&format!("{base}/lab/error")).await.unwrap();
    capture.wait_idle(quiet, timeout).await.unwrap();

    let captured = capture.finish();
    let _ = session.close().await;
    driver.shutdown().await;
    server.shutdown().await;

    for url in SLOW {
        let r = captured
            .requests
            .iter()
            .find(|r| r.url == url)
            .unwrap_or_else(|| panic!("{url} not captured: {:#?}", captured.requests));
        assert!(r.cancelled, "{r:?}");
        assert_eq!(r.status, None);
    }
    // Nothing that completed is marked cancelled.
    for r in captured.requests.iter().filter(|r| r.status.is_some()) {
        assert!(!r.cancelled, "{r:?}");
    }
    let docs: Vec<(String, Option<u16>)> = captured
        .documents
        .iter()
        .filter(|d| d.error.is_none())
        .map(|d| (d.url.clone(), d.status))
        .collect();
    assert_eq!(
        docs,
        [
            (format!("{base}/lab/abort"), Some(200)),
            (format!("{base}/lab/next"), Some(200)),
            (format!("{base}/lab/error"), Some(200)),
        ]
    );
    assert!(captured
        .documents
        .iter()
        .filter(|d| d.error.is_some())
        .all(|d| d.url.ends_with("/lab/loop")));
    assert_eq!(captured.page_errors.len(), 1, "{:#?}", captured.page_errors);
    let e = &captured.page_errors[0];
    assert!(e.message.contains("lab: cmp failed to start"), "{e:?}");
    assert_eq!(e.source.as_deref(), Some(&*format!("{base}/lab/throw.js")));
    assert_eq!(e.page, format!("{base}/lab/error"));
}

/// A settle ends on what the page says: it waits for a short timer that loads a tag and
/// for the timer that tag sets (nothing in flight meanwhile), ends soon after on an idle
/// page, and on its quiet window (the upper bound) for an endless animation loop. A
/// continued settle (nothing done to the page since the last one) ends at once on a page
/// that is still idle, without serving the grace again, but still waits for the timers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn settle_waits_for_short_timers_and_ends_early_when_nothing_is_pending() {
    use consentry::model::SettleEnd;
    let _slot = ONE_AT_A_TIME.lock().await;
    let server = DemoServer::start(0).await.expect("demo server");
    let port = server.port();
    let driver = Chromedriver::spawn(None).await.expect("chromedriver");
    let cfg = BrowserConfig::new(driver.url.clone(), true, None);
    let session = Session::start(&cfg, &lab_options(port))
        .await
        .expect("browser session");
    let capture = Capture::start(&session.devtools_ws, ValueHasher::unkeyed())
        .await
        .expect("capture");
    let client = &session.client;
    let base = "https://www.demo-shop.test";
    let quiet = Duration::from_millis(700);
    let timeout = Duration::from_secs(5);

    capture.set_page(&format!("{base}/lab/timer"));
    client.goto(&format!("{base}/lab/timer")).await.unwrap();
    let timer = capture.settle(quiet, timeout).await;

    client.goto(&format!("{base}/lab/next")).await.unwrap();
    let next = capture.settle(quiet, timeout).await;
    let again = capture.settle_continued(quiet, timeout).await;

    // Continued right after a navigation (the engine never does this): the timers are
    // still waited for.
    client.goto(&format!("{base}/lab/timer")).await.unwrap();
    let timer_again = capture.settle_continued(quiet, timeout).await;

    // What the hook reports: a script whose file arrived and has not run is due (here one
    // that never runs: inserted through innerHTML, its URL fetched before), also once the
    // page's resource-timing buffer was emptied; one that ran, and a CMP-blocked
    // `text/plain` one, are not.
    client.goto(&format!("{base}/lab/next")).await.unwrap();
    let hook = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
const probe = globalThis[Symbol.for('consentry.settle')];
const url = '/lab/slow.js?delay=0&n=probe';
fetch(url).then(r => r.text()).then(() => {
  const s = document.createElement('script');
  s.src = '/lab/slow.js?delay=0&n=ran';
  s.onload = () => {
    const before = JSON.parse(probe(0));
    // Even with the page's resource-timing buffer emptied (full, on a heavy page).
    performance.clearResourceTimings();
    const box = document.createElement('div');
    box.innerHTML = '<script src="' + url + '"></' + 'script>'
      + '<script type="text/plain" src="' + url + '"></' + 'script>';
    document.body.appendChild(box);
    const due = JSON.parse(probe(0));
    box.remove();
    done({ before: before.scripts, due: due.scripts, after: JSON.parse(probe(0)).scripts });
  };
  document.head.appendChild(s);
});"#,
            vec![],
        )
        .await
        .unwrap();
    let _ = capture.settle(quiet, timeout).await;

    client.goto(&format!("{base}/lab/raf")).await.unwrap();
    let raf = capture.settle(quiet, timeout).await;

    let captured = capture.finish();
    let _ = session.close().await;
    driver.shutdown().await;
    server.shutdown().await;

    assert_eq!(timer.ended, SettleEnd::Idle, "{timer:?}");
    assert!(timer.elapsed >= Duration::from_millis(400), "{timer:?}");
    assert_eq!(timer_again.ended, SettleEnd::Idle, "{timer_again:?}");
    assert!(
        timer_again.elapsed >= Duration::from_millis(400),
        "{timer_again:?}"
    );
    for url in [
        "https://static.hotjar.com/lab/slow.js?delay=0&n=timer",
        "https://www.facebook.com/lab/slow.gif?delay=0&n=timer",
    ] {
        let seen: Vec<_> = captured.requests.iter().filter(|r| r.url == url).collect();
        assert_eq!(
            seen.len(),
            2,
            "{url}, once per load: {:#?}",
            captured.requests
        );
        for r in seen {
            assert_eq!(r.status, Some(200), "{r:?}");
            assert_eq!(r.page, format!("{base}/lab/timer"), "{r:?}");
        }
    }
    assert_eq!(next.ended, SettleEnd::Idle, "{next:?}");
    assert!(
        next.elapsed < quiet,
        "an idle page waits less than the quiet window: {next:?}"
    );
    assert!(
        next.elapsed >= SETTLE_GRACE,
        "a fresh settle serves the grace: {next:?}"
    );
    assert_eq!(again.ended, SettleEnd::Idle, "{again:?}");
    assert!(
        again.elapsed < SETTLE_GRACE,
        "a continued settle on a page still idle does not serve the grace again: {again:?}"
    );
    assert_eq!(
        hook,
        serde_json::json!({ "before": 0, "due": 1, "after": 0 }),
        "scripts due, as the hook counts them"
    );
    assert_eq!(raf.ended, SettleEnd::QuietWindow, "{raf:?}");
    assert!(raf.elapsed >= quiet, "{raf:?}");
}

/// Browser reuse: two scenarios in one browser (the default; `--jobs 1` runs them in
/// order), each in its own browser context. What the first leaves behind (cookie, local and
/// session storage, IndexedDB, Cache Storage, a service worker, an HTTP-cached script) is
/// seen again inside the first (the controls) and never by the second. The same holds
/// with `--fresh-browser`. HSTS is not proven (see below).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn reused_browser_contexts_share_no_state_between_scenarios() {
    const ISO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/isolation.toml");
    let _slot = ONE_AT_A_TIME.lock().await;
    let server = DemoServer::start(0).await.expect("demo server");
    let port = server.port();
    let dir = tempfile::tempdir().unwrap();
    for mode in [None, Some("--fresh-browser")] {
        server.clear_log();
        let db = dir.path().join("iso.db");
        let out = tokio::task::spawn_blocking(move || {
            let mut cmd = consentry();
            cmd.args([
                "audit",
                ISO,
                "--format",
                "json",
                "--no-progress",
                "--jobs",
                "1",
            ])
            .args([
                "--fail-on",
                "never",
                "--scenario",
                "writer",
                "--scenario",
                "reader",
            ])
            .arg("--db")
            .arg(&db)
            .env("CONSENTRY_DEMO_PORT", port.to_string());
            if let Some(m) = mode {
                cmd.arg(m);
            }
            cmd.output().expect("run consentry")
        })
        .await
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(0), "{mode:?}: stderr:\n{stderr}");
        let json: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
        let visits = json["visits"].as_array().expect("visits");
        for v in visits {
            assert_eq!(v["status"]["status"], "complete", "{mode:?}: {v:#}");
        }

        let log = server.log();
        let report = |at: &str| -> String {
            log.iter()
                .find(|r| {
                    r.path_and_query
                        .starts_with(&format!("/lab/iso-report?at={at}&"))
                })
                .map(|r| r.path_and_query.clone())
                .unwrap_or_else(|| panic!("{mode:?}: no report from {at}: {log:#?}"))
        };
        let kinds = ["cookie", "local", "session", "idb", "caches", "sw"];
        let first = report("writer");
        let again = report("writer-again");
        let fresh = report("reader");
        for k in kinds {
            assert!(first.contains(&format!("&{k}=false")), "{mode:?}: {first}");
            // Control: the writer sees its own state on its next page.
            assert!(again.contains(&format!("&{k}=true")), "{mode:?}: {again}");
            // Isolation: the reader sees none of it.
            assert!(fresh.contains(&format!("&{k}=false")), "{mode:?}: {fresh}");
        }
        // HTTP cache (plain http: Chromium caches nothing from a connection with
        // certificate errors): fetched by the writer once (its second view used the
        // cache: the control) and again by the reader. The https pages fetch it each time.
        let cached = log
            .iter()
            .filter(|r| r.path_and_query == "/lab/iso-cached.js" && r.scheme == "http")
            .count();
        assert_eq!(cached, 2, "{mode:?}: {log:#?}");
        // HSTS cannot be checked with a self-signed certificate: Chromium ignores the
        // header on such a connection, so even the writer's own http:// navigation stays
        // http (if this control ever starts upgrading, assert the reader's is not).
        let scheme = |q: &str| -> Vec<String> {
            log.iter()
                .filter(|r| r.path_and_query == format!("/lab/next?hsts={q}"))
                .map(|r| r.scheme.clone())
                .collect()
        };
        assert_eq!(scheme("probe"), ["http"], "{mode:?}");
        if scheme("control") != ["http"] {
            assert_eq!(scheme("control"), ["https"], "{mode:?}");
        }

        // The reader really ran in the writer's browser: a context opens far faster than
        // a browser starts.
        let start = |i: usize| visits[i]["timings"]["session_start_ms"].as_u64().unwrap();
        let (w, r) = if visits[0]["scenario"] == "writer" {
            (start(0), start(1))
        } else {
            (start(1), start(0))
        };
        if mode.is_none() {
            assert!(r < w, "reader {r} ms, writer {w} ms");
        }
    }
    server.shutdown().await;
}

/// Overlap: while a scenario runs, its browser prepares the next scenario's browser context
/// (a tab in a window of its own). The running page neither loses focus nor becomes hidden
/// (a page may send a beacon on `visibilitychange`), and the next scenario's page starts
/// visible and focused. Run with each way of preparing, and without (the control).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn preparing_the_next_context_leaves_the_running_page_alone() {
    const OVERLAP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/overlap.toml");
    let _slot = ONE_AT_A_TIME.lock().await;
    let server = DemoServer::start(0).await.expect("demo server");
    let port = server.port();
    let dir = tempfile::tempdir().unwrap();
    for mode in ["settle", "start", "off"] {
        server.clear_log();
        let db = dir.path().join(format!("overlap-{mode}.db"));
        let out = tokio::task::spawn_blocking(move || {
            consentry()
                .args(["audit", OVERLAP, "--format", "json", "--no-progress"])
                .args(["--jobs", "1", "--fail-on", "never"])
                .args(["--scenario", "watched", "--scenario", "next", "--db"])
                .arg(&db)
                .env("CONSENTRY_DEMO_PORT", port.to_string())
                .env("CONSENTRY_PREPARE_NEXT", mode)
                .output()
                .expect("run consentry")
        })
        .await
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(0), "{mode}: stderr:\n{stderr}");
        let json: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
        for v in json["visits"].as_array().expect("visits") {
            assert_eq!(v["status"]["status"], "complete", "{mode}: {v:#}");
        }
        let probes: Vec<String> = server
            .log()
            .iter()
            .filter(|r| r.path_and_query.starts_with("/lab/probe?"))
            .map(|r| {
                r.path_and_query
                    .trim_start_matches("/lab/probe?")
                    .to_string()
            })
            .collect();
        let at = |k: &str| {
            probes
                .iter()
                .position(|p| p.starts_with(&format!("at={k}&")))
        };
        for k in ["begin", "end", "next"] {
            let i = at(k).unwrap_or_else(|| panic!("{mode}: no probe {k}: {probes:?}"));
            assert_eq!(
                probes[i],
                format!("at={k}&vis=visible&focus=true"),
                "{mode}: {probes:?}"
            );
        }
        let end = at("end").unwrap_or_default();
        assert!(
            !probes.iter().any(|p| p.starts_with("at=blur&")),
            "{mode}: the running page lost focus: {probes:?}"
        );
        // Leaving the page (about:blank) hides it: only after the last probe.
        assert!(
            at("visibilitychange").is_none_or(|i| i > end),
            "{mode}: the running page was hidden: {probes:?}"
        );
    }
    server.shutdown().await;
}

/// The base64 SHA-256 of a DER certificate's SubjectPublicKeyInfo (what Chromium's
/// `--ignore-certificate-errors-spki-list` takes).
fn spki_sha256_base64(cert: &[u8]) -> String {
    use sha2::Digest;
    // One DER element at `at`: (start of its content, end of the element).
    fn element(der: &[u8], at: usize) -> (usize, usize) {
        let len0 = der[at + 1] as usize;
        let (len, head) = if len0 < 0x80 {
            (len0, 2)
        } else {
            let n = len0 & 0x7f;
            let len = der[at + 2..at + 2 + n]
                .iter()
                .fold(0usize, |l, b| (l << 8) | *b as usize);
            (len, 2 + n)
        };
        (at + head, at + head + len)
    }
    let (tbs, _) = element(cert, element(cert, 0).0);
    let mut at = tbs;
    if cert[at] == 0xa0 {
        at = element(cert, at).1; // [0] version
    }
    for _ in 0..5 {
        at = element(cert, at).1; // serial, signature, issuer, validity, subject
    }
    let digest = sha2::Sha256::digest(&cert[at..element(cert, at).1]);
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in digest.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// HSTS never leaks between scenarios: the writer's own http:// load of the host that sent
/// it Strict-Transport-Security is upgraded (the control: HSTS was stored), the reader's,
/// next in the same browser (or in a fresh one), is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn hsts_does_not_leak_between_scenarios() {
    const HSTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hsts.toml");
    let _slot = ONE_AT_A_TIME.lock().await;
    let server = DemoServer::start(0).await.expect("demo server");
    let port = server.port();
    let spki = spki_sha256_base64(server.certificate_der());
    let dir = tempfile::tempdir().unwrap();
    for mode in [None, Some("--fresh-browser")] {
        server.clear_log();
        let db = dir.path().join("hsts.db");
        let spki = spki.clone();
        let out = tokio::task::spawn_blocking(move || {
            let mut cmd = consentry();
            cmd.args(["audit", HSTS, "--format", "json", "--no-progress"])
                .args(["--jobs", "1", "--fail-on", "never"])
                .args(["--scenario", "writer", "--scenario", "reader", "--db"])
                .arg(&db)
                .env("CONSENTRY_DEMO_PORT", port.to_string())
                .env("CONSENTRY_DEMO_SPKI", spki);
            if let Some(m) = mode {
                cmd.arg(m);
            }
            cmd.output().expect("run consentry")
        })
        .await
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(0), "{mode:?}: stderr:\n{stderr}");
        let json: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
        for v in json["visits"].as_array().expect("visits") {
            assert_eq!(v["status"]["status"], "complete", "{mode:?}: {v:#}");
        }
        let log = server.log();
        let scheme = |q: &str| -> Vec<String> {
            log.iter()
                .filter(|r| r.path_and_query == format!("/lab/next?hsts={q}"))
                .map(|r| r.scheme.clone())
                .collect()
        };
        assert_eq!(scheme("control"), ["https"], "{mode:?}: HSTS not stored");
        assert_eq!(scheme("probe"), ["http"], "{mode:?}: HSTS leaked");
    }
    server.shutdown().await;
}

/// One process audits the same page into two databases (each a `Store` with its own
/// random key): every value hash each database keeps (the `euconsent-v2` cookie's value,
/// as written by the page and as found in the jar; the TC strings of the `__tcfapi`
/// answer, the cookie and a vendor request) is keyed by that database's key, so the two
/// databases hold different hashes of the same values. The hasher is handed down as a
/// value (pipeline → engine → capture, and the request-signal decoder); with the former
/// process-wide hasher, the second audit was refused ("this process already audits into
/// another database").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn one_process_audits_into_two_databases_each_keyed_by_its_own_key() {
    use consentry::demo::FileSite;
    use consentry::engine::EngineConfig;
    use consentry::outcome::FailOn;
    use consentry::pipeline::{AuditConfig, Silent};
    use consentry::signals::tcf::TcfSignal;
    use consentry::signals::{SignalData, SignalSource};

    let _slot = ONE_AT_A_TIME.lock().await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let site = FileSite {
        root: root.join("tests/fixtures/hostile-tcf/site"),
        assets: root.join("fixtures/build"),
    };
    let server = DemoServer::start_files(0, site)
        .await
        .expect("fixture server");
    let port = server.port().to_string();
    let file = root.join("tests/fixtures/hostile-tcf/hostile-tcf.toml");
    let env = |name: &str| (name == "CONSENTRY_DEMO_PORT").then(|| port.clone());
    let spec = consentry::scenario::load::load_audit_file_with_env(&file, &env)
        .unwrap_or_else(|d| panic!("{d}"));
    let dir = tempfile::tempdir().unwrap();
    let (_never, cancel) = tokio::sync::watch::channel(false);

    // What the page plants (tests/fixtures/hostile-tcf/site/www.hostile-tcf.test).
    let core = "CQujIwAQujIwAEsAHBENDIFgAIEAAAKAAAYgAKAAAEAFAAACACEAAgAK";
    let (in_url, in_cookie, in_api) = (
        format!("{core}.IA"),
        format!("{core}.QAA"),
        format!("{core}.YAAA"),
    );
    let mut seen = Vec::new();
    for name in ["one.db", "two.db"] {
        let db = dir.path().join(name);
        let cfg = AuditConfig {
            scenario_file: file.display().to_string(),
            scenarios: vec!["no_action".into()],
            fail_on: FailOn::DEFAULT,
            db: db.clone().into(),
            engine: EngineConfig {
                jobs: 1,
                no_screenshots: true,
                ..EngineConfig::default()
            },
            acks: Default::default(),
            reports_dir: dir.path().join("reports"),
            repeat: 1,
        };
        let run = consentry::pipeline::audit(&spec, &cfg, cancel.clone(), &Silent)
            .await
            .unwrap_or_else(|e| panic!("auditing into {name}: {e}"));
        let run_id = run.report.run_id.expect("a stored run");
        let store = Store::open(&db).await.unwrap();
        let key = store.hasher().await.unwrap();
        let history = store.history();

        let writes = history.cookie_writes(run_id, None).await.unwrap();
        let write = writes
            .iter()
            .find(|c| c.name == "euconsent-v2")
            .unwrap_or_else(|| panic!("{name}: no euconsent-v2 write: {writes:#?}"));
        assert_eq!(
            write.value_hash,
            key.hash(&in_cookie),
            "{name}: cookie write"
        );
        let jar = history.cookies(run_id, None).await.unwrap();
        let stored = jar
            .iter()
            .find(|c| c.name == "euconsent-v2")
            .unwrap_or_else(|| panic!("{name}: no euconsent-v2 in the jar: {jar:#?}"));
        assert_eq!(stored.value_hash, key.hash(&in_cookie), "{name}: jar");

        let signals = history.signals(run_id, None).await.unwrap();
        let tcf = |want: fn(&SignalSource) -> bool| -> &TcfSignal {
            signals
                .iter()
                .find_map(|s| match &s.data {
                    SignalData::Tcf(t) if want(&s.source) => Some(&**t),
                    _ => None,
                })
                .unwrap_or_else(|| panic!("{name}: a TCF signal missing: {signals:#?}"))
        };
        let request = tcf(|s| matches!(s, SignalSource::Request { .. }));
        let cookie = tcf(|s| matches!(s, SignalSource::Cookie { .. }));
        let api = tcf(|s| matches!(s, SignalSource::PageApi { api } if api.contains("getTCData")));
        assert_eq!(request.string_hash, key.hash(&in_url), "{name}: request");
        assert_eq!(cookie.string_hash, key.hash(&in_cookie), "{name}: cookie");
        assert_eq!(api.string_hash, key.hash(&in_api), "{name}: __tcfapi");
        seen.push((
            write.value_hash.clone(),
            request.string_hash.clone(),
            api.string_hash.clone(),
        ));
        store.close().await;
    }
    server.shutdown().await;
    // Two databases, two keys: the same values hash differently in each.
    let (one, two) = (&seen[0], &seen[1]);
    assert_ne!(one.0, two.0, "cookie value hashes");
    assert_ne!(one.1, two.1, "request TC string hashes");
    assert_ne!(one.2, two.2, "__tcfapi TC string hashes");
}
