//! The real binary interrupted mid-audit of the demo site: Ctrl-C, SIGTERM, SIGHUP,
//! `kill -9`, a killed browser, renderer or chromedriver. What was observed is kept, nothing
//! is left behind, the run is marked. Needs the `demo` feature (the demo site).
#![cfg(feature = "demo")]

mod common;

use consentry::demo::DemoServer;
use consentry::store::Store;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// `consentry audit` of the demo, one scenario at a time, with its own TMPDIR (so its
/// browser profiles can be checked), JSON on stdout.
fn spawn_audit(
    port: u16,
    db: &std::path::Path,
    tmp: &std::path::Path,
    extra: &[&str],
) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["audit", "scenarios/demo-shop.toml", "--jobs", "1"])
        .args(["--format", "json", "--db"])
        .arg(db)
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CONSENTRY_DEMO_PORT", port.to_string())
        .env("TMPDIR", tmp)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Has the newest run in `db` recorded at least one scenario?
async fn first_visit_recorded(db: &std::path::Path) -> bool {
    if !db.exists() {
        return false;
    }
    let Ok(store) = Store::open(db).await else {
        return false;
    };
    match store
        .history()
        .runs(None, 1)
        .await
        .unwrap_or_default()
        .first()
    {
        Some(run) => !store
            .history()
            .visits(run.id)
            .await
            .unwrap_or_default()
            .is_empty(),
        None => false,
    }
}

/// Profile directories and processes (chromedriver, Chromium, the watchdog) that an audit
/// run with `TMPDIR=tmp` left behind.
fn leftovers(tmp: &std::path::Path) -> (Vec<String>, Vec<String>) {
    let profiles: Vec<String> = std::fs::read_dir(tmp)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("consentry-profile-"))
        .collect();
    let needle = format!("TMPDIR={}", tmp.display());
    let mut alive = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(env) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if !env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()) {
            continue;
        }
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        if stat.contains(") Z ") {
            continue; // a zombie is dead, only not yet reaped
        }
        if let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) {
            alive.push(String::from_utf8_lossy(&cmd).replace('\0', " "));
        }
    }
    (profiles, alive)
}

