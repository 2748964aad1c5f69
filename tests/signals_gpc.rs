//! Global Privacy Control and legitimate-interest storage on a real Chromium (Debian's,
//! through chromedriver), against the GPC fixture site (fixtures/sites/gpc) served
//! in-process over HTTPS. They run the real binary. docs/signals.md#global-privacy-control.
//! Needs the `demo` feature (the demo server).
#![cfg(feature = "demo")]

mod common;

use common::Run;
use consentry::demo::{DemoServer, FileSite, LoggedRequest};
use consentry::signals::gpc::{GpcSignal, WellKnownOutcome};
use consentry::signals::{SignalData, SignalSource};
use consentry::store::Store;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gpc/gpc.toml");

/// One browser test at a time (two cores; each audit runs its own Chromium).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The fixture's own hosts (Chromium's background requests to Google are not the page's).
fn fixture_host(host: &str) -> bool {
    host.ends_with(".test")
}

fn audit(file: &Path, port: u16, db: &Path, scenario: &str) -> Run {
    common::audit(file, port, db, &["--jobs", "1", "--scenario", scenario])
}

/// Audit one scenario of the fixture, and what the server logged meanwhile. A visit
/// Chromium's renderer crashed in (it happens on a loaded two-core machine, whatever the
/// page) is run once more; any other incomplete visit fails the test.
async fn audit_logged(server: &DemoServer, db: &Path, scenario: &str) -> (Run, Vec<LoggedRequest>) {
    for attempt in 0..2 {
        server.clear_log();
        let (port, db2, s) = (server.port(), db.to_path_buf(), scenario.to_string());
        let run = tokio::task::spawn_blocking(move || audit(Path::new(SCENARIOS), port, &db2, &s))
            .await
            .unwrap();
        let crashed = run.stderr.contains("[browser-crashed]");
        if !crashed || attempt == 1 {
            assert!(
                !run.stderr.contains("NOT OBSERVED"),
                "{scenario} not observed:\n{}",
                run.stderr
            );
            return (run, server.log());
        }
    }
    unreachable!()
}

