//! The PostgreSQL back end (`--db postgres://…`): what is particular to PostgreSQL lives
//! in this folder, beside `sqlite/`, with the same shape:
//!
//! - the connection: a pool on the URL, the password never printed (errors name the
//!   database by [`super::DbLocation`]'s redacted form), read-only sessions for
//!   [`Db::open_read_only`];
//! - the schema: the embedded, append-only migrations under `migrations/`, one per
//!   SQLite migration with the same version number (docs/storage.md, "PostgreSQL");
//! - [`Db::write`], the one write transaction (`BEGIN`, committed on success, rolled back
//!   on any error; tried again on a serialization failure or a deadlock);
//! - [`insert_rows`], batched `INSERT`s cut to PostgreSQL's 65535 bind parameters;
//! - the queries both back ends share (`src/store/sql/`), written with SQLite's `?`
//!   placeholders, which [`query`] numbers (`$1`, `$2`, …) for PostgreSQL.

#[path = "../sql/acks.rs"]
#[allow(clippy::duplicate_mod)] // the shared queries, compiled for each back end
mod acks;
#[path = "../sql/admin.rs"]
#[allow(clippy::duplicate_mod)] // the shared queries, compiled for each back end
mod admin;
#[path = "../sql/decode.rs"]
#[allow(clippy::duplicate_mod)] // the shared queries, compiled for each back end
mod decode;
#[path = "../sql/errors.rs"]
#[allow(clippy::duplicate_mod)] // the shared queries, compiled for each back end
mod errors;
#[path = "../sql/history.rs"]
#[allow(clippy::duplicate_mod)] // the shared queries, compiled for each back end
mod history;
#[path = "../sql/notifications.rs"]
#[allow(clippy::duplicate_mod)] // the shared queries, compiled for each back end
mod notifications;
#[path = "../sql/queue.rs"]
#[allow(clippy::duplicate_mod)] // the shared queries, compiled for each back end
mod queue;
#[path = "../sql/read.rs"]
#[allow(clippy::duplicate_mod)] // the shared queries, compiled for each back end
mod read;
mod read_only;
#[path = "../sql/row.rs"]
#[allow(clippy::duplicate_mod)] // the shared queries, compiled for each back end
mod row;
#[path = "../sql/rows.rs"]
#[allow(clippy::duplicate_mod)] // the shared queries, compiled for each back end
mod rows;
#[path = "../sql/sets.rs"]
#[allow(clippy::duplicate_mod)] // the shared queries, compiled for each back end
mod sets;
#[path = "../sql/write.rs"]
#[allow(clippy::duplicate_mod)] // the shared queries, compiled for each back end
mod write;

use super::codec::{Col, Insert};
use super::{RunId, StoreError, WriteRetry};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, Postgres};
use sqlx::{QueryBuilder, SqlSafeStr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The shared queries' view of this back end (src/store/sql/).
type DbKind = Postgres;
type Conn = PgConnection;
type DbRow = sqlx::postgres::PgRow;
type Args = sqlx::postgres::PgArguments;

/// A list of ids bound as one JSON array (`[1,2,3]`), as a subquery.
const IDS_FROM_JSON: &str = "SELECT jsonb_array_elements_text(CAST(? AS jsonb))::bigint";

/// Now, in milliseconds since the epoch, by the database's clock (the queue's leases;
/// `clock_timestamp()`, not the transaction's start).
const NOW_MS: &str = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";
/// Row locks for the queue's leases: a worker skips rows another holds instead of
/// waiting for them (docs/queue.md).
const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";
/// The same, for the site row of a lease's join.
const SITE_SKIP_LOCKED: &str = " FOR UPDATE OF s SKIP LOCKED";
/// A row lock held to the end of the transaction.
const FOR_UPDATE: &str = " FOR UPDATE";
/// The column naming a row in any table.
const ROW_ID: &str = "ctid";

/// Before numbering a run's findings (`MAX(seq) + 1`): transactions of one run's visits
/// committing at once would pick the same numbers, so each takes a transaction-level
/// advisory lock on the run id, released at commit or rollback.
async fn lock_run_numbering(tx: &mut Conn, run: RunId) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(run)
        .execute(&mut *tx)
        .await
        .map(|_| ())
}

/// Embedded migrations, applied by [`Db::open`]. Append-only: never edit one that shipped.
/// Each mirrors the SQLite migration of the same version (docs/storage.md).
static MIGRATOR: Migrator = sqlx::migrate!("src/store/postgres/migrations");

/// Connections in a store's pool.
const MAX_CONNECTIONS: u32 = 4;

/// How long opening waits for a connection (a database that does not answer).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most values one statement may bind (the protocol's 16-bit parameter count).
const MAX_BIND_PARAMS: usize = 65_535;

/// `?` placeholders (outside quotes) numbered `$1`, `$2`, … as PostgreSQL wants them.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let (mut n, mut quote) = (0, None::<char>);
    for c in sql.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (None, '?') => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

/// A statement of the shared queries, its `?` placeholders numbered.
fn query<'q>(sql: impl SqlSafeStr) -> sqlx::query::Query<'q, Postgres, Args> {
    sqlx::query(sqlx::AssertSqlSafe(numbered(sql.into_sql_str().as_str())))
}