/// Wait up to `limit` for an audit's leftovers to disappear; returns what is still there.
async fn leftovers_after(tmp: &std::path::Path, limit: Duration) -> (Vec<String>, Vec<String>) {
    let deadline = Instant::now() + limit;
    loop {
        let left = leftovers(tmp);
        if (left.0.is_empty() && left.1.is_empty()) || Instant::now() > deadline {
            return left;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Start an audit of the demo and wait until its first visit is on disk and the second
/// one is running.
async fn audit_in_flight(
    port: u16,
    db: &std::path::Path,
    tmp: &std::path::Path,
) -> tokio::process::Child {
    let child = spawn_audit(port, db, tmp, &[]);
    let deadline = Instant::now() + Duration::from_secs(90);
    while !first_visit_recorded(db).await {
        assert!(Instant::now() < deadline, "no scenario recorded in time");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    child
}

/// SIGINT, SIGTERM, SIGHUP: browsers closed, profiles deleted, what was observed kept
/// (with its findings), the report printed, run marked interrupted, exit 3.
async fn signal_keeps_what_was_recorded_and_cleans_up(signal: i32) {
    let server = DemoServer::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let db = dir.path().join("int.db");
    let child = audit_in_flight(server.port(), &db, &tmp).await;
    let pid = child.id().unwrap() as i32;
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(pid, signal);
    }
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("consentry stops after the signal")
        .unwrap();
    server.shutdown().await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(3),
        "signal {signal}; stderr:\n{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"]["status"], "interrupted");

    let store = Store::open(&db).await.unwrap();
    let run = store.history().runs(None, 1).await.unwrap().remove(0);
    assert_eq!(run.status.as_str(), "interrupted");
    let visits = store.history().visits(run.id).await.unwrap();
    assert!(!visits.is_empty());
    assert!(
        !store
            .history()
            .requests(run.id, None)
            .await
            .unwrap()
            .is_empty(),
        "requests observed before the signal are kept"
    );
    // The first visit (no_action) was judged when it was recorded: its findings are kept.
    let findings = store.history().findings(run.id).await.unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f.scenario.as_deref() == Some("no_action")),
        "findings of the recorded visit are kept: {findings:#?}"
    );
    store.close().await;
    assert_eq!(sqlx_integrity(&db).await, "ok");

    let (profiles, alive) = leftovers_after(&tmp, Duration::from_secs(5)).await;
    assert!(
        profiles.is_empty(),
        "profiles left: {profiles:?}\nstderr:\n{stderr}"
    );
    assert!(alive.is_empty(), "processes still running: {alive:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn ctrl_c_keeps_what_was_recorded_and_cleans_up() {
    signal_keeps_what_was_recorded_and_cleans_up(libc::SIGINT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn sigterm_and_sighup_behave_like_ctrl_c() {
    signal_keeps_what_was_recorded_and_cleans_up(libc::SIGTERM).await;
    signal_keeps_what_was_recorded_and_cleans_up(libc::SIGHUP).await;
}

/// `kill -9` of consentry: no handler runs, yet no browser or profile outlives it (the
/// watchdog), what was recorded is intact, and the next audit marks the run incomplete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn kill_9_leaves_no_browser_and_the_next_audit_marks_the_run() {
    let server = DemoServer::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let db = dir.path().join("kill9.db");
    let mut child = audit_in_flight(server.port(), &db, &tmp).await;
    child.start_kill().unwrap();
    let _ = child.wait().await;

    let (profiles, alive) = leftovers_after(&tmp, Duration::from_secs(10)).await;
    assert!(alive.is_empty(), "processes outlived consentry: {alive:#?}");
    assert!(
        profiles.is_empty(),
        "profiles outlived consentry: {profiles:?}"
    );

    let store = Store::open(&db).await.unwrap();
    let killed = store.history().runs(None, 1).await.unwrap().remove(0);
    assert_eq!(
        killed.status.as_str(),
        "running",
        "nothing could record its end"
    );
    assert!(!store.history().visits(killed.id).await.unwrap().is_empty());
    // Its finished visits were judged as they were recorded: their findings survived.
    assert!(
        !store
            .history()
            .findings(killed.id)
            .await
            .unwrap()
            .is_empty(),
        "findings of recorded visits survive kill -9"
    );
    let ok: String = sqlx_integrity(&db).await;
    assert_eq!(ok, "ok");
    store.close().await;

    // The next audit (one short scenario) marks the dead run incomplete.
    let next = spawn_audit(server.port(), &db, &tmp, &["-s", "no_action"])
        .wait_with_output()
        .await
        .unwrap();
    server.shutdown().await;
    assert!(
        matches!(next.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&next.stderr)
    );
    let store = Store::open(&db).await.unwrap();
    let again = store.history().run(killed.id).await.unwrap().unwrap();
    assert_eq!(again.status.as_str(), "incomplete", "{again:?}");
}

/// `PRAGMA integrity_check` of a database file.
async fn sqlx_integrity(db: &std::path::Path) -> String {
    consentry::store::integrity_check(db)
        .await
        .unwrap_or_else(|e| format!("integrity check failed: {e}"))
}

/// What an audit of no_action, accept_then_object, reject_all reported when the browser
/// (or, with `renderers`, only its renderers) was killed in the middle of the second
/// visit: its exit code, JSON report and stderr, after checking the database and that
/// nothing was left behind.
async fn crash_mid_second_visit(renderers: bool) -> (Option<i32>, serde_json::Value, String) {
    let server = DemoServer::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let db = dir.path().join("crash.db");
    let child = spawn_audit(
        server.port(),
        &db,
        &tmp,
        &[
            "-s",
            "no_action",
            "-s",
            "accept_then_object",
            "-s",
            "reject_all",
        ],
    );
    kill_mid_second_visit(&server, &db, || {
        common::kill_browsers_using(&tmp, renderers)
    })
    .await;
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("consentry finishes after the crash")
        .unwrap();
    server.shutdown().await;
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("report is not JSON ({e}); stderr:\n{stderr}"));
    let store = Store::open(&db).await.unwrap();
    let run = store.history().runs(None, 1).await.unwrap().remove(0);
    assert_eq!(
        store.history().visits(run.id).await.unwrap().len(),
        3,
        "every visit recorded"
    );
    store.close().await;
    assert_eq!(sqlx_integrity(&db).await, "ok");
    let (profiles, alive) = leftovers_after(&tmp, Duration::from_secs(5)).await;
    assert!(
        profiles.is_empty() && alive.is_empty(),
        "{profiles:?} {alive:#?}"
    );
    (out.status.code(), report, stderr)
}

/// The status object of one visit of a report.
fn visit_status(report: &serde_json::Value, id: &str) -> serde_json::Value {
    report["visits"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["scenario"] == id))
        .map(|v| v["status"].clone())
        .unwrap_or_else(|| panic!("{id} not reported: {report}"))
}

