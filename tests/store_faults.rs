//! Storage faults (issue 25, item 6) against real SQLite files: a write lock held by
//! another connection past the busy timeout, a purge of many rows beside a live writer,
//! read-only opening. The binary's side (read-only commands, report files, stdout) is in
//! `cli_faults.rs`.

mod common;

use chrono::{Duration, Utc};
use consentry::model::RunStatus;
use consentry::store::{Store, StoreError, BUSY_TIMEOUT};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use std::path::Path;
use std::time::Instant;

/// Another process's connection to the file (raw SQLite, with its own busy timeout).
async fn raw(path: &Path, busy: std::time::Duration) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(busy)
        .connect()
        .await
        .unwrap()
}

/// A visit cannot be observed again: when another process holds the write lock for
/// longer than the busy timeout (5 s), the visit's write waits and is tried again, and it
/// lands once the lock is released. Before, it failed after 5 s and was lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_write_outlasts_a_lock_held_past_the_busy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("busy.db");
    let store = Store::open(&db).await.unwrap();
    let run = store
        .writer()
        .begin_run("shop", "s.toml", Utc::now())
        .await
        .unwrap();
    let mut other = raw(&db, std::time::Duration::from_millis(100)).await;
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let hold = BUSY_TIMEOUT + std::time::Duration::from_millis(1_500);
    let holder = tokio::spawn(async move {
        tokio::time::sleep(hold).await;
        sqlx::query("COMMIT").execute(&mut other).await.unwrap();
        other.close().await.unwrap();
    });
    let t = Instant::now();
    let id = store
        .writer()
        .record_visit(run, &common::empty_visit("accept_all", Utc::now()))
        .await;
    let waited = t.elapsed();
    holder.await.unwrap();
    let id = id.unwrap_or_else(|e| panic!("the visit was lost after {waited:?}: {e}"));
    assert!(
        waited >= hold,
        "the lock was held {hold:?}, waited {waited:?}"
    );
    assert!(
        waited < hold + std::time::Duration::from_secs(8),
        "{waited:?}"
    );
    let visits = store.history().visits(run).await.unwrap();
    assert_eq!(visits.len(), 1);
    assert_eq!(visits[0].id, id);
    store.close().await;
}

/// A purge of many rows (here 300,000 raw requests of a year-old run) never holds the
/// write lock for long: a writer of another process whose busy timeout is a quarter of
/// a second gets the lock between two batches every time, and a live audit's visits are
/// written while the purge runs. Before, the purge was one transaction of several
/// seconds, and the writer failed with "database is locked".
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_purge_of_many_rows_lets_a_concurrent_writer_in() {
    const ROWS: i64 = 300_000;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("purge.db");
    let store = Store::open(&db).await.unwrap();
    let year_ago = Utc::now() - Duration::days(365);
    let old = store
        .writer()
        .begin_run("shop", "s.toml", year_ago)
        .await
        .unwrap();
    let old_visit = store
        .writer()
        .record_visit(old, &common::empty_visit("no_action", year_ago))
        .await
        .unwrap();
    store
        .writer()
        .finish_run(old, &RunStatus::Complete, year_ago)
        .await
        .unwrap();
    // The synthetic history: ROWS requests of the old visit, written in one statement.
    let mut conn = raw(&db, BUSY_TIMEOUT).await;
    let t = Instant::now();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?) \
         INSERT INTO requests (visit_id, seq, url, host, method, resource_type, target, time, \
         page, phase, consent, li_objected, actions) \
         SELECT ?, i, 'https://tracker.example/p?i=' || i, 'tracker.example', 'GET', 'Image', \
         'page', '2025-12-06T00:00:00Z', 'https://shop.example/', 'before-choice', '[]', 0, '[]' \
         FROM n",
    )
    .bind(ROWS)
    .bind(old_visit)
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    eprintln!("{ROWS} rows written in {:?}", t.elapsed());

    // The live audit, in its own store (its own process, as far as locks go).
    let live_store = Store::open(&db).await.unwrap();
    let live = live_store
        .writer()
        .begin_run("shop", "s.toml", Utc::now())
        .await
        .unwrap();

    let purging = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = purging.clone();
    let purger = {
        let store = store.clone();
        tokio::spawn(async move {
            let t = Instant::now();
            let counts = store
                .admin()
                .purge_raw(Utc::now() - Duration::days(90))
                .await;
            flag.store(false, std::sync::atomic::Ordering::SeqCst);
            (counts, t.elapsed())
        })
    };
    // Another process writing with a short busy timeout and no retry of its own.
    let writer = {
        let db = db.clone();
        let purging = purging.clone();
        tokio::spawn(async move {
            let mut conn = raw(&db, std::time::Duration::from_millis(250)).await;
            let (mut ok, mut failed) = (0, Vec::new());
            let mut i = 0;
            while purging.load(std::sync::atomic::Ordering::SeqCst) {
                i += 1;
                let r = sqlx::query("INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', ?)")
                    .bind(i.to_string())
                    .execute(&mut conn)
                    .await;
                match r {
                    Ok(_) => ok += 1,
                    Err(e) => failed.push(e.to_string()),
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            conn.close().await.unwrap();
            (ok, failed)
        })
    };
    // A live audit's visits, while the purge runs.
    let mut landed = 0;
    for k in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let t = Instant::now();
        live_store
            .writer()
            .record_visit(live, &common::empty_visit(&format!("s{k}"), Utc::now()))
            .await
            .unwrap();
        assert!(t.elapsed() < BUSY_TIMEOUT, "{:?}", t.elapsed());
        landed += 1;
    }
    let (counts, took) = purger.await.unwrap();
    let (ok, failed) = writer.await.unwrap();
    let counts = counts.unwrap();
    eprintln!(
        "purge took {took:?}; the other writer wrote {ok} times, failed {} times",
        failed.len()
    );
    assert_eq!(
        counts.iter().find(|(t, _)| *t == "requests").map(|c| c.1),
        Some(ROWS as u64)
    );
    assert!(
        failed.is_empty(),
        "the purge held the lock: {:?}",
        &failed[..1]
    );
    assert!(
        ok >= 3,
        "the other writer wrote {ok} times during the purge"
    );
    assert_eq!(landed, 3);
    assert_eq!(live_store.history().visits(live).await.unwrap().len(), 3);
    live_store.close().await;
    store.close().await;
}

