//! The binary under storage and output faults (issue 25, item 6): read-only commands on
//! an archived database, a symlink planted at a report's default path, a stdout that
//! cannot be written, dates with signed or long years.

mod common;

use chrono::{Duration, Utc};
use consentry::model::RunStatus;
use consentry::store::Store;
use std::path::Path;
use std::process::{Command, Output};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A database with one finished run of site `Shop` and one observed visit; the run id.
async fn one_run(db: &Path) -> i64 {
    let store = Store::open(db).await.unwrap();
    let at = Utc::now() - Duration::hours(1);
    let run = store
        .writer()
        .begin_run("Shop", "s.toml", at)
        .await
        .unwrap();
    let visit = common::empty_visit("no_action", at);
    store.writer().record_visit(run, &visit).await.unwrap();
    store
        .writer()
        .finish_run(run, &RunStatus::Complete, at + Duration::seconds(2))
        .await
        .unwrap();
    store.close().await;
    run
}

/// `runs`, `report` and `drift` open the database read-only: the file is byte for byte the
/// same afterwards, with the same time, and nothing but SQLite's empty `-wal` and `-shm`
/// appears beside it. A
/// database whose schema is older is refused (exit 4) with the file and the command that
/// migrates it, unchanged; `consentry migrate` migrates it, and then it reads.
#[tokio::test]
async fn read_only_commands_never_write_and_name_the_migration() {
    let dir = tempfile::tempdir().unwrap();
    let db_dir = dir.path().join("archive");
    std::fs::create_dir(&db_dir).unwrap();
    let db = db_dir.join("audits.db");
    let run = one_run(&db).await;
    let before = common::db_files(&db);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let reports = dir.path().join("reports");
    for args in [
        vec!["runs".to_string()],
        vec![
            "report".into(),
            run.to_string(),
            "--format".into(),
            "json".into(),
            "--output".into(),
            "-".into(),
        ],
        vec!["drift".into(), "--site".into(), "Shop".into()],
    ] {
        let out = common::consentry()
            .args(&args)
            .arg("--db")
            .arg(&db)
            .env("CONSENTRY_REPORTS_DIR", &reports)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(
            common::db_files(&db),
            before,
            "{args:?} changed the database"
        );
    }

    // An older schema: refused, named, unchanged. A schema-12 database in its place.
    common::sqlite_at_schema(&db, 12).await;
    let before = common::db_files(&db);
    std::thread::sleep(std::time::Duration::from_millis(20));
    for cmd in ["runs", "drift"] {
        let out = common::consentry()
            .arg(cmd)
            .arg("--db")
            .arg(&db)
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{cmd}: {stderr}");
        assert!(
            stderr.contains(&format!("database {} has schema version 12", db.display()))
                && stderr.contains(&format!("`consentry migrate --db {}`", db.display())),
            "{cmd}: {stderr}"
        );
        assert_eq!(common::db_files(&db), before, "{cmd} changed the database");
    }
    let out = common::consentry()
        .arg("migrate")
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = common::consentry()
        .arg("runs")
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// A report's file under `--output-dir` (`reports/<site>/run-<id>.md`) holding a symlink planted by
/// someone else: the report replaces the link (temporary file, then rename); the file it
/// pointed to is untouched.
#[tokio::test]
async fn a_symlink_at_the_default_report_path_is_replaced_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let run = one_run(&db).await;
    let reports = dir.path().join("reports");
    let site_dir = reports.join("shop");
    std::fs::create_dir_all(&site_dir).unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let planted = site_dir.join(format!("run-{run}.md"));
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let out = common::consentry()
        .args(["report", &run.to_string(), "--format", "markdown", "--db"])
        .arg(&db)
        // The default path: the reports directory's naming scheme (docs/reports.md).
        .arg("--output-dir")
        .env("CONSENTRY_REPORTS_DIR", &reports)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let meta = std::fs::symlink_metadata(&planted).unwrap();
    assert!(meta.file_type().is_file(), "{:?}", meta.file_type());
    let report = std::fs::read_to_string(&planted).unwrap();
    assert!(report.contains("Shop"), "{report}");
    // No temporary file is left beside it.
    let names: Vec<String> = std::fs::read_dir(&site_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec![format!("run-{run}.md")]);
}

