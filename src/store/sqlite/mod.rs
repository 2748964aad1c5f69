//! The SQLite back end: everything that is particular to SQLite lives in this folder.
//!
//! - the connection: WAL journal, busy timeout, foreign keys, the pool, and the retry of
//!   the transient errors two processes opening one new file at once cause;
//! - the schema: the embedded, append-only migrations under `migrations/`;
//! - [`Db::write`], the one write transaction (`BEGIN IMMEDIATE` under an in-process
//!   lock, committed on success, rolled back before the connection goes back to the pool
//!   on any error);
//! - [`insert_rows`], batched `INSERT`s through sqlx's `QueryBuilder`, cut to SQLite's
//!   bound-parameter limit;
//! - read-only opening (`read_only.rs`).
//!
//! The SQL text of every role and the decoding of rows are shared with the PostgreSQL
//! back end (`postgres/`, the sibling folder): they live in `src/store/sql/` and are
//! compiled into this module against its `Db`, `Conn`, `DbRow` and `query*`.

// The queries both back ends run (src/store/sql/, docs/storage.md): compiled once here,
// against this folder's `Db`, `Conn`, `DbRow` and `query*`, and once in `postgres/`.
#[path = "../sql/acks.rs"]
mod acks;
#[path = "../sql/admin.rs"]
mod admin;
#[path = "../sql/decode.rs"]
mod decode;
#[path = "../sql/errors.rs"]
mod errors;
#[path = "../sql/history.rs"]
mod history;
#[path = "../sql/notifications.rs"]
mod notifications;
#[path = "../sql/queue.rs"]
mod queue;
#[path = "../sql/read.rs"]
mod read;
mod read_only;
#[path = "../sql/row.rs"]
mod row;
#[path = "../sql/rows.rs"]
mod rows;
#[path = "../sql/sets.rs"]
mod sets;
#[path = "../sql/write.rs"]
mod write;

