//! Banner screenshots as run evidence, in real Chromium: the Klaro fixture site
//! (fixtures/sites/klaro, `make fixtures`) audited with `tests/fixtures/klaro/klaro.toml`
//! (accept and reject through autoconsent, the site's own "No thanks" button through a
//! selector). Every consent action gets a before and an after PNG under
//! `<reports>/<site>/run-<id>/`, the store points at them, and the HTML report of
//! `consentry report` shows them as images relative to the report file.
//! Needs the `demo` feature (the demo server).
#![cfg(feature = "demo")]

mod common;

use common::{consentry, run_json, Run};
use consentry::demo::{DemoServer, FileSite};
use consentry::store::Store;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The klaro scenario file's window (BrowserOptions' default, 1280x900); screenshots are
/// of the viewport.
const WINDOW: (u32, u32) = (1280, 900);

fn ihdr(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&png[12..16], b"IHDR", "IHDR first");
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn consent_actions_are_photographed_before_and_after() {
    assert!(
        Path::new(ROOT)
            .join("fixtures/build/autoconsent/autoconsent.playwright.js")
            .is_file(),
        "run `make fixtures` first"
    );
    let server = DemoServer::start_files(0, FileSite::named(Path::new(ROOT), "klaro"))
        .await
        .expect("fixture server");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("audit.db");
    let port = server.port();
    let (db2, cwd) = (db.clone(), dir.path().to_path_buf());
    let Run { json, .. } = tokio::task::spawn_blocking(move || {
        run_json(
            consentry()
                .arg("audit")
                .arg(format!("{ROOT}/tests/fixtures/klaro/klaro.toml"))
                .args(["--format", "json", "--no-progress", "--db"])
                .arg(&db2)
                // Default place: reports/ beside the database.
                .env_remove("CONSENTRY_REPORTS_DIR")
                .env_remove("CONSENTRY_AUTOCONSENT")
                .env("CONSENTRY_DEMO_PORT", port.to_string())
                .current_dir(cwd),
        )
    })
    .await
    .unwrap();
    server.shutdown().await;
    let run = json["run_id"].as_i64().expect("run id");
    let run_dir = dir.path().join(format!("reports/klaro-shop/run-{run}"));

    // Per scenario: its consent actions' screenshots, before then after.
    let mut all: Vec<PathBuf> = Vec::new();
    let mut per_shot_ms = Vec::new();
    let mut expected = 0;
    for v in json["visits"].as_array().expect("visits") {
        let scenario = v["scenario"].as_str().unwrap_or_default();
        let warnings = v["warnings"].to_string();
        assert!(
            !warnings.contains("screenshot"),
            "{scenario}: screenshot warnings {warnings}"
        );
        let shots = v["screenshots"].as_array().cloned().unwrap_or_default();
        let actions = v["consent_actions"].as_array().map_or(0, Vec::len);
        if scenario == "no_action" {
            assert!(shots.is_empty(), "no consent action, no screenshot: {v}");
            assert_eq!(v["timings"]["screenshot_ms"], 0);
            continue;
        }
        assert!(actions >= 1, "{scenario}: {v}");
        assert_eq!(
            shots.len(),
            2 * actions,
            "{scenario}: before and after each: {v}"
        );
        for (i, pair) in shots.chunks(2).enumerate() {
            assert_eq!(pair[0]["when"], "before");
            assert_eq!(pair[1]["when"], "after");
            assert_eq!(pair[0]["step"], pair[1]["step"]);
            assert_eq!(pair[0]["action"], v["consent_actions"][i]["action"]);
        }
        expected += shots.len();
        let mut bytes = Vec::new();
        for s in &shots {
            let path = PathBuf::from(s["path"].as_str().expect("path"));
            assert!(path.is_absolute(), "{path:?}");
            assert_eq!(path.parent(), Some(run_dir.as_path()), "{path:?}");
            let png = std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            // The viewport: the window's width; its height less what headless Chromium
            // keeps for its (invisible) window frame and toolbar, 87 px here.
            let (w, h) = ihdr(&png);
            assert_eq!(w, WINDOW.0, "{path:?}: viewport width");
            assert!(
                (WINDOW.1 - 120..=WINDOW.1).contains(&h),
                "{path:?}: viewport height {h}"
            );
            assert_eq!(s["width"], w);
            assert_eq!(s["height"], h);
            assert_eq!(s["bytes"].as_u64(), Some(png.len() as u64));
            per_shot_ms.push(s["capture_ms"].as_u64().expect("capture_ms"));
            bytes.push(png);
            all.push(path);
        }
        for pair in bytes.chunks(2) {
            assert_ne!(pair[0], pair[1], "{scenario}: the banner went away");
        }
        let total = v["timings"]["screenshot_ms"]
            .as_u64()
            .expect("screenshot_ms");
        eprintln!(
            "{scenario}: {} screenshots, capture {:?} ms, {total} ms with the waits",
            shots.len(),
            &per_shot_ms[per_shot_ms.len() - shots.len()..]
        );
    }
    // klaro.toml: accept_all, reject_all, object_li, reject_then_reload, dismiss_banner
    // one consent action each, accept_then_withdraw two: two screenshots each.
    assert_eq!(all.len(), expected);
    assert_eq!(all.len(), 14, "seven consent actions, two each");
    let mean = per_shot_ms.iter().sum::<u64>() / per_shot_ms.len() as u64;
    eprintln!("mean capture per screenshot: {mean} ms");

    // The store points at the same files.
    let store = Store::open(&db).await.expect("store");
    let stored: Vec<PathBuf> = store
        .history()
        .screenshots(run, None)
        .await
        .expect("read")
        .into_iter()
        .map(|s| PathBuf::from(s.path.expect("path")))
        .collect();
    store.close().await;
    let mut want = all.clone();
    want.sort();
    let mut got = stored.clone();
    got.sort();
    assert_eq!(got, want);

    // `consentry report RUN --format html --output-dir` (the reports directory's
    // naming scheme: reports/<site>/run-<id>.html) shows each as an <img> relative to
    // the report file.
    let reports = dir.path().join("reports");
    let out = consentry()
        .args([
            "report",
            &run.to_string(),
            "--format",
            "html",
            "--output-dir",
            "--db",
        ])
        .arg(&db)
        .env("CONSENTRY_REPORTS_DIR", &reports)
        .output()
        .expect("run consentry report");
    let html_path = reports.join(format!("klaro-shop/run-{run}.html"));
    let html = std::fs::read_to_string(&html_path).unwrap_or_else(|e| {
        panic!(
            "{html_path:?}: {e}; stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    for p in &all {
        let name = p.file_name().unwrap().to_str().unwrap();
        let rel = format!("run-{run}/{name}");
        assert!(
            html.contains(&format!("<a href=\"{rel}\"><img src=\"{rel}\"")),
            "{rel} not shown:\n{html}"
        );
        assert!(html_path.parent().unwrap().join(&rel).is_file());
    }
    // On stdout, the stored (absolute) paths.
    let out = consentry()
        .args([
            "report",
            &run.to_string(),
            "--format",
            "markdown",
            "-o",
            "-",
        ])
        .arg("--db")
        .arg(&db)
        .output()
        .expect("run consentry report");
    let md = String::from_utf8_lossy(&out.stdout);
    for p in &all {
        assert!(md.contains(&format!("({})", p.display())), "{md}");
    }

    if std::env::var_os("CONSENTRY_KEEP_SHOTS").is_some() {
        let keep = PathBuf::from(ROOT).join("target/shots-evidence");
        let _ = std::fs::remove_dir_all(&keep);
        std::fs::create_dir_all(&keep).unwrap();
        let status = Command::new("cp")
            .arg("-r")
            .arg(&reports)
            .arg(&keep)
            .status()
            .unwrap();
        assert!(status.success());
        eprintln!("kept in {}", keep.display());
    }

    // Purging the run deletes its rows and its files (the run is made old first).
    {
        use sqlx::{ConnectOptions, Connection};
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&db)
            .connect()
            .await
            .unwrap();
        sqlx::query("UPDATE runs SET started_at = '2001-01-01T00:00:00.000000000Z'")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    let out = consentry()
        .args(["purge", "--older-than", "1d", "--db"])
        .arg(&db)
        .output()
        .expect("run consentry purge");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!("{} visit_screenshots", all.len())),
        "{said}"
    );
    assert!(
        said.contains(&format!("{} screenshot file(s) deleted", all.len())),
        "{said}"
    );
    assert!(all.iter().all(|p| !p.exists()), "files deleted");
    assert!(!run_dir.exists(), "the emptied run directory is removed");
    assert!(html_path.is_file(), "the report beside it is kept");
}