fn with_stdout(cmd: &mut Command, stdout: std::process::Stdio) -> Output {
    cmd.stdout(stdout).output().unwrap()
}

/// A stdout that cannot be written (a full disk: `/dev/full`; a closed pipe) is exit 4
/// with the reason, never a panic (exit 101).
#[tokio::test]
async fn stdout_write_errors_are_exit_4_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let run = one_run(&db).await;
    let run = run.to_string();
    let commands: [&[&str]; 2] = [
        &["runs"],
        &["report", &run, "--format", "json", "--output", "-"],
    ];
    for args in commands {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = with_stdout(
            common::consentry().args(args).arg("--db").arg(&db),
            full.into(),
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write to standard output") && !stderr.contains("panicked"),
            "{args:?}: {stderr}"
        );
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = with_stdout(
            common::consentry().args(args).arg("--db").arg(&db),
            writer.into(),
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// Dates read from the command line have a year of four unsigned digits: chrono alone
/// reads `+12345-01-01` and `-0001-01-01`. Refused as invalid input (exit 2), naming the
/// value.
#[test]
fn dates_with_signed_or_long_years_are_refused() {
    for bad in ["+12345-01-01", "-0001-01-01", "+2026-01-01T00:00:00Z"] {
        for flag in ["--since", "--until"] {
            let out = common::consentry()
                .arg("drift")
                .arg(format!("{flag}={bad}"))
                .args(["--db", "/nonexistent/never.db"])
                .output()
                .unwrap();
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{flag}={bad}: {stderr}");
            assert!(
                stderr.contains(bad) && stderr.contains("four-digit year"),
                "{flag}={bad}: {stderr}"
            );
        }
    }
}

/// A stderr that cannot be written (`2>/dev/full`) changes no exit code and never panics
/// (exit 101): `eprintln!` panics on a write error, so every line consentry writes to
/// standard error goes through `consentry::stderr`, which ignores it. Each command below
/// writes its diagnostics or its error there; run with a readable stderr first for the
/// code it must keep, then with `/dev/full` (and, for `report`, stdout full too: exit 4,
/// its reason unwritable).
#[tokio::test]
async fn stderr_write_errors_change_no_exit_code_and_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let run = one_run(&db).await.to_string();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[site]\nname = \"x\"\nbase_url = 42\n").unwrap();
    let missing = dir.path().join("none.db");
    let db_arg = db.to_string_lossy().into_owned();
    let commands: Vec<Vec<String>> = vec![
        vec!["validate".into(), bad.to_string_lossy().into_owned()],
        vec!["audit".into(), bad.to_string_lossy().into_owned()],
        vec![
            "runs".into(),
            "--db".into(),
            missing.to_string_lossy().into_owned(),
        ],
        vec!["report".into(), "999".into(), "--db".into(), db_arg.clone()],
    ];
    let report = [
        "report", &run, "--format", "json", "--output", "-", "--db", &db_arg,
    ];
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    for args in &commands {
        let seen = common::consentry().args(args).output().unwrap();
        let code = seen.status.code();
        assert_ne!(code, Some(101), "{args:?}: {}", text(&seen.stderr));
        assert!(!seen.stderr.is_empty(), "{args:?} writes nothing to stderr");
        let blind = common::consentry()
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(full())
            .status()
            .unwrap();
        assert_eq!(blind.code(), code, "{args:?} with stderr full");
    }
    // stdout and stderr both full: the write error is exit 4, its reason unwritable.
    let both = common::consentry()
        .args(report)
        .stdout(full())
        .stderr(full())
        .status()
        .unwrap();
    assert_eq!(both.code(), Some(4));
}