use super::codec::{Col, Insert};
use super::{RunId, StoreError, WriteRetry};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions,
};
use sqlx::{QueryBuilder, SqlSafeStr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The shared queries' view of this back end (src/store/sql/).
type DbKind = Sqlite;
type Conn = SqliteConnection;
type DbRow = sqlx::sqlite::SqliteRow;
type Args = sqlx::sqlite::SqliteArguments;

/// A list of ids bound as one JSON array (`[1,2,3]`), as a subquery.
const IDS_FROM_JSON: &str = "SELECT value FROM json_each(?)";

/// Now, in milliseconds since the epoch, by the database's clock (the queue's leases).
const NOW_MS: &str = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";
/// Row locks for the queue's leases: none, SQLite's write transactions are serialised
/// (`BEGIN IMMEDIATE`).
const SKIP_LOCKED: &str = "";
const SITE_SKIP_LOCKED: &str = "";
const FOR_UPDATE: &str = "";
/// The column naming a row in any table.
const ROW_ID: &str = "rowid";

/// A statement of the shared queries, written with `?` placeholders (SQLite's own).
fn query<'q>(sql: impl SqlSafeStr) -> sqlx::query::Query<'q, Sqlite, Args> {
    sqlx::query(sql)
}

fn query_scalar<'q, O>(sql: impl SqlSafeStr) -> sqlx::query::QueryScalar<'q, Sqlite, O, Args>
where
    (O,): for<'r> sqlx::FromRow<'r, DbRow>,
{
    sqlx::query_scalar(sql)
}

fn query_as<'q, O>(sql: impl SqlSafeStr) -> sqlx::query::QueryAs<'q, Sqlite, O, Args>
where
    O: for<'r> sqlx::FromRow<'r, DbRow>,
{
    sqlx::query_as(sql)
}

/// Before numbering a run's findings: nothing to do, write transactions are serialised
/// (the in-process write lock, then SQLite's own).
async fn lock_run_numbering(_tx: &mut Conn, _run: RunId) -> Result<(), sqlx::Error> {
    Ok(())
}

/// Embedded migrations, applied by [`Db::open`]. Append-only: never edit one that shipped.
static MIGRATOR: Migrator = sqlx::migrate!("src/store/sqlite/migrations");

/// How long a connection waits for another process's write lock before failing.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections in a store's pool (readers run concurrently; writes take the write lock).
pub const MAX_CONNECTIONS: u32 = 4;

/// The most values one statement may bind (`SQLITE_MAX_VARIABLE_NUMBER`, 32766 since
/// SQLite 3.32); [`insert_rows`] cuts its batches to fit.
const MAX_BIND_PARAMS: usize = 32_766;

/// An open SQLite database: the pool, its file, and this process's write lock.
#[derive(Debug, Clone)]
pub(super) struct Db {
    pool: SqlitePool,
    path: Arc<PathBuf>,
    /// Serialises this process's write transactions so parallel scenarios queue here
    /// instead of racing for SQLite's single write lock; the busy timeout only has to
    /// cover other processes.
    write_lock: Arc<tokio::sync::Mutex<()>>,
    /// Opened with [`Db::open_read_only`]: never written, never checkpointed.
    read_only: bool,
    /// How a write that finds the database busy is tried again.
    pub(super) retry: WriteRetry,
}

impl Db {
    /// Opens (creating the file and parent dir if needed) and migrates. WAL mode, busy
    /// timeout ~5 s, foreign keys on.
    pub(super) async fn open(path: &Path) -> Result<Db, StoreError> {
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
                Err(e) if attempt < 10 && is_transient(&e) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                }
                Err(e) => return Err(e),
            }
        };
        Ok(Db {
            pool,
            path: Arc::new(owned),
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
            read_only: false,
            retry: WriteRetry::DEFAULT,
        })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Checkpoints the WAL into the main file (so the `.db` file alone is complete, e.g.
    /// when copied without its `-wal`), then closes the pool.
    pub(super) async fn close(&self) {
        if !self.read_only {
            let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await;
        }
        self.pool.close().await;
    }

    /// The one write transaction: under this process's write lock, `BEGIN IMMEDIATE`
    /// (the write lock of the file is taken at once, so a busy database waits here, not
    /// halfway), `f`, then commit. On any error of `f` the transaction is rolled back
    /// before the connection returns to the pool. A transaction that fails because the
    /// database is busy (`SQLITE_BUSY` / `SQLITE_LOCKED` past the busy timeout: another
    /// process holds the write lock) is rolled back and tried again, whole, after a pause,
    /// as [`Db::retry`] says (minutes by default). `op` names the commit in errors.
    /// `f` makes the transaction's body afresh for each attempt.
    /// This is one attempt; [`Db::write`] (src/store/sql/errors.rs, shared by both back
    /// ends) makes the retries.
    async fn write_once<T>(
        &self,
        op: &'static str,
        f: impl AsyncFnOnce(&mut SqliteConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _writer = self.write_lock.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(self.db_err("begin transaction"))?;
        match f(&mut *tx).await {
            Ok(v) => {
                tx.commit().await.map_err(self.db_err(op))?;
                Ok(v)
            }
            Err(e) => {
                // Dropping the transaction would roll back too, but only the next time
                // the connection is used; this leaves nothing pending in the pool.
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }

    /// This database's random value-hashing key (created on first use, 32 bytes from the
    /// OS's random source). Two processes creating it at once agree on one.
    pub(super) async fn hash_key(&self) -> Result<Vec<u8>, StoreError> {
        let read = "SELECT value FROM meta WHERE key = 'hash_key'";
        let existing: Option<String> = sqlx::query_scalar(read)
            .fetch_optional(&self.pool)
            .await
            .map_err(self.db_err("read hash key"))?;
        let hex = match existing {
            Some(h) => h,
            None => {
                let fresh = &super::codec::random_key_hex().map_err(|e| StoreError::Invalid {
                    path: self.path_buf(),
                    detail: format!("cannot read random bytes for the hash key: {e}"),
                })?;
                self.write("store hash key", move || {
                    async move |tx| {
                        sqlx::query(
                            "INSERT OR IGNORE INTO meta (key, value) VALUES ('hash_key', ?)",
                        )
                        .bind(fresh)
                        .execute(&mut *tx)
                        .await
                        .map_err(self.db_err("store hash key"))?;
                        sqlx::query_scalar(read)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(self.db_err("read hash key"))
                    }
                })
                .await?
            }
        };
        super::codec::parse_key_hex(&hex).map_err(|detail| StoreError::Corrupt {
            path: self.path_buf(),
            detail,
        })
    }
}

/// Inserts `rows` (one value per column of `insert.columns` each) in as few statements as
/// SQLite's bound-parameter limit allows: `INSERT ... VALUES (...), (...), ...` built by
/// sqlx's `QueryBuilder`.
pub(super) async fn insert_rows(
    conn: &mut SqliteConnection,
    insert: &Insert,
    rows: &[Vec<Col<'_>>],
) -> Result<(), sqlx::Error> {
    let per_statement = (MAX_BIND_PARAMS / insert.columns.len().max(1)).max(1);
    for chunk in rows.chunks(per_statement) {
        let mut q = QueryBuilder::<Sqlite>::new(format!(
            "{} ({}) ",
            insert.into,
            insert.columns.join(", ")
        ));
        q.push_values(chunk, |mut b, row| {
            debug_assert_eq!(row.len(), insert.columns.len(), "{}", insert.into);
            for col in row {
                match col {
                    Col::Int(v) => b.push_bind(*v),
                    Col::Bool(v) => b.push_bind(*v),
                    Col::Text(v) => b.push_bind(v.clone()),
                };
            }
        });
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Errors another process opening the same new file at the same moment can cause; worth
/// one more try a moment later.
fn is_transient(e: &StoreError) -> bool {
    match e {
        StoreError::Open { cause, .. } => is_busy(cause),
        StoreError::Migrate { cause, .. } => matches!(
            cause,
            MigrateError::ExecuteMigration(..) | MigrateError::Execute(_)
        ),
        _ => false,
    }
}

/// SQLITE_BUSY (5) and SQLITE_LOCKED (6), including extended codes: another connection
/// holds a lock this one needs.
pub(super) fn is_busy(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.try_downcast_ref::<sqlx::sqlite::SqliteError>())
        .and_then(sqlx::error::DatabaseError::code)
        .and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

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

/// `PRAGMA integrity_check` of a database file: `ok`, or what SQLite found wrong.
pub async fn integrity_check(path: &Path) -> Result<String, StoreError> {
    use sqlx::Connection;
    let opts = SqliteConnectOptions::new().filename(path).read_only(true);
    let mut conn = SqliteConnection::connect_with(&opts)
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
