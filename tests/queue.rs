//! Workers sharing one queue (docs/queue.md), in real Chromium on a real PostgreSQL
//! server: the agency fixture enqueued by one process (`audit --queue --wait`) and
//! audited by two `consentry worker` processes, one of them killed with SIGKILL in the
//! middle of a visit. Every site's findings and status equal those of the same fleet
//! audited in one process on SQLite; every visit is stored exactly once; the killed
//! worker's job was done again by the other.
#![cfg(feature = "browser-tests")]

mod common;

use consentry::demo::agency;
use consentry::demo::{DemoServer, FileSite};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const SEED: u64 = 2026;
/// Eight clients: the three broken ones and five that work (every CMP kind), so the test
/// runs the fleet twice in a few minutes.
const SITES: usize = 8;

/// Every site's report as the fleet wrote it under `reports`: (status, finding keys,
/// fingerprints).
type Outcome = (String, Vec<common::Key>, Vec<String>);

fn outcomes(reports: &Path, sites: &[String]) -> BTreeMap<String, Outcome> {
    sites
        .iter()
        .map(|site| {
            let file = reports.join(site).join("report.json");
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let json: Value = serde_json::from_str(&text).unwrap();
            let keys = common::finding_keys(&json).into_iter().collect();
            let (status, prints) = common::status_and_fingerprints(&json);
            (site.clone(), (status, keys, prints))
        })
        .collect()
}

fn with_fixture_env(cmd: &mut Command, port: u16) -> &mut Command {
    cmd.env("CONSENTRY_DEMO_PORT", port.to_string())
        .env_remove("CONSENTRY_REPORTS_DIR")
        .env_remove("CONSENTRY_DB")
        .arg("--autoconsent")
        .arg(Path::new(ROOT).join("fixtures/build/autoconsent"))
}

fn worker(db: &std::ffi::OsStr, port: u16, name: &str) -> Child {
    worker_with_grace(db, port, name, "60s")
}

/// A worker with `--until-empty` and `--start-grace grace`, its stderr piped.
fn worker_with_grace(db: &std::ffi::OsStr, port: u16, name: &str, grace: &str) -> Child {
    let mut cmd = common::consentry();
    cmd.args(["worker", "--jobs", "1", "--lease", "8s", "--poll", "300ms"])
        .args([
            "--until-empty",
            "--start-grace",
            grace,
            "--name",
            name,
            "--db",
        ])
        .arg(db);
    with_fixture_env(&mut cmd, port)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("consentry worker starts")
}

/// Read `pipe` to its end on a thread of its own.
fn drain(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// Wait for `child` at most `limit`: its exit code, or `None` (and the child killed) when
/// it did not finish in time.
fn wait(child: &mut Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status.code().unwrap_or(-1));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_equal_one_process_and_a_killed_worker_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("agency");
    let manifest = agency::generate(SEED, SITES, &out).expect("generate");
    let sites: Vec<String> = manifest.sites.iter().map(|s| s.name.clone()).collect();
    let server = DemoServer::start_files(0, FileSite::agency(Path::new(ROOT), &out))
        .await
        .unwrap();
    let port = server.port();
    let fleet = out.join("fleet.toml");

    // The fleet in one process, on SQLite: the reference.
    let single_db = dir.path().join("single.db");
    let (f, d) = (fleet.clone(), single_db.clone());
    let single = tokio::task::spawn_blocking(move || {
        let mut cmd = common::consentry();
        cmd.arg("audit")
            .arg(&f)
            .args(["--jobs", "2", "--format", "json", "--no-progress", "--db"])
            .arg(&d);
        common::run_json(with_fixture_env(&mut cmd, port))
    })
    .await
    .unwrap();
    let reference = outcomes(&out.join("reports"), &sites);
    std::fs::rename(out.join("reports"), dir.path().join("reports-single")).unwrap();

    // The same fleet queued in PostgreSQL, two workers, one killed mid-visit.
    let db = common::pg::TestDb::postgres().await;
    let url = db.arg();
    let (f, u) = (fleet.clone(), url.clone());
    let queued = tokio::task::spawn_blocking(move || {
        let mut enqueuer = {
            let mut cmd = common::consentry();
            cmd.arg("audit")
                .arg(&f)
                .args(["--queue", "--wait", "--format", "json", "--db"])
                .arg(&u);
            with_fixture_env(&mut cmd, port)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("enqueue")
        };
        // Both pipes drained while the enqueuer waits: a full pipe would block it.
        let enq_out = drain(enqueuer.stdout.take().unwrap());
        let (queued_tx, queued_rx) = std::sync::mpsc::channel();
        let enq_err = {
            let pipe = enqueuer.stderr.take().unwrap();
            std::thread::spawn(move || {
                let mut text = String::new();
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if line.starts_with("queued fleet run") {
                        let _ = queued_tx.send(());
                    }
                    text.push_str(&line);
                    text.push('\n');
                }
                text
            })
        };
        // The workers start once the fleet is queued: with --until-empty, a worker that
        // finds the queue empty stops (the project's CI once saw worker b start before
        // the enqueuer had queued anything, stop at once, and leave the fleet unfinished).
        if queued_rx.recv_timeout(Duration::from_secs(120)).is_err() {
            let _ = enqueuer.kill();
            let _ = enqueuer.wait();
            panic!(
                "the fleet was not queued within 120 s:\n{}",
                enq_err.join().unwrap()
            );
        }
        let mut a = worker(&u, port, "a");
        let mut b = worker(&u, port, "b");
        // Kill `a` (SIGKILL) once it has started its fourth job: it holds that lease.
        let b_err = drain(b.stderr.take().unwrap());
        let a_err = a.stderr.take().unwrap();
        let watcher = std::thread::spawn(move || {
            let mut lines = Vec::new();
            let mut started = 0;
            for line in BufReader::new(a_err).lines().map_while(Result::ok) {
                if line.contains(" (attempt ") {
                    started += 1;
                }
                lines.push(line);
                if started == 4 {
                    break;
                }
            }
            lines
        });
        let a_lines = watcher.join().unwrap();
        a.kill().unwrap();
        let _ = a.wait();
        let b_code = wait(&mut b, Duration::from_secs(900));
        // The enqueuer has nothing left to wait for once the workers stopped; when one of
        // them failed it would wait forever, so it is stopped at once.
        let limit = if b_code == Some(0) { 120 } else { 0 };
        let code = wait(&mut enqueuer, Duration::from_secs(limit));
        let b_err = b_err.join().unwrap();
        let stdout = enq_out.join().unwrap();
        let enq_err = enq_err.join().unwrap();
        (code, stdout, b_code, a_lines, b_err, enq_err)
    })
    .await
    .unwrap();
    server.shutdown().await;
    let (code, stdout, b_code, a_lines, b_err, enq_err) = queued;
    let context = format!(
        "worker a (killed):\n{}\nworker b:\n{b_err}\nthe enqueuer:\n{enq_err}",
        a_lines.join("\n")
    );
    assert_eq!(
        b_code,
        Some(0),
        "worker b's exit code (None: still running after 900 s)\n{context}"
    );
    assert_eq!(
        code,
        Some(single.code),
        "the fleet's exit code\n{stdout}\n{context}"
    );
    let summary: Value = serde_json::from_str(&stdout).expect("the fleet summary in JSON");
    assert_eq!(summary["kind"], "fleet");
    assert_eq!(
        summary["sites"].as_array().map(Vec::len),
        Some(sites.len()),
        "{stdout}"
    );
    // Every site: the same status, findings and fingerprints as in one process.
    let got = outcomes(&out.join("reports"), &sites);
    for site in &sites {
        assert_eq!(got[site], reference[site], "{site}\n{context}");
    }
    // Every visit stored once: as many as in one process; the killed worker's job was
    // leased again and done by the other.
    let single_visits = common::pg::TestDb {
        location: consentry::store::DbLocation::Sqlite(single_db),
        dir: tempfile::tempdir().unwrap(),
    }
    .count("visits")
    .await;
    assert_eq!(db.count("visits").await, single_visits, "{context}");
    assert!(
        db.count("queue_jobs WHERE attempts > 1").await >= 1,
        "no job was taken over from the killed worker\n{context}"
    );
    assert_eq!(db.count("queue_jobs WHERE state <> 'done'").await, 0);
    assert!(b_err.contains("fleet run"), "{b_err}");
}

