//! The real binary: `validate` diagnostics and exit codes, and Ctrl-C during an audit.

use consentry::demo::DemoServer;
use consentry::store::Store;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_consentry"))
}

#[test]
fn validate_reports_every_problem_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("broken.policy.toml");
    std::fs::write(
        &policy,
        r#"[[purpose]]
id = "ads"
basis = "consnet"

[[vendor]]
id = "fb"
domains = ["facebook .com"]
purposes = ["ads", "nope"]

[[cookie]]
name = "_fbp"
vendor = "fb"
max_retention = "3 moons"
"#,
    )
    .unwrap();
    let out = bin().arg("validate").arg(&policy).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let p = policy.display().to_string();
    for (pos, what) in [
        ("3:9", "consnet"),
        ("7:12", "facebook .com"),
        ("8:20", "nope"),
        ("13:17", "3 moons"),
    ] {
        let line = stderr
            .lines()
            .find(|l| l.starts_with(&format!("{p}:{pos}: error:")))
            .unwrap_or_else(|| panic!("no error at {pos} ({what}) in:\n{stderr}"));
        assert!(line.contains(what) || stderr.contains(what), "{line}");
    }
    assert!(stderr.contains("hint:"), "{stderr}");

    let ok = bin()
        .args(["validate", "scenarios/demo-shop.toml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn audit_with_an_invalid_file_exits_2_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[site]\nname = \"x\"\nbase_url = \"not a url\"\n").unwrap();
    let db = dir.path().join("never.db");
    let out = bin()
        .arg("audit")
        .arg(&file)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:3:", file.display())),
        "{stderr}"
    );
    assert!(!db.exists(), "no database for an audit that never started");
}

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
    match store.runs(None, 1).await.unwrap_or_default().first() {
        Some(run) => !store.visits(run.id).await.unwrap_or_default().is_empty(),
        None => false,
    }
}

/// Ctrl-C: browsers closed, profiles deleted, what was observed kept, run marked interrupted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_keeps_what_was_recorded_and_cleans_up() {
    let server = DemoServer::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let db = dir.path().join("int.db");
    let child = spawn_audit(server.port(), &db, &tmp, &[]);

    // Interrupt once the first scenario is on disk and the second one is running.
    let deadline = Instant::now() + Duration::from_secs(90);
    while !first_visit_recorded(&db).await {
        assert!(Instant::now() < deadline, "no scenario recorded in time");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pid = child.id().unwrap() as i32;
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("consentry stops after Ctrl-C")
        .unwrap();
    server.shutdown().await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "stderr:\n{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"]["status"], "interrupted");

    let store = Store::open(&db).await.unwrap();
    let run = store.runs(None, 1).await.unwrap().remove(0);
    assert_eq!(run.status.as_str(), "interrupted");
    let visits = store.visits(run.id).await.unwrap();
    assert!(!visits.is_empty());
    assert!(
        !store.requests(run.id, None).await.unwrap().is_empty(),
        "requests observed before Ctrl-C are kept"
    );

    // No profile directory and no browser left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("consentry-profile-"))
        .map(|n| {
            let inside: Vec<String> = std::fs::read_dir(tmp.join(&n))
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .map(|e| e.file_name().to_string_lossy().to_string())
                        .collect()
                })
                .unwrap_or_default();
            format!("{n}: {inside:?}")
        })
        .collect();
    assert!(
        leftovers.is_empty(),
        "profiles left: {leftovers:?}\nstderr:\n{stderr}"
    );
    let needle = tmp.display().to_string();
    let mut alive = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(&needle) && cmd.contains("chrom") {
                alive.push(cmd);
            }
        }
    }
    assert!(alive.is_empty(), "browsers still running: {alive:#?}");
}

/// A browser killed mid-scenario: that scenario is not observed, with a reason naming the
/// crash and the page; the scenarios before and after it are recorded as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_that_dies_mid_scenario_is_reported_and_nothing_is_lost() {
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

    // Once no_action is recorded, wait for the next scenario to load the shop's page, then
    // kill its browser: mid-visit, not mid-start.
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut served_before: Option<usize> = None;
    let mut killed = 0;
    while killed == 0 {
        assert!(Instant::now() < deadline, "no browser to kill in time");
        let pages_served = || {
            server
                .log()
                .iter()
                .filter(|r| r.host == "www.demo-shop.test" && r.path_and_query == "/")
                .count()
        };
        match served_before {
            None => served_before = first_visit_recorded(&db).await.then(pages_served),
            Some(n) if pages_served() > n => {
                tokio::time::sleep(Duration::from_millis(300)).await;
                killed = kill_browsers_using(&tmp);
            }
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("consentry finishes after the crash")
        .unwrap();
    server.shutdown().await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "stderr:\n{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let visits = report["visits"].as_array().unwrap();
    let status = |id: &str| {
        visits
            .iter()
            .find(|v| v["scenario"] == id)
            .map(|v| v["status"].clone())
            .unwrap_or_else(|| panic!("{id} not reported: {stderr}"))
    };
    assert_eq!(status("no_action")["status"], "complete");
    let crashed = status("accept_then_object");
    assert_eq!(crashed["status"], "incomplete", "{stderr}");
    let reason = crashed["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("browser went away") && reason.contains("www.demo-shop.test"),
        "{reason}"
    );
    assert_eq!(status("reject_all")["status"], "complete", "{stderr}");
    let store = Store::open(&db).await.unwrap();
    let run = store.runs(None, 1).await.unwrap().remove(0);
    assert_eq!(store.visits(run.id).await.unwrap().len(), 3);
}

/// SIGKILL every Chromium whose command line names a profile under `tmp`; how many.
fn kill_browsers_using(tmp: &std::path::Path) -> usize {
    let needle = format!("--user-data-dir={}", tmp.display());
    let mut n = 0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd);
            if cmd.contains(&needle) && !cmd.contains("--type=") {
                // SAFETY: killing a browser process this test's audit started.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
                n += 1;
            }
        }
    }
    n
}

/// An explicit `--chromium` that does not exist is named, never silently replaced by
/// another binary; the scenario is not observed.
#[test]
fn a_missing_chromium_path_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["audit", "scenarios/demo-shop.toml", "-s", "no_action"])
        .args([
            "--format",
            "json",
            "--chromium",
            "/nonexistent/chromium",
            "--db",
        ])
        .arg(dir.path().join("x.db"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reason = report["visits"][0]["status"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.contains("Chromium not found at /nonexistent/chromium"),
        "{reason}"
    );
}