/// A consent action that fails (the demo shop's `legacy_banner` clicks a button of the
/// previous CMP, gone): the visit is not observed, and its "after" picture, marked
/// `action_failed`, shows what was on screen instead: the banner, still up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn a_failed_consent_action_is_photographed_as_failed() {
    let server = DemoServer::start(0).await.expect("demo server");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("audit.db");
    let port = server.port();
    let db2 = db.clone();
    let Run {
        code, json, stderr, ..
    } = tokio::task::spawn_blocking(move || {
        run_json(
            consentry()
                .arg("audit")
                .arg(format!("{ROOT}/scenarios/demo-shop.toml"))
                .args(["--scenario", "legacy_banner", "--format", "json"])
                .args(["--no-progress", "--db"])
                .arg(&db2)
                .env_remove("CONSENTRY_REPORTS_DIR")
                .env("CONSENTRY_DEMO_PORT", port.to_string()),
        )
    })
    .await
    .unwrap();
    server.shutdown().await;
    assert_eq!(code, 3, "not observed: exit 3\n{stderr}");
    let v = &json["visits"][0];
    assert_eq!(v["status"]["kind"], "element-not-found", "{v}");
    let shots = v["screenshots"].as_array().expect("screenshots");
    assert_eq!(shots.len(), 2, "{v}");
    assert_eq!(shots[0]["when"], "before");
    assert!(shots[0].get("action_failed").is_none(), "{v}");
    assert_eq!(shots[1]["when"], "after");
    assert_eq!(shots[1]["action_failed"], true, "{v}");
    for s in shots {
        let path = Path::new(s["path"].as_str().expect("path"));
        assert!(
            path.starts_with(dir.path().join("reports/demo-shop")),
            "{path:?}"
        );
        let (w, _) = ihdr(&std::fs::read(path).expect("png"));
        assert_eq!(w, WINDOW.0);
    }
    let store = Store::open(&db).await.expect("store");
    let run = json["run_id"].as_i64().expect("run id");
    let stored = store.history().screenshots(run, None).await.expect("read");
    store.close().await;
    assert_eq!(stored.len(), 2);
    assert!(stored[1].action_failed && !stored[0].action_failed);
}
