//! Storage: runs, what each scenario observed, and findings.
//!
//! The public API is split by role, each opened from one [`Store`] (docs/storage.md):
//!
//! - [`RunWriter`] (`store.writer()`): a live audit's writes, from `start_run` to
//!   `finish_run`; one transaction per call, a visit stored as soon as it finishes.
//! - [`History`] (`store.history()`): the reads: runs, visits and their records as
//!   recorded, findings, acknowledgements, and a site's history for drift.
//! - [`queue::Queue`] (`store.queue()`): fleet runs whose jobs workers share: enqueue,
//!   lease, heartbeat, complete each job exactly once (docs/queue.md).
//! - [`Admin`] (`store.admin()`): purge, the sweeps of runs whose process died, the bulk
//!   import of history, the integrity check.
//! - [`Store::hasher`]: the database's [`ValueHasher`], which keys the hashes of cookie
//!   and storage values and TC strings (values are never stored in clear).
//!
//! Layout: this folder holds the roles, the records they take and give (`types.rs`,
//! every column decoded into its model type), the errors and the back-end neutral
//! encodings (`codec.rs`), where a database is ([`DbLocation`]: a SQLite file or a
//! PostgreSQL URL) and the dispatch to the back end (`backend.rs`). Everything
//! particular to SQLite (connection options, pragmas, busy handling, the migrations, the
//! transaction helper, batched inserts) lives in `sqlite/`, everything particular to
//! PostgreSQL in `postgres/`; the queries and row decoding both run are in `sql/`,
//! compiled once into each (written with `?` placeholders, numbered for PostgreSQL).
//! SQL lives nowhere else in the crate.

mod admin;
mod backend;
mod codec;
mod error;
mod history;
mod location;
mod postgres;
pub mod queue;
mod retry;
mod sqlite;
mod types;
mod writer;

pub use admin::{Admin, PurgeBatch};
pub use error::StoreError;
pub use history::History;
pub use location::{DbLocation, LocationError, PgUrl, POSTGRES_SCHEMES};
pub use retry::WriteRetry;
pub use sqlite::{integrity_check, BUSY_TIMEOUT, MAX_CONNECTIONS};
pub use types::{
    FindingSeen, FleetRunRecord, InventorySet, JudgedVisit, NotificationRecord, RunHistory,
    RunImport, RunRecord, RunStart, RunVendor, VisitCounts, VisitRecord, VisitSeen,
};
pub use writer::RunWriter;

use crate::model::ValueHasher;
use std::path::{Path, PathBuf};

/// Environment variable overriding [`default_db_path`].
pub const DB_ENV: &str = "CONSENTRY_DB";

pub type RunId = i64;
/// A fleet run's id (docs/fleet.md): ties the runs of the sites audited together.
pub type FleetRunId = i64;

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

/// Handle on one database; cheap to clone (a connection pool inside). Its roles borrow it.
#[derive(Debug, Clone)]
pub struct Store {
    db: backend::Backend,
}

impl Store {
    /// Opens and migrates. A SQLite file (a path, or [`DbLocation::Sqlite`]) is created
    /// with its parent dir if needed: WAL mode, busy timeout ~5 s, foreign keys on. A
    /// PostgreSQL database ([`DbLocation::Postgres`]) must exist; its tables are created
    /// by the migrations.
    pub async fn open(location: impl Into<DbLocation>) -> Result<Store, StoreError> {
        let db = match location.into() {
            DbLocation::Sqlite(path) => backend::Backend::Sqlite(sqlite::Db::open(&path).await?),
            DbLocation::Postgres(url) => {
                backend::Backend::Postgres(postgres::Db::open(url.secret(), url.shown()).await?)
            }
        };
        Ok(Store { db })
    }

    /// Opens an existing database for reading only (`consentry runs`, `report`, `drift`):
    /// nothing created, no migration. SQLite: `mode=ro` (`immutable` when the file's
    /// directory cannot hold the `-shm` file), no checkpoint on close, so the file is
    /// never written. PostgreSQL: every session `default_transaction_read_only`. A
    /// database whose schema is older than this consentry's is refused with
    /// [`StoreError::NeedsMigration`], naming the command that migrates it; a newer one
    /// with [`StoreError::NewerSchema`]. Every write through it fails.
    pub async fn open_read_only(location: impl Into<DbLocation>) -> Result<Store, StoreError> {
        let db = match location.into() {
            DbLocation::Sqlite(path) => {
                backend::Backend::Sqlite(sqlite::Db::open_read_only(&path).await?)
            }
            DbLocation::Postgres(url) => backend::Backend::Postgres(
                postgres::Db::open_read_only(url.secret(), url.shown()).await?,
            ),
        };
        Ok(Store { db })
    }

    /// The same store with another policy for writes that find the database busy
    /// ([`WriteRetry`]; [`WriteRetry::DEFAULT`] unless set: minutes, since a visit
    /// cannot be observed again).
    pub fn with_write_retry(mut self, retry: WriteRetry) -> Store {
        self.db.set_retry(retry);
        self
    }

    /// The database: the SQLite file, or the PostgreSQL URL without its password.
    pub fn path(&self) -> &Path {
        self.db.path()
    }

    /// Whether this is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        matches!(self.db, backend::Backend::Postgres(_))
    }

    /// Writes a run as it happens.
    pub fn writer(&self) -> RunWriter<'_> {
        RunWriter { store: self }
    }

    /// Reads stored runs and history.
    pub fn history(&self) -> History<'_> {
        History { store: self }
    }

    /// The work queue of fleet runs shared by workers (docs/queue.md).
    pub fn queue(&self) -> queue::Queue<'_> {
        queue::Queue { store: self }
    }

    /// Purge, sweeps, import, integrity.
    pub fn admin(&self) -> Admin<'_> {
        Admin { store: self }
    }

    /// This database's value hasher, keyed with its random key (created on first use,
    /// 32 bytes from the OS's random source; two processes creating it at once agree on
    /// one). Equal values hash equal within one database's history; a guessable value
    /// cannot be confirmed from a copy of the hashes without the key.
    pub async fn hasher(&self) -> Result<ValueHasher, StoreError> {
        Ok(ValueHasher::keyed(&self.db.hash_key().await?))
    }

    /// Checkpoints the WAL into the main file (so the `.db` file alone is complete, e.g.
    /// when copied without its `-wal`), then closes the pool.
    pub async fn close(&self) {
        self.db.close().await;
    }
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

/// `status_reason` of runs marked by [`Admin::mark_stale_runs_incomplete`].
pub const STALE_REASON: &str =
    "the run never finished (its process stopped before recording an outcome)";

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
        store.db.set_run_pid(run, pid).await
    }
}