/// A database with one finished run, closed (so the directory holds only the file).
async fn one_run(db: &Path) -> i64 {
    let store = Store::open(db).await.unwrap();
    let at = Utc::now() - Duration::hours(1);
    let run = store
        .writer()
        .begin_run("shop", "s.toml", at)
        .await
        .unwrap();
    store
        .writer()
        .record_visit(run, &common::empty_visit("no_action", at))
        .await
        .unwrap();
    store
        .writer()
        .finish_run(run, &RunStatus::Complete, at)
        .await
        .unwrap();
    store.close().await;
    run
}

/// `Store::open_read_only` reads everything the read-side commands need and writes
/// nothing: the database file's bytes and time are the same afterwards, and nothing but
/// SQLite's empty `-wal` and `-shm` appears beside it; a write through it fails.
#[tokio::test]
async fn a_read_only_open_never_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("archive.db");
    let run = one_run(&db).await;
    let before = common::db_files(&db);
    // Coarse file-system clocks: a write now would show in the modification time.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let store = Store::open_read_only(&db).await.unwrap();
    assert_eq!(store.history().runs(None, 10).await.unwrap().len(), 1);
    let report = consentry::pipeline::stored_report(&store, run, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.visits.len(), 1);
    let write = store
        .writer()
        .begin_run("shop", "s.toml", Utc::now())
        .await
        .unwrap_err();
    assert!(
        write.to_string().contains(&db.display().to_string()),
        "{write}"
    );
    store.close().await;
    assert_eq!(common::db_files(&db), before);
}

/// A database whose schema is older than this consentry's is not migrated by a read-only
/// open: it is refused with a message naming the file and the command that migrates it,
/// and the file is unchanged.
#[tokio::test]
async fn a_read_only_open_refuses_to_migrate_and_names_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    one_run(&db).await;
    unapply_last_migration(&db).await;
    let before = common::db_files(&db);
    let err = Store::open_read_only(&db).await.expect_err("refused");
    assert!(
        matches!(err, StoreError::NeedsMigration { version: 12, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&db.display().to_string())
            && msg.contains(&format!("consentry migrate --db {}", db.display())),
        "{msg}"
    );
    assert_eq!(common::db_files(&db), before);
    // What a writer does: migrate it. Then it reads.
    Store::open(&db).await.unwrap().close().await;
    Store::open_read_only(&db).await.unwrap().close().await;
}

/// Makes `db` a schema-12 database, as an older consentry left it
/// ([`common::sqlite_at_schema`]).
pub async fn unapply_last_migration(db: &Path) {
    common::sqlite_at_schema(db, 12).await;
}