/// A browser killed mid-scenario: that scenario is not observed, with a reason naming the
/// crash and the page; the scenarios before and after it are recorded as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn a_browser_that_dies_mid_scenario_is_reported_and_nothing_is_lost() {
    let (code, report, stderr) = crash_mid_second_visit(false).await;
    assert_eq!(code, Some(3), "stderr:\n{stderr}");
    assert_eq!(visit_status(&report, "no_action")["status"], "complete");
    let crashed = visit_status(&report, "accept_then_object");
    assert_eq!(crashed["status"], "incomplete", "{stderr}");
    let reason = crashed["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("browser went away") && reason.contains("www.demo-shop.test"),
        "{reason}"
    );
    assert_eq!(
        visit_status(&report, "reject_all")["status"],
        "complete",
        "{stderr}"
    );
}

/// Once the first visit is recorded, wait for the next one to load the shop's page, then
/// `kill` (mid-visit, not mid-start) until it killed something.
async fn kill_mid_second_visit(
    server: &DemoServer,
    db: &std::path::Path,
    kill: impl Fn() -> usize,
) {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut served_before: Option<usize> = None;
    let mut killed = 0;
    while killed == 0 {
        assert!(Instant::now() < deadline, "nothing to kill in time");
        let pages_served = || {
            server
                .log()
                .iter()
                .filter(|r| r.host == "www.demo-shop.test" && r.path_and_query == "/")
                .count()
        };
        match served_before {
            // The first visit (no_action) loads the shop's page once. Not sampled when the
            // first visit is recorded: the next visit, in a context prepared meanwhile,
            // may have loaded it by then.
            None => served_before = first_visit_recorded(db).await.then_some(1),
            Some(n) if pages_served() > n => {
                tokio::time::sleep(Duration::from_millis(300)).await;
                killed = kill();
            }
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// chromedriver itself killed mid-run: the visits it served are not observed with a
/// reason, the run is incomplete (exit 3), the database is intact, nothing is left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn a_killed_chromedriver_is_reported_and_nothing_is_left() {
    let server = DemoServer::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let db = dir.path().join("driver.db");
    let child = audit_in_flight(server.port(), &db, &tmp).await;
    let (_, alive) = leftovers(&tmp);
    let driver: Vec<i32> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
            let env = std::fs::read(e.path().join("environ")).ok()?;
            let mine = env
                .split(|b| *b == 0)
                .any(|kv| kv == format!("TMPDIR={}", tmp.display()).as_bytes());
            (mine && String::from_utf8_lossy(&cmd).starts_with("/usr/bin/chromedriver"))
                .then_some(pid)
        })
        .collect();
    assert_eq!(driver.len(), 1, "one chromedriver: {alive:#?}");
    // SAFETY: signalling a process this test's audit started.
    unsafe {
        libc::kill(driver[0], libc::SIGKILL);
    }
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("consentry finishes after losing chromedriver")
        .unwrap();
    server.shutdown().await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "stderr:\n{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let not_observed: Vec<&serde_json::Value> = report["visits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["status"]["status"] == "incomplete")
        .collect();
    assert!(!not_observed.is_empty(), "{report}");
    for v in &not_observed {
        assert!(
            !v["status"]["reason"]
                .as_str()
                .unwrap_or_default()
                .is_empty(),
            "a reason: {v}"
        );
    }
    assert_eq!(
        report["visits"][0]["status"]["status"], "complete",
        "the first visit was recorded before"
    );
    assert_eq!(sqlx_integrity(&db).await, "ok");
    let (profiles, alive) = leftovers_after(&tmp, Duration::from_secs(5)).await;
    assert!(profiles.is_empty(), "profiles left: {profiles:?}");
    assert!(alive.is_empty(), "processes left: {alive:#?}");
}

/// A renderer that crashes mid-visit (the browser survives): that visit is not observed,
/// `browser-crashed`, naming the renderer and the page; the visits around it are recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn a_renderer_crash_is_reported_and_nothing_is_lost() {
    let (code, report, stderr) = crash_mid_second_visit(true).await;
    assert_eq!(code, Some(3), "stderr:\n{stderr}");
    assert_eq!(visit_status(&report, "no_action")["status"], "complete");
    let crashed = visit_status(&report, "accept_then_object");
    assert_eq!(crashed["status"], "incomplete", "{report}");
    assert_eq!(crashed["kind"], "browser-crashed", "{crashed}");
    let reason = crashed["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("renderer"), "{reason}");
    assert_eq!(
        visit_status(&report, "reject_all")["status"],
        "complete",
        "{stderr}"
    );
}