/// `worker --until-empty` started before its fleet is queued (as the Job of workers beside
/// the enqueuing CronJob of docs/schedules.md may be): it waits for a first job
/// (`--start-grace`) instead of stopping on the empty queue, does the fleet, and stops
/// once nothing is left; a worker whose queue stays empty stops after its grace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_started_before_its_fleet_is_queued_waits_for_it() {
    let server = DemoServer::start(0).await.unwrap();
    let port = server.port();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("queue.db");
    let idle_db = dir.path().join("idle.db");
    let d = db.clone();
    let (idle, early) = tokio::task::spawn_blocking(move || {
        // A queue that stays empty: the worker stops after its grace, exit 0.
        let mut idle = worker_with_grace(idle_db.as_os_str(), port, "idle", "1s");
        let idle_err = drain(idle.stderr.take().unwrap());
        let idle_code = wait(&mut idle, Duration::from_secs(120));
        // The worker first, the fleet queued 3 s later.
        let mut early = worker_with_grace(d.as_os_str(), port, "early", "120s");
        let early_err = drain(early.stderr.take().unwrap());
        std::thread::sleep(Duration::from_secs(3));
        let still_running = early.try_wait().unwrap().is_none();
        let enqueue = common::consentry()
            .arg("audit")
            .arg(Path::new(ROOT).join("scenarios/demo-shop.toml"))
            .args(["--queue", "--db"])
            .arg(&d)
            .env("CONSENTRY_DEMO_PORT", port.to_string())
            .output()
            .unwrap();
        let early_code = wait(&mut early, Duration::from_secs(600));
        (
            (idle_code, idle_err.join().unwrap()),
            (
                still_running,
                enqueue.status.code(),
                String::from_utf8_lossy(&enqueue.stderr).to_string(),
                early_code,
                early_err.join().unwrap(),
            ),
        )
    })
    .await
    .unwrap();
    server.shutdown().await;
    let (idle_code, idle_err) = idle;
    assert_eq!(idle_code, Some(0), "{idle_err}");
    assert!(idle_err.contains("0 job(s) done"), "{idle_err}");
    let (still_running, enqueue_code, enqueue_err, code, err) = early;
    assert!(
        still_running,
        "the worker stopped on the empty queue:\n{err}"
    );
    assert_eq!(enqueue_code, Some(0), "{enqueue_err}");
    assert_eq!(code, Some(0), "{err}");
    assert!(
        !err.contains(" 0 job(s) done"),
        "the worker did nothing:\n{err}"
    );
    let queue = common::pg::TestDb {
        location: consentry::store::DbLocation::Sqlite(db),
        dir: tempfile::tempdir().unwrap(),
    };
    assert!(queue.count("queue_jobs").await > 0, "nothing was queued");
    assert_eq!(
        queue.count("queue_jobs WHERE state <> 'done'").await,
        0,
        "{err}"
    );
}
