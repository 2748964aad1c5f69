//! The queue's fault rows (docs/queue.md, docs/reliability.md), in real Chromium:
//!
//! - PostgreSQL restarted in the middle of a queued fleet (down 15 s): the worker waits
//!   for it and goes on; nothing is lost, no visit is stored twice, and the result equals an audit
//!   in one process.
//! - The browser of a worker killed in the middle of a visit: that visit is given back,
//!   done again (once), and the result equals an audit in one process.
//!
//! Both compare the demo shop's findings (fingerprints) and status with a plain audit of
//! the demo shop on SQLite. This binary restarts its PostgreSQL server: its tests must
//! all expect that.
#![cfg(feature = "browser-tests")]

mod common;

use consentry::demo::DemoServer;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The demo shop audited in one process, on SQLite.
fn reference(dir: &Path, port: u16) -> (String, Vec<String>) {
    let run = common::audit(
        Path::new(ROOT).join("scenarios/demo-shop.toml"),
        port,
        &dir.join("single.db"),
        &[],
    );
    common::status_and_fingerprints(&run.json)
}

/// The demo site served, a temporary directory (with `tmp/` for the worker's profiles)
/// and the demo shop audited in one process there: what the queued run must equal.
async fn prologue() -> (DemoServer, tempfile::TempDir, (String, Vec<String>)) {
    let server = DemoServer::start(0).await.unwrap();
    let port = server.port();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tmp")).unwrap();
    let d = dir.path().to_path_buf();
    let want = tokio::task::spawn_blocking(move || reference(&d, port))
        .await
        .unwrap();
    (server, dir, want)
}

/// The demo shop enqueued into `db` (no wait).
fn enqueue(db: &std::ffi::OsStr, port: u16) {
    let out = common::consentry()
        .arg("audit")
        .arg(Path::new(ROOT).join("scenarios/demo-shop.toml"))
        .args(["--queue", "--db"])
        .arg(db)
        .env("CONSENTRY_DEMO_PORT", port.to_string())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One worker on `db`, its stderr piped, `TMPDIR` set to `tmp` (its browser profiles).
fn worker(db: &std::ffi::OsStr, port: u16, tmp: &Path) -> Child {
    common::consentry()
        .args(["worker", "--jobs", "1", "--lease", "10s", "--poll", "300ms"])
        .args(["--until-empty", "--db"])
        .arg(db)
        .env("CONSENTRY_DEMO_PORT", port.to_string())
        .env("TMPDIR", tmp)
        .env_remove("CONSENTRY_REPORTS_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Read `child`'s stderr lines until `when` says so, then call `then`; the rest of its
/// lines after it exits (within 5 minutes), and its exit code.
fn drive(mut child: Child, when: impl Fn(&str) -> bool, then: impl FnOnce()) -> (i32, String) {
    let err = child.stderr.take().unwrap();
    let mut rest = BufReader::new(err).lines().map_while(Result::ok);
    let mut seen = Vec::new();
    for line in rest.by_ref() {
        let hit = when(&line);
        seen.push(line);
        if hit {
            break;
        }
    }
    then();
    let tail = std::thread::spawn(move || rest.collect::<Vec<String>>());
    let deadline = Instant::now() + Duration::from_secs(300);
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the worker did not finish:\n{}", seen.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    seen.extend(tail.join().unwrap());
    (code, seen.join("\n"))
}

/// The queued run's report, read back from `db`.
fn queued_report(db: &std::ffi::OsStr) -> Value {
    let out = common::consentry()
        .args([
            "report", "latest", "--format", "json", "--output", "-", "--db",
        ])
        .arg(db)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "report latest: {e}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_mid_fleet_loses_nothing_and_stores_nothing_twice() {
    let (server, dir, want) = prologue().await;
    let port = server.port();
    let db = common::pg::TestDb::postgres().await;
    let url = db.arg();
    let tmp = dir.path().join("tmp");
    let (u, t) = (url.clone(), tmp.clone());
    let (code, log) = tokio::task::spawn_blocking(move || {
        enqueue(&u, port);
        let visited = std::sync::atomic::AtomicUsize::new(0);
        drive(
            worker(&u, port, &t),
            move |line| {
                line.contains(": visited ")
                    && visited.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1
            },
            // After its second visit: the server goes away for 15 s (longer than the
            // pool's 10 s wait for a connection, and than the 10 s lease; the visit under
            // way ends meanwhile) and comes back.
            || {
                let t = Instant::now();
                common::pg::restart_server(Duration::from_secs(15));
                eprintln!("restarted PostgreSQL in {:?}", t.elapsed()); // shown on failure
            },
        )
    })
    .await
    .unwrap();
    server.shutdown().await;
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("trying again") || log.contains("cannot"),
        "the worker saw the database go: {log}"
    );
    let got = queued_report(&url);
    assert_eq!(common::status_and_fingerprints(&got), want, "{log}");
    assert_eq!(db.count("visits").await, 6, "{log}");
    assert_eq!(db.count("queue_jobs WHERE state <> 'done'").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_killed_mid_visit_is_retried_once_and_the_result_is_unchanged() {
    let (server, dir, want) = prologue().await;
    let port = server.port();
    let db = dir.path().join("queue.db");
    let tmp = dir.path().join("tmp");
    let (b, t) = (db.clone().into_os_string(), tmp.clone());
    let killed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let k = killed.clone();
    let (code, log) = tokio::task::spawn_blocking(move || {
        enqueue(&b, port);
        drive(
            worker(&b, port, &t),
            |line| line.contains("visit demo-shop/accept_all (attempt 1)"),
            move || {
                // Once its page is loading: the browser goes away mid-visit.
                std::thread::sleep(Duration::from_millis(1500));
                k.store(
                    common::kill_browsers_using(&t, false),
                    std::sync::atomic::Ordering::SeqCst,
                );
            },
        )
    })
    .await
    .unwrap();
    server.shutdown().await;
    assert!(
        killed.load(std::sync::atomic::Ordering::SeqCst) >= 1,
        "no browser to kill: {log}"
    );
    assert_eq!(code, 0, "{log}");
    // The visit the kill hit is given back and tried once more. Which visit that is depends
    // on the machine's speed (a quick accept_all can finish before the kill, and the next
    // visit then meets the dead browser), so it is read from the log.
    let given_back: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("given back: the browser failed"))
        .collect();
    assert_eq!(given_back.len(), 1, "one visit given back: {log}");
    let visit = given_back[0]
        .split("visit ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_default();
    assert!(visit.starts_with("demo-shop/"), "{log}");
    assert!(log.contains(&format!("visit {visit} (attempt 2)")), "{log}");
    let got = queued_report(db.as_os_str());
    assert_eq!(common::status_and_fingerprints(&got), want, "{log}");
    // `fleet status`: finished (exit 0), every visit done, the given-back job's reason.
    let out = common::consentry()
        .args(["fleet", "status", "--format", "json", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (status["visits_done"].as_u64(), status["visits"].as_u64()),
        (Some(6), Some(6))
    );
    assert_eq!(status["sites_finished"], 1);
    assert_eq!(status["status"], want.0.as_str());
    let reason = status["sites"][0]["last_error"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("the browser failed"), "{status}");
}
