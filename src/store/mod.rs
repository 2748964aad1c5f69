//! Storage: runs, what each scenario observed, and findings, in SQLite.
//!
//! This is the only module that holds SQL. The schema lives in embedded, append-only
//! migrations under `src/store/migrations/` and is described in docs/storage.md.
//!
//! Writes are one transaction per call: a scenario's observation is stored as soon as
//! the scenario finishes ([`Store::record_visit`]), so a run that dies later keeps what
//! it had already observed. Cookie and storage values are never stored, only hashes.

mod acks;
mod codec;
mod decode;
mod history;
mod read;
mod rows;
mod write;

pub use history::{FindingSeen, RunHistory, VisitSeen};

use crate::analysis::finding::Finding;
use crate::model::{ConsentState, RunStatus, VisitObservation, VisitStatus, VisitTimings};
use chrono::{DateTime, Utc};
use codec::DecodeResult;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Embedded migrations, applied by [`Store::open`]. Append-only: never edit one that shipped.
static MIGRATOR: Migrator = sqlx::migrate!("src/store/migrations");

/// Environment variable overriding [`default_db_path`].
pub const DB_ENV: &str = "CONSENTRY_DB";

/// How long a connection waits for another process's write lock before failing.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections in a store's pool (readers run concurrently; writes take the write lock).
pub const MAX_CONNECTIONS: u32 = 4;

pub type RunId = i64;

/// Where the database lives unless the CLI's `--db` says otherwise: `$CONSENTRY_DB` when
/// set and non-empty, else `consentry.db` in the current directory.
pub fn default_db_path() -> PathBuf {
    db_path_from_env(std::env::var_os(DB_ENV))
}

fn db_path_from_env(value: Option<std::ffi::OsString>) -> PathBuf {
    match value {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from("consentry.db"),
    }
}

/// A storage failure. Messages name the database file.
///
/// Underlying errors are kept in `cause` fields and included in the message (not exposed
/// as `source()`, so chains printed with `{:#}` do not repeat them).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {}: it is a directory", path.display())]
    IsDirectory { path: PathBuf },
    #[error("cannot create directory {} for database {}: {cause}", dir.display(), path.display())]
    CreateDir {
        path: PathBuf,
        dir: PathBuf,
        cause: std::io::Error,
    },
    #[error("cannot open database {}: {cause}", path.display())]
    Open { path: PathBuf, cause: sqlx::Error },
    #[error(
        "cannot open database {}: it was written by a newer consentry (schema migration {version} is unknown to this version)",
        path.display()
    )]
    NewerSchema { path: PathBuf, version: i64 },
    #[error("cannot migrate database {}: {cause}", path.display())]
    Migrate { path: PathBuf, cause: MigrateError },
    #[error("database {}: {op} failed: {cause}", path.display())]
    Query {
        path: PathBuf,
        op: &'static str,
        cause: sqlx::Error,
    },
    #[error("database {}: run {run} does not exist", path.display())]
    UnknownRun { path: PathBuf, run: RunId },
    #[error("database {}: run {run} already has a visit for scenario {scenario:?}", path.display())]
    DuplicateVisit {
        path: PathBuf,
        run: RunId,
        scenario: String,
    },
    #[error("database {}: cannot store: {detail}", path.display())]
    Invalid { path: PathBuf, detail: String },
    #[error("database {}: invalid stored data: {detail}", path.display())]
    Corrupt { path: PathBuf, detail: String },
}

impl StoreError {
    /// Errors another process opening the same new file at the same moment can cause;
    /// worth one more try a moment later.
    fn is_transient(&self) -> bool {
        fn busy(e: &sqlx::Error) -> bool {
            // SQLITE_BUSY (5) and SQLITE_LOCKED (6), including extended codes.
            e.as_database_error()
                .and_then(|d| d.code())
                .and_then(|c| c.parse::<i32>().ok())
                .is_some_and(|c| matches!(c & 0xff, 5 | 6))
        }
        match self {
            StoreError::Open { cause, .. } => busy(cause),
            StoreError::Migrate { cause, .. } => matches!(
                cause,
                MigrateError::ExecuteMigration(..) | MigrateError::Execute(_)
            ),
            _ => false,
        }
    }
}

/// What a run starts with.
#[derive(Debug, Clone)]
pub struct RunStart<'a> {
    pub site: &'a str,
    pub scenario_file: &'a str,
    pub started_at: DateTime<Utc>,
    pub scenario_digest: Option<&'a str>,
    pub policy_digest: Option<&'a str>,
    /// `--fail-on`.
    pub fail_on: crate::outcome::FailOn,
}