fn query_scalar<'q, O>(sql: impl SqlSafeStr) -> sqlx::query::QueryScalar<'q, Postgres, O, Args>
where
    (O,): for<'r> sqlx::FromRow<'r, DbRow>,
{
    sqlx::query_scalar(sqlx::AssertSqlSafe(numbered(sql.into_sql_str().as_str())))
}

fn query_as<'q, O>(sql: impl SqlSafeStr) -> sqlx::query::QueryAs<'q, Postgres, O, Args>
where
    O: for<'r> sqlx::FromRow<'r, DbRow>,
{
    sqlx::query_as(sqlx::AssertSqlSafe(numbered(sql.into_sql_str().as_str())))
}

/// An open PostgreSQL database: the pool and the URL without its password.
#[derive(Debug, Clone)]
pub(super) struct Db {
    pool: PgPool,
    /// The redacted URL (no password), as errors and reports name the database.
    path: Arc<PathBuf>,
    /// How a write that fails on a serialization failure or deadlock is tried again.
    pub(super) retry: WriteRetry,
}

impl Db {
    /// Connects and migrates (under the migrator's advisory lock, so processes opening
    /// one new database at once apply each migration once).
    pub(super) async fn open(url: &str, shown: &str) -> Result<Db, StoreError> {
        let owned = PathBuf::from(shown);
        let pool = connect(url, &owned, false).await?;
        if let Err(cause) = MIGRATOR.run(&pool).await {
            pool.close().await;
            return Err(match cause {
                MigrateError::VersionMissing(version) => StoreError::NewerSchema {
                    path: owned,
                    version,
                },
                cause => StoreError::Migrate { path: owned, cause },
            });
        }
        Ok(Db {
            pool,
            path: Arc::new(owned),
            retry: WriteRetry::DEFAULT,
        })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    pub(super) async fn close(&self) {
        self.pool.close().await;
    }

    /// The one write transaction: `BEGIN`, `f`, commit; on any error of `f` rolled back
    /// before the connection returns to the pool. A transaction that fails on a
    /// serialization failure or a deadlock ([`is_busy`]) is tried again, whole, as
    /// [`Db::retry`] says. `op` names the commit in errors.
    /// This is one attempt; [`Db::write`] (src/store/sql/errors.rs, shared by both back
    /// ends) makes the retries.
    async fn write_once<T>(
        &self,
        op: &'static str,
        f: impl AsyncFnOnce(&mut PgConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(self.db_err("begin transaction"))?;
        match f(&mut *tx).await {
            Ok(v) => {
                tx.commit().await.map_err(self.db_err(op))?;
                Ok(v)
            }
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }

    /// This database's random value-hashing key (created on first use, 32 bytes from the
    /// OS's random source). Two processes creating it at once agree on one: the second
    /// `INSERT … ON CONFLICT DO NOTHING` waits for the first to commit, then reads its key.
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
                            "INSERT INTO meta (key, value) VALUES ('hash_key', $1) \
                             ON CONFLICT (key) DO NOTHING",
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

/// A pool on `url`, its first connection made now (so an unreachable server fails here,
/// naming the database by `shown`, never by the URL with its password).
async fn connect(url: &str, shown: &Path, read_only: bool) -> Result<PgPool, StoreError> {
    let open_err = |cause| StoreError::Open {
        path: shown.to_path_buf(),
        cause,
    };
    let mut options: PgConnectOptions = url.parse().map_err(open_err)?;
    options = options.application_name("consentry");
    if read_only {
        options = options.options([("default_transaction_read_only", "on")]);
    }
    PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(open_err)
}

/// Inserts `rows` (one value per column of `insert.columns` each) in as few statements as
/// PostgreSQL's bind-parameter limit allows. `INSERT OR IGNORE INTO t` (SQLite's form,
/// which the shared [`Insert`]s use) becomes `INSERT INTO t … ON CONFLICT DO NOTHING`.
pub(super) async fn insert_rows(
    conn: &mut PgConnection,
    insert: &Insert,
    rows: &[Vec<Col<'_>>],
) -> Result<(), sqlx::Error> {
    let (into, ignore) = match insert.into.strip_prefix("INSERT OR IGNORE INTO ") {
        Some(table) => (format!("INSERT INTO {table}"), true),
        None => (insert.into.to_string(), false),
    };
    let per_statement = (MAX_BIND_PARAMS / insert.columns.len().max(1)).max(1);
    for chunk in rows.chunks(per_statement) {
        let mut q =
            QueryBuilder::<Postgres>::new(format!("{into} ({}) ", insert.columns.join(", ")));
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
        if ignore {
            q.push(" ON CONFLICT DO NOTHING");
        }
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// A serialization failure (40001) or a deadlock (40P01): the same transaction may
/// succeed when tried again.
pub(super) fn is_busy(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>())
        .is_some_and(|d| matches!(d.code(), "40001" | "40P01"))
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered("SELECT * FROM t WHERE (? IS NULL OR a = ?) AND b = '?' LIMIT ?"),
            "SELECT * FROM t WHERE ($1 IS NULL OR a = $2) AND b = '?' LIMIT $3"
        );
        assert_eq!(numbered("SELECT 1"), "SELECT 1");
    }
}