fn findings(json: &Value, code: &str) -> BTreeSet<(String, String)> {
    json["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .filter(|f| f["code"] == code)
        .map(|f| {
            (
                f["scenario"].as_str().unwrap_or("-").to_string(),
                f["subject"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn logged(log: &[LoggedRequest], host: &str, path: &str) -> Vec<LoggedRequest> {
    log.iter()
        .filter(|r| r.host == host && r.path_and_query.starts_with(path))
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn gpc_reaches_every_frame_and_worker_and_the_ignoring_vendor_is_flagged() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let site = FileSite::named(Path::new(env!("CARGO_MANIFEST_DIR")), "gpc");
    let server = DemoServer::start_files(0, site)
        .await
        .expect("fixture server");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("audit.db");

    // Without GPC: no request of the page carries the header, no script sees it.
    let (plain, log) = audit_logged(&server, &db, "no_action").await;
    let page_requests: Vec<&LoggedRequest> = log.iter().filter(|r| fixture_host(&r.host)).collect();
    assert!(page_requests.len() >= 10, "{page_requests:#?}");
    let with_header: Vec<_> = page_requests
        .iter()
        .filter(|r| r.sec_gpc.is_some())
        .collect();
    assert!(
        with_header.is_empty(),
        "Sec-GPC without GPC: {with_header:#?}"
    );
    for ctx in ["page", "iframe", "dedicated", "shared", "service"] {
        let probe: Vec<_> = log
            .iter()
            .filter(|r| r.path_and_query.starts_with(&format!("/probe?ctx={ctx}&")))
            .collect();
        assert_eq!(probe.len(), 1, "{ctx}: {log:#?}");
        assert!(
            probe[0].path_and_query.ends_with("gpc=undefined"),
            "{ctx} saw GPC without it: {}",
            probe[0].path_and_query
        );
    }
    assert!(findings(&plain.json, "vendor-ignores-gpc").is_empty());
    // Without GPC the honouring vendor's tag loads and fires.
    assert_eq!(logged(&log, "ads.honour-gpc.test", "/pixel").len(), 1);

    // With GPC: every request of the page, the cross-site iframe and each worker
    // (dedicated, shared, service) carries Sec-GPC: 1, and each sees the flag.
    let (gpc, log) = audit_logged(&server, &db, "gpc").await;
    let page_requests: Vec<&LoggedRequest> = log.iter().filter(|r| fixture_host(&r.host)).collect();
    assert!(page_requests.len() >= 10, "{page_requests:#?}");
    let without: Vec<_> = page_requests
        .iter()
        .filter(|r| r.sec_gpc.as_deref() != Some("1"))
        .collect();
    assert!(
        without.is_empty(),
        "requests without Sec-GPC: 1: {without:#?}"
    );
    for (ctx, host) in [
        ("page", "www.gpc-shop.test"),
        ("iframe", "widgets.gpc-frame.test"),
        ("dedicated", "www.gpc-shop.test"),
        ("shared", "www.gpc-shop.test"),
        ("service", "www.gpc-shop.test"),
    ] {
        let probe = logged(&log, host, &format!("/probe?ctx={ctx}&"));
        assert_eq!(probe.len(), 1, "{ctx}: {log:#?}");
        assert!(
            probe[0].path_and_query.ends_with("gpc=true"),
            "{ctx}: {}",
            probe[0].path_and_query
        );
        assert_eq!(probe[0].sec_gpc.as_deref(), Some("1"), "{ctx}");
    }
    // The worker scripts themselves were fetched with the header too.
    for w in [
        "/worker.js?ctx=dedicated",
        "/worker.js?ctx=shared",
        "/sw.js",
    ] {
        let got = logged(&log, "www.gpc-shop.test", w);
        assert!(
            !got.is_empty() && got.iter().all(|r| r.sec_gpc.as_deref() == Some("1")),
            "{w}: {got:#?}"
        );
    }
    // The ignoring vendor fired, the honouring one sent nothing, gpc.json was fetched.
    assert_eq!(logged(&log, "ads.ignore-gpc.test", "/pixel").len(), 1);
    assert!(
        logged(&log, "ads.honour-gpc.test", "/").is_empty(),
        "{log:#?}"
    );
    assert_eq!(
        logged(&log, "www.gpc-shop.test", "/.well-known/gpc.json").len(),
        1
    );

    assert_eq!(
        findings(&gpc.json, "vendor-ignores-gpc"),
        BTreeSet::from([("gpc".to_string(), "ignore-gpc".to_string())])
    );
    assert_eq!(gpc.code, 1, "{}", gpc.stderr);
    let f = gpc.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "vendor-ignores-gpc")
        .unwrap();
    assert_eq!(f["severity"], "high");
    let ev = &f["evidence"][0];
    assert_eq!(ev["scenario"], "gpc");
    assert_eq!(ev["phase"], "before-choice");
    assert_eq!(ev["page"], "https://www.gpc-shop.test/");
    assert!(
        ev["request_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://ads.ignore-gpc.test/")),
        "{ev}"
    );
    assert!(ev["time"].is_string(), "{ev}");
    let detail = ev["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("Sec-GPC: 1 sent on")
            && detail.contains("navigator.globalPrivacyControl true in"),
        "{detail}"
    );

    // What the visit recorded: the header on every request it saw, the flag in each
    // document (page and iframe), and the site's gpc.json.
    let run_id = gpc.json["run_id"].as_i64().expect("run id");
    let store = Store::open(&db).await.unwrap();
    let signals = store.history().signals(run_id, Some("gpc")).await.unwrap();
    let sent = signals
        .iter()
        .find_map(|s| match (&s.source, &s.data) {
            (SignalSource::Visit, SignalData::Gpc(GpcSignal::Sent(x))) => Some(x.clone()),
            _ => None,
        })
        .expect("the visit's GPC signal");
    assert!(
        sent.header_on_every_request(),
        "{} of {} (without: {:?})",
        sent.with_header,
        sent.requests,
        sent.without_header
    );
    assert!(sent.requests >= 10, "{sent:?}");
    let docs: BTreeSet<(String, String)> = sent
        .navigator
        .iter()
        .map(|n| (n.url.clone(), n.value.clone()))
        .collect();
    for url in [
        "https://www.gpc-shop.test/",
        "https://widgets.gpc-frame.test/frame.html",
    ] {
        assert!(
            docs.contains(&(url.to_string(), "true".to_string())),
            "{url}: {docs:?}"
        );
    }
    let well_known = signals
        .iter()
        .find_map(|s| match (&s.source, &s.data) {
            (SignalSource::WellKnown { url }, SignalData::Gpc(GpcSignal::WellKnown(w))) => {
                Some((url.clone(), w.clone()))
            }
            _ => None,
        })
        .expect("the gpc.json signal");
    assert_eq!(
        well_known.0,
        "https://www.gpc-shop.test/.well-known/gpc.json"
    );
    assert_eq!(well_known.1.status, Some(200));
    assert_eq!(
        well_known.1.outcome,
        WellKnownOutcome::Present {
            gpc: true,
            last_update: Some("2026-11-01".into())
        }
    );
    // The plain visit recorded no GPC signal.
    let plain_id = plain.json["run_id"].as_i64().expect("run id");
    let plain_signals = store
        .history()
        .signals(plain_id, Some("no_action"))
        .await
        .unwrap();
    assert!(
        plain_signals
            .iter()
            .all(|s| !matches!(s.data, SignalData::Gpc(_))),
        "{plain_signals:?}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn li_vendor_storage_before_a_choice_is_flagged_on_a_real_page() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let site = FileSite::named(Path::new(env!("CARGO_MANIFEST_DIR")), "gpc");
    let server = DemoServer::start_files(0, site)
        .await
        .expect("fixture server");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("audit.db");
    let (run, _) = audit_logged(&server, &db, "no_action").await;
    server.shutdown().await;
    // The widget (legitimate interest) sets a cookie through its frame's Set-Cookie
    // header and writes localStorage, both before any choice.
    assert_eq!(
        findings(&run.json, "li-cookie-without-consent"),
        BTreeSet::from([
            ("no_action".to_string(), "widget_id".to_string()),
            ("no_action".to_string(), "widget_seen".to_string()),
        ])
    );
    for f in run.json["findings"].as_array().unwrap() {
        if f["code"] != "li-cookie-without-consent" {
            // Consent-based vendors' findings are the consent codes, not this one.
            assert_ne!(f["vendor"], "widgets", "{f}");
            continue;
        }
        assert_eq!(f["severity"], "medium");
        assert_eq!(f["vendor"], "widgets");
        let ev = &f["evidence"][0];
        assert_eq!(ev["phase"], "before-choice");
        let cookie = ev["cookie"].as_str().unwrap_or_default();
        assert!(
            cookie == "widget_id@widgets.gpc-frame.test"
                || cookie == "localStorage:widget_seen@widgets.gpc-frame.test",
            "{ev}"
        );
    }
}

/// The gpc.json signal of a one-scenario (`gpc`) audit of `base_url` on the fixture.
async fn well_known_of(
    server: &DemoServer,
    base_url: &str,
) -> consentry::signals::gpc::GpcWellKnown {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/gpc/gpc.policy.toml"
        ),
        dir.path().join("gpc.policy.toml"),
    )
    .unwrap();
    let file = dir.path().join("site.toml");
    std::fs::write(
        &file,
        format!(
            "[site]\nname = \"gpc-site\"\nbase_url = \"{base_url}\"\npages = [\"{base_url}\"]\npolicy = \"gpc.policy.toml\"\n\
             [browser]\nargs = [\"--host-resolver-rules=MAP * 127.0.0.1:${{CONSENTRY_DEMO_PORT}}, EXCLUDE localhost\"]\n\
             settle_quiet = \"500ms\"\n[run]\nscenarios = [\"gpc\"]\n"
        ),
    )
    .unwrap();
    let db = dir.path().join("audit.db");
    let port = server.port();
    let (f2, db2) = (file.clone(), db.clone());
    let run = tokio::task::spawn_blocking(move || audit(&f2, port, &db2, "gpc"))
        .await
        .unwrap();
    assert!(!run.stderr.contains("NOT OBSERVED"), "{}", run.stderr);
    let run_id = run.json["run_id"].as_i64().expect("run id");
    let store = Store::open(&db).await.unwrap();
    store
        .history()
        .signals(run_id, Some("gpc"))
        .await
        .unwrap()
        .into_iter()
        .find_map(|s| match s.data {
            SignalData::Gpc(GpcSignal::WellKnown(w)) => Some(w),
            _ => None,
        })
        .expect("the gpc.json signal")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn gpc_json_absent_and_malformed_are_recorded_not_judged() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let site = FileSite::named(Path::new(env!("CARGO_MANIFEST_DIR")), "gpc");
    let server = DemoServer::start_files(0, site)
        .await
        .expect("fixture server");
    // The widget host publishes no gpc.json: the fixture server answers 404.
    let absent = well_known_of(&server, "https://widgets.gpc-frame.test/frame.html").await;
    assert_eq!(
        absent.url,
        "https://widgets.gpc-frame.test/.well-known/gpc.json"
    );
    assert_eq!(absent.status, Some(404));
    assert_eq!(absent.outcome, WellKnownOutcome::Absent);
    // A gpc.json whose `gpc` is a string.
    let broken = well_known_of(&server, "https://www.gpc-broken.test/").await;
    assert_eq!(broken.status, Some(200));
    match &broken.outcome {
        WellKnownOutcome::Malformed { error } => {
            assert!(error.contains("`gpc` is \"yes\", not a boolean"), "{error}")
        }
        other => panic!("{other:?}"),
    }
    server.shutdown().await;
}