/// One visit as the pipeline hands it to the store: the observation, its place in the
/// run order, its third-party request count and the findings its analysis produced.
#[derive(Debug, Clone, Copy)]
pub struct JudgedVisit<'a> {
    pub position: Option<usize>,
    pub obs: &'a VisitObservation,
    pub third_party_requests: Option<usize>,
    pub findings: &'a [Finding],
    /// The visit's inventory (vendors' activity, hosts, cookies), for drift.
    pub inventory: Option<&'a crate::inventory::VisitInventory>,
}

/// A whole finished run, for [`Store::import_runs`]: what `start_run`,
/// `record_declarations`, `record_judged_visit` (per visit, in order), `record_findings`
/// and `finish_run` would have written.
#[derive(Debug, Clone)]
pub struct RunImport<'a> {
    pub start: RunStart<'a>,
    pub declarations: &'a [crate::inventory::Declaration],
    pub visits: Vec<JudgedVisit<'a>>,
    /// Run-level findings (`visit_id` NULL), after the visits' findings.
    pub findings: &'a [Finding],
    pub status: RunStatus,
    pub finished_at: DateTime<Utc>,
}

/// One audit run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub id: RunId,
    pub site: String,
    pub scenario_file: String,
    pub started_at: DateTime<Utc>,
    /// `None` while running, and for a run whose process died (see docs/storage.md).
    pub finished_at: Option<DateTime<Utc>>,
    pub status: RunStatus,
    /// The run's `--fail-on` (runs stored before v2 read as `high`).
    pub fail_on: crate::outcome::FailOn,
    pub scenario_digest: Option<String>,
    pub policy_digest: Option<String>,
}

/// How many rows a visit has in each child table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VisitCounts {
    pub steps: u64,
    pub requests: u64,
    pub cookie_writes: u64,
    pub cookies: u64,
    pub storage_writes: u64,
    pub page_errors: u64,
}

/// One scenario of a run, without its (possibly many) child rows.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitRecord {
    pub id: i64,
    pub run_id: RunId,
    pub scenario: String,
    pub status: VisitStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub final_state: ConsentState,
    pub timings: VisitTimings,
    pub warnings: Vec<String>,
    pub counts: VisitCounts,
    /// Place in the run order (`None` for visits stored without one).
    pub position: Option<u64>,
    /// Requests to third parties, as counted when the visit was attributed.
    pub third_party_requests: Option<u64>,
    /// How each consent action was performed and what the CMP recorded (schema 7).
    pub cmp: Vec<crate::cmp::CmpAction>,
}

