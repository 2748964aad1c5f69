//! Read-only opening on PostgreSQL (`consentry runs`, `report`, `drift`): every session
//! of the pool has `default_transaction_read_only` on, so any write fails; no migration
//! runs; the applied migrations are compared with this consentry's as on SQLite
//! ([`StoreError::schema_mismatch`]).

use super::{connect, Db, MIGRATOR};
use crate::store::{StoreError, WriteRetry};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

impl Db {
    pub(in crate::store) async fn open_read_only(url: &str, shown: &str) -> Result<Db, StoreError> {
        let owned = PathBuf::from(shown);
        let pool = connect(url, &owned, true).await?;
        let applied = match applied_versions(&pool).await {
            Ok(v) => v,
            Err(cause) => {
                pool.close().await;
                return Err(StoreError::Open { path: owned, cause });
            }
        };
        if let Some(e) = StoreError::schema_mismatch(&owned, &MIGRATOR, applied) {
            pool.close().await;
            return Err(e);
        }
        Ok(Db {
            pool,
            path: Arc::new(owned),
            retry: WriteRetry::NEVER,
        })
    }
}

/// The versions of the migrations applied, or `None` when the database has no
/// migrations table (nothing of consentry's in it yet).
async fn applied_versions(pool: &sqlx::PgPool) -> Result<Option<BTreeSet<i64>>, sqlx::Error> {
    let has_table: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !has_table {
        return Ok(None);
    }
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await?;
    Ok(Some(versions.into_iter().collect()))
}
