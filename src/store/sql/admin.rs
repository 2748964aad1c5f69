//! Maintenance (for [`crate::store::Admin`]): our own retention (purge) and the sweeps
//! that mark runs whose process died.

use super::Db;
use crate::store::codec;
use crate::store::{RunId, StoreError, STALE_REASON};
use chrono::{DateTime, Utc};

/// The tables of raw observations `purge_raw` empties for old runs: what was captured,
/// and the steps the crawler took (a visit keeps its status, reason and failure kind, what
/// drift reads). Findings, consent signals (the evidence of signal findings), the vendor
/// sums and the inventory and declaration sets stay: drift and the LIA pack read them.
const RAW_TABLES: [&str; 7] = [
    "requests",
    "cookie_writes",
    "cookies",
    "storage_writes",
    "page_errors",
    "visit_screenshots",
    "steps",
];

/// Visits named in one purge statement (a bound JSON array).
const PURGE_VISITS_PER_STATEMENT: usize = 500;

impl Db {
    pub(in crate::store) async fn screenshot_files_before(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        super::query_scalar(
            "SELECT s.path FROM visit_screenshots s JOIN visits v ON v.id = s.visit_id \
             JOIN runs r ON r.id = v.run_id WHERE r.started_at < ? ORDER BY v.id, s.seq",
        )
        .bind(codec::ts(&before))
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read screenshot files"))
    }

    /// In batches: each transaction deletes at most `batch.rows` rows of one table, then
    /// the write lock stays free for `batch.pause`, so other writers (a concurrent audit's
    /// visits) get it between batches. The visits are read first (no lock held); a purge cut short
    /// leaves whole rows, and running it again finishes it.
    pub(in crate::store) async fn purge_raw(
        &self,
        before: DateTime<Utc>,
        batch: crate::store::PurgeBatch,
    ) -> Result<Vec<(&'static str, u64)>, StoreError> {
        let visits: Vec<i64> = super::query_scalar(
            "SELECT v.id FROM visits v JOIN runs r ON r.id = v.run_id \
             WHERE r.started_at < ? ORDER BY v.id",
        )
        .bind(codec::ts(&before))
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read visits to purge"))?;
        let limit = i64::try_from(batch.rows.max(1)).unwrap_or(i64::MAX);
        let mut counts = Vec::new();
        for table in RAW_TABLES {
            // `table` is one of our own table names, never input.
            let (row_id, ids) = (super::ROW_ID, super::IDS_FROM_JSON);
            let sql = format!(
                "DELETE FROM {table} WHERE {row_id} IN (SELECT {row_id} FROM {table} \
                 WHERE visit_id IN ({ids}) LIMIT ?)"
            );
            let mut deleted = 0u64;
            for chunk in visits.chunks(PURGE_VISITS_PER_STATEMENT) {
                let ids = serde_json::to_string(chunk).map_err(|e| StoreError::Invalid {
                    path: self.path_buf(),
                    detail: format!("visit ids: {e}"),
                })?;
                loop {
                    let done = self.purge_batch(&sql, &ids, limit).await?;
                    deleted += done;
                    if done < limit.unsigned_abs() {
                        break;
                    }
                    // More to come: the lock is free now, let whoever waits for it have it.
                    tokio::time::sleep(batch.pause).await;
                }
            }
            counts.push((table, deleted));
        }
        Ok(counts)
    }

    /// One batch of [`Db::purge_raw`]: one transaction.
    async fn purge_batch(&self, sql: &str, ids: &str, limit: i64) -> Result<u64, StoreError> {
        self.write("commit purge", move || {
            async move |tx| {
                super::query(sqlx::AssertSqlSafe(sql.to_string()))
                    .bind(ids.to_string())
                    .bind(limit)
                    .execute(&mut *tx)
                    .await
                    .map(|d| d.rows_affected())
                    .map_err(self.db_err("purge"))
            }
        })
        .await
    }

    pub(in crate::store) async fn mark_dead_runs_incomplete(
        &self,
        alive: impl Fn(i64) -> bool,
    ) -> Result<Vec<RunId>, StoreError> {
        let alive = &alive;
        self.write("commit dead runs", move || {
            async move |tx| {
                let rows: Vec<(RunId, i64)> = super::query_as(
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
                    super::query(
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
            }
        })
        .await
    }

    pub(in crate::store) async fn mark_stale_runs_incomplete(
        &self,
        older_than: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.write("commit stale runs", move || {
            async move |tx| {
                let done = super::query(
                    "UPDATE runs SET status = 'incomplete', status_reason = ? \
                 WHERE status = 'running' AND finished_at IS NULL AND started_at < ?",
                )
                .bind(STALE_REASON)
                .bind(codec::ts(&older_than))
                .execute(&mut *tx)
                .await
                .map_err(self.db_err("mark stale runs"))?;
                Ok(done.rows_affected())
            }
        })
        .await
    }
}