/// Handle on the database; cheap to clone (a connection pool inside).
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: Arc<PathBuf>,
    /// Serialises this process's write transactions so parallel scenarios queue here
    /// instead of racing for SQLite's single write lock; the busy timeout only has to
    /// cover other processes.
    write_lock: Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    /// Opens (creating the file and parent dir if needed) and migrates. WAL mode, busy
    /// timeout ~5 s, foreign keys on.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        let owned = path.to_path_buf();
        if path.is_dir() {
            return Err(StoreError::IsDirectory { path: owned });
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|cause| StoreError::CreateDir {
                        path: owned.clone(),
                        dir: dir.to_path_buf(),
                        cause,
                    })?;
            }
        }
        // Two processes opening a new file at once race on switching it to WAL ("database is
        // locked") and on applying the first migration ("table already exists"); asked
        // again a moment later, the loser finds the file ready.
        let mut attempt = 0;
        let pool = loop {
            match connect_and_migrate(path, &owned).await {
                Ok(pool) => break pool,
                Err(e) if attempt < 10 && e.is_transient() => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
                }
                Err(e) => return Err(e),
            }
        };
        Ok(Store {
            pool,
            path: Arc::new(owned),
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes the pool, waiting for connections to finish (checkpoints the WAL).
    /// This database's random value-hashing key (created on first use, 32 bytes from the
    /// OS's random source). Two processes creating it at once agree on one.
    pub async fn hash_key(&self) -> Result<Vec<u8>, StoreError> {
        let existing: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'hash_key'")
                .fetch_optional(&self.pool)
                .await
                .map_err(self.db_err("read hash key"))?;
        let hex = match existing {
            Some(h) => h,
            None => {
                let mut bytes = [0u8; 32];
                use std::io::Read;
                std::fs::File::open("/dev/urandom")
                    .and_then(|mut f| f.read_exact(&mut bytes))
                    .map_err(|e| StoreError::Invalid {
                        path: self.path_buf(),
                        detail: format!("cannot read random bytes for the hash key: {e}"),
                    })?;
                let fresh: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                let _writer = self.write_lock.lock().await;
                sqlx::query("INSERT OR IGNORE INTO meta (key, value) VALUES ('hash_key', ?)")
                    .bind(&fresh)
                    .execute(&self.pool)
                    .await
                    .map_err(self.db_err("store hash key"))?;
                sqlx::query_scalar("SELECT value FROM meta WHERE key = 'hash_key'")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(self.db_err("read hash key"))?
            }
        };
        (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("zz"), 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| StoreError::Corrupt {
                path: self.path_buf(),
                detail: "meta.hash_key is not hex".into(),
            })
    }

    /// Checkpoints the WAL into the main file (so the `.db` file alone is complete, e.g.
    /// when copied without its `-wal`), then closes the pool.
    pub async fn close(&self) {
        let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await;
        self.pool.close().await;
    }

    pub(super) fn path_buf(&self) -> PathBuf {
        self.path.as_ref().clone()
    }

    pub(super) fn db_err(&self, op: &'static str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
        move |cause| StoreError::Query {
            path: self.path_buf(),
            op,
            cause,
        }
    }

    /// A foreign-key failure on a row referencing `runs` means the run does not exist.
    pub(super) fn fk_err(&self, e: sqlx::Error, run: RunId, op: &'static str) -> StoreError {
        match &e {
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => self.unknown_run(run),
            _ => self.db_err(op)(e),
        }
    }

    pub(super) fn unknown_run(&self, run: RunId) -> StoreError {
        StoreError::UnknownRun {
            path: self.path_buf(),
            run,
        }
    }

    pub(super) fn invalid<T>(&self, r: Result<T, String>) -> Result<T, StoreError> {
        r.map_err(|detail| StoreError::Invalid {
            path: self.path_buf(),
            detail,
        })
    }

    pub(super) fn decode<T>(&self, r: DecodeResult<T>) -> Result<T, StoreError> {
        r.map_err(|detail| StoreError::Corrupt {
            path: self.path_buf(),
            detail,
        })
    }
}

/// `PRAGMA integrity_check` of a database file: `ok`, or what SQLite found wrong.
pub async fn integrity_check(path: &Path) -> Result<String, StoreError> {
    use sqlx::Connection;
    let opts = SqliteConnectOptions::new().filename(path).read_only(true);
    let mut conn = sqlx::sqlite::SqliteConnection::connect_with(&opts)
        .await
        .map_err(|cause| StoreError::Open {
            path: path.to_path_buf(),
            cause,
        })?;
    let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .map_err(|cause| StoreError::Query {
            path: path.to_path_buf(),
            op: "integrity check",
            cause,
        })?;
    let _ = conn.close().await;
    Ok(rows.join("; "))
}

/// This machine's host name (runs record it with their pid).
pub(crate) fn this_host() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if r != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// `status_reason` of runs marked by [`Store::mark_stale_runs_incomplete`].
pub const STALE_REASON: &str =
    "the run never finished (its process stopped before recording an outcome)";

async fn connect_and_migrate(path: &Path, owned: &Path) -> Result<SqlitePool, StoreError> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .connect_with(options)
        .await
        .map_err(|cause| StoreError::Open {
            path: owned.to_path_buf(),
            cause,
        })?;
    if let Err(cause) = MIGRATOR.run(&pool).await {
        pool.close().await;
        let owned = owned.to_path_buf();
        return Err(match cause {
            MigrateError::VersionMissing(version) => StoreError::NewerSchema {
                path: owned,
                version,
            },
            // A file that is not a database fails here, on the first read.
            MigrateError::Execute(cause) => StoreError::Open { path: owned, cause },
            cause => StoreError::Migrate { path: owned, cause },
        });
    }
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_path_honours_env() {
        // Tested without touching the process environment (tests run in parallel).
        assert_eq!(db_path_from_env(None), PathBuf::from("consentry.db"));
        assert_eq!(
            db_path_from_env(Some("/tmp/x/audit.db".into())),
            PathBuf::from("/tmp/x/audit.db")
        );
        assert_eq!(
            db_path_from_env(Some("".into())),
            PathBuf::from("consentry.db")
        );
    }

    #[test]
    fn errors_name_the_database() {
        let e = StoreError::UnknownRun {
            path: PathBuf::from("/x/y.db"),
            run: 7,
        };
        assert_eq!(e.to_string(), "database /x/y.db: run 7 does not exist");
        let e = StoreError::IsDirectory {
            path: PathBuf::from("/x"),
        };
        assert_eq!(e.to_string(), "cannot open database /x: it is a directory");
    }
}

/// Helpers for tests that need a database in a state no normal run produces.
#[doc(hidden)]
pub mod testing {
    use super::{RunId, Store, StoreError};

    /// Pretend process `pid` started run `run` (e.g. one that has since died).
    pub async fn set_run_pid(store: &Store, run: RunId, pid: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE runs SET pid = ? WHERE id = ?")
            .bind(pid)
            .bind(run)
            .execute(&store.pool)
            .await
            .map_err(store.db_err("set run pid"))?;
        Ok(())
    }
}
