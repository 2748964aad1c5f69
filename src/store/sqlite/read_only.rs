//! Read-only opening (`Store::open_read_only`, for `consentry runs`, `report` and
//! `drift`): the file is opened with SQLite's `mode=ro`, nothing is created, no journal
//! mode is set, no migration runs, and closing does not checkpoint. A database archived
//! on a read-only medium or directory, where SQLite cannot make the `-shm` file a WAL
//! database needs, is opened `immutable` instead (it cannot be changing: nobody can write
//! it); a database consentry closed has its whole content in the main file.

use super::{Db, MAX_CONNECTIONS, MIGRATOR};
use crate::store::StoreError;
use crate::store::WriteRetry;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

impl Db {
    pub(in crate::store) async fn open_read_only(path: &Path) -> Result<Db, StoreError> {
        let owned = path.to_path_buf();
        if path.is_dir() {
            return Err(StoreError::IsDirectory { path: owned });
        }
        if !path.exists() {
            return Err(StoreError::Missing { path: owned });
        }
        let pool = match connect(path, false).await {
            Ok((pool, applied)) => check_schema(path, pool, applied).await?,
            Err(e) if cannot_open_read_only(&e) => {
                let (pool, applied) =
                    connect(path, true)
                        .await
                        .map_err(|cause| StoreError::Open {
                            path: owned.clone(),
                            cause,
                        })?;
                check_schema(path, pool, applied).await?
            }
            Err(cause) => return Err(StoreError::Open { path: owned, cause }),
        };
        Ok(Db {
            pool,
            path: Arc::new(owned),
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
            read_only: true,
            retry: WriteRetry::NEVER,
        })
    }
}

/// Opens a pool and reads the versions of the migrations applied to the file (the first
/// read, where a file that is not a database, or that cannot be opened, fails).
async fn connect(
    path: &Path,
    immutable: bool,
) -> Result<(SqlitePool, Option<BTreeSet<i64>>), sqlx::Error> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .immutable(immutable)
        .create_if_missing(false)
        .busy_timeout(super::BUSY_TIMEOUT);
    let pool = SqlitePoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .connect_with(options)
        .await?;
    let has_table: Option<i64> = match sqlx::query_scalar(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_optional(&pool)
    .await
    {
        Ok(v) => v,
        Err(e) => {
            pool.close().await;
            return Err(e);
        }
    };
    if has_table.is_none() {
        return Ok((pool, None));
    }
    match sqlx::query_scalar::<_, i64>("SELECT version FROM _sqlx_migrations WHERE success")
        .fetch_all(&pool)
        .await
    {
        Ok(versions) => Ok((pool, Some(versions.into_iter().collect()))),
        Err(e) => {
            pool.close().await;
            Err(e)
        }
    }
}

/// The schema must be exactly this consentry's ([`StoreError::schema_mismatch`]).
async fn check_schema(
    path: &Path,
    pool: SqlitePool,
    applied: Option<BTreeSet<i64>>,
) -> Result<SqlitePool, StoreError> {
    match StoreError::schema_mismatch(path, &MIGRATOR, applied) {
        Some(e) => {
            pool.close().await;
            Err(e)
        }
        None => Ok(pool),
    }
}

/// SQLITE_CANTOPEN (14) or SQLITE_READONLY (8) and its extended codes: a WAL database in
/// a directory where its `-shm` cannot be made.
fn cannot_open_read_only(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| matches!(c & 0xff, 8 | 14))
}
