//! Maintenance (for [`crate::store::Admin`]): our own retention (purge) and the sweeps
//! that mark runs whose process died.

use super::Db;
use crate::store::codec;
use crate::store::{RunId, StoreError, STALE_REASON};
use chrono::{DateTime, Utc};

/// The tables of raw observations `purge_raw` empties for old runs.
const RAW_TABLES: [&str; 6] = [
    "requests",
    "cookie_writes",
    "cookies",
    "storage_writes",
    "page_errors",
    "visit_screenshots",
];

impl Db {
    pub(in crate::store) async fn screenshot_files_before(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT s.path FROM visit_screenshots s JOIN visits v ON v.id = s.visit_id \
             JOIN runs r ON r.id = v.run_id WHERE r.started_at < ? ORDER BY v.id, s.seq",
        )
        .bind(codec::ts(&before))
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read screenshot files"))
    }

    pub(in crate::store) async fn purge_raw(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<(&'static str, u64)>, StoreError> {
        self.write("commit purge", async |tx| {
            let mut counts = Vec::new();
            for table in RAW_TABLES {
                // `table` is one of our own table names, never input.
                let sql = format!(
                    "DELETE FROM {table} WHERE visit_id IN (SELECT v.id FROM visits v \
                     JOIN runs r ON r.id = v.run_id WHERE r.started_at < ?)"
                );
                let done = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(codec::ts(&before))
                    .execute(&mut *tx)
                    .await
                    .map_err(self.db_err("purge"))?;
                counts.push((table, done.rows_affected()));
            }
            Ok(counts)
        })
        .await
    }

    pub(in crate::store) async fn mark_dead_runs_incomplete(
        &self,
        alive: impl Fn(i64) -> bool,
    ) -> Result<Vec<RunId>, StoreError> {
        self.write("commit dead runs", async |tx| {
            let rows: Vec<(RunId, i64)> = sqlx::query_as(
                "SELECT id, pid FROM runs WHERE status = 'running' AND finished_at IS NULL \
                 AND pid IS NOT NULL AND host = ?",
            )
            .bind(crate::store::this_host())
            .fetch_all(&mut *tx)
            .await
            .map_err(self.db_err("read running runs"))?;
            let mut marked = Vec::new();
            for (id, pid) in rows {
                if pid == i64::from(std::process::id()) || alive(pid) {
                    continue;
                }
                sqlx::query(
                    "UPDATE runs SET status = 'incomplete', status_reason = ? \
                     WHERE id = ? AND status = 'running'",
                )
                .bind(STALE_REASON)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(self.db_err("mark dead run"))?;
                marked.push(id);
            }
            Ok(marked)
        })
        .await
    }

    pub(in crate::store) async fn mark_stale_runs_incomplete(
        &self,
        older_than: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.write("commit stale runs", async |tx| {
            let done = sqlx::query(
                "UPDATE runs SET status = 'incomplete', status_reason = ? \
                 WHERE status = 'running' AND finished_at IS NULL AND started_at < ?",
            )
            .bind(STALE_REASON)
            .bind(codec::ts(&older_than))
            .execute(&mut *tx)
            .await
            .map_err(self.db_err("mark stale runs"))?;
            Ok(done.rows_affected())
        })
        .await
    }
}
