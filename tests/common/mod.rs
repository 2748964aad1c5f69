//! Helpers shared by the integration tests: running the `consentry` binary for a JSON
//! report, and reading findings out of that report. Each test crate uses a part of them.
#![allow(dead_code)]

#[cfg(feature = "demo")]
pub mod fixture;
#[cfg(feature = "demo")]
pub mod lab;
#[cfg(feature = "demo")]
pub mod proxy;

/// Makes `db` (any files there first removed) a SQLite database at schema `version`, as
/// an older consentry left it: the shipped migrations up to `version`, applied by sqlx's
/// own migrator from src/store/sqlite/migrations; no runs.
pub async fn sqlite_at_schema(db: &Path, version: i64) {
    use sqlx::{ConnectOptions, Connection};
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/sqlite/migrations");
    let migrator = sqlx::migrate::Migrator::new(dir.as_path()).await.unwrap();
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .connect()
        .await
        .unwrap();
    migrator.run_to(version, &mut conn).await.unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

use serde_json::Value;
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

/// A JSON run report's status and its findings' fingerprints, sorted: what two audits of
/// the same site must agree on.
pub fn status_and_fingerprints(json: &Value) -> (String, Vec<String>) {
    let mut prints: Vec<String> = json["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["fingerprint"].as_str().map(str::to_string))
        .collect();
    prints.sort();
    (
        json["status"]["status"].as_str().unwrap_or("?").to_string(),
        prints,
    )
}

/// SIGKILL every Chromium browser process (or, with `renderers`, every renderer process
/// only) whose command line names a profile under `tmp` (an audit or a worker run with
/// `TMPDIR=tmp`); how many.
pub fn kill_browsers_using(tmp: &Path, renderers: bool) -> usize {
    let needle = format!("--user-data-dir={}", tmp.display());
    let mut n = 0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd);
            let wanted = if renderers {
                cmd.contains("--type=renderer")
            } else {
                !cmd.contains("--type=")
            };
            if cmd.contains(&needle) && wanted {
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

/// The `consentry` binary built for these tests.
pub fn consentry() -> Command {
    Command::new(env!("CARGO_BIN_EXE_consentry"))
}

/// A finished `consentry` run whose stdout is a JSON report.
pub struct Run {
    pub code: i32,
    pub json: Value,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` and parses its stdout as a JSON report (a test failure, with both streams,
/// when it is not one).
pub fn run_json(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("run consentry");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let json: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("report is not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        json,
        stdout,
        stderr,
    }
}

/// `consentry audit FILE --format json --no-progress --db DB EXTRA...` against the demo
/// server on `port` (`CONSENTRY_DEMO_PORT`), with the bundled autoconsent build whatever
/// the environment says (`CONSENTRY_AUTOCONSENT` removed).
pub fn audit(file: impl AsRef<OsStr>, port: u16, db: &Path, extra: &[&str]) -> Run {
    run_json(
        consentry()
            .arg("audit")
            .arg(file)
            .args(["--format", "json", "--no-progress", "--db"])
            .arg(db)
            .args(extra)
            .env("CONSENTRY_DEMO_PORT", port.to_string())
            .env_remove("CONSENTRY_AUTOCONSENT"),
    )
}

/// A finding as (code, scenario or `-`, subject).
pub type Key = (String, String, String);

pub fn key(code: &str, scenario: &str, subject: &str) -> Key {
    (code.into(), scenario.into(), subject.into())
}

pub fn keys(list: &[(&str, &str, &str)]) -> BTreeSet<Key> {
    list.iter().map(|(c, s, x)| key(c, s, x)).collect()
}

/// Every finding of a report, as keys.
pub fn finding_keys(json: &Value) -> BTreeSet<Key> {
    json["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or_default().to_string(),
                f["scenario"].as_str().unwrap_or("-").to_string(),
                f["subject"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The finding with this code, scenario and subject (a test failure when there is none).
pub fn finding<'a>(json: &'a Value, code: &str, scenario: &str, subject: &str) -> &'a Value {
    json["findings"]
        .as_array()
        .and_then(|fs| {
            fs.iter()
                .find(|f| f["code"] == code && f["scenario"] == scenario && f["subject"] == subject)
        })
        .unwrap_or_else(|| panic!("no {code} {subject} in {scenario}"))
}

/// The (scenario, cookie name) pairs the stored inventory of run `run` marks over its
/// declared retention, read straight from the database file (read-only).
pub fn inventory_over_retention(db: &Path, run: i64) -> BTreeSet<(String, String)> {
    texts(
        db,
        "SELECT v.scenario || char(10) || i.item FROM visits v \
         JOIN inventory_items i ON i.set_id = v.inventory_set \
         WHERE v.run_id = ? AND i.kind = 'cookie' AND i.over_retention",
        run,
    )
    .into_iter()
    .filter_map(|row| {
        let (scenario, item) = row.split_once('\n')?;
        let name = item.rsplit_once('@').map_or(item, |(n, _)| n);
        Some((scenario.to_string(), name.to_string()))
    })
    .collect()
}

/// The inventory and `cookie-retention-exceeded` agree on every cookie of the run: a
/// cookie is over its retention in the stored inventory exactly when the report has the
/// finding for it in that scenario.
pub fn assert_retention_agrees(db: &Path, json: &Value) {
    let run = json["run_id"].as_i64().expect("run id");
    let inventory = inventory_over_retention(db, run);
    let findings: BTreeSet<(String, String)> = json["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .filter(|f| f["code"] == "cookie-retention-exceeded")
        .map(|f| {
            (
                f["scenario"].as_str().unwrap_or("-").to_string(),
                f["subject"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        inventory, findings,
        "inventory over_retention (left) and cookie-retention-exceeded findings (right) disagree"
    );
}

/// The rows of `sql` (one text column, `?` bound to `run`) in the database file, read-only.
pub fn texts(db: &Path, sql: &'static str, run: i64) -> Vec<String> {
    let url = format!("sqlite://{}?mode=ro", db.display());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            use sqlx::Row;
            let pool = sqlx::SqlitePool::connect(&url)
                .await
                .expect("open the database");
            let rows = sqlx::query(sql)
                .bind(run)
                .fetch_all(&pool)
                .await
                .expect("query");
            pool.close().await;
            rows.iter().map(|r| r.get::<String, _>(0)).collect()
        })
    })
    .join()
    .expect("query thread")
}

/// The database file's length, SHA-256 and modification time, and whether the directory
/// holds anything else than it, an empty `-wal` and a `-shm` (the shared-memory index a
/// read-only connection to a WAL database may create beside it; never data).
pub fn db_files(db: &Path) -> (u64, String, std::time::SystemTime, Vec<String>) {
    let m = std::fs::metadata(db).unwrap();
    let bytes = std::fs::read(db).unwrap();
    let name = db.file_name().unwrap().to_string_lossy().into_owned();
    let others = std::fs::read_dir(db.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let empty_wal =
                n == format!("{name}-wal") && e.metadata().map(|m| m.len()).unwrap_or(1) == 0;
            n != name && !empty_wal && n != format!("{name}-shm")
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    (
        m.len(),
        format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(&bytes)),
        m.modified().unwrap(),
        others,
    )
}

/// An observed (complete) visit with no records, for tests of the store's bookkeeping.
pub fn empty_visit(
    scenario: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> consentry::model::VisitObservation {
    use consentry::model::{ConsentState, VisitObservation, VisitStatus, VisitTimings};
    VisitObservation {
        scenario: scenario.into(),
        started_at: at,
        finished_at: at + chrono::Duration::seconds(1),
        status: VisitStatus::Complete,
        steps: Vec::new(),
        requests: Vec::new(),
        cookie_writes: Vec::new(),
        cookies: Vec::new(),
        storage_writes: Vec::new(),
        page_errors: Vec::new(),
        signals: Vec::new(),
        cmp: Vec::new(),
        screenshots: Vec::new(),
        final_state: ConsentState::initial(),
        warnings: Vec::new(),
        timings: VisitTimings::default(),
        login: None,
    }
}
pub mod golden;
pub mod pg;

/// The run's findings are exactly `want` (a test failure lists what is missing and what
/// is unexpected, with the audit's stderr).
pub fn assert_findings(run: &Run, want: BTreeSet<Key>) {
    let got = finding_keys(&run.json);
    let missing: Vec<_> = want.difference(&got).collect();
    let unexpected: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "missing: {missing:#?}\nunexpected: {unexpected:#?}\nstderr:\n{}",
        run.stderr
    );
}
