//! The admin role: our own retention, the sweeps of runs whose process died, the bulk
//! import of history, and the integrity check.

use super::{RunId, RunImport, Store, StoreError};
use chrono::{DateTime, Utc};

/// How [`Admin::purge_raw`] cuts its work: at most `rows` rows deleted per transaction,
/// and a `pause` after each, with the write lock free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeBatch {
    pub rows: usize,
    pub pause: std::time::Duration,
}

impl PurgeBatch {
    /// 5,000 rows (a few tens of milliseconds of holding the write lock, far below the
    /// busy timeout other writers wait), then 110 ms free: longer than the longest sleep
    /// of SQLite's busy handler (100 ms), so a writer waiting for the lock always gets it
    /// between two batches instead of finding it taken again each time it looks.
    pub const DEFAULT: PurgeBatch = PurgeBatch {
        rows: 5_000,
        pause: std::time::Duration::from_millis(110),
    };
}

/// Maintenance of a database (`store.admin()`).
#[derive(Debug, Clone, Copy)]
pub struct Admin<'s> {
    pub(super) store: &'s Store,
}

impl Admin<'_> {
    /// The PNG files of the screenshots of runs that started before `before` (what
    /// [`Admin::purge_raw`] with the same time forgets; the caller deletes the files).
    pub async fn screenshot_files_before(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        self.store.db.screenshot_files_before(before).await
    }

    /// Our own retention: deletes the raw observations (requests, cookie writes, stored
    /// cookies, storage writes, page errors, screenshot rows: read their files first with
    /// [`Admin::screenshot_files_before`], the caller deletes them) of runs that started
    /// before `before`, keeping the runs, their visits, steps and findings with their
    /// evidence (which quotes the request or cookie it is about), so drift and lifecycle
    /// history stay intact. In batches ([`PurgeBatch::DEFAULT`]: 5,000 rows, one
    /// transaction each, then a pause with the lock free), so a purge of millions of rows
    /// never holds the write lock for long: a concurrent audit's visits are written
    /// between two batches. Not all-or-nothing: a purge cut short has deleted whole rows
    /// of some runs, and running it again finishes it. Returns the rows deleted per table.
    pub async fn purge_raw(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<(&'static str, u64)>, StoreError> {
        self.purge_raw_in_batches(before, PurgeBatch::DEFAULT).await
    }

    /// [`Admin::purge_raw`] cut as `batch` says (at least 1 row per transaction).
    pub async fn purge_raw_in_batches(
        &self,
        before: DateTime<Utc>,
        batch: PurgeBatch,
    ) -> Result<Vec<(&'static str, u64)>, StoreError> {
        self.store.db.purge_raw(before, batch).await
    }

    /// Marks runs still `running` whose process, on this host, no longer exists as
    /// `incomplete` (killed with SIGKILL, crashed). `alive(pid)` says whether a process
    /// exists. Runs of other hosts, and runs stored before v2 (no pid), are left to
    /// [`Admin::mark_stale_runs_incomplete`]. Returns the runs marked.
    pub async fn mark_dead_runs_incomplete(
        &self,
        alive: impl Fn(i64) -> bool,
    ) -> Result<Vec<RunId>, StoreError> {
        self.store.db.mark_dead_runs_incomplete(alive).await
    }

    /// Marks runs still `running` (never finished) that started before `older_than` as
    /// `incomplete`: their process died. `finished_at` stays NULL (the time of death is
    /// unknown). Returns how many runs were marked. The caller picks `older_than` so that
    /// no live run can match (e.g. now minus the longest plausible run).
    pub async fn mark_stale_runs_incomplete(
        &self,
        older_than: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.store.db.mark_stale_runs_incomplete(older_than).await
    }

    /// Bulk path for importing history (the drift benchmark's synthetic year,
    /// `examples/synth_history.rs`; a migration from another store): writes each run
    /// exactly as the [`super::RunWriter`] calls would, but all of `runs` in ONE
    /// transaction, so thousands of runs cost one commit (one fsync) per batch instead of
    /// seven per run. All-or-nothing: if any row fails, nothing of the batch is stored.
    /// Not for live audits, which must keep each visit as soon as it finishes. Returns the
    /// run ids.
    pub async fn import_runs(&self, runs: &[RunImport<'_>]) -> Result<Vec<RunId>, StoreError> {
        self.store.db.import_runs(runs).await
    }

    /// `PRAGMA integrity_check` of this database: `ok`, or what SQLite found wrong.
    /// SQLite only: on PostgreSQL it is an error saying so (the server checks its own
    /// pages; `amcheck` is its tool).
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        if self.store.is_postgres() {
            return Err(StoreError::Invalid {
                path: self.store.path().to_path_buf(),
                detail: "the integrity check is SQLite's (PRAGMA integrity_check); \
                         PostgreSQL checks its own pages (see its amcheck extension)"
                    .into(),
            });
        }
        super::integrity_check(self.store.path()).await
    }
}
