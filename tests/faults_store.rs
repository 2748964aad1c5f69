//! Storage faults and page data that need a real audit (issue 25, items 5 and 6): a run
//! whose visits could not be written, a page sending huge URLs. Real Chromium against the
//! demo site's lab pages (tests/fixtures/lab.toml), traffic on loopback only.
#![cfg(feature = "demo")]

mod common;

use consentry::demo::DemoServer;
use std::path::Path;

const LAB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lab.toml");

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Makes every write of a visit of `scenario` fail, as a full disk would, while the rest
/// of the run writes normally.
async fn fail_visit_writes(db: &Path, scenario: &str) {
    use sqlx::{ConnectOptions, Connection};
    consentry::store::Store::open(db)
        .await
        .unwrap()
        .close()
        .await;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .connect()
        .await
        .unwrap();
    // `scenario` is a test constant.
    let sql = format!(
        "CREATE TRIGGER lose_visit BEFORE INSERT ON visits WHEN NEW.scenario = '{scenario}' \
         BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

/// A visit observed but not written: the audit says so and exits 4; the stored run is
/// `incomplete` with the count and the scenario (never `complete`), so `consentry report`
/// of it exits 3, not 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn a_run_missing_visits_it_could_not_write_is_incomplete_with_the_count() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let server = DemoServer::start(0).await.expect("demo server");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lost.db");
    fail_visit_writes(&db, "beacon").await;
    let port = server.port();
    let db2 = db.clone();
    let run = tokio::task::spawn_blocking(move || {
        common::audit(
            LAB,
            port,
            &db2,
            &[
                "--fail-on",
                "never",
                "--scenario",
                "redirect",
                "--scenario",
                "beacon",
            ],
        )
    })
    .await
    .unwrap();
    server.shutdown().await;
    assert_eq!(run.code, 4, "stderr:\n{}", run.stderr);
    assert!(
        run.stderr.contains("could not record scenario beacon")
            && run.stderr.contains("simulated write failure"),
        "{}",
        run.stderr
    );
    let want = "1 of 2 visit(s) could not be written to the database: beacon";
    assert_eq!(
        run.json["status"]["status"], "incomplete",
        "{}",
        run.json["status"]
    );
    assert_eq!(run.json["status"]["reason"], want);
    let id = run.json["run_id"].as_i64().unwrap();
    let stored = common::run_json(
        common::consentry()
            .args([
                "report",
                &id.to_string(),
                "--format",
                "json",
                "--output",
                "-",
                "--db",
            ])
            .arg(&db),
    );
    assert_eq!(stored.code, 3, "stderr:\n{}", stored.stderr);
    assert_eq!(stored.json["status"]["status"], "incomplete");
    assert_eq!(stored.json["status"]["reason"], want);
    assert_eq!(stored.json["summary"]["verdict"], "incomplete");
    assert_eq!(consentry::store::integrity_check(&db).await.unwrap(), "ok");
}

/// 200 requests with 1.9 MB URLs (`/lab/long-urls`): each URL is stored as its first
/// bytes and a clip mark holding its whole length and keyed hash, at most 8 KiB; the
/// database stays small; the reports say the URLs were clipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn huge_urls_are_stored_clipped_with_length_and_hash() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let server = DemoServer::start(0).await.expect("demo server");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("long.db");
    let port = server.port();
    let db2 = db.clone();
    let run = tokio::task::spawn_blocking(move || {
        common::audit(
            LAB,
            port,
            &db2,
            &["--fail-on", "never", "--scenario", "long_urls"],
        )
    })
    .await
    .unwrap();
    server.shutdown().await;
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let id = run.json["run_id"].as_i64().unwrap();
    let urls = common::texts(
        &db,
        "SELECT r.url FROM requests r JOIN visits v ON v.id = r.visit_id WHERE v.run_id = ?",
        id,
    );
    let long: Vec<&String> = urls.iter().filter(|u| u.contains("long=")).collect();
    // The page fires 200, one at a time; how many Chromium has made when the visit ends
    // (its settles time out at 5 s) depends on the machine: 155-165 on an idle one, 51-154
    // on one loaded by other builds (measured 2026-12-06, debug builds). Every event the
    // browser sent before the end is handled (`Capture::drain`); each recorded URL must
    // be clipped.
    assert!(
        long.len() >= 20 && long.len() <= consentry::demo::LONG_URL_REQUESTS,
        "{} long URLs of {}",
        long.len(),
        urls.len()
    );
    for u in &long {
        assert!(u.len() <= consentry::text::PAGE_STRING_MAX, "{}", u.len());
        let (kept, mark) = consentry::text::split_clip_mark(u).expect("a clip mark");
        assert!(
            kept.starts_with("https://analytics.tiktok.com/lab/next?long="),
            "{kept:.80}"
        );
        let bytes: usize = mark
            .trim_start_matches("…[clipped: ")
            .split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(bytes > consentry::demo::LONG_URL_BYTES, "{mark}");
    }
    // Each URL differs (`long=i`), so each hash does.
    let marks: std::collections::BTreeSet<&str> = long
        .iter()
        .filter_map(|u| consentry::text::split_clip_mark(u).map(|m| m.1))
        .collect();
    assert_eq!(marks.len(), long.len());
    let size = std::fs::metadata(&db).unwrap().len()
        + std::fs::metadata(db.with_extension("db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    assert!(size < 16 * 1024 * 1024, "database: {size} bytes");
    // The reports say so: JSON exactly, Markdown with the mark whole in a clipped cell.
    let json = run.json.to_string();
    assert!(
        json.contains("[clipped: 19"),
        "the JSON report shows no clipped URL"
    );
    let md = common::consentry()
        .args([
            "report",
            &id.to_string(),
            "--format",
            "markdown",
            "--output",
            "-",
            "--db",
        ])
        .arg(&db)
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(md.contains("…[clipped: 19"), "{md:.2000}");
}
